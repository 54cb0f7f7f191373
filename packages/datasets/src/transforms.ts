import { AxonError } from '@axon/core';
import { type ColumnInput, fromArrays } from './array-dataset.js';
import { isHostTensor, isNumericArray } from './host.js';
import type { HostBatch, HostTensor, NumericArray } from './types.js';

/**
 * Numeric data the transforms accept: a typed array or `number[]` (flat, row-major), nested
 * number arrays (`number[][]`: samples × features), or a {@link HostTensor} (features = its last
 * dimension).
 *
 * @example
 * const d: NumericData = [[1, 2], [3, 4]]; // 2 samples × 2 features
 * standardize(d).data; // [-1, -1, 1, 1]
 */
export type NumericData = NumericArray | readonly number[] | readonly (readonly number[])[] | HostTensor;

function flatten(op: string, x: NumericData): { data: ArrayLike<number>; lastDim: number | undefined } {
  if (isHostTensor(x)) return { data: x.data, lastDim: x.shape.length > 0 ? x.shape[x.shape.length - 1] : undefined };
  if (isNumericArray(x)) return { data: x, lastDim: undefined };
  if (Array.isArray(x)) {
    if (x.length > 0 && Array.isArray(x[0])) {
      const rows = x as readonly (readonly number[])[];
      const f = rows[0].length;
      const out = new Float64Array(rows.length * f);
      rows.forEach((r, i) => {
        if (!Array.isArray(r) || r.length !== f) throw new AxonError(op, `row ${i} has ${Array.isArray(r) ? r.length : 'no'} values; expected ${f} like row 0`);
        for (let j = 0; j < f; j++) out[i * f + j] = r[j];
      });
      return { data: out, lastDim: f };
    }
    return { data: x as readonly number[], lastDim: undefined };
  }
  throw new AxonError(op, `expected a typed array, number[], number[][] or HostTensor, got ${x === null ? 'null' : typeof x}`);
}

function featureCount(op: string, data: ArrayLike<number>, features: number | undefined, lastDim: number | undefined): number {
  const f = features ?? lastDim ?? 1;
  if (!Number.isInteger(f) || f < 1) throw new AxonError(op, `expected features to be a positive integer, got ${f}`);
  if (data.length % f !== 0) throw new AxonError(op, `${data.length} values do not split into rows of ${f} features`);
  return f;
}

function perFeature(op: string, name: string, v: number | ArrayLike<number>, f: number): Float64Array {
  if (typeof v === 'number') return new Float64Array(f).fill(v);
  if (v.length !== f) throw new AxonError(op, `expected ${name} to be a number or have ${f} values (one per feature), got ${v.length}`);
  return Float64Array.from(v);
}

/**
 * Options of {@link normalize}.
 *
 * @example
 * const x = new Float32Array([0.5, 0.75, 1, 0, 0.25, 0.5]); // two RGB pixels, channels last
 * normalize(x, { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25], features: 3 }); // [0, 1, 2, -2, -1, 0]
 */
export interface NormalizeOptions {
  /** Subtracted: one number, or one per feature (channel). */
  mean: number | ArrayLike<number>;
  /** Divided by: one number, or one per feature (channel); must be non-zero. */
  std: number | ArrayLike<number>;
  /**
   * Feature (channel) count: element `i` uses `mean[i % features]`. Default: the length of
   * `mean`/`std` when arrays, else 1.
   */
  features?: number;
}

/**
 * `(x - mean) / std` with given statistics (scalars or per-channel, channels last), into a new
 * Float32Array.
 *
 * @example
 * ```ts
 * const images = new Float32Array([0, 1]); // pixels in [0, 1]
 * normalize(images, { mean: 0.1307, std: 0.3081 }); // [-0.4242, 2.8215]
 * // ImageNet's per-channel statistics; two RGB pixels, channels last
 * const rgb = new Float32Array([0, 0.5, 1, 1, 0.5, 0]);
 * normalize(rgb, { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] }); // [-2.1179, 0.1964, 2.64, 2.2489, 0.1964, -1.8044]
 * ```
 */
export function normalize(x: NumericData, options: NormalizeOptions): Float32Array {
  const op = 'normalize';
  if (options === null || typeof options !== 'object' || options.mean === undefined || options.std === undefined) {
    throw new AxonError(op, 'expected options { mean, std }');
  }
  const { data } = flatten(op, x);
  const fromStats = typeof options.mean !== 'number' ? options.mean.length : typeof options.std !== 'number' ? options.std.length : 1;
  const f = featureCount(op, data, options.features ?? fromStats, undefined);
  const mean = perFeature(op, 'mean', options.mean, f);
  const std = perFeature(op, 'std', options.std, f);
  if (std.some((s) => s === 0 || !Number.isFinite(s))) throw new AxonError(op, 'expected every std to be finite and non-zero');
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const k = i % f;
    out[i] = (data[i] - mean[k]) / std[k];
  }
  return out;
}

