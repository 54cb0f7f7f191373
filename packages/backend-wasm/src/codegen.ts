/**
 * Run-time code generation for fused programs: a compiled program (the bytecode of
 * `src/fused.ts`) and the way each input is read become a tiny WebAssembly module, written byte by
 * byte here (no toolchain), that imports the backend's `WebAssembly.Memory` and exports one
 * function `run(params, rows, cols, planes)`:
 *
 * - it walks `planes` × `rows` × `cols` elements (the view's dims after merging, at most 3); the
 *   outputs are contiguous over the whole index space, and each input is read per its *kind*:
 *   {@link KIND_ROW} (a row's elements are contiguous; rows and planes start any number of bytes
 *   apart, 0 included: a contiguous input, a bias row `[N]` over `[M, N]`, a sliced matrix),
 *   {@link KIND_SCALAR} (one element for the whole call: splatted once) or {@link KIND_COLUMN}
 *   (one element per row: `[M, 1]` over `[M, N]`, a per-channel bias over NCHW; splatted at each
 *   row's start);
 * - each row runs a SIMD loop of {@link UNROLL} vectors (16 lanes) a step, a loop of single vectors,
 *   and a tail loop for the last `cols mod 4` elements; the tail runs the very same SIMD
 *   instructions on one lane (loaded with `v128.load32_splat`, stored with `v128.store32_lane`),
 *   so every element takes the same instructions as in the interpreter, whose SIMD loops cover
 *   every lane;
 * - every value lives in a `v128` local (the bytecode's registers become locals, reused after a
 *   value's last use); constants and what is computed from them alone are computed once per call,
 *   so an element's operands are loaded once and its outputs stored once;
 * - every op is the interpreter's own SIMD expression (`scripts/gen-fused.mjs`, from the kernels'
 *   tables in `scripts/gen-elementwise.mjs`) written as wasm instructions; the ops the interpreter
 *   runs through a kernel call an exported helper of the main module that holds the kernel's own
 *   expression (`fused_v_exp`: v128 → v128 for exp, log, tanh, sigmoid; `fused_s_pow`: f32 lane by
 *   lane for the ops without a SIMD form), so results are bit for bit the interpreter's (no FMA).
 *
 * - for `reduceFused`, a kernel may reduce the program's one output instead of storing it
 *   ({@link REDUCE_ROWS}: each row to one element; {@link REDUCE_COLS}: each column over the
 *   rows), accumulating in the order of the `reduce` kernel, so results equal `fused` + `reduce`
 *   bit for bit.
 *
 * The function reads its pointers and constants from the interpreter's parameter block (the
 * backend fills it the same way for both); input `k`'s row and plane strides (bytes) are the first
 * two stride words of its record. Modules are cached per program by the input kinds, the most
 * recently used kept ({@link FusedCodegen}).
 * @internal
 */
import { FUSED_HELPERS, FUSED_LAYOUT as L, FUSED_OPCODES } from './generated/kernels.js';
import type { CompiledFused } from './fused.js';

/** Input kind: contiguous within a row, rows `rowStride` bytes apart (0: the same row each time). @internal */
export const KIND_ROW = 0;
/** Input kind: one element for the whole call. @internal */
export const KIND_SCALAR = 1;
/** Input kind: one element per row (inner stride 0). @internal */
export const KIND_COLUMN = 2;

/**
 * Reduction kind of a generated kernel (`red >> 2` of {@link generateFused}'s `red`): each row
 * (`rows` × `cols` in each of `planes`) reduces to one output element, the outputs contiguous over
 * planes and rows, in the order `reduce_f32` sums a
 * contiguous row (`sumRowF32`/`maxRowF32` in assembly/reduce.ts: 8-lane groups into four float64
 * pairs or two pmax/pmin vectors, then the last `cols mod 8` one by one). @internal
 */
export const REDUCE_ROWS = 1;
/**
 * Reduction kind: each column reduces over the rows (of every plane, plane after plane) to one
 * output element, in the order of
 * `reduceColsF32` (row by row into float64 accumulators for sum/prod, at the parameter block's
 * second output address; straight into the output for max/min). @internal
 */
export const REDUCE_COLS = 2;
/**
 * Reduction kind: every element (`planes` × `rows` × `cols`) to one output element, as
 * {@link REDUCE_ROWS} walks one row of `planes · rows · cols` elements: the row's accumulators
 * carry over from row to row and are combined once at the end. The same order as `reduce_f32`
 * over the values as one contiguous row where `cols` is a multiple of 8 (whole 8-lane groups in
 * every row, no tail) or for a product (one element after another); the backend asks for no
 * other. @internal
 */
export const REDUCE_ALL = 3;

/**
 * A generated kernel: `params` is the parameter block's address; it runs `planes` × `rows` × `cols`
 * elements (each ≥ 1). @internal
 */
export type FusedRunFn = (params: number, rows: number, cols: number, planes: number) => void;

/** A generated module in the cache. @internal */
export interface GeneratedFused {
  readonly run: FusedRunFn;
  /** Size of the module in bytes. */
  readonly bytes: number;
  /** The module's bytes (worker threads compile their own instance from them). */
  readonly code: Uint8Array;
  /** Unique among this cache's modules, ever (the workers' key for it). */
  readonly id: number;
  /** Last use (the cache's clock), for least-recently-used eviction. */
  used: number;
  /** The program's table it is listed in, and its kinds code there. */
  readonly owner: Map<number, GeneratedFused | null>;
  readonly kinds: number;
}

/**
 * Largest module generated: browsers refuse `new WebAssembly.Module` on bytes above 4 KB on the
 * main thread, so a program whose module would be larger runs in the interpreter everywhere.
 */
export const CODEGEN_MAX_BYTES = 4096;

/**
 * Vectors per step of the main loop (16 lanes; measured against 1, 2 and 8 on the Adam update: 4
 * was fastest). A program whose module would exceed {@link CODEGEN_MAX_BYTES} unrolled is
 * generated with 2, then 1. @internal
 */
