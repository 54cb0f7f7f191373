// fill, copy (with dtype conversion and strided destinations), unary, binary, where — against
// float64 references written plainly here, on random layouts (permuted, gapped, offset,
// broadcast stride 0), empty and size-1 dims, and sizes across workgroup edges.
import { describe, expect, it } from 'vitest';
import type { BinaryOp, DType, UnaryOp } from '@axon/core';
import { EDGE_SIZES, expectClose, freeAll, type Layout, logical, makeView, numel, randValues, rng, upload, useBackend, viewOf } from './helpers.js';

const getB = useBackend();
const f = Math.fround;

const SHAPES: number[][] = [[], [0], [1], [3, 0, 2], [1, 1], [2, 3], [3, 1, 4], [2, 3, 4, 5], [17, 3], [129], [1023], [4, 1, 2, 1, 3]];
const LAYOUTS: Layout[] = ['contiguous', 'random', 'broadcast'];
const SPECIALS = [0, -0, 1, -1, 0.5, -0.5, 1.5, 2.5, -2.5, 3.5, 1e-7, -1e-7, 1e-30, 20, -20, 88, -88, 100, -100, 1e6, Infinity, -Infinity, NaN];

function erfRef(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax > 4.5) return Math.sign(x); // erfc(4.5) < 2e-10; the series below cancels badly beyond
  let term = ax;
  let sum = ax;
  for (let n = 1; n < 200; n++) {
    term *= (-ax * ax) / n;
    const t = term / (2 * n + 1);
    sum += t;
    if (Math.abs(t) < 1e-17 * Math.abs(sum)) break;
  }
  return Math.sign(x) * Math.min(1, (2 / Math.sqrt(Math.PI)) * sum);
}

