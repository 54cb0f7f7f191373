// The fused-program interpreter: runs a compiled elementwise program (src/fused.ts compiles it)
// over the index space in blocks, numexpr-style. Each instruction runs as a SIMD loop over one
// block of float32 "registers", so the dispatch cost of an instruction is paid once per block and
// the block stays in L1.
//
// Bytecode: i32 words. Word 0 = number of prologue words, word 1 = number of body words, then the
// prologue (run once per call, over the first block's length: constants and everything computed
// from constants alone) and the body (run once per block). An instruction is one word
//   op | dst << 8 | a << 16 | b << 24
// (register numbers, or an input/output/constant index where the op says so); `where` takes a
// second word holding its third register. The per-call parameter block (pointers, strides, load
// modes, constants) is laid out as FUSED_LAYOUT in scripts/gen-fused.mjs says.
//
// A register is a block of lanes at an address kept in a table (P_ADDR): its own scratch block,
// or, when the block is a whole multiple of 16 lanes, a window of a buffer, so that no copy is
// made: a contiguous float32 input is read where it lies, and an op whose value goes to a float32
// output (an `out` prefix before it) writes straight into the output. A definition always writes
// the table entry first, so a window is never written through once its value is dead.
import {
  IN_BYTES,
  MODE_CONTIGUOUS,
  MODE_SCALAR,
  OP_CONST,
  OP_LOAD,
  OP_OUT,
  OP_STORE_F32,
  OP_STORE_U8,
  OP_WHERE,
  P_ADDR,
  P_BLOCK,
  P_CONST,
  P_IDX,
  P_IN,
  P_N,
  P_OUT,
  P_RANK,
  P_SHAPE,
  fusedOp,
} from './generated/fused-ops';

/** Runs the program at `code` with the parameters at `params`, registers at `regs`. */
export function fused_run(code: usize, params: usize, regs: usize): void {
  const n = load<i32>(params + P_N);
  const block = load<i32>(params + P_BLOCK);
  const rb = <usize>block << 2;
  const pro = load<i32>(code);
  const body = load<i32>(code, 4);
  const pc0 = code + 8;
  const pc1 = pc0 + (<usize>pro << 2);
  // the prologue's registers hold the first block's length, which no later block exceeds
  if (pro > 0) exec(pc0, pro, params, regs, rb, 0, min(n, block));
  for (let start = 0; start < n; start += block) exec(pc1, body, params, regs, rb, start, min(block, n - start));
}

function exec(pc: usize, words: i32, params: usize, regs: usize, rb: usize, start: i32, len: i32): void {
  const end = pc + (<usize>words << 2);
  const addr = params + P_ADDR;
  const whole = (len & 15) == 0; // buffers may serve as registers
  let target: usize = 0; // where the next op writes, when an `out` prefix named an output
  while (pc < end) {
    const w = load<u32>(pc);
    pc += 4;
    const op = <i32>(w & 255);
    const fd = <usize>((w >> 8) & 255);
    const fa = <usize>((w >> 16) & 255);
    const fb = <usize>(w >> 24);
    if (op == OP_LOAD) {
      store<u32>(addr + (fd << 2), <u32>loadInput(params, params + P_IN + fa * IN_BYTES, regs + fd * rb, start, len, whole));
    } else if (op == OP_CONST) {
      const d = regs + fd * rb;
      splat(d, load<f32>(params + P_CONST + (fa << 2)), len);
      store<u32>(addr + (fd << 2), <u32>d);
    } else if (op == OP_OUT) {
      if (whole) target = <usize>load<u32>(params + P_OUT + (fd << 2)) + (<usize>start << 2);
    } else if (op == OP_STORE_F32) {
      const o = <usize>load<u32>(params + P_OUT + (fd << 2)) + (<usize>start << 2);
      const r = <usize>load<u32>(addr + (fa << 2));
      if (r != o) copyF32(o, r, len);
    } else if (op == OP_STORE_U8) {
      storeBool(<usize>load<u32>(params + P_OUT + (fd << 2)) + <usize>start, <usize>load<u32>(addr + (fa << 2)), len);
    } else {
      // an op: operands first, then the destination's table entry
      const a = <usize>load<u32>(addr + (fa << 2));
      const b = <usize>load<u32>(addr + (fb << 2));
      let c: usize = 0;
      if (op == OP_WHERE) {
        c = <usize>load<u32>(addr + (<usize>(load<u32>(pc) & 255) << 2));
        pc += 4;
      }
      const d = target != 0 ? target : regs + fd * rb;
      target = 0;
      store<u32>(addr + (fd << 2), <u32>d);
      if (op == OP_WHERE) whereOp(d, a, b, c, len);
      else fusedOp(op, d, a, b, len);
    }
  }
}

