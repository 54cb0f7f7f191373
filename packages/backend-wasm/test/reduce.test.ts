// reduce against a float64 reference, over random axes, layouts and edge sizes.
import { describe, expect, it } from 'vitest';
import type { DType, ReduceOp } from '@axon/core';
import { LAYOUTS, SEED, expectClose, expectExact, makeView, newBackend, randInt, rng, sizeOf, uniform, upload, whole } from './helpers.js';

const be = newBackend();
const EPS = 2 ** -24;

interface Ref {
  out: number[];
  /** Σ|x| over each output's terms and the term count. */
  mag: number[];
  n: number;
}

function reference(op: ReduceOp, dtype: DType, values: Float64Array, shape: number[], axes: number[]): Ref {
  const rank = shape.length;
  const kept = [...Array(rank).keys()].filter((d) => !axes.includes(d));
  const keptShape = kept.map((d) => shape[d]!);
  const redShape = axes.map((d) => shape[d]!);
  const nOut = sizeOf(keptShape);
  const nRed = sizeOf(redShape);
  const strides = new Array<number>(rank);
  let acc = 1;
  for (let d = rank - 1; d >= 0; d--) {
    strides[d] = acc;
    acc *= shape[d]!;
  }
  const out: number[] = [];
  const mag: number[] = [];
  for (let o = 0; o < nOut; o++) {
    let base = 0;
    let rem = o;
    for (let j = kept.length - 1; j >= 0; j--) {
      base += (rem % keptShape[j]!) * strides[kept[j]!]!;
      rem = Math.floor(rem / keptShape[j]!);
    }
    let r = op === 'sum' ? 0 : op === 'prod' ? 1 : op === 'max' ? -Infinity : op === 'min' ? Infinity : NaN;
    if (dtype === 'int32' && op === 'max') r = -2147483648;
    if (dtype === 'int32' && op === 'min') r = 2147483647;
    let m = 0;
    let best = 0;
    let bestIdx = -1;
    for (let k = 0; k < nRed; k++) {
      let p = base;
      let rr = k;
      for (let j = axes.length - 1; j >= 0; j--) {
        p += (rr % redShape[j]!) * strides[axes[j]!]!;
        rr = Math.floor(rr / redShape[j]!);
      }
      const v = values[p]!;
      m += Math.abs(v);
      if (op === 'sum') r = dtype === 'int32' ? (r + v) | 0 : r + v;
      else if (op === 'prod') r = dtype === 'int32' ? Math.imul(r, v) : r * v;
      else if (op === 'max') r = Number.isNaN(v) || Number.isNaN(r) ? NaN : Math.max(r, v);
      else if (op === 'min') r = Number.isNaN(v) || Number.isNaN(r) ? NaN : Math.min(r, v);
      else if (bestIdx < 0 || !Number.isNaN(best)) {
        if (Number.isNaN(v) || bestIdx < 0 || (op === 'argmax' ? v > best : v < best)) {
          best = v;
          bestIdx = k;
        }
      }
    }
    out.push(op === 'argmax' || op === 'argmin' ? bestIdx : r);
    mag.push(m);
  }
  return { out, mag, n: nRed };
}

/** Random sorted unique axes (possibly none, possibly all). */
function randomAxes(rank: number): number[] {
  const r = rng();
  if (r < 0.1) return [];
  if (r < 0.2) return [...Array(rank).keys()];
  return [...Array(rank).keys()].filter(() => rng() < 0.5);
}

function randomShape(rank: number): number[] {
  const sizes = [1, 2, 3, 5, 17, 64, 129];
  const s: number[] = [];
  for (let d = 0; d < rank; d++) s.push(sizes[randInt(0, sizes.length)]!);
  while (sizeOf(s) > 40000) s[randInt(0, rank)] = randInt(1, 4);
  return s;
}

const OPS: ReduceOp[] = ['sum', 'prod', 'max', 'min', 'argmax', 'argmin'];

function check(op: ReduceOp, dtype: DType, shape: number[], axes: number[], layout: (typeof LAYOUTS)[number]): void {
  const gen =
    dtype === 'int32'
      ? op === 'sum' || op === 'prod'
        ? () => (rng() < 0.02 ? 2147483647 : randInt(-3, 4))
        : () => randInt(-20, 20)
      : op === 'prod'
        ? () => Math.fround(uniform(0.5, 1.5))
        : op === 'sum'
          ? () => Math.fround(uniform(-10, 10))
          : () => (rng() < 0.01 ? NaN : rng() < 0.3 ? randInt(-3, 3) : Math.fround(uniform(-10, 10)));
  const x = makeView(be, dtype, shape, layout, gen);
  const ref = reference(op, dtype, x.values, shape, axes);
  const outDtype: DType = op === 'argmax' || op === 'argmin' ? 'int32' : dtype;
  const out = be.alloc(outDtype, ref.out.length);
  if ((op === 'argmax' || op === 'argmin') && ref.n === 0) {
    be.free(out);
    be.free(x.view.buf);
    return; // core never asks
  }
  be.reduce(op, x.view, axes, out);
  const got = be.readSync(out);
  const what = `${dtype} ${op} [${shape}] axes [${axes}] ${layout}`;
  if (dtype === 'int32' || op === 'max' || op === 'min' || op === 'argmax' || op === 'argmin') {
    expectExact(got, ref.out, what);
  } else if (op === 'sum') {
    // pairwise/blocked bound: 2ε·(⌈log₂ n⌉ + 1)·Σ|x| (backend.ts: O(log n)·ε)
    const f = Math.ceil(Math.log2(Math.max(ref.n, 1))) + 1;
    for (let i = 0; i < ref.out.length; i++) {
      expectClose([got[i]!], [ref.out[i]!], 2 * EPS * f * ref.mag[i]!, 0, `${what} [${i}]`);
    }
  } else {
    // product of n terms in [0.5, 1.5]: n roundings, 2ε·n relative (2^-150 absolute once it underflows)
    const want = ref.out.map((v) => (Number.isFinite(Math.fround(v)) ? v : Math.fround(v))); // overflow → ±Infinity
    expectClose(got, want, 2 ** -150, 2 * EPS * Math.max(ref.n, 1), what);
  }
  be.free(out);
  be.free(x.view.buf);
}

