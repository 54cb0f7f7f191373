/**
 * The 1-D convolutions and pools, transposed convolutions and upsampling, written once from the 2-D
 * ops (a 1-D signal is an image of height 1; a transposed convolution is a matmul followed by `fold`,
 * the adjoint of the `unfold` inside conv2d; bilinear upsampling is two matmuls with interpolation
 * matrices), so every backend runs them and autograd differentiates them without new rules.
 */
import { failSafe } from '../engine.js';
import { AxonError, fmtShape, fmtValue } from '../errors.js';
import { Tensor } from '../tensor.js';
import { tensor, zeros } from './creation.js';
import { add } from './elementwise.js';
import { avgPool2d, conv2d, fold, matmul, maxPool2d, window2d } from './linalg.js';
import { concat, gather, pad, reshape, slice, split, squeeze, transpose, unsqueeze } from './movement.js';
import { backendOf, drop, halfPad } from './util.js';

/** Padding of a 1-D op: `'valid'`, `'same'`, a number, or `[left, right]`. */
export type Padding1d = 'valid' | 'same' | number | readonly [number, number];

/** Options of {@link conv1d}. */
export interface Conv1dOptions {
  stride?: number;
  padding?: Padding1d;
  dilation?: number;
  groups?: number;
  bias?: Tensor | null;
}

/** Checks an options argument: a plain object (not a Tensor or an array) with only the known keys. */
function checkOpts(op: string, opts: unknown, keys: readonly string[]): void {
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts) || opts instanceof Tensor) throw new AxonError(op, `options must be an object, got ${fmtValue(opts)}`);
  const bad = Object.keys(opts).filter((k) => !keys.includes(k));
  if (bad.length > 0) throw new AxonError(op, `unknown option${bad.length > 1 ? 's' : ''} ${bad.map((k) => `'${k}'`).join(', ')}; known: ${keys.join(', ')}`);
}

const int = (op: string, name: string, v: unknown, min: number): number => {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > 2 ** 24) throw new AxonError(op, `${name} must be an integer ≥ ${min}, got ${fmtValue(v)}`);
  return v;
};

function pad1d(op: string, p: Padding1d | undefined): 'valid' | 'same' | readonly [readonly [number, number], readonly [number, number]] {
  if (p === undefined || p === 'valid' || p === 'same') return p ?? 'valid';
  const ok = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 2 ** 24;
  if (ok(p)) return [[0, 0], [p, p]];
  if (Array.isArray(p) && p.length === 2 && p.every(ok)) return [[0, 0], [p[0]!, p[1]!]];
  throw new AxonError(op, `padding must be 'valid', 'same', an integer in [0, 2^24] or [left, right] of them, got ${fmtValue(p)}`);
}

/** Checks a 1-D op's input ([N, C, L] or [C, L] float32) and that its window fits, naming `op`. */
function check1d(op: string, x: Tensor, w: Tensor | null, padding: ReturnType<typeof pad1d>, k: number, stride: number, dilation: number): void {
  if (x.dtype !== 'float32' || (x.rank !== 3 && x.rank !== 2)) throw new AxonError(op, `input must be float32 [N, C, L] or [C, L], got ${x.dtype} ${fmtShape(x.shape)}`);
  const L = x.shape[x.rank - 1]!;
  const [pl, pr] = padding === 'same' || padding === 'valid' ? [padding === 'same' ? (dilation * (k - 1)) >> 1 : 0, padding === 'same' ? dilation * (k - 1) - ((dilation * (k - 1)) >> 1) : 0] : padding[1];
  if (pl < 0 || pr < 0 || !Number.isInteger(pl) || !Number.isInteger(pr)) throw new AxonError(op, `padding must be non-negative integers, got ${fmtValue(padding)}`);
  if (L + pl + pr - dilation * (k - 1) - 1 < 0) throw new AxonError(op, `a window of ${k} (dilation ${dilation}) does not fit input ${fmtShape(x.shape)}${w ? ` with weights ${fmtShape(w.shape)}` : ''} and padding ${pl}+${pr}`);
}

