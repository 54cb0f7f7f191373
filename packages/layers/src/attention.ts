/**
 * Attention for the PyTorch front: `MultiheadAttention` (torch.nn.MultiheadAttention 1.13's
 * parameters, masks and outputs) and the `KVCache` it appends to during generation.
 */
import {
  AxonError,
  type Tensor,
  arange,
  bernoulli,
  concat,
  fmtShape,
  fmtValue,
  ge,
  keep,
  logicalAnd,
  logicalNot,
  matmul,
  noGrad,
  scaledDotProductAttention,
  softmax,
  tidy,
  unsqueeze,
  where,
  zeros,
} from '@axon/core';
import { allocating } from './build.js';
import { glorotUniform } from './init.js';
import { Linear } from './layers.js';
import { type LayerConfig, Module, reserveParameters } from './module.js';
import { compositeAll } from './recurrent.js';
import { checkFinite, checkInt, checkTensor, optBool, optName, optionsOf } from './validate.js';

/**
 * Past keys and values of one attention layer, for generation: each forward given the cache
 * appends its new keys/values (`[B, heads, S, headDim]`) and attends over all of them, so the
 * t-th token costs O(t) instead of a re-run of the whole prefix. The cache holds detached copies
 * (no gradient flows through it: it is for inference) and owns them: {@link KVCache.dispose} (or
 * {@link KVCache.reset}) frees them.
 * @example
 * const mha = new MultiheadAttention(8, 2, { batchFirst: true });
 * const cache = new KVCache();
 * const x = randn([1, 3, 8]);
 * const [full] = mha.forward(x, x, x, { isCausal: true, needWeights: false });
 * // the same three positions one at a time through the cache
 * const steps = [0, 1, 2].map((t) => {
 *   const xt = x.slice([0, t, 0], [1, 1, 8]);
 *   return mha.forward(xt, xt, xt, { cache, isCausal: true, needWeights: false })[0];
 * });
 * cache.length // 3
 * concat(steps, 1).sub(full).abs().max().item() < 1e-5 // true
 * cache.dispose();
 */
export class KVCache {
  /** Cached keys `[B, heads, S, headDim]` (null before the first forward). */
  keys: Tensor | null = null;
  /** Cached values `[B, heads, S, headDimV]`. */
  values: Tensor | null = null;

  /**
   * How many positions the cache holds.
   * @example new KVCache().length // 0
   */
  get length(): number {
    return this.keys === null ? 0 : this.keys.shape[2]!;
  }

  /**
   * @internal Appends `k`, `v` ([B, H, S, hd]); returns the full keys and values (the cache's own tensors).
   */
  append(k: Tensor, v: Tensor): [Tensor, Tensor] {
    const op = 'KVCache';
    if (this.keys !== null) {
      const [B, H, , hd] = this.keys.shape;
      if (k.shape[0] !== B || k.shape[1] !== H || k.shape[3] !== hd || v.shape[3] !== this.values!.shape[3]) {
        throw new AxonError(op, `new keys ${fmtShape(k.shape)} / values ${fmtShape(v.shape)} do not continue the cached ${fmtShape(this.keys.shape)} / ${fmtShape(this.values!.shape)} (same batch, heads and head size expected)`);
      }
    }
    // without gradients: the cache holds values, not graph nodes
    const [nk, nv] = noGrad(() => {
      const a = this.keys === null ? k.clone() : concat([this.keys, k], 2);
      try {
        return [a, this.values === null ? v.clone() : concat([this.values, v], 2)] as const;
      } catch (e) {
        a.dispose();
        throw e;
      }
    });
    this.keys?.dispose();
    this.values?.dispose();
    this.keys = keep(nk);
    this.values = keep(nv);
    return [nk, nv];
  }

  /**
   * Frees the cached tensors and empties the cache (it can be reused for a new sequence).
   * @example
   * const c = new KVCache();
   * c.reset();
   * c.length // 0
   */
  reset(): void {
    this.keys?.dispose();
    this.values?.dispose();
    this.keys = null;
    this.values = null;
  }

