/**
 * Normalisation layers: `BatchNorm1d`/`BatchNorm2d` (PyTorch), `BatchNormalization` (Keras) and
 * `LayerNorm` (PyTorch), with the functional forms `batchNorm` and `layerNorm`.
 *
 * Everything is composed from core ops (`mean`, `square`, `rsqrt`, …), so autograd differentiates
 * it without dedicated rules. Running statistics are registered buffers: saved by `stateDict` and
 * the safetensors writers, never trained, and updated in place with `assign` under `noGrad`.
 */
import { AxonError, type Tensor, add, fmtShape, fmtValue, isTensor, mean, mul, noGrad, ones, reshape, rsqrt, square, sub, tidy, zeros } from '@axon/core';
import { allocating } from './build.js';
import { type LayerConfig, Module, reserveParameters } from './module.js';
import type { SymbolicShape } from './symbolic.js';
import { checkInt, composite, optBool, optInputShape, optName, optionsOf } from './validate.js';

function fmtSym(s: SymbolicShape): string {
  return `[${s.map((d) => d ?? 'null').join(', ')}]`;
}

function checkPositiveInt(op: string, what: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new AxonError(op, `${what} must be a positive integer, got ${fmtValue(v)}`);
  return v;
}

function checkEps(op: string, what: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new AxonError(op, `${what} must be a finite number >= 0, got ${fmtValue(v)}`);
  return v;
}

function checkMomentum(op: string, what: string, v: unknown, nullable: boolean): number | null {
  if (v === null && nullable) return null;
  if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new AxonError(op, `${what} must be a number in [0, 1]${nullable ? ' or null' : ''}, got ${fmtValue(v)}`);
  return v;
}

function checkFloatInput(op: string, x: unknown): Tensor {
  if (!isTensor(x)) throw new AxonError(op, `expected a Tensor input, got ${fmtValue(x)}`);
  if (x.isDisposed) throw new AxonError(op, `the input (tensor #${x.id} ${fmtShape(x.shape)}) was disposed`);
  if (x.dtype !== 'float32') throw new AxonError(op, `expects float32 input, got ${x.dtype} ${fmtShape(x.shape)} (convert with .astype('float32'))`);
  return x;
}

function checkVector(op: string, what: string, t: Tensor | null | undefined, n: number): void {
  if (t === null || t === undefined) return;
  if (!isTensor(t)) throw new AxonError(op, `${what} must be a Tensor or null, got ${fmtValue(t)}`);
  if (t.isDisposed) throw new AxonError(op, `${what} (tensor #${t.id}) was disposed`);
  if (t.rank !== 1 || t.shape[0] !== n) throw new AxonError(op, `${what} must have shape [${n}] (one value per channel), got ${fmtShape(t.shape)}`);
  if (t.dtype !== 'float32') throw new AxonError(op, `${what} must be float32, got ${t.dtype}`);
}

// ------------------------------------------------------------------ batch norm core

/** What the shared batch-norm implementation needs; `factor` is PyTorch's momentum (weight of the new statistic). */
interface BatchNormSpec {
  readonly op: string;
  /** The channel axis (normalised, ≥ 1). */
  readonly axis: number;
  /** Normalise with the batch's statistics (else with the running ones). */
  readonly useBatchStats: boolean;
  /** Running statistics to update when `useBatchStats` (null: not tracked). */
  readonly runningMean: Tensor | null;
  readonly runningVar: Tensor | null;
  /** Weight of the batch statistic in the running average: a number, or a scalar tensor (cumulative average). */
  readonly factor: number | Tensor;
  /** Update the running variance with the unbiased (n/(n−1)) batch variance, as PyTorch; Keras uses the biased one. */
  readonly unbiased: boolean;
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  readonly eps: number;
}

function batchNormCore(x: Tensor, s: BatchNormSpec): Tensor {
  const c = x.shape[s.axis]!;
  const axes: number[] = [];
  for (let i = 0; i < x.rank; i++) if (i !== s.axis) axes.push(i);
  const bshape = x.shape.map((d, i) => (i === s.axis ? d : 1));
  const n = x.size / c;
  if (s.useBatchStats && n <= 1) {
    throw new AxonError(s.op, `expected more than 1 value per channel when using batch statistics (training), got input ${fmtShape(x.shape)} (${n} value${n === 1 ? '' : 's'} per channel); use a larger batch or eval()`);
  }
  if (!s.useBatchStats && (s.runningMean === null || s.runningVar === null)) throw new AxonError(s.op, 'running statistics are needed to normalise in eval mode (training: false)');
  // Everything is computed first and the running statistics are updated last, so a failure
  // half-way changes nothing and leaks nothing.
  return composite([x, s.weight, s.bias, s.runningMean, s.runningVar], (tmp) => {
    let y: Tensor;
    let stats: { m: Tensor; v: Tensor } | null = null;
    if (s.useBatchStats) {
      const m = tmp(mean(x, axes, true));
      const xc = tmp(sub(x, m));
      const v = tmp(mean(tmp(square(xc)), axes, true));
      const inv = tmp(rsqrt(tmp(add(v, s.eps))));
      y = tmp(mul(xc, inv));
      stats = { m, v };
    } else {
      const xc = tmp(sub(x, tmp(reshape(s.runningMean!, bshape))));
      const inv = tmp(rsqrt(tmp(add(tmp(reshape(s.runningVar!, bshape)), s.eps))));
      y = tmp(mul(xc, inv));
    }
    if (s.weight !== null) y = tmp(mul(y, tmp(reshape(s.weight, bshape))));
    if (s.bias !== null) y = tmp(add(y, tmp(reshape(s.bias, bshape))));
    if (stats && s.runningMean !== null && s.runningVar !== null) updateRunning(s, stats.m, stats.v, n, c);
    return y;
  });
}

