/**
 * Learning-rate schedules (PyTorch `torch.optim.lr_scheduler` style): each sets its optimizer's
 * per-group `lr` from the group's base lr and a step counter advanced by `scheduler.step()`.
 *
 * Schedules are closed-form: `lrAt(t, baseLr)` is the lr after `t` calls to `step()`; the
 * constructor applies `lrAt(0, baseLr)`. A group's base lr is its `initialLr` (PyTorch's
 * `initial_lr`), which the first schedule that sees the group sets to the group's `lr` and every
 * schedule over the optimizer reads, so several schedules agree on it, and a group added later
 * (e.g. by `fit` to an optimizer built without parameters) gets its own when it is added.
 */
import { AxonError, fmtValue } from '@axon/core';
import { type BaseHyperparams, type HyperValue, Optimizer, type ParamGroup, setParamGroupHook } from './optimizer.js';

/**
 * Any optimizer, whatever its hyperparameters (what schedules accept).
 * @example
 * ```ts
 * const opts: AnyOptimizer[] = [new SGD([tensor([1]).requireGrad()]), new Adam([tensor([2]).requireGrad()])];
 * opts.map((o) => o.name) // ['SGD', 'Adam']
 * ```
 */
export type AnyOptimizer = Optimizer<BaseHyperparams>;

/** A group's base lr: its `initialLr`, set to its current lr the first time a schedule sees it. */
function baseLrOf(g: ParamGroup<BaseHyperparams>): number {
  if (g.initialLr === undefined) g.initialLr = g.lr;
  return g.initialLr;
}

function checkInt(op: string, name: string, x: unknown, min: number): void {
  if (typeof x !== 'number' || !Number.isInteger(x) || x < min) throw new AxonError(op, `${name} must be an integer >= ${min}, got ${fmtValue(x)}`);
}
function checkNum(op: string, name: string, x: unknown, min = 0): void {
  if (typeof x !== 'number' || !Number.isFinite(x) || x < min) throw new AxonError(op, `${name} must be a finite number >= ${min}, got ${fmtValue(x)}`);
}

/**
 * What {@link LRScheduler.stateDict} returns (JSON-able).
 * @example
 * ```ts
 * const opt = new SGD([tensor([1]).requireGrad()], { lr: 0.1 });
 * const sched = new StepLR(opt, { stepSize: 2 });
 * for (let i = 0; i < 3; i++) sched.step();
 * const state: SchedulerState = sched.stateDict();
 * JSON.stringify(state) // '{"scheduler":"StepLR","lastEpoch":3,"baseLrs":[0.1]}'
 * ```
 */
export interface SchedulerState {
  readonly scheduler: string;
  readonly lastEpoch: number;
  readonly baseLrs: readonly number[];
}

/**
 * Base class of the schedules. Subclasses implement {@link LRScheduler.lrAt}.
 * @example
 * ```ts
 * const w = tensor([1, 2]).requireGrad();
 * const opt = new SGD([w], { lr: 0.1 });
 * const sched = new StepLR(opt, { stepSize: 30, gamma: 0.1 });
 * const lrs: number[] = [];
 * for (let epoch = 0; epoch < 100; epoch++) {
 *   lrs.push(opt.lr); // the lr this epoch trains with
 *   // ... train one epoch: backward, opt.step() and opt.zeroGrad() per batch ...
 *   sched.step();
 * }
 * [lrs[0], lrs[29], lrs[30], lrs[60], lrs[99]] // [0.1, 0.1, 0.01, 0.001, 0.0001]
 * ```
 */
export abstract class LRScheduler {
  /** The optimizer whose lr this sets. */
  readonly optimizer: AnyOptimizer;
  /** Number of `step()` calls so far (PyTorch's `last_epoch`). */
  lastEpoch = 0;
  /** Class name, e.g. `'StepLR'`. */
  readonly name: string;
  /** The composite schedule that drives this one (set by LinearWarmup, SequentialLR, ChainedScheduler). */
  private driver: LRScheduler | null = null;
  /** The schedules this composite drives (see {@link LRScheduler.adopt}). */
  private readonly driven: LRScheduler[] = [];
  private hooked = false;

  /**
   * @param name class name (messages and state dicts)
   * @param optimizer the optimizer to drive
   */
  protected constructor(name: string, optimizer: AnyOptimizer) {
    this.name = name;
    if (!(optimizer instanceof Optimizer)) throw new AxonError(name, `expects an Optimizer, got ${fmtValue(optimizer)}`);
    if (optimizer.isDisposed) throw new AxonError(name, `the ${optimizer.name} optimizer was disposed`);
    this.optimizer = optimizer;
  }

  /**
   * Options of a schedule, checked: a plain object with the given keys (a misspelt key is an error).
   * @example
   * ```ts
   * // a schedule of your own: halve the lr every `every` steps
   * class HalveEvery extends LRScheduler {
   *   readonly every: number;
   *   constructor(opt: AnyOptimizer, options: { every: number }) {
   *     super('HalveEvery', opt);
   *     this.every = LRScheduler.options<{ every: number }>('HalveEvery', options, ['every']).every;
   *     this.apply();
   *   }
   *   lrAt(t: number, baseLr: number): number {
   *     return baseLr * 0.5 ** Math.floor(t / this.every);
   *   }
   * }
   * const opt = new SGD([tensor([1]).requireGrad()], { lr: 0.1 });
   * new HalveEvery(opt, { evry: 2 } as unknown as { every: number }) // throws: "unknown option 'evry'; expected every"
   * const sched = new HalveEvery(opt, { every: 2 });
   * sched.lrAt(4, 0.1) // 0.025
   * ```
   */
  protected static options<T extends object>(name: string, options: unknown, keys: readonly string[]): T {
    if (options === null || typeof options !== 'object' || Array.isArray(options)) {
      throw new AxonError(name, `options must be an object such as { ${keys[0]}: … }, got ${fmtValue(options)}`);
    }
    for (const k of Reflect.ownKeys(options)) {
      if (typeof k !== 'string' || !keys.includes(k)) throw new AxonError(name, `unknown option ${typeof k === 'string' ? `'${k}'` : String(k)}; expected ${keys.join(', ')}`);
    }
    return options as T;
  }

  /** The outermost composite driving this schedule (itself when none). */
  private top(): LRScheduler {
    return this.driver ? this.driver.top() : this;
  }

  /**
   * @internal Marks `inner` as driven by this composite (its own `step()` is not to be called).
   * @example this.adopt(after);
   */
  protected adopt(inner: LRScheduler): void {
    inner.driver = this;
    this.driven.push(inner);
  }

  /**
   * @internal Gives a group that is being added (at index `index`) its base lr: by default its
   * `initialLr` stays, or becomes its lr. A composite asks the schedules it drives first;
   * {@link OneCycleLR} overrides it (the base lr is `maxLr / divFactor`, as PyTorch sets it).
   * @example this.initGroup(group, opt.paramGroups.length);
   */
  protected initGroup(g: ParamGroup<BaseHyperparams>, index: number): void {
    for (const s of this.driven) s.initGroup(g, index);
    baseLrOf(g);
  }

  /**
   * @internal Hyperparameters other than the lr that this schedule sets on group `index` after `t`
   * steps ({@link OneCycleLR}'s momentum or Adam's beta1), or `undefined`: computed for every group
   * before any group changes. Composites pass on those of the schedule active at `t`.
   * @example const extra = this.hyperAt(3, opt.paramGroups[0]!, 0); // e.g. { momentum: 0.9 }
   */
  protected hyperAt(_t: number, _g: ParamGroup<BaseHyperparams>, _index: number): Readonly<Record<string, HyperValue>> | undefined {
    return undefined;
  }

  /**
   * @internal {@link LRScheduler.hyperAt} of another schedule (composites call it on those they drive).
   * @example LRScheduler.hyperOf(after, t, g, i);
   */
  protected static hyperOf(s: LRScheduler, t: number, g: ParamGroup<BaseHyperparams>, index: number): Readonly<Record<string, HyperValue>> | undefined {
    return s.hyperAt(t, g, index);
  }

  /**
   * Each group's base lr (its `initialLr`: the group's lr when a schedule first saw it).
   * @example
   * ```ts
   * const opt = new SGD([tensor([1]).requireGrad()], { lr: 0.1 });
   * const sched = new ExponentialLR(opt, { gamma: 0.5 });
   * sched.step();
   * opt.lr // 0.05
   * sched.baseLrs // [0.1]
   * ```
   */
  get baseLrs(): number[] {
    return this.optimizer.paramGroups.map(baseLrOf);
  }

  /**
   * The lr after `t` calls to `step()` for a group whose base lr is `baseLr`; `index` is the
   * group's index (schedules with per-group settings, such as {@link CyclicLR}'s `maxLr` list, read
   * it; the others ignore it).
   * @example
   * ```ts
   * const opt = new SGD([tensor([1]).requireGrad()], { lr: 0.1 });
   * const sched = new ExponentialLR(opt, { gamma: 0.5 });
   * sched.lrAt(2, 1) // 0.25
   * sched.lrAt(3, 0.1) // 0.0125
   * ```
   */
  abstract lrAt(t: number, baseLr: number, index?: number): number;

