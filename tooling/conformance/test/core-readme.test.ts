// The examples in @axon/core's README run (on WASM) and print what their comments say.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it, vi } from 'vitest';

const readme = readFileSync(new URL('../../../packages/core/README.md', import.meta.url), 'utf8');
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
const dir = new URL('./.snippets/', import.meta.url);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Arrays print as the comments write them ([1, 4, 7], NaN as NaN), not as String() joins them.
const show = (v: unknown): string => (Array.isArray(v) ? `[${v.map(show).join(', ')}]` : String(v));

describe('@axon/core README examples', () => {
  blocks.forEach((code, i) => {
    it(`block ${i + 1} runs and prints what its comments say`, async () => {
      mkdirSync(dir, { recursive: true });
      const file = new URL(`core-readme-${i}.ts`, dir);
      const prelude = code.includes("'@axon/backend-wasm'") ? '' : "import '@axon/backend-wasm';\nimport { setBackend as __set } from '@axon/core';\nawait __set('wasm');\n";
      writeFileSync(file, prelude + code + '\nexport {};\n');
      const printed: string[] = [];
      const spy = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void printed.push(a.map(show).join(' ')));
      try {
        await import(/* @vite-ignore */ file.href);
      } finally {
        spy.mockRestore();
      }
      // Every `console.log(...); // expected` line: the printed text starts with the expected text.
      const expected = code.split('\n').filter((l) => /console\.log\(.*\);\s*\/\/ /.test(l)).map((l) => l.replace(/^.*\);\s*\/\/ /, '').trim());
      for (const e of expected) {
        const head = e.split(/[,(]/)[0]!.trim();
        expect(printed.some((p) => p.startsWith(head)), `printed ${JSON.stringify(printed)} lacks '${head}'`).toBe(true);
      }
    });
  });
});
