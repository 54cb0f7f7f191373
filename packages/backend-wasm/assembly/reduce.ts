// Reductions. The TypeScript side hands each kernel `nOut` outputs (output o reads from
// px + o·sOut) and at most two reduced dimensions (r0, s0) outer and (r1, s1) inner; strides in
// bytes. Op codes: 0 sum, 1 prod, 2 max, 3 min, 4 argmax, 5 argmin.
// float32 sums accumulate in float64 (exact enough that the error is one final rounding).
import { fmax, fmin } from './math';

@inline function hsumF64(v: v128): f64 {
  return f64x2.extract_lane(v, 0) + f64x2.extract_lane(v, 1);
}

function sumRowF32(p: usize, n: i32, s: usize): f64 {
  let acc: f64 = 0;
  let i = 0;
  if (s == 4) {
    let a0 = f64x2.splat(0);
    let a1 = f64x2.splat(0);
    let a2 = f64x2.splat(0);
    let a3 = f64x2.splat(0);
    for (; i + 8 <= n; i += 8) {
      const v0 = v128.load(p + (<usize>i << 2));
      const v1 = v128.load(p + (<usize>i << 2), 16);
      a0 = f64x2.add(a0, f64x2.promote_low_f32x4(v0));
      a1 = f64x2.add(a1, f64x2.promote_low_f32x4(i64x2.shuffle(v0, v0, 1, 0)));
      a2 = f64x2.add(a2, f64x2.promote_low_f32x4(v1));
      a3 = f64x2.add(a3, f64x2.promote_low_f32x4(i64x2.shuffle(v1, v1, 1, 0)));
    }
    acc = hsumF64(f64x2.add(f64x2.add(a0, a1), f64x2.add(a2, a3)));
  }
  for (; i < n; i++) acc += <f64>load<f32>(p + <usize>i * s);
  return acc;
}

/**
 * max/min of a row. The vector loop uses pmax/pmin (one instruction each; they skip NaN) and
 * tracks NaN separately, so the result still propagates NaN.
 */
function maxRowF32(p: usize, n: i32, s: usize, acc: f32, isMax: bool): f32 {
  let i = 0;
  if (s == 4 && n >= 8) {
    let v = f32x4.splat(acc);
    let w = v;
    let nan = i32x4.splat(0);
    if (isMax) {
      for (; i + 8 <= n; i += 8) {
        const x = v128.load(p + (<usize>i << 2));
        const y = v128.load(p + (<usize>i << 2), 16);
        v = f32x4.pmax(v, x);
        w = f32x4.pmax(w, y);
        nan = v128.or(nan, v128.or(f32x4.ne(x, x), f32x4.ne(y, y)));
      }
      v = f32x4.max(v, w);
      acc = fmax(fmax(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)), fmax(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)));
    } else {
      for (; i + 8 <= n; i += 8) {
        const x = v128.load(p + (<usize>i << 2));
        const y = v128.load(p + (<usize>i << 2), 16);
        v = f32x4.pmin(v, x);
        w = f32x4.pmin(w, y);
        nan = v128.or(nan, v128.or(f32x4.ne(x, x), f32x4.ne(y, y)));
      }
      v = f32x4.min(v, w);
      acc = fmin(fmin(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)), fmin(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)));
    }
    if (v128.any_true(nan)) acc = NaN;
  }
  if (isMax) for (; i < n; i++) acc = fmax(acc, load<f32>(p + <usize>i * s));
  else for (; i < n; i++) acc = fmin(acc, load<f32>(p + <usize>i * s));
  return acc;
}

function reduceColsF32(op: i32, px: usize, nOut: i32, rows: i32, rs: usize, po: usize, scratch: usize): void {
  if (op == 0 || op == 1) {
    const init = op == 0 ? f64x2.splat(0) : f64x2.splat(1);
    for (let c = 0; c < nOut; c += 2) v128.store(scratch + (<usize>c << 3), init);
    for (let r = 0; r < rows; r++) {
      const row = px + <usize>r * rs;
      let c = 0;
      if (op == 0) {
        for (; c + 4 <= nOut; c += 4) {
          const v = v128.load(row + (<usize>c << 2));
          const q = scratch + (<usize>c << 3);
          v128.store(q, f64x2.add(v128.load(q), f64x2.promote_low_f32x4(v)));
          v128.store(q, f64x2.add(v128.load(q, 16), f64x2.promote_low_f32x4(i64x2.shuffle(v, v, 1, 0))), 16);
        }
        for (; c < nOut; c++) {
          const q = scratch + (<usize>c << 3);
          store<f64>(q, load<f64>(q) + <f64>load<f32>(row + (<usize>c << 2)));
        }
      } else {
        for (; c < nOut; c++) {
          const q = scratch + (<usize>c << 3);
          store<f64>(q, load<f64>(q) * <f64>load<f32>(row + (<usize>c << 2)));
        }
      }
    }
    for (let c = 0; c < nOut; c++) store<f32>(po + (<usize>c << 2), <f32>load<f64>(scratch + (<usize>c << 3)));
    return;
  }
  const isMax = op == 2;
  const init: f32 = isMax ? -Infinity : Infinity;
  for (let c = 0; c < nOut; c++) store<f32>(po + (<usize>c << 2), init);
  for (let r = 0; r < rows; r++) {
    const row = px + <usize>r * rs;
    let c = 0;
    if (isMax) {
      for (; c + 4 <= nOut; c += 4) {
        const q = po + (<usize>c << 2);
        v128.store(q, f32x4.max(v128.load(q), v128.load(row + (<usize>c << 2))));
      }
      for (; c < nOut; c++) {
        const q = po + (<usize>c << 2);
        store<f32>(q, fmax(load<f32>(q), load<f32>(row + (<usize>c << 2))));
      }
    } else {
      for (; c + 4 <= nOut; c += 4) {
        const q = po + (<usize>c << 2);
        v128.store(q, f32x4.min(v128.load(q), v128.load(row + (<usize>c << 2))));
      }
      for (; c < nOut; c++) {
        const q = po + (<usize>c << 2);
        store<f32>(q, fmin(load<f32>(q), load<f32>(row + (<usize>c << 2))));
      }
    }
  }
}