/** d[i] = v over `len` lanes rounded up to 16 (a whole register tail). */
@inline function splat(d: usize, v: f32, len: i32): void {
  const x = f32x4.splat(v);
  const nv = <usize>((len + 15) & ~15) << 2;
  for (let i: usize = 0; i < nv; i += 64) {
    v128.store(d + i, x);
    v128.store(d + i, x, 16);
    v128.store(d + i, x, 32);
    v128.store(d + i, x, 48);
  }
}

/** Writes exactly `len` float32 lanes of `v` at `d` (any alignment). */
@inline function splatExact(d: usize, v: f32, len: i32): void {
  const x = f32x4.splat(v);
  let i = 0;
  for (; i + 4 <= len; i += 4) v128.store(d + (<usize>i << 2), x);
  for (; i < len; i++) store<f32>(d + (<usize>i << 2), v);
}

/** Copies exactly `len` float32 values from `s` to `d` (any alignment). */
function copyF32(d: usize, s: usize, len: i32): void {
  let i = 0;
  for (; i + 16 <= len; i += 16) {
    const q = <usize>i << 2;
    const x0 = v128.load(s + q);
    const x1 = v128.load(s + q, 16);
    const x2 = v128.load(s + q, 32);
    const x3 = v128.load(s + q, 48);
    v128.store(d + q, x0);
    v128.store(d + q, x1, 16);
    v128.store(d + q, x2, 32);
    v128.store(d + q, x3, 48);
  }
  for (; i + 4 <= len; i += 4) v128.store(d + (<usize>i << 2), v128.load(s + (<usize>i << 2)));
  for (; i < len; i++) store<f32>(d + (<usize>i << 2), load<f32>(s + (<usize>i << 2)));
}

/** Widens exactly `len` bools (bytes) at `s` to float32 0/1 at `d`. */
function widenBool(d: usize, s: usize, len: i32): void {
  let i = 0;
  for (; i + 16 <= len; i += 16) {
    const x = v128.load(s + <usize>i);
    const lo = i16x8.extend_low_i8x16_u(x);
    const hi = i16x8.extend_high_i8x16_u(x);
    const q = d + (<usize>i << 2);
    v128.store(q, f32x4.convert_i32x4_u(i32x4.extend_low_i16x8_u(lo)));
    v128.store(q, f32x4.convert_i32x4_u(i32x4.extend_high_i16x8_u(lo)), 16);
    v128.store(q, f32x4.convert_i32x4_u(i32x4.extend_low_i16x8_u(hi)), 32);
    v128.store(q, f32x4.convert_i32x4_u(i32x4.extend_high_i16x8_u(hi)), 48);
  }
  for (; i < len; i++) store<f32>(d + (<usize>i << 2), <f32>load<u8>(s + <usize>i));
}

/** o[i] = r[i] != 0 (NaN counts as nonzero) as bytes, exactly `len` of them. */
function storeBool(o: usize, r: usize, len: i32): void {
  const zero = f32x4.splat(0.0);
  let i = 0;
  for (; i + 16 <= len; i += 16) {
    const q = r + (<usize>i << 2);
    const m0 = f32x4.ne(v128.load(q), zero);
    const m1 = f32x4.ne(v128.load(q, 16), zero);
    const m2 = f32x4.ne(v128.load(q, 32), zero);
    const m3 = f32x4.ne(v128.load(q, 48), zero);
    const w = i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(m0, m1), i16x8.narrow_i32x4_s(m2, m3));
    v128.store(o + <usize>i, v128.and(w, i8x16.splat(1)));
  }
  for (; i < len; i++) store<u8>(o + <usize>i, <u8>(load<f32>(r + (<usize>i << 2)) != 0));
}

