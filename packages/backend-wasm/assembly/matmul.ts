// Batched float32 matmul: out[b] = a[b] · b[b]; a [B, M, K] and b [B, K, N] with arbitrary byte
// strides (a transposed operand is just a view), out [B, M, N] contiguous.
//
// BLIS-style blocking: for each NC-wide column block of B and each KC-deep slice, B is packed
// into NR-wide strips (k-major); for each MC-tall row block of A, A is packed into MR-tall strips
// (k-major). A 4×8 register-blocked SIMD128 micro-kernel then walks the packed panels. Packing
// reads any strides, so transposed operands cost the same as contiguous ones.
//
// B is not packed when its rows are contiguous and A has few rows (M ≤ 64: the forward pass of a
// dense layer at a small batch reads its weight in place): the micro-kernel reads B's full
// 8-column strips in place, stepping by B's row stride; a ragged last strip is packed
// (zero-padded) as before. For a short K (≤ 64, one k slice: the weight gradient xᵀ·dy at a small
// batch) one call runs the micro-kernel down every full row strip of a B strip. Every path keeps
// the same operations in the same order for each output element (a fresh sum over each KC slice,
// added to C after the first), so the results are the same bits whichever path runs.
//
// Every kernel takes all its state as arguments (the workspace pointer included) and uses no
// shadow stack, so several threads can later run disjoint row blocks on a shared memory.

const MR = 4;
const NR = 8;
const KC = 256;
const MC = 128;
const NC = 1024;
/** B is read in place (rows contiguous) for at most this many rows of A. */
const DIRECT_B_MAX_M: i32 = 64;
/** A K up to this (one k slice) runs the multi-strip micro-kernel (no call per strip). */
const SHORT_K: i32 = 64;

/** Bytes of workspace matmul_f32 needs: packed A (MC×KC), packed B (KC×NC), one edge tile. */
export const MATMUL_WS_BYTES: i32 = (MC * KC + KC * NC + MR * NR) * 4;

/** Workspace bytes for the TypeScript side. */
export function matmul_ws_bytes(): i32 {
  return MATMUL_WS_BYTES;
}

/** Packs rows [i0, i0+mc) × cols [k0, k0+kc) of A into MR-row strips: dst[s][k][r]. */
function packA(A: usize, sam: usize, sak: usize, i0: i32, mc: i32, k0: i32, kc: i32, dst: usize): void {
  for (let s = 0; s < mc; s += MR) {
    const rows = min(MR, mc - s);
    const strip = dst + ((<usize>s * <usize>kc) << 2);
    const base = A + <usize>(i0 + s) * sam + <usize>k0 * sak;
    if (rows == MR && sam == 4) {
      // transposed A: the MR rows of one k are contiguous
      for (let k = 0; k < kc; k++) v128.store(strip + ((<usize>k * MR) << 2), v128.load(base + <usize>k * sak));
    } else if (rows == MR) {
      const r0 = base;
      const r1 = base + sam;
      const r2 = base + 2 * sam;
      const r3 = base + 3 * sam;
      for (let k = 0; k < kc; k++) {
        const off = <usize>k * sak;
        const d = strip + ((<usize>k * MR) << 2);
        store<f32>(d, load<f32>(r0 + off));
        store<f32>(d, load<f32>(r1 + off), 4);
        store<f32>(d, load<f32>(r2 + off), 8);
        store<f32>(d, load<f32>(r3 + off), 12);
      }
    } else {
      for (let k = 0; k < kc; k++) {
        const d = strip + ((<usize>k * MR) << 2);
        for (let r = 0; r < MR; r++) store<f32>(d + (<usize>r << 2), r < rows ? load<f32>(base + <usize>r * sam + <usize>k * sak) : 0);
      }
    }
  }
}

