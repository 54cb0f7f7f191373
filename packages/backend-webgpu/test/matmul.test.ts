// matmul: sizes across tile edges, batches (incl. broadcast stride 0), transposed and sliced
// operands, K = 0 and empty outputs — against a float64 triple loop with the K·ε·Σ|a||b| bound.
import { describe, it } from 'vitest';
import { EDGE_SIZES, expectClose, freeAll, type Layout, makeView, rng, useBackend } from './helpers.js';

const getB = useBackend();
const EPS = 2 ** -24;

function matmulRef(A: number[], B: number[], nb: number, M: number, K: number, N: number): { out: number[]; bound: number[] } {
  const out: number[] = [];
  const bound: number[] = [];
  for (let bi = 0; bi < nb; bi++) {
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0;
        let m = 0;
        for (let k = 0; k < K; k++) {
          const p = A[(bi * M + i) * K + k]! * B[(bi * K + k) * N + j]!;
          s += p;
          m += Math.abs(p);
        }
        out.push(s);
        bound.push(EPS * K * m);
      }
    }
  }
  return { out, bound };
}

async function check(nb: number, M: number, K: number, N: number, la: Layout, lb: Layout): Promise<void> {
  const b = getB();
  const r = rng();
  const a = makeView(b, r, 'float32', [nb, M, K], la);
  const bb = makeView(b, r, 'float32', [nb, K, N], lb);
  const out = b.alloc('float32', nb * M * N);
  b.matmul(a.view, bb.view, out);
  const got = await b.read(out);
  const ref = matmulRef(a.values, bb.values, nb, M, K, N);
  expectClose(`matmul [${nb},${M},${K}]x[${nb},${K},${N}] a strides [${a.view.strides}]+${a.view.offset} b strides [${bb.view.strides}]+${bb.view.offset}`, got, ref.out, {}, ref.bound);
  freeAll(b, a.buf, bb.buf, out);
}

describe('matmul', () => {
  it('square and ragged sizes across tile edges (contiguous)', async () => {
    for (const n of EDGE_SIZES.slice(0, 5)) await check(1, n, n, n, 'contiguous', 'contiguous');
    await check(1, 3, 17, 64, 'contiguous', 'contiguous');
    await check(1, 129, 3, 17, 'contiguous', 'contiguous');
    await check(1, 1, 1023, 1, 'contiguous', 'contiguous');
    await check(1, 33, 1, 65, 'contiguous', 'contiguous');
  });
  it('transposed, sliced and broadcast (stride 0) operands', async () => {
    const r = rng();
    for (let t = 0; t < 24; t++) {
      const dims = [r.pick([1, 2, 3]), r.pick(EDGE_SIZES.slice(0, 5)), r.pick(EDGE_SIZES.slice(0, 5)), r.pick(EDGE_SIZES.slice(0, 5))] as const;
      await check(dims[0], dims[1], dims[2], dims[3], r.pick(['random', 'broadcast'] as Layout[]), r.pick(['random', 'broadcast', 'contiguous'] as Layout[]));
    }
  });
  it('batched (5 batches), K = 0 (zeros) and empty outputs', async () => {
    await check(5, 17, 9, 33, 'random', 'random');
    await check(2, 4, 0, 5, 'contiguous', 'contiguous');
    await check(0, 4, 3, 5, 'contiguous', 'contiguous');
    await check(2, 0, 3, 5, 'contiguous', 'contiguous');
    await check(2, 3, 3, 0, 'contiguous', 'contiguous');
  });
});
