// matmulFused(a, b, program, inputs, consts, outputs): a matmul whose store runs an elementwise
// epilogue, in one dispatch. Checked bit for bit against the two-step composition on this backend
// (matmul into a buffer, then fused) on seeded random inputs: sizes across the 4×4 register blocks
// and the 32×32 workgroup tiles, size-1 dims, batches, transposed/sliced/broadcast operands, K = 0,
// empty products; epilogues with 0 extra inputs, with a broadcast bias + relu and two outputs (one
// the raw product), with a bool input, constants and a bool output; the tiled kernel variant and the
// split grid; the pipeline cache, one dispatch per call, no other primitive called; every
// validation error.
import { describe, expect, it, vi } from 'vitest';
import { type BackendBuffer, type FusedInstr, type FusedProgram, type View } from '@axon/core';
import { WebGPUBackend } from '../src/index.js';
import { acquireDevice } from '../src/device.js';
import { matmulEpilogue, matmulSource, matmulTiledSource } from '../src/kernels.js';
import { contiguous, EDGE_SIZES, freeAll, type Layout, makeView, type Rng, rng, SEED, upload, useBackend, viewOf, defaultLimitsBackend, expectAxonErrors } from './helpers.js';

const getB = useBackend();

const input = (k: number): FusedInstr => ({ op: 'input', input: k });
const konst = (slot: number): FusedInstr => ({ op: 'const', slot });

/** No extra inputs: tanh(p·c). */
const SCALE_TANH: FusedProgram = { key: 'mf:tanh(p*c)', inputs: ['float32'], consts: 1, code: [input(0), konst(0), { op: 'mul', args: [0, 1] }, { op: 'tanh', args: [2] }], outputs: [{ value: 3, dtype: 'float32' }] };
/** A dense layer: relu(p + bias) and the raw product p (input 0 itself) as a second output. */
const BIAS_RELU: FusedProgram = {
  key: 'mf:relu(p+bias),p',
  inputs: ['float32', 'float32'],
  consts: 0,
  code: [input(0), input(1), { op: 'add', args: [0, 1] }, { op: 'relu', args: [2] }],
  outputs: [{ value: 3, dtype: 'float32' }, { value: 0, dtype: 'float32' }],
};
/** Dropout-like: where(mask, p·c, r) and the bool p > 0. */
const MASKED: FusedProgram = {
  key: 'mf:where(m,p*c,r),p>0',
  inputs: ['float32', 'bool', 'float32'],
  consts: 2,
  code: [input(0), input(1), input(2), konst(0), { op: 'mul', args: [0, 3] }, { op: 'where', args: [1, 4, 2] }, konst(1), { op: 'gt', args: [0, 6] }],
  outputs: [{ value: 5, dtype: 'float32' }, { value: 7, dtype: 'bool' }],
};

/** The extra inputs of each epilogue for a product [B, M, N]: a broadcast bias row, a random-layout mask and residual. */
function epilogueInputs(b: WebGPUBackend, r: Rng, program: FusedProgram, B: number, M: number, N: number): { views: View[]; bufs: BackendBuffer[]; consts: number[] } {
  if (program === SCALE_TANH) return { views: [], bufs: [], consts: [r.pick([0.5, -0.25, 1])] };
  if (program === BIAS_RELU) {
    // a bias of N broadcast over batches and rows: [B, M, N] with strides [0, 0, 1], or [M, N] with [0, 1] for one batch
    const bias = upload(b, 'float32', Array.from({ length: Math.max(N, 1) }, () => Math.fround(r.normal())));
    const view: View = B === 1 && r.next() < 0.5 ? { buf: bias, dtype: 'float32', shape: [M, N], strides: [0, 1], offset: 0 } : { buf: bias, dtype: 'float32', shape: [B, M, N], strides: [0, 0, 1], offset: 0 };
    return { views: [view], bufs: [bias], consts: [] };
  }
  // the mask and the residual share one shape: [B, M, N], or the flat [B·M·N]
  const shape = r.next() < 0.5 ? [B, M, N] : [B * M * N];
  const mask = makeView(b, r, 'bool', shape, r.pick(['contiguous', 'random', 'broadcast'] as Layout[]));
  const res = makeView(b, r, 'float32', shape, r.pick(['contiguous', 'random', 'broadcast'] as Layout[]));
  return { views: [mask.view, res.view], bufs: [mask.buf, res.buf], consts: [1.5, 0] };
}

