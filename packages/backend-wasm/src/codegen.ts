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
 * A generated kernel: `params` is the parameter block's address; it runs `planes` × `rows` × `cols`
 * elements (each ≥ 1). @internal
 */
export type FusedRunFn = (params: number, rows: number, cols: number, planes: number) => void;

/** A generated module in the cache. @internal */
export interface GeneratedFused {
  readonly run: FusedRunFn;
  /** Size of the module in bytes. */
  readonly bytes: number;
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
const F32 = 0x7d;
const V128 = 0x7b;
/** Core opcodes (a const enum: the minifier inlines them). */
const enum Op {
  block = 0x02,
  loop = 0x03,
  end = 0x0b,
  br_if = 0x0d,
  call = 0x10,
  local_get = 0x20,
  local_set = 0x21,
  local_tee = 0x22,
  i32_load = 0x28,
  f32_load = 0x2a,
  i32_load8_u = 0x2d,
  i32_store8 = 0x3a,
  i32_const = 0x41,
  i32_eqz = 0x45,
  i32_ne = 0x47,
  i32_lt_u = 0x49,
  i32_ge_u = 0x4f,
  i32_add = 0x6a,
  i32_sub = 0x6b,
  i32_and = 0x71,
  f32_convert_i32_u = 0xb3,
  simd = 0xfd,
}
/** SIMD opcodes (after the 0xfd prefix, as LEB128). */
const enum V {
  load = 0x00,
  load32_splat = 0x09,
  store = 0x0b,
  v128_const = 0x0c,
  f32x4_splat = 0x13,
  i32x4_extract_lane = 0x1b,
  f32x4_extract_lane = 0x1f,
  f32x4_replace_lane = 0x20,
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
  store32_lane = 0x5a,
  load32_zero = 0x5c,
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
  f32x4_pmax = 0xeb,
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
 * imports (module `h`), or null when an op is not covered. @internal
 */
export function generateFused(c: CompiledFused, kinds: ArrayLike<number>, unroll = 1): { bytes: Uint8Array; helpers: string[] } | null {
  const code = c.code;
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
  const VEND = local(I32);

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
      } else if (op === L.opStoreF32) {
        get(w, outPtr[fd]!);
        get(w, alias[fa]!);
        if (vector) {
          simd(w, V.store);
          mem(w, 4, 16 * u);
        } else {
          simd(w, V.store32_lane);
          mem(w, 2, 0);
          w.byte(0);
        }
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
    for (let j = 0; j < nOut; j++) step(outPtr[j]!, esz(c.outputs[j]!));
    step(I, 1);
  };

  // prologue (constants and what they alone compute), once per call
  emit(init, 2, 2 + pro, true);
  // vend = cols & ~3, uend = cols & ~(4·unroll − 1)
  get(init, COLS);
  i32Const(init, -4);
  init.byte(Op.i32_and);
  set(init, VEND);
  const UEND = unroll > 1 ? local(I32) : -1;
  if (unroll > 1) {
    get(init, COLS);
    i32Const(init, -4 * unroll);
    init.byte(Op.i32_and);
    set(init, UEND);
  }
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
  // unrolled vector loop: while i < uend, 4·unroll lanes a step
  if (unroll > 1) {
    f.byte(Op.block, 0x40);
    get(f, UEND);
    f.byte(Op.i32_eqz, Op.br_if, 0);
    f.byte(Op.loop, 0x40);
    for (let u = 0; u < unroll; u++) emit(f, 2 + pro, words, true, u);
    advance(f, 4 * unroll);
    get(f, I);
    get(f, UEND);
    f.byte(Op.i32_lt_u, Op.br_if, 0, Op.end, Op.end);
  }
  // vector loop: while i < vend
  f.byte(Op.block, 0x40);
  get(f, I);
  get(f, VEND);
  f.byte(Op.i32_ge_u, Op.br_if, 0);
  f.byte(Op.loop, 0x40);
  emit(f, 2 + pro, words, true);
  advance(f, 4);
  get(f, I);
  get(f, VEND);
  f.byte(Op.i32_lt_u, Op.br_if, 0, Op.end, Op.end);
  // tail loop: while i < cols, one lane at a time
  f.byte(Op.block, 0x40);
  get(f, I);
  get(f, COLS);
  f.byte(Op.i32_ge_u, Op.br_if, 0);
  f.byte(Op.loop, 0x40);
  emit(f, 2 + pro, words, false);
  advance(f, 1);
  get(f, I);
  get(f, COLS);
  f.byte(Op.i32_lt_u, Op.br_if, 0, Op.end, Op.end);
  // next row
  for (let k = 0; k < nIn; k++) {
    if (inBase[k]! < 0) continue;
    get(f, inBase[k]!);
    get(f, inStride[k]!);
    f.byte(Op.i32_add);
    set(f, inBase[k]!);
  }
  get(f, R);
  i32Const(f, 1);
  f.byte(Op.i32_sub, Op.local_tee);
  f.u32(R);
  f.byte(Op.br_if, 0, Op.end);
  // next plane
  for (let k = 0; k < nIn; k++) {
    if (inPlane[k]! < 0) continue;
    get(f, inPlane[k]!);
    get(f, inPlaneStride[k]!);
    f.byte(Op.i32_add);
    set(f, inPlane[k]!);
  }
  get(f, PLANES);
  i32Const(f, 1);
  f.byte(Op.i32_sub, Op.local_tee);
  f.u32(PLANES);
  f.byte(Op.br_if, 0, Op.end);
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
  imports.byte(0x02, 0x00, 0x00); // memory, no maximum, at least 0 pages
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

  constructor(
    private readonly memory: WebAssembly.Memory,
    private readonly helpers: Readonly<Record<string, unknown>>,
    readonly capacity = 128,
  ) {}

  /** Number of generated modules held. */
  get size(): number {
    return this.entries.length;
  }

  /**
   * The kernel for program `c` with input kinds `kinds` (encoded as `code`), generated on first use;
   * null where the program runs in the interpreter.
   */
  get(c: CompiledFused, code: number, kinds: ArrayLike<number>): FusedRunFn | null {
    const table = (c.generated ??= new Map());
    const hit = table.get(code);
    if (hit !== undefined) {
      if (hit === null) return null;
      hit.used = ++this.clock;
      return hit.run;
    }
    const made = this.make(c, kinds);
    if (made === null) {
      table.set(code, null);
      return null;
    }
    if (this.entries.length >= this.capacity) this.evictOldest();
    const e: GeneratedFused = { run: made.run, bytes: made.bytes, used: ++this.clock, owner: table, kinds: code };
    this.entries.push(e);
    table.set(code, e);
    this.built++;
    return e.run;
  }

  private make(c: CompiledFused, kinds: ArrayLike<number>): { run: FusedRunFn; bytes: number } | null {
    // the most unrolled loop that fits
    let g: ReturnType<typeof generateFused> = null;
    for (let u = UNROLL; u >= 1; u >>= 1) {
      g = generateFused(c, kinds, u);
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
      return { run: inst.exports.run as FusedRunFn, bytes: g.bytes.length };
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
    this.entries[oldest] = this.entries[this.entries.length - 1]!;
    this.entries.pop();
  }

  /** Drops the kernels of a program that left the program cache. */
  drop(c: CompiledFused): void {
    if (c.generated === null) return;
    for (let i = this.entries.length - 1; i >= 0; i--) {
      if (this.entries[i]!.owner === c.generated) {
        this.entries[i] = this.entries[this.entries.length - 1]!;
        this.entries.pop();
      }
    }
    c.generated = null;
  }

  /** Drops every kernel. */
  clear(): void {
    for (const e of this.entries) e.owner.clear();
    this.entries.length = 0;
  }
}
