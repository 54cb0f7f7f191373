/**
 * The Keras front end: {@link Model} (compile / fit / evaluate / predict / summary),
 * {@link Sequential} and functional {@link GraphModel}s.
 */
import {
  AxonError, type Tensor, checkAnomalies, concat, fmtShape, fmtValue, gather, getRngState, isAnomalyDetectionEnabled, isTensor, keep, noGrad, randint, setRngState, sigmoid, softmax, tensor, tidy,
} from '@axon/core';
import { LRScheduler, optimizer as makeOptimizer, Optimizer, type OptimizerConfig, type OptimizerStateDict } from '@axon/optimizers';
import { Activation, Sigmoid, Softmax } from './activations.js';
import { BackupAndRestore, type Callback, History, type Logs } from './callbacks.js';
import { type CheckpointEntry, type CheckpointInfo, type DataPosition, decodeNumber, deleteCheckpoints, encodeNumber, readLatestCheckpoint, writeCheckpoint } from './checkpoint.js';
import { type Batch, type BatchSource, type DataInput, type Owned, asIndexedSource, isBatchSource, permutation, toTensorData } from './data.js';
import { type HostTensorEntry, type SafetensorsContents, fromHostTensors, toHostTensors } from './safetensors.js';
import { Add as AddLayer, Concatenate as ConcatenateLayer, Dense, Linear } from './layers.js';
import { type LossConfig, type LossFn, type LossSpec, getLoss, lossFnOf } from './losses.js';
import { type MetricFn, type MetricSpec, getMetric } from './metrics.js';
import { type LayerConfig, Module, uniqueName } from './module.js';
import type { SymbolicTensor} from './symbolic.js';
import { type SymbolicShape, isSymbolic } from './symbolic.js';
import { checkExampleShape, checkFinite, checkInt, optBool, optName, optionsOf } from './validate.js';

const FIT_KEYS = ['epochs', 'batchSize', 'shuffle', 'seed', 'validationSplit', 'validationData', 'callbacks', 'verbose', 'log', 'initialEpoch', 'checkpoint', 'scheduler', 'schedulerStep'];

/** `fit`'s options, checked before anything is created (a misspelt option is an error, as in Keras). */
function fitOptions(op: string, raw: unknown): FitOptions {
  const o = optionsOf<FitOptions>(op, raw === null ? undefined : raw, FIT_KEYS);
  if (o.epochs !== undefined) checkInt(op, 'epochs', o.epochs, 0, Number.MAX_SAFE_INTEGER);
  if (o.batchSize !== undefined) checkInt(op, 'batchSize', o.batchSize, 1);
  optBool(op, 'shuffle', o.shuffle);
  if (o.seed !== undefined) checkFinite(op, 'seed', o.seed);
  if (o.validationSplit !== undefined && (typeof o.validationSplit !== 'number' || !(o.validationSplit >= 0 && o.validationSplit < 1))) {
    throw new AxonError(op, `validationSplit must be in [0, 1), got ${fmtValue(o.validationSplit)}`);
  }
  if (o.callbacks !== undefined) {
    if (!Array.isArray(o.callbacks)) throw new AxonError(op, `callbacks must be a list of callback objects, got ${fmtValue(o.callbacks)}`);
    o.callbacks.forEach((cb: unknown, i) => {
      if (cb === null || typeof cb !== 'object') throw new AxonError(op, `callbacks[${i}] must be a callback object (e.g. { onEpochEnd(epoch, logs) { … } }), got ${fmtValue(cb)}`);
    });
  }
  if (o.verbose !== undefined && o.verbose !== 0 && o.verbose !== 1 && o.verbose !== 2) throw new AxonError(op, `verbose must be 0, 1 or 2, got ${fmtValue(o.verbose)}`);
  if (o.log !== undefined && typeof o.log !== 'function') throw new AxonError(op, `log must be a function (line) => void, got ${fmtValue(o.log)}`);
  if (o.initialEpoch !== undefined) checkInt(op, 'initialEpoch', o.initialEpoch, 0, Number.MAX_SAFE_INTEGER);
  return o;
}

/** `evaluate`'s and `predict`'s options: the batch size (default 32). */
function batchSizeOf(op: string, raw: unknown): number {
  const o = optionsOf<EvaluateOptions>(op, raw === null ? undefined : raw, ['batchSize']);
  return o.batchSize === undefined ? 32 : checkInt(op, 'batchSize', o.batchSize, 1);
}

/**
 * Options of {@link Model.compile}.
 * @example
 * const net = sequential([new Dense(3, { inputShape: [4], activation: 'softmax' })]);
 * const config: CompileConfig = { optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] };
 * net.compile(config);
 * const logs = await net.evaluate(randn([8, 4]), randint(0, 3, [8]));
 * Object.keys(logs) // ['loss', 'accuracy']
 */
export interface CompileConfig {
  /** An optimizer name (`'adam'`, `'sgd'`, …, Keras defaults), a config `{ name, learningRate, … }`, or an Optimizer. */
  optimizer: string | OptimizerConfig | Optimizer;
  /** A Keras loss name, a config `{ name, fromLogits }`, or a function (yPred, yTrue) → scalar. */
  loss: string | LossConfig | LossFn;
  /** Metric names (`'accuracy'`, `'mse'`, …) or functions. */
  metrics?: readonly (string | MetricFn | MetricSpec)[];
}

/**
 * Options of {@link Model.fit}.
 * @example
 * const net = sequential([new Dense(1, { inputShape: [2] })]);
 * net.compile({ optimizer: 'sgd', loss: 'mse' });
 * const options: FitOptions = { epochs: 5, batchSize: 4, validationSplit: 0.25, verbose: 0 };
 * const h = await net.fit(randn([16, 2]), randn([16, 1]), options); // 12 examples train, the last 4 validate
 * Object.keys(h.history) // ['loss', 'val_loss']
 * h.history.val_loss!.length // 5
 */
export interface FitOptions {
  /** Epochs (default 1). */
  epochs?: number;
  /** Examples per step for tensor/array data (default 32). */
  batchSize?: number;
  /** Shuffle tensor/array data each epoch (default true; seeded, see `seed`). */
  shuffle?: boolean;
  /** Seed of the shuffling (default: drawn from core's global stream, so `setSeed` makes it reproducible). */
  seed?: number;
  /** Fraction of tensor/array data (the last examples, before shuffling) held out for validation. */
  validationSplit?: number;
  /** Validation data: `[x, y]` or a dataset of `{ x, y }` batches. */
  validationData?: readonly [DataInput, DataInput] | BatchSource;
  /** Training callbacks (per-epoch logging, early stopping, checkpoints). */
  callbacks?: readonly Callback[];
  /** 0: silent; 1 (default): one line per epoch; 2: same as 1. */
  verbose?: 0 | 1 | 2;
  /** Where verbose lines go (default `console.log`). */
  log?: (line: string) => void;
  /** Epoch to start from (default 0; a `checkpoint` with `resume` overrides it). */
  initialEpoch?: number;
  /**
   * Checkpoints holding everything to continue exactly (weights, optimizer and scheduler state,
   * epoch and step, random state, data position, layers' extra state), written atomically every
   * epoch or every N steps and when training is stopped; with `resume: true`, `fit` continues from
   * the latest one in `dir`. See {@link FitCheckpointOptions}.
   */
  checkpoint?: FitCheckpointOptions;
  /**
   * A learning-rate schedule `fit` steps (after every epoch, or every batch with
   * `schedulerStep: 'batch'`), saved in checkpoints. Give a function `(optimizer) => scheduler`
   * when the model was compiled with an optimizer name (`fit` creates the optimizer).
   */
  scheduler?: LRScheduler | ((optimizer: Optimizer) => LRScheduler);
  /** When `fit` steps `scheduler`: `'epoch'` (default) or `'batch'`. */
  schedulerStep?: 'epoch' | 'batch';
}

/**
 * Options of `fit`'s `checkpoint`.
 * @example
 * const net = sequential([new Dense(1, { inputShape: [2] })]);
 * net.compile({ optimizer: 'adam', loss: 'mse' });
 * const checkpoint: FitCheckpointOptions = { dir: 'ckpt-every-3', every: 3, keep: 2, resume: true };
 * // 2 epochs of 4 batches: a checkpoint after steps 3 and 6; resume: true continues from the latest one if there is one
 * const h = await net.fit(randn([8, 2]), randn([8, 1]), { epochs: 2, batchSize: 2, verbose: 0, checkpoint });
 * h.checkpoints.map((c) => c.globalStep) // [3, 6]
 * const latest = await latestCheckpoint('ckpt-every-3');
 * latest!.globalStep // 6
 */
export interface FitCheckpointOptions {
  /** The checkpoint folder (`checkpoint.json` + `ckpt-<hash>.safetensors` files). */
  dir: string;
  /** `'epoch'` (default): at the end of every epoch; a number N: every N training steps. */
  every?: 'epoch' | number;
  /** How many checkpoints to keep (default 1; older ones are deleted). */
  keep?: number;
  /** Continue from the latest checkpoint in `dir` when there is one (default false: start over, writing new checkpoints). */
  resume?: boolean;
}

/** `fit`'s resolved checkpoint settings (from `checkpoint` or a BackupAndRestore callback). */
interface CheckpointConfig {
  readonly dir: string;
  readonly every: 'epoch' | number;
  readonly keep: number;
  readonly resume: boolean;
  readonly deleteOnFinish: boolean;
}

function checkpointConfig(op: string, opts: FitOptions, callbacks: readonly Callback[]): CheckpointConfig | null {
  const backups = callbacks.filter((cb): cb is BackupAndRestore => cb instanceof BackupAndRestore);
  if (backups.length > 1) throw new AxonError(op, 'give at most one BackupAndRestore callback');
  if (backups.length && opts.checkpoint) throw new AxonError(op, 'give a checkpoint option or a BackupAndRestore callback, not both');
  const b = backups[0];
  if (b) return { dir: b.backupDir, every: b.saveFreq, keep: 1, resume: true, deleteOnFinish: b.deleteCheckpoint };
  const ck = opts.checkpoint;
  if (ck === undefined) return null;
  if (ck === null || typeof ck !== 'object' || typeof ck.dir !== 'string' || ck.dir === '') throw new AxonError(op, 'checkpoint must be { dir: string, every?, keep?, resume? }');
  const every = ck.every ?? 'epoch';
  if (every !== 'epoch' && !(Number.isInteger(every) && every >= 1)) throw new AxonError(op, `checkpoint.every must be 'epoch' or a positive integer number of steps, got ${fmtValue(every)}`);
  const keepN = ck.keep ?? 1;
  if (!(Number.isInteger(keepN) && keepN >= 1)) throw new AxonError(op, `checkpoint.keep must be a positive integer, got ${fmtValue(keepN)}`);
  if (ck.resume !== undefined && typeof ck.resume !== 'boolean') throw new AxonError(op, `checkpoint.resume must be true or false, got ${fmtValue(ck.resume)}`);
  return { dir: ck.dir, every, keep: keepN, resume: ck.resume ?? false, deleteOnFinish: false };
}

