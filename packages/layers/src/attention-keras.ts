/**
 * The Keras front's `MultiHeadAttention` (keras.layers.MultiHeadAttention).
 */
import { AxonError, type Tensor, arange, bernoulli, fmtShape, fmtValue, ge, logicalAnd, matmul, ne, noGrad, scaledDotProductAttention, softmax, unsqueeze, where } from '@axon/core';
import { initParameter } from './build.js';
import { getInitializer, type Initializer } from './init.js';
import { type LayerConfig, Module, reserveParameters } from './module.js';
import { compositeAll } from './recurrent.js';
import type { SymbolicShape } from './symbolic.js';
import { checkFinite, checkInt, checkTensor, optBool, optName, optionsOf } from './validate.js';

/**
 * Options of {@link KerasMultiHeadAttention} (Keras' arguments).
 * @example
 * const opts: KerasMultiHeadAttentionOptions = { numHeads: 2, keyDim: 4, outputShape: 6 };
 * new KerasMultiHeadAttention(opts).outputShape // 6
 */
export interface KerasMultiHeadAttentionOptions {
  /** Attention heads. */
  numHeads: number;
  /** Size of each head for queries and keys. */
  keyDim: number;
  /** Size of each head for values (default `keyDim`). */
  valueDim?: number;
  /** Dropout on the attention probabilities, in training mode (default 0). */
  dropout?: number;
  /** Whether the dense projections learn biases (default true). */
  useBias?: boolean;
  /** Output features (default: the query's last dimension). */
  outputShape?: number;
  /** Kernel initialiser (default `'glorotUniform'`). */
  kernelInitializer?: Initializer;
  /** Bias initialiser (default `'zeros'`). */
  biasInitializer?: Initializer;
  /** Layer name. */
  name?: string;
}

/**
 * Options of {@link KerasMultiHeadAttention.forward} (Keras' call arguments).
 * @example
 * const mha = new KerasMultiHeadAttention({ numHeads: 1, keyDim: 2 });
 * const x = randn([1, 3, 4]);
 * const opts: KerasMultiHeadAttentionCallOptions = { useCausalMask: true };
 * mha.forward(x, x, undefined, opts).shape // [1, 3, 4]
 */
export interface KerasMultiHeadAttentionCallOptions {
  /** [B, T, S] (or [T, S]): true (or nonzero) where a query MAY attend to a key (Keras' convention). */
  attentionMask?: Tensor | null;
  /** Query i attends keys j ≤ i only (combined with `attentionMask`). */
  useCausalMask?: boolean;
}

const KEYS = ['numHeads', 'keyDim', 'valueDim', 'dropout', 'useBias', 'outputShape', 'kernelInitializer', 'biasInitializer', 'name'] as const;

/**
 * Keras' `layers.MultiHeadAttention` over batch-first inputs: `call(query, value, key?)` with
 * query [B, T, dq], value [B, S, dv], key [B, S, dk] (default: value) → [B, T, outputShape].
 * Weights as Keras: `query`/`key`/`value` kernels [d, numHeads, keyDim|valueDim] with biases
 * [numHeads, keyDim|valueDim], and the `attention_output` kernel [numHeads, valueDim, out] with
 * bias [out] — here `queryKernel`, `queryBias`, `keyKernel`, `keyBias`, `valueKernel`, `valueBias`,
 * `outputKernel`, `outputBias`, built on the first call. Masked scores get −1e9 added, as Keras'
 * masked softmax (a row masked whole attends uniformly, not NaN). {@link KerasMultiHeadAttention.forward}
 * takes `attentionMask` (true = MAY attend) and `useCausalMask`;
 * {@link KerasMultiHeadAttention.forwardWithScores} also returns the scores [B, heads, T, S] (Keras'
 * `returnAttentionScores`).
 * @example
 * const mha = new KerasMultiHeadAttention({ numHeads: 2, keyDim: 4 });
 * const q = randn([2, 3, 8]);
 * const v = randn([2, 5, 6]);
 * mha.call(q, v).shape // [2, 3, 8]
 * const [out, scores] = mha.forwardWithScores(q, v, undefined, { attentionMask: ones([2, 3, 5]) });
 * scores.shape // [2, 2, 3, 5]
 * mha.queryKernel!.shape // [8, 2, 4]
 */
