/**
 * The PyTorch fixtures of conv-layers.test.ts (and the Keras front's mapped checks of
 * conv-keras.test.ts) on the WebGPU backend (lavapipe in CI:
 * VK_ICD_FILENAMES=/usr/share/vulkan/icd.d/lvp_icd.json). When no adapter can be obtained the first
 * test FAILS naming the reason, as recurrent-webgpu.test.ts does; set AXON_SKIP_WEBGPU=1 to skip on a
 * machine without Vulkan.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends, getBackend, setBackend } from '@axon/core';
import { useTestBackend } from './helpers.js';
import { CONV_FIXTURES, KERAS_MAPPED, checkConvCase } from './conv-fixtures.js';

const skip = process.env['AXON_SKIP_WEBGPU'] === '1';

describe.skipIf(skip)('conv layers against PyTorch 1.13 on WebGPU', () => {
  let previous = '';
  beforeAll(async () => {
    previous = await useTestBackend(); // back to WASM afterwards
    // registers the 'webgpu' backend with core (a devDependency of @axon/layers)
    await import('@axon/backend-webgpu');
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

  for (const c of CONV_FIXTURES.cases) {
    it(`${c.cls} ${c.name}: output and every gradient`, async () => {
      await setBackend('webgpu');
      await checkConvCase(c);
    });
  }
  for (const [name, run] of KERAS_MAPPED) {
    it(`Keras front: ${name}`, async () => {
      await setBackend('webgpu');
      await run();
    });
  }
});