/**
 * Options of scalers' `fit` and of {@link standardize} / {@link minMaxScale}.
 *
 * @example
 * ```ts
 * const flatX = new Float32Array([1, 10, 3, 30]); // 2 samples × 2 features, flat
 * standardize(flatX, { features: 2 }).data; // [-1, -1, 1, 1]
 * // without `features` (and no nesting to take it from), one statistic for all values
 * standardize(flatX).scaler.mean; // [11]
 * ```
 */
export interface ScaleOptions {
  /** Features per sample (statistics are per feature). Default: the last dimension of nested arrays / HostTensors, else 1 (one global statistic). */
  features?: number;
}

/**
 * Standardizes features to zero mean and unit variance with statistics fitted on training data
 * (population std; constant features get std 1 so they map to 0).
 *
 * @example
 * ```ts
 * const xTrain = new Float32Array([1, 100, 3, 300]); // 2 samples × 2 features, flat
 * const xTest = new Float32Array([2, 500]);
 * const scaler = new StandardScaler().fit(xTrain, { features: 2 });
 * scaler.mean; // [2, 200]
 * scaler.std; // [1, 100]
 * const xt = scaler.transform(xTest); // [0, 3]
 * ```
 */
export class StandardScaler {
  /** Per-feature means (after `fit`). */
  mean: Float64Array = new Float64Array(0);
  /** Per-feature standard deviations (after `fit`). */
  std: Float64Array = new Float64Array(0);

  /**
   * Fits the per-feature mean and std.
   * @example new StandardScaler().fit([[1, 2], [3, 4]]).mean // [2, 3]
   */
  fit(x: NumericData, options: ScaleOptions = {}): this {
    const op = 'StandardScaler.fit';
    const { data, lastDim } = flatten(op, x);
    const f = featureCount(op, data, options.features, lastDim);
    const n = data.length / f;
    if (n === 0) throw new AxonError(op, 'expected at least one sample to fit on');
    const mean = new Float64Array(f);
    const m2 = new Float64Array(f);
    for (let i = 0; i < data.length; i++) mean[i % f] += data[i];
    for (let k = 0; k < f; k++) mean[k] /= n;
    for (let i = 0; i < data.length; i++) {
      const d = data[i] - mean[i % f];
      m2[i % f] += d * d;
    }
    const std = m2.map((v) => {
      const s = Math.sqrt(v / n);
      return s > 1e-12 ? s : 1;
    });
    this.mean = mean;
    this.std = std;
    return this;
  }

  /**
   * Applies the fitted statistics to data with the same feature count.
   * @example
   * const scaler = new StandardScaler().fit([[0], [2]]); // mean 1, std 1
   * scaler.transform([[1], [4]]); // [0, 3]
   */
  transform(x: NumericData): Float32Array {
    const op = 'StandardScaler.transform';
    if (this.mean.length === 0) throw new AxonError(op, 'the scaler is not fitted; call fit(train) first');
    return normalizeWith(op, x, this.mean, this.std);
  }

  /**
   * Undoes {@link StandardScaler.transform}.
   * @example
   * const scaler = new StandardScaler().fit([[0, 10], [2, 30]]);
   * const x = [[1, 20], [4, 50]];
   * scaler.transform(x); // [0, 0, 3, 3]
   * scaler.inverseTransform(scaler.transform(x)); // [1, 20, 4, 50]
   */
  inverseTransform(x: NumericData): Float32Array {
    const op = 'StandardScaler.inverseTransform';
    if (this.mean.length === 0) throw new AxonError(op, 'the scaler is not fitted; call fit(train) first');
    const { data } = flatten(op, x);
    const f = featureCount(op, data, this.mean.length, undefined);
    const out = new Float32Array(data.length);
    for (let i = 0; i < data.length; i++) out[i] = data[i] * this.std[i % f] + this.mean[i % f];
    return out;
  }
}

function normalizeWith(op: string, x: NumericData, sub: Float64Array, div: Float64Array, add = 0): Float32Array {
  const { data } = flatten(op, x);
  const f = featureCount(op, data, sub.length, undefined);
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = (data[i] - sub[i % f]) / div[i % f] + add;
  return out;
}

/**
 * Scales features linearly into `[min, max]` (default [0, 1]) with ranges fitted on training data
 * (constant features map to `min`).
 *
 * @example
 * ```ts
 * const xTrain = [[0, 10, 5], [10, 20, 5]];
 * const xTest = [[5, 30, 5]];
 * const s = new MinMaxScaler().fit(xTrain, { features: 3 });
 * s.dataMin; // [0, 10, 5]
 * // test values outside the training range fall outside [0, 1]; the constant feature maps to 0
 * const xt = s.transform(xTest); // [0.5, 2, 0]
 * ```
 */
