/**
 * Core layers: Linear (PyTorch), Dense (Keras), Dropout, Flatten, Embedding, merge layers.
 *
 * Convolution and pooling layers live in `conv.ts`; normalisation layers (BatchNorm1d/2d,
 * BatchNormalization, LayerNorm) in `normalization.ts`.
 */
import { AxonError, type Tensor, add as addOp, bernoulli, concat, fmtShape, fmtValue, gather, isTensor, matmul, noGrad, randn, reshape, sizeOf } from '@axon/core';
import { type ActivationName, activationName, getActivation } from './activations.js';
import { allocating, initParameter } from './build.js';
import { type Initializer, getInitializer, torchDefault } from './init.js';
import { type JsonValue, type LayerConfig, Module, reserveParameters } from './module.js';
import type { SymbolicShape } from './symbolic.js';
import { checkFinite, checkInt, composite, optBool, optInputShape, optName, optionsOf } from './validate.js';

/**
 * Options every built-in layer accepts.
 * @example
 * const opts: LayerOptions = { name: 'hidden', inputShape: [10] };
 * const net = sequential([new Dense(4, opts)]);
 * net.layers[0]!.name // 'hidden'
 * net.inputShape // [10]
 */
export interface LayerOptions {
  /** The layer's name (default: class name in snake_case, made unique). */
  name?: string;
  /** The shape of one input example (no batch axis): lets a Keras `sequential` model build eagerly. */
  inputShape?: readonly number[];
}

function layerOp(m: Module): string {
  return `${m.className} '${m.name}'`;
}

function lastDim(m: Module, x: Tensor, expected: number | null): number {
  if (x.rank < 1) throw new AxonError(layerOp(m), `expects an input of rank >= 1, got a scalar ${fmtShape(x.shape)}`);
  if (x.dtype !== 'float32') throw new AxonError(layerOp(m), `expects float32 input, got ${x.dtype} ${fmtShape(x.shape)} (convert with .astype('float32'))`);
  const d = x.shape[x.rank - 1]!;
  if (expected !== null && d !== expected) {
    throw new AxonError(layerOp(m), `expected input with last dimension ${expected} ([..., ${expected}]), got ${fmtShape(x.shape)}`);
  }
  return d;
}

/**
 * Options of {@link Linear}.
 * @example
 * const opts: LinearOptions = { bias: false };
 * new Linear(4, 2, opts).countParams() // 8
 */
export interface LinearOptions {
  /** Whether to learn an additive bias (default true). */
  bias?: boolean;
  /** Layer name. */
  name?: string;
}

/**
 * PyTorch's `nn.Linear`: `y = x·Wᵀ + b` with `weight` [outFeatures, inFeatures] and `bias`
 * [outFeatures], both initialised U(±1/√inFeatures) (PyTorch's default).
 * @example
 * const fc = new Linear(3, 2);
 * fc.call(randn([5, 3])).shape; // [5, 2]
 */
export class Linear extends Module {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'Linear';
  /** Input features. */
  readonly inFeatures: number;
  /** Output features. */
  readonly outFeatures: number;
  /** [outFeatures, inFeatures]. */
  weight: Tensor;
  /** [outFeatures] or null. */
  bias: Tensor | null;

  constructor(inFeatures: number, outFeatures: number, opts: LinearOptions = {}) {
    const o = optionsOf<LinearOptions>('Linear', opts, ['bias', 'name']);
    super(optName('Linear', o.name));
    this.inFeatures = checkInt('Linear', 'inFeatures', inFeatures);
    this.outFeatures = checkInt('Linear', 'outFeatures', outFeatures);
    const useBias = optBool('Linear', 'bias', o.bias) ?? true;
    reserveParameters(layerOp(this), useBias ? [[outFeatures, inFeatures], [outFeatures]] : [[outFeatures, inFeatures]]);
    this.weight = null as unknown as Tensor;
    this.bias = null;
    allocating(this, () => {
      this.weight = this.addParameter('weight', () => torchDefault([outFeatures, inFeatures], { fanIn: inFeatures }));
      this.bias = useBias ? this.addParameter('bias', () => torchDefault([outFeatures], { fanIn: inFeatures })) : null;
    });
  }

