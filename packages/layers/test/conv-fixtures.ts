/** Shared by conv-layers.test.ts and conv-layers-webgpu.test.ts: the PyTorch fixtures (fixtures/torch-conv-layers.json). */
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { type Tensor, memory, tidy } from '@axon/core';
import {
  AveragePooling1D,
  AvgPool1d,
  AvgPool2d,
  Conv1d,
  Conv2DTranspose,
  ConvTranspose1d,
  ConvTranspose2d,
  KerasConv1D,
  MaxPool1d,
  MaxPooling1D,
  type Module,
  UpSampling2D,
  Upsample,
} from '../src/index.js';
import { type Enc, expectAllClose, t } from './seq-fixtures.js';

export interface ConvCase {
  name: string;
  cls: 'Conv1d' | 'ConvTranspose1d' | 'ConvTranspose2d' | 'MaxPool1d' | 'AvgPool1d' | 'AvgPool2d' | 'Upsample';
  args: (number | number[])[];
  opts: Record<string, unknown>;
  state: Record<string, Enc>;
  x: Enc;
  output: Enc;
  wo: Enc;
  grads: Record<string, Enc>;
}

export const CONV_FIXTURES = JSON.parse(readFileSync(new URL('./fixtures/torch-conv-layers.json', import.meta.url), 'utf8')) as { torch: string; cases: ConvCase[] };

/** Builds the case's module from its constructor arguments and options (Axon's names). */
export function buildConv(c: ConvCase): Module {
  const a = c.args as never[];
  const o = c.opts as never;
  switch (c.cls) {
    case 'Conv1d':
      return new Conv1d(a[0]!, a[1]!, a[2]!, o);
    case 'ConvTranspose1d':
      return new ConvTranspose1d(a[0]!, a[1]!, a[2]!, o);
    case 'ConvTranspose2d':
      return new ConvTranspose2d(a[0]!, a[1]!, a[2]!, o);
    case 'MaxPool1d':
      return new MaxPool1d(a[0]!, o);
    case 'AvgPool1d':
      return new AvgPool1d(a[0]!, o);
    case 'AvgPool2d':
      return new AvgPool2d(a[0]!, o);
    case 'Upsample':
      return new Upsample(o);
  }
}

/** Loads the state dict, checks the output and the gradients w.r.t. the input and every parameter; nothing leaks. */
export async function checkConvCase(c: ConvCase): Promise<void> {
  const m = buildConv(c);
  expect(Object.keys(m.stateDict()).sort(), `${c.name} parameter names`).toEqual(Object.keys(c.state).sort());
  const sd = Object.fromEntries(Object.entries(c.state).map(([k, v]) => [k, t(v)]));
  if (Object.keys(sd).length > 0) m.loadStateDict(sd);
  for (const v of Object.values(sd)) v.dispose();
  const x = t(c.x).requireGrad();
  const before = memory().numTensors;
  const out = tidy(() => {
    const y = m.forward(x) as Tensor;
    y.mul(t(c.wo)).sum().backward();
    return y;
  });
  await expectAllClose(out, c.output, `${c.name} output`);
  await expectAllClose(x.grad!, c.grads['x']!, `${c.name} grad x`);
  for (const [k, p] of m.namedParameters()) await expectAllClose(p.grad!, c.grads[k]!, `${c.name} grad ${k}`);
  // the output and one gradient per parameter and the input are all that is left
  expect(memory().numTensors - before, `${c.name} live tensors`).toBe(1 + 1 + m.parameters().length);
  out.dispose();
  x.dispose();
  m.dispose();
}

export const byName = (n: string): ConvCase => {
  const c = CONV_FIXTURES.cases.find((v) => v.name === n);
  if (!c) throw new Error(`no fixture ${n}`);
  return c;
};
/** A fixture tensor with its axes permuted (channels-first → channels-last and back). */
const tp = (e: Enc, perm: number[]): Tensor => tidy(() => t(e).transpose(perm).contiguous());

/**
 * Runs a Keras layer on the fixture's input moved channels-last, with the PyTorch weights mapped to
 * Keras' layout, and checks the output and the gradients of sum(output · wo) (wo moved likewise).
 */
