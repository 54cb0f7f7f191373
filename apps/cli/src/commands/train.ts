import { performance } from 'node:perf_hooks';
import { AxonError, formatProfile, setFlags, setSeed, startProfile, type ProfileReport, type Profiler } from '@axon/core';
import '@axon/autograd';
import { augmentImages, fromArrays, loadMnist } from '@axon/datasets';
import { LambdaCallback, TerminateOnNaN, latestCheckpoint, type Logs } from '@axon/layers';
import { ExponentialLR, type OptimizerName } from '@axon/optimizers';
import cliProgress from 'cli-progress';
import { chooseBackend } from '../backend.js';
import { featureList, int, pct, secs } from '../format.js';
import { buildModel } from '../models.js';
import { checkWritableFolder, outputFolder, saveModelFiles } from '../io.js';

/** Options of `axon train`. */
export interface TrainOptions {
  model: string;
  epochs: number;
  batchSize: number;
  lr: number;
  backend?: string;
  /**
   * Threads the backend's ops may use (`--threads`): an integer ≥ 1, or `auto` for one per core.
   * Set with core's `setNumThreads` before the backend starts; left as it is when undefined.
   * Results are bit-identical for any count.
   */
  threads?: number | 'auto';
  seed: number;
  output?: string;
  limit?: number;
  validationSplit: number;
  progress: boolean;
  mnistDir?: string;
  /** Random rotations/shifts/zooms of the training images (data augmentation). */
  augment?: boolean;
  /** Multiply the learning rate by this factor after every epoch (1 = constant). */
  lrDecay?: number;
  /** The optimizer, by its Keras name (default `'adam'`), with Keras' defaults and `lr`. */
  optimizer?: OptimizerName;
  /**
   * Where checkpoints go. With it, one is written after every epoch (and every `checkpointEvery`
   * steps); without it, only an interrupted run writes one (to `<output>.checkpoint`, or
   * `axon-train.checkpoint`).
   */
  checkpointDir?: string;
  /** Also write a checkpoint every N training steps. */
  checkpointEvery?: number;
  /** Continue from the latest checkpoint in `checkpointDir`. */
  resume?: boolean;
  /** Stop after the current step (writing a checkpoint) when this signal fires (the CLI passes SIGINT). */
  interrupt?: AbortSignal;
  /** Profile one training step (the 11th of the first epoch, or its last when shorter) and print what it launched. */
  profile?: boolean;
  /** Fuse chains of elementwise ops into one kernel (default true; core's `setFlags({ fusion })`). */
  fusion?: boolean;
  /** Run the training step and the optimizer's updates compiled (default true; core's `setFlags({ compile })`). */
  compile?: boolean;
}

/** What `axon train` reports when done (also used by tests). */
export interface TrainResult {
  testAccuracy: number;
  testLoss: number;
  epochSeconds: number[];
  backend: string;
  /** Set when the run was interrupted: where the checkpoint to resume from is. */
  interrupted?: { epoch: number; step: number; checkpointDir: string };
  /** With `profile`: what the profiled training step launched. */
  profile?: ProfileReport;
}

/**
 * `axon train`: trains a model on MNIST, saves it, then evaluates it on the 10,000 test digits.
 * Everything that can be checked is checked before the first step (arguments, the data split, that
 * the output and checkpoint folders can be written); the model is saved before the evaluation, so
 * a problem there loses nothing; an interrupt finishes the current step and writes a checkpoint;
 * a loss that turns NaN stops training with the epoch and batch named.
 */
export async function train(o: TrainOptions, log: (s: string) => void = console.log): Promise<TrainResult> {
  const prev = setFlags({ fusion: o.fusion ?? true, compile: o.compile ?? true });
  try {
    return await trainWith(o, log);
  } finally {
    setFlags(prev);
  }
}

