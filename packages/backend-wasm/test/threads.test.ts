// The thread pool: options and features, bit-identical results for 1, 2 and 3 threads on every
// parallel path (thresholds at 0, so small tensors split too), errors and hangs in workers,
// memory growth while workers run, and processes that exit by themselves.
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AxonError, contiguousStrides, getBackend, getNumThreads, ready, setNumThreads } from '@axon/core';
import type { Backend, BackendBuffer, FusedProgram, View, Window2d } from '@axon/core';
import { describe, expect, it } from 'vitest';
import { createWasmBackend, createWasmBackendSync, type WasmBackend } from '../src/index.js';
import { ThreadPool } from '../src/pool.js';
import { SEED, makeRng } from './helpers.js';

const rand = makeRng(SEED);
const view = (buf: BackendBuffer, shape: readonly number[], strides: readonly number[] = contiguousStrides(shape), offset = 0): View => ({ buf, dtype: buf.dtype, shape, strides, offset });

function data(n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rand() * 4 - 2;
  return a;
}

/** One backend per thread count, all splitting whatever can be split. */
async function backends(): Promise<WasmBackend[]> {
  const out = [createWasmBackendSync({ threads: 1 })];
  for (const t of [2, 3]) {
    const be = createWasmBackendSync({ threads: t, threadThreshold: 0 });
    expect(await be.startThreads()).toBe(t);
    out.push(be);
  }
  return out;
}

/** Runs `f` on each backend and checks every result has the bits of the 1-thread one. */
async function sameBits(what: string, f: (be: WasmBackend) => Float32Array | Int32Array, op?: string): Promise<void> {
  const bes = await backends();
  try {
    const ref = f(bes[0]!);
    for (const be of bes.slice(1)) {
      const before = be.parallelRuns[op ?? ''] ?? 0;
      const got = f(be);
      expect(new Uint32Array(got.buffer, got.byteOffset, got.length), `${what} at ${be.features.threads} threads (seed ${SEED})`).toEqual(new Uint32Array(ref.buffer, ref.byteOffset, ref.length));
      if (op !== undefined) expect((be.parallelRuns[op] ?? 0) - before, `${what}: ${op} ran split over threads`).toBeGreaterThan(0);
    }
  } finally {
    for (const be of bes) be.dispose();
  }
}

function put(be: Backend, a: Float32Array): BackendBuffer {
  const b = be.alloc('float32', a.length);
  be.write(b, a);
  return b;
}

