import type { View } from '../backend.js';
import { failSafe, noGrad, record } from '../engine.js';
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
    const out = noGrad(() => forward(q, k, v, bias, scale, causal, batch, Tq, Tk, Dv));
    const inputs = bias !== null && bias === mask ? [q, k, v, mask] : [q, k, v];
    record('attention', inputs, out, { scale, causal, bias });
    if (bias !== mask && bias !== null) drop(bias);
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

function forward(q: Tensor, k: Tensor, v: Tensor, bias: Tensor | null, scale: number, causal: boolean, batch: number[], Tq: number, Tk: number, Dv: number): Tensor {
  const backend = backendOf(OP, q);
  if (backend.attention === undefined && Tk > 0) {
    // no fused kernel: scores, softmax and the product as three kernels ([..., Tq, Tk] materialised)
    const s = scores(q, k, bias, scale, causal);
    const lse = logSumExp(s, -1, true);
    const e = sub(s, lse);
    const p = exp(e);
    drop(s, lse, e);
    try {
      return matmul(p, v);
    } finally {
      drop(p);
    }
  }
  const out = empty(backend, [...batch, Tq, Dv], 'float32');
  if (out.size === 0) return out;
  if (Tk === 0 || backend.attention === undefined) {
    backend.fill(out.storage.buf, 0); // softmax over no keys, times no values: PyTorch's zeros
    return out;
  }
  // One kernel per outer batch index: the inner batch dims must merge into one stride for every
  // operand (q/k/v come as permuted [N, T, H, D] views, a key-padding mask as [N, 1, 1, Tk]), so
  // nothing is copied and no [.., Tq, Tk] buffer exists.
  const r = batch.length;
  const ops = [
    { t: q, shape: [...batch, Tq, q.shape[q.rank - 1]!] },
    { t: k, shape: [...batch, Tk, k.shape[k.rank - 1]!] },
    { t: v, shape: [...batch, Tk, Dv] },
    ...(bias === null ? [] : [{ t: bias, shape: [...batch, Tq, Tk] }]),
  ].map((o) => ({ ...o, strides: bstrides(o.t, o.shape), buf: o.t.storage.buf, offset: o.t.offset }));
  let s = 0;
  while (s < r && ops.some((o) => merged(o.shape, o.strides, s, r) === null)) s++;
  const outer = batch.slice(0, s);
  const inner = sizeOf(batch.slice(s));
  const n = sizeOf(outer);
  const lse = empty(backend, [inner, Tq], 'float32');
  const tmp = n === 1 ? out : empty(backend, [inner, Tq, Dv], 'float32');
  const views = (o: (typeof ops)[number], idx: number[]): View => {
    let offset = o.offset;
    for (let i = 0; i < s; i++) offset += idx[i]! * o.strides[i]!;
    const m = o.shape.length;
    return { buf: o.buf, dtype: 'float32', shape: [inner, o.shape[m - 2]!, o.shape[m - 1]!], strides: [merged(o.shape, o.strides, s, r)!, o.strides[m - 2]!, o.strides[m - 1]!], offset };
  };
  try {
    const idx = outer.map(() => 0);
    for (let c = 0; c < n; c++) {
      const [qv, kv, vv, bv] = ops.map((o) => views(o, idx)) as [View, View, View, View | undefined];
      backend.attention(qv, kv, vv, bv ?? null, scale, causal, tmp.storage.buf, lse.storage.buf);
      if (tmp !== out) {
        const size = inner * Tq * Dv;
        backend.copy({ buf: tmp.storage.buf, dtype: 'float32', shape: [size], strides: [1], offset: 0 }, { buf: out.storage.buf, dtype: 'float32', shape: [size], strides: [1], offset: c * size });
      }
      for (let i = s - 1; i >= 0 && ++idx[i]! === outer[i]; i--) idx[i] = 0;
    }
  } finally {
    lse.dispose();
    if (tmp !== out) tmp.dispose();
  }
  return out;
}
