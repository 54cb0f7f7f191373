/**
 * Helpers that reduce strided N-d loops to 2-D kernel calls.
 * @internal
 */
import { contiguousStrides as contiguous, sizeOf } from '@axon/core';

/** Shapes and per-operand strides after merging dimensions. */
export interface Coalesced {
  shape: number[];
  /** strides[k][d]: operand k's stride (elements) in dimension d. */
  strides: number[][];
}

/**
 * Drops size-1 dimensions and merges neighbours that every operand walks contiguously
 * (`stride[d] == stride[d+1]·shape[d+1]`), preserving row-major element order.
 */
export function coalesce(shape: readonly number[], strides: readonly (readonly number[])[]): Coalesced {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    const n = shape[d]!;
    if (n === 1) continue;
    const last = outShape.length - 1;
    if (last >= 0) {
      let merge = true;
      for (let k = 0; k < strides.length; k++) {
        if (outStrides[k]![last] !== strides[k]![d]! * n) {
          merge = false;
          break;
        }
      }
      if (merge) {
        outShape[last]! *= n;
        for (let k = 0; k < strides.length; k++) outStrides[k]![last] = strides[k]![d]!;
        continue;
      }
    }
    outShape.push(n);
    for (let k = 0; k < strides.length; k++) outStrides[k]!.push(strides[k]![d]!);
  }
  return { shape: outShape, strides: outStrides };
}

/**
 * Calls `fn` once per 2-D block of a coalesced iteration space: `offsets[k]` is operand k's
 * element offset of the block, `rs[k]`/`cs[k]` its row and column strides.
 */
export function forEach2d(
  c: Coalesced,
  base: readonly number[],
  fn: (offsets: number[], rs: number[], cs: number[], rows: number, cols: number) => void,
): void {
  const r = c.shape.length;
  const nk = c.strides.length;
  const rs = new Array<number>(nk).fill(0);
  const cs = new Array<number>(nk).fill(0);
  if (r === 0) {
    fn(base.slice(), rs, cs, 1, 1);
    return;
  }
  for (let k = 0; k < nk; k++) {
    cs[k] = c.strides[k]![r - 1]!;
    rs[k] = r >= 2 ? c.strides[k]![r - 2]! : 0;
  }
  const cols = c.shape[r - 1]!;
  const rows = r >= 2 ? c.shape[r - 2]! : 1;
  const outer = r - 2;
  if (outer <= 0) {
    fn(base.slice(), rs, cs, rows, cols);
    return;
  }
  const idx = new Array<number>(outer).fill(0);
  const off = base.slice();
  while (true) {
    fn(off.slice(), rs, cs, rows, cols);
    let d = outer - 1;
    while (d >= 0) {
      idx[d]!++;
      for (let k = 0; k < nk; k++) off[k]! += c.strides[k]![d]!;
      if (idx[d]! < c.shape[d]!) break;
      for (let k = 0; k < nk; k++) off[k]! -= c.strides[k]![d]! * c.shape[d]!;
      idx[d] = 0;
      d--;
    }
    if (d < 0) return;
  }
}

/** Row-major strides of a shape (core's `contiguousStrides`). */
export { contiguous };

export { sizeOf };

/** Calls `fn` with every operand's element offset for each index of `shape` (row-major). */
export function forEachIndex(shape: readonly number[], strides: readonly (readonly number[])[], base: readonly number[], fn: (offsets: number[]) => void): void {
  const r = shape.length;
  if (shape.some((n) => n === 0)) return;
  const nk = strides.length;
  const idx = new Array<number>(r).fill(0);
  const off = base.slice();
  while (true) {
    fn(off.slice());
    let d = r - 1;
    while (d >= 0) {
      idx[d]!++;
      for (let k = 0; k < nk; k++) off[k]! += strides[k]![d]!;
      if (idx[d]! < shape[d]!) break;
      for (let k = 0; k < nk; k++) off[k]! -= strides[k]![d]! * shape[d]!;
      idx[d] = 0;
      d--;
    }
    if (d < 0) return;
  }
}

/**
 * 1 when a view walks its elements contiguously in row-major order (size-1 dims ignored),
 * 0 when every stride is 0 (one element broadcast), −1 otherwise. Allocation-free.
 */
export function flatKind(shape: readonly number[], strides: readonly number[]): 1 | 0 | -1 {
  let expect = 1;
  let contiguous = true;
  let zero = true;
  for (let d = shape.length - 1; d >= 0; d--) {
    const n = shape[d]!;
    if (n === 1) continue;
    const s = strides[d]!;
    if (s !== 0) zero = false;
    if (s !== expect) contiguous = false;
    expect *= n;
  }
  return contiguous ? 1 : zero ? 0 : -1;
}
