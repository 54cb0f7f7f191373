/**
 * Ready-made models for the MNIST digits — the ones `axon train --model mlp|cnn` and the demo
 * site train, so a model made by one loads in the other.
 */
import { AxonError } from '@axon/core';
import { Conv2d, MaxPool2d } from './conv.js';
import { ReLU } from './activations.js';
import { Dense, Dropout, Flatten, Reshape } from './layers.js';
import { sequential, type Sequential } from './sequential.js';

/**
 * Names of the ready-made MNIST models.
 * @example
 * const name: MnistModelName = 'cnn';
 * mnistModel(name).layers.length // 10
 */
export type MnistModelName = 'mlp' | 'cnn';

/**
 * The seeds' Keras MLP (scenario S2) over [N, 28, 28] images:
 * Flatten → Dense(128, relu) → Dropout(0.2) → Dense(10, softmax).
 * @example
 * import { loadMnist } from '@axon/datasets';
 * const test = await loadMnist({ train: false, limit: 500 }); // the real MNIST test images (a slice)
 * const m = mnistMlp();
 * m.countParams() // 101770
 * m.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
 * await m.fit(test.images.subarray(0, 400 * 784), test.labels.subarray(0, 400), { epochs: 3, verbose: 0 });
 * const { accuracy } = await m.evaluate(test.images.subarray(400 * 784), test.labels.subarray(400));
 * accuracy > 0.6 // true
 */
export function mnistMlp(): Sequential {
  return sequential([
    new Flatten({ inputShape: [28, 28] }),
    new Dense(128, { activation: 'relu' }),
    new Dropout(0.2),
    new Dense(10, { activation: 'softmax' }),
  ]);
}

/**
 * A small CNN over [N, 28, 28] images (reshaped to NCHW [N, 1, 28, 28]):
 * Conv(32, 3×3, relu) → MaxPool 2 → Conv(64, 3×3, relu) → MaxPool 2 → Flatten → Dropout(0.25) → Dense(10, softmax).
 * @example
 * const m = mnistCnn();
 * console.log(m.summary());
 * m.countParams() // 34826
 * m.predict(zeros([2, 28, 28])).shape // [2, 10]
 */
export function mnistCnn(): Sequential {
  return sequential([
    new Reshape({ targetShape: [1, 28, 28], inputShape: [28, 28] }),
    new Conv2d(1, 32, 3),
    new ReLU(),
    new MaxPool2d(2, {}),
    new Conv2d(32, 64, 3),
    new ReLU(),
    new MaxPool2d(2, {}),
    new Flatten(),
    new Dropout(0.25),
    new Dense(10, { activation: 'softmax' }),
  ]);
}

/**
 * A ready-made MNIST model by name.
 * @example
 * mnistModel('mlp').countParams() // 101770
 * mnistModel('rnn' as MnistModelName) // throws: "unknown model 'rnn'"
 */
export function mnistModel(name: MnistModelName): Sequential {
  if (name === 'mlp') return mnistMlp();
  if (name === 'cnn') return mnistCnn();
  throw new AxonError('mnistModel', `unknown model '${String(name)}'; known: mlp, cnn`);
}
