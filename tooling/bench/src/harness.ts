/**
 * The measuring machinery every suite shares: timing (warm-up, then timed runs, median and best),
 * the result model, the table printer (with "Axon ÷ peer" ratio columns), and the writer that
 * rewrites one marked section of BENCHMARKS.md.
 *
 * A suite never prints or writes by itself: it returns a {@link SuiteResult}; `index.ts` prints it
 * and, with `--write`, hands it to {@link writeSection}.
 */

import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';

// ---------------------------------------------------------------------------------------------
// Timing
// ---------------------------------------------------------------------------------------------

/** How one cell is timed. */
export interface TimeOptions {
  /**
   * Untimed calls before timing (the first calls of a kernel run in V8's baseline tier). At least
   * one; calls that take over a second each stop the warm-up after the first.
   */
  readonly warmup: number;
  /** Warm-up also lasts at least this long, in ms (default 300), so that V8 tiers kernels up. */
  readonly warmupMs?: number;
  /** Timed samples; the median and the best of them are reported. ≥ 5 for published figures. */
  readonly runs: number;
  /**
   * A sample repeats the operation until it lasts at least this long (the repetition count is
   * chosen from the last warm-up call), so that fast operations are not lost in timer noise.
   * 0 = one call per sample.
   */
  readonly minSampleMs: number;
  /** Upper bound on calls per sample. */
  readonly maxReps?: number;
  /** When one call takes over a second, take only this many samples (default 5). */
  readonly slowRuns?: number;
}

/** What was measured for one cell: seconds per operation. */
export interface Measurement {
  /** Seconds per operation for each timed sample, in the order they ran. */
  readonly samples: readonly number[];
  /** Median of `samples` (seconds per operation). */
  readonly median: number;
  /** Best (smallest) of `samples` (seconds per operation). */
  readonly min: number;
  /** Operations per sample. */
  readonly reps: number;
}

/** A cell that was not measured, with the reason shown in the table. */
export interface Skipped {
  readonly skipped: string;
}

export type Cell = Measurement | Skipped;

export function isSkipped(c: Cell | undefined): c is Skipped {
  return c !== undefined && 'skipped' in c;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/**
 * Times `op`: untimed warm-up calls (see {@link TimeOptions.warmup}), then `runs` samples of
 * `reps` calls each.
 * `op` must wait for its result (read it back, or await the library's "ready" promise) so that
 * lazy or asynchronous libraries are timed for the work, not for queuing it.
 * @example const m = await measure(() => { const c = tf.matMul(a, b); c.dataSync(); c.dispose(); }, opts);
 */
export async function measure(op: () => unknown, opts: TimeOptions): Promise<Measurement> {
  const warmupMs = opts.warmupMs ?? 300;
  const start = performance.now();
  let last = 0;
  for (let calls = 0; calls < 1 || performance.now() - start < warmupMs || (calls < opts.warmup && last < 1000); calls++) {
    const t0 = performance.now();
    await op();
    last = performance.now() - t0;
  }
  const reps =
    opts.minSampleMs > 0
      ? Math.min(opts.maxReps ?? 1000, Math.max(1, Math.ceil(opts.minSampleMs / Math.max(last, 1e-3))))
      : 1;
  const runs = last > 1000 ? Math.min(opts.runs, opts.slowRuns ?? 5) : opts.runs;
  const samples: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) await op();
    samples.push((performance.now() - t0) / 1000 / reps);
  }
  return { samples, median: median(samples), min: Math.min(...samples), reps };
}

function selfTime(id: string, r: unknown): number {
  if (typeof r !== 'number' || !Number.isFinite(r) || r < 0) throw new Error(`${id}: a self-timed operation must resolve to its seconds, got ${String(r)}`);
  return r;
}

/**
 * Thrown by a contender's `start` when it cannot run here for a reason the table should show
 * in its cell (e.g. "not installed"), rather than a generic "unavailable".
 */