/** running ← (1 − f)·running + f·batchStat, in place and without recording gradients (both or neither). */
function updateRunning(s: BatchNormSpec, m: Tensor, v: Tensor, n: number, c: number): void {
  noGrad(() => {
    const rm = s.runningMean!;
    const rv = s.runningVar!;
    const f = s.factor;
    const [newMean, newVar] = tidy(() => {
      const keepF = typeof f === 'number' ? 1 - f : f.neg().add(1);
      const bm = reshape(m, [c]);
      const bvBiased = reshape(v, [c]);
      const bv = s.unbiased ? bvBiased.mul(n / (n - 1)) : bvBiased;
      const blend = (run: Tensor, stat: Tensor): Tensor => run.mul(keepF).add(stat.mul(f));
      return [blend(rm, bm), blend(rv, bv)];
    });
    rm.assign(newMean!);
    rv.assign(newVar!);
  });
}

/**
 * Options of {@link batchNorm} (PyTorch's `F.batch_norm`).
 * @example
 * const x = tensor([[1, 10], [3, 30]]); // [N=2, C=2]
 * const runningMean = zeros([2]);
 * const runningVar = ones([2]);
 * const opts: BatchNormFunctionOptions = { training: true, momentum: 0.1 };
 * batchNorm(x, runningMean, runningVar, opts) // [[-1.0000, -1.0000], [1.0000, 1.0000]]
 * runningMean // [0.2, 2]
 * runningVar // [1.1, 20.9]
 */
export interface BatchNormFunctionOptions {
  /** Per-channel scale γ, shape [C] (default none). */
  weight?: Tensor | null;
  /** Per-channel shift β, shape [C] (default none). */
  bias?: Tensor | null;
  /** Normalise with the batch's statistics and update the running ones (default false). */
  training?: boolean;
  /** Weight of the batch statistic in the running averages (PyTorch's momentum; default 0.1). */
  momentum?: number;
  /** Added to the variance (default 1e-5). */
  eps?: number;
}

/**
 * Batch normalisation over the channel axis 1 of `x` ([N, C], [N, C, L], [N, C, H, W], …), as
 * PyTorch's `F.batch_norm`. With `training: true` it normalises with the batch mean and biased
 * variance and, when running statistics are given, updates them in place (running mean and
 * *unbiased* variance, `running ← (1 − momentum)·running + momentum·batch`) without recording
 * gradients. Otherwise it normalises with `runningMean`/`runningVar`.
 * @example
 * const rm = zeros([3]), rv = ones([3]);
 * const y = batchNorm(randn([8, 3]), rm, rv, { training: true }); // rm, rv updated
 * y.mean(0).abs().max().item() < 1e-5 // true
 * rm.abs().max().item() > 0 // true
 * batchNorm(tensor([[2, 4, 6]]), rm, rv).shape // [1, 3]
 */
export function batchNorm(x: Tensor, runningMean: Tensor | null, runningVar: Tensor | null, opts: BatchNormFunctionOptions = {}): Tensor {
  const op = 'batchNorm';
  opts = optionsOf<BatchNormFunctionOptions>(op, opts, ['weight', 'bias', 'training', 'momentum', 'eps']);
  checkFloatInput(op, x);
  if (x.rank < 2) throw new AxonError(op, `expected input [N, C, ...] of rank >= 2, got ${fmtShape(x.shape)}`);
  const c = x.shape[1]!;
  const training = optBool(op, 'training', opts.training) ?? false;
  if (runningMean === undefined || runningVar === undefined) throw new AxonError(op, 'give runningMean and runningVar (tensors, or null for neither)');
  if ((runningMean === null) !== (runningVar === null)) throw new AxonError(op, 'give both runningMean and runningVar, or neither');
  if (!training && runningMean === null) throw new AxonError(op, 'runningMean and runningVar are required when training is false');
  checkVector(op, 'runningMean', runningMean, c);
  checkVector(op, 'runningVar', runningVar, c);
  checkVector(op, 'weight', opts.weight, c);
  checkVector(op, 'bias', opts.bias, c);
  const momentum = checkMomentum(op, 'momentum', opts.momentum ?? 0.1, false)!;
  const eps = checkEps(op, 'eps', opts.eps ?? 1e-5);
  return batchNormCore(x, {
    op,
    axis: 1,
    useBatchStats: training,
    runningMean,
    runningVar,
    factor: momentum,
    unbiased: true,
    weight: opts.weight ?? null,
    bias: opts.bias ?? null,
    eps,
  });
}

