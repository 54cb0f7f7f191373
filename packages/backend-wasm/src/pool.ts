/**
 * The thread pool: workers (Node `worker_threads`, Web Workers in browsers) that each instantiate
 * the kernels module over the backend's one shared `WebAssembly.Memory` and run kernel calls the
 * caller hands them (fork-join over a queue: the caller writes an op's calls — a few per thread —
 * into a shared queue, wakes the workers, takes calls itself like them, and returns once every
 * worker is done; a thread whose core is busy with other work simply takes fewer calls).
 *
 * Control: a small `SharedArrayBuffer` of its own (it never moves, and the allocator never sees
 * it), one slot per worker: a request counter the worker waits on, a completion counter the
 * caller waits on, the kernel and its arguments (f64), a status and 64 bytes of error text (a
 * caller blocked in `Atomics.wait` receives no events, so errors travel in shared memory; every
 * wait has a timeout, so a worker that died is noticed). No spinning: on a machine whose cores
 * are shared, a spinning thread burns the time slice the other thread needs.
 *
 * Only the caller's thread allocates or grows the memory, and only between calls; workers take
 * addresses, never views.
 * @internal
 */

/** Int32 slots per worker (256 bytes). */
const SLOT = 64;
const SEQ = 0;
const DONE = 1;
const STATUS = 2;
const OP = 3;
const FN = 4;
const NARGS = 5;
const READY = 6;
/** The worker's own matmul workspace (a queue call's workspace argument becomes it). */
const WS = 7;
/** First f64 argument (byte 64 of the slot); at most {@link MAX_ARGS}. */
const ARGS_F64 = 8;
const MAX_ARGS = 16;
const ERR_BYTE = 192;
const ERR_LEN = 64;
/** Requests: exit; compile and keep a generated module; forget one; take calls from the queue until it is empty. */
const OP_EXIT = 1;
const OP_LOAD = 3;
const OP_DROP = 5;
const OP_QUEUE = 6;
/** Queue: an Int32 header (next call to take, calls) then per call f64s: fn, generated, workspace argument index, argument count, arguments. */
const Q_HEAD = 4;
const Q_CALL = 4 + MAX_ARGS;
/** Most calls one queue holds. */
export const MAX_CALLS = 256;

/**
 * The worker's program, as source text (no imports, so no bundler has to find a worker entry):
 * `d` carries the data-less module(s), the memory, the control buffer, this worker's slot and
 * the kernel names by index.
 */