  forward(x: Tensor): Tensor {
    lastDim(this, x, this.inFeatures);
    return composite([x, this.weight, this.bias], (tmp) => {
      const y = tmp(matmul(x, tmp(this.weight.T)));
      return this.bias ? y.add(this.bias) : y;
    });
  }

  override computeOutputShape(s: SymbolicShape): SymbolicShape {
    if (s[s.length - 1] !== this.inFeatures) throw new AxonError(layerOp(this), `expected input [..., ${this.inFeatures}], got [${s.map((d) => d ?? 'null').join(',')}]`);
    return [...s.slice(0, -1), this.outFeatures];
  }

  override getConfig(): LayerConfig {
    return { inFeatures: this.inFeatures, outFeatures: this.outFeatures, bias: this.bias !== null };
  }

  override extraRepr(): string {
    return `inFeatures=${this.inFeatures}, outFeatures=${this.outFeatures}, bias=${this.bias !== null}`;
  }
}

/**
 * Options of {@link Dense}.
 * @example
 * const opts: DenseOptions = { activation: 'relu', kernelInitializer: 'heNormal', inputShape: [64] };
 * const d = new Dense(128, opts);
 * d.kernel!.shape // [64, 128]
 */
export interface DenseOptions extends LayerOptions {
  /** Activation applied to the output (default linear). */
  activation?: ActivationName | string | null;
  /** Whether to learn a bias (default true). */
  useBias?: boolean;
  /** Kernel initialiser (default `'glorotUniform'`, as Keras). */
  kernelInitializer?: Initializer;
  /** Bias initialiser (default `'zeros'`). */
  biasInitializer?: Initializer;
  /** Input size; otherwise taken from `inputShape` or inferred on the first call. */
  inputDim?: number;
}

/**
 * Keras's `layers.Dense`: `y = activation(x·kernel + bias)` with `kernel` [inputDim, units]
 * (glorot-uniform) and `bias` [units] (zeros). The input size is inferred on the first call unless
 * `inputShape`/`inputDim` is given.
 * @example
 * const d = new Dense(10, { activation: 'softmax' });
 * d.call(randn([32, 128])).shape; // [32, 10]
 */
export class Dense extends Module {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'Dense';
  /** Output size. */
  readonly units: number;
  /** The activation's canonical name. */
  readonly activation: ActivationName;
  /** Whether a bias is learned. */
  readonly useBias: boolean;
  /** [inputDim, units] once built. */
  kernel: Tensor | null = null;
  /** [units] once built (when `useBias`). */
  bias: Tensor | null = null;
  /** The input's shape (one example) when given. */
  readonly inputShape: readonly number[] | undefined;
  private readonly kernelInit: Initializer;
  private readonly biasInit: Initializer;
  private readonly act: (x: Tensor) => Tensor;

  constructor(units: number, opts: DenseOptions = {}) {
    const o = optionsOf<DenseOptions>('Dense', opts, ['activation', 'useBias', 'kernelInitializer', 'biasInitializer', 'inputDim', 'inputShape', 'name']);
    super(optName('Dense', o.name));
    this.units = checkInt('Dense', 'units', units);
    this.activation = activationName(o.activation, 'Dense');
    this.act = getActivation(this.activation);
    this.useBias = optBool('Dense', 'useBias', o.useBias) ?? true;
    this.kernelInit = o.kernelInitializer ?? 'glorotUniform';
    this.biasInit = o.biasInitializer ?? 'zeros';
    getInitializer(this.kernelInit);
    getInitializer(this.biasInit);
    const shape = optInputShape('Dense', o.inputShape);
    const inputDim = o.inputDim === undefined ? undefined : checkInt('Dense', 'inputDim', o.inputDim);
    if (shape && inputDim !== undefined && shape[shape.length - 1] !== inputDim) {
      throw new AxonError('Dense', `inputDim ${inputDim} does not match inputShape ${fmtShape(shape)} (its last size is the input size)`);
    }
    if (shape && shape.length === 0) throw new AxonError('Dense', 'inputShape must have at least one size (the input size is its last)');
    this.inputShape = shape ?? (inputDim !== undefined ? [inputDim] : undefined);
    const inDim = this.inputShape ? this.inputShape[this.inputShape.length - 1] : undefined;
    if (inDim !== undefined) this.build(inDim);
  }

