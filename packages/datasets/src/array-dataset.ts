import { AxonError, type DType, isTensor, type Tensor } from '@axon/core';
import { Dataset, type BatchOptions, checkCount, type ShuffleOptions, type SplitOptions, splitCounts } from './dataset.js';
import { allocHost, asHostArray, dtypeOfArray, isNumericArray } from './host.js';
import { checkSeed, epochKey, shuffleInPlace } from './random.js';
import type { HostArray, HostBatch, HostTensor, NumericArray, Sample } from './types.js';

/**
 * Per-sample layout of one column of an {@link ArrayDataset}.
 *
 * @example
 * fromArrays({ x: [[1, 2]], y: [0] }).spec.x; // { shape: [2], dtype: 'float32' }
 * fromArrays({ x: [[1, 2]], y: [0] }).spec.y; // { shape: [], dtype: 'int32' }
 */
export interface ColumnSpec {
  /** Shape of one sample (`[]` for scalars such as class labels, `[28, 28]` for MNIST images). */
  readonly shape: readonly number[];
  /** Axon dtype of the column. */
  readonly dtype: DType;
}

/**
 * Descriptive metadata sources attach to an {@link ArrayDataset} (kept by shuffle/take/skip/split).
 *
 * @example
 * ```ts
 * const iris = fromCsvText('sepal,petal,species\n5.1,1.4,setosa\n7.0,4.7,versicolor\n6.3,6.0,virginica\n', { label: 'species' });
 * iris.meta; // { featureNames: ['sepal', 'petal'], classNames: ['setosa', 'versicolor', 'virginica'] }
 * iris.shuffle(0).take(2).meta.classNames; // ['setosa', 'versicolor', 'virginica']
 * ```
 */
export interface DatasetMeta {
  /** Names of the feature columns packed into `x` (CSV). */
  readonly featureNames?: readonly string[];
  /** Class names by label index (CSV labels given as strings). */
  readonly classNames?: readonly string[];
}

/**
 * Nested number arrays (`number[]`, `number[][]`, …).
 *
 * @example
 * const rows: NestedNumbers = [[0, 1], [1, 0]];
 * fromArrays({ x: [rows, rows] }).spec.x.shape; // [2, 2]
 */
export type NestedNumbers = number | readonly NestedNumbers[];

/**
 * One column given to {@link fromArrays}: the first dimension indexes samples.
 * - a typed array or `number[]` — one scalar per sample (e.g. labels);
 * - nested arrays (`number[][]`, …) or an array of typed-array rows — one row per sample;
 * - `{ data, shape, dtype? }` — flat row-major data with the full shape `[N, ...sampleShape]`.
 *
 * @example
 * ```ts
 * const pixels = new Uint8Array(3 * 28 * 28); // e.g. three MNIST images, flat
 * const x: ColumnInput = { data: pixels, shape: [3, 28, 28] };
 * const y: ColumnInput = [7, 2, 1]; // one scalar (label) per sample
 * const z: ColumnInput = [new Float32Array([1, 2]), new Float32Array([3, 4]), new Float32Array([5, 6])]; // one row per sample
 * fromArrays({ x, y, z }).spec; // { x: { shape: [28, 28], dtype: 'float32' }, y: { shape: [], dtype: 'int32' }, z: { shape: [2], dtype: 'float32' } }
 * ```
 */
export type ColumnInput =
  | NumericArray
  | readonly number[]
  | readonly NestedNumbers[]
  | readonly NumericArray[]
  | { readonly data: NumericArray | readonly number[]; readonly shape: readonly number[]; readonly dtype?: DType };

/**
 * Options of {@link fromArrays}.
 *
 * @example
 * const ds = fromArrays({ x: [[1], [2]], y: [3, 5] }, { dtypes: { y: 'float32' } }); // regression targets
 * ds.spec.y.dtype; // 'float32'
 */
export interface FromArraysOptions {
  /**
   * dtype per column. Defaults: `x` → float32; otherwise a given HostTensor dtype, float typed
   * arrays → float32, integer typed arrays → int32, number arrays → int32 when every value is an
   * integer and samples are scalars (class labels), else float32.
   */
  dtypes?: Readonly<Record<string, DType>>;
  /** Metadata to attach. */
  meta?: DatasetMeta;
}

/** @internal */
export interface Column {
  readonly data: HostArray;
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly rowSize: number;
}

type Plan = (epoch: number) => Int32Array;

const identityCache = new WeakMap<object, Int32Array>();