/** [N, C, L] (or unbatched [C, L]) → [N, C, 1, L]; the caller's result goes back with `back`. */
function as2d(op: string, x: Tensor, what = 'input'): { x4: Tensor; back: (y: Tensor) => Tensor } {
  if (x.dtype !== 'float32' || (x.rank !== 3 && x.rank !== 2)) throw new AxonError(op, `${what} must be float32 [N, C, L] or [C, L], got ${x.dtype} ${fmtShape(x.shape)}`);
  const unbatched = x.rank === 2;
  const x3 = unbatched ? unsqueeze(x, 0) : x;
  const x4 = unsqueeze(x3, 2);
  if (unbatched) drop(x3);
  return {
    x4,
    back: (y) => {
      const y3 = squeeze(y, 2);
      if (!unbatched) return y3;
      const y2 = squeeze(y3, 0);
      drop(y3);
      return y2;
    },
  };
}

/**
 * 1-D convolution over `[N, C, L]` (or unbatched `[C, L]`) with weights `[outC, C/groups, k]` —
 * PyTorch's `F.conv1d` (cross-correlation; stride, padding `'valid'|'same'|n|[left, right]`,
 * dilation, groups, bias).
 * @example
 * ```ts
 * const x = tensor([[[1, 2, 3, 4]]]);
 * conv1d(x, tensor([[[1, 1]]])) // [[[3, 5, 7]]]
 * conv1d(x, tensor([[[1, 0, -1]]]), { padding: 1 }) // [[[-2, -2, -2, 3]]]
 * conv1d(x, ones([2, 1, 2]), { stride: 2, bias: tensor([0, 10]) }) // [[[3, 7], [13, 17]]]
 * ```
 */
export function conv1d(x: Tensor, w: Tensor, opts: Conv1dOptions = {}): Tensor {
  const op = 'conv1d';
  backendOf(op, x, w);
  checkOpts(op, opts, ['stride', 'padding', 'dilation', 'groups', 'bias']);
  if (w.rank !== 3) throw new AxonError(op, `weights must be [outC, inC/groups, k], got ${fmtShape(w.shape)}`);
  const padding = pad1d(op, opts.padding);
  const stride = int(op, 'stride', opts.stride ?? 1, 1);
  const dilation = int(op, 'dilation', opts.dilation ?? 1, 1);
  const groups = int(op, 'groups', opts.groups ?? 1, 1);
  check1d(op, x, w, padding, w.shape[2]!, stride, dilation);
  const [O, Cg] = w.shape as [number, number];
  const C = x.shape[x.rank - 2]!;
  if (w.dtype !== 'float32' || C % groups !== 0 || O % groups !== 0 || Cg !== C / groups) {
    throw new AxonError(op, `input ${fmtShape(x.shape)} and weights ${w.dtype} ${fmtShape(w.shape)} do not match with groups=${groups} (expected float32 weights [outC, ${C / groups}, k], outC divisible by groups)`);
  }
  const bias = opts.bias ?? null;
  if (bias !== null && (!(bias instanceof Tensor) || bias.dtype !== 'float32' || bias.rank !== 1 || bias.shape[0] !== O)) throw new AxonError(op, `bias must be float32 [${O}] for weights ${fmtShape(w.shape)}, got ${fmtValue(bias)}`);
  return failSafe(() => {
    const { x4, back } = as2d(op, x);
    const w4 = unsqueeze(w, 2);
    const y4 = conv2d(x4, w4, { stride: [1, stride], dilation: [1, dilation], padding, groups: opts.groups ?? 1, bias: opts.bias ?? null });
    drop(x4, w4);
    const y = back(y4);
    drop(y4);
    return y;
  });
}

/** Options of {@link convTranspose2d}. */
export interface ConvTranspose2dOptions {
  stride?: number | readonly [number, number];
  /** Removed from each side of the output (PyTorch's `padding`): `dilation·(k − 1) − padding` of implicit zero padding. */
  padding?: number | readonly [number, number];
  /** Added to one side of the output to pick among the sizes a stride allows (< stride or dilation). */
  outputPadding?: number | readonly [number, number];
  dilation?: number | readonly [number, number];
  groups?: number;
  bias?: Tensor | null;
}

const two = (op: string, name: string, v: number | readonly [number, number] | undefined, dflt: number, min: number): [number, number] => {
  const p = v === undefined ? [dflt, dflt] : typeof v === 'number' ? [v, v] : Array.isArray(v) && v.length === 2 ? [v[0], v[1]] : null;
  if (p === null) throw new AxonError(op, `${name} must be a number or a pair, got ${fmtValue(v)}`);
  return [int(op, name, p[0], min), int(op, name, p[1], min)];
};