// ------------------------------------------------------------------ PyTorch BatchNorm modules

/**
 * Options of {@link BatchNorm1d} and {@link BatchNorm2d} (PyTorch's arguments, camelCase).
 * @example
 * const opts: BatchNormOptions = { momentum: 0.01, affine: false };
 * const bn = new BatchNorm2d(16, opts);
 * bn.countParams() // 0
 * Object.keys(bn.stateDict()) // ['running_mean', 'running_var', 'num_batches_tracked']
 */
export interface BatchNormOptions {
  /** Added to the variance for stability (default 1e-5). */
  eps?: number;
  /**
   * Weight of the batch statistic in the running averages (default 0.1): `running ← (1 − momentum)·running + momentum·batch`.
   * `null` gives a cumulative (equal-weight) average, as PyTorch's `momentum=None`.
   */
  momentum?: number | null;
  /** Learn a per-channel scale `weight` (ones) and shift `bias` (zeros) (default true). */
  affine?: boolean;
  /** Keep running mean/variance buffers and use them in eval mode (default true); otherwise batch statistics are always used. */
  trackRunningStats?: boolean;
  /** Layer name. */
  name?: string;
  /** One example's shape (no batch axis), for a Keras `sequential` model. */
  inputShape?: readonly number[];
}

/** What PyTorch's `_BatchNorm` shares: parameters, buffers, the training/eval switch. */
abstract class BatchNormBase extends Module {
  /** Number of channels C. */
  readonly numFeatures: number;
  /** Added to the variance. */
  readonly eps: number;
  /** PyTorch momentum (null: cumulative average). */
  readonly momentum: number | null;
  /** Whether `weight` and `bias` exist. */
  readonly affine: boolean;
  /** Whether running statistics are kept. */
  readonly trackRunningStats: boolean;
  /** Per-channel scale [C] (ones), or null without `affine`. */
  weight: Tensor | null = null;
  /** Per-channel shift [C] (zeros), or null without `affine`. */
  bias: Tensor | null = null;
  /** Buffer [C]: running mean (zeros), or null without `trackRunningStats`. */
  runningMean: Tensor | null = null;
  /** Buffer [C]: running (unbiased) variance (ones), or null without `trackRunningStats`. */
  runningVar: Tensor | null = null;
  /** Buffer, int32 scalar: training batches seen, or null without `trackRunningStats`. */
  numBatchesTracked: Tensor | null = null;
  /** The input's shape (one example) when given. */
  readonly inputShape: readonly number[] | undefined;

  constructor(cls: string, numFeatures: number, opts: BatchNormOptions) {
    const o = optionsOf<BatchNormOptions>(cls, opts, ['eps', 'momentum', 'affine', 'trackRunningStats', 'name', 'inputShape']);
    checkPositiveInt(cls, 'numFeatures', numFeatures);
    const eps = checkEps(cls, 'eps', o.eps ?? 1e-5);
    const momentum = checkMomentum(cls, 'momentum', o.momentum === undefined ? 0.1 : o.momentum, true);
    const affine = optBool(cls, 'affine', o.affine) ?? true;
    const trackRunningStats = optBool(cls, 'trackRunningStats', o.trackRunningStats) ?? true;
    const inputShape = optInputShape(cls, o.inputShape);
    super(optName(cls, o.name));
    this.numFeatures = numFeatures;
    this.eps = eps;
    this.momentum = momentum;
    this.affine = affine;
    this.trackRunningStats = trackRunningStats;
    this.inputShape = inputShape;
    reserveParameters(`${cls} '${this.name}'`, [...(this.affine ? [[numFeatures], [numFeatures]] : []), ...(this.trackRunningStats ? [[numFeatures], [numFeatures], []] : [])]);
    allocating(this, () => {
      if (this.affine) {
        this.weight = this.addParameter('weight', () => ones([numFeatures]));
        this.bias = this.addParameter('bias', () => zeros([numFeatures]));
      }
      if (this.trackRunningStats) {
        // PyTorch's buffer names, so state dicts and safetensors files are PyTorch's
        this.runningMean = this.registerBuffer('running_mean', zeros([numFeatures]));
        this.runningVar = this.registerBuffer('running_var', ones([numFeatures]));
        this.numBatchesTracked = this.registerBuffer('num_batches_tracked', zeros([], 'int32'));
      }
    });
  }

  /** `ClassName 'name'`, for errors. */
  protected get op(): string {
    return `${this.className} '${this.name}'`;
  }

  /** @internal Files saved before the buffers took PyTorch's names still load. */
  override legacyStateNames(): Readonly<Record<string, string>> {
    return { runningMean: 'running_mean', runningVar: 'running_var', numBatchesTracked: 'num_batches_tracked' };
  }

