/**
 * A plain-JavaScript backend that follows `backend.ts` literally (float64 arithmetic rounded to
 * the output dtype). It exists to test the suite itself: every failure the suite reports on it
 * is a bug in core, in autograd or in the suite — never in a kernel. Registered as 'reference'.
 */
import {
  type Backend, type BackendBuffer, type BackendMemory, type BinaryOp, type DType, type FusedProgram, type FusedReduceOp, type ReduceOp, type TypedArray, type UnaryOp, type View, type Window2d,
  registerBackend, referenceRandom,
} from '@axon/core';

class Buf implements BackendBuffer {
  constructor(
    readonly dtype: DType,
    readonly size: number,
    readonly data: TypedArray,
  ) {}
}

const bytes = (b: Buf): number => b.size * (b.dtype === 'bool' ? 1 : 4);

function make(dtype: DType, n: number): TypedArray {
  return dtype === 'float32' ? new Float32Array(n) : dtype === 'int32' ? new Int32Array(n) : new Uint8Array(n);
}

/** Flat buffer offsets of a view's elements, row-major. */
function offsets(v: View): number[] {
  const n = v.shape.reduce((a, b) => a * b, 1);
  const out = new Array<number>(n);
  const r = v.shape.length;
  const idx = new Array<number>(r).fill(0);
  let off = v.offset;
  for (let k = 0; k < n; k++) {
    out[k] = off;
    for (let d = r - 1; d >= 0; d--) {
      idx[d]!++;
      off += v.strides[d]!;
      if (idx[d]! < v.shape[d]!) break;
      off -= v.strides[d]! * idx[d]!;
      idx[d] = 0;
    }
  }
  return out;
}

const vals = (v: View): number[] => offsets(v).map((o) => (v.buf as Buf).data[o]!);

/** Stores `x` into an array of `dtype` with the conversion rules of `copy`. */
function conv(x: number, from: DType, to: DType): number {
  if (to === 'bool') return x !== 0 ? 1 : 0;
  if (to === 'int32' && from === 'float32') {
    if (Number.isNaN(x)) return 0;
    if (x >= 2147483647) return 2147483647;
    if (x <= -2147483648) return -2147483648;
    return Math.trunc(x);
  }
  return x;
}

/** Element (b, i, j) of a [B, R, C] view. */
const at3 = (x: View, b: number, i: number, j: number): number => (x.buf as Buf).data[x.offset + b * x.strides[0]! + i * x.strides[1]! + j * x.strides[2]!]!;

/** Row `i` of batch `b` of attention's masked scores, `scale·q·kᵀ + bias` (−Infinity past the diagonal when causal). */
function attnScores(q: View, k: View, bias: View | null, scale: number, causal: boolean, b: number, i: number, Tk: number, D: number): number[] {
  const s: number[] = [];
  for (let j = 0; j < Tk; j++) {
    let dot = 0;
    for (let d = 0; d < D; d++) dot += at3(q, b, i, d) * at3(k, b, j, d);
    let x = scale * dot + (bias === null ? 0 : at3(bias, b, i, j));
    if (causal && j > i) x = -Infinity;
    s.push(x);
  }
  return s;
}

function erf(x: number): number {
  // Abramowitz–Stegun 7.1.26 (|error| ≤ 1.5e-7)
  const s = Math.sign(x);
  const a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-a * a);
  return s * y;
}

function roundEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d < 0.5) return f;
  if (d > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

const UN: Record<UnaryOp, (x: number, int: boolean) => number> = {
  neg: (x, i) => (i ? -x | 0 : -x),
  abs: (x, i) => (i ? Math.abs(x) | 0 : Math.abs(x)),
  sign: (x) => (Number.isNaN(x) ? NaN : x > 0 ? 1 : x < 0 ? -1 : 0),
  exp: Math.exp,
  log: Math.log,
  log1p: Math.log1p,
  expm1: Math.expm1,
  sqrt: Math.sqrt,
  rsqrt: (x) => 1 / Math.sqrt(x),
  reciprocal: (x) => 1 / x,
  square: (x, i) => (i ? Math.imul(x, x) : x * x),
  sin: Math.sin,
  cos: Math.cos,
  tanh: Math.tanh,
  erf,
  sigmoid: (x) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))),
  relu: (x) => (Number.isNaN(x) ? NaN : x > 0 ? x : 0),
  floor: Math.floor,
  ceil: Math.ceil,
  round: roundEven,
  not: (x) => (x ? 0 : 1),
};