/**
 * Transposed 2-D convolution (the gradient of conv2d with respect to its input; "deconvolution")
 * over NCHW input with weights `[inC, outC/groups, kH, kW]` — PyTorch's `F.conv_transpose2d`.
 * Output size per axis: `(in − 1)·stride − 2·padding + dilation·(k − 1) + outputPadding + 1`.
 * @example
 * ```ts
 * const x = tensor([[[[1, 2], [3, 4]]]]);
 * convTranspose2d(x, ones([1, 1, 2, 2])) // [[[[1, 3, 2], [4, 10, 6], [3, 7, 4]]]]
 * convTranspose2d(x, ones([1, 1, 2, 2]), { stride: 2 }).shape // [1, 1, 4, 4]
 * convTranspose2d(x, ones([1, 1, 3, 3]), { stride: 2, padding: 1, outputPadding: 1 }).shape // [1, 1, 4, 4]
 * ```
 */
export function convTranspose2d(x: Tensor, w: Tensor, opts: ConvTranspose2dOptions = {}): Tensor {
  const op = 'convTranspose2d';
  backendOf(op, x, w);
  checkOpts(op, opts, ['stride', 'padding', 'outputPadding', 'dilation', 'groups', 'bias']);
  if (opts.bias !== undefined && opts.bias !== null) backendOf(op, x, opts.bias);
  if (x.dtype !== 'float32' || x.rank !== 4) throw new AxonError(op, `expects a float32 NCHW input of rank 4, got ${x.dtype} ${fmtShape(x.shape)}`);
  if (w.dtype !== 'float32' || w.rank !== 4) throw new AxonError(op, `weights must be float32 [inC, outC/groups, kH, kW], got ${w.dtype} ${fmtShape(w.shape)}`);
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const [Ci, Og, kH, kW] = w.shape as [number, number, number, number];
  const groups = int(op, 'groups', opts.groups ?? 1, 1);
  if (Ci !== C || C % groups !== 0) throw new AxonError(op, `input ${fmtShape(x.shape)} and weights ${fmtShape(w.shape)} do not match with groups=${groups} (expected weights [${C}, outC/groups, kH, kW], ${C} divisible by groups)`);
  const [sH, sW] = two(op, 'stride', opts.stride, 1, 1);
  const [pH, pW] = two(op, 'padding', opts.padding, 0, 0);
  const [oH, oW] = two(op, 'outputPadding', opts.outputPadding, 0, 0);
  const [dH, dW] = two(op, 'dilation', opts.dilation, 1, 1);
  if (oH >= Math.max(sH, dH) || oW >= Math.max(sW, dW)) throw new AxonError(op, `outputPadding ${fmtValue(opts.outputPadding)} must be smaller than the stride (${sH}×${sW}) or the dilation (${dH}×${dW})`);
  const O = Og * groups;
  const outH = (H - 1) * sH - 2 * pH + dH * (kH - 1) + oH + 1;
  const outW = (W - 1) * sW - 2 * pW + dW * (kW - 1) + oW + 1;
  if (outH <= 0 || outW <= 0) throw new AxonError(op, `the output would be ${outH}×${outW} for input ${fmtShape(x.shape)}, weights ${fmtShape(w.shape)} and padding ${pH}×${pW}`);
  if (opts.bias && (opts.bias.dtype !== 'float32' || opts.bias.rank !== 1 || opts.bias.shape[0] !== O)) throw new AxonError(op, `bias must be float32 [${O}] for weights ${fmtShape(w.shape)}, got ${opts.bias.dtype} ${fmtShape(opts.bias.shape)}`);
  // the window whose unfold of the output image has one column per input pixel
  // the full (uncropped) output, whose unfold has exactly one column per input pixel; `padding`
  // crops it and `outputPadding` extends it (with zeros where no input reaches)
  const fullH = (H - 1) * sH + dH * (kH - 1) + 1;
  const fullW = (W - 1) * sW + dW * (kW - 1) + 1;
  const win = window2d(op, [N, O, fullH, fullW], [kH, kW], [sH, sW], 'valid', [dH, dW]);
  return failSafe(() => {
    const temps: Tensor[] = [];
    const t = <T extends Tensor>(v: T): T => (temps.push(v), v);
    const xs = groups === 1 ? [x] : split(x, groups, 1).map(t);
    const ws = groups === 1 ? [w] : split(w, groups, 0).map(t);
    const parts: Tensor[] = [];
    for (let g = 0; g < groups; g++) {
      const x3 = t(reshape(xs[g]!, [N, C / groups, H * W]));
      const w2 = t(reshape(ws[g]!, [C / groups, Og * kH * kW]));
      parts.push(t(matmul(t(transpose(w2)), x3))); // [N, Og·kH·kW, H·W]
    }
    const cols = parts.length === 1 ? parts[0]! : t(concat(parts, 1));
    let y = fold(cols, win);
    if (pH > 0 || pW > 0 || outH !== fullH || outW !== fullW) {
      const keepH = Math.max(0, Math.min(outH, fullH - pH));
      const keepW = Math.max(0, Math.min(outW, fullW - pW));
      const c = t(y);
      const cropped = keepH > 0 && keepW > 0 ? t(slice(c, [0, 0, pH, pW], [N, O, keepH, keepW])) : null;
      y = cropped === null ? zeros([N, O, outH, outW]) : keepH === outH && keepW === outW ? cropped.contiguous() : pad(cropped, [[0, 0], [0, 0], [0, outH - keepH], [0, outW - keepW]]);
    }
    if (opts.bias) {
      const b4 = t(reshape(opts.bias, [1, O, 1, 1]));
      const yb = add(y, b4);
      drop(y);
      y = yb;
    }
    drop(...temps);
    return y;
  });
}

