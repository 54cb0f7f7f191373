// Scaled dot-product attention, forward, as one blocked kernel (flash attention): for each
// (batch b, block of BQ query rows) the keys are visited in blocks of BK with an online softmax,
// so no more than one BQ×BK block of scores exists at a time.
//
// Q's block is packed once per unit into 4-row strips ([d][4], zero-padded); per block of keys,
// K's block is packed transposed into 8-key strips ([d][8], zero-padded) and V's into rows of Dvp
// floats (Dv rounded up to 8, zero-padded); S = Q·Kᵀ runs the matmul's 4×8 register tile
// (kernel4x8), then each row takes scale, bias and the causal mask, its running maximum, exp
// (SIMD) and sum, rescales its accumulator and writes P in 4-row strips; O += P·V runs the same
// tile. The last block divides by the sum and writes lse = m + log(sum).
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


/**
 * exp on four lanes for x ≤ 0 (scores minus their maximum), −∞ and NaN: math.ts's `vexp` (the same
 * range reduction and polynomial) without what only positive arguments need, so 2^n is one
 * factor. Lanes below −87.34 (−∞ included) give 0; NaN stays NaN.
 */
@inline function expNeg(x: v128): v128 {
  const lo = f32x4.splat(-87.33654);
  const magic = f32x4.splat(12582912.0); // 1.5·2^23
  const xc = f32x4.pmax(x, lo);
  const t = f32x4.add(f32x4.mul(xc, f32x4.splat(1.44269504088896341)), magic);
  const n = f32x4.sub(t, magic);
  let r = f32x4.sub(xc, f32x4.mul(n, f32x4.splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(-2.12194440e-4)));
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  p = f32x4.add(f32x4.add(f32x4.mul(f32x4.mul(p, r), r), r), f32x4.splat(1.0));
  // n ∈ [−126, 0]: 2^n = bits (n + 127) << 23
  const y = f32x4.mul(p, i32x4.shl(i32x4.add(i32x4.sub(t, magic), i32x4.splat(127)), 23));
  return v128.bitselect(f32x4.splat(0), y, f32x4.lt(x, lo));
}

import { dot, kernel4x8 } from './matmul';

@inline function P(prm: usize, k: i32): i32 {
  return load<i32>(prm + (<usize>k << 2));
}

// The scratch (at `ws`): packed K block (BK·D), packed V block (BK·Dvp), scores (BQ·BK), packed
// P (BQ·BK), accumulators (BQ·Dvp), running maximum and sum (BQ each), packed Q block (BQ·D).
@inline function dvp(prm: usize): usize {
  return <usize>((P(prm, 21) + 7) & ~7);
}
@inline function vpOf(prm: usize, ws: usize): usize {
  return ws + ((<usize>P(prm, 25) * <usize>P(prm, 20)) << 2);
}
@inline function sOf(prm: usize, ws: usize): usize {
  return vpOf(prm, ws) + ((<usize>P(prm, 25) * dvp(prm)) << 2);
}
@inline function pOf(prm: usize, ws: usize): usize {
  return sOf(prm, ws) + ((<usize>P(prm, 24) * <usize>P(prm, 25)) << 2);
}
@inline function oOf(prm: usize, ws: usize): usize {
  return pOf(prm, ws) + ((<usize>P(prm, 24) * <usize>P(prm, 25)) << 2);
}
@inline function mOf(prm: usize, ws: usize): usize {
  return oOf(prm, ws) + ((<usize>P(prm, 24) * dvp(prm)) << 2);
}
@inline function qOf(prm: usize, ws: usize): usize {
  return mOf(prm, ws) + (<usize>P(prm, 24) << 3);
}

