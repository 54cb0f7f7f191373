/**
 * `compile(fn)`: trace a function of tensors once per input signature, then replay what it asked
 * the backend to do — the kernels (fused ones included), allocations, uploads and frees — without
 * running its JavaScript again: no op bookkeeping, no graph building, no autograd nodes. The way
 * `jax.jit` works, at the level of Axon's backend interface.
 *
 * The traced function must be a function of its arguments: every tensor it reads is an argument
 * (numbers are passed as arguments too, and become rank-0 float32 inputs, so a learning rate that
 * changes per call does not retrace), and what it computes is returned. Tensors it creates inside
 * (constants, `ones`, scalars) are part of the trace. Random draws from the global stream
 * (dropout, `rand` without a seed) draw fresh numbers on every call, exactly as the uncompiled
 * function would. Side effects in JavaScript (logging, `p.grad = …`, counters) happen only while
 * tracing. Results carry no autograd history: differentiate inside the function.
 */
import type { Backend, BackendBuffer, View } from './backend.js';
import type { DType, TypedArray } from './dtype.js';
import { adoptBuffer, allocBuffer, isGradEnabled, noteBackend, type Storage, tidy } from './engine.js';
import { AxonError, fmtValue } from './errors.js';
import { isAnomalyDetectionEnabled } from './anomaly.js';
import { compileOn, fusionOn, realize } from './lazy.js';
import { drawGlobalStream, getRngState } from './ops/creation.js';
import { getBackend } from './registry.js';
import { Tensor } from './tensor.js';
import { setValidationHook } from './checks.js';
import { PRIMITIVES } from './profile.js';

/** What a compiled function accepts: tensors, and numbers (uploaded as rank-0 float32 tensors). */
export type CompiledArg = Tensor | number;

/** A compiled function: call it like the original; `traces` says how many signatures it traced. */
export interface Compiled<A extends CompiledArg[], R extends Tensor | Tensor[]> {
  (...args: A): R;
  /** Signatures traced so far (one per distinct list of argument shapes, dtypes and layouts). */
  readonly traces: number;
  /** With `fallback`: why the function runs uncompiled (null while it compiles). */
  readonly reason: string | null;
}

/** Options of {@link compile}. */
export interface CompileOptions {
  /** A name for error messages. */
  readonly name?: string;
  /** Most signatures kept (oldest dropped first); default 8. */
  readonly maxTraces?: number;
  /**
   * When the function turns out not to be compilable (it reads values on the host, reads a
   * tensor that is not an argument, keeps tensors it does not return), return what it computed
   * and run it uncompiled from then on (`reason` says why), instead of throwing. Default false.
   */
  readonly fallback?: boolean;
}

/** A buffer as the tape refers to it. */
type Ref = { readonly k: 'in'; readonly i: number } | { readonly k: 'tmp'; readonly i: number };

type Step =
  | { readonly k: 'alloc'; readonly id: number; readonly dtype: DType; readonly size: number }
  | { readonly k: 'free'; readonly id: number }
  | { readonly k: 'write'; readonly id: number; readonly data: TypedArray }
  | { readonly k: 'call'; readonly method: string; readonly draws?: number }
  | { readonly k: 'check'; readonly ref: Ref; readonly offset: number; readonly size: number; readonly check: (v: TypedArray) => void };

/** An argument of a recorded call with buffers replaced by refs. */
type Slot = { readonly ref: Ref } | { readonly view: Omit<View, 'buf'>; readonly ref: Ref } | { readonly list: readonly Slot[] } | { readonly value: unknown };

/** Builds one argument of a replayed call from the replay's argument and temporary buffers. */
type Maker = (inBufs: readonly BackendBuffer[], tmp: readonly (BackendBuffer | null)[]) => unknown;

