/**
 * exportOnnx / toOnnx: the four model kinds (MLP, CNN, recurrent, transformer) and the ops they are
 * made of, exported from Axon and run by the reference runtime (onnxruntime-node, CPU); outputs
 * must match Axon's within rtol 1e-4 (atol 1e-5). On WASM and on WebGPU (lavapipe in CI;
 * AXON_SKIP_WEBGPU=1 skips it where there is no Vulkan).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { AxonError, type Tensor, clip, concat, ones, cumsum, getBackend, hardSwish, leakyRelu, logSoftmax, memory, mish, pad, randint, randn, selu, setBackend, setSeed, silu, softmax, softsign, tensor, tidy, unfold, where, window2d } from '@axon/core';
import '@axon/autograd';
import {
  AvgPool1d,
  BatchNorm2d,
  Conv1d,
  Conv2d,
  KerasLSTM,
  MultiheadAttention,
  Dense,
  Embedding,
  GELU,
  LSTM,
  GRU,
  LayerNorm,
  Linear,
  MaxPool2d,
  Module,
  ReLU,
  Sequential,
  Sigmoid,
  Tanh,
  TransformerEncoderLayer,
  gpt,
  mnistCnn,
  mnistMlp,
  sequential,
} from '@axon/layers';
import ort from 'onnxruntime-node';
import { type ExportOnnxOptions, toOnnx } from '../src/index.js';
import { decodeModel } from '../src/proto.js';
import { describeOnWebGPU, expectAllClose } from './import-helpers.js';

/** An LSTM classifier: Embedding → 2-layer LSTM → Linear on the last step. */
class LstmClassifier extends Module {
  emb = new Embedding(20, 8);
  lstm = new LSTM(8, 12, { numLayers: 2, batchFirst: true });
  fc = new Linear(12, 3);
  forward(ids: Tensor): Tensor {
    const [out] = this.lstm.forward(this.emb.forward(ids));
    const T = out.shape[1]!;
    return this.fc.forward(out.slice([0, T - 1, 0], [out.shape[0]!, 1, out.shape[2]!]).reshape([out.shape[0]!, out.shape[2]!]));
  }
}

/** A GRU over features. */
class GruNet extends Module {
  gru = new GRU(4, 6, { batchFirst: true, bidirectional: true });
  forward(x: Tensor): Tensor {
    return this.gru.forward(x)[0];
  }
}

/** A small transformer encoder classifier. */
class Encoder extends Module {
  emb = new Embedding(30, 16);
  layer0 = new TransformerEncoderLayer(16, 4, { dimFeedforward: 32, dropout: 0, batchFirst: true, activation: 'gelu' });
  layer1 = new TransformerEncoderLayer(16, 4, { dimFeedforward: 32, dropout: 0, batchFirst: true, normFirst: true });
  norm = new LayerNorm(16);
  head = new Linear(16, 5);
  forward(ids: Tensor): Tensor {
    return this.head.forward(this.norm.forward(this.layer1.forward(this.layer0.forward(this.emb.forward(ids)))));
  }
}

/** Ops the four kinds use less often: 1-D convs and pools, padding with a value, table ops, softmaxes. */
class Assorted extends Module {
  conv = new Conv1d(3, 4, 3, { padding: 1 });
  pool = new AvgPool1d(2);
  forward(x: Tensor): Tensor {
    let y = this.pool.forward(this.conv.forward(x)); // [2, 4, 3]
    y = pad(y, [[0, 0], [0, 0], [1, 2]], 0.5);
    y = concat([silu(y), mish(y), hardSwish(y), softsign(y), selu(y), clip(y, -0.2, 0.3), leakyRelu(y, 0.1), softmax(y, 1), logSoftmax(y, -1)], 1);
    return y.max(2).add(y.mean(2)).sub(y.min(2)).mul(y.sum(2).abs().add(1).sqrt());
  }
}

/** Multi-head self-attention with a float key-padding mask from a second input, and a Keras LSTM. */
class TwoInputs extends Module {
  mha = new MultiheadAttention(8, 2, { batchFirst: true });
  lstm = new KerasLSTM(5, { returnSequences: true });
  forward(x: Tensor, keep: Tensor): Tensor {
    const [a] = this.mha.forward(x, x, x, { keyPaddingMask: keep.lt(0.5), needWeights: false });
    return this.lstm.call(a) as Tensor;
  }
}

interface Case {
  readonly name: string;
  readonly model: () => Module;
  readonly input: () => Tensor;
  /** Node counts the file must have (recurrent layers are one node per layer, not unrolled). */
  readonly nodes?: Readonly<Record<string, number>>;
}

