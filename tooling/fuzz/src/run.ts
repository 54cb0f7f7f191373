/**
 * Runs one fuzz case and classifies what happened. A case passes when the call throws an
 * AxonError, or returns a valid result (live tensors with sane shapes, or what the case's own
 * `valid` predicate accepts) — and, either way, leaks no tensor or byte, finishes within the time
 * limit and does not make the backend hold more than the allocation bound.
 */
import { AxonError, getBackend, isTensor, memory, type Tensor } from '@axon/core';

/** What one case does. */
export interface FuzzCase {
  /** Op family (for the counts), e.g. 'elementwise', 'layers', 'safetensors'. */
  readonly family: string;
  /** The function or file kind under test, e.g. 'matmul'. */
  readonly name: string;
  /** What was made bad, e.g. 'arg 1 ← NaN'. */
  readonly mutation: string;
  /** The call (sync or async). */
  readonly call: () => unknown;
  /** A returned value this predicate accepts counts as a documented valid result. */
  readonly valid?: (result: unknown) => boolean;
  /** The allocation bound for this case in bytes (default {@link LIMITS.allocBytes}). */
  readonly allocBytes?: number;
}

/** The outcome classes; only 'rejected' and 'accepted' pass. */
export type Outcome = 'rejected' | 'accepted' | 'crash' | 'invalid' | 'leak' | 'hang' | 'alloc';

/** One case's result. */
export interface CaseResult {
  readonly family: string;
  readonly name: string;
  readonly mutation: string;
  readonly outcome: Outcome;
  readonly detail: string;
  readonly ms: number;
}

/** Limits every case must stay within. */
export const LIMITS = {
  /** A case taking longer than this is a hang. */
  hangMs: 5000,
  /** …plus this much per GiB of a valid result it returns (building a 4 GiB tensor takes seconds). */
  msPerGiB: 10_000,
  /** The backend may hold at most this many more bytes during a case (API cases). */
  allocBytes: 64 * 2 ** 20,
} as const;

/** Bytes the current backend holds (live plus pooled), a proxy for its peak (pools only grow). */
function heldBytes(): number {
  const m = getBackend().memory();
  return m.bytes + (m.pooledBytes ?? 0);
}

/**
 * Host bytes in ArrayBuffers. Buffers a failed call dropped still count until the next garbage
 * collection, so the growth over a call approximates what the call allocated at its peak.
 */
function hostBytes(): number {
  return typeof process !== 'undefined' ? process.memoryUsage().arrayBuffers : 0;
}

/** Disposes every tensor (or disposable) found in `v`; returns how many tensors it found. */
function release(v: unknown, depth = 0): number {
  if (depth > 4 || v === null || typeof v !== 'object') return 0;
  if (isTensor(v)) {
    v.dispose();
    return 1;
  }
  if (Array.isArray(v)) return v.reduce((n: number, x) => n + release(x, depth + 1), 0);
  const d = (v as { dispose?: unknown }).dispose;
  if (typeof d === 'function') {
    (d as () => void).call(v);
    return 0;
  }
  if (Object.getPrototypeOf(v) === Object.prototype) return Object.values(v).reduce((n: number, x) => n + release(x, depth + 1), 0);
  return 0;
}

/** Bytes of the tensors in a result. */
function tensorBytes(v: unknown, depth = 0): number {
  if (isTensor(v)) return (v as Tensor).size * ((v as Tensor).dtype === 'bool' ? 1 : 4);
  if (Array.isArray(v) && depth < 2) return v.reduce((n: number, x) => n + tensorBytes(x, depth + 1), 0);
  return 0;
}

/** Sane tensors: live, integer non-negative dims, at most 2^31-1 elements (core's limit). */
function validTensors(v: unknown, depth = 0): boolean {
  if (isTensor(v)) {
    const t = v as Tensor;
    return !t.isDisposed && t.shape.every((d) => Number.isInteger(d) && d >= 0) && t.size <= 2 ** 31 - 1;
  }
  if (Array.isArray(v) && depth < 2) return v.every((x) => validTensors(x, depth + 1));
  return false;
}

