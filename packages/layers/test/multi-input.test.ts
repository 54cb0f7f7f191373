/** fit / evaluate / predict of functional models with several inputs (arrays of tensors, in the order of `inputs`). */
import { beforeAll, describe, expect, it } from 'vitest';
import { AxonError, memory, noGrad, ones, randn, setSeed, type Tensor } from '@axon/core';
import { Dense, KerasLSTM, concatenate, input, model, sequential, type GraphModel } from '../src/index.js';
import { useTestBackend } from './helpers.js';

beforeAll(async () => {
  await useTestBackend();
});

/** Two Dense branches (inputs [4] and [2]) concatenated into one regression output. */
function twoBranch(): GraphModel {
  const a = input({ shape: [4], name: 'left' });
  const b = input({ shape: [2], name: 'right' });
  const h = concatenate([new Dense(3, { activation: 'tanh' }).call(a), new Dense(3, { activation: 'tanh' }).call(b)]);
  return model({ inputs: [a, b], outputs: new Dense(1).call(h) });
}

/** y = sum(xa) - 2·xb[:, 0]: learnable from both inputs (neither alone). */
function data(n: number): { xa: Tensor; xb: Tensor; y: Tensor } {
  const xa = randn([n, 4]);
  const xb = randn([n, 2]);
  const y = noGrad(() => xa.sum(-1, true).sub(xb.slice([0, 0], [n, 1]).mul(2)).mul(0.3));
  return { xa, xb, y };
}

function free(...ts: Tensor[]): void {
  for (const t of ts) t.dispose();
}

