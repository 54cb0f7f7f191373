/**
 * What `fit`/`evaluate`/`predict` accept as data, its conversion to tensors, and its checks against
 * the model and its loss before training.
 */
import { AxonError, type DType, type Tensor, fmtShape, isTensor, noGrad, tensor, tidy } from '@axon/core';
import type { Compiled } from './compile.js';
import type { Model } from './model.js';

/**
 * A host-side array with a shape (what `@axon/datasets` batches hold).
 * @example
 * const h: HostData = { data: new Float32Array(6), shape: [2, 3], dtype: 'float32' };
 * sequential([new Dense(1, { inputShape: [3] })]).predict(h).shape // [2, 1]
 */
export interface HostData {
  readonly data: Float32Array | Int32Array | Uint8Array | Float64Array;
  readonly shape: readonly number[];
  readonly dtype?: DType;
}

/**
 * Nested number arrays.
 * @example
 * const x: NestedNumbers = [[1, 2], [3, 4]];
 * sequential([new Dense(1, { inputShape: [2] })]).predict(x as DataInput).shape // [2, 1]
 */
export type NestedNumbers = number | readonly NestedNumbers[];

/**
 * Data `fit`/`evaluate`/`predict` accept for x or y: a tensor (not disposed by them), a host array
 * with a shape, a typed array (x: reshaped to `[N, ...inputShape]`; y: `[N]`), or nested arrays.
 * @example
 * const net = sequential([new Dense(1, { inputShape: [3] })]);
 * net.compile({ optimizer: 'sgd', loss: 'mse' });
 * const n = 4;
 * const x: DataInput = new Float32Array(n * 3); // reshaped to [4, 3]
 * const y: DataInput = [[1], [2], [3], [4]];    // nested arrays
 * const h = await net.fit(x, y, { epochs: 3, verbose: 0 });
 * h.epoch // [0, 1, 2]
 * net.predict({ data: new Float32Array(6), shape: [2, 3] }).shape // [2, 1]
 */
export type DataInput = Tensor | HostData | Float32Array | Int32Array | Uint8Array | Float64Array | readonly NestedNumbers[];

/**
 * One batch a dataset yields for `fit`: `{ x, y }` as tensors (disposed by `fit`) or host arrays
 * (what `@axon/datasets`' `batch()` yields).
 * @example
 * const batches: Batch[] = [
 *   { x: tensor([[0], [1]]), y: tensor([[1], [3]]) },
 *   { x: { data: new Float32Array([2, 3]), shape: [2, 1] }, y: { data: new Float32Array([5, 7]), shape: [2, 1] } },
 * ];
 * for (const b of batches) console.log(b.x.shape);
 * batches[1]!.x.shape // [2, 1]
 */
export interface Batch {
  readonly x: Tensor | HostData;
  readonly y: Tensor | HostData;
}

/**
 * A dataset for `fit`/`evaluate`: anything async-iterable (re-iterated each epoch) yielding
 * {@link Batch}es, such as `fromArrays({ x, y }).shuffle(0).batch(32)` from `@axon/datasets`.
 * @example
 * const net = sequential([new Dense(1, { inputShape: [1] })]);
 * net.compile({ optimizer: 'sgd', loss: 'mse' });
 * // Any (async) iterable of { x, y } batches; a generator function is re-run every epoch.
 * const ds: BatchSource = {
 *   *[Symbol.iterator]() {
 *     for (let i = 0; i < 3; i++) yield { x: { data: new Float32Array([i]), shape: [1, 1] }, y: { data: new Float32Array([2 * i + 1]), shape: [1, 1] } };
 *   },
 * };
 * const h = await net.fit(ds, { epochs: 5, verbose: 0 });
 * h.epoch.length // 5
 */
export type BatchSource = AsyncIterable<Batch> | Iterable<Batch>;

/**
 * Whether `v` is a {@link BatchSource} (not a tensor or array).
 * @example
 * isBatchSource([{ x: tensor([1]), y: tensor([2]) }]) // false
 * isBatchSource(new Set([{ x: tensor([1]), y: tensor([2]) }])) // true
 * isBatchSource(tensor([1, 2])) // false
 */
