/** Shared by conv-layers.test.ts and conv-layers-webgpu.test.ts: the PyTorch fixtures (fixtures/torch-conv-layers.json). */
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { type Tensor, memory, tidy } from '@axon/core';
import { AvgPool1d, AvgPool2d, Conv1d, ConvTranspose1d, ConvTranspose2d, MaxPool1d, type Module, Upsample } from '../src/index.js';
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
