/**
 * Bad input found by the API fuzzer (tooling/fuzz) and by auditing every public constructor and
 * function of this package: each gets an AxonError naming the caller before anything is
 * allocated, a failure half-way frees what it allocated, and valid calls outside `tidy` leave only
 * their result alive.
 */
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AxonError, type Tensor, getBackend, memory, noGrad, ones, randn, tensor, zeros } from '@axon/core';
import {
  Activation, Add, AvgPool2d, BackupAndRestore, BatchNorm1d, BatchNorm2d, BatchNormalization, Concatenate, Conv2d, CrossEntropyLoss, Dense, Dropout, EarlyStopping,
  Embedding, Flatten, GlobalAvgPool2d, LambdaCallback, LayerNorm, LeakyReLU, Linear, LogSoftmax, MAX_LAYER_PARAMETERS, MSELoss, MaxPool2d, ModelCheckpoint, Reshape,
  Softmax, TerminateOnNaN, accuracy, add, batchNorm, deserializeModel, fromHostTensors, loadModel, loadWeights, modelFromJson, serializeSafetensors, toHostTensors, binaryCrossEntropy, binaryCrossEntropyWithLogits, categoricalCrossEntropyFromProbs, crossEntropy, fans, getLoss,
  glorotUniform, input, layerNorm, maeLoss, mseLoss, sequential, sparseCrossEntropyFromProbs, topKAccuracy,
} from '../src/index.js';
import { useTestBackend } from './helpers.js';

beforeAll(async () => {
  await useTestBackend();
});

/** Live tensors and bytes must be back where they were after each test. */
let before = { numTensors: 0, numBytes: 0 };
function mark(): void {
  const m = memory();
  before = { numTensors: m.numTensors, numBytes: m.numBytes };
}
beforeEach(mark);

function expectNoLeak(): void {
  const m = memory();
  expect({ numTensors: m.numTensors, numBytes: m.numBytes }).toEqual(before);
}

/** Values that no options argument may take quietly. */
const BAD_OPTIONS: readonly unknown[] = [null, 'abc', 3, Symbol('s'), 10n, () => 1, [1, 2], true];

function expectAxonError(fn: () => unknown, pattern?: RegExp): void {
  let thrown: unknown = null;
  try {
    const r = fn();
    (r as { dispose?: () => void } | null)?.dispose?.();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, 'expected an AxonError').toBeInstanceOf(AxonError);
  if (pattern) expect((thrown as Error).message).toMatch(pattern);
}

