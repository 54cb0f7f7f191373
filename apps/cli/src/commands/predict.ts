import { readFile } from 'node:fs/promises';
import { tensor, tidy } from '@axon/core';
import '@axon/autograd';
import { loadMnist, preprocessDigit } from '@axon/datasets';
import { PNG } from 'pngjs';
import { chooseBackend } from '../backend.js';
import { pct } from '../format.js';
import { loadModelFiles } from '../io.js';

/** Reads a PNG or binary/ASCII PGM file into grayscale pixels. */
export async function readGrayImage(file: string): Promise<{ gray: Float32Array; width: number; height: number }> {
  const bytes = await readFile(file);
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) {
    const png = PNG.sync.read(bytes);
    const gray = new Float32Array(png.width * png.height);
    for (let i = 0; i < gray.length; i++) {
      const r = png.data[4 * i]!, g = png.data[4 * i + 1]!, b = png.data[4 * i + 2]!, a = png.data[4 * i + 3]! / 255;
      // composite over white, then luminance
      gray[i] = (0.299 * r + 0.587 * g + 0.114 * b) * a + 255 * (1 - a);
    }
    return { gray, width: png.width, height: png.height };
  }
  const text = bytes.subarray(0, 64).toString('latin1');
  const m = /^(P[25])\s+(?:#.*\s+)*(\d+)\s+(\d+)\s+(\d+)\s/.exec(text);
  if (m) {
    const [, kind, w, h, maxv] = m;
    const width = Number(w), height = Number(h), maxVal = Number(maxv);
    const gray = new Float32Array(width * height);
    if (kind === 'P5') {
      const data = bytes.subarray(m[0].length);
      if (data.length < gray.length) throw new Error(`${file}: PGM data is truncated`);
      for (let i = 0; i < gray.length; i++) gray[i] = (data[i]! * 255) / maxVal;
    } else {
      const nums = bytes.toString('latin1').slice(m[0].length).trim().split(/\s+/).map(Number);
      if (nums.length < gray.length) throw new Error(`${file}: PGM data is truncated`);
      for (let i = 0; i < gray.length; i++) gray[i] = (nums[i]! * 255) / maxVal;
    }
    return { gray, width, height };
  }
  throw new Error(`${file}: not a PNG or PGM image`);
}

/** `axon predict <model> --index N | --image file`: the predicted digit and class probabilities. */
export async function predict(
  o: { path: string; index?: number; image?: string; backend?: string; mnistDir?: string },
  log: (s: string) => void = console.log,
): Promise<{ digit: number; probabilities: number[]; label?: number }> {
  if ((o.index === undefined) === (o.image === undefined)) throw new Error('give exactly one of --index <n> or --image <file>');
  await chooseBackend(o.backend);
  const model = await loadModelFiles(o.path);
  let pixels: Float32Array;
  let label: number | undefined;
  if (o.image !== undefined) {
    const img = await readGrayImage(o.image);
    pixels = preprocessDigit(img.gray, img.width, img.height);
  } else {
    const te = await loadMnist({ train: false, ...(o.mnistDir ? { dir: o.mnistDir } : {}) });
    if (o.index! >= te.count) throw new Error(`--index must be below ${te.count}`);
    pixels = te.images.slice(o.index! * 784, (o.index! + 1) * 784);
    label = te.labels[o.index!];
  }
  model.eval();
  const probs = tidy(() => {
    const x = tensor(pixels, [1, 28, 28]);
    const y = model.predict(x);
    const p = Math.abs(Array.from(y.dataSync()).reduce((a, b) => a + b, 0) - 1) < 1e-3 ? y : y.softmax(-1);
    return Array.from(p.dataSync());
  });
  const digit = probs.indexOf(Math.max(...probs));
  log(`prediction: ${digit}${label !== undefined ? ` (label ${label}${label === digit ? ', correct' : ', wrong'})` : ''}`);
  for (let k = 0; k < probs.length; k++) log(`  ${k}  ${'█'.repeat(Math.round(probs[k]! * 40)).padEnd(40)} ${pct(probs[k]!)}`);
  model.dispose();
  return { digit, probabilities: probs, ...(label !== undefined ? { label } : {}) };
}