/** matmul into a buffer, then fused (input 0 the product, viewed in the inputs' common shape): the composition matmulFused replaces. */
async function twoStep(b: WebGPUBackend, a: View, bv: View, program: FusedProgram, views: readonly View[], consts: readonly number[]): Promise<number[][] & { matmulDispatches?: number }> {
  const n = a.shape[0]! * a.shape[1]! * bv.shape[2]!;
  const p = b.alloc('float32', n);
  b.flush();
  const d0 = dispatches(b);
  b.matmul(a, bv, p);
  const matmulDispatches = dispatches(b) - d0;
  const shape = views.length > 0 ? views[0]!.shape : [n];
  const outs = program.outputs.map((o) => b.alloc(o.dtype, n));
  b.fused(program, [{ buf: p, dtype: 'float32', shape, strides: contiguous(shape), offset: 0 }, ...views], consts, outs);
  const res: number[][] & { matmulDispatches?: number } = await Promise.all(outs.map(async (o) => Array.from(await b.read(o))));
  res.matmulDispatches = matmulDispatches;
  freeAll(b, p, ...outs);
  return res;
}

/** Equal bit for bit, except that any NaN equals any NaN. */
function expectSame(what: string, got: ArrayLike<number>, want: ArrayLike<number>): void {
  expect(got.length, what).toBe(want.length);
  const bad: string[] = [];
  for (let i = 0; i < got.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    if (!(Object.is(g, w) || (Number.isNaN(g) && Number.isNaN(w)))) bad.push(`  [${i}] matmulFused ${g}, two-step ${w}`);
  }
  if (bad.length > 0) throw new Error(`${what}: ${bad.length}/${got.length} elements differ (seed ${SEED}; rerun with AXON_SEED=${SEED})\n${bad.slice(0, 6).join('\n')}`);
}

/** Dispatches encoded so far in the current command buffer (a private counter, read for the one-dispatch checks). */
const dispatches = (b: WebGPUBackend): number => (b as unknown as { dispatches: number }).dispatches;

/** Runs one case on `b` and compares every output with the two-step composition, bit for bit. */
async function check(b: WebGPUBackend, r: Rng, program: FusedProgram, [B, M, K, N]: readonly [number, number, number, number], la: Layout, lb: Layout): Promise<number> {
  const a = makeView(b, r, 'float32', [B, M, K], la);
  const bb = makeView(b, r, 'float32', [B, K, N], lb);
  const ep = epilogueInputs(b, r, program, B, M, N);
  const n = B * M * N;
  const outs = program.outputs.map((o) => b.alloc(o.dtype, n));
  b.flush();
  const during = b.memory();
  const d0 = dispatches(b);
  b.matmulFused(a.view, bb.view, program, ep.views, ep.consts, outs);
  const used = dispatches(b) - d0;
  expect(b.memory(), 'matmulFused allocates nothing').toEqual(during);
  const got = await Promise.all(outs.map(async (o) => Array.from(await b.read(o))));
  const want = await twoStep(b, a.view, bb.view, program, ep.views, ep.consts);
  const what = `${program.key} [${B},${M},${K}]x[${B},${K},${N}] a strides [${a.view.strides}]+${a.view.offset} b strides [${bb.view.strides}]+${bb.view.offset} inputs ${ep.views.map((v) => `[${v.shape}]/[${v.strides}]`).join(' ')}`;
  got.forEach((g, j) => expectSame(`${what} output ${j}`, g, want[j]!));
  expect(used, `${what}: as many dispatches as matmul (one; none for an empty product)`).toBe(n === 0 ? 0 : Math.max(1, want.matmulDispatches!));
  freeAll(b, a.buf, bb.buf, ...ep.bufs, ...outs);
  return used;
}

const PROGRAMS = [SCALE_TANH, BIAS_RELU, MASKED];

