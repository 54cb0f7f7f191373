/** Unary, binary, comparison and logic ops, dtype promotion, where and astype. */
import * as ax from '@axon/core';
import type { DType, Tensor } from '@axon/core';
import { checkClose, type Ctx, type Expected } from '../check.js';
import { evaluate, evaluate1, group, it, type Suite } from '../harness.js';
import {
  awayFromZero, bools, build, describeHost, type Dist, type HostTensor, hostOf, ints, LAYOUTS, type Layout, makeHost, uniform,
} from '../inputs.js';
import { erfRef, f32ToI32, mapN, pyMod, pyModInt, roundHalfEven, sigmoidRef } from '../reference.js';
import type { Rng } from '../rng.js';
import { type Tolerance, TOLERANCES } from '../tolerances.js';

/** Shapes every elementwise op runs on: scalars, empty, size 1 and sizes straddling SIMD/tile edges. */
export const SHAPES: readonly (readonly number[])[] = [[], [0], [1], [3], [17], [64], [129], [1023], [3, 17], [2, 0, 5], [4, 1, 129]];

/** Shapes that are also run with every non-contiguous layout. */
const VIEW_SHAPES: readonly (readonly number[])[] = [[3, 17], [4, 1, 129], [64, 3]];

const INT_DIST = ints(-1000, 1000);

interface UnarySpec {
  name: string;
  f: (x: Tensor) => Tensor;
  ref: (x: number) => number;
  tol: Tolerance;
  dist: Dist;
  /** int32 semantics when the op keeps int32 (wrapping), or 'float' when int32 is cast to float32 first. */
  int?: ((x: number) => number) | 'float' | 'same';
  edges: number[];
}

const tiny: Dist = (r) => (r.next() < 0.5 ? -1 : 1) * 10 ** r.uniform(-12, -2);
const mix = (a: Dist, b: Dist): Dist => (r) => (r.next() < 0.5 ? a(r) : b(r));
const halves: Dist = (r) => (r.next() < 0.5 ? r.int(-40, 40) / 2 : r.uniform(-20, 20));
const INF = Infinity;

