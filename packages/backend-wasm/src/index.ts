/**
 * `@axon/backend-wasm`: Axon's WebAssembly backend (AssemblyScript kernels with SIMD128).
 *
 * Importing the package registers the backend with `@axon/core` under the name `'wasm'`
 * (priority 1), so `getBackend()` / `ready()` / `setBackend('wasm')` find it.
 *
 * @example
 * ```ts
 * import '@axon/backend-wasm';
 * import { setBackend, tensor } from '@axon/core';
 * const b = await setBackend('wasm');
 * b.supportsSyncRead // true
 * tensor([1, 2]).mul(2).toArray() // [2, 4]
 * ```
 * @packageDocumentation
 */
import { registerBackend } from '@axon/core';
import type { Backend, BackendFactory } from '@axon/core';
import { createWasmBackend, createWasmBackendSync } from './loader.js';

export { WasmBackend, type WasmFeatures } from './backend.js';
export { createWasmBackend, createWasmBackendSync, type WasmBackendOptions } from './loader.js';

/**
 * The registry factory: creates the backend synchronously where the environment allows it
 * (so `getBackend()` works without an `await`), otherwise asynchronously.
 * @example
 * import { registerBackend } from '@axon/core';
 * registerBackend(wasmBackendFactory); // done for you on import (a second registration is ignored)
 * wasmBackendFactory.priority // 1
 */
export const wasmBackendFactory: BackendFactory = {
  name: 'wasm',
  priority: 1,
  create(): Backend | Promise<Backend> {
    if (typeof WebAssembly !== 'object') throw new Error('WebAssembly is not available in this environment');
    try {
      return createWasmBackendSync();
    } catch {
      return createWasmBackend();
    }
  },
};

registerBackend(wasmBackendFactory);
