import { AxonError, fmtValue } from '@axon/core';
import { checkIds, checkText } from './char-tokenizer.js';

/**
 * GPT-2's pre-tokenizer: text is cut into pieces (contractions, a word with its leading space,
 * numbers, runs of punctuation, whitespace) and merges never cross a piece's boundary.
 */
const GPT2_PATTERN = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/** The largest vocabulary {@link BpeTokenizer} supports (2^20 tokens). */
const MAX_BPE_VOCAB = 2 ** 20;
const SHIFT = MAX_BPE_VOCAB;
const CACHE_LIMIT = 1 << 18;

/**
 * The saved form of a {@link BpeTokenizer} (`toJSON()`), read back by {@link BpeTokenizer.fromJSON}.
 *
 * @example
 * const saved: BpeTokenizerJSON = BpeTokenizer.train('aaabdaaabac', { vocabSize: 300 }).toJSON();
 * saved.merges; // [[97, 97], [97, 98], [256, 257]]
 */
export interface BpeTokenizerJSON {
  /** Always `'bpe'`. */
  readonly type: 'bpe';
  /** Format version (1). */
  readonly version: 1;
  /** The pre-tokenizer: `'gpt2'` (GPT-2's regular expression). */
  readonly pattern: 'gpt2';
  /**
   * The merges in the order they were learned: merge `k` joins tokens `[a, b]` into token
   * `256 + k`. Tokens `0 … 255` are the bytes.
   */
  readonly merges: readonly (readonly [number, number])[];
}

/**
 * Default limits of {@link BpeTokenizer.fromJSON} (each raisable by the option of the same name):
 * `maxTokenBytes` — the longest token, in bytes (65,536); `maxTotalBytes` — the bytes of all
 * tokens together (64 MiB). A tokenizer holds every token's bytes, and a few merges can ask for
 * exponentially many (each doubling the last token: 31 merges, 4 GiB), so a saved tokenizer is
 * refused before anything is allocated when it passes them. Trained tokenizers are far below:
 * GPT-2's 50,257 tokens hold about 330 kB, its longest token 128 bytes.
 *
 * @example
 * ```ts
 * BPE_LIMITS.maxTokenBytes; // 65536
 * // 17 merges, each joining the last token to itself: token 272 is 2^17 = 131072 'a's
 * const merges: [number, number][] = [[97, 97]];
 * for (let k = 1; k < 17; k++) merges.push([255 + k, 255 + k]);
 * const json = { type: 'bpe', version: 1, pattern: 'gpt2', merges } as const;
 * BpeTokenizer.fromJSON(json); // throws: 'longer than the limit of 65536 bytes'
 * BpeTokenizer.fromJSON(json, { maxTokenBytes: 2 ** 17 }).tokenBytes(272).length; // 131072
 * ```
 */
export const BPE_LIMITS: Readonly<{ maxTokenBytes: number; maxTotalBytes: number }> = Object.freeze({
  maxTokenBytes: 2 ** 16,
  maxTotalBytes: 64 * 2 ** 20,
});

/**
 * Options of {@link BpeTokenizer.fromJSON}: limits on the token bytes a saved tokenizer may ask
 * for (defaults in {@link BPE_LIMITS}; `Infinity` lifts one).
 *
 * @example
 * ```ts
 * const opts: BpeLoadOptions = { maxTokenBytes: 2 ** 20, maxTotalBytes: 2 ** 28 };
 * BpeTokenizer.fromJSON({ type: 'bpe', version: 1, pattern: 'gpt2', merges: [[104, 105]] }, opts).vocabSize; // 257
 * ```
 */
export interface BpeLoadOptions {
  /** The longest token allowed, in bytes (default `BPE_LIMITS.maxTokenBytes`, 65,536). */
  maxTokenBytes?: number;
  /** The most bytes all tokens may hold together (default `BPE_LIMITS.maxTotalBytes`, 64 MiB). */
  maxTotalBytes?: number;
}

function checkLimit(op: string, name: string, v: unknown, fallback: number): number {
  if (v === undefined) return fallback;
  if (v === Infinity) return Infinity;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw new AxonError(op, `expected ${name} to be a positive integer (or Infinity), got ${fmtValue(v)}`);
  return v;
}

