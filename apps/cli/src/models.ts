import { Conv2d, Dense, Dropout, Flatten, MaxPool2d, ReLU, Reshape, sequential, type Sequential } from '@axon/layers';

/** Models `axon train --model` knows. */
export const MODEL_NAMES = ['mlp', 'cnn'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

/**
 * `mlp`: the seeds' Keras MLP (scenario S2): Flatten(28×28) → Dense(128, relu) → Dropout(0.2) → Dense(10, softmax).
 * `cnn`: Conv(32,3×3,relu) → MaxPool 2 → Conv(64,3×3,relu) → MaxPool 2 → Flatten → Dropout(0.25) → Dense(10, softmax).
 */
export function buildModel(name: string): Sequential {
  switch (name) {
    case 'mlp':
      return sequential([
        new Flatten({ inputShape: [28, 28] }),
        new Dense(128, { activation: 'relu' }),
        new Dropout(0.2),
        new Dense(10, { activation: 'softmax' }),
      ]);
    case 'cnn':
      // Conv(32,3×3,relu) → MaxPool 2 → Conv(64,3×3,relu) → MaxPool 2 → Flatten → Dropout → Dense(10), NCHW.
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
    default:
      throw new Error(`unknown model '${name}'; known: ${MODEL_NAMES.join(', ')}`);
  }
}
