import { AxonError, tensor, tidy } from '@axon/core';
import '@axon/autograd';
import { loadMnist, preprocessDigit } from '@axon/datasets';
import { chooseBackend } from '../backend.js';
import { readGrayImage } from '../image.js';
import { pct } from '../format.js';
import { loadModelFiles } from '../io.js';

/** `axon predict <model> --index N | --image file`: the predicted digit and class probabilities. */
export async function predict(
  o: { path: string; index?: number; image?: string; backend?: string; threads?: number | 'auto'; mnistDir?: string; maxImagePixels?: number },
  log: (s: string) => void = console.log,
): Promise<{ digit: number; probabilities: number[]; label?: number }> {
  if ((o.index === undefined) === (o.image === undefined)) throw new AxonError('predict', 'give exactly one of --index <n> or --image <file>');
  await chooseBackend(o.backend, o.threads !== undefined ? { threads: o.threads } : {});
  // The input first (a bad image fails before the model is loaded).
  let pixels: Float32Array;
  let label: number | undefined;
  if (o.image !== undefined) {
    const img = await readGrayImage(o.image, o.maxImagePixels !== undefined ? { maxPixels: o.maxImagePixels } : {});
    pixels = preprocessDigit(img.gray, img.width, img.height);
  } else {
    const te = await loadMnist({ train: false, ...(o.mnistDir ? { dir: o.mnistDir } : {}) });
    if (o.index! >= te.count) throw new AxonError('predict', `--index must be below ${te.count}`);
    pixels = te.images.slice(o.index! * 784, (o.index! + 1) * 784);
    label = te.labels[o.index!];
  }
  const model = await loadModelFiles(o.path);
  let probs: number[];
  try {
    model.eval();
    // Read asynchronously: works on every backend (WebGPU cannot read synchronously).
    const y = tidy(() => model.predict(tensor(pixels, [1, 28, 28])));
    const raw = Array.from(await y.data());
    const isDistribution = raw.every((v) => v >= 0) && Math.abs(raw.reduce((a, b) => a + b, 0) - 1) < 1e-3;
    const p = isDistribution ? y : tidy(() => y.softmax(-1));
    probs = p === y ? raw : Array.from(await p.data());
    if (p !== y) p.dispose();
    y.dispose();
  } finally {
    model.dispose();
  }
  const digit = probs.indexOf(Math.max(...probs));
  log(`prediction: ${digit}${label !== undefined ? ` (label ${label}${label === digit ? ', correct' : ', wrong'})` : ''}`);
  for (let k = 0; k < probs.length; k++) log(`  ${k}  ${'█'.repeat(Math.round(probs[k]! * 40)).padEnd(40)} ${pct(probs[k]!)}`);
  return { digit, probabilities: probs, ...(label !== undefined ? { label } : {}) };
}
