// fused(program, inputs, consts, outputs): seeded random programs (DAGs over every op, float32 and
// bool inputs on contiguous, transposed, gapped, offset and broadcast views, sizes across workgroup
// edges, several outputs, bool outputs, NaN/±Inf/±0) against the same instructions run one by one
// through this backend's own unary/binary/where/copy/fill primitives — bit for bit (NaN = NaN);
// plus hand-checked programs, the pipeline cache, one dispatch per call, the 8-storage-buffer
// limit, memory and every validation error.
import { describe, expect, it } from 'vitest';
import {
  type BackendBuffer,
  type BinaryOp,
  FUSED_MAX_BUFFERS,
  FUSED_MAX_INSTRUCTIONS,
  type FusedDType,
  type FusedInstr,
  type FusedProgram,
  type UnaryOp,
  type View,
} from '@axon/core';
import { WebGPUBackend } from '../src/index.js';
import { acquireDevice } from '../src/device.js';
import { fusedSource } from '../src/kernels.js';
import { contiguous, expectClose, freeAll, type Layout, makeView, numel, type Rng, rng, SEED, upload, useBackend, viewOf, defaultLimitsBackend, expectAxonErrors } from './helpers.js';

const getB = useBackend();

const UNARY: readonly UnaryOp[] = [
  'neg', 'abs', 'sign', 'exp', 'log', 'log1p', 'expm1', 'sqrt', 'rsqrt', 'reciprocal', 'square',
  'sin', 'cos', 'tanh', 'erf', 'sigmoid', 'relu', 'floor', 'ceil', 'round', 'not',
];
const ARITH: readonly BinaryOp[] = ['add', 'sub', 'mul', 'div', 'pow', 'max', 'min', 'mod'];
const COMPARE: readonly BinaryOp[] = ['eq', 'ne', 'lt', 'le', 'gt', 'ge'];
const LOGIC: readonly BinaryOp[] = ['and', 'or', 'xor'];
const BINARY: readonly BinaryOp[] = [...ARITH, ...COMPARE, ...LOGIC];
const SPECIALS = [0, -0, 1, -1, 0.5, -0.5, 2.5, -2.5, 3, 1e-7, 1e-30, 30, -30, 100, -100, 1e30, -1e30, Infinity, -Infinity, NaN];

const flat = (buf: BackendBuffer, n: number): View => viewOf(buf, [n]);

/**
 * Runs `program` one instruction at a time with the backend's own primitives on float32 values
 * (bool values as 0/1): comparisons and logic go through bool buffers and `copy` (bool → 0/1,
 * float → bool is `x != 0`, NaN counting as nonzero), `where` through a bool condition. Returns each
 * output's values and frees every temporary.
 */
async function runOneByOne(b: WebGPUBackend, program: FusedProgram, inputs: readonly View[], consts: readonly number[], n: number): Promise<number[][]> {
  const temps: BackendBuffer[] = [];
  const f32 = (): BackendBuffer => {
    const t = b.alloc('float32', n);
    temps.push(t);
    return t;
  };
  const toBool = (v: BackendBuffer): BackendBuffer => {
    const t = b.alloc('bool', n);
    temps.push(t);
    b.copy(flat(v, n), flat(t, n));
    return t;
  };
  const toF32 = (v: BackendBuffer): BackendBuffer => {
    const t = f32();
    b.copy(flat(v, n), flat(t, n));
    return t;
  };
  const vals: BackendBuffer[] = [];
  for (const ins of program.code) {
    let out: BackendBuffer;
    if (ins.op === 'input') {
      out = f32();
      const v = inputs[ins.input]!;
      b.copy(v, { buf: out, dtype: 'float32', shape: v.shape, strides: contiguous(v.shape), offset: 0 });
    } else if (ins.op === 'const') {
      out = f32();
      b.fill(out, consts[ins.slot]!);
    } else if (ins.op === 'where') {
      out = f32();
      b.where(flat(toBool(vals[ins.args[0]]!), n), flat(vals[ins.args[1]]!, n), flat(vals[ins.args[2]]!, n), out);
    } else if (ins.args.length === 1) {
      const op = ins.op as UnaryOp;
      if (op === 'not') {
        const t = b.alloc('bool', n);
        temps.push(t);
        b.unary('not', flat(toBool(vals[ins.args[0]]!), n), t);
        out = toF32(t);
      } else {
        out = f32();
        b.unary(op, flat(vals[ins.args[0]]!, n), out);
      }
    } else {
      const op = ins.op as BinaryOp;
      const [a, c] = [vals[ins.args[0]]!, vals[ins.args[1]]!];
      if (COMPARE.includes(op)) {
        const t = b.alloc('bool', n);
        temps.push(t);
        b.binary(op, flat(a, n), flat(c, n), t);
        out = toF32(t);
      } else if (LOGIC.includes(op)) {
        const t = b.alloc('bool', n);
        temps.push(t);
        b.binary(op, flat(toBool(a), n), flat(toBool(c), n), t);
        out = toF32(t);
      } else {
        out = f32();
        b.binary(op, flat(a, n), flat(c, n), out);
      }
    }
    vals.push(out);
  }
  const res: number[][] = [];
  for (const o of program.outputs) {
    const v = o.dtype === 'bool' ? toBool(vals[o.value]!) : vals[o.value]!;
    res.push(Array.from(await b.read(v)));
  }
  freeAll(b, ...temps);
  return res;
}

