/**
 * Keras' `returnState` through `call` (eager and symbolic).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { AxonError, memory, randn } from '@axon/core';
import { KerasGRU, KerasLSTM, SimpleRNN, input } from '../src/index.js';
import { useTestBackend } from './helpers.js';

beforeAll(async () => {
  await useTestBackend();
});

describe('returnState through call', () => {
  it('refuses instead of silently returning the output alone', () => {
    for (const l of [new KerasLSTM(3, { returnState: true, name: 'enc' }), new KerasGRU(3, { returnState: true, name: 'enc' }), new SimpleRNN(3, { returnState: true, name: 'enc' })]) {
      const before = memory().numTensors;
      const x = randn([2, 4, 5]);
      expect(() => l.call(x)).toThrow(AxonError);
      expect(() => l.call(x)).toThrow(/'enc'.*forwardWithState/);
      expect(() => l.call(input({ shape: [4, 5] }))).toThrow(/forwardWithState/);
      x.dispose();
      l.dispose();
      expect(memory().numTensors).toBe(before);
    }
  });
});