/** Checks that a checkpoint was written by a run over the same data, before anything is restored. */
function checkResumable(op: string, e: CheckpointEntry, pos: DataPosition, dir: string): void {
  const nat = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
  if (!nat(e.epoch) || !nat(e.step) || !nat(e.globalStep) || !nat(e.seed) || e.data === null || typeof e.data !== 'object') {
    throw new AxonError(op, `the latest checkpoint in '${dir}' is malformed (epoch ${String(e.epoch)}, step ${String(e.step)})`);
  }
  const d = e.data;
  if (d.kind !== pos.kind) throw new AxonError(op, `the checkpoint in '${dir}' was written while training on ${d.kind === 'arrays' ? 'tensor/array data' : 'a dataset'}, not ${pos.kind === 'arrays' ? 'tensor/array data' : 'a dataset'}`);
  if (d.kind === 'arrays' && pos.kind === 'arrays' && (d.n !== pos.n || d.batchSize !== pos.batchSize || d.shuffle !== pos.shuffle)) {
    throw new AxonError(op, `the checkpoint in '${dir}' was written for ${d.n} training examples in batches of ${d.batchSize}${d.shuffle ? ', shuffled' : ''}; this fit has ${pos.n} in batches of ${pos.batchSize}${pos.shuffle ? ', shuffled' : ''} — resume with the same data and options`);
  }
}

/** An anomaly found during a step, with the epoch and batch added; other errors as they are. */
function stepError(e: unknown, epoch: number, batch: number): unknown {
  if (!(e instanceof AxonError) || e.op !== 'anomaly') return e;
  const err = new AxonError('fit', `epoch ${epoch + 1}, batch ${batch + 1}: ${e.message}`);
  Object.defineProperty(err, 'cause', { value: e, enumerable: false });
  return err;
}

/** Resolves once pending timers and I/O (e.g. a SIGINT handler) had a chance to run. */
function yieldToEventLoop(): Promise<void> {
  if (typeof setImmediate === 'function') return new Promise((r) => setImmediate(r));
  if (typeof MessageChannel === 'function') {
    return new Promise((r) => {
      const ch = new MessageChannel();
      ch.port1.onmessage = () => {
        ch.port1.close();
        r();
      };
      ch.port2.postMessage(0);
    });
  }
  return new Promise((r) => setTimeout(r, 0));
}

/**
 * Options of {@link Model.evaluate} and {@link Model.predict}.
 * @example
 * const net = sequential([new Dense(1, { inputShape: [2] })]);
 * const options: EvaluateOptions = { batchSize: 256 };
 * net.predict(randn([1000, 2]), options).shape // [1000, 1]
 */
export interface EvaluateOptions {
  /** Examples per forward pass (default 32). */
  batchSize?: number;
}

type FinalAct = 'softmax' | 'sigmoid' | null;

/** Splits the last layer's activation off when it is a softmax/sigmoid that a loss can fuse. @internal */
export function finalActivation(layer: Module | undefined): FinalAct {
  if (!layer) return null;
  if (layer instanceof Dense) return layer.activation === 'softmax' ? 'softmax' : layer.activation === 'sigmoid' ? 'sigmoid' : null;
  if (layer instanceof Softmax) return layer.axis === -1 ? 'softmax' : null;
  if (layer instanceof Sigmoid) return 'sigmoid';
  if (layer instanceof Activation) return layer.activation === 'softmax' ? 'softmax' : layer.activation === 'sigmoid' ? 'sigmoid' : null;
  return null;
}

/** The last layer's output without its final activation (see {@link finalActivation}). @internal */
export function preFinal(layer: Module, h: Tensor): Tensor {
  return layer instanceof Dense ? layer.preActivation(h) : h;
}

interface Compiled {
  loss: LossSpec;
  metrics: MetricSpec[];
  optimizerSpec: string | OptimizerConfig | Optimizer;
  /** The loss as given when it is a name or config (what `model.json` can hold), null for a function. */
  lossJson: string | LossConfig | null;
  /** The metrics given by name. */
  metricNames: string[];
  /** The loss and metrics given as functions (they cannot be saved). */
  unsaved: string[];
}

/**
 * A model's compile settings as `model.json` stores them (Keras's `compile_config`): what
 * {@link Model.getCompileConfig} returns and {@link Model.compileFromConfig} (and so `loadModel`)
 * restores. Functions cannot be saved: a loss or metric given as a function, or an optimizer of a
 * class `optimizer()` cannot rebuild, is left out and named in `unsaved`.
 * @example
 * const net = sequential([new Dense(3, { inputShape: [4], activation: 'softmax' })]);
 * const f1: MetricFn = (p, t) => accuracy(p, t);
 * net.compile({ optimizer: { name: 'sgd', learningRate: 0.1 }, loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy', f1] });
 * const saved: SavedCompileConfig = net.getCompileConfig()!;
 * saved.optimizer // { name: 'sgd', lr: 0.1, momentum: 0 }
 * saved.loss // 'sparseCategoricalCrossentropy'
 * saved.metrics // ['accuracy']
 * saved.unsaved // ["metric 'f1' (a function)"]
 */
export interface SavedCompileConfig {
  /**
   * The optimizer's settings as `optimizer()` (from `@axon/optimizers`) rebuilds them (its constructor settings, every
   * hyperparameter explicit), or null when it cannot be saved.
   */
  readonly optimizer: OptimizerConfig | null;
  /** The loss name or config, or null when it was a function. */
  readonly loss: string | LossConfig | null;
  /** The metrics given by name (functions are left out). */
  readonly metrics: readonly string[];
  /** What was left out, e.g. `"loss 'huber' (a function)"`: compile again with it after loading. */
  readonly unsaved: readonly string[];
}

/** The name of a function for messages. */
function fnName(f: (...args: never[]) => unknown): string {
  return typeof f.name === 'string' && f.name !== '' ? f.name : 'anonymous';
}

/** A JSON value read from a file, checked as a {@link SavedCompileConfig} (names not resolved yet). */
function checkSavedCompile(op: string, raw: unknown): SavedCompileConfig {
  const bad = (what: string): never => {
    throw new AxonError(op, `the saved compile settings are malformed: ${what}`);
  };
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) bad(`expected an object { optimizer, loss, metrics, unsaved }, got ${fmtValue(raw)}`);
  const o = raw as Record<string, unknown>;
  const opt = o['optimizer'];
  if (opt !== null && (typeof opt !== 'object' || Array.isArray(opt) || typeof (opt as { name?: unknown }).name !== 'string')) bad(`optimizer must be null or a config { name, ... }, got ${fmtValue(opt)}`);
  const loss = o['loss'];
  if (loss !== null && typeof loss !== 'string' && (typeof loss !== 'object' || Array.isArray(loss) || typeof (loss as { name?: unknown }).name !== 'string')) bad(`loss must be null, a name or a config { name, ... }, got ${fmtValue(loss)}`);
  const strings = (k: string): string[] => {
    const v = o[k] ?? [];
    if (!Array.isArray(v) || !v.every((e) => typeof e === 'string')) bad(`${k} must be a list of strings, got ${fmtValue(v)}`);
    return [...(v as string[])];
  };
  return { optimizer: opt as OptimizerConfig | null, loss: loss as string | LossConfig | null, metrics: strings('metrics'), unsaved: strings('unsaved') };
}

/** Set by Model's static block: creates a compiled model's optimizer and loads a state into it. */
let restoreOptimizerState: (m: Model, dict: OptimizerStateDict) => void;

/**
 * @internal Creates the optimizer of a compiled `m` over its parameters (as the first `fit` would)
 * and loads `dict` into it (validated; on failure nothing changes and the error is thrown).
 */
export function loadOptimizerState(m: Model, dict: OptimizerStateDict): void {
  restoreOptimizerState(m, dict);
}

/**
 * A flat typed array `y` holding k values per example of `x` (e.g. one-hot rows) becomes [N, k];
 * anything else is returned as a new handle (so the caller can own it). @internal
 */
function matchRows(x: Tensor, y: Tensor, given: DataInput): Tensor {
  const n = x.shape[0]!;
  if (ArrayBuffer.isView(given) && y.rank === 1 && n > 0 && y.size !== n && y.size % n === 0) return y.reshape([n, y.size / n]);
  return y.detach();
}

/** Rows start..start+size of `t` along axis 0 (a view). */
function rows(t: Tensor, start: number, size: number): Tensor {
  return t.slice([start, ...t.shape.slice(1).map(() => 0)], [size, ...t.shape.slice(1)]);
}

/** Elements of a module's float buffers (running statistics): Keras's non-trainable parameters. */
function countStats(m: Module): number {
  return m.namedBuffers().reduce((n, [, b]) => n + (b.dtype === 'float32' ? b.size : 0), 0);
}

function fmtSym(s: SymbolicShape | null): string {
  return s ? `[${s.map((d) => d ?? 'null').join(', ')}]` : '?';
}

function fmtNum(v: number): string {
  return Math.abs(v) >= 1e-3 || v === 0 ? v.toFixed(4) : v.toExponential(3);
}

/**
 * A trainable model with Keras's API. {@link Sequential} and functional {@link GraphModel}s are
 * Models; a PyTorch-style subclass of Model gets `compile`/`fit` too.
 * @example
 * const m: Model = sequential([new Dense(1, { inputShape: [3] })]);
 * m.compile({ optimizer: 'sgd', loss: 'mse' });
 * const x = randn([32, 3]);
 * const y = x.matmul(tensor([[1], [2], [3]])); // y = x·[1, 2, 3]
 * const history = await m.fit(x, y, { epochs: 10, verbose: 0 });
 * history.history.loss![9]! < history.history.loss![0]! // true
 */
export abstract class Model extends Module {
  private stopState: { reason: string; checkpoint: boolean } | null = null;
  /** The optimizer (created on the first `fit` when compiled by name). */
  optimizer: Optimizer | null = null;
  private compiled: Compiled | null = null;
  private ownsOptimizer = false;
  /** Compile settings restored from a file that could not compile the model (a custom loss or optimizer). */
  private pendingCompile: SavedCompileConfig | null = null;
  /** Said once by the next `fit`/`evaluate`: metrics that were functions and were not restored. */
  private compileNote: string | null = null;

  static {
    restoreOptimizerState = (m, dict) => {
      const had = m.optimizer;
      const opt = m.ensureOptimizer();
      try {
        opt.loadStateDict(dict);
      } catch (e) {
        if (opt !== had) {
          opt.dispose();
          m.optimizer = had;
          m.ownsOptimizer = false;
        }
        throw e;
      }
    };
  }

  /**
   * Set to true to end `fit`: during a batch (e.g. from a SIGINT handler, or `onBatchEnd`) after the
   * current step — writing a checkpoint of that exact position first when checkpointing is on —
   * and from `onEpochEnd` (as EarlyStopping does) after the epoch. See {@link Model.requestStop}.
   * @example
   * const net = sequential([new Dense(1, { inputShape: [2] })]);
   * net.compile({ optimizer: 'sgd', loss: 'mse' });
   * // In a program: process.once('SIGINT', () => { net.stopTraining = true; });
   * const stopAtBatch3: Callback = { onBatchEnd: (batch) => { if (batch === 2) net.stopTraining = true; } };
   * const h = await net.fit(randn([32, 2]), randn([32, 1]), { epochs: 5, batchSize: 4, verbose: 0, callbacks: [stopAtBatch3] });
   * h.stopped // { epoch: 0, batch: 2, interrupted: true }
   */
  get stopTraining(): boolean {
    return this.stopState !== null;
  }

  set stopTraining(v: boolean) {
    this.stopState = v ? (this.stopState ?? { reason: 'model.stopTraining was set', checkpoint: true }) : null;
  }

