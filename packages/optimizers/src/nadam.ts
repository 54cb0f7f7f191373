import { type Tensor, getBackend, scalar } from '@axon/core';
import { checkBetas } from './adamax.js';
import { type BaseHyperparams, type ClipOptions, type ParamUpdate, type Params, type TensorState, Optimizer, checkNumber, checkOptions } from './optimizer.js';
import { definedOnly } from './sgd.js';

/**
 * {@link NAdam}'s hyperparameters (per param group).
 * @example
 * ```ts
 * const h: NAdamHyperparams = { lr: 2e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, momentumDecay: 4e-3 };
 * const opt = new NAdam([tensor([1, 2]).requireGrad()], h);
 * opt.paramGroups[0]!.momentumDecay // 0.004
 * ```
 */
export interface NAdamHyperparams extends BaseHyperparams {
  /** Decay rates of the first and second moment estimates. */
  betas: readonly [number, number];
  /** Added to the denominator (outside the square root). */
  eps: number;
  /** ψ in μₜ = β1·(1 − 0.5·0.96^(t·ψ)) (PyTorch's `momentum_decay`). */
  momentumDecay: number;
}

/**
 * {@link NAdam}'s constructor options: defaults for every group, and clipping.
 * @example
 * ```ts
 * const options: NAdamOptions = { lr: 0.01, momentumDecay: 0.01 };
 * const opt = new NAdam([tensor([1, 2]).requireGrad()], options);
 * opt.lr // 0.01
 * ```
 */
export type NAdamOptions = Partial<NAdamHyperparams> & ClipOptions;

/**
 * PyTorch's defaults for {@link NAdam} (lr 2e-3, betas [0.9, 0.999], eps 1e-8, weightDecay 0,
 * momentumDecay 4e-3).
 * @example
 * ```ts
 * NADAM_DEFAULTS // { lr: 0.002, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, momentumDecay: 0.004 }
 * ```
 */
export const NADAM_DEFAULTS: Readonly<NAdamHyperparams> = Object.freeze({ lr: 2e-3, betas: [0.9, 0.999] as const, eps: 1e-8, weightDecay: 0, momentumDecay: 4e-3 });

/** A rank-0 float32 tensor holding `v` on `like`'s backend. */
function scalarLike(like: Tensor, v: number): Tensor {
  return like.backend === getBackend() ? scalar(v) : like.sum().mul(0).add(v);
}

/**
 * NAdam (Dozat: Adam with Nesterov momentum) with PyTorch 1.13's `torch.optim.NAdam` semantics
 * and defaults (lr 2e-3, betas [0.9, 0.999], eps 1e-8, momentumDecay 4e-3, weight decay as an L2
 * term; PyTorch 1.13 has no `maximize` for NAdam):
 * ```
 * g ← ∇ + weightDecay·θ
 * μₜ = β1·(1 − 0.5·0.96^(t·ψ));  μₜ₊₁ = β1·(1 − 0.5·0.96^((t+1)·ψ));  Πₜ = Πₜ₋₁·μₜ
 * m ← β1·m + (1 − β1)·g;   v ← β2·v + (1 − β2)·g²;   d = √(v/(1 − β2ᵗ)) + eps
 * θ ← θ − lr·(1 − μₜ)/(1 − Πₜ) · g/d − lr·μₜ₊₁/(1 − Πₜ·μₜ·μₜ₊₁) · m/d
 * ```
 * The last denominator is PyTorch 1.13's, which counts μₜ twice (Πₜ already holds it); PyTorch 2
 * changed it to 1 − Πₜ·μₜ₊₁. Axon follows 1.13 (checked against its trajectories).
 * State: `expAvg`, `expAvgSq` and `muProduct` (Πₜ, a rank-0 tensor as in PyTorch: the product of
 * the μ of every step so far, so a beta1 that a schedule changes is accounted for); the step count
 * t per parameter. Nothing is read back to the host: Πₜ stays on the device.
 * @example
 * ```ts
 * const w = tensor([1, -2]).requireGrad();
 * const opt = new NAdam([w], { lr: 0.1 });
 * tidy(() => w.square().sum().backward());
 * opt.step();
 * opt.zeroGrad();
 * // the g/d and m/d terms: lr·(1 − μ₁)/(1 − Π₁) = 0.1, and 0.1·lr·μ₂/(1 − Π₁·μ₁·μ₂) ≈ 0.00495
 * await w.array() // [0.89505, -1.89505]
 * opt.dispose();
 * ```
 */
export class NAdam extends Optimizer<NAdamHyperparams> {
  constructor(params: Params<NAdamHyperparams>, options: NAdamOptions = {}) {
    checkOptions('NAdam', options, NADAM_DEFAULTS);
    const { clipNorm, globalClipNorm, clipValue, ...h } = options;
    super('NAdam', params, { ...NADAM_DEFAULTS, ...definedOnly(h) } as NAdamHyperparams, { clipNorm, globalClipNorm, clipValue });
  }

  protected validateHyperparams(h: NAdamHyperparams): void {
    const op = this.opName('options');
    checkNumber(op, 'lr', h.lr);
    checkNumber(op, 'eps', h.eps);
    checkNumber(op, 'weightDecay', h.weightDecay);
    checkNumber(op, 'momentumDecay', h.momentumDecay);
    checkBetas(op, h.betas);
  }

  protected stateKeys(): readonly string[] {
    return ['expAvg', 'expAvgSq', 'muProduct'];
  }

  protected allStateKeys(): readonly string[] {
    return ['expAvg', 'expAvgSq', 'muProduct'];
  }

  protected override stateShape(key: string, param: Tensor): readonly number[] {
    return key === 'muProduct' ? [] : param.shape;
  }

  protected computeUpdate(p: Tensor, grad: Tensor, state: TensorState, h: Readonly<NAdamHyperparams>, step: number): ParamUpdate {
    const [b1, b2] = h.betas;
    let g = grad;
    if (h.weightDecay !== 0) g = g.add(p.mul(h.weightDecay));
    const mu = b1 * (1 - 0.5 * Math.pow(0.96, step * h.momentumDecay));
    const muNext = b1 * (1 - 0.5 * Math.pow(0.96, (step + 1) * h.momentumDecay));
    const prod0 = state['muProduct'];
    const prod = prod0 ? prod0.mul(mu) : scalarLike(p, mu);
    // PyTorch 1.13 multiplies μₜ in twice here (Πₜ·μₜ·μₜ₊₁; PyTorch 2 uses Πₜ·μₜ₊₁): kept as 1.13 has it
    const prodNext = prod.mul(mu * muNext);
    const m0 = state['expAvg'];
    const v0 = state['expAvgSq'];
    const m = m0 ? m0.mul(b1).add(g.mul(1 - b1)) : g.mul(1 - b1);
    const g2 = g.square().mul(1 - b2);
    const v = v0 ? v0.mul(b2).add(g2) : g2;
    const denom = v.div(1 - Math.pow(b2, step)).sqrt().add(h.eps);
    // the step sizes: rank-0 tensors (Π stays on the device), broadcast over the parameter
    const c1 = prod.neg().add(1).reciprocal().mul(h.lr * (1 - mu));
    const c2 = prodNext.neg().add(1).reciprocal().mul(h.lr * muNext);
    const param = p.sub(g.div(denom).mul(c1)).sub(m.div(denom).mul(c2));
    return { param, state: { expAvg: m, expAvgSq: v, muProduct: prod } };
  }
}
