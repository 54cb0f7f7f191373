// Generates assembly/generated/fused-ops.ts: the per-instruction loops of the fused-program
// interpreter (assembly/fused.ts), one `case` per op.
//
// Every value of a fused program is float32 (a bool is 0 or 1). An op reads one or two registers
// (`a`, `b`: blocks of float32 lanes in linear memory) and writes `d`, which may be `a` or `b`
// (every loop loads an element's operands before it stores the element).
//
// Every op computes what the `unary`/`binary` kernel computes on contiguous data (its SIMD path):
// - ops whose SIMD form is one or a few instructions (add, mul, max, sqrt, relu, …) are loops
//   here over the kernel's own SIMD expression (from the tables in gen-elementwise.mjs), four
//   vectors per step;
// - the polynomial ones (exp, log, tanh, erf, sigmoid) call the very `un_f32_*` kernel on the register
//   as a contiguous row, so the module carries one copy of each polynomial;
// - ops without a SIMD form (pow, mod, sin, …) call their kernel too, which runs its scalar
//   expression lane by lane, over exactly `len` lanes;
// - ops whose kernels write bools (comparisons, logic, `not`) and `sign` are SIMD expressions
//   written here that give float32 0/1 with the kernels' semantics.
// SIMD loops run over `len` rounded up to 16 lanes (registers hold whole multiples of 16 lanes;
// the extra lanes hold leftovers that are never stored), so every lane takes the SIMD path.
// A register may also be a window of an input or output buffer (see assembly/fused.ts): then
// `len` is a multiple of 16 and the loops touch exactly the block.
import { BINARY, UNARY } from './gen-elementwise.mjs';

/**
 * The interpreter's layout, shared by assembly/fused.ts (through the generated file) and
 * src/fused.ts (through src/generated/kernels.ts): its own opcodes (codes from `firstOp` on
 * are the ops below), the input load modes and the parameter block's byte offsets.
 */
export const FUSED_LAYOUT = {
  // opcodes
  opLoad: 0,
  opConst: 1,
  opStoreF32: 2,
  opStoreU8: 3,
  opWhere: 4,
  opOut: 5,
  firstOp: 8,
  // input modes
  modeContiguous: 0,
  modeScalar: 1,
  modeStrided: 2,
  // most dims the strided walker takes, inputs, outputs, constants
  maxDims: 8,
  maxInputs: 8,
  maxOutputs: 8,
  maxConsts: 96,
  // parameter block (byte offsets)
  pN: 0, // i32 elements in this call
  pBlock: 4, // i32 lanes per block (register size)
  pRank: 8, // i32 dims of the strided walk
  pShape: 16, // i32 × maxDims
  pIdx: 48, // i32 × maxDims: the walker's index
  pOut: 80, // u32 × maxOutputs: output addresses
  pIn: 112, // maxInputs records of inBytes: mode, address, element size, -, byte strides × maxDims
  inBytes: 48,
  pConst: 496, // f32 × maxConsts
  pAddr: 880, // u32 × 256: each register's address in this block
  paramBytes: 1904,
};
const FUSED_FIRST_OP = FUSED_LAYOUT.firstOp;

/** SIMD expressions too large to copy here: their ops call the kernel. */
const HEAVY = /\bv(exp|log|tanh|erf|sigmoid)\b/;

/** Comparisons: the f32x4 mask ANDed with 1.0 gives 1 or +0. */
const CMP = ['eq', 'ne', 'lt', 'le', 'gt', 'ge'];

/**
 * The fused ops: name → { k: kernel export and whether it has a SIMD path } or { v: SIMD
 * expression of `x` (and `y`) }. Unary and binary ops in the order of core's `UnaryOp` and `BinaryOp`.
 */
function fusedOps() {
  const unary = {};
  for (const [name, op] of Object.entries(UNARY.f32)) unary[name] = op.v && !HEAVY.test(op.v) ? { v: op.v } : { k: `un_f32_${name}`, simd: op.v !== undefined };
  // sign has no SIMD form in the unary kernel; this one is the scalar `signF` lane by lane
  // (x > 0 → 1, x < 0 → −1, ±0 → +0, NaN → NaN), checked equal by the tests.
  unary.sign = { v: 'v128.bitselect(one, v128.bitselect(f32x4.splat(-1.0), v128.bitselect(zero, x, f32x4.eq(x, zero)), f32x4.lt(x, zero)), f32x4.gt(x, zero))' };
  // not: 1 for ±0, 0 otherwise (NaN included), as `copy` to bool then `not` then `copy` back
  unary.not = { v: 'v128.and(f32x4.eq(x, zero), one)' };
  const binary = {};
  for (const [name, op] of Object.entries(BINARY.f32)) {
    if (op.out) continue; // comparisons: below
    binary[name] = op.v && !HEAVY.test(op.v) ? { v: op.v } : { k: `bin_f32_${name}`, simd: op.v !== undefined };
  }
  for (const c of CMP) binary[c] = { v: `v128.and(f32x4.${c}(x, y), one)` };
  // logic: nonzero (NaN included) is true, as `copy` to bool would make it
  binary.and = { v: 'v128.and(v128.and(f32x4.ne(x, zero), f32x4.ne(y, zero)), one)' };
  binary.or = { v: 'v128.and(v128.or(f32x4.ne(x, zero), f32x4.ne(y, zero)), one)' };
  binary.xor = { v: 'v128.and(v128.xor(f32x4.ne(x, zero), f32x4.ne(y, zero)), one)' };
  return { unary, binary };
}