/** Packs rows [k0, k0+kc) × cols [j0, j0+nc) of B into NR-column strips: dst[s][k][c]. */
function packB(Bm: usize, sbk: usize, sbn: usize, k0: i32, kc: i32, j0: i32, nc: i32, dst: usize): void {
  for (let s = 0; s < nc; s += NR) {
    const cols = min(NR, nc - s);
    const strip = dst + ((<usize>s * <usize>kc) << 2);
    const base = Bm + <usize>k0 * sbk + <usize>(j0 + s) * sbn;
    if (cols == NR && sbn == 4) {
      for (let k = 0; k < kc; k++) {
        const src = base + <usize>k * sbk;
        const d = strip + ((<usize>k * NR) << 2);
        v128.store(d, v128.load(src));
        v128.store(d, v128.load(src, 16), 16);
      }
    } else if (cols == NR) {
      // transposed B (or any stride): walk each column down k
      for (let c = 0; c < NR; c++) {
        const src = base + <usize>c * sbn;
        const d = strip + (<usize>c << 2);
        for (let k = 0; k < kc; k++) store<f32>(d + ((<usize>k * NR) << 2), load<f32>(src + <usize>k * sbk));
      }
    } else {
      for (let k = 0; k < kc; k++) {
        const d = strip + ((<usize>k * NR) << 2);
        for (let c = 0; c < NR; c++) store<f32>(d + (<usize>c << 2), c < cols ? load<f32>(base + <usize>k * sbk + <usize>c * sbn) : 0);
      }
    }
  }
}

/**
 * c + a·b. The relaxed-SIMD build (assembly/relaxed.ts) fuses it into one FMA
 * (`f32x4.relaxed_madd`); the baseline build multiplies then adds.
 */
@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

/**
 * C[0:4, 0:8] (+)= Apanel · Bpanel over kc steps; `ldc` in bytes (attention's products use it too). With `acc` false the tile is
 * overwritten. B's eight values of one k are contiguous, `bs` bytes after the previous k's (32
 * packed, B's row stride when read in place).
 */
export function kernel4x8(kc: i32, pa: usize, pb: usize, bs: usize, pc: usize, ldc: usize, acc: bool): void {
  let c00 = f32x4.splat(0);
  let c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0);
  let c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0);
  let c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0);
  let c31 = f32x4.splat(0);
  let a = pa;
  let b = pb;
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(b);
    const b1 = v128.load(b, 16);
    let ar = v128.load32_splat(a);
    c00 = madd(ar, b0, c00);
    c01 = madd(ar, b1, c01);
    ar = v128.load32_splat(a, 4);
    c10 = madd(ar, b0, c10);
    c11 = madd(ar, b1, c11);
    ar = v128.load32_splat(a, 8);
    c20 = madd(ar, b0, c20);
    c21 = madd(ar, b1, c21);
    ar = v128.load32_splat(a, 12);
    c30 = madd(ar, b0, c30);
    c31 = madd(ar, b1, c31);
    a += MR * 4;
    b += bs;
  }
  const r1 = pc + ldc;
  const r2 = r1 + ldc;
  const r3 = r2 + ldc;
  if (acc) {
    c00 = f32x4.add(c00, v128.load(pc));
    c01 = f32x4.add(c01, v128.load(pc, 16));
    c10 = f32x4.add(c10, v128.load(r1));
    c11 = f32x4.add(c11, v128.load(r1, 16));
    c20 = f32x4.add(c20, v128.load(r2));
    c21 = f32x4.add(c21, v128.load(r2, 16));
    c30 = f32x4.add(c30, v128.load(r3));
    c31 = f32x4.add(c31, v128.load(r3, 16));
  }
  v128.store(pc, c00);
  v128.store(pc, c01, 16);
  v128.store(r1, c10);
  v128.store(r1, c11, 16);
  v128.store(r2, c20);
  v128.store(r2, c21, 16);
  v128.store(r3, c30);
  v128.store(r3, c31, 16);
}

/**
 * kernel4x8 (without `acc`) down `ns` packed row strips of A (`astr` bytes apart; C's rows 4·ldc
 * apart) against one strip of B, in one call: for a short k, where the call and set-up of each
 * 4×8 tile are a noticeable share of its work (32 steps at K = 32). A separate function because
 * V8 compiles kernel4x8's loop alone better (the loop nest in one function measured 3–8% slower
 * on long k). Requires kc ≥ 1.
 */