async function trainWith(o: TrainOptions, log: (s: string) => void): Promise<TrainResult> {
  const op = 'train';
  if (o.output !== undefined && o.output.trim() === '') throw new AxonError(op, '--output is empty: give a folder (or a path ending in .json / .safetensors) to save the model to');
  if (o.checkpointDir !== undefined && o.checkpointDir.trim() === '') throw new AxonError(op, '--checkpoint-dir is empty');
  if (o.resume && o.checkpointDir === undefined) throw new AxonError(op, '--resume needs --checkpoint-dir <dir> (the folder of the checkpoints to continue from)');
  if (o.checkpointEvery !== undefined && o.checkpointDir === undefined) throw new AxonError(op, '--checkpoint-every needs --checkpoint-dir <dir>');
  // Outputs first: an unwritable path must not throw away a finished run.
  if (o.output !== undefined) await checkWritableFolder('--output', outputFolder(o.output));
  const ckptDir = o.checkpointDir ?? (o.output !== undefined ? `${o.output.replace(/\.(json|safetensors)$/, '')}.checkpoint` : 'axon-train.checkpoint');
  if (o.checkpointDir !== undefined) await checkWritableFolder('--checkpoint-dir', ckptDir);
  const backend = await chooseBackend(o.backend, o.threads !== undefined ? { threads: o.threads } : {});
  setSeed(o.seed);
  const model = buildModel(o.model);
  try {
    const t0 = performance.now();
    const tr = await loadMnist({ train: true, ...(o.limit ? { limit: o.limit } : {}), ...(o.mnistDir ? { dir: o.mnistDir } : {}) });
    const te = await loadMnist({ train: false, ...(o.mnistDir ? { dir: o.mnistDir } : {}) });
    const nTrain = Math.round(tr.count * (1 - o.validationSplit));
    const nVal = tr.count - nTrain;
    if (nTrain < 1) throw new AxonError(op, `--validation-split ${o.validationSplit} of ${int(tr.count)} images leaves no training images`);
    if (o.validationSplit > 0 && nVal < 1) throw new AxonError(op, `--validation-split ${o.validationSplit} of ${int(tr.count)} images leaves no validation images`);
    log(`axon train: model ${o.model}, backend ${backend.name}${featureList(backend.features)}, ${int(nTrain)} training${nVal ? ` / ${int(nVal)} validation` : ''} / ${int(te.count)} test images, ${o.epochs} epochs, batch ${o.batchSize}, ${o.optimizer ?? 'adam'} lr ${o.lr}, seed ${o.seed} (data loaded in ${secs(performance.now() - t0)})`);
    if (o.resume) {
      const at = await latestCheckpoint(ckptDir);
      log(at ? `resuming from ${at.file}: epoch ${at.epoch + 1}, after batch ${at.step}` : `no checkpoint in ${ckptDir} yet: starting from the beginning`);
    }
    model.compile({ optimizer: { name: o.optimizer ?? 'adam', learningRate: o.lr }, loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    const stepsPerEpoch = Math.ceil(nTrain / o.batchSize);
    const epochSeconds: number[] = [];
    let bar: cliProgress.SingleBar | null = null;
    let epochStart = 0;
    const cb = new LambdaCallback({
      onEpochBegin: (epoch: number) => {
        epochStart = performance.now();
        if (o.progress) {
          bar = new cliProgress.SingleBar(
            { format: `epoch ${epoch + 1}/${o.epochs} [{bar}] {value}/{total} steps | loss {loss} | {rate} samples/s`, hideCursor: true, clearOnComplete: true },
            cliProgress.Presets.shades_classic,
          );
          bar.start(stepsPerEpoch, 0, { loss: '-', rate: '-' });
        }
      },
      onBatchEnd: (batch: number, logs?: Logs) => {
        if (o.interrupt?.aborted) model.stopTraining = true; // also when the signal fired before fit began
        if (bar) {
          const el = (performance.now() - epochStart) / 1000;
          bar.update(batch + 1, { loss: logs?.loss !== undefined ? logs.loss.toFixed(4) : '-', rate: int(((batch + 1) * o.batchSize) / Math.max(el, 1e-9)) });
        }
      },
      onEpochEnd: (epoch: number, logs?: Logs) => {
        const ms = performance.now() - epochStart;
        if (bar) bar.stop();
        bar = null;
        epochSeconds.push(ms / 1000);
        const l = logs ?? {};
        const parts = [
          `epoch ${epoch + 1}/${o.epochs}`,
          `loss ${l.loss?.toFixed(4)}`,
          `accuracy ${l.accuracy !== undefined ? pct(l.accuracy) : '-'}`,
          ...(l.val_loss !== undefined ? [`val_loss ${l.val_loss.toFixed(4)}`, `val_accuracy ${l.val_accuracy !== undefined ? pct(l.val_accuracy) : '-'}`] : []),
          `${int(nTrain / (ms / 1000))} samples/s`,
          `${secs(ms)}`,
          `elapsed ${secs(performance.now() - t0)}`,
        ];
        log(parts.join(' | '));
      },
    });
    // --profile: one step after warm-up, measured from its start to its end (before other callbacks read the loss).
    const profileBatch = Math.min(10, stepsPerEpoch - 1);
    let profiler: Profiler | null = null;
    let profileReport: ProfileReport | undefined;
    let profiledStep = 0;
    const profileCb = new LambdaCallback({
      onBatchBegin: (batch: number) => {
        if (o.profile && profileReport === undefined && profiler === null && batch === profileBatch) profiler = startProfile();
      },
      onBatchEnd: (batch: number) => {
        if (profiler === null) return;
        profileReport = profiler.stop();
        profiler = null;
        profiledStep = batch + 1;
      },
    });
    // Ctrl-C (or any interrupt signal): finish the current step, write a checkpoint, say where.
    const onInterrupt = (): void => {
      model.stopTraining = true;
    };
    o.interrupt?.addEventListener('abort', onInterrupt, { once: true });
    // Host data → shuffle → batch (→ augment): each batch is uploaded when it is used, so no device
    // has to hold the whole training set in one buffer (WebGPU adapters may cap a binding at 128 MiB).
    // Every stage draws from its pass index, so a resumed run sees the same batches.
    const all = fromArrays({ x: { data: tr.images, shape: [tr.count, 28, 28] }, y: tr.labels });
    const [trainDs, valDs] = o.validationSplit > 0 ? all.split([nTrain, nVal], { seed: o.seed }) : [all, undefined];
    const batched = trainDs!.shuffle(o.seed).batch(o.batchSize);
    const ds = o.augment ? batched.map(augmentImages({ rotation: 10, shift: 0.1, zoom: 0.1, seed: o.seed })) : batched;
    let history;
    try {
      history = await model.fit(ds, {
        epochs: o.epochs,
        compile: o.compile ?? true,
        callbacks: [profileCb, new TerminateOnNaN({ throwError: true }), cb],
        verbose: 0,
        log,
        ...(valDs ? { validationData: valDs.batch(1000) } : {}),
        ...(o.lrDecay !== undefined && o.lrDecay !== 1 ? { scheduler: (opt) => new ExponentialLR(opt, { gamma: o.lrDecay! }) } : {}),
        // Without --checkpoint-dir, a checkpoint is written only when the run is interrupted.
        checkpoint: { dir: ckptDir, every: o.checkpointDir === undefined ? Number.MAX_SAFE_INTEGER : (o.checkpointEvery ?? 'epoch'), resume: o.resume === true },
      });
    } catch (e) {
      if (e instanceof AxonError && e.op === 'TerminateOnNaN') {
        throw new AxonError(op, `training diverged — ${e.message.replace(/^TerminateOnNaN: /, '')}; nothing was saved${o.checkpointDir !== undefined ? ` (the last good checkpoint stays in ${ckptDir})` : ''}; try a lower --lr`);
      }
      throw e;
    } finally {
      (profiler as Profiler | null)?.stop();
      o.interrupt?.removeEventListener('abort', onInterrupt);
      (bar as cliProgress.SingleBar | null)?.stop();
    }
    if (profileReport !== undefined) log(`profile of training step ${profiledStep} of epoch 1 (batch of ${o.batchSize}, backend ${backend.name}):\n${formatProfile(profileReport)}`);
    if (history.stopped) {
      const at = history.checkpoints[history.checkpoints.length - 1];
      if (at) {
        log(`interrupted at epoch ${at.epoch + 1}, after batch ${at.step}: checkpoint written to ${at.file}`);
        log(`continue with: axon train ${resumeArgs(o, ckptDir)}`);
        return { testAccuracy: NaN, testLoss: NaN, epochSeconds, backend: backend.name, interrupted: { epoch: at.epoch, step: at.step, checkpointDir: ckptDir } };
      }
      log(`stopped: ${history.stopped.reason}`);
    }
    // Save before evaluating: whatever happens next, the trained model is on disk.
    if (o.output !== undefined) {
      const files = await saveModelFiles(model, o.output);
      log(`saved ${files.join(' and ')}`);
    }
    const ev = await model.evaluate({ data: te.images, shape: [te.count, 28, 28] }, te.labels, { batchSize: 1000 });
    const testAccuracy = ev.accuracy ?? NaN;
    const testLoss = ev.loss ?? NaN;
    log(`test: loss ${testLoss.toFixed(4)} | accuracy ${pct(testAccuracy)} on ${int(te.count)} images | mean epoch ${secs((1000 * epochSeconds.reduce((a, b) => a + b, 0)) / Math.max(1, epochSeconds.length))} | total ${secs(performance.now() - t0)}`);
    return { testAccuracy, testLoss, epochSeconds, backend: backend.name, ...(profileReport !== undefined ? { profile: profileReport } : {}) };
  } finally {
    model.dispose();
  }
}

/** The arguments that continue an interrupted run. */
function resumeArgs(o: TrainOptions, ckptDir: string): string {
  const q = (s: string): string => (/^[\w./:=-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  const args = [`--model ${o.model}`, `--epochs ${o.epochs}`, `--batch-size ${o.batchSize}`, `--lr ${o.lr}`, `--seed ${o.seed}`];
  if (o.backend && o.backend !== 'auto') args.push(`--backend ${o.backend}`);
  if (o.threads !== undefined && o.threads !== 'auto') args.push(`--threads ${o.threads}`);
  if (o.limit) args.push(`--limit ${o.limit}`);
  if (o.validationSplit) args.push(`--validation-split ${o.validationSplit}`);
  if (o.augment) args.push('--augment');
  if (o.lrDecay !== undefined && o.lrDecay !== 1) args.push(`--lr-decay ${o.lrDecay}`);
  if (o.optimizer !== undefined && o.optimizer !== 'adam') args.push(`--optimizer ${o.optimizer}`);
  if (o.mnistDir) args.push(`--mnist-dir ${q(o.mnistDir)}`);
  if (o.output !== undefined) args.push(`--output ${q(o.output)}`);
  if (o.checkpointEvery) args.push(`--checkpoint-every ${o.checkpointEvery}`);
  args.push(`--checkpoint-dir ${q(ckptDir)}`, '--resume');
  return args.join(' ');
}
