import { AxonError, fmtValue, getNumThreads } from '@axon/core';
import { WasmBackend, loaderRef, type Threading } from './backend.js';
import { BYTE_SHIFT, KERNELS_RELAXED_WASM, KERNELS_WASM } from './generated/kernels.js';
import { resolveThreads, threadsUnavailable } from './pool.js';
import { toShared, type DataSegment } from './shared.js';

type Lane = 'f32' | 'i32' | 'u8';
/** A kernel export: every argument is an i32/u32 address, size or stride, or an f64. */
type KernelFn = (...args: number[]) => void;
/** A kernel export that returns a number. */
type QueryFn = () => number;
/** Names of the kernels the module exports. @internal */
export type KernelName =
  | `copy_${Lane}_${Lane}`
  | 'where_4'
  | 'where_1'
  | 'reduce_f32'
  | 'reduce_i32'
  | 'matmul_f32'
  | 'attention_f32'
  | 'im2col'
  | 'col2im'
  | 'pool2d'
  | 'pool2d_grad'
  | 'fill_32'
  | 'fill_8'
  | 'gather_4'
  | 'gather_1'
  | 'scatter_add_f32'
  | 'scatter_add_i32'
  | 'random'
  | 'fused_run';
/** The module's exports as the backend calls them. @internal */
export type Kernels = Record<KernelName, KernelFn> & {
  matmul_ws_bytes: QueryFn;
  /** Scratch bytes `attention_f32` needs for blocks of BQ query rows and BK keys, D and Dv. */
  attention_ws_bytes: (BQ: number, BK: number, D: number, Dv: number) => number;
  /** Per-op elementwise kernels by export name (`un_f32_exp`, `bin_i32_add`, …). */
  ops: Readonly<Record<string, KernelFn | undefined>>;
  /**
   * The helpers that generated fused kernels import (`fused_v_exp`, `fused_s_pow`, …: v128/f32
   * signatures, callable from WebAssembly only).
   */
  fusedHelpers: Readonly<Record<string, unknown>>;
  /** Whether `matmul_f32` and `attention_f32` come from the relaxed-SIMD (FMA) module. */
  relaxedSimd: boolean;
};

/** Options for {@link createWasmBackend} and {@link createWasmBackendSync}. */
export interface WasmBackendOptions {
  /**
   * Use the relaxed-SIMD matmul (fused multiply-add, ~1.3× faster) where the engine supports
   * relaxed SIMD (Chrome ≥ 114, Firefox ≥ 120, Node ≥ 22; Node 20 with
   * `--experimental-wasm-relaxed-simd`). Default `true`; results then differ from the baseline
   * kernel by float32 rounding only.
   */
  readonly relaxedSimd?: boolean;
  /**
   * The most linear memory the backend may hold, in bytes: an integer from 2 MiB to 4 GiB
   * (the default), rounded up to whole 64 KiB pages. An allocation that would need more throws an
   * `AxonError` naming the bytes requested, live and held by the pool.
   */
  readonly maxMemory?: number;
  /**
   * Threads the backend's ops may use: an integer from 1 to 64, or `'auto'` (the cores available:
   * `os.availableParallelism()` in Node, `navigator.hardwareConcurrency` in a cross-origin
   * isolated page). Default: `getNumThreads()` from `@axon/core` (`'auto'` unless
   * `setNumThreads` changed it). Threads need a shared `WebAssembly.Memory`: always available in
   * Node; in a browser only when the page is cross-origin isolated (served with
   * `Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy: require-corp`),
   * else the backend runs on one thread and `features.threadsReason` says why. Workers start on
   * the first op large enough to split (or on {@link WasmBackend.startThreads}). Results are
   * bit-identical for any thread count.
   */
  readonly threads?: 'auto' | number;
  /**
   * Scales the sizes above which an op is split over threads (measured on a 2-core machine: e.g.
   * a matmul of 2 MFLOP, 131k elements of `add`, 16k of `exp`). Default 1; 0 splits every op
   * that can be split (to test the parallel paths on small tensors).
   */
  readonly threadThreshold?: number;
}