export class MinMaxScaler {
  /** Per-feature minimum (after `fit`). */
  dataMin: Float64Array = new Float64Array(0);
  /** Per-feature maximum (after `fit`). */
  dataMax: Float64Array = new Float64Array(0);
  private readonly lo: number;
  private readonly hi: number;

  /**
   * @param range Target interval, default `[0, 1]`.
   * @example
   * const s = new MinMaxScaler([-1, 1]).fit([[0], [4]]);
   * s.transform([[0], [1], [4]]); // [-1, -0.5, 1]
   * new MinMaxScaler([1, 0]); // throws: 'expected a range [min, max] with min < max'
   */
  constructor(range: readonly [number, number] = [0, 1]) {
    if (!Array.isArray(range) || range.length !== 2 || !(range[0] < range[1])) {
      throw new AxonError('MinMaxScaler', `expected a range [min, max] with min < max, got ${JSON.stringify(range)}`);
    }
    this.lo = range[0];
    this.hi = range[1];
  }

  /**
   * Fits the per-feature minimum and maximum.
   * @example new MinMaxScaler().fit([[1], [3]]).dataMax // [3]
   */
  fit(x: NumericData, options: ScaleOptions = {}): this {
    const op = 'MinMaxScaler.fit';
    const { data, lastDim } = flatten(op, x);
    const f = featureCount(op, data, options.features, lastDim);
    if (data.length === 0) throw new AxonError(op, 'expected at least one sample to fit on');
    const lo = new Float64Array(f).fill(Infinity);
    const hi = new Float64Array(f).fill(-Infinity);
    for (let i = 0; i < data.length; i++) {
      const k = i % f;
      const v = data[i];
      if (v < lo[k]) lo[k] = v;
      if (v > hi[k]) hi[k] = v;
    }
    this.dataMin = lo;
    this.dataMax = hi;
    return this;
  }

  /**
   * Applies the fitted ranges.
   * @example
   * const s = new MinMaxScaler().fit([[1], [3]]);
   * s.transform([[2]]); // [0.5]
   */
  transform(x: NumericData): Float32Array {
    const op = 'MinMaxScaler.transform';
    if (this.dataMin.length === 0) throw new AxonError(op, 'the scaler is not fitted; call fit(train) first');
    const span = this.hi - this.lo;
    const div = this.dataMax.map((mx, k) => {
      const r = mx - this.dataMin[k];
      return (r > 0 ? r : 1) / span;
    });
    return normalizeWith(op, x, this.dataMin, div, this.lo);
  }

  /**
   * Undoes {@link MinMaxScaler.transform}.
   * @example
   * const s = new MinMaxScaler([-1, 1]).fit([[1, 10], [3, 30]]);
   * const x = [[2, 15]];
   * s.transform(x); // [0, -0.5]
   * s.inverseTransform(s.transform(x)); // [2, 15]
   */
  inverseTransform(x: NumericData): Float32Array {
    const op = 'MinMaxScaler.inverseTransform';
    if (this.dataMin.length === 0) throw new AxonError(op, 'the scaler is not fitted; call fit(train) first');
    const { data } = flatten(op, x);
    const f = featureCount(op, data, this.dataMin.length, undefined);
    const span = this.hi - this.lo;
    const out = new Float32Array(data.length);
    for (let i = 0; i < data.length; i++) {
      const k = i % f;
      const r = this.dataMax[k] - this.dataMin[k];
      out[i] = ((data[i] - this.lo) / span) * (r > 0 ? r : 1) + this.dataMin[k];
    }
    return out;
  }
}

/**
 * What {@link standardize} and {@link minMaxScale} return.
 *
 * @example
 * const xTrain = [[1], [2], [3]];
 * const { data, scaler }: Scaled<StandardScaler> = standardize(xTrain);
 * data; // [-1.2247, 0, 1.2247]
 * scaler.transform([[4]]); // [2.4495]
 */
export interface Scaled<S> {
  /** The transformed training data. */
  readonly data: Float32Array;
  /** The fitted scaler: apply it to validation/test data with `scaler.transform(x)`. */
  readonly scaler: S;
}

/**
 * Fits a {@link StandardScaler} on training data and returns the standardized data with the
 * scaler (to apply the same statistics to other data).
 *
 * @example
 * ```ts
 * const xTrain = new Float32Array([1, 10, 2, 20, 3, 30, 4, 40]); // 4 samples × 2 features, flat
 * const xTest = new Float32Array([5, 50]);
 * const { data: xTrainS, scaler } = standardize(xTrain, { features: 2 });
 * xTrainS; // [-1.3416, -1.3416, -0.4472, -0.4472, 0.4472, 0.4472, 1.3416, 1.3416]
 * const xTestS = scaler.transform(xTest); // [2.2361, 2.2361]
 * ```
 */
