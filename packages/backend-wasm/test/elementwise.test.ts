// fill, copy, unary, binary and where against float64 references written out here.
import { describe, expect, it } from 'vitest';
import type { BinaryOp, DType, UnaryOp } from '@axon/core';
import {
  LAYOUTS,
  SEED,
  expectClose,
  expectExact,
  makeView,
  newBackend,
  randInt,
  rng,
  shapesFor,
  sizeOf,
  store,
  uniform,
  upload,
  whole,
} from './helpers.js';

const be = newBackend();
const EPS = 2 ** -24;

/** Float32 values with occasional specials (NaN, ±Infinity, ±0) when `specials`. */
function f32Gen(lo: number, hi: number, specials = false): () => number {
  const sp = [NaN, Infinity, -Infinity, 0, -0];
  return () => (specials && rng() < 0.05 ? sp[randInt(0, sp.length)]! : Math.fround(uniform(lo, hi)));
}

function roundHalfEven(x: number): number {
  if (!Number.isFinite(x)) return x;
  const f = Math.floor(x);
  const d = x - f;
  if (d < 0.5) return f;
  if (d > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

function erfRef(x: number): number {
  // Series/continued fraction in float64 to ~1e-15 (reference only).
  const ax = Math.abs(x);
  let r: number;
  if (ax < 3) {
    let sum = ax;
    let term = ax;
    for (let n = 1; n < 200; n++) {
      term *= (-ax * ax) / n;
      const t = term / (2 * n + 1);
      sum += t;
      if (Math.abs(t) < 1e-17) break;
    }
    r = (2 / Math.sqrt(Math.PI)) * sum;
  } else {
    // erfc continued fraction
    let f = 0;
    for (let n = 60; n >= 1; n--) f = n / 2 / (ax + f);
    r = 1 - Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + f);
  }
  return x < 0 ? -r : r;
}

interface UnaryCase {
  ref: (x: number) => number;
  lo: number;
  hi: number;
  atol: number;
  rtol: number;
}
// Tolerances: exact ops exact; one IEEE rounding 2^-24 relative (2^-150 absolute near 0); rsqrt (sqrt then divide) 3·2^-24;
// transcendentals a few ulp (atol 1e-6 for results near 0, rtol 1e-5); erf: |err| ≤ 1e-6 plus rounding.
const T_EXACT = { atol: 0, rtol: 0 };
// one rounding: |fl(x) − x| ≤ max(2^-24·|x|, 2^-150) (the second term covers underflow to subnormals/0)
const T_ROUND = { atol: 2 ** -150, rtol: EPS };
const T_TRANS = { atol: 1e-6, rtol: 1e-5 };
const UNARY_F32: Record<Exclude<UnaryOp, 'not'>, UnaryCase> = {
  neg: { ref: (x) => -x, lo: -5, hi: 5, ...T_EXACT },
  abs: { ref: Math.abs, lo: -5, hi: 5, ...T_EXACT },
  sign: { ref: (x) => (Number.isNaN(x) ? NaN : x > 0 ? 1 : x < 0 ? -1 : 0), lo: -5, hi: 5, ...T_EXACT },
  exp: { ref: Math.exp, lo: -20, hi: 20, ...T_TRANS },
  log: { ref: Math.log, lo: 0.001, hi: 100, ...T_TRANS },
  log1p: { ref: Math.log1p, lo: -0.9, hi: 5, atol: 1e-12, rtol: 1e-5 },
  expm1: { ref: Math.expm1, lo: -5, hi: 5, atol: 1e-12, rtol: 1e-5 },
  sqrt: { ref: Math.sqrt, lo: 0, hi: 100, ...T_ROUND },
  rsqrt: { ref: (x) => 1 / Math.sqrt(x), lo: 0.001, hi: 100, atol: 0, rtol: 3 * EPS },
  reciprocal: { ref: (x) => 1 / x, lo: -10, hi: 10, ...T_ROUND },
  square: { ref: (x) => x * x, lo: -100, hi: 100, ...T_ROUND },
  sin: { ref: Math.sin, lo: -10, hi: 10, ...T_TRANS },
  cos: { ref: Math.cos, lo: -10, hi: 10, ...T_TRANS },
  tanh: { ref: Math.tanh, lo: -6, hi: 6, ...T_TRANS },
  erf: { ref: erfRef, lo: -4, hi: 4, atol: 1.1e-6, rtol: 0 },
  sigmoid: { ref: (x) => 1 / (1 + Math.exp(-x)), lo: -30, hi: 30, ...T_TRANS },
  relu: { ref: (x) => (Number.isNaN(x) ? NaN : Math.max(x, 0)), lo: -5, hi: 5, ...T_EXACT },
  floor: { ref: Math.floor, lo: -50, hi: 50, ...T_EXACT },
  ceil: { ref: Math.ceil, lo: -50, hi: 50, ...T_EXACT },
  round: { ref: roundHalfEven, lo: -50, hi: 50, ...T_EXACT },
};

const UNARY_I32: Partial<Record<UnaryOp, (x: number) => number>> = {
  neg: (x) => -x | 0,
  abs: (x) => Math.abs(x) | 0,
  sign: Math.sign,
  square: (x) => Math.imul(x, x),
  relu: (x) => Math.max(x, 0),
};

describe(`fill (seed ${SEED})`, () => {
  it('fills every dtype, sizes across SIMD edges and zero', () => {
    for (const n of [0, 1, 3, 4, 17, 64, 1023]) {
      for (const [dtype, value, want] of [
        ['float32', 3.25, 3.25],
        ['float32', NaN, NaN],
        ['float32', -Infinity, -Infinity],
        ['int32', -7, -7],
        ['bool', 2, 1],
        ['bool', 0, 0],
        ['bool', NaN, 1],
      ] as [DType, number, number][]) {
        const b = be.alloc(dtype, n);
        be.fill(b, value);
        expectExact(be.readSync(b), new Array<number>(n).fill(want), `fill ${dtype} ${value} n=${n}`);
        be.free(b);
      }
    }
  });
});

describe(`copy (seed ${SEED})`, () => {
  const DT: DType[] = ['float32', 'int32', 'bool'];
  const convert = (from: DType, to: DType, v: number): number => {
    if (to === 'bool') return v !== 0 ? 1 : 0; // NaN != 0 → 1
    if (to === 'int32' && from === 'float32') {
      if (Number.isNaN(v)) return 0;
      if (v >= 2147483647) return 2147483647;
      if (v <= -2147483648) return -2147483648;
      return Math.trunc(v);
    }
    return v;
  };
  const gen = (dtype: DType): (() => number) =>
    dtype === 'float32'
      ? () => (rng() < 0.05 ? [NaN, Infinity, -Infinity, 3e9, -3e9, -0][randInt(0, 6)]! : Math.fround(uniform(-100, 100)))
      : dtype === 'int32'
        ? () => randInt(-5, 5) * (rng() < 0.1 ? 400000000 : 1)
        : () => (rng() < 0.5 ? 1 : 0);
  for (const from of DT) {
    for (const to of DT) {
      it(`${from} → ${to}, every layout of source and destination`, () => {
        for (const rank of [0, 1, 2, 3, 4]) {
          for (const shape of shapesFor(rank)) {
            for (const ls of LAYOUTS) {
              const ld = LAYOUTS[randInt(0, LAYOUTS.length)]!;
              const src = makeView(be, from, shape, ls, gen(from));
              // destination: a non-broadcast layout (a broadcast dst would alias)
              const dst = makeView(be, to, shape, ld === 'broadcast' ? 'sliced' : ld, gen(to));
              const before = Array.from(be.readSync(dst.view.buf));
              be.copy(src.view, dst.view);
              const after = be.readSync(dst.view.buf);
              // expected: view positions replaced, everything else untouched
              const want = before.slice();
              const idx = new Array<number>(rank).fill(0);
              for (let i = 0; i < src.values.length; i++) {
                let p = dst.view.offset;
                for (let d = 0; d < rank; d++) p += idx[d]! * dst.view.strides[d]!;
                want[p] = store(to, convert(from, to, src.values[i]!));
                for (let d = rank - 1; d >= 0; d--) {
                  if (++idx[d]! < shape[d]!) break;
                  idx[d] = 0;
                }
              }
              expectExact(after, want, `copy ${from}→${to} [${shape}] ${ls}→${ld}`);
              be.free(src.view.buf);
              be.free(dst.view.buf);
            }
          }
        }
      });
    }
  }
  it('transposing copies (blocked path) for every dtype pair', () => {
    for (const from of DT) {
      for (const to of DT) {
        for (const shape of [[33, 70], [129, 17], [8, 9], [2, 40, 21]]) {
          const src = makeView(be, from, shape, rng() < 0.5 ? 'transposed' : 'transposed-sliced', gen(from));
          const out = be.alloc(to, sizeOf(shape));
          be.copy(src.view, whole(out, shape));
          expectExact(be.readSync(out), Array.from(src.values, (v) => store(to, convert(from, to, v))), `transpose copy ${from}→${to} [${shape}]`);
          be.free(out);
          be.free(src.view.buf);
        }
      }
    }
  });
  it('implements concat with a strided destination', () => {
    const a = upload(be, 'float32', [1, 2, 3, 4]);
    const b = upload(be, 'float32', [5, 6]);
    const out = be.alloc('float32', 6);
    be.copy(whole(a, [2, 2]), { buf: out, dtype: 'float32', shape: [2, 2], strides: [3, 1], offset: 0 });
    be.copy(whole(b, [2, 1]), { buf: out, dtype: 'float32', shape: [2, 1], strides: [3, 1], offset: 2 });
    expect(Array.from(be.readSync(out))).toEqual([1, 2, 5, 3, 4, 6]);
  });
});

describe(`unary (seed ${SEED})`, () => {
  for (const [op, c] of Object.entries(UNARY_F32) as [UnaryOp, UnaryCase][]) {
    it(`float32 ${op} (atol ${c.atol}, rtol ${c.rtol})`, () => {
      for (const rank of [0, 1, 2, 3]) {
        for (const shape of shapesFor(rank)) {
          for (const layout of LAYOUTS) {
            const x = makeView(be, 'float32', shape, layout, f32Gen(c.lo, c.hi, ['neg', 'abs', 'sign', 'relu', 'floor', 'ceil', 'round', 'exp', 'sigmoid', 'tanh'].includes(op)));
            const out = be.alloc('float32', sizeOf(shape));
            be.unary(op, x.view, out);
            const want = Array.from(x.values, (v) => Math.fround(c.ref(v)));
            // compare against the float64 value (rounding to float32 is part of the error)
            const want64 = Array.from(x.values, c.ref);
            if (c.atol === 0 && c.rtol === 0) expectExact(be.readSync(out), want, `${op} [${shape}] ${layout}`);
            else expectClose(be.readSync(out), want64, c.atol, c.rtol, `${op} [${shape}] ${layout}`);
            be.free(out);
            be.free(x.view.buf);
          }
        }
      }
    });
  }
  it('float32 special values', () => {
    const xs = [NaN, Infinity, -Infinity, 0, -0, 0.5, 1.5, 2.5, -0.5, -2.5, 100, -100, 1e-30, -1e-30, 89, -89, 1e-7];
    const x = upload(be, 'float32', xs);
    for (const [op, c] of Object.entries(UNARY_F32) as [UnaryOp, UnaryCase][]) {
      const out = be.alloc('float32', xs.length);
      be.unary(op, whole(x, [xs.length]), out);
      const got = be.readSync(out);
      const want = xs.map((v) => Math.fround(c.ref(Math.fround(v))));
      if (c.atol === 0 && c.rtol === 0) expectExact(got, want, `${op} specials`);
      // a float64 result beyond float32's range must come back as ±Infinity exactly
      else expectClose(got, xs.map((v) => (Number.isFinite(Math.fround(c.ref(Math.fround(v)))) ? c.ref(Math.fround(v)) : Math.fround(c.ref(Math.fround(v))))), c.atol, c.rtol, `${op} specials`);
      be.free(out);
    }
  });
  it('log over the whole float32 range (subnormals, near 1, huge), vector and scalar paths', () => {
    const xs: number[] = [1e-45, 3e-42, 1e-40, 1.1754942e-38, 1.1754944e-38, 0.99999994, 1, 1.0000001, 3.4e38, 0.7071067, 0.7071068];
    while (xs.length < 4000) xs.push(Math.fround(Math.exp(uniform(-100, 88))));
    for (let i = 0; i < 200; i++) xs.push(Math.fround(1 + uniform(-1e-3, 1e-3)));
    const x = upload(be, 'float32', xs);
    const out = be.alloc('float32', xs.length);
    be.unary('log', whole(x, [xs.length]), out);
    // float32 transcendental: a few ulp (atol 1e-6 for results near 0, rtol 1e-5)
    expectClose(be.readSync(out), xs.map((v) => Math.log(Math.fround(v))), 1e-6, 1e-5, 'log wide range');
    be.free(out);
    be.free(x);
  });
  it('erf over a dense grid past its clamp (|x| ≥ 4 gives ±1), the vector lanes and the scalar tail alike', () => {
    const xs: number[] = [];
    for (let i = -6000; i <= 6001; i++) xs.push(Math.fround(i / 1000));
    xs.push(1e-30, -1e-30, 1e-7, 3.4e38, -3.4e38);
    const x = upload(be, 'float32', xs);
    const out = be.alloc('float32', xs.length);
    be.unary('erf', whole(x, [xs.length]), out);
    const got = be.readSync(out);
    expectClose(got, xs.map(erfRef), 1.1e-6, 0, 'erf dense grid');
    // a strided view runs the scalar path: the same bits as the vector lanes
    const x2 = upload(be, 'float32', xs.flatMap((v) => [v, 0]));
    const strided = be.alloc('float32', xs.length);
    be.unary('erf', { buf: x2, dtype: 'float32', shape: [xs.length], strides: [2], offset: 0 }, strided);
    expectExact(be.readSync(strided), got, 'erf scalar path');
    expect(Array.from(got.slice(xs.length - 2))).toEqual([1, -1]);
    for (const b of [x, x2, out, strided]) be.free(b);
  });
  it('sigmoid does not overflow for large |x|', () => {
    const x = upload(be, 'float32', [-1000, -100, 100, 1000]);
    const out = be.alloc('float32', 4);
    be.unary('sigmoid', whole(x, [4]), out);
    expectClose(be.readSync(out), [0, 1 / (1 + Math.exp(100)), 1, 1], 1e-6, 1e-5, 'sigmoid large');
  });
  for (const [op, ref] of Object.entries(UNARY_I32) as [UnaryOp, (x: number) => number][]) {
    it(`int32 ${op} (exact, wrapping)`, () => {
      for (const rank of [0, 1, 2, 3]) {
        for (const shape of shapesFor(rank)) {
          for (const layout of LAYOUTS) {
            const x = makeView(be, 'int32', shape, layout, () => (rng() < 0.05 ? [-2147483648, 2147483647, 0][randInt(0, 3)]! : randInt(-100000, 100000)));
            const out = be.alloc('int32', sizeOf(shape));
            be.unary(op, x.view, out);
            expectExact(be.readSync(out), Array.from(x.values, (v) => ref(v) | 0), `int32 ${op} [${shape}] ${layout}`);
            be.free(out);
            be.free(x.view.buf);
          }
        }
      }
    });
  }
  it('bool not (exact)', () => {
    for (const rank of [0, 1, 2, 3]) {
      for (const shape of shapesFor(rank)) {
        for (const layout of LAYOUTS) {
          const x = makeView(be, 'bool', shape, layout, () => (rng() < 0.5 ? 1 : 0));
          const out = be.alloc('bool', sizeOf(shape));
          be.unary('not', x.view, out);
          expectExact(be.readSync(out), Array.from(x.values, (v) => (v ? 0 : 1)), `not [${shape}] ${layout}`);
          be.free(out);
          be.free(x.view.buf);
        }
      }
    }
  });
  it('rejects ops a dtype does not define', () => {
    const x = upload(be, 'int32', [1]);
    const out = be.alloc('int32', 1);
    expect(() => be.unary('exp', whole(x, [1]), out)).toThrow(/unary/);
  });
});

function pyModF(a: number, b: number): number {
  let r = a % b;
  if (r !== 0 && r < 0 !== b < 0) r += b;
  return r;
}

interface BinaryCase {
  dtypes: DType[];
  ref: (a: number, b: number, dtype: DType) => number;
  atol: number;
  rtol: number;
}
const cmp = (f: (a: number, b: number) => boolean) => (a: number, b: number) => (f(a, b) ? 1 : 0);
const BINARY: Record<BinaryOp, BinaryCase> = {
  add: { dtypes: ['float32', 'int32'], ref: (a, b) => a + b, ...T_ROUND },
  sub: { dtypes: ['float32', 'int32'], ref: (a, b) => a - b, ...T_ROUND },
  mul: { dtypes: ['float32', 'int32'], ref: (a, b, d) => (d === 'int32' ? Math.imul(a, b) : a * b), ...T_ROUND },
  div: { dtypes: ['float32', 'int32'], ref: (a, b, d) => (d === 'int32' ? (b === 0 ? 0 : Math.trunc(a / b)) : a / b), ...T_ROUND },
  pow: { dtypes: ['float32'], ref: Math.pow, atol: 1e-6, rtol: 1e-5 },
  max: { dtypes: ['float32', 'int32'], ref: (a, b) => Math.max(a, b), ...T_EXACT },
  min: { dtypes: ['float32', 'int32'], ref: (a, b) => Math.min(a, b), ...T_EXACT },
  // fmod is exact; the sign fix-up adds one float32 rounding
  mod: { dtypes: ['float32', 'int32'], ref: (a, b, d) => (d === 'int32' && b === 0 ? 0 : pyModF(a, b)), atol: 0, rtol: EPS },
  eq: { dtypes: ['float32', 'int32', 'bool'], ref: cmp((a, b) => a === b), ...T_EXACT },
  ne: { dtypes: ['float32', 'int32', 'bool'], ref: cmp((a, b) => a !== b), ...T_EXACT },
  lt: { dtypes: ['float32', 'int32', 'bool'], ref: cmp((a, b) => a < b), ...T_EXACT },
  le: { dtypes: ['float32', 'int32', 'bool'], ref: cmp((a, b) => a <= b), ...T_EXACT },
  gt: { dtypes: ['float32', 'int32', 'bool'], ref: cmp((a, b) => a > b), ...T_EXACT },
  ge: { dtypes: ['float32', 'int32', 'bool'], ref: cmp((a, b) => a >= b), ...T_EXACT },
  and: { dtypes: ['bool'], ref: cmp((a, b) => !!a && !!b), ...T_EXACT },
  or: { dtypes: ['bool'], ref: cmp((a, b) => !!a || !!b), ...T_EXACT },
  xor: { dtypes: ['bool'], ref: cmp((a, b) => !!a !== !!b), ...T_EXACT },
};
const OUT_BOOL = new Set<BinaryOp>(['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'and', 'or', 'xor']);

function binGen(op: BinaryOp, dtype: DType, side: 'a' | 'b'): () => number {
  if (dtype === 'bool') return () => (rng() < 0.5 ? 1 : 0);
  if (dtype === 'int32') {
    if ((op === 'div' || op === 'mod') && side === 'b') return () => (rng() < 0.1 ? [0, -1][randInt(0, 2)]! : randInt(-50, 50));
    if (op === 'mul') return () => (rng() < 0.1 ? 2147483647 : randInt(-70000, 70000));
    return () => (rng() < 0.05 ? [-2147483648, 2147483647][randInt(0, 2)]! : randInt(-30, 30));
  }
  if (op === 'pow') return side === 'a' ? f32Gen(0.1, 4) : f32Gen(-3, 3);
  if (op === 'mod' && side === 'b') return () => Math.fround((rng() < 0.5 ? -1 : 1) * uniform(0.5, 10));
  if (['max', 'min', 'eq', 'ne', 'lt', 'le', 'gt', 'ge'].includes(op)) {
    // small integers make ties common; NaN checks IEEE semantics
    return () => (rng() < 0.05 ? NaN : rng() < 0.5 ? randInt(-3, 3) : Math.fround(uniform(-3, 3)));
  }
  return f32Gen(-100, 100);
}

describe(`binary (seed ${SEED})`, () => {
  for (const [op, c] of Object.entries(BINARY) as [BinaryOp, BinaryCase][]) {
    for (const dtype of c.dtypes) {
      const exact = dtype !== 'float32' || (c.atol === 0 && c.rtol === 0);
      it(`${dtype} ${op} (${exact ? 'exact' : `atol ${c.atol}, rtol ${c.rtol}`})`, () => {
        for (const rank of [0, 1, 2, 3]) {
          for (const shape of shapesFor(rank)) {
            for (const la of LAYOUTS) {
              const lb = LAYOUTS[randInt(0, LAYOUTS.length)]!;
              const a = makeView(be, dtype, shape, la, binGen(op, dtype, 'a'));
              const b = makeView(be, dtype, shape, lb, binGen(op, dtype, 'b'));
              const outDtype = OUT_BOOL.has(op) ? 'bool' : dtype;
              const out = be.alloc(outDtype, sizeOf(shape));
              be.binary(op, a.view, b.view, out);
              const got = be.readSync(out);
              const what = `${dtype} ${op} [${shape}] ${la}/${lb}`;
              const ref = Array.from(a.values, (v, i) => c.ref(v, b.values[i]!, dtype));
              if (exact) expectExact(got, ref.map((v) => store(outDtype, v)), what);
              else expectClose(got, ref, c.atol, c.rtol, what);
              be.free(out);
              be.free(a.view.buf);
              be.free(b.view.buf);
            }
          }
        }
      });
    }
  }
  it('int32 division edge cases: x/0 = 0, INT_MIN/-1 wraps, mod 0 = 0', () => {
    const a = upload(be, 'int32', [7, -7, 7, -7, -2147483648, -2147483648, 5]);
    const b = upload(be, 'int32', [2, 2, -2, -2, -1, 1, 0]);
    const out = be.alloc('int32', 7);
    be.binary('div', whole(a, [7]), whole(b, [7]), out);
    expectExact(be.readSync(out), [3, -3, -3, 3, -2147483648, -2147483648, 0], 'int div');
    be.binary('mod', whole(a, [7]), whole(b, [7]), out);
    expectExact(be.readSync(out), [1, 1, -1, -1, 0, 0, 0], 'int mod');
  });
  it('float32 max/min propagate NaN; pow follows Math.pow', () => {
    const a = upload(be, 'float32', [NaN, 1, 1, 1, -8, 0]);
    const b = upload(be, 'float32', [1, NaN, Infinity, NaN, 1 / 3, -1]);
    const out = be.alloc('float32', 6);
    be.binary('max', whole(a, [6]), whole(b, [6]), out);
    expectExact(be.readSync(out).slice(0, 2), [NaN, NaN], 'max NaN');
    be.binary('min', whole(a, [6]), whole(b, [6]), out);
    expectExact(be.readSync(out).slice(0, 2), [NaN, NaN], 'min NaN');
    be.binary('pow', whole(a, [6]), whole(b, [6]), out);
    expectExact(be.readSync(out), [NaN, NaN, NaN, NaN, NaN, Infinity], 'pow specials');
  });
  it('scalar-broadcast operands (stride 0) on either side', () => {
    for (const n of [1, 3, 17, 64, 129, 1023]) {
      const a = makeView(be, 'float32', [n], 'contiguous', f32Gen(-5, 5));
      const s = upload(be, 'float32', [Math.fround(uniform(-5, 5))]);
      const sv = { buf: s, dtype: 'float32' as const, shape: [n], strides: [0], offset: 0 };
      const sval = be.readSync(s)[0]!;
      const out = be.alloc('float32', n);
      be.binary('sub', a.view, sv, out);
      expectClose(be.readSync(out), Array.from(a.values, (v) => v - sval), 0, EPS, `x - s n=${n}`);
      be.binary('div', sv, a.view, out);
      expectClose(be.readSync(out), Array.from(a.values, (v) => sval / v), 0, EPS, `s / x n=${n}`);
      const ob = be.alloc('bool', n);
      be.binary('gt', a.view, sv, ob);
      expectExact(be.readSync(ob), Array.from(a.values, (v) => (v > sval ? 1 : 0)), `x > s n=${n}`);
      be.binary('le', sv, a.view, ob);
      expectExact(be.readSync(ob), Array.from(a.values, (v) => (sval <= v ? 1 : 0)), `s <= x n=${n}`);
      be.free(ob);
      be.free(out);
      be.free(s);
      be.free(a.view.buf);
    }
  });
});

describe(`where (seed ${SEED})`, () => {
  for (const dtype of ['float32', 'int32', 'bool'] as DType[]) {
    it(`${dtype} (exact)`, () => {
      for (const rank of [0, 1, 2, 3]) {
        for (const shape of shapesFor(rank)) {
          for (const lc of LAYOUTS) {
            const gen = dtype === 'bool' ? () => (rng() < 0.5 ? 1 : 0) : dtype === 'int32' ? () => randInt(-1000, 1000) : f32Gen(-10, 10, true);
            const c = makeView(be, 'bool', shape, lc, () => (rng() < 0.5 ? 1 : 0));
            const a = makeView(be, dtype, shape, LAYOUTS[randInt(0, 5)]!, gen);
            const b = makeView(be, dtype, shape, LAYOUTS[randInt(0, 5)]!, gen);
            const out = be.alloc(dtype, sizeOf(shape));
            be.where(c.view, a.view, b.view, out);
            expectExact(be.readSync(out), Array.from(c.values, (v, i) => (v ? a.values[i]! : b.values[i]!)), `where ${dtype} [${shape}] ${lc}`);
            for (const t of [out, a.view.buf, b.view.buf, c.view.buf]) be.free(t);
          }
        }
      }
    });
  }
});
