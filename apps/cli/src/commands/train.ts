import { performance } from 'node:perf_hooks';
import { setSeed, memory } from '@axon/core';
import '@axon/autograd';
import { augmentImages, fromArrays, loadMnist } from '@axon/datasets';
import { LambdaCallback, type Logs } from '@axon/layers';
import cliProgress from 'cli-progress';
import { chooseBackend } from '../backend.js';
import { int, pct, secs } from '../format.js';
import { buildModel } from '../models.js';
import { saveModelFiles } from '../io.js';

/** Options of `axon train`. */
export interface TrainOptions {
  model: string;
  epochs: number;
  batchSize: number;
  lr: number;
  backend?: string;
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
}

/** What `axon train` reports when done (also used by tests). */
export interface TrainResult {
  testAccuracy: number;
  testLoss: number;
  epochSeconds: number[];
  backend: string;
}

/** `axon train`: trains a model on MNIST and evaluates it on the 10,000 test digits. */
export async function train(o: TrainOptions, log: (s: string) => void = console.log): Promise<TrainResult> {
  const backend = await chooseBackend(o.backend);
  setSeed(o.seed);
  const t0 = performance.now();
  const tr = await loadMnist({ train: true, ...(o.limit ? { limit: o.limit } : {}), ...(o.mnistDir ? { dir: o.mnistDir } : {}) });
  const te = await loadMnist({ train: false, ...(o.mnistDir ? { dir: o.mnistDir } : {}) });
  log(`axon train: model ${o.model}, backend ${backend.name}, ${int(tr.count)} training / ${int(te.count)} test images, ${o.epochs} epochs, batch ${o.batchSize}, lr ${o.lr}, seed ${o.seed} (data loaded in ${secs(performance.now() - t0)})`);
  const model = buildModel(o.model);
  model.compile({ optimizer: { name: 'adam', learningRate: o.lr }, loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const nTrain = Math.round(tr.count * (1 - o.validationSplit));
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
      if (bar) {
        const el = (performance.now() - epochStart) / 1000;
        bar.update(batch + 1, { loss: logs?.loss !== undefined ? logs.loss.toFixed(4) : '-', rate: int(((batch + 1) * o.batchSize) / Math.max(el, 1e-9)) });
      }
    },
    onEpochEnd: (epoch: number, logs?: Logs) => {
      const ms = performance.now() - epochStart;
      if (o.lrDecay !== undefined && o.lrDecay !== 1 && model.optimizer) model.optimizer.lr = model.optimizer.lr * o.lrDecay;
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
  // Host data → shuffle → batch (→ augment): each batch is uploaded when it is used, so no device
  // has to hold the whole training set in one buffer (WebGPU adapters may cap a binding at 128 MiB).
  const all = fromArrays({ x: { data: tr.images, shape: [tr.count, 28, 28] }, y: tr.labels });
  const [trainDs, valDs] = o.validationSplit > 0 ? all.split([nTrain, tr.count - nTrain], { seed: o.seed }) : [all, undefined];
  const batched = trainDs!.shuffle(o.seed).batch(o.batchSize);
  const ds = o.augment ? batched.map(augmentImages({ rotation: 10, shift: 0.1, zoom: 0.1, seed: o.seed })) : batched;
  await model.fit(ds, { epochs: o.epochs, callbacks: [cb], verbose: 0, ...(valDs ? { validationData: valDs.batch(1000) } : {}) });
  const ev = await model.evaluate({ data: te.images, shape: [te.count, 28, 28] }, te.labels, { batchSize: 1000 });
  const testAccuracy = ev.accuracy ?? NaN;
  const testLoss = ev.loss ?? NaN;
  log(`test: loss ${testLoss.toFixed(4)} | accuracy ${pct(testAccuracy)} on ${int(te.count)} images | mean epoch ${secs((1000 * epochSeconds.reduce((a, b) => a + b, 0)) / Math.max(1, epochSeconds.length))} | total ${secs(performance.now() - t0)}`);
  if (o.output) {
    const files = await saveModelFiles(model, o.output);
    log(`saved ${files.join(' and ')}`);
  }
  model.dispose();
  void memory;
  return { testAccuracy, testLoss, epochSeconds, backend: backend.name };
}
