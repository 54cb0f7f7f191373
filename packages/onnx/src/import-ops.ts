/**
 * The ONNX operators `loadOnnx` runs, each written with Axon core ops (so gradients flow to the
 * parameters) or, when every input is a host constant, computed on the host (shape subgraphs).
 * @internal
 */
import {
  contiguousStrides,
  sizeOf,
  AxonError,
  type Tensor,
  abs,
  argmax,
  argmin,
  astype,
  avgPool1d,
  avgPool2d,
  concat,
  conv1d,
  conv2d,
  convTranspose1d,
  convTranspose2d,
  cos,
  div,
  eq,
  erf,
  exp,
  expand,
  flip,
  fmtShape,
  full,
  gather,
  gt,
  ge,
  isTensor,
  leakyRelu,
  log,
  logSoftmax,
  logicalAnd,
  logicalNot,
  logicalOr,
  logicalXor,
  lt,
  le,
  matmul,
  max,
  maxPool1d,
  maxPool2d,
  maximum,
  mean,
  min,
  minimum,
  mul,
  neg,
  pad,
  permute,
  pow,
  prod,
  reciprocal,
  relu,
  reshape,
  sigmoid,
  sin,
  slice,
  softmax,
  split,
  sqrt,
  stack,
  sub,
  sum,
  tanh,
  tile,
  tril,
  triu,
  where,
  add,
  floor,
  ceil,
  round,
  squeeze,
  unbind,
  mod,
  sign,
} from '@axon/core';
import { AttributeType, type AttributeProto, type NodeProto, int64 } from './proto.js';
import { type HostKind, type HostValue, MAX_TENSOR_ELEMENTS, type Value, decodeTensor, dtypeOf, hostValue, isHost, kindOf, toTensor, dataTypeName } from './import-host.js';

/** What one node's run gets. @internal */
export interface NodeCtx {
  /** `OpType 'node name'`, for errors. */
  readonly op: string;
  readonly node: NodeProto;
  readonly attrs: ReadonlyMap<string, AttributeProto>;
  /** Inputs in order; undefined for an absent optional input (empty name). */
  readonly inputs: readonly (Value | undefined)[];
  /** Tensors made from host values during the run (freed after the node unless saved for backward). */
  readonly temps: Tensor[];
}

type AttrKind = 'int' | 'float' | 'string' | 'ints' | 'floats' | 'tensor' | 'strings';

/** What attribute checks need: the node's label and its checked attributes (at load and at run). */
type AttrCtx = Pick<NodeCtx, 'op' | 'attrs'>;

interface OpSpec {
  readonly attrs: Readonly<Record<string, AttrKind>>;
  /** Checks the attributes' values at load (what does not depend on the inputs' shapes). */
  readonly check?: (c: AttrCtx) => void;
  /** Inputs read on the host (shapes, pads, axes, fill values): float initializers there stay constants. */
  readonly hostInputs?: readonly number[];
  readonly run: (c: NodeCtx) => Value[];
}

const ATTR_CODES: Record<AttrKind, number> = {
  int: AttributeType.INT,
  float: AttributeType.FLOAT,
  string: AttributeType.STRING,
  ints: AttributeType.INTS,
  floats: AttributeType.FLOATS,
  tensor: AttributeType.TENSOR,
  strings: AttributeType.STRINGS,
};

const ATTR_NAMES: Record<number, string> = Object.fromEntries(Object.entries(AttributeType).map(([k, v]) => [v, k]));

// ------------------------------------------------------------------ attribute access
function attr(c: AttrCtx, name: string): AttributeProto | undefined {
  return c.attrs.get(name);
}
function aInt(c: AttrCtx, name: string, dflt: number): number {
  const a = attr(c, name);
  return a ? int64(c.op, `attribute ${name}`, a.i) : dflt;
}
function aFloat(c: AttrCtx, name: string, dflt: number): number {
  const a = attr(c, name);
  return a ? (a.f ?? 0) : dflt;
}
function aInts(c: AttrCtx, name: string): number[] | null {
  const a = attr(c, name);
  return a ? (a.ints ?? []).map((v) => int64(c.op, `attribute ${name}`, v)) : null;
}
function aString(c: AttrCtx, name: string, dflt: string): string {
  const a = attr(c, name);
  return a ? new TextDecoder().decode(a.s ?? new Uint8Array()) : dflt;
}
function aStrings(c: AttrCtx, name: string): string[] | null {
  const a = attr(c, name);
  return a ? (a.strings ?? []).map((s) => new TextDecoder().decode(s)) : null;
}
function unsupportedValue(c: AttrCtx, what: string, got: unknown, supported: string): never {
  throw new AxonError(c.op, `${what} ${JSON.stringify(got)} is not supported (supported: ${supported})`);
}

// ------------------------------------------------------------------ inputs
function input(c: NodeCtx, i: number, what: string): Value {
  const v = c.inputs[i];
  if (v === undefined) throw new AxonError(c.op, `input ${i} (${what}) is required`);
  return v;
}
function optInput(c: NodeCtx, i: number): Value | undefined {
  return c.inputs[i];
}

/** An input as a device tensor (host constants are uploaded). */
function dev(c: NodeCtx, i: number, what = `input ${i}`): Tensor {
  return devOf(c, input(c, i, what));
}
function devOf(c: NodeCtx, v: Value): Tensor {
  if (!isHost(v)) return v;
  const t = toTensor(c.op, v);
  c.temps.push(t);
  return t;
}
/** An input that must be a host constant (a shape, axes, pads …). */
function hostIn(c: NodeCtx, i: number, what: string): HostValue {
  const v = input(c, i, what);
  if (!isHost(v)) {
    throw new AxonError(c.op, `input ${i} (${what}) is computed from tensor data (shape ${fmtShape(v.shape)}); Axon needs it as a constant or a value computed from shapes, on the host`);
  }
  return v;
}
function hostInts(c: NodeCtx, i: number, what: string): number[] {
  const h = hostIn(c, i, what);
  return Array.from(h.data);
}
function shapeOf(v: Value): readonly number[] {
  return v.shape;
}
function kindOfValue(v: Value): HostKind {
  if (isHost(v)) return v.kind;
  return v.dtype === 'float32' ? 'float' : v.dtype === 'int32' ? 'int' : 'bool';
}
function normAxis(c: NodeCtx, axis: number, rank: number, what = 'axis'): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) throw new AxonError(c.op, `${what} ${axis} is out of range for rank ${rank}`);
  return axis < 0 ? axis + rank : axis;
}
function checkSize(c: NodeCtx, shape: readonly number[]): void {
  if (shape.some((d) => !Number.isSafeInteger(d) || d < 0)) throw new AxonError(c.op, `computed an invalid shape ${fmtShape(shape)}`);
  let n = 1;
  for (const d of shape) n *= d;
  if (n > MAX_TENSOR_ELEMENTS) throw new AxonError(c.op, `would make a tensor of shape ${fmtShape(shape)}, more than 2^28 elements; nothing was allocated`);
}

// ------------------------------------------------------------------ host arithmetic
function broadcastShape(c: NodeCtx, shapes: readonly (readonly number[])[]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const o = rank - s.length + i;
      const d = s[i]!;
      if (out[o] === 1) out[o] = d;
      else if (d !== 1 && d !== out[o]) throw new AxonError(c.op, `cannot broadcast shapes ${shapes.map((x) => fmtShape(x)).join(' and ')}`);
    }
  }
  return out;
}
/** Reads `v` broadcast to `shape` as a flat array. */
function broadcastData(v: HostValue, shape: readonly number[]): Float64Array {
  const n = sizeOf(shape);
  if (v.shape.length === shape.length && v.shape.every((d, i) => d === shape[i])) return v.data;
  const out = new Float64Array(n);
  const src = contiguousStrides(v.shape);
  const pad = shape.length - v.shape.length;
  const oStr = contiguousStrides(shape);
  for (let i = 0; i < n; i++) {
    let off = 0;
    for (let a = 0; a < shape.length; a++) {
      const idx = Math.floor(i / oStr[a]!) % shape[a]!;
      const sa = a - pad;
      if (sa >= 0 && v.shape[sa] !== 1) off += idx * src[sa]!;
    }
    out[i] = v.data[off]!;
  }
  return out;
}
function hostMap(c: NodeCtx, vs: readonly HostValue[], kind: HostKind, f: (...x: number[]) => number): HostValue {
  const shape = broadcastShape(c, vs.map((v) => v.shape));
  checkSize(c, shape);
  const ds = vs.map((v) => broadcastData(v, shape));
  const n = sizeOf(shape);
  const out = new Float64Array(n);
  const args = new Array<number>(ds.length);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < ds.length; k++) args[k] = ds[k]![i]!;
    let r = f(...args);
    if (kind === 'float') r = Math.fround(r);
    else if (kind === 'bool') r = r ? 1 : 0;
    out[i] = r;
  }
  return hostValue(kind, shape, out);
}
function allHost(vs: readonly (Value | undefined)[]): vs is HostValue[] {
  return vs.every((v) => v !== undefined && isHost(v));
}

// ------------------------------------------------------------------ elementwise
function unary(dev1: (x: Tensor) => Tensor, host?: (x: number) => number): OpSpec {
  return {
    attrs: {},
    run: (c) => {
      const x = input(c, 0, 'X');
      if (host && isHost(x)) return [hostMap(c, [x], x.kind, host)];
      return [dev1(devOf(c, x))];
    },
  };
}
function binary(devf: (a: Tensor, b: Tensor) => Tensor, host: ((a: number, b: number) => number) | null, result: 'same' | 'bool' = 'same'): OpSpec {
  return {
    attrs: {},
    run: (c) => {
      const a = input(c, 0, 'A');
      const b = input(c, 1, 'B');
      if (host && isHost(a) && isHost(b)) {
        const kind: HostKind = result === 'bool' ? 'bool' : a.kind;
        const intDiv = kind === 'int' && devf === div;
        return [hostMap(c, [a, b], kind, intDiv ? (x, y) => Math.trunc(x / y) : host)];
      }
      if (kindOfValue(a) !== kindOfValue(b)) throw new AxonError(c.op, `inputs have different types (${kindOfValue(a)} ${fmtShape(shapeOf(a))} and ${kindOfValue(b)} ${fmtShape(shapeOf(b))}); ONNX requires the same type`);
      return [devf(devOf(c, a), devOf(c, b))];
    },
  };
}
function variadic(devf: (a: Tensor, b: Tensor) => Tensor, host: (a: number, b: number) => number): OpSpec {
  return {
    attrs: {},
    run: (c) => {
      const xs = c.inputs.filter((v): v is Value => v !== undefined);
      if (xs.length === 0) throw new AxonError(c.op, 'needs at least one input');
      if (allHost(xs)) return [hostMap(c, xs, xs[0]!.kind, (...v) => v.reduce(host))];
      let acc = devOf(c, xs[0]!);
      for (const x of xs.slice(1)) acc = devf(acc, devOf(c, x));
      return [acc];
    },
  };
}