describe('layer sizes are capped and checked before allocating', () => {
  afterEach(expectNoLeak);

  it('BatchNorm2d(1e9) and other oversized layers fail at once, allocating nothing', () => {
    const held = getBackend().memory();
    const t0 = performance.now();
    expectAxonError(() => new BatchNorm2d(1e9), /BatchNorm2d .*MAX_LAYER_PARAMETERS.*nothing was allocated/);
    expectAxonError(() => new BatchNorm1d(2 ** 27), /MAX_LAYER_PARAMETERS/);
    expectAxonError(() => new Linear(100_000, 10_000), /Linear .*MAX_LAYER_PARAMETERS/);
    expectAxonError(() => new Embedding(1e6, 1e3), /MAX_LAYER_PARAMETERS/);
    expectAxonError(() => new Dense(2, { inputShape: [1e9] }), /MAX_LAYER_PARAMETERS/);
    expectAxonError(() => new Conv2d(4096, 4096, 5), /MAX_LAYER_PARAMETERS/);
    expectAxonError(() => new LayerNorm([2 ** 15, 2 ** 14]), /MAX_LAYER_PARAMETERS/);
    expect(performance.now() - t0).toBeLessThan(1000);
    const after = getBackend().memory();
    expect(after.bytes).toBe(held.bytes);
    expect(after.pooledBytes).toBe(held.pooledBytes);
    expect(MAX_LAYER_PARAMETERS).toBe(2 ** 28);
  });

  it('building a Dense from a large inputShape allocates its kernel only (shape inference runs no forward pass)', () => {
    const held = (): number => {
      const m = getBackend().memory();
      return m.bytes + (m.pooledBytes ?? 0);
    };
    const h0 = held();
    // one example of 2^30 floats would be 4 GiB: only the [65536, 2] kernel and the bias are made
    const m = sequential([new Dense(2, { inputShape: [16384, 65536] })]);
    expect(held() - h0).toBeLessThan(2 * 2 ** 20);
    expect(m.countParams()).toBe(65536 * 2 + 2);
    m.dispose();
    // [65536, 65536] has 2^32 elements per example: no tensor can hold one, so it is refused up front
    expectAxonError(() => sequential([new Dense(2, { inputShape: [65536, 65536] })]), /more than 2\^31-1 elements per example/);
  });

  it('a constructor that fails half-way frees what it allocated', () => {
    // The backend runs out of memory at the constructor's last allocation, after the others succeeded.
    const b = getBackend();
    const alloc = b.alloc.bind(b);
    let calls = 0;
    let failAt = Infinity;
    b.alloc = ((dtype, size) => {
      if (++calls === failAt) throw new Error('simulated out of memory');
      return alloc(dtype, size);
    }) as typeof b.alloc;
    const failLast = (make: () => { dispose(): void }): void => {
      failAt = Infinity;
      calls = 0;
      make().dispose();
      expect(calls, 'allocations of a successful construction').toBeGreaterThan(1);
      failAt = calls;
      calls = 0;
      expectAxonError(make, /out of memory/);
      expectNoLeak();
    };
    try {
      failLast(() => new BatchNorm2d(4));
      failLast(() => new BatchNorm1d(4, { affine: false }));
      failLast(() => new Conv2d(2, 2, 3));
      failLast(() => new Linear(2, 3));
      failLast(() => new LayerNorm(4));
      failLast(() => new BatchNormalization({ numFeatures: 4 }));
      failLast(() => new Dense(3, { inputShape: [2] }));
    } finally {
      b.alloc = alloc;
    }
    // a failing initialiser: the kernel made before the bias is freed, and the layer stays unbuilt
    const d = new Dense(3, {
      biasInitializer: () => {
        throw new AxonError('init', 'no bias today');
      },
    });
    expectAxonError(() => d.build(2), /no bias today/);
    expect(d.built).toBe(false);
    expect(d.parameters()).toEqual([]);
    // an initialiser returning the wrong shape, or an int32 tensor, is an error, not a wrong layer
    expectAxonError(() => new Dense(3, { inputDim: 2, kernelInitializer: () => zeros([5]) }), /initialiser of 'kernel' must return a Tensor of shape \[2,3\], got \[5\]/);
    expectAxonError(() => new Embedding({ inputDim: 4, outputDim: 2, embeddingsInitializer: () => zeros([4, 2], 'int32') }), /float32/);
    d.dispose();
  });
});