  /**
   * Applies `lrAt(lastEpoch)` to every group. Subclass constructors call it once, last: from then
   * on, the schedule built last over the optimizer also sets the lr of groups added later (they
   * get their base lr and the lr for the current step when added, not one step late).
   * @example
   * ```ts
   * // a schedule that scales every group's base lr by a constant factor
   * class ConstantFactor extends LRScheduler {
   *   readonly factor: number;
   *   constructor(opt: AnyOptimizer, factor: number) {
   *     super('ConstantFactor', opt);
   *     this.factor = factor;
   *     this.apply(); // last: sets lrAt(0) on every group
   *   }
   *   lrAt(_t: number, baseLr: number): number {
   *     return baseLr * this.factor;
   *   }
   * }
   * const opt = new SGD([tensor([1]).requireGrad()], { lr: 0.1 });
   * const sched = new ConstantFactor(opt, 0.5);
   * opt.lr // 0.05
   * // a group added later gets its lr from the schedule at once
   * opt.addParamGroup({ params: [tensor([2]).requireGrad()], lr: 1 });
   * sched.getLastLr() // [0.05, 0.5]
   * ```
   */
  protected apply(): void {
    this.applyAt(this.lastEpoch);
  }

  /**
   * Sets every group's lr to `lrAt(t)`, all or nothing: every lr is computed and checked (a
   * finite number >= 0; a `LambdaLR` factor may return anything) before any group changes.
   */
  private applyAt(t: number): void {
    if (this.optimizer.isDisposed) throw new AxonError(this.name, `the ${this.optimizer.name} optimizer was disposed`);
    const groups = this.optimizer.paramGroups;
    const lrs = groups.map((g, i) => this.checkedLr(t, g.initialLr ?? g.lr, i));
    const extras = groups.map((g, i) => this.hyperAt(t, g, i));
    groups.forEach((g, i) => {
      baseLrOf(g);
      g.lr = lrs[i]!;
      if (extras[i]) Object.assign(g, extras[i]);
    });
    if (!this.hooked) {
      this.hooked = true;
      setParamGroupHook(this.optimizer, (g) => {
        const top = this.top();
        const index = this.optimizer.paramGroups.length;
        top.initGroup(g, index);
        const lr = top.checkedLr(top.lastEpoch, baseLrOf(g), index);
        const extra = top.hyperAt(top.lastEpoch, g, index);
        g.lr = lr;
        if (extra) Object.assign(g, extra);
      });
    }
  }

  /** `lrAt(t, baseLr)`, checked: a finite number >= 0. */
  private checkedLr(t: number, baseLr: number, index: number): number {
    const lr = this.lrAt(t, baseLr, index);
    if (typeof lr !== 'number' || !Number.isFinite(lr) || lr < 0) {
      throw new AxonError(this.name, `the learning rate of param group ${index} at step ${t} would be ${fmtValue(lr)}; it must be a finite number >= 0 (no group was changed)`);
    }
    return lr;
  }

  /**
   * Advances one epoch (or step, depending on how you call it) and sets the optimizer's lr.
   * Call it after `optimizer.step()`, as in PyTorch.
   * @example
   * ```ts
   * const w = tensor([1]).requireGrad();
   * const opt = new SGD([w], { lr: 0.1 });
   * const sched = new ExponentialLR(opt, { gamma: 0.5 });
   * for (let epoch = 0; epoch < 3; epoch++) {
   *   w.grad = tensor([1]);
   *   opt.step(); // w − lr·1 with lr 0.1, then 0.05, then 0.025
   *   opt.zeroGrad();
   *   sched.step();
   * }
   * await w.array() // [0.825]
   * opt.lr // 0.0125
   * sched.lastEpoch // 3
   * ```
   */
  step(): void {
    this.applyAt(this.lastEpoch + 1);
    this.lastEpoch++;
  }

  /**
   * Each group's current lr.
   * @example
   * ```ts
   * const w = tensor([1, 2]).requireGrad();
   * const b = tensor([0]).requireGrad();
   * const opt = new SGD([{ params: [w], lr: 0.1 }, { params: [b], lr: 0.01 }]);
   * const sched = new StepLR(opt, { stepSize: 1, gamma: 0.5 });
   * sched.step();
   * sched.getLastLr() // [0.05, 0.005]
   * ```
   */
  getLastLr(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }

  /**
   * The step counter and base lrs (JSON-able).
   * @example
   * ```ts
   * const opt = new SGD([tensor([1]).requireGrad()], { lr: 0.1 });
   * const sched = new CosineAnnealingLR(opt, { tMax: 10 });
   * sched.step();
   * sched.step();
   * const s = sched.stateDict(); // { scheduler: 'CosineAnnealingLR', lastEpoch: 2, baseLrs: [0.1] }
   * ```
   */
  stateDict(): SchedulerState {
    return { scheduler: this.name, lastEpoch: this.lastEpoch, baseLrs: this.baseLrs };
  }

  /**
   * Restores {@link LRScheduler.stateDict}'s output: the step counter and each group's base lr
   * (written to the groups' `initialLr`, so every schedule over the optimizer uses it), then
   * re-applies the lr. Validates first: on a mismatch, an {@link AxonError} and nothing changed.
   * @example
   * ```ts
   * const opt = new SGD([tensor([1]).requireGrad()], { lr: 0.1 });
   * const sched = new StepLR(opt, { stepSize: 2, gamma: 0.5 });
   * for (let i = 0; i < 5; i++) sched.step();
   * const saved = JSON.stringify(sched.stateDict());
   *
   * // resume: an optimizer and a schedule built the same way, then the saved state
   * const opt2 = new SGD([tensor([1]).requireGrad()], { lr: 0.1 });
   * const sched2 = new StepLR(opt2, { stepSize: 2, gamma: 0.5 });
   * sched2.loadStateDict(JSON.parse(saved) as SchedulerState);
   * sched2.lastEpoch // 5
   * opt2.lr // 0.025
   * sched2.loadStateDict({ scheduler: 'ExponentialLR', lastEpoch: 1, baseLrs: [0.1] }) // throws: 'the state is for ExponentialLR, this is StepLR'
   * opt2.lr // 0.025
   * ```
   */
  loadStateDict(state: SchedulerState): void {
    const op = `${this.name}.loadStateDict`;
    if (!state || state.scheduler !== this.name) throw new AxonError(op, `the state is for ${typeof state?.scheduler === 'string' ? state.scheduler : fmtValue(state?.scheduler)}, this is ${this.name}`);
    checkInt(op, 'lastEpoch', state.lastEpoch, 0);
    const groups = this.optimizer.paramGroups;
    if (!Array.isArray(state.baseLrs) || state.baseLrs.length !== groups.length) {
      throw new AxonError(op, `baseLrs has ${Array.isArray(state.baseLrs) ? state.baseLrs.length : 'no'} entries, the optimizer ${groups.length} groups`);
    }
    state.baseLrs.forEach((b, i) => checkNum(op, `baseLrs[${i}]`, b));
    const before = groups.map((g) => [g.initialLr, g.lr] as const);
    const epoch = this.lastEpoch;
    try {
      this.lastEpoch = state.lastEpoch;
      groups.forEach((g, i) => (g.initialLr = state.baseLrs[i]!));
      this.apply();
    } catch (e) {
      // a LambdaLR factor may throw: restore what was there
      this.lastEpoch = epoch;
      groups.forEach((g, i) => {
        g.initialLr = before[i]![0];
        g.lr = before[i]![1];
      });
      throw e;
    }
  }
}

/**
 * Multiplies the lr by `gamma` every `stepSize` steps: `lr = baseLr · gamma^⌊t / stepSize⌋`
 * (PyTorch `StepLR`; gamma defaults to 0.1).
 * @example
 * ```ts
 * const opt = new SGD([tensor([1]).requireGrad()], { lr: 0.1 });
 * const sched = new StepLR(opt, { stepSize: 2, gamma: 0.1 });
 * const lrs: number[] = [];
 * for (let t = 0; t < 5; t++) {
 *   lrs.push(opt.lr);
 *   sched.step();
 * }
 * lrs // [0.1, 0.1, 0.01, 0.01, 0.001]
 * ```
 */
export class StepLR extends LRScheduler {
  readonly stepSize: number;
  readonly gamma: number;
  constructor(optimizer: AnyOptimizer, options: { stepSize: number; gamma?: number }) {
    super('StepLR', optimizer);
    LRScheduler.options('StepLR', options, ['stepSize', 'gamma']);
    checkInt('StepLR', 'stepSize', options.stepSize, 1);
    checkNum('StepLR', 'gamma', options.gamma ?? 0.1);
    this.stepSize = options.stepSize;
    this.gamma = options.gamma ?? 0.1;
    this.apply();
  }
  lrAt(t: number, baseLr: number): number {
    return baseLr * Math.pow(this.gamma, Math.floor(t / this.stepSize));
  }
}

