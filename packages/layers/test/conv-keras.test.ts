/**
 * The Keras-front conv layers over channels-last input: KerasConv1D, Conv2DTranspose, MaxPooling1D,
 * AveragePooling1D/2D, UpSampling1D/2D. Where Keras and PyTorch agree (valid padding; TensorFlow's
 * 'same' equals PyTorch's padding='same' at stride 1; bilinear with half-pixel centres) they are
 * checked against the PyTorch 1.13 fixtures with mapped weights (values and gradients); where they
 * differ (a transposed convolution's 'same' placement) against TensorFlow's definition of
 * conv2d_transpose as the adjoint of conv2d with 'same' padding; plus values by hand, round trips and
 * bad arguments.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AxonError, type Tensor, conv2d, memory, ones, randn, tensor, tidy } from '@axon/core';
import {
  AveragePooling1D,
  AveragePooling2D,
  Conv2DTranspose,
  type Conv2DTransposeOptions,
  KerasConv1D,
  MaxPooling1D,
  UpSampling1D,
  UpSampling2D,
  loadModel,
  save,
  sequential,
} from '../src/index.js';
import { expectClose, useTestBackend } from './helpers.js';
import { KERAS_MAPPED } from './conv-fixtures.js';

let dir = '';
beforeAll(async () => {
  await useTestBackend();
  dir = await mkdtemp(join(tmpdir(), 'axon-conv-keras-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('Keras front against the PyTorch 1.13 fixtures (mapped weights)', () => {
  for (const [name, run] of KERAS_MAPPED) it(name, run);
});

describe("Conv2DTranspose is TensorFlow's conv2d_transpose: the adjoint of conv2d with the same window", () => {
  // <convT(x), y> = <x, conv2d(y)> for all x, y, where conv2d maps filters → channels with the same
  // kernel, its input is the transposed output's size, and its padding TensorFlow's for that size
  const cases: [string, number, number | [number, number], Conv2DTransposeOptions, [number, number]][] = [
    ["'same', k 3, stride 2", 2, 3, { strides: 2, padding: 'same' }, [4, 5]],
    ["'same', k 4, stride 2", 3, 4, { strides: 2, padding: 'same' }, [3, 3]],
    ["'same', k 3, stride 3 (k ≤ s)", 2, 3, { strides: 3, padding: 'same' }, [3, 2]],
    ["'same', k [2, 5], strides [2, 1], dilation [1, 2]", 2, [2, 5], { strides: [2, 1], padding: 'same', dilationRate: [1, 2] }, [3, 4]],
    ["'valid', k 1, stride 2 (k < s: zeros after)", 2, 1, { strides: 2 }, [3, 3]],
    ["'same' with outputPadding 1, k 3, stride 2", 2, 3, { strides: 2, padding: 'same', outputPadding: 1 }, [3, 4]],
    ["'valid' with outputPadding [1, 2], k 2, stride 3", 2, 2, { strides: 3, outputPadding: [1, 2] }, [2, 3]],
  ];
  for (const [name, filters, k, opts, [H, W]] of cases) {
    it(name, async () => {
      const C = 3;
      const layer = new Conv2DTranspose(filters, k, { ...opts, biasInitializer: 'zeros' });
      const x = randn([2, H, W, C]);
      const y = layer.forward(x);
      const [oH, oW] = [y.shape[1]!, y.shape[2]!];
      // Keras' sizes
      const d = (i: number): number => (opts?.dilationRate === undefined ? 1 : typeof opts.dilationRate === 'number' ? opts.dilationRate : opts.dilationRate[i]!);
      const K = (i: number): number => d(i) * ((typeof k === 'number' ? k : k[i]!) - 1) + 1;
      const s = (i: number): number => (opts?.strides === undefined ? 1 : typeof opts.strides === 'number' ? opts.strides : opts.strides[i]!);
      const op = (i: number): number | undefined => (opts?.outputPadding === undefined ? undefined : typeof opts.outputPadding === 'number' ? opts.outputPadding : opts.outputPadding[i]);
      const same = opts?.padding === 'same';
      const want = [H, W].map((n, i) => (op(i) === undefined ? (same ? n * s(i) : n * s(i) + Math.max(K(i) - s(i), 0)) : (n - 1) * s(i) + K(i) - 2 * (same ? K(i) >> 1 : 0) + op(i)!));
      expect([oH, oW]).toEqual(want);
      const probe = randn([2, oH, oW, filters]);
      const lhs = tidy(() => y.mul(probe).sum());
      const rhs = tidy(() => {
        const w = layer.kernel!.transpose([3, 2, 0, 1]); // [C, filters, kH, kW]
        // core's 'same' is TensorFlow's (⌈n/s⌉ outputs, ⌊total/2⌋ padding before)
        const c = conv2d(probe.transpose([0, 3, 1, 2]), w, { stride: [s(0), s(1)], padding: same ? 'same' : 'valid', dilation: [d(0), d(1)] });
        expect(c.shape.slice(2)).toEqual([H, W]);
        return c.transpose([0, 2, 3, 1]).mul(x).sum();
      });
      expectClose([await lhs.item()], [await rhs.item()], 1e-4, name);
      for (const v of [x, y, probe, lhs, rhs]) v.dispose();
      layer.dispose();
    });
  }
});

describe('Keras-front values by hand', () => {
  it("pools with 'same' padding never count it", async () => {
    const x = tensor([[[1], [2], [3]]]);
    const a = new AveragePooling1D(2, { strides: 1, padding: 'same' }).forward(x);
    expect(await a.data()).toEqual(new Float32Array([1.5, 2.5, 3]));
    const m = new MaxPooling1D(2, { padding: 'same' }).forward(tensor([[[1], [3], [2]]]));
    expect(await m.data()).toEqual(new Float32Array([3, 2]));
    const b = new AveragePooling2D(3, { strides: 2, padding: 'same' }).forward(ones([1, 4, 4, 2]));
    expect(b.shape).toEqual([1, 2, 2, 2]);
    expect(await b.data()).toEqual(new Float32Array(8).fill(1));
    for (const v of [x, a, m, b]) v.dispose();
  });
  it('KerasConv1D causal padding: output t sees inputs ≤ t only', async () => {
    const c = new KerasConv1D(1, 3, { padding: 'causal', dilationRate: 2, kernelInitializer: 'ones', useBias: false });
    const y = c.forward(tensor([[[1], [2], [3], [4], [5]]]));
    // dilation 2: y[t] = x[t] + x[t − 2] + x[t − 4]
    expect(await y.data()).toEqual(new Float32Array([1, 2, 4, 6, 9]));
    y.dispose();
    c.dispose();
  });
  it("KerasConv1D 'same' with stride 2 pads as TensorFlow (output ⌈L/2⌉, the extra padding after)", async () => {
    const c = new KerasConv1D(1, 2, { strides: 2, padding: 'same', kernelInitializer: 'ones', useBias: false });
    // L 5, k 2, s 2: 3 outputs, total padding 1, all after: [1+2, 3+4, 5+0]
    const y = c.forward(tensor([[[1], [2], [3], [4], [5]]]));
    expect(await y.data()).toEqual(new Float32Array([3, 7, 5]));
    y.dispose();
    c.dispose();
  });
  it('UpSampling1D / UpSampling2D nearest repeat', async () => {
    const a = new UpSampling1D({ size: 3 }).forward(tensor([[[1, 2], [3, 4]]]));
    expect(a.toArray()).toEqual([[[1, 2], [1, 2], [1, 2], [3, 4], [3, 4], [3, 4]]]);
    const b = new UpSampling2D({ size: [1, 2] }).forward(tensor([[[[1], [2]], [[3], [4]]]]));
    expect(b.toArray()).toEqual([[[[1], [1], [2], [2]], [[3], [3], [4], [4]]]]);
    a.dispose();
    b.dispose();
  });
  it('Keras initialisers: glorotUniform kernel (fans of a conv kernel), zero bias, built on the first call', async () => {
    const c = new KerasConv1D(8, 3);
    expect(c.kernel).toBeNull();
    const y = c.call(randn([2, 10, 4])) as Tensor;
    expect(c.kernel!.shape).toEqual([3, 4, 8]);
    const limit = Math.sqrt(6 / (3 * 4 + 3 * 8));
    const k = await c.kernel!.data();
    expect(Math.max(...Array.from(k, Math.abs))).toBeLessThanOrEqual(limit);
    expect(Math.max(...Array.from(k, Math.abs))).toBeGreaterThan(limit * 0.7);
    expect(await c.bias!.data()).toEqual(new Float32Array(8));
    y.dispose();
    c.dispose();
  });
});

describe('Keras-front round trips', () => {
  it('a channels-last 1-D and 2-D sequential builds, saves and loads with the same predictions', async () => {
    const m1 = sequential([
      new KerasConv1D(4, 3, { inputShape: [8, 2], padding: 'same', activation: 'relu' }),
      new MaxPooling1D(2),
      new UpSampling1D(),
      new AveragePooling1D(2, { padding: 'same', strides: 1 }),
      new KerasConv1D(3, 2, { padding: 'causal' }),
    ]);
    const m2 = sequential([
      new Conv2DTranspose(4, 3, { inputShape: [5, 5, 2], strides: 2, padding: 'same', activation: 'tanh' }),
      new AveragePooling2D(2),
      new UpSampling2D({ interpolation: 'bilinear' }),
      new Conv2DTranspose(2, 2, { strides: 2, outputPadding: 1 }),
    ]);
    for (const [m, shape] of [[m1, [3, 8, 2]], [m2, [2, 5, 5, 2]]] as const) {
      const x = randn([...shape]);
      const y = m.predict(x) as Tensor;
      const p = join(dir, m === m1 ? 'k1d' : 'k2d');
      await save(m, p);
      const back = await loadModel(p);
      const y2 = back.predict(x) as Tensor;
      expect(y2.shape).toEqual(y.shape);
      expect(await y2.data()).toEqual(await y.data());
      expect(back.layers.map((l) => l.getConfig())).toEqual(m.layers.map((l) => l.getConfig()));
      for (const v of [x, y, y2]) v.dispose();
      back.dispose();
      m.dispose();
    }
  });
});

describe('Keras-front bad arguments', () => {
  const cases: [string, () => unknown, RegExp][] = [
    ['KerasConv1D padding', () => new KerasConv1D(4, 3, { padding: 'full' as never }), /KerasConv1D: padding must be 'valid', 'same', 'causal'/],
    ['KerasConv1D strides and dilation', () => new KerasConv1D(4, 3, { strides: 2, dilationRate: 2 }), /KerasConv1D: strides 2 and dilationRate 2 cannot both exceed 1/],
    ['KerasConv1D groups', () => new KerasConv1D(5, 3, { groups: 2 }), /KerasConv1D: filters \(5\) must be divisible by groups \(2\)/],
    ['KerasConv1D option', () => new KerasConv1D(4, 3, { stride: 2 } as never), /KerasConv1D: unknown option 'stride'/],
    ['Conv2DTranspose outputPadding', () => new Conv2DTranspose(4, 3, { strides: 2, outputPadding: 2 }), /Conv2DTranspose: outputPadding 2 must be smaller than the strides/],
    ['Conv2DTranspose padding', () => new Conv2DTranspose(4, 3, { padding: 'causal' as never }), /Conv2DTranspose: padding must be 'valid', 'same'/],
    ['MaxPooling1D poolSize', () => new MaxPooling1D(0), /MaxPooling1D: poolSize must be an integer/],
    ['UpSampling2D interpolation', () => new UpSampling2D({ interpolation: 'bicubic' as never }), /UpSampling2D: interpolation must be 'nearest' or 'bilinear'/],
    ['UpSampling1D interpolation', () => new UpSampling1D({ interpolation: 'bilinear' }), /UpSampling1D: unknown option 'interpolation'/],
  ];
  for (const [what, fn, re] of cases) {
    it(`${what}: an AxonError naming the layer, nothing allocated`, () => {
      const before = memory().numTensors;
      expect(fn).toThrow(AxonError);
      expect(fn).toThrow(re);
      expect(memory().numTensors).toBe(before);
    });
  }
  it('channels-first input or a changed channel count is refused, naming the layout', () => {
    const c = new KerasConv1D(4, 3, { name: 'c', inputShape: [10, 2] });
    const x = randn([2, 3, 10]);
    const before = memory().numTensors;
    expect(() => c.forward(x)).toThrow(/KerasConv1D 'c': expected float32 channels-last input \[N, steps, 2\], got float32 \[2,3,10\]/);
    const p = new AveragePooling2D(2, { name: 'p' });
    expect(() => p.forward(x)).toThrow(/AveragePooling2D 'p': expected float32 channels-last input \[N, H, W, channels\]/);
    expect(memory().numTensors).toBe(before);
    x.dispose();
    c.dispose();
  });
});