export const UNROLL = 4;

// ------------------------------------------------------------------ opcodes

const I32 = 0x7f;
const F64 = 0x7c;
const F32 = 0x7d;
const V128 = 0x7b;
/** Core opcodes (a const enum: the minifier inlines them). */
const enum Op {
  block = 0x02,
  loop = 0x03,
  end = 0x0b,
  br_if = 0x0d,
  call = 0x10,
  select = 0x1b,
  local_get = 0x20,
  local_set = 0x21,
  local_tee = 0x22,
  i32_load = 0x28,
  f32_load = 0x2a,
  f64_load = 0x2b,
  i32_load8_u = 0x2d,
  f32_store = 0x38,
  f64_store = 0x39,
  i32_store8 = 0x3a,
  i32_const = 0x41,
  f32_const = 0x43,
  f64_const = 0x44,
  i32_eqz = 0x45,
  i32_ne = 0x47,
  i32_lt_u = 0x49,
  i32_ge_u = 0x4f,
  i32_add = 0x6a,
  i32_sub = 0x6b,
  i32_and = 0x71,
  i32_shl = 0x74,
  f64_add = 0xa0,
  f64_mul = 0xa2,
  f32_convert_i32_u = 0xb3,
  f32_demote_f64 = 0xb6,
  f64_promote_f32 = 0xbb,
  simd = 0xfd,
}
/** SIMD opcodes (after the 0xfd prefix, as LEB128). */
const enum V {
  load = 0x00,
  load32_splat = 0x09,
  store = 0x0b,
  v128_const = 0x0c,
  i8x16_shuffle = 0x0d,
  f32x4_splat = 0x13,
  i32x4_extract_lane = 0x1b,
  f32x4_extract_lane = 0x1f,
  f32x4_replace_lane = 0x20,
  f64x2_extract_lane = 0x21,
  f32x4_eq = 0x41,
  f32x4_ne = 0x42,
  f32x4_lt = 0x43,
  f32x4_gt = 0x44,
  f32x4_le = 0x45,
  f32x4_ge = 0x46,
  and = 0x4e,
  or = 0x50,
  xor = 0x51,
  bitselect = 0x52,
  any_true = 0x53,
  store32_lane = 0x5a,
  load32_zero = 0x5c,
  f64x2_promote_low_f32x4 = 0x5f,
  i8x16_narrow_i16x8_u = 0x66,
  f32x4_ceil = 0x67,
  f32x4_floor = 0x68,
  f32x4_nearest = 0x6a,
  i16x8_narrow_i32x4_u = 0x86,
  i16x8_extend_low_i8x16_u = 0x89,
  i32x4_extend_low_i16x8_u = 0xa9,
  f32x4_abs = 0xe0,
  f32x4_neg = 0xe1,
  f32x4_sqrt = 0xe3,
  f32x4_add = 0xe4,
  f32x4_sub = 0xe5,
  f32x4_mul = 0xe6,
  f32x4_div = 0xe7,
  f32x4_min = 0xe8,
  f32x4_max = 0xe9,
  f32x4_pmin = 0xea,
  f32x4_pmax = 0xeb,
  f64x2_add = 0xf0,
  f64x2_mul = 0xf2,
  f32x4_convert_i32x4_u = 0xfb,
}

// ------------------------------------------------------------------ the ops

/**
 * An op as a stack program: {@link Tok} entries push the operands or splatted constants, the
 * others are SIMD opcodes. Each is the interpreter's expression (scripts/gen-fused.mjs,
 * quoted beside it), in the same operand order.
 */
const enum Tok {
  X = -1,
  Y = -2,
  Zero = -3,
  One = -4,
  MinusOne = -5,
}
const CMP1 = (cmp: number): readonly number[] => [Tok.X, Tok.Y, cmp, Tok.One, V.and]; // v128.and(f32x4.cmp(x, y), one)
const LOGIC1 = (op: number): readonly number[] => [Tok.X, Tok.Zero, V.f32x4_ne, Tok.Y, Tok.Zero, V.f32x4_ne, op, Tok.One, V.and];
const INLINE: Readonly<Record<string, readonly number[]>> = {
  neg: [Tok.X, V.f32x4_neg], // f32x4.neg(x)
  abs: [Tok.X, V.f32x4_abs], // f32x4.abs(x)
  // v128.bitselect(one, v128.bitselect(f32x4.splat(-1.0), v128.bitselect(zero, x, f32x4.eq(x, zero)), f32x4.lt(x, zero)), f32x4.gt(x, zero))
  sign: [Tok.One, Tok.MinusOne, Tok.Zero, Tok.X, Tok.X, Tok.Zero, V.f32x4_eq, V.bitselect, Tok.X, Tok.Zero, V.f32x4_lt, V.bitselect, Tok.X, Tok.Zero, V.f32x4_gt, V.bitselect],
  sqrt: [Tok.X, V.f32x4_sqrt], // f32x4.sqrt(x)
  rsqrt: [Tok.One, Tok.X, V.f32x4_sqrt, V.f32x4_div], // vrsqrt: f32x4.div(f32x4.splat(1.0), f32x4.sqrt(x))
  reciprocal: [Tok.One, Tok.X, V.f32x4_div], // f32x4.div(f32x4.splat(1.0), x)
  square: [Tok.X, Tok.X, V.f32x4_mul], // f32x4.mul(x, x)
  relu: [Tok.X, Tok.Zero, V.f32x4_pmax], // vrelu: f32x4.pmax(x, f32x4.splat(0))
  floor: [Tok.X, V.f32x4_floor],
  ceil: [Tok.X, V.f32x4_ceil],
  round: [Tok.X, V.f32x4_nearest],
  not: [Tok.X, Tok.Zero, V.f32x4_eq, Tok.One, V.and], // v128.and(f32x4.eq(x, zero), one)
  add: [Tok.X, Tok.Y, V.f32x4_add],
  sub: [Tok.X, Tok.Y, V.f32x4_sub],
  mul: [Tok.X, Tok.Y, V.f32x4_mul],
  div: [Tok.X, Tok.Y, V.f32x4_div],
  max: [Tok.X, Tok.Y, V.f32x4_max], // f32x4.max: NaN-propagating, as the binary kernel's SIMD path
  min: [Tok.X, Tok.Y, V.f32x4_min],
  eq: CMP1(V.f32x4_eq),
  ne: CMP1(V.f32x4_ne),
  lt: CMP1(V.f32x4_lt),
  le: CMP1(V.f32x4_le),
  gt: CMP1(V.f32x4_gt),
  ge: CMP1(V.f32x4_ge),
  and: LOGIC1(V.and), // v128.and(v128.and(f32x4.ne(x, zero), f32x4.ne(y, zero)), one)
  or: LOGIC1(V.or),
  xor: LOGIC1(V.xor),
};