const CASES: readonly Case[] = [
  { name: 'PyTorch-front MLP', model: () => new Sequential(new Linear(10, 16), new ReLU(), new Linear(16, 4), new Sigmoid()), input: () => randn([3, 10]) },
  { name: 'Keras MNIST MLP (mnistMlp)', model: () => mnistMlp(), input: () => randn([2, 28, 28]) },
  { name: 'Keras MNIST CNN (mnistCnn)', model: () => mnistCnn(), input: () => randn([2, 28, 28]) },
  {
    name: 'CNN with BatchNorm, padding, stride and groups',
    model: () => new Sequential(new Conv2d(4, 8, 3, { padding: 1, stride: 2 }), new BatchNorm2d(8), new Tanh(), new Conv2d(8, 8, 3, { groups: 2, padding: 'same' }), new MaxPool2d(2, { stride: 1 })),
    input: () => randn([2, 4, 9, 9]),
  },
  { name: 'LSTM classifier (Embedding, 2 layers)', model: () => new LstmClassifier(), input: () => randint(0, 20, [2, 5]), nodes: { LSTM: 2, MatMul: 1 } },
  { name: 'bidirectional GRU', model: () => new GruNet(), input: () => randn([2, 4, 4]), nodes: { GRU: 1, MatMul: 0 } },
  { name: 'transformer encoder (2 layers, GELU, norm first)', model: () => new Encoder(), input: () => randint(0, 30, [2, 7]) },
  { name: 'GPT (causal attention)', model: () => gpt({ vocabSize: 17, contextLength: 8, width: 16, heads: 2, layers: 2 }), input: () => randint(0, 17, [2, 6]) },
  { name: 'assorted ops (Conv1d, AvgPool1d, pad with a value, table ops, reductions, softmaxes)', model: () => new Assorted(), input: () => randn([2, 3, 7]) },
  { name: 'Keras Dense with GELU and a leaky final layer', model: () => sequential([new Dense(6, { inputShape: [5], activation: 'relu' }), new GELU(), new Dense(3, { activation: 'softmax' })]), input: () => randn([4, 5]) },
];

async function ortRun(bytes: Uint8Array, x: Tensor): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const session = await ort.InferenceSession.create(bytes);
  const data = await x.data();
  const feed = x.dtype === 'int32' ? new ort.Tensor('int32', data as Int32Array, [...x.shape]) : new ort.Tensor('float32', data as Float32Array, [...x.shape]);
  const r = await session.run({ [session.inputNames[0]!]: feed });
  const out = r[session.outputNames[0]!]!;
  return { data: out.data as Float32Array, dims: out.dims };
}


function suite(backend: string): void {
  for (const c of CASES) {
    it(`${c.name}: onnxruntime gives Axon's outputs`, async () => {
      await setBackend(backend);
      setSeed(1);
      const m = c.model();
      const x = c.input();
      const before = memory();
      const bytes = await toOnnx(m, x);
      expect(memory().numTensors).toBe(before.numTensors);
      m.eval();
      const y = tidy(() => (m.forward as (t: Tensor) => Tensor)(x));
      const want = (await y.data()) as Float32Array;
      const got = await ortRun(bytes, x);
      expect([...got.dims]).toEqual(y.shape);
      expectAllClose(got.data, want, 1e-4, 1e-5, c.name);
      const proto = decodeModel('test', bytes);
      expect(proto.opsetImport?.[0]?.version).toBe(17);
      for (const [op, k] of Object.entries(c.nodes ?? {})) expect(proto.graph!.node!.filter((n) => n.opType === op).length, `${op} nodes`).toBe(k);
      // parameters keep their state-dict names
      const inits = new Set(proto.graph!.initializer!.map((t) => t.name));
      for (const name of Object.keys(m.stateDict())) if (!name.endsWith('num_batches_tracked') && !name.endsWith('numBatchesTracked')) expect(inits.has(name), name).toBe(true);
      y.dispose();
      x.dispose();
      m.dispose?.();
    });
  }
}

