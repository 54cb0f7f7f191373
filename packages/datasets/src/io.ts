import type * as FsPromises from 'node:fs/promises';
import type * as Zlib from 'node:zlib';
import { AxonError, readRegularFile } from '@axon/core';

/**
 * Where bytes can come from: a file path (Node) or URL string, a `URL`, a `Blob`/`File`, an
 * `ArrayBuffer`, or a typed array / `DataView`.
 *
 * @example
 * ```ts
 * const remote: DataSource = new URL('https://example.com/train-images-idx3-ubyte.gz'); // fetched when read
 * const local: DataSource = new Blob(['a,b\n1,2\n']);
 * (await readBytes(local)).length; // 8
 * ```
 */
export type DataSource = string | URL | Blob | ArrayBuffer | ArrayBufferView;

/** @internal Whether we run in Node (or a Node-compatible runtime with `node:` modules). */
export function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === 'string';
}

/**
 * @internal Imports a Node built-in at run time. The specifier is a variable so browser bundlers
 * never try to include Node modules.
 */
export async function nodeImport<M>(name: string): Promise<M> {
  const spec = `node:${name}`;
  return (await import(/* @vite-ignore */ /* webpackIgnore: true */ spec)) as M;
}

/** @internal */
export async function nodeFs(): Promise<typeof FsPromises> {
  return nodeImport<typeof FsPromises>('fs/promises');
}

/** @internal Whether a string is an absolute URL (scheme of 2+ letters, so `C:\…` stays a path). */
export function isUrlString(s: string): boolean {
  return /^[a-z][a-z0-9+.-]+:/i.test(s) && !/^[a-z]:[\\/]/i.test(s);
}

