/**
 * Composite activations built from primitives, differentiated through their parts. (Ops whose
 * parts have a kink the whole does not — softplus = relu(x) + log1p(e^−|x|) is smooth at 0, relu
 * and |x| are not — are defined in the op table, `table.ts`, with their own gradient.)
 */
import type { Tensor } from '../tensor.js';
import { AxonError, fmtValue } from '../errors.js';
import { add, erf, gt, mul, tanh, where } from './elementwise.js';
import { backendOf, comp, drop } from './util.js';

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

/** Options of {@link gelu}. */
export interface GeluOptions {
  /** 'none' (default): the exact erf form; 'tanh': PyTorch's `approximate='tanh'`. */
  approximate?: 'none' | 'tanh';
}

/**
 * GELU, exact form 0.5·x·(1 + erf(x/√2)), or with `{ approximate: 'tanh' }` PyTorch's tanh
 * approximation 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
 * @example
 * gelu(tensor([0, 1, -1])) // [0, 0.8413, -0.1587]
 * gelu(tensor([1, -1]), { approximate: 'tanh' }) // [0.8412, -0.1588]
 */
export function gelu(x: Tensor, opts: GeluOptions = {}): Tensor {
  backendOf('gelu', x);
  if (opts === null || typeof opts !== 'object' || (opts.approximate !== undefined && opts.approximate !== 'none' && opts.approximate !== 'tanh')) {
    throw new AxonError('gelu', `options must be { approximate: 'none' | 'tanh' }, got ${fmtValue(opts)}`);
  }
  if (opts.approximate === 'tanh') return geluTanh(x);
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

/** GELU, PyTorch's `approximate='tanh'` form: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). */
function geluTanh(x: Tensor): Tensor {
  return comp((k) => {
    const x3 = k(mul(k(mul(x, x)), x));
    const t = k(tanh(k(mul(k(add(x, k(mul(x3, 0.044715)))), Math.sqrt(2 / Math.PI)))));
    return mul(k(mul(x, 0.5)), k(add(t, 1)));
  });
}

