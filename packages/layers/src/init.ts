/**
 * Weight initialisers, seeded through core's RNG (`setSeed`), with Keras and PyTorch names.
 */
import { AxonError, type Tensor, concat, fmtShape, fmtValue, full, rand, randn, tidy, validateShape } from '@axon/core';
import { optionsOf } from './validate.js';

/**
 * Options of an initialiser call.
 * @example
 * const opts: InitOptions = { fanIn: 3, fanOut: 4, seed: 1 };
 * const a = glorotUniform([3, 4], opts);
 * const b = glorotUniform([3, 4], opts); // the same seed: the same values
 * a.sub(b).abs().max() // 0
 */
export interface InitOptions {
  /** Inputs per output unit (default: computed from the shape, see {@link fans}). */
  fanIn?: number;
  /** Outputs per input unit. */
  fanOut?: number;
  /** A seed for this call alone (otherwise the global stream set by `setSeed`). */
  seed?: number;
}

/**
 * An initialiser: makes a float32 tensor of `shape`.
 * @example
 * const halfOnes: InitFn = (shape) => ones(shape).mul(0.5);
 * const d = new Dense(2, { inputShape: [3], kernelInitializer: halfOnes });
 * d.call(ones([1, 3])) // [[1.5, 1.5]]
 */
export type InitFn = (shape: readonly number[], opts?: InitOptions) => Tensor;

/**
 * The initialiser names {@link getInitializer} accepts.
 * @example
 * const n: InitializerName = 'heNormal';
 * getInitializer(n)([64, 32]).shape // [64, 32]
 */
export type InitializerName = 'glorotUniform' | 'glorotNormal' | 'heUniform' | 'heNormal' | 'lecunUniform' | 'lecunNormal' | 'orthogonal' | 'zeros' | 'ones';

/**
 * An initialiser given by name or as a function.
 * @example
 * const byName: Initializer = 'heNormal';
 * const byFunction: Initializer = (shape) => zeros(shape);
 * new Dense(4, { inputShape: [2], kernelInitializer: byName, biasInitializer: byFunction }).bias // [0, 0, 0, 0]
 */
export type Initializer = InitializerName | InitFn;

/**
 * Fan-in and fan-out of a weight shape: `[in, out]` for 2-D (Keras kernel layout), and for
 * convolution kernels `[outC, inC, kH, kW]` → fanIn = inC·kH·kW, fanOut = outC·kH·kW.
 * @example fans([784, 128]) // { fanIn: 784, fanOut: 128 }
 */
export function fans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  validateShape('fans', shape);
  if (shape.length === 0) return { fanIn: 1, fanOut: 1 };
  if (shape.length === 1) return { fanIn: shape[0]!, fanOut: shape[0]! };
  if (shape.length === 2) return { fanIn: shape[0]!, fanOut: shape[1]! };
  const rf = shape.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: shape[1]! * rf, fanOut: shape[0]! * rf };
}

function fanOf(shape: readonly number[], opts: InitOptions): { fanIn: number; fanOut: number } {
  const o = optionsOf<InitOptions>('init', opts, ['fanIn', 'fanOut', 'seed']);
  validateShape('init', shape);
  const f = fans(shape);
  const fanIn: unknown = o.fanIn ?? f.fanIn;
  const fanOut: unknown = o.fanOut ?? f.fanOut;
  if (typeof fanIn !== 'number' || typeof fanOut !== 'number' || !(fanIn > 0 && fanOut > 0 && Number.isFinite(fanIn) && Number.isFinite(fanOut))) {
    throw new AxonError('init', `fanIn/fanOut must be positive finite numbers, got ${fmtValue(fanIn)}/${fmtValue(fanOut)} for ${fmtShape(shape)}`);
  }
  if (o.seed !== undefined && (typeof o.seed !== 'number' || !Number.isFinite(o.seed))) throw new AxonError('init', `seed must be a finite number, got ${fmtValue(o.seed)}`);
  return { fanIn, fanOut };
}

function uniform(shape: readonly number[], limit: number, seed: number | undefined): Tensor {
  return rand(shape, { low: -limit, high: limit, ...(seed !== undefined ? { seed } : {}) });
}

function normal(shape: readonly number[], std: number, seed: number | undefined): Tensor {
  return randn(shape, { mean: 0, std, ...(seed !== undefined ? { seed } : {}) });
}

/**
 * Glorot/Xavier uniform: U(±√(6/(fanIn+fanOut))). Keras's default kernel initialiser.
 * @example
 * const w = glorotUniform([784, 128]); // U(−l, l), l = √(6 / (fanIn + fanOut))
 * w.shape // [784, 128]
 * w.abs().max().item() <= Math.sqrt(6 / (784 + 128)) // true
 */
export const glorotUniform: InitFn = (shape, o = {}) => {
  const { fanIn, fanOut } = fanOf(shape, o);
  return uniform(shape, Math.sqrt(6 / (fanIn + fanOut)), o.seed);
};

/**
 * Glorot/Xavier normal: N(0, 2/(fanIn+fanOut)) (not truncated).
 * @example
 * const w = glorotNormal([100, 50]); // N(0, σ²), σ = √(2 / (fanIn + fanOut)) ≈ 0.1155
 * w.shape // [100, 50]
 * w.square().mean().sqrt() // 0.11
 */
export const glorotNormal: InitFn = (shape, o = {}) => {
  const { fanIn, fanOut } = fanOf(shape, o);
  return normal(shape, Math.sqrt(2 / (fanIn + fanOut)), o.seed);
};