describe('constructors validate their options', () => {
  afterEach(expectNoLeak);

  const ctors: [string, (o: unknown) => unknown][] = [
    ['Dense', (o) => new Dense(2, o as never)],
    ['Linear', (o) => new Linear(2, 3, o as never)],
    ['Conv2d', (o) => new Conv2d(1, 2, 3, o as never)],
    ['MaxPool2d', (o) => new MaxPool2d(2, o as never)],
    ['AvgPool2d', (o) => new AvgPool2d(2, o as never)],
    ['GlobalAvgPool2d', (o) => new GlobalAvgPool2d(o as never)],
    ['BatchNorm1d', (o) => new BatchNorm1d(3, o as never)],
    ['BatchNorm2d', (o) => new BatchNorm2d(3, o as never)],
    ['BatchNormalization', (o) => new BatchNormalization(o as never)],
    ['LayerNorm', (o) => new LayerNorm(3, o as never)],
    ['Dropout', (o) => new Dropout(o as never)],
    ['Flatten', (o) => new Flatten(o as never)],
    ['Embedding', (o) => new Embedding(o as never)],
    ['Reshape', (o) => new Reshape(o as never)],
    ['Concatenate', (o) => new Concatenate(o as never)],
    ['Softmax', (o) => new Softmax(o as never)],
    ['LogSoftmax', (o) => new LogSoftmax(o as never)],
    ['LeakyReLU', (o) => new LeakyReLU(o as never)],
    ['Activation', (o) => new Activation(o as never)],
    ['MSELoss', (o) => new MSELoss(o as never)],
    ['CrossEntropyLoss', (o) => new CrossEntropyLoss(o as never)],
    ['EarlyStopping', (o) => new EarlyStopping(o as never)],
    ['TerminateOnNaN', (o) => new TerminateOnNaN(o as never)],
    ['BackupAndRestore', (o) => new BackupAndRestore(o as never)],
    ['ModelCheckpoint', (o) => new ModelCheckpoint(o as never)],
    ['LambdaCallback', (o) => new LambdaCallback(o as never)],
  ];

  it.each(ctors)('%s: null, a string, a number, a Symbol, a BigInt, a function, an array or true as options are AxonErrors', (name, make) => {
    for (const bad of BAD_OPTIONS) {
      // a number is a valid shorthand for Dropout, Softmax, LogSoftmax and LeakyReLU; a string for Activation
      if (typeof bad === 'number' && ['Dropout', 'Softmax', 'LogSoftmax', 'LeakyReLU'].includes(name)) continue;
      if (bad === 'abc' && name === 'Activation') continue;
      expectAxonError(() => make(bad), new RegExp(name === 'Embedding' ? 'Embedding' : `^${name}`));
    }
  });

  it.each(ctors)('%s: an unknown (misspelt) option is an AxonError listing the valid ones', (name, make) => {
    expectAxonError(() => make({ activaton: 'relu', rate: 0.5, path: 'p', backupDir: 'b', targetShape: [1], inputDim: 2, outputDim: 2, activation: 'relu' }), /unknown option/);
    expectAxonError(() => make(JSON.parse('{"__proto__": {"x": 1}}')), /unknown option '__proto__'/);
  });

  it('inputShape must be one example of positive integer sizes (not -1, 1.5, [[2]], 2^32 elements)', () => {
    for (const bad of [-1, 'abc', [-1], [1.5, 2], [[2]], ['2'], [0], [65536, 65536], new Array(40).fill(1), null]) {
      expectAxonError(() => new Dense(2, { inputShape: bad as never }), /inputShape/);
      expectAxonError(() => new Flatten({ inputShape: bad as never }), /inputShape/);
      expectAxonError(() => new Dropout({ rate: 0.5, inputShape: bad as never }), /inputShape/);
      expectAxonError(() => sequential([new ReLULike()], { inputShape: bad as never }), /inputShape/);
    }
    expectAxonError(() => new Dense(2, { inputShape: [3], inputDim: 4 }), /does not match/);
    expectAxonError(() => new Conv2d(3, 2, 3, { inputShape: [1, 28, 28] }), /inputShape must be \[3, H, W\]/);
  });

  it('sizes, axes, booleans and numbers are checked (no TypeError, no silent fallback)', () => {
    expectAxonError(() => new AvgPool2d(null as never), /AvgPool2d: kernelSize must be a positive integer/);
    expectAxonError(() => new MaxPool2d(true as never), /kernelSize/);
    expectAxonError(() => new MaxPool2d(2, { padding: [null, null] as never }), /padding/);
    expectAxonError(() => new Conv2d(1, 2, (() => 3) as never), /kernelSize .* got a function/);
    expectAxonError(() => new Conv2d(1, 2, 3, { stride: 0 }), /stride/);
    expectAxonError(() => new Conv2d(1, 2, 3, { dilation: 0 }), /dilation/);
    expectAxonError(() => new Conv2d(1, 2, 3, { padding: 'wrong' as never }), /padding/);
    expectAxonError(() => new Conv2d(1, 2, 3, { bias: 'no' as never }), /bias must be true or false/);
    expectAxonError(() => new Linear(2, 3, { bias: 0 as never }), /bias must be true or false/);
    expectAxonError(() => new Dense(2, { useBias: 'yes' as never }), /useBias/);
    expectAxonError(() => new BatchNorm1d(3, { affine: 1 as never }), /affine/);
    expectAxonError(() => new LayerNorm(3, { elementwiseAffine: 'no' as never }), /elementwiseAffine/);
    expectAxonError(() => new Embedding('3' as never, 3), /expects \(numEmbeddings, embeddingDim\)/);
    expectAxonError(() => new Embedding({ inputDim: 3, outputDim: 2 }, 4), /not both/);
    expectAxonError(() => new Softmax([0, 0] as never), /Softmax: options must be an object/);
    expectAxonError(() => new Softmax({ axis: 1.5 }), /axis/);
    expectAxonError(() => new Flatten({ startAxis: '1' as never }), /startAxis/);
    expectAxonError(() => new Reshape({ targetShape: [-1, -1] }), /one -1 at most/);
    expectAxonError(() => new Reshape({ targetShape: [NaN] }), /targetShape/);
    expectAxonError(() => new Dropout({ rate: 0.5, seed: NaN }), /seed/);
    expectAxonError(() => new Activation({ activation: null as never }), /activation name/);
    expectAxonError(() => new Dense(2, { name: 3 as never }), /name must be a non-empty string/);
    expectAxonError(() => new Concatenate({ axis: 0.5 }), /axis/);
    expectAxonError(() => new EarlyStopping({ minDelta: NaN }), /minDelta/);
    expectAxonError(() => new EarlyStopping({ monitor: 3 as never }), /monitor/);
    expectAxonError(() => new ModelCheckpoint({ path: 'p', mode: 'bogus' as never }), /mode/);
    expectAxonError(() => new LambdaCallback({ onEpochEnd: 3 as never }), /onEpochEnd must be a function/);
    expectAxonError(() => input({ shape: [2], dtype: 'float64' as never }), /dtype/);
    expectAxonError(() => input({ shape: [2], name: '' }), /name/);
    expectAxonError(() => glorotUniform([2, 2], null as never), /options must be an object/);
    expectAxonError(() => glorotUniform([2, 2], { fanIn: NaN }), /fanIn/);
    expectAxonError(() => fans('abc' as never), /shape/);
    const d = new Dense(2, { inputShape: [3] });
    expectAxonError(() => d.train('no' as never), /mode must be true or false/);
    d.dispose();
  });

  it('sequential: a non-array shape, null options, non-layers and a model added to itself are AxonErrors', () => {
    expectAxonError(() => sequential([new Dense(2, { inputShape: -1 as never })]), /inputShape/);
    expectAxonError(() => sequential([], null as never), /options must be an object/);
    expectAxonError(() => sequential([3 as never]), /layers\[0\] must be a layer/);
    const m = sequential([]);
    expectAxonError(() => m.add(m), /itself/);
    m.dispose();
  });
});

