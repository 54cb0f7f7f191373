/**
 * Test helpers: one backend per test file (the tests FAIL when no adapter can be had), a seeded
 * generator printed with every failure, strided views with random layouts, and float64 checks.
 */
import { afterAll, beforeAll, expect } from 'vitest';
import { AxonError, type BackendBuffer, type DType, type TypedArray, type View } from '@axon/core';
import { acquireDevice } from '../src/device.js';
import { createWebGPUBackend, WebGPUBackend, type WebGPUOptions } from '../src/index.js';

/** The run seed: `AXON_SEED` when set, else fresh each run. */
export const SEED = process.env.AXON_SEED ? Number(process.env.AXON_SEED) : Math.floor(Math.random() * 2 ** 31);

/** Mulberry32. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)]!;
  }
  normal(): number {
    return Math.sqrt(-2 * Math.log(1 - this.next())) * Math.cos(2 * Math.PI * this.next());
  }
}

let streams = 0;
/** A generator for one test, derived from the run seed. */
export function rng(): Rng {
  return new Rng((SEED ^ Math.imul(++streams, 0x9e3779b1)) >>> 0);
}

let backend: WebGPUBackend | undefined;

/** Creates the backend before the file's tests (failing them when it cannot start) and prints the adapter. */
export function useBackend(opts: WebGPUOptions = {}): () => WebGPUBackend {
  beforeAll(async () => {
    try {
      backend = await createWebGPUBackend(opts);
    } catch (e) {
      throw new Error(`[webgpu] no WebGPU adapter (VK_ICD_FILENAMES=${process.env.VK_ICD_FILENAMES ?? 'unset'}): ${e instanceof Error ? e.message : String(e)}`);
    }
    console.log(
      `[webgpu] adapter: ${backend.adapterDescription} via ${backend.source}${backend.emulated ? ' (software emulation)' : ''}; ` +
        `VK_ICD_FILENAMES=${process.env.VK_ICD_FILENAMES ?? 'unset'}; seed ${SEED} (rerun with AXON_SEED=${SEED})`,
    );
  });
  afterAll(() => {
    backend?.dispose();
    backend = undefined;
  });
  return () => {
    if (!backend) throw new Error('[webgpu] backend not started');
    return backend;
  };
}

/** Host array of a dtype. */
export function typed(dtype: DType, values: ArrayLike<number>): TypedArray {
  if (dtype === 'float32') return Float32Array.from(values);
  if (dtype === 'int32') return Int32Array.from(values);
  return Uint8Array.from(values, (v) => (v ? 1 : 0));
}

/** Uploads values into a fresh buffer. */
export function upload(b: WebGPUBackend, dtype: DType, values: ArrayLike<number>): BackendBuffer {
  const buf = b.alloc(dtype, values.length);
  b.write(buf, typed(dtype, values));
  return buf;
}

/** A contiguous view of a whole buffer. */
export function viewOf(buf: BackendBuffer, shape: readonly number[]): View {
  return { buf, dtype: buf.dtype, shape, strides: contiguous(shape), offset: 0 };
}

export function contiguous(shape: readonly number[]): number[] {
  const s: number[] = [];
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Random values of a dtype (float32 values already rounded). */
export function randValues(r: Rng, dtype: DType, n: number, gen?: () => number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    if (gen) out.push(dtype === 'float32' ? Math.fround(gen()) : gen());
    else if (dtype === 'float32') out.push(Math.fround(r.normal() * 2));
    else if (dtype === 'int32') out.push(r.int(-100, 100));
    else out.push(r.int(0, 2));
  }
  return out;
}

export type Layout = 'contiguous' | 'random' | 'broadcast';

/** A strided view with a random layout (permuted dims, gaps, offset, broadcast dims) and its logical values. */
export interface TestView {
  view: View;
  /** Logical row-major values of the view. */
  values: number[];
  /** The backing buffer (free it after the test). */
  buf: BackendBuffer;
}

