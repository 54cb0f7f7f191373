/**
 * `optimizer(name | config, params)`: builds an optimizer from a Keras-style name or config, for
 * front ends such as Keras's `compile({ optimizer: 'adam' })`.
 */
import { AxonError, type Tensor, fmtValue } from '@axon/core';
import { Adagrad, type AdagradHyperparams } from './adagrad.js';
import { Adadelta, type AdadeltaHyperparams } from './adadelta.js';
import { Adam, AdamW, type AdamHyperparams } from './adam.js';
import { Adamax, type AdamaxHyperparams } from './adamax.js';
import { NAdam, type NAdamHyperparams } from './nadam.js';
import { type BaseHyperparams, type ClipOptions, Optimizer, type ParamGroupInput } from './optimizer.js';
import { RAdam, type RAdamHyperparams } from './radam.js';
import { RMSprop, type RMSpropHyperparams } from './rmsprop.js';
import { SGD, type SGDHyperparams } from './sgd.js';

/**
 * The optimizer names {@link optimizer} accepts (matched case-insensitively, so `'Adam'` works).
 * @example
 * ```ts
 * const n: OptimizerName = 'adamw';
 * optimizer(n).name // 'AdamW'
 * ```
 */
export type OptimizerName = 'sgd' | 'adam' | 'adamw' | 'rmsprop' | 'adagrad' | 'adamax' | 'nadam' | 'radam' | 'adadelta';

/**
 * Every name {@link optimizer} accepts, lower case.
 * @example
 * ```ts
 * OPTIMIZER_NAMES // ['sgd', 'adam', 'adamw', 'rmsprop', 'adagrad', 'adamax', 'nadam', 'radam', 'adadelta']
 * OPTIMIZER_NAMES.includes('adam') // true
 * ```
 */
export const OPTIMIZER_NAMES: readonly OptimizerName[] = Object.freeze(['sgd', 'adam', 'adamw', 'rmsprop', 'adagrad', 'adamax', 'nadam', 'radam', 'adadelta'] as const);

/**
 * Options {@link optimizer} accepts besides `name`. Both PyTorch-style names (`lr`, `eps`,
 * `betas`, `alpha`, `clipNorm`, …) and Keras-style names (`learningRate`, `epsilon`, `beta1`,
 * `beta2`, `rho`, `clipnorm`, `clipvalue`, `globalClipnorm`) are accepted; giving both spellings of
 * one option is an error, as is an option the chosen optimizer does not have.
 * @example
 * ```ts
 * const o: OptimizerOptions = { learningRate: 1e-3, epsilon: 1e-8 };
 * optimizer({ name: 'adam', ...o }).defaults // { lr: 1e-3, eps: 1e-8 }
 * optimizer({ name: 'adam', lr: 0.1, learningRate: 0.1 }) // throws: "both 'lr' and 'learningRate' were given"
 * optimizer({ name: 'sgd', ...o }) // throws: "'epsilon' is not an option of sgd"
 * ```
 */
export interface OptimizerOptions extends ClipOptions {
  /**
   * Which defaults fill unspecified options: `'keras'` (the default for this factory: Keras's
   * learning rates and epsilon 1e-7, see the README) or `'pytorch'` (the classes' own defaults).
   */
  defaults?: 'keras' | 'pytorch';
  lr?: number;
  learningRate?: number;
  weightDecay?: number;
  maximize?: boolean;
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
  betas?: readonly [number, number];
  beta1?: number;
  beta2?: number;
  eps?: number;
  epsilon?: number;
  amsgrad?: boolean;
  alpha?: number;
  rho?: number;
  centered?: boolean;
  lrDecay?: number;
  initialAccumulatorValue?: number;
  momentumDecay?: number;
  clipnorm?: number;
  clipvalue?: number;
  globalClipnorm?: number;
}

/**
 * A config for {@link optimizer}: a name plus options.
 * @example
 * ```ts
 * const c: OptimizerConfig = { name: 'adam', learningRate: 1e-2 };
 * const opt = optimizer(c);
 * opt.name // 'Adam'
 * opt.lr // 0.01
 * ```
 */
