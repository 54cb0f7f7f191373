import { AxonError, type DType, isTensor, type Tensor, tensor } from '@axon/core';
import type { HostArray, HostTensor, NumericArray } from './types.js';

/** @internal */
export function isNumericArray(v: unknown): v is NumericArray {
  return ArrayBuffer.isView(v) && !(v instanceof DataView) && !(v instanceof BigInt64Array) && !(v instanceof BigUint64Array);
}

/**
 * Whether `v` is a {@link HostTensor} (`{ data, shape, dtype }` with a host typed array).
 *
 * @example
 * isHostTensor({ data: new Float32Array(2), shape: [2], dtype: 'float32' }); // true
 * isHostTensor({ data: [1, 2], shape: [2], dtype: 'float32' }); // false
 */
export function isHostTensor(v: unknown): v is HostTensor {
  if (v === null || typeof v !== 'object') return false;
  const o = v as Partial<HostTensor>;
  return (
    (o.data instanceof Float32Array || o.data instanceof Int32Array || o.data instanceof Uint8Array) &&
    Array.isArray(o.shape) &&
    (o.dtype === 'float32' || o.dtype === 'int32' || o.dtype === 'bool')
  );
}

/** @internal The dtype a typed array maps to by default. */
export function dtypeOfArray(a: NumericArray): DType {
  return a instanceof Float32Array || a instanceof Float64Array ? 'float32' : 'int32';
}

/** @internal A fresh host array of `dtype`. */
export function allocHost(dtype: DType, n: number): HostArray {
  return dtype === 'float32' ? new Float32Array(n) : dtype === 'int32' ? new Int32Array(n) : new Uint8Array(n);
}

/** @internal `a` as the host array of `dtype`, without copying when it already is one. */
export function asHostArray(a: ArrayLike<number>, dtype: DType): HostArray {
  if (dtype === 'float32' && a instanceof Float32Array) return a;
  if (dtype === 'int32' && a instanceof Int32Array) return a;
  if (dtype === 'bool' && a instanceof Uint8Array) return a;
  const out = allocHost(dtype, a.length);
  if (dtype === 'bool') for (let i = 0; i < a.length; i++) out[i] = a[i] ? 1 : 0;
  else out.set(a as ArrayLike<number>);
  return out;
}

/**
 * Creates an Axon {@link Tensor} from a {@link HostTensor} (the data is copied to the current
 * backend; the caller owns — and must dispose — the result).
 *
 * @example
 * ```ts
 * const t = toTensor({ data: new Float32Array([1, 2, 3, 4]), shape: [2, 2], dtype: 'float32' });
 * t.arraySync(); // [[1, 2], [3, 4]]
 * t.dispose();
 * toTensor({ data: new Float32Array([0.5]), shape: [1], dtype: 'int32' }); // throws: 'a int32 HostTensor needs its data in a Int32Array'
 * ```
 */
export function toTensor(h: HostTensor): Tensor {
  const op = 'toTensor';
  if (!isHostTensor(h)) throw new AxonError(op, 'expected a HostTensor { data: Float32Array | Int32Array | Uint8Array, shape: number[], dtype }');
  const want = h.dtype === 'float32' ? Float32Array : h.dtype === 'int32' ? Int32Array : Uint8Array;
  if (!(h.data instanceof want)) {
    // A mismatch would be converted silently (e.g. 0.5 in a Float32Array labelled int32 becomes 0).
    throw new AxonError(op, `a ${h.dtype} HostTensor needs its data in a ${want.name}, got a ${h.data.constructor.name} (shape [${h.shape.join(',')}])`);
  }
  const size = h.shape.reduce((a, b) => a * b, 1);
  if (h.shape.some((d) => !Number.isInteger(d) || d < 0) || size !== h.data.length) {
    throw new AxonError(op, `shape [${h.shape.join(',')}] (${size} elements) does not match the ${h.data.length} values of the ${h.dtype} HostTensor`);
  }
  return tensor(h.data, h.shape, h.dtype);
}

/**
 * Replaces HostTensors with Tensors: what {@link Dataset.toTensors} yields for `T`.
 *
 * @example
 * type T = Tensorized<{ x: HostTensor; y: HostTensor }>; // { x: Tensor; y: Tensor }
 */
export type Tensorized<T> = [T] extends [HostTensor]
  ? Tensor
  : [T] extends [Record<string, unknown>]
    ? { [P in keyof T]: T[P] extends HostTensor ? Tensor : T[P] }
    : T;

/**
 * Converts a batch — a {@link HostTensor}, or a plain object whose {@link HostTensor} fields
 * become tensors (other fields are kept) — into tensors. The caller owns the tensors. If a
 * conversion fails, tensors already made for this batch are disposed.
 *
 * @example
 * ```ts
 * const hostX: HostTensor = { data: new Float32Array([1, 2, 3, 4]), shape: [2, 2], dtype: 'float32' };
 * const hostY: HostTensor = { data: new Int32Array([0, 1]), shape: [2], dtype: 'int32' };
 * const { x, y } = batchToTensors({ x: hostX, y: hostY });
 * x.arraySync(); // [[1, 2], [3, 4]]
 * y.dtype; // 'int32'
 * x.dispose(); y.dispose();
 * ```
 */
