// reduceFused and matmulFused against the two-step compositions they replace: `fused` into a
// buffer then `reduce`; `matmul` into a buffer then `fused` over it. Seeded random programs (every
// op, float32 and bool inputs, constants) over every input layout (contiguous, transposed, sliced,
// broadcast: scalar, row, column, random), shapes across SIMD/block edges, size-1 dims and empty
// shapes, each call run both ways (the generated kernel where the layout allows one, and with
// `fusedCodegen = false`: block by block through the interpreter), checking which way it ran.
//
// Tolerance: none. The compositions accumulate in the same order (the generated reductions
// follow the `reduce` kernel's order; blocks reduce whole output elements with the `reduce`
// kernel; matmulFused calls the `matmul` kernel and runs the program as `fused` does), so results
// must match bit for bit (any NaN matches any NaN; −0 and +0 differ).
import { describe, expect, it } from 'vitest';
import { AxonError, contiguousStrides, sizeOf } from '@axon/core';
import type { BackendBuffer, BinaryOp, FusedDType, FusedInstr, FusedProgram, FusedReduceOp, UnaryOp, View } from '@axon/core';
import { createWasmBackendSync } from '../src/index.js';
import type { WasmBackend } from '../src/index.js';
import { SEED, makeRng } from './helpers.js';

const rng = makeRng(SEED ^ 0x5ed0ce);
const randInt = (lo: number, hi: number): number => lo + Math.floor(rng() * (hi - lo));
const pick = <T>(xs: readonly T[]): T => xs[randInt(0, xs.length)]!;

const UNARY: readonly UnaryOp[] = ['neg', 'abs', 'sign', 'exp', 'log', 'log1p', 'expm1', 'sqrt', 'rsqrt', 'reciprocal', 'square', 'sin', 'cos', 'tanh', 'erf', 'sigmoid', 'relu', 'floor', 'ceil', 'round', 'not'];
const BINARY: readonly BinaryOp[] = ['add', 'sub', 'mul', 'div', 'pow', 'max', 'min', 'mod', 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'and', 'or', 'xor'];
const OPS: readonly FusedReduceOp[] = ['sum', 'prod', 'max', 'min'];

/** Float32 values: ordinary ones, small integers, and (with `specials`) NaN, ±Infinity, ±0. */
function value(specials: boolean): number {
  const r = rng();
  if (specials && r < 0.04) return pick([NaN, Infinity, -Infinity, 0, -0]);
  if (r < 0.2) return pick([-2, -1.5, -1, -0.5, 0, 0.5, 1, 1.5, 2]);
  return Math.fround((rng() * 2 - 1) * pick([1, 2, 4]));
}

/**
 * A random program over `dtypes` with `nOut` outputs (the first the last value, float32): mostly
 * tame arithmetic so that sums and products stay finite, with every op in the mix.
 */
function randomProgram(dtypes: readonly FusedDType[], len: number, key: string, nOut = 1): FusedProgram {
  const consts = randInt(0, 3);
  const code: FusedInstr[] = dtypes.map((_, k) => ({ op: 'input', input: k }));
  if (code.length === 0) code.push({ op: 'const', slot: 0 });
  const arg = (): number => (rng() < 0.7 ? randInt(Math.max(0, code.length - 3), code.length) : randInt(0, code.length));
  while (code.length < len) {
    const r = rng();
    if (r < 0.1 && consts > 0) code.push({ op: 'const', slot: randInt(0, consts) });
    else if (r < 0.4) code.push({ op: rng() < 0.5 ? pick(['neg', 'abs', 'relu', 'sigmoid', 'tanh', 'square'] as const) : pick(UNARY), args: [arg()] });
    else if (r < 0.93) code.push({ op: rng() < 0.6 ? pick(['add', 'sub', 'mul', 'max', 'min'] as const) : pick(BINARY), args: [arg(), arg()] });
    else code.push({ op: 'where', args: [arg(), arg(), arg()] });
  }
  const outputs = Array.from({ length: nOut }, (_, j) => ({
    value: j === 0 ? code.length - 1 : randInt(0, code.length),
    dtype: (j === 0 || rng() < 0.7 ? 'float32' : 'bool') as FusedDType,
  }));
  return { key, inputs: dtypes.slice(), consts: Math.max(consts, dtypes.length === 0 ? 1 : 0), code, outputs };
}

/** A view of `shape` over a fresh buffer with the given strides and offset. */
function stridedView(be: WasmBackend, dtype: FusedDType, shape: readonly number[], strides: readonly number[], offset: number, specials: boolean): View {
  let last = offset;
  for (let d = 0; d < shape.length; d++) last += Math.max(0, shape[d]! - 1) * strides[d]!;
  const size = sizeOf(shape) === 0 ? offset : last + 1 + randInt(0, 3);
  const buf = be.alloc(dtype, size);
  const host = dtype === 'bool' ? new Uint8Array(size) : new Float32Array(size);
  for (let i = 0; i < size; i++) host[i] = dtype === 'bool' ? (rng() < 0.5 ? 1 : 0) : value(specials);
  be.write(buf, host);
  return { buf, dtype, shape: [...shape], strides: [...strides], offset };
}

type Layout = 'contiguous' | 'transposed' | 'sliced' | 'scalar' | 'row' | 'column' | 'broadcast';
const LAYOUTS: readonly Layout[] = ['contiguous', 'transposed', 'sliced', 'scalar', 'row', 'column', 'broadcast'];