  /** The input size once built, else null. */
  get inputDim(): number | null {
    return this.kernel ? this.kernel.shape[0]! : null;
  }

  /** Whether the weights exist. */
  get built(): boolean {
    return this.kernel !== null;
  }

  /**
   * Creates the weights for inputs of size `inputDim` (done automatically on the first call).
   * @example
   * const d = new Dense(3);
   * d.built // false
   * d.build(5);
   * d.kernel!.shape // [5, 3]
   */
  build(inputDim: number): void {
    if (this.kernel) {
      if (this.kernel.shape[0] !== inputDim) throw new AxonError(layerOp(this), `already built for input size ${this.kernel.shape[0]}, got ${inputDim}`);
      return;
    }
    checkInt(layerOp(this), 'input size', inputDim);
    reserveParameters(layerOp(this), this.useBias ? [[inputDim, this.units], [this.units]] : [[inputDim, this.units]]);
    const kinit = getInitializer(this.kernelInit);
    const fan = { fanIn: inputDim, fanOut: this.units };
    try {
      this.kernel = initParameter(this, 'kernel', kinit, [inputDim, this.units], fan);
      if (this.useBias) this.bias = initParameter(this, 'bias', getInitializer(this.biasInit), [this.units], fan);
    } catch (e) {
      // nothing half-built: a failed build leaves the layer unbuilt
      this.kernel?.dispose();
      this.kernel = null;
      this.bias = null;
      throw e;
    }
  }

  /**
   * `x·kernel + bias` without the activation (used to fuse a final softmax into the loss).
   * @example
   * const dense = new Dense(2, { activation: 'softmax', kernelInitializer: 'ones', inputShape: [2] });
   * dense.preActivation(tensor([[1, 2]])) // [[3, 3]]
   * dense.call(tensor([[1, 2]])) // [[0.5, 0.5]]
   */
  preActivation(x: Tensor): Tensor {
    if (!isTensor(x)) throw new AxonError(layerOp(this), `expects a Tensor input, got ${fmtValue(x)}`);
    const d = lastDim(this, x, this.inputDim);
    if (!this.kernel) this.build(d);
    return composite([x, this.kernel, this.bias], (tmp) => {
      const y = tmp(matmul(x, this.kernel!));
      return this.bias ? y.add(this.bias) : y;
    });
  }

  forward(x: Tensor): Tensor {
    const z = this.preActivation(x);
    if (this.activation === 'linear') return z;
    return composite([x], (tmp) => this.act(tmp(z)));
  }

  override computeOutputShape(s: SymbolicShape): SymbolicShape {
    const d = s[s.length - 1];
    if (typeof d !== 'number') throw new AxonError(layerOp(this), `cannot infer the input size from shape [${s.map((v) => v ?? 'null').join(',')}]`);
    if (!this.kernel) this.build(d);
    else if (d !== this.inputDim) throw new AxonError(layerOp(this), `expected input [..., ${this.inputDim}], got [${s.map((v) => v ?? 'null').join(',')}]`);
    return [...s.slice(0, -1), this.units];
  }

  override getConfig(): LayerConfig {
    const cfg: Record<string, LayerConfig[string]> = { units: this.units, activation: this.activation, useBias: this.useBias };
    if (typeof this.kernelInit === 'string') cfg['kernelInitializer'] = this.kernelInit;
    if (typeof this.biasInit === 'string') cfg['biasInitializer'] = this.biasInit;
    if (this.inputDim !== null) cfg['inputDim'] = this.inputDim;
    return cfg;
  }

