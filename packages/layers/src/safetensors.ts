/**
 * The safetensors format as pure functions over `Uint8Array` (browser-usable): an 8-byte
 * little-endian u64 header length, a JSON header `{ name: { dtype, shape, data_offsets }, __metadata__ }`
 * padded with spaces to 8-byte alignment, then raw little-endian data.
 */
import { AxonError, type DType, type Tensor, fmtValue, isTensor, tensor, validateShape } from '@axon/core';
import type { LoadStateDictResult } from './module.js';

/**
 * The element types a safetensors file may declare that Axon reads: floats (`F64`, `F32`, `F16`,
 * `BF16`) become float32, integers (`I64` … `U64`) int32 (range-checked), `BOOL` bool.
 * @example
 * const code: SafetensorsDtype = 'BF16';
 * parseSafetensors(serializeSafetensors({ w: { dtype: 'float32', shape: [1], data: new Float32Array([1.5]) } }, {}, { dtype: 'bfloat16' })).tensors.w!.sourceDtype // 'BF16'
 */
export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'U16' | 'U32' | 'U64' | 'BOOL';

/**
 * The precision float32 tensors are written in (`float16` → `F16`, `bfloat16` → `BF16`, rounded to
 * nearest even with overflow to ±Inf and NaN kept NaN, as PyTorch's `.half()`/`.bfloat16()`).
 * @example
 * const d: WeightsDtype = 'float16';
 * const bytes = serializeSafetensors({ w: { dtype: 'float32', shape: [2], data: new Float32Array([1 / 3, 70000]) } }, {}, { dtype: d });
 * parseSafetensors(bytes).tensors.w!.data // [0.333251953125, Infinity]
 */
export type WeightsDtype = 'float32' | 'float16' | 'bfloat16';

/**
 * A tensor on the host: what {@link serializeSafetensors} writes and {@link parseSafetensors} returns.
 * `sourceDtype` (set by the readers) is the element type the file declared, e.g. `'F16'` for a
 * half-precision tensor read as float32.
 * @example
 * const h: HostTensorEntry = { dtype: 'float32', shape: [2], data: new Float32Array([1, 2]) };
 * fromHostTensors({ h }).h // [1, 2]
 */
export interface HostTensorEntry {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: Float32Array | Int32Array | Uint8Array;
  /** The dtype the file stored (set when read from a file; absent on entries built in memory). */
  readonly sourceDtype?: SafetensorsDtype;
}

/**
 * A parsed safetensors file: tensors by name (in file order) and the string metadata.
 * @example
 * const bytes = serializeSafetensors({ w: { dtype: 'int32', shape: [2], data: new Int32Array([7, 8]) } }, { note: 'hi' });
 * const { tensors, metadata }: SafetensorsContents = parseSafetensors(bytes);
 * tensors.w // { dtype: 'int32', shape: [2], data: [7, 8], sourceDtype: 'I32' }
 * metadata // { note: 'hi' }
 */
export interface SafetensorsContents {
  readonly tensors: Record<string, HostTensorEntry>;
  readonly metadata: Record<string, string>;
}

/**
 * Options of {@link serializeSafetensors}.
 * @example
 * const opts: SerializeSafetensorsOptions = { dtype: 'bfloat16' };
 * const bytes = serializeSafetensors({ w: { dtype: 'float32', shape: [1], data: new Float32Array([1]) } }, {}, opts);
 * bytes.length // 66
 */
export interface SerializeSafetensorsOptions {
  /** The precision float32 tensors are written in (default `'float32'`); int32 and bool tensors are written as they are. */
  dtype?: WeightsDtype;
}