function pyMod(a: number, b: number, int: boolean): number {
  if (int && b === 0) return 0;
  const r = a % b;
  return r !== 0 && r < 0 !== b < 0 ? r + b : r;
}

const BIN: Record<BinaryOp, (a: number, b: number, int: boolean) => number> = {
  add: (a, b, i) => (i ? (a + b) | 0 : a + b),
  sub: (a, b, i) => (i ? (a - b) | 0 : a - b),
  mul: (a, b, i) => (i ? Math.imul(a, b) : a * b),
  div: (a, b, i) => (i ? (b === 0 ? 0 : Math.trunc(a / b) | 0) : a / b),
  pow: Math.pow,
  max: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.max(a, b)),
  min: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.min(a, b)),
  mod: (a, b, i) => (i ? pyMod(a, b, true) | 0 : pyMod(a, b, false)),
  eq: (a, b) => +(a === b),
  ne: (a, b) => +(a !== b),
  lt: (a, b) => +(a < b),
  le: (a, b) => +(a <= b),
  gt: (a, b) => +(a > b),
  ge: (a, b) => +(a >= b),
  and: (a, b) => +(a !== 0 && b !== 0),
  or: (a, b) => +(a !== 0 || b !== 0),
  xor: (a, b) => +((a !== 0) !== (b !== 0)),
};

/** Input position (iy, ix) of window tap (ky, kx) at output (oy, ox), or null inside padding. */
function tap(win: Window2d, oy: number, ox: number, ky: number, kx: number): [number, number] | null {
  const iy = oy * win.strideH - win.padTop + ky * win.dilationH;
  const ix = ox * win.strideW - win.padLeft + kx * win.dilationW;
  return iy < 0 || iy >= win.h || ix < 0 || ix >= win.w ? null : [iy, ix];
}

class ReferenceBackend implements Backend {
  readonly name = 'reference';
  readonly supportsSyncRead = true;
  private live = new Set<Buf>();

