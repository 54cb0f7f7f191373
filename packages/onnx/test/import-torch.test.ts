/**
 * loadOnnx on PyTorch 1.13's exports (opset 17) of the interop models (mlp, cnn, lstm,
 * transformer, bncnn from packages/layers/test/fixtures/interop/torch_models.py) and two op-coverage
 * models (gru, misc), written by test/fixtures/gen_torch_onnx.py: Axon's outputs on WASM and on
 * WebGPU against PyTorch's (rtol 1e-4, atol 1e-5); the same files in onnxruntime-node against
 * PyTorch's outputs (the fixtures are right); PyTorch's parameter names in stateDict().
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { memory, noGrad, setBackend, tidy, zeros } from '@axon/core';
import '@axon/autograd';
import ort from 'onnxruntime-node';
import { parseOnnx } from '../src/index.js';
import { axonTensor, describeOnWebGPU, expectAllClose, fixture, fixtureBytes } from './import-helpers.js';

const MODELS = ['mlp', 'cnn', 'lstm', 'transformer', 'bncnn', 'gru', 'misc', 'resize', 'ceilpool'];
/** The dynamic-axes exports share their static twin's .json (sample input and PyTorch's output). */
const DYNAMIC = ['lstm_dynamic', 'transformer_dynamic'];

describe('the fixtures in onnxruntime-node match PyTorch', () => {
  for (const name of [...MODELS, ...DYNAMIC]) {
    it(name, async () => {
      const fx = fixture(name.replace('_dynamic', ''));
      const session = await ort.InferenceSession.create(fixtureBytes(name));
      const feeds: Record<string, ort.Tensor> = {};
      for (const t of fx.inputs) {
        feeds[t.name!] = t.dtype === 'int64' ? new ort.Tensor('int64', BigInt64Array.from(t.data.map((v) => BigInt(v))), t.shape) : new ort.Tensor('float32', Float32Array.from(t.data), t.shape);
      }
      const out = await session.run(feeds);
      const y = out['output']!;
      expect(Array.from(y.dims)).toEqual(fx.output.shape);
      expectAllClose(y.data as Float32Array, fx.output.data, 1e-4, 1e-5, name);
    });
  }
});

function suite(backend: string): void {
  for (const name of [...MODELS, ...DYNAMIC]) {
    it(`${name}: Axon = PyTorch`, async () => {
      await setBackend(backend);
      const fx = fixture(name.replace('_dynamic', ''));
      const model = parseOnnx(fixtureBytes(name));
      try {
        expect(model.opsetVersion).toBe(17);
        expect(model.producer).toBe('pytorch 1.13.0');
        expect(model.inputNames).toEqual(fx.inputs.map((t) => t.name));
        expect(model.inputShapes).toEqual(fx.inputs.map((t) => (DYNAMIC.includes(name) ? [null, null] : t.shape)));
        // PyTorch's names survive where the exporter kept them as initializers
        const keys = Object.keys(model.stateDict());
        for (const k of keys) if (!k.startsWith('onnx::')) expect(fx.state, k).toContain(k);
        const before = memory().numTensors;
        const y = noGrad(() => tidy(() => model.forward(...fx.inputs.map(axonTensor))));
        expect(y.shape).toEqual(fx.output.shape);
        expectAllClose(await y.data(), fx.output.data, 1e-4, 1e-5, `${backend} ${name}`);
        y.dispose();
        expect(memory().numTensors).toBe(before);
      } finally {
        model.dispose();
      }
    });
  }
}

async function ortOutput(name: string, feeds: Record<string, { shape: number[]; data: number[] }>): Promise<{ dims: number[]; data: Float32Array }> {
  const session = await ort.InferenceSession.create(fixtureBytes(name));
  const f: Record<string, ort.Tensor> = {};
  for (const [k, v] of Object.entries(feeds)) f[k] = new ort.Tensor('int64', BigInt64Array.from(v.data.map((d) => BigInt(d))), v.shape);
  const y = (await session.run(f))['output']!;
  return { dims: Array.from(y.dims), data: y.data as Float32Array };
}

