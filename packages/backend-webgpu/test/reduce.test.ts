// reduce: sum/prod/max/min/argmax/argmin over every axis subset, on random layouts, for the
// per-invocation and per-workgroup (tree) kernels, empty reductions and empty outputs.
import { describe, it } from 'vitest';
import type { DType, ReduceOp } from '@axon/core';
import { expectClose, freeAll, type Layout, makeView, numel, rng, useBackend } from './helpers.js';

const getB = useBackend();
const EPS = 2 ** -24;

/** float64 reference: returns output values and, per output, Σ|x| and the term count. */
function reduceRef(op: ReduceOp, values: number[], shape: number[], axes: number[], int = false): { out: number[]; mag: number[]; n: number } {
  const red = new Set(axes);
  const keptShape = shape.filter((_, i) => !red.has(i));
  const outSize = numel(keptShape);
  const R = numel(shape.filter((_, i) => red.has(i)));
  const acc: number[][] = Array.from({ length: outSize }, () => []);
  const idx = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < values.length; i++) {
    let o = 0;
    let r = 0;
    for (let d = 0; d < shape.length; d++) {
      if (red.has(d)) r = r * shape[d]! + idx[d]!;
      else o = o * shape[d]! + idx[d]!;
    }
    acc[o]![r] = values[i]!;
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) break;
      idx[d] = 0;
    }
  }
  const out = acc.map((xs) => {
    switch (op) {
      case 'sum': return xs.reduce((a, b) => (int ? (a + b) | 0 : a + b), 0);
      case 'prod': return xs.reduce((a, b) => (int ? Math.imul(a, b) : a * b), 1);
      case 'max': return xs.length === 0 ? -Infinity : xs.some(Number.isNaN) ? NaN : Math.max(...xs);
      case 'min': return xs.length === 0 ? Infinity : xs.some(Number.isNaN) ? NaN : Math.min(...xs);
      default: {
        let bi = 0;
        for (let k = 1; k < xs.length; k++) {
          const v = xs[k]!;
          const bv = xs[bi]!;
          if (Number.isNaN(bv)) break;
          if (Number.isNaN(v) || (op === 'argmax' ? v > bv : v < bv)) bi = k;
        }
        return bi;
      }
    }
  });
  return { out, mag: acc.map((xs) => xs.reduce((a, b) => a + Math.abs(b), 0)), n: R };
}

function subsets(rank: number): number[][] {
  const out: number[][] = [];
  for (let m = 0; m < 1 << rank; m++) out.push([...Array(rank).keys()].filter((i) => m & (1 << i)));
  return out;
}

const CASES: [number[], number[][] | 'all'][] = [
  [[], 'all'],
  [[0], 'all'],
  [[1], 'all'],
  [[7], 'all'],
  [[3, 4], 'all'],
  [[2, 3, 4], 'all'],
  [[0, 3], 'all'],
  [[3, 1, 5], 'all'],
  [[129], 'all'],
  [[1023], 'all'],
  [[4099], [[0]]],
  [[3, 2000], [[1], [0], [0, 1]]],
  [[2000, 3], [[0], [1]]],
  [[5000, 9], [[1]]],
  [[64, 65], [[0], [1]]],
  [[2, 3, 4, 5], [[1, 3], [0, 2], [0, 1, 2, 3]]],
];