  /**
   * Asks `fit` to stop, as `stopTraining = true` does, with a reason for `History.stopped` and
   * the log; `checkpoint: false` writes no checkpoint of this position (TerminateOnNaN: the
   * weights are not worth resuming from).
   * @example
   * const net = sequential([new Dense(1, { inputShape: [2] })]);
   * net.compile({ optimizer: 'sgd', loss: 'mse' });
   * const budget: Callback = { onEpochEnd: (epoch) => { if (epoch === 1) net.requestStop('time budget spent'); } };
   * const h = await net.fit(randn([8, 2]), randn([8, 1]), { epochs: 10, verbose: 0, callbacks: [budget] });
   * h.epoch // [0, 1]
   * h.stopped // { epoch: 1, batch: null, reason: 'time budget spent', interrupted: false }
   */
  requestStop(reason: string, opts: { checkpoint?: boolean } = {}): void {
    if (typeof reason !== 'string' || reason === '') throw new AxonError('requestStop', `expects a reason (a non-empty string), got ${fmtValue(reason)}`);
    const o = optionsOf<{ checkpoint?: boolean }>('requestStop', opts, ['checkpoint']);
    this.stopState = { reason, checkpoint: optBool('requestStop', 'checkpoint', o.checkpoint) ?? true };
  }

  /**
   * The shape of one input example when known (no batch axis); `fit`/`predict` check data against
   * it. Subclasses override it (the default, for PyTorch-style subclasses, is null: unknown).
   * @example sequential([new Dense(1, { inputShape: [3] })]).inputShape // [3]
   */
  get inputShape(): readonly number[] | null {
    return null;
  }

  /**
   * The layers in order (for `summary` and for fusing a final softmax into the loss). The
   * default is the direct children.
   * @example sequential([new Dense(4, { inputShape: [2], name: 'hidden' }), new Dense(1, { name: 'out' })]).layers.map((l) => l.name) // ['hidden', 'out']
   */
  get layers(): Module[] {
    return this.children();
  }

  /**
   * Runs the model; with `strip`, without the final softmax/sigmoid of the last layer (so that
   * the loss can be computed from logits). The default (for custom subclasses) is `forward`,
   * and custom subclasses report no final activation, so `strip` is never asked of them.
   * @example
   * const net = sequential([new Dense(2, { inputShape: [2], activation: 'softmax', kernelInitializer: 'ones' })]);
   * net.forwardParts(tensor([[1, 2]]), true) // [[3, 3]]
   * net.forwardParts(tensor([[1, 2]]), false) // [[0.5, 0.5]]
   */
  forwardParts(x: Tensor, strip: boolean): Tensor {
    void strip;
    return this.forward(x);
  }

  /**
   * The final activation a loss could fuse (`'softmax'`, `'sigmoid'` or null): that of the last
   * layer for Sequential and functional models, null for custom subclasses.
   * @example sequential([new Dense(10, { activation: 'softmax', inputShape: [4] })]).finalActivation // 'softmax'
   */
  get finalActivation(): FinalAct {
    return null;
  }

  /**
   * Configures training: optimizer, loss and metrics (Keras's `compile`). Names are resolved now;
   * an optimizer given by name is created on the first `fit` (after lazily-built layers exist).
   * @example
   * const net = sequential([new Dense(1, { inputShape: [2] })]);
   * net.compile({ optimizer: { name: 'adam', learningRate: 1e-3 }, loss: 'mse', metrics: ['mae'] });
   * net.isCompiled // true
   * net.compile({ optimizer: 'adam', loss: 'hinge' }) // throws: "unknown loss 'hinge'"
   * net.compile({ optimizer: 'adam', loss: 'mse', metric: ['mae'] } as CompileConfig) // throws: "unknown option 'metric'"
   */
  compile(config: CompileConfig): this {
    const op = `${this.className}.compile`;
    if (config === null || typeof config !== 'object') throw new AxonError(op, `expects { optimizer, loss, metrics? }, got ${fmtValue(config)}`);
    optionsOf<CompileConfig>(op, config, ['optimizer', 'loss', 'metrics']);
    if (config.optimizer === undefined) throw new AxonError(op, "an optimizer is required (e.g. 'adam')");
    if (config.loss === undefined) throw new AxonError(op, "a loss is required (e.g. 'sparseCategoricalCrossentropy')");
    if (config.metrics !== undefined && !Array.isArray(config.metrics)) throw new AxonError(op, `metrics must be a list of names or functions, got ${fmtValue(config.metrics)}`);
    const loss = getLoss(config.loss);
    const metrics = (config.metrics ?? []).map((m) => getMetric(m));
    if (typeof config.optimizer === 'string' || (!(config.optimizer instanceof Optimizer) && typeof config.optimizer === 'object')) {
      // validate the name now (with no parameters)
      const probe = makeOptimizer(config.optimizer as string | OptimizerConfig, []);
      probe.dispose();
    } else if (!(config.optimizer instanceof Optimizer)) {
      throw new AxonError(op, `optimizer must be a name, a config { name, ... } or an Optimizer, got ${fmtValue(config.optimizer)}`);
    } else if (config.optimizer.isDisposed) {
      throw new AxonError(op, `the ${config.optimizer.name} optimizer was disposed`);
    }
    if (this.optimizer && this.ownsOptimizer && this.optimizer !== config.optimizer) this.optimizer.dispose();
    this.optimizer = config.optimizer instanceof Optimizer ? config.optimizer : null;
    this.ownsOptimizer = false;
    const unsaved: string[] = [];
    let lossJson: string | LossConfig | null;
    if (typeof config.loss === 'function') {
      lossJson = null;
      unsaved.push(`loss '${fnName(config.loss)}' (a function)`);
    } else lossJson = typeof config.loss === 'string' ? config.loss : { ...config.loss };
    const metricNames: string[] = [];
    for (const m of config.metrics ?? []) {
      if (typeof m === 'string') metricNames.push(m);
      else unsaved.push(`metric '${typeof m === 'function' ? fnName(m) : m.name}' (a function)`);
    }
    this.compiled = { loss, metrics, optimizerSpec: config.optimizer, lossJson, metricNames, unsaved };
    this.pendingCompile = null;
    this.compileNote = null;
    return this;
  }

  /**
   * Whether the model is compiled (by `compile`, or by `loadModel` from saved settings).
   * @example
   * const net = sequential([new Dense(1, { inputShape: [2] })]);
   * net.isCompiled // false
   * net.compile({ optimizer: 'sgd', loss: 'mse' }).isCompiled // true
   */
  get isCompiled(): boolean {
    return this.compiled !== null;
  }

  /**
   * The compile settings as JSON (Keras's `get_compile_config`), as `save` writes them into
   * `model.json`, or null when the model is not compiled. The optimizer is given by its
   * constructor settings (`optimizer.getConfig()`, every hyperparameter explicit); a loss or metric
   * that is a function, or an optimizer `optimizer()` cannot rebuild, is named in `unsaved`
   * instead. A model loaded with a custom loss and not compiled again returns what was loaded.
   * @example
   * const net = sequential([new Dense(1, { inputShape: [2] })]);
   * net.getCompileConfig() // null
   * net.compile({ optimizer: 'adam', loss: 'mse', metrics: ['mae'] });
   * net.getCompileConfig() // { loss: 'mse', metrics: ['mae'], unsaved: [] }
   * net.getCompileConfig()!.optimizer // { name: 'adam', lr: 0.001, betas: [0.9, 0.999], eps: 1e-7 }
   */
  getCompileConfig(): SavedCompileConfig | null {
    const c = this.compiled;
    if (!c) return this.pendingCompile;
    const unsaved = [...c.unsaved];
    const spec = this.optimizer ?? c.optimizerSpec;
    let optimizer: OptimizerConfig | null = null;
    try {
      if (spec instanceof Optimizer) optimizer = spec.getConfig();
      else {
        const probe = makeOptimizer(spec, []);
        try {
          optimizer = probe.getConfig();
        } finally {
          probe.dispose();
        }
      }
      makeOptimizer(optimizer, []).dispose(); // what is saved must load
    } catch {
      optimizer = null;
      unsaved.unshift(`optimizer '${spec instanceof Optimizer ? spec.name : String((spec as { name?: unknown }).name ?? spec)}' (a class optimizer() cannot rebuild)`);
    }
    return { optimizer, loss: c.lossJson === null ? null : typeof c.lossJson === 'string' ? c.lossJson : { ...c.lossJson }, metrics: [...c.metricNames], unsaved };
  }

  /**
   * Compiles the model from settings {@link Model.getCompileConfig} returned, e.g. read from
   * `model.json` (Keras's `compile_from_config`); `loadModel` calls it. The settings are checked
   * (names resolved) before anything changes. When they lack the loss or the optimizer (saved from
   * a function or a custom optimizer class), the model stays uncompiled and `fit`/`evaluate` say
   * what to pass to `compile`; metrics that were functions are left out, and the next
   * `fit`/`evaluate` warns once that they are not logged.
   * @example
   * const a = sequential([new Dense(1, { inputShape: [2] })]);
   * a.compile({ optimizer: { name: 'sgd', learningRate: 0.05 }, loss: 'mae', metrics: ['mse'] });
   * const b = sequential([new Dense(1, { inputShape: [2] })]);
   * b.compileFromConfig(a.getCompileConfig()!);
   * b.isCompiled // true
   * b.getCompileConfig() // { loss: 'mae', metrics: ['mse'], unsaved: [] }
   * b.compileFromConfig({ optimizer: null, loss: null, metrics: [], unsaved: ["loss 'huber' (a function)"] });
   * b.isCompiled // false
   * await b.fit(ones([2, 2]), ones([2, 1])) // throws: "loss 'huber' (a function)"
   */
  compileFromConfig(config: SavedCompileConfig): this {
    const op = `${this.className}.compileFromConfig`;
    const c = checkSavedCompile(op, config);
    // resolve every name before anything changes (an unknown one is an AxonError)
    if (c.loss !== null) getLoss(c.loss);
    for (const m of c.metrics) getMetric(m);
    if (c.optimizer !== null) makeOptimizer(c.optimizer, []).dispose();
    if (c.optimizer === null || c.loss === null) {
      if (this.optimizer && this.ownsOptimizer) this.optimizer.dispose();
      this.optimizer = null;
      this.ownsOptimizer = false;
      this.compiled = null;
      this.pendingCompile = c;
      this.compileNote = null;
      return this;
    }
    this.compile({ optimizer: c.optimizer, loss: c.loss, metrics: c.metrics });
    this.compiled!.unsaved.push(...c.unsaved);
    if (c.unsaved.length) this.compileNote = `${c.unsaved.join(', ')} could not be saved with the model and ${c.unsaved.length === 1 ? 'is' : 'are'} not used: call model.compile({ ... }) with ${c.unsaved.length === 1 ? 'it' : 'them'} to log ${c.unsaved.length === 1 ? 'it' : 'them'}`;
    return this;
  }

  private requireCompiled(op: string): Compiled {
    if (!this.compiled) {
      const p = this.pendingCompile;
      if (p) {
        const kept = [p.optimizer ? `optimizer ${JSON.stringify(p.optimizer)}` : null, p.loss !== null ? `loss ${JSON.stringify(p.loss)}` : null, p.metrics.length ? `metrics ${JSON.stringify(p.metrics)}` : null].filter((x) => x !== null);
        throw new AxonError(op, `the model was loaded without complete compile settings: its ${p.unsaved.join(', ')} could not be saved. Call model.compile({ optimizer, loss, metrics }) again with ${p.unsaved.length === 1 ? 'it' : 'them'}${kept.length ? ` (the saved settings: ${kept.join(', ')})` : ''}`);
      }
      throw new AxonError(op, "the model is not compiled: call model.compile({ optimizer: 'adam', loss: '...' }) first");
    }
    return this.compiled;
  }

  /** The note about metrics left out when compiled from a file, once. */
  private takeCompileNote(): string | null {
    const n = this.compileNote;
    this.compileNote = null;
    return n;
  }

  private ensureOptimizer(): Optimizer {
    const c = this.requireCompiled('fit');
    if (!this.optimizer) {
      this.optimizer = makeOptimizer(c.optimizerSpec as string | OptimizerConfig, this.parameters());
      this.ownsOptimizer = true;
    }
    else if (this.optimizer.params.length === 0) this.optimizer.addParamGroup({ params: this.parameters() });
    return this.optimizer;
  }

