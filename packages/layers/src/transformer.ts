/**
 * Transformer layers of the PyTorch front (torch.nn 1.13's names and semantics):
 * `TransformerEncoderLayer`, `TransformerDecoderLayer`, `TransformerEncoder`.
 */
import { AxonError, type Tensor, fmtValue, gelu, relu } from '@axon/core';
import { type KVCache, MultiheadAttention } from './attention.js';
import { allocating } from './build.js';
import { Dropout, Linear } from './layers.js';
import { type LayerConfig, Module } from './module.js';
import { LayerNorm } from './normalization.js';
import { compositeAll } from './recurrent.js';
import { checkFinite, checkInt, checkTensor, optBool, optName, optionsOf } from './validate.js';

/**
 * Options of {@link TransformerEncoderLayer} and {@link TransformerDecoderLayer}.
 * @example
 * const opts: TransformerLayerOptions = { dimFeedforward: 64, dropout: 0, activation: 'gelu', batchFirst: true, normFirst: true };
 * new TransformerEncoderLayer(16, 4, opts).linear1.outFeatures // 64
 */
export interface TransformerLayerOptions {
  /** Width of the feed-forward block (default 2048). */
  dimFeedforward?: number;
  /** Dropout rate of the attention weights, the feed-forward block and the residual branches (default 0.1). */
  dropout?: number;
  /** The feed-forward activation: `'relu'` (default) or `'gelu'` (exact erf form). */
  activation?: 'relu' | 'gelu';
  /** LayerNorm epsilon (default 1e-5). */
  layerNormEps?: number;
  /** Inputs as [batch, seq, features] (default false: [seq, batch, features]). */
  batchFirst?: boolean;
  /** Pre-norm (LayerNorm before each block, default false: after the residual sum). */
  normFirst?: boolean;
  /** Layer name. */
  name?: string;
}

const LAYER_KEYS = ['dimFeedforward', 'dropout', 'activation', 'layerNormEps', 'batchFirst', 'normFirst', 'name'] as const;

interface LayerSpec {
  readonly dimFeedforward: number;
  readonly dropout: number;
  readonly activation: 'relu' | 'gelu';
  readonly layerNormEps: number;
  readonly batchFirst: boolean;
  readonly normFirst: boolean;
  readonly name: string | undefined;
}

function layerSpec(cls: string, opts: unknown): LayerSpec {
  const o = optionsOf<TransformerLayerOptions>(cls, opts, LAYER_KEYS);
  const dropout = o.dropout === undefined ? 0.1 : checkFinite(cls, 'dropout', o.dropout, 0, 1);
  if (dropout >= 1) throw new AxonError(cls, `dropout must be in [0, 1), got ${fmtValue(o.dropout)}`);
  const activation = o.activation ?? 'relu';
  if (activation !== 'relu' && activation !== 'gelu') throw new AxonError(cls, `activation must be 'relu' or 'gelu', got ${fmtValue(o.activation)}`);
  const layerNormEps = o.layerNormEps === undefined ? 1e-5 : checkFinite(cls, 'layerNormEps', o.layerNormEps, 0);
  if (!(layerNormEps > 0)) throw new AxonError(cls, `layerNormEps must be > 0, got ${fmtValue(o.layerNormEps)}`);
  return {
    dimFeedforward: o.dimFeedforward === undefined ? 2048 : checkInt(cls, 'dimFeedforward', o.dimFeedforward),
    dropout,
    activation,
    layerNormEps,
    batchFirst: optBool(cls, 'batchFirst', o.batchFirst) ?? false,
    normFirst: optBool(cls, 'normFirst', o.normFirst) ?? false,
    name: optName(cls, o.name),
  };
}

function specConfig(m: { dModel: number; nhead: number; spec: LayerSpec }): LayerConfig {
  const s = m.spec;
  return { dModel: m.dModel, nhead: m.nhead, dimFeedforward: s.dimFeedforward, dropout: s.dropout, activation: s.activation, layerNormEps: s.layerNormEps, batchFirst: s.batchFirst, normFirst: s.normFirst };
}

