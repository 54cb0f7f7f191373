// reduceFused(op, program, inputs, consts, shape, axes, out): a reduction whose elements are a fused
// program's value, in one dispatch. Checked against the two-step composition on this backend (fused
// into a buffer, then reduce) and against a float64 reduction of the same values, for every op, on
// seeded random inputs: leading, trailing, middle and all axes, sizes across the per-invocation /
// per-workgroup switch and the workgroup size, size-1 and empty dims, broadcast (stride-0) and
// strided inputs, a bool input, constants; NaN propagation; the pipeline cache, one dispatch per
// call, no other primitive called; every validation error.
import { describe, expect, it, vi } from 'vitest';
import { type BackendBuffer, type FusedInstr, type FusedProgram, type FusedReduceOp, type View } from '@axon/core';
import { WebGPUBackend } from '../src/index.js';
import { acquireDevice } from '../src/device.js';
import { reduceFusedSource } from '../src/kernels.js';
import { contiguous, expectClose, freeAll, type Layout, makeView, numel, type Rng, rng, SEED, upload, useBackend, viewOf, defaultLimitsBackend, expectAxonErrors } from './helpers.js';

const getB = useBackend();
const EPS = 2 ** -24;
const OPS: readonly FusedReduceOp[] = ['sum', 'prod', 'max', 'min'];

const input = (k: number): FusedInstr => ({ op: 'input', input: k });
const konst = (slot: number): FusedInstr => ({ op: 'const', slot });
const out0 = (value: number): FusedProgram['outputs'] => [{ value, dtype: 'float32' }];

/** softmax's sum: exp(x·c − m), m broadcast over the reduced axes. */
const SOFTMAX: FusedProgram = { key: 'rf:exp(x*c-m)', inputs: ['float32', 'float32'], consts: 1, code: [input(0), konst(0), { op: 'mul', args: [0, 1] }, input(1), { op: 'sub', args: [2, 3] }, { op: 'exp', args: [4] }], outputs: out0(5) };
/** a masked max/min/sum: mask ? x·c : fill (the mask a bool input). */
const MASKED: FusedProgram = { key: 'rf:where(m,x*c,f)', inputs: ['float32', 'bool'], consts: 2, code: [input(1), input(0), konst(0), { op: 'mul', args: [1, 2] }, konst(1), { op: 'where', args: [0, 3, 4] }], outputs: out0(5) };
/** a bias gradient through relu: g·(y > 0). */
const GRAD: FusedProgram = { key: 'rf:g*(y>0)', inputs: ['float32', 'float32'], consts: 1, code: [input(0), input(1), konst(0), { op: 'gt', args: [1, 2] }, { op: 'mul', args: [0, 3] }], outputs: out0(4) };
/** 1 + c·tanh(x) ∈ [0.75, 1.25]: products stay finite. */
const NEAR1: FusedProgram = { key: 'rf:a+c*tanh(x)', inputs: ['float32'], consts: 2, code: [konst(0), konst(1), input(0), { op: 'tanh', args: [2] }, { op: 'mul', args: [1, 3] }, { op: 'add', args: [0, 4] }], outputs: out0(5) };
/** log(x): NaN where x < 0. */
const LOG: FusedProgram = { key: 'rf:log(x)', inputs: ['float32'], consts: 0, code: [input(0), { op: 'log', args: [0] }], outputs: out0(1) };
/** the input itself (the program's output is an input instruction). */
const IDENT: FusedProgram = { key: 'rf:x', inputs: ['float32'], consts: 0, code: [input(0)], outputs: out0(0) };
/** a constant (no inputs). */
const CONST: FusedProgram = { key: 'rf:c', inputs: [], consts: 1, code: [konst(0)], outputs: out0(0) };

interface Built {
  views: View[];
  bufs: BackendBuffer[];
  consts: number[];
}

/** A float32 view of `shape` broadcast (stride 0) over `axes`, contiguous over the other dims. */
function broadcastOver(b: WebGPUBackend, r: Rng, shape: readonly number[], axes: readonly number[]): { view: View; buf: BackendBuffer } {
  const kept = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const ks = contiguous(kept);
  const buf = upload(b, 'float32', Array.from({ length: Math.max(1, numel(kept)) }, () => Math.fround(r.normal())));
  return { buf, view: { buf, dtype: 'float32', shape, strides: shape.map((_, i) => (axes.includes(i) ? 0 : ks[i]!)), offset: 0 } };
}

