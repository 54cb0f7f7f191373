/**
 * Fusing a model's final softmax/sigmoid into its loss: the loss is computed from the logits, and
 * the metrics that need probabilities get them.
 */
import { type Tensor, noGrad, sigmoid, softmax } from '@axon/core';
import { Activation, Sigmoid, Softmax } from './activations.js';
import type { Compiled } from './compile.js';
import { Dense } from './layers.js';
import { type LossFn, lossFnOf } from './losses.js';
import type { FinalAct, Model } from './model.js';
import type { Module } from './module.js';

/** Splits the last layer's activation off when it is a softmax/sigmoid that a loss can fuse. @internal */
export function finalActivation(layer: Module | undefined): FinalAct {
  if (!layer) return null;
  if (layer instanceof Dense) return layer.activation === 'softmax' ? 'softmax' : layer.activation === 'sigmoid' ? 'sigmoid' : null;
  if (layer instanceof Softmax) return layer.axis === -1 ? 'softmax' : null;
  if (layer instanceof Sigmoid) return 'sigmoid';
  if (layer instanceof Activation) return layer.activation === 'softmax' ? 'softmax' : layer.activation === 'sigmoid' ? 'sigmoid' : null;
  return null;
}

/** The last layer's output without its final activation (see {@link finalActivation}). @internal */
export function preFinal(layer: Module, h: Tensor): Tensor {
  return layer instanceof Dense ? layer.preActivation(h) : h;
}

/** @internal How `fit`/`evaluate` compute the loss (see {@link lossFusion}). */
export interface LossFusion {
  readonly strip: boolean;
  readonly fn: LossFn;
  readonly metricsFromLogits: boolean;
}

/** @internal Whether the loss is computed from logits with the last softmax/sigmoid stripped. */
export function lossFusion(model: Model, c: Compiled): LossFusion {
  const fa = model.finalActivation;
  const k = c.loss.kind;
  if (!c.loss.fromLogits && fa === 'softmax' && (k === 'sparseCategorical' || k === 'categorical')) {
    return { strip: true, fn: lossFnOf(k, true, c.loss.labelSmoothing, false), metricsFromLogits: true };
  }
  if (!c.loss.fromLogits && fa === 'sigmoid' && k === 'binary') return { strip: true, fn: lossFnOf(k, true, c.loss.labelSmoothing, false), metricsFromLogits: true };
  const fn = k === 'sparseCategorical' ? lossFnOf(k, c.loss.fromLogits, c.loss.labelSmoothing, false) : c.loss.fn;
  return { strip: false, fn, metricsFromLogits: c.loss.fromLogits };
}

/** @internal Metric values from a forward output (logits when `fromLogits`). */
export function metricValues(model: Model, c: Compiled, out: Tensor, y: Tensor, fromLogits: boolean, strip: boolean): Tensor[] {
  return c.metrics.map((m) => {
    const isAcc = /acc/i.test(m.name);
    if (strip && !isAcc) {
      const fa = model.finalActivation;
      const probs = noGrad(() => (fa === 'softmax' ? softmax(out) : sigmoid(out)));
      return m.fn(probs, y, { fromLogits: false });
    }
    return m.fn(out, y, { fromLogits });
  });
}
