/**
 * Engine state shared by every op: live-tensor accounting, memory scopes (`tidy`), the
 * gradient-mode flag and the hook through which `@axon/autograd` records ops.
 */
import type { Backend, BackendBuffer, BackendMemory, BinaryOp, ReduceOp, UnaryOp } from './backend.js';
import type { TableOpName } from './ops/table.js';
import { bytesPerElement, type DType } from './dtype.js';
import { AxonError } from './errors.js';
import type { Tensor } from './tensor.js';

/**
 * A buffer shared by a tensor and its views; freed when the last holder lets go.
 *
 * With fusion on (see `setFlags`), a storage may be *pending*: an elementwise expression over
 * other storages (its `leaves`), or a matrix product, that has not run yet. Reading `buf` runs it (see `lazy.ts`).
 * A pending storage is accounted in {@link memory} as if it were allocated, so that memory
 * reports do not depend on fusion; a storage whose last holder lets go while pending storages read
 * it (its `readers`) leaves {@link memory} at once, as without fusion, and its buffer is freed when
 * the last reader has run or was dropped.
 */
export class Storage {
  refs = 0;
  /** @internal The expression this storage will hold, while it is pending (see lazy.ts). */
  pending: unknown = null;
  /** @internal How many pending storages' expressions read this one. */
  readers = 0;
  private b: BackendBuffer | null;
  readonly dtype: DType;
  readonly size: number;
  constructor(
    readonly backend: Backend,
    buf: BackendBuffer | null,
    dtype?: DType,
    size?: number,
  ) {
    this.b = buf;
    this.dtype = buf ? buf.dtype : dtype!;
    this.size = buf ? buf.size : size!;
  }
  /** The backend buffer; runs the pending expression first when there is one. */
  get buf(): BackendBuffer {
    if (this.b === null) realizer(this);
    return this.b!;
  }
  /** @internal Whether the buffer exists (false while pending). */
  get isRealized(): boolean {
    return this.b !== null;
  }
  /** @internal Called by the lazy engine once it has computed this storage. */
  setBuffer(buf: BackendBuffer): void {
    this.b = buf;
  }
  get bytes(): number {
    return this.size * bytesPerElement(this.dtype);
  }
  retain(): void {
    this.refs++;
  }
  release(): void {
    if (--this.refs === 0) {
      stats.bytes -= this.bytes;
      stats.storages--;
      // pending expressions still read this storage (its buffer, or a pending matmul whose product
      // a later kernel computes): it lives on, unaccounted, until they have run or were dropped
      // (as if they had been computed when it was freed)
      if (this.readers > 0) {
        this.orphan = true;
        return;
      }
      if (this.pending !== null) dropPending(this);
      if (this.b !== null) this.backend.free(this.b);
    }
  }
  /** @internal Set when the holders let go while pending expressions still read the storage. */
  orphan = false;
  /** @internal A pending storage stopped reading this one (it ran, or was dropped). */
  dropReader(): void {
    if (--this.readers === 0 && this.orphan) {
      this.orphan = false;
      if (this.pending !== null) dropPending(this);
      if (this.b !== null) {
        this.backend.free(this.b);
        this.b = null;
      }
    }
  }
}

let realizer: (s: Storage) => void = () => {
  throw new Error('axon: lazy engine not loaded');
};
let dropPending: (s: Storage) => void = () => {};
/** @internal The lazy engine installs how a pending storage runs and how a dropped one forgets its leaves. */
export function setLazyHooks(run: (s: Storage) => void, drop: (s: Storage) => void): void {
  realizer = run;
  dropPending = drop;
}

/**
 * @internal A pending storage (accounted in {@link memory} like an allocated one; the lazy engine
 * allocates its buffer when it runs).
 */
export function pendingStorage(backend: Backend, dtype: DType, size: number): Storage {
  const s = new Storage(backend, null, dtype, size);
  counted(s);
  return s;
}

/** @internal A storage around a buffer allocated elsewhere (accounted in {@link memory}). */
export function adoptBuffer(backend: Backend, buf: BackendBuffer): Storage {
  const s = new Storage(backend, buf);
  counted(s);
  return s;
}

