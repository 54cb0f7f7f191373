import { AxonError, type Tensor, fmtValue } from '@axon/core';
import { type BaseHyperparams, type ClipOptions, type ParamUpdate, type Params, type TensorState, Optimizer, checkNumber, checkOptions } from './optimizer.js';
import { definedOnly } from './sgd.js';

/**
 * {@link RMSprop}'s hyperparameters (per param group).
 * @example
 * ```ts
 * const h: RMSpropHyperparams = { lr: 1e-2, alpha: 0.9, eps: 1e-8, weightDecay: 0, momentum: 0, centered: true, maximize: false };
 * const opt = new RMSprop([tensor([1, 2]).requireGrad()], h);
 * opt.paramGroups[0]!.centered // true
 * ```
 */
export interface RMSpropHyperparams extends BaseHyperparams {
  /** Smoothing constant of the squared-gradient average (Keras calls it `rho`). */
  alpha: number;
  /** Added to the denominator (outside the square root, as in PyTorch). */
  eps: number;
  /** Momentum factor. */
  momentum: number;
  /** Normalize by the estimated variance of the gradient instead of its second moment. */
  centered: boolean;
  /** Maximize the objective instead of minimizing it. */
  maximize: boolean;
}

/**
 * {@link RMSprop}'s constructor options: defaults for every group, and clipping.
 * @example
 * ```ts
 * const w = tensor([1, 2]).requireGrad();
 * const options: RMSpropOptions = { lr: 1e-3, momentum: 0.9, centered: true };
 * const opt = new RMSprop([w], options);
 * opt.defaults // { lr: 1e-3, momentum: 0.9, centered: true, alpha: 0.99, eps: 1e-8 }
 * ```
 */
export type RMSpropOptions = Partial<RMSpropHyperparams> & ClipOptions;

/**
 * PyTorch's defaults for {@link RMSprop} (lr 1e-2, alpha 0.99, eps 1e-8).
 * @example
 * ```ts
 * RMSPROP_DEFAULTS // { lr: 0.01, alpha: 0.99, eps: 1e-8, momentum: 0, centered: false }
 * ```
 */
export const RMSPROP_DEFAULTS: Readonly<RMSpropHyperparams> = Object.freeze({ lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false, maximize: false });

/**
 * RMSprop with PyTorch's `torch.optim.RMSprop` semantics and defaults (lr 1e-2, alpha 0.99,
 * eps 1e-8, momentum 0, not centered):
 * ```
 * g ← ∇ + weightDecay·θ
 * s ← α·s + (1 − α)·g²;   ḡ ← α·ḡ + (1 − α)·g (centered)
 * d ← √(s − ḡ²) + eps (centered), else √s + eps
 * b ← momentum·b + g/d;  θ ← θ − lr·b    (momentum > 0), else θ ← θ − lr·g/d
 * ```
 * State: `squareAvg`, `gradAvg` (centered), `momentumBuffer` (momentum > 0).
 * @example
 * ```ts
 * // minimise Σw²: the gradient is 2w = [2, −4]
 * const w = tensor([1, -2]).requireGrad();
 * const opt = new RMSprop([w], { lr: 0.01 });
 * tidy(() => w.square().sum().backward());
 * opt.step();
 * opt.zeroGrad();
 * // s = (1 − 0.99)·g², so the first step is lr·g/√s = lr·sign(g)/√0.01: ten times lr
 * await w.array() // [0.9, -1.9]
 * opt.dispose();
 * ```
 */
export class RMSprop extends Optimizer<RMSpropHyperparams> {
  constructor(params: Params<RMSpropHyperparams>, options: RMSpropOptions = {}) {
    checkOptions('RMSprop', options, RMSPROP_DEFAULTS);
    const { clipNorm, globalClipNorm, clipValue, ...h } = options;
    super('RMSprop', params, { ...RMSPROP_DEFAULTS, ...definedOnly(h) }, { clipNorm, globalClipNorm, clipValue });
  }

  protected validateHyperparams(h: RMSpropHyperparams): void {
    const op = this.opName('options');
    checkNumber(op, 'lr', h.lr);
    checkNumber(op, 'alpha', h.alpha);
    checkNumber(op, 'eps', h.eps);
    checkNumber(op, 'momentum', h.momentum);
    checkNumber(op, 'weightDecay', h.weightDecay);
    if (typeof h.centered !== 'boolean') throw new AxonError(op, `centered must be a boolean, got ${fmtValue(h.centered)}`);
    if (typeof h.maximize !== 'boolean') throw new AxonError(op, `maximize must be a boolean, got ${fmtValue(h.maximize)}`);
  }

  protected stateKeys(h: RMSpropHyperparams): readonly string[] {
    return ['squareAvg', ...(h.centered ? ['gradAvg'] : []), ...(h.momentum > 0 ? ['momentumBuffer'] : [])];
  }

  protected allStateKeys(): readonly string[] {
    return ['squareAvg', 'gradAvg', 'momentumBuffer'];
  }

  protected computeUpdate(p: Tensor, grad: Tensor, state: TensorState, h: Readonly<RMSpropHyperparams>): ParamUpdate {
    let g = h.maximize ? grad.neg() : grad;
    if (h.weightDecay !== 0) g = g.add(p.mul(h.weightDecay));
    const s0 = state['squareAvg'];
    const g2 = g.square().mul(1 - h.alpha);
    const s = s0 ? s0.mul(h.alpha).add(g2) : g2;
    const out: Record<string, Tensor> = { squareAvg: s };
    let avg: Tensor;
    if (h.centered) {
      const a0 = state['gradAvg'];
      const ga = a0 ? a0.add(g.sub(a0).mul(1 - h.alpha)) : g.mul(1 - h.alpha);
      out['gradAvg'] = ga;
      avg = s.sub(ga.square()).sqrt().add(h.eps);
    } else {
      avg = s.sqrt().add(h.eps);
    }
    if (h.momentum > 0) {
      const b0 = state['momentumBuffer'];
      const q = g.div(avg);
      const buf = b0 ? b0.mul(h.momentum).add(q) : q;
      out['momentumBuffer'] = buf;
      return { param: p.sub(buf.mul(h.lr)), state: out };
    }
    return { param: p.sub(g.div(avg).mul(h.lr)), state: out };
  }
}
