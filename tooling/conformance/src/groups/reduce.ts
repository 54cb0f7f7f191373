/** Reductions (single/multiple/all axes, keepDims, empty), softmax, logSoftmax, logSumExp. */
import * as ax from '@axon/core';
import type { DType, Tensor } from '@axon/core';
import { checkClose, type Expected } from '../check.js';
import { evaluate1, group, it, type Suite } from '../harness.js';
import { bools, build, describeHost, type HostTensor, hostOf, ints, type Layout, makeHost, uniform } from '../inputs.js';
import { reduceRef, type RefReduce, sizeOf } from '../reference.js';
import { type Tolerance, TOLERANCES } from '../tolerances.js';

type Axis = number | number[] | undefined;

/** [shape, axis, layout] configurations every reduction runs on. */
const CONFIGS: [readonly number[], Axis, Layout][] = [
  [[1023], 0, 'contiguous'],
  [[1023], undefined, 'sliced'],
  [[3, 17], 0, 'transposed'],
  [[3, 17], 1, 'contiguous'],
  [[3, 17], -1, 'sliced'],
  [[3, 17], [0, 1], 'expanded'],
  [[4, 5, 6], [0, 2], 'transposed'],
  [[4, 5, 6], 1, 'expanded'],
  [[4, 5, 6], undefined, 'contiguous'],
  [[4, 5, 6], [-1, 0, 1], 'sliced'],
  [[64, 129], 0, 'contiguous'],
  [[3, 4099], 1, 'contiguous'],
  [[4099, 3], 0, 'transposed'],
  [[64, 129], 1, 'transposed'],
  [[1, 1, 129], [0, 1], 'contiguous'],
  [[17, 1], 1, 'contiguous'],
  [[2, 0, 3], 0, 'contiguous'],
  [[2, 0, 3], 2, 'contiguous'],
  [[], undefined, 'contiguous'],
];

function normAxes(axis: Axis, rank: number): number[] {
  if (axis === undefined) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof axis === 'number' ? [axis] : axis;
  return [...new Set(list.map((a) => (a < 0 ? a + rank : a)))].sort((a, b) => a - b);
}

const fmtAxis = (a: Axis): string => (a === undefined ? 'all' : JSON.stringify(a));

type Fn = (x: Tensor, axis: Axis, keepDims: boolean) => Tensor;
const OPS: Record<string, Fn> = {
  sum: (x, a, k) => ax.sum(x, a, k),
  prod: (x, a, k) => ax.prod(x, a, k),
  max: (x, a, k) => ax.max(x, a, k),
  min: (x, a, k) => ax.min(x, a, k),
  mean: (x, a, k) => ax.mean(x, a, k),
  variance: (x, a, k) => ax.variance(x, a, k),
  logSumExp: (x, a, k) => ax.logSumExp(x, a, k),
};

async function checkReduce(s: Suite, op: RefReduce, h: HostTensor, axis: Axis, keepDims: boolean, outDtype: DType, tol: Tolerance): Promise<void> {
  const c = s.ctx(`${op}(axis ${fmtAxis(axis)}, keepDims ${keepDims})`, describeHost(h));
  const fn = OPS[op]!;
  const got = await evaluate1(c, () => fn(build(h), axis, keepDims));
  const exp = reduceRef(h, normAxes(axis, h.shape.length), op, keepDims, outDtype === 'int32');
  if (outDtype === 'float32') exp.values.forEach((v, i) => (exp.values[i] = Math.fround(v)));
  checkClose(got, exp, outDtype, tol, c);
}

