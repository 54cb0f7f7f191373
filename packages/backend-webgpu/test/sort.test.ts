// sort (the stable sorting permutation of each row: bitonic networks in workgroup memory, global
// steps past the tile): against a stable JS sort with backend.ts's comparator, on seeded random
// inputs full of ties, NaN, ±Infinity, ±0 and int32 extremes — random / broadcast / contiguous
// views, rows within one tile and past it (the default tile and small `sortTile`s, so the global
// steps run on small tensors), zero sizes; the dispatches it takes, bad calls, and memory.
import { describe, expect, it } from 'vitest';
import type { DType, View } from '@axon/core';
import { createWebGPUBackend, type WebGPUBackend } from '../src/index.js';
import { expectAxonErrors, freeAll, type Layout, makeView, rng, upload, useBackend, viewOf } from './helpers.js';

const getB = useBackend();

/** backend.ts's order: NaN largest (all NaNs equal), −0 = +0, descending flips the comparison; ties by index. */
function expected(values: readonly number[], rows: number, n: number, desc: boolean): number[] {
  const out: number[] = [];
  for (let r = 0; r < rows; r++) {
    const v = (j: number): number => values[r * n + j]!;
    const idx = [...Array(n).keys()].sort((p, q) => {
      const a = v(p), b = v(q);
      const na = Number.isNaN(a), nb = Number.isNaN(b);
      const c = na || nb ? Number(na) - Number(nb) : a < b ? -1 : a > b ? 1 : 0;
      return (desc ? -c : c) || p - q;
    });
    out.push(...idx);
  }
  return out;
}

const FLOATS = [NaN, -NaN, Infinity, -Infinity, 0, -0, 1, -1, 1.5, 3.4e38, -3.4e38, 1e-38, -1e-38];
const INTS = [-(2 ** 31), 2 ** 31 - 1, 0, -1, 1, 7];

async function check(b: WebGPUBackend, dtype: DType, rows: number, n: number, layout: Layout, seed: ReturnType<typeof rng>): Promise<void> {
  const pool = dtype === 'float32' ? FLOATS : INTS;
  // half the cases draw from a few special values (many ties), the others from a wide range
  const ties = seed.next() < 0.5;
  const gen = (): number => (ties ? seed.pick(pool) : dtype === 'float32' ? seed.normal() * 1e3 : seed.int(-(2 ** 31), 2 ** 31));
  const x = makeView(b, seed, dtype, [rows, n], layout, gen);
  const out = b.alloc('int32', rows * n);
  try {
    for (const desc of [false, true]) {
      b.sort(x.view, desc, out);
      const got = Array.from(await b.read(out));
      const want = expected(x.values, rows, n, desc);
      const what = `${dtype} [${rows}, ${n}] ${layout} (strides ${x.view.strides.join(',')}) ${desc ? 'descending' : 'ascending'}, tile ${b.sortTile ?? 'default'}`;
      const bad = got.findIndex((g, i) => g !== want[i]);
      expect(bad, `${what}: first difference at ${bad}: got ${got[bad]}, expected ${want[bad]}`).toBe(-1);
    }
  } finally {
    freeAll(b, x.buf, out);
  }
}