// The parts of a unit other than the two products: exported by the SIMD128 module, which the
// relaxed-SIMD module imports them from (only kernel4x8 differs between the two builds, so the
// relaxed module carries the driver next to its matmul, not a second copy of these, and stays
// under the 4 KB a browser's main thread compiles synchronously).
@external("env", "attn_pack") declare function packImported(prm: usize, ws: usize, b: i32, i0: i32, rows: i32, j0: i32, nk: i32): void;
@external("env", "attn_softmax") declare function softmaxImported(prm: usize, ws: usize, b: i32, i0: i32, rows: i32, j0: i32, nk: i32): void;
@external("env", "attn_finish") declare function finishImported(prm: usize, ws: usize, b: i32, i0: i32, rows: i32): void;
@external("env", "attn_thin") declare function thinImported(prm: usize, ws: usize, b: i32, i0: i32, rows: i32, j0: i32, nk: i32, pv: bool): void;

/**
 * The products for fewer than 4 query rows (generation: Tq = 1), where packing K and V would cost
 * as much as the products and the 4-row tile would compute padding: S's rows by dot products
 * (`pv` false), or O += P·V by one AXPY per key (`pv` true), reading K and V in place.
 */
export function attn_thin(prm: usize, ws: usize, b: i32, i0: i32, rows: i32, j0: i32, nk: i32, pv: bool): void {
  const D = P(prm, 20), Dv = P(prm, 21);
  const lds = <usize>P(prm, 25) << 2;
  const qb = <usize>P(prm, 0) + <usize>b * <usize>P(prm, 1) + <usize>i0 * <usize>P(prm, 2);
  const kb = <usize>P(prm, 4) + <usize>b * <usize>P(prm, 5) + <usize>j0 * <usize>P(prm, 6);
  const vb = <usize>P(prm, 8) + <usize>b * <usize>P(prm, 9) + <usize>j0 * <usize>P(prm, 10);
  const svd = <usize>P(prm, 11);
  const S = sOf(prm, ws), Pp = pOf(prm, ws), O = oOf(prm, ws);
  const ldo = dvp(prm) << 2;
  for (let r = 0; r < rows; r++) {
    const srow = S + <usize>r * lds;
    const orow = O + <usize>r * ldo;
    for (let c = 0; c < nk; c++) {
      if (!pv) {
        store<f32>(srow + (<usize>c << 2), dot(qb + <usize>r * <usize>P(prm, 2), <usize>P(prm, 3), kb + <usize>c * <usize>P(prm, 6), <usize>P(prm, 7), D));
        continue;
      }
      const p = load<f32>(Pp + (<usize>c << 4) + (<usize>r << 2));
      const vrow = vb + <usize>c * <usize>P(prm, 10);
      let e = 0;
      if (svd == 4) {
        const pvv = f32x4.splat(p);
        for (; e + 4 <= Dv; e += 4) {
          const o = orow + (<usize>e << 2);
          v128.store(o, f32x4.add(v128.load(o), f32x4.mul(pvv, v128.load(vrow + (<usize>e << 2)))));
        }
      }
      for (; e < Dv; e++) {
        const o = orow + (<usize>e << 2);
        store<f32>(o, load<f32>(o) + p * load<f32>(vrow + <usize>e * svd));
      }
    }
  }
}

/**
 * Packs keys [j0, j0 + nk) of batch b: K transposed in 8-key strips ([strip][d][8]), V in rows of
 * Dvp; zero-padded to 8 keys. With j0 = 0 also the unit's query rows [i0, i0 + rows) in 4-row
 * strips ([strip][d][4], zero-padded).
 */
