/**
 * Float64 references written plainly: loops over Float64Array, no Axon ops. Each returns the
 * output shape and values and, for accumulations, Σ|terms| (`mag`) and the term count (`n`).
 */
import { contiguousStrides as stridesOf, sizeOf } from '@axon/core';
import type { Expected } from './check.js';

/** Elements of a shape, and row-major strides: core's shape helpers (plain arithmetic, no ops). */
export { sizeOf, stridesOf };


/** NumPy broadcasting of shapes (throws when incompatible: a suite bug). */
export function broadcastShape(...shapes: (readonly number[])[]): number[] {
  const r = Math.max(...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    let d = 1;
    for (const s of shapes) {
      const v = s[s.length - r + i] ?? 1;
      if (v !== 1) {
        if (d !== 1 && d !== v) throw new Error(`suite bug: cannot broadcast ${JSON.stringify(shapes)}`);
        d = v;
      }
    }
    out.push(d);
  }
  return out;
}

/** For each flat output index (row-major over `out`), the flat index into an input of `inShape`. */
export function broadcastMap(inShape: readonly number[], out: readonly number[]): Int32Array {
  const n = sizeOf(out);
  const map = new Int32Array(n);
  const r = out.length;
  const inStrides = stridesOf(inShape);
  const eff = out.map((_, i) => {
    const j = i - (r - inShape.length);
    return j < 0 || inShape[j] === 1 ? 0 : inStrides[j]!;
  });
  const idx = new Array<number>(r).fill(0);
  let off = 0;
  for (let k = 0; k < n; k++) {
    map[k] = off;
    for (let d = r - 1; d >= 0; d--) {
      idx[d]!++;
      off += eff[d]!;
      if (idx[d]! < out[d]!) break;
      off -= eff[d]! * idx[d]!;
      idx[d] = 0;
    }
  }
  return map;
}

interface Arr {
  readonly shape: readonly number[];
  readonly data: Float64Array;
}

/** Elementwise map over broadcast inputs. */
export function mapN(inputs: readonly Arr[], f: (...v: number[]) => number): Expected {
  const shape = broadcastShape(...inputs.map((x) => x.shape));
  const maps = inputs.map((x) => broadcastMap(x.shape, shape));
  const n = sizeOf(shape);
  const values = new Float64Array(n);
  const args = new Array<number>(inputs.length);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < inputs.length; k++) args[k] = inputs[k]!.data[maps[k]![i]!]!;
    values[i] = f(...args);
  }
  return { shape, values };
}

/** Reduction ops of the reference. */
export type RefReduce = 'sum' | 'prod' | 'max' | 'min' | 'argmax' | 'argmin' | 'mean' | 'variance' | 'logSumExp';

/**
 * Reduces `x` over `axes` (sorted, non-negative). Float semantics: max/min propagate NaN;
 * argmax/argmin return the first extremum, NaN counting as extreme.
 */
