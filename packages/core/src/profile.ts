/**
 * The profiler: counts what a piece of code asks the backend to do — kernels launched (backend
 * primitive calls) by kind, bytes they read and wrote, host time per kind, allocations and
 * host↔device transfers. It decorates the backend instance while it runs (the methods are
 * wrapped on the instance and restored afterwards), so it works on every backend and costs
 * nothing when it is not running.
 */
import type { Backend, BackendBuffer, FusedProgram, View } from './backend.js';
import { realize } from './lazy.js';
import { Tensor } from './tensor.js';
import { bytesPerElement } from './dtype.js';
import { AxonError, fmtValue } from './errors.js';
import { getBackend } from './registry.js';

/** What one kind of kernel did while profiled. */
export interface KernelStats {
  /** Launches (backend primitive calls). */
  count: number;
  /** Bytes of the input views the kernels read (elements × element size). */
  bytesRead: number;
  /** Bytes of the outputs they wrote. */
  bytesWritten: number;
  /** Host milliseconds spent in the calls (on WebGPU: recording and submitting, not GPU time). */
  ms: number;
}

/** What a profiled piece of code asked the backend to do. */
export interface ProfileReport {
  /** The profiled backend's name. */
  readonly backend: string;
  /** Kernels launched: every backend primitive call (fill, copy, unary, binary, fused, matmul, …). */
  readonly kernels: number;
  /**
   * Elementwise ops that ran inside fused kernels (kind `'fused'`: one kernel for a chain of
   * elementwise ops, see `setFlags`; and the prologues of `'reduceFused:*'` and epilogues of
   * `'matmulFused'` kernels); `byKind.fused.count` is the number of fused elementwise groups.
   */
  readonly fusedOps: number;
  /** Per kind: `'matmul'`, `'matmulFused'`, `'binary:add'`, `'unary:exp'`, `'reduce:sum'`, `'reduceFused:max'`, `'fill'`, `'fused'`, … */
  readonly byKind: Readonly<Record<string, KernelStats>>;
  /** Bytes all kernels read and wrote. */
  readonly bytesRead: number;
  readonly bytesWritten: number;
  /** Buffers allocated and freed. */
  readonly allocs: number;
  readonly frees: number;
  /** Host → backend uploads (`write`) and backend → host reads (`read`, `readSync`), with bytes. */
  readonly uploads: number;
  readonly uploadBytes: number;
  readonly downloads: number;
  readonly downloadBytes: number;
  /** Wall-clock milliseconds of the profiled code. */
  readonly ms: number;
}

/** A running profile (see {@link startProfile}). */
export interface Profiler {
  /** Stops counting, restores the backend and returns what was counted. Idempotent. */
  stop(): ProfileReport;
}

/** @internal Every backend primitive (the methods a profile or a compile trace wraps). */
export const PRIMITIVES = ['fill', 'copy', 'unary', 'binary', 'where', 'fused', 'reduce', 'matmul', 'reduceFused', 'matmulFused', 'attention', 'attentionBackward', 'sort', 'im2col', 'col2im', 'pool2d', 'pool2dGrad', 'gather', 'scatterAdd', 'random'] as const;
/** Primitives whose first argument names the operation (`unary('exp', …)` → `'unary:exp'`). */
const NAMED = new Set<string>(['unary', 'binary', 'reduce', 'reduceFused', 'pool2d', 'pool2dGrad', 'random']);

const isView = (v: unknown): v is View => v !== null && typeof v === 'object' && 'buf' in v && 'shape' in v && 'strides' in v;
const isBuffer = (v: unknown): v is BackendBuffer => v !== null && typeof v === 'object' && 'size' in v && 'dtype' in v && !('shape' in v);
const viewBytes = (v: View): number => v.shape.reduce((a, b) => a * b, 1) * bytesPerElement(v.dtype);

let active: Backend | null = null;

/**
 * Starts profiling the current backend (or `backend`); {@link Profiler.stop} ends it and returns
 * the report. Use it where the code to measure is not one function, e.g. from a training
 * callback's `onBatchBegin` to its `onBatchEnd`. One profile runs at a time.
 * @example
 * ```ts
 * const a = tensor([[1, 2], [3, 4]]);
 * const p = startProfile();
 * const y = a.matmul(a).relu();
 * realize(y); // results are pending until read: run it before stopping
 * const report = p.stop();
 * report.kernels // 1
 * report.byKind['matmulFused']!.count // 1 (the relu ran as the matmul's epilogue)
 * report.byKind['matmulFused']!.bytesRead // 32 (a, read as both operands)
 * ```
 */
