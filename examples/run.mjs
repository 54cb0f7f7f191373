#!/usr/bin/env node
// Runs one of Axon's examples: node examples/run.mjs <name> [args…]
//
//   node examples/run.mjs --list                 # the examples, one line each
//   node examples/run.mjs s1-sigmoid-neuron      # or a unique prefix: s1, mnist-cnn, memory, …
//   AXON_EXAMPLE_QUICK=1 node examples/run.mjs s2 # a small slice (what CI runs)
//   pnpm --filter @axon/examples example s1      # the same through pnpm
//
// Node 20 cannot run TypeScript, so the example is first compiled by esbuild (one file, the
// `@axon/*` packages left as imports) into examples/node_modules/.cache/axon-examples/, then
// imported. Its `import.meta.url` is the .ts file's own URL, so `new URL('./data/x.csv',
// import.meta.url)` finds files next to the example. The `@axon/*` packages resolve to their
// built `dist/`: build them first with `pnpm exec turbo run build --filter=@axon/examples...`.
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** The example files in this folder (every `*.ts` at its top level), sorted. */
export function exampleFiles() {
  return readdirSync(here)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .sort()
    .map((f) => join(here, f));
}

/** An example's title: the first line of its opening comment block. */
export function exampleTitle(file) {
  const first = readFileSync(file, 'utf8').split('\n', 1)[0] ?? '';
  return first.replace(/^\/\/\s?/, '').trim();
}

/** A mistake in the command line: printed without a stack trace. */
class UsageError extends Error {}

/** The example file for a name, a file name or a unique prefix; throws listing the names otherwise. */
export function findExample(name) {
  const files = exampleFiles();
  const stem = basename(name).replace(/\.ts$/, '');
  const exact = files.find((f) => basename(f, '.ts') === stem);
  if (exact) return exact;
  const matches = files.filter((f) => basename(f, '.ts').startsWith(stem));
  if (matches.length === 1) return matches[0];
  const names = files.map((f) => basename(f, '.ts')).join(', ');
  throw new UsageError(matches.length === 0 ? `no example '${name}'; examples: ${names}` : `'${name}' matches ${matches.map((f) => basename(f, '.ts')).join(', ')}; be more precise`);
}

/** Compiles one example to an ES module next to examples/node_modules and returns its path. */
export async function compileExample(file) {
  const { build } = await import('esbuild');
  const outDir = join(here, 'node_modules', '.cache', 'axon-examples');
  mkdirSync(outDir, { recursive: true });
  const outfile = join(outDir, `${basename(file, '.ts')}.${process.pid}.mjs`);
  await build({
    entryPoints: [file],
    outfile,
    bundle: true,
    packages: 'external', // the @axon/* packages stay imports, as in a user's project
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: 'inline',
    sourcesContent: false,
    logLevel: 'error',
    define: { 'import.meta.url': JSON.stringify(pathToFileURL(file).href) },
  });
  return outfile;
}

async function main(argv) {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h') {
    console.log('usage: node examples/run.mjs <example> [args…]   (node examples/run.mjs --list shows them)');
    return name === undefined ? 2 : 0;
  }
  if (name === '--list') {
    for (const f of exampleFiles()) console.log(`${basename(f, '.ts').padEnd(26)} ${exampleTitle(f)}`);
    return 0;
  }
  const file = findExample(name);
  const outfile = await compileExample(file);
  process.argv = [process.argv[0], file, ...rest];
  process.setSourceMapsEnabled(true); // stack traces point into the .ts file
  try {
    await import(pathToFileURL(outfile).href);
  } catch (e) {
    if (e && e.code === 'ERR_MODULE_NOT_FOUND' && /@axon\/|dist/.test(String(e.message))) {
      console.error(`${e.message}\nThe @axon/* packages must be built first: pnpm exec turbo run build --filter=@axon/examples...`);
      return 1;
    }
    throw e;
  } finally {
    rmSync(outfile, { force: true });
  }
  return undefined;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).then(
    (code) => {
      if (code !== undefined) process.exitCode = code;
    },
    (e) => {
      console.error(e instanceof UsageError ? e.message : e);
      process.exitCode = e instanceof UsageError ? 2 : 1;
    },
  );
}
