#!/usr/bin/env node
// Mutation check of the suite itself: runs the suite on copies of the reference backend, each
// with one deliberate kernel bug, and reports whether some test caught it. Every mutant must be
// caught. Opt-in (about 5 s per mutant): `pnpm --filter @axon/conformance mutants [name…]`.
import { execSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const MUTANTS = {
  'sum accumulates naively in float32': ['r = g.reduce((p, q) => p + q, 0);', 'r = g.reduce((p, q) => Math.fround(p + q), 0);'],
  'round is Math.round (half up)': ['  round: roundEven,', '  round: Math.round,'],
  'matmul ignores the strides of b': ['bd[b.offset + t * b.strides[0]! + k * b.strides[1]! + j * b.strides[2]!]', 'bd[b.offset + t * K * N + k * N + j]'],
  'random starts one counter late': ['referenceRandom(kind, key, counter, a, b, out.size)', 'referenceRandom(kind, key, counter + 1, a, b, out.size)'],
  'log1p is log(1 + x) in float32': ['  log1p: Math.log1p,', '  log1p: (x) => Math.log(Math.fround(1 + x)),'],
  'argmax/argmin keep the last tie': ["(op === 'argmax' ? g[i]! > g[best]! : g[i]! < g[best]!)", "(op === 'argmax' ? g[i]! >= g[best]! : g[i]! <= g[best]!)"],
  'max-pool gradient goes to the last maximum': ['if (arg < 0 || xv[at]! > xv[arg]!) arg = at;', 'if (arg < 0 || xv[at]! >= xv[arg]!) arg = at;'],
  'float→int32 does not saturate': ['    if (x >= 2147483647) return 2147483647;\n', ''],
  'scatterAdd assigns instead of adding': ['acc[(o * n + iv[j]!) * inner + i]! += uv', 'acc[(o * n + iv[j]!) * inner + i]! = uv'],
  'sigmoid computed as eˣ/(1+eˣ) in float32': ['  sigmoid: (x) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))),', '  sigmoid: (x) => Math.fround(Math.exp(x)) / Math.fround(1 + Math.fround(Math.exp(x))),'],
  'im2col padding reads 1e-3': ['p ? xv[((n * win.c + c) * win.h + p[0]) * win.w + p[1]]! : 0;', 'p ? xv[((n * win.c + c) * win.h + p[0]) * win.w + p[1]]! : 1e-3;'],
  'copy ignores the destination offset': ['for (let i = 0; i < o.length; i++) d[o[i]!] = conv', 'for (let i = 0; i < o.length; i++) d[o[i]! - dst.offset] = conv'],
  'free does not release memory': ["if (!this.live.delete(buf as Buf)) throw new Error('reference backend: double free');", 'void buf;'],
  'erf off by ~1e-4': ['const t = 1 / (1 + 0.3275911 * a);', 'const t = 1 / (1 + 0.33 * a);'],
  'mod truncates (C fmod)': ['return r !== 0 && r < 0 !== b < 0 ? r + b : r;\n}', 'return r;\n}'],
  'normal draws scaled by 1 + 1e-4': ['(out as Buf).data.set(referenceRandom(kind, key, counter, a, b, out.size));', "(out as Buf).data.set(referenceRandom(kind, key, counter, a, b, out.size).map((v) => (kind === 'normal' ? v * (1 + 1e-4) : v)));"],
};

const source = readFileSync(join(root, 'test/reference-backend.ts'), 'utf8');

function failingTitles(cmd) {
  try {
    execSync(cmd, { cwd: root, stdio: 'pipe', env: { ...process.env, AXON_SEED: process.env.AXON_SEED ?? '1' } });
    return [];
  } catch {
    const report = JSON.parse(readFileSync(join(root, 'test-results/vitest.json'), 'utf8'));
    return report.testResults.flatMap((f) => f.assertionResults.filter((t) => t.status !== 'passed').map((t) => t.title));
  }
}
const BASELINE = new Set(failingTitles('npx vitest run test/reference.test.ts'));
const only = process.argv.slice(2);
const mutantFile = join(root, 'test/scratch-mutant-backend.ts');
const testFile = join(root, 'test/scratch-mutant.test.ts');
let survived = 0;
try {
  for (const [name, [from, to]] of Object.entries(MUTANTS)) {
    if (only.length && !only.some((o) => name.includes(o))) continue;
    if (!source.includes(from)) throw new Error(`mutant '${name}': pattern not found in reference-backend.ts`);
    writeFileSync(mutantFile, source.replace(from, to).replaceAll("'reference'", "'mutant'"));
    writeFileSync(testFile, "import './scratch-mutant-backend.js';\nimport { describeBackendConformance } from '../src/index.js';\ndescribeBackendConformance('mutant');\n");
    const failed = failingTitles('npx vitest run test/scratch-mutant.test.ts');
    // tests that also fail on the unmutated reference backend (core bugs) do not count as catching
    const caught = failed.filter((t) => !BASELINE.has(t));
    if (caught.length === 0) survived++;
    console.log(`${caught.length ? 'caught  ' : 'SURVIVED'} ${name}${caught.length ? ` — ${caught.slice(0, 3).join(' | ')}` : ''}`);
  }
} finally {
  rmSync(mutantFile, { force: true });
  rmSync(testFile, { force: true });
}
console.log(survived ? `${survived} mutant(s) survived` : 'every mutant was caught');
process.exit(survived ? 1 : 0);
