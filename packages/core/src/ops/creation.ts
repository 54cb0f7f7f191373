import { type DType, isDType, makeTypedArray, type TypedArray } from '../dtype.js';
import { AxonError, fmtShape, fmtValue } from '../errors.js';
import { hash32, seedToKey } from '../random.js';
import { type Shape, sizeOf, validateShape } from '../shape.js';
import type { NestedArray, Tensor } from '../tensor.js';
import { backendOf, currentBackend, empty } from './util.js';
import { fusionOn, lazyFull } from '../lazy.js';

/** Values `tensor()` accepts. */
export type TensorInput = number | boolean | TypedArray | readonly NestedArray[] | readonly number[] | readonly boolean[];

function inferShape(op: string, v: unknown): number[] {
  const shape: number[] = [];
  let cur: unknown = v;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    cur = cur[0];
  }
  return shape;
}

/** Flattens nested arrays into `out`; returns whether every leaf was a boolean. */
function flattenInto(op: string, v: unknown, shape: Shape, depth: number, out: number[]): boolean {
  if (depth === shape.length) {
    if (typeof v === 'number') {
      out.push(v);
      return false;
    }
    if (typeof v === 'boolean') {
      out.push(v ? 1 : 0);
      return true;
    }
    throw new AxonError(op, `expected a number or boolean at depth ${depth}, got ${Array.isArray(v) ? 'an array (ragged nesting)' : v === null ? 'null' : typeof v}`);
  }
  if (!Array.isArray(v) || v.length !== shape[depth]) {
    throw new AxonError(op, `ragged nested array: expected ${shape[depth]} elements at depth ${depth} of inferred shape ${fmtShape(shape)}`);
  }
  let allBool = true;
  for (const x of v) if (!flattenInto(op, x, shape, depth + 1, out)) allBool = false;
  return allBool;
}

/**
 * Creates a tensor from numbers, booleans, nested arrays or a typed array.
 * The dtype is inferred (Float32Array/numbers → float32, Int32Array → int32, Uint8Array → int32,
 * booleans → bool; numbers mixed with booleans → float32 with true = 1, as PyTorch promotes) unless
 * given; the shape is inferred from nesting unless given.
 * @example
 * ```ts
 * const a = tensor([[1, 2], [3, 4]]);
 * a.dtype // 'float32'
 * a.shape // [2, 2]
 * tensor(new Int32Array([1, 2, 3])).dtype // 'int32'
 * tensor([1, 2, 3, 4], [2, 2], 'int32') // [[1, 2], [3, 4]]
 * tensor([true, false]).dtype // 'bool'
 * tensor([[1, 2], [3]]); // throws: 'ragged'
 * ```
 */
export function tensor(values: TensorInput, shape?: readonly number[], dtype?: DType): Tensor {
  const op = 'tensor';
  if (dtype !== undefined && !isDType(dtype)) throw new AxonError(op, `unknown dtype '${String(dtype)}'; expected float32, int32 or bool`);
  let flat: TypedArray | number[];
  let inferred: number[];
  let inferredDtype: DType;
  if (typeof values === 'number' || typeof values === 'boolean') {
    flat = [typeof values === 'boolean' ? (values ? 1 : 0) : values];
    inferred = [];
    inferredDtype = typeof values === 'boolean' ? 'bool' : 'float32';
  } else if (ArrayBuffer.isView(values)) {
    flat = values as TypedArray;
    inferred = [values.length];
    inferredDtype = values instanceof Float32Array ? 'float32' : values instanceof Int32Array ? 'int32' : values instanceof Uint8Array ? 'int32' : 'float32';
    if (!(values instanceof Float32Array || values instanceof Int32Array || values instanceof Uint8Array)) {
      flat = Array.from(values as unknown as ArrayLike<number>);
    }
  } else if (Array.isArray(values)) {
    inferred = inferShape(op, values);
    const out: number[] = [];
    const allBool = flattenInto(op, values, inferred, 0, out);
    flat = out;
    inferredDtype = allBool && out.length > 0 ? 'bool' : 'float32';
  } else {
    throw new AxonError(op, `cannot make a tensor from ${typeof values}`);
  }
  const finalShape = shape !== undefined ? validateShape(op, shape) : inferred;
  const n = sizeOf(finalShape);
  if (n !== flat.length) {
    throw new AxonError(op, `${flat.length} values cannot fill shape ${fmtShape(finalShape)} (${n} elements)`);
  }
  const dt = dtype ?? inferredDtype;
  const data = makeTypedArray(dt, n);
  if (dt === 'bool') for (let i = 0; i < n; i++) data[i] = flat[i] ? 1 : 0;
  else data.set(flat as ArrayLike<number>);
  const backend = currentBackend();
  const t = empty(backend, finalShape, dt);
  if (n > 0) backend.write(t.storage.buf, data);
  if (dt === 'int32' && !backend.supportsSyncRead && n <= 1 << 20) t.hostInts = data as Int32Array;
  return t;
}

