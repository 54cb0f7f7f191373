import { AxonError, fmtShape, fmtValue } from './errors.js';

/** A tensor shape: non-negative integer sizes, outermost first. */
export type Shape = readonly number[];

/**
 * Number of elements of a shape (1 for a scalar `[]`).
 * @example sizeOf([2, 3]) // 6
 */
export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * Row-major (C-order) strides of a shape, in elements.
 * @example contiguousStrides([2, 3, 4]) // [12, 4, 1]
 */
export function contiguousStrides(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

/**
 * Throws an {@link AxonError} naming `op` unless `shape` is an array of non-negative integers
 * (at most 64 of them, at most 2^31−1 elements in all); returns it.
 * @example
 * validateShape('myOp', [2, 3]) // [2, 3]
 * validateShape('myOp', [2, -1]); // throws: 'myOp: shape [2,-1] is invalid'
 */
export function validateShape(op: string, shape: unknown): number[] {
  if (!Array.isArray(shape)) throw new AxonError(op, `shape must be an array of non-negative integers, got ${fmtValue(shape)}`);
  if (shape.length > 64) throw new AxonError(op, `shape has ${shape.length} dimensions; at most 64 are supported`);
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0) {
      throw new AxonError(op, `shape ${fmtValue(shape)} is invalid: every size must be a non-negative integer (got ${fmtValue(d)})`);
    }
  }
  if (sizeOf(shape as number[]) > 2 ** 31 - 1) throw new AxonError(op, `shape ${fmtShape(shape as number[])} has more than 2^31-1 elements`);
  return shape as number[];
}

/**
 * NumPy broadcasting of two shapes.
 * @example
 * broadcastShapes([3, 1], [4]) // [3, 4]
 * broadcastShapes([2, 3], [3, 2]); // throws: 'cannot be broadcast together'
 */
export function broadcastShapes(a: Shape, b: Shape, op = 'broadcast'): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da === db || db === 1) out[i] = da;
    else if (da === 1) out[i] = db;
    else throw new AxonError(op, `shapes ${fmtShape(a)} and ${fmtShape(b)} cannot be broadcast together (dimension ${i}: ${da} vs ${db})`);
  }
  return out;
}

/**
 * Normalises a possibly negative axis into [0, rank).
 * @example
 * normAxis('sum', -1, 3) // 2
 * normAxis('sum', 3, 3); // throws: 'axis 3 is out of range for a tensor of rank 3'
 */
export function normAxis(op: string, axis: number, rank: number): number {
  if (typeof axis !== 'number' || !Number.isInteger(axis)) throw new AxonError(op, `axis must be an integer, got ${fmtValue(axis)}`);
  if (axis < -rank || axis >= Math.max(rank, 1)) {
    throw new AxonError(op, `axis ${axis} is out of range for a tensor of rank ${rank}`);
  }
  return axis < 0 ? axis + rank : axis;
}

/**
 * Normalises `axis` (undefined = all axes) into sorted unique axes.
 * @example
 * normAxes('sum', [-1, 0], 3) // [0, 2]
 * normAxes('sum', undefined, 2) // [0, 1]
 */
export function normAxes(op: string, axis: number | readonly number[] | undefined, rank: number): number[] {
  if (axis === undefined) return Array.from({ length: rank }, (_, i) => i);
  if (typeof axis !== 'number' && !Array.isArray(axis)) throw new AxonError(op, `axis must be an integer or an array of integers, got ${fmtValue(axis)}`);
  const list: number[] = typeof axis === 'number' ? [axis] : [...(axis as number[])];
  const out = [...new Set(list.map((a) => normAxis(op, a, rank)))].sort((x, y) => x - y);
  if (out.length !== list.length) throw new AxonError(op, `axes ${fmtValue(list)} contain duplicates`);
  return out;
}

/**
 * Whether two shapes are equal.
 * @example
 * shapesEqual([2, 3], [2, 3]) // true
 * shapesEqual([2, 3], [3, 2]) // false
 */
export function shapesEqual(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The strides that read a tensor of `shape` (with `strides`) broadcast to `target`: 0 on new
 * leading axes and on size-1 axes, its own elsewhere.
 * @example broadcastStrides([3], [1], [2, 3]) // [0, 1]
 */
export function broadcastStrides(shape: Shape, strides: readonly number[], target: Shape): number[] {
  const off = target.length - shape.length;
  return target.map((_, i) => {
    const j = i - off;
    return j < 0 || shape[j] === 1 ? 0 : strides[j]!;
  });
}