/** @internal Whether a file exists (Node). */
export async function fileExists(path: string | URL): Promise<boolean> {
  const fs = await nodeFs();
  try {
    const st = await fs.stat(path);
    return st.isFile();
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------- limits

/**
 * The default cap, 1 GiB (2^30 bytes), on what this package reads from one file, URL or Blob and
 * on what one gzip stream may expand to. Every reader takes a `maxBytes` option to raise (or
 * lower) it; `Infinity` lifts it.
 *
 * @example
 * ```ts
 * import { writeFileSync } from 'node:fs';
 *
 * DEFAULT_MAX_BYTES; // 1073741824
 * writeFileSync('twokb.bin', new Uint8Array(2048));
 * await readBytes('twokb.bin', { maxBytes: 1024 }); // throws: 'is 2048 bytes, more than the limit of 1024 bytes'
 * (await readBytes('twokb.bin', { maxBytes: 4 * DEFAULT_MAX_BYTES })).length; // 2048
 * ```
 */
export const DEFAULT_MAX_BYTES = 2 ** 30;

/**
 * The most that deflate can expand one byte to (a 258-byte match coded in 2 bits): gzip data of
 * `n` bytes never decompresses to more than 1032·n bytes, which bounds what a header may declare.
 *
 * @example
 * ```ts
 * import { gzipSync } from 'node:zlib';
 *
 * MAX_INFLATE_RATIO; // 1032
 * const gz = gzipSync(new Uint8Array(1_000_000)); // a megabyte of zeros compresses extremely well…
 * const ceiling = MAX_INFLATE_RATIO * gz.length; // …yet no valid gzip of gz.length bytes expands further
 * ceiling >= 1_000_000; // true
 * ```
 */
export const MAX_INFLATE_RATIO = 1032;

/**
 * Options of {@link readBytes}.
 *
 * @example
 * ```ts
 * import { writeFileSync } from 'node:fs';
 *
 * writeFileSync('data.bin', new Uint8Array([1, 2, 3]));
 * await readBytes('data.bin', { maxBytes: 64 * 2 ** 20 }); // [1, 2, 3]
 * await readBytes('data.bin', { maxBytes: 2 }); // throws: 'more than the limit of 2 bytes'
 * ```
 */
export interface ReadOptions {
  /**
   * Refuse files, downloads and Blobs larger than this many bytes, before reading them (default
   * {@link DEFAULT_MAX_BYTES}, 1 GiB). Buffers already in memory are returned as they are.
   */
  maxBytes?: number;
}

/** @internal Validates a `maxBytes` option (a positive integer or Infinity), applying the default. */
export function checkMaxBytes(op: string, maxBytes: unknown, fallback = DEFAULT_MAX_BYTES): number {
  if (maxBytes === undefined) return fallback;
  if (maxBytes === Infinity) return Infinity;
  if (typeof maxBytes !== 'number' || !Number.isSafeInteger(maxBytes) || maxBytes < 1) {
    throw new AxonError(op, `expected maxBytes to be a positive integer (or Infinity), got ${String(maxBytes)}`);
  }
  return maxBytes;
}

/** @internal "the limit of N bytes; raise it with { maxBytes }" */
export function limitText(max: number, option = 'maxBytes'): string {
  return `the limit of ${max} bytes (raise it with { ${option} })`;
}

/**
 * @internal Collects chunks into one buffer of at most `limit` bytes, preallocating `hint` bytes
 * and growing by doubling; `over()` makes the error when a chunk would pass the limit.
 */
export class ByteSink {
  private buf: Uint8Array;
  private used = 0;
  constructor(
    private readonly limit: number,
    hint: number,
    private readonly over: () => AxonError,
  ) {
    this.buf = new Uint8Array(Math.max(0, Math.min(hint, limit)));
  }

  /** Bytes collected so far. */
  get length(): number {
    return this.used;
  }

  push(chunk: Uint8Array): void {
    const need = this.used + chunk.length;
    if (need > this.limit) throw this.over();
    if (need > this.buf.length) {
      const grown = new Uint8Array(Math.min(this.limit, Math.max(need, 2 * this.buf.length, 65536)));
      grown.set(this.buf.subarray(0, this.used));
      this.buf = grown;
    }
    this.buf.set(chunk, this.used);
    this.used = need;
  }

  bytes(): Uint8Array {
    return this.used === this.buf.length ? this.buf : this.buf.slice(0, this.used);
  }
}

// ---------------------------------------------------------------- reading

/**
 * @internal Reads a response body with a byte cap: a `Content-Length` over the cap fails before
 * reading; otherwise the body is streamed and the download cancelled as soon as it passes the cap.
 */
export async function readResponse(op: string, res: Response, what: string, maxBytes: number): Promise<Uint8Array> {
  const over = (): AxonError => new AxonError(op, `${what} is larger than ${limitText(maxBytes)}`);
  const declared = Number(res.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await res.body?.cancel().catch(() => undefined);
    throw new AxonError(op, `${what} is ${declared} bytes (Content-Length), more than ${limitText(maxBytes)}`);
  }
  if (!res.body) {
    const b = new Uint8Array(await res.arrayBuffer());
    if (b.length > maxBytes) throw over();
    return b;
  }
  const reader = res.body.getReader();
  const sink = new ByteSink(maxBytes, Number.isFinite(declared) ? declared : 65536, over);
  let finished = false;
  try {
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      sink.push(r.value);
    }
    finished = true;
  } catch (e) {
    if (e instanceof AxonError) throw e;
    throw new AxonError(op, `could not read ${what}: ${(e as Error).message}`);
  } finally {
    if (!finished) await reader.cancel().catch(() => undefined);
  }
  return sink.bytes();
}

async function fetchBytes(op: string, url: string | URL, maxBytes: number): Promise<Uint8Array> {
  if (typeof fetch !== 'function') throw new AxonError(op, `cannot load ${String(url)}: fetch is not available here`);
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new AxonError(op, `could not fetch ${String(url)}: ${(e as Error).message}`);
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => undefined);
    throw new AxonError(op, `could not fetch ${String(url)}: HTTP ${res.status} ${res.statusText}`);
  }
  return readResponse(op, res, String(url), maxBytes);
}

/**
 * @internal Reads a regular file (Node) of at most `maxBytes` bytes: core's `readRegularFile`
 * (devices such as /dev/zero, FIFOs, directories and sockets are refused before reading).
 */
export async function readFile(op: string, path: string | URL, maxBytes: number): Promise<Uint8Array> {
  return readRegularFile(op, path, { maxBytes, limit: limitText(maxBytes) });
}

/**
 * Reads all bytes of a {@link DataSource}: paths and `file:` URLs through `node:fs` in Node,
 * other URLs through `fetch`, Blobs through `arrayBuffer()`; buffers are wrapped without copying.
 * Paths that are not regular files (a directory, a FIFO, a device such as `/dev/zero`) are
 * refused before reading, and sources larger than `maxBytes` (default
 * {@link DEFAULT_MAX_BYTES}, 1 GiB) before they are read in full, with an `AxonError`.
 *
 * @example
 * ```ts
 * import { writeFileSync } from 'node:fs';
 *
 * await readBytes(new Blob([new Uint8Array([1, 2])])); // [1, 2]
 * writeFileSync('bytes.bin', new Uint8Array([7, 8, 9]));
 * await readBytes('bytes.bin'); // [7, 8, 9]
 * await readBytes('.'); // throws: 'not a regular file; refusing to read it'
 * await readBytes('no-such-file.bin'); // throws: 'file not found'
 * ```
 */