export function reduceRef(x: Arr, axes: readonly number[], op: RefReduce, keepDims = false, int32 = false): Expected {
  const r = x.shape.length;
  const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const outShape = keepDims ? kept : x.shape.filter((_, i) => !axes.includes(i));
  const nOut = sizeOf(kept);
  const redShape = axes.map((a) => x.shape[a]!);
  const count = sizeOf(redShape);
  const groups: number[][] = Array.from({ length: nOut }, () => []);
  const keptStrides = stridesOf(kept);
  const idx = new Array<number>(r).fill(0);
  const total = sizeOf(x.shape);
  for (let k = 0; k < total; k++) {
    let o = 0;
    for (let d = 0; d < r; d++) if (!axes.includes(d)) o += idx[d]! * keptStrides[d]!;
    groups[o]!.push(x.data[k]!);
    for (let d = r - 1; d >= 0; d--) {
      if (++idx[d]! < x.shape[d]!) break;
      idx[d] = 0;
    }
  }
  const values = new Float64Array(nOut);
  const mag = new Float64Array(nOut);
  for (let o = 0; o < nOut; o++) {
    const g = groups[o]!;
    let v: number;
    let m = 0;
    switch (op) {
      case 'sum':
        v = 0;
        for (const a of g) {
          v += a;
          m += Math.abs(a);
        }
        if (int32) v = v | 0;
        break;
      case 'mean':
        v = 0;
        for (const a of g) {
          v += a;
          m += Math.abs(a);
        }
        v /= g.length;
        m /= g.length;
        break;
      case 'variance': {
        let mu = 0;
        for (const a of g) mu += a;
        mu /= g.length;
        v = 0;
        for (const a of g) v += (a - mu) ** 2;
        v /= g.length;
        m = v;
        break;
      }
      case 'logSumExp': {
        let mx = -Infinity;
        for (const a of g) mx = Math.max(mx, a);
        let s = 0;
        for (const a of g) s += Math.exp(a - mx);
        v = g.length === 0 ? -Infinity : mx === Infinity || mx === -Infinity ? mx : mx + Math.log(s);
        m = 1;
        break;
      }
      case 'prod':
        v = 1;
        for (const a of g) v = int32 ? Math.imul(v, a) : v * a;
        m = Math.abs(v);
        break;
      case 'max':
        v = int32 ? -2147483648 : -Infinity;
        for (const a of g) v = Number.isNaN(a) || Number.isNaN(v) ? NaN : Math.max(v, a);
        break;
      case 'min':
        v = int32 ? 2147483647 : Infinity;
        for (const a of g) v = Number.isNaN(a) || Number.isNaN(v) ? NaN : Math.min(v, a);
        break;
      case 'argmax':
      case 'argmin': {
        let best = 0;
        for (let i = 1; i < g.length; i++) {
          const a = g[i]!;
          const b = g[best]!;
          if (Number.isNaN(b)) break;
          if (Number.isNaN(a) || (op === 'argmax' ? a > b : a < b)) best = i;
        }
        v = best;
        break;
      }
    }
    values[o] = v;
    mag[o] = m;
  }
  return { shape: outShape, values, mag, n: count };
}

/** Batched matmul with NumPy semantics for rank ≥ 2 operands (1-D handled by the caller). */
export function matmulRef(a: Arr, b: Arr): Expected {
  const ra = a.shape.length;
  const rb = b.shape.length;
  const M = a.shape[ra - 2]!;
  const K = a.shape[ra - 1]!;
  const N = b.shape[rb - 1]!;
  const batch = broadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const B = sizeOf(batch);
  const am = broadcastMap(a.shape.slice(0, -2), batch);
  const bm = broadcastMap(b.shape.slice(0, -2), batch);
  const values = new Float64Array(B * M * N);
  const mag = new Float64Array(B * M * N);
  for (let t = 0; t < B; t++) {
    const ao = am[t]! * M * K;
    const bo = bm[t]! * K * N;
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0;
        let m = 0;
        for (let k = 0; k < K; k++) {
          const p = a.data[ao + i * K + k]! * b.data[bo + k * N + j]!;
          s += p;
          m += Math.abs(p);
        }
        values[(t * M + i) * N + j] = s;
        mag[(t * M + i) * N + j] = m;
      }
    }
  }
  return { shape: [...batch, M, N], values, mag, n: K };
}

/** A 2-D window description for the references. */
export interface Win {
  kH: number;
  kW: number;
  sH: number;
  sW: number;
  pT: number;
  pB: number;
  pL: number;
  pR: number;
  dH: number;
  dW: number;
}

/** Output height/width of a window over h×w. */
export function outHW(h: number, w: number, win: Win): [number, number] {
  return [
    Math.floor((h + win.pT + win.pB - win.dH * (win.kH - 1) - 1) / win.sH) + 1,
    Math.floor((w + win.pL + win.pR - win.dW * (win.kW - 1) - 1) / win.sW) + 1,
  ];
}

