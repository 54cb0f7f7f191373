/**
 * Host values of the ONNX interpreter: initializer decoding (checked before any allocation) and the
 * small constant tensors that shape subgraphs compute on (Shape, Gather, Concat, Unsqueeze, …).
 * @internal
 */
import { AxonError, type DType, type Tensor, fmtShape, tensor } from '@axon/core';
import { f16BitsToF32 } from '@axon/layers';
import { DataType, type TensorProto, int64 } from './proto.js';

/** The element kind of a host value: ONNX's float types, integer types and bool. @internal */
export type HostKind = 'float' | 'int' | 'bool';

/** A constant tensor held on the host (as float64 numbers). @internal */
export interface HostValue {
  readonly host: true;
  readonly kind: HostKind;
  readonly shape: readonly number[];
  readonly data: Float64Array;
}

/** A value of the interpreter: a device tensor, or a host constant. @internal */
export type Value = Tensor | HostValue;

/** The most elements one initializer, constant or shape-computed value may hold: 2^28. */
export const MAX_TENSOR_ELEMENTS = 2 ** 28;

/** @internal */
export function isHost(v: Value): v is HostValue {
  return (v as HostValue).host === true;
}

/** @internal */
export function hostValue(kind: HostKind, shape: readonly number[], data: Float64Array): HostValue {
  return { host: true, kind, shape, data };
}

const SIZE: Record<number, number> = {
  [DataType.FLOAT]: 4,
  [DataType.UINT8]: 1,
  [DataType.INT8]: 1,
  [DataType.UINT16]: 2,
  [DataType.INT16]: 2,
  [DataType.INT32]: 4,
  [DataType.INT64]: 8,
  [DataType.BOOL]: 1,
  [DataType.FLOAT16]: 2,
  [DataType.DOUBLE]: 8,
  [DataType.UINT32]: 4,
  [DataType.UINT64]: 8,
  [DataType.BFLOAT16]: 2,
};

const NAMES: Record<number, string> = Object.fromEntries(Object.entries(DataType).map(([k, v]) => [v, k]));

/** The ONNX name of a data type code (`FLOAT`, `INT64`, …). @internal */
export function dataTypeName(code: number): string {
  return NAMES[code] ?? `code ${code}`;
}

/** The host kind of an ONNX data type, or null when Axon has no counterpart (strings, complex, float8). @internal */
export function kindOf(code: number): HostKind | null {
  switch (code) {
    case DataType.FLOAT:
    case DataType.DOUBLE:
    case DataType.FLOAT16:
    case DataType.BFLOAT16:
      return 'float';
    case DataType.BOOL:
      return 'bool';
    case DataType.UINT8:
    case DataType.INT8:
    case DataType.UINT16:
    case DataType.INT16:
    case DataType.INT32:
    case DataType.INT64:
    case DataType.UINT32:
    case DataType.UINT64:
      return 'int';
    default:
      return null;
  }
}

/** The Axon dtype a host kind runs as on a backend. @internal */
export function dtypeOf(kind: HostKind): DType {
  return kind === 'float' ? 'float32' : kind === 'int' ? 'int32' : 'bool';
}

/** Checks dims (non-negative safe integers, at most {@link MAX_TENSOR_ELEMENTS} elements) and returns them with the element count. @internal */
export function checkDims(op: string, what: string, raw: readonly unknown[]): { dims: number[]; size: number } {
  const dims: number[] = [];
  let size = 1;
  for (const d of raw) {
    const n = int64(op, `${what}: dimension`, d as number);
    if (!Number.isSafeInteger(n) || n < 0) throw new AxonError(op, `${what} has a negative or invalid dimension ${String(d)}; dimensions must be ≥ 0`);
    dims.push(n);
  }
  for (const n of dims) {
    size *= n;
    if (size > MAX_TENSOR_ELEMENTS) break;
  }
  if (dims.includes(0)) size = 0;
  if (size > MAX_TENSOR_ELEMENTS) {
    throw new AxonError(op, `${what} declares dims ${fmtShape(dims)}, more than ${MAX_TENSOR_ELEMENTS} elements (2^28, the limit of one ONNX tensor in Axon); nothing was allocated`);
  }
  return { dims, size };
}


const bf = new DataView(new ArrayBuffer(4));
function bf16ToFloat(b: number): number {
  bf.setUint32(0, (b & 0xffff) << 16, true);
  return bf.getFloat32(0, true);
}

/**
 * Decodes a TensorProto (an initializer or a Constant's value) into float64 numbers after checking
 * its data type, its dims and that the stored data has exactly dims × element size (so hostile
 * sizes fail before anything is allocated). External data is refused.
 * @internal
 */
export function decodeTensor(op: string, what: string, t: TensorProto): HostValue {
  const { kind, dims, data } = readTensor(op, what, t, (n) => new Float64Array(n));
  return hostValue(kind, dims, data);
}

/**
 * Checks a TensorProto as {@link decodeTensor} does, without reading its values. @internal
 */
export function checkTensor(op: string, what: string, t: TensorProto): HostKind {
  return readTensor(op, what, t, null).kind;
}