function workerMain(d: {
  module: WebAssembly.Module;
  relaxed: WebAssembly.Module | null;
  memory: WebAssembly.Memory;
  ctrl: SharedArrayBuffer;
  queue: SharedArrayBuffer;
  slot: number;
  names: string[];
}): void {
  const SLOT = 64, SEQ = 0, DONE = 1, STATUS = 2, OP = 3, FN = 4, NARGS = 5, READY = 6, WS = 7, ARGS_F64 = 8, ERR_BYTE = 192, ERR_LEN = 64;
  const Q_HEAD = 4, Q_CALL = 20;
  const q32 = new Int32Array(d.queue);
  const q64 = new Float64Array(d.queue);
  const ctrl = new Int32Array(d.ctrl);
  const args = new Float64Array(d.ctrl);
  const bytes = new Uint8Array(d.ctrl);
  const base = d.slot * SLOT;
  const a0 = base / 2 + ARGS_F64;
  const fail = (e: unknown): void => {
    const text = new TextEncoder().encode(String((e as Error | null)?.message ?? e)).subarray(0, ERR_LEN - 1);
    bytes.fill(0, base * 4 + ERR_BYTE, base * 4 + ERR_BYTE + ERR_LEN);
    bytes.set(text, base * 4 + ERR_BYTE);
  };
  const env = {
    memory: d.memory,
    abort: () => {
      throw new Error('wasm kernel aborted');
    },
    pow: Math.pow,
    exp: Math.exp,
    log: Math.log,
    cos: Math.cos,
  };
  let fns: ((...a: number[]) => void)[];
  let exports: Record<string, unknown>;
  try {
    const inst = new WebAssembly.Instance(d.module, { env });
    const rel = d.relaxed ? new WebAssembly.Instance(d.relaxed, { env: { ...inst.exports, ...env } }) : null;
    exports = inst.exports as Record<string, unknown>;
    fns = d.names.map((n) => (((n === 'matmul_f32' || n === 'attention_f32') && rel ? rel.exports[n] : exports[n]) as (...a: number[]) => void));
  } catch (e) {
    fail(e);
    Atomics.store(ctrl, base + READY, 2);
    Atomics.notify(ctrl, base + READY);
    return;
  }
  Atomics.store(ctrl, base + READY, 1);
  Atomics.notify(ctrl, base + READY);
  const generated = new Map<number, (...a: number[]) => void>();
  const argv: number[] = [];
  let seen = 0;
  for (;;) {
    // bounded: a lost wake-up costs at most a second
    while (Atomics.load(ctrl, base + SEQ) === seen) Atomics.wait(ctrl, base + SEQ, seen, 1000);
    seen = Atomics.load(ctrl, base + SEQ);
    const op = ctrl[base + OP];
    if (op === 1) break;
    let status = 0;
    try {
      const n = ctrl[base + NARGS]!;
      argv.length = n;
      for (let k = 0; k < n; k++) argv[k] = args[a0 + k]!;
      if (op === 6) {
        // take calls from the queue until it is empty (the caller and the other workers too)
        const count = q32[1]!;
        for (let i = Atomics.add(q32, 0, 1); i < count; i = Atomics.add(q32, 0, 1)) {
          const c = Q_HEAD / 2 + i * Q_CALL;
          const na = q64[c + 3]!;
          argv.length = na;
          for (let k = 0; k < na; k++) argv[k] = q64[c + 4 + k]!;
          const wsAt = q64[c + 2]!;
          if (wsAt >= 0) argv[wsAt] = ctrl[base + WS]!;
          if (q64[c + 1] === 1) {
            const f = generated.get(q64[c]!);
            if (f === undefined) throw new Error(`generated kernel ${q64[c]} is not loaded`);
            f(...argv);
          } else fns[q64[c]!]!(...argv);
        }
      } else if (op === 3) {
        // compile a generated module from bytes the caller left in the memory; its helpers are
        // this worker's own instance's exports
        const code = new Uint8Array(argv[1]!);
        code.set(new Uint8Array(d.memory.buffer, argv[0]!, argv[1]!));
        const mod = new WebAssembly.Module(code);
        const h: Record<string, unknown> = {};
        for (const imp of WebAssembly.Module.imports(mod)) if (imp.module === 'h') h[imp.name] = exports[imp.name];
        const inst = new WebAssembly.Instance(mod, { env: { memory: d.memory }, h: h as WebAssembly.ModuleImports });
        generated.set(ctrl[base + FN]!, inst.exports.run as (...a: number[]) => void);
      } else if (op === 5) generated.delete(ctrl[base + FN]!);
    } catch (e) {
      status = 1;
      fail(e);
    }
    ctrl[base + STATUS] = status;
    Atomics.store(ctrl, base + DONE, seen);
    Atomics.notify(ctrl, base + DONE, 1);
  }
}

/** What a started worker is, in either environment. */
interface WorkerHandle {
  terminate(): unknown;
}

interface NodeWorkerThreads {
  Worker: new (src: string, opts: { eval: true; workerData: unknown }) => WorkerHandle & {
    unref(): void;
    on(ev: 'error', f: (e: Error) => void): void;
  };
}

/** `process.getBuiltinModule` where it exists (Node ≥ 20.16), without naming Node's types. */
function nodeBuiltin<T>(name: string): T | null {
  const p = (globalThis as { process?: { getBuiltinModule?: (n: string) => unknown } }).process;
  return typeof p?.getBuiltinModule === 'function' ? ((p.getBuiltinModule(name) as T | undefined) ?? null) : null;
}