function elu(x: Tensor, alpha: number): Tensor {
  return add(relu(x), mul(exp(minimum(x, 0)).sub(1), alpha));
}

// ------------------------------------------------------------------ reductions
type Reducer = (x: Tensor, axis: number[], keep: boolean) => Tensor;
function reduce(devf: Reducer, hostf: ((a: number, b: number) => number) | null, init: number): OpSpec {
  return {
    hostInputs: [1],
    attrs: { axes: 'ints', keepdims: 'int', noop_with_empty_axes: 'int' },
    run: (c) => {
      const x = input(c, 0, 'data');
      const keep = aInt(c, 'keepdims', 1) !== 0;
      const fromInput = optInput(c, 1) !== undefined ? hostInts(c, 1, 'axes') : null;
      let axes = fromInput ?? aInts(c, 'axes');
      const rank = x.shape.length;
      if (axes === null || axes.length === 0) {
        if (aInt(c, 'noop_with_empty_axes', 0) !== 0) return [x];
        axes = x.shape.map((_, i) => i);
      }
      const ax = [...new Set(axes.map((a) => normAxis(c, a, rank)))].sort((p, q) => p - q);
      if (isHost(x) && hostf) {
        const outShape = x.shape.map((d, i) => (ax.includes(i) ? 1 : d));
        const n = sizeOf(outShape);
        const acc = new Float64Array(n).fill(init);
        const count = new Float64Array(n);
        const str = contiguousStrides(x.shape);
        const oStr = contiguousStrides(outShape);
        for (let i = 0; i < x.data.length; i++) {
          let o = 0;
          for (let a = 0; a < rank; a++) if (!ax.includes(a)) o += (Math.floor(i / str[a]!) % x.shape[a]!) * oStr[a]!;
          acc[o] = hostf(acc[o]!, x.data[i]!);
          count[o]! += 1;
        }
        if (devf === meanReducer) for (let i = 0; i < n; i++) acc[i] = acc[i]! / count[i]!;
        const shape = keep ? outShape : x.shape.filter((_, i) => !ax.includes(i));
        return [hostValue(x.kind, shape, acc)];
      }
      return [devf(devOf(c, x), ax, keep)];
    },
  };
}
const meanReducer: Reducer = (x, a, k) => mean(x, a, k);

// ------------------------------------------------------------------ movement (host or device)
function hostReshape(v: HostValue, shape: readonly number[]): HostValue {
  return hostValue(v.kind, shape, v.data);
}
function reshapeValue(c: NodeCtx, v: Value, shape: readonly number[]): Value {
  if (sizeOf(shape) !== sizeOf(v.shape)) throw new AxonError(c.op, `cannot reshape ${fmtShape(v.shape)} (${sizeOf(v.shape)} elements) to ${fmtShape(shape)}`);
  return isHost(v) ? hostReshape(v, shape) : reshape(v, shape);
}
function hostPermute(v: HostValue, perm: readonly number[]): HostValue {
  const shape = perm.map((p) => v.shape[p]!);
  const src = contiguousStrides(v.shape);
  const oStr = contiguousStrides(shape);
  const out = new Float64Array(v.data.length);
  for (let i = 0; i < out.length; i++) {
    let off = 0;
    for (let a = 0; a < shape.length; a++) off += (Math.floor(i / oStr[a]!) % shape[a]!) * src[perm[a]!]!;
    out[i] = v.data[off]!;
  }
  return hostValue(v.kind, shape, out);
}
/** Host gather along `axis` with already-normalized indices. */
function hostTake(v: HostValue, idx: HostValue, axis: number): HostValue {
  const outer = sizeOf(v.shape.slice(0, axis));
  const n = v.shape[axis]!;
  const inner = sizeOf(v.shape.slice(axis + 1));
  const shape = [...v.shape.slice(0, axis), ...idx.shape, ...v.shape.slice(axis + 1)];
  const out = new Float64Array(sizeOf(shape));
  let o = 0;
  for (let a = 0; a < outer; a++) for (const j of idx.data) for (let b = 0; b < inner; b++) out[o++] = v.data[(a * n + j) * inner + b]!;
  return hostValue(v.kind, shape, out);
}
function hostConcat(c: NodeCtx, vs: readonly HostValue[], axis: number): HostValue {
  const base = vs[0]!.shape;
  for (const v of vs) if (v.shape.length !== base.length || v.shape.some((d, i) => i !== axis && d !== base[i])) throw new AxonError(c.op, `cannot concatenate ${vs.map((x) => fmtShape(x.shape)).join(', ')} along axis ${axis}`);
  const shape = base.slice();
  shape[axis] = vs.reduce((s, v) => s + v.shape[axis]!, 0);
  checkSize(c, shape);
  const outer = sizeOf(base.slice(0, axis));
  const out = new Float64Array(sizeOf(shape));
  let o = 0;
  for (let a = 0; a < outer; a++) {
    for (const v of vs) {
      const len = sizeOf(v.shape.slice(axis));
      out.set(v.data.subarray(a * len, (a + 1) * len), o);
      o += len;
    }
  }
  return hostValue(vs[0]!.kind, shape, out);
}

/** ONNX Slice parameters for one axis → [begin, count, step] (step may be negative). */
function sliceAxis(dim: number, start: number, end: number, step: number): [number, number] {
  let s = start < 0 ? start + dim : start;
  let e = end < 0 ? end + dim : end;
  if (step > 0) {
    s = Math.min(Math.max(s, 0), dim);
    e = Math.min(Math.max(e, 0), dim);
    return [s, Math.max(0, Math.ceil((e - s) / step))];
  }
  s = Math.min(Math.max(s, -1), dim - 1);
  e = Math.min(Math.max(e, -1), dim - 1);
  return [s, Math.max(0, Math.ceil((e - s) / step))];
}

function sliceValue(c: NodeCtx, x: Value, begin: number[], count: number[], steps: number[]): Value {
  const rank = x.shape.length;
  if (isHost(x)) {
    const shape = count.slice();
    const src = contiguousStrides(x.shape);
    const oStr = contiguousStrides(shape);
    const out = new Float64Array(sizeOf(shape));
    for (let i = 0; i < out.length; i++) {
      let off = 0;
      for (let a = 0; a < rank; a++) off += (begin[a]! + (Math.floor(i / oStr[a]!) % shape[a]!) * steps[a]!) * src[a]!;
      out[i] = x.data[off]!;
    }
    return hostValue(x.kind, shape, out);
  }
  if (count.some((n) => n === 0)) return full(count, 0, x.dtype);
  // negative steps: take the same elements forwards, then flip those axes
  const fb = begin.map((b, a) => (steps[a]! < 0 ? b + (count[a]! - 1) * steps[a]! : b));
  const fs = steps.map((s) => Math.abs(s));
  let y = slice(x, fb, count, fs);
  const neg = steps.map((s, a) => (s < 0 ? a : -1)).filter((a) => a >= 0);
  if (neg.length > 0) y = flip(y, neg);
  return y;
}

// ------------------------------------------------------------------ conv / pool helpers
function spatial(c: NodeCtx, x: Tensor, what: string): number {
  const n = x.rank - 2;
  if (n !== 1 && n !== 2) throw new AxonError(c.op, `${what} supports 1-D and 2-D inputs ([N, C, L] or [N, C, H, W]), got ${fmtShape(x.shape)}`);
  return n;
}
const AUTO_PADS = ['NOTSET', 'VALID', 'SAME_UPPER', 'SAME_LOWER'];
const isSame = (autoPad: string): boolean => autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER';

/** Load-time checks shared by Conv, ConvTranspose, MaxPool and AveragePool. */
function checkWindowAttrs(c: AttrCtx, pool: boolean): void {
  const autoPad = aString(c, 'auto_pad', 'NOTSET');
  if (!AUTO_PADS.includes(autoPad)) unsupportedValue(c, 'auto_pad', autoPad, AUTO_PADS.join(', '));
  const p = aInts(c, 'pads');
  if (p && p.some((v) => v < 0)) throw new AxonError(c.op, `pads ${JSON.stringify(p)} must be non-negative`);
  if (p && isSame(autoPad) && p.some((v) => v !== 0)) throw new AxonError(c.op, `pads ${JSON.stringify(p)} cannot be given with auto_pad ${autoPad} (ONNX computes the pads from the input's shape)`);
  for (const name of ['strides', 'dilations', 'kernel_shape']) {
    const v = aInts(c, name);
    if (v && v.some((d) => d < 1)) throw new AxonError(c.op, `${name} ${JSON.stringify(v)} must be positive integers`);
  }
  if (!pool) return;
  const k = aInts(c, 'kernel_shape');
  if (!k || k.length < 1) throw new AxonError(c.op, `kernel_shape is required, got ${JSON.stringify(k)}`);
  for (const name of ['strides', 'dilations']) {
    const v = aInts(c, name);
    if (v && v.length !== k.length) throw new AxonError(c.op, `${name} ${JSON.stringify(v)} must have ${k.length} values (one per kernel_shape dimension)`);
  }
  if (p && p.length !== 2 * k.length) throw new AxonError(c.op, `pads ${JSON.stringify(p)} must have ${2 * k.length} values (begin and end of each kernel_shape dimension)`);
  if (p && p.some((v, i) => v >= k[i % k.length]!)) throw new AxonError(c.op, `pads ${JSON.stringify(p)} must be smaller than kernel_shape ${JSON.stringify(k)} (a window would hold only padding)`);
  const d = aInts(c, 'dilations');
  if (d && d.some((v) => v !== 1)) unsupportedValue(c, 'dilations', d, 'all 1');
  for (const name of ['ceil_mode', 'count_include_pad']) {
    const v = aInt(c, name, 0);
    if (v !== 0 && v !== 1) unsupportedValue(c, name, v, '0 or 1');
  }
  if (aInt(c, 'storage_order', 0) !== 0) unsupportedValue(c, 'storage_order', aInt(c, 'storage_order', 0), '0');
}