/** Safetensors dtype codes Axon writes. */
const CODE: Readonly<Record<DType, SafetensorsDtype>> = { float32: 'F32', int32: 'I32', bool: 'BOOL' };
/** What each readable code becomes, and its element size in bytes. */
const READ: Readonly<Record<SafetensorsDtype, { dtype: DType; size: number }>> = {
  F64: { dtype: 'float32', size: 8 },
  F32: { dtype: 'float32', size: 4 },
  F16: { dtype: 'float32', size: 2 },
  BF16: { dtype: 'float32', size: 2 },
  I64: { dtype: 'int32', size: 8 },
  I32: { dtype: 'int32', size: 4 },
  I16: { dtype: 'int32', size: 2 },
  I8: { dtype: 'int32', size: 1 },
  U64: { dtype: 'int32', size: 8 },
  U32: { dtype: 'int32', size: 4 },
  U16: { dtype: 'int32', size: 2 },
  U8: { dtype: 'int32', size: 1 },
  BOOL: { dtype: 'bool', size: 1 },
};

/**
 * The largest header {@link parseSafetensors} accepts (100 MB, as the reference implementation).
 * @example MAX_HEADER_BYTES // 100000000
 */
export const MAX_HEADER_BYTES = 100_000_000;

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

function bitsOf(f: number): number {
  F32[0] = f;
  return U32[0]!;
}
function floatOf(bits: number): number {
  U32[0] = bits >>> 0;
  return F32[0]!;
}

/**
 * float32 → IEEE half bits, rounded to nearest even, overflow to ±Inf, NaN → quiet NaN: a port of
 * PyTorch's `c10::detail::fp16_ieee_from_fp32_value` (so the bytes equal `.half()`'s).
 */
function f32ToF16Bits(f: number): number {
  const scaleToInf = 2 ** 112;
  const scaleToZero = 2 ** -110;
  let base = Math.fround(Math.fround(Math.abs(f) * scaleToInf) * scaleToZero);
  const w = bitsOf(f);
  const shl1w = (w * 2) % 2 ** 32;
  const sign = w & 0x80000000;
  let bias = shl1w & 0xff000000;
  if (bias >>> 0 < 0x71000000) bias = 0x71000000;
  base = Math.fround(floatOf(((bias >>> 1) + 0x07800000) >>> 0) + base);
  const bits = bitsOf(base);
  const expBits = (bits >>> 13) & 0x7c00;
  const mantissaBits = bits & 0x0fff;
  const nonsign = expBits + mantissaBits;
  return ((sign >>> 16) | (shl1w > 0xff000000 ? 0x7e00 : nonsign)) & 0xffff;
}

/** float32 → bfloat16 bits, rounded to nearest even, NaN → 0x7FC0: PyTorch's `round_to_nearest_even`. */
function f32ToBf16Bits(f: number): number {
  if (Number.isNaN(f)) return 0x7fc0;
  const u = bitsOf(f);
  return Math.floor((u + (((u >>> 16) & 1) + 0x7fff)) / 65536) & 0xffff;
}

/** @internal IEEE half bits → float32 value (exact); also what `@axon/onnx` decodes FLOAT16 with. */
export function f16BitsToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 31) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

let F16_TABLE: Float32Array | null = null;

/** Every half's float32 value (256 KB, built on first use). */
function f16Table(): Float32Array {
  if (!F16_TABLE) {
    F16_TABLE = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) F16_TABLE[h] = f16BitsToF32(h);
  }
  return F16_TABLE;
}

/** The little-endian bytes an entry is written as (`dtype` 'float16'/'bfloat16' converts float32 values). */
function leBytes(e: HostTensorEntry, dtype: WeightsDtype): Uint8Array {
  if (e.dtype === 'float32' && dtype !== 'float32') {
    const src = e.data as Float32Array;
    const out = new Uint8Array(src.length * 2);
    const conv = dtype === 'float16' ? f32ToF16Bits : f32ToBf16Bits;
    for (let i = 0; i < src.length; i++) {
      const b = conv(src[i]!);
      out[2 * i] = b & 0xff;
      out[2 * i + 1] = b >>> 8;
    }
    return out;
  }
  const raw = new Uint8Array(e.data.buffer, e.data.byteOffset, e.data.byteLength);
  if (LITTLE_ENDIAN || e.dtype === 'bool') return raw;
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i += 4) {
    out[i] = raw[i + 3]!;
    out[i + 1] = raw[i + 2]!;
    out[i + 2] = raw[i + 1]!;
    out[i + 3] = raw[i]!;
  }
  return out;
}