/** A parameter-free layer for the sequential() checks. */
class ReLULike extends Softmax {}

describe('losses and metrics leak nothing, whatever happens', () => {
  afterEach(expectNoLeak);

  const x = (): Tensor => randn([4, 3], { seed: 1 });
  const labels = (): Tensor => tensor([0, 2, 1, 1], [4], 'int32');

  it('valid calls outside tidy leave only the result alive (no intermediates)', () => {
    const xs = x();
    const ys = labels();
    const p = randn([4, 2], { seed: 2 });
    const t = randn([4, 2], { seed: 3 });
    const probs = noGrad(() => xs.softmax());
    const oneHot = tensor([1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 1, 0], [4, 3]);
    const target01 = tensor([0, 1, 1, 0, 1, 0, 0, 1], [4, 2]);
    const p01 = noGrad(() => p.sigmoid());
    const flatP = p01.reshape([8]);
    const flatT = target01.reshape([8]);
    const inputs = memory().numTensors;
    const calls: (() => Tensor)[] = [
      () => mseLoss(p, t),
      () => mseLoss(p, t, { reduction: 'none' }),
      () => maeLoss(p, t, { reduction: 'sum' }),
      () => crossEntropy(xs, ys),
      () => crossEntropy(xs, ys, { labelSmoothing: 0.1 }),
      () => crossEntropy(xs, oneHot, { labelSmoothing: 0.1 }),
      () => binaryCrossEntropy(p01, target01),
      () => binaryCrossEntropyWithLogits(p, target01),
      () => sparseCrossEntropyFromProbs(probs, ys),
      () => categoricalCrossEntropyFromProbs(probs, oneHot),
      () => accuracy(xs, ys),
      () => accuracy(flatP, flatT),
      () => topKAccuracy(xs, ys, 2),
      () => getLoss({ name: 'categoricalCrossentropy', labelSmoothing: 0.1 }).fn(probs, oneHot),
      () => getLoss({ name: 'binaryCrossentropy', fromLogits: true, labelSmoothing: 0.1 }).fn(p, target01),
    ];
    for (const [i, call] of calls.entries()) {
      const r = call();
      r.dispose();
      const m = memory();
      expect(m.numTensors, `call ${i}`).toBe(inputs);
    }
    for (const t2 of [xs, ys, p, t, probs, oneHot, target01, p01, flatP, flatT]) t2.dispose();
  });

  it('a rejected call frees what it made: bad target shapes (rank-5 logits, scalar or transposed targets), a bogus reduction', () => {
    const xs = x();
    const ys = labels();
    const rank5 = randn([1, 2, 1, 2, 1]);
    const scalar = tensor(1);
    const base = randn([2, 3]);
    const transposed = base.T;
    const outOfRange = tensor([0, 7, 1, 1], [4], 'int32');
    expectAxonError(() => crossEntropy(rank5, ys), /sparse targets must have shape/);
    expectAxonError(() => crossEntropy(xs, scalar), /sparse targets must have shape/);
    expectAxonError(() => crossEntropy(transposed, ys), /sparse targets must have shape/);
    expectAxonError(() => crossEntropy(xs, ys, { reduction: 'bogus' as never }), /reduction must be/);
    expectAxonError(() => crossEntropy(xs, outOfRange), /out of range/);
    expectAxonError(() => mseLoss(xs, scalar), /same shape/);
    expectAxonError(() => binaryCrossEntropy(xs, xs), /between 0 and 1/);
    for (const t2 of [xs, ys, rank5, scalar, base, transposed, outOfRange]) t2.dispose();
  });

  it('options that are not an object, unknown options and bad values are AxonErrors (opts = null was a TypeError)', () => {
    const p = randn([4, 3]);
    const ys = labels();
    for (const bad of [...BAD_OPTIONS, { momentum: NaN }, { seed: NaN }, { reduction: 'bogus' }]) {
      expectAxonError(() => mseLoss(p, p, bad as never), /^mseLoss/);
      expectAxonError(() => crossEntropy(p, ys, bad as never), /^crossEntropy/);
      expectAxonError(() => binaryCrossEntropyWithLogits(p, p, bad as never), /^binaryCrossEntropyWithLogits/);
      expectAxonError(() => accuracy(p, ys, bad as never), /^accuracy/);
    }
    expectAxonError(() => crossEntropy(p, ys, { labelSmoothing: NaN }), /labelSmoothing/);
    expectAxonError(() => binaryCrossEntropy(p, p, { epsilon: 0.7 }), /epsilon/);
    expectAxonError(() => getLoss({ name: 'mse', fromLogits: 'yes' as never }), /fromLogits/);
    expectAxonError(() => accuracy(p, 3 as never), /targets must be a Tensor/);
    expectAxonError(() => topKAccuracy(p, ys, 0), /k must be/);
    p.dispose();
    ys.dispose();
  });

  it('a disposed tensor is named as such, before anything is computed', () => {
    const p = randn([4, 3]);
    const gone = randn([4, 3]);
    gone.dispose();
    expectAxonError(() => mseLoss(p, gone), /targets .* was disposed/);
    expectAxonError(() => crossEntropy(gone, p), /predictions .* was disposed/);
    expectAxonError(() => new Dense(2).call(gone), /input 0 .* was disposed/);
    p.dispose();
  });
});