function layoutView(be: WasmBackend, dtype: FusedDType, shape: readonly number[], layout: Layout, specials = false): View {
  const rank = shape.length;
  const offset = layout === 'contiguous' ? 0 : randInt(0, 4);
  if (layout === 'contiguous' || rank === 0) return stridedView(be, dtype, shape, contiguousStrides(shape), 0, specials);
  if (layout === 'scalar') return stridedView(be, dtype, shape, shape.map(() => 0), offset, specials);
  if (layout === 'transposed' || layout === 'sliced') {
    const perm = [...Array(rank).keys()];
    if (layout === 'transposed') perm.reverse();
    const phys = perm.map((d) => shape[d]! + (layout === 'sliced' ? randInt(0, 3) : 0));
    const ps = contiguousStrides(phys);
    const strides = new Array<number>(rank);
    for (let p = 0; p < rank; p++) strides[perm[p]!] = ps[p]!;
    return stridedView(be, dtype, shape, strides, offset, specials);
  }
  const keep = shape.map((_, d) => (layout === 'row' ? d === rank - 1 : layout === 'column' ? d < rank - 1 : rng() < 0.5));
  const inner = shape.map((n, d) => (keep[d] ? n : 1));
  const cs = contiguousStrides(inner);
  return stridedView(be, dtype, shape, shape.map((_, d) => (keep[d] ? cs[d]! : 0)), offset, specials);
}

const whole = (buf: BackendBuffer, shape: readonly number[]): View => ({ buf, dtype: buf.dtype, shape: [...shape], strides: contiguousStrides(shape), offset: 0 });

/** Bit-for-bit equality (any NaN matches any NaN; −0 ≠ +0); the first mismatch, or ''. */
function mismatch(got: ArrayLike<number>, want: ArrayLike<number>): string {
  if (got.length !== want.length) return `length ${got.length} ≠ ${want.length}`;
  const show = (v: number): string => (Object.is(v, -0) ? '-0' : String(v));
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    if (Number.isNaN(g) && Number.isNaN(w)) continue;
    if (!Object.is(g, w)) return `[${i}] got ${show(g)}, want ${show(w)}`;
  }
  return '';
}

type Path = 'codegen' | 'blocks';

/**
 * How reduceFused must run, worked out here independently of the backend: after dropping size-1
 * dims and merging neighbours that every input and the output walk contiguously (a kept dim never
 * merges with a reduced one), rows reduced along their length ([kept, reduced] or [reduced]) or
 * rows in planes ([kept, kept, reduced]: dims that do not merge), columns reduced over the rows
 * ([reduced, kept], or over planes of rows: [reduced, reduced, kept]), or everything over 2–3
 * dims that do not merge (whole 8-lane groups in each row, or a product), each input's inner
 * stride 1 or 0: one generated kernel; otherwise blocks.
 */
function generable(op: FusedReduceOp, inputs: readonly View[], shape: readonly number[], axes: readonly number[]): boolean {
  const outStrides = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (axes.includes(d)) outStrides[d] = 0;
    else {
      outStrides[d] = acc;
      acc *= shape[d]!;
    }
  }
  const all = [...inputs.map((v) => v.strides), outStrides];
  const dims: number[] = [];
  const st: number[][] = all.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    const n = shape[d]!;
    if (n === 1) continue;
    const r = dims.length;
    if (r > 0 && all.every((s, k) => st[k]![r - 1] === s[d]! * n)) {
      dims[r - 1]! *= n;
      all.forEach((s, k) => (st[k]![r - 1] = s[d]!));
      continue;
    }
    dims.push(n);
    all.forEach((s, k) => st[k]!.push(s[d]!));
  }
  const reduced = st[st.length - 1]!.map((s) => s === 0);
  // everything over dims that do not merge: whole 8-lane groups in each row, or a product
  const everything = (dims.length === 2 || dims.length === 3) && reduced.every((r) => r) && (op === 'prod' || dims[dims.length - 1]! % 8 === 0);
  const pattern = everything || (dims.length === 1 && reduced[0]) || (dims.length === 2 && reduced[0] !== reduced[1]) || (dims.length === 3 && reduced[0] === reduced[1] && reduced[1] !== reduced[2]);
  return pattern && st.slice(0, -1).every((s) => s[s.length - 1] === 0 || s[s.length - 1] === 1);
}

/**
 * reduceFused the given way against fused + reduce; fails with the case when they differ or when
 * the call did not run the way `generable` says.
 */
function checkReduce(be: WasmBackend, op: FusedReduceOp, p: FusedProgram, inputs: readonly View[], consts: readonly number[], shape: readonly number[], axes: readonly number[], what: string, path: Path): void {
  const kept = shape.filter((_, d) => !axes.includes(d));
  const nOut = sizeOf(kept);
  const n = sizeOf(shape);
  const got = be.alloc('float32', nOut);
  be.fusedCodegen = path === 'codegen';
  const before = be.fusedRuns;
  try {
    be.reduceFused(op, p, inputs, consts, shape, axes, got);
  } finally {
    be.fusedCodegen = true;
  }
  const after = be.fusedRuns;
  const desc = `${what}: ${op} over axes [${axes.join(',')}] of [${shape.join(',')}] (${path}), inputs ${inputs.map((v) => `${v.dtype} [${v.strides.join(',')}]+${v.offset}`).join('; ')}, consts [${consts.join(',')}]`;
  if (nOut > 0 && n > 0) {
    const gen = path === 'codegen' && generable(op, inputs, shape, axes);
    expect([after.reduceGenerated - before.reduceGenerated, after.reduceBlocks - before.reduceBlocks], `${desc}: ran ${gen ? 'generated' : 'in blocks'}`).toEqual(gen ? [1, 0] : [0, 1]);
    expect(after.tooLarge, desc).toBe(before.tooLarge);
  }
  // the composition it replaces
  const values = be.alloc('float32', n);
  const want = be.alloc('float32', nOut);
  be.fused(p, inputs, consts, [values]);
  be.reduce(op, whole(values, shape), axes, want);
  const m = mismatch(be.readSync(got), be.readSync(want));
  if (m !== '') expect.fail(`${desc}: ${m}\nprogram ${JSON.stringify(p.code)} (seed ${SEED})`);
  for (const b of [got, values, want]) be.free(b);
}