/** Whether this thread may block in `Atomics.wait` (not on a browser window's main thread). */
function canBlock(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}

/** A call: a kernel index in the names list and its arguments (addresses, sizes, strides, f64). */
export interface PoolCall {
  readonly fn: number;
  readonly args: readonly number[];
  /** Run a generated module (by id) instead of a kernel of the main module. */
  readonly generated?: boolean;
  /** The index of the argument that is a matmul workspace: each thread puts its own there. */
  readonly workspaceArg?: number;
}

/** The cores this environment offers (1 where it cannot tell). */
export function availableCores(): number {
  const os = nodeBuiltin<{ availableParallelism?: () => number; cpus: () => unknown[] }>('node:os');
  if (os) return Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  return Math.max(1, nav?.hardwareConcurrency ?? 1);
}

/** The most threads `'auto'` picks. */
const AUTO_MAX = 16;

/** The thread count a request means here (`'auto'`: the cores available, at most 16), and why. */
export function resolveThreads(req: number | 'auto'): { threads: number; reason: string } {
  const cores = availableCores();
  const have = `${cores} ${cores === 1 ? 'core' : 'cores'} available`;
  if (req !== 'auto') return { threads: req, reason: req === 1 ? '1 thread requested' : `${req} requested (${have})` };
  return { threads: Math.min(cores, AUTO_MAX), reason: `auto: ${have}${cores > AUTO_MAX ? ` (auto uses at most ${AUTO_MAX})` : ''}` };
}

/** Why threads cannot run in this environment, or null when they can. */
export function threadsUnavailable(): string | null {
  const g = globalThis as { crossOriginIsolated?: boolean; process?: unknown; Worker?: unknown };
  const noSab = typeof SharedArrayBuffer !== 'function' || typeof Atomics !== 'object';
  if (noSab || (g.process === undefined && g.crossOriginIsolated === false)) {
    return `${noSab ? 'SharedArrayBuffer is unavailable' : 'crossOriginIsolated is false'}: threads need the page served with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp`;
  }
  if (nodeBuiltin('node:worker_threads') === null && typeof g.Worker !== 'function') return 'this environment has no workers (worker_threads or Web Workers)';
  return null;
}

/** The pool of `threads − 1` workers (the caller is the other thread). */
export class ThreadPool {
  /** Workers (not counting the caller). */
  readonly workers: number;
  /** Set when the pool broke (a worker failed to start, died or timed out); it then never runs again. */
  failure: string | null = null;
  private handles: WorkerHandle[] | null = null;
  private readonly ctrl: Int32Array;
  private readonly args: Float64Array;
  private readonly bytes: Uint8Array;
  private readonly seq: Int32Array;
  private readonly q32: Int32Array;
  private readonly q64: Float64Array;
  private readonly blocking = canBlock();
  private isReady = false;

  constructor(
    private readonly module: WebAssembly.Module,
    private readonly relaxed: WebAssembly.Module | null,
    private readonly memory: WebAssembly.Memory,
    threads: number,
    private readonly names: readonly string[],
  ) {
    this.workers = threads - 1;
    const buf = new SharedArrayBuffer(SLOT * 4 * Math.max(1, this.workers));
    this.ctrl = new Int32Array(buf);
    this.args = new Float64Array(buf);
    this.bytes = new Uint8Array(buf);
    this.seq = new Int32Array(this.workers);
    const q = new SharedArrayBuffer(Q_HEAD * 4 + MAX_CALLS * Q_CALL * 8);
    this.q32 = new Int32Array(q);
    this.q64 = new Float64Array(q);
  }

  /** Sets worker `w`'s matmul workspace (what a queued call's workspace argument becomes there). */
  setWorkspace(w: number, ptr: number): void {
    Atomics.store(this.ctrl, w * SLOT + WS, ptr);
  }