/**
 * A rank-0 tensor.
 * @example scalar(3).item() // 3
 */
export function scalar(value: number | boolean, dtype?: DType): Tensor {
  return tensor(value, [], dtype);
}

/**
 * A tensor filled with one value.
 * @example
 * full([2, 2], 7) // [[7, 7], [7, 7]]
 * full([2], true).dtype // 'bool'
 */
export function full(shape: readonly number[], value: number | boolean, dtype?: DType): Tensor {
  return fill('full', shape, value, dtype);
}

/** Elements up to which `full` and friends stay pending constants while fusion is on. */
const LAZY_FULL_MAX = 1 << 16;

function fill(op: string, shape: readonly number[], value: number | boolean, dtype?: DType): Tensor {
  if (typeof value !== 'number' && typeof value !== 'boolean') throw new AxonError(op, `value must be a number or a boolean, got ${fmtValue(value)}`);
  const s = validateShape(op, shape);
  const dt = dtype ?? (typeof value === 'boolean' ? 'bool' : 'float32');
  if (!isDType(dt)) throw new AxonError(op, `unknown dtype ${fmtValue(dt)}; expected float32, int32 or bool`);
  const backend = currentBackend();
  // with fusion on, a small float32/bool constant is free until read: kernels take it as a
  // constant (a large one is allocated now, so that running out of memory is reported here)
  if (fusionOn() && dt !== 'int32' && sizeOf(s) <= LAZY_FULL_MAX) return lazyFull(backend, s, typeof value === 'boolean' ? (value ? 1 : 0) : value, dt);
  const t = empty(backend, s, dt);
  if (t.size > 0) backend.fill(t.storage.buf, typeof value === 'boolean' ? (value ? 1 : 0) : value);
  return t;
}

/** Zeros. @example zeros([2, 3]) // [[0, 0, 0], [0, 0, 0]] */
export function zeros(shape: readonly number[], dtype: DType = 'float32'): Tensor {
  return fill('zeros', shape, 0, dtype);
}
/** Ones. @example ones([3], 'int32') // [1, 1, 1] */
export function ones(shape: readonly number[], dtype: DType = 'float32'): Tensor {
  return fill('ones', shape, 1, dtype);
}
/**
 * Zeros shaped like `t` (and of its dtype unless given).
 * @example
 * const x = tensor([[1, 2]], undefined, 'int32');
 * zerosLike(x) // [[0, 0]]
 * zerosLike(x).dtype // 'int32'
 */
export function zerosLike(t: Tensor, dtype?: DType): Tensor {
  backendOf('zerosLike', t);
  return fill('zerosLike', t.shape, 0, dtype ?? t.dtype);
}
/**
 * Ones shaped like `t` (and of its dtype unless given).
 * @example onesLike(tensor([[1, 2], [3, 4]]), 'bool') // [[true, true], [true, true]]
 */
