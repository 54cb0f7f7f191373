// Generates assembly/generated/elementwise.ts: one 2-D strided loop per (op, dtype) with SIMD128
// fast paths where an op has a vector form.
//
// Each (op, dtype) is its own export (`un_f32_exp`, `bin_i32_add`, …) so that V8 compiles and
// tiers up small functions rather than one large dispatcher.
//
// Every generated kernel walks `rows × cols` elements; each operand has a byte stride per row and
// per column (0 = broadcast). The output is contiguous (`copy` takes a strided destination).
// The TypeScript side coalesces views to at most two dimensions and loops over the rest.

/** Scalar AssemblyScript type, SIMD lane type and element size per dtype. */
const DT = {
  f32: { t: 'f32', v: 'f32x4', e: 4 },
  i32: { t: 'i32', v: 'i32x4', e: 4 },
  u8: { t: 'u8', v: 'i8x16', e: 1 },
};

/** Unary ops: s = scalar expression of `x`, v = SIMD expression of `x` (optional). */
export const UNARY = {
  f32: {
    neg: { s: '-x', v: 'f32x4.neg(x)' },
    abs: { s: 'abs<f32>(x)', v: 'f32x4.abs(x)' },
    sign: { s: 'signF(x)' },
    exp: { s: 'Mathf.exp(x)', v: 'vexp(x)' },
    log: { s: 'Mathf.log(x)', v: 'vlog(x)' },
    log1p: { s: 'Mathf.log1p(x)' },
    expm1: { s: 'Mathf.expm1(x)' },
    sqrt: { s: 'sqrt<f32>(x)', v: 'f32x4.sqrt(x)' },
    rsqrt: { s: '<f32>(1.0 / Math.sqrt(<f64>x))', v: 'vrsqrt(x)' },
    reciprocal: { s: '<f32>1.0 / x', v: 'f32x4.div(f32x4.splat(1.0), x)' },
    square: { s: 'x * x', v: 'f32x4.mul(x, x)' },
    sin: { s: 'Mathf.sin(x)' },
    cos: { s: 'Mathf.cos(x)' },
    tanh: { s: 'tanhF(x)', v: 'vtanh(x)' },
    erf: { s: 'erfF(x)', v: 'verf(x)' },
    sigmoid: { s: 'sigmoidF(x)', v: 'vsigmoid(x)' },
    relu: { s: 'reluF(x)', v: 'vrelu(x)' },
    floor: { s: 'floor<f32>(x)', v: 'f32x4.floor(x)' },
    ceil: { s: 'ceil<f32>(x)', v: 'f32x4.ceil(x)' },
    round: { s: 'nearest<f32>(x)', v: 'f32x4.nearest(x)' },
  },
  i32: {
    neg: { s: '0 - x', v: 'i32x4.neg(x)' },
    abs: { s: 'x < 0 ? 0 - x : x', v: 'i32x4.abs(x)' },
    sign: { s: 'x > 0 ? 1 : x < 0 ? -1 : 0' },
    square: { s: 'x * x', v: 'i32x4.mul(x, x)' },
    relu: { s: 'x > 0 ? x : 0', v: 'i32x4.max_s(x, i32x4.splat(0))' },
  },
  u8: {
    not: { s: '<u8>(x == 0)', v: 'v128.and(i8x16.eq(x, i8x16.splat(0)), i8x16.splat(1))' },
  },
};

const CMP = {
  eq: '==',
  ne: '!=',
  lt: '<',
  le: '<=',
  gt: '>',
  ge: '>=',
};