describe(`reduce (seed ${SEED})`, () => {
  for (const dtype of ['float32', 'int32'] as DType[]) {
    for (const op of OPS) {
      it(`${dtype} ${op}: random shapes, axes and layouts`, () => {
        for (let rep = 0; rep < 6; rep++) {
          for (const rank of [1, 2, 3, 4, 5]) {
            for (const layout of LAYOUTS) check(op, dtype, randomShape(rank), randomAxes(rank), layout);
          }
        }
      });
      it(`${dtype} ${op}: innermost axis and outer axis of 2-D at SIMD edges`, () => {
        for (const n of [1, 3, 17, 64, 129, 1023]) {
          for (const m of [1, 3, 5, 33]) {
            for (const layout of LAYOUTS) {
              check(op, dtype, [m, n], [1], layout);
              check(op, dtype, [m, n], [0], layout);
              check(op, dtype, [n, m], [0], layout);
            }
          }
        }
      });
    }
  }
  it('reductions over many non-adjacent axes (more than two after merging)', () => {
    for (const op of OPS) {
      check(op, 'float32', [3, 2, 4, 3, 5, 2], [0, 2, 4], 'contiguous');
      check(op, 'float32', [3, 2, 4, 3, 5, 2], [1, 3, 5], 'transposed');
      check(op, 'int32', [2, 3, 2, 3, 2], [0, 2, 4], 'sliced');
    }
  });
  it('empty reductions give the identity; empty outputs touch nothing', () => {
    const x = be.alloc('float32', 0);
    const v = { buf: x, dtype: 'float32' as const, shape: [3, 0], strides: [0, 1], offset: 0 };
    const want: Record<string, number> = { sum: 0, prod: 1, max: -Infinity, min: Infinity };
    for (const op of ['sum', 'prod', 'max', 'min'] as ReduceOp[]) {
      const out = be.alloc('float32', 3);
      be.reduce(op, v, [1], out);
      expectExact(be.readSync(out), [want[op]!, want[op]!, want[op]!], `empty ${op}`);
      const out0 = be.alloc('float32', 0);
      be.reduce(op, v, [0], out0);
      expect(be.readSync(out0).length).toBe(0);
    }
    const xi = be.alloc('int32', 0);
    const vi = { buf: xi, dtype: 'int32' as const, shape: [2, 0], strides: [0, 1], offset: 0 };
    const wi: Record<string, number> = { sum: 0, prod: 1, max: -2147483648, min: 2147483647 };
    for (const op of ['sum', 'prod', 'max', 'min'] as ReduceOp[]) {
      const out = be.alloc('int32', 2);
      be.reduce(op, vi, [1], out);
      expectExact(be.readSync(out), [wi[op]!, wi[op]!], `empty int32 ${op}`);
    }
  });
  it('argmax/argmin: first extreme wins, NaN counts as extreme', () => {
    const x = upload(be, 'float32', [1, 3, 3, NaN, 2, NaN, -1, -1]);
    const out = be.alloc('int32', 1);
    be.reduce('argmax', whole(x, [8]), [0], out);
    expect(be.readSync(out)[0]).toBe(3);
    be.reduce('argmin', whole(x, [8]), [0], out);
    expect(be.readSync(out)[0]).toBe(3);
    be.reduce('argmin', { ...whole(x, [8]), shape: [3], offset: 0 }, [0], out);
    expect(be.readSync(out)[0]).toBe(0);
    be.reduce('argmax', { ...whole(x, [8]), shape: [3], offset: 0 }, [0], out);
    expect(be.readSync(out)[0]).toBe(1);
  });
  it('sum of many terms stays within the O(log n) bound', () => {
    const n = 1 << 20;
    const data = new Float32Array(n);
    let mag = 0;
    let exact = 0;
    for (let i = 0; i < n; i++) {
      data[i] = Math.fround(uniform(0, 1));
      exact += data[i]!;
      mag += Math.abs(data[i]!);
    }
    const x = be.alloc('float32', n);
    be.write(x, data);
    const out = be.alloc('float32', 1);
    be.reduce('sum', whole(x, [n]), [0], out);
    expectClose(be.readSync(out), [exact], 2 * EPS * 21 * mag, 0, 'sum 2^20');
  });
});