/** Wraps instances' exports as {@link Kernels} (the relaxed module, if any, supplies matmul). */
function kernelsOf(instance: WebAssembly.Instance, relaxed: WebAssembly.Instance | null): Kernels {
  const ex = instance.exports as Record<string, unknown>;
  const ops: Record<string, KernelFn> = {};
  const fusedHelpers: Record<string, unknown> = {};
  for (const [name, f] of Object.entries(ex)) {
    if ((name.startsWith('un_') || name.startsWith('bin_')) && typeof f === 'function') ops[name] = f as KernelFn;
    if ((name.startsWith('fused_v_') || name.startsWith('fused_s_')) && typeof f === 'function') fusedHelpers[name] = f;
  }
  const k = Object.assign(Object.create(null) as object, ex, { ops, fusedHelpers, relaxedSimd: relaxed !== null }) as Kernels;
  if (relaxed) {
    k.matmul_f32 = relaxed.exports.matmul_f32 as KernelFn;
    k.attention_f32 = relaxed.exports.attention_f32 as KernelFn;
  }
  return k;
}

/** Initial memory: 32 pages (2 MiB: static data, the matmul workspace, ~0.7 MiB of heap). */
const INITIAL_PAGES = 32;
/** Default and largest maximum: 65536 pages (4 GiB, all a 32-bit address reaches). */
const MAX_PAGES = 65536;
const PAGE = 65536;

let bytesCache: Uint8Array | null = null;
/** The data-less shared-memory variants (compiled once) and the static data they need. */
let sharedCache: { module: WebAssembly.Module; segments: DataSegment[] } | null = null;
/** undefined: not made yet; null: relaxed SIMD unsupported here. */
let sharedRelaxedCache: WebAssembly.Module | null | undefined;
let moduleCache: WebAssembly.Module | null = null;
/** undefined: not probed yet; null: relaxed SIMD unsupported here. */
let relaxedCache: WebAssembly.Module | null | undefined;

/** The bytes of a module inlined one character per byte, each shifted by `BYTE_SHIFT`. */
function decode(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) - BYTE_SHIFT;
  return out;
}

/** The module's bytes, decoded from the inlined string. @internal */
export function kernelBytes(): Uint8Array {
  bytesCache ??= decode(KERNELS_WASM);
  return bytesCache;
}

/** The relaxed-SIMD matmul module's bytes. @internal */
export function relaxedKernelBytes(): Uint8Array {
  return decode(KERNELS_RELAXED_WASM);
}

/** Compiles the relaxed-SIMD module if this engine validates it (small: sync is fine). */
function relaxedModule(): WebAssembly.Module | null {
  if (relaxedCache !== undefined) return relaxedCache;
  relaxedCache = null;
  try {
    const bytes = relaxedKernelBytes() as BufferSource;
    if (WebAssembly.validate(bytes)) relaxedCache = new WebAssembly.Module(bytes);
  } catch {
    relaxedCache = null;
  }
  return relaxedCache;
}

function relaxedInstance(memory: WebAssembly.Memory, options: WasmBackendOptions, main: WebAssembly.Instance): WebAssembly.Instance | null {
  if (options.relaxedSimd === false) return null;
  const m = relaxedModule();
  return m ? new WebAssembly.Instance(m, imports(memory, main)) : null;
}

/**
 * The float64 Math functions the kernels import (pow, erf's exp, the normal draws' log and cos):
 * JavaScript's own, which V8 calls without leaving WebAssembly, instead of 4 KB of AssemblyScript
 * copies in the module; `random` then uses the very functions of core's normative reference.
 */
const MATH = { pow: Math.pow, exp: Math.exp, log: Math.log, cos: Math.cos };

/** The modules' imports; the relaxed-SIMD module's also take the main instance's exports (attention's parts). */
function imports(memory: WebAssembly.Memory, main?: WebAssembly.Instance): WebAssembly.Imports {
  return {
    env: {
      ...main?.exports,
      memory,
      abort: () => {
        throw new Error('wasm kernel aborted');
      },
      ...MATH,
    },
  };
}