const LAYOUTS: readonly Layout[] = ['contiguous', 'random', 'broadcast'];

/** The programs, which reductions each is checked with, and how its inputs and constants are drawn. */
const CASES: { program: FusedProgram; ops: readonly FusedReduceOp[]; build: (b: WebGPUBackend, r: Rng, op: FusedReduceOp, shape: readonly number[], axes: readonly number[]) => Built }[] = [
  {
    program: SOFTMAX,
    ops: ['sum', 'max'],
    build: (b, r, _op, shape, axes) => {
      const x = makeView(b, r, 'float32', shape, r.pick(LAYOUTS));
      const m = broadcastOver(b, r, shape, axes);
      return { views: [x.view, m.view], bufs: [x.buf, m.buf], consts: [0.7] };
    },
  },
  {
    program: MASKED,
    ops: ['max', 'min', 'sum'],
    build: (b, r, op, shape) => {
      const x = makeView(b, r, 'float32', shape, r.pick(LAYOUTS), () => (r.next() < 0.02 ? NaN : r.normal() * 3));
      const mask = makeView(b, r, 'bool', shape, r.pick(LAYOUTS));
      return { views: [x.view, mask.view], bufs: [x.buf, mask.buf], consts: [1.5, op === 'max' ? -Infinity : op === 'min' ? Infinity : 0] };
    },
  },
  {
    program: GRAD,
    ops: ['sum', 'min'],
    build: (b, r, _op, shape) => {
      const g = makeView(b, r, 'float32', shape, r.pick(LAYOUTS));
      const y = makeView(b, r, 'float32', shape, r.pick(LAYOUTS));
      return { views: [g.view, y.view], bufs: [g.buf, y.buf], consts: [0] };
    },
  },
  {
    program: NEAR1,
    ops: ['prod', 'sum'],
    build: (b, r, _op, shape) => {
      const x = makeView(b, r, 'float32', shape, r.pick(LAYOUTS));
      return { views: [x.view], bufs: [x.buf], consts: [1, 0.25] };
    },
  },
  {
    program: LOG,
    ops: ['max', 'min', 'sum'],
    build: (b, r, _op, shape) => {
      const x = makeView(b, r, 'float32', shape, r.pick(LAYOUTS), () => (r.next() < 0.03 ? -1 : 0.1 + r.next() * 3));
      return { views: [x.view], bufs: [x.buf], consts: [] };
    },
  },
  {
    program: IDENT,
    ops: OPS,
    build: (b, r, op, shape) => {
      const gen = op === 'prod' ? () => 0.5 + r.next() : op === 'sum' ? () => r.normal() * 3 : () => (r.next() < 0.02 ? NaN : r.int(-5, 5));
      const x = makeView(b, r, 'float32', shape, r.pick(LAYOUTS), gen);
      return { views: [x.view], bufs: [x.buf], consts: [] };
    },
  },
  { program: CONST, ops: OPS, build: (_b, r) => ({ views: [], bufs: [], consts: [r.pick([0.5, 1.25, -2])] }) },
];

/** Shapes and the axis sets reduced: leading, trailing, middle, all; sizes across the workgroup (256) and the per-invocation switch (R ≤ 64). */
const SHAPES: [number[], number[][]][] = [
  [[7], [[0]]],
  [[1], [[0]]],
  [[3, 5], [[0], [1], [0, 1]]],
  [[4, 1, 6], [[0], [1], [2], [0, 2], [1, 2], [0, 1, 2]]],
  [[2, 3, 65], [[2], [0], [1], [0, 2]]],
  [[129, 3], [[0], [1]]],
  [[5, 300], [[1], [0, 1]]],
  [[1031], [[0]]],
  [[4100, 2], [[1]]],
  [[2, 2, 2, 2, 3], [[1, 3], [0, 2, 4]]],
  [[3, 0, 4], [[1], [0]]],
  [[0, 5], [[1]]],
];

