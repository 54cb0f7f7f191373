// fused(program, inputs, consts, outputs): random programs against the same instructions run one
// by one through this backend's unary/binary/where/copy/fill primitives, hand-written chains
// against float32 arithmetic done here, every input layout, errors, the program cache and memory.
// Every program runs both ways: through its generated kernel (src/codegen.ts) where the layout
// allows one, and through the interpreter (`fusedCodegen = false`); the tests check which one ran.
//
// Tolerance: none. The reference runs every instruction as a primitive over contiguous float32
// buffers padded to a multiple of 4 elements, so every element takes the kernels' SIMD path —
// the path the fused interpreter runs every element through (it calls the same kernels, or for
// comparisons, logic, `not` and `sign` SIMD expressions with the kernels' semantics), and the
// generated kernels too (their tail loop runs the same SIMD instructions on one lane). Results
// must match bit for bit (any NaN matches any NaN; −0 and +0 differ). Without the padding, the
// last n mod 4 elements of `exp`, `log`, `tanh`, `sigmoid` and `rsqrt` would take the kernels'
// scalar path, which differs from the SIMD one by a few ulp (and `relu(−0)` gives +0 there, −0
// in SIMD).
import { describe, expect, it } from 'vitest';
import { AxonError, FUSED_MAX_INSTRUCTIONS, contiguousStrides, sizeOf } from '@axon/core';
import type { BackendBuffer, BinaryOp, FusedDType, FusedInstr, FusedProgram, UnaryOp, View } from '@axon/core';
import { createWasmBackendSync } from '../src/index.js';
import type { WasmBackend } from '../src/index.js';
import { CODEGEN_MAX_BYTES, codegenCovers, generateFused } from '../src/codegen.js';
import { compileFused } from '../src/fused.js';
import { SEED, makeRng } from './helpers.js';

const rng = makeRng(SEED ^ 0x2f05ed);
const randInt = (lo: number, hi: number): number => lo + Math.floor(rng() * (hi - lo));
const pick = <T>(xs: readonly T[]): T => xs[randInt(0, xs.length)]!;

const UNARY: readonly UnaryOp[] = ['neg', 'abs', 'sign', 'exp', 'log', 'log1p', 'expm1', 'sqrt', 'rsqrt', 'reciprocal', 'square', 'sin', 'cos', 'tanh', 'erf', 'sigmoid', 'relu', 'floor', 'ceil', 'round', 'not'];
const ARITH: readonly BinaryOp[] = ['add', 'sub', 'mul', 'div', 'pow', 'max', 'min', 'mod'];
const COMPARE: readonly BinaryOp[] = ['eq', 'ne', 'lt', 'le', 'gt', 'ge'];
const LOGIC: readonly BinaryOp[] = ['and', 'or', 'xor'];
const BINARY: readonly BinaryOp[] = [...ARITH, ...COMPARE, ...LOGIC];

/** Float32 values: ordinary ones, ties and small integers (round, mod, eq), and specials. */
function value(): number {
  const r = rng();
  if (r < 0.1) return pick([NaN, Infinity, -Infinity, 0, -0]);
  if (r < 0.35) return pick([-3, -2.5, -2, -1.5, -1, -0.5, 0.5, 1, 1.5, 2, 2.5, 3, 1e-30, -1e30]);
  return Math.fround((rng() * 2 - 1) * pick([1, 4, 40]));
}

function boolValue(): number {
  return rng() < 0.5 ? 1 : 0;
}

/** A random program: `nIn` inputs, `nOut` outputs, about `len` instructions over every op. */
function randomProgram(nIn: number, nOut: number, len: number, key: string): FusedProgram {
  const inputs: FusedDType[] = Array.from({ length: nIn }, () => (rng() < 0.3 ? 'bool' : 'float32'));
  const consts = randInt(0, 4);
  const code: FusedInstr[] = [];
  for (let k = 0; k < nIn; k++) code.push({ op: 'input', input: k });
  const arg = (): number => (rng() < 0.6 ? randInt(Math.max(0, code.length - 4), code.length) : randInt(0, code.length));
  while (code.length < len) {
    const r = rng();
    if (r < 0.05) code.push({ op: 'input', input: randInt(0, nIn) }); // a duplicate load
    else if (r < 0.12 && consts > 0) code.push({ op: 'const', slot: randInt(0, consts) });
    else if (r < 0.45) code.push({ op: pick(UNARY), args: [arg()] });
    else if (r < 0.92) code.push({ op: pick(BINARY), args: [arg(), arg()] });
    else code.push({ op: 'where', args: [arg(), arg(), arg()] });
  }
  const outputs = Array.from({ length: nOut }, (_, j) => ({
    // the last value, then any (inputs and constants included)
    value: j === 0 ? code.length - 1 : randInt(0, code.length),
    dtype: (rng() < 0.3 ? 'bool' : 'float32') as FusedDType,
  }));
  return { key, inputs, consts, code, outputs };
}

/** A view of `shape` over a fresh buffer with the given strides and offset, and its logical values. */
function stridedView(be: WasmBackend, dtype: FusedDType, shape: readonly number[], strides: readonly number[], offset: number): View {
  let last = offset;
  for (let d = 0; d < shape.length; d++) last += Math.max(0, shape[d]! - 1) * strides[d]!;
  const size = sizeOf(shape) === 0 ? offset : last + 1 + randInt(0, 3);
  const buf = be.alloc(dtype, size);
  const host = dtype === 'bool' ? new Uint8Array(size) : new Float32Array(size);
  for (let i = 0; i < size; i++) host[i] = dtype === 'bool' ? boolValue() : value();
  be.write(buf, host);
  return { buf, dtype, shape: [...shape], strides: [...strides], offset };
}

type Layout = 'contiguous' | 'transposed' | 'sliced' | 'scalar' | 'row' | 'column' | 'broadcast';
const LAYOUTS: readonly Layout[] = ['contiguous', 'transposed', 'sliced', 'scalar', 'row', 'column', 'broadcast'];

function layoutView(be: WasmBackend, dtype: FusedDType, shape: readonly number[], layout: Layout): View {
  const rank = shape.length;
  const offset = layout === 'contiguous' ? 0 : randInt(0, 4);
  if (layout === 'contiguous') return stridedView(be, dtype, shape, contiguousStrides(shape), 0);
  if (layout === 'scalar') return stridedView(be, dtype, shape, shape.map(() => 0), offset);
  if (layout === 'transposed' || layout === 'sliced') {
    // reversed dims (transposed) or padded rows (sliced)
    const perm = [...Array(rank).keys()];
    if (layout === 'transposed') perm.reverse();
    const phys = perm.map((d) => shape[d]! + (layout === 'sliced' ? randInt(0, 3) : 0));
    const ps = contiguousStrides(phys);
    const strides = new Array<number>(rank);
    for (let p = 0; p < rank; p++) strides[perm[p]!] = ps[p]!;
    return stridedView(be, dtype, shape, strides, offset);
  }
  // broadcasts: `row` reads the last dim only ([N] over [.., N], a bias), `column` every dim but
  // the last ([M, 1] over [M, N]), `broadcast` a random subset of dims
  const keep = shape.map((_, d) => (layout === 'row' ? d === rank - 1 : layout === 'column' ? d < rank - 1 : rng() < 0.5));
  const inner = shape.map((n, d) => (keep[d] ? n : 1));
  const cs = contiguousStrides(inner);
  return stridedView(be, dtype, shape, shape.map((_, d) => (keep[d] ? cs[d]! : 0)), offset);
}

