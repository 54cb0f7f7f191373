import { Dense, Dropout, Flatten, sequential, type Sequential } from '@axon/layers';

/** Models `axon train --model` knows. */
export const MODEL_NAMES = ['mlp'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

/**
 * The seeds' Keras MLP (scenario S2): Flatten(28×28) → Dense(128, relu) → Dropout(0.2) → Dense(10, softmax).
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
    default:
      throw new Error(`unknown model '${name}'; known: ${MODEL_NAMES.join(', ')}`);
  }
}
