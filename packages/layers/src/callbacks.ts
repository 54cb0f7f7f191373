/**
 * Training callbacks: the {@link Callback} interface, {@link History}, {@link EarlyStopping},
 * {@link ModelCheckpoint}, {@link TerminateOnNaN}, {@link BackupAndRestore} and {@link LambdaCallback}.
 */
import { AxonError, type Tensor, noGrad, fmtValue } from '@axon/core';
import { checkFinite, checkInt, optBool, optionsOf } from './validate.js';
import type { CheckpointInfo } from './checkpoint.js';
import type { Model } from './model.js';

/**
 * Metrics by name for one epoch or batch: `loss`, `accuracy`, `val_loss`, `val_accuracy`, ….
 * @example
 * const net = sequential([new Dense(1, { inputShape: [1] })]);
 * net.compile({ optimizer: 'sgd', loss: 'mse', metrics: ['mae'] });
 * const history = await net.fit(tensor([[0], [1]]), tensor([[1], [3]]), { verbose: 0 });
 * const logs: Logs = { loss: history.history.loss![0]!, mae: history.history.mae![0]! };
 * Object.keys(logs) // ['loss', 'mae']
 */
export type Logs = Record<string, number>;

/**
 * Hooks `fit` calls. Every method is optional and may be async (`fit` awaits it). Batch logs
 * read the batch loss from the device only when a callback reads `logs.loss`.
 * @example
 * const net = sequential([new Dense(1, { inputShape: [1] })]);
 * net.compile({ optimizer: 'sgd', loss: 'mse' });
 * const seen: number[] = [];
 * const printer: Callback = { onEpochEnd: (epoch, logs) => { seen.push(epoch); console.log(epoch, logs.loss); } };
 * await net.fit(tensor([[0], [1]]), tensor([[1], [3]]), { epochs: 3, verbose: 0, callbacks: [printer] });
 * seen // [0, 1, 2]
 */
export interface Callback {
  /** Called once before training with the model being trained. */
  setModel?(model: Model): void;
  onTrainBegin?(logs: Logs): void | Promise<void>;
  onTrainEnd?(logs: Logs): void | Promise<void>;
  onEpochBegin?(epoch: number, logs: Logs): void | Promise<void>;
  onEpochEnd?(epoch: number, logs: Logs): void | Promise<void>;
  onBatchBegin?(batch: number, logs: Logs): void | Promise<void>;
  onBatchEnd?(batch: number, logs: Logs): void | Promise<void>;
  /** Called after `fit` wrote a checkpoint (see `FitOptions.checkpoint` and {@link BackupAndRestore}). */
  onCheckpoint?(info: CheckpointInfo): void | Promise<void>;
}

/**
 * Why and where `fit` stopped before running every epoch (`History.stopped`).
 * @example
 * const net = sequential([new Dense(1, { inputShape: [1] })]);
 * net.compile({ optimizer: 'sgd', loss: 'mse' });
 * const stopAfterTwo: Callback = { onBatchEnd: (batch) => { if (batch === 1) net.stopTraining = true; } };
 * const history = await net.fit(randn([8, 1]), randn([8, 1]), { batchSize: 2, verbose: 0, callbacks: [stopAfterTwo] });
 * const stop: StopInfo | null = history.stopped;
 * stop?.interrupted // true
 * stop?.batch // 1
 * stop?.reason // 'model.stopTraining was set'
 */
export interface StopInfo {
  /** The epoch it stopped in (0-based). */
  readonly epoch: number;
  /**
   * The last batch run (0-based) when the epoch was cut short — it is then not in
   * `history.history`, its partial logs are in `logs`, and no epoch-end callback ran for it; null
   * when training stopped at the epoch's end.
   */
  readonly batch: number | null;
  /** What asked to stop (e.g. TerminateOnNaN's message, EarlyStopping, `model.stopTraining = true`). */
  readonly reason: string;
  /**
   * True when training was interrupted — a stop requested during a batch or the epoch's end work
   * (e.g. by a SIGINT handler), or by TerminateOnNaN — and so is unfinished (BackupAndRestore keeps
   * its backup); false when a callback ended it from `onEpochEnd` (EarlyStopping).
   */
  readonly interrupted: boolean;
  /** The logs of the epoch (so far, when it was cut short). */
  readonly logs: Logs;
}

