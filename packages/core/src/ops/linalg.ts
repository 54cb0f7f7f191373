import type { View, Window2d } from '../backend.js';
import { failSafe, record, traceOnly } from '../engine.js';
import { fusionOn, lazyMatmul } from '../lazy.js';
import { AxonError, fmtShape, fmtValue } from '../errors.js';
import { broadcastShapes, sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { tensor } from './creation.js';
import { add, mul } from './elementwise.js';
import { concat, reshape, split, squeeze, unsqueeze } from './movement.js';
import { backendOf, drop, empty, halfPad } from './util.js';

/** Merges the batch dims of a view into one when strides allow; null otherwise. */
function mergeBatch(v: View, batchRank: number): View | null {
  const shape = v.shape;
  const strides = v.strides;
  let size = 1;
  let stride = 0;
  let ok = true;
  let last = -1;
  for (let i = batchRank - 1; i >= 0; i--) {
    const d = shape[i]!;
    if (d === 1) continue;
    if (last === -1) {
      stride = strides[i]!;
    } else if (strides[i] !== strides[last]! * shape[last]!) {
      ok = false;
      break;
    }
    last = i;
    size *= d;
  }
  if (!ok) return null;
  return {
    buf: v.buf,
    dtype: v.dtype,
    shape: [size, shape[batchRank]!, shape[batchRank + 1]!],
    strides: [stride, strides[batchRank]!, strides[batchRank + 1]!],
    offset: v.offset,
  };
}

function broadcastTo(t: Tensor, shape: readonly number[]): View {
  const off = shape.length - t.rank;
  return {
    buf: t.storage.buf,
    dtype: t.dtype,
    shape,
    strides: shape.map((_, i) => (i < off || t.shape[i - off] === 1 ? 0 : t.strides[i - off]!)),
    offset: t.offset,
  };
}

/** The batched-matmul primitive on rank ≥ 2 float32 tensors with broadcastable batch dims. */
function matmulCore(a: Tensor, b: Tensor): Tensor {
  const backend = backendOf('matmul', a, b);
  const M = a.shape[a.rank - 2]!;
  const K = a.shape[a.rank - 1]!;
  const K2 = b.shape[b.rank - 2]!;
  const N = b.shape[b.rank - 1]!;
  if (K !== K2) {
    throw new AxonError('matmul', `inner dimensions differ: ${fmtShape(a.shape)} × ${fmtShape(b.shape)} (${K} vs ${K2}); expected a [..., M, K] × [..., K, N]`);
  }
  const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2), 'matmul');
  const outShape = [...batch, M, N];
  if (fusionOn() && K > 0 && sizeOf(outShape) > 0) {
    // with fusion on the product is pending: the first kernel that reads it may compute it, with its
    // elementwise ops (a bias, an activation) as the matmul's epilogue
    const av = mergeBatch(broadcastTo(a, [...batch, M, K]), batch.length);
    const bv = mergeBatch(broadcastTo(b, [...batch, K, N]), batch.length);
    if (av !== null && bv !== null) return record('matmul', [a, b], lazyMatmul(backend, av, bv, [a.storage, b.storage], outShape));
  }
  const out = empty(backend, outShape, 'float32');
  if (out.size > 0) {
    const temps: Tensor[] = [];
    const view3 = (t: Tensor, r: number, c: number): View => {
      const v = broadcastTo(t, [...batch, r, c]);
      const m = mergeBatch(v, batch.length);
      if (m) return m;
      const tmp = empty(backend, v.shape, 'float32');
      backend.copy(v, tmp.view());
      temps.push(tmp);
      return { buf: tmp.storage.buf, dtype: 'float32', shape: [sizeOf(batch), r, c], strides: [r * c, c, 1], offset: 0 };
    };
    const av = view3(a, M, K);
    const bv = view3(b, K, N);
    if (K === 0) backend.fill(out.storage.buf, 0);
    else backend.matmul(av, bv, out.storage.buf);
    for (const t of temps) t.dispose();
  }
  return record('matmul', [a, b], out);
}

