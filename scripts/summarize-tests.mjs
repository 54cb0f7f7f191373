// Sums every package's vitest JSON report into one closing line: "N passed, N failed, N skipped".
import { readFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
let passed = 0, failed = 0, skipped = 0;
const rows = [];
const folders = [];
for (const group of ['packages', 'apps', 'tooling']) {
  const dir = join(root, group);
  if (existsSync(dir)) for (const name of readdirSync(dir)) folders.push([group, name]);
}
folders.push(['.', 'examples']);
{
  for (const [group, name] of folders) {
    const f = join(root, group, name, 'test-results', 'vitest.json');
    if (!existsSync(f)) continue;
    const r = JSON.parse(readFileSync(f, 'utf8'));
    passed += r.numPassedTests ?? 0;
    failed += r.numFailedTests ?? 0;
    skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
    rows.push(`${group}/${name}: ${r.numPassedTests} passed, ${r.numFailedTests} failed`);
  }
}
console.log(rows.join('\n'));
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
if (failed > 0 || passed === 0) process.exit(1);