/**
 * Multiplies the lr by `gamma` every step: `lr = baseLr · gammaᵗ` (PyTorch `ExponentialLR`).
 * @example
 * ```ts
 * const opt = new SGD([tensor([1]).requireGrad()], { lr: 0.1 });
 * const sched = new ExponentialLR(opt, { gamma: 0.95 });
 * const lrs: number[] = [];
 * for (let t = 0; t < 4; t++) {
 *   lrs.push(opt.lr);
 *   sched.step();
 * }
 * lrs // [0.1, 0.095, 0.09025, 0.0857375]
 * ```
 */
export class ExponentialLR extends LRScheduler {
  readonly gamma: number;
  constructor(optimizer: AnyOptimizer, options: { gamma: number }) {
    super('ExponentialLR', optimizer);
    LRScheduler.options('ExponentialLR', options, ['gamma']);
    checkNum('ExponentialLR', 'gamma', options.gamma);
    this.gamma = options.gamma;
    this.apply();
  }
  lrAt(t: number, baseLr: number): number {
    return baseLr * Math.pow(this.gamma, t);
  }
}

/**
 * Cosine annealing from the base lr to `etaMin` over `tMax` steps (PyTorch `CosineAnnealingLR`,
 * its closed form): `lr = etaMin + (baseLr − etaMin)·(1 + cos(π·t / tMax))/2`. Past `tMax` the
 * cosine continues (the lr rises again), as in PyTorch; stop stepping or compose with
 * {@link SequentialLR} to hold it.
 * @example
 * ```ts
 * const opt = new SGD([tensor([1]).requireGrad()], { lr: 0.1 });
 * const sched = new CosineAnnealingLR(opt, { tMax: 4, etaMin: 0.01 });
 * const lrs: number[] = [];
 * for (let t = 0; t <= 6; t++) {
 *   lrs.push(opt.lr);
 *   sched.step();
 * }
 * // from 0.1 down to etaMin at t = tMax, then up again
 * lrs // [0.1, 0.08682, 0.055, 0.02318, 0.01, 0.02318, 0.055]
 * ```
 */
export class CosineAnnealingLR extends LRScheduler {
  readonly tMax: number;
  readonly etaMin: number;
  constructor(optimizer: AnyOptimizer, options: { tMax: number; etaMin?: number }) {
    super('CosineAnnealingLR', optimizer);
    LRScheduler.options('CosineAnnealingLR', options, ['tMax', 'etaMin']);
    checkInt('CosineAnnealingLR', 'tMax', options.tMax, 1);
    checkNum('CosineAnnealingLR', 'etaMin', options.etaMin ?? 0);
    this.tMax = options.tMax;
    this.etaMin = options.etaMin ?? 0;
    this.apply();
  }
  lrAt(t: number, baseLr: number): number {
    return this.etaMin + ((baseLr - this.etaMin) * (1 + Math.cos((Math.PI * t) / this.tMax))) / 2;
  }
}

/**
 * Linear warm-up, then another schedule (or the constant base lr). For `t < warmupSteps`:
 * `lr = after(0) · (startFactor + (1 − startFactor)·t / warmupSteps)` where `after(0)` is the
 * wrapped schedule's initial lr (the base lr without one); from `t = warmupSteps` on, the wrapped
 * schedule runs with its own clock starting at 0: `lr = after.lrAt(t − warmupSteps)`.
 * `startFactor` defaults to 0 (the first step uses lr 0, as Hugging Face's linear warm-up does;
 * PyTorch's `LinearLR` would be `startFactor: 1/3`).
 * @example
 * ```ts
 * const opt = new SGD([tensor([1]).requireGrad()], { lr: 0.1 });
 * const sched = new LinearWarmup(opt, { warmupSteps: 4, after: new CosineAnnealingLR(opt, { tMax: 2 }) });
 * const lrs: number[] = [];
 * for (let t = 0; t < 7; t++) {
 *   lrs.push(opt.lr);
 *   sched.step();
 * }
 * // 0 → 0.1 over 4 steps, then the cosine (its clock starting at 0) down to 0 in 2 steps
 * lrs // [0, 0.025, 0.05, 0.075, 0.1, 0.05, 0]
 * ```
 */
export class LinearWarmup extends LRScheduler {
  readonly warmupSteps: number;
  readonly startFactor: number;
  /** The wrapped schedule (its own `step()` is not called; this one drives it). */
  readonly after: LRScheduler | null;
  constructor(optimizer: AnyOptimizer, options: { warmupSteps: number; startFactor?: number; after?: LRScheduler }) {
    super('LinearWarmup', optimizer);
    LRScheduler.options('LinearWarmup', options, ['warmupSteps', 'startFactor', 'after']);
    checkInt('LinearWarmup', 'warmupSteps', options.warmupSteps, 0);
    const sf = options.startFactor ?? 0;
    checkNum('LinearWarmup', 'startFactor', sf);
    if (sf > 1) throw new AxonError('LinearWarmup', `startFactor must be in [0, 1], got ${sf}`);
    if (options.after !== undefined && !(options.after instanceof LRScheduler)) throw new AxonError('LinearWarmup', 'after must be an LRScheduler');
    if (options.after && options.after.optimizer !== optimizer) throw new AxonError('LinearWarmup', 'after must drive the same optimizer');
    this.warmupSteps = options.warmupSteps;
    this.startFactor = sf;
    this.after = options.after ?? null;
    if (this.after) this.adopt(this.after);
    this.apply();
  }
  lrAt(t: number, baseLr: number, index?: number): number {
    const target = (u: number) => (this.after ? this.after.lrAt(u, baseLr, index) : baseLr);
    if (t >= this.warmupSteps) return target(t - this.warmupSteps);
    return target(0) * (this.startFactor + ((1 - this.startFactor) * t) / this.warmupSteps);
  }
  protected override hyperAt(t: number, g: ParamGroup<BaseHyperparams>, index: number): Readonly<Record<string, HyperValue>> | undefined {
    return this.after ? LRScheduler.hyperOf(this.after, Math.max(0, t - this.warmupSteps), g, index) : undefined;
  }
}

/**
 * Runs schedules one after another (PyTorch `SequentialLR`): schedule `i` is active from
 * milestone `i − 1` on, with its own clock restarting at 0 there.
 * @example
 * ```ts
 * const opt = new SGD([tensor([1]).requireGrad()], { lr: 0.1 });
 * const warm = new LinearWarmup(opt, { warmupSteps: 2 });
 * const decay = new ExponentialLR(opt, { gamma: 0.5 });
 * const sched = new SequentialLR(opt, [warm, decay], [2]);
 * const lrs: number[] = [];
 * for (let t = 0; t < 5; t++) {
 *   lrs.push(opt.lr);
 *   sched.step();
 * }
 * // warm for t < 2, then decay with its clock restarted at 0
 * lrs // [0, 0.05, 0.1, 0.05, 0.025]
 * ```
 */
export class SequentialLR extends LRScheduler {
  readonly schedulers: readonly LRScheduler[];
  readonly milestones: readonly number[];
  constructor(optimizer: AnyOptimizer, schedulers: readonly LRScheduler[], milestones: readonly number[]) {
    super('SequentialLR', optimizer);
    if (!Array.isArray(schedulers) || schedulers.length === 0) throw new AxonError('SequentialLR', 'needs at least one scheduler');
    for (const s of schedulers) {
      if (!(s instanceof LRScheduler)) throw new AxonError('SequentialLR', 'every entry must be an LRScheduler');
      if (s.optimizer !== optimizer) throw new AxonError('SequentialLR', 'every scheduler must drive the same optimizer');
    }
    if (!Array.isArray(milestones) || milestones.length !== schedulers.length - 1) {
      throw new AxonError('SequentialLR', `needs ${schedulers.length - 1} milestones for ${schedulers.length} schedulers, got ${Array.isArray(milestones) ? milestones.length : 'none'}`);
    }
    milestones.forEach((m, i) => {
      checkInt('SequentialLR', `milestones[${i}]`, m, 1);
      if (i > 0 && m <= milestones[i - 1]!) throw new AxonError('SequentialLR', 'milestones must increase');
    });
    this.schedulers = [...schedulers];
    this.milestones = [...milestones];
    for (const x of this.schedulers) this.adopt(x);
    this.apply();
  }
  lrAt(t: number, baseLr: number, index?: number): number {
    let i = 0;
    while (i < this.milestones.length && t >= this.milestones[i]!) i++;
    const start = i === 0 ? 0 : this.milestones[i - 1]!;
    return this.schedulers[i]!.lrAt(t - start, baseLr, index);
  }
  protected override hyperAt(t: number, g: ParamGroup<BaseHyperparams>, index: number): Readonly<Record<string, HyperValue>> | undefined {
    let i = 0;
    while (i < this.milestones.length && t >= this.milestones[i]!) i++;
    const start = i === 0 ? 0 : this.milestones[i - 1]!;
    return LRScheduler.hyperOf(this.schedulers[i]!, t - start, g, index);
  }
}