const ARRAY_OF: Readonly<Record<DType, typeof Float32Array | typeof Int32Array | typeof Uint8Array>> = { float32: Float32Array, int32: Int32Array, bool: Uint8Array };

/**
 * Throws unless `e` is `{ dtype, shape, data }` with a known dtype and a valid shape; with
 * `exact`, `data` must also be that dtype's typed array (its bytes are written as they are).
 */
function checkHostEntry(op: string, name: string, e: unknown, exact: boolean): asserts e is HostTensorEntry {
  if (e === null || typeof e !== 'object') throw new AxonError(op, `tensor '${name}' must be { dtype, shape, data }, got ${fmtValue(e)}`);
  const { dtype, shape, data } = e as { dtype?: unknown; shape?: unknown; data?: unknown };
  if (typeof dtype !== 'string' || !Object.hasOwn(CODE, dtype)) throw new AxonError(op, `tensor '${name}' has unsupported dtype ${fmtValue(dtype)} (float32, int32 or bool)`);
  validateShape(`${op}: tensor '${name}'`, shape);
  const want = ARRAY_OF[dtype as DType];
  if (exact ? !(data instanceof want) : !ArrayBuffer.isView(data) && !Array.isArray(data)) {
    throw new AxonError(op, `tensor '${name}' (${dtype}) must hold its values in a ${exact ? want.name : 'typed array'}, got ${fmtValue(data)}`);
  }
}

/** @internal `{ dtype }` of the writers, checked: the precision float32 tensors are written in. */
export function weightsDtypeOption(op: string, dtype: unknown): WeightsDtype {
  if (dtype === undefined) return 'float32';
  if (dtype !== 'float32' && dtype !== 'float16' && dtype !== 'bfloat16') throw new AxonError(op, `dtype must be 'float32', 'float16' or 'bfloat16', got ${fmtValue(dtype)}`);
  return dtype;
}

/**
 * Encodes host tensors (and optional string metadata) as a safetensors file. With
 * `{ dtype: 'float16' | 'bfloat16' }` float32 tensors are written as `F16`/`BF16`, rounded to
 * nearest even (values beyond the format's range become ±Inf, NaN stays NaN) — byte for byte what
 * PyTorch's `.half()`/`.bfloat16()` give; int32 and bool tensors are written unchanged.
 * @example
 * const bytes = serializeSafetensors({ w: { dtype: 'float32', shape: [2], data: new Float32Array([1, 2]) } }, { format: 'pt' });
 * parseSafetensors(bytes).tensors.w!.data // [1, 2]
 * const half = serializeSafetensors({ w: { dtype: 'float32', shape: [2], data: new Float32Array([1, 2]) } }, {}, { dtype: 'float16' });
 * half.length < bytes.length // true
 */
