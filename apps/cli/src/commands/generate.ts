import { performance } from 'node:perf_hooks';
import { AxonError } from '@axon/core';
import '@axon/autograd';
import { chooseBackend } from '../backend.js';
import { secs } from '../format.js';
import { asLm } from '../lm/models.js';
import { loadLm } from '../lm/store.js';
import { describeTokenizer, tokenTextStream } from '../lm/tokenizer.js';

/** Options of `axon generate`. */
export interface GenerateCommandOptions {
  /** The model folder `axon train --model gpt|lstm --output` wrote. */
  path: string;
  prompt: string;
  /** Sampling temperature (0 = greedy; default 0.8). */
  temperature?: number;
  /** Sample only from the k most likely tokens. */
  topK?: number;
  /** Tokens to generate (default 200). */
  maxTokens?: number;
  /** Seed of the sampling (default 0): the same seed gives the same text. */
  seed?: number;
  backend?: string;
  threads?: number | 'auto';
  /** Stops generating once aborted (the CLI aborts it on Ctrl-C); the text so far is kept. */
  signal?: AbortSignal;
}

/** What `axon generate` produced (for tests). */
export interface GenerateResult {
  /** The prompt and its continuation. */
  text: string;
  /** The continuation's token ids. */
  ids: number[];
  tokensPerSecond: number;
  /** Whether `signal` stopped generation before `maxTokens` tokens. */
  stopped: boolean;
}

/**
 * Writes to stdout; when the stream's buffer is full (a slow pipe), the promise resolves once it
 * has drained (or the stream closed or failed), so that generation waits for its reader.
 */
function writeStdout(s: string): Promise<void> | undefined {
  if (process.stdout.write(s)) return undefined;
  return new Promise((resolve) => {
    const done = (): void => {
      process.stdout.off('drain', done);
      process.stdout.off('close', done);
      process.stdout.off('error', done);
      resolve();
    };
    process.stdout.on('drain', done);
    process.stdout.on('close', done);
    process.stdout.on('error', done);
  });
}

/**
 * `axon generate <model> --prompt "…"`: continues the prompt with a language model saved by
 * `axon train --model gpt|lstm`, tokenized with the tokenizer saved beside it, and streams the
 * text: the prompt, then each token's text as soon as it is sampled (`write`, default stdout;
 * a returned promise — stdout's buffer draining — is awaited before the next token). With the
 * byte-level BPE tokenizer a token may end inside a UTF-8 character: its bytes are held until the
 * character is complete, so what is written is exactly `decode(ids)`, never a U+FFFD for a split
 * character. An aborted `signal` (Ctrl-C in the CLI) stops generation cleanly: the text so far
 * ends with a newline and the log says it stopped. The arguments, the prompt (not empty; every
 * character in the tokenizer's vocabulary) and the folder (a language model, not e.g. an MNIST
 * model) are checked before anything is generated.
 */
export async function generate(o: GenerateCommandOptions, write: (s: string) => void | Promise<void> = writeStdout, log: (s: string) => void = (s) => console.error(s)): Promise<GenerateResult> {
  const op = 'generate';
  if (typeof o.prompt !== 'string' || o.prompt === '') throw new AxonError(op, '--prompt is empty: give the text to continue, e.g. --prompt "The "');
  const temperature = o.temperature ?? 0.8;
  if (!(temperature >= 0 && Number.isFinite(temperature))) throw new AxonError(op, `--temperature must be a number ≥ 0 (0 = always the most likely token), got ${temperature}`);
  const maxTokens = o.maxTokens ?? 200;
  await chooseBackend(o.backend, o.threads !== undefined ? { threads: o.threads } : {});
  const lm = await loadLm(o.path, op);
  try {
    if (lm.checkpoint) for (const t of Object.values(lm.checkpoint.optimizerTensors)) t.dispose();
    const model = asLm(op, lm.model, o.path);
    const { tokenizer } = lm;
    let prompt: Int32Array;
    try {
      prompt = tokenizer.encode(o.prompt);
    } catch (e) {
      throw new AxonError(op, `--prompt cannot be encoded by the model's tokenizer, ${describeTokenizer(tokenizer)}: ${e instanceof Error ? e.message.replace(/^[\w.]+: /, '').replace(/; build the tokenizer.*$/, '') : String(e)}`);
    }
    if (prompt.length === 0) throw new AxonError(op, '--prompt encodes to no tokens');
    if (o.topK !== undefined && o.topK > tokenizer.vocabSize) throw new AxonError(op, `--top-k ${o.topK} is larger than the vocabulary (${tokenizer.vocabSize} tokens)`);
    model.eval();
    const t0 = performance.now();
    await write(o.prompt);
    const stream = tokenTextStream(tokenizer);
    let out = '';
    const ids = await model.generate(prompt, {
      maxTokens,
      temperature,
      ...(o.topK !== undefined ? { topK: o.topK } : {}),
      seed: o.seed ?? 0,
      ...(o.signal !== undefined ? { signal: o.signal } : {}),
      onToken: (id) => {
        const piece = stream.push(id);
        if (piece === '') return undefined;
        out += piece;
        return write(piece);
      },
    });
    const ms = performance.now() - t0;
    const tail = stream.end();
    out += tail;
    await write(`${tail}\n`);
    const stopped = ids.length < maxTokens;
    const rate = `${ids.length} tokens in ${secs(ms)} (${Math.round(ids.length / (ms / 1000))} tokens/s)`;
    log(stopped ? `stopped (interrupted) after ${rate}` : rate);
    return { text: o.prompt + out, ids, tokensPerSecond: ids.length / (ms / 1000), stopped };
  } finally {
    lm.model.dispose();
  }
}