export function isBatchSource(v: unknown): v is BatchSource {
  if (v === null || typeof v !== 'object' || isTensor(v) || Array.isArray(v) || ArrayBuffer.isView(v)) return false;
  return typeof (v as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function' || typeof (v as Iterable<unknown>)[Symbol.iterator] === 'function';
}

/**
 * A dataset whose passes are numbered, as `@axon/datasets`' `Dataset`: `iterate(i)` is pass `i`
 * (a pure function of the pipeline and `i`: its shuffle order and random augmentation depend on
 * `i` only), and `for await (const b of ds)` is `ds.iterate(ds.iteration++)`. `fit` iterates such
 * datasets by index, so checkpoints can record where the data stood and a resumed run sees the
 * same batches.
 * @example
 * import { fromArrays } from '@axon/datasets';
 * const ds = fromArrays({ x: [[0], [1], [2], [3]], y: [[1], [3], [5], [7]] }).shuffle(0).batch(2);
 * const indexed: IndexedBatchSource = ds; // a Dataset is one
 * indexed.iteration // 0
 * const net = sequential([new Dense(1, { inputShape: [1] })]);
 * net.compile({ optimizer: 'sgd', loss: 'mse' });
 * await net.fit(ds, { epochs: 3, verbose: 0 });
 * ds.iteration // 3
 */
export interface IndexedBatchSource {
  /** The index of the pass the next `for await` starts. */
  iteration: number;
  /** Pass number `iteration`. */
  iterate(iteration: number): BatchSource;
}

/** `v` as an {@link IndexedBatchSource} when it is one (duck-typed), else null. @internal */
export function asIndexedSource(v: unknown): IndexedBatchSource | null {
  if (v === null || typeof v !== 'object') return null;
  const o = v as Partial<IndexedBatchSource>;
  return typeof o.iterate === 'function' && typeof o.iteration === 'number' && Number.isSafeInteger(o.iteration) ? (o as IndexedBatchSource) : null;
}

function isHostData(v: unknown): v is HostData {
  return v !== null && typeof v === 'object' && !isTensor(v) && ArrayBuffer.isView((v as HostData).data) && Array.isArray((v as HostData).shape);
}

/** A tensor and whether the caller created it (and must dispose it). */
export interface Owned {
  readonly t: Tensor;
  readonly owned: boolean;
}

/**
 * Converts data to a tensor. `exampleShape` (one example's shape) reshapes flat typed arrays. @internal
 */
export function toTensorData(op: string, what: string, v: DataInput | Batch['x'], exampleShape: readonly number[] | null): Owned {
  if (isTensor(v)) {
    v.assertLive(op);
    return { t: v, owned: false };
  }
  if (isHostData(v)) {
    const n = v.shape.reduce((a, b) => a * b, 1);
    if (n !== v.data.length) throw new AxonError(op, `${what} has shape ${fmtShape(v.shape)} (${n} elements) but ${v.data.length} values`);
    const dtype = v.dtype ?? (v.data instanceof Int32Array ? 'int32' : 'float32');
    const data = v.data instanceof Float64Array ? Float32Array.from(v.data) : v.data;
    return { t: tensor(data, v.shape, dtype), owned: true };
  }
  if (ArrayBuffer.isView(v)) {
    const arr = v instanceof Float64Array ? Float32Array.from(v) : v;
    const dtype: DType = arr instanceof Float32Array ? 'float32' : 'int32';
    const per = exampleShape ? exampleShape.reduce((a, b) => a * b, 1) : 1;
    if (arr.length % per !== 0) throw new AxonError(op, `${what} has ${arr.length} values, not a multiple of one example's ${per} ([${exampleShape?.join(', ')}])`);
    const shape = exampleShape ? [arr.length / per, ...exampleShape] : [arr.length];
    return { t: tensor(arr, shape, dtype), owned: true };
  }
  if (Array.isArray(v)) return { t: tensor(v as number[]), owned: true };
  throw new AxonError(op, `${what} must be a Tensor, a typed array, { data, shape } or nested arrays, got ${v === null ? 'null' : typeof v}`);
}

/**
 * A seeded permutation of 0..n−1 (Fisher–Yates over a mulberry32 stream). @internal
 */
export function permutation(n: number, seed: number): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  let s = seed >>> 0 || 1;
  const next = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    const tmp = p[i]!;
    p[i] = p[j]!;
    p[j] = tmp;
  }
  return p;
}

/**
 * A flat typed array `y` holding k values per example of `x` (e.g. one-hot rows) becomes [N, k];
 * anything else is returned as a new handle (so the caller can own it). @internal
 */
export function matchRows(x: Tensor, y: Tensor, given: DataInput): Tensor {
  const n = x.shape[0]!;
  if (ArrayBuffer.isView(given) && y.rank === 1 && n > 0 && y.size !== n && y.size % n === 0) return y.reshape([n, y.size / n]);
  return y.detach();
}

/** @internal Rows start..start+size of `t` along axis 0 (a view). */
export function rows(t: Tensor, start: number, size: number): Tensor {
  return t.slice([start, ...t.shape.slice(1).map(() => 0)], [size, ...t.shape.slice(1)]);
}

