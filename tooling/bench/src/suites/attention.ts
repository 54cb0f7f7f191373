/**
 * Attention microbenchmark (forward only): milliseconds per causal self-attention of the GPT
 * suite's shape — 4 heads of 32, batch 1 — at T = 128, 512 and 1024 (`--sizes`), on Axon wasm at
 * each thread count of `--threads`:
 *
 * - `scaledDotProductAttention(q, k, v, { causal: true })` — the backend's `attention` primitive
 *   (one flash-attention kernel: online softmax, no [T × T] scores) where the backend has it;
 * - the composite a user would write without it: `matmul(q, k.T)`, times 1/√D, −∞ above the
 *   diagonal (`where`), `softmax`, `matmul(·, v)` — [T × T] scores in memory.
 *
 * Both run on the same inputs, interleaved (`measureInterleaved`: sdpa 1t, composite 1t, sdpa 2t,
 * composite 2t, then again), and their outputs are compared.
 */

import { arange, ge, getBackend, matmul, memory, softmax, scaledDotProductAttention, tensor, unsqueeze, where, type Tensor } from '@axon/core';
import type { CaseResult, Cell, ContenderInfo, Metric, SuiteResult } from '../harness.js';
import { measureInterleaved, type InterleavedEntry } from '../harness.js';
import type { Suite, SuiteOptions } from '../suite.js';
import { threadedId, threadedLabel } from '../threads.js';
import { axonThreadsNote, startAxon, useAxonThreads } from '../axon.js';
import { uniformArray } from '../data.js';

export const ATTENTION = { heads: 4, headDim: 32, batch: 1, sizes: [128, 512, 1024] } as const;

/** Milliseconds per call. */
export const msPerCall: Metric = { unit: 'ms', higherIsBetter: false, digits: 2, value: (s) => s * 1000 };

/**
 * Causal attention written from matmul and softmax (what core falls back to without the backend
 * primitive; `[..., T, T]` scores in memory). Frees what it made but the result.
 * @example const o = compositeAttention(q, k, v); // [..., T, D]
 */
export function compositeAttention(q: Tensor, k: Tensor, v: Tensor): Tensor {
  const T = q.shape[q.rank - 2]!;
  const D = q.shape[q.rank - 1]!;
  const kt = k.T;
  const s = matmul(q, kt);
  const scaled = s.mul(1 / Math.sqrt(D));
  const j = arange(T, undefined, 1, 'int32');
  const i = unsqueeze(j, -1);
  const allowed = ge(i, j);
  const masked = where(allowed, scaled, -Infinity);
  const p = softmax(masked);
  const out = matmul(p, v);
  for (const t of [kt, s, scaled, i, j, allowed, masked, p]) t.dispose();
  return out;
}