describe('sort', () => {
  it('rows within one tile: every dtype, layout and a range of lengths (powers of two and not)', async () => {
    const b = getB();
    const r = rng();
    for (const dtype of ['float32', 'int32'] as const) {
      for (const [rows, n] of [[1, 1], [3, 2], [5, 3], [2, 17], [4, 64], [3, 129], [2, 1000], [1, 2048], [300, 5]] as const) {
        for (const layout of ['contiguous', 'random', 'broadcast'] as const) await check(b, dtype, rows, n, layout, r);
      }
    }
  });

  it('rows past the tile: the global steps (default tile: n = 5000; small tiles on small rows)', async () => {
    const b = getB();
    const r = rng();
    try {
      for (const [tile, rows, n] of [[null, 2, 5000], [null, 1, 2049], [2, 3, 9], [4, 2, 33], [8, 5, 100], [16, 2, 257], [4, 70, 13]] as const) {
        b.sortTile = tile;
        for (const dtype of ['float32', 'int32'] as const) await check(b, dtype, rows, n, r.pick(['contiguous', 'random', 'broadcast'] as const), r);
      }
    } finally {
      b.sortTile = null;
    }
  });

  it('rows in passes when the temporary would exceed a binding (a lowered limit)', async () => {
    const b = getB();
    const r = rng();
    const [rows, n] = [5, 33]; // N = 64: 512 bytes of temporary per row
    const vals = Array.from({ length: rows * n }, () => r.pick(FLOATS));
    const x = upload(b, 'float32', vals);
    const out = b.alloc('int32', rows * n);
    const limits = b.limits;
    const self = b as unknown as { limits: typeof limits };
    try {
      b.sortTile = 4;
      self.limits = { ...limits, maxStorageBufferBindingSize: 2 * 512 }; // 2 rows a pass: 3 passes
      for (const desc of [false, true]) {
        b.sort(viewOf(x, [rows, n]), desc, out);
        expect(Array.from(await b.read(out)).join(), desc ? 'descending' : 'ascending').toBe(expected(vals, rows, n, desc).join());
      }
      self.limits = { ...limits, maxStorageBufferBindingSize: 511 };
      expectAxonErrors('sort', [['a row beyond the binding limit', () => b.sort(viewOf(x, [rows, n]), false, out), /512-byte temporary/]]);
    } finally {
      self.limits = limits;
      b.sortTile = null;
      freeAll(b, x, out);
    }
  });

  it('grids beyond maxComputeWorkgroupsPerDimension (capped at 4): rows in several dispatches, 2-D steps', async () => {
    const b = await createWebGPUBackend({ maxWorkgroupsPerDimension: 4 });
    try {
      const r = rng();
      for (const [tile, rows, n] of [[null, 13, 9], [8, 13, 30], [2, 3, 7]] as const) {
        b.sortTile = tile;
        await check(b, 'float32', rows, n, 'random', r);
      }
      b.sortTile = 2;
      const x = b.alloc('float32', 9);
      const out = b.alloc('int32', 9);
      expectAxonErrors('sort', [['more tiles than workgroups per dimension', () => b.sort(viewOf(x, [1, 9]), false, out), /more than this adapter's 4 per dimension/]]);
      freeAll(b, x, out);
    } finally {
      b.dispose();
    }
  });

  it('zero rows or zero columns touch nothing; the dispatches: one for rows within a tile, a few past it', async () => {
    const b = getB();
    for (const [rows, n] of [[0, 5], [3, 0], [0, 0]]) {
      const x = b.alloc('float32', 0);
      const out = b.alloc('int32', 0);
      b.sort({ buf: x, dtype: 'float32', shape: [rows, n], strides: [n, 1], offset: 0 }, false, out);
      freeAll(b, x, out);
    }
    // count the kernels the sort encodes (the backend's private dispatch, wrapped for this test)
    const inner = b as unknown as { dispatch: (...a: unknown[]) => void };
    const orig = inner.dispatch;
    let count = 0;
    inner.dispatch = (...a: unknown[]) => (count++, orig.apply(b, a));
    try {
      for (const [rows, n, want] of [[64, 1000, 1], [1, 2048, 1], [2, 5000, 6], [1, 16384, 10]] as const) {
        const x = upload(b, 'float32', Array.from({ length: rows * n }, (_, i) => (i * 7919) % 1009));
        const out = b.alloc('int32', rows * n);
        count = 0;
        b.sort(viewOf(x, [rows, n]), true, out);
        const dispatches = count;
        const got = Array.from(await b.read(out));
        freeAll(b, x, out);
        expect(dispatches, `[${rows}, ${n}]`).toBe(want);
        const vals = Array.from({ length: rows * n }, (_, i) => (i * 7919) % 1009);
        expect(got.join() === expected(vals, rows, n, true).join(), `[${rows}, ${n}] descending`).toBe(true);
      }
    } finally {
      inner.dispatch = orig;
    }
  });

  it('frees its temporary; bad calls are AxonErrors before any work', async () => {
    const b = getB();
    const x = upload(b, 'float32', Array.from({ length: 2 * 3000 }, (_, i) => -i));
    const out = b.alloc('int32', 6000);
    const before = b.memory();
    b.sort(viewOf(x, [2, 3000]), false, out);
    await b.sync();
    expect(b.memory().bytes).toBe(before.bytes);
    expect(b.memory().buffers).toBe(before.buffers);
    const bool = b.alloc('bool', 4);
    const short = b.alloc('int32', 5);
    const f = b.alloc('float32', 6000);
    const v = (buf = x, shape = [2, 3000]): View => ({ ...viewOf(buf, shape), dtype: buf.dtype });
    expectAxonErrors('sort', [
      ['bool input', () => b.sort(v(bool, [1, 4]), false, out), /float32 or int32/],
      ['rank 1', () => b.sort(v(x, [6000]), false, out), /rank-2/],
      ['out too short', () => b.sort(v(), false, short), /6000 elements/],
      ['float32 out', () => b.sort(v(), false, f), /int32 buffer/],
      ['out is x', () => b.sort(v(f, [2, 3000]), false, f), /int32 buffer|alias/],
      ['past the buffer', () => b.sort({ ...v(), offset: 1 }, false, out), /reaches element/],
      ['descending not a boolean', () => b.sort(v(), 1 as unknown as boolean, out), /boolean/],
      ['bad sortTile', () => { b.sortTile = 3; try { b.sort(v(), false, out); } finally { b.sortTile = null; } }, /power of two/],
    ]);
    freeAll(b, x, out, bool, short, f);
  });
});
