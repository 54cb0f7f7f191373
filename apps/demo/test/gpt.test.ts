import { setBackend, setSeed, tensor } from '@axon/core';
import '@axon/backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildGpt } from '../src/gpt/model.js';
import type { GptTrainParams } from '../src/gpt/protocol.js';
import { GPT_SIZES, checkTrainParams, lrFactor, samplePrompt, warmupSteps } from '../src/gpt/text.js';

beforeAll(async () => {
  await setBackend('wasm');
});

const params: GptTrainParams = { ...GPT_SIZES.tiny, steps: 600, learningRate: 0.003, sampleEvery: 50, sampleLength: 120, seed: 0 };

describe('GPT page helpers', () => {
  it('warms the learning rate up linearly, then decays it by a cosine to a tenth', () => {
    expect(warmupSteps(600)).toBe(30);
    expect(warmupSteps(10)).toBe(1);
    expect(warmupSteps(100_000)).toBe(100);
    expect(lrFactor(0, 600)).toBeCloseTo(1 / 30, 12);
    expect(lrFactor(29, 600)).toBe(1);
    expect(lrFactor(30, 600)).toBe(1);
    expect(lrFactor(315, 600)).toBeCloseTo(0.55, 12); // half-way through the decay
    expect(lrFactor(600, 600)).toBeCloseTo(0.1, 12);
    expect(lrFactor(5000, 600)).toBeCloseTo(0.1, 12);
  });

  it('takes the sample prompt from the first capital letter, cut after a word', () => {
    expect(samplePrompt('ation of the law.\n\nThe Congress of the United States has')).toBe('The Congress of the ');
    expect(samplePrompt('no capitals here at all, none')).toBe('no capitals here at all, ');
    expect(samplePrompt('Short')).toBe('Short');
    expect(samplePrompt('Abcdefghijklmnopqrstuvwxyzabcdef', 8)).toBe('Abcdefgh');
  });

  it('checks the training settings, naming the one out of range', () => {
    expect(() => checkTrainParams(params)).not.toThrow();
    for (const size of Object.values(GPT_SIZES)) expect(() => checkTrainParams({ ...params, ...size })).not.toThrow();
    expect(() => checkTrainParams({ ...params, heads: 5 })).toThrow('width 48 must be a multiple of heads 5');
    expect(() => checkTrainParams({ ...params, steps: 0 })).toThrow('steps must be an integer in [1, 100000], got 0');
    expect(() => checkTrainParams({ ...params, contextLength: 1.5 })).toThrow('contextLength');
    expect(() => checkTrainParams({ ...params, learningRate: 0 })).toThrow('learningRate');
  });
});

describe('the GPT (@axon/layers’ gpt, as the page builds it)', () => {
  it('has the PyTorch GPT’s parameter names and shapes (what moving it between backends copies)', () => {
    setSeed(0);
    const m = buildGpt({ vocabSize: 11, contextLength: 8, width: 16, heads: 4, layers: 2 });
    const shapes = Object.fromEntries(m.namedParameters().map(([n, p]) => [n, p.shape]));
    expect(shapes['tok.weight']).toEqual([11, 16]);
    expect(shapes['pos.weight']).toEqual([8, 16]);
    expect(shapes['blocks.1.self_attn.in_proj_weight']).toEqual([48, 16]);
    expect(shapes['blocks.1.self_attn.out_proj.weight']).toEqual([16, 16]);
    expect(shapes['blocks.0.linear1.weight']).toEqual([64, 16]);
    expect(shapes['blocks.0.norm2.bias']).toEqual([16]);
    expect(shapes['head.weight']).toEqual([11, 16]);
    expect(shapes['head.bias']).toBeUndefined();
    m.dispose();
  });

  it('is causal: the logits at a position do not depend on later tokens', async () => {
    setSeed(1);
    const m = buildGpt({ vocabSize: 11, contextLength: 8, width: 16, heads: 4, layers: 2 });
    const a = m.forward(tensor([1, 2, 3, 4, 5, 6], [1, 6], 'int32'));
    const b = m.forward(tensor([1, 2, 3, 9, 9, 9], [1, 6], 'int32'));
    expect(a.shape).toEqual([1, 6, 11]);
    const [da, db] = [(await a.data()) as Float32Array, (await b.data()) as Float32Array];
    expect(Array.from(db.subarray(0, 33))).toEqual(Array.from(da.subarray(0, 33)));
    expect(Array.from(db.subarray(33))).not.toEqual(Array.from(da.subarray(33)));
    a.dispose();
    b.dispose();
    m.dispose();
  });

  it('generates the same tokens for the same seed, greedy at temperature 0, past the context length, with no tensor left', async () => {
    const { memory } = await import('@axon/core');
    setSeed(2);
    const m = buildGpt({ vocabSize: 11, contextLength: 8, width: 16, heads: 4, layers: 1 });
    const before = memory().numTensors;
    const a = await m.generate([1, 2, 3], { maxTokens: 12, temperature: 1, seed: 4 });
    expect(a).toHaveLength(12);
    expect(a.every((t) => Number.isInteger(t) && t >= 0 && t < 11)).toBe(true);
    expect(await m.generate([1, 2, 3], { maxTokens: 12, temperature: 1, seed: 4 })).toEqual(a);
    expect(await m.generate([1, 2, 3], { maxTokens: 12, temperature: 1, seed: 5 })).not.toEqual(a);
    const greedy = await m.generate(Int32Array.from([1, 2, 3]), { maxTokens: 12, temperature: 0, seed: 1 });
    expect(await m.generate([1, 2, 3], { maxTokens: 12, temperature: 0, seed: 9 })).toEqual(greedy);
    m.train();
    await m.generate([1], { maxTokens: 2, topK: 3, seed: 1 });
    expect(m.training).toBe(true); // back to the mode it was in
    // the page samples every few steps: nothing may be left behind (the first version of layers' generate left 1 + 2 × layers tensors per token)
    expect(memory().numTensors).toBe(before);
    m.dispose();
  });
});