  override extraRepr(): string {
    return `units=${this.units}, activation=${this.activation}${this.inputDim !== null ? `, inputDim=${this.inputDim}` : ''}`;
  }
}

/**
 * Options of {@link Dropout}.
 * @example
 * const opts: DropoutOptions = { rate: 0.2, seed: 7 };
 * new Dropout(opts).getConfig() // { rate: 0.2, seed: 7 }
 */
export interface DropoutOptions extends LayerOptions {
  /** Fraction of inputs zeroed in training (PyTorch's `p`), in [0, 1). */
  rate: number;
  /** A seed for this layer's masks (default: core's global stream, see `setSeed`). */
  seed?: number;
}

/**
 * Dropout: in training, zeroes each element with probability `rate` and scales the rest by
 * 1/(1−rate) (masks from core's seeded `bernoulli`); the identity in eval mode.
 * @example
 * const drop = new Dropout(0.5); // or new Dropout({ rate: 0.5 })
 * const y = drop.call(ones([1000])); // training mode: each element is 0 or 1 / (1 − 0.5) = 2
 * [...new Set(y.dataSync())].sort() // [0, 2]
 * Math.abs(y.mean().item() - 1) < 0.1 // true
 * drop.eval();
 * drop.call(tensor([1, 2, 3])) // [1, 2, 3]
 */
export class Dropout extends Module {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'Dropout';
  /** Probability of zeroing an element. */
  readonly rate: number;
  /** Seed of the first mask, when given (later masks use seed + call count). */
  readonly seed: number | undefined;
  /** The input's shape (one example) when given. */
  readonly inputShape: readonly number[] | undefined;
  private calls = 0;

  constructor(opts: DropoutOptions | number) {
    if (opts === undefined) throw new AxonError('Dropout', 'expects a rate in [0, 1) or { rate }');
    const o: DropoutOptions = typeof opts === 'number' ? { rate: opts } : optionsOf<DropoutOptions>('Dropout', opts, ['rate', 'seed', 'name', 'inputShape']);
    if (typeof o.rate !== 'number' || !(o.rate >= 0 && o.rate < 1)) throw new AxonError('Dropout', `rate must be in [0, 1), got ${fmtValue(o.rate)}`);
    const inputShape = optInputShape('Dropout', o.inputShape);
    const seed = o.seed === undefined ? undefined : checkFinite('Dropout', 'seed', o.seed);
    super(optName('Dropout', o.name));
    this.inputShape = inputShape;
    this.rate = o.rate;
    this.seed = seed;
  }

  forward(x: Tensor): Tensor {
    if (!isTensor(x)) throw new AxonError(layerOp(this), `expects a Tensor input, got ${fmtValue(x)}`);
    if (!this.training || this.rate === 0) return x;
    if (x.dtype !== 'float32') throw new AxonError(layerOp(this), `expects float32 input, got ${x.dtype} ${fmtShape(x.shape)}`);
    const keepP = 1 - this.rate;
    const mask = noGrad(() => {
      const seedOpt = this.seed !== undefined ? { seed: this.seed + this.calls } : {};
      const m = bernoulli(keepP, x.shape, seedOpt);
      const scaled = m.mul(1 / keepP);
      m.dispose();
      return scaled;
    });
    let y: Tensor;
    try {
      y = x.mul(mask);
    } catch (e) {
      mask.dispose();
      throw e;
    }
    if (this.seed !== undefined) this.calls++;
    if (!y.requiresGrad) mask.dispose();
    return y;
  }

  override computeOutputShape(s: SymbolicShape): SymbolicShape {
    return s;
  }

  override getConfig(): LayerConfig {
    return this.seed !== undefined ? { rate: this.rate, seed: this.seed } : { rate: this.rate };
  }

