// `--threads N|auto` (issue 12): every command that starts a backend sets core's thread count
// (`setNumThreads`) before it starts; the training log and `axon info` say how many threads the
// WASM backend's ops may use (`features.threads`), and `axon info` says why (`threadsReason`).
// `axon info` starts its backends in a child process, which gets the setting too.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { getNumThreads, setNumThreads } from '@axon/core';
import { train } from '../src/commands/train.js';
import { featureList, featureReasons, threadCount } from '../src/format.js';

const cli = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'axon-cli-threads-'));
afterAll(() => {
  setNumThreads('auto');
  rmSync(dir, { recursive: true, force: true });
});
const axon = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 120_000, cwd: dir });
const TINY = ['--backend', 'wasm', '--epochs', '1', '--limit', '200', '--batch-size', '100', '--no-progress'];
const threads = (n: number): string => `${n} thread${n === 1 ? '' : 's'}`;
/** What `auto` gives: one thread per core, at most 16 (the WASM backend's rule for `auto`). */
const cores = Math.min(16, availableParallelism());

describe('--threads: parsing', () => {
  it('takes auto or a positive integer in decimal digits', () => {
    const parse = threadCount('threads');
    expect(parse('auto')).toBe('auto');
    expect(parse('1')).toBe(1);
    expect(parse('2')).toBe(2);
    expect(parse('64')).toBe(64);
    expect(getNumThreads()).toBe('auto'); // parsing checks against core's bound and changes nothing
  });
  it('refuses anything else, naming the flag and what it expects', () => {
    const parse = threadCount('threads');
    for (const v of ['0', '1.5', '-2', '0x2', '', 'abc', ' 2', '1e1', 'Auto']) {
      expect(() => parse(v), v).toThrow(`--threads must be 'auto' or a positive integer written in decimal digits, got '${v}'`);
    }
    expect(() => parse('65')).toThrow(/^--threads 65: setNumThreads: expected an integer from 1 to 64/);
    expect(getNumThreads()).toBe('auto');
  });
  it('axon refuses a bad --threads on every command that starts a backend, before it starts', () => {
    for (const v of ['0', '1.5', '-2', '0x2', '', 'abc']) {
      const r = axon('train', ...TINY, '--threads', v);
      expect(r.status, v).toBe(1);
      expect(r.stderr, v).toContain(`error: option '--threads <n>' argument '${v}' is invalid. --threads must be 'auto' or a positive integer written in decimal digits, got '${v}'`);
      expect(r.stdout, v).toBe('');
    }
    for (const args of [['eval', 'm'], ['predict', 'm', '--index', '0'], ['example', 's1'], ['info']]) {
      const r = axon(...args, '--threads', '0');
      expect(r.status, args[0]).toBe(1);
      expect(r.stderr, args[0]).toContain(`--threads must be 'auto' or a positive integer written in decimal digits, got '0'`);
    }
    const big = axon('info', '--threads', '65');
    expect(big.status).toBe(1);
    expect(big.stderr).toMatch(/--threads 65: setNumThreads: expected an integer from 1 to 64/);
  });
  it('--help documents it', () => {
    for (const cmd of ['train', 'eval', 'predict', 'example', 'info']) {
      const r = axon(cmd, '--help');
      expect(r.status, cmd).toBe(0);
      expect(r.stdout.replace(/\s+/g, ' '), cmd).toContain(`--threads <n> threads the backend's ops may use: a positive integer, or auto (one per core); results are bit-identical for any count (default: "auto")`);
    }
  });
});

describe('featureList / featureReasons', () => {
  it('write the thread count last, as 1 thread / N threads, and its reason on its own', () => {
    const f = { simd: true, threads: 2, relaxedSimd: true, threadsReason: 'auto: 2 cores available' };
    expect(featureList(f)).toBe(' (SIMD, relaxed SIMD, 2 threads)');
    expect(featureList({ ...f, threads: 1, threadsReason: '1 requested' })).toBe(' (SIMD, relaxed SIMD, 1 thread)');
    expect(featureList({ simd: true, relaxedSimd: false })).toBe(' (SIMD)');
    expect(featureReasons(f)).toEqual(['threads: auto: 2 cores available']);
    expect(featureReasons({ simd: true })).toEqual([]);
    expect(featureReasons(undefined)).toEqual([]);
  });
});

describe('axon train --threads', () => {
  it('--threads 1: the log names 1 thread', () => {
    const r = axon('train', ...TINY, '--threads', '1');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^axon train: model mlp, backend wasm \(SIMD(, relaxed SIMD)?, 1 thread\),/m);
  });
  it('by default (auto): one thread per core', () => {
    const r = axon('train', ...TINY);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^axon train: model mlp, backend wasm \\(SIMD(, relaxed SIMD)?, ${threads(cores)}\\),`, 'm'));
  });
  it('in process: train({ threads }) sets the count before the backend starts, and an interrupted run says to continue with it', async () => {
    const lines: string[] = [];
    const stop = new AbortController();
    stop.abort(); // stops after the first step and writes a checkpoint
    const r = await train(
      { model: 'mlp', epochs: 1, batchSize: 100, lr: 0.001, backend: 'wasm', threads: 1, seed: 0, limit: 200, validationSplit: 0, progress: false, output: join(dir, 'run'), interrupt: stop.signal },
      (s) => void lines.push(s),
    );
    expect(getNumThreads()).toBe(1);
    expect(r.interrupted, lines.join('\n')).toBeDefined();
    expect(lines.some((l) => /backend wasm \(SIMD(, relaxed SIMD)?, 1 thread\),/.test(l)), lines.join('\n')).toBe(true);
    expect(lines.some((l) => /^continue with: axon train .*--backend wasm --threads 1 .*--resume$/.test(l)), lines.join('\n')).toBe(true);
    setNumThreads('auto');
  });
});

describe('axon info --threads', () => {
  // 1 and 2: at least one of them differs from auto on any machine, so the child's count is the one asked for
  for (const n of [1, 2]) {
    it(`--threads ${n}: the wasm line names ${threads(n)}, and the next line why`, () => {
      const r = axon('info', '--threads', String(n));
      expect(r.status, r.stderr).toBe(0);
      const lines = r.stdout.split('\n');
      const at = lines.findIndex((l) => /^ {2}[ *] wasm {5}available /.test(l));
      expect(lines[at], r.stdout).toMatch(new RegExp(`^ {2}[ *] wasm {5}available \\(SIMD(, relaxed SIMD)?, ${threads(n)}\\)$`));
      expect(lines[at + 1], r.stdout).toMatch(/^ {13}threads: \S.*$/);
      expect(lines[at + 1], r.stdout).toContain(String(n));
    });
  }
});