export function reduceTests(s: Suite): void {
  group(s, 'reductions', () => {
    const floatOps: [RefReduce, (r: ReturnType<Suite['rng']>) => number, Tolerance][] = [
      ['sum', (r) => r.uniform(-10, 10), TOLERANCES.sum],
      ['prod', (r) => r.uniform(0.5, 1.5), TOLERANCES.prod],
      ['max', (r) => r.uniform(-10, 10), TOLERANCES.compare],
      ['min', (r) => r.uniform(-10, 10), TOLERANCES.compare],
      ['mean', (r) => r.uniform(-10, 10), TOLERANCES.mean],
      ['variance', (r) => r.uniform(-3, 5), TOLERANCES.variance],
      ['logSumExp', (r) => r.uniform(-10, 10), TOLERANCES.logSumExp],
    ];
    for (const [op, dist, tol] of floatOps) {
      it(`${op}: float32 over single/multiple/all axes, keepDims, views, empty`, async () => {
        const r = s.rng(`reduce-${op}`);
        for (const [shape, axis, layout] of CONFIGS) {
          // prod of 1023 values in [0.5, 1.5] under/overflows float32 legitimately; keep it to ≤ 129 terms
          if (op === 'prod' && sizeOf(normAxes(axis, shape.length).map((a) => shape[a]!)) > 129) continue;
          const h = makeHost(r, shape, 'float32', dist, layout);
          for (const keepDims of [false, true]) await checkReduce(s, op, h, axis, keepDims, 'float32', tol);
        }
      });
    }

    it('sum/prod/max/min over int32 (wrapping) and bool (sum counts as int32)', async () => {
      const r = s.rng('reduce-int');
      for (const [shape, axis, layout] of CONFIGS) {
        const big = makeHost(r, shape, 'int32', ints(-(2 ** 30), 2 ** 30), layout);
        const small = makeHost(r, shape, 'int32', ints(-3, 4), layout);
        await checkReduce(s, 'sum', big, axis, false, 'int32', TOLERANCES.int32);
        await checkReduce(s, 'prod', small, axis, true, 'int32', TOLERANCES.int32);
        await checkReduce(s, 'max', big, axis, false, 'int32', TOLERANCES.int32);
        await checkReduce(s, 'min', big, axis, true, 'int32', TOLERANCES.int32);
        const b = makeHost(r, shape, 'bool', bools, layout);
        await checkReduce(s, 'sum', b, axis, false, 'int32', TOLERANCES.int32);
      }
      const hm = makeHost(r, [3, 17], 'int32', ints(-50, 50), 'transposed');
      await checkReduce(s, 'mean', hm, 1, false, 'float32', TOLERANCES.mean);
    });

    it('empty reductions give their identities (sum 0, prod 1, max −Inf, min +Inf, int32 extremes, mean NaN)', async () => {
      for (const dt of ['float32', 'int32'] as const) {
        const h = hostOf([], [3, 0, 2], dt);
        for (const op of ['sum', 'prod', 'max', 'min'] as const) {
          await checkReduce(s, op, h, 1, false, dt, TOLERANCES.exact);
          await checkReduce(s, op, h, [0, 1], true, dt, TOLERANCES.exact);
        }
      }
      await checkReduce(s, 'mean', hostOf([], [0, 4]), 0, false, 'float32', TOLERANCES.exact);
      await checkReduce(s, 'sum', hostOf([], [0]), undefined, false, 'float32', TOLERANCES.exact);
    });

    it('max/min propagate NaN; ±Infinity handled', async () => {
      const h = hostOf([1, NaN, 3, -Infinity, 2, 5, Infinity, -1, 0, 0, 0, NaN], [3, 4]);
      for (const op of ['max', 'min', 'sum'] as const) {
        await checkReduce(s, op, h, 1, false, 'float32', op === 'sum' ? TOLERANCES.sum : TOLERANCES.compare);
        await checkReduce(s, op, h, 0, true, 'float32', op === 'sum' ? TOLERANCES.sum : TOLERANCES.compare);
      }
    });

    it('argmax/argmin: axis or flattened, keepDims, first of ties, NaN counts as extreme, views, int32/bool', async () => {
      const r = s.rng('argreduce');
      for (const op of ['argmax', 'argmin'] as const) {
        const fn = op === 'argmax' ? ax.argmax : ax.argmin;
        const cases: [HostTensor, number | undefined, boolean][] = [];
        for (const [shape, axis, layout] of CONFIGS) {
          if (typeof axis !== 'number' && axis !== undefined) continue;
          if (sizeOf(shape) === 0) continue;
          cases.push([makeHost(r, shape, 'float32', (q) => q.int(-4, 4) / 2, layout), axis, false]);
          cases.push([makeHost(r, shape, 'int32', ints(-5, 5), layout), axis, true]);
        }
        cases.push([hostOf([1, NaN, 3, NaN, 2, 5, 7, 7, -1, -1, 0, 9], [3, 4]), 1, false]);
        cases.push([hostOf([1, NaN, 3, NaN, 2, 5, 7, 7, -1, -1, 0, 9], [3, 4]), 0, true]);
        cases.push([hostOf([1, NaN, 3, NaN], [4]), undefined, false]);
        cases.push([makeHost(r, [129], 'bool', bools), 0, false]);
        for (const [h, axis, keepDims] of cases) {
          const c = s.ctx(`${op}(axis ${fmtAxis(axis)}, keepDims ${keepDims})`, describeHost(h));
          const got = await evaluate1(c, () => fn(build(h), axis, keepDims));
          let exp: Expected;
          if (axis === undefined) {
            const e = reduceRef({ shape: [h.data.length], data: h.data }, [0], op);
            exp = { shape: [], values: e.values };
          } else {
            exp = reduceRef(h, normAxes(axis, h.shape.length), op, keepDims);
          }
          checkClose(got, exp, 'int32', TOLERANCES.compare, c);
        }
      }
    });

    it('sum of 2^24 + 2^20 ones is exact to the O(log n)·ε bound (naive float32 accumulation stalls at 2^24)', async () => {
      const n = 2 ** 24 + 2 ** 20;
      const c = s.ctx('sum', `ones([${n}])`);
      const got = await evaluate1(c, () => ax.sum(ax.ones([n])));
      const mag = new Float64Array([n]);
      checkClose(got, { shape: [], values: new Float64Array([n]), mag, n }, 'float32', TOLERANCES.sum, c);
    });
  });

  group(s, 'softmax / logSoftmax / logSumExp', () => {
    const configs: [readonly number[], number, Layout][] = [
      [[3, 17], -1, 'contiguous'],
      [[3, 17], 0, 'transposed'],
      [[1023], 0, 'sliced'],
      [[4, 1, 129], 1, 'contiguous'],
      [[4, 5, 64], 1, 'expanded'],
      [[2, 0, 3], -1, 'contiguous'],
      [[64, 129], -1, 'transposed'],
    ];
    const softmaxRef = (h: HostTensor, axis: number, log: boolean): Expected => {
      const a = axis < 0 ? axis + h.shape.length : axis;
      const outer = sizeOf(h.shape.slice(0, a));
      const n = h.shape[a]!;
      const inner = sizeOf(h.shape.slice(a + 1));
      const values = new Float64Array(h.data.length);
      for (let o = 0; o < outer; o++)
        for (let i = 0; i < inner; i++) {
          let m = -Infinity;
          for (let k = 0; k < n; k++) m = Math.max(m, h.data[(o * n + k) * inner + i]!);
          let sum = 0;
          for (let k = 0; k < n; k++) sum += Math.exp(h.data[(o * n + k) * inner + i]! - m);
          for (let k = 0; k < n; k++) {
            const x = h.data[(o * n + k) * inner + i]! - m;
            values[(o * n + k) * inner + i] = log ? x - Math.log(sum) : Math.exp(x) / sum;
          }
        }
      return { shape: h.shape, values };
    };
    for (const [name, log] of [['softmax', false], ['logSoftmax', true]] as const) {
      it(`${name}: axes, views, large values (stability)`, async () => {
        const r = s.rng(name);
        const fn = log ? ax.logSoftmax : ax.softmax;
        const tol = log ? TOLERANCES.logSoftmax : TOLERANCES.softmax;
        const hosts: [HostTensor, number][] = configs.map(([sh, axis, l]) => [makeHost(r, sh, 'float32', uniform(-10, 10), l), axis]);
        hosts.push([makeHost(r, [3, 17], 'float32', uniform(1000, 1010)), -1]);
        hosts.push([makeHost(r, [17, 3], 'float32', uniform(-1e4, 1e4), 'transposed'), -1]);
        hosts.push([hostOf([1000, 1000, -1000, 0, 80, 100, -Infinity, 0], [4, 2]), -1]);
        for (const [h, axis] of hosts) {
          const c = s.ctx(`${name}(axis ${axis})`, describeHost(h));
          const got = await evaluate1(c, () => fn(build(h), axis));
          const exp = softmaxRef(h, axis, log);
          exp.values.forEach((v, i) => (exp.values[i] = Math.fround(v)));
          checkClose(got, exp, 'float32', tol, c);
        }
      });
    }

    it('logSumExp: large values and infinite inputs', async () => {
      const r = s.rng('logSumExp-large');
      const hs: [HostTensor, Axis][] = [
        [makeHost(r, [3, 17], 'float32', uniform(1000, 1010)), -1],
        [makeHost(r, [17, 3], 'float32', uniform(-1e4, 1e4), 'transposed'), [0, 1]],
        [hostOf([-1000, -1000, 88, 89, 1e30, 0], [3, 2]), 1],
        [hostOf([-Infinity, -Infinity, -Infinity, 0, Infinity, 0], [3, 2]), 1],
      ];
      for (const [h, axis] of hs) for (const keepDims of [false, true]) await checkReduce(s, 'logSumExp', h, axis, keepDims, 'float32', TOLERANCES.logSumExp);
    });
  });
}