  /**
   * Frees the cached tensors (same as {@link KVCache.reset}).
   * @example new KVCache().dispose();
   */
  dispose(): void {
    this.reset();
  }
}

/**
 * Options of {@link MultiheadAttention} (PyTorch's arguments after `embedDim`, `numHeads`).
 * @example
 * const opts: MultiheadAttentionOptions = { batchFirst: true, kdim: 6, vdim: 4 };
 * Object.keys(new MultiheadAttention(8, 2, opts).stateDict()) // ['q_proj_weight', 'k_proj_weight', 'v_proj_weight', 'in_proj_bias', 'out_proj.weight', 'out_proj.bias']
 */
export interface MultiheadAttentionOptions {
  /** Dropout on the attention weights, in training mode (default 0). */
  dropout?: number;
  /** Whether the projections learn biases (default true). */
  bias?: boolean;
  /** Features of the keys (default `embedDim`). */
  kdim?: number;
  /** Features of the values (default `embedDim`). */
  vdim?: number;
  /** Inputs and output as [batch, seq, features] instead of [seq, batch, features] (default false). */
  batchFirst?: boolean;
  /** Layer name. */
  name?: string;
}

/**
 * Options of {@link MultiheadAttention.forward} (PyTorch's keyword arguments).
 * @example
 * const mha = new MultiheadAttention(4, 1);
 * const x = randn([3, 2, 4]); // [seq, batch, features]
 * const opts: MultiheadAttentionForwardOptions = { keyPaddingMask: tensor([[false, false, true], [false, false, false]]) };
 * const [out, w] = mha.forward(x, x, x, opts);
 * w!.shape // [2, 3, 3]
 */
export interface MultiheadAttentionForwardOptions {
  /**
   * [B, S] (unbatched: [S]): a bool mask true where a key is padding (NOT attended, PyTorch's
   * convention), or a float32 mask added to the scores.
   */
  keyPaddingMask?: Tensor | null;
  /** Whether to return the attention weights (default true; false takes the fused attention kernel). */
  needWeights?: boolean;
  /**
   * [L, S] or [B·heads, L, S] (unbatched: [heads, L, S]): bool true where attention is NOT
   * allowed, or float32 added to the scores. With a cache, S counts the cached keys too.
   */
  attnMask?: Tensor | null;
  /** Average the returned weights over the heads (default true): [B, L, S]; else [B, heads, L, S]. */
  averageAttnWeights?: boolean;
  /**
   * Applies the causal mask (query i attends keys j ≤ i; with a cache holding P positions,
   * j ≤ P + i), together with `attnMask` when one is given.
   */
  isCausal?: boolean;
  /** A {@link KVCache}: the new keys/values are appended to it and attention runs over all of them. */
  cache?: KVCache | null;
}

const FORWARD_KEYS = ['keyPaddingMask', 'needWeights', 'attnMask', 'averageAttnWeights', 'isCausal', 'cache'] as const;

/**
 * PyTorch's `nn.MultiheadAttention`: `forward(query, key, value, opts)` returns
 * `[output, weights | null]` with PyTorch 1.13's shapes, mask conventions (bool masks true where
 * attention is NOT allowed, float masks added) and parameters: `in_proj_weight` [3E, E] (or
 * `q_proj_weight`, `k_proj_weight`, `v_proj_weight` when `kdim`/`vdim` differ from `embedDim`),
 * `in_proj_bias` [3E], `out_proj` (a {@link Linear}), initialised as PyTorch (Xavier-uniform
 * projections, zero biases). With `needWeights: false` the heads are permuted views of the
 * projections and core's `scaledDotProductAttention` (one flash-attention kernel) runs them;
 * with `needWeights: true` the weights are computed explicitly. Give `cache` (a {@link KVCache})
 * to generate token by token.
 * @example
 * const mha = new MultiheadAttention(8, 2, { batchFirst: true });
 * const x = randn([2, 5, 8]);
 * const [y, w] = mha.forward(x, x, x, { isCausal: true });
 * y.shape // [2, 5, 8]
 * w!.shape // [2, 5, 5]
 * const [y2, none] = mha.forward(x, x, x, { isCausal: true, needWeights: false });
 * none // null
 * y2.sub(y).abs().max().item() < 1e-5 // true
 */