  /** The accepted input ranks and a description of them, for validation. */
  protected abstract readonly ranks: readonly number[];
  /** e.g. `[N, 16, H, W]`. */
  protected abstract describeInput(): string;

  /** Throws an {@link AxonError} naming the layer unless `x` is a float32 [N, C, …] of an accepted rank. */
  protected checkInput(x: Tensor): void {
    checkFloatInput(this.op, x);
    if (!this.ranks.includes(x.rank) || x.shape[1] !== this.numFeatures) {
      throw new AxonError(this.op, `expected input ${this.describeInput()} (numFeatures ${this.numFeatures}), got ${fmtShape(x.shape)}`);
    }
  }

  forward(x: Tensor): Tensor {
    this.checkInput(x);
    const useBatchStats = this.training || !this.trackRunningStats;
    const update = this.training && this.trackRunningStats && x.size / this.numFeatures > 1;
    // PyTorch: count the batch, and with momentum null average cumulatively (factor 1/batches).
    // The count is stored only once the batch was normalised (a failure changes nothing).
    const next = update ? noGrad(() => this.numBatchesTracked!.add(1)) : null;
    const factor = next && this.momentum === null ? noGrad(() => composite([next], (tmp) => tmp(next.astype('float32')).reciprocal())) : null;
    try {
      const y = batchNormCore(x, {
        op: this.op,
        axis: 1,
        useBatchStats,
        runningMean: this.runningMean,
        runningVar: this.runningVar,
        factor: factor ?? this.momentum ?? 0,
        unbiased: true,
        weight: this.weight,
        bias: this.bias,
        eps: this.eps,
      });
      if (next) this.numBatchesTracked!.assign(next);
      return y;
    } catch (e) {
      next?.dispose();
      throw e;
    } finally {
      factor?.dispose();
    }
  }

  /**
   * Resets the running statistics (mean 0, variance 1, batches 0), as PyTorch's `reset_running_stats`.
   * @example
   * const bn = new BatchNorm1d(2);
   * bn.call(tensor([[1, 10], [3, 30]])); // training mode: updates the running statistics
   * bn.runningMean // [0.2, 2]
   * bn.resetRunningStats();
   * bn.runningMean // [0, 0]
   * bn.numBatchesTracked // 0
   */
  resetRunningStats(): void {
    if (!this.trackRunningStats) return;
    noGrad(() => {
      this.runningMean!.assign(zeros([this.numFeatures]));
      this.runningVar!.assign(ones([this.numFeatures]));
      this.numBatchesTracked!.assign(zeros([], 'int32'));
    });
  }

  override computeOutputShape(s: SymbolicShape): SymbolicShape {
    if (!this.ranks.includes(s.length) || s[1] !== this.numFeatures) {
      throw new AxonError(this.op, `expected input ${this.describeInput()} (numFeatures ${this.numFeatures}), got ${fmtSym(s)}`);
    }
    return s;
  }

  override getConfig(): LayerConfig {
    return { numFeatures: this.numFeatures, eps: this.eps, momentum: this.momentum, affine: this.affine, trackRunningStats: this.trackRunningStats };
  }

  override extraRepr(): string {
    return `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum === null ? 'null' : this.momentum}, affine=${this.affine}, trackRunningStats=${this.trackRunningStats}`;
  }
}

function batchNormOptionsFrom(c: LayerConfig, name: string): BatchNormOptions {
  const o: BatchNormOptions = { name };
  if (typeof c['eps'] === 'number') o.eps = c['eps'];
  if (typeof c['momentum'] === 'number' || c['momentum'] === null) o.momentum = c['momentum'];
  if (typeof c['affine'] === 'boolean') o.affine = c['affine'];
  if (typeof c['trackRunningStats'] === 'boolean') o.trackRunningStats = c['trackRunningStats'];
  return o;
}

/**
 * PyTorch's `nn.BatchNorm1d` over [N, C] or [N, C, L] input: in training mode it normalises each
 * channel with the batch mean and biased variance (over N, or N and L) and updates the running
 * mean and unbiased variance buffers (`running_mean`, `running_var`, `num_batches_tracked`, PyTorch's names;
 * also reachable as the properties `runningMean`, `runningVar`, `numBatchesTracked`); in eval
 * mode it uses the running statistics. `weight` (ones) and `bias` (zeros) are learned when `affine`.
 * @example
 * const bn = new BatchNorm1d(4);
 * const y = bn.call(randn([32, 4])); // training: batch statistics, running stats updated
 * bn.numBatchesTracked // 1
 * bn.eval();
 * bn.call(randn([1, 4])).shape // [1, 4]; eval: running statistics, so one example is fine
 */
export class BatchNorm1d extends BatchNormBase {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'BatchNorm1d';
  protected readonly ranks: readonly number[] = [2, 3];

  constructor(numFeatures: number, opts: BatchNormOptions = {}) {
    super('BatchNorm1d', numFeatures, opts);
  }

  protected describeInput(): string {
    return `[N, ${this.numFeatures}] or [N, ${this.numFeatures}, L]`;
  }