describe('multi-input functional models', () => {
  it('fit trains on [xa, xb] (shuffled, batched, validationSplit) and the loss falls', async () => {
    setSeed(1);
    const m = twoBranch();
    m.compile({ optimizer: { name: 'adam', learningRate: 0.03 }, loss: 'mse', metrics: ['mae'] });
    const { xa, xb, y } = data(96);
    const h = await m.fit([xa, xb], y, { epochs: 25, batchSize: 16, validationSplit: 0.25, verbose: 0, seed: 3 });
    const loss = h.history.loss!;
    expect(Object.keys(h.history)).toEqual(['loss', 'mae', 'val_loss', 'val_mae']);
    expect(loss[loss.length - 1]!).toBeLessThan(loss[0]! * 0.3);
    expect(h.history.val_loss![24]!).toBeLessThan(h.history.val_loss![0]!);
    free(xa, xb, y);
    m.dispose();
  });

  it('the compiled and uncompiled steps agree on several inputs', async () => {
    const run = async (compile: boolean): Promise<number[]> => {
      setSeed(7);
      const m = twoBranch();
      m.compile({ optimizer: 'sgd', loss: 'mse' });
      const { xa, xb, y } = data(32);
      const h = await m.fit([xa, xb], y, { epochs: 3, batchSize: 8, verbose: 0, seed: 5, compile });
      free(xa, xb, y);
      m.dispose();
      return h.history.loss!;
    };
    const a = await run(true);
    const b = await run(false);
    a.forEach((v, i) => expect(v).toBeCloseTo(b[i]!, 5));
  });

  it('evaluate([xa, xb], y) equals the loss computed by hand from forward', async () => {
    setSeed(2);
    const m = twoBranch();
    m.compile({ optimizer: 'sgd', loss: 'mse', metrics: ['mae'] });
    const { xa, xb, y } = data(21);
    const logs = await m.evaluate([xa, xb], y, { batchSize: 8 }); // 8 + 8 + 5 rows
    const out = noGrad(() => m.forward(xa, xb));
    const diff = noGrad(() => out.sub(y));
    const mse = noGrad(() => diff.square().mean());
    const mae = noGrad(() => diff.abs().mean());
    expect(logs.loss!).toBeCloseTo(mse.item(), 5);
    expect(logs.mae!).toBeCloseTo(mae.item(), 5);
    free(xa, xb, y, out, diff, mse, mae);
    m.dispose();
  });

  it('predict([xa, xb]) equals forward, in one batch and in several', () => {
    setSeed(3);
    const m = twoBranch();
    const { xa, xb, y } = data(10);
    const want = noGrad(() => m.forward(xa, xb));
    const before = memory().numTensors;
    for (const batchSize of [32, 3]) {
      const got = m.predict([xa, xb], { batchSize });
      expect(got.shape).toEqual([10, 1]);
      const w = want.dataSync();
      got.dataSync().forEach((v, i) => expect(v).toBeCloseTo(w[i]!, 5));
      got.dispose();
    }
    expect(memory().numTensors).toBe(before);
    free(xa, xb, y, want);
    m.dispose();
  });

  it('refuses inputs with different batch sizes, the wrong count or shapes, before allocating anything', async () => {
    const m = twoBranch();
    m.compile({ optimizer: 'sgd', loss: 'mse' });
    const xa = randn([8, 4]);
    const xb = randn([7, 2]);
    const xbWide = randn([8, 3]);
    const y = randn([8, 1]);
    const before = memory();
    await expect(m.fit([xa, xb], y, { verbose: 0 })).rejects.toThrow(/same batch size: x\[0\] \(input 'left'\) has 8 examples \[8,4\], x\[1\] \(input 'right'\) has 7 \[7,2\]/);
    await expect(m.evaluate([xa, xb], y)).rejects.toThrow(AxonError);
    expect(() => m.predict([xa, xb])).toThrow(/x\[1\] \(input 'right'\) has 7/);
    await expect(m.fit([xa], y, { verbose: 0 })).rejects.toThrow(/has 1 tensors, but the model has 2 input/);
    await expect(m.fit(xa, y, { verbose: 0 })).rejects.toThrow(/the model has 2 inputs: give x as an array of 2 tensors/);
    expect(() => m.predict([xa, xbWide])).toThrow(/x\[1\] \(input 'right'\) has shape \[8,3\], but the model expects \[N, 2\]/);
    await expect(m.fit([xa, randn([8, 2])], y, { verbose: 0, validationData: [[xa, xb], y] })).rejects.toThrow(/validationData x x\[1\] \(input 'right'\) has 7/);
    expect(m.optimizer).toBeNull(); // nothing was set up
    const after = memory();
    expect(after.numTensors).toBe(before.numTensors + 1); // the randn in the last call only
    free(xa, xb, xbWide, y);
    m.dispose();
  });

  it('fit, evaluate and predict on several inputs leak no tensors', async () => {
    setSeed(4);
    const m = twoBranch();
    m.compile({ optimizer: 'adam', loss: 'mse' });
    const { xa, xb, y } = data(20);
    await m.fit([xa, xb], y, { epochs: 1, batchSize: 8, verbose: 0 }); // creates the optimizer state
    const before = memory();
    await m.fit([xa, xb], y, { epochs: 2, batchSize: 8, validationSplit: 0.2, verbose: 0, callbacks: [{ onBatchEnd: (_b, logs) => void logs.loss }] });
    await m.evaluate([xa, xb], y, { batchSize: 7 });
    m.predict([xa, xb], { batchSize: 6 }).dispose();
    const after = memory();
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numBytes).toBe(before.numBytes);
    free(xa, xb, y);
    m.dispose();
  });

  it('a single-input model still takes one tensor, and [x] as well', async () => {
    setSeed(5);
    const m = sequential([new Dense(1, { inputShape: [3] })]);
    m.compile({ optimizer: 'sgd', loss: 'mse' });
    const x = randn([6, 3]);
    const y = randn([6, 1]);
    const a = await m.evaluate(x, y);
    const b = await m.evaluate([x], y);
    expect(b.loss).toBeCloseTo(a.loss!, 6);
    expect(m.exampleShapes).toEqual([[3]]);
    free(x, y);
    m.dispose();
  });

  it('trains the seq2seq model (encoder states start the decoder) with fit', async () => {
    setSeed(6);
    const encIn = input({ shape: [5, 3], name: 'encoder_in' });
    const decIn = input({ shape: [4, 2], name: 'decoder_in' });
    const [, h, c] = new KerasLSTM(8, { returnState: true }).call(encIn);
    const [decOut] = new KerasLSTM(8, { returnSequences: true, returnState: true }).call(decIn, { initialState: [h!, c!] });
    const s2s = model({ inputs: [encIn, decIn], outputs: new Dense(6, { activation: 'softmax' }).call(decOut!) });
    expect(s2s.exampleShapes).toEqual([[5, 3], [4, 2]]);
    s2s.compile({ optimizer: { name: 'adam', learningRate: 0.02 }, loss: 'sparseCategoricalCrossentropy' });
    const xEnc = randn([24, 5, 3]);
    const xDec = randn([24, 4, 2]);
    // targets depend on the encoder input: the decoder learns them only through the states
    const yTok = noGrad(() => xEnc.sum(1).argmax(-1).reshape([24, 1]).astype('float32').mul(ones([1, 4])).astype('int32'));
    const hist = await s2s.fit([xEnc, xDec], yTok, { epochs: 15, batchSize: 8, verbose: 0, seed: 1 });
    const loss = hist.history.loss!;
    expect(loss[14]!).toBeLessThan(loss[0]! * 0.7);
    const p = s2s.predict([xEnc, xDec]);
    expect(p.shape).toEqual([24, 4, 6]);
    p.dispose();
    free(xEnc, xDec, yTok);
    s2s.dispose();
  });
});
