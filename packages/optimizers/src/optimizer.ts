/**
 * The {@link Optimizer} base class: parameter groups, the all-or-nothing `step()`, per-parameter
 * state owned by the optimizer, and `stateDict()` / `loadStateDict()`.
 */
import {
  AxonError, type Backend, type Tensor, assertFinite, fmtShape, fmtValue, isAnomalyDetectionEnabled, isTensor, noGrad, realize, tidy, where } from '@axon/core';
import { clipByGlobalNorm, clipByNorm, clipByValue } from './clip.js';
import type { OptimizerConfig } from './factory.js';

/**
 * A hyperparameter value: what param groups and state-dict metadata hold.
 * @example
 * ```ts
 * const opt = new Adam([tensor([1, 2]).requireGrad()]);
 * const betas: HyperValue = opt.stateDict().meta.paramGroups[0]!.hyperparams['betas']!; // [0.9, 0.999]
 * ```
 */
export type HyperValue = number | boolean | readonly number[];

/**
 * Hyperparameters every optimizer has, per param group. Concrete optimizers extend this.
 * @example
 * ```ts
 * const h: BaseHyperparams = { lr: 0.1, weightDecay: 0 };
 * const opt = new SGD([tensor([1, 2]).requireGrad()], h);
 * opt.paramGroups[0]!.lr // 0.1
 * ```
 */
export interface BaseHyperparams {
  /** Learning rate. */
  lr: number;
  /** Weight decay (L2 penalty added to the gradient, or decoupled for {@link AdamW}). */
  weightDecay: number;
}

/**
 * A resolved param group: its tensors and every hyperparameter (group values over defaults).
 * Hyperparameters may be changed in place between steps (that is how schedules set `lr`).
 * @example
 * ```ts
 * const w = tensor([1, 2]).requireGrad();
 * const opt = new SGD([w], { lr: 0.1, momentum: 0.9 });
 * const group: ParamGroup<SGDHyperparams> = opt.paramGroups[0]!;
 * group.params.length // 1
 * group.momentum // 0.9
 * group.lr = 0.01;
 * opt.lr // 0.01
 * ```
 */
export type ParamGroup<H extends BaseHyperparams = BaseHyperparams> = H & {
  /** The parameters of this group. */
  readonly params: readonly Tensor[];
  /**
   * The group's base lr for learning-rate schedules (PyTorch's `initial_lr`): set to the group's
   * `lr` by the first schedule that sees the group, then read by every schedule over the
   * optimizer. Not a hyperparameter; saved and restored by the state dict.
   */
  initialLr?: number;
};

/**
 * A param group as passed to a constructor: tensors plus any hyperparameters that override the
 * optimizer's defaults for this group.
 * @example
 * ```ts
 * const w = tensor([[1, 2]]).requireGrad();
 * const b = tensor([0]).requireGrad();
 * const groups: ParamGroupInput<SGDHyperparams>[] = [{ params: [w], weightDecay: 1e-4 }, { params: [b], lr: 0.01 }];
 * const opt = new SGD(groups, { lr: 0.05 });
 * // a group's own values win over the constructor's, which win over the class defaults
 * opt.paramGroups.map((g) => [g.lr, g.weightDecay]) // [[0.05, 1e-4], [0.01, 0]]
 * ```
 */
export type ParamGroupInput<H extends BaseHyperparams = BaseHyperparams> = Partial<H> & {
  /** The parameters of this group (tensors with `requiresGrad`). */
  readonly params: Iterable<Tensor>;
};

/**
 * What an optimizer is constructed over: parameters (one group), or param groups.
 * @example
 * ```ts
 * const w = tensor([1, 2]).requireGrad();
 * const b = tensor([0]).requireGrad();
 * const p: Params<SGDHyperparams> = [w, b];
 * new SGD(p).paramGroups.length // 1
 * const groups: Params<SGDHyperparams> = [{ params: [w] }, { params: [b], lr: 0.1 }];
 * new SGD(groups).paramGroups.length // 2
 * ```
 */
export type Params<H extends BaseHyperparams = BaseHyperparams> = Iterable<Tensor> | Iterable<ParamGroupInput<H>>;

/**
 * Keras-style gradient clipping applied inside `step()` before the update (at most one may be
 * set). The parameters' `.grad` tensors are not modified; the clipped gradients are temporaries.
 * - `clipNorm`: each parameter's gradient is rescaled so that its L2 norm is at most this (Keras `clipnorm`).
 * - `globalClipNorm`: all gradients are rescaled together so that their joint L2 norm is at most
 *   this (Keras `global_clipnorm`, PyTorch `clip_grad_norm_`).
 * - `clipValue`: each gradient element is clamped to [−clipValue, clipValue] (Keras `clipvalue`).
 * @example
 * ```ts
 * const w = tensor([0, 0]).requireGrad();
 * const clip: ClipOptions = { globalClipNorm: 1 };
 * const opt = new SGD([w], { lr: 1, ...clip });
 * w.grad = tensor([3, 4]); // norm 5: rescaled to [0.6, 0.8] inside step()
 * opt.step();
 * await w.array() // [-0.6, -0.8]
 * await w.grad!.array() // [3, 4]
 * ```
 */
export interface ClipOptions {
  clipNorm?: number;
  globalClipNorm?: number;
  clipValue?: number;
}

/**
 * The optimizer's per-parameter state as update rules see it: tensors by name (empty before the
 * parameter's first update).
 * @example
 * ```ts
 * // what computeUpdate receives for one parameter: {} on its first update, then what it returned
 * const first: TensorState = {};
 * first['momentumBuffer'] // undefined
 * const later: TensorState = { momentumBuffer: tensor([0.5, 1]) };
 * await later['momentumBuffer']!.array() // [0.5, 1]
 * ```
 */
export type TensorState = Readonly<Record<string, Tensor>>;

/**
 * What {@link Optimizer.computeUpdate} returns: the parameter's new value and its new state. All
 * must be fresh tensors created by backend ops (never the inputs themselves).
 * @example
 * ```ts
 * const p = tensor([1, 2]);
 * const g = tensor([0.5, -1]);
 * const u: ParamUpdate = { param: p.sub(g.mul(0.1)), state: { velocity: g.clone() } };
 * await u.param.array() // [0.95, 2.1]
 * ```
 */
export interface ParamUpdate {
  readonly param: Tensor;
  readonly state: Readonly<Record<string, Tensor>>;
}

/**
 * The JSON-able part of a state dict (`JSON.parse(JSON.stringify(meta))` round-trips it).
 * @example
 * ```ts
 * const w = tensor([1, 2]).requireGrad();
 * w.name = 'w';
 * const opt = new Adam([w], { lr: 0.1 });
 * w.grad = tensor([1, -1]);
 * opt.step();
 * const { meta, tensors } = opt.stateDict();
 * for (const t of Object.values(tensors)) t.dispose();
 * const json = JSON.stringify(meta);
 * const back = JSON.parse(json) as OptimizerStateMeta;
 * back.optimizer // 'Adam'
 * back.paramGroups[0]!.params // [{ index: 0, name: 'w', shape: [2] }]
 * back.state['0'] // { step: 1, keys: ['expAvg', 'expAvgSq'] }
 * ```
 */