  /**
   * Rebuilds from {@link BatchNorm1d.getConfig}.
   * @example BatchNorm1d.fromConfig(new BatchNorm1d(4, { eps: 1e-3 }).getConfig(), 'bn').eps // 0.001
   */
  static fromConfig(c: LayerConfig, name: string): BatchNorm1d {
    return new BatchNorm1d(c['numFeatures'] as number, batchNormOptionsFrom(c, name));
  }
}

/**
 * PyTorch's `nn.BatchNorm2d` over NCHW input [N, C, H, W]: per-channel statistics over N, H and W.
 * Training mode uses (and updates the running statistics from) the batch; eval mode uses the
 * running statistics, so each example's output does not depend on the rest of the batch.
 * @example
 * const net = new Sequential(new Conv2d(1, 8, 3), new BatchNorm2d(8), new ReLU());
 * net.call(randn([16, 1, 28, 28])).shape; // [16, 8, 26, 26]
 */
export class BatchNorm2d extends BatchNormBase {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'BatchNorm2d';
  protected readonly ranks: readonly number[] = [4];

  constructor(numFeatures: number, opts: BatchNormOptions = {}) {
    super('BatchNorm2d', numFeatures, opts);
  }

  protected describeInput(): string {
    return `NCHW [N, ${this.numFeatures}, H, W]`;
  }

  /**
   * Rebuilds from {@link BatchNorm2d.getConfig}.
   * @example BatchNorm2d.fromConfig({ numFeatures: 8 }, 'bn').runningMean!.shape // [8]
   */
  static fromConfig(c: LayerConfig, name: string): BatchNorm2d {
    return new BatchNorm2d(c['numFeatures'] as number, batchNormOptionsFrom(c, name));
  }
}

// ------------------------------------------------------------------ Keras BatchNormalization

/**
 * Options of {@link BatchNormalization} (Keras's arguments).
 * @example
 * const opts: BatchNormalizationOptions = { axis: 1, momentum: 0.9 }; // channels of NCHW input
 * const bn = new BatchNormalization(opts);
 * bn.call(randn([2, 3, 4, 4])).shape // [2, 3, 4, 4]
 * bn.numFeatures // 3
 */
export interface BatchNormalizationOptions {
  /** The feature (channel) axis of the input, batch axis included (default −1; use 1 after an NCHW `Conv2d`). */
  axis?: number;
  /**
   * Keras momentum (default 0.99): `moving ← momentum·moving + (1 − momentum)·batch`.
   * PyTorch's momentum is `1 − momentum`.
   */
  momentum?: number;
  /** Added to the variance (default 1e-3). */
  epsilon?: number;
  /** Learn the shift `beta` (zeros) (default true). */
  center?: boolean;
  /** Learn the scale `gamma` (ones) (default true). */
  scale?: boolean;
  /** The feature count; otherwise taken from `inputShape` or inferred on the first call. */
  numFeatures?: number;
  /** Layer name. */
  name?: string;
  /** One example's shape (no batch axis): lets a Keras `sequential` model build eagerly. */
  inputShape?: readonly number[];
}

/**
 * Keras's `layers.BatchNormalization`: normalises over every axis but `axis` with the batch mean
 * and (biased) variance in training, updating the buffers `movingMean` and `movingVariance` with
 * Keras's momentum (`moving ← momentum·moving + (1 − momentum)·batch`, the biased variance as
 * Keras does); in eval mode (`predict`, `evaluate`) it uses the moving statistics. `gamma` (ones)
 * and `beta` (zeros) are learned per feature; the feature count is inferred on the first call.
 * @example
 * const m = sequential([
 *   new Conv2d(1, 8, 3, { inputShape: [1, 28, 28] }),
 *   new BatchNormalization({ axis: 1 }),
 *   new ReLU(), new Flatten(), new Dense(10, { activation: 'softmax' }),
 * ]);
 * m.predict(randn([2, 1, 28, 28])).shape // [2, 10]
 */
export class BatchNormalization extends Module {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'BatchNormalization';
  /** The feature axis as given (negative counts from the end). */
  readonly axis: number;
  /** Keras momentum. */
  readonly momentum: number;
  /** Added to the variance. */
  readonly epsilon: number;
  /** Whether `beta` is learned. */
  readonly center: boolean;
  /** Whether `gamma` is learned. */
  readonly scale: boolean;
  /** Per-feature scale once built (when `scale`). */
  gamma: Tensor | null = null;
  /** Per-feature shift once built (when `center`). */
  beta: Tensor | null = null;
  /** Buffer: moving mean once built. */
  movingMean: Tensor | null = null;
  /** Buffer: moving (biased) variance once built. */
  movingVariance: Tensor | null = null;
  /** The input's shape (one example) when given. */
  readonly inputShape: readonly number[] | undefined;

