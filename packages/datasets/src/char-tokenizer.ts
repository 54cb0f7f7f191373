import { AxonError, fmtValue } from '@axon/core';

/**
 * The saved form of a {@link CharTokenizer} (`toJSON()`), read back by {@link CharTokenizer.fromJSON}.
 *
 * @example
 * const saved: CharTokenizerJSON = CharTokenizer.fromText('ba').toJSON();
 * saved; // { type: 'char', version: 1, vocab: ['a', 'b'], unk: null }
 */
export interface CharTokenizerJSON {
  /** Always `'char'`. */
  readonly type: 'char';
  /** Format version (1). */
  readonly version: 1;
  /** The token of each id: one Unicode code point each, sorted by code point. */
  readonly vocab: readonly string[];
  /** The token unknown characters map to (one of `vocab`), or null: unknown characters are an error. */
  readonly unk: string | null;
}

/**
 * Options of {@link CharTokenizer.fromText}.
 *
 * @example
 * const tok = CharTokenizer.fromText('abc', { unk: '?' });
 * tok.encode('abz'); // [1, 2, 0]
 */
export interface CharTokenizerOptions {
  /**
   * A character (one code point) that characters missing from the vocabulary encode to; it is
   * added to the vocabulary if the text lacks it. Default: none, so `encode` throws on them.
   */
  unk?: string;
}

const MAX_CODE_POINT = 0x10ffff;

/**
 * @internal The code point of `text` at UTF-16 index `i` (a surrogate pair is one, taking two
 * units: `cp >= 0x10000`; a lone surrogate is itself).
 */
export function codePointAt(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
    const d = text.charCodeAt(i + 1);
    if (d >= 0xdc00 && d <= 0xdfff) return ((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000;
  }
  return c;
}

/** @internal The code points of `text`, whole (a surrogate pair is one; a lone surrogate is itself). */
export function codePoints(text: string): Int32Array {
  const out = new Int32Array(text.length);
  let n = 0;
  for (let i = 0; i < text.length; i += out[n++] >= 0x10000 ? 2 : 1) out[n] = codePointAt(text, i);
  return out.subarray(0, n);
}

/** @internal Checks that `text` is a string (for `op`). */
export function checkText(op: string, text: unknown, what = 'text'): asserts text is string {
  if (typeof text !== 'string') throw new AxonError(op, `expected the ${what} to be a string, got ${fmtValue(text)}`);
}

/** @internal `ids` as something indexable, checked: integers in [0, vocabSize). */
export function checkIds(op: string, ids: unknown, vocabSize: number): ArrayLike<number> {
  const ok = Array.isArray(ids) || ids instanceof Int32Array || ids instanceof Uint32Array || ids instanceof Uint16Array || ids instanceof Uint8Array || ids instanceof Float32Array || ids instanceof Float64Array;
  if (!ok) throw new AxonError(op, `expected token ids as an Int32Array or number[], got ${fmtValue(ids)}`);
  const a = ids as ArrayLike<number>;
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= vocabSize) {
      throw new AxonError(op, `token id ${fmtValue(v)} at index ${i} is not an integer in [0, ${vocabSize}) (the vocabulary size)`);
    }
  }
  return a;
}

