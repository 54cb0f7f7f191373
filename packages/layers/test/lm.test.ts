/**
 * The zoo's language models: generation with the KV cache (GPT) or the carried state (LSTM) gives
 * the tokens of recomputing the whole (windowed) prefix each step; greedy and seeded sampling are
 * reproducible; generate leaves memory() as it was; save/load round trips; bad input.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { memory, noGrad, tensor, tidy } from '@axon/core';
import { type LanguageModel, decodeWeights, encodeWeights, gpt, lstmLm, modelFromJson, modelToJson } from '../src/index.js';
import { sampleToken } from '../src/lm.js';
import { useTestBackend } from './helpers.js';
import { allClose } from './gpt-check.js';

beforeAll(async () => {
  await useTestBackend();
});

/** mulberry32, as lm.ts seeds its sampling. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Generation by re-running the last `window` tokens through forward at every step (no cache, no state). */
function recompute(m: LanguageModel, prompt: number[], n: number, temperature: number, topK: number | undefined, seed: number): number[] {
  const rng = mulberry32(seed);
  const ids = [...prompt];
  const out: number[] = [];
  m.eval();
  for (let i = 0; i < n; i++) {
    const ctx = m.contextLength === null ? ids : ids.slice(-m.contextLength);
    const row = tidy(() => noGrad(() => m.forward(tensor(Int32Array.from(ctx), [1, ctx.length], 'int32')).slice([0, ctx.length - 1, 0], [1, 1, m.vocabSize]).dataSync()));
    const next = sampleToken(row, temperature, topK, rng());
    ids.push(next);
    out.push(next);
  }
  m.train();
  return out;
}

const models: [string, () => LanguageModel][] = [
  ['gpt', () => gpt({ vocabSize: 13, contextLength: 8, width: 16, heads: 4, layers: 2 })],
  ['lstmLm', () => lstmLm({ vocabSize: 13, width: 12, layers: 2 })],
];

