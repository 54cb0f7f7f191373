/**
 * `ReduceLROnPlateau`: lowers the lr when a monitored metric stops improving (PyTorch 1.13's
 * `torch.optim.lr_scheduler.ReduceLROnPlateau`). Not a closed-form schedule: it reacts to the
 * values passed to `step(metric)`, so it is its own class, not an `LRScheduler`.
 */
import { AxonError, fmtValue } from '@axon/core';
import { Optimizer } from './optimizer.js';
import type { AnyOptimizer } from './schedules.js';

/**
 * {@link ReduceLROnPlateau}'s options (PyTorch's keyword arguments, camel-cased, with its defaults).
 * @example
 * ```ts
 * const options: ReduceLROnPlateauOptions = { mode: 'max', factor: 0.5, patience: 2 };
 * const sched = new ReduceLROnPlateau(new SGD([tensor([1]).requireGrad()], { lr: 0.1 }), options);
 * sched.patience // 2
 * ```
 */
export interface ReduceLROnPlateauOptions {
  /** `'min'` (default): the metric should go down (a loss); `'max'`: up (an accuracy). */
  readonly mode?: 'min' | 'max';
  /** The lr is multiplied by `factor` (in [0, 1)) on a plateau; default 0.1. */
  readonly factor?: number;
  /** How many steps without improvement are tolerated; the next one reduces the lr. Default 10. */
  readonly patience?: number;
  /** How much better a value must be to count as an improvement; default 1e-4. */
  readonly threshold?: number;
  /** `'rel'` (default): better than `best·(1 ∓ threshold)`; `'abs'`: than `best ∓ threshold`. */
  readonly thresholdMode?: 'rel' | 'abs';
  /** Steps to wait after a reduction before counting bad steps again; default 0. */
  readonly cooldown?: number;
  /** A floor for the lr: one number, or one per param group; default 0. */
  readonly minLr?: number | readonly number[];
  /** A reduction smaller than `eps` is skipped; default 1e-8. */
  readonly eps?: number;
}

/**
 * What {@link ReduceLROnPlateau.stateDict} returns (JSON-able: an infinite `best` is written as
 * the string `'Infinity'` or `'-Infinity'`).
 * @example
 * ```ts
 * const sched = new ReduceLROnPlateau(new SGD([tensor([1]).requireGrad()], { lr: 0.1 }));
 * sched.step(0.5);
 * const state: ReduceLROnPlateauState = sched.stateDict();
 * JSON.stringify(state) // '{"scheduler":"ReduceLROnPlateau","lastEpoch":1,"best":0.5,"numBadEpochs":0,"cooldownCounter":0}'
 * ```
 */
export interface ReduceLROnPlateauState {
  readonly scheduler: 'ReduceLROnPlateau';
  readonly lastEpoch: number;
  readonly best: number | 'Infinity' | '-Infinity';
  readonly numBadEpochs: number;
  readonly cooldownCounter: number;
}

const KEYS = ['mode', 'factor', 'patience', 'threshold', 'thresholdMode', 'cooldown', 'minLr', 'eps'] as const;

function checkInt(op: string, name: string, x: unknown, min: number): void {
  if (typeof x !== 'number' || !Number.isInteger(x) || x < min) throw new AxonError(op, `${name} must be an integer >= ${min}, got ${fmtValue(x)}`);
}
function checkNum(op: string, name: string, x: unknown, min = 0): void {
  if (typeof x !== 'number' || !Number.isFinite(x) || x < min) throw new AxonError(op, `${name} must be a finite number >= ${min}, got ${fmtValue(x)}`);
}

