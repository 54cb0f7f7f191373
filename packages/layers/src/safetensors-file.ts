/**
 * Lazy safetensors reads in Node: {@link openSafetensors} reads and validates the header only
 * (against the file's size), then each tensor's bytes on request, so a file larger than memory
 * can be inspected and loaded one tensor at a time.
 */
import type * as NodeFs from 'node:fs/promises';
import { AxonError, type DType, type Tensor, fmtValue, tensor } from '@axon/core';
import { type HostTensorEntry, type PlannedTensor, type SafetensorsDtype, decodeTensor, headerLength, validateHeader } from './safetensors.js';

/**
 * Where one tensor lies in a safetensors file and what it holds, as {@link SafetensorsFile.info}
 * reports it (read from the header; no tensor data is read).
 * @example
 * await saveSafetensors(new Linear(3, 2), 'info.safetensors', { dtype: 'float16' });
 * await using f = await openSafetensors('info.safetensors');
 * const i: SafetensorsTensorInfo = f.info('weight');
 * i // { dtype: 'float32', sourceDtype: 'F16', shape: [2, 3], byteLength: 12 }
 * i.byteOffset > 8 // true: after the header
 */
export interface SafetensorsTensorInfo {
  /** The dtype the tensor is read as. */
  readonly dtype: DType;
  /** The dtype the file stores. */
  readonly sourceDtype: SafetensorsDtype;
  readonly shape: readonly number[];
  /** The tensor's first byte, from the start of the file. */
  readonly byteOffset: number;
  readonly byteLength: number;
}

interface FileHandleLike {
  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  stat(): Promise<{ size: number; isFile(): boolean; ino: number; dev: number }>;
  close(): Promise<void>;
}

/**
 * An open safetensors file (from {@link openSafetensors}): the validated header, and reads of one
 * tensor at a time. Close it with `close()` (or `await using`).
 * @example
 * await saveSafetensors(new Linear(3, 2), 'lazy.safetensors', { metadata: { note: 'hi' } });
 * const f: SafetensorsFile = await openSafetensors('lazy.safetensors');
 * f.keys() // ['weight', 'bias']
 * f.metadata // { format: 'axon', note: 'hi' }
 * const bias = await f.read('bias'); // reads only its 8 bytes
 * bias.shape // [2]
 * await f.close();
 */
export class SafetensorsFile {
  /** The file's path, as given. */
  readonly path: string;
  /** The file's size in bytes (when opened). */
  readonly size: number;
  /** The header's `__metadata__` (string values). */
  readonly metadata: Readonly<Record<string, string>>;
  #fh: FileHandleLike | null;
  #plan: Map<string, PlannedTensor>;
  #dataStart: number;
  #bytesRead: number;

  /** @internal Use {@link openSafetensors}. */
  constructor(path: string, size: number, fh: FileHandleLike, header: { metadata: Record<string, string>; plan: readonly PlannedTensor[]; dataStart: number }, bytesRead: number) {
    this.path = path;
    this.size = size;
    this.metadata = header.metadata;
    this.#fh = fh;
    this.#plan = new Map(header.plan.map((p) => [p.name, p]));
    this.#dataStart = header.dataStart;
    this.#bytesRead = bytesRead;
  }

  /**
   * Bytes read from the file so far (the header, then each tensor read): what shows that only
   * the requested tensors were read.
   * @example
   * await saveSafetensors(new Linear(100, 100), 'count.safetensors');
   * await using f = await openSafetensors('count.safetensors');
   * await f.read('bias');
   * f.bytesRead < f.size // true
   */
  get bytesRead(): number {
    return this.#bytesRead;
  }

  /**
   * Whether the file is closed.
   * @example
   * await saveSafetensors(new Linear(1, 1), 'closed.safetensors');
   * const f = await openSafetensors('closed.safetensors');
   * await f.close();
   * f.closed // true
   */
  get closed(): boolean {
    return this.#fh === null;
  }

