/**
 * WGSL sources of every kernel. Each generator is specialised only on rank, dtype, op and
 * workgroup size (never on sizes or strides, which arrive in `P`), so the number of distinct
 * pipelines stays bounded.
 */
import type { BinaryOp, DType, FusedProgram, ReduceOp, UnaryOp } from '@axon/core';
import { entry1d, FMATH, HASH, header, paramAt, SINCOS, stridedIndex, wgslType } from './wgsl.js';

// ------------------------------------------------------------------ elementwise (map)

/**
 * A strided map over `rank` dims: inputs `I0..`, output `O`. Params:
 * `[n, shape(rank), for each input: offset, strides(rank), (strided output: offset, strides)]`.
 * `expr` receives the loaded input values (`v0`, `v1`, …) and returns the stored WGSL expression.
 */
export function mapSource(wg: number, rank: number, inputs: readonly DType[], out: DType, expr: string, prelude: string, stridedOut: boolean): string {
  const bindings = [...inputs.map((d, i) => ({ name: `I${i}`, dtype: d })), { name: 'O', dtype: out, write: true }];
  const opAt: number[] = [];
  let at = 1 + rank;
  for (let k = 0; k < inputs.length + (stridedOut ? 1 : 0); k++) {
    opAt.push(at);
    at += 1 + rank;
  }
  const loads = inputs.map((_, i) => `  let v${i} = I${i}[o${i}];`).join('\n');
  const dst = stridedOut ? `o${inputs.length}` : 'gid';
  const body = `${stridedIndex('gid', rank, 1, opAt)}\n${loads}\n  O[${dst}] = ${expr};`;
  return header(bindings) + prelude + entry1d(wg, body);
}

/** WGSL expression converting `v` (stored as `from`) to `to`. */
export function convertExpr(v: string, from: DType, to: DType): string {
  if (from === to) return v;
  if (to === 'bool') return from === 'float32' ? `f2b(${v})` : `select(0u, 1u, ${v} != 0${from === 'int32' ? '' : 'u'})`;
  if (to === 'int32') return from === 'float32' ? `f2i(${v})` : `i32(${v})`;
  return `f32(${v})`;
}

/** The expression and helper functions of a unary op on the value `x` (a WGSL expression). */
export function unaryExpr(op: UnaryOp, dtype: DType, x = 'v0'): { expr: string; prelude: string } {
  if (op === 'not') return { expr: `select(0u, 1u, ${x} == 0u)`, prelude: '' };
  if (dtype === 'int32') {
    const e: Partial<Record<UnaryOp, string>> = {
      neg: `0 - ${x}`,
      abs: `select(${x}, 0 - ${x}, ${x} < 0)`,
      sign: `sign_i(${x})`,
      square: `${x} * ${x}`,
      relu: `max(${x}, 0)`,
      floor: x,
      ceil: x,
      round: x,
    };
    const expr = e[op];
    if (expr) return { expr, prelude: FMATH };
    // Float ops on int32 input: compute in float32, truncate back.
    const f = unaryExpr(op, 'float32', `f32(${x})`);
    return { expr: `f2i(${f.expr})`, prelude: f.prelude };
  }
  const e: Record<Exclude<UnaryOp, 'not'>, string> = {
    neg: `-${x}`,
    abs: `abs(${x})`,
    sign: `sign_f(${x})`,
    exp: `exp_(${x})`,
    log: `log_(${x})`,
    log1p: `log1p_(${x})`,
    expm1: `expm1_(${x})`,
    sqrt: `sqrt(${x})`,
    rsqrt: `1.0 / sqrt(${x})`,
    reciprocal: `1.0 / ${x}`,
    square: `${x} * ${x}`,
    sin: `sin_(${x})`,
    cos: `cos_(${x})`,
    tanh: `tanh_(${x})`,
    erf: `erf_(${x})`,
    sigmoid: `sigmoid_(${x})`,
    relu: `select(${x}, 0.0, ${x} < 0.0)`,
    floor: `floor(${x})`,
    ceil: `ceil(${x})`,
    round: `round(${x})`,
  };
  return { expr: e[op], prelude: FMATH + (op === 'sin' || op === 'cos' ? SINCOS : '') };
}

const COMPARE: Partial<Record<BinaryOp, string>> = { eq: '==', ne: '!=', lt: '<', le: '<=', gt: '>', ge: '>=' };

/** The expression of a binary op on the values `a`, `b` (WGSL expressions) of dtype `dtype`. */
export function binaryExpr(op: BinaryOp, dtype: DType, a = 'v0', b = 'v1'): string {
  const cmp = COMPARE[op];
  if (cmp) {
    if (dtype === 'float32') {
      if (op === 'ne') return `select(0u, 1u, is_nan(${a}) || is_nan(${b}) || ${a} != ${b})`;
      return `select(0u, 1u, !(is_nan(${a}) || is_nan(${b})) && ${a} ${cmp} ${b})`;
    }
    return `select(0u, 1u, ${a} ${cmp} ${b})`;
  }
  if (op === 'and') return `${a} & ${b}`;
  if (op === 'or') return `${a} | ${b}`;
  if (op === 'xor') return `${a} ^ ${b}`;
  if (dtype === 'int32') {
    const e: Record<string, string> = {
      add: `${a} + ${b}`,
      sub: `${a} - ${b}`,
      mul: `${a} * ${b}`,
      div: `div_i(${a}, ${b})`,
      pow: `pow_i(${a}, ${b})`,
      max: `max(${a}, ${b})`,
      min: `min(${a}, ${b})`,
      mod: `mod_i(${a}, ${b})`,
    };
    return e[op]!;
  }
  const e: Record<string, string> = {
    add: `${a} + ${b}`,
    sub: `${a} - ${b}`,
    mul: `${a} * ${b}`,
    div: `${a} / ${b}`,
    pow: `pow_(${a}, ${b})`,
    max: `max_f(${a}, ${b})`,
    min: `min_f(${a}, ${b})`,
    mod: `mod_f(${a}, ${b})`,
  };
  return e[op]!;
}

/** Output dtype of a binary op. */
export function binaryOutDtype(op: BinaryOp, dtype: DType): DType {
  return COMPARE[op] || op === 'and' || op === 'or' || op === 'xor' ? 'bool' : dtype;
}

// ------------------------------------------------------------------ fused elementwise programs

/**
 * How a fused kernel finds one input's element for invocation `gid` (after merging dims):
 * `c` walks it contiguously (`offset + gid`), `s` reads one element (`offset`: every stride 0),
 * `r` decomposes `gid` over the shape and sums coordinate × stride.
 */
export type FusedAccess = 'c' | 's' | 'r';

/**
 * Parameter layout of a fused kernel: `P[0]` = n, `P[1..3]` = three runtime zeros (the barriers of
 * argument positions 0, 1, 2; see {@link fusedSource}), the constants' float32 bits from `P[4]`,
 * then — when some input is strided — the shape (`rank` dims), then per input its offset,
 * followed by its `rank` strides when its access is `r`.
 */
export function fusedLayout(consts: number, rank: number, access: readonly FusedAccess[]): { zerosAt: number; constAt: number; shapeAt: number; opAt: number[]; len: number } {
  return epilogueLayout(1, consts, rank, access);
}

/**
 * The part of a parameter block that a fused program reads, from `P[at]`: three runtime zeros, the
 * constants' bits, then (when some input is strided) the shape, then per input its offset and, for
 * access `r`, its `rank` strides. `fusedLayout` is this at 1; `matmulFused` appends it to the matmul
 * parameters.
 */
