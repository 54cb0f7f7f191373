// matmul against a float64 reference: transposed, sliced and batch-broadcast operands.
import { describe, it } from 'vitest';
import type { View } from '@axon/core';
import { SEED, expectClose, makeView, newBackend, randInt, uniform } from './helpers.js';
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
  it('a large product (256 × 300 × 270) transposed both ways', () => {
    check(1, 256, 270, 300, 'transposed', 'transposed');
    check(1, 256, 270, 300, 'contiguous', 'transposed');
  });
});