/** float64 reduction of row-major `values` of `shape` over `axes`: each output, Σ|x| and the count. */
function reduceRef(op: FusedReduceOp, values: readonly number[], shape: readonly number[], axes: readonly number[]): { out: number[]; mag: number[]; n: number } {
  const kept = shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const outSize = numel(kept.map((i) => shape[i]!));
  const rows: number[][] = Array.from({ length: outSize }, () => []);
  const idx = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < values.length; i++) {
    let o = 0;
    for (const d of kept) o = o * shape[d]! + idx[d]!;
    rows[o]!.push(values[i]!);
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) break;
      idx[d] = 0;
    }
  }
  const out = rows.map((xs) => {
    if (op === 'sum') return xs.reduce((a, c) => a + c, 0);
    if (op === 'prod') return xs.reduce((a, c) => a * c, 1);
    if (xs.some(Number.isNaN)) return NaN;
    return op === 'max' ? Math.max(-Infinity, ...xs) : Math.min(Infinity, ...xs);
  });
  return { out, mag: rows.map((xs) => xs.reduce((a, c) => a + Math.abs(c), 0)), n: numel(axes.map((i) => shape[i]!)) };
}

/** Equal bit for bit, except that any NaN equals any NaN. */
function expectSame(what: string, got: ArrayLike<number>, want: ArrayLike<number>): void {
  expect(got.length, what).toBe(want.length);
  const bad: string[] = [];
  for (let i = 0; i < got.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    if (!(Object.is(g, w) || (Number.isNaN(g) && Number.isNaN(w)))) bad.push(`  [${i}] reduceFused ${g}, two-step ${w}`);
  }
  if (bad.length > 0) throw new Error(`${what}: ${bad.length}/${got.length} elements differ (seed ${SEED}; rerun with AXON_SEED=${SEED})\n${bad.slice(0, 6).join('\n')}`);
}

/** fused into a buffer, then reduce: the composition reduceFused replaces. Returns the reduction and the values reduced. */
async function twoStep(b: WebGPUBackend, op: FusedReduceOp, program: FusedProgram, views: readonly View[], consts: readonly number[], shape: readonly number[], axes: readonly number[]): Promise<{ out: number[]; values: number[] }> {
  const n = numel(shape);
  const tmp = b.alloc('float32', n);
  const out = b.alloc('float32', numel(shape.filter((_, i) => !axes.includes(i))));
  b.fused(program, views, consts, [tmp]);
  b.reduce(op, viewOf(tmp, shape), axes, out);
  const res = { out: Array.from(await b.read(out)), values: Array.from(await b.read(tmp)) };
  freeAll(b, tmp, out);
  return res;
}

/** Dispatches encoded so far in the current command buffer (a private counter, read for the one-dispatch checks). */
const dispatches = (b: WebGPUBackend): number => (b as unknown as { dispatches: number }).dispatches;

describe('reduceFused against fused + reduce', () => {
  for (const { program, ops, build } of CASES) {
    it(`${program.key}: ${ops.join(', ')} over every axis set of ${SHAPES.length} shapes`, async () => {
      const b = getB();
      const r = rng();
      await b.sync();
      const base = b.memory();
      for (const op of ops) {
        for (const [shape, axesList] of SHAPES) {
          for (const axes of axesList) {
            const { views, bufs, consts } = build(b, r, op, shape, axes);
            const outSize = numel(shape.filter((_, i) => !axes.includes(i)));
            const out = b.alloc('float32', outSize);
            b.flush();
            const during = b.memory();
            const d0 = dispatches(b);
            b.reduceFused(op, program, views, consts, shape, axes, out);
            expect(dispatches(b) - d0, 'one dispatch (none for an empty output)').toBe(outSize === 0 ? 0 : 1);
            expect(b.memory(), 'reduceFused allocates nothing').toEqual(during);
            const got = Array.from(await b.read(out));
            const two = await twoStep(b, op, program, views, consts, shape, axes);
            const ref = reduceRef(op, two.values, shape, axes);
            const what = `${op} of ${program.key} over [${shape.join(',')}] axes [${axes.join(',')}] strides ${views.map((v) => `[${v.strides.join(',')}]+${v.offset}`).join(' ')}`;
            if (op === 'max' || op === 'min') {
              expectSame(what, got, two.out);
              expectClose(`${what} (float64)`, got, ref.out);
            } else if (op === 'sum') {
              // reduce's contract: |error| ≤ 2ε·(⌈log2 n⌉ + 1)·Σ|x|, so two results within it differ by at most twice that
              const f = Math.ceil(Math.log2(Math.max(ref.n, 1))) + 1;
              expectClose(`${what} (float64)`, got, ref.out, {}, ref.mag.map((m) => 2 * EPS * f * m));
              expectClose(`${what} (two-step)`, got, two.out, {}, ref.mag.map((m) => 4 * EPS * f * m));
            } else {
              expectClose(`${what} (float64)`, got, ref.out, { rtol: 2 * EPS * Math.max(ref.n, 1) });
              expectClose(`${what} (two-step)`, got, two.out, { rtol: 4 * EPS * Math.max(ref.n, 1) });
            }
            freeAll(b, out, ...bufs);
          }
        }
      }
      await b.sync();
      expect(b.memory().bytes).toBe(base.bytes);
      expect(b.memory().buffers).toBe(base.buffers);
    });
  }
});