async function checkMapped(c: ConvCase, layer: KerasConv1D | Conv2DTranspose | MaxPooling1D | AveragePooling1D | UpSampling2D, last: number[], first: number[], kernelPerm: number[] | null): Promise<void> {
  const x = tp(c.x, last).requireGrad();
  if (layer instanceof KerasConv1D || layer instanceof Conv2DTranspose) {
    layer.build(x.shape[x.rank - 1]!);
    const sd: Record<string, Tensor> = { kernel: tp(c.state['weight']!, kernelPerm!) };
    if (c.state['bias']) sd['bias'] = t(c.state['bias']);
    layer.loadStateDict(sd);
    for (const v of Object.values(sd)) v.dispose();
  }
  const before = memory().numTensors;
  const y = tidy(() => {
    const out = layer.forward(x);
    out.mul(tp(c.wo, last)).sum().backward();
    return out.transpose(first).contiguous();
  });
  // the output and the gradients of the input and every parameter are all that is left
  expect(memory().numTensors - before).toBe(1 + 1 + layer.parameters().length);
  await expectAllClose(y, c.output, `${c.name} (Keras front) output`);
  const gx = tidy(() => x.grad!.transpose(first).contiguous());
  await expectAllClose(gx, c.grads['x']!, `${c.name} (Keras front) grad x`);
  if (layer instanceof KerasConv1D || layer instanceof Conv2DTranspose) {
    const inv = kernelPerm!.map((_, i) => kernelPerm!.indexOf(i));
    const gk = tidy(() => layer.kernel!.grad!.transpose(inv).contiguous());
    await expectAllClose(gk, c.grads['weight']!, `${c.name} (Keras front) grad kernel`);
    if (c.grads['bias']) await expectAllClose(layer.bias!.grad!, c.grads['bias'], `${c.name} (Keras front) grad bias`);
    gk.dispose();
  }
  for (const v of [y, gx, x]) v.dispose();
  layer.dispose();
}

const NLC = [0, 2, 1];
const NHWC = [0, 2, 3, 1];
const NCHW = [0, 3, 1, 2];

/** The Keras-front layers on the PyTorch fixtures with mapped weights, where Keras and PyTorch agree: [test name, run]. */
export const KERAS_MAPPED: [string, () => Promise<void>][] = [
  [
    'KerasConv1D valid = Conv1d (kernel [k, C, filters] = weight.permute(2, 1, 0))',
    async () => {
      await checkMapped(byName('conv1d basic'), new KerasConv1D(4, 3), NLC, NLC, [2, 1, 0]);
    },
  ],
  [
    'KerasConv1D groups, no bias',
    async () => {
      await checkMapped(byName('conv1d groups no bias'), new KerasConv1D(6, 2, { groups: 2, useBias: false }), NLC, NLC, [2, 1, 0]);
    },
  ],
  [
    "KerasConv1D 'same' at stride 1 (even kernel: the extra padding after, as TensorFlow and PyTorch)",
    async () => {
      await checkMapped(byName('conv1d same'), new KerasConv1D(3, 4, { padding: 'same' }), NLC, NLC, [2, 1, 0]);
    },
  ],
  [
    'Conv2DTranspose valid = ConvTranspose2d (kernel [kH, kW, filters, C] = weight.permute(2, 3, 1, 0))',
    async () => {
      await checkMapped(byName('convTranspose2d basic'), new Conv2DTranspose(2, 3), NHWC, NCHW, [2, 3, 1, 0]);
    },
  ],
  [
    'MaxPooling1D and AveragePooling1D valid = MaxPool1d / AvgPool1d',
    async () => {
      await checkMapped(byName('maxPool1d'), new MaxPooling1D(2), NLC, NLC, null);
      await checkMapped(byName('avgPool1d'), new AveragePooling1D(3, { strides: 2 }), NLC, NLC, null);
    },
  ],
  [
    "UpSampling2D 'bilinear' = nn.Upsample(scale_factor=2, mode='bilinear') (half-pixel centres)",
    async () => {
      await checkMapped(byName('upsample bilinear'), new UpSampling2D({ interpolation: 'bilinear' }), NHWC, NCHW, null);
    },
  ],
];
