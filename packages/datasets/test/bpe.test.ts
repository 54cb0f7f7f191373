import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AxonError } from '@axon/core';
import { gpt2Pieces } from '../src/bpe-tokenizer.js';
import { BpeTokenizer, type BpeTokenizerJSON, loadTextCorpus } from '../src/index.js';
import { randomUnicode } from './unicode.js';

/** The plain algorithm: recount every pair of every piece before each merge. */
function naiveMerges(text: string, vocabSize: number, minFrequency = 2): [number, number][] {
  const counts = new Map<string, number>();
  for (const p of gpt2Pieces(text)) counts.set(p, (counts.get(p) ?? 0) + 1);
  const enc = new TextEncoder();
  let words = [...counts].map(([p, f]) => ({ sym: Array.from(enc.encode(p)), f }));
  const merges: [number, number][] = [];
  while (256 + merges.length < vocabSize) {
    const pairs = new Map<string, { a: number; b: number; c: number }>();
    for (const { sym, f } of words) {
      for (let i = 0; i + 1 < sym.length; i++) {
        const k = `${sym[i]},${sym[i + 1]}`;
        const e = pairs.get(k) ?? { a: sym[i]!, b: sym[i + 1]!, c: 0 };
        e.c += f;
        pairs.set(k, e);
      }
    }
    let best: { a: number; b: number; c: number } | null = null;
    for (const e of pairs.values()) {
      if (!best || e.c > best.c || (e.c === best.c && (e.a < best.a || (e.a === best.a && e.b < best.b)))) best = e;
    }
    if (!best || best.c < minFrequency) break;
    const z = 256 + merges.length;
    merges.push([best.a, best.b]);
    words = words.map(({ sym, f }) => {
      const out: number[] = [];
      for (let i = 0; i < sym.length; i++) {
        if (i + 1 < sym.length && sym[i] === best.a && sym[i + 1] === best.b) {
          out.push(z);
          i++;
        } else out.push(sym[i]!);
      }
      return { sym: out, f };
    });
  }
  return merges;
}

const ids = (a: Int32Array): number[] => Array.from(a);