export function onesLike(t: Tensor, dtype?: DType): Tensor {
  backendOf('onesLike', t);
  return fill('onesLike', t.shape, 1, dtype ?? t.dtype);
}
/**
 * `value` shaped like `t` (and of its dtype unless given).
 * @example fullLike(tensor([1, 2, 3]), 2) // [2, 2, 2]
 */
export function fullLike(t: Tensor, value: number, dtype?: DType): Tensor {
  backendOf('fullLike', t);
  return full(t.shape, value, dtype ?? t.dtype);
}

/**
 * Evenly spaced values in [start, stop) (NumPy's `arange`). With one argument: [0, start).
 * The dtype is int32 when every argument is an integer, float32 otherwise.
 * @example
 * arange(5) // [0, 1, 2, 3, 4]
 * arange(5).dtype // 'int32'
 * arange(1, 2, 0.25) // [1, 1.25, 1.5, 1.75]
 * arange(3, 0, -1) // [3, 2, 1]
 */
export function arange(start: number, stop?: number, step = 1, dtype?: DType): Tensor {
  if (stop === undefined) {
    stop = start;
    start = 0;
  }
  for (const [k, v] of [['start', start], ['stop', stop], ['step', step]] as const) {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new AxonError('arange', `${k} must be a finite number, got ${fmtValue(v)}`);
  }
  if (step === 0) throw new AxonError('arange', 'step must not be 0');
  const n = Math.max(0, Math.ceil((stop - start) / step));
  validateShape('arange', [n]);
  const dt = dtype ?? (Number.isInteger(start) && Number.isInteger(stop) && Number.isInteger(step) ? 'int32' : 'float32');
  if (!isDType(dt)) throw new AxonError('arange', `unknown dtype ${fmtValue(dt)}; expected float32, int32 or bool`);
  const backend = currentBackend();
  const t = empty(backend, [n], dt);
  const data = makeTypedArray(dt, n);
  for (let i = 0; i < n; i++) data[i] = start + i * step;
  if (n > 0) backend.write(t.storage.buf, data);
  // As tensor() does: small int32 host data stays visible to index checks on asynchronous backends.
  if (dt === 'int32' && !backend.supportsSyncRead && n <= 1 << 20) t.hostInts = data as Int32Array;
  return t;
}

/**
 * `num` evenly spaced float32 values from start to stop inclusive.
 * @example linspace(0, 1, 5) // [0, 0.25, 0.5, 0.75, 1]
 */
export function linspace(start: number, stop: number, num: number): Tensor {
  if (typeof num !== 'number' || !Number.isInteger(num) || num < 0) throw new AxonError('linspace', `num must be a non-negative integer, got ${fmtValue(num)}`);
  for (const [k, v] of [['start', start], ['stop', stop]] as const) {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new AxonError('linspace', `${k} must be a finite number, got ${fmtValue(v)}`);
  }
  validateShape('linspace', [num]);
  // Allocate on the backend first: a request too large fails before any host array is built.
  const backend = currentBackend();
  const t = empty(backend, [num], 'float32');
  const data = new Float32Array(num);
  const step = num > 1 ? (stop - start) / (num - 1) : 0;
  for (let i = 0; i < num; i++) data[i] = i === num - 1 && num > 1 ? stop : start + i * step;
  if (num > 0) backend.write(t.storage.buf, data);
  return t;
}

/**
 * Identity matrix (n×m, default square).
 * @example
 * eye(2) // [[1, 0], [0, 1]]
 * eye(2, 3, 'int32') // [[1, 0, 0], [0, 1, 0]]
 */
export function eye(n: number, m = n, dtype: DType = 'float32'): Tensor {
  validateShape('eye', [n, m]);
  if (!isDType(dtype)) throw new AxonError('eye', `unknown dtype ${fmtValue(dtype)}; expected float32, int32 or bool`);
  const backend = currentBackend();
  const t = empty(backend, [n, m], dtype);
  const data = makeTypedArray(dtype, n * m);
  for (let i = 0; i < Math.min(n, m); i++) data[i * m + i] = 1;
  if (n * m > 0) backend.write(t.storage.buf, data);
  return t;
}

