// Every @example type-checks against the packages' current API (with the names its package's
// examples have in scope), whether or not it runs.
import { describe, expect, it } from 'vitest';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { extractAll, extractReadmes } from '../src/extract.js';
import { typecheckExamples } from '../src/typecheck.js';

const HERE = fileURLToPath(import.meta.url);
const ROOT = resolve(HERE, '../../../..');

describe('examples type-check', () => {
  it('every @example compiles', { timeout: 240_000 }, () => {
    const examples = [...extractAll(ROOT), ...extractReadmes(ROOT)];
    const diags = typecheckExamples(ROOT, examples, resolve(HERE, '../../.generated'));
    const report = diags.map((d) => `${d.id} (example line ${d.line}): ${d.message.split('\n')[0]}`).join('\n');
    expect(report).toBe('');
  });
});
