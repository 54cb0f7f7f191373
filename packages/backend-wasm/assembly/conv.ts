// im2col / col2im / pool2d / pool2dGrad over NCHW views. Window parameters and strides come in
// an i32 parameter block `prm` (layout written by src/backend.ts):
//   0 n, 1 c, 2 h, 3 w, 4 kH, 5 kW, 6 strideH, 7 strideW, 8 padTop, 9 padLeft, 10 dilationH,
//   11 dilationW, 12 outH, 13 outW, 14..17 x byte strides (n, c, h, w), 18..21 second view's
//   byte strides (cols: n, row, col; dy: n, c, oh, ow).
import { fmax } from './math';

@inline function P(prm: usize, k: i32): i32 {
  return load<i32>(prm + (<usize>k << 2));
}

/** First ox whose input column ox·s − p + off is ≥ 0 (clamped to [0, oW]). */
@inline function oxFirst(p: i32, off: i32, s: i32, oW: i32): i32 {
  const num = p - off;
  // integer division is slow: skip it for unit steps (the common case)
  const v = num <= 0 ? 0 : s == 1 ? num : (num + s - 1) / s;
  return min(v, oW);
}

/** One past the last ox whose input column is < W (clamped to [lo, oW]). */
@inline function oxEnd(p: i32, off: i32, s: i32, W: i32, oW: i32, lo: i32): i32 {
  const num = W - 1 + p - off;
  const v = num < 0 ? 0 : (s == 1 ? num : num / s) + 1;
  return max(lo, min(v, oW));
}

export function im2col(px: usize, prm: usize, po: usize): void {
  const N = P(prm, 0), C = P(prm, 1), H = P(prm, 2), W = P(prm, 3), kH = P(prm, 4), kW = P(prm, 5);
  const sH = P(prm, 6), sW = P(prm, 7), pT = P(prm, 8), pL = P(prm, 9), dH = P(prm, 10), dW = P(prm, 11);
  const oH = P(prm, 12), oW = P(prm, 13);
  const xn = <usize>P(prm, 14), xc = <usize>P(prm, 15), xh = <usize>P(prm, 16), xw = <usize>P(prm, 17);
  let q = po;
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const plane = px + <usize>n * xn + <usize>c * xc;
      for (let ki = 0; ki < kH; ki++) {
        for (let kj = 0; kj < kW; kj++) {
          for (let oy = 0; oy < oH; oy++) {
            const iy = oy * sH - pT + ki * dH;
            if (iy < 0 || iy >= H) {
              memory.fill(q, 0, <usize>oW << 2);
              q += <usize>oW << 2;
              continue;
            }
            const row = plane + <usize>iy * xh;
            const lo = oxFirst(pL, kj * dW, sW, oW);
            const hi = oxEnd(pL, kj * dW, sW, W, oW, lo);
            if (lo > 0) memory.fill(q, 0, <usize>lo << 2);
            const cnt = hi - lo;
            // no valid column (a dilated tap past the input): the source address is meaningless and
            // WebAssembly bounds-checks even a zero-length memory.copy
            if (cnt > 0) {
              const ix0 = lo * sW - pL + kj * dW;
              const src = row + <usize>ix0 * xw;
              const dst = q + (<usize>lo << 2);
              if (sW == 1 && xw == 4) memory.copy(dst, src, <usize>cnt << 2);
              else {
                const step = <usize>sW * xw;
                for (let t = 0; t < cnt; t++) store<f32>(dst + (<usize>t << 2), load<f32>(src + <usize>t * step));
              }
            }
            if (hi < oW) memory.fill(q + (<usize>hi << 2), 0, <usize>(oW - hi) << 2);
            q += <usize>oW << 2;
          }
        }
      }
    }
  }
}