/**
 * Where each token's bytes start in one flat buffer (token `t`: `[start[t], start[t + 1])`), from
 * the lengths alone: nothing the size of the tokens is allocated. With limits, the first merge
 * whose token passes one is an {@link AxonError}.
 */
function tokenStarts(merges: readonly (readonly [number, number])[], op?: string, maxToken = Infinity, maxTotal = Infinity): Float64Array {
  const start = new Float64Array(256 + merges.length + 1);
  for (let i = 0; i <= 256; i++) start[i] = i;
  for (let k = 0; k < merges.length; k++) {
    const [a, b] = merges[k];
    const t = 256 + k;
    const len = start[a + 1] - start[a] + (start[b + 1] - start[b]);
    if (len > maxToken) {
      throw new AxonError(op ?? 'BpeTokenizer', `merges[${k}] = [${a}, ${b}] makes token ${t} of ${len} bytes, longer than the limit of ${maxToken} bytes (raise it with { maxTokenBytes })`);
    }
    start[t + 1] = start[t] + len;
    if (start[t + 1] > maxTotal) {
      throw new AxonError(op ?? 'BpeTokenizer', `the tokens of merges[0 … ${k}] hold ${start[t + 1]} bytes in all, more than the limit of ${maxTotal} bytes (raise it with { maxTotalBytes })`);
    }
  }
  return start;
}

/**
 * Options of {@link BpeTokenizer.train}.
 *
 * @example
 * const opts: BpeTrainOptions = { vocabSize: 512, minFrequency: 3 };
 * BpeTokenizer.train('the cat, the hat', opts).vocabSize; // 256
 */
export interface BpeTrainOptions {
  /**
   * The vocabulary size to reach: the 256 bytes plus `vocabSize − 256` merges (an integer in
   * [256, 2^20]). Training stops earlier when no pair occurs `minFrequency` times.
   */
  vocabSize: number;
  /** The fewest occurrences a pair needs to be merged (default 2). */
  minFrequency?: number;
}

/** @internal The pieces GPT-2's pre-tokenizer cuts `text` into (merges never cross them). */
export function gpt2Pieces(text: string): string[] {
  return Array.from(text.matchAll(GPT2_PATTERN), (m) => m[0]);
}

/** @internal The UTF-16 index of the first lone surrogate of `text`, or -1. */
export function loneSurrogateAt(text: string): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        i++;
        continue;
      }
    }
    return i;
  }
  return -1;
}

function checkWellFormed(op: string, text: string): void {
  const at = loneSurrogateAt(text);
  if (at >= 0) {
    throw new AxonError(op, `the text has a lone surrogate U+${text.charCodeAt(at).toString(16).toUpperCase()} at index ${at} (UTF-16); byte-level BPE works on UTF-8, which cannot represent it (String.prototype.toWellFormed() replaces it with U+FFFD)`);
  }
}

/** A max-heap of pair keys by (count desc, left id asc, right id asc), with stale entries skipped by the caller. */
class PairHeap {
  private readonly counts: number[] = [];
  private readonly keys: number[] = [];

  get size(): number {
    return this.keys.length;
  }

  private above(i: number, j: number): boolean {
    const ci = this.counts[i];
    const cj = this.counts[j];
    return ci > cj || (ci === cj && this.keys[i] < this.keys[j]); // key = a·2^20 + b orders by (a, b)
  }

  private swap(i: number, j: number): void {
    const c = this.counts[i];
    this.counts[i] = this.counts[j];
    this.counts[j] = c;
    const k = this.keys[i];
    this.keys[i] = this.keys[j];
    this.keys[j] = k;
  }

  push(count: number, key: number): void {
    this.counts.push(count);
    this.keys.push(key);
    let i = this.keys.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.above(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }

  /** The top entry as [count, key], removed. */
  pop(): [number, number] {
    const top: [number, number] = [this.counts[0], this.keys[0]];
    const lastC = this.counts.pop()!;
    const lastK = this.keys.pop()!;
    const n = this.keys.length;
    if (n > 0) {
      this.counts[0] = lastC;
      this.keys[0] = lastK;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < n && this.above(l, m)) m = l;
        if (r < n && this.above(r, m)) m = r;
        if (m === i) break;
        this.swap(i, m);
        i = m;
      }
    }
    return top;
  }
}

