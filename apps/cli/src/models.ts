import { mnistModel, type MnistModelName, type Sequential } from '@axon/layers';

/** Models `axon train --model` knows (from `@axon/layers`' ready-made MNIST models). */
export const MODEL_NAMES: readonly MnistModelName[] = ['mlp', 'cnn'];

/**
 * `mlp`: the seeds' Keras MLP (scenario S2): Flatten(28×28) → Dense(128, relu) → Dropout(0.2) → Dense(10, softmax).
 * `cnn`: Conv(32,3×3,relu) → MaxPool 2 → Conv(64,3×3,relu) → MaxPool 2 → Flatten → Dropout(0.25) → Dense(10, softmax).
 */
export function buildModel(name: string): Sequential {
  if (!(MODEL_NAMES as readonly string[]).includes(name)) throw new Error(`unknown model '${name}'; known: ${MODEL_NAMES.join(', ')}`);
  return mnistModel(name as MnistModelName);
}
