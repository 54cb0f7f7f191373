/** The Keras front end: sequential/functional models, compile/fit/evaluate/predict, validation, memory. */
import { beforeAll, describe, expect, it } from 'vitest';
import { AxonError, memory, randn, setSeed, tensor, tidy, type Tensor } from '@axon/core';
import { Adam } from '@axon/optimizers';
import { Add, Conv2d, MaxPool2d, ReLU, Reshape, Dense, Dropout, EarlyStopping, Flatten, GraphModel, LambdaCallback, Linear, Model, ModelCheckpoint, Sequential, concatenate, input, model, sequential, type Logs } from '../src/index.js';
import { useTestBackend } from './helpers.js';

beforeAll(async () => {
  await useTestBackend();
});

/** A separable 3-class problem: class = argmax of three fixed projections. */
function blobs(n: number, seed: number): { x: Float32Array; y: Int32Array } {
  let s = seed >>> 0 || 1;
  const rnd = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  const x = new Float32Array(n * 4);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    y[i] = c;
    for (let j = 0; j < 4; j++) x[i * 4 + j] = (j === c ? 2 : 0) + (rnd() - 0.5);
  }
  return { x, y };
}

describe('sequential', () => {
  it('builds from inputShape, summarises, and infers shapes', () => {
    const m = sequential([new Flatten({ inputShape: [2, 2] }), new Dense(8, { activation: 'relu' }), new Dropout(0.2), new Dense(3, { activation: 'softmax' })]);
    expect(m.inputShape).toEqual([2, 2]);
    expect(m.countParams()).toBe(4 * 8 + 8 + 8 * 3 + 3);
    expect(m.namedParameters().map(([n]) => n)).toEqual(['1.kernel', '1.bias', '3.kernel', '3.bias']);
    const s = m.summary();
    expect(s).toContain('Output Shape');
    expect(s).toMatch(/dense\S* \(Dense\)\s+\[null, 8\]\s+40/);
    expect(s).toContain('Total params: 67');
    m.dispose();
  });

  it('a small CNN (Reshape → Conv2d → ReLU → MaxPool2d → Flatten → Dense) builds from inputShape and trains', async () => {
    setSeed(16);
    const m = sequential([
      new Reshape({ targetShape: [1, 8, 8], inputShape: [8, 8] }),
      new Conv2d(1, 4, 3, { padding: 'same' }),
      new ReLU(),
      new MaxPool2d(2),
      new Flatten(),
      new Dense(2, { activation: 'softmax' }),
    ]);
    expect(m.inputShape).toEqual([8, 8]);
    expect(m.summary()).toMatch(/max_pool2d\S* \(MaxPool2d\)\s+\[null, 4, 4, 4\]/);
    expect(m.countParams()).toBe(4 * 9 + 4 + 64 * 2 + 2);
    // class 1 = bright top half
    const n = 16;
    const x = new Float32Array(n * 64);
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      y[i] = i % 2;
      for (let p = 0; p < 64; p++) x[i * 64 + p] = (p < 32) === (y[i] === 1) ? 1 : 0;
    }
    m.compile({ optimizer: { name: 'adam', learningRate: 0.05 }, loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    const h = await m.fit(x, y, { epochs: 5, batchSize: 8, verbose: 0 });
    expect(h.history['loss']![4]!).toBeLessThan(h.history['loss']![0]!);
    expect(h.history['accuracy']![4]!).toBe(1);
    m.dispose();
  });

  it('compile + fit + evaluate + predict: a softmax classifier learns (fused logits loss), history has per-epoch logs', async () => {
    setSeed(11);
    const { x, y } = blobs(96, 3);
    const m = sequential([new Dense(16, { activation: 'relu', inputShape: [4] }), new Dense(3, { activation: 'softmax' })]);
    m.compile({ optimizer: { name: 'adam', learningRate: 0.05 }, loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    const epochs: Logs[] = [];
    const h = await m.fit(x, y, { epochs: 15, batchSize: 16, verbose: 0, callbacks: [{ onEpochEnd: (_e, logs) => void epochs.push({ ...logs }) }] });
    expect(h.history['loss']!.length).toBe(15);
    expect(h.history['accuracy']!.length).toBe(15);
    expect(epochs.length).toBe(15);
    expect(h.history['loss']![14]!).toBeLessThan(h.history['loss']![0]!);
    expect(h.history['accuracy']![14]!).toBeGreaterThan(0.9);
    const ev = await m.evaluate(x, y);
    expect(ev['accuracy']!).toBeGreaterThan(0.9);
    expect(ev['loss']!).toBeLessThan(0.5);
    const p = m.predict(x, { batchSize: 10 });
    expect(p.shape).toEqual([96, 3]);
    const rows = p.arraySync() as number[][];
    expect(Math.abs(rows[0]!.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-5); // probabilities
    p.dispose();
    m.dispose();
  });

  it('fit with a lazily-built model, validationSplit and validationData, and typed arrays', async () => {
    setSeed(12);
    const { x, y } = blobs(60, 5);
    const m = new Sequential(new Dense(8, { activation: 'tanh' }), new Dense(3));
    m.compile({ optimizer: 'adam', loss: { name: 'sparseCategoricalCrossentropy', fromLogits: true }, metrics: ['acc'] });
    const xt = tensor(x, [60, 4]);
    const yt = tensor(y, [60], 'int32');
    const h = await m.fit(xt, yt, { epochs: 2, validationSplit: 0.25, verbose: 0 });
    expect(Object.keys(h.history).sort()).toEqual(['accuracy', 'loss', 'val_accuracy', 'val_loss']);
    const h2 = await m.fit(xt, yt, { epochs: 1, validationData: [xt, yt], verbose: 0 });
    expect(h2.history['val_loss']!.length).toBe(1);
    expect(xt.isDisposed).toBe(false);
    xt.dispose();
    yt.dispose();
    m.dispose();
  });

  it('validates data before the first step', async () => {
    const m = sequential([new Dense(3, { activation: 'softmax', inputShape: [4] })]);
    await expect(m.fit(new Float32Array(8), new Int32Array(2))).rejects.toThrow(/not compiled/);
    m.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
    const before = tidy(() => m.parameters().map((p) => Array.from(p.dataSync())));
    await expect(m.fit(randn([5, 4]), tensor([0, 1, 2, 0], [4], 'int32'), { verbose: 0 })).rejects.toThrow(/fit: x has 5 examples .* but y has 4/);
    await expect(m.fit(randn([4, 5]), tensor([0, 1, 2, 0], [4], 'int32'), { verbose: 0 })).rejects.toThrow(/x has shape \[4,5\], but the model expects \[N, 4\]/);
    await expect(m.fit(randn([4, 4]), tensor([0, 1, 3, 0], [4], 'int32'), { verbose: 0 })).rejects.toThrow(/label 3 at index 2 is out of range for the model's 3 classes/);
    await expect(m.fit(randn([4, 4]), tensor([0, 1, 0.5, 0]), { verbose: 0 })).rejects.toThrow(/label 0.5 at index 2/);
    await expect(m.fit(randn([4, 4]), randn([4, 3]), { verbose: 0 })).rejects.toThrow(/for one-hot labels use categoricalCrossentropy/);
    const after = tidy(() => m.parameters().map((p) => Array.from(p.dataSync())));
    expect(after).toEqual(before);
    expect(() => m.compile({ optimizer: 'adamz', loss: 'mse' })).toThrow(AxonError);
    m.dispose();
  });

  it('fit leaks no tensors (memory() before/after), including with batch callbacks', async () => {
    setSeed(13);
    const { x, y } = blobs(48, 9);
    const xt = tensor(x, [48, 4]);
    const yt = tensor(y, [48], 'int32');
    const m = sequential([new Dense(8, { activation: 'relu', inputShape: [4] }), new Dropout(0.1), new Dense(3, { activation: 'softmax' })]);
    m.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    await m.fit(xt, yt, { epochs: 1, verbose: 0 }); // creates optimizer state
    const before = memory();
    const batchLosses: number[] = [];
    await m.fit(xt, yt, { epochs: 3, batchSize: 10, verbose: 0, validationSplit: 0.2, callbacks: [{ onBatchEnd: (_b, logs) => void batchLosses.push(logs['loss']!) }] });
    const ev = await m.evaluate(xt, yt);
    expect(ev['loss']).toBeGreaterThan(0);
    const p = m.predict(x);
    p.dispose();
    const after = memory();
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numBytes).toBe(before.numBytes);
    expect(batchLosses.length).toBe(3 * 4);
    expect(batchLosses.every((v) => Number.isFinite(v))).toBe(true);
    xt.dispose();
    yt.dispose();
    m.dispose();
  });

  it('a throwing callback rejects fit without leaking tensors', async () => {
    const m = sequential([new Dense(2, { inputShape: [2], activation: 'softmax' })]);
    m.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    const x = tensor([[0, 1], [1, 0], [1, 1], [0, 0]]);
    const y = tensor([0, 1, 1, 0], [4], 'int32');
    await m.fit(x, y, { epochs: 1, verbose: 0 });
    const before = memory().numTensors;
    await expect(m.fit(x, y, { epochs: 2, batchSize: 2, verbose: 0, callbacks: [{ onBatchEnd: (b) => { if (b === 1) throw new Error('boom'); } }] })).rejects.toThrow('boom');
    expect(memory().numTensors).toBe(before);
    x.dispose();
    y.dispose();
    m.dispose();
  });

  it('uses a given Optimizer instance and categorical / binary losses', async () => {
    setSeed(14);
    const m = sequential([new Dense(1, { activation: 'sigmoid', inputShape: [2] })]);
    const opt = new Adam(m.parameters(), { lr: 0.1 });
    m.compile({ optimizer: opt, loss: 'binaryCrossentropy', metrics: ['accuracy'] });
    const x = tensor([[0, 0], [0, 1], [1, 0], [1, 1], [2, 2], [-1, -1], [2, 1], [-1, 0]]);
    const y = tensor([[0], [0], [0], [1], [1], [0], [1], [0]]);
    const h = await m.fit(x, y, { epochs: 40, batchSize: 8, verbose: 0 });
    expect(m.optimizer).toBe(opt);
    expect(h.history['loss']![39]!).toBeLessThan(h.history['loss']![0]!);
    expect(h.history['accuracy']![39]!).toBeGreaterThanOrEqual(0.85);
    const m3 = sequential([new Dense(3, { activation: 'softmax', inputShape: [2] })]);
    m3.compile({ optimizer: 'sgd', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
    const flatOneHot = new Float32Array(8 * 3).map((_, i) => (i % 3 === Math.floor(i / 3) % 3 ? 1 : 0)); // typed array of one-hot rows
    const h3 = await m3.fit(x, flatOneHot, { epochs: 1, verbose: 0 });
    expect(h3.history['accuracy']!.length).toBe(1);
    expect((await m3.evaluate(x, flatOneHot))['loss']!).toBeGreaterThan(0);
    m3.dispose();
    const m2 = sequential([new Dense(3, { activation: 'softmax', inputShape: [2] })]);
    m2.compile({ optimizer: 'sgd', loss: 'categoricalCrossentropy' });
    const h2 = await m2.fit(x, tensor([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0], [0, 1, 0]]), { epochs: 2, verbose: 0 });
    expect(h2.history['loss']!.length).toBe(2);
    x.dispose();
    y.dispose();
    m.dispose();
    m2.dispose();
  });

  it('verbose logs one line per epoch', async () => {
    const lines: string[] = [];
    const m = sequential([new Dense(1, { inputShape: [1] })]);
    m.compile({ optimizer: 'sgd', loss: 'mse', metrics: ['mae'] });
    await m.fit(new Float32Array([1, 2, 3]), new Float32Array([2, 4, 6]), { epochs: 2, log: (l) => lines.push(l) });
    expect(lines.length).toBe(2);
    expect(lines[0]).toMatch(/^Epoch 1\/2 - [\d.]+s - loss: [\d.e-]+ - mae: [\d.e-]+$/);
    m.dispose();
  });
});

describe('custom Model subclasses', () => {
  it('a PyTorch-style subclass of Model gets compile/fit/evaluate/predict/summary', async () => {
    setSeed(15);
    class Net extends Model {
      fc1 = new Linear(4, 8);
      fc2 = new Linear(8, 3);
      forward(x: Tensor): Tensor {
        return this.fc2.call(this.fc1.call(x).relu());
      }
    }
    const { x, y } = blobs(48, 8);
    const net = new Net();
    net.compile({ optimizer: { name: 'adam', learningRate: 0.05 }, loss: { name: 'sparseCategoricalCrossentropy', fromLogits: true }, metrics: ['accuracy'] });
    const xt = tensor(x, [48, 4]);
    const h = await net.fit(xt, y, { epochs: 10, verbose: 0 });
    expect(h.history['accuracy']![9]!).toBeGreaterThan(0.8);
    const p = net.predict(xt);
    expect(p.shape).toEqual([48, 3]);
    expect(net.summary()).toContain('fc1 (Linear)');
    await expect(net.fit(tensor(x, [48, 4]).slice([0, 0], [48, 3]), y, { verbose: 0 })).rejects.toThrow(/the model cannot run on x \[48,3\]: Linear/);
    p.dispose();
    xt.dispose();
    net.dispose();
  });
});

describe('functional models', () => {
  it('S3: Input(10) -> Dense(5, relu) -> Dense(1), adam + mse: held-out MSE well below the target variance; one prediction per row', async () => {
    setSeed(3);
    const n = 400;
    const w = [0.5, -1, 0.3, 0.8, -0.2, 0.1, 0.7, -0.6, 0.2, 0.4];
    let s = 99;
    const rnd = () => {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      return s / 4294967296 - 0.5;
    };
    const xs = new Float32Array(n * 10);
    const ys = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      let t = 0;
      for (let j = 0; j < 10; j++) {
        const v = rnd() * 2;
        xs[i * 10 + j] = v;
        t += w[j]! * v;
      }
      ys[i] = t + 0.05 * rnd();
    }
    const nTrain = 320;
    const x = input({ shape: [10] });
    const h = new Dense(5, { activation: 'relu' }).call(x);
    const out = new Dense(1).call(h);
    const m = model({ inputs: x, outputs: out });
    expect(m).toBeInstanceOf(GraphModel);
    expect(m.name).toMatch(/^functional/);
    expect(out.shape).toEqual([null, 1]);
    m.compile({ optimizer: { name: 'adam', learningRate: 0.01 }, loss: 'meanSquaredError' });
    await m.fit(xs.subarray(0, nTrain * 10), ys.subarray(0, nTrain), { epochs: 10, batchSize: 32, verbose: 0 });
    const xTest = tensor(xs.slice(nTrain * 10), [n - nTrain, 10]);
    const yTest = ys.slice(nTrain);
    const pred = m.predict(xTest);
    expect(pred.shape).toEqual([n - nTrain, 1]);
    const pv = pred.dataSync();
    const mean = yTest.reduce((a, b) => a + b, 0) / yTest.length;
    const variance = yTest.reduce((a, b) => a + (b - mean) ** 2, 0) / yTest.length;
    const mse = yTest.reduce((a, b, i) => a + (b - pv[i]!) ** 2, 0) / yTest.length;
    expect(mse).toBeLessThan(0.25 * variance);
    const ev = await m.evaluate(xTest, tensor(yTest));
    expect(Math.abs(ev['loss']! - mse)).toBeLessThan(1e-3 * Math.max(1, mse));
    expect(m.summary()).toContain('InputLayer');
    pred.dispose();
    xTest.dispose();
    m.dispose();
  });

  it('merges (add, concatenate), shared layers, and shape errors', () => {
    const a = input({ shape: [4] });
    const shared = new Dense(4, { activation: 'tanh' });
    const h1 = shared.call(a);
    const h2 = shared.call(h1);
    const sum = new Add().call(h1, h2);
    const cat = concatenate([sum, a]);
    expect(cat.shape).toEqual([null, 8]);
    const out = new Dense(2).call(cat);
    const m = model({ inputs: a, outputs: out });
    expect(m.namedParameters().length).toBe(4);
    const x = randn([3, 4]);
    const y = m.call(x);
    expect(y.shape).toEqual([3, 2]);
    expect(() => m.call(randn([3, 5]))).toThrow(/expects \[batch, 4\], got \[3,5\]/);
    expect(() => new Add().call(a, cat)).toThrow(/different shapes/);
    expect(() => model({ inputs: a, outputs: input({ shape: [2] }) })).toThrow(/not among the model's inputs/);
    y.dispose();
    x.dispose();
    m.dispose();
  });
});

describe('callbacks', () => {
  it('EarlyStopping stops when val_loss stops improving and restores the best weights', async () => {
    setSeed(21);
    const { x, y } = blobs(30, 2);
    const m = sequential([new Dense(3, { inputShape: [4] })]);
    m.compile({ optimizer: { name: 'sgd', learningRate: 0.01 }, loss: { name: 'sparseCategoricalCrossentropy', fromLogits: true } });
    // validation labels that the training labels contradict, so val_loss rises
    const yBad = Int32Array.from(y, (v) => (v + 1) % 3);
    const es = new EarlyStopping({ monitor: 'val_loss', patience: 2, restoreBestWeights: true });
    const snapshots: number[][] = [];
    const h = await m.fit(x, y, {
      epochs: 50,
      verbose: 0,
      validationData: [x, yBad],
      callbacks: [es, new LambdaCallback({ onEpochEnd: () => void snapshots.push(Array.from(m.parameters()[0]!.dataSync())) })],
    });
    expect(h.epoch.length).toBeLessThan(50);
    expect(es.stoppedEpoch).toBe(h.epoch.length - 1);
    const best = es.bestEpoch;
    expect(Array.from(m.parameters()[0]!.dataSync())).toEqual(snapshots[best]);
    m.dispose();
  });

  it('ModelCheckpoint with saveBestOnly calls the saver only on improvement', async () => {
    const saved: string[] = [];
    const m = sequential([new Dense(1, { inputShape: [1] })]);
    m.compile({ optimizer: { name: 'sgd', learningRate: 0.05 }, loss: 'mse' });
    const ck = new ModelCheckpoint({ path: 'ckpt-{epoch}', monitor: 'loss', saveBestOnly: true, saver: async (_m, p) => void saved.push(p) });
    await m.fit(new Float32Array([1, 2, 3, 4]), new Float32Array([2, 4, 6, 8]), { epochs: 4, verbose: 0, shuffle: false, callbacks: [ck] });
    expect(saved).toEqual(['ckpt-1', 'ckpt-2', 'ckpt-3', 'ckpt-4']);
    m.dispose();
  });
});

describe('datasets', () => {
  it('fit/evaluate take an @axon/datasets pipeline (fromArrays → shuffle → batch, and toTensors)', async () => {
    setSeed(32);
    const { fromArrays } = await import('@axon/datasets');
    const { x, y } = blobs(90, 6);
    const ds = fromArrays({ x: { data: x, shape: [90, 4] }, y });
    const m = sequential([new Dense(8, { activation: 'relu', inputShape: [4] }), new Dense(3, { activation: 'softmax' })]);
    m.compile({ optimizer: { name: 'adam', learningRate: 0.05 }, loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    const before = memory().numTensors;
    const h = await m.fit(ds.shuffle(1).batch(16), { epochs: 8, verbose: 0 });
    expect(h.history['accuracy']![7]!).toBeGreaterThan(0.8);
    const ev = await m.evaluate(ds.batch(32).toTensors());
    expect(ev['accuracy']!).toBeGreaterThan(0.8);
    expect(memory().numTensors).toBe(before + 2 * m.parameters().length);
    m.dispose();
  });

  it('fit/evaluate accept a dataset of { x, y } batches (host arrays or tensors) and dispose them', async () => {
    setSeed(31);
    const { x, y } = blobs(64, 4);
    const batches = (): { x: { data: Float32Array; shape: number[]; dtype: 'float32' }; y: { data: Int32Array; shape: number[]; dtype: 'int32' } }[] => {
      const out = [];
      for (let i = 0; i < 64; i += 16) out.push({ x: { data: x.slice(i * 4, (i + 16) * 4), shape: [16, 4], dtype: 'float32' as const }, y: { data: y.slice(i, i + 16), shape: [16], dtype: 'int32' as const } });
      return out;
    };
    const ds = { async *[Symbol.asyncIterator]() { yield* batches(); } };
    const m = sequential([new Dense(8, { activation: 'relu' }), new Dense(3, { activation: 'softmax' })]);
    m.compile({ optimizer: { name: 'adam', learningRate: 0.05 }, loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    const h = await m.fit(ds, { epochs: 10, verbose: 0, validationData: ds });
    expect(h.history['accuracy']![9]!).toBeGreaterThan(0.8);
    expect(h.history['val_accuracy']!.length).toBe(10);
    const before = memory().numTensors;
    const tensorDs = { async *[Symbol.asyncIterator]() { for (const b of batches()) yield { x: tensor(b.x.data, b.x.shape), y: tensor(b.y.data, b.y.shape, 'int32') }; } };
    await m.fit(tensorDs, { epochs: 1, verbose: 0 });
    const ev = await m.evaluate(tensorDs);
    expect(ev['accuracy']!).toBeGreaterThan(0.8);
    expect(memory().numTensors).toBe(before);
    const bad = { async *[Symbol.asyncIterator]() { yield { x: { data: x.slice(0, 8), shape: [2, 4], dtype: 'float32' as const }, y: { data: new Int32Array([0, 7]), shape: [2], dtype: 'int32' as const } }; } };
    await expect(m.fit(bad, { verbose: 0 })).rejects.toThrow(/label 7 at index 1 is out of range/);
    m.dispose();
  });
});

export type { Tensor };