/**
 * Matrix product with NumPy semantics: 1-D operands are promoted (and the added axis removed),
 * batch dims broadcast. Transposed views (`b.T`) run at full speed without copies. Operands must be
 * float32 (cast int32 explicitly: the product accumulates in float32).
 * @example
 * ```ts
 * matmul(ones([2, 3]), ones([3, 4])).shape // [2, 4]
 * const a = tensor([[1, 2], [3, 4]]);
 * matmul(a, a.T) // [[5, 11], [11, 25]]
 * matmul(a, tensor([1, 1])) // [3, 7]
 * matmul(ones([5, 2, 3]), ones([3, 4])).shape // [5, 2, 4]
 * matmul(ones([2, 3]), ones([2, 3])); // throws: 'matmul'
 * ```
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  backendOf('matmul', a, b);
  if (a.rank === 0 || b.rank === 0) throw new AxonError('matmul', `operands must have rank >= 1, got ${fmtShape(a.shape)} × ${fmtShape(b.shape)}`);
  if (a.dtype !== 'float32' || b.dtype !== 'float32') {
    // The product accumulates in float32: an int32 result would be silently inexact above 2^24,
    // so ask for the cast instead of returning float32 from int32 operands (PyTorch raises too).
    throw new AxonError('matmul', `expects float32 operands, got ${a.dtype} ${fmtShape(a.shape)} × ${b.dtype} ${fmtShape(b.shape)}; cast explicitly with .astype('float32')`);
  }
  const temps: Tensor[] = [];
  let a2 = a;
  let b2 = b;
  const vecA = a.rank === 1;
  const vecB = b.rank === 1;
  if (vecA) {
    a2 = unsqueeze(a2, 0);
    temps.push(a2);
  }
  if (vecB) {
    b2 = unsqueeze(b2, -1);
    temps.push(b2);
  }
  try {
    let out = matmulCore(a2, b2);
    if (vecA) {
      const s = squeeze(out, -2);
      drop(out);
      out = s;
    }
    if (vecB) {
      const s = squeeze(out, -1);
      drop(out);
      out = s;
    }
    return out;
  } finally {
    drop(...temps);
  }
}

/**
 * Dot product of two 1-D tensors, or matmul otherwise.
 * @example
 * dot(tensor([1, 2]), tensor([3, 4])).item() // 11
 * dot(tensor([1, 2]), tensor([3, 4])).shape // []
 */
export function dot(a: Tensor, b: Tensor): Tensor {
  return matmul(a, b);
}

/** Padding specifications accepted by conv and pooling. */
export type Padding2d = 'valid' | 'same' | number | readonly [number, number] | readonly [readonly [number, number], readonly [number, number]];

/** Options of {@link conv2d}. */
export interface Conv2dOptions {
  stride?: number | readonly [number, number];
  padding?: Padding2d;
  dilation?: number | readonly [number, number];
  groups?: number;
  bias?: Tensor | null;
}

function pair(op: string, v: number | readonly [number, number] | undefined, dflt: number, what: string): [number, number] {
  const ok = v === undefined || typeof v === 'number' || (Array.isArray(v) && v.length === 2);
  const p: [number, number] = !ok ? [NaN, NaN] : v === undefined ? [dflt, dflt] : typeof v === 'number' ? [v, v] : [v[0], v[1]];
  if (!p.every((x) => typeof x === 'number' && Number.isInteger(x) && x >= 1 && x <= 2 ** 24)) throw new AxonError(op, `${what} must be a positive integer or a pair of them, got ${fmtValue(v)}`);
  return p;
}

