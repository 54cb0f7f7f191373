/**
 * The safetensors format as pure functions over `Uint8Array` (browser-usable): an 8-byte
 * little-endian u64 header length, a JSON header `{ name: { dtype, shape, data_offsets }, __metadata__ }`
 * padded with spaces to 8-byte alignment, then raw little-endian data.
 */
import { AxonError, type DType, type Tensor, fmtValue, isTensor, tensor, validateShape } from '@axon/core';

/**
 * A tensor on the host: what {@link serializeSafetensors} writes and {@link parseSafetensors} returns.
 * @example
 * const h: HostTensorEntry = { dtype: 'float32', shape: [2], data: new Float32Array([1, 2]) };
 * fromHostTensors({ h }).h // [1, 2]
 */
export interface HostTensorEntry {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: Float32Array | Int32Array | Uint8Array;
}

/**
 * A parsed safetensors file: tensors by name (in file order) and the string metadata.
 * @example
 * const bytes = serializeSafetensors({ w: { dtype: 'int32', shape: [2], data: new Int32Array([7, 8]) } }, { note: 'hi' });
 * const { tensors, metadata }: SafetensorsContents = parseSafetensors(bytes);
 * tensors.w // { dtype: 'int32', shape: [2], data: [7, 8] }
 * metadata // { note: 'hi' }
 */
export interface SafetensorsContents {
  readonly tensors: Record<string, HostTensorEntry>;
  readonly metadata: Record<string, string>;
}

/** Safetensors dtype codes Axon reads and writes. */
const CODE: Readonly<Record<DType, string>> = { float32: 'F32', int32: 'I32', bool: 'BOOL' };
const FROM_CODE: Readonly<Record<string, DType>> = { F32: 'float32', I32: 'int32', BOOL: 'bool' };
const BYTES: Readonly<Record<DType, number>> = { float32: 4, int32: 4, bool: 1 };

/**
 * The largest header {@link parseSafetensors} accepts (100 MB, as the reference implementation).
 * @example MAX_HEADER_BYTES // 100000000
 */