describe('BpeTokenizer: training', () => {
  it('learns the merges worked out by hand on "aaabdaaabac"', () => {
    // pairs: aa 4 (two per "aaa"), ab 2, bd 1, da 1, ba 1, ac 1 → aa = 256;
    // "256 a b d 256 a b a c": (256,a) 2 and (a,b) 2 tie, (97,98) < (256,97) → ab = 257;
    // "256 257 d 256 257 a c": (256,257) 2 → 258; then every pair occurs once (< minFrequency 2)
    const tok = BpeTokenizer.train('aaabdaaabac', { vocabSize: 1000 });
    expect(tok.merges).toEqual([
      [97, 97],
      [97, 98],
      [256, 257],
    ]);
    expect(tok.vocabSize).toBe(259);
    expect(ids(tok.encode('aaabdaaabac'))).toEqual([258, 100, 258, 97, 99]);
    expect(new TextDecoder().decode(tok.tokenBytes(258))).toBe('aaab');
  });

  it('breaks ties by the smaller left id, then right id, and never merges across pieces', () => {
    // pieces "cd", " ab", " cd", " ab": cd 2, ␣a 2, ab 2, ␣c 1 — all of cd, ␣a, ab tie at 2:
    // (32,97) first → 256; then " ab" = 256 b: (99,100) and (256,98) tie at 2 → (99,100) = 257;
    // then (256,98) = 258; "d␣"/"b␣" are never pairs (the space starts the next piece)
    const tok = BpeTokenizer.train('cd ab cd ab', { vocabSize: 1000 });
    expect(tok.merges).toEqual([
      [32, 97],
      [99, 100],
      [256, 98],
    ]);
    expect(ids(tok.encode('cd ab cd ab'))).toEqual([257, 258, 32, 257, 258]);
    expect(BpeTokenizer.train('cd ab cd ab', { vocabSize: 1000, minFrequency: 3 }).merges).toEqual([]);
    // vocabSize caps the merges
    expect(BpeTokenizer.train('cd ab cd ab', { vocabSize: 257 }).merges).toEqual([[32, 97]]);
  });

  it('learns exactly the merges of the plain recount-everything algorithm (incremental counts are exact)', async () => {
    const sotu = await loadTextCorpus('sotu', { fromYear: 2000, toYear: 2001 });
    const text = sotu.text.slice(0, 40_000);
    const fast = BpeTokenizer.train(text, { vocabSize: 600 });
    expect(fast.merges.length).toBe(600 - 256);
    expect(fast.merges).toEqual(naiveMerges(text, 600));
    // random Unicode (multi-byte characters, odd pieces) and a higher minFrequency
    const mixed = randomUnicode(3, 300, 12).join(' ') + ' the then them there these'.repeat(20);
    expect(BpeTokenizer.train(mixed, { vocabSize: 400, minFrequency: 3 }).merges).toEqual(naiveMerges(mixed, 400, 3));
  });

  it('is deterministic: the same text gives the same merges and JSON', () => {
    const text = 'low lower lowest newer newest wider widest '.repeat(30);
    const a = BpeTokenizer.train(text, { vocabSize: 300 });
    const b = BpeTokenizer.train(text, { vocabSize: 300 });
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    expect(a.merges.length).toBeGreaterThan(10);
  });

  it('trains on 1 MB of English in seconds', async () => {
    const sotu = await loadTextCorpus('sotu');
    const text = sotu.text.slice(0, 1_000_000);
    const t0 = performance.now();
    const tok = BpeTokenizer.train(text, { vocabSize: 2048 });
    const ms = performance.now() - t0;
    expect(tok.vocabSize).toBe(2048);
    expect(ms).toBeLessThan(20_000); // about 0.5 s here; recounting every pair per merge takes minutes
    const enc = tok.encode(text);
    expect(enc.length / text.length).toBeLessThan(0.3); // ~4 characters per token
    expect(tok.decode(enc)).toBe(text);
  }, 60_000);

  it('rejects bad options and text with an AxonError', () => {
    expect(() => BpeTokenizer.train('abc', { vocabSize: 255 })).toThrowError(/vocabSize to be an integer in \[256, 1048576\].*got 255/);
    expect(() => BpeTokenizer.train('abc', { vocabSize: 2 ** 20 + 1 })).toThrowError(AxonError);
    expect(() => BpeTokenizer.train('abc', { vocabSize: 300.5 })).toThrowError(AxonError);
    expect(() => BpeTokenizer.train('abc', { vocabSize: 300, minFrequency: 0 })).toThrowError(/minFrequency to be an integer ≥ 1, got 0/);
    expect(() => BpeTokenizer.train('abc', null as unknown as { vocabSize: number })).toThrowError(AxonError);
    expect(() => BpeTokenizer.train(7 as unknown as string, { vocabSize: 300 })).toThrowError(/expected the text to be a string/);
    expect(() => BpeTokenizer.train('ab\udc00', { vocabSize: 300 })).toThrowError(/BpeTokenizer\.train: the text has a lone surrogate U\+DC00 at index 2/);
  });
});