export function attn_pack(prm: usize, ws: usize, b: i32, i0: i32, rows: i32, j0: i32, nk: i32): void {
  const D = P(prm, 20), Dv = P(prm, 21);
  if (j0 == 0) {
    const Qp = qOf(prm, ws);
    const sqt = <usize>P(prm, 2), sqd = <usize>P(prm, 3);
    const qb = <usize>P(prm, 0) + <usize>b * <usize>P(prm, 1) + <usize>i0 * sqt;
    const rows4 = (rows + 3) & ~3;
    for (let r = 0; r < rows4; r++) {
      const qd = Qp + ((<usize>(r >> 2) * <usize>D) << 4) + (<usize>(r & 3) << 2);
      const qs = qb + <usize>r * sqt;
      for (let d = 0; d < D; d++) store<f32>(qd + (<usize>d << 4), r < rows ? load<f32>(qs + <usize>d * sqd) : 0);
    }
  }
  const skd = <usize>P(prm, 7), svd = <usize>P(prm, 11);
  const kb = <usize>P(prm, 4) + <usize>b * <usize>P(prm, 5) + <usize>j0 * <usize>P(prm, 6);
  const vb = <usize>P(prm, 8) + <usize>b * <usize>P(prm, 9) + <usize>j0 * <usize>P(prm, 10);
  const Vp = vpOf(prm, ws);
  const ldo = dvp(prm) << 2;
  const nk8 = (nk + 7) & ~7;
  for (let c = 0; c < nk8; c++) {
    const kd = ws + ((<usize>(c >> 3) * <usize>D) << 5) + (<usize>(c & 7) << 2);
    const vd = Vp + <usize>c * ldo;
    memory.fill(vd, 0, ldo);
    if (c < nk) {
      const ks = kb + <usize>c * <usize>P(prm, 6);
      for (let d = 0; d < D; d++) store<f32>(kd + (<usize>d << 5), load<f32>(ks + <usize>d * skd));
      const vs = vb + <usize>c * <usize>P(prm, 10);
      let e = 0;
      if (svd == 4) for (; e + 4 <= Dv; e += 4) v128.store(vd + (<usize>e << 2), v128.load(vs + (<usize>e << 2)));
      for (; e < Dv; e++) store<f32>(vd + (<usize>e << 2), load<f32>(vs + <usize>e * svd));
    } else {
      for (let d = 0; d < D; d++) store<f32>(kd + (<usize>d << 5), 0);
    }
  }
}

/**
 * Rows [0, rows) of the unit's scores against keys [j0, j0 + nk): s = scale·S + bias (−∞ where
 * causally masked), then the online softmax: P = exp(s − m) in place of S, the running maximum
 * m and sum, and the accumulators rescaled by exp(m_old − m).
 */