/** Merges every (left-to-right, non-overlapping) occurrence of `a b` in `sym` into `z`; returns the new list, or null when there is none. */
function mergePair(sym: readonly number[], a: number, b: number, z: number): number[] | null {
  let found = false;
  for (let i = 0; i + 1 < sym.length; i++) {
    if (sym[i] === a && sym[i + 1] === b) {
      found = true;
      break;
    }
  }
  if (!found) return null;
  const out: number[] = [];
  for (let i = 0; i < sym.length; i++) {
    if (i + 1 < sym.length && sym[i] === a && sym[i + 1] === b) {
      out.push(z);
      i++;
    } else {
      out.push(sym[i]);
    }
  }
  return out;
}

/**
 * A byte-level BPE tokenizer, as GPT-2's: text is cut into pieces by GPT-2's pre-tokenizer
 * (words with their leading space, numbers, punctuation runs, whitespace), each piece is taken
 * as its UTF-8 bytes (tokens 0…255, so any text can be encoded and nothing is ever unknown),
 * and learned merges join adjacent tokens into longer ones. `train` learns the merges by
 * frequency: each step merges the most frequent adjacent pair over all pieces (counted with
 * their multiplicity), ties going to the pair with the smaller left id, then the smaller right
 * id — so training is deterministic. Pair counts are updated incrementally (only the pieces that
 * hold the merged pair are visited), so a megabyte of text trains in seconds.
 *
 * `decode(encode(s)) === s` for every well-formed string (emoji and other astral characters
 * included); a string with a lone surrogate, which UTF-8 cannot hold, is an {@link AxonError}.
 *
 * @example
 * ```ts
 * const text = 'the cat sat on the mat. the cat ate the rat.';
 * const tok = BpeTokenizer.train(text, { vocabSize: 300 });
 * // 6 merges, then no pair occurs twice (the default minFrequency), so training stops early
 * tok.vocabSize; // 262
 * const ids = tok.encode('the cat');
 * ids.length < 'the cat'.length; // true
 * tok.decode(ids); // 'the cat'
 * tok.decode(tok.encode('déjà vu 🙂')); // 'déjà vu 🙂'
 * const again = BpeTokenizer.fromJSON(JSON.stringify(tok));
 * Array.from(again.encode(text)).join() === Array.from(tok.encode(text)).join(); // true
 * ```
 */
export class BpeTokenizer {
  private readonly mergeList: readonly (readonly [number, number])[];
  private readonly ranks: Map<number, number>;
  /** Every token's bytes, back to back: token `t` is `flat[start[t] … start[t + 1])`. */
  private readonly flat: Uint8Array;
  private readonly start: Float64Array;
  private readonly cache = new Map<string, Int32Array>();

  /** `start` from {@link tokenStarts} (so the sizes are known, and checked, before this allocates). */
  private constructor(merges: readonly (readonly [number, number])[], start: Float64Array) {
    this.mergeList = merges;
    this.ranks = new Map();
    this.start = start;
    const flat = new Uint8Array(start[start.length - 1]);
    for (let i = 0; i < 256; i++) flat[i] = i;
    for (let k = 0; k < merges.length; k++) {
      const [a, b] = merges[k];
      this.ranks.set(a * SHIFT + b, k);
      const at = start[256 + k];
      flat.copyWithin(at, start[a], start[a + 1]);
      flat.copyWithin(at + start[a + 1] - start[a], start[b], start[b + 1]);
    }
    this.flat = flat;
  }

  private bytesOfToken(id: number): Uint8Array {
    return this.flat.subarray(this.start[id], this.start[id + 1]);
  }