/** Validates `options.maxMemory`; returns the maximum in pages. */
function maxPages(op: string, options: WasmBackendOptions): number {
  const max = options.maxMemory;
  if (max === undefined) return MAX_PAGES;
  if (typeof max !== 'number' || !Number.isInteger(max) || max < INITIAL_PAGES * PAGE || max > MAX_PAGES * PAGE) {
    throw new AxonError(op, `maxMemory must be an integer number of bytes from ${INITIAL_PAGES * PAGE} (2 MiB) to ${MAX_PAGES * PAGE} (4 GiB), got ${String(max)}`);
  }
  return Math.ceil(max / PAGE);
}

function makeMemory(pages: number): WebAssembly.Memory {
  return new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum: pages });
}

/** How many threads, why, and whether the memory is shared (so the count may change later). */
interface ThreadPlan {
  readonly threads: number;
  readonly reason: string;
  readonly shared: boolean;
  readonly threshold: number;
}

/** Validates `options.threads` / `threadThreshold` and decides the threads for this environment. */
function planThreads(op: string, options: WasmBackendOptions): ThreadPlan {
  const req = options.threads ?? getNumThreads();
  if (req !== 'auto' && !(typeof req === 'number' && Number.isInteger(req) && req >= 1 && req <= 64)) {
    throw new AxonError(op, `threads must be an integer from 1 to 64 or 'auto', got ${fmtValue(req)}`);
  }
  const threshold = options.threadThreshold ?? 1;
  if (typeof threshold !== 'number' || !Number.isFinite(threshold) || threshold < 0) {
    throw new AxonError(op, `threadThreshold must be a finite number ≥ 0, got ${fmtValue(threshold)}`);
  }
  if (req === 1) return { ...resolveThreads(1), shared: false, threshold };
  const why = threadsUnavailable();
  if (why !== null) return { threads: 1, reason: why, shared: false, threshold };
  return { ...resolveThreads(req), shared: true, threshold };
}

/** A shared memory, or why the engine refused one. */
function sharedMemory(pages: number): WebAssembly.Memory | string {
  try {
    return new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum: pages, shared: true });
  } catch (e) {
    return `a shared WebAssembly.Memory of at most ${pages * PAGE} bytes could not be reserved (${(e as Error).message})`;
  }
}

function sharedModules(): { module: WebAssembly.Module; segments: DataSegment[] } {
  if (sharedCache === null) {
    const { bytes, segments } = toShared(kernelBytes(), MAX_PAGES);
    sharedCache = { module: new WebAssembly.Module(bytes as BufferSource), segments };
  }
  return sharedCache;
}

function sharedRelaxed(options: WasmBackendOptions): WebAssembly.Module | null {
  if (options.relaxedSimd === false || relaxedModule() === null) return null;
  if (sharedRelaxedCache === undefined) {
    try {
      sharedRelaxedCache = new WebAssembly.Module(toShared(relaxedKernelBytes(), MAX_PAGES).bytes as BufferSource);
    } catch {
      sharedRelaxedCache = null;
    }
  }
  return sharedRelaxedCache;
}

/**
 * A shared memory holding the kernels' static data (written once, here), for the data-less module
 * every thread instantiates; or why no shared memory can be had (the caller then builds the
 * one-thread backend).
 */
function sharedSetup(pages: number): WebAssembly.Memory | string {
  const memory = sharedMemory(pages);
  if (typeof memory === 'string') return memory;
  const u8 = new Uint8Array(memory.buffer);
  for (const seg of sharedCache!.segments) u8.set(seg.bytes, seg.offset);
  return memory;
}

/** The backend over a shared memory, from this thread's instance of the data-less module. */
function sharedBackend(plan: ThreadPlan, pages: number, options: WasmBackendOptions, memory: WebAssembly.Memory, instance: WebAssembly.Instance): WasmBackend {
  const relaxed = sharedRelaxed(options);
  const rel = relaxed ? new WebAssembly.Instance(relaxed, imports(memory, instance)) : null;
  const threading: Threading = { module: sharedCache!.module, relaxed, threads: plan.threads, reason: plan.reason, threshold: plan.threshold };
  return new WasmBackend(kernelsOf(instance, rel), memory, pages * PAGE, threading);
}