  constructor(opts: BatchNormalizationOptions = {}) {
    const cls = 'BatchNormalization';
    const o = optionsOf<BatchNormalizationOptions>(cls, opts, ['axis', 'momentum', 'epsilon', 'center', 'scale', 'numFeatures', 'name', 'inputShape']);
    const axis = checkInt(cls, 'axis', o.axis ?? -1, -64, 64);
    const momentum = checkMomentum(cls, 'momentum', o.momentum ?? 0.99, false)!;
    const epsilon = checkEps(cls, 'epsilon', o.epsilon ?? 1e-3);
    const center = optBool(cls, 'center', o.center) ?? true;
    const scale = optBool(cls, 'scale', o.scale) ?? true;
    const inputShape = optInputShape(cls, o.inputShape);
    const numFeatures = o.numFeatures === undefined ? undefined : checkPositiveInt(cls, 'numFeatures', o.numFeatures);
    super(optName(cls, o.name));
    this.axis = axis;
    this.momentum = momentum;
    this.epsilon = epsilon;
    this.center = center;
    this.scale = scale;
    this.inputShape = inputShape;
    if (numFeatures !== undefined) this.build(numFeatures);
    else if (this.inputShape) {
      const ax = this.axisFor(this.inputShape.length + 1);
      this.build(checkPositiveInt(cls, `inputShape[${ax - 1}]`, this.inputShape[ax - 1]));
    }
  }

  private get op(): string {
    return `BatchNormalization '${this.name}'`;
  }

  /** The feature count once built, else null. */
  get numFeatures(): number | null {
    return this.movingMean ? this.movingMean.shape[0]! : null;
  }

  /** Whether the weights and buffers exist. */
  get built(): boolean {
    return this.movingMean !== null;
  }

  /** `axis` normalised for an input of rank `rank` (never the batch axis). */
  private axisFor(rank: number): number {
    const ax = this.axis < 0 ? rank + this.axis : this.axis;
    if (rank < 2 || ax < 1 || ax >= rank) throw new AxonError(this.op, `axis ${this.axis} is not a feature axis of a rank-${rank} input (the batch axis 0 cannot be normalised over alone)`);
    return ax;
  }

  /**
   * Creates `gamma`, `beta` and the moving statistics for `numFeatures` features (done on the first call).
   * @example
   * const bn = new BatchNormalization();
   * bn.build(16);
   * bn.countParams() // 32
   * bn.movingVariance // [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]
   */
  build(numFeatures: number): void {
    if (this.movingMean) {
      if (this.numFeatures !== numFeatures) throw new AxonError(this.op, `already built for ${this.numFeatures} features, got ${numFeatures}`);
      return;
    }
    checkPositiveInt(this.op, 'numFeatures', numFeatures);
    reserveParameters(this.op, [...(this.scale ? [[numFeatures]] : []), ...(this.center ? [[numFeatures]] : []), [numFeatures], [numFeatures]]);
    try {
      if (this.scale) this.gamma = this.addParameter('gamma', () => ones([numFeatures]));
      if (this.center) this.beta = this.addParameter('beta', () => zeros([numFeatures]));
      this.movingMean = this.registerBuffer('movingMean', zeros([numFeatures]));
      this.movingVariance = this.registerBuffer('movingVariance', ones([numFeatures]));
    } catch (e) {
      // nothing half-built: a failed build leaves the layer unbuilt
      this.dispose();
      this.gamma = this.beta = this.movingMean = this.movingVariance = null;
      throw e;
    }
  }

  forward(x: Tensor): Tensor {
    checkFloatInput(this.op, x);
    const ax = this.axisFor(x.rank);
    const f = x.shape[ax]!;
    if (!this.movingMean) this.build(f);
    else if (f !== this.numFeatures) throw new AxonError(this.op, `expected ${this.numFeatures} features on axis ${this.axis}, got input ${fmtShape(x.shape)}`);
    return batchNormCore(x, {
      op: this.op,
      axis: ax,
      useBatchStats: this.training,
      runningMean: this.movingMean,
      runningVar: this.movingVariance,
      factor: 1 - this.momentum,
      unbiased: false,
      weight: this.gamma,
      bias: this.beta,
      eps: this.epsilon,
    });
  }

  override computeOutputShape(s: SymbolicShape): SymbolicShape {
    const ax = this.axisFor(s.length);
    const f = s[ax];
    if (typeof f !== 'number') throw new AxonError(this.op, `cannot infer the feature count from axis ${this.axis} of ${fmtSym(s)}`);
    if (!this.movingMean) this.build(f);
    else if (f !== this.numFeatures) throw new AxonError(this.op, `expected ${this.numFeatures} features on axis ${this.axis}, got ${fmtSym(s)}`);
    return s;
  }

  override getConfig(): LayerConfig {
    const cfg: Record<string, LayerConfig[string]> = { axis: this.axis, momentum: this.momentum, epsilon: this.epsilon, center: this.center, scale: this.scale };
    if (this.numFeatures !== null) cfg['numFeatures'] = this.numFeatures;
    return cfg;
  }

