import { AxonError, type Tensor, fmtValue, maximum } from '@axon/core';
import { type BaseHyperparams, type ClipOptions, type ParamUpdate, type Params, type TensorState, Optimizer, checkNumber, checkOptions } from './optimizer.js';
import { definedOnly } from './sgd.js';

/**
 * {@link Adamax}'s hyperparameters (per param group).
 * @example
 * ```ts
 * const h: AdamaxHyperparams = { lr: 2e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, maximize: false };
 * const opt = new Adamax([tensor([1, 2]).requireGrad()], h);
 * opt.paramGroups[0]!.betas // [0.9, 0.999]
 * ```
 */
export interface AdamaxHyperparams extends BaseHyperparams {
  /** Decay rates of the first moment and of the infinity norm. */
  betas: readonly [number, number];
  /** Added to |g| before the running maximum (as in PyTorch). */
  eps: number;
  /** Maximize the objective instead of minimizing it. */
  maximize: boolean;
}

/**
 * {@link Adamax}'s constructor options: defaults for every group, and clipping.
 * @example
 * ```ts
 * const options: AdamaxOptions = { lr: 0.01, betas: [0.8, 0.99], globalClipNorm: 1 };
 * const opt = new Adamax([tensor([1, 2]).requireGrad()], options);
 * opt.lr // 0.01
 * ```
 */
export type AdamaxOptions = Partial<AdamaxHyperparams> & ClipOptions;

/**
 * PyTorch's defaults for {@link Adamax} (lr 2e-3, betas [0.9, 0.999], eps 1e-8, weightDecay 0).
 * @example
 * ```ts
 * ADAMAX_DEFAULTS // { lr: 0.002, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, maximize: false }
 * ```
 */
export const ADAMAX_DEFAULTS: Readonly<AdamaxHyperparams> = Object.freeze({ lr: 2e-3, betas: [0.9, 0.999] as const, eps: 1e-8, weightDecay: 0, maximize: false });

/** @internal Checks `betas` as PyTorch does: two numbers in [0, 1). */
export function checkBetas(op: string, betas: unknown): void {
  if (!Array.isArray(betas) || betas.length !== 2) throw new AxonError(op, `betas must be [beta1, beta2], got ${fmtValue(betas)}`);
  checkNumber(op, 'betas[0]', betas[0], 0, 1);
  checkNumber(op, 'betas[1]', betas[1], 0, 1);
}

/** @internal Checks a boolean hyperparameter. */
export function checkBool(op: string, name: string, x: unknown): void {
  if (typeof x !== 'boolean') throw new AxonError(op, `${name} must be a boolean, got ${fmtValue(x)}`);
}

/**
 * Adamax (Kingma & Ba, Adam with the infinity norm) with PyTorch's `torch.optim.Adamax`
 * semantics and defaults (lr 2e-3, betas [0.9, 0.999], eps 1e-8, weight decay as an L2 term):
 * ```
 * g ← ∇ + weightDecay·θ            (−∇ with maximize)
 * m ← β1·m + (1 − β1)·g;   u ← max(β2·u, |g| + eps)
 * θ ← θ − lr/(1 − β1ᵗ) · m / u
 * ```
 * State: `expAvg`, `expInf`; the step count t per parameter.
 * @example
 * ```ts
 * const w = tensor([1, -2]).requireGrad();
 * const opt = new Adamax([w], { lr: 0.1 });
 * tidy(() => w.square().sum().backward()); // g = [2, −4]
 * opt.step();
 * opt.zeroGrad();
 * // m = 0.1·g, u = |g|: the first step is lr·sign(g)
 * await w.array() // [0.9, -1.9]
 * opt.dispose();
 * ```
 */
export class Adamax extends Optimizer<AdamaxHyperparams> {
  constructor(params: Params<AdamaxHyperparams>, options: AdamaxOptions = {}) {
    checkOptions('Adamax', options, ADAMAX_DEFAULTS);
    const { clipNorm, globalClipNorm, clipValue, ...h } = options;
    super('Adamax', params, { ...ADAMAX_DEFAULTS, ...definedOnly(h) } as AdamaxHyperparams, { clipNorm, globalClipNorm, clipValue });
  }

  protected validateHyperparams(h: AdamaxHyperparams): void {
    const op = this.opName('options');
    checkNumber(op, 'lr', h.lr);
    checkNumber(op, 'eps', h.eps);
    checkNumber(op, 'weightDecay', h.weightDecay);
    checkBetas(op, h.betas);
    checkBool(op, 'maximize', h.maximize);
  }

  protected stateKeys(): readonly string[] {
    return ['expAvg', 'expInf'];
  }

  protected allStateKeys(): readonly string[] {
    return ['expAvg', 'expInf'];
  }

  protected computeUpdate(p: Tensor, grad: Tensor, state: TensorState, h: Readonly<AdamaxHyperparams>, step: number): ParamUpdate {
    const [b1, b2] = h.betas;
    let g = h.maximize ? grad.neg() : grad;
    if (h.weightDecay !== 0) g = g.add(p.mul(h.weightDecay));
    const m0 = state['expAvg'];
    const u0 = state['expInf'];
    const m = m0 ? m0.mul(b1).add(g.mul(1 - b1)) : g.mul(1 - b1);
    const a = g.abs().add(h.eps);
    // the state starts at zero: max(β2·0, |g| + eps) = |g| + eps
    const u = u0 ? maximum(u0.mul(b2), a) : a;
    const clr = h.lr / (1 - Math.pow(b1, step));
    return { param: p.sub(m.div(u).mul(clr)), state: { expAvg: m, expInf: u } };
  }
}