export function epilogueLayout(at: number, consts: number, rank: number, access: readonly FusedAccess[]): { zerosAt: number; constAt: number; shapeAt: number; opAt: number[]; len: number } {
  const zerosAt = at;
  const constAt = at + 3;
  at = constAt + consts;
  const shapeAt = at;
  if (access.includes('r')) at += rank;
  const opAt = access.map((k) => {
    const o = at;
    at += k === 'r' ? 1 + rank : 1;
    return o;
  });
  return { zerosAt, constAt, shapeAt, opAt, len: at };
}

/** The float32 WGSL expression of a fused op (not `input`/`const`) of `arity` arguments `a`, `b`, `c`. */
function fusedExpr(op: string, arity: number): string {
  const [a, b, c] = ['a', 'b', 'c'];
  if (op === 'where') return `select(${c}, ${b}, f2b(${a}) != 0u)`;
  if (arity === 1) {
    if (op === 'not') return `f32(${unaryExpr('not', 'bool', `f2b(${a})`).expr})`;
    return unaryExpr(op as UnaryOp, 'float32', a).expr;
  }
  const bop = op as BinaryOp;
  if (bop === 'and' || bop === 'or' || bop === 'xor') return `f32(${binaryExpr(bop, 'bool', `f2b(${a})`, `f2b(${b})`)})`;
  if (COMPARE[bop]) return `f32(${binaryExpr(bop, 'float32', a, b)})`;
  return binaryExpr(bop, 'float32', a, b);
}

/**
 * One kernel for a whole {@link FusedProgram}: inputs `I0..` (float32 as `f32`, bool as `u32`),
 * outputs `O0..` (contiguous), the parameters in a uniform block (see {@link fusedLayout}), one
 * invocation per element. Each instruction's expression is the one the `unary`/`binary`/`where`
 * kernels use. Every argument reaches it through `opq(value, z<position>)`, an xor of its bits with
 * a runtime zero that is different for each argument position: the compiler can then neither
 * contract across instructions (a·b + c into an fma), nor reassociate, nor fold an op whose
 * arguments it would otherwise see are equal (x − x → 0, x / x → 1, wrong for NaN and ±Infinity),
 * so every value is rounded and special-cased exactly as running the primitives one by one would.
 */
export function fusedSource(wg: number, program: FusedProgram, rank: number, access: readonly FusedAccess[]): string {
  const L = fusedLayout(program.consts, rank, access);
  const P = (i: number): string => paramAt(i, true);
  const bindings = [
    ...program.inputs.map((d, k) => ({ name: `I${k}`, dtype: d as DType })),
    ...program.outputs.map((o, j) => ({ name: `O${j}`, dtype: o.dtype as DType, write: true })),
  ];
  const used = usedInputs(program);
  const lines: string[] = [fusedZeros(L.zerosAt)];
  const strided = access.map((k, i) => (k === 'r' && used.has(i) ? i : -1)).filter((i) => i >= 0);
  if (strided.length > 0) lines.push(stridedIndex('gid', rank, L.shapeAt, strided.map((i) => L.opAt[i]!), 'q', true));
  access.forEach((k, i) => {
    if (!used.has(i)) return;
    const o = k === 'c' ? `${P(L.opAt[i]!)} + gid` : k === 's' ? P(L.opAt[i]!) : `q${strided.indexOf(i)}`;
    lines.push(`  let o${i} = ${o};`);
  });
  const code = fusedCode(program, (k) => `I${k}[o${k}]`, L.constAt);
  lines.push(...code.lines);
  program.outputs.forEach((o, j) => lines.push(`  O${j}[gid] = ${o.dtype === 'bool' ? `f2b(t${o.value})` : `t${o.value}`};`));
  return header(bindings, { uniformParams: true }) + code.prelude + entry1d(wg, lines.join('\n'), P(0));
}

/** The program inputs that some instruction reads. */
export function usedInputs(program: FusedProgram): Set<number> {
  const used = new Set<number>();
  for (const ins of program.code) if (ins.op === 'input') used.add(ins.input);
  return used;
}

/** WGSL that defines the argument barriers `z0`, `z1`, `z2` from the runtime zeros at `P[at..at+2]` (uniform parameters). */
export function fusedZeros(at: number): string {
  return `  let z0 = ${paramAt(at, true)}; let z1 = ${paramAt(at + 1, true)}; let z2 = ${paramAt(at + 2, true)};`;
}

/**
 * The instructions of a fused program as WGSL statements `let t<i> = …;` (value `i`), for code where
 * `z0..z2` are defined (see {@link fusedZeros}). `load(k)` is the WGSL of input `k`'s stored element
 * (bool inputs, stored as u32, are converted to 0/1); constants are read from the uniform parameters
 * at `P[constAt + slot]`. `prelude` holds the helper functions the statements call (float math, the
 * `opq` barrier and one `op_<name>` function per op used), for module scope.
 */
export function fusedCode(program: FusedProgram, load: (k: number) => string, constAt: number): { lines: string[]; prelude: string } {
  const lines: string[] = [];
  let trig = false;
  const fns = new Map<string, string>();
  program.code.forEach((ins, i) => {
    if (ins.op === 'input') {
      const v = load(ins.input);
      lines.push(`  let t${i} = ${program.inputs[ins.input] === 'bool' ? `f32(${v})` : v};`);
    } else if (ins.op === 'const') {
      lines.push(`  let t${i} = bitcast<f32>(${paramAt(constAt + ins.slot, true)});`);
    } else {
      if (ins.op === 'sin' || ins.op === 'cos') trig = true;
      if (!fns.has(ins.op)) fns.set(ins.op, `fn op_${ins.op}(${ins.args.map((_, p) => `${'abc'[p]!}: f32`).join(', ')}) -> f32 { return ${fusedExpr(ins.op, ins.args.length)}; }`);
      lines.push(`  let t${i} = op_${ins.op}(${ins.args.map((v, p) => `opq(t${v}, z${p})`).join(', ')});`);
    }
  });
  const ops = ['fn opq(x: f32, z: u32) -> f32 { return bitcast<f32>(bitcast<u32>(x) ^ z); }', ...fns.values()].join('\n');
  return { lines, prelude: FMATH + (trig ? SINCOS : '') + ops + '\n' };
}

// ------------------------------------------------------------------ fill

/** `O[i] = value` (value's bits in P[1]). */
export function fillSource(wg: number, dtype: DType): string {
  const ty = wgslType(dtype);
  return header([{ name: 'O', dtype, write: true }]) + entry1d(wg, `  O[gid] = bitcast<${ty}>(P[1]);`);
}

// ------------------------------------------------------------------ reduce

/** Layout of reduce params (see {@link reduceSource}). */
export function reduceLayout(kr: number, rr: number): { keptShape: number; keptOp: number; redShape: number; redOp: number; len: number } {
  const keptShape = 2;
  const keptOp = keptShape + kr;
  const redShape = keptOp + 1 + kr;
  const redOp = redShape + rr;
  return { keptShape, keptOp, redShape, redOp, len: redOp + 1 + rr };
}