export class SkipError extends Error {
  /** The reason shown in the table cell. */
  readonly cell: string;
  constructor(cell: string, message?: string) {
    super(message ?? cell);
    this.name = 'SkipError';
    this.cell = cell;
  }
}

/** One contender's operation in {@link measureRoundRobin}. */
export interface RoundRobinEntry {
  readonly id: string;
  /** Untimed, before each call (e.g. selecting the library's backend). */
  readonly before?: () => unknown;
  /** The timed operation; it must wait for its result. */
  readonly op: () => unknown;
  /**
   * The operation times itself: `op` resolves to the seconds it took by the contender's own clock
   * (a library in another process, timed there without the pipe's round trip).
   */
  readonly selfTimed?: boolean;
}

/**
 * Times several contenders' long operations (e.g. a training epoch) in rounds: `warmup` untimed
 * calls each, then `runs` rounds in which each contender makes one timed call, in turn. A change
 * of machine load during the run then hits every contender alike. A contender whose call throws
 * is dropped (reported through `onError`) and gets no measurement.
 */
export async function measureRoundRobin(
  entries: readonly RoundRobinEntry[],
  opts: { readonly warmup: number; readonly runs: number },
  onError: (id: string, e: unknown) => void,
): Promise<Map<string, Measurement>> {
  let live = [...entries];
  const samples = new Map<string, number[]>(live.map((e) => [e.id, []]));
  const call = async (e: RoundRobinEntry, timed: boolean): Promise<void> => {
    try {
      await e.before?.();
      const t0 = performance.now();
      const r = await e.op();
      const seconds = e.selfTimed ? selfTime(e.id, r) : (performance.now() - t0) / 1000;
      if (timed) samples.get(e.id)!.push(seconds);
    } catch (err) {
      live = live.filter((x) => x !== e);
      samples.delete(e.id);
      onError(e.id, err);
    }
  };
  for (let w = 0; w < Math.max(1, opts.warmup); w++) for (const e of [...live]) await call(e, false);
  for (let r = 0; r < opts.runs; r++) for (const e of [...live]) await call(e, true);
  const out = new Map<string, Measurement>();
  for (const [id, xs] of samples) out.set(id, { samples: xs, median: median(xs), min: Math.min(...xs), reps: 1 });
  return out;
}

/** One contender's operation in {@link measureInterleaved}. */
export interface InterleavedEntry {
  readonly id: string;
  /** Untimed, before each sample and before the warm-up (e.g. setting the thread count). */
  readonly before?: () => unknown;
  /** The timed operation; it must wait for its result. */
  readonly op: () => unknown;
}

/**
 * Times several variants of one operation (e.g. Axon at 1 and at 2 threads) interleaved, ABAB…:
 * each is warmed up as in {@link measure} (and gets its own repetitions per sample), then the
 * samples alternate, one of each in turn, so that a change of machine load hits every variant
 * alike. Reports each variant's median and best, as {@link measure} does.
 * @example const m = await measureInterleaved([{ id: '1t', before: () => use(1), op }, { id: '2t', before: () => use(2), op }], opts);
 */
export async function measureInterleaved(entries: readonly InterleavedEntry[], opts: TimeOptions): Promise<Map<string, Measurement>> {
  const warmupMs = opts.warmupMs ?? 300;
  const plan: { e: InterleavedEntry; reps: number; samples: number[] }[] = [];
  let slow = false;
  for (const e of entries) {
    await e.before?.();
    const start = performance.now();
    let last = 0;
    for (let calls = 0; calls < 1 || performance.now() - start < warmupMs || (calls < opts.warmup && last < 1000); calls++) {
      const t0 = performance.now();
      await e.op();
      last = performance.now() - t0;
    }
    slow ||= last > 1000;
    const reps =
      opts.minSampleMs > 0
        ? Math.min(opts.maxReps ?? 1000, Math.max(1, Math.ceil(opts.minSampleMs / Math.max(last, 1e-3))))
        : 1;
    plan.push({ e, reps, samples: [] });
  }
  const runs = slow ? Math.min(opts.runs, opts.slowRuns ?? 5) : opts.runs;
  for (let r = 0; r < runs; r++) {
    for (const p of plan) {
      await p.e.before?.();
      const t0 = performance.now();
      for (let i = 0; i < p.reps; i++) await p.e.op();
      p.samples.push((performance.now() - t0) / 1000 / p.reps);
    }
  }
  return new Map(plan.map((p) => [p.e.id, { samples: p.samples, median: median(p.samples), min: Math.min(...p.samples), reps: p.reps }]));
}

