import type { Tensor } from '@axon/core';
import { checkBetas } from './adamax.js';
import { type BaseHyperparams, type ClipOptions, type ParamUpdate, type Params, type TensorState, Optimizer, checkNumber, checkOptions } from './optimizer.js';
import { definedOnly } from './sgd.js';

/**
 * {@link RAdam}'s hyperparameters (per param group).
 * @example
 * ```ts
 * const h: RAdamHyperparams = { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0 };
 * const opt = new RAdam([tensor([1, 2]).requireGrad()], h);
 * opt.paramGroups[0]!.eps // 1e-8
 * ```
 */
export interface RAdamHyperparams extends BaseHyperparams {
  /** Decay rates of the first and second moment estimates. */
  betas: readonly [number, number];
  /** Added to the denominator (outside the square root). */
  eps: number;
}

/**
 * {@link RAdam}'s constructor options: defaults for every group, and clipping.
 * @example
 * ```ts
 * const options: RAdamOptions = { lr: 0.01, weightDecay: 1e-4 };
 * const opt = new RAdam([tensor([1, 2]).requireGrad()], options);
 * opt.lr // 0.01
 * ```
 */
export type RAdamOptions = Partial<RAdamHyperparams> & ClipOptions;

/**
 * PyTorch's defaults for {@link RAdam} (lr 1e-3, betas [0.9, 0.999], eps 1e-8, weightDecay 0).
 * @example
 * ```ts
 * RADAM_DEFAULTS // { lr: 0.001, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0 }
 * ```
 */
export const RADAM_DEFAULTS: Readonly<RAdamHyperparams> = Object.freeze({ lr: 1e-3, betas: [0.9, 0.999] as const, eps: 1e-8, weightDecay: 0 });

/**
 * @internal The rectification term of RAdam after `t` steps with `beta2`, or `null` while the
 * approximated SMA length ρₜ is ≤ 5 (PyTorch 1.13's threshold): then the update is momentum SGD.
 * @example radamRectification(6, 0.999) // ≈ 0.0021
 */
export function radamRectification(t: number, beta2: number): number | null {
  const rhoInf = 2 / (1 - beta2) - 1;
  const rhoT = rhoInf - (2 * t * Math.pow(beta2, t)) / (1 - Math.pow(beta2, t));
  if (!(rhoT > 5)) return null;
  return Math.sqrt(((rhoT - 4) * (rhoT - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rhoT));
}

/**
 * RAdam (Liu et al., rectified Adam) with PyTorch 1.13's `torch.optim.RAdam` semantics and
 * defaults (lr 1e-3, betas [0.9, 0.999], eps 1e-8, weight decay as an L2 term; PyTorch 1.13 has
 * no `maximize` nor decoupled decay for RAdam):
 * ```
 * g ← ∇ + weightDecay·θ
 * m ← β1·m + (1 − β1)·g;   v ← β2·v + (1 − β2)·g²;   m̂ = m/(1 − β1ᵗ)
 * ρ∞ = 2/(1 − β2) − 1;   ρₜ = ρ∞ − 2t·β2ᵗ/(1 − β2ᵗ)
 * ρₜ > 5:  r = √((ρₜ−4)(ρₜ−2)ρ∞ / ((ρ∞−4)(ρ∞−2)ρₜ));  θ ← θ − lr·m̂·r·√(1 − β2ᵗ)/(√v + eps)
 * else:    θ ← θ − lr·m̂
 * ```
 * With the default β2 = 0.999, ρₜ > 5 from the 6th step on. State: `expAvg`, `expAvgSq`.
 * @example
 * ```ts
 * const w = tensor([1, -2]).requireGrad();
 * const opt = new RAdam([w], { lr: 0.1 });
 * tidy(() => w.square().sum().backward()); // g = [2, −4]
 * opt.step();
 * opt.zeroGrad();
 * // step 1: ρ₁ ≤ 5, so θ − lr·m̂ = θ − lr·g
 * await w.array() // [0.8, -1.6]
 * opt.dispose();
 * ```
 */
export class RAdam extends Optimizer<RAdamHyperparams> {
  constructor(params: Params<RAdamHyperparams>, options: RAdamOptions = {}) {
    checkOptions('RAdam', options, RADAM_DEFAULTS);
    const { clipNorm, globalClipNorm, clipValue, ...h } = options;
    super('RAdam', params, { ...RADAM_DEFAULTS, ...definedOnly(h) } as RAdamHyperparams, { clipNorm, globalClipNorm, clipValue });
  }

  protected validateHyperparams(h: RAdamHyperparams): void {
    const op = this.opName('options');
    checkNumber(op, 'lr', h.lr);
    checkNumber(op, 'eps', h.eps);
    checkNumber(op, 'weightDecay', h.weightDecay);
    checkBetas(op, h.betas);
  }

  protected stateKeys(): readonly string[] {
    return ['expAvg', 'expAvgSq'];
  }

  protected allStateKeys(): readonly string[] {
    return ['expAvg', 'expAvgSq'];
  }

  protected computeUpdate(p: Tensor, grad: Tensor, state: TensorState, h: Readonly<RAdamHyperparams>, step: number): ParamUpdate {
    const [b1, b2] = h.betas;
    let g = grad;
    if (h.weightDecay !== 0) g = g.add(p.mul(h.weightDecay));
    const m0 = state['expAvg'];
    const v0 = state['expAvgSq'];
    const m = m0 ? m0.mul(b1).add(g.mul(1 - b1)) : g.mul(1 - b1);
    const g2 = g.square().mul(1 - b2);
    const v = v0 ? v0.mul(b2).add(g2) : g2;
    const bc1 = 1 - Math.pow(b1, step);
    const rect = radamRectification(step, b2);
    const out = { expAvg: m, expAvgSq: v };
    if (rect === null) return { param: p.sub(m.mul(h.lr / bc1)), state: out };
    const adaptive = v.sqrt().add(h.eps).reciprocal().mul(Math.sqrt(1 - Math.pow(b2, step)));
    return { param: p.sub(m.mul(adaptive).mul((h.lr * rect) / bc1)), state: out };
  }
}