export function attn_softmax(prm: usize, ws: usize, b: i32, i0: i32, rows: i32, j0: i32, nk: i32): void {
  const pbias = <usize>P(prm, 12), sbj = <usize>P(prm, 15);
  const causal = P(prm, 22) != 0;
  const scv = f32x4.splat(load<f32>(prm + 92));
  const lds = <usize>P(prm, 25) << 2;
  const Dvp = dvp(prm);
  const S = sOf(prm, ws), Pp = pOf(prm, ws), O = oOf(prm, ws), M = mOf(prm, ws);
  const L = M + (<usize>P(prm, 24) << 2);
  const ninf = f32x4.splat(-Infinity);
  const nk8 = (nk + 7) & ~7;
  for (let r = 0; r < rows; r++) {
    const i = i0 + r;
    const srow = S + <usize>r * lds;
    // row r of P: strip r >> 2, lane r & 3 of each key's four values
    const prow = Pp + <usize>(r >> 2) * (lds << 2) + (<usize>(r & 3) << 2);
    const brow = pbias + <usize>b * <usize>P(prm, 13) + <usize>i * <usize>P(prm, 14) + <usize>j0 * sbj;
    // keys from jm on are masked in this row (and the padding)
    const jmv = i32x4.splat(causal ? min(nk, i + 1 - j0) : nk);
    let mv = ninf;
    for (let c = 0; c < nk8; c += 4) {
      const p = srow + (<usize>c << 2);
      let x = f32x4.mul(v128.load(p), scv);
      if (pbias != 0) {
        let bv: v128;
        if (sbj == 4 && c + 4 <= nk) bv = v128.load(brow + (<usize>c << 2));
        else {
          // lanes past the last key read its bias again (masked below): never past the view
          bv = f32x4.splat(load<f32>(brow + <usize>min(c, nk - 1) * sbj));
          bv = f32x4.replace_lane(bv, 1, load<f32>(brow + <usize>min(c + 1, nk - 1) * sbj));
          bv = f32x4.replace_lane(bv, 2, load<f32>(brow + <usize>min(c + 2, nk - 1) * sbj));
          bv = f32x4.replace_lane(bv, 3, load<f32>(brow + <usize>min(c + 3, nk - 1) * sbj));
        }
        x = f32x4.add(x, bv);
      }
      x = v128.bitselect(x, ninf, i32x4.lt_s(i32x4.add(i32x4(0, 1, 2, 3), i32x4.splat(c)), jmv));
      v128.store(p, x);
      mv = f32x4.max(mv, x);
    }
    const mOld = load<f32>(M + (<usize>r << 2));
    const mNew = max(max(max(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1)), max(f32x4.extract_lane(mv, 2), f32x4.extract_lane(mv, 3))), mOld);
    if (mNew == -Infinity) {
      // every score so far is −∞: nothing to add (exp(−∞ − (−∞)) would be NaN)
      for (let c = 0; c < nk; c++) store<f32>(prow + (<usize>c << 4), 0);
      continue;
    }
    const mvN = f32x4.splat(mNew);
    let sv = f32x4.splat(0);
    for (let c = 0; c < nk8; c += 4) {
      const p = srow + (<usize>c << 2);
      const e = expNeg(f32x4.sub(v128.load(p), mvN));
      const q = prow + (<usize>c << 4);
      store<f32>(q, f32x4.extract_lane(e, 0));
      store<f32>(q, f32x4.extract_lane(e, 1), 16);
      store<f32>(q, f32x4.extract_lane(e, 2), 32);
      store<f32>(q, f32x4.extract_lane(e, 3), 48);
      sv = f32x4.add(sv, e);
    }
    const sum = (f32x4.extract_lane(sv, 0) + f32x4.extract_lane(sv, 1)) + (f32x4.extract_lane(sv, 2) + f32x4.extract_lane(sv, 3));
    const alpha = Mathf.exp(mOld - mNew);
    store<f32>(L + (<usize>r << 2), load<f32>(L + (<usize>r << 2)) * alpha + sum);
    store<f32>(M + (<usize>r << 2), mNew);
    if (alpha != 1) {
      const av = f32x4.splat(alpha);
      const orow = O + ((<usize>r * Dvp) << 2);
      for (let e: usize = 0; e < Dvp; e += 4) {
        const p = orow + (e << 2);
        v128.store(p, f32x4.mul(v128.load(p), av));
      }
    }
  }
}

/** Writes the unit's rows: out = O / sum, lse = m + log(sum) (a row of −∞ scores: 0/0 = NaN and −∞). */
export function attn_finish(prm: usize, ws: usize, b: i32, i0: i32, rows: i32): void {
  const Tq = P(prm, 18), Dv = P(prm, 21);
  const O = oOf(prm, ws), M = mOf(prm, ws);
  const L = M + (<usize>P(prm, 24) << 2);
  const ldo = dvp(prm) << 2;
  for (let r = 0; r < rows; r++) {
    const row = <usize>(b * Tq + i0 + r);
    const l = load<f32>(L + (<usize>r << 2));
    const orow = O + <usize>r * ldo;
    const dst = <usize>P(prm, 16) + ((row * <usize>Dv) << 2);
    for (let e = 0; e < Dv; e++) store<f32>(dst + (<usize>e << 2), load<f32>(orow + (<usize>e << 2)) / l);
    store<f32>(<usize>P(prm, 17) + (row << 2), load<f32>(M + (<usize>r << 2)) + Mathf.log(l));
  }
}