/**
 * The pads [b0, b1, …, e0, e1, …] of a window op over spatial sizes `ins` with effective kernel
 * sizes `ek` ((k − 1)·dilation + 1): explicit, zero (VALID), or ONNX's SAME_UPPER / SAME_LOWER
 * (the output is ceil(in / stride); the total padding is split with the odd one at the end /
 * at the beginning).
 */
function windowPads(c: NodeCtx, ins: readonly number[], ek: readonly number[], strides: readonly number[]): number[] {
  const n = ins.length;
  const autoPad = aString(c, 'auto_pad', 'NOTSET');
  if (isSame(autoPad)) {
    const p = new Array<number>(2 * n).fill(0);
    for (let i = 0; i < n; i++) {
      const out = Math.ceil(ins[i]! / strides[i]!);
      const total = Math.max(0, (out - 1) * strides[i]! + ek[i]! - ins[i]!);
      const small = Math.floor(total / 2);
      p[i] = autoPad === 'SAME_UPPER' ? small : total - small;
      p[i + n] = total - p[i]!;
    }
    return p;
  }
  const p = aInts(c, 'pads') ?? new Array<number>(2 * n).fill(0);
  if (autoPad === 'VALID') p.fill(0);
  if (p.length !== 2 * n || p.some((v) => v < 0)) throw new AxonError(c.op, `pads ${JSON.stringify(p)} must be ${2 * n} non-negative integers`);
  return p;
}
function ints(c: NodeCtx, name: string, n: number, dflt: number): number[] {
  const v = aInts(c, name) ?? new Array<number>(n).fill(dflt);
  if (v.length !== n) throw new AxonError(c.op, `${name} ${JSON.stringify(v)} must have ${n} values`);
  return v;
}

function convOp(c: NodeCtx, transposed: boolean): Value[] {
  const x = dev(c, 0, 'X');
  const w = dev(c, 1, 'W');
  const bIn = optInput(c, 2);
  const b = bIn === undefined ? null : devOf(c, bIn);
  const n = spatial(c, x, transposed ? 'ConvTranspose' : 'Conv');
  if (w.rank !== n + 2) throw new AxonError(c.op, `W must have rank ${n + 2} for X ${fmtShape(x.shape)}, got ${fmtShape(w.shape)}`);
  const strides = ints(c, 'strides', n, 1);
  const dil = ints(c, 'dilations', n, 1);
  const group = aInt(c, 'group', 1);
  const ks = aInts(c, 'kernel_shape');
  if (ks && ks.some((k, i) => k !== w.shape[2 + i])) throw new AxonError(c.op, `kernel_shape ${JSON.stringify(ks)} does not match W ${fmtShape(w.shape)}`);
  const ek = w.shape.slice(2).map((k, i) => (k - 1) * dil[i]! + 1);
  if (!transposed) {
    const p = windowPads(c, x.shape.slice(2), ek, strides);
    if (n === 1) return [conv1d(x, w, { stride: strides[0]!, padding: [p[0]!, p[1]!], dilation: dil[0]!, groups: group, bias: b })];
    return [conv2d(x, w, { stride: [strides[0]!, strides[1]!], padding: [[p[0]!, p[2]!], [p[1]!, p[3]!]], dilation: [dil[0]!, dil[1]!], groups: group, bias: b })];
  }
  if (aInts(c, 'output_shape')) unsupportedValue(c, 'output_shape', aInts(c, 'output_shape'), 'pads and output_padding instead');
  const autoPad = aString(c, 'auto_pad', 'NOTSET');
  const op = ints(c, 'output_padding', n, 0);
  const ins = x.shape.slice(2);
  let p: number[];
  if (isSame(autoPad)) {
    // ONNX: the output is in · stride; the padding that takes it there is split, the odd one at
    // the end (SAME_UPPER) or at the beginning (SAME_LOWER)
    p = new Array<number>(2 * n).fill(0);
    for (let i = 0; i < n; i++) {
      const total = strides[i]! * (ins[i]! - 1) + op[i]! + ek[i]! - ins[i]! * strides[i]!;
      if (total < 0) throw new AxonError(c.op, `auto_pad ${autoPad} needs a negative padding (${total}) on spatial axis ${i} (kernel ${w.shape[2 + i]}, stride ${strides[i]}, output_padding ${op[i]}): the output cannot be input × stride`);
      const small = Math.floor(total / 2);
      p[i] = autoPad === 'SAME_UPPER' ? small : total - small;
      p[i + n] = total - p[i]!;
    }
  } else p = windowPads(c, ins, ek, strides);
  // asymmetric pads: the symmetric part in the op, the rest cropped from the result
  const q = ins.map((_, i) => Math.min(p[i]!, p[i + n]!));
  let y: Tensor;
  if (n === 1) y = convTranspose1d(x, w, { stride: strides[0]!, padding: q[0]!, outputPadding: op[0]!, dilation: dil[0]!, groups: group, bias: b });
  else y = convTranspose2d(x, w, { stride: [strides[0]!, strides[1]!], padding: [q[0]!, q[1]!], outputPadding: [op[0]!, op[1]!], dilation: [dil[0]!, dil[1]!], groups: group, bias: b });
  if (q.every((v, i) => v === p[i] && v === p[i + n])) return [y];
  c.temps.push(y);
  const begin = [0, 0, ...q.map((v, i) => p[i]! - v)];
  const count = y.shape.map((d, a) => (a < 2 ? d : d - (p[a - 2]! - q[a - 2]!) - (p[a - 2 + n]! - q[a - 2]!)));
  if (count.some((d) => d < 1)) throw new AxonError(c.op, `pads ${JSON.stringify(p)} leave an empty output from X ${fmtShape(x.shape)} and W ${fmtShape(w.shape)}`);
  return [slice(y, begin, count)];
}

/**
 * How many more elements ceil_mode needs at the end of one spatial axis: ONNX's (and PyTorch's)
 * ceil((in + pads − k) / s) + 1 windows, less the last one when it would start in the end padding
 * (every window starts inside the input or the begin padding), and the padding the last window
 * needs past the end padding.
 */
function ceilExtra(len: number, k: number, s: number, pb: number, pe: number): number {
  const span = len + pb + pe;
  if (span < k) return 0; // no window fits: the pooling op reports the shapes
  let out = Math.ceil((span - k) / s) + 1;
  if ((out - 1) * s >= len + pb) out--;
  return Math.max(0, (out - 1) * s + k - span);
}

function poolOp(c: NodeCtx, kind: 'max' | 'avg'): Value[] {
  const x = dev(c, 0, 'X');
  const n = spatial(c, x, kind === 'max' ? 'MaxPool' : 'AveragePool');
  const k = aInts(c, 'kernel_shape');
  if (!k || k.length !== n) throw new AxonError(c.op, `kernel_shape must have ${n} values for X ${fmtShape(x.shape)}, got ${JSON.stringify(k)}`);
  const strides = ints(c, 'strides', n, 1);
  const ins = x.shape.slice(2);
  const p = windowPads(c, ins, k, strides);
  if (c.node.output && c.node.output.length > 1 && c.node.output[1]) throw new AxonError(c.op, 'the Indices output of MaxPool is not supported');
  const countIncludePad = aInt(c, 'count_include_pad', 0) !== 0;
  // ceil_mode: more windows at the end, over elements past the end padding that count for nothing
  const extra = aInt(c, 'ceil_mode', 0) !== 0 ? ins.map((len, i) => ceilExtra(len, k[i]!, strides[i]!, p[i]!, p[i + n]!)) : ins.map(() => 0);
  const pool = (t: Tensor, q: readonly number[], include: boolean): Tensor => {
    if (n === 1) {
      const o = { stride: strides[0]!, padding: [q[0]!, q[1]!] as [number, number] };
      return kind === 'max' ? maxPool1d(t, k[0]!, o) : avgPool1d(t, k[0]!, { ...o, countIncludePad: include });
    }
    const o = { stride: [strides[0]!, strides[1]!] as [number, number], padding: [[q[0]!, q[2]!], [q[1]!, q[3]!]] as [[number, number], [number, number]] };
    return kind === 'max' ? maxPool2d(t, [k[0]!, k[1]!], o) : avgPool2d(t, [k[0]!, k[1]!], { ...o, countIncludePad: include });
  };
  // core's pools take pads up to half the kernel (PyTorch's rule); ONNX allows up to kernel − 1
  const wide = k.some((kk, i) => 2 * p[i]! > kk || 2 * p[i + n]! > kk);
  if (!wide && extra.every((e) => e === 0)) return [pool(x, p, countIncludePad)];
  const ends = (b: readonly number[], e: readonly number[]): [number, number][] => [[0, 0], [0, 0], ...b.map((v, i) => [v, e[i]!] as [number, number])];
  const zeros = ins.map(() => 0).concat(ins.map(() => 0));
  if (kind === 'max') {
    // pads and overhang hold −∞ (never the maximum: every window holds an input element)
    const xp = pad(x, ends(ins.map((_, i) => p[i]!), ins.map((_, i) => p[i + n]! + extra[i]!)), -Infinity);
    c.temps.push(xp);
    return [pool(xp, zeros, false)];
  }
  // average: the sum over each window of the zero-padded input (pads and overhang explicit), times
  // k / (its divisor): the input elements in the window, plus its pads with count_include_pad —
  // never the overhang. The divisor of window (i, j) is the product of the axes' counts.
  const xp = pad(x, ends(ins.map((_, i) => p[i]!), ins.map((_, i) => p[i + n]! + extra[i]!)), 0);
  c.temps.push(xp);
  const avg = pool(xp, zeros, true);
  c.temps.push(avg);
  const counts = ins.map((len, i) => {
    const out = avg.shape[2 + i]!;
    const lo = countIncludePad ? -p[i]! : 0;
    const hi = countIncludePad ? len + p[i + n]! : len;
    return Array.from({ length: out }, (_, j) => {
      const start = j * strides[i]! - p[i]!;
      return Math.min(start + k[i]!, hi) - Math.max(start, lo);
    });
  });
  const area = k.reduce((a, b) => a * b, 1);
  const outs = avg.shape.slice(2);
  const factor = new Float32Array(sizeOf(outs));
  for (let f = 0; f < factor.length; f++) {
    const j = n === 1 ? [f] : [Math.floor(f / outs[1]!), f % outs[1]!];
    factor[f] = area / j.reduce((acc, v, i) => acc * counts[i]![v]!, 1);
  }
  const ft = toTensor(c.op, hostValue('float', outs, Float64Array.from(factor)));
  c.temps.push(ft);
  return [mul(avg, ft)];
}