/**
 * An in-memory dataset: columns of typed arrays (`x`, `y`, …) sharing the first (sample)
 * dimension, plus an index order. `shuffle`, `take`, `skip` and `split` only permute or slice
 * indices, and `batch` copies whole rows into fresh typed arrays, so pipelines over tens of
 * thousands of samples cost milliseconds per epoch. Elements (when iterated one by one) are
 * `{ [column]: number | row view }`; batches are `{ [column]: HostTensor }` with shape
 * `[B, ...sampleShape]`.
 *
 * @example
 * ```ts
 * const n = 100;
 * const pixels = new Float32Array(n * 28 * 28).map((_, i) => (i % 256) / 255);
 * const labels = Int32Array.from({ length: n }, (_, i) => i % 10);
 * const ds = fromArrays({ x: { data: pixels, shape: [n, 28, 28] }, y: labels });
 * const [train, val] = ds.split([0.9, 0.1], { seed: 0 });
 * [train.size, val.size]; // [90, 10]
 * let batches = 0;
 * for await (const { x, y } of train.shuffle(1).batch(32).toTensors()) {
 *   batches++; // x: float32 [32, 28, 28] (the last one [26, 28, 28]), y: int32 [32]
 *   x.dispose(); y.dispose();
 * }
 * batches; // 3
 * ```
 */
export class ArrayDataset<K extends string> extends Dataset<Sample<K>> {
  /** Number of samples (in the current order). */
  declare readonly size: number;
  /** Per-sample shape and dtype of each column. */
  readonly spec: Readonly<Record<K, ColumnSpec>>;
  /** Metadata (feature and class names) from the source. */
  readonly meta: DatasetMeta;
  /** @internal */
  readonly columns: Readonly<Record<K, Column>>;
  /** @internal rows in the underlying columns */
  readonly rows: number;
  private readonly plan: Plan;

  /**
   * @internal Use {@link fromArrays}, {@link fromTensors}, {@link fromCsv} or {@link loadMnistDataset}.
   * @example
   * fromArrays({ x: [[1, 2], [3, 4]], y: [0, 1] }); // instead of the constructor
   */
  constructor(columns: Readonly<Record<K, Column>>, rows: number, plan: Plan | null, size: number, meta: DatasetMeta = {}) {
    super(undefined, size);
    this.columns = columns;
    this.rows = rows;
    this.meta = meta;
    this.plan = plan ?? ((): Int32Array => identity(columns, rows));
    const spec = {} as Record<K, ColumnSpec>;
    for (const k of Object.keys(columns) as K[]) spec[k] = { shape: columns[k].shape, dtype: columns[k].dtype };
    this.spec = spec;
  }

  /**
   * Names of the columns.
   * @example fromArrays({ x: [[1], [2]], y: [0, 1] }).columnNames // ['x', 'y']
   */
  get columnNames(): K[] {
    return Object.keys(this.columns) as K[];
  }

  private derive(plan: Plan, size: number): ArrayDataset<K> {
    return new ArrayDataset<K>(this.columns, this.rows, plan, size, this.meta);
  }

  protected override open(iteration: number): Iterator<Sample<K>> {
    return this.elements(this.plan(iteration));
  }

  private *elements(order: Int32Array): Generator<Sample<K>> {
    const keys = this.columnNames;
    const cols = keys.map((k) => this.columns[k]);
    for (let i = 0; i < order.length; i++) {
      const r = order[i];
      const s = {} as Record<string, number | HostArray>;
      for (let c = 0; c < keys.length; c++) {
        const col = cols[c];
        s[keys[c]] = col.shape.length === 0 ? col.data[r] : col.data.subarray(r * col.rowSize, (r + 1) * col.rowSize);
      }
      yield s as Sample<K>;
    }
  }

  /**
   * A full, deterministic shuffle: a random permutation of the indices, drawn anew for every pass
   * (pass `k` uses the permutation of (`seed`, `k`)) unless `reshuffleEachIteration` is false.
   * `bufferSize` is ignored (everything is in memory).
   *
   * @example
   * ```ts
   * const ds = fromArrays({ x: [[0], [10], [20], [30], [40]], y: [0, 1, 2, 3, 4] }).shuffle(42).batch(5);
   * const [pass0] = await ds.toArray();
   * pass0.y.data; // [1, 2, 3, 0, 4]
   * pass0.x.data; // [10, 20, 30, 0, 40]
   * const [pass1] = await ds.toArray(); // the next epoch: a new order
   * pass1.y.data; // [4, 1, 2, 0, 3]
   * ```
   */
  override shuffle(seed: number, bufferSize?: number, options: ShuffleOptions = {}): ArrayDataset<K> {
    checkSeed('Dataset.shuffle', seed);
    if (bufferSize !== undefined) checkCount('Dataset.shuffle', 'the buffer size', bufferSize, 1);
    const parent = this.plan;
    const reshuffle = options.reshuffleEachIteration !== false;
    return this.derive((e) => shuffleInPlace(parent(e).slice(), epochKey(seed, reshuffle ? e : 0)), this.size);
  }