export interface OptimizerConfig extends OptimizerOptions {
  /** One of {@link OPTIMIZER_NAMES}, case-insensitive. */
  name: string;
}

/**
 * What the factory builds over: parameters, or param groups.
 * @example
 * ```ts
 * const w = tensor([1, 2]).requireGrad();
 * const b = tensor([0]).requireGrad();
 * const p: FactoryParams = [w, b];
 * optimizer('sgd', p).params.length // 2
 * const groups: FactoryParams = [{ params: [w] }, { params: [b], lr: 0.1 }];
 * optimizer('sgd', groups).paramGroups.map((g) => g.lr) // [0.01, 0.1]
 * ```
 */
export type FactoryParams = Iterable<Tensor> | Iterable<ParamGroupInput<BaseHyperparams>>;

/**
 * The defaults the factory uses for each name with `defaults: 'keras'` (Keras 3's). Options not
 * listed take the PyTorch defaults of the class.
 * @example
 * ```ts
 * KERAS_DEFAULTS.adam.eps // 1e-7
 * KERAS_DEFAULTS.sgd.lr // 0.01
 * ```
 */
export const KERAS_DEFAULTS: Readonly<Record<OptimizerName, Readonly<Record<string, number | boolean | readonly number[]>>>> = Object.freeze({
  sgd: { lr: 0.01, momentum: 0, nesterov: false },
  adam: { lr: 0.001, betas: [0.9, 0.999], eps: 1e-7 },
  adamw: { lr: 0.001, betas: [0.9, 0.999], eps: 1e-7, weightDecay: 0.004 },
  rmsprop: { lr: 0.001, alpha: 0.9, eps: 1e-7, momentum: 0, centered: false },
  adagrad: { lr: 0.001, initialAccumulatorValue: 0.1, eps: 1e-7 },
  adamax: { lr: 0.001, betas: [0.9, 0.999], eps: 1e-7 },
  nadam: { lr: 0.001, betas: [0.9, 0.999], eps: 1e-7 },
  // Keras has no RAdam: TensorFlow Addons' RectifiedAdam's
  radam: { lr: 0.001, betas: [0.9, 0.999], eps: 1e-7 },
  adadelta: { lr: 0.001, rho: 0.95, eps: 1e-7 },
});

const HYPER_KEYS: Readonly<Record<OptimizerName, readonly string[]>> = {
  sgd: ['lr', 'weightDecay', 'maximize', 'momentum', 'dampening', 'nesterov'],
  adam: ['lr', 'weightDecay', 'maximize', 'betas', 'eps', 'amsgrad'],
  adamw: ['lr', 'weightDecay', 'maximize', 'betas', 'eps', 'amsgrad'],
  rmsprop: ['lr', 'weightDecay', 'maximize', 'alpha', 'eps', 'momentum', 'centered'],
  adagrad: ['lr', 'weightDecay', 'maximize', 'lrDecay', 'initialAccumulatorValue', 'eps'],
  adamax: ['lr', 'weightDecay', 'maximize', 'betas', 'eps'],
  nadam: ['lr', 'weightDecay', 'betas', 'eps', 'momentumDecay'],
  radam: ['lr', 'weightDecay', 'betas', 'eps'],
  adadelta: ['lr', 'weightDecay', 'maximize', 'rho', 'eps'],
};

const ALIASES: Readonly<Record<string, string>> = {
  learningRate: 'lr',
  epsilon: 'eps',
  rho: 'alpha', // RMSprop's; Adadelta's rho is rho (see aliasOf)
  clipnorm: 'clipNorm',
  clipvalue: 'clipValue',
  globalClipnorm: 'globalClipNorm',
};
const CLIP_KEYS = ['clipNorm', 'clipValue', 'globalClipNorm'];
/** The names with Adam-style `betas`, which take Keras's `beta1`/`beta2`. */
const WITH_BETAS: readonly OptimizerName[] = ['adam', 'adamw', 'adamax', 'nadam', 'radam'];

