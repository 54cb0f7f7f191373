import { WasmBackend, loaderRef } from './backend.js';
import { KERNELS_WASM_BASE64 } from './generated/kernels.js';

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
  | 'random';
/** The module's exports as the backend calls them. @internal */
export type Kernels = Record<KernelName, KernelFn> & {
  matmul_ws_bytes: QueryFn;
  /** Per-op elementwise kernels by export name (`un_f32_exp`, `bin_i32_add`, …). */
  ops: Readonly<Record<string, KernelFn | undefined>>;
};

/** Wraps an instance's exports as {@link Kernels}. */
function kernelsOf(instance: WebAssembly.Instance): Kernels {
  const ex = instance.exports as Record<string, unknown>;
  const ops: Record<string, KernelFn> = {};
  for (const [name, f] of Object.entries(ex)) {
    if ((name.startsWith('un_') || name.startsWith('bin_')) && typeof f === 'function') ops[name] = f as KernelFn;
  }
  return Object.assign(Object.create(null) as object, ex, { ops }) as Kernels;
}

/** Initial memory: 16 pages (1 MiB); grows on demand up to 4 GiB. */
const INITIAL_PAGES = 16;
const MAX_PAGES = 65536;

let bytesCache: Uint8Array | null = null;
let moduleCache: WebAssembly.Module | null = null;

/** The module's bytes, decoded from the inlined base64. @internal */
export function kernelBytes(): Uint8Array {
  if (bytesCache) return bytesCache;
  const bin = atob(KERNELS_WASM_BASE64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  bytesCache = out;
  return out;
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

function makeMemory(): WebAssembly.Memory {
  return new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum: MAX_PAGES });
}

/**
 * Creates a {@link WasmBackend} synchronously. Works in Node and in workers; a browser's main
 * thread may refuse to compile a module this size synchronously (then use
 * {@link createWasmBackend}).
 * @example
 * const be = createWasmBackendSync();
 * be.name; // 'wasm'
 */
export function createWasmBackendSync(): WasmBackend {
  moduleCache ??= new WebAssembly.Module(kernelBytes() as BufferSource);
  const memory = makeMemory();
  const instance = new WebAssembly.Instance(moduleCache, imports(memory));
  return new WasmBackend(kernelsOf(instance), memory);
}

/**
 * Creates a {@link WasmBackend} with asynchronous compilation (`WebAssembly.instantiate`),
 * which every environment allows.
 * @example
 * const be = await createWasmBackend();
 * const buf = be.alloc('float32', 4);
 */
export async function createWasmBackend(): Promise<WasmBackend> {
  const memory = makeMemory();
  if (moduleCache) {
    const instance = await WebAssembly.instantiate(moduleCache, imports(memory));
    return new WasmBackend(kernelsOf(instance), memory);
  }
  const { module, instance } = await WebAssembly.instantiate(kernelBytes() as BufferSource, imports(memory));
  moduleCache = module;
  return new WasmBackend(kernelsOf(instance), memory);
}

loaderRef.createSync = createWasmBackendSync;