export interface OptimizerStateMeta {
  /** Format tag, `'axon.optimizer/1'`. */
  readonly format: 'axon.optimizer/1';
  /** The optimizer class, e.g. `'Adam'`. */
  readonly optimizer: string;
  /** Keras-style clipping options. */
  readonly clip: { readonly clipNorm: number | null; readonly globalClipNorm: number | null; readonly clipValue: number | null };
  /**
   * Groups in order: hyperparameters, the schedules' base lr (`initialLr`, null before a schedule
   * saw the group; absent in older dicts) and, per parameter, its global index, name and shape.
   */
  readonly paramGroups: readonly {
    readonly hyperparams: Readonly<Record<string, HyperValue>>;
    readonly initialLr?: number | null;
    readonly params: readonly { readonly index: number; readonly name: string | null; readonly shape: readonly number[] }[];
  }[];
  /** Per-parameter state by global parameter index: update count and state tensor names. */
  readonly state: Readonly<Record<string, { readonly step: number; readonly keys: readonly string[] }>>;
}

/**
 * A snapshot of an optimizer: JSON-able `meta`, and `tensors` named `state.<paramIndex>.<key>`
 * (e.g. `state.0.expAvg`). The tensors are new handles owned by the caller (dispose them when done);
 * they share storage with the optimizer's state without copying (tensor contents are immutable).
 * @example
 * ```ts
 * const w = tensor([1, 2]).requireGrad();
 * const opt = new Adam([w], { lr: 0.1 });
 * w.grad = tensor([1, -1]);
 * opt.step();
 * const sd: OptimizerStateDict = opt.stateDict();
 * Object.keys(sd.tensors) // ['state.0.expAvg', 'state.0.expAvgSq']
 * await sd.tensors['state.0.expAvg']!.array() // [0.1, -0.1]
 * const other = new Adam([tensor([0.9, 2.1]).requireGrad()], { lr: 0.1 });
 * other.loadStateDict(sd);
 * for (const t of Object.values(sd.tensors)) t.dispose(); // the optimizer keeps its own handles
 * other.stepCount(other.params[0]!) // 1
 * ```
 */
export interface OptimizerStateDict {
  readonly meta: OptimizerStateMeta;
  readonly tensors: Readonly<Record<string, Tensor>>;
}

interface ParamStateEntry {
  step: number;
  tensors: Record<string, Tensor>;
}

const FORMAT = 'axon.optimizer/1';

type GroupHook = (group: ParamGroup<BaseHyperparams>) => void;
const paramGroupHooks = new WeakMap<object, GroupHook>();

/**
 * @internal Installs the function {@link Optimizer.addParamGroup} runs on a new group before adding
 * it (the schedules use it to give a late group its `initialLr` and scheduled lr). Null removes it.
 * @example setParamGroupHook(opt, (g) => { g.initialLr ??= g.lr; });
 */
export function setParamGroupHook(opt: Optimizer<BaseHyperparams>, hook: GroupHook | null): void {
  if (hook) paramGroupHooks.set(opt, hook);
  else paramGroupHooks.delete(opt);
}

/**
 * A step guarded on an asynchronous backend while anomaly detection is on, whose on-device
 * "applied" flag has not been read back yet: what to restore on the host if it was not applied.
 */
interface GuardedStep {
  /** Per updated parameter: its step count before, and whether it had state before. */
  readonly before: Map<Tensor, { step: number; hadState: boolean }>;
  /** Per backend, the flag "this step was applied" (kept as that backend's `healthy` flag). */
  readonly flags: Map<Backend, Tensor>;
}

function isPositiveFinite(x: number): boolean {
  return typeof x === 'number' && Number.isFinite(x) && x > 0;
}

/**
 * @internal Checks that an optimizer's options argument is a plain object whose keys are
 * hyperparameters of `defaults` or clipping options (before destructuring it): a misspelt option
 * (`learningRate` for `lr`) would otherwise be ignored silently, as PyTorch would refuse it.
 */
export function checkOptions(op: string, options: unknown, defaults?: object): void {
  if (options === null || typeof options !== 'object' || Array.isArray(options) || isTensor(options)) throw new AxonError(op, `options must be an object such as { lr: 0.01 }, got ${fmtValue(options)}`);
  if (defaults === undefined) return;
  const allowed = [...Object.keys(defaults), 'clipNorm', 'globalClipNorm', 'clipValue'];
  for (const k of Reflect.ownKeys(options)) {
    if (typeof k !== 'string' || !allowed.includes(k)) {
      throw new AxonError(op, `unknown option ${typeof k === 'string' ? `'${k}'` : String(k)}; ${op} accepts ${allowed.join(', ')}${typeof k === 'string' && /^(learningRate|epsilon|rho|clipnorm|clipvalue|globalClipnorm|beta1|beta2)$/.test(k) ? ` (the Keras spelling '${k}' is accepted by optimizer({ name, ... }))` : ''}`);
    }
  }
}

/** @internal Checks that `x` is a finite number ≥ `min` (and < `maxExclusive` when given). */
export function checkNumber(op: string, name: string, x: unknown, min = 0, maxExclusive?: number): void {
  if (typeof x !== 'number' || !Number.isFinite(x) || x < min || (maxExclusive !== undefined && x >= maxExclusive)) {
    const range = maxExclusive !== undefined ? `in [${min}, ${maxExclusive})` : `a finite number >= ${min}`;
    throw new AxonError(op, `${name} must be ${range}, got ${fmtValue(x)}`);
  }
}