export function serializeSafetensors(tensors: Readonly<Record<string, HostTensorEntry>>, metadata: Readonly<Record<string, string>> = {}, opts: SerializeSafetensorsOptions = {}): Uint8Array {
  const op = 'serializeSafetensors';
  if (tensors === null || typeof tensors !== 'object' || Array.isArray(tensors)) throw new AxonError(op, `expects a record of { dtype, shape, data } entries, got ${fmtValue(tensors)}`);
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) throw new AxonError(op, `metadata must be a record of strings, got ${fmtValue(metadata)}`);
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) throw new AxonError(op, `options must be an object such as { dtype: 'float16' }, got ${fmtValue(opts)}`);
  for (const k of Object.keys(opts)) if (k !== 'dtype') throw new AxonError(op, `unknown option '${k}'; expected dtype`);
  const wdtype = weightsDtypeOption(op, opts.dtype);
  const header: Record<string, unknown> = {};
  const meta: Record<string, string> = {};
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== 'string') throw new AxonError(op, `metadata values must be strings; '${k}' is ${typeof v}`);
    meta[k] = v;
  }
  if (Object.keys(meta).length) header['__metadata__'] = meta;
  for (const [name, e] of Object.entries(tensors)) {
    if (name === '__metadata__') throw new AxonError(op, "'__metadata__' cannot name a tensor");
    checkHostEntry(op, name, e, true);
    const size = e.shape.reduce((a, b) => a * b, 1);
    if (e.data.length !== size) throw new AxonError(op, `tensor '${name}' has shape [${e.shape.join(',')}] (${size} elements) but ${e.data.length} values`);
  }
  let offset = 0;
  const parts: Uint8Array[] = [];
  for (const [name, e] of Object.entries(tensors)) {
    const code = e.dtype === 'float32' ? ({ float32: 'F32', float16: 'F16', bfloat16: 'BF16' } as const)[wdtype] : CODE[e.dtype];
    const bytes = leBytes(e, wdtype);
    header[name] = { dtype: code, shape: [...e.shape], data_offsets: [offset, offset + bytes.length] };
    parts.push(bytes);
    offset += bytes.length;
  }
  let json = JSON.stringify(header);
  const enc = new TextEncoder();
  let hb = enc.encode(json);
  const pad = (8 - (hb.length % 8)) % 8;
  if (pad) {
    json += ' '.repeat(pad);
    hb = enc.encode(json);
  }
  const out = new Uint8Array(8 + hb.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  let pos = 8 + hb.length;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

/** @internal One tensor of a validated header: its dtypes, shape and byte range within the data section. */
export interface PlannedTensor {
  readonly name: string;
  readonly dtype: DType;
  readonly sourceDtype: SafetensorsDtype;
  readonly shape: readonly number[];
  readonly begin: number;
  readonly end: number;
}

/** @internal A validated header: metadata, the tensors in file order, where the data section starts. */
export interface SafetensorsHeader {
  readonly metadata: Record<string, string>;
  readonly plan: readonly PlannedTensor[];
  readonly dataStart: number;
}

/**
 * @internal Checks the 8-byte length prefix against the file's size: returns the header length, or
 * throws (truncated file, length above {@link MAX_HEADER_BYTES} or beyond the file).
 */
export function headerLength(op: string, prefix: Uint8Array, fileSize: number): number {
  if (fileSize < 8 || prefix.length < 8) throw new AxonError(op, `truncated file: ${fileSize} bytes, fewer than the 8-byte header length`);
  const n64 = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER_BYTES)) throw new AxonError(op, `header length ${n64} exceeds the ${MAX_HEADER_BYTES}-byte limit (corrupt or not a safetensors file)`);
  const n = Number(n64);
  if (n > fileSize - 8) throw new AxonError(op, `header length ${n} is larger than the file allows (${fileSize} bytes in all): truncated or corrupt file`);
  if (n < 2) throw new AxonError(op, `header length ${n} is too small for a JSON object`);
  return n;
}

/**
 * @internal Validates a header (its `n` bytes, after the 8-byte prefix) against the file's size,
 * as the reference implementation does, allocating nothing in proportion to what it declares:
 * the JSON, each entry's dtype, shape and offsets, and that the tensors tile the data section.
 */