/**
 * Runs the program's instructions one by one with the backend's primitives (float32 values in
 * buffers padded to a multiple of 4; logic and `not` through bool copies, as the fused ops are
 * defined) and returns each output's contents.
 */
function reference(be: WasmBackend, p: FusedProgram, inputs: readonly View[], consts: readonly number[], shape: readonly number[]): (Float32Array | Uint8Array)[] {
  const n = sizeOf(shape);
  const P = Math.max(4, Math.ceil(n / 4) * 4);
  const temps: BackendBuffer[] = [];
  const f32 = (): BackendBuffer => {
    const b = be.alloc('float32', P);
    be.fill(b, 0);
    temps.push(b);
    return b;
  };
  const bool = (): BackendBuffer => {
    const b = be.alloc('bool', P);
    temps.push(b);
    return b;
  };
  const w = (b: BackendBuffer): View => ({ buf: b, dtype: b.dtype, shape: [P], strides: [1], offset: 0 });
  const toBool = (b: BackendBuffer): BackendBuffer => {
    const o = bool();
    be.copy(w(b), w(o));
    return o;
  };
  const toF32 = (b: BackendBuffer): BackendBuffer => {
    const o = f32();
    be.copy(w(b), w(o));
    return o;
  };
  const vals: BackendBuffer[] = [];
  for (const ins of p.code) {
    let o: BackendBuffer;
    if (ins.op === 'input') {
      o = f32();
      if (n > 0) be.copy(inputs[ins.input]!, { buf: o, dtype: 'float32', shape: [...shape], strides: contiguousStrides(shape), offset: 0 });
    } else if (ins.op === 'const') {
      o = f32();
      be.fill(o, consts[ins.slot]!);
    } else if (ins.op === 'where') {
      o = f32();
      be.where(w(toBool(vals[ins.args[0]]!)), w(vals[ins.args[1]]!), w(vals[ins.args[2]]!), o);
    } else if (ins.op === 'not') {
      const r = bool();
      be.unary('not', w(toBool(vals[ins.args[0]]!)), r);
      o = toF32(r);
    } else if (ins.args.length === 1) {
      o = f32();
      be.unary(ins.op as UnaryOp, w(vals[ins.args[0]]!), o);
    } else {
      const op = ins.op as BinaryOp;
      const [a, b] = [vals[ins.args[0]]!, vals[ins.args[1]!]!];
      if (COMPARE.includes(op)) {
        const r = bool();
        be.binary(op, w(a), w(b), r);
        o = toF32(r);
      } else if (LOGIC.includes(op)) {
        const r = bool();
        be.binary(op, w(toBool(a)), w(toBool(b)), r);
        o = toF32(r);
      } else {
        o = f32();
        be.binary(op, w(a), w(b), o);
      }
    }
    vals.push(o);
  }
  const out = p.outputs.map((o) => {
    const v = vals[o.value]!;
    return be.readSync(o.dtype === 'bool' ? toBool(v) : v).slice(0, n) as Float32Array | Uint8Array;
  });
  for (const t of temps) be.free(t);
  return out;
}

/** Bit-for-bit equality (any NaN matches any NaN; −0 ≠ +0); returns the first mismatch or ''. */
function mismatch(got: ArrayLike<number>, want: ArrayLike<number>): string {
  if (got.length !== want.length) return `length ${got.length} ≠ ${want.length}`;
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!;
    const x = want[i]!;
    if (Number.isNaN(g) && Number.isNaN(x)) continue;
    const show = (v: number): string => (Object.is(v, -0) ? '-0' : String(v));
    if (!Object.is(g, x)) return `[${i}] got ${show(g)}, want ${show(x)}`;
  }
  return '';
}

/** How `fused` runs a program: its generated kernel where the layout allows one, or the interpreter. */
type Path = 'codegen' | 'interpreter';
const PATHS: readonly Path[] = ['codegen', 'interpreter'];

/**
 * Whether the inputs' layout gets a generated kernel, worked out here independently of the backend:
 * after dropping size-1 dims and merging dims that every input walks contiguously, at most 3 dims
 * remain and every input's innermost stride is 1 (contiguous) or 0 (broadcast).
 */
function generable(inputs: readonly View[], shape: readonly number[]): boolean {
  const dims: number[] = [];
  const st: number[][] = inputs.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    const n = shape[d]!;
    if (n === 1) continue;
    const r = dims.length;
    if (r > 0 && inputs.every((v, k) => st[k]![r - 1] === v.strides[d]! * n)) {
      dims[r - 1]! *= n;
      inputs.forEach((v, k) => (st[k]![r - 1] = v.strides[d]!));
      continue;
    }
    dims.push(n);
    inputs.forEach((v, k) => st[k]!.push(v.strides[d]!));
  }
  return dims.length <= 3 && st.every((s) => s.length === 0 || s[s.length - 1] === 0 || s[s.length - 1] === 1);
}

/**
 * Runs `fused` the given way and the reference; fails with the program when they differ, or when
 * the call did not run the way `generable` says it must (a generated kernel for a generable layout
 * unless the module is too large, the interpreter otherwise or when asked for).
 */
function check(be: WasmBackend, p: FusedProgram, inputs: readonly View[], consts: readonly number[], shape: readonly number[], what: string, path: Path = 'codegen'): void {
  const n = sizeOf(shape);
  const outs = p.outputs.map((o) => be.alloc(o.dtype, n));
  be.fusedCodegen = path === 'codegen';
  const before = be.fusedRuns;
  be.fused(p, inputs, consts, outs);
  const after = be.fusedRuns;
  be.fusedCodegen = true;
  expect([after.uncovered, after.failed], `${what}: every op is generated and every module compiles`).toEqual([0, 0]);
  if (n > 0) {
    const tooLarge = after.tooLarge > before.tooLarge;
    const generated = path === 'codegen' && generable(inputs, shape) && !tooLarge;
    expect([after.generated - before.generated, after.interpreted - before.interpreted], `${what} (${path}, shape [${shape.join(',')}], strides ${inputs.map((v) => `[${v.strides.join(',')}]`).join(' ')})`).toEqual(generated ? [1, 0] : [0, 1]);
  }
  const want = reference(be, p, inputs, consts, shape);
  outs.forEach((o, j) => {
    const m = mismatch(be.readSync(o), want[j]!);
    if (m !== '') {
      const layouts = inputs.map((v) => `${v.dtype} strides [${v.strides.join(',')}] offset ${v.offset}`).join('; ');
      expect.fail(`${what}: output ${j} (${p.outputs[j]!.dtype}) ${m}\nshape [${shape.join(',')}], inputs: ${layouts}, consts [${consts.join(',')}]\nprogram ${JSON.stringify(p.code)} → ${JSON.stringify(p.outputs)} (seed ${SEED})`);
    }
    be.free(o);
  });
}

/** Runs `call` (one fused call) the given way and checks that it ran that way. */
function runAs(be: WasmBackend, path: Path, call: () => void): void {
  be.fusedCodegen = path === 'codegen';
  const before = be.fusedRuns;
  try {
    call();
  } finally {
    be.fusedCodegen = true;
  }
  const after = be.fusedRuns;
  expect([after.generated - before.generated, after.interpreted - before.interpreted], `the call ran ${path === 'codegen' ? 'its generated kernel' : 'in the interpreter'}`).toEqual(path === 'codegen' ? [1, 0] : [0, 1]);
}