describe('BpeTokenizer: encode and decode', () => {
  it('cuts text as GPT-2\'s pre-tokenizer does (fixture from its regex, test/fixtures/gen_gpt2_pieces.py)', () => {
    const fixture = JSON.parse(readFileSync(new URL('fixtures/gpt2-pieces.json', import.meta.url), 'utf8')) as { cases: { text: string; pieces: string[] }[] };
    expect(fixture.cases.length).toBeGreaterThan(10);
    for (const { text, pieces } of fixture.cases) expect(gpt2Pieces(text), JSON.stringify(text)).toEqual(pieces);
  });

  it('round-trips random Unicode exactly: emoji, astral code points, BOM, controls, combining marks', async () => {
    const sotu = await loadTextCorpus('sotu', { fromYear: 2010, toYear: 2011 });
    const texts = randomUnicode(7, 300, 40);
    const tok = BpeTokenizer.train(sotu.text + texts.slice(0, 100).join(''), { vocabSize: 800 });
    texts.push('\ufeffstarts with a BOM', '👨‍👩‍👧 🇫🇷 e\u0301', '\r\n\t\u0000', '', ' ', 'x'.repeat(5000));
    for (const t of texts) expect(tok.decode(tok.encode(t))).toBe(t);
    // an untrained tokenizer is plain UTF-8
    const bytes = BpeTokenizer.fromJSON({ type: 'bpe', version: 1, pattern: 'gpt2', merges: [] });
    expect(ids(bytes.encode('é😀'))).toEqual([0xc3, 0xa9, 0xf0, 0x9f, 0x98, 0x80]);
    for (const t of texts.slice(0, 50)) expect(bytes.decode(bytes.encode(t))).toBe(t);
  });

  it('encodes a piece by its earliest merges first, as GPT-2 does', () => {
    // merges: "b c" → 256, then "a b" → 257: "abc" becomes a + 256, not 257 + c
    const tok = BpeTokenizer.fromJSON({ type: 'bpe', version: 1, pattern: 'gpt2', merges: [[98, 99], [97, 98]] });
    expect(ids(tok.encode('abc'))).toEqual([97, 256]);
    expect(ids(tok.encode('abab'))).toEqual([257, 257]);
  });

  it('rejects lone surrogates and bad ids with an AxonError; broken UTF-8 decodes to U+FFFD', () => {
    const tok = BpeTokenizer.train('hi hi hi', { vocabSize: 1000 });
    expect(() => tok.encode('hi \ud83d')).toThrowError(/BpeTokenizer\.encode: the text has a lone surrogate U\+D83D at index 3/);
    expect(() => tok.decode([258])).toThrowError(/BpeTokenizer\.decode: token id 258 at index 0 is not an integer in \[0, 258\)/);
    expect(() => tok.decodeBytes([-1])).toThrowError(/BpeTokenizer\.decodeBytes: token id -1/);
    expect(() => tok.tokenBytes(258)).toThrowError(/BpeTokenizer\.tokenBytes: expected a token id/);
    expect(tok.decode([240, 159, 152])).toBe('\ufffd');
    expect(tok.decode([104, 240, 159, 105])).toBe('h\ufffdi');
  });

  it('saves and loads as JSON (and rejects malformed merges)', () => {
    const text = 'the cat sat on the mat; the cat ate the rat. 😀😀😀';
    const tok = BpeTokenizer.train(text, { vocabSize: 280 });
    const back = BpeTokenizer.fromJSON(JSON.stringify(tok));
    expect(back.merges).toEqual(tok.merges);
    expect(ids(back.encode(text))).toEqual(ids(tok.encode(text)));
    expect(BpeTokenizer.fromJSON(tok.toJSON()).vocabSize).toBe(tok.vocabSize);
    const good = { type: 'bpe', version: 1, pattern: 'gpt2', merges: [[104, 105]] };
    const cases: [unknown, RegExp][] = [
      ['[', /not valid JSON/],
      [[], /expected type 'bpe'/],
      [{ ...good, version: 0 }, /unsupported version 0/],
      [{ ...good, pattern: 'llama' }, /unsupported pre-tokenizer pattern 'llama'/],
      [{ ...good, merges: {} }, /expected merges to be an array/],
      [{ ...good, merges: [[104, 105], [256, 257]] }, /merges\[1\] must be \[a, b\] with integer ids in \[0, 257\)/],
      [{ ...good, merges: [[104]] }, /merges\[0\] must be/],
      [{ ...good, merges: [[104, -1]] }, /merges\[0\] must be/],
      [{ ...good, merges: [[104, 105], [104, 105]] }, /merges\[1\] repeats the pair \[104, 105\]/],
    ];
    for (const [json, msg] of cases) expect(() => BpeTokenizer.fromJSON(json as BpeTokenizerJSON)).toThrowError(msg);
  });
});