/** Equal bit for bit, except that any NaN equals any NaN. */
function expectSame(what: string, got: ArrayLike<number>, want: ArrayLike<number>, inputs?: (i: number) => string): void {
  expect(got.length, what).toBe(want.length);
  const bad: string[] = [];
  let nbad = 0;
  for (let i = 0; i < got.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    if (!(Object.is(g, w) || (Number.isNaN(g) && Number.isNaN(w)))) {
      nbad++;
      if (bad.length < 6) bad.push(`  [${i}] fused ${g}, one by one ${w}${inputs ? ` (inputs ${inputs(i)})` : ''}`);
    }
  }
  if (nbad > 0) throw new Error(`${what}: ${nbad}/${got.length} elements differ (seed ${SEED}; rerun with AXON_SEED=${SEED})\n${bad.join('\n')}`);
}

/** A random program: inputs first, then constants and ops whose arguments lean on recent values. */
function randomProgram(r: Rng, nIn: number, nOut: number, nOps: number, forceOps: readonly string[] = []): FusedProgram {
  const inputs: FusedDType[] = Array.from({ length: nIn }, () => (r.next() < 0.3 ? 'bool' : 'float32'));
  const code: FusedInstr[] = [];
  for (let k = 0; k < nIn; k++) code.push({ op: 'input', input: k });
  if (nIn > 0 && r.next() < 0.3) code.push({ op: 'input', input: r.int(0, nIn) }); // the same input read twice
  const consts = r.int(0, 4);
  for (let s = 0; s < consts; s++) code.push({ op: 'const', slot: s });
  const arg = (): number => (r.next() < 0.6 ? r.int(Math.max(0, code.length - 4), code.length) : r.int(0, code.length));
  const ops = [...forceOps];
  while (ops.length < nOps) {
    const p = r.next();
    ops.push(p < 0.4 ? r.pick(UNARY) : p < 0.9 ? r.pick(BINARY) : 'where');
  }
  for (const op of ops) {
    if (code.length === 0) code.push({ op: 'const', slot: 0 });
    if (op === 'where') code.push({ op: 'where', args: [arg(), arg(), arg()] });
    else if ((UNARY as readonly string[]).includes(op)) code.push({ op: op as UnaryOp, args: [arg()] });
    else code.push({ op: op as BinaryOp, args: [arg(), arg()] });
  }
  const outputs = Array.from({ length: nOut }, (_, j) => ({
    value: j === 0 ? code.length - 1 : r.int(0, code.length),
    dtype: (r.next() < 0.3 ? 'bool' : 'float32') as FusedDType,
  }));
  const nConsts = Math.max(consts, code.some((c) => c.op === 'const') ? 1 : 0);
  const p = { key: '', inputs, consts: nConsts, code, outputs };
  return { ...p, key: JSON.stringify(p) };
}

/** A float32 value: a special one (NaN, ±Inf, ±0, halves, huge, tiny) or a normal sample. */
function floatGen(r: Rng): () => number {
  return () => (r.next() < 0.35 ? r.pick(SPECIALS) : r.normal() * (r.next() < 0.2 ? 30 : 2));
}

/** An input view of `shape`: a layout from the test helpers, or a single element broadcast everywhere. */
function inputView(b: WebGPUBackend, r: Rng, dtype: FusedDType, shape: readonly number[]): { view: View; buf: BackendBuffer; values: number[] } {
  const gen = dtype === 'float32' ? floatGen(r) : () => r.int(0, 2);
  if (r.next() < 0.15) {
    const offset = r.int(0, 3);
    const base = Array.from({ length: offset + 1 }, gen).map((v) => (dtype === 'float32' ? Math.fround(v) : v));
    const buf = upload(b, dtype, base);
    return { buf, view: { buf, dtype, shape, strides: shape.map(() => 0), offset }, values: new Array<number>(numel(shape)).fill(base[offset]!) };
  }
  const layout: Layout = r.pick(['contiguous', 'random', 'broadcast'] as const);
  return makeView(b, r, dtype, shape, layout, gen);
}