/** @internal Allocates a buffer with {@link allocStorage}'s out-of-memory report. */
export function allocBuffer(backend: Backend, dtype: DType, size: number): BackendBuffer {
  try {
    return backend.alloc(dtype, size);
  } catch (e) {
    // A dead device is not out of memory: the backend's own error says what happened.
    if (backend.lostReason !== undefined) throw e;
    const why = e instanceof Error ? e.message : String(e);
    const leaks = leakTracking ? ' (see leakReport() for where the live tensors were created)' : ' (setLeakTracking(true) and leakReport() show where live tensors were created)';
    throw new AxonError(
      'alloc',
      `out of memory on backend '${backend.name}': cannot allocate ${size} ${dtype} elements (${size * bytesPerElement(dtype)} bytes) while ${stats.tensors} tensors holding ${stats.bytes} bytes are alive${leaks}: ${why}`,
    );
  }
}

const stats = { tensors: 0, bytes: 0, storages: 0, peak: 0 };

function counted(s: Storage): void {
  stats.bytes += s.bytes;
  stats.storages++;
  if (stats.bytes > stats.peak) stats.peak = stats.bytes;
}

/**
 * Allocates a storage on `backend` (accounted in {@link memory}). When the backend cannot, the
 * AxonError says what was asked and how much Axon holds (live tensors and bytes), so that a leak
 * shows up as what it is.
 */
export function allocStorage(backend: Backend, dtype: DType, size: number): Storage {
  const s = new Storage(backend, allocBuffer(backend, dtype, size));
  counted(s);
  return s;
}

/** What {@link memory} reports. */
export interface MemoryInfo {
  /** Live (not disposed) tensors, views included. */
  readonly numTensors: number;
  /** Bytes of distinct live storages (views share their base's bytes). */
  readonly numBytes: number;
  /** Distinct live storages. */
  readonly numStorages: number;
  /** The most bytes live at once (as `numBytes` counts them) since start or {@link resetPeakMemory}. */
  readonly peakBytes: number;
  /** What each started backend reports it holds. */
  readonly backends: Readonly<Record<string, BackendMemory>>;
}

const startedBackends = new Set<Backend>();

/** @internal */
export function noteBackend(b: Backend): void {
  startedBackends.add(b);
}

/** @internal The registry forgets a backend it dropped (e.g. after device loss). */
export function forgetBackend(b: Backend): void {
  startedBackends.delete(b);
}

/**
 * Live tensors and bytes, overall and per backend.
 * @example
 * ```ts
 * const before = memory();
 * const y = tidy(() => zeros([3]).add(1)); // the zeros are freed; y is returned
 * memory().numTensors - before.numTensors // 1
 * memory().numBytes - before.numBytes // 12
 * y.dispose();
 * memory().numTensors - before.numTensors // 0
 * ```
 */
export function memory(): MemoryInfo {
  const backends: Record<string, BackendMemory> = {};
  for (const b of startedBackends) backends[b.name] = b.memory();
  return { numTensors: stats.tensors, numBytes: stats.bytes, numStorages: stats.storages, peakBytes: stats.peak, backends };
}

/**
 * Restarts {@link memory}'s `peakBytes` from the bytes live now (PyTorch's
 * `reset_peak_memory_stats`): measure what one step needs at most.
 * @example
 * ```ts
 * const x = ones([1000]); // 4000 bytes
 * resetPeakMemory();
 * const base = memory().peakBytes;
 * tidy(() => x.add(1).mul(2).sum().dataSync()); // temporaries live only inside the tidy
 * memory().peakBytes > base // true
 * memory().numBytes === base // true
 * x.dispose();
 * ```
 */
export function resetPeakMemory(): void {
  stats.peak = stats.bytes;
}

/** @internal */
export function trackNew(t: Tensor): void {
  stats.tensors++;
  const scope = scopes[scopes.length - 1];
  if (scope) scope.push(t);
  if (leakTracking) noteSite(t);
}

/** @internal */
export function trackDisposed(t: Tensor): void {
  stats.tensors--;
  if (sites.delete(t.id)) finalizer?.unregister(t);
}

// ------------------------------------------------------------------ leak tracking
/**
 * One place where tensors that are still alive were created (see {@link leakReport}).
 * @example
 * ```ts
 * setLeakTracking(true);
 * const kept: Tensor[] = [];
 * for (let i = 0; i < 3; i++) kept.push(tensor([i])); // one site, three live tensors
 * const [worst] = leakReport();
 * worst!.count // 3
 * worst!.site.startsWith('at ') // true
 * kept.forEach((t) => t.dispose());
 * setLeakTracking(false);
 * ```
 */
