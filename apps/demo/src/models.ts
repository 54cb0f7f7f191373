import { mnistModel, type Sequential } from '@axon/layers';
import type { ModelKind } from './protocol.js';

/**
 * The same two models as `axon train --model mlp|cnn` (`@axon/layers`' ready-made MNIST models),
 * so a model trained here and one trained by the CLI have the same architecture and file format.
 * Both take [N, 28, 28] images in [0, 1].
 */
export function buildModel(kind: ModelKind): Sequential {
  return mnistModel(kind === 'cnn' ? 'cnn' : 'mlp');
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