function reduceParts(op: ReduceOp, dtype: DType): { init: string; step: string; combine: string; arg: boolean; kahan: boolean } {
  const isF = dtype === 'float32';
  const arg = op === 'argmax' || op === 'argmin';
  if (arg) {
    const gt = op === 'argmax' ? '>' : '<';
    return {
      init: isF ? (op === 'argmax' ? '-f_inf()' : 'f_inf()') : dtype === 'bool' ? '0u' : op === 'argmax' ? '(-2147483647 - 1)' : '2147483647',
      step: '',
      combine: isF
        ? `fn better(v: f32, i: u32, bv: f32, bi: u32) -> bool {
  if (i == 0xffffffffu) { return false; }
  if (bi == 0xffffffffu) { return true; }
  let vn = is_nan(v); let bn = is_nan(bv);
  if (vn || bn) { if (vn && bn) { return i < bi; } return vn; }
  if (v != bv) { return v ${gt} bv; }
  return i < bi;
}`
        : `fn better(v: ${wgslType(dtype)}, i: u32, bv: ${wgslType(dtype)}, bi: u32) -> bool {
  if (i == 0xffffffffu) { return false; }
  if (bi == 0xffffffffu) { return true; }
  if (v != bv) { return v ${gt} bv; }
  return i < bi;
}`,
      arg: true,
      kahan: false,
    };
  }
  const T = wgslType(dtype);
  switch (op) {
    case 'sum':
      return { init: isF ? '0.0' : '0', step: '', combine: `fn comb(a: ${T}, b: ${T}) -> ${T} { return a + b; }`, arg: false, kahan: isF };
    case 'prod':
      return { init: isF ? '1.0' : '1', step: '', combine: `fn comb(a: ${T}, b: ${T}) -> ${T} { return a * b; }`, arg: false, kahan: false };
    case 'max':
      return { init: isF ? '-f_inf()' : '(-2147483647 - 1)', step: '', combine: isF ? 'fn comb(a: f32, b: f32) -> f32 { return max_f(a, b); }' : 'fn comb(a: i32, b: i32) -> i32 { return max(a, b); }', arg: false, kahan: false };
    default:
      return { init: isF ? 'f_inf()' : '2147483647', step: '', combine: isF ? 'fn comb(a: f32, b: f32) -> f32 { return min_f(a, b); }' : 'fn comb(a: i32, b: i32) -> i32 { return min(a, b); }', arg: false, kahan: false };
  }
}

/**
 * Reduction kernels. `P = [outSize, R, keptShape(kr), keptOffset, keptStrides(kr), redShape(rr), 0, redStrides(rr)]`.
 * `perThread`: one invocation per output, a sequential (Kahan for float sum) loop over R.
 * Otherwise one workgroup of `wg` (a power of two) per output: strided partial loops, then a tree.
 */
export function reduceSource(wg: number, op: ReduceOp, dtype: DType, kr: number, rr: number, perThread: boolean): string {
  const L = reduceLayout(kr, rr);
  const outT = op === 'argmax' || op === 'argmin' ? 'int32' : dtype;
  return reduceKernel(wg, op, dtype, perThread, {
    head: header([{ name: 'X', dtype }, { name: 'O', dtype: outT, write: true }]) + FMATH,
    n: 'P[0]',
    R: 'P[1]',
    // P[redOp] (the reduced part's offset, always 0) is the runtime zero of the Kahan step
    zero: `P[${L.redOp}u]`,
    kept: (lin) => `${stridedIndex(lin, kr, L.keptShape, [L.keptOp])}\n  let base = o0;`,
    load: (r) => `${stridedIndex(r, rr, L.redShape, [L.redOp], 'q')}\n      let v = X[base + q0];`,
  });
}

/** What a reduction kernel is made of besides its reduction (see {@link reduceKernel}). */
interface ReduceSpec {
  /** Bindings (the output is `O`) and module-scope helpers; the reduction's combine function is appended. */
  readonly head: string;
  /** WGSL of the number of outputs and of the reduced length R. */
  readonly n: string;
  readonly R: string;
  /** WGSL of a runtime u32 zero (the Kahan step's barrier). */
  readonly zero: string;
  /** Statements run once per output index `lin` (before the loop). */
  readonly kept: (lin: string) => string;
  /** Statements that define `v`, the element at reduced index `r` of the current output. */
  readonly load: (r: string) => string;
}

/**
 * A reduction kernel around `spec`'s element load. `perThread`: one invocation per output, a
 * sequential (Kahan for float sum) loop over R. Otherwise one workgroup of `wg` (a power of two) per
 * output: strided partial loops, then a tree in workgroup memory.
 */
function reduceKernel(wg: number, op: ReduceOp, dtype: DType, perThread: boolean, spec: ReduceSpec): string {
  const T = wgslType(dtype);
  const parts = reduceParts(op, dtype);
  const head = spec.head + parts.combine + '\n';
  const load = spec.load;
  const accumDecl = parts.arg ? `var best: ${T} = ${parts.init}; var bi: u32 = 0xffffffffu;` : `var acc: ${T} = ${parts.init};${parts.kahan ? ' var cmp: f32 = 0.0;' : ''}`;
  const accumStep = parts.arg
    ? 'if (better(v, r, best, bi)) { best = v; bi = r; }'
    : parts.kahan
      ? // Kahan; the runtime zero keeps the compiler from simplifying (t − acc) − y to 0
        `let y = v - cmp; let t = bitcast<f32>(bitcast<u32>(acc + y) ^ ${spec.zero}); cmp = select((t - acc) - y, 0.0, is_inf(t)); acc = t;`
      : 'acc = comb(acc, v);';
  if (perThread) {
    const body = `${spec.kept('gid')}
  let R = ${spec.R};
  ${accumDecl}
  for (var r: u32 = 0u; r < R; r = r + 1u) {
      ${load('r')}
      ${accumStep}
  }
  O[gid] = ${parts.arg ? 'i32(bi)' : 'acc'};`;
    return head + entry1d(wg, body, spec.n);
  }
  const shared = parts.arg ? `var<workgroup> SV: array<${T}, ${wg}>;\nvar<workgroup> SI: array<u32, ${wg}>;` : `var<workgroup> SV: array<${T}, ${wg}>;`;
  const tree = parts.arg
    ? `SV[lid] = best; SI[lid] = bi;
  workgroupBarrier();
  for (var s: u32 = ${wg / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s) { if (better(SV[lid + s], SI[lid + s], SV[lid], SI[lid])) { SV[lid] = SV[lid + s]; SI[lid] = SI[lid + s]; } }
    workgroupBarrier();
  }
  if (lid == 0u) { O[o] = i32(SI[0]); }`
    : `SV[lid] = acc;
  workgroupBarrier();
  for (var s: u32 = ${wg / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s) { SV[lid] = comb(SV[lid], SV[lid + s]); }
    workgroupBarrier();
  }
  if (lid == 0u) { O[o] = SV[0]; }`;
  return `${head}${shared}
@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let o = wid.y * nwg.x + wid.x;
  if (o >= ${spec.n}) { return; }
${spec.kept('o')}
  let R = ${spec.R};
  ${accumDecl}
  for (var r: u32 = lid; r < R; r = r + ${wg}u) {
      ${load('r')}
      ${accumStep}
  }
  ${tree}
}
`;
}

/**
 * Parameter layout of a fused reduction (uniform): `P[0]` = number of outputs, `P[1]` = R, `P[2..4]`
 * the three runtime zeros of the program's barriers, the constants' bits from `P[5]`, the kept shape
 * (`kr` dims), the reduced shape (`rr` dims), then per input its kept offset and `kr` strides (at
 * `opAt[k]`), a 0 and its `rr` reduced strides (at `opAt[k] + 1 + kr`).
 */
export function reduceFusedLayout(consts: number, inputs: number, kr: number, rr: number): { zerosAt: number; constAt: number; keptShape: number; redShape: number; opAt: number[]; len: number } {
  const zerosAt = 2;
  const constAt = 5;
  const keptShape = constAt + consts;
  const redShape = keptShape + kr;
  let at = redShape + rr;
  const opAt: number[] = [];
  for (let k = 0; k < inputs; k++) {
    opAt.push(at);
    at += 2 + kr + rr;
  }
  return { zerosAt, constAt, keptShape, redShape, opAt, len: at };
}

/**
 * A reduction (`sum`, `prod`, `max`, `min` on float32) whose elements are the value of a fused
 * program (its one output) evaluated in the loop: the reduction kernel of {@link reduceSource} with
 * the program's statements (as {@link fusedSource} writes them) as its element load. Inputs `I0..`,
 * output `O`, the parameters uniform (see {@link reduceFusedLayout}); kept and reduced dims merged
 * over every input (ranks `kr`, `rr`).
 */
