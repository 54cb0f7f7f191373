/**
 * `compile`'s settings: a {@link CompileConfig} checked and resolved (loss, metrics, optimizer),
 * and the form `model.json` saves them in ({@link SavedCompileConfig}, Keras's `compile_config`).
 */
import { AxonError, fmtValue } from '@axon/core';
import { optimizer as makeOptimizer, Optimizer, type OptimizerConfig } from '@axon/optimizers';
import { type LossConfig, type LossFn, type LossSpec, getLoss } from './losses.js';
import { type MetricFn, type MetricSpec, getMetric } from './metrics.js';
import { optionsOf } from './validate.js';

/**
 * Options of {@link Model.compile}.
 * @example
 * const net = sequential([new Dense(3, { inputShape: [4], activation: 'softmax' })]);
 * const config: CompileConfig = { optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] };
 * net.compile(config);
 * const logs = await net.evaluate(randn([8, 4]), randint(0, 3, [8]));
 * Object.keys(logs) // ['loss', 'accuracy']
 */
export interface CompileConfig {
  /** An optimizer name (`'adam'`, `'sgd'`, …, Keras defaults), a config `{ name, learningRate, … }`, or an Optimizer. */
  optimizer: string | OptimizerConfig | Optimizer;
  /** A Keras loss name, a config `{ name, fromLogits }`, or a function (yPred, yTrue) → scalar. */
  loss: string | LossConfig | LossFn;
  /** Metric names (`'accuracy'`, `'mse'`, …) or functions. */
  metrics?: readonly (string | MetricFn | MetricSpec)[];
}

/** @internal A model's compile settings, resolved. */
export interface Compiled {
  loss: LossSpec;
  metrics: MetricSpec[];
  optimizerSpec: string | OptimizerConfig | Optimizer;
  /** The loss as given when it is a name or config (what `model.json` can hold), null for a function. */
  lossJson: string | LossConfig | null;
  /** The metrics given by name. */
  metricNames: string[];
  /** The loss and metrics given as functions (they cannot be saved). */
  unsaved: string[];
}

/**
 * A model's compile settings as `model.json` stores them (Keras's `compile_config`): what
 * {@link Model.getCompileConfig} returns and {@link Model.compileFromConfig} (and so `loadModel`)
 * restores. Functions cannot be saved: a loss or metric given as a function, or an optimizer of a
 * class `optimizer()` cannot rebuild, is left out and named in `unsaved`.
 * @example
 * const net = sequential([new Dense(3, { inputShape: [4], activation: 'softmax' })]);
 * const f1: MetricFn = (p, t) => accuracy(p, t);
 * net.compile({ optimizer: { name: 'sgd', learningRate: 0.1 }, loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy', f1] });
 * const saved: SavedCompileConfig = net.getCompileConfig()!;
 * saved.optimizer // { name: 'sgd', lr: 0.1, momentum: 0 }
 * saved.loss // 'sparseCategoricalCrossentropy'
 * saved.metrics // ['accuracy']
 * saved.unsaved // ["metric 'f1' (a function)"]
 */
export interface SavedCompileConfig {
  /**
   * The optimizer's settings as `optimizer()` (from `@axon/optimizers`) rebuilds them (its constructor settings, every
   * hyperparameter explicit), or null when it cannot be saved.
   */
  readonly optimizer: OptimizerConfig | null;
  /** The loss name or config, or null when it was a function. */
  readonly loss: string | LossConfig | null;
  /** The metrics given by name (functions are left out). */
  readonly metrics: readonly string[];
  /** What was left out, e.g. `"loss 'huber' (a function)"`: compile again with it after loading. */
  readonly unsaved: readonly string[];
}

/** The name of a function for messages. */
function fnName(f: (...args: never[]) => unknown): string {
  return typeof f.name === 'string' && f.name !== '' ? f.name : 'anonymous';
}

/** A JSON value read from a file, checked as a {@link SavedCompileConfig} (names not resolved yet). */
function checkSavedCompile(op: string, raw: unknown): SavedCompileConfig {
  const bad = (what: string): never => {
    throw new AxonError(op, `the saved compile settings are malformed: ${what}`);
  };
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) bad(`expected an object { optimizer, loss, metrics, unsaved }, got ${fmtValue(raw)}`);
  const o = raw as Record<string, unknown>;
  const opt = o['optimizer'];
  if (opt !== null && (typeof opt !== 'object' || Array.isArray(opt) || typeof (opt as { name?: unknown }).name !== 'string')) bad(`optimizer must be null or a config { name, ... }, got ${fmtValue(opt)}`);
  const loss = o['loss'];
  if (loss !== null && typeof loss !== 'string' && (typeof loss !== 'object' || Array.isArray(loss) || typeof (loss as { name?: unknown }).name !== 'string')) bad(`loss must be null, a name or a config { name, ... }, got ${fmtValue(loss)}`);
  const strings = (k: string): string[] => {
    const v = o[k] ?? [];
    if (!Array.isArray(v) || !v.every((e) => typeof e === 'string')) bad(`${k} must be a list of strings, got ${fmtValue(v)}`);
    return [...(v as string[])];
  };
  return { optimizer: opt as OptimizerConfig | null, loss: loss as string | LossConfig | null, metrics: strings('metrics'), unsaved: strings('unsaved') };
}