describe('matmulFused against matmul + fused (bit for bit)', () => {
  for (const program of PROGRAMS) {
    it(`${program.key}: ragged sizes, size-1 dims, batches, transposed/sliced/broadcast operands, K = 0, empty products`, async () => {
      const b = getB();
      const r = rng();
      await b.sync();
      const base = b.memory();
      const sizes: [number, number, number, number][] = [
        [1, 1, 1, 1],
        [1, 3, 17, 5],
        [1, 17, 9, 33],
        [1, 64, 64, 64],
        [1, 129, 3, 17],
        [1, 1, 1023, 1],
        [1, 33, 1, 65],
        [1, 1, 7, 129],
        [2, 5, 7, 3],
        [5, 17, 9, 33],
        [3, 1, 4, 1],
        [2, 3, 0, 4],
        [0, 4, 3, 5],
        [2, 0, 3, 5],
        [2, 3, 3, 0],
      ];
      for (const dims of sizes) await check(b, r, program, dims, 'contiguous', 'contiguous');
      for (let t = 0; t < 12; t++) {
        const dims = [r.pick([1, 2, 3]), r.pick(EDGE_SIZES.slice(0, 5)), r.pick(EDGE_SIZES.slice(0, 5)), r.pick(EDGE_SIZES.slice(0, 5))] as const;
        await check(b, r, program, dims, r.pick(['random', 'broadcast'] as Layout[]), r.pick(['random', 'broadcast', 'contiguous'] as Layout[]));
      }
      await b.sync();
      expect(b.memory().bytes).toBe(base.bytes);
      expect(b.memory().buffers).toBe(base.buffers);
    });
  }

  it('transposed operands (aᵀ·b, a·bᵀ as strided views of the other layout) and a batch broadcast with stride 0', async () => {
    const b = getB();
    const r = rng();
    const [B, M, K, N] = [3, 19, 13, 21];
    const at = upload(b, 'float32', Array.from({ length: B * K * M }, () => Math.fround(r.normal())));
    const bt = upload(b, 'float32', Array.from({ length: N * K }, () => Math.fround(r.normal())));
    const a: View = { buf: at, dtype: 'float32', shape: [B, M, K], strides: [K * M, 1, M], offset: 0 }; // stored [B, K, M]
    const bv: View = { buf: bt, dtype: 'float32', shape: [B, K, N], strides: [0, 1, K], offset: 0 }; // stored [N, K], shared by every batch
    for (const program of PROGRAMS) {
      const ep = epilogueInputs(b, r, program, B, M, N);
      const outs = program.outputs.map((o) => b.alloc(o.dtype, B * M * N));
      b.matmulFused(a, bv, program, ep.views, ep.consts, outs);
      const want = await twoStep(b, a, bv, program, ep.views, ep.consts);
      for (let j = 0; j < outs.length; j++) expectSame(`${program.key} transposed, output ${j}`, Array.from(await b.read(outs[j]!)), want[j]!);
      freeAll(b, ...ep.bufs, ...outs);
    }
    freeAll(b, at, bt);
  });

  it('the tiled kernel variant (matmulConfig.tk > 0) is bit-identical to tiled matmul + fused too', async () => {
    const b = getB();
    const r = rng();
    const saved = b.matmulConfig;
    try {
      b.matmulConfig = { tx: 8, ty: 8, tk: 8, unroll: 1 };
      for (const program of PROGRAMS) {
        for (const dims of [[1, 33, 17, 65], [2, 5, 40, 3], [1, 64, 8, 64], [2, 3, 0, 4]] as const) {
          await check(b, r, program, dims, r.pick(['random', 'contiguous'] as Layout[]), r.pick(['random', 'contiguous'] as Layout[]));
        }
      }
      // and differs in kernel from the untiled one (another pipeline)
      expect(matmulTiledSource(8, 8, 8, matmulEpilogue(BIAS_RELU, 2, ['r']))).toContain('var<workgroup> As');
    } finally {
      b.matmulConfig = saved;
    }
  });

  it('hand-checked: relu(a·w + bias) and the raw product', async () => {
    const b = getB();
    const a = upload(b, 'float32', [1, 2, 3, 4]);
    const w = upload(b, 'float32', [1, 0, 0, -1]);
    const bias = upload(b, 'float32', [0.5, 10]);
    const y = b.alloc('float32', 4);
    const p = b.alloc('float32', 4);
    b.matmulFused(viewOf(a, [1, 2, 2]), viewOf(w, [1, 2, 2]), BIAS_RELU, [{ buf: bias, dtype: 'float32', shape: [2, 2], strides: [0, 1], offset: 0 }], [], [y, p]);
    expect(Array.from(await b.read(y))).toEqual([1.5, 8, 3.5, 6]);
    expect(Array.from(await b.read(p))).toEqual([1, -2, 3, -4]);
    // K = 0: the product is 0 everywhere, the epilogue still runs
    const e = b.alloc('float32', 0);
    b.matmulFused(viewOf(e, [1, 2, 0]), viewOf(e, [1, 0, 2]), BIAS_RELU, [{ buf: bias, dtype: 'float32', shape: [2, 2], strides: [0, 1], offset: 0 }], [], [y, p]);
    expect(Array.from(await b.read(y))).toEqual([0.5, 10, 0.5, 10]);
    expect(Array.from(await b.read(p))).toEqual([0, 0, 0, 0]);
    // a program that leaves the product unread (input 0) and one that leaves an extra input unread
    const onlyBias: FusedProgram = { key: 'mf:hand:bias', inputs: ['float32', 'float32'], consts: 0, code: [input(1)], outputs: [{ value: 0, dtype: 'float32' }] };
    const onlyP: FusedProgram = { key: 'mf:hand:p', inputs: ['float32', 'float32'], consts: 0, code: [input(0)], outputs: [{ value: 0, dtype: 'float32' }] };
    b.matmulFused(viewOf(a, [1, 2, 2]), viewOf(w, [1, 2, 2]), onlyBias, [{ buf: bias, dtype: 'float32', shape: [2, 2], strides: [0, 1], offset: 0 }], [], [y]);
    expect(Array.from(await b.read(y))).toEqual([0.5, 10, 0.5, 10]);
    b.matmulFused(viewOf(a, [1, 2, 2]), viewOf(w, [1, 2, 2]), onlyP, [{ buf: bias, dtype: 'float32', shape: [2, 2], strides: [0, 1], offset: 0 }], [], [y]);
    expect(Array.from(await b.read(y))).toEqual([1, -2, 3, -4]);
    freeAll(b, a, w, bias, y, p, e);
  });
});

