import { performance } from 'node:perf_hooks';
import '@axon/autograd';
import { loadMnist } from '@axon/datasets';
import { chooseBackend } from '../backend.js';
import { int, pct, secs } from '../format.js';
import { loadModelFiles } from '../io.js';

/** `axon eval <model>`: accuracy and loss of a saved model on the 10,000 MNIST test images. */
export async function evaluate(o: { path: string; backend?: string; threads?: number | 'auto'; mnistDir?: string }, log: (s: string) => void = console.log): Promise<{ accuracy: number; loss: number }> {
  const backend = await chooseBackend(o.backend, o.threads !== undefined ? { threads: o.threads } : {});
  const model = await loadModelFiles(o.path);
  const te = await loadMnist({ train: false, ...(o.mnistDir ? { dir: o.mnistDir } : {}) });
  const t0 = performance.now();
  model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const ev = await model.evaluate({ data: te.images, shape: [te.count, 28, 28] }, te.labels, { batchSize: 1000 });
  const accuracy = ev.accuracy ?? NaN;
  const loss = ev.loss ?? NaN;
  log(`${o.path} on ${backend.name}: test accuracy ${pct(accuracy)}, loss ${loss.toFixed(4)} on ${int(te.count)} images (${secs(performance.now() - t0)})`);
  model.dispose();
  return { accuracy, loss };
}