describe('layers leak nothing on a call outside tidy', () => {
  afterEach(expectNoLeak);

  it('Linear, Dense with an activation, Add of three inputs: only the output stays alive (no-grad call)', () => {
    const lin = new Linear(3, 2);
    const dense = new Dense(4, { activation: 'relu', inputShape: [3] });
    const a = randn([2, 3]);
    const inputs = memory().numTensors;
    for (const f of [() => lin.call(a), () => dense.call(a), () => new Add().call(a, a, a), () => add([a, a, a])]) {
      const y = noGrad(f);
      y.dispose();
      expect(memory().numTensors).toBe(inputs);
    }
    lin.dispose();
    dense.dispose();
    a.dispose();
  });

  it('batchNorm with a disposed weight changes nothing: running statistics untouched, nothing leaked', async () => {
    const x = randn([8, 3], { seed: 4 });
    const rm = zeros([3]);
    const rv = ones([3]);
    const w = ones([3]);
    w.dispose();
    expectAxonError(() => batchNorm(x, rm, rv, { training: true, weight: w }), /weight .* was disposed/);
    expectAxonError(() => batchNorm(x, rm, rv, null as never), /options must be an object/);
    expectAxonError(() => layerNorm(x, [3], null as never), /options must be an object/);
    expect(Array.from(await rm.data())).toEqual([0, 0, 0]);
    expect(Array.from(await rv.data())).toEqual([1, 1, 1]);
    for (const t of [x, rm, rv]) t.dispose();
  });
});