/** d[i] = c[i] != 0 ? a[i] : b[i] (NaN counts as nonzero). */
function whereOp(d: usize, c: usize, a: usize, b: usize, len: i32): void {
  const zero = f32x4.splat(0.0);
  const nv = <usize>((len + 15) & ~15) << 2;
  for (let i: usize = 0; i < nv; i += 16) {
    const m = f32x4.ne(v128.load(c + i), zero);
    v128.store(d + i, v128.bitselect(v128.load(a + i), v128.load(b + i), m));
  }
}

/**
 * Loads input `inp` (its record in the parameter block) for the block [start, start + len) into
 * the scratch register `d`; returns the register's address for this block: `d`, or the input
 * itself where it is contiguous float32 and `whole`.
 */
function loadInput(params: usize, inp: usize, d: usize, start: i32, len: i32, whole: bool): usize {
  const mode = load<i32>(inp);
  const ptr = <usize>load<u32>(inp, 4);
  const esz = load<i32>(inp, 8);
  if (mode == MODE_CONTIGUOUS) {
    if (esz == 4) {
      const src = ptr + (<usize>start << 2);
      if (whole) return src;
      copyF32(d, src, len);
    } else {
      widenBool(d, ptr + <usize>start, len);
    }
  } else if (mode == MODE_SCALAR) {
    splat(d, esz == 4 ? load<f32>(ptr) : <f32>load<u8>(ptr), len);
  } else {
    walk(params, inp + 16, ptr, esz, d, start, len);
  }
  return d;
}

/**
 * Strided load: walks the coalesced shape from flat index `start`, one run of the innermost dim at
 * a time; a run is a copy (contiguous), a splat (broadcast) or a gather (any other stride).
 * `strides` points at the input's byte strides.
 */
function walk(params: usize, strides: usize, ptr: usize, esz: i32, d: usize, start: i32, len: i32): void {
  const rank = load<i32>(params + P_RANK);
  const shape = params + P_SHAPE;
  const idx = params + P_IDX;
  // the multi-index of `start` and its offset
  let rem = start;
  let off: usize = 0;
  for (let q = rank - 1; q >= 0; q--) {
    const s = load<i32>(shape + (<usize>q << 2));
    const i = rem % s;
    rem /= s;
    store<i32>(idx + (<usize>q << 2), i);
    off += <usize>i * <usize>load<u32>(strides + (<usize>q << 2));
  }
  const last = <usize>(rank - 1) << 2;
  const inner = load<i32>(shape + last);
  const cs = <usize>load<u32>(strides + last);
  let col = load<i32>(idx + last);
  let pos = 0;
  while (true) {
    const seg = min(len - pos, inner - col);
    const dst = d + (<usize>pos << 2);
    const src = ptr + off;
    if (esz == 4) {
      if (cs == 4) copyF32(dst, src, seg);
      else if (cs == 0) splatExact(dst, load<f32>(src), seg);
      else for (let i = 0; i < seg; i++) store<f32>(dst + (<usize>i << 2), load<f32>(src + <usize>i * cs));
    } else {
      if (cs == 1) widenBool(dst, src, seg);
      else if (cs == 0) splatExact(dst, <f32>load<u8>(src), seg);
      else for (let i = 0; i < seg; i++) store<f32>(dst + (<usize>i << 2), <f32>load<u8>(src + <usize>i * cs));
    }
    pos += seg;
    if (pos >= len) return;
    // next run: back to the start of this row, then carry into the outer dims
    off -= <usize>col * cs;
    col = 0;
    for (let q = rank - 2; q >= 0; q--) {
      const qa = <usize>q << 2;
      const st = <usize>load<u32>(strides + qa);
      const i = load<i32>(idx + qa) + 1;
      off += st;
      if (i < load<i32>(shape + qa)) {
        store<i32>(idx + qa, i);
        break;
      }
      store<i32>(idx + qa, 0);
      off -= <usize>i * st;
    }
  }
}