/** conv2d (cross-correlation) of NCHW x with OIHW weights, groups, optional bias. */
export function conv2dRef(x: Arr, w: Arr, bias: Float64Array | null, win: Win, groups: number): Expected {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const [O, Cg] = w.shape as [number, number];
  const [oH, oW] = outHW(H, W, win);
  const Og = O / groups;
  const values = new Float64Array(N * O * oH * oW);
  const mag = new Float64Array(values.length);
  for (let n = 0; n < N; n++)
    for (let o = 0; o < O; o++) {
      const g = Math.floor(o / Og);
      for (let oy = 0; oy < oH; oy++)
        for (let ox = 0; ox < oW; ox++) {
          let s = bias ? bias[o]! : 0;
          let m = bias ? Math.abs(bias[o]!) : 0;
          for (let c = 0; c < Cg; c++)
            for (let ky = 0; ky < win.kH; ky++)
              for (let kx = 0; kx < win.kW; kx++) {
                const iy = oy * win.sH - win.pT + ky * win.dH;
                const ix = ox * win.sW - win.pL + kx * win.dW;
                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                const p = x.data[((n * C + g * Cg + c) * H + iy) * W + ix]! * w.data[((o * Cg + c) * win.kH + ky) * win.kW + kx]!;
                s += p;
                m += Math.abs(p);
              }
          values[((n * O + o) * oH + oy) * oW + ox] = s;
          mag[((n * O + o) * oH + oy) * oW + ox] = m;
        }
    }
  return { shape: [N, O, oH, oW], values, mag, n: Cg * win.kH * win.kW + (bias ? 1 : 0) };
}

/** im2col: [n, c·kH·kW, oH·oW]. */
export function im2colRef(x: Arr, win: Win): Expected {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const [oH, oW] = outHW(H, W, win);
  const rows = C * win.kH * win.kW;
  const L = oH * oW;
  const values = new Float64Array(N * rows * L);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let ky = 0; ky < win.kH; ky++)
        for (let kx = 0; kx < win.kW; kx++) {
          const row = (c * win.kH + ky) * win.kW + kx;
          for (let oy = 0; oy < oH; oy++)
            for (let ox = 0; ox < oW; ox++) {
              const iy = oy * win.sH - win.pT + ky * win.dH;
              const ix = ox * win.sW - win.pL + kx * win.dW;
              const v = iy < 0 || iy >= H || ix < 0 || ix >= W ? 0 : x.data[((n * C + c) * H + iy) * W + ix]!;
              values[(n * rows + row) * L + oy * oW + ox] = v;
            }
        }
  return { shape: [N, rows, L], values };
}

/** col2im: the adjoint of im2col onto [n, c, h, w]. */
export function col2imRef(cols: Arr, shape: readonly [number, number, number, number], win: Win): Expected {
  const [N, C, H, W] = shape;
  const [oH, oW] = outHW(H, W, win);
  const rows = C * win.kH * win.kW;
  const L = oH * oW;
  const values = new Float64Array(N * C * H * W);
  const mag = new Float64Array(values.length);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let ky = 0; ky < win.kH; ky++)
        for (let kx = 0; kx < win.kW; kx++) {
          const row = (c * win.kH + ky) * win.kW + kx;
          for (let oy = 0; oy < oH; oy++)
            for (let ox = 0; ox < oW; ox++) {
              const iy = oy * win.sH - win.pT + ky * win.dH;
              const ix = ox * win.sW - win.pL + kx * win.dW;
              if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
              const v = cols.data[(n * rows + row) * L + oy * oW + ox]!;
              values[((n * C + c) * H + iy) * W + ix]! += v;
              mag[((n * C + c) * H + iy) * W + ix]! += Math.abs(v);
            }
        }
  return { shape: [N, C, H, W], values, mag, n: win.kH * win.kW };
}

/** max/avg pooling ignoring padding (avg divides by the count of real elements). */
export function poolRef(op: 'max' | 'avg', x: Arr, win: Win): Expected {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const [oH, oW] = outHW(H, W, win);
  const values = new Float64Array(N * C * oH * oW);
  const mag = new Float64Array(values.length);
  for (let nc = 0; nc < N * C; nc++)
    for (let oy = 0; oy < oH; oy++)
      for (let ox = 0; ox < oW; ox++) {
        let best = -Infinity;
        let s = 0;
        let m = 0;
        let cnt = 0;
        for (let ky = 0; ky < win.kH; ky++)
          for (let kx = 0; kx < win.kW; kx++) {
            const iy = oy * win.sH - win.pT + ky * win.dH;
            const ix = ox * win.sW - win.pL + kx * win.dW;
            if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
            const v = x.data[(nc * H + iy) * W + ix]!;
            best = Number.isNaN(v) || Number.isNaN(best) ? NaN : Math.max(best, v);
            s += v;
            m += Math.abs(v);
            cnt++;
          }
        const o = (nc * oH + oy) * oW + ox;
        values[o] = op === 'max' ? best : s / cnt;
        mag[o] = cnt === 0 ? 0 : m / cnt;
      }
  return { shape: [N, C, oH, oW], values, mag, n: win.kH * win.kW };
}