/** A random subset of `rank` axes (non-empty, sorted). */
function randomAxes(rank: number): number[] {
  for (;;) {
    const axes = [...Array(rank).keys()].filter(() => rng() < 0.5);
    if (axes.length > 0) return axes;
  }
}

// [shape, axes]: trailing (softmax rows), leading (bias gradients), middle, several and all
// axes; sizes across the 4- and 8-lane groups and the 16-lane unrolled step; size-1 dims
const CASES: readonly (readonly [readonly number[], readonly number[]])[] = [
  [[32, 10], [1]], [[128, 10], [1]], [[32, 128], [1]], [[32, 784], [1]], [[3, 7], [1]], [[5, 8], [1]], [[4, 9], [1]], [[2, 15], [1]], [[2, 16], [1]], [[3, 17], [1]], [[2, 33], [1]], [[1, 40], [1]],
  [[32, 10], [0]], [[128, 10], [0]], [[32, 128], [0]], [[7, 3], [0]], [[9, 4], [0]], [[5, 17], [0]], [[3, 1], [0]], [[1, 5], [0]], [[40, 1], [0]],
  [[32, 10], [0, 1]], [[1000], [0]], [[7], [0]], [[1], [0]], [[3, 5, 7], [0, 1, 2]],
  [[4, 6, 5], [1]], [[3, 5, 9], [0, 2]], [[2, 3, 4, 5], [1, 3]], [[2, 3, 4, 5], [0, 2]], [[3, 4, 5], [0, 1]], [[3, 4, 5], [1, 2]], [[2, 3, 2, 3, 2], [0, 2, 4]],
  [[1, 7, 1], [1]], [[6, 1, 5], [1]], [[6, 1, 5], [0, 1]], [[1, 1], [0, 1]], [[5, 1], [1]],
];