/**
 * What `fit` returns: per-epoch logs by metric name (Keras's `History`).
 * @example
 * const net = sequential([new Dense(1, { inputShape: [1], kernelInitializer: 'zeros' })]);
 * net.compile({ optimizer: { name: 'sgd', learningRate: 0.1 }, loss: 'mse' });
 * const h = await net.fit(tensor([[0], [1]]), tensor([[1], [3]]), { epochs: 3, verbose: 0 });
 * h.epoch // [0, 1, 2]
 * h.history.loss // [5, 2.825, 1.632]
 * h.stopped // null
 */
export class History {
  /** The epochs run (0-based). */
  readonly epoch: number[] = [];
  /** Values per metric name, one per epoch. */
  readonly history: Record<string, number[]> = {};
  /** Why and where training stopped early, or null when every epoch ran. */
  stopped: StopInfo | null = null;
  /** Problems `fit` reported, e.g. an epoch whose loss is NaN (also written through `log`). */
  readonly warnings: string[] = [];
  /** The checkpoints `fit` wrote, in order (the last is where a resume continues). */
  readonly checkpoints: CheckpointInfo[] = [];
  /** The checkpoint this run resumed from, or null. */
  resumedFrom: CheckpointInfo | null = null;

  /** Appends one epoch's logs. */
  record(epoch: number, logs: Logs): void {
    this.epoch.push(epoch);
    for (const [k, v] of Object.entries(logs)) (this.history[k] ??= []).push(v);
  }
}

/**
 * Options of {@link TerminateOnNaN}.
 * @example
 * const options: TerminateOnNaNOptions = { throwError: true };
 * new TerminateOnNaN(options).throwError // true
 */
export interface TerminateOnNaNOptions {
  /** Throw an AxonError from `fit` instead of stopping it and reporting in `History.stopped` (default false). */
  throwError?: boolean;
}

/**
 * Stops training at the first batch whose loss is NaN or ±Infinity (Keras's `TerminateOnNaN`).
 * `fit` ends after that step with `history.stopped` = `{ epoch, batch, reason: 'Epoch 3, batch 7:
 * invalid loss NaN, terminating training', interrupted: true }` and prints the reason through its
 * `log`; no checkpoint is written of the diverged weights (the last one stays the latest). With
 * `throwError: true`, `fit` throws that message as an AxonError instead. It reads each batch's loss
 * back from the device.
 * @example
 * const net = sequential([new Dense(1, { inputShape: [1] })]);
 * net.compile({ optimizer: { name: 'sgd', learningRate: 1e30 }, loss: 'mse' }); // diverges at once
 * const h = await net.fit(tensor([[1], [2]]), tensor([[1e10], [2e10]]), { epochs: 5, batchSize: 1, shuffle: false, verbose: 0, callbacks: [new TerminateOnNaN()] });
 * h.stopped?.reason // 'Epoch 1, batch 2: invalid loss Infinity, terminating training'
 * h.epoch // []
 */
export class TerminateOnNaN implements Callback {
  readonly throwError: boolean;
  private model: Model | null = null;
  private epoch = 0;

  constructor(opts: TerminateOnNaNOptions = {}) {
    const o = optionsOf<TerminateOnNaNOptions>('TerminateOnNaN', opts, ['throwError']);
    this.throwError = optBool('TerminateOnNaN', 'throwError', o.throwError) ?? false;
  }

  setModel(model: Model): void {
    this.model = model;
  }

  onEpochBegin(epoch: number): void {
    this.epoch = epoch;
  }