/**
 * Composes schedules multiplicatively (PyTorch `ChainedScheduler`): each one's factor
 * `lrAt(t, baseLr) / baseLr` multiplies the base lr; e.g. a warm-up chained with a decay. (For a
 * schedule with a floor such as CosineAnnealingLR's `etaMin`, the factor is taken at the base lr.)
 * @example
 * ```ts
 * const opt = new SGD([tensor([1]).requireGrad()], { lr: 0.1 });
 * const sched = new ChainedScheduler(opt, [new ExponentialLR(opt, { gamma: 0.9 }), new StepLR(opt, { stepSize: 2, gamma: 0.5 })]);
 * const lrs: number[] = [];
 * for (let t = 0; t < 4; t++) {
 *   lrs.push(opt.lr);
 *   sched.step();
 * }
 * // 0.1 · 0.9ᵗ · 0.5^⌊t/2⌋
 * lrs // [0.1, 0.09, 0.0405, 0.03645]
 * ```
 */
export class ChainedScheduler extends LRScheduler {
  readonly schedulers: readonly LRScheduler[];
  constructor(optimizer: AnyOptimizer, schedulers: readonly LRScheduler[]) {
    super('ChainedScheduler', optimizer);
    if (!Array.isArray(schedulers) || schedulers.length === 0) throw new AxonError('ChainedScheduler', 'needs at least one scheduler');
    for (const s of schedulers) {
      if (!(s instanceof LRScheduler)) throw new AxonError('ChainedScheduler', 'every entry must be an LRScheduler');
      if (s.optimizer !== optimizer) throw new AxonError('ChainedScheduler', 'every scheduler must drive the same optimizer');
    }
    this.schedulers = [...schedulers];
    for (const x of this.schedulers) this.adopt(x);
    this.apply();
  }
  lrAt(t: number, baseLr: number, index?: number): number {
    if (baseLr === 0) return 0;
    let lr = baseLr;
    for (const s of this.schedulers) lr *= s.lrAt(t, baseLr, index) / baseLr;
    return lr;
  }
  protected override hyperAt(t: number, g: ParamGroup<BaseHyperparams>, index: number): Readonly<Record<string, HyperValue>> | undefined {
    let out: Record<string, HyperValue> | undefined;
    for (const s of this.schedulers) {
      const h = LRScheduler.hyperOf(s, t, g, index);
      if (h) out = { ...out, ...h };
    }
    return out;
  }
}

/**
 * A schedule from any function of the step: `lr = baseLr · factor(t)` (PyTorch `LambdaLR`).
 * @example
 * ```ts
 * const opt = new SGD([tensor([1]).requireGrad()], { lr: 0.1 });
 * const sched = new LambdaLR(opt, (t) => 1 / (1 + t));
 * const lrs: number[] = [];
 * for (let t = 0; t < 4; t++) {
 *   lrs.push(opt.lr);
 *   sched.step();
 * }
 * lrs // [0.1, 0.05, 0.03333, 0.025]
 * ```
 */
export class LambdaLR extends LRScheduler {
  readonly factor: (t: number) => number;
  constructor(optimizer: AnyOptimizer, factor: (t: number) => number) {
    super('LambdaLR', optimizer);
    if (typeof factor !== 'function') throw new AxonError('LambdaLR', 'expects a function of the step count');
    this.factor = factor;
    this.apply();
  }
  lrAt(t: number, baseLr: number): number {
    return baseLr * this.factor(t);
  }
}

/**
 * {@link MultiStepLR}'s options.
 * @example
 * ```ts
 * const options: MultiStepLROptions = { milestones: [30, 80], gamma: 0.1 };
 * const sched = new MultiStepLR(new SGD([tensor([1]).requireGrad()], { lr: 0.05 }), options);
 * sched.milestones // [30, 80]
 * ```
 */
export interface MultiStepLROptions {
  /** Step counts at which the lr is multiplied by `gamma` (any order; a repeated milestone applies `gamma` once per repeat). */
  readonly milestones: readonly number[];
  /** The factor; default 0.1. */
  readonly gamma?: number;
}

/**
 * Multiplies the lr by `gamma` at each milestone (PyTorch `MultiStepLR`; gamma defaults to 0.1):
 * `lr = baseLr · gamma^(number of milestones ≤ t)`. As in PyTorch (a `Counter`), milestones may
 * come in any order and a milestone listed twice applies `gamma` twice. Takes PyTorch's positional
 * form `(optimizer, milestones, gamma?)` or an options object `{ milestones, gamma? }` like
 * {@link StepLR}.
 * @example
 * ```ts
 * const opt = new SGD([tensor([1]).requireGrad()], { lr: 0.05 });
 * const sched = new MultiStepLR(opt, [2, 4], 0.1); // or new MultiStepLR(opt, { milestones: [2, 4] })
 * const lrs: number[] = [];
 * for (let t = 0; t < 6; t++) {
 *   lrs.push(opt.lr);
 *   sched.step();
 * }
 * lrs // [0.05, 0.05, 0.005, 0.005, 0.0005, 0.0005]
 * ```
 */
export class MultiStepLR extends LRScheduler {
  /** The milestones, sorted (repeats kept). */
  readonly milestones: readonly number[];
  readonly gamma: number;
  constructor(optimizer: AnyOptimizer, options: MultiStepLROptions);
  constructor(optimizer: AnyOptimizer, milestones: readonly number[], gamma?: number);
  constructor(optimizer: AnyOptimizer, milestonesOrOptions: readonly number[] | MultiStepLROptions, gamma?: number) {
    super('MultiStepLR', optimizer);
    let milestones: unknown;
    let g: unknown;
    if (Array.isArray(milestonesOrOptions)) {
      milestones = milestonesOrOptions;
      g = gamma ?? 0.1;
    } else {
      if (gamma !== undefined) throw new AxonError('MultiStepLR', 'pass gamma either as the third argument (with a milestones list) or in the options object, not both');
      const o = LRScheduler.options<MultiStepLROptions>('MultiStepLR', milestonesOrOptions, ['milestones', 'gamma']);
      milestones = o.milestones;
      g = o.gamma ?? 0.1;
    }
    if (!Array.isArray(milestones)) throw new AxonError('MultiStepLR', `milestones must be a list of step counts such as [30, 80], got ${fmtValue(milestones)}`);
    (milestones as unknown[]).forEach((m, i) => checkInt('MultiStepLR', `milestones[${i}]`, m, 0));
    checkNum('MultiStepLR', 'gamma', g);
    this.milestones = Object.freeze([...(milestones as number[])].sort((a, b) => a - b));
    this.gamma = g as number;
    this.apply();
  }
  lrAt(t: number, baseLr: number): number {
    // bisect_right: the number of milestones <= t
    let n = 0;
    while (n < this.milestones.length && this.milestones[n]! <= t) n++;
    return baseLr * Math.pow(this.gamma, n);
  }
}

/**
 * {@link OneCycleLR}'s options (PyTorch's keyword arguments, camel-cased, with its defaults).
 * @example
 * ```ts
 * const options: OneCycleLROptions = { maxLr: 0.01, epochs: 10, stepsPerEpoch: 100, pctStart: 0.1 };
 * const sched = new OneCycleLR(new AdamW([tensor([1]).requireGrad()]), options);
 * sched.totalSteps // 1000
 * ```
 */
export interface OneCycleLROptions {
  /** The peak lr: one number, or one per param group. */
  readonly maxLr: number | readonly number[];
  /** The number of steps in the cycle; or give `epochs` and `stepsPerEpoch`. */
  readonly totalSteps?: number;
  readonly epochs?: number;
  readonly stepsPerEpoch?: number;
  /** The fraction of the cycle spent increasing the lr; default 0.3. */
  readonly pctStart?: number;
  /** `'cos'` (default) or `'linear'`. */
  readonly annealStrategy?: 'cos' | 'linear';
  /** The initial lr is `maxLr / divFactor`; default 25. */
  readonly divFactor?: number;
  /** The final lr is `initial lr / finalDivFactor`; default 1e4. */
  readonly finalDivFactor?: number;
  /** Three phases (up, back down to the initial lr, then annihilation) instead of two; default false. */
  readonly threePhase?: boolean;
  /** Cycle the momentum (SGD's and RMSprop's `momentum`, Adam's and AdamW's beta1) inversely to the lr; default true. */
  readonly cycleMomentum?: boolean;
  /** The lowest momentum (at the peak lr); default 0.85. One number or one per group. */
  readonly baseMomentum?: number | readonly number[];
  /** The highest momentum (at the start and end); default 0.95. One number or one per group. */
  readonly maxMomentum?: number | readonly number[];
}

const ONE_CYCLE_KEYS = ['maxLr', 'totalSteps', 'epochs', 'stepsPerEpoch', 'pctStart', 'annealStrategy', 'divFactor', 'finalDivFactor', 'threePhase', 'cycleMomentum', 'baseMomentum', 'maxMomentum'] as const;

interface CyclePhase {
  readonly endStep: number;
  /** Which lr the phase starts and ends at. */
  readonly lr: readonly ['initial' | 'max' | 'min', 'initial' | 'max' | 'min'];
  /** Which momentum the phase starts and ends at. */
  readonly momentum: readonly ['base' | 'max', 'base' | 'max'];
}

