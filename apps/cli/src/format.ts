/** Small formatting helpers for CLI output. */
import { getNumThreads, setNumThreads } from '@axon/core';

/** Seconds with sensible precision. */
export function secs(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(2)}s` : `${(ms / 1000).toFixed(1)}s`;
}

/** A percentage with two decimals. */
export function pct(x: number): string {
  return `${(100 * x).toFixed(2)}%`;
}

/** An integer with thousands separators. */
export function int(x: number): string {
  return Math.round(x).toLocaleString('en-US');
}

// Flags are parsed strictly: `Number()` would also accept '0x2', '1e3', ' 5 ' and '' (as 0).
const INT = /^\d+$/;
const DECIMAL = /^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Parses a positive integer flag (decimal digits only). */
export function positiveInt(name: string): (v: string) => number {
  return (v: string) => {
    const n = INT.test(v) ? Number(v) : NaN;
    if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer written in decimal digits, got '${v}'`);
    return n;
  };
}

/** Parses a non-negative integer flag (decimal digits only). */
export function nonNegativeInt(name: string): (v: string) => number {
  return (v: string) => {
    const n = INT.test(v) ? Number(v) : NaN;
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer written in decimal digits, got '${v}'`);
    return n;
  };
}

/** Parses a positive decimal number flag (e.g. 0.001 or 1e-3). */
export function positiveNumber(name: string): (v: string) => number {
  return (v: string) => {
    const n = DECIMAL.test(v) ? Number(v) : NaN;
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive decimal number, got '${v}'`);
    return n;
  };
}

/** Parses a non-negative decimal number flag (e.g. 0, 0.8 or 1e-3). */
export function nonNegativeNumber(name: string): (v: string) => number {
  return (v: string) => {
    const n = DECIMAL.test(v) ? Number(v) : NaN;
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a decimal number ≥ 0, got '${v}'`);
    return n;
  };
}

/** Parses a fraction flag in [0, 1). */
export function fraction(name: string): (v: string) => number {
  return (v: string) => {
    const n = DECIMAL.test(v) ? Number(v) : NaN;
    if (!(n >= 0 && n < 1)) throw new Error(`--${name} must be a decimal number in [0, 1), got '${v}'`);
    return n;
  };
}

/**
 * Parses a thread-count flag (`--threads`): `auto` (one thread per core available) or a positive
 * integer written in decimal digits, within core's bound (`setNumThreads` is tried and the
 * previous setting put back, so the bound is core's own and nothing changes here).
 */
export function threadCount(name: string): (v: string) => number | 'auto' {
  return (v: string) => {
    if (v === 'auto') return 'auto';
    const n = INT.test(v) ? Number(v) : NaN;
    if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`--${name} must be 'auto' or a positive integer written in decimal digits, got '${v}'`);
    const prev = getNumThreads();
    try {
      setNumThreads(n);
    } catch (e) {
      throw new Error(`--${name} ${v}: ${(e as Error).message}`);
    } finally {
      setNumThreads(prev);
    }
    return n;
  };
}

/** A feature key as words: `relaxedSimd` → `relaxed SIMD`. */
const featureName = (k: string): string => k.replace(/([A-Z])/g, ' $1').toLowerCase().replace(/\bsimd\b/g, 'SIMD');

/**
 * A backend's `features` for a log line: `' (SIMD, relaxed SIMD, 2 threads)'` for WASM with its
 * FMA matmul on two threads, `''` when the backend reports none. True flags are named, false ones
 * left out, numbers and strings shown after their name; `threads` (a number) is written last as
 * `1 thread` / `N threads`. Entries named `…Reason` explain another entry and are left out (see
 * {@link featureReasons}).
 */
export function featureList(features: Readonly<Record<string, boolean | number | string>> | undefined): string {
  if (features === undefined) return '';
  const parts = Object.entries(features).flatMap(([k, v]) =>
    k === 'threads' || k.endsWith('Reason') ? [] : v === true ? [featureName(k)] : typeof v === 'number' || typeof v === 'string' ? [`${featureName(k)} ${v}`] : [],
  );
  const threads = features.threads;
  if (typeof threads === 'number') parts.push(`${threads} thread${threads === 1 ? '' : 's'}`);
  return parts.length === 0 ? '' : ` (${parts.join(', ')})`;
}

/**
 * The `…Reason` entries of a backend's `features`, one line each (`threads: auto: 2 cores
 * available` for WASM's `threadsReason`): why a feature has the value {@link featureList} shows.
 */
export function featureReasons(features: Readonly<Record<string, boolean | number | string>> | undefined): string[] {
  if (features === undefined) return [];
  return Object.entries(features).flatMap(([k, v]) => (k.endsWith('Reason') && k.length > 'Reason'.length && typeof v === 'string' && v !== '' ? [`${featureName(k.slice(0, -'Reason'.length))}: ${v}`] : []));
}
