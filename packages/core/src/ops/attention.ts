import type { View } from '../backend.js';
import { failSafe, isGradEnabled, noGrad, record } from '../engine.js';
import { AxonError, fmtShape, fmtValue } from '../errors.js';
import { broadcastShapes, sizeOf } from '../shape.js';
import { Tensor } from '../tensor.js';
import { arange, bernoulli } from './creation.js';
import { div, exp, ge, mul, sub, where } from './elementwise.js';
import { matmul } from './linalg.js';
import { transpose, unsqueeze } from './movement.js';
import { logSumExp, softmax } from './reduce.js';
import { backendOf, drop, empty } from './util.js';

/** Options of {@link scaledDotProductAttention}. */
export interface AttentionOptions {
  /**
   * Broadcastable to the scores' shape `[..., Tq, Tk]`: a bool mask (`true` where a query may attend
   * to a key, as PyTorch's `scaled_dot_product_attention`), or a float32 tensor added to the scores
   * (−Infinity excludes a key; its gradient is computed when it requires grad).
   */
  mask?: Tensor | null;
  /** Lets query `i` attend only to keys `j ≤ i` (top-left aligned, as PyTorch's `is_causal`). */
  causal?: boolean;
  /** Probability of dropping an attention weight (scaled by 1/(1 − p) otherwise); default 0. */
  dropout?: number;
  /** Multiplies the scores `q·kᵀ`; default `1/√D`. */
  scale?: number;
}

const OP = 'scaledDotProductAttention';

/**
 * Scaled dot-product attention, `softmax(q·kᵀ·scale + mask) · v` over the last two dims, with
 * leading (batch, head) dims broadcast — PyTorch's `F.scaled_dot_product_attention`. On backends
 * with the `attention` primitive (WASM, WebGPU) the forward pass is one flash-attention kernel: the
 * `[Tq, Tk]` scores are never stored, so memory grows with `T`, not `T²` (dropout > 0 uses the
 * composite). A row whose keys are all masked gives NaN, as PyTorch. Gradients flow to `q`, `k`, `v`
 * and a float mask.
 * @param q queries `[..., Tq, D]`
 * @param k keys `[..., Tk, D]`
 * @param v values `[..., Tk, Dv]`
 * @returns `[..., Tq, Dv]`
 * @example
 * ```ts
 * const q = ones([1, 2, 4]);
 * const v = tensor([[[1, 2], [3, 4]]]);
 * scaledDotProductAttention(q, q, v) // [[[2, 3], [2, 3]]]
 * scaledDotProductAttention(q, q, v, { causal: true }) // [[[1, 2], [2, 3]]]
 * scaledDotProductAttention(q, q, v, { mask: tensor([true, false]) }) // [[[1, 2], [1, 2]]]
 * scaledDotProductAttention(q, ones([1, 2, 3]), v); // throws: 'scaledDotProductAttention'
 * ```
 */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): Tensor {
  const backend = backendOf(OP, q, k, v);
  if (opts === null || typeof opts !== 'object') throw new AxonError(OP, `options must be an object, got ${fmtValue(opts)}`);
  const { mask = null, causal = false, dropout = 0 } = opts;
  for (const [n, t] of [['q', q], ['k', k], ['v', v]] as const) {
    if (t.dtype !== 'float32' || t.rank < 2) throw new AxonError(OP, `${n} must be float32 of rank ≥ 2 ([..., T, D]), got ${t.dtype} ${fmtShape(t.shape)}`);
  }
  const [Tq, D] = q.shape.slice(-2) as [number, number];
  const [Tk, Dk] = k.shape.slice(-2) as [number, number];
  const [Tv, Dv] = v.shape.slice(-2) as [number, number];
  if (Dk !== D || Tv !== Tk) {
    throw new AxonError(OP, `expected q [..., Tq, D], k [..., Tk, D], v [..., Tk, Dv], got q ${fmtShape(q.shape)}, k ${fmtShape(k.shape)}, v ${fmtShape(v.shape)}`);
  }
  const batch = broadcastShapes(broadcastShapes(q.shape.slice(0, -2), k.shape.slice(0, -2), OP), v.shape.slice(0, -2), OP);
  const sShape = [...batch, Tq, Tk];
  if (mask !== null) {
    if (!(mask instanceof Tensor) || backendOf(OP, mask) !== backend) throw new AxonError(OP, `mask must be a Tensor on ${backend.name}, got ${fmtValue(mask)}`);
    const ok = (mask.dtype === 'bool' || mask.dtype === 'float32') && mask.rank <= sShape.length && mask.shape.every((d, i) => d === 1 || d === sShape[sShape.length - mask.rank + i]);
    if (!ok) throw new AxonError(OP, `mask must be bool or float32 broadcastable to the scores ${fmtShape(sShape)}, got ${mask.dtype} ${fmtShape(mask.shape)}`);
  }
  if (typeof causal !== 'boolean') throw new AxonError(OP, `causal must be a boolean, got ${fmtValue(causal)}`);
  if (typeof dropout !== 'number' || !(dropout >= 0 && dropout < 1)) throw new AxonError(OP, `dropout must be in [0, 1), got ${fmtValue(dropout)}`);
  const scale = opts.scale ?? (D > 0 ? 1 / Math.sqrt(D) : 1);
  if (typeof scale !== 'number' || !Number.isFinite(scale)) throw new AxonError(OP, `scale must be a finite number, got ${fmtValue(scale)}`);

  return failSafe(() => {
    // the additive bias: a bool mask becomes 0 / −Infinity (the mask's own size, never the scores')
    const bias = mask === null ? null : mask.dtype === 'bool' ? noGrad(() => where(mask, 0, -Infinity)) : mask;
    if (dropout > 0) {
      const s = scores(q, k, bias, scale, causal);
      const p = softmax(s);
      const keep = bernoulli(1 - dropout, p.shape);
      const pk = mul(p, keep);
      const pd = div(pk, 1 - dropout);
      try {
        return matmul(pd, v);
      } finally {
        drop(s, p, keep, pk, pd);
        if (bias !== mask && bias !== null) drop(bias);
      }
    }
    const inputs = bias !== null && bias === mask ? [q, k, v, mask] : [q, k, v];
    // the log-sum-exp rows are kept (in the op's attributes, freed with the graph's other saved
    // tensors) only when the result will need a gradient and the backend has the fused backward
    const keepLse = isGradEnabled() && inputs.some((t) => t.requiresGrad) && backend.attentionBackward !== undefined;
    const { out, lse } = noGrad(() => forward(q, k, v, bias, scale, causal, batch, Tq, Tk, Dv, keepLse));
    record('attention', inputs, out, { scale, causal, bias, lse });
    if (bias !== mask && bias !== null) drop(bias);
    if (lse !== null) drop(lse);
    return out;
  });
}

