/** Issue 9, item 6 (layers part): names resolve through own keys only; Embedding ids; BCE ranges. */
import { beforeAll, describe, expect, it } from 'vitest';
import { AxonError, memory, tensor } from '@axon/core';
import {
  Activation, BCELoss, Dense, Embedding, activationName, binaryCrossEntropy, getActivation, getInitializer, getLoss, getMetric, modelFromJson, sequential,
} from '../src/index.js';
import { useTestBackend } from './helpers.js';

beforeAll(async () => {
  await useTestBackend();
});

const PROTO_NAMES = ['toString', 'constructor', 'hasOwnProperty', 'valueOf', '__proto__', 'isPrototypeOf'];

describe('names resolve only through own keys', () => {
  it.each(PROTO_NAMES)('%s is not an activation, initializer, loss, metric, optimizer or layer class', (name) => {
    expect(() => activationName(name)).toThrow(/unknown activation/);
    expect(() => getActivation(name)).toThrow(AxonError);
    expect(() => new Dense(2, { activation: name })).toThrow(/unknown activation/);
    expect(() => new Activation(name)).toThrow(/unknown activation/);
    expect(() => getInitializer(name)).toThrow(/unknown initializer/);
    expect(() => new Dense(2, { kernelInitializer: name as never, inputShape: [2] })).toThrow(/unknown initializer/);
    expect(() => getLoss(name)).toThrow(/unknown loss/);
    expect(() => getLoss({ name })).toThrow(/unknown loss/);
    expect(() => getMetric(name)).toThrow(/unknown metric/);
    const m = sequential([new Dense(1, { inputShape: [1] })]);
    expect(() => m.compile({ optimizer: name, loss: 'mse' })).toThrow(/unknown optimizer/);
    expect(() => m.compile({ optimizer: 'sgd', loss: name })).toThrow(/unknown loss/);
    expect(() => m.compile({ optimizer: 'sgd', loss: 'mse', metrics: [name] })).toThrow(/unknown metric/);
    m.dispose();
    const before = memory().numTensors;
    expect(() => modelFromJson({ format: 'axon-model/1', className: name, name: 'x', config: {} })).toThrow(/unknown layer class/);
    const viaConfig = { format: 'axon-model/1', className: 'Sequential', name: 's', config: { layers: [{ className: 'Dense', name: 'd', config: { units: 2, inputDim: 2, activation: name } }] } };
    expect(() => modelFromJson(viaConfig)).toThrow(/unknown activation/);
    const viaActivation = { format: 'axon-model/1', className: 'Sequential', name: 's', config: { layers: [{ className: 'Activation', name: 'a', config: { activation: name } }] } };
    expect(() => modelFromJson(viaActivation)).toThrow(/unknown activation/);
    expect(memory().numTensors).toBe(before);
  });

  it('real names still resolve (camelCase and snake_case)', () => {
    expect(activationName('leaky_relu')).toBe('leakyRelu');
    expect(typeof getInitializer('he_normal')).toBe('function');
    expect(getLoss('sparse_categorical_crossentropy').kind).toBe('sparseCategorical');
    expect(getMetric('acc').name).toBe('accuracy');
  });
});

describe('Embedding ids', () => {
  it('rejects float and bool ids with an AxonError naming the layer and dtype (PyTorch raises for float indices)', () => {
    const emb = new Embedding({ inputDim: 10, outputDim: 3, name: 'tokens' });
    const f = tensor([1.7, 2], [2]);
    expect(() => emb.call(f)).toThrow(/Embedding 'tokens': expects int32 ids, got float32 \[2\]/);
    const b = tensor([1, 0], [2], 'bool');
    expect(() => emb.call(b)).toThrow(/expects int32 ids, got bool/);
    const ok = tensor([1, 2], [2], 'int32');
    const y = emb.call(ok);
    expect(y.shape).toEqual([2, 3]);
    for (const t of [f, b, ok, y]) t.dispose();
    emb.dispose();
  });
});

describe('binary cross-entropy ranges', () => {
  it('probabilities and targets outside [0, 1] are errors, as in PyTorch', () => {
    const p = tensor([0.2, 1.5]);
    const t = tensor([0, 1]);
    expect(() => binaryCrossEntropy(p, t)).toThrow(/binaryCrossEntropy: all elements of input should be between 0 and 1; element 1 of input \[2\] float32 is 1\.5/);
    const neg = tensor([-0.1, 0.5]);
    expect(() => new BCELoss().call(neg, t)).toThrow(/element 0 of input .* is -0\.1/);
    const nan = tensor([NaN, 0.5]);
    expect(() => binaryCrossEntropy(nan, t)).toThrow(/is NaN/);
    const good = tensor([0.2, 0.9]);
    const badT = tensor([0, 2]);
    expect(() => binaryCrossEntropy(good, badT)).toThrow(/all elements of target should be between 0 and 1; element 1 of target \[2\] float32 is 2/);
    const l = binaryCrossEntropy(good, t);
    expect(l.item()).toBeCloseTo(-(Math.log(0.8) + Math.log(0.9)) / 2, 5);
    // the check can be turned off (the values are then clamped, as before)
    const off = binaryCrossEntropy(p, t, { validate: false });
    expect(Number.isFinite(off.item())).toBe(true);
    for (const x of [p, t, neg, nan, good, badT, l, off]) x.dispose();
  });
});