function specFromConfig(c: LayerConfig, name: string): TransformerLayerOptions {
  return {
    dimFeedforward: c['dimFeedforward'] as number,
    dropout: c['dropout'] as number,
    activation: c['activation'] as 'relu',
    layerNormEps: c['layerNormEps'] as number,
    batchFirst: c['batchFirst'] === true,
    normFirst: c['normFirst'] === true,
    name,
  };
}

/**
 * Options of {@link TransformerEncoderLayer.forward} (PyTorch's `src_mask`, `src_key_padding_mask`,
 * `is_causal`; masks as {@link MultiheadAttention}'s: bool true = NOT attended, float added).
 * @example
 * const layer = new TransformerEncoderLayer(8, 2, { dimFeedforward: 16, batchFirst: true });
 * const opts: TransformerEncoderForwardOptions = { isCausal: true };
 * layer.forward(randn([2, 5, 8]), opts).shape // [2, 5, 8]
 */
export interface TransformerEncoderForwardOptions {
  /** [L, L] or [B·heads, L, L] attention mask. */
  srcMask?: Tensor | null;
  /** [B, L] padding mask. */
  srcKeyPaddingMask?: Tensor | null;
  /** Causal self-attention. */
  isCausal?: boolean;
  /** A {@link KVCache} of the self-attention (generation). */
  cache?: KVCache | null;
}

/**
 * PyTorch's `nn.TransformerEncoderLayer`: self-attention (`self_attn`, a
 * {@link MultiheadAttention}) and a feed-forward block (`linear1` → activation → `dropout` →
 * `linear2`), each in a residual branch (`dropout1`, `dropout2`) with a LayerNorm (`norm1`,
 * `norm2`) after the sum, or before the block with `normFirst`. Submodule and state-dict names
 * are PyTorch's, so `loadStateDict` takes a PyTorch state dict as is.
 * @example
 * const layer = new TransformerEncoderLayer(16, 4, { dimFeedforward: 32, dropout: 0 });
 * Object.keys(layer.stateDict()).slice(0, 4) // ['self_attn.in_proj_weight', 'self_attn.in_proj_bias', 'self_attn.out_proj.weight', 'self_attn.out_proj.bias']
 * layer.forward(randn([7, 2, 16])).shape // [7, 2, 16]
 */
export class TransformerEncoderLayer extends Module {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'TransformerEncoderLayer';
  /** Model width. */
  readonly dModel: number;
  /** Attention heads. */
  readonly nhead: number;
  /** @internal The options. */
  readonly spec: LayerSpec;
  /** Self-attention. */
  self_attn: MultiheadAttention;
  /** dModel → dimFeedforward. */
  linear1: Linear;
  /** Dropout inside the feed-forward block. */
  dropout: Dropout;
  /** dimFeedforward → dModel. */
  linear2: Linear;
  /** LayerNorm of the attention branch. */
  norm1: LayerNorm;
  /** LayerNorm of the feed-forward branch. */
  norm2: LayerNorm;
  /** Dropout of the attention branch. */
  dropout1: Dropout;
  /** Dropout of the feed-forward branch. */
  dropout2: Dropout;

  constructor(dModel: number, nhead: number, opts: TransformerLayerOptions = {}) {
    const cls = 'TransformerEncoderLayer';
    const spec = layerSpec(cls, opts);
    const d = checkInt(cls, 'dModel', dModel);
    const h = checkInt(cls, 'nhead', nhead);
    if (d % h !== 0) throw new AxonError(cls, `dModel must be divisible by nhead, got dModel ${d} and nhead ${h}`);
    super(spec.name);
    this.dModel = d;
    this.nhead = h;
    this.spec = spec;
    const nul = null as unknown;
    this.self_attn = nul as MultiheadAttention;
    this.linear1 = this.linear2 = nul as Linear;
    this.dropout = this.dropout1 = this.dropout2 = nul as Dropout;
    this.norm1 = this.norm2 = nul as LayerNorm;
    allocating(this, () => {
      this.self_attn = new MultiheadAttention(d, h, { dropout: spec.dropout, batchFirst: spec.batchFirst });
      this.linear1 = new Linear(d, spec.dimFeedforward);
      this.dropout = new Dropout(spec.dropout);
      this.linear2 = new Linear(spec.dimFeedforward, d);
      this.norm1 = new LayerNorm(d, { eps: spec.layerNormEps });
      this.norm2 = new LayerNorm(d, { eps: spec.layerNormEps });
      this.dropout1 = new Dropout(spec.dropout);
      this.dropout2 = new Dropout(spec.dropout);
    });
  }