describe('PyTorch exports on WASM', () => {
  beforeAll(async () => {
    await import('@axon/backend-wasm');
    await setBackend('wasm');
  });
  suite('wasm');

  it('keeps PyTorch parameter names (mlp, cnn, lstm)', () => {
    const mlp = parseOnnx(fixtureBytes('mlp'));
    expect(Object.keys(mlp.stateDict())).toEqual(['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']);
    expect(mlp.parameters()).toHaveLength(4);
    mlp.dispose();
    const cnn = parseOnnx(fixtureBytes('cnn'));
    expect(Object.keys(cnn.stateDict())).toEqual(['conv1.weight', 'conv1.bias', 'conv2.weight', 'conv2.bias', 'fc.weight', 'fc.bias']);
    cnn.dispose();
    const lstm = parseOnnx(fixtureBytes('lstm'));
    const keys = Object.keys(lstm.stateDict());
    // the file's initializer order
    expect(keys).toEqual(['emb.weight', 'fc.weight', 'fc.bias', 'onnx::LSTM_225', 'onnx::LSTM_226', 'onnx::LSTM_227', 'onnx::LSTM_249', 'onnx::LSTM_250', 'onnx::LSTM_251']);
    // the exporter's own names for the repacked LSTM weights have no '.', so they stay as they are
    expect(keys).toContain('onnx::LSTM_225');
    expect(lstm.parameterNames.get('onnx::LSTM_225')).toBe('onnx::LSTM_225');
    lstm.dispose();
  });

  for (const name of ['lstm_dynamic', 'transformer_dynamic']) {
    it(`${name}: symbolic batch and sequence axes; PyTorch's output, then other shapes against onnxruntime; fit runs`, async () => {
      const base = name.replace('_dynamic', '');
      const fx = fixture(base);
      const m = parseOnnx(fixtureBytes(name));
      expect(m.inputShapes).toEqual([[null, null]]);
      expect(m.inputShape).toBeNull();
      const y = noGrad(() => m.forward(axonTensor(fx.inputs[0]!)));
      expectAllClose(await y.data(), fx.output.data, 1e-4, 1e-5, name);
      y.dispose();
      for (const [b, t] of [[1, 3], [3, 9]] as const) {
        const data = Array.from({ length: b * t }, (_, i) => (i * 7 + 3) % 50);
        const want = await ortOutput(name, { input: { shape: [b, t], data } });
        const got = noGrad(() => m.forward(axonTensor({ shape: [b, t], dtype: 'int64', data })));
        expect(got.shape).toEqual(want.dims);
        expectAllClose(await got.data(), want.data, 1e-4, 1e-5, `${name} [${b}, ${t}]`);
        got.dispose();
      }
      // fit validates the data on one example first: a dynamic export allows it
      const x = axonTensor(fx.inputs[0]!);
      const target = zeros(fx.output.shape);
      m.compile({ optimizer: { name: 'sgd', learningRate: 0.05 }, loss: 'mse' });
      const h = await m.fit(x, target, { epochs: 3, batchSize: 2, verbose: 0 });
      expect(h.history['loss']![2]!).toBeLessThan(h.history['loss']![0]!);
      x.dispose();
      target.dispose();
      m.dispose();
    });
  }

  it('a static export runs at its exported batch only (PyTorch baked it into Reshape/Expand targets): the error names the node', () => {
    const m = parseOnnx(fixtureBytes('transformer'));
    const one = axonTensor({ shape: [1, 6], dtype: 'int64', data: [1, 2, 3, 4, 5, 6] });
    expect(() => m.forward(one)).toThrow(/Reshape '\/layers\.0\/self_attn\/Reshape': cannot reshape \[6,1,32\]/);
    one.dispose();
    m.dispose();
  });

  it('BatchNormalization running statistics are buffers, not parameters (misc)', () => {
    const m = parseOnnx(fixtureBytes('misc'));
    const params = m.namedParameters().map(([n]) => n);
    const buffers = m.namedBuffers().map(([n]) => n);
    expect(buffers).toEqual(['bn.running_mean', 'bn.running_var']);
    expect(params).not.toContain('bn.running_mean');
    expect(params).toContain('bn.weight');
    m.dispose();
  });
});

describeOnWebGPU('PyTorch exports on WebGPU', () => {
  suite('webgpu');
});
