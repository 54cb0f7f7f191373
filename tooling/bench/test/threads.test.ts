import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';

// The suites' pure helpers, not the peers: keep TensorFlow.js out (see harness.test.ts).
vi.mock('../src/peers/tfjs.js', () => ({ tf: {}, tfLiveTensors: () => 0, useTfBackend: async () => undefined }));
import { measureInterleaved, ratioColumns, renderResult, renderTable, type SuiteResult } from '../src/harness.js';
import { startTorchWorker, threadsMismatch, torchEnv } from '../src/peers/torch.js';
import { gflops, matmulContenders } from '../src/suites/matmul.js';
import { mlpContenders } from '../src/suites/mlp.js';
import type { SuiteOptions } from '../src/suite.js';
import {
  cnnBarLine,
  slowerWithThreadsWarnings,
  defaultThreads,
  matmulBarLines,
  mlpBarLine,
  parseSimd,
  parseThreads,
  simd128ChildArgs,
  threadedId,
  threadedLabel,
} from '../src/threads.js';

describe('--threads', () => {
  it('defaults to 1 and the cores available, or 1 alone on one core', () => {
    expect(defaultThreads(2)).toEqual([1, 2]);
    expect(defaultThreads(8)).toEqual([1, 8]);
    expect(defaultThreads(1)).toEqual([1]);
    expect(parseThreads(undefined, 2)).toEqual([1, 2]);
  });
  it('reads counts and auto, deduplicated and ascending', () => {
    expect(parseThreads('1,2', 2)).toEqual([1, 2]);
    expect(parseThreads('2, 1', 4)).toEqual([1, 2]);
    expect(parseThreads('auto,1,4', 4)).toEqual([1, 4]);
    expect(parseThreads('2', 2)).toEqual([2]);
  });
  it('refuses what is not a positive integer, naming the value', () => {
    for (const bad of ['0', '1,0', '-1', '1.5', 'two', '', '1,,2', '1e2']) {
      expect(() => parseThreads(bad, 2)).toThrow(`--threads expects positive integers or 'auto' separated by commas (e.g. --threads 1,2), got '${bad}'`);
    }
  });
});

describe('--simd', () => {
  it('defaults to relaxed; --baseline-simd is simd128', () => {
    expect(parseSimd(undefined, false)).toBe('relaxed');
    expect(parseSimd(undefined, true)).toBe('simd128');
    expect(parseSimd('both', false)).toBe('both');
    expect(parseSimd('simd128', true)).toBe('simd128');
  });
  it('refuses other modes and a contradiction', () => {
    expect(() => parseSimd('avx', false)).toThrow("--simd expects relaxed, simd128 or both, got 'avx'");
    expect(() => parseSimd('both', true)).toThrow('--baseline-simd is --simd simd128; it contradicts --simd both');
  });
  it('gives the SIMD128 child the same arguments with --simd simd128', () => {
    expect(simd128ChildArgs(['--suite', 'matmul', '--simd', 'both', '--threads', '1,2', '--write'])).toEqual([
      '--suite',
      'matmul',
      '--threads',
      '1,2',
      '--write',
      '--simd',
      'simd128',
    ]);
    expect(simd128ChildArgs(['--simd=both', '--runs', '5'])).toEqual(['--runs', '5', '--simd', 'simd128']);
    expect(simd128ChildArgs(['--baseline-simd'])).toEqual(['--simd', 'simd128']);
  });
});

