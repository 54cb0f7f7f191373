// Shared test helpers: a seeded generator, views with every layout, float64 comparison.
import { contiguousStrides, sizeOf } from '@axon/core';
import { expect } from 'vitest';
import type { Backend, BackendBuffer, DType, TypedArray, View } from '@axon/core';
import { createWasmBackendSync } from '../src/index.js';

/** One seed per test run (fresh each run); every assertion message carries it. */
export const SEED = Number(process.env.AXON_TEST_SEED ?? Date.now() % 2 ** 31);

/** mulberry32: a small seeded generator for inputs. */
export function makeRng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const rng = makeRng(SEED);

/** A uniform float in [lo, hi). */
export function uniform(lo: number, hi: number): number {
  return lo + (hi - lo) * rng();
}

/** A uniform integer in [lo, hi). */
export function randInt(lo: number, hi: number): number {
  return lo + Math.floor(rng() * (hi - lo));
}

export function newBackend(): Backend {
  return createWasmBackendSync();
}

export function hostArray(dtype: DType, n: number): TypedArray {
  return dtype === 'float32' ? new Float32Array(n) : dtype === 'int32' ? new Int32Array(n) : new Uint8Array(n);
}

export function upload(be: Backend, dtype: DType, data: ArrayLike<number>): BackendBuffer {
  const buf = be.alloc(dtype, data.length);
  const h = hostArray(dtype, data.length);
  for (let i = 0; i < data.length; i++) h[i] = data[i]!;
  be.write(buf, h);
  return buf;
}

export { contiguousStrides, sizeOf };

export type Layout = 'contiguous' | 'transposed' | 'sliced' | 'broadcast' | 'transposed-sliced';
export const LAYOUTS: readonly Layout[] = ['contiguous', 'transposed', 'sliced', 'broadcast', 'transposed-sliced'];

/** A view of `shape` with the given layout over a fresh buffer, and its logical values. */
export interface TestView {
  view: View;
  /** Logical values, row-major over `shape`, as stored (float32/int32/bool rounding applied). */
  values: Float64Array;
}

/**
 * Builds a view of `shape` laid out as `layout` in a buffer filled by `gen` (one value per
 * stored element), and returns the logical values it holds.
 */
export function makeView(be: Backend, dtype: DType, shape: readonly number[], layout: Layout, gen: () => number): TestView {
  const rank = shape.length;
  let strides: number[];
  let offset = 0;
  let perm = [...Array(rank).keys()];
  if (layout === 'transposed' || layout === 'transposed-sliced') perm = perm.reverse();
  const pad = shape.map(() => (layout === 'sliced' || layout === 'transposed-sliced' ? randInt(0, 3) : 0));
  const phys = perm.map((d) => shape[d]! + pad[d]!);
  const physStrides = contiguousStrides(phys);
  strides = new Array<number>(rank);
  for (let p = 0; p < rank; p++) strides[perm[p]!] = physStrides[p]!;
  if (layout === 'sliced' || layout === 'transposed-sliced') {
    for (let d = 0; d < rank; d++) offset += randInt(0, pad[d]! + 1) * strides[d]!;
  }
  if (layout === 'broadcast') {
    // A random nonempty subset of dims (of size > 1 where possible) reads with stride 0.
    const bdims = shape.map((n, d) => (n > 1 && (rng() < 0.5 || d === rank - 1) ? 0 : 1));
    const inner = shape.map((n, d) => (bdims[d] === 0 ? 1 : n));
    const cs = contiguousStrides(inner);
    strides = shape.map((_, d) => (bdims[d] === 0 ? 0 : cs[d]!));
    offset = randInt(0, 3);
  }
  let last = offset;
  let empty = false;
  for (let d = 0; d < rank; d++) {
    if (shape[d] === 0) empty = true;
    else last += (shape[d]! - 1) * strides[d]!;
  }
  const bufSize = empty ? offset : last + 1 + randInt(0, 3);
  const host = hostArray(dtype, bufSize);
  for (let i = 0; i < bufSize; i++) host[i] = gen();
  const buf = be.alloc(dtype, bufSize);
  be.write(buf, host);
  const n = sizeOf(shape);
  const values = new Float64Array(n);
  const idx = new Array<number>(rank).fill(0);
  for (let i = 0; i < n; i++) {
    let p = offset;
    for (let d = 0; d < rank; d++) p += idx[d]! * strides[d]!;
    values[i] = host[p]!;
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) break;
      idx[d] = 0;
    }
  }
  return { view: { buf, dtype, shape: [...shape], strides, offset }, values };
}

/** A contiguous view over a whole buffer. */
export function whole(buf: BackendBuffer, shape: readonly number[]): View {
  return { buf, dtype: buf.dtype, shape: [...shape], strides: contiguousStrides(shape), offset: 0 };
}

/** Rounds a float64 to the stored value of a dtype. */
export function store(dtype: DType, v: number): number {
  if (dtype === 'float32') return Math.fround(v);
  if (dtype === 'int32') return v | 0;
  return v !== 0 ? 1 : 0;
}

/**
 * Asserts |got − want| ≤ atol + rtol·|want| elementwise (NaN matches NaN, ±Infinity exactly).
 * `what` names the case; the seed is appended to every message.
 */
export function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, atol: number, rtol: number, what: string): void {
  expect(got.length, `${what}: length (seed ${SEED})`).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    if (Number.isNaN(w)) {
      if (!Number.isNaN(g)) expect.fail(`${what}: [${i}] got ${g}, want NaN (seed ${SEED})`);
      continue;
    }
    if (!Number.isFinite(w)) {
      if (g !== w) expect.fail(`${what}: [${i}] got ${g}, want ${w} (seed ${SEED})`);
      continue;
    }
    const err = Math.abs(g - w);
    if (!(err <= atol + rtol * Math.abs(w))) {
      expect.fail(`${what}: [${i}] got ${g}, want ${w}, |err| ${err} > ${atol} + ${rtol}·|want| (seed ${SEED})`);
    }
  }
}

/** Exact comparison (NaN matches NaN; -0 equals 0). */
export function expectExact(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  expectClose(got, want, 0, 0, what);
}

/** Random shapes whose dims straddle SIMD and tile edges, including empty and size-1 dims. */
export const EDGE_SIZES = [1, 3, 17, 64, 129, 1023];

export function shapesFor(rank: number): number[][] {
  const out: number[][] = [];
  if (rank === 0) return [[]];
  for (const n of EDGE_SIZES) {
    const s = new Array<number>(rank).fill(1).map(() => randInt(1, 4));
    s[rank - 1] = n;
    if (sizeOf(s) <= 20000) out.push(s);
  }
  const z = new Array<number>(rank).fill(2);
  z[randInt(0, rank)] = 0;
  out.push(z);
  return out;
}