/**
 * Reduces every group's lr by `factor` when the metric given to `step(metric)` has not improved
 * for more than `patience` steps, with PyTorch 1.13's semantics and defaults: `lr ← max(lr·factor,
 * minLr)` (skipped for a group when the change would be ≤ `eps`), then `cooldown` steps during
 * which bad steps are not counted. "Improved" means below `best·(1 − threshold)` in `'min'` mode
 * with `'rel'` thresholds (`best − threshold` with `'abs'`; above `best·(1 + threshold)` or
 * `best + threshold` in `'max'` mode).
 *
 * Call `step(metric)` once per epoch with the monitored value (e.g. the validation loss, read as a
 * number: `await loss.itemAsync()`). A metric that is not a number, or is NaN, is an
 * {@link AxonError} and changes nothing (PyTorch would count a NaN as a bad epoch); ±Infinity is
 * accepted, as in PyTorch. Groups added after construction keep their own lr until a reduction;
 * with a per-group `minLr` list the number of groups must stay equal to its length.
 * @example
 * ```ts
 * const opt = new SGD([tensor([1]).requireGrad()], { lr: 0.1 });
 * const sched = new ReduceLROnPlateau(opt, { patience: 1, factor: 0.5 });
 * const lrs: number[] = [];
 * for (const valLoss of [1, 0.9, 0.9, 0.9, 0.95, 0.8]) {
 *   sched.step(valLoss);
 *   lrs.push(opt.lr);
 * }
 * lrs // [0.1, 0.1, 0.1, 0.05, 0.05, 0.05]
 * sched.step(NaN) // throws: 'the metric must be a number, got NaN'
 * ```
 */
export class ReduceLROnPlateau {
  readonly name = 'ReduceLROnPlateau';
  readonly optimizer: AnyOptimizer;
  readonly mode: 'min' | 'max';
  readonly factor: number;
  readonly patience: number;
  readonly threshold: number;
  readonly thresholdMode: 'rel' | 'abs';
  readonly cooldown: number;
  /** The lr floor: one number, or one per param group, as given. */
  readonly minLr: number | readonly number[];
  readonly eps: number;
  /** Number of `step()` calls so far (PyTorch's `last_epoch`). */
  lastEpoch = 0;
  /** The best metric so far (`Infinity` in `'min'` mode, `-Infinity` in `'max'` mode before any). */
  best: number;
  /** Steps since the last improvement (not counted during cooldown). */
  numBadEpochs = 0;
  /** Steps of cooldown left. */
  cooldownCounter = 0;

  /**
   * @param optimizer the optimizer whose lrs it lowers
   * @param options see {@link ReduceLROnPlateauOptions}
   */
  constructor(optimizer: AnyOptimizer, options: ReduceLROnPlateauOptions = {}) {
    const op = 'ReduceLROnPlateau';
    if (!(optimizer instanceof Optimizer)) throw new AxonError(op, `expects an Optimizer, got ${fmtValue(optimizer)}`);
    if (optimizer.isDisposed) throw new AxonError(op, `the ${optimizer.name} optimizer was disposed`);
    if (options === null || typeof options !== 'object' || Array.isArray(options)) throw new AxonError(op, `options must be an object such as { patience: 5 }, got ${fmtValue(options)}`);
    for (const k of Reflect.ownKeys(options)) {
      if (typeof k !== 'string' || !(KEYS as readonly string[]).includes(k)) throw new AxonError(op, `unknown option ${typeof k === 'string' ? `'${k}'` : String(k)}; expected ${KEYS.join(', ')}`);
    }
    const mode = options.mode ?? 'min';
    if (mode !== 'min' && mode !== 'max') throw new AxonError(op, `mode must be 'min' or 'max', got ${fmtValue(mode)}`);
    const thresholdMode = options.thresholdMode ?? 'rel';
    if (thresholdMode !== 'rel' && thresholdMode !== 'abs') throw new AxonError(op, `thresholdMode must be 'rel' or 'abs', got ${fmtValue(thresholdMode)}`);
    const factor = options.factor ?? 0.1;
    if (typeof factor !== 'number' || !(factor >= 0 && factor < 1)) throw new AxonError(op, `factor must be in [0, 1) (PyTorch: "Factor should be < 1.0."), got ${fmtValue(factor)}`);
    const patience = options.patience ?? 10;
    checkInt(op, 'patience', patience, 0);
    const cooldown = options.cooldown ?? 0;
    checkInt(op, 'cooldown', cooldown, 0);
    const threshold = options.threshold ?? 1e-4;
    checkNum(op, 'threshold', threshold);
    const eps = options.eps ?? 1e-8;
    checkNum(op, 'eps', eps);
    const minLr: unknown = options.minLr ?? 0;
    if (Array.isArray(minLr)) {
      const n = optimizer.paramGroups.length;
      if (minLr.length !== n) throw new AxonError(op, `expected ${n} minLr values (one per param group), got ${minLr.length}`);
      minLr.forEach((x, i) => checkNum(op, `minLr[${i}]`, x));
      this.minLr = Object.freeze([...(minLr as number[])]);
    } else {
      checkNum(op, 'minLr', minLr);
      this.minLr = minLr as number;
    }
    this.optimizer = optimizer;
    this.mode = mode;
    this.thresholdMode = thresholdMode;
    this.factor = factor;
    this.patience = patience;
    this.cooldown = cooldown;
    this.threshold = threshold;
    this.eps = eps;
    this.best = this.modeWorse;
  }