/**
 * The 1cycle policy (Smith & Topin), PyTorch's `OneCycleLR` exactly: the lr rises from
 * `maxLr / divFactor` to `maxLr` over the first `pctStart` of `totalSteps`, then falls to
 * `maxLr / (divFactor · finalDivFactor)` (with `threePhase`, it first falls back to the initial lr,
 * then to the minimum), annealed by cosine or linearly; the momentum moves the other way between
 * `maxMomentum` and `baseMomentum`. Call `step()` after every batch: the cycle allows `totalSteps`
 * calls, as PyTorch does, and one more is an {@link AxonError} that changes nothing. After the
 * last call (t = totalSteps, past the cycle's end) PyTorch's linear anneal extrapolates and often
 * sets a negative lr; Axon sets 0 there instead (every other value is PyTorch's).
 *
 * As in PyTorch, the optimizer's own lr is ignored: each group's base lr (`initialLr`) becomes
 * `maxLr / divFactor`, and `lrAt(t, baseLr)` takes that base lr. With `cycleMomentum` (the default)
 * the optimizer must have a momentum: SGD's and RMSprop's `momentum` (set even when it was 0, as
 * PyTorch does) or Adam's and AdamW's `betas[0]`; Adagrad has neither (pass `cycleMomentum: false`).
 * @example
 * ```ts
 * const opt = new SGD([tensor([1]).requireGrad()], { momentum: 0.9 });
 * const sched = new OneCycleLR(opt, { maxLr: 1, totalSteps: 10, annealStrategy: 'linear' });
 * const lrs: number[] = [];
 * const momenta: number[] = [];
 * for (let t = 0; t < 10; t++) {
 *   lrs.push(opt.lr);
 *   momenta.push(opt.paramGroups[0]!.momentum);
 *   sched.step();
 * }
 * lrs.map((x) => +x.toFixed(4)) // [0.04, 0.52, 1, 0.8571, 0.7143, 0.5714, 0.4286, 0.2857, 0.1429, 0]
 * momenta.map((x) => +x.toFixed(4)) // [0.95, 0.9, 0.85, 0.8643, 0.8786, 0.8929, 0.9071, 0.9214, 0.9357, 0.95]
 * sched.lastEpoch // 10
 * // PyTorch counts the constructor's step too: the 11th call is its 12th
 * sched.step() // throws: 'Tried to step 12 times. The specified number of total steps is 10'
 * sched.lastEpoch // 10
 * ```
 */
export class OneCycleLR extends LRScheduler {
  readonly totalSteps: number;
  readonly pctStart: number;
  readonly annealStrategy: 'cos' | 'linear';
  readonly divFactor: number;
  readonly finalDivFactor: number;
  readonly threePhase: boolean;
  readonly cycleMomentum: boolean;
  /** The peak lr (one number, or one per param group), as given. */
  readonly maxLr: number | readonly number[];
  readonly baseMomentum: number | readonly number[];
  readonly maxMomentum: number | readonly number[];
  /** Which hyperparameter the momentum is: Adam's `betas[0]` or `momentum` (null without cycleMomentum). */
  readonly momentumKey: 'betas' | 'momentum' | null;
  private readonly phases: readonly CyclePhase[];

  constructor(optimizer: AnyOptimizer, options: OneCycleLROptions) {
    super('OneCycleLR', optimizer);
    const op = 'OneCycleLR';
    const o = LRScheduler.options<OneCycleLROptions>(op, options, ONE_CYCLE_KEYS);
    const groups = optimizer.paramGroups;
    // PyTorch's _format_param: one number for every group, or exactly one per group
    const perGroup = (name: string, v: unknown, min: number): number | readonly number[] => {
      if (Array.isArray(v)) {
        if (v.length !== groups.length) throw new AxonError(op, `expected ${groups.length} values for ${name} (one per param group), got ${v.length}`);
        v.forEach((x, i) => checkNum(op, `${name}[${i}]`, x, min));
        return Object.freeze([...(v as number[])]);
      }
      checkNum(op, name, v, min);
      return v as number;
    };
    if (o.maxLr === undefined) throw new AxonError(op, 'needs maxLr (the peak learning rate)');
    this.maxLr = perGroup('maxLr', o.maxLr, 0);
    if (o.totalSteps !== undefined) {
      checkInt(op, 'totalSteps', o.totalSteps, 1);
      if (o.epochs !== undefined || o.stepsPerEpoch !== undefined) {
        throw new AxonError(op, `give either totalSteps (${o.totalSteps}) or epochs and stepsPerEpoch, not both`);
      }
      this.totalSteps = o.totalSteps;
    } else {
      if (o.epochs === undefined || o.stepsPerEpoch === undefined) throw new AxonError(op, 'You must define either totalSteps OR (epochs AND stepsPerEpoch)');
      checkInt(op, 'epochs', o.epochs, 1);
      checkInt(op, 'stepsPerEpoch', o.stepsPerEpoch, 1);
      this.totalSteps = o.epochs * o.stepsPerEpoch;
    }
    const pct = o.pctStart ?? 0.3;
    if (typeof pct !== 'number' || !(pct >= 0 && pct <= 1)) throw new AxonError(op, `pctStart must be a number between 0 and 1, got ${fmtValue(pct)}`);
    if (pct * this.totalSteps === 1) {
      throw new AxonError(op, `pctStart · totalSteps = ${pct} · ${this.totalSteps} = 1 makes the warm-up phase 0 steps long (PyTorch divides by zero); choose another pctStart`);
    }
    this.pctStart = pct;
    const anneal = o.annealStrategy ?? 'cos';
    if (anneal !== 'cos' && anneal !== 'linear') throw new AxonError(op, `annealStrategy must be 'cos' or 'linear', got ${fmtValue(anneal)}`);
    this.annealStrategy = anneal;
    this.divFactor = o.divFactor ?? 25;
    this.finalDivFactor = o.finalDivFactor ?? 1e4;
    for (const [k, v] of [['divFactor', this.divFactor], ['finalDivFactor', this.finalDivFactor]] as const) {
      if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new AxonError(op, `${k} must be a finite number > 0, got ${fmtValue(v)}`);
    }
    for (const [k, v] of [['threePhase', o.threePhase], ['cycleMomentum', o.cycleMomentum]] as const) {
      if (v !== undefined && typeof v !== 'boolean') throw new AxonError(op, `${k} must be a boolean, got ${fmtValue(v)}`);
    }
    this.threePhase = o.threePhase ?? false;
    this.cycleMomentum = o.cycleMomentum ?? true;
    this.baseMomentum = perGroup('baseMomentum', o.baseMomentum ?? 0.85, 0);
    this.maxMomentum = perGroup('maxMomentum', o.maxMomentum ?? 0.95, 0);
    if (this.cycleMomentum) {
      const d = optimizer.defaults as Readonly<Record<string, unknown>>;
      if ('betas' in d) this.momentumKey = 'betas';
      else if ('momentum' in d) this.momentumKey = 'momentum';
      else throw new AxonError(op, `the ${optimizer.name} optimizer has no momentum (nor betas) to cycle; pass cycleMomentum: false`);
    } else {
      this.momentumKey = null;
    }
    const T = this.totalSteps;
    this.phases = this.threePhase
      ? [
          { endStep: pct * T - 1, lr: ['initial', 'max'], momentum: ['max', 'base'] },
          { endStep: 2 * pct * T - 2, lr: ['max', 'initial'], momentum: ['base', 'max'] },
          { endStep: T - 1, lr: ['initial', 'min'], momentum: ['max', 'max'] },
        ]
      : [
          { endStep: pct * T - 1, lr: ['initial', 'max'], momentum: ['max', 'base'] },
          { endStep: T - 1, lr: ['max', 'min'], momentum: ['base', 'max'] },
        ];
    // PyTorch sets every group's initial_lr to max_lr / div_factor: all or nothing
    const before = groups.map((g) => g.initialLr);
    try {
      groups.forEach((g, i) => (g.initialLr = OneCycleLR.pick(this.maxLr, i) / this.divFactor));
      this.apply();
    } catch (e) {
      groups.forEach((g, i) => (g.initialLr = before[i]));
      throw e;
    }
  }

  /** Entry `i` of a per-group setting (the number itself when it is one number). */
  private static pick(v: number | readonly number[], i: number): number {
    return typeof v === 'number' ? v : v[i]!;
  }

  /** The phase step `t` falls in, and how far along it (PyTorch's loop, including its `pct`). */
  private phaseAt(t: number): { phase: CyclePhase; pct: number } {
    if (t > this.totalSteps) {
      throw new AxonError(this.name, `Tried to step ${t + 1} times. The specified number of total steps is ${this.totalSteps} (no group was changed)`);
    }
    let start = 0;
    for (let i = 0; i < this.phases.length; i++) {
      const phase = this.phases[i]!;
      if (t <= phase.endStep || i === this.phases.length - 1) return { phase, pct: (t - start) / (phase.endStep - start) };
      start = phase.endStep;
    }
    /* c8 ignore next */
    throw new AxonError(this.name, 'unreachable');
  }

  private anneal(start: number, end: number, pct: number): number {
    if (this.annealStrategy === 'linear') return (end - start) * pct + start;
    const cosOut = Math.cos(Math.PI * pct) + 1;
    return end + ((start - end) / 2.0) * cosOut;
  }

