// axon train --profile: one training step is profiled and printed.
import { describe, expect, it } from 'vitest';
import { getBackend, memory } from '@axon/core';
import { train } from '../src/commands/train.js';

describe('axon train --profile', () => {
  it('reports the kernels of one training step of the MLP and leaves the backend as it was', async () => {
    const lines: string[] = [];
    const before = memory().numTensors;
    const r = await train({ model: 'mlp', epochs: 1, batchSize: 32, lr: 0.001, backend: 'wasm', seed: 0, limit: 640, validationSplit: 0, progress: false, profile: true }, (s) => void lines.push(s));
    const p = r.profile!;
    expect(p.backend).toBe('wasm');
    // Two Dense layers: 2 matmuls forward, 3 backward (the input's gradient is not computed); the
    // first layer's bias and relu run as its matmul's epilogue.
    expect(p.byKind['matmul']!.count + p.byKind['matmulFused']!.count).toBe(5);
    expect(p.byKind['matmulFused']!.count).toBeGreaterThanOrEqual(1);
    // Fused: the elementwise chains run as fused kernels (140 kernels per step before the lazy
    // engine), and the ones before a sum or max inside it.
    expect(p.byKind['fused']!.count).toBeGreaterThan(5);
    expect(p.byKind['reduceFused:sum']!.count).toBeGreaterThanOrEqual(5);
    expect(p.byKind['reduce:sum']).toBeUndefined();
    expect(p.kernels).toBeLessThan(36);
    expect(Object.values(p.byKind).reduce((n, k) => n + k.count, 0)).toBe(p.kernels);
    expect(lines.some((l) => /^profile of training step 11 of epoch 1/.test(l) && /\nmatmulFused\s+1 /.test(l) && /wasm: \d+ kernels \(\d+ fused, running \d+ elementwise ops\)/.test(l))).toBe(true);
    // The backend instance is no longer wrapped: its methods are its class's again.
    const b = getBackend() as unknown as Record<string, unknown>;
    expect(Object.prototype.hasOwnProperty.call(b, 'matmul')).toBe(false);
    expect(memory().numTensors).toBe(before);
  });

  it('with --no-fusion every elementwise op is its own kernel again (same loss)', async () => {
    const fused = await train({ model: 'mlp', epochs: 1, batchSize: 32, lr: 0.001, backend: 'wasm', seed: 0, limit: 640, validationSplit: 0, progress: false, profile: true }, () => {});
    const eager = await train({ model: 'mlp', epochs: 1, batchSize: 32, lr: 0.001, backend: 'wasm', seed: 0, limit: 640, validationSplit: 0, progress: false, profile: true, fusion: false, compile: false }, () => {});
    expect(eager.profile!.byKind['fused']).toBeUndefined();
    expect(eager.profile!.kernels).toBeGreaterThan(3 * fused.profile!.kernels);
    expect(eager.testLoss).toBeCloseTo(fused.testLoss, 4);
  });

  it('without --profile prints and returns no profile', async () => {
    const lines: string[] = [];
    const r = await train({ model: 'mlp', epochs: 1, batchSize: 64, lr: 0.001, backend: 'wasm', seed: 0, limit: 256, validationSplit: 0, progress: false }, (s) => void lines.push(s));
    expect(r.profile).toBeUndefined();
    expect(lines.some((l) => /profile/.test(l))).toBe(false);
  });
});