export function startProfile(backend: Backend = getBackend()): Profiler {
  if (active !== null) throw new AxonError('profile', `a profile of backend '${active.name}' is already running; stop it first (profiles do not nest)`);
  if (backend === null || typeof backend !== 'object' || typeof (backend as { alloc?: unknown }).alloc !== 'function') {
    throw new AxonError('profile', `expects a Backend, got ${fmtValue(backend)}`);
  }
  const b = backend as unknown as Record<string, unknown>;
  const byKind: Record<string, KernelStats> = {};
  const totals = { kernels: 0, fusedOps: 0, bytesRead: 0, bytesWritten: 0, allocs: 0, frees: 0, uploads: 0, uploadBytes: 0, downloads: 0, downloadBytes: 0 };
  const saved = new Map<string, { own: boolean; value: unknown }>();
  const wrap = (name: string, make: (orig: (...a: unknown[]) => unknown) => (...a: unknown[]) => unknown): void => {
    const orig = b[name];
    if (typeof orig !== 'function') return;
    saved.set(name, { own: Object.prototype.hasOwnProperty.call(b, name), value: orig });
    const bound = (orig as (...a: unknown[]) => unknown).bind(backend);
    b[name] = make(bound);
  };
  for (const prim of PRIMITIVES) {
    wrap(prim, (orig) => (...args: unknown[]) => {
      const kind = NAMED.has(prim) && typeof args[0] === 'string' ? `${prim}:${args[0]}` : prim;
      let read = 0;
      let written = 0;
      if (prim === 'fused' || prim === 'reduceFused' || prim === 'matmulFused') {
        // fused (program, inputs, consts, outputs); reduceFused (op, program, inputs, consts, shape,
        // axes, out); matmulFused (a, b, program, inputs, consts, outputs)
        const at = prim === 'fused' ? 0 : prim === 'reduceFused' ? 1 : 2;
        const program = args[at] as FusedProgram;
        for (const v of args[at + 1] as View[]) read += viewBytes(v);
        if (prim !== 'reduceFused') for (const o of args[at + 3] as BackendBuffer[]) written += o.size * bytesPerElement(o.dtype);
        totals.fusedOps += program.code.filter((c) => c.op !== 'input' && c.op !== 'const').length;
      }
      // The output is the last buffer or view argument; every other view is an input.
      let outAt = prim === 'fused' || prim === 'matmulFused' ? -2 : -1;
      if (outAt === -1) for (let i = args.length - 1; i >= 0; i--) if (isView(args[i]) || isBuffer(args[i])) { outAt = i; break; }
      args.forEach((a, i) => {
        if (i === outAt) written = isView(a) ? viewBytes(a) : isBuffer(a) ? a.size * bytesPerElement(a.dtype) : 0;
        else if (isView(a)) read += viewBytes(a);
      });
      // attention writes two buffers: out (before the last) and lse (the last); attentionBackward
      // three: dq, dk and dv (the last three)
      if (prim === 'attention' && isBuffer(args[args.length - 2])) written += (args[args.length - 2] as BackendBuffer).size * 4;
      if (prim === 'attentionBackward') for (const o of args.slice(-3, -1)) if (isBuffer(o)) written += o.size * 4;
      const t0 = performance.now();
      try {
        return orig(...args);
      } finally {
        const s = (byKind[kind] ??= { count: 0, bytesRead: 0, bytesWritten: 0, ms: 0 });
        s.count++;
        s.bytesRead += read;
        s.bytesWritten += written;
        s.ms += performance.now() - t0;
        totals.kernels++;
        totals.bytesRead += read;
        totals.bytesWritten += written;
      }
    });
  }
  wrap('alloc', (orig) => (...a) => {
    totals.allocs++;
    return orig(...a);
  });
  wrap('free', (orig) => (...a) => {
    totals.frees++;
    return orig(...a);
  });
  wrap('write', (orig) => (...a) => {
    totals.uploads++;
    const data = a[1] as ArrayBufferView | undefined;
    totals.uploadBytes += data?.byteLength ?? 0;
    return orig(...a);
  });
  // A backend's read may call its own readSync: one transfer, counted once.
  let reading = 0;
  const countedRead = (orig: (...a: unknown[]) => unknown) => (...a: unknown[]): unknown => {
    if (reading === 0) {
      totals.downloads++;
      if (isBuffer(a[0])) totals.downloadBytes += a[0].size * bytesPerElement(a[0].dtype);
    }
    reading++;
    let out: unknown;
    try {
      out = orig(...a);
    } catch (e) {
      reading--;
      throw e;
    }
    if (out !== null && typeof out === 'object' && typeof (out as { then?: unknown }).then === 'function') {
      return (out as Promise<unknown>).finally(() => reading--);
    }
    reading--;
    return out;
  };
  wrap('read', countedRead);
  wrap('readSync', countedRead);
  active = backend;
  const t0 = performance.now();
  let report: ProfileReport | null = null;
  return {
    stop(): ProfileReport {
      if (report !== null) return report;
      for (const [name, { own, value }] of saved) {
        if (own) b[name] = value;
        else delete b[name];
      }
      active = null;
      report = { backend: backend.name, ...totals, byKind, ms: performance.now() - t0 };
      return report;
    },
  };
}