  /** The initial `best`: `Infinity` in `'min'` mode, `-Infinity` in `'max'` mode. */
  private get modeWorse(): number {
    return this.mode === 'min' ? Infinity : -Infinity;
  }

  /**
   * Whether cooldown is running (`cooldownCounter > 0`): bad epochs are not counted.
   * @example
   * ```ts
   * const sched = new ReduceLROnPlateau(new SGD([tensor([1]).requireGrad()], { lr: 0.1 }), { patience: 0, cooldown: 2 });
   * sched.step(1);
   * sched.step(2); // reduces the lr and starts the cooldown
   * sched.inCooldown // true
   * ```
   */
  get inCooldown(): boolean {
    return this.cooldownCounter > 0;
  }

  /**
   * Whether `a` is an improvement over `best` (PyTorch's `is_better`).
   * @example
   * ```ts
   * const sched = new ReduceLROnPlateau(new SGD([tensor([1]).requireGrad()]), { threshold: 0.1 });
   * sched.isBetter(0.95, 1) // false: not below 1·(1 − 0.1)
   * sched.isBetter(0.85, 1) // true
   * ```
   */
  isBetter(a: number, best: number): boolean {
    if (this.mode === 'min' && this.thresholdMode === 'rel') return a < best * (1 - this.threshold);
    if (this.mode === 'min') return a < best - this.threshold;
    if (this.thresholdMode === 'rel') return a > best * (this.threshold + 1);
    return a > best + this.threshold;
  }

  /**
   * Records one epoch's metric, reducing the lrs after more than `patience` bad epochs. A metric
   * that is not a number (or is NaN) is an {@link AxonError} that changes nothing.
   * @example
   * ```ts
   * const opt = new Adam([tensor([1]).requireGrad()], { lr: 0.01 });
   * const sched = new ReduceLROnPlateau(opt, { mode: 'max', patience: 0 }); // e.g. an accuracy
   * sched.step(0.5);
   * sched.step(0.4); // worse: one bad epoch > patience 0
   * opt.lr // 0.001
   * sched.lastEpoch // 2
   * ```
   */
  step(metric: number): void {
    const op = `${this.name}.step`;
    if (typeof metric !== 'number' || Number.isNaN(metric)) {
      const hint = metric !== null && typeof metric === 'object' ? ' (read a tensor first: await t.itemAsync())' : '';
      throw new AxonError(op, `the metric must be a number, got ${fmtValue(metric)}${hint}; nothing was changed`);
    }
    if (this.optimizer.isDisposed) throw new AxonError(op, `the ${this.optimizer.name} optimizer was disposed`);
    const groups = this.optimizer.paramGroups;
    if (typeof this.minLr !== 'number' && this.minLr.length !== groups.length) {
      throw new AxonError(op, `minLr has ${this.minLr.length} values, the optimizer now has ${groups.length} param groups; nothing was changed`);
    }
    // compute the new state, then commit it
    let best = this.best;
    let bad = this.numBadEpochs;
    let cooldown = this.cooldownCounter;
    if (this.isBetter(metric, best)) {
      best = metric;
      bad = 0;
    } else {
      bad++;
    }
    if (cooldown > 0) {
      cooldown--;
      bad = 0; // bad epochs during cooldown are ignored
    }
    let lrs: number[] | null = null;
    if (bad > this.patience) {
      lrs = groups.map((g, i) => {
        const oldLr = g.lr;
        const newLr = Math.max(oldLr * this.factor, typeof this.minLr === 'number' ? this.minLr : this.minLr[i]!);
        return oldLr - newLr > this.eps ? newLr : oldLr;
      });
      cooldown = this.cooldown;
      bad = 0;
    }
    if (lrs) groups.forEach((g, i) => (g.lr = lrs[i]!));
    this.best = best;
    this.numBadEpochs = bad;
    this.cooldownCounter = cooldown;
    this.lastEpoch++;
  }

