/**
 * Exact continuation from a checkpoint (issue 9, item 9, the optimizer's part): stateDict() and a
 * schedule's stateDict() go to the host (each tensor read with `await data()`, written as
 * safetensors entries, the metadata as JSON), a NEW optimizer and schedule over FRESH parameter
 * tensors holding the same values load them, and training continues bit for bit as an
 * uninterrupted run on WASM.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { type Tensor, memory, tensor, tidy } from '@axon/core';
import {
  ChainedScheduler,
  ConstantLR,
  CosineAnnealingLR,
  CosineAnnealingWarmRestarts,
  CyclicLR,
  LinearLR,
  MultiplicativeLR,
  PolynomialLR,
  ExponentialLR,
  LinearWarmup,
  type LRScheduler,
  MultiStepLR,
  OneCycleLR,
  type Optimizer,
  type OptimizerStateDict,
  type SchedulerState,
  SequentialLR,
  StepLR,
  optimizer,
} from '../src/index.js';
import { OPTIMIZERS } from './anomaly-makers.js';
import { SEED, rng, useTestBackend } from './helpers.js';

beforeAll(async () => {
  expect(await useTestBackend()).toBe('wasm');
});

// ---------------------------------------------------------------- a minimal safetensors codec
interface Entry {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** Safetensors bytes: u64 LE header length, JSON header (F32 entries, string metadata), data. */
function encode(entries: Record<string, Entry>, metadata: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  const names = Object.keys(entries).sort();
  for (const n of names) {
    const e = entries[n]!;
    header[n] = { dtype: 'F32', shape: [...e.shape], data_offsets: [offset, offset + e.data.byteLength] };
    offset += e.data.byteLength;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const pad = (8 - (json.length % 8)) % 8;
  if (pad) json = new TextEncoder().encode(JSON.stringify(header) + ' '.repeat(pad));
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const n of names) {
    const d = entries[n]!.data;
    out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), at);
    at += d.byteLength;
  }
  return out;
}

function decode(bytes: Uint8Array): { entries: Record<string, Entry>; metadata: Record<string, string> } {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  type Header = { dtype: string; shape: number[]; data_offsets: [number, number] };
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, unknown>;
  const entries: Record<string, Entry> = {};
  for (const [name, value] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const h = value as Header;
    expect(h.dtype).toBe('F32');
    const [b, e] = h.data_offsets;
    const copy = bytes.slice(8 + n + b, 8 + n + e); // aligned, owned copy
    entries[name] = { shape: h.shape, data: new Float32Array(copy.buffer) };
  }
  return { entries, metadata: header['__metadata__'] as Record<string, string> };
}

// ---------------------------------------------------------------- the training run
const SHAPES = { w: [4, 3], b: [3] } as const;

interface Problem {
  readonly x: Tensor;
  readonly y: Tensor;
  readonly init: Record<'w' | 'b', number[]>;
}

function problem(seed: number): Problem {
  const r = rng(seed);
  return {
    x: tensor(r.normal(8 * 4), [8, 4]),
    y: tensor(r.normal(8 * 3), [8, 3]),
    init: { w: r.normal(12, 0.5), b: r.normal(3, 0.1) },
  };
}

function makeParams(values: Record<'w' | 'b', ArrayLike<number>>): Tensor[] {
  return (['w', 'b'] as const).map((n) => {
    const t = tensor(Array.from(values[n]), [...SHAPES[n]]).requireGrad();
    t.name = n;
    return t;
  });
}

/** One training step: loss.backward() (grads depend on the parameters), opt.step(), schedule. */
function trainStep(pb: Problem, ps: Tensor[], opt: Optimizer, sched: LRScheduler | null): void {
  const [w, b] = ps as [Tensor, Tensor];
  tidy(() => pb.x.matmul(w).add(b).sub(pb.y).square().mean().backward());
  opt.step();
  opt.zeroGrad();
  sched?.step();
}