/** A float TensorProto read straight into float32 (no float64 copy of a large weight). @internal */
export function decodeFloat32(op: string, what: string, t: TensorProto): { dims: number[]; data: Float32Array } {
  const { dims, data } = readTensor(op, what, t, (n) => new Float32Array(n));
  return { dims, data };
}

function readTensor<A extends Float64Array | Float32Array>(op: string, what: string, t: TensorProto, alloc: ((n: number) => A) | null): { kind: HostKind; dims: number[]; data: A } {
  const code = t.dataType ?? 0;
  const kind = kindOf(code);
  if (kind === null) throw new AxonError(op, `${what} has data type ${dataTypeName(code)}, which Axon cannot hold (supported: FLOAT, DOUBLE, FLOAT16, BFLOAT16, INT8/16/32/64, UINT8/16/32/64, BOOL)`);
  if ((t.dataLocation ?? 0) === 1 || (t.externalData && t.externalData.length > 0)) {
    throw new AxonError(op, `${what} keeps its data in an external file; Axon reads only self-contained ONNX files (save the model with its tensors inside, e.g. onnx.save_model(m, path, save_as_external_data=False))`);
  }
  const { dims, size } = checkDims(op, what, t.dims ?? []);
  const esize = SIZE[code]!;
  const raw = t.rawData;
  if (raw && raw.length > 0) {
    if (raw.length !== size * esize) {
      throw new AxonError(op, `${what} (${dataTypeName(code)} ${fmtShape(dims)}) has ${raw.length} bytes of raw data, expected ${size} × ${esize} = ${size * esize}`);
    }
    if (alloc === null) return { kind, dims, data: null as unknown as A };
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const d = alloc(size);
    for (let i = 0; i < size; i++) {
      switch (code) {
        case DataType.FLOAT: d[i] = dv.getFloat32(i * 4, true); break;
        case DataType.DOUBLE: d[i] = dv.getFloat64(i * 8, true); break;
        case DataType.FLOAT16: d[i] = f16BitsToF32(dv.getUint16(i * 2, true)); break;
        case DataType.BFLOAT16: d[i] = bf16ToFloat(dv.getUint16(i * 2, true)); break;
        case DataType.UINT8: case DataType.BOOL: d[i] = dv.getUint8(i); break;
        case DataType.INT8: d[i] = dv.getInt8(i); break;
        case DataType.UINT16: d[i] = dv.getUint16(i * 2, true); break;
        case DataType.INT16: d[i] = dv.getInt16(i * 2, true); break;
        case DataType.INT32: d[i] = dv.getInt32(i * 4, true); break;
        case DataType.UINT32: d[i] = dv.getUint32(i * 4, true); break;
        case DataType.INT64: d[i] = Number(dv.getBigInt64(i * 8, true)); break;
        case DataType.UINT64: d[i] = Number(dv.getBigUint64(i * 8, true)); break;
      }
    }
    if (code === DataType.BOOL) for (let i = 0; i < size; i++) d[i] = d[i] ? 1 : 0;
    return { kind, dims, data: d };
  }
  let field: readonly unknown[] = [];
  let fieldName = '';
  switch (code) {
    case DataType.FLOAT: field = t.floatData ?? []; fieldName = 'float_data'; break;
    case DataType.DOUBLE: field = t.doubleData ?? []; fieldName = 'double_data'; break;
    case DataType.INT64: field = t.int64Data ?? []; fieldName = 'int64_data'; break;
    case DataType.UINT32: case DataType.UINT64: field = t.uint64Data ?? []; fieldName = 'uint64_data'; break;
    default: field = t.int32Data ?? []; fieldName = 'int32_data';
  }
  if (field.length !== size) {
    throw new AxonError(op, `${what} (${dataTypeName(code)} ${fmtShape(dims)}) has ${field.length} values in ${fieldName} and no raw data, expected ${size}`);
  }
  if (alloc === null) return { kind, dims, data: null as unknown as A };
  const d = alloc(size);
  for (let i = 0; i < size; i++) {
    const v = field[i];
    const n = typeof v === 'number' ? v : Number((v as { toString(): string }).toString());
    d[i] = code === DataType.FLOAT16 ? f16BitsToF32(n) : code === DataType.BFLOAT16 ? bf16ToFloat(n) : code === DataType.BOOL ? (n ? 1 : 0) : code === DataType.FLOAT ? Math.fround(n) : n;
  }
  return { kind, dims, data: d };
}

/** A host value as a tensor on the current backend (float32, int32 — range-checked — or bool). @internal */
export function toTensor(op: string, v: HostValue): Tensor {
  if (v.kind === 'float') return tensor(Float32Array.from(v.data), v.shape, 'float32');
  if (v.kind === 'bool') return tensor(Int32Array.from(v.data, (x) => (x ? 1 : 0)), v.shape, 'bool');
  const a = new Int32Array(v.data.length);
  for (let i = 0; i < a.length; i++) {
    const x = v.data[i]!;
    if (!(x >= -(2 ** 31) && x < 2 ** 31)) throw new AxonError(op, `integer value ${x} does not fit int32, the integer type of Axon tensors`);
    a[i] = x;
  }
  return tensor(a, v.shape, 'int32');
}
