import { AxonError, type Compiled, type CompiledArg, type Tensor, compile, maximum, fmtValue } from '@axon/core';
import { type BaseHyperparams, type ClipOptions, type ParamUpdate, type Params, type TensorState, Optimizer, checkNumber, checkOptions } from './optimizer.js';
import { definedOnly } from './sgd.js';

/**
 * {@link Adam}'s and {@link AdamW}'s hyperparameters (per param group).
 * @example
 * ```ts
 * const h: AdamHyperparams = { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: true, maximize: false };
 * const opt = new Adam([tensor([1, 2]).requireGrad()], h);
 * opt.paramGroups[0]!.amsgrad // true
 * ```
 */
export interface AdamHyperparams extends BaseHyperparams {
  /** Decay rates of the first and second moment estimates. */
  betas: readonly [number, number];
  /** Added to the denominator for numerical stability (outside the square root, as in PyTorch). */
  eps: number;
  /** Use the AMSGrad variant (the running maximum of the second moment). */
  amsgrad: boolean;
  /** Maximize the objective instead of minimizing it. */
  maximize: boolean;
}

/**
 * {@link Adam}'s and {@link AdamW}'s constructor options: defaults for every group, and clipping.
 * @example
 * ```ts
 * const w = tensor([1, 2]).requireGrad();
 * const options: AdamOptions = { lr: 3e-4, betas: [0.9, 0.98] };
 * const opt = new Adam([w], options);
 * opt.defaults // { lr: 3e-4, betas: [0.9, 0.98], eps: 1e-8 }
 * ```
 */
export type AdamOptions = Partial<AdamHyperparams> & ClipOptions;

/**
 * PyTorch's defaults for {@link Adam} (lr 1e-3, betas [0.9, 0.999], eps 1e-8, weightDecay 0).
 * @example
 * ```ts
 * ADAM_DEFAULTS // { lr: 0.001, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false }
 * ```
 */
export const ADAM_DEFAULTS: Readonly<AdamHyperparams> = Object.freeze({ lr: 1e-3, betas: [0.9, 0.999] as const, eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false });
/**
 * PyTorch's defaults for {@link AdamW}: as {@link ADAM_DEFAULTS} but weightDecay 1e-2.
 * @example
 * ```ts
 * ADAMW_DEFAULTS.weightDecay // 0.01
 * ADAMW_DEFAULTS.eps // 1e-8
 * ```
 */
export const ADAMW_DEFAULTS: Readonly<AdamHyperparams> = Object.freeze({ ...ADAM_DEFAULTS, weightDecay: 1e-2 });

/**
 * @internal The shared Adam/AdamW update; `decoupled` selects how weight decay applies.
 * @example class MyAdam extends AdamBase { protected readonly decoupled = false; }
 */
abstract class AdamBase extends Optimizer<AdamHyperparams> {
  protected abstract readonly decoupled: boolean;

  protected validateHyperparams(h: AdamHyperparams): void {
    const op = this.opName('options');
    checkNumber(op, 'lr', h.lr);
    checkNumber(op, 'eps', h.eps);
    checkNumber(op, 'weightDecay', h.weightDecay);
    if (!Array.isArray(h.betas) || h.betas.length !== 2) throw new AxonError(op, `betas must be [beta1, beta2], got ${JSON.stringify(h.betas)}`);
    checkNumber(op, 'betas[0]', h.betas[0], 0, 1);
    checkNumber(op, 'betas[1]', h.betas[1], 0, 1);
    if (typeof h.amsgrad !== 'boolean') throw new AxonError(op, `amsgrad must be a boolean, got ${fmtValue(h.amsgrad)}`);
    if (typeof h.maximize !== 'boolean') throw new AxonError(op, `maximize must be a boolean, got ${fmtValue(h.maximize)}`);
  }

  protected stateKeys(h: AdamHyperparams): readonly string[] {
    return h.amsgrad ? ['expAvg', 'expAvgSq', 'maxExpAvgSq'] : ['expAvg', 'expAvgSq'];
  }

