/**
 * Composite activations built from primitives. Most are differentiated through their parts; those
 * whose parts have a kink the whole does not (softplus = relu(x) + log1p(e^−|x|) is smooth at 0,
 * relu and |x| are not) are recorded as one op with their own gradient rule.
 */
import { noGrad, record } from '../engine.js';
import type { Tensor } from '../tensor.js';
import { abs, add, erf, exp, gt, log1p, mul, neg, relu, where } from './elementwise.js';
import { backendOf, drop } from './util.js';

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

/**
 * softplus(x) = log(1 + eˣ), computed stably as max(x, 0) + log1p(e^−|x|).
 * @example softplus(tensor([0, 10, -100])) // [0.6931, 10.0000, 0.0000]
 */
export function softplus(x: Tensor): Tensor {
  backendOf('softplus', x);
  const out = noGrad(() => softplusParts(x));
  // Recorded as one op: d/dx = sigmoid(x), including at 0 (the parts would give relu′(0) + |x|′(0)·… = 0).
  return record('softplus', [x], out);
}

function softplusParts(x: Tensor): Tensor {
  const r = relu(x);
  const a = abs(x);
  const na = neg(a);
  const e = exp(na);
  const l = log1p(e);
  try {
    return add(r, l);
  } finally {
    drop(r, a, na, e, l);
  }
}

/**
 * log(sigmoid(x)), stable for large |x|.
 * @example logSigmoid(tensor([0, -100])) // [-0.6931, -100]
 */
export function logSigmoid(x: Tensor): Tensor {
  backendOf('logSigmoid', x);
  const out = noGrad(() => {
    const n = neg(x);
    const s = softplusParts(n);
    try {
      return neg(s);
    } finally {
      drop(n, s);
    }
  });
  // Recorded as one op: d/dx = sigmoid(−x), 0.5 at 0.
  return record('logSigmoid', [x], out);
}

