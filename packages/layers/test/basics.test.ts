import { beforeAll, describe, expect, it } from 'vitest';
import { gradcheck } from '@axon/autograd';
import { AxonError, memory, noGrad, randn, setSeed, tensor, tidy, zeros, type Tensor } from '@axon/core';
import {
  BCELoss, BCEWithLogitsLoss, Conv2d, MaxPool2d, CrossEntropyLoss, Dense, Dropout, Embedding, Flatten, GELU, LeakyReLU, Linear, MSELoss, Module, ReLU, Sigmoid, Softmax, Tanh,
  accuracy, binaryCrossEntropy, binaryCrossEntropyWithLogits, crossEntropy, fans, getInitializer, getLoss, glorotUniform, heNormal, mseLoss, relu, topKAccuracy,
} from '../src/index.js';
import { expectClose, useTestBackend } from './helpers.js';

beforeAll(async () => {
  await useTestBackend();
});

const vals = (t: Tensor): number[] => Array.from(t.dataSync());

class MLP extends Module {
  fc1 = new Linear(4, 8);
  act = new ReLU();
  fc2 = new Linear(8, 2, { bias: false });
  forward(x: Tensor): Tensor {
    return this.fc2.call(this.act.call(this.fc1.call(x)));
  }
}

describe('Module', () => {
  it('registers children and parameters by assignment, with dotted names', () => {
    const m = new MLP();
    expect(m.namedParameters().map(([n]) => n)).toEqual(['fc1.weight', 'fc1.bias', 'fc2.weight']);
    expect(m.parameters().every((p) => p.requiresGrad && p.kept)).toBe(true);
    expect(m.countParams()).toBe(4 * 8 + 8 + 8 * 2);
    expect(m.children().length).toBe(3);
    expect(m.namedModules().map(([n]) => n)).toEqual(['', 'fc1', 'act', 'fc2']);
    m.dispose();
  });

  it('registerParameter/registerModule/registerBuffer, arrays of modules', () => {
    class M extends Module {
      blocks = [new Linear(2, 2), new Linear(2, 2)];
      constructor() {
        super();
        this.registerParameter('scale', tensor([1, 2]));
        this.registerModule('head', new Linear(2, 1));
        this.registerBuffer('count', zeros([1], 'int32'));
      }
      forward(x: Tensor): Tensor {
        return x;
      }
    }
    const m = new M();
    expect(Object.keys(m.stateDict())).toEqual(['scale', 'count', 'blocks.0.weight', 'blocks.0.bias', 'blocks.1.weight', 'blocks.1.bias', 'head.weight', 'head.bias']); // own parameters, own buffers, then children: PyTorch's order
    const before = memory().numTensors;
    m.dispose();
    expect(memory().numTensors).toBe(before - 8);
  });

  it('prints like PyTorch', () => {
    const m = new MLP();
    expect(String(m)).toBe('MLP(\n  (fc1): Linear(inFeatures=4, outFeatures=8, bias=true)\n  (act): ReLU()\n  (fc2): Linear(inFeatures=8, outFeatures=2, bias=false)\n)');
    m.dispose();
  });

  it('train/eval, apply, zeroGrad', () => {
    const m = new MLP();
    m.eval();
    expect(m.modules().every((c) => !c.training)).toBe(true);
    m.train();
    expect(m.fc1.training).toBe(true);
    const seen: string[] = [];
    m.apply((c) => seen.push(c.constructor.name));
    expect(seen).toEqual(['Linear', 'ReLU', 'Linear', 'MLP']);
    const x = randn([3, 4]);
    tidy(() => m.call(x).sum().backward());
    expect(m.fc1.weight.grad).not.toBeNull();
    m.zeroGrad();
    expect(m.parameters().every((p) => p.grad === null)).toBe(true);
    x.dispose();
    m.dispose();
  });

  it('stateDict/loadStateDict copy values and validate names, shapes and dtypes', () => {
    const a = new MLP();
    const b = new MLP();
    b.loadStateDict(a.stateDict());
    expect(vals(b.fc1.weight)).toEqual(vals(a.fc1.weight));
    expect(b.fc1.weight).not.toBe(a.fc1.weight);
    const bad = { ...a.stateDict(), 'fc1.weight': zeros([3, 3]) };
    expect(() => b.loadStateDict(bad)).toThrow('size mismatch for fc1.weight: copying a param with shape [3, 3] from checkpoint, the shape in current model is [8, 4].');
    const missing: Record<string, Tensor> = { ...a.stateDict() };
    delete missing['fc2.weight'];
    expect(() => b.loadStateDict(missing)).toThrow('Error(s) in loading state_dict for MLP:\n\tMissing key(s) in state_dict: "fc2.weight".');
    expect(() => b.loadStateDict({ ...a.stateDict(), extra: zeros([1]) })).toThrow('Unexpected key(s) in state_dict: "extra".');
    expect(b.loadStateDict(missing, { strict: false })).toEqual({ missingKeys: ['fc2.weight'], unexpectedKeys: [] });
    bad['fc1.weight']!.dispose();
    a.dispose();
    b.dispose();
  });
});

