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
import { type BaseHyperparams, Optimizer, type ParamGroup, setParamGroupHook } from './optimizer.js';

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
   * The lr after `t` calls to `step()` for a group whose base lr is `baseLr`.
   * @example
   * ```ts
   * const opt = new SGD([tensor([1]).requireGrad()], { lr: 0.1 });
   * const sched = new ExponentialLR(opt, { gamma: 0.5 });
   * sched.lrAt(2, 1) // 0.25
   * sched.lrAt(3, 0.1) // 0.0125
   * ```
   */
  abstract lrAt(t: number, baseLr: number): number;

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
    const lrs = this.optimizer.paramGroups.map((g, i) => {
      const lr = this.lrAt(t, g.initialLr ?? g.lr);
      if (typeof lr !== 'number' || !Number.isFinite(lr) || lr < 0) {
        throw new AxonError(this.name, `the learning rate of param group ${i} at step ${t} would be ${fmtValue(lr)}; it must be a finite number >= 0 (no group was changed)`);
      }
      return lr;
    });
    this.optimizer.paramGroups.forEach((g, i) => {
      baseLrOf(g);
      g.lr = lrs[i]!;
    });
    if (!this.hooked) {
      this.hooked = true;
      setParamGroupHook(this.optimizer, (g) => {
        const top = this.top();
        g.lr = top.lrAt(top.lastEpoch, baseLrOf(g));
      });
    }
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
  lrAt(t: number, baseLr: number): number {
    const target = (u: number) => (this.after ? this.after.lrAt(u, baseLr) : baseLr);
    if (t >= this.warmupSteps) return target(t - this.warmupSteps);
    return target(0) * (this.startFactor + ((1 - this.startFactor) * t) / this.warmupSteps);
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
  lrAt(t: number, baseLr: number): number {
    let i = 0;
    while (i < this.milestones.length && t >= this.milestones[i]!) i++;
    const start = i === 0 ? 0 : this.milestones[i - 1]!;
    return this.schedulers[i]!.lrAt(t - start, baseLr);
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
  lrAt(t: number, baseLr: number): number {
    if (baseLr === 0) return 0;
    let lr = baseLr;
    for (const s of this.schedulers) lr *= s.lrAt(t, baseLr) / baseLr;
    return lr;
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