// ---------------------------------------------------------------------------------------------
// Result model
// ---------------------------------------------------------------------------------------------

/** One library (or one way of running a library) in a suite. */
export interface ContenderInfo {
  /** Stable id used in ratio columns and section keys, e.g. `tfjs-wasm`. */
  readonly id: string;
  /** Column heading, e.g. `tfjs-wasm`. */
  readonly label: string;
  /** How this contender's code is written (shown under the table), e.g. "tf.matMul(a, b, true, false)". */
  readonly note?: string;
  /** Whether this is Axon (the numerator of the ratio columns). */
  readonly axon?: boolean;
  /**
   * The threads it runs on, where the suite runs it at several counts (`--threads`): Axon's wasm
   * contenders and PyTorch. A peer with a thread count is compared with Axon at the same count;
   * one without (tfjs, jax-js: one thread in Node) with Axon at the most threads.
   */
  readonly threads?: number;
}

/** How a measurement is turned into the figure shown. */
export interface Metric {
  /** Unit shown in headings, e.g. `GFLOP/s` or `s/epoch`. */
  readonly unit: string;
  /** Whether a bigger figure is better (throughput) or a smaller one (time). */
  readonly higherIsBetter: boolean;
  /** Figure for one case from seconds per operation. */
  readonly value: (secondsPerOp: number, c: CaseResult) => number;
  /** Decimal places shown. */
  readonly digits: number;
}

/** One row: a problem (size, layout) and each contender's cell. */
export interface CaseResult {
  /** Row label, e.g. `512 Aᵀ·B`. */
  readonly label: string;
  /** Work per operation, used by throughput metrics (e.g. 2n³ FLOPs). */
  readonly work?: number;
  readonly cells: Record<string, Cell>;
  /** Extra per-contender text shown after the figure, e.g. a test accuracy. */
  readonly extra?: Record<string, string>;
}

export interface SuiteResult {
  /** Section id in BENCHMARKS.md, e.g. `matmul`. */
  readonly id: string;
  readonly title: string;
  readonly metric: Metric;
  readonly contenders: readonly ContenderInfo[];
  readonly cases: readonly CaseResult[];
  /** Free-form lines printed under the table (methodology, caveats). */
  readonly notes: readonly string[];
  /** Problems noticed while running (leaks, failures); printed and written. */
  readonly warnings: readonly string[];
}

/** The figure for a cell (median, and best), or undefined if skipped. */
export function figures(metric: Metric, c: CaseResult, cell: Cell | undefined): { median: number; best: number } | undefined {
  if (cell === undefined || isSkipped(cell)) return undefined;
  const med = metric.value(cell.median, c);
  const best = metric.value(cell.min, c);
  return { median: med, best };
}

/**
 * "Axon ÷ peer" as a speed ratio: > 1 means Axon is faster. For throughput metrics this is
 * Axon's figure over the peer's; for time metrics, the peer's time over Axon's.
 */
export function speedRatio(metric: Metric, axon: number, peer: number): number {
  return metric.higherIsBetter ? axon / peer : peer / axon;
}

// ---------------------------------------------------------------------------------------------
// Table printer
// ---------------------------------------------------------------------------------------------

function fmt(x: number, digits: number): string {
  if (!Number.isFinite(x)) return '—';
  return x.toFixed(digits);
}