describe(`threads (seed ${SEED})`, () => {
  it('takes threads and threadThreshold options, reports what runs and why', async () => {
    const one = createWasmBackendSync({ threads: 1 });
    expect(one.features).toMatchObject({ threads: 1, threadsReason: '1 thread requested' });
    expect(await one.startThreads()).toBe(1);
    const two = await createWasmBackend({ threads: 2 });
    expect(two.features).toMatchObject({ threads: 2 });
    expect(two.features.threadsReason).toMatch(/^2 requested \(\d+ cores? available\)$/);
    expect(await two.startThreads()).toBe(2);
    const auto = createWasmBackendSync({ threads: 'auto' });
    expect(auto.features.threadsReason).toMatch(/^auto: \d+ cores? available/);
    for (const bad of [0, 1.5, 65, -2, 'x', Number.NaN]) {
      expect(() => createWasmBackendSync({ threads: bad as number }), String(bad)).toThrow(AxonError);
      expect(() => createWasmBackendSync({ threads: bad as number })).toThrow(/threads must be an integer from 1 to 64 or 'auto'/);
    }
    for (const bad of [-1, Number.POSITIVE_INFINITY, '1']) expect(() => createWasmBackendSync({ threadThreshold: bad as number })).toThrow(/threadThreshold must be a finite number/);
    for (const be of [one, two, auto]) be.dispose();
  });

  it('setThreads resizes the pool; a one-thread backend says why it stays on one', async () => {
    const be = createWasmBackendSync({ threads: 2, threadThreshold: 0 });
    be.setThreads(3);
    expect(be.features.threads).toBe(3);
    expect(await be.startThreads()).toBe(3);
    be.setThreads(1);
    expect(be.features.threads).toBe(1);
    expect(await be.startThreads()).toBe(1);
    expect(() => be.setThreads(0)).toThrow(/setThreads.*expected an integer from 1 to 64/);
    const one = createWasmBackendSync({ threads: 1 });
    one.setThreads(4);
    expect(one.features.threads).toBe(1);
    expect(one.features.threadsReason).toMatch(/created for one thread/);
    be.dispose();
    one.dispose();
  });

  it("core's setNumThreads reaches the registry's backend and backends created afterwards", async () => {
    await ready();
    const be = getBackend() as WasmBackend;
    expect(getNumThreads()).toBe('auto');
    try {
      setNumThreads(1);
      expect(be.features.threads).toBe(1);
      expect(createWasmBackendSync().features.threads).toBe(1);
      setNumThreads(2);
      expect(be.features.threads).toBe(2);
    } finally {
      setNumThreads('auto');
    }
  });

  it('matmul: bit-identical for 1, 2 and 3 threads (batches, row blocks, column blocks, transposes, ragged sizes)', async () => {
    const shapes: [number, number, number, number, boolean, boolean][] = [
      [1, 5, 7, 9, false, false], [1, 8, 33, 17, false, false], [1, 9, 64, 10, true, false], [1, 13, 100, 2, false, true],
      [1, 37, 300, 129, true, true], [1, 130, 70, 1, false, false], [2, 9, 20, 30, false, true], [3, 20, 50, 70, true, false],
      [1, 128, 784, 128, false, false], [1, 784, 32, 128, true, false], [5, 3, 4, 5, false, false],
      // fewer than 8 rows: blocks of columns (the thin paths at 1–2 rows, packing at 3–7)
      [1, 1, 300, 130, false, false], [1, 2, 100, 50, false, true], [1, 3, 200, 77, true, false], [1, 7, 64, 16, false, false],
    ];
    for (const [B, M, K, N, ta, tb] of shapes) {
      const a = data(B * M * K);
      const b = data(B * K * N);
      await sameBits(`[${B},${M},${K}]·[${B},${K},${N}] ta=${ta} tb=${tb}`, (be) => {
        const va = ta ? view(put(be, a), [B, M, K], [M * K, 1, M]) : view(put(be, a), [B, M, K]);
        const vb = tb ? view(put(be, b), [B, K, N], [K * N, 1, K]) : view(put(be, b), [B, K, N]);
        const o = be.alloc('float32', B * M * N);
        be.matmul(va, vb, o);
        return be.readSync(o) as Float32Array;
      }, M >= 8 || B >= 2 || N >= 16 ? 'matmul' : undefined);
    }
    // a weight broadcast over the batch (x [B, T, K] · Wᵀ): one [B·T, K] product split by rows
    for (const [B, M, K, N] of [[4, 30, 40, 24], [3, 5, 300, 17]]) {
      const a = data(B * M * K);
      const w = data(K * N);
      await sameBits(`[${B},${M},${K}]·Wᵀ [${K},${N}] broadcast over the batch`, (be) => {
        const o = be.alloc('float32', B * M * N);
        be.matmul(view(put(be, a), [B, M, K]), view(put(be, w), [B, K, N], [0, 1, K]), o);
        return be.readSync(o) as Float32Array;
      }, 'matmul');
    }
  });

  it('im2col, col2im, pool2d and its gradient: bit-identical, split by images or (one image) by channels', async () => {
    for (const [n, c] of [[3, 2], [1, 5], [2, 1]] as const) {
      const h = 9;
      const w = 11;
      const win: Window2d = { n, c, h, w, kH: 3, kW: 2, strideH: 2, strideW: 1, padTop: 1, padLeft: 1, dilationH: 1, dilationW: 2, outH: 5, outW: 10 };
      const x = data(n * c * h * w);
      const cols = n * c * 6 * 50;
      await sameBits(`im2col n=${n} c=${c}`, (be) => {
        const o = be.alloc('float32', cols);
        be.im2col(view(put(be, x), [n, c, h, w]), win, o);
        return be.readSync(o) as Float32Array;
      }, 'im2col');
      const g = data(cols);
      await sameBits(`col2im n=${n} c=${c}`, (be) => {
        const o = be.alloc('float32', x.length);
        be.col2im(view(put(be, g), [n, c * 6, 50]), win, o);
        return be.readSync(o) as Float32Array;
      }, 'col2im');
      for (const op of ['max', 'avg'] as const) {
        const pw: Window2d = { ...win, kW: 3, dilationW: 1, outW: 11 };
        const dy = data(n * c * 5 * 11);
        await sameBits(`pool2d ${op} n=${n} c=${c}`, (be) => {
          const o = be.alloc('float32', n * c * 55);
          be.pool2d(op, view(put(be, x), [n, c, h, w]), pw, o);
          return be.readSync(o) as Float32Array;
        }, 'pool2d');
        await sameBits(`pool2dGrad ${op} n=${n} c=${c}`, (be) => {
          const o = be.alloc('float32', x.length);
          be.pool2dGrad(op, view(put(be, x), [n, c, h, w]), view(put(be, dy), [n, c, 5, 11]), pw, o);
          return be.readSync(o) as Float32Array;
        }, 'pool2dGrad');
      }
    }
  });

  it('elementwise, reductions and fused kernels (generated, rank 1 to 3, and row reductions): bit-identical', async () => {
    const n = 4097;
    const x = data(n);
    const y = data(n);
    for (const op of ['exp', 'tanh', 'erf', 'relu'] as const) {
      await sameBits(`unary ${op}`, (be) => {
        const o = be.alloc('float32', n);
        be.unary(op, view(put(be, x), [n]), o);
        return be.readSync(o) as Float32Array;
      }, 'unary');
    }
    await sameBits('binary pow', (be) => {
      const o = be.alloc('float32', n);
      be.binary('pow', view(put(be, x), [n]), view(put(be, y), [n]), o);
      return be.readSync(o) as Float32Array;
    }, 'binary');
    const cols = 331;
    for (const [op, axes, shape] of [['sum', [0], [12, cols]], ['max', [0], [12, cols]], ['argmax', [0], [12, cols]], ['sum', [0, 2], [3, 200, 4]], ['sum', [0, 2], [3, 7, 190]], ['min', [1], [5, 800]]] as const) {
      await sameBits(`reduce ${op} over ${axes.join(',')} of [${shape.join(',')}]`, (be) => {
        const o = be.alloc(op === 'argmax' ? 'int32' : 'float32', shape.length === 2 ? shape[1 - axes[0]!]! : shape[1]!);
        be.reduce(op, view(put(be, x.subarray(0, shape.reduce((p, q) => p * q, 1))), shape), axes, o);
        return be.readSync(o) as Float32Array;
      }, 'reduce');
    }
    for (const [kind, dtype, a, b] of [['uniform', 'float32', -1, 2], ['normal', 'float32', 0.5, 2], ['bernoulli', 'bool', 0.3, 0], ['randint', 'int32', -5, 9]] as const) {
      await sameBits(`random ${kind} (${dtype})`, (be) => {
        const o = be.alloc(dtype, 3001);
        be.random(kind, 1234567, 4294967000, a, b, o); // the counter wraps past 2³² inside the tensor
        const r = be.readSync(o);
        return dtype === 'bool' ? Int32Array.from(r) : (r as Float32Array | Int32Array);
      }, 'random');
    }
    const prog: FusedProgram = {
      key: 'tanh(a)*b+exp(b)', inputs: ['float32', 'float32'], consts: 0,
      code: [{ op: 'input', input: 0 }, { op: 'input', input: 1 }, { op: 'tanh', args: [0] }, { op: 'mul', args: [2, 1] }, { op: 'exp', args: [1] }, { op: 'add', args: [3, 4] }],
      outputs: [{ value: 5, dtype: 'float32' }, { value: 2, dtype: 'float32' }],
    };
    // rank 1 (contiguous), rank 2 (b a row broadcast down the rows), rank 3 (b a column per plane)
    const layouts: [readonly number[], readonly number[], readonly number[]][] = [
      [[n], [n], [1]], [[17, 241], [17, 241], [0, 1]], [[5, 7, 117], [5, 7, 117], [7, 1, 0]],
    ];
    for (const [shape, sa, sb] of layouts) {
      const size = shape.reduce((p, q) => p * q, 1);
      await sameBits(`fused over [${shape.join(',')}]`, (be) => {
        const o1 = be.alloc('float32', size);
        const o2 = be.alloc('float32', size);
        be.fused(prog, [view(put(be, x.subarray(0, size)), shape, contiguousStrides(sa)), view(put(be, y), shape, sb)], [], [o1, o2]);
        const r = new Float32Array(2 * size);
        r.set(be.readSync(o1) as Float32Array);
        r.set(be.readSync(o2) as Float32Array, size);
        return r;
      }, 'fused');
    }
    const one: FusedProgram = { ...prog, key: 'tanh(a)*b+exp(b) once', outputs: [{ value: 5, dtype: 'float32' }] };
    await sameBits('reduceFused rows', (be) => {
      const o = be.alloc('float32', 17);
      be.reduceFused('sum', one, [view(put(be, x.subarray(0, 17 * 241)), [17, 241]), view(put(be, y), [17, 241], [0, 1])], [], [17, 241], [1], o);
      return be.readSync(o) as Float32Array;
    }, 'reduceFused');
    // rows in planes: [5, 7, 117] over its last axis, b a column per plane (the dims do not merge)
    await sameBits('reduceFused rows in planes', (be) => {
      const o = be.alloc('float32', 35);
      be.reduceFused('sum', one, [view(put(be, x.subarray(0, 5 * 7 * 117)), [5, 7, 117]), view(put(be, y), [5, 7, 117], [7, 1, 0])], [], [5, 7, 117], [2], o);
      return be.readSync(o) as Float32Array;
    }, 'reduceFused');
    await sameBits('matmulFused', (be) => {
      const a = view(put(be, x.subarray(0, 40 * 30)), [1, 40, 30]);
      const b = view(put(be, y.subarray(0, 30 * 50)), [1, 30, 50]);
      const bias = view(put(be, y.subarray(0, 50)), [40, 50], [0, 1]);
      const o1 = be.alloc('float32', 2000);
      const o2 = be.alloc('float32', 2000);
      be.matmulFused(a, b, prog, [bias], [], [o1, o2]);
      const r = new Float32Array(4000);
      r.set(be.readSync(o1) as Float32Array);
      r.set(be.readSync(o2) as Float32Array, 2000);
      return r;
    }, 'matmul');
  });

  it('memory grown while the workers run is seen by them', async () => {
    const x = data(8 << 20);
    await sameBits('unary exp above the old end of memory', (be) => {
      const before = be.linearMemoryBytes;
      const big = be.alloc('float32', x.length); // 32 MiB: the memory grows
      expect(be.linearMemoryBytes).toBeGreaterThan(before);
      be.write(big, x);
      const o = be.alloc('float32', big.size);
      be.unary('exp', view(big, [big.size]), o);
      const r = be.readSync(o) as Float32Array;
      be.free(big);
      be.free(o);
      return r.subarray(r.length - 70000);
    }, 'unary');
  });

  it('a kernel that fails in a worker is an AxonError on the caller; a worker that hangs breaks the pool, not the process', async () => {
    type Internals = { fnNames: string[]; pool: { q32: Int32Array }; threading: { module: WebAssembly.Module }; fork(op: string, calls: { fn: number; args: number[] }[], local: (c: unknown) => void, work: number): void };
    const be = createWasmBackendSync({ threads: 2 });
    const k = (be as unknown as Internals).fnNames;
    expect(await be.startThreads()).toBe(2);
    const inner = be as unknown as Internals;
    // two calls of fill_32 far outside the memory; the caller's thread takes one, waits until the
    // worker has taken the other, and skips its own: only the worker runs the bad kernel
    const bad = { fn: k.indexOf('fill_32'), args: [2 ** 32 - 64, 0, 1000] };
    let mine = 0;
    const local = (): void => {
      while (Atomics.load(inner.pool.q32, 0) < 2);
      mine++;
    };
    expect(() => inner.fork('fill', [bad, bad], local, 0)).toThrow(AxonError);
    expect(() => inner.fork('fill', [bad, bad], local, 0)).toThrow(/fill: kernel failed in worker 0: .*out of bounds/);
    expect(mine).toBe(2); // the caller's share ran; the pool still works
    expect(be.features.threads).toBe(2);
    // a worker stuck in a long kernel: the wait times out, the pool stops, the caller gets the error
    const memory = new WebAssembly.Memory({ initial: 64, maximum: 65536, shared: true });
    const pool = new ThreadPool(inner.threading.module, null, memory, 2, inner.fnNames);
    expect(await pool.whenReady()).toBe(true);
    const q32 = (pool as unknown as { q32: Int32Array }).q32;
    const n = 512; // 512³ on an unset workspace: long enough
    const long = { fn: inner.fnNames.indexOf('matmul_f32'), args: [65536, 0, n * 4, 4, 65536, 0, n * 4, 4, 65536 * 4, n * n * 4, n * 4, 8, n, n, n, 65536 * 8] };
    expect(() => pool.runQueue([long, long], () => {
      while (Atomics.load(q32, 0) < 2);
    }, 20)).toThrow(/did not finish within 20 ms/);
    expect(pool.failure).toMatch(/did not finish/);
    expect(pool.ready()).toBe(false);
    be.dispose();
  });

  it('a process that imports the package, or runs threads without dispose(), exits by itself', () => {
    const child = join(dirname(fileURLToPath(import.meta.url)), 'threads-child.mjs');
    for (const mode of ['import-only', 'no-dispose', 'dispose']) {
      const out = execFileSync(process.execPath, [child, mode], { encoding: 'utf8', timeout: 30000 });
      const r = JSON.parse(out.trim().split('\n').pop()!) as { mode: string; threads?: number; value?: number; parallel?: number };
      expect(r.mode).toBe(mode);
      if (mode !== 'import-only') expect(r).toMatchObject({ threads: 2, value: 256, parallel: 1 });
    }
  });
});
