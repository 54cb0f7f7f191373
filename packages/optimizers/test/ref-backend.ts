/**
 * A tiny, slow, plain-JS backend used only by these tests when the WASM backend is not available
 * (`AXON_TEST_BACKEND=ref`). It implements the primitives optimizers and their tests need.
 */
import type { Backend, BackendBuffer, BinaryOp, ReduceOp, UnaryOp, View } from '@axon/core';
import type { DType, TypedArray } from '@axon/core';

interface Buf extends BackendBuffer {
  data: Float32Array | Int32Array | Uint8Array;
}

function make(dtype: DType, size: number): Float32Array | Int32Array | Uint8Array {
  return dtype === 'float32' ? new Float32Array(size) : dtype === 'int32' ? new Int32Array(size) : new Uint8Array(size);
}

/** Flat source indices of a view, row-major. */
function indices(v: View): number[] {
  const n = v.shape.reduce((a, b) => a * b, 1);
  const out = new Array<number>(n);
  const rank = v.shape.length;
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

const data = (b: BackendBuffer): Buf['data'] => (b as Buf).data;

function cast(x: number, dtype: DType): number {
  if (dtype === 'bool') return x !== 0 ? 1 : 0;
  if (dtype === 'int32') return Number.isNaN(x) ? 0 : Math.trunc(Math.max(-2147483648, Math.min(2147483647, x)));
  return x;
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
    case 'sigmoid': return (x) => 1 / (1 + Math.exp(-x));
    case 'relu': return (x) => (Number.isNaN(x) ? NaN : Math.max(x, 0));
    case 'floor': return Math.floor;
    case 'ceil': return Math.ceil;
    case 'not': return (x) => (x ? 0 : 1);
    default: throw new Error(`ref backend: unary '${op}' not implemented`);
  }
}

function binaryFn(op: BinaryOp): (a: number, b: number) => number {
  switch (op) {
    case 'add': return (a, b) => a + b;
    case 'sub': return (a, b) => a - b;
    case 'mul': return (a, b) => a * b;
    case 'div': return (a, b) => a / b;
    case 'pow': return Math.pow;
    case 'max': return (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.max(a, b));
    case 'min': return (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.min(a, b));
    case 'eq': return (a, b) => +(a === b);
    case 'ne': return (a, b) => +(a !== b);
    case 'lt': return (a, b) => +(a < b);
    case 'le': return (a, b) => +(a <= b);
    case 'gt': return (a, b) => +(a > b);
    case 'ge': return (a, b) => +(a >= b);
    case 'and': return (a, b) => +(a !== 0 && b !== 0);
    case 'or': return (a, b) => +(a !== 0 || b !== 0);
    case 'xor': return (a, b) => +((a !== 0) !== (b !== 0));
    default: throw new Error(`ref backend: binary '${op}' not implemented`);
  }
}

/** Creates the reference backend. */
export function createRefBackend(): Backend {
  let bytes = 0;
  let buffers = 0;
  const unsupported = (what: string) => (): never => {
    throw new Error(`ref backend: ${what} not implemented`);
  };
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
      const si = indices(src);
      const di = indices(dst);
      for (let i = 0; i < si.length; i++) d[di[i]!] = cast(s[si[i]!]!, dst.dtype);
    },
    unary(op, x, out) {
      const f = unaryFn(op);
      const s = data(x.buf);
      const o = data(out);
      indices(x).forEach((j, i) => (o[i] = f(s[j]!)));
    },
    binary(op, a, b, out) {
      const f = binaryFn(op);
      const sa = data(a.buf);
      const sb = data(b.buf);
      const o = data(out);
      const ib = indices(b);
      indices(a).forEach((j, i) => (o[i] = f(sa[j]!, sb[ib[i]!]!)));
    },
    where(c, a, b, out) {
      const sc = data(c.buf);
      const sa = data(a.buf);
      const sb = data(b.buf);
      const o = data(out);
      const ia = indices(a);
      const ib = indices(b);
      indices(c).forEach((j, i) => (o[i] = sc[j] ? sa[ia[i]!]! : sb[ib[i]!]!));
    },
    reduce(op: ReduceOp, x, axes, out) {
      const s = data(x.buf);
      const o = data(out);
      const keptAxes = x.shape.map((_, i) => i).filter((i) => !axes.includes(i));
      const outSize = o.length;
      const acc: number[][] = Array.from({ length: outSize }, () => []);
      const rank = x.shape.length;
      const idx = new Array<number>(rank).fill(0);
      const n = x.shape.reduce((p, q) => p * q, 1);
      for (let i = 0; i < n; i++) {
        let off = x.offset;
        for (let d = 0; d < rank; d++) off += idx[d]! * x.strides[d]!;
        let k = 0;
        for (const d of keptAxes) k = k * x.shape[d]! + idx[d]!;
        acc[k]!.push(s[off]!);
        for (let d = rank - 1; d >= 0; d--) {
          if (++idx[d]! < x.shape[d]!) break;
          idx[d] = 0;
        }
      }
      acc.forEach((vals, k) => {
        switch (op) {
          case 'sum': o[k] = vals.reduce((p, q) => p + q, 0); break;
          case 'prod': o[k] = vals.reduce((p, q) => p * q, 1); break;
          case 'max': o[k] = vals.some(Number.isNaN) ? NaN : vals.reduce((p, q) => Math.max(p, q), -Infinity); break;
          case 'min': o[k] = vals.some(Number.isNaN) ? NaN : vals.reduce((p, q) => Math.min(p, q), Infinity); break;
          case 'argmax': o[k] = vals.indexOf(Math.max(...vals)); break;
          case 'argmin': o[k] = vals.indexOf(Math.min(...vals)); break;
        }
      });
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
            for (let k = 0; k < K; k++) {
              acc += sa[a.offset + bi * a.strides[0]! + i * a.strides[1]! + k * a.strides[2]!]! * sb[b.offset + bi * b.strides[0]! + k * b.strides[1]! + j * b.strides[2]!]!;
            }
            o[(bi * M + i) * N + j] = acc;
          }
    },
    im2col: unsupported('im2col'),
    col2im: unsupported('col2im'),
    pool2d: unsupported('pool2d'),
    pool2dGrad: unsupported('pool2dGrad'),
    gather: unsupported('gather'),
    scatterAdd: unsupported('scatterAdd'),
    random: unsupported('random'),
    async sync() {},
    dispose() {},
  };
}