/** What {@link profile} returns: the function's result and the report. */
export interface Profiled<T> {
  readonly result: T;
  readonly report: ProfileReport;
}

/**
 * Runs `fn` and reports what it asked the backend to do: kernels launched (by kind), bytes read
 * and written, host time per kind, allocations and transfers. An `fn` returning a promise is
 * awaited (and `profile` returns a promise). The result is returned, not disposed; tensors in it that
 * are still pending (elementwise results not yet read) run before the profile stops, so they count.
 * @example
 * ```ts
 * const x = tensor([[1, -2], [3, 4]]);
 * const { result, report } = profile(() => tidy(() => x.relu().sum()));
 * result.item() // 8
 * report.kernels // 1
 * Object.keys(report.byKind) // ['reduceFused:sum'] (the relu ran inside the sum)
 * console.log(formatProfile(report));
 * ```
 */
export function profile<T>(fn: () => Promise<T>, backend?: Backend): Promise<Profiled<T>>;
export function profile<T>(fn: () => T, backend?: Backend): Profiled<T>;
export function profile<T>(fn: () => T | Promise<T>, backend?: Backend): Profiled<T> | Promise<Profiled<T>> {
  if (typeof fn !== 'function') throw new AxonError('profile', `expects a function to run, got ${fmtValue(fn)}`);
  const p = startProfile(backend);
  let out: T | Promise<T>;
  try {
    out = fn();
  } catch (e) {
    p.stop();
    throw e;
  }
  if (out !== null && typeof out === 'object' && typeof (out as { then?: unknown }).then === 'function') {
    return (out as Promise<T>).then(
      (result) => {
        runResults(result);
        return { result, report: p.stop() };
      },
      (e: unknown) => {
        p.stop();
        throw e;
      },
    );
  }
  try {
    runResults(out);
  } catch (e) {
    p.stop();
    throw e;
  }
  return { result: out as T, report: p.stop() };
}

/** Runs the pending tensors a profiled function returned, so that their kernels are counted. */
function runResults(x: unknown): void {
  const found: Tensor[] = [];
  const visit = (v: unknown, depth: number): void => {
    if (depth > 4 || v === null || typeof v !== 'object') return;
    if (v instanceof Tensor) {
      if (!v.isDisposed) found.push(v);
    } else if (Array.isArray(v)) v.forEach((e) => visit(e, depth + 1));
    else if (Object.getPrototypeOf(v) === Object.prototype) Object.values(v).forEach((e) => visit(e, depth + 1));
  };
  visit(x, 0);
  if (found.length > 0) realize(...found);
}

const kb = (n: number): string => (n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`);

/**
 * A report as a table: kernels by kind (most launched first) with their bytes and host time, then
 * the totals.
 * @example
 * ```ts
 * const { report } = profile(() => tidy(() => tensor([1, 2]).exp().sum()));
 * formatProfile(report).split('\n')[0] // 'kernel kind            count       read    written    host ms'
 * ```
 */
export function formatProfile(report: ProfileReport): string {
  const rows = Object.entries(report.byKind).sort((a, b) => b[1].count - a[1].count || a[0].localeCompare(b[0]));
  const line = (k: string, c: string, r: string, w: string, ms: string): string => `${k.padEnd(20)} ${c.padStart(7)} ${r.padStart(10)} ${w.padStart(10)} ${ms.padStart(10)}`;
  const out = [line('kernel kind', 'count', 'read', 'written', 'host ms')];
  for (const [k, s] of rows) out.push(line(k, String(s.count), kb(s.bytesRead), kb(s.bytesWritten), s.ms.toFixed(3)));
  out.push(line('total', String(report.kernels), kb(report.bytesRead), kb(report.bytesWritten), rows.reduce((a, [, s]) => a + s.ms, 0).toFixed(3)));
  out.push(`${report.backend}: ${report.kernels} kernels (${report.byKind['fused']?.count ?? 0} fused, running ${report.fusedOps} elementwise ops), ${report.allocs} allocations, ${report.frees} frees, ${report.uploads} uploads (${kb(report.uploadBytes)}), ${report.downloads} reads (${kb(report.downloadBytes)}), ${report.ms.toFixed(2)} ms`);
  return out.join('\n');
}
