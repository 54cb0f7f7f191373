import { AxonError } from '@axon/core';
import { WasmBackend, loaderRef } from './backend.js';
import { KERNELS_RELAXED_WASM_BASE64, KERNELS_WASM_BASE64 } from './generated/kernels.js';

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
  /** Per-op elementwise kernels by export name (`un_f32_exp`, `bin_i32_add`, …). */
  ops: Readonly<Record<string, KernelFn | undefined>>;
  /**
   * The helpers that generated fused kernels import (`fused_v_exp`, `fused_s_pow`, …: v128/f32
   * signatures, callable from WebAssembly only).
   */
  fusedHelpers: Readonly<Record<string, unknown>>;
  /** Whether `matmul_f32` comes from the relaxed-SIMD (FMA) module. */
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
  if (relaxed) k.matmul_f32 = relaxed.exports.matmul_f32 as KernelFn;
  return k;
}

/** Initial memory: 32 pages (2 MiB: static data, the matmul workspace, ~0.7 MiB of heap). */
const INITIAL_PAGES = 32;
/** Default and largest maximum: 65536 pages (4 GiB, all a 32-bit address reaches). */
const MAX_PAGES = 65536;
const PAGE = 65536;

let bytesCache: Uint8Array | null = null;
let moduleCache: WebAssembly.Module | null = null;
/** undefined: not probed yet; null: relaxed SIMD unsupported here. */
let relaxedCache: WebAssembly.Module | null | undefined;

function decode(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** The module's bytes, decoded from the inlined base64. @internal */
export function kernelBytes(): Uint8Array {
  bytesCache ??= decode(KERNELS_WASM_BASE64);
  return bytesCache;
}

/** The relaxed-SIMD matmul module's bytes. @internal */
export function relaxedKernelBytes(): Uint8Array {
  return decode(KERNELS_RELAXED_WASM_BASE64);
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

function relaxedInstance(memory: WebAssembly.Memory, options: WasmBackendOptions): WebAssembly.Instance | null {
  if (options.relaxedSimd === false) return null;
  const m = relaxedModule();
  return m ? new WebAssembly.Instance(m, imports(memory)) : null;
}

function imports(memory: WebAssembly.Memory): WebAssembly.Imports {
  return {
    env: {
      memory,
      abort: () => {
        throw new Error('wasm kernel aborted');
      },
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
  moduleCache ??= new WebAssembly.Module(kernelBytes() as BufferSource);
  const memory = makeMemory(pages);
  const instance = new WebAssembly.Instance(moduleCache, imports(memory));
  return new WasmBackend(kernelsOf(instance, relaxedInstance(memory, options)), memory, pages * PAGE);
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
  const memory = makeMemory(pages);
  let instance: WebAssembly.Instance;
  if (moduleCache) {
    instance = await WebAssembly.instantiate(moduleCache, imports(memory));
  } else {
    const made = await WebAssembly.instantiate(kernelBytes() as BufferSource, imports(memory));
    moduleCache = made.module;
    instance = made.instance;
  }
  return new WasmBackend(kernelsOf(instance, relaxedInstance(memory, options)), memory, pages * PAGE);
}

loaderRef.createSync = createWasmBackendSync;
