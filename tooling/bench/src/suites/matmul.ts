/**
 * f32 matmul throughput (GFLOP/s = 2n³ / seconds) at n×n·n×n, contiguous and with one operand
 * transposed, for Axon and its peers, in one process run.
 *
 * Rows run one after the other and, within a row, the contenders one after the other. Every
 * contender multiplies the same inputs (two n×n matrices stored row-major) and reads the
 * result back inside the timed call, so lazy libraries are timed for the work. The first result of
 * each cell is checked against a float64 reference at sampled entries; a wrong result is reported,
 * not timed.
 */

import { numpy as np, jit } from '@jax-js/jax';
import type { CaseResult, Cell, ContenderInfo, Metric, SuiteResult } from '../harness.js';
import { figures, measure, measureInterleaved } from '../harness.js';
import { mulberry32, uniformArray } from '../data.js';
import { wantPeer, type Suite, type SuiteOptions } from '../suite.js';
import { tf, tfLiveTensors, useTfBackend, type TfBackend } from '../peers/tfjs.js';
import { jaxThreads, useJaxWasm } from '../peers/jax.js';
import { packageVersion } from '../peers/version.js';
import { axonMatmulContender, axonThreadsNote } from '../axon.js';
import { matmulBarLines } from '../threads.js';

/** `nn` = A·B, `tn` = Aᵀ·B, `nt` = A·Bᵀ (A and B stored row-major, n×n). */
export type Layout = 'nn' | 'tn' | 'nt';

export const LAYOUTS: readonly Layout[] = ['nn', 'tn', 'nt'];
export const LAYOUT_LABEL: Record<Layout, string> = { nn: 'A·B', tn: 'Aᵀ·B', nt: 'A·Bᵀ' };

/** One prepared cell: inputs uploaded, kernel compiled if the library compiles. */
export interface MatmulInstance {
  /** Computes the product and waits for it; returns the result data. */
  run(): Float32Array | Promise<Float32Array>;
  /** Frees the inputs. */
  dispose(): void;
}

export interface MatmulContender extends ContenderInfo {
  /** Starts the library/backend; throws with a reason when it cannot run. */
  start(): Promise<void>;
  /** Uploads `a` and `b` (n×n row-major) and returns the op for `layout`. */
  prepare(a: Float32Array, b: Float32Array, n: number, layout: Layout): MatmulInstance | Promise<MatmulInstance>;
  /** Live tensors/arrays in the library, for leak checks (undefined when unknown). */
  live(): number | undefined;
  /** Sizes above this are skipped (with the reason `skipReason`). */
  readonly maxSize?: number;
  readonly skipReason?: string;
}

// ---------------------------------------------------------------------------------------------
// Peers
// ---------------------------------------------------------------------------------------------

function tfjsContender(backend: TfBackend, maxSize?: number): MatmulContender {
  return {
    id: `tfjs-${backend}`,
    label: `tfjs-${backend}`,
    note:
      `@tensorflow/tfjs${backend === 'wasm' ? '-backend-wasm' : ''} ${packageVersion(backend === 'wasm' ? '@tensorflow/tfjs-backend-wasm' : '@tensorflow/tfjs')}, ${backend === 'wasm' ? 'XNNPACK, 1 thread (tfjs-wasm has no threads in Node)' : 'plain JS'}; ` +
      '`tf.matMul(a, b, transposeA, transposeB)` — the flags, as tfjs users and tfjs\'s own matMul gradient write it; result read with `dataSync()`, then disposed.',
    maxSize,
    skipReason: maxSize !== undefined ? `capped at ${maxSize}` : undefined,
    start: () => useTfBackend(backend),
    prepare(a, b, n, layout) {
      const ta = tf.tensor2d(a, [n, n], 'float32');
      const tb = tf.tensor2d(b, [n, n], 'float32');
      const transA = layout === 'tn';
      const transB = layout === 'nt';
      return {
        run() {
          const c = tf.matMul(ta, tb, transA, transB);
          const d = c.dataSync() as Float32Array;
          c.dispose();
          return d;
        },
        dispose() {
          ta.dispose();
          tb.dispose();
        },
      };
    },
    live: tfLiveTensors,
  };
}