function roundHalfEven(x: number): number {
  if (!Number.isFinite(x)) return x;
  const r = Math.round(x);
  return Math.abs(x - Math.trunc(x)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

const UNARY_F: Record<Exclude<UnaryOp, 'not'>, [(x: number) => number, { atol?: number; rtol?: number }]> = {
  neg: [(x) => -x, {}],
  abs: [Math.abs, {}],
  sign: [(x) => (Number.isNaN(x) ? NaN : x > 0 ? 1 : x < 0 ? -1 : 0), {}],
  exp: [Math.exp, { atol: 1e-6, rtol: 1e-5 }],
  log: [Math.log, { atol: 1e-6, rtol: 1e-5 }],
  log1p: [Math.log1p, { atol: 1e-12, rtol: 1e-5 }],
  expm1: [Math.expm1, { atol: 1e-12, rtol: 1e-5 }],
  sqrt: [Math.sqrt, { rtol: 1e-6 }],
  rsqrt: [(x) => 1 / Math.sqrt(x), { rtol: 4e-6 }],
  reciprocal: [(x) => 1 / x, { rtol: 1e-6 }],
  square: [(x) => x * x, { rtol: 1e-6 }],
  sin: [Math.sin, { atol: 1e-6, rtol: 1e-5 }],
  cos: [Math.cos, { atol: 1e-6, rtol: 1e-5 }],
  tanh: [Math.tanh, { atol: 1e-6, rtol: 1e-5 }],
  erf: [erfRef, { atol: 1.1e-6 }],
  sigmoid: [(x) => 1 / (1 + Math.exp(-x)), { atol: 1e-6, rtol: 1e-5 }],
  relu: [(x) => (Number.isNaN(x) ? NaN : Math.max(x, 0)), {}],
  floor: [Math.floor, {}],
  ceil: [Math.ceil, {}],
  round: [roundHalfEven, {}],
};

const UNARY_I: Partial<Record<UnaryOp, (x: number) => number>> = {
  neg: (x) => -x | 0,
  abs: (x) => Math.abs(x) | 0,
  sign: Math.sign,
  square: (x) => Math.imul(x, x),
  relu: (x) => Math.max(x, 0),
};

function pyMod(a: number, b: number): number {
  const r = a % b;
  return r !== 0 && r < 0 !== b < 0 ? r + b : r;
}
function ipow(a: number, e: number): number {
  if (e < 0) return a === 1 ? 1 : a === -1 ? (e & 1 ? -1 : 1) : 0;
  let r = 1;
  let x = a;
  while (e > 0) {
    if (e & 1) r = Math.imul(r, x);
    x = Math.imul(x, x);
    e >>>= 1;
  }
  return r;
}

const CMP: Record<string, (a: number, b: number) => boolean> = {
  eq: (a, b) => a === b,
  ne: (a, b) => a !== b,
  lt: (a, b) => a < b,
  le: (a, b) => a <= b,
  gt: (a, b) => a > b,
  ge: (a, b) => a >= b,
};

const BIN_F: Record<string, [(a: number, b: number) => number, { atol?: number; rtol?: number }]> = {
  add: [(a, b) => a + b, { rtol: 1e-6 }],
  sub: [(a, b) => a - b, { rtol: 1e-6 }],
  mul: [(a, b) => a * b, { rtol: 1e-6 }],
  div: [(a, b) => a / b, { rtol: 1e-6 }],
  pow: [Math.pow, { atol: 1e-6, rtol: 1e-5 }],
  max: [Math.max, {}],
  min: [Math.min, {}],
  mod: [(a, b) => pyMod(a, b), { atol: 1e-6, rtol: 1e-6 }],
};

const BIN_I: Record<string, (a: number, b: number) => number> = {
  add: (a, b) => (a + b) | 0,
  sub: (a, b) => (a - b) | 0,
  mul: (a, b) => Math.imul(a, b),
  div: (a, b) => (b === 0 ? 0 : Math.trunc(a / b) | 0),
  max: Math.max,
  min: Math.min,
  mod: (a, b) => (b === 0 ? 0 : pyMod(a, b) | 0),
  pow: ipow,
};

describe('fill', () => {
  it('float32, int32 and bool, sizes 0 to 1023', async () => {
    const b = getB();
    for (const n of [0, ...EDGE_SIZES, 70000]) {
      for (const [dtype, v, want] of [['float32', 0.1, f(0.1)], ['float32', -Infinity, -Infinity], ['int32', -7, -7], ['bool', 3, 1], ['bool', 0, 0]] as [DType, number, number][]) {
        const buf = b.alloc(dtype, n);
        b.fill(buf, v);
        const got = await b.read(buf);
        expectClose(`fill ${dtype} ${v} n=${n}`, got, new Array(n).fill(want));
        b.free(buf);
      }
    }
  });
});

describe('copy', () => {
  it('every dtype pair, strided source into strided destination; untouched elements keep their values', async () => {
    const b = getB();
    const r = rng();
    const dtypes: DType[] = ['float32', 'int32', 'bool'];
    for (const shape of SHAPES) {
      for (const from of dtypes) {
        for (const to of dtypes) {
          const layout = r.pick(LAYOUTS);
          const gen = from === 'float32' ? () => r.pick([r.normal() * 10, r.pick([NaN, Infinity, -Infinity, -0, 3e9, -3e9, 2.7, -2.7, 0])]) : undefined;
          const src = makeView(b, r, from, shape, layout, gen);
          const dst = makeView(b, r, to, shape, r.pick(['contiguous', 'random'] as Layout[]));
          const before = [...(await b.read(dst.buf))];
          b.copy(src.view, dst.view);
          const after = [...(await b.read(dst.buf))];
          const conv = (x: number): number => {
            if (to === 'bool') return x !== 0 && !Number.isNaN(x) ? 1 : Number.isNaN(x) ? 1 : 0;
            if (to === 'int32') return from === 'float32' ? (Number.isNaN(x) ? 0 : x >= 2147483647 ? 2147483647 : x <= -2147483648 ? -2147483648 : Math.trunc(x)) : x;
            return x;
          };
          // expected destination: before, with the view's elements replaced
          const want = [...before];
          const idx = logical([...before.keys()], dst.view);
          idx.forEach((flat, i) => (want[flat] = conv(src.values[i]!)));
          expectClose(`copy ${from}->${to} shape [${shape}] src strides [${src.view.strides}]+${src.view.offset} dst [${dst.view.strides}]+${dst.view.offset}`, after, want);
          freeAll(b, src.buf, dst.buf);
        }
      }
    }
  });
  it('source and destination in one buffer (disjoint regions)', async () => {
    const b = getB();
    const buf = upload(b, 'float32', [1, 2, 3, 4, 5, 6, 0, 0, 0, 0, 0, 0]);
    b.copy({ buf, dtype: 'float32', shape: [2, 3], strides: [1, 2], offset: 0 }, { buf, dtype: 'float32', shape: [2, 3], strides: [3, 1], offset: 6 });
    expectClose('in-buffer transpose copy', await b.read(buf), [1, 2, 3, 4, 5, 6, 1, 3, 5, 2, 4, 6]);
    b.free(buf);
  });
  it('concat via strided destination (two copies into one buffer)', async () => {
    const b = getB();
    const r = rng();
    const A = randValues(r, 'float32', 6);
    const B = randValues(r, 'float32', 9);
    const a = upload(b, 'float32', A);
    const bb = upload(b, 'float32', B);
    const out = b.alloc('float32', 15);
    b.copy(viewOf(a, [3, 2]), { buf: out, dtype: 'float32', shape: [3, 2], strides: [5, 1], offset: 0 });
    b.copy(viewOf(bb, [3, 3]), { buf: out, dtype: 'float32', shape: [3, 3], strides: [5, 1], offset: 2 });
    const want: number[] = [];
    for (let i = 0; i < 3; i++) want.push(A[2 * i]!, A[2 * i + 1]!, B[3 * i]!, B[3 * i + 1]!, B[3 * i + 2]!);
    expectClose('concat', await b.read(out), want);
    freeAll(b, a, bb, out);
  });
});

describe('unary', () => {
  for (const op of Object.keys(UNARY_F) as Exclude<UnaryOp, 'not'>[]) {
    it(`${op} float32 (special values, random layouts, edge sizes)`, async () => {
      const b = getB();
      const r = rng();
      const [ref, tol] = UNARY_F[op];
      const cases: { shape: number[]; layout: Layout; gen: () => number }[] = [
        // sin/cos reduce the argument accurately for |x| < 8192 only (see README)
        { shape: [SPECIALS.length], layout: 'contiguous', gen: (() => { let i = 0; return () => { const v = SPECIALS[i++ % SPECIALS.length]!; return (op === 'sin' || op === 'cos') && Math.abs(v) === 1e6 ? 8000.5 : v; }; })() },
      ];
      for (const shape of [...SHAPES, ...EDGE_SIZES.map((n) => [n])]) {
        const scale = r.pick([0.001, 1, 5, 30]);
        cases.push({ shape, layout: r.pick(LAYOUTS), gen: () => (op === 'log' || op === 'sqrt' || op === 'rsqrt' ? Math.abs(r.normal() * scale) : r.normal() * scale) });
      }
      for (const c of cases) {
        const x = makeView(b, r, 'float32', c.shape, c.layout, c.gen);
        const out = b.alloc('float32', numel(c.shape));
        b.unary(op, x.view, out);
        const got = await b.read(out);
        expectClose(`${op} shape [${c.shape}] ${c.layout}`, got, x.values.map(ref), tol, undefined, (i) => `${x.values[i]}`);
        freeAll(b, x.buf, out);
      }
    });
  }
  it('int32 neg/abs/sign/square/relu with wrapping', async () => {
    const b = getB();
    const r = rng();
    for (const [op, ref] of Object.entries(UNARY_I) as [UnaryOp, (x: number) => number][]) {
      for (const shape of [[8], [3, 4], [129], [0], [2, 1, 3]]) {
        const x = makeView(b, r, 'int32', shape, r.pick(LAYOUTS), () => r.pick([r.int(-1000, 1000), 2147483647, -2147483648, 0, 46341]));
        const out = b.alloc('int32', numel(shape));
        b.unary(op, x.view, out);
        expectClose(`${op} int32 [${shape}]`, await b.read(out), x.values.map(ref), {}, undefined, (i) => `${x.values[i]}`);
        freeAll(b, x.buf, out);
      }
    }
  });
  it('not (bool)', async () => {
    const b = getB();
    const r = rng();
    for (const shape of [[5], [17, 3], [0], [1]]) {
      const x = makeView(b, r, 'bool', shape, r.pick(LAYOUTS));
      const out = b.alloc('bool', numel(shape));
      b.unary('not', x.view, out);
      const got = await b.read(out);
      expect(got).toBeInstanceOf(Uint8Array);
      expectClose(`not [${shape}]`, got, x.values.map((v) => (v ? 0 : 1)));
      freeAll(b, x.buf, out);
    }
  });
});

describe('binary', () => {
  const shapes = [[0], [1], [7], [3, 4], [2, 3, 5], [129], [1023], [2, 1, 3, 4]];
  for (const op of Object.keys(BIN_F)) {
    it(`${op} float32 (broadcast, strided, special values)`, async () => {
      const b = getB();
      const r = rng();
      const [ref, tol] = BIN_F[op]!;
      const specials = [0, -0, 1, -1, 2, -2, 0.5, 3, Infinity, -Infinity, NaN];
      const gen = (): number => {
        if (op === 'pow') return r.next() < 0.5 ? 0.1 + 3.9 * r.next() : r.pick([...specials, -3, -2, 2.5]);
        if (op === 'mod') return r.next() < 0.9 ? r.pick([-1, 1]) * (0.5 + 4 * r.next()) : r.pick(specials);
        return r.next() < 0.9 ? r.normal() * 3 : r.pick(specials);
      };
      const genB = op === 'pow' ? () => (r.next() < 0.7 ? -3 + 6 * r.next() : r.pick([0, 1, 2, 3, -1, -2, 0.5, Infinity, -Infinity, NaN])) : gen;
      for (const shape of shapes) {
        const x = makeView(b, r, 'float32', shape, r.pick(LAYOUTS), gen);
        const y = makeView(b, r, 'float32', shape, r.pick(LAYOUTS), genB);
        const out = b.alloc('float32', numel(shape));
        b.binary(op as BinaryOp, x.view, y.view, out);
        const want = x.values.map((v, i) => ref(v, y.values[i]!));
        expectClose(`${op} float32 [${shape}]`, await b.read(out), want, tol, undefined, (i) => `${x.values[i]}, ${y.values[i]}`);
        freeAll(b, x.buf, y.buf, out);
      }
    });
  }
  it('int32 arithmetic (wrapping, truncating division, x/0 = 0, Python mod)', async () => {
    const b = getB();
    const r = rng();
    for (const [op, ref] of Object.entries(BIN_I)) {
      for (const shape of shapes) {
        const gen = () => r.pick([r.int(-50, 50), r.int(-50, 50), 0, 2147483647, -2147483648, -1, 65536]);
        const x = makeView(b, r, 'int32', shape, r.pick(LAYOUTS), gen);
        const y = makeView(b, r, 'int32', shape, r.pick(LAYOUTS), op === 'pow' ? () => r.int(-3, 12) : gen);
        const out = b.alloc('int32', numel(shape));
        b.binary(op as BinaryOp, x.view, y.view, out);
        expectClose(`${op} int32 [${shape}]`, await b.read(out), x.values.map((v, i) => ref(v, y.values[i]!)), {}, undefined, (i) => `${x.values[i]}, ${y.values[i]}`);
        freeAll(b, x.buf, y.buf, out);
      }
    }
  });
  it('comparisons on float32 (with NaN), int32 and bool', async () => {
    const b = getB();
    const r = rng();
    for (const dtype of ['float32', 'int32', 'bool'] as DType[]) {
      for (const [op, ref] of Object.entries(CMP)) {
        for (const shape of shapes) {
          const gen = dtype === 'float32' ? () => r.pick([0, -0, 1, 2, NaN, Infinity, -1]) : dtype === 'int32' ? () => r.int(-2, 3) : undefined;
          const x = makeView(b, r, dtype, shape, r.pick(LAYOUTS), gen);
          const y = makeView(b, r, dtype, shape, r.pick(LAYOUTS), gen);
          const out = b.alloc('bool', numel(shape));
          b.binary(op as BinaryOp, x.view, y.view, out);
          expectClose(`${op} ${dtype} [${shape}]`, await b.read(out), x.values.map((v, i) => (ref(v, y.values[i]!) ? 1 : 0)), {}, undefined, (i) => `${x.values[i]}, ${y.values[i]}`);
          freeAll(b, x.buf, y.buf, out);
        }
      }
    }
  });
  it('logic and/or/xor on bool', async () => {
    const b = getB();
    const r = rng();
    const refs: Record<string, (a: number, b: number) => number> = { and: (a, c) => a & c, or: (a, c) => a | c, xor: (a, c) => a ^ c };
    for (const [op, ref] of Object.entries(refs)) {
      for (const shape of shapes) {
        const x = makeView(b, r, 'bool', shape, r.pick(LAYOUTS));
        const y = makeView(b, r, 'bool', shape, r.pick(LAYOUTS));
        const out = b.alloc('bool', numel(shape));
        b.binary(op as BinaryOp, x.view, y.view, out);
        expectClose(`${op} [${shape}]`, await b.read(out), x.values.map((v, i) => ref(v, y.values[i]!)));
        freeAll(b, x.buf, y.buf, out);
      }
    }
  });
});

describe('where', () => {
  it('float32, int32 and bool with broadcast condition', async () => {
    const b = getB();
    const r = rng();
    for (const dtype of ['float32', 'int32', 'bool'] as DType[]) {
      for (const shape of [[0], [1], [5], [3, 4], [2, 3, 4], [1023]]) {
        const c = makeView(b, r, 'bool', shape, r.pick(LAYOUTS));
        const x = makeView(b, r, dtype, shape, r.pick(LAYOUTS));
        const y = makeView(b, r, dtype, shape, r.pick(LAYOUTS));
        const out = b.alloc(dtype, numel(shape));
        b.where(c.view, x.view, y.view, out);
        expectClose(`where ${dtype} [${shape}]`, await b.read(out), c.values.map((v, i) => (v ? x.values[i]! : y.values[i]!)));
        freeAll(b, c.buf, x.buf, y.buf, out);
      }
    }
  });
});
