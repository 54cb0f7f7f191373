/**
 * Reading a file that a user named, safely (Node only; `node:fs` is imported lazily, so importing
 * core in a browser costs nothing): the one implementation every Axon loader uses (`@axon/layers`'
 * models and checkpoints, `@axon/datasets`' IDX, CSV and byte sources).
 */
import { AxonError } from './errors.js';

interface StatLike {
  readonly size: number;
  readonly ino: number;
  readonly dev: number;
  isFile(): boolean;
  isDirectory(): boolean;
  isFIFO(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
  isSocket(): boolean;
}

interface FileHandleLike {
  stat(): Promise<StatLike>;
  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  close(): Promise<void>;
}

interface FsLike {
  stat(path: string | URL): Promise<StatLike>;
  open(path: string | URL, flags: number | string): Promise<FileHandleLike>;
  constants?: { O_RDONLY?: number; O_NONBLOCK?: number };
}

function kindOf(st: StatLike): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * Options of {@link readRegularFile}.
 * @example
 * ```ts
 * import { writeFile } from 'node:fs/promises';
 * await writeFile('big.bin', new Uint8Array(2048));
 * const o: ReadFileOptions = { maxBytes: 1024, limit: 'the 1 KiB limit (raise it with maxBytes)' };
 * await readRegularFile('myLoader', 'big.bin', o); // throws: "'big.bin' is 2048 bytes, more than the 1 KiB limit (raise it with maxBytes)"
 * ```
 */
export interface ReadFileOptions {
  /** Refuse a file larger than this many bytes before reading it (default: no limit). */
  readonly maxBytes?: number;
  /** How the limit is worded in the error, e.g. "the 32 MiB limit (raise it with maxJsonBytes)". */
  readonly limit?: string;
}

/**
 * Reads a regular file (Node). Anything else — a directory, a FIFO, a socket, a device such as
 * `/dev/zero` — is refused with an {@link AxonError} naming the path before a byte is read: the path
 * is `stat`ed, then opened without blocking (a FIFO does not hang the open) and checked again with
 * `fstat` (a file swapped in between is refused), and exactly its size is read. A file larger than
 * `maxBytes` is refused before reading; one that shrinks or grows while being read is an error.
 * @example
 * ```ts
 * import { writeFile } from 'node:fs/promises';
 * await writeFile('notes.txt', 'hello');
 * const bytes = await readRegularFile('myLoader', 'notes.txt', { maxBytes: 32 * 2 ** 20 });
 * new TextDecoder().decode(bytes) // 'hello'
 * await readRegularFile('myLoader', 'missing.txt'); // throws: "myLoader: file not found: 'missing.txt'"
 * await readRegularFile('myLoader', '.'); // throws: "'.' is a directory, not a regular file"
 * ```
 */
export async function readRegularFile(op: string, path: string | URL, opts: ReadFileOptions = {}): Promise<Uint8Array> {
  const maxBytes = opts.maxBytes ?? Infinity;
  const limit = opts.limit ?? `the ${maxBytes}-byte limit`;
  const name = `'${path instanceof URL ? path.pathname : path}'`;
  let fs: FsLike;
  try {
    const spec = 'node:fs/promises'; // a variable keeps bundlers from resolving a Node built-in
    fs = (await import(/* @vite-ignore */ spec)) as FsLike;
  } catch {
    throw new AxonError(op, `reading ${name} needs Node.js (in a browser, fetch the bytes and pass them in)`);
  }
  const fail = (e: unknown): never => {
    if (e instanceof AxonError) throw e;
    const code = (e as { code?: string }).code;
    if (code === 'ENOENT') throw new AxonError(op, `file not found: ${name}`);
    throw new AxonError(op, `cannot read ${name}: ${e instanceof Error ? e.message : String(e)}`);
  };
  const refuse = (st: StatLike): void => {
    if (!st.isFile()) throw new AxonError(op, `${name} is ${kindOf(st)}, not a regular file; refusing to read it`);
    if (st.size > maxBytes) throw new AxonError(op, `${name} is ${st.size} bytes, more than ${limit}`);
  };
  let st: StatLike;
  try {
    st = await fs.stat(path);
  } catch (e) {
    return fail(e);
  }
  refuse(st);
  const c = fs.constants;
  const flags = c?.O_RDONLY !== undefined ? c.O_RDONLY | (c.O_NONBLOCK ?? 0) : 'r';
  let fh: FileHandleLike;
  try {
    fh = await fs.open(path, flags);
  } catch (e) {
    return fail(e);
  }
  try {
    const st2 = await fh.stat();
    refuse(st2);
    if (st2.ino !== st.ino || st2.dev !== st.dev) throw new AxonError(op, `${name} was replaced while being opened; try again`);
    const size = st2.size;
    const out = new Uint8Array(size);
    let off = 0;
    while (off < size) {
      const { bytesRead } = await fh.read(out, off, size - off, off);
      if (bytesRead === 0) break;
      off += bytesRead;
    }
    if (off < size) throw new AxonError(op, `${name} shrank from ${size} to ${off} bytes while being read`);
    const { bytesRead: extra } = await fh.read(new Uint8Array(1), 0, 1, size);
    if (extra > 0) throw new AxonError(op, `${name} grew past ${size} bytes while being read`);
    return out;
  } catch (e) {
    return fail(e);
  } finally {
    await fh.close().catch(() => undefined);
  }
}
