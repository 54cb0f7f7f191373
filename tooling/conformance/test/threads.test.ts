// Issue 12: the suite on the WASM backend at 1, 2 and 3 threads, and every result bit-identical
// across the three. Each configuration is registered under its own name ('wasm-1thread',
// 'wasm-2threads', 'wasm-3threads'; the backends call themselves 'wasm') with
// `threadThreshold: 0`, so every op that can be split over threads is split even on the suite's
// small tensors, and is started with `startThreads()`: a backend that does not run the threads
// asked for fails to start, which fails every test of its run (nothing passes on one thread).
//
// While the three runs check their results against the float64 references as usual, an observer
// sees every result a check compares (and every analytic gradient of the gradient group's
// gradcheck cases): the 1-thread run records them, the 2- and 3-thread runs compare theirs with
// the 1-thread result of the same check, bit for bit, and fail the check's test where they
// differ. A second part runs seeded cases whose sizes split unevenly over threads (M = 5, 9, 13
// rows, batches of 1 and 3, N not a multiple of 8, images n = 1 and 3, lengths not a multiple
// of 4, reductions over rows and over columns), forward and gradients, at 1, 2 and 3 threads.
import '@axon/backend-wasm';
import { createWasmBackend, WasmBackend } from '@axon/backend-wasm';
import * as ax from '@axon/core';
import type { DType, Tensor, TypedArray } from '@axon/core';
import { valueAndGrad } from '@axon/autograd';
import { describe, expect, it } from 'vitest';
import { type Ctx, fmt, observeResults, report, type Result, unravel } from '../src/check.js';
import { evaluate } from '../src/harness.js';
import { describeBackendConformance } from '../src/index.js';
import { build, describeHost, type HostTensor, type Layout, makeHost, uniform } from '../src/inputs.js';
import { Rng, runSeed, streamSeed } from '../src/rng.js';

const COUNTS = [1, 2, 3] as const;
type Count = (typeof COUNTS)[number];
const nameOf = (n: number): string => (n === 1 ? 'wasm-1thread' : `wasm-${n}threads`);

/** The kernels the WASM backend splits over threads (its `parallelRuns` keys). */
const SPLIT = ['unary', 'binary', 'fused', 'reduce', 'reduceFused', 'matmul', 'im2col', 'col2im', 'pool2d', 'pool2dGrad'] as const;

/** What each configuration's `startThreads()` resolved to, and its `features`. */
const startedWith = new Map<number, { running: number; threads: unknown; reason: unknown }>();

for (const n of COUNTS) {
  ax.registerBackend({
    name: nameOf(n),
    priority: 0,
    create: async () => {
      const b = await createWasmBackend({ threads: n, threadThreshold: 0 });
      const running = await b.startThreads();
      const threads = b.features?.['threads'];
      const reason = b.features?.['threadsReason'];
      startedWith.set(n, { running, threads, reason });
      if (running !== n || threads !== n) {
        b.dispose();
        throw new Error(`asked for ${n} threads: startThreads() resolved to ${running}, features.threads is ${String(threads)} (${String(reason)})`);
      }
      return b;
    },
  });
}

// ------------------------------------------------------------ the suite at 1, 2 and 3 threads