describe('fit, evaluate and predict check their options', () => {
  afterEach(expectNoLeak);

  it('bad options are AxonErrors naming the option; a bad y does not leak x', async () => {
    const m = sequential([new Dense(1, { inputShape: [2] })]);
    m.compile({ optimizer: 'sgd', loss: 'mse' });
    const x = randn([4, 2]);
    const y = randn([4, 1]);
    for (const [opts, pattern] of [
      [{ epochs: Symbol('e') }, /epochs/],
      [{ epochs: 10n }, /epochs/],
      [{ validationSplit: Symbol('v') }, /validationSplit/],
      [{ callbacks: 3 }, /callbacks/],
      [{ callbacks: [null] }, /callbacks\[0\]/],
      [{ verbose: 7 }, /verbose/],
      [{ log: 'console' }, /log/],
      [{ epocs: 3 }, /unknown option 'epocs'/],
      [{ seed: NaN }, /seed/],
      ['abc', /options must be an object/],
    ] as const) {
      await expect(m.fit(x, y, opts as never)).rejects.toThrow(pattern);
    }
    expectAxonError(() => m.predict(x, 'abc' as never), /options must be an object/);
    expectAxonError(() => m.predict(x, { batchsize: 2 } as never), /unknown option 'batchsize'/);
    expectAxonError(() => m.predict(x, { batchSize: 0 }), /batchSize/);
    await expect(m.evaluate(x, y, { batchSize: 1.5 })).rejects.toThrow(/batchSize/);
    // x is converted from host data first; a bad y must not leak it
    await expect(m.evaluate([[1, 2], [3, 4]], 'nope' as never)).rejects.toThrow(AxonError);
    x.dispose();
    y.dispose();
    m.dispose();
  });

  it('compile: metrics must be a list; a disposed optimizer is refused', () => {
    const m = sequential([new Dense(1, { inputShape: [2] })]);
    expectAxonError(() => m.compile({ optimizer: 'sgd', loss: 'mse', metrics: 'accuracy' as never }), /metrics must be a list/);
    expectAxonError(() => m.compile({ optimizer: 'sgd', loss: 'mse', metric: ['acc'] } as never), /unknown option 'metric'/);
    m.dispose();
  });

  it('loadStateDict: a name given with an undefined value is an error, not a silently skipped tensor', () => {
    const l = new Linear(3, 2);
    const w = zeros([2, 3]);
    expectAxonError(() => l.loadStateDict({ weight: w, bias: undefined as never }), /'bias' is not a Tensor/);
    l.dispose();
    w.dispose();
  });
});

