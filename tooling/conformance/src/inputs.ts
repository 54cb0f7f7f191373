/**
 * Host-side test inputs: float64 data (already rounded to the dtype) plus a layout, built into
 * a tensor that is contiguous, a transposed view, a sliced window of a larger buffer (whose
 * margins hold NaN/sentinels so out-of-window reads show), an expanded (stride-0) view, or a
 * strided view (every second element of every axis, `slice` with steps, sentinels in between).
 */
import { type DType, type Tensor, sizeOf, tensor } from '@axon/core';
import { fmt } from './check.js';
import type { Rng } from './rng.js';

/** How an input tensor is laid out in memory. */
export type Layout = 'contiguous' | 'transposed' | 'sliced' | 'expanded' | 'strided';

/** Every layout. */
export const LAYOUTS: readonly Layout[] = ['contiguous', 'transposed', 'sliced', 'expanded', 'strided'];

/** A test input on the host. `data` is row-major over `shape`. */
export interface HostTensor {
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly data: Float64Array;
  readonly layout: Layout;
}

/** A value generator. */
export type Dist = (rng: Rng) => number;

/** Uniform in [lo, hi). */
export const uniform = (lo: number, hi: number): Dist => (r) => r.uniform(lo, hi);
/** Integers in [lo, hi). */
export const ints = (lo: number, hi: number): Dist => (r) => r.int(lo, hi);
/** Random booleans (0/1). */
export const bools: Dist = (r) => (r.next() < 0.5 ? 1 : 0);
/** Uniform in ±[lo, hi) (bounded away from 0). */
export const awayFromZero = (lo: number, hi: number): Dist => (r) => (r.next() < 0.5 ? -1 : 1) * r.uniform(lo, hi);

/** Rounds a number to what `dtype` can hold. */
export function toDtype(v: number, dtype: DType): number {
  if (dtype === 'float32') return Math.fround(v);
  if (dtype === 'int32') return v | 0;
  return v !== 0 ? 1 : 0;
}

function usable(shape: readonly number[], layout: Layout): Layout {
  if (layout === 'transposed' && shape.length < 2) return 'sliced';
  if (layout === 'expanded' && shape.length < 1) return 'contiguous';
  return layout;
}

/** Generates a host input; an `expanded` input repeats one slice along axis 0. */
export function makeHost(rng: Rng, shape: readonly number[], dtype: DType, dist: Dist, layout: Layout = 'contiguous'): HostTensor {
  const lay = usable(shape, layout);
  const n = sizeOf(shape);
  const data = new Float64Array(n);
  if (lay === 'expanded') {
    const inner = shape[0] === 0 ? 0 : n / shape[0]!;
    const base = Array.from({ length: inner }, () => toDtype(dist(rng), dtype));
    for (let i = 0; i < n; i++) data[i] = base[i % inner]!;
  } else {
    for (let i = 0; i < n; i++) data[i] = toDtype(dist(rng), dtype);
  }
  return { shape: [...shape], dtype, data, layout: lay };
}

/** A host input from explicit values. */
export function hostOf(values: readonly number[], shape: readonly number[], dtype: DType = 'float32', layout: Layout = 'contiguous'): HostTensor {
  const data = Float64Array.from(values, (v) => toDtype(v, dtype));
  return { shape: [...shape], dtype, data, layout: usable(shape, layout) };
}

/** Same data, another layout (an expanded layout needs data constant along axis 0). */
export function withLayout(h: HostTensor, layout: Layout): HostTensor {
  return { ...h, layout: usable(h.shape, layout) };
}

/** `[2,3] float32 (transposed)` */
export function describeHost(h: HostTensor): string {
  return `${fmt(h.shape)} ${h.dtype}${h.layout === 'contiguous' ? '' : ` (${h.layout})`}`;
}

/** A typed array of `dtype` holding `data`. */
export function typed(data: ArrayLike<number>, dtype: DType): Float32Array | Int32Array | Uint8Array {
  if (dtype === 'float32') return Float32Array.from(data);
  if (dtype === 'int32') return Int32Array.from(data);
  return Uint8Array.from(data, (v) => (v !== 0 ? 1 : 0));
}

function sentinel(dtype: DType): number {
  return dtype === 'float32' ? NaN : dtype === 'int32' ? -777777 : 1;
}

/** Builds the tensor (call inside a `tidy`: intermediates are left to the scope). */
export function build(h: HostTensor): Tensor {
  const { shape, dtype, data } = h;
  const r = shape.length;
  switch (h.layout) {
    case 'contiguous':
      return tensor(typed(data, dtype), shape, dtype);
    case 'transposed': {
      const rows = shape[r - 2]!;
      const cols = shape[r - 1]!;
      const phys = new Float64Array(data.length);
      const mat = rows * cols;
      const batches = mat === 0 ? 0 : data.length / mat;
      for (let b = 0; b < batches; b++) {
        for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) phys[b * mat + j * rows + i] = data[b * mat + i * cols + j]!;
      }
      const swapped = [...shape.slice(0, r - 2), cols, rows];
      return tensor(typed(phys, dtype), swapped, dtype).T;
    }
    case 'sliced': {
      const big = shape.map((d) => d + 3);
      const bigSize = sizeOf(big);
      const phys = new Float64Array(bigSize).fill(sentinel(dtype));
      const bigStrides = big.map((_, i) => sizeOf(big.slice(i + 1)));
      for (let i = 0; i < data.length; i++) {
        let rem = i;
        let off = 0;
        for (let d = r - 1; d >= 0; d--) {
          const c = rem % shape[d]!;
          rem = Math.floor(rem / shape[d]!);
          off += (c + 1) * bigStrides[d]!;
        }
        phys[off] = data[i]!;
      }
      const t = tensor(typed(phys, dtype), big, dtype);
      return t.slice(shape.map(() => 1), shape);
    }
    case 'strided': {
      // element c of axis d sits at 2c + 1 of a [2d + 1] buffer: steps of 2 and an offset
      const big = shape.map((d) => 2 * d + 1);
      const phys = new Float64Array(sizeOf(big)).fill(sentinel(dtype));
      const bigStrides = big.map((_, i) => sizeOf(big.slice(i + 1)));
      for (let i = 0; i < data.length; i++) {
        let rem = i;
        let off = 0;
        for (let d = r - 1; d >= 0; d--) {
          off += (2 * (rem % shape[d]!) + 1) * bigStrides[d]!;
          rem = Math.floor(rem / shape[d]!);
        }
        phys[off] = data[i]!;
      }
      return tensor(typed(phys, dtype), big, dtype).slice(shape.map(() => 1), shape, shape.map(() => 2));
    }
    case 'expanded': {
      const baseShape = [1, ...shape.slice(1)];
      const inner = sizeOf(baseShape);
      const base = tensor(typed(data.subarray(0, shape[0] === 0 ? 0 : inner), dtype), shape[0] === 0 ? [0, ...shape.slice(1)] : baseShape, dtype);
      return shape[0] === 0 ? base : base.expand(shape);
    }
  }
}
