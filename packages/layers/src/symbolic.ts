/**
 * Symbolic tensors: the placeholders of Keras's functional API.
 */
import { AxonError, type DType, fmtValue, isDType } from '@axon/core';
import { checkExampleShape, optName, optionsOf } from './validate.js';
import type { Module } from './module.js';

/**
 * A shape whose batch axis (and possibly others) is unknown: `null`.
 * @example
 * const s: SymbolicShape = [null, 784]; // null: the batch axis, any size
 * new Dense(10).computeOutputShape(s) // [null, 10]
 */
export type SymbolicShape = readonly (number | null)[];

let nextId = 1;

/**
 * A placeholder flowing through a functional model definition: it carries a shape (batch axis
 * `null`), a dtype, and the layer call that produced it. Create one with {@link input}; calling a
 * layer on it (`layer.call(x)`) returns another.
 * @example
 * const x = input({ shape: [10] });
 * const h = new Dense(5, { activation: 'relu' }).call(x); // SymbolicTensor [null, 5]
 * h instanceof SymbolicTensor // true
 * h.shape // [null, 5]
 * x.shape // [null, 10]
 */
export class SymbolicTensor {
  /** Unique id, in creation order. */
  readonly id = nextId++;
  /**
   * @param shape the shape with the batch axis `null`
   * @param dtype the element type
   * @param layer the module whose call produced it (`null` for an input)
   * @param inputs the symbolic inputs of that call
   * @param name the input's name (inputs only)
   */
  /**
   * Which output of its node it is: 0 for a layer's (first) output, `k` for the k-th of a layer
   * returning several (a recurrent layer's states with `returnState`: `[output, h, c]`).
   */
  readonly outputIndex: number = 0;
  /** The node's first output: the tensor that stands for the layer call (itself when `outputIndex` is 0). */
  readonly node: SymbolicTensor = this;
  /** Every output of the node, in order (`[this]` for a one-output call); set on the node's first output. */
  readonly outputs: readonly SymbolicTensor[] = [this];
  /**
   * How many of `inputs`, at the end, are the call's `initialState` (0: none): the node runs as
   * `layer.call(x, { mask?, initialState })`.
   */
  readonly stateInputs: number = 0;

  /**
   * @param shape the shape with the batch axis `null`
   * @param dtype the element type
   * @param layer the module whose call produced it (`null` for an input)
   * @param inputs the symbolic inputs of that call
   * @param name the input's name (inputs only)
   */
  constructor(
    readonly shape: SymbolicShape,
    readonly dtype: DType,
    readonly layer: Module | null,
    readonly inputs: readonly SymbolicTensor[],
    readonly name?: string,
  ) {}

  /**
   * @internal The outputs of one layer call returning several tensors (see
   * {@link SymbolicTensor.outputIndex}); the last `stateInputs` inputs are its `initialState`.
   */
  static node(shapes: readonly SymbolicShape[], layer: Module, inputs: readonly SymbolicTensor[], stateInputs: number): SymbolicTensor[] {
    const first = new SymbolicTensor(shapes[0]!, 'float32', layer, inputs);
    const outs = [first, ...shapes.slice(1).map((s) => new SymbolicTensor(s, 'float32', layer, inputs))];
    outs.forEach((o, i) => Object.assign(o as { outputIndex: number; node: SymbolicTensor; stateInputs: number }, { outputIndex: i, node: first, stateInputs }));
    (first as { outputs: readonly SymbolicTensor[] }).outputs = outs;
    return outs;
  }

  /** A short description, e.g. `SymbolicTensor([null,5] from dense)`. */
  toString(): string {
    return `SymbolicTensor([${this.shape.map((d) => d ?? 'null').join(',')}] from ${this.layer ? this.layer.name : (this.name ?? 'input')}${this.outputIndex ? ` output ${this.outputIndex}` : ''})`;
  }
}

/**
 * Whether `x` is a {@link SymbolicTensor}.
 * @example isSymbolic(input({ shape: [3] })) // true
 */
export function isSymbolic(x: unknown): x is SymbolicTensor {
  return x instanceof SymbolicTensor;
}

/**
 * Options of {@link input}.
 * @example
 * const opts: InputOptions = { shape: [28, 28], name: 'image' };
 * input(opts).name // 'image'
 * input({ shape: [12], dtype: 'int32' }).dtype // 'int32'
 */
export interface InputOptions {
  /** The shape of one example (without the batch axis). */
  shape: readonly number[];
  /** Element type (default float32; int32 for token ids fed to an Embedding). */
  dtype?: DType;
  /** A name for the input (default `input`, `input_1`, …). */
  name?: string;
}

let inputCount = 0;

/**
 * Creates a symbolic input for a functional model (Keras's `keras.Input`).
 * @example
 * const x = input({ shape: [10] });
 * const y = new Dense(1).call(new Dense(5, { activation: 'relu' }).call(x));
 * const m = model({ inputs: x, outputs: y });
 * m.predict(randn([4, 10])).shape // [4, 1]
 */
export function input(opts: InputOptions): SymbolicTensor {
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts) || !Array.isArray(opts.shape)) throw new AxonError('input', `expects { shape: number[] } (the shape of one example, without the batch axis), got ${fmtValue(opts)}`);
  const o = optionsOf<InputOptions>('input', opts, ['shape', 'dtype', 'name']);
  const shape = checkExampleShape('input', 'shape', o.shape);
  if (o.dtype !== undefined && !isDType(o.dtype)) throw new AxonError('input', `dtype must be float32, int32 or bool, got ${fmtValue(o.dtype)}`);
  const given = optName('input', o.name);
  const name = given ?? (inputCount++ === 0 ? 'input' : `input_${inputCount - 1}`);
  return new SymbolicTensor([null, ...shape], o.dtype ?? 'float32', null, [], name);
}