  /**
   * With a seed: how many masks were drawn (`{ calls }`), which the next mask's seed depends on —
   * checkpoints save it. Without a seed the masks come from core's global stream (whose position
   * checkpoints save), so there is no extra state.
   * @example new Dropout({ rate: 0.5, seed: 1 }).getExtraState() // { calls: 0 }
   */
  override getExtraState(): JsonValue | undefined {
    return this.seed !== undefined ? { calls: this.calls } : undefined;
  }

  /**
   * Restores `{ calls }` from {@link Dropout.getExtraState}.
   * @example
   * const dropout = new Dropout({ rate: 0.5, seed: 1 });
   * dropout.setExtraState({ calls: 3 });
   * dropout.getExtraState() // { calls: 3 }
   */
  override setExtraState(state: JsonValue): void {
    const calls = state !== null && typeof state === 'object' && !Array.isArray(state) ? (state as { calls?: unknown }).calls : undefined;
    if (this.seed === undefined || typeof calls !== 'number' || !Number.isSafeInteger(calls) || calls < 0) {
      throw new AxonError(`${layerOp(this)}.setExtraState`, `expects { calls: integer >= 0 } for a seeded Dropout, got ${JSON.stringify(state)}${this.seed === undefined ? ' (this Dropout has no seed, so no extra state)' : ''}`);
    }
    this.calls = calls;
  }

  override extraRepr(): string {
    return `rate=${this.rate}`;
  }
}

/**
 * Options of {@link Flatten}.
 * @example
 * const opts: FlattenOptions = { startAxis: 2 };
 * new Flatten(opts).call(zeros([2, 3, 4, 5])).shape // [2, 3, 20]
 */
export interface FlattenOptions extends LayerOptions {
  /** First axis flattened (default 1: keep the batch axis). */
  startAxis?: number;
  /** Last axis flattened (default −1). */
  endAxis?: number;
}

/**
 * Flattens axes `startAxis..endAxis` (default: all but the batch axis) into one.
 * @example new Flatten().call(zeros([32, 28, 28])).shape // [32, 784]
 */
export class Flatten extends Module {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'Flatten';
  /** First axis flattened. */
  readonly startAxis: number;
  /** Last axis flattened. */
  readonly endAxis: number;
  /** The input's shape (one example) when given. */
  readonly inputShape: readonly number[] | undefined;

  constructor(opts: FlattenOptions = {}) {
    const o = optionsOf<FlattenOptions>('Flatten', opts, ['startAxis', 'endAxis', 'name', 'inputShape']);
    const startAxis = checkInt('Flatten', 'startAxis', o.startAxis ?? 1, -64, 64);
    const endAxis = checkInt('Flatten', 'endAxis', o.endAxis ?? -1, -64, 64);
    const inputShape = optInputShape('Flatten', o.inputShape);
    super(optName('Flatten', o.name));
    this.startAxis = startAxis;
    this.endAxis = endAxis;
    this.inputShape = inputShape;
  }

  forward(x: Tensor): Tensor {
    if (this.inputShape) {
      const got = x.shape.slice(1);
      if (got.length !== this.inputShape.length || got.some((d, i) => d !== this.inputShape![i])) {
        throw new AxonError(layerOp(this), `expected input [batch, ${this.inputShape.join(', ')}], got ${fmtShape(x.shape)}`);
      }
    }
    if (x.rank <= this.startAxis) throw new AxonError(layerOp(this), `cannot flatten from axis ${this.startAxis} of ${fmtShape(x.shape)}`);
    return x.flatten(this.startAxis, this.endAxis);
  }

  override computeOutputShape(s: SymbolicShape): SymbolicShape {
    const rank = s.length;
    const a = this.startAxis < 0 ? rank + this.startAxis : this.startAxis;
    const b = this.endAxis < 0 ? rank + this.endAxis : this.endAxis;
    if (a < 0 || b >= rank || b < a) throw new AxonError(layerOp(this), `cannot flatten axes ${this.startAxis}..${this.endAxis} of a rank-${rank} input`);
    const mid = s.slice(a, b + 1);
    const size = mid.some((d) => d === null) ? null : sizeOf(mid as number[]);
    return [...s.slice(0, a), size, ...s.slice(b + 1)];
  }

