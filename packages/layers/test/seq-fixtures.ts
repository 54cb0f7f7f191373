/** Shared by the sequence tests: the PyTorch fixtures (fixtures/torch-seq.json) and comparisons. */
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { type Tensor, memory, tensor, tidy } from '@axon/core';
import { GRU, LSTM, RNN } from '../src/index.js';

export interface Enc {
  shape: number[];
  data: number[];
}
export interface RnnCase {
  name: string;
  kind: 'RNN' | 'LSTM' | 'GRU';
  config: { inputSize: number; hiddenSize: number; numLayers: number; bias: boolean; batchFirst: boolean; bidirectional: boolean; nonlinearity: 'tanh' | 'relu' };
  state: Record<string, Enc>;
  x: Enc;
  h0?: Enc;
  c0?: Enc;
  output: Enc;
  hN: Enc;
  cN?: Enc;
  wo: Enc;
  wh: Enc;
  wc?: Enc;
  grads: Record<string, Enc>;
}
export const FIXTURES = JSON.parse(readFileSync(new URL('./fixtures/torch-seq.json', import.meta.url), 'utf8')) as { rnn: RnnCase[]; losses: Record<string, LossCase[]> };
export interface LossCase {
  name: string;
  opts: Record<string, number | string | boolean>;
  x: Enc;
  target: Enc;
  targetDtype: 'int32' | 'float32';
  weight?: Enc;
  output: Enc;
  wo: Enc;
  grad: Enc;
}

export const t = (e: Enc, dtype: 'float32' | 'int32' = 'float32'): Tensor => tensor(e.data, e.shape, dtype);

/** |got − want| ≤ atol + rtol·|want| elementwise (PyTorch's allclose). */
export async function expectAllClose(got: Tensor, want: Enc, what: string, rtol = 1e-4, atol = 1e-5): Promise<void> {
  expect(got.shape, `${what} shape`).toEqual(want.shape);
  const d = await got.data();
  for (let i = 0; i < d.length; i++) {
    const err = Math.abs(d[i]! - want.data[i]!);
    if (!(err <= atol + rtol * Math.abs(want.data[i]!))) expect.fail(`${what}[${i}]: got ${d[i]}, want ${want.data[i]} (|err| ${err})`);
  }
}

export function buildTorch(c: RnnCase): RNN | LSTM | GRU {
  const { inputSize, hiddenSize, nonlinearity, ...o } = c.config;
  return c.kind === 'RNN' ? new RNN(inputSize, hiddenSize, { ...o, nonlinearity }) : c.kind === 'LSTM' ? new LSTM(inputSize, hiddenSize, o) : new GRU(inputSize, hiddenSize, o);
}

/** Runs one PyTorch-front case: loads the state dict, checks outputs and every gradient. */
export async function checkTorchCase(c: RnnCase): Promise<void> {
  const m = buildTorch(c);
  const sd = Object.fromEntries(Object.entries(c.state).map(([k, v]) => [k, t(v)]));
  m.loadStateDict(sd);
  for (const v of Object.values(sd)) v.dispose();
  const x = t(c.x).requireGrad();
  const h0 = c.h0 ? t(c.h0).requireGrad() : undefined;
  const c0 = c.c0 ? t(c.c0).requireGrad() : undefined;
  const before = memory().numTensors;
  const kept = tidy(() => {
    let out: Tensor;
    let hN: Tensor;
    let cN: Tensor | null = null;
    if (m instanceof LSTM) [out, [hN, cN]] = m.forward(x, h0 && c0 ? [h0, c0] : undefined);
    else [out, hN] = m.forward(x, h0);
    let loss = out.mul(t(c.wo)).sum().add(hN.mul(t(c.wh)).sum());
    if (cN) loss = loss.add(cN.mul(t(c.wc!)).sum());
    loss.backward();
    return cN ? [out, hN, cN] : [out, hN];
  });
  await expectAllClose(kept[0]!, c.output, `${c.name} output`);
  await expectAllClose(kept[1]!, c.hN, `${c.name} hN`);
  if (c.cN) await expectAllClose(kept[2]!, c.cN, `${c.name} cN`);
  for (const k of kept) k.dispose();
  expect(memory().numTensors, 'nothing leaks but the gradients').toBe(before + 1 + (h0 ? 1 : 0) + (c0 ? 1 : 0) + m.parameters().length);
  await expectAllClose(x.grad!, c.grads['x']!, `${c.name} dx`);
  if (h0) await expectAllClose(h0.grad!, c.grads['h0']!, `${c.name} dh0`);
  if (c0) await expectAllClose(c0.grad!, c.grads['c0']!, `${c.name} dc0`);
  const named = m.namedParameters();
  expect(named.map(([n]) => n).sort()).toEqual(Object.keys(c.state).sort());
  for (const [n, p] of named) await expectAllClose(p.grad!, c.grads[n]!, `${c.name} d${n}`);
  for (const v of [x, h0, c0]) {
    v?.grad?.dispose();
    v?.dispose();
  }
  m.dispose();
}

