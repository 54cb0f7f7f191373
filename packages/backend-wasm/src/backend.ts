import { AxonError, fmtValue } from '@axon/core';
import type {
  Backend,
  BackendBuffer,
  BackendMemory,
  BinaryOp,
  DType,
  FusedProgram,
  FusedReduceOp,
  RandomKind,
  ReduceOp,
  TypedArray,
  UnaryOp,
  View,
  Window2d,
} from '@axon/core';
import { Allocator } from './allocator.js';
import { ThreadPool, resolveThreads, type PoolCall } from './pool.js';
import { FusedCodegen, KIND_COLUMN, KIND_ROW, KIND_SCALAR, REDUCE_ALL, REDUCE_COLS, REDUCE_ROWS, type GeneratedFused } from './codegen.js';
import { compileFused, type CompiledFused } from './fused.js';
import { FUSED_LAYOUT as FL } from './generated/kernels.js';
import type { KernelName, Kernels, WasmBackendOptions } from './loader.js';
import { coalesce, contiguous, flatKind, forEach2d, forEachIndex, sizeOf } from './strided.js';

/** Byte address where the parameter block for window kernels lives (below the heap). */
const PARAMS = 16384;
/** First byte the allocator hands out; static data of the module lies below 16 KiB. */
const HEAP_BASE = 65536;

type Lane = 'f32' | 'i32' | 'u8';
const LANE: Record<DType, Lane> = { float32: 'f32', int32: 'i32', bool: 'u8' };
const ESZ: Record<DType, number> = { float32: 4, int32: 4, bool: 1 };
const REDUCE_CODE: Record<ReduceOp, number> = { sum: 0, prod: 1, max: 2, min: 3, argmax: 4, argmin: 5 };
const RANDOM_CODE: Record<RandomKind, number> = { uniform: 0, normal: 1, bernoulli: 2, randint: 3 };
/** Lanes per block of the fused interpreter (the size of one register). */
const FUSED_BLOCK = 512;
/** `reduceFused`'s reductions, by the `reduce` kernel's op code. */
const FUSED_REDUCE: readonly FusedReduceOp[] = ['sum', 'prod', 'max', 'min'];
/** Most values `reduceFused` writes out at a time when it cannot generate the reduction (64 KB). */
const REDUCE_BLOCK = 16384;
/** Compiled fused programs kept (oldest dropped first). */
const FUSED_CACHE = 256;
/** Generated fused kernels kept (least recently used dropped first). */
const CODEGEN_CACHE = 128;
const COMPARE = new Set<BinaryOp>(['eq', 'ne', 'lt', 'le', 'gt', 'ge']);
/**
 * Work per thread below which an op stays on fewer threads (measured on a 2-core machine, where
 * a fork-join costs ~12–20 µs, ~50–150 µs when the worker slept: an op is split when each share
 * is ≥ ~30 µs of one-thread work): matmul FLOP; elements of a cheap elementwise op, of a
 * transcendental one, of a window op's output, of a reduction's input; attention's FLOP
 * (2·Tq·Tk·(D + Dv) per batch, halved when causal, plus ~16 per score for the softmax).
 */
const PER_THREAD = { matmul: 1e6, cheap: 65536, costly: 8192, window: 32768, reduce: 65536, fused: 16384, attention: 1e6 } as const;
/** Elementwise kernels cheap enough to need the larger threshold (the rest: exp, sin, pow, …). */
const CHEAP = new Set<string>(['neg', 'abs', 'relu', 'floor', 'ceil', 'round', 'sign', 'not', 'add', 'sub', 'mul', 'max', 'min', 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'and', 'or', 'xor', 'square', 'reciprocal']);
/** Calls a split op is cut into per thread (threads take them as they become free). */
const CHUNKS_PER_THREAD = 4;
/** Byte stride of the per-call window parameter blocks at {@link PARAMS}. */
const PARAMS_STRIDE = 128;
const LOGIC = new Set<BinaryOp>(['and', 'or', 'xor']);

/**
 * How the loader set the backend up for threads: the data-less shared-memory modules every
 * worker instantiates (null for an unshared memory: one thread only), the thread count, why, and
 * the threshold scale. @internal
 */
export interface Threading {
  readonly module: WebAssembly.Module | null;
  readonly relaxed: WebAssembly.Module | null;
  readonly threads: number;
  readonly reason: string;
  readonly threshold: number;
}

/** What {@link WasmBackend.features} reports. */
export type WasmFeatures = {
  /** SIMD128: always. */
  readonly simd: true;
  /** Whether the matmul is the relaxed-SIMD (FMA) kernel. */
  readonly relaxedSimd: boolean;
  /** Threads the ops may use (1: the caller's thread only). */
  readonly threads: number;
  /** Why that many (e.g. `'auto: 2 cores available'`, or why threads are off here). */
  readonly threadsReason: string;
};

/**
 * A buffer in the wasm backend's linear memory.
 * @internal
 */
export class WasmBuffer implements BackendBuffer {
  /** Set once the buffer is freed. */
  freed = false;
  constructor(
    readonly size: number,
    readonly dtype: DType,
    /** Byte address in the module's memory (0 for zero-size buffers). */
    readonly ptr: number,
    /** Bytes reserved (the allocator's block size; 0 for zero-size buffers). */
    readonly reserved: number,
    /** The backend that owns it. */
    readonly owner: WasmBackend,
  ) {}
}

/**
 * Axon's WebAssembly backend: storage in one `WebAssembly.Memory`, every primitive in an
 * AssemblyScript module compiled with SIMD128.
 *
 * Import `@axon/backend-wasm` to register it (name `'wasm'`, priority 1); construct one
 * directly only to use it outside the registry.
 *
 * @example
 * ```ts
 * import { WasmBackend } from '@axon/backend-wasm';
 * const be = WasmBackend.createSync();
 * const x = be.alloc('float32', 3);
 * be.write(x, new Float32Array([1, 2, 3]));
 * const y = be.alloc('float32', 3);
 * be.unary('exp', { buf: x, dtype: 'float32', shape: [3], strides: [1], offset: 0 }, y);
 * be.readSync(y) // [2.7183, 7.3891, 20.0855]
 * // a transposed view, read without a copy: [[1, 2], [3, 4]]ᵀ · [1, 1]
 * const a = be.alloc('float32', 4);
 * be.write(a, new Float32Array([1, 2, 3, 4]));
 * const v = be.alloc('float32', 2);
 * be.fill(v, 1);
 * const out = be.alloc('float32', 2);
 * be.matmul({ buf: a, dtype: 'float32', shape: [1, 2, 2], strides: [4, 1, 2], offset: 0 }, { buf: v, dtype: 'float32', shape: [1, 2, 1], strides: [2, 1, 1], offset: 0 }, out);
 * be.readSync(out) // [4, 6]
 * be.dispose();
 * ```
 */
export class WasmBackend implements Backend {
  /** Registry name. */
  readonly name = 'wasm';
  /** Reads are synchronous copies out of linear memory. */
  readonly supportsSyncRead = true;
  /** A fused kernel here takes up to 8 inputs and 8 outputs (16 buffers; core never passes more than 8 + 8). */
  readonly maxFusedBuffers = 16;
  /**
   * WebAssembly features in use: SIMD128 always; relaxed SIMD (FMA matmul) where the engine
   * supports it and it was not turned off; the threads ops may use, and why that many.
   */
  get features(): WasmFeatures {
    return this.feats;
  }
  private feats: WasmFeatures;

  private readonly k: Kernels;
  private readonly mem: WebAssembly.Memory;
  private readonly heap: Allocator;
  private liveBytes = 0;
  private liveBuffers = 0;
  private disposed = false;
  private buf: ArrayBuffer;
  private f32: Float32Array;
  private i32: Int32Array;
  private u8: Uint8Array;

  /**
   * Wraps an instantiated kernels module. Prefer {@link createWasmBackend} or
   * {@link WasmBackend.createSync}.
   * @internal
   */
  constructor(kernels: Kernels, memory: WebAssembly.Memory, maxMemoryBytes = 4 * 1024 ** 3, threading?: Threading) {
    this.k = kernels;
    this.threading = threading ?? { module: null, relaxed: null, threads: 1, reason: '1 thread requested', threshold: 1 };
    this.feats = { simd: true, relaxedSimd: kernels.relaxedSimd, threads: this.threading.threads, threadsReason: this.threading.reason };
    this.threshold = this.threading.threshold;
    this.mem = memory;
    this.heap = new Allocator(memory, HEAP_BASE, maxMemoryBytes);
    // The matmul packing workspace is reserved first, at the bottom of the heap, so that it never
    // pins the top of the heap above freed tensors.
    this.ws = this.tempAlloc('createWasmBackend', this.k.matmul_ws_bytes(), 'for the matmul workspace').ptr;
    this.wsT = [this.ws];
    // the exports by index, as workers look them up
    const table = this.k as unknown as Record<string, unknown>;
    this.fnNames = Object.keys(table).filter((name) => typeof table[name] === 'function');
    this.fnNames.forEach((name, i) => this.fnIndex.set(name, i));
    if (this.threading.threads > 1) this.makePool(this.threading.threads);
    this.active = this.threading.threads;
    this.buf = memory.buffer;
    this.f32 = new Float32Array(this.buf);
    this.i32 = new Int32Array(this.buf);
    this.u8 = new Uint8Array(this.buf);
  }

  /**
   * Creates a backend synchronously (compiles the module with `new WebAssembly.Module`).
   * Throws where synchronous compilation of a module this size is not allowed (a browser's
   * main thread); use {@link createWasmBackend} there.
   * @example
   * const be = WasmBackend.createSync();
   * be.name // 'wasm'
   * be.features.simd // true
   * typeof be.features.relaxedSimd // 'boolean'
   * be.dispose();
   */
  static createSync(options?: WasmBackendOptions): WasmBackend {
    // Resolved lazily to keep the class importable without the loader's side effects.
    return loaderRef.createSync(options);
  }

  /** Refreshes the typed-array views after the memory grew. */
  private views(): void {
    if (this.buf !== this.mem.buffer) {
      this.buf = this.mem.buffer;
      this.f32 = new Float32Array(this.buf);
      this.i32 = new Int32Array(this.buf);
      this.u8 = new Uint8Array(this.buf);
    }
  }

  private array(dtype: DType): TypedArray {
    this.views();
    return dtype === 'float32' ? this.f32 : dtype === 'int32' ? this.i32 : this.u8;
  }

  // ------------------------------------------------------------------ threads

  private readonly threading: Threading;
  /** Scale of the split thresholds (0: split whatever can be split). */
  private threshold: number;
  private pool: ThreadPool | null = null;
  /** Matmul workspaces by thread (0: the caller's, {@link ws}). */
  private readonly wsT: number[];
  /** Kernel exports by index, as the workers look them up. */
  private readonly fnNames: string[];
  private readonly fnIndex = new Map<string, number>();

  /**
   * Starts the worker threads now (otherwise they start on the first op large enough to split,
   * and ops run on the caller's thread until they are ready: 30–100 ms) and resolves to the
   * number of threads running: `features.threads`, or 1 where threads are off or failed to start
   * (`features.threadsReason` then says why).
   * @example
   * ```ts
   * const be = createWasmBackendSync({ threads: 2 });
   * await be.startThreads() // 2
   * be.features.threads // 2
   * const one = createWasmBackendSync({ threads: 1 });
   * await one.startThreads() // 1
   * one.features.threadsReason // '1 thread requested'
   * be.dispose(); // stops the workers
   * one.dispose();
   * ```
   */
  async startThreads(): Promise<number> {
    this.alive('startThreads');
    const pool = this.pool;
    if (pool === null) return 1;
    if (!(await pool.whenReady())) {
      if (this.pool === pool) this.poolFailed();
      return 1;
    }
    return this.active;
  }