function kernel4x8s(kc: i32, pa: usize, astr: usize, ns: i32, pb: usize, bs: usize, pc: usize, ldc: usize): void {
  for (let s = 0; s < ns; s++) {
    let c00 = f32x4.splat(0);
    let c01 = f32x4.splat(0);
    let c10 = f32x4.splat(0);
    let c11 = f32x4.splat(0);
    let c20 = f32x4.splat(0);
    let c21 = f32x4.splat(0);
    let c30 = f32x4.splat(0);
    let c31 = f32x4.splat(0);
    let a = pa;
    let b = pb;
    let k = kc;
    do {
      const b0 = v128.load(b);
      const b1 = v128.load(b, 16);
      let ar = v128.load32_splat(a);
      c00 = madd(ar, b0, c00);
      c01 = madd(ar, b1, c01);
      ar = v128.load32_splat(a, 4);
      c10 = madd(ar, b0, c10);
      c11 = madd(ar, b1, c11);
      ar = v128.load32_splat(a, 8);
      c20 = madd(ar, b0, c20);
      c21 = madd(ar, b1, c21);
      ar = v128.load32_splat(a, 12);
      c30 = madd(ar, b0, c30);
      c31 = madd(ar, b1, c31);
      a += MR * 4;
      b += bs;
    } while (--k);
    const r1 = pc + ldc;
    const r2 = r1 + ldc;
    const r3 = r2 + ldc;
    v128.store(pc, c00);
    v128.store(pc, c01, 16);
    v128.store(r1, c10);
    v128.store(r1, c11, 16);
    v128.store(r2, c20);
    v128.store(r2, c21, 16);
    v128.store(r3, c30);
    v128.store(r3, c31, 16);
    pa += astr;
    pc += ldc << 2;
  }
}

/** Writes (or adds, with `acc`) the top-left mr×nr of an edge tile (row stride NR floats) into C. */
function edge(tile: usize, pc0: usize, ldc: usize, mr: i32, nr: i32, acc: bool): void {
  for (let r = 0; r < mr; r++) {
    const crow = pc0 + <usize>r * ldc;
    const trow = tile + ((<usize>r * NR) << 2);
    for (let c = 0; c < nr; c++) {
      const d = crow + (<usize>c << 2);
      const v = load<f32>(trow + (<usize>c << 2));
      store<f32>(d, acc ? load<f32>(d) + v : v);
    }
  }
}

/** One matrix: C (M×N, row stride ldc bytes) = A·B using workspace `ws`. */
function gemm(A: usize, sam: usize, sak: usize, Bm: usize, sbk: usize, sbn: usize, C: usize, ldc: usize, M: i32, N: i32, K: i32, ws: usize): void {
  const pA = ws;
  const pB = ws + ((<usize>MC * KC) << 2);
  const tile = pB + ((<usize>KC * NC) << 2);
  // B read in place (no packing) for few row strips of A when its rows are contiguous
  const directB = sbn == 4 && M <= DIRECT_B_MAX_M;
  for (let jc = 0; jc < N; jc += NC) {
    const nc = min(NC, N - jc);
    const nFull = nc & ~(NR - 1);
    for (let pc = 0; pc < K; pc += KC) {
      const kc = min(KC, K - pc);
      const acc = pc > 0;
      if (directB) {
        // the ragged strip (if any) is packed (zero padding), at the start of pB
        if (nFull < nc) packB(Bm, sbk, sbn, pc, kc, jc + nFull, nc - nFull, pB);
      } else {
        packB(Bm, sbk, sbn, pc, kc, jc, nc, pB);
      }
      for (let ic = 0; ic < M; ic += MC) {
        const mc = min(MC, M - ic);
        const mFull = mc & ~(MR - 1);
        packA(A, sam, sak, ic, mc, pc, kc, pA);
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = min(NR, nc - jr);
          let pb: usize;
          let bs: usize = NR * 4;
          if (!directB) pb = pB + ((<usize>jr * <usize>kc) << 2);
          else if (nr < NR) pb = pB;
          else {
            pb = Bm + <usize>pc * sbk + (<usize>(jc + jr) << 2);
            bs = sbk;
          }
          const aStrip: usize = (<usize>kc * MR) << 2;
          const pc0 = C + <usize>ic * ldc + (<usize>(jc + jr) << 2);
          const ns = mFull / MR;
          if (nr == NR) {
            if (kc <= SHORT_K && !acc) kernel4x8s(kc, pA, aStrip, ns, pb, bs, pc0, ldc);
            else for (let s = 0; s < ns; s++) kernel4x8(kc, pA + <usize>s * aStrip, pb, bs, pc0 + ((<usize>s * ldc) << 2), ldc, acc);
          } else {
            for (let s = 0; s < ns; s++) {
              kernel4x8(kc, pA + <usize>s * aStrip, pb, bs, tile, NR * 4, false);
              edge(tile, pc0 + ((<usize>s * ldc) << 2), ldc, MR, nr, acc);
            }
          }
          if (mFull < mc) {
            // the ragged strip, zero-padded
            kernel4x8(kc, pA + <usize>ns * aStrip, pb, bs, tile, NR * 4, false);
            edge(tile, pc0 + <usize>mFull * ldc, ldc, mc - mFull, nr, acc);
          }
        }
      }
    }
  }
}

