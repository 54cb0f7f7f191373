/**
 * A small plain-JS backend implementing every primitive of core's Backend interface, used by these
 * tests when the WASM backend is not built (or with AXON_TEST_BACKEND=ref). Slow but exact enough
 * for tiny models.
 */
import { type Backend, type BackendBuffer, type BinaryOp, type DType, type ReduceOp, type TypedArray, type UnaryOp, type View, type Window2d, referenceRandom } from '@axon/core';

interface Buf extends BackendBuffer {
  data: Float32Array | Int32Array | Uint8Array;
}

function make(dtype: DType, size: number): Buf['data'] {
  return dtype === 'float32' ? new Float32Array(size) : dtype === 'int32' ? new Int32Array(size) : new Uint8Array(size);
}

const data = (b: BackendBuffer): Buf['data'] => (b as Buf).data;

/** Flat source offsets of a view, row-major. */
function offsets(v: View): Int32Array {
  const n = v.shape.reduce((a, b) => a * b, 1);
  const out = new Int32Array(n);
  const rank = v.shape.length;
  let contiguous = true;
  let acc = 1;
  for (let d = rank - 1; d >= 0; d--) {
    if (v.shape[d]! !== 1 && v.strides[d]! !== acc) contiguous = false;
    acc *= v.shape[d]!;
  }
  if (contiguous) {
    for (let i = 0; i < n; i++) out[i] = v.offset + i;
    return out;
  }
  const idx = new Array<number>(rank).fill(0);
  for (let i = 0; i < n; i++) {
    let off = v.offset;
    for (let d = 0; d < rank; d++) off += idx[d]! * v.strides[d]!;
    out[i] = off;
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d]! < v.shape[d]!) break;
      idx[d] = 0;
    }
  }
  return out;
}

function cast(x: number, dtype: DType): number {
  if (dtype === 'bool') return x !== 0 ? 1 : 0;
  if (dtype === 'int32') return Number.isNaN(x) ? 0 : Math.trunc(Math.max(-2147483648, Math.min(2147483647, x)));
  return x;
}

function erf(x: number): number {
  // Abramowitz–Stegun 7.1.26 is too coarse; use a series / continued fraction mix in float64.
  const ax = Math.abs(x);
  if (ax < 2.5) {
    let sum = ax;
    let term = ax;
    for (let n = 1; n < 60; n++) {
      term *= (-ax * ax) / n;
      const t = term / (2 * n + 1);
      sum += t;
      if (Math.abs(t) < 1e-17) break;
    }
    const r = (2 / Math.sqrt(Math.PI)) * sum;
    return x < 0 ? -r : r;
  }
  // erfc continued fraction
  let f = 0;
  for (let n = 60; n >= 1; n--) f = n / 2 / (ax + f);
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + f);
  return x < 0 ? erfc - 1 : 1 - erfc;
}

function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function unaryFn(op: UnaryOp): (x: number) => number {
  switch (op) {
    case 'neg': return (x) => -x;
    case 'abs': return Math.abs;
    case 'sign': return (x) => (Number.isNaN(x) ? NaN : x > 0 ? 1 : x < 0 ? -1 : 0);
    case 'exp': return Math.exp;
    case 'log': return Math.log;
    case 'log1p': return Math.log1p;
    case 'expm1': return Math.expm1;
    case 'sqrt': return Math.sqrt;
    case 'rsqrt': return (x) => 1 / Math.sqrt(x);
    case 'reciprocal': return (x) => 1 / x;
    case 'square': return (x) => x * x;
    case 'sin': return Math.sin;
    case 'cos': return Math.cos;
    case 'tanh': return Math.tanh;
    case 'erf': return erf;
    case 'sigmoid': return (x) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
    case 'relu': return (x) => (Number.isNaN(x) ? NaN : Math.max(x, 0));
    case 'floor': return Math.floor;
    case 'ceil': return Math.ceil;
    case 'round': return roundHalfEven;
    case 'not': return (x) => (x ? 0 : 1);
  }
}

