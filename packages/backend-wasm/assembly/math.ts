// Scalar and SIMD128 math helpers shared by the generated elementwise kernels.

@inline export function signF(x: f32): f32 {
  return x > 0 ? 1 : x < 0 ? -1 : x == 0 ? 0 : x;
}

@inline export function tanhF(x: f32): f32 {
  return Mathf.tanh(x);
}

/** erf of one float32: lane 0 of {@link verf} (the same bits as the SIMD kernels' lanes). */
export function erfF(x: f32): f32 {
  return f32x4.extract_lane(verf(f32x4.splat(x)), 0);
}

@inline export function sigmoidF(x: f32): f32 {
  if (x >= 0) return <f32>1.0 / (<f32>1.0 + Mathf.exp(-x));
  const e = Mathf.exp(x);
  return e / (<f32>1.0 + e);
}

@inline export function reluF(x: f32): f32 {
  return fmax(x, 0);
}

// JavaScript's float64 Math functions, imported (V8 calls its C implementations without leaving
// WebAssembly): `Math.pow`'s semantics exactly, the same bits as core's normative random
// reference (which uses Math.log and Math.cos), and 4 KB less module than AssemblyScript's copies.
@external("env", "pow") declare function jsPow(x: f64, y: f64): f64;
@external("env", "exp") export declare function jsExp(x: f64): f64;
@external("env", "log") export declare function jsLog(x: f64): f64;
@external("env", "cos") export declare function jsCos(x: f64): f64;

/** `Math.pow` semantics (float64 pow rounded to float32). */
export function powF(x: f32, y: f32): f32 {
  if (y != y) return NaN;
  if (abs<f32>(x) == 1 && abs<f32>(y) == Infinity) return NaN;
  return <f32>jsPow(<f64>x, <f64>y);
}

/** Python-style modulo: the result has the sign of the divisor. */
export function modF(x: f32, y: f32): f32 {
  let r = x % y;
  if (r != 0 && (r < 0) != (y < 0)) r += y;
  return r;
}

@inline export function divI(x: i32, y: i32): i32 {
  if (y == 0) return 0;
  if (y == -1) return 0 - x;
  return x / y;
}

@inline export function modI(x: i32, y: i32): i32 {
  if (y == 0 || y == -1) return 0;
  let r = x % y;
  if (r != 0 && (r ^ y) < 0) r += y;
  return r;
}

// ------------------------------------------------------------------ SIMD

/**
 * erf on four lanes: x clamped to [−4, 4], then x·P(x²)/Q(x²), a rational approximation of
 * degrees 13/8 in float32 (Eigen's `generic_fast_erf_float` coefficients; max abs error 4.3e-7
 * against float64 erf, ±1 exactly at |x| ≥ 4, ±0 kept, NaN propagated by the pmin/pmax clamp).
 * No exp and no call out of WebAssembly: the A&S 7.1.26 formula in float64 it replaces called
 * JavaScript's Math.exp once per element.
 */
export function verf(x0: v128): v128 {
  const x = f32x4.pmax(f32x4.pmin(x0, f32x4.splat(4.0)), f32x4.splat(-4.0));
  const x2 = f32x4.mul(x, x);
  let a = f32x4.add(f32x4.mul(x2, f32x4.splat(-2.72614225801306e-10)), f32x4.splat(2.77068142495902e-8));
  a = f32x4.add(f32x4.mul(x2, a), f32x4.splat(-2.10102402082508e-6));
  a = f32x4.add(f32x4.mul(x2, a), f32x4.splat(-5.69250639462346e-5));
  a = f32x4.add(f32x4.mul(x2, a), f32x4.splat(-7.34990630326855e-4));
  a = f32x4.add(f32x4.mul(x2, a), f32x4.splat(-2.95459980854025e-3));
  a = f32x4.add(f32x4.mul(x2, a), f32x4.splat(-1.60960333262415e-2));
  let b = f32x4.add(f32x4.mul(x2, f32x4.splat(-1.45660718464996e-5)), f32x4.splat(-2.13374055278905e-4));
  b = f32x4.add(f32x4.mul(x2, b), f32x4.splat(-1.68282697438203e-3));
  b = f32x4.add(f32x4.mul(x2, b), f32x4.splat(-7.37332916720468e-3));
  b = f32x4.add(f32x4.mul(x2, b), f32x4.splat(-1.42647390514189e-2));
  return f32x4.div(f32x4.mul(x, a), b);
}

/**
 * exp on four lanes: Cephes-style range reduction and degree-6 polynomial (~1 ulp). Rounding
 * x·log2(e) to an integer uses the 1.5·2^23 trick, which also yields the integer's bits, so no
 * float→int conversion is needed.
 */
@inline export function vexp(x: v128): v128 {
  const hi = f32x4.splat(88.72283);
  const lo = f32x4.splat(-87.33654);
  const magic = f32x4.splat(12582912.0); // 1.5·2^23
  const xc = f32x4.pmin(f32x4.pmax(x, lo), hi); // pmin/pmax map to one instruction each
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
  // integer n = bits(t) − bits(magic); 2^n split in two factors so n = 128 stays finite.
  const ni = i32x4.sub(t, magic);
  const n1 = i32x4.shr_s(ni, 1);
  const s1 = i32x4.shl(i32x4.add(n1, i32x4.splat(127)), 23);
  const s2 = i32x4.shl(i32x4.add(i32x4.sub(ni, n1), i32x4.splat(127)), 23);
  let y = f32x4.mul(f32x4.mul(p, s1), s2);
  y = v128.bitselect(f32x4.splat(Infinity), y, f32x4.gt(x, hi));
  y = v128.bitselect(f32x4.splat(0), y, f32x4.lt(x, lo));
  return v128.bitselect(x, y, f32x4.ne(x, x));
}