const SHAPES: readonly (readonly number[])[] = [
  [0], [1], [3], [15], [16], [17], [255], [256], [257], [1000], [4099],
  [], [1, 1], [0, 5], [3, 0], [3, 5], [16, 16], [17, 15], [33, 31], [2, 257], [257, 2], [40, 130], [32, 10],
  [2, 3, 4], [5, 1, 67], [3, 17, 19], [2, 2, 3, 65],
];

describe(`fused (seed ${SEED})`, () => {
  it('random programs over every op, mixed float32/bool inputs in every layout, equal the primitives bit for bit (generated and interpreted)', () => {
    const be = createWasmBackendSync();
    let cases = 0;
    for (const shape of SHAPES) {
      for (let rep = 0; rep < 10; rep++) {
        const nIn = randInt(1, 7);
        // up to 6 inputs and 3 outputs: past WebGPU's 8 buffers (this backend takes 8 + 8)
        const nOut = randInt(1, Math.min(3, be.maxFusedBuffers - nIn) + 1);
        const p = randomProgram(nIn, nOut, nIn + randInt(1, 20), `random-${cases}`);
        const inputs = p.inputs.map((d) => layoutView(be, d, shape, shape.length === 0 ? 'contiguous' : pick(LAYOUTS)));
        const consts = Array.from({ length: p.consts }, () => (rng() < 0.8 ? value() : pick([0.9, 0.999, 1e-8, 2])));
        for (const path of PATHS) check(be, p, inputs, consts, shape, `random program ${cases}`, path);
        for (const v of inputs) be.free(v.buf);
        cases++;
      }
    }
    expect(be.memory()).toMatchObject({ bytes: 0, buffers: 0 });
    // most layouts are generable: both ways were well exercised
    const runs = be.fusedRuns;
    expect(runs.generated).toBeGreaterThan(cases / 3);
    expect(runs.interpreted).toBeGreaterThan(cases);
    expect(runs.tooLarge).toBe(0); // ≤ 26 instructions always fit
    be.dispose();
  });

  it('long programs (up to 96 instructions, many live values) across block edges', () => {
    const be = createWasmBackendSync();
    for (let rep = 0; rep < 12; rep++) {
      const shape = pick([[255], [256], [257], [513], [1000], [31, 33]]);
      const p = randomProgram(randInt(1, 5), randInt(1, 4), rep < 4 ? FUSED_MAX_INSTRUCTIONS : randInt(40, 96), `long-${rep}`);
      // many outputs read early values, so many registers stay live
      const inputs = p.inputs.map((d) => layoutView(be, d, shape, pick(LAYOUTS)));
      const consts = Array.from({ length: p.consts }, value);
      for (const path of PATHS) check(be, p, inputs, consts, shape, `long program ${rep}`, path);
      for (const v of inputs) be.free(v.buf);
    }
    be.dispose();
  });

  it('other block sizes (16 to 1024 lanes) give the same results', () => {
    const be = createWasmBackendSync();
    for (const lanes of [16, 48, 1024]) {
      be.fusedBlock = lanes;
      for (let rep = 0; rep < 25; rep++) {
        const shape = pick(SHAPES);
        const p = randomProgram(randInt(1, 5), randInt(1, 3), randInt(3, 25), `block-${lanes}-${rep}`);
        const inputs = p.inputs.map((d) => layoutView(be, d, shape, shape.length === 0 ? 'contiguous' : pick(LAYOUTS)));
        check(be, p, inputs, Array.from({ length: p.consts }, value), shape, `block ${lanes}, program ${rep}`);
        for (const v of inputs) be.free(v.buf);
      }
    }
    expect(() => (be.fusedBlock = 100)).toThrow(/fused: the block size must be a multiple of 16/);
    be.dispose();
  });

  it('an op may overwrite a register it reads (where included) while writing into an output', () => {
    // regression: `where` read its third operand's address after its destination had replaced it
    const be = createWasmBackendSync();
    const programs: [FusedInstr[], { value: number; dtype: FusedDType }[]][] = [
      [[{ op: 'input', input: 0 }, { op: 'where', args: [0, 0, 0] }, { op: 'where', args: [1, 1, 1] }], [{ value: 2, dtype: 'bool' }, { value: 2, dtype: 'float32' }]],
      [[{ op: 'input', input: 0 }, { op: 'neg', args: [0] }, { op: 'where', args: [0, 0, 1] }], [{ value: 2, dtype: 'float32' }]],
      [[{ op: 'input', input: 0 }, { op: 'neg', args: [0] }, { op: 'where', args: [1, 0, 1] }, { op: 'add', args: [2, 2] }], [{ value: 3, dtype: 'float32' }, { value: 2, dtype: 'float32' }]],
    ];
    programs.forEach(([code, outputs], i) => {
      for (const shape of [[256], [1000], [64, 16]]) {
        const x = stridedView(be, 'float32', shape, contiguousStrides(shape), 0);
        for (const path of PATHS) check(be, { key: `inplace-${i}`, inputs: ['float32'], consts: 0, code, outputs }, [x], [], shape, `in-place program ${i}`, path);
        be.free(x.buf);
      }
    });
    be.dispose();
  });

  it('views that keep more than 8 dims after merging (outer dims looped)', () => {
    const be = createWasmBackendSync();
    const shape = [2, 3, 2, 3, 2, 3, 2, 3, 2, 5];
    const strides = contiguousStrides([...shape].reverse()).reverse(); // fully transposed: nothing merges
    for (let rep = 0; rep < 4; rep++) {
      const p = randomProgram(3, 2, 12, `rank10-${rep}`);
      const inputs = p.inputs.map((d, k) => (k === 0 ? stridedView(be, d, shape, strides, 1) : layoutView(be, d, shape, pick(LAYOUTS))));
      check(be, p, inputs, Array.from({ length: p.consts }, value), shape, `rank-10 program ${rep}`);
      for (const v of inputs) be.free(v.buf);
    }
    be.dispose();
  });

  it('relu(x·W + b) · mask · 2 and an Adam update (3 outputs) equal float32 arithmetic done here', () => {
    const be = createWasmBackendSync();
    const f = Math.fround;
    // relu(h + bias) * mask * scale: h [32, 128], bias [128] broadcast over rows, mask bool
    const [M, N] = [32, 128];
    const h = stridedView(be, 'float32', [M, N], [N, 1], 0);
    const bias = stridedView(be, 'float32', [M, N], [0, 1], 2);
    const mask = stridedView(be, 'bool', [M, N], [N, 1], 0);
    const chain: FusedProgram = {
      key: 'relu-bias-dropout',
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
    const hv = be.readSync(h.buf);
    const bv = be.readSync(bias.buf);
    const mv = be.readSync(mask.buf);
    const want = new Float32Array(M * N);
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        const s = f(hv[i * N + j]! + bv[2 + j]!);
        const r = Number.isNaN(s) ? s : s < 0 || Object.is(s, -0) ? (s < 0 ? 0 : -0) : s; // SIMD relu: pmax(x, 0) keeps −0
        want[i * N + j] = f(f(r * mv[i * N + j]!) * 2);
      }
    }
    for (const path of PATHS) {
      const out = be.alloc('float32', M * N);
      runAs(be, path, () => be.fused(chain, [h, bias, mask], [2], [out]));
      expect(mismatch(be.readSync(out), want), `relu chain, ${path} (seed ${SEED})`).toBe('');
      be.free(out);
    }

    // Adam: m' = b1·m + (1−b1)·g; v' = b2·v + (1−b2)·g²; p' = p − lr·m'/(√v' + eps)
    const n = 1000;
    const [p0, g0, m0, v0] = ['p', 'g', 'm', 'v'].map(() => stridedView(be, 'float32', [n], [1], 0));
    const adam: FusedProgram = {
      key: 'adam',
      inputs: ['float32', 'float32', 'float32', 'float32'],
      consts: 6, // b1, 1−b1, b2, 1−b2, lr, eps
      code: [
        { op: 'input', input: 0 }, // 0 p
        { op: 'input', input: 1 }, // 1 g
        { op: 'input', input: 2 }, // 2 m
        { op: 'input', input: 3 }, // 3 v
        { op: 'const', slot: 0 }, // 4
        { op: 'const', slot: 1 }, // 5
        { op: 'const', slot: 2 }, // 6
        { op: 'const', slot: 3 }, // 7
        { op: 'const', slot: 4 }, // 8
        { op: 'const', slot: 5 }, // 9
        { op: 'mul', args: [4, 2] }, // 10 b1·m
        { op: 'mul', args: [5, 1] }, // 11 (1−b1)·g
        { op: 'add', args: [10, 11] }, // 12 m'
        { op: 'mul', args: [6, 3] }, // 13 b2·v
        { op: 'square', args: [1] }, // 14 g²
        { op: 'mul', args: [7, 14] }, // 15
        { op: 'add', args: [13, 15] }, // 16 v'
        { op: 'sqrt', args: [16] }, // 17
        { op: 'add', args: [17, 9] }, // 18
        { op: 'div', args: [12, 18] }, // 19
        { op: 'mul', args: [8, 19] }, // 20
        { op: 'sub', args: [0, 20] }, // 21 p'
      ],
      outputs: [
        { value: 21, dtype: 'float32' },
        { value: 12, dtype: 'float32' },
        { value: 16, dtype: 'float32' },
      ],
    };
    const c = [0.9, 0.1, 0.999, 0.001, 1e-3, 1e-8];
    // v must be ≥ 0 for a finite update
    be.write(v0.buf, be.readSync(v0.buf).map((x) => (Number.isNaN(x) ? x : Math.abs(x))));
    const [P, G, Mv, V] = [p0, g0, m0, v0].map((v) => be.readSync(v.buf));
    const [b1, nb1, b2, nb2, lr, eps] = c.map(f);
    const wp = new Float32Array(n);
    const wm = new Float32Array(n);
    const wv = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      wm[i] = f(f(b1! * Mv![i]!) + f(nb1! * G![i]!));
      wv[i] = f(f(b2! * V![i]!) + f(nb2! * f(G![i]! * G![i]!)));
      wp[i] = f(P![i]! - f(lr! * f(wm[i]! / f(f(Math.sqrt(wv[i]!)) + eps!))));
    }
    for (const path of PATHS) {
      const outs = [0, 1, 2].map(() => be.alloc('float32', n));
      runAs(be, path, () => be.fused(adam, [p0, g0, m0, v0], c, outs));
      [wp, wm, wv].forEach((want, j) => expect(mismatch(be.readSync(outs[j]!), want), `adam output ${j}, ${path} (seed ${SEED})`).toBe(''));
    }
    be.dispose();
  });

  it('semantics the program format defines: logic on any float, not, where with a NaN condition, bool outputs', () => {
    const be = createWasmBackendSync();
    const xs = [0, -0, 1, -2.5, NaN, Infinity, 0.5];
    const ys = [0, 3, 0, NaN, 0, -0, 2];
    const x = be.alloc('float32', xs.length);
    const y = be.alloc('float32', ys.length);
    be.write(x, new Float32Array(xs));
    be.write(y, new Float32Array(ys));
    const xv: View = { buf: x, dtype: 'float32', shape: [7], strides: [1], offset: 0 };
    const yv: View = { ...xv, buf: y };
    const t = (v: number): boolean => v !== 0; // nonzero, NaN included, is true
    const cases: [FusedInstr, FusedDType, number[]][] = [
      [{ op: 'and', args: [0, 1] }, 'float32', xs.map((a, i) => +(t(a) && t(ys[i]!)))],
      [{ op: 'or', args: [0, 1] }, 'float32', xs.map((a, i) => +(t(a) || t(ys[i]!)))],
      [{ op: 'xor', args: [0, 1] }, 'float32', xs.map((a, i) => +(t(a) !== t(ys[i]!)))],
      [{ op: 'not', args: [0] }, 'float32', xs.map((a) => +(a === 0))], // not NaN = 0
      [{ op: 'where', args: [0, 1, 0] }, 'float32', xs.map((a, i) => (t(a) ? ys[i]! : a))],
      [{ op: 'sign', args: [0] }, 'float32', [0, 0, 1, -1, NaN, 1, 1]], // sign(±0) = +0
      [{ op: 'relu', args: [0] }, 'float32', [0, -0, 1, 0, NaN, Infinity, 0.5]], // −0 stays (the SIMD kernel's pmax)
      [{ op: 'lt', args: [0, 1] }, 'float32', xs.map((a, i) => +(a < ys[i]!))],
      [{ op: 'neg', args: [0] }, 'bool', xs.map((a) => +t(a))], // a bool output stores value != 0
    ];
    for (const [ins, dtype, want] of cases) {
      const p: FusedProgram = { key: `semantics-${ins.op}`, inputs: ['float32', 'float32'], consts: 0, code: [{ op: 'input', input: 0 }, { op: 'input', input: 1 }, ins], outputs: [{ value: 2, dtype }] };
      for (const path of PATHS) {
        const out = be.alloc(dtype, xs.length);
        runAs(be, path, () => be.fused(p, [xv, yv], [], [out]));
        expect(mismatch(be.readSync(out), want), `${ins.op} → ${dtype}, ${path} (seed ${SEED})`).toBe('');
      }
    }
    be.dispose();
  });

  it('one compiled program per key: a second call reuses it (constants change per call), the cache is bounded', () => {
    const be = createWasmBackendSync();
    const x = be.alloc('float32', 300);
    be.write(x, new Float32Array(300).map((_, i) => i));
    const xv: View = { buf: x, dtype: 'float32', shape: [300], strides: [1], offset: 0 };
    const out = be.alloc('float32', 300);
    const axpb: FusedProgram = {
      key: 'x*a+b',
      inputs: ['float32'],
      consts: 2,
      code: [{ op: 'input', input: 0 }, { op: 'const', slot: 0 }, { op: 'mul', args: [0, 1] }, { op: 'const', slot: 1 }, { op: 'add', args: [2, 3] }],
      outputs: [{ value: 4, dtype: 'float32' }],
    };
    be.fused(axpb, [xv], [2, 1], [out]);
    expect(be.readSync(out)[299]).toBe(599);
    const held = be.fusedHeldBytes;
    expect(be.fusedCachedPrograms).toBe(1);
    // the same key: nothing of the program but its key is read again
    const sameKey = { key: 'x*a+b' } as FusedProgram;
    for (const f of ['inputs', 'consts', 'code', 'outputs']) {
      Object.defineProperty(sameKey, f, {
        get() {
          throw new Error(`program.${f} read again`);
        },
      });
    }
    be.fused(sameKey, [xv], [-1, 0.5], [out]);
    expect(be.readSync(out)[299]).toBe(-298.5);
    expect(be.fusedCachedPrograms).toBe(1);
    expect(be.fusedHeldBytes).toBe(held);
    // without the cache the second call would have read program.code
    const fresh = createWasmBackendSync();
    const fo = fresh.alloc('float32', 1);
    const fx = fresh.alloc('float32', 1);
    expect(() => fresh.fused(sameKey, [{ ...xv, buf: fx, shape: [1] }], [1, 1], [fo])).toThrow('program.inputs read again');
    fresh.dispose();
    // 300 distinct programs: at most 256 kept, the oldest dropped (and recompiled when used again)
    for (let i = 0; i < 300; i++) be.fused({ ...axpb, key: `prog-${i}` }, [xv], [i, 0], [out]);
    expect(be.fusedCachedPrograms).toBe(256);
    be.fused({ ...axpb, key: 'prog-0' }, [xv], [3, 0], [out]);
    expect(be.readSync(out)[10]).toBe(30);
    be.dispose();
  });

  it('memory: fused allocates no buffers, holds a bounded scratch, and dispose gives it all back', () => {
    const be = createWasmBackendSync();
    const m0 = be.memory();
    const lin0 = be.linearMemoryBytes;
    const heap = (be as unknown as { heap: { pooledBytes: number } }).heap;
    const bufs: BackendBuffer[] = [];
    for (let rep = 0; rep < 40; rep++) {
      const shape = pick(SHAPES);
      const p = randomProgram(randInt(1, 5), randInt(1, 3), randInt(3, 30), `mem-${rep % 7}-${rep}`);
      const inputs = p.inputs.map((d) => layoutView(be, d, shape, shape.length === 0 ? 'contiguous' : pick(LAYOUTS)));
      const outs = p.outputs.map((o) => be.alloc(o.dtype, sizeOf(shape)));
      const before = be.memory();
      be.fused(p, inputs, Array.from({ length: p.consts }, value), outs);
      expect(be.memory(), 'fused counts no buffers of its own').toMatchObject({ bytes: before.bytes, buffers: before.buffers });
      bufs.push(...inputs.map((v) => v.buf), ...outs);
    }
    // steady state: the same calls again hold no more memory
    const held = be.fusedHeldBytes;
    const lin = be.linearMemoryBytes;
    expect(held).toBeGreaterThan(0);
    for (const b of bufs) be.free(b);
    expect(be.memory()).toMatchObject({ bytes: m0.bytes, buffers: m0.buffers });
    // what fused holds is exactly what the pool lacks (the heap may have grown meanwhile)
    expect(be.memory().pooledBytes! + held).toBe(m0.pooledBytes! + (lin - lin0));
    be.dispose();
    expect(be.fusedHeldBytes).toBe(0);
    expect(be.memory()).toEqual({ bytes: 0, buffers: 0, pooledBytes: 0 });
    // the allocator got every fused block back: its free space is the baseline's plus the growth
    expect(heap.pooledBytes).toBe(m0.pooledBytes! + (lin - lin0));
  });

  it('repeated calls take no memory in the steady state', () => {
    const be = createWasmBackendSync();
    const p = randomProgram(3, 2, 15, 'steady');
    const shape = [32, 128];
    const inputs = p.inputs.map((d, k) => layoutView(be, d, shape, (['contiguous', 'row', 'transposed'] as const)[k]!));
    const outs = p.outputs.map((o) => be.alloc(o.dtype, sizeOf(shape)));
    const consts = Array.from({ length: p.consts }, value);
    be.fused(p, inputs, consts, outs);
    const [held, lin, mem] = [be.fusedHeldBytes, be.linearMemoryBytes, be.memory()];
    for (let i = 0; i < 200; i++) be.fused(p, inputs, consts, outs);
    expect([be.fusedHeldBytes, be.linearMemoryBytes, be.memory()]).toEqual([held, lin, mem]);
    be.dispose();
  });

  it('runs the same on backends with and without the relaxed-SIMD matmul module', () => {
    const p = randomProgram(3, 2, 20, 'relaxed');
    const results = [false, true].map((relaxedSimd) => {
      const be = createWasmBackendSync({ relaxedSimd });
      const xs = p.inputs.map((d) => {
        const b = be.alloc(d, 40);
        be.write(b, d === 'bool' ? new Uint8Array(40).map((_, i) => i % 2) : new Float32Array(40).map((_, i) => (i - 20) / 3));
        return { buf: b, dtype: d, shape: [4, 10], strides: [10, 1], offset: 0 };
      });
      const outs = p.outputs.map((o) => be.alloc(o.dtype, 40));
      be.fused(p, xs, Array.from({ length: p.consts }, (_, i) => i + 0.5), outs);
      const r = outs.map((o) => Array.from(be.readSync(o)));
      be.dispose();
      return r;
    });
    expect(results[1]).toEqual(results[0]);
  });

  describe('bad calls throw an AxonError naming fused and change nothing', () => {
    const be = createWasmBackendSync();
    const other = createWasmBackendSync();
    const f = (n: number): BackendBuffer => {
      const b = be.alloc('float32', n);
      be.fill(b, 7);
      return b;
    };
    const view = (buf: BackendBuffer, shape: number[], strides = contiguousStrides(shape), offset = 0): View => ({ buf, dtype: buf.dtype, shape, strides, offset });
    const add: FusedProgram = {
      key: 'add-bool',
      inputs: ['float32', 'bool'],
      consts: 1,
      code: [{ op: 'input', input: 0 }, { op: 'input', input: 1 }, { op: 'add', args: [0, 1] }, { op: 'const', slot: 0 }, { op: 'mul', args: [2, 3] }],
      outputs: [{ value: 4, dtype: 'float32' }, { value: 2, dtype: 'bool' }],
    };
    const x = f(6);
    const m = be.alloc('bool', 6);
    be.fill(m, 1);
    const o1 = f(6);
    const o2 = be.alloc('bool', 6);
    be.fill(o2, 0);
    const good = (): [View[], number[], BackendBuffer[]] => [[view(x, [2, 3]), view(m, [2, 3])], [2], [o1, o2]];
    const five = f(5);
    const six = f(6);
    const freed = f(6);
    be.free(freed);
    const cases: [string, () => void, RegExp][] = [
      ['input count', () => be.fused(add, [view(x, [2, 3])], [2], [o1, o2]), /fused: the program reads 2 inputs, got 1 views/],
      ['output count', () => be.fused(add, good()[0], [2], [o1]), /fused: the program writes 2 outputs, got 1 buffers/],
      ['constant count', () => be.fused(add, good()[0], [], [o1, o2]), /fused: the program takes 1 constant, got 0/],
      ['constant type', () => be.fused(add, good()[0], ['2' as unknown as number], [o1, o2]), /fused: constant 0 must be a number, got '2'/],
      ['input dtype', () => be.fused(add, [view(x, [2, 3]), view(x, [2, 3])], [2], [o1, o2]), /fused: input 1 is 'float32', the program declares bool/],
      ['input shape', () => be.fused(add, [view(x, [2, 3]), view(m, [3, 2])], [2], [o1, o2]), /fused: input 1 has shape \[3,2\], expected \[2,3\]/],
      ['view past its buffer', () => be.fused(add, [view(x, [2, 3], [3, 1], 1), view(m, [2, 3])], [2], [o1, o2]), /fused: view .* reaches element 6 of a 6-element buffer/],
      ['output size', () => be.fused(add, good()[0], [2], [five, o2]), /fused: output 0 holds 5 elements, expected 6 \(shape \[2,3\]\)/],
      ['output dtype', () => be.fused(add, good()[0], [2], [o1, six]), /fused: output 1 is a float32 buffer, the program writes bool/],
      ['output aliases an input', () => be.fused(add, good()[0], [2], [x, o2]), /fused: output 0 is the buffer of input 0/],
      ['the same output twice', () => be.fused({ ...add, key: 'twice', outputs: [{ value: 4, dtype: 'float32' }, { value: 2, dtype: 'float32' }] }, good()[0], [2], [o1, o1]), /fused: outputs 0 and 1 are the same buffer/],
      ['foreign buffer', () => be.fused(add, good()[0], [2], [other.alloc('float32', 6), o2]), /fused: buffer does not belong to this wasm backend/],
      ['freed buffer', () => be.fused(add, good()[0], [2], [freed, o2]), /fused: buffer was freed/],
      ['unknown op', () => be.fused({ ...add, key: 'bad1', code: [{ op: 'input', input: 0 }, { op: 'frob', args: [0] } as unknown as FusedInstr] }, good()[0], [2], [o1, o2]), /fused: instruction 1 has unknown op 'frob'/],
      ['forward reference', () => be.fused({ ...add, key: 'bad2', code: [{ op: 'input', input: 0 }, { op: 'add', args: [0, 1] }] }, good()[0], [2], [o1, o2]), /fused: instruction 1 \('add'\) reads value 1, expected an earlier value \(0 to 0\)/],
      ['wrong arity', () => be.fused({ ...add, key: 'bad3', code: [{ op: 'input', input: 0 }, { op: 'exp', args: [0, 0] } as unknown as FusedInstr] }, good()[0], [2], [o1, o2]), /fused: instruction 1 \('exp'\) takes 1 args/],
      ['input index', () => be.fused({ ...add, key: 'bad4', code: [{ op: 'input', input: 2 }] }, good()[0], [2], [o1, o2]), /fused: instruction 0 reads input 2, expected an input index 0 to 1/],
      ['constant slot', () => be.fused({ ...add, key: 'bad5', code: [{ op: 'const', slot: 1 }] }, good()[0], [2], [o1, o2]), /fused: instruction 0 reads constant 1, expected a slot 0 to 0/],
      ['output value', () => be.fused({ ...add, key: 'bad6', outputs: [{ value: 5, dtype: 'float32' }, { value: 2, dtype: 'bool' }] }, good()[0], [2], [o1, o2]), /fused: output 0 must be \{ value: 0 to 4/],
      ['no outputs', () => be.fused({ ...add, key: 'bad7', outputs: [] }, good()[0], [2], []), /fused: program.outputs must be a non-empty array/],
      ['too many instructions', () => be.fused({ ...add, key: 'bad8', code: Array.from({ length: FUSED_MAX_INSTRUCTIONS + 1 }, () => ({ op: 'input', input: 0 }) as FusedInstr) }, good()[0], [2], [o1, o2]), /fused: program.code must hold 1 to 96 instructions, got 97/],
      ['too many buffers', () => be.fused({ ...add, key: 'bad9', inputs: new Array<FusedDType>(9).fill('float32') }, good()[0], [2], [o1, o2]), /fused: a program has at most 8 inputs and 8 outputs on this backend, got 9 inputs and 2 outputs/],
      ['input dtype name', () => be.fused({ ...add, key: 'bad10', inputs: ['float32', 'int32' as FusedDType] }, good()[0], [2], [o1, o2]), /fused: program.inputs must be an array of 'float32' or 'bool'/],
      ['not a program', () => be.fused(null as unknown as FusedProgram, good()[0], [2], [o1, o2]), /fused: expected a program with a string key, got null/],
    ];
    for (const [what, run, msg] of cases) {
      it(what, () => {
        const before = [be.readSync(o1), be.readSync(o2)];
        const [cached, held, mem] = [be.fusedCachedPrograms, be.fusedHeldBytes, be.memory()];
        let err: unknown;
        try {
          run();
        } catch (e) {
          err = e;
        }
        expect(err, what).toBeInstanceOf(AxonError);
        expect((err as AxonError).op).toBe('fused');
        expect((err as Error).message).toMatch(msg);
        expect([be.readSync(o1), be.readSync(o2)], 'outputs untouched').toEqual(before);
        // nothing compiled is kept, nothing reserved
        expect([be.fusedCachedPrograms, be.fusedHeldBytes, be.memory()]).toEqual([cached, held, mem]);
      });
    }
    it('a disposed backend refuses', () => {
      const d = createWasmBackendSync();
      d.dispose();
      expect(() => d.fused(add, [], [2], [])).toThrow(/fused: the wasm backend was disposed/);
    });
    it('the good call works (the cases above differ from it in one thing each)', () => {
      const [ins, c, outs] = good();
      be.fused(add, ins, c, outs);
      expect(Array.from(be.readSync(o1))).toEqual([16, 16, 16, 16, 16, 16]);
      expect(Array.from(be.readSync(o2))).toEqual([1, 1, 1, 1, 1, 1]);
    });
  });
});