function binaryFn(op: BinaryOp, dtype: DType): (a: number, b: number) => number {
  const int = dtype === 'int32';
  switch (op) {
    case 'add': return int ? (a, b) => (a + b) | 0 : (a, b) => a + b;
    case 'sub': return int ? (a, b) => (a - b) | 0 : (a, b) => a - b;
    case 'mul': return int ? (a, b) => Math.imul(a, b) : (a, b) => a * b;
    case 'div': return int ? (a, b) => (b === 0 ? 0 : Math.trunc(a / b)) : (a, b) => a / b;
    case 'pow': return Math.pow;
    case 'max': return (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.max(a, b));
    case 'min': return (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.min(a, b));
    case 'mod': return (a, b) => {
      if (int && b === 0) return 0;
      const r = a % b;
      return r !== 0 && (r < 0) !== (b < 0) ? r + b : r;
    };
    case 'eq': return (a, b) => +(a === b);
    case 'ne': return (a, b) => +(a !== b);
    case 'lt': return (a, b) => +(a < b);
    case 'le': return (a, b) => +(a <= b);
    case 'gt': return (a, b) => +(a > b);
    case 'ge': return (a, b) => +(a >= b);
    case 'and': return (a, b) => +(a !== 0 && b !== 0);
    case 'or': return (a, b) => +(a !== 0 || b !== 0);
    case 'xor': return (a, b) => +((a !== 0) !== (b !== 0));
  }
}

function pix(x: View, s: Buf['data'], n: number, c: number, y: number, xx: number): number {
  return s[x.offset + n * x.strides[0]! + c * x.strides[1]! + y * x.strides[2]! + xx * x.strides[3]!]!;
}