  /**
   * The lr after `t` steps for a group whose base lr (`initialLr`) is `baseLr = maxLr / divFactor`
   * (not the optimizer's lr); `t` past `totalSteps` is an {@link AxonError}.
   * @example
   * ```ts
   * const sched = new OneCycleLR(new SGD([tensor([1]).requireGrad()]), { maxLr: 1, totalSteps: 10 });
   * sched.baseLrs // [0.04]
   * // the peak is at step pctStart·totalSteps − 1
   * sched.lrAt(2, 0.04) // 1
   * sched.lrAt(9, 0.04) // 0.000004
   * sched.lrAt(11, 0.04) // throws: 'Tried to step 12 times'
   * ```
   */
  lrAt(t: number, baseLr: number): number {
    const { phase, pct } = this.phaseAt(t);
    const value = { initial: baseLr, max: baseLr * this.divFactor, min: baseLr / this.finalDivFactor };
    // At t = totalSteps (the one step past the cycle that PyTorch allows) the linear anneal
    // extrapolates below the final lr, often below 0, where PyTorch sets a negative lr: 0 here.
    return Math.max(0, this.anneal(value[phase.lr[0]], value[phase.lr[1]], pct));
  }

  protected override initGroup(g: ParamGroup<BaseHyperparams>, index: number): void {
    if (typeof this.maxLr !== 'number') {
      throw new AxonError(this.name, `maxLr has one value per param group (${this.maxLr.length}); a group added later (index ${index}) has none — give maxLr as one number`);
    }
    g.initialLr = this.maxLr / this.divFactor;
  }

  protected override hyperAt(t: number, g: ParamGroup<BaseHyperparams>, index: number): Readonly<Record<string, HyperValue>> | undefined {
    if (this.momentumKey === null) return undefined;
    for (const [k, v] of [['baseMomentum', this.baseMomentum], ['maxMomentum', this.maxMomentum]] as const) {
      if (typeof v !== 'number' && index >= v.length) {
        throw new AxonError(this.name, `${k} has one value per param group (${v.length}); a group added later (index ${index}) has none — give it as one number`);
      }
    }
    const { phase, pct } = this.phaseAt(t);
    const value = { base: OneCycleLR.pick(this.baseMomentum, index), max: OneCycleLR.pick(this.maxMomentum, index) };
    const m = this.anneal(value[phase.momentum[0]], value[phase.momentum[1]], pct);
    if (!Number.isFinite(m) || m < 0 || (this.momentumKey === 'betas' && m >= 1)) {
      throw new AxonError(this.name, `the momentum of param group ${index} at step ${t} would be ${fmtValue(m)}; it must be ${this.momentumKey === 'betas' ? 'in [0, 1) (beta1)' : 'a finite number >= 0'} (no group was changed)`);
    }
    if (this.momentumKey === 'momentum') return { momentum: m };
    const betas = (g as unknown as { betas: readonly number[] }).betas;
    return { betas: [m, ...betas.slice(1)] };
  }
}

/**
 * {@link LinearLR}'s options (PyTorch's keyword arguments, camel-cased, with its defaults).
 * @example
 * ```ts
 * const options: LinearLROptions = { startFactor: 0.1, totalIters: 10 };
 * const sched = new LinearLR(new SGD([tensor([1]).requireGrad()], { lr: 0.1 }), options);
 * sched.endFactor // 1
 * ```
 */
export interface LinearLROptions {
  /** The factor at step 0, in (0, 1]; default 1/3. */
  readonly startFactor?: number;
  /** The factor from step `totalIters` on, in [0, 1]; default 1. */
  readonly endFactor?: number;
  /** The number of steps the factor moves over; default 5. */
  readonly totalIters?: number;
}

/**
 * Moves the lr's factor linearly from `startFactor` to `endFactor` over `totalIters` steps, then
 * holds it (PyTorch `LinearLR`, its closed form): `lr = baseLr·(s + (e − s)·min(t, T)/T)`.
 * Defaults: startFactor 1/3, endFactor 1, totalIters 5. A `startFactor` of 0 is refused (PyTorch
 * 1.13 accepts it, then divides by zero on the first step; {@link LinearWarmup} starts at 0).
 * @example
 * ```ts
 * const opt = new SGD([tensor([1]).requireGrad()], { lr: 0.05 });
 * const sched = new LinearLR(opt, { startFactor: 0.5, totalIters: 4 });
 * const lrs: number[] = [];
 * for (let t = 0; t < 6; t++) {
 *   lrs.push(opt.lr);
 *   sched.step();
 * }
 * lrs // [0.025, 0.03125, 0.0375, 0.04375, 0.05, 0.05]
 * ```
 */
export class LinearLR extends LRScheduler {
  readonly startFactor: number;
  readonly endFactor: number;
  readonly totalIters: number;
  constructor(optimizer: AnyOptimizer, options: LinearLROptions = {}) {
    super('LinearLR', optimizer);
    const o = LRScheduler.options<LinearLROptions>('LinearLR', options, ['startFactor', 'endFactor', 'totalIters']);
    const sf = o.startFactor ?? 1 / 3;
    const ef = o.endFactor ?? 1;
    const T = o.totalIters ?? 5;
    if (typeof sf !== 'number' || !(sf > 0 && sf <= 1)) throw new AxonError('LinearLR', `startFactor must be in (0, 1], got ${fmtValue(sf)}`);
    if (typeof ef !== 'number' || !(ef >= 0 && ef <= 1)) throw new AxonError('LinearLR', `endFactor must be in [0, 1], got ${fmtValue(ef)}`);
    checkInt('LinearLR', 'totalIters', T, 1);
    this.startFactor = sf;
    this.endFactor = ef;
    this.totalIters = T;
    this.apply();
  }
  lrAt(t: number, baseLr: number): number {
    return baseLr * (this.startFactor + ((this.endFactor - this.startFactor) * Math.min(this.totalIters, t)) / this.totalIters);
  }
}

/**
 * {@link ConstantLR}'s options (PyTorch's defaults).
 * @example
 * ```ts
 * const options: ConstantLROptions = { factor: 0.5, totalIters: 3 };
 * new ConstantLR(new SGD([tensor([1]).requireGrad()], { lr: 0.1 }), options).factor // 0.5
 * ```
 */
export interface ConstantLROptions {
  /** The factor before `totalIters`, in [0, 1]; default 1/3. */
  readonly factor?: number;
  /** The step from which the lr is the base lr again; default 5. */
  readonly totalIters?: number;
}

/**
 * The base lr times `factor` for the first `totalIters` steps, then the base lr (PyTorch
 * `ConstantLR`): `lr = baseLr·(t < T ? factor : 1)`. Defaults: factor 1/3, totalIters 5.
 * @example
 * ```ts
 * const opt = new SGD([tensor([1]).requireGrad()], { lr: 0.05 });
 * const sched = new ConstantLR(opt, { factor: 0.5, totalIters: 4 });
 * const lrs: number[] = [];
 * for (let t = 0; t < 6; t++) {
 *   lrs.push(opt.lr);
 *   sched.step();
 * }
 * lrs // [0.025, 0.025, 0.025, 0.025, 0.05, 0.05]
 * ```
 */
export class ConstantLR extends LRScheduler {
  readonly factor: number;
  readonly totalIters: number;
  constructor(optimizer: AnyOptimizer, options: ConstantLROptions = {}) {
    super('ConstantLR', optimizer);
    const o = LRScheduler.options<ConstantLROptions>('ConstantLR', options, ['factor', 'totalIters']);
    const f = o.factor ?? 1 / 3;
    const T = o.totalIters ?? 5;
    if (typeof f !== 'number' || !(f >= 0 && f <= 1)) throw new AxonError('ConstantLR', `factor must be in [0, 1], got ${fmtValue(f)}`);
    checkInt('ConstantLR', 'totalIters', T, 1);
    this.factor = f;
    this.totalIters = T;
    this.apply();
  }
  lrAt(t: number, baseLr: number): number {
    return baseLr * (this.factor + (t >= this.totalIters ? 1 : 0) * (1 - this.factor));
  }
}

/**
 * Multiplies the lr by `lrLambda(t)` at every step t ≥ 1 (PyTorch `MultiplicativeLR`):
 * `lr = baseLr · Π_{k=1..t} lrLambda(k)` (the constructor's lr is the base lr). Takes the function
 * or `{ lrLambda }`. The running product is cached, so each step calls the function once (it must
 * give the same factor for the same step). As {@link LambdaLR}, the function is not in the state
 * dict (nor in PyTorch's, for a plain function): build the schedule with the same one to resume.
 * Inside {@link SequentialLR} its clock restarts at 0 and its product at the base lr (PyTorch's
 * `step(0)` keeps the lr the previous schedule left instead).
 * @example
 * ```ts
 * const opt = new SGD([tensor([1]).requireGrad()], { lr: 0.1 });
 * const sched = new MultiplicativeLR(opt, (t) => (t <= 2 ? 0.5 : 0.9));
 * const lrs: number[] = [];
 * for (let t = 0; t < 5; t++) {
 *   lrs.push(opt.lr);
 *   sched.step();
 * }
 * lrs // [0.1, 0.05, 0.025, 0.0225, 0.02025]
 * ```
 */