export interface LeakSite {
  /** The creating call's stack, Axon's own core frames left out (a few frames, newest first). */
  readonly site: string;
  /** Tensors created there that are still alive. */
  readonly count: number;
}

/**
 * Options of {@link setLeakTracking}.
 * @example
 * ```ts
 * const leaks: string[] = [];
 * setLeakTracking(true, { onLeak: (site) => leaks.push(site) }); // instead of console.warn
 * setLeakTracking(false);
 * ```
 */
export interface LeakTrackingOptions {
  /**
   * Called when the garbage collector frees a tensor that was never disposed (its backend memory
   * is then lost until the process ends). Default: a `console.warn` naming the creation site.
   */
  onLeak?: (site: string) => void;
}

let leakTracking = false;
const sites = new Map<number, string>();
let finalizer: FinalizationRegistry<number> | null = null;
let onLeak: (site: string) => void = (site) => console.warn(`axon: a tensor was garbage-collected without dispose() (its memory is lost); created at\n${site}`);

function creationSite(): string {
  const stack = new Error().stack ?? '';
  const frames = stack
    .split('\n')
    .slice(1)
    .map((l) => l.trim())
    .filter((l) => l.startsWith('at ') && !/[/\\]packages[/\\]core[/\\](?:src|dist)[/\\]|@axon[/\\]core[/\\]|node:internal/.test(l));
  return frames.slice(0, 4).join('\n') || '(unknown site)';
}

function noteSite(t: Tensor): void {
  sites.set(t.id, creationSite());
  finalizer?.register(t, t.id, t);
}

/**
 * Turns on (or off) recording where each new tensor is created, for {@link leakReport}, and a
 * warning when a tensor is garbage-collected without `dispose()` (a leak: its backend memory is
 * never freed). Opt-in, for debugging: it costs a stack trace per tensor. Turning it off forgets
 * the recorded sites.
 * @example
 * ```ts
 * const w = tensor([1, 2]);
 * const step = () => w.mul(2).sum(); // forgot tidy(): two tensors per call stay alive
 * setLeakTracking(true);
 * const made = [step(), step(), step()];
 * leakReport().reduce((n, s) => n + s.count, 0) // 6
 * console.table(leakReport()); // where the live tensors came from
 * setLeakTracking(false);
 * leakReport() // []
 * ```
 */
export function setLeakTracking(on: boolean, opts: LeakTrackingOptions = {}): void {
  if (typeof on !== 'boolean') throw new AxonError('setLeakTracking', `expects true or false, got ${String(on)}`);
  if (opts.onLeak !== undefined && typeof opts.onLeak !== 'function') throw new AxonError('setLeakTracking', 'onLeak must be a function');
  leakTracking = on;
  if (opts.onLeak) onLeak = opts.onLeak;
  if (on && finalizer === null && typeof FinalizationRegistry === 'function') {
    finalizer = new FinalizationRegistry<number>((id) => {
      const site = sites.get(id);
      if (site === undefined) return;
      sites.delete(id);
      onLeak(site);
    });
  }
  if (!on) sites.clear();
}

/**
 * Live tensors created while leak tracking was on, grouped by creation site, most first.
 * @example
 * ```ts
 * setLeakTracking(true);
 * const a = tensor([1]);
 * const b = tidy(() => a.add(1).mul(2)); // the add is freed by tidy, the mul is returned
 * leakReport().length // 2
 * b.dispose();
 * leakReport().length // 1
 * a.dispose();
 * leakReport() // []
 * setLeakTracking(false);
 * ```
 */
export function leakReport(): LeakSite[] {
  const counts = new Map<string, number>();
  for (const site of sites.values()) counts.set(site, (counts.get(site) ?? 0) + 1);
  return [...counts.entries()].map(([site, count]) => ({ site, count })).sort((a, b) => b.count - a.count);
}

// ------------------------------------------------------------------ scopes
const scopes: Tensor[][] = [];