/** @internal Validates x/y against the model and loss before training; returns the output shape. */
export function validateData(model: Model, op: string, c: Compiled, xIn: Tensor | readonly Tensor[], y: Tensor, yHost: ArrayLike<number> | null): readonly number[] {
  const xs = isTensor(xIn) ? [xIn] : xIn;
  const x = xs[0]!;
  if (x.rank < 1) throw new AxonError(op, `x must have a batch axis, got ${fmtShape(x.shape)}`);
  if (x.shape[0] !== y.shape[0]) throw new AxonError(op, `x has ${x.shape[0]} examples (${fmtShape(x.shape)}) but y has ${y.shape[0]} (${fmtShape(y.shape)}); they must match`);
  const inShape = xs.length === 1 ? model.inputShape : null; // several inputs: checked by checkInputs
  if (inShape) {
    const got = x.shape.slice(1);
    if (got.length !== inShape.length || got.some((d, i) => d !== inShape[i])) {
      throw new AxonError(op, `x has shape ${fmtShape(x.shape)}, but the model expects [N, ${inShape.join(', ')}] (input shape [${inShape.join(', ')}])`);
    }
  }
  let outShape: readonly number[];
  const wasTraining = model.training;
  try {
    model.eval();
    outShape = tidy(() => noGrad(() => [...model.call(...xs.map((t) => (t.shape[0] === 0 ? t : rows(t, 0, 1)))).shape]));
  } catch (e) {
    throw new AxonError(op, `the model cannot run on x ${xs.map((t) => fmtShape(t.shape)).join(', ')}: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    if (wasTraining) model.train();
  }
  const k = c.loss.kind;
  const classes = outShape[outShape.length - 1]!;
  if (k === 'sparseCategorical') {
    // one class index per output row: [N] for [N, C] outputs, [N, T] for a sequence model's
    // [N, T, C] (every position counts in the mean), each optionally with a trailing axis of 1
    const lead = outShape.slice(1, -1);
    const ys = y.shape.slice(1);
    const sameLead = (s: readonly number[]): boolean => s.length === lead.length && s.every((d, i) => d === lead[i]);
    const ok = sameLead(ys) || (ys.length === lead.length + 1 && ys[ys.length - 1] === 1 && sameLead(ys.slice(0, -1)));
    if (!ok) {
      const want = lead.length === 0 ? '[N] (or [N, 1])' : `[N, ${lead.join(', ')}] (one per position of the output [N, ${outShape.slice(1).join(', ')}])`;
      throw new AxonError(op, `sparseCategoricalCrossentropy expects y of class indices ${want}, got ${fmtShape(y.shape)}${y.rank === outShape.length ? ' — for one-hot labels use categoricalCrossentropy' : ''}`);
    }
    if (yHost) {
      for (let i = 0; i < yHost.length; i++) {
        const v = yHost[i]!;
        if (!Number.isInteger(v) || v < 0 || v >= classes) {
          throw new AxonError(op, `label ${v} at index ${i} is out of range for the model's ${classes} classes (sparseCategoricalCrossentropy expects integers 0 <= label < ${classes})`);
        }
      }
    }
  } else if (k === 'categorical') {
    if (y.rank !== 2 || y.shape[1] !== classes) throw new AxonError(op, `categoricalCrossentropy expects one-hot y [N, ${classes}] for the model's ${classes} outputs, got ${fmtShape(y.shape)} — for class indices use sparseCategoricalCrossentropy`);
  } else if (k === 'binary') {
    if (yHost) for (let i = 0; i < yHost.length; i++) if (!(yHost[i]! >= 0 && yHost[i]! <= 1)) throw new AxonError(op, `binaryCrossentropy expects targets in [0, 1]; y[${i}] is ${yHost[i]}`);
  }
  if (k === 'mse' || k === 'mae' || k === 'binary') {
    const ys = y.shape.slice(1);
    const os = outShape.slice(1);
    const same = ys.length === os.length && ys.every((d, i) => d === os[i]);
    const squeezed = os.length === 1 && os[0] === 1 && ys.length === 0;
    if (!same && !squeezed) throw new AxonError(op, `y has shape ${fmtShape(y.shape)} but the model outputs [N, ${os.join(', ')}]`);
  }
  return outShape;
}

/** @internal Converts one dataset batch to tensors, validating it (labels checked from host data for free). */
export function batchTensors(model: Model, op: string, c: Compiled, batch: Batch, first: boolean): { xb: Tensor; yb: Tensor; toFree: Tensor[] } {
  if (batch === null || typeof batch !== 'object' || batch.x === undefined || batch.y === undefined) {
    throw new AxonError(op, 'a dataset batch must be { x, y } (e.g. fromArrays({ x, y }).batch(32))');
  }
  const toFree: Tensor[] = [];
  const xo = toTensorData(op, 'batch x', batch.x, null);
  const yo = toTensorData(op, 'batch y', batch.y, null);
  toFree.push(xo.t, yo.t);
  let yb = yo.t;
  const hostY = !isTensor(batch.y) ? (batch.y.data as ArrayLike<number>) : first && yb.backend.supportsSyncRead ? yb.dataSync() : null;
  try {
    if (first || hostY) validateData(model, op, c, xo.t, yb, c.loss.kind === 'sparseCategorical' || c.loss.kind === 'binary' ? hostY : null);
  } catch (e) {
    for (const t of toFree) t.dispose();
    throw e;
  }
  if (c.loss.kind === 'sparseCategorical' && yb.dtype !== 'int32') {
    yb = noGrad(() => yb.astype('int32'));
    toFree.push(yb);
  }
  return { xb: xo.t, yb, toFree };
}