export function validateHeader(op: string, hbytes: Uint8Array, fileSize: number): SafetensorsHeader {
  const n = hbytes.length;
  if (hbytes[0] !== 0x7b) throw new AxonError(op, `the header must start with '{' (byte 8 is 0x${hbytes[0]!.toString(16).padStart(2, '0')}): not a safetensors file, or a wrong header length`);
  let header: unknown;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(hbytes);
    header = JSON.parse(text);
  } catch (e) {
    throw new AxonError(op, `the header is not valid UTF-8 JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) throw new AxonError(op, 'the header must be a JSON object');
  const dup = duplicateKey(text);
  if (dup !== null) throw new AxonError(op, `the header names ${JSON.stringify(dup)} twice (JSON.parse would silently keep the last one)`);
  const dataStart = 8 + n;
  const dataLen = fileSize - dataStart;
  const metadata: Record<string, string> = {};
  const plan: PlannedTensor[] = [];
  for (const [name, v] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new AxonError(op, '__metadata__ must be an object of strings');
      for (const [k, s] of Object.entries(v as Record<string, unknown>)) {
        if (typeof s !== 'string') throw new AxonError(op, `__metadata__['${k}'] must be a string, got ${typeof s}`);
        metadata[k] = s;
      }
      continue;
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new AxonError(op, `tensor '${name}': expected { dtype, shape, data_offsets }`);
    const e = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e.dtype !== 'string') throw new AxonError(op, `tensor '${name}': dtype must be a string`);
    // own keys only: a header dtype 'constructor' must not find Object
    const info = Object.hasOwn(READ, e.dtype) ? READ[e.dtype as SafetensorsDtype] : undefined;
    if (!info) throw new AxonError(op, `tensor '${name}': unsupported dtype '${e.dtype}' (Axon reads ${Object.keys(READ).join(', ')})`);
    if (!Array.isArray(e.shape) || e.shape.length > 32 || !e.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new AxonError(op, `tensor '${name}': shape must be an array of non-negative integers, got ${JSON.stringify(e.shape)}`);
    }
    const shape = e.shape as number[];
    // exact, whatever the shape declares ([2^40, 2^40] overflows doubles' integers)
    const bytesNeeded = shape.reduce((a, d) => a * BigInt(d), BigInt(info.size));
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      throw new AxonError(op, `tensor '${name}': data_offsets must be [begin, end] non-negative integers, got ${JSON.stringify(off)}`);
    }
    const [begin, end] = off as [number, number];
    if (begin > end || end > dataLen) throw new AxonError(op, `tensor '${name}': data_offsets [${begin}, ${end}] are out of range (data section has ${dataLen} bytes)`);
    if (BigInt(end - begin) !== bytesNeeded) {
      throw new AxonError(op, `tensor '${name}': data_offsets span ${end - begin} bytes but shape [${shape.join(',')}] of ${e.dtype} needs ${bytesNeeded > BigInt(dataLen) ? `${bytesNeeded} (more than the file's ${dataLen})` : bytesNeeded}`);
    }
    plan.push({ name, dtype: info.dtype, sourceDtype: e.dtype as SafetensorsDtype, shape, begin, end });
  }
  // As the reference implementation (safetensors' `Metadata::validate`): sorted by offset, the
  // tensors must tile the data section exactly — starting at 0, no gap, no overlap, no byte after.
  const sorted = [...plan].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  let prev: PlannedTensor | null = null;
  for (const q of sorted) {
    if (q.begin < pos) throw new AxonError(op, `tensors '${prev!.name}' [${prev!.begin}, ${prev!.end}] and '${q.name}' [${q.begin}, ${q.end}] overlap`);
    if (q.begin > pos) {
      throw new AxonError(op, prev ? `a gap of ${q.begin - pos} bytes between tensors '${prev.name}' (ends at ${pos}) and '${q.name}' (begins at ${q.begin}); offsets must be contiguous` : `the first tensor '${q.name}' begins at ${q.begin}; data offsets must start at 0`);
    }
    pos = q.end;
    prev = q;
  }
  if (pos !== dataLen) {
    throw new AxonError(op, `the tensors cover ${pos} bytes but the data section has ${dataLen} (header length ${n}, file ${fileSize} bytes): ${pos < dataLen ? 'trailing bytes, or a header length too short' : 'truncated file'}`);
  }
  return { metadata, plan, dataStart };
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/**
 * @internal Decodes one tensor's little-endian bytes (exactly its byte range) into Axon's dtype:
 * floats widened (F16/BF16 exactly, F64 rounded to nearest float32, beyond its range ±Inf as
 * PyTorch's `.float()`), integers range-checked into int32, bools checked to be 0 or 1.
 */
export function decodeTensor(op: string, p: PlannedTensor, raw: Uint8Array): HostTensorEntry {
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const count = p.shape.reduce((a, b) => a * b, 1);
  const src = p.sourceDtype;
  const outOfRange = (i: number, v: number | bigint): never => {
    throw new AxonError(op, `tensor '${p.name}' (${src}): value ${v} at index ${i} is outside int32's range [${INT32_MIN}, ${INT32_MAX}]; Axon holds integers as int32 and does not wrap them`);
  };
  let data: Float32Array | Int32Array | Uint8Array;
  switch (src) {
    case 'F32':
    case 'I32': {
      // a copy into a fresh (aligned) buffer, viewed as is on little-endian hosts
      const buf = Uint8Array.prototype.slice.call(raw, 0, 4 * count);
      if (!LITTLE_ENDIAN) for (let i = 0; i < buf.length; i += 4) buf.subarray(i, i + 4).reverse();
      data = src === 'F32' ? new Float32Array(buf.buffer, 0, count) : new Int32Array(buf.buffer, 0, count);
      break;
    }
    case 'F64': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = dv.getFloat64(8 * i, true);
      data = out;
      break;
    }
    case 'F16': {
      const out = new Float32Array(count);
      const table = f16Table();
      for (let i = 0; i < count; i++) out[i] = table[dv.getUint16(2 * i, true)]!;
      data = out;
      break;
    }
    case 'BF16': {
      const out = new Uint32Array(count);
      if (LITTLE_ENDIAN) {
        const h = new Uint16Array(Uint8Array.prototype.slice.call(raw, 0, 2 * count).buffer, 0, count);
        for (let i = 0; i < count; i++) out[i] = h[i]! << 16;
      } else for (let i = 0; i < count; i++) out[i] = dv.getUint16(2 * i, true) << 16;
      data = new Float32Array(out.buffer);
      break;
    }
    case 'I16':
    case 'I8':
    case 'U16':
    case 'U8': {
      const out = new Int32Array(count);
      const get = src === 'I16' ? (i: number) => dv.getInt16(2 * i, true) : src === 'U16' ? (i: number) => dv.getUint16(2 * i, true) : src === 'I8' ? (i: number) => dv.getInt8(i) : (i: number) => dv.getUint8(i);
      for (let i = 0; i < count; i++) out[i] = get(i);
      data = out;
      break;
    }
    case 'U32': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) {
        const v = dv.getUint32(4 * i, true);
        if (v > INT32_MAX) outOfRange(i, v);
        out[i] = v;
      }
      data = out;
      break;
    }
    case 'I64':
    case 'U64': {
      const out = new Int32Array(count);
      const lo = BigInt(INT32_MIN);
      const hi = BigInt(INT32_MAX);
      for (let i = 0; i < count; i++) {
        const v = src === 'I64' ? dv.getBigInt64(8 * i, true) : dv.getBigUint64(8 * i, true);
        if (v < lo || v > hi) outOfRange(i, v);
        out[i] = Number(v);
      }
      data = out;
      break;
    }
    case 'BOOL': {
      const out = Uint8Array.prototype.slice.call(raw, 0, count);
      for (let i = 0; i < count; i++) if (out[i]! > 1) throw new AxonError(op, `tensor '${p.name}' (BOOL): byte ${out[i]} at index ${i} is not 0 or 1`);
      data = out;
      break;
    }
  }
  return { dtype: p.dtype, shape: [...p.shape], data, sourceDtype: src };
}