/** Opcode → op name and arity (the fused opcode tables of the build). */
const OPS = new Map<number, { name: string; arity: 1 | 2 }>();
for (const [name, code] of Object.entries(FUSED_OPCODES.unary)) OPS.set(code, { name, arity: 1 });
for (const [name, code] of Object.entries(FUSED_OPCODES.binary)) OPS.set(code, { name, arity: 2 });

/** Whether the generator writes `op` (inline, or through a helper of the main module). @internal */
export function codegenCovers(op: string): boolean {
  return INLINE[op] !== undefined || FUSED_HELPERS.vector[op] !== undefined || FUSED_HELPERS.scalar[op] !== undefined;
}

// ------------------------------------------------------------------ bytes

/** A growable byte buffer with LEB128 writers. */
class Bytes {
  b: number[] = [];
  byte(...xs: number[]): void {
    for (const x of xs) this.b.push(x);
  }
  u32(v: number): void {
    let x = v >>> 0;
    do {
      const c = x & 0x7f;
      x >>>= 7;
      this.b.push(x !== 0 ? c | 0x80 : c);
    } while (x !== 0);
  }
  s32(v: number): void {
    let x = v | 0;
    for (;;) {
      const c = x & 0x7f;
      x >>= 7;
      if ((x === 0 && (c & 0x40) === 0) || (x === -1 && (c & 0x40) !== 0)) {
        this.b.push(c);
        return;
      }
      this.b.push(c | 0x80);
    }
  }
  name(s: string): void {
    this.u32(s.length);
    for (let i = 0; i < s.length; i++) this.b.push(s.charCodeAt(i));
  }
  /** A section: id, then the byte length of `body`, then `body`. */
  section(id: number, body: Bytes): void {
    this.byte(id);
    this.u32(body.b.length);
    for (const x of body.b) this.b.push(x);
  }
}

/** Function types: the kernel, then the helpers' signatures. */
const T_RUN = 0;
const T_V = 1; // v128 → v128
const T_S1 = 2; // f32 → f32
const T_S2 = 3; // f32, f32 → f32

/**
 * Writes the module for program `c` with input kinds `kinds` (one of the `KIND_*` per input) and
 * `unroll` vectors a step in the main loop; returns its bytes and the main module's helpers it
 * imports (module `h`), or null when an op is not covered. With `red` (`kind << 2 | op`: kind
 * {@link REDUCE_ROWS} or {@link REDUCE_COLS}, op 0 sum, 1 prod, 2 max, 3 min) the program's one
 * float32 output is reduced instead of stored, in the order of `reduce_f32` on a contiguous
 * tensor holding it (bit for bit the same results). @internal
 */