  override getConfig(): LayerConfig {
    const cfg: Record<string, LayerConfig[string]> = { startAxis: this.startAxis, endAxis: this.endAxis };
    if (this.inputShape) cfg['inputShape'] = [...this.inputShape];
    return cfg;
  }
}

/**
 * Options of {@link Embedding} (Keras names).
 * @example
 * const opts: EmbeddingOptions = { inputDim: 1000, outputDim: 64 };
 * new Embedding(opts).countParams() // 64000
 */
export interface EmbeddingOptions extends LayerOptions {
  /** Vocabulary size (PyTorch's `num_embeddings`). */
  inputDim: number;
  /** Vector size (PyTorch's `embedding_dim`). */
  outputDim: number;
  /** Weight initialiser (default N(0, 1), PyTorch's). */
  embeddingsInitializer?: Initializer;
}

/**
 * A lookup table: int32 ids of any shape → vectors (`gather` on `weight` [inputDim, outputDim]).
 * Ids must be int32: float (or bool) ids are an {@link AxonError}, as PyTorch rejects float indices
 * (convert whole-number floats with `ids.astype('int32')`).
 * @example
 * const emb = new Embedding(1000, 64); // or new Embedding({ inputDim: 1000, outputDim: 64 })
 * emb.call(tensor([[1, 2, 3]], [1, 3], 'int32')).shape; // [1, 3, 64]
 */
export class Embedding extends Module {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'Embedding';
  /** Vocabulary size. */
  readonly inputDim: number;
  /** Vector size. */
  readonly outputDim: number;
  /** [inputDim, outputDim]. */
  weight: Tensor;
  /** The input's shape (one example) when given. */
  readonly inputShape: readonly number[] | undefined;

  constructor(numEmbeddings: number | EmbeddingOptions, embeddingDim?: number) {
    let o: EmbeddingOptions;
    if (typeof numEmbeddings === 'number') o = { inputDim: numEmbeddings, outputDim: embeddingDim as number };
    else if (numEmbeddings !== null && typeof numEmbeddings === 'object' && !Array.isArray(numEmbeddings) && !isTensor(numEmbeddings)) {
      o = optionsOf<EmbeddingOptions>('Embedding', numEmbeddings, ['inputDim', 'outputDim', 'embeddingsInitializer', 'name', 'inputShape']);
      if (embeddingDim !== undefined) throw new AxonError('Embedding', 'give the sizes as (numEmbeddings, embeddingDim) or as { inputDim, outputDim }, not both');
    } else throw new AxonError('Embedding', `expects (numEmbeddings, embeddingDim) or { inputDim, outputDim }, got ${fmtValue(numEmbeddings)}`);
    const inputDim = checkInt('Embedding', 'inputDim (number of embeddings)', o.inputDim);
    const outputDim = checkInt('Embedding', 'outputDim (embedding size)', o.outputDim);
    const inputShape = optInputShape('Embedding', o.inputShape);
    const init = o.embeddingsInitializer !== undefined ? getInitializer(o.embeddingsInitializer) : null;
    super(optName('Embedding', o.name));
    this.inputShape = inputShape;
    this.inputDim = inputDim;
    this.outputDim = outputDim;
    reserveParameters(layerOp(this), [[inputDim, outputDim]]);
    this.weight = init ? initParameter(this, 'weight', init, [inputDim, outputDim]) : this.addParameter('weight', () => randn([inputDim, outputDim]));
  }

