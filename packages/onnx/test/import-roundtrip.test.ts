/**
 * Axon → ONNX (toOnnx, the exporter) → Axon (parseOnnx): the imported model computes what the
 * original does (rtol 1e-4, atol 1e-5) for the model kinds the exporter covers, and its parameters
 * train.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { type Tensor, memory, noGrad, randint, randn, setBackend, setSeed, tidy } from '@axon/core';
import '@axon/autograd';
import { BatchNorm2d, Conv2d, Embedding, GRU, LSTM, LayerNorm, Linear, MaxPool2d, Module, ReLU, Sequential, Tanh, TransformerEncoderLayer, gpt, mnistCnn, mnistMlp } from '@axon/layers';
import ort from 'onnxruntime-node';
import { parseOnnx, toOnnx } from '../src/index.js';
import { axonTensor, expectAllClose, fixture, fixtureBytes } from './import-helpers.js';

class LstmClassifier extends Module {
  emb = new Embedding(20, 8);
  lstm = new LSTM(8, 12, { numLayers: 2, batchFirst: true });
  fc = new Linear(12, 3);
  forward(x: Tensor): Tensor {
    const [y] = this.lstm.forward(this.emb.forward(x));
    const [b, t, h] = y.shape as [number, number, number];
    return this.fc.forward(y.slice([0, t - 1, 0], [b, 1, h]).reshape([b, h]));
  }
}
class GruNet extends Module {
  gru = new GRU(4, 6, { batchFirst: true, bidirectional: true });
  fc = new Linear(12, 2);
  forward(x: Tensor): Tensor {
    const [y] = this.gru.forward(x);
    return this.fc.forward(y.mean(1));
  }
}
class Encoder extends Module {
  emb = new Embedding(30, 16);
  l1 = new TransformerEncoderLayer(16, 4, { dimFeedforward: 32, dropout: 0, batchFirst: true, activation: 'gelu', normFirst: true });
  norm = new LayerNorm(16);
  forward(x: Tensor): Tensor {
    return this.norm.forward(this.l1.forward(this.emb.forward(x)));
  }
}

const CASES: { name: string; model: () => Module; input: () => Tensor }[] = [
  { name: 'PyTorch-front MLP', model: () => new Sequential(new Linear(10, 16), new ReLU(), new Linear(16, 4), new Tanh()), input: () => randn([3, 10]) },
  { name: 'Keras MNIST MLP', model: () => mnistMlp(), input: () => randn([2, 28, 28]) },
  { name: 'Keras MNIST CNN', model: () => mnistCnn(), input: () => randn([2, 28, 28]) },
  { name: 'CNN with BatchNorm, padding, stride, groups', model: () => new Sequential(new Conv2d(4, 8, 3, { padding: 1, stride: 2 }), new BatchNorm2d(8), new Tanh(), new Conv2d(8, 8, 3, { groups: 2, padding: 'same' }), new MaxPool2d(2, { stride: 1 })), input: () => randn([2, 4, 9, 9]) },
  { name: 'LSTM classifier', model: () => new LstmClassifier(), input: () => randint(0, 20, [2, 5]) },
  { name: 'bidirectional GRU', model: () => new GruNet(), input: () => randn([2, 4, 4]) },
  { name: 'transformer encoder (GELU, norm first)', model: () => new Encoder(), input: () => randint(0, 30, [2, 7]) },
  { name: 'GPT', model: () => gpt({ vocabSize: 17, contextLength: 8, width: 16, heads: 2, layers: 2 }), input: () => randint(0, 17, [2, 6]) },
];

beforeAll(async () => {
  await import('@axon/backend-wasm');
  await setBackend('wasm');
});

describe('Axon → toOnnx → parseOnnx', () => {
  for (const [c, opset] of CASES.flatMap((k) => [[k, 17], [k, 18]] as const)) {
    it(`${c.name} (opset ${opset})`, async () => {
      setSeed(3);
      const m = c.model();
      m.eval();
      const x = c.input();
      const want = noGrad(() => tidy(() => m.call(x)));
      const imported = parseOnnx(await toOnnx(m, x, { opset }));
      expect(imported.opsetVersion).toBe(opset);
      const before = memory().numTensors;
      const got = noGrad(() => imported.forward(x));
      expect(got.shape).toEqual(want.shape);
      expectAllClose(await got.data(), await want.data(), 1e-4, 1e-5, c.name);
      got.dispose();
      expect(memory().numTensors).toBe(before);
      // the imported parameters are the original's values under the same names
      const sd = imported.stateDict();
      for (const [k, v] of Object.entries(m.stateDict())) if (sd[k] && v.dtype === 'float32') expectAllClose(await sd[k].data(), await v.data(), 0, 0, k);
      for (const t of [x, want]) t.dispose();
      imported.dispose();
      m.dispose();
    });
  }
});

describe('PyTorch → parseOnnx → toOnnx: an imported model exports again', () => {
  for (const name of ['cnn', 'lstm_dynamic', 'transformer_dynamic']) {
    it(name, async () => {
      const fx = fixture(name.replace('_dynamic', ''));
      const m = parseOnnx(fixtureBytes(name));
      const x = axonTensor(fx.inputs[0]!);
      const bytes = await toOnnx(m, x);
      // onnxruntime runs the re-exported file and gets PyTorch's output
      const session = await ort.InferenceSession.create(bytes);
      const data = await x.data();
      const feed = x.dtype === 'int32' ? new ort.Tensor('int32', data as Int32Array, [...x.shape]) : new ort.Tensor('float32', data as Float32Array, [...x.shape]);
      const out = (await session.run({ [session.inputNames[0]!]: feed }))[session.outputNames[0]!]!;
      expect(Array.from(out.dims)).toEqual(fx.output.shape);
      expectAllClose(out.data as Float32Array, fx.output.data, 1e-4, 1e-5, name);
      // and the names survive the trip (the exporter adds its constants as initializers `const_N`)
      const again = parseOnnx(bytes);
      const keys = Object.keys(again.stateDict());
      for (const k of Object.keys(m.stateDict())) expect(keys).toContain(k);
      for (const k of keys) if (!(k in m.stateDict())) expect(k).toMatch(/^const_\d+$/);
      x.dispose();
      again.dispose();
      m.dispose();
    });
  }
});