  /**
   * The layer over `src` ([L, B, dModel], batchFirst [B, L, dModel], or unbatched [L, dModel]).
   * @example
   * const layer = new TransformerEncoderLayer(8, 2, { dimFeedforward: 16, normFirst: true });
   * layer.forward(randn([4, 8]), { srcKeyPaddingMask: tensor([false, false, false, true]) }).shape // [4, 8]
   */
  forward(src: Tensor, opts: TransformerEncoderForwardOptions & object = {}): Tensor {
    const op = `${this.className} '${this.name}'`;
    const o = optionsOf<TransformerEncoderForwardOptions>(op, opts, ['srcMask', 'srcKeyPaddingMask', 'isCausal', 'cache']);
    checkTensor(op, 'src', src);
    const sa = (x: Tensor, tmp: <T extends Tensor>(t: T) => T): Tensor =>
      tmp(
        this.dropout1.forward(
          tmp(
            this.self_attn.forward(x, x, x, {
              attnMask: o.srcMask ?? null,
              keyPaddingMask: o.srcKeyPaddingMask ?? null,
              needWeights: false,
              isCausal: o.isCausal ?? false,
              cache: o.cache ?? null,
            })[0],
          ),
        ),
      );
    return compositeAll([src], (tmp) => {
      let x = src;
      if (this.spec.normFirst) {
        x = tmp(x.add(sa(tmp(this.norm1.forward(x)), tmp)));
        x = tmp(x.add(ffBlock(this, tmp(this.norm2.forward(x)), tmp)));
      } else {
        x = tmp(this.norm1.forward(tmp(x.add(sa(x, tmp)))));
        x = tmp(this.norm2.forward(tmp(x.add(ffBlock(this, x, tmp)))));
      }
      return [x] as const;
    })[0];
  }

  override getConfig(): LayerConfig {
    return specConfig(this);
  }

  /**
   * Rebuilds a layer from {@link TransformerEncoderLayer.getConfig}.
   * @example TransformerEncoderLayer.fromConfig(new TransformerEncoderLayer(8, 2, { normFirst: true }).getConfig(), 'l').spec.normFirst // true
   */
  static fromConfig(c: LayerConfig, name: string): TransformerEncoderLayer {
    return new TransformerEncoderLayer(c['dModel'] as number, c['nhead'] as number, specFromConfig(c, name));
  }
}

/** The feed-forward branch: dropoutN(linear2(dropout(act(linear1(x))))). */
function ffBlock(m: { linear1: Linear; linear2: Linear; dropout: Dropout; spec: LayerSpec }, x: Tensor, tmp: <T extends Tensor>(t: T) => T, last?: Dropout): Tensor {
  const h = tmp(m.linear1.forward(x));
  const a = tmp(m.spec.activation === 'gelu' ? gelu(h) : relu(h));
  const y = tmp(m.linear2.forward(tmp(m.dropout.forward(a))));
  return tmp((last ?? (m as unknown as { dropout2: Dropout }).dropout2).forward(y));
}

/**
 * Options of {@link TransformerDecoderLayer.forward} (PyTorch's masks; bool true = NOT attended).
 * @example
 * const opts: TransformerDecoderForwardOptions = { tgtIsCausal: true };
 * const layer = new TransformerDecoderLayer(8, 2, { dimFeedforward: 16 });
 * layer.forward(randn([3, 1, 8]), randn([5, 1, 8]), opts).shape // [3, 1, 8]
 */