  protected allStateKeys(): readonly string[] {
    return ['expAvg', 'expAvgSq', 'maxExpAvgSq'];
  }

  protected computeUpdate(p: Tensor, grad: Tensor, state: TensorState, h: Readonly<AdamHyperparams>, step: number): ParamUpdate {
    return this.adamMath(p, grad, state, h, stepScalars(h, step));
  }

  /**
   * The update with its step-dependent scalars given as numbers or as rank-0 tensors (the compiled
   * path passes tensors, so that one trace serves every step).
   */
  private adamMath(p: Tensor, grad: Tensor, state: TensorState, h: Readonly<AdamHyperparams>, sc: StepScalars): ParamUpdate {
    const b2 = h.betas[1];
    let g = h.maximize ? grad.neg() : grad;
    let theta = p;
    if (h.weightDecay !== 0) {
      if (this.decoupled) theta = p.mul(sc.decay);
      else g = g.add(p.mul(h.weightDecay));
    }
    const m0 = state['expAvg'];
    const v0 = state['expAvgSq'];
    // first update: the moments start at zero, so m = (1 − β1)·g and v = (1 − β2)·g²
    const m = m0 ? m0.add(g.sub(m0).mul(sc.oneMinusB1)) : g.mul(sc.oneMinusB1);
    const g2 = g.square().mul(1 - b2);
    const v = v0 ? v0.mul(b2).add(g2) : g2;
    const out: Record<string, Tensor> = { expAvg: m, expAvgSq: v };
    let vHat = v;
    if (h.amsgrad) {
      const prevMax = state['maxExpAvgSq'];
      vHat = prevMax ? maximum(prevMax, v) : v.clone();
      out['maxExpAvgSq'] = vHat;
    }
    const denom = vHat.sqrt().div(sc.bc2Sqrt).add(h.eps);
    return { param: theta.sub(m.div(denom).mul(sc.stepSize)), state: out };
  }

  /** Compiled updates, one per set of fixed hyperparameters and state present. */
  private readonly compiledUpdates = new Map<string, Compiled<CompiledArg[], Tensor[]>>();

  /**
   * One parameter's update, compiled (core's `compile`): traced once per parameter shape and set
   * of fixed hyperparameters, then replayed without its JavaScript; the learning rate, beta1 (which
   * `OneCycleLR` changes every step) and the bias corrections of the step are its inputs. Same
   * results as {@link AdamBase.computeUpdate}.
   */
  protected override updateParam(p: Tensor, grad: Tensor, state: TensorState, h: Readonly<AdamHyperparams>, step: number): ParamUpdate {
    const keys = this.stateKeys(h);
    const present = keys.filter((k) => state[k] !== undefined);
    const key = JSON.stringify([h.betas[1], h.eps, h.weightDecay, h.amsgrad, h.maximize, present]);
    let fn = this.compiledUpdates.get(key);
    if (fn === undefined) {
      const fixed = { ...h };
      fn = compile(
        (param: CompiledArg, g: CompiledArg, ...rest: CompiledArg[]): Tensor[] => {
          const st: Record<string, Tensor> = {};
          present.forEach((k, i) => (st[k] = rest[i] as Tensor));
          const [stepSize, bc2Sqrt, decay, oneMinusB1] = rest.slice(present.length) as Tensor[];
          const u = this.adamMath(param as Tensor, g as Tensor, st, fixed, { stepSize: stepSize!, bc2Sqrt: bc2Sqrt!, decay: decay!, oneMinusB1: oneMinusB1! });
          return [u.param, ...keys.map((k) => u.state[k]!)];
        },
        { name: `${this.opName('step')}`, fallback: true },
      );
      if (this.compiledUpdates.size > 64) this.compiledUpdates.clear();
      this.compiledUpdates.set(key, fn);
    }
    const sc = stepScalars(h, step);
    const out = fn(p, grad, ...present.map((k) => state[k]!), sc.stepSize, sc.bc2Sqrt, sc.decay, sc.oneMinusB1);
    const next: Record<string, Tensor> = {};
    keys.forEach((k, i) => (next[k] = out[i + 1]!));
    return { param: out[0]!, state: next };
  }
}