  /** Whether the loss is computed from logits with the last softmax/sigmoid stripped. */
  private fusion(c: Compiled): { strip: boolean; fn: LossFn; metricsFromLogits: boolean } {
    const fa = this.finalActivation;
    const k = c.loss.kind;
    if (!c.loss.fromLogits && fa === 'softmax' && (k === 'sparseCategorical' || k === 'categorical')) {
      return { strip: true, fn: lossFnOf(k, true, c.loss.labelSmoothing, false), metricsFromLogits: true };
    }
    if (!c.loss.fromLogits && fa === 'sigmoid' && k === 'binary') return { strip: true, fn: lossFnOf(k, true, c.loss.labelSmoothing, false), metricsFromLogits: true };
    const fn = k === 'sparseCategorical' ? lossFnOf(k, c.loss.fromLogits, c.loss.labelSmoothing, false) : c.loss.fn;
    return { strip: false, fn, metricsFromLogits: c.loss.fromLogits };
  }

  /** Metric values from a forward output (logits when `fromLogits`). */
  private metricValues(c: Compiled, out: Tensor, y: Tensor, fromLogits: boolean, strip: boolean): Tensor[] {
    return c.metrics.map((m) => {
      const isAcc = /acc/i.test(m.name);
      if (strip && !isAcc) {
        const fa = this.finalActivation;
        const probs = noGrad(() => (fa === 'softmax' ? softmax(out) : sigmoid(out)));
        return m.fn(probs, y, { fromLogits: false });
      }
      return m.fn(out, y, { fromLogits });
    });
  }