describe('thread naming', () => {
  it('suffixes ids and labels with the thread count, and leaves them alone without one', () => {
    expect(threadedId('axon', 2)).toBe('axon-2t');
    expect(threadedLabel('axon-wasm', 1)).toBe('axon-wasm 1t');
    expect(threadedId('axon', undefined)).toBe('axon');
    expect(threadedLabel('pytorch', undefined)).toBe('pytorch');
  });
  const opts = (extra: Partial<SuiteOptions>): SuiteOptions => ({ minSampleMs: 100, backend: 'wasm', cpuMaxSize: 512, log: () => undefined, ...extra });
  it('makes one Axon matmul contender per thread count, the JS peers once', () => {
    const ks = matmulContenders(opts({ threads: [1, 2] }));
    expect(ks.map((k) => [k.id, k.label, k.threads])).toEqual([
      ['axon-1t', 'axon-wasm 1t', 1],
      ['axon-2t', 'axon-wasm 2t', 2],
      ['jax-wasm', 'jax-js-wasm', undefined],
      ['tfjs-wasm', 'tfjs-wasm', undefined],
      ['tfjs-cpu', 'tfjs-cpu', undefined],
    ]);
    expect(ks.filter((k) => k.axon).length).toBe(2);
    expect(matmulContenders(opts({ threads: [1, 2], only: ['jax-wasm'] })).map((k) => k.id)).toEqual(['axon-1t', 'axon-2t', 'jax-wasm']);
    expect(matmulContenders(opts({})).map((k) => k.id)[0]).toBe('axon'); // no thread counts (webgpu)
  });
  it('makes Axon and PyTorch mlp contenders per thread count', () => {
    const ks = mlpContenders(opts({ threads: [1, 2] }));
    expect(ks.map((k) => k.id)).toEqual(['axon-1t', 'axon-2t', 'tfjs-wasm', 'tfjs-cpu', 'jax-wasm', 'torch-1t', 'torch-2t']);
    expect(ks.filter((k) => k.id.startsWith('torch')).map((k) => [k.label, k.threads])).toEqual([
      ['pytorch 1t', 1],
      ['pytorch 2t', 2],
    ]);
    expect(mlpContenders(opts({ threads: [1, 2], only: ['torch'] })).map((k) => k.id)).toEqual(['axon-1t', 'axon-2t', 'torch-1t', 'torch-2t']);
  });
});

/** Axon and PyTorch at 1 and 2 threads, and a one-thread JS peer. */
const THREADED: SuiteResult['contenders'] = [
  { id: 'axon-1t', label: 'axon-wasm 1t', axon: true, threads: 1 },
  { id: 'axon-2t', label: 'axon-wasm 2t', axon: true, threads: 2 },
  { id: 'jax-wasm', label: 'jax-js-wasm' },
  { id: 'torch-1t', label: 'pytorch 1t', threads: 1 },
  { id: 'torch-2t', label: 'pytorch 2t', threads: 2 },
];

describe('ratio columns with thread counts', () => {
  const m = (median: number) => ({ samples: [median], median, min: median * 0.9, reps: 1 });
  const r: SuiteResult = {
    id: 'matmul',
    title: 't',
    metric: gflops,
    contenders: THREADED,
    cases: [{ label: '1024 A·B', work: 4e9, cells: { 'axon-1t': m(0.1), 'axon-2t': m(0.05), 'jax-wasm': m(0.2), 'torch-1t': m(0.1), 'torch-2t': m(0.04) } }],
    notes: [],
    warnings: [],
  };
  it("gives Axon's own speed-up, then each peer against Axon at its thread count or at Axon's most", () => {
    expect(ratioColumns(r.contenders).map((c) => [c.heading, c.num.id, c.den.id])).toEqual([
      ['Axon 2t ÷ 1t', 'axon-2t', 'axon-1t'],
      ['Axon 2t ÷ jax-js-wasm', 'axon-2t', 'jax-wasm'],
      ['Axon 1t ÷ pytorch 1t', 'axon-1t', 'torch-1t'],
      ['Axon 2t ÷ pytorch 2t', 'axon-2t', 'torch-2t'],
    ]);
  });
  it('prints those columns from medians', () => {
    const t = renderTable(r);
    const [head, , row] = t.split('\n');
    expect(head).toMatch(/axon-wasm 1t GFLOP\/s .* axon-wasm 2t GFLOP\/s .* Axon 2t ÷ 1t .* Axon 2t ÷ jax-js-wasm .* Axon 1t ÷ pytorch 1t .* Axon 2t ÷ pytorch 2t/);
    expect(row).toMatch(/\| +2\.00× \| +4\.00× \| +1\.00× \| +0\.80× \|$/);
    expect(renderResult(r)).toContain('"Axon Nt ÷ 1t" is Axon\'s own speed-up');
  });
  it('keeps the plain "Axon ÷ peer" columns with one Axon contender', () => {
    expect(ratioColumns([{ id: 'axon', label: 'axon-wasm', axon: true }, { id: 'p', label: 'peer' }]).map((c) => c.heading)).toEqual(['Axon ÷ peer']);
  });
});