/** dot product of two strided float32 vectors of length K (SIMD when both are contiguous; attention's few-row path uses it too). */
export function dot(x: usize, sx: usize, y: usize, sy: usize, K: i32): f32 {
  let k = 0;
  let acc: f32 = 0;
  if (sx == 4 && sy == 4) {
    let v0 = f32x4.splat(0);
    let v1 = f32x4.splat(0);
    for (; k + 8 <= K; k += 8) {
      const o = <usize>k << 2;
      v0 = f32x4.add(v0, f32x4.mul(v128.load(x + o), v128.load(y + o)));
      v1 = f32x4.add(v1, f32x4.mul(v128.load(x + o, 16), v128.load(y + o, 16)));
    }
    v0 = f32x4.add(v0, v1);
    acc = f32x4.extract_lane(v0, 0) + f32x4.extract_lane(v0, 1) + (f32x4.extract_lane(v0, 2) + f32x4.extract_lane(v0, 3));
  }
  for (; k < K; k++) acc += load<f32>(x + <usize>k * sx) * load<f32>(y + <usize>k * sy);
  return acc;
}

/**
 * Thin products (M ≤ 2 or N ≤ 2) skip packing, which would cost as much as the arithmetic:
 * out rows are AXPYs over contiguous rows of B, or dot products along contiguous k.
 */
function gemmThin(A: usize, sam: usize, sak: usize, Bm: usize, sbk: usize, sbn: usize, C: usize, ldc: usize, M: i32, N: i32, K: i32): void {
  if (M <= 2 && sbn == 4 && !(sbk == 4 && N > 1)) {
    // out[i, :] = Σ_k a[i, k] · B[k, :] with B's rows contiguous
    for (let i = 0; i < M; i++) {
      const crow = C + <usize>i * ldc;
      memory.fill(crow, 0, <usize>N << 2);
      for (let k = 0; k < K; k++) {
        const aik = load<f32>(A + <usize>i * sam + <usize>k * sak);
        const av = f32x4.splat(aik);
        const brow = Bm + <usize>k * sbk;
        let j = 0;
        for (; j + 4 <= N; j += 4) {
          const d = crow + (<usize>j << 2);
          v128.store(d, f32x4.add(v128.load(d), f32x4.mul(av, v128.load(brow + (<usize>j << 2)))));
        }
        for (; j < N; j++) {
          const d = crow + (<usize>j << 2);
          store<f32>(d, load<f32>(d) + aik * load<f32>(brow + (<usize>j << 2)));
        }
      }
    }
    return;
  }
  // dot products: out[i, j] = A[i, :] · B[:, j]
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      store<f32>(C + <usize>i * ldc + (<usize>j << 2), dot(A + <usize>i * sam, sak, Bm + <usize>j * sbn, sbk, K));
    }
  }
}

/** As before, plus C's batch stride `sob` and row stride `ldc` (bytes): C may be a block of a larger matrix. */
export function matmul_f32(pa: usize, sab: usize, sam: usize, sak: usize, pb: usize, sbb: usize, sbk: usize, sbn: usize, po: usize, sob: usize, ldc: usize, B: i32, M: i32, N: i32, K: i32, ws: usize): void {
  for (let bb = 0; bb < B; bb++) {
    const C = po + <usize>bb * sob;
    if (K == 0) {
      for (let i = 0; i < M; i++) memory.fill(C + <usize>i * ldc, 0, <usize>N << 2);
      continue;
    }
    const A = pa + <usize>bb * sab;
    const Bm = pb + <usize>bb * sbb;
    // thin products where packing would not pay: a row or two against contiguous B rows, or
    // dot products along a contiguous k of both operands
    if ((M <= 2 && sbn == 4) || ((M <= 2 || N <= 2) && sak == 4 && sbk == 4)) gemmThin(A, sam, sak, Bm, sbk, sbn, C, ldc, M, N, K);
    else gemm(A, sam, sak, Bm, sbk, sbn, C, ldc, M, N, K, ws);
  }
}