const SHAPES: number[][] = [[], [0], [1], [3], [63], [64], [65], [1031], [7, 9], [4, 0, 3], [2, 3, 5, 7], [33, 40], [5, 1, 13], [2, 2, 2, 2, 3]];

describe('fused: random programs against the primitives one by one', () => {
  it('every op, 1–6 inputs (float32 and bool), strided/broadcast/offset views, 1–3 outputs, sizes 0…1320: bit-identical', async () => {
    const b = getB();
    const r = rng();
    const base = b.memory();
    const seen = new Set<string>();
    const allOps = [...UNARY, ...BINARY, 'where'];
    for (const shape of SHAPES) {
      for (let rep = 0; rep < 5; rep++) {
        const nIn = r.int(1, 7);
        const nOut = r.int(1, Math.min(3, FUSED_MAX_BUFFERS - nIn) + 1);
        // the first three programs of every shape use every op between them
        const force = rep < 3 ? allOps.slice(rep * 14, rep * 14 + 14) : [];
        const program = randomProgram(r, nIn, nOut, Math.max(force.length, r.int(3, 30)), force);
        for (const ins of program.code) seen.add(ins.op);
        const ins = program.inputs.map((d) => inputView(b, r, d, shape));
        const consts = Array.from({ length: program.consts }, () => (r.next() < 0.3 ? r.pick(SPECIALS) : r.normal() * 3));
        const n = numel(shape);
        const outs = program.outputs.map((o) => b.alloc(o.dtype, n));
        b.fused(program, ins.map((i) => i.view), consts, outs);
        const want = await runOneByOne(b, program, ins.map((i) => i.view), consts, n);
        for (let j = 0; j < outs.length; j++) {
          const got = Array.from(await b.read(outs[j]!));
          expectSame(
            `shape [${shape.join(',')}] output ${j} (${program.outputs[j]!.dtype}) of ${program.code.length} instructions, consts [${consts.join(', ')}], program ${program.key}`,
            got,
            want[j]!,
            (i) => ins.map((x) => x.values[i]).join(', '),
          );
        }
        freeAll(b, ...outs, ...ins.map((i) => i.buf));
      }
    }
    for (const op of allOps) expect(seen.has(op), `op ${op} exercised`).toBe(true);
    await b.sync();
    expect(b.memory().bytes).toBe(base.bytes);
    expect(b.memory().buffers).toBe(base.buffers);
  });

  it('deep chains and wide DAGs up to the 96-instruction and 8-buffer limits', async () => {
    const b = getB();
    const r = rng();
    for (const [nIn, nOut] of [[7, 1], [4, 4], [1, 7], [6, 2]] as const) {
      const program = randomProgram(r, nIn, nOut, FUSED_MAX_INSTRUCTIONS - nIn - 4);
      expect(program.code.length).toBeLessThanOrEqual(FUSED_MAX_INSTRUCTIONS);
      const shape = [13, 11];
      const ins = program.inputs.map((d) => inputView(b, r, d, shape));
      const consts = Array.from({ length: program.consts }, () => r.normal());
      const outs = program.outputs.map((o) => b.alloc(o.dtype, 143));
      b.fused(program, ins.map((i) => i.view), consts, outs);
      const want = await runOneByOne(b, program, ins.map((i) => i.view), consts, 143);
      for (let j = 0; j < outs.length; j++) expectSame(`${nIn} in, ${nOut} out, output ${j}`, Array.from(await b.read(outs[j]!)), want[j]!);
      freeAll(b, ...outs, ...ins.map((i) => i.buf));
    }
  });
});