  /**
   * Rebuilds from {@link BatchNormalization.getConfig}.
   * @example BatchNormalization.fromConfig({ axis: 1, numFeatures: 8 }, 'bn').gamma!.shape // [8]
   */
  static fromConfig(c: LayerConfig, name: string): BatchNormalization {
    const o: BatchNormalizationOptions = { name };
    if (typeof c['axis'] === 'number') o.axis = c['axis'];
    if (typeof c['momentum'] === 'number') o.momentum = c['momentum'];
    if (typeof c['epsilon'] === 'number') o.epsilon = c['epsilon'];
    if (typeof c['center'] === 'boolean') o.center = c['center'];
    if (typeof c['scale'] === 'boolean') o.scale = c['scale'];
    if (typeof c['numFeatures'] === 'number') o.numFeatures = c['numFeatures'];
    return new BatchNormalization(o);
  }
}

// ------------------------------------------------------------------ LayerNorm

/**
 * Options of {@link layerNorm}.
 * @example
 * const x = tensor([[1, 3], [10, 30]]);
 * const opts: LayerNormFunctionOptions = { weight: tensor([1, 2]), bias: tensor([0, 1]), eps: 1e-6 };
 * layerNorm(x, [2], opts) // [[-1.0000, 3.0000], [-1.0000, 3.0000]]
 */
export interface LayerNormFunctionOptions {
  /** Elementwise scale of shape `normalizedShape` (default none). */
  weight?: Tensor | null;
  /** Elementwise shift of shape `normalizedShape` (default none). */
  bias?: Tensor | null;
  /** Added to the variance (default 1e-5). */
  eps?: number;
}

function normShape(op: string, s: number | readonly number[]): number[] {
  const shape = typeof s === 'number' ? [s] : Array.isArray(s) ? [...(s as readonly number[])] : null;
  if (shape === null || shape.length === 0 || shape.length > 16 || !shape.every((d) => Number.isInteger(d) && d >= 1 && d <= 2 ** 31 - 1)) {
    throw new AxonError(op, `normalizedShape must be a positive integer or a non-empty array of at most 16 of them, got ${fmtValue(s)}`);
  }
  if (shape.reduce((a, b) => a * b, 1) > 2 ** 31 - 1) throw new AxonError(op, `normalizedShape ${fmtShape(shape)} has more than 2^31-1 elements`);
  return shape;
}

function layerNormCore(op: string, x: Tensor, shape: readonly number[], weight: Tensor | null, bias: Tensor | null, eps: number): Tensor {
  const k = shape.length;
  const tail = x.shape.slice(x.rank - k);
  if (x.rank < k || tail.some((d, i) => d !== shape[i])) {
    throw new AxonError(op, `expected input [..., ${shape.join(', ')}] (normalizedShape [${shape.join(', ')}] as its trailing dimensions), got ${fmtShape(x.shape)}`);
  }
  const axes: number[] = [];
  for (let i = x.rank - k; i < x.rank; i++) axes.push(i);
  return composite([x, weight, bias], (tmp) => {
    const m = tmp(mean(x, axes, true));
    const xc = tmp(sub(x, m));
    const v = tmp(mean(tmp(square(xc)), axes, true));
    const inv = tmp(rsqrt(tmp(add(v, eps))));
    let y = tmp(mul(xc, inv));
    if (weight !== null) y = tmp(mul(y, weight));
    if (bias !== null) y = tmp(add(y, bias));
    return y;
  });
}

function checkAffine(op: string, what: string, t: Tensor | null | undefined, shape: readonly number[]): void {
  if (t === null || t === undefined) return;
  if (!isTensor(t)) throw new AxonError(op, `${what} must be a Tensor or null, got ${fmtValue(t)}`);
  if (t.isDisposed) throw new AxonError(op, `${what} (tensor #${t.id}) was disposed`);
  if (t.rank !== shape.length || t.shape.some((d, i) => d !== shape[i])) throw new AxonError(op, `${what} must have shape [${shape.join(', ')}] (normalizedShape), got ${fmtShape(t.shape)}`);
  if (t.dtype !== 'float32') throw new AxonError(op, `${what} must be float32, got ${t.dtype}`);
}

/**
 * Layer normalisation (PyTorch's `F.layer_norm`): normalises over the trailing dimensions
 * `normalizedShape` of each example with their mean and biased variance, then applies the
 * optional elementwise `weight` and `bias`.
 * @example
 * const y = layerNorm(randn([2, 5, 8]), [8]); // each row of 8: mean 0, variance ≈ 1
 * y.shape // [2, 5, 8]
 * y.mean(-1).abs().max().item() < 1e-5 // true
 */
export function layerNorm(x: Tensor, normalizedShape: number | readonly number[], opts: LayerNormFunctionOptions = {}): Tensor {
  const op = 'layerNorm';
  opts = optionsOf<LayerNormFunctionOptions>(op, opts, ['weight', 'bias', 'eps']);
  checkFloatInput(op, x);
  const shape = normShape(op, normalizedShape);
  checkAffine(op, 'weight', opts.weight, shape);
  checkAffine(op, 'bias', opts.bias, shape);
  return layerNormCore(op, x, shape, opts.weight ?? null, opts.bias ?? null, checkEps(op, 'eps', opts.eps ?? 1e-5));
}