describe('reduce', () => {
  for (const op of ['sum', 'prod', 'max', 'min', 'argmax', 'argmin'] as ReduceOp[]) {
    for (const dtype of ['float32', 'int32'] as DType[]) {
      it(`${op} ${dtype}`, async () => {
        const b = getB();
        const r = rng();
        for (const [shape, axesList] of CASES) {
          for (const axes of axesList === 'all' ? subsets(shape.length) : axesList) {
            const arg = op === 'argmax' || op === 'argmin';
            const R = numel(axes.map((a) => shape[a]!));
            if (arg && R === 0) continue; // core never asks
            const gen =
              dtype === 'float32'
                ? op === 'prod'
                  ? () => 0.5 + r.next()
                  : arg || op === 'max' || op === 'min'
                    ? () => (r.next() < 0.02 ? NaN : r.int(-5, 5))
                    : () => r.normal() * 3
                : op === 'prod'
                  ? () => r.pick([1, -1, 2, 3, 1, 1])
                  : op === 'sum'
                    ? () => r.pick([r.int(-100, 100), 2147483647, -2147483648, 1234567891])
                    : () => r.int(-5, 5);
            const x = makeView(b, r, dtype, shape, r.pick(['contiguous', 'random', 'broadcast'] as Layout[]), gen);
            const outShape = shape.filter((_, i) => !axes.includes(i));
            const out = b.alloc(arg ? 'int32' : dtype, numel(outShape));
            b.reduce(op, x.view, axes, out);
            const got = await b.read(out);
            const ref = reduceRef(op, x.values, shape, axes, dtype === 'int32');
            let want = ref.out;
            if (dtype === 'int32' && !arg) {
              want = want.map((v, i) => {
                if (op === 'sum' || op === 'prod') return v;
                if (numel(axes.map((a) => shape[a]!)) === 0) return op === 'max' ? -2147483648 : 2147483647;
                return v + 0 * i;
              });
            }
            const f = Math.ceil(Math.log2(Math.max(ref.n, 1))) + 1;
            const extra = dtype === 'float32' && op === 'sum' ? ref.mag.map((m) => 2 * EPS * f * m) : undefined;
            const tol = dtype === 'float32' && op === 'prod' ? { rtol: 2 * EPS * Math.max(ref.n, 1) } : {};
            expectClose(`${op} ${dtype} shape [${shape}] axes [${axes}] strides [${x.view.strides}]`, got, want, tol, extra);
            freeAll(b, x.buf, out);
          }
        }
      });
    }
  }
  it('sum of 2^20 float32 values stays within the O(log n)·ε bound (workgroup path)', async () => {
    const b = getB();
    const r = rng();
    for (const gen of [() => r.next(), () => r.normal(), () => 1 / 3 + r.next() * 1e-3]) {
      const n = 2 ** 20;
      const x = makeView(b, r, 'float32', [n], 'contiguous', gen);
      const out = b.alloc('float32', 1);
      b.reduce('sum', x.view, [0], out);
      const got = await b.read(out);
      const ref = reduceRef('sum', x.values, [n], [0]);
      expectClose('sum 2^20', got, ref.out, {}, [2 * EPS * 21 * ref.mag[0]!]);
      freeAll(b, x.buf, out);
    }
  });
  it('sum with ±Infinity (no NaN from the compensation term); argmax/argmin over bool', async () => {
    const b = getB();
    const r = rng();
    for (const shape of [[4], [100], [3000]]) {
      const x = makeView(b, r, 'float32', shape, 'contiguous', () => r.pick([1, 2, -3, Infinity]));
      const out = b.alloc('float32', 1);
      b.reduce('sum', x.view, [0], out);
      expectClose(`sum with Infinity [${shape}]`, await b.read(out), reduceRef('sum', x.values, shape, [0]).out);
      freeAll(b, x.buf, out);
    }
    for (const op of ['argmax', 'argmin'] as ReduceOp[]) {
      for (const shape of [[129], [3, 5000]]) {
        const x = makeView(b, r, 'bool', shape, r.pick(['contiguous', 'random'] as Layout[]));
        const axes = [shape.length - 1];
        const out = b.alloc('int32', numel(shape.slice(0, -1)));
        b.reduce(op, x.view, axes, out);
        expectClose(`${op} bool [${shape}]`, await b.read(out), reduceRef(op, x.values, shape, axes).out);
        freeAll(b, x.buf, out);
      }
    }
  });
  it('compensated summation survives the shader compiler (2^24 followed by 63 ones)', async () => {
    const b = getB();
    const r = rng();
    for (const layout of ['contiguous', 'random'] as Layout[]) {
      let i = 0;
      const x = makeView(b, r, 'float32', [64], layout, () => (i++ === 0 ? 2 ** 24 : 1));
      const out = b.alloc('float32', 1);
      b.reduce('sum', x.view, [0], out);
      const want = x.values.reduce((a, c) => a + c, 0);
      // plain float32 accumulation gives 2^24 (every +1 rounds away); the bound allows ±14
      expectClose('sum [2^24, 1 × 63]', await b.read(out), [want], {}, [2 * EPS * 7 * want]);
      freeAll(b, x.buf, out);
    }
  });
});