  /**
   * Runs `calls` (at most {@link MAX_CALLS}) on the workers and the caller's thread, each thread
   * taking the next call not yet taken until none is left (so a thread that is slow, or not
   * scheduled, takes fewer); `local` runs a call on the caller's thread. Returns when every call is
   * done; throws the first error, after every thread has stopped. `timeoutMs`: how long the caller
   * waits for a worker before the pool is declared broken.
   */
  runQueue(calls: readonly PoolCall[], local: (c: PoolCall) => void, timeoutMs: number): void {
    const n = calls.length;
    if (n > MAX_CALLS) throw new Error(`a queue holds at most ${MAX_CALLS} calls, got ${n}`);
    const q = this.q64;
    for (let i = 0; i < n; i++) {
      const c = calls[i]!;
      const at = Q_HEAD / 2 + i * Q_CALL;
      if (c.args.length > MAX_ARGS) throw new Error(`a pool call takes at most ${MAX_ARGS} arguments, got ${c.args.length}`);
      q[at] = c.fn;
      q[at + 1] = c.generated === true ? 1 : 0;
      q[at + 2] = c.workspaceArg ?? -1;
      q[at + 3] = c.args.length;
      for (let k = 0; k < c.args.length; k++) q[at + 4 + k] = c.args[k]!;
    }
    this.q32[1] = n;
    Atomics.store(this.q32, 0, 0); // release: the calls above are visible to the workers
    for (let w = 0; w < this.workers; w++) this.post(w, OP_QUEUE, 0, []);
    let err: unknown = null;
    try {
      for (let i = Atomics.add(this.q32, 0, 1); i < n; i = Atomics.add(this.q32, 0, 1)) local(calls[i]!);
    } catch (e) {
      err = e;
      Atomics.store(this.q32, 0, n); // nothing more is taken
    }
    for (let w = 0; w < this.workers; w++) {
      try {
        this.join(w, timeoutMs);
      } catch (e) {
        err ??= e;
      }
    }
    if (err !== null) throw err;
  }

  /** Starts the workers if they are not started (returns at once; they become ready later). */
  start(): void {
    if (this.handles !== null || this.failure !== null || this.workers === 0) return;
    const src = `(${workerMain.toString()})`;
    const handles: WorkerHandle[] = [];
    try {
      const wt = nodeBuiltin<NodeWorkerThreads>('node:worker_threads');
      for (let w = 0; w < this.workers; w++) {
        const data = { module: this.module, relaxed: this.relaxed, memory: this.memory, ctrl: this.ctrl.buffer, queue: this.q32.buffer, slot: w, names: this.names };
        if (wt !== null) {
          const worker = new wt.Worker(`${src}(require('node:worker_threads').workerData)`, { eval: true, workerData: data });
          worker.unref(); // an idle pool never keeps the process alive
          worker.on('error', (e) => {
            this.failure ??= `worker ${w} failed: ${e.message}`;
          });
          handles.push(worker);
        } else {
          const url = URL.createObjectURL(new Blob([`self.onmessage = (e) => { self.onmessage = null; ${src}(e.data); };`], { type: 'text/javascript' }));
          const worker = new Worker(url, { name: `axon-wasm-${w}` });
          URL.revokeObjectURL(url);
          worker.onerror = (e) => {
            // a worker that could not load has an event without a message
            this.failure ??= `worker ${w} failed: ${e.message || "it could not load (a Content-Security-Policy without worker-src 'self' blob: blocks it)"}`;
          };
          worker.postMessage(data);
          handles.push(worker);
        }
      }
    } catch (e) {
      for (const h of handles) void h.terminate();
      this.failure = `workers could not start: ${(e as Error).message}`;
      return;
    }
    this.handles = handles;
  }

  /** Whether every worker has instantiated the kernels (false until then, or when the pool broke). */
  ready(): boolean {
    if (this.isReady) return this.failure === null;
    if (this.handles === null || this.failure !== null) return false;
    for (let w = 0; w < this.workers; w++) {
      const r = Atomics.load(this.ctrl, w * SLOT + READY);
      if (r === 2) {
        this.broken(`worker ${w} could not instantiate the kernels: ${this.errorText(w)}`);
        return false;
      }
      if (r !== 1) return false;
    }
    this.isReady = true;
    return true;
  }

