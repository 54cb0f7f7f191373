/**
 * @jax-js/jax in Node: `init('wasm')` (plain `init()` fails on Node 20). Node 20 has no global
 * Worker, so jax-js's wasm device runs on one thread here.
 */

import { init, defaultDevice } from '@jax-js/jax';

let started: Promise<void> | null = null;

export function useJaxWasm(): Promise<void> {
  started ??= (async () => {
    const devices = await init('wasm');
    if (!devices.includes('wasm')) throw new Error(`jax-js: wasm device unavailable (got ${devices.join(', ')})`);
    defaultDevice('wasm');
  })();
  return started;
}

/** Whether jax-js would use worker threads (it needs a global Worker and SharedArrayBuffer). */
export function jaxThreads(): string {
  return typeof (globalThis as { Worker?: unknown }).Worker === 'undefined' ? '1 thread (no global Worker in Node)' : 'workers';
}