export function batchToTensors<T>(batch: T): Tensorized<T> {
  if (isHostTensor(batch)) return toTensor(batch) as Tensorized<T>;
  if (batch === null || typeof batch !== 'object' || Object.getPrototypeOf(batch) !== Object.prototype) {
    return batch as Tensorized<T>;
  }
  const out: Record<string, unknown> = {};
  const made: Tensor[] = [];
  try {
    for (const [k, v] of Object.entries(batch as Record<string, unknown>)) {
      if (isHostTensor(v)) {
        const t = toTensor(v);
        made.push(t);
        out[k] = t;
      } else out[k] = v;
    }
  } catch (e) {
    for (const t of made) t.dispose();
    throw e;
  }
  return out as Tensorized<T>;
}

/** @internal Disposes any tensors at the top level of `v` or in its plain-object fields / array items. */
export function disposeTensorsIn(v: unknown): void {
  if (isTensor(v)) {
    if (!v.isDisposed) v.dispose();
    return;
  }
  if (Array.isArray(v)) for (const x of v) disposeTensorsIn(x);
  else if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    for (const x of Object.values(v)) if (isTensor(x) && !x.isDisposed) x.dispose();
  }
}

function kindOf(v: unknown): 'number' | 'array' | 'host' | 'object' | 'other' {
  if (typeof v === 'number') return 'number';
  if (isNumericArray(v)) return 'array';
  if (isHostTensor(v)) return 'host';
  if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    const vals = Object.values(v);
    if (vals.length > 0 && vals.every((x) => typeof x === 'number' || isNumericArray(x) || isHostTensor(x))) return 'object';
  }
  return 'other';
}

/** @internal Whether elements like `v` are stacked by `batch` (else batched as arrays). */
export function isStackable(v: unknown): boolean {
  return kindOf(v) !== 'other';
}

/** @internal Stacks one field across a batch of elements. */
function stackField(op: string, items: readonly unknown[], get: (x: unknown) => unknown, name: string, dtype: DType | undefined): HostTensor {
  const first = get(items[0]);
  const B = items.length;
  const where = name ? ` field '${name}'` : '';
  if (typeof first === 'number') {
    const dt = dtype ?? 'float32';
    const out = allocHost(dt, B);
    for (let i = 0; i < B; i++) {
      const v = get(items[i]);
      if (typeof v !== 'number') throw new AxonError(op, `element ${i}${where}: expected a number like element 0, got ${describe(v)}`);
      out[i] = dt === 'bool' ? (v ? 1 : 0) : v;
    }
    return { data: out, shape: [B], dtype: dt };
  }
  let rowShape: readonly number[];
  let dt: DType;
  if (isHostTensor(first)) {
    rowShape = first.shape;
    dt = dtype ?? first.dtype;
  } else if (isNumericArray(first)) {
    rowShape = [first.length];
    dt = dtype ?? dtypeOfArray(first);
  } else {
    throw new AxonError(op, `element 0${where}: expected a number, typed array or HostTensor, got ${describe(first)}`);
  }
  const rs = rowShape.reduce((a, b) => a * b, 1);
  const out = allocHost(dt, B * rs);
  for (let i = 0; i < B; i++) {
    const v = get(items[i]);
    const data = isHostTensor(v) ? v.data : isNumericArray(v) ? v : null;
    if (data === null) throw new AxonError(op, `element ${i}${where}: expected ${isHostTensor(first) ? 'a HostTensor' : 'a typed array'} like element 0, got ${describe(v)}`);
    if (data.length !== rs || (isHostTensor(v) && v.shape.join() !== rowShape.join())) {
      throw new AxonError(op, `element ${i}${where}: expected shape [${rowShape.join(',')}] like element 0, got ${isHostTensor(v) ? `[${v.shape.join(',')}]` : `[${data.length}]`}`);
    }
    if (dt === 'bool') for (let j = 0; j < rs; j++) out[i * rs + j] = data[j] ? 1 : 0;
    else out.set(data, i * rs);
  }
  return { data: out, shape: [B, ...rowShape], dtype: dt };
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (ArrayBuffer.isView(v)) return v.constructor.name;
  return typeof v;
}

/** @internal Stacks stackable elements (see {@link Batched}); returns null when they are not stackable. */
export function stackElements(op: string, items: readonly unknown[], dtypes: DType | Readonly<Record<string, DType>> | undefined): unknown {
  const kind = kindOf(items[0]);
  if (kind === 'other') return null;
  if (kind !== 'object') return stackField(op, items, (x) => x, '', typeof dtypes === 'string' ? dtypes : undefined);
  const keys = Object.keys(items[0] as object);
  const out: Record<string, HostTensor> = {};
  for (const k of keys) {
    const dt = typeof dtypes === 'string' ? dtypes : dtypes?.[k];
    out[k] = stackField(op, items, (x) => (x !== null && typeof x === 'object' ? (x as Record<string, unknown>)[k] : undefined), k, dt);
  }
  return out;
}