export class MultiplicativeLR extends LRScheduler {
  readonly lrLambda: (t: number) => number;
  /** Π_{k=1..cacheT} lrLambda(k). */
  private cacheT = 0;
  private cacheProduct = 1;
  constructor(optimizer: AnyOptimizer, lrLambda: ((t: number) => number) | { readonly lrLambda: (t: number) => number }) {
    super('MultiplicativeLR', optimizer);
    const f = typeof lrLambda === 'function' ? lrLambda : LRScheduler.options<{ lrLambda: (t: number) => number }>('MultiplicativeLR', lrLambda, ['lrLambda']).lrLambda;
    if (typeof f !== 'function') throw new AxonError('MultiplicativeLR', `lrLambda must be a function of the step count, got ${fmtValue(f)}`);
    this.lrLambda = f;
    this.apply();
  }
  lrAt(t: number, baseLr: number): number {
    if (t < this.cacheT) {
      this.cacheT = 0;
      this.cacheProduct = 1;
    }
    while (this.cacheT < t) {
      const f = this.lrLambda(this.cacheT + 1);
      this.cacheProduct *= f;
      this.cacheT++;
    }
    return baseLr * this.cacheProduct;
  }
}

/**
 * {@link PolynomialLR}'s options (PyTorch's defaults).
 * @example
 * ```ts
 * const options: PolynomialLROptions = { totalIters: 100, power: 2 };
 * new PolynomialLR(new SGD([tensor([1]).requireGrad()], { lr: 0.1 }), options).power // 2
 * ```
 */
export interface PolynomialLROptions {
  /** The step at which the lr reaches 0; default 5. */
  readonly totalIters?: number;
  /** The power of the polynomial (≥ 0); default 1. */
  readonly power?: number;
}

/**
 * Polynomial decay to 0 over `totalIters` steps, then 0 (PyTorch `PolynomialLR`, its closed
 * form): `lr = baseLr·(1 − min(t, T)/T)^power`. Defaults: totalIters 5, power 1.
 * @example
 * ```ts
 * const opt = new SGD([tensor([1]).requireGrad()], { lr: 0.001 });
 * const sched = new PolynomialLR(opt, { totalIters: 4, power: 1 });
 * const lrs: number[] = [];
 * for (let t = 0; t < 6; t++) {
 *   lrs.push(opt.lr);
 *   sched.step();
 * }
 * lrs // [0.001, 0.00075, 0.0005, 0.00025, 0, 0]
 * ```
 */
export class PolynomialLR extends LRScheduler {
  readonly totalIters: number;
  readonly power: number;
  constructor(optimizer: AnyOptimizer, options: PolynomialLROptions = {}) {
    super('PolynomialLR', optimizer);
    const o = LRScheduler.options<PolynomialLROptions>('PolynomialLR', options, ['totalIters', 'power']);
    const T = o.totalIters ?? 5;
    const power = o.power ?? 1;
    checkInt('PolynomialLR', 'totalIters', T, 1);
    checkNum('PolynomialLR', 'power', power);
    this.totalIters = T;
    this.power = power;
    this.apply();
  }
  lrAt(t: number, baseLr: number): number {
    return baseLr * Math.pow(1 - Math.min(this.totalIters, t) / this.totalIters, this.power);
  }
}

/**
 * {@link CosineAnnealingWarmRestarts}'s options (PyTorch's `T_0`, `T_mult`, `eta_min`).
 * @example
 * ```ts
 * const options: CosineAnnealingWarmRestartsOptions = { t0: 10, tMult: 2, etaMin: 1e-5 };
 * new CosineAnnealingWarmRestarts(new SGD([tensor([1]).requireGrad()], { lr: 0.1 }), options).t0 // 10
 * ```
 */
export interface CosineAnnealingWarmRestartsOptions {
  /** The length of the first cycle, in steps (an integer ≥ 1). */
  readonly t0: number;
  /** Each cycle is `tMult` times longer than the one before (an integer ≥ 1); default 1. */
  readonly tMult?: number;
  /** The lowest lr; default 0. */
  readonly etaMin?: number;
}

/**
 * SGDR: cosine annealing from the base lr to `etaMin` over a cycle, then a restart at the base
 * lr (PyTorch `CosineAnnealingWarmRestarts` stepped without an epoch argument, its default):
 * cycles last `t0`, `t0·tMult`, `t0·tMult²`, … steps, and with `tCur` the steps since the last
 * restart and `tI` the current cycle's length, `lr = etaMin + (baseLr − etaMin)·(1 + cos(π·tCur/tI))/2`.
 * (PyTorch's fractional `step(epoch)` is not offered: `step()` advances one step.)
 * @example
 * ```ts
 * const opt = new SGD([tensor([1]).requireGrad()], { lr: 0.1 });
 * const sched = new CosineAnnealingWarmRestarts(opt, { t0: 2, tMult: 2 });
 * const lrs: number[] = [];
 * for (let t = 0; t < 8; t++) {
 *   lrs.push(+opt.lr.toFixed(5));
 *   sched.step();
 * }
 * // cycles of 2, then 4 steps, then 8
 * lrs // [0.1, 0.05, 0.1, 0.08536, 0.05, 0.01464, 0.1, 0.09619]
 * ```
 */
export class CosineAnnealingWarmRestarts extends LRScheduler {
  readonly t0: number;
  readonly tMult: number;
  readonly etaMin: number;
  constructor(optimizer: AnyOptimizer, options: CosineAnnealingWarmRestartsOptions) {
    super('CosineAnnealingWarmRestarts', optimizer);
    const op = 'CosineAnnealingWarmRestarts';
    const o = LRScheduler.options<CosineAnnealingWarmRestartsOptions>(op, options, ['t0', 'tMult', 'etaMin']);
    checkInt(op, 't0', o.t0, 1);
    checkInt(op, 'tMult', o.tMult ?? 1, 1);
    checkNum(op, 'etaMin', o.etaMin ?? 0);
    this.t0 = o.t0;
    this.tMult = o.tMult ?? 1;
    this.etaMin = o.etaMin ?? 0;
    this.apply();
  }
  /**
   * The position after `t` steps: steps since the last restart, and the current cycle's length.
   * @example
   * ```ts
   * const sched = new CosineAnnealingWarmRestarts(new SGD([tensor([1]).requireGrad()]), { t0: 2, tMult: 2 });
   * sched.cycleAt(7) // { tCur: 1, tI: 8 }
   * ```
   */
  cycleAt(t: number): { tCur: number; tI: number } {
    if (this.tMult === 1) return { tCur: t % this.t0, tI: this.t0 };
    let tCur = t;
    let tI = this.t0;
    while (tCur >= tI) {
      tCur -= tI;
      tI *= this.tMult;
    }
    return { tCur, tI };
  }
  lrAt(t: number, baseLr: number): number {
    const { tCur, tI } = this.cycleAt(t);
    return this.etaMin + ((baseLr - this.etaMin) * (1 + Math.cos((Math.PI * tCur) / tI))) / 2;
  }
}

/**
 * {@link CyclicLR}'s options (PyTorch's keyword arguments, camel-cased, with its defaults).
 * @example
 * ```ts
 * const options: CyclicLROptions = { baseLr: 0.001, maxLr: 0.01, stepSizeUp: 100, mode: 'triangular2' };
 * new CyclicLR(new SGD([tensor([1]).requireGrad()], { momentum: 0.9 }), options).totalSize // 200
 * ```
 */
export interface CyclicLROptions {
  /** The lower lr boundary: one number or one per param group (each group's base lr). */
  readonly baseLr: number | readonly number[];
  /** The upper lr boundary: one number or one per param group. */
  readonly maxLr: number | readonly number[];
  /** Steps in the increasing half of a cycle; default 2000. */
  readonly stepSizeUp?: number;
  /** Steps in the decreasing half; default `stepSizeUp`. */
  readonly stepSizeDown?: number;
  /** `'triangular'` (default), `'triangular2'` (the amplitude halves each cycle) or `'exp_range'` (scaled by gamma^t). */
  readonly mode?: 'triangular' | 'triangular2' | 'exp_range';
  /** The base of `'exp_range'`'s scaling; default 1. */
  readonly gamma?: number;
  /** Cycle the momentum (SGD's and RMSprop's `momentum`, Adam-style `betas[0]`) inversely to the lr; default true. */
  readonly cycleMomentum?: boolean;
  /** The momentum at the peak lr; default 0.8. One number or one per group. */
  readonly baseMomentum?: number | readonly number[];
  /** The momentum at the base lr; default 0.9. One number or one per group. */
  readonly maxMomentum?: number | readonly number[];
}

const CYCLIC_KEYS = ['baseLr', 'maxLr', 'stepSizeUp', 'stepSizeDown', 'mode', 'gamma', 'cycleMomentum', 'baseMomentum', 'maxMomentum'] as const;

