/**
 * The GPT page's compiled training step (src/gpt/step.ts) trains to exactly the values of the same
 * step run uncompiled (`setFlags({ compile: false })`), with the worker's optimizer (AdamW, two
 * parameter groups, warm-up + cosine, clipping): on WASM, and on WebGPU through Dawn on a software
 * Vulkan driver (lavapipe or SwiftShader, tooling/config/vulkan.js). The vocabulary has more than 64
 * characters, so crossEntropy's gradient is one of WebGPU's atomic scatterAdds (more than 64
 * indices into B·T·V elements > 2^24): before core's compile recorded only core's own calls, the
 * scatterAdd's inner fill was replayed after it, zeroing the one-hot term (loss 4.47 → 3.98 in 10
 * steps, not 3.47, in the browser). Each position gets one update, so even atomic adds are exact.
 */
import { type Tensor, getBackend, memory, setBackend, setFlags, setSeed, tensor, tidy } from '@axon/core';
import '@axon/backend-wasm';
import '@axon/backend-webgpu';
import { CharTokenizer, type TokenBatch, tokenWindows } from '@axon/datasets';
import { AdamW, LambdaLR, clipGradNorm } from '@axon/optimizers';
import { afterAll, describe, expect, it } from 'vitest';
import { buildGpt } from '../src/gpt/model.js';
import { gptStep } from '../src/gpt/step.js';
import { GPT_SIZES, lrFactor } from '../src/gpt/text.js';

// Dawn reads VK_ICD_FILENAMES when it loads (on the first setBackend('webgpu')): choose a driver
// first, as the WebGPU packages' vitest configs do (not in this app's config: its e2e tests'
// Chromium inherits the environment and must keep its own SwiftShader). The helper is untyped JS.
const vulkan = '@axon/config/vulkan';
const { ensureVulkanIcd } = (await import(vulkan)) as { ensureVulkanIcd: () => string | undefined };
ensureVulkanIcd();

/** A seeded text over 90 distinct characters (letters, digits, punctuation), about 8,000 long. */
function text(): string {
  const chars = Array.from({ length: 90 }, (_, i) => String.fromCharCode(33 + i));
  let s = 12345;
  const next = (): number => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
  let out = chars.join('');
  while (out.length < 8000) out += Array.from({ length: 2 + Math.floor(next() * 6) }, () => chars[Math.floor(next() * next() * chars.length)]!).join('') + ' ';
  return out;
}

const STEPS = 4;

/** `STEPS` steps of the worker's training loop; the losses and the parameters after. */
async function train(compiled: boolean): Promise<{ losses: number[]; params: Float32Array[]; reason: string | null; traces: number }> {
  const prev = setFlags({ compile: compiled });
  try {
    const tok = CharTokenizer.fromText(text());
    const ids = tok.encode(text());
    const { width, heads, layers, contextLength: T, batchSize } = GPT_SIZES.tiny;
    setSeed(0);
    const model = buildGpt({ vocabSize: tok.vocabSize, contextLength: T, width, heads, layers });
    const params = model.parameters();
    const opt = new AdamW([{ params: params.filter((t) => t.rank >= 2), weightDecay: 0.1 }, { params: params.filter((t) => t.rank < 2), weightDecay: 0 }], { lr: 0.003, betas: [0.9, 0.95] });
    const sched = new LambdaLR(opt, (t) => lrFactor(t, STEPS));
    const step = gptStep(model, tok.vocabSize);
    const it = tokenWindows(Int32Array.from(ids), { contextLength: T, batchSize, seed: 0, batchesPerEpoch: STEPS }).iterate(0)[Symbol.asyncIterator]();
    const losses: number[] = [];
    model.train();
    for (let k = 0; k < STEPS; k++) {
      const b = (await it.next()).value as TokenBatch;
      const [loss, ...grads] = tidy(() => step(tensor(b.x.data as Int32Array, b.x.shape, 'int32'), tensor(b.y.data as Int32Array, b.y.shape, 'int32'), ...params)) as [Tensor, ...Tensor[]];
      params.forEach((q, j) => (q.grad = grads[j]!));
      clipGradNorm(params, 1).dispose();
      opt.step();
      opt.zeroGrad();
      sched.step();
      losses.push(((await loss.data()) as Float32Array)[0]!);
      loss.dispose();
    }
    const out = await Promise.all(params.map(async (p) => (await p.data()) as Float32Array));
    opt.dispose();
    model.dispose();
    return { losses, params: out, reason: step.reason, traces: step.traces };
  } finally {
    setFlags(prev);
  }
}

describe.each(['wasm', 'webgpu'])('the GPT page’s compiled step on %s', (backend) => {
  afterAll(() => setFlags({ compile: true }));

  it('trains to exactly the uncompiled step’s losses and parameters', async () => {
    await setBackend(backend); // fails (never skips) when WebGPU has no adapter here
    expect(getBackend().name).toBe(backend);
    const before = memory().numTensors;
    const plain = await train(false);
    const comp = await train(true);
    expect(comp.reason).toBeNull(); // it compiled: one trace, replayed on steps 2..
    expect(comp.traces).toBe(1);
    expect(plain.traces).toBe(0);
    expect(plain.losses[0]!).toBeGreaterThan(Math.log(90) - 0.5);
    expect(comp.losses).toEqual(plain.losses);
    comp.params.forEach((p, i) => expect(p, `parameter ${i}`).toEqual(plain.params[i]));
    expect(memory().numTensors).toBe(before);
  });
});
