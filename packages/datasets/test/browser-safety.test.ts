import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const srcDir = join(import.meta.dirname, '..', 'src');

describe('browser safety', () => {
  it('src has no static (value) imports of Node built-ins', () => {
    for (const f of readdirSync(srcDir)) {
      const text = readFileSync(join(srcDir, f), 'utf8');
      for (const line of text.split('\n')) {
        if (/^\s*import\s/.test(line) && /['"](node:|fs|path|zlib|module|url)['"/]/.test(line)) {
          expect(line, `${f}: ${line}`).toMatch(/^\s*import\s+type\s/);
        }
      }
    }
  });
});
