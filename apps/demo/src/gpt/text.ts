/** Small pure helpers of the GPT page and its worker (unit-tested in test/gpt.test.ts). */
import type { GptTrainParams } from './protocol.js';

/** Warm-up steps of the learning-rate schedule: 5 % of the run, between 1 and 100. */
export function warmupSteps(steps: number): number {
  return Math.max(1, Math.min(100, Math.round(steps / 20)));
}

/** The factor of the peak learning rate at step `t` (0-based) of `steps`: linear warm-up, then cosine decay to a tenth. */
export function lrFactor(t: number, steps: number): number {
  const warmup = warmupSteps(steps);
  if (t < warmup) return (t + 1) / warmup;
  const p = Math.min(1, (t - warmup) / Math.max(1, steps - warmup));
  return 0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI * p));
}

/**
 * The prompt the worker's samples start from while training: the first words of the held-out
 * text (about 24 characters, cut after a space), so the samples show how the model continues text
 * it was not trained on.
 */
export function samplePrompt(val: string, length = 24): string {
  const start = val.search(/[A-Z]/); // from a capital letter: a sentence or name
  const from = val.slice(Math.max(0, start)).replace(/\s+/g, ' ');
  if (from.length <= length) return from;
  const cut = from.lastIndexOf(' ', length);
  return from.slice(0, cut > 0 ? cut + 1 : length);
}

/** Throws an Error naming the first training setting that is out of range (the page clamps them; a hand-made message may not). */
export function checkTrainParams(p: GptTrainParams): void {
  const int = (name: keyof GptTrainParams, min: number, max: number): void => {
    const v = p[name];
    if (!Number.isInteger(v) || v < min || v > max) throw new Error(`${name} must be an integer in [${min}, ${max}], got ${String(v)}`);
  };
  int('width', 8, 512);
  int('heads', 1, 16);
  int('layers', 1, 8);
  int('contextLength', 8, 256);
  int('batchSize', 1, 256);
  int('steps', 1, 100_000);
  int('sampleEvery', 0, 100_000);
  int('sampleLength', 1, 1000);
  int('seed', 0, 2 ** 31 - 1);
  if (p.width % p.heads !== 0) throw new Error(`width ${p.width} must be a multiple of heads ${p.heads}`);
  if (!(p.learningRate > 0 && p.learningRate <= 1)) throw new Error(`learningRate must be in (0, 1], got ${String(p.learningRate)}`);
}

/** The model sizes the page offers: each learns visibly within a minute in a browser. */
export const GPT_SIZES = {
  tiny: { width: 48, heads: 4, layers: 2, contextLength: 32, batchSize: 16 },
  small: { width: 64, heads: 4, layers: 2, contextLength: 64, batchSize: 16 },
  medium: { width: 128, heads: 4, layers: 4, contextLength: 64, batchSize: 16 },
} as const satisfies Record<string, Pick<GptTrainParams, 'width' | 'heads' | 'layers' | 'contextLength' | 'batchSize'>>;

export type GptSize = keyof typeof GPT_SIZES;
