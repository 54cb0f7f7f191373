// gather, scatterAdd and random (bits against core's referenceRandom).
import { describe, expect, it } from 'vitest';
import { referenceRandom } from '@axon/core';
import type { DType, RandomKind } from '@axon/core';
import { LAYOUTS, SEED, expectClose, expectExact, makeView, newBackend, randInt, rng, uniform } from './helpers.js';

const be = newBackend();
const EPS = 2 ** -24;

describe(`gather / scatterAdd (seed ${SEED})`, () => {
  for (const dtype of ['float32', 'int32', 'bool'] as DType[]) {
    it(`gather ${dtype} (exact), every layout, inner sizes across SIMD edges`, () => {
      for (const inner of [0, 1, 3, 17, 64, 129]) {
        for (const layout of LAYOUTS) {
          const outer = randInt(0, 4);
          const n = randInt(1, 6);
          const m = randInt(0, 9);
          const gen = dtype === 'bool' ? () => (rng() < 0.5 ? 1 : 0) : dtype === 'int32' ? () => randInt(-1e6, 1e6) : () => Math.fround(uniform(-9, 9));
          const x = makeView(be, dtype, [outer, n, inner], layout, gen);
          const idx = makeView(be, 'int32', [m], LAYOUTS[randInt(0, 5)]!, () => randInt(0, n));
          const want: number[] = [];
          for (let o = 0; o < outer; o++) for (let j = 0; j < m; j++) for (let i = 0; i < inner; i++) want.push(x.values[(o * n + idx.values[j]!) * inner + i]!);
          const out = be.alloc(dtype, want.length);
          be.gather(x.view, idx.view, out);
          expectExact(be.readSync(out), want, `gather ${dtype} [${outer},${n},${inner}] m=${m} ${layout}`);
          for (const b of [out, x.view.buf, idx.view.buf]) be.free(b);
        }
      }
    });
  }
  for (const dtype of ['float32', 'int32'] as DType[]) {
    it(`scatterAdd ${dtype} (${dtype === 'int32' ? 'exact' : 'duplicates: m·ε·Σ|terms|'})`, () => {
      for (const inner of [0, 1, 3, 17, 64, 129]) {
        for (const layout of LAYOUTS) {
          const outer = randInt(0, 4);
          const n = randInt(1, 6);
          const m = randInt(0, 12);
          const gen = dtype === 'int32' ? () => randInt(-1e6, 1e6) : () => Math.fround(uniform(-9, 9));
          const u = makeView(be, dtype, [outer, m, inner], layout, gen);
          const idx = makeView(be, 'int32', [m], LAYOUTS[randInt(0, 5)]!, () => randInt(0, n));
          const want = new Array<number>(outer * n * inner).fill(0);
          const mag = want.slice();
          for (let o = 0; o < outer; o++)
            for (let j = 0; j < m; j++)
              for (let i = 0; i < inner; i++) {
                const p = (o * n + idx.values[j]!) * inner + i;
                const v = u.values[(o * m + j) * inner + i]!;
                want[p] = dtype === 'int32' ? (want[p]! + v) | 0 : want[p]! + v;
                mag[p]! += Math.abs(v);
              }
          const out = be.alloc(dtype, want.length);
          be.fill(out, 123); // must be overwritten (zero-filled by the primitive)
          be.scatterAdd(u.view, idx.view, n, out);
          const got = be.readSync(out);
          const what = `scatterAdd ${dtype} [${outer},${m},${inner}] n=${n} ${layout}`;
          if (dtype === 'int32') expectExact(got, want, what);
          else for (let i = 0; i < want.length; i++) expectClose([got[i]!], [want[i]!], m * EPS * mag[i]!, 0, `${what} [${i}]`);
          for (const b of [out, u.view.buf, idx.view.buf]) be.free(b);
        }
      }
    });
  }
});

describe(`random (seed ${SEED})`, () => {
  const cases: [RandomKind, DType, number, number][] = [
    ['uniform', 'float32', 0, 1],
    ['uniform', 'float32', -3.3, 7.1],
    ['uniform', 'float32', 0.1, 0.2],
    ['bernoulli', 'bool', 0.3, 0],
    ['bernoulli', 'float32', 0.75, 0],
    ['randint', 'int32', -5, 17],
    ['randint', 'int32', 0, 1000000],
    ['normal', 'float32', 0, 1],
    ['normal', 'float32', 2.5, 0.3],
  ];
  for (const [kind, dtype, a, b] of cases) {
    it(`${kind} → ${dtype} (${kind === 'normal' ? 'within 1e-5 relative' : 'bits identical'} to referenceRandom)`, () => {
      for (const n of [0, 1, 3, 17, 64, 1023]) {
        for (const counter of [0, randInt(0, 2 ** 31), 2 ** 32 - 5, 2 ** 40 + 3]) {
          const key = (rng() * 2 ** 32) >>> 0;
          const out = be.alloc(dtype, n);
          be.random(kind, key, counter, a, b, out);
          const got = be.readSync(out);
          const ref = referenceRandom(kind, key, counter, a, b, n);
          const what = `${kind} key ${key} counter ${counter} n ${n}`;
          if (kind === 'normal') expectClose(got, ref, 0, 1e-5, what);
          else expectExact(got, Array.from(ref, (v) => (dtype === 'float32' ? Math.fround(v) : v)), what);
          be.free(out);
        }
      }
    });
  }
  it('is stateless: the same key and counter give the same bits', () => {
    const o1 = be.alloc('float32', 100);
    const o2 = be.alloc('float32', 100);
    be.random('normal', 7, 11, 0, 1, o1);
    be.random('normal', 7, 11, 0, 1, o2);
    expect(Array.from(be.readSync(o1))).toEqual(Array.from(be.readSync(o2)));
  });
});