describe('Module methods, loaders and safetensors helpers check their arguments', () => {
  afterEach(expectNoLeak);

  it('registerBuffer refuses a disposed tensor; apply needs a function; load options must be { strict }', () => {
    const l = new Linear(2, 2);
    const gone = zeros([2]);
    gone.dispose();
    expectAxonError(() => l.registerBuffer('b', gone), /buffer 'b' .* was disposed/);
    expectAxonError(() => l.apply(3 as never), /Linear.apply: expects a function/);
    expectAxonError(() => l.loadStateDict(l.stateDict(), null as never), /options must be an object/);
    expectAxonError(() => l.loadStateDict(l.stateDict(), { strict: 'no' as never }), /strict must be true or false/);
    expectAxonError(() => l.loadStateDict(l.stateDict(), { strcit: false } as never), /unknown option 'strcit'/);
    expectAxonError(() => l.loadExtraStateDict({}, null as never), /options must be an object/);
    l.dispose();
  });

  it('model loaders: null or misspelt options are AxonErrors before any file is read', async () => {
    await expect(loadModel('nowhere', null as never)).rejects.toThrow(/loadModel: options must be an object/);
    await expect(loadModel('nowhere', { maxLayer: 3 } as never)).rejects.toThrow(/unknown option 'maxLayer'/);
    const l = new Linear(1, 1);
    await expect(loadWeights(l, 'nowhere', null as never)).rejects.toThrow(/loadWeights: options must be an object/);
    l.dispose();
    await expect(loadWeights(3 as never, 'nowhere')).rejects.toThrow(/loadWeights: expects a Module/);
    expectAxonError(() => deserializeModel('{}', new Uint8Array(8), null as never), /deserializeModel: options must be an object/);
    expectAxonError(() => modelFromJson({}, Symbol('x') as never), /modelFromJson: options must be an object/);
  });

  it('safetensors helpers: records, known dtypes (own keys only) and matching typed arrays', async () => {
    const f = (data: unknown, dtype: unknown = 'float32'): never => ({ w: { dtype, shape: [2], data } }) as never;
    expectAxonError(() => serializeSafetensors(null as never), /expects a record/);
    expectAxonError(() => serializeSafetensors(f(new Float32Array(2)), null as never), /metadata must be a record/);
    expectAxonError(() => serializeSafetensors(f(new Float32Array(2), 'constructor')), /unsupported dtype 'constructor'/);
    expectAxonError(() => serializeSafetensors(f(new Float64Array(2))), /must hold its values in a Float32Array/);
    expectAxonError(() => serializeSafetensors({ w: null } as never), /must be \{ dtype, shape, data \}/);
    expectAxonError(() => fromHostTensors(null as never), /expects a record/);
    expectAxonError(() => fromHostTensors(f(new Float32Array(2), 'toString')), /unsupported dtype 'toString'/);
    await expect(toHostTensors({ w: 3 } as never)).rejects.toThrow(/'w' is not a Tensor/);
    const gone = zeros([1]);
    gone.dispose();
    await expect(toHostTensors({ w: gone })).rejects.toThrow(/'w' .* was disposed/);
  });
});