/** The option `key` (a Keras or PyTorch spelling) means for optimizer `name`. */
function aliasOf(name: OptimizerName, key: string): string {
  if (name === 'adadelta' && key === 'rho') return 'rho';
  return Object.hasOwn(ALIASES, key) ? ALIASES[key]! : key;
}

/**
 * Builds an optimizer from a Keras-style name (`'sgd'`, `'adam'`, `'adamw'`, `'rmsprop'`,
 * `'adagrad'`, `'adamax'`, `'nadam'`, `'radam'`, `'adadelta'`, case-insensitive) or a config `{ name, ...options }`; an {@link Optimizer} instance
 * is returned as is. `params` may be empty (add them later with `addParamGroup`).
 *
 * Unspecified options take **Keras's defaults** (see {@link KERAS_DEFAULTS}: e.g. Adam's epsilon
 * 1e-7 and SGD's lr 0.01) unless `defaults: 'pytorch'` is given; the update rules are always
 * PyTorch's (e.g. epsilon is added outside the square root).
 *
 * @example
 * ```ts
 * const params = [tensor([1, 2]).requireGrad(), tensor([0]).requireGrad()];
 * const opt = optimizer('adam', params); // Keras defaults
 * opt.defaults // { lr: 0.001, eps: 1e-7 }
 * const opt2 = optimizer({ name: 'SGD', learningRate: 0.1, momentum: 0.9, nesterov: true }, params);
 * opt2.defaults // { lr: 0.1, momentum: 0.9, nesterov: true }
 * const opt3 = optimizer({ name: 'adamw', defaults: 'pytorch' }, params); // = new AdamW(params)
 * opt3.defaults // { lr: 0.001, eps: 1e-8, weightDecay: 0.01 }
 * optimizer(opt3) === opt3 // true
 * optimizer('adadelta', params).defaults // { lr: 0.001, rho: 0.95, eps: 1e-7 }
 * optimizer('lion') // throws: "unknown optimizer 'lion'"
 * ```
 */
