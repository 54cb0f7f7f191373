// Generated bad API calls (seeded): each must give an AxonError or a valid result, leak nothing,
// finish within 5 s and keep the backend's memory within the bound. On demand: AXON_FUZZ_SCALE=50.
import '@axon/backend-wasm';
import '@axon/autograd';
import { writeFileSync, mkdirSync } from 'node:fs';
import { expect, it } from 'vitest';
import { setBackend } from '@axon/core';
import { apiSpecCount, generateApiCases, generateValidCases, prepareApiSpecs } from '../src/api.js';
import { Rng, fuzzScale, fuzzSeed } from '../src/rng.js';
import { formatFailures, runCase, summarize, type CaseResult } from '../src/run.js';

it('bad API calls across every op family and layer: AxonError or a valid result, no leak, no hang, bounded memory', async () => {
  await setBackend('wasm');
  await prepareApiSpecs();
  const seed = fuzzSeed();
  const count = Math.round(600 * fuzzScale());
  const cases = generateApiCases(seed, count, new Rng(seed));
  const results: CaseResult[] = [];
  for (const c of cases) results.push(await runCase(c));
  const s = summarize(results);
  const { specs, families } = apiSpecCount();
  const line = `api fuzz: ${s.total} calls over ${specs} functions in ${families.length} families (${families.join(', ')}): ${JSON.stringify(s.byOutcome)}`;
  console.log(line);
  mkdirSync('test-results', { recursive: true });
  writeFileSync('test-results/fuzz-api.json', JSON.stringify({ seed, ...s }, null, 1));
  expect(s.total).toBeGreaterThanOrEqual(300);
  expect(s.failures.length, formatFailures(s, seed)).toBe(0);
});

it("every spec's valid call is accepted (so its bad calls are rejected for the bad argument, not for a broken spec)", async () => {
  await setBackend('wasm');
  await prepareApiSpecs();
  const results: CaseResult[] = [];
  for (const c of generateValidCases(new Rng(fuzzSeed()))) results.push(await runCase(c));
  const s = summarize(results);
  expect(s.total).toBe(apiSpecCount().specs);
  expect(s.failures.length + (s.byOutcome.rejected ?? 0), formatFailures({ ...s, failures: results.filter((x) => x.outcome !== 'accepted') }, fuzzSeed(), 60)).toBe(0);
});

it('AXON_FUZZ_ONLY keeps the specs whose family/name matches (the new conv specs among them), and refuses a pattern that matches none', () => {
  const saved = process.env.AXON_FUZZ_ONLY;
  try {
    const all = apiSpecCount().specs;
    process.env.AXON_FUZZ_ONLY = '^conv/(conv1d|convTranspose[12]d|maxPool1d|avgPool1d|upsample)';
    const some = apiSpecCount();
    expect(some.families).toEqual(['conv']);
    expect(some.specs).toBe(12);
    expect(some.specs).toBeLessThan(all);
    process.env.AXON_FUZZ_ONLY = '^layers/(KerasConv1D|Conv2DTranspose|MaxPooling1D|AveragePooling[12]D|UpSampling[12]D)( |$)';
    expect(apiSpecCount().specs).toBe(12);
    process.env.AXON_FUZZ_ONLY = 'no such spec';
    expect(() => apiSpecCount()).toThrow(/matches none/);
  } finally {
    if (saved === undefined) delete process.env.AXON_FUZZ_ONLY;
    else process.env.AXON_FUZZ_ONLY = saved;
  }
});