export function standardize(train: NumericData, options: ScaleOptions = {}): Scaled<StandardScaler> {
  const scaler = new StandardScaler().fit(train, options);
  return { data: scaler.transform(train), scaler };
}

/**
 * Fits a {@link MinMaxScaler} on training data and returns the scaled data with the scaler.
 *
 * @example
 * ```ts
 * const xTrain = new Float32Array([0, 100, 10, 300]); // 2 samples × 2 features, flat
 * const xTest = new Float32Array([5, 200]);
 * const { data, scaler } = minMaxScale(xTrain, { features: 2, range: [-1, 1] });
 * data; // [-1, -1, 1, 1]
 * const xTestS = scaler.transform(xTest); // [0, 0]
 * ```
 */
export function minMaxScale(train: NumericData, options: ScaleOptions & { range?: readonly [number, number] } = {}): Scaled<MinMaxScaler> {
  const scaler = new MinMaxScaler(options.range).fit(train, options);
  return { data: scaler.transform(train), scaler };
}

/**
 * One-hot encodes integer class labels into a float32 `[N, numClasses]` array (row-major).
 *
 * @example
 * oneHot([0, 2], 3); // [1, 0, 0, 0, 0, 1]
 * oneHot(new Int32Array([1]), 2); // [0, 1]
 * oneHot([3], 3); // throws: 'label 0 is 3; expected an integer in [0, 2]'
 */
export function oneHot(labels: NumericArray | readonly number[], numClasses: number): Float32Array {
  const op = 'oneHot';
  if (!Number.isInteger(numClasses) || numClasses < 1) throw new AxonError(op, `expected numClasses to be a positive integer, got ${numClasses}`);
  if (!isNumericArray(labels) && !Array.isArray(labels)) throw new AxonError(op, 'expected labels as a typed array or number[]');
  const out = new Float32Array(labels.length * numClasses);
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i];
    if (!Number.isInteger(c) || c < 0 || c >= numClasses) {
      throw new AxonError(op, `label ${i} is ${c}; expected an integer in [0, ${numClasses - 1}]`);
    }
    out[i * numClasses + c] = 1;
  }
  return out;
}

/**
 * Options of {@link trainTestSplit}.
 *
 * @example
 * ```ts
 * const x = [[0], [1], [2], [3], [4]];
 * const y = [0, 1, 0, 1, 0];
 * trainTestSplit({ x, y }, { testSize: 0.2, seed: 0 }).test.x.data; // [4]
 * // a count, and no shuffling: the test part is the last samples
 * trainTestSplit({ x, y }, { testSize: 2, shuffle: false }).test.x.data; // [3, 4]
 * ```
 */
export interface TrainTestSplitOptions {
  /** Size of the test part: a fraction in (0, 1) or a count (default 0.25). */
  testSize?: number;
  /** Shuffle before splitting (deterministic for the seed; default 0). Pass `shuffle: false` to keep order. */
  seed?: number;
  /** Whether to shuffle (default true); without shuffling the test part is the last samples. */
  shuffle?: boolean;
}

/**
 * Splits columns of samples (`{ x, y }`, any {@link ColumnInput}) into train and test
 * {@link HostTensor}s — scikit-learn's `train_test_split`.
 *
 * @example
 * ```ts
 * const xs = Array.from({ length: 10 }, (_, i) => [i, 2 * i]);
 * const ys = Array.from({ length: 10 }, (_, i) => i % 2);
 * const { train, test } = trainTestSplit({ x: xs, y: ys }, { testSize: 0.2, seed: 42 });
 * train.x.shape; // [8, 2]
 * test.x; // { data: [1, 2, 0, 0], shape: [2, 2], dtype: 'float32' }
 * test.y; // { data: [1, 0], shape: [2], dtype: 'int32' }
 * ```
 */
export function trainTestSplit<K extends string>(
  columns: Readonly<Record<K, ColumnInput>>,
  options: TrainTestSplitOptions = {},
): { train: HostBatch<K>; test: HostBatch<K> } {
  const op = 'trainTestSplit';
  const ds = fromArrays(columns);
  const n = ds.size;
  const t = options.testSize ?? 0.25;
  let nTest: number;
  if (typeof t !== 'number' || !Number.isFinite(t) || t < 0) throw new AxonError(op, `expected testSize to be a fraction in [0, 1) or a count, got ${String(t)}`);
  if (t < 1) nTest = Math.round(t * n);
  else if (Number.isInteger(t) && t <= n) nTest = t;
  else throw new AxonError(op, `testSize ${t} is not a fraction below 1 nor an integer count ≤ ${n}`);
  const seed = options.shuffle === false ? undefined : (options.seed ?? 0);
  const [train, test] = ds.split([n - nTest, nTest], { seed });
  return { train: train.toArrays(), test: test.toArrays() };
}