function samePad(size: number, k: number, s: number, d: number): [number, number] {
  const out = Math.ceil(size / s);
  const total = Math.max((out - 1) * s + (k - 1) * d + 1 - size, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

/**
 * Builds the window descriptor of a 2-D sliding-window op, validating everything: `op` names the
 * caller in errors, `k` is the kernel size, the stride defaults to `strideDefault`.
 * @example
 * const win = window2d('myOp', [1, 3, 28, 28], [3, 3], 2, 'same', 1);
 * [win.outH, win.outW, win.padTop, win.padBottom] // [14, 14, 0, 1]
 * window2d('myOp', [1, 1, 2, 2], [3, 3], 1, 'valid', 1); // throws: 'does not fit'
 */
export function window2d(
  op: string,
  xShape: readonly number[],
  k: readonly [number, number],
  strideIn: number | readonly [number, number] | undefined,
  padding: Padding2d | undefined,
  dilationIn: number | readonly [number, number] | undefined,
  strideDefault = 1,
): Window2d & { padBottom: number; padRight: number } {
  if (typeof op !== 'string') throw new AxonError('window2d', `op must be a string naming the caller, got ${fmtValue(op)}`);
  if (!Array.isArray(xShape) || xShape.length !== 4 || !xShape.every((d) => typeof d === 'number' && Number.isInteger(d) && d >= 0)) {
    throw new AxonError(op, `expects an NCHW input of rank 4, got ${fmtShape(xShape)}`);
  }
  const [n, c, h, w] = xShape as [number, number, number, number];
  const [strideH, strideW] = pair(op, strideIn, strideDefault, 'stride');
  const [dilationH, dilationW] = pair(op, dilationIn, 1, 'dilation');
  const [kH, kW] = pair(op, k, 1, 'kernel size');
  let pt = 0, pb = 0, pl = 0, pr = 0;
  const p = padding ?? 'valid';
  if (p === 'same') {
    [pt, pb] = samePad(h, kH, strideH, dilationH);
    [pl, pr] = samePad(w, kW, strideW, dilationW);
  } else if (p === 'valid') {
    /* zero */
  } else if (typeof p === 'number') {
    pt = pb = pl = pr = p;
  } else if (Array.isArray(p) && p.length === 2 && typeof p[0] === 'number' && typeof p[1] === 'number') {
    pt = pb = p[0] as number;
    pl = pr = p[1] as number;
  } else if (Array.isArray(p) && p.length === 2 && p.every((q: unknown) => Array.isArray(q) && q.length === 2 && q.every((v) => typeof v === 'number'))) {
    const q = p as unknown as readonly (readonly [number, number])[];
    [pt, pb] = q[0]!;
    [pl, pr] = q[1]!;
  } else throw new AxonError(op, `padding must be 'valid', 'same', a number or pairs, got ${fmtValue(padding)}`);
  for (const v of [pt, pb, pl, pr]) if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 2 ** 24) throw new AxonError(op, `padding must be non-negative integers, got ${fmtValue(padding)}`);
  const outH = Math.floor((h + pt + pb - dilationH * (kH - 1) - 1) / strideH) + 1;
  const outW = Math.floor((w + pl + pr - dilationW * (kW - 1) - 1) / strideW) + 1;
  if (outH <= 0 || outW <= 0) {
    throw new AxonError(op, `a ${kH}×${kW} window (dilation ${dilationH}×${dilationW}) does not fit input ${fmtShape(xShape)} with padding ${fmtValue(padding ?? 'valid')}`);
  }
  return { n, c, h, w, kH, kW, strideH, strideW, padTop: pt, padLeft: pl, padBottom: pb, padRight: pr, dilationH, dilationW, outH, outW };
}

/**
 * Checks that `win` (a window from {@link window2d}) describes `x`: every field an integer and
 * consistent with the others, so that no backend reads or writes outside a buffer.
 */
function checkWindow(op: string, win: Window2d, x: readonly number[]): void {
  const fields = ['n', 'c', 'h', 'w', 'kH', 'kW', 'strideH', 'strideW', 'padTop', 'padLeft', 'dilationH', 'dilationW', 'outH', 'outW'] as const;
  if (win === null || typeof win !== 'object' || !fields.every((f) => typeof win[f] === 'number' && Number.isInteger(win[f]) && win[f] >= 0)) {
    throw new AxonError(op, `win must be a window from window2d(), got ${fmtValue(win)}`);
  }
  if (x.length !== 4 || x[0] !== win.n || x[1] !== win.c || x[2] !== win.h || x[3] !== win.w) {
    throw new AxonError(op, `the window is for an input [${win.n},${win.c},${win.h},${win.w}], got ${fmtShape(x)}`);
  }
  // The padding after the image is carried by window2d()'s result; a hand-made window may omit it.
  const ext = win as Window2d & { padBottom?: number; padRight?: number };
  const padB = typeof ext.padBottom === 'number' ? ext.padBottom : win.padTop + 1;
  const padR = typeof ext.padRight === 'number' ? ext.padRight : win.padLeft + 1;
  const outH = Math.floor((win.h + win.padTop + padB - win.dilationH * (win.kH - 1) - 1) / Math.max(win.strideH, 1)) + 1;
  const outW = Math.floor((win.w + win.padLeft + padR - win.dilationW * (win.kW - 1) - 1) / Math.max(win.strideW, 1)) + 1;
  if (win.kH < 1 || win.kW < 1 || win.strideH < 1 || win.strideW < 1 || win.dilationH < 1 || win.dilationW < 1 || win.outH < 1 || win.outW < 1 || win.outH > outH || win.outW > outW) {
    throw new AxonError(op, `the window ${fmtValue(win)} is inconsistent (its output ${win.outH}×${win.outW} does not fit ${fmtShape(x)}); build it with window2d()`);
  }
}

/**
 * Unfolds sliding windows of an NCHW tensor into columns `[N, C·kH·kW, outH·outW]` (im2col).
 * @example
 * ```ts
 * const x = arange(1, 10).astype('float32').reshape([1, 1, 3, 3]);
 * const win = window2d('unfold', x.shape, [2, 2], 1, 'valid', 1);
 * unfold(x, win) // [[[1, 2, 4, 5], [2, 3, 5, 6], [4, 5, 7, 8], [5, 6, 8, 9]]]
 * ```
 */
export function unfold(x: Tensor, win: Window2d): Tensor {
  const backend = backendOf('unfold', x);
  if (x.dtype !== 'float32') throw new AxonError('unfold', `expects float32, got ${x.dtype}`);
  checkWindow('unfold', win, x.shape);
  const out = empty(backend, [win.n, win.c * win.kH * win.kW, win.outH * win.outW], 'float32');
  if (out.size > 0) backend.im2col(x.view(), win, out.storage.buf);
  return record('im2col', [x], out, { win });
}

/**
 * Adjoint of {@link unfold} (col2im): sums columns back into an NCHW image.
 * @example
 * ```ts
 * const win = window2d('fold', [1, 1, 3, 3], [2, 2], 1, 'valid', 1);
 * // how many 2×2 windows cover each pixel of a 3×3 image:
 * fold(ones([1, 4, 4]), win) // [[[[1, 2, 1], [2, 4, 2], [1, 2, 1]]]]
 * ```
 */
export function fold(cols: Tensor, win: Window2d): Tensor {
  const backend = backendOf('fold', cols);
  checkWindow('fold', win, [win?.n, win?.c, win?.h, win?.w]);
  const want = [win.n, win.c * win.kH * win.kW, win.outH * win.outW];
  if (cols.dtype !== 'float32' || cols.rank !== 3 || cols.shape.some((d, i) => d !== want[i])) {
    throw new AxonError('fold', `columns must be float32 ${fmtShape(want)} for this window, got ${cols.dtype} ${fmtShape(cols.shape)}`);
  }
  const out = empty(backend, [win.n, win.c, win.h, win.w], 'float32');
  if (out.size > 0) backend.col2im(cols.view(), win, out.storage.buf);
  return record('col2im', [cols], out, { win });
}

/**
 * 2-D convolution (cross-correlation, as in PyTorch/Keras) of NCHW input `x` with OIHW
 * weights `w` (`[outC, inC/groups, kH, kW]`), computed as im2col + the SIMD/tiled matmul.
 * @example
 * ```ts
 * conv2d(randn([1, 1, 28, 28]), randn([8, 1, 3, 3]), { padding: 'same' }).shape // [1, 8, 28, 28]
 * const x = arange(1, 10).astype('float32').reshape([1, 1, 3, 3]);
 * conv2d(x, ones([1, 1, 2, 2])) // [[[[12, 16], [24, 28]]]]
 * conv2d(x, ones([1, 1, 2, 2]), { stride: 2, padding: 1, bias: tensor([0.5]) }) // [[[[1.5, 5.5], [11.5, 28.5]]]]
 * ```
 */
export function conv2d(x: Tensor, w: Tensor, opts: Conv2dOptions = {}): Tensor {
  backendOf('conv2d', x, w);
  if (opts === null || typeof opts !== 'object') throw new AxonError('conv2d', `options must be an object, got ${fmtValue(opts)}`);
  if (opts.bias !== undefined && opts.bias !== null) backendOf('conv2d', x, opts.bias);
  for (const [name, t] of [['input', x], ['weights', w], ['bias', opts.bias]] as const) {
    if (t && t.dtype !== 'float32') throw new AxonError('conv2d', `${name} must be float32, got ${t.dtype} ${fmtShape(t.shape)}`);
  }
  if (w.rank !== 4) throw new AxonError('conv2d', `weights must be [outC, inC/groups, kH, kW], got ${fmtShape(w.shape)}`);
  const groups = opts.groups ?? 1;
  const [O, Cg, kH, kW] = w.shape as [number, number, number, number];
  if (x.rank !== 4) throw new AxonError('conv2d', `expects an NCHW input of rank 4, got ${fmtShape(x.shape)}`);
  const C = x.shape[1]!;
  if (!Number.isInteger(groups) || groups < 1 || C % groups !== 0 || O % groups !== 0 || C / groups !== Cg) {
    throw new AxonError('conv2d', `input ${fmtShape(x.shape)} and weights ${fmtShape(w.shape)} do not match with groups=${groups} (expected weights [outC, ${C / groups}, kH, kW], outC divisible by groups)`);
  }
  const win = window2d('conv2d', x.shape, [kH, kW], opts.stride, opts.padding, opts.dilation);
  if (opts.bias && (opts.bias.rank !== 1 || opts.bias.shape[0] !== O)) {
    throw new AxonError('conv2d', `bias must be [${O}] for weights ${fmtShape(w.shape)}, got ${fmtShape(opts.bias.shape)}`);
  }
  const N = x.shape[0]!;
  return failSafe(() => {
  const parts: Tensor[] = [];
  const temps: Tensor[] = [];
  const xs = groups === 1 ? [x] : split(x, groups, 1);
  const ws = groups === 1 ? [w] : split(w, groups, 0);
  if (groups > 1) temps.push(...xs, ...ws);
  for (let g = 0; g < groups; g++) {
    const gwin = { ...win, c: Cg };
    const cols = unfold(xs[g]!, gwin);
    const w2 = reshape(ws[g]!, [O / groups, Cg * kH * kW]);
    const y = matmul(w2, cols);
    temps.push(cols, w2);
    parts.push(y);
  }
  let y = parts.length === 1 ? parts[0]! : concat(parts, 1);
  if (parts.length > 1) temps.push(...parts);
  const y4 = reshape(y, [N, O, win.outH, win.outW]);
  temps.push(y);
  y = y4;
  if (opts.bias) {
    const b4 = reshape(opts.bias, [1, O, 1, 1]);
    const yb = add(y, b4);
    temps.push(b4, y);
    y = yb;
  }
  drop(...temps);
  traceOnly('conv2d', opts.bias ? [x, w, opts.bias] : [x, w], y, { win, groups });
  return y;
  });
}

/** Options of the pooling ops. */
export interface Pool2dOptions {
  /** Defaults to the kernel size. */
  stride?: number | readonly [number, number];
  padding?: Padding2d;
  /**
   * avgPool2d: divide by the whole window, padding included (PyTorch's `count_include_pad`, its
   * default), instead of by the non-padding elements (the default here, as Keras/TensorFlow).
   */
  countIncludePad?: boolean;
}

function pool(op: 'max' | 'avg', x: Tensor, kernel: number | readonly [number, number], opts: Pool2dOptions): Tensor {
  const name = op === 'max' ? 'maxPool2d' : 'avgPool2d';
  const backend = backendOf(name, x);
  if (x.dtype !== 'float32') throw new AxonError(name, `expects float32, got ${x.dtype}`);
  if (opts === null || typeof opts !== 'object') throw new AxonError(name, `options must be an object, got ${fmtValue(opts)}`);
  const k = pair(name, kernel, 1, 'kernel size');
  const win = window2d(name, x.shape, k, opts.stride ?? k, opts.padding, 1);
  halfPad(name, [win.padTop, win.padBottom], win.kH);
  halfPad(name, [win.padLeft, win.padRight], win.kW);
  const include = opts.countIncludePad ?? false;
  if (typeof include !== 'boolean' || (include && op === 'max')) throw new AxonError(name, `countIncludePad must be a boolean (avgPool2d only), got ${fmtValue(opts.countIncludePad)}`);
  const out = empty(backend, [win.n, win.c, win.outH, win.outW], 'float32');
  if (out.size > 0) backend.pool2d(op, x.view(), win, out.storage.buf);
  const y = record('pool2d', [x], out, { op, win });
  if (!include || win.padTop + win.padBottom + win.padLeft + win.padRight === 0) return y;
  // the average over the whole window: rescale each output by (non-padding count) / (kH·kW)
  const f = new Float32Array(win.outH * win.outW);
  const span = (o: number, s: number, p: number, k: number, n: number): number => Math.min(o * s - p + k, n) - Math.max(o * s - p, 0);
  for (let i = 0; i < win.outH; i++) for (let j = 0; j < win.outW; j++) f[i * win.outW + j] = (span(i, win.strideH, win.padTop, win.kH, win.h) * span(j, win.strideW, win.padLeft, win.kW, win.w)) / (win.kH * win.kW);
  return failSafe(() => {
    const ft = tensor(f, [win.outH, win.outW]);
    try {
      return mul(y, ft);
    } finally {
      drop(ft, y);
    }
  });
}

/**
 * Max pooling over NCHW input (stride defaults to the kernel size).
 * @example
 * ```ts
 * const x = arange(1, 17).astype('float32').reshape([1, 1, 4, 4]);
 * maxPool2d(x, 2) // [[[[6, 8], [14, 16]]]]
 * ```
 */
export function maxPool2d(x: Tensor, kernel: number | readonly [number, number], opts: Pool2dOptions = {}): Tensor {
  return pool('max', x, kernel, opts);
}

/**
 * Average pooling over NCHW input (padding excluded from the count, as Keras; `countIncludePad: true`
 * for PyTorch's divisor).
 * @example
 * ```ts
 * const x = arange(1, 17).astype('float32').reshape([1, 1, 4, 4]);
 * avgPool2d(x, 2) // [[[[3.5, 5.5], [11.5, 13.5]]]]
 * avgPool2d(x, 3, { stride: 1, padding: 1 }).toArray() // [[[[3.5, 4, 5, 5.5], [5.5, 6, 7, 7.5], [9.5, 10, 11, 11.5], [11.5, 12, 13, 13.5]]]]
 * // PyTorch's default divides by the whole window, padding included:
 * avgPool2d(ones([1, 1, 2, 2]), 2, { stride: 1, padding: 1, countIncludePad: true }) // [[[[0.25, 0.5, 0.25], [0.5, 1, 0.5], [0.25, 0.5, 0.25]]]]
 * ```
 */
export function avgPool2d(x: Tensor, kernel: number | readonly [number, number], opts: Pool2dOptions = {}): Tensor {
  return pool('avg', x, kernel, opts);
}

/**
 * Gradient of a pooling op (used by autograd).
 * @example
 * ```ts
 * const x = arange(1, 17).astype('float32').reshape([1, 1, 4, 4]);
 * const win = window2d('maxPool2d', x.shape, [2, 2], 2, 'valid', 1);
 * // the gradient of each window's output goes to the window's maximum:
 * pool2dGrad('max', x, ones([1, 1, 2, 2]), win) // [[[[0, 0, 0, 0], [0, 1, 0, 1], [0, 0, 0, 0], [0, 1, 0, 1]]]]
 * ```
 */
export function pool2dGrad(op: 'max' | 'avg', x: Tensor, dy: Tensor, win: Window2d): Tensor {
  const backend = backendOf('pool2dGrad', x, dy);
  if (op !== 'max' && op !== 'avg') throw new AxonError('pool2dGrad', `op must be 'max' or 'avg', got ${fmtValue(op)}`);
  checkWindow('pool2dGrad', win, x.shape);
  if (x.dtype !== 'float32' || dy.dtype !== 'float32' || dy.rank !== 4 || dy.shape[0] !== win.n || dy.shape[1] !== win.c || dy.shape[2] !== win.outH || dy.shape[3] !== win.outW) {
    throw new AxonError('pool2dGrad', `expects float32 x ${fmtShape(x.shape)} and dy [${win.n},${win.c},${win.outH},${win.outW}], got ${x.dtype} and ${dy.dtype} ${fmtShape(dy.shape)}`);
  }
  const out = empty(backend, x.shape, 'float32');
  if (out.size > 0) backend.pool2dGrad(op, x.view(), dy.view(), win, out.storage.buf);
  return record('pool2dGrad', [x, dy], out, { op, win });
}
