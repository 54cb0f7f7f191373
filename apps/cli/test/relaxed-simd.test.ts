// `axon` runs the WASM backend's relaxed-SIMD (FMA) matmul by default: on Node 20 it turns V8's
// flag on for itself (src/v8-flags.ts), and AXON_RELAXED_SIMD=0 keeps the SIMD128 path there. The
// training log names what runs (and, since issue 12, the thread count: test/threads.test.ts).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const cli = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const node20 = Number(process.versions.node.split('.')[0]) < 22;
const train = (env: Record<string, string>) =>
  spawnSync(process.execPath, [cli, 'train', '--backend', 'wasm', '--epochs', '1', '--limit', '200', '--batch-size', '100', '--no-progress'], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 120_000,
  });

describe('axon train and relaxed SIMD', () => {
  it('runs the relaxed-SIMD matmul by default, and says so', () => {
    const r = train({});
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/backend wasm \(SIMD, relaxed SIMD, \d+ threads?\),/);
  });
  it('axon info says so too (its backends start in a child process, which gets the flag)', () => {
    const r = spawnSync(process.execPath, [cli, 'info'], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ {2}[ *] wasm {5}available \(SIMD, relaxed SIMD, \d+ threads?\)$/m);
  });
  it.runIf(node20)('AXON_RELAXED_SIMD=0 keeps the SIMD128 matmul on Node 20', () => {
    const r = train({ AXON_RELAXED_SIMD: '0' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/backend wasm \(SIMD, \d+ threads?\),/);
    const i = spawnSync(process.execPath, [cli, 'info'], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, AXON_RELAXED_SIMD: '0' } });
    expect(i.stdout).toMatch(/^ {2}[ *] wasm {5}available \(SIMD, \d+ threads?\)$/m);
  });
});