  /**
   * The first `n` samples (of the current order).
   * @example
   * fromArrays({ x: [[1], [2], [3]], y: [0, 1, 2] }).take(2).toArrays().y.data; // [0, 1]
   */
  override take(n: number): ArrayDataset<K> {
    checkCount('Dataset.take', 'n', n);
    const parent = this.plan;
    const m = Math.min(n, this.size);
    return this.derive((e) => parent(e).subarray(0, m), m);
  }

  /**
   * All but the first `n` samples (of the current order).
   * @example
   * fromArrays({ x: [[1], [2], [3]], y: [0, 1, 2] }).skip(2).toArrays().y.data; // [2]
   */
  override skip(n: number): ArrayDataset<K> {
    checkCount('Dataset.skip', 'n', n);
    const parent = this.plan;
    const m = Math.min(n, this.size);
    return this.derive((e) => parent(e).subarray(m), this.size - m);
  }

  /**
   * Splits by fractions or counts (see {@link Dataset.split}); with a `seed` the samples are
   * shuffled once before splitting. The parts are disjoint and fixed.
   *
   * @example
   * ```ts
   * const x = Array.from({ length: 10 }, (_, i) => [i, i * i]);
   * const y = Array.from({ length: 10 }, (_, i) => i);
   * const [train, val, test] = fromArrays({ x, y }).split([0.8, 0.1, 0.1], { seed: 7 });
   * [train.size, val.size, test.size]; // [8, 1, 1]
   * train.toArrays().y.data; // [6, 7, 2, 8, 1, 9, 4, 5]
   * [...val.toArrays().y.data, ...test.toArrays().y.data]; // [3, 0]
   * ```
   */
  override split(parts: number | readonly number[], options: SplitOptions = {}): ArrayDataset<K>[] {
    const op = 'Dataset.split';
    const counts = splitCounts(op, parts, this.size);
    let order = this.plan(0);
    if (options.seed !== undefined) {
      checkSeed(op, options.seed);
      order = shuffleInPlace(order.slice(), epochKey(options.seed, 0));
    }
    let start = 0;
    return counts.map((c) => {
      const part = order.slice(start, start + c);
      start += c;
      return this.derive(() => part, c);
    });
  }

  protected override makeBatches(size: number, drop: boolean, dtypes: BatchOptions['dtypes']): Dataset<unknown> {
    const count = drop ? Math.floor(this.size / size) : Math.ceil(this.size / size);
    const keys = this.columnNames;
    const cols = keys.map((k) => this.columns[k]);
    const outTypes = keys.map((k, c) => (typeof dtypes === 'string' ? dtypes : (dtypes?.[k] ?? cols[c].dtype)));
    const self = this as ArrayDataset<K>;
    return new Dataset<HostBatch<K>>(function* (iteration) {
      const order = self.plan(iteration); // a pure function of the pipeline and the pass index
      const n = order.length;
      for (let start = 0; start < n; start += size) {
        const end = Math.min(n, start + size);
        if (drop && end - start < size) break;
        const b = {} as Record<string, HostTensor>;
        for (let c = 0; c < keys.length; c++) {
          const col = cols[c];
          let data = gatherRows(col, order, start, end);
          if (outTypes[c] !== col.dtype) data = asHostArray(data, outTypes[c]);
          b[keys[c]] = { data, shape: [end - start, ...col.shape], dtype: outTypes[c] };
        }
        yield b as HostBatch<K>;
      }
    }, count);
  }