describe('matmulFused: pipelines, dispatches and other primitives', () => {
  it('new constants and sizes reuse one pipeline; another layout of the extra inputs compiles once more', async () => {
    const b = getB();
    const r = rng();
    const x = upload(b, 'float32', Array.from({ length: 400 }, () => Math.fround(r.normal())));
    const p: FusedProgram = { ...SCALE_TANH, key: 'mf:cache' };
    const before = b.pipelineCount;
    for (const [M, K, N, c] of [[10, 4, 10, 0.5], [20, 5, 20, -1], [3, 7, 3, 2]] as const) {
      const out = b.alloc('float32', M * N);
      b.matmulFused(viewOf(x, [1, M, K]), viewOf(x, [1, K, N]), p, [], [c], [out]);
      b.free(out);
      expect(b.pipelineCount - before).toBe(1);
    }
    const bias = upload(b, 'float32', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const q: FusedProgram = { ...BIAS_RELU, key: 'mf:cache2' };
    const p2 = b.alloc('float32', 100);
    const out2 = b.alloc('float32', 100);
    b.matmulFused(viewOf(x, [1, 10, 4]), viewOf(x, [1, 4, 10]), q, [{ buf: bias, dtype: 'float32', shape: [1, 10, 10], strides: [0, 0, 1], offset: 0 }], [], [out2, p2]);
    b.matmulFused(viewOf(x, [1, 10, 4]), viewOf(x, [1, 4, 10]), q, [viewOf(x, [100])], [], [out2, p2]);
    b.matmulFused(viewOf(x, [1, 10, 4]), viewOf(x, [1, 4, 10]), q, [{ buf: x, dtype: 'float32', shape: [100], strides: [0], offset: 3 }], [], [out2, p2]);
    expect(b.pipelineCount - before, 'broadcast row, contiguous and single-element extra inputs: one pipeline each').toBe(4);
    await b.sync();
    freeAll(b, x, bias, p2, out2);
  });

  it('runs no other primitive (the profiler sees one call), also for K = 0 and empty products', async () => {
    const b = getB();
    const x = upload(b, 'float32', [1, 2, 3, 4]);
    const y = b.alloc('float32', 4);
    const e = b.alloc('float32', 0);
    const e2 = b.alloc('float32', 0);
    const names = ['fill', 'copy', 'unary', 'binary', 'where', 'fused', 'reduce', 'reduceFused', 'matmul', 'im2col', 'col2im', 'pool2d', 'pool2dGrad', 'gather', 'scatterAdd', 'random', 'alloc'] as const;
    const spies = names.map((n) => vi.spyOn(b, n));
    try {
      b.matmulFused(viewOf(x, [1, 2, 2]), viewOf(x, [1, 2, 2]), SCALE_TANH, [], [1], [y]);
      b.matmulFused(viewOf(e, [1, 2, 0]), viewOf(e, [1, 0, 2]), SCALE_TANH, [], [1], [y]);
      b.matmulFused(viewOf(e, [1, 0, 2]), viewOf(x, [1, 2, 2]), SCALE_TANH, [], [1], [e2]);
      spies.forEach((s, i) => expect(s, names[i]).not.toHaveBeenCalled());
    } finally {
      spies.forEach((s) => s.mockRestore());
    }
    await b.sync();
    freeAll(b, x, y, e, e2);
  });

  it('a grid beyond maxComputeWorkgroupsPerDimension is split like matmul splits it, with the same results', async () => {
    const acq = await acquireDevice();
    const b = new WebGPUBackend(acq, { maxWorkgroupsPerDimension: 3 });
    try {
      const r = rng();
      for (const program of PROGRAMS) {
        // 4 batches and ⌈100/32⌉ = 4 column tiles on a limit of 3: 2 × 2 dispatches; ⌈100/32⌉ = 4 row tiles: 2
        expect(await check(b, r, program, [4, 5, 7, 100], 'random', 'random')).toBe(4);
        expect(await check(b, r, program, [1, 100, 7, 5], 'random', 'random')).toBe(2);
      }
      await b.sync();
    } finally {
      b.dispose();
    }
  });

  it('a, b, 3 inputs and 3 outputs fit a device with the default limit of 8 storage buffers per stage; 9 are refused', async () => {
    const b = await defaultLimitsBackend();
    try {
      expect(b.limits.maxStorageBuffersPerShaderStage).toBe(8);
      const six: FusedProgram = {
        key: 'mf:6',
        inputs: ['float32', 'float32', 'float32', 'bool'],
        consts: 0,
        code: [input(0), input(1), input(2), input(3), { op: 'add', args: [0, 1] }, { op: 'mul', args: [4, 2] }, { op: 'mul', args: [5, 3] }],
        outputs: [{ value: 6, dtype: 'float32' }, { value: 4, dtype: 'float32' }, { value: 0, dtype: 'float32' }],
      };
      const x = upload(b, 'float32', [1, 2, 3, 4]);
      const one = upload(b, 'float32', [1, 1, 1, 1]);
      const two = upload(b, 'float32', [2, 2, 2, 2]);
      const m = upload(b, 'bool', [1, 0, 1, 1]);
      const outs = [0, 1, 2].map(() => b.alloc('float32', 4));
      b.matmulFused(viewOf(x, [1, 2, 2]), viewOf(x, [1, 2, 2]), six, [viewOf(one, [2, 2]), viewOf(two, [2, 2]), viewOf(m, [2, 2])], [], outs);
      // x·x = [[7, 10], [15, 22]]
      expect(await Promise.all(outs.map(async (o) => Array.from(await b.read(o))))).toEqual([[16, 0, 32, 46], [8, 11, 16, 23], [7, 10, 15, 22]]);
      const seven: FusedProgram = { ...six, key: 'mf:7', outputs: [...six.outputs, { value: 5, dtype: 'float32' }] };
      expect(() => b.matmulFused(viewOf(x, [1, 2, 2]), viewOf(x, [1, 2, 2]), seven, [viewOf(one, [2, 2]), viewOf(two, [2, 2]), viewOf(m, [2, 2])], [], [...outs, b.alloc('float32', 4)])).toThrow(
        /matmulFused: program 'mf:7': a, b, 3 inputs \+ 4 outputs = 9 buffers, at most 8 allowed \(FUSED_MAX_BUFFERS 8; this device's maxStorageBuffersPerShaderStage 8\)/,
      );
      await b.sync();
    } finally {
      b.dispose();
    }
  });
});

describe('matmulFused: validation', () => {
  it('bad calls throw an AxonError naming matmulFused and what was expected, and change nothing', async () => {
    const b = getB();
    const x = upload(b, 'float32', [1, 2, 3, 4, 5, 6]);
    const xi = upload(b, 'int32', [1, 2, 3, 4]);
    const bias = upload(b, 'float32', [1, 2]);
    const y = b.alloc('float32', 4);
    const p = b.alloc('float32', 4);
    const y3 = b.alloc('float32', 3);
    const yb = b.alloc('bool', 4);
    const freed = b.alloc('float32', 4);
    b.free(freed);
    const va = viewOf(x, [1, 2, 2]);
    const vbias: View = { buf: bias, dtype: 'float32', shape: [2, 2], strides: [0, 1], offset: 0 };
    type Over = Partial<{ a: View; b: View; program: FusedProgram; inputs: readonly View[]; consts: readonly number[]; outputs: readonly BackendBuffer[] }>;
    const call = (o: Over) => () => b.matmulFused(o.a ?? va, o.b ?? va, o.program ?? BIAS_RELU, o.inputs ?? [vbias], o.consts ?? [], o.outputs ?? [y, p]);
    call({})(); // a good call registers the key
    await b.sync();
    const mem = b.memory();
    const pipes = b.pipelineCount;
    const cases: [string, () => void, RegExp][] = [
      ['a rank', call({ a: viewOf(x, [2, 2]) }), /a must be a rank-3 view, got shape \[2,2\] and strides \[2,1\]/],
      ['a dtype', call({ a: viewOf(xi, [1, 2, 2]) }), /a must be a float32 view, got a int32 view of a int32 buffer/],
      ['b out of bounds', call({ b: { ...va, offset: 3 } }), /b \(shape \[1,2,2\], strides \[4,2,1\], offset 3\) reaches element 6 of a 6-element buffer/],
      ['b freed', call({ b: viewOf(freed, [1, 2, 2]) }), /buffer was freed/],
      ['K mismatch', call({ b: viewOf(x, [1, 3, 2]) }), /a is \[1,2,2\] and b is \[1,3,2\], expected \[B, M, K\] and \[B, K, N\]/],
      ['batch mismatch', call({ a: viewOf(x, [1, 2, 2]), b: { ...viewOf(x, [1, 2, 2]), shape: [2, 2, 2], strides: [0, 2, 1] } }), /expected \[B, M, K\] and \[B, K, N\]/],
      ['bool input 0', call({ program: { ...BIAS_RELU, key: 'mf:v:bool0', inputs: ['bool', 'float32'] } }), /program 'mf:v:bool0': input 0 \(the product\) must be 'float32', got 'bool'/],
      ['no inputs', call({ program: { key: 'mf:v:none', inputs: [], consts: 1, code: [konst(0)], outputs: [{ value: 0, dtype: 'float32' }] }, inputs: [], consts: [1], outputs: [y] }), /input 0 \(the product\) must be 'float32', got no inputs/],
      ['forward reference', call({ program: { ...BIAS_RELU, key: 'mf:v:fwd', code: [input(0), { op: 'neg', args: [2] }] } }), /instruction 1 \(neg\) uses value 2, expected an earlier value/],
      ['key reused', call({ program: { ...BIAS_RELU, code: [input(0), input(1), { op: 'sub', args: [0, 1] }, { op: 'relu', args: [2] }] } }), /key 'mf:relu\(p\+bias\),p' was already used for a different program/],
      ['too many buffers', call({ program: { ...BIAS_RELU, key: 'mf:v:9', inputs: ['float32', 'float32', 'float32', 'float32', 'float32'], outputs: [0, 1, 2, 3].map((v) => ({ value: v, dtype: 'float32' as const })) } }), /a, b, 4 inputs \+ 4 outputs = 10 buffers, at most 8 allowed/],
      ['input count', call({ inputs: [] }), /expects 1 input view\(s\) \(its inputs 1\.\., input 0 being the product\), got 0/],
      ['output count', call({ outputs: [y] }), /expects 2 output buffer\(s\), got 1/],
      ['constants', call({ consts: [1] }), /expects 0 constant\(s\), got 1/],
      ['input dtype', call({ inputs: [viewOf(xi, [2, 2])] }), /inputs\[0\] \(program input 1\) must be a float32 view, got a int32 view/],
      ['input size', call({ inputs: [viewOf(x, [3])] }), /inputs\[0\] \(program input 1\) has shape \[3\], expected a shape of B·M·N = 4 elements \(the product is \[1,2,2\]\)/],
      ['input out of bounds', call({ inputs: [{ ...vbias, offset: 1 }] }), /inputs\[0\] \(program input 1\) \(shape \[2,2\], strides \[0,1\], offset 1\) reaches element 2 of a 2-element buffer/],
      ['inputs of two shapes', call({ program: MASKED, inputs: [viewOf(yb, [2, 2]), viewOf(x, [4])], consts: [1, 0], outputs: [y, yb] }), /every input must have one shape \(already broadcast\); inputs\[0\] is \[2,2\], inputs\[1\] is \[4\]/],
      ['output dtype', call({ outputs: [y, yb] }), /output 1 must be a float32 buffer, got bool/],
      ['output size', call({ outputs: [y3, p] }), /output 0 holds 3 elements, expected 4 \(the product is \[1,2,2\]\)/],
      ['output is a', call({ a: viewOf(p, [1, 2, 2]) }), /output 1 is also a's buffer \(outputs never alias inputs\)/],
      ['output is b', call({ b: viewOf(y, [1, 2, 2]) }), /output 0 is also b's buffer/],
      ['output is an input', call({ inputs: [viewOf(p, [2, 2])] }), /output 1 is also an input's buffer/],
      ['outputs alike', call({ outputs: [y, y] }), /output 1 is the same buffer as output 0/],
    ];
    expectAxonErrors('matmulFused', cases);
    expect(b.pipelineCount, 'nothing compiled for a refused call').toBe(pipes);
    expect(b.memory()).toEqual(mem);
    expect(Array.from(await b.read(y)), 'the outputs keep the good call\'s result').toEqual([8, 12, 16, 24]);
    freeAll(b, x, xi, bias, y, p, y3, yb);
  });
});

describe('matmulFused: generated WGSL', () => {
  it('the matmul kernel with the program at its store: one kernel, the product stored only as the program says', () => {
    for (const src of [matmulSource(8, 8, 1, matmulEpilogue(BIAS_RELU, 2, ['r'])), matmulTiledSource(8, 8, 8, matmulEpilogue(BIAS_RELU, 2, ['r']))]) {
      expect(src.match(/@compute/g)).toHaveLength(1);
      expect(src).toContain('var<uniform> P: array<vec4<u32>, 64>;');
      expect(src).toContain('epi(o, v.x);');
      expect(src).toContain('if (col0 + 3u < N) { epi(o + 3u, v.w); }');
      expect(src).toContain('fn epi(gi: u32, v: f32) {');
      expect(src).toContain('let t0 = v;');
      expect(src).toContain('let t2 = op_add(opq(t0, z0), opq(t1, z1));');
      expect(src).toContain('O1[gi] = t0;');
      expect(src).not.toMatch(/\bC\[/);
    }
    // the plain kernels are unchanged: parameters from storage, C[o] = v
    expect(matmulSource(8, 8, 1)).toContain('C[o] = v.x;');
    expect(matmulSource(8, 8, 1)).toContain('let M = P[0]; let N = P[1]; let K = P[2];');
  });
});