export const MAX_HEADER_BYTES = 100_000_000;

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function leBytes(e: HostTensorEntry): Uint8Array {
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

/**
 * Encodes host tensors (and optional string metadata) as a safetensors file.
 * @example
 * const bytes = serializeSafetensors({ w: { dtype: 'float32', shape: [2], data: new Float32Array([1, 2]) } }, { format: 'pt' });
 * parseSafetensors(bytes).tensors.w!.data // [1, 2]
 */
export function serializeSafetensors(tensors: Readonly<Record<string, HostTensorEntry>>, metadata: Readonly<Record<string, string>> = {}): Uint8Array {
  const op = 'serializeSafetensors';
  if (tensors === null || typeof tensors !== 'object' || Array.isArray(tensors)) throw new AxonError(op, `expects a record of { dtype, shape, data } entries, got ${fmtValue(tensors)}`);
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) throw new AxonError(op, `metadata must be a record of strings, got ${fmtValue(metadata)}`);
  const header: Record<string, unknown> = {};
  const meta: Record<string, string> = {};
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== 'string') throw new AxonError(op, `metadata values must be strings; '${k}' is ${typeof v}`);
    meta[k] = v;
  }
  if (Object.keys(meta).length) header['__metadata__'] = meta;
  let offset = 0;
  const parts: Uint8Array[] = [];
  for (const [name, e] of Object.entries(tensors)) {
    if (name === '__metadata__') throw new AxonError(op, "'__metadata__' cannot name a tensor");
    checkHostEntry(op, name, e, true);
    const code = CODE[e.dtype];
    const size = e.shape.reduce((a, b) => a * b, 1);
    if (e.data.length !== size) throw new AxonError(op, `tensor '${name}' has shape [${e.shape.join(',')}] (${size} elements) but ${e.data.length} values`);
    const bytes = leBytes(e);
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

/**
 * Decodes a safetensors file, validating every field before allocating anything, as the
 * reference implementation does: a truncated file, a header length beyond the file or above
 * {@link MAX_HEADER_BYTES}, a header that does not start with `{`, invalid JSON, a key given
 * twice, unknown dtypes, bad shapes, offsets out of range or not matching shape × dtype, and
 * offsets that do not tile the data section exactly (sorted, from 0, contiguous, up to the last
 * byte — so a header length one byte short, a gap or trailing bytes are errors) all throw an
 * {@link AxonError}. Tensor data is copied (the result does not alias `bytes`).
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
  if (bytes.length < 8) throw new AxonError(op, `truncated file: ${bytes.length} bytes, fewer than the 8-byte header length`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n64 = dv.getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER_BYTES)) throw new AxonError(op, `header length ${n64} exceeds the ${MAX_HEADER_BYTES}-byte limit (corrupt or not a safetensors file)`);
  const n = Number(n64);
  if (n > bytes.length - 8) throw new AxonError(op, `header length ${n} is larger than the file allows (${bytes.length} bytes in all): truncated or corrupt file`);
  if (n < 2) throw new AxonError(op, `header length ${n} is too small for a JSON object`);
  if (bytes[8] !== 0x7b) throw new AxonError(op, `the header must start with '{' (byte 8 is 0x${bytes[8]!.toString(16).padStart(2, '0')}): not a safetensors file, or a wrong header length`);
  let header: unknown;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
    header = JSON.parse(text);
  } catch (e) {
    throw new AxonError(op, `the header is not valid UTF-8 JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) throw new AxonError(op, 'the header must be a JSON object');
  const dup = duplicateKey(text);
  if (dup !== null) throw new AxonError(op, `the header names ${JSON.stringify(dup)} twice (JSON.parse would silently keep the last one)`);
  const dataStart = 8 + n;
  const dataLen = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const plan: { name: string; dtype: DType; shape: number[]; begin: number; end: number }[] = [];
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
    const dtype = Object.hasOwn(FROM_CODE, e.dtype) ? FROM_CODE[e.dtype] : undefined;
    if (!dtype) throw new AxonError(op, `tensor '${name}': unsupported dtype '${e.dtype}' (Axon reads F32, I32 and BOOL)`);
    if (!Array.isArray(e.shape) || e.shape.length > 32 || !e.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new AxonError(op, `tensor '${name}': shape must be an array of non-negative integers, got ${JSON.stringify(e.shape)}`);
    }
    const shape = e.shape as number[];
    let size = shape.includes(0) ? 0 : 1;
    for (const d of shape) {
      if (size > dataLen) break;
      size *= d;
    }
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      throw new AxonError(op, `tensor '${name}': data_offsets must be [begin, end] non-negative integers, got ${JSON.stringify(off)}`);
    }
    const [begin, end] = off as [number, number];
    if (begin > end || end > dataLen) throw new AxonError(op, `tensor '${name}': data_offsets [${begin}, ${end}] are out of range (data section has ${dataLen} bytes)`);
    const expected = size * BYTES[dtype];
    if (end - begin !== expected) {
      throw new AxonError(op, `tensor '${name}': data_offsets span ${end - begin} bytes but shape [${shape.join(',')}] of ${e.dtype} needs ${size > dataLen ? 'more than the file holds' : expected}`);
    }
    plan.push({ name, dtype, shape, begin, end });
  }
  // As the reference implementation (safetensors' `Metadata::validate`): sorted by offset, the
  // tensors must tile the data section exactly — starting at 0, no gap, no overlap, no byte after.
  const sorted = [...plan].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  let prev: (typeof plan)[number] | null = null;
  for (const q of sorted) {
    if (q.begin < pos) throw new AxonError(op, `tensors '${prev!.name}' [${prev!.begin}, ${prev!.end}] and '${q.name}' [${q.begin}, ${q.end}] overlap`);
    if (q.begin > pos) {
      throw new AxonError(op, prev ? `a gap of ${q.begin - pos} bytes between tensors '${prev.name}' (ends at ${pos}) and '${q.name}' (begins at ${q.begin}); offsets must be contiguous` : `the first tensor '${q.name}' begins at ${q.begin}; data offsets must start at 0`);
    }
    pos = q.end;
    prev = q;
  }
  if (pos !== dataLen) {
    throw new AxonError(op, `the tensors cover ${pos} bytes but the data section has ${dataLen} (header length ${n}, file ${bytes.length} bytes): ${pos < dataLen ? 'trailing bytes, or a header length too short' : 'truncated file'}`);
  }
  const tensors: Record<string, HostTensorEntry> = {};
  for (const p of plan) {
    // a copy, whatever `bytes` is: Node's Buffer.slice returns a view into a shared pool (its
    // `.buffer` starts elsewhere), so read through Uint8Array's own slice
    const buf = Uint8Array.prototype.slice.call(bytes, dataStart + p.begin, dataStart + p.end);
    let data: Float32Array | Int32Array | Uint8Array;
    if (p.dtype === 'bool') data = buf;
    else {
      if (!LITTLE_ENDIAN) for (let i = 0; i < buf.length; i += 4) buf.subarray(i, i + 4).reverse();
      data = p.dtype === 'float32' ? new Float32Array(buf.buffer, 0, buf.length / 4) : new Int32Array(buf.buffer, 0, buf.length / 4);
    }
    tensors[p.name] = { dtype: p.dtype, shape: p.shape, data };
  }
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
 * A module's parameters and buffers as safetensors bytes (with optional string metadata).
 * @example
 * const bytes = await encodeWeights(new Linear(2, 1), { author: 'me' });
 * parseSafetensors(bytes).metadata // { format: 'axon', author: 'me' }
 */
export async function encodeWeights(m: { stateDict(): Readonly<Record<string, Tensor>> }, metadata: Readonly<Record<string, string>> = {}): Promise<Uint8Array> {
  return serializeSafetensors(await toHostTensors(m.stateDict()), { format: 'axon', ...metadata });
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
export function decodeWeights(m: { loadStateDict(sd: Readonly<Record<string, Tensor>>, opts?: { strict?: boolean }): void }, bytes: Uint8Array, opts: { strict?: boolean } = {}): void {
  loadParsedWeights(m, parseSafetensors(bytes), opts);
}

/** @internal Loads already parsed safetensors contents into a module (see {@link decodeWeights}). */
export function loadParsedWeights(m: { loadStateDict(sd: Readonly<Record<string, Tensor>>, opts?: { strict?: boolean }): void }, contents: SafetensorsContents, opts: { strict?: boolean } = {}): void {
  const sd = fromHostTensors(contents.tensors);
  try {
    m.loadStateDict(sd, opts);
  } finally {
    for (const t of Object.values(sd)) t.dispose();
  }
}