/** Gradient of pooling: max routes dy to the first maximal element; avg spreads it. */
export function poolGradRef(op: 'max' | 'avg', x: Arr, dy: Arr, win: Win): Expected {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const [oH, oW] = outHW(H, W, win);
  const values = new Float64Array(N * C * H * W);
  const mag = new Float64Array(values.length);
  for (let nc = 0; nc < N * C; nc++)
    for (let oy = 0; oy < oH; oy++)
      for (let ox = 0; ox < oW; ox++) {
        const g = dy.data[(nc * oH + oy) * oW + ox]!;
        const cells: number[] = [];
        let arg = -1;
        for (let ky = 0; ky < win.kH; ky++)
          for (let kx = 0; kx < win.kW; kx++) {
            const iy = oy * win.sH - win.pT + ky * win.dH;
            const ix = ox * win.sW - win.pL + kx * win.dW;
            if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
            const at = (nc * H + iy) * W + ix;
            cells.push(at);
            if (arg === -1 || x.data[at]! > x.data[arg]!) arg = at;
          }
        if (op === 'max') {
          if (arg >= 0) {
            values[arg]! += g;
            mag[arg]! += Math.abs(g);
          }
        } else {
          for (const at of cells) {
            values[at]! += g / cells.length;
            mag[at]! += Math.abs(g / cells.length);
          }
        }
      }
  return { shape: [N, C, H, W], values, mag, n: win.kH * win.kW };
}

/** Gauss error function to ~1e-12 (series for |x| ≤ 4, asymptotic erfc beyond). */
export function erfRef(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax <= 4) {
    let term = x;
    let s = x;
    const x2 = x * x;
    for (let n = 1; n < 200; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      s += add;
      if (Math.abs(add) < 1e-17 * Math.abs(s)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * s;
  }
  const z = 1 / (2 * ax * ax);
  const erfc = (Math.exp(-ax * ax) / (ax * Math.sqrt(Math.PI))) * (1 - z + 3 * z * z - 15 * z * z * z + 105 * z ** 4);
  return Math.sign(x) * (1 - erfc);
}

/** Round half to even. */
export function roundHalfEven(x: number): number {
  if (!Number.isFinite(x)) return x;
  const f = Math.floor(x);
  const d = x - f;
  if (d < 0.5) return f === 0 && x < 0 ? -0 : f;
  if (d > 0.5) return f + 1;
  return f % 2 === 0 ? (f === 0 && x < 0 ? -0 : f) : f + 1;
}

/** Numerically stable sigmoid. */
export function sigmoidRef(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** Stable softplus. */
export function softplusRef(x: number): number {
  if (Number.isNaN(x)) return NaN;
  return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
}

/** Python-style modulo (sign of the divisor). */
export function pyMod(a: number, b: number): number {
  const r = a % b;
  return r !== 0 && r < 0 !== b < 0 ? r + b : r;
}

/** Python-style int32 modulo, x mod 0 = 0. */
export function pyModInt(a: number, b: number): number {
  if (b === 0) return 0;
  const r = a % b;
  return (r !== 0 && r < 0 !== b < 0 ? r + b : r) | 0;
}

/** float32 → int32 conversion: truncate, NaN → 0, saturate. */
export function f32ToI32(x: number): number {
  if (Number.isNaN(x)) return 0;
  if (x >= 2147483647) return 2147483647;
  if (x <= -2147483648) return -2147483648;
  return Math.trunc(x) | 0;
}
