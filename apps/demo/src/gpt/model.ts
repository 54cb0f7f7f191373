/**
 * The GPT page's model: `@axon/layers`' `gpt` — token embedding, learned positions, pre-norm
 * transformer blocks with causal attention, the PyTorch GPT's architecture and state-dict names —
 * behind its `LanguageModel` interface: `forward(ids int32 [B, T]) → logits [B, T, V]` and a seeded
 * `generate(prompt, { maxTokens, temperature, topK, seed })` with a KV cache.
 */
import { type GenerateOptions, type GptConfig, type LanguageModel, gpt } from '@axon/layers';

export type { GenerateOptions, GptConfig, LanguageModel };

/** Builds the page's GPT (dropout 0: the runs are short and the text is small enough to see it learn). */
export function buildGpt(config: GptConfig): LanguageModel {
  return gpt({ ...config, dropout: 0 });
}