/** Options of {@link convTranspose1d}. */
export interface ConvTranspose1dOptions {
  stride?: number;
  padding?: number;
  outputPadding?: number;
  dilation?: number;
  groups?: number;
  bias?: Tensor | null;
}

/**
 * Transposed 1-D convolution over `[N, C, L]` (or `[C, L]`) with weights `[inC, outC/groups, k]` —
 * PyTorch's `F.conv_transpose1d`.
 * @example
 * ```ts
 * convTranspose1d(tensor([[[1, 2, 3]]]), ones([1, 1, 2])) // [[[1, 3, 5, 3]]]
 * convTranspose1d(tensor([[[1, 2, 3]]]), ones([1, 2, 2]), { stride: 2 }).shape // [1, 2, 6]
 * ```
 */
export function convTranspose1d(x: Tensor, w: Tensor, opts: ConvTranspose1dOptions = {}): Tensor {
  const op = 'convTranspose1d';
  backendOf(op, x, w);
  checkOpts(op, opts, ['stride', 'padding', 'outputPadding', 'dilation', 'groups', 'bias']);
  if (w.rank !== 3) throw new AxonError(op, `weights must be [inC, outC/groups, k], got ${fmtShape(w.shape)}`);
  if (x.dtype !== 'float32' || (x.rank !== 3 && x.rank !== 2) || x.shape[x.rank - 2] !== w.shape[0]) throw new AxonError(op, `expects float32 input [N, ${w.shape[0]}, L] or [${w.shape[0]}, L] for weights ${fmtShape(w.shape)}, got ${x.dtype} ${fmtShape(x.shape)}`);
  // checked here, under this op's name and the caller's 1-D shapes (not the 2-D op's)
  const stride = int(op, 'stride', opts.stride ?? 1, 1);
  const padding = int(op, 'padding', opts.padding ?? 0, 0);
  const outputPadding = int(op, 'outputPadding', opts.outputPadding ?? 0, 0);
  const dilation = int(op, 'dilation', opts.dilation ?? 1, 1);
  const groups = int(op, 'groups', opts.groups ?? 1, 1);
  const C = w.shape[0]!;
  if (C % groups !== 0) throw new AxonError(op, `input channels ${C} (weights ${fmtShape(w.shape)}) must be divisible by groups=${groups}`);
  if (outputPadding >= Math.max(stride, dilation)) throw new AxonError(op, `outputPadding ${outputPadding} must be smaller than the stride ${stride} or the dilation ${dilation}`);
  const L = x.shape[x.rank - 1]!;
  const outL = (L - 1) * stride - 2 * padding + dilation * (w.shape[2]! - 1) + outputPadding + 1;
  if (outL <= 0) throw new AxonError(op, `the output length would be ${outL} for input ${fmtShape(x.shape)}, weights ${fmtShape(w.shape)}, stride ${stride} and padding ${padding}`);
  return failSafe(() => {
    const { x4, back } = as2d(op, x);
    const w4 = unsqueeze(w, 2);
    const y4 = convTranspose2d(x4, w4, { stride: [1, stride], padding: [0, padding], outputPadding: [0, outputPadding], dilation: [1, dilation], groups, bias: opts.bias ?? null });
    drop(x4, w4);
    const y = back(y4);
    drop(y4);
    return y;
  });
}