export class KerasMultiHeadAttention extends Module {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'KerasMultiHeadAttention';
  /** Heads. */
  readonly numHeads: number;
  /** Query/key head size. */
  readonly keyDim: number;
  /** Value head size. */
  readonly valueDim: number;
  /** Dropout on the probabilities (training only). */
  readonly dropout: number;
  /** Whether projections have biases. */
  readonly useBias: boolean;
  /** Output features (null: the query's, known once built). */
  outputShape: number | null;
  /** [dq, H, keyDim] once built. */
  queryKernel: Tensor | null = null;
  /** [H, keyDim]. */
  queryBias: Tensor | null = null;
  /** [dk, H, keyDim]. */
  keyKernel: Tensor | null = null;
  /** [H, keyDim]. */
  keyBias: Tensor | null = null;
  /** [dv, H, valueDim]. */
  valueKernel: Tensor | null = null;
  /** [H, valueDim]. */
  valueBias: Tensor | null = null;
  /** [H, valueDim, out]. */
  outputKernel: Tensor | null = null;
  /** [out]. */
  outputBias: Tensor | null = null;
  private readonly inits: { kernel: Initializer; bias: Initializer };
  private dims: [number, number, number] | null = null;

  constructor(opts: KerasMultiHeadAttentionOptions) {
    const cls = 'KerasMultiHeadAttention';
    const o = optionsOf<KerasMultiHeadAttentionOptions>(cls, opts, KEYS);
    if (opts === undefined) throw new AxonError(cls, 'expects { numHeads, keyDim }');
    const numHeads = checkInt(cls, 'numHeads', o.numHeads);
    const keyDim = checkInt(cls, 'keyDim', o.keyDim);
    const valueDim = o.valueDim === undefined || o.valueDim === null ? keyDim : checkInt(cls, 'valueDim', o.valueDim);
    const dropout = o.dropout === undefined ? 0 : checkFinite(cls, 'dropout', o.dropout, 0, 1);
    if (dropout >= 1) throw new AxonError(cls, `dropout must be in [0, 1), got ${fmtValue(o.dropout)}`);
    const useBias = optBool(cls, 'useBias', o.useBias) ?? true;
    const outputShape = o.outputShape === undefined || o.outputShape === null ? null : checkInt(cls, 'outputShape', o.outputShape);
    const kernel = o.kernelInitializer ?? 'glorotUniform';
    const bias = o.biasInitializer ?? 'zeros';
    getInitializer(kernel);
    getInitializer(bias);
    super(optName(cls, o.name));
    this.numHeads = numHeads;
    this.keyDim = keyDim;
    this.valueDim = valueDim;
    this.dropout = dropout;
    this.useBias = useBias;
    this.outputShape = outputShape;
    this.inits = { kernel, bias };
  }

  /**
   * Creates the weights for query, value and key features (done on the first call).
   * @example
   * const mha = new KerasMultiHeadAttention({ numHeads: 2, keyDim: 3, valueDim: 5 });
   * mha.build(4, 6);
   * mha.valueKernel!.shape // [6, 2, 5]
   * mha.outputKernel!.shape // [2, 5, 4]
   */
  build(queryDim: number, valueDim: number, keyDim: number = valueDim): void {
    const op = `${this.className} '${this.name}'`;
    if (this.dims !== null) {
      if (this.dims[0] !== queryDim || this.dims[1] !== valueDim || this.dims[2] !== keyDim) throw new AxonError(op, `already built for query, value, key features ${this.dims.join(', ')}, got ${queryDim}, ${valueDim}, ${keyDim}`);
      return;
    }
    for (const [n, d] of [['query features', queryDim], ['value features', valueDim], ['key features', keyDim]] as const) checkInt(op, n, d);
    const H = this.numHeads;
    const out = this.outputShape ?? queryDim;
    const shapes = [[queryDim, H, this.keyDim], [keyDim, H, this.keyDim], [valueDim, H, this.valueDim], [H, this.valueDim, out]];
    const biases = [[H, this.keyDim], [H, this.keyDim], [H, this.valueDim], [out]];
    reserveParameters(op, [...shapes, ...(this.useBias ? biases : [])]);
    const k = getInitializer(this.inits.kernel);
    const b = getInitializer(this.inits.bias);
    const names = ['query', 'key', 'value', 'output'] as const;
    try {
      names.forEach((n, i) => {
        const s = shapes[i]!;
        // Keras' EinsumDense fans: the input axes in, the output axes out
        const fanIn = n === 'output' ? H * this.valueDim : s[0]!;
        const fanOut = n === 'output' ? out : s[1]! * s[2]!;
        (this as unknown as Record<string, Tensor>)[`${n}Kernel`] = initParameter(this, `${n}Kernel`, k, s, { fanIn, fanOut });
        if (this.useBias) (this as unknown as Record<string, Tensor>)[`${n}Bias`] = initParameter(this, `${n}Bias`, b, biases[i]!, { fanIn, fanOut });
      });
    } catch (e) {
      this.dispose();
      for (const n of names) (this as unknown as Record<string, Tensor | null>)[`${n}Kernel`] = (this as unknown as Record<string, Tensor | null>)[`${n}Bias`] = null;
      throw e;
    }
    this.outputShape = out;
    this.dims = [queryDim, valueDim, keyDim];
  }

