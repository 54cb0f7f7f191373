/**
 * Anomaly detection (like `torch.autograd.detect_anomaly`): when on, every op's float32 output is
 * checked for NaN and ±Infinity, and the first op that produced one is named in an
 * {@link AxonError} — in the forward pass, or in the backward pass (where `@axon/autograd` names
 * the forward op whose gradient rule produced it).
 *
 * On backends that read synchronously (WASM) the op that produced the value throws at once. On the
 * others (WebGPU) each check is a small on-device reduction queued in order; `await
 * checkAnomalies()` reads them and throws for the first (`fit` does it after every step). Off by
 * default: checking reads every output and costs a lot.
 */
import { AxonError, fmtShape } from './errors.js';
import { keep, noGrad, setAnomalyHook, type OpAttrs } from './engine.js';
import type { Tensor } from './tensor.js';
import * as ops from './ops/index.js';

let enabled = false;
let checking = false;
/** Where ops run now: null in the forward pass, a description inside a gradient rule. */
let phase: string | null = null;

interface Pending {
  readonly flag: Tensor;
  readonly describe: () => string;
}
const pending: Pending[] = [];

/**
 * Turns anomaly detection on or off for the whole program.
 * @example
 * ```ts
 * setAnomalyDetection(true);
 * tidy(() => tensor([0]).log().mul(0)); // throws: "op 'log' produced a non-finite value"
 * setAnomalyDetection(false);
 * // off: 0 · −Infinity = NaN goes unnoticed
 * Number.isNaN(tidy(() => tensor([0]).log().mul(0)).item()) // true
 * ```
 */
export function setAnomalyDetection(on: boolean): void {
  if (typeof on !== 'boolean') throw new AxonError('setAnomalyDetection', `expects true or false, got ${String(on)}`);
  setEnabled(on);
  if (!on) clearPending();
}

function setEnabled(on: boolean): void {
  enabled = on;
  setAnomalyHook(on ? check : null);
}

/**
 * Whether anomaly detection is on.
 * @example isAnomalyDetectionEnabled() // false
 */
export function isAnomalyDetectionEnabled(): boolean {
  return enabled;
}

/**
 * Runs `fn` with anomaly detection on, then restores the previous setting. `fn` may be async:
 * detection stays on until its promise settles, and the queued checks of asynchronous backends
 * are read (so the promise rejects with the first anomaly). In the backward pass the error names
 * the gradient rule that made the value.
 * @example
 * ```ts
 * import '@axon/autograd';
 * const w = tensor([0, 1]).requireGrad();
 * // sqrt's gradient 0.5/sqrt(w) is +Infinity at 0:
 * detectAnomaly(() => tidy(() => w.sqrt().sum().backward())); // throws: "the gradient of 'sqrt'"
 * isAnomalyDetectionEnabled() // false
 * ```
 */
export function detectAnomaly<T>(fn: () => T): T {
  const prev = enabled;
  setEnabled(true);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    setEnabled(prev);
    throw e;
  }
  if (result instanceof Promise) {
    return result.then(
      async (v: unknown) => {
        try {
          await checkAnomalies();
        } finally {
          setEnabled(prev);
        }
        return v;
      },
      (e: unknown) => {
        setEnabled(prev);
        throw e;
      },
    ) as T;
  }
  // Checks queued on an asynchronous backend stay queued for checkAnomalies().
  setEnabled(prev);
  return result;
}

/**
 * Reads the checks queued on asynchronous backends (in op order) and throws an
 * {@link AxonError} naming the first op that produced a non-finite value. Resolves at once when
 * nothing is queued (always, on synchronous backends, which check at the op).
 * @example
 * ```ts
 * setAnomalyDetection(true);
 * const y = tensor([1, 4]).sqrt(); // on WebGPU the check of each op is queued on the device
 * await checkAnomalies(); // reads them: throws naming the first op that made a NaN or ±Infinity
 * setAnomalyDetection(false);
 * y.dispose();
 * ```
 */
