/**
 * MultiheadAttention, TransformerEncoderLayer and TransformerDecoderLayer against PyTorch 1.13
 * (fixtures/torch-attn.json), RMSNorm against a float64 reference, positional encodings, the KV
 * cache, save/load, and bad input (WASM; the fixtures run on WebGPU in attention-webgpu.test.ts).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { AxonError, concat, memory, noGrad, randn, tensor, tidy } from '@axon/core';
import { KVCache, KerasMultiHeadAttention, MultiheadAttention, PositionalEmbedding, deserializeModel, input, model, serializeModel, RMSNorm, rmsNorm, SinusoidalPositionalEncoding, TransformerEncoder, TransformerEncoderLayer, modelFromJson, modelToJson, sinusoidalPositionalEncoding } from '../src/index.js';
import { useTestBackend } from './helpers.js';
import { ATTN_CASES, checkAttnCase } from './attn-fixtures.js';
import { allClose } from './gpt-check.js';

beforeAll(async () => {
  await useTestBackend();
});

describe('attention layers against PyTorch 1.13', () => {
  for (const c of ATTN_CASES) {
    it(`${c.kind}: ${c.name}`, async () => {
      await checkAttnCase(c);
    });
  }
});

describe('KV cache', () => {
  it('MultiheadAttention: chunks through a cache equal one causal pass (bottom-right mask after cached keys), nothing leaks', () => {
    const mha = new MultiheadAttention(8, 2, { batchFirst: true });
    const x = randn([2, 7, 8]);
    const before = memory().numTensors;
    tidy(() =>
      noGrad(() => {
        const [full] = mha.forward(x, x, x, { isCausal: true, needWeights: false });
        for (const needWeights of [false, true]) {
          const cache = new KVCache();
          const parts = [[0, 1], [1, 3], [4, 1], [5, 2]].map(([s, n]) => {
            const xt = x.slice([0, s!, 0], [2, n!, 8]);
            return mha.forward(xt, xt, xt, { cache, isCausal: true, needWeights })[0];
          });
          expect(cache.length).toBe(7);
          allClose(concat(parts, 1).dataSync(), full.dataSync(), 1e-5, 1e-6, `cached (needWeights ${needWeights})`);
          cache.dispose();
          expect(cache.length).toBe(0);
        }
      }),
    );
    expect(memory().numTensors).toBe(before);
    x.dispose();
    mha.dispose();
  });

  it('masks with a cache cover the cached keys too; a cache of another batch is refused', () => {
    const mha = new MultiheadAttention(4, 1);
    const cache = new KVCache();
    tidy(() =>
      noGrad(() => {
        const a = randn([3, 2, 4]); // [L, B, E]
        mha.forward(a, a, a, { cache, needWeights: false });
        const b = randn([1, 2, 4]);
        const [, w] = mha.forward(b, b, b, { cache, keyPaddingMask: tensor([[false, true, false, false], [false, false, false, true]]) });
        expect(w!.shape).toEqual([2, 1, 4]);
        expect(w!.dataSync()[1]).toBe(0);
        expect(() => mha.forward(b, b, b, { cache, keyPaddingMask: tensor([[false, true], [false, false]]) })).toThrow(/keyPaddingMask must be bool or float32 \[2,5\]/);
        const c = randn([1, 3, 4]);
        expect(() => mha.forward(c, c, c, { cache })).toThrow(/the cache holds batch 2, the input has batch 3/);
      }),
    );
    cache.dispose();
    mha.dispose();
  });
});

describe('bad input', () => {
  it('MultiheadAttention names the problem', () => {
    expect(() => new MultiheadAttention(10, 3)).toThrow(AxonError);
    expect(() => new MultiheadAttention(10, 3)).toThrow(/embedDim must be divisible by numHeads, got embedDim 10 and numHeads 3/);
    expect(() => new MultiheadAttention(8, 2, { dropout: 1 })).toThrow(/dropout must be in \[0, 1\)/);
    const mha = new MultiheadAttention(8, 2);
    const x = randn([3, 2, 8]);
    expect(() => mha.forward(x, x, randn([3, 2, 5]))).toThrow(/value with 8/);
    expect(() => mha.forward(x, x, x, { attnMask: tensor([[true, false]]) })).toThrow(/attnMask must be bool or float32 \[3,3\] or \[4,3,3\]/);
    expect(() => mha.forward(x, x, x, { attnMask: randn([3, 3]).astype('int32') })).toThrow(/attnMask must be bool or float32/);
    expect(() => mha.forward(x, x, x, { keyPaddingMask: tensor([true, false, false]) })).toThrow(/keyPaddingMask must be bool or float32 \[2,3\]/);
    expect(() => mha.forward(x, x, x, { cache: {} as KVCache })).toThrow(/cache must be a KVCache/);
    expect(() => mha.forward(x, x, x, { isCausal: 1 as unknown as boolean })).toThrow(/isCausal must be true or false/);
    expect(() => mha.forward(x, x, x, { nope: 1 } as never)).toThrow(/unknown option 'nope'/);
    expect(() => mha.forward(x.astype('int32'), x, x)).toThrow(/query must be float32/);
    x.dispose();
    mha.dispose();
  });
});

describe('RMSNorm', () => {
  /** float64 reference: y = x / sqrt(mean(x², last n dims) + eps) · w */
  function ref(x: Float64Array, shape: number[], n: number, w: Float64Array | null, eps: number): Float64Array {
    const k = shape.slice(-n).reduce((a, b) => a * b, 1);
    const y = new Float64Array(x.length);
    for (let r = 0; r < x.length / k; r++) {
      let ms = 0;
      for (let i = 0; i < k; i++) ms += x[r * k + i]! ** 2;
      const inv = 1 / Math.sqrt(ms / k + eps);
      for (let i = 0; i < k; i++) y[r * k + i] = x[r * k + i]! * inv * (w ? w[i]! : 1);
    }
    return y;
  }

  for (const [shape, norm, eps, affine] of [
    [[3, 5], [5], undefined, true],
    [[2, 3, 4], [3, 4], 1e-3, true],
    [[4, 6], [6], 1e-6, false],
  ] as [number[], number[], number | undefined, boolean][]) {
    it(`values and gradients against float64, x ${JSON.stringify(shape)} over ${JSON.stringify(norm)}, eps ${eps ?? 'default'}${affine ? '' : ', no weight'}`, () => {
      const m = new RMSNorm(norm, { ...(eps !== undefined ? { eps } : {}), elementwiseAffine: affine });
      expect(m.eps).toBe(eps ?? 2 ** -23);
      const size = shape.reduce((a, b) => a * b, 1);
      const xs = Float32Array.from({ length: size }, (_, i) => Math.sin(i * 1.7) * (1 + (i % 3)) * (i === 4 ? 1e-4 : 1));
      const ws = Float32Array.from({ length: norm.reduce((a, b) => a * b, 1) }, (_, i) => 0.5 + 0.1 * i);
      const rs = Float32Array.from({ length: size }, (_, i) => Math.cos(i * 0.3));
      if (affine) tidy(() => void m.weight!.assign(tensor(ws, norm)));
      const x = tensor(xs, shape).requireGrad();
      tidy(() => {
        const y = m.forward(x);
        const w64 = affine ? Float64Array.from(ws) : null;
        const want = ref(Float64Array.from(xs), shape, norm.length, w64, m.eps);
        allClose(y.dataSync(), want, 1e-5, 1e-6, 'rmsnorm');
        y.mul(tensor(rs, shape)).sum().backward();
        // the float64 gradient by central differences of the reference
        const f = (xv: Float64Array, wv: Float64Array | null): number => ref(xv, shape, norm.length, wv, m.eps).reduce((s, v, i) => s + v * rs[i]!, 0);
        const gx = Float64Array.from(xs, (_, i) => {
          const h = 1e-6;
          const a = Float64Array.from(xs);
          const b = Float64Array.from(xs);
          a[i] += h;
          b[i] -= h;
          return (f(a, w64) - f(b, w64)) / (2 * h);
        });
        allClose(x.grad!.dataSync(), gx, 1e-4, 1e-5, 'rmsnorm dx');
        if (affine) {
          const gw = Float64Array.from(ws, (_, i) => {
            const h = 1e-6;
            const a = Float64Array.from(ws);
            const b = Float64Array.from(ws);
            a[i] += h;
            b[i] -= h;
            return (f(Float64Array.from(xs), a) - f(Float64Array.from(xs), b)) / (2 * h);
          });
          allClose(m.weight!.grad!.dataSync(), gw, 1e-4, 1e-5, 'rmsnorm dweight');
        }
      });
      x.grad?.dispose();
      x.dispose();
      m.dispose();
    });
  }

  for (const [shape, norm, eps, affine] of [
    [[3, 5], 5, undefined, true],
    [[2, 3, 4], [3, 4], 1e-3, true],
    [[4, 6], [6], 1e-6, false],
    [[2, 2, 3], [2, 3], null, false],
  ] as [number[], number | number[], number | null | undefined, boolean][]) {
    it(`functional rmsNorm: values and gradients (x and weight) against float64 by finite differences, x ${JSON.stringify(shape)} over ${JSON.stringify(norm)}, eps ${eps ?? 'default'}${affine ? '' : ', no weight'}`, () => {
      const nshape = typeof norm === 'number' ? [norm] : norm;
      const size = shape.reduce((a, b) => a * b, 1);
      const k = nshape.reduce((a, b) => a * b, 1);
      const epsV = eps ?? 2 ** -23;
      const xs = Float32Array.from({ length: size }, (_, i) => Math.sin(i * 1.3 + 0.2) * (1 + (i % 4)) * (i === 3 ? 1e-4 : 1));
      const ws = Float32Array.from({ length: k }, (_, i) => 1.5 - 0.2 * i);
      const rs = Float32Array.from({ length: size }, (_, i) => Math.cos(i * 0.7));
      const before = memory();
      const x = tensor(xs, shape).requireGrad();
      const w = affine ? tensor(ws, nshape).requireGrad() : null;
      tidy(() => {
        const y = eps === undefined ? rmsNorm(x, norm, w) : rmsNorm(x, norm, w, eps);
        expect(y.shape).toEqual(shape);
        const w64 = affine ? Float64Array.from(ws) : null;
        allClose(y.dataSync(), ref(Float64Array.from(xs), shape, nshape.length, w64, epsV), 1e-5, 1e-6, 'rmsNorm');
        y.mul(tensor(rs, shape)).sum().backward();
        const f = (xv: Float64Array, wv: Float64Array | null): number => ref(xv, shape, nshape.length, wv, epsV).reduce((s, v, i) => s + v * rs[i]!, 0);
        const diff = (base: Float32Array, at: (v: Float64Array) => number): Float64Array => Float64Array.from(base, (_, i) => {
          const h = 1e-6;
          const a = Float64Array.from(base);
          const b = Float64Array.from(base);
          a[i] += h;
          b[i] -= h;
          return (at(a) - at(b)) / (2 * h);
        });
        allClose(x.grad!.dataSync(), diff(xs, (v) => f(v, w64)), 1e-4, 1e-5, 'rmsNorm dx');
        if (w) allClose(w.grad!.dataSync(), diff(ws, (v) => f(Float64Array.from(xs), v)), 1e-4, 1e-5, 'rmsNorm dweight');
      });
      // the module computes the same values (it calls the function)
      const m = new RMSNorm(norm, { ...(eps !== undefined ? { eps } : {}), elementwiseAffine: affine });
      if (affine) tidy(() => void m.weight!.assign(tensor(ws, nshape)));
      tidy(() => allClose(noGrad(() => m.forward(x)).dataSync(), noGrad(() => rmsNorm(x, norm, w, eps)).dataSync(), 0, 0, 'RMSNorm = rmsNorm'));
      m.dispose();
      x.grad?.dispose();
      x.dispose();
      w?.grad?.dispose();
      w?.dispose();
      expect(memory().numTensors).toBe(before.numTensors);
      expect(memory().numBytes).toBe(before.numBytes);
    });
  }

  it('functional rmsNorm refuses bad input with an AxonError before computing, leaking nothing', () => {
    const x = randn([2, 4]);
    const xi = x.astype('int32');
    const w3 = randn([3]);
    const before = memory();
    expect(() => rmsNorm(x, 3)).toThrow(/rmsNorm: expects float32 \[\.\.\., 3\], got float32 \[2,4\]/);
    expect(() => rmsNorm(xi, 4)).toThrow(/rmsNorm: expects float32 \[\.\.\., 4\], got int32 \[2,4\]/);
    expect(() => rmsNorm(x, [])).toThrow(/rmsNorm: normalizedShape must be/);
    expect(() => rmsNorm(x, 4, w3)).toThrow(/rmsNorm: weight must be a float32 tensor of shape \[4\] \(normalizedShape\), got float32 \[3\]/);
    expect(() => rmsNorm(x, 4, [1, 1, 1, 1] as never)).toThrow(/rmsNorm: weight must be a Tensor/);
    expect(() => rmsNorm(x, 4, null, -1)).toThrow(/rmsNorm: eps must be a finite number >= 0/);
    expect(() => rmsNorm('x' as never, 4)).toThrow(/rmsNorm: x must be a Tensor/);
    expect(memory().numTensors).toBe(before.numTensors);
    expect(memory().numBytes).toBe(before.numBytes);
    for (const t of [x, xi, w3]) t.dispose();
  });

  it('refuses bad shapes and options', () => {
    expect(() => new RMSNorm([])).toThrow(/normalizedShape must be/);
    expect(() => new RMSNorm(4, { eps: -1 })).toThrow(/eps must be a finite number >= 0/);
    const m = new RMSNorm(4);
    expect(() => m.forward(randn([2, 3]))).toThrow(/expects float32 \[\.\.\., 4\], got float32 \[2,3\]/);
    m.dispose();
  });
});

