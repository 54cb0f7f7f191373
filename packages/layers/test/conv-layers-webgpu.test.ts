/**
 * The PyTorch fixtures of conv-layers.test.ts (and the Keras front's mapped checks of
 * conv-keras.test.ts) on the WebGPU backend (lavapipe in CI:
 * VK_ICD_FILENAMES=/usr/share/vulkan/icd.d/lvp_icd.json). When no adapter can be obtained the first
 * test FAILS naming the reason, as recurrent-webgpu.test.ts does; set AXON_SKIP_WEBGPU=1 to skip on a
 * machine without Vulkan.
 */
import { it } from 'vitest';
import { setBackend } from '@axon/core';
import { describeOnWebGPU } from './helpers.js';
import { CONV_FIXTURES, KERAS_MAPPED, checkConvCase } from './conv-fixtures.js';

describeOnWebGPU('conv layers against PyTorch 1.13 on WebGPU', () => {

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