const jaxOps: Record<Layout, (a: np.Array, b: np.Array) => np.Array> = {
  nn: jit((a: np.Array, b: np.Array) => np.matmul(a, b)),
  tn: jit((a: np.Array, b: np.Array) => np.matmul(a.transpose(), b)),
  nt: jit((a: np.Array, b: np.Array) => np.matmul(a, b.transpose())),
};

function jaxContender(): MatmulContender {
  return {
    id: 'jax-wasm',
    label: 'jax-js-wasm',
    note:
      `@jax-js/jax ${packageVersion('@jax-js/jax')}, wasm device, ${jaxThreads()}; ` +
      '`jit((a, b) => np.matmul(a.transpose(), b))` etc. — the transpose inside `jit`, as JAX users write `a.T @ b`; ' +
      'inputs passed as `a.ref`, result read with `dataSync()` (which frees it).',
    start: useJaxWasm,
    prepare(a, b, n, layout) {
      const ja = np.array(a).reshape([n, n]);
      const jb = np.array(b).reshape([n, n]);
      const f = jaxOps[layout];
      return {
        run: () => f(ja.ref, jb.ref).dataSync() as Float32Array,
        dispose() {
          ja.dispose();
          jb.dispose();
        },
      };
    },
    live: () => undefined,
  };
}

/**
 * Axon once per thread count (`opts.threads`; once on the backend's default when undefined), then
 * the peers `--only` keeps.
 */
export function matmulContenders(opts: SuiteOptions): MatmulContender[] {
  // jax-js runs before tfjs in each row: placed right after tfjs-cpu (whose plain-JS kernels leave
  // large garbage behind), its A·B and Aᵀ·B measured 6 GFLOP/s instead of 15–20, reproducibly.
  const axon = opts.threads ? opts.threads.map((n) => axonMatmulContender(opts, n)) : [axonMatmulContender(opts)];
  const peers = [jaxContender(), tfjsContender('wasm'), tfjsContender('cpu', opts.cpuMaxSize)];
  return [...axon, ...peers.filter((c) => wantPeer(opts, c.id))];
}