export function reduceFusedSource(wg: number, op: ReduceOp, program: FusedProgram, kr: number, rr: number, perThread: boolean): string {
  const L = reduceFusedLayout(program.consts, program.inputs.length, kr, rr);
  const P = (i: number): string => paramAt(i, true);
  const bindings = [...program.inputs.map((d, k) => ({ name: `I${k}`, dtype: d as DType })), { name: 'O', dtype: 'float32' as DType, write: true }];
  const used = [...usedInputs(program)].sort((x, y) => x - y);
  const code = fusedCode(program, (k) => `I${k}[b${used.indexOf(k)} + q${used.indexOf(k)}]`, L.constAt);
  const value = program.outputs[0]!.value;
  return reduceKernel(wg, op, 'float32', perThread, {
    head: header(bindings, { uniformParams: true }) + code.prelude,
    n: P(0),
    R: P(1),
    zero: 'z0',
    kept: (lin) => `${fusedZeros(L.zerosAt)}\n${stridedIndex(lin, kr, L.keptShape, used.map((k) => L.opAt[k]!), 'b', true)}`,
    load: (r) => `${stridedIndex(r, rr, L.redShape, used.map((k) => L.opAt[k]! + 1 + kr), 'q', true)}\n${code.lines.join('\n')}\n      let v = t${value};`,
  });
}

// ------------------------------------------------------------------ matmul

/** Params of {@link matmulSource}. */
export const MM = { M: 0, N: 1, K: 2, aOff: 3, aBs: 4, aMs: 5, aKs: 6, bOff: 7, bBs: 8, bKs: 9, bNs: 10, rowBase: 11, colBase: 12, batchBase: 13, len: 14 } as const;

/**
 * Register-blocked batched matmul: each invocation computes a 4×4 block of C, reading A and B
 * through their strides (a transposed operand costs the same as a contiguous one). Workgroup
 * `tx × ty` invocations covers a (4·ty) × (4·tx) tile; grid z is the batch.
 */
const STEP = `
    {
      let bv = vec4<f32>(B[b0], B[b1], B[b2], B[b3]);
      c0 = c0 + A[a0] * bv;
      c1 = c1 + A[a1] * bv;
      c2 = c2 + A[a2] * bv;
      c3 = c3 + A[a3] * bv;
      a0 = a0 + aKs; a1 = a1 + aKs; a2 = a2 + aKs; a3 = a3 + aKs;
      b0 = b0 + bKs; b1 = b1 + bKs; b2 = b2 + bKs; b3 = b3 + bKs;
    }`;

export function matmulSource(tx: number, ty: number, unroll = 1, epi: MatmulEpilogue = plainStore()): string {
  const p = epi.P;
  return `${epi.head}
@compute @workgroup_size(${tx}, ${ty})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let M = ${p(0)}; let N = ${p(1)}; let K = ${p(2)};
  let batch = wid.z + ${p(13)};
  let row0 = (wid.y * ${ty}u + lid.y) * 4u + ${p(11)};
  let col0 = (wid.x * ${tx}u + lid.x) * 4u + ${p(12)};
  if (row0 >= M || col0 >= N) { return; }
  let aMs = ${p(5)}; let aKs = ${p(6)}; let bKs = ${p(9)}; let bNs = ${p(10)};
  let abase = ${p(3)} + batch * ${p(4)};
  let bbase = ${p(7)} + batch * ${p(8)};
  var a0 = abase + row0 * aMs;
  var a1 = abase + min(row0 + 1u, M - 1u) * aMs;
  var a2 = abase + min(row0 + 2u, M - 1u) * aMs;
  var a3 = abase + min(row0 + 3u, M - 1u) * aMs;
  var b0 = bbase + col0 * bNs;
  var b1 = bbase + min(col0 + 1u, N - 1u) * bNs;
  var b2 = bbase + min(col0 + 2u, N - 1u) * bNs;
  var b3 = bbase + min(col0 + 3u, N - 1u) * bNs;
  var c0 = vec4<f32>(0.0); var c1 = vec4<f32>(0.0); var c2 = vec4<f32>(0.0); var c3 = vec4<f32>(0.0);
  var k: u32 = 0u;${unroll > 1 ? `
  for (; k + ${unroll - 1}u < K; k = k + ${unroll}u) {${Array.from({ length: unroll }, () => STEP).join('')}
  }` : ''}
  for (; k < K; k = k + 1u) {${STEP}
  }
  let cbase = batch * M * N;
  let rows = array<vec4<f32>, 4>(c0, c1, c2, c3);
  for (var i: u32 = 0u; i < 4u; i = i + 1u) {
    let r = row0 + i;
    if (r < M) {
      let o = cbase + r * N + col0;
      let v = rows[i];
${storeRow(epi)}
    }
  }
}
${epi.fn}`;
}

/**
 * How a matmul kernel reads its parameters and stores its results: `head` (bindings `A`, `B`, …,
 * helpers), `P(i)` the WGSL of parameter `i` of {@link MM}, `store(o, v)` the statement that stores
 * the float32 `v` at flat index `o` of the [B, M, N] result, `fn` module-scope code after the kernel.
 */
export interface MatmulEpilogue {
  readonly head: string;
  readonly P: (i: number) => string;
  readonly store: (o: string, v: string) => string;
  readonly fn: string;
}

/** The plain matmul: parameters in a storage binding, `C[o] = v`. */
function plainStore(): MatmulEpilogue {
  return {
    head: header([{ name: 'A', dtype: 'float32' }, { name: 'B', dtype: 'float32' }, { name: 'C', dtype: 'float32', write: true }]),
    P: (i) => `P[${i}]`,
    store: (o, v) => `C[${o}] = ${v};`,
    fn: '',
  };
}

/** Stores the 4 columns of row vector `v` from flat index `o` (columns past N skipped). */
function storeRow(epi: MatmulEpilogue): string {
  return `      ${epi.store('o', 'v.x')}
      if (col0 + 1u < N) { ${epi.store('o + 1u', 'v.y')} }
      if (col0 + 2u < N) { ${epi.store('o + 2u', 'v.z')} }
      if (col0 + 3u < N) { ${epi.store('o + 3u', 'v.w')} }`;
}

/**
 * The epilogue of `matmulFused`: bindings `A`, `B`, then the program's inputs 1.. as `I1..`, then its
 * outputs `O0..`; parameters uniform ({@link MM}, then {@link epilogueLayout} at `MM.len` for inputs
 * 1.., whose layout over the flat index is `access[k − 1]` at merged rank `rank`). Each result `v` at
 * flat index `o` goes through `epi(o, v)`: the program with input 0 = `v`, every output stored at `o`.
 */