/**
 * Options of {@link LayerNorm} (PyTorch's arguments, camelCase).
 * @example
 * const opts: LayerNormOptions = { eps: 1e-6, bias: false };
 * new LayerNorm(512, opts).countParams() // 512
 */
export interface LayerNormOptions {
  /** Added to the variance (default 1e-5). */
  eps?: number;
  /** Learn an elementwise `weight` (ones) and `bias` (zeros) of shape `normalizedShape` (default true). */
  elementwiseAffine?: boolean;
  /** With `elementwiseAffine`, whether to learn the `bias` (default true). */
  bias?: boolean;
  /** Layer name. */
  name?: string;
  /** One example's shape (no batch axis), for a Keras `sequential` model. */
  inputShape?: readonly number[];
}

/**
 * PyTorch's `nn.LayerNorm`: normalises each example over its trailing dimensions
 * `normalizedShape` (mean and biased variance), the same in training and eval, then scales by
 * `weight` (ones) and shifts by `bias` (zeros), both of shape `normalizedShape`.
 * @example
 * const ln = new LayerNorm(64);                // or new LayerNorm([16, 64])
 * ln.call(randn([8, 16, 64])).shape;           // [8, 16, 64]
 */
export class LayerNorm extends Module {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'LayerNorm';
  /** The trailing dimensions normalised over. */
  readonly normalizedShape: readonly number[];
  /** Added to the variance. */
  readonly eps: number;
  /** Whether `weight` (and `bias`) are learned. */
  readonly elementwiseAffine: boolean;
  /** Elementwise scale (ones), or null. */
  weight: Tensor | null = null;
  /** Elementwise shift (zeros), or null. */
  bias: Tensor | null = null;
  /** The input's shape (one example) when given. */
  readonly inputShape: readonly number[] | undefined;

  constructor(normalizedShape: number | readonly number[], opts: LayerNormOptions = {}) {
    const cls = 'LayerNorm';
    const o = optionsOf<LayerNormOptions>(cls, opts, ['eps', 'elementwiseAffine', 'bias', 'name', 'inputShape']);
    const shape = normShape(cls, normalizedShape);
    const eps = checkEps(cls, 'eps', o.eps ?? 1e-5);
    const affine = optBool(cls, 'elementwiseAffine', o.elementwiseAffine) ?? true;
    const useBias = optBool(cls, 'bias', o.bias) ?? true;
    const inputShape = optInputShape(cls, o.inputShape);
    super(optName(cls, o.name));
    this.normalizedShape = Object.freeze(shape);
    this.eps = eps;
    this.elementwiseAffine = affine;
    this.inputShape = inputShape;
    if (this.elementwiseAffine) reserveParameters(`LayerNorm '${this.name}'`, useBias ? [shape, shape] : [shape]);
    allocating(this, () => {
      if (this.elementwiseAffine) {
        this.weight = this.addParameter('weight', () => ones(shape));
        if (useBias) this.bias = this.addParameter('bias', () => zeros(shape));
      }
    });
  }

  forward(x: Tensor): Tensor {
    const op = `LayerNorm '${this.name}'`;
    checkFloatInput(op, x);
    return layerNormCore(op, x, this.normalizedShape, this.weight, this.bias, this.eps);
  }

  override computeOutputShape(s: SymbolicShape): SymbolicShape {
    const k = this.normalizedShape.length;
    const tail = s.slice(s.length - k);
    if (s.length < k || tail.some((d, i) => d !== this.normalizedShape[i])) {
      throw new AxonError(`LayerNorm '${this.name}'`, `expected input [..., ${this.normalizedShape.join(', ')}], got ${fmtSym(s)}`);
    }
    return s;
  }

  override getConfig(): LayerConfig {
    const cfg: Record<string, LayerConfig[string]> = { normalizedShape: [...this.normalizedShape], eps: this.eps, elementwiseAffine: this.elementwiseAffine };
    if (this.elementwiseAffine) cfg['bias'] = this.bias !== null;
    return cfg;
  }

  override extraRepr(): string {
    return `[${this.normalizedShape.join(', ')}], eps=${this.eps}, elementwiseAffine=${this.elementwiseAffine}`;
  }

  /**
   * Rebuilds from {@link LayerNorm.getConfig}.
   * @example LayerNorm.fromConfig({ normalizedShape: [64] }, 'ln').weight!.shape // [64]
   */
  static fromConfig(c: LayerConfig, name: string): LayerNorm {
    const o: LayerNormOptions = { name };
    if (typeof c['eps'] === 'number') o.eps = c['eps'];
    if (typeof c['elementwiseAffine'] === 'boolean') o.elementwiseAffine = c['elementwiseAffine'];
    if (typeof c['bias'] === 'boolean') o.bias = c['bias'];
    return new LayerNorm(c['normalizedShape'] as number[], o);
  }
}