/** Creates the reference backend. */
export function createRefBackend(): Backend {
  let bytes = 0;
  let buffers = 0;
  return {
    name: 'ref',
    supportsSyncRead: true,
    alloc(dtype, size) {
      const b: Buf = { dtype, size, data: make(dtype, size) };
      bytes += b.data.byteLength;
      buffers++;
      return b;
    },
    write(buf, d) {
      data(buf).set(d as ArrayLike<number>);
    },
    async read(buf) {
      return data(buf).slice() as TypedArray;
    },
    readSync(buf) {
      return data(buf).slice() as TypedArray;
    },
    free(buf) {
      bytes -= data(buf).byteLength;
      buffers--;
    },
    memory() {
      return { bytes, buffers };
    },
    fill(out, value) {
      data(out).fill(cast(value, out.dtype));
    },
    copy(src, dst) {
      const s = data(src.buf);
      const d = data(dst.buf);
      const si = offsets(src);
      const di = offsets(dst);
      for (let i = 0; i < si.length; i++) d[di[i]!] = cast(s[si[i]!]!, dst.dtype);
    },
    unary(op, x, out) {
      const f = unaryFn(op);
      const s = data(x.buf);
      const o = data(out);
      const ix = offsets(x);
      for (let i = 0; i < ix.length; i++) o[i] = f(s[ix[i]!]!);
    },
    binary(op, a, b, out) {
      const f = binaryFn(op, a.dtype);
      const sa = data(a.buf);
      const sb = data(b.buf);
      const o = data(out);
      const ia = offsets(a);
      const ib = offsets(b);
      for (let i = 0; i < ia.length; i++) o[i] = f(sa[ia[i]!]!, sb[ib[i]!]!);
    },
    where(c, a, b, out) {
      const sc = data(c.buf);
      const sa = data(a.buf);
      const sb = data(b.buf);
      const o = data(out);
      const ic = offsets(c);
      const ia = offsets(a);
      const ib = offsets(b);
      for (let i = 0; i < ic.length; i++) o[i] = sc[ic[i]!] ? sa[ia[i]!]! : sb[ib[i]!]!;
    },
    reduce(op: ReduceOp, x, axes, out) {
      const s = data(x.buf);
      const o = data(out);
      const rank = x.shape.length;
      const keptAxes = x.shape.map((_, i) => i).filter((i) => !axes.includes(i));
      const outSize = o.length;
      const init = op === 'sum' ? 0 : op === 'prod' ? 1 : op === 'max' ? -Infinity : op === 'min' ? Infinity : 0;
      const acc = new Float64Array(outSize).fill(init);
      const best = new Float64Array(outSize).fill(op === 'argmax' ? -Infinity : Infinity);
      const cnt = new Int32Array(outSize);
      const found = new Uint8Array(outSize);
      const idx = new Array<number>(rank).fill(0);
      const n = x.shape.reduce((p, q) => p * q, 1);
      for (let i = 0; i < n; i++) {
        let off = x.offset;
        for (let d = 0; d < rank; d++) off += idx[d]! * x.strides[d]!;
        let k = 0;
        for (const d of keptAxes) k = k * x.shape[d]! + idx[d]!;
        const v = s[off]!;
        switch (op) {
          case 'sum': acc[k]! += v; break;
          case 'prod': acc[k]! *= v; break;
          case 'max': acc[k] = Number.isNaN(v) || Number.isNaN(acc[k]!) ? NaN : Math.max(acc[k]!, v); break;
          case 'min': acc[k] = Number.isNaN(v) || Number.isNaN(acc[k]!) ? NaN : Math.min(acc[k]!, v); break;
          case 'argmax':
          case 'argmin': {
            const better = op === 'argmax' ? v > best[k]! : v < best[k]!;
            if (!found[k] && (Number.isNaN(v) || better || cnt[k] === 0)) {
              best[k] = v;
              acc[k] = cnt[k]!;
              if (Number.isNaN(v)) found[k] = 1;
            }
            cnt[k]!++;
            break;
          }
        }
        for (let d = rank - 1; d >= 0; d--) {
          if (++idx[d]! < x.shape[d]!) break;
          idx[d] = 0;
        }
      }
      for (let k = 0; k < outSize; k++) o[k] = x.dtype === 'int32' && (op === 'sum' || op === 'prod') ? acc[k]! | 0 : acc[k]!;
    },
    matmul(a, b, out) {
      const [B, M, K] = a.shape as [number, number, number];
      const N = b.shape[2]!;
      const sa = data(a.buf);
      const sb = data(b.buf);
      const o = data(out);
      for (let bi = 0; bi < B; bi++)
        for (let i = 0; i < M; i++)
          for (let j = 0; j < N; j++) {
            let acc = 0;
            const ao = a.offset + bi * a.strides[0]! + i * a.strides[1]!;
            const bo = b.offset + bi * b.strides[0]! + j * b.strides[2]!;
            for (let k = 0; k < K; k++) acc = Math.fround(acc + Math.fround(sa[ao + k * a.strides[2]!]! * sb[bo + k * b.strides[1]!]!));
            o[(bi * M + i) * N + j] = acc;
          }
    },
    im2col(x: View, w: Window2d, out) {
      const s = data(x.buf);
      const o = data(out);
      const L = w.outH * w.outW;
      const rows = w.c * w.kH * w.kW;
      for (let n = 0; n < w.n; n++)
        for (let c = 0; c < w.c; c++)
          for (let ki = 0; ki < w.kH; ki++)
            for (let kj = 0; kj < w.kW; kj++) {
              const r = (c * w.kH + ki) * w.kW + kj;
              for (let oy = 0; oy < w.outH; oy++)
                for (let ox = 0; ox < w.outW; ox++) {
                  const y = oy * w.strideH - w.padTop + ki * w.dilationH;
                  const xx = ox * w.strideW - w.padLeft + kj * w.dilationW;
                  const v = y >= 0 && y < w.h && xx >= 0 && xx < w.w ? pix(x, s, n, c, y, xx) : 0;
                  o[(n * rows + r) * L + oy * w.outW + ox] = v;
                }
            }
    },
    col2im(cols: View, w: Window2d, out) {
      const s = data(cols.buf);
      const o = data(out);
      o.fill(0);
      for (let n = 0; n < w.n; n++)
        for (let c = 0; c < w.c; c++)
          for (let ki = 0; ki < w.kH; ki++)
            for (let kj = 0; kj < w.kW; kj++) {
              const r = (c * w.kH + ki) * w.kW + kj;
              for (let oy = 0; oy < w.outH; oy++)
                for (let ox = 0; ox < w.outW; ox++) {
                  const y = oy * w.strideH - w.padTop + ki * w.dilationH;
                  const xx = ox * w.strideW - w.padLeft + kj * w.dilationW;
                  if (y < 0 || y >= w.h || xx < 0 || xx >= w.w) continue;
                  const l = oy * w.outW + ox;
                  o[((n * w.c + c) * w.h + y) * w.w + xx]! += s[cols.offset + n * cols.strides[0]! + r * cols.strides[1]! + l * cols.strides[2]!]!;
                }
            }
    },
    pool2d(op, x, w, out) {
      const s = data(x.buf);
      const o = data(out);
      for (let n = 0; n < w.n; n++)
        for (let c = 0; c < w.c; c++)
          for (let oy = 0; oy < w.outH; oy++)
            for (let ox = 0; ox < w.outW; ox++) {
              let acc = op === 'max' ? -Infinity : 0;
              let cnt = 0;
              for (let ki = 0; ki < w.kH; ki++)
                for (let kj = 0; kj < w.kW; kj++) {
                  const y = oy * w.strideH - w.padTop + ki * w.dilationH;
                  const xx = ox * w.strideW - w.padLeft + kj * w.dilationW;
                  if (y < 0 || y >= w.h || xx < 0 || xx >= w.w) continue;
                  const v = pix(x, s, n, c, y, xx);
                  if (op === 'max') acc = Math.max(acc, v);
                  else acc += v;
                  cnt++;
                }
              o[((n * w.c + c) * w.outH + oy) * w.outW + ox] = op === 'max' ? acc : acc / cnt;
            }
    },
    pool2dGrad(op, x, dy, w, out) {
      const s = data(x.buf);
      const g = data(dy.buf);
      const o = data(out);
      o.fill(0);
      for (let n = 0; n < w.n; n++)
        for (let c = 0; c < w.c; c++)
          for (let oy = 0; oy < w.outH; oy++)
            for (let ox = 0; ox < w.outW; ox++) {
              const gv = g[dy.offset + n * dy.strides[0]! + c * dy.strides[1]! + oy * dy.strides[2]! + ox * dy.strides[3]!]!;
              const cells: [number, number][] = [];
              for (let ki = 0; ki < w.kH; ki++)
                for (let kj = 0; kj < w.kW; kj++) {
                  const y = oy * w.strideH - w.padTop + ki * w.dilationH;
                  const xx = ox * w.strideW - w.padLeft + kj * w.dilationW;
                  if (y >= 0 && y < w.h && xx >= 0 && xx < w.w) cells.push([y, xx]);
                }
              if (op === 'avg') {
                for (const [y, xx] of cells) o[((n * w.c + c) * w.h + y) * w.w + xx]! += gv / cells.length;
              } else {
                let bi = -1;
                let bv = -Infinity;
                cells.forEach(([y, xx], i) => {
                  const v = pix(x, s, n, c, y, xx);
                  if (bi < 0 || v > bv) {
                    bi = i;
                    bv = v;
                  }
                });
                if (bi >= 0) {
                  const [y, xx] = cells[bi]!;
                  o[((n * w.c + c) * w.h + y) * w.w + xx]! += gv;
                }
              }
            }
    },
    gather(x, indices, out) {
      const [outer, n, inner] = x.shape as [number, number, number];
      const s = data(x.buf);
      const id = data(indices.buf);
      const o = data(out);
      const m = indices.shape[0]!;
      for (let a = 0; a < outer; a++)
        for (let j = 0; j < m; j++) {
          const r = id[indices.offset + j * indices.strides[0]!]!;
          for (let i = 0; i < inner; i++) o[(a * m + j) * inner + i] = s[x.offset + a * x.strides[0]! + r * x.strides[1]! + i * x.strides[2]!]!;
        }
      void n;
    },
    scatterAdd(updates, indices, n, out) {
      const [outer, m, inner] = updates.shape as [number, number, number];
      const s = data(updates.buf);
      const id = data(indices.buf);
      const o = data(out);
      o.fill(0);
      for (let a = 0; a < outer; a++)
        for (let j = 0; j < m; j++) {
          const r = id[indices.offset + j * indices.strides[0]!]!;
          for (let i = 0; i < inner; i++) o[(a * n + r) * inner + i]! += s[updates.offset + a * updates.strides[0]! + j * updates.strides[1]! + i * updates.strides[2]!]!;
        }
    },
    random(kind, key, counter, a, b, out) {
      const o = data(out);
      o.set(referenceRandom(kind, key, counter, a, b, o.length));
    },
    async sync() {},
    dispose() {},
  };
}
