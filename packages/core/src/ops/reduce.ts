import type { ReduceOp } from '../backend.js';
import { failSafe, noGrad, record } from '../engine.js';
import { comp } from './util.js';
import { lazyReduce } from '../lazy.js';
import { AxonError, fmtShape, fmtValue } from '../errors.js';
import { normAxes, normAxis, sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { astype, exp, log, ne, sub, div, mul, sqrt, where } from './elementwise.js';
import { reshape } from './movement.js';
import { backendOf, drop, empty } from './util.js';

function checkKeepDims(name: string, keepDims: unknown): void {
  if (typeof keepDims !== 'boolean') throw new AxonError(name, `keepDims must be true or false, got ${fmtValue(keepDims)}`);
}

function reduceOp(op: ReduceOp, name: string, x: Tensor, axis: number | readonly number[] | undefined, keepDims: boolean): Tensor {
  const backend = backendOf(name, x);
  checkKeepDims(name, keepDims);
  const axes = normAxes(name, axis, x.rank);
  const src = x.dtype === 'bool' ? astype(x, 'int32') : x;
  const kept: number[] = [];
  const keptDims: number[] = [];
  for (let i = 0; i < x.rank; i++) {
    if (axes.includes(i)) keptDims.push(1);
    else {
      kept.push(x.shape[i]!);
      keptDims.push(x.shape[i]!);
    }
  }
  const outShape = keepDims ? keptDims : kept;
  const outDtype = op === 'argmax' || op === 'argmin' ? 'int32' : src.dtype;
  if ((op === 'argmax' || op === 'argmin') && axes.some((a) => x.shape[a] === 0)) {
    if (src !== x) src.dispose();
    throw new AxonError(name, `cannot take ${name} over an empty axis of ${fmtShape(x.shape)}`);
  }
  const out = empty(backend, outShape, outDtype);
  // with fusion on, a pending input's elementwise ops run inside the reduction (one kernel)
  if (out.size > 0 && (op === 'argmax' || op === 'argmin' || !lazyReduce(backend, op, src, axes, out.storage.buf))) backend.reduce(op, src.view(), axes, out.storage.buf);
  if (src !== x) src.dispose();
  if (op === 'argmax' || op === 'argmin') return out;
  return record(op === 'sum' ? 'sum' : op === 'prod' ? 'prod' : op, [x], out, { axes, keepDims });
}

/**
 * Sum over `axis` (all axes by default). bool sums as int32.
 * @example
 * sum(tensor([[1, 2], [3, 4]])) // 10
 * sum(tensor([[1, 2], [3, 4]]), 0) // [4, 6]
 * sum(tensor([[1, 2], [3, 4]]), 1, true) // [[3], [7]]
 */
export function sum(x: Tensor, axis?: number | readonly number[], keepDims = false): Tensor {
  return reduceOp('sum', 'sum', x, axis, keepDims);
}
/** Product over `axis`. @example prod(tensor([2, 3])) // 6 */
export function prod(x: Tensor, axis?: number | readonly number[], keepDims = false): Tensor {
  return reduceOp('prod', 'prod', x, axis, keepDims);
}
/** Maximum over `axis` (NaN-propagating). @example max(tensor([1, 5, 2])) // 5 */
export function max(x: Tensor, axis?: number | readonly number[], keepDims = false): Tensor {
  return reduceOp('max', 'max', x, axis, keepDims);
}
/** Minimum over `axis`. @example min(tensor([1, 5, 2])) // 1 */
export function min(x: Tensor, axis?: number | readonly number[], keepDims = false): Tensor {
  return reduceOp('min', 'min', x, axis, keepDims);
}

function argReduce(op: 'argmax' | 'argmin', x: Tensor, axis: number | undefined, keepDims: boolean): Tensor {
  backendOf(op, x);
  checkKeepDims(op, keepDims);
  if (axis === undefined) {
    const flat = reshape(x, [x.size]);
    try {
      return reduceOp(op, op, flat, 0, false);
    } finally {
      flat.dispose();
    }
  }
  return reduceOp(op, op, x, normAxis(op, axis, x.rank), keepDims);
}
/** Index (int32) of the first maximum along `axis` (of the flattened tensor by default). @example argmax(tensor([[1, 5, 2], [7, 0, 7]]), 1) // [1, 0] */
export function argmax(x: Tensor, axis?: number, keepDims = false): Tensor {
  return argReduce('argmax', x, axis, keepDims);
}
/** Index of the first minimum. @example argmin(tensor([3, 1, 2])) // 1 */
export function argmin(x: Tensor, axis?: number, keepDims = false): Tensor {
  return argReduce('argmin', x, axis, keepDims);
}

/**
 * Mean over `axis` (float32).
 * @example mean(tensor([1, 2, 3, 4])) // 2.5
 */
export function mean(x: Tensor, axis?: number | readonly number[], keepDims = false): Tensor {
  backendOf('mean', x);
  checkKeepDims('mean', keepDims);
  const axes = normAxes('mean', axis, x.rank);
  const n = sizeOf(axes.map((a) => x.shape[a]!));
  const xf = x.dtype === 'float32' ? x : astype(x, 'float32');
  const s = sum(xf, axes, keepDims);
  try {
    return mul(s, n === 0 ? NaN : 1 / n);
  } finally {
    drop(s);
    if (xf !== x) drop(xf);
  }
}

/**
 * Variance over `axis` (all axes by default): population variance (`correction: 0`) unless a
 * `correction` is given — PyTorch's `var` defaults to `correction: 1`, pass it for the unbiased
 * estimate. The third argument is `keepDims` or `{ correction, keepDims }`.
 * @example
 * variance(tensor([1, 3])) // 1
 * variance(tensor([1, 3]), undefined, { correction: 1 }) // 2
 * variance(tensor([[1, 3], [2, 2]]), 1, true) // [[1], [0]]
 */
export function variance(x: Tensor, axis?: number | readonly number[], keepDims: boolean | VarianceOptions = false): Tensor {
  return moments('variance', x, axis, keepDims, 0);
}

/** Options of {@link std} and {@link variance}. */
export interface VarianceOptions {
  /** Subtracted from the count in the divisor (Bessel's correction): 1 for std (PyTorch's default), 0 for variance. */
  correction?: number;
  keepDims?: boolean;
}

/** Variance (or its square root) with a correction: Σ(x − mean)² / max(0, n − correction). */
function moments(op: string, x: Tensor, axis: number | readonly number[] | undefined, o: boolean | VarianceOptions, correction: number): Tensor {
  backendOf(op, x);
  const opts = typeof o === 'boolean' ? { keepDims: o } : o;
  if (opts === null || typeof opts !== 'object') throw new AxonError(op, `options must be keepDims (true/false) or { correction, keepDims }, got ${fmtValue(o)}`);
  const keep = opts.keepDims ?? false;
  const c = opts.correction ?? correction;
  if (typeof keep !== 'boolean') throw new AxonError(op, `keepDims must be true or false, got ${fmtValue(keep)}`);
  if (typeof c !== 'number' || !(c >= 0) || !Number.isFinite(c)) throw new AxonError(op, `correction must be a finite number >= 0, got ${fmtValue(c)}`);
  const axes = normAxes(op, axis, x.rank);
  const n = sizeOf(axes.map((a) => x.shape[a]!));
  return comp((k) => {
    const xf = x.dtype === 'float32' ? x : k(astype(x, 'float32'));
    const m = k(mul(k(sum(xf, axes, true)), n === 0 ? NaN : 1 / n));
    const d = k(sub(xf, m));
    const s = k(sum(k(mul(d, d)), axes, keep));
    const v = mul(s, 1 / Math.max(0, n - c));
    if (op !== 'std') return v;
    // √v, with PyTorch's gradient 0 where v = 0 (not ∞·0 = NaN): the square root reads 1 there
    const nz = k(ne(k(v), 0));
    return where(nz, k(sqrt(k(where(nz, v, 1)))), 0);
  });
}

/**
 * Standard deviation over `axes` (all by default), with PyTorch's default `correction: 1`
 * (unbiased); `{ correction: 0 }` is the population form.
 * @example
 * std(tensor([1, 2, 3, 4])) // 1.2910
 * std(tensor([1, 2, 3, 4]), undefined, { correction: 0 }) // 1.1180
 * std(tensor([[1, 3], [2, 2]]), 1, { keepDims: true }) // [[1.4142], [0]]
 */
export function std(x: Tensor, axes?: number | readonly number[], opts: VarianceOptions = {}): Tensor {
  return moments('std', x, axes, opts, 1);
}

/**
 * log Σ exp(x) over `axis`, computed stably.
 * @example
 * logSumExp(tensor([0, 0])) // 0.6931
 * logSumExp(tensor([1000, 1000])) // 1000.6931
 */
export function logSumExp(x: Tensor, axis?: number | readonly number[], keepDims = false): Tensor {
  backendOf('logSumExp', x);
  checkKeepDims('logSumExp', keepDims);
  normAxes('logSumExp', axis, x.rank);
  return failSafe(() => {
    // Shift by the row maximum; rows whose maximum is ±Infinity shift by 0 so that the result is
    // −Infinity (all −Infinity) or +Infinity (some +Infinity) rather than NaN.
    const m = noGrad(() => {
      const mx = max(x, axis, true);
      const a = mx.abs();
      const finite = a.lt(Infinity);
      const r = where(finite, mx, 0);
      mx.dispose();
      a.dispose();
      finite.dispose();
      return r;
    });
    const shifted = sub(x, m);
    const e = exp(shifted);
    const s = sum(e, axis, true);
    const l = log(s);
    const lm = l.add(m);
    drop(shifted, e, s, l);
    drop(m);
    return reshapeKeep(lm, x, axis, keepDims);
  });
}

function reshapeKeep(t: Tensor, x: Tensor, axis: number | readonly number[] | undefined, keepDims: boolean): Tensor {
  if (keepDims) return t;
  const axes = normAxes('logSumExp', axis, x.rank);
  const shape = x.shape.filter((_, i) => !axes.includes(i));
  const r = reshape(t, shape);
  drop(t);
  return r;
}

/**
 * Softmax along `axis` (last by default), computed stably.
 * @example softmax(tensor([1, 1])) // [0.5, 0.5]
 */
export function softmax(x: Tensor, axis = -1): Tensor {
  backendOf('softmax', x);
  const ax = normAxis('softmax', axis, x.rank);
  return failSafe(() => {
    const m = noGrad(() => max(x, ax, true));
    const shifted = sub(x, m);
    const e = exp(shifted);
    const s = sum(e, ax, true);
    try {
      return div(e, s);
    } finally {
      drop(m);
      drop(shifted, e, s);
    }
  });
}

/**
 * log(softmax(x)) along `axis`, computed stably.
 * @example logSoftmax(tensor([0, 0])) // [-0.693, -0.693]
 */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  backendOf('logSoftmax', x);
  const ax = normAxis('logSoftmax', axis, x.rank);
  return failSafe(() => {
    const m = noGrad(() => max(x, ax, true));
    const shifted = sub(x, m);
    const e = exp(shifted);
    const s = sum(e, ax, true);
    const l = log(s);
    try {
      return sub(shifted, l);
    } finally {
      drop(m);
      drop(shifted, e, s, l);
    }
  });
}