  onBatchEnd(batch: number, logs: Logs): void {
    const loss = logs['loss'];
    if (loss === undefined || Number.isFinite(loss)) return;
    const reason = `Epoch ${this.epoch + 1}, batch ${batch + 1}: invalid loss ${loss}, terminating training`;
    if (this.throwError) throw new AxonError('TerminateOnNaN', reason);
    this.model?.requestStop(reason, { checkpoint: false });
  }
}

/**
 * Options of {@link BackupAndRestore} (Keras's arguments).
 * @example
 * const options: BackupAndRestoreOptions = { backupDir: 'backup', saveFreq: 100 };
 * new BackupAndRestore(options).saveFreq // 100
 */
export interface BackupAndRestoreOptions {
  /** The folder of the backup checkpoint. */
  backupDir: string;
  /** `'epoch'` (default) or every N training steps. */
  saveFreq?: 'epoch' | number;
  /** Delete the backup when training finishes (every epoch run, or stopped at an epoch's end by a callback); default true. */
  deleteCheckpoint?: boolean;
}

/**
 * Keras's `BackupAndRestore`: `fit` restores from the backup in `backupDir` when it begins (if
 * there is one) — weights, optimizer and scheduler state, epoch and step, random state and data
 * position, so the run continues exactly — backs up every epoch (or every `saveFreq` steps) and
 * when training is interrupted (`model.stopTraining = true` during a batch, e.g. from a SIGINT
 * handler), and deletes the backup when training finishes. It is `fit`'s
 * `checkpoint: { dir: backupDir, every: saveFreq, keep: 1, resume: true }`, plus the deletion.
 * @example
 * const net = sequential([new Dense(1, { inputShape: [1] })]);
 * net.compile({ optimizer: 'sgd', loss: 'mse' });
 * const backup = new BackupAndRestore({ backupDir: 'backup-example' });
 * // Run this again after a crash and it continues from the last epoch it finished.
 * const h = await net.fit(tensor([[0], [1]]), tensor([[1], [3]]), { epochs: 3, verbose: 0, callbacks: [backup] });
 * h.epoch // [0, 1, 2]
 * await latestCheckpoint('backup-example') // null
 */
export class BackupAndRestore implements Callback {
  readonly backupDir: string;
  readonly saveFreq: 'epoch' | number;
  readonly deleteCheckpoint: boolean;

  constructor(opts: BackupAndRestoreOptions) {
    const op = 'BackupAndRestore';
    if (opts === undefined) throw new AxonError(op, 'expects { backupDir: string, saveFreq?, deleteCheckpoint? }');
    const o = optionsOf<BackupAndRestoreOptions>(op, opts, ['backupDir', 'saveFreq', 'deleteCheckpoint']);
    if (typeof o.backupDir !== 'string' || o.backupDir === '') throw new AxonError(op, `expects { backupDir: string, saveFreq?, deleteCheckpoint? }, got backupDir ${fmtValue(o.backupDir)}`);
    const f = o.saveFreq ?? 'epoch';
    if (f !== 'epoch' && !(Number.isSafeInteger(f) && f >= 1)) throw new AxonError(op, `saveFreq must be 'epoch' or a positive integer number of steps, got ${fmtValue(f)}`);
    this.backupDir = o.backupDir;
    this.saveFreq = f;
    this.deleteCheckpoint = optBool(op, 'deleteCheckpoint', o.deleteCheckpoint) ?? true;
  }

  /** The last backup `fit` wrote in this run (null before the first). */
  lastBackup: CheckpointInfo | null = null;

  onCheckpoint(info: CheckpointInfo): void {
    this.lastBackup = info;
  }
}

/**
 * A callback built from functions (Keras's `LambdaCallback`).
 * @example
 * const net = sequential([new Dense(1, { inputShape: [1] })]);
 * net.compile({ optimizer: 'sgd', loss: 'mse' });
 * let epochs = 0;
 * const counter = new LambdaCallback({ onEpochEnd: (e, logs) => { epochs++; console.log(e, logs); } });
 * await net.fit(tensor([[0], [1]]), tensor([[1], [3]]), { epochs: 2, verbose: 0, callbacks: [counter] });
 * epochs // 2
 */