  /**
   * The samples in their (first-pass) order as one {@link HostTensor} per column — e.g. to feed
   * `model.fit(x, y)` directly or to compute statistics.
   *
   * @example
   * ```ts
   * const ds = fromArrays({ x: [[1, 2], [3, 4], [5, 6]], y: [7, 8, 9] });
   * const { x, y } = ds.shuffle(3).toArrays();
   * x; // { data: [5, 6, 3, 4, 1, 2], shape: [3, 2], dtype: 'float32' }
   * y; // { data: [9, 8, 7], shape: [3], dtype: 'int32' }
   * ```
   */
  toArrays(): HostBatch<K> {
    const order = this.plan(0);
    const out = {} as Record<string, HostTensor>;
    for (const k of this.columnNames) {
      const col = this.columns[k];
      out[k] = { data: gatherRows(col, order, 0, order.length), shape: [order.length, ...col.shape], dtype: col.dtype };
    }
    return out as HostBatch<K>;
  }
}

function identity(key: object, n: number): Int32Array {
  let a = identityCache.get(key);
  if (!a || a.length !== n) {
    a = new Int32Array(n);
    for (let i = 0; i < n; i++) a[i] = i;
    identityCache.set(key, a);
  }
  return a;
}

/** @internal Copies rows `order[start..end)` of `col` into a fresh array. */
export function gatherRows(col: Column, order: Int32Array, start: number, end: number): HostArray {
  const rs = col.rowSize;
  const B = end - start;
  const out = allocHost(col.dtype, B * rs);
  if (B === 0) return out;
  const src = col.data;
  const first = order[start];
  let contiguous = true;
  for (let j = 1; j < B; j++) {
    if (order[start + j] !== first + j) {
      contiguous = false;
      break;
    }
  }
  if (contiguous) {
    out.set(src.subarray(first * rs, (first + B) * rs));
  } else if (rs === 1) {
    for (let j = 0; j < B; j++) out[j] = src[order[start + j]];
  } else if (rs < 32) {
    for (let j = 0; j < B; j++) {
      const o = order[start + j] * rs;
      const d = j * rs;
      for (let q = 0; q < rs; q++) out[d + q] = src[o + q];
    }
  } else {
    for (let j = 0; j < B; j++) {
      const o = order[start + j] * rs;
      out.set(src.subarray(o, o + rs), j * rs);
    }
  }
  return out;
}

// ---------------------------------------------------------------- column parsing

function isShaped(v: unknown): v is { data: NumericArray | readonly number[]; shape: readonly number[]; dtype?: DType } {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !ArrayBuffer.isView(v) && 'data' in v && 'shape' in v;
}

function checkDType(op: string, name: string, dt: unknown): asserts dt is DType {
  if (dt !== 'float32' && dt !== 'int32' && dt !== 'bool') {
    throw new AxonError(op, `column '${name}': unknown dtype '${String(dt)}'; expected float32, int32 or bool`);
  }
}

/** @internal Turns one column input into a column; returns it with its sample count. */
export function toColumn(op: string, name: string, input: unknown, dtype: DType | undefined): { col: Column; n: number } {
  let flat: ArrayLike<number>;
  let shape: number[];
  let given: DType | undefined;
  if (isShaped(input)) {
    const { data, shape: s, dtype: d } = input;
    if (!Array.isArray(s) || s.length < 1 || s.some((v) => !Number.isInteger(v) || v < 0)) {
      throw new AxonError(op, `column '${name}': expected shape to be an array of non-negative integers [N, ...sampleShape], got ${JSON.stringify(s)}`);
    }
    if (!isNumericArray(data) && !Array.isArray(data)) throw new AxonError(op, `column '${name}': expected data to be a typed array or number[]`);
    const size = s.reduce((a, b) => a * b, 1);
    if (data.length !== size) throw new AxonError(op, `column '${name}': ${data.length} values cannot fill shape [${s.join(',')}] (${size} elements)`);
    if (d !== undefined) checkDType(op, name, d);
    flat = data;
    shape = [...s];
    given = d ?? (isNumericArray(data) ? dtypeOfArray(data) : undefined);
  } else if (isNumericArray(input)) {
    flat = input;
    shape = [input.length];
    given = dtypeOfArray(input);
  } else if (Array.isArray(input)) {
    if (input.length > 0 && isNumericArray(input[0])) {
      const rows = input as readonly NumericArray[];
      const len = rows[0].length;
      const out = new Float64Array(rows.length * len);
      rows.forEach((r, i) => {
        if (!isNumericArray(r) || r.length !== len) throw new AxonError(op, `column '${name}': row ${i} is ${isNumericArray(r) ? `of length ${r.length}` : 'not a typed array'}; expected a typed array of length ${len} like row 0`);
        out.set(r, i * len);
      });
      flat = out;
      shape = [rows.length, len];
      given = dtypeOfArray(rows[0]);
    } else {
      shape = [];
      let cur: unknown = input;
      while (Array.isArray(cur)) {
        shape.push(cur.length);
        cur = cur[0];
      }
      if (input.length > 0 && typeof cur !== 'number') throw new AxonError(op, `column '${name}': expected nested arrays of numbers, found ${cur === null ? 'null' : typeof cur}`);
      const out: number[] = [];
      flattenNested(op, name, input, shape, 0, out, []);
      flat = out;
    }
  } else {
    throw new AxonError(op, `column '${name}': expected a typed array, (nested) number arrays or { data, shape }, got ${input === null ? 'null' : typeof input}`);
  }
  const sampleShape = shape.slice(1);
  let dt = dtype ?? (name === 'x' && !isShaped(input) ? 'float32' : given);
  if (dtype === undefined && name === 'x' && isShaped(input) && input.dtype === undefined) dt = 'float32';
  if (dt === undefined) {
    let ints = sampleShape.length === 0;
    for (let i = 0; ints && i < flat.length; i++) if (!Number.isInteger(flat[i])) ints = false;
    dt = ints ? 'int32' : 'float32';
  }
  checkDType(op, name, dt);
  const rowSize = sampleShape.reduce((a, b) => a * b, 1);
  return { col: { data: asHostArray(flat, dt), shape: sampleShape, dtype: dt, rowSize }, n: shape[0] };
}