/** The scores `q·kᵀ·scale + bias`, −Infinity above the diagonal when causal (with recorded ops). */
function scores(q: Tensor, k: Tensor, bias: Tensor | null, scale: number, causal: boolean): Tensor {
  return failSafe(() => {
    const kt = transpose(k);
    const p = matmul(q, kt);
    let s = mul(p, scale);
    drop(kt, p);
    if (bias !== null) {
      const t = s.add(bias);
      drop(s);
      s = t;
    }
    if (causal) {
      const [Tq, Tk] = s.shape.slice(-2) as [number, number];
      const allowed = noGrad(() => {
        const i = unsqueeze(arange(Tq, undefined, 1, 'int32'), -1);
        const j = arange(Tk, undefined, 1, 'int32');
        const r = ge(i, j);
        drop(i, j);
        return r;
      });
      const t = where(allowed, s, -Infinity);
      drop(s, allowed);
      s = t;
    }
    return s;
  });
}

/** Broadcast strides of `t` viewed as `shape` (t's dims aligned right). */
function bstrides(t: Tensor, shape: readonly number[]): number[] {
  const off = shape.length - t.rank;
  return shape.map((d, i) => (i < off || (t.shape[i - off] === 1 && d !== 1) ? 0 : t.strides[i - off]!));
}

/** Whether dims [s, r) of (shape, strides) collapse into one stride (size-1 dims ignored). */
function merged(shape: readonly number[], strides: readonly number[], s: number, r: number): number | null {
  let stride = 0;
  let last = -1;
  for (let i = r - 1; i >= s; i--) {
    if (shape[i] === 1) continue;
    if (last === -1) stride = strides[i]!;
    else if (strides[i] !== strides[last]! * shape[last]!) return null;
    last = i;
  }
  return stride;
}

/** An operand of the per-batch loop: its broadcast shape [...batch, rows, cols], strides and storage. */
interface Operand {
  readonly shape: number[];
  readonly strides: number[];
  readonly buf: View['buf'];
  readonly offset: number;
}

function operand(t: Tensor, shape: number[]): Operand {
  return { shape, strides: bstrides(t, shape), buf: t.storage.buf, offset: t.offset };
}

/**
 * The per-outer-batch-index loop of the attention kernels: the inner batch dims [s, r) must merge
 * into one stride for every operand (q/k/v come as permuted [N, T, H, D] views, a key-padding mask as
 * [N, 1, 1, Tk]), so nothing is copied; `each(c, views)` runs once per outer index `c` with every
 * operand's [inner, rows, cols] view.
 */