describe(`reduceFused (seed ${SEED})`, () => {
  it('random programs over every op and layout equal fused + reduce bit for bit, for every reduction (generated and in blocks)', () => {
    const be = createWasmBackendSync();
    let cases = 0;
    // the listed cases, then random shapes (rank 1 to 4) and axes
    const random = Array.from({ length: 24 }, () => {
      const shape = Array.from({ length: randInt(1, 5) }, () => pick([1, 2, 3, 5, 8, 9, 17]));
      return [shape, randomAxes(shape.length)] as const;
    });
    for (const [shape, axes] of [...CASES, ...random]) {
      for (const op of OPS) {
        const nIn = randInt(1, 4);
        const dtypes = Array.from({ length: nIn }, (_, k) => (k > 0 && rng() < 0.25 ? 'bool' : 'float32') as FusedDType);
        const p = randomProgram(dtypes, nIn + randInt(1, 8), `reduce-random-${cases}`);
        const inputs = dtypes.map((d) => layoutView(be, d, shape, pick(LAYOUTS), true));
        const consts = Array.from({ length: p.consts }, () => value(false));
        for (const path of ['codegen', 'blocks'] as const) checkReduce(be, op, p, inputs, consts, shape, axes, `random program ${cases}`, path);
        for (const v of inputs) be.free(v.buf);
        cases++;
      }
    }
    const runs = be.fusedRuns;
    expect(runs.reduceGenerated).toBeGreaterThan(cases / 5);
    expect([runs.uncovered, runs.failed, runs.tooLarge]).toEqual([0, 0, 0]);
    expect(be.memory()).toMatchObject({ bytes: 0, buffers: 0 });
    be.dispose();
  });

  it('values whose reductions depend on the order (cancellation, ±0, NaN) give the order of fused + reduce', () => {
    // 1e20 + 1 − 1e20 is 0 or 1 depending on the grouping; pmax(−0, +0) keeps the first zero and
    // max(−0, +0) is +0; a NaN anywhere in an 8-lane group or the tail makes max/min NaN
    const be = createWasmBackendSync();
    const adversarial = [1e20, -1e20, 1e20, -1e20, 1, -1, 3, 0.5, 0, -0, 0, -0, 2 ** -60];
    const p: FusedProgram = {
      key: 'x*c',
      inputs: ['float32', 'float32'],
      consts: 1,
      code: [{ op: 'input', input: 0 }, { op: 'const', slot: 0 }, { op: 'mul', args: [0, 1] }, { op: 'input', input: 1 }, { op: 'add', args: [2, 3] }],
      outputs: [{ value: 4, dtype: 'float32' }],
    };
    let cases = 0;
    for (const [shape, axes] of CASES) {
      for (const op of OPS) {
        for (let rep = 0; rep < 4; rep++) {
          const nan = rep === 2 && op !== 'sum' && op !== 'prod';
          // rep 3: the extreme is a zero, −0 or +0 depending on which comes first where
          const set = rep < 3 ? adversarial : op === 'min' ? [0, 0, 0, -0, 1] : [-0, -0, -0, 0, -1];
          const mk = (layout: Layout): View => {
            const v = layoutView(be, 'float32', shape, layout);
            const h = be.readSync(v.buf) as Float32Array;
            for (let i = 0; i < h.length; i++) h[i] = nan && rng() < 0.02 ? NaN : pick(set);
            be.write(v.buf, h);
            return v;
          };
          const x = mk(pick(['contiguous', 'transposed', 'sliced'] as const));
          const zero = layoutView(be, 'float32', shape, pick(['scalar', 'row', 'column'] as const));
          be.fill(zero.buf, rng() < 0.5 ? 0 : -0);
          for (const path of ['codegen', 'blocks'] as const) checkReduce(be, op, p, [x, zero], [1], shape, axes, `adversarial ${cases}`, path);
          be.free(x.buf);
          be.free(zero.buf);
          cases++;
        }
      }
    }
    expect(be.memory()).toMatchObject({ bytes: 0, buffers: 0 });
    be.dispose();
  });

  it('the common layouts run one generated kernel: softmax rows (x − max broadcast as a column), a bias gradient (relu′ mask), everything', () => {
    const be = createWasmBackendSync();
    const softmax: FusedProgram = {
      key: 'exp(x-m)',
      inputs: ['float32', 'float32'],
      consts: 0,
      code: [{ op: 'input', input: 0 }, { op: 'input', input: 1 }, { op: 'sub', args: [0, 1] }, { op: 'exp', args: [2] }],
      outputs: [{ value: 3, dtype: 'float32' }],
    };
    const grad: FusedProgram = {
      key: 'dy*(x>0)',
      inputs: ['float32', 'float32'],
      consts: 1,
      code: [{ op: 'input', input: 0 }, { op: 'input', input: 1 }, { op: 'const', slot: 0 }, { op: 'gt', args: [1, 2] }, { op: 'mul', args: [0, 3] }],
      outputs: [{ value: 4, dtype: 'float32' }],
    };
    for (const [M, N] of [[32, 10], [128, 10], [32, 128], [32, 784], [3, 1], [1, 3], [5, 5]] as const) {
      const x = layoutView(be, 'float32', [M, N], 'contiguous');
      const max = layoutView(be, 'float32', [M, N], 'column');
      const dy = layoutView(be, 'float32', [M, N], 'contiguous');
      for (const op of OPS) {
        for (const path of ['codegen', 'blocks'] as const) {
          checkReduce(be, op, softmax, [x, max], [], [M, N], [1], `softmax [${M},${N}]`, path);
          checkReduce(be, op, grad, [dy, x], [0], [M, N], [0], `bias gradient [${M},${N}]`, path);
          checkReduce(be, op, grad, [dy, x], [0], [M, N], [0, 1], `loss [${M},${N}]`, path);
        }
      }
      for (const v of [x, max, dy]) be.free(v.buf);
    }
    expect(be.memory()).toMatchObject({ bytes: 0, buffers: 0 });
    be.dispose();
  });
  it('rows in planes run one generated kernel: the softmax of attention scores [B, H, T, T] under a causal mask [T, T] and a row max [B, H, T, 1] (dims that do not merge)', () => {
    const be = createWasmBackendSync();
    // exp(s + mask − m): the recomputed attention weights' denominator in the backward pass
    const p: FusedProgram = {
      key: 'exp(s+mask-m)',
      inputs: ['float32', 'float32', 'float32'],
      consts: 0,
      code: [{ op: 'input', input: 0 }, { op: 'input', input: 1 }, { op: 'input', input: 2 }, { op: 'add', args: [0, 1] }, { op: 'sub', args: [3, 2] }, { op: 'exp', args: [4] }],
      outputs: [{ value: 5, dtype: 'float32' }],
    };
    for (const [B, H, T] of [[2, 3, 8], [2, 2, 13], [3, 4, 16], [1, 2, 33]] as const) {
      const shape = [B, H, T, T];
      const s = stridedView(be, 'float32', shape, contiguousStrides(shape), 0, false);
      const mask = stridedView(be, 'float32', shape, [0, 0, T, 1], 0, false);
      const m = stridedView(be, 'float32', shape, [H * T, T, 1, 0], 0, false);
      for (const op of OPS) {
        for (const path of ['codegen', 'blocks'] as const) checkReduce(be, op, p, [s, mask, m], [], shape, [3], `attention softmax [${shape}]`, path);
      }
      for (const v of [s, mask, m]) be.free(v.buf);
    }
    expect(be.memory()).toMatchObject({ bytes: 0, buffers: 0 });
    be.dispose();
  });
  it('everything over dims that do not merge runs one generated kernel where each row holds whole 8-lane groups (or for a product): a loss over [B, T, C] with a bias row [C]', () => {
    const be = createWasmBackendSync();
    // Σ of gelu-like (x + b) · y over everything: the layout of a scalar operand's gradient
    const p: FusedProgram = {
      key: '(x+b)*y',
      inputs: ['float32', 'float32', 'float32'],
      consts: 0,
      code: [{ op: 'input', input: 0 }, { op: 'input', input: 1 }, { op: 'input', input: 2 }, { op: 'add', args: [0, 1] }, { op: 'mul', args: [3, 2] }],
      outputs: [{ value: 4, dtype: 'float32' }],
    };
    for (const [B, T, C] of [[16, 8, 64], [3, 5, 8], [2, 3, 24], [2, 3, 13], [4, 1, 16], [3, 2, 40]] as const) {
      for (const specials of [false, true]) {
        const shape = [B, T, C];
        const x = stridedView(be, 'float32', shape, contiguousStrides(shape), 0, specials);
        const bias = stridedView(be, 'float32', shape, [0, 0, 1], 0, specials);
        // y broadcast over the batch too: [0, C, 1] keeps B and T apart (three dims)
        const y = stridedView(be, 'float32', shape, [0, C, 1], 0, specials);
        for (const op of OPS) {
          for (const path of ['codegen', 'blocks'] as const) {
            checkReduce(be, op, p, [x, bias, x], [], shape, [0, 1, 2], `loss [${shape}]`, path);
            checkReduce(be, op, p, [x, bias, y], [], shape, [0, 1, 2], `loss [${shape}], y over T`, path);
          }
        }
        for (const v of [x, bias, y]) be.free(v.buf);
      }
    }
    expect(be.memory()).toMatchObject({ bytes: 0, buffers: 0 });
    be.dispose();
  });
  it('columns over planes of rows run one generated kernel: a bias gradient over [B, T, C] with a position embedding [T, C] broadcast over the batch (B and T do not merge)', () => {
    const be = createWasmBackendSync();
    // Σ over (b, t) of dy · (h + pos): a LayerNorm weight's gradient over embeddings plus positions
    const p: FusedProgram = {
      key: 'dy*(h+pos)',
      inputs: ['float32', 'float32', 'float32'],
      consts: 0,
      code: [{ op: 'input', input: 0 }, { op: 'input', input: 1 }, { op: 'input', input: 2 }, { op: 'add', args: [1, 2] }, { op: 'mul', args: [0, 3] }],
      outputs: [{ value: 4, dtype: 'float32' }],
    };
    for (const [B, T, C] of [[2, 3, 8], [3, 5, 13], [4, 16, 32], [2, 7, 3]] as const) {
      const shape = [B, T, C];
      const dy = stridedView(be, 'float32', shape, contiguousStrides(shape), 0, false);
      const h = stridedView(be, 'float32', shape, contiguousStrides(shape), 0, false);
      const pos = stridedView(be, 'float32', shape, [0, C, 1], 0, false);
      for (const op of OPS) {
        for (const path of ['codegen', 'blocks'] as const) checkReduce(be, op, p, [dy, h, pos], [], shape, [0, 1], `bias gradient [${shape}]`, path);
      }
      for (const v of [dy, h, pos]) be.free(v.buf);
    }
    expect(be.memory()).toMatchObject({ bytes: 0, buffers: 0 });
    be.dispose();
  });
});

