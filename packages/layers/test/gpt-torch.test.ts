/**
 * Training equivalence with PyTorch 1.13 (WASM): `gpt(config)` loads torch-gpt.safetensors, then its
 * first logits, first-step gradients and 50 AdamW steps' losses must match PyTorch's
 * (fixtures/gen_torch_gpt.py). The same check runs on WebGPU in attention-webgpu.test.ts.
 */
import { beforeAll, describe, it } from 'vitest';
import { useTestBackend } from './helpers.js';
import { checkGptAgainstTorch } from './gpt-check.js';

describe('gpt against PyTorch 1.13', () => {
  beforeAll(async () => {
    await useTestBackend();
  });
  it('first logits, first gradients and 50 training steps agree', async () => {
    await checkGptAgainstTorch();
  }, 120_000);
});