export function matmulEpilogue(program: FusedProgram, rank: number, access: readonly FusedAccess[]): MatmulEpilogue {
  const L = epilogueLayout(MM.len, program.consts, rank, access);
  const P = (i: number): string => paramAt(i, true);
  const bindings = [
    { name: 'A', dtype: 'float32' as DType },
    { name: 'B', dtype: 'float32' as DType },
    ...program.inputs.slice(1).map((d, k) => ({ name: `I${k + 1}`, dtype: d as DType })),
    ...program.outputs.map((o, j) => ({ name: `O${j}`, dtype: o.dtype as DType, write: true })),
  ];
  const used = usedInputs(program);
  used.delete(0);
  const lines: string[] = [fusedZeros(L.zerosAt)];
  const strided = access.map((k, i) => (k === 'r' && used.has(i + 1) ? i + 1 : -1)).filter((i) => i >= 0);
  if (strided.length > 0) lines.push(stridedIndex('gi', rank, L.shapeAt, strided.map((i) => L.opAt[i - 1]!), 'q', true));
  access.forEach((k, i) => {
    if (!used.has(i + 1)) return;
    const at = L.opAt[i]!;
    lines.push(`  let o${i + 1} = ${k === 'c' ? `${P(at)} + gi` : k === 's' ? P(at) : `q${strided.indexOf(i + 1)}`};`);
  });
  const code = fusedCode(program, (k) => (k === 0 ? 'v' : `I${k}[o${k}]`), L.constAt);
  lines.push(...code.lines);
  program.outputs.forEach((o, j) => lines.push(`  O${j}[gi] = ${o.dtype === 'bool' ? `f2b(t${o.value})` : `t${o.value}`};`));
  return {
    head: header(bindings, { uniformParams: true }) + code.prelude,
    P,
    store: (o, v) => `epi(${o}, ${v});`,
    fn: `fn epi(gi: u32, v: f32) {\n${lines.join('\n')}\n}\n`,
  };
}

// ------------------------------------------------------------------ windows (im2col, col2im, pooling)

/** Window params shared by the 2-D window kernels; the view's offset and 4 strides follow. */
export const WIN = { total: 0, n: 1, c: 2, h: 3, w: 4, kH: 5, kW: 6, sH: 7, sW: 8, pT: 9, pL: 10, dH: 11, dW: 12, oH: 13, oW: 14, xOff: 15, xs: 16, len: 20 } as const;

const WIN_LETS = `  let C = P[2]; let H = i32(P[3]); let W = i32(P[4]); let kH = P[5]; let kW = P[6];
  let sH = i32(P[7]); let sW = i32(P[8]); let pT = i32(P[9]); let pL = i32(P[10]); let dH = i32(P[11]); let dW = i32(P[12]);
  let oH = P[13]; let oW = P[14];
  let xo = P[15]; let xs0 = P[16]; let xs1 = P[17]; let xs2 = P[18]; let xs3 = P[19];`;

/** im2col: one invocation per element of [n, c·kH·kW, oH·oW]. */
export function im2colSource(wg: number): string {
  return (
    header([{ name: 'X', dtype: 'float32' }, { name: 'O', dtype: 'float32', write: true }]) +
    entry1d(
      wg,
      `${WIN_LETS}
  let L = oH * oW;
  let CKK = C * kH * kW;
  let col = gid % L;
  let row = (gid / L) % CKK;
  let ni = gid / (L * CKK);
  let ox = i32(col % oW); let oy = i32(col / oW);
  let kj = i32(row % kW); let ki = i32((row / kW) % kH); let ci = row / (kW * kH);
  let y = oy * sH - pT + ki * dH;
  let x = ox * sW - pL + kj * dW;
  var v: f32 = 0.0;
  if (y >= 0 && y < H && x >= 0 && x < W) { v = X[xo + ni * xs0 + ci * xs1 + u32(y) * xs2 + u32(x) * xs3]; }
  O[gid] = v;`,
    )
  );
}

/** col2im: one invocation per element of [n, c, h, w], summing the columns that read it. */
export function col2imSource(wg: number): string {
  return (
    header([{ name: 'X', dtype: 'float32' }, { name: 'O', dtype: 'float32', write: true }]) +
    entry1d(
      wg,
      `${WIN_LETS}
  let x = i32(gid % u32(W));
  let y = i32((gid / u32(W)) % u32(H));
  let ci = (gid / u32(W * H)) % C;
  let ni = gid / (u32(W * H) * C);
  let L = oH * oW;
  var acc: f32 = 0.0;
  for (var ki: u32 = 0u; ki < kH; ki = ki + 1u) {
    let ty = y + pT - i32(ki) * dH;
    if (ty < 0 || (ty % sH) != 0) { continue; }
    let oy = u32(ty / sH);
    if (oy >= oH) { continue; }
    for (var kj: u32 = 0u; kj < kW; kj = kj + 1u) {
      let tx = x + pL - i32(kj) * dW;
      if (tx < 0 || (tx % sW) != 0) { continue; }
      let ox = u32(tx / sW);
      if (ox >= oW) { continue; }
      let row = (ci * kH + ki) * kW + kj;
      acc = acc + X[xo + ni * xs0 + row * xs1 + (oy * oW + ox) * xs2];
    }
  }
  O[gid] = acc;`,
    )
  );
}

/** pool2d: one invocation per output element of [n, c, oH, oW]. */
export function poolSource(wg: number, op: 'max' | 'avg'): string {
  const step = op === 'max' ? 'acc = max_f(acc, v);' : 'acc = acc + v; cnt = cnt + 1.0;';
  const fin = op === 'max' ? 'acc' : 'acc / cnt';
  return (
    header([{ name: 'X', dtype: 'float32' }, { name: 'O', dtype: 'float32', write: true }]) +
    FMATH +
    entry1d(
      wg,
      `${WIN_LETS}
  let ox = i32(gid % oW);
  let oy = i32((gid / oW) % oH);
  let ci = (gid / (oW * oH)) % C;
  let ni = gid / (oW * oH * C);
  let base = xo + ni * xs0 + ci * xs1;
  var acc: f32 = ${op === 'max' ? '-f_inf()' : '0.0'};
  var cnt: f32 = 0.0;
  for (var ki: u32 = 0u; ki < kH; ki = ki + 1u) {
    let y = oy * sH - pT + i32(ki) * dH;
    if (y < 0 || y >= H) { continue; }
    for (var kj: u32 = 0u; kj < kW; kj = kj + 1u) {
      let x = ox * sW - pL + i32(kj) * dW;
      if (x < 0 || x >= W) { continue; }
      let v = X[base + u32(y) * xs2 + u32(x) * xs3];
      ${step}
    }
  }
  O[gid] = ${fin};`,
    )
  );
}

/**
 * pool2dGrad: one invocation per input element of [n, c, h, w], gathering from every window
 * containing it. `max` recomputes each window's first maximal element. The dy view's offset and
 * 4 strides follow the x view's in P (P[20..24]).
 */
export function poolGradSource(wg: number, op: 'max' | 'avg'): string {
  const contrib =
    op === 'max'
      ? `// first maximal element of window (oy, ox)
      var best: f32 = 0.0; var by: i32 = -1; var bx: i32 = -1;
      for (var wi: u32 = 0u; wi < kH; wi = wi + 1u) {
        let yy = i32(oy) * sH - pT + i32(wi) * dH;
        if (yy < 0 || yy >= H) { continue; }
        for (var wj: u32 = 0u; wj < kW; wj = wj + 1u) {
          let xx = i32(ox) * sW - pL + i32(wj) * dW;
          if (xx < 0 || xx >= W) { continue; }
          let v = X[base + u32(yy) * xs2 + u32(xx) * xs3];
          if (by < 0 || (is_nan(v) && !is_nan(best)) || (!is_nan(best) && v > best)) { best = v; by = yy; bx = xx; }
        }
      }
      if (by == y && bx == x) { acc = acc + G[gbase + oy * gs2 + ox * gs3]; }`
      : `var cnt: f32 = 0.0;
      for (var wi: u32 = 0u; wi < kH; wi = wi + 1u) {
        let yy = i32(oy) * sH - pT + i32(wi) * dH;
        if (yy < 0 || yy >= H) { continue; }
        for (var wj: u32 = 0u; wj < kW; wj = wj + 1u) {
          let xx = i32(ox) * sW - pL + i32(wj) * dW;
          if (xx < 0 || xx >= W) { continue; }
          cnt = cnt + 1.0;
        }
      }
      acc = acc + G[gbase + oy * gs2 + ox * gs3] / cnt;`;
  return (
    header([{ name: 'X', dtype: 'float32' }, { name: 'G', dtype: 'float32' }, { name: 'O', dtype: 'float32', write: true }]) +
    FMATH +
    entry1d(
      wg,
      `${WIN_LETS}
  let go = P[20]; let gs0 = P[21]; let gs1 = P[22]; let gs2 = P[23]; let gs3 = P[24];
  let x = i32(gid % u32(W));
  let y = i32((gid / u32(W)) % u32(H));
  let ci = (gid / u32(W * H)) % C;
  let ni = gid / (u32(W * H) * C);
  let base = xo + ni * xs0 + ci * xs1;
  let gbase = go + ni * gs0 + ci * gs1;
  var acc: f32 = 0.0;
  for (var ki: u32 = 0u; ki < kH; ki = ki + 1u) {
    let ty = y + pT - i32(ki) * dH;
    if (ty < 0 || (ty % sH) != 0) { continue; }
    let oy = u32(ty / sH);
    if (oy >= oH) { continue; }
    for (var kj: u32 = 0u; kj < kW; kj = kj + 1u) {
      let tx = x + pL - i32(kj) * dW;
      if (tx < 0 || (tx % sW) != 0) { continue; }
      let ox = u32(tx / sW);
      if (ox >= oW) { continue; }
      ${contrib}
    }
  }
  O[gid] = acc;`,
    )
  );
}