/**
 * The cyclical learning rate policy (Smith), PyTorch's `CyclicLR`: the lr goes from `baseLr` up to
 * `maxLr` over `stepSizeUp` steps and back down over `stepSizeDown`, again and again; in
 * `'triangular2'` mode the amplitude halves every cycle, in `'exp_range'` it is scaled by
 * `gamma^t`. Call `step()` after every batch. Each group's base lr (`initialLr`) becomes its
 * `baseLr` (the optimizer's lr is ignored, as in PyTorch).
 *
 * With `cycleMomentum` (the default) the momentum moves the other way, from `maxMomentum` at the
 * base lr to `baseMomentum` at the peak: SGD's and RMSprop's `momentum`, or `betas[0]` of Adam,
 * AdamW, Adamax, NAdam and RAdam (PyTorch 1.13 refuses optimizers without a `momentum`; later
 * versions cycle Adam's beta1 as done here). An optimizer with neither (Adagrad, Adadelta) needs
 * `cycleMomentum: false`. (PyTorch's custom `scale_fn` is not offered.)
 * @example
 * ```ts
 * const opt = new SGD([tensor([1]).requireGrad()], { momentum: 0.9 });
 * const sched = new CyclicLR(opt, { baseLr: 0.1, maxLr: 1, stepSizeUp: 2, mode: 'triangular2' });
 * const lrs: number[] = [];
 * const momenta: number[] = [];
 * for (let t = 0; t < 8; t++) {
 *   lrs.push(+opt.lr.toFixed(4));
 *   momenta.push(+opt.paramGroups[0]!.momentum.toFixed(4));
 *   sched.step();
 * }
 * lrs // [0.1, 0.55, 1, 0.55, 0.1, 0.325, 0.55, 0.325]
 * momenta // [0.9, 0.85, 0.8, 0.85, 0.9, 0.875, 0.85, 0.875]
 * ```
 */
export class CyclicLR extends LRScheduler {
  /** The lower boundary (one number, or one per param group), as given. */
  readonly baseLr: number | readonly number[];
  /** The upper boundary (one number, or one per param group), as given. */
  readonly maxLr: number | readonly number[];
  /** Steps per cycle: `stepSizeUp + stepSizeDown`. */
  readonly totalSize: number;
  /** `stepSizeUp / totalSize`. */
  readonly stepRatio: number;
  readonly mode: 'triangular' | 'triangular2' | 'exp_range';
  readonly gamma: number;
  readonly cycleMomentum: boolean;
  readonly baseMomentum: number | readonly number[];
  readonly maxMomentum: number | readonly number[];
  /** Which hyperparameter the momentum is: Adam-style `betas[0]` or `momentum` (null without cycleMomentum). */
  readonly momentumKey: 'betas' | 'momentum' | null;

  constructor(optimizer: AnyOptimizer, options: CyclicLROptions) {
    super('CyclicLR', optimizer);
    const op = 'CyclicLR';
    const o = LRScheduler.options<CyclicLROptions>(op, options, CYCLIC_KEYS);
    const groups = optimizer.paramGroups;
    const perGroup = (name: string, v: unknown): number | readonly number[] => {
      if (Array.isArray(v)) {
        if (v.length !== groups.length) throw new AxonError(op, `expected ${groups.length} values for ${name} (one per param group), got ${v.length}`);
        v.forEach((x, i) => checkNum(op, `${name}[${i}]`, x));
        return Object.freeze([...(v as number[])]);
      }
      checkNum(op, name, v);
      return v as number;
    };
    if (o.baseLr === undefined || o.maxLr === undefined) throw new AxonError(op, 'needs baseLr and maxLr (the lr boundaries)');
    this.baseLr = perGroup('baseLr', o.baseLr);
    this.maxLr = perGroup('maxLr', o.maxLr);
    const up = o.stepSizeUp ?? 2000;
    const down = o.stepSizeDown ?? up;
    if (typeof up !== 'number' || !Number.isFinite(up) || up <= 0) throw new AxonError(op, `stepSizeUp must be a finite number > 0, got ${fmtValue(up)}`);
    checkNum(op, 'stepSizeDown', down);
    this.totalSize = up + down;
    this.stepRatio = up / this.totalSize;
    const mode = o.mode ?? 'triangular';
    if (mode !== 'triangular' && mode !== 'triangular2' && mode !== 'exp_range') {
      throw new AxonError(op, `mode must be 'triangular', 'triangular2' or 'exp_range', got ${fmtValue(mode)}`);
    }
    this.mode = mode;
    this.gamma = o.gamma ?? 1;
    checkNum(op, 'gamma', this.gamma);
    if (o.cycleMomentum !== undefined && typeof o.cycleMomentum !== 'boolean') throw new AxonError(op, `cycleMomentum must be a boolean, got ${fmtValue(o.cycleMomentum)}`);
    this.cycleMomentum = o.cycleMomentum ?? true;
    this.baseMomentum = perGroup('baseMomentum', o.baseMomentum ?? 0.8);
    this.maxMomentum = perGroup('maxMomentum', o.maxMomentum ?? 0.9);
    if (this.cycleMomentum) {
      const d = optimizer.defaults as Readonly<Record<string, unknown>>;
      if ('momentum' in d) this.momentumKey = 'momentum';
      else if ('betas' in d) this.momentumKey = 'betas';
      else throw new AxonError(op, `the ${optimizer.name} optimizer has no momentum (nor betas) to cycle; pass cycleMomentum: false`);
    } else {
      this.momentumKey = null;
    }
    // PyTorch sets every group's lr to baseLr and uses it as the base lr: all or nothing
    const before = groups.map((g) => g.initialLr);
    try {
      groups.forEach((g, i) => (g.initialLr = CyclicLR.pick(this.baseLr, i)));
      this.apply();
    } catch (e) {
      groups.forEach((g, i) => (g.initialLr = before[i]));
      throw e;
    }
  }

  private static pick(v: number | readonly number[], i: number): number {
    return typeof v === 'number' ? v : v[i]!;
  }

  /** PyTorch's scale factor (where in the cycle) and amplitude scale after `t` steps. */
  private position(t: number): { scaleFactor: number; scale: number } {
    const cycle = Math.floor(1 + t / this.totalSize);
    const x = 1 + t / this.totalSize - cycle;
    const scaleFactor = x <= this.stepRatio ? x / this.stepRatio : (x - 1) / (this.stepRatio - 1);
    const scale = this.mode === 'triangular' ? 1 : this.mode === 'triangular2' ? 1 / Math.pow(2, cycle - 1) : Math.pow(this.gamma, t);
    return { scaleFactor, scale };
  }

  /**
   * The lr after `t` steps for group `index` (default 0), whose base lr is `baseLr` (its `baseLr`
   * option, which the constructor made its `initialLr`).
   * @example
   * ```ts
   * const sched = new CyclicLR(new SGD([tensor([1]).requireGrad()], { momentum: 0.9 }), { baseLr: 0.1, maxLr: 1, stepSizeUp: 4 });
   * sched.lrAt(2, 0.1) // 0.55
   * sched.lrAt(4, 0.1) // 1
   * ```
   */
  lrAt(t: number, baseLr: number, index = 0): number {
    if (typeof this.maxLr !== 'number' && index >= this.maxLr.length) {
      throw new AxonError(this.name, `maxLr has one value per param group (${this.maxLr.length}); a group added later (index ${index}) has none — give it as one number`);
    }
    const { scaleFactor, scale } = this.position(t);
    const baseHeight = (CyclicLR.pick(this.maxLr, index) - baseLr) * scaleFactor;
    return baseLr + baseHeight * scale;
  }

  protected override initGroup(g: ParamGroup<BaseHyperparams>, index: number): void {
    if (typeof this.baseLr !== 'number') {
      throw new AxonError(this.name, `baseLr has one value per param group (${this.baseLr.length}); a group added later (index ${index}) has none — give baseLr as one number`);
    }
    g.initialLr = this.baseLr;
  }

  protected override hyperAt(t: number, g: ParamGroup<BaseHyperparams>, index: number): Readonly<Record<string, HyperValue>> | undefined {
    if (this.momentumKey === null) return undefined;
    for (const [k, v] of [['baseMomentum', this.baseMomentum], ['maxMomentum', this.maxMomentum]] as const) {
      if (typeof v !== 'number' && index >= v.length) {
        throw new AxonError(this.name, `${k} has one value per param group (${v.length}); a group added later (index ${index}) has none — give it as one number`);
      }
    }
    const { scaleFactor, scale } = this.position(t);
    const maxM = CyclicLR.pick(this.maxMomentum, index);
    const m = maxM - (maxM - CyclicLR.pick(this.baseMomentum, index)) * scaleFactor * scale;
    if (!Number.isFinite(m) || m < 0 || (this.momentumKey === 'betas' && m >= 1)) {
      throw new AxonError(this.name, `the momentum of param group ${index} at step ${t} would be ${fmtValue(m)}; it must be ${this.momentumKey === 'betas' ? 'in [0, 1) (beta1)' : 'a finite number >= 0'} (no group was changed)`);
    }
    if (this.momentumKey === 'momentum') return { momentum: m };
    const betas = (g as unknown as { betas: readonly number[] }).betas;
    return { betas: [m, ...betas.slice(1)] };
  }
}