  /** Validates x/y against the model and loss before training; returns the output shape. */
  private validateData(op: string, c: Compiled, x: Tensor, y: Tensor, yHost: ArrayLike<number> | null): readonly number[] {
    if (x.rank < 1) throw new AxonError(op, `x must have a batch axis, got ${fmtShape(x.shape)}`);
    if (x.shape[0] !== y.shape[0]) throw new AxonError(op, `x has ${x.shape[0]} examples (${fmtShape(x.shape)}) but y has ${y.shape[0]} (${fmtShape(y.shape)}); they must match`);
    const inShape = this.inputShape;
    if (inShape) {
      const got = x.shape.slice(1);
      if (got.length !== inShape.length || got.some((d, i) => d !== inShape[i])) {
        throw new AxonError(op, `x has shape ${fmtShape(x.shape)}, but the model expects [N, ${inShape.join(', ')}] (input shape [${inShape.join(', ')}])`);
      }
    }
    let outShape: readonly number[];
    const wasTraining = this.training;
    try {
      this.eval();
      outShape = tidy(() => noGrad(() => [...this.call(x.shape[0] === 0 ? x : rows(x, 0, 1)).shape]));
    } catch (e) {
      throw new AxonError(op, `the model cannot run on x ${fmtShape(x.shape)}: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      if (wasTraining) this.train();
    }
    const k = c.loss.kind;
    const classes = outShape[outShape.length - 1]!;
    if (k === 'sparseCategorical') {
      const ok = y.rank === 1 || (y.rank === 2 && y.shape[1] === 1);
      if (!ok) throw new AxonError(op, `sparseCategoricalCrossentropy expects y of class indices [N] (or [N, 1]), got ${fmtShape(y.shape)}${y.rank === 2 ? ' — for one-hot labels use categoricalCrossentropy' : ''}`);
      if (yHost) {
        for (let i = 0; i < yHost.length; i++) {
          const v = yHost[i]!;
          if (!Number.isInteger(v) || v < 0 || v >= classes) {
            throw new AxonError(op, `label ${v} at index ${i} is out of range for the model's ${classes} classes (sparseCategoricalCrossentropy expects integers 0 <= label < ${classes})`);
          }
        }
      }
    } else if (k === 'categorical') {
      if (y.rank !== 2 || y.shape[1] !== classes) throw new AxonError(op, `categoricalCrossentropy expects one-hot y [N, ${classes}] for the model's ${classes} outputs, got ${fmtShape(y.shape)} — for class indices use sparseCategoricalCrossentropy`);
    } else if (k === 'binary') {
      if (yHost) for (let i = 0; i < yHost.length; i++) if (!(yHost[i]! >= 0 && yHost[i]! <= 1)) throw new AxonError(op, `binaryCrossentropy expects targets in [0, 1]; y[${i}] is ${yHost[i]}`);
    }
    if (k === 'mse' || k === 'mae' || k === 'binary') {
      const ys = y.shape.slice(1);
      const os = outShape.slice(1);
      const same = ys.length === os.length && ys.every((d, i) => d === os[i]);
      const squeezed = os.length === 1 && os[0] === 1 && ys.length === 0;
      if (!same && !squeezed) throw new AxonError(op, `y has shape ${fmtShape(y.shape)} but the model outputs [N, ${os.join(', ')}]`);
    }
    return outShape;
  }

  /** One training step (inside tidy): returns the batch loss and metric values, detached. */
  private trainStep(opt: Optimizer, c: Compiled, fus: ReturnType<Model['fusion']>, xb: Tensor, yb: Tensor): Tensor[] {
    const out = this.forwardParts(xb, fus.strip);
    const loss = fus.fn(out, yb);
    if (loss.size !== 1) throw new AxonError('fit', `the loss must be a scalar, got ${fmtShape(loss.shape)}`);
    loss.backward();
    opt.step();
    opt.zeroGrad();
    const l = noGrad(() => loss.detach().reshape([]));
    return [l, ...this.metricValues(c, noGrad(() => out.detach()), yb, fus.metricsFromLogits, fus.strip)];
  }

  /**
   * Trains the model (Keras's `fit`) on `x`, `y` (tensors, typed arrays, host arrays) or on a
   * dataset of `{ x, y }` batches. Validates the data before the first step (matching lengths,
   * input shape, labels in range for the loss), runs each step inside `tidy`, disposes every batch
   * it creates, reads the loss back once per epoch (and per batch only when a callback reads
   * `logs.loss`), and returns the {@link History}.
   * @example
   * const net = sequential([new Dense(8, { inputShape: [4], activation: 'relu' }), new Dense(3, { activation: 'softmax' })]);
   * net.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
   * const xTrain = randn([64, 4]);
   * const yTrain = xTrain.argmax(-1).minimum(2).astype('int32'); // the largest feature's index, 3 counted as 2
   * const history = await net.fit(xTrain, yTrain, { epochs: 5, batchSize: 16, validationSplit: 0.25, verbose: 0,
   *   callbacks: [{ onEpochEnd: (e, logs) => console.log(e, logs.loss, logs.accuracy) }] });
   * Object.keys(history.history) // ['loss', 'accuracy', 'val_loss', 'val_accuracy']
   * history.epoch // [0, 1, 2, 3, 4]
   * await net.fit(randn([4, 5]), tensor([0, 1, 2, 0], [4], 'int32')) // throws: 'the model expects [N, 4]'
   */
  async fit(x: DataInput | BatchSource, y?: DataInput | FitOptions, options?: FitOptions): Promise<History> {
    const op = 'fit';
    const c = this.requireCompiled(op);
    const dataset = isBatchSource(x) ? x : null;
    if (!dataset && (y === undefined || (y !== null && typeof y === 'object' && !isTensor(y) && !ArrayBuffer.isView(y) && !Array.isArray(y) && !('data' in y)))) {
      throw new AxonError(op, 'expects fit(x, y, options) or fit(dataset, options)');
    }
    const opts: FitOptions = fitOptions(op, dataset ? y : options);
    const epochs = opts.epochs ?? 1;
    const batchSize = opts.batchSize ?? 32;
    const split = opts.validationSplit ?? 0;
    if (dataset && split > 0) throw new AxonError(op, 'validationSplit needs tensor/array data; give a dataset validationData instead');
    const schedulerStep = opts.schedulerStep ?? 'epoch';
    if (schedulerStep !== 'epoch' && schedulerStep !== 'batch') throw new AxonError(op, `schedulerStep must be 'epoch' or 'batch', got ${fmtValue(schedulerStep)}`);
    if (opts.scheduler !== undefined && !(opts.scheduler instanceof LRScheduler) && typeof opts.scheduler !== 'function') {
      throw new AxonError(op, 'scheduler must be an LRScheduler or a function (optimizer) => LRScheduler');
    }
    const verbose = opts.verbose ?? 1;
    const log = opts.log ?? ((s: string) => console.log(s));
    const report = opts.log ?? ((s: string) => console.warn(s));
    const callbacks = [...(opts.callbacks ?? [])];
    const ckpt = checkpointConfig(op, opts, callbacks);
    const history = new History();
    const indexed = dataset ? asIndexedSource(dataset) : null;
    const note = this.takeCompileNote();
    if (note !== null) {
      history.warnings.push(note);
      report(note);
    }

    const owned: Tensor[] = [];
    const live = new Set<Tensor>(); // running sums, freed even when a step or callback throws
    const own = (o: Owned): Tensor => {
      if (o.owned) owned.push(o.t);
      return o.t;
    };
    const track = (ts: Tensor[] | null): Tensor[] | null => {
      if (ts) for (const t of ts) live.add(t);
      return ts;
    };
    const release = (ts: Tensor[] | null): void => {
      if (ts) for (const t of ts) {
        t.dispose();
        live.delete(t);
      }
    };
    try {
      // ---------------------------------------------------------------- data
      let xAll: Tensor | null = null;
      let yAll: Tensor | null = null;
      let xTrain: Tensor | null = null;
      let yTrain: Tensor | null = null;
      let val: { x: Tensor; y: Tensor } | BatchSource | null = null;
      if (!dataset) {
        xAll = own(toTensorData(op, 'x', x as DataInput, this.inputShape));
        yAll = own(toTensorData(op, 'y', y as DataInput, null));
        yAll = own({ t: matchRows(xAll, yAll, y as DataInput), owned: true });
        const yHost = c.loss.kind === 'sparseCategorical' || c.loss.kind === 'binary' ? await yAll.data() : null;
        this.validateData(op, c, xAll, yAll, yHost);
        if (c.loss.kind === 'sparseCategorical' && yAll.dtype !== 'int32') yAll = own({ t: noGrad(() => yAll!.astype('int32')), owned: true });
        const n = xAll.shape[0]!;
        const nVal = Math.floor(n * split);
        if (split > 0 && (nVal === 0 || nVal === n)) throw new AxonError(op, `validationSplit ${split} of ${n} examples leaves ${nVal === 0 ? 'no validation' : 'no training'} examples`);
        xTrain = nVal > 0 ? own({ t: rows(xAll, 0, n - nVal), owned: true }) : xAll;
        yTrain = nVal > 0 ? own({ t: rows(yAll, 0, n - nVal), owned: true }) : yAll;
        if (nVal > 0) val = { x: own({ t: rows(xAll, n - nVal, nVal), owned: true }), y: own({ t: rows(yAll, n - nVal, nVal), owned: true }) };
      }
      if (opts.validationData !== undefined) {
        if (val) throw new AxonError(op, 'give validationSplit or validationData, not both');
        const vd = opts.validationData;
        if (isBatchSource(vd)) val = vd;
        else if (Array.isArray(vd) && vd.length === 2) {
          const vx = own(toTensorData(op, 'validationData x', vd[0] as DataInput, this.inputShape));
          const vy0 = own(toTensorData(op, 'validationData y', vd[1] as DataInput, null));
          const vy = own({ t: matchRows(vx, vy0, vd[1] as DataInput), owned: true });
          this.validateData(op, c, vx, vy, c.loss.kind === 'sparseCategorical' || c.loss.kind === 'binary' ? await vy.data() : null);
          val = { x: vx, y: c.loss.kind === 'sparseCategorical' && vy.dtype !== 'int32' ? own({ t: noGrad(() => vy.astype('int32')), owned: true }) : vy };
        } else throw new AxonError(op, 'validationData must be [x, y] or a dataset of { x, y } batches');
      }
      const valIndexed = val && isBatchSource(val) ? asIndexedSource(val) : null;
      const shuffle = opts.shuffle ?? true;
      const position: DataPosition = dataset
        ? { kind: 'dataset', iteration: indexed ? indexed.iteration : null, valIteration: valIndexed ? valIndexed.iteration : null }
        : { kind: 'arrays', n: xTrain!.shape[0]!, batchSize, shuffle };

      // ---------------------------------------------------------------- resume (read and checked before anything changes)
      const resume = ckpt?.resume ? await readLatestCheckpoint(ckpt.dir) : null;
      if (resume) checkResumable(op, resume.entry, position, ckpt!.dir);

      // ---------------------------------------------------------------- setup
      // with a dataset, lazily-built layers are built on the first batch, before the optimizer is created
      let firstBatchChecked = !dataset;
      const fus = this.fusion(c);
      const names = ['loss', ...c.metrics.map((m) => m.name)];
      this.stopTraining = false;
      for (const cb of callbacks) cb.setModel?.(this);
      for (const cb of callbacks) await cb.onTrainBegin?.({});
      const wantBatchLogs = callbacks.some((cb) => cb.onBatchEnd);
      let seed = opts.seed;
      if (seed === undefined) {
        const r = noGrad(() => randint(0, 2 ** 24, [1]));
        seed = (await r.data())[0]!;
        r.dispose();
      }
      const shuffleSeed = resume ? resume.entry.seed : seed;
      let opt: Optimizer | null = null;
      let scheduler: LRScheduler | null = null;
      let globalStep = 0;
      let startEpoch = opts.initialEpoch ?? 0;
      let resumeStep = 0;
      let resumeSums: { sums: Tensor[]; seen: number } | null = null;
      /** Creates the optimizer (and scheduler) once the layers are built, then restores a checkpoint. */
      const ready = (): void => {
        if (opt) return;
        opt = this.ensureOptimizer();
        if (opts.scheduler !== undefined) {
          scheduler = opts.scheduler instanceof LRScheduler ? opts.scheduler : opts.scheduler(opt);
          if (!(scheduler instanceof LRScheduler)) throw new AxonError(op, 'the scheduler function must return an LRScheduler');
          if (scheduler.optimizer !== opt) throw new AxonError(op, "the scheduler drives another optimizer than the model's (give a function (optimizer) => scheduler)");
        }
        if (resume) {
          const restored = this.applyCheckpoint(op, opt, scheduler, resume.entry, resume.contents);
          resumeSums = restored ? { sums: track(restored.sums)!, seen: restored.seen } : null;
          const h = resume.entry.history;
          for (let i = 0; i < h.epoch.length; i++) {
            const logs: Logs = {};
            for (const [k, v] of Object.entries(h.history)) if (v[i] !== undefined) logs[k] = decodeNumber(v[i]!);
            history.record(h.epoch[i]!, logs);
          }
          history.resumedFrom = resume.info;
        }
      };
      if (resume) {
        startEpoch = resume.entry.epoch;
        resumeStep = resume.entry.step;
        globalStep = resume.entry.globalStep;
        if (resume.entry.data.kind === 'dataset') {
          if (indexed && resume.entry.data.iteration !== null) indexed.iteration = resume.entry.data.iteration;
          if (valIndexed && resume.entry.data.valIteration !== null) valIndexed.iteration = resume.entry.data.valIteration;
        }
        if (verbose > 0) log(`Resuming from ${resume.info.file}: epoch ${startEpoch + 1}, after batch ${resumeStep} (step ${globalStep})`);
      } else if (ckpt?.resume && verbose > 0) log(`No checkpoint in '${ckpt.dir}': starting from the beginning`);
      if (firstBatchChecked) ready();

      // ---------------------------------------------------------------- checkpoints
      let lastCheckpoint = '';
      const writeCkpt = async (reason: CheckpointInfo['reason'], epochPos: number, stepPos: number, sums: Tensor[] | null, seen: number, iteration: number | null): Promise<CheckpointInfo> => {
        const rng = getRngState();
        const o = opt!;
        const optSd = o.stateDict();
        let info: CheckpointInfo;
        try {
          const tensors: Record<string, HostTensorEntry> = {};
          for (const [k, v] of Object.entries(await toHostTensors(this.stateDict()))) tensors[`model.${k}`] = v;
          for (const [k, v] of Object.entries(await toHostTensors(optSd.tensors))) tensors[`optimizer.${k}`] = v;
          if (sums) for (const [i, t] of sums.entries()) tensors[`fit.sum.${i}`] = (await toHostTensors({ t }))['t']!;
          const hist: Record<string, (number | string)[]> = {};
          for (const [k, v] of Object.entries(history.history)) hist[k] = v.map(encodeNumber);
          info = await writeCheckpoint(ckpt!.dir, ckpt!.keep, {
            epoch: epochPos,
            step: stepPos,
            globalStep,
            reason,
            rng,
            seed: shuffleSeed,
            data: position.kind === 'dataset' ? { kind: 'dataset', iteration, valIteration: valIndexed ? valIndexed.iteration : null } : position,
            optimizer: optSd.meta,
            scheduler: scheduler ? (scheduler as LRScheduler).stateDict() : null,
            extraState: this.extraStateDict(),
            sums: sums ? { names, seen } : null,
            history: { epoch: [...history.epoch], history: hist },
            time: new Date().toISOString(),
          }, tensors);
        } finally {
          for (const t of Object.values(optSd.tensors)) t.dispose();
        }
        lastCheckpoint = `${epochPos}:${stepPos}`;
        history.checkpoints.push(info);
        for (const cb of callbacks) await cb.onCheckpoint?.(info);
        return info;
      };
      const readLogs = async (sums: Tensor[] | null, seen: number): Promise<Logs> => {
        const logs: Logs = {};
        if (sums) {
          const values = await Promise.all(sums.map((t) => t.data()));
          names.forEach((nm, i) => (logs[nm] = values[i]![0]! / seen));
        }
        return logs;
      };
      let lastYield = Date.now();
      let warnedNonFinite = false;

      // ---------------------------------------------------------------- epochs
      epochs: for (let epoch = startEpoch; epoch < epochs; epoch++) {
        const t0 = Date.now();
        for (const cb of callbacks) await cb.onEpochBegin?.(epoch, {});
        this.train();
        let sums: Tensor[] | null = null;
        let seen = 0;
        let batchIndex = 0;
        /** Takes over the running sums of a checkpoint inside this (the first resumed) epoch, once restored. */
        const adoptResumedSums = (): void => {
          const rs = resumeSums as { sums: Tensor[]; seen: number } | null;
          if (!rs || epoch !== startEpoch) return;
          sums = rs.sums;
          seen = rs.seen;
          resumeSums = null;
        };
        if (epoch === startEpoch && resume) batchIndex = resumeStep;
        adoptResumedSums();
        const passIteration = indexed ? indexed.iteration : null;
        /** Ends the epoch early: checkpoint of this exact position (unless asked not to), report. */
        const interrupt = async (lastBatch: number | null): Promise<void> => {
          const st = this.stopState!;
          let info: CheckpointInfo | null = null;
          if (st.checkpoint && ckpt && opt && lastCheckpoint !== `${epoch}:${batchIndex}`) info = await writeCkpt('stop', epoch, batchIndex, sums, seen, passIteration);
          const logs = await readLogs(sums, seen);
          history.stopped = { epoch, batch: lastBatch, reason: st.reason, interrupted: true, logs };
          const parts = Object.entries(logs).map(([k, v]) => `${k}: ${fmtNum(v)}`);
          const where = lastBatch === null ? 'before its end' : `after batch ${lastBatch + 1}`;
          const saved = info ? `; checkpoint written to ${info.file} (continue with fit(..., { checkpoint: { dir: ${JSON.stringify(ckpt!.dir)}, resume: true } }))` : ckpt && lastCheckpoint ? `; the last checkpoint in '${ckpt.dir}' stays the latest` : '';
          report(`Epoch ${epoch + 1}/${epochs} stopped ${where}: ${st.reason}${parts.length ? ` - ${parts.join(' - ')}` : ''}${saved}`);
        };
        const runBatch = async (xb: Tensor, yb: Tensor): Promise<boolean> => {
          for (const cb of callbacks) await cb.onBatchBegin?.(batchIndex, { batch: batchIndex, size: xb.shape[0]! });
          const bs = xb.shape[0]!;
          const prev: Tensor[] | null = sums;
          let res: { next: Tensor[]; batchLoss: Tensor | null };
          try {
            res = tidy(() => {
              const vals = this.trainStep(opt!, c, fus, xb, yb);
              const next = noGrad(() => vals.map((v, i) => (prev ? prev[i]!.add(v.mul(bs)) : v.mul(bs))));
              return { next, batchLoss: wantBatchLogs ? vals[0]! : null };
            });
          } catch (e) {
            throw stepError(e, epoch, batchIndex);
          }
          release(prev);
          sums = track(res.next.map((t) => keep(t)));
          seen += bs;
          globalStep++;
          if (isAnomalyDetectionEnabled()) {
            try {
              await checkAnomalies();
            } catch (e) {
              res.batchLoss?.dispose();
              throw stepError(e, epoch, batchIndex);
            }
          }
          if (scheduler && schedulerStep === 'batch') (scheduler as LRScheduler).step();
          if (wantBatchLogs) {
            const bl = res.batchLoss!;
            const logs: Logs = { batch: batchIndex, size: bs };
            if (bl.backend.supportsSyncRead) {
              // Read lazily: only a callback that looks at logs.loss pays for the read-back.
              let cached: number | null = null;
              Object.defineProperty(logs, 'loss', {
                enumerable: true,
                get: () => (cached ??= bl.isDisposed ? NaN : bl.dataSync()[0]!),
              });
            } else {
              // Backends without synchronous reads (WebGPU): read it before the callbacks run.
              logs.loss = (await bl.data())[0]!;
            }
            try {
              for (const cb of callbacks) await cb.onBatchEnd?.(batchIndex, logs);
            } finally {
              bl.dispose();
            }
          }
          batchIndex++;
          if (ckpt && typeof ckpt.every === 'number' && globalStep % ckpt.every === 0 && !this.stopTraining) await writeCkpt('steps', epoch, batchIndex, sums, seen, passIteration);
          if (Date.now() - lastYield >= 50) {
            // let timers and signal handlers (e.g. a SIGINT handler setting stopTraining) run
            await yieldToEventLoop();
            lastYield = Date.now();
          }
          if (!this.stopTraining) return false;
          await interrupt(batchIndex - 1);
          return true;
        };

        let stopped = false;
        if (dataset) {
          if (indexed) indexed.iteration = passIteration! + 1;
          const pass: BatchSource = indexed ? indexed.iterate(passIteration!) : dataset;
          let skip = batchIndex;
          for await (const batch of pass as AsyncIterable<Batch>) {
            const { xb, yb, toFree } = this.batchTensors(op, c, batch, !firstBatchChecked);
            try {
              if (!firstBatchChecked) {
                firstBatchChecked = true;
                ready();
                adoptResumedSums();
              }
              if (skip > 0) {
                skip--; // consumed before the checkpoint this run resumed from
                continue;
              }
              stopped = await runBatch(xb, yb);
            } finally {
              for (const t of toFree) t.dispose();
            }
            if (stopped) break;
          }
          if (skip > 0) throw new AxonError(op, `the dataset yielded ${batchIndex - skip} batches in epoch ${epoch + 1}, fewer than the ${batchIndex} the checkpoint had consumed: it is not the data the checkpoint was written with`);
        } else {
          const n = xTrain!.shape[0]!;
          const perm = shuffle ? tensor(permutation(n, shuffleSeed + epoch), [n], 'int32') : null;
          try {
            for (let start = batchIndex * batchSize; start < n; start += batchSize) {
              const size = Math.min(batchSize, n - start);
              const [xb, yb] = noGrad(() => {
                if (!perm) return [rows(xTrain!, start, size), rows(yTrain!, start, size)];
                const idx = perm.slice([start], [size]);
                const r = [gather(xTrain!, idx, 0), gather(yTrain!, idx, 0)] as const;
                idx.dispose();
                return r;
              });
              try {
                stopped = await runBatch(xb, yb);
              } finally {
                xb.dispose();
                yb.dispose();
              }
              if (stopped) break;
            }
          } finally {
            perm?.dispose();
          }
        }
        if (stopped) break epochs;
        const finalSums = sums as Tensor[] | null;
        const logs = await readLogs(finalSums, seen);
        if (val) {
          const v = await this.evaluateImpl('fit', val, batchSize, c);
          for (const [k, value] of Object.entries(v)) logs[`val_${k}`] = value;
        }
        if (this.stopTraining) {
          // asked during the epoch's last batch or its validation: resume redoes the epoch's end
          await interrupt(null);
          break epochs;
        }
        release(finalSums);
        sums = null;
        history.record(epoch, logs);
        if (verbose > 0) {
          const parts = Object.entries(logs).map(([k, v]) => `${k}: ${fmtNum(v)}`);
          log(`Epoch ${epoch + 1}/${epochs} - ${((Date.now() - t0) / 1000).toFixed(1)}s - ${parts.join(' - ')}`);
        }
        const bad = Object.entries(logs).filter(([, v]) => !Number.isFinite(v));
        if (bad.length && !warnedNonFinite) {
          warnedNonFinite = true;
          const line = `Epoch ${epoch + 1}/${epochs}: ${bad.map(([k, v]) => `${k} is ${v}`).join(', ')} — training diverged (try a lower learning rate; TerminateOnNaN stops at the first such batch, setAnomalyDetection(true) names the op that produced it)`;
          history.warnings.push(line);
          report(line);
        }
        if (scheduler && schedulerStep === 'epoch') (scheduler as LRScheduler).step();
        for (const cb of callbacks) await cb.onEpochEnd?.(epoch, logs);
        const stoppedByCallback = this.stopTraining; // e.g. EarlyStopping: training is finished
        if (ckpt && ckpt.every === 'epoch') await writeCkpt('epoch', epoch + 1, 0, null, 0, indexed ? indexed.iteration : null);
        if (this.stopTraining) {
          const interrupted = !stoppedByCallback; // asked while the checkpoint was written (a signal handler)
          history.stopped = { epoch, batch: null, reason: this.stopState!.reason, interrupted, logs };
          if (interrupted) report(`Stopped after epoch ${epoch + 1}/${epochs}: ${this.stopState!.reason}${ckpt ? `; the checkpoint in '${ckpt.dir}' continues from epoch ${epoch + 2}` : ''}`);
          break;
        }
      }
      if (resume && !opt) {
        // Nothing was left to train, but the checkpoint's state is still restored: a dataset's first
        // batch builds lazily-sized layers first (a pass read by index does not move `iteration`).
        if (dataset && !firstBatchChecked) {
          for await (const batch of (indexed ? indexed.iterate(indexed.iteration) : dataset) as AsyncIterable<Batch>) {
            const { toFree } = this.batchTensors(op, c, batch, true);
            for (const t of toFree) t.dispose();
            break;
          }
        }
        ready();
      }
      const lastLogs: Logs = {};
      for (const [k, v] of Object.entries(history.history)) lastLogs[k] = v[v.length - 1]!;
      for (const cb of callbacks) await cb.onTrainEnd?.(lastLogs);
      if (ckpt?.deleteOnFinish && !history.stopped?.interrupted) await deleteCheckpoints(ckpt.dir);
      return history;
    } finally {
      for (const t of owned) t.dispose();
      for (const t of live) t.dispose();
      this.train();
    }
  }

  /**
   * Restores a checkpoint's state into this model, `opt` and `scheduler`: all or nothing (the
   * optimizer and extra state are put back if a later part fails; the scheduler and random state
   * are checked first). Returns the epoch's running sums for a checkpoint inside an epoch.
   */
  private applyCheckpoint(op: string, opt: Optimizer, scheduler: LRScheduler | null, entry: CheckpointEntry, contents: SafetensorsContents): { sums: Tensor[]; seen: number } | null {
    if ((entry.scheduler === null) !== (scheduler === null)) {
      throw new AxonError(op, entry.scheduler ? `the checkpoint holds the state of a ${entry.scheduler.scheduler} scheduler, but this fit has no scheduler` : 'this fit has a scheduler, but the checkpoint was written without one');
    }
    if (scheduler && entry.scheduler) {
      const s = entry.scheduler;
      if (s.scheduler !== scheduler.name || !Number.isInteger(s.lastEpoch) || s.lastEpoch < 0 || !Array.isArray(s.baseLrs) || s.baseLrs.length !== scheduler.baseLrs.length) {
        throw new AxonError(op, `the checkpoint's scheduler state ${JSON.stringify(s)} does not fit this fit's ${scheduler.name} (${scheduler.baseLrs.length} param groups)`);
      }
    }
    const rng = entry.rng;
    const u32 = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < 2 ** 32;
    if (rng === null || typeof rng !== 'object' || !u32(rng.key) || !u32(rng.counter)) throw new AxonError(op, `the checkpoint's random state ${JSON.stringify(rng)} is not { key, counter }`);
    const part = (prefix: string): Record<string, HostTensorEntry> => {
      const out: Record<string, HostTensorEntry> = {};
      for (const [k, v] of Object.entries(contents.tensors)) if (k.startsWith(prefix)) out[k.slice(prefix.length)] = v;
      return out;
    };
    const sumNames = entry.sums ? entry.sums.names.map((_, i) => `${i}`) : [];
    const sumHost = part('fit.sum.');
    if (entry.sums && (sumNames.some((k) => !sumHost[k]) || entry.sums.names.length !== 1 + (this.compiled?.metrics.length ?? 0))) {
      throw new AxonError(op, `the checkpoint's running sums (${entry.sums.names.join(', ')}) do not match this model's loss and metrics`);
    }
    const modelSd = fromHostTensors(part('model.'));
    let optTensors: Record<string, Tensor> = {};
    const prevExtra = this.extraStateDict();
    const prevOpt = opt.stateDict();
    try {
      optTensors = fromHostTensors(part('optimizer.'));
      this.loadExtraStateDict(entry.extraState ?? {});
      try {
        opt.loadStateDict({ meta: entry.optimizer, tensors: optTensors });
        try {
          this.loadStateDict(modelSd);
        } catch (e) {
          opt.loadStateDict(prevOpt);
          throw e;
        }
      } catch (e) {
        this.loadExtraStateDict(prevExtra, { strict: false });
        throw e;
      }
      if (scheduler && entry.scheduler) scheduler.loadStateDict(entry.scheduler);
      setRngState(rng);
    } catch (e) {
      throw new AxonError(op, `cannot resume from the checkpoint: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      for (const t of Object.values(prevOpt.tensors)) t.dispose();
      for (const t of Object.values(modelSd)) t.dispose();
      for (const t of Object.values(optTensors)) t.dispose();
    }
    if (!entry.sums) return null;
    const sums = sumNames.map((k) => keep(fromHostTensors({ t: sumHost[k]! })['t']!));
    return { sums, seen: entry.sums.seen };
  }

  /** Converts one dataset batch to tensors, validating it (labels checked from host data for free). */
  private batchTensors(op: string, c: Compiled, batch: Batch, first: boolean): { xb: Tensor; yb: Tensor; toFree: Tensor[] } {
    if (batch === null || typeof batch !== 'object' || batch.x === undefined || batch.y === undefined) {
      throw new AxonError(op, 'a dataset batch must be { x, y } (e.g. fromArrays({ x, y }).batch(32))');
    }
    const toFree: Tensor[] = [];
    const xo = toTensorData(op, 'batch x', batch.x, null);
    const yo = toTensorData(op, 'batch y', batch.y, null);
    toFree.push(xo.t, yo.t);
    let yb = yo.t;
    const hostY = !isTensor(batch.y) ? (batch.y.data as ArrayLike<number>) : first && yb.backend.supportsSyncRead ? yb.dataSync() : null;
    try {
      if (first || hostY) this.validateData(op, c, xo.t, yb, c.loss.kind === 'sparseCategorical' || c.loss.kind === 'binary' ? hostY : null);
    } catch (e) {
      for (const t of toFree) t.dispose();
      throw e;
    }
    if (c.loss.kind === 'sparseCategorical' && yb.dtype !== 'int32') {
      yb = noGrad(() => yb.astype('int32'));
      toFree.push(yb);
    }
    return { xb: xo.t, yb, toFree };
  }

  private async evaluateImpl(op: string, data: { x: Tensor; y: Tensor } | BatchSource, batchSize: number, c: Compiled): Promise<Logs> {
    const fus = this.fusion(c);
    const names = ['loss', ...c.metrics.map((m) => m.name)];
    const wasTraining = this.training;
    this.eval();
    let sums: Tensor[] | null = null;
    let seen = 0;
    const step = (xb: Tensor, yb: Tensor): void => {
      const bs = xb.shape[0]!;
      const prev: Tensor[] | null = sums;
      const next = tidy(() =>
        noGrad(() => {
          const out = this.forwardParts(xb, fus.strip);
          const vals = [fus.fn(out, yb).reshape([]), ...this.metricValues(c, out, yb, fus.metricsFromLogits, fus.strip)];
          return vals.map((v, i) => (prev ? prev[i]!.add(v.mul(bs)) : v.mul(bs)));
        }),
      );
      if (prev) for (const t of prev) t.dispose();
      sums = next;
      seen += bs;
    };
    try {
      if (isBatchSource(data)) {
        let first = true;
        for await (const batch of data as AsyncIterable<Batch>) {
          const { xb, yb, toFree } = this.batchTensors(op, c, batch, first);
          first = false;
          try {
            step(xb, yb);
          } finally {
            for (const t of toFree) t.dispose();
          }
        }
      } else {
        const n = data.x.shape[0]!;
        for (let start = 0; start < n; start += batchSize) {
          const size = Math.min(batchSize, n - start);
          const xb = rows(data.x, start, size);
          const yb = rows(data.y, start, size);
          try {
            step(xb, yb);
          } finally {
            xb.dispose();
            yb.dispose();
          }
        }
      }
      const logs: Logs = {};
      const finalSums = sums as Tensor[] | null;
      if (finalSums) {
        const values = await Promise.all(finalSums.map((t) => t.data()));
        names.forEach((nm, i) => (logs[nm] = values[i]![0]! / seen));
        for (const t of finalSums) t.dispose();
      }
      return logs;
    } catch (e) {
      const leftover = sums as Tensor[] | null;
      if (leftover) for (const t of leftover) t.dispose();
      throw e;
    } finally {
      if (wasTraining) this.train();
    }
  }

  /**
   * Computes the loss and metrics on data (Keras's `evaluate`), batched, without gradients.
   * @example
   * const net = sequential([new Dense(2, { inputShape: [2], activation: 'softmax', kernelInitializer: 'ones', biasInitializer: 'zeros' })]);
   * net.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
   * const xTest = tensor([[1, 0], [0, 1]]);
   * const yTest = tensor([0, 1], [2], 'int32');
   * const { loss, accuracy } = await net.evaluate(xTest, yTest); // equal logits: probabilities 0.5
   * loss // 0.6931
   * accuracy // 0.5
   */
  async evaluate(x: DataInput | BatchSource, y?: DataInput | EvaluateOptions, options?: EvaluateOptions): Promise<Logs> {
    const op = 'evaluate';
    const c = this.requireCompiled(op);
    const note = this.takeCompileNote();
    if (note !== null) console.warn(note);
    if (isBatchSource(x)) {
      batchSizeOf(op, y);
      return this.evaluateImpl(op, x, 32, c);
    }
    const batchSize = batchSizeOf(op, options);
    const xo = toTensorData(op, 'x', x, this.inputShape);
    let yo0: ReturnType<typeof toTensorData>;
    try {
      yo0 = toTensorData(op, 'y', y as DataInput, null);
    } catch (e) {
      if (xo.owned) xo.t.dispose();
      throw e;
    }
    const yo = { t: matchRows(xo.t, yo0.t, y as DataInput), owned: true };
    if (yo0.owned && yo.t !== yo0.t) yo0.t.dispose();
    let yt = yo.t;
    try {
      this.validateData(op, c, xo.t, yt, c.loss.kind === 'sparseCategorical' || c.loss.kind === 'binary' ? await yt.data() : null);
      if (c.loss.kind === 'sparseCategorical' && yt.dtype !== 'int32') yt = noGrad(() => yo.t.astype('int32'));
      return await this.evaluateImpl(op, { x: xo.t, y: yt }, batchSize, c);
    } finally {
      if (xo.owned) xo.t.dispose();
      if (yo.owned) yo.t.dispose();
      if (yt !== yo.t) yt.dispose();
    }
  }

  /**
   * Runs the model on `x` in batches in eval mode without gradients (Keras's `predict`); returns
   * one tensor (the caller owns it).
   * @example
   * const net = sequential([new Dense(10, { inputShape: [4], activation: 'softmax' })]);
   * const yHat = net.predict(randn([50, 4]), { batchSize: 16 });
   * yHat.shape // [50, 10]
   * yHat.sum(-1).sub(1).abs().max().item() < 1e-5 // true
   * net.predict(new Float32Array(8)).shape // [2, 10]
   */
  predict(x: DataInput, opts: EvaluateOptions = {}): Tensor {
    const op = 'predict';
    const batchSize = batchSizeOf(op, opts);
    const xo = toTensorData(op, 'x', x, this.inputShape);
    const inShape = this.inputShape;
    const wasTraining = this.training;
    try {
      const xt = xo.t;
      if (xt.rank < 1) throw new AxonError(op, `x must have a batch axis, got ${fmtShape(xt.shape)}`);
      if (inShape) {
        const got = xt.shape.slice(1);
        if (got.length !== inShape.length || got.some((d, i) => d !== inShape[i])) throw new AxonError(op, `x has shape ${fmtShape(xt.shape)}, but the model expects [N, ${inShape.join(', ')}]`);
      }
      this.eval();
      const n = xt.shape[0]!;
      return tidy(() =>
        noGrad(() => {
          if (n <= batchSize) {
            const y = this.call(xt);
            return y === xt ? xt.clone() : y;
          }
          const parts: Tensor[] = [];
          for (let start = 0; start < n; start += batchSize) {
            const size = Math.min(batchSize, n - start);
            parts.push(this.call(rows(xt, start, size)));
          }
          return concat(parts, 0);
        }),
      );
    } finally {
      if (wasTraining) this.train();
      if (xo.owned) xo.t.dispose();
    }
  }

  /** Output shapes per layer for `summary` (null where unknown). */
  protected layerShapes(): { name: string; type: string; shape: SymbolicShape | null; params: number; inbound?: string }[] {
    return this.namedChildren().map(([n, l]) => ({ name: n, type: l.className, shape: null, params: l.countParams() + countStats(l) }));
  }

  /**
   * A Keras-style table of layers, output shapes and parameter counts.
   * @example
   * const net = sequential([new Dense(3, { inputShape: [2], name: 'hidden' }), new Dense(1, { name: 'out' })], { name: 'tiny' });
   * console.log(net.summary());
   * net.summary().split('\n').slice(-3) // ['Total params: 13', 'Trainable params: 13', 'Non-trainable params: 0']
   */
  summary(): string {
    const rows = this.layerShapes();
    const hasInbound = rows.some((r) => r.inbound !== undefined);
    const head = ['Layer (type)', 'Output Shape', 'Param #', ...(hasInbound ? ['Connected to'] : [])];
    const body = rows.map((r) => [`${r.name} (${r.type})`, fmtSym(r.shape), String(r.params), ...(hasInbound ? [r.inbound ?? ''] : [])]);
    const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)) + 2);
    const line = (cells: string[]): string => cells.map((cell, i) => cell.padEnd(widths[i]!)).join('').trimEnd();
    const trainable = this.countParams();
    const fixed = countStats(this);
    const total = trainable + fixed;
    const width = widths.reduce((a, b) => a + b, 0);
    const out = [`Model: "${this.name}"`, '_'.repeat(width), line(head), '='.repeat(width)];
    body.forEach((b, i) => {
      out.push(line(b));
      out.push(i === body.length - 1 ? '='.repeat(width) : '_'.repeat(width));
    });
    if (body.length === 0) out.push('='.repeat(width));
    if (rows.some((r) => r.shape === null)) out.push('(? = not built yet: give an inputShape, or run the model once)');
    out.push(`Total params: ${total.toLocaleString('en-US')}`, `Trainable params: ${trainable.toLocaleString('en-US')}`, `Non-trainable params: ${fixed.toLocaleString('en-US')}`);
    return out.join('\n');
  }

  override dispose(): void {
    super.dispose();
    this.optimizer?.dispose();
    this.optimizer = null;
  }
}

/**
 * Options of {@link sequential} / {@link Sequential}.
 * @example
 * const options: SequentialOptions = { inputShape: [28, 28], name: 'mlp' };
 * const mlp = sequential([new Flatten(), new Dense(10)], options);
 * mlp.inputShape // [28, 28]
 * mlp.countParams() // 7850
 */
export interface SequentialOptions {
  /** One example's shape (no batch axis); otherwise taken from the first layer's `inputShape`. */
  inputShape?: readonly number[];
  /** Model name. */
  name?: string;
}

/**
 * A stack of modules applied in order: PyTorch's `nn.Sequential` (`new Sequential(a, b, c)`,
 * parameters named `0.weight`, `1.bias`, …) and Keras's `Sequential` (see {@link sequential}),
 * with the Keras training API of {@link Model}.
 * @example
 * const net = new Sequential(new Linear(784, 128), new ReLU(), new Linear(128, 10));
 * const logits = net.call(randn([2, 784]));
 * logits.shape // [2, 10]
 * Object.keys(net.stateDict()) // ['0.weight', '0.bias', '2.weight', '2.bias']
 */
export class Sequential extends Model {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'Sequential';
  private declaredInputShape: readonly number[] | null;
  /** How many layers `add` registered (the next one's name). */
  private added = 0;
  /** The output shape of the layers so far, once the input shape is known. */
  private builtShape: SymbolicShape | null = null;

  constructor(...layers: Module[]) {
    super();
    this.declaredInputShape = null;
    for (const l of layers) this.add(l);
  }

  /**
   * Appends a layer (Keras's `model.add`). When the input shape is known, the new layer is built
   * from the previous layers' output shape (kept, so each `add` costs the same however many
   * layers there are); a layer that does not fit is not added.
   * @example
   * const net = sequential([new Dense(32, { inputShape: [4], activation: 'relu' })]);
   * net.add(new Dense(10, { activation: 'softmax' }));
   * net.layers.length // 2
   * net.add(new Linear(5, 2)) // throws: 'Linear'
   */
  add(layer: Module): this {
    if (!(layer instanceof Module)) throw new AxonError(`Sequential '${this.name}'`, `add expects a Module, got ${fmtValue(layer)}`);
    if (layer === this) throw new AxonError(`Sequential '${this.name}'`, 'cannot add a model to itself');
    const i = this.added;
    let declared = this.declaredInputShape;
    if (i === 0 && !declared) {
      const s = (layer as { inputShape?: readonly number[] }).inputShape;
      if (s !== undefined && s !== null) declared = checkExampleShape(`Sequential '${this.name}'`, `the inputShape of layer '${layer.name}'`, s);
    }
    const shape = declared ? layer.computeOutputShape(this.builtShape ?? [null, ...declared]) : null;
    this.registerModule(String(i), layer);
    this.added = i + 1;
    this.declaredInputShape = declared;
    this.builtShape = shape;
    return this;
  }

  /**
   * Sets the input shape and builds every layer (creating lazily-sized weights).
   * @example
   * const net = new Sequential(new Dense(4), new Dense(1));
   * net.countParams() // 0
   * net.setInputShape([3]);
   * net.countParams() // 21
   */
  setInputShape(shape: readonly number[]): this {
    checkExampleShape(`Sequential '${this.name}'`, 'inputShape', shape);
    let s: SymbolicShape = [null, ...shape];
    for (const l of this.layers) s = l.computeOutputShape(s);
    this.declaredInputShape = [...shape];
    this.builtShape = s;
    return this;
  }

  override get inputShape(): readonly number[] | null {
    return this.declaredInputShape;
  }

  override get finalActivation(): 'softmax' | 'sigmoid' | null {
    const ls = this.layers;
    return finalActivation(ls[ls.length - 1]);
  }

  forward(x: Tensor): Tensor {
    return this.forwardParts(x, false);
  }

  override forwardParts(x: Tensor, strip: boolean): Tensor {
    const layers = this.layers;
    const inShape = this.declaredInputShape;
    if (inShape) {
      const got = x.shape.slice(1);
      if (got.length !== inShape.length || got.some((d, i) => d !== inShape[i])) {
        throw new AxonError(`Sequential '${this.name}'`, `expected input [batch, ${inShape.join(', ')}], got ${fmtShape(x.shape)}`);
      }
    }
    let h = x;
    const last = layers.length - 1;
    for (let i = 0; i < layers.length; i++) {
      const l = layers[i]!;
      if (i === last && strip && finalActivation(l)) h = preFinal(l, h);
      else h = l.call(h);
    }
    return h;
  }

  override computeOutputShape(s: SymbolicShape): SymbolicShape {
    let out = s;
    for (const l of this.layers) out = l.computeOutputShape(out);
    return out;
  }

  protected override layerShapes(): { name: string; type: string; shape: SymbolicShape | null; params: number }[] {
    const first = this.layers[0];
    const inFeatures = first instanceof Linear ? first.inFeatures : null;
    let s: SymbolicShape | null = this.declaredInputShape ? [null, ...this.declaredInputShape] : inFeatures !== null ? [null, inFeatures] : null;
    return this.layers.map((l) => {
      if (s) {
        try {
          s = l.computeOutputShape(s);
        } catch {
          s = null;
        }
      }
      return { name: l.name, type: l.className, shape: s, params: l.countParams() + countStats(l) };
    });
  }

  override getConfig(): LayerConfig {
    return this.declaredInputShape ? { inputShape: [...this.declaredInputShape] } : {};
  }
}

/**
 * Keras's `keras.Sequential([...])`: a {@link Sequential} model of `layers`, built immediately
 * when the input shape is known (from `opts.inputShape` or the first layer's `inputShape`).
 * @example
 * const model = sequential([
 *   new Flatten({ inputShape: [28, 28] }),
 *   new Dense(128, { activation: 'relu' }),
 *   new Dropout(0.2),
 *   new Dense(10, { activation: 'softmax' }),
 * ]);
 * model.countParams() // 101770
 * model.predict(zeros([2, 28, 28])).shape // [2, 10]
 */
export function sequential(layers: readonly Module[] = [], opts: SequentialOptions = {}): Sequential {
  const op = 'sequential';
  if (!Array.isArray(layers)) throw new AxonError(op, `expects an array of layers, got ${fmtValue(layers)}`);
  layers.forEach((l: unknown, i) => {
    if (!(l instanceof Module)) throw new AxonError(op, `layers[${i}] must be a layer (a Module), got ${fmtValue(l)}`);
  });
  const o = optionsOf<SequentialOptions>(op, opts, ['inputShape', 'name']);
  const name = optName(op, o.name);
  const inputShape = o.inputShape === undefined ? undefined : checkExampleShape(op, 'inputShape', o.inputShape);
  const m = new Sequential();
  if (name) m.name = name;
  if (inputShape) m.setInputShape(inputShape);
  for (const l of layers) m.add(l);
  return m;
}

/** A node of a functional graph: a layer applied to symbolic inputs. */
interface GraphNode {
  readonly layer: Module;
  readonly inputs: readonly SymbolicTensor[];
  readonly output: SymbolicTensor;
}

/**
 * Options of {@link model}.
 * @example
 * const x = input({ shape: [4] });
 * const y = new Dense(1).call(x);
 * const options: GraphModelOptions = { inputs: x, outputs: y, name: 'regressor' };
 * model(options).name // 'regressor'
 */
export interface GraphModelOptions {
  /** The symbolic input(s) from {@link input}. */
  inputs: SymbolicTensor | readonly SymbolicTensor[];
  /** The symbolic output (one). */
  outputs: SymbolicTensor | readonly SymbolicTensor[];
  /** Model name. */
  name?: string;
}

/**
 * A functional model: a DAG of layer calls from symbolic inputs to one output (Keras's
 * functional `Model`). Layers may be shared (called more than once); merges use {@link Add} /
 * {@link Concatenate}.
 * @example
 * const x = input({ shape: [10] });
 * const y = new Dense(1).call(new Dense(5, { activation: 'relu' }).call(x));
 * const m = model({ inputs: x, outputs: y });
 * m instanceof GraphModel // true
 * m.predict(randn([3, 10])).shape // [3, 1]
 * m.countParams() // 61
 */
export class GraphModel extends Model {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'GraphModel';
  /** The symbolic inputs. */
  readonly inputs: readonly SymbolicTensor[];
  /** The symbolic output. */
  readonly output: SymbolicTensor;
  /** The nodes in execution order. */
  readonly nodes: readonly GraphNode[];

  constructor(opts: GraphModelOptions) {
    const o = optionsOf<GraphModelOptions>('model', opts, ['inputs', 'outputs', 'name']);
    super(optName('model', o.name) ?? uniqueName('Functional'));
    const op = 'model';
    const inputs = Array.isArray(opts.inputs) ? [...(opts.inputs as SymbolicTensor[])] : [opts.inputs as SymbolicTensor];
    const outputs = Array.isArray(opts.outputs) ? [...(opts.outputs as SymbolicTensor[])] : [opts.outputs as SymbolicTensor];
    if (inputs.length === 0 || !inputs.every(isSymbolic)) throw new AxonError(op, 'inputs must be symbolic tensors from input({ shape })');
    if (outputs.length !== 1 || !isSymbolic(outputs[0])) throw new AxonError(op, `outputs must be one symbolic tensor (got ${outputs.length}); models with several outputs are not supported yet`);
    for (const i of inputs) if (i.layer !== null) throw new AxonError(op, `inputs must come from input(), but ${i.toString()} is a layer output`);
    const output = outputs[0]!;
    // topological order by DFS from the output
    const order: SymbolicTensor[] = [];
    const state = new Map<SymbolicTensor, 1 | 2>();
    const visit = (t: SymbolicTensor): void => {
      const s = state.get(t);
      if (s === 2) return;
      if (s === 1) throw new AxonError(op, 'the graph has a cycle');
      state.set(t, 1);
      if (t.layer === null) {
        if (!inputs.includes(t)) throw new AxonError(op, `the output depends on ${t.toString()}, which is not among the model's inputs`);
      } else for (const i of t.inputs) visit(i);
      state.set(t, 2);
      order.push(t);
    };
    visit(output);
    this.inputs = inputs;
    this.output = output;
    this.nodes = order.filter((t) => t.layer !== null).map((t) => ({ layer: t.layer!, inputs: t.inputs, output: t }));
    const byName = new Map<string, Module>();
    for (const n of this.nodes) {
      const prev = byName.get(n.layer.name);
      if (prev && prev !== n.layer) throw new AxonError(op, `two different layers are named '${n.layer.name}'; layer names must be unique in a model`);
      if (!prev) {
        byName.set(n.layer.name, n.layer);
        this.registerModule(n.layer.name.replace(/\./g, '_'), n.layer);
      }
    }
  }

  override get inputShape(): readonly number[] | null {
    return this.inputs.length === 1 ? (this.inputs[0]!.shape.slice(1) as number[]) : null;
  }

  override get finalActivation(): 'softmax' | 'sigmoid' | null {
    const last = this.nodes[this.nodes.length - 1];
    return last && last.inputs.length === 1 ? finalActivation(last.layer) : null;
  }

  forward(...xs: Tensor[]): Tensor {
    return this.run(xs, false);
  }

  override forwardParts(x: Tensor, strip: boolean): Tensor {
    return this.run([x], strip);
  }

  private run(xs: readonly Tensor[], strip: boolean): Tensor {
    const op = `${this.className} '${this.name}'`;
    if (xs.length !== this.inputs.length) throw new AxonError(op, `expects ${this.inputs.length} input(s), got ${xs.length}`);
    const values = new Map<SymbolicTensor, Tensor>();
    this.inputs.forEach((s, i) => {
      const x = xs[i]!;
      const want = s.shape.slice(1);
      const got = x.shape.slice(1);
      if (got.length !== want.length || got.some((d, k) => want[k] !== null && d !== want[k])) {
        throw new AxonError(op, `input '${s.name ?? i}' expects [batch, ${want.join(', ')}], got ${fmtShape(x.shape)}`);
      }
      values.set(s, x);
    });
    const last = this.nodes.length - 1;
    this.nodes.forEach((n, i) => {
      const args = n.inputs.map((s) => values.get(s)!);
      const y = i === last && strip && this.finalActivation ? preFinal(n.layer, args[0]!) : n.layer.call(...args);
      values.set(n.output, y);
    });
    return values.get(this.output)!;
  }

  override computeOutputShape(): SymbolicShape {
    return this.output.shape;
  }

  protected override layerShapes(): { name: string; type: string; shape: SymbolicShape | null; params: number; inbound?: string }[] {
    const rows: { name: string; type: string; shape: SymbolicShape | null; params: number; inbound?: string }[] = this.inputs.map((s) => ({ name: s.name ?? 'input', type: 'InputLayer', shape: s.shape, params: 0, inbound: '' }));
    const counted = new Set<Module>();
    const nameOf = (s: SymbolicTensor): string => (s.layer ? s.layer.name : (s.name ?? 'input'));
    for (const n of this.nodes) {
      rows.push({ name: n.layer.name, type: n.layer.className, shape: n.output.shape, params: counted.has(n.layer) ? 0 : n.layer.countParams() + countStats(n.layer), inbound: n.inputs.map(nameOf).join(', ') });
      counted.add(n.layer);
    }
    return rows;
  }
}

