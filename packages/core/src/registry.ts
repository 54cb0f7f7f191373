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
   * While a start is under way the status is still the one from before it (`'registered'`, or
   * `'failed'` for a retry).
   */
  readonly status: 'registered' | 'ready' | 'failed' | 'lost';
  /** Why the backend could not start (`'failed'`) or what happened to its device (`'lost'`). */
  readonly reason?: string;
  /** Whether it is the current backend. */
  readonly active: boolean;
}

/** A `create` call that has not settled yet; every caller until it settles shares it. */
interface Starting {
  /** Whether it was called with `{ auto: true }` (it may then decline where an explicit start would not). */
  readonly auto: boolean;
  readonly promise: Promise<Backend>;
}

interface Entry {
  factory: BackendFactory;
  backend?: Backend;
  failure?: string;
  starting?: Starting;
}

const entries = new Map<string, Entry>();
let current: Backend | null = null;
let initPromise: Promise<Backend> | null = null;
/** Counts `setBackend` calls: only the latest one may change `current` when it finishes. */
let selections = 0;

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

function reasonOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function isPromiseLike(x: Backend | PromiseLike<Backend>): x is PromiseLike<Backend> {
  return typeof (x as { then?: unknown }).then === 'function';
}

/**
 * Calls the entry's factory once. A backend made synchronously is installed at once; an
 * asynchronous `create` is recorded as the entry's start (so that nobody calls `create` again
 * while it runs) and installs its backend, or records why it failed, when it settles.
 */
function launch(entry: Entry, auto: boolean): Backend | Promise<Backend> {
  let made: Backend | PromiseLike<Backend>;
  try {
    made = entry.factory.create(auto ? { auto: true } : {});
  } catch (e) {
    entry.failure = reasonOf(e);
    throw e;
  }
  if (!isPromiseLike(made)) {
    entry.backend = made;
    entry.failure = undefined;
    return made;
  }
  const starting: Starting = {
    auto,
    promise: Promise.resolve(made).then(
      (b) => {
        if (entry.starting === starting) entry.starting = undefined;
        entry.backend = b;
        entry.failure = undefined;
        return b;
      },
      (e: unknown) => {
        if (entry.starting === starting) entry.starting = undefined;
        entry.failure = reasonOf(e);
        throw e;
      },
    ),
  };
  starting.promise.catch(() => undefined); // whoever awaits it sees the error; nobody may be waiting
  entry.starting = starting;
  return starting.promise;
}

/**
 * The entry's backend, started if needed. Concurrent calls share one start (one `create` call,
 * one instance); a start that failed is forgotten, so the next call tries again; a backend whose
 * device was lost is dropped and a fresh one started.
 */
async function start(entry: Entry, auto = false): Promise<Backend> {
  for (;;) {
    dropLost(entry);
    if (entry.backend) return entry.backend;
    const pending = entry.starting;
    if (!pending) return launch(entry, auto);
    try {
      return await pending.promise;
    } catch (e) {
      // An automatic start may decline (a software-emulated device) what an explicit one
      // accepts: an explicit caller that joined it tries again; anyone else shares its failure.
      // (A start removes itself from the entry before its promise settles, so the loop moves on.)
      if (auto || !pending.auto) throw e;
    }
  }
}

/**
 * Makes `name` the current backend, starting it if needed (calls that overlap with other
 * `setBackend`, `findBackend` or `toBackend` calls for the same name share one start and one
 * instance).
 *
 * When `setBackend` calls overlap, the last one called decides the current backend, whichever
 * finishes first: an earlier call still resolves to the backend it started, but no longer makes
 * it current; if the last call fails, the current backend stays what it was. A `ready()` that is
 * still choosing a default never replaces a backend that `setBackend` made current.
 * @example
 * ```ts
 * const b = await setBackend('wasm');
 * b.name // 'wasm'
 * getBackend() === b // true
 * await setBackend('tpu'); // throws: "unknown backend 'tpu'"
 * getBackend() === b // true
 * ```
 */