export class LambdaCallback implements Callback {
  constructor(hooks: Callback) {
    const keys = ['setModel', 'onTrainBegin', 'onTrainEnd', 'onEpochBegin', 'onEpochEnd', 'onBatchBegin', 'onBatchEnd', 'onCheckpoint'];
    const o = optionsOf<Record<string, unknown>>('LambdaCallback', hooks, keys);
    for (const [k, v] of Object.entries(o)) {
      if (v !== undefined && typeof v !== 'function') throw new AxonError('LambdaCallback', `${k} must be a function, got ${fmtValue(v)}`);
    }
    Object.assign(this, o);
  }
}

/**
 * Which direction is better for a monitored value.
 * @example
 * const mode: MonitorMode = 'max';
 * new EarlyStopping({ monitor: 'val_accuracy', mode }).monitor // 'val_accuracy'
 */
export type MonitorMode = 'auto' | 'min' | 'max';

function monitorOf(op: string, m: unknown): string {
  if (m === undefined) return 'val_loss';
  if (typeof m !== 'string' || m === '') throw new AxonError(op, `monitor must be the name of a logged value (e.g. 'val_loss'), got ${fmtValue(m)}`);
  return m;
}

function modeOf(op: string, m: unknown): MonitorMode {
  if (m === undefined) return 'auto';
  if (m !== 'auto' && m !== 'min' && m !== 'max') throw new AxonError(op, `mode must be 'auto', 'min' or 'max', got ${fmtValue(m)}`);
  return m;
}

function isBetterFn(monitor: string, mode: MonitorMode, minDelta: number): (a: number, best: number) => boolean {
  const max = mode === 'max' || (mode === 'auto' && /acc|auc|precision|recall/i.test(monitor));
  return max ? (a, best) => a - minDelta > best : (a, best) => a + minDelta < best;
}

/**
 * Options of {@link EarlyStopping}.
 * @example
 * const options: EarlyStoppingOptions = { monitor: 'val_loss', patience: 3, restoreBestWeights: true };
 * new EarlyStopping(options).patience // 3
 */
export interface EarlyStoppingOptions {
  /** The logged value watched (default `'val_loss'`). */
  monitor?: string;
  /** Smallest change that counts as an improvement (default 0). */
  minDelta?: number;
  /** Epochs without improvement before stopping (default 0). */
  patience?: number;
  /** `'min'`, `'max'` or `'auto'` (max for accuracy-like names; default). */
  mode?: MonitorMode;
  /** A value the monitored quantity must beat. */
  baseline?: number;
  /** Restore the weights of the best epoch when training stops or ends (default false). */
  restoreBestWeights?: boolean;
}

/**
 * Stops training when the monitored value stops improving (Keras's `EarlyStopping`).
 * @example
 * const net = sequential([new Dense(1, { inputShape: [1] })]);
 * net.compile({ optimizer: { name: 'sgd', learningRate: 0.5 }, loss: 'mse' });
 * const x = randn([20, 1]);
 * const y = randn([20, 1]); // noise: the validation loss soon stops improving
 * const stopper = new EarlyStopping({ monitor: 'val_loss', patience: 2, restoreBestWeights: true });
 * const h = await net.fit(x, y, { epochs: 100, validationSplit: 0.5, verbose: 0, callbacks: [stopper] });
 * h.epoch.length < 100 // true
 * stopper.stoppedEpoch === stopper.bestEpoch + 2 // true
 */
export class EarlyStopping implements Callback {
  readonly monitor: string;
  readonly patience: number;
  readonly restoreBestWeights: boolean;
  /** The epoch training stopped at (0 if it did not stop early). */
  stoppedEpoch = 0;
  /** The best value seen. */
  best = Infinity;
  /** The epoch of the best value. */
  bestEpoch = -1;
  private wait = 0;
  private model: Model | null = null;
  private snapshot: Record<string, Tensor> | null = null;
  private readonly better: (a: number, best: number) => boolean;
  private readonly baseline: number | undefined;
  private readonly maxMode: boolean;
  private warned = false;

