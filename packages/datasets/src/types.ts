import type { DType } from '@axon/core';

/**
 * The host typed arrays Axon stores each dtype in (float32 → Float32Array, int32 → Int32Array, bool → Uint8Array).
 *
 * @example
 * const a: HostArray = new Int32Array([1, 2]);
 */
export type HostArray = Float32Array | Int32Array | Uint8Array;

/**
 * Any JavaScript typed array holding numbers (BigInt arrays excluded) that sources accept as input.
 *
 * @example
 * fromArrays({ x: { data: new Float64Array(6), shape: [3, 2] } }).spec.x; // { shape: [2], dtype: 'float32' }
 * fromArrays({ x: [[0], [1]], y: new Uint16Array([3, 4]) }).spec.y; // { shape: [], dtype: 'int32' }
 */
export type NumericArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | Uint8Array
  | Uint8ClampedArray
  | Uint16Array
  | Uint32Array;

/**
 * A host-side n-dimensional array: row-major `data` with a `shape` and an Axon `dtype`.
 * Batches of in-memory datasets are made of these; turn them into tensors with
 * {@link toTensor} or {@link Dataset.toTensors}.
 *
 * @example
 * const h: HostTensor = { data: new Float32Array(6), shape: [2, 3], dtype: 'float32' };
 * isHostTensor(h); // true
 */
export interface HostTensor {
  /** Row-major elements; `data.length` equals the product of `shape`. */
  readonly data: HostArray;
  /** Sizes, outermost first (the batch dimension first for batches). */
  readonly shape: readonly number[];
  /** Axon dtype of `data`. */
  readonly dtype: DType;
}

/**
 * One field of an in-memory sample: a number for per-sample scalars (class labels), or a
 * zero-copy row view for per-sample arrays (an image's pixels, flattened row-major).
 *
 * @example
 * const v: HostValue = 3; // a label
 */
export type HostValue = number | HostArray;

/**
 * One element of an in-memory dataset with columns `K` (e.g. `{ x: Float32Array; y: number }`).
 *
 * @example
 * const s: Sample<'x' | 'y'> = { x: new Float32Array(784), y: 5 };
 * const [b] = await fromGenerator(() => [s, s]).batch(2).toArray();
 * b.x.shape; // [2, 784]
 */
export type Sample<K extends string> = { [P in K]: HostValue };

/**
 * A batch of an in-memory dataset: one {@link HostTensor} per column, batch dimension first.
 *
 * @example
 * ```ts
 * const ds = fromArrays({ x: [[1, 2], [3, 4], [5, 6]], y: [0, 1, 1] });
 * const [b]: HostBatch<'x' | 'y'>[] = await ds.batch(2).toArray();
 * b.x; // { data: [1, 2, 3, 4], shape: [2, 2], dtype: 'float32' }
 * b.y; // { data: [0, 1], shape: [2], dtype: 'int32' }
 * ```
 */
export type HostBatch<K extends string> = { [P in K]: HostTensor };

/**
 * Values that {@link Dataset.batch} stacks into a {@link HostTensor}.
 *
 * @example
 * const s: Stackable = new Float32Array([1, 2]); // batch() stacks these
 * await fromGenerator(() => [s, new Float32Array([3, 4])]).batch(2).toArray(); // [{ data: [1, 2, 3, 4], shape: [2, 2] }]
 */
export type Stackable = number | NumericArray | HostTensor;

/**
 * What {@link Dataset.batch} yields for elements of type `T`: stackable elements (numbers, typed
 * arrays, host tensors, or plain objects of those) are stacked into {@link HostTensor}s; anything
 * else is batched as a plain array `T[]`.
 *
 * @example
 * type B = Batched<{ x: Float32Array; y: number }>; // { x: HostTensor; y: HostTensor }
 */
export type Batched<T> = [T] extends [Stackable]
  ? HostTensor
  : [T] extends [Record<string, Stackable>]
    ? { [P in keyof T]: HostTensor }
    : T[];
