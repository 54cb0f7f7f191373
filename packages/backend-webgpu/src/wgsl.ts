/**
 * WGSL building blocks shared by the kernels: storage types, the parameter block, strided
 * indexing, and float32 math that WGSL's built-ins do not give accurately enough (their
 * precision is implementation-defined; SwiftShader's and lavapipe's sin/cos are ~2^-11 absolute).
 *
 * Every kernel reads its parameters (sizes, strides, offsets, scalar operands as bits) from
 * `P: array<u32>` at binding 0, so that one pipeline serves every shape of a given rank and dtype.
 */
import type { DType } from '@axon/core';

/** WGSL element type of a dtype's storage (bool is stored as one u32 per element, 0 or 1). */
export function wgslType(dtype: DType): 'f32' | 'i32' | 'u32' {
  return dtype === 'float32' ? 'f32' : dtype === 'int32' ? 'i32' : 'u32';
}

/** u32 parameters one dispatch sees (the size of the params binding; its offset is dynamic). */
export const PARAMS_U32 = 256;

/**
 * WGSL that reads parameter `i` (a constant index): `P[i]` from the storage binding, or the matching
 * component of the uniform binding's `array<vec4<u32>>` (uniform arrays have a 16-byte stride).
 */
export function paramAt(i: number, uniform = false): string {
  return uniform ? `P[${i >> 2}].${'xyzw'[i & 3]!}` : `P[${i}u]`;
}

/**
 * The parameter binding and the helpers used by every kernel. With `uniformParams` the parameter
 * block is bound as a uniform buffer (read with {@link paramAt}), so that it does not count against
 * maxStorageBuffersPerShaderStage (the fused kernels bind up to 8 storage buffers besides it).
 */
export function header(bindings: readonly { name: string; dtype: DType | 'atomic'; write?: boolean }[], opts: { uniformParams?: boolean } = {}): string {
  const u = opts.uniformParams === true;
  const lines = [u ? `@group(0) @binding(0) var<uniform> P: array<vec4<u32>, ${PARAMS_U32 / 4}>;` : '@group(0) @binding(0) var<storage, read> P: array<u32>;'];
  bindings.forEach((b, i) => {
    const ty = b.dtype === 'atomic' ? 'atomic<u32>' : wgslType(b.dtype);
    lines.push(`@group(0) @binding(${i + 1}) var<storage, ${b.write ? 'read_write' : 'read'}> ${b.name}: array<${ty}>;`);
  });
  const p0 = paramAt(0, u);
  const pi = u ? 'P[i / 4u][i % 4u]' : 'P[i]';
  lines.push(
    `fn f_inf() -> f32 { return bitcast<f32>(0x7f800000u | (${p0} & 0u)); }`,
    `fn f_nan() -> f32 { return bitcast<f32>(0x7fc00000u | (${p0} & 0u)); }`,
    'fn is_nan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }',
    'fn is_inf(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) == 0x7f800000u; }',
    // exp/log with IEEE special values: SwiftShader's built-ins return finite garbage for
    // NaN, ±Infinity, 0 and negative inputs.
    'fn exp_(x: f32) -> f32 { if (is_nan(x)) { return x; } if (x > 88.72284) { return f_inf(); } if (x < -103.98) { return 0.0; } return exp(x); }',
    'fn exp2_(x: f32) -> f32 { if (is_nan(x)) { return x; } if (x >= 128.0) { return f_inf(); } if (x < -150.0) { return 0.0; } return exp2(x); }',
    'fn log_(x: f32) -> f32 { if (is_nan(x) || x < 0.0) { return f_nan(); } if (x == 0.0) { return -f_inf(); } if (is_inf(x)) { return x; } return log(x); }',
    `fn p_f32(i: u32) -> f32 { return bitcast<f32>(${pi}); }`,
    `fn p_i32(i: u32) -> i32 { return bitcast<i32>(${pi}); }`,
  );
  return lines.join('\n') + '\n';
}

/** Entry point of a 1-D-indexed kernel dispatched in 2-D (see `Backend.groups1d`); `n` is the WGSL of the invocation count. */
export function entry1d(wg: number, body: string, n = 'P[0]'): string {
  return `@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let gid = (wid.y * nwg.x + wid.x) * ${wg}u + lid;
  if (gid >= ${n}) { return; }
${body}
}
`;
}

/**
 * Code that decomposes the linear index `lin` over a row-major shape stored at `P[shapeAt..]`
 * (rank `rank`) and accumulates, for every operand, `offset + Σ coord·stride` into `o<k>`.
 * Operand k's offset is at `P[opAt[k]]`, its strides at `P[opAt[k] + 1 ..]` (`uniform`: read with
 * {@link paramAt} from a uniform parameter block).
 */
