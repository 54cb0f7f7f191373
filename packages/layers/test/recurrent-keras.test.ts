/**
 * The Keras-front recurrent layers: the same math as PyTorch's from the same weights (PyTorch's
 * weights mapped to Keras' kernels), masking, goBackwards, and save/load of models holding the
 * new layers (Keras Sequential and the PyTorch front).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Tensor, concat, eye, memory, pad, randn, setSeed, tensor, tidy } from '@axon/core';
import { Dense, GRU, KerasGRU, KerasLSTM, LSTM, Module, RNN, SimpleRNN, getInitializer, loadModel, loadWeights, save, saveWeights, sequential } from '../src/index.js';
import { useTestBackend } from './helpers.js';
import { byName, checkKeras } from './seq-fixtures.js';

beforeAll(async () => {
  await useTestBackend();
});
const dir = mkdtempSync(join(tmpdir(), 'axon-rnn-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('Keras-front recurrent layers (WASM)', () => {
  it('SimpleRNN from PyTorch RNN weights: outputs, state and every gradient match PyTorch', async () => {
    await checkKeras(byName('rnn_tanh'));
  });
  it('KerasLSTM from PyTorch LSTM weights (bias = bias_ih + bias_hh): outputs, states and every gradient match PyTorch', async () => {
    await checkKeras(byName('lstm'));
  });
  it('KerasGRU (resetAfter) from PyTorch GRU weights (gates reordered r,z,n → z,r,h): outputs, state and every gradient match PyTorch', async () => {
    await checkKeras(byName('gru'));
  });

  it('goBackwards equals the forward layer on the time-reversed input, with the sequence in processing order', async () => {
    setSeed(3);
    for (const L of [SimpleRNN, KerasLSTM, KerasGRU]) {
      const fwd = new L(4, { returnSequences: true, inputShape: [5, 3] });
      const bwd = new L(4, { returnSequences: true, goBackwards: true, inputShape: [5, 3] });
      bwd.loadStateDict(fwd.stateDict());
      const x = randn([2, 5, 3]);
      const [a, b] = tidy(() => [fwd.call(x.gather(tensor([4, 3, 2, 1, 0], [5], 'int32'), 1)), bwd.call(x)]);
      expect(await b!.data()).toEqual(await a!.data());
      for (const v of [a, b, x]) v!.dispose();
      fwd.dispose();
      bwd.dispose();
    }
  });

  it('masked steps keep the previous state and output (mask argument, and maskValue as after Masking)', async () => {
    setSeed(4);
    for (const L of [SimpleRNN, KerasLSTM, KerasGRU]) {
      const layer = new L(3, { returnSequences: true, inputShape: [4, 2] });
      const xs = randn([1, 2, 2]);
      // steps: x0, pad, x1, pad
      const x = tidy(() => concat([xs.slice([0, 0, 0], [1, 1, 2]), tensor([[[0, 0]]]), xs.slice([0, 1, 0], [1, 1, 2]), tensor([[[0, 0]]])], 1));
      const mask = tensor([[true, false, true, false]]);
      const full = tidy(() => layer.call(x, mask));
      const short = tidy(() => layer.call(pad(xs, [[0, 0], [0, 2], [0, 0]])).slice([0, 0, 0], [1, 2, 3]));
      const f = await full.data();
      const sh = await short.data();
      const step = (d: Float32Array | Int32Array | Uint8Array, i: number): number[] => [...d.slice(i * 3, i * 3 + 3)];
      expect(step(f, 0)).toEqual(step(sh, 0));
      expect(step(f, 1)).toEqual(step(sh, 0)); // masked: the previous output
      expect(step(f, 2)).toEqual(step(sh, 1)); // the state skipped the masked step
      expect(step(f, 3)).toEqual(step(sh, 1));
      const byValue = new L(3, { returnSequences: true, inputShape: [4, 2], maskValue: 0 });
      byValue.loadStateDict(layer.stateDict());
      const v = tidy(() => byValue.call(x));
      expect(await v.data()).toEqual(f);
      for (const tt of [xs, x, mask, full, short, v]) tt.dispose();
      layer.dispose();
      byValue.dispose();
    }
  });

  it("the orthogonal recurrent initialiser gives orthonormal rows; LSTM's forget-gate bias starts at 1", async () => {
    setSeed(5);
    const q = getInitializer('orthogonal')([4, 16]);
    const err = tidy(() => q.matmul(q.T).sub(eye(4)).abs().max().item());
    expect(err).toBeLessThan(1e-5);
    const lstm = new KerasLSTM(4, { inputShape: [3, 2] });
    expect([...(await lstm.bias!.data())]).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    q.dispose();
    lstm.dispose();
  });

  it('bad input is an AxonError naming the layer, shapes and what was expected', () => {
    const l = new KerasLSTM(3, { inputShape: [4, 2] });
    expect(() => l.call(randn([2, 4]))).toThrow(/KerasLSTM '.*': expects float32 input \[batch, timesteps, features\], got float32 \[2,4\]/);
    expect(() => l.call(randn([2, 4, 5]))).toThrow(/expected input \[batch, 4, 2\], got \[2,4,5\]/);
    expect(() => l.call(randn([2, 4, 2]), tensor([[true]]))).toThrow(/mask must be a Tensor \[batch, timesteps\] = \[2, 4\]/);
    expect(() => new SimpleRNN(0)).toThrow(/units must be an integer >= 1/);
    expect(() => new KerasGRU(3, { resetAfter: 'yes' as unknown as boolean })).toThrow(/resetAfter must be true or false/);
    expect(() => new SimpleRNN(3, { unitForgetBias: true } as object)).toThrow(/unknown option 'unitForgetBias'/);
    const torch = new LSTM(2, 3);
    expect(() => torch.forward(randn([4, 2, 5]))).toThrow(/expected input with 2 features \(last axis\), got \[4,2,5\]/);
    expect(() => torch.forward(randn([4, 2, 2]), [randn([1, 3, 3]), randn([1, 3, 3])])).toThrow(/h0 must be float32 \[1,2,3\]/);
    expect(() => new GRU(2, 3, { dropout: 1 })).toThrow(/dropout must be in \[0, 1\)/);
    expect(() => new RNN(2, 3, { nonlinearity: 'sigmoid' as 'tanh' })).toThrow(/nonlinearity must be 'tanh' or 'relu'/);
    l.dispose();
    torch.dispose();
  });
});

describe('save/load round trips with the recurrent layers', () => {
  it('a Keras Sequential with SimpleRNN, KerasLSTM and KerasGRU: loadModel gives the same predictions, bit for bit', async () => {
    setSeed(6);
    const m = sequential([new KerasLSTM(5, { returnSequences: true, inputShape: [6, 3] }), new KerasGRU(4, { returnSequences: true, goBackwards: true }), new SimpleRNN(3, { activation: 'relu' }), new Dense(2)]);
    const x = randn([2, 6, 3]);
    const a = m.predict(x);
    await save(m, join(dir, 'keras'));
    const again = await loadModel(join(dir, 'keras'));
    const b = (again as typeof m).predict(x);
    expect(await b.data()).toEqual(await a.data());
    expect(again.layers.map((l) => l.className)).toEqual(['KerasLSTM', 'KerasGRU', 'SimpleRNN', 'Dense']);
    for (const v of [x, a, b]) v.dispose();
    m.dispose();
    again.dispose();
  });

  it('a PyTorch-front module holding LSTM, GRU and RNN: saveWeights / loadWeights restore every parameter under PyTorch names', async () => {
    class Net extends Module {
      lstm = new LSTM(3, 4, { numLayers: 2, bidirectional: true, batchFirst: true });
      gru = new GRU(8, 4);
      rnn = new RNN(4, 2, { nonlinearity: 'relu' });
      forward(x: Tensor): Tensor {
        const [a] = this.lstm.forward(x);
        const [b] = this.gru.forward(a.permute([1, 0, 2]));
        return this.rnn.forward(b)[0];
      }
    }
    setSeed(7);
    const net = new Net();
    const x = randn([2, 5, 3]);
    const before = memory().numTensors;
    const a = tidy(() => net.call(x));
    expect(memory().numTensors).toBe(before + 1);
    expect(Object.keys(net.stateDict())).toContain('lstm.weight_hh_l1_reverse');
    await saveWeights(net, join(dir, 'torch.safetensors'));
    setSeed(8);
    const other = new Net();
    await loadWeights(other, join(dir, 'torch.safetensors'));
    const b = tidy(() => other.call(x));
    expect(await b.data()).toEqual(await a.data());
    for (const v of [x, a, b]) v.dispose();
    net.dispose();
    other.dispose();
  });

  it('fit trains a Keras Sequential with a masked KerasGRU and the huber loss: the loss falls and nothing leaks', async () => {
    setSeed(10);
    const m = sequential([new KerasGRU(8, { inputShape: [6, 2], maskValue: 0 }), new Dense(1)]);
    m.compile({ optimizer: { name: 'adam', learningRate: 0.02 }, loss: 'huber' });
    // target: the sum of the first feature over the unmasked steps
    const x = tidy(() => randn([64, 6, 2]).mul(tensor([1, 0, 1, 1, 0, 1]).reshape([1, 6, 1]).gt(0).astype('float32')));
    const y = tidy(() => x.slice([0, 0, 0], [64, 6, 1]).sum([1, 2]).reshape([64, 1]));
    await m.fit(x, y, { epochs: 1, batchSize: 16, verbose: 0 });
    const before = memory().numTensors;
    const h = await m.fit(x, y, { epochs: 15, batchSize: 16, verbose: 0 });
    expect(memory().numTensors).toBe(before);
    const loss = h.history['loss']!;
    expect(loss[loss.length - 1]!).toBeLessThan(loss[0]! * 0.5);
    x.dispose();
    y.dispose();
    m.dispose();
  });

  it('inter-layer dropout drops in training only; the forward pass leaks nothing', () => {
    setSeed(9);
    const lstm = new LSTM(3, 4, { numLayers: 2, dropout: 0.5 });
    const x = randn([5, 2, 3]);
    const before = memory().numTensors;
    const [t1, t2, e1, e2] = tidy(() => {
      const a = lstm.forward(x)[0];
      const b = lstm.forward(x)[0];
      lstm.eval();
      const c = lstm.forward(x)[0];
      const d = lstm.forward(x)[0];
      lstm.train();
      return [a, b, c, d];
    });
    expect(memory().numTensors).toBe(before + 4);
    expect(t1!.dataSync()).not.toEqual(t2!.dataSync());
    expect(e1!.dataSync()).toEqual(e2!.dataSync());
    for (const v of [t1, t2, e1, e2, x]) v!.dispose();
    lstm.dispose();
  });
});