  /**
   * Learns `vocabSize − 256` merges from `text` (fewer if no pair occurs `minFrequency` times).
   *
   * @example
   * ```ts
   * // one piece, "aaabdaaabac": aa (4 times) → 256, then ab and 256 a tie at 2 (ab has the
   * // smaller ids) → 257, then 256 257 (2) → 258; every other pair occurs once
   * const tok = BpeTokenizer.train('aaabdaaabac', { vocabSize: 1000 });
   * tok.merges; // [[97, 97], [97, 98], [256, 257]]
   * tok.encode('aaabdaaabac'); // [258, 100, 258, 97, 99]
   * BpeTokenizer.train('abc', { vocabSize: 100 }); // throws
   * ```
   */
  static train(text: string, options: BpeTrainOptions): BpeTokenizer {
    const op = 'BpeTokenizer.train';
    checkText(op, text);
    if (options === null || typeof options !== 'object') throw new AxonError(op, `expected options { vocabSize, minFrequency? }, got ${fmtValue(options)}`);
    const { vocabSize, minFrequency = 2 } = options;
    if (typeof vocabSize !== 'number' || !Number.isInteger(vocabSize) || vocabSize < 256 || vocabSize > MAX_BPE_VOCAB) {
      throw new AxonError(op, `expected vocabSize to be an integer in [256, ${MAX_BPE_VOCAB}] (the 256 bytes plus the merges), got ${fmtValue(vocabSize)}`);
    }
    if (typeof minFrequency !== 'number' || !Number.isInteger(minFrequency) || minFrequency < 1) {
      throw new AxonError(op, `expected minFrequency to be an integer ≥ 1, got ${fmtValue(minFrequency)}`);
    }
    checkWellFormed(op, text);

    // Distinct pieces with their counts; each is trained once, weighted by its count.
    const pieceCounts = new Map<string, number>();
    for (const m of text.matchAll(GPT2_PATTERN)) pieceCounts.set(m[0], (pieceCounts.get(m[0]) ?? 0) + 1);
    const encoder = new TextEncoder();
    const words: number[][] = [];
    const freq: number[] = [];
    for (const [piece, f] of pieceCounts) {
      words.push(Array.from(encoder.encode(piece)));
      freq.push(f);
    }

    const pairCount = new Map<number, number>();
    const where = new Map<number, Set<number>>();
    const note = (key: number, w: number): void => {
      let s = where.get(key);
      if (!s) where.set(key, (s = new Set()));
      s.add(w);
    };
    for (let w = 0; w < words.length; w++) {
      const s = words[w];
      for (let i = 0; i + 1 < s.length; i++) {
        const key = s[i] * SHIFT + s[i + 1];
        pairCount.set(key, (pairCount.get(key) ?? 0) + freq[w]);
        note(key, w);
      }
    }
    const heap = new PairHeap();
    for (const [key, c] of pairCount) heap.push(c, key);

    const merges: [number, number][] = [];
    const delta = new Map<number, number>();
    while (256 + merges.length < vocabSize) {
      let best = -1;
      let bestCount = 0;
      while (heap.size > 0) {
        const [c, key] = heap.pop();
        if (pairCount.get(key) === c) {
          best = key;
          bestCount = c;
          break;
        }
      }
      if (best < 0 || bestCount < minFrequency) break;
      const a = Math.floor(best / SHIFT);
      const b = best - a * SHIFT;
      const z = 256 + merges.length;
      merges.push([a, b]);
      const holders = [...(where.get(best) ?? [])].sort((p, q) => p - q);
      delta.clear();
      for (const w of holders) {
        const old = words[w];
        const merged = mergePair(old, a, b, z);
        if (!merged) continue; // a stale entry: the pair left this piece in an earlier merge
        const f = freq[w];
        for (let i = 0; i + 1 < old.length; i++) {
          const k = old[i] * SHIFT + old[i + 1];
          delta.set(k, (delta.get(k) ?? 0) - f);
        }
        for (let i = 0; i + 1 < merged.length; i++) {
          const k = merged[i] * SHIFT + merged[i + 1];
          delta.set(k, (delta.get(k) ?? 0) + f);
          if (merged[i] === z || merged[i + 1] === z) note(k, w);
        }
        words[w] = merged;
      }
      for (const [k, d] of delta) {
        if (d === 0) continue;
        const c = (pairCount.get(k) ?? 0) + d;
        if (c > 0) {
          pairCount.set(k, c);
          heap.push(c, k);
        } else {
          pairCount.delete(k);
        }
      }
      where.delete(best);
    }
    return new BpeTokenizer(merges, tokenStarts(merges));
  }

