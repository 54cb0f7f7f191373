/** Test helpers: the WASM backend and comparisons. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends, getBackend, setBackend } from '@axon/core';
import '@axon/autograd';

let ready: Promise<string> | null = null;

const NOT_BUILT =
  "@axon/layers' tests run on the WASM backend (@axon/backend-wasm), which could not be loaded. " +
  'Build it first with `pnpm --filter @axon/backend-wasm build` (or run the tests through turbo, ' +
  '`pnpm turbo run test --filter=@axon/layers`, which builds dependencies first).';

/**
 * Loads and selects the WASM backend, which every test of this package runs on. There is no
 * fallback: when the backend is not built the tests fail with a message saying how to build it.
 */
export function useTestBackend(): Promise<string> {
  ready ??= (async () => {
    try {
      await import('@axon/backend-wasm');
    } catch (e) {
      throw new Error(`${NOT_BUILT}\nCause: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
    await setBackend('wasm');
    const name = getBackend().name;
    if (name !== 'wasm') throw new Error(`expected the 'wasm' backend to be active, got '${name}'`);
    return name;
  })();
  return ready;
}

/** Asserts |got − want| ≤ tol·max(1, |want|) elementwise. */
export function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol = 1e-5, what = ''): void {
  expect(got.length, `${what} length`).toBe(want.length);
  for (let i = 0; i < got.length; i++) {
    const t = tol * Math.max(1, Math.abs(want[i]!));
    const err = Math.abs(got[i]! - want[i]!);
    if (!(err <= t)) expect.fail(`${what}[${i}]: got ${got[i]}, want ${want[i]} (|err| ${err} > ${t})`);
  }
}

/**
 * A describe block on the WebGPU backend (lavapipe in CI: VK_ICD_FILENAMES=/usr/share/vulkan/icd.d/lvp_icd.json):
 * registers @axon/backend-webgpu, returns to the test backend afterwards, and starts with a test that
 * FAILS naming the reason when no adapter can be obtained (as backend-webgpu's conformance suite does);
 * AXON_SKIP_WEBGPU=1 skips the block on a machine without Vulkan. Tests inside call
 * `setBackend('webgpu')` themselves.
 */
export function describeOnWebGPU(title: string, body: () => void): void {
  describe.skipIf(process.env['AXON_SKIP_WEBGPU'] === '1')(title, () => {
    let previous = '';
    beforeAll(async () => {
      previous = await useTestBackend(); // back to WASM afterwards
      await import('@axon/backend-webgpu'); // registers the 'webgpu' backend (a devDependency of @axon/layers)
    });
    afterAll(async () => {
      if (previous) await setBackend(previous);
    });
    it('the WebGPU backend starts', async () => {
      try {
        await setBackend('webgpu');
      } catch (e) {
        throw new Error(`WebGPU could not start: ${e instanceof Error ? e.message : String(e)}; backends(): ${JSON.stringify(backends())}`, { cause: e });
      }
      expect(getBackend().name).toBe('webgpu');
    });
    body();
  });
}