  /**
   * Changes how many threads the ops may use (what `setNumThreads` in `@axon/core` calls): an
   * integer from 1 to 64 or `'auto'`. A backend created for one thread (`threads: 1`, or where
   * threads are unavailable) stays on one and says why in `features.threadsReason`.
   * @example
   * ```ts
   * const be = createWasmBackendSync({ threads: 2 });
   * be.setThreads(1);
   * be.features.threads // 1
   * be.setThreads(2);
   * be.features.threads // 2
   * be.setThreads(0); // throws: 'expected an integer from 1 to 64'
   * be.dispose();
   * ```
   */
  setThreads(n: number | 'auto'): void {
    this.alive('setThreads');
    if (n !== 'auto' && !(typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 64)) {
      throw new AxonError('setThreads', `expected an integer from 1 to 64 or 'auto', got ${fmtValue(n)}`);
    }
    if (this.threading.module === null) {
      if (n !== 1) this.feats = { ...this.feats, threadsReason: `this backend was created for one thread (${this.threading.reason}): create a new one for more` };
      return;
    }
    const { threads: count, reason } = resolveThreads(n);
    // fewer threads than the pool has: the pool stays (its extra workers idle), so switching back
    // costs nothing; more: a larger pool
    if (this.pool === null || this.pool.failure !== null || this.pool.workers + 1 < count) {
      this.pool?.dispose();
      this.pool = null;
      if (count > 1) this.makePool(count);
    }
    this.active = count;
    this.feats = { ...this.feats, threads: count, threadsReason: reason };
  }

  /** Threads the ops use now (≤ the pool's workers + 1). */
  private active = 1;

  private readonly forks: Record<string, number> = {};

  /** Calls split over threads so far, by op (for tests and profiling). @internal */
  get parallelRuns(): Readonly<Record<string, number>> {
    return { ...this.forks };
  }

  /**
   * Whether every thread of a `parts`-way matmul has its packing workspace (reserved on first
   * need; false, and the product stays on one thread, where the memory cap leaves no room).
   */
  private workspaces(threads: number): boolean {
    const bytes = this.k.matmul_ws_bytes();
    while (this.wsT.length < threads) {
      const ptr = this.heap.alloc(bytes);
      if (ptr < 0) return false;
      this.wsT.push(ptr);
    }
    for (let w = 0; w < threads - 1; w++) this.pool!.setWorkspace(w, this.wsT[w + 1]!);
    return true;
  }

  /** A pool of `threads − 1` workers (their matmul workspaces are reserved on first need). */
  private makePool(threads: number): void {
    this.pool = new ThreadPool(this.threading.module!, this.threading.relaxed, this.mem, threads, this.fnNames);
  }

  /** The pool broke (a worker failed, died or timed out): one thread from now on, and why. */
  private poolFailed(): void {
    const why = this.pool?.failure ?? 'the workers stopped';
    this.pool?.dispose();
    this.pool = null;
    this.active = 1;
    this.feats = { ...this.feats, threads: 1, threadsReason: `threads stopped: ${why}` };
  }

  /**
   * How many parts to split an op of `work` units into (`perThread` units each at least, at most
   * `most` parts): 1 while the workers are not ready (the first such op starts them).
   */
  private parts(work: number, perThread: number, most: number): number {
    const pool = this.pool;
    if (pool === null) return 1;
    const want = Math.min(this.active, most, this.threshold === 0 ? Infinity : Math.floor(work / (perThread * this.threshold)));
    if (!(want >= 2)) return 1;
    if (pool.ready()) return want;
    if (pool.failure !== null) this.poolFailed();
    else pool.start();
    return 1;
  }

  /**
   * How many calls to cut a `parts`-way split of `units` units into: a few per thread, so that
   * threads take them as they become free (a thread slowed by other work on its core takes fewer),
   * at most 64 (the window kernels' parameter blocks).
   */
  private chunks(parts: number, units: number): number {
    return parts === 1 ? 1 : Math.max(parts, Math.min(units, parts * CHUNKS_PER_THREAD, 64));
  }

  /**
   * Runs `calls` on the workers and here (`local` runs one here), each thread taking the next
   * call left; a kernel that failed anywhere throws an {@link AxonError} naming `op` once every
   * thread is done.
   */
  private fork(op: string, calls: readonly PoolCall[], local: (c: PoolCall) => void, work: number): void {
    const pool = this.pool!;
    this.forks[op] = (this.forks[op] ?? 0) + 1;
    try {
      // a worker may take 20× a one-thread estimate at 1 GFLOP/s before it is declared lost
      pool.runQueue(calls, local, 10000 + work / 5e4);
    } catch (e) {
      if (pool.failure !== null && this.pool === pool) this.poolFailed();
      if (e instanceof AxonError) throw e;
      throw new AxonError(op, `kernel failed ${(e as Error).message}${this.pool === null ? ' (threads turned off for this backend)' : ''}`);
    }
  }

  // ------------------------------------------------------------------ storage

  /** {@inheritDoc @axon/core!Backend#alloc} */
  alloc(dtype: DType, size: number): BackendBuffer {
    this.alive('alloc');
    if (!Number.isInteger(size) || size < 0) throw new AxonError('alloc', `size must be a non-negative integer, got ${size}`);
    if (ESZ[dtype] === undefined) throw new AxonError('alloc', `unknown dtype '${String(dtype)}'`);
    const bytes = size * ESZ[dtype];
    let ptr = 0;
    if (size > 0) {
      ptr = this.heap.alloc(bytes);
      if (ptr < 0) throw this.outOfMemory('alloc', bytes, `for ${size} ${dtype} elements`);
    }
    this.liveBuffers++;
    this.liveBytes += bytes;
    return new WasmBuffer(size, dtype, ptr, size > 0 ? Allocator.blockSize(bytes) : 0, this);
  }

  /** {@inheritDoc @axon/core!Backend#write} */
  write(buf: BackendBuffer, data: TypedArray): void {
    const b = this.own('write', buf);
    const want = b.dtype === 'float32' ? Float32Array : b.dtype === 'int32' ? Int32Array : Uint8Array;
    if (!(data instanceof want)) throw new AxonError('write', `expected a ${want.name} for a ${b.dtype} buffer, got ${data.constructor.name}`);
    if (data.length !== b.size) throw new AxonError('write', `data has ${data.length} elements, buffer holds ${b.size}`);
    if (b.size === 0) return;
    this.array(b.dtype).set(data, b.ptr / ESZ[b.dtype]);
  }