  constructor(opts: EarlyStoppingOptions = {}) {
    const op = 'EarlyStopping';
    const o = optionsOf<EarlyStoppingOptions>(op, opts, ['monitor', 'minDelta', 'patience', 'mode', 'baseline', 'restoreBestWeights']);
    this.monitor = monitorOf(op, o.monitor);
    this.patience = checkInt(op, 'patience', o.patience ?? 0, 0, Number.MAX_SAFE_INTEGER);
    const mode = modeOf(op, o.mode);
    this.better = isBetterFn(this.monitor, mode, Math.abs(checkFinite(op, 'minDelta', o.minDelta ?? 0)));
    this.maxMode = this.better(1, 0) && !this.better(0, 1);
    this.baseline = o.baseline === undefined ? undefined : checkFinite(op, 'baseline', o.baseline);
    this.restoreBestWeights = optBool(op, 'restoreBestWeights', o.restoreBestWeights) ?? false;
  }

  setModel(model: Model): void {
    this.model = model;
  }

  onTrainBegin(): void {
    this.wait = 0;
    this.stoppedEpoch = 0;
    this.best = this.baseline ?? (this.maxMode ? -Infinity : Infinity);
    this.bestEpoch = -1;
    this.dropSnapshot();
  }

  onEpochEnd(epoch: number, logs: Logs): void {
    const v = logs[this.monitor];
    if (v === undefined) {
      if (!this.warned) console.warn(`EarlyStopping: '${this.monitor}' is not logged (available: ${Object.keys(logs).join(', ')}); not stopping early`);
      this.warned = true;
      return;
    }
    this.wait++;
    if (this.better(v, this.best)) {
      this.best = v;
      this.bestEpoch = epoch;
      this.wait = 0;
      if (this.restoreBestWeights && this.model) {
        this.dropSnapshot();
        const sd = this.model.stateDict();
        this.snapshot = noGrad(() => Object.fromEntries(Object.entries(sd).map(([k, t]) => [k, t.clone().keep()])));
      }
      return;
    }
    if (this.wait >= this.patience && epoch > 0) {
      this.stoppedEpoch = epoch;
      if (this.model) this.model.stopTraining = true;
    }
  }

  onTrainEnd(): void {
    if (this.restoreBestWeights && this.snapshot && this.model && this.bestEpoch >= 0) this.model.loadStateDict(this.snapshot);
    this.dropSnapshot();
  }

  private dropSnapshot(): void {
    if (this.snapshot) for (const t of Object.values(this.snapshot)) t.dispose();
    this.snapshot = null;
  }
}

/**
 * Options of {@link ReduceLROnPlateauCallback} (Keras' `ReduceLROnPlateau`).
 * @example
 * const options: ReduceLROnPlateauCallbackOptions = { monitor: 'loss', factor: 0.5, patience: 2, minLr: 1e-5 };
 * new ReduceLROnPlateauCallback(options).factor // 0.5
 */
export interface ReduceLROnPlateauCallbackOptions {
  /** The logged value watched (default `'val_loss'`). */
  monitor?: string;
  /** The learning rate is multiplied by it (in [0, 1); default 0.1). */
  factor?: number;
  /** Epochs without improvement before reducing (default 10). */
  patience?: number;
  /** `'min'`, `'max'` or `'auto'` (max when the name contains `acc`, as Keras; default). */
  mode?: MonitorMode;
  /** Smallest absolute change that counts as an improvement (default 1e-4). */
  minDelta?: number;
  /** Epochs to wait after a reduction before counting again (default 0). */
  cooldown?: number;
  /** The learning rate never goes below it (default 0). */
  minLr?: number;
}