interface Trace {
  readonly backend: Backend;
  readonly steps: readonly Step[];
  readonly slots: readonly (readonly Slot[])[];
  /** Each call's argument makers (from `slots`, made on the first replay). */
  makers?: readonly (readonly Maker[])[];
  readonly tmpCount: number;
  readonly outputs: readonly { readonly ref: Ref; readonly shape: readonly number[]; readonly strides: readonly number[]; readonly offset: number; readonly dtype: DType }[];
  readonly single: boolean;
}


let tracing = false;

/**
 * Compiles `fn`: the first call with a given signature (argument shapes, dtypes, layouts) runs it
 * and records what it asks of the backend; later calls with that signature replay the recording
 * — the kernels, allocations and uploads — without running `fn`'s JavaScript. `fit` uses it for
 * the training step's forward and backward pass. What a backend does inside one of its primitives
 * (its own kernels, temporaries and fills) is part of that call: a replay issues the call again,
 * and the call does it again.
 * @example
 * ```ts
 * const w = tensor([[1, 2], [3, 4]]);
 * const f = compile((x: Tensor, w: Tensor, scale: number) => tidy(() => x.matmul(w).relu().mul(scale)));
 * f(tensor([[1, -1]]), w, 2) // [[0, 0]], traced
 * f(tensor([[1, 1]]), w, 0.5) // [[2, 3]], replayed
 * f.traces // 1
 * ```
 */
export function compile<A extends CompiledArg[], R extends Tensor | Tensor[]>(fn: (...args: A) => R, opts: CompileOptions = {}): Compiled<A, R> {
  if (typeof fn !== 'function') throw new AxonError('compile', `expects a function of tensors, got ${fmtValue(fn)}`);
  if (opts === null || typeof opts !== 'object') throw new AxonError('compile', `options must be an object, got ${fmtValue(opts)}`);
  const name = opts.name ?? (fn.name || 'fn');
  const maxTraces = opts.maxTraces ?? 8;
  const traces = new Map<string, Trace>();
  let reason: string | null = null;
  const compiled = ((...args: A): R => {
    // anomaly detection reads every value: run the function itself
    if (isAnomalyDetectionEnabled() || tracing || reason !== null || !compileOn()) return fn(...args);
    const backend = backendOfArgs(name, args);
    const key = signature(backend, args);
    const trace = traces.get(key);
    if (trace) return replay(trace, args) as R;
    const { result, trace: t, problem } = record(name, backend, fn, args, opts.fallback === true);
    if (t === null) {
      reason = problem;
      return result;
    }
    if (traces.size >= maxTraces) traces.delete(traces.keys().next().value!);
    traces.set(key, t);
    return result;
  }) as Compiled<A, R>;
  Object.defineProperty(compiled, 'traces', { get: () => traces.size });
  Object.defineProperty(compiled, 'reason', { get: () => reason });
  return compiled;
}

function backendOfArgs(name: string, args: readonly CompiledArg[]): Backend {
  let b: Backend | null = null;
  args.forEach((a, i) => {
    if (typeof a === 'number') return;
    if (!(a instanceof Tensor)) throw new AxonError('compile', `${name}: argument ${i} must be a Tensor or a number, got ${fmtValue(a)}`);
    a.assertLive('compile');
    if (b === null) b = a.backend;
    else if (a.backend !== b) throw new AxonError('compile', `${name}: arguments live on different backends ('${b.name}' and '${a.backend.name}')`);
  });
  const out = b ?? getBackend();
  noteBackend(out);
  return out;
}

/** Shapes, dtypes, layouts and storage sharing of the arguments, and the grad mode. */
function signature(backend: Backend, args: readonly CompiledArg[]): string {
  const firstOf = new Map<unknown, number>();
  const parts = args.map((a, i) => {
    if (typeof a === 'number') return 'n';
    const s = a.storage;
    if (!firstOf.has(s)) firstOf.set(s, i);
    return `${a.dtype}[${a.shape.join(',')}]/${a.strides.join(',')}+${a.offset}#${firstOf.get(s)}${a.requiresGrad ? 'g' : ''}`;
  });
  // the fusion flag changes which kernels a trace records
  return `${backend.name}|${isGradEnabled() ? 'G' : 'N'}|${fusionOn() ? 'F' : 'E'}|${parts.join(';')}`;
}