/** One ratio column of a table: `num`'s speed ÷ `den`'s, headed `heading`. */
export interface RatioColumn {
  readonly heading: string;
  readonly num: ContenderInfo;
  readonly den: ContenderInfo;
}

/**
 * The ratio columns of a table. With one Axon contender: "Axon ÷ peer" for every peer. With Axon
 * at several thread counts (`threads`): "Axon Nt ÷ 1t" (Axon's own speed-up over its fewest
 * threads) for each further count, then per peer "Axon Nt ÷ peer", where N is the peer's own
 * thread count if Axon ran at it (PyTorch at 2 threads against Axon at 2), else Axon's most
 * threads (the single-threaded JS peers).
 */
export function ratioColumns(contenders: readonly ContenderInfo[]): RatioColumn[] {
  const axons = contenders.filter((c) => c.axon);
  const peers = contenders.filter((c) => !c.axon);
  if (axons.length === 0) return [];
  if (axons.length === 1) return peers.map((p) => ({ heading: `Axon ÷ ${p.label}`, num: axons[0], den: p }));
  const t = (c: ContenderInfo) => c.threads ?? 1;
  const sorted = [...axons].sort((a, b) => t(a) - t(b));
  const fewest = sorted[0];
  const most = sorted[sorted.length - 1];
  const tag = (c: ContenderInfo) => (c.threads !== undefined ? ` ${c.threads}t` : ` (${c.label})`);
  const cols: RatioColumn[] = sorted.slice(1).map((a) => ({ heading: `Axon${tag(a)} ÷${tag(fewest)}`, num: a, den: fewest }));
  for (const p of peers) {
    const same = p.threads !== undefined ? axons.find((a) => a.threads === p.threads) : undefined;
    const num = same ?? most;
    cols.push({ heading: `Axon${tag(num)} ÷ ${p.label}`, num, den: p });
  }
  return cols;
}

/**
 * Renders a result as a Markdown table: one column per contender ("median (best)"), then the
 * {@link ratioColumns} (from medians; > 1 = the numerator faster). Columns are padded so that the
 * same text reads well in a terminal.
 */
export function renderTable(r: SuiteResult): string {
  const ratioCols = ratioColumns(r.contenders);
  const header = ['case', ...r.contenders.map((c) => `${c.label} ${r.metric.unit}`), ...ratioCols.map((k) => k.heading)];
  const rows: string[][] = r.cases.map((c) => {
    const cells = r.contenders.map((k) => {
      const cell = c.cells[k.id];
      if (cell === undefined) return '—';
      if (isSkipped(cell)) return `— (${cell.skipped})`;
      const f = figures(r.metric, c, cell);
      const extra = c.extra?.[k.id];
      return `${fmt(f!.median, r.metric.digits)} (${fmt(f!.best, r.metric.digits)})${extra ? ` ${extra}` : ''}`;
    });
    const ratios = ratioCols.map((k) => {
      const a = figures(r.metric, c, c.cells[k.num.id]);
      const b = figures(r.metric, c, c.cells[k.den.id]);
      return a && b ? `${speedRatio(r.metric, a.median, b.median).toFixed(2)}×` : '—';
    });
    return [c.label, ...cells, ...ratios];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cols: string[]) => `| ${cols.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  const sep = `|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(header), sep, ...rows.map(line)].join('\n');
}