/**
 * Builds a functional model from symbolic inputs and outputs (Keras's `keras.Model({ inputs, outputs })`).
 * @example
 * const x = input({ shape: [10] });
 * const h = new Dense(5, { activation: 'relu' }).call(x);
 * const m = model({ inputs: x, outputs: new Dense(1).call(h) });
 * m.compile({ optimizer: 'adam', loss: 'meanSquaredError' });
 * const history = await m.fit(randn([20, 10]), randn([20, 1]), { epochs: 2, verbose: 0 });
 * history.epoch // [0, 1]
 */
export function model(opts: GraphModelOptions): GraphModel {
  if (opts === null || typeof opts !== 'object') throw new AxonError('model', `expects { inputs, outputs }, got ${fmtValue(opts)}`);
  return new GraphModel(opts);
}

/**
 * Adds symbolic or concrete tensors elementwise through an {@link Add} layer (Keras's `layers.add`).
 * @example
 * add([tensor([1, 2]), tensor([10, 20])]) // [11, 22]
 * const a = input({ shape: [4] });
 * const b = new Dense(4).call(a);
 * const s = add([a, b]); // a residual connection
 * model({ inputs: a, outputs: s }).predict(randn([2, 4])).shape // [2, 4]
 */
export function add(xs: readonly SymbolicTensor[]): SymbolicTensor;
export function add(xs: readonly Tensor[]): Tensor;
export function add(xs: readonly (Tensor | SymbolicTensor)[]): Tensor | SymbolicTensor {
  if (!Array.isArray(xs) || xs.length === 0) throw new AxonError('add', `expects a non-empty list of tensors, got ${fmtValue(xs)}`);
  const layer = new AddLayer();
  return xs.every(isSymbolic) ? layer.call(...(xs as SymbolicTensor[])) : layer.call(...(xs as Tensor[]));
}