export function generateFused(c: CompiledFused, kinds: ArrayLike<number>, unroll = 1, red = 0, shared = false): { bytes: Uint8Array; helpers: string[] } | null {
  const code = c.code;
  // a reduction (red = kind << 2 | op, op 0 sum, 1 prod, 2 max, 3 min): the one float32 output is
  // accumulated where it would be stored
  const rk = red >> 2;
  const rop = red & 3;
  const all = rk === REDUCE_ALL;
  // REDUCE_ALL runs as REDUCE_ROWS over one long row: the per-row code, its state kept across rows
  const rows = rk === REDUCE_ROWS || all;
  const wide = rop < 2; // sum and prod accumulate in float64
  const pro = code[0]!;
  const words = code.length;
  // 1. the helpers the program calls (imported in order of first use)
  const helpers: { name: string; type: number }[] = [];
  const helperIx = new Map<string, number>();
  for (let pc = 2; pc < words; pc++) {
    const op = code[pc]! & 255;
    if (op === L.opWhere) pc++;
    if (op < L.firstOp) continue;
    const info = OPS.get(op);
    if (info === undefined) return null;
    if (INLINE[info.name] !== undefined) continue;
    const v = FUSED_HELPERS.vector[info.name];
    const s = FUSED_HELPERS.scalar[info.name];
    const name = v ?? s;
    if (name === undefined) return null;
    if (!helperIx.has(name)) {
      helperIx.set(name, helpers.length);
      helpers.push({ name, type: v !== undefined ? T_V : info.arity === 1 ? T_S1 : T_S2 });
    }
  }

  // 2. locals: 0 params, 1 rows, 2 cols, 3 planes, then as allocated
  const localTypes: number[] = [];
  const local = (type: number): number => {
    localTypes.push(type);
    return 3 + localTypes.length;
  };
  const init = new Bytes(); // runs once per call, before the rows
  const f = new Bytes(); // the rest
  const P = 0;
  const ROWS = 1;
  const COLS = 2;
  const PLANES = 3;
  const get = (w: Bytes, l: number): void => {
    w.byte(Op.local_get);
    w.u32(l);
  };
  const set = (w: Bytes, l: number): void => {
    w.byte(Op.local_set);
    w.u32(l);
  };
  const simd = (w: Bytes, op: number): void => {
    w.byte(Op.simd);
    w.u32(op);
  };
  const mem = (w: Bytes, align: number, offset: number): void => {
    w.u32(align);
    w.u32(offset);
  };
  const i32Const = (w: Bytes, v: number): void => {
    w.byte(Op.i32_const);
    w.s32(v);
  };
  /** Stores the v128 on the stack at the address below it: 4 lanes (vector, at 16·u) or lane 0. */
  const storeF32 = (w: Bytes, vector: boolean, u: number): void => {
    if (vector) {
      simd(w, V.store);
      mem(w, 4, 16 * u);
    } else {
      simd(w, V.store32_lane);
      mem(w, 2, 0);
      w.byte(0);
    }
  };
  /** A v128 local holding a splatted f32 constant, made on first use. */
  const constLocals = new Map<number, number>();
  const constant = (v: number): number => {
    let l = constLocals.get(v);
    if (l === undefined) {
      l = local(V128);
      constLocals.set(v, l);
      const bits = new Uint8Array(new Float32Array([v, v, v, v]).buffer);
      simd(init, V.v128_const);
      init.byte(...bits);
      set(init, l);
    }
    return l;
  };
  let i32One = -1;
  const oneI32 = (): number => {
    if (i32One < 0) {
      i32One = local(V128);
      simd(init, V.v128_const);
      init.byte(...new Uint8Array(new Int32Array([1, 1, 1, 1]).buffer));
      set(init, i32One);
    }
    return i32One;
  };

  const nIn = c.inputs.length;
  const nOut = c.outputs.length;
  const esz = (d: string): number => (d === 'bool' ? 1 : 4);
  const inPlane: number[] = []; // plane start (KIND_ROW, KIND_COLUMN)
  const inPlaneStride: number[] = []; // plane stride in bytes
  const inBase: number[] = []; // row start
  const inStride: number[] = []; // row stride in bytes
  const inPtr: number[] = []; // walking pointer (KIND_ROW)
  const inVal: number[] = []; // splatted value (KIND_SCALAR, KIND_COLUMN)
  /** Pushes input `k`'s element at address local `addr` splatted to a float32 vector. */
  const splatElement = (w: Bytes, k: number, addr: number): void => {
    get(w, addr);
    if (c.inputs[k] === 'bool') {
      w.byte(Op.i32_load8_u);
      mem(w, 0, 0);
      w.byte(Op.f32_convert_i32_u);
      simd(w, V.f32x4_splat);
    } else {
      simd(w, V.load32_splat);
      mem(w, 2, 0);
    }
  };
  for (let k = 0; k < nIn; k++) {
    const kind = kinds[k]!;
    const rec = L.pIn + k * L.inBytes;
    inPlane[k] = inPlaneStride[k] = inBase[k] = inStride[k] = inPtr[k] = inVal[k] = -1;
    if (kind === KIND_SCALAR) {
      const a = local(I32);
      get(init, P);
      init.byte(Op.i32_load);
      mem(init, 2, rec + 4);
      set(init, a);
      inVal[k] = local(V128);
      splatElement(init, k, a);
      set(init, inVal[k]);
      continue;
    }
    inPlane[k] = local(I32);
    inPlaneStride[k] = local(I32);
    inBase[k] = local(I32);
    inStride[k] = local(I32);
    for (const [l, at] of [[inPlane[k], rec + 4], [inStride[k], rec + 16], [inPlaneStride[k], rec + 20]] as const) {
      get(init, P);
      init.byte(Op.i32_load);
      mem(init, 2, at);
      set(init, l);
    }
    if (kind === KIND_ROW) inPtr[k] = local(I32);
    else inVal[k] = local(V128);
  }
  const outPtr: number[] = [];
  for (let j = 0; j < nOut; j++) {
    outPtr[j] = local(I32);
    get(init, P);
    init.byte(Op.i32_load);
    mem(init, 2, L.pOut + 4 * j);
    set(init, outPtr[j]);
  }
  const regs: number[] = [];
  for (let r = 0; r < c.registers; r++) regs.push(local(V128));
  const I = local(I32);
  // reduction state: float64 pairs (rows sum), a float64 (rows sum/prod), pmax/pmin vectors, a NaN
  // mask and a float32 (rows max/min); the walking accumulator pointer and its base (columns)
  const acc4 = rows && rop === 0 ? [local(V128), local(V128), local(V128), local(V128)] : [];
  const mm2 = rows && !wide ? [local(V128), local(V128), local(V128)] : [];
  const ACC = rows ? local(wide ? F64 : F32) : -1;
  const ACCP = rk === REDUCE_COLS ? local(I32) : -1;
  const ACCBASE = rk === REDUCE_COLS ? local(I32) : -1;
  const f64c = (w: Bytes, v: number): void => {
    w.byte(Op.f64_const, ...new Uint8Array(new Float64Array([v]).buffer));
  };
  const f32c = (w: Bytes, v: number): void => {
    w.byte(Op.f32_const, ...new Uint8Array(new Float32Array([v]).buffer));
  };
  /** Pushes the float32 lane `lane` of local `l` promoted to float64. */
  const laneF64 = (w: Bytes, l: number, lane: number): void => {
    get(w, l);
    simd(w, V.f32x4_extract_lane);
    w.byte(lane, Op.f64_promote_f32);
  };
  /** Pushes lanes 0–1 of local `l` (with `hi`: lanes 2–3) promoted to a float64 pair. */
  const promote = (w: Bytes, l: number, hi: boolean): void => {
    get(w, l);
    if (hi) {
      // i64x2.shuffle(v, v, 1, 0): lanes 2–3 moved down
      get(w, l);
      simd(w, V.i8x16_shuffle);
      w.byte(8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7);
    }
    simd(w, V.f64x2_promote_low_f32x4);
  };
  /** max/min of the two vectors on the stack (NaN-propagating: `fmax`/`fmin` of assembly/math.ts lane by lane). */
  const minmax = (w: Bytes): void => simd(w, rop === 2 ? V.f32x4_max : V.f32x4_min);
  /**
   * Accumulates the value in local `val` (copy `u` of an unrolled step; lane 0 only unless
   * `vector`) into the reduction.
   */
  const accumulate = (w: Bytes, val: number, u: number, vector: boolean): void => {
    if (rows) {
      if (rop === 0 && vector) {
        // sumRowF32: an 8-lane group's first vector into pairs 0–1, its second into pairs 2–3
        for (let h = 0; h < 2; h++) {
          const a = acc4[(u & 1) * 2 + h]!;
          get(w, a);
          promote(w, val, h === 1);
          simd(w, V.f64x2_add);
          set(w, a);
        }
      } else if (wide) {
        for (let lane = 0; lane < (vector ? 4 : 1); lane++) {
          get(w, ACC);
          laneF64(w, val, lane);
          w.byte(rop === 0 ? Op.f64_add : Op.f64_mul);
          set(w, ACC);
        }
      } else if (vector) {
        // maxRowF32: v = pmax(v, x), w = pmax(w, y) (pmin for min); NaN tracked on the side
        const m = mm2[u & 1]!;
        get(w, m);
        get(w, val);
        simd(w, rop === 2 ? V.f32x4_pmax : V.f32x4_pmin);
        set(w, m);
        get(w, mm2[2]!);
        get(w, val);
        get(w, val);
        simd(w, V.f32x4_ne);
        simd(w, V.or);
        set(w, mm2[2]!);
      } else {
        get(w, ACC);
        simd(w, V.f32x4_splat);
        get(w, val);
        minmax(w);
        simd(w, V.f32x4_extract_lane);
        w.byte(0);
        set(w, ACC);
      }
      return;
    }
    // columns (reduceColsF32): float64 pairs for sum/prod, the float32 output for max/min
    if (wide) {
      if (vector) {
        for (let h = 0; h < 2; h++) {
          get(w, ACCP);
          get(w, ACCP);
          simd(w, V.load);
          mem(w, 4, 32 * u + 16 * h);
          promote(w, val, h === 1);
          simd(w, rop === 0 ? V.f64x2_add : V.f64x2_mul);
          simd(w, V.store);
          mem(w, 4, 32 * u + 16 * h);
        }
      } else {
        get(w, ACCP);
        get(w, ACCP);
        w.byte(Op.f64_load);
        mem(w, 3, 0);
        laneF64(w, val, 0);
        w.byte(rop === 0 ? Op.f64_add : Op.f64_mul, Op.f64_store);
        mem(w, 3, 0);
      }
    } else {
      get(w, ACCP);
      get(w, ACCP);
      if (vector) {
        simd(w, V.load);
        mem(w, 4, 16 * u);
      } else {
        simd(w, V.load32_splat);
        mem(w, 2, 0);
      }
      get(w, val);
      minmax(w);
      storeF32(w, vector, u);
    }
  };

  /** Where register r's value is right now (a register, or a hoisted input's local). */
  const alias = regs.slice();
  /**
   * Emits the instructions of words [from, to): `vector` for 4 lanes, else lane 0 only; `u` is the
   * copy's index in an unrolled loop (its elements lie 4u elements past the pointers).
   */
  const emit = (w: Bytes, from: number, to: number, vector: boolean, u = 0): void => {
    for (let r = 0; r < regs.length; r++) alias[r] = regs[r]!;
    for (let pc = from; pc < to; pc++) {
      const word = code[pc]! >>> 0;
      const op = word & 255;
      const fd = (word >>> 8) & 255;
      const fa = (word >>> 16) & 255;
      const fb = word >>> 24;
      if (op === L.opLoad) {
        const k = fa;
        if (inVal[k]! >= 0) {
          alias[fd] = inVal[k]!;
          continue;
        }
        if (!vector) splatElement(w, k, inPtr[k]!);
        else if (c.inputs[k] === 'bool') {
          get(w, inPtr[k]!);
          simd(w, V.load32_zero);
          mem(w, 2, 4 * u);
          simd(w, V.i16x8_extend_low_i8x16_u);
          simd(w, V.i32x4_extend_low_i16x8_u);
          simd(w, V.f32x4_convert_i32x4_u);
        } else {
          get(w, inPtr[k]!);
          simd(w, V.load);
          mem(w, 4, 16 * u);
        }
        set(w, regs[fd]!);
        alias[fd] = regs[fd]!;
      } else if (op === L.opConst) {
        get(w, P);
        w.byte(Op.f32_load);
        mem(w, 2, L.pConst + 4 * fa);
        simd(w, V.f32x4_splat);
        set(w, regs[fd]!);
        alias[fd] = regs[fd]!;
      } else if (op === L.opOut) {
        // the interpreter's hint to compute into the output: values live in locals here
      } else if (op === L.opStoreF32 && red !== 0) {
        accumulate(w, alias[fa]!, u, vector);
      } else if (op === L.opStoreF32) {
        get(w, outPtr[fd]!);
        get(w, alias[fa]!);
        storeF32(w, vector, u);
      } else if (op === L.opStoreU8) {
        // value != 0 (NaN included) as a byte 0/1
        get(w, outPtr[fd]!);
        get(w, alias[fa]!);
        get(w, constant(0));
        simd(w, V.f32x4_ne);
        if (vector) {
          get(w, oneI32());
          simd(w, V.and);
          get(w, constant(0));
          simd(w, V.i16x8_narrow_i32x4_u);
          get(w, constant(0));
          simd(w, V.i8x16_narrow_i16x8_u);
          simd(w, V.store32_lane);
          mem(w, 2, 4 * u);
          w.byte(0);
        } else {
          simd(w, V.i32x4_extract_lane);
          w.byte(0);
          i32Const(w, 1);
          w.byte(Op.i32_and);
          w.byte(Op.i32_store8);
          mem(w, 0, 0);
        }
      } else if (op === L.opWhere) {
        // v128.bitselect(then, else, f32x4.ne(cond, zero))
        const fc = code[++pc]! & 255;
        get(w, alias[fb]!);
        get(w, alias[fc]!);
        get(w, alias[fa]!);
        get(w, constant(0));
        simd(w, V.f32x4_ne);
        simd(w, V.bitselect);
        set(w, regs[fd]!);
        alias[fd] = regs[fd]!;
      } else {
        const info = OPS.get(op)!;
        const x = alias[fa]!;
        const y = alias[fb]!;
        const toks = INLINE[info.name];
        if (toks !== undefined) {
          for (const t of toks) {
            if (t === Tok.X) get(w, x);
            else if (t === Tok.Y) get(w, y);
            else if (t === Tok.Zero) get(w, constant(0));
            else if (t === Tok.One) get(w, constant(1));
            else if (t === Tok.MinusOne) get(w, constant(-1));
            else simd(w, t);
          }
        } else if (FUSED_HELPERS.vector[info.name] !== undefined) {
          get(w, x);
          w.byte(Op.call);
          w.u32(helperIx.get(FUSED_HELPERS.vector[info.name]!)!);
        } else {
          // the kernel's scalar expression lane by lane (the tail needs lane 0 only)
          const fn = helperIx.get(FUSED_HELPERS.scalar[info.name]!)!;
          for (let lane = 0; lane < (vector ? 4 : 1); lane++) {
            get(w, x);
            simd(w, V.f32x4_extract_lane);
            w.byte(lane);
            if (info.arity === 2) {
              get(w, y);
              simd(w, V.f32x4_extract_lane);
              w.byte(lane);
            }
            w.byte(Op.call);
            w.u32(fn);
            if (lane === 0) simd(w, V.f32x4_splat);
            else {
              simd(w, V.f32x4_replace_lane);
              w.byte(lane);
            }
          }
        }
        set(w, regs[fd]!);
        alias[fd] = regs[fd]!;
      }
    }
  };
  /** Moves the pointers and the column index `elems` elements on. */
  const advance = (w: Bytes, elems: number): void => {
    const step = (l: number, e: number): void => {
      get(w, l);
      i32Const(w, elems * e);
      w.byte(Op.i32_add);
      set(w, l);
    };
    for (let k = 0; k < nIn; k++) if (inPtr[k]! >= 0) step(inPtr[k]!, esz(c.inputs[k]!));
    if (red === 0) for (let j = 0; j < nOut; j++) step(outPtr[j]!, esz(c.outputs[j]!));
    else if (!rows) step(ACCP, wide ? 8 : 4);
    step(I, 1);
  };

  // prologue (constants and what they alone compute), once per call
  emit(init, 2, 2 + pro, true);
  /** A local holding `cols & mask`, set once per call. */
  const colsAnd = (mask: number): number => {
    const l = local(I32);
    get(init, COLS);
    i32Const(init, mask);
    init.byte(Op.i32_and);
    set(init, l);
    return l;
  };
  /** While i < `endLocal`: `copies` vectors a step (lane 0 only when `copies` is 0). */
  const loop = (endLocal: number, copies: number): void => {
    f.byte(Op.block, 0x40);
    get(f, I);
    get(f, endLocal);
    f.byte(Op.i32_ge_u, Op.br_if, 0);
    f.byte(Op.loop, 0x40);
    if (copies === 0) emit(f, 2 + pro, words, false);
    for (let u = 0; u < copies; u++) emit(f, 2 + pro, words, true, u);
    advance(f, copies === 0 ? 1 : 4 * copies);
    get(f, I);
    get(f, endLocal);
    f.byte(Op.i32_lt_u, Op.br_if, 0, Op.end, Op.end);
  };
  // the loops' ends: cols rounded down to the step (rows reductions: 16 and 8 lanes, the groups of
  // sumRowF32/maxRowF32; otherwise 4·unroll and 4)
  const ends = rows ? (unroll >= 4 ? [[colsAnd(-16), 4], [colsAnd(-8), 2]] : [[colsAnd(-8), 2]]) : unroll > 1 ? [[colsAnd(-4 * unroll), unroll], [colsAnd(-4), 1]] : [[colsAnd(-4), 1]];
  /** Runs `body` for I = 0 … cols − 1 (cols ≥ 1). */
  const eachColumn = (w: Bytes, body: () => void): void => {
    i32Const(w, 0);
    set(w, I);
    w.byte(Op.loop, 0x40);
    body();
    get(w, I);
    i32Const(w, 1);
    w.byte(Op.i32_add, Op.local_tee);
    w.u32(I);
    get(w, COLS);
    w.byte(Op.i32_lt_u, Op.br_if, 0, Op.end);
  };
  /** Pushes the address of column I of the area at local `base` (`shift`: log2 of its element size). */
  const column = (w: Bytes, base: number, shift: number): void => {
    get(w, base);
    get(w, I);
    i32Const(w, shift);
    w.byte(Op.i32_shl, Op.i32_add);
  };
  if (rk === REDUCE_COLS) {
    // the accumulators start at the reduction's identity: float64 pairs (sum, prod) at the second
    // output address, the output itself (max, min)
    if (wide) {
      get(init, P);
      init.byte(Op.i32_load);
      mem(init, 2, L.pOut + 4);
      set(init, ACCBASE);
    } else {
      get(init, outPtr[0]!);
      set(init, ACCBASE);
    }
    eachColumn(init, () => {
      column(init, ACCBASE, wide ? 3 : 2);
      if (wide) {
        f64c(init, rop === 0 ? 0 : 1);
        init.byte(Op.f64_store);
        mem(init, 3, 0);
      } else {
        f32c(init, rop === 2 ? -Infinity : Infinity);
        init.byte(Op.f32_store);
        mem(init, 2, 0);
      }
    });
  }
  /**
   * Sets a row's accumulators: float64 pairs at 0 (sum; the bits of four float32 zeros), a
   * float64 at 1 (prod), pmax/pmin vectors at ∓Infinity and no NaN seen (max, min).
   */
  const resetRow = (): void => {
    if (rop === 1) {
      f64c(f, 1);
      set(f, ACC);
    }
    const start = rop === 0 ? acc4 : mm2;
    for (let q = 0; q < start.length; q++) {
      get(f, constant(rop < 2 || q === 2 ? 0 : rop === 2 ? -Infinity : Infinity));
      set(f, start[q]!);
    }
  };
  /** Combines a row's accumulators into ACC (sum: the pairs; max/min: the vectors and NaN). */
  const finishRow = (): void => {
    if (rop === 0) {
      // acc = Σ of the pairs, as sumRowF32's hsumF64(f64x2.add(f64x2.add(a0, a1), f64x2.add(a2, a3)))
      get(f, acc4[0]!);
      get(f, acc4[1]!);
      simd(f, V.f64x2_add);
      get(f, acc4[2]!);
      get(f, acc4[3]!);
      simd(f, V.f64x2_add);
      simd(f, V.f64x2_add);
      f.byte(Op.local_tee);
      f.u32(acc4[0]!);
      simd(f, V.f64x2_extract_lane);
      f.byte(0);
      get(f, acc4[0]!);
      simd(f, V.f64x2_extract_lane);
      f.byte(1, Op.f64_add);
      set(f, ACC);
    } else if (!wide) {
      // maxRowF32: m = max(v, w); acc = fmax(fmax(m0, m1), fmax(m2, m3)), NaN if one was seen
      get(f, mm2[0]!);
      get(f, mm2[1]!);
      minmax(f);
      set(f, mm2[0]!);
      for (const pair of [0, 2]) {
        for (const lane of [pair, pair + 1]) {
          get(f, mm2[0]!);
          simd(f, V.f32x4_extract_lane);
          f.byte(lane);
          simd(f, V.f32x4_splat);
        }
        minmax(f);
      }
      minmax(f);
      simd(f, V.f32x4_extract_lane);
      f.byte(0);
      set(f, ACC);
      f32c(f, NaN);
      get(f, ACC);
      get(f, mm2[2]!);
      simd(f, V.any_true);
      f.byte(Op.select);
      set(f, ACC);
    }
  };
  /** Stores ACC (rounded to float32) as the next output. */
  const storeRow = (): void => {
    get(f, outPtr[0]!);
    get(f, ACC);
    if (wide) f.byte(Op.f32_demote_f64);
    f.byte(Op.f32_store);
    mem(f, 2, 0);
    get(f, outPtr[0]!);
    i32Const(f, 4);
    f.byte(Op.i32_add);
    set(f, outPtr[0]!);
  };
  if (all) resetRow();
  // planes
  const R = local(I32);
  f.byte(Op.loop, 0x40);
  for (let k = 0; k < nIn; k++) {
    if (inPlane[k]! < 0) continue;
    get(f, inPlane[k]!);
    set(f, inBase[k]!);
  }
  get(f, ROWS);
  set(f, R);
  // rows
  f.byte(Op.loop, 0x40);
  for (let k = 0; k < nIn; k++) {
    if (inPtr[k]! >= 0) {
      get(f, inBase[k]!);
      set(f, inPtr[k]!);
    } else if (kinds[k] === KIND_COLUMN) {
      splatElement(f, k, inBase[k]!);
      set(f, inVal[k]!);
    }
  }
  i32Const(f, 0);
  set(f, I);
  if (rk === REDUCE_COLS) {
    get(f, ACCBASE);
    set(f, ACCP);
  } else if (rows && !all) {
    resetRow();
  }
  for (const [end, copies] of ends) loop(end!, copies!);
  if (rows && !all) finishRow();
  // tail loop: while i < cols, one lane at a time (REDUCE_ALL: empty but for a product)
  loop(COLS, 0);
  if (rows && !all) storeRow(); // the row's result
  // the end of a loop: every input's pointer (locals `ptrs`, −1 for none) steps by its stride,
  // the counter goes down by one, and the loop repeats while it is not zero
  const step = (ptrs: readonly number[], strides: readonly number[], counter: number): void => {
    for (let k = 0; k < nIn; k++) {
      if (ptrs[k]! < 0) continue;
      get(f, ptrs[k]!);
      get(f, strides[k]!);
      f.byte(Op.i32_add);
      set(f, ptrs[k]!);
    }
    get(f, counter);
    i32Const(f, 1);
    f.byte(Op.i32_sub, Op.local_tee);
    f.u32(counter);
    f.byte(Op.br_if, 0, Op.end);
  };
  step(inBase, inStride, R); // next row
  step(inPlane, inPlaneStride, PLANES); // next plane
  if (all) {
    // the one result, after every row
    finishRow();
    storeRow();
  }
  if (rk === REDUCE_COLS && wide) {
    // the float64 accumulators rounded into the output
    eachColumn(f, () => {
      column(f, outPtr[0]!, 2);
      column(f, ACCBASE, 3);
      f.byte(Op.f64_load);
      mem(f, 3, 0);
      f.byte(Op.f32_demote_f64, Op.f32_store);
      mem(f, 2, 0);
    });
  }
  f.byte(Op.end);

  // 3. the module
  const body = new Bytes();
  const runs: [number, number][] = [];
  for (const t of localTypes) {
    const last = runs[runs.length - 1];
    if (last !== undefined && last[1] === t) last[0]++;
    else runs.push([1, t]);
  }
  body.u32(runs.length);
  for (const [n, t] of runs) {
    body.u32(n);
    body.byte(t);
  }
  body.b.push(...init.b, ...f.b);
  const m = new Bytes();
  m.byte(0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00);
  const types = new Bytes();
  types.u32(4);
  types.byte(0x60, 4, I32, I32, I32, I32, 0); // run(params, rows, cols, planes)
  types.byte(0x60, 1, V128, 1, V128);
  types.byte(0x60, 1, F32, 1, F32);
  types.byte(0x60, 2, F32, F32, 1, F32);
  m.section(1, types);
  const imports = new Bytes();
  imports.u32(1 + helpers.length);
  for (const h of helpers) {
    imports.name('h');
    imports.name(h.name);
    imports.byte(0x00);
    imports.u32(h.type);
  }
  imports.name('env');
  imports.name('memory');
  // memory, at least 0 pages: no maximum, or (shared, as a thread-shared memory must be declared)
  // at most 65536, the most any backend memory has
  if (shared) imports.byte(0x02, 0x03, 0x00, 0x80, 0x80, 0x04);
  else imports.byte(0x02, 0x00, 0x00);
  m.section(2, imports);
  const funcs = new Bytes();
  funcs.u32(1);
  funcs.u32(T_RUN);
  m.section(3, funcs);
  const exps = new Bytes();
  exps.u32(1);
  exps.name('run');
  exps.byte(0x00);
  exps.u32(helpers.length);
  m.section(7, exps);
  const codeSec = new Bytes();
  codeSec.u32(1);
  codeSec.u32(body.b.length);
  codeSec.b.push(...body.b);
  m.section(10, codeSec);
  return { bytes: Uint8Array.from(m.b), helpers: helpers.map((h) => h.name) };
}