@inline export function vrsqrt(x: v128): v128 {
  return f32x4.div(f32x4.splat(1.0), f32x4.sqrt(x));
}

@inline export function vrelu(x: v128): v128 {
  // pmax(x, 0) = x < 0 ? 0 : x: NaN stays NaN, and it is one instruction (f32x4.max is ~8 on x64)
  return f32x4.pmax(x, f32x4.splat(0));
}

@inline export function vsigmoid(x: v128): v128 {
  return f32x4.div(f32x4.splat(1.0), f32x4.add(f32x4.splat(1.0), vexp(f32x4.neg(x))));
}

/** tanh on four lanes: odd polynomial for |x| < 0.625, 1 − 2/(e^{2|x|}+1) above. */
@inline export function vtanh(x: v128): v128 {
  const ax = f32x4.abs(x);
  const z = f32x4.mul(x, x);
  let p = f32x4.splat(-5.70498872745e-3);
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(2.06390887954e-2));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(-5.37397155531e-2));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(1.33314422036e-1));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(-3.33332819422e-1));
  const small = f32x4.add(f32x4.mul(f32x4.mul(p, z), x), x);
  const e = vexp(f32x4.add(ax, ax));
  const big = f32x4.sub(f32x4.splat(1.0), f32x4.div(f32x4.splat(2.0), f32x4.add(e, f32x4.splat(1.0))));
  // copy the sign of x onto big
  const signed = v128.or(v128.and(x, i32x4.splat(0x80000000)), big);
  const y = v128.bitselect(small, signed, f32x4.lt(ax, f32x4.splat(0.625)));
  return v128.bitselect(x, y, f32x4.ne(x, x));
}

/**
 * Natural log on four lanes (Cephes logf: mantissa in [√½, √2), degree-8 polynomial, ~1 ulp).
 * Subnormals are scaled by 2^23 first; x < 0 → NaN, ±0 → −Infinity, +Infinity and NaN pass.
 */
@inline export function vlog(x0: v128): v128 {
  const sub = f32x4.lt(x0, f32x4.splat(1.17549435e-38));
  const x = v128.bitselect(f32x4.mul(x0, f32x4.splat(8388608.0)), x0, sub);
  const bits = x;
  // exponent and mantissa in [0.5, 1)
  let e = i32x4.sub(i32x4.shr_u(bits, 23), i32x4.splat(126));
  e = i32x4.sub(e, v128.and(sub, i32x4.splat(23)));
  let m = v128.or(v128.and(bits, i32x4.splat(0x007fffff)), i32x4.splat(0x3f000000));
  // m < √½: m = 2m − 1, e −= 1; else m = m − 1
  const small = f32x4.lt(m, f32x4.splat(0.707106781186547524));
  let ef = f32x4.convert_i32x4_s(e);
  ef = f32x4.sub(ef, v128.and(small, f32x4.splat(1.0)));
  m = f32x4.sub(f32x4.add(m, v128.and(small, m)), f32x4.splat(1.0));
  const z = f32x4.mul(m, m);
  let p = f32x4.splat(7.0376836292e-2);
  p = f32x4.add(f32x4.mul(p, m), f32x4.splat(-1.1514610310e-1));
  p = f32x4.add(f32x4.mul(p, m), f32x4.splat(1.1676998740e-1));
  p = f32x4.add(f32x4.mul(p, m), f32x4.splat(-1.2420140846e-1));
  p = f32x4.add(f32x4.mul(p, m), f32x4.splat(1.4249322787e-1));
  p = f32x4.add(f32x4.mul(p, m), f32x4.splat(-1.6668057665e-1));
  p = f32x4.add(f32x4.mul(p, m), f32x4.splat(2.0000714765e-1));
  p = f32x4.add(f32x4.mul(p, m), f32x4.splat(-2.4999993993e-1));
  p = f32x4.add(f32x4.mul(p, m), f32x4.splat(3.3333331174e-1));
  let y = f32x4.mul(f32x4.mul(p, m), z);
  y = f32x4.add(y, f32x4.mul(ef, f32x4.splat(-2.12194440e-4)));
  y = f32x4.sub(y, f32x4.mul(z, f32x4.splat(0.5)));
  let r = f32x4.add(f32x4.add(m, y), f32x4.mul(ef, f32x4.splat(0.693359375)));
  // specials
  r = v128.bitselect(f32x4.splat(-Infinity), r, f32x4.eq(x0, f32x4.splat(0)));
  r = v128.bitselect(f32x4.splat(NaN), r, f32x4.lt(x0, f32x4.splat(0)));
  r = v128.bitselect(x0, r, v128.or(f32x4.ne(x0, x0), f32x4.eq(x0, f32x4.splat(Infinity))));
  return r;
}

/**
 * NaN-propagating max/min of two floats through one SIMD lane: V8 lowers scalar `f32.max` to
 * compare-and-branch sequences that mispredict on random data; the vector form is branch-free.
 */
@inline export function fmax(a: f32, b: f32): f32 {
  return f32x4.extract_lane(f32x4.max(f32x4.splat(a), f32x4.splat(b)), 0);
}

@inline export function fmin(a: f32, b: f32): f32 {
  return f32x4.extract_lane(f32x4.min(f32x4.splat(a), f32x4.splat(b)), 0);
}