/**
 * Concatenates symbolic or concrete tensors along `axis` through a {@link Concatenate} layer.
 * @example
 * concatenate([tensor([[1, 2]]), tensor([[3]])]) // [[1, 2, 3]]
 * const a = input({ shape: [4] });
 * const b = input({ shape: [2] });
 * const h = concatenate([a, b]);
 * h.shape // [null, 6]
 * model({ inputs: [a, b], outputs: new Dense(1).call(h) }).forward(randn([3, 4]), randn([3, 2])).shape // [3, 1]
 */
export function concatenate(xs: readonly SymbolicTensor[], axis?: number): SymbolicTensor;
export function concatenate(xs: readonly Tensor[], axis?: number): Tensor;
export function concatenate(xs: readonly (Tensor | SymbolicTensor)[], axis = -1): Tensor | SymbolicTensor {
  if (!Array.isArray(xs) || xs.length === 0) throw new AxonError('concatenate', `expects a non-empty list of tensors, got ${fmtValue(xs)}`);
  const layer = new ConcatenateLayer({ axis });
  return xs.every(isSymbolic) ? layer.call(...(xs as SymbolicTensor[])) : layer.call(...(xs as Tensor[]));
}

/**
 * @internal The last part of every loader: `m` (built from `json`, weights not loaded yet) must be
 * a {@link Model}; unless `compile` is false, it is compiled from `json.compile` when the file has
 * one. On failure `m` is freed and the error thrown.
 */
export function asLoadedModel(op: string, m: Module, json: unknown, source: string, compile: boolean): Model {
  try {
    if (!(m instanceof Model)) {
      throw new AxonError(op, `${source} holds a ${m.className} layer, not a model (Sequential or functional): rebuild a single layer with modelFromJson(json) and load its weights with loadWeights / decodeWeights`);
    }
    const c = json !== null && typeof json === 'object' ? (json as { compile?: unknown }).compile : undefined;
    if (compile && c !== undefined) {
      try {
        m.compileFromConfig(c as SavedCompileConfig);
      } catch (e) {
        throw new AxonError(op, `${source}: ${e instanceof Error ? e.message : String(e)} (load with { compile: false } to skip the compile settings)`);
      }
    }
    return m;
  } catch (e) {
    m.dispose();
    throw e;
  }
}