/**
 * Keras' `ReduceLROnPlateau` callback: multiplies the optimizer's learning rate by `factor` (not
 * below `minLr`) when the monitored value has not improved by more than `minDelta` for `patience`
 * epochs; after a reduction it waits `cooldown` epochs (which reset the count). It logs `lr` (the
 * rate during the epoch) every epoch, and warns once when the monitored value is not logged.
 * Named with `Callback` because `@axon/optimizers` exports PyTorch's `ReduceLROnPlateau`
 * scheduler, which steps from your own loop.
 * @example
 * const net = sequential([new Dense(1, { inputShape: [1] })]);
 * net.compile({ optimizer: { name: 'sgd', learningRate: 0.1 }, loss: 'mse' });
 * const plateau = new ReduceLROnPlateauCallback({ monitor: 'loss', factor: 0.5, patience: 1, minDelta: 1e9 }); // nothing counts as an improvement
 * const h = await net.fit(ones([4, 1]), ones([4, 1]), { epochs: 4, verbose: 0, callbacks: [plateau] });
 * h.history['lr'] // [0.1, 0.1, 0.05, 0.025]
 */
export class ReduceLROnPlateauCallback implements Callback {
  /** The logged value watched. */
  readonly monitor: string;
  /** The reduction factor. */
  readonly factor: number;
  /** Epochs without improvement before reducing. */
  readonly patience: number;
  /** Epochs of cooldown after a reduction. */
  readonly cooldown: number;
  /** The lowest learning rate. */
  readonly minLr: number;
  /** The best value seen. */
  best = Infinity;
  private wait = 0;
  private cooldownCounter = 0;
  private model: Model | null = null;
  private warned = false;
  private readonly better: (a: number, best: number) => boolean;
  private readonly maxMode: boolean;

  constructor(opts: ReduceLROnPlateauCallbackOptions = {}) {
    const op = 'ReduceLROnPlateauCallback';
    const o = optionsOf<ReduceLROnPlateauCallbackOptions>(op, opts, ['monitor', 'factor', 'patience', 'mode', 'minDelta', 'cooldown', 'minLr']);
    this.monitor = monitorOf(op, o.monitor);
    this.factor = checkFinite(op, 'factor', o.factor ?? 0.1, 0);
    if (!(this.factor < 1)) throw new AxonError(op, `factor must be in [0, 1) (the learning rate is multiplied by it), got ${fmtValue(o.factor)}`);
    this.patience = checkInt(op, 'patience', o.patience ?? 10, 0, Number.MAX_SAFE_INTEGER);
    this.cooldown = checkInt(op, 'cooldown', o.cooldown ?? 0, 0, Number.MAX_SAFE_INTEGER);
    this.minLr = checkFinite(op, 'minLr', o.minLr ?? 0, 0);
    const mode = modeOf(op, o.mode);
    const minDelta = Math.abs(checkFinite(op, 'minDelta', o.minDelta ?? 1e-4));
    this.maxMode = mode === 'max' || (mode === 'auto' && this.monitor.includes('acc'));
    this.better = this.maxMode ? (a, best) => a > best + minDelta : (a, best) => a < best - minDelta;
  }

  setModel(model: Model): void {
    this.model = model;
  }

  onTrainBegin(): void {
    this.best = this.maxMode ? -Infinity : Infinity;
    this.wait = 0;
    this.cooldownCounter = 0;
  }

  onEpochEnd(_epoch: number, logs: Logs): void {
    const opt = this.model?.optimizer ?? null;
    if (opt) logs['lr'] = opt.lr;
    const v = logs[this.monitor];
    if (v === undefined) {
      if (!this.warned) console.warn(`ReduceLROnPlateauCallback: '${this.monitor}' is not logged (available: ${Object.keys(logs).join(', ')}); the learning rate is not reduced`);
      this.warned = true;
      return;
    }
    if (this.cooldownCounter > 0) {
      this.cooldownCounter--;
      this.wait = 0;
    }
    if (this.better(v, this.best)) {
      this.best = v;
      this.wait = 0;
    } else if (this.cooldownCounter === 0) {
      this.wait++;
      if (this.wait >= this.patience && opt && opt.lr > this.minLr) {
        opt.lr = Math.max(opt.lr * this.factor, this.minLr);
        this.cooldownCounter = this.cooldown;
        this.wait = 0;
      }
    }
  }
}