function describeError(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message.split('\n')[0]!.slice(0, 300)}`;
  return `thrown non-Error ${typeof e}: ${String(e).slice(0, 200)}`;
}

/** Runs `c` and classifies it. */
export async function runCase(c: FuzzCase): Promise<CaseResult> {
  const before = memory();
  const held0 = heldBytes();
  const host0 = hostBytes();
  const t0 = performance.now();
  let outcome: Outcome;
  let detail = '';
  let result: unknown;
  let threw = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const r = c.call();
    result = r instanceof Promise ? await Promise.race([r, new Promise((_, rej) => (timer = setTimeout(() => rej(new HangError()), LIMITS.hangMs)))]) : r;
  } catch (e) {
    threw = true;
    result = e;
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
  const ms = performance.now() - t0;
  if (threw) {
    if (result instanceof HangError) {
      outcome = 'hang';
      detail = `no answer after ${LIMITS.hangMs} ms`;
    } else if (result instanceof AxonError) {
      outcome = 'rejected';
      detail = result.message.split('\n')[0]!.slice(0, 200);
      if (!/\w/.test(result.op) || result.message.length < result.op.length + 10) {
        outcome = 'invalid';
        detail = `an AxonError without an explanation: ${result.message}`;
      }
    } else {
      outcome = 'crash';
      detail = describeError(result);
    }
  } else {
    const ok = c.valid ? c.valid(result) : validTensors(result);
    outcome = ok ? 'accepted' : 'invalid';
    detail = ok ? 'valid result' : `returned an invalid result: ${describeValue(result)}`;
  }
  const heldPeak = heldBytes();
  const hostPeak = hostBytes();
  // A call may allocate what it returns (a valid but large tensor, and its host data) on top of the
  // bound, and take time in proportion to it.
  const resultBytes = threw ? 0 : tensorBytes(result);
  if (!threw) release(result);
  const after = memory();
  if (outcome === 'rejected' || outcome === 'accepted') {
    if (after.numTensors !== before.numTensors || after.numBytes !== before.numBytes) {
      detail = `${after.numTensors - before.numTensors} tensors / ${after.numBytes - before.numBytes} bytes leaked (${outcome}: ${detail})`;
      outcome = 'leak';
    } else if (ms > LIMITS.hangMs + (LIMITS.msPerGiB * resultBytes) / 2 ** 30) {
      detail = `took ${ms.toFixed(0)} ms (${outcome}: ${detail})`;
      outcome = 'hang';
    } else if (Math.max(heldPeak - held0, hostPeak - host0) > (c.allocBytes ?? LIMITS.allocBytes) + 2 * resultBytes) {
      detail = `allocated ${heldPeak - held0} bytes on the backend and ${hostPeak - host0} on the host, above the ${c.allocBytes ?? LIMITS.allocBytes}-byte bound plus twice the ${resultBytes} bytes of the result (${outcome}: ${detail})`;
      outcome = 'alloc';
    }
  }
  return { family: c.family, name: c.name, mutation: c.mutation, outcome, detail, ms };
}

class HangError extends Error {}

/** A short description of any value, for reports. */
export function describeValue(v: unknown): string {
  if (isTensor(v)) return `Tensor [${(v as Tensor).shape.join(',')}] ${(v as Tensor).dtype}${(v as Tensor).isDisposed ? ' (disposed)' : ''}`;
  if (Array.isArray(v)) return `[${v.slice(0, 4).map(describeValue).join(', ')}${v.length > 4 ? `, … (${v.length})` : ''}]`;
  if (typeof v === 'symbol' || typeof v === 'bigint') return `${typeof v} ${String(v)}`;
  if (typeof v === 'function') return 'a function';
  if (v === null || v === undefined) return String(v);
  if (typeof v === 'object') return `{${Object.keys(v).slice(0, 4).join(', ')}}`;
  return JSON.stringify(v) ?? String(v);
}

/** Counts by outcome and family, and the failures, for the report. */
export interface Summary {
  readonly total: number;
  readonly byOutcome: Readonly<Record<string, number>>;
  readonly byFamily: Readonly<Record<string, { rejected: number; accepted: number; failed: number }>>;
  /** Per function or file kind: outcome counts and a few distinct messages (to see what was exercised). */
  readonly byName: Readonly<Record<string, { rejected: number; accepted: number; failed: number; samples: string[] }>>;
  readonly failures: readonly CaseResult[];
}

/** Summarises results. */
export function summarize(results: readonly CaseResult[]): Summary {
  const byOutcome: Record<string, number> = {};
  const byFamily: Record<string, { rejected: number; accepted: number; failed: number }> = {};
  const failures: CaseResult[] = [];
  const byName: Record<string, { rejected: number; accepted: number; failed: number; samples: string[] }> = {};
  for (const r of results) {
    const n = (byName[`${r.family}/${r.name}`] ??= { rejected: 0, accepted: 0, failed: 0, samples: [] });
    if (r.outcome === 'rejected') n.rejected++;
    else if (r.outcome === 'accepted') n.accepted++;
    else n.failed++;
    const sample = `${r.mutation} → ${r.detail}`.slice(0, 240);
    if (n.samples.length < 4 && !n.samples.some((x) => x.split(' → ')[1]?.slice(0, 40) === sample.split(' → ')[1]?.slice(0, 40))) n.samples.push(sample);
    byOutcome[r.outcome] = (byOutcome[r.outcome] ?? 0) + 1;
    const f = (byFamily[r.family] ??= { rejected: 0, accepted: 0, failed: 0 });
    if (r.outcome === 'rejected') f.rejected++;
    else if (r.outcome === 'accepted') f.accepted++;
    else {
      f.failed++;
      failures.push(r);
    }
  }
  return { total: results.length, byOutcome, byFamily, byName, failures };
}

/** A readable report of failures (the first `n`). */
export function formatFailures(s: Summary, seed: number, n = 25): string {
  const lines = s.failures.slice(0, n).map((f) => `  [${f.outcome}] ${f.family}/${f.name} — ${f.mutation}: ${f.detail}`);
  return `${s.failures.length} of ${s.total} cases failed (seed ${seed}; reproduce with AXON_FUZZ_SEED=${seed}):\n${lines.join('\n')}${s.failures.length > n ? `\n  … and ${s.failures.length - n} more` : ''}`;
}