describe('layers', () => {
  it('Linear computes x·Wᵀ + b with PyTorch init bounds', () => {
    setSeed(1);
    const fc = new Linear(3, 2);
    const w = vals(fc.weight);
    expect(w.every((v) => Math.abs(v) <= 1 / Math.sqrt(3))).toBe(true);
    const x = tensor([[1, 2, 3]]);
    const y = fc.call(x);
    const b = vals(fc.bias!);
    expectClose(vals(y), [w[0]! + 2 * w[1]! + 3 * w[2]! + b[0]!, w[3]! + 2 * w[4]! + 3 * w[5]! + b[1]!], 1e-5);
    expect(() => fc.call(zeros([2, 4]))).toThrow(/Linear '.*': expected input with last dimension 3 \(\[\.\.\., 3\]\), got \[2,4\]/);
    y.dispose();
    x.dispose();
    fc.dispose();
  });

  it('Dense infers its input size, uses glorot/zeros and applies the activation', () => {
    const d = new Dense(4, { activation: 'relu' });
    expect(d.built).toBe(false);
    const x = randn([5, 6]);
    const y = d.call(x);
    expect(y.shape).toEqual([5, 4]);
    expect(d.kernel!.shape).toEqual([6, 4]);
    expect(vals(d.bias!)).toEqual([0, 0, 0, 0]);
    const lim = Math.sqrt(6 / 10);
    expect(vals(d.kernel!).every((v) => Math.abs(v) <= lim)).toBe(true);
    expect(vals(y).every((v) => v >= 0)).toBe(true);
    expect(() => d.call(zeros([5, 7]))).toThrow(AxonError);
    expect(() => new Dense(0)).toThrow(/units must be an integer >= 1/);
    expect(() => new Dense(3, { activation: 'nope' })).toThrow(/unknown activation "nope"/);
    expect(new Dense(3, { inputShape: [7] }).kernel!.shape).toEqual([7, 3]);
    x.dispose();
    y.dispose();
    d.dispose();
  });

  it('Dropout: seeded masks in training, identity in eval, expectation preserved', () => {
    const drop = new Dropout({ rate: 0.5, seed: 3 });
    const x = tensor(new Float32Array(1000).fill(1), [1000]);
    const y = drop.call(x);
    const v = vals(y);
    expect(v.every((e) => e === 0 || e === 2)).toBe(true);
    const kept = v.filter((e) => e === 2).length;
    expect(kept).toBeGreaterThan(400);
    expect(kept).toBeLessThan(600);
    drop.eval();
    expect(drop.call(x)).toBe(x);
    expect(() => new Dropout(1)).toThrow(/rate must be in \[0, 1\)/);
    y.dispose();
    x.dispose();
  });

  it('Flatten and Embedding', () => {
    const f = new Flatten();
    const x = zeros([2, 3, 4]);
    const y = f.call(x);
    expect(y.shape).toEqual([2, 12]);
    const emb = new Embedding(10, 3);
    const ids = tensor([[1, 2], [3, 9]], [2, 2], 'int32');
    const e = emb.call(ids);
    expect(e.shape).toEqual([2, 2, 3]);
    expect(vals(e).slice(0, 3)).toEqual(vals(emb.weight).slice(3, 6));
    const bad = tensor([10], [1], 'int32');
    expect(() => emb.call(bad)).toThrow(/Embedding '.*'.*out of range/);
    for (const t of [x, y, ids, e, bad]) t.dispose();
    emb.dispose();
  });

  it('activation modules match the functions', () => {
    const x = tensor([[-2, -0.5, 0, 1.5]]);
    expectClose(vals(new ReLU().call(x)), [0, 0, 0, 1.5]);
    expectClose(vals(new Sigmoid().call(x)), [-2, -0.5, 0, 1.5].map((v) => 1 / (1 + Math.exp(-v))), 1e-6);
    expectClose(vals(new Tanh().call(x)), [-2, -0.5, 0, 1.5].map(Math.tanh), 1e-6);
    expectClose(vals(new LeakyReLU({ alpha: 0.1 }).call(x)), [-0.2, -0.05, 0, 1.5], 1e-6);
    const s = vals(new Softmax().call(x));
    expectClose([s.reduce((a, b) => a + b, 0)], [1], 1e-6);
    expectClose(vals(new GELU().call(tensor([0, 1]))), [0, 0.8413447], 1e-5);
    expectClose(vals(relu(tensor([-1, 1]))), [0, 1]);
    x.dispose();
  });
});