/**
 * The generated kernels of one backend: built on first use of a (program, input kinds) pair and
 * kept for the `capacity` most recently used pairs. They import the backend's `WebAssembly.Memory`
 * object itself, so they see every growth of it (nothing here caches a view of the memory).
 * @internal
 */
export class FusedCodegen {
  private readonly entries: GeneratedFused[] = [];
  private clock = 0;
  /** Modules built. */
  built = 0;
  /**
   * (Program, kinds) pairs left to the interpreter: an op the generator does not write, a module
   * above {@link CODEGEN_MAX_BYTES} even without unrolling, or one the engine refused to compile.
   */
  uncovered = 0;
  tooLarge = 0;
  failed = 0;

  private nextId = 1;
  /** Whether the memory is shared between threads (the modules then declare it so). */
  private readonly shared: boolean;

  constructor(
    private readonly memory: WebAssembly.Memory,
    private readonly helpers: Readonly<Record<string, unknown>>,
    readonly capacity = 128,
    /** Called with a module's id when the cache drops it. */
    private readonly onDrop: ((id: number) => void) | null = null,
  ) {
    this.shared = typeof SharedArrayBuffer === 'function' && memory.buffer instanceof SharedArrayBuffer;
  }

  /** Number of generated modules held. */
  get size(): number {
    return this.entries.length;
  }

