/**
 * Engine state shared by every op: live-tensor accounting, memory scopes (`tidy`), the
 * gradient-mode flag and the hook through which `@axon/autograd` records ops.
 */
import type { Backend, BackendBuffer, BackendMemory } from './backend.js';
import { bytesPerElement, type DType } from './dtype.js';
import { AxonError } from './errors.js';
import type { Tensor } from './tensor.js';

/** A buffer shared by a tensor and its views; freed when the last holder lets go. */
export class Storage {
  refs = 0;
  constructor(
    readonly backend: Backend,
    readonly buf: BackendBuffer,
  ) {}
  get bytes(): number {
    return this.buf.size * bytesPerElement(this.buf.dtype);
  }
  retain(): void {
    this.refs++;
  }
  release(): void {
    if (--this.refs === 0) {
      stats.bytes -= this.bytes;
      stats.storages--;
      this.backend.free(this.buf);
    }
  }
}

const stats = { tensors: 0, bytes: 0, storages: 0 };

/** Allocates a storage on `backend` (accounted in {@link memory}). */
export function allocStorage(backend: Backend, dtype: DType, size: number): Storage {
  const buf = backend.alloc(dtype, size);
  const s = new Storage(backend, buf);
  stats.bytes += s.bytes;
  stats.storages++;
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
  /** What each started backend reports it holds. */
  readonly backends: Readonly<Record<string, BackendMemory>>;
}

const startedBackends = new Set<Backend>();

/** @internal */
export function noteBackend(b: Backend): void {
  startedBackends.add(b);
}

/**
 * Live tensors and bytes, overall and per backend.
 * @example
 * const before = memory().numTensors;
 * tidy(() => zeros([3]).add(1));
 * memory().numTensors === before; // true
 */
export function memory(): MemoryInfo {
  const backends: Record<string, BackendMemory> = {};
  for (const b of startedBackends) backends[b.name] = b.memory();
  return { numTensors: stats.tensors, numBytes: stats.bytes, numStorages: stats.storages, backends };
}

/** @internal */
export function trackNew(t: Tensor): void {
  stats.tensors++;
  const scope = scopes[scopes.length - 1];
  if (scope) scope.push(t);
}

/** @internal */
export function trackDisposed(): void {
  stats.tensors--;
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
 * Runs `fn` in a memory scope: every tensor created inside that is not returned (or kept with
 * {@link keep}) is disposed when `fn` returns or throws. Returned tensors (also inside arrays and
 * plain objects) move to the enclosing scope. `fn` must be synchronous.
 *
 * @example
 * const y = tidy(() => x.mul(2).add(1)); // the intermediate x.mul(2) is freed
 */
export function tidy<T>(fn: () => T): T {
  const scope: Tensor[] = [];
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    scopes.pop();
    for (const t of scope) if (!t.kept) t.dispose();
    throw e;
  }
  scopes.pop();
  if (result instanceof Promise) {
    for (const t of scope) if (!t.kept) t.dispose();
    throw new AxonError('tidy', 'the function returned a Promise; tidy scopes are synchronous (await outside, or dispose explicitly)');
  }
  const keepSet = new Set<Tensor>();
  if (tensorCheck) collect(result, keepSet, tensorCheck);
  const parent = scopes[scopes.length - 1];
  for (const t of scope) {
    if (keepSet.has(t)) {
      if (parent) parent.push(t);
    } else if (!t.kept) {
      t.dispose();
    }
  }
  return result;
}

/**
 * Marks a tensor so that no enclosing `tidy` disposes it (the caller becomes its owner).
 * @example const w = tidy(() => keep(randn([3, 3])));
 */
export function keep<T extends Tensor>(t: T): T {
  t.kept = true;
  return t;
}

/** Number of open `tidy` scopes (for tests and diagnostics). */
export function scopeDepth(): number {
  return scopes.length;
}

// ------------------------------------------------------------------ gradient mode
let gradEnabled = true;

/** Whether ops are being recorded for autograd (false inside {@link noGrad}). */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/**
 * Runs `fn` with gradient recording off (like `torch.no_grad()`).
 * @example const y = noGrad(() => model.forward(x));
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

/** The hook `@axon/autograd` installs: called after an op whose inputs require grad. */
export interface GradRecorder {
  record(op: string, inputs: readonly Tensor[], output: Tensor, attrs: OpAttrs): void;
  backward(root: Tensor, grad: Tensor | undefined): void;
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

/** @internal Records an op for autograd when grad mode is on and an input requires grad. */
export function record(op: string, inputs: readonly Tensor[], output: Tensor, attrs: OpAttrs = {}): Tensor {
  if (gradEnabled && recorder !== null) {
    for (const t of inputs) {
      if (t.requiresGrad) {
        recorder.record(op, inputs, output, attrs);
        // Every input may be needed by the gradient rule: composite ops must not free them.
        for (const u of inputs) u.savedForBackward = true;
        break;
      }
    }
  }
  return output;
}