describe('fused: hand-checked programs', () => {
  it('relu(matmulOut + bias) * dropoutMask * 2 with a broadcast bias row and a bool mask', async () => {
    const b = getB();
    const x = upload(b, 'float32', [1, -2, 3, 4, -5, 6]);
    const bias = upload(b, 'float32', [0.5, 1, -10]);
    const mask = upload(b, 'bool', [1, 0, 1, 1, 1, 0]);
    const y = b.alloc('float32', 6);
    const program: FusedProgram = {
      key: 'relu(x+b)*m*c',
      inputs: ['float32', 'float32', 'bool'],
      consts: 1,
      code: [
        { op: 'input', input: 0 },
        { op: 'input', input: 1 },
        { op: 'add', args: [0, 1] },
        { op: 'relu', args: [2] },
        { op: 'input', input: 2 },
        { op: 'mul', args: [3, 4] },
        { op: 'const', slot: 0 },
        { op: 'mul', args: [5, 6] },
      ],
      outputs: [{ value: 7, dtype: 'float32' }],
    };
    b.fused(program, [viewOf(x, [2, 3]), { buf: bias, dtype: 'float32', shape: [2, 3], strides: [0, 1], offset: 0 }, viewOf(mask, [2, 3])], [2], [y]);
    expect(Array.from(await b.read(y))).toEqual([3, 0, 0, 9, 0, 0]);
    freeAll(b, x, bias, mask, y);
  });

  it('an Adam update with three outputs (param, m, v) matches a float64 reference', async () => {
    const b = getB();
    const r = rng();
    const n = 1000;
    const [p0, g, m0, v0] = [0, 1, 2, 3].map(() => Array.from({ length: n }, () => Math.fround(r.normal())));
    const v0a = v0!.map((x) => Math.fround(x * x));
    // consts: lr, beta1, 1-beta1, beta2, 1-beta2, eps, 1/(1-beta1^t), 1/(1-beta2^t)
    const consts = [1e-3, 0.9, 0.1, 0.999, 0.001, 1e-8, 1 / (1 - 0.9 ** 3), 1 / (1 - 0.999 ** 3)];
    const c = (i: number): FusedInstr => ({ op: 'const', slot: i });
    const program: FusedProgram = {
      key: 'adam',
      inputs: ['float32', 'float32', 'float32', 'float32'],
      consts: 8,
      code: [
        { op: 'input', input: 0 }, // 0 p
        { op: 'input', input: 1 }, // 1 g
        { op: 'input', input: 2 }, // 2 m
        { op: 'input', input: 3 }, // 3 v
        c(0), c(1), c(2), c(3), c(4), c(5), c(6), c(7), // 4..11
        { op: 'mul', args: [5, 2] }, // 12 b1·m
        { op: 'mul', args: [6, 1] }, // 13 (1−b1)·g
        { op: 'add', args: [12, 13] }, // 14 m'
        { op: 'mul', args: [7, 3] }, // 15 b2·v
        { op: 'square', args: [1] }, // 16 g²
        { op: 'mul', args: [8, 16] }, // 17 (1−b2)·g²
        { op: 'add', args: [15, 17] }, // 18 v'
        { op: 'mul', args: [14, 10] }, // 19 m̂
        { op: 'mul', args: [18, 11] }, // 20 v̂
        { op: 'sqrt', args: [20] }, // 21
        { op: 'add', args: [21, 9] }, // 22 √v̂ + eps
        { op: 'div', args: [19, 22] }, // 23
        { op: 'mul', args: [4, 23] }, // 24 lr·…
        { op: 'sub', args: [0, 24] }, // 25 p'
      ],
      outputs: [
        { value: 25, dtype: 'float32' },
        { value: 14, dtype: 'float32' },
        { value: 18, dtype: 'float32' },
      ],
    };
    const bufs = [p0!, g!, m0!, v0a].map((a) => upload(b, 'float32', a));
    const outs = [0, 1, 2].map(() => b.alloc('float32', n));
    b.fused(program, bufs.map((x) => viewOf(x, [n])), consts, outs);
    const [pGot, mGot, vGot] = await Promise.all(outs.map((o) => b.read(o)));
    const mRef = m0!.map((m, i) => 0.9 * m + 0.1 * g![i]!);
    const vRef = v0a.map((v, i) => 0.999 * v + 0.001 * g![i]! ** 2);
    const pRef = p0!.map((p, i) => p - 1e-3 * ((mRef[i]! * consts[6]!) / (Math.sqrt(vRef[i]! * consts[7]!) + 1e-8)));
    // float32 arithmetic against float64: a few ulps per step
    // m' = 0.9·m + 0.1·g may cancel: allow 2 float32 ulps of its terms
    expectClose('m', mGot!, mRef, { atol: 1e-7, rtol: 1e-6 }, m0!.map((m, i) => 2 ** -22 * (0.9 * Math.abs(m) + 0.1 * Math.abs(g![i]!))));
    expectClose('v', vGot!, vRef, { atol: 1e-7, rtol: 1e-6 });
    expectClose('param', pGot!, pRef, { atol: 1e-7, rtol: 1e-6 });
    freeAll(b, ...bufs, ...outs);
  });

  it('float32 semantics of the special cases: NaN-propagating max/min, python mod, round half even, sign/relu of NaN, not/and of NaN, where on NaN, bool output of NaN and -0', async () => {
    const b = getB();
    const xs = [NaN, -0, 0, 2.5, -2.5, -7, Infinity];
    const ys = [1, 5, NaN, 2, 2, 3, -Infinity];
    const x = upload(b, 'float32', xs);
    const y = upload(b, 'float32', ys);
    const ops: { op: string; want: number[] }[] = [
      { op: 'max', want: [NaN, 5, NaN, 2.5, 2, 3, Infinity] },
      { op: 'min', want: [NaN, -0, NaN, 2, -2.5, -7, -Infinity] },
      { op: 'mod', want: [NaN, 0, NaN, 0.5, 1.5, 2, NaN] },
      { op: 'round', want: [NaN, -0, 0, 2, -2, -7, Infinity] },
      { op: 'sign', want: [NaN, -0, 0, 1, -1, -1, 1] },
      { op: 'relu', want: [NaN, -0, 0, 2.5, 0, 0, Infinity] },
      { op: 'not', want: [0, 1, 1, 0, 0, 0, 0] },
      { op: 'and', want: [1, 0, 0, 1, 1, 1, 1] },
      { op: 'where', want: [1, 5, NaN, 1, 1, 1, 1] }, // x != 0 ? 1 : y
      { op: 'ne', want: [1, 1, 1, 1, 1, 1, 1] },
      { op: 'le', want: [0, 1, 0, 0, 1, 1, 0] },
    ];
    for (const { op, want } of ops) {
      const code: FusedInstr[] = [{ op: 'input', input: 0 }, { op: 'input', input: 1 }, { op: 'const', slot: 0 }];
      if (op === 'where') code.push({ op: 'where', args: [0, 2, 1] });
      else if (UNARY.includes(op as UnaryOp)) code.push({ op: op as UnaryOp, args: [0] });
      else code.push({ op: op as BinaryOp, args: [0, 1] });
      const program: FusedProgram = { key: `special-${op}`, inputs: ['float32', 'float32'], consts: 1, code, outputs: [{ value: 3, dtype: 'float32' }, { value: 0, dtype: 'bool' }] };
      const o = b.alloc('float32', xs.length);
      const ob = b.alloc('bool', xs.length);
      b.fused(program, [viewOf(x, [7]), viewOf(y, [7])], [1], [o, ob]);
      expectSame(op, Array.from(await b.read(o)), want);
      expect(Array.from(await b.read(ob)), 'bool output stores x != 0 (NaN → 1, -0 → 0)').toEqual([1, 0, 0, 1, 1, 1, 1]);
      freeAll(b, o, ob);
    }
    freeAll(b, x, y);
  });

  it('a program without inputs (constants only) fills its outputs; an empty shape touches nothing', async () => {
    const b = getB();
    const program: FusedProgram = { key: 'const-only', inputs: [], consts: 2, code: [{ op: 'const', slot: 0 }, { op: 'const', slot: 1 }, { op: 'pow', args: [0, 1] }], outputs: [{ value: 2, dtype: 'float32' }] };
    const o = b.alloc('float32', 70);
    b.fused(program, [], [3, 2], [o]);
    expect(Array.from(await b.read(o))).toEqual(new Array(70).fill(9));
    const e = b.alloc('float32', 0);
    const x = b.alloc('float32', 0);
    const before = b.pipelineCount;
    b.fused({ ...program, key: 'empty', inputs: ['float32'], code: [{ op: 'input', input: 0 }, { op: 'exp', args: [0] }], outputs: [{ value: 1, dtype: 'float32' }] }, [viewOf(x, [3, 0])], [0, 0], [e]);
    expect(b.pipelineCount).toBe(before); // nothing compiled, nothing dispatched
    freeAll(b, o, e, x);
  });
});

