// matmul against a float64 reference: transposed, sliced and batch-broadcast operands.
import { describe, expect, it } from 'vitest';
import type { View } from '@axon/core';
import { SEED, expectClose, makeView, newBackend, randInt, uniform, upload } from './helpers.js';
import type { Layout } from './helpers.js';

const be = newBackend();
const EPS = 2 ** -24;

/** Checks one product; tolerance: float32 dot products, K·ε·Σ|a||b| per element (acc linear). */
function check(B: number, M: number, N: number, K: number, la: Layout, lb: Layout, batchBroadcast = false): void {
  const gen = () => Math.fround(uniform(-1, 1));
  const a = makeView(be, 'float32', [batchBroadcast ? 1 : B, M, K], la, gen);
  const b = makeView(be, 'float32', [B, K, N], lb, gen);
  let av: View = a.view;
  if (batchBroadcast) av = { ...a.view, shape: [B, M, K], strides: [0, a.view.strides[1]!, a.view.strides[2]!] };
  const out = be.alloc('float32', B * M * N);
  be.matmul(av, b.view, out);
  const got = be.readSync(out);
  const want: number[] = [];
  const tol: number[] = [];
  for (let bb = 0; bb < B; bb++) {
    const ab = batchBroadcast ? 0 : bb;
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0;
        let m = 0;
        for (let k = 0; k < K; k++) {
          const p = a.values[(ab * M + i) * K + k]! * b.values[(bb * K + k) * N + j]!;
          s += p;
          m += Math.abs(p);
        }
        want.push(s);
        tol.push(K * EPS * m);
      }
    }
  }
  for (let i = 0; i < want.length; i++) {
    expectClose([got[i]!], [want[i]!], tol[i]!, 0, `matmul B${B} M${M} N${N} K${K} a:${la} b:${lb}${batchBroadcast ? ' bcast' : ''} [${i}]`);
  }
  be.free(out);
  be.free(a.view.buf);
  be.free(b.view.buf);
}

const L: Layout[] = ['contiguous', 'transposed', 'sliced', 'transposed-sliced', 'broadcast'];

/** Random float32 values in [-1, 1). */
function randoms(n: number): Float32Array {
  return Float32Array.from({ length: n }, () => uniform(-1, 1));
}

/**
 * a·b[:, :n] for a [M, K] and b [K, N] given row-major, each stored either as itself (`rows`) or
 * as its transpose (`cols`, the operand then a transposed view).
 */
function product(a: Float32Array, b: Float32Array, M: number, N: number, K: number, la: 'rows' | 'cols', lb: 'rows' | 'cols', n = N): Float32Array {
  const t = (x: Float32Array, R: number, C: number) => Float32Array.from({ length: R * C }, (_, i) => x[(i % R) * C + Math.floor(i / R)]!);
  const ba = upload(be, 'float32', la === 'rows' ? a : t(a, M, K));
  const bb = upload(be, 'float32', lb === 'rows' ? b : t(b, K, N));
  const out = be.alloc('float32', M * n);
  be.matmul(
    { buf: ba, dtype: 'float32', shape: [1, M, K], strides: [M * K, ...(la === 'rows' ? [K, 1] : [1, M])], offset: 0 },
    { buf: bb, dtype: 'float32', shape: [1, K, n], strides: [K * N, ...(lb === 'rows' ? [N, 1] : [1, K])], offset: 0 },
    out,
  );
  const r = be.readSync(out) as Float32Array;
  for (const x of [ba, bb, out]) be.free(x);
  return r;
}

/** Asserts the same float32 bits. */
function expectBits(got: Float32Array, want: Float32Array, what: string): void {
  const g = new Uint32Array(got.buffer, got.byteOffset, got.length);
  const w = new Uint32Array(want.buffer, want.byteOffset, want.length);
  expect(g.length, what).toBe(w.length);
  const i = g.findIndex((x, j) => x !== w[j]);
  if (i >= 0) expect.fail(`${what}: [${i}] ${got[i]} is not ${want[i]} bit for bit (seed ${SEED})`);
}

