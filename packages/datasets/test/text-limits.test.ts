// Fuzz findings on the text data (issue 13): nothing large is allocated for input that is then
// refused, and a tiny tokenizer JSON cannot ask for unbounded memory.
import { describe, expect, it } from 'vitest';
import { AxonError } from '@axon/core';
import { BPE_LIMITS, BpeTokenizer, type BpeTokenizerJSON, CharTokenizer, MAX_TOKEN_IDS, splitTokens, tokenWindows } from '../src/index.js';
import { typedAllocations } from './allocations.js';

const MiB = 2 ** 20;
const total = (bytes: number[]): number => bytes.reduce((a, b) => a + b, 0);

describe('token ids are checked before they are copied', () => {
  it('a sparse array of 2^25 holes is refused at index 0 without allocating the 128 MiB copy', () => {
    const holes = new Array<number>(2 ** 25);
    const calls: [string, () => unknown][] = [
      ['splitTokens', () => splitTokens(holes, 0.5)],
      ['tokenWindows', () => tokenWindows(holes, { contextLength: 4, batchSize: 2 })],
    ];
    for (const [op, f] of calls) {
      const { bytes, error } = typedAllocations(f);
      expect(error).toBeInstanceOf(AxonError);
      expect(String(error)).toMatch(new RegExp(`${op}: token id undefined at index 0 is not an integer in \\[0, 2147483648\\)`));
      expect(total(bytes), `${op} allocated before checking`).toBeLessThan(MiB);
    }
  });

  it('a bad id at the end of 2^22 good ones is found before the copy is made', () => {
    const ids = new Uint8Array(2 ** 22).fill(3);
    const bad = Array.from(ids);
    bad[bad.length - 1] = -1;
    const { bytes, error } = typedAllocations(() => splitTokens(bad, 0.5));
    expect(String(error)).toMatch(/splitTokens: token id -1 at index 4194303/);
    expect(total(bytes)).toBeLessThan(MiB);
    // good ids are copied, 4 bytes each
    const ok = typedAllocations(() => splitTokens(ids, 0.5));
    expect(ok.error).toBeUndefined();
    expect(Math.max(...ok.bytes)).toBe(4 * ids.length);
  });

  it('more than MAX_TOKEN_IDS ids (2^31 − 1: positions are int32) is an AxonError, before anything is read', () => {
    expect(MAX_TOKEN_IDS).toBe(2 ** 31 - 1);
    const huge = new Array<number>(2 ** 31);
    for (const f of [() => splitTokens(huge, 0.5), () => tokenWindows(huge, { contextLength: 4, batchSize: 2 })]) {
      const { bytes, error } = typedAllocations(f);
      expect(error).toBeInstanceOf(AxonError);
      expect(String(error)).toMatch(/: 2147483648 token ids are more than the limit of 2147483647 \(MAX_TOKEN_IDS: positions are int32\)/);
      expect(bytes).toEqual([]);
    }
  });
});

const bpe = (merges: [number, number][]): BpeTokenizerJSON => ({ type: 'bpe', version: 1, pattern: 'gpt2', merges });

/** `n` merges, each joining the last token to itself: token 256 + k is 2^(k+1) 'a's. */
const doubling = (n: number): [number, number][] => Array.from({ length: n }, (_, k) => (k === 0 ? [97, 97] : [255 + k, 255 + k]));
/** `n` merges, each appending an 'a' to the last token: token 256 + k is k + 2 'a's. */
const appending = (n: number): [number, number][] => Array.from({ length: n }, (_, k) => (k === 0 ? [97, 97] : [255 + k, 97]));