export interface TransformerDecoderForwardOptions {
  /** [T, T] or [B·heads, T, T] self-attention mask. */
  tgtMask?: Tensor | null;
  /** [T, S] or [B·heads, T, S] cross-attention mask. */
  memoryMask?: Tensor | null;
  /** [B, T] target padding mask. */
  tgtKeyPaddingMask?: Tensor | null;
  /** [B, S] memory padding mask. */
  memoryKeyPaddingMask?: Tensor | null;
  /** Causal self-attention. */
  tgtIsCausal?: boolean;
}

/**
 * PyTorch's `nn.TransformerDecoderLayer`: self-attention (`self_attn`), cross-attention over the
 * encoder's output (`multihead_attn`) and the feed-forward block (`linear1`, `dropout`,
 * `linear2`), with `norm1..3` and `dropout1..3` as PyTorch (post-norm, or pre-norm with `normFirst`).
 * @example
 * const layer = new TransformerDecoderLayer(8, 2, { dimFeedforward: 16, batchFirst: true });
 * layer.forward(randn([2, 3, 8]), randn([2, 6, 8])).shape // [2, 3, 8]
 * layer.namedChildren().map(([n]) => n) // ['self_attn', 'multihead_attn', 'linear1', 'dropout', 'linear2', 'norm1', 'norm2', 'norm3', 'dropout1', 'dropout2', 'dropout3']
 */
export class TransformerDecoderLayer extends Module {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'TransformerDecoderLayer';
  /** Model width. */
  readonly dModel: number;
  /** Attention heads. */
  readonly nhead: number;
  /** @internal The options. */
  readonly spec: LayerSpec;
  /** Self-attention. */
  self_attn: MultiheadAttention;
  /** Cross-attention over the memory. */
  multihead_attn: MultiheadAttention;
  /** dModel → dimFeedforward. */
  linear1: Linear;
  /** Dropout inside the feed-forward block. */
  dropout: Dropout;
  /** dimFeedforward → dModel. */
  linear2: Linear;
  /** LayerNorm of the self-attention branch. */
  norm1: LayerNorm;
  /** LayerNorm of the cross-attention branch. */
  norm2: LayerNorm;
  /** LayerNorm of the feed-forward branch. */
  norm3: LayerNorm;
  /** Dropout of the self-attention branch. */
  dropout1: Dropout;
  /** Dropout of the cross-attention branch. */
  dropout2: Dropout;
  /** Dropout of the feed-forward branch. */
  dropout3: Dropout;

  constructor(dModel: number, nhead: number, opts: TransformerLayerOptions = {}) {
    const cls = 'TransformerDecoderLayer';
    const spec = layerSpec(cls, opts);
    const d = checkInt(cls, 'dModel', dModel);
    const h = checkInt(cls, 'nhead', nhead);
    if (d % h !== 0) throw new AxonError(cls, `dModel must be divisible by nhead, got dModel ${d} and nhead ${h}`);
    super(spec.name);
    this.dModel = d;
    this.nhead = h;
    this.spec = spec;
    const nul = null as unknown;
    this.self_attn = this.multihead_attn = nul as MultiheadAttention;
    this.linear1 = this.linear2 = nul as Linear;
    this.dropout = this.dropout1 = this.dropout2 = this.dropout3 = nul as Dropout;
    this.norm1 = this.norm2 = this.norm3 = nul as LayerNorm;
    allocating(this, () => {
      this.self_attn = new MultiheadAttention(d, h, { dropout: spec.dropout, batchFirst: spec.batchFirst });
      this.multihead_attn = new MultiheadAttention(d, h, { dropout: spec.dropout, batchFirst: spec.batchFirst });
      this.linear1 = new Linear(d, spec.dimFeedforward);
      this.dropout = new Dropout(spec.dropout);
      this.linear2 = new Linear(spec.dimFeedforward, d);
      this.norm1 = new LayerNorm(d, { eps: spec.layerNormEps });
      this.norm2 = new LayerNorm(d, { eps: spec.layerNormEps });
      this.norm3 = new LayerNorm(d, { eps: spec.layerNormEps });
      this.dropout1 = new Dropout(spec.dropout);
      this.dropout2 = new Dropout(spec.dropout);
      this.dropout3 = new Dropout(spec.dropout);
    });
  }

