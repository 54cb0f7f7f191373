/**
 * The attention fixtures (attn-fixtures.ts) and the GPT training-equivalence check (gpt-check.ts)
 * on the WebGPU backend (lavapipe in CI: VK_ICD_FILENAMES=/usr/share/vulkan/icd.d/lvp_icd.json).
 * When no adapter can be obtained the first test FAILS naming the reason; set AXON_SKIP_WEBGPU=1
 * to skip on a machine without Vulkan.
 */
import { expect, it } from 'vitest';
import { setBackend, tensor } from '@axon/core';
import { gpt } from '../src/index.js';
import { describeOnWebGPU } from './helpers.js';
import { ATTN_CASES, checkAttnCase } from './attn-fixtures.js';
import { checkGptAgainstTorch } from './gpt-check.js';

describeOnWebGPU('attention layers and the GPT against PyTorch 1.13 on WebGPU', () => {

  for (const c of ATTN_CASES) {
    it(`${c.kind}: ${c.name}`, async () => {
      await setBackend('webgpu');
      await checkAttnCase(c);
    });
  }

  it('gpt: first logits, first gradients and 50 training steps agree', async () => {
    await setBackend('webgpu');
    await checkGptAgainstTorch();
  }, 600_000);

  it('gpt: the same seed gives the same tokens as on WASM', async () => {
    const config = { vocabSize: 11, contextLength: 6, width: 8, heads: 2, layers: 1 };
    await setBackend('wasm');
    const a = gpt(config);
    const weights = a.stateDict();
    const host: [string, Float32Array, number[]][] = [];
    for (const [n, t] of Object.entries(weights)) host.push([n, (await t.data()) as Float32Array, [...t.shape]]);
    const onWasm = await a.generate([1, 2, 3], { maxTokens: 8, seed: 3 });
    const greedyWasm = await a.generate([1, 2, 3], { maxTokens: 8, temperature: 0 });
    a.dispose();
    await setBackend('webgpu');
    const b = gpt(config);
    const sd = Object.fromEntries(host.map(([n, d, s]) => [n, tensor(d, s)]));
    b.loadStateDict(sd);
    for (const t of Object.values(sd)) t.dispose();
    expect(await b.generate([1, 2, 3], { maxTokens: 8, seed: 3 })).toEqual(onWasm);
    expect(await b.generate([1, 2, 3], { maxTokens: 8, temperature: 0 })).toEqual(greedyWasm);
    b.dispose();
  }, 120_000);
});
