/** Helpers of the tests: the fixtures written by test/fixtures/gen_torch_onnx.py, and the WebGPU describe block. */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Tensor, backends, getBackend, setBackend, tensor } from '@axon/core';

export const FIXTURES = new URL('./fixtures/', import.meta.url);

export interface FixtureTensor {
  name?: string;
  shape: number[];
  dtype: 'float32' | 'int64';
  data: number[];
}
export interface Fixture {
  model: string;
  inputs: FixtureTensor[];
  output: FixtureTensor;
  state: string[];
}

export function fixtureBytes(name: string): Uint8Array {
  return new Uint8Array(readFileSync(new URL(`${name}.onnx`, FIXTURES)));
}
export function fixture(name: string): Fixture {
  return JSON.parse(readFileSync(new URL(`${name}.json`, FIXTURES), 'utf8')) as Fixture;
}
/** A fixture tensor in Axon: float32, or int32 for PyTorch's int64 tokens. */
export function axonTensor(t: FixtureTensor): Tensor {
  return tensor(t.dtype === 'int64' ? Int32Array.from(t.data) : Float32Array.from(t.data), t.shape, t.dtype === 'int64' ? 'int32' : 'float32');
}
/** |got − want| ≤ atol + rtol·|want| elementwise. */
export function expectAllClose(got: ArrayLike<number>, want: ArrayLike<number>, rtol = 1e-4, atol = 1e-5, what = ''): void {
  expect(got.length, `${what} length`).toBe(want.length);
  for (let i = 0; i < got.length; i++) {
    const err = Math.abs(got[i]! - want[i]!);
    const tol = atol + rtol * Math.abs(want[i]!);
    if (!(err <= tol)) expect.fail(`${what}[${i}]: got ${got[i]}, want ${want[i]} (|err| ${err} > ${tol})`);
  }
}

/**
 * A describe block on the WebGPU backend (lavapipe in CI): registers @axon/backend-webgpu, starts
 * with a test that FAILS naming the reason when no adapter can be obtained, and returns to WASM
 * afterwards; AXON_SKIP_WEBGPU=1 skips it on a machine without Vulkan.
 */
export function describeOnWebGPU(title: string, body: () => void): void {
  describe.skipIf(process.env['AXON_SKIP_WEBGPU'] === '1')(title, () => {
    beforeAll(async () => {
      await import('@axon/backend-wasm');
      await import('@axon/backend-webgpu');
    });
    afterAll(async () => {
      await setBackend('wasm');
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