describe('reduceFused: hand-checked values', () => {
  it('a scaled sum; NaN-propagating max/min (a NaN input, a NaN the program makes) and the empty reduction', async () => {
    const b = getB();
    const x = upload(b, 'float32', [1, 2, 3, 4, 5, 6]);
    const out = b.alloc('float32', 2);
    const scale: FusedProgram = { key: 'rf:hand:x*c', inputs: ['float32'], consts: 1, code: [input(0), konst(0), { op: 'mul', args: [0, 1] }], outputs: out0(2) };
    b.reduceFused('sum', scale, [viewOf(x, [2, 3])], [10], [2, 3], [1], out);
    expect(Array.from(await b.read(out))).toEqual([60, 150]);
    // the transpose of the same buffer, reduced over its first axis: columns of [[1,2,3],[4,5,6]]
    const out3 = b.alloc('float32', 3);
    b.reduceFused('max', scale, [{ buf: x, dtype: 'float32', shape: [2, 3], strides: [3, 1], offset: 0 }], [-1], [2, 3], [0], out3);
    expect(Array.from(await b.read(out3))).toEqual([-1, -2, -3]);
    // rows: [1, NaN, 3], [4, 5, 6] and log of [-1, 1, e]-ish rows
    const xn = upload(b, 'float32', [1, NaN, 3, 4, 5, 6]);
    for (const [op, want] of [['max', [NaN, 6]], ['min', [NaN, 4]], ['sum', [NaN, 15]], ['prod', [NaN, 120]]] as const) {
      b.reduceFused(op, IDENT, [viewOf(xn, [2, 3])], [], [2, 3], [1], out);
      expectClose(`${op} with a NaN input`, await b.read(out), want);
    }
    const xl = upload(b, 'float32', [1, -1, 1, 1, 1, 1]);
    for (const op of ['max', 'min'] as const) {
      b.reduceFused(op, LOG, [viewOf(xl, [2, 3])], [], [2, 3], [1], out);
      expectClose(`${op} of log with a negative input`, await b.read(out), [NaN, 0]);
    }
    // a NaN in a row reduced by the workgroup (tree) path, at a position past the first workgroup's stride
    const big = upload(b, 'float32', Array.from({ length: 2 * 1000 }, (_, i) => (i === 1000 + 777 ? NaN : i % 1000)));
    for (const [op, want] of [['max', [999, NaN]], ['min', [0, NaN]]] as const) {
      b.reduceFused(op, IDENT, [viewOf(big, [2, 1000])], [], [2, 1000], [1], out);
      expectClose(`${op} tree path`, await b.read(out), want);
    }
    // a program that leaves an input unread: the count of true mask elements per row
    const mask = upload(b, 'bool', [1, 0, 1, 1, 1, 1]);
    const count: FusedProgram = { key: 'rf:hand:count', inputs: ['float32', 'bool'], consts: 0, code: [input(1)], outputs: out0(0) };
    b.reduceFused('sum', count, [viewOf(x, [2, 3]), viewOf(mask, [2, 3])], [], [2, 3], [1], out);
    expect(Array.from(await b.read(out))).toEqual([2, 3]);
    // empty reductions: 0, 1, −∞, +∞
    const e = b.alloc('float32', 0);
    for (const [op, want] of [['sum', 0], ['prod', 1], ['max', -Infinity], ['min', Infinity]] as const) {
      b.reduceFused(op, IDENT, [viewOf(e, [2, 0])], [], [2, 0], [1], out);
      expect(Array.from(await b.read(out)), op).toEqual([want, want]);
    }
    freeAll(b, x, out, out3, xn, xl, big, e, mask);
  });
});