// ------------------------------------------------------------------ resize
const RESIZE_MODES = ['nearest', 'linear', 'cubic'];
const RESIZE_COORDS = ['half_pixel', 'pytorch_half_pixel', 'align_corners', 'asymmetric', 'tf_half_pixel_for_nn'];
const NEAREST_MODES = ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'];
const ASPECT_POLICIES = ['stretch', 'not_larger', 'not_smaller'];

function checkResizeAttrs(c: AttrCtx): void {
  const mode = aString(c, 'mode', 'nearest');
  if (!RESIZE_MODES.includes(mode)) unsupportedValue(c, 'mode', mode, RESIZE_MODES.join(', '));
  const coord = aString(c, 'coordinate_transformation_mode', 'half_pixel');
  if (!RESIZE_COORDS.includes(coord)) unsupportedValue(c, 'coordinate_transformation_mode', coord, RESIZE_COORDS.join(', '));
  const nearest = aString(c, 'nearest_mode', 'round_prefer_floor');
  if (!NEAREST_MODES.includes(nearest)) unsupportedValue(c, 'nearest_mode', nearest, NEAREST_MODES.join(', '));
  const policy = aString(c, 'keep_aspect_ratio_policy', 'stretch');
  if (!ASPECT_POLICIES.includes(policy)) unsupportedValue(c, 'keep_aspect_ratio_policy', policy, ASPECT_POLICIES.join(', '));
  const antialias = aInt(c, 'antialias', 0);
  if (antialias !== 0) unsupportedValue(c, 'antialias', antialias, '0');
  const exclude = aInt(c, 'exclude_outside', 0);
  if (exclude !== 0 && exclude !== 1) unsupportedValue(c, 'exclude_outside', exclude, '0 or 1');
  const a = aFloat(c, 'cubic_coeff_a', -0.75);
  if (!Number.isFinite(a)) unsupportedValue(c, 'cubic_coeff_a', a, 'a finite number');
}

/** The four weights of cubic convolution (Keys, coefficient `a`) at fraction `s` ∈ [0, 1): for x0 − 1, x0, x0 + 1, x0 + 2. */
function cubicWeights(s: number, a: number): [number, number, number, number] {
  const far = (t: number): number => ((a * t - 5 * a) * t + 8 * a) * t - 4 * a; // 1 ≤ t < 2
  const near = (t: number): number => ((a + 2) * t - (a + 3)) * t * t + 1; // 0 ≤ t < 1
  return [far(s + 1), near(s), near(1 - s), far(2 - s)];
}

/** ONNX Resize's source coordinate of output index `j` along an axis (float32 arithmetic, as onnxruntime). */
function resizeCoord(coord: string, j: number, scale: number, n: number, m: number): number {
  const f = Math.fround;
  switch (coord) {
    case 'half_pixel':
      return f(f(f(j + 0.5) / scale) - 0.5);
    case 'pytorch_half_pixel':
      return m > 1 ? f(f(f(j + 0.5) / scale) - 0.5) : 0;
    case 'align_corners':
      return m === 1 ? 0 : f(f(j * (n - 1)) / (m - 1));
    case 'tf_half_pixel_for_nn':
      return f(f(j + 0.5) / scale);
    default: // asymmetric
      return f(j / scale);
  }
}
function nearestIndex(mode: string, x: number, n: number): number {
  const fl = Math.floor(x);
  let i: number;
  if (mode === 'floor') i = fl;
  else if (mode === 'ceil') i = Math.ceil(x);
  else if (x - fl === 0.5) i = mode === 'round_prefer_floor' ? fl : fl + 1;
  else i = Math.round(x);
  return Math.min(Math.max(i, 0), n - 1);
}

/**
 * Resize (opsets 13–18): nearest (every nearest_mode), linear and cubic (separable: 1-D, bilinear,
 * bicubic, trilinear …; cubic_coeff_a, exclude_outside), with half_pixel, pytorch_half_pixel, align_corners, asymmetric or
 * tf_half_pixel_for_nn coordinates, from constant `scales` or `sizes` (any keep_aspect_ratio_policy,
 * opset 18's `axes`). Each resized axis is one gather (nearest) or one product with an
 * interpolation matrix (linear, cubic), built on the host, so gradients reach the input.
 */
function resizeOp(c: NodeCtx): Value[] {
  const x = dev(c, 0, 'X');
  const r = x.rank;
  const mode = aString(c, 'mode', 'nearest');
  const coord = aString(c, 'coordinate_transformation_mode', 'half_pixel');
  const nearest = aString(c, 'nearest_mode', 'round_prefer_floor');
  const policy = aString(c, 'keep_aspect_ratio_policy', 'stretch');
  const cubicA = aFloat(c, 'cubic_coeff_a', -0.75);
  const exclude = aInt(c, 'exclude_outside', 0) !== 0;
  const axesAttr = aInts(c, 'axes');
  const axes = axesAttr ? axesAttr.map((a) => normAxis(c, a, r, 'axes value')) : x.shape.map((_, i) => i);
  if (new Set(axes).size !== axes.length) throw new AxonError(c.op, `axes ${JSON.stringify(axesAttr)} repeat an axis`);
  const present = (i: number): boolean => {
    const v = optInput(c, i);
    return v !== undefined && sizeOf(v.shape) > 0;
  };
  if (present(2) === present(3)) throw new AxonError(c.op, `needs exactly one of scales (input 2) and sizes (input 3), got ${present(2) ? 'both' : 'neither'}`);
  const ins = x.shape.slice();
  const outs = x.shape.slice();
  const scales = x.shape.map(() => 1);
  if (present(2)) {
    const sc = Array.from(hostIn(c, 2, 'scales').data);
    if (sc.length !== axes.length) throw new AxonError(c.op, `scales ${JSON.stringify(sc)} must have ${axes.length} values (one per axis of X ${fmtShape(x.shape)}${axesAttr ? ' in axes' : ''})`);
    sc.forEach((v, k) => {
      if (!(v > 0) || !Number.isFinite(v)) throw new AxonError(c.op, `scales ${JSON.stringify(sc)} must be positive and finite`);
      const a = axes[k]!;
      scales[a] = Math.fround(v);
      outs[a] = Math.floor(Math.fround(ins[a]! * scales[a]!));
    });
  } else {
    const sz = hostInts(c, 3, 'sizes');
    if (sz.length !== axes.length) throw new AxonError(c.op, `sizes ${JSON.stringify(sz)} must have ${axes.length} values (one per axis of X ${fmtShape(x.shape)}${axesAttr ? ' in axes' : ''})`);
    if (sz.some((v) => !Number.isSafeInteger(v) || v < 1)) throw new AxonError(c.op, `sizes ${JSON.stringify(sz)} must be positive integers`);
    if (axes.some((a) => ins[a] === 0)) throw new AxonError(c.op, `cannot resize an empty axis of X ${fmtShape(x.shape)} to sizes ${JSON.stringify(sz)}`);
    if (policy === 'stretch') {
      axes.forEach((a, k) => {
        outs[a] = sz[k]!;
        scales[a] = Math.fround(sz[k]! / ins[a]!);
      });
    } else {
      const ratios = axes.map((a, k) => Math.fround(sz[k]! / ins[a]!));
      const s = policy === 'not_larger' ? Math.min(...ratios) : Math.max(...ratios);
      for (const a of axes) {
        scales[a] = s;
        outs[a] = Math.round(Math.fround(s * ins[a]!));
      }
    }
  }
  if (outs.some((o, a) => o < 1 && ins[a]! > 0)) throw new AxonError(c.op, `scales give an empty output ${fmtShape(outs)} for X ${fmtShape(x.shape)}`);
  checkSize(c, outs);
  let y = x;
  for (let a = 0; a < r; a++) {
    const n = ins[a]!;
    const m = outs[a]!;
    if (n === 0) continue;
    if (mode === 'nearest') {
      const idx = new Float64Array(m);
      for (let j = 0; j < m; j++) idx[j] = nearestIndex(nearest, resizeCoord(coord, j, scales[a]!, n, m), n);
      if (m === n && idx.every((v, j) => v === j)) continue;
      const it = devOf(c, hostValue('int', [m], idx));
      y = gather(y, it, a);
    } else {
      // y ← y ×_a Aᵀ with A [m, n]: row j holds the weights of output j
      const at = new Float64Array(n * m);
      for (let j = 0; j < m; j++) {
        if (mode === 'linear') {
          // two taps; the coordinate is clamped to the input (edge values beyond it)
          const src = Math.min(Math.max(resizeCoord(coord, j, scales[a]!, n, m), 0), n - 1);
          const i0 = Math.floor(src);
          const i1 = Math.min(i0 + 1, n - 1);
          const l = src - i0;
          at[i0 * m + j]! += 1 - l;
          at[i1 * m + j]! += l;
          continue;
        }
        // cubic: four taps around the unclamped coordinate; a tap outside the input reads the
        // edge, or (exclude_outside) gets weight 0 and the others are renormalized
        const src = resizeCoord(coord, j, scales[a]!, n, m);
        const x0 = Math.floor(src);
        const w = cubicWeights(Math.fround(src - x0), cubicA);
        let total = 0;
        for (let t = 0; t < 4; t++) {
          const i = x0 - 1 + t;
          if (exclude && (i < 0 || i >= n)) w[t] = 0;
          total += w[t]!;
        }
        for (let t = 0; t < 4; t++) {
          const i = Math.min(Math.max(x0 - 1 + t, 0), n - 1);
          at[i * m + j]! += exclude ? w[t]! / total : w[t]!;
        }
      }
      if (m === n && at.every((v, i) => v === (Math.floor(i / m) === i % m ? 1 : 0))) continue;
      const att = devOf(c, hostValue('float', [n, m], at));
      const perm = x.shape.map((_, d) => d).filter((d) => d !== a);
      perm.push(a);
      const inv = perm.map((_, d) => perm.indexOf(d));
      const yt = permute(y, perm);
      const prod = matmul(yt, att);
      c.temps.push(yt, prod);
      y = permute(prod, inv);
    }
    c.temps.push(y);
  }
  return [y];
}

