import { describe, expect, it } from 'vitest';
import { AxonError } from '@axon/core';
import { CharTokenizer, type CharTokenizerJSON } from '../src/index.js';
import { randomUnicode } from './unicode.js';

describe('CharTokenizer', () => {
  it('sorts the vocabulary by code point, an astral character being one token', () => {
    // UTF-16 order would put 😀 (D83D DE00) before ～ (FF5E); code point order puts it last
    const tok = CharTokenizer.fromText('～😀a😀～a');
    expect(tok.vocab).toEqual(['a', '～', '😀']);
    expect(tok.vocabSize).toBe(3);
    expect(Array.from(tok.encode('😀～a'))).toEqual([2, 1, 0]);
  });

  it('builds the same vocabulary from any order of the same characters', () => {
    const a = CharTokenizer.fromText('the quick brown 🦊');
    const b = CharTokenizer.fromText('🦊 nworb kciuq eht');
    expect(b.toJSON()).toEqual(a.toJSON());
  });

  it('round-trips random Unicode, astral code points included', () => {
    const texts = randomUnicode(1, 200, 60);
    const tok = CharTokenizer.fromText(texts.join(''));
    let astral = 0;
    for (const t of texts) {
      const ids = tok.encode(t);
      expect(ids.length).toBe([...t].length);
      expect(tok.decode(ids)).toBe(t);
      astral += [...t].filter((c) => c.codePointAt(0)! > 0xffff).length;
    }
    expect(astral).toBeGreaterThan(100);
  });

  it('keeps lone surrogates as tokens of their own, so they round-trip too', () => {
    const text = 'a\ud800b\udc00😀\ud83d';
    const tok = CharTokenizer.fromText(text);
    expect(tok.vocabSize).toBe(6);
    expect(tok.decode(tok.encode(text))).toBe(text);
    expect(CharTokenizer.fromJSON(JSON.stringify(tok)).decode(tok.encode(text))).toBe(text);
  });

  it('rejects characters outside the vocabulary with an AxonError naming them, or maps them to unk', () => {
    const tok = CharTokenizer.fromText('abc');
    expect(() => tok.encode('ab😀c')).toThrowError(AxonError);
    expect(() => tok.encode('ab😀c')).toThrowError(/CharTokenizer\.encode: character "😀" \(U\+1F600\) at index 2 \(UTF-16\) is not in the vocabulary of 3 characters/);
    expect(() => tok.encode('a\n')).toThrowError(/character U\+000A at index 1/);
    const withUnk = CharTokenizer.fromText('abc', { unk: '?' });
    expect(withUnk.vocab).toEqual(['?', 'a', 'b', 'c']);
    expect(withUnk.unkId).toBe(0);
    expect(Array.from(withUnk.encode('a😀dc'))).toEqual([1, 0, 0, 3]);
    // an unk the text already has is not added twice
    expect(CharTokenizer.fromText('a?b', { unk: '?' }).vocab).toEqual(['?', 'a', 'b']);
    expect(() => CharTokenizer.fromText('abc', { unk: 'xy' })).toThrowError(/options\.unk to be exactly one character/);
    expect(() => CharTokenizer.fromText('abc', { unk: '' })).toThrowError(AxonError);
  });

  it('decode rejects ids outside [0, vocabSize) and non-integers', () => {
    const tok = CharTokenizer.fromText('ab');
    expect(tok.decode(new Int32Array([1, 0]))).toBe('ba');
    expect(tok.decode([])).toBe('');
    for (const bad of [[2], [-1], [0.5], [Number.NaN]]) {
      expect(() => tok.decode(bad)).toThrowError(/CharTokenizer\.decode: token id .* at index 0 is not an integer in \[0, 2\)/);
    }
    expect(() => tok.decode('01' as unknown as number[])).toThrowError(AxonError);
  });

  it('saves and loads as JSON', () => {
    const tok = CharTokenizer.fromText('hello wörld 🌍', { unk: '~' });
    const json = JSON.stringify(tok);
    const back = CharTokenizer.fromJSON(json);
    expect(back.vocab).toEqual(tok.vocab);
    expect(back.unkId).toBe(tok.unkId);
    expect(Array.from(back.encode('world 🌍!'))).toEqual(Array.from(tok.encode('world 🌍!')));
    expect(CharTokenizer.fromJSON(JSON.parse(json) as CharTokenizerJSON).toJSON()).toEqual(tok.toJSON());
  });

  it('fromJSON rejects malformed data with an AxonError', () => {
    const good = { type: 'char', version: 1, vocab: ['a', 'b'], unk: null };
    const cases: [unknown, RegExp][] = [
      ['{', /not valid JSON/],
      [null, /expected an object/],
      [{ ...good, type: 'bpe' }, /expected type 'char'/],
      [{ ...good, version: 2 }, /unsupported version 2/],
      [{ ...good, vocab: 'ab' }, /expected vocab to be an array/],
      [{ ...good, vocab: ['b', 'a'] }, /sorted by code point without repeats; vocab\[1\] = "a"/],
      [{ ...good, vocab: ['a', 'a'] }, /without repeats/],
      [{ ...good, vocab: ['a', 'bc'] }, /vocab\[1\] to be exactly one character/],
      [{ ...good, vocab: ['a', 3] }, /vocab\[1\] to be a one-character string/],
      [{ ...good, unk: 'z' }, /unk "z" \(U\+007A\) is not in the vocabulary/],
    ];
    for (const [json, msg] of cases) {
      expect(() => CharTokenizer.fromJSON(json as CharTokenizerJSON)).toThrowError(AxonError);
      expect(() => CharTokenizer.fromJSON(json as CharTokenizerJSON)).toThrowError(msg);
    }
  });

  it('rejects non-string text and options', () => {
    expect(() => CharTokenizer.fromText(42 as unknown as string)).toThrowError(/CharTokenizer\.fromText: expected the text to be a string, got 42/);
    expect(() => CharTokenizer.fromText('a', null as unknown as object)).toThrowError(AxonError);
    expect(() => CharTokenizer.fromText('a').encode(undefined as unknown as string)).toThrowError(/CharTokenizer\.encode: expected the text to be a string/);
  });
});