/** out [n, c, h, w] contiguous, zeroed here; cols strides at 18..20. */
export function col2im(pc: usize, prm: usize, po: usize): void {
  const N = P(prm, 0), C = P(prm, 1), H = P(prm, 2), W = P(prm, 3), kH = P(prm, 4), kW = P(prm, 5);
  const sH = P(prm, 6), sW = P(prm, 7), pT = P(prm, 8), pL = P(prm, 9), dH = P(prm, 10), dW = P(prm, 11);
  const oH = P(prm, 12), oW = P(prm, 13);
  const cn = <usize>P(prm, 18), cr = <usize>P(prm, 19), cl = <usize>P(prm, 20);
  memory.fill(po, 0, (<usize>N * <usize>C * <usize>H * <usize>W) << 2);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const plane = po + ((<usize>(n * C + c) * <usize>H * <usize>W) << 2);
      for (let ki = 0; ki < kH; ki++) {
        for (let kj = 0; kj < kW; kj++) {
          const crow = pc + <usize>n * cn + <usize>((c * kH + ki) * kW + kj) * cr;
          for (let oy = 0; oy < oH; oy++) {
            const iy = oy * sH - pT + ki * dH;
            if (iy < 0 || iy >= H) continue;
            const orow = plane + ((<usize>iy * <usize>W) << 2);
            const cbase = crow + <usize>(oy * oW) * cl;
            const lo = oxFirst(pL, kj * dW, sW, oW);
            const hi = oxEnd(pL, kj * dW, sW, W, oW, lo);
            const ix0 = lo * sW - pL + kj * dW;
            const dst = orow + (<usize>ix0 << 2);
            const src = cbase + <usize>lo * cl;
            const cnt = hi - lo;
            let t = 0;
            if (sW == 1 && cl == 4) {
              for (; t + 4 <= cnt; t += 4) {
                const d = dst + (<usize>t << 2);
                v128.store(d, f32x4.add(v128.load(d), v128.load(src + (<usize>t << 2))));
              }
            }
            const dstep = <usize>sW << 2;
            for (; t < cnt; t++) {
              const d = dst + <usize>t * dstep;
              store<f32>(d, load<f32>(d) + load<f32>(src + <usize>t * cl));
            }
          }
        }
      }
    }
  }
}

/**
 * op 0 max, 1 avg. Each output row accumulates, for every (ki, kj) of the window, the run of
 * input columns that tap reads (computed once, so the inner loop has no padding branches); with
 * unit column stride and stride 1 or 2 the run is loaded as vectors.
 */
export function pool2d(op: i32, px: usize, prm: usize, po: usize): void {
  const N = P(prm, 0), C = P(prm, 1), H = P(prm, 2), W = P(prm, 3), kH = P(prm, 4), kW = P(prm, 5);
  const sH = P(prm, 6), sW = P(prm, 7), pT = P(prm, 8), pL = P(prm, 9), dH = P(prm, 10), dW = P(prm, 11);
  const oH = P(prm, 12), oW = P(prm, 13);
  const xn = <usize>P(prm, 14), xc = <usize>P(prm, 15), xh = <usize>P(prm, 16), xw = <usize>P(prm, 17);
  const isMax = op == 0;
  const init: f32 = isMax ? -Infinity : 0;
  let q = po;
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const plane = px + <usize>n * xn + <usize>c * xc;
      for (let oy = 0; oy < oH; oy++) {
        const v0 = f32x4.splat(init);
        let t = 0;
        for (; t + 4 <= oW; t += 4) v128.store(q + (<usize>t << 2), v0);
        for (; t < oW; t++) store<f32>(q + (<usize>t << 2), init);
        let cntH = 0;
        for (let ki = 0; ki < kH; ki++) {
          const iy = oy * sH - pT + ki * dH;
          if (iy < 0 || iy >= H) continue;
          cntH++;
          const row = plane + <usize>iy * xh;
          for (let kj = 0; kj < kW; kj++) {
            const lo = oxFirst(pL, kj * dW, sW, oW);
            const hi = oxEnd(pL, kj * dW, sW, W, oW, lo);
            const src = row + <usize>(lo * sW - pL + kj * dW) * xw;
            const dst = q + (<usize>lo << 2);
            const cnt = hi - lo;
            let u = 0;
            if (xw == 4 && sW == 1) {
              for (; u + 4 <= cnt; u += 4) {
                const d = dst + (<usize>u << 2);
                const v = v128.load(src + (<usize>u << 2));
                v128.store(d, isMax ? f32x4.max(v128.load(d), v) : f32x4.add(v128.load(d), v));
              }
            } else if (xw == 4 && sW == 2) {
              for (; u + 4 <= cnt; u += 4) {
                const d = dst + (<usize>u << 2);
                const s8 = src + (<usize>u << 3);
                const v = v128.shuffle<f32>(v128.load(s8), v128.load(s8, 16), 0, 2, 4, 6);
                v128.store(d, isMax ? f32x4.max(v128.load(d), v) : f32x4.add(v128.load(d), v));
              }
            }
            const step = <usize>sW * xw;
            for (; u < cnt; u++) {
              const d = dst + (<usize>u << 2);
              const v = load<f32>(src + <usize>u * step);
              store<f32>(d, isMax ? fmax(load<f32>(d), v) : load<f32>(d) + v);
            }
          }
        }
        if (!isMax) {
          for (let ox = 0; ox < oW; ox++) {
            let cntW = 0;
            for (let kj = 0; kj < kW; kj++) {
              const ix = ox * sW - pL + kj * dW;
              if (ix >= 0 && ix < W) cntW++;
            }
            const d = q + (<usize>ox << 2);
            const k = cntH * cntW;
            store<f32>(d, k > 0 ? load<f32>(d) / <f32>k : 0);
          }
        }
        q += <usize>oW << 2;
      }
    }
  }
}

