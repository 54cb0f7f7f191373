/**
 * The options of `fit`, `evaluate` and `predict`, and their checks (before anything is created).
 */
import { AxonError, type Tensor, fmtValue } from '@axon/core';
import type { LRScheduler, Optimizer } from '@axon/optimizers';
import { BackupAndRestore, type Callback } from './callbacks.js';
import type { BatchSource, DataInput } from './data.js';
import { checkFinite, checkInt, optBool, optionsOf } from './validate.js';

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
  /** Validation data: `[x, y]` (x an array of tensors for a model with several inputs) or a dataset of `{ x, y }` batches. */
  validationData?: readonly [DataInput | readonly Tensor[], DataInput] | BatchSource;
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
  /**
   * Run the training step compiled (default true): the forward pass, loss, gradients and metrics
   * are traced on the first batch of each shape and replayed without their JavaScript (core's
   * `compile`). Results are the same either way; a model that cannot be compiled (BatchNorm
   * updating its running statistics, a layer reading values on the host) runs uncompiled.
   */
  compile?: boolean;
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

const FIT_KEYS = ['epochs', 'batchSize', 'shuffle', 'seed', 'validationSplit', 'validationData', 'callbacks', 'verbose', 'log', 'initialEpoch', 'checkpoint', 'scheduler', 'schedulerStep', 'compile'];

/** @internal `fit`'s options, checked before anything is created (a misspelt option is an error, as in Keras). */
export function fitOptions(op: string, raw: unknown): FitOptions {
  const o = optionsOf<FitOptions>(op, raw === null ? undefined : raw, FIT_KEYS);
  if (o.epochs !== undefined) checkInt(op, 'epochs', o.epochs, 0, Number.MAX_SAFE_INTEGER);
  if (o.batchSize !== undefined) checkInt(op, 'batchSize', o.batchSize, 1);
  optBool(op, 'shuffle', o.shuffle);
  if (o.seed !== undefined) checkFinite(op, 'seed', o.seed);
  if (o.compile !== undefined && typeof o.compile !== 'boolean') throw new AxonError(op, `compile must be true or false, got ${fmtValue(o.compile)}`);
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

/** @internal `evaluate`'s and `predict`'s options: the batch size (default 32). */
export function batchSizeOf(op: string, raw: unknown): number {
  const o = optionsOf<EvaluateOptions>(op, raw === null ? undefined : raw, ['batchSize']);
  return o.batchSize === undefined ? 32 : checkInt(op, 'batchSize', o.batchSize, 1);
}

/** @internal `fit`'s resolved checkpoint settings (from `checkpoint` or a BackupAndRestore callback). */
export interface CheckpointConfig {
  readonly dir: string;
  readonly every: 'epoch' | number;
  readonly keep: number;
  readonly resume: boolean;
  readonly deleteOnFinish: boolean;
}

/** @internal Resolves `fit`'s checkpoint settings from its `checkpoint` option or a BackupAndRestore callback (at most one). */
export function checkpointConfig(op: string, opts: FitOptions, callbacks: readonly Callback[]): CheckpointConfig | null {
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