/**
 * Decodes a safetensors file, validating every field before allocating anything, as the
 * reference implementation does: a truncated file, a header length beyond the file or above
 * {@link MAX_HEADER_BYTES}, a header that does not start with `{`, invalid JSON, a key given
 * twice, unknown dtypes, bad shapes, offsets out of range or not matching shape × dtype, and
 * offsets that do not tile the data section exactly (sorted, from 0, contiguous, up to the last
 * byte — so a header length one byte short, a gap or trailing bytes are errors) all throw an
 * {@link AxonError}. Tensor data is copied (the result does not alias `bytes`).
 *
 * Every dtype of the format that maps to Axon's is read: `F64`, `F32`, `F16` and `BF16` as
 * float32 (half precisions widened exactly; F64 rounded to nearest, beyond float32's range ±Inf,
 * as PyTorch's `.float()`), `I64`, `I32`, `I16`, `I8`, `U64`, `U32`, `U16` and `U8` as int32 (a
 * value outside int32's range is an error naming the tensor, dtype, value and index — never
 * wrapped), `BOOL` as bool (bytes other than 0 and 1 are an error). Each entry's `sourceDtype`
 * says what the file held. In Node, {@link openSafetensors} reads a file lazily instead.
 * @example
 * import { readFile } from 'node:fs/promises';
 * await saveWeights(new Linear(3, 2), 'linear.safetensors');
 * const { tensors, metadata } = parseSafetensors(new Uint8Array(await readFile('linear.safetensors')));
 * Object.keys(tensors) // ['weight', 'bias']
 * tensors.weight!.shape // [2, 3]
 * metadata // { format: 'axon' }
 * parseSafetensors(new Uint8Array(4)) // throws: 'truncated file'
 */