/** Options of {@link maxPool1d} and {@link avgPool1d}. */
export interface Pool1dOptions {
  /** Defaults to the kernel size. */
  stride?: number;
  padding?: Padding1d;
  /** avgPool1d: divide by the kernel size, padding included (PyTorch's default, true), or by the non-padding count (false). */
  countIncludePad?: boolean;
}

function pool1d(kind: 'max' | 'avg', x: Tensor, kernel: number, opts: Pool1dOptions): Tensor {
  const op = kind === 'max' ? 'maxPool1d' : 'avgPool1d';
  backendOf(op, x);
  checkOpts(op, opts, kind === 'avg' ? ['stride', 'padding', 'countIncludePad'] : ['stride', 'padding']);
  const k = int(op, 'kernel size', kernel, 1);
  const stride = int(op, 'stride', opts.stride ?? k, 1);
  const padding = pad1d(op, opts.padding);
  check1d(op, x, null, padding, k, stride, 1);
  if (typeof padding !== 'string') halfPad(op, padding[1], k);
  if (typeof (opts.countIncludePad ?? true) !== 'boolean' || (kind === 'max' && opts.countIncludePad !== undefined)) throw new AxonError(op, `countIncludePad must be a boolean (avgPool1d only), got ${fmtValue(opts.countIncludePad)}`);
  return failSafe(() => {
    const { x4, back } = as2d(op, x);
    const o = { stride: [1, stride] as [number, number], padding };
    const y4 = kind === 'max' ? maxPool2d(x4, [1, k], o) : avgPool2d(x4, [1, k], { ...o, countIncludePad: opts.countIncludePad ?? true });
    drop(x4);
    const y = back(y4);
    drop(y4);
    return y;
  });
}

/**
 * 1-D max pooling over `[N, C, L]` (or `[C, L]`) — PyTorch's `F.max_pool1d` (stride defaults to the
 * kernel size; padding never wins the max).
 * @example
 * ```ts
 * maxPool1d(tensor([[[1, 3, 2, 5, 4]]]), 2) // [[[3, 5]]]
 * maxPool1d(tensor([[[1, 3, 2, 5, 4]]]), 3, { stride: 1, padding: 1 }) // [[[3, 3, 5, 5, 5]]]
 * ```
 */
export function maxPool1d(x: Tensor, kernel: number, opts: Pool1dOptions = {}): Tensor {
  return pool1d('max', x, kernel, opts);
}

/**
 * 1-D average pooling over `[N, C, L]` (or `[C, L]`) — PyTorch's `F.avg_pool1d`, which by default
 * counts padding in the divisor (`countIncludePad: true`).
 * @example
 * ```ts
 * avgPool1d(tensor([[[1, 2, 3, 4]]]), 2) // [[[1.5, 3.5]]]
 * avgPool1d(tensor([[[3, 3, 3]]]), 2, { padding: 1 }) // [[[1.5, 3]]]
 * avgPool1d(tensor([[[3, 3, 3]]]), 2, { padding: 1, countIncludePad: false }) // [[[3, 3]]]
 * ```
 */
export function avgPool1d(x: Tensor, kernel: number, opts: Pool1dOptions = {}): Tensor {
  return pool1d('avg', x, kernel, opts);
}

/** Options of {@link upsample}. */
export interface UpsampleOptions {
  /** Output size of the spatial dims (one number per dim, or one for all). */
  size?: number | readonly number[];
  /** Multiplies the spatial dims (floored), when `size` is not given. */
  scaleFactor?: number | readonly number[];
  /** `'nearest'` (default), `'linear'` (3-D input) or `'bilinear'` (4-D input). */
  mode?: 'nearest' | 'linear' | 'bilinear';
  /** Align the corner pixels' centres (linear modes; default false, as PyTorch). */
  alignCorners?: boolean;
}

/**
 * Upsamples (or downsamples) the spatial dims of `[N, C, L]` or `[N, C, H, W]` — PyTorch's
 * `F.interpolate` with modes `'nearest'`, `'linear'` and `'bilinear'` (`alignCorners` as PyTorch;
 * with `scaleFactor`, source positions use `1/scaleFactor` as PyTorch does).
 * @example
 * ```ts
 * upsample(tensor([[[1, 2]]]), { scaleFactor: 2 }) // [[[1, 1, 2, 2]]]
 * upsample(tensor([[[1, 2]]]), { scaleFactor: 2, mode: 'linear' }) // [[[1, 1.25, 1.75, 2]]]
 * upsample(tensor([[[1, 2]]]), { size: 3, mode: 'linear', alignCorners: true }) // [[[1, 1.5, 2]]]
 * upsample(tensor([[[[1, 2], [3, 4]]]]), { scaleFactor: 2 }).shape // [1, 1, 4, 4]
 * ```
 */