  /**
   * Attention of `query` over `value` (keys `key`, default `value`); see the class.
   * @example
   * const mha = new KerasMultiHeadAttention({ numHeads: 1, keyDim: 2 });
   * const x = randn([1, 3, 2]);
   * mha.forward(x, x, x, { attentionMask: tensor([[[true, false, false], [true, true, false], [true, true, true]]]) }).shape // [1, 3, 2]
   */
  forward(query: Tensor, value: Tensor, key?: Tensor, opts: KerasMultiHeadAttentionCallOptions & object = {}): Tensor {
    return this.run(query, value, key, opts, false)[0];
  }

  /**
   * {@link KerasMultiHeadAttention.forward} that also returns the attention scores (probabilities) [B, heads, T, S].
   * @example
   * const mha = new KerasMultiHeadAttention({ numHeads: 2, keyDim: 2 });
   * const x = randn([1, 4, 3]);
   * const [, scores] = mha.forwardWithScores(x, x, undefined, { useCausalMask: true });
   * scores.slice([0, 0, 0, 1], [1, 2, 1, 3]).sum().item() // 0
   */
  forwardWithScores(query: Tensor, value: Tensor, key?: Tensor, opts: KerasMultiHeadAttentionCallOptions & object = {}): [Tensor, Tensor] {
    const r = this.run(query, value, key, opts, true);
    return [r[0], r[1]!];
  }

  private run(query: Tensor, value: Tensor, key: Tensor | undefined, opts: unknown, scoresOut: boolean): [Tensor, Tensor | null] {
    const op = `${this.className} '${this.name}'`;
    const o = optionsOf<KerasMultiHeadAttentionCallOptions>(op, opts, ['attentionMask', 'useCausalMask']);
    checkTensor(op, 'query', query);
    checkTensor(op, 'value', value);
    if (key !== undefined && key !== null) checkTensor(op, 'key', key);
    const k0 = key ?? value;
    for (const [n, t] of [['query', query], ['value', value], ['key', k0]] as const) {
      if (t.dtype !== 'float32' || t.rank !== 3) throw new AxonError(op, `${n} must be float32 [batch, seq, features], got ${t.dtype} ${fmtShape(t.shape)}`);
    }
    const [B, T, dq] = query.shape as [number, number, number];
    const [Bv, S, dv] = value.shape as [number, number, number];
    const dk = k0.shape[2]!;
    if (Bv !== B || k0.shape[0] !== B || k0.shape[1] !== S) throw new AxonError(op, `expected query [B, T, dq], value [B, S, dv] and key [B, S, dk] with one batch size and key/value length, got query ${fmtShape(query.shape)}, value ${fmtShape(value.shape)}, key ${fmtShape(k0.shape)}`);
    const mask = o.attentionMask ?? null;
    if (mask !== null) {
      checkTensor(op, 'attentionMask', mask);
      const ok = (mask.rank === 3 && (mask.shape[0] === B || mask.shape[0] === 1) && mask.shape[1] === T && mask.shape[2] === S) || (mask.rank === 2 && mask.shape[0] === T && mask.shape[1] === S);
      if (!ok) throw new AxonError(op, `attentionMask must be [${B}, ${T}, ${S}] ([batch, query length, key length]) or [${T}, ${S}], got ${mask.dtype} ${fmtShape(mask.shape)}`);
    }
    const causal = optBool(op, 'useCausalMask', o.useCausalMask) ?? false;
    this.build(dq, dv, dk);
    const H = this.numHeads;
    const kd = this.keyDim;
    const vd = this.valueDim;
    const out = this.outputShape!;
    const dropoutOn = this.training && this.dropout > 0;
    const r = compositeAll([query, value, key, mask], (tmp) => {
      const proj = (x: Tensor, kernel: Tensor, bias: Tensor | null, d: number, L: number, hd: number): Tensor => {
        let p = tmp(matmul(x, tmp(kernel.reshape([d, H * hd]))));
        if (bias !== null) p = tmp(p.add(tmp(bias.reshape([H * hd]))));
        return tmp(tmp(p.reshape([B, L, H, hd])).permute([0, 2, 1, 3]));
      };
      const q = proj(query, this.queryKernel!, this.queryBias, dq, T, kd);
      const k = proj(k0, this.keyKernel!, this.keyBias, dk, S, kd);
      const v = proj(value, this.valueKernel!, this.valueBias, dv, S, vd);
      let allow: Tensor | null = null;
      if (mask !== null) {
        const m = mask.dtype === 'bool' ? mask : tmp(ne(mask, 0));
        allow = mask.rank === 3 ? tmp(unsqueeze(m, 1)) : m;
      }
      if (causal) {
        const c = tmp(ge(tmp(unsqueeze(tmp(arange(0, T, 1, 'int32')), -1)), tmp(arange(0, S, 1, 'int32'))));
        allow = allow === null ? c : tmp(logicalAnd(allow, c));
      }
      // Keras' masked softmax: −1e9 added where attention is not allowed
      const bias =
        allow === null
          ? null
          : tmp(
              noGrad(() => {
                const w = where(allow, 0, -1e9); // int32 from two integer scalars
                const f = w.astype('float32');
                w.dispose();
                return f;
              }),
            );
      let y: Tensor;
      let probs: Tensor | null = null;
      if (scoresOut || dropoutOn) {
        let s = tmp(matmul(tmp(q.mul(1 / Math.sqrt(kd))), tmp(k.transpose())));
        if (bias !== null) s = tmp(s.add(bias));
        probs = tmp(softmax(s, -1));
        let p = probs;
        if (dropoutOn) {
          const keepP = 1 - this.dropout;
          const m = tmp(noGrad(() => compositeAll([], (t2) => [t2(t2(bernoulli(keepP, p.shape)).mul(1 / keepP))] as const)[0]));
          p = tmp(p.mul(m));
        }
        y = tmp(matmul(p, v));
      } else {
        y = tmp(scaledDotProductAttention(q, k, v, { mask: bias, scale: 1 / Math.sqrt(kd) }));
      }
      const merged = tmp(tmp(y.permute([0, 2, 1, 3])).reshape([B, T, H * vd]));
      let res = tmp(matmul(merged, tmp(this.outputKernel!.reshape([H * vd, out]))));
      if (this.outputBias !== null) res = tmp(res.add(this.outputBias));
      return (scoresOut ? [res, probs!] : [res]) as readonly Tensor[];
    });
    return [r[0]!, r[1] ?? null];
  }