/** Binary ops per input dtype: s = scalar of `x`, `y`; v = SIMD (same-size output only). */
export const BINARY = {
  f32: {
    add: { s: 'x + y', v: 'f32x4.add(x, y)' },
    sub: { s: 'x - y', v: 'f32x4.sub(x, y)' },
    mul: { s: 'x * y', v: 'f32x4.mul(x, y)' },
    div: { s: 'x / y', v: 'f32x4.div(x, y)' },
    pow: { s: 'powF(x, y)' },
    max: { s: 'fmax(x, y)', v: 'f32x4.max(x, y)' },
    min: { s: 'fmin(x, y)', v: 'f32x4.min(x, y)' },
    mod: { s: 'modF(x, y)' },
  },
  i32: {
    add: { s: 'x + y', v: 'i32x4.add(x, y)' },
    sub: { s: 'x - y', v: 'i32x4.sub(x, y)' },
    mul: { s: 'x * y', v: 'i32x4.mul(x, y)' },
    div: { s: 'divI(x, y)' },
    max: { s: 'x > y ? x : y', v: 'i32x4.max_s(x, y)' },
    min: { s: 'x < y ? x : y', v: 'i32x4.min_s(x, y)' },
    mod: { s: 'modI(x, y)' },
  },
  u8: {
    and: { s: '<u8>((x != 0) & (y != 0))', v: 'v128.and(x, y)' },
    or: { s: '<u8>((x != 0) | (y != 0))', v: 'v128.or(x, y)' },
    xor: { s: '<u8>((x != 0) != (y != 0))', v: 'v128.xor(x, y)' },
  },
};
for (const dt of ['f32', 'i32', 'u8']) {
  for (const [name, sym] of Object.entries(CMP)) {
    // Comparisons write bool: SIMD only where the lanes are bytes already.
    const vop =
      dt === 'u8'
        ? `i8x16.${{ eq: 'eq', ne: 'ne', lt: 'lt_u', le: 'le_u', gt: 'gt_u', ge: 'ge_u' }[name]}`
        : dt === 'f32'
          ? `f32x4.${name}`
          : `i32x4.${{ eq: 'eq', ne: 'ne', lt: 'lt_s', le: 'le_s', gt: 'gt_s', ge: 'ge_s' }[name]}`;
    BINARY[dt][name] = {
      s: `<u8>(x ${sym} y)`,
      out: 'u8',
      v: dt === 'u8' ? `v128.and(${vop}(x, y), i8x16.splat(1))` : undefined,
      // 4-byte lanes: four compares narrowed to one vector of 16 bytes
      cmp4: dt === 'u8' ? undefined : vop,
    };
  }
}

function idx(i, stride) {
  return `(<usize>${i} * ${stride})`;
}

/** Substitutes the operand name `x` in a SIMD expression. */
function vx(expr, name) {
  return expr.replace(/\bx\b/g, name);
}

function genUnaryFn(dt, name, op) {
  const d = DT[dt];
  const od = op.out ? DT[op.out] : d;
  const simd = op.v && od.e === d.e;
  const lanes = 16 / d.e;
  return `
export function un_${dt}_${name}(px: usize, rx: usize, cx: usize, po: usize, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) {
    const a = px + ${idx('r', 'rx')};
    const o = po + <usize>r * <usize>cols * ${od.e};
    let i = 0;
${simd ? `    if (cx == ${d.e}) {
      // four independent vectors per step: transcendental polynomials are latency-bound
      for (; i + ${4 * lanes} <= cols; i += ${4 * lanes}) {
        const q = a + <usize>i * ${d.e};
        const w = o + <usize>i * ${d.e};
        const x0 = v128.load(q);
        const x1 = v128.load(q, 16);
        const x2 = v128.load(q, 32);
        const x3 = v128.load(q, 48);
        v128.store(w, ${vx(op.v, 'x0')});
        v128.store(w, ${vx(op.v, 'x1')}, 16);
        v128.store(w, ${vx(op.v, 'x2')}, 32);
        v128.store(w, ${vx(op.v, 'x3')}, 48);
      }
      for (; i + ${lanes} <= cols; i += ${lanes}) {
        const x = v128.load(a + <usize>i * ${d.e});
        v128.store(o + <usize>i * ${d.e}, ${op.v});
      }
    }
` : ''}    for (; i < cols; i++) {
      const x = load<${d.t}>(a + ${idx('i', 'cx')});
      store<${od.t}>(o + <usize>i * ${od.e}, ${op.s});
    }
  }
}
`;
}