describe.each(models)('%s generate', (_name, make) => {
  it('greedy and seeded sampling give the tokens of recomputing the prefix each step (past the context length too), leaving memory as it was', async () => {
    const m = make();
    const prompt = [3, 1, 4, 1, 5];
    const before = memory();
    for (const [temperature, topK, seed] of [[0, undefined, 0], [1, undefined, 11], [0.7, 4, 5]] as const) {
      const got = await m.generate(prompt, { maxTokens: 12, temperature, ...(topK !== undefined ? { topK } : {}), seed });
      expect(got).toEqual(recompute(m, prompt, 12, temperature, topK, seed));
      expect(memory().numTensors).toBe(before.numTensors);
      expect(memory().numBytes).toBe(before.numBytes);
    }
    expect(m.training).toBe(true); // restored
    const a = await m.generate(prompt, { maxTokens: 10, seed: 42 });
    expect(await m.generate(prompt, { maxTokens: 10, seed: 42 })).toEqual(a);
    expect(await m.generate(Int32Array.from(prompt), { maxTokens: 10, seed: 42 })).toEqual(a);
    expect(await m.generate(prompt, { maxTokens: 0 })).toEqual([]);
    m.dispose();
  });

  it('onToken sees exactly the returned ids, in order, each before the next is computed', async () => {
    const m = make();
    const prompt = [3, 1, 4, 1, 5];
    const head = (m as unknown as { head: { forward: (x: unknown) => unknown } }).head;
    const forward = head.forward.bind(head);
    let heads = 0;
    head.forward = (x) => {
      heads++;
      return forward(x);
    };
    const seen: [number, number, number][] = [];
    const before = memory();
    const ids = await m.generate(prompt, { maxTokens: 12, seed: 3, onToken: (id, index) => void seen.push([id, index, heads]) });
    expect(memory().numTensors).toBe(before.numTensors);
    expect(memory().numBytes).toBe(before.numBytes);
    // one head (one forward) per token: token i is reported after i + 1 forwards, not after all of them
    expect(seen).toEqual(ids.map((id, i) => [id, i, i + 1]));
    expect(ids).toEqual(await m.generate(prompt, { maxTokens: 12, seed: 3 }));
    // an async onToken is awaited before the next token
    const order: string[] = [];
    await m.generate(prompt, {
      maxTokens: 3,
      seed: 3,
      onToken: async (_id, i) => {
        order.push(`start ${i}`);
        await new Promise((r) => setTimeout(r, 5));
        order.push(`end ${i}`);
      },
    });
    expect(order).toEqual(['start 0', 'end 0', 'start 1', 'end 1', 'start 2', 'end 2']);
    m.dispose();
  });

  it('a throwing (or rejecting) onToken stops generation, frees everything and propagates its error', async () => {
    const m = make();
    const prompt = [3, 1, 4, 1, 5];
    const before = memory();
    for (const at of [0, 2, 5]) {
      // at 5 the GPT's window (contextLength 8) has slid and its cache was rebuilt
      const boom = new Error(`stop at ${at}`);
      const seen: number[] = [];
      await expect(m.generate(prompt, { maxTokens: 12, seed: 1, onToken: (id, i) => {
        seen.push(id);
        if (i === at) throw boom;
      } })).rejects.toBe(boom);
      expect(seen.length).toBe(at + 1);
      await expect(m.generate(prompt, { maxTokens: 12, seed: 1, onToken: async (_id, i) => {
        if (i === at) throw boom;
      } })).rejects.toBe(boom);
      expect(memory().numTensors).toBe(before.numTensors);
      expect(memory().numBytes).toBe(before.numBytes);
      expect(m.training).toBe(true);
    }
    m.dispose();
  });

  it('an aborted signal stops early with the tokens so far, freeing everything', async () => {
    const m = make();
    const prompt = [3, 1, 4, 1, 5];
    const all = await m.generate(prompt, { maxTokens: 12, seed: 8 });
    const before = memory();
    const stop = new AbortController();
    const seen: number[] = [];
    const got = await m.generate(prompt, { maxTokens: 12, seed: 8, signal: stop.signal, onToken: (id, i) => {
      seen.push(id);
      if (i === 6) stop.abort();
    } });
    expect(got).toEqual(all.slice(0, 7));
    expect(seen).toEqual(got);
    expect(await m.generate(prompt, { maxTokens: 12, signal: stop.signal })).toEqual([]);
    // aborted from outside while generating (a timer, as a Ctrl-C handler would): generation lets
    // the event loop run between tokens even when nothing it awaits does
    const later = new AbortController();
    let count = 0;
    const timer = setInterval(() => {
      if (count >= 3) later.abort();
    }, 1);
    const part = await m.generate(prompt, { maxTokens: 1000, seed: 8, signal: later.signal, onToken: () => void count++ });
    clearInterval(timer);
    expect(part.length).toBeGreaterThanOrEqual(3);
    expect(part.length).toBeLessThan(1000);
    expect(part).toEqual((await m.generate(prompt, { maxTokens: part.length, seed: 8 })));
    expect(memory().numTensors).toBe(before.numTensors);
    expect(memory().numBytes).toBe(before.numBytes);
    m.dispose();
  });

  it('refuses bad prompts and options before allocating', async () => {
    const m = make();
    const before = memory().numTensors;
    await expect(m.generate([], { maxTokens: 2 })).rejects.toThrow(/at least one token/);
    await expect(m.generate([1, 13], { maxTokens: 2 })).rejects.toThrow(/prompt\[1\] = 13 is not a token id in \[0, 13\)/);
    await expect(m.generate([1], { maxTokens: -1 })).rejects.toThrow(/maxTokens must be an integer/);
    await expect(m.generate([1], { maxTokens: 2, temperature: -1 })).rejects.toThrow(/temperature must be a finite number >= 0/);
    await expect(m.generate([1], { maxTokens: 2, topK: 0 })).rejects.toThrow(/topK must be an integer >= 1/);
    await expect(m.generate([1], { maxTokens: 2, tempreature: 1 } as never)).rejects.toThrow(/unknown option 'tempreature'/);
    await expect(m.generate([1], { maxTokens: 2, onToken: 3 } as never)).rejects.toThrow(/onToken must be a function/);
    await expect(m.generate([1], { maxTokens: 2, signal: { aborted: true } } as never)).rejects.toThrow(/signal must be an AbortSignal/);
    const floats = tensor([[1, 2]], [1, 2]);
    expect(() => m.forward(floats)).toThrow(/expects int32 ids \[batch, time\]/);
    floats.dispose();
    expect(memory().numTensors).toBe(before);
    m.dispose();
  });

  it('rebuilds from its config and loads its weights with the same logits', async () => {
    const m = make();
    const again = modelFromJson(JSON.parse(JSON.stringify(modelToJson(m)))) as unknown as LanguageModel;
    expect(again.className).toBe(m.className);
    decodeWeights(again, await encodeWeights(m));
    tidy(() => {
      const ids = tensor([[1, 2, 3, 4]], [1, 4], 'int32');
      allClose(again.forward(ids).dataSync(), m.forward(ids).dataSync(), 0, 0, 'logits');
    });
    m.dispose();
    again.dispose();
  });
});