const UNARY: UnarySpec[] = [
  { name: 'neg', f: ax.neg, ref: (x) => -x, tol: TOLERANCES.neg, dist: uniform(-10, 10), int: (x) => -x | 0, edges: [0, -0, INF, -INF, NaN] },
  { name: 'abs', f: ax.abs, ref: Math.abs, tol: TOLERANCES.abs, dist: uniform(-10, 10), int: (x) => Math.abs(x) | 0, edges: [-0, -INF, NaN, -3.5] },
  { name: 'sign', f: ax.sign, ref: (x) => (x === 0 ? 0 : Math.sign(x)), tol: TOLERANCES.sign, dist: mix(uniform(-10, 10), ints(-1, 2)), int: (x) => Math.sign(x), edges: [0, -0, NaN, INF, -INF, 1e-30] },
  { name: 'exp', f: ax.exp, ref: Math.exp, tol: TOLERANCES.exp, dist: uniform(-10, 10), int: 'float', edges: [0, -INF, INF, NaN, 100, -110, 88] },
  { name: 'log', f: ax.log, ref: Math.log, tol: TOLERANCES.log, dist: uniform(1e-3, 100), int: 'float', edges: [0, -1, INF, 1, NaN, 1e-30, 3e38] },
  { name: 'log1p', f: ax.log1p, ref: Math.log1p, tol: TOLERANCES.log1p, dist: mix(tiny, uniform(-0.99, 10)), int: 'float', edges: [-1, 0, 1e-10, -1e-10, 1e-7, INF, -2] },
  { name: 'expm1', f: ax.expm1, ref: Math.expm1, tol: TOLERANCES.expm1, dist: mix(tiny, uniform(-5, 5)), int: 'float', edges: [0, 1e-10, -1e-10, 1e-7, -INF, 100] },
  { name: 'sqrt', f: ax.sqrt, ref: Math.sqrt, tol: TOLERANCES.sqrt, dist: uniform(0, 100), int: 'float', edges: [0, -1, INF, 4, NaN, 1e-30] },
  { name: 'rsqrt', f: ax.rsqrt, ref: (x) => 1 / Math.sqrt(x), tol: TOLERANCES.rsqrt, dist: uniform(1e-3, 100), int: 'float', edges: [4, 0, INF, -1, 1e-30] },
  { name: 'reciprocal', f: ax.reciprocal, ref: (x) => 1 / x, tol: TOLERANCES.reciprocal, dist: awayFromZero(1e-3, 100), int: 'float', edges: [0, -0, INF, -INF, 3] },
  { name: 'square', f: ax.square, ref: (x) => x * x, tol: TOLERANCES.square, dist: uniform(-100, 100), int: (x) => Math.imul(x, x), edges: [0, -INF, NaN, 1e20] },
  { name: 'sin', f: ax.sin, ref: Math.sin, tol: TOLERANCES.sin, dist: uniform(-10, 10), int: 'float', edges: [0, Math.PI, NaN, INF] },
  { name: 'cos', f: ax.cos, ref: Math.cos, tol: TOLERANCES.cos, dist: uniform(-10, 10), int: 'float', edges: [0, Math.PI, NaN, -INF] },
  { name: 'tanh', f: ax.tanh, ref: Math.tanh, tol: TOLERANCES.tanh, dist: uniform(-10, 10), int: 'float', edges: [0, 20, -20, 100, -100, INF, -INF, NaN, 1e-8] },
  { name: 'erf', f: ax.erf, ref: erfRef, tol: TOLERANCES.erf, dist: uniform(-5, 5), int: 'float', edges: [0, INF, -INF, 10, -10, NaN, 1e-8] },
  { name: 'sigmoid', f: ax.sigmoid, ref: sigmoidRef, tol: TOLERANCES.sigmoid, dist: uniform(-20, 20), int: 'float', edges: [0, 100, -100, 1000, -1000, INF, -INF, NaN] },
  { name: 'relu', f: ax.relu, ref: (x) => (Number.isNaN(x) ? NaN : Math.max(x, 0)), tol: TOLERANCES.relu, dist: uniform(-10, 10), int: (x) => Math.max(x, 0), edges: [NaN, -0, -INF, INF] },
  { name: 'floor', f: ax.floor, ref: Math.floor, tol: TOLERANCES.floor, dist: halves, int: 'same', edges: [-0.5, 0.5, -INF, NaN, 8388607.5, -1e-30] },
  { name: 'ceil', f: ax.ceil, ref: Math.ceil, tol: TOLERANCES.ceil, dist: halves, int: 'same', edges: [-0.5, 0.5, INF, NaN, 8388607.5, 1e-30] },
  { name: 'round', f: ax.round, ref: roundHalfEven, tol: TOLERANCES.round, dist: halves, int: 'same', edges: [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.5, 8388607.5, 0.49999997, INF, NaN] },
];

interface BinarySpec {
  name: string;
  f: (a: Tensor, b: ax.TensorLike) => Tensor;
  ref: (a: number, b: number) => number;
  tol: Tolerance;
  distA: Dist;
  distB: Dist;
  int?: (a: number, b: number) => number;
  edges: [number, number][];
}

const nanMax = (a: number, b: number): number => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.max(a, b));
const nanMin = (a: number, b: number): number => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.min(a, b));