export async function setBackend(name: string): Promise<Backend> {
  const ticket = ++selections;
  const entry = entries.get(name);
  if (!entry) {
    throw new AxonError(
      'setBackend',
      `unknown backend '${name}'; registered: [${[...entries.keys()].join(', ')}] (import a backend package such as @axon/backend-wasm to register one)`,
    );
  }
  let b: Backend;
  try {
    b = await start(entry);
  } catch (e) {
    throw new AxonError('setBackend', `backend '${name}' cannot start: ${entry.failure ?? reasonOf(e)}`);
  }
  if (ticket === selections) current = b;
  return b;
}

/**
 * Starts the highest-priority backend that can start, unless one is already current, and resolves
 * to the current backend. Backends on software-emulated devices (`emulated: true`) are chosen only
 * when nothing else starts. If `setBackend` makes a backend current while `ready()` is still
 * choosing, that backend stays current and `ready()` resolves to it.
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
        current ??= b; // an explicit setBackend that finished meanwhile wins
        return current;
      } catch {
        /* reason kept in entry.failure */
      }
    }
    if (fallback) {
      current ??= fallback;
      return current;
    }
    if (current) return current;
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
    // One that failed stays failed until setBackend retries it; one that is starting is not
    // started twice.
    if (entry.failure !== undefined || entry.starting) continue;
    try {
      const made = launch(entry, false);
      // An asynchronous start goes on as the entry's start: `await setBackend(name)` or
      // `await ready()` gets that instance.
      if (isPromiseLike(made)) continue;
      current = made;
      return made;
    } catch {
      /* reason kept in entry.failure */
    }
  }
  throw new AxonError('getBackend', 'no backend is ready: import a backend package (e.g. @axon/backend-wasm) and `await setBackend(name)` or `await ready()`');
}

/**
 * Returns a started backend by name, starting it if needed (used by `toBackend`); the current
 * backend does not change. Calls that overlap share one start, so they get the same instance.
 * @example
 * ```ts
 * (await findBackend('wasm')).supportsSyncRead // true
 * const [x, y] = await Promise.all([findBackend('wasm'), findBackend('wasm')]);
 * x === y // true
 * ```
 */
export async function findBackend(name: string): Promise<Backend> {
  const entry = entries.get(name);
  if (!entry) throw new AxonError('toBackend', `unknown backend '${name}'`);
  return start(entry);
}

/** The thread count requested with {@link setNumThreads}. */
let numThreads: number | 'auto' = 'auto';

/**
 * Sets how many threads backends use for their ops: an integer from 1 to 64, or `'auto'` (the
 * default: the cores available; in a browser only when the page is cross-origin isolated). It
 * applies to backends created afterwards and to every backend already started that supports
 * threads (the WASM backend; WebGPU runs on the GPU and ignores it). Results are bit-identical
 * for any count. Like PyTorch's `torch.set_num_threads`.
 * @example
 * ```ts
 * setNumThreads(1); // one thread: e.g. when several Axon processes share the machine
 * getNumThreads() // 1
 * setNumThreads('auto');
 * setNumThreads(0); // throws: 'expected an integer from 1 to 64'
 * ```
 */
export function setNumThreads(n: number | 'auto'): void {
  if (n !== 'auto' && !(typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 64)) {
    throw new AxonError('setNumThreads', `expected an integer from 1 to 64 or 'auto', got ${typeof n === 'string' ? `'${n}'` : String(n)}`);
  }
  numThreads = n;
  for (const e of entries.values()) e.backend?.setThreads?.(n);
}

/**
 * The thread count last requested with {@link setNumThreads} (`'auto'` unless set). What a
 * backend actually uses is in its `features` (WASM: `features.threads`).
 * @example
 * getNumThreads() // 'auto'
 */
export function getNumThreads(): number | 'auto' {
  return numThreads;
}