  /**
   * The kernel for program `c` with input kinds `kinds` (encoded as `kindsCode`) and reduction
   * `red` (0: none; see {@link generateFused}), generated on first use; null where it cannot be.
   */
  get(c: CompiledFused, kindsCode: number, kinds: ArrayLike<number>, red = 0): GeneratedFused | null {
    const table = (c.generated ??= new Map());
    const code = kindsCode * 16 + red;
    const hit = table.get(code);
    if (hit !== undefined) {
      if (hit === null) return null;
      hit.used = ++this.clock;
      return hit;
    }
    const made = this.make(c, kinds, red);
    if (made === null) {
      table.set(code, null);
      return null;
    }
    if (this.entries.length >= this.capacity) this.evictOldest();
    const e: GeneratedFused = { run: made.run, bytes: made.code.length, code: made.code, id: this.nextId++, used: ++this.clock, owner: table, kinds: code };
    this.entries.push(e);
    table.set(code, e);
    this.built++;
    return e;
  }

  private make(c: CompiledFused, kinds: ArrayLike<number>, red: number): { run: FusedRunFn; code: Uint8Array } | null {
    // the most unrolled loop that fits
    let g: ReturnType<typeof generateFused> = null;
    for (let u = UNROLL; u >= 1; u >>= 1) {
      g = generateFused(c, kinds, u, red, this.shared);
      if (g === null || g.bytes.length <= CODEGEN_MAX_BYTES) break;
    }
    if (g === null) {
      this.uncovered++;
      return null;
    }
    if (g.bytes.length > CODEGEN_MAX_BYTES) {
      this.tooLarge++;
      return null;
    }
    const imports: Record<string, unknown> = {};
    for (const n of g.helpers) {
      const f = this.helpers[n];
      if (typeof f !== 'function') {
        this.uncovered++; // kernels built without the helper
        return null;
      }
      imports[n] = f;
    }
    try {
      const mod = new WebAssembly.Module(g.bytes as BufferSource);
      const inst = new WebAssembly.Instance(mod, { env: { memory: this.memory }, h: imports as WebAssembly.ModuleImports });
      return { run: inst.exports.run as FusedRunFn, code: g.bytes };
    } catch {
      // an engine that refuses synchronous compilation here: the interpreter runs it
      this.failed++;
      return null;
    }
  }

  private evictOldest(): void {
    let oldest = 0;
    for (let i = 1; i < this.entries.length; i++) if (this.entries[i]!.used < this.entries[oldest]!.used) oldest = i;
    const e = this.entries[oldest]!;
    e.owner.delete(e.kinds);
    this.onDrop?.(e.id);
    this.entries[oldest] = this.entries[this.entries.length - 1]!;
    this.entries.pop();
  }

  /** Drops the kernels of a program that left the program cache. */
  drop(c: CompiledFused): void {
    if (c.generated === null) return;
    for (let i = this.entries.length - 1; i >= 0; i--) {
      if (this.entries[i]!.owner === c.generated) {
        this.onDrop?.(this.entries[i]!.id);
        this.entries[i] = this.entries[this.entries.length - 1]!;
        this.entries.pop();
      }
    }
    c.generated = null;
  }

  /** Drops every kernel. */
  clear(): void {
    for (const e of this.entries) {
      e.owner.clear();
      this.onDrop?.(e.id);
    }
    this.entries.length = 0;
  }
}