/**
 * He/Kaiming uniform: U(±√(6/fanIn)) (for ReLU layers).
 * @example
 * const w = heUniform([128, 64]); // U(−l, l), l = √(6 / fanIn)
 * w.abs().max().item() <= Math.sqrt(6 / 128) // true
 */
export const heUniform: InitFn = (shape, o = {}) => uniform(shape, Math.sqrt(6 / fanOf(shape, o).fanIn), o.seed);

/**
 * He/Kaiming normal: N(0, 2/fanIn).
 * @example
 * const w = heNormal([128, 64]); // N(0, 2 / fanIn)
 * w.shape // [128, 64]
 */
export const heNormal: InitFn = (shape, o = {}) => normal(shape, Math.sqrt(2 / fanOf(shape, o).fanIn), o.seed);

/**
 * LeCun uniform: U(±√(3/fanIn)).
 * @example
 * const w = lecunUniform([16, 16]); // U(−l, l), l = √(3 / fanIn)
 * w.abs().max().item() <= Math.sqrt(3 / 16) // true
 */
export const lecunUniform: InitFn = (shape, o = {}) => uniform(shape, Math.sqrt(3 / fanOf(shape, o).fanIn), o.seed);

/**
 * LeCun normal: N(0, 1/fanIn).
 * @example
 * const w = lecunNormal([16, 16]); // N(0, 1 / fanIn)
 * w.shape // [16, 16]
 */
export const lecunNormal: InitFn = (shape, o = {}) => normal(shape, Math.sqrt(1 / fanOf(shape, o).fanIn), o.seed);

/**
 * PyTorch's default for `Linear`/`Conv2d` weights and biases: kaiming-uniform with a = √5,
 * i.e. U(±1/√fanIn).
 * @example
 * const w = torchDefault([2, 3], { fanIn: 3 }); // U(−1/√fanIn, 1/√fanIn), as PyTorch's Linear
 * w.abs().max().item() <= 1 / Math.sqrt(3) // true
 */
export const torchDefault: InitFn = (shape, o = {}) => uniform(shape, 1 / Math.sqrt(fanOf(shape, o).fanIn), o.seed);

/**
 * All zeros.
 * @example zerosInit([4]) // [0, 0, 0, 0]
 */
export const zerosInit: InitFn = (shape, o = {}) => {
  optionsOf<InitOptions>('init', o, ['fanIn', 'fanOut', 'seed']);
  return full(shape, 0, 'float32');
};

/**
 * All ones.
 * @example onesInit([2, 2]) // [[1, 1], [1, 1]]
 */
export const onesInit: InitFn = (shape, o = {}) => {
  optionsOf<InitOptions>('init', o, ['fanIn', 'fanOut', 'seed']);
  return full(shape, 1, 'float32');
};

/**
 * Keras' `Orthogonal` (gain 1): the shape seen as [rows = product of all but the last size,
 * cols = the last size] gets orthonormal columns (rows ≥ cols) or rows (rows < cols), from the QR
 * decomposition of a standard normal matrix with R's diagonal made positive (Gram-Schmidt with
 * one re-orthogonalisation, in tensor ops on the active backend).
 * @example
 * const q = orthogonal([3, 3]);
 * q.T.matmul(q).sub(eye(3)).abs().max().item() < 1e-5 // true
 * orthogonal([2, 4]).matmul(orthogonal([2, 4]).T).shape // [2, 2]
 */
export const orthogonal: InitFn = (shape, o = {}) => {
  fanOf(shape, o);
  if (shape.length < 2) throw new AxonError('orthogonal', `expects a shape of rank >= 2, got ${fmtShape(shape)}`);
  const cols = shape[shape.length - 1]!;
  const rows = shape.slice(0, -1).reduce((a, b) => a * b, 1);
  const m = Math.max(rows, cols);
  const n = Math.min(rows, cols);
  // Gram–Schmidt (twice per column) inside one tidy: only the result survives
  return tidy(() => {
    const a = randn([m, n], o.seed !== undefined ? { seed: o.seed } : {});
    let q: Tensor | null = null;
    for (let j = 0; j < n; j++) {
      let v = a.slice([0, j], [m, 1]);
      for (let pass = 0; pass < 2 && q; pass++) v = v.sub(q.matmul(q.T.matmul(v)));
      const unit = v.div(v.square().sum().sqrt());
      q = q ? concat([q, unit], 1) : unit;
    }
    return (rows < cols ? q!.T : q!).reshape(shape).contiguous();
  });
};

const BY_NAME: Readonly<Record<InitializerName, InitFn>> = {
  glorotUniform,
  glorotNormal,
  heUniform,
  heNormal,
  lecunUniform,
  lecunNormal,
  orthogonal,
  zeros: zerosInit,
  ones: onesInit,
};

/**
 * Resolves an initialiser name (Keras camelCase or snake_case, e.g. `'glorot_uniform'`) or function.
 * @example
 * getInitializer('he_normal')([4, 4]).shape // [4, 4]
 * getInitializer('ones')([2]) // [1, 1]
 * getInitializer('orthogonal')([2, 8]).shape // [2, 8]
 * getInitializer('identity') // throws: 'identity'
 */
export function getInitializer(init: Initializer | string): InitFn {
  if (typeof init === 'function') return init;
  if (typeof init === 'string') {
    const camel = init.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    // Own keys only: 'toString' or 'constructor' must not resolve through the prototype chain.
    if (Object.hasOwn(BY_NAME, camel)) return (BY_NAME as Record<string, InitFn>)[camel]!;
  }
  throw new AxonError('getInitializer', `unknown initializer ${fmtValue(init)}; expected one of ${Object.keys(BY_NAME).join(', ')} or a function`);
}