export async function checkAnomalies(): Promise<void> {
  const list = pending.splice(0, pending.length);
  try {
    for (let i = 0; i < list.length; i++) {
      const p = list[i]!;
      const v = (await p.flag.data())[0]!;
      if (v === 0) throw new AxonError('anomaly', p.describe());
    }
  } finally {
    for (const p of list) p.flag.dispose();
  }
}

function clearPending(): void {
  for (const p of pending.splice(0, pending.length)) p.flag.dispose();
}

/**
 * @internal Runs `fn` (a gradient rule) with its ops reported as part of `description`'s backward
 * pass, e.g. "the gradient of 'log'". Used by `@axon/autograd`.
 */
export function inAnomalyPhase<T>(description: string, fn: () => T): T {
  const prev = phase;
  phase = description;
  try {
    return fn();
  } finally {
    phase = prev;
  }
}

/**
 * @internal Throws (synchronous backends) or queues a report (the others) unless every element of
 * `t` is finite, naming `what`; `phase` words where it happened (default the backward pass).
 */
export function assertFinite(t: Tensor, what: string, phase = 'backward pass'): void {
  if (!enabled || t.dtype !== 'float32' || t.size === 0) return;
  inspect(t, () => `${what} is non-finite`, phase);
}

function firstBad(data: ArrayLike<number>): number {
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i]!)) return i;
  return -1;
}

function fmtNonFinite(v: number): string {
  return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
}

/** Checks `t` now (synchronous backends) or queues the check; `describe` words the report. */
function inspect(t: Tensor, describe: () => string, kind: string): void {
  checking = true;
  try {
    if (t.backend.supportsSyncRead) {
      const data = t.dataSync();
      const i = firstBad(data);
      if (i >= 0) throw new AxonError('anomaly', `${describe()}: element ${i} of ${fmtShape(t.shape)} is ${fmtNonFinite(data[i]!)} (${kind})`);
      return;
    }
    const flag = noGrad(() => {
      const d = ops.sub(t, t);
      const ok = ops.eq(d, 0);
      const f = ops.astype(ok, 'float32');
      const m = ops.min(f);
      d.dispose();
      ok.dispose();
      f.dispose();
      return m;
    });
    keep(flag);
    pending.push({ flag, describe: () => `${describe()} (${kind}; found by checkAnomalies)` });
  } finally {
    checking = false;
  }
}

function inputsNote(inputs: readonly Tensor[]): string {
  return inputs.map((x) => `${fmtShape(x.shape)} ${x.dtype}`).join(', ');
}

/** The hook core's `record` calls after every op while detection is on. */
function check(op: string, inputs: readonly Tensor[], output: Tensor, attrs: OpAttrs): void {
  void attrs;
  if (checking || output.dtype !== 'float32' || output.size === 0) return;
  const where = phase;
  try {
    inspect(
      output,
      () => (where ? `${where} produced a non-finite value in its op '${op}' (inputs ${inputsNote(inputs)})` : `op '${op}' produced a non-finite value from inputs ${inputsNote(inputs)}`),
      where ? 'backward pass' : 'forward pass',
    );
  } catch (e) {
    // An input that was already non-finite did not come from an op (they are all checked):
    // say so instead of blaming this op.
    if (e instanceof AxonError && output.backend.supportsSyncRead) {
      const k = inputs.findIndex((x) => x.dtype === 'float32' && x.size > 0 && !x.isDisposed && firstBad(x.dataSync()) >= 0);
      if (k >= 0) {
        output.dispose();
        throw new AxonError('anomaly', `input ${k} of op '${op}' (${fmtShape(inputs[k]!.shape)}) already holds a non-finite value that no checked op produced (it came from data or a tensor made before detection was on)`);
      }
    }
    output.dispose();
    throw e;
  }
}