  /**
   * Each group's current lr.
   * @example
   * ```ts
   * const opt = new SGD([{ params: [tensor([1]).requireGrad()], lr: 0.1 }, { params: [tensor([2]).requireGrad()], lr: 0.01 }]);
   * const sched = new ReduceLROnPlateau(opt, { patience: 0, minLr: [0.05, 0] });
   * sched.step(1);
   * sched.step(2);
   * sched.getLastLr() // [0.05, 0.001]
   * ```
   */
  getLastLr(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }

  /**
   * The counters and the best metric (JSON-able). The lrs themselves are in the optimizer's state
   * dict; the settings come from the constructor.
   * @example
   * ```ts
   * const sched = new ReduceLROnPlateau(new SGD([tensor([1]).requireGrad()], { lr: 0.1 }), { patience: 3 });
   * sched.step(1);
   * sched.step(2);
   * sched.stateDict() // { scheduler: 'ReduceLROnPlateau', lastEpoch: 2, best: 1, numBadEpochs: 1, cooldownCounter: 0 }
   * ```
   */
  stateDict(): ReduceLROnPlateauState {
    const best = this.best === Infinity ? 'Infinity' : this.best === -Infinity ? '-Infinity' : this.best;
    return { scheduler: 'ReduceLROnPlateau', lastEpoch: this.lastEpoch, best, numBadEpochs: this.numBadEpochs, cooldownCounter: this.cooldownCounter };
  }

  /**
   * Restores {@link ReduceLROnPlateau.stateDict}'s output, validated first: on a mismatch, an
   * {@link AxonError} and nothing changed. Load the optimizer's state dict too (it holds the lrs).
   * @example
   * ```ts
   * const sched = new ReduceLROnPlateau(new SGD([tensor([1]).requireGrad()], { lr: 0.1 }));
   * sched.loadStateDict({ scheduler: 'ReduceLROnPlateau', lastEpoch: 4, best: 0.25, numBadEpochs: 2, cooldownCounter: 0 });
   * sched.best // 0.25
   * sched.loadStateDict({ scheduler: 'ReduceLROnPlateau', lastEpoch: 4, best: 'NaN' as unknown as number, numBadEpochs: 2, cooldownCounter: 0 }) // throws: 'best must be'
   * ```
   */
  loadStateDict(state: ReduceLROnPlateauState): void {
    const op = `${this.name}.loadStateDict`;
    if (state === null || typeof state !== 'object' || state.scheduler !== this.name) {
      const s: unknown = (state as { scheduler?: unknown } | null)?.scheduler;
      throw new AxonError(op, `the state is for ${typeof s === 'string' ? s : fmtValue(s)}, this is ${this.name}`);
    }
    checkInt(op, 'lastEpoch', state.lastEpoch, 0);
    checkInt(op, 'numBadEpochs', state.numBadEpochs, 0);
    checkInt(op, 'cooldownCounter', state.cooldownCounter, 0);
    const b: unknown = state.best;
    const best = b === 'Infinity' ? Infinity : b === '-Infinity' ? -Infinity : b;
    if (typeof best !== 'number' || Number.isNaN(best)) throw new AxonError(op, `best must be a number, 'Infinity' or '-Infinity', got ${fmtValue(b)}`);
    this.lastEpoch = state.lastEpoch;
    this.best = best;
    this.numBadEpochs = state.numBadEpochs;
    this.cooldownCounter = state.cooldownCounter;
  }
}