// ------------------------------------------------------------------ recurrent
interface RnnIO {
  x: Tensor; // [T, B, I]
  w: Tensor; // [D, G·H, I]
  r: Tensor; // [D, G·H, H]
  b: Tensor | null; // [D, 2·G·H]
  h0: Tensor | null; // [D, B, H]
  c0: Tensor | null;
  hidden: number;
  dirs: number;
  reverseOnly: boolean;
  /** RNN: Relu instead of Tanh. */
  relu: boolean;
}
function rnnInputs(c: NodeCtx, gates: number): RnnIO {
  const x = dev(c, 0, 'X');
  const w = dev(c, 1, 'W');
  const r = dev(c, 2, 'R');
  const bv = optInput(c, 3);
  if (optInput(c, 4) !== undefined) throw new AxonError(c.op, 'sequence_lens is not supported (all sequences must have the full length)');
  const h0v = optInput(c, 5);
  const c0v = gates === 4 ? optInput(c, 6) : undefined;
  if (gates === 4 && optInput(c, 7) !== undefined) throw new AxonError(c.op, 'peephole weights (input P) are not supported');
  const hidden = aInt(c, 'hidden_size', -1);
  const direction = aString(c, 'direction', 'forward');
  if (!['forward', 'reverse', 'bidirectional'].includes(direction)) unsupportedValue(c, 'direction', direction, 'forward, reverse, bidirectional');
  const dirs = direction === 'bidirectional' ? 2 : 1;
  if (aInt(c, 'layout', 0) !== 0) unsupportedValue(c, 'layout', aInt(c, 'layout', 0), '0 ([T, B, I])');
  if (attr(c, 'clip')) unsupportedValue(c, 'clip', aFloat(c, 'clip', 0), 'none');
  if (aInt(c, 'input_forget', 0) !== 0) unsupportedValue(c, 'input_forget', 1, '0');
  const acts = aStrings(c, 'activations');
  let relu = false;
  if (gates === 1) {
    // RNN: one activation per direction, Tanh (default) or Relu for every direction
    relu = acts !== undefined && acts !== null && acts.length > 0 && acts[0] === 'Relu';
    if (acts && (acts.length !== dirs || acts.some((a, _, all) => a !== all[0] || (a !== 'Tanh' && a !== 'Relu')))) unsupportedValue(c, 'activations', acts, `Tanh or Relu, once per direction (${dirs})`);
  } else {
    const dflt = gates === 4 ? ['Sigmoid', 'Tanh', 'Tanh'] : ['Sigmoid', 'Tanh'];
    if (acts && acts.some((a, i) => a !== dflt[i % dflt.length])) unsupportedValue(c, 'activations', acts, dflt.join(', '));
  }
  if (x.rank !== 3) throw new AxonError(c.op, `X must be [seq_length, batch, input_size], got ${fmtShape(x.shape)}`);
  const [, B, I] = x.shape as [number, number, number];
  const H = hidden;
  const want = (t: Tensor | null, shape: number[], what: string): void => {
    if (t && (t.rank !== shape.length || t.shape.some((d, i) => d !== shape[i]))) throw new AxonError(c.op, `${what} must be ${fmtShape(shape)}, got ${fmtShape(t.shape)}`);
  };
  if (!(H > 0)) throw new AxonError(c.op, `hidden_size must be a positive integer, got ${H}`);
  want(w, [dirs, gates * H, I], 'W');
  want(r, [dirs, gates * H, H], 'R');
  const b = bv === undefined ? null : devOf(c, bv);
  want(b, [dirs, 2 * gates * H], 'B');
  const h0 = h0v === undefined ? null : devOf(c, h0v);
  const c0 = c0v === undefined ? null : devOf(c, c0v);
  want(h0, [dirs, B, H], 'initial_h');
  want(c0, [dirs, B, H], 'initial_c');
  return { x, w, r, b, h0, c0, hidden: H, dirs, reverseOnly: direction === 'reverse', relu };
}

function rnnRun(c: NodeCtx, gates: 1 | 3 | 4): Value[] {
  const io = rnnInputs(c, gates);
  const { x, hidden: H, dirs } = io;
  const [T, B] = x.shape as [number, number, number];
  const ys: Tensor[] = [];
  const hs: Tensor[] = [];
  const cs: Tensor[] = [];
  const lbr = gates === 3 ? aInt(c, 'linear_before_reset', 0) !== 0 : false;
  for (let d = 0; d < dirs; d++) {
    const reverse = io.reverseOnly || d === 1;
    const pick = (t: Tensor): Tensor => squeeze(slice(t, [d], [1]), 0);
    const w = pick(io.w); // [G·H, I]
    const r = pick(io.r); // [G·H, H]
    const bb = io.b ? pick(io.b) : null; // [2·G·H]
    const [wb, rb] = bb ? split(bb, [gates * H, gates * H], 0) : [null, null];
    // the input projection of every step at once: [T, B, G·H]
    let xw = matmul(x, permute(w, [1, 0]));
    if (wb) xw = add(xw, wb);
    const steps = T > 0 ? unbind(xw, 0) : [];
    let h = io.h0 ? pick(io.h0) : full([B, H], 0);
    let cell = gates === 4 ? (io.c0 ? pick(io.c0) : full([B, H], 0)) : null;
    const rt = permute(r, [1, 0]); // [H, G·H]
    const out: Tensor[] = new Array<Tensor>(T);
    for (let s = 0; s < T; s++) {
      const t = reverse ? T - 1 - s : s;
      const xt = steps[t]!;
      if (gates === 1) {
        let g = add(xt, matmul(h, rt));
        if (rb) g = add(g, rb);
        h = io.relu ? relu(g) : tanh(g);
      } else if (gates === 4) {
        let g = add(xt, matmul(h, rt));
        if (rb) g = add(g, rb);
        const [i, o, f, cc] = split(g, [H, H, H, H], 1) as [Tensor, Tensor, Tensor, Tensor];
        cell = add(mul(sigmoid(f), cell!), mul(sigmoid(i), tanh(cc)));
        h = mul(sigmoid(o), tanh(cell));
      } else {
        // one product for the three recurrent projections: [B, 3H] = h · Rᵀ (+ Rb)
        let hr3 = matmul(h, rt);
        if (rb) hr3 = add(hr3, rb);
        const [xz, xr, xh] = split(xt, [H, H, H], 1) as [Tensor, Tensor, Tensor];
        const [rz, rr, rh] = split(hr3, [H, H, H], 1) as [Tensor, Tensor, Tensor];
        const z = sigmoid(add(xz, rz));
        const rg = sigmoid(add(xr, rr));
        let cand: Tensor;
        if (lbr) cand = tanh(add(xh, mul(rg, rh)));
        else {
          // (r ⊙ h)·Rhᵀ + Rbh: the reset gate applies before the product
          const rhT = permute(slice(r, [2 * H, 0], [H, H]), [1, 0]);
          let hh = matmul(mul(rg, h), rhT);
          if (rb) hh = add(hh, slice(rb, [2 * H], [H]));
          cand = tanh(add(xh, hh));
        }
        h = add(mul(sub(1, z), cand), mul(z, h));
      }
      out[t] = h;
    }
    ys.push(T > 0 ? stack(out, 0) : full([0, B, H], 0)); // [T, B, H]
    hs.push(h);
    if (cell) cs.push(cell);
  }
  const y = stack(ys, 1); // [T, D, B, H]
  const res: Value[] = [y, stack(hs, 0)];
  if (gates === 4) res.push(stack(cs, 0));
  return res;
}

// ------------------------------------------------------------------ the table
const sameKindCast = (c: NodeCtx, v: Value, to: number): Value => {
  const kind = kindOf(to);
  if (kind === null) throw new AxonError(c.op, `cannot cast to ${dataTypeName(to)}`);
  if (isHost(v)) {
    const f = kind === 'int' ? (x: number) => Math.trunc(x) : kind === 'bool' ? (x: number) => (x ? 1 : 0) : (x: number) => x;
    return hostMap(c, [v], kind, f);
  }
  const dt = dtypeOf(kind);
  if (v.dtype === dt) return v;
  return astype(v, dt);
};

function softmaxOp(f: (x: Tensor, axis: number) => Tensor): OpSpec {
  return { attrs: { axis: 'int' }, run: (c) => { const x = dev(c, 0, 'input'); return [f(x, normAxis(c, aInt(c, 'axis', -1), x.rank))]; } };
}

function argOp(f: (x: Tensor, axis: number, keep: boolean) => Tensor): OpSpec {
  return {
    attrs: { axis: 'int', keepdims: 'int', select_last_index: 'int' },
    run: (c) => {
      const x = dev(c, 0, 'data');
      if (aInt(c, 'select_last_index', 0) !== 0) unsupportedValue(c, 'select_last_index', 1, '0 (the first index of the extreme value)');
      return [f(x, normAxis(c, aInt(c, 'axis', 0), x.rank), aInt(c, 'keepdims', 1) !== 0)];
    },
  };
}

