/**
 * Core layers: Linear (PyTorch), Dense (Keras), Dropout, Flatten, Embedding, merge layers.
 *
 * Convolution and pooling layers live in `conv.ts`; normalisation layers (BatchNorm1d/2d,
 * BatchNormalization, LayerNorm) in `normalization.ts`.
 */
import { AxonError, type Tensor, add as addOp, bernoulli, concat, fmtShape, gather, matmul, noGrad, randn, reshape, sizeOf } from '@axon/core';
import { type ActivationName, activationName, getActivation } from './activations.js';
import { type Initializer, getInitializer, torchDefault } from './init.js';
import { type JsonValue, type LayerConfig, Module, reserveParameters } from './module.js';
import type { SymbolicShape } from './symbolic.js';

/**
 * Options every built-in layer accepts.
 * @example new Dense(4, { name: 'hidden', inputShape: [10] })
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

function checkInt(op: string, what: string, v: unknown, min = 1): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new AxonError(op, `${what} must be an integer >= ${min}, got ${String(v)}`);
  return v;
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
 * @example new Linear(4, 2, { bias: false })
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
    super(opts.name);
    this.inFeatures = checkInt('Linear', 'inFeatures', inFeatures);
    this.outFeatures = checkInt('Linear', 'outFeatures', outFeatures);
    reserveParameters(layerOp(this), opts.bias === false ? [[outFeatures, inFeatures]] : [[outFeatures, inFeatures], [outFeatures]]);
    this.weight = this.addParameter('weight', () => torchDefault([outFeatures, inFeatures], { fanIn: inFeatures }));
    this.bias = opts.bias === false ? null : this.addParameter('bias', () => torchDefault([outFeatures], { fanIn: inFeatures }));
  }

  forward(x: Tensor): Tensor {
    lastDim(this, x, this.inFeatures);
    const y = matmul(x, this.weight.T);
    return this.bias ? y.add(this.bias) : y;
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
 * @example new Dense(128, { activation: 'relu', kernelInitializer: 'heNormal' })
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
    super(opts.name);
    this.units = checkInt('Dense', 'units', units);
    this.activation = activationName(opts.activation, 'Dense');
    this.act = getActivation(this.activation);
    this.useBias = opts.useBias ?? true;
    this.kernelInit = opts.kernelInitializer ?? 'glorotUniform';
    this.biasInit = opts.biasInitializer ?? 'zeros';
    getInitializer(this.kernelInit);
    getInitializer(this.biasInit);
    this.inputShape = opts.inputShape ? [...opts.inputShape] : opts.inputDim !== undefined ? [opts.inputDim] : undefined;
    const inDim = this.inputShape ? this.inputShape[this.inputShape.length - 1] : undefined;
    if (inDim !== undefined) this.build(checkInt('Dense', 'input size', inDim));
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
   * @example new Dense(3).build(5)
   */
  build(inputDim: number): void {
    if (this.kernel) {
      if (this.kernel.shape[0] !== inputDim) throw new AxonError(layerOp(this), `already built for input size ${this.kernel.shape[0]}, got ${inputDim}`);
      return;
    }
    checkInt(layerOp(this), 'input size', inputDim);
    reserveParameters(layerOp(this), this.useBias ? [[inputDim, this.units], [this.units]] : [[inputDim, this.units]]);
    const kinit = getInitializer(this.kernelInit);
    this.kernel = this.addParameter('kernel', () => kinit([inputDim, this.units], { fanIn: inputDim, fanOut: this.units }));
    if (this.useBias) {
      const binit = getInitializer(this.biasInit);
      this.bias = this.addParameter('bias', () => binit([this.units], { fanIn: inputDim, fanOut: this.units }));
    }
  }

  /**
   * `x·kernel + bias` without the activation (used to fuse a final softmax into the loss).
   * @example dense.preActivation(x)
   */
  preActivation(x: Tensor): Tensor {
    const d = lastDim(this, x, this.inputDim);
    if (!this.kernel) this.build(d);
    const y = matmul(x, this.kernel!);
    return this.bias ? y.add(this.bias) : y;
  }

  forward(x: Tensor): Tensor {
    const z = this.preActivation(x);
    return this.activation === 'linear' ? z : this.act(z);
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
 * @example new Dropout({ rate: 0.2 })
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
 * @example new Dropout(0.2).call(x) // or new Dropout({ rate: 0.2 })
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
    const o: DropoutOptions = typeof opts === 'number' ? { rate: opts } : opts;
    super(o.name);
    this.inputShape = o.inputShape ? [...o.inputShape] : undefined;
    if (typeof o.rate !== 'number' || !(o.rate >= 0 && o.rate < 1)) throw new AxonError('Dropout', `rate must be in [0, 1), got ${String(o.rate)}`);
    this.rate = o.rate;
    this.seed = o.seed;
  }

  forward(x: Tensor): Tensor {
    if (!this.training || this.rate === 0) return x;
    const keepP = 1 - this.rate;
    const mask = noGrad(() => {
      const seedOpt = this.seed !== undefined ? { seed: this.seed + this.calls++ } : {};
      const m = bernoulli(keepP, x.shape, seedOpt);
      const scaled = m.mul(1 / keepP);
      m.dispose();
      return scaled;
    });
    const y = x.mul(mask);
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
   * @example dropout.setExtraState({ calls: 3 });
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
 * @example new Flatten({ inputShape: [28, 28] })
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
    super(opts.name);
    this.startAxis = opts.startAxis ?? 1;
    this.endAxis = opts.endAxis ?? -1;
    this.inputShape = opts.inputShape ? [...opts.inputShape] : undefined;
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
 * @example new Embedding({ inputDim: 1000, outputDim: 64 })
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
    const o: EmbeddingOptions = typeof numEmbeddings === 'number' ? { inputDim: numEmbeddings, outputDim: embeddingDim as number } : numEmbeddings;
    super(o.name);
    this.inputShape = o.inputShape ? [...o.inputShape] : undefined;
    this.inputDim = checkInt('Embedding', 'inputDim (number of embeddings)', o.inputDim);
    this.outputDim = checkInt('Embedding', 'outputDim (embedding size)', o.outputDim);
    const init = o.embeddingsInitializer ? getInitializer(o.embeddingsInitializer) : null;
    reserveParameters(layerOp(this), [[this.inputDim, this.outputDim]]);
    this.weight = this.addParameter('weight', () => (init ? init([this.inputDim, this.outputDim]) : randn([this.inputDim, this.outputDim])));
  }

  forward(ids: Tensor): Tensor {
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
 * @example new Add().call(a, b)
 */
export class Add extends Module {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'Add';
  forward(...xs: Tensor[]): Tensor {
    if (xs.length < 1) throw new AxonError(layerOp(this), 'expects at least one input');
    let y = xs[0]!;
    for (let i = 1; i < xs.length; i++) {
      if (xs[i]!.shape.join() !== xs[0]!.shape.join()) throw new AxonError(layerOp(this), `inputs have different shapes: ${xs.map((t) => fmtShape(t.shape)).join(', ')}`);
      y = addOp(y, xs[i]!);
    }
    return y;
  }

  override computeOutputShape(...s: SymbolicShape[]): SymbolicShape {
    for (const t of s) if (t.join() !== s[0]!.join()) throw new AxonError(layerOp(this), `inputs have different shapes: ${s.map((u) => `[${u.map((d) => d ?? 'null').join(',')}]`).join(', ')}`);
    return s[0]!;
  }
}

/**
 * Options of {@link Concatenate}.
 * @example new Concatenate({ axis: -1 })
 */
export interface ConcatenateOptions extends LayerOptions {
  /** The axis joined along (default −1). */
  axis?: number;
}

/**
 * Joins its inputs along `axis` (Keras's `layers.Concatenate`).
 * @example new Concatenate().call(a, b)
 */
export class Concatenate extends Module {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'Concatenate';
  /** The axis joined along. */
  readonly axis: number;
  constructor(opts: ConcatenateOptions = {}) {
    super(opts.name);
    this.axis = opts.axis ?? -1;
  }

  forward(...xs: Tensor[]): Tensor {
    if (xs.length < 1) throw new AxonError(layerOp(this), 'expects at least one input');
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
 * @example new Reshape({ targetShape: [1, 28, 28] })
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
    super(opts.name);
    if (!Array.isArray(opts.targetShape)) throw new AxonError('Reshape', 'targetShape must be an array');
    this.targetShape = [...opts.targetShape];
    this.inputShape = opts.inputShape ? [...opts.inputShape] : undefined;
  }
  forward(x: Tensor): Tensor {
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
