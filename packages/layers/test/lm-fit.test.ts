/**
 * `fit` takes language-model batches: int32 [B, T] ids with [B, T] next-token labels for a model
 * whose output is [B, T, V] (sparse categorical cross-entropy averaged over every position, as
 * PyTorch's CrossEntropyLoss over the flattened [B·T, V]) — from @axon/datasets' tokenWindows.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { memory, noGrad, tensor, tidy } from '@axon/core';
import { tokenWindows } from '@axon/datasets';
import { Dense, Embedding, crossEntropy, sequential } from '../src/index.js';
import { useTestBackend } from './helpers.js';

beforeAll(async () => {
  await useTestBackend();
});

const V = 12;
// a deterministic sequence with learnable structure: each id is followed by (3·id + 1) mod V
const ids = Int32Array.from({ length: 600 }, (_, i) => i);
for (let i = 1; i < ids.length; i++) ids[i] = (3 * ids[i - 1]! + 1) % V;

function lm() {
  const m = sequential([new Embedding({ inputDim: V, outputDim: 8, inputShape: [6] }), new Dense(V)]);
  m.compile({ optimizer: { name: 'adam', lr: 0.05 }, loss: { name: 'sparseCategoricalCrossentropy', fromLogits: true } });
  return m;
}

describe('fit on language-model batches', () => {
  it('trains on tokenWindows batches ([B, T] labels for [B, T, V] logits); the loss is the mean over every position', async () => {
    const m = lm();
    const ds = tokenWindows(ids, { contextLength: 6, batchSize: 8, seed: 1 });
    const [first] = await ds.take(1).toArray();
    const x = tensor(first!.x.data as Int32Array, first!.x.shape, 'int32');
    const y = tensor(first!.y.data as Int32Array, first!.y.shape, 'int32');
    // evaluate's loss is PyTorch's cross-entropy over the flattened [B·T, V]
    const { loss } = await m.evaluate(x, y);
    const want = tidy(() => noGrad(() => crossEntropy(m.call(x).reshape([-1, V]), y.reshape([-1])).item()));
    expect(loss).toBeCloseTo(want, 5);
    const before = memory().numTensors;
    const h = await m.fit(ds, { epochs: 3, verbose: 0 });
    const losses = h.history['loss']!;
    expect(losses.length).toBe(3);
    expect(losses[2]!).toBeLessThan(losses[0]! * 0.7);
    // the optimizer's state is what fit keeps
    expect(memory().numTensors - before).toBeLessThanOrEqual(2 * m.parameters().length + 2);
    x.dispose();
    y.dispose();
    m.dispose();
  });

  it('still refuses labels that fit no position of the output', async () => {
    const m = lm();
    const x = tensor(new Int32Array(4 * 6), [4, 6], 'int32');
    await expect(m.fit(x, tensor(new Int32Array(4 * 5), [4, 5], 'int32'), { verbose: 0 })).rejects.toThrow(/expects y of class indices \[N, 6\] \(one per position of the output \[N, 6, 12\]\), got \[4,5\]/);
    await expect(m.fit(x, tensor(new Int32Array(4), [4], 'int32'), { verbose: 0 })).rejects.toThrow(/expects y of class indices \[N, 6\]/);
    await expect(m.fit(x, tensor(Int32Array.from({ length: 24 }, () => 12), [4, 6], 'int32'), { verbose: 0 })).rejects.toThrow(/label 12 at index 0 is out of range for the model's 12 classes/);
    x.dispose();
    m.dispose();
  });
});
