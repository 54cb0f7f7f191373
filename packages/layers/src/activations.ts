/**
 * Activations: functional forms (thin wrappers of core ops) and modules.
 */
import * as core from '@axon/core';
import { AxonError, type Tensor, fmtValue } from '@axon/core';
import { type LayerConfig, Module } from './module.js';
import type { SymbolicShape } from './symbolic.js';
import { checkFinite, checkInt, optName, optionsOf } from './validate.js';

/**
 * max(x, 0).
 * @example relu(tensor([-1, 2])) // [0, 2]
 */
export function relu(x: Tensor): Tensor {
  return core.relu(x);
}

/**
 * x for x > 0, alpha·x otherwise.
 * @example leakyRelu(tensor([-2, 3]), 0.1) // [-0.2, 3]
 */
export function leakyRelu(x: Tensor, alpha = 0.01): Tensor {
  return core.leakyRelu(x, alpha);
}

/**
 * 1/(1+e^−x), stable for any x.
 * @example sigmoid(tensor([0])) // [0.5]
 */
export function sigmoid(x: Tensor): Tensor {
  return core.sigmoid(x);
}

/**
 * Hyperbolic tangent.
 * @example tanh(tensor([0])) // [0]
 */
export function tanh(x: Tensor): Tensor {
  return core.tanh(x);
}

/**
 * Softmax along `axis` (last by default), computed stably.
 * @example softmax(tensor([[1, 1]])) // [[0.5, 0.5]]
 */
export function softmax(x: Tensor, axis = -1): Tensor {
  return core.softmax(x, axis);
}

/**
 * log(softmax(x)) along `axis`, computed stably.
 * @example logSoftmax(tensor([0, 0])) // [-0.693, -0.693]
 */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  return core.logSoftmax(x, axis);
}

/**
 * GELU (exact, erf form).
 * @example gelu(tensor([0])) // [0]
 */
export function gelu(x: Tensor): Tensor {
  return core.gelu(x);
}

/**
 * log(1 + eˣ), stable.
 * @example softplus(tensor([0])) // [0.693]
 */
export function softplus(x: Tensor): Tensor {
  return core.softplus(x);
}

/**
 * Activation names accepted by `Dense({ activation })` and {@link getActivation}.
 * @example
 * const a: ActivationName = 'relu';
 * getActivation(a)(tensor([-1, 1])) // [0, 1]
 */
export type ActivationName = 'linear' | 'relu' | 'sigmoid' | 'tanh' | 'softmax' | 'logSoftmax' | 'gelu' | 'leakyRelu' | core.TableOpName;

const ACTIVATIONS: Readonly<Record<ActivationName, (x: Tensor) => Tensor>> = {
  // every op of core's op table (softplus, silu, mish, hardSigmoid, hardSwish, softsign, …)
  ...core.TABLE_FUNCTIONS,
  linear: (x) => x,
  relu,
  sigmoid,
  tanh,
  softmax: (x) => softmax(x),
  logSoftmax: (x) => logSoftmax(x),
  gelu,
  leakyRelu: (x) => leakyRelu(x),
};

/** Other names Keras and PyTorch users write for the same activations. */
const ALIASES: Readonly<Record<string, ActivationName>> = { swish: 'silu', hardsigmoid: 'hardSigmoid', hardswish: 'hardSwish', logsigmoid: 'logSigmoid' };

/**
 * Every activation name, for messages and validation.
 * @example ACTIVATION_NAMES.includes('relu') // true
 */
export const ACTIVATION_NAMES: readonly ActivationName[] = Object.freeze(Object.keys(ACTIVATIONS) as ActivationName[]);

/**
 * Normalises an activation name (accepts Keras snake_case such as `'leaky_relu'`, `'log_softmax'`,
 * `'hard_sigmoid'`, and `'swish'` for `'silu'`; `null`/`undefined` → `'linear'`).
 * @example
 * activationName('leaky_relu') // 'leakyRelu'
 * activationName('swish') // 'silu'
 */
export function activationName(name: string | null | undefined, op = 'activation'): ActivationName {
  if (name === null || name === undefined) return 'linear';
  if (typeof name !== 'string') throw new AxonError(op, `activation must be a name (${ACTIVATION_NAMES.join(', ')}), got ${fmtValue(name)}`);
  const camel = name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
  // Own keys only: 'toString' or 'constructor' must not resolve through the prototype chain.
  if (Object.hasOwn(ACTIVATIONS, camel)) return camel as ActivationName;
  if (Object.hasOwn(ALIASES, camel)) return ALIASES[camel]!;
  throw new AxonError(op, `unknown activation ${JSON.stringify(name)}; expected one of ${ACTIVATION_NAMES.join(', ')}`);
}

/**
 * The function of an activation name.
 * @example getActivation('tanh')(tensor([0, 100])) // [0, 1]
 */
export function getActivation(name: string | null | undefined): (x: Tensor) => Tensor {
  return ACTIVATIONS[activationName(name)];
}

/** Base of the activation modules: shape-preserving, no parameters. */
abstract class ActivationModule extends Module {
  override computeOutputShape(...shapes: SymbolicShape[]): SymbolicShape {
    return shapes[0]!;
  }
}

/**
 * ReLU as a module.
 * @example
 * new ReLU().call(tensor([-1, 2])) // [0, 2]
 * const net = new Sequential(new Linear(4, 8), new ReLU());
 * net.call(randn([3, 4])).shape // [3, 8]
 */
export class ReLU extends ActivationModule {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'ReLU';
  forward(x: Tensor): Tensor {
    return relu(x);
  }
}