/** Anything `tidy` can return: tensors found inside are kept, everything else created is freed. */
export type TensorContainer = Tensor | void | null | undefined | number | string | boolean | TensorContainer[] | { [k: string]: TensorContainer } | object;

function collect(x: unknown, out: Set<Tensor>, isTensor: (v: unknown) => v is Tensor, depth = 0): void {
  if (depth > 8 || x === null || typeof x !== 'object') return;
  if (isTensor(x)) {
    out.add(x);
    return;
  }
  if (Array.isArray(x)) {
    for (const v of x) collect(v, out, isTensor, depth + 1);
    return;
  }
  if (x instanceof Map) {
    for (const v of x.values()) collect(v, out, isTensor, depth + 1);
    return;
  }
  if (Object.getPrototypeOf(x) === Object.prototype) {
    for (const v of Object.values(x)) collect(v, out, isTensor, depth + 1);
  }
}

let tensorCheck: ((v: unknown) => v is Tensor) | null = null;
/** @internal */
export function setTensorCheck(f: (v: unknown) => v is Tensor): void {
  tensorCheck = f;
}

/**
 * Runs `fn` with a fresh scope collecting the tensors it creates; when `fn` throws, they are
 * disposed (except kept ones) and the error propagates. Shared by {@link tidy} and {@link failSafe}.
 */
/** Disposes a scope's tensors (kept ones excepted), newest first. */
function disposeScope(scope: Tensor[]): void {
  for (let i = scope.length - 1; i >= 0; i--) if (!scope[i]!.kept) scope[i]!.dispose();
}

function inScope<T>(fn: () => T): { result: T; scope: Tensor[] } {
  const scope: Tensor[] = [];
  scopes.push(scope);
  try {
    return { result: fn(), scope };
  } catch (e) {
    disposeScope(scope);
    throw e;
  } finally {
    scopes.pop();
  }
}

/**
 * Runs `fn` in a memory scope: every tensor created inside that is not returned (or kept with
 * {@link keep}) is disposed when `fn` returns or throws. Returned tensors (also inside arrays and
 * plain objects) move to the enclosing scope. `fn` must be synchronous.
 *
 * @example
 * ```ts
 * const x = tensor([1, 2]);
 * const before = memory().numTensors;
 * const y = tidy(() => x.mul(2).add(1)); // the intermediate x.mul(2) is freed
 * y // [3, 5]
 * memory().numTensors - before // 1
 * ```
 */
export function tidy<T>(fn: () => T): T {
  const { result, scope } = inScope(fn);
  if (result instanceof Promise) {
    disposeScope(scope);
    throw new AxonError('tidy', 'the function returned a Promise; tidy scopes are synchronous (await outside, or dispose explicitly)');
  }
  const keepSet = new Set<Tensor>();
  if (tensorCheck) collect(result, keepSet, tensorCheck);
  const parent = scopes[scopes.length - 1];
  if (parent) for (const t of scope) if (keepSet.has(t)) parent.push(t);
  // newest first: a pending result is dropped before the tensors it reads, so none runs for nothing
  for (let i = scope.length - 1; i >= 0; i--) {
    const t = scope[i]!;
    if (!keepSet.has(t) && !t.kept) {
      t.dispose();
    }
  }
  return result;
}

/**
 * Runs `fn` so that a failure half-way leaks nothing: tensors it created are disposed when it
 * throws; when it returns, they all stay, belonging to the enclosing scope as if `fn` had run
 * without this wrapper (unlike {@link tidy}, which frees what is not returned). For code whose
 * intermediates must outlive the call — a forward pass whose tensors autograd still needs — but
 * that must not leak them when it fails. Core's composite ops run in it.
 * @example
 * ```ts
 * const before = memory().numTensors;
 * try {
 *   failSafe(() => {
 *     tensor([1, 2]).mul(2); // created, then…
 *     throw new Error('half-way');
 *   });
 * } catch {
 *   // …freed: nothing leaked
 * }
 * memory().numTensors - before // 0
 * const kept = failSafe(() => [tensor([1]), tensor([2])]); // on success everything stays
 * memory().numTensors - before // 2
 * for (const t of kept) t.dispose();
 * ```
 */
