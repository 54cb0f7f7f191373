/**
 * Composite activations built from primitives, differentiated through their parts. (Ops whose
 * parts have a kink the whole does not — softplus = relu(x) + log1p(e^−|x|) is smooth at 0, relu
 * and |x| are not — are defined in the op table, `table.ts`, with their own gradient.)
 */
import type { Tensor } from '../tensor.js';
import { add, erf, gt, mul, where } from './elementwise.js';
import { drop } from './util.js';

/**
 * Leaky ReLU: x for x > 0, alpha·x otherwise.
 * @example leakyRelu(tensor([-2, 3]), 0.1) // [-0.2, 3]
 */
export function leakyRelu(x: Tensor, alpha = 0.01): Tensor {
  const ax = mul(x, alpha);
  const m = gt(x, 0);
  try {
    return where(m, x, ax);
  } finally {
    drop(ax, m);
  }
}

/**
 * GELU, exact form: 0.5·x·(1 + erf(x/√2)).
 * @example gelu(tensor([0, 1, -1])) // [0, 0.8413, -0.1587]
 */
export function gelu(x: Tensor): Tensor {
  const s = mul(x, Math.SQRT1_2);
  const e = erf(s);
  const e1 = add(e, 1);
  const h = mul(x, 0.5);
  try {
    return mul(h, e1);
  } finally {
    drop(s, e, e1, h);
  }
}
