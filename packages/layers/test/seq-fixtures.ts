/** Shared by the sequence tests: the PyTorch fixtures (fixtures/torch-seq.json) and comparisons. */
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { type Tensor, concat, memory, tensor, tidy } from '@axon/core';
import { GRU, KerasGRU, KerasLSTM, LSTM, RNN, SimpleRNN } from '../src/index.js';

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


/** Reorders a PyTorch GRU tensor's gate blocks (axis 0) from r, z, n to Keras' z, r, h. */
const rzToZr = (x: Tensor, u: number): Tensor => concat([x.slice([u], [u]), x.slice([0], [u]), x.slice([2 * u], [u])], 0);
const rzToZr2 = (x: Tensor, u: number): Tensor => concat([x.slice([u, 0], [u, x.shape[1]!]), x.slice([0, 0], [u, x.shape[1]!]), x.slice([2 * u, 0], [u, x.shape[1]!])], 0);

export function byName(name: string): RnnCase {
  return FIXTURES.rnn.find((c) => c.name === name)!;
}

/** Checks a Keras layer loaded with a one-layer PyTorch case's weights: outputs, states and gradients. */
export async function checkKeras(c: RnnCase): Promise<void> {
  const u = c.config.hiddenSize;
  const s = Object.fromEntries(Object.entries(c.state).map(([k, v]) => [k, t(v)]));
  const gru = c.kind === 'GRU';
  const layer = c.kind === 'RNN' ? new SimpleRNN(u, { returnSequences: true }) : c.kind === 'LSTM' ? new KerasLSTM(u, { returnSequences: true }) : new KerasGRU(u, { returnSequences: true });
  layer.build(c.config.inputSize);
  tidy(() => {
    const wih = gru ? rzToZr2(s['weight_ih_l0']!, u) : s['weight_ih_l0']!;
    const whh = gru ? rzToZr2(s['weight_hh_l0']!, u) : s['weight_hh_l0']!;
    layer.kernel!.assign(wih.T.contiguous());
    layer.recurrentKernel!.assign(whh.T.contiguous());
    if (gru) layer.bias!.assign(concat([rzToZr(s['bias_ih_l0']!, u).reshape([1, 3 * u]), rzToZr(s['bias_hh_l0']!, u).reshape([1, 3 * u])], 0));
    else layer.bias!.assign(s['bias_ih_l0']!.add(s['bias_hh_l0']!));
  });
  const x = t(c.x).requireGrad(); // [T, B, I]
  const h0 = t(c.h0!).requireGrad(); // [1, B, H]
  const c0 = c.c0 ? t(c.c0).requireGrad() : null;
  const outs = tidy(() => {
    const init = [h0.reshape(h0.shape.slice(1)), ...(c0 ? [c0.reshape(c0.shape.slice(1))] : [])];
    const [seq, h, cc] = layer.forwardWithState(x.permute([1, 0, 2]), { initialState: init });
    let loss = seq!.mul(t(c.wo).permute([1, 0, 2])).sum().add(h!.mul(t(c.wh).reshape(h!.shape)).sum());
    if (cc) loss = loss.add(cc.mul(t(c.wc!).reshape(cc.shape)).sum());
    loss.backward();
    return [seq!.permute([1, 0, 2]), h!.unsqueeze(0), ...(cc ? [cc.unsqueeze(0)] : [])];
  });
  await expectAllClose(outs[0]!, c.output, `${c.name} output`);
  await expectAllClose(outs[1]!, c.hN, `${c.name} h`);
  if (c.cN) await expectAllClose(outs[2]!, c.cN, `${c.name} c`);
  await expectAllClose(x.grad!, c.grads['x']!, `${c.name} dx`);
  await expectAllClose(h0.grad!, c.grads['h0']!, `${c.name} dh0`);
  if (c0) await expectAllClose(c0.grad!, c.grads['c0']!, `${c.name} dc0`);
  const g = Object.fromEntries(Object.entries(c.grads).map(([k, v]) => [k, t(v)]));
  const want = tidy(() => ({
    kernel: (gru ? rzToZr2(g['weight_ih_l0']!, u) : g['weight_ih_l0']!).T.contiguous(),
    recurrentKernel: (gru ? rzToZr2(g['weight_hh_l0']!, u) : g['weight_hh_l0']!).T.contiguous(),
    bias: gru ? concat([rzToZr(g['bias_ih_l0']!, u).reshape([1, 3 * u]), rzToZr(g['bias_hh_l0']!, u).reshape([1, 3 * u])], 0) : g['bias_ih_l0']!.clone(),
  }));
  for (const k of ['kernel', 'recurrentKernel', 'bias'] as const) {
    const w = want[k];
    await expectAllClose(layer[k]!.grad!, { shape: w.shape as number[], data: [...(await w.data())] }, `${c.name} d${k}`);
  }
  for (const v of [...outs, ...Object.values(s), ...Object.values(g), ...Object.values(want), x.grad, x, h0.grad, h0, c0?.grad, c0]) v?.dispose();
  layer.dispose();
}