  forward(ids: Tensor): Tensor {
    if (!isTensor(ids)) throw new AxonError(layerOp(this), `expects int32 ids, got ${fmtValue(ids)}`);
    if (ids.dtype !== 'int32') {
      throw new AxonError(layerOp(this), `expects int32 ids, got ${ids.dtype} ${fmtShape(ids.shape)}: float ids are not truncated silently (convert whole numbers with ids.astype('int32'))`);
    }
    try {
      return gather(this.weight, ids, 0);
    } catch (e) {
      if (e instanceof AxonError) throw new AxonError(layerOp(this), `${e.message} (vocabulary size ${this.inputDim}, ids ${fmtShape(ids.shape)})`);
      throw e;
    }
  }

  override computeOutputShape(s: SymbolicShape): SymbolicShape {
    return [...s, this.outputDim];
  }

  override getConfig(): LayerConfig {
    return { inputDim: this.inputDim, outputDim: this.outputDim };
  }
}

/**
 * Adds its inputs elementwise (Keras's `layers.Add`); in a functional model: `new Add().call(a, b)` or {@link add}.
 * @example new Add().call(tensor([1, 2]), tensor([10, 20]), tensor([100, 200])) // [111, 222]
 */
export class Add extends Module {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'Add';
  forward(...xs: Tensor[]): Tensor {
    if (xs.length < 1) throw new AxonError(layerOp(this), 'expects at least one input');
    for (const x of xs) if (!isTensor(x)) throw new AxonError(layerOp(this), `inputs must be Tensors, got ${fmtValue(x)}`);
    for (let i = 1; i < xs.length; i++) {
      if (xs[i]!.shape.join() !== xs[0]!.shape.join()) throw new AxonError(layerOp(this), `inputs have different shapes: ${xs.map((t) => fmtShape(t.shape)).join(', ')}`);
    }
    return composite(xs, (tmp) => {
      let y = xs[0]!;
      for (let i = 1; i < xs.length; i++) y = tmp(addOp(y, xs[i]!));
      return y;
    });
  }

  override computeOutputShape(...s: SymbolicShape[]): SymbolicShape {
    for (const t of s) if (t.join() !== s[0]!.join()) throw new AxonError(layerOp(this), `inputs have different shapes: ${s.map((u) => `[${u.map((d) => d ?? 'null').join(',')}]`).join(', ')}`);
    return s[0]!;
  }
}

/**
 * Options of {@link Concatenate}.
 * @example
 * const opts: ConcatenateOptions = { axis: 0 };
 * new Concatenate(opts).call(tensor([[1, 2]]), tensor([[3, 4]])) // [[1, 2], [3, 4]]
 */
export interface ConcatenateOptions extends LayerOptions {
  /** The axis joined along (default −1). */
  axis?: number;
}

/**
 * Joins its inputs along `axis` (Keras's `layers.Concatenate`).
 * @example new Concatenate().call(tensor([[1, 2]]), tensor([[3]])) // [[1, 2, 3]]
 */
export class Concatenate extends Module {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'Concatenate';
  /** The axis joined along. */
  readonly axis: number;
  constructor(opts: ConcatenateOptions = {}) {
    const o = optionsOf<ConcatenateOptions>('Concatenate', opts, ['axis', 'name', 'inputShape']);
    const axis = checkInt('Concatenate', 'axis', o.axis ?? -1, -64, 64);
    optInputShape('Concatenate', o.inputShape);
    super(optName('Concatenate', o.name));
    this.axis = axis;
  }

  forward(...xs: Tensor[]): Tensor {
    if (xs.length < 1) throw new AxonError(layerOp(this), 'expects at least one input');
    for (const x of xs) if (!isTensor(x)) throw new AxonError(layerOp(this), `inputs must be Tensors, got ${fmtValue(x)}`);
    const rank = xs[0]!.rank;
    return concat(xs, this.axis < 0 ? rank + this.axis : this.axis);
  }

