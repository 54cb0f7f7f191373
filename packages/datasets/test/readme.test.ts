// The README's examples in "Passes and resuming", "Limits" and "Text for sequence models" run as
// written, and print what their comments say.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import '@axon/backend-wasm';
import { memory } from '@axon/core';
import * as datasets from '../src/index.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

/** The first ```ts block after `heading`. */
function block(heading: string): string {
  const at = readme.indexOf(`${heading}\n`);
  expect(at, heading).toBeGreaterThanOrEqual(0);
  const m = /```ts\n([\s\S]*?)```/.exec(readme.slice(at));
  expect(m, `code block under ${heading}`).not.toBeNull();
  return m![1]!;
}

type Run = (...args: unknown[]) => Promise<void>;
const AsyncFunction = Object.getPrototypeOf(async () => undefined).constructor as new (...args: string[]) => Run;

/** Runs a README block (imports stripped; the package's exports and gzipSync in scope), returning what it logged. */
async function run(code: string): Promise<string[]> {
  const logs: string[] = [];
  const show = (v: unknown): string => (Array.isArray(v) ? `[${v.join(', ')}]` : String(v));
  const scope: Record<string, unknown> = { ...datasets, gzipSync, console: { log: (...a: unknown[]) => logs.push(a.map(show).join(' ')) } };
  const body = code
    .split('\n')
    .filter((l) => !/^import\s/.test(l))
    .join('\n');
  await new AsyncFunction(...Object.keys(scope), body)(...Object.values(scope));
  return logs;
}

/** What the block's comments say it prints: `console.log(…); // out` and lines that are only `// out`. */
function expected(code: string): string[] {
  const out: string[] = [];
  for (const line of code.split('\n')) {
    const own = /^\/\/ (.*)$/.exec(line.trim());
    if (own) out.push(own[1]!);
    else if (/^console\.log\(/.test(line.trim())) {
      const c = /\/\/ (.*)$/.exec(line);
      if (c) out.push(c[1]!);
    }
  }
  return out;
}

describe('README examples', () => {
  it('Passes and resuming: pass k after a restart equals pass k of a run', async () => {
    await run(block('### Passes and resuming'));
  });

  it('Limits: the example prints the messages it shows', async () => {
    const code = block('## Limits');
    const want = expected(code);
    expect(want.length).toBeGreaterThanOrEqual(5);
    expect(await run(code)).toEqual(want);
  });

  it('Text for sequence models: the example prints what its comments say and leaks no tensors', async () => {
    const code = block('## Text for sequence models');
    const want = expected(code);
    expect(want.length).toBeGreaterThanOrEqual(7);
    const before = memory().numTensors;
    expect(await run(code)).toEqual(want);
    expect(memory().numTensors).toBe(before);
  }, 60_000);
});