  override computeOutputShape(q: SymbolicShape, v?: SymbolicShape, k?: SymbolicShape): SymbolicShape {
    const dq = q[q.length - 1];
    const dv = v?.[v.length - 1];
    if (typeof dq === 'number' && typeof dv === 'number') this.build(dq, dv, (k?.[k.length - 1] as number | undefined) ?? dv);
    return [...q.slice(0, -1), this.outputShape ?? dq ?? null];
  }

  override getConfig(): LayerConfig {
    const c: Record<string, LayerConfig[string]> = { numHeads: this.numHeads, keyDim: this.keyDim, valueDim: this.valueDim, dropout: this.dropout, useBias: this.useBias, outputShape: this.outputShape };
    for (const [n, v] of [['kernelInitializer', this.inits.kernel], ['biasInitializer', this.inits.bias]] as const) if (typeof v === 'string') c[n] = v;
    if (this.dims !== null) c['inputDims'] = [...this.dims];
    return c;
  }

  /**
   * Rebuilds the layer (built when its config records the input features).
   * @example KerasMultiHeadAttention.fromConfig(new KerasMultiHeadAttention({ numHeads: 2, keyDim: 3 }).getConfig(), 'a').numHeads // 2
   */
  static fromConfig(c: LayerConfig, name: string): KerasMultiHeadAttention {
    const m = new KerasMultiHeadAttention({
      numHeads: c['numHeads'] as number,
      keyDim: c['keyDim'] as number,
      valueDim: c['valueDim'] as number,
      dropout: (c['dropout'] as number | undefined) ?? 0,
      useBias: c['useBias'] !== false,
      ...(typeof c['outputShape'] === 'number' ? { outputShape: c['outputShape'] } : {}),
      ...(typeof c['kernelInitializer'] === 'string' ? { kernelInitializer: c['kernelInitializer'] as Initializer } : {}),
      ...(typeof c['biasInitializer'] === 'string' ? { biasInitializer: c['biasInitializer'] as Initializer } : {}),
      name,
    });
    const d = c['inputDims'];
    if (Array.isArray(d) && d.length === 3 && d.every((v) => typeof v === 'number')) m.build(d[0] as number, d[1] as number, d[2] as number);
    return m;
  }
}