/** Builds a view of `shape` whose logical values are `values` (row-major), laid out per `layout`. */
export function makeView(b: WebGPUBackend, r: Rng, dtype: DType, shape: readonly number[], layout: Layout, gen?: () => number): TestView {
  const rank = shape.length;
  const strides = new Array<number>(rank).fill(0);
  const bcast = shape.map((d) => layout === 'broadcast' && d > 1 && r.next() < 0.5);
  const order = [...shape.keys()];
  if (layout !== 'contiguous') for (let i = order.length - 1; i > 0; i--) { const j = r.int(0, i + 1); [order[i], order[j]] = [order[j]!, order[i]!]; }
  else order.reverse();
  if (layout === 'contiguous') order.sort((x, y) => y - x);
  let acc = layout === 'contiguous' ? 1 : r.int(1, 3);
  for (const d of order) {
    if (bcast[d]) continue;
    strides[d] = acc;
    acc *= shape[d]!;
    if (layout !== 'contiguous') acc += r.int(0, 2);
  }
  const offset = layout === 'contiguous' ? 0 : r.int(0, 4);
  const n = numel(shape);
  let extent = offset + 1;
  for (let d = 0; d < rank; d++) extent += (shape[d]! - 1) * strides[d]!;
  if (n === 0) extent = offset;
  const base = randValues(r, dtype, Math.max(extent, 1), gen);
  const buf = upload(b, dtype, base);
  const view: View = { buf, dtype, shape, strides, offset };
  return { view, values: logical(base, view), buf };
}

/** The row-major logical values of a view over host data. */
export function logical(base: ArrayLike<number>, v: { shape: readonly number[]; strides: readonly number[]; offset: number }): number[] {
  const n = numel(v.shape);
  const out: number[] = new Array(n);
  const rank = v.shape.length;
  const idx = new Array<number>(rank).fill(0);
  for (let i = 0; i < n; i++) {
    let off = v.offset;
    for (let d = 0; d < rank; d++) off += idx[d]! * v.strides[d]!;
    out[i] = base[off]!;
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d]! < v.shape[d]!) break;
      idx[d] = 0;
    }
  }
  return out;
}

/** Tolerance: |got − exp| ≤ atol + rtol·|exp| (+ extra[i] when given); NaN = NaN; ±Inf exact. */
export interface Tol {
  atol?: number;
  rtol?: number;
}

/** Compares; throws one error listing up to 8 mismatches with the seed. */
export function expectClose(what: string, got: ArrayLike<number>, expected: ArrayLike<number>, tol: Tol = {}, extra?: ArrayLike<number>, inputs?: (i: number) => string): void {
  if (got.length !== expected.length) throw new Error(`${what}: length ${got.length}, expected ${expected.length} [seed ${SEED}, AXON_SEED=${SEED} to rerun]`);
  const atol = tol.atol ?? 0;
  const rtol = tol.rtol ?? 0;
  const bad: string[] = [];
  let nbad = 0;
  for (let i = 0; i < got.length; i++) {
    const g = got[i]!;
    let e = expected[i]!;
    if (Math.abs(e) > 3.4028234663852886e38 && Number.isFinite(e)) e = Math.fround(e);
    let ok: boolean;
    if (Number.isNaN(e)) ok = Number.isNaN(g);
    else if (!Number.isFinite(e)) ok = g === e;
    else ok = Math.abs(g - e) <= atol + rtol * Math.abs(e) + (extra ? extra[i]! : 0) || (Math.abs(e) < 2 ** -126 && Math.abs(g) <= 2 ** -126); // float32 underflow / flushed subnormals
    if (!ok) {
      nbad++;
      if (bad.length < 8) bad.push(`  [${i}] got ${g}, expected ${e}${inputs ? ` (inputs ${inputs(i)})` : ''}`);
    }
  }
  if (nbad > 0) throw new Error(`${what}: ${nbad}/${got.length} elements differ (seed ${SEED}; rerun with AXON_SEED=${SEED})\n${bad.join('\n')}`);
}

/** Frees buffers. */
export function freeAll(b: WebGPUBackend, ...bufs: BackendBuffer[]): void {
  for (const x of bufs) b.free(x);
}

/** Sizes across workgroup/tile edges. */
export const EDGE_SIZES = [1, 3, 17, 64, 129, 1023];

/** Runs each bad call and expects an AxonError from `op` whose message matches (the case's name labels a failure). */
export function expectAxonErrors(op: string, cases: readonly (readonly [string, () => unknown, RegExp])[]): void {
  for (const [what, call, msg] of cases) {
    let err: unknown;
    try {
      call();
    } catch (e) {
      err = e;
    }
    expect(err, what).toBeInstanceOf(AxonError);
    expect(String(err), what).toMatch(new RegExp(`^AxonError: ${op}: `));
    expect(String(err), what).toMatch(msg);
  }
}

/** A backend on a fresh device with WebGPU's default limits (8 storage buffers per shader stage); dispose it. */
export async function defaultLimitsBackend(): Promise<WebGPUBackend> {
  const acq = await acquireDevice();
  acq.device.destroy();
  const adapter = await acq.gpu.requestAdapter({ powerPreference: 'high-performance' });
  const device = await adapter!.requestDevice(); // default limits
  return new WebGPUBackend({ ...acq, adapter: adapter!, device });
}