export function stridedIndex(lin: string, rank: number, shapeAt: number, opAt: readonly number[], prefix = 'o', uniform = false): string {
  const P = (i: number): string => paramAt(i, uniform);
  const lines: string[] = [];
  opAt.forEach((at, k) => lines.push(`  var ${prefix}${k}: u32 = ${P(at)};`));
  if (rank === 0) return lines.join('\n');
  lines.push(`  var ${prefix}rem: u32 = ${lin};`);
  for (let d = rank - 1; d >= 0; d--) {
    if (d > 0) {
      lines.push(`  { let n = ${P(shapeAt + d)}; let c = ${prefix}rem % n; ${prefix}rem = ${prefix}rem / n;`);
    } else {
      lines.push(`  { let c = ${prefix}rem;`);
    }
    opAt.forEach((at, k) => lines.push(`    ${prefix}${k} += c * ${P(at + 1 + d)};`));
    lines.push('  }');
  }
  return lines.join('\n');
}

/**
 * Accurate float32 sin/cos (Cody–Waite reduction by π/2, cephes polynomials): absolute error
 * ~1e-7 for |x| < 8192, degrading beyond (no Payne–Hanek reduction).
 */
export const SINCOS = `
fn sc_poly(x: f32, want_sin: bool) -> f32 {
  if (!(abs(x) < f_inf())) { return f_nan(); }
  let k = round(x * 0.63661977236758134);
  let r = ((x - k * 1.5703125) - k * 4.837512969970703125e-4) - k * 7.54978995489188216e-8;
  let z = r * r;
  let s = r + r * z * (-1.6666654611e-1 + z * (8.3321608736e-3 + z * -1.9515295891e-4));
  let c = 1.0 - 0.5 * z + z * z * (4.166664568298827e-2 + z * (-1.388731625493765e-3 + z * 2.443315711809948e-5));
  var q = u32(i32(k) & 3);
  if (!want_sin) { q = (q + 1u) & 3u; }
  if (q == 0u) { return s; }
  if (q == 1u) { return c; }
  if (q == 2u) { return -s; }
  return -c;
}
fn sin_(x: f32) -> f32 { return sc_poly(x, true); }
fn cos_(x: f32) -> f32 { return sc_poly(x, false); }
`;