const SCHEDULES: Record<string, ((opt: Optimizer) => LRScheduler) | null> = {
  none: null,
  'StepLR(2, 0.5)': (o) => new StepLR(o, { stepSize: 2, gamma: 0.5 }),
  'LinearWarmup(3) then cosine': (o) => new LinearWarmup(o, { warmupSteps: 3, after: new CosineAnnealingLR(o, { tMax: 10, etaMin: 1e-4 }) }),
  'SequentialLR(warm-up, exponential)': (o) => new SequentialLR(o, [new LinearWarmup(o, { warmupSteps: 2, startFactor: 0.1 }), new ExponentialLR(o, { gamma: 0.9 })], [2]),
  'MultiStepLR([2, 5], 0.5)': (o) => new MultiStepLR(o, [2, 5], 0.5),
  // its momentum (SGD's, RMSprop's) or beta1 (Adam's) is in the optimizer's state dict; Adagrad has neither
  'OneCycleLR(9 steps, three phases)': (o) => new OneCycleLR(o, { maxLr: 0.05, totalSteps: 9, threePhase: true, cycleMomentum: 'betas' in o.defaults || 'momentum' in o.defaults }),
  'LinearLR then CosineAnnealingWarmRestarts': (o) => new SequentialLR(o, [new LinearLR(o, { startFactor: 0.2, totalIters: 3 }), new CosineAnnealingWarmRestarts(o, { t0: 2, tMult: 2, etaMin: 1e-4 })], [3]),
  'ChainedScheduler(ConstantLR, MultiplicativeLR, PolynomialLR)': (o) =>
    new ChainedScheduler(o, [new ConstantLR(o, { factor: 0.5, totalIters: 2 }), new MultiplicativeLR(o, (t) => 0.9 + 0.01 * t), new PolynomialLR(o, { totalIters: 12, power: 2 })]),
  // the momentum or beta1 it cycles is in the optimizer's state dict
  'CyclicLR(exp_range)': (o) => new CyclicLR(o, { baseLr: 0.01, maxLr: 0.05, stepSizeUp: 2, stepSizeDown: 3, mode: 'exp_range', gamma: 0.95, cycleMomentum: 'betas' in o.defaults || 'momentum' in o.defaults }),
};

const TOTAL = 9;

/** Bytes of a float32 array (bit-for-bit comparison: -0 vs 0 and NaN payloads count). */
function bits(a: Float32Array | ArrayLike<number>): number[] {
  const f = a instanceof Float32Array ? a : Float32Array.from(a);
  return Array.from(new Uint8Array(f.buffer, f.byteOffset, f.byteLength));
}

/** Saves everything a resume needs to bytes, reading each tensor with `await data()`. */
async function checkpoint(ps: Tensor[], opt: Optimizer, sched: LRScheduler | null): Promise<Uint8Array> {
  const sd: OptimizerStateDict = opt.stateDict();
  const entries: Record<string, Entry> = {};
  try {
    for (const p of ps) entries[`param.${p.name!}`] = { shape: p.shape, data: (await p.data()) as Float32Array };
    for (const [k, t] of Object.entries(sd.tensors)) entries[`optimizer.${k}`] = { shape: t.shape, data: (await t.data()) as Float32Array };
  } finally {
    for (const t of Object.values(sd.tensors)) t.dispose();
  }
  return encode(entries, { optimizer: JSON.stringify(sd.meta), scheduler: JSON.stringify(sched ? sched.stateDict() : null) });
}

/** Rebuilds the run from bytes: fresh parameters, a new optimizer and schedule, both loaded. */
function resume(
  bytes: Uint8Array,
  makeOpt: (ps: Tensor[]) => Optimizer,
  makeSched: ((o: Optimizer) => LRScheduler) | null,
  order: 'schedule first' | 'load first',
): { ps: Tensor[]; opt: Optimizer; sched: LRScheduler | null } {
  const { entries, metadata } = decode(bytes);
  const ps = makeParams({ w: entries['param.w']!.data, b: entries['param.b']!.data });
  const opt = makeOpt(ps);
  const tensors: Record<string, Tensor> = {};
  for (const [k, e] of Object.entries(entries)) if (k.startsWith('optimizer.')) tensors[k.slice('optimizer.'.length)] = tensor(e.data, [...e.shape]);
  const meta = JSON.parse(metadata['optimizer']!) as OptimizerStateDict['meta'];
  const schedState = JSON.parse(metadata['scheduler']!) as SchedulerState | null;
  let sched: LRScheduler | null = null;
  if (order === 'schedule first' && makeSched) sched = makeSched(opt);
  opt.loadStateDict({ meta, tensors });
  for (const t of Object.values(tensors)) t.dispose(); // the optimizer holds its own handles
  if (order === 'load first' && makeSched) sched = makeSched(opt);
  if (sched && schedState) sched.loadStateDict(schedState);
  return { ps, opt, sched };
}

async function stateBits(opt: Optimizer): Promise<{ meta: OptimizerStateDict['meta']; tensors: Record<string, number[]> }> {
  const sd = opt.stateDict();
  const tensors: Record<string, number[]> = {};
  for (const [k, t] of Object.entries(sd.tensors)) tensors[k] = bits((await t.data()) as Float32Array);
  for (const t of Object.values(sd.tensors)) t.dispose();
  return { meta: sd.meta, tensors };
}