function flattenNested(op: string, name: string, v: unknown, shape: number[], depth: number, out: number[], path: number[]): void {
  if (depth === shape.length) {
    if (typeof v !== 'number') throw new AxonError(op, `column '${name}': expected a number at [${path.join('][')}], got ${Array.isArray(v) ? 'an array (ragged nesting)' : typeof v}`);
    out.push(v);
    return;
  }
  if (!Array.isArray(v) || v.length !== shape[depth]) {
    throw new AxonError(op, `column '${name}': ragged nested array at [${path.join('][')}]: expected ${shape[depth]} elements like the first entry, got ${Array.isArray(v) ? v.length : typeof v}`);
  }
  for (let i = 0; i < v.length; i++) {
    path.push(i);
    flattenNested(op, name, v[i], shape, depth + 1, out, path);
    path.pop();
  }
}

/** @internal Builds an ArrayDataset from parsed columns, checking sample counts agree. */
export function makeArrayDataset<K extends string>(op: string, parsed: Record<K, { col: Column; n: number }>, meta?: DatasetMeta): ArrayDataset<K> {
  const keys = Object.keys(parsed) as K[];
  if (keys.length === 0) throw new AxonError(op, 'expected at least one column, e.g. { x, y }');
  const n = parsed[keys[0]].n;
  const cols = {} as Record<K, Column>;
  for (const k of keys) {
    if (parsed[k].n !== n) throw new AxonError(op, `column '${k}' has ${parsed[k].n} samples but column '${keys[0]}' has ${n}; every column needs one entry per sample`);
    cols[k] = parsed[k].col;
  }
  return new ArrayDataset<K>(cols, n, null, n, meta);
}

/**
 * An in-memory dataset from arrays: `{ x, y }` (or any column names), where the first dimension
 * of every column indexes samples. Data given as typed arrays of the right dtype is used
 * without copying. See {@link ColumnInput} for the accepted forms and {@link FromArraysOptions}
 * for dtype defaults (`x` float32; integer labels int32).
 *
 * @example
 * ```ts
 * const xor = fromArrays({ x: [[0, 0], [0, 1], [1, 0], [1, 1]], y: [0, 1, 1, 0] });
 * xor.spec; // { x: { shape: [2], dtype: 'float32' }, y: { shape: [], dtype: 'int32' } }
 * // flat data with its full shape, e.g. MNIST-like images and labels
 * const images = new Uint8Array(5 * 28 * 28);
 * const labels = new Uint8Array([5, 0, 4, 1, 9]);
 * const mnist = fromArrays({ x: { data: images, shape: [5, 28, 28] }, y: labels });
 * mnist.size; // 5
 * mnist.spec.y; // { shape: [], dtype: 'int32' }
 * ```
 */
export function fromArrays<K extends string>(columns: Readonly<Record<K, ColumnInput>>, options: FromArraysOptions = {}): ArrayDataset<K> {
  const op = 'fromArrays';
  if (columns === null || typeof columns !== 'object' || Array.isArray(columns)) {
    throw new AxonError(op, 'expected an object of columns, e.g. { x: number[][], y: number[] }');
  }
  const parsed = {} as Record<K, { col: Column; n: number }>;
  for (const k of Object.keys(columns) as K[]) parsed[k] = toColumn(op, k, columns[k], options.dtypes?.[k]);
  return makeArrayDataset(op, parsed, options.meta);
}

