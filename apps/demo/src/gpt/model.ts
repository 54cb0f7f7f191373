/**
 * The GPT page's model: `@axon/layers`' `gpt` — token embedding, learned positions, pre-norm
 * transformer blocks with causal attention, the PyTorch GPT's architecture and state-dict names —
 * behind its `LanguageModel` interface (`forward(ids int32 [B, T]) → logits [B, T, V]`).
 *
 * Generation goes through {@link generate} below, not the model's own `generate`: the latter (with
 * its KV cache) leaves tensors behind in this version of `@axon/layers` — the ids tensor of each
 * step, and two tensors per block per step in `KVCache.append` (the `detach()`ed keys and values it
 * concatenates) — so a page that samples every few steps would grow without bound. This one runs
 * the model's `forward` over the last `contextLength` tokens for each new token (no KV cache: at
 * the page's sizes, context 32–64, a token costs a few milliseconds) inside `tidy`, and samples on
 * the host from a seeded generator with the same rules as the model's: temperature 0 is greedy
 * (the lowest id on ties), `topK` keeps the k most likely tokens.
 */
import { type Tensor, noGrad, tensor, tidy } from '@axon/core';
import { type GenerateOptions, type GptConfig, type LanguageModel, gpt } from '@axon/layers';

export type { GenerateOptions, GptConfig, LanguageModel };

/** Builds the page's GPT (dropout 0: the runs are short and the text is small enough to see it learn). */
export function buildGpt(config: GptConfig): LanguageModel {
  return gpt({ ...config, dropout: 0 });
}

/**
 * Generates `opts.maxTokens` tokens after `prompt` with `model` (in eval mode, without gradients),
 * leaving no tensor behind; the same seed gives the same tokens.
 */
export async function generate(model: LanguageModel, prompt: ArrayLike<number>, opts: GenerateOptions): Promise<number[]> {
  const { maxTokens, temperature = 1, topK, seed = 0 } = opts;
  const ids = Array.from(prompt);
  if (ids.length === 0) throw new Error('the prompt needs at least one token');
  const window = model.contextLength ?? ids.length + maxTokens;
  const V = model.vocabSize;
  const rng = mulberry32(seed);
  const out: number[] = [];
  const wasTraining = model.training;
  model.eval();
  try {
    for (let i = 0; i < maxTokens; i++) {
      const ctx = ids.slice(-window);
      const last: Tensor = tidy(() => noGrad(() => model.forward(tensor(Int32Array.from(ctx), [1, ctx.length], 'int32')).slice([0, ctx.length - 1, 0], [1, 1, V]).reshape([V])));
      let row: Float32Array;
      try {
        row = (await last.data()) as Float32Array;
      } finally {
        last.dispose();
      }
      const next = sampleToken(row, temperature, topK, rng());
      ids.push(next);
      out.push(next);
    }
  } finally {
    if (wasTraining) model.train();
  }
  return out;
}

/**
 * One token from `logits`: the largest with temperature 0 (the lowest id on ties), else a draw
 * (`u` uniform in [0, 1)) from softmax(logits / temperature) over the `topK` largest.
 */
export function sampleToken(logits: ArrayLike<number>, temperature: number, topK: number | undefined, u: number): number {
  const n = logits.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => logits[b]! - logits[a]! || a - b);
  if (temperature <= 0) return order[0]!;
  const k = Math.max(1, Math.min(n, topK ?? n));
  const max = logits[order[0]!]!;
  const w = order.slice(0, k).map((i) => Math.exp((logits[i]! - max) / temperature));
  const total = w.reduce((s, v) => s + v, 0);
  let acc = 0;
  for (let j = 0; j < k; j++) {
    acc += w[j]! / total;
    if (u < acc) return order[j]!;
  }
  return order[k - 1]!;
}

/** A small seeded uniform generator in [0, 1) (mulberry32). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