  /**
   * The tensors' names, in the header's order.
   * @example
   * await saveSafetensors(new Linear(2, 2), 'keys.safetensors');
   * await using f = await openSafetensors('keys.safetensors');
   * f.keys() // ['weight', 'bias']
   */
  keys(): string[] {
    return [...this.#plan.keys()];
  }

  /**
   * Whether the file holds a tensor `name`.
   * @example
   * await saveSafetensors(new Linear(2, 2), 'has.safetensors');
   * await using f = await openSafetensors('has.safetensors');
   * f.has('bias') // true
   */
  has(name: string): boolean {
    return this.#plan.has(name);
  }

  /**
   * A tensor's dtypes, shape and byte range (from the header; nothing is read).
   * @example
   * await saveSafetensors(new Linear(2, 2), 'one-info.safetensors');
   * await using f = await openSafetensors('one-info.safetensors');
   * f.info('bias').shape // [2]
   * f.info('nope') // throws: "no tensor 'nope'"
   */
  info(name: string): SafetensorsTensorInfo {
    const p = this.#get('info', name);
    return { dtype: p.dtype, sourceDtype: p.sourceDtype, shape: [...p.shape], byteOffset: this.#dataStart + p.begin, byteLength: p.end - p.begin };
  }

  /**
   * Reads one tensor's bytes (only those) and decodes them to the host, as {@link parseSafetensors}
   * does (widening floats, range-checking integers).
   * @example
   * const fc = new Linear(2, 1);
   * fc.bias!.assign(tensor([3]));
   * await saveSafetensors(fc, 'read.safetensors');
   * await using f = await openSafetensors('read.safetensors');
   * (await f.read('bias')).data // [3]
   */
  async read(name: string): Promise<HostTensorEntry> {
    const op = 'SafetensorsFile.read';
    const p = this.#get('read', name);
    const fh = this.#open(op);
    const len = p.end - p.begin;
    const buf = new Uint8Array(len);
    let done = 0;
    while (done < len) {
      const { bytesRead } = await fh.read(buf, done, len - done, this.#dataStart + p.begin + done);
      if (bytesRead === 0) throw new AxonError(op, `'${this.path}' ended at byte ${this.#dataStart + p.begin + done} while reading tensor '${name}' (the file shrank after it was opened)`);
      done += bytesRead;
      this.#bytesRead += bytesRead;
    }
    return decodeTensor(op, p, buf);
  }

  /**
   * Reads one tensor onto the current backend (the caller owns it).
   * @example
   * await saveSafetensors(new Linear(2, 3), 'tensor.safetensors');
   * await using f = await openSafetensors('tensor.safetensors');
   * const w = await f.readTensor('weight');
   * w.shape // [3, 2]
   * w.dispose();
   */
  async readTensor(name: string): Promise<Tensor> {
    const e = await this.read(name);
    return tensor(e.data, e.shape, e.dtype);
  }

  /**
   * Closes the file (again: nothing happens).
   * @example
   * await saveSafetensors(new Linear(1, 1), 'close.safetensors');
   * const f = await openSafetensors('close.safetensors');
   * await f.close();
   * await f.read('weight') // throws: 'is closed'
   */
  async close(): Promise<void> {
    const fh = this.#fh;
    this.#fh = null;
    await fh?.close();
  }

  /** Closes the file: `await using f = await openSafetensors(…)`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #get(op: string, name: string): PlannedTensor {
    if (typeof name !== 'string') throw new AxonError(`SafetensorsFile.${op}`, `expects a tensor name, got ${fmtValue(name)}`);
    const p = this.#plan.get(name);
    if (!p) throw new AxonError(`SafetensorsFile.${op}`, `no tensor '${name}' in '${this.path}' (it holds ${this.#plan.size} tensors${this.#plan.size ? `: ${[...this.#plan.keys()].slice(0, 8).join(', ')}${this.#plan.size > 8 ? ', …' : ''}` : ''})`);
    return p;
  }

  #open(op: string): FileHandleLike {
    if (!this.#fh) throw new AxonError(op, `'${this.path}' is closed`);
    return this.#fh;
  }
}

/** What a non-regular file is, for errors (as core's readers say it). */
function kindOf(st: { isDirectory(): boolean; isFIFO(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isSocket(): boolean }): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'something other than a file';
}

/**
 * Opens a safetensors file for lazy reads (Node): reads the 8-byte header length and the header
 * only, validated against the file's size before anything in proportion to what it declares is
 * allocated (header length at most {@link MAX_HEADER_BYTES} and within the file; known dtypes;
 * each tensor's byte length equal to its shape's element count × the dtype's size, computed
 * exactly; the tensors tiling the data section with no gap, overlap or trailing byte). Tensors
 * are then read one at a time with {@link SafetensorsFile.read}. Anything but a regular file is
 * refused before reading.
 * @example
 * await saveSafetensors(new Linear(3, 2), 'open.safetensors', { dtype: 'bfloat16' });
 * await using f = await openSafetensors('open.safetensors');
 * f.info('weight').sourceDtype // 'BF16'
 * const w = await f.read('weight'); // reads 12 bytes, widened to float32
 * w.dtype // 'float32'
 * await openSafetensors('missing.safetensors') // throws: 'file not found'
 */
export async function openSafetensors(path: string): Promise<SafetensorsFile> {
  const op = 'openSafetensors';
  if (typeof path !== 'string' || path === '') throw new AxonError(op, `expects a file path, got ${fmtValue(path)}`);
  let fs: typeof NodeFs;
  try {
    const spec = 'node:fs/promises';
    fs = (await import(/* @vite-ignore */ spec)) as typeof NodeFs;
  } catch {
    throw new AxonError(op, 'reading a file needs Node.js (in a browser, fetch the bytes and use parseSafetensors)');
  }
  const fail = (e: unknown): never => {
    if (e instanceof AxonError) throw e;
    if ((e as { code?: string }).code === 'ENOENT') throw new AxonError(op, `file not found: '${path}'`);
    throw new AxonError(op, `cannot read '${path}': ${e instanceof Error ? e.message : String(e)}`);
  };
  let fh: NodeFs.FileHandle;
  try {
    const st = await fs.stat(path);
    if (!st.isFile()) throw new AxonError(op, `'${path}' is ${kindOf(st)}, not a regular file; refusing to read it`);
    const c = fs.constants;
    fh = await fs.open(path, c.O_RDONLY | (c.O_NONBLOCK ?? 0));
  } catch (e) {
    return fail(e);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new AxonError(op, `'${path}' is ${kindOf(st)}, not a regular file; refusing to read it`);
    const size = st.size;
    const readAt = async (len: number, pos: number): Promise<Uint8Array> => {
      const buf = new Uint8Array(len);
      let done = 0;
      while (done < len) {
        const { bytesRead } = await fh.read(buf, done, len - done, pos + done);
        if (bytesRead === 0) throw new AxonError(op, `'${path}' ended at byte ${pos + done}, before its header's end`);
        done += bytesRead;
      }
      return buf;
    };
    const prefix = size >= 8 ? await readAt(8, 0) : new Uint8Array(0);
    const n = headerLength(op, prefix, size);
    const header = validateHeader(op, await readAt(n, 8), size);
    return new SafetensorsFile(path, size, fh, header, 8 + n);
  } catch (e) {
    await fh.close().catch(() => undefined);
    if (e instanceof AxonError) throw new AxonError(op, `'${path}': ${e.message.replace(/^openSafetensors: /, '')}`);
    return fail(e);
  }
}