describe('initialisers', () => {
  it('fans and bounds; seeded', () => {
    expect(fans([784, 128])).toEqual({ fanIn: 784, fanOut: 128 });
    expect(fans([8, 3, 3, 3])).toEqual({ fanIn: 27, fanOut: 72 });
    const a = glorotUniform([50, 50], { seed: 5 });
    const b = glorotUniform([50, 50], { seed: 5 });
    expect(vals(a)).toEqual(vals(b));
    expect(vals(a).every((v) => Math.abs(v) <= Math.sqrt(6 / 100))).toBe(true);
    const h = heNormal([400, 100], { seed: 2 });
    const hv = vals(h);
    const std = Math.sqrt(hv.reduce((s, v) => s + v * v, 0) / hv.length);
    expect(Math.abs(std - Math.sqrt(2 / 400))).toBeLessThan(0.005);
    expect(getInitializer('he_uniform')).toBeTypeOf('function');
    expect(() => getInitializer('nope')).toThrow(AxonError);
    for (const t of [a, b, h]) t.dispose();
  });
});

describe('losses', () => {
  it('mse, with [N] targets for [N, 1] predictions', () => {
    const p = tensor([[1], [2]]);
    expect(mseLoss(p, tensor([[1], [4]])).item()).toBeCloseTo(2, 6);
    expect(mseLoss(p, tensor([1, 4])).item()).toBeCloseTo(2, 6);
    expect(new MSELoss({ reduction: 'sum' }).call(p, tensor([[1], [4]])).item()).toBeCloseTo(4, 6);
    expect(() => mseLoss(p, tensor([1, 2, 3]))).toThrow(/mseLoss: predictions \[2,1\] and targets \[3\] must have the same shape/);
  });

  it('crossEntropy: sparse, one-hot, label smoothing, reduction, stability, range check', () => {
    const logits = tensor([[2, 0, 0], [0, 1, 3]]);
    const lse = (r: number[]) => Math.log(r.reduce((s, v) => s + Math.exp(v), 0));
    const l0 = lse([2, 0, 0]) - 2;
    const l1 = lse([0, 1, 3]) - 1;
    const labels = tensor([0, 1], [2], 'int32');
    expect(crossEntropy(logits, labels).item()).toBeCloseTo((l0 + l1) / 2, 5);
    expectClose(vals(crossEntropy(logits, labels, { reduction: 'none' })), [l0, l1], 1e-5);
    const onehot = tensor([[1, 0, 0], [0, 1, 0]]);
    expect(crossEntropy(logits, onehot).item()).toBeCloseTo((l0 + l1) / 2, 5);
    expect(crossEntropy(logits, tensor([0, 1])).item()).toBeCloseTo((l0 + l1) / 2, 5); // float labels
    const eps = 0.1;
    const smooth = (row: number[], t: number) => {
      const lp = row.map((v) => v - lse(row));
      return -(1 - eps) * lp[t]! - (eps / 3) * lp.reduce((a, b) => a + b, 0);
    };
    expect(crossEntropy(logits, labels, { labelSmoothing: eps }).item()).toBeCloseTo((smooth([2, 0, 0], 0) + smooth([0, 1, 3], 1)) / 2, 5);
    expect(new CrossEntropyLoss({ labelSmoothing: eps }).call(logits, onehot).item()).toBeCloseTo((smooth([2, 0, 0], 0) + smooth([0, 1, 3], 1)) / 2, 5);
    const huge = tensor([[1000, 0], [-1000, 0]]);
    expectClose(vals(crossEntropy(huge, tensor([0, 0], [2], 'int32'), { reduction: 'none' })), [0, 1000], 1e-5);
    expect(() => crossEntropy(logits, tensor([0, 3], [2], 'int32'))).toThrow(/target 3 at position 1 is out of range for 3 classes/);
    expect(() => crossEntropy(logits, tensor([0, 1, 2], [3], 'int32'))).toThrow(/sparse targets must have shape \[2\]/);
  });

  it('crossEntropy gradient = softmax − onehot', () => {
    const z = tensor([[1, 2, 3]]).requireGrad();
    tidy(() => crossEntropy(z, tensor([2], [1], 'int32')).backward());
    const e = [1, 2, 3].map(Math.exp);
    const s = e.reduce((a, b) => a + b, 0);
    expectClose(vals(z.grad!), [e[0]! / s, e[1]! / s, e[2]! / s - 1], 1e-5);
    z.dispose();
  });

  it('binary cross-entropy from probabilities (clamped) and from logits (stable)', () => {
    expect(binaryCrossEntropy(tensor([0.9]), tensor([1])).item()).toBeCloseTo(-Math.log(0.9), 5);
    expect(Number.isFinite(binaryCrossEntropy(tensor([0]), tensor([1])).item())).toBe(true);
    expect(binaryCrossEntropyWithLogits(tensor([0]), tensor([1])).item()).toBeCloseTo(Math.log(2), 5);
    expectClose(vals(binaryCrossEntropyWithLogits(tensor([100, -100]), tensor([0, 1]), { reduction: 'none' })), [100, 100], 1e-5);
    expect(new BCELoss().call(tensor([0.5]), tensor([1])).item()).toBeCloseTo(Math.log(2), 5);
    expect(new BCEWithLogitsLoss().call(tensor([0]), tensor([0])).item()).toBeCloseTo(Math.log(2), 5);
  });

  it('Keras names', () => {
    expect(getLoss('mse').kind).toBe('mse');
    expect(getLoss('meanSquaredError').kind).toBe('mse');
    expect(getLoss('sparse_categorical_crossentropy').kind).toBe('sparseCategorical');
    const probs = tensor([[0.7, 0.2, 0.1]]);
    expect(getLoss('sparseCategoricalCrossentropy').fn(probs, tensor([0], [1], 'int32')).item()).toBeCloseTo(-Math.log(0.7), 5);
    expect(getLoss('categoricalCrossentropy').fn(probs, tensor([[0, 1, 0]])).item()).toBeCloseTo(-Math.log(0.2), 5);
    expect(getLoss({ name: 'binaryCrossentropy', fromLogits: true }).fn(tensor([0]), tensor([1])).item()).toBeCloseTo(Math.log(2), 5);
    expect(() => getLoss('hinge')).toThrow(/unknown loss 'hinge'/);
  });
});

