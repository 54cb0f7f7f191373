import { beforeAll, describe, expect, it } from 'vitest';
import { AxonError, randn, tidy } from '@axon/core';
import { mnistCnn, mnistMlp, mnistModel, type MnistModelName } from '../src/index.js';
import { useTestBackend } from './helpers.js';

beforeAll(async () => {
  await useTestBackend();
});

describe('ready-made MNIST models', () => {
  it('map [N, 28, 28] images to 10 class probabilities', () => {
    for (const m of [mnistMlp(), mnistCnn()]) {
      const p = tidy(() => {
        m.eval();
        const y = m.predict(randn([3, 28, 28], { seed: 1 }));
        return Array.from(y.sum(-1).dataSync());
      });
      expect(p.length).toBe(3);
      for (const s of p) expect(Math.abs(s - 1)).toBeLessThan(1e-5);
      m.dispose();
    }
  });
  it('count the expected parameters and reject unknown names', () => {
    const mlp = mnistModel('mlp');
    const cnn = mnistModel('cnn');
    const count = (m: typeof mlp) => m.parameters().reduce((a, p) => a + p.size, 0);
    expect(count(mlp)).toBe(784 * 128 + 128 + 128 * 10 + 10);
    expect(count(cnn)).toBe(32 * 9 + 32 + 64 * 32 * 9 + 64 + 1600 * 10 + 10);
    mlp.dispose();
    cnn.dispose();
    expect(() => mnistModel('resnet' as MnistModelName)).toThrow(AxonError);
  });
});