/**
 * out [n, c, h, w] contiguous, zeroed here; dy strides at 18..21. The valid taps of each window
 * are computed as ranges (ki ∈ [kiLo, kiHi), kj ∈ [kjLo, kjHi)), so the tap loops carry no
 * padding tests.
 */
export function pool2d_grad(op: i32, px: usize, pdy: usize, prm: usize, po: usize): void {
  const N = P(prm, 0), C = P(prm, 1), H = P(prm, 2), W = P(prm, 3), kH = P(prm, 4), kW = P(prm, 5);
  const sH = P(prm, 6), sW = P(prm, 7), pT = P(prm, 8), pL = P(prm, 9), dH = P(prm, 10), dW = P(prm, 11);
  const oH = P(prm, 12), oW = P(prm, 13);
  const xn = <usize>P(prm, 14), xc = <usize>P(prm, 15), xh = <usize>P(prm, 16), xw = <usize>P(prm, 17);
  const gn = <usize>P(prm, 18), gc = <usize>P(prm, 19), gh = <usize>P(prm, 20), gw = <usize>P(prm, 21);
  memory.fill(po, 0, (<usize>N * <usize>C * <usize>H * <usize>W) << 2);
  const tapW = <usize>dW * xw;
  // 2×2 max pooling with stride 2 and no padding (the common case): windows do not overlap, so
  // four windows at a time pick their first maximal tap (the first NaN wins) with SIMD compares
  // and write the gradient or 0 straight into their taps; g + 0 keeps the +0 the scalar path's
  // 0 + g gives for g = −0
  const fast2 = op == 0 && kH == 2 && kW == 2 && sH == 2 && sW == 2 && pT == 0 && pL == 0 && dH == 1 && dW == 1 && xw == 4 && gw == 4;
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const plane = px + <usize>n * xn + <usize>c * xc;
      const oplane = po + ((<usize>(n * C + c) * <usize>H * <usize>W) << 2);
      const gplane = pdy + <usize>n * gn + <usize>c * gc;
      const oxFast = fast2 ? oW & ~3 : 0;
      if (oxFast > 0) {
        const zero = f32x4.splat(0);
        for (let oy = 0; oy < oH; oy++) {
          const ra = plane + (<usize>(2 * oy)) * xh;
          const rb = ra + xh;
          const oa = oplane + ((<usize>(2 * oy) * <usize>W) << 2);
          const ob = oa + (<usize>W << 2);
          const grow = gplane + <usize>oy * gh;
          for (let ox = 0; ox < oxFast; ox += 4) {
            const o = <usize>ox << 3;
            const a0 = v128.load(ra + o);
            const a1 = v128.load(ra + o, 16);
            const b0 = v128.load(rb + o);
            const b1 = v128.load(rb + o, 16);
            // taps in window order: top-left, top-right, bottom-left, bottom-right
            const ae = v128.shuffle<f32>(a0, a1, 0, 2, 4, 6);
            const ao = v128.shuffle<f32>(a0, a1, 1, 3, 5, 7);
            const be = v128.shuffle<f32>(b0, b1, 0, 2, 4, 6);
            const bo = v128.shuffle<f32>(b0, b1, 1, 3, 5, 7);
            let best = ae;
            let done = f32x4.ne(ae, ae);
            // sel: one mask per tap, exactly one set per window
            let s0 = v128.not(zero);
            const t1 = v128.andnot(v128.or(f32x4.gt(ao, best), f32x4.ne(ao, ao)), done);
            best = v128.bitselect(ao, best, t1);
            done = v128.or(done, f32x4.ne(ao, ao));
            const t2 = v128.andnot(v128.or(f32x4.gt(be, best), f32x4.ne(be, be)), done);
            best = v128.bitselect(be, best, t2);
            done = v128.or(done, f32x4.ne(be, be));
            const t3 = v128.andnot(v128.or(f32x4.gt(bo, best), f32x4.ne(bo, bo)), done);
            // the last tap taken wins: clear the earlier ones it overrides
            const s3 = t3;
            const s2 = v128.andnot(t2, t3);
            const s1 = v128.andnot(v128.andnot(t1, t2), t3);
            s0 = v128.andnot(v128.andnot(v128.andnot(s0, t1), t2), t3);
            const g = f32x4.add(v128.load(grow + (<usize>ox << 2)), zero);
            const ge = v128.and(g, s0);
            const go = v128.and(g, s1);
            const he = v128.and(g, s2);
            const ho = v128.and(g, s3);
            v128.store(oa + o, v128.shuffle<f32>(ge, go, 0, 4, 1, 5));
            v128.store(oa + o, v128.shuffle<f32>(ge, go, 2, 6, 3, 7), 16);
            v128.store(ob + o, v128.shuffle<f32>(he, ho, 0, 4, 1, 5));
            v128.store(ob + o, v128.shuffle<f32>(he, ho, 2, 6, 3, 7), 16);
          }
        }
      }
      for (let oy = 0; oy < oH; oy++) {
        const iy0 = oy * sH - pT;
        const kiLo = oxFirst(-iy0, 0, dH, kH);
        const kiHi = oxEnd(-iy0, 0, dH, H, kH, kiLo);
        if (kiLo >= kiHi) continue;
        const grow = gplane + <usize>oy * gh;
        for (let ox = oxFast; ox < oW; ox++) {
          const ix0 = ox * sW - pL;
          const kjLo = oxFirst(-ix0, 0, dW, kW);
          const kjHi = oxEnd(-ix0, 0, dW, W, kW, kjLo);
          if (kjLo >= kjHi) continue;
          const g = load<f32>(grow + <usize>ox * gw);
          const y0 = iy0 + kiLo * dH;
          const x0 = ix0 + kjLo * dW;
          if (op == 0) {
            // first maximal tap in row-major window order; the first NaN wins
            const first = plane + <usize>y0 * xh + <usize>x0 * xw;
            let best = load<f32>(first);
            let by = y0;
            let bx = x0;
            let done = best != best;
            for (let ki = kiLo; ki < kiHi && !done; ki++) {
              const iy = iy0 + ki * dH;
              let q = plane + <usize>iy * xh + <usize>x0 * xw;
              let ix = x0;
              for (let kj = kjLo; kj < kjHi; kj++) {
                const v = load<f32>(q);
                if (v != v) {
                  by = iy;
                  bx = ix;
                  done = true;
                  break;
                }
                // branch-free: a mask from the comparison picks index and value with bit ops
                const m = -(<i32>(v > best));
                by = (iy & m) | (by & ~m);
                bx = (ix & m) | (bx & ~m);
                best = reinterpret<f32>((reinterpret<i32>(v) & m) | (reinterpret<i32>(best) & ~m));
                q += tapW;
                ix += dW;
              }
            }
            const d = oplane + ((<usize>by * <usize>W + <usize>bx) << 2);
            store<f32>(d, load<f32>(d) + g);
          } else {
            const share = g / <f32>((kiHi - kiLo) * (kjHi - kjLo));
            let row = oplane + ((<usize>y0 * <usize>W + <usize>x0) << 2);
            for (let ki = kiLo; ki < kiHi; ki++) {
              let d = row;
              for (let kj = kjLo; kj < kjHi; kj++) {
                store<f32>(d, load<f32>(d) + share);
                d += <usize>dW << 2;
              }
              row += (<usize>dH * <usize>W) << 2;
            }
          }
        }
      }
    }
  }
}