/** A [B, rows, cols] operand: contiguous, transposed (swapped strides), or one matrix broadcast over the batch. */
function operand(be: WasmBackend, B: number, rows: number, cols: number, layout: 'contiguous' | 'transposed' | 'batch-broadcast'): View {
  const size = Math.max(1, (layout === 'batch-broadcast' ? 1 : B) * rows * cols);
  const buf = be.alloc('float32', size);
  const h = new Float32Array(size);
  for (let i = 0; i < size; i++) h[i] = value(false);
  be.write(buf, h);
  const strides = layout === 'transposed' ? [rows * cols, 1, rows] : [layout === 'batch-broadcast' ? 0 : rows * cols, cols, 1];
  return { buf, dtype: 'float32', shape: [B, rows, cols], strides, offset: 0 };
}

/**
 * matmulFused the given way against matmul + fused; fails with the case when an output differs
 * or the epilogue did not run the way `fused` would run it.
 */
function checkMatmul(be: WasmBackend, a: View, b: View, p: FusedProgram, inputs: readonly View[], consts: readonly number[], what: string, path: 'codegen' | 'interpreter'): void {
  const [B, M] = a.shape as [number, number, number];
  const N = b.shape[2]!;
  const n = B * M * N;
  const outs = p.outputs.map((o) => be.alloc(o.dtype, n));
  be.fusedCodegen = path === 'codegen';
  const before = be.fusedRuns;
  try {
    be.matmulFused(a, b, p, inputs, consts, outs);
  } finally {
    be.fusedCodegen = true;
  }
  const after = be.fusedRuns;
  const shape = inputs.length > 0 ? inputs[0]!.shape : [n];
  const desc = `${what}: [${a.shape.join(',')}]·[${b.shape.join(',')}] (strides [${a.strides.join(',')}], [${b.strides.join(',')}]; ${path}), inputs ${inputs.map((v) => `${v.dtype} [${v.shape.join(',')}]/[${v.strides.join(',')}]`).join('; ')}`;
  if (n > 0) {
    expect(after.matmulFused - before.matmulFused, desc).toBe(1);
    if (path === 'interpreter') expect(after.interpreted - before.interpreted, desc).toBe(1);
  }
  // the composition it replaces
  const prod = be.alloc('float32', n);
  be.matmul(a, b, prod);
  const want = p.outputs.map((o) => be.alloc(o.dtype, n));
  be.fused(p, [whole(prod, shape), ...inputs], consts, want);
  outs.forEach((o, j) => {
    const m = mismatch(be.readSync(o), be.readSync(want[j]!));
    if (m !== '') expect.fail(`${desc}: output ${j} ${m}\nprogram ${JSON.stringify(p.code)} → ${JSON.stringify(p.outputs)} (seed ${SEED})`);
  });
  for (const x of [...outs, ...want, prod]) be.free(x);
}

