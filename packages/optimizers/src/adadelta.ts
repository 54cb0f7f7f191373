import { AxonError, type Tensor } from '@axon/core';
import { checkBool } from './adamax.js';
import { type BaseHyperparams, type ClipOptions, type ParamUpdate, type Params, type TensorState, Optimizer, checkNumber, checkOptions } from './optimizer.js';
import { definedOnly } from './sgd.js';

/**
 * {@link Adadelta}'s hyperparameters (per param group).
 * @example
 * ```ts
 * const h: AdadeltaHyperparams = { lr: 1, rho: 0.9, eps: 1e-6, weightDecay: 0, maximize: false };
 * const opt = new Adadelta([tensor([1, 2]).requireGrad()], h);
 * opt.paramGroups[0]!.rho // 0.9
 * ```
 */
export interface AdadeltaHyperparams extends BaseHyperparams {
  /** Decay rate of the running averages of g² and of the squared updates (in [0, 1]). */
  rho: number;
  /** Added inside both square roots. */
  eps: number;
  /** Maximize the objective instead of minimizing it. */
  maximize: boolean;
}

/**
 * {@link Adadelta}'s constructor options: defaults for every group, and clipping.
 * @example
 * ```ts
 * const options: AdadeltaOptions = { rho: 0.95, eps: 1e-7 };
 * const opt = new Adadelta([tensor([1, 2]).requireGrad()], options);
 * opt.lr // 1
 * ```
 */
export type AdadeltaOptions = Partial<AdadeltaHyperparams> & ClipOptions;

/**
 * PyTorch's defaults for {@link Adadelta} (lr 1.0, rho 0.9, eps 1e-6, weightDecay 0).
 * @example
 * ```ts
 * ADADELTA_DEFAULTS // { lr: 1, rho: 0.9, eps: 1e-6, weightDecay: 0, maximize: false }
 * ```
 */
export const ADADELTA_DEFAULTS: Readonly<AdadeltaHyperparams> = Object.freeze({ lr: 1, rho: 0.9, eps: 1e-6, weightDecay: 0, maximize: false });

/**
 * Adadelta (Zeiler) with PyTorch's `torch.optim.Adadelta` semantics and defaults (lr 1.0,
 * rho 0.9, eps 1e-6, weight decay as an L2 term):
 * ```
 * g ← ∇ + weightDecay·θ            (−∇ with maximize)
 * s ← ρ·s + (1 − ρ)·g²
 * Δ = √(a + eps)/√(s + eps) · g;   a ← ρ·a + (1 − ρ)·Δ²
 * θ ← θ − lr·Δ
 * ```
 * State: `squareAvg`, `accDelta`.
 * @example
 * ```ts
 * const w = tensor([1, -2]).requireGrad();
 * const opt = new Adadelta([w]);
 * tidy(() => w.square().sum().backward()); // g = [2, −4]
 * opt.step();
 * opt.zeroGrad();
 * // Δ = √1e-6/√(0.1·g² + 1e-6)·g ≈ 0.00316·sign(g)
 * await w.array() // [0.99684, -1.99684]
 * opt.dispose();
 * ```
 */
export class Adadelta extends Optimizer<AdadeltaHyperparams> {
  constructor(params: Params<AdadeltaHyperparams>, options: AdadeltaOptions = {}) {
    checkOptions('Adadelta', options, ADADELTA_DEFAULTS);
    const { clipNorm, globalClipNorm, clipValue, ...h } = options;
    super('Adadelta', params, { ...ADADELTA_DEFAULTS, ...definedOnly(h) } as AdadeltaHyperparams, { clipNorm, globalClipNorm, clipValue });
  }

  protected validateHyperparams(h: AdadeltaHyperparams): void {
    const op = this.opName('options');
    checkNumber(op, 'lr', h.lr);
    checkNumber(op, 'rho', h.rho);
    if (h.rho > 1) throw new AxonError(op, `rho must be in [0, 1], got ${h.rho}`);
    checkNumber(op, 'eps', h.eps);
    checkNumber(op, 'weightDecay', h.weightDecay);
    checkBool(op, 'maximize', h.maximize);
  }

  protected stateKeys(): readonly string[] {
    return ['squareAvg', 'accDelta'];
  }

  protected allStateKeys(): readonly string[] {
    return ['squareAvg', 'accDelta'];
  }

  protected computeUpdate(p: Tensor, grad: Tensor, state: TensorState, h: Readonly<AdadeltaHyperparams>): ParamUpdate {
    let g = h.maximize ? grad.neg() : grad;
    if (h.weightDecay !== 0) g = g.add(p.mul(h.weightDecay));
    const s0 = state['squareAvg'];
    const a0 = state['accDelta'];
    const g2 = g.square().mul(1 - h.rho);
    const s = s0 ? s0.mul(h.rho).add(g2) : g2;
    const std = s.add(h.eps).sqrt();
    // the accumulated updates start at zero: √(0 + eps)
    const delta = a0 ? a0.add(h.eps).sqrt().div(std).mul(g) : g.div(std).mul(Math.sqrt(h.eps));
    const d2 = delta.square().mul(1 - h.rho);
    const a = a0 ? a0.mul(h.rho).add(d2) : d2;
    return { param: p.sub(delta.mul(h.lr)), state: { squareAvg: s, accDelta: a } };
  }
}