  /** Starts the workers and resolves once they are ready (or the pool broke). */
  async whenReady(timeoutMs = 30000): Promise<boolean> {
    this.start();
    const t0 = Date.now();
    while (!this.ready()) {
      if (this.failure !== null || this.handles === null) return false;
      if (Date.now() - t0 > timeoutMs) {
        this.broken(`workers not ready after ${timeoutMs} ms`);
        return false;
      }
      await new Promise((r) => setTimeout(r, 2));
    }
    return true;
  }

  /**
   * Has every worker compile the generated module whose `len` bytes lie at `ptr` in the memory,
   * kept under `id` (blocking: a small module compiles in well under a millisecond).
   */
  load(id: number, ptr: number, len: number): void {
    for (let w = 0; w < this.workers; w++) this.post(w, OP_LOAD, id, [ptr, len]);
    let err: unknown = null;
    for (let w = 0; w < this.workers; w++) {
      try {
        this.join(w, 10000);
      } catch (e) {
        err ??= e;
      }
    }
    if (err !== null) throw err;
  }

  /** Has every worker forget generated module `id`. */
  drop(id: number): void {
    if (!this.ready()) return;
    for (let w = 0; w < this.workers; w++) this.post(w, OP_DROP, id, []);
    for (let w = 0; w < this.workers; w++) this.join(w, 10000);
  }

  /** Stops the workers (an exit request, then terminate: also ends one stuck in a kernel). */
  dispose(): void {
    const hs = this.handles;
    this.handles = null;
    this.isReady = false;
    this.failure ??= 'disposed';
    if (hs === null) return;
    for (let w = 0; w < this.workers; w++) this.post(w, OP_EXIT, 0, []);
    for (const h of hs) void h.terminate();
  }

  private post(w: number, op: number, fn: number, args: readonly number[]): void {
    if (args.length > MAX_ARGS) throw new Error(`a pool call takes at most ${MAX_ARGS} arguments, got ${args.length}`);
    const base = w * SLOT;
    this.ctrl[base + OP] = op;
    this.ctrl[base + FN] = fn;
    this.ctrl[base + NARGS] = args.length;
    const a = base / 2 + ARGS_F64;
    for (let i = 0; i < args.length; i++) this.args[a + i] = args[i]!;
    const s = (this.seq[w] = (this.seq[w]! + 1) | 0);
    Atomics.store(this.ctrl, base + SEQ, s); // release: the arguments above are visible to the worker
    Atomics.notify(this.ctrl, base + SEQ, 1);
  }

  private join(w: number, timeoutMs: number): void {
    const base = w * SLOT;
    const s = this.seq[w]!;
    const t0 = performance.now();
    for (;;) {
      const cur = Atomics.load(this.ctrl, base + DONE);
      if (cur === s) break;
      if (this.blocking) Atomics.wait(this.ctrl, base + DONE, cur, Math.min(timeoutMs, 1000));
      if (performance.now() - t0 > timeoutMs && Atomics.load(this.ctrl, base + DONE) !== s) {
        const why = `worker ${w} did not finish within ${Math.round(timeoutMs)} ms${this.failure !== null ? ` (${this.failure})` : ''}`;
        this.broken(why);
        throw new Error(why);
      }
    }
    if (this.ctrl[base + STATUS] !== 0) throw new Error(`in worker ${w}: ${this.errorText(w)}`);
  }

  private errorText(w: number): string {
    const b = this.bytes.subarray(w * SLOT * 4 + ERR_BYTE, w * SLOT * 4 + ERR_BYTE + ERR_LEN);
    const end = b.indexOf(0);
    return new TextDecoder().decode(b.slice(0, end < 0 ? ERR_LEN : end));
  }

  /** Marks the pool broken and stops its workers (one may still be writing into the memory). */
  private broken(why: string): void {
    this.failure ??= why;
    const hs = this.handles;
    this.handles = null;
    this.isReady = false;
    if (hs !== null) for (const h of hs) void h.terminate();
  }
}
