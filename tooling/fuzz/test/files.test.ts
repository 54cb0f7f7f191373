// Mutated model/safetensors/IDX/CSV/image files (seeded): each load gives an AxonError or a valid
// result, within 5 s, allocating at most 4 × the file's bytes + 16 MiB, leaking no tensor.
import '@axon/backend-wasm';
import '@axon/autograd';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { setBackend } from '@axon/core';
import { generateFileCases, generateSeedCases } from '../src/files.js';
import { Rng, fuzzScale, fuzzSeed } from '../src/rng.js';
import { formatFailures, runCase, summarize, type CaseResult } from '../src/run.js';

it('mutated model, safetensors, IDX, CSV and image files: AxonError or a valid result, bounded time and memory, no leak', async () => {
  await setBackend('wasm');
  const seed = fuzzSeed();
  const count = Math.round(450 * fuzzScale());
  const root = join(tmpdir(), `axon-fuzz-files-${process.pid}`);
  try {
    const cases = await generateFileCases(root, count, new Rng(seed ^ 0x5bd1e995));
    const results: CaseResult[] = [];
    for (const c of cases) results.push(await runCase(c));
    const s = summarize(results);
    const kinds = [...new Set(results.map((r) => r.name))];
    console.log(`file fuzz: ${s.total} mutated files of ${kinds.length} kinds (${kinds.join(', ')}): ${JSON.stringify(s.byOutcome)}`);
    mkdirSync('test-results', { recursive: true });
    writeFileSync('test-results/fuzz-files.json', JSON.stringify({ seed, ...s }, null, 1));
    expect(s.total).toBeGreaterThanOrEqual(300);
    expect(s.failures.length, formatFailures(s, seed)).toBe(0);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

it('the interop seeds (safetensors of every dtype and of a module in F32/F16/BF16, a 3 GiB sparse file read lazily; ONNX exported and PyTorch fixtures) load unmutated, so their mutations are refused for the mutation', async () => {
  await setBackend('wasm');
  const root = join(tmpdir(), `axon-fuzz-seeds-${process.pid}`);
  try {
    const results: CaseResult[] = [];
    for (const c of await generateSeedCases(root)) results.push(await runCase(c));
    const s = summarize(results);
    expect(s.total).toBe(14);
    const notAccepted = results.filter((x) => x.outcome !== 'accepted');
    expect(notAccepted.length, formatFailures({ ...s, failures: notAccepted }, fuzzSeed())).toBe(0);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
