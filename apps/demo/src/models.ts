import { Conv2d, Dense, Dropout, Flatten, MaxPool2d, ReLU, Reshape, sequential, type Sequential } from '@axon/layers';
import type { ModelKind } from './protocol.js';

/**
 * The same two models as `axon train --model mlp|cnn` (apps/cli/src/models.ts), so a model
 * trained here and one trained by the CLI have the same architecture and file format.
 * Both take [N, 28, 28] images in [0, 1].
 */
export function buildModel(kind: ModelKind): Sequential {
  if (kind === 'cnn') {
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
      new Dropout(0.5),
      new Dense(10, { activation: 'softmax' }),
    ]);
  }
  // Flatten(28×28) → Dense(128, relu) → Dropout(0.2) → Dense(10, softmax)
  return sequential([
    new Flatten({ inputShape: [28, 28] }),
    new Dense(128, { activation: 'relu' }),
    new Dropout(0.2),
    new Dense(10, { activation: 'softmax' }),
  ]);
}

/** A one-line description of a model's layers, e.g. "Flatten → Dense(128, relu) → Dropout → Dense(10, softmax)". */
export function describeLayers(json: { config?: unknown }): string {
  const layers = (json.config as { layers?: { className?: string; config?: Record<string, unknown> }[] } | undefined)?.layers;
  if (!Array.isArray(layers)) return 'model';
  return layers
    .map((l) => {
      const c = l.config ?? {};
      if (l.className === 'Dense') return `Dense(${String(c['units'])}${c['activation'] ? `, ${String(c['activation'])}` : ''})`;
      if (l.className === 'Conv2d') return `Conv(${String(c['outChannels'] ?? '')})`;
      return l.className ?? '?';
    })
    .join(' → ');
}