export function failSafe<T>(fn: () => T): T {
  if (typeof fn !== 'function') throw new AxonError('failSafe', `expects a function, got ${typeof fn}`);
  const { result, scope } = inScope(fn);
  const parent = scopes[scopes.length - 1];
  if (parent) for (const t of scope) if (!t.isDisposed) parent.push(t);
  return result;
}

/**
 * Marks a tensor so that no enclosing `tidy` disposes it (the caller becomes its owner).
 * @example
 * ```ts
 * let w: Tensor | undefined;
 * tidy(() => {
 *   w = keep(randn([3, 3])); // not returned, but kept
 *   randn([3, 3]); // freed when the scope ends
 * });
 * w!.isDisposed // false
 * ```
 */
export function keep<T extends Tensor>(t: T): T {
  t.kept = true;
  return t;
}

/**
 * Number of open `tidy` scopes (for tests and diagnostics).
 * @example
 * scopeDepth() // 0
 * tidy(() => scopeDepth()) // 1
 */
export function scopeDepth(): number {
  return scopes.length;
}

// ------------------------------------------------------------------ gradient mode
let gradEnabled = true;

/**
 * Whether ops are being recorded for autograd (false inside {@link noGrad}).
 * @example
 * isGradEnabled() // true
 * noGrad(() => isGradEnabled()) // false
 */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/**
 * Runs `fn` with gradient recording off (like `torch.no_grad()`).
 * @example
 * ```ts
 * import '@axon/autograd';
 * const w = tensor([1, 2]).requireGrad();
 * const y = noGrad(() => w.mul(3)); // evaluation: no graph is recorded
 * y.requiresGrad // false
 * w.mul(3).requiresGrad // true
 * ```
 */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** @internal Runs `fn` with gradient recording on (used by autograd for higher-order grads). */
export function enableGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = true;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** Attributes an op passes to its gradient rule. */
export type OpAttrs = Readonly<Record<string, unknown>>;

/**
 * The name of every op core records (for autograd and anomaly detection): `@axon/autograd` must
 * have a rule for each one that is differentiable ({@link DifferentiableOp}), which the compiler
 * checks. Binary `max`/`min` are recorded under their function names, `maximum`/`minimum`.
 */
export type RecordedOp =
  | 'identity' | 'cast' | UnaryOp | 'clip'
  | 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'maximum' | 'minimum' | 'mod' | 'where'
  | ReduceOp
  | 'reshape' | 'permute' | 'slice' | 'expand' | 'concat' | 'pad' | 'gather' | 'scatterAdd'
  | 'matmul' | 'im2col' | 'col2im' | 'pool2d' | 'pool2dGrad' | 'attention' | 'customGrad' | TableOpName;

/** Recorded ops with a gradient rule (all but those whose outputs are bool or int32). */
export type DifferentiableOp = Exclude<RecordedOp, 'not' | 'argmax' | 'argmin'>;

/**
 * Ops with several outputs recorded as one group (core's internal `recordGroup`): their gradient rule runs
 * once with the gradients of all outputs (`@axon/autograd` must have a group rule for each one,
 * which the compiler checks).
 */
export type RecordedGroupOp = 'unbind' | 'split';

/**
 * A tracer's view of every op core records, with grad mode on or off and whether or not an input
 * requires grad — plus the comparisons and logic ops, which autograd never records, and composite
 * ops that other formats have as one op (`conv2d`, seen after the ops it is made of, with
 * `{ win, groups }`: its output's producer is then the conv, not its parts). What ONNX export
 * (`@axon/onnx`) uses to see a model's forward pass as a graph of ops.
 */
export type TraceHook = (op: TracedOp, inputs: readonly Tensor[], outputs: readonly Tensor[], attrs: OpAttrs) => void;

/**
 * The ops a {@link TraceHook} sees; `hostRead` is a read of a tensor's values on the host
 * (`data()`, `dataSync()`, `item()`, `array()`, …; inputs `[t]`, no outputs), other than reads made
 * only to validate input ({@link validationRead}).
 */
export type TracedOp = RecordedOp | RecordedGroupOp | BinaryOp | 'conv2d' | 'hostRead';
let traceHook: TraceHook | null = null;

/**
 * Installs a {@link TraceHook} (null removes it) and returns the one it replaces. One tracer at a
 * time: restore the previous one when done.
 * @example
 * const seen: string[] = [];
 * const prev = setTraceHook((op) => seen.push(op));
 * try {
 *   tensor([1, -2]).relu().mul(2).gt(1);
 * } finally {
 *   setTraceHook(prev);
 * }
 * seen // ['relu', 'mul', 'gt']
 */