export class MultiheadAttention extends Module<[Tensor, Tensor | null]> {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'MultiheadAttention';
  /** Model width E. */
  readonly embedDim: number;
  /** Number of heads (E must be a multiple of it). */
  readonly numHeads: number;
  /** E / numHeads. */
  readonly headDim: number;
  /** Key features. */
  readonly kdim: number;
  /** Value features. */
  readonly vdim: number;
  /** Dropout on the attention weights (training only). */
  readonly dropout: number;
  /** Whether inputs are [batch, seq, features]. */
  readonly batchFirst: boolean;
  /** Whether q, k and v share `in_proj_weight` (kdim = vdim = embedDim). */
  readonly qkvSameEmbedDim: boolean;
  /** [3E, E] when {@link MultiheadAttention.qkvSameEmbedDim}. */
  in_proj_weight: Tensor | null = null;
  /** [E, E] otherwise. */
  q_proj_weight: Tensor | null = null;
  /** [E, kdim] otherwise. */
  k_proj_weight: Tensor | null = null;
  /** [E, vdim] otherwise. */
  v_proj_weight: Tensor | null = null;
  /** [3E] or null. */
  in_proj_bias: Tensor | null = null;
  /** The output projection. */
  out_proj: Linear;

  constructor(embedDim: number, numHeads: number, opts: MultiheadAttentionOptions = {}) {
    const cls = 'MultiheadAttention';
    const o = optionsOf<MultiheadAttentionOptions>(cls, opts, ['dropout', 'bias', 'kdim', 'vdim', 'batchFirst', 'name']);
    const E = checkInt(cls, 'embedDim', embedDim);
    const H = checkInt(cls, 'numHeads', numHeads);
    if (E % H !== 0) throw new AxonError(cls, `embedDim must be divisible by numHeads, got embedDim ${E} and numHeads ${H}`);
    const kdim = o.kdim === undefined || o.kdim === null ? E : checkInt(cls, 'kdim', o.kdim);
    const vdim = o.vdim === undefined || o.vdim === null ? E : checkInt(cls, 'vdim', o.vdim);
    const dropout = o.dropout === undefined ? 0 : checkFinite(cls, 'dropout', o.dropout, 0, 1);
    if (dropout >= 1) throw new AxonError(cls, `dropout must be in [0, 1), got ${fmtValue(o.dropout)}`);
    const bias = optBool(cls, 'bias', o.bias) ?? true;
    const batchFirst = optBool(cls, 'batchFirst', o.batchFirst) ?? false;
    super(optName(cls, o.name));
    this.embedDim = E;
    this.numHeads = H;
    this.headDim = E / H;
    this.kdim = kdim;
    this.vdim = vdim;
    this.dropout = dropout;
    this.batchFirst = batchFirst;
    this.qkvSameEmbedDim = kdim === E && vdim === E;
    const same = this.qkvSameEmbedDim;
    // out_proj (a Linear) reserves its own
    reserveParameters(`${cls} '${this.name}'`, [...(same ? [[3 * E, E]] : [[E, E], [E, kdim], [E, vdim]]), ...(bias ? [[3 * E]] : [])]);
    this.out_proj = null as unknown as Linear;
    allocating(this, () => {
      if (same) this.in_proj_weight = this.addParameter('in_proj_weight', () => glorotUniform([3 * E, E]));
      else {
        this.q_proj_weight = this.addParameter('q_proj_weight', () => glorotUniform([E, E]));
        this.k_proj_weight = this.addParameter('k_proj_weight', () => glorotUniform([E, kdim]));
        this.v_proj_weight = this.addParameter('v_proj_weight', () => glorotUniform([E, vdim]));
      }
      if (bias) this.in_proj_bias = this.addParameter('in_proj_bias', () => zeros([3 * E]));
      this.out_proj = new Linear(E, E, { bias });
      if (bias) tidy(() => noGrad(() => void this.out_proj.bias!.assign(zeros([E]))));
    });
  }