/** Whether two products are the same bits (Axon's results do not depend on the thread count). */
function sameBits(x: Float32Array, y: Float32Array): boolean {
  if (x.length !== y.length) return false;
  const a = new Uint32Array(x.buffer, x.byteOffset, x.length);
  const b = new Uint32Array(y.buffer, y.byteOffset, y.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Checking
// ---------------------------------------------------------------------------------------------

/**
 * Compares `c` with a float64 reference at 64 sampled entries. Returns null when every sampled
 * entry is within 1e-4·Σ|a·b| (+1e-6), else a description of the worst entry.
 */
export function checkProduct(a: Float32Array, b: Float32Array, c: Float32Array, n: number, layout: Layout): string | null {
  if (c.length !== n * n) return `result has ${c.length} elements, expected ${n * n}`;
  const next = mulberry32(n * 31 + layout.length);
  for (let s = 0; s < 64; s++) {
    const i = Math.floor(next() * n);
    const j = Math.floor(next() * n);
    let ref = 0;
    let mag = 0;
    for (let k = 0; k < n; k++) {
      const x = layout === 'tn' ? a[k * n + i] : a[i * n + k];
      const y = layout === 'nt' ? b[j * n + k] : b[k * n + j];
      ref += x * y;
      mag += Math.abs(x * y);
    }
    const got = c[i * n + j];
    if (!(Math.abs(got - ref) <= 1e-4 * mag + 1e-6)) {
      return `C[${i},${j}] = ${got}, expected ${ref.toPrecision(7)}`;
    }
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// The suite
// ---------------------------------------------------------------------------------------------

export const gflops: Metric = {
  unit: 'GFLOP/s',
  higherIsBetter: true,
  digits: 1,
  value: (s, c) => (c.work ?? 0) / s / 1e9,
};

export const matmulSuite: Suite = {
  id: 'matmul',
  title: 'f32 matmul, GFLOP/s',
  describe: 'f32 matmul GFLOP/s at n×n·n×n, contiguous and with a transposed operand',
  inAll: true,
  async run(opts: SuiteOptions): Promise<SuiteResult> {
    const sizes = opts.sizes ?? [256, 512, 1024];
    const timing = { warmup: opts.warmup ?? 2, runs: opts.runs ?? 7, minSampleMs: opts.minSampleMs };
    const contenders = matmulContenders(opts);
    const warnings: string[] = [];
    const cases = new Map<string, { label: string; work: number; cells: Record<string, Cell> }>();
    const inputs = new Map<number, [Float32Array, Float32Array]>();
    for (const n of sizes) {
      inputs.set(n, [uniformArray(n * n, 1000 + n), uniformArray(n * n, 2000 + n)]);
      for (const layout of LAYOUTS) cases.set(`${n}:${layout}`, { label: `${n} ${LAYOUT_LABEL[layout]}`, work: 2 * n ** 3, cells: {} });
    }

    // Start every contender once; those that cannot start are marked for every row.
    const running: MatmulContender[] = [];
    for (const k of contenders) {
      try {
        await k.start();
        running.push(k);
      } catch (e) {
        const why = e instanceof Error ? e.message : String(e);
        opts.log(`${k.axon ? 'axon' : k.label}: not available${k.axon ? ' yet' : ''}: ${why}`);
        for (const c of cases.values()) c.cells[k.id] = { skipped: k.axon ? 'not available yet' : 'unavailable' };
        warnings.push(`${k.label} did not run: ${why}`);
      }
    }

    // Case by case, the contenders one after the other (never two at once), so that a change of
    // machine load during the run shifts neighbouring cells alike and the ratios hold. Axon's
    // thread counts are timed together, their samples interleaved (1t, 2t, 1t, 2t, …).
    const leaked = new Map<string, number>();
    // Timed together, interleaved: Axon at each thread count and jax-js (the peer issue 12's bar
    // names), when Axon runs at several counts; the tfjs backends after them, one by one.
    const axons = running.filter((k) => k.axon);
    const together = axons.length > 1 ? running.filter((k) => k.axon || k.id === 'jax-wasm') : axons;
    const peers = running.filter((k) => !together.includes(k));
    for (const n of sizes) {
      const [a, b] = inputs.get(n)!;
      for (const layout of LAYOUTS) {
        const row = cases.get(`${n}:${layout}`)!;
        if (together.length > 0) await runTogether(together, row, a, b, n, layout);
        for (const k of peers) {
          if (k.maxSize !== undefined && n > k.maxSize) {
            row.cells[k.id] = { skipped: k.skipReason ?? 'skipped' };
            continue;
          }
          await k.start(); // selects the library's backend again (tfjs holds two)
          const liveBefore = k.live();
          const inst = await k.prepare(a, b, n, layout);
          try {
            const wrong = checkProduct(a, b, await inst.run(), n, layout);
            if (wrong) {
              row.cells[k.id] = { skipped: 'wrong result' };
              warnings.push(`${k.label} ${row.label}: wrong result: ${wrong}`);
              opts.log(`${k.label} ${row.label}: WRONG RESULT: ${wrong}`);
              continue;
            }
            const m = await measure(() => inst.run(), timing);
            row.cells[k.id] = m;
            opts.log(`${k.label.padEnd(12)} ${row.label.padEnd(10)} ${gflops.value(m.median, row).toFixed(1).padStart(6)} GFLOP/s (${m.samples.length} runs × ${m.reps})`);
          } catch (e) {
            const why = e instanceof Error ? e.message : String(e);
            row.cells[k.id] = { skipped: 'failed' };
            warnings.push(`${k.label} ${row.label} failed: ${why}`);
            opts.log(`${k.label} ${row.label}: FAILED: ${why}`);
          } finally {
            inst.dispose();
          }
          const liveAfter = k.live();
          if (liveBefore !== undefined && liveAfter !== undefined && liveAfter !== liveBefore) {
            leaked.set(k.label, (leaked.get(k.label) ?? 0) + liveAfter - liveBefore);
          }
        }
      }
    }
    for (const [label, count] of leaked) warnings.push(`${label}: ${count} tensors leaked over the suite`);

    /**
     * Times contenders on one case, interleaved (Axon's thread counts, and jax-js); checks each
     * product, and that Axon's are the same bits at every thread count.
     */
    async function runTogether(ks: readonly MatmulContender[], row: { label: string; work: number; cells: Record<string, Cell> }, a: Float32Array, b: Float32Array, n: number, layout: Layout): Promise<void> {
      const liveBefore = new Map(ks.map((k) => [k.live, k.live()] as const));
      const ready: { k: MatmulContender; inst: MatmulInstance; first: Float32Array }[] = [];
      const failed = (k: MatmulContender, e: unknown) => {
        const why = e instanceof Error ? e.message : String(e);
        row.cells[k.id] = { skipped: 'failed' };
        warnings.push(`${k.label} ${row.label} failed: ${why}`);
        opts.log(`${k.label} ${row.label}: FAILED: ${why}`);
      };
      try {
        for (const k of ks) {
          let inst: MatmulInstance | undefined;
          try {
            await k.start(); // this thread count's backend: the inputs live on it
            inst = await k.prepare(a, b, n, layout);
            const first = await inst.run();
            const wrong = checkProduct(a, b, first, n, layout);
            if (wrong) {
              row.cells[k.id] = { skipped: 'wrong result' };
              warnings.push(`${k.label} ${row.label}: wrong result: ${wrong}`);
              opts.log(`${k.label} ${row.label}: WRONG RESULT: ${wrong}`);
              inst.dispose();
              continue;
            }
            ready.push({ k, inst, first });
          } catch (e) {
            inst?.dispose();
            failed(k, e);
          }
        }
        const axonReady = ready.filter((r) => r.k.axon);
        for (const r of axonReady.slice(1)) {
          if (!sameBits(axonReady[0].first, r.first)) warnings.push(`${r.k.label} ${row.label}: the product differs in its bits from ${axonReady[0].k.label}'s (the backend promises the same bits at any thread count)`);
        }
        if (ready.length > 0) {
          try {
            const ms = await measureInterleaved(
              ready.map(({ k, inst }) => ({ id: k.id, before: () => k.start(), op: () => inst.run() })),
              timing,
            );
            for (const { k } of ready) {
              const m = ms.get(k.id)!;
              row.cells[k.id] = m;
              opts.log(`${k.label.padEnd(14)} ${row.label.padEnd(10)} ${gflops.value(m.median, row).toFixed(1).padStart(6)} GFLOP/s, best ${gflops.value(m.min, row).toFixed(1)} (${m.samples.length} runs × ${m.reps}, interleaved)`);
            }
          } catch (e) {
            for (const { k } of ready) failed(k, e);
          }
        }
      } finally {
        for (const r of ready) r.inst.dispose();
      }
      for (const [live, before] of liveBefore) {
        const after = live();
        const who = ks.filter((k) => k.live === live).map((k) => k.label).join(' / ');
        if (before !== undefined && after !== undefined && after !== before) leaked.set(who, (leaked.get(who) ?? 0) + after - before);
      }
    }

    // Issue 12's bars, judged on 1024 A·B at 2 threads (when both ran).
    const big = cases.get('1024:nn');
    const bars: string[] = [];
    const threads = opts.threads ?? [];
    if (big && threads.includes(2)) {
      const fig = (id: string) => figures(gflops, big, big.cells[id]);
      bars.push(...matmulBarLines({ axon1: threads.includes(1) ? fig('axon-1t') : undefined, axon2: fig('axon-2t'), jax: fig('jax-wasm') }, opts.relaxedSimd ?? false));
    }
    const threadsNote = opts.threads ? await axonThreadsNote(opts.threads) : undefined;

    const resultCases: CaseResult[] = [...cases.values()];
    return {
      id: 'matmul',
      title: this.title,
      metric: gflops,
      contenders: contenders.map(({ id, label, note, axon, threads }) => ({ id, label, note, axon, threads })),
      cases: resultCases,
      notes: [
        ...bars,
        'Inputs: two n×n float32 matrices, uniform in [−1, 1), the same for every contender; GFLOP/s = 2n³ / time. ' +
          'Each timed call computes the product and reads it back into a Float32Array, so copy-out (~0.3 ms per 1M floats) is included for everyone.',
        'Aᵀ·B and A·Bᵀ: A or B is stored n×n row-major and used transposed, as in every backward pass (dW = xᵀ·dy, dx = dy·Wᵀ). ' +
          'Each result is checked against a float64 reference before timing.',
        `Each cell: warm-up (≥ ${timing.warmup} calls and ≥ 300 ms), then ${timing.runs} timed samples (5 when one call takes over a second); a sample repeats the call until it lasts ≥ ${timing.minSampleMs} ms.` +
          (together.length > 1
            ? ` ${together.map((k) => k.label).join(', ')} are timed together in each row, their samples interleaved (one of each in turn, after each one's warm-up), so that load changes hit them alike; the tfjs backends are timed after them.`
            : ''),
        ...(threadsNote ? [threadsNote] : []),
      ],
      warnings,
    };
  },
};
