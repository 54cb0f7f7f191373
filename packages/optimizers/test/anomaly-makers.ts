/** Optimizer configurations the anomaly and continuation tests run over (every class, decay, clipping). */
import type { Tensor } from '@axon/core';
import { Adadelta, Adagrad, Adam, Adamax, AdamW, NAdam, type Optimizer, RAdam, RMSprop, SGD } from '../src/index.js';

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
  adamax: (ps) => new Adamax(ps, { lr: 0.05, weightDecay: 0.01, globalClipNorm: 1 }),
  'adamax maximize': (ps) => new Adamax(ps, { lr: 0.01, maximize: true, clipValue: 0.5 }),
  nadam: (ps) => new NAdam(ps, { lr: 0.05, weightDecay: 0.01, momentumDecay: 0.01, clipNorm: 0.8 }),
  // beta2 0.9: the rectified branch from step 3 on
  radam: (ps) => new RAdam(ps, { lr: 0.05, betas: [0.9, 0.9], weightDecay: 0.01 }),
  adadelta: (ps) => new Adadelta(ps, { lr: 1, rho: 0.9, weightDecay: 0.01, globalClipNorm: 1 }),
};