function genBinaryFn(dt, name, op) {
  const d = DT[dt];
  const od = op.out ? DT[op.out] : d;
  const simd = op.v && od.e === d.e;
  const lanes = 16 / d.e;
  const vloop = (xe, ye) => `      for (; i + ${lanes} <= cols; i += ${lanes}) {
        const x = ${xe};
        const y = ${ye};
        v128.store(o + <usize>i * ${d.e}, ${op.v});
      }`;
  const ld = (p) => `v128.load(${p} + <usize>i * ${d.e})`;
  return `
export function bin_${dt}_${name}(pa: usize, ra: usize, ca: usize, pb: usize, rb: usize, cb: usize, po: usize, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) {
    const a = pa + ${idx('r', 'ra')};
    const b = pb + ${idx('r', 'rb')};
    const o = po + <usize>r * <usize>cols * ${od.e};
    let i = 0;
${op.cmp4 ? `    // comparisons: four vectors compared, narrowed to one vector of 16 bools
    if (ca == 4 && cb == 4) {
      for (; i + 16 <= cols; i += 16) {
        const pa4 = a + (<usize>i << 2);
        const pb4 = b + (<usize>i << 2);
        const m0 = ${op.cmp4}(v128.load(pa4), v128.load(pb4));
        const m1 = ${op.cmp4}(v128.load(pa4, 16), v128.load(pb4, 16));
        const m2 = ${op.cmp4}(v128.load(pa4, 32), v128.load(pb4, 32));
        const m3 = ${op.cmp4}(v128.load(pa4, 48), v128.load(pb4, 48));
        const w = i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(m0, m1), i16x8.narrow_i32x4_s(m2, m3));
        v128.store(o + <usize>i, v128.and(w, i8x16.splat(1)));
      }
    } else if (ca == 4 && cb == 0) {
      const ys = ${d.v}.splat(load<${d.t}>(b));
      for (; i + 16 <= cols; i += 16) {
        const pa4 = a + (<usize>i << 2);
        const pb4 = b + (<usize>i << 2);
        const m0 = ${op.cmp4}(v128.load(pa4), ys);
        const m1 = ${op.cmp4}(v128.load(pa4, 16), ys);
        const m2 = ${op.cmp4}(v128.load(pa4, 32), ys);
        const m3 = ${op.cmp4}(v128.load(pa4, 48), ys);
        const w = i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(m0, m1), i16x8.narrow_i32x4_s(m2, m3));
        v128.store(o + <usize>i, v128.and(w, i8x16.splat(1)));
      }
    } else if (ca == 0 && cb == 4) {
      const xs = ${d.v}.splat(load<${d.t}>(a));
      for (; i + 16 <= cols; i += 16) {
        const pa4 = a + (<usize>i << 2);
        const pb4 = b + (<usize>i << 2);
        const m0 = ${op.cmp4}(xs, v128.load(pb4));
        const m1 = ${op.cmp4}(xs, v128.load(pb4, 16));
        const m2 = ${op.cmp4}(xs, v128.load(pb4, 32));
        const m3 = ${op.cmp4}(xs, v128.load(pb4, 48));
        const w = i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(m0, m1), i16x8.narrow_i32x4_s(m2, m3));
        v128.store(o + <usize>i, v128.and(w, i8x16.splat(1)));
      }
    }
` : ''}${simd ? `    if (ca == ${d.e} && cb == ${d.e}) {
${vloop(ld('a'), ld('b'))}
    } else if (ca == ${d.e} && cb == 0) {
      const yv = ${d.v}.splat(load<${d.t}>(b));
${vloop(ld('a'), 'yv')}
    } else if (ca == 0 && cb == ${d.e}) {
      const xv = ${d.v}.splat(load<${d.t}>(a));
${vloop('xv', ld('b'))}
    }
` : ''}    for (; i < cols; i++) {
      const x = load<${d.t}>(a + ${idx('i', 'ca')});
      const y = load<${d.t}>(b + ${idx('i', 'cb')});
      store<${od.t}>(o + <usize>i * ${od.e}, ${op.s});
    }
  }
}
`;
}

/** where: cond u8, a and b of element size E; out contiguous. */
function genWhere(t, e) {
  return `
export function where_${e}(pc: usize, rc: usize, cc: usize, pa: usize, ra: usize, ca: usize, pb: usize, rb: usize, cb: usize, po: usize, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) {
    const c = pc + ${idx('r', 'rc')};
    const a = pa + ${idx('r', 'ra')};
    const b = pb + ${idx('r', 'rb')};
    const o = po + <usize>r * <usize>cols * ${e};
    let i = 0;
${e === 4 ? `    if (cc == 1 && ca == 4 && cb == 4) {
      for (; i + 4 <= cols; i += 4) {
        const m = i32x4.extend_low_i16x8_s(i16x8.extend_low_i8x16_s(i8x16.neg(v128.load32_zero(c + <usize>i))));
        v128.store(o + <usize>i * 4, v128.bitselect(v128.load(a + <usize>i * 4), v128.load(b + <usize>i * 4), m));
      }
    }
` : ''}    for (; i < cols; i++) {
      const x = load<u8>(c + ${idx('i', 'cc')});
      store<${t}>(o + <usize>i * ${e}, x != 0 ? load<${t}>(a + ${idx('i', 'ca')}) : load<${t}>(b + ${idx('i', 'cb')}));
    }
  }
}
`;
}

