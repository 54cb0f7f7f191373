import { AxonError, type Tensor, fmtValue } from '@axon/core';
import { type BaseHyperparams, type ClipOptions, type ParamUpdate, type Params, type TensorState, Optimizer, checkNumber, checkOptions } from './optimizer.js';
import { definedOnly } from './sgd.js';

/**
 * {@link Adagrad}'s hyperparameters (per param group).
 * @example
 * ```ts
 * const h: AdagradHyperparams = { lr: 1e-2, lrDecay: 0.1, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10, maximize: false };
 * const opt = new Adagrad([tensor([1, 2]).requireGrad()], h);
 * opt.paramGroups[0]!.lrDecay // 0.1
 * ```
 */
export interface AdagradHyperparams extends BaseHyperparams {
  /** Learning-rate decay: the step size is `lr / (1 + (t − 1)·lrDecay)`. */
  lrDecay: number;
  /** Starting value of the squared-gradient sum. */
  initialAccumulatorValue: number;
  /** Added to the denominator (outside the square root, as in PyTorch). */
  eps: number;
  /** Maximize the objective instead of minimizing it. */
  maximize: boolean;
}

/**
 * {@link Adagrad}'s constructor options: defaults for every group, and clipping.
 * @example
 * ```ts
 * const w = tensor([1, 2]).requireGrad();
 * const options: AdagradOptions = { lr: 0.1, initialAccumulatorValue: 0.1 };
 * const opt = new Adagrad([w], options);
 * opt.defaults // { lr: 0.1, initialAccumulatorValue: 0.1, lrDecay: 0, eps: 1e-10 }
 * ```
 */
export type AdagradOptions = Partial<AdagradHyperparams> & ClipOptions;

/**
 * PyTorch's defaults for {@link Adagrad} (lr 1e-2, lrDecay 0, initialAccumulatorValue 0, eps 1e-10).
 * @example
 * ```ts
 * ADAGRAD_DEFAULTS // { lr: 0.01, lrDecay: 0, initialAccumulatorValue: 0, eps: 1e-10, weightDecay: 0 }
 * ```
 */
export const ADAGRAD_DEFAULTS: Readonly<AdagradHyperparams> = Object.freeze({ lr: 1e-2, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10, maximize: false });

/**
 * Adagrad with PyTorch's `torch.optim.Adagrad` semantics and defaults (lr 1e-2, eps 1e-10,
 * initialAccumulatorValue 0):
 * ```
 * g ← ∇ + weightDecay·θ
 * S ← S + g²        (S starts at initialAccumulatorValue)
 * θ ← θ − lr/(1 + (t − 1)·lrDecay) · g / (√S + eps)
 * ```
 * State: `sum`; the step count t per parameter.
 * @example
 * ```ts
 * // minimise Σw²: the gradient is 2w
 * const w = tensor([1, -2]).requireGrad();
 * const opt = new Adagrad([w], { lr: 0.1 });
 * for (let i = 0; i < 2; i++) {
 *   tidy(() => w.square().sum().backward());
 *   opt.step();
 *   opt.zeroGrad();
 * }
 * // step 1: g = [2, −4], S = [4, 16], w − 0.1·g/√S = [0.9, −1.9]
 * // step 2: g = [1.8, −3.8], S = [7.24, 30.44], w − 0.1·g/√S
 * await w.array() // [0.8331, -1.8311]
 * opt.dispose();
 * ```
 */
export class Adagrad extends Optimizer<AdagradHyperparams> {
  constructor(params: Params<AdagradHyperparams>, options: AdagradOptions = {}) {
    checkOptions('Adagrad', options, ADAGRAD_DEFAULTS);
    const { clipNorm, globalClipNorm, clipValue, ...h } = options;
    super('Adagrad', params, { ...ADAGRAD_DEFAULTS, ...definedOnly(h) }, { clipNorm, globalClipNorm, clipValue });
  }

  protected validateHyperparams(h: AdagradHyperparams): void {
    const op = this.opName('options');
    checkNumber(op, 'lr', h.lr);
    checkNumber(op, 'lrDecay', h.lrDecay);
    checkNumber(op, 'weightDecay', h.weightDecay);
    checkNumber(op, 'initialAccumulatorValue', h.initialAccumulatorValue);
    checkNumber(op, 'eps', h.eps);
    if (typeof h.maximize !== 'boolean') throw new AxonError(op, `maximize must be a boolean, got ${fmtValue(h.maximize)}`);
  }

  protected stateKeys(): readonly string[] {
    return ['sum'];
  }

  protected allStateKeys(): readonly string[] {
    return ['sum'];
  }

  protected computeUpdate(p: Tensor, grad: Tensor, state: TensorState, h: Readonly<AdagradHyperparams>, step: number): ParamUpdate {
    let g = h.maximize ? grad.neg() : grad;
    if (h.weightDecay !== 0) g = g.add(p.mul(h.weightDecay));
    const s0 = state['sum'];
    const g2 = g.square();
    const s = s0 ? s0.add(g2) : g2.add(h.initialAccumulatorValue);
    const clr = h.lr / (1 + (step - 1) * h.lrDecay);
    const std = s.sqrt().add(h.eps);
    return { param: p.sub(g.div(std).mul(clr)), state: { sum: s } };
  }
}
