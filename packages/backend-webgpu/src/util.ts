/** Small host-side helpers: dimension collapsing, float bits, size classes. */
import { contiguousStrides, sizeOf as numel } from '@axon/core';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The bits of `v` rounded to float32, as a u32. */
export function f32Bits(v: number): number {
  f32[0] = v;
  return u32[0]!;
}

/** `v` rounded to float32. */
export const fround = Math.fround;

/** Product of a shape (core's `sizeOf`). */
export { numel };

export { contiguousStrides };

/**
 * Drops size-1 dims and merges adjacent dims that every operand walks contiguously
 * (`stride[outer] == stride[inner]·shape[inner]`), so that e.g. a contiguous tensor of any rank
 * becomes rank 1. The element order (row-major over `shape`) is unchanged.
 */
export function collapse(shape: readonly number[], strides: readonly (readonly number[])[]): { shape: number[]; strides: number[][] } {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    const n = shape[d]!;
    if (n === 1) continue;
    const last = outShape.length - 1;
    if (last >= 0 && strides.every((s, k) => outStrides[k]![last] === s[d]! * n)) {
      outShape[last] = outShape[last]! * n;
      strides.forEach((s, k) => (outStrides[k]![last] = s[d]!));
      continue;
    }
    outShape.push(n);
    strides.forEach((s, k) => outStrides[k]!.push(s[d]!));
  }
  return { shape: outShape, strides: outStrides };
}

/** The size class (bytes) a buffer of `bytes` is allocated in: quarter-octave steps above 4 KiB. */
export function sizeClass(bytes: number): number {
  if (bytes <= 256) return 256;
  if (bytes <= 4096) return 2 ** Math.ceil(Math.log2(bytes));
  const p = 2 ** Math.floor(Math.log2(bytes));
  const step = p / 4;
  return Math.ceil(bytes / step) * step;
}
