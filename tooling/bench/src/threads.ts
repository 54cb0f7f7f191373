/**
 * Thread counts and SIMD modes: what `--threads` and `--simd` ask for, how each thread count's
 * contenders are named, and the issue-12 bars the suites judge their figures against.
 *
 * Axon's wasm contenders run once per thread count (`--threads 1,2`; default 1 and the cores
 * available), in the same table: ids `axon-1t`, `axon-2t`, labels `axon-wasm 1t`, `axon-wasm 2t`.
 * PyTorch (a native library with its own threads) runs at the same counts (`torch-1t`, …); the JS
 * peers (tfjs, jax-js) have no threads in Node and run once.
 */

import os from 'node:os';
import { figures, speedRatio, type ContenderInfo, type SuiteResult } from './harness.js';

/** The cores this process may use (`os.availableParallelism`, else the CPU count). */
export function coresAvailable(): number {
  const ap = (os as { availableParallelism?: () => number }).availableParallelism;
  return Math.max(1, typeof ap === 'function' ? ap() : os.cpus().length);
}

/** The default `--threads`: 1, and the cores available when there are several. */
export function defaultThreads(cores: number): number[] {
  return cores >= 2 ? [1, cores] : [1];
}

/**
 * Parses `--threads`: comma-separated positive integers or `auto` (= `cores`), deduplicated and
 * sorted; undefined gives {@link defaultThreads}.
 * @example parseThreads('2,1,auto', 4) // [1, 2, 4]
 */
export function parseThreads(spec: string | undefined, cores: number): number[] {
  if (spec === undefined) return defaultThreads(cores);
  const parts = spec.split(',').map((s) => s.trim());
  const out = new Set<number>();
  for (const p of parts) {
    const n = p === 'auto' ? cores : /^\d+$/.test(p) ? Number(p) : NaN;
    if (!Number.isSafeInteger(n) || n < 1) {
      throw new Error(`--threads expects positive integers or 'auto' separated by commas (e.g. --threads 1,2), got '${spec}'`);
    }
    out.add(n);
  }
  return [...out].sort((a, b) => a - b);
}

/** Which SIMD the wasm code may use: relaxed SIMD (FMA), SIMD128 only, or both in one invocation. */
export type SimdMode = 'relaxed' | 'simd128' | 'both';

/**
 * `--simd` and its older spelling `--baseline-simd` (= `--simd simd128`); default `relaxed`.
 * @example parseSimd(undefined, true) // 'simd128'
 */
export function parseSimd(simd: string | undefined, baselineSimd: boolean): SimdMode {
  if (simd !== undefined && simd !== 'relaxed' && simd !== 'simd128' && simd !== 'both') {
    throw new Error(`--simd expects relaxed, simd128 or both, got '${simd}'`);
  }
  if (baselineSimd && simd !== undefined && simd !== 'simd128') throw new Error(`--baseline-simd is --simd simd128; it contradicts --simd ${simd}`);
  return simd ?? (baselineSimd ? 'simd128' : 'relaxed');
}

/**
 * The arguments of the SIMD128 run that `--simd both` starts in a child process (without V8's
 * relaxed-SIMD flag): the same arguments with the SIMD choice replaced by `--simd simd128`.
 * @example simd128ChildArgs(['--simd', 'both', '--write']) // ['--write', '--simd', 'simd128']
 */
export function simd128ChildArgs(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--baseline-simd' || a.startsWith('--simd=')) continue;
    if (a === '--simd') {
      i++;
      continue;
    }
    out.push(a);
  }
  return [...out, '--simd', 'simd128'];
}

/** `2` → `2t`: how a thread count is written in ids, labels and headings. */
export function threadTag(n: number): string {
  return `${n}t`;
}

/** A contender's id at `threads` threads (`axon` → `axon-2t`); the plain id when `threads` is undefined. */
export function threadedId(id: string, threads: number | undefined): string {
  return threads === undefined ? id : `${id}-${threadTag(threads)}`;
}

/** A contender's label at `threads` threads (`axon-wasm` → `axon-wasm 2t`). */
export function threadedLabel(label: string, threads: number | undefined): string {
  return threads === undefined ? label : `${label} ${threadTag(threads)}`;
}

// ---------------------------------------------------------------------------------------------
// Issue 12's bars
// ---------------------------------------------------------------------------------------------

/** What issue 12 asks of Axon at 2 threads. */
export const THREAD_BARS = {
  /** matmul 1024³ A·B at 2 threads, GFLOP/s: SIMD128 only / relaxed SIMD. */
  matmulGflops: { simd128: 65, relaxed: 80 },
  /** matmul 1024³ A·B: Axon 2 threads ÷ Axon 1 thread. */
  matmulScaling: 1.8,
  /** matmul 1024³ A·B: Axon 2 threads ÷ jax-js (one thread). */
  matmulVsJax: 2,
  /** mlp at batch 128: Axon's 1-thread epoch ÷ its 2-thread epoch. */
  mlpScaling: 1.5,
  /** cnn: Axon's epoch ÷ PyTorch's at the same thread count, at most. */
  cnnVsTorch: 1.5,
} as const;

/** "met" / "**not met**" for a figure against a bar. */
export function verdict(ok: boolean): string {
  return ok ? 'met' : '**not met**';
}

/** Median and best of a cell, as the bar lines quote them. */
export interface Figure {
  readonly median: number;
  readonly best: number;
}

/**
 * The issue-12 lines for the matmul suite's 1024 A·B row: Axon at 2 threads in GFLOP/s against
 * the bar for the SIMD in use, its speed-up over 1 thread and over jax-js (all from medians; the
 * bests in parentheses). Undefined figures leave their line out.
 */