export function optimizer(spec: 'sgd' | (OptimizerOptions & { name: 'sgd' }), params?: FactoryParams): SGD;
export function optimizer(spec: 'adam' | (OptimizerOptions & { name: 'adam' }), params?: FactoryParams): Adam;
export function optimizer(spec: 'adamw' | (OptimizerOptions & { name: 'adamw' }), params?: FactoryParams): AdamW;
export function optimizer(spec: 'rmsprop' | (OptimizerOptions & { name: 'rmsprop' }), params?: FactoryParams): RMSprop;
export function optimizer(spec: 'adagrad' | (OptimizerOptions & { name: 'adagrad' }), params?: FactoryParams): Adagrad;
export function optimizer(spec: 'adamax' | (OptimizerOptions & { name: 'adamax' }), params?: FactoryParams): Adamax;
export function optimizer(spec: 'nadam' | (OptimizerOptions & { name: 'nadam' }), params?: FactoryParams): NAdam;
export function optimizer(spec: 'radam' | (OptimizerOptions & { name: 'radam' }), params?: FactoryParams): RAdam;
export function optimizer(spec: 'adadelta' | (OptimizerOptions & { name: 'adadelta' }), params?: FactoryParams): Adadelta;
export function optimizer<O extends Optimizer<BaseHyperparams>>(spec: O): O;
export function optimizer(spec: string | OptimizerConfig | Optimizer<BaseHyperparams>, params?: FactoryParams): Optimizer<BaseHyperparams>;
export function optimizer(spec: string | OptimizerConfig | Optimizer<BaseHyperparams>, params: FactoryParams = []): Optimizer<BaseHyperparams> {
  const op = 'optimizer';
  if (spec instanceof Optimizer) return spec;
  let config: OptimizerConfig;
  if (typeof spec === 'string') config = { name: spec };
  else if (spec !== null && typeof spec === 'object' && !Array.isArray(spec) && typeof spec.name === 'string') config = spec;
  else throw new AxonError(op, `expects a name (${OPTIMIZER_NAMES.join(', ')}), a config { name, ...options } or an Optimizer, got ${fmtValue(spec)}`);
  const name = config.name.toLowerCase() as OptimizerName;
  if (!OPTIMIZER_NAMES.includes(name)) throw new AxonError(op, `unknown optimizer '${config.name}'; expected one of ${OPTIMIZER_NAMES.join(', ')}`);
  const { name: _name, defaults = 'keras', ...rest } = config;
  if (defaults !== 'keras' && defaults !== 'pytorch') throw new AxonError(op, `defaults must be 'keras' or 'pytorch', got ${fmtValue(defaults)}`);
  const allowed = new Set([...HYPER_KEYS[name], ...CLIP_KEYS]);
  const opts: Record<string, unknown> = defaults === 'keras' ? cloneDefaults(KERAS_DEFAULTS[name]) : {};
  const given = new Map<string, string>();
  let beta1: number | undefined;
  let beta2: number | undefined;
  for (const k0 of Reflect.ownKeys(rest)) {
    if (typeof k0 !== 'string') throw new AxonError(op, `option keys must be strings, got ${String(k0)}`);
    const v: unknown = (rest as Record<string, unknown>)[k0];
    if (v === undefined) continue;
    if (k0 === 'beta1' || k0 === 'beta2') {
      if (!WITH_BETAS.includes(name)) throw new AxonError(op, `'${k0}' is not an option of ${name}`);
      if (k0 === 'beta1') beta1 = v as number;
      else beta2 = v as number;
      continue;
    }
    // Own keys only: an option named 'constructor' or 'toString' must not find Object's methods.
    const k = aliasOf(name, k0);
    if (!allowed.has(k)) throw new AxonError(op, `'${k0}' is not an option of ${name}; it accepts ${[...allowed].join(', ')} (and Keras spellings)`);
    const prev = given.get(k);
    if (prev !== undefined) throw new AxonError(op, `both '${prev}' and '${k0}' were given`);
    given.set(k, k0);
    opts[k] = v;
  }
  if (beta1 !== undefined || beta2 !== undefined) {
    if (given.has('betas')) throw new AxonError(op, "give either 'betas' or 'beta1'/'beta2', not both");
    const base = (opts['betas'] as readonly number[] | undefined) ?? [0.9, 0.999];
    opts['betas'] = [beta1 ?? base[0]!, beta2 ?? base[1]!];
  }
  switch (name) {
    case 'sgd':
      return new SGD(params as Iterable<Tensor>, opts as Partial<SGDHyperparams> & ClipOptions);
    case 'adam':
      return new Adam(params as Iterable<Tensor>, opts as Partial<AdamHyperparams> & ClipOptions);
    case 'adamw':
      return new AdamW(params as Iterable<Tensor>, opts as Partial<AdamHyperparams> & ClipOptions);
    case 'rmsprop':
      return new RMSprop(params as Iterable<Tensor>, opts as Partial<RMSpropHyperparams> & ClipOptions);
    case 'adagrad':
      return new Adagrad(params as Iterable<Tensor>, opts as Partial<AdagradHyperparams> & ClipOptions);
    case 'adamax':
      return new Adamax(params as Iterable<Tensor>, opts as Partial<AdamaxHyperparams> & ClipOptions);
    case 'nadam':
      return new NAdam(params as Iterable<Tensor>, opts as Partial<NAdamHyperparams> & ClipOptions);
    case 'radam':
      return new RAdam(params as Iterable<Tensor>, opts as Partial<RAdamHyperparams> & ClipOptions);
    case 'adadelta':
      return new Adadelta(params as Iterable<Tensor>, opts as Partial<AdadeltaHyperparams> & ClipOptions);
  }
}

function cloneDefaults(d: Readonly<Record<string, number | boolean | readonly number[]>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(d)) out[k] = Array.isArray(v) ? [...(v as number[])] : v;
  return out;
}