export const attentionSuite: Suite = {
  id: 'attention',
  title: 'Causal attention forward (4 heads × 32, batch 1), ms per call',
  describe: 'ms per causal attention forward at T = 128/512/1024: scaledDotProductAttention (flash kernel) vs matmul + softmax + matmul, Axon wasm at each --threads count',
  inAll: true,
  async run(opts: SuiteOptions): Promise<SuiteResult> {
    const sizes = opts.sizes ?? ATTENTION.sizes;
    const counts: readonly (number | undefined)[] = opts.threads ?? [undefined];
    const runs = opts.runs ?? 7;
    const warmup = opts.warmup ?? 2;
    const warnings: string[] = [];
    const notes: string[] = [];
    const cases: CaseResult[] = [];
    const before = (t: number | undefined) => (t === undefined ? () => startAxon('wasm') : () => useAxonThreads(t));
    const ids = (t: number | undefined) => ({ sdpa: threadedId('axon', t), comp: threadedId('composite', t) });
    const primitive: string[] = [];
    for (const t of counts) {
      await before(t)();
      const b = getBackend();
      primitive.push(`${threadedLabel('', t).trim() || b.name}: ${typeof b.attention === 'function' ? 'has' : '**lacks**'} \`attention\``);
    }
    const live0 = memory().numTensors;
    for (const T of sizes) {
      const shape = [ATTENTION.batch, ATTENTION.heads, T, ATTENTION.headDim];
      const size = shape.reduce((a, b) => a * b, 1);
      const host = [uniformArray(size, 1), uniformArray(size, 2), uniformArray(size, 3)];
      const made: Tensor[] = [];
      const entries: InterleavedEntry[] = [];
      const cells: Record<string, Cell> = {};
      try {
        for (const t of counts) {
          await before(t)();
          const [q, k, v] = host.map((h) => tensor(h, shape, 'float32'));
          made.push(q!, k!, v!);
          const sdpa = () => {
            const o = scaledDotProductAttention(q!, k!, v!, { causal: true });
            const d = o.dataSync() as Float32Array;
            o.dispose();
            return d;
          };
          const comp = () => {
            const o = compositeAttention(q!, k!, v!);
            const d = o.dataSync() as Float32Array;
            o.dispose();
            return d;
          };
          // the two ways must give the same attention
          const a = sdpa();
          const c = comp();
          let worst = 0;
          for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - c[i]!));
          if (!(worst <= 1e-4)) warnings.push(`T = ${T}, ${threadedLabel('axon-wasm', t)}: scaledDotProductAttention and the composite differ by up to ${worst.toExponential(1)}`);
          const id = ids(t);
          entries.push({ id: id.sdpa, before: before(t), op: sdpa }, { id: id.comp, before: before(t), op: comp });
        }
        opts.log(`attention T = ${T}: ${entries.map((e) => e.id).join(', ')}`);
        const m = await measureInterleaved(entries, { warmup, runs, minSampleMs: opts.minSampleMs });
        for (const [id, x] of m) cells[id] = x;
      } catch (e) {
        const why = e instanceof Error ? e.message : String(e);
        warnings.push(`T = ${T}: ${why}`);
        for (const t of counts) for (const id of Object.values(ids(t))) cells[id] ??= { skipped: 'failed' };
      } finally {
        for (const t of made) t.dispose();
      }
      cases.push({ label: `T = ${T}`, cells });
    }
    if (memory().numTensors !== live0) warnings.push(`axon-wasm: ${memory().numTensors - live0} tensors left alive`);
    notes.push(
      `Inputs: q, k, v float32 [${ATTENTION.batch}, ${ATTENTION.heads}, T, ${ATTENTION.headDim}] (uniform in [−1, 1)), causal, scale 1/√${ATTENTION.headDim}; each call reads its output back (\`dataSync()\`); outputs of the two ways compared before timing (max |difference| ≤ 1e-4, else a warning).`,
      `The backend primitive: ${primitive.join('; ')} (without it \`scaledDotProductAttention\` runs the composite itself, and the two columns measure the same thing).`,
      "Axon only: PyTorch 1.13 (Debian's) has no fused `scaled_dot_product_attention` (PyTorch ≥ 2.0), and jax-js's `nn.dotProductAttention` fails on Node 20 (see the gpt suite).",
    );
    const threadsNote = opts.threads ? await axonThreadsNote(opts.threads) : undefined;
    if (threadsNote) notes.push(threadsNote);
    const contenders: ContenderInfo[] = [
      ...counts.map((t, i) => ({
        id: ids(t).sdpa,
        label: threadedLabel('axon sdpa', t),
        axon: true,
        ...(t !== undefined ? { threads: t } : {}),
        ...(i === 0 ? { note: '`scaledDotProductAttention(q, k, v, { causal: true })`' } : {}),
      })),
      ...counts.map((t, i) => ({
        id: ids(t).comp,
        label: threadedLabel('composite', t),
        ...(t !== undefined ? { threads: t } : {}),
        ...(i === 0 ? { note: '`softmax(where(causal, matmul(q, k.T) / √D, −∞)) · v` with core ops (src/suites/attention.ts `compositeAttention`)' } : {}),
      })),
    ];
    return { id: 'attention', title: this.title, metric: msPerCall, contenders, cases, notes, warnings };
  },
};