  /**
   * The layer over `tgt` with the encoder's `memory` (shapes as {@link TransformerEncoderLayer.forward}).
   * @example
   * const layer = new TransformerDecoderLayer(4, 1, { dimFeedforward: 8 });
   * layer.forward(randn([2, 4]), randn([3, 4]), { memoryKeyPaddingMask: tensor([false, true, false]) }).shape // [2, 4]
   */
  forward(tgt: Tensor, memory: Tensor, opts: TransformerDecoderForwardOptions & object = {}): Tensor {
    const op = `${this.className} '${this.name}'`;
    const o = optionsOf<TransformerDecoderForwardOptions>(op, opts, ['tgtMask', 'memoryMask', 'tgtKeyPaddingMask', 'memoryKeyPaddingMask', 'tgtIsCausal']);
    checkTensor(op, 'tgt', tgt);
    checkTensor(op, 'memory', memory);
    return compositeAll([tgt, memory], (tmp) => {
      const sa = (x: Tensor): Tensor =>
        tmp(this.dropout1.forward(tmp(this.self_attn.forward(x, x, x, { attnMask: o.tgtMask ?? null, keyPaddingMask: o.tgtKeyPaddingMask ?? null, isCausal: o.tgtIsCausal ?? false, needWeights: false })[0])));
      const mha = (x: Tensor): Tensor =>
        tmp(this.dropout2.forward(tmp(this.multihead_attn.forward(x, memory, memory, { attnMask: o.memoryMask ?? null, keyPaddingMask: o.memoryKeyPaddingMask ?? null, needWeights: false })[0])));
      let x = tgt;
      if (this.spec.normFirst) {
        x = tmp(x.add(sa(tmp(this.norm1.forward(x)))));
        x = tmp(x.add(mha(tmp(this.norm2.forward(x)))));
        x = tmp(x.add(ffBlock(this, tmp(this.norm3.forward(x)), tmp, this.dropout3)));
      } else {
        x = tmp(this.norm1.forward(tmp(x.add(sa(x)))));
        x = tmp(this.norm2.forward(tmp(x.add(mha(x)))));
        x = tmp(this.norm3.forward(tmp(x.add(ffBlock(this, x, tmp, this.dropout3)))));
      }
      return [x] as const;
    })[0];
  }

  override getConfig(): LayerConfig {
    return specConfig(this);
  }

  /**
   * Rebuilds a layer from {@link TransformerDecoderLayer.getConfig}.
   * @example TransformerDecoderLayer.fromConfig(new TransformerDecoderLayer(8, 2, { activation: 'gelu' }).getConfig(), 'l').spec.activation // 'gelu'
   */
  static fromConfig(c: LayerConfig, name: string): TransformerDecoderLayer {
    return new TransformerDecoderLayer(c['dModel'] as number, c['nhead'] as number, specFromConfig(c, name));
  }
}

/**
 * Options of {@link TransformerEncoder}.
 * @example
 * const opts: TransformerEncoderOptions = { norm: new LayerNorm(8) };
 * new TransformerEncoder(new TransformerEncoderLayer(8, 2, { dimFeedforward: 16 }), 2, opts).norm !== null // true
 */
export interface TransformerEncoderOptions {
  /** A final normalisation layer (PyTorch's `norm`), e.g. a {@link LayerNorm}. */
  norm?: LayerNorm | null;
  /** Layer name. */
  name?: string;
}