describe('BpeTokenizer.fromJSON sizes the tokens before building them', () => {
  it('22 doubling merges (272 bytes of JSON, an 8 MiB token) are refused at the first token past maxTokenBytes, allocating nothing large', () => {
    const json = JSON.stringify(bpe(doubling(22)));
    expect(json.length).toBeLessThan(300);
    const { bytes, error } = typedAllocations(() => BpeTokenizer.fromJSON(json));
    expect(error).toBeInstanceOf(AxonError);
    expect(String(error)).toMatch(/BpeTokenizer\.fromJSON: merges\[16\] = \[271, 271\] makes token 272 of 131072 bytes, longer than the limit of 65536 bytes \(raise it with \{ maxTokenBytes \}\)/);
    expect(total(bytes)).toBeLessThan(MiB);
    // 31 merges would ask for 4 GiB; still refused at once
    expect(() => BpeTokenizer.fromJSON(bpe(doubling(31)))).toThrowError(/merges\[16\]/);
    // the limit is an option: raised, the tokens are built as before
    const tok = BpeTokenizer.fromJSON(bpe(doubling(18)), { maxTokenBytes: 2 ** 18 });
    const t273 = tok.tokenBytes(273);
    expect(t273.length === 2 ** 18 && t273.every((v) => v === 97)).toBe(true);
    expect(tok.decode([273, 104]) === 'a'.repeat(2 ** 18) + 'h').toBe(true);
    expect(Array.from(tok.encode('a'.repeat(2 ** 18 + 1)))).toEqual([273, 97]);
  });

  it('2^15 merges that each append a byte (a 350 kB JSON asking for 512 MiB) are refused by maxTotalBytes, fast', () => {
    const json = JSON.stringify(bpe(appending(2 ** 15)));
    const t0 = performance.now();
    const { bytes, error } = typedAllocations(() => BpeTokenizer.fromJSON(json));
    expect(String(error)).toMatch(/BpeTokenizer\.fromJSON: the tokens of merges\[0 … 11583\] hold 67112160 bytes in all, more than the limit of 67108864 bytes \(raise it with \{ maxTotalBytes \}\)/);
    expect(error).toBeInstanceOf(AxonError);
    expect(total(bytes)).toBeLessThan(MiB);
    expect(performance.now() - t0).toBeLessThan(1500);
    expect(BpeTokenizer.fromJSON(bpe(appending(3000)), { maxTotalBytes: Infinity }).tokenBytes(256 + 2999)).toHaveLength(3001);
    expect(() => BpeTokenizer.fromJSON(bpe(appending(3000)), { maxTotalBytes: 4_000_000 })).toThrowError(/the tokens of merges\[0 … 2826\] hold 4000461 bytes in all, more than the limit of 4000000 bytes/);
  });

  it('a GPT-2-sized vocabulary of short tokens (50,000 merges) loads within the limits, and encodes as trained', () => {
    // token 256 + k: a short earlier token (≤ 10 bytes) followed by a byte, every pair distinct
    const merges: [number, number][] = [];
    const len = [...new Array<number>(256).fill(1)];
    const seen = new Set<number>();
    let x = 12345;
    while (merges.length < 50_000) {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      const a = x % (256 + merges.length);
      const b = 97 + (x >> 8) % 26;
      if (len[a]! > 10 || seen.has(a * 2 ** 20 + b)) continue;
      seen.add(a * 2 ** 20 + b);
      merges.push([a, b]);
      len.push(len[a]! + 1);
    }
    const json = JSON.stringify(bpe(merges));
    const t0 = performance.now();
    const tok = BpeTokenizer.fromJSON(json);
    expect(performance.now() - t0).toBeLessThan(1500); // about 50 ms
    expect(tok.vocabSize).toBe(50_256);
    const all = tok.decodeBytes(Array.from({ length: tok.vocabSize }, (_, i) => i));
    expect(all.length).toBe(len.reduce((p, q) => p + q, 0));
    expect(all.length).toBeLessThan(BPE_LIMITS.maxTotalBytes);
    const text = 'the quick brown fox jumps over the lazy dog';
    expect(tok.decode(tok.encode(text))).toBe(text);
    // and a tokenizer trained here round-trips through JSON as before
    const trained = BpeTokenizer.train(text.repeat(20), { vocabSize: 400 });
    expect(Array.from(BpeTokenizer.fromJSON(JSON.stringify(trained)).encode(text))).toEqual(Array.from(trained.encode(text)));
  });

  it('the limits must be positive integers or Infinity', () => {
    const ok = bpe([[104, 105]]);
    expect(BPE_LIMITS).toEqual({ maxTokenBytes: 65536, maxTotalBytes: 67108864 });
    expect(BpeTokenizer.fromJSON(ok, { maxTokenBytes: 2, maxTotalBytes: 258 }).vocabSize).toBe(257);
    expect(() => BpeTokenizer.fromJSON(ok, { maxTokenBytes: 1 })).toThrowError(/merges\[0\] = \[104, 105\] makes token 256 of 2 bytes, longer than the limit of 1 bytes/);
    expect(() => BpeTokenizer.fromJSON(ok, { maxTotalBytes: 257 })).toThrowError(/hold 258 bytes in all, more than the limit of 257 bytes/);
    expect(() => BpeTokenizer.fromJSON(ok, { maxTokenBytes: 0 })).toThrowError(/BpeTokenizer\.fromJSON: expected maxTokenBytes to be a positive integer \(or Infinity\), got 0/);
    expect(() => BpeTokenizer.fromJSON(ok, { maxTotalBytes: 1.5 })).toThrowError(/expected maxTotalBytes to be a positive integer/);
    expect(() => BpeTokenizer.fromJSON(ok, null as unknown as object)).toThrowError(AxonError);
  });
});

describe('CharTokenizer memory', () => {
  // 2^22 UTF-16 units: mostly ASCII, some accented letters, emoji (two units each) and a lone surrogate
  const unit = 'The cat sat on the mat, déjà vu 😀 ';
  const text = unit.repeat(Math.ceil(2 ** 22 / unit.length)).slice(0, 2 ** 22 - 3) + '\ud800🙂';

  it('fromText allocates nothing that grows with the text (it was 4 bytes per UTF-16 unit)', () => {
    const { bytes, error } = typedAllocations(() => CharTokenizer.fromText(text));
    expect(error).toBeUndefined();
    expect(Math.max(...bytes)).toBe(0x110000); // the seen-flags of every code point
    expect(total(bytes)).toBeLessThan(1.5 * MiB);
    const tok = CharTokenizer.fromText(text);
    expect(tok.vocab).toEqual([...new Set(Array.from(unit + '\ud800🙂'))].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!));
  });

  it('encode builds its output straight from the text (it first made a 4-byte-per-unit code point array), and ids are as before', () => {
    const tok = CharTokenizer.fromText(text);
    const { bytes, error } = typedAllocations(() => tok.encode(text));
    expect(error).toBeUndefined();
    const units = text.length;
    const cps = Array.from(text).length;
    // one buffer of 4 bytes per unit (with astral characters, its first `cps` ids are then copied by slice)
    expect(bytes).toEqual([4 * units]);
    const ids = tok.encode(text);
    expect(ids.length).toBe(cps);
    expect(tok.decode(ids) === text).toBe(true);
    const ascii = CharTokenizer.fromText('abc');
    const one = typedAllocations(() => ascii.encode('cab'.repeat(1000)));
    expect(one.bytes).toEqual([4 * 3000]); // no astral characters: no copy
    expect(() => tok.encode('the 😀 cat🐱')).toThrowError(/CharTokenizer\.encode: character "🐱" \(U\+1F431\) at index 10 \(UTF-16\) is not in the vocabulary/);
  });
});
