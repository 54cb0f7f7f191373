// S2 on the WebGPU backend (Dawn on a software Vulkan driver here; a GPU where there is one), with
// the progress bar on, so per-batch losses are read from a backend without synchronous reads.
// CI trains a slice of MNIST; the full run is `axon train --backend webgpu`. Fails, never skips,
// when no WebGPU adapter can be had.
import { describe, expect, it } from 'vitest';
import { backends } from '@axon/core';
import { train } from '../src/commands/train.js';

describe('axon train --backend webgpu', () => {
  it('trains the seed MLP on a slice of MNIST and the loss falls', async () => {
    const lines: string[] = [];
    let r;
    try {
      r = await train({ model: 'mlp', epochs: 2, batchSize: 100, lr: 0.002, backend: 'webgpu', seed: 4, limit: 1500, validationSplit: 0, progress: true }, (s) => void lines.push(s));
    } catch (e) {
      throw new Error(`WebGPU could not train: ${(e as Error).message}; backends(): ${JSON.stringify(backends())}`);
    }
    console.log(lines.join('\n'));
    expect(r.backend).toBe('webgpu');
    const losses = lines.filter((l) => l.startsWith('epoch')).map((l) => Number(/loss ([\d.]+)/.exec(l)![1]));
    expect(losses.length).toBe(2);
    expect(losses[1]!).toBeLessThan(losses[0]!);
    expect(r.testAccuracy).toBeGreaterThan(0.7);
  }, 300_000);
});

describe('every CLI command and example runs on WebGPU (asynchronous reads only)', () => {
  it('axon example s1, s3, s4 and axon predict on the webgpu backend', async () => {
    const { example } = await import('../src/commands/examples.js');
    const { predict } = await import('../src/commands/predict.js');
    const { mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const lines: string[] = [];
    const log = (s: string): void => void lines.push(s);
    for (const name of ['s1', 's4', 's3']) await example(name, 'webgpu', log);
    expect(lines.some((l) => /axon example s1 on webgpu/.test(l))).toBe(true);
    expect(lines.some((l) => /^W = \[/.test(l))).toBe(true);
    expect(lines.some((l) => /iteration\s+99\s+output/.test(l))).toBe(true);
    expect(lines.some((l) => /held-out MSE/.test(l))).toBe(true);
    const dir = await mkdtemp(join(tmpdir(), 'axon-webgpu-predict-'));
    try {
      const out = join(dir, 'm');
      await train({ model: 'mlp', epochs: 1, batchSize: 100, lr: 0.002, backend: 'webgpu', seed: 5, limit: 600, validationSplit: 0, progress: false, output: out }, log);
      const p = await predict({ path: out, index: 0, backend: 'webgpu' }, log);
      expect(p.probabilities.length).toBe(10);
      expect(p.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 600_000);
});