describe('checkpoint → host → new optimizer → continue: bit for bit', () => {
  for (const [optName, makeOpt] of Object.entries(OPTIMIZERS)) {
    for (const [schedName, makeSched] of Object.entries(SCHEDULES)) {
      it(`${optName}, schedule ${schedName}`, async () => {
        const pb = problem(SEED + 41);
        const mem = memory();
        // the uninterrupted run
        const a = makeParams(pb.init);
        const optA = makeOpt(a);
        const schedA = makeSched ? makeSched(optA) : null;
        for (let t = 0; t < TOTAL; t++) trainStep(pb, a, optA, schedA);
        const want = { params: await Promise.all(a.map(async (p) => bits((await p.data()) as Float32Array))), state: await stateBits(optA), lr: optA.paramGroups.map((g) => g.lr) };
        // interrupted at several points, resumed in both construction orders
        for (const at of [0, 1, 4]) {
          for (const order of ['schedule first', 'load first'] as const) {
            const b = makeParams(pb.init);
            const optB = makeOpt(b);
            const schedB = makeSched ? makeSched(optB) : null;
            for (let t = 0; t < at; t++) trainStep(pb, b, optB, schedB);
            const bytes = await checkpoint(b, optB, schedB);
            optB.dispose();
            b.forEach((p) => p.dispose());
            const r = resume(bytes, makeOpt, makeSched, order);
            expect(r.opt.paramGroups.map((g) => g.lr), `lr right after resuming at ${at} (${order})`).toEqual(
              (() => {
                // what the uninterrupted run had at that point
                const c = makeParams(pb.init);
                const optC = makeOpt(c);
                const schedC = makeSched ? makeSched(optC) : null;
                for (let t = 0; t < at; t++) trainStep(pb, c, optC, schedC);
                const lrs = optC.paramGroups.map((g) => g.lr);
                optC.dispose();
                c.forEach((p) => p.dispose());
                return lrs;
              })(),
            );
            for (let t = at; t < TOTAL; t++) trainStep(pb, r.ps, r.opt, r.sched);
            const got = { params: await Promise.all(r.ps.map(async (p) => bits((await p.data()) as Float32Array))), state: await stateBits(r.opt), lr: r.opt.paramGroups.map((g) => g.lr) };
            expect(got, `resumed at step ${at} (${order})`).toEqual(want);
            r.opt.dispose();
            r.ps.forEach((p) => p.dispose());
          }
        }
        optA.dispose();
        a.forEach((p) => p.dispose());
        expect(memory().numTensors).toBe(mem.numTensors);
        pb.x.dispose();
        pb.y.dispose();
      });
    }
  }

  it("the Keras path: optimizer('adam') and a schedule built before fit adds the parameters", async () => {
    const pb = problem(SEED + 43);
    const makeSched = (o: Optimizer) => new StepLR(o, { stepSize: 2, gamma: 0.5 });
    const keras = (ps: Tensor[]): { opt: Optimizer; sched: LRScheduler } => {
      const opt = optimizer({ name: 'adam', learningRate: 0.05, globalClipnorm: 1 });
      const sched = makeSched(opt); // compile-time: no parameters yet
      opt.addParamGroup({ params: ps }); // what fit does
      return { opt, sched };
    };
    const a = makeParams(pb.init);
    const A = keras(a);
    for (let t = 0; t < TOTAL; t++) trainStep(pb, a, A.opt, A.sched);
    const b = makeParams(pb.init);
    const B = keras(b);
    for (let t = 0; t < 5; t++) trainStep(pb, b, B.opt, B.sched);
    const bytes = await checkpoint(b, B.opt, B.sched);
    B.opt.dispose();
    b.forEach((p) => p.dispose());
    // resume the Keras way: a fresh compile (optimizer + schedule, no parameters), fit adds them, then load
    const { entries, metadata } = decode(bytes);
    const c = makeParams({ w: entries['param.w']!.data, b: entries['param.b']!.data });
    const C = keras(c);
    const tensors: Record<string, Tensor> = {};
    for (const [k, e] of Object.entries(entries)) if (k.startsWith('optimizer.')) tensors[k.slice('optimizer.'.length)] = tensor(e.data, [...e.shape]);
    C.opt.loadStateDict({ meta: JSON.parse(metadata['optimizer']!) as OptimizerStateDict['meta'], tensors });
    for (const t of Object.values(tensors)) t.dispose();
    C.sched.loadStateDict(JSON.parse(metadata['scheduler']!) as SchedulerState);
    for (let t = 5; t < TOTAL; t++) trainStep(pb, c, C.opt, C.sched);
    for (let i = 0; i < 2; i++) expect(bits((await c[i]!.data()) as Float32Array)).toEqual(bits((await a[i]!.data()) as Float32Array));
    expect(await stateBits(C.opt)).toEqual(await stateBits(A.opt));
    expect(C.opt.lr).toBe(A.opt.lr);
    expect(A.opt.lr).toBe(0.05 * 0.5 ** 4); // StepLR(2, 0.5) after 9 epochs, from the right base
    for (const x of [A.opt, C.opt]) x.dispose();
    for (const p of [...a, ...c, pb.x, pb.y]) p.dispose();
  });
});
