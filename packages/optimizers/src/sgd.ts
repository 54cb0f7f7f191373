import { AxonError, type Tensor, fmtValue } from '@axon/core';
import { type BaseHyperparams, type ClipOptions, type ParamUpdate, type Params, type TensorState, Optimizer, checkNumber, checkOptions } from './optimizer.js';

/**
 * {@link SGD}'s hyperparameters (per param group).
 * @example
 * ```ts
 * const h: SGDHyperparams = { lr: 0.1, momentum: 0.9, dampening: 0, nesterov: true, weightDecay: 0, maximize: false };
 * const opt = new SGD([tensor([1, 2]).requireGrad()], h);
 * opt.paramGroups[0]!.nesterov // true
 * ```
 */
export interface SGDHyperparams extends BaseHyperparams {
  /** Momentum factor (0 = plain SGD). */
  momentum: number;
  /** Dampening for momentum. */
  dampening: number;
  /** Nesterov momentum (needs momentum > 0 and dampening 0). */
  nesterov: boolean;
  /** Maximize the objective instead of minimizing it. */
  maximize: boolean;
}

/**
 * {@link SGD}'s constructor options: defaults for every group, and clipping.
 * @example
 * ```ts
 * const w = tensor([1, 2]).requireGrad();
 * const options: SGDOptions = { lr: 0.1, momentum: 0.9, nesterov: true };
 * const opt = new SGD([w], options);
 * opt.defaults // { lr: 0.1, momentum: 0.9, nesterov: true, dampening: 0, weightDecay: 0 }
 * ```
 */
export type SGDOptions = Partial<SGDHyperparams> & ClipOptions;

/**
 * PyTorch's defaults for {@link SGD}.
 * @example
 * ```ts
 * SGD_DEFAULTS.lr // 0.001
 * SGD_DEFAULTS.momentum // 0
 * ```
 */
export const SGD_DEFAULTS: Readonly<SGDHyperparams> = Object.freeze({ lr: 1e-3, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0, maximize: false });

/**
 * Stochastic gradient descent with optional momentum, Nesterov momentum and weight decay, with
 * PyTorch's `torch.optim.SGD` semantics and defaults (lr 1e-3, momentum 0, dampening 0):
 * ```
 * g ← ∇ + weightDecay·θ
 * b ← g (first step), else momentum·b + (1 − dampening)·g
 * g ← g + momentum·b (nesterov), else b       (when momentum ≠ 0)
 * θ ← θ − lr·g
 * ```
 * State: `momentumBuffer` (when momentum ≠ 0).
 * @example
 * ```ts
 * // minimise Σw² from w = [1, 2]: the gradient is 2w
 * const w = tensor([1, 2]).requireGrad();
 * const opt = new SGD([w], { lr: 0.1, momentum: 0.9 });
 * tidy(() => w.square().sum().backward());
 * await w.grad!.array() // [2, 4]
 * opt.step(); // b = g = [2, 4]; w − 0.1·b
 * opt.zeroGrad();
 * await w.array() // [0.8, 1.6]
 * tidy(() => w.square().sum().backward());
 * opt.step(); // b = 0.9·[2, 4] + [1.6, 3.2] = [3.4, 6.8]; w − 0.1·b
 * opt.zeroGrad();
 * await w.array() // [0.46, 0.92]
 * opt.dispose();
 * ```
 */
export class SGD extends Optimizer<SGDHyperparams> {
  constructor(params: Params<SGDHyperparams>, options: SGDOptions = {}) {
    checkOptions('SGD', options, SGD_DEFAULTS);
    const { clipNorm, globalClipNorm, clipValue, ...h } = options;
    super('SGD', params, { ...SGD_DEFAULTS, ...definedOnly(h) }, { clipNorm, globalClipNorm, clipValue });
  }

  protected validateHyperparams(h: SGDHyperparams): void {
    const op = this.opName('options');
    checkNumber(op, 'lr', h.lr);
    checkNumber(op, 'momentum', h.momentum);
    checkNumber(op, 'dampening', h.dampening);
    checkNumber(op, 'weightDecay', h.weightDecay);
    if (typeof h.nesterov !== 'boolean') throw new AxonError(op, `nesterov must be a boolean, got ${fmtValue(h.nesterov)}`);
    if (typeof h.maximize !== 'boolean') throw new AxonError(op, `maximize must be a boolean, got ${fmtValue(h.maximize)}`);
    if (h.nesterov && (h.momentum <= 0 || h.dampening !== 0)) {
      throw new AxonError(op, `Nesterov momentum requires momentum > 0 and dampening 0 (got momentum ${h.momentum}, dampening ${h.dampening})`);
    }
  }

  protected stateKeys(h: SGDHyperparams): readonly string[] {
    return h.momentum !== 0 ? ['momentumBuffer'] : [];
  }

  protected allStateKeys(): readonly string[] {
    return ['momentumBuffer'];
  }

  protected computeUpdate(p: Tensor, grad: Tensor, state: TensorState, h: Readonly<SGDHyperparams>): ParamUpdate {
    let g = h.maximize ? grad.neg() : grad;
    if (h.weightDecay !== 0) g = g.add(p.mul(h.weightDecay));
    if (h.momentum === 0) return { param: p.sub(g.mul(h.lr)), state: {} };
    const prev = state['momentumBuffer'];
    const buf = prev ? prev.mul(h.momentum).add(g.mul(1 - h.dampening)) : g.clone();
    const d = h.nesterov ? g.add(buf.mul(h.momentum)) : buf;
    return { param: p.sub(d.mul(h.lr)), state: { momentumBuffer: buf } };
  }
}

/** @internal Drops keys whose value is `undefined` (so they do not override defaults). */
export function definedOnly<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}