function perBatch(ops: readonly Operand[], batch: readonly number[], each: (c: number, inner: number, views: View[]) => void): void {
  const r = batch.length;
  let s = 0;
  while (s < r && ops.some((o) => merged(o.shape, o.strides, s, r) === null)) s++;
  const outer = batch.slice(0, s);
  const inner = sizeOf(batch.slice(s));
  const n = sizeOf(outer);
  const view = (o: Operand, idx: number[]): View => {
    let offset = o.offset;
    for (let i = 0; i < s; i++) offset += idx[i]! * o.strides[i]!;
    const m = o.shape.length;
    return { buf: o.buf, dtype: 'float32', shape: [inner, o.shape[m - 2]!, o.shape[m - 1]!], strides: [merged(o.shape, o.strides, s, r)!, o.strides[m - 2]!, o.strides[m - 1]!], offset };
  };
  const idx = outer.map(() => 0);
  for (let c = 0; c < n; c++) {
    each(c, inner, ops.map((o) => view(o, idx)));
    for (let i = s - 1; i >= 0 && ++idx[i]! === outer[i]; i--) idx[i] = 0;
  }
}

/** Copies a contiguous block of `size` elements into `dst` at element `at`. */
function copyInto(backend: ReturnType<typeof backendOf>, src: Tensor, dst: Tensor, size: number, at: number): void {
  backend.copy({ buf: src.storage.buf, dtype: 'float32', shape: [size], strides: [1], offset: 0 }, { buf: dst.storage.buf, dtype: 'float32', shape: [size], strides: [1], offset: at });
}

/**
 * The forward pass; with `keepLse` also the log-sum-exp rows `[...batch, Tq]` the backward kernel
 * reads (only with the fused kernel: otherwise null).
 */
function forward(q: Tensor, k: Tensor, v: Tensor, bias: Tensor | null, scale: number, causal: boolean, batch: number[], Tq: number, Tk: number, Dv: number, keepLse: boolean): { out: Tensor; lse: Tensor | null } {
  const backend = backendOf(OP, q);
  if (backend.attention === undefined && Tk > 0) {
    // no fused kernel: scores, softmax and the product as three kernels ([..., Tq, Tk] materialised)
    const s = scores(q, k, bias, scale, causal);
    const lse = logSumExp(s, -1, true);
    const e = sub(s, lse);
    const p = exp(e);
    drop(s, lse, e);
    try {
      return { out: matmul(p, v), lse: null };
    } finally {
      drop(p);
    }
  }
  const out = empty(backend, [...batch, Tq, Dv], 'float32');
  if (out.size === 0) return { out, lse: null };
  if (Tk === 0 || backend.attention === undefined) {
    backend.fill(out.storage.buf, 0); // softmax over no keys, times no values: PyTorch's zeros
    return { out, lse: null };
  }
  const attention = backend.attention.bind(backend);
  const ops = [operand(q, [...batch, Tq, q.shape[q.rank - 1]!]), operand(k, [...batch, Tk, k.shape[k.rank - 1]!]), operand(v, [...batch, Tk, Dv]), ...(bias === null ? [] : [operand(bias, [...batch, Tq, Tk])])];
  const kept = keepLse ? empty(backend, [...batch, Tq], 'float32') : null;
  let lse: Tensor | null = null;
  let tmp: Tensor | null = null;
  try {
    perBatch(ops, batch, (c, inner, [qv, kv, vv, bv]) => {
      const whole = inner * Tq === kept?.size;
      lse ??= whole ? kept : empty(backend, [inner, Tq], 'float32');
      tmp ??= inner * Tq * Dv === out.size ? out : empty(backend, [inner, Tq, Dv], 'float32');
      attention(qv!, kv!, vv!, bv ?? null, scale, causal, tmp.storage.buf, lse.storage.buf);
      if (tmp !== out) copyInto(backend, tmp, out, inner * Tq * Dv, c * inner * Tq * Dv);
      if (kept !== null && lse !== kept) copyInto(backend, lse, kept, inner * Tq, c * inner * Tq);
    });
  } catch (e) {
    kept?.dispose();
    throw e;
  } finally {
    if (lse !== null && lse !== kept) (lse as Tensor).dispose();
    if (tmp !== null && tmp !== out) (tmp as Tensor).dispose();
  }
  return { out, lse: kept };
}