describe('positional encodings', () => {
  it('sinusoidal values follow the formula, with an offset', () => {
    const pe = sinusoidalPositionalEncoding(5, 6, { offset: 2 }).dataSync();
    for (let p = 0; p < 5; p++) {
      for (let i = 0; i < 6; i++) {
        const a = (p + 2) / Math.pow(10000, (i - (i % 2)) / 6);
        expect(pe[p * 6 + i]).toBeCloseTo(i % 2 === 0 ? Math.sin(a) : Math.cos(a), 6);
      }
    }
    const layer = new SinusoidalPositionalEncoding(6);
    allClose(layer.forward(tensor(new Float32Array(3 * 6), [3, 6]), { offset: 2 }).dataSync(), Array.from(pe.slice(0, 18)), 0, 0, 'layer');
  });

  it('PositionalEmbedding adds rows offset …, and refuses positions past maxLen', () => {
    const pos = new PositionalEmbedding(6, 4);
    const y = pos.forward(tensor(new Float32Array(2 * 3 * 4), [2, 3, 4]), { offset: 2 });
    allClose(y.slice([1, 0, 0], [1, 3, 4]).dataSync(), pos.weight.slice([2, 0], [3, 4]).dataSync(), 0, 0, 'rows');
    expect(() => pos.forward(randn([1, 5, 4]), { offset: 2 })).toThrow(/holds at most 6 positions; got positions 2 … 6/);
    pos.dispose();
  });
});

