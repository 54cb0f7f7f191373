// The README's example in "Bad input" runs as written and prints what its comments say.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import * as core from '@axon/core';
import * as optimizers from '../src/index.js';
import { useTestBackend } from './helpers.js';

beforeAll(async () => {
  await useTestBackend();
});

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

/** The first ```ts block after `heading`. */
function block(heading: string): string {
  const at = readme.indexOf(`${heading}\n`);
  expect(at, heading).toBeGreaterThanOrEqual(0);
  const m = /```ts\n([\s\S]*?)```/.exec(readme.slice(at));
  expect(m, `code block under ${heading}`).not.toBeNull();
  return m![1]!;
}

/** Runs a README block (imports stripped, the packages' exports in scope), returning what it logged. */
function run(code: string): string[] {
  const logs: string[] = [];
  const scope: Record<string, unknown> = { ...core, ...optimizers, console: { log: (...a: unknown[]) => logs.push(a.map(String).join(' ')) } };
  const body = code
    .split('\n')
    .filter((l) => !/^import\s/.test(l))
    .join('\n');
  new Function(...Object.keys(scope), `{\n${body}\n}`)(...Object.values(scope));
  return logs;
}

/** What the block's comments say `console.log(…); // out` prints. */
function expected(code: string): string[] {
  const out: string[] = [];
  for (const line of code.split('\n')) {
    if (!/(^|\s)console\.log\(/.test(line.trim())) continue;
    const c = /; \/\/ (.*)$/.exec(line);
    if (c) out.push(c[1]!);
  }
  return out;
}

describe('README examples', () => {
  it('Bad input: a misspelt option is refused; a NaN rate changes nothing', () => {
    const code = block('### Bad input');
    const want = expected(code);
    expect(want.length).toBe(2);
    const before = core.memory().numTensors;
    expect(run(code)).toEqual(want);
    expect(core.memory().numTensors).toBe(before);
  });

  for (const heading of ['### `OneCycleLR`: the 1cycle policy, momentum included', '### `ReduceLROnPlateau`: lower the lr when a metric stalls']) {
    it(`${heading.slice(4)}: prints what its comments say`, () => {
      const code = block(heading);
      const want = expected(code);
      expect(want.length).toBe(2);
      expect(run(code)).toEqual(want);
    });
  }
});