describe('fused: pipelines, dispatches, limits and memory', () => {
  const axpy: FusedProgram = {
    key: 'a*x+y',
    inputs: ['float32', 'float32'],
    consts: 1,
    code: [{ op: 'const', slot: 0 }, { op: 'input', input: 0 }, { op: 'mul', args: [0, 1] }, { op: 'input', input: 1 }, { op: 'add', args: [2, 3] }],
    outputs: [{ value: 4, dtype: 'float32' }],
  };

  it('repeated calls with one key and new constants reuse one pipeline; each call is one dispatch', async () => {
    const b = getB();
    const x = upload(b, 'float32', [1, 2, 3, 4]);
    const y = upload(b, 'float32', [10, 20, 30, 40]);
    const o = b.alloc('float32', 4);
    const before = b.pipelineCount;
    const internals = b as unknown as { dispatches: number };
    for (const a of [0.5, -3, 1e-3, 7, NaN]) {
      b.flush();
      const d0 = internals.dispatches;
      b.fused(axpy, [viewOf(x, [4]), viewOf(y, [4])], [a], [o]);
      expect(internals.dispatches - d0, 'one dispatch per fused call').toBe(1);
      const want = [1, 2, 3, 4].map((v, i) => Math.fround(Math.fround(Math.fround(a) * v) + (i + 1) * 10));
      expectSame(`a = ${a}`, Array.from(await b.read(o)), want);
      expect(b.pipelineCount - before, 'constants are parameters, not compiled in').toBe(1);
    }
    // the same layout at another size and offset (a new program object with the same key): still one pipeline
    const big = upload(b, 'float32', Array.from({ length: 3001 }, (_, i) => i));
    const o2 = b.alloc('float32', 3000);
    b.fused({ ...axpy }, [{ buf: big, dtype: 'float32', shape: [3000], strides: [1], offset: 1 }, viewOf(big, [3000])], [2], [o2]);
    expect(b.pipelineCount - before).toBe(1);
    const got = await b.read(o2);
    expect([got[0], got[2999]]).toEqual([2 * 1 + 0, 2 * 3000 + 2999]);
    // a new layout variant (a transposed and a broadcast input) compiles once more, then is reused
    const m = upload(b, 'float32', [1, 2, 3, 4, 5, 6]);
    const row = upload(b, 'float32', [100, 200]);
    const o3 = b.alloc('float32', 6);
    for (let i = 0; i < 3; i++) b.fused(axpy, [{ buf: m, dtype: 'float32', shape: [3, 2], strides: [1, 3], offset: 0 }, { buf: row, dtype: 'float32', shape: [3, 2], strides: [0, 1], offset: 0 }], [1], [o3]);
    expect(b.pipelineCount - before).toBe(2);
    expect(Array.from(await b.read(o3))).toEqual([101, 204, 102, 205, 103, 206]);
    freeAll(b, x, y, o, big, o2, m, row, o3);
  });

  it('8 buffers run on a device with the default limit of 8 storage buffers per stage (the parameters are a uniform)', async () => {
    const b = await defaultLimitsBackend();
    try {
      expect(b.limits.maxStorageBuffersPerShaderStage).toBe(8);
      const program: FusedProgram = {
        key: '7 in 1 out',
        inputs: ['float32', 'float32', 'float32', 'float32', 'float32', 'float32', 'bool'],
        consts: 0,
        code: [0, 1, 2, 3, 4, 5, 6].map((k): FusedInstr => ({ op: 'input', input: k })).concat([
          { op: 'add', args: [0, 1] }, { op: 'add', args: [7, 2] }, { op: 'add', args: [8, 3] }, { op: 'add', args: [9, 4] }, { op: 'add', args: [10, 5] }, { op: 'mul', args: [11, 6] },
        ]),
        outputs: [{ value: 12, dtype: 'float32' }],
      };
      const ins = [1, 2, 3, 4, 5, 6].map((v) => upload(b, 'float32', [v, v, v]));
      ins.push(upload(b, 'bool', [1, 0, 1]));
      const o = b.alloc('float32', 3);
      b.fused(program, ins.map((x) => viewOf(x, [3])), [], [o]);
      expect(Array.from(await b.read(o))).toEqual([21, 0, 21]);
      const p2: FusedProgram = { ...program, key: '4 in 4 out', inputs: program.inputs.slice(0, 4), code: program.code.slice(0, 4).concat([{ op: 'add', args: [0, 1] }, { op: 'gt', args: [2, 3] }]), outputs: [{ value: 4, dtype: 'float32' }, { value: 5, dtype: 'bool' }, { value: 0, dtype: 'float32' }, { value: 3, dtype: 'bool' }] };
      const outs = [b.alloc('float32', 3), b.alloc('bool', 3), b.alloc('float32', 3), b.alloc('bool', 3)];
      b.fused(p2, ins.slice(0, 4).map((x) => viewOf(x, [3])), [], outs);
      expect(await Promise.all(outs.map(async (x) => Array.from(await b.read(x))))).toEqual([[3, 3, 3], [0, 0, 0], [1, 1, 1], [1, 1, 1]]);
      // nine buffers are refused before anything is compiled
      const nine: FusedProgram = { ...program, key: 'nine', outputs: [{ value: 12, dtype: 'float32' }, { value: 11, dtype: 'float32' }] };
      expect(() => b.fused(nine, ins.map((x) => viewOf(x, [3])), [], [o, b.alloc('float32', 3)])).toThrow(/fused: .*7 inputs \+ 2 outputs = 9 buffers, at most 8 allowed \(FUSED_MAX_BUFFERS 8; this device's maxStorageBuffersPerShaderStage 8\)/);
      await b.sync();
    } finally {
      b.dispose();
    }
  });

  it('beyond maxFusedPipelines the least recently used fused pipeline is dropped (and compiled again when it returns)', async () => {
    const acq = await acquireDevice();
    const b = new WebGPUBackend(acq, { maxFusedPipelines: 2 });
    try {
      const x = upload(b, 'float32', [1, -2, 3]);
      const o = b.alloc('float32', 3);
      const run = (op: UnaryOp): void => b.fused({ key: op, inputs: ['float32'], consts: 0, code: [{ op: 'input', input: 0 }, { op, args: [0] }], outputs: [{ value: 1, dtype: 'float32' }] }, [viewOf(x, [3])], [], [o]);
      const base = b.pipelineCount;
      run('neg');
      run('abs');
      run('neg'); // neg is now the most recently used
      expect(b.pipelineCount - base).toBe(2);
      run('square'); // drops abs
      expect(b.pipelineCount - base).toBe(2);
      expect(Array.from(await b.read(o))).toEqual([1, 4, 9]);
      run('neg'); // still cached
      expect(b.pipelineCount - base).toBe(2);
      run('abs'); // compiled again (drops square)
      expect(b.pipelineCount - base).toBe(2);
      expect(Array.from(await b.read(o))).toEqual([1, 2, 3]);
      freeAll(b, x, o);
    } finally {
      b.dispose();
    }
  });

  it('memory returns to its baseline: fused allocates nothing of its own', async () => {
    const b = getB();
    await b.sync();
    const base = b.memory();
    const r = rng();
    for (let i = 0; i < 20; i++) {
      const program = randomProgram(r, 2, 2, 10);
      const ins = program.inputs.map((d) => inputView(b, r, d, [17, 5]));
      const outs = program.outputs.map((o) => b.alloc(o.dtype, 85));
      const during = b.memory();
      b.fused(program, ins.map((x) => x.view), Array.from({ length: program.consts }, () => 1.5), outs);
      expect(b.memory()).toEqual(during);
      freeAll(b, ...outs, ...ins.map((x) => x.buf));
    }
    await b.sync();
    expect(b.memory().bytes).toBe(base.bytes);
    expect(b.memory().buffers).toBe(base.buffers);
  });
});

describe('fused: validation', () => {
  const prog: FusedProgram = {
    key: 'x*y>c',
    inputs: ['float32', 'bool'],
    consts: 1,
    code: [{ op: 'input', input: 0 }, { op: 'input', input: 1 }, { op: 'mul', args: [0, 1] }, { op: 'const', slot: 0 }, { op: 'gt', args: [2, 3] }],
    outputs: [{ value: 2, dtype: 'float32' }, { value: 4, dtype: 'bool' }],
  };

  it('bad calls throw an AxonError naming fused and what was expected, and change nothing', async () => {
    const b = getB();
    const x = upload(b, 'float32', [1, 2, 3, 4, 5, 6]);
    const m = upload(b, 'bool', [1, 0, 1, 0, 1, 0]);
    const xf = upload(b, 'float32', [1, 0, 1, 0, 1, 0]);
    const o = b.alloc('float32', 6);
    const ob = b.alloc('bool', 6);
    const o5 = b.alloc('float32', 5);
    const freed = b.alloc('float32', 6);
    b.free(freed);
    const vx = viewOf(x, [2, 3]);
    const vm = viewOf(m, [2, 3]);
    await b.sync();
    const mem = b.memory();
    const pipes = b.pipelineCount;
    const cases: [string, () => void, RegExp][] = [
      ['too few inputs', () => b.fused(prog, [vx], [1], [o, ob]), /expects 2 input view\(s\), got 1/],
      ['too many constants', () => b.fused(prog, [vx, vm], [1, 2], [o, ob]), /expects 1 constant\(s\), got 2/],
      ['missing output', () => b.fused(prog, [vx, vm], [1], [o]), /expects 2 output buffer\(s\), got 1/],
      ['non-number constant', () => b.fused(prog, [vx, vm], ['1' as unknown as number], [o, ob]), /constant 0 must be a number, got '1'/],
      ['input dtype', () => b.fused(prog, [vx, viewOf(xf, [2, 3])], [1], [o, ob]), /input 1 must be a bool view, got a float32 view/],
      ['shape mismatch', () => b.fused(prog, [vx, viewOf(m, [3, 2])], [1], [o, ob]), /every input must have one shape.*\[2,3\].*\[3,2\]/],
      ['output dtype', () => b.fused(prog, [vx, vm], [1], [o, o]), /output 1 must be a bool buffer, got float32/],
      ['output size', () => b.fused(prog, [vx, vm], [1], [o5, ob]), /output 0 holds 5 elements, expected 6 \(shape \[2,3\]\)/],
      ['output aliases an input', () => b.fused(prog, [vx, vm], [1], [x, ob]), /output 0 is also an input's buffer/],
      ['view out of bounds', () => b.fused(prog, [{ ...vx, offset: 1 }, vm], [1], [o, ob]), /input 0 .*reaches element 6 of a 6-element buffer/],
      ['freed buffer', () => b.fused(prog, [viewOf(freed, [2, 3]), vm], [1], [o, ob]), /buffer was freed/],
      ['forward reference', () => b.fused({ ...prog, key: 'fwd', code: [{ op: 'input', input: 0 }, { op: 'neg', args: [1] }] }, [vx, vm], [1], [o, ob]), /instruction 1 \(neg\) uses value 1, expected an earlier value/],
      ['unknown op', () => b.fused({ ...prog, key: 'unk', code: [{ op: 'input', input: 0 }, { op: 'cbrt', args: [0] } as unknown as FusedInstr] }, [vx, vm], [1], [o, ob]), /instruction 1 has unknown op 'cbrt'/],
      ['arity', () => b.fused({ ...prog, key: 'ar', code: [{ op: 'input', input: 0 }, { op: 'add', args: [0] } as unknown as FusedInstr] }, [vx, vm], [1], [o, ob]), /instruction 1 \(add\) needs 2 argument\(s\)/],
      ['input slot', () => b.fused({ ...prog, key: 'slot', code: [{ op: 'input', input: 2 }] }, [vx, vm], [1], [o, ob]), /instruction 0 reads input 2, expected an index below 2/],
      ['const slot', () => b.fused({ ...prog, key: 'cslot', code: [{ op: 'const', slot: 1 }] }, [vx, vm], [1], [o, ob]), /instruction 0 reads constant 1, expected a slot below 1/],
      ['output value', () => b.fused({ ...prog, key: 'oval', outputs: [{ value: 9, dtype: 'float32' }, { value: 0, dtype: 'bool' }] }, [vx, vm], [1], [o, ob]), /output 0 writes value 9, expected a value below 5/],
      ['int32 dtype', () => b.fused({ ...prog, key: 'i32', inputs: ['int32' as FusedDType, 'bool'] }, [vx, vm], [1], [o, ob]), /input 0 has dtype 'int32', expected 'float32' or 'bool'/],
      [
        'too many instructions',
        () => b.fused({ ...prog, key: 'long', code: [{ op: 'input', input: 0 }, ...Array.from({ length: FUSED_MAX_INSTRUCTIONS }, (_, i): FusedInstr => ({ op: 'neg', args: [i] }))] }, [vx, vm], [1], [o, ob]),
        /97 instructions, at most 96 allowed/,
      ],
      ['key reused for another program', () => b.fused({ ...prog, code: [...prog.code.slice(0, 4), { op: 'lt', args: [2, 3] }] }, [vx, vm], [1], [o, ob]), /key 'x\*y>c' was already used for a different program/],
    ];
    // the key is registered by a first good call
    b.fused(prog, [vx, vm], [1], [o, ob]);
    await b.sync();
    const pipesAfterGood = b.pipelineCount;
    expect(pipesAfterGood).toBe(pipes + 1);
    expectAxonErrors('fused', cases);
    expect(b.pipelineCount, 'nothing compiled for a refused call').toBe(pipesAfterGood);
    expect(b.memory()).toEqual(mem);
    expect(Array.from(await b.read(o))).toEqual([1, 0, 3, 0, 5, 0]);
    freeAll(b, x, m, xf, o, ob, o5);
  });
});

describe('fused: generated WGSL', () => {
  it('one kernel: loads per input by its access (contiguous, one element, strided), every argument through its position\'s barrier, stores per output', () => {
    const src = fusedSource(256, { key: 'k', inputs: ['float32', 'float32', 'bool'], consts: 1, code: [{ op: 'input', input: 0 }, { op: 'input', input: 1 }, { op: 'input', input: 2 }, { op: 'const', slot: 0 }, { op: 'sub', args: [0, 0] }, { op: 'where', args: [2, 4, 3] }], outputs: [{ value: 5, dtype: 'float32' }, { value: 4, dtype: 'bool' }] }, 2, ['c', 's', 'r']);
    expect(src).toContain('var<uniform> P: array<vec4<u32>, 64>;');
    // P: n, three zeros, the constant (P[4]), the shape (P[5], P[6]), then per input its offset (+ strides when strided)
    expect(src).toContain('let o0 = P[1].w + gid;');
    expect(src).toContain('let o1 = P[2].x;');
    expect(src).toContain('var q0: u32 = P[2].y;');
    expect(src).toContain('let o2 = q0;');
    expect(src).toContain('let t3 = bitcast<f32>(P[1].x);');
    expect(src).toContain('let t4 = op_sub(opq(t0, z0), opq(t0, z1));');
    expect(src).toContain('let t5 = op_where(opq(t2, z0), opq(t4, z1), opq(t3, z2));');
    expect(src).toContain('fn op_where(a: f32, b: f32, c: f32) -> f32 { return select(c, b, f2b(a) != 0u); }');
    expect(src).toContain('let t2 = f32(I2[o2]);');
    expect(src).toContain('O1[gid] = f2b(t4);');
    expect(src.match(/@compute/g)).toHaveLength(1);
  });
});
