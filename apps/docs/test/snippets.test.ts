// Every TypeScript snippet of the guides and the front page runs (those marked
// `// (not run: …)` are only type-checked, by `pnpm typecheck`), so the guides cannot drift from
// the API. Each runs as its own module, in a temporary working directory (snippets may save files).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { format } from 'node:util';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { writeSnippets } from '../scripts/snippets.mjs';

const snippets = writeSnippets();
const cwd = process.cwd();
let work = '';

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'axon-docs-snippets-'));
  process.chdir(work);
});
afterAll(() => {
  process.chdir(cwd);
  rmSync(work, { recursive: true, force: true });
});

describe('guide snippets', () => {
  it('finds the snippets of every guide', () => {
    const pages = new Set(snippets.map((s) => s.page));
    for (const page of ['pages/index.md', 'guides/getting-started.md', 'guides/memory.md', 'guides/backends.md', 'guides/saving-and-loading.md', 'guides/interop.md', 'guides/scale-out.md', 'guides/sequence-models.md', 'guides/performance.md']) expect(pages.has(page), page).toBe(true);
  });

  // Snippets marked `// (not run: …)` are only type-checked (`pnpm typecheck`), not registered here.
  for (const s of snippets.filter((x) => x.notRun === undefined)) {
    const name = `${s.page}:${s.line}`;
    it(`${name} runs`, async () => {
      const lines: string[] = [];
      const log = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void lines.push(format(...args)));
      try {
        await import(pathToFileURL(s.file).href);
      } finally {
        log.mockRestore();
      }
      console.log(`${name}:\n  ${lines.join('\n  ')}`);
    });
  }
});