/** `parameter 'w' (index 3, [2,3])` for messages: the name when it has one, the global index, the shape. */
function describeParam(p: Tensor, index: number): string {
  return `parameter${p.name ? ` '${p.name}'` : ''} (index ${index}, ${fmtShape(p.shape)})`;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * Base class of every optimizer: holds param groups and per-parameter state, and implements the
 * all-or-nothing `step()`.
 *
 * `step()` computes every new parameter value and state first (inside `tidy` and `noGrad`, with
 * backend ops only: nothing is read back to the host), validates them, then `assign`s them all, so
 * a failing step leaves every parameter and all state unchanged. Parameters whose `.grad` is `null`
 * are skipped (PyTorch semantics). State tensors are owned by the optimizer: `dispose()` frees them.
 *
 * Subclasses implement {@link Optimizer.computeUpdate} (one parameter's new value and state) and
 * {@link Optimizer.stateKeys}.
 *
 * @example
 * ```ts
 * // fit y = 2x − 1 with a weight and a bias
 * const x = tensor([[0], [1], [2], [3]]);
 * const y = tensor([[-1], [1], [3], [5]]);
 * const w = tensor([[0]]).requireGrad();
 * const b = tensor([0]).requireGrad();
 * const opt = new Adam([w, b], { lr: 0.1 });
 * for (let i = 0; i < 300; i++) {
 *   tidy(() => x.matmul(w).add(b).sub(y).square().mean().backward());
 *   opt.step();
 *   opt.zeroGrad();
 * }
 * await w.array() // [[2.00]]
 * await b.array() // [-1.00]
 * opt.dispose(); // frees the optimizer's state tensors
 * ```
 */
export abstract class Optimizer<H extends BaseHyperparams = BaseHyperparams> {
  /** Class name used in state dicts and messages, e.g. `'Adam'`. */
  readonly name: string;
  /** Default hyperparameters (group values override them). */
  readonly defaults: Readonly<H>;
  /** The param groups, in order. Change hyperparameters here (or via {@link Optimizer.lr}). */
  readonly paramGroups: ParamGroup<H>[] = [];
  /** Keras-style clipping applied to gradients inside `step()`. */
  readonly clip: Readonly<ClipOptions>;
  private readonly state = new Map<Tensor, ParamStateEntry>();
  private disposed = false;
  /**
   * Anomaly detection on asynchronous backends: per backend, a kept bool scalar that is false from
   * the first step that met a non-finite value until the host has seen it (steps are skipped on the
   * device meanwhile), and the guarded steps whose flag read is still pending, oldest first.
   */
  private readonly healthy = new Map<Backend, Tensor>();
  private guarded: GuardedStep[] = [];

  /**
   * @param name the class name (state dicts and messages)
   * @param params parameters or param groups
   * @param defaults every hyperparameter's default
   * @param clip Keras-style clipping options
   */
  protected constructor(name: string, params: Params<H>, defaults: H, clip: ClipOptions = {}) {
    this.name = name;
    this.defaults = Object.freeze({ ...defaults });
    this.validateClip(clip);
    this.clip = Object.freeze(Object.fromEntries(Object.entries(clip).filter(([, v]) => v !== undefined && v !== null)) as ClipOptions);
    this.validateHyperparams(this.defaults as H);
    if (params === null || params === undefined || (!isTensor(params) && typeof (params as Iterable<unknown>)[Symbol.iterator] !== 'function')) {
      throw new AxonError(name, 'params must be a list of tensors or of param groups ({ params, lr, ... })');
    }
    const items = isTensor(params) ? [params] : [...(params as Iterable<Tensor | ParamGroupInput<H>>)];
    if (items.length > 0 && items.every((x) => isTensor(x))) {
      this.addParamGroup({ params: items as Tensor[] } as unknown as ParamGroupInput<H>);
    } else {
      for (const g of items) {
        if (isTensor(g) || g === null || typeof g !== 'object' || !('params' in g)) {
          throw new AxonError(name, 'params must be a list of tensors or a list of param groups ({ params, lr, ... }), not a mix');
        }
        this.addParamGroup(g);
      }
    }
  }

  private validateClip(clip: ClipOptions): void {
    const set = (['clipNorm', 'globalClipNorm', 'clipValue'] as const).filter((k) => clip[k] !== undefined && clip[k] !== null);
    if (set.length > 1) throw new AxonError(this.name, `only one of clipNorm, globalClipNorm and clipValue can be set, got ${set.join(', ')}`);
    for (const k of set) {
      if (!isPositiveFinite(clip[k]!)) throw new AxonError(this.name, `${k} must be a positive finite number, got ${fmtValue(clip[k])}`);
    }
  }

  /**
   * Checks one group's hyperparameters (subclasses throw an {@link AxonError} on bad values).
   * It runs on the defaults, on every group added, and before every step.
   * @example
   * ```ts
   * class SignSGD extends Optimizer<BaseHyperparams> {
   *   constructor(params: Tensor[], lr = 0.01) {
   *     super('SignSGD', params, { lr, weightDecay: 0 });
   *   }
   *   protected validateHyperparams(h: BaseHyperparams): void {
   *     if (!(h.lr > 0)) throw new AxonError('SignSGD', `lr must be > 0, got ${h.lr}`);
   *   }
   *   protected stateKeys(): string[] { return []; }
   *   protected allStateKeys(): string[] { return []; }
   *   protected computeUpdate(p: Tensor, g: Tensor, _s: TensorState, h: BaseHyperparams): ParamUpdate {
   *     return { param: p.sub(g.sign().mul(h.lr)), state: {} };
   *   }
   * }
   * const w = tensor([1, 2]).requireGrad();
   * new SignSGD([w], -1) // throws: 'SignSGD: lr must be > 0, got -1'
   * const opt = new SignSGD([w], 0.5);
   * opt.addParamGroup({ params: [tensor([0]).requireGrad()], lr: 0 }) // throws: 'lr must be > 0, got 0'
   * ```
   */
  protected abstract validateHyperparams(h: H): void;

  /**
   * The state keys a parameter updated at least once has, given its group's hyperparameters
   * (`loadStateDict` requires them; {@link Optimizer.allStateKeys} lists every key that may occur).
   * @example
   * ```ts
   * // heavy-ball momentum: one state tensor per parameter, or none when momentum is 0
   * interface HeavyBallHyperparams extends BaseHyperparams { momentum: number }
   * class HeavyBall extends Optimizer<HeavyBallHyperparams> {
   *   constructor(params: Tensor[], momentum: number) {
   *     super('HeavyBall', params, { lr: 0.1, weightDecay: 0, momentum });
   *   }
   *   protected validateHyperparams(): void {}
   *   protected stateKeys(h: HeavyBallHyperparams): string[] { return h.momentum > 0 ? ['velocity'] : []; }
   *   protected allStateKeys(): string[] { return ['velocity']; }
   *   protected computeUpdate(p: Tensor, g: Tensor, s: TensorState, h: HeavyBallHyperparams): ParamUpdate {
   *     if (h.momentum === 0) return { param: p.sub(g.mul(h.lr)), state: {} };
   *     const v = s['velocity'] ? s['velocity'].mul(h.momentum).add(g) : g.clone();
   *     return { param: p.sub(v.mul(h.lr)), state: { velocity: v } };
   *   }
   * }
   * const w = tensor([1]).requireGrad();
   * const opt = new HeavyBall([w], 0.9);
   * w.grad = tensor([1]);
   * opt.step();
   * const { meta, tensors } = opt.stateDict();
   * meta.state['0'] // { step: 1, keys: ['velocity'] }
   * await tensors['state.0.velocity']!.array() // [1]
   * for (const t of Object.values(tensors)) t.dispose();
   * ```
   */
  protected abstract stateKeys(h: H): readonly string[];

  /**
   * One parameter's update: called inside `tidy` and `noGrad` during `step()`. Must use backend
   * ops only (no `data()`/`dataSync()`), and return fresh tensors.
   * @param param the parameter's current value
   * @param grad its gradient (already clipped if clipping is set)
   * @param state its state (empty on its first update)
   * @param h its group's hyperparameters
   * @param step this update's 1-based count for this parameter
   * @example
   * ```ts
   * // heavy-ball momentum: v ← 0.9·v + g; θ ← θ − lr·v
   * class HeavyBall extends Optimizer<BaseHyperparams> {
   *   constructor(params: Tensor[]) {
   *     super('HeavyBall', params, { lr: 0.1, weightDecay: 0 });
   *   }
   *   protected validateHyperparams(): void {}
   *   protected stateKeys(): string[] { return ['velocity']; }
   *   protected allStateKeys(): string[] { return ['velocity']; }
   *   protected computeUpdate(p: Tensor, g: Tensor, s: TensorState, h: BaseHyperparams): ParamUpdate {
   *     // fresh tensors only: g.clone(), not g itself, becomes the first velocity
   *     const v = s['velocity'] ? s['velocity'].mul(0.9).add(g) : g.clone();
   *     return { param: p.sub(v.mul(h.lr)), state: { velocity: v } };
   *   }
   * }
   * const w = tensor([1]).requireGrad();
   * const opt = new HeavyBall([w]);
   * for (let i = 0; i < 2; i++) {
   *   w.grad = tensor([1]);
   *   opt.step();
   *   opt.zeroGrad();
   * }
   * // v = 1, w = 0.9; then v = 0.9·1 + 1 = 1.9, w = 0.9 − 0.19
   * await w.array() // [0.71]
   * opt.stepCount(w) // 2
   * opt.dispose();
   * ```
   */
  protected abstract computeUpdate(param: Tensor, grad: Tensor, state: TensorState, h: Readonly<H>, step: number): ParamUpdate;

  /**
   * The shape of the state tensor `key` of parameter `param`: the parameter's shape by default. A
   * subclass whose state holds a per-parameter scalar (NAdam's `muProduct`) returns `[]` for it;
   * `step()` and `loadStateDict()` check state tensors against it.
   * @example
   * ```ts
   * const w = tensor([[1, 2], [3, 4]]).requireGrad();
   * const opt = new NAdam([w], { lr: 0.1 });
   * w.grad = tensor([[1, 1], [1, 1]]);
   * opt.step();
   * const { tensors } = opt.stateDict();
   * tensors['state.0.expAvg']!.shape // [2, 2]
   * tensors['state.0.muProduct']!.shape // []
   * for (const t of Object.values(tensors)) t.dispose();
   * ```
   */
  protected stateShape(_key: string, param: Tensor): readonly number[] {
    return param.shape;
  }

  /**
   * How `step()` updates one parameter: {@link Optimizer.computeUpdate} by default; a subclass may
   * run it compiled (Adam does), with the same results.
   */
  protected updateParam(param: Tensor, grad: Tensor, state: TensorState, h: Readonly<H>, step: number): ParamUpdate {
    return this.computeUpdate(param, grad, state, h, step);
  }

  /**
   * Adds a param group (PyTorch `add_param_group`); unspecified hyperparameters take the defaults.
   * @example
   * ```ts
   * const w = tensor([1, 2]).requireGrad();
   * const opt = new SGD([w], { lr: 0.1, momentum: 0.9 });
   * const head = tensor([0.5]).requireGrad(); // e.g. a layer unfrozen later
   * opt.addParamGroup({ params: [head], lr: 1e-4 });
   * opt.paramGroups.map((g) => [g.lr, g.momentum]) // [[0.1, 0.9], [1e-4, 0.9]]
   * opt.addParamGroup({ params: [w] }) // throws: 'appears more than once'
   * ```
   */
  addParamGroup(group: ParamGroupInput<H>): void {
    this.assertLive('addParamGroup');
    if (group === null || typeof group !== 'object' || group.params === undefined) {
      throw new AxonError(this.opName('addParamGroup'), 'a param group needs a params list');
    }
    const gp: unknown = group.params;
    if (!isTensor(gp) && (gp === null || typeof gp !== 'object' || typeof (gp as Iterable<unknown>)[Symbol.iterator] !== 'function')) {
      throw new AxonError(this.opName('addParamGroup'), `params must be a tensor or a list of tensors, got ${fmtValue(gp)}`);
    }
    const params = isTensor(gp) ? [gp] : [...(gp as Iterable<Tensor>)];
    const seen = new Set<Tensor>(this.paramGroups.flatMap((g) => g.params));
    params.forEach((p, i) => {
      if (!isTensor(p)) throw new AxonError(this.opName('addParamGroup'), `params[${i}] is not a Tensor`);
      if (p.isDisposed) throw new AxonError(this.opName('addParamGroup'), `params[${i}] (tensor #${p.id}) was disposed`);
      if (p.dtype !== 'float32') throw new AxonError(this.opName('addParamGroup'), `params[${i}] ${fmtShape(p.shape)} is ${p.dtype}; parameters must be float32`);
      if (!p.requiresGrad) {
        throw new AxonError(this.opName('addParamGroup'), `params[${i}] ${fmtShape(p.shape)} does not require grad (call .requireGrad() on parameters)`);
      }
      if (seen.has(p)) throw new AxonError(this.opName('addParamGroup'), `params[${i}] (tensor #${p.id}) appears more than once across param groups`);
      seen.add(p);
    });
    const resolved = { ...this.defaults } as H;
    for (const [k, v] of Object.entries(group)) {
      if (k === 'params' || v === undefined) continue;
      if (!Object.hasOwn(this.defaults, k)) {
        throw new AxonError(this.opName('addParamGroup'), `unknown hyperparameter '${k}'; expected one of ${Object.keys(this.defaults).join(', ')}`);
      }
      (resolved as Record<string, unknown>)[k] = Array.isArray(v) ? [...(v as number[])] : v;
    }
    this.validateHyperparams(resolved);
    const added = { ...resolved, params: Object.freeze(params) } as ParamGroup<H>;
    // a schedule over this optimizer gives the group its base lr and its scheduled lr
    paramGroupHooks.get(this)?.(added as unknown as ParamGroup<BaseHyperparams>);
    this.paramGroups.push(added);
  }

  /**
   * The learning rate of the first param group; setting it sets every group's.
   * @example
   * ```ts
   * const w = tensor([1, 2]).requireGrad();
   * const b = tensor([0]).requireGrad();
   * const opt = new SGD([{ params: [w], lr: 0.1 }, { params: [b], lr: 0.01 }]);
   * opt.lr // 0.1
   * opt.lr = 1e-4;
   * opt.paramGroups.map((g) => g.lr) // [1e-4, 1e-4]
   * ```
   */
  get lr(): number {
    return this.paramGroups[0]?.lr ?? this.defaults.lr;
  }
  set lr(value: number) {
    checkNumber(this.opName('lr'), 'lr', value);
    for (const g of this.paramGroups) g.lr = value;
  }

  /**
   * Every parameter, in group order.
   * @example
   * ```ts
   * const w = tensor([1, 2]).requireGrad();
   * const b = tensor([0]).requireGrad();
   * const opt = new SGD([{ params: [w] }, { params: [b], lr: 0.01 }]);
   * opt.params.length // 2
   * opt.params[1] === b // true
   * ```
   */
  get params(): Tensor[] {
    return this.paramGroups.flatMap((g) => [...g.params]);
  }

  /**
   * How many times the parameter was updated (0 if never).
   * @example
   * ```ts
   * const w = tensor([1, 2]).requireGrad();
   * const b = tensor([0]).requireGrad();
   * const opt = new SGD([w, b], { lr: 0.1 });
   * for (let i = 0; i < 3; i++) {
   *   w.grad = tensor([1, 1]); // b has no gradient: its steps are skipped
   *   opt.step();
   *   opt.zeroGrad();
   * }
   * opt.stepCount(w) // 3
   * opt.stepCount(b) // 0
   * ```
   */
  stepCount(param: Tensor): number {
    return this.state.get(param)?.step ?? 0;
  }

  /**
   * Disposes every parameter's gradient and sets it to `null` (PyTorch `zero_grad(set_to_none=True)`).
   * @example
   * ```ts
   * const w = tensor([1, 2]).requireGrad();
   * const opt = new SGD([w]);
   * tidy(() => w.square().sum().backward());
   * await w.grad!.array() // [2, 4]
   * opt.zeroGrad();
   * w.grad // null
   * ```
   */
  zeroGrad(): void {
    for (const p of this.params) {
      if (p.grad) {
        p.grad.dispose();
        p.grad = null;
      }
    }
  }

  /**
   * Updates every parameter that has a gradient. All-or-nothing: on any error (a gradient whose
   * shape, dtype or backend does not match its parameter, a disposed tensor, a failing op) an
   * {@link AxonError} is thrown and no parameter or state has changed. Uses backend ops only.
   *
   * With anomaly detection on (`setAnomalyDetection(true)` from `@axon/core`), a gradient holding
   * NaN or ±Infinity never reaches the parameters or the state. On backends that read
   * synchronously (WASM) the gradients are read first and the step throws an {@link AxonError}
   * naming the parameter (name, index, shape) and the element, having changed nothing. On the
   * others (WebGPU) the step cannot wait for a read: it computes an on-device flag (every
   * gradient, new value and new state finite), keeps the old values where it is false
   * (`where(flag, new, old)`), and queues a report naming the parameter that
   * `await checkAnomalies()` throws; until the host has read the flag, later steps are skipped on
   * the device too, and once it has, the step counts and first states of the skipped steps are
   * rolled back, so every parameter and all optimizer state are as before the bad step. With
   * detection off, non-finite gradients are applied (PyTorch and Keras do the same).
   * @example
   * ```ts
   * const w = tensor([1, -2]).requireGrad();
   * const opt = new SGD([w], { lr: 0.1 });
   * tidy(() => w.square().sum().backward()); // w.grad = 2w = [2, -4]
   * opt.step();
   * await w.array() // [0.8, -1.6]
   * // all or nothing: a gradient of the wrong shape changes nothing
   * opt.zeroGrad();
   * w.grad = tensor([1, 2, 3]);
   * opt.step() // throws: 'does not match'
   * await w.array() // [0.8, -1.6]
   * opt.stepCount(w) // 1
   * ```
   */
  step(): void {
    this.assertLive('step');
    this.update('step', (p) => p.grad);
  }

  /**
   * Keras's `apply_gradients`: one step like {@link Optimizer.step}, but from explicitly given
   * `[gradient, parameter]` pairs instead of the parameters' `.grad` (which is neither read nor
   * changed). Parameters not listed, or listed with a `null` gradient, are skipped. Every listed
   * parameter must belong to this optimizer, except that an optimizer built without parameters
   * (e.g. `optimizer('adam')`) adopts the listed ones as its first param group on the first call.
   * All-or-nothing and read-back-free, like `step()`.
   * @example
   * ```ts
   * const w = tensor([1, 2]).requireGrad();
   * const b = tensor([0.5]).requireGrad();
   * const lossFn = (w: Tensor, b: Tensor) => w.square().sum().add(b.sum());
   * const opt = new SGD([w, b], { lr: 0.1 });
   * const { value, grads } = tidy(() => valueAndGrad(lossFn)(w, b));
   * await value.itemAsync() // 5.5
   * opt.applyGradients([[grads[0]!, w], [grads[1]!, b]]);
   * await w.array() // [0.8, 1.6]
   * await b.array() // [0.4]
   * w.grad // null
   * for (const t of [value, ...grads]) t.dispose();
   * ```
   */
  applyGradients(gradsAndParams: Iterable<readonly [Tensor | null, Tensor]>): void {
    this.assertLive('applyGradients');
    const op = this.opName('applyGradients');
    if (gradsAndParams === null || typeof gradsAndParams !== 'object' || typeof (gradsAndParams as Iterable<unknown>)[Symbol.iterator] !== 'function') {
      throw new AxonError(op, `expects a list of [gradient, parameter] pairs, got ${fmtValue(gradsAndParams)}`);
    }
    const pairs = [...gradsAndParams];
    const given = new Map<Tensor, Tensor | null>();
    pairs.forEach((pair, i) => {
      if (!Array.isArray(pair) || pair.length !== 2 || !isTensor(pair[1]) || (pair[0] !== null && !isTensor(pair[0]))) {
        throw new AxonError(op, `entry ${i} must be a [gradient, parameter] pair of tensors (the gradient may be null)`);
      }
      if (given.has(pair[1])) throw new AxonError(op, `parameter tensor #${pair[1].id} is listed more than once`);
      given.set(pair[1], pair[0]);
    });
    if (this.paramGroups.length === 0 && given.size > 0) this.addParamGroup({ params: [...given.keys()] } as unknown as ParamGroupInput<H>);
    const known = new Set(this.params);
    for (const p of given.keys()) {
      if (!known.has(p)) throw new AxonError(op, `parameter #${p.id} ${fmtShape(p.shape)} is not in this optimizer's param groups (add it with addParamGroup)`);
    }
    this.update('applyGradients', (p) => given.get(p) ?? null);
  }

  private update(what: string, gradOf: (p: Tensor) => Tensor | null): void {
    const op = this.opName(what);
    // 1. validate inputs
    const work: { p: Tensor; g: Tensor; group: ParamGroup<H>; index: number }[] = [];
    let index = 0;
    for (const group of this.paramGroups) {
      this.validateHyperparams(group);
      for (const p of group.params) {
        const i = index++;
        if (p.isDisposed) throw new AxonError(op, `parameter tensor #${p.id} ${fmtShape(p.shape)} was disposed`);
        const g = gradOf(p);
        if (g === null || g === undefined) continue;
        const what = `parameter${p.name ? ` '${p.name}'` : ''} #${p.id} ${fmtShape(p.shape)}`;
        if (!isTensor(g)) throw new AxonError(op, `the grad of ${what} is not a Tensor`);
        if (g.isDisposed) throw new AxonError(op, `the grad of ${what} was disposed (use opt.zeroGrad() to clear gradients)`);
        if (!sameShape(g.shape, p.shape)) throw new AxonError(op, `grad ${fmtShape(g.shape)} does not match ${what}`);
        if (g.dtype !== p.dtype) throw new AxonError(op, `grad dtype ${g.dtype} does not match ${what} (${p.dtype})`);
        if (g.backend !== p.backend) throw new AxonError(op, `grad of ${what} lives on backend '${g.backend.name}', the parameter on '${p.backend.name}'`);
        work.push({ p, g, group, index: i });
      }
    }
    // Anomaly detection: non-finite gradients never reach the parameters or the state.
    const detect = isAnomalyDetectionEnabled();
    if (!detect) this.dropGuards();
    if (work.length === 0) return;
    const guardedBackends = new Set<Backend>();
    if (detect) {
      // synchronous backends: refuse the step before computing anything
      for (const w of work) {
        if (w.g.backend.supportsSyncRead) this.assertFiniteGrad(op, w.p, w.index, w.g);
        else guardedBackends.add(w.g.backend);
      }
      // asynchronous backends: queue the report (read by `await checkAnomalies()`); the step
      // itself is guarded on the device below
      for (const w of work) if (!w.g.backend.supportsSyncRead) assertFinite(w.g, `${op}: the gradient of ${describeParam(w.p, w.index)}`);
    }
    // 2. compute every new value and state (intermediates freed by tidy)
    const computed = tidy(() =>
      noGrad(() => {
        const grads = this.clipGrads(work.map((w) => w.g));
        const raw = work.map(({ p, group, index: pi }, i) => {
          const entry = this.state.get(p);
          let u: ParamUpdate;
          try {
            u = this.updateParam(p, grads[i]!, entry?.tensors ?? {}, group, (entry?.step ?? 0) + 1);
          } catch (e) {
            // with detection on, an op of the rule that produced a non-finite value throws: say which parameter
            if (detect && e instanceof AxonError && e.op === 'anomaly') throw new AxonError(op, `updating ${describeParam(p, pi)}: ${e.message}`);
            throw e;
          }
          return { param: u.param, state: { ...u.state } };
        });
        // With fusion on, each parameter's new value and state are one pending expression each:
        // run them together, one kernel per parameter (inputs: the parameter, its gradient and state).
        for (const r of raw) realize(r.param, ...Object.values(r.state));
        if (guardedBackends.size === 0) return { results: raw, flags: new Map<Backend, Tensor>() };
        return this.guard(work, raw, guardedBackends);
      }),
    );
    const { results, flags } = computed;
    const owned = new Set<Tensor>([...this.state.values()].flatMap((e) => Object.values(e.tensors)));
    const fresh = [...results.flatMap((r) => [r.param, ...Object.values(r.state)]), ...flags.values()].filter((t) => !owned.has(t));
    // 3. validate outputs
    try {
      results.forEach((r, i) => {
        const { p, g } = work[i]!;
        for (const [k, t] of [['param', r.param] as const, ...Object.entries(r.state)]) {
          if (!sameShape(t.shape, k === 'param' ? p.shape : this.stateShape(k, p)) || t.dtype !== p.dtype) {
            throw new AxonError(op, `update rule produced ${k} ${fmtShape(t.shape)} ${t.dtype} for parameter ${fmtShape(p.shape)} ${p.dtype}`);
          }
          if (t === p || t === g || (k === 'param' && owned.has(t))) throw new AxonError(op, `update rule returned an input tensor as ${k}`);
        }
      });
    } catch (e) {
      for (const t of fresh) t.dispose();
      throw e;
    }
    // 4. commit
    const before = new Map<Tensor, { step: number; hadState: boolean }>();
    results.forEach((r, i) => {
      const { p } = work[i]!;
      for (const t of Object.values(r.state)) t.keep();
      const prev = this.state.get(p);
      if (prev) for (const t of Object.values(prev.tensors)) if (!Object.values(r.state).includes(t)) t.dispose();
      if (guardedBackends.has(p.backend)) before.set(p, { step: prev?.step ?? 0, hadState: prev !== undefined });
      this.state.set(p, { step: (prev?.step ?? 0) + 1, tensors: r.state });
      p.assign(r.param);
    });
    if (flags.size > 0) this.watch({ before, flags });
  }

  /** Throws (naming the parameter) when a gradient on a synchronous backend holds NaN or ±Infinity. */
  private assertFiniteGrad(op: string, p: Tensor, index: number, g: Tensor): void {
    const data = g.dataSync();
    for (let k = 0; k < data.length; k++) {
      const v = data[k]!;
      if (!Number.isFinite(v)) {
        throw new AxonError(
          op,
          `the gradient of ${describeParam(p, index)} holds ${Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity'} at element ${k}; ` +
            'anomaly detection is on, so the step was refused: no parameter and no optimizer state changed',
        );
      }
    }
  }

  /**
   * The step on asynchronous backends while anomaly detection is on (inside `tidy`/`noGrad`):
   * per backend, an on-device flag "every gradient, new value and new state is finite, and no
   * earlier step was refused", and every result replaced by `where(flag, new, old)`. A parameter's
   * first state has no old value: it is taken as computed and dropped on the host if the flag
   * turns out false (see {@link Optimizer.watch}).
   */
  private guard(
    work: readonly { p: Tensor; g: Tensor }[],
    raw: { param: Tensor; state: Record<string, Tensor> }[],
    backends: ReadonlySet<Backend>,
  ): { results: { param: Tensor; state: Record<string, Tensor> }[]; flags: Map<Backend, Tensor> } {
    const flags = new Map<Backend, Tensor>();
    for (const b of backends) {
      // x·0 is 0 for a finite x and NaN otherwise; one NaN makes the sum NaN
      let bad: Tensor | null = null;
      work.forEach(({ p, g }, i) => {
        if (p.backend !== b) return;
        for (const t of [g, raw[i]!.param, ...Object.values(raw[i]!.state)]) {
          const z = t.mul(0).sum();
          bad = bad ? bad.add(z) : z;
        }
      });
      let ok = (bad as unknown as Tensor).eq(0);
      const prev = this.healthy.get(b);
      if (prev) ok = ok.logicalAnd(prev);
      flags.set(b, ok);
    }
    const results = raw.map((r, i) => {
      const { p } = work[i]!;
      const ok = flags.get(p.backend);
      if (!ok) return r;
      const old = this.state.get(p)?.tensors ?? {};
      const state: Record<string, Tensor> = {};
      for (const [k, t] of Object.entries(r.state)) state[k] = old[k] ? where(ok, t, old[k]) : t;
      return { param: where(ok, r.param, p), state };
    });
    return { results, flags };
  }

  /**
   * Keeps each backend's new flag (so later steps are skipped on the device until the host has
   * seen a refused step) and starts an asynchronous read of it without waiting. When it reads
   * false, the host side (step counts, first states) of that step and of every later guarded step
   * is rolled back, since the device skipped them all; parameters and state tensors are already
   * unchanged on the device. The read was queued before any `checkAnomalies()` that can report the
   * step, so in practice the rollback is done by the time that rejects.
   */
  private watch(step: GuardedStep): void {
    for (const [b, ok] of step.flags) {
      ok.keep();
      this.healthy.get(b)?.dispose();
      this.healthy.set(b, ok);
    }
    this.guarded.push(step);
    const flags = [...step.flags.values()];
    const read = flags.length === 1 ? flags[0]!.data().then((v) => [v]) : Promise.all(flags.map((t) => t.data()));
    read.then(
      (vs) => this.settle(step, vs.every((v) => v[0] !== 0)),
      () => {
        /* a lost device: its tensors are gone anyway */
      },
    );
  }

  /** A guarded step's flag was read: forget it (applied) or roll it and every later one back. */
  private settle(step: GuardedStep, applied: boolean): void {
    const at = this.guarded.indexOf(step);
    if (at < 0) return; // already rolled back, or the guards were dropped
    if (applied) {
      this.guarded.splice(at, 1);
      // every guarded step was applied: the device flag is true, no need to keep it
      if (this.guarded.length === 0) this.clearHealthy();
      return;
    }
    for (let j = this.guarded.length - 1; j >= at; j--) this.rollBack(this.guarded[j]!);
    this.guarded.splice(at);
    // while an earlier step's read is pending (it may be refused too) the device flag stays false
    if (this.guarded.length === 0) this.clearHealthy();
  }

  private rollBack(step: GuardedStep): void {
    for (const [p, { step: n, hadState }] of step.before) {
      const entry = this.state.get(p);
      if (!entry) continue;
      if (hadState) {
        entry.step = n;
      } else {
        for (const t of Object.values(entry.tensors)) t.dispose();
        this.state.delete(p);
      }
    }
  }

  private clearHealthy(): void {
    for (const t of this.healthy.values()) t.dispose();
    this.healthy.clear();
  }

  /** Forgets the asynchronous guards (detection turned off, state replaced, optimizer disposed). */
  private dropGuards(): void {
    if (this.healthy.size === 0 && this.guarded.length === 0) return;
    this.clearHealthy();
    this.guarded = [];
  }

  private clipGrads(grads: Tensor[]): Tensor[] {
    const { clipNorm, globalClipNorm, clipValue } = this.clip;
    if (clipNorm !== undefined && clipNorm !== null) return grads.map((g) => clipByNorm(g, clipNorm));
    if (globalClipNorm !== undefined && globalClipNorm !== null) return clipByGlobalNorm(grads, globalClipNorm).grads;
    if (clipValue !== undefined && clipValue !== null) return grads.map((g) => clipByValue(g, clipValue));
    return grads;
  }

  /**
   * A JSON-able config that {@link optimizer} turns back into an equivalent, fresh optimizer: the
   * class name, the constructor defaults (all of them, with `defaults: 'pytorch'`) and clipping.
   * Param groups, per-group overrides and state are not included (see {@link Optimizer.stateDict}).
   * @example
   * ```ts
   * const opt = new Adam([tensor([1, 2]).requireGrad()], { lr: 0.01, globalClipNorm: 1 });
   * const config = opt.getConfig();
   * config // { name: 'adam', defaults: 'pytorch', lr: 0.01, betas: [0.9, 0.999], eps: 1e-8, globalClipNorm: 1 }
   * const again = optimizer(config, [tensor([0, 0]).requireGrad()]);
   * again instanceof Adam // true
   * again.clip // { globalClipNorm: 1 }
   * ```
   */
  getConfig(): OptimizerConfig {
    const config: Record<string, unknown> = { name: this.name.toLowerCase(), defaults: 'pytorch' };
    for (const [k, v] of Object.entries(this.defaults)) config[k] = Array.isArray(v) ? [...(v as number[])] : v;
    for (const [k, v] of Object.entries(this.clip)) if (v !== undefined && v !== null) config[k] = v;
    return config as unknown as OptimizerConfig;
  }

  /**
   * A snapshot of hyperparameters and state (see {@link OptimizerStateDict}): `meta` is JSON-able;
   * `tensors` are new handles the caller owns.
   * @example
   * ```ts
   * const w = tensor([1, 2]).requireGrad();
   * const opt = new Adam([w], { lr: 0.1 });
   * w.grad = tensor([0.5, -0.5]);
   * opt.step();
   * const { meta, tensors } = opt.stateDict();
   * const json = JSON.stringify(meta); // e.g. for a file next to the tensors
   * meta.state['0'] // { step: 1, keys: ['expAvg', 'expAvgSq'] }
   * await tensors['state.0.expAvgSq']!.array() // [0.00025, 0.00025]
   * for (const t of Object.values(tensors)) t.dispose(); // the caller owns them
   * ```
   */
  stateDict(): OptimizerStateDict {
    this.assertLive('stateDict');
    const indexOf = new Map<Tensor, number>();
    const paramGroups = this.paramGroups.map((g) => {
      const hyperparams: Record<string, HyperValue> = {};
      for (const k of Object.keys(this.defaults)) {
        const v = (g as unknown as Record<string, unknown>)[k] as HyperValue;
        hyperparams[k] = Array.isArray(v) ? [...(v as number[])] : v;
      }
      return {
        hyperparams,
        initialLr: g.initialLr ?? null,
        params: g.params.map((p) => {
          const index = indexOf.size;
          indexOf.set(p, index);
          return { index, name: p.name ?? null, shape: [...p.shape] };
        }),
      };
    });
    const state: Record<string, { step: number; keys: string[] }> = {};
    const tensors: Record<string, Tensor> = {};
    for (const [p, entry] of this.state) {
      const i = indexOf.get(p);
      if (i === undefined) continue;
      const keys = Object.keys(entry.tensors).sort();
      state[String(i)] = { step: entry.step, keys };
      for (const k of keys) tensors[`state.${i}.${k}`] = entry.tensors[k]!.detach();
    }
    const clip = {
      clipNorm: this.clip.clipNorm ?? null,
      globalClipNorm: this.clip.globalClipNorm ?? null,
      clipValue: this.clip.clipValue ?? null,
    };
    return { meta: { format: FORMAT, optimizer: this.name, clip, paramGroups, state }, tensors };
  }

  /**
   * Replaces hyperparameters and state with a {@link OptimizerStateDict}'s, after validating it
   * against this optimizer: class, group and parameter counts, parameter shapes and names (when
   * both sides have one), hyperparameter names, state keys, tensor names, shapes, dtypes and
   * backends. On any mismatch an {@link AxonError} is thrown and nothing changes. The dict's
   * tensors stay owned by the caller (the optimizer takes its own handles). Each group's
   * `initialLr` (the schedules' base lr) is restored when the dict has one.
   * Clipping options are not part of the loaded state (they are constructor options).
   * @example
   * ```ts
   * const w = tensor([1, 2]).requireGrad();
   * const opt = new Adam([w], { lr: 0.1 });
   * w.grad = tensor([1, 1]);
   * opt.step();
   * opt.zeroGrad();
   * const sd = opt.stateDict();
   *
   * // continue elsewhere: a fresh parameter holding the saved value, a new optimizer, the state
   * const w2 = tensor(await w.array()).requireGrad();
   * const opt2 = new Adam([w2], { lr: 0.1 });
   * opt2.loadStateDict(sd);
   * new Adam([tensor([1, 2, 3]).requireGrad()]).loadStateDict(sd) // throws: 'parameter 0 has shape [2] in the state dict, [3] here'
   * for (const t of Object.values(sd.tensors)) t.dispose();
   *
   * // the same second step on both: Adam's moments carried over, so the results agree
   * w.grad = tensor([1, -1]);
   * opt.step();
   * w2.grad = tensor([1, -1]);
   * opt2.step();
   * await w.array() // [0.8, 1.9053]
   * await w2.array() // [0.8, 1.9053]
   * opt2.stepCount(w2) // 2
   * ```
   */
  loadStateDict(dict: OptimizerStateDict): void {
    this.assertLive('loadStateDict');
    const op = this.opName('loadStateDict');
    if (dict === null || typeof dict !== 'object' || dict.meta === null || typeof dict.meta !== 'object' || dict.tensors === null || typeof dict.tensors !== 'object') {
      throw new AxonError(op, 'expected { meta, tensors } as returned by stateDict()');
    }
    const { meta, tensors } = dict;
    if (meta.format !== FORMAT) throw new AxonError(op, `unknown format ${fmtValue(meta.format)}, expected '${FORMAT}'`);
    if (meta.optimizer !== this.name) throw new AxonError(op, `the state dict is for ${typeof meta.optimizer === 'string' ? meta.optimizer : fmtValue(meta.optimizer)}, this optimizer is ${this.name}`);
    if (!Array.isArray(meta.paramGroups) || meta.paramGroups.length !== this.paramGroups.length) {
      throw new AxonError(op, `the state dict has ${Array.isArray(meta.paramGroups) ? meta.paramGroups.length : 'no'} param groups, this optimizer has ${this.paramGroups.length}`);
    }
    const byIndex = new Map<number, { p: Tensor; group: number }>();
    const newHypers: H[] = [];
    const newInitialLrs: (number | undefined)[] = [];
    let index = 0;
    meta.paramGroups.forEach((sg, gi) => {
      const group = this.paramGroups[gi]!;
      if (!sg || !Array.isArray(sg.params) || sg.params.length !== group.params.length) {
        throw new AxonError(op, `param group ${gi} has ${sg && Array.isArray(sg.params) ? sg.params.length : 'no'} parameters in the state dict, ${group.params.length} here`);
      }
      const names = Object.keys(sg.hyperparams ?? {}).sort();
      const expected = Object.keys(this.defaults).sort();
      if (names.join() !== expected.join()) {
        throw new AxonError(op, `param group ${gi} hyperparameters [${names.join(', ')}] do not match ${this.name}'s [${expected.join(', ')}]`);
      }
      const h = { ...this.defaults } as H;
      for (const k of expected) {
        const v = sg.hyperparams[k];
        const d = (this.defaults as Record<string, unknown>)[k];
        const ok = Array.isArray(d) ? Array.isArray(v) && v.length === d.length && v.every((x) => typeof x === 'number') : typeof v === typeof d;
        if (!ok) throw new AxonError(op, `param group ${gi} hyperparameter '${k}' is ${JSON.stringify(v)}, expected a ${Array.isArray(d) ? `list of ${d.length} numbers` : typeof d}`);
        (h as Record<string, unknown>)[k] = Array.isArray(v) ? [...(v as number[])] : v;
      }
      try {
        this.validateHyperparams(h);
      } catch (e) {
        throw new AxonError(op, `param group ${gi}: ${e instanceof Error ? e.message : String(e)}`);
      }
      const il: unknown = sg.initialLr;
      if (il !== undefined && il !== null && (typeof il !== 'number' || !Number.isFinite(il) || il < 0)) {
        throw new AxonError(op, `param group ${gi} initialLr is ${JSON.stringify(il)}, expected null or a finite number >= 0`);
      }
      newHypers.push(h);
      newInitialLrs.push(typeof il === 'number' ? il : undefined);
      const sparams: OptimizerStateMeta['paramGroups'][number]['params'] = sg.params;
      sparams.forEach((sp, pi) => {
        const p = group.params[pi]!;
        if (!sp || sp.index !== index) throw new AxonError(op, `param group ${gi} parameter ${pi} has index ${sp?.index}, expected ${index}`);
        if (!Array.isArray(sp.shape) || !sameShape(sp.shape, p.shape)) {
          throw new AxonError(op, `parameter ${index} has shape ${fmtShape(sp.shape ?? [])} in the state dict, ${fmtShape(p.shape)} here`);
        }
        if (sp.name !== null && sp.name !== undefined && p.name !== undefined && sp.name !== p.name) {
          throw new AxonError(op, `parameter ${index} is named '${sp.name}' in the state dict, '${p.name}' here`);
        }
        byIndex.set(index, { p, group: gi });
        index++;
      });
    });
    // state entries and tensor names
    const expectedNames = new Set<string>();
    const newState = new Map<Tensor, { index: number; step: number; keys: string[] }>();
    for (const [key, entry] of Object.entries(meta.state ?? {})) {
      const i = Number(key);
      const target = Number.isInteger(i) && String(i) === key ? byIndex.get(i) : undefined;
      if (!target) throw new AxonError(op, `state for parameter '${key}', but there are ${index} parameters`);
      if (!entry || !Number.isInteger(entry.step) || entry.step < 0 || !Array.isArray(entry.keys)) {
        throw new AxonError(op, `state for parameter ${i} must be { step: integer >= 0, keys: string[] }`);
      }
      const h = newHypers[target.group]!;
      const required = this.stateKeys(h);
      const allowed = new Set(this.allStateKeys());
      for (const k of entry.keys) if (!allowed.has(k)) throw new AxonError(op, `state for parameter ${i} has unknown key '${k}'; ${this.name} uses [${[...allowed].join(', ')}]`);
      if (entry.step > 0) {
        for (const k of required) if (!entry.keys.includes(k)) throw new AxonError(op, `state for parameter ${i} lacks '${k}'`);
      }
      for (const k of entry.keys) expectedNames.add(`state.${i}.${k}`);
      newState.set(target.p, { index: i, step: entry.step, keys: [...entry.keys] });
    }
    const given = Object.keys(tensors);
    for (const n of given) if (!expectedNames.has(n)) throw new AxonError(op, `unexpected tensor '${n}' (the meta lists no such state)`);
    for (const n of expectedNames) if (!(n in tensors)) throw new AxonError(op, `missing tensor '${n}'`);
    for (const n of given) {
      const t = tensors[n];
      const i = Number(n.split('.')[1]);
      const p = byIndex.get(i)!.p;
      if (!isTensor(t)) throw new AxonError(op, `'${n}' is not a Tensor`);
      if (t.isDisposed) throw new AxonError(op, `'${n}' was disposed`);
      const want = this.stateShape(n.split('.').slice(2).join('.'), p);
      if (!sameShape(t.shape, want)) throw new AxonError(op, `'${n}' has shape ${fmtShape(t.shape)}, expected ${fmtShape(want)} (its parameter is ${fmtShape(p.shape)})`);
      if (t.dtype !== p.dtype) throw new AxonError(op, `'${n}' is ${t.dtype}, its parameter ${p.dtype}`);
      if (t.backend !== p.backend) throw new AxonError(op, `'${n}' lives on backend '${t.backend.name}', its parameter on '${p.backend.name}'`);
    }
    // commit
    this.clearState();
    newHypers.forEach((h, gi) => {
      const g = this.paramGroups[gi]!;
      Object.assign(g, h);
      // a group's schedule base lr is replaced when the dict has one, kept otherwise
      const il = newInitialLrs[gi];
      if (il !== undefined) g.initialLr = il;
    });
    for (const [p, { index: i, step, keys }] of newState) {
      const ts: Record<string, Tensor> = {};
      for (const k of keys) ts[k] = tensors[`state.${i}.${k}`]!.detach().keep();
      this.state.set(p, { step, tensors: ts });
    }
  }

  /**
   * Every state key this optimizer may use, whatever the hyperparameters ({@link Optimizer.stateKeys}
   * are those a given group requires): `loadStateDict` refuses any other key.
   * @example
   * ```ts
   * class SignSGD extends Optimizer<BaseHyperparams> {
   *   constructor(params: Tensor[]) {
   *     super('SignSGD', params, { lr: 0.01, weightDecay: 0 });
   *   }
   *   protected validateHyperparams(): void {}
   *   protected stateKeys(): string[] { return []; }
   *   protected allStateKeys(): string[] { return []; } // stateless
   *   protected computeUpdate(p: Tensor, g: Tensor, _s: TensorState, h: BaseHyperparams): ParamUpdate {
   *     return { param: p.sub(g.sign().mul(h.lr)), state: {} };
   *   }
   * }
   * const opt = new SignSGD([tensor([1]).requireGrad()]);
   * const { meta } = opt.stateDict();
   * const velocity = tensor([0]);
   * const bad = { meta: { ...meta, state: { '0': { step: 1, keys: ['velocity'] } } }, tensors: { 'state.0.velocity': velocity } };
   * opt.loadStateDict(bad) // throws: "unknown key 'velocity'"
   * velocity.dispose();
   * ```
   */
  protected abstract allStateKeys(): readonly string[];

  private clearState(): void {
    for (const e of this.state.values()) for (const t of Object.values(e.tensors)) t.dispose();
    this.state.clear();
    this.dropGuards();
  }

  /**
   * Frees every state tensor; the optimizer cannot be used afterwards. Parameters and their
   * gradients are not touched. Safe to call twice.
   * @example
   * ```ts
   * const w = tensor([1, 2]).requireGrad();
   * const opt = new Adam([w]);
   * w.grad = tensor([1, 1]);
   * opt.step(); // creates expAvg and expAvgSq for w
   * const before = memory().numTensors;
   * opt.dispose();
   * before - memory().numTensors // 2
   * opt.isDisposed // true
   * opt.step() // throws: 'Adam.step: the optimizer was disposed'
   * ```
   */
  dispose(): void {
    if (this.disposed) return;
    this.clearState();
    this.disposed = true;
  }

  /**
   * `using opt = new SGD(...)` disposes it at the end of the block.
   * @example
   * ```ts
   * const w = tensor([1, 2]).requireGrad();
   * let seen: SGD | undefined;
   * {
   *   using opt = new SGD([w], { lr: 0.1, momentum: 0.9 });
   *   seen = opt;
   *   w.grad = tensor([1, 1]);
   *   opt.step();
   * } // opt.dispose() runs here: the momentum buffer is freed
   * seen.isDisposed // true
   * await w.array() // [0.9, 1.9]
   * ```
   */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /**
   * Whether {@link Optimizer.dispose} was called.
   * @example
   * ```ts
   * const opt = new SGD([tensor([1]).requireGrad()]);
   * opt.isDisposed // false
   * opt.dispose();
   * opt.isDisposed // true
   * ```
   */
  get isDisposed(): boolean {
    return this.disposed;
  }

  private assertLive(what: string): void {
    if (this.disposed) throw new AxonError(this.opName(what), 'the optimizer was disposed');
  }

  /** `'<Name>.<what>'` for error messages. */
  protected opName(what: string): string {
    return `${this.name}.${what}`;
  }
}