describe(`generated kernels (seed ${SEED})`, () => {
  const I = (input: number): FusedInstr => ({ op: 'input', input });
  const ADAM: FusedInstr[] = [
    I(0), I(1), I(2), I(3), // p, g, m, v
    { op: 'const', slot: 0 }, { op: 'const', slot: 1 }, { op: 'const', slot: 2 }, { op: 'const', slot: 3 }, { op: 'const', slot: 4 }, { op: 'const', slot: 5 },
    { op: 'mul', args: [4, 2] }, { op: 'mul', args: [5, 1] }, { op: 'add', args: [10, 11] }, // m'
    { op: 'mul', args: [6, 3] }, { op: 'square', args: [1] }, { op: 'mul', args: [7, 14] }, { op: 'add', args: [13, 15] }, // v'
    { op: 'sqrt', args: [16] }, { op: 'add', args: [17, 9] }, { op: 'div', args: [12, 18] }, { op: 'mul', args: [8, 19] }, { op: 'sub', args: [0, 20] }, // p'
  ];
  const adam: FusedProgram = {
    key: 'gen-adam',
    inputs: ['float32', 'float32', 'float32', 'float32'],
    consts: 6,
    code: ADAM,
    outputs: [{ value: 21, dtype: 'float32' }, { value: 12, dtype: 'float32' }, { value: 16, dtype: 'float32' }],
  };
  /** relu(x + bias) · mask · c: x float32, bias float32, mask bool. */
  const reluBias: FusedProgram = {
    key: 'gen-relu-bias-mask',
    inputs: ['float32', 'float32', 'bool'],
    consts: 1,
    code: [I(0), I(1), { op: 'add', args: [0, 1] }, { op: 'relu', args: [2] }, I(2), { op: 'mul', args: [3, 4] }, { op: 'const', slot: 0 }, { op: 'mul', args: [5, 6] }],
    outputs: [{ value: 7, dtype: 'float32' }, { value: 3, dtype: 'bool' }],
  };
  const bcast = (be: WasmBackend, dtype: FusedDType, shape: readonly number[], strides: readonly number[]): View => stridedView(be, dtype, shape, strides, randInt(0, 3));

  it('every op is generated: inline SIMD, the vector helpers (exp, log, tanh, sigmoid) and the scalar ones (pow, mod, sin, …)', () => {
    for (const op of [...UNARY, ...BINARY]) expect(codegenCovers(op), op).toBe(true);
    const be = createWasmBackendSync();
    // each op alone, both ways: the unrolled loop (16 lanes), a single vector and a 3-lane tail
    const shape = [16 * 3 + 4 + 3];
    for (const op of [...UNARY, ...BINARY]) {
      const p: FusedProgram = { key: `op-${op}`, inputs: ['float32', 'float32'], consts: 0, code: [I(0), I(1), { op, args: UNARY.includes(op as UnaryOp) ? [0] : [0, 1] } as FusedInstr], outputs: [{ value: 2, dtype: 'float32' }] };
      const inputs = p.inputs.map((d) => layoutView(be, d, shape, 'contiguous'));
      for (const path of PATHS) check(be, p, inputs, [], shape, `op ${op}`, path);
      for (const v of inputs) be.free(v.buf);
    }
    // the main module's helpers that a module imports: the kernel's own SIMD exp, the scalar pow
    const expPow = compileFused({ key: 'exp-pow', inputs: ['float32'], consts: 0, code: [I(0), { op: 'exp', args: [0] }, { op: 'pow', args: [1, 0] }], outputs: [{ value: 2, dtype: 'float32' }] });
    expect(generateFused(expPow, [0])!.helpers).toEqual(['fused_v_exp', 'fused_s_pow']);
    // erf (GELU) runs on four lanes: the kernel's SIMD erf, not a scalar call per lane
    const gelu = compileFused({ key: 'x*(1+erf(x))', inputs: ['float32'], consts: 0, code: [I(0), { op: 'erf', args: [0] }, { op: 'mul', args: [0, 1] }], outputs: [{ value: 2, dtype: 'float32' }] });
    expect(generateFused(gelu, [0])!.helpers).toEqual(['fused_v_erf']);
    be.dispose();
  });

  it('an Adam update and relu(x + bias) · mask run generated in their layouts, bit for bit as the interpreter and the primitives', () => {
    const be = createWasmBackendSync();
    for (const n of [1280, 1003, 3, 100352]) {
      const inputs = adam.inputs.map((d) => layoutView(be, d, [n], 'contiguous'));
      const consts = [0.9, 0.1, 0.999, 0.001, 1e-3, 1e-8];
      expect(generable(inputs, [n])).toBe(true);
      for (const path of PATHS) check(be, adam, inputs, consts, [n], `adam ${n}`, path);
      for (const v of inputs) be.free(v.buf);
    }
    // bias as a row [N] and a column [M, 1], a scalar bias, x sliced (rows apart), the mask broadcast
    const [M, N] = [32, 130];
    const layouts: [string, (d: FusedDType, k: number) => View][] = [
      ['row bias', (d, k) => (k === 1 ? bcast(be, d, [M, N], [0, 1]) : layoutView(be, d, [M, N], 'contiguous'))],
      ['column bias', (d, k) => (k === 1 ? bcast(be, d, [M, N], [1, 0]) : layoutView(be, d, [M, N], 'contiguous'))],
      ['scalar bias', (d, k) => (k === 1 ? bcast(be, d, [M, N], [0, 0]) : layoutView(be, d, [M, N], 'contiguous'))],
      ['sliced x, row bias', (d, k) => (k === 0 ? stridedView(be, d, [M, N], [N + 5, 1], 3) : k === 1 ? bcast(be, d, [M, N], [0, 1]) : layoutView(be, d, [M, N], 'contiguous'))],
      ['column mask', (d, k) => (k === 2 ? bcast(be, d, [M, N], [1, 0]) : k === 1 ? bcast(be, d, [M, N], [0, 1]) : layoutView(be, d, [M, N], 'contiguous'))],
    ];
    for (const [what, make] of layouts) {
      const inputs = reluBias.inputs.map(make);
      expect(generable(inputs, [M, N]), what).toBe(true);
      for (const path of PATHS) check(be, reluBias, inputs, [2], [M, N], `relu(x + bias) · mask, ${what}`, path);
      for (const v of inputs) be.free(v.buf);
    }
    // 3 dims: a per-channel bias over NCHW ([4, 3, 2, 25] walks as [4, 3, 50]), x with padded planes
    const nchw = [4, 3, 2, 25];
    const chw: View[] = [
      stridedView(be, 'float32', nchw, [3 * 50 + 6, 50, 25, 1], 1),
      bcast(be, 'float32', nchw, [0, 1, 0, 0]),
      layoutView(be, 'bool', nchw, 'contiguous'),
    ];
    expect(generable(chw, nchw)).toBe(true);
    for (const path of PATHS) check(be, reluBias, chw, [2], nchw, 'relu(x + bias) · mask, NCHW channel bias', path);
    for (const v of chw) be.free(v.buf);
    // one module per (program, input kinds): Adam, and the chain with its bias (or mask) read as a
    // row, a column or a scalar (the sliced x, and the NCHW channel bias, reuse the row and column
    // bias's modules: the strides are arguments)
    expect(be.fusedRuns).toMatchObject({ built: 5, modules: 5, uncovered: 0, tooLarge: 0, failed: 0 });
    be.dispose();
  });

  it('a program with exp, tanh, sigmoid and log runs generated too (calls into the main module)', () => {
    const be = createWasmBackendSync();
    const p: FusedProgram = {
      key: 'gen-transcendental',
      inputs: ['float32', 'float32'],
      consts: 0,
      code: [I(0), I(1), { op: 'exp', args: [0] }, { op: 'mul', args: [2, 1] }, { op: 'tanh', args: [3] }, { op: 'sigmoid', args: [1] }, { op: 'abs', args: [5] }, { op: 'log', args: [6] }, { op: 'add', args: [4, 7] }],
      outputs: [{ value: 8, dtype: 'float32' }],
    };
    for (const shape of [[1000], [17, 33]]) {
      const inputs = p.inputs.map((d, k) => (k === 1 && shape.length === 2 ? bcast(be, d, shape, [0, 1]) : layoutView(be, d, shape, 'contiguous')));
      for (const path of PATHS) check(be, p, inputs, [], shape, `transcendental [${shape.join(',')}]`, path);
      for (const v of inputs) be.free(v.buf);
    }
    be.dispose();
  });

  it('layouts it does not take run in the interpreter: transposed, strided inner dims, more than 3 dims that do not merge', () => {
    const be = createWasmBackendSync();
    const p = randomProgram(2, 1, 8, 'gen-fallback');
    const cases: [string, readonly number[], (d: FusedDType, k: number) => View][] = [
      ['transposed', [17, 33], (d, k) => (k === 0 ? layoutView(be, d, [17, 33], 'transposed') : layoutView(be, d, [17, 33], 'contiguous'))],
      ['every other element', [40], (d) => stridedView(be, d, [40], [2], 1)],
      ['4 dims', [2, 3, 4, 5], (d, k) => (k === 0 ? bcast(be, d, [2, 3, 4, 5], [0, 5, 0, 1]) : stridedView(be, d, [2, 3, 4, 5], [72, 24, 6, 1], 0))],
    ];
    for (const [what, shape, make] of cases) {
      const inputs = p.inputs.map(make);
      expect(generable(inputs, shape), what).toBe(false);
      check(be, p, inputs, Array.from({ length: p.consts }, value), shape, what, 'codegen');
      for (const v of inputs) be.free(v.buf);
    }
    expect(be.fusedRuns).toMatchObject({ generated: 0, interpreted: 3, built: 0 });
    be.dispose();
  });

  it(`modules stay within ${CODEGEN_MAX_BYTES} bytes (browsers' limit for synchronous compilation): less unrolled, or the interpreter`, () => {
    const be = createWasmBackendSync();
    const chain = (op: 'add' | 'pow', key: string): FusedProgram => {
      const code: FusedInstr[] = [I(0), I(1)];
      while (code.length < FUSED_MAX_INSTRUCTIONS) code.push({ op, args: [code.length - 1, code.length - 2] });
      return { key, inputs: ['float32', 'float32'], consts: 0, code, outputs: [{ value: code.length - 1, dtype: 'float32' }] };
    };
    const shape = [257];
    // 94 adds: too large with 4 vectors a step, fits with 2
    const adds = chain('add', 'gen-94-adds');
    const ca = compileFused(adds);
    expect(generateFused(ca, [0, 0], 4)!.bytes.length).toBeGreaterThan(CODEGEN_MAX_BYTES);
    expect(generateFused(ca, [0, 0], 2)!.bytes.length).toBeLessThanOrEqual(CODEGEN_MAX_BYTES);
    const x = adds.inputs.map((d) => layoutView(be, d, shape, 'contiguous'));
    for (const path of PATHS) check(be, adds, x, [], shape, '94 adds', path);
    // 94 pows (each a call per lane): too large even without unrolling
    const pows = chain('pow', 'gen-94-pows');
    expect(generateFused(compileFused(pows), [0, 0], 1)!.bytes.length).toBeGreaterThan(CODEGEN_MAX_BYTES);
    check(be, pows, x, [], shape, '94 pows', 'codegen');
    expect(be.fusedRuns).toMatchObject({ tooLarge: 1, built: 1 });
    be.dispose();
  });

  it('kernels keep working when the memory grows (they import the Memory object itself)', () => {
    const be = createWasmBackendSync();
    const shape = [64, 100];
    const before = be.linearMemoryBytes;
    const first = reluBias.inputs.map((d, k) => (k === 1 ? bcast(be, d, shape, [0, 1]) : layoutView(be, d, shape, 'contiguous')));
    check(be, reluBias, first, [3], shape, 'before growth', 'codegen');
    // buffers larger than the whole memory so far (it grows), read at their ends: above the old end
    const bigF = stridedView(be, 'float32', [1 << 20], [1], 0).buf;
    const bigB = stridedView(be, 'bool', [1 << 22], [1], 0).buf;
    expect(be.linearMemoryBytes).toBeGreaterThan(before);
    const n = sizeOf(shape);
    const second: View[] = [
      { buf: bigF, dtype: 'float32', shape, strides: [100, 1], offset: bigF.size - 2 * n },
      { buf: bigF, dtype: 'float32', shape, strides: [0, 1], offset: bigF.size - 100 },
      { buf: bigB, dtype: 'bool', shape, strides: [100, 1], offset: bigB.size - n },
    ];
    for (const v of second) expect((v.buf as unknown as { ptr: number }).ptr + v.offset * (v.dtype === 'bool' ? 1 : 4)).toBeGreaterThanOrEqual(before);
    check(be, reluBias, second, [-0.5], shape, 'after growth (above the old end)', 'codegen');
    check(be, reluBias, first, [0.25], shape, 'after growth (the first buffers)', 'codegen');
    expect(be.fusedRuns).toMatchObject({ generated: 3, built: 1 });
    be.dispose();
  });

  it('the memory growing while the interpreter reserves its registers loses none of the call parameters written after it (regression)', () => {
    // the parameter block and the bytecode fit in what is left of the memory, the registers do not:
    // the memory grows in the middle of the call, after the parameter block's first words
    const shape = [4, 10];
    for (let slack = 2048; slack <= 6144; slack += 512) {
      const be = createWasmBackendSync();
      const inputs = reluBias.inputs.map((d, k) => (k === 1 ? bcast(be, d, shape, [0, 1]) : layoutView(be, d, shape, 'contiguous')));
      const filler = be.alloc('bool', be.memory().pooledBytes! - slack);
      const before = be.linearMemoryBytes;
      check(be, reluBias, inputs, [3], shape, `${slack} bytes left`, 'interpreter');
      expect(be.linearMemoryBytes, `${slack} bytes left: the memory grew`).toBeGreaterThan(before);
      be.free(filler);
      be.dispose();
    }
  });

  it('one module per (program, layout); the 128 most recently used are kept; a program leaving the program cache takes its modules', () => {
    const be = createWasmBackendSync();
    const x = layoutView(be, 'float32', [300], 'contiguous');
    const out = be.alloc('float32', 300);
    const prog = (i: number): FusedProgram => ({ key: `lru-${i}`, inputs: ['float32'], consts: 1, code: [I(0), { op: 'const', slot: 0 }, { op: 'mul', args: [0, 1] }], outputs: [{ value: 2, dtype: 'float32' }] });
    const run = (i: number, c = i): void => be.fused(prog(i), [x], [c], [out]);
    for (let i = 0; i < 128; i++) run(i);
    expect(be.fusedRuns).toMatchObject({ modules: 128, built: 128 });
    run(0, 7); // constants change per call: the same module
    expect(be.fusedRuns.built).toBe(128);
    expect(be.readSync(out)[3]).toBe(Math.fround(be.readSync(x.buf)[3]! * 7));
    run(128); // evicts the least recently used: program 1, not program 0
    expect(be.fusedRuns).toMatchObject({ modules: 128, built: 129 });
    run(0);
    expect(be.fusedRuns.built).toBe(129);
    run(1); // rebuilt (evicting program 2)
    expect(be.fusedRuns).toMatchObject({ modules: 128, built: 130 });
    // the same layout kinds share a module ([10, 30] contiguous merges into [300]; a row repeated
    // is rows 0 bytes apart); another kind (a column: one element per row) makes another
    be.fused(prog(0), [{ ...x, shape: [10, 30], strides: [30, 1] }], [2], [out]);
    be.fused(prog(0), [{ ...x, shape: [10, 30], strides: [0, 1] }], [2], [out]);
    expect(be.fusedRuns.built).toBe(130);
    be.fused(prog(0), [{ ...x, shape: [10, 30], strides: [1, 0] }], [2], [out]);
    expect(be.fusedRuns.built).toBe(131);
    expect(be.readSync(out)[31]).toBe(Math.fround(be.readSync(x.buf)[1]! * 2));
    // programs 200… fill the program cache (256, interpreted): the oldest programs leave it, and
    // their modules with them
    be.fusedCodegen = false;
    for (let i = 200; i < 200 + 256; i++) run(i);
    be.fusedCodegen = true;
    expect(be.fusedCachedPrograms).toBe(256);
    expect(be.fusedRuns.modules).toBe(0);
    be.dispose();
    expect(be.fusedRuns.modules).toBe(0);
  });
});
