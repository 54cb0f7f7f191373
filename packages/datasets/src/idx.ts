import { AxonError } from '@axon/core';
import { checkMaxBytes, type DataSource, inflateChunks, isGzip, limitText, MAX_INFLATE_RATIO, readSource } from './io.js';

/**
 * Element types of the IDX format (the third magic byte: 08, 09, 0B, 0C, 0D, 0E).
 *
 * @example
 * const bytes = encodeIdx({ type: 'int16', shape: [2], data: new Int16Array([-1, 300]) });
 * parseIdx(bytes).type; // 'int16' ('uint8' for MNIST)
 * parseIdx(bytes).data; // [-1, 300]
 */
export type IdxType = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';

/**
 * A parsed IDX file: its element type, dimensions and row-major data (for uint8 a zero-copy view
 * of the input bytes).
 *
 * @example
 * ```ts
 * // two 2×2 images, as in MNIST's images files
 * const bytes = encodeIdx({ type: 'uint8', shape: [2, 2, 2], data: new Uint8Array([0, 255, 1, 2, 3, 4, 5, 6]) });
 * const { type, shape, data } = parseIdx(bytes);
 * type; // 'uint8'
 * shape; // [2, 2, 2]
 * data; // [0, 255, 1, 2, 3, 4, 5, 6]
 * ```
 */
export interface IdxArray {
  /** Element type from the magic number. */
  readonly type: IdxType;
  /** Dimensions from the header. */
  readonly shape: number[];
  /** The elements, row-major. */
  readonly data: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
}

const TYPES: Record<number, [IdxType, number]> = {
  0x08: ['uint8', 1],
  0x09: ['int8', 1],
  0x0b: ['int16', 2],
  0x0c: ['int32', 4],
  0x0d: ['float32', 4],
  0x0e: ['float64', 8],
};

/** A parsed IDX header. */
interface IdxHeader {
  type: IdxType;
  width: number;
  shape: number[];
  count: number;
  headerLen: number;
  /** header + payload bytes the header declares */
  total: number;
}

/**
 * Reads the IDX header at the start of `bytes`. With `complete` false (streaming), returns null
 * when more bytes are needed; with true, a short header is an error. Bad magic numbers throw as
 * soon as the first 4 bytes are known.
 */