const sub = (expr, names) => expr.replace(/\b([xy])\b/g, (m) => names[m]);

function vectorCase(code, name, expr, arity) {
  const loads = [];
  const stores = [];
  for (let u = 0; u < 4; u++) {
    const off = u === 0 ? '' : `, ${u * 16}`;
    loads.push(`        const x${u} = v128.load(a + i${off});`);
    if (arity === 2) loads.push(`        const y${u} = v128.load(b + i${off});`);
    stores.push(`        v128.store(d + i, ${sub(expr, { x: `x${u}`, y: `y${u}` })}${off});`);
  }
  return `    case ${code}: { // ${name}
      for (let i: usize = 0; i < nv; i += 64) {
${loads.join('\n')}
${stores.join('\n')}
      }
      return;
    }
`;
}

function kernelCase(code, name, op, arity) {
  const n = op.simd ? 'n16' : 'len';
  const args = arity === 1 ? `a, 0, 4, d, 1, ${n}` : `a, 0, 4, b, 0, 4, d, 1, ${n}`;
  return `    case ${code}: // ${name}${op.simd ? '' : ' (no SIMD form: scalar, as the kernel)'}
      ${op.k}(${args});
      return;
`;
}

/**
 * The exported helpers that run-time generated fused modules (src/codegen.ts) import for the ops
 * the interpreter runs through a kernel: `fused_v_<op>` (v128 → v128: the kernel's own SIMD
 * expression, e.g. `vexp(x)`) for the polynomial ops, `fused_s_<op>` (f32 → f32, or f32, f32 →
 * f32: the kernel's scalar expression) for the ops without a SIMD form, which the interpreter
 * runs lane by lane. Wasm-to-wasm calls may pass v128; JavaScript never calls these.
 * Returns { source, helpers: { vector: { op: export }, scalar: { op: export } } } (op names as
 * in the opcode tables; binary and unary names do not collide).
 */
function generateHelpers(ops) {
  const helpers = { vector: {}, scalar: {} };
  let source = `// GENERATED by scripts/gen-fused.mjs — do not edit.
// Helpers imported by the fused modules generated at run time (src/codegen.ts).
import { powF, modF, vexp, vlog, vtanh, verf, vsigmoid } from '../math';
`;
  for (const [kind, arity] of [['unary', 1], ['binary', 2]]) {
    const table = kind === 'unary' ? UNARY.f32 : BINARY.f32;
    for (const [name, op] of Object.entries(ops[kind])) {
      if (!op.k) continue;
      const def = table[name];
      if (op.simd) {
        if (arity !== 1) throw new Error(`no vector helper for binary ${name}`);
        helpers.vector[name] = `fused_v_${name}`;
        source += `
export function fused_v_${name}(x: v128): v128 {
  return ${def.v};
}
`;
      } else {
        helpers.scalar[name] = `fused_s_${name}`;
        source += `
export function fused_s_${name}(${arity === 1 ? 'x: f32' : 'x: f32, y: f32'}): f32 {
  return ${def.s};
}
`;
      }
    }
  }
  return { source, helpers };
}

/** Returns { source, helperSource, helpers, opcodes: { unary: { name: code }, binary: { name: code } } }. */
export function generateFused() {
  const ops = fusedOps();
  const opcodes = { unary: {}, binary: {} };
  let code = FUSED_FIRST_OP;
  let cases = '';
  const kernels = [];
  for (const [kind, arity] of [['unary', 1], ['binary', 2]]) {
    for (const [name, op] of Object.entries(ops[kind])) {
      opcodes[kind][name] = code;
      if (op.k) kernels.push(op.k);
      cases += op.v ? vectorCase(code, name, op.v, arity) : kernelCase(code, name, op, arity);
      code++;
    }
  }
  if (code > 256) throw new Error('fused opcodes must fit in a byte');
  const layout = Object.entries(FUSED_LAYOUT)
    .map(([k, v]) => `export const ${k.replace(/[A-Z]/g, (c) => '_' + c).toUpperCase()}: i32 = ${v};`)
    .join('\n');
  const source = `// GENERATED by scripts/gen-fused.mjs — do not edit.
import { ${kernels.join(', ')} } from './elementwise';
import { vrelu, vrsqrt } from '../math';

${layout}

/**
 * Runs op \`op\` (a fused opcode ≥ ${FUSED_FIRST_OP}) over one block: d[i] = op(a[i], b[i]) for i < len.
 * \`a\`, \`b\` and \`d\` are register addresses (16-byte aligned, whole multiples of 16 lanes).
 */
export function fusedOp(op: i32, d: usize, a: usize, b: usize, len: i32): void {
  const n16 = (len + 15) & ~15; // lanes the SIMD loops cover
  const nv = <usize>n16 << 2;
  const zero = f32x4.splat(0.0);
  const one = f32x4.splat(1.0);
  switch (op) {
${cases}    default:
      unreachable();
  }
}
`;
  const h = generateHelpers(ops);
  return { source, opcodes, helperSource: h.source, helpers: h.helpers };
}
