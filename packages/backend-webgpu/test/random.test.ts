// random: uniform/bernoulli/randint bits identical to core's referenceRandom; normal within the
// Box–Muller float32 tolerance; counters that wrap around 2^32; float32/bool/int32 outputs.
import { describe, it } from 'vitest';
import { referenceRandom } from '@axon/core';
import { expectClose, freeAll, makeView, rng, useBackend } from './helpers.js';

// A tiny dispatch-dimension cap so that the 2-D grid path runs at test sizes.
const getB = useBackend({ maxWorkgroupsPerDimension: 7 });

describe('random', () => {
  it('uniform, bernoulli and randint match referenceRandom bit for bit', async () => {
    const b = getB();
    const r = rng();
    const cases: ['uniform' | 'bernoulli' | 'randint', number, number, 'float32' | 'int32' | 'bool'][] = [
      ['uniform', 0, 1, 'float32'],
      ['uniform', -0.1234567, 0.1234567, 'float32'],
      ['uniform', -Math.sqrt(6 / 300), Math.sqrt(6 / 300), 'float32'],
      ['uniform', 5, 1e6, 'float32'],
      ['bernoulli', 0.3, 0, 'bool'],
      ['bernoulli', 0.8, 0, 'float32'],
      ['bernoulli', 0, 0, 'bool'],
      ['bernoulli', 1, 0, 'bool'],
      ['randint', 0, 10, 'int32'],
      ['randint', -5, 3, 'int32'],
      ['randint', -1000000, 1000000, 'int32'],
      ['randint', 0, 2 ** 30, 'int32'],
    ];
    for (const [kind, a, bb, dtype] of cases) {
      for (const n of [0, 1, 3, 1023, 2000]) {
        const key = r.int(0, 2 ** 32);
        const counter = r.pick([0, r.int(0, 2 ** 32), 2 ** 32 - 5]);
        const out = b.alloc(dtype, n);
        b.random(kind, key, counter, a, bb, out);
        const got = await b.read(out);
        const want = Array.from(referenceRandom(kind, key, counter, a, bb, n), (v) => (dtype === 'float32' ? Math.fround(v) : v));
        expectClose(`${kind}(${a}, ${bb}) ${dtype} n=${n} key ${key} counter ${counter}`, got, want);
        b.free(out);
      }
    }
  });
  it('normal within the float32 Box–Muller tolerance', async () => {
    const b = getB();
    const r = rng();
    for (const [mean, std] of [[0, 1], [2, 0.5], [-1, 3]] as const) {
      for (const n of [1, 17, 2000]) {
        const key = r.int(0, 2 ** 32);
        const counter = r.pick([0, 2 ** 32 - 3, r.int(0, 2 ** 31)]);
        const out = b.alloc('float32', n);
        b.random('normal', key, counter, mean, std, out);
        const want = Array.from(referenceRandom('normal', key, counter, mean, std, n));
        expectClose(`normal(${mean}, ${std}) n=${n}`, await b.read(out), want, { atol: 2e-5 * Math.max(1, std), rtol: 1e-5 });
        b.free(out);
      }
    }
  });
});

describe('grids larger than maxComputeWorkgroupsPerDimension (capped to 7 here)', () => {
  it('reduce with one workgroup per output over 2-D grids', async () => {
    const b = getB();
    const r = rng();
    for (const [rows, cols] of [[20, 100], [9, 1500]]) {
      const x = makeView(b, r, 'float32', [rows, cols], 'random');
      const out = b.alloc('float32', rows);
      b.reduce('max', x.view, [1], out);
      const want = Array.from({ length: rows }, (_, i) => Math.max(...x.values.slice(i * cols, (i + 1) * cols)));
      expectClose(`max [${rows},${cols}] axis 1`, await b.read(out), want);
      freeAll(b, x.buf, out);
    }
  });
  it('matmul split into several dispatches along x, y and the batch', async () => {
    const b = getB();
    const r = rng();
    const [nb, M, K, N] = [9, 240, 5, 250];
    const a = makeView(b, r, 'float32', [nb, M, K], 'random');
    const bb = makeView(b, r, 'float32', [nb, K, N], 'broadcast');
    const out = b.alloc('float32', nb * M * N);
    b.matmul(a.view, bb.view, out);
    const want: number[] = [];
    const bound: number[] = [];
    for (let z = 0; z < nb; z++)
      for (let i = 0; i < M; i++)
        for (let j = 0; j < N; j++) {
          let acc = 0;
          let mag = 0;
          for (let k = 0; k < K; k++) {
            const p = a.values[(z * M + i) * K + k]! * bb.values[(z * K + k) * N + j]!;
            acc += p;
            mag += Math.abs(p);
          }
          want.push(acc);
          bound.push(2 ** -24 * K * mag);
        }
    expectClose('split matmul', await b.read(out), want, {}, bound);
    freeAll(b, a.buf, bb.buf, out);
  });
});