export function upsample(x: Tensor, opts: UpsampleOptions): Tensor {
  const op = 'upsample';
  backendOf(op, x);
  checkOpts(op, opts, ['size', 'scaleFactor', 'mode', 'alignCorners']);
  if (x.dtype !== 'float32' || (x.rank !== 3 && x.rank !== 4)) throw new AxonError(op, `expects float32 [N, C, L] or [N, C, H, W], got ${x.dtype} ${fmtShape(x.shape)}`);
  const mode = opts.mode ?? 'nearest';
  const nd = x.rank - 2;
  if (mode !== 'nearest' && mode !== (nd === 1 ? 'linear' : 'bilinear')) throw new AxonError(op, `mode must be 'nearest' or '${nd === 1 ? 'linear' : 'bilinear'}' for ${fmtShape(x.shape)}, got ${fmtValue(mode)}`);
  const list = (v: number | readonly number[]): readonly number[] => (typeof v === 'number' ? new Array<number>(nd).fill(v) : v);
  const ins = x.shape.slice(2);
  let outs: number[];
  let scales: number[];
  if (opts.size !== undefined) {
    const s = list(opts.size);
    if (!Array.isArray(s) || s.length !== nd || !s.every((v) => Number.isInteger(v) && v >= 1 && v <= 2 ** 24)) throw new AxonError(op, `size must be ${nd} integer(s) in [1, 2^24], one per spatial dim of ${fmtShape(x.shape)}, got ${fmtValue(opts.size)}`);
    outs = [...s];
    scales = outs.map((o, i) => ins[i]! / o);
  } else if (opts.scaleFactor !== undefined) {
    const f = list(opts.scaleFactor);
    if (!Array.isArray(f) || f.length !== nd || !f.every((v) => typeof v === 'number' && Number.isFinite(v) && v > 0)) throw new AxonError(op, `scaleFactor must be ${nd} positive number(s), got ${fmtValue(opts.scaleFactor)}`);
    outs = ins.map((d, i) => Math.floor(d * f[i]!));
    if (outs.some((o) => o < 1 || o > 2 ** 24)) throw new AxonError(op, `scaleFactor ${fmtValue(opts.scaleFactor)} gives output size ${fmtValue(outs)} for ${fmtShape(x.shape)}; each must be in [1, 2^24]`);
    scales = f.map((v) => 1 / v);
  } else throw new AxonError(op, 'give size or scaleFactor');
  const align = opts.alignCorners ?? false;
  if (typeof align !== 'boolean' || (align && mode === 'nearest')) throw new AxonError(op, `alignCorners must be a boolean, and only with a linear mode; got ${fmtValue(opts.alignCorners)} with '${mode}'`);
  return failSafe(() => {
    let y = x;
    for (let i = 0; i < nd; i++) {
      const axis = 2 + i;
      const n = ins[i]!;
      const m = outs[i]!;
      let r: Tensor;
      if (mode === 'nearest') {
        const idx = new Int32Array(m);
        for (let j = 0; j < m; j++) idx[j] = Math.min(Math.floor(Math.fround(j * Math.fround(scales[i]!))), n - 1);
        const it = tensor(idx, [m], 'int32');
        r = gather(y, it, axis);
        drop(it);
      } else {
        // interpolation matrix A [m, n]: the result is A applied along `axis`
        const a = new Float32Array(m * n);
        for (let j = 0; j < m; j++) {
          const src = align ? (m > 1 ? (j * (n - 1)) / (m - 1) : 0) : Math.max((j + 0.5) * scales[i]! - 0.5, 0);
          const i0 = Math.min(Math.floor(src), n - 1);
          const i1 = Math.min(i0 + 1, n - 1);
          const l = src - i0;
          a[j * n + i0] += 1 - l;
          a[j * n + i1] += l;
        }
        const at = tensor(a, [m, n]);
        // move `axis` last, multiply by Aᵀ, move it back
        const perm = y.shape.map((_, d) => d);
        perm.splice(axis, 1);
        perm.push(axis);
        const inv = perm.map((_, d) => perm.indexOf(d));
        const yt = y.permute(perm);
        const att = transpose(at);
        const p = matmul(yt, att);
        r = p.permute(inv);
        drop(at, yt, att, p);
      }
      if (y !== x) drop(y);
      y = r;
    }
    return y === x ? x.clone() : y;
  });
}