export async function readBytes(source: DataSource, options: ReadOptions = {}): Promise<Uint8Array> {
  return readSource('readBytes', source, options);
}

/** @internal {@link readBytes} with errors naming `op`. */
export async function readSource(op: string, source: DataSource, options: ReadOptions = {}): Promise<Uint8Array> {
  const max = checkMaxBytes(op, options?.maxBytes);
  if (source instanceof Uint8Array) return source;
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  if (ArrayBuffer.isView(source)) return new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  if (typeof Blob !== 'undefined' && source instanceof Blob) {
    if (source.size > max) throw new AxonError(op, `the Blob is ${source.size} bytes, more than ${limitText(max)}`);
    return new Uint8Array(await source.arrayBuffer());
  }
  if (source instanceof URL) {
    if (source.protocol === 'file:' && isNode()) return readFile(op, source, max);
    return fetchBytes(op, source, max);
  }
  if (typeof source === 'string') {
    if (isUrlString(source)) {
      if (source.startsWith('file:') && isNode()) return readFile(op, new URL(source), max);
      return fetchBytes(op, source, max);
    }
    if (isNode()) return readFile(op, source, max);
    return fetchBytes(op, source, max); // relative URL in a browser
  }
  throw new AxonError(op, `expected a path, URL, Blob, ArrayBuffer or typed array, got ${source === null ? 'null' : typeof source}`);
}

// ---------------------------------------------------------------- gzip

/**
 * Whether bytes start with the gzip magic number `1f 8b`.
 * @example isGzip(new Uint8Array([0x1f, 0x8b, 8])) // true
 */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Options of {@link gunzip} and {@link maybeGunzip}.
 *
 * @example
 * ```ts
 * import { gzipSync } from 'node:zlib';
 *
 * const gz = gzipSync(new Uint8Array(1000));
 * (await gunzip(gz, { maxBytes: 100 * 2 ** 20, using: 'zlib' })).length; // 1000
 * await gunzip(gz, { maxBytes: 100 }); // throws: 'more than the limit of 100 bytes'
 * ```
 */
export interface GunzipOptions {
  /**
   * Fail with an `AxonError` as soon as the output would pass this many bytes (default
   * {@link DEFAULT_MAX_BYTES}, 1 GiB), without decompressing or allocating the rest.
   */
  maxBytes?: number;
  /** Force `DecompressionStream` ('stream') or `node:zlib` ('zlib'); default: the former where available. */
  using?: 'stream' | 'zlib';
}

/**
 * Compressed input is fed to the decompressor in slices of this size, as its output is consumed:
 * the decompressor never holds more than one slice's output (≤ 1032 × 16 KiB ≈ 16.5 MiB) beyond
 * what the caller has taken, whatever the file expands to.
 */
const INFLATE_SLICE = 16 * 1024;

/**
 * @internal Decompresses gzip `bytes` as a stream of chunks, reading input only as output is
 * consumed; stopping the iteration stops the decompressor. Corrupt data throws an AxonError.
 */
export async function* inflateChunks(op: string, bytes: Uint8Array, using?: 'stream' | 'zlib'): AsyncGenerator<Uint8Array> {
  if (using !== undefined && using !== 'stream' && using !== 'zlib') throw new AxonError(op, `expected using to be 'stream' or 'zlib', got ${String(using)}`);
  const hasStream = typeof (globalThis as { DecompressionStream?: unknown }).DecompressionStream === 'function';
  const impl = using ?? (hasStream ? 'stream' : 'zlib');
  if (impl === 'stream') {
    if (!hasStream) throw new AxonError(op, 'DecompressionStream is not available here');
    yield* inflateWithStream(op, bytes);
    return;
  }
  if (!isNode()) throw new AxonError(op, 'no gzip decompressor: DecompressionStream is missing and this is not Node');
  yield* inflateWithZlib(op, bytes);
}

async function* inflateWithStream(op: string, bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  let off = 0;
  const input = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (off >= bytes.length) {
          controller.close();
          return;
        }
        controller.enqueue(bytes.slice(off, off + INFLATE_SLICE));
        off += INFLATE_SLICE;
      },
    },
    { highWaterMark: 0 },
  );
  const reader = (input.pipeThrough(new DecompressionStream('gzip') as unknown as ReadableWritablePair<Uint8Array, Uint8Array>)).getReader();
  let finished = false;
  try {
    for (;;) {
      let r: ReadableStreamReadResult<Uint8Array>;
      try {
        r = await reader.read();
      } catch (e) {
        throw new AxonError(op, `corrupt gzip data: ${(e as Error).message}`);
      }
      if (r.done) break;
      yield r.value;
    }
    finished = true;
  } finally {
    if (!finished) await reader.cancel().catch(() => undefined);
  }
}

