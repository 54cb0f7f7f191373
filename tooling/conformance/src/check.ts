/** Comparisons against float64 references, with failure messages that say how to reproduce. */
import type { DType, TypedArray } from '@axon/core';
import { bound, type Tolerance } from './tolerances.js';

/** What a failure message names. */
export interface Ctx {
  readonly backend: string;
  readonly seed: number;
  /** The op (and variant) under test. */
  readonly op: string;
  /** Inputs: shapes, dtypes, layouts, options. */
  readonly inputs?: string;
}

/** An output read back from the backend. */
export interface Result {
  readonly data: TypedArray;
  readonly shape: readonly number[];
  readonly dtype: DType;
}

/** A float64 reference: values, and for accumulations Σ|terms| and the term count per element. */
export interface Expected {
  readonly shape: readonly number[];
  readonly values: Float64Array;
  readonly mag?: Float64Array;
  readonly n?: number | Float64Array;
}

/** Thrown by the suite's checks (an Error, so vitest reports it as a failure). */
export class ConformanceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConformanceError';
  }
}

/** `[2,3]` */
export function fmt(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

/** Multi-index of flat index `i` in `shape`. */
export function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    const s = shape[d]!;
    idx[d] = s === 0 ? 0 : i % s;
    i = s === 0 ? 0 : Math.floor(i / s);
  }
  return idx;
}

function where(ctx: Ctx): string {
  return `[${ctx.backend}] ${ctx.op}${ctx.inputs ? ` — inputs ${ctx.inputs}` : ''}`;
}

/** The reproduction line every failure ends with. */
export function reproLine(ctx: Pick<Ctx, 'seed'>): string {
  return `seed ${ctx.seed} (reproduce: AXON_SEED=${ctx.seed} pnpm --filter @axon/conformance test)`;
}

let collector: string[] | null = null;

/**
 * Runs `fn` collecting value-check failures (from {@link checkClose}) instead of stopping at the
 * first, then throws one ConformanceError listing them all (the first 12 in full).
 */
export async function collecting(fn: () => unknown): Promise<void> {
  const prev = collector;
  const mine: string[] = [];
  collector = mine;
  let thrown: unknown = null;
  try {
    await fn();
  } catch (e) {
    thrown = e;
  } finally {
    collector = prev;
  }
  if (mine.length === 0) {
    if (thrown !== null) throw thrown;
    return;
  }
  if (thrown !== null) mine.push(`then the test stopped on: ${thrown instanceof Error ? `${thrown.name}: ${thrown.message}` : String(thrown)}`);
  if (mine.length === 1) throw new ConformanceError(mine[0]!);
  const shown = mine.slice(0, 12).map((m, i) => `(${i + 1}) ${m}`);
  throw new ConformanceError(`${mine.length} checks failed in this test:\n\n${shown.join('\n\n')}${mine.length > 12 ? `\n\n… and ${mine.length - 12} more` : ''}`);
}

/** Records a failed check (inside {@link collecting}) or throws it. */
export function report(ctx: Ctx, message: string): void {
  const text = `${where(ctx)}\n  ${message}\n  ${reproLine(ctx)}`;
  if (collector) collector.push(text);
  else throw new ConformanceError(text);
}

/** Throws a ConformanceError naming the op, inputs and seed. */
export function fail(ctx: Ctx, message: string): never {
  throw new ConformanceError(`${where(ctx)}\n  ${message}\n  ${reproLine(ctx)}`);
}