  override computeOutputShape(...s: SymbolicShape[]): SymbolicShape {
    const rank = s[0]!.length;
    const ax = this.axis < 0 ? rank + this.axis : this.axis;
    if (ax <= 0 || ax >= rank) throw new AxonError(layerOp(this), `axis ${this.axis} is out of range for rank ${rank} (the batch axis cannot be joined)`);
    const out = [...s[0]!];
    let total: number | null = 0;
    for (const t of s) {
      if (t.length !== rank || t.some((d, i) => i !== ax && d !== s[0]![i])) throw new AxonError(layerOp(this), 'inputs differ outside the concatenation axis');
      total = total === null || t[ax] === null ? null : total + (t[ax] as number);
    }
    out[ax] = total;
    return out;
  }

  override getConfig(): LayerConfig {
    return { axis: this.axis };
  }
}

/**
 * Options of {@link Reshape}.
 * @example
 * const opts: ReshapeOptions = { targetShape: [-1, 2] };
 * new Reshape(opts).call(zeros([3, 8])).shape // [3, 4, 2]
 */
export interface ReshapeOptions extends LayerOptions {
  /** The shape of one example after reshaping (no batch axis; one entry may be −1). */
  targetShape: readonly number[];
}

/**
 * Reshapes each example (Keras's `layers.Reshape`), keeping the batch axis.
 * @example new Reshape({ targetShape: [1, 28, 28] }).call(zeros([32, 784])).shape // [32, 1, 28, 28]
 */
export class Reshape extends Module {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'Reshape';
  /** Target shape of one example. */
  readonly targetShape: readonly number[];
  /** The input's shape (one example) when given. */
  readonly inputShape: readonly number[] | undefined;
  constructor(opts: ReshapeOptions) {
    if (opts === undefined) throw new AxonError('Reshape', 'expects { targetShape }');
    const o = optionsOf<ReshapeOptions>('Reshape', opts, ['targetShape', 'name', 'inputShape']);
    const ts: unknown = o.targetShape;
    if (!Array.isArray(ts) || ts.length > 16 || !ts.every((d) => typeof d === 'number' && Number.isInteger(d) && (d >= 1 || d === -1) && d <= 2 ** 31 - 1)) {
      throw new AxonError('Reshape', `targetShape must be an array of at most 16 positive integers (one of them may be -1), got ${fmtValue(ts)}`);
    }
    if ((ts as number[]).filter((d) => d === -1).length > 1) throw new AxonError('Reshape', `targetShape may contain one -1 at most, got ${fmtValue(ts)}`);
    if (sizeOf((ts as number[]).filter((d) => d !== -1)) > 2 ** 31 - 1) throw new AxonError('Reshape', `targetShape ${fmtValue(ts)} has more than 2^31-1 elements per example`);
    const inputShape = optInputShape('Reshape', o.inputShape);
    super(optName('Reshape', o.name));
    this.targetShape = [...(ts as number[])];
    this.inputShape = inputShape;
  }
  forward(x: Tensor): Tensor {
    if (!isTensor(x) || x.rank < 1) throw new AxonError(layerOp(this), `expects a Tensor with a batch axis, got ${isTensor(x) ? fmtShape(x.shape) : fmtValue(x)}`);
    try {
      return reshape(x, [x.shape[0]!, ...this.targetShape]);
    } catch (e) {
      if (e instanceof AxonError) throw new AxonError(layerOp(this), `cannot reshape ${fmtShape(x.shape)} to [batch, ${this.targetShape.join(', ')}]`);
      throw e;
    }
  }
  override computeOutputShape(s: SymbolicShape): SymbolicShape {
    const known = s.slice(1);
    if (known.some((d) => d === null)) return [null, ...this.targetShape];
    const n = sizeOf(known as number[]);
    const fixed = this.targetShape.filter((d) => d !== -1);
    const f = sizeOf(fixed);
    const out = this.targetShape.map((d) => (d === -1 ? n / f : d));
    if (sizeOf(out) !== n || !out.every(Number.isInteger)) throw new AxonError(layerOp(this), `cannot reshape [${known.join(',')}] to [${this.targetShape.join(',')}]`);
    return [s[0]!, ...out];
  }
  override getConfig(): LayerConfig {
    return { targetShape: [...this.targetShape] };
  }
}
