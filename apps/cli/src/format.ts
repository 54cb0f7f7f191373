/** Small formatting helpers for CLI output. */

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

/** Parses a fraction flag in [0, 1). */
export function fraction(name: string): (v: string) => number {
  return (v: string) => {
    const n = DECIMAL.test(v) ? Number(v) : NaN;
    if (!(n >= 0 && n < 1)) throw new Error(`--${name} must be a decimal number in [0, 1), got '${v}'`);
    return n;
  };
}

/**
 * A backend's `features` for a log line: `' (SIMD, relaxed SIMD)'` for WASM with its FMA matmul,
 * `''` when the backend reports none. True flags are named, false ones left out, numbers shown.
 */
export function featureList(features: Readonly<Record<string, boolean | number | string>> | undefined): string {
  if (features === undefined) return '';
  const name = (k: string): string => k.replace(/([A-Z])/g, ' $1').toLowerCase().replace(/\bsimd\b/g, 'SIMD');
  const parts = Object.entries(features).flatMap(([k, v]) => (v === true ? [name(k)] : typeof v === 'number' || typeof v === 'string' ? [`${name(k)} ${v}`] : []));
  return parts.length === 0 ? '' : ` (${parts.join(', ')})`;
}