describe('gpt', () => {
  it('refuses sequences longer than contextLength and bad configs', () => {
    const m = gpt({ vocabSize: 5, contextLength: 4, width: 8, heads: 2, layers: 1 });
    expect(() => m.forward(tensor([[1, 2, 3, 4, 0]], [1, 5], 'int32'))).toThrow(/at most contextLength = 4 positions/);
    m.dispose();
    expect(() => gpt({ vocabSize: 5, contextLength: 4, width: 10, heads: 4, layers: 1 })).toThrow(/width must be a multiple of heads, got width 10 and heads 4/);
    expect(() => gpt({ vocabSize: 5, contextLength: 4, width: 8, heads: 2 } as never)).toThrow(/layers must be an integer/);
  });

  it('is causal: logits at t do not depend on later tokens', () => {
    const m = gpt({ vocabSize: 7, contextLength: 6, width: 8, heads: 2, layers: 2 });
    tidy(() => {
      const a = m.forward(tensor([[1, 2, 3, 4]], [1, 4], 'int32')).slice([0, 0, 0], [1, 2, 7]).dataSync();
      const b = m.forward(tensor([[1, 2, 6, 0]], [1, 4], 'int32')).slice([0, 0, 0], [1, 2, 7]).dataSync();
      allClose(a, b, 1e-6, 1e-6, 'first two positions');
    });
    m.dispose();
  });
});

describe('save and loadLanguageModel', () => {
  it.each(models)('%s: saved and loaded, it generates the same tokens; a non-LM save is refused, leaking nothing', async (_name, make) => {
    const { mkdtemp } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { save, loadLanguageModel, sequential, Dense } = await import('../src/index.js');
    const dir = await mkdtemp(join(tmpdir(), 'axon-lm-'));
    const m = make();
    await save(m, join(dir, 'lm'));
    const before = memory().numTensors;
    const again = await loadLanguageModel(join(dir, 'lm'));
    expect(again.className).toBe(m.className);
    expect(await again.generate([1, 2, 3], { maxTokens: 6, seed: 9 })).toEqual(await m.generate([1, 2, 3], { maxTokens: 6, seed: 9 }));
    again.dispose();
    expect(memory().numTensors).toBe(before);
    const reg = sequential([new Dense(1, { inputShape: [1] })]);
    await save(reg, join(dir, 'reg'));
    reg.dispose();
    await expect(loadLanguageModel(join(dir, 'reg'))).rejects.toThrow(/holds a Sequential, not a language model/);
    expect(memory().numTensors).toBe(before);
    m.dispose();
  });
});
