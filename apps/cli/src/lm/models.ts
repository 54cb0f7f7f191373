import { AxonError, type Tensor } from '@axon/core';
import * as layers from '@axon/layers';
import type { Module } from '@axon/layers';

/** `axon train --model` values that train a language model. */
export const LM_MODEL_NAMES = ['gpt', 'lstm'] as const;
/** A language-model `--model`. */
export type LmModelName = (typeof LM_MODEL_NAMES)[number];

/** Options of `generate` (layers' `LanguageModel`). */
export interface GenerateOptions {
  maxTokens: number;
  temperature?: number;
  topK?: number;
  seed?: number;
}

/** A language model as `@axon/layers` builds it (`gpt`, `lstmLm`): ids → logits, and sampling. */
export interface Lm extends Module {
  forward(ids: Tensor): Tensor;
  generate(prompt: number[] | Int32Array, opts: GenerateOptions): Promise<number[]>;
}

/** Whether `name` is a language model's `--model`. */
export function isLmModelName(name: string): name is LmModelName {
  return (LM_MODEL_NAMES as readonly string[]).includes(name);
}

/** The architecture options of each language model (what `--layers`, `--heads`, … set). */
export interface LmShape {
  vocabSize: number;
  contextLength: number;
  width: number;
  heads: number;
  layers: number;
  dropout: number;
}

/** The config that `gpt(…)` / `lstmLm(…)` is called with, for a model kind. */
export function lmConfig(name: LmModelName, s: LmShape): Record<string, number> {
  return name === 'gpt'
    ? { vocabSize: s.vocabSize, contextLength: s.contextLength, width: s.width, heads: s.heads, layers: s.layers, dropout: s.dropout }
    : { vocabSize: s.vocabSize, width: s.width, layers: s.layers };
}

/** Builds `gpt(config)` or `lstmLm(config)` from `@axon/layers`. */
export function buildLm(name: LmModelName, config: Record<string, number>): Lm {
  const factory = (layers as unknown as Record<string, unknown>)[name === 'gpt' ? 'gpt' : 'lstmLm'];
  if (typeof factory !== 'function') throw new AxonError('train', `@axon/layers has no ${name === 'gpt' ? 'gpt' : 'lstmLm'}() yet`);
  return (factory as (c: Record<string, number>) => Lm)(config);
}

/** Checks that a module is a language model (it has `forward` and `generate`). */
export function asLm(op: string, m: Module, source: string): Lm {
  if (typeof (m as unknown as Partial<Lm>).generate !== 'function') throw new AxonError(op, `${source} holds a ${m.className}, which cannot generate text`);
  return m as unknown as Lm;
}