  /**
   * Attention of `query` over `key`/`value`; returns `[output, weights]` (weights null when
   * `needWeights` is false). Shapes (batchFirst false): query [L, B, E], key [S, B, kdim], value
   * [S, B, vdim] → output [L, B, E], weights [B, L, S] (averaged) or [B, heads, L, S]; batchFirst
   * puts the batch first; unbatched inputs ([L, E], …) give [L, E] and [L, S] / [heads, L, S].
   * @example
   * const mha = new MultiheadAttention(4, 2);
   * const q = randn([3, 4]); // unbatched [L, E]
   * const [out, w] = mha.forward(q, q, q, { attnMask: tensor([[false, true, true], [false, false, true], [false, false, false]]) });
   * out.shape // [3, 4]
   * w!.slice([0, 1], [1, 2]).sum().item() // 0
   */
  forward(query: Tensor, key: Tensor, value: Tensor, opts: MultiheadAttentionForwardOptions & object = {}): [Tensor, Tensor | null] {
    const op = `${this.className} '${this.name}'`;
    const o = optionsOf<MultiheadAttentionForwardOptions>(op, opts, FORWARD_KEYS);
    checkTensor(op, 'query', query);
    checkTensor(op, 'key', key);
    checkTensor(op, 'value', value);
    for (const [n, t] of [['query', query], ['key', key], ['value', value]] as const) {
      if (t.dtype !== 'float32') throw new AxonError(op, `${n} must be float32, got ${t.dtype} ${fmtShape(t.shape)}`);
    }
    const E = this.embedDim;
    const H = this.numHeads;
    const hd = this.headDim;
    const batched = query.rank === 3;
    const layout = batched ? (this.batchFirst ? '[batch, seq, features]' : '[seq, batch, features]') : '[seq, features]';
    if ((query.rank !== 2 && query.rank !== 3) || key.rank !== query.rank || value.rank !== query.rank) {
      throw new AxonError(op, `expects query, key and value of the same rank, 3 (${this.batchFirst ? 'batchFirst: [batch, seq, features]' : '[seq, batch, features]'}) or 2 (unbatched [seq, features]), got query ${fmtShape(query.shape)}, key ${fmtShape(key.shape)}, value ${fmtShape(value.shape)}`);
    }
    const bAx = this.batchFirst ? 0 : 1;
    const sAx = batched ? 1 - bAx : 0;
    const B = batched ? query.shape[bAx]! : 1;
    const L = query.shape[sAx]!;
    const S = key.shape[sAx]!;
    const bad =
      query.shape[query.rank - 1] !== E ||
      key.shape[key.rank - 1] !== this.kdim ||
      value.shape[value.rank - 1] !== this.vdim ||
      value.shape[sAx] !== S ||
      (batched && (key.shape[bAx] !== B || value.shape[bAx] !== B));
    if (bad) {
      throw new AxonError(op, `expected query ${layout} with ${E} features, key with ${this.kdim} and value with ${this.vdim}, key and value of the same length and one batch size; got query ${fmtShape(query.shape)}, key ${fmtShape(key.shape)}, value ${fmtShape(value.shape)}`);
    }
    const needWeights = optBool(op, 'needWeights', o.needWeights) ?? true;
    const average = optBool(op, 'averageAttnWeights', o.averageAttnWeights) ?? true;
    const isCausal = optBool(op, 'isCausal', o.isCausal) ?? false;
    const cache = o.cache ?? null;
    if (cache !== null && !(cache instanceof KVCache)) throw new AxonError(op, `cache must be a KVCache, got ${fmtValue(cache)}`);
    const past = cache === null ? 0 : cache.length;
    if (cache !== null && past > 0 && cache.keys!.shape[0] !== B) throw new AxonError(op, `the cache holds batch ${cache.keys!.shape[0]}, the input has batch ${B}`);
    const St = past + S;
    const attnMask = o.attnMask ?? null;
    const kpm = o.keyPaddingMask ?? null;
    if (attnMask !== null) {
      checkTensor(op, 'attnMask', attnMask);
      const ok3 = batched ? [B * H, L, St] : [H, L, St];
      const okShape = (attnMask.rank === 2 && attnMask.shape[0] === L && attnMask.shape[1] === St) || (attnMask.rank === 3 && attnMask.shape.every((d, i) => d === ok3[i]));
      if ((attnMask.dtype !== 'bool' && attnMask.dtype !== 'float32') || !okShape) {
        throw new AxonError(op, `attnMask must be bool or float32 ${fmtShape([L, St])} or ${fmtShape(ok3)} (${batched ? 'batch·heads' : 'heads'}, target length, source length${past ? ' counting the cached keys' : ''}), got ${attnMask.dtype} ${fmtShape(attnMask.shape)}`);
      }
    }
    if (kpm !== null) {
      checkTensor(op, 'keyPaddingMask', kpm);
      const want = batched ? [B, St] : [St];
      if ((kpm.dtype !== 'bool' && kpm.dtype !== 'float32') || kpm.rank !== want.length || kpm.shape.some((d, i) => d !== want[i])) {
        throw new AxonError(op, `keyPaddingMask must be bool or float32 ${fmtShape(want)}, got ${kpm.dtype} ${fmtShape(kpm.shape)}`);
      }
    }
    const dropoutOn = this.training && this.dropout > 0;
    const selfAttn = query === key && key === value && this.qkvSameEmbedDim;
    const r = compositeAll([query, key, value, attnMask, kpm], (tmp) => {
      // batch-first [B, T, F] views
      const bf = (x: Tensor, T: number, F: number): Tensor => (batched ? (this.batchFirst ? x : tmp(x.permute([1, 0, 2]))) : tmp(x.reshape([1, T, F])));
      const heads = (p: Tensor, T: number): Tensor => tmp(tmp(p.reshape([B, T, H, hd])).permute([0, 2, 1, 3]));
      const b = this.in_proj_bias;
      const bslice = (i: number): Tensor | null => (b === null ? null : tmp(b.slice([i * E], [E])));
      let q: Tensor;
      let k: Tensor;
      let v: Tensor;
      if (selfAttn) {
        // one projection: [B, L, 3E] → [3, B, H, L, hd]; q, k, v are views of it
        let p = tmp(matmul(bf(query, L, E), tmp(this.in_proj_weight!.T)));
        if (b !== null) p = tmp(p.add(b));
        const qkv = tmp(tmp(p.reshape([B, L, 3, H, hd])).permute([2, 0, 3, 1, 4]));
        [q, k, v] = [0, 1, 2].map((i) => tmp(tmp(qkv.slice([i, 0, 0, 0, 0], [1, B, H, L, hd])).squeeze(0))) as [Tensor, Tensor, Tensor];
      } else {
        const w = (i: number, F: number): Tensor =>
          this.qkvSameEmbedDim ? tmp(this.in_proj_weight!.slice([i * E, 0], [E, F])) : [this.q_proj_weight, this.k_proj_weight, this.v_proj_weight][i]!;
        const proj = (x: Tensor, T: number, F: number, i: number): Tensor => {
          let p = tmp(matmul(bf(x, T, F), tmp(w(i, F).T)));
          const bi = bslice(i);
          if (bi !== null) p = tmp(p.add(bi));
          return heads(p, T);
        };
        q = proj(query, L, E, 0);
        k = proj(key, S, this.kdim, 1);
        v = proj(value, S, this.vdim, 2);
      }
      if (cache !== null) [k, v] = cache.append(k, v);
      // masks: bool "may attend" parts and float parts, each broadcastable to [B, H, L, St]
      const allow: Tensor[] = [];
      const add: Tensor[] = [];
      if (attnMask !== null) {
        const m = attnMask.rank === 2 ? attnMask : tmp(attnMask.reshape([B, H, L, St]));
        if (m.dtype === 'bool') allow.push(tmp(logicalNot(m)));
        else add.push(m);
      }
      if (kpm !== null) {
        const m = tmp(kpm.reshape([B, 1, 1, St]));
        if (m.dtype === 'bool') allow.push(tmp(logicalNot(m)));
        else add.push(m);
      }
      let causalFlag = false;
      if (isCausal) {
        if (past === 0) causalFlag = true;
        else {
          // bottom-right aligned after the cached positions: key j ≤ past + i
          const i = tmp(unsqueeze(tmp(arange(past, past + L, 1, 'int32')), -1));
          const j = tmp(arange(0, St, 1, 'int32'));
          allow.push(tmp(ge(i, j)));
        }
      }
      let maskBool: Tensor | null = null;
      for (const a of allow) maskBool = maskBool === null ? a : tmp(logicalAnd(maskBool, a));
      let bias: Tensor | null = null;
      for (const a of add) bias = bias === null ? a : tmp(bias.add(a));
      if (bias !== null && maskBool !== null) bias = tmp(where(maskBool, bias, -Infinity));
      const mask = bias ?? maskBool;
      let out: Tensor;
      let weights: Tensor | null = null;
      if (needWeights || dropoutOn) {
        let s = tmp(matmul(tmp(q.mul(1 / Math.sqrt(hd))), tmp(k.transpose())));
        if (mask !== null) s = mask.dtype === 'bool' ? tmp(where(mask, s, -Infinity)) : tmp(s.add(mask));
        if (causalFlag) {
          const i = tmp(unsqueeze(tmp(arange(0, L, 1, 'int32')), -1));
          const j = tmp(arange(0, St, 1, 'int32'));
          s = tmp(where(tmp(ge(i, j)), s, -Infinity));
        }
        let p = tmp(softmax(s, -1));
        if (dropoutOn) {
          const keepP = 1 - this.dropout;
          const m = tmp(noGrad(() => compositeAll([], (t2) => [t2(t2(bernoulli(keepP, p.shape)).mul(1 / keepP))] as const)[0]));
          p = tmp(p.mul(m));
        }
        out = tmp(matmul(p, v));
        if (needWeights) {
          weights = average ? tmp(p.mean(1)) : p;
          if (!batched) weights = tmp(weights.squeeze(0));
        }
      } else {
        out = tmp(scaledDotProductAttention(q, k, v, { mask, causal: causalFlag }));
      }
      const y = tmp(tmp(out.permute([0, 2, 1, 3])).reshape([B, L, E]));
      let res = tmp(this.out_proj.forward(y));
      res = batched ? (this.batchFirst ? res : tmp(res.permute([1, 0, 2]))) : tmp(res.reshape([L, E]));
      return (weights === null ? [res] : [res, weights]) as readonly Tensor[];
    });
    return [r[0]!, r[1] ?? null];
  }

  override getConfig(): LayerConfig {
    return {
      embedDim: this.embedDim,
      numHeads: this.numHeads,
      dropout: this.dropout,
      bias: this.in_proj_bias !== null,
      kdim: this.kdim,
      vdim: this.vdim,
      batchFirst: this.batchFirst,
    };
  }

  /**
   * Rebuilds a layer from {@link MultiheadAttention.getConfig}.
   * @example MultiheadAttention.fromConfig(new MultiheadAttention(8, 4, { kdim: 3 }).getConfig(), 'a').kdim // 3
   */
  static fromConfig(c: LayerConfig, name: string): MultiheadAttention {
    return new MultiheadAttention(c['embedDim'] as number, c['numHeads'] as number, {
      dropout: (c['dropout'] as number | undefined) ?? 0,
      bias: c['bias'] !== false,
      ...(typeof c['kdim'] === 'number' ? { kdim: c['kdim'] } : {}),
      ...(typeof c['vdim'] === 'number' ? { vdim: c['vdim'] } : {}),
      batchFirst: c['batchFirst'] === true,
      name,
    });
  }
}