/** The scalars of one Adam step: numbers, or rank-0 tensors inside a compiled update. */
interface StepScalars {
  readonly stepSize: number | Tensor;
  readonly bc2Sqrt: number | Tensor;
  readonly decay: number | Tensor;
  readonly oneMinusB1: number | Tensor;
}

function stepScalars(h: Readonly<AdamHyperparams>, step: number): { stepSize: number; bc2Sqrt: number; decay: number; oneMinusB1: number } {
  const [b1, b2] = h.betas;
  return { stepSize: h.lr / (1 - Math.pow(b1, step)), bc2Sqrt: Math.sqrt(1 - Math.pow(b2, step)), decay: 1 - h.lr * h.weightDecay, oneMinusB1: 1 - b1 };
}

/**
 * Adam (Kingma & Ba) with PyTorch's `torch.optim.Adam` semantics and defaults: lr 1e-3,
 * betas [0.9, 0.999], eps 1e-8 (Keras uses 1e-7; see the README), weight decay as an L2 penalty
 * added to the gradient (use {@link AdamW} for decoupled decay), optional AMSGrad:
 * ```
 * g ← ∇ + weightDecay·θ
 * m ← β1·m + (1 − β1)·g;  v ← β2·v + (1 − β2)·g²;  v̂max ← max(v̂max, v) (amsgrad)
 * θ ← θ − lr/(1 − β1ᵗ) · m / (√v / √(1 − β2ᵗ) + eps)
 * ```
 * State: `expAvg`, `expAvgSq` (and `maxExpAvgSq` with amsgrad); the step count t per parameter.
 * @example
 * ```ts
 * // minimise Σw²: the gradient is 2w = [2, −4]
 * const w = tensor([1, -2]).requireGrad();
 * const opt = new Adam([w], { lr: 0.1 });
 * tidy(() => w.square().sum().backward());
 * opt.step();
 * opt.zeroGrad();
 * // bias-corrected, the first step is lr·g/(|g| + eps): about lr per weight, whatever |g| is
 * await w.array() // [0.9, -1.9]
 * opt.stepCount(w) // 1
 * opt.dispose();
 * ```
 */
export class Adam extends AdamBase {
  protected readonly decoupled: boolean = false;
  constructor(params: Params<AdamHyperparams>, options: AdamOptions = {}) {
    checkOptions('Adam', options, ADAM_DEFAULTS);
    const { clipNorm, globalClipNorm, clipValue, ...h } = options;
    super('Adam', params, { ...ADAM_DEFAULTS, ...definedOnly(h) } as AdamHyperparams, { clipNorm, globalClipNorm, clipValue });
  }
}

/**
 * AdamW (Loshchilov & Hutter): Adam with decoupled weight decay, PyTorch's `torch.optim.AdamW`
 * semantics and defaults (as {@link Adam}, but weightDecay 1e-2 applied as `θ ← θ·(1 − lr·weightDecay)`
 * before the Adam update instead of being added to the gradient).
 * @example
 * ```ts
 * const w = tensor([1, -2]).requireGrad();
 * const opt = new AdamW([w], { lr: 0.1, weightDecay: 0.05 });
 * tidy(() => w.square().sum().backward());
 * opt.step();
 * opt.zeroGrad();
 * // w·(1 − 0.1·0.05) = [0.995, −1.99], then Adam's first step of about lr against the gradient
 * await w.array() // [0.895, -1.89]
 * opt.dispose();
 * ```
 */
export class AdamW extends AdamBase {
  protected readonly decoupled: boolean = true;
  constructor(params: Params<AdamHyperparams>, options: AdamOptions = {}) {
    checkOptions('AdamW', options, ADAMW_DEFAULTS);
    const { clipNorm, globalClipNorm, clipValue, ...h } = options;
    super('AdamW', params, { ...ADAMW_DEFAULTS, ...definedOnly(h) } as AdamHyperparams, { clipNorm, globalClipNorm, clipValue });
  }
}