/** Whether two results of one check are equal bit for bit (float32: raw bits; NaN = any NaN). */
function firstDifference(a: TypedArray, b: TypedArray, dtype: DType): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  if (dtype === 'float32' && a instanceof Float32Array && b instanceof Float32Array) {
    const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
    const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
    for (let i = 0; i < ua.length; i++) {
      if (ua[i] !== ub[i] && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return i;
    }
    return -1;
  }
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

const hex = (v: number): string => `0x${(new Uint32Array(Float32Array.of(v).buffer)[0]! >>> 0).toString(16).padStart(8, '0')}`;

/** `1.25 (0x3fa00000)` for float32, the number otherwise. */
function show(v: number, dtype: DType): string {
  return dtype === 'float32' ? `${Object.is(v, -0) ? '-0' : String(v)} (${hex(v)})` : String(v);
}

/** Describes how `got` (at `n` threads) differs from `base` (at 1 thread), or null when equal. */
function difference(got: Result, base: Result, n: number): string | null {
  if (got.dtype !== base.dtype || fmt(got.shape) !== fmt(base.shape)) {
    return `at ${n} threads the result is ${fmt(got.shape)} ${got.dtype}, at 1 thread ${fmt(base.shape)} ${base.dtype}`;
  }
  const i = firstDifference(got.data, base.data, got.dtype);
  if (i < 0) return null;
  let count = 0;
  for (let j = i; j < got.data.length; j++) if (firstDifference(got.data.subarray(j, j + 1), base.data.subarray(j, j + 1), got.dtype) >= 0) count++;
  return (
    `not bit-identical across thread counts: output ${fmt(got.shape)} ${got.dtype}, ${count} of ${got.data.length} elements differ; ` +
    `first at ${fmt(unravel(i, got.shape))} (flat ${i}): ${show(got.data[i]!, got.dtype)} at ${n} threads, ${show(base.data[i]!, got.dtype)} at 1 thread`
  );
}

/** The 1-thread results, per check: `<test name with the configuration left out>#<index>`. */
const baseline = new Map<string, { op: string; result: Result }>();
/** Per thread count: the checks compared, and the differences found (test, op, message). */
const compared = new Map<number, number>();
const differences: string[] = [];
/** Per thread count and test: how many results it has seen so far. */
const seen = new Map<string, number>();

function configOf(testName: string): Count | null {
  for (const n of COUNTS) if (testName.includes(`conformance: ${nameOf(n)} (`)) return n;
  return null;
}

observeResults((got: Result, ctx: Ctx) => {
  const testName = expect.getState().currentTestName ?? '';
  const n = configOf(testName);
  if (n === null) return; // the uneven-block cases below compare on their own
  const test = testName.replace(`conformance: ${nameOf(n)} (`, 'conformance: wasm-<n> (');
  const at = seen.get(`${n} ${test}`) ?? 0;
  seen.set(`${n} ${test}`, at + 1);
  const key = `${test}#${at}`;
  if (n === 1) {
    baseline.set(key, { op: ctx.op, result: got });
    return;
  }
  compared.set(n, (compared.get(n) ?? 0) + 1);
  const base = baseline.get(key);
  const message = base === undefined ? `result ${at} of this test was not seen at 1 thread (did the 1-thread run of "${test}" fail or run fewer checks?)` : difference(got, base.result, n);
  if (message !== null) {
    differences.push(`${test} — ${ctx.op}${ctx.inputs !== undefined ? ` (inputs ${ctx.inputs})` : ''}: ${message}`);
    report(ctx, message);
  }
});

const seed = runSeed();
for (const n of COUNTS) describeBackendConformance(nameOf(n), { seed, backendName: 'wasm' });

describe('threads: the suite ran on the threads asked for, with bit-identical results', () => {
  it('each configuration started the workers it asked for (startThreads() and features.threads)', async () => {
    for (const n of COUNTS) {
      const b = await ax.findBackend(nameOf(n));
      expect(b.features?.['threads'], `${nameOf(n)}: features.threads (${String(b.features?.['threadsReason'])})`).toBe(n);
      expect(startedWith.get(n)?.running, `${nameOf(n)}: what startThreads() resolved to`).toBe(n);
    }
  });

  it('the 2- and 3-thread runs split every kind of kernel the backend splits over threads (none at 1 thread)', async () => {
    for (const n of COUNTS) {
      const b = await ax.findBackend(nameOf(n));
      expect(b instanceof WasmBackend, `${nameOf(n)} is a WasmBackend`).toBe(true);
      const runs = (b as WasmBackend).parallelRuns;
      console.log(`[threads] ${nameOf(n)}: calls split over threads, by op: ${JSON.stringify(runs)}`);
      if (n === 1) expect(runs, 'calls split at 1 thread').toEqual({});
      else for (const op of SPLIT) expect(runs[op] ?? 0, `${nameOf(n)}: calls of ${op} split over threads (parallelRuns: ${JSON.stringify(runs)})`).toBeGreaterThan(0);
    }
  });

  it('every result checked at 1 thread was compared at 2 and 3 threads, and none differed', () => {
    expect(baseline.size, 'results recorded at 1 thread (the whole suite checks thousands)').toBeGreaterThan(1000);
    for (const n of COUNTS.slice(1)) expect(compared.get(n) ?? 0, `results compared at ${n} threads`).toBe(baseline.size);
    expect(differences.slice(0, 12), `${differences.length} results differ from 1 thread`).toEqual([]);
    console.log(`[threads] ${baseline.size} results of the suite compared bit for bit at 1, 2 and 3 threads`);
  });
});

// ------------------------------------------------------------ uneven blocks, forward and gradients

/** One case: seeded float32 inputs and a function of them returning outputs. */
interface Case {
  readonly name: string;
  readonly inputs: (r: Rng) => HostTensor[];
  readonly f: (...xs: Tensor[]) => Tensor[];
  /**
   * Why the case runs on one thread at any count (it is compared all the same); without it, the
   * case fails unless some call of it is split over threads at 2 and at 3 threads.
   */
  readonly oneThread?: string;
}

/** Fixed weights shaped like `shape` (so a loss's gradients are not all equal). */
function weights(shape: readonly number[], salt: number): Tensor {
  const r = new Rng(salt);
  const n = shape.reduce((a, b) => a * b, 1);
  return ax.tensor(Float32Array.from({ length: n }, () => r.uniform(-1.5, 1.5)), shape);
}

/** The forward outputs, then the gradient of Σ out·w for every input. */
function withGrads(fwd: (...xs: Tensor[]) => Tensor): (...xs: Tensor[]) => Tensor[] {
  return (...xs) => {
    const { value, grads } = valueAndGrad((...a: Tensor[]) => {
      const y = fwd(...a);
      return ax.sum(ax.mul(y, weights(y.shape, 99)));
    })(...xs);
    return [fwd(...xs), value, ...grads];
  };
}

describe('threads: the bit comparison itself', () => {
  it('sees a 1-ulp difference and −0 against +0, ignores NaN payloads, names the first differing element', () => {
    const res = (v: number[], shape = [2, 2]): Result => ({ data: Float32Array.from(v), shape, dtype: 'float32' });
    const nan2 = new Float32Array(new Uint32Array([0x7fc00001]).buffer)[0]!;
    expect(difference(res([1, 2, NaN, -0]), res([1, 2, nan2, -0]), 2)).toBeNull();
    const ulp = new Float32Array(new Uint32Array([0x3fc00001]).buffer)[0]!;
    expect(difference(res([1, ulp, 3, 4]), res([1, 1.5, 3, 4]), 2)).toBe(
      'not bit-identical across thread counts: output [2,2] float32, 1 of 4 elements differ; first at [0,1] (flat 1): 1.5000001192092896 (0x3fc00001) at 2 threads, 1.5 (0x3fc00000) at 1 thread',
    );
    expect(difference(res([0, 1, 2, 3]), res([-0, 1, 2, 4]), 3)).toContain('2 of 4 elements differ; first at [0,0] (flat 0): 0 (0x00000000) at 3 threads, -0 (0x80000000) at 1 thread');
    expect(difference({ data: Int32Array.of(1, 2, 3), shape: [3], dtype: 'int32' }, { data: Int32Array.of(1, 2, 4), shape: [3], dtype: 'int32' }, 2)).toContain('first at [2] (flat 2): 3 at 2 threads, 4 at 1 thread');
    expect(difference(res([1, 2], [2]), res([1, 2], [2]), 2)).toBeNull();
    expect(difference(res([1, 2], [1, 2]), res([1, 2], [2]), 2)).toContain('[1,2] float32, at 1 thread [2] float32');
  });
});

const f32 = (r: Rng, shape: readonly number[], layout: Layout = 'contiguous', lo = -2, hi = 2): HostTensor => makeHost(r, shape, 'float32', uniform(lo, hi), layout);
const idx = (values: number[], shape: readonly number[]): Tensor => ax.tensor(Int32Array.from(values), shape, 'int32');

function unevenCases(): Case[] {
  const cases: Case[] = [];
  // elementwise: lengths that are not multiples of 4 (SIMD lanes) or of a block size
  for (const len of [129, 197, 1023, 4099, 65539]) {
    cases.push({ name: `unary chain tanh(exp(x)·0.5) + gelu, [${len}]`, inputs: (r) => [f32(r, [len])], f: withGrads((x) => ax.add(ax.tanh(ax.mul(ax.exp(x!), 0.5)), ax.gelu(x!))) });
    cases.push({ name: `binary x·y − y/2, where, compare, astype, [${len}]`, inputs: (r) => [f32(r, [len]), f32(r, [len])], f: (x, y) => [ax.sub(ax.mul(x!, y!), ax.div(y!, 2)), ax.where(ax.gt(x!, y!), x!, y!), ax.astype(ax.mul(x!, 100), 'int32'), ax.lt(x!, 0)] });
  }
  for (const [rows, cols] of [[5, 2053], [2053, 5], [13, 1023], [1023, 13], [9, 4099]] as const) {
    cases.push({ name: `broadcast [${rows},${cols}] + [${cols}] (sliced)`, inputs: (r) => [f32(r, [rows, cols]), f32(r, [cols], 'sliced')], f: withGrads((x, b) => ax.sigmoid(ax.add(x!, b!))) });
    // (a fused program with a transposed input runs on one thread: these split the bias's gradient)
    if (cols > rows) cases.push({ name: `broadcast [${rows},${cols}] (transposed) + [${cols}]`, inputs: (r) => [f32(r, [rows, cols], 'transposed'), f32(r, [cols])], f: withGrads((x, b) => ax.sigmoid(ax.add(x!, b!))) });
    // reductions over rows and over columns
    for (const axis of [0, 1]) {
      cases.push({ name: `sum / mean / max / logSumExp / variance over axis ${axis} of [${rows},${cols}]`, inputs: (r) => [f32(r, [rows, cols])], f: withGrads((x) => ax.add(ax.add(ax.sum(x!, axis), ax.mean(x!, axis)), ax.add(ax.max(x!, axis), ax.add(ax.logSumExp(x!, axis), ax.variance(x!, axis))))) });
      cases.push({ name: `softmax / logSoftmax / argmax / argmin over axis ${axis} of [${rows},${cols}]`, inputs: (r) => [f32(r, [rows, cols])], f: (x) => [...withGrads((t) => ax.mul(ax.softmax(t!, axis), ax.logSoftmax(t!, axis)))(x!), ax.argmax(x!, axis), ax.argmin(x!, axis)] });
      cases.push({ name: `sum of exp(x·2) over axis ${axis} of [${rows},${cols}] (a fused prologue)`, inputs: (r) => [f32(r, [rows, cols])], f: withGrads((x) => ax.sum(ax.exp(ax.mul(x!, 2)), axis)) });
    }
  }
  cases.push({ name: 'sum / max / mean of all of [100003], [3,17,33] over axes [0,2]', inputs: (r) => [f32(r, [100003]), f32(r, [3, 17, 33])], f: (x, y) => [ax.sum(x!), ax.max(x!), ax.mean(x!), ax.sum(y!, [0, 2]), ax.prod(ax.add(ax.mul(y!, 0.1), 1), 1)] });
  // matmul: M rows not a multiple of the split, N not a multiple of 8, batches of 1 and 3
  for (const m of [5, 9, 13]) {
    for (const [k, n] of [[7, 1], [64, 5], [129, 13], [33, 33]] as const) {
      cases.push({ name: `matmul [${m},${k}]×[${k},${n}]`, ...(m === 5 && n === 1 ? { oneThread: 'matmul: 5 rows, N = 1' } : {}), inputs: (r) => [f32(r, [m, k]), f32(r, [k, n])], f: withGrads((a, b) => ax.matmul(a!, b!)) });
    }
    cases.push({ name: `matmul [${m},17]ᵀ-layout × [17,29] transposed`, inputs: (r) => [f32(r, [m, 17], 'transposed'), f32(r, [17, 29], 'transposed')], f: withGrads((a, b) => ax.matmul(a!, b!)) });
    for (const batch of [1, 3]) {
      cases.push({ name: `batched matmul [${batch},${m},19]×[${batch},19,21]`, inputs: (r) => [f32(r, [batch, m, 19]), f32(r, [batch, 19, 21])], f: withGrads((a, b) => ax.matmul(a!, b!)) });
      cases.push({ name: `batched matmul [${batch},${m},19]×[19,21] (broadcast)`, inputs: (r) => [f32(r, [batch, m, 19]), f32(r, [19, 21])], f: withGrads((a, b) => ax.matmul(a!, b!)) });
    }
    cases.push({ name: `relu(matmul [${m},31]×[31,45] + bias) (an epilogue)`, inputs: (r) => [f32(r, [m, 31]), f32(r, [31, 45]), f32(r, [45])], f: withGrads((a, b, c) => ax.relu(ax.add(ax.matmul(a!, b!), c!))) });
  }
  cases.push({ name: 'matmul [67,129]×[129,71], [130,257]×[257,9]', inputs: (r) => [f32(r, [67, 129]), f32(r, [129, 71]), f32(r, [130, 257]), f32(r, [257, 9])], f: (a, b, c, d) => [...withGrads((x, y) => ax.matmul(x!, y!))(a!, b!), ax.matmul(c!, d!)] });
  // conv and pooling over images n = 1 and 3
  for (const n of [1, 3]) {
    cases.push({ name: `conv2d [${n},3,9,11]×[5,3,3,3] + bias, padding same`, inputs: (r) => [f32(r, [n, 3, 9, 11]), f32(r, [5, 3, 3, 3]), f32(r, [5])], f: withGrads((x, w, b) => ax.conv2d(x!, w!, { padding: 'same', bias: b! })) });
    cases.push({ name: `conv2d [${n},4,13,7]×[6,2,3,2], stride 2, groups 2`, inputs: (r) => [f32(r, [n, 4, 13, 7]), f32(r, [6, 2, 3, 2])], f: withGrads((x, w) => ax.conv2d(x!, w!, { stride: 2, groups: 2 })) });
    cases.push({ name: `depthwise conv2d [${n},5,10,9]×[5,1,3,3], dilation 2`, inputs: (r) => [f32(r, [n, 5, 10, 9]), f32(r, [5, 1, 3, 3])], f: withGrads((x, w) => ax.conv2d(x!, w!, { groups: 5, dilation: 2, padding: 'same' })) });
    cases.push({ name: `maxPool2d 2 and avgPool2d 3 (stride 2, padding 1) of [${n},3,11,13]`, inputs: (r) => [f32(r, [n, 3, 11, 13])], f: withGrads((x) => ax.add(ax.sum(ax.maxPool2d(x!, 2)), ax.sum(ax.avgPool2d(x!, 3, { stride: 2, padding: 1 })))) });
  }
  // indexing and movement
  cases.push({
    name: 'gather rows / columns of [13,33], scatterAdd, oneHot',
    inputs: (r) => [f32(r, [13, 33]), f32(r, [7, 33])],
    f: (x, u) => [
      ...withGrads((t) => ax.gather(t!, idx([12, 0, 5, 5, 7, 1, 12], [7]), 0))(x!),
      ...withGrads((t) => ax.gather(t!, idx([32, 3, 3, 17, 0], [5]), 1))(x!),
      ax.scatterAdd([13, 33], idx([12, 0, 5, 5, 7, 1, 12], [7]), u!, 0),
      ax.oneHot(idx([0, 4, 2, 4, 1, 3, 0, 2, 1], [9]), 5),
    ],
  });
  cases.push({ name: 'contiguous copies of a transposed [13,1023] and a sliced [9,4099], concat, pad', oneThread: 'copy', inputs: (r) => [f32(r, [13, 1023], 'transposed'), f32(r, [9, 4099], 'sliced')], f: (x, y) => [ax.contiguous(x!), ax.contiguous(y!), ax.concat([x!, ax.slice(y!, [0, 1], [9, 1023])], 0), ax.pad(x!, [[1, 2], [3, 0]], 0.5)] });
  cases.push({ name: 'fill and the random kernels over [65539]', oneThread: 'fill, random', inputs: () => [], f: () => [ax.full([65539], 2.5), ax.zeros([4099], 'int32'), ax.rand([65539], { seed: 5 }), ax.randn([65539], { seed: 6 }), ax.randint(-7, 1000, [4099], { seed: 7 }), ax.bernoulli(0.3, [4099], { seed: 8 })] });
  return cases;
}

describe('threads: uneven blocks, forward and gradients, bit-identical at 1, 2 and 3 threads', () => {
  for (const fusion of [true, false]) {
    for (const cs of unevenCases()) {
      it(`${cs.name} (fusion ${fusion ? 'on' : 'off'})`, async () => {
        const problems: string[] = [];
        const flags = ax.setFlags({ fusion });
        const start = ax.memory().numTensors;
        try {
          let base: Result[] | null = null;
          let inputs = '';
          for (const n of COUNTS) {
            await ax.setBackend(nameOf(n));
            const hosts = cs.inputs(new Rng(streamSeed(seed, `threads-${cs.name}`)));
            inputs = hosts.map(describeHost).join(', ');
            const ctx: Ctx = { backend: nameOf(n), seed, op: cs.name, inputs };
            const b = ax.getBackend() as WasmBackend;
            const before = b.parallelRuns;
            const outs = await evaluate(ctx, () => cs.f(...hosts.map(build)));
            const after = b.parallelRuns;
            const split = Object.keys(after).filter((op) => after[op]! > (before[op] ?? 0));
            if (n > 1 && split.length === 0 && cs.oneThread === undefined) problems.push(`no call was split over ${n} threads (parallelRuns ${JSON.stringify(after)})`);
            if (base === null) {
              base = outs;
              continue;
            }
            if (outs.length !== base.length) problems.push(`${outs.length} outputs at ${n} threads, ${base.length} at 1 thread`);
            outs.forEach((o, j) => {
              const d = difference(o, base![j]!, n);
              if (d !== null) problems.push(`output ${j}: ${d}`);
            });
          }
          expect(problems, `${cs.name} (fusion ${fusion ? 'on' : 'off'}; inputs ${inputs}); seed ${seed} (reproduce: AXON_SEED=${seed})`).toEqual([]);
        } finally {
          ax.setFlags(flags);
        }
        expect(ax.memory().numTensors, 'tensors left after the case').toBe(start);
      });
    }
  }
});