/** The operators and the attributes each accepts, with their types. @internal */
export const OPS: Readonly<Record<string, OpSpec>> = {
  Identity: { attrs: {}, run: (c) => [input(c, 0, 'input')] },
  Dropout: {
    attrs: { seed: 'int' },
    run: (c) => {
      if (c.node.output && c.node.output.length > 1 && c.node.output[1]) throw new AxonError(c.op, 'the mask output of Dropout is not supported');
      const t = optInput(c, 2);
      if (t !== undefined && (!isHost(t) || t.data[0] !== 0)) throw new AxonError(c.op, 'training_mode must be a constant false: Axon imports Dropout for inference (the identity)');
      return [input(c, 0, 'data')];
    },
  },
  Neg: unary(neg, (x) => -x),
  Abs: unary(abs, Math.abs),
  Exp: unary(exp),
  Log: unary(log),
  Sqrt: unary(sqrt),
  Reciprocal: unary(reciprocal),
  Sin: unary(sin),
  Cos: unary(cos),
  Tanh: unary(tanh),
  Erf: unary(erf),
  Sigmoid: unary(sigmoid),
  Relu: unary(relu, (x) => Math.max(x, 0)),
  Floor: unary(floor, Math.floor),
  Ceil: unary(ceil, Math.ceil),
  Round: unary(round),
  Not: unary(logicalNot, (x) => (x ? 0 : 1)),
  Softplus: unary((x) => add(relu(x), log(add(exp(neg(abs(x))), 1)))),
  LeakyRelu: { attrs: { alpha: 'float' }, run: (c) => [leakyRelu(dev(c, 0, 'X'), aFloat(c, 'alpha', 0.01))] },
  Elu: { attrs: { alpha: 'float' }, run: (c) => [elu(dev(c, 0, 'X'), aFloat(c, 'alpha', 1))] },
  Clip: {
    attrs: {},
    run: (c) => {
      let x = dev(c, 0, 'input');
      const lo = optInput(c, 1);
      const hi = optInput(c, 2);
      if (lo !== undefined) x = maximum(x, devOf(c, lo));
      if (hi !== undefined) x = minimum(x, devOf(c, hi));
      return [x];
    },
  },
  Add: binary(add, (a, b) => a + b),
  Sub: binary(sub, (a, b) => a - b),
  Mul: binary(mul, (a, b) => a * b),
  Div: binary(div, (a, b) => a / b),
  Pow: {
    attrs: {},
    run: (c) => {
      const a = input(c, 0, 'X');
      const b = input(c, 1, 'Y');
      if (isHost(a) && isHost(b)) return [hostMap(c, [a, b], a.kind, Math.pow)];
      // a scalar constant exponent stays a number (PyTorch exports x.pow(2) with a float constant)
      if (isHost(b) && b.data.length === 1) return [pow(devOf(c, a), b.data[0]!)];
      return [pow(devOf(c, a), devOf(c, b))];
    },
  },
  Max: variadic(maximum, Math.max),
  Min: variadic(minimum, Math.min),
  Sum: variadic(add, (a, b) => a + b),
  Mean: {
    attrs: {},
    run: (c) => {
      const xs = c.inputs.filter((v): v is Value => v !== undefined).map((v) => devOf(c, v));
      return [div(xs.slice(1).reduce((a, b) => add(a, b), xs[0]!), xs.length)];
    },
  },
  Sign: unary(sign, Math.sign),
  Mod: {
    attrs: { fmod: 'int' },
    run: (c) => {
      const a = input(c, 0, 'A');
      const b = input(c, 1, 'B');
      const fmod = aInt(c, 'fmod', 0) !== 0;
      const py = (x: number, y: number): number => x - Math.floor(x / y) * y;
      if (isHost(a) && isHost(b)) return [hostMap(c, [a, b], a.kind, fmod ? (x, y) => x % y : py)];
      if (kindOfValue(a) !== kindOfValue(b)) throw new AxonError(c.op, `inputs have different types (${kindOfValue(a)} and ${kindOfValue(b)})`);
      if (fmod) {
        // C's fmod: the sign of the dividend, a − trunc(a / b)·b
        const x = devOf(c, a);
        const y = devOf(c, b);
        if (x.dtype !== 'float32') throw new AxonError(c.op, 'fmod=1 is supported for float inputs only');
        const q = div(x, y);
        return [sub(x, mul(where(lt(q, 0), ceil(q), floor(q)), y))];
      }
      if (kindOfValue(a) === 'float') throw new AxonError(c.op, 'ONNX requires fmod=1 for float inputs');
      return [mod(devOf(c, a), devOf(c, b))];
    },
  },
  ArgMax: argOp(argmax),
  ArgMin: argOp(argmin),
  Equal: binary(eq, (a, b) => (a === b ? 1 : 0), 'bool'),
  Less: binary(lt, (a, b) => (a < b ? 1 : 0), 'bool'),
  LessOrEqual: binary(le, (a, b) => (a <= b ? 1 : 0), 'bool'),
  Greater: binary(gt, (a, b) => (a > b ? 1 : 0), 'bool'),
  GreaterOrEqual: binary(ge, (a, b) => (a >= b ? 1 : 0), 'bool'),
  And: binary(logicalAnd, (a, b) => (a && b ? 1 : 0), 'bool'),
  Or: binary(logicalOr, (a, b) => (a || b ? 1 : 0), 'bool'),
  Xor: binary(logicalXor, (a, b) => (!a !== !b ? 1 : 0), 'bool'),
  Where: {
    attrs: {},
    run: (c) => {
      const cond = input(c, 0, 'condition');
      const a = input(c, 1, 'X');
      const b = input(c, 2, 'Y');
      if (isHost(cond) && isHost(a) && isHost(b)) return [hostMap(c, [cond, a, b], a.kind, (p, x, y) => (p ? x : y))];
      return [where(devOf(c, cond), devOf(c, a), devOf(c, b))];
    },
  },
  Cast: { attrs: { to: 'int', saturate: 'int' }, run: (c) => [sameKindCast(c, input(c, 0, 'input'), aInt(c, 'to', 0))] },
  CastLike: { attrs: { saturate: 'int' }, run: (c) => {
    const t = input(c, 1, 'target_type');
    const kind = kindOfValue(t);
    return [sameKindCast(c, input(c, 0, 'input'), kind === 'float' ? 1 : kind === 'int' ? 7 : 9)];
  } },
  ReduceSum: reduce((x, a, k) => sum(x, a, k), (p, q) => p + q, 0),
  ReduceMean: reduce(meanReducer, (p, q) => p + q, 0),
  ReduceMax: reduce((x, a, k) => max(x, a, k), Math.max, -Infinity),
  ReduceMin: reduce((x, a, k) => min(x, a, k), Math.min, Infinity),
  ReduceProd: reduce((x, a, k) => prod(x, a, k), (p, q) => p * q, 1),
  Softmax: softmaxOp(softmax),
  LogSoftmax: softmaxOp(logSoftmax),
  MatMul: {
    attrs: {},
    run: (c) => {
      const a = dev(c, 0, 'A');
      const b = dev(c, 1, 'B');
      if (a.rank === 1 || b.rank === 1) {
        const a2 = a.rank === 1 ? reshape(a, [1, a.shape[0]!]) : a;
        const b2 = b.rank === 1 ? reshape(b, [b.shape[0]!, 1]) : b;
        const y = matmul(a2, b2);
        let shape = y.shape.slice();
        if (b.rank === 1) shape = shape.slice(0, -1);
        if (a.rank === 1) shape.splice(shape.length - (b.rank === 1 ? 1 : 2), 1);
        return [reshape(y, shape)];
      }
      return [matmul(a, b)];
    },
  },
  Gemm: {
    attrs: { alpha: 'float', beta: 'float', transA: 'int', transB: 'int' },
    run: (c) => {
      let a = dev(c, 0, 'A');
      let b = dev(c, 1, 'B');
      if (a.rank !== 2 || b.rank !== 2) throw new AxonError(c.op, `A and B must be matrices, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
      if (aInt(c, 'transA', 0)) a = permute(a, [1, 0]);
      if (aInt(c, 'transB', 0)) b = permute(b, [1, 0]);
      let y = matmul(a, b);
      const alpha = aFloat(c, 'alpha', 1);
      const beta = aFloat(c, 'beta', 1);
      if (alpha !== 1) y = mul(y, alpha);
      const cIn = optInput(c, 2);
      if (cIn !== undefined && beta !== 0) y = add(y, beta === 1 ? devOf(c, cIn) : mul(devOf(c, cIn), beta));
      return [y];
    },
  },
  Reshape: {
    hostInputs: [1],
    attrs: { allowzero: 'int' },
    run: (c) => {
      const x = input(c, 0, 'data');
      const target = hostInts(c, 1, 'shape');
      const allowZero = aInt(c, 'allowzero', 0) !== 0;
      const shape = target.map((d, i) => (d === 0 && !allowZero ? (x.shape[i] ?? NaN) : d));
      const inferred = shape.filter((d) => d === -1).length;
      if (inferred > 1 || shape.some((d) => Number.isNaN(d) || d < -1)) throw new AxonError(c.op, `invalid target shape ${JSON.stringify(target)} for input ${fmtShape(x.shape)}`);
      if (inferred) {
        const known = shape.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
        const total = sizeOf(x.shape);
        if (known === 0 || total % known !== 0) throw new AxonError(c.op, `cannot reshape ${fmtShape(x.shape)} to ${JSON.stringify(target)}`);
        shape[shape.indexOf(-1)] = total / known;
      }
      return [reshapeValue(c, x, shape)];
    },
  },
  Flatten: {
    attrs: { axis: 'int' },
    run: (c) => {
      const x = input(c, 0, 'input');
      const r = x.shape.length;
      const axis = aInt(c, 'axis', 1);
      if (axis < -r || axis > r) throw new AxonError(c.op, `axis ${axis} is out of range for rank ${r}`);
      const a = axis < 0 ? axis + r : axis;
      return [reshapeValue(c, x, [sizeOf(x.shape.slice(0, a)), sizeOf(x.shape.slice(a))])];
    },
  },
  Transpose: {
    attrs: { perm: 'ints' },
    run: (c) => {
      const x = input(c, 0, 'data');
      const r = x.shape.length;
      const perm = aInts(c, 'perm') ?? x.shape.map((_, i) => r - 1 - i);
      if (perm.length !== r || new Set(perm.map((p) => normAxis(c, p, r, 'perm entry'))).size !== r) throw new AxonError(c.op, `perm ${JSON.stringify(perm)} is not a permutation of ${r} axes`);
      const p = perm.map((q) => (q < 0 ? q + r : q));
      return [isHost(x) ? hostPermute(x, p) : permute(x, p)];
    },
  },
  Squeeze: {
    hostInputs: [1],
    attrs: { axes: 'ints' },
    run: (c) => {
      const x = input(c, 0, 'data');
      const r = x.shape.length;
      const given = optInput(c, 1) !== undefined ? hostInts(c, 1, 'axes') : aInts(c, 'axes');
      const axes = given ? given.map((a) => normAxis(c, a, r)) : x.shape.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0);
      for (const a of axes) if (x.shape[a] !== 1) throw new AxonError(c.op, `cannot squeeze axis ${a} of ${fmtShape(x.shape)} (size ${x.shape[a]}, not 1)`);
      return [reshapeValue(c, x, x.shape.filter((_, i) => !axes.includes(i)))];
    },
  },
  Unsqueeze: {
    hostInputs: [1],
    attrs: { axes: 'ints' },
    run: (c) => {
      const x = input(c, 0, 'data');
      const given = optInput(c, 1) !== undefined ? hostInts(c, 1, 'axes') : aInts(c, 'axes');
      if (!given) throw new AxonError(c.op, 'needs axes');
      const r = x.shape.length + given.length;
      const axes = given.map((a) => normAxis(c, a, r));
      if (new Set(axes).size !== axes.length) throw new AxonError(c.op, `axes ${JSON.stringify(given)} repeat an axis`);
      const shape: number[] = [];
      let k = 0;
      for (let i = 0; i < r; i++) shape.push(axes.includes(i) ? 1 : x.shape[k++]!);
      return [reshapeValue(c, x, shape)];
    },
  },
  Slice: {
    hostInputs: [1, 2, 3, 4],
    attrs: {},
    run: (c) => {
      const x = input(c, 0, 'data');
      const r = x.shape.length;
      const starts = hostInts(c, 1, 'starts');
      const ends = hostInts(c, 2, 'ends');
      const axes = optInput(c, 3) !== undefined ? hostInts(c, 3, 'axes') : starts.map((_, i) => i);
      const steps = optInput(c, 4) !== undefined ? hostInts(c, 4, 'steps') : starts.map(() => 1);
      if (ends.length !== starts.length || axes.length !== starts.length || steps.length !== starts.length) throw new AxonError(c.op, `starts, ends, axes and steps must have the same length, got ${starts.length}, ${ends.length}, ${axes.length}, ${steps.length}`);
      const begin = x.shape.map(() => 0);
      const count = x.shape.slice();
      const st = x.shape.map(() => 1);
      const seen = new Set<number>();
      for (let i = 0; i < starts.length; i++) {
        const a = normAxis(c, axes[i]!, r);
        if (seen.has(a)) throw new AxonError(c.op, `axis ${a} repeats in axes`);
        seen.add(a);
        if (steps[i] === 0) throw new AxonError(c.op, 'steps must not be 0');
        const clampInf = (v: number): number => Math.max(Math.min(v, 2 ** 53), -(2 ** 53));
        const [b, n] = sliceAxis(x.shape[a]!, clampInf(starts[i]!), clampInf(ends[i]!), steps[i]!);
        begin[a] = b;
        count[a] = n;
        st[a] = steps[i]!;
      }
      return [sliceValue(c, x, begin, count, st)];
    },
  },
  Concat: {
    attrs: { axis: 'int' },
    run: (c) => {
      const xs = c.inputs.filter((v): v is Value => v !== undefined);
      if (xs.length === 0) throw new AxonError(c.op, 'needs at least one input');
      const r = xs[0]!.shape.length;
      const axis = normAxis(c, aInt(c, 'axis', 0), r);
      if (allHost(xs)) return [hostConcat(c, xs, axis)];
      return [concat(xs.map((x) => devOf(c, x)), axis)];
    },
  },
  Split: {
    hostInputs: [1],
    attrs: { axis: 'int', split: 'ints', num_outputs: 'int' },
    run: (c) => {
      const x = dev(c, 0, 'input');
      const axis = normAxis(c, aInt(c, 'axis', 0), x.rank);
      const nOut = (c.node.output ?? []).length;
      const dim = x.shape[axis]!;
      let sizes = optInput(c, 1) !== undefined ? hostInts(c, 1, 'split') : aInts(c, 'split');
      if (!sizes) {
        const k = Math.ceil(dim / nOut);
        sizes = Array.from({ length: nOut }, (_, i) => Math.max(0, Math.min(k, dim - i * k)));
      }
      if (sizes.length !== nOut || sizes.reduce((a, b) => a + b, 0) !== dim || sizes.some((s) => s < 0)) throw new AxonError(c.op, `split sizes ${JSON.stringify(sizes)} do not divide axis ${axis} of ${fmtShape(x.shape)} into ${nOut} outputs`);
      return split(x, sizes, axis);
    },
  },
  Expand: {
    hostInputs: [1],
    attrs: {},
    run: (c) => {
      const x = input(c, 0, 'input');
      const target = hostInts(c, 1, 'shape');
      const shape = broadcastShape(c, [x.shape, target]);
      checkSize(c, shape);
      if (isHost(x)) return [hostValue(x.kind, shape, broadcastData(x, shape))];
      const xr = x.rank < shape.length ? reshape(x, [...new Array<number>(shape.length - x.rank).fill(1), ...x.shape]) : x;
      return [expand(xr, shape)];
    },
  },
  Tile: {
    hostInputs: [1],
    attrs: {},
    run: (c) => {
      const x = dev(c, 0, 'input');
      const reps = hostInts(c, 1, 'repeats');
      checkSize(c, x.shape.map((d, i) => d * (reps[i] ?? 1)));
      return [tile(x, reps)];
    },
  },
  Gather: {
    attrs: { axis: 'int' },
    run: (c) => {
      const x = input(c, 0, 'data');
      const idx = input(c, 1, 'indices');
      const axis = normAxis(c, aInt(c, 'axis', 0), x.shape.length);
      const n = x.shape[axis]!;
      if (isHost(idx)) {
        for (const j of idx.data) if (!(j >= -n && j < n)) throw new AxonError(c.op, `index ${j} is out of range for axis ${axis} of ${fmtShape(x.shape)}`);
        const norm = hostValue('int', idx.shape, idx.data.map((j) => (j < 0 ? j + n : j)));
        if (isHost(x)) return [hostTake(x, norm, axis)];
        return [gather(x, devOf(c, norm), axis)];
      }
      if (idx.dtype !== 'int32') throw new AxonError(c.op, `indices must be integers, got ${idx.dtype}`);
      // negative indices count from the end (the gather itself checks the range)
      const fixed = where(lt(idx, 0), add(idx, n), idx);
      return [gather(devOf(c, x), fixed, axis)];
    },
  },
  GatherElements: {
    attrs: { axis: 'int' },
    run: (c) => {
      const x = dev(c, 0, 'data');
      const idxV = input(c, 1, 'indices');
      const r = x.rank;
      const axis = normAxis(c, aInt(c, 'axis', 0), r);
      const ishape = idxV.shape;
      if (ishape.length !== r || ishape.some((d, i) => i !== axis && d > x.shape[i]!)) throw new AxonError(c.op, `indices ${fmtShape(ishape)} must have the rank of data ${fmtShape(x.shape)} and no larger dimension off the axis`);
      checkSize(c, ishape);
      // out[p] = x[p with p[axis] = indices[p]]: one gather from the flattened data at
      // indices·stride[axis] + (the offset of p without its axis coordinate), computed on the host
      const xs = contiguousStrides(x.shape);
      const is = contiguousStrides(ishape);
      const n = sizeOf(ishape);
      const base = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        let off = 0;
        for (let a = 0; a < r; a++) if (a !== axis) off += (Math.floor(i / is[a]!) % ishape[a]!) * xs[a]!;
        base[i] = off;
      }
      const dim = x.shape[axis]!;
      let lin: Tensor;
      if (isHost(idxV)) {
        const d = idxV.data.map((j, i) => {
          if (!(j >= -dim && j < dim)) throw new AxonError(c.op, `index ${j} is out of range for axis ${axis} of ${fmtShape(x.shape)}`);
          return (j < 0 ? j + dim : j) * xs[axis]! + base[i]!;
        });
        lin = devOf(c, hostValue('int', ishape, d));
      } else {
        if (idxV.dtype !== 'int32') throw new AxonError(c.op, `indices must be integers, got ${idxV.dtype}`);
        const j = where(lt(idxV, 0), add(idxV, dim), idxV);
        lin = add(mul(j, xs[axis]!), devOf(c, hostValue('int', ishape, base)));
      }
      return [gather(reshape(x, [sizeOf(x.shape)]), lin, 0)];
    },
  },
  Pad: {
    hostInputs: [1, 2, 3],
    attrs: { mode: 'string' },
    run: (c) => {
      const x = dev(c, 0, 'data');
      const mode = aString(c, 'mode', 'constant');
      if (mode !== 'constant') unsupportedValue(c, 'mode', mode, 'constant');
      const p = hostInts(c, 1, 'pads');
      const cv = optInput(c, 2);
      const value = cv === undefined ? 0 : hostIn(c, 2, 'constant_value').data[0] ?? 0;
      const r = x.rank;
      const axes = optInput(c, 3) !== undefined ? hostInts(c, 3, 'axes').map((a) => normAxis(c, a, r)) : x.shape.map((_, i) => i);
      if (p.length !== 2 * axes.length) throw new AxonError(c.op, `pads has ${p.length} values, expected ${2 * axes.length}`);
      const pp: [number, number][] = x.shape.map(() => [0, 0]);
      axes.forEach((a, i) => (pp[a] = [p[i]!, p[i + axes.length]!]));
      // negative pads crop
      const begin = pp.map(([b]) => Math.max(0, -b));
      const count = x.shape.map((d, i) => d - begin[i]! - Math.max(0, -pp[i]![1]));
      if (count.some((n) => n < 0)) throw new AxonError(c.op, `pads ${JSON.stringify(p)} crop more than ${fmtShape(x.shape)} holds`);
      const cropped = begin.some((b) => b > 0) || count.some((n, i) => n !== x.shape[i]) ? slice(x, begin, count) : x;
      const outShape = cropped.shape.map((d, i) => d + Math.max(0, pp[i]![0]) + Math.max(0, pp[i]![1]));
      checkSize(c, outShape);
      return [pad(cropped, pp.map(([b, e]) => [Math.max(0, b), Math.max(0, e)] as [number, number]), value)];
    },
  },
  Shape: {
    attrs: { start: 'int', end: 'int' },
    run: (c) => {
      const x = input(c, 0, 'data');
      const r = x.shape.length;
      const clampAxis = (a: number): number => Math.min(Math.max(a < 0 ? a + r : a, 0), r);
      const s = clampAxis(aInt(c, 'start', 0));
      const e = attr(c, 'end') ? clampAxis(aInt(c, 'end', r)) : r;
      const dims = x.shape.slice(s, Math.max(s, e));
      return [hostValue('int', [dims.length], Float64Array.from(dims))];
    },
  },
  Size: { attrs: {}, run: (c) => [hostValue('int', [], Float64Array.of(sizeOf(input(c, 0, 'data').shape)))] },
  Constant: {
    attrs: { value: 'tensor', value_float: 'float', value_floats: 'floats', value_int: 'int', value_ints: 'ints' },
    run: (c) => {
      const a = c.attrs;
      if (a.size !== 1) throw new AxonError(c.op, `needs exactly one of value, value_float, value_floats, value_int, value_ints (sparse and string values are not supported), got ${[...a.keys()].join(', ') || 'none'}`);
      if (a.has('value')) return [decodeTensor(c.op, 'value', a.get('value')!.t ?? {})];
      if (a.has('value_float')) return [hostValue('float', [], Float64Array.of(aFloat(c, 'value_float', 0)))];
      if (a.has('value_int')) return [hostValue('int', [], Float64Array.of(aInt(c, 'value_int', 0)))];
      if (a.has('value_floats')) return [hostValue('float', [a.get('value_floats')!.floats?.length ?? 0], Float64Array.from(a.get('value_floats')!.floats ?? []))];
      const v = aInts(c, 'value_ints')!;
      return [hostValue('int', [v.length], Float64Array.from(v))];
    },
  },
  ConstantOfShape: {
    hostInputs: [0],
    attrs: { value: 'tensor' },
    run: (c) => {
      const shape = hostInts(c, 0, 'input');
      checkSize(c, shape);
      const t = attr(c, 'value')?.t;
      const v = t ? decodeTensor(c.op, 'value', t) : hostValue('float', [1], Float64Array.of(0));
      if (v.data.length !== 1) throw new AxonError(c.op, `value must hold one element, got ${fmtShape(v.shape)}`);
      const n = sizeOf(shape);
      if (n <= 65536) return [hostValue(v.kind, shape, new Float64Array(n).fill(v.data[0]!))];
      return [full(shape, v.data[0]!, dtypeOf(v.kind))];
    },
  },
  Range: {
    hostInputs: [0, 1, 2],
    attrs: {},
    run: (c) => {
      const s = hostIn(c, 0, 'start');
      const l = hostIn(c, 1, 'limit');
      const d = hostIn(c, 2, 'delta');
      const [a, b, st] = [s.data[0]!, l.data[0]!, d.data[0]!];
      if (st === 0) throw new AxonError(c.op, 'delta must not be 0');
      const n = Math.max(Math.ceil((b - a) / st), 0);
      checkSize(c, [n]);
      return [hostValue(s.kind, [n], Float64Array.from({ length: n }, (_, i) => a + i * st))];
    },
  },
  Trilu: {
    hostInputs: [1],
    attrs: { upper: 'int' },
    run: (c) => {
      const x = dev(c, 0, 'input');
      const kIn = optInput(c, 1);
      const k = kIn === undefined ? 0 : hostIn(c, 1, 'k').data[0]!;
      return [aInt(c, 'upper', 1) ? triu(x, k) : tril(x, k)];
    },
  },
  Conv: { attrs: { auto_pad: 'string', dilations: 'ints', group: 'int', kernel_shape: 'ints', pads: 'ints', strides: 'ints' }, check: (c) => checkWindowAttrs(c, false), run: (c) => convOp(c, false) },
  ConvTranspose: {
    attrs: { auto_pad: 'string', dilations: 'ints', group: 'int', kernel_shape: 'ints', pads: 'ints', strides: 'ints', output_padding: 'ints', output_shape: 'ints' },
    check: (c) => checkWindowAttrs(c, false),
    run: (c) => convOp(c, true),
  },
  MaxPool: { attrs: { auto_pad: 'string', ceil_mode: 'int', dilations: 'ints', kernel_shape: 'ints', pads: 'ints', storage_order: 'int', strides: 'ints' }, check: (c) => checkWindowAttrs(c, true), run: (c) => poolOp(c, 'max') },
  AveragePool: { attrs: { auto_pad: 'string', ceil_mode: 'int', count_include_pad: 'int', dilations: 'ints', kernel_shape: 'ints', pads: 'ints', strides: 'ints' }, check: (c) => checkWindowAttrs(c, true), run: (c) => poolOp(c, 'avg') },
  Resize: {
    hostInputs: [1, 2, 3],
    attrs: { antialias: 'int', axes: 'ints', coordinate_transformation_mode: 'string', cubic_coeff_a: 'float', exclude_outside: 'int', extrapolation_value: 'float', keep_aspect_ratio_policy: 'string', mode: 'string', nearest_mode: 'string' },
    check: checkResizeAttrs,
    run: resizeOp,
  },
  GlobalAveragePool: { attrs: {}, run: (c) => { const x = dev(c, 0, 'X'); return [mean(x, x.shape.map((_, i) => i).slice(2), true)]; } },
  GlobalMaxPool: { attrs: {}, run: (c) => { const x = dev(c, 0, 'X'); return [max(x, x.shape.map((_, i) => i).slice(2), true)]; } },
  BatchNormalization: {
    attrs: { epsilon: 'float', momentum: 'float', training_mode: 'int' },
    run: (c) => {
      if (aInt(c, 'training_mode', 0) !== 0) unsupportedValue(c, 'training_mode', 1, '0 (inference: running statistics)');
      const x = dev(c, 0, 'X');
      if (x.rank < 2) throw new AxonError(c.op, `X must have a channel axis, got ${fmtShape(x.shape)}`);
      const C = x.shape[1]!;
      const bshape = [C, ...new Array<number>(x.rank - 2).fill(1)];
      const param = (i: number, what: string): Tensor => {
        const t = dev(c, i, what);
        if (t.rank !== 1 || t.shape[0] !== C) throw new AxonError(c.op, `${what} must be [${C}], got ${fmtShape(t.shape)}`);
        return reshape(t, bshape);
      };
      const [scale, bias, m, v] = [param(1, 'scale'), param(2, 'B'), param(3, 'input_mean'), param(4, 'input_var')];
      const eps = aFloat(c, 'epsilon', 1e-5);
      const k = mul(scale, reciprocal(sqrt(add(v, eps))));
      return [add(mul(sub(x, m), k), bias)];
    },
  },
  LayerNormalization: {
    attrs: { axis: 'int', epsilon: 'float', stash_type: 'int' },
    run: (c) => {
      const outs = c.node.output ?? [];
      if (outs.slice(1).some((o) => o)) throw new AxonError(c.op, 'the Mean and InvStdDev outputs are not supported');
      const x = dev(c, 0, 'X');
      const axis = normAxis(c, aInt(c, 'axis', -1), x.rank);
      const axes = x.shape.map((_, i) => i).slice(axis);
      const mu = mean(x, axes, true);
      const d = sub(x, mu);
      const v = mean(mul(d, d), axes, true);
      let y = mul(d, reciprocal(sqrt(add(v, aFloat(c, 'epsilon', 1e-5)))));
      y = mul(y, dev(c, 1, 'Scale'));
      const b = optInput(c, 2);
      if (b !== undefined) y = add(y, devOf(c, b));
      return [y];
    },
  },
  LSTM: {
    attrs: { activation_alpha: 'floats', activation_beta: 'floats', activations: 'strings', clip: 'float', direction: 'string', hidden_size: 'int', input_forget: 'int', layout: 'int' },
    run: (c) => rnnRun(c, 4),
  },
  GRU: {
    attrs: { activation_alpha: 'floats', activation_beta: 'floats', activations: 'strings', clip: 'float', direction: 'string', hidden_size: 'int', linear_before_reset: 'int', layout: 'int' },
    run: (c) => rnnRun(c, 3),
  },
  RNN: {
    attrs: { activation_alpha: 'floats', activation_beta: 'floats', activations: 'strings', clip: 'float', direction: 'string', hidden_size: 'int', layout: 'int' },
    run: (c) => rnnRun(c, 1),
  },
};

/** The supported operator types, sorted. @internal */
export const SUPPORTED_OPS: readonly string[] = Object.keys(OPS).sort();

/** Checks a node's attributes: known to the op, each of the declared type. @internal */
export function checkAttributes(op: string, opType: string, node: NodeProto): Map<string, AttributeProto> {
  const spec = OPS[opType]!;
  const out = new Map<string, AttributeProto>();
  for (const a of node.attribute ?? []) {
    const name = a.name ?? '';
    const want = spec.attrs[name];
    if (want === undefined) {
      const known = Object.keys(spec.attrs);
      throw new AxonError(op, `has attribute '${name}', which Axon does not support for ${opType} (supported: ${known.length ? known.join(', ') : 'none'})`);
    }
    if (a.refAttrName) throw new AxonError(op, `attribute '${name}' refers to a function attribute, which is not supported`);
    const code = a.type ?? 0;
    if (code !== ATTR_CODES[want]) {
      throw new AxonError(op, `attribute '${name}' has type ${ATTR_NAMES[code] ?? code}, expected ${ATTR_NAMES[ATTR_CODES[want]]}`);
    }
    if (out.has(name)) throw new AxonError(op, `attribute '${name}' is given twice`);
    out.set(name, a);
  }
  spec.check?.({ op, attrs: out });
  return out;
}

/** Whether a value is a device tensor. @internal */
export function isDevice(v: Value): v is Tensor {
  return isTensor(v);
}