export function reduce_f32(op: i32, px: usize, nOut: i32, sOut: usize, r0: i32, s0: usize, r1: i32, s1: usize, po: usize, scratch: usize): void {
  if (r0 == 1 && sOut == 4 && s1 != 4 && nOut >= 4 && op <= 3) {
    reduceColsF32(op, px, nOut, r1, s1, po, scratch);
    return;
  }
  for (let o = 0; o < nOut; o++) {
    const base = px + <usize>o * sOut;
    const q = po + (<usize>o << 2);
    if (op == 0) {
      let acc: f64 = 0;
      for (let i = 0; i < r0; i++) acc += sumRowF32(base + <usize>i * s0, r1, s1);
      store<f32>(q, <f32>acc);
    } else if (op == 1) {
      let acc: f64 = 1;
      for (let i = 0; i < r0; i++) {
        const row = base + <usize>i * s0;
        for (let j = 0; j < r1; j++) acc *= <f64>load<f32>(row + <usize>j * s1);
      }
      store<f32>(q, <f32>acc);
    } else if (op == 2 || op == 3) {
      const isMax = op == 2;
      let acc: f32 = isMax ? -Infinity : Infinity;
      for (let i = 0; i < r0; i++) acc = maxRowF32(base + <usize>i * s0, r1, s1, acc, isMax);
      store<f32>(q, acc);
    } else {
      // argmax / argmin: first extreme element; NaN counts as extreme, first NaN wins.
      const isMax = op == 4;
      let best: f32 = isMax ? -Infinity : Infinity;
      let bi = 0;
      let k = 0;
      let found = false;
      for (let i = 0; i < r0 && !found; i++) {
        const row = base + <usize>i * s0;
        for (let j = 0; j < r1; j++) {
          const v = load<f32>(row + <usize>j * s1);
          if (v != v) {
            bi = k;
            found = true;
            break;
          }
          if (k == 0 || (isMax ? v > best : v < best)) {
            best = v;
            bi = k;
          }
          k++;
        }
      }
      store<i32>(q, bi);
    }
  }
}

export function reduce_i32(op: i32, px: usize, nOut: i32, sOut: usize, r0: i32, s0: usize, r1: i32, s1: usize, po: usize, _scratch: usize): void {
  if (r0 == 1 && sOut == 4 && s1 != 4 && nOut >= 4 && (op == 0 || op == 2 || op == 3)) {
    const init: i32 = op == 0 ? 0 : op == 2 ? i32.MIN_VALUE : i32.MAX_VALUE;
    for (let c = 0; c < nOut; c++) store<i32>(po + (<usize>c << 2), init);
    for (let r = 0; r < r1; r++) {
      const row = px + <usize>r * s1;
      let c = 0;
      for (; c + 4 <= nOut; c += 4) {
        const q = po + (<usize>c << 2);
        const a = v128.load(q);
        const b = v128.load(row + (<usize>c << 2));
        v128.store(q, op == 0 ? i32x4.add(a, b) : op == 2 ? i32x4.max_s(a, b) : i32x4.min_s(a, b));
      }
      for (; c < nOut; c++) {
        const q = po + (<usize>c << 2);
        const a = load<i32>(q);
        const b = load<i32>(row + (<usize>c << 2));
        store<i32>(q, op == 0 ? a + b : op == 2 ? (a > b ? a : b) : (a < b ? a : b));
      }
    }
    return;
  }
  for (let o = 0; o < nOut; o++) {
    const base = px + <usize>o * sOut;
    const q = po + (<usize>o << 2);
    let acc: i32 = op == 0 ? 0 : op == 1 ? 1 : op == 2 || op == 4 ? i32.MIN_VALUE : i32.MAX_VALUE;
    let bi = 0;
    let k = 0;
    for (let i = 0; i < r0; i++) {
      const row = base + <usize>i * s0;
      if (op == 0 && s1 == 4) {
        let v = i32x4.splat(0);
        let j = 0;
        for (; j + 4 <= r1; j += 4) v = i32x4.add(v, v128.load(row + (<usize>j << 2)));
        acc += i32x4.extract_lane(v, 0) + i32x4.extract_lane(v, 1) + i32x4.extract_lane(v, 2) + i32x4.extract_lane(v, 3);
        for (; j < r1; j++) acc += load<i32>(row + (<usize>j << 2));
        continue;
      }
      for (let j = 0; j < r1; j++) {
        const v = load<i32>(row + <usize>j * s1);
        switch (op) {
          case 0: acc += v; break;
          case 1: acc *= v; break;
          case 2: if (v > acc) acc = v; break;
          case 3: if (v < acc) acc = v; break;
          case 4: if (k == 0 || v > acc) { acc = v; bi = k; } break;
          default: if (k == 0 || v < acc) { acc = v; bi = k; } break;
        }
        k++;
      }
    }
    store<i32>(q, op >= 4 ? bi : acc);
  }
}
