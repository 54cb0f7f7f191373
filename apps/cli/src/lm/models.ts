import { AxonError } from '@axon/core';
import { gpt, lstmLm, type LanguageModel, type Module } from '@axon/layers';

/** `axon train --model` values that train a language model. */
export const LM_MODEL_NAMES = ['gpt', 'lstm'] as const;
/** A language-model `--model`. */
export type LmModelName = (typeof LM_MODEL_NAMES)[number];

/** A language model of `@axon/layers` (`gpt`, `lstmLm`): ids → logits, and seeded sampling. */
export type Lm = LanguageModel;

/** Whether `name` is a language model's `--model`. */
export function isLmModelName(name: string): name is LmModelName {
  return (LM_MODEL_NAMES as readonly string[]).includes(name);
}

/** The architecture options of a language model (what `--layers`, `--heads`, … set). */
export interface LmShape {
  vocabSize: number;
  contextLength: number;
  width: number;
  heads: number;
  layers: number;
  dropout: number;
}

/** The config `gpt(…)` / `lstmLm(…)` is called with (an LSTM has no heads and no context limit). */
export function lmConfig(name: LmModelName, s: LmShape): Record<string, number> {
  return name === 'gpt'
    ? { vocabSize: s.vocabSize, contextLength: s.contextLength, width: s.width, heads: s.heads, layers: s.layers, dropout: s.dropout }
    : { vocabSize: s.vocabSize, width: s.width, layers: s.layers, dropout: s.dropout };
}

/** Builds `gpt(config)` or `lstmLm(config)` from `@axon/layers`. */
export function buildLm(name: LmModelName, c: Record<string, number>): Lm {
  return name === 'gpt'
    ? gpt({ vocabSize: c.vocabSize!, contextLength: c.contextLength!, width: c.width!, heads: c.heads!, layers: c.layers!, dropout: c.dropout! })
    : lstmLm({ vocabSize: c.vocabSize!, width: c.width!, layers: c.layers!, dropout: c.dropout! });
}

/** Checks that a loaded module is a language model (it has `generate`). */
export function asLm(op: string, m: Module, source: string): Lm {
  if (typeof (m as unknown as Partial<Lm>).generate !== 'function') throw new AxonError(op, `${source} holds a ${m.className}, which cannot generate text`);
  return m as unknown as Lm;
}