function readIdxHeader(op: string, bytes: Uint8Array, complete: boolean): IdxHeader | null {
  if (bytes.length < 4) {
    if (!complete) return null;
    throw new AxonError(op, `truncated IDX header: expected at least 4 bytes, got ${bytes.length}`);
  }
  const magic = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
  if (bytes[0] !== 0 || bytes[1] !== 0) throw new AxonError(op, `wrong magic number ${magic}: expected 00 00 <type> <dims>`);
  const t = TYPES[bytes[2]];
  if (!t) throw new AxonError(op, `wrong magic number ${magic}: unknown element type 0x${bytes[2].toString(16).padStart(2, '0')} (expected 08, 09, 0b, 0c, 0d or 0e)`);
  const [type, width] = t;
  const ndim = bytes[3];
  if (ndim === 0) throw new AxonError(op, `wrong magic number ${magic}: expected at least 1 dimension`);
  const headerLen = 4 + 4 * ndim;
  if (bytes.length < headerLen) {
    if (!complete) return null;
    throw new AxonError(op, `truncated IDX header: ${ndim} dimensions need ${headerLen} bytes, got ${bytes.length}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape: number[] = [];
  let count = 1;
  for (let d = 0; d < ndim; d++) {
    const s = view.getUint32(4 + 4 * d, false);
    shape.push(s);
    count *= s;
  }
  // count may exceed 2^53 for absurd headers; it then only ever compares as too large.
  return { type, width, shape, count, headerLen, total: headerLen + count * width };
}

function describeTotal(h: IdxHeader): string {
  return `shape [${h.shape.join(',')}] of ${h.type} (${h.total} bytes with the header)`;
}

/**
 * Parses an (uncompressed) IDX file — the format of MNIST, Fashion-MNIST and EMNIST: a magic
 * number `00 00 TT NN` (type `TT`, `NN` dimensions), `NN` big-endian uint32 sizes, then the
 * big-endian elements. The header's dims × element size must match the payload exactly, which
 * is checked before anything is allocated: wrong magic numbers, truncated data and trailing
 * bytes throw an {@link AxonError}. Gzipped files must be decompressed first ({@link loadIdx}
 * does it).
 *
 * @example
 * ```ts
 * // an MNIST-style labels file: magic 00 00 08 01 (uint8, 1 dimension), the size 3 (big-endian), the labels
 * const bytes = new Uint8Array([0, 0, 8, 1, 0, 0, 0, 3, 5, 0, 4]);
 * const labels = parseIdx(bytes);
 * labels.shape; // [3]
 * labels.data; // [5, 0, 4]
 * parseIdx(bytes.subarray(0, 10)); // throws: 'truncated IDX data: shape [3] of uint8 needs 11 bytes, got 10'
 * ```
 */
export function parseIdx(input: Uint8Array | ArrayBuffer): IdxArray {
  const op = 'parseIdx';
  const bytes = input instanceof ArrayBuffer ? new Uint8Array(input) : input;
  if (!(bytes instanceof Uint8Array)) throw new AxonError(op, 'expected a Uint8Array or ArrayBuffer');
  if (isGzip(bytes)) {
    throw new AxonError(op, 'the data is gzip-compressed (magic 1f 8b); decompress it first or use loadIdx');
  }
  const h = readIdxHeader(op, bytes, true) as IdxHeader;
  const { type, shape, count, headerLen, total: expected } = h;
  if (bytes.length < expected) {
    throw new AxonError(op, `truncated IDX data: shape [${shape.join(',')}] of ${type} needs ${expected} bytes, got ${bytes.length}`);
  }
  if (bytes.length > expected) {
    throw new AxonError(op, `IDX data has ${bytes.length - expected} unexpected trailing bytes after shape [${shape.join(',')}] of ${type}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const body = headerLen;
  let data: IdxArray['data'];
  switch (type) {
    case 'uint8':
      data = bytes.subarray(body, expected);
      break;
    case 'int8':
      data = new Int8Array(bytes.buffer, bytes.byteOffset + body, count);
      break;
    case 'int16': {
      const a = new Int16Array(count);
      for (let i = 0; i < count; i++) a[i] = view.getInt16(body + 2 * i, false);
      data = a;
      break;
    }
    case 'int32': {
      const a = new Int32Array(count);
      for (let i = 0; i < count; i++) a[i] = view.getInt32(body + 4 * i, false);
      data = a;
      break;
    }
    case 'float32': {
      const a = new Float32Array(count);
      for (let i = 0; i < count; i++) a[i] = view.getFloat32(body + 4 * i, false);
      data = a;
      break;
    }
    default: {
      const a = new Float64Array(count);
      for (let i = 0; i < count; i++) a[i] = view.getFloat64(body + 8 * i, false);
      data = a;
    }
  }
  return { type, shape, data };
}

/**
 * Options of {@link loadIdx}.
 *
 * @example
 * ```ts
 * import { writeFileSync } from 'node:fs';
 * import { gzipSync } from 'node:zlib';
 *
 * const idx = encodeIdx({ type: 'uint8', shape: [100, 28, 28], data: new Uint8Array(100 * 28 * 28) });
 * writeFileSync('images-idx3-ubyte.gz', gzipSync(idx));
 * (await loadIdx('images-idx3-ubyte.gz', { maxBytes: 2 * 2 ** 30 })).shape; // [100, 28, 28]
 * // the header's declared size is checked before anything is decompressed or allocated
 * await loadIdx('images-idx3-ubyte.gz', { maxBytes: 10_000 }); // throws: 'declares shape [100,28,28] of uint8 (78416 bytes with the header), more than the limit of 10000 bytes'
 * ```
 */
export interface LoadIdxOptions {
  /**
   * The most bytes to read (the file, download or Blob) and to decompress (default
   * {@link DEFAULT_MAX_BYTES}, 1 GiB). An IDX header that declares more fails before anything
   * is allocated.
   */
  maxBytes?: number;
}

/**
 * Decompresses a gzipped IDX file with a limit taken from its own header: the header is read
 * first, its declared size is checked against `max` and against what the compressed size can
 * hold, then exactly that many bytes are decompressed — a stream that runs longer (a gzip bomb
 * behind a small header) stops at the first extra byte.
 */
async function inflateIdx(op: string, gz: Uint8Array, max: number): Promise<IdxArray> {
  const head = new Uint8Array(4 + 4 * 255);
  let headLen = 0;
  let header: IdxHeader | null = null;
  let out: Uint8Array | null = null;
  let have = 0;
  const trailing = (h: IdxHeader): AxonError =>
    new AxonError(op, `IDX data has unexpected trailing bytes after ${describeTotal(h)}: the gzip data expands to more; stopped decompressing`);
  for await (const chunk of inflateChunks(op, gz)) {
    let c = chunk;
    if (!header) {
      const take = Math.min(c.length, head.length - headLen);
      head.set(c.subarray(0, take), headLen);
      headLen += take;
      c = c.subarray(take);
      header = readIdxHeader(op, head.subarray(0, headLen), false);
      if (!header) continue;
      if (header.total > max) {
        throw new AxonError(op, `the IDX header declares ${describeTotal(header)}, more than ${limitText(max)}`);
      }
      if (header.total > MAX_INFLATE_RATIO * gz.length) {
        throw new AxonError(op, `the IDX header declares ${describeTotal(header)}, but ${gz.length} bytes of gzip data can expand to at most ${MAX_INFLATE_RATIO * gz.length}`);
      }
      if (headLen > header.total) throw trailing(header);
      out = new Uint8Array(header.total);
      out.set(head.subarray(0, headLen));
      have = headLen;
    }
    if (!out) continue;
    if (have + c.length > out.length) throw trailing(header);
    out.set(c, have);
    have += c.length;
  }
  if (!header || !out) {
    readIdxHeader(op, head.subarray(0, headLen), true); // throws: truncated header
    throw new AxonError(op, 'truncated IDX header');
  }
  if (have < out.length) {
    throw new AxonError(op, `truncated IDX data: shape [${header.shape.join(',')}] of ${header.type} needs ${header.total} bytes, got ${have}`);
  }
  return parseIdx(out);
}

/**
 * Reads and parses an IDX file from any {@link DataSource}, decompressing gzip (detected by its
 * magic bytes `1f 8b`) first. Limits: the source may be at most `maxBytes` (default 1 GiB); a
 * gzipped file is decompressed as a stream up to exactly the size its IDX header declares (which
 * must itself be within `maxBytes` and within what the compressed size can hold), so a small
 * gzip that expands to gigabytes fails fast with an `AxonError` and allocates nothing large.
 *
 * @example
 * ```ts
 * import { writeFileSync } from 'node:fs';
 * import { gzipSync } from 'node:zlib';
 *
 * const labels = encodeIdx({ type: 'uint8', shape: [4], data: new Uint8Array([7, 2, 1, 0]) });
 * writeFileSync('t10k-labels-idx1-ubyte.gz', gzipSync(labels));
 * const parsed = await loadIdx('t10k-labels-idx1-ubyte.gz');
 * parsed.data; // [7, 2, 1, 0]
 * (await loadIdx(labels)).shape; // [4]
 * ```
 */
export async function loadIdx(source: DataSource, options: LoadIdxOptions = {}): Promise<IdxArray> {
  const op = 'loadIdx';
  const max = checkMaxBytes(op, options?.maxBytes);
  const bytes = await readSource(op, source, { maxBytes: max });
  if (!isGzip(bytes)) return parseIdx(bytes);
  return inflateIdx(op, bytes, max);
}

/**
 * Encodes an IDX file (uncompressed) — the inverse of {@link parseIdx}, handy for tests and for
 * saving datasets in MNIST's format.
 *
 * @example
 * const bytes = encodeIdx({ type: 'uint8', shape: [2], data: new Uint8Array([5, 0]) });
 * bytes; // [0, 0, 8, 1, 0, 0, 0, 2, 5, 0]
 * parseIdx(bytes).data; // [5, 0]
 */
export function encodeIdx(array: IdxArray): Uint8Array {
  const op = 'encodeIdx';
  const code = Number(Object.keys(TYPES).find((k) => TYPES[Number(k)][0] === array.type));
  if (!code) throw new AxonError(op, `unknown IDX type '${String(array.type)}'`);
  const width = TYPES[code][1];
  const shape = array.shape;
  if (shape.length < 1 || shape.length > 255) throw new AxonError(op, `expected 1 to 255 dimensions, got ${shape.length}`);
  const count = shape.reduce((a, b) => a * b, 1);
  if (array.data.length !== count) throw new AxonError(op, `${array.data.length} values do not match shape [${shape.join(',')}] (${count})`);
  const head = 4 + 4 * shape.length;
  const out = new Uint8Array(head + count * width);
  const view = new DataView(out.buffer);
  out[2] = code;
  out[3] = shape.length;
  shape.forEach((s, d) => view.setUint32(4 + 4 * d, s, false));
  const src = array.data;
  for (let i = 0; i < count; i++) {
    const o = head + i * width;
    switch (array.type) {
      case 'uint8':
        view.setUint8(o, src[i]);
        break;
      case 'int8':
        view.setInt8(o, src[i]);
        break;
      case 'int16':
        view.setInt16(o, src[i], false);
        break;
      case 'int32':
        view.setInt32(o, src[i], false);
        break;
      case 'float32':
        view.setFloat32(o, src[i], false);
        break;
      default:
        view.setFloat64(o, src[i], false);
    }
  }
  return out;
}