/**
 * Creates a {@link WasmBackend} synchronously. Works in Node and in workers; a browser's main
 * thread may refuse to compile a module this size synchronously (then use
 * {@link createWasmBackend}).
 * @example
 * ```ts
 * const be = createWasmBackendSync();
 * be.name // 'wasm'
 * const baseline = createWasmBackendSync({ relaxedSimd: false }); // no FMA matmul
 * baseline.features.relaxedSimd // false
 * const capped = createWasmBackendSync({ maxMemory: 4 * 1024 ** 2 }); // at most 4 MiB
 * capped.alloc('float32', 2 ** 21); // throws: 'cannot allocate 8388608 bytes'
 * createWasmBackendSync({ maxMemory: 1000 }); // throws: 'maxMemory must be an integer number of bytes from 2097152'
 * for (const b of [be, baseline, capped]) b.dispose();
 * ```
 */
export function createWasmBackendSync(options: WasmBackendOptions = {}): WasmBackend {
  const pages = maxPages('createWasmBackendSync', options);
  let plan = planThreads('createWasmBackendSync', options);
  if (plan.shared) {
    const { module } = sharedModules();
    const memory = sharedSetup(pages);
    if (typeof memory !== 'string') return sharedBackend(plan, pages, options, memory, new WebAssembly.Instance(module, imports(memory)));
    plan = { ...plan, threads: 1, reason: memory, shared: false };
  }
  moduleCache ??= new WebAssembly.Module(kernelBytes() as BufferSource);
  const memory = makeMemory(pages);
  const instance = new WebAssembly.Instance(moduleCache, imports(memory));
  return new WasmBackend(kernelsOf(instance, relaxedInstance(memory, options, instance)), memory, pages * PAGE, { module: null, relaxed: null, threads: 1, reason: plan.reason, threshold: plan.threshold });
}

/**
 * Creates a {@link WasmBackend} with asynchronous compilation (`WebAssembly.instantiate`),
 * which every environment allows.
 * @example
 * ```ts
 * const be = await createWasmBackend();
 * const buf = be.alloc('float32', 4);
 * be.fill(buf, 2.5);
 * await be.read(buf) // [2.5, 2.5, 2.5, 2.5]
 * be.memory().bytes // 16
 * be.dispose();
 * ```
 */
export async function createWasmBackend(options: WasmBackendOptions = {}): Promise<WasmBackend> {
  const pages = maxPages('createWasmBackend', options);
  let plan = planThreads('createWasmBackend', options);
  if (plan.shared) {
    if (sharedCache === null) {
      const { bytes, segments } = toShared(kernelBytes(), MAX_PAGES);
      sharedCache = { module: await WebAssembly.compile(bytes as BufferSource), segments };
    }
    const memory = sharedSetup(pages);
    // instantiated asynchronously: a browser's main thread refuses large synchronous instantiation
    if (typeof memory !== 'string') return sharedBackend(plan, pages, options, memory, await WebAssembly.instantiate(sharedCache.module, imports(memory)));
    plan = { ...plan, threads: 1, reason: memory, shared: false };
  }
  const memory = makeMemory(pages);
  let instance: WebAssembly.Instance;
  if (moduleCache) {
    instance = await WebAssembly.instantiate(moduleCache, imports(memory));
  } else {
    const made = await WebAssembly.instantiate(kernelBytes() as BufferSource, imports(memory));
    moduleCache = made.module;
    instance = made.instance;
  }
  return new WasmBackend(kernelsOf(instance, relaxedInstance(memory, options, instance)), memory, pages * PAGE, { module: null, relaxed: null, threads: 1, reason: plan.reason, threshold: plan.threshold });
}

loaderRef.createSync = createWasmBackendSync;