/** Rank-0 float32 tensors for number arguments (uploaded outside the trace: they are inputs). */
function tensorArgs(backend: Backend, args: readonly CompiledArg[]): { ts: Tensor[]; made: Tensor[] } {
  const made: Tensor[] = [];
  const ts = args.map((a) => {
    if (typeof a !== 'number') return a;
    const buf = allocBuffer(backend, 'float32', 1);
    backend.write(buf, Float32Array.of(a));
    const t = new Tensor(adoptBuffer(backend, buf), [], 'float32');
    made.push(t);
    return t;
  });
  return { ts, made };
}

function record<A extends CompiledArg[], R extends Tensor | Tensor[]>(name: string, backend: Backend, fn: (...args: A) => R, args: A, fallback: boolean): { result: R; trace: Trace | null; problem: string | null } {
  const { ts, made } = tensorArgs(backend, args);
  const refs = new Map<BackendBuffer, Ref>();
  ts.forEach((t, i) => {
    const buf = t.storage.buf; // pending arguments run now, outside the trace
    if (!refs.has(buf)) refs.set(buf, { k: 'in', i });
  });
  const steps: Step[] = [];
  const slots: Slot[][] = [];
  let tmp = 0;
  const live = new Set<number>();
  let problem: string | null = null;
  const b = backend as unknown as Record<string, unknown>;
  const saved = new Map<string, { own: boolean; value: unknown }>();
  const wrap = (m: string, make: (orig: (...a: unknown[]) => unknown) => (...a: unknown[]) => unknown): void => {
    const orig = b[m];
    if (typeof orig !== 'function') return;
    saved.set(m, { own: Object.prototype.hasOwnProperty.call(b, m), value: orig });
    b[m] = make((orig as (...a: unknown[]) => unknown).bind(backend));
  };
  const slotOf = (v: unknown): Slot => {
    if (Array.isArray(v)) return { list: v.map(slotOf) };
    if (v !== null && typeof v === 'object') {
      if ('buf' in v && 'shape' in v && 'strides' in v) {
        const view = v as View;
        const ref = refs.get(view.buf);
        if (!ref) throw new Error('external');
        return { view: { dtype: view.dtype, shape: view.shape, strides: view.strides, offset: view.offset }, ref };
      }
      if ('size' in v && 'dtype' in v) {
        const ref = refs.get(v as BackendBuffer);
        if (!ref) throw new Error('external');
        return { ref };
      }
    }
    return { value: v };
  };
  // A backend may call its own primitives, allocate, write and free inside a primitive (WebGPU's
  // scatterAdd fills its output before its atomic adds; a copy within one buffer stages through a
  // temporary): replaying the outer call does all of that again, so only calls made by core (depth
  // 0) are recorded. Recording the inner ones too would replay them after the outer call (its fill
  // wiping the sums) and see the backend's own temporaries as captured tensors.
  let depth = 0;
  const inner = (orig: (...a: unknown[]) => unknown, a: unknown[]): unknown => {
    depth++;
    try {
      return orig(...a);
    } finally {
      depth--;
    }
  };
  for (const m of PRIMITIVES) {
    wrap(m, (orig) => (...a) => {
      if (depth > 0) return orig(...a);
      if (problem === null) {
        try {
          const s = a.map(slotOf);
          let draws: number | undefined;
          if (m === 'random') {
            // a draw from the global stream (the stream has just moved past it): replay draws anew
            const st = getRngState();
            const kind = a[0] as string;
            const n = (a[5] as BackendBuffer).size * (kind === 'normal' ? 2 : 1);
            if (a[1] === st.key && ((a[2] as number) + n) % 2 ** 32 === st.counter) draws = n;
            // a draw with its own seed may use a different seed on the next call (e.g. seed + calls)
            else problem ??= 'it draws random numbers with an explicit seed; draw from the global stream (setSeed) instead';
          }
          slots.push(s);
          steps.push({ k: 'call', method: m, ...(draws !== undefined ? { draws } : {}) });
        } catch {
          problem = `it reads a tensor that is not one of its arguments (in ${m}); pass every tensor it reads as an argument`;
        }
      }
      return inner(orig, a);
    });
  }
  wrap('alloc', (orig) => (...a) => {
    if (depth > 0) return orig(...a);
    const buf = orig(...a) as BackendBuffer;
    const id = tmp++;
    refs.set(buf, { k: 'tmp', i: id });
    live.add(id);
    steps.push({ k: 'alloc', id, dtype: a[0] as DType, size: a[1] as number });
    return buf;
  });
  wrap('free', (orig) => (...a) => {
    if (depth > 0) return orig(...a);
    const ref = refs.get(a[0] as BackendBuffer);
    if (ref?.k === 'tmp') {
      steps.push({ k: 'free', id: ref.i });
      live.delete(ref.i);
      refs.delete(a[0] as BackendBuffer);
    }
    return orig(...a);
  });
  wrap('write', (orig) => (...a) => {
    if (depth > 0) return orig(...a);
    const ref = refs.get(a[0] as BackendBuffer);
    if (ref?.k === 'tmp') steps.push({ k: 'write', id: ref.i, data: (a[1] as TypedArray).slice() });
    else if (problem === null) problem = 'it writes into a tensor it did not create';
    return orig(...a);
  });
  let checking = false;
  const noRead = (orig: (...a: unknown[]) => unknown) => (...a: unknown[]): unknown => {
    if (!checking && depth === 0) problem ??= 'it reads tensor values on the host (data(), item(), …); read the results after calling it';
    return orig(...a);
  };
  // reads that only validate (gather's index range): recorded, and run again by every replay
  setValidationHook((t, check) => {
    const buf = t.storage.buf;
    const ref = refs.get(buf);
    if (ref === undefined || !t.isContiguous) problem ??= 'it validates a tensor that is not one of its arguments';
    else steps.push({ k: 'check', ref, offset: t.offset, size: t.size, check });
    checking = true;
    try {
      check(t.dataSync());
    } finally {
      checking = false;
    }
  });
  wrap('read', noRead);
  wrap('readSync', noRead);
  tracing = true;
  let result: R;
  const restore = (): void => {
    tracing = false;
    setValidationHook(null);
    for (const [m, { own, value }] of saved) {
      if (own) b[m] = value;
      else delete b[m];
    }
  };
  try {
    result = tidy(() => {
      const r = fn(...(ts as A));
      const outs = Array.isArray(r) ? r : [r];
      if (outs.length === 0 || !outs.every((t) => t instanceof Tensor && !t.isDisposed)) {
        throw new AxonError('compile', `${name} must return a Tensor or an array of Tensors, got ${fmtValue(r)}`);
      }
      for (const t of outs) if (t.backend !== backend) throw new AxonError('compile', `${name} returned a tensor on backend '${t.backend.name}', its arguments are on '${backend.name}'`);
      realize(...outs);
      for (const t of outs) void t.storage.buf;
      return r;
    });
  } catch (e) {
    restore();
    for (const t of made) t.dispose();
    throw e;
  }
  restore();
  for (const t of made) t.dispose();
  const outs = Array.isArray(result) ? result : [result];
  const outputs = outs.map((t) => {
    const ref = refs.get(t.storage.buf);
    if (!ref) problem ??= 'it returns a tensor it did not compute from its arguments';
    return { ref: ref ?? { k: 'in', i: 0 }, shape: t.shape, strides: t.strides, offset: t.offset, dtype: t.dtype };
  });
  const outIds = new Set(outputs.filter((o) => o.ref.k === 'tmp').map((o) => o.ref.i));
  for (const id of live) if (!outIds.has(id)) problem ??= 'it leaves tensors alive that it does not return (kept tensors, or .grad set inside): return them instead';
  if (problem !== null) {
    if (fallback) return { result, trace: null, problem };
    for (const t of outs) t.dispose();
    throw new AxonError('compile', `${name} cannot be compiled: ${problem}`);
  }
  // results carry no history: detach them as replays will be
  const detached = outs.map((t) => {
    if (!t.requiresGrad && t.gradNode === null) return t;
    const d = t.detach();
    t.dispose();
    return d;
  });
  return { result: (Array.isArray(result) ? detached : detached[0]) as R, trace: { backend, steps, slots, tmpCount: tmp, outputs, single: !Array.isArray(result) }, problem: null };
}