// ------------------------------------------------------------------ gather / scatterAdd

/** Params of gather/scatter: `[total, outer, n, m, inner, xOff, xs0, xs1, xs2, iOff, is0]`. */
export const GS = { total: 0, outer: 1, n: 2, m: 3, inner: 4, xOff: 5, xs: 6, iOff: 9, is0: 10, len: 11 } as const;

/** gather: one invocation per output element of [outer, m, inner]. */
export function gatherSource(wg: number, dtype: DType): string {
  return (
    header([{ name: 'X', dtype }, { name: 'I', dtype: 'int32' }, { name: 'O', dtype, write: true }]) +
    entry1d(
      wg,
      `  let m = P[3]; let inner = P[4];
  let i = gid % inner;
  let j = (gid / inner) % m;
  let o = gid / (inner * m);
  let idx = u32(I[P[9] + j * P[10]]);
  O[gid] = X[P[5] + o * P[6] + idx * P[7] + i * P[8]];`,
    )
  );
}

/** scatterAdd, gathering form: one invocation per output element of [outer, n, inner], looping over m. */
export function scatterLoopSource(wg: number, dtype: DType): string {
  const zero = dtype === 'float32' ? '0.0' : '0';
  return (
    header([{ name: 'X', dtype }, { name: 'I', dtype: 'int32' }, { name: 'O', dtype, write: true }]) +
    entry1d(
      wg,
      `  let n = P[2]; let m = P[3]; let inner = P[4];
  let i = gid % inner;
  let row = i32((gid / inner) % n);
  let o = gid / (inner * n);
  var acc: ${wgslType(dtype)} = ${zero};
  let ub = P[5] + o * P[6] + i * P[8];
  for (var j: u32 = 0u; j < m; j = j + 1u) {
    if (I[P[9] + j * P[10]] == row) { acc = acc + X[ub + j * P[7]]; }
  }
  O[gid] = acc;`,
    )
  );
}

/** scatterAdd, atomic form: one invocation per update element of [outer, m, inner] (out zero-filled first). */
export function scatterAtomicSource(wg: number, dtype: DType): string {
  const add =
    dtype === 'float32'
      ? `var old = atomicLoad(&O[dst]);
  loop {
    let r = atomicCompareExchangeWeak(&O[dst], old, bitcast<u32>(bitcast<f32>(old) + v));
    if (r.exchanged) { break; }
    old = r.old_value;
  }`
      : 'atomicAdd(&O[dst], bitcast<u32>(v));';
  return (
    header([{ name: 'X', dtype }, { name: 'I', dtype: 'int32' }, { name: 'O', dtype: 'atomic', write: true }]) +
    entry1d(
      wg,
      `  let n = P[2]; let m = P[3]; let inner = P[4];
  let i = gid % inner;
  let j = (gid / inner) % m;
  let o = gid / (inner * m);
  let v = X[P[5] + o * P[6] + j * P[7] + i * P[8]];
  let dst = (o * n + u32(I[P[9] + j * P[10]])) * inner + i;
  ${add}`,
    )
  );
}

// ------------------------------------------------------------------ random

/**
 * random: `P = [n, key, counter, p3, p4, p5]`:
 * uniform p3 = a (f32 hi), p4 = a − hi (f32 lo), p5 = fround(b − a); normal p3 = a, p4 = b;
 * bernoulli p3 = threshold on the 24-bit word; randint p3 = a (i32), p4 = b − a (u32).
 */
export function randomSource(wg: number, kind: 'uniform' | 'normal' | 'bernoulli' | 'randint', out: DType): string {
  let body: string;
  const store = (v: string, from: DType) => `  O[gid] = ${convertExpr(v, from, out)};`;
  if (kind === 'uniform') {
    body = `  let u = f32(hash32(P[1], P[2] + gid) >> 8u) * (1.0 / 16777216.0);
  let ah = p_f32(3u); let al = p_f32(4u);
  let t = p_f32(5u) * u;
  // TwoSum: the exact error of ah + t. Shader compilers reassociate float math (NIR drops
  // (s − a) − t as 0), so s passes through an opaque xor with a runtime zero (P[6]).
  let s = bitcast<f32>(bitcast<u32>(ah + t) ^ P[6]);
  let bb = bitcast<f32>(bitcast<u32>(s - ah) ^ P[6]);
  let e = (ah - bitcast<f32>(bitcast<u32>(s - bb) ^ P[6])) + (t - bb);
  let r = s + (e + al);
${store('r', 'float32')}`;
  } else if (kind === 'normal') {
    body = `  let h1 = hash32(P[1], P[2] + 2u * gid);
  let h2 = hash32(P[1], P[2] + 2u * gid + 1u);
  let u1 = f32((h1 >> 8u) + 1u) * (1.0 / 16777216.0);
  let u2 = f32(h2 >> 8u) * (1.0 / 16777216.0);
  var lg: f32;
  if (u1 > 0.75) { lg = log1p_(u1 - 1.0); } else { lg = log_(u1); }
  let z = sqrt(-2.0 * lg) * cos2pi(u2);
  let r = p_f32(3u) + p_f32(4u) * z;
${store('r', 'float32')}`;
  } else if (kind === 'bernoulli') {
    body = `  let k = hash32(P[1], P[2] + gid) >> 8u;
  let r = select(0u, 1u, k < P[3]);
${store('r', 'bool')}`;
  } else {
    body = `  let k = hash32(P[1], P[2] + gid) >> 8u;
  let p = mul64(k, P[4]);
  let q = (p.y << 8u) | (p.x >> 24u);
  let r = bitcast<i32>(P[3] + q);
${store('r', 'int32')}`;
  }
  const extra = `
fn mul64(a: u32, b: u32) -> vec2<u32> {
  let a0 = a & 0xffffu; let a1 = a >> 16u; let b0 = b & 0xffffu; let b1 = b >> 16u;
  let p00 = a0 * b0; let p01 = a0 * b1; let p10 = a1 * b0; let p11 = a1 * b1;
  let mid = (p00 >> 16u) + (p01 & 0xffffu) + (p10 & 0xffffu);
  return vec2<u32>((p00 & 0xffffu) | (mid << 16u), p11 + (p01 >> 16u) + (p10 >> 16u) + (mid >> 16u));
}
fn cos2pi(u: f32) -> f32 {
  // cos(2πu) with the reduction done in turns (exact), then cephes polynomials
  let k = round(u * 4.0);
  let r = (u - k * 0.25) * 6.283185307179586;
  let z = r * r;
  let s = r + r * z * (-1.6666654611e-1 + z * (8.3321608736e-3 + z * -1.9515295891e-4));
  let c = 1.0 - 0.5 * z + z * z * (4.166664568298827e-2 + z * (-1.388731625493765e-3 + z * 2.443315711809948e-5));
  let q = (u32(i32(k) & 3) + 1u) & 3u;
  if (q == 0u) { return s; }
  if (q == 1u) { return c; }
  if (q == 2u) { return -s; }
  return -c;
}
`;
  return header([{ name: 'O', dtype: out, write: true }]) + FMATH + HASH + extra + entry1d(wg, body);
}