/** Runs units [u0, u1) (unit = b · ⌈Tq / BQ⌉ + query block) of the attention in block `prm`. */
export function attention_f32(prm: usize, u0: i32, u1: i32, ws: usize): void {
  const Tq = P(prm, 18), Tk = P(prm, 19), D = P(prm, 20);
  const causal = P(prm, 22) != 0;
  const BQ = P(prm, 24), BK = P(prm, 25);
  const Dvp = <i32>dvp(prm);
  const nqb = (Tq + BQ - 1) / BQ;
  const thin = Tq < 4;
  const S = sOf(prm, ws), Pp = pOf(prm, ws), O = oOf(prm, ws), M = mOf(prm, ws), Qp = qOf(prm, ws);
  const Vp = vpOf(prm, ws);
  const lds = <usize>BK << 2;
  const ldo = <usize>Dvp << 2;
  for (let u = u0; u < u1; u++) {
    const b = u / nqb;
    const i0 = (u - b * nqb) * BQ;
    const rows = min(BQ, Tq - i0);
    for (let r = 0; r < rows; r++) {
      store<f32>(M + (<usize>r << 2), -Infinity);
      store<f32>(M + (<usize>(BQ + r) << 2), 0);
    }
    memory.fill(O, 0, (<usize>BQ * <usize>Dvp) << 2);
    // keys any row of the block sees (top-left causal: row i sees j ≤ i)
    const jEnd = causal ? min(Tk, i0 + rows) : Tk;
    for (let j0 = 0; j0 < jEnd; j0 += BK) {
      const nk = min(BK, jEnd - j0);
      // S = Q·Kᵀ (unscaled), then P, then O += P·V: 4-row strips × 8-column strips (with
      // fewer than 4 query rows in all, dot products and AXPYs)
      if (thin) {
        if (ASC_FEATURE_RELAXED_SIMD) thinImported(prm, ws, b, i0, rows, j0, nk, false);
        else attn_thin(prm, ws, b, i0, rows, j0, nk, false);
      } else {
        if (ASC_FEATURE_RELAXED_SIMD) packImported(prm, ws, b, i0, rows, j0, nk);
        else attn_pack(prm, ws, b, i0, rows, j0, nk);
        for (let r0 = 0; r0 < rows; r0 += 4) {
          for (let c0 = 0; c0 < nk; c0 += 8) kernel4x8(D, Qp + ((<usize>r0 * <usize>D) << 2), ws + ((<usize>c0 * <usize>D) << 2), 32, S + <usize>r0 * lds + (<usize>c0 << 2), lds, false);
        }
      }
      if (ASC_FEATURE_RELAXED_SIMD) softmaxImported(prm, ws, b, i0, rows, j0, nk);
      else attn_softmax(prm, ws, b, i0, rows, j0, nk);
      if (thin) {
        if (ASC_FEATURE_RELAXED_SIMD) thinImported(prm, ws, b, i0, rows, j0, nk, true);
        else attn_thin(prm, ws, b, i0, rows, j0, nk, true);
      } else {
        for (let r0 = 0; r0 < rows; r0 += 4) {
          for (let e0 = 0; e0 < Dvp; e0 += 8) kernel4x8(nk, Pp + <usize>r0 * lds, Vp + (<usize>e0 << 2), ldo, O + <usize>r0 * ldo + (<usize>e0 << 2), ldo, true);
        }
      }
    }
    if (ASC_FEATURE_RELAXED_SIMD) finishImported(prm, ws, b, i0, rows);
    else attn_finish(prm, ws, b, i0, rows);
  }
}

/** Scratch bytes attention_f32 needs for blocks of BQ query rows and BK keys. */
export function attention_ws_bytes(BQ: i32, BK: i32, D: i32, Dv: i32): i32 {
  const Dvp = (Dv + 7) & ~7;
  return (BK * D + BK * Dvp + 2 * BQ * BK + BQ * Dvp + 2 * BQ + BQ * D) << 2;
}
