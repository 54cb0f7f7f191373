/** Optimizer configurations the anomaly and continuation tests run over (every class, decay, clipping). */
import type { Tensor } from '@axon/core';
import { Adagrad, Adam, AdamW, type Optimizer, RMSprop, SGD } from '../src/index.js';

export const OPTIMIZERS: Record<string, (ps: Tensor[]) => Optimizer> = {
  sgd: (ps) => new SGD(ps, { lr: 0.1, weightDecay: 0.01 }),
  'sgd momentum': (ps) => new SGD(ps, { lr: 0.05, momentum: 0.9, dampening: 0.1, weightDecay: 0.01 }),
  'sgd nesterov': (ps) => new SGD(ps, { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.01, clipNorm: 0.8 }),
  adam: (ps) => new Adam(ps, { lr: 0.05, weightDecay: 0.01, globalClipNorm: 1 }),
  'adam amsgrad': (ps) => new Adam(ps, { lr: 0.05, amsgrad: true, weightDecay: 0.01 }),
  adamw: (ps) => new AdamW(ps, { lr: 0.05, weightDecay: 0.1, clipValue: 0.5 }),
  'adamw amsgrad': (ps) => new AdamW(ps, { lr: 0.05, amsgrad: true, globalClipNorm: 0.7 }),
  rmsprop: (ps) => new RMSprop(ps, { lr: 0.01, weightDecay: 0.01 }),
  'rmsprop centered momentum': (ps) => new RMSprop(ps, { lr: 0.01, centered: true, momentum: 0.9, clipNorm: 0.5 }),
  adagrad: (ps) => new Adagrad(ps, { lr: 0.1, lrDecay: 0.01, weightDecay: 0.01, initialAccumulatorValue: 0.1, clipValue: 0.3 }),
};