/**
 * Tiled, register-blocked batched matmul: a workgroup of `tx × ty` invocations stages a
 * (4·ty) × `tk` panel of A and a `tk` × (4·tx) panel of B in workgroup memory, each invocation
 * then accumulates a 4×4 block from it. Panels are loaded so that consecutive invocations read
 * consecutive addresses whichever stride of an operand is 1, so transposed views cost the same
 * as contiguous ones. Same params as {@link matmulSource}.
 */
export function matmulTiledSource(tx: number, ty: number, tk: number, epi: MatmulEpilogue = plainStore()): string {
  const TM = 4 * ty;
  const TN = 4 * tx;
  const n = tx * ty;
  const p = epi.P;
  const h = epi.head;
  return `${h}
var<workgroup> As: array<f32, ${TM * tk}>;
var<workgroup> Bs: array<f32, ${TN * tk}>;
@compute @workgroup_size(${tx}, ${ty})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let M = ${p(0)}; let N = ${p(1)}; let K = ${p(2)};
  let batch = wid.z + ${p(13)};
  let tileRow = wid.y * ${TM}u + ${p(11)};
  let tileCol = wid.x * ${TN}u + ${p(12)};
  let aMs = ${p(5)}; let aKs = ${p(6)}; let bKs = ${p(9)}; let bNs = ${p(10)};
  let abase = ${p(3)} + batch * ${p(4)};
  let bbase = ${p(7)} + batch * ${p(8)};
  let aKfast = aKs == 1u && aMs != 1u;
  let bNfast = bNs == 1u || bKs != 1u;
  var acc: array<vec4<f32>, 4>;
  for (var i = 0u; i < 4u; i = i + 1u) { acc[i] = vec4<f32>(0.0); }
  for (var k0: u32 = 0u; k0 < K; k0 = k0 + ${tk}u) {
    for (var e: u32 = li; e < ${TM * tk}u; e = e + ${n}u) {
      var r: u32; var kk: u32;
      if (aKfast) { kk = e % ${tk}u; r = e / ${tk}u; } else { r = e % ${TM}u; kk = e / ${TM}u; }
      let gr = tileRow + r; let gk = k0 + kk;
      var v: f32 = 0.0;
      if (gr < M && gk < K) { v = A[abase + gr * aMs + gk * aKs]; }
      As[kk * ${TM}u + r] = v;
    }
    for (var e: u32 = li; e < ${TN * tk}u; e = e + ${n}u) {
      var c: u32; var kk: u32;
      if (bNfast) { c = e % ${TN}u; kk = e / ${TN}u; } else { kk = e % ${tk}u; c = e / ${tk}u; }
      let gc = tileCol + c; let gk = k0 + kk;
      var v: f32 = 0.0;
      if (gc < N && gk < K) { v = B[bbase + gk * bKs + gc * bNs]; }
      Bs[kk * ${TN}u + c] = v;
    }
    workgroupBarrier();
    for (var kk: u32 = 0u; kk < ${tk}u; kk = kk + 1u) {
      let ao = kk * ${TM}u + lid.y * 4u;
      let bo = kk * ${TN}u + lid.x * 4u;
      let av = vec4<f32>(As[ao], As[ao + 1u], As[ao + 2u], As[ao + 3u]);
      let bv = vec4<f32>(Bs[bo], Bs[bo + 1u], Bs[bo + 2u], Bs[bo + 3u]);
      acc[0] = acc[0] + av.x * bv;
      acc[1] = acc[1] + av.y * bv;
      acc[2] = acc[2] + av.z * bv;
      acc[3] = acc[3] + av.w * bv;
    }
    workgroupBarrier();
  }
  let row0 = tileRow + lid.y * 4u;
  let col0 = tileCol + lid.x * 4u;
  let cbase = batch * M * N;
  for (var i: u32 = 0u; i < 4u; i = i + 1u) {
    let r = row0 + i;
    if (r < M && col0 < N) {
      let o = cbase + r * N + col0;
      let v = acc[i];
${storeRow(epi)}
    }
  }
}
${epi.fn}`;
}

// ------------------------------------------------------------------ attention (flash)

/**
 * Params of the attention kernel: sizes, the scale's float32 bits, the causal flag, then per view
 * (q, k, v, bias) its offset and 3 strides, then the first block of query rows and the first batch
 * of this dispatch (a grid beyond maxComputeWorkgroupsPerDimension takes several dispatches).
 */
export const ATT = { B: 0, Tq: 1, Tk: 2, D: 3, Dv: 4, scale: 5, causal: 6, q: 7, k: 11, v: 15, bias: 19, rowBase: 23, batchBase: 24, len: 25 } as const;

/**
 * The shape of an attention kernel: `wg` invocations, `bq` query rows per workgroup (`wg / bq`
 * invocations per row), key tiles of `bk`, the head dimension staged in chunks of `dq` (a query
 * block of D ≤ dq stays in workgroup memory for the whole sweep), and `cv` output columns
 * accumulated in registers per pass over the keys (Dv > cv takes ⌈Dv / cv⌉ passes).
 */
export interface AttentionPlan {
  readonly wg: number;
  readonly bq: number;
  readonly bk: number;
  readonly dq: number;
  readonly cv: number;
}

/** Bytes of workgroup memory an attention kernel of `p` uses (see {@link attentionSource}). */
export function attentionStorage(p: AttentionPlan): number {
  return 4 * (p.bq * p.dq + p.bk * Math.max(p.dq + 1, p.cv) + 2 * p.bq * p.bk);
}

/**
 * Scaled dot-product attention as ONE kernel (flash attention): a workgroup per (batch, block of
 * `bq` query rows) sweeps the keys in tiles of `bk`, staging each K tile (in chunks of `dq` of the
 * head dimension) and then the V tile in workgroup memory, and keeps, per query row, the running
 * maximum `m`, the running sum `l` and an accumulator of `cv` output columns (registers, spread over
 * the row's `wg / bq` invocations) rescaled by exp(m_old − m_new) whenever the maximum grows (online
 * softmax). Scores (`Ss`) and their probabilities (`Ps`, each computed once, by the invocation that
 * owns the score) exist only as `bq × bk` tiles; every operand is read through its strides.
 * Bindings: Q, K, V, (Bi: the bias, when `bias`), then O (contiguous [B, Tq, Dv]) and L (the
 * log-sum-exp, [B, Tq]). Params: {@link ATT}.
 *
 * Semantics (`Backend.attention`): a key j > i is masked when causal; a row whose scores are all
 * −Infinity gets NaN outputs and lse −Infinity (no 0·∞ or ∞ − ∞ on the way: a −Infinity maximum
 * keeps every probability 0); a NaN score makes its row NaN (through the maximum or its exp). Keys past
 * the block's last row are skipped entirely when causal.
 */
