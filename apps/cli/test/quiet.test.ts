// `axon` prints no WebGPU driver (Dawn) warnings when WebGPU is not the backend in use (issue 10,
// point 4): Dawn is loaded into the CLI's process only when WebGPU is chosen. `--backend auto` (the
// default) and `axon info` start the backends in a child process, whose stderr stays there.
//
// The built CLI runs in child processes with a preload that, at exit, reports whether Dawn's
// native module (dawn.node) is mapped into the process (Linux: /proc/self/maps). The vitest config
// picks a software Vulkan driver (lavapipe here), on which Dawn prints two `maxDynamic…
// artificially reduced` warnings whenever it looks for adapters: exactly what users saw on every
// command. `--backend webgpu` is the control: there Dawn is loaded, so the detection works.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const cli = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'axon-cli-quiet-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const preload = join(dir, 'report-dawn.mjs');
writeFileSync(
  preload,
  `import { readFileSync } from 'node:fs';
process.on('exit', () => {
  if (process.platform !== 'linux') return;
  if (readFileSync('/proc/self/maps', 'utf8').includes('dawn.node')) process.stderr.write('[test] dawn.node is loaded\\n');
});
`,
);

const LOADED = '[test] dawn.node is loaded';
const DAWN_TEXT = /maxDynamic|artificially reduced|^Warning:/m;

function axon(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', pathToFileURL(preload).href, cli, ...args], { encoding: 'utf8', timeout: 120_000, cwd: dir });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('axon prints no Dawn warnings when WebGPU is not in use', () => {
  it('control: with --backend webgpu Dawn is loaded in the process (the detection works)', () => {
    const r = axon('predict', 'no-model', '--image', join(dir, 'missing.png'), '--backend', 'webgpu');
    expect(r.status).not.toBe(0); // the image does not exist; the backend started first
    if (process.platform === 'linux') expect(r.stderr).toContain(LOADED);
  });

  it('axon --help and axon --version', () => {
    for (const args of [['--help'], ['--version'], ['train', '--help']]) {
      const r = axon(...args);
      expect(r.status, args.join(' ')).toBe(0);
      expect(r.stderr, args.join(' ')).toBe('');
    }
  });

  it('axon example s1 on the default backend: the best available is found without loading Dawn here', () => {
    const r = axon('example', 's1');
    expect(r.status, r.stderr).toBe(0);
    const on = /axon example s1 on (\w+)/.exec(r.stdout)?.[1];
    expect(on).toBeDefined();
    if (on !== 'webgpu') {
      // a machine whose only WebGPU adapter is software-emulated (as here), or none at all
      expect(r.stderr).not.toMatch(DAWN_TEXT);
      expect(r.stderr).not.toContain(LOADED);
      expect(r.stderr).toBe('');
    }
  });

  it('axon train --backend wasm, and a failing command on the default backend', () => {
    const t = axon('train', '--backend', 'wasm', '--epochs', '1', '--limit', '200', '--batch-size', '100', '--no-progress');
    expect(t.status, t.stderr).toBe(0);
    expect(t.stdout).toMatch(/backend wasm/);
    expect(t.stderr).toBe('');
    const p = axon('predict', 'no-model', '--image', join(dir, 'missing.png'));
    expect(p.status).not.toBe(0);
    expect(p.stderr).not.toMatch(DAWN_TEXT);
    expect(p.stderr).not.toContain(LOADED);
    expect(p.stderr).toMatch(/missing\.png/);
  });

  it('axon info lists WebGPU without Dawn in its process, and sums up what the driver printed in one line', () => {
    const r = axon('info');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^ {2}[ *] webgpu {3}(available.*|unavailable: .+)$/m);
    expect(r.stdout).toMatch(/^ {2}[ *] wasm {5}available \(SIMD(, relaxed SIMD)?, \d+ threads?\)$/m);
    // Dawn's lines never reach the terminal as they are; at most one line says that there were some.
    expect(r.stdout).not.toMatch(/^Warning:/m);
    expect(r.stdout.split('\n').filter((l) => /artificially reduced/.test(l)).length).toBeLessThanOrEqual(1);
    expect(r.stdout.split('\n').filter((l) => /artificially reduced/.test(l)).every((l) => l.startsWith('driver messages while starting the backends (not errors): '))).toBe(true);
  });
});