describe('metrics', () => {
  it('accuracy: sparse, one-hot, binary; topK', () => {
    const p = tensor([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]]);
    expect(accuracy(p, tensor([1, 1, 1], [3], 'int32')).item()).toBeCloseTo(2 / 3, 6);
    expect(accuracy(p, tensor([[0, 1], [1, 0], [1, 0]])).item()).toBeCloseTo(2 / 3, 6);
    expect(accuracy(tensor([[0.9], [0.2]]), tensor([[1], [1]])).item()).toBeCloseTo(0.5, 6);
    expect(accuracy(tensor([2, -1]), tensor([1, 0]), { fromLogits: true }).item()).toBeCloseTo(1, 6);
    const q = tensor([[5, 4, 3, 2, 1]]);
    expect(topKAccuracy(q, tensor([2], [1], 'int32'), 3).item()).toBe(1);
    expect(topKAccuracy(q, tensor([3], [1], 'int32'), 3).item()).toBe(0);
  });
});

describe('gradients through layers and losses (gradcheck)', () => {
  it('Linear, Dense(tanh), Conv2d + MaxPool2d, Embedding-free losses', () => {
    setSeed(5);
    const lin = new Linear(3, 2);
    const dense = new Dense(2, { activation: 'tanh', inputShape: [3] });
    const conv = new Conv2d(1, 2, 3, { padding: 1 });
    const pool = new MaxPool2d(2);
    const x = randn([2, 3]);
    const img = randn([1, 1, 4, 4]);
    const labels = tensor([1, 0], [2], 'int32');
    expect(gradcheck((t) => lin.call(t).square().sum(), [x]).ok).toBe(true);
    expect(gradcheck((t) => dense.call(t).sum(), [x]).ok).toBe(true);
    expect(gradcheck((t) => pool.call(conv.call(t)).square().sum(), [img]).ok).toBe(true);
    expect(gradcheck((t) => crossEntropy(t.reshape([2, 3]), labels, { labelSmoothing: 0.1 }), [x]).ok).toBe(true);
    expect(gradcheck((t) => binaryCrossEntropyWithLogits(t, tensor([[1, 0, 1], [0, 0, 1]])), [x]).ok).toBe(true);
    for (const t of [x, img, labels]) t.dispose();
    for (const m of [lin, dense, conv]) m.dispose();
  });
});

describe('memory', () => {
  it('a forward/backward step in tidy leaks nothing', () => {
    const m = new MLP();
    const x = randn([4, 4]);
    const y = tensor([0, 1, 1, 0], [4], 'int32');
    tidy(() => crossEntropy(m.call(x), y).backward());
    m.zeroGrad();
    const before = memory();
    for (let i = 0; i < 20; i++) {
      tidy(() => crossEntropy(m.call(x), y).backward());
      m.zeroGrad();
    }
    expect(memory().numTensors).toBe(before.numTensors);
    expect(memory().numBytes).toBe(before.numBytes);
    noGrad(() => undefined);
    m.dispose();
    x.dispose();
    y.dispose();
  });
});