  /** {@inheritDoc @axon/core!Backend#read} */
  read(buf: BackendBuffer): Promise<TypedArray> {
    try {
      return Promise.resolve(this.readSync(buf));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** {@inheritDoc @axon/core!Backend#readSync} */
  readSync(buf: BackendBuffer): TypedArray {
    const b = this.own('read', buf);
    const start = b.ptr / ESZ[b.dtype];
    return this.array(b.dtype).slice(start, start + b.size);
  }

  /** {@inheritDoc @axon/core!Backend#free} */
  free(buf: BackendBuffer): void {
    const b = this.own('free', buf);
    b.freed = true;
    this.liveBuffers--;
    this.liveBytes -= b.size * ESZ[b.dtype];
    if (b.reserved > 0) this.heap.free(b.ptr, b.reserved);
  }

  /**
   * What the backend holds (see {@link @axon/core!Backend#memory | Backend.memory}).
   * `bytes` and `buffers` count live buffers (requested sizes). `pooledBytes` is the linear memory
   * held free for reuse: freed blocks plus the space above the last live block. WebAssembly
   * memory cannot shrink, so it never goes back to the system, but it is reused: once every
   * buffer is freed it is one free region, and one request of `pooledBytes` fits without growing.
   * @example
   * ```ts
   * const be = WasmBackend.createSync();
   * const x = be.alloc('float32', 1000);
   * be.memory() // { bytes: 4000, buffers: 1, pooledBytes: 847840 }
   * be.free(x);
   * be.memory() // { bytes: 0, buffers: 0, pooledBytes: 851840 }
   * be.dispose();
   * ```
   */
  memory(): BackendMemory {
    return { bytes: this.liveBytes, buffers: this.liveBuffers, pooledBytes: this.disposed ? 0 : this.heap.pooledBytes };
  }

  /**
   * Bytes of linear memory this backend holds (`WebAssembly.Memory.buffer.byteLength`): live
   * buffers, free space kept for reuse (`memory().pooledBytes`), the matmul workspace (~1.1 MiB),
   * the module's static data (64 KiB) and 16-byte alignment padding. It only grows (on demand,
   * by at least 1/8), up to `maxMemory` (default 4 GiB); 0 once disposed.
   * @example
   * ```ts
   * const be = WasmBackend.createSync();
   * be.linearMemoryBytes // 2097152
   * const x = be.alloc('float32', 1 << 20); // 4 MiB: the memory grows
   * be.free(x);
   * be.linearMemoryBytes // 5505024
   * const y = be.alloc('float32', 1 << 20); // reuses the space: no growth
   * be.linearMemoryBytes // 5505024
   * be.dispose();
   * be.linearMemoryBytes // 0
   * ```
   */
  get linearMemoryBytes(): number {
    return this.disposed ? 0 : this.mem.buffer.byteLength;
  }

  // ------------------------------------------------------------------ checks

  private alive(op: string): void {
    if (this.disposed) throw new AxonError(op, 'the wasm backend was disposed');
  }

  private own(op: string, buf: BackendBuffer, dtype?: DType | readonly DType[]): WasmBuffer {
    this.alive(op);
    if (!(buf instanceof WasmBuffer) || buf.owner !== this) throw new AxonError(op, 'buffer does not belong to this wasm backend');
    if (buf.freed) throw new AxonError(op, 'buffer was freed');
    if (dtype !== undefined) {
      const ok = typeof dtype === 'string' ? buf.dtype === dtype : dtype.includes(buf.dtype);
      if (!ok) throw new AxonError(op, `expected a ${typeof dtype === 'string' ? dtype : dtype.join(' or ')} buffer, got ${buf.dtype}`);
    }
    return buf;
  }

  /** Validates a view; returns its buffer. */
  private view(op: string, v: View, dtype?: DType | readonly DType[], rank?: number): WasmBuffer {
    const b = this.own(op, v.buf, dtype);
    if (v.dtype !== b.dtype) throw new AxonError(op, `view dtype ${v.dtype} differs from its buffer's ${b.dtype}`);
    if (v.shape.length !== v.strides.length) throw new AxonError(op, `view has ${v.shape.length} dims but ${v.strides.length} strides`);
    if (rank !== undefined && v.shape.length !== rank) throw new AxonError(op, `expected a rank-${rank} view, got shape [${v.shape.join(',')}]`);
    let last = v.offset;
    let empty = false;
    for (let d = 0; d < v.shape.length; d++) {
      const n = v.shape[d]!;
      const s = v.strides[d]!;
      if (!Number.isInteger(n) || n < 0 || !Number.isInteger(s) || s < 0) throw new AxonError(op, `invalid view shape [${v.shape.join(',')}] / strides [${v.strides.join(',')}]`);
      if (n === 0) empty = true;
      else last += (n - 1) * s;
    }
    if (!empty && (v.offset < 0 || last >= b.size)) {
      throw new AxonError(op, `view (shape [${v.shape.join(',')}], strides [${v.strides.join(',')}], offset ${v.offset}) reaches element ${last} of a ${b.size}-element buffer`);
    }
    return b;
  }

  private out(op: string, buf: BackendBuffer, size: number, dtype?: DType | readonly DType[]): WasmBuffer {
    const b = this.own(op, buf, dtype);
    if (b.size !== size) throw new AxonError(op, `output buffer holds ${b.size} elements, expected ${size}`);
    return b;
  }

  private sameShape(op: string, a: readonly number[], b: readonly number[]): void {
    if (a.length !== b.length || a.some((d, i) => d !== b[i])) throw new AxonError(op, `shapes differ: [${a.join(',')}] vs [${b.join(',')}]`);
  }

  // ------------------------------------------------------------------ primitives

  /** {@inheritDoc @axon/core!Backend#fill} */
  fill(out: BackendBuffer, value: number): void {
    const o = this.own('fill', out);
    if (o.size === 0) return;
    if (o.dtype === 'bool') this.k.fill_8(o.ptr, value !== 0 ? 1 : 0, o.size);
    else if (o.dtype === 'int32') this.k.fill_32(o.ptr, value | 0, o.size);
    else this.k.fill_32(o.ptr, floatBits(value), o.size);
  }

  /** {@inheritDoc @axon/core!Backend#copy} */
  copy(src: View, dst: View): void {
    const s = this.view('copy', src);
    const d = this.view('copy', dst);
    this.sameShape('copy', src.shape, dst.shape);
    if (sizeOf(src.shape) === 0) return;
    const fn = this.k[`copy_${LANE[s.dtype]}_${LANE[d.dtype]}` as const];
    const es = ESZ[s.dtype];
    const ed = ESZ[d.dtype];
    const ks = flatKind(src.shape, src.strides);
    if (ks >= 0 && flatKind(dst.shape, dst.strides) === 1) {
      fn(s.ptr + src.offset * es, 0, ks * es, d.ptr + dst.offset * ed, 0, ed, 1, sizeOf(src.shape));
      return;
    }
    const c = coalesce(src.shape, [src.strides, dst.strides]);
    forEach2d(c, [src.offset, dst.offset], (off, rs, cs, rows, cols) => {
      fn(s.ptr + off[0]! * es, rs[0]! * es, cs[0]! * es, d.ptr + off[1]! * ed, rs[1]! * ed, cs[1]! * ed, rows, cols);
    });
  }

  /** {@inheritDoc @axon/core!Backend#unary} */
  unary(op: UnaryOp, x: View, out: BackendBuffer): void {
    const b = this.view('unary', x);
    const lane = LANE[b.dtype];
    const fn = this.k.ops[`un_${lane}_${op}`];
    if (fn === undefined) throw new AxonError('unary', `'${op}' is not defined for ${b.dtype}`);
    const n = sizeOf(x.shape);
    const o = this.out('unary', out, n, b.dtype);
    if (n === 0) return;
    const e = ESZ[b.dtype];
    const kx = flatKind(x.shape, x.strides);
    if (kx >= 0) {
      const parts = this.parts(n, CHEAP.has(op) ? PER_THREAD.cheap : PER_THREAD.costly, Math.floor(n / 64));
      if (parts === 1) fn(b.ptr + x.offset * e, 0, kx * e, o.ptr, 1, n);
      else this.flatRun('unary', `un_${lane}_${op}`, n, parts, (i0, len) => [b.ptr + (x.offset + i0 * kx) * e, 0, kx * e, o.ptr + i0 * e, 1, len]);
      return;
    }
    const c = coalesce(x.shape, [x.strides, contiguous(x.shape)]);
    forEach2d(c, [x.offset, 0], (off, rs, cs, rows, cols) => {
      fn(b.ptr + off[0]! * e, rs[0]! * e, cs[0]! * e, o.ptr + off[1]! * e, rows, cols);
    });
  }

  /**
   * Runs elementwise kernel `name` over [0, n) in `parts` ranges of multiples of 64 elements
   * (each element computed as on one thread, SIMD lanes aligned as on one thread).
   */
  private flatRun(op: string, name: string, n: number, parts: number, args: (i0: number, len: number) => number[]): void {
    const ranges = splitRange(n, this.chunks(parts, Math.floor(n / 64)), 64);
    const fn = this.fnIndex.get(name)!;
    const calls = ranges.map(([i0, i1]): PoolCall => ({ fn, args: args(i0, i1 - i0) }));
    const f = this.k.ops[name]!;
    this.fork(op, calls, (c) => f(...c.args), n * 10);
  }

  /** {@inheritDoc @axon/core!Backend#binary} */
  binary(op: BinaryOp, a: View, b: View, out: BackendBuffer): void {
    const ba = this.view('binary', a);
    const bb = this.view('binary', b, ba.dtype);
    this.sameShape('binary', a.shape, b.shape);
    const lane = LANE[ba.dtype];
    const fn = this.k.ops[`bin_${lane}_${op}`];
    if (fn === undefined) throw new AxonError('binary', `'${op}' is not defined for ${ba.dtype}`);
    const outDtype: DType = COMPARE.has(op) || LOGIC.has(op) ? 'bool' : ba.dtype;
    const n = sizeOf(a.shape);
    const o = this.out('binary', out, n, outDtype);
    if (n === 0) return;
    const e = ESZ[ba.dtype];
    const eo = ESZ[outDtype];
    const ka = flatKind(a.shape, a.strides);
    const kb = flatKind(b.shape, b.strides);
    if (ka >= 0 && kb >= 0) {
      const parts = this.parts(n, CHEAP.has(op) ? PER_THREAD.cheap : PER_THREAD.costly, Math.floor(n / 64));
      if (parts === 1) fn(ba.ptr + a.offset * e, 0, ka * e, bb.ptr + b.offset * e, 0, kb * e, o.ptr, 1, n);
      else this.flatRun('binary', `bin_${lane}_${op}`, n, parts, (i0, len) => [ba.ptr + (a.offset + i0 * ka) * e, 0, ka * e, bb.ptr + (b.offset + i0 * kb) * e, 0, kb * e, o.ptr + i0 * eo, 1, len]);
      return;
    }
    const c = coalesce(a.shape, [a.strides, b.strides, contiguous(a.shape)]);
    forEach2d(c, [a.offset, b.offset, 0], (off, rs, cs, rows, cols) => {
      fn(ba.ptr + off[0]! * e, rs[0]! * e, cs[0]! * e, bb.ptr + off[1]! * e, rs[1]! * e, cs[1]! * e, o.ptr + off[2]! * eo, rows, cols);
    });
  }

  /**
   * Runs a fused elementwise program as one kernel (the contract: `Backend.fused` in
   * `@axon/core`).
   *
   * The program is compiled once per `program.key` into bytecode (kept in linear memory; the
   * 256 most recent programs are kept) and run by one WebAssembly call. Where the inputs' dims
   * merge into at most 3 and each input's innermost dim is contiguous or broadcast (contiguous
   * tensors, scalars, bias rows and columns, per-channel values), that call is a small WebAssembly
   * module generated for the program at run time (cached per program and input layout; the 128
   * most recently used are kept): one SIMD loop that keeps every value in registers. Otherwise the
   * interpreter walks the index space in blocks of 512 elements, and each instruction runs as a
   * SIMD loop over the block held in scratch registers; it reads any layout through its strides.
   * Both give, bit for bit, the results of the `unary`/`binary`/`where` kernels on contiguous data.
   */
  fused(program: FusedProgram, inputs: readonly View[], consts: readonly number[], outputs: readonly BackendBuffer[]): void {
    const c = this.fusedProgram('fused', program, inputs, consts, 0, null);
    const shape = c.inputs.length > 0 ? inputs[0]!.shape : null;
    const n = this.fusedOutputs('fused', c, inputs, outputs, shape !== null ? sizeOf(shape) : -1, shape, null);
    if (n > 0) this.fusedExec(c, inputs, consts, shape, n);
  }

  /**
   * Validates a fused program's call (the program, its constants, and `inputs`: program inputs
   * `first`, `first + 1`, …, all of shape `shape`, or of input 0's shape when null) and returns it
   * compiled: from the cache, or compiled now (cached once the call runs, by {@link fusedExec}).
   * Errors name `op`.
   */
  private fusedProgram(op: string, program: FusedProgram, inputs: readonly View[], consts: readonly number[], first: number, shape: readonly number[] | null): CompiledFused {
    this.alive(op);
    if (program === null || typeof program !== 'object' || typeof program.key !== 'string') {
      throw new AxonError(op, `expected a program with a string key, got ${fmtValue(program)}`);
    }
    // a program new to the cache is validated and compiled here, but kept only once the call is valid
    const c = this.fusedCache.get(program.key) ?? compileFused(program, op);
    if (first > 0 && c.inputs[0] !== 'float32') throw new AxonError(op, `program input 0 (the product) must be declared float32, got ${fmtValue(c.inputs[0])}`);
    const nIn = c.inputs.length - first;
    if (!isArray(inputs) || inputs.length !== nIn) {
      const what = first > 0 ? `${nIn} view${nIn === 1 ? '' : 's'} besides the product (its input 0)` : `${nIn} input${nIn === 1 ? '' : 's'}`;
      throw new AxonError(op, `the program reads ${what}, got ${isArray(inputs) ? `${inputs.length} views` : fmtValue(inputs)}`);
    }
    if (!isArray(consts) || consts.length !== c.consts) throw new AxonError(op, `the program takes ${c.consts} constant${c.consts === 1 ? '' : 's'}, got ${isArray(consts) ? `${consts.length}` : fmtValue(consts)}`);
    for (let q = 0; q < consts.length; q++) {
      if (typeof consts[q] !== 'number') throw new AxonError(op, `constant ${q} must be a number, got ${fmtValue(consts[q])}`);
    }
    const want = shape ?? (nIn > 0 ? inputs[0]!.shape : null);
    for (let k = 0; k < nIn; k++) {
      const v = inputs[k]!;
      const name = first > 0 ? `inputs[${k}] (program input ${k + first})` : `input ${k}`;
      if (v === null || typeof v !== 'object') throw new AxonError(op, `${name} must be a view, got ${fmtValue(v)}`);
      if (v.dtype !== c.inputs[k + first]) throw new AxonError(op, `${name} is ${fmtValue(v.dtype)}, the program declares ${c.inputs[k + first]!}`);
      this.view(op, v);
      if ((shape !== null || k > 0) && !sameDims(v.shape, want!)) {
        throw new AxonError(op, `${name} has shape [${v.shape.join(',')}], expected [${want!.join(',')}] (${shape !== null ? 'the shape the call names' : "input 0's: every input has the same shape"})`);
      }
    }
    return c;
  }

  /**
   * Validates the output buffers of a fused program (count, dtype, `n` elements each, or output 0's
   * size when `n` is −1; distinct, none the buffer of an input or of `others`: matmulFused's
   * operands, whose product has shape `shape`), puts their addresses in `fzOut` and returns `n`.
   */
  private fusedOutputs(op: string, c: CompiledFused, inputs: readonly View[], outputs: readonly BackendBuffer[], n: number, shape: readonly number[] | null, others: readonly View[] | null): number {
    const nOut = c.outputs.length;
    if (!isArray(outputs) || outputs.length !== nOut) throw new AxonError(op, `the program writes ${nOut} output${nOut === 1 ? '' : 's'}, got ${isArray(outputs) ? `${outputs.length} buffers` : fmtValue(outputs)}`);
    if (n < 0) n = this.own(op, outputs[0]!).size;
    for (let j = 0; j < nOut; j++) {
      const o = this.own(op, outputs[j]!);
      if (o.dtype !== c.outputs[j]) throw new AxonError(op, `output ${j} is a ${o.dtype} buffer, the program writes ${c.outputs[j]!}`);
      if (o.size !== n) throw new AxonError(op, `output ${j} holds ${o.size} elements, expected ${n} (${shape === null ? "output 0's size" : `${others !== null ? 'the product' : 'shape'} [${shape.join(',')}]`})`);
      for (let q = 0; q < j; q++) if (outputs[q] === o) throw new AxonError(op, `outputs ${q} and ${j} are the same buffer`);
      for (let k = 0; k < inputs.length; k++) if (inputs[k]!.buf === o) throw new AxonError(op, `output ${j} is the buffer of input ${k} (outputs never alias inputs)`);
      if (others !== null) for (let k = 0; k < others.length; k++) if (others[k]!.buf === o) throw new AxonError(op, `output ${j} is the buffer of ${k === 0 ? 'a' : 'b'} (outputs never alias inputs)`);
      this.fzOut[j] = o.ptr;
    }
    return n;
  }

  /** Installs `c` (a program compiled for a call that is valid) if it is not cached yet. */
  private fusedCommit(c: CompiledFused): void {
    if (c.ptr === 0) this.fusedInstall(c);
    this.fusedReserveParams();
    this.views();
  }

  /** Writes the constants the code reads into the parameter block. */
  private fusedConsts(c: CompiledFused, consts: readonly number[]): void {
    const area = (this.fusedParams + FL.pConst) >> 2;
    for (let q = 0; q < c.constSlots.length; q++) this.f32[area + q] = consts[c.constSlots[q]!]!;
  }

  /**
   * Runs validated program `c` over `n` (> 0) elements: `inputs` are all its inputs (of shape
   * `shape`; null when it has none), the outputs are contiguous at the addresses in `fzOut`. A
   * generated kernel where the layout allows one, else the interpreter.
   */
  private fusedExec(c: CompiledFused, inputs: readonly View[], consts: readonly number[], shape: readonly number[] | null, n: number): void {
    this.fusedCommit(c);
    const nIn = c.inputs.length;
    const nOut = c.outputs.length;
    let i32 = this.i32;
    const P = this.fusedParams >> 2;
    this.fusedConsts(c, consts);
    for (let j = 0; j < nOut; j++) i32[P + (FL.pOut >> 2) + j] = this.fzOut[j]!;
    i32[P + (FL.pBlock >> 2)] = this.fusedBlock;
    // coalesce the inputs' dims (the contiguous output merges with anything)
    let rank = 0;
    if (shape !== null) rank = this.fusedCoalesce(inputs, shape, null);
    const cap = this.fzCap;
    if (rank === 0) {
      // one element (or no inputs): every input reads one element
      rank = 1;
      this.fzShape[0] = n;
      for (let k = 0; k < nIn; k++) this.fzStrides[k * cap] = 0;
    }
    // a generated kernel where every input's inner dim is contiguous or broadcast (≤ 3 dims)
    if (rank <= 3 && this.codegenOn) {
      const g = this.fusedGenerated(c, inputs, rank, 0);
      if (g !== null) {
        this.generatedRun('fused', g, c, inputs, rank, false);
        this.runs.generated++;
        return;
      }
    }
    this.runs.interpreted++;
    this.fusedReserve(c.registers);
    // the registers may have grown the memory: write the rest through fresh views
    this.views();
    i32 = this.i32;
    const lo = Math.max(0, rank - FL.maxDims);
    const shp = this.fzShape;
    const str = this.fzStrides;
    let inner = 1;
    for (let d = rank - 1; d >= lo; d--) {
      i32[P + (FL.pShape >> 2) + d - lo] = shp[d]!;
      inner *= shp[d]!;
    }
    i32[P + (FL.pRank >> 2)] = rank - lo;
    i32[P + (FL.pN >> 2)] = inner;
    for (let k = 0; k < nIn; k++) {
      const v = inputs[k]!;
      const e = ESZ[v.dtype];
      const base = P + ((FL.pIn + k * FL.inBytes) >> 2);
      let contig = true;
      let zero = true;
      let expect = 1;
      for (let d = rank - 1; d >= lo; d--) {
        const st = str[k * cap + d]!;
        if (st !== 0) zero = false;
        if (st !== expect) contig = false;
        expect *= shp[d]!;
      }
      const mode = contig ? FL.modeContiguous : zero ? FL.modeScalar : FL.modeStrided;
      i32[base] = mode;
      i32[base + 1] = (v.buf as WasmBuffer).ptr + v.offset * e;
      i32[base + 2] = e;
      if (mode === FL.modeStrided) for (let d = lo; d < rank; d++) i32[base + 4 + d - lo] = str[k * cap + d]! * e;
    }
    if (lo === 0) {
      this.k.fused_run(c.ptr, this.fusedParams, this.fusedScratch);
      return;
    }
    // more than maxDims dims that do not merge (rare): one call per index of the outer dims
    const outerShape = Array.from(shp.subarray(0, lo));
    const outerStrides = inputs.map((_, k) => Array.from(str.subarray(k * cap, k * cap + lo)));
    const bases = inputs.map((v) => (v.buf as WasmBuffer).ptr + v.offset * ESZ[v.dtype]);
    const outs = Array.from(this.fzOut.subarray(0, nOut));
    let outer = 0;
    forEachIndex(outerShape, outerStrides, new Array<number>(nIn).fill(0), (off) => {
      for (let k = 0; k < nIn; k++) i32[P + ((FL.pIn + k * FL.inBytes) >> 2) + 1] = bases[k]! + off[k]! * ESZ[inputs[k]!.dtype];
      for (let j = 0; j < nOut; j++) i32[P + (FL.pOut >> 2) + j] = outs[j]! + outer * inner * (c.outputs[j] === 'bool' ? 1 : 4);
      this.k.fused_run(c.ptr, this.fusedParams, this.fusedScratch);
      outer++;
    });
  }

  /**
   * Looks up (or generates) the kernel for `c` and the inputs' layout after coalescing to `rank`
   * (1 to 3) dims, writing each input's address, row and plane strides (bytes) into the parameter
   * block; null when an input's inner stride is neither 1 nor 0 or the program cannot be generated.
   */
  private fusedGenerated(c: CompiledFused, inputs: readonly View[], rank: number, red: number): GeneratedFused | null {
    const cap = this.fzCap;
    const str = this.fzStrides;
    const kinds = this.fzKinds;
    const i32 = this.i32;
    const P = this.fusedParams >> 2;
    let code = 0;
    for (let k = inputs.length - 1; k >= 0; k--) {
      const inner = str[k * cap + rank - 1]!;
      const row = rank >= 2 ? str[k * cap + rank - 2]! : 0;
      const plane = rank === 3 ? str[k * cap]! : 0;
      if (inner !== 0 && inner !== 1) return null;
      const kind = inner === 1 ? KIND_ROW : row === 0 && plane === 0 ? KIND_SCALAR : KIND_COLUMN;
      kinds[k] = kind;
      code = code * 3 + kind;
      const v = inputs[k]!;
      const e = ESZ[v.dtype];
      const base = P + ((FL.pIn + k * FL.inBytes) >> 2);
      i32[base + 1] = (v.buf as WasmBuffer).ptr + v.offset * e;
      i32[base + 4] = row * e;
      i32[base + 5] = plane * e;
    }
    this.codegen ??= new FusedCodegen(this.mem, this.k.fusedHelpers, CODEGEN_CACHE, (id) => this.generatedDropped(id));
    return this.codegen.get(c, code, kinds, red);
  }

  /**
   * Runs generated kernel `g` over the layout {@link fusedGenerated} wrote into the parameter
   * block (`rank` coalesced dims in `fzShape`): on the caller's thread, or split over threads by
   * planes (rank 3), rows (rank 2) or runs of 64 elements (rank 1), each thread with its own copy
   * of the parameter block whose addresses start at its share. `rowsOut`: the kernel writes one
   * value per row (a reduction along rows), else one per element.
   */
  private generatedRun(op: string, g: GeneratedFused, c: CompiledFused, inputs: readonly View[], rank: number, rowsOut: boolean): void {
    const s = this.fzShape;
    const planes = rank === 3 ? s[0]! : 1;
    const rows = rank >= 2 ? s[rank - 2]! : 1;
    const cols = s[rank - 1]!;
    const dim = rank === 3 ? planes : rank === 2 ? rows : cols;
    const unit = rank === 1 ? 64 : 1;
    const n = planes * rows * cols;
    const parts = this.parts(n, PER_THREAD.fused, Math.floor(dim / unit));
    if (parts === 1 || !this.generatedLoaded(g)) {
      g.run(this.fusedParams, rows, cols, planes);
      return;
    }
    this.views();
    const ranges = splitRange(dim, this.chunks(parts, Math.floor(dim / unit)), unit);
    while (this.fusedParamsT.length < ranges.length - 1) this.fusedParamsT.push(this.tempAlloc(op, FL.paramBytes, 'for a thread\'s fused parameter block').ptr);
    const i32 = (this.views(), this.i32);
    const P = this.fusedParams;
    const nIn = inputs.length;
    const nOut = c.outputs.length;
    // the inputs' byte step per unit of the split dim, and the outputs'
    const inStep = new Array<number>(nIn);
    for (let k = 0; k < nIn; k++) {
      const base = (P + FL.pIn + k * FL.inBytes) >> 2;
      inStep[k] = rank === 3 ? i32[base + 5]! : rank === 2 ? i32[base + 4]! : this.fzKinds[k] === KIND_ROW ? ESZ[inputs[k]!.dtype] : 0;
    }
    const per = rank === 3 ? rows * (rowsOut ? 1 : cols) : rank === 2 ? (rowsOut ? 1 : cols) : 1;
    const outStep = new Array<number>(nOut);
    for (let j = 0; j < nOut; j++) outStep[j] = per * (c.outputs[j] === 'bool' ? 1 : 4);
    const inPtr = inputs.map((_, k) => i32[((P + FL.pIn + k * FL.inBytes) >> 2) + 1]!);
    const outPtr = Array.from({ length: nOut }, (_, j) => i32[((P + FL.pOut) >> 2) + j]!);
    const block = (t: number): number[] => {
      const [d0, d1] = ranges[t]!;
      const q = t === ranges.length - 1 ? P : this.fusedParamsT[t]!;
      if (q !== P) this.u8.copyWithin(q, P, P + FL.paramBytes);
      for (let k = 0; k < nIn; k++) i32[((q + FL.pIn + k * FL.inBytes) >> 2) + 1] = inPtr[k]! + d0 * inStep[k]!;
      for (let j = 0; j < nOut; j++) i32[((q + FL.pOut) >> 2) + j] = outPtr[j]! + d0 * outStep[j]!;
      const len = d1 - d0;
      return rank === 3 ? [q, rows, cols, len] : rank === 2 ? [q, len, cols, 1] : [q, 1, len, 1];
    };
    const calls = ranges.map((_, t): PoolCall => ({ fn: g.id, args: block(t), generated: true }));
    this.fork(op, calls, (call) => g.run(...(call.args as [number, number, number, number])), n * 20);
  }

  /** Per-worker copies of the fused parameter block. */
  private readonly fusedParamsT: number[] = [];
  /** Generated modules every worker of the current pool has compiled. */
  private generatedOnWorkers = new Set<number>();
  private generatedPool: ThreadPool | null = null;

  /** Whether the workers have generated module `g` (compiling it there now if not). */
  private generatedLoaded(g: GeneratedFused): boolean {
    const pool = this.pool!;
    if (this.generatedPool !== pool) {
      this.generatedPool = pool;
      this.generatedOnWorkers = new Set();
    }
    if (this.generatedOnWorkers.has(g.id)) return true;
    const t = this.tempAlloc('fused', g.code.length, 'for a generated kernel on its way to the workers');
    try {
      this.views();
      this.u8.set(g.code, t.ptr);
      pool.load(g.id, t.ptr, g.code.length);
    } catch {
      if (pool.failure !== null && this.pool === pool) this.poolFailed();
      return false;
    } finally {
      this.tempFree(t);
    }
    this.generatedOnWorkers.add(g.id);
    return true;
  }

  /** The codegen cache dropped module `id`: the workers forget it too. */
  private generatedDropped(id: number): void {
    if (!this.generatedOnWorkers.delete(id)) return;
    const pool = this.generatedPool;
    if (pool === this.pool && pool !== null && pool.failure === null) pool.drop(id);
  }

  /** Generated fused kernels (made on first use). */
  private codegen: FusedCodegen | null = null;
  private codegenOn = true;
  private readonly fzKinds = new Int32Array(FL.maxInputs);
  /** Output addresses of the fused call being run (see {@link fusedExec}). */
  private readonly fzOut = new Int32Array(FL.maxOutputs);
  private readonly runs = { generated: 0, interpreted: 0, reduceGenerated: 0, reduceBlocks: 0, matmulFused: 0 };

  /**
   * Whether `fused` may run generated kernels (default true); false runs every program in the
   * interpreter. @internal (tests and the benchmark compare the two)
   */
  get fusedCodegen(): boolean {
    return this.codegenOn;
  }
  set fusedCodegen(on: boolean) {
    this.codegenOn = on;
  }

  /**
   * Calls of `fused` so far by how they ran (a generated kernel or the interpreter; the fused
   * programs `reduceFused` and `matmulFused` run count here too); `reduceFused` calls that ran one
   * generated kernel with the reduction in it (`reduceGenerated`) or wrote the values block by
   * block and reduced them (`reduceBlocks`); `matmulFused` calls; generated kernels held and built;
   * (program, layout) pairs left to the interpreter because an op is not covered, the module would
   * be too large, or the engine refused to compile it. @internal
   */
  get fusedRuns(): { generated: number; interpreted: number; reduceGenerated: number; reduceBlocks: number; matmulFused: number; modules: number; built: number; uncovered: number; tooLarge: number; failed: number } {
    const g = this.codegen;
    return { ...this.runs, modules: g?.size ?? 0, built: g?.built ?? 0, uncovered: g?.uncovered ?? 0, tooLarge: g?.tooLarge ?? 0, failed: g?.failed ?? 0 };
  }

  /** Compiled fused programs by key (insertion order: the oldest is dropped first). */
  private readonly fusedCache = new Map<string, CompiledFused>();
  /** The fused interpreter's parameter block and registers (reserved on first use, kept). */
  private fusedParams = 0;
  private fusedScratch = 0;
  private fusedScratchBytes = 0;
  private block = FUSED_BLOCK;
  /** Lanes per block of the fused interpreter (a multiple of 16). @internal (the benchmark varies it) */
  get fusedBlock(): number {
    return this.block;
  }
  set fusedBlock(lanes: number) {
    if (!Number.isInteger(lanes) || lanes < 16 || lanes > 65536 || lanes % 16 !== 0) throw new AxonError('fused', `the block size must be a multiple of 16 from 16 to 65536 lanes, got ${fmtValue(lanes)}`);
    this.block = lanes;
  }
  /** Coalesced shape and per-input strides (`fzStrides[k * fzCap + d]`), grown on demand. */
  private fzCap = 16;
  private fzShape = new Float64Array(16);
  private fzStrides = new Float64Array(16 * (FL.maxInputs + 1));

  /**
   * Drops size-1 dims and merges dims every input walks contiguously; returns the rank. `extra`
   * (strides of `shape`), when given, takes part as one more operand (after the inputs).
   */
  private fusedCoalesce(inputs: readonly View[], shape: readonly number[], extra: readonly number[] | null): number {
    if (shape.length > this.fzCap) {
      this.fzCap = shape.length;
      this.fzShape = new Float64Array(this.fzCap);
      this.fzStrides = new Float64Array(this.fzCap * (FL.maxInputs + 1));
    }
    const cap = this.fzCap;
    const shp = this.fzShape;
    const str = this.fzStrides;
    const ni = inputs.length;
    const nk = ni + (extra !== null ? 1 : 0);
    let r = 0;
    for (let d = 0; d < shape.length; d++) {
      const n = shape[d]!;
      if (n === 1) continue;
      if (r > 0) {
        let merge = true;
        for (let k = 0; k < nk; k++) {
          if (str[k * cap + r - 1] !== (k < ni ? inputs[k]!.strides[d]! : extra![d]!) * n) {
            merge = false;
            break;
          }
        }
        if (merge) {
          shp[r - 1]! *= n;
          for (let k = 0; k < nk; k++) str[k * cap + r - 1] = (k < ni ? inputs[k]!.strides[d]! : extra![d]!);
          continue;
        }
      }
      shp[r] = n;
      for (let k = 0; k < nk; k++) str[k * cap + r] = (k < ni ? inputs[k]!.strides[d]! : extra![d]!);
      r++;
    }
    return r;
  }

  /** Puts a compiled program's bytecode in linear memory and caches it. */
  private fusedInstall(c: CompiledFused): void {
    const t = this.tempAlloc('fused', c.code.length * 4, 'for a compiled program');
    c.ptr = t.ptr;
    c.reserved = t.size;
    this.views();
    this.i32.set(c.code, t.ptr >> 2);
    if (this.fusedCache.size >= FUSED_CACHE) {
      for (const [key, old] of this.fusedCache) {
        this.fusedCache.delete(key);
        this.heap.free(old.ptr, old.reserved);
        this.codegen?.drop(old);
        break;
      }
    }
    this.fusedCache.set(c.key, c);
  }

  /** Reserves the parameter block (kept). */
  private fusedReserveParams(): void {
    if (this.fusedParams === 0) this.fusedParams = this.tempAlloc('fused', FL.paramBytes, 'for the fused parameter block').ptr;
  }

  /** Reserves `registers` registers of {@link WasmBackend.fusedBlock} lanes for the interpreter. */
  private fusedReserve(registers: number): void {
    const need = registers * this.fusedBlock * 4;
    if (need <= this.fusedScratchBytes) return;
    if (this.fusedScratchBytes > 0) {
      this.heap.free(this.fusedScratch, Allocator.blockSize(this.fusedScratchBytes));
      this.fusedScratch = 0;
      this.fusedScratchBytes = 0;
    }
    this.fusedScratch = this.tempAlloc('fused', need, `for ${registers} registers of ${this.fusedBlock} lanes`).ptr;
    this.fusedScratchBytes = need;
  }

  /**
   * Bytes of linear memory the fused interpreter holds: compiled programs, its parameter block and
   * registers (not counted in `memory()`, like the matmul workspace; released by `dispose`).
   * @internal
   */
  get fusedHeldBytes(): number {
    let b = this.fusedScratchBytes > 0 ? Allocator.blockSize(this.fusedScratchBytes) : 0;
    if (this.fusedParams !== 0) b += Allocator.blockSize(FL.paramBytes);
    b += this.fusedParamsT.length * Allocator.blockSize(FL.paramBytes);
    for (const c of this.fusedCache.values()) b += c.reserved;
    return b;
  }

  /** Number of compiled programs cached. @internal */
  get fusedCachedPrograms(): number {
    return this.fusedCache.size;
  }

  /** Gives the fused interpreter's memory back to the allocator (its caches start over). */
  private releaseFused(): void {
    for (const c of this.fusedCache.values()) this.heap.free(c.ptr, c.reserved);
    this.fusedCache.clear();
    this.codegen?.clear();
    this.codegen = null;
    if (this.fusedParams !== 0) this.heap.free(this.fusedParams, Allocator.blockSize(FL.paramBytes));
    if (this.fusedScratchBytes > 0) this.heap.free(this.fusedScratch, Allocator.blockSize(this.fusedScratchBytes));
    for (const q of this.fusedParamsT) this.heap.free(q, Allocator.blockSize(FL.paramBytes));
    this.fusedParamsT.length = 0;
    this.fusedParams = 0;
    this.fusedScratch = 0;
    this.fusedScratchBytes = 0;
  }

  /**
   * Reduces the value of a fused elementwise program without writing it out (the contract:
   * `Backend.reduceFused` in `@axon/core`): the program's one float32 output, evaluated at every
   * index of `shape`, reduced over `axes` into `out` with the results of `fused` into a buffer
   * and `reduce` of it, bit for bit.
   *
   * Where the dims merge into rows reduced along their length (`[M, N]` or `[P, M, N]` over the
   * last axis: a softmax's max and sum; or everything, into one row, also over 2–3 dims that do
   * not merge when each row holds whole 8-lane groups or for a product) or into columns reduced
   * over the rows (`[M, N]` over axis 0 or `[P, M, N]` over axes 0 and 1: a bias gradient), with
   * each input's inner dim contiguous or broadcast,
   * one generated kernel (the program's, as `fused` runs it) accumulates each value where it would
   * have stored it, in the order of the `reduce` kernel. Other layouts write the values block by
   * block into scratch memory (at most 16 K elements a block when the leading axis is kept) and
   * reduce each block with the `reduce` kernel. Scratch memory goes back to the allocator.
   * @example
   * ```ts
   * import type { FusedProgram } from '@axon/core';
   * const be = WasmBackend.createSync();
   * const x = be.alloc('float32', 6);
   * be.write(x, new Float32Array([1, 2, 3, 4, 5, 6]));
   * // Σ over the last axis of exp(x − 1): a softmax's denominator, without writing exp(x − 1) out
   * const p: FusedProgram = {
   *   key: 'exp(x-c)', inputs: ['float32'], consts: 1,
   *   code: [{ op: 'input', input: 0 }, { op: 'const', slot: 0 }, { op: 'sub', args: [0, 1] }, { op: 'exp', args: [2] }],
   *   outputs: [{ value: 3, dtype: 'float32' }],
   * };
   * const out = be.alloc('float32', 2);
   * be.reduceFused('sum', p, [{ buf: x, dtype: 'float32', shape: [2, 3], strides: [3, 1], offset: 0 }], [1], [2, 3], [1], out);
   * be.readSync(out) // [11.1073, 223.0968]
   * be.dispose();
   * ```
   */
  reduceFused(op: FusedReduceOp, program: FusedProgram, inputs: readonly View[], consts: readonly number[], shape: readonly number[], axes: readonly number[], out: BackendBuffer): void {
    const name = 'reduceFused';
    this.alive(name);
    const code = FUSED_REDUCE.indexOf(op);
    if (code < 0) throw new AxonError(name, `unknown reduction ${fmtValue(op)}, expected 'sum', 'prod', 'max' or 'min'`);
    if (!isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) throw new AxonError(name, `shape must be an array of non-negative integers, got ${fmtValue(shape)}`);
    const c = this.fusedProgram(name, program, inputs, consts, 0, shape);
    if (c.outputs.length !== 1 || c.outputs[0] !== 'float32') throw new AxonError(name, `the program must write exactly one float32 output, got ${c.outputs.length} (${c.outputs.join(', ')})`);
    const rank = shape.length;
    if (!isArray(axes) || axes.length === 0) throw new AxonError(name, `axes must be a non-empty array, got ${fmtValue(axes)}`);
    for (let q = 0; q < axes.length; q++) {
      const ax = axes[q]!;
      if (!Number.isInteger(ax) || ax < 0 || ax >= rank || (q > 0 && ax <= axes[q - 1]!)) {
        throw new AxonError(name, `axes must be sorted, unique and in [0, ${rank}) for shape [${shape.join(',')}], got ${fmtValue(axes)}`);
      }
    }
    // the output's strides over `shape` (0 on the reduced axes): they keep kept and reduced dims
    // from merging when the inputs' dims are coalesced
    const marker = new Array<number>(rank);
    let nOut = 1;
    for (let d = rank - 1, q = axes.length - 1; d >= 0; d--) {
      if (q >= 0 && axes[q] === d) {
        marker[d] = 0;
        q--;
      } else {
        marker[d] = nOut;
        nOut *= shape[d]!;
      }
    }
    const o = this.out(name, out, nOut, 'float32');
    for (let k = 0; k < inputs.length; k++) if (inputs[k]!.buf === o) throw new AxonError(name, `out is the buffer of input ${k} (outputs never alias inputs)`);
    if (nOut === 0) return;
    const n = sizeOf(shape);
    if (n === 0) {
      this.k.fill_32(o.ptr, floatBits(code === 0 ? 0 : code === 1 ? 1 : code === 2 ? -Infinity : Infinity), nOut);
      return;
    }
    this.fusedCommit(c);
    if (this.codegenOn && this.reduceGenerated(code, c, inputs, consts, shape, marker, o)) return;
    this.reduceBlocks(code, c, inputs, consts, shape, axes, o, n);
  }

  /**
   * Runs `reduceFused` as one generated kernel where the layout allows: after coalescing, rows
   * reduced along their length (`[kept, reduced]` or `[reduced]`) or columns reduced over the rows
   * (`[reduced, kept]`). Returns false where it does not.
   */
  private reduceGenerated(code: number, c: CompiledFused, inputs: readonly View[], consts: readonly number[], shape: readonly number[], marker: readonly number[], o: WasmBuffer): boolean {
    const r = this.fusedCoalesce(inputs, shape, marker);
    const m = inputs.length * this.fzCap; // the marker's strides: 0 on a reduced dim
    const str = this.fzStrides;
    // rows: [reduced], [kept, reduced] or [kept, kept, reduced] (rows in planes: a softmax over
    // [batch, heads, T, T] with a mask that keeps the heads from merging); columns: [reduced, kept]
    // or [reduced, reduced, kept] (a bias gradient over [B, T, C] where an input broadcast over
    // the batch, e.g. a position embedding, keeps B and T from merging: planes of rows, in order)
    // every axis over dims that do not merge (a loss over [B, T, C] with a bias row [C]): one
    // long row, where each row holds whole 8-lane groups (or for a product, element by element)
    const everything = r >= 2 && str[m] === 0 && str[m + 1] === 0 && (r === 2 || (r === 3 && str[m + 2] === 0)) && (code === 1 || this.fzShape[r - 1]! % 8 === 0);
    const kind =
      everything ? REDUCE_ALL
      : r === 1 ? (str[m] === 0 ? REDUCE_ROWS : 0)
      : r === 2 ? (str[m] !== 0 && str[m + 1] === 0 ? REDUCE_ROWS : str[m] === 0 && str[m + 1] !== 0 ? REDUCE_COLS : 0)
      : r !== 3 ? 0
      : str[m] !== 0 && str[m + 1] !== 0 && str[m + 2] === 0 ? REDUCE_ROWS
      : str[m] === 0 && str[m + 1] === 0 && str[m + 2] !== 0 ? REDUCE_COLS : 0;
    if (kind === 0) return false;
    const g = this.fusedGenerated(c, inputs, r, (kind << 2) | code);
    if (g === null) return false;
    const rows = r >= 2 ? this.fzShape[r - 2]! : 1;
    const cols = this.fzShape[r - 1]!;
    // sum/prod over columns accumulate in float64, one per column
    const acc = kind === REDUCE_COLS && code < 2 ? this.tempAlloc('reduceFused', cols * 8, 'for the column accumulators') : null;
    try {
      this.views();
      const P = (this.fusedParams + FL.pOut) >> 2;
      this.fusedConsts(c, consts);
      this.i32[P] = o.ptr;
      this.i32[P + 1] = acc?.ptr ?? 0;
      // rows reduced along their length split over threads by rows (by planes of rows at rank 3);
      // columns and everything stay on one
      if (kind === REDUCE_ROWS && r >= 2) this.generatedRun('reduceFused', g, c, inputs, r, true);
      else g.run(this.fusedParams, rows, cols, r === 3 ? this.fzShape[0]! : 1);
    } finally {
      if (acc !== null) this.tempFree(acc);
    }
    this.runs.reduceGenerated++;
    return true;
  }

  /**
   * Runs `reduceFused` as `fused` into scratch memory, then the `reduce` kernel: in blocks of the
   * leading axis where it is kept (each block's outputs are contiguous and reduce as they would in
   * the whole), else over the whole shape at once.
   */
  private reduceBlocks(code: number, c: CompiledFused, inputs: readonly View[], consts: readonly number[], shape: readonly number[], axes: readonly number[], o: WasmBuffer, n: number): void {
    const d0 = shape[0]!;
    const slab = n / d0;
    const step = axes[0]! > 0 ? Math.min(d0, Math.max(1, Math.floor(REDUCE_BLOCK / slab))) : d0;
    const outPer = o.size / d0;
    const t = this.tempAlloc('reduceFused', step * slab * 4, 'for the values to reduce');
    try {
      const sub = shape.slice();
      for (let s = 0; s < d0; s += step) {
        const len = Math.min(step, d0 - s);
        sub[0] = len;
        const views = step === d0 ? inputs : inputs.map((v) => ({ buf: v.buf, dtype: v.dtype, shape: sub, strides: v.strides, offset: v.offset + s * v.strides[0]! }));
        this.fzOut[0] = t.ptr;
        this.fusedExec(c, views, consts, sub, len * slab);
        const values: View = { buf: new WasmBuffer(len * slab, 'float32', t.ptr, 0, this), dtype: 'float32', shape: sub, strides: contiguous(sub), offset: 0 };
        const dst = step === d0 ? o : new WasmBuffer(len * outPer, 'float32', o.ptr + s * outPer * 4, 0, this);
        this.reduceAs('reduceFused', FUSED_REDUCE[code]!, values, axes, dst);
      }
    } finally {
      this.tempFree(t);
    }
    this.runs.reduceBlocks++;
  }

  /**
   * A matrix product and an elementwise epilogue in one call (the contract: `Backend.matmulFused`
   * in `@axon/core`): the `matmul` kernel writes the product, then the program runs over it as
   * `fused` would (its generated kernel or the interpreter) reading the product as input 0 —
   * the results of `matmul` into a buffer and `fused` over it, bit for bit. An output that is the
   * product itself (program input 0 unchanged, e.g. the pre-activation a gradient needs) receives
   * the product directly; otherwise the product lives in scratch memory for the call.
   * @example
   * ```ts
   * import type { FusedProgram } from '@axon/core';
   * const be = WasmBackend.createSync();
   * const a = be.alloc('float32', 4);
   * be.write(a, new Float32Array([1, -2, 3, -4]));
   * const b = be.alloc('float32', 4);
   * be.write(b, new Float32Array([1, 0, 0, 1])); // the identity
   * const bias = be.alloc('float32', 2);
   * be.write(bias, new Float32Array([0.5, 0.5]));
   * // relu(a·b + bias), bias a row broadcast over the rows, and the raw product a·b
   * const p: FusedProgram = {
   *   key: 'relu(p+b),p', inputs: ['float32', 'float32'], consts: 0,
   *   code: [{ op: 'input', input: 0 }, { op: 'input', input: 1 }, { op: 'add', args: [0, 1] }, { op: 'relu', args: [2] }],
   *   outputs: [{ value: 3, dtype: 'float32' }, { value: 0, dtype: 'float32' }],
   * };
   * const y = be.alloc('float32', 4);
   * const prod = be.alloc('float32', 4);
   * const view = (buf: typeof a, shape: number[], strides: number[]) => ({ buf, dtype: 'float32' as const, shape, strides, offset: 0 });
   * be.matmulFused(view(a, [1, 2, 2], [4, 2, 1]), view(b, [1, 2, 2], [4, 2, 1]), p, [view(bias, [2, 2], [0, 1])], [], [y, prod]);
   * be.readSync(y) // [1.5, 0, 3.5, 0]
   * be.readSync(prod) // [1, -2, 3, -4]
   * be.dispose();
   * ```
   */
  matmulFused(a: View, b: View, program: FusedProgram, inputs: readonly View[], consts: readonly number[], outputs: readonly BackendBuffer[]): void {
    const name = 'matmulFused';
    this.alive(name);
    const n = this.matmulCheck(name, a, b);
    const c = this.fusedProgram(name, program, inputs, consts, 1, null);
    const product = [a.shape[0]!, a.shape[1]!, b.shape[2]!];
    const shape = inputs.length > 0 ? inputs[0]!.shape : null;
    if (shape !== null && sizeOf(shape) !== n) throw new AxonError(name, `the inputs have shape [${shape.join(',')}] (${sizeOf(shape)} elements), expected B·M·N = ${n} elements (the product [${product.join(',')}])`);
    if (this.fusedOutputs(name, c, inputs, outputs, n, product, [a, b]) === 0) return;
    // the product goes straight into an output that is the product itself, else into scratch
    const j0 = c.outputInputs.findIndex((k, j) => k === 0 && c.outputs[j] === 'float32');
    const tmp = j0 >= 0 ? null : this.tempAlloc(name, n * 4, 'for the product');
    const pp = tmp?.ptr ?? (outputs[j0] as WasmBuffer).ptr;
    try {
      this.matmulRun(a, b, pp);
      const s = shape ?? [n];
      const views: View[] = [{ buf: new WasmBuffer(n, 'float32', pp, 0, this), dtype: 'float32', shape: s, strides: contiguous(s), offset: 0 }, ...inputs];
      this.fusedExec(c, views, consts, s, n);
    } finally {
      if (tmp !== null) this.tempFree(tmp);
    }
    this.runs.matmulFused++;
  }

  /** {@inheritDoc @axon/core!Backend#where} */
  where(cond: View, a: View, b: View, out: BackendBuffer): void {
    const bc = this.view('where', cond, 'bool');
    const ba = this.view('where', a);
    const bb = this.view('where', b, ba.dtype);
    this.sameShape('where', cond.shape, a.shape);
    this.sameShape('where', a.shape, b.shape);
    const n = sizeOf(a.shape);
    const o = this.out('where', out, n, ba.dtype);
    if (n === 0) return;
    const e = ESZ[ba.dtype];
    const fn = e === 4 ? this.k.where_4 : this.k.where_1;
    const kc = flatKind(cond.shape, cond.strides);
    const ka = flatKind(a.shape, a.strides);
    const kb = flatKind(b.shape, b.strides);
    if (kc >= 0 && ka >= 0 && kb >= 0) {
      fn(bc.ptr + cond.offset, 0, kc, ba.ptr + a.offset * e, 0, ka * e, bb.ptr + b.offset * e, 0, kb * e, o.ptr, 1, n);
      return;
    }
    const c = coalesce(a.shape, [cond.strides, a.strides, b.strides, contiguous(a.shape)]);
    forEach2d(c, [cond.offset, a.offset, b.offset, 0], (off, rs, cs, rows, cols) => {
      fn(
        bc.ptr + off[0]!, rs[0]!, cs[0]!,
        ba.ptr + off[1]! * e, rs[1]! * e, cs[1]! * e,
        bb.ptr + off[2]! * e, rs[2]! * e, cs[2]! * e,
        o.ptr + off[3]! * e, rows, cols,
      );
    });
  }

  /** {@inheritDoc @axon/core!Backend#reduce} */
  reduce(op: ReduceOp, x: View, axes: readonly number[], out: BackendBuffer): void {
    this.reduceAs('reduce', op, x, axes, out);
  }

  /** {@link WasmBackend.reduce}, its errors naming `name`. */
  private reduceAs(name: string, op: ReduceOp, x: View, axes: readonly number[], out: BackendBuffer): void {
    const bx = this.view(name, x, ['float32', 'int32']);
    const code = REDUCE_CODE[op];
    if (code === undefined) throw new AxonError(name, `unknown reduction '${String(op)}'`);
    const rank = x.shape.length;
    const isAxis = new Array<boolean>(rank).fill(false);
    for (const ax of axes) {
      if (!Number.isInteger(ax) || ax < 0 || ax >= rank) throw new AxonError(name, `axis ${ax} out of range for rank ${rank}`);
      isAxis[ax] = true;
    }
    const keptShape: number[] = [];
    const keptStrides: number[] = [];
    const redShape: number[] = [];
    const redStrides: number[] = [];
    for (let d = 0; d < rank; d++) {
      if (isAxis[d]) {
        redShape.push(x.shape[d]!);
        redStrides.push(x.strides[d]!);
      } else {
        keptShape.push(x.shape[d]!);
        keptStrides.push(x.strides[d]!);
      }
    }
    const nOutAll = sizeOf(keptShape);
    const outDtype: DType = op === 'argmax' || op === 'argmin' ? 'int32' : bx.dtype;
    const o = this.out(name, out, nOutAll, outDtype);
    if (nOutAll === 0) return;
    const nRed = sizeOf(redShape);
    if ((op === 'argmax' || op === 'argmin') && nRed === 0) throw new AxonError(name, `${op} over an empty set`);
    const fn = bx.dtype === 'float32' ? this.k.reduce_f32 : this.k.reduce_i32;
    const red = coalesce(redShape, [redStrides]);
    if (red.shape.length > 2) {
      // Rare: more than two non-mergeable reduced dims. Materialise [kept..., reduced...].
      const tmpShape = [...keptShape, ...redShape];
      const tmp = this.tempAlloc(name, sizeOf(tmpShape) * 4, 'for a reordered copy of the input');
      try {
        const tmpBuf = new WasmBuffer(sizeOf(tmpShape), bx.dtype, tmp.ptr, 0, this);
        this.copy(
          { buf: x.buf, dtype: x.dtype, shape: tmpShape, strides: [...keptStrides, ...redStrides], offset: x.offset },
          { buf: tmpBuf, dtype: bx.dtype, shape: tmpShape, strides: contiguous(tmpShape), offset: 0 },
        );
        const scratch = this.tempAlloc(name, 8, 'of scratch space');
        fn(code, tmp.ptr, nOutAll, nRed * 4, 1, 0, nRed, 4, o.ptr, scratch.ptr);
        this.tempFree(scratch);
      } finally {
        this.tempFree(tmp);
      }
      return;
    }
    let r0 = 1;
    let s0 = 0;
    let r1 = 1;
    let s1 = 0;
    if (red.shape.length === 2) {
      r0 = red.shape[0]!;
      s0 = red.strides[0]![0]! * 4;
      r1 = red.shape[1]!;
      s1 = red.strides[0]![1]! * 4;
    } else if (red.shape.length === 1) {
      r1 = red.shape[0]!;
      s1 = red.strides[0]![0]! * 4;
    }
    const kept = coalesce(keptShape, [keptStrides, contiguous(keptShape)]);
    const kr = kept.shape.length;
    const last = kr > 0 ? kept.shape[kr - 1]! : 1;
    // one thread's share of the outputs when they split (each output reduced as on one thread)
    // the kernel reduces columns four outputs at a time (r0 = 1, contiguous outputs, strided
    // reduced dim): shares of 64 outputs keep its lanes and tail; otherwise each output is reduced
    // on its own and any share will do
    const cols = r0 === 1 && sOutOf(kept) === 4 && s1 !== 4 && code <= 3;
    const parts = kr <= 1 ? this.parts(last * nRed, PER_THREAD.reduce, cols ? Math.floor(last / 64) : last) : 1;
    const nChunks = kr <= 1 ? this.chunks(parts, cols ? Math.floor(last / 64) : last) : 1;
    const scratch = this.tempAlloc(name, nChunks * (last + 2) * 8, 'of scratch space');
    const sOut = kr > 0 ? kept.strides[0]![kr - 1]! * 4 : 0;
    const eo = outDtype === 'bool' ? 1 : 4;
    try {
      if (parts > 1) {
        const ranges = splitRange(last, this.chunks(parts, cols ? Math.floor(last / 64) : last), cols ? 64 : 1);
        const args = (t: number): number[] => {
          const [j0, j1] = ranges[t]!;
          return [code, bx.ptr + x.offset * 4 + j0 * sOut, j1 - j0, sOut, r0, s0, r1, s1, o.ptr + j0 * eo, scratch.ptr + t * (last + 2) * 8];
        };
        const k = this.fnIndex.get(bx.dtype === 'float32' ? 'reduce_f32' : 'reduce_i32')!;
        const calls = ranges.map((_, t): PoolCall => ({ fn: k, args: args(t) }));
        this.fork(name, calls, (c) => fn(...c.args), last * nRed * 10);
      } else if (kr <= 1) {
        fn(code, bx.ptr + x.offset * 4, last, sOut, r0, s0, r1, s1, o.ptr, scratch.ptr);
      } else {
        const outerShape = kept.shape.slice(0, kr - 1);
        forEachIndex(outerShape, kept.strides.map((s) => s.slice(0, kr - 1)), [x.offset, 0], (off) => {
          fn(code, bx.ptr + off[0]! * 4, last, sOut, r0, s0, r1, s1, o.ptr + off[1]! * 4, scratch.ptr);
        });
      }
    } finally {
      this.tempFree(scratch);
    }
  }

  /** {@inheritDoc @axon/core!Backend#matmul} */
  matmul(a: View, b: View, out: BackendBuffer): void {
    const n = this.matmulCheck('matmul', a, b);
    const o = this.out('matmul', out, n, 'float32');
    if (n > 0) this.matmulRun(a, b, o.ptr);
  }

  /**
   * Validates matmul's operands (`a` [B, M, K], `b` [B, K, N], float32); returns B·M·N. Errors name
   * `op`.
   */
  private matmulCheck(op: string, a: View, b: View): number {
    this.view(op, a, 'float32', 3);
    this.view(op, b, 'float32', 3);
    const [B, M, K] = a.shape as [number, number, number];
    const [B2, K2, N] = b.shape as [number, number, number];
    if (B !== B2 || K !== K2) throw new AxonError(op, `shapes [${a.shape.join(',')}] and [${b.shape.join(',')}] do not match (expected a [B, M, K] and b [B, K, N])`);
    return B * M * N;
  }

  /** Writes `a·b` (validated, non-empty) at byte address `ptr`. */
  private matmulRun(a: View, b: View, ptr: number): void {
    let [B, M] = a.shape as [number, number, number];
    const K = a.shape[2]!;
    const N = b.shape[2]!;
    if (K === 0) {
      this.k.fill_32(ptr, 0, B * M * N);
      return;
    }
    const [sab, sam, sak] = a.strides as [number, number, number];
    const [sbb, sbk, sbn] = b.strides as [number, number, number];
    // one matrix b broadcast over the batch (a layer's weight: x [B, T, K] · W) with a's batches
    // following each other row by row is one [B·M, K] · [K, N] product: b is packed once, not B
    // times, in bigger blocks. Each output element gets the same operations as per batch (the
    // kernel's paths agree bit for bit; M > 2 keeps the thin-product path out of it)
    if (B > 1 && M > 2 && sbb === 0 && sab === M * sam) {
      M *= B;
      B = 1;
    }
    const pa = (a.buf as WasmBuffer).ptr + a.offset * 4;
    const pb = (b.buf as WasmBuffer).ptr + b.offset * 4;
    const flop = 2 * B * M * N * K;
    const sob = M * N * 4;
    const ldc = N * 4;
    // split by whole batches, else by blocks of rows in multiples of 4 (the kernel's row block),
    // else (fewer than 8 rows) by blocks of columns in multiples of 8 (its column block); each
    // output element then goes through the same operations in the same order as on one thread,
    // so results are bit-identical for any thread count
    const by = B >= 2 ? 0 : M >= 8 ? 1 : N >= 16 ? 2 : -1;
    const parts = by < 0 ? 1 : this.parts(flop, PER_THREAD.matmul, by === 0 ? B : by === 1 ? Math.floor(M / 4) : Math.floor(N / 8));
    if (parts === 1 || !this.workspaces(this.active)) {
      this.k.matmul_f32(pa, sab * 4, sam * 4, sak * 4, pb, sbb * 4, sbk * 4, sbn * 4, ptr, sob, ldc, B, M, N, K, this.ws);
      return;
    }
    const fn = this.fnIndex.get('matmul_f32')!;
    const units = by === 0 ? B : by === 1 ? Math.floor(M / 4) : Math.floor(N / 8);
    const ranges = splitRange(by === 0 ? B : by === 1 ? M : N, this.chunks(parts, units), by === 0 ? 1 : by === 1 ? 4 : 8);
    const ws = this.ws; // each thread puts its own workspace in the last argument
    const args = (t: number): number[] => {
      const [r0, r1] = ranges[t]!;
      if (by === 0) return [pa + r0 * sab * 4, sab * 4, sam * 4, sak * 4, pb + r0 * sbb * 4, sbb * 4, sbk * 4, sbn * 4, ptr + r0 * sob, sob, ldc, r1 - r0, M, N, K, ws];
      if (by === 1) return [pa + r0 * sam * 4, sab * 4, sam * 4, sak * 4, pb, sbb * 4, sbk * 4, sbn * 4, ptr + r0 * ldc, sob, ldc, 1, r1 - r0, N, K, ws];
      return [pa, sab * 4, sam * 4, sak * 4, pb + r0 * sbn * 4, sbb * 4, sbk * 4, sbn * 4, ptr + r0 * 4, sob, ldc, 1, M, r1 - r0, K, ws];
    };
    const calls = ranges.map((_, t): PoolCall => ({ fn, args: args(t), workspaceArg: 15 }));
    this.fork('matmul', calls, (c) => this.k.matmul_f32(...c.args), flop);
  }

  /**
   * Scaled dot-product attention in one kernel (the contract: `Backend.attention` in `@axon/core`):
   * an online softmax over blocks of 64 keys for blocks of up to 32 query rows, so the scores
   * never exist beyond one 32×64 block per thread; `q`, `k`, `v` and `bias` are read through their
   * strides (a [batch, T, heads, D] tensor permuted to [batch·heads, T, D] needs no copy; a bias
   * broadcast with 0 strides neither). Split over threads by whole (batch, block of query rows)
   * units: the same bits for any thread count.
   * @example
   * ```ts
   * const be = createWasmBackendSync({ threads: 1 });
   * const q = be.alloc('float32', 2); // q: [1, 1, 2], one query
   * be.write(q, new Float32Array([1, 0]));
   * const k = be.alloc('float32', 4); // k: [1, 2, 2], two keys
   * be.write(k, new Float32Array([1, 0, 0, 1]));
   * const v = be.alloc('float32', 2); // v: [1, 2, 1]
   * be.write(v, new Float32Array([10, 20]));
   * const out = be.alloc('float32', 1);
   * const lse = be.alloc('float32', 1);
   * be.attention(
   *   { buf: q, dtype: 'float32', shape: [1, 1, 2], strides: [2, 2, 1], offset: 0 },
   *   { buf: k, dtype: 'float32', shape: [1, 2, 2], strides: [4, 2, 1], offset: 0 },
   *   { buf: v, dtype: 'float32', shape: [1, 2, 1], strides: [2, 1, 1], offset: 0 },
   *   null, 1, false, out, lse,
   * );
   * be.readSync(out) // [12.6894] — 10·e/(e+1) + 20·1/(e+1)
   * be.readSync(lse) // [1.3133] — log(e + 1)
   * be.dispose();
   * ```
   */
  attention(q: View, k: View, v: View, bias: View | null, scale: number, causal: boolean, out: BackendBuffer, lse: BackendBuffer): void {
    const op = 'attention';
    const [B, Tq, D] = q.shape as [number, number, number];
    const [Tk, Dv] = [k.shape[1]!, v.shape[2]!];
    const views = bias === null ? [q, k, v] : [q, k, v, bias];
    for (const x of views) this.view(op, x, 'float32', 3);
    const want = [[B, Tq, D], [B, Tk, D], [B, Tk, Dv], [B, Tq, Tk]];
    if (views.some((x, i) => !sameDims(x.shape, want[i]!))) {
      throw new AxonError(op, `expected q [B, Tq, D], k [B, Tk, D], v [B, Tk, Dv] and bias null or [B, Tq, Tk], got ${views.map((x) => `[${x.shape.join(',')}]`).join(', ')}`);
    }
    if (typeof scale !== 'number' || typeof causal !== 'boolean') throw new AxonError(op, `expected a number scale and a boolean causal, got ${fmtValue(scale)} and ${fmtValue(causal)}`);
    const o = this.out(op, out, B * Tq * Dv, 'float32');
    const l = this.out(op, lse, B * Tq, 'float32');
    if (o === l) throw new AxonError(op, 'out and lse must be different buffers');
    if (B * Tq === 0) return;
    // blocks of up to 32 query rows (multiples of the tile's 4) and 64 keys (multiples of 8),
    // smaller where the scratch would not fit a matmul workspace (D or Dv in the thousands)
    let BQ = Math.min(32, (Tq + 3) & ~3);
    let BK = Math.min(64, (Tk + 7) & ~7) || 8;
    const wsBytes = this.k.matmul_ws_bytes();
    const need = (): number => this.k.attention_ws_bytes(BQ, BK, D, Dv);
    while (need() > wsBytes && BQ + BK > 12) {
      if (BK > 8) BK >>= 1;
      else BQ = Math.max(4, BQ >> 1) & ~3;
    }
    this.views();
    const p = PARAMS >> 2;
    views.forEach((x, i) => this.i32.set([(x.buf as WasmBuffer).ptr + x.offset * 4, ...x.strides.map((st) => st * 4)], p + 4 * i));
    if (bias === null) this.i32[p + 12] = 0;
    this.i32.set([o.ptr, l.ptr, Tq, Tk, D, Dv, +causal, 0, BQ, BK], p + 16);
    this.f32[p + 23] = scale;
    const units = B * Math.ceil(Tq / BQ);
    const work = B * Tq * Tk * (2 * (D + Dv) + 16) * (causal ? 0.5 : 1);
    const parts = need() > wsBytes ? 1 : this.parts(work, PER_THREAD.attention, units);
    if (parts > 1 && this.workspaces(this.active)) {
      const fn = this.fnIndex.get('attention_f32')!;
      const calls = splitRange(units, this.chunks(parts, units), 1).map(([u0, u1]): PoolCall => ({ fn, args: [PARAMS, u0, u1, 0], workspaceArg: 3 }));
      this.fork(op, calls, (c) => this.k.attention_f32(PARAMS, c.args[1]!, c.args[2]!, this.ws), work);
      return;
    }
    // a scratch of its own only where D or Dv is in the tens of thousands
    const t = need() > wsBytes ? this.tempAlloc(op, need(), `of attention scratch (D ${D}, Dv ${Dv})`) : null;
    try {
      this.k.attention_f32(PARAMS, 0, units, t?.ptr ?? this.ws);
    } finally {
      if (t) this.tempFree(t);
    }
  }

  /** Writes the window parameter block; `second` holds the second view's strides. */
  private params(win: Window2d, x: readonly number[], second: readonly number[], t = 0): number {
    this.views();
    const p = (PARAMS + t * PARAMS_STRIDE) >> 2;
    const v = [win.n, win.c, win.h, win.w, win.kH, win.kW, win.strideH, win.strideW, win.padTop, win.padLeft, win.dilationH, win.dilationW, win.outH, win.outW];
    for (let i = 0; i < 14; i++) this.i32[p + i] = v[i]!;
    for (let i = 0; i < 4; i++) this.i32[p + 14 + i] = (x[i] ?? 0) * 4;
    for (let i = 0; i < 4; i++) this.i32[p + 18 + i] = (second[i] ?? 0) * 4;
    return PARAMS + t * PARAMS_STRIDE;
  }

  /**
   * Runs a window kernel (`name`) over `win`, split across threads by images (or, for one image,
   * by channels) when `work` is large enough: each thread gets its own parameter block, a
   * sub-window and the addresses `args(prm, n0, c0)` computes for a block starting at image `n0`,
   * channel `c0`. Each output element is written by one thread with the operations it would get
   * on one thread, so results are bit-identical.
   */
  private windowRun(op: string, name: KernelName, win: Window2d, x: readonly number[], second: readonly number[], work: number, args: (prm: number, n0: number, c0: number) => number[]): void {
    const byImage = win.n >= 2;
    const parts = this.parts(work, PER_THREAD.window, byImage ? win.n : win.c);
    if (parts === 1) {
      this.k[name](...args(this.params(win, x, second), 0, 0));
      return;
    }
    const units = byImage ? win.n : win.c;
    const ranges = splitRange(units, this.chunks(parts, units), 1);
    const fn = this.fnIndex.get(name)!;
    const calls = ranges.map(([r0, r1], t): PoolCall => {
      const sub: Window2d = byImage ? { ...win, n: r1 - r0 } : { ...win, c: r1 - r0 };
      return { fn, args: args(this.params(sub, x, second, t), byImage ? r0 : 0, byImage ? 0 : r0) };
    });
    this.fork(op, calls, (c) => this.k[name](...c.args), work * 10);
  }

  private checkWindow(op: string, win: Window2d): void {
    for (const key of ['n', 'c', 'h', 'w', 'kH', 'kW', 'strideH', 'strideW', 'padTop', 'padLeft', 'dilationH', 'dilationW', 'outH', 'outW'] as const) {
      const v = win[key];
      if (!Number.isInteger(v) || v < 0) throw new AxonError(op, `window ${key} must be a non-negative integer, got ${v}`);
    }
  }

  private checkImage(op: string, x: View, win: Window2d): void {
    this.sameShape(op, x.shape, [win.n, win.c, win.h, win.w]);
  }

  /** {@inheritDoc @axon/core!Backend#im2col} */
  im2col(x: View, win: Window2d, out: BackendBuffer): void {
    const bx = this.view('im2col', x, 'float32', 4);
    this.checkWindow('im2col', win);
    this.checkImage('im2col', x, win);
    const n = win.n * win.c * win.kH * win.kW * win.outH * win.outW;
    const o = this.out('im2col', out, n, 'float32');
    if (n === 0) return;
    const [xn, xc] = x.strides as [number, number];
    const per = win.kH * win.kW * win.outH * win.outW;
    this.windowRun('im2col', 'im2col', win, x.strides, [], n, (prm, n0, c0) => [bx.ptr + (x.offset + n0 * xn + c0 * xc) * 4, prm, o.ptr + (n0 * win.c + c0) * per * 4]);
  }

  /** {@inheritDoc @axon/core!Backend#col2im} */
  col2im(cols: View, win: Window2d, out: BackendBuffer): void {
    const bc = this.view('col2im', cols, 'float32', 3);
    this.checkWindow('col2im', win);
    this.sameShape('col2im', cols.shape, [win.n, win.c * win.kH * win.kW, win.outH * win.outW]);
    const n = win.n * win.c * win.h * win.w;
    const o = this.out('col2im', out, n, 'float32');
    if (n === 0) return;
    const [cn, cr] = cols.strides as [number, number];
    const kk = win.kH * win.kW;
    this.windowRun('col2im', 'col2im', win, [], cols.strides, win.n * win.c * kk * win.outH * win.outW, (prm, n0, c0) => [bc.ptr + (cols.offset + n0 * cn + c0 * kk * cr) * 4, prm, o.ptr + (n0 * win.c + c0) * win.h * win.w * 4]);
  }

  /** {@inheritDoc @axon/core!Backend#pool2d} */
  pool2d(op: 'max' | 'avg', x: View, win: Window2d, out: BackendBuffer): void {
    const bx = this.view('pool2d', x, 'float32', 4);
    this.checkWindow('pool2d', win);
    this.checkImage('pool2d', x, win);
    if (op !== 'max' && op !== 'avg') throw new AxonError('pool2d', `unknown pooling '${String(op)}'`);
    const n = win.n * win.c * win.outH * win.outW;
    const o = this.out('pool2d', out, n, 'float32');
    if (n === 0) return;
    const [xn, xc] = x.strides as [number, number];
    const code = op === 'max' ? 0 : 1;
    this.windowRun('pool2d', 'pool2d', win, x.strides, [], n * win.kH * win.kW, (prm, n0, c0) => [code, bx.ptr + (x.offset + n0 * xn + c0 * xc) * 4, prm, o.ptr + (n0 * win.c + c0) * win.outH * win.outW * 4]);
  }

  /** {@inheritDoc @axon/core!Backend#pool2dGrad} */
  pool2dGrad(op: 'max' | 'avg', x: View, dy: View, win: Window2d, out: BackendBuffer): void {
    const bx = this.view('pool2dGrad', x, 'float32', 4);
    const bd = this.view('pool2dGrad', dy, 'float32', 4);
    this.checkWindow('pool2dGrad', win);
    this.checkImage('pool2dGrad', x, win);
    this.sameShape('pool2dGrad', dy.shape, [win.n, win.c, win.outH, win.outW]);
    if (op !== 'max' && op !== 'avg') throw new AxonError('pool2dGrad', `unknown pooling '${String(op)}'`);
    const n = win.n * win.c * win.h * win.w;
    const o = this.out('pool2dGrad', out, n, 'float32');
    if (n === 0) return;
    const [xn, xc] = x.strides as [number, number];
    const [gn, gc] = dy.strides as [number, number];
    const code = op === 'max' ? 0 : 1;
    this.windowRun('pool2dGrad', 'pool2d_grad', win, x.strides, dy.strides, win.n * win.c * win.outH * win.outW * win.kH * win.kW, (prm, n0, c0) => [
      code,
      bx.ptr + (x.offset + n0 * xn + c0 * xc) * 4,
      bd.ptr + (dy.offset + n0 * gn + c0 * gc) * 4,
      prm,
      o.ptr + (n0 * win.c + c0) * win.h * win.w * 4,
    ]);
  }

  /** {@inheritDoc @axon/core!Backend#gather} */
  gather(x: View, indices: View, out: BackendBuffer): void {
    const bx = this.view('gather', x, undefined, 3);
    const bi = this.view('gather', indices, 'int32', 1);
    const [outer, , inner] = x.shape as [number, number, number];
    const m = indices.shape[0]!;
    const size = outer * m * inner;
    const o = this.out('gather', out, size, bx.dtype);
    if (size === 0) return;
    const e = ESZ[bx.dtype];
    const fn = e === 4 ? this.k.gather_4 : this.k.gather_1;
    fn(bx.ptr + x.offset * e, x.strides[0]! * e, x.strides[1]! * e, x.strides[2]! * e, bi.ptr + indices.offset * 4, indices.strides[0]! * 4, o.ptr, outer, m, inner);
  }

  /** {@inheritDoc @axon/core!Backend#scatterAdd} */
  scatterAdd(updates: View, indices: View, n: number, out: BackendBuffer): void {
    const bu = this.view('scatterAdd', updates, ['float32', 'int32'], 3);
    const bi = this.view('scatterAdd', indices, 'int32', 1);
    const [outer, m, inner] = updates.shape as [number, number, number];
    if (indices.shape[0] !== m) throw new AxonError('scatterAdd', `indices hold ${indices.shape[0]} entries, updates ${m}`);
    const size = outer * n * inner;
    const o = this.out('scatterAdd', out, size, bu.dtype);
    if (size === 0) return;
    const fn = bu.dtype === 'float32' ? this.k.scatter_add_f32 : this.k.scatter_add_i32;
    fn(bu.ptr + updates.offset * 4, updates.strides[0]! * 4, updates.strides[1]! * 4, updates.strides[2]! * 4, bi.ptr + indices.offset * 4, indices.strides[0]! * 4, o.ptr, outer, m, inner, n);
  }

  /** {@inheritDoc @axon/core!Backend#random} */
  random(kind: RandomKind, key: number, counter: number, a: number, b: number, out: BackendBuffer): void {
    const o = this.own('random', out);
    const code = RANDOM_CODE[kind];
    if (code === undefined) throw new AxonError('random', `unknown distribution '${String(kind)}'`);
    if (o.size === 0) return;
    const outKind = o.dtype === 'float32' ? 0 : o.dtype === 'int32' ? 1 : 2;
    // element i draws from counter + i (two counters each for normal): a share starting at i0
    // starts its counter there, so the numbers do not depend on the thread count
    const n = o.size;
    const parts = this.parts(n, code === 1 ? PER_THREAD.costly : PER_THREAD.window, Math.floor(n / 64));
    if (parts === 1) {
      this.k.random(code, key >>> 0, counter >>> 0, a, b, o.ptr, n, outKind);
      return;
    }
    const e = ESZ[o.dtype];
    const per = code === 1 ? 2 : 1;
    const ranges = splitRange(n, this.chunks(parts, Math.floor(n / 64)), 64);
    const fn = this.fnIndex.get('random')!;
    const calls = ranges.map(([i0, i1]): PoolCall => ({ fn, args: [code, key >>> 0, (counter + per * i0) >>> 0, a, b, o.ptr + i0 * e, i1 - i0, outKind] }));
    this.fork('random', calls, (c) => this.k.random(...c.args), n * 10);
  }

  /** {@inheritDoc @axon/core!Backend#sync} */
  sync(): Promise<void> {
    return Promise.resolve();
  }

  /** {@inheritDoc @axon/core!Backend#dispose} */
  dispose(): void {
    // wasm memory cannot be returned piecemeal: drop every reference so the engine can collect
    // the whole instance once the caller lets go of the backend.
    this.pool?.dispose();
    this.pool = null;
    if (!this.disposed) this.releaseFused();
    this.disposed = true;
    this.liveBytes = 0;
    this.liveBuffers = 0;
    this.f32 = new Float32Array(0);
    this.i32 = new Int32Array(0);
    this.u8 = new Uint8Array(0);
  }

  // ------------------------------------------------------------------ temporaries

  /** Packing workspace for matmul, reserved by the constructor and kept (not counted as a buffer). */
  private readonly ws: number;

  /**
   * Reserves `bytes` (> 0) in the heap, or throws an {@link AxonError} naming `op`, the request,
   * the bytes live and the bytes the pool holds (nothing changes then).
   */
  private tempAlloc(op: string, bytes: number, what: string): { ptr: number; size: number } {
    const ptr = this.heap.alloc(bytes);
    if (ptr < 0) throw this.outOfMemory(op, bytes, what);
    return { ptr, size: Allocator.blockSize(bytes) };
  }

  /** The error for a request of `bytes` that {@link Allocator.alloc} refused. */
  private outOfMemory(op: string, bytes: number, what: string): AxonError {
    const why = this.heap.lastFailure;
    return new AxonError(
      op,
      `cannot allocate ${bytes} bytes ${what}: ${this.liveBytes} bytes live in ${this.liveBuffers} buffer${this.liveBuffers === 1 ? '' : 's'}, ` +
        `${this.heap.pooledBytes} bytes held by the pool (largest free region ${this.heap.largestFree()} bytes), ` +
        `linear memory ${this.mem.buffer.byteLength} of at most ${this.heap.maxBytes} bytes; ${why}`,
    );
  }

  private tempFree(t: { ptr: number; size: number }): void {
    this.heap.free(t.ptr, t.size);
  }
}

/**
 * Splits [0, n) into `parts` ranges whose lengths are multiples of `unit` (the remainder joins the
 * last range); the caller guarantees `parts` ≤ ⌊n / unit⌋.
 */
function splitRange(n: number, parts: number, unit: number): [number, number][] {
  const blocks = Math.floor(n / unit);
  const per = Math.floor(blocks / parts);
  const extra = blocks % parts;
  const out: [number, number][] = [];
  let r = 0;
  for (let t = 0; t < parts; t++) {
    const r1 = t === parts - 1 ? n : r + (per + (t < extra ? 1 : 0)) * unit;
    out.push([r, r1]);
    r = r1;
  }
  return out;
}

/** The byte stride of a coalesced kept dim (its last), as `reduce` passes it; 0 for none. */
function sOutOf(kept: { shape: readonly number[]; strides: readonly (readonly number[])[] }): number {
  const kr = kept.shape.length;
  return kr > 0 ? kept.strides[0]![kr - 1]! * 4 : 0;
}

/** Whether two shapes are equal (allocation-free). */
function sameDims(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** `Array.isArray` without narrowing a typed readonly array to `any[]`. */
function isArray(x: unknown): boolean {
  return Array.isArray(x);
}

const f32bits = new Float32Array(1);
const i32bits = new Int32Array(f32bits.buffer);
function floatBits(v: number): number {
  f32bits[0] = v;
  return i32bits[0]!;
}

/** Set by the loader module (avoids an import cycle). @internal */
export const loaderRef: { createSync: (options?: WasmBackendOptions) => WasmBackend } = {
  createSync: () => {
    throw new Error('loader not initialised');
  },
};