export function parseSafetensors(bytes: Uint8Array): SafetensorsContents {
  const op = 'parseSafetensors';
  if (!(bytes instanceof Uint8Array)) throw new AxonError(op, 'expects a Uint8Array');
  const n = headerLength(op, bytes, bytes.length);
  const { metadata, plan, dataStart } = validateHeader(op, bytes.subarray(8, 8 + n), bytes.length);
  const tensors: Record<string, HostTensorEntry> = {};
  for (const p of plan) tensors[p.name] = decodeTensor(op, p, bytes.subarray(dataStart + p.begin, dataStart + p.end));
  return { tensors, metadata };
}

/**
 * The first object key that occurs twice in one object of a valid JSON text, or null. A string is
 * a key exactly when the next non-blank character after it is ':'.
 */
function duplicateKey(text: string): string | null {
  const stack: (Set<string> | null)[] = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 0x7b) stack.push(new Set());
    else if (ch === 0x5b) stack.push(null);
    else if (ch === 0x7d || ch === 0x5d) stack.pop();
    else if (ch === 0x22) {
      const start = i;
      for (i++; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (c === 0x5c) i++;
        else if (c === 0x22) break;
      }
      let j = i + 1;
      while (j < text.length && (text[j] === ' ' || text[j] === '\n' || text[j] === '\r' || text[j] === '\t')) j++;
      const keys = stack[stack.length - 1];
      if (text[j] === ':' && keys) {
        const key = JSON.parse(text.slice(start, i + 1)) as string;
        if (keys.has(key)) return key;
        keys.add(key);
      }
    }
  }
  return null;
}

/** @internal The bytes of tensor data in parsed contents (the file's data section). */
export function tensorDataBytes(contents: SafetensorsContents): number {
  let n = 0;
  for (const e of Object.values(contents.tensors)) n += e.data.byteLength;
  return n;
}

/**
 * Reads tensors to the host (awaiting each backend), e.g. a module's `stateDict()`.
 * @example
 * const fc = new Linear(2, 1);
 * fc.bias!.assign(tensor([5]));
 * const host = await toHostTensors(fc.stateDict());
 * host.bias // { dtype: 'float32', shape: [1], data: [5] }
 */
export async function toHostTensors(tensors: Readonly<Record<string, Tensor>>): Promise<Record<string, HostTensorEntry>> {
  const op = 'toHostTensors';
  if (tensors === null || typeof tensors !== 'object' || Array.isArray(tensors)) throw new AxonError(op, `expects a record of tensors, got ${fmtValue(tensors)}`);
  for (const [k, t] of Object.entries(tensors)) {
    if (!isTensor(t)) throw new AxonError(op, `'${k}' is not a Tensor (got ${fmtValue(t)})`);
    if (t.isDisposed) throw new AxonError(op, `'${k}' (tensor #${t.id}) was disposed`);
  }
  const out: Record<string, HostTensorEntry> = {};
  for (const [k, t] of Object.entries(tensors)) {
    out[k] = { dtype: t.dtype, shape: [...t.shape], data: (await t.data()) as Float32Array | Int32Array | Uint8Array };
  }
  return out;
}