describe('toOnnx on WASM', () => {
  beforeAll(async () => {
    await import('@axon/backend-wasm');
    await setBackend('wasm');
  });
  suite('wasm');

  it('two inputs: attention with a mask computed from the second, then a Keras LSTM', async () => {
    setSeed(3);
    const m = new TwoInputs();
    m.eval();
    const x = randn([2, 4, 8]);
    const keep = tensor([[1, 1, 1, 0], [1, 1, 0, 0]]);
    const bytes = await toOnnx(m, [x, keep], { inputNames: ['x', 'keep'] });
    const y = m.forward(x, keep);
    const session = await ort.InferenceSession.create(bytes);
    const r = await session.run({ x: new ort.Tensor('float32', (await x.data()) as Float32Array, [2, 4, 8]), keep: new ort.Tensor('float32', (await keep.data()) as Float32Array, [2, 4]) });
    expectAllClose(r[session.outputNames[0]!]!.data as Float32Array, (await y.data()) as Float32Array, 1e-4, 1e-5, 'two inputs');
    // the mask follows the input: a different `keep` gives Axon's answer for it
    const keep2 = tensor([[1, 0, 1, 1], [1, 1, 1, 1]]);
    const r2 = await session.run({ x: new ort.Tensor('float32', (await x.data()) as Float32Array, [2, 4, 8]), keep: new ort.Tensor('float32', (await keep2.data()) as Float32Array, [2, 4]) });
    expectAllClose(r2[session.outputNames[0]!]!.data as Float32Array, (await m.forward(x, keep2).data()) as Float32Array, 1e-4, 1e-5, 'two inputs, another mask');
  });

  it('dynamicBatch: the exported MLP, CNN, transformer and GPT run at other batch sizes in onnxruntime', async () => {
    const cases: [string, () => Module, (b: number) => Tensor][] = [
      ['mlp', () => mnistMlp(), (b) => randn([b, 28, 28])],
      ['cnn', () => mnistCnn(), (b) => randn([b, 28, 28])],
      ['encoder', () => new Encoder(), (b) => randint(0, 30, [b, 7])],
      ['gpt', () => gpt({ vocabSize: 17, contextLength: 8, width: 16, heads: 2, layers: 1 }), (b) => randint(0, 17, [b, 6])],
    ];
    for (const [name, make, input] of cases) {
      setSeed(4);
      const m = make();
      m.eval();
      const bytes = await toOnnx(m, input(2), { dynamicBatch: true });
      const g = decodeModel('t', bytes).graph!;
      expect(g.input![0]!.type!.tensorType!.shape!.dim![0]!.dimParam, name).toBe('batch');
      expect(g.output![0]!.type!.tensorType!.shape!.dim![0]!.dimParam, name).toBe('batch');
      for (const b of [1, 5]) {
        const x = input(b);
        const got = await ortRun(bytes, x);
        expect([...got.dims], `${name} at batch ${b}`).toEqual((m.forward as (t: Tensor) => Tensor)(x).shape);
        expectAllClose(got.data, (await (m.forward as (t: Tensor) => Tensor)(x).data()) as Float32Array, 1e-4, 1e-5, `${name} at batch ${b}`);
      }
    }
  });

  it('dynamicBatch refuses a graph that depends on the batch size, naming where', async () => {
    // a [batch, features] constant
    class BatchConstant extends Module {
      forward(x: Tensor): Tensor {
        return x.add(ones(x.shape));
      }
    }
    await expect(toOnnx(new BatchConstant(), randn([2, 3]), { dynamicBatch: true })).rejects.toThrow(/dynamicBatch: the graph depends on the batch size at node \d+ \(/);
    // recurrent layers are ONNX nodes whose zero initial state is implicit: they export with a dynamic batch
    await expect(toOnnx(new LstmClassifier(), randint(0, 20, [2, 5]), { dynamicBatch: true })).resolves.toBeInstanceOf(Uint8Array);
    await expect(toOnnx(new Linear(2, 2), [randn([2, 2])], { dynamicBatch: 'yes' as unknown as boolean })).rejects.toThrow(/dynamicBatch must be a boolean/);
    await expect(toOnnx(new Linear(2, 2), randn([0, 2]), { dynamicBatch: true })).rejects.toThrow(/same non-zero leading/);
  });

  it('initializers are the parameters, in stateDict() order; constants are Constant nodes', async () => {
    const m = new Sequential(new Linear(3, 4), new ReLU(), new Linear(4, 2), new LayerNorm(2));
    const bytes = await toOnnx(m, randn([2, 3]));
    const g = decodeModel('t', bytes).graph!;
    expect(g.initializer!.map((t) => t.name)).toEqual(Object.keys(m.stateDict()));
    expect(g.node!.some((n) => n.opType === 'Constant')).toBe(true);
  });

  it('opset 18 (Reduce ops take axes as an input) runs in onnxruntime', async () => {
    const m = new Sequential(new Linear(6, 6), new LayerNorm(6));
    const x = randn([3, 6]);
    const bytes = await toOnnx(m, x, { opset: 18 });
    const y = m.forward(x);
    expectAllClose((await ortRun(bytes, x)).data, (await y.data()) as Float32Array, 1e-4, 1e-5, 'opset 18');
    expect(decodeModel('t', bytes).opsetImport![0]!.version).toBe(18);
  });

  it('restores training mode and leaves no tensors behind', async () => {
    const m = mnistMlp();
    m.train();
    const x = randn([1, 28, 28]);
    const before = memory();
    await toOnnx(m, x);
    expect(m.modules().every((s) => s.training)).toBe(true);
    expect(memory().numTensors).toBe(before.numTensors);
    expect(memory().numBytes).toBe(before.numBytes);
  });

  it('a value computed from the input by comparisons (a padding mask) stays in the graph', async () => {
    class Masked extends Module {
      forward(x: Tensor): Tensor {
        return where(x.gt(0), x.mul(2), -1);
      }
    }
    const x = tensor([[-1, 2, 0.5, -3]]);
    const bytes = await toOnnx(new Masked(), x);
    const other = tensor([[3, -2, -0.5, 1]]);
    expect([...(await ortRun(bytes, other)).data]).toEqual([6, -1, -1, 2]);
  });

  it('a forward that reads a value computed from the input on the host is refused, not frozen into a constant', async () => {
    class Reads extends Module {
      forward(x: Tensor): Tensor {
        const m = x.max().item(); // host read of an input-dependent value
        return x.div(m);
      }
    }
    const x = randn([2, 3]);
    const before = memory().numTensors;
    await expect(toOnnx(new Reads(), x)).rejects.toThrow(/reads the values of a tensor computed from its inputs on the host \(float32 \[\]/);
    expect(memory().numTensors).toBe(before); // nothing leaks when the trace fails
    // reads that only validate input (Embedding's index range check) are fine
    const emb = new Embedding(5, 2);
    await expect(toOnnx(emb, tensor([[1, 4]], [1, 2], 'int32'))).resolves.toBeInstanceOf(Uint8Array);
  });

  it('bad arguments are AxonErrors', async () => {
    const m = new Linear(2, 2);
    await expect(toOnnx(m, 'x' as unknown as Tensor)).rejects.toThrow(AxonError);
    await expect(toOnnx({} as Module, randn([1, 2]))).rejects.toThrow(/expects a Module/);
    await expect(toOnnx(m, randn([1, 2]), { opset: 11 })).rejects.toThrow(/opset must be one of 17, 18/);
    await expect(toOnnx(m, randn([1, 2]), { inputNames: ['a', 'b'] })).rejects.toThrow(/inputNames must be 1 distinct/);
    await expect(toOnnx(m, randn([1, 2]), { stride: 0 } as unknown as ExportOnnxOptions)).rejects.toThrow(/unknown option 'stride' \(options: opset, inputNames/);
    await expect(toOnnx(m, randn([1, 2]), randn([1]) as unknown as ExportOnnxOptions)).rejects.toThrow(/options must be an object/);
    await expect(toOnnx(m, randn([1, 2]), { docString: Symbol('s') as unknown as string })).rejects.toThrow(/docString must be a string/);
    const x = randn([1, 2]);
    x.dispose();
    await expect(toOnnx(m, x)).rejects.toThrow(/disposed/);
  });

  it('an op without an ONNX equivalent names itself', async () => {
    class Unfolds extends Module {
      forward(x: Tensor): Tensor {
        return unfold(x, window2d('unfold', x.shape, [2, 2], 1, 0, 1));
      }
    }
    await expect(toOnnx(new Unfolds(), randn([1, 1, 3, 3]))).rejects.toThrow(/op 'im2col' .* cannot be exported to ONNX \(unfold\/fold outside conv2d\)/);
  });

  it('composite ops made of exportable ops export (cumsum)', async () => {
    class Cumsum extends Module {
      forward(x: Tensor): Tensor {
        return cumsum(x, 1);
      }
    }
    const x = randn([2, 5]);
    const bytes = await toOnnx(new Cumsum(), x);
    const y = await cumsum(x, 1).data();
    expectAllClose((await ortRun(bytes, x)).data, y as Float32Array, 1e-4, 1e-5, 'cumsum');
  });

  it('the backend is restored to WASM', () => {
    expect(getBackend().name).toBe('wasm');
  });
});

describeOnWebGPU('toOnnx on WebGPU', () => {
  suite('webgpu');
});