describe('save and load', () => {
  it('TransformerEncoder round-trips through modelToJson/modelFromJson with the same outputs', () => {
    const enc = new TransformerEncoder(new TransformerEncoderLayer(8, 2, { dimFeedforward: 16, dropout: 0, normFirst: true, activation: 'gelu' }), 2);
    const names = Object.keys(enc.stateDict());
    expect(names.slice(0, 2)).toEqual(['layers.0.self_attn.in_proj_weight', 'layers.0.self_attn.in_proj_bias']);
    expect(names.filter((n) => n.startsWith('layers.1.')).length).toBe(names.length / 2);
    const again = modelFromJson(JSON.parse(JSON.stringify(modelToJson(enc)))) as TransformerEncoder;
    again.loadStateDict(enc.stateDict());
    tidy(() => {
      const x = randn([3, 2, 8]);
      allClose(again.forward(x, { isCausal: true }).dataSync(), enc.forward(x, { isCausal: true }).dataSync(), 0, 0, 'outputs');
    });
    enc.dispose();
    again.dispose();
  });
});

describe('Keras MultiHeadAttention', () => {
  /** A PyTorch-front MultiheadAttention's weights in the Keras layout (kernels [d, H, hd], output [H, hd, E]). */
  function mapped(t: MultiheadAttention, k: KerasMultiHeadAttention): void {
    const E = t.embedDim;
    const H = t.numHeads;
    const hd = E / H;
    tidy(() => {
      const w = t.in_proj_weight!;
      const b = t.in_proj_bias!;
      const part = (i: number) => w.slice([i * E, 0], [E, E]).T.reshape([E, H, hd]);
      k.queryKernel!.assign(part(0));
      k.keyKernel!.assign(part(1));
      k.valueKernel!.assign(part(2));
      k.queryBias!.assign(b.slice([0], [E]).reshape([H, hd]));
      k.keyBias!.assign(b.slice([E], [E]).reshape([H, hd]));
      k.valueBias!.assign(b.slice([2 * E], [E]).reshape([H, hd]));
      k.outputKernel!.assign(t.out_proj.weight.T.reshape([H, hd, E]));
      k.outputBias!.assign(t.out_proj.bias!.clone());
    });
  }

  it('equals the PyTorch-front module with mapped weights: masks (true = may attend), causal mask, scores; a row masked whole attends uniformly', () => {
    const t = new MultiheadAttention(8, 2, { batchFirst: true });
    tidy(() => void t.in_proj_bias!.assign(randn([24]).mul(0.1)));
    const k = new KerasMultiHeadAttention({ numHeads: 2, keyDim: 4 });
    k.build(8, 8);
    mapped(t, k);
    const before = memory().numTensors;
    tidy(() => {
      const q = randn([2, 3, 8]);
      const v = randn([2, 4, 8]);
      const allow = tensor([[[true, false, true, true], [true, true, false, false], [false, true, true, true]], [[true, true, true, true], [true, false, false, false], [true, true, false, true]]]);
      const [want, wantW] = t.forward(q, v, v, { attnMask: allow.logicalNot().reshape([2, 1, 3, 4]).expand([2, 2, 3, 4]).reshape([4, 3, 4]), averageAttnWeights: false });
      const [got, scores] = k.forwardWithScores(q, v, undefined, { attentionMask: allow });
      allClose(got.dataSync(), want.dataSync(), 1e-5, 1e-6, 'output');
      allClose(scores.dataSync(), wantW!.dataSync(), 1e-5, 1e-6, 'scores');
      allClose(k.forward(q, v, v, { attentionMask: allow.astype('float32') }).dataSync(), want.dataSync(), 1e-5, 1e-6, 'fused path, 0/1 mask');
      const x = randn([2, 3, 8]);
      const [wantC] = t.forward(x, x, x, { isCausal: true, needWeights: false });
      allClose(k.forward(x, x, undefined, { useCausalMask: true }).dataSync(), wantC.dataSync(), 1e-5, 1e-6, 'causal');
      const none = tensor(new Array(2 * 3 * 4).fill(false), [2, 3, 4], 'bool');
      const [, uniform] = k.forwardWithScores(q, v, undefined, { attentionMask: none });
      allClose(uniform.dataSync(), new Array(2 * 2 * 3 * 4).fill(0.25), 1e-6, 1e-7, 'masked whole');
    });
    expect(memory().numTensors).toBe(before);
    expect(() => k.forward(randn([2, 3, 8]), randn([2, 4, 8]), undefined, { attentionMask: tensor([true]) })).toThrow(/attentionMask must be \[2, 3, 4\]/);
    expect(() => k.forward(randn([2, 3, 5]), randn([2, 4, 8]))).toThrow(/already built for query, value, key features 8, 8, 8, got 5, 8, 8/);
    t.dispose();
    k.dispose();
  });

  it('builds in a functional model, trains with fit, and round-trips through save/load', async () => {
    const q = input({ shape: [3, 4] });
    const mha = new KerasMultiHeadAttention({ numHeads: 2, keyDim: 3, outputShape: 2 });
    const net = model({ inputs: q, outputs: mha.call(q, q) });
    expect(mha.outputKernel!.shape).toEqual([2, 3, 2]);
    net.compile({ optimizer: 'adam', loss: 'mse' });
    const h = await net.fit(randn([8, 3, 4]), randn([8, 3, 2]), { epochs: 2, verbose: 0 });
    expect(h.history['loss']!.length).toBe(2);
    const again = deserializeModel(...Object.values(await serializeModel(net)) as [never, Uint8Array]);
    tidy(() => {
      const x = randn([2, 3, 4]);
      allClose(again.predict(x).dataSync(), net.predict(x).dataSync(), 0, 0, 'reloaded');
    });
    net.dispose();
    again.dispose();
  });
});