/**
 * Creates tensors (on the current backend) from host entries; the caller owns them.
 * @example
 * const bytes = await encodeWeights(new Linear(2, 1));
 * const sd = fromHostTensors(parseSafetensors(bytes).tensors);
 * const fc = new Linear(2, 1);
 * fc.loadStateDict(sd);
 * for (const t of Object.values(sd)) t.dispose(); // loadStateDict copied them
 * fc.weight.shape // [1, 2]
 */
export function fromHostTensors(entries: Readonly<Record<string, HostTensorEntry>>): Record<string, Tensor> {
  const op = 'fromHostTensors';
  if (entries === null || typeof entries !== 'object' || Array.isArray(entries)) throw new AxonError(op, `expects a record of { dtype, shape, data } entries, got ${fmtValue(entries)}`);
  for (const [k, e] of Object.entries(entries)) checkHostEntry(op, k, e, false);
  const out: Record<string, Tensor> = {};
  try {
    for (const [k, e] of Object.entries(entries)) out[k] = tensor(e.data, e.shape, e.dtype);
  } catch (err) {
    for (const t of Object.values(out)) t.dispose();
    throw err;
  }
  return out;
}

/**
 * A module's parameters and buffers as safetensors bytes, with optional string metadata (kept
 * in the file's `__metadata__`, beside `format: 'axon'`) and `{ dtype: 'float16' | 'bfloat16' }`
 * to write the float32 tensors in half precision (see {@link serializeSafetensors}).
 * @example
 * const bytes = await encodeWeights(new Linear(2, 1), { author: 'me' });
 * parseSafetensors(bytes).metadata // { format: 'axon', author: 'me' }
 * const half = await encodeWeights(new Linear(2, 1), {}, { dtype: 'bfloat16' });
 * parseSafetensors(half).tensors.weight!.sourceDtype // 'BF16'
 */
export async function encodeWeights(m: { stateDict(): Readonly<Record<string, Tensor>> }, metadata: Readonly<Record<string, string>> = {}, opts: SerializeSafetensorsOptions = {}): Promise<Uint8Array> {
  return serializeSafetensors(await toHostTensors(m.stateDict()), { format: 'axon', ...metadata }, opts);
}

/**
 * Loads safetensors bytes into a module (names, shapes and dtypes validated by `loadStateDict`).
 * @example
 * const a = new Linear(2, 1);
 * const b = new Linear(2, 1);
 * decodeWeights(b, await encodeWeights(a));
 * b.call(ones([1, 2])).sub(a.call(ones([1, 2]))) // [[0]]
 * decodeWeights(new Linear(3, 1), await encodeWeights(a)) // throws: 'shape'
 */
export function decodeWeights(m: StateLoadable, bytes: Uint8Array, opts: { strict?: boolean } = {}): LoadStateDictResult {
  return loadParsedWeights(m, parseSafetensors(bytes), opts);
}

/**
 * Anything with a PyTorch-style `loadStateDict` (a {@link Module}), as {@link decodeWeights} takes.
 * @example
 * const target: StateLoadable = new Linear(2, 1);
 * decodeWeights(target, await encodeWeights(new Linear(2, 1))) // { missingKeys: [], unexpectedKeys: [] }
 */
export interface StateLoadable {
  loadStateDict(sd: Readonly<Record<string, Tensor>>, opts?: { strict?: boolean }): LoadStateDictResult;
}

/** @internal Loads already parsed safetensors contents into a module (see {@link decodeWeights}). */
export function loadParsedWeights(m: StateLoadable, contents: SafetensorsContents, opts: { strict?: boolean } = {}): LoadStateDictResult {
  const sd = fromHostTensors(contents.tensors);
  try {
    return m.loadStateDict(sd, opts);
  } finally {
    for (const t of Object.values(sd)) t.dispose();
  }
}