/**
 * Sigmoid as a module.
 * @example new Sigmoid().call(tensor([0])) // [0.5]
 */
export class Sigmoid extends ActivationModule {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'Sigmoid';
  forward(x: Tensor): Tensor {
    return sigmoid(x);
  }
}

/**
 * Tanh as a module.
 * @example new Tanh().call(tensor([0])) // [0]
 */
export class Tanh extends ActivationModule {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'Tanh';
  forward(x: Tensor): Tensor {
    return tanh(x);
  }
}

/**
 * GELU as a module.
 * @example new GELU().call(tensor([0, 1])) // [0, 0.8413]
 */
export class GELU extends ActivationModule {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'GELU';
  forward(x: Tensor): Tensor {
    return gelu(x);
  }
}

/**
 * Options of {@link Softmax} / {@link LogSoftmax}.
 * @example
 * const opts: SoftmaxOptions = { axis: 0 };
 * new Softmax(opts).call(tensor([[1, 5], [1, 5]])) // [[0.5, 0.5], [0.5, 0.5]]
 */
export interface SoftmaxOptions {
  /** The axis normalised over (default −1). */
  axis?: number;
  /** Layer name. */
  name?: string;
}

/**
 * Softmax as a module (over `axis`, default last).
 * @example new Softmax().call(tensor([[0, 0, 0, 0]])) // [[0.25, 0.25, 0.25, 0.25]]
 */
export class Softmax extends ActivationModule {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'Softmax';
  /** The axis normalised over. */
  readonly axis: number;
  constructor(opts: SoftmaxOptions | number = {}) {
    const o = typeof opts === 'number' ? { axis: opts } : optionsOf<SoftmaxOptions>('Softmax', opts, ['axis', 'name']);
    const axis = checkInt('Softmax', 'axis', o.axis ?? -1, -64, 64);
    super(optName('Softmax', o.name));
    this.axis = axis;
  }
  forward(x: Tensor): Tensor {
    return softmax(x, this.axis);
  }
  override getConfig(): LayerConfig {
    return { axis: this.axis };
  }
}

/**
 * log-softmax as a module.
 * @example new LogSoftmax().call(tensor([[0, 0]])) // [[-0.6931, -0.6931]]
 */
export class LogSoftmax extends ActivationModule {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'LogSoftmax';
  /** The axis normalised over. */
  readonly axis: number;
  constructor(opts: SoftmaxOptions | number = {}) {
    const o = typeof opts === 'number' ? { axis: opts } : optionsOf<SoftmaxOptions>('LogSoftmax', opts, ['axis', 'name']);
    const axis = checkInt('LogSoftmax', 'axis', o.axis ?? -1, -64, 64);
    super(optName('LogSoftmax', o.name));
    this.axis = axis;
  }
  forward(x: Tensor): Tensor {
    return logSoftmax(x, this.axis);
  }
  override getConfig(): LayerConfig {
    return { axis: this.axis };
  }
}

/**
 * Options of {@link LeakyReLU}.
 * @example
 * const opts: LeakyReLUOptions = { alpha: 0.2 };
 * new LeakyReLU(opts).alpha // 0.2
 */
export interface LeakyReLUOptions {
  /** Slope for x < 0 (default 0.01, PyTorch's `negative_slope`). */
  alpha?: number;
  /** Layer name. */
  name?: string;
}

/**
 * Leaky ReLU as a module.
 * @example new LeakyReLU({ alpha: 0.2 }).call(tensor([-1, 2])) // [-0.2, 2]
 */
export class LeakyReLU extends ActivationModule {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'LeakyReLU';
  /** Slope for x < 0. */
  readonly alpha: number;
  constructor(opts: LeakyReLUOptions | number = {}) {
    const o = typeof opts === 'number' ? { alpha: opts } : optionsOf<LeakyReLUOptions>('LeakyReLU', opts, ['alpha', 'name']);
    const alpha = checkFinite('LeakyReLU', 'alpha', o.alpha ?? 0.01);
    super(optName('LeakyReLU', o.name));
    this.alpha = alpha;
  }
  forward(x: Tensor): Tensor {
    return leakyRelu(x, this.alpha);
  }
  override getConfig(): LayerConfig {
    return { alpha: this.alpha };
  }
}

/**
 * Options of {@link Activation}.
 * @example
 * const opts: ActivationOptions = { activation: 'leaky_relu', name: 'act' };
 * new Activation(opts).activation // 'leakyRelu'
 */
export interface ActivationOptions {
  /** The activation's name. */
  activation: string;
  /** Layer name. */
  name?: string;
}

/**
 * A named activation as a layer (Keras's `layers.Activation`).
 * @example new Activation('softmax').call(tensor([[1, 1]])) // [[0.5, 0.5]]
 */
export class Activation extends ActivationModule {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'Activation';
  /** The activation's canonical name. */
  readonly activation: ActivationName;
  private readonly fn: (x: Tensor) => Tensor;
  constructor(opts: ActivationOptions | string) {
    const o = typeof opts === 'string' ? { activation: opts } : optionsOf<ActivationOptions>('Activation', opts, ['activation', 'name']);
    if (typeof o.activation !== 'string') throw new AxonError('Activation', `expects an activation name (${ACTIVATION_NAMES.join(', ')}), got ${fmtValue(o.activation)}`);
    const activation = activationName(o.activation, 'Activation');
    super(optName('Activation', o.name));
    this.activation = activation;
    this.fn = ACTIVATIONS[this.activation];
  }
  forward(x: Tensor): Tensor {
    return this.fn(x);
  }
  override getConfig(): LayerConfig {
    return { activation: this.activation };
  }
}
