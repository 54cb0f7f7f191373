// Every @example in the published packages' TSDoc runs here (or is only type-checked when it says
// `// (not run: reason)`), and every `// value` comment in it is asserted.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as core from '@axon/core';
import '@axon/backend-wasm';
import { extractAll, extractReadmes, PACKAGES } from '../src/extract.js';
import { runExample, scopeOf, type Loader } from '../src/run.js';

const ROOT = resolve(fileURLToPath(import.meta.url), '../../../..');
const examples = [...extractAll(ROOT), ...extractReadmes(ROOT)];

const MODULES: Record<string, () => Promise<Record<string, unknown>>> = {
  '@axon/core': () => import('@axon/core'),
  '@axon/autograd': () => import('@axon/autograd'),
  '@axon/optimizers': () => import('@axon/optimizers'),
  '@axon/layers': () => import('@axon/layers'),
  '@axon/datasets': () => import('@axon/datasets'),
  '@axon/backend-wasm': () => import('@axon/backend-wasm'),
  '@axon/backend-webgpu': () => import('@axon/backend-webgpu'),
  '@axon/onnx': () => import('@axon/onnx'),
  '@axon/cli/image': () => import('@axon/cli/image'),
};
const load: Loader = async (spec) => {
  const m = MODULES[spec];
  if (m !== undefined) return m();
  if (spec.startsWith('node:')) return (await import(/* @vite-ignore */ spec)) as Record<string, unknown>;
  throw new Error(`doctest: an example imports ${spec}; examples may import the @axon packages and node: builtins`);
};

const cwd = process.cwd();
let dir = '';
beforeAll(async () => {
  // Examples that write files write them into a fresh folder.
  dir = mkdtempSync(join(tmpdir(), 'axon-doctest-'));
  process.chdir(dir);
  await core.setBackend('wasm');
});
afterAll(() => {
  process.chdir(cwd);
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  // Global switches an example may flip must not leak into the next one.
  core.setAnomalyDetection(false);
  core.setLeakTracking(false);
  core.setSeed(0);
  await core.setBackend('wasm');
});

let ran = 0;
let asserted = 0;
for (const pkg of PACKAGES) {
  const mine = examples.filter((e) => e.pkg === pkg.name);
  describe(pkg.name, () => {
    let scope: Record<string, unknown> = {};
    beforeAll(async () => {
      scope = await scopeOf(pkg, load);
    });
    // Examples marked `// (not run: reason)` are only type-checked (test/typecheck.test.ts).
    for (const ex of mine.filter((e) => e.notRun === undefined)) {
      it(ex.id, async () => {
        const r = await runExample(ex, scope, load);
        ran++;
        asserted += r.checks;
      });
    }
  });
}

describe('counts', () => {
  it('finds the examples and says how many ran', () => {
    const notRun = examples.filter((e) => e.notRun !== undefined).length;
    const tsdoc = examples.filter((e) => !e.file.endsWith('.md')).length;
    console.log(`doctest: ${tsdoc} @example blocks and ${examples.length - tsdoc} README blocks; ${ran} run (${asserted} values asserted), ${notRun} type-checked only`);
    expect(tsdoc).toBeGreaterThan(500);
    expect(ran + notRun).toBe(examples.length);
  });
});
