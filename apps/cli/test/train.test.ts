import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { memory } from '@axon/core';
import { PNG } from 'pngjs';
import { evaluate } from '../src/commands/eval.js';
import { predict } from '../src/commands/predict.js';
import { train } from '../src/commands/train.js';

const dir = await mkdtemp(join(tmpdir(), 'axon-cli-'));
afterAll(() => rm(dir, { recursive: true, force: true }));
const lines: string[] = [];
const log = (s: string): void => void lines.push(s);

describe('axon train / eval / predict', () => {
  it('trains S2 on a slice of MNIST, saves, evaluates and predicts', async () => {
    const out = join(dir, 'mnist');
    const r = await train({ model: 'mlp', epochs: 1, batchSize: 64, lr: 0.001, backend: 'wasm', seed: 1, output: out, limit: 6000, validationSplit: 0.1, progress: false }, log);
    expect(r.backend).toBe('wasm');
    expect(r.testAccuracy).toBeGreaterThan(0.85);
    expect(r.epochSeconds.length).toBe(1);
    expect(lines.some((l) => /epoch 1\/1 \| loss [\d.]+ \| accuracy [\d.]+% \| val_loss/.test(l))).toBe(true);
    expect(lines.some((l) => /samples\/s/.test(l))).toBe(true);
    const ev = await evaluate({ path: out, backend: 'wasm' }, log);
    expect(ev.accuracy).toBeCloseTo(r.testAccuracy, 6);
    const p = await predict({ path: out, index: 0, backend: 'wasm' }, log);
    expect(p.label).toBe(7);
    expect(p.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
    // an image file: draw a "1" (a vertical bar) dark on white and check the output is a distribution
    const png = new PNG({ width: 56, height: 56 });
    for (let i = 0; i < 56 * 56; i++) {
      const x = i % 56;
      const ink = x >= 26 && x <= 30 && Math.floor(i / 56) > 6 && Math.floor(i / 56) < 50;
      png.data.set(ink ? [0, 0, 0, 255] : [255, 255, 255, 255], 4 * i);
    }
    const file = join(dir, 'one.png');
    await writeFile(file, PNG.sync.write(png));
    const q = await predict({ path: out, image: file, backend: 'wasm' }, log);
    expect(q.digit).toBe(1);
  }, 120_000);

  it('trains with augmented images through a dataset pipeline (--augment)', async () => {
    const r = await train({ model: 'mlp', epochs: 1, batchSize: 64, lr: 0.001, backend: 'wasm', seed: 3, limit: 4000, validationSplit: 0.1, progress: false, augment: true }, () => undefined);
    expect(r.testAccuracy).toBeGreaterThan(0.6);
  }, 120_000);

  it('trains with the optimizer --optimizer names (Keras names and defaults), saved with the model', async () => {
    const out = join(dir, 'mnist-nadam');
    const seen: string[] = [];
    const r = await train({ model: 'mlp', epochs: 1, batchSize: 64, lr: 0.002, optimizer: 'nadam', backend: 'wasm', seed: 1, output: out, limit: 3000, validationSplit: 0, progress: false }, (l) => void seen.push(l));
    expect(seen[0]).toMatch(/batch 64, nadam lr 0\.002,/);
    expect(r.testAccuracy).toBeGreaterThan(0.8);
    const json = JSON.parse(await readFile(join(out, 'model.json'), 'utf8')) as { compile?: { optimizer?: { name?: string; lr?: number } } };
    expect(json.compile?.optimizer?.name).toBe('nadam');
    expect(json.compile?.optimizer?.lr).toBe(0.002);
    await expect(train({ model: 'mlp', epochs: 1, batchSize: 64, lr: 0.002, optimizer: 'adamx' as 'adam', backend: 'wasm', seed: 1, limit: 100, validationSplit: 0, progress: false }, () => undefined)).rejects.toThrow(/adamx/);
  }, 120_000);

  it('leaks no tensors across a training run', async () => {
    const before = memory();
    await train({ model: 'mlp', epochs: 1, batchSize: 128, lr: 0.001, backend: 'wasm', seed: 2, limit: 1000, validationSplit: 0, progress: false }, () => undefined);
    const after = memory();
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numBytes).toBe(before.numBytes);
  }, 60_000);

  it('refuses bad arguments before training', async () => {
    await expect(train({ model: 'resnet', epochs: 1, batchSize: 32, lr: 0.001, backend: 'wasm', seed: 0, validationSplit: 0, progress: false, limit: 100 }, () => undefined)).rejects.toThrow(/unknown model 'resnet'/);
    await expect(predict({ path: join(dir, 'mnist'), backend: 'wasm' })).rejects.toThrow(/exactly one of --index/);
    await expect(evaluate({ path: join(dir, 'missing'), backend: 'wasm' })).rejects.toThrow(/loadModel: file not found: .*missing/);
  });
});