/** Asserts `cond`, failing with `message` (evaluated lazily). */
export function ensure(cond: unknown, ctx: Ctx, message: string | (() => string)): asserts cond {
  if (!cond) fail(ctx, typeof message === 'string' ? message : message());
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function fmtNum(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? 'Infinity' : '-Infinity';
  if (Object.is(v, -0)) return '-0';
  return Number.isInteger(v) ? String(v) : v.toPrecision(9);
}

/** Sees every result the suite checks (see {@link observeResults}). @internal */
export type ResultObserver = (got: Result, ctx: Ctx) => void;

let observer: ResultObserver | null = null;

/**
 * Installs `o` (or removes it with `null`) as the function that sees every result a check
 * compares, before it is compared, and every analytic gradient the gradient group's `gradcheck`
 * cases compute; returns the previous one. The threads test records them to check that results
 * are bit-identical across thread counts. An observer may call {@link report} to fail the test.
 * @internal
 */
export function observeResults(o: ResultObserver | null): ResultObserver | null {
  const prev = observer;
  observer = o;
  return prev;
}

/** Whether an observer is installed (checks that cost extra work run only then). @internal */
export function observing(): boolean {
  return observer !== null;
}

/** Passes `got` to the observer, if any (for results no check compares). @internal */
export function observe(got: Result, ctx: Ctx): void {
  observer?.(got, ctx);
}

/**
 * Checks shape, dtype and every element of `got` against `exp` within `tol`; on failure reports
 * how many elements are off and the worst one (index, got, expected, allowed).
 */
export function checkClose(got: Result, exp: Expected, dtype: DType, tol: Tolerance, ctx: Ctx): void {
  observer?.(got, ctx);
  if (!sameShape(got.shape, exp.shape)) return report(ctx, `shape: got ${fmt(got.shape)}, expected ${fmt(exp.shape)}`);
  if (got.dtype !== dtype) return report(ctx, `dtype: got ${got.dtype}, expected ${dtype} (shape ${fmt(exp.shape)})`);
  if (got.data.length !== exp.values.length) return report(ctx, `read back ${got.data.length} elements for shape ${fmt(exp.shape)}, expected ${exp.values.length}`);
  let bad = 0;
  let worst = -1;
  let worstExcess = -Infinity;
  let worstBound = 0;
  const n = exp.values.length;
  for (let i = 0; i < n; i++) {
    const g = got.data[i]!;
    const e = exp.values[i]!;
    let excess: number;
    let b = 0;
    if (Number.isNaN(e) || Number.isNaN(g)) excess = Number.isNaN(e) && Number.isNaN(g) ? -Infinity : Infinity;
    else if (!Number.isFinite(e) || !Number.isFinite(g)) excess = g === e ? -Infinity : Infinity;
    else {
      const terms = exp.n === undefined ? 0 : typeof exp.n === 'number' ? exp.n : exp.n[i]!;
      b = bound(tol, e, exp.mag ? exp.mag[i]! : 0, terms);
      excess = Math.abs(g - e) - b;
    }
    if (excess > 0) bad++;
    if (excess > worstExcess) {
      worstExcess = excess;
      worst = i;
      worstBound = b;
    }
  }
  if (bad > 0) {
    const g = got.data[worst]!;
    const e = exp.values[worst]!;
    report(
      ctx,
      `${bad} of ${n} elements out of tolerance (atol ${tol.atol}, rtol ${tol.rtol}${tol.accEps ? `, accEps ${tol.accEps.toExponential(2)}·${tol.acc === 'linear' ? 'n' : '(⌈log2 n⌉+1)'}·Σ|terms|` : ''}) for output ${fmt(exp.shape)} ${dtype}; ` +
        `worst at ${fmt(unravel(worst, exp.shape))} (flat ${worst}): got ${fmtNum(g)}, expected ${fmtNum(e)}, |diff| ${fmtNum(Math.abs(g - e))} > allowed ${fmtNum(worstBound)}`,
    );
  }
}

/** Checks an exact result given as plain numbers. */
export function checkExact(got: Result, shape: readonly number[], dtype: DType, values: ArrayLike<number>, ctx: Ctx): void {
  checkClose(got, { shape, values: Float64Array.from(values) }, dtype, { atol: 0, rtol: 0, why: 'exact' }, ctx);
}
