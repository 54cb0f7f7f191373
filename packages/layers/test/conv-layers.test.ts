/**
 * The PyTorch-front conv layers (Conv1d, ConvTranspose1d/2d, MaxPool1d, AvgPool1d, AvgPool2d's
 * countIncludePad, Upsample) against PyTorch 1.13 (fixtures/gen_torch_conv_layers.py) on WASM:
 * outputs and gradients w.r.t. the input and every parameter, rtol 1e-4 / atol 1e-5; save/load
 * round trips; bad arguments.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AxonError, type Tensor, memory, ones, randn, tensor, tidy } from '@axon/core';
import {
  AvgPool1d,
  AvgPool2d,
  Conv1d,
  ConvTranspose1d,
  ConvTranspose2d,
  MaxPool1d,
  MaxPool2d,
  Sequential,
  Upsample,
  loadModel,
  modelFromJson,
  modelToJson,
  save,
  sequential,
} from '../src/index.js';
import { expectClose, useTestBackend } from './helpers.js';
import { CONV_FIXTURES, buildConv, checkConvCase } from './conv-fixtures.js';

let dir = '';
beforeAll(async () => {
  await useTestBackend();
  dir = await mkdtemp(join(tmpdir(), 'axon-conv-layers-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('conv layers against PyTorch 1.13 (WASM)', () => {
  it('the fixtures come from PyTorch 1.13 and cover every module', () => {
    expect(CONV_FIXTURES.torch.startsWith('1.13')).toBe(true);
    expect(new Set(CONV_FIXTURES.cases.map((c) => c.cls))).toEqual(new Set(['Conv1d', 'ConvTranspose1d', 'ConvTranspose2d', 'MaxPool1d', 'AvgPool1d', 'AvgPool2d', 'Upsample']));
  });
  for (const c of CONV_FIXTURES.cases) {
    it(`${c.cls} ${c.name}: output and every gradient`, async () => {
      await checkConvCase(c);
    });
  }
});

describe('AvgPool2d countIncludePad', () => {
  it('defaults to true (PyTorch): a ported nn.AvgPool2d(3, 2, 1) gives PyTorch borders', async () => {
    const p = new AvgPool2d(3, { stride: 2, padding: 1 });
    expect(p.countIncludePad).toBe(true);
    const y = p.call(ones([1, 1, 4, 4])) as Tensor;
    // the corner window holds 4 of 9 ones
    expectClose(await y.data(), [4 / 9, 6 / 9, 6 / 9, 1], 1e-6, 'AvgPool2d(3, 2, 1) borders');
    y.dispose();
    const ex = new AvgPool2d(3, { stride: 2, padding: 1, countIncludePad: false });
    const z = ex.call(ones([1, 1, 4, 4])) as Tensor;
    expect(z.toArray()).toEqual([[[[1, 1], [1, 1]]]]);
    z.dispose();
  });
  it('round-trips countIncludePad; a config saved before the option rebuilds excluding padding', () => {
    const j = modelToJson(new Sequential(new AvgPool2d(3, { stride: 2, padding: 1 }), new AvgPool2d(3, { stride: 2, padding: 1, countIncludePad: false })));
    const back = modelFromJson(j) as Sequential;
    expect((back.layers[0] as AvgPool2d).countIncludePad).toBe(true);
    expect((back.layers[1] as AvgPool2d).countIncludePad).toBe(false);
    expect(AvgPool2d.fromConfig({ kernelSize: [3, 3], stride: [2, 2], padding: 1 }, 'old').countIncludePad).toBe(false);
  });
  it('is an option of AvgPool2d only, and a boolean', () => {
    expect(() => new AvgPool2d(2, { countIncludePad: 1 as unknown as boolean })).toThrow(/AvgPool2d.*countIncludePad/);
    // the options type is shared; MaxPool2d refuses the key at run time
    expect(() => new MaxPool2d(2, { countIncludePad: true })).toThrow(/unknown option 'countIncludePad'/);
  });
});

describe('save/load round trips', () => {
  it('every fixture module: model.json + safetensors give the same output', async () => {
    for (const c of CONV_FIXTURES.cases) {
      const m = buildConv(c);
      const net = new Sequential(m);
      const p = join(dir, c.name.replace(/[^a-z0-9]+/gi, '-'));
      await save(net, p);
      const back = await loadModel(p);
      const want = tidy(() => net.forward(tensor(c.x.data, c.x.shape)) as Tensor);
      const got = tidy(() => back.forward(tensor(c.x.data, c.x.shape)) as Tensor);
      expect(back.layers[0]!.getConfig(), c.name).toEqual(m.getConfig());
      expect(await got.data(), c.name).toEqual(await want.data());
      for (const v of [want, got]) v.dispose();
      net.dispose();
      back.dispose();
    }
  });
  it('a Keras-style sequential of the new layers builds, predicts and reloads', async () => {
    const net = sequential([
      new Conv1d(2, 4, 3, { padding: 1, inputShape: [2, 8] }),
      new MaxPool1d(2),
      new ConvTranspose1d(4, 2, 2, { stride: 2 }),
      new AvgPool1d(3, { stride: 1, padding: 1 }),
      new Upsample({ scaleFactor: 2, mode: 'linear' }),
    ]);
    const x = randn([3, 2, 8]);
    const y = net.predict(x) as Tensor;
    expect(y.shape).toEqual([3, 2, 16]);
    const p = join(dir, 'seq1d');
    await save(net, p);
    const back = await loadModel(p);
    const y2 = back.predict(x) as Tensor;
    expect(await y2.data()).toEqual(await y.data());
    for (const v of [x, y, y2]) v.dispose();
    net.dispose();
    back.dispose();
  });
});

describe('bad arguments', () => {
  const cases: [string, () => unknown, RegExp][] = [
    ['Conv1d groups', () => new Conv1d(3, 4, 3, { groups: 2 }), /Conv1d: inChannels \(3\) and outChannels \(4\) must be divisible by groups \(2\)/],
    ['Conv1d kernel', () => new Conv1d(3, 4, 0), /Conv1d: kernelSize must be an integer/],
    ['Conv1d padding', () => new Conv1d(3, 4, 3, { padding: -1 }), /Conv1d: padding must be/],
    ['Conv1d same stride', () => new Conv1d(3, 4, 3, { padding: 'same', stride: 2 }), /Conv1d: padding 'same' needs stride 1/],
    ['Conv1d option', () => new Conv1d(3, 4, 3, { strides: 2 } as never), /Conv1d: unknown option 'strides'/],
    ['ConvTranspose2d outputPadding', () => new ConvTranspose2d(3, 4, 3, { stride: 2, outputPadding: 2 }), /ConvTranspose2d: outputPadding 2 must be smaller than the stride/],
    ['ConvTranspose1d groups', () => new ConvTranspose1d(4, 3, 3, { groups: 2 }), /ConvTranspose1d: .*divisible by groups \(2\)/],
    ['ConvTranspose2d kernel', () => new ConvTranspose2d(3, 4, [3, 0] as never), /ConvTranspose2d: kernelSize must be/],
    ['MaxPool1d padding', () => new MaxPool1d(2, { padding: 2 }), /MaxPool1d: padding 2 must be at most half the kernel size 2/],
    ['AvgPool1d countIncludePad', () => new AvgPool1d(2, { countIncludePad: 'yes' as never }), /AvgPool1d: countIncludePad must be true or false/],
    ['MaxPool1d countIncludePad', () => new MaxPool1d(2, { countIncludePad: true }), /MaxPool1d: unknown option 'countIncludePad'/],
    ['Upsample both', () => new Upsample({ size: 4, scaleFactor: 2 }), /Upsample: give exactly one of size and scaleFactor/],
    ['Upsample neither', () => new Upsample({}), /Upsample: give exactly one of size and scaleFactor/],
    ['Upsample mode', () => new Upsample({ size: 4, mode: 'bicubic' as never }), /Upsample: mode must be/],
    ['Upsample alignCorners nearest', () => new Upsample({ size: 4, alignCorners: true }), /Upsample: alignCorners applies to the 'linear' and 'bilinear' modes only/],
  ];
  for (const [what, fn, re] of cases) {
    it(`${what}: an AxonError naming the layer, nothing allocated`, () => {
      const before = memory();
      let err: unknown;
      try {
        fn();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(AxonError);
      expect((err as Error).message).toMatch(re);
      expect(memory().numTensors).toBe(before.numTensors);
      expect(memory().numBytes).toBe(before.numBytes);
    });
  }
  it('a wrong input names the layer and the expected layout, and leaks nothing', () => {
    const layers: [{ forward(x: Tensor): Tensor; dispose(): void }, Tensor, RegExp][] = [
      [new Conv1d(3, 4, 3, { name: 'c' }), randn([2, 2, 8]), /Conv1d 'c': expected float32 input \[N, 3, L\] or \[3, L\], got float32 \[2,2,8\]/],
      [new ConvTranspose2d(3, 4, 3, { name: 't' }), randn([2, 3, 8]), /ConvTranspose2d 't': expected float32 input \[N, 3, H, W\]/],
      [new Upsample({ size: 4, mode: 'bilinear', name: 'u' }), randn([2, 3, 8]), /Upsample 'u': expected float32 input \[N, C, H, W\]/],
      [new MaxPool1d(4, { name: 'p' }), randn([2, 3]), /maxPool1d: a window of 4/],
    ];
    for (const [m, x, re] of layers) {
      const before = memory().numTensors;
      expect(() => m.forward(x)).toThrow(re);
      expect(memory().numTensors).toBe(before);
      x.dispose();
      m.dispose();
    }
  });
});

describe('initialisation as PyTorch', () => {
  it('ConvTranspose weights [inC, outC/groups, ...k] within ±1/√(outC/groups·k), biases too', async () => {
    const m = new ConvTranspose2d(4, 6, [2, 3], { groups: 2 });
    expect(m.weight.shape).toEqual([4, 3, 2, 3]);
    const bound = 1 / Math.sqrt(3 * 2 * 3);
    const w = await m.weight.data();
    expect(Math.max(...Array.from(w, Math.abs))).toBeLessThanOrEqual(bound);
    // spread over the range (not a much narrower init)
    expect(Math.max(...Array.from(w, Math.abs))).toBeGreaterThan(bound * 0.7);
    const b = await m.bias!.data();
    expect(Math.max(...Array.from(b, Math.abs))).toBeLessThanOrEqual(bound);
    m.dispose();
    const c = new Conv1d(4, 8, 3, { groups: 2, bias: false });
    expect(c.weight.shape).toEqual([8, 2, 3]);
    expect(c.bias).toBeNull();
    expect(Math.max(...Array.from(await c.weight.data(), Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(6));
    c.dispose();
  });
});