/**
 * A slot as a function of the replay's buffers, decided once per trace instead of per replay (the
 * per-call JavaScript of a replayed step is what compile saves; views come out as fixed-shape
 * objects, which keeps the backends' property reads monomorphic).
 */
function makerOf(s: Slot): Maker {
  if ('value' in s) {
    const v = s.value;
    return () => v;
  }
  if ('list' in s) {
    const ms = s.list.map(makerOf);
    return (i, t) => ms.map((m) => m(i, t));
  }
  const { k, i: at } = s.ref;
  if ('view' in s) {
    const { dtype, shape, strides, offset } = s.view;
    return k === 'in' ? (i) => ({ buf: i[at]!, dtype, shape, strides, offset }) : (_, t) => ({ buf: t[at]!, dtype, shape, strides, offset });
  }
  return k === 'in' ? (i) => i[at]! : (_, t) => t[at]!;
}

function replay(t: Trace, args: readonly CompiledArg[]): Tensor | Tensor[] {
  const backend = t.backend;
  const { ts, made } = tensorArgs(backend, args);
  const inBufs = ts.map((x) => x.storage.buf);
  const tmp: (BackendBuffer | null)[] = new Array(t.tmpCount).fill(null);
  const bufOf = (r: Ref): BackendBuffer => (r.k === 'in' ? inBufs[r.i]! : tmp[r.i]!);
  const makers = (t.makers ??= t.slots.map((ss) => ss.map(makerOf)));
  const b = backend as unknown as Record<string, (...a: unknown[]) => unknown>;
  let call = 0;
  try {
    for (const st of t.steps) {
      if (st.k === 'alloc') tmp[st.id] = allocBuffer(backend, st.dtype, st.size);
      else if (st.k === 'free') {
        backend.free(tmp[st.id]!);
        tmp[st.id] = null;
      } else if (st.k === 'write') backend.write(tmp[st.id]!, st.data);
      else if (st.k === 'check') {
        const all = backend.readSync(bufOf(st.ref));
        st.check(all.subarray(st.offset, st.offset + st.size));
      } else {
        const ms = makers[call++]!;
        const a = new Array<unknown>(ms.length);
        for (let j = 0; j < ms.length; j++) a[j] = ms[j]!(inBufs, tmp);
        if (st.draws !== undefined) [a[1], a[2]] = drawGlobalStream(st.draws);
        b[st.method]!(...a);
      }
    }
  } catch (e) {
    for (const buf of tmp) if (buf !== null) backend.free(buf);
    for (const x of made) x.dispose();
    throw e;
  }
  const adopted = new Map<number, Storage>();
  const outs = t.outputs.map((o) => {
    if (o.ref.k === 'in') return new Tensor(ts[o.ref.i]!.storage, o.shape, o.dtype, o.strides, o.offset);
    let s = adopted.get(o.ref.i);
    if (s === undefined) adopted.set(o.ref.i, (s = adoptBuffer(backend, bufOf(o.ref))));
    return new Tensor(s, o.shape, o.dtype, o.strides, o.offset);
  });
  for (const i of adopted.keys()) tmp[i] = null;
  for (const x of made) x.dispose();
  return t.single ? outs[0]! : outs;
}