// ---------------------------------------------------------------- randomness
let globalKey = seedToKey(Math.floor(Math.random() * 2 ** 31));
let globalCounter = 0;

/**
 * Seeds the global random stream used by `rand`/`randn`/… when no `seed` option is given
 * (and by layer initialisers and dropout).
 * @example
 * setSeed(42);
 * rand([2]) // [0.6942, 0.5171]
 * setSeed(42);
 * rand([2]) // [0.6942, 0.5171]
 */
export function setSeed(seed: number): void {
  if (typeof seed !== 'number' || !Number.isFinite(seed)) throw new AxonError('setSeed', `seed must be a finite number, got ${fmtValue(seed)}`);
  globalKey = seedToKey(seed);
  globalCounter = 0;
}

/**
 * The global random stream's position: what {@link getRngState} returns and {@link setRngState}
 * restores (JSON-able; checkpoints store it so that a resumed run draws the same numbers).
 * @example
 * setSeed(1);
 * rand([3]);
 * const s: RngState = getRngState();
 * s.counter // 3
 * JSON.parse(JSON.stringify(s)).key === s.key // true
 */
export interface RngState {
  /** The stream key (an unsigned 32-bit integer). */
  readonly key: number;
  /** How many words of the stream were used (an unsigned 32-bit integer). */
  readonly counter: number;
}

/**
 * Where the global random stream is now (see {@link setSeed}).
 * @example
 * ```ts
 * const s = getRngState();
 * const a = rand([2]).toArray();
 * setRngState(s);
 * const b = rand([2]).toArray(); // the same draw again
 * JSON.stringify(b) === JSON.stringify(a) // true
 * ```
 */
export function getRngState(): RngState {
  return { key: globalKey, counter: globalCounter };
}

/**
 * Moves the global random stream back (or forward) to a state from {@link getRngState}.
 * @example
 * ```ts
 * setSeed(42);
 * const saved = getRngState(); // e.g. written into a checkpoint
 * rand([2]) // [0.6942, 0.5171]
 * setRngState(saved); // a resumed run continues from there
 * rand([2]) // [0.6942, 0.5171]
 * setRngState({ key: -1, counter: 0 }); // throws: 'unsigned 32-bit integers'
 * ```
 */
export function setRngState(state: RngState): void {
  const ok = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < 2 ** 32;
  if (state === null || typeof state !== 'object' || !ok(state.key) || !ok(state.counter)) {
    throw new AxonError('setRngState', `expects { key, counter } of unsigned 32-bit integers, got ${JSON.stringify(state)}`);
  }
  globalKey = state.key;
  globalCounter = state.counter;
}

/** Options of the random creation functions. */
export interface RandomOptions {
  /** A seed for this call alone; without it the global stream (see {@link setSeed}) advances. */
  seed?: number;
  dtype?: DType;
}

function checkOpts(op: string, opts: unknown): void {
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) throw new AxonError(op, `options must be an object, got ${fmtValue(opts)}`);
}

/** @internal The next `count` words of the global stream, as `[key, counter]` (compile's replays draw here). */
export function drawGlobalStream(count: number): [number, number] {
  return stream(count, undefined);
}

function stream(count: number, seed: number | undefined): [number, number] {
  if (seed !== undefined) {
    if (typeof seed !== 'number' || !Number.isFinite(seed)) throw new AxonError('random', `seed must be a finite number, got ${fmtValue(seed)}`);
    return [seedToKey(seed), 0];
  }
  const c = globalCounter;
  globalCounter = (globalCounter + count) % 2 ** 32;
  if (globalCounter < c) globalKey = hash32(globalKey, 0x9e3779b9); // wrapped: move to a fresh stream
  return [globalKey, c];
}

