// The doctest's own rules: which comments are values, and when a value matches.
import { describe, expect, it } from 'vitest';
import { tensor } from '@axon/core';
import '@axon/backend-wasm';
import { mismatch, parseExpected } from '../src/expect.js';
import { examplesIn } from '../src/extract.js';
import { transform } from '../src/transform.js';
import { runExample } from '../src/run.js';

const m = (actual: unknown, comment: string): string | undefined => mismatch(actual, parseExpected(comment)!);

describe('value comments', () => {
  it('parse literals and leave prose alone', () => {
    expect(parseExpected('[1, -2.5, true, null]')).toBeDefined();
    expect(parseExpected("{ bytes: 4000, 'a b': [1] }")).toBeDefined();
    expect(parseExpected('NaN')).toBeDefined();
    expect(parseExpected('shape [2, 3] after the flatten')).toBeUndefined();
    expect(parseExpected('[1, 2] — the sums')).toBeUndefined();
    expect(parseExpected('')).toBeUndefined();
  });

  it('match numbers to the digits written', () => {
    expect(m(0.7310586, '0.7311')).toBeUndefined();
    expect(m(0.7310586, '0.73')).toBeUndefined();
    expect(m(0.7310586, '0.7312')).toMatch(/expected 0.7312/);
    expect(m(2, '2')).toBeUndefined();
    expect(m(2.0000001, '2')).toBeUndefined(); // float32 rounding of an integer
    expect(m(2.01, '2')).toBeDefined();
    expect(m(NaN, 'NaN')).toBeUndefined();
    expect(m(1, 'NaN')).toBeDefined();
    expect(m(-Infinity, '-Infinity')).toBeUndefined();
  });

  it('compare tensors by value, arrays exactly, objects on the keys written', () => {
    expect(m(tensor([[1, 2], [3, 4]]), '[[1, 2], [3, 4]]')).toBeUndefined();
    expect(m(tensor([[1, 2], [3, 4]]), '[[1, 2], [3, 5]]')).toMatch(/\[1\]\[1\]/);
    expect(m(tensor([1, 2]), '[1, 2, 3]')).toMatch(/3 items/);
    expect(m(tensor([true, false]), '[true, false]')).toBeUndefined();
    expect(m({ a: 1, b: 2 }, '{ a: 1 }')).toBeUndefined();
    expect(m({ a: 1, b: 2 }, '{ a: 2 }')).toMatch(/\.a/);
    expect(m('wasm', "'wasm'")).toBeUndefined();
  });
});

describe('extraction and transformation', () => {
  it('finds inline, multi-line and fenced examples, skipping @internal blocks', () => {
    const src = [
      '/** −x. @example neg(tensor([1])) // [-1] */',
      '/**',
      ' * Doc.',
      ' * @example',
      ' * ```ts',
      ' * const a = 1;',
      ' * a + 1 // 2',
      ' * ```',
      ' * @param x the input',
      ' */',
      '/** @internal helper. @example secret() */',
    ].join('\n');
    const ex = examplesIn(src);
    expect(ex.map((e) => e.code)).toEqual(['neg(tensor([1])) // [-1]', 'const a = 1;\na + 1 // 2']);
    expect(ex.map((e) => e.line)).toEqual([1, 4]);
  });

  it('turns value comments into checks, throws comments into throw checks, imports into lookups', () => {
    const t = transform("import { tensor } from '@axon/core';\nconst y = f(); // 3\ng() // [1]\nh(); // throws: 'bad'\nk(); // prose here", 'id');
    expect(t.checks).toBe(3);
    expect(transform('f() // [NaN, -Infinity]', 'id').run).toContain('"[NaN, -Infinity]"');
    expect(t.run).toContain("await __import(\"@axon/core\")");
    expect(t.run).toContain('await __check(y,');
    expect(t.run).toContain('await __check((g()),');
    expect(t.run).toContain('await __throws(async () => { h(); }, "bad"');
    expect(t.run).toContain('k(); // prose here');
    const logged = transform('console.log(f()); // 3\nconsole.log(a, b); // 1 2', 'id');
    expect(logged.checks).toBe(1);
    expect(logged.run).toContain('{ const __v = (f()); console.log(__v); await __check(__v,');
  });
});

describe('running', () => {
  const load = async (): Promise<Record<string, unknown>> => ({});
  const ex = (code: string) => ({ id: 't.ts:1', pkg: '@axon/core', file: 't.ts', line: 1, code });
  it('asserts values, NaN and ±Infinity included, and throws', async () => {
    await expect(runExample(ex('0 / 0 // NaN\n1 / 0 // Infinity\nconst a = [1, -1 / 0]; // [1, -Infinity]'), {}, load)).resolves.toMatchObject({ checks: 3 });
    await expect(runExample(ex('1 + 1 // 3'), {}, load)).rejects.toThrow(/expected 3, got 2/);
    await expect(runExample(ex("JSON.parse('{'); // throws"), {}, load)).resolves.toMatchObject({ checks: 1 });
    await expect(runExample(ex('1; // throws'), {}, load)).rejects.toThrow(/expected it to throw/);
  });
});