/**
 * An in-memory dataset from tensors sharing their first dimension, e.g. `{ x: [N, 784], y: [N] }`.
 * The values are copied to the host (so it works on every backend, WebGPU included); the input
 * tensors are not disposed.
 *
 * @example
 * ```ts
 * const xTensor = tensor([[1, 2], [3, 4], [5, 6]]);
 * const yTensor = tensor([0, 1, 0], [3], 'int32');
 * const ds = await fromTensors({ x: xTensor, y: yTensor });
 * ds.toArrays().x; // { data: [1, 2, 3, 4, 5, 6], shape: [3, 2], dtype: 'float32' }
 * ds.spec.y; // { shape: [], dtype: 'int32' }
 * xTensor.isDisposed; // false
 * xTensor.dispose(); yTensor.dispose(); // the inputs are still the caller's
 * ```
 */
export async function fromTensors<K extends string>(columns: Readonly<Record<K, Tensor>>, options: { meta?: DatasetMeta } = {}): Promise<ArrayDataset<K>> {
  const op = 'fromTensors';
  if (columns === null || typeof columns !== 'object') throw new AxonError(op, 'expected an object of tensors, e.g. { x, y }');
  const parsed = {} as Record<K, { col: Column; n: number }>;
  for (const k of Object.keys(columns) as K[]) {
    const t: unknown = columns[k];
    if (!isTensor(t)) throw new AxonError(op, `column '${k}': expected a Tensor, got ${t === null ? 'null' : typeof t}`);
    if (t.isDisposed) throw new AxonError(op, `column '${k}': the tensor is disposed`);
    if (t.rank < 1) throw new AxonError(op, `column '${k}': expected a tensor of rank ≥ 1 (samples first), got a scalar`);
    // Copy: a backend may hand out a view of its own memory.
    const data = ((await t.data()) as HostArray).slice();
    const sampleShape = t.shape.slice(1);
    parsed[k] = {
      col: { data: asHostArray(data, t.dtype), shape: sampleShape, dtype: t.dtype, rowSize: sampleShape.reduce((a, b) => a * b, 1) },
      n: t.shape[0],
    };
  }
  return makeArrayDataset(op, parsed, options.meta);
}

/**
 * Options of {@link fromGenerator}.
 *
 * @example
 * const ds = fromGenerator(function* () { for (let i = 0; i < 1000; i++) yield i; }, { size: 1000 });
 * ds.batch(32).size; // 32
 */
export interface FromGeneratorOptions {
  /** The number of elements, when known (enables `split`, and sizes of `batch`, `take`, …). */
  size?: number;
}

/**
 * A streaming dataset from a function called once per pass that returns a (sync or async)
 * iterator or iterable — typically a generator function. It receives the pass index
 * ({@link Dataset.iteration}); a generator whose output depends only on that index (and its own
 * seeds) makes every pass of the pipeline reproducible after a restart.
 * Tensors in the elements it yields are handed to the pipeline: yield fresh ones, since operators
 * that drop an element (`filter`, `skip`, `split`, a stopped `shuffle`/`prefetch`) dispose them.
 *
 * @example
 * const ds = fromGenerator(function* () {
 *   for (let i = 0; i < 100; i++) yield { x: new Float32Array([i, i * i]), y: i % 2 };
 * }, { size: 100 });
 * await ds.take(2).toArray(); // [{ x: [0, 0], y: 0 }, { x: [1, 1], y: 1 }]
 * ds.size; // 100
 * const perPass = fromGenerator(function* (iteration) { yield iteration; }); // pass k yields k
 * await perPass.toArray(); // [0]
 * await perPass.toArray(); // [1]
 */
export function fromGenerator<T>(generator: (iteration: number) => Iterator<T> | AsyncIterator<T> | Iterable<T> | AsyncIterable<T>, options: FromGeneratorOptions = {}): Dataset<T> {
  if (typeof generator !== 'function') throw new AxonError('fromGenerator', `expected a function returning an iterator (e.g. a generator function), got ${typeof generator}`);
  if (options.size !== undefined && options.size !== Infinity) checkCount('fromGenerator', 'size', options.size);
  return new Dataset<T>(generator, options.size);
}