export function matmulBarLines(f: { axon1?: Figure; axon2?: Figure; jax?: Figure }, relaxed: boolean): string[] {
  const out: string[] = [];
  const { axon1, axon2, jax } = f;
  if (!axon2) return out;
  const bar = relaxed ? THREAD_BARS.matmulGflops.relaxed : THREAD_BARS.matmulGflops.simd128;
  out.push(
    `**Issue 12, matmul 1024³ A·B at 2 threads ≥ ${bar} GFLOP/s (${relaxed ? 'relaxed SIMD' : 'SIMD128'}):** ` +
      `${axon2.median.toFixed(1)} GFLOP/s median (best ${axon2.best.toFixed(1)}): ${verdict(axon2.median >= bar)}.`,
  );
  if (axon1) {
    const r = axon2.median / axon1.median;
    out.push(
      `**Issue 12, matmul 1024³ A·B, 2 threads ≥ ${THREAD_BARS.matmulScaling}× Axon's 1 thread:** ${r.toFixed(2)}× from medians ` +
        `(${(axon2.best / axon1.best).toFixed(2)}× from bests; ${axon1.median.toFixed(1)} → ${axon2.median.toFixed(1)} GFLOP/s): ${verdict(r >= THREAD_BARS.matmulScaling)}.`,
    );
  }
  if (jax) {
    const r = axon2.median / jax.median;
    out.push(
      `**Issue 12, matmul 1024³ A·B, 2 threads ≥ ${THREAD_BARS.matmulVsJax}× jax-js:** ${r.toFixed(2)}× from medians ` +
        `(${(axon2.best / jax.best).toFixed(2)}× from bests; jax-js ${jax.median.toFixed(1)} GFLOP/s): ${verdict(r >= THREAD_BARS.matmulVsJax)}.`,
    );
  }
  return out;
}

/** The issue-12 line for the mlp suite's batch-128 row: Axon's 1-thread epoch ÷ its 2-thread epoch (seconds). */
export function mlpBarLine(label: string, axon1: Figure | undefined, axon2: Figure | undefined): string | undefined {
  if (!axon1 || !axon2) return undefined;
  const r = axon1.median / axon2.median;
  return (
    `**Issue 12, mlp ${label}: 2 threads ≥ ${THREAD_BARS.mlpScaling}× faster than 1 thread:** ${r.toFixed(2)}× from medians ` +
    `(${(axon1.best / axon2.best).toFixed(2)}× from bests; ${axon1.median.toFixed(3)} → ${axon2.median.toFixed(3)} s/epoch): ${verdict(r >= THREAD_BARS.mlpScaling)}.`
  );
}

/**
 * The issue-12 line for the cnn suite at `threads` threads: Axon's epoch ÷ PyTorch's (seconds).
 * When PyTorch at these threads was slower than PyTorch at 1 (`torch1`: a machine busy with other
 * jobs starves spin-waiting thread pools), the comparison would flatter Axon: it is not judged.
 */
export function cnnBarLine(threads: number, axon: Figure | undefined, torch: Figure | undefined, torch1?: Figure): string | undefined {
  if (!axon || !torch) return undefined;
  const r = axon.median / torch.median;
  const bar = threads === 2 ? `within ${THREAD_BARS.cnnVsTorch}× of PyTorch at 2 threads each` : `beside PyTorch at ${threads} thread${threads === 1 ? '' : 's'} each (no bar)`;
  const starved = torch1 !== undefined && threads > 1 && torch.median > torch1.median;
  const judged = starved
    ? `: not judged — PyTorch ran slower at ${threads} threads than at 1 (${torch1.median.toFixed(2)} s), so other jobs were using the cores; re-run in a quiet window.`
    : threads === 2
      ? `: ${verdict(r <= THREAD_BARS.cnnVsTorch)}.`
      : '.';
  return (
    `**${threads === 2 ? 'Issue 12, ' : ''}cnn, Axon ${bar}:** Axon's epoch takes ${r.toFixed(2)}× PyTorch's from medians ` +
    `(${(axon.best / torch.best).toFixed(2)}× from bests; ${axon.median.toFixed(2)} s vs ${torch.median.toFixed(2)} s)${judged}`
  );
}

/**
 * Warnings for cells where a contender ran slower at more threads than at its fewest (from
 * medians): on a machine busy with other jobs, threads compete with them (and spin-waiting
 * runtimes such as OpenMP and OpenBLAS's thread servers lose most), so the thread comparisons of
 * that row say more about the load than about the library.
 */
export function slowerWithThreadsWarnings(r: SuiteResult): string[] {
  const out: string[] = [];
  const families = new Map<string, ContenderInfo[]>();
  for (const c of r.contenders) {
    if (c.threads === undefined) continue;
    const base = c.id.endsWith(`-${threadTag(c.threads)}`) ? c.id.slice(0, -threadTag(c.threads).length - 1) : c.id;
    families.set(base, [...(families.get(base) ?? []), c]);
  }
  for (const members of families.values()) {
    const sorted = [...members].sort((a, b) => (a.threads ?? 1) - (b.threads ?? 1));
    const fewest = sorted[0];
    for (const c of r.cases) {
      const base = figures(r.metric, c, c.cells[fewest.id]);
      if (!base) continue;
      for (const more of sorted.slice(1)) {
        const f = figures(r.metric, c, c.cells[more.id]);
        if (f && speedRatio(r.metric, f.median, base.median) < 1) {
          out.push(
            `${c.label}: ${more.label} was slower than ${fewest.label} (${speedRatio(r.metric, f.median, base.median).toFixed(2)}× from medians): ` +
              'other jobs were likely using the cores, so this row\'s thread comparisons are not meaningful; re-run in a quiet window.',
          );
        }
      }
    }
  }
  return out;
}