/**
 * @internal Checks and resolves {@link CompileConfig} for `op` (`Model.compile`): names are
 * resolved now, an optimizer name or config is validated (with no parameters); nothing changes.
 */
export function resolveCompile(op: string, config: CompileConfig): Compiled {
  if (config === null || typeof config !== 'object') throw new AxonError(op, `expects { optimizer, loss, metrics? }, got ${fmtValue(config)}`);
  optionsOf<CompileConfig>(op, config, ['optimizer', 'loss', 'metrics']);
  if (config.optimizer === undefined) throw new AxonError(op, "an optimizer is required (e.g. 'adam')");
  if (config.loss === undefined) throw new AxonError(op, "a loss is required (e.g. 'sparseCategoricalCrossentropy')");
  if (config.metrics !== undefined && !Array.isArray(config.metrics)) throw new AxonError(op, `metrics must be a list of names or functions, got ${fmtValue(config.metrics)}`);
  const loss = getLoss(config.loss);
  const metrics = (config.metrics ?? []).map((m) => getMetric(m));
  if (typeof config.optimizer === 'string' || (!(config.optimizer instanceof Optimizer) && typeof config.optimizer === 'object')) {
    // validate the name now (with no parameters)
    const probe = makeOptimizer(config.optimizer as string | OptimizerConfig, []);
    probe.dispose();
  } else if (!(config.optimizer instanceof Optimizer)) {
    throw new AxonError(op, `optimizer must be a name, a config { name, ... } or an Optimizer, got ${fmtValue(config.optimizer)}`);
  } else if (config.optimizer.isDisposed) {
    throw new AxonError(op, `the ${config.optimizer.name} optimizer was disposed`);
  }
  const unsaved: string[] = [];
  let lossJson: string | LossConfig | null;
  if (typeof config.loss === 'function') {
    lossJson = null;
    unsaved.push(`loss '${fnName(config.loss)}' (a function)`);
  } else lossJson = typeof config.loss === 'string' ? config.loss : { ...config.loss };
  const metricNames: string[] = [];
  for (const m of config.metrics ?? []) {
    if (typeof m === 'string') metricNames.push(m);
    else unsaved.push(`metric '${typeof m === 'function' ? fnName(m) : m.name}' (a function)`);
  }
  return { loss, metrics, optimizerSpec: config.optimizer, lossJson, metricNames, unsaved };
}

/**
 * @internal The saved form of `c` (see `Model.getCompileConfig`), the optimizer taken from `spec`
 * (the model's optimizer, or the one `c` was given).
 */
export function savedCompileConfig(c: Compiled, spec: string | OptimizerConfig | Optimizer): SavedCompileConfig {
  const unsaved = [...c.unsaved];
  let optimizer: OptimizerConfig | null = null;
  try {
    if (spec instanceof Optimizer) optimizer = spec.getConfig();
    else {
      const probe = makeOptimizer(spec, []);
      try {
        optimizer = probe.getConfig();
      } finally {
        probe.dispose();
      }
    }
    makeOptimizer(optimizer, []).dispose(); // what is saved must load
  } catch {
    optimizer = null;
    unsaved.unshift(`optimizer '${spec instanceof Optimizer ? spec.name : String((spec as { name?: unknown }).name ?? spec)}' (a class optimizer() cannot rebuild)`);
  }
  return { optimizer, loss: c.lossJson === null ? null : typeof c.lossJson === 'string' ? c.lossJson : { ...c.lossJson }, metrics: [...c.metricNames], unsaved };
}

/**
 * @internal Checks saved compile settings (`Model.compileFromConfig`) and resolves every name in
 * them (an unknown one is an AxonError) before anything changes.
 */
export function resolveSavedCompile(op: string, config: SavedCompileConfig): SavedCompileConfig {
  const c = checkSavedCompile(op, config);
  // resolve every name before anything changes (an unknown one is an AxonError)
  if (c.loss !== null) getLoss(c.loss);
  for (const m of c.metrics) getMetric(m);
  if (c.optimizer !== null) makeOptimizer(c.optimizer, []).dispose();
  return c;
}

/** @internal The note said once when compiled from saved settings that left `unsaved` out. */
export function unsavedNote(unsaved: readonly string[]): string {
  return `${unsaved.join(', ')} could not be saved with the model and ${unsaved.length === 1 ? 'is' : 'are'} not used: call model.compile({ ... }) with ${unsaved.length === 1 ? 'it' : 'them'} to log ${unsaved.length === 1 ? 'it' : 'them'}`;
}

/** @internal The error of `op` on a model that is not compiled (`pending`: settings loaded without a loss or optimizer). */
export function notCompiledError(op: string, pending: SavedCompileConfig | null): AxonError {
  const p = pending;
  if (p) {
    const kept = [p.optimizer ? `optimizer ${JSON.stringify(p.optimizer)}` : null, p.loss !== null ? `loss ${JSON.stringify(p.loss)}` : null, p.metrics.length ? `metrics ${JSON.stringify(p.metrics)}` : null].filter((x) => x !== null);
    return new AxonError(op, `the model was loaded without complete compile settings: its ${p.unsaved.join(', ')} could not be saved. Call model.compile({ optimizer, loss, metrics }) again with ${p.unsaved.length === 1 ? 'it' : 'them'}${kept.length ? ` (the saved settings: ${kept.join(', ')})` : ''}`);
  }
  return new AxonError(op, "the model is not compiled: call model.compile({ optimizer: 'adam', loss: '...' }) first");
}
