/**
 * Axon's side of the `cnn` suite: the ready-made `mnistCnn()` from @axon/layers, trained with
 * `fit` as a user of the Keras front end writes it.
 */

import { memory, tensor } from '@axon/core';
import '@axon/autograd'; // registers gradients; `fit` needs it loaded
import { mnistCnn } from '@axon/layers';
import { axonAccuracy } from './axon.js';
import type { Digits } from './mnist.js';

export const CNN = { batch: 64, lr: 1e-3, classes: 10, trainDigits: 8000 } as const;

/** A CNN ready to train. */
export interface CnnRun {
  /** Trains one epoch over the training digits and waits until it is done. */
  epoch(): Promise<void>;
  /** Accuracy on `test` (not timed). */
  evaluate(test: Digits): Promise<number>;
  dispose(): void;
}

export const axonCnnNote =
  "`mnistCnn()` (Reshape → Conv2d(1→32, 3) → ReLU → MaxPool2d(2) → Conv2d(32→64, 3) → ReLU → MaxPool2d(2) → Flatten → Dropout(0.25) → Dense(10, softmax)), " +
  "`compile({ optimizer: { name: 'adam', learningRate: 1e-3 }, loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] })`, " +
  '`fit(x [N,28,28], y, { batchSize: 64, epochs: 1, shuffle: true, verbose: 0 })` per timed epoch.';

/**
 * Builds the model over `train` on the current backend (the caller selects it: `startAxon('wasm')`
 * or `useAxonThreads(n)`, again before each epoch when several backends take turns).
 */
export async function prepareAxonCnn(train: Digits): Promise<CnnRun> {
  const model = mnistCnn();
  model.compile({ optimizer: { name: 'adam', learningRate: CNN.lr }, loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const x = tensor(train.x, [train.n, 28, 28], 'float32');
  const y = tensor(Int32Array.from(train.y), [train.n], 'int32');
  return {
    async epoch() {
      await model.fit(x, y, { batchSize: CNN.batch, epochs: 1, shuffle: true, verbose: 0 });
    },
    evaluate: (test) => axonAccuracy(model, test, [28, 28], 500),
    dispose() {
      x.dispose();
      y.dispose();
      model.dispose();
    },
  };
}

export function axonLiveTensors(): number {
  return memory().numTensors;
}