describe(`matmulFused (seed ${SEED})`, () => {
  // [B, M, K, N]: training shapes, thin products (M or N ≤ 2), sizes off the 4×8 tile and 4-lane
  // edges, a batch, K = 0 and empty products
  const SHAPES: readonly (readonly [number, number, number, number])[] = [
    [1, 32, 784, 128], [1, 32, 128, 10], [1, 128, 10, 1], [1, 1, 5, 9], [1, 2, 7, 3], [1, 5, 3, 2], [2, 5, 7, 3], [3, 17, 33, 19], [1, 9, 1, 1], [1, 4, 0, 5], [1, 0, 3, 4], [2, 3, 4, 0],
  ];
  const relu: FusedProgram = {
    key: 'mm-relu(p+b),p',
    inputs: ['float32', 'float32'],
    consts: 0,
    code: [{ op: 'input', input: 0 }, { op: 'input', input: 1 }, { op: 'add', args: [0, 1] }, { op: 'relu', args: [2] }],
    outputs: [{ value: 3, dtype: 'float32' }, { value: 0, dtype: 'float32' }],
  };
  const scale: FusedProgram = {
    key: 'mm-tanh(p*c)',
    inputs: ['float32'],
    consts: 1,
    code: [{ op: 'input', input: 0 }, { op: 'const', slot: 0 }, { op: 'mul', args: [0, 1] }, { op: 'tanh', args: [2] }],
    outputs: [{ value: 3, dtype: 'float32' }],
  };

  it('an epilogue without inputs, and bias + relu with the raw product as a second output, equal matmul + fused bit for bit', () => {
    const be = createWasmBackendSync();
    for (const [B, M, K, N] of SHAPES) {
      for (const la of ['contiguous', 'transposed'] as const) {
        for (const lb of ['contiguous', 'transposed', 'batch-broadcast'] as const) {
          const a = operand(be, B, M, K, la);
          const b = operand(be, B, K, N, lb);
          // the bias: [N] broadcast over [B, M, N], or over the rows of [B·M, N]
          const bias = layoutView(be, 'float32', rng() < 0.5 ? [B, M, N] : [B * M, N], 'row');
          for (const path of ['codegen', 'interpreter'] as const) {
            checkMatmul(be, a, b, scale, [], [0.5], `tanh(p·c) [${B},${M},${K},${N}]`, path);
            checkMatmul(be, a, b, relu, [bias], [], `relu(p + bias), p [${B},${M},${K},${N}]`, path);
          }
          for (const v of [a, b, bias]) be.free(v.buf);
        }
      }
    }
    expect(be.memory()).toMatchObject({ bytes: 0, buffers: 0 });
    be.dispose();
  });

  it('random epilogues (every op, float32/bool inputs in every layout and shape of size B·M·N, several outputs) equal matmul + fused bit for bit', () => {
    const be = createWasmBackendSync();
    let cases = 0;
    for (const [B, M, K, N] of SHAPES) {
      for (let rep = 0; rep < 4; rep++) {
        const nIn = randInt(0, 4);
        const dtypes: FusedDType[] = ['float32', ...Array.from({ length: nIn }, () => (rng() < 0.3 ? 'bool' : 'float32') as FusedDType)];
        const p = randomProgram(dtypes, dtypes.length + randInt(1, 10), `mm-random-${cases}`, randInt(1, 4));
        const shape = pick([[B, M, N], [B * M, N], [B * M * N], [B, M * N], [1, B, M, N]]);
        const inputs = dtypes.slice(1).map((d) => layoutView(be, d, shape, pick(LAYOUTS), true));
        const a = operand(be, B, M, K, pick(['contiguous', 'transposed'] as const));
        const b = operand(be, B, K, N, pick(['contiguous', 'transposed', 'batch-broadcast'] as const));
        const consts = Array.from({ length: p.consts }, () => value(false));
        for (const path of ['codegen', 'interpreter'] as const) checkMatmul(be, a, b, p, inputs, consts, `random epilogue ${cases}`, path);
        for (const v of [...inputs, a, b]) be.free(v.buf);
        cases++;
      }
    }
    expect(be.memory()).toMatchObject({ bytes: 0, buffers: 0 });
    be.dispose();
  });
});