/**
 * Options of {@link ModelCheckpoint}.
 * @example
 * const options: ModelCheckpointOptions = { path: 'ckpt/epoch-{epoch}', saveBestOnly: true };
 * new ModelCheckpoint(options).monitor // 'val_loss'
 */
export interface ModelCheckpointOptions {
  /** Folder to save into (`{epoch}` is replaced by the 1-based epoch). */
  path: string;
  /** The logged value compared with `saveBestOnly` (default `'val_loss'`). */
  monitor?: string;
  /** Save only when the monitored value improves (default false: every epoch). */
  saveBestOnly?: boolean;
  /** `'min'`, `'max'` or `'auto'`. */
  mode?: MonitorMode;
  /** The function that writes the model (default: `save` from this package, Node only). */
  saver?: (model: Model, path: string) => Promise<void>;
}

/**
 * Saves the model (weights as safetensors plus `model.json`) at the end of epochs (Keras's `ModelCheckpoint`).
 * @example
 * const net = sequential([new Dense(1, { inputShape: [1] })]);
 * net.compile({ optimizer: 'sgd', loss: 'mse' });
 * const saver = new ModelCheckpoint({ path: 'ckpt-example/epoch-{epoch}' });
 * await net.fit(tensor([[0], [1], [2], [3]]), tensor([[1], [3], [5], [7]]), { epochs: 2, verbose: 0, callbacks: [saver] });
 * saver.saved // ['ckpt-example/epoch-1', 'ckpt-example/epoch-2']
 * const last = await loadModel('ckpt-example/epoch-2');
 * last.countParams() // 2
 */
export class ModelCheckpoint implements Callback {
  readonly path: string;
  readonly monitor: string;
  readonly saveBestOnly: boolean;
  /** The best monitored value seen. */
  best: number;
  /** Paths written, in order. */
  readonly saved: string[] = [];
  private model: Model | null = null;
  private readonly better: (a: number, best: number) => boolean;
  private readonly saver: ((model: Model, path: string) => Promise<void>) | undefined;

  constructor(opts: ModelCheckpointOptions) {
    const op = 'ModelCheckpoint';
    if (opts === undefined) throw new AxonError(op, 'expects { path: string }');
    const o = optionsOf<ModelCheckpointOptions>(op, opts, ['path', 'monitor', 'saveBestOnly', 'mode', 'saver']);
    if (typeof o.path !== 'string' || o.path === '') throw new AxonError(op, `expects { path: string }, got path ${fmtValue(o.path)}`);
    if (o.saver !== undefined && typeof o.saver !== 'function') throw new AxonError(op, `saver must be a function (model, path) => Promise<void>, got ${fmtValue(o.saver)}`);
    this.path = o.path;
    this.monitor = monitorOf(op, o.monitor);
    this.saveBestOnly = optBool(op, 'saveBestOnly', o.saveBestOnly) ?? false;
    this.better = isBetterFn(this.monitor, modeOf(op, o.mode), 0);
    this.best = this.better(1, 0) ? -Infinity : Infinity;
    this.saver = o.saver;
  }

  setModel(model: Model): void {
    this.model = model;
  }

  async onEpochEnd(epoch: number, logs: Logs): Promise<void> {
    if (!this.model) return;
    if (this.saveBestOnly) {
      const v = logs[this.monitor];
      if (v === undefined) throw new AxonError('ModelCheckpoint', `'${this.monitor}' is not logged (available: ${Object.keys(logs).join(', ')}); use validation data or another monitor`);
      if (!this.better(v, this.best)) return;
      this.best = v;
    }
    const p = this.path.replace(/\{epoch\}/g, String(epoch + 1));
    const saver = this.saver ?? (await import('./io.js')).save;
    await saver(this.model, p);
    this.saved.push(p);
  }
}
