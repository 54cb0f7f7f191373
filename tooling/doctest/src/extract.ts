// Finds every `@example` block in the TSDoc of Axon's published packages.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** One `@example` block. */
export interface Example {
  /** `packages/core/src/ops/elementwise.ts:24` — the line of the `@example` tag. */
  id: string;
  /** The package the example documents (its name), e.g. `@axon/core`. */
  pkg: string;
  file: string;
  line: number;
  /** The code: the fenced block's content, or the whole tag content when it has no fence (as TypeDoc renders it). */
  code: string;
  /** Why it is only type-checked (`// (not run: reason)` in the example), or undefined when it runs. */
  notRun?: string;
}

/** A documented package: its folder and the module specifiers whose exports are in scope for its examples. */
export interface DocPackage {
  name: string;
  dir: string;
  /** Modules whose exports an example may use without importing, in precedence order (own package first). */
  scope: string[];
}

const CORE = '@axon/core';
/** The published packages and what their examples see. A package's own exports win over its dependencies'. */
export const PACKAGES: DocPackage[] = [
  { name: '@axon/core', dir: 'packages/core', scope: [CORE] },
  { name: '@axon/autograd', dir: 'packages/autograd', scope: ['@axon/autograd', CORE] },
  { name: '@axon/optimizers', dir: 'packages/optimizers', scope: ['@axon/optimizers', '@axon/autograd', CORE] },
  { name: '@axon/datasets', dir: 'packages/datasets', scope: ['@axon/datasets', CORE] },
  { name: '@axon/layers', dir: 'packages/layers', scope: ['@axon/layers', '@axon/optimizers', '@axon/autograd', CORE] },
  { name: '@axon/onnx', dir: 'packages/onnx', scope: ['@axon/onnx', '@axon/layers', '@axon/optimizers', '@axon/autograd', CORE] },
  { name: '@axon/backend-wasm', dir: 'packages/backend-wasm', scope: ['@axon/backend-wasm', CORE] },
  { name: '@axon/backend-webgpu', dir: 'packages/backend-webgpu', scope: ['@axon/backend-webgpu', CORE] },
  { name: '@axon/cli', dir: 'apps/cli', scope: ['@axon/cli/image'] },
];

const TAGS = /^@(param|returns?|throws|see|remarks|defaultValue|default|deprecated|typeParam|template|internal|example|packageDocumentation|privateRemarks|since|beta|alpha|experimental|override|readonly|sealed|virtual|inheritDoc|label|public|hidden|category|group|module)\b/;

function* tsFiles(dir: string): Generator<string> {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (name !== 'generated' && name !== 'node_modules') yield* tsFiles(p);
    } else if (name.endsWith('.ts') && !name.endsWith('.d.ts') && !name.endsWith('.test.ts')) yield p;
  }
}

/** The `@example` blocks of one source text. */
export function examplesIn(text: string): { line: number; code: string }[] {
  const out: { line: number; code: string }[] = [];
  const re = /\/\*\*([\s\S]*?)\*\//g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const startLine = text.slice(0, m.index).split('\n').length;
    // Internal helpers are not part of the documented API (TypeDoc hides them too).
    if (/(^|\s)@internal\b/.test(m[1]!)) continue;
    // Strip the comment's leading ` * ` from each line, keeping the code's own indentation.
    const lines = m[1]!.split('\n').map((l, i) => (i === 0 ? l.replace(/^\s*/, '') : l.replace(/^\s*\* ?/, '').replace(/^\s*\*$/, '')));
    // Split inline tags (`/** −x. @example neg(x) */`) onto their own lines.
    const flat: { text: string; line: number }[] = [];
    lines.forEach((l, i) => {
      const at = l.search(/(^|\s)@example\b/);
      if (at > 0 && l.slice(0, at).trim() !== '') {
        flat.push({ text: l.slice(0, at), line: startLine + i });
        flat.push({ text: l.slice(at).trimStart(), line: startLine + i });
      } else flat.push({ text: l, line: startLine + i });
    });
    let cur: { line: number; body: string[] } | undefined;
    let inFence = false;
    const close = (): void => {
      if (cur === undefined) return;
      const body = cur.body.join('\n');
      const fence = /```[a-z]*\n([\s\S]*?)```/.exec(body);
      const code = (fence !== null ? fence[1]! : body).replace(/\s+$/, '');
      if (code.trim() !== '') out.push({ line: cur.line, code: dedent(code) });
      cur = undefined;
    };
    for (const { text: l, line } of flat) {
      if (l.trimStart().startsWith('```')) inFence = !inFence;
      if (!inFence && TAGS.test(l.trimStart())) {
        close();
        if (/^@example\b/.test(l.trimStart())) cur = { line, body: [l.trimStart().replace(/^@example\s?/, '')] };
        continue;
      }
      cur?.body.push(l);
    }
    close();
  }
  return out;
}

function dedent(code: string): string {
  const lines = code.split('\n');
  while (lines.length > 0 && lines[0]!.trim() === '') lines.shift();
  const ind = Math.min(...lines.filter((l) => l.trim() !== '').map((l) => /^ */.exec(l)![0].length));
  return lines.map((l) => l.slice(ind)).join('\n');
}

/** The ```ts blocks of a Markdown text (a README). */
export function markdownBlocks(text: string): { line: number; code: string }[] {
  const out: { line: number; code: string }[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!/^```(ts|typescript)\s*$/.test(lines[i]!)) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!);
    if (body.join('').trim() !== '') out.push({ line: start + 1, code: body.join('\n') });
  }
  return out;
}

/** Every ```ts block of the published packages' READMEs (they run like `@example` blocks). */
export function extractReadmes(root: string): Example[] {
  const out: Example[] = [];
  for (const pkg of PACKAGES) {
    const rel = `${pkg.dir}/README.md`;
    let text: string;
    try {
      text = readFileSync(join(root, rel), 'utf8');
    } catch {
      continue;
    }
    for (const { line, code } of markdownBlocks(text)) {
      const nr = /^\s*\/\/\s*\(not run: ([^)]+)\)/m.exec(code);
      out.push({ id: `${rel}:${line}`, pkg: pkg.name, file: rel, line, code, ...(nr !== null ? { notRun: nr[1]!.trim() } : {}) });
    }
  }
  return out;
}

/** Every `@example` of every published package, in file order. */
export function extractAll(root: string): Example[] {
  const out: Example[] = [];
  for (const pkg of PACKAGES) {
    for (const file of tsFiles(join(root, pkg.dir, 'src'))) {
      const rel = relative(root, file);
      for (const { line, code } of examplesIn(readFileSync(file, 'utf8'))) {
        const nr = /^\s*\/\/\s*\(not run: ([^)]+)\)/m.exec(code);
        out.push({ id: `${rel}:${line}`, pkg: pkg.name, file: rel, line, code, ...(nr !== null ? { notRun: nr[1]!.trim() } : {}) });
      }
    }
  }
  return out;
}