/**
 * PyTorch's `nn.TransformerEncoder`: `numLayers` copies of `encoderLayer` (`layers.0`, `layers.1`,
 * …; each starts with the given layer's weights, as PyTorch's deep copies) and an optional final
 * `norm`. The given layer becomes `layers.0` (the encoder owns it).
 * @example
 * const enc = new TransformerEncoder(new TransformerEncoderLayer(8, 2, { dimFeedforward: 16, batchFirst: true }), 3);
 * enc.layers.length // 3
 * Object.keys(enc.stateDict())[0] // 'layers.0.self_attn.in_proj_weight'
 * enc.forward(randn([2, 5, 8]), { isCausal: true }).shape // [2, 5, 8]
 */
export class TransformerEncoder extends Module {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'TransformerEncoder';
  /** The stacked layers. */
  layers: TransformerEncoderLayer[];
  /** The final normalisation, if any. */
  norm: LayerNorm | null;

  constructor(encoderLayer: TransformerEncoderLayer, numLayers: number, opts: TransformerEncoderOptions = {}) {
    const cls = 'TransformerEncoder';
    const o = optionsOf<TransformerEncoderOptions>(cls, opts, ['norm', 'name']);
    if (!(encoderLayer instanceof TransformerEncoderLayer)) throw new AxonError(cls, `encoderLayer must be a TransformerEncoderLayer, got ${fmtValue(encoderLayer)}`);
    const n = checkInt(cls, 'numLayers', numLayers, 1, 4096);
    const norm = o.norm ?? null;
    if (norm !== null && !(norm instanceof LayerNorm)) throw new AxonError(cls, `norm must be a LayerNorm or null, got ${fmtValue(norm)}`);
    super(optName(cls, o.name));
    this.layers = [encoderLayer];
    this.norm = norm;
    allocating(this, () => {
      for (let i = 1; i < n; i++) {
        const c = TransformerEncoderLayer.fromConfig(encoderLayer.getConfig(), `${this.name}_layer_${i}`);
        this.layers.push(c);
        c.loadStateDict(encoderLayer.stateDict());
      }
    });
  }

  /**
   * The layers in turn, then `norm` (options as {@link TransformerEncoderLayer.forward}: `mask`
   * is PyTorch's `mask`).
   * @example
   * const enc = new TransformerEncoder(new TransformerEncoderLayer(4, 1, { dimFeedforward: 8 }), 2);
   * enc.forward(randn([3, 2, 4]), { mask: causalMask(3).logicalNot() }).shape // [3, 2, 4]
   */
  forward(src: Tensor, opts: { mask?: Tensor | null; srcKeyPaddingMask?: Tensor | null; isCausal?: boolean } & object = {}): Tensor {
    const op = `${this.className} '${this.name}'`;
    const o = optionsOf<{ mask?: Tensor | null; srcKeyPaddingMask?: Tensor | null; isCausal?: boolean }>(op, opts, ['mask', 'srcKeyPaddingMask', 'isCausal']);
    checkTensor(op, 'src', src);
    return compositeAll([src], (tmp) => {
      let x = src;
      for (const l of this.layers) x = tmp(l.forward(x, { srcMask: o.mask ?? null, srcKeyPaddingMask: o.srcKeyPaddingMask ?? null, isCausal: o.isCausal ?? false }));
      if (this.norm !== null) x = tmp(this.norm.forward(x));
      return [x] as const;
    })[0];
  }

  override getConfig(): LayerConfig {
    return { layer: this.layers[0]!.getConfig(), numLayers: this.layers.length, norm: this.norm === null ? null : this.norm.getConfig() };
  }

  /**
   * Rebuilds an encoder from {@link TransformerEncoder.getConfig}.
   * @example TransformerEncoder.fromConfig(new TransformerEncoder(new TransformerEncoderLayer(4, 1), 2).getConfig(), 'e').layers.length // 2
   */
  static fromConfig(c: LayerConfig, name: string): TransformerEncoder {
    const lc = c['layer'] as LayerConfig;
    const norm = c['norm'] === null || c['norm'] === undefined ? null : LayerNorm.fromConfig(c['norm'] as LayerConfig, `${name}_norm`);
    return new TransformerEncoder(TransformerEncoderLayer.fromConfig(lc, `${name}_layer_0`), c['numLayers'] as number, { norm, name });
  }
}
