import type * as FsPromises from 'node:fs/promises';
import type * as Zlib from 'node:zlib';
import { AxonError } from '@axon/core';

/**
 * Where bytes can come from: a file path (Node) or URL string, a `URL`, a `Blob`/`File`, an
 * `ArrayBuffer`, or a typed array / `DataView`.
 *
 * @example
 * const src: DataSource = new URL('https://example.com/train-images-idx3-ubyte.gz');
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

async function fetchBytes(op: string, url: string | URL): Promise<Uint8Array> {
  if (typeof fetch !== 'function') throw new AxonError(op, `cannot load ${String(url)}: fetch is not available here`);
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new AxonError(op, `could not fetch ${String(url)}: ${(e as Error).message}`);
  }
  if (!res.ok) throw new AxonError(op, `could not fetch ${String(url)}: HTTP ${res.status} ${res.statusText}`);
  return new Uint8Array(await res.arrayBuffer());
}

async function readFile(op: string, path: string | URL): Promise<Uint8Array> {
  const fs = await nodeFs();
  try {
    const b = await fs.readFile(path);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ENOENT') throw new AxonError(op, `file not found: ${String(path)}`);
    throw new AxonError(op, `could not read ${String(path)}: ${(e as Error).message}`);
  }
}

/**
 * Reads all bytes of a {@link DataSource}: paths and `file:` URLs through `node:fs` in Node,
 * other URLs through `fetch`, Blobs through `arrayBuffer()`; buffers are wrapped without copying.
 *
 * @example
 * const bytes = await readBytes(new Blob([new Uint8Array([1, 2])])); // Uint8Array [1, 2]
 */
export async function readBytes(source: DataSource): Promise<Uint8Array> {
  return readSource('readBytes', source);
}

/** @internal {@link readBytes} with errors naming `op`. */
export async function readSource(op: string, source: DataSource): Promise<Uint8Array> {
  if (source instanceof Uint8Array) return source;
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  if (ArrayBuffer.isView(source)) return new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  if (typeof Blob !== 'undefined' && source instanceof Blob) return new Uint8Array(await source.arrayBuffer());
  if (source instanceof URL) {
    if (source.protocol === 'file:' && isNode()) return readFile(op, source);
    return fetchBytes(op, source);
  }
  if (typeof source === 'string') {
    if (isUrlString(source)) {
      if (source.startsWith('file:') && isNode()) return readFile(op, new URL(source));
      return fetchBytes(op, source);
    }
    if (isNode()) return readFile(op, source);
    return fetchBytes(op, source); // relative URL in a browser
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
 * Decompresses gzip bytes with `DecompressionStream('gzip')` where available, else `node:zlib`.
 * `using` forces one implementation (for tests).
 *
 * @example
 * const raw = await gunzip(gzBytes);
 */
export async function gunzip(bytes: Uint8Array, using?: 'stream' | 'zlib'): Promise<Uint8Array> {
  const op = 'gunzip';
  if (!isGzip(bytes)) throw new AxonError(op, 'expected gzip data (starting with the bytes 1f 8b)');
  const hasStream = typeof (globalThis as { DecompressionStream?: unknown }).DecompressionStream === 'function';
  const impl = using ?? (hasStream ? 'stream' : 'zlib');
  if (impl === 'stream') {
    if (!hasStream) throw new AxonError(op, 'DecompressionStream is not available here');
    try {
      const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('gzip'));
      return new Uint8Array(await new Response(stream).arrayBuffer());
    } catch (e) {
      throw new AxonError(op, `corrupt gzip data: ${(e as Error).message}`);
    }
  }
  if (!isNode()) throw new AxonError(op, 'no gzip decompressor: DecompressionStream is missing and this is not Node');
  const zlib = await nodeImport<typeof Zlib>('zlib');
  try {
    const out = zlib.gunzipSync(bytes);
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (e) {
    throw new AxonError(op, `corrupt gzip data: ${(e as Error).message}`);
  }
}

/**
 * Decompresses `bytes` if they are gzip (magic `1f 8b`), else returns them unchanged.
 * @example
 * const raw = await maybeGunzip(await readBytes('train-images-idx3-ubyte.gz'));
 */
export async function maybeGunzip(bytes: Uint8Array): Promise<Uint8Array> {
  return isGzip(bytes) ? gunzip(bytes) : bytes;
}