async function* inflateWithZlib(op: string, bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  const zlib = await nodeImport<typeof Zlib>('zlib');
  const z = zlib.createGunzip({ chunkSize: 64 * 1024 });
  const feed = async (): Promise<void> => {
    for (let off = 0; off < bytes.length; off += INFLATE_SLICE) {
      if (z.destroyed) return;
      if (!z.write(bytes.subarray(off, off + INFLATE_SLICE))) {
        await new Promise<void>((resolve) => {
          const done = (): void => {
            z.off('drain', done);
            z.off('close', done);
            resolve();
          };
          z.on('drain', done);
          z.on('close', done);
        });
      }
    }
    if (!z.destroyed) z.end();
  };
  const feeding = feed().catch(() => undefined); // write errors surface on the readable side
  try {
    const it = z[Symbol.asyncIterator]() as AsyncIterator<Uint8Array>;
    for (;;) {
      let r: IteratorResult<Uint8Array>;
      try {
        r = await it.next();
      } catch (e) {
        throw new AxonError(op, `corrupt gzip data: ${(e as Error).message}`);
      }
      if (r.done) break;
      yield r.value;
    }
  } finally {
    z.destroy();
    await feeding;
  }
}

/**
 * @internal The size the gzip trailer declares (ISIZE: the last member's length mod 2^32), or
 * 0 when too short. A valid stream decompresses to at least this many bytes.
 */
export function gzipDeclaredSize(bytes: Uint8Array): number {
  if (bytes.length < 18) return 0;
  const n = bytes.length;
  return (bytes[n - 4] | (bytes[n - 3] << 8) | (bytes[n - 2] << 16) | (bytes[n - 1] << 24)) >>> 0;
}

/**
 * Decompresses gzip bytes with `DecompressionStream('gzip')` where available, else `node:zlib`
 * (or the one `using` names), as a stream with a cap: output larger than `maxBytes` (default
 * {@link DEFAULT_MAX_BYTES}, 1 GiB) fails with an `AxonError` as soon as it passes the cap —
 * immediately when the gzip trailer already declares more — without allocating the rest.
 * The second argument may also be just `'stream'` or `'zlib'`.
 *
 * @example
 * ```ts
 * import { gzipSync } from 'node:zlib';
 *
 * const gzBytes = gzipSync('hello, gzip');
 * const raw = await gunzip(gzBytes);
 * new TextDecoder().decode(raw); // 'hello, gzip'
 * const small = await gunzip(gzBytes, { maxBytes: 10 * 2 ** 20 }); // at most 10 MiB
 * small.length; // 11
 * await gunzip(new Uint8Array([1, 2, 3])); // throws: 'expected gzip data'
 * ```
 */
export async function gunzip(bytes: Uint8Array, options: GunzipOptions | 'stream' | 'zlib' = {}): Promise<Uint8Array> {
  const op = 'gunzip';
  const o: GunzipOptions = typeof options === 'string' ? { using: options } : (options ?? {});
  if (!(bytes instanceof Uint8Array)) throw new AxonError(op, 'expected gzip data as a Uint8Array');
  const max = checkMaxBytes(op, o.maxBytes);
  if (!isGzip(bytes)) throw new AxonError(op, 'expected gzip data (starting with the bytes 1f 8b)');
  const declared = gzipDeclaredSize(bytes);
  if (declared > max) throw new AxonError(op, `the gzip data declares ${declared} bytes uncompressed (its trailer), more than ${limitText(max)}`);
  const sink = new ByteSink(max, Math.min(declared, MAX_INFLATE_RATIO * bytes.length), () => new AxonError(op, `the gzip data expands to more than ${limitText(max)}; stopped decompressing`));
  for await (const chunk of inflateChunks(op, bytes, o.using)) sink.push(chunk);
  return sink.bytes();
}

/**
 * Decompresses `bytes` if they are gzip (magic `1f 8b`), else returns them unchanged. Takes the
 * options of {@link gunzip} (the `maxBytes` cap applies to the decompressed size).
 * @example
 * ```ts
 * import { gzipSync } from 'node:zlib';
 *
 * await maybeGunzip(gzipSync(new Uint8Array([1, 2, 3]))); // [1, 2, 3]
 * await maybeGunzip(new Uint8Array([1, 2, 3])); // [1, 2, 3]
 * ```
 */
export async function maybeGunzip(bytes: Uint8Array, options: GunzipOptions = {}): Promise<Uint8Array> {
  return isGzip(bytes) ? gunzip(bytes, options) : bytes;
}
