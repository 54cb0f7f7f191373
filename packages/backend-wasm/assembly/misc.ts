// fill, gather, scatterAdd and the counter-based random generator.
import { jsCos, jsLog } from './math';

export function fill_32(po: usize, bits: i32, n: i32): void {
  const v = i32x4.splat(bits);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(po + (<usize>i << 2), v);
  for (; i < n; i++) store<i32>(po + (<usize>i << 2), bits);
}

export function fill_8(po: usize, v: u8, n: i32): void {
  memory.fill(po, v, <usize>n);
}

/** out[o, j, i] = x[o, idx[j], i]; x strides in bytes; element size 4 or 1. */
export function gather_4(px: usize, so: usize, sn: usize, si: usize, pi: usize, sidx: usize, po: usize, outer: i32, m: i32, inner: i32): void {
  let q = po;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < m; j++) {
      const row = px + <usize>o * so + <usize>load<i32>(pi + <usize>j * sidx) * sn;
      if (si == 4) {
        memory.copy(q, row, <usize>inner << 2);
        q += <usize>inner << 2;
      } else {
        for (let i = 0; i < inner; i++) {
          store<u32>(q, load<u32>(row + <usize>i * si));
          q += 4;
        }
      }
    }
  }
}

export function gather_1(px: usize, so: usize, sn: usize, si: usize, pi: usize, sidx: usize, po: usize, outer: i32, m: i32, inner: i32): void {
  let q = po;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < m; j++) {
      const row = px + <usize>o * so + <usize>load<i32>(pi + <usize>j * sidx) * sn;
      for (let i = 0; i < inner; i++) {
        store<u8>(q, load<u8>(row + <usize>i * si));
        q += 1;
      }
    }
  }
}

/** out (contiguous [outer, n, inner], zeroed here) [o, idx[j], i] += u[o, j, i]. */
export function scatter_add_f32(pu: usize, so: usize, sm: usize, si: usize, pi: usize, sidx: usize, po: usize, outer: i32, m: i32, inner: i32, n: i32): void {
  memory.fill(po, 0, (<usize>outer * <usize>n * <usize>inner) << 2);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < m; j++) {
      const src = pu + <usize>o * so + <usize>j * sm;
      const dst = po + ((<usize>o * <usize>n + <usize>load<i32>(pi + <usize>j * sidx)) * <usize>inner << 2);
      let i = 0;
      if (si == 4) {
        for (; i + 4 <= inner; i += 4) {
          const d = dst + (<usize>i << 2);
          v128.store(d, f32x4.add(v128.load(d), v128.load(src + (<usize>i << 2))));
        }
      }
      for (; i < inner; i++) {
        const d = dst + (<usize>i << 2);
        store<f32>(d, load<f32>(d) + load<f32>(src + <usize>i * si));
      }
    }
  }
}

export function scatter_add_i32(pu: usize, so: usize, sm: usize, si: usize, pi: usize, sidx: usize, po: usize, outer: i32, m: i32, inner: i32, n: i32): void {
  memory.fill(po, 0, (<usize>outer * <usize>n * <usize>inner) << 2);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < m; j++) {
      const src = pu + <usize>o * so + <usize>j * sm;
      const dst = po + ((<usize>o * <usize>n + <usize>load<i32>(pi + <usize>j * sidx)) * <usize>inner << 2);
      for (let i = 0; i < inner; i++) {
        const d = dst + (<usize>i << 2);
        store<i32>(d, load<i32>(d) + load<i32>(src + <usize>i * si));
      }
    }
  }
}

// ------------------------------------------------------------------ random (see core/src/random.ts)

@inline function fmix32(h: u32): u32 {
  h ^= h >>> 16;
  h *= 0x85ebca6b;
  h ^= h >>> 13;
  h *= 0xc2b2ae35;
  h ^= h >>> 16;
  return h;
}

@inline function hash32(k: u32, c: u32): u32 {
  let h = (c * 0x9e3779b1) ^ k;
  h = fmix32(h);
  return fmix32((h + k) ^ 0x5bd1e995);
}

const INV24: f64 = 1.0 / 16777216.0;

/**
 * kind: 0 uniform, 1 normal, 2 bernoulli, 3 randint; outKind: 0 float32, 1 int32, 2 bool.
 */
export function random(kind: i32, key: u32, counter: u32, a: f64, b: f64, po: usize, n: i32, outKind: i32): void {
  for (let i = 0; i < n; i++) {
    let v: f64;
    if (kind == 1) {
      const c = counter + (<u32>i << 1);
      const u1 = <f64>((hash32(key, c) >>> 8) + 1) * INV24;
      const u2 = <f64>(hash32(key, c + 1) >>> 8) * INV24;
      const z = Math.sqrt(-2.0 * jsLog(u1)) * jsCos(2.0 * Math.PI * u2);
      v = a + b * z;
    } else {
      const u = <f64>(hash32(key, counter + <u32>i) >>> 8) * INV24;
      if (kind == 0) v = <f64><f32>(a + <f64><f32>(<f64><f32>(b - a) * u));
      else if (kind == 2) v = u < a ? 1.0 : 0.0;
      else v = a + Math.floor(u * (b - a));
    }
    if (outKind == 0) store<f32>(po + (<usize>i << 2), <f32>v);
    else if (outKind == 1) store<i32>(po + (<usize>i << 2), <i32>v);
    else store<u8>(po + <usize>i, <u8>(v != 0));
  }
}