/**
 * @internal The gradients of `attention` (the recorded op) with the backend's fused backward kernel
 * (`Backend.attentionBackward`): `g` is the output's gradient, `out` and `lse` the forward's output
 * and log-sum-exp rows (recorded in the op's attributes), the rest the forward's operands (`bias` the
 * additive bias, not needing a gradient). Returns `[dq, dk, dv]` in the broadcast batch shape
 * (`[...batch, Tq, D]`, `[...batch, Tk, D]`, `[...batch, Tk, Dv]`; the caller sums them to the inputs'
 * shapes), or null where the kernel cannot serve: no `attentionBackward` on this backend, no
 * recorded `lse`, or grad mode on (a gradient that will itself be differentiated needs the
 * composite ops). Never materialises [.., Tq, Tk]; one kernel per outer batch index, views merged
 * as the forward's.
 * @example
 * ```ts
 * const q = ones([1, 2, 4]);
 * attentionGrad(ones([1, 2, 4]), q, q, q, null, 0.5, false, ones([1, 2, 4]), null); // null: no lse recorded
 * ```
 */
export function attentionGrad(g: Tensor, q: Tensor, k: Tensor, v: Tensor, bias: Tensor | null, scale: number, causal: boolean, out: Tensor, lse: Tensor | null): [Tensor, Tensor, Tensor] | null {
  const backend = backendOf(OP, q, k, v, g, out);
  if (backend.attentionBackward === undefined || lse === null || lse.isDisposed || isGradEnabled()) return null;
  // A decorator of the backend instance (a compile trace, the profiler) wraps the primitives it
  // knows as own properties: one that wraps `attention` but not `attentionBackward` would not see
  // (or replay) the call, so the composite runs instead of a kernel it would miss.
  const own = (m: string): boolean => Object.prototype.hasOwnProperty.call(backend, m);
  if (own('attention') && !own('attentionBackward')) return null;
  const attentionBackward = backend.attentionBackward.bind(backend);
  const [Tq, D] = q.shape.slice(-2) as [number, number];
  const Tk = k.shape[k.rank - 2]!;
  const Dv = v.shape[v.rank - 1]!;
  const batch = out.shape.slice(0, -2);
  if (g.rank !== out.rank || g.shape.some((d, i) => d !== out.shape[i]) || lse.rank !== batch.length + 1 || lse.size !== sizeOf(batch) * Tq) {
    throw new AxonError(OP, `backward: gradient ${fmtShape(g.shape)} and lse ${fmtShape(lse.shape)} do not match the output ${fmtShape(out.shape)}`);
  }
  return failSafe(() => {
    const dq = empty(backend, [...batch, Tq, D], 'float32');
    const dk = empty(backend, [...batch, Tk, D], 'float32');
    const dv = empty(backend, [...batch, Tk, Dv], 'float32');
    if (Tk === 0 || dq.size + dk.size + dv.size === 0 || sizeOf(batch) === 0) {
      for (const t of [dq, dk, dv]) if (t.size > 0) backend.fill(t.storage.buf, 0);
      return [dq, dk, dv];
    }
    if (Tq === 0) {
      for (const t of [dk, dv]) if (t.size > 0) backend.fill(t.storage.buf, 0);
      return [dq, dk, dv];
    }
    const ops = [
      operand(q, [...batch, Tq, D]),
      operand(k, [...batch, Tk, D]),
      operand(v, [...batch, Tk, Dv]),
      operand(out, [...batch, Tq, Dv]),
      operand(g, [...batch, Tq, Dv]),
      { shape: [...batch, Tq, 1], strides: [...lse.strides, 1], buf: lse.storage.buf, offset: lse.offset },
      ...(bias === null ? [] : [operand(bias, [...batch, Tq, Tk])]),
    ];
    const tmps: Tensor[] = [];
    try {
      perBatch(ops, batch, (c, inner, [qv, kv, vv, ov, gv, lv, bv]) => {
        const whole = inner === sizeOf(batch);
        if (!whole && tmps.length === 0) tmps.push(...[[inner, Tq, D], [inner, Tk, D], [inner, Tk, Dv]].map((sh) => empty(backend, sh, 'float32')));
        const [tq, tk, tv] = (whole ? [dq, dk, dv] : tmps) as [Tensor, Tensor, Tensor];
        const lse2: View = { ...lv!, shape: [inner, Tq], strides: lv!.strides.slice(0, 2) };
        attentionBackward(qv!, kv!, vv!, bv ?? null, scale, causal, ov!, gv!, lse2, tq.storage.buf, tk.storage.buf, tv.storage.buf);
        if (!whole) {
          copyInto(backend, tq, dq, tq.size, c * tq.size);
          copyInto(backend, tk, dk, tk.size, c * tk.size);
          copyInto(backend, tv, dv, tv.size, c * tv.size);
        }
      });
    } finally {
      for (const t of tmps) t.dispose();
    }
    return [dq, dk, dv];
  });
}