const BINARY: BinarySpec[] = [
  { name: 'add', f: ax.add, ref: (a, b) => a + b, tol: TOLERANCES.add, distA: uniform(-10, 10), distB: uniform(-10, 10), int: (a, b) => (a + b) | 0, edges: [[INF, -INF], [1, NaN], [3e38, 3e38], [-0, 0]] },
  { name: 'sub', f: ax.sub, ref: (a, b) => a - b, tol: TOLERANCES.sub, distA: uniform(-10, 10), distB: uniform(-10, 10), int: (a, b) => (a - b) | 0, edges: [[INF, INF], [NaN, 1], [-3e38, 3e38]] },
  { name: 'mul', f: ax.mul, ref: (a, b) => a * b, tol: TOLERANCES.mul, distA: uniform(-10, 10), distB: uniform(-10, 10), int: Math.imul, edges: [[0, INF], [NaN, 0], [1e30, 1e30], [-0, 5]] },
  { name: 'div', f: ax.div, ref: (a, b) => a / b, tol: TOLERANCES.div, distA: uniform(-10, 10), distB: awayFromZero(0.1, 10), edges: [[1, 0], [-1, 0], [0, 0], [INF, INF], [1, -0]] },
  { name: 'pow', f: ax.pow, ref: Math.pow, tol: TOLERANCES.pow, distA: uniform(0.1, 4), distB: uniform(-3, 3), edges: [[-2, 3], [-2, 0.5], [0, 0], [0, -1], [NaN, 0], [1, NaN], [2, 10], [-8, 1 / 3], [4, 0.5]] },
  { name: 'maximum', f: ax.maximum, ref: nanMax, tol: TOLERANCES.compare, distA: uniform(-10, 10), distB: uniform(-10, 10), int: Math.max, edges: [[NaN, 1], [1, NaN], [-INF, 3], [2, 2]] },
  { name: 'minimum', f: ax.minimum, ref: nanMin, tol: TOLERANCES.compare, distA: uniform(-10, 10), distB: uniform(-10, 10), int: Math.min, edges: [[NaN, 1], [1, NaN], [INF, 3], [2, 2]] },
  { name: 'mod', f: ax.mod, ref: pyMod, tol: TOLERANCES.mod, distA: uniform(-10, 10), distB: awayFromZero(0.5, 5), int: pyModInt, edges: [[-1, 3], [1, -3], [-7.5, 2], [7.5, -2], [6, 3], [-6, 3], [5, INF]] },
];

const COMPARE: [string, (a: Tensor, b: Tensor) => Tensor, (a: number, b: number) => boolean][] = [
  ['eq', ax.eq, (a, b) => a === b],
  ['ne', ax.ne, (a, b) => a !== b],
  ['lt', ax.lt, (a, b) => a < b],
  ['le', ax.le, (a, b) => a <= b],
  ['gt', ax.gt, (a, b) => a > b],
  ['ge', ax.ge, (a, b) => a >= b],
];

const LOGIC: [string, (a: Tensor, b: Tensor) => Tensor, (a: boolean, b: boolean) => boolean][] = [
  ['logicalAnd', ax.logicalAnd, (a, b) => a && b],
  ['logicalOr', ax.logicalOr, (a, b) => a || b],
  ['logicalXor', ax.logicalXor, (a, b) => a !== b],
];

/** Broadcast pairs (with the layout of each side). */
const PAIRS: [readonly number[], readonly number[], Layout, Layout][] = [
  [[1023], [1023], 'contiguous', 'contiguous'],
  [[3, 17], [3, 17], 'transposed', 'sliced'],
  [[3, 17], [17], 'contiguous', 'contiguous'],
  [[3, 1], [1, 17], 'contiguous', 'sliced'],
  [[129], [1], 'sliced', 'contiguous'],
  [[2, 3, 4], [3, 1], 'expanded', 'contiguous'],
  [[0, 3], [3], 'contiguous', 'contiguous'],
  [[], [5], 'contiguous', 'contiguous'],
  [[4, 1, 64], [1, 3, 64], 'transposed', 'expanded'],
  [[64, 3], [64, 3], 'expanded', 'transposed'],
  [[17], [], 'contiguous', 'contiguous'],
];