describe('measureInterleaved', () => {
  it('warms each variant up, then alternates their samples (ABAB…), calling before() ahead of each', async () => {
    const order: string[] = [];
    const entry = (id: string) => ({ id, before: () => void order.push(`${id}:before`), op: () => void order.push(id) });
    const m = await measureInterleaved([entry('1t'), entry('2t')], { warmup: 1, warmupMs: 0, runs: 3, minSampleMs: 0 });
    expect(order).toEqual(['1t:before', '1t', '2t:before', '2t', ...Array.from({ length: 3 }, () => ['1t:before', '1t', '2t:before', '2t']).flat()]);
    for (const id of ['1t', '2t']) {
      expect(m.get(id)!.samples).toHaveLength(3);
      expect(m.get(id)!.reps).toBe(1);
      expect(m.get(id)!.min).toBeLessThanOrEqual(m.get(id)!.median);
    }
  });
});

describe("issue 12's bars", () => {
  const f = (median: number, best = median) => ({ median, best });
  it('judges matmul 1024 A·B at 2 threads by the SIMD in use, its speed-up and jax-js', () => {
    const relaxed = matmulBarLines({ axon1: f(45), axon2: f(85, 90), jax: f(40) }, true);
    expect(relaxed[0]).toMatch(/≥ 80 GFLOP\/s \(relaxed SIMD\):\*\* 85\.0 GFLOP\/s median \(best 90\.0\): met\./);
    expect(relaxed[1]).toMatch(/≥ 1\.8× Axon's 1 thread:\*\* 1\.89× from medians .*: met\./);
    expect(relaxed[2]).toMatch(/≥ 2× jax-js:\*\* 2\.13× from medians .*: met\./);
    const base = matmulBarLines({ axon1: f(40), axon2: f(60), jax: f(35) }, false);
    expect(base[0]).toMatch(/≥ 65 GFLOP\/s \(SIMD128\):\*\* 60\.0 .*: \*\*not met\*\*\./);
    expect(base[1]).toMatch(/1\.50× from medians .*\*\*not met\*\*/);
    expect(matmulBarLines({ axon1: f(40) }, true)).toEqual([]);
    expect(matmulBarLines({ axon2: f(90) }, true)).toHaveLength(1);
  });
  it('judges the mlp at 2 threads against 1.5× its 1-thread epoch', () => {
    expect(mlpBarLine('8000 digits, batch 128', f(0.9), f(0.5))).toMatch(/≥ 1\.5× faster than 1 thread:\*\* 1\.80× from medians .*: met\./);
    expect(mlpBarLine('8000 digits, batch 128', f(0.9), f(0.7))).toMatch(/1\.29× .*\*\*not met\*\*/);
    expect(mlpBarLine('x', undefined, f(1))).toBeUndefined();
  });
  it('judges the cnn at 2 threads against 1.5× PyTorch at 2 threads, and only reports other counts', () => {
    expect(cnnBarLine(2, f(6), f(5))).toMatch(/^\*\*Issue 12, cnn, Axon within 1\.5× of PyTorch at 2 threads each:\*\* Axon's epoch takes 1\.20× .*: met\.$/);
    expect(cnnBarLine(2, f(8), f(5))).toMatch(/1\.60× .*\*\*not met\*\*\.$/);
    expect(cnnBarLine(4, f(8), f(5))).toMatch(/^\*\*cnn, Axon beside PyTorch at 4 threads each \(no bar\):\*\* .*1\.60×.*\)\.$/);
    expect(cnnBarLine(2, f(8), undefined)).toBeUndefined();
    // PyTorch slower at 2 threads than at 1: a busy machine, not a verdict
    expect(cnnBarLine(2, f(0.5), f(1.5), f(0.2))).toMatch(/0\.33× .*: not judged — PyTorch ran slower at 2 threads than at 1 \(0\.20 s\)/);
    expect(cnnBarLine(2, f(6), f(5), f(9))).toMatch(/1\.20× .*: met\.$/);
  });
});

// A stand-in for the PyTorch worker scripts (see torch.test.ts): a Node program that speaks the protocol.
const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-threads-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('PyTorch thread counts', () => {
  it('sets OpenMP and the BLAS to the thread count in the environment', () => {
    expect(torchEnv(2)).toMatchObject({ OMP_NUM_THREADS: '2', OPENBLAS_NUM_THREADS: '2', MKL_NUM_THREADS: '2' });
    expect(torchEnv()).toMatchObject({ OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1' });
  });
  it("checks the threads the script reports: torch's and OpenBLAS's (null: another BLAS)", () => {
    expect(threadsMismatch({ threads: 2, blasThreads: 2 }, 2)).toBeNull();
    expect(threadsMismatch({ threads: 2, blasThreads: null }, 2)).toBeNull();
    expect(threadsMismatch({ threads: 1, blasThreads: 2 }, 2)).toBe('torch.get_num_threads() is 1, expected 2');
    expect(threadsMismatch({ threads: 2, blasThreads: 1 }, 2)).toBe('OpenBLAS runs 1 threads, expected 2');
    expect(threadsMismatch({}, 1)).toBe('torch.get_num_threads() is undefined, expected 1');
  });
  it('starts a worker with the thread count as its argument and environment, and refuses one that runs another count', async () => {
    // reports what its environment and arguments say, as the Python scripts do
    const echo = path.join(dir, 'echo.mjs');
    writeFileSync(
      echo,
      `const [d, n, b, t] = process.argv.slice(2);
       console.log(JSON.stringify({ ready: true, n: Number(n), batch: Number(b), threads: Number(t), blasThreads: Number(process.env.OPENBLAS_NUM_THREADS), omp: process.env.OMP_NUM_THREADS, d }));
       process.stdin.resume(); process.stdin.on('end', () => process.exit(0));`,
    );
    const w = await startTorchWorker('echo.mjs', 8000, 128, 2, '/data', { python: process.execPath, script: echo });
    expect(w.hello).toMatchObject({ n: 8000, batch: 128, threads: 2, blasThreads: 2, omp: '2', d: '/data' });
    w.close();
    const stuck = path.join(dir, 'stuck.mjs');
    writeFileSync(stuck, `console.log(JSON.stringify({ ready: true, n: 8000, batch: 128, threads: 1, blasThreads: 1 })); process.stdin.resume();`);
    await expect(startTorchWorker('stuck.mjs', 8000, 128, 2, '/data', { python: process.execPath, script: stuck })).rejects.toThrow(
      'stuck.mjs: torch.get_num_threads() is 1, expected 2',
    );
    await expect(startTorchWorker('stuck.mjs', 60000, 128, 1, '/data', { python: process.execPath, script: stuck })).rejects.toThrow(
      'stuck.mjs: loaded 8000 digits at batch 128, expected 60000 at 128',
    );
  });
});

describe('slowerWithThreadsWarnings', () => {
  const m = (median: number) => ({ samples: [median], median, min: median, reps: 1 });
  it('flags a row where a contender is slower at more threads, per family, and nothing else', () => {
    const r: SuiteResult = {
      id: 'mlp',
      title: 't',
      metric: { unit: 's/epoch', higherIsBetter: false, digits: 3, value: (s) => s },
      contenders: THREADED,
      cases: [
        { label: 'a', cells: { 'axon-1t': m(1), 'axon-2t': m(0.6), 'jax-wasm': m(9), 'torch-1t': m(0.1), 'torch-2t': m(0.4) } },
        { label: 'b', cells: { 'axon-1t': m(1), 'axon-2t': m(1.25), 'torch-1t': m(1), 'torch-2t': { skipped: 'failed' } } },
      ],
      notes: [],
      warnings: [],
    };
    const w = slowerWithThreadsWarnings(r);
    expect(w).toHaveLength(2);
    expect(w[0]).toMatch(/^b: axon-wasm 2t was slower than axon-wasm 1t \(0\.80× from medians\)/);
    expect(w[1]).toMatch(/^a: pytorch 2t was slower than pytorch 1t \(0\.25× from medians\): other jobs/);
  });
});
