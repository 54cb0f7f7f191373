/**
 * ReduceLROnPlateauCallback: Keras' ReduceLROnPlateau rules (patience, absolute minDelta, cooldown
 * resetting the wait, minLr floor, mode auto), the lr it logs into History, the warning when the
 * monitored value is missing.
 */
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ones } from '@axon/core';
import { type Callback, Dense, type Logs, ReduceLROnPlateauCallback, sequential } from '../src/index.js';
import { useTestBackend } from './helpers.js';

beforeAll(async () => {
  await useTestBackend();
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** Fits 1 batch per epoch, replacing the monitored value by `values[epoch]` (a callback before the plateau one). */
async function run(values: number[], opts: ConstructorParameters<typeof ReduceLROnPlateauCallback>[0], monitor = 'metric'): Promise<number[]> {
  const net = sequential([new Dense(1, { inputShape: [1] })]);
  net.compile({ optimizer: { name: 'sgd', learningRate: 1 }, loss: 'mse' });
  const inject: Callback = { onEpochEnd: (e: number, logs: Logs) => void (logs[monitor] = values[e]!) };
  const x = ones([2, 1]);
  const h = await net.fit(x, x, { epochs: values.length, verbose: 0, callbacks: [inject, new ReduceLROnPlateauCallback({ monitor, ...opts })] });
  x.dispose();
  net.dispose();
  return h.history['lr']!;
}

describe('ReduceLROnPlateauCallback', () => {
  it('reduces after patience epochs without an improvement larger than minDelta (absolute), and logs lr', async () => {
    // 1.0 best; 0.99995 is not better by more than 1e-4; 0.5 is
    expect(await run([1, 0.99995, 0.99996, 0.5, 0.6, 0.7], { patience: 2, factor: 0.5 })).toEqual([1, 1, 1, 0.5, 0.5, 0.5]);
    expect(await run([1, 0.99995, 0.99996, 0.5, 0.6, 0.7, 0.8], { patience: 2, factor: 0.5 })).toEqual([1, 1, 1, 0.5, 0.5, 0.5, 0.25]);
  });

  it('cooldown epochs reset the wait; minLr is a floor; no reduction at or below it', async () => {
    // patience 1, cooldown 2, as Keras counts: reduce at the end of epoch 1 (counter 2); epoch 2 counts
    // the cooldown down to 1 (no wait), epoch 3 down to 0 and then waits 1 ≥ patience: reduce again
    expect(await run([1, 2, 2, 2, 2, 2, 2], { patience: 1, cooldown: 2, factor: 0.5 })).toEqual([1, 1, 0.5, 0.5, 0.25, 0.25, 0.125]);
    expect(await run([1, 2, 2, 2, 2, 2, 2], { patience: 1, cooldown: 0, factor: 0.5 })).toEqual([1, 1, 0.5, 0.25, 0.125, 0.0625, 0.03125]);
    expect(await run([1, 2, 2, 2, 2], { patience: 1, factor: 0.1, minLr: 0.05 })).toEqual([1, 1, 0.1, 0.05, 0.05]);
  });

  it("mode 'auto' maximises names containing 'acc'; 'max' and 'min' as asked", async () => {
    expect(await run([0.5, 0.6, 0.7, 0.7, 0.7], { patience: 1, factor: 0.5 }, 'val_acc')).toEqual([1, 1, 1, 1, 0.5]);
    expect(await run([0.5, 0.6, 0.7, 0.7, 0.7], { patience: 1, factor: 0.5, mode: 'max' })).toEqual([1, 1, 1, 1, 0.5]);
    expect(await run([0.5, 0.6, 0.7], { patience: 1, factor: 0.5, mode: 'min' })).toEqual([1, 1, 0.5]);
  });

  it('warns once when the monitored value is missing, and refuses bad options', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const net = sequential([new Dense(1, { inputShape: [1] })]);
    net.compile({ optimizer: 'sgd', loss: 'mse' });
    const x = ones([2, 1]);
    await net.fit(x, x, { epochs: 3, verbose: 0, callbacks: [new ReduceLROnPlateauCallback()] });
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toMatch(/'val_loss' is not logged/);
    x.dispose();
    net.dispose();
    expect(() => new ReduceLROnPlateauCallback({ factor: 1 })).toThrow(/factor must be in \[0, 1\)/);
    expect(() => new ReduceLROnPlateauCallback({ patience: -1 })).toThrow(/patience must be an integer/);
    expect(() => new ReduceLROnPlateauCallback({ mode: 'up' as never })).toThrow(/mode must be 'auto', 'min' or 'max'/);
  });
});