/** copy: strided src → strided dst with conversion. */
const CONVERT = {
  f32: { f32: 'x', i32: '<i32>x', u8: '<u8>(x != 0)' },
  i32: { f32: '<f32>x', i32: 'x', u8: '<u8>(x != 0)' },
  u8: { f32: '<f32>x', i32: '<i32>x', u8: 'x' },
};
const CONVERT_V = {
  f32: { f32: 'x', i32: 'i32x4.trunc_sat_f32x4_s(x)' },
  i32: { f32: 'f32x4.convert_i32x4_s(x)', i32: 'x' },
};

function genCopy(s, d) {
  const S = DT[s];
  const D = DT[d];
  const v = CONVERT_V[s]?.[d];
  const lanes = 16 / S.e;
  return `
export function copy_${s}_${d}(ps: usize, rs: usize, cs: usize, pd: usize, rd: usize, cd: usize, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) {
    const a = ps + ${idx('r', 'rs')};
    const o = pd + ${idx('r', 'rd')};
    let i = 0;
${s === d ? `    if (cs == ${S.e} && cd == ${D.e}) {
      memory.copy(o, a, <usize>cols * ${S.e});
      continue;
    }
` : ''}    if (cs > 64 && rs < cs && rows >= 8) {
      // transposing copy: walk 8 rows at a time so the 8 destination lines stay in cache
      const r1 = min(rows, r + 8);
      for (; i < cols; i++) {
        for (let rr = r; rr < r1; rr++) {
          const x = load<${S.t}>(ps + <usize>rr * rs + <usize>i * cs);
          store<${D.t}>(pd + <usize>rr * rd + <usize>i * cd, ${CONVERT[s][d]});
        }
      }
      r = r1 - 1;
      continue;
    }
${s === 'u8' && d !== 'u8' ? `    if (cs == 1 && cd == 4) {
      // bool → number: widen 4 bytes to 4 lanes
      for (; i + 4 <= cols; i += 4) {
        const w = i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(v128.load32_zero(a + <usize>i)));
        v128.store(o + (<usize>i << 2), ${d === 'f32' ? 'f32x4.convert_i32x4_s(w)' : 'w'});
      }
    }
` : ''}${s !== 'u8' && d === 'u8' ? `    if (cs == 4 && cd == 1) {
      // number → bool (x != 0; NaN counts as nonzero): four compares narrowed to 16 bytes
      const z = i32x4.splat(0);
      for (; i + 16 <= cols; i += 16) {
        const q = a + (<usize>i << 2);
        const m0 = ${S.v}.ne(v128.load(q), z);
        const m1 = ${S.v}.ne(v128.load(q, 16), z);
        const m2 = ${S.v}.ne(v128.load(q, 32), z);
        const m3 = ${S.v}.ne(v128.load(q, 48), z);
        const w = i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(m0, m1), i16x8.narrow_i32x4_s(m2, m3));
        v128.store(o + <usize>i, v128.and(w, i8x16.splat(1)));
      }
    }
` : ''}${v && S.e === D.e ? `    if (cs == ${S.e} && cd == ${D.e}) {
      for (; i + ${lanes} <= cols; i += ${lanes}) {
        const x = v128.load(a + <usize>i * ${S.e});
        v128.store(o + <usize>i * ${D.e}, ${v});
      }
    }
` : ''}    for (; i < cols; i++) {
      const x = load<${S.t}>(a + ${idx('i', 'cs')});
      store<${D.t}>(o + ${idx('i', 'cd')}, ${CONVERT[s][d]});
    }
  }
}
`;
}

/** Returns { source, tables } */
export function generateElementwise() {
  let src = `// GENERATED by scripts/gen-elementwise.mjs — do not edit.\nimport { signF, tanhF, erfF, sigmoidF, reluF, powF, modF, divI, modI, vexp, vlog, vrsqrt, vtanh, verf, vsigmoid, vrelu, fmax, fmin } from '../math';\n`;
  const tables = { unary: {}, binary: {} };
  for (const dt of Object.keys(UNARY)) {
    const names = Object.keys(UNARY[dt]);
    tables.unary[dt] = names;
    for (const n of names) src += genUnaryFn(dt, n, UNARY[dt][n]);
  }
  for (const dt of Object.keys(BINARY)) {
    const names = Object.keys(BINARY[dt]);
    tables.binary[dt] = names;
    for (const n of names) src += genBinaryFn(dt, n, BINARY[dt][n]);
  }
  src += genWhere('u32', 4);
  src += genWhere('u8', 1);
  for (const s of ['f32', 'i32', 'u8']) for (const d of ['f32', 'i32', 'u8']) src += genCopy(s, d);
  return { source: src, tables };
}