export function setTraceHook(h: TraceHook | null): TraceHook | null {
  const prev = traceHook;
  traceHook = h;
  return prev;
}

let validating = 0;

/** @internal Runs a read made only to validate input: not reported to the tracer as a host read. */
export function validatingRead<T>(fn: () => T): T {
  validating++;
  try {
    return fn();
  } finally {
    validating--;
  }
}

/** @internal Tells the tracer that a tensor's values are read on the host. */
export function traceHostRead(t: Tensor): void {
  if (traceHook !== null && validating === 0) traceHook('hostRead', [t], [], {});
}

/** @internal Tells the tracer about an op that is not recorded (comparisons, logic ops, composites). */
export function traceOnly(op: BinaryOp | 'conv2d', inputs: readonly Tensor[], output: Tensor, attrs: OpAttrs = {}): void {
  if (traceHook !== null) traceHook(op, inputs, [output], attrs);
}

/** The hook `@axon/autograd` installs: called after an op whose inputs require grad. */
export interface GradRecorder {
  record(op: RecordedOp, inputs: readonly Tensor[], output: Tensor, attrs: OpAttrs): void;
  /** Records one op with several outputs, whose gradient rule runs once for all of them. */
  recordGroup(op: RecordedGroupOp, inputs: readonly Tensor[], outputs: readonly Tensor[], attrs: OpAttrs): void;
  backward(root: Tensor, grad: Tensor | undefined, opts?: { readonly retainGraph?: boolean }): void;
}

let recorder: GradRecorder | null = null;

/** Installs the autograd recorder (done by importing `@axon/autograd`). */
export function setGradRecorder(r: GradRecorder | null): void {
  recorder = r;
}

/** @internal */
export function getGradRecorder(): GradRecorder | null {
  return recorder;
}

type AnomalyHook = (op: RecordedOp | RecordedGroupOp, inputs: readonly Tensor[], output: Tensor, attrs: OpAttrs) => void;
let anomalyHook: AnomalyHook | null = null;

/** @internal Installed by `anomaly.ts` while anomaly detection is on. */
export function setAnomalyHook(h: AnomalyHook | null): void {
  anomalyHook = h;
}

/**
 * @internal Every op ends here with its output: records it for autograd when grad mode is on and
 * an input requires grad, and checks it when anomaly detection is on.
 */
export function record(op: RecordedOp, inputs: readonly Tensor[], output: Tensor, attrs: OpAttrs = {}): Tensor {
  if (traceHook !== null) traceHook(op, inputs, [output], attrs);
  if (anomalyHook !== null) anomalyHook(op, inputs, output, attrs);
  if (gradEnabled && recorder !== null) {
    for (const t of inputs) {
      if (t.requiresGrad) {
        recorder.record(op, inputs, output, attrs);
        // Every input may be needed by the gradient rule: composite ops must not free them. The
        // same for tensors the rule reads from the attributes (gather's and scatterAdd's indices).
        for (const u of inputs) u.savedForBackward = true;
        for (const v of Object.values(attrs)) if (v !== null && typeof v === 'object' && tensorCheck?.(v)) v.savedForBackward = true;
        break;
      }
    }
  }
  return output;
}

/**
 * @internal Like {@link record}, for an op with several outputs (`unbind`, `split`): autograd
 * records them as one group, whose rule runs once with every output's gradient (zeros for the
 * outputs that got none) — one kernel for the input's gradient instead of one per output.
 */
export function recordGroup(op: RecordedGroupOp, inputs: readonly Tensor[], outputs: Tensor[], attrs: OpAttrs = {}): Tensor[] {
  if (traceHook !== null) traceHook(op, inputs, outputs, attrs);
  if (anomalyHook !== null) for (const o of outputs) anomalyHook(op, inputs, o, attrs);
  if (gradEnabled && recorder !== null && outputs.length > 0 && inputs.some((t) => t.requiresGrad)) {
    recorder.recordGroup(op, inputs, outputs, attrs);
    for (const u of inputs) u.savedForBackward = true;
  }
  return outputs;
}