  /**
   * Reads a tokenizer saved with {@link BpeTokenizer.toJSON} (the object, or its JSON text).
   * Merge `k` may only join tokens that exist before it (ids below `256 + k`), and no pair twice.
   * Token sizes are computed from the merges before any token is built: a tokenizer whose longest
   * token or total token bytes pass the limits ({@link BPE_LIMITS}, raisable with `options`) is an
   * {@link AxonError}, so a tiny hostile JSON cannot ask for gigabytes.
   *
   * @example
   * ```ts
   * const tok = BpeTokenizer.fromJSON({ type: 'bpe', version: 1, pattern: 'gpt2', merges: [[104, 105]] });
   * tok.encode('hi'); // [256]
   * tok.vocabSize; // 257
   * BpeTokenizer.fromJSON({ type: 'bpe', version: 1, pattern: 'gpt2', merges: [[104, 300]] }); // throws
   * ```
   */
  static fromJSON(json: BpeTokenizerJSON | string, options: BpeLoadOptions = {}): BpeTokenizer {
    const op = 'BpeTokenizer.fromJSON';
    if (options === null || typeof options !== 'object') throw new AxonError(op, `expected options { maxTokenBytes?, maxTotalBytes? }, got ${fmtValue(options)}`);
    const maxToken = checkLimit(op, 'maxTokenBytes', options.maxTokenBytes, BPE_LIMITS.maxTokenBytes);
    const maxTotal = checkLimit(op, 'maxTotalBytes', options.maxTotalBytes, BPE_LIMITS.maxTotalBytes);
    let obj: unknown = json;
    if (typeof json === 'string') {
      try {
        obj = JSON.parse(json);
      } catch (e) {
        throw new AxonError(op, `not valid JSON: ${(e as Error).message}`);
      }
    }
    if (obj === null || typeof obj !== 'object') throw new AxonError(op, `expected an object { type: 'bpe', version: 1, pattern: 'gpt2', merges }, got ${fmtValue(obj)}`);
    const o = obj as Partial<Record<keyof BpeTokenizerJSON, unknown>>;
    if (o.type !== 'bpe') throw new AxonError(op, `expected type 'bpe', got ${fmtValue(o.type)}`);
    if (o.version !== 1) throw new AxonError(op, `unsupported version ${fmtValue(o.version)}; expected 1`);
    if (o.pattern !== 'gpt2') throw new AxonError(op, `unsupported pre-tokenizer pattern ${fmtValue(o.pattern)}; expected 'gpt2'`);
    if (!Array.isArray(o.merges)) throw new AxonError(op, `expected merges to be an array of [a, b] id pairs, got ${fmtValue(o.merges)}`);
    if (256 + o.merges.length > MAX_BPE_VOCAB) throw new AxonError(op, `${o.merges.length} merges make a vocabulary over ${MAX_BPE_VOCAB} tokens, the limit`);
    const merges: [number, number][] = [];
    const seen = new Set<number>();
    for (let k = 0; k < o.merges.length; k++) {
      const m: unknown = o.merges[k];
      const ok = Array.isArray(m) && m.length === 2 && m.every((v) => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < 256 + k);
      if (!ok) throw new AxonError(op, `merges[${k}] must be [a, b] with integer ids in [0, ${256 + k}) (the tokens that exist before it), got ${fmtValue(m)}`);
      const [a, b] = m as [number, number];
      if (seen.has(a * SHIFT + b)) throw new AxonError(op, `merges[${k}] repeats the pair [${a}, ${b}]`);
      seen.add(a * SHIFT + b);
      merges.push([a, b]);
    }
    return new BpeTokenizer(merges, tokenStarts(merges, op, maxToken, maxTotal));
  }

  /**
   * The number of tokens: 256 bytes plus one per merge.
   * @example BpeTokenizer.train('abab abab', { vocabSize: 258 }).vocabSize // 258
   */
  get vocabSize(): number {
    return 256 + this.mergeList.length;
  }

  /**
   * The merges in the order learned: merge `k` joins `[a, b]` into token `256 + k`.
   * @example BpeTokenizer.train('hi hi hi', { vocabSize: 1000 }).merges // [[104, 105], [32, 256]]
   */
  get merges(): readonly (readonly [number, number])[] {
    return this.mergeList;
  }