  alloc(dtype: DType, size: number): BackendBuffer {
    // Like every real device, this one has a memory limit (1 GiB per buffer): the suite checks
    // what core reports when a backend cannot allocate.
    const bytes = size * (dtype === 'bool' ? 1 : 4);
    if (bytes > 2 ** 30) throw new Error(`the reference backend holds at most 1 GiB per buffer; asked for ${bytes} bytes`);
    const b = new Buf(dtype, size, make(dtype, size));
    b.data.fill(dtype === 'float32' ? NaN : 0x5a); // uninitialised memory is visible
    this.live.add(b);
    return b;
  }
  write(buf: BackendBuffer, data: TypedArray): void {
    (buf as Buf).data.set(data);
  }
  read(buf: BackendBuffer): Promise<TypedArray> {
    return Promise.resolve(this.readSync(buf));
  }
  readSync(buf: BackendBuffer): TypedArray {
    return (buf as Buf).data.slice();
  }
  free(buf: BackendBuffer): void {
    if (!this.live.delete(buf as Buf)) throw new Error('reference backend: double free');
    (buf as Buf).data.fill(buf.dtype === 'float32' ? NaN : 0x5a); // use-after-free is visible
  }
  memory(): BackendMemory {
    let n = 0;
    for (const b of this.live) n += bytes(b);
    return { bytes: n, buffers: this.live.size };
  }
  fill(out: BackendBuffer, value: number): void {
    (out as Buf).data.fill(conv(value, 'float32', out.dtype));
  }
  copy(src: View, dst: View): void {
    const v = vals(src);
    const o = offsets(dst);
    const d = (dst.buf as Buf).data;
    for (let i = 0; i < o.length; i++) d[o[i]!] = conv(v[i]!, src.dtype, dst.dtype);
  }
  unary(op: UnaryOp, x: View, out: BackendBuffer): void {
    const f = UN[op];
    const int = x.dtype === 'int32';
    const d = (out as Buf).data;
    vals(x).forEach((v, i) => (d[i] = f(v, int)));
  }
  binary(op: BinaryOp, a: View, b: View, out: BackendBuffer): void {
    const f = BIN[op];
    const int = a.dtype === 'int32';
    const va = vals(a);
    const vb = vals(b);
    const d = (out as Buf).data;
    for (let i = 0; i < va.length; i++) d[i] = f(va[i]!, vb[i]!, int);
  }
  where(cond: View, a: View, b: View, out: BackendBuffer): void {
    const c = vals(cond);
    const va = vals(a);
    const vb = vals(b);
    const d = (out as Buf).data;
    for (let i = 0; i < c.length; i++) d[i] = c[i] ? va[i]! : vb[i]!;
  }
  fused(program: FusedProgram, inputs: readonly View[], consts: readonly number[], outputs: readonly BackendBuffer[]): void {
    // Literally: every instruction in float64, rounded to float32 after each one (as the
    // one-op-per-kernel path would store it).
    const f32 = Math.fround;
    const ins = inputs.map(vals);
    const n = ins[0]?.length ?? outputs[0]!.size;
    const v = new Array<number>(program.code.length);
    for (let i = 0; i < n; i++) {
      program.code.forEach((c, k) => {
        if (c.op === 'input') v[k] = ins[c.input]![i]!;
        else if (c.op === 'const') v[k] = f32(consts[c.slot]!);
        else if (c.op === 'where') v[k] = v[c.args[0]] !== 0 ? v[c.args[1]]! : v[c.args[2]]!;
        else if (c.op === 'not') v[k] = v[c.args[0]] !== 0 ? 0 : 1;
        else if (c.args.length === 1) v[k] = f32(UN[c.op as UnaryOp](v[c.args[0]]!, false));
        else v[k] = f32(BIN[c.op as BinaryOp](v[c.args[0]]!, v[c.args[1]!]!, false));
      });
      program.outputs.forEach((o, j) => {
        const x = v[o.value]!;
        (outputs[j] as Buf).data[i] = o.dtype === 'bool' ? (x !== 0 ? 1 : 0) : x;
      });
    }
  }
  reduce(op: ReduceOp, x: View, axes: readonly number[], out: BackendBuffer): void {
    const shape = x.shape;
    const kept = shape.map((s, i) => (axes.includes(i) ? 1 : s));
    const keptStrides = kept.map((_, i) => kept.slice(i + 1).reduce((p, q) => p * q, 1));
    const nOut = kept.reduce((p, q) => p * q, 1);
    const groups: number[][] = Array.from({ length: nOut }, () => []);
    const v = vals(x);
    const idx = new Array<number>(shape.length).fill(0);
    for (let k = 0; k < v.length; k++) {
      let o = 0;
      for (let dd = 0; dd < shape.length; dd++) if (!axes.includes(dd)) o += idx[dd]! * keptStrides[dd]!;
      groups[o]!.push(v[k]!);
      for (let dd = shape.length - 1; dd >= 0; dd--) {
        if (++idx[dd]! < shape[dd]!) break;
        idx[dd] = 0;
      }
    }
    const int = x.dtype === 'int32';
    const d = (out as Buf).data;
    groups.forEach((g, o) => {
      let r: number;
      switch (op) {
        case 'sum':
          r = g.reduce((p, q) => p + q, 0);
          break;
        case 'prod':
          r = g.reduce((p, q) => (int ? Math.imul(p, q) : p * q), 1);
          break;
        case 'max':
          r = g.reduce((p, q) => (Number.isNaN(p) || Number.isNaN(q) ? NaN : Math.max(p, q)), int ? -2147483648 : -Infinity);
          break;
        case 'min':
          r = g.reduce((p, q) => (Number.isNaN(p) || Number.isNaN(q) ? NaN : Math.min(p, q)), int ? 2147483647 : Infinity);
          break;
        default: {
          let best = 0;
          for (let i = 1; i < g.length; i++) {
            if (Number.isNaN(g[best]!)) break;
            if (Number.isNaN(g[i]!) || (op === 'argmax' ? g[i]! > g[best]! : g[i]! < g[best]!)) best = i;
          }
          r = best;
        }
      }
      d[o] = int && op === 'sum' ? r | 0 : r;
    });
  }
  matmul(a: View, b: View, out: BackendBuffer): void {
    const [B, M, K] = a.shape as [number, number, number];
    const N = b.shape[2]!;
    const d = (out as Buf).data;
    const ad = (a.buf as Buf).data;
    const bd = (b.buf as Buf).data;
    for (let t = 0; t < B; t++)
      for (let i = 0; i < M; i++)
        for (let j = 0; j < N; j++) {
          let s = 0;
          for (let k = 0; k < K; k++) s += ad[a.offset + t * a.strides[0]! + i * a.strides[1]! + k * a.strides[2]!]! * bd[b.offset + t * b.strides[0]! + k * b.strides[1]! + j * b.strides[2]!]!;
          d[(t * M + i) * N + j] = s;
        }
  }
  // Attention, literally (float64 per row; `backend.ts`'s formulas, the scores of a row materialised).
  attention(q: View, k: View, v: View, bias: View | null, scale: number, causal: boolean, out: BackendBuffer, lse: BackendBuffer): void {
    const [B, Tq, D] = q.shape as [number, number, number];
    const Tk = k.shape[1]!;
    const Dv = v.shape[2]!;
    const o = (out as Buf).data;
    const l = (lse as Buf).data;
    for (let b = 0; b < B; b++)
      for (let i = 0; i < Tq; i++) {
        const s = attnScores(q, k, bias, scale, causal, b, i, Tk, D);
        let mx = -Infinity;
        for (const x of s) mx = Math.max(mx, x);
        let den = 0;
        const p = s.map((x) => (mx === -Infinity ? 0 : Math.exp(x - mx)));
        for (const x of p) den += x;
        for (let c = 0; c < Dv; c++) {
          let acc = 0;
          for (let j = 0; j < Tk; j++) acc += p[j]! * at3(v, b, j, c);
          o[(b * Tq + i) * Dv + c] = den === 0 ? NaN : acc / den;
        }
        l[b * Tq + i] = den === 0 ? -Infinity : mx + Math.log(den);
      }
  }
  attentionBackward(q: View, k: View, v: View, bias: View | null, scale: number, causal: boolean, out: View, dOut: View, lse: View, dq: BackendBuffer, dk: BackendBuffer, dv: BackendBuffer): void {
    const [B, Tq, D] = q.shape as [number, number, number];
    const Tk = k.shape[1]!;
    const Dv = v.shape[2]!;
    const gq = new Float64Array(B * Tq * D);
    const gk = new Float64Array(B * Tk * D);
    const gv = new Float64Array(B * Tk * Dv);
    const ld = (lse.buf as Buf).data;
    for (let b = 0; b < B; b++)
      for (let i = 0; i < Tq; i++) {
        const li = ld[lse.offset + b * lse.strides[0]! + i * lse.strides[1]!]!;
        const s = attnScores(q, k, bias, scale, causal, b, i, Tk, D);
        let Di = 0;
        if (li !== -Infinity) for (let c = 0; c < Dv; c++) Di += at3(dOut, b, i, c) * at3(out, b, i, c);
        for (let j = 0; j < Tk; j++) {
          const p = li === -Infinity ? 0 : Math.exp(s[j]! - li);
          let dp = 0;
          for (let c = 0; c < Dv; c++) dp += at3(dOut, b, i, c) * at3(v, b, j, c);
          const ds = p * (dp - Di);
          for (let c = 0; c < Dv; c++) gv[(b * Tk + j) * Dv + c] += p * at3(dOut, b, i, c);
          for (let d = 0; d < D; d++) {
            gq[(b * Tq + i) * D + d] += scale * ds * at3(k, b, j, d);
            gk[(b * Tk + j) * D + d] += scale * ds * at3(q, b, i, d);
          }
        }
      }
    (dq as Buf).data.set(gq);
    (dk as Buf).data.set(gk);
    (dv as Buf).data.set(gv);
  }
  // The fused primitives, literally: the value written out, then the plain primitive (called
  // through the prototype: a profile or a compile trace wraps the instance's methods, and counts
  // only the calls core makes).
  reduceFused(op: FusedReduceOp, program: FusedProgram, inputs: readonly View[], consts: readonly number[], shape: readonly number[], axes: readonly number[], out: BackendBuffer): void {
    const n = shape.reduce((a, b) => a * b, 1);
    const tmp = new Buf('float32', n, make('float32', n));
    ReferenceBackend.prototype.fused.call(this, program, inputs, consts, [tmp]);
    const strides = shape.map((_, i) => shape.slice(i + 1).reduce((p, q) => p * q, 1));
    ReferenceBackend.prototype.reduce.call(this, op, { buf: tmp, dtype: 'float32', shape, strides, offset: 0 }, axes, out);
  }
  matmulFused(a: View, b: View, program: FusedProgram, inputs: readonly View[], consts: readonly number[], outputs: readonly BackendBuffer[]): void {
    const n = a.shape[0]! * a.shape[1]! * b.shape[2]!;
    const tmp = new Buf('float32', n, make('float32', n));
    ReferenceBackend.prototype.matmul.call(this, a, b, tmp);
    const shape = inputs[0]?.shape ?? [n];
    const strides = shape.map((_, i) => shape.slice(i + 1).reduce((p, q) => p * q, 1));
    ReferenceBackend.prototype.fused.call(this, program, [{ buf: tmp, dtype: 'float32', shape, strides, offset: 0 }, ...inputs], consts, outputs);
  }
  im2col(x: View, win: Window2d, out: BackendBuffer): void {
    const xv = vals(x);
    const d = (out as Buf).data;
    const rows = win.c * win.kH * win.kW;
    const L = win.outH * win.outW;
    for (let n = 0; n < win.n; n++)
      for (let c = 0; c < win.c; c++)
        for (let ky = 0; ky < win.kH; ky++)
          for (let kx = 0; kx < win.kW; kx++)
            for (let oy = 0; oy < win.outH; oy++)
              for (let ox = 0; ox < win.outW; ox++) {
                const p = tap(win, oy, ox, ky, kx);
                d[(n * rows + (c * win.kH + ky) * win.kW + kx) * L + oy * win.outW + ox] = p ? xv[((n * win.c + c) * win.h + p[0]) * win.w + p[1]]! : 0;
              }
  }
  col2im(cols: View, win: Window2d, out: BackendBuffer): void {
    const cv = vals(cols);
    const d = (out as Buf).data;
    d.fill(0);
    const rows = win.c * win.kH * win.kW;
    const L = win.outH * win.outW;
    const acc = new Float64Array(d.length);
    for (let n = 0; n < win.n; n++)
      for (let c = 0; c < win.c; c++)
        for (let ky = 0; ky < win.kH; ky++)
          for (let kx = 0; kx < win.kW; kx++)
            for (let oy = 0; oy < win.outH; oy++)
              for (let ox = 0; ox < win.outW; ox++) {
                const p = tap(win, oy, ox, ky, kx);
                if (p) acc[((n * win.c + c) * win.h + p[0]) * win.w + p[1]]! += cv[(n * rows + (c * win.kH + ky) * win.kW + kx) * L + oy * win.outW + ox]!;
              }
    d.set(acc);
  }
  pool2d(op: 'max' | 'avg', x: View, win: Window2d, out: BackendBuffer): void {
    const xv = vals(x);
    const d = (out as Buf).data;
    for (let nc = 0; nc < win.n * win.c; nc++)
      for (let oy = 0; oy < win.outH; oy++)
        for (let ox = 0; ox < win.outW; ox++) {
          let m = -Infinity;
          let s = 0;
          let cnt = 0;
          for (let ky = 0; ky < win.kH; ky++)
            for (let kx = 0; kx < win.kW; kx++) {
              const p = tap(win, oy, ox, ky, kx);
              if (!p) continue;
              const v = xv[(nc * win.h + p[0]) * win.w + p[1]]!;
              m = Number.isNaN(v) || Number.isNaN(m) ? NaN : Math.max(m, v);
              s += v;
              cnt++;
            }
          d[(nc * win.outH + oy) * win.outW + ox] = op === 'max' ? m : s / cnt;
        }
  }
  pool2dGrad(op: 'max' | 'avg', x: View, dy: View, win: Window2d, out: BackendBuffer): void {
    const xv = vals(x);
    const gv = vals(dy);
    const acc = new Float64Array(win.n * win.c * win.h * win.w);
    for (let nc = 0; nc < win.n * win.c; nc++)
      for (let oy = 0; oy < win.outH; oy++)
        for (let ox = 0; ox < win.outW; ox++) {
          const g = gv[(nc * win.outH + oy) * win.outW + ox]!;
          const cells: number[] = [];
          let arg = -1;
          for (let ky = 0; ky < win.kH; ky++)
            for (let kx = 0; kx < win.kW; kx++) {
              const p = tap(win, oy, ox, ky, kx);
              if (!p) continue;
              const at = (nc * win.h + p[0]) * win.w + p[1];
              cells.push(at);
              if (arg < 0 || xv[at]! > xv[arg]!) arg = at;
            }
          if (op === 'max') {
            if (arg >= 0) acc[arg]! += g;
          } else for (const at of cells) acc[at]! += g / cells.length;
        }
    (out as Buf).data.set(acc);
  }
  // The stable permutation of each row, literally: a stable sort of the column indices with
  // backend.ts's comparator (NaN largest and all NaNs equal, −0 = +0; descending flips the
  // comparison, never the tie order).
  sort(x: View, descending: boolean, out: BackendBuffer): void {
    const [rows, n] = x.shape as [number, number];
    const d = (out as Buf).data;
    const xd = (x.buf as Buf).data;
    for (let r = 0; r < rows; r++) {
      const v = (j: number): number => xd[x.offset + r * x.strides[0]! + j * x.strides[1]!]!;
      const idx = [...Array(n).keys()];
      idx.sort((p, q) => {
        const a = v(p), b = v(q);
        const na = Number.isNaN(a), nb = Number.isNaN(b);
        const c = na || nb ? Number(na) - Number(nb) : a < b ? -1 : a > b ? 1 : 0;
        return (descending ? -c : c) || p - q;
      });
      idx.forEach((j, i) => (d[r * n + i] = j));
    }
  }
  gather(x: View, indices: View, out: BackendBuffer): void {
    const [outer, n, inner] = x.shape as [number, number, number];
    const xv = vals(x);
    const iv = vals(indices);
    const d = (out as Buf).data;
    const m = iv.length;
    for (let o = 0; o < outer; o++) for (let j = 0; j < m; j++) for (let i = 0; i < inner; i++) d[(o * m + j) * inner + i] = xv[(o * n + iv[j]!) * inner + i]!;
  }
  scatterAdd(updates: View, indices: View, n: number, out: BackendBuffer): void {
    const [outer, m, inner] = updates.shape as [number, number, number];
    const uv = vals(updates);
    const iv = vals(indices);
    const d = (out as Buf).data;
    const acc = new Float64Array(outer * n * inner);
    for (let o = 0; o < outer; o++) for (let j = 0; j < m; j++) for (let i = 0; i < inner; i++) acc[(o * n + iv[j]!) * inner + i]! += uv[(o * m + j) * inner + i]!;
    if (out.dtype === 'int32') acc.forEach((v, i) => (d[i] = v | 0));
    else d.set(acc);
  }
  random(kind: 'uniform' | 'normal' | 'bernoulli' | 'randint', key: number, counter: number, a: number, b: number, out: BackendBuffer): void {
    (out as Buf).data.set(referenceRandom(kind, key, counter, a, b, out.size));
  }
  sync(): Promise<void> {
    return Promise.resolve();
  }
  dispose(): void {
    this.live.clear();
  }
}

registerBackend({ name: 'reference', priority: -100, create: () => new ReferenceBackend() });