export function attentionSource(p: AttentionPlan, bias: boolean): string {
  const { wg, bq, bk, dq, cv } = p;
  const tr = wg / bq; // invocations per query row
  const kpt = bk / tr; // scores per invocation
  const cpt = cv / tr; // accumulated columns per invocation
  const ks = Math.max(dq + 1, cv); // row stride of a K tile in KV (dq + 1: no bank conflicts between a row's invocations)
  const bindings = [
    { name: 'Q', dtype: 'float32' as const },
    { name: 'K', dtype: 'float32' as const },
    { name: 'V', dtype: 'float32' as const },
    ...(bias ? [{ name: 'Bi', dtype: 'float32' as const }] : []),
    { name: 'O', dtype: 'float32' as const, write: true },
    { name: 'L', dtype: 'float32' as const, write: true },
  ];
  const A = ATT;
  const biasAdd = bias ? `if (rowOk && j < Tk) { x = x + Bi[bbase + j * P[${A.bias + 3}u]]; }` : '';
  return `${header(bindings)}${FMATH}
var<workgroup> Qs: array<f32, ${bq * dq}>;
var<workgroup> KV: array<f32, ${bk * ks}>;
var<workgroup> Ss: array<f32, ${bq * bk}>;
var<workgroup> Ps: array<f32, ${bq * bk}>;
@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let Tq = P[${A.Tq}u]; let Tk = P[${A.Tk}u]; let D = P[${A.D}u]; let Dv = P[${A.Dv}u];
  let scale = p_f32(${A.scale}u);
  let b = wid.y + P[${A.batchBase}u];
  let i0 = (wid.x + P[${A.rowBase}u]) * ${bq}u;
  let r = li / ${tr}u;
  let u = li % ${tr}u;
  let i = i0 + r;
  let rowOk = i < Tq;
  let qbase = P[${A.q}u] + b * P[${A.q + 1}u];
  let qTs = P[${A.q + 2}u]; let qDs = P[${A.q + 3}u];
  let kbase = P[${A.k}u] + b * P[${A.k + 1}u];
  let kTs = P[${A.k + 2}u]; let kDs = P[${A.k + 3}u];
  let vbase = P[${A.v}u] + b * P[${A.v + 1}u];
  let vTs = P[${A.v + 2}u]; let vDs = P[${A.v + 3}u];
  let bbase = P[${A.bias}u] + b * P[${A.bias + 1}u] + i * P[${A.bias + 2}u];
  let causal = P[${A.causal}u] != 0u;
  // keys past the block's last row are masked for every row of the block
  var kEnd = Tk;
  if (causal) { kEnd = min(Tk, i0 + ${bq}u); }
  let qResident = D <= ${dq}u;
  if (qResident) {
    for (var e: u32 = li; e < ${bq * dq}u; e = e + ${wg}u) {
      let rr = e / ${dq}u; let d = e % ${dq}u;
      var x: f32 = 0.0;
      if (i0 + rr < Tq && d < D) { x = Q[qbase + (i0 + rr) * qTs + d * qDs]; }
      Qs[e] = x;
    }
  }
  workgroupBarrier();
  let nPass = max(1u, (Dv + ${cv - 1}u) / ${cv}u);
  for (var ps: u32 = 0u; ps < nPass; ps = ps + 1u) {
    let c0 = ps * ${cv}u;
    var m: f32 = -f_inf();
    var l: f32 = 0.0;
    var acc: array<f32, ${cpt}>;
    for (var cc: u32 = 0u; cc < ${cpt}u; cc = cc + 1u) { acc[cc] = 0.0; }
    for (var j0: u32 = 0u; j0 < kEnd; j0 = j0 + ${bk}u) {
      // scores of this invocation's keys j0 + u + ${tr}·jj, dot products over D in chunks of ${dq}
      var s: array<f32, ${kpt}>;
      for (var jj: u32 = 0u; jj < ${kpt}u; jj = jj + 1u) { s[jj] = 0.0; }
      for (var d0: u32 = 0u; d0 < D; d0 = d0 + ${dq}u) {
        if (!qResident) {
          for (var e: u32 = li; e < ${bq * dq}u; e = e + ${wg}u) {
            let rr = e / ${dq}u; let d = d0 + e % ${dq}u;
            var x: f32 = 0.0;
            if (i0 + rr < Tq && d < D) { x = Q[qbase + (i0 + rr) * qTs + d * qDs]; }
            Qs[e] = x;
          }
        }
        for (var e: u32 = li; e < ${bk * dq}u; e = e + ${wg}u) {
          let jr = e / ${dq}u; let dd = e % ${dq}u; let j = j0 + jr; let d = d0 + dd;
          var x: f32 = 0.0;
          if (j < kEnd && d < D) { x = K[kbase + j * kTs + d * kDs]; }
          KV[jr * ${ks}u + dd] = x;
        }
        workgroupBarrier();
        let dn = min(${dq}u, D - d0);
        for (var dd: u32 = 0u; dd < dn; dd = dd + 1u) {
          let qv = Qs[r * ${dq}u + dd];
          for (var jj: u32 = 0u; jj < ${kpt}u; jj = jj + 1u) { s[jj] = s[jj] + qv * KV[(u + ${tr}u * jj) * ${ks}u + dd]; }
        }
        workgroupBarrier();
      }
      for (var jj: u32 = 0u; jj < ${kpt}u; jj = jj + 1u) {
        let jl = u + ${tr}u * jj;
        let j = j0 + jl;
        var x = scale * s[jj];
        ${biasAdd}
        if (j >= kEnd || (causal && j > i)) { x = -f_inf(); }
        Ss[r * ${bk}u + jl] = x;
      }
      // the V tile: rows j0.., columns c0..c0 + ${cv}
      for (var e: u32 = li; e < ${bk * cv}u; e = e + ${wg}u) {
        let jr = e / ${cv}u; let c = c0 + e % ${cv}u; let j = j0 + jr;
        var x: f32 = 0.0;
        if (j < kEnd && c < Dv) { x = V[vbase + j * vTs + c * vDs]; }
        KV[e] = x;
      }
      workgroupBarrier();
      // online softmax: each invocation of a row reads the row's scores for its maximum, writes the
      // probabilities of its own keys, then (after the barrier) reads all of them for the sum and
      // the weighted sum of the V tile
      var mt: f32 = -f_inf();
      for (var jl: u32 = 0u; jl < ${bk}u; jl = jl + 1u) { mt = max_f(mt, Ss[r * ${bk}u + jl]); }
      let mn = max_f(m, mt);
      let dead = mn == -f_inf();
      var alpha: f32 = 1.0;
      if (!dead) { alpha = exp_(m - mn); }
      for (var jj: u32 = 0u; jj < ${kpt}u; jj = jj + 1u) {
        let jl = u + ${tr}u * jj;
        var pj: f32 = 0.0;
        if (!dead) { pj = exp_(Ss[r * ${bk}u + jl] - mn); }
        Ps[r * ${bk}u + jl] = pj;
      }
      workgroupBarrier();
      l = l * alpha;
      for (var cc: u32 = 0u; cc < ${cpt}u; cc = cc + 1u) { acc[cc] = acc[cc] * alpha; }
      for (var jl: u32 = 0u; jl < ${bk}u; jl = jl + 1u) {
        let pj = Ps[r * ${bk}u + jl];
        l = l + pj;
        for (var cc: u32 = 0u; cc < ${cpt}u; cc = cc + 1u) { acc[cc] = acc[cc] + pj * KV[jl * ${cv}u + u + ${tr}u * cc]; }
      }
      m = mn;
      workgroupBarrier();
    }
    if (rowOk) {
      let obase = (b * Tq + i) * Dv;
      for (var cc: u32 = 0u; cc < ${cpt}u; cc = cc + 1u) {
        let c = c0 + u + ${tr}u * cc;
        if (c < Dv) { O[obase + c] = select(acc[cc] / l, f_nan(), l == 0.0); }
      }
      if (ps == 0u && u == 0u) { L[b * Tq + i] = select(m + log_(l), -f_inf(), l == 0.0); }
    }
  }
}
`;
}