  /**
   * The UTF-8 bytes token `id` stands for (a copy).
   *
   * @example
   * ```ts
   * const tok = BpeTokenizer.train('hi hi hi', { vocabSize: 1000 });
   * tok.tokenBytes(257); // [32, 104, 105]
   * new TextDecoder().decode(tok.tokenBytes(257)); // ' hi'
   * ```
   */
  tokenBytes(id: number): Uint8Array {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
      throw new AxonError('BpeTokenizer.tokenBytes', `expected a token id, an integer in [0, ${this.vocabSize}), got ${fmtValue(id)}`);
    }
    return this.bytesOfToken(id).slice();
  }

  /**
   * The token ids of `text`: each pre-tokenized piece's UTF-8 bytes, merged by applying the
   * lowest-ranked (earliest learned) applicable merge until none applies, as GPT-2 does.
   * A lone surrogate is an {@link AxonError} (UTF-8 cannot hold it).
   *
   * @example
   * ```ts
   * const tok = BpeTokenizer.train('hi hi hi', { vocabSize: 1000 });
   * tok.encode('hi hi!'); // [256, 257, 33]
   * tok.encode('😀'); // [240, 159, 152, 128]
   * tok.encode('\ud800'); // throws
   * ```
   */
  encode(text: string): Int32Array {
    const op = 'BpeTokenizer.encode';
    checkText(op, text);
    checkWellFormed(op, text);
    const encoder = new TextEncoder();
    const parts: Int32Array[] = [];
    let total = 0;
    for (const m of text.matchAll(GPT2_PATTERN)) {
      const piece = m[0];
      let ids = this.cache.get(piece);
      if (!ids) {
        ids = this.encodePiece(encoder.encode(piece));
        if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
        this.cache.set(piece, ids);
      }
      parts.push(ids);
      total += ids.length;
    }
    const out = new Int32Array(total);
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  private encodePiece(bytes: Uint8Array): Int32Array {
    let sym: number[] = Array.from(bytes);
    while (sym.length > 1) {
      let bestRank = Infinity;
      for (let i = 0; i + 1 < sym.length; i++) {
        const r = this.ranks.get(sym[i] * SHIFT + sym[i + 1]);
        if (r !== undefined && r < bestRank) bestRank = r;
      }
      if (bestRank === Infinity) break;
      const [a, b] = this.mergeList[bestRank];
      sym = mergePair(sym, a, b, 256 + bestRank)!;
    }
    return Int32Array.from(sym);
  }

  /**
   * The UTF-8 bytes of `ids` (each an integer in `[0, vocabSize)`, else an {@link AxonError}).
   *
   * @example
   * ```ts
   * const tok = BpeTokenizer.train('hi hi hi', { vocabSize: 1000 });
   * tok.decodeBytes([256, 33]); // [104, 105, 33]
   * ```
   */
  decodeBytes(ids: ArrayLike<number>): Uint8Array {
    return this.bytesOf('BpeTokenizer.decodeBytes', ids);
  }

  private bytesOf(op: string, ids: ArrayLike<number>): Uint8Array {
    const a = checkIds(op, ids, this.vocabSize);
    let n = 0;
    for (let i = 0; i < a.length; i++) n += this.start[a[i] + 1] - this.start[a[i]];
    const out = new Uint8Array(n);
    let at = 0;
    for (let i = 0; i < a.length; i++) {
      const t = this.bytesOfToken(a[i]);
      out.set(t, at);
      at += t.length;
    }
    return out;
  }

  /**
   * The text of `ids`: their bytes decoded as UTF-8. `decode(encode(s)) === s` for every
   * well-formed string; ids that cut a character's bytes apart (e.g. a model's sample stopped
   * mid-character) decode to U+FFFD for the broken bytes, as GPT-2's `errors='replace'`.
   *
   * @example
   * ```ts
   * const tok = BpeTokenizer.train('hi hi hi', { vocabSize: 1000 });
   * tok.decode([256, 257, 33]); // 'hi hi!'
   * tok.decode([240, 159]) === '\ufffd'; // true
   * tok.decode([1000]); // throws
   * ```
   */
  decode(ids: ArrayLike<number>): string {
    return new TextDecoder('utf-8', { fatal: false, ignoreBOM: true }).decode(this.bytesOf('BpeTokenizer.decode', ids));
  }

  /**
   * The saved form (plain JSON data): `JSON.stringify(tokenizer)` uses it.
   *
   * @example
   * ```ts
   * const tok = BpeTokenizer.train('hi hi hi', { vocabSize: 1000 });
   * tok.toJSON(); // { type: 'bpe', version: 1, pattern: 'gpt2', merges: [[104, 105], [32, 256]] }
   * BpeTokenizer.fromJSON(JSON.stringify(tok)).encode(' hi'); // [257]
   * ```
   */
  toJSON(): BpeTokenizerJSON {
    return { type: 'bpe', version: 1, pattern: 'gpt2', merges: this.mergeList.map(([a, b]) => [a, b] as const) };
  }
}