/** float32 helpers for the unary ops that WGSL lacks or does not specify tightly. */
export const FMATH = `
fn log1p_(x: f32) -> f32 {
  if (x > -0.3 && x < 0.5) {
    // log1p(x) = 2·atanh(s), s = x / (2 + x), |s| < 0.2
    let s = x / (2.0 + x);
    let z = s * s;
    return 2.0 * s * (1.0 + z * (1.0 / 3.0 + z * (0.2 + z * (1.0 / 7.0 + z * (1.0 / 9.0 + z * (1.0 / 11.0 + z * (1.0 / 13.0)))))));
  }
  if (x == f_inf()) { return x; }
  return log_(1.0 + x);
}
fn expm1_(x: f32) -> f32 {
  if (abs(x) < 0.5) {
    return x * (1.0 + x * 0.5 * (1.0 + x * (1.0 / 3.0) * (1.0 + x * 0.25 * (1.0 + x * 0.2 * (1.0 + x * (1.0 / 6.0) * (1.0 + x * (1.0 / 7.0) * (1.0 + x * 0.125 * (1.0 + x * (1.0 / 9.0)))))))));
  }
  return exp_(x) - 1.0;
}
fn tanh_(x: f32) -> f32 {
  let a = abs(x);
  if (a < 0.625) {
    let z = x * x;
    return ((((-5.70498872745e-3 * z + 2.06390887954e-2) * z - 5.37397155531e-2) * z + 1.33314422036e-1) * z - 3.33332819422e-1) * z * x + x;
  }
  if (is_nan(x)) { return x; }
  var t: f32 = 1.0;
  if (a < 10.0) { t = 1.0 - 2.0 / (exp_(2.0 * a) + 1.0); }
  return select(t, -t, x < 0.0);
}
fn erf_(x: f32) -> f32 {
  let a = abs(x);
  if (a < 0.5) {
    let z = x * x;
    return x * 1.1283791670955126 * (1.0 + z * (-1.0 / 3.0 + z * (0.1 + z * (-1.0 / 42.0 + z * (1.0 / 216.0 + z * (-1.0 / 1320.0))))));
  }
  if (is_nan(x)) { return x; }
  let t = 1.0 / (1.0 + 0.3275911 * a);
  let y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * exp_(-a * a);
  return select(y, -y, x < 0.0);
}
fn sigmoid_(x: f32) -> f32 {
  if (x >= 0.0) { return 1.0 / (1.0 + exp_(-x)); }
  let e = exp_(x);
  return e / (1.0 + e);
}
fn sign_f(x: f32) -> f32 {
  if (x > 0.0) { return 1.0; }
  if (x < 0.0) { return -1.0; }
  return x;
}
fn pow_(x: f32, y: f32) -> f32 {
  if (y == 0.0) { return 1.0; }
  if (is_nan(x) || is_nan(y)) { return f_nan(); }
  let ax = abs(x);
  let y_int = floor(y) == y && !is_inf(y);
  let y_odd = y_int && abs(y) < 16777216.0 && (i32(y) & 1) == 1;
  if (x == 0.0) {
    let neg0 = (bitcast<u32>(x) & 0x80000000u) != 0u;
    if (y > 0.0) { return select(0.0, -0.0, neg0 && y_odd); }
    return select(f_inf(), -f_inf(), neg0 && y_odd);
  }
  if (is_inf(y)) {
    if (ax == 1.0) { return f_nan(); }
    if ((ax > 1.0) == (y > 0.0)) { return f_inf(); }
    return 0.0;
  }
  if (is_inf(x)) {
    let r = select(0.0, f_inf(), y > 0.0);
    return select(r, -r, x < 0.0 && y_odd);
  }
  if (x < 0.0 && !y_int) { return f_nan(); }
  var r: f32;
  if (y_int && abs(y) <= 64.0) {
    // exact-ish repeated squaring for small integer exponents
    var b = ax; var e = u32(abs(y)); r = 1.0;
    loop { if ((e & 1u) != 0u) { r = r * b; } e = e >> 1u; if (e == 0u) { break; } b = b * b; }
    if (y < 0.0) { r = 1.0 / r; }
  } else {
    r = exp2_(y * log2(ax));
  }
  return select(r, -r, x < 0.0 && y_odd);
}
fn mod_f(x: f32, y: f32) -> f32 {
  let q = trunc(x / y);
  var r = fma(-q, y, x);
  if (is_inf(y) && !is_inf(x)) { r = x; }
  if (abs(r) >= abs(y) && !is_inf(y)) { r = r - trunc(r / y) * y; }
  if (r != 0.0 && ((r < 0.0) != (y < 0.0))) { r = r + y; }
  return r;
}
fn mod_i(x: i32, y: i32) -> i32 {
  if (y == 0) { return 0; }
  if (y == -1) { return 0; }
  var r = x % y;
  if (r != 0 && ((r < 0) != (y < 0))) { r = r + y; }
  return r;
}
fn div_i(x: i32, y: i32) -> i32 {
  if (y == 0) { return 0; }
  if (y == -1) { return 0 - x; }
  return x / y;
}
fn pow_i(x: i32, y: i32) -> i32 {
  if (y < 0) {
    if (x == 1) { return 1; }
    if (x == -1) { return select(1, -1, (y & 1) != 0); }
    return 0;
  }
  var b = x; var e = u32(y); var r: i32 = 1;
  loop { if (e == 0u) { break; } if ((e & 1u) != 0u) { r = r * b; } e = e >> 1u; b = b * b; }
  return r;
}
fn sign_i(x: i32) -> i32 { return select(select(0, -1, x < 0), 1, x > 0); }
fn max_f(a: f32, b: f32) -> f32 { if (is_nan(a) || is_nan(b)) { return f_nan(); } return max(a, b); }
fn min_f(a: f32, b: f32) -> f32 { if (is_nan(a) || is_nan(b)) { return f_nan(); } return min(a, b); }
fn f2i(x: f32) -> i32 {
  if (is_nan(x)) { return 0; }
  if (x >= 2147483648.0) { return 2147483647; }
  if (x <= -2147483648.0) { return -2147483647 - 1; }
  return i32(x);
}
fn f2b(x: f32) -> u32 { return select(0u, 1u, (bitcast<u32>(x) & 0x7fffffffu) != 0u); }
`;

/** Axon's counter-based hash (core's random.ts), in WGSL (u32 multiply wraps like Math.imul). */
export const HASH = `
fn fmix32(h0: u32) -> u32 {
  var h = h0;
  h = h ^ (h >> 16u);
  h = h * 0x85ebca6bu;
  h = h ^ (h >> 13u);
  h = h * 0xc2b2ae35u;
  h = h ^ (h >> 16u);
  return h;
}
fn hash32(k: u32, c: u32) -> u32 {
  var h = (c * 0x9e3779b1u) ^ k;
  h = fmix32(h);
  h = fmix32((h + k) ^ 0x5bd1e995u);
  return h;
}
`;
