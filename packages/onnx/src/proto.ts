/**
 * The ONNX file format: the protobuf messages of `onnx.proto` that Axon reads and writes. Their
 * names and field numbers (as the ONNX specification defines them) are in `proto/onnx.json`;
 * protobufjs's code generator turns that into `generated/onnx-pb.js` (`scripts/gen-proto.mjs`), plain
 * encode/decode functions over protobufjs's runtime — a maintained protobuf library does the wire
 * format, and nothing is compiled with `new Function` at run time (so strict Content-Security-
 * Policies allow it). Fields Axon does not use (training info, sparse initializers, functions, …)
 * are left out: they are skipped when decoding.
 */
import { AxonError } from '@axon/core';
import { onnx } from './generated/onnx-pb.js';

/** ONNX `TensorProto.DataType` codes. */
export const DataType = {
  UNDEFINED: 0,
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  BFLOAT16: 16,
} as const;

/** ONNX `AttributeProto.AttributeType` codes. */
export const AttributeType = {
  UNDEFINED: 0,
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
  TENSORS: 9,
  GRAPHS: 10,
} as const;

/** An int64 as protobufjs gives it: a number, or a `Long` when it does not fit 2^53. */
export type Int64 = number | { toString(): string; toNumber(): number; high: number; low: number };

export interface StringStringEntryProto {
  key?: string;
  value?: string;
}

export interface OperatorSetIdProto {
  domain?: string;
  version?: Int64;
}

export interface TensorProto {
  dims?: Int64[];
  dataType?: number;
  floatData?: number[];
  int32Data?: number[];
  stringData?: Uint8Array[];
  int64Data?: Int64[];
  name?: string;
  docString?: string;
  rawData?: Uint8Array;
  externalData?: StringStringEntryProto[];
  dataLocation?: number;
  doubleData?: number[];
  uint64Data?: Int64[];
}

export interface AttributeProto {
  name?: string;
  refAttrName?: string;
  docString?: string;
  type?: number;
  f?: number;
  i?: Int64;
  s?: Uint8Array;
  t?: TensorProto;
  g?: GraphProto;
  floats?: number[];
  ints?: Int64[];
  strings?: Uint8Array[];
  tensors?: TensorProto[];
  graphs?: GraphProto[];
}

export interface NodeProto {
  input?: string[];
  output?: string[];
  name?: string;
  opType?: string;
  domain?: string;
  attribute?: AttributeProto[];
  docString?: string;
}

export interface DimensionProto {
  dimValue?: Int64;
  dimParam?: string;
  denotation?: string;
}

export interface TypeProto {
  tensorType?: { elemType?: number; shape?: { dim?: DimensionProto[] } };
  denotation?: string;
}

export interface ValueInfoProto {
  name?: string;
  type?: TypeProto;
  docString?: string;
}

export interface GraphProto {
  node?: NodeProto[];
  name?: string;
  initializer?: TensorProto[];
  docString?: string;
  input?: ValueInfoProto[];
  output?: ValueInfoProto[];
  valueInfo?: ValueInfoProto[];
}

export interface ModelProto {
  irVersion?: Int64;
  opsetImport?: OperatorSetIdProto[];
  producerName?: string;
  producerVersion?: string;
  domain?: string;
  modelVersion?: Int64;
  docString?: string;
  graph?: GraphProto;
  metadataProps?: StringStringEntryProto[];
}

/**
 * Encodes a model as ONNX bytes (protobuf wire format).
 * @internal
 */
export function encodeModel(m: ModelProto): Uint8Array {
  return onnx.ModelProto.encode(m).finish();
}

/**
 * Decodes ONNX bytes. Malformed protobuf becomes an `AxonError` naming `op`.
 * @internal
 */
export function decodeModel(op: string, bytes: Uint8Array): ModelProto {
  try {
    return onnx.ModelProto.decode(bytes) as ModelProto;
  } catch (e) {
    throw new AxonError(op, `not a valid ONNX (protobuf) file: ${(e as Error).message}`);
  }
}

/**
 * An int64 field as a JavaScript number; values beyond ±2^53 throw (no ONNX shape or attribute
 * Axon uses is that large, and rounding one silently would be wrong).
 * @internal
 */
export function int64(op: string, what: string, v: Int64 | undefined | null): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number') return v;
  const n = v.toNumber();
  if (!Number.isSafeInteger(n)) throw new AxonError(op, `${what} ${v.toString()} is beyond the safe integer range`);
  return n;
}