/** Checks y = f(inputs) against a float64 elementwise reference. */
export async function checkMap(ctx: Ctx, inputs: HostTensor[], f: (...t: Tensor[]) => Tensor, ref: (...v: number[]) => number, outDtype: DType, tol: Tolerance): Promise<void> {
  const got = await evaluate1(ctx, () => f(...inputs.map(build)));
  const exp = mapN(inputs, ref);
  // The exact result rounded to float32 is the best possible answer (overflow → ±Infinity).
  if (outDtype === 'float32') exp.values.forEach((v, i) => (exp.values[i] = Math.fround(v)));
  checkClose(got, exp, outDtype, tol, ctx);
}

function unaryHosts(r: Rng, dtype: DType, dist: Dist): HostTensor[] {
  const hs = SHAPES.map((sh) => makeHost(r, sh, dtype, dist));
  for (const sh of VIEW_SHAPES) for (const l of LAYOUTS.slice(1)) hs.push(makeHost(r, sh, dtype, dist, l));
  return hs;
}

export function elementwiseTests(s: Suite): void {
  group(s, 'unary ops', () => {
    for (const u of UNARY) {
      it(`${u.name}: float32, every size and layout, special values`, async () => {
        const r = s.rng(`unary-${u.name}`);
        for (const h of unaryHosts(r, 'float32', u.dist)) await checkMap(s.ctx(u.name, describeHost(h)), [h], u.f, u.ref, 'float32', u.tol);
        const e = hostOf(u.edges, [u.edges.length]);
        await checkMap(s.ctx(u.name, `special values ${JSON.stringify(u.edges.map(String))}`), [e], u.f, (x) => u.ref(x), 'float32', u.tol);
      });
      if (u.int) {
        it(`${u.name}: int32 input`, async () => {
          const r = s.rng(`unary-int-${u.name}`);
          const toFloat = u.int === 'float';
          const special = toFloat ? [0, 1, -1, 7, -7, 20] : [0, 1, -1, 2147483647, -2147483648, 46341, -46341];
          const dist = toFloat ? ints(-20, 21) : INT_DIST;
          const hs = [makeHost(r, [1023], 'int32', dist), makeHost(r, [3, 17], 'int32', dist, 'transposed'), hostOf(special, [special.length], 'int32')];
          for (const h of hs) {
            const c = s.ctx(`${u.name} (int32)`, describeHost(h));
            if (u.int === 'float') await checkMap(c, [h], u.f, (x) => u.ref(Math.fround(x)), 'float32', u.tol);
            else if (u.int === 'same') await checkMap(c, [h], u.f, (x) => x, 'int32', TOLERANCES.int32);
            else await checkMap(c, [h], u.f, u.int as (x: number) => number, 'int32', TOLERANCES.int32);
          }
        });
      }
    }

    it('logicalNot: bool input, and float32/int32 input (x != 0)', async () => {
      const r = s.rng('unary-not');
      for (const h of unaryHosts(r, 'bool', bools)) await checkMap(s.ctx('logicalNot', describeHost(h)), [h], ax.logicalNot, (x) => (x ? 0 : 1), 'bool', TOLERANCES.compare);
      const f = hostOf([0, -0, 1, NaN, -2.5, INF], [6]);
      await checkMap(s.ctx('logicalNot', 'float32 [0,-0,1,NaN,-2.5,Inf]'), [f], ax.logicalNot, (x) => (x !== 0 ? 0 : 1), 'bool', TOLERANCES.compare);
      const i = makeHost(r, [17], 'int32', ints(-2, 3));
      await checkMap(s.ctx('logicalNot', describeHost(i)), [i], ax.logicalNot, (x) => (x ? 0 : 1), 'bool', TOLERANCES.compare);
    });

    it('bool input is rejected by arithmetic unary ops', async () => {
      const c = s.ctx('exp(bool)');
      let threw = false;
      try {
        await evaluate1(c, () => ax.exp(ax.tensor([true, false])));
      } catch (e) {
        threw = e instanceof ax.AxonError;
      }
      if (!threw) throw new Error(`[${s.backend}] exp(bool) did not throw an AxonError; seed ${s.seed}`);
    });
  });

  group(s, 'binary ops', () => {
    for (const b of BINARY) {
      it(`${b.name}: float32 with broadcasting and views, special values`, async () => {
        const r = s.rng(`binary-${b.name}`);
        for (const [sa, sb, la, lb] of PAIRS) {
          const ha = makeHost(r, sa, 'float32', b.distA, la);
          const hb = makeHost(r, sb, 'float32', b.distB, lb);
          await checkMap(s.ctx(b.name, `${describeHost(ha)} , ${describeHost(hb)}`), [ha, hb], b.f, b.ref, 'float32', b.tol);
        }
        const ea = hostOf(b.edges.map((e) => e[0]), [b.edges.length]);
        const eb = hostOf(b.edges.map((e) => e[1]), [b.edges.length], 'float32', 'sliced');
        await checkMap(s.ctx(b.name, `special pairs ${JSON.stringify(b.edges.map((e) => e.map(String)))}`), [ea, eb], b.f, b.ref, 'float32', b.tol);
        // scalar operands on either side
        const h = makeHost(r, [3, 17], 'float32', b.distA, 'transposed');
        const k = Math.fround(b.distB(r));
        await checkMap(s.ctx(b.name, `${describeHost(h)} , number ${k}`), [h], (t) => b.f(t, k), (x) => b.ref(x, k), 'float32', b.tol);
      });
      if (b.int) {
        it(`${b.name}: int32 (wrapping) with broadcasting`, async () => {
          const r = s.rng(`binary-int-${b.name}`);
          const big = [0, 1, -1, 2147483647, -2147483648, 65536, -7, 7, 3];
          const ea = hostOf(big.flatMap((x) => big.map(() => x)), [big.length * big.length], 'int32');
          const eb = hostOf(big.flatMap(() => big), [big.length * big.length], 'int32');
          await checkMap(s.ctx(`${b.name} (int32)`, 'all pairs of int32 extremes'), [ea, eb], b.f, b.int!, 'int32', TOLERANCES.int32);
          for (const [sa, sb, la, lb] of PAIRS.slice(0, 6)) {
            const ha = makeHost(r, sa, 'int32', INT_DIST, la);
            const hb = makeHost(r, sb, 'int32', b.name === 'mod' ? ints(-50, 50) : INT_DIST, lb);
            await checkMap(s.ctx(`${b.name} (int32)`, `${describeHost(ha)} , ${describeHost(hb)}`), [ha, hb], b.f, b.int!, 'int32', TOLERANCES.int32);
          }
        });
      }
    }

    it('one tensor as both operands (x op x, x op x.T, x op a slice of x)', async () => {
      const r = s.rng('aliasing');
      const h = makeHost(r, [17, 17], 'float32', uniform(-3, 3));
      const tr: HostTensor = { ...h, data: h.data.map((_, k) => h.data[(k % 17) * 17 + Math.floor(k / 17)]!) };
      for (const b of BINARY.filter((x) => ['add', 'sub', 'mul', 'maximum'].includes(x.name))) {
        const c = s.ctx(`${b.name}(x, x) / (x, x.T) / (x, x[1:])`, describeHost(h));
        const [same, t, sl] = await evaluate(c, () => {
          const x = build(h);
          return [b.f(x, x), b.f(x, x.T), b.f(x.slice([0, 0], [16, 17]), x.slice([1, 0], [16, 17]))];
        });
        const f32 = (e: Expected): Expected => ({ ...e, values: e.values.map(Math.fround) });
        checkClose(same!, f32(mapN([h, h], b.ref)), 'float32', b.tol, { ...c, op: `${b.name}(x, x)` });
        checkClose(t!, f32(mapN([h, tr], b.ref)), 'float32', b.tol, { ...c, op: `${b.name}(x, x.T)` });
        const top = { shape: [16, 17], data: h.data.subarray(0, 16 * 17) };
        const bottom = { shape: [16, 17], data: h.data.subarray(17) };
        checkClose(sl!, f32(mapN([top, bottom], b.ref)), 'float32', b.tol, { ...c, op: `${b.name}(x[:-1], x[1:])` });
      }
    });

    it('comparisons over float32 (ties, NaN), int32, bool and mixed dtypes', async () => {
      const r = s.rng('compare');
      for (const [name, f, ref] of COMPARE) {
        const fref = (a: number, b: number): number => (ref(a, b) ? 1 : 0);
        for (const [sa, sb, la, lb] of PAIRS) {
          const ha = makeHost(r, sa, 'float32', ints(-3, 3), la);
          const hb = makeHost(r, sb, 'float32', ints(-3, 3), lb);
          await checkMap(s.ctx(name, `${describeHost(ha)} , ${describeHost(hb)}`), [ha, hb], f, fref, 'bool', TOLERANCES.compare);
        }
        const ea = hostOf([NaN, 1, NaN, INF, -INF, -0], [6]);
        const eb = hostOf([NaN, NaN, 1, INF, 3, 0], [6]);
        await checkMap(s.ctx(name, 'NaN/Inf/±0 pairs'), [ea, eb], f, fref, 'bool', TOLERANCES.compare);
        const ia = makeHost(r, [3, 17], 'int32', ints(-3, 3), 'transposed');
        const ib = makeHost(r, [17], 'int32', ints(-3, 3));
        await checkMap(s.ctx(name, `${describeHost(ia)} , ${describeHost(ib)}`), [ia, ib], f, fref, 'bool', TOLERANCES.compare);
        const ba = makeHost(r, [129], 'bool', bools);
        const bb = makeHost(r, [129], 'bool', bools, 'sliced');
        await checkMap(s.ctx(name, `${describeHost(ba)} , ${describeHost(bb)}`), [ba, bb], f, fref, 'bool', TOLERANCES.compare);
        const ma = makeHost(r, [64], 'int32', ints(-3, 3));
        const mb = makeHost(r, [64], 'float32', (q) => q.int(-6, 6) / 2);
        await checkMap(s.ctx(name, `${describeHost(ma)} , ${describeHost(mb)} (promotes)`), [ma, mb], f, fref, 'bool', TOLERANCES.compare);
      }
    });

    it('logical and/or/xor over bool (broadcast, views) and over numbers (x != 0)', async () => {
      const r = s.rng('logic');
      for (const [name, f, ref] of LOGIC) {
        // x != 0 is true for NaN
        const fref = (a: number, b: number): number => (ref(a !== 0, b !== 0) ? 1 : 0);
        for (const [sa, sb, la, lb] of PAIRS) {
          const ha = makeHost(r, sa, 'bool', bools, la);
          const hb = makeHost(r, sb, 'bool', bools, lb);
          await checkMap(s.ctx(name, `${describeHost(ha)} , ${describeHost(hb)}`), [ha, hb], f, fref, 'bool', TOLERANCES.compare);
        }
        const fa = hostOf([0, 1, -2.5, NaN, 0, -0], [6]);
        const fb = hostOf([0, 0, 3, 0, NaN, 1], [6], 'int32');
        await checkMap(s.ctx(name, 'float32 , int32 (cast to bool)'), [fa, fb], f, fref, 'bool', TOLERANCES.compare);
      }
    });

    it('dtype promotion: bool < int32 < float32; div and pow give float32', async () => {
      const r = s.rng('promotion');
      const i = makeHost(r, [17], 'int32', ints(-20, 20));
      const j = makeHost(r, [17], 'int32', (q) => (q.next() < 0.5 ? -1 : 1) * q.int(1, 9));
      const f = makeHost(r, [17], 'float32', uniform(-5, 5));
      const b1 = makeHost(r, [17], 'bool', bools);
      const b2 = makeHost(r, [17], 'bool', bools);
      const cases: [string, HostTensor[], (...t: Tensor[]) => Tensor, (...v: number[]) => number, DType, Tolerance][] = [
        ['add(int32, float32)', [i, f], ax.add, (a, b) => a + b, 'float32', TOLERANCES.add],
        ['add(bool, bool)', [b1, b2], ax.add, (a, b) => a + b, 'int32', TOLERANCES.int32],
        ['add(bool, int32)', [b1, i], ax.add, (a, b) => a + b, 'int32', TOLERANCES.int32],
        ['mul(int32, 3)', [i], (t) => ax.mul(t, 3), (a) => a * 3, 'int32', TOLERANCES.int32],
        ['mul(int32, 2.5)', [i], (t) => ax.mul(t, 2.5), (a) => a * 2.5, 'float32', TOLERANCES.mul],
        ['add(float32, true)', [f], (t) => ax.add(t, true), (a) => a + 1, 'float32', TOLERANCES.add],
        ['sub(int32, bool)', [i, b1], ax.sub, (a, b) => a - b, 'int32', TOLERANCES.int32],
        ['div(int32, int32)', [i, j], ax.div, (a, b) => a / b, 'float32', TOLERANCES.div],
        ['pow(int32, int32)', [j, hostOf(Array.from({ length: 17 }, (_, k) => k % 4), [17], 'int32')], ax.pow, Math.pow, 'float32', TOLERANCES.pow],
        ['maximum(int32, float32)', [i, f], ax.maximum, Math.max, 'float32', TOLERANCES.compare],
        ['mod(float32, int32)', [f, j], ax.mod, pyMod, 'float32', TOLERANCES.mod],
        ['add(2, int32) (number first)', [i], (t) => ax.add(2, t), (a) => a + 2, 'int32', TOLERANCES.int32],
        ['sub(1.5, float32) (number first)', [f], (t) => ax.sub(1.5, t), (a) => 1.5 - a, 'float32', TOLERANCES.sub],
      ];
      for (const [name, hs, fn, ref, dt, tol] of cases) await checkMap(s.ctx(name, hs.map(describeHost).join(' , ')), hs, fn, ref, dt, tol);
    });

    it('where: broadcasting all three, bool/float condition, scalar branches, int32 and mixed dtypes', async () => {
      const r = s.rng('where');
      const sel = (c: number, a: number, b: number): number => (c !== 0 ? a : b);
      const shapes: [readonly number[], readonly number[], readonly number[], Layout][] = [
        [[1023], [1023], [1023], 'contiguous'],
        [[3, 1], [1, 17], [3, 17], 'sliced'],
        [[17], [3, 17], [], 'transposed'],
        [[4, 1, 64], [3, 64], [4, 3, 1], 'expanded'],
        [[0, 3], [3], [1], 'contiguous'],
      ];
      for (const [sc, sa, sb, lay] of shapes) {
        const cnd = makeHost(r, sc, 'bool', bools, lay);
        const a = makeHost(r, sa, 'float32', uniform(-5, 5), lay);
        const b = makeHost(r, sb, 'float32', uniform(-5, 5));
        await checkMap(s.ctx('where', [cnd, a, b].map(describeHost).join(' , ')), [cnd, a, b], ax.where, sel, 'float32', TOLERANCES.compare);
      }
      const cf = makeHost(r, [64], 'float32', ints(-1, 2));
      const ai = makeHost(r, [64], 'int32', INT_DIST);
      const bi = makeHost(r, [64], 'int32', INT_DIST, 'sliced');
      const bf = makeHost(r, [64], 'float32', uniform(-5, 5));
      await checkMap(s.ctx('where', 'float32 cond (x != 0), int32, int32'), [cf, ai, bi], ax.where, sel, 'int32', TOLERANCES.compare);
      await checkMap(s.ctx('where', 'bool cond, int32, float32 (promotes)'), [makeHost(r, [64], 'bool', bools), ai, bf], ax.where, sel, 'float32', TOLERANCES.compare);
      const ba = makeHost(r, [129], 'bool', bools, 'sliced');
      const bb = makeHost(r, [1], 'bool', bools);
      await checkMap(s.ctx('where', 'bool cond, bool, bool (bool output)'), [makeHost(r, [129], 'bool', bools), ba, bb], ax.where, sel, 'bool', TOLERANCES.compare);
      const c2 = makeHost(r, [3, 17], 'bool', bools, 'transposed');
      await checkMap(s.ctx('where', `${describeHost(c2)}, 1.5, -2`), [c2], (c) => ax.where(c, 1.5, -2), (c) => (c ? 1.5 : -2), 'float32', TOLERANCES.compare);
      await checkMap(s.ctx('where', `${describeHost(c2)}, tensor, 0`), [c2, makeHost(r, [3, 17], 'float32', uniform(-1, 1))], (c, a) => ax.where(c, a, 0), (c, a) => (c ? a : 0), 'float32', TOLERANCES.compare);
    });

    it('astype: float→int truncation/saturation/NaN, →bool, int→float rounding, bool→numbers, views', async () => {
      const r = s.rng('astype');
      const special = [1.7, -1.7, 0.5, -0.5, 2.5, -0, 1e10, -1e10, NaN, INF, -INF, 2147483520, -2147483648, 16777217, 1e-30];
      const fs = [hostOf(special, [special.length]), makeHost(r, [1023], 'float32', uniform(-1e4, 1e4)), makeHost(r, [3, 17], 'float32', uniform(-100, 100), 'transposed')];
      for (const h of fs) {
        await checkMap(s.ctx('astype(int32)', describeHost(h)), [h], (t) => t.astype('int32'), f32ToI32, 'int32', TOLERANCES.cast);
        await checkMap(s.ctx('astype(bool)', describeHost(h)), [h], (t) => t.astype('bool'), (x) => (x !== 0 ? 1 : 0), 'bool', TOLERANCES.cast);
        await checkMap(s.ctx('astype(float32)', describeHost(h)), [h], (t) => t.astype('float32'), (x) => x, 'float32', TOLERANCES.cast);
      }
      const ispecial = [0, 1, -1, 16777217, -16777217, 2147483647, -2147483648, 123456789];
      const is = [hostOf(ispecial, [ispecial.length], 'int32'), makeHost(r, [17, 3], 'int32', ints(-(2 ** 30), 2 ** 30), 'sliced')];
      for (const h of is) {
        await checkMap(s.ctx('astype(float32)', describeHost(h)), [h], (t) => t.astype('float32'), Math.fround, 'float32', TOLERANCES.cast);
        await checkMap(s.ctx('astype(bool)', describeHost(h)), [h], (t) => t.astype('bool'), (x) => (x !== 0 ? 1 : 0), 'bool', TOLERANCES.cast);
        await checkMap(s.ctx('astype(int32)', describeHost(h)), [h], (t) => t.astype('int32'), (x) => x, 'int32', TOLERANCES.cast);
      }
      const b = makeHost(r, [4, 1, 129], 'bool', bools, 'expanded');
      for (const dt of ['float32', 'int32', 'bool'] as const) {
        await checkMap(s.ctx(`astype(${dt})`, describeHost(b)), [b], (t) => t.astype(dt), (x) => x, dt, TOLERANCES.cast);
      }
      const e = makeHost(r, [2, 0], 'float32', uniform(0, 1));
      await checkMap(s.ctx('astype(int32)', describeHost(e)), [e], (t) => t.astype('int32'), (x) => x, 'int32', TOLERANCES.cast);
    });
  });
}