describe(`matmul (seed ${SEED})`, () => {
  it('edge sizes 1, 3, 17, 64, 129 in every dimension, every layout pair', () => {
    const sizes = [1, 3, 17, 64, 129];
    for (let rep = 0; rep < 6; rep++) {
      const M = sizes[randInt(0, sizes.length)]!;
      const N = sizes[randInt(0, 5)]!;
      const K = sizes[randInt(0, 5)]!;
      for (const la of L) for (const lb of L) check(1, M, N, K, la, lb);
    }
  });
  it('tile edges of the packed kernel (4×8 blocks, KC = 256)', () => {
    for (const [M, N, K] of [
      [4, 8, 256],
      [5, 9, 257],
      [3, 7, 255],
      [12, 24, 300],
      [33, 65, 513],
      [1, 1023, 5],
      [1023, 1, 3],
    ] as [number, number, number][]) {
      check(1, M, N, K, 'contiguous', 'contiguous');
      check(1, M, N, K, 'transposed', 'transposed');
    }
  });
  it('thin products (M ≤ 2 or N ≤ 2: unpacked paths) in every layout', () => {
    for (const [M, N, K] of [
      [1, 1023, 129],
      [2, 67, 1023],
      [1, 1, 1023],
      [129, 1, 300],
      [64, 2, 17],
      [2, 2, 3],
      [1, 5, 0],
    ] as [number, number, number][]) {
      for (const la of L) for (const lb of L) check(1, M, N, K, la, lb);
    }
  });
  it('batched, including a batch-broadcast operand (stride 0)', () => {
    for (let rep = 0; rep < 6; rep++) {
      const B = randInt(1, 5);
      check(B, randInt(1, 40), randInt(1, 40), randInt(1, 40), L[randInt(0, L.length)]!, L[randInt(0, L.length)]!);
      check(B, randInt(1, 40), randInt(1, 40), randInt(1, 40), L[randInt(0, L.length)]!, L[randInt(0, L.length)]!, true);
    }
  });
  it('empty dimensions: K = 0 gives zeros, M or N or B = 0 gives an empty output', () => {
    check(2, 3, 4, 0, 'contiguous', 'contiguous');
    check(2, 0, 4, 3, 'contiguous', 'contiguous');
    check(2, 3, 0, 3, 'transposed', 'contiguous');
    check(0, 3, 4, 3, 'contiguous', 'contiguous');
  });
  it('the MLP training step\'s products at batch 32 (weight read in place, K = 32 gradient)', () => {
    check(1, 32, 128, 784, 'contiguous', 'contiguous');
    check(1, 784, 128, 32, 'transposed', 'contiguous');
    check(1, 32, 10, 128, 'contiguous', 'contiguous');
    check(1, 32, 128, 10, 'contiguous', 'transposed');
    check(1, 128, 10, 32, 'transposed', 'contiguous');
  });
  it('B read in place (contiguous rows, M ≤ 64) gives the packed path\'s bits', () => {
    for (const [M, N, K] of [
      [32, 128, 784],
      [5, 19, 300],
      [64, 24, 33],
      [61, 13, 257],
      [3, 8, 5],
      [33, 130, 64],
      [65, 16, 40],
    ] as [number, number, number][]) {
      const a = randoms(M * K);
      const b = randoms(K * N);
      for (const la of ['rows', 'cols'] as const) {
        expectBits(product(a, b, M, N, K, la, 'rows'), product(a, b, M, N, K, la, 'cols'), `M${M} N${N} K${K} a:${la}`);
      }
    }
  });
  it('short k (K ≤ 64: row strips in one call) gives the bits of the edge-tile path', () => {
    for (const [M, N, K] of [
      [784, 128, 32],
      [128, 10, 32],
      [9, 16, 64],
      [40, 24, 1],
      [12, 8, 65],
    ] as [number, number, number][]) {
      const a = randoms(M * K);
      const b = randoms(K * N);
      for (const la of ['rows', 'cols'] as const) {
        for (const lb of ['rows', 'cols'] as const) {
          // columns 0..6 as full 8-wide strips (the multi-strip kernel) and as a ragged strip
          const full = product(a, b, M, N, K, la, lb);
          const ragged = product(a, b, M, N, K, la, lb, 7);
          const cols = full.filter((_, i) => i % N < 7);
          expectBits(ragged, cols, `M${M} N${N} K${K} a:${la} b:${lb}`);
        }
      }
    }
  });
  it('a weight broadcast over the batch (x [B, T, K] · W, run as one [B·T, K] product) gives each batch\'s own product bit for bit', () => {
    for (const [B, M, N, K] of [
      [16, 128, 24, 32], // the GPT's projections, scaled down
      [3, 5, 17, 300], // K over one 256-deep slice; rows across the 4-row strips of the batches
      [4, 3, 9, 7], // M = 3: the smallest that merges
      [5, 2, 12, 9], // M = 2 (thin products): not merged
      [2, 40, 8, 65], // M ≤ 64 per batch (B read in place), 80 merged (packed)
    ] as [number, number, number, number][]) {
      const a = randoms(B * M * K);
      const w = randoms(K * N);
      for (const lb of ['rows', 'cols'] as const) {
        const ba = upload(be, 'float32', a);
        const bw = upload(be, 'float32', lb === 'rows' ? w : Float32Array.from({ length: K * N }, (_, i) => w[(i % K) * N + Math.floor(i / K)]!));
        const out = be.alloc('float32', B * M * N);
        be.matmul(
          { buf: ba, dtype: 'float32', shape: [B, M, K], strides: [M * K, K, 1], offset: 0 },
          { buf: bw, dtype: 'float32', shape: [B, K, N], strides: [0, ...(lb === 'rows' ? [N, 1] : [1, K])], offset: 0 },
          out,
        );
        const got = be.readSync(out) as Float32Array;
        for (const x of [ba, bw, out]) be.free(x);
        for (let i = 0; i < B; i++) {
          const want = product(a.subarray(i * M * K, (i + 1) * M * K), w, M, N, K, 'rows', lb);
          expectBits(got.subarray(i * M * N, (i + 1) * M * N), want, `B${B} M${M} N${N} K${K} b:${lb}, batch ${i}`);
        }
      }
    }
  });
  it('a large product (256 × 300 × 270) transposed both ways', () => {
    check(1, 256, 270, 300, 'transposed', 'transposed');
    check(1, 256, 270, 300, 'contiguous', 'transposed');
  });
});