/** Table, then contender notes, notes and warnings, as Markdown. */
export function renderResult(r: SuiteResult): string {
  const out = [renderTable(r), ''];
  const higher = r.metric.higherIsBetter ? 'higher is better' : 'lower is better';
  out.push(
    `Cells: median of the timed runs, best in parentheses (${r.metric.unit}, ${higher}). ` +
      `Ratio columns: Axon's speed ÷ the peer's, from medians (> 1 = Axon faster)` +
      (r.contenders.filter((c) => c.axon).length > 1
        ? `; "Axon Nt ÷ 1t" is Axon's own speed-up from threads, a peer run at a thread count is compared with Axon at the same count, and a single-threaded JS peer with Axon at its most threads.`
        : '.'),
  );
  out.push('');
  // one line per note: contenders that share it (Axon at each thread count) are named together
  const byNote = new Map<string, string[]>();
  for (const c of r.contenders) if (c.note) byNote.set(c.note, [...(byNote.get(c.note) ?? []), `**${c.label}**`]);
  for (const [note, labels] of byNote) out.push(`- ${labels.join(', ')}: ${note}`);
  for (const n of r.notes) out.push(`- ${n}`);
  for (const w of r.warnings) out.push(`- ⚠ ${w}`);
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Machine and run description
// ---------------------------------------------------------------------------------------------

export interface MachineInfo {
  readonly cpu: string;
  readonly cores: number;
  readonly node: string;
  readonly os: string;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown CPU',
    cores: cpus.length,
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
  };
}

/** `uptime`'s output (load averages), or os.loadavg() where `uptime` is missing. */
export function loadLine(): string {
  try {
    return execFileSync('uptime', { encoding: 'utf8' }).trim();
  } catch {
    return `load average: ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(', ')}`;
  }
}

/** What is written above each table: the exact command, the date, the machine, the load. */
export interface RunInfo {
  readonly command: string;
  readonly date: Date;
  readonly machine: MachineInfo;
  readonly loadBefore: string;
  readonly loadAfter: string;
  /** 1-minute load averages before and after (os.loadavg()[0]), to flag a busy machine. */
  readonly load1Before?: number;
  readonly load1After?: number;
  readonly seconds: number;
}

export function renderRunInfo(info: RunInfo): string {
  const m = info.machine;
  return [
    `- Command: \`${info.command}\``,
    `- Date: ${info.date.toISOString().replace(/\.\d+Z$/, 'Z')} (the suite took ${info.seconds.toFixed(0)} s)`,
    `- Machine: ${m.cpu}, ${m.cores} cores, Node ${m.node}, ${m.os}`,
    `- Load before: \`${info.loadBefore}\``,
    `- Load after: \`${info.loadAfter}\``,
    ...(Math.max(info.load1Before ?? 0, info.load1After ?? 0) > m.cores * 0.75
      ? [
          `- ⚠ **Busy machine**: the 1-minute load (${(info.load1Before ?? 0).toFixed(1)} → ${(info.load1After ?? 0).toFixed(1)}) was near or above the ${m.cores} cores, ` +
            'so other jobs shared them: absolute figures are low and even the ratios are noisy (compare medians with the bests). Re-run in a quiet window.',
        ]
      : []),
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// BENCHMARKS.md writer
// ---------------------------------------------------------------------------------------------

export function markers(id: string): { start: string; end: string } {
  return { start: `<!-- bench:${id}:start -->`, end: `<!-- bench:${id}:end -->` };
}

/**
 * Returns `doc` with the text between `id`'s markers replaced by `body`. When the markers are
 * missing, a section headed `## title` with the markers is appended.
 */
export function replaceSection(doc: string, id: string, title: string, body: string): string {
  const { start, end } = markers(id);
  const block = `${start}\n${body.trim()}\n${end}`;
  const i = doc.indexOf(start);
  const j = doc.indexOf(end);
  if (i >= 0 && j > i) return doc.slice(0, i) + block + doc.slice(j + end.length);
  const sep = doc.length === 0 || doc.endsWith('\n\n') ? '' : doc.endsWith('\n') ? '\n' : '\n\n';
  return `${doc}${sep}## ${title}\n\n${block}\n`;
}

/** Rewrites the section for `result` in the Markdown file at `file`. */
export function writeSection(file: string, result: SuiteResult, info: RunInfo): void {
  const doc = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const body = `${renderRunInfo(info)}\n\n${renderResult(result)}`;
  writeFileSync(file, replaceSection(doc, result.id, result.title, body));
}
