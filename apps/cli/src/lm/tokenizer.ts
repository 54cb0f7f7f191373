import { AxonError, fmtValue } from '@axon/core';
import { BpeTokenizer, CharTokenizer, type BpeTokenizerJSON, type CharTokenizerJSON } from '@axon/datasets';

/** The tokenizers a language model trained by `axon train` uses: characters or byte-level BPE. */
export type LmTokenizer = CharTokenizer | BpeTokenizer;

/** `--tokenizer` values. */
export const TOKENIZER_KINDS = ['char', 'bpe'] as const;
/** A `--tokenizer` value. */
export type TokenizerKind = (typeof TOKENIZER_KINDS)[number];

/** Which kind a tokenizer is. */
export function tokenizerKind(tok: LmTokenizer): TokenizerKind {
  return tok instanceof CharTokenizer ? 'char' : 'bpe';
}

/**
 * Reads a tokenizer saved beside a model (`toJSON()` of either kind), dispatching on its `type`.
 * Anything else is an {@link AxonError} naming the file.
 */
export function tokenizerFromJson(json: unknown, source: string): LmTokenizer {
  const type = json !== null && typeof json === 'object' ? (json as { type?: unknown }).type : undefined;
  try {
    if (type === 'char') return CharTokenizer.fromJSON(json as CharTokenizerJSON);
    if (type === 'bpe') return BpeTokenizer.fromJSON(json as BpeTokenizerJSON);
  } catch (e) {
    throw new AxonError('tokenizer', `${source}: ${e instanceof Error ? e.message : String(e)}`);
  }
  throw new AxonError('tokenizer', `${source} is not a tokenizer saved by axon (expected type 'char' or 'bpe', got ${fmtValue(type)})`);
}

/** One line describing a tokenizer: `char (65 characters)` / `bpe (byte-level, 512 tokens: 256 bytes + 256 merges)`. */
export function describeTokenizer(tok: LmTokenizer): string {
  if (tok instanceof CharTokenizer) return `char (${tok.vocabSize} characters${tok.unkId >= 0 ? `, unknown → ${JSON.stringify(tok.vocab[tok.unkId])}` : ''})`;
  return `bpe (byte-level, GPT-2 pre-tokenizer, ${tok.vocabSize} tokens: 256 bytes + ${tok.vocabSize - 256} merges)`;
}

/** Text decoded from token ids one at a time (see {@link tokenTextStream}). */
export interface TokenTextStream {
  /** The text that token `id` completes: '' while its bytes end inside a UTF-8 character. */
  push(id: number): string;
  /** Whatever is still buffered (bytes of an unfinished character decode to U+FFFD, as `decode`). */
  end(): string;
}

/**
 * Decodes tokens as they are generated, so that the concatenation of every `push` and `end` is
 * exactly `tok.decode(ids)`. A character tokenizer's token is whole characters; a byte-level BPE
 * token may end inside a multi-byte UTF-8 character, whose bytes are held until the token that
 * completes it (never printed as U+FFFD while more bytes may come).
 */
export function tokenTextStream(tok: LmTokenizer): TokenTextStream {
  if (tok instanceof CharTokenizer) return { push: (id) => tok.decode([id]), end: () => '' };
  const utf8 = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
  return { push: (id) => utf8.decode(tok.tokenBytes(id), { stream: true }), end: () => utf8.decode() };
}