describe('reduceFused: pipelines, dispatches and other primitives', () => {
  it('new constants and sizes reuse one pipeline; a new layout (ranks after merging) compiles once more', async () => {
    const b = getB();
    const x = upload(b, 'float32', Array.from({ length: 600 }, (_, i) => i % 7));
    const out = b.alloc('float32', 6);
    const p: FusedProgram = { ...NEAR1, key: 'rf:cache' };
    const before = b.pipelineCount;
    for (const c of [0.5, 0.25, -1]) {
      b.reduceFused('sum', p, [viewOf(x, [6, 100])], [1, c], [6, 100], [1], out);
      expect(b.pipelineCount - before).toBe(1);
    }
    const out3 = b.alloc('float32', 3);
    b.reduceFused('sum', { ...p }, [viewOf(x, [3, 200])], [1, 0.5], [3, 200], [1], out3);
    expect(b.pipelineCount - before, 'another size, same ranks: same pipeline').toBe(1);
    const out2 = b.alloc('float32', 2);
    b.reduceFused('sum', p, [{ buf: x, dtype: 'float32', shape: [2, 3, 100], strides: [300, 1, 3], offset: 0 }], [1, 0.5], [2, 3, 100], [1, 2], out2);
    expect(b.pipelineCount - before, 'a transposed layout: another pipeline').toBe(2);
    await b.sync();
    freeAll(b, x, out, out2, out3);
  });

  it('runs no other primitive (the profiler sees one call), also for empty outputs and empty reductions', async () => {
    const b = getB();
    const x = upload(b, 'float32', [1, 2, 3, 4, 5, 6]);
    const out = b.alloc('float32', 2);
    const e = b.alloc('float32', 0);
    const e2 = b.alloc('float32', 0);
    const names = ['fill', 'copy', 'unary', 'binary', 'where', 'fused', 'reduce', 'matmul', 'matmulFused', 'im2col', 'col2im', 'pool2d', 'pool2dGrad', 'gather', 'scatterAdd', 'random', 'alloc'] as const;
    const spies = names.map((n) => vi.spyOn(b, n));
    try {
      b.reduceFused('sum', SOFTMAX, [viewOf(x, [2, 3]), { buf: x, dtype: 'float32', shape: [2, 3], strides: [1, 0], offset: 0 }], [1], [2, 3], [1], out);
      b.reduceFused('max', IDENT, [viewOf(e, [2, 0])], [], [2, 0], [1], out);
      b.reduceFused('min', IDENT, [viewOf(e, [0, 2])], [], [0, 2], [1], e2);
      spies.forEach((s, i) => expect(s, names[i]).not.toHaveBeenCalled());
    } finally {
      spies.forEach((s) => s.mockRestore());
    }
    await b.sync();
    freeAll(b, x, out, e, e2);
  });

  it('the 2-D grid: more outputs than maxComputeWorkgroupsPerDimension × the workgroup size', async () => {
    const acq = await acquireDevice();
    const b = new WebGPUBackend(acq, { maxWorkgroupsPerDimension: 3 });
    try {
      const r = rng();
      // per-invocation outputs: 1100 > 3 × 256 invocations; per-workgroup outputs: 8 > 3 workgroups
      for (const [shape, axes] of [[[1100, 2], [1]], [[70, 2, 4], [0]]] as const) {
        const x = makeView(b, r, 'float32', shape, 'random');
        const m = broadcastOver(b, r, shape, axes);
        const out = b.alloc('float32', numel(shape.filter((_, i) => !(axes as readonly number[]).includes(i))));
        for (const op of ['max', 'sum'] as const) {
          b.reduceFused(op, SOFTMAX, [x.view, m.view], [0.5], shape, axes, out);
          const got = Array.from(await b.read(out));
          const two = await twoStep(b, op, SOFTMAX, [x.view, m.view], [0.5], shape, axes);
          const ref = reduceRef(op, two.values, shape, axes);
          const what = `2-D grid ${op} [${shape.join(',')}] axes [${axes.join(',')}]`;
          if (op === 'max') expectSame(what, got, two.out);
          else expectClose(what, got, ref.out, {}, ref.mag.map((v) => 2 * EPS * 8 * v));
        }
        freeAll(b, x.buf, m.buf, out);
      }
      await b.sync();
    } finally {
      b.dispose();
    }
  });

  it('7 inputs + the output fit a device with the default limit of 8 storage buffers per stage; 8 inputs are refused', async () => {
    const b = await defaultLimitsBackend();
    try {
      expect(b.limits.maxStorageBuffersPerShaderStage).toBe(8);
      const code: FusedInstr[] = [0, 1, 2, 3, 4, 5, 6].map((k) => input(k));
      code.push({ op: 'add', args: [0, 1] }, { op: 'add', args: [7, 2] }, { op: 'add', args: [8, 3] }, { op: 'add', args: [9, 4] }, { op: 'add', args: [10, 5] }, { op: 'mul', args: [11, 6] });
      const seven: FusedProgram = { key: 'rf:7in', inputs: ['float32', 'float32', 'float32', 'float32', 'float32', 'float32', 'bool'], consts: 0, code, outputs: out0(12) };
      const ins = [1, 2, 3, 4, 5, 6].map((v) => upload(b, 'float32', [v, v, v, v]));
      ins.push(upload(b, 'bool', [1, 0, 1, 1]));
      const out = b.alloc('float32', 2);
      b.reduceFused('sum', seven, ins.map((x) => viewOf(x, [2, 2])), [], [2, 2], [1], out);
      expect(Array.from(await b.read(out))).toEqual([21, 42]);
      const eight: FusedProgram = { ...seven, key: 'rf:8in', inputs: [...seven.inputs, 'float32'] };
      expect(() => b.reduceFused('sum', eight, [...ins, ins[0]!].map((x) => viewOf(x, [2, 2])), [], [2, 2], [1], out)).toThrow(
        /reduceFused: .*8 inputs \+ the output = 9 buffers, at most 8 allowed \(FUSED_MAX_BUFFERS 8; this device's maxStorageBuffersPerShaderStage 8\)/,
      );
      await b.sync();
    } finally {
      b.dispose();
    }
  });
});

describe('reduceFused: validation', () => {
  it('bad calls throw an AxonError naming reduceFused and what was expected, and change nothing', async () => {
    const b = getB();
    const x = upload(b, 'float32', [1, 2, 3, 4, 5, 6]);
    const m = upload(b, 'bool', [1, 0, 1, 0, 1, 0]);
    const o2 = b.alloc('float32', 2);
    const o3 = b.alloc('float32', 3);
    const oi = b.alloc('int32', 2);
    const freed = b.alloc('float32', 6);
    b.free(freed);
    const vx = viewOf(x, [2, 3]);
    const vm = viewOf(m, [2, 3]);
    const args = [MASKED, [vx, vm], [2, 0], [2, 3], [1]] as const;
    const call = (over: Partial<{ op: string; program: FusedProgram; inputs: readonly View[]; consts: readonly number[]; shape: readonly number[]; axes: readonly number[]; out: BackendBuffer }>) => () =>
      b.reduceFused((over.op ?? 'sum') as FusedReduceOp, over.program ?? args[0], over.inputs ?? args[1], over.consts ?? args[2], over.shape ?? args[3], over.axes ?? args[4], over.out ?? o2);
    b.reduceFused('sum', ...args, o2); // a good call registers the key
    await b.sync();
    const mem = b.memory();
    const pipes = b.pipelineCount;
    const cases: [string, () => void, RegExp][] = [
      ['argmax', call({ op: 'argmax' }), /op must be one of 'sum', 'prod', 'max', 'min', got 'argmax'/],
      ['two outputs', call({ program: { ...MASKED, key: 'rf:v:2out', outputs: [...MASKED.outputs, { value: 0, dtype: 'float32' }] } }), /expected exactly one float32 output \(the value reduced\), got 2 outputs/],
      ['bool output', call({ program: { ...MASKED, key: 'rf:v:bool', outputs: [{ value: 5, dtype: 'bool' }] } }), /expected exactly one float32 output .*got a bool output/],
      ['unknown op', call({ program: { ...MASKED, key: 'rf:v:unk', code: [input(0), { op: 'cbrt', args: [0] } as unknown as FusedInstr] } }), /program 'rf:v:unk': instruction 1 has unknown op 'cbrt'/],
      ['key reused', call({ program: { ...MASKED, code: [...MASKED.code.slice(0, 5), { op: 'where', args: [0, 4, 3] }] } }), /key 'rf:where\(m,x\*c,f\)' was already used for a different program/],
      ['shape', call({ shape: [2, -3] }), /shape must be an array of non-negative integers, got \[2,-3\]/],
      ['axes unsorted', call({ shape: [2, 3], axes: [1, 0] }), /axes must be sorted, unique, non-empty and each in \[0, 2\) for shape \[2,3\], got \[1,0\]/],
      ['axes empty', call({ axes: [] }), /axes must be sorted, unique, non-empty/],
      ['axis out of range', call({ axes: [2] }), /axes must be sorted, unique, non-empty and each in \[0, 2\)/],
      ['axes repeated', call({ axes: [1, 1] }), /axes must be sorted, unique/],
      ['too few inputs', call({ inputs: [vx] }), /expects 2 input view\(s\), got 1/],
      ['constants', call({ consts: [1] }), /expects 2 constant\(s\), got 1/],
      ['non-number constant', call({ consts: [1, null as unknown as number] }), /constant 1 must be a number, got null/],
      ['input dtype', call({ inputs: [vx, vx] }), /input 1 must be a bool view, got a float32 view of a float32 buffer/],
      ['input shape', call({ inputs: [vx, viewOf(m, [3, 2])] }), /every input must have the shape \[2,3\] \(already broadcast\); input 1 is \[3,2\]/],
      ['input out of bounds', call({ inputs: [{ ...vx, offset: 1 }, vm] }), /input 0 \(shape \[2,3\], strides \[3,1\], offset 1\) reaches element 6 of a 6-element buffer/],
      ['freed input', call({ inputs: [viewOf(freed, [2, 3]), vm] }), /buffer was freed/],
      ['out dtype', call({ out: oi }), /out must be a float32 buffer, got int32/],
      ['out size', call({ out: o3 }), /out holds 3 elements, expected 2 \(shape \[2,3\] reduced over axes \[1\] keeps \[2\]\)/],
      ['8 + 1 buffers', call({ program: { key: 'rf:v:9', inputs: Array.from({ length: 8 }, () => 'float32' as const), consts: 0, code: [input(0)], outputs: out0(0) } }), /8 inputs \+ the output = 9 buffers, at most 8 allowed/],
      ['out aliases an input', call({ inputs: [viewOf(o2, [2, 1])], program: IDENT, consts: [], shape: [2, 1], axes: [1] }), /out is also an input's buffer \(outputs never alias inputs\)/],
    ];
    expectAxonErrors('reduceFused', cases);
    expect(b.pipelineCount, 'nothing compiled for a refused call').toBe(pipes);
    expect(b.memory()).toEqual(mem);
    expect(Array.from(await b.read(o2)), 'out keeps the good call\'s result').toEqual([8, 10]);
    freeAll(b, x, m, o2, o3, oi);
  });
});

describe('reduceFused: generated WGSL', () => {
  it('one kernel: the program inlined in the reduction loop, the value never stored', () => {
    for (const perThread of [true, false]) {
      const src = reduceFusedSource(256, 'sum', SOFTMAX, 1, 1, perThread);
      expect(src.match(/@compute/g)).toHaveLength(1);
      expect(src).toContain('var<uniform> P: array<vec4<u32>, 64>;');
      const loop = src.slice(src.indexOf('for (var r: u32'));
      expect(loop).toContain('let t5 = op_exp(opq(t4, z0));');
      expect(loop).toContain('let v = t5;');
      expect(src.match(/\bO\[/g), 'the only store is the reduction').toHaveLength(1);
    }
  });
});
