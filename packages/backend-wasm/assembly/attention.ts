// Scaled dot-product attention, forward, as one blocked kernel (flash attention): for each
// (batch b, block of BQ query rows) the keys are visited in blocks of BK with an online softmax,
// so no more than one BQ×BK block of scores exists at a time.
//
// Per block of keys: K's block is packed transposed into 8-key strips ([d][8], zero-padded) and
// V's into rows of Dvp floats (Dv rounded up to 8, zero-padded); S = Q·Kᵀ runs the 4×8 register
// tile `tile` reading Q in place (any strides; a ragged last strip repeats the last row), then
// each row takes scale, bias and the causal mask, its running maximum, exp (SIMD) and sum, and
// rescales its accumulator; O += P·V runs the same tile with P's rows read in place. The last
// block divides by the sum and writes lse = m + log(sum).
//
// Every (b, query block) unit is computed by the same operations in the same order whichever
// thread runs it and whatever units it runs with, so a split over threads by units gives the same
// bits for any thread count. The kernel takes all its state as arguments and uses no shadow
// stack (the scratch is the caller's workspace).
//
// Parameter block (i32 unless noted; strides in bytes), written by src/backend.ts:
//  0 q  1 q b-stride  2 q t-stride  3 q d-stride  4 k  5..7 k strides  8 v  9..11 v strides
// 12 bias (0: none)  13..15 bias strides  16 out  17 lse  18 Tq  19 Tk  20 D  21 Dv
// 22 causal  23 scale (f32)  24 BQ  25 BK

import { vexp } from './math';

@inline function P(prm: usize, k: i32): i32 {
  return load<i32>(prm + (<usize>k << 2));
}

/** c + a·b: one FMA in the relaxed-SIMD build (assembly/relaxed.ts), multiply then add otherwise. */
@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

/**
 * C[0:4, 0:8] = (C +) Σ_k A[r, k]·B[k, 0:8] over kc steps: row r of A starts at `a + r·ars` and
 * steps by `as` bytes (rows past `nr` − 1 repeat row nr − 1), B's eight values of one k are
 * contiguous, `bs` bytes apart; C's rows `ldc` bytes apart.
 */
function tile(kc: i32, a: usize, ars: usize, nr: i32, as: usize, b: usize, bs: usize, c: usize, ldc: usize, acc: bool): void {
  let c00 = f32x4.splat(0);
  let c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0);
  let c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0);
  let c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0);
  let c31 = f32x4.splat(0);
  let a0 = a;
  let a1 = nr > 1 ? a0 + ars : a0;
  let a2 = nr > 2 ? a1 + ars : a1;
  let a3 = nr > 3 ? a2 + ars : a2;
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(b);
    const b1 = v128.load(b, 16);
    let ar = v128.load32_splat(a0);
    c00 = madd(ar, b0, c00);
    c01 = madd(ar, b1, c01);
    ar = v128.load32_splat(a1);
    c10 = madd(ar, b0, c10);
    c11 = madd(ar, b1, c11);
    ar = v128.load32_splat(a2);
    c20 = madd(ar, b0, c20);
    c21 = madd(ar, b1, c21);
    ar = v128.load32_splat(a3);
    c30 = madd(ar, b0, c30);
    c31 = madd(ar, b1, c31);
    a0 += as;
    a1 += as;
    a2 += as;
    a3 += as;
    b += bs;
  }
  const r1 = c + ldc;
  const r2 = r1 + ldc;
  const r3 = r2 + ldc;
  if (acc) {
    c00 = f32x4.add(c00, v128.load(c));
    c01 = f32x4.add(c01, v128.load(c, 16));
    c10 = f32x4.add(c10, v128.load(r1));
    c11 = f32x4.add(c11, v128.load(r1, 16));
    c20 = f32x4.add(c20, v128.load(r2));
    c21 = f32x4.add(c21, v128.load(r2, 16));
    c30 = f32x4.add(c30, v128.load(r3));
    c31 = f32x4.add(c31, v128.load(r3, 16));
  }
  v128.store(c, c00);
  v128.store(c, c01, 16);
  v128.store(r1, c10);
  v128.store(r1, c11, 16);
  v128.store(r2, c20);
  v128.store(r2, c21, 16);
  v128.store(r3, c30);
  v128.store(r3, c31, 16);
}