function describeChar(cp: number): string {
  const hex = `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  return cp >= 0x20 && cp !== 0x7f && (cp < 0xd800 || cp > 0xdfff) ? `${JSON.stringify(String.fromCodePoint(cp))} (${hex})` : hex;
}

function singleCodePoint(op: string, what: string, s: unknown): number {
  if (typeof s !== 'string') throw new AxonError(op, `expected ${what} to be a one-character string, got ${fmtValue(s)}`);
  const cps = codePoints(s);
  if (cps.length !== 1) throw new AxonError(op, `expected ${what} to be exactly one character (Unicode code point), got ${JSON.stringify(s)} (${cps.length} code points)`);
  return cps[0];
}

/**
 * A character-level tokenizer: one token per Unicode code point (an emoji such as 😀, two UTF-16
 * units, is one token), the vocabulary sorted by code point, so the same text always gives the
 * same ids. Characters missing from the vocabulary are an {@link AxonError} from `encode`, or,
 * with the `unk` option, encode to that character's id.
 *
 * @example
 * ```ts
 * const tok = CharTokenizer.fromText('hello world');
 * tok.vocabSize; // 8
 * tok.vocab; // [' ', 'd', 'e', 'h', 'l', 'o', 'r', 'w']
 * const ids = tok.encode('hello');
 * ids; // [3, 2, 4, 4, 5]
 * tok.decode(ids); // 'hello'
 * const again = CharTokenizer.fromJSON(JSON.parse(JSON.stringify(tok)));
 * again.encode('world'); // [7, 5, 6, 4, 1]
 * ```
 */
export class CharTokenizer {
  /** The token of each id (one code point each), sorted by code point. */
  readonly vocab: readonly string[];
  /** The id unknown characters encode to, or -1 (they throw). */
  readonly unkId: number;
  private readonly bmp: Int32Array;
  private readonly astral: Map<number, number>;
  private readonly cps: Int32Array;

  private constructor(cps: Int32Array, unkId: number) {
    this.cps = cps;
    this.unkId = unkId;
    this.vocab = Array.from(cps, (c) => String.fromCodePoint(c));
    this.bmp = new Int32Array(0x10000).fill(-1);
    this.astral = new Map();
    for (let i = 0; i < cps.length; i++) {
      if (cps[i] < 0x10000) this.bmp[cps[i]] = i;
      else this.astral.set(cps[i], i);
    }
  }

  /**
   * The tokenizer whose vocabulary is every distinct code point of `text`, sorted by code point.
   *
   * @example
   * ```ts
   * const tok = CharTokenizer.fromText('b😀a😀');
   * tok.vocab; // ['a', 'b', '😀']
   * tok.encode('😀ab'); // [2, 0, 1]
   * CharTokenizer.fromText('abc', { unk: '~' }).vocab; // ['a', 'b', 'c', '~']
   * ```
   */
  static fromText(text: string, options: CharTokenizerOptions = {}): CharTokenizer {
    const op = 'CharTokenizer.fromText';
    checkText(op, text);
    if (options === null || typeof options !== 'object') throw new AxonError(op, `expected an options object, got ${fmtValue(options)}`);
    const unk = options.unk === undefined ? -1 : singleCodePoint(op, 'options.unk', options.unk);
    const seen = new Uint8Array(MAX_CODE_POINT + 1); // the only allocation that grows with nothing but Unicode
    for (let i = 0; i < text.length; ) {
      const c = codePointAt(text, i);
      seen[c] = 1;
      i += c >= 0x10000 ? 2 : 1;
    }
    if (unk >= 0) seen[unk] = 1;
    const list: number[] = [];
    for (let c = 0; c <= MAX_CODE_POINT; c++) if (seen[c]) list.push(c);
    const cps = Int32Array.from(list);
    return new CharTokenizer(cps, unk >= 0 ? cps.indexOf(unk) : -1);
  }

  /**
   * Reads a tokenizer saved with {@link CharTokenizer.toJSON} (the object, or its JSON text).
   * The vocabulary must be distinct single code points in increasing order.
   *
   * @example
   * ```ts
   * const tok = CharTokenizer.fromJSON('{"type":"char","version":1,"vocab":["a","b"],"unk":null}');
   * tok.encode('ba'); // [1, 0]
   * CharTokenizer.fromJSON({ type: 'char', version: 1, vocab: ['b', 'a'], unk: null }); // throws
   * ```
   */
  static fromJSON(json: CharTokenizerJSON | string): CharTokenizer {
    const op = 'CharTokenizer.fromJSON';
    let obj: unknown = json;
    if (typeof json === 'string') {
      try {
        obj = JSON.parse(json);
      } catch (e) {
        throw new AxonError(op, `not valid JSON: ${(e as Error).message}`);
      }
    }
    if (obj === null || typeof obj !== 'object') throw new AxonError(op, `expected an object { type: 'char', version: 1, vocab, unk }, got ${fmtValue(obj)}`);
    const o = obj as Partial<Record<keyof CharTokenizerJSON, unknown>>;
    if (o.type !== 'char') throw new AxonError(op, `expected type 'char', got ${fmtValue(o.type)}`);
    if (o.version !== 1) throw new AxonError(op, `unsupported version ${fmtValue(o.version)}; expected 1`);
    if (!Array.isArray(o.vocab)) throw new AxonError(op, `expected vocab to be an array of one-character strings, got ${fmtValue(o.vocab)}`);
    const cps = new Int32Array(o.vocab.length);
    for (let i = 0; i < o.vocab.length; i++) {
      cps[i] = singleCodePoint(op, `vocab[${i}]`, o.vocab[i]);
      if (i > 0 && cps[i] <= cps[i - 1]) throw new AxonError(op, `vocab must be sorted by code point without repeats; vocab[${i}] = ${describeChar(cps[i])} follows ${describeChar(cps[i - 1])}`);
    }
    let unkId = -1;
    if (o.unk !== null && o.unk !== undefined) {
      const u = singleCodePoint(op, 'unk', o.unk);
      unkId = cps.indexOf(u);
      if (unkId < 0) throw new AxonError(op, `unk ${describeChar(u)} is not in the vocabulary`);
    }
    return new CharTokenizer(cps, unkId);
  }

  /**
   * The number of tokens (ids are `0 … vocabSize − 1`).
   * @example CharTokenizer.fromText('abca').vocabSize // 3
   */
  get vocabSize(): number {
    return this.cps.length;
  }

  /**
   * The ids of `text`'s code points. A character outside the vocabulary is an {@link AxonError}
   * naming it and its position, unless the tokenizer has an `unk` token.
   *
   * @example
   * ```ts
   * const tok = CharTokenizer.fromText('abc');
   * tok.encode('cab'); // [2, 0, 1]
   * tok.encode('abd'); // throws
   * ```
   */
  encode(text: string): Int32Array {
    const op = 'CharTokenizer.encode';
    checkText(op, text);
    // one id per code point, written straight from the text (at most one per UTF-16 unit)
    const out = new Int32Array(text.length);
    let n = 0;
    for (let units = 0; units < text.length; ) {
      const c = codePointAt(text, units);
      const id = c < 0x10000 ? this.bmp[c] : (this.astral.get(c) ?? -1);
      if (id < 0) {
        if (this.unkId < 0) {
          throw new AxonError(op, `character ${describeChar(c)} at index ${units} (UTF-16) is not in the vocabulary of ${this.vocabSize} characters; build the tokenizer from text that has it, or pass { unk } to CharTokenizer.fromText`);
        }
        out[n++] = this.unkId;
      } else {
        out[n++] = id;
      }
      units += c >= 0x10000 ? 2 : 1;
    }
    return n === out.length ? out : out.slice(0, n);
  }

  /**
   * The text of `ids` (each an integer in `[0, vocabSize)`, else an {@link AxonError}).
   * `decode(encode(s)) === s` for every string made of vocabulary characters.
   *
   * @example
   * ```ts
   * const tok = CharTokenizer.fromText('a😀');
   * tok.decode([1, 0, 1]); // '😀a😀'
   * tok.decode([2]); // throws
   * ```
   */
  decode(ids: ArrayLike<number>): string {
    const a = checkIds('CharTokenizer.decode', ids, this.vocabSize);
    const parts: string[] = [];
    const CHUNK = 8192;
    const buf: number[] = [];
    for (let i = 0; i < a.length; i++) {
      buf.push(this.cps[a[i]]);
      if (buf.length === CHUNK) {
        parts.push(String.fromCodePoint(...buf));
        buf.length = 0;
      }
    }
    if (buf.length) parts.push(String.fromCodePoint(...buf));
    return parts.join('');
  }

  /**
   * The saved form (plain JSON data): `JSON.stringify(tokenizer)` uses it.
   *
   * @example
   * ```ts
   * const tok = CharTokenizer.fromText('hi!', { unk: '?' });
   * tok.toJSON(); // { type: 'char', version: 1, vocab: ['!', '?', 'h', 'i'], unk: '?' }
   * CharTokenizer.fromJSON(JSON.stringify(tok)).encode('hip'); // [2, 3, 1]
   * ```
   */
  toJSON(): CharTokenizerJSON {
    return { type: 'char', version: 1, vocab: [...this.vocab], unk: this.unkId < 0 ? null : this.vocab[this.unkId] };
  }
}