describe('reduceFused and matmulFused: memory and errors', () => {
  const sq: FusedProgram = {
    key: 'sq',
    inputs: ['float32'],
    consts: 0,
    code: [{ op: 'input', input: 0 }, { op: 'square', args: [0] }],
    outputs: [{ value: 1, dtype: 'float32' }],
  };
  const v = (buf: BackendBuffer, shape: number[], strides = contiguousStrides(shape), offset = 0): View => ({ buf, dtype: buf.dtype, shape, strides, offset });

  it('a call holds no memory: memory() is the same after each call once the kernels exist (scratch, column accumulators and products go back to the allocator)', () => {
    const be = createWasmBackendSync();
    const x = be.alloc('float32', 64 * 784);
    be.fill(x, 0.5);
    const w = be.alloc('float32', 784 * 128);
    be.fill(w, 0.25);
    const bias = be.alloc('float32', 128);
    be.fill(bias, 1);
    const out = be.alloc('float32', 784);
    const col = be.alloc('float32', 64);
    const o8 = be.alloc('float32', 8);
    const y = be.alloc('float32', 64 * 128);
    const relu: FusedProgram = { key: 'relu(p+b)', inputs: ['float32', 'float32'], consts: 0, code: [{ op: 'input', input: 0 }, { op: 'input', input: 1 }, { op: 'add', args: [0, 1] }, { op: 'relu', args: [2] }], outputs: [{ value: 3, dtype: 'float32' }] };
    const calls: [string, () => void][] = [
      ['sum over the rows (generated, float64 column accumulators)', () => be.reduceFused('sum', sq, [v(x, [64, 784])], [], [64, 784], [0], out)],
      ['max along the rows (generated)', () => be.reduceFused('max', sq, [v(x, [64, 784])], [], [64, 784], [1], col)],
      ['sum of a transposed view (blocks)', () => be.reduceFused('sum', sq, [v(x, [64, 784], [1, 64])], [], [64, 784], [0], out)],
      ['prod over two axes (blocks)', () => be.reduceFused('prod', sq, [v(x, [8, 8, 784])], [], [8, 8, 784], [0, 2], o8)],
      ['matmul with bias + relu (product in scratch)', () => be.matmulFused(v(x, [1, 64, 784]), v(w, [1, 784, 128]), relu, [v(bias, [64, 128], [0, 1])], [], [y])],
    ];
    for (const [what, call] of calls) {
      call(); // builds the kernel and the interpreter's registers, kept
      const m = be.memory();
      const held = be.fusedHeldBytes;
      for (let rep = 0; rep < 3; rep++) call();
      expect(be.memory(), what).toEqual(m);
      expect(be.fusedHeldBytes, what).toBe(held);
    }
    for (const b of [x, w, bias, out, col, o8, y]) be.free(b);
    expect(be.memory()).toMatchObject({ bytes: 0, buffers: 0 });
    be.dispose();
  });

  describe('bad calls throw an AxonError naming the primitive, with what was expected, and change nothing', () => {
    const be = createWasmBackendSync();
    const other = createWasmBackendSync();
    const f = (n: number, dtype: 'float32' | 'int32' | 'bool' = 'float32'): BackendBuffer => {
      const b = be.alloc(dtype, n);
      be.fill(b, dtype === 'bool' ? 1 : 7);
      return b;
    };
    const x = f(12);
    const mask = f(12, 'bool');
    const out3 = f(3);
    const out4 = f(4);
    const a = f(4);
    const b = f(4);
    const b6 = f(6);
    const bias = f(2);
    const y = f(4);
    const z = f(4);
    const freed = f(3);
    be.free(freed);
    const watched = [out3, out4, y, z];
    const masked: FusedProgram = {
      key: 'err-x*m*c',
      inputs: ['float32', 'bool'],
      consts: 1,
      code: [{ op: 'input', input: 0 }, { op: 'input', input: 1 }, { op: 'mul', args: [0, 1] }, { op: 'const', slot: 0 }, { op: 'mul', args: [2, 3] }],
      outputs: [{ value: 4, dtype: 'float32' }],
    };
    const relu2: FusedProgram = {
      key: 'err-relu(p+b),p',
      inputs: ['float32', 'float32'],
      consts: 0,
      code: [{ op: 'input', input: 0 }, { op: 'input', input: 1 }, { op: 'add', args: [0, 1] }, { op: 'relu', args: [2] }],
      outputs: [{ value: 3, dtype: 'float32' }, { value: 0, dtype: 'float32' }],
    };
    // the good calls (each case below differs in one thing): Σ over axis 1 of x·mask·c, [3, 4];
    // relu(a·b + bias) and a·b, [1, 2, 2]·[1, 2, 2] with bias a row
    const X = v(x, [3, 4]);
    const M = v(mask, [3, 4]);
    const A = v(a, [1, 2, 2]);
    const B = v(b, [1, 2, 2]);
    const BIAS = v(bias, [2, 2], [0, 1]);
    type R = { op: FusedReduceOp; p: FusedProgram; inputs: View[]; consts: number[]; shape: number[]; axes: number[]; out: BackendBuffer };
    const rf = (o: Partial<R>) => (): void => be.reduceFused(o.op ?? 'sum', o.p ?? masked, o.inputs ?? [X, M], o.consts ?? [2], o.shape ?? [3, 4], o.axes ?? [1], o.out ?? out3);
    type F = { a: View; b: View; p: FusedProgram; inputs: View[]; consts: number[]; outputs: BackendBuffer[] };
    const mf = (o: Partial<F>) => (): void => be.matmulFused(o.a ?? A, o.b ?? B, o.p ?? relu2, o.inputs ?? [BIAS], o.consts ?? [], o.outputs ?? [y, z]);
    const cases: [string, () => void, RegExp][] = [
      ['unknown reduction', rf({ op: 'argmax' as FusedReduceOp }), /^reduceFused: unknown reduction 'argmax', expected 'sum', 'prod', 'max' or 'min'/],
      ['two outputs', rf({ p: { ...masked, key: 'err-2out', outputs: [{ value: 4, dtype: 'float32' }, { value: 2, dtype: 'float32' }] } }), /^reduceFused: the program must write exactly one float32 output, got 2 \(float32, float32\)/],
      ['a bool output', rf({ p: { ...masked, key: 'err-bool', outputs: [{ value: 4, dtype: 'bool' }] } }), /^reduceFused: the program must write exactly one float32 output, got 1 \(bool\)/],
      ['input count', rf({ inputs: [X] }), /^reduceFused: the program reads 2 inputs, got 1 views/],
      ['input dtype', rf({ inputs: [X, X] }), /^reduceFused: input 1 is 'float32', the program declares bool/],
      ['input shape', rf({ inputs: [v(x, [4, 3]), v(mask, [4, 3])] }), /^reduceFused: input 0 has shape \[4,3\], expected \[3,4\] \(the shape the call names\)/],
      ['view past its buffer', rf({ inputs: [v(x, [3, 4], [4, 1], 1), M] }), /^reduceFused: view .* reaches element 12 of a 12-element buffer/],
      ['constant count', rf({ consts: [] }), /^reduceFused: the program takes 1 constant, got 0/],
      ['bad shape', rf({ shape: [3, -4] }), /^reduceFused: shape must be an array of non-negative integers, got \[3,-4\]/],
      ['no axes', rf({ axes: [] }), /^reduceFused: axes must be a non-empty array, got \[\]/],
      ['axis out of range', rf({ axes: [2] }), /^reduceFused: axes must be sorted, unique and in \[0, 2\) for shape \[3,4\], got \[2\]/],
      ['axes unsorted', rf({ axes: [1, 0] }), /^reduceFused: axes must be sorted, unique and in \[0, 2\) for shape \[3,4\], got \[1,0\]/],
      ['axes repeated', rf({ axes: [1, 1] }), /^reduceFused: axes must be sorted, unique and in \[0, 2\) for shape \[3,4\], got \[1,1\]/],
      ['out size', rf({ out: out4 }), /^reduceFused: output buffer holds 4 elements, expected 3/],
      ['out dtype', rf({ out: f(3, 'int32') }), /^reduceFused: expected a float32 buffer, got int32/],
      ['out is an input', rf({ inputs: [v(out3, [3, 4], [1, 0]), M] }), /^reduceFused: out is the buffer of input 0 \(outputs never alias inputs\)/],
      ['freed out', rf({ out: freed }), /^reduceFused: buffer was freed/],
      ['foreign out', rf({ out: other.alloc('float32', 3) }), /^reduceFused: buffer does not belong to this wasm backend/],
      ['malformed program', rf({ p: { ...masked, key: 'err-bad', code: [{ op: 'input', input: 0 }, { op: 'frob', args: [0] } as unknown as FusedInstr] } }), /^reduceFused: instruction 1 has unknown op 'frob'/],
      ['not a program', () => be.reduceFused('sum', null as unknown as FusedProgram, [X, M], [2], [3, 4], [1], out3), /^reduceFused: expected a program with a string key, got null/],
      ['operand rank', mf({ a: v(a, [2, 2]) }), /^matmulFused: expected a rank-3 view, got shape \[2,2\]/],
      ['operand shapes', mf({ b: v(b6, [1, 3, 2]) }), /^matmulFused: shapes \[1,2,2\] and \[1,3,2\] do not match \(expected a \[B, M, K\] and b \[B, K, N\]\)/],
      ['operand dtype', mf({ a: v(f(4, 'int32'), [1, 2, 2]) }), /^matmulFused: expected a float32 buffer, got int32/],
      ['input 0 not float32', mf({ p: { ...relu2, key: 'err-p-bool', inputs: ['bool', 'float32'] } }), /^matmulFused: program input 0 \(the product\) must be declared float32, got 'bool'/],
      ['input count', mf({ inputs: [] }), /^matmulFused: the program reads 1 view besides the product \(its input 0\), got 0 views/],
      ['input dtype', mf({ inputs: [v(mask, [2, 2], [0, 1])] }), /^matmulFused: inputs\[0\] \(program input 1\) is 'bool', the program declares float32/],
      ['input size', mf({ inputs: [v(x, [2, 3])] }), /^matmulFused: the inputs have shape \[2,3\] \(6 elements\), expected B·M·N = 4 elements \(the product \[1,2,2\]\)/],
      ['constant count', mf({ consts: [1] }), /^matmulFused: the program takes 0 constants, got 1/],
      ['output count', mf({ outputs: [y] }), /^matmulFused: the program writes 2 outputs, got 1 buffers/],
      ['output size', mf({ outputs: [y, out3] }), /^matmulFused: output 1 holds 3 elements, expected 4 \(the product \[1,2,2\]\)/],
      ['output dtype', mf({ outputs: [y, f(4, 'bool')] }), /^matmulFused: output 1 is a bool buffer, the program writes float32/],
      ['output is a', mf({ outputs: [y, a] }), /^matmulFused: output 1 is the buffer of a \(outputs never alias inputs\)/],
      ['output is b', mf({ outputs: [b, z] }), /^matmulFused: output 0 is the buffer of b \(outputs never alias inputs\)/],
      ['output is an input', mf({ inputs: [v(y, [2, 2], [0, 1])] }), /^matmulFused: output 0 is the buffer of input 0 \(outputs never alias inputs\)/],
      ['the same output twice', mf({ outputs: [y, y] }), /^matmulFused: outputs 0 and 1 are the same buffer/],
      ['malformed program', mf({ p: { ...relu2, key: 'err-mm-bad', outputs: [] } }), /^matmulFused: program.outputs must be a non-empty array/],
    ];
    for (const [what, run, msg] of cases) {
      it(`${msg.source.slice(1).split(':')[0]!}: ${what}`, () => {
        const before = watched.map((o) => be.readSync(o));
        const [cached, held, mem] = [be.fusedCachedPrograms, be.fusedHeldBytes, be.memory()];
        let err: unknown;
        try {
          run();
        } catch (e) {
          err = e;
        }
        expect(err, what).toBeInstanceOf(AxonError);
        expect((err as Error).message).toMatch(msg);
        expect(watched.map((o) => be.readSync(o)), 'outputs untouched').toEqual(before);
        // nothing compiled is kept, nothing reserved
        expect([be.fusedCachedPrograms, be.fusedHeldBytes, be.memory()]).toEqual([cached, held, mem]);
      });
    }
    it('a disposed backend refuses', () => {
      const d = createWasmBackendSync();
      d.dispose();
      expect(() => d.reduceFused('sum', masked, [], [2], [3], [0], out3)).toThrow(/^reduceFused: the wasm backend was disposed/);
      expect(() => d.matmulFused(A, B, relu2, [], [], [])).toThrow(/^matmulFused: the wasm backend was disposed/);
    });
    it('the good calls work (the cases above differ from them in one thing each)', () => {
      be.reduceFused('sum', masked, [X, M], [2], [3, 4], [1], out3);
      expect(Array.from(be.readSync(out3))).toEqual([56, 56, 56]);
      be.matmulFused(A, B, relu2, [BIAS], [], [y, z]);
      expect(Array.from(be.readSync(y))).toEqual([105, 105, 105, 105]);
      expect(Array.from(be.readSync(z))).toEqual([98, 98, 98, 98]);
    });
  });
});