/** Runs units [u0, u1) (unit = b · ⌈Tq / BQ⌉ + query block) of the attention in block `prm`. */
export function attention_f32(prm: usize, u0: i32, u1: i32, ws: usize): void {
  const pq = <usize>P(prm, 0), sqb = <usize>P(prm, 1), sqt = <usize>P(prm, 2), sqd = <usize>P(prm, 3);
  const pk = <usize>P(prm, 4), skb = <usize>P(prm, 5), skt = <usize>P(prm, 6), skd = <usize>P(prm, 7);
  const pv = <usize>P(prm, 8), svb = <usize>P(prm, 9), svt = <usize>P(prm, 10), svd = <usize>P(prm, 11);
  const pbias = <usize>P(prm, 12), sbb = <usize>P(prm, 13), sbi = <usize>P(prm, 14), sbj = <usize>P(prm, 15);
  const po = <usize>P(prm, 16), plse = <usize>P(prm, 17);
  const Tq = P(prm, 18), Tk = P(prm, 19), D = P(prm, 20), Dv = P(prm, 21);
  const causal = P(prm, 22) != 0;
  const scale = load<f32>(prm + 92);
  const BQ = P(prm, 24), BK = P(prm, 25);
  const Dvp = (Dv + 7) & ~7;
  const nqb = (Tq + BQ - 1) / BQ;
  // scratch: packed K block, packed V block, scores, accumulators, running max and sum
  const Kp = ws;
  const Vp = Kp + ((<usize>BK * <usize>D) << 2);
  const S = Vp + ((<usize>BK * <usize>Dvp) << 2);
  const O = S + ((<usize>BQ * <usize>BK) << 2);
  const M = O + ((<usize>BQ * <usize>Dvp) << 2);
  const L = M + (<usize>BQ << 2);
  const lds = <usize>BK << 2;
  const ldo = <usize>Dvp << 2;
  const ninf = f32x4.splat(-Infinity);
  for (let u = u0; u < u1; u++) {
    const b = u / nqb;
    const i0 = (u - b * nqb) * BQ;
    const rows = min(BQ, Tq - i0);
    const qb = pq + <usize>b * sqb + <usize>i0 * sqt;
    const kb = pk + <usize>b * skb;
    const vb = pv + <usize>b * svb;
    for (let r = 0; r < rows; r++) {
      store<f32>(M + (<usize>r << 2), -Infinity);
      store<f32>(L + (<usize>r << 2), 0);
    }
    memory.fill(O, 0, (<usize>BQ * <usize>Dvp) << 2);
    // keys any row of the block sees (top-left causal: row i sees j ≤ i)
    const jEnd = causal ? min(Tk, i0 + rows) : Tk;
    for (let j0 = 0; j0 < jEnd; j0 += BK) {
      const nk = min(BK, jEnd - j0);
      const nk8 = (nk + 7) & ~7;
      // pack K's block transposed ([strip][d][8]) and V's as rows of Dvp, zero-padded
      for (let c = 0; c < nk8; c++) {
        const kd = Kp + ((<usize>(c >> 3) * <usize>D) << 5) + (<usize>(c & 7) << 2);
        const vd = Vp + <usize>c * ldo;
        if (c < nk) {
          const ks = kb + <usize>(j0 + c) * skt;
          for (let d = 0; d < D; d++) store<f32>(kd + (<usize>d << 5), load<f32>(ks + <usize>d * skd));
          const vs = vb + <usize>(j0 + c) * svt;
          if (svd == 4) memory.copy(vd, vs, <usize>Dv << 2);
          else for (let e = 0; e < Dv; e++) store<f32>(vd + (<usize>e << 2), load<f32>(vs + <usize>e * svd));
          for (let e = Dv; e < Dvp; e++) store<f32>(vd + (<usize>e << 2), 0);
        } else {
          for (let d = 0; d < D; d++) store<f32>(kd + (<usize>d << 5), 0);
          memory.fill(vd, 0, ldo);
        }
      }
      // S = Q·Kᵀ (unscaled)
      for (let r0 = 0; r0 < rows; r0 += 4) {
        for (let c0 = 0; c0 < nk8; c0 += 8) {
          tile(D, qb + <usize>r0 * sqt, sqt, rows - r0, sqd, Kp + ((<usize>c0 * <usize>D) << 2), 32, S + <usize>r0 * lds + (<usize>c0 << 2), lds, false);
        }
      }
      // per row: scale, bias, mask; online softmax; P in place of S
      for (let r = 0; r < rows; r++) {
        const i = i0 + r;
        const srow = S + <usize>r * lds;
        const brow = pbias + <usize>b * sbb + <usize>i * sbi + <usize>j0 * sbj;
        // keys from jm on are masked in this row
        const jm = causal ? min(nk, i + 1 - j0) : nk;
        for (let c = 0; c < nk8; c++) {
          const p = srow + (<usize>c << 2);
          let s: f32 = -Infinity;
          if (c < jm) {
            s = load<f32>(p) * scale;
            if (pbias != 0) s += load<f32>(brow + <usize>c * sbj);
          }
          store<f32>(p, s);
        }
        let mv = ninf;
        for (let c = 0; c < nk8; c += 4) mv = f32x4.max(mv, v128.load(srow + (<usize>c << 2)));
        const mOld = load<f32>(M + (<usize>r << 2));
        const mNew = max(max(max(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1)), max(f32x4.extract_lane(mv, 2), f32x4.extract_lane(mv, 3))), mOld);
        if (mNew == -Infinity) {
          // every score so far is −∞: nothing to add (exp(−∞ − (−∞)) would be NaN)
          memory.fill(srow, 0, <usize>nk8 << 2);
          continue;
        }
        const mvN = f32x4.splat(mNew);
        let sv = f32x4.splat(0);
        for (let c = 0; c < nk8; c += 4) {
          const p = srow + (<usize>c << 2);
          const e = vexp(f32x4.sub(v128.load(p), mvN));
          v128.store(p, e);
          sv = f32x4.add(sv, e);
        }
        const sum = (f32x4.extract_lane(sv, 0) + f32x4.extract_lane(sv, 1)) + (f32x4.extract_lane(sv, 2) + f32x4.extract_lane(sv, 3));
        const alpha = Mathf.exp(mOld - mNew);
        store<f32>(L + (<usize>r << 2), load<f32>(L + (<usize>r << 2)) * alpha + sum);
        store<f32>(M + (<usize>r << 2), mNew);
        if (alpha != 1) {
          const av = f32x4.splat(alpha);
          const orow = O + <usize>r * ldo;
          for (let e = 0; e < Dvp; e += 4) {
            const p = orow + (<usize>e << 2);
            v128.store(p, f32x4.mul(v128.load(p), av));
          }
        }
      }
      // O += P·V
      for (let r0 = 0; r0 < rows; r0 += 4) {
        for (let e0 = 0; e0 < Dvp; e0 += 8) {
          tile(nk, S + <usize>r0 * lds, lds, rows - r0, 4, Vp + (<usize>e0 << 2), ldo, O + <usize>r0 * ldo + (<usize>e0 << 2), ldo, true);
        }
      }
    }
    // out = O / sum; lse = m + log(sum) (a row of −∞ scores: 0/0 = NaN and −∞)
    for (let r = 0; r < rows; r++) {
      const i = i0 + r;
      const l = load<f32>(L + (<usize>r << 2));
      const orow = O + <usize>r * ldo;
      const dst = po + ((<usize>(b * Tq + i) * <usize>Dv) << 2);
      for (let e = 0; e < Dv; e++) store<f32>(dst + (<usize>e << 2), load<f32>(orow + (<usize>e << 2)) / l);
      store<f32>(plse + (<usize>(b * Tq + i) << 2), load<f32>(M + (<usize>r << 2)) + Mathf.log(l));
    }
  }
}

/** Scratch bytes attention_f32 needs for blocks of BQ query rows and BK keys. */
export function attention_ws_bytes(BQ: i32, BK: i32, D: i32, Dv: i32): i32 {
  const Dvp = (Dv + 7) & ~7;
  return (BK * D + BK * Dvp + BQ * BK + BQ * Dvp + 2 * BQ) << 2;
}