function randomTensor(op: string, kind: 'uniform' | 'normal' | 'bernoulli' | 'randint', shape: readonly number[], a: number, b: number, dtype: DType, seed: number | undefined): Tensor {
  const s = validateShape(op, shape);
  if (!isDType(dtype)) throw new AxonError(op, `unknown dtype ${fmtValue(dtype)}; expected float32, int32 or bool`);
  for (const v of [a, b]) if (typeof v !== 'number' || !Number.isFinite(v)) throw new AxonError(op, `parameters must be finite numbers, got ${fmtValue(v)}`);
  const backend = currentBackend();
  const n = sizeOf(s);
  const [key, counter] = stream(kind === 'normal' ? 2 * n : n, seed);
  const t = empty(backend, s, dtype);
  if (n > 0) backend.random(kind, key, counter, a, b, t.storage.buf);
  return t;
}

/**
 * Uniform float32 samples in [low, high).
 * @example
 * rand([2, 2], { seed: 1 }) // [[0.3214, 0.4726], [0.0020, 0.6808]]
 * rand([2], { seed: 1, low: -1, high: 1 }).shape // [2]
 */
export function rand(shape: readonly number[], opts: RandomOptions & { low?: number; high?: number } = {}): Tensor {
  checkOpts('rand', opts);
  const low = opts.low ?? 0;
  const high = opts.high ?? 1;
  if (typeof low !== 'number' || typeof high !== 'number') throw new AxonError('rand', `low and high must be numbers, got ${fmtValue(low)} and ${fmtValue(high)}`);
  if (!(high >= low)) throw new AxonError('rand', `high (${high}) must be >= low (${low})`);
  return randomTensor('rand', 'uniform', shape, low, high, 'float32', opts.seed);
}

/**
 * Normal float32 samples (Box–Muller over the counter-based stream).
 * @example randn([3], { seed: 7, mean: 0, std: 2 }) // [3.0183, 1.2926, 2.0543]
 */
export function randn(shape: readonly number[], opts: RandomOptions & { mean?: number; std?: number } = {}): Tensor {
  checkOpts('randn', opts);
  const std = opts.std ?? 1;
  if (typeof std !== 'number' || typeof (opts.mean ?? 0) !== 'number') throw new AxonError('randn', `mean and std must be numbers, got ${fmtValue(opts.mean)} and ${fmtValue(std)}`);
  if (!(std >= 0)) throw new AxonError('randn', `std must be >= 0, got ${std}`);
  return randomTensor('randn', 'normal', shape, opts.mean ?? 0, std, 'float32', opts.seed);
}

/**
 * Uniform integers in [low, high) as int32 (range at most 2^24).
 * @example randint(0, 10, [5], { seed: 3 }) // [3, 3, 1, 7, 4]
 */
export function randint(low: number, high: number, shape: readonly number[], opts: RandomOptions = {}): Tensor {
  checkOpts('randint', opts);
  if (typeof low !== 'number' || typeof high !== 'number' || !Number.isInteger(low) || !Number.isInteger(high) || high <= low || high - low > 2 ** 24) {
    throw new AxonError('randint', `expected integers low < high with high - low <= 2^24, got low=${fmtValue(low)}, high=${fmtValue(high)}`);
  }
  return randomTensor('randint', 'randint', shape, low, high, 'int32', opts.seed);
}

/**
 * Bernoulli samples: 1 with probability `p` (float32 0/1 by default, or bool).
 * @example
 * bernoulli(0.8, [4], { seed: 2 }) // [1, 1, 1, 0]
 * bernoulli(0.8, [4], { seed: 2, dtype: 'bool' }) // [true, true, true, false]
 */
export function bernoulli(p: number, shape: readonly number[], opts: RandomOptions = {}): Tensor {
  checkOpts('bernoulli', opts);
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new AxonError('bernoulli', `p must be in [0, 1], got ${fmtValue(p)}`);
  return randomTensor('bernoulli', 'bernoulli', shape, p, 0, opts.dtype ?? 'float32', opts.seed);
}
