import type { Backend, BackendFactory } from './backend.js';
import { forgetBackend } from './engine.js';
import { AxonError } from './errors.js';

/** What `backends()` reports for each registered backend. */
export interface BackendInfo {
  readonly name: string;
  readonly priority: number;
  /**
   * `'ready'` once created, `'failed'` when it could not start, `'lost'` when its device was lost
   * after it started (the next `setBackend`/`ready` creates a fresh one), `'registered'` before trying.
   */
  readonly status: 'registered' | 'ready' | 'failed' | 'lost';
  /** Why the backend could not start (`'failed'`) or what happened to its device (`'lost'`). */
  readonly reason?: string;
  /** Whether it is the current backend. */
  readonly active: boolean;
}

interface Entry {
  factory: BackendFactory;
  backend?: Backend;
  failure?: string;
}

const entries = new Map<string, Entry>();
let current: Backend | null = null;
let initPromise: Promise<Backend> | null = null;

/**
 * Registers a backend factory. Backend packages call this when imported.
 * @example
 * ```ts
 * import { createWasmBackend } from '@axon/backend-wasm';
 * // what a backend package does when imported (the first registration of a name wins):
 * registerBackend({ name: 'wasm', priority: 1, create: () => createWasmBackend() });
 * backends().map((b) => b.name).includes('wasm') // true
 * ```
 */
export function registerBackend(factory: BackendFactory): void {
  if (!entries.has(factory.name)) entries.set(factory.name, { factory });
}

/**
 * Lists registered backends with their status and, when one could not start, why (highest
 * priority first).
 * @example
 * await setBackend('wasm');
 * backends().find((b) => b.name === 'wasm') // { status: 'ready', active: true }
 */
export function backends(): BackendInfo[] {
  return [...entries.values()]
    .sort((a, b) => b.factory.priority - a.factory.priority)
    .map((e) => {
      const lost = e.backend?.lostReason;
      const status: BackendInfo['status'] = e.backend ? (lost !== undefined ? 'lost' : 'ready') : e.failure !== undefined ? 'failed' : 'registered';
      const reason = lost ?? e.failure;
      return {
        name: e.factory.name,
        priority: e.factory.priority,
        status,
        ...(reason !== undefined ? { reason } : {}),
        active: current !== null && current === e.backend,
      };
    });
}

/** Forgets a backend whose device was lost (its buffers are gone), so that it can be recreated. */
function dropLost(entry: Entry): void {
  const b = entry.backend;
  if (!b || b.lostReason === undefined) return;
  entry.backend = undefined;
  if (current === b) current = null;
  forgetBackend(b);
  try {
    b.dispose();
  } catch {
    /* a lost device may refuse to release what it already lost */
  }
}

async function start(entry: Entry, auto = false): Promise<Backend> {
  dropLost(entry);
  if (entry.backend) return entry.backend;
  try {
    entry.backend = await entry.factory.create(auto ? { auto: true } : {});
    entry.failure = undefined;
    return entry.backend;
  } catch (e) {
    entry.failure = e instanceof Error ? e.message : String(e);
    throw e;
  }
}

/**
 * Makes `name` the current backend, starting it if needed.
 * @example
 * ```ts
 * const b = await setBackend('wasm');
 * b.name // 'wasm'
 * getBackend() === b // true
 * await setBackend('tpu'); // throws: "unknown backend 'tpu'"
 * ```
 */
export async function setBackend(name: string): Promise<Backend> {
  const entry = entries.get(name);
  if (!entry) {
    throw new AxonError(
      'setBackend',
      `unknown backend '${name}'; registered: [${[...entries.keys()].join(', ')}] (import a backend package such as @axon/backend-wasm to register one)`,
    );
  }
  try {
    current = await start(entry);
  } catch (e) {
    throw new AxonError('setBackend', `backend '${name}' cannot start: ${entry.failure ?? String(e)}`);
  }
  return current;
}

/**
 * Starts the highest-priority backend that can start, unless one is already current. Backends on
 * software-emulated devices (`emulated: true`) are chosen only when nothing else starts.
 * @example
 * const b = await ready(); // then ops run on the default backend
 * b.name // 'wasm'
 */
export async function ready(): Promise<Backend> {
  if (current?.lostReason !== undefined) {
    const e = [...entries.values()].find((x) => x.backend === current);
    if (e) dropLost(e);
  }
  if (current) return current;
  initPromise ??= (async () => {
    const sorted = [...entries.values()].sort((a, b) => b.factory.priority - a.factory.priority);
    let fallback: Backend | null = null;
    for (const entry of sorted) {
      try {
        const b = await start(entry, true);
        if (b.emulated) {
          fallback ??= b; // a software-emulated device: usable, but prefer real hardware or wasm
          continue;
        }
        current = b;
        return current;
      } catch {
        /* reason kept in entry.failure */
      }
    }
    if (fallback) {
      current = fallback;
      return current;
    }
    throw new AxonError('ready', `no backend could start: ${JSON.stringify(backends().map((b) => [b.name, b.reason ?? b.status]))}`);
  })().finally(() => {
    initPromise = null;
  });
  return initPromise;
}

/**
 * The current backend. Throws if none was set and no backend is started.
 * @example getBackend().name // 'wasm'
 */
export function getBackend(): Backend {
  if (current?.lostReason !== undefined) {
    throw new AxonError('getBackend', `the current backend '${current.name}' lost its device (${current.lostReason}); call \`await setBackend('${current.name}')\` to start a fresh one (tensors on the lost device are gone)`);
  }
  if (current) return current;
  // Synchronous backends can start on first use.
  const sorted = [...entries.values()].sort((a, b) => b.factory.priority - a.factory.priority);
  for (const entry of sorted) {
    if (entry.backend && entry.backend.lostReason === undefined) {
      current = entry.backend;
      return current;
    }
  }
  for (const entry of sorted) {
    if (entry.failure !== undefined) continue;
    try {
      const made = entry.factory.create();
      if (made instanceof Promise) {
        made.catch(() => undefined);
        continue;
      }
      entry.backend = made;
      current = made;
      return made;
    } catch (e) {
      entry.failure = e instanceof Error ? e.message : String(e);
    }
  }
  throw new AxonError('getBackend', 'no backend is ready: import a backend package (e.g. @axon/backend-wasm) and `await setBackend(name)` or `await ready()`');
}

/**
 * Returns a started backend by name, starting it if needed (used by `toBackend`); the current
 * backend does not change.
 * @example (await findBackend('wasm')).supportsSyncRead // true
 */
export async function findBackend(name: string): Promise<Backend> {
  const entry = entries.get(name);
  if (!entry) throw new AxonError('toBackend', `unknown backend '${name}'`);
  return start(entry);
}
