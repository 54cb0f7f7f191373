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
