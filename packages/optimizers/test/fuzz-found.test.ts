/**
 * Bad input found by the API fuzzer (tooling/fuzz) and by auditing every public function of this
 * package: misspelt options, non-iterable parameter lists, bad clipping bounds, disposed tensors,
 * schedules producing a non-finite rate. Each is an AxonError, and nothing changes.
 */
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AxonError, type Tensor, memory, ones, tensor } from '@axon/core';
import {
  Adagrad, Adam, AdamW, CosineAnnealingLR, ExponentialLR, LambdaLR, LinearWarmup, type Optimizer, RMSprop, SGD, StepLR, clipByGlobalNorm, clipByNorm, clipByValue, clipGradNorm,
  globalNorm, optimizer,
} from '../src/index.js';
import { param, useTestBackend } from './helpers.js';

beforeAll(async () => {
  await useTestBackend();
});

let before = 0;
beforeEach(() => {
  before = memory().numTensors;
});
afterEach(() => {
  expect(memory().numTensors, 'live tensors after the test').toBe(before);
});

function expectAxonError(fn: () => unknown, pattern: RegExp): void {
  let thrown: unknown = null;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, 'expected an AxonError').toBeInstanceOf(AxonError);
  expect((thrown as Error).message).toMatch(pattern);
}

function withParam(fn: (p: Tensor) => void): void {
  const p = param([1, -1], [2]);
  try {
    fn(p);
  } finally {
    p.grad?.dispose();
    p.grad = null;
    p.dispose();
  }
}

describe('optimizer options', () => {
  const classes: [string, (p: Tensor[], o: unknown) => Optimizer][] = [
    ['SGD', (p, o) => new SGD(p, o as never)],
    ['Adam', (p, o) => new Adam(p, o as never)],
    ['AdamW', (p, o) => new AdamW(p, o as never)],
    ['RMSprop', (p, o) => new RMSprop(p, o as never)],
    ['Adagrad', (p, o) => new Adagrad(p, o as never)],
  ];

  it.each(classes)('%s: an unknown or misspelt option is an AxonError, not silently ignored (learningRate left lr at its default)', (name, make) => {
    withParam((p) => {
      expectAxonError(() => make([p], { learningRate: 0.5 }), new RegExp(`^${name}: unknown option 'learningRate'.*optimizer\\(\\{ name`));
      expectAxonError(() => make([p], { stride: 0 }), /unknown option 'stride'/);
      expectAxonError(() => make([p], { seed: NaN }), /unknown option 'seed'/);
      expectAxonError(() => make([p], JSON.parse('{"__proto__": {"x": 1}}')), /unknown option '__proto__'/);
      expectAxonError(() => make([p], { [Symbol('s')]: 1 }), /unknown option Symbol\(s\)/);
      const t = tensor([1]);
      expectAxonError(() => make([p], t), /options must be an object/);
      t.dispose();
      // the real options still work
      make([p], { lr: 0.5, clipNorm: 1 }).dispose();
    });
  });

  it('optimizer(): option names resolve through own keys only; Symbol keys are refused', () => {
    for (const key of ['constructor', 'toString', 'hasOwnProperty', 'valueOf', '__proto__']) {
      const config = JSON.parse(`{"name": "adam", "${key}": 1}`) as { name: string };
      expectAxonError(() => optimizer(config), new RegExp(`'${key}' is not an option of adam`));
    }
    expectAxonError(() => optimizer({ name: 'adam', [Symbol('k')]: 1 } as never), /option keys must be strings/);
    expectAxonError(() => optimizer(['adam'] as never), /expects a name/);
    optimizer({ name: 'adam', learningRate: 0.01, epsilon: 1e-6 }).dispose();
  });

  it('addParamGroup and applyGradients: a non-iterable list is an AxonError (was a TypeError)', () => {
    withParam((p) => {
      const opt = new SGD([], { lr: 0.1 });
      expectAxonError(() => opt.addParamGroup({ params: 3 as never }), /params must be a tensor or a list of tensors, got 3/);
      expectAxonError(() => opt.addParamGroup({ params: [p], constructor: 1 } as never), /unknown hyperparameter 'constructor'/);
      expectAxonError(() => opt.applyGradients(3 as never), /list of \[gradient, parameter\] pairs/);
      expectAxonError(() => opt.applyGradients(null as never), /list of \[gradient, parameter\] pairs/);
      expect(opt.paramGroups).toHaveLength(0);
      opt.dispose();
    });
  });
});

describe('clipping', () => {
  it('clipByNorm, clipByValue, clipByGlobalNorm and globalNorm check their tensors and bounds', () => {
    const g = tensor([3, 4]);
    const i = tensor([1, 2], [2], 'int32');
    const gone = ones([2]);
    gone.dispose();
    for (const bad of [NaN, -1, 0, Infinity, '1', 10n]) {
      expectAxonError(() => clipByNorm(g, bad as never), /clipByNorm: maxNorm must be a positive finite number/);
      expectAxonError(() => clipByValue(g, bad as never), /clipByValue: value must be a positive finite number/);
      expectAxonError(() => clipByGlobalNorm([g], bad as never), /clipByGlobalNorm: maxNorm/);
    }
    expectAxonError(() => clipByNorm([1, 2] as never, 1), /clipByNorm: the tensor must be a Tensor/);
    expectAxonError(() => clipByNorm(gone, 1), /was disposed/);
    expectAxonError(() => clipByValue(i, 1), /float32/);
    expectAxonError(() => clipByGlobalNorm('x' as never, 1), /expects a list of tensors/);
    expectAxonError(() => clipByGlobalNorm([g, 3] as never, 1), /tensors\[1\] must be a Tensor/);
    expectAxonError(() => globalNorm(null as never), /globalNorm: expects a list of tensors/);
    expectAxonError(() => globalNorm([gone]), /was disposed/);
    g.dispose();
    i.dispose();
  });

  it('clipGradNorm refuses a disposed parameter instead of skipping it', () => {
    const p = param([1, 2], [2]);
    p.dispose();
    expectAxonError(() => clipGradNorm([p], 1), /params\[0\] .* was disposed/);
  });
});

describe('schedules', () => {
  it('a schedule needs a live Optimizer and known options (a misspelt gamma was ignored)', () => {
    const opt = new SGD([], { lr: 0.1 });
    expectAxonError(() => new StepLR({ paramGroups: [] } as never, { stepSize: 2 }), /StepLR: expects an Optimizer/);
    expectAxonError(() => new StepLR(opt, { stepSize: 2, gama: 0.5 } as never), /unknown option 'gama'/);
    expectAxonError(() => new ExponentialLR(opt, null as never), /options must be an object/);
    expectAxonError(() => new CosineAnnealingLR(opt, Symbol('x') as never), /options must be an object/);
    expectAxonError(() => new LinearWarmup(opt, { warmupSteps: 2, after: 3 } as never), /after must be an LRScheduler/);
    const gone = new SGD([], { lr: 0.1 });
    gone.dispose();
    expectAxonError(() => new ExponentialLR(gone, { gamma: 0.5 }), /optimizer was disposed/);
    expect(opt.lr).toBe(0.1);
    opt.dispose();
  });

  it('a non-finite or negative rate is refused and changes nothing: every group keeps its lr, the step count does not advance', () => {
    withParam((p) => {
      const q = param([1], [1]);
      const opt = new SGD([{ params: [p], lr: 0.1 }, { params: [q], lr: 0.2 }]);
      expectAxonError(() => new LambdaLR(opt, () => NaN), /LambdaLR: the learning rate of param group 0 at step 0 would be NaN/);
      expect(opt.paramGroups.map((g) => g.lr)).toEqual([0.1, 0.2]);
      // the factor turns bad at step 2, and only for the second group
      const sched = new LambdaLR(opt, (t) => (t < 2 ? 1 / (1 + t) : -1));
      sched.step();
      expect(opt.paramGroups.map((g) => g.lr)).toEqual([0.05, 0.1]);
      expectAxonError(() => sched.step(), /at step 2 would be -0\.1.*no group was changed/);
      expect(sched.lastEpoch).toBe(1);
      expect(opt.paramGroups.map((g) => g.lr)).toEqual([0.05, 0.1]);
      const huge = new ExponentialLR(new SGD([q], { lr: 1 }), { gamma: 1e300 });
      huge.step();
      expectAxonError(() => huge.step(), /would be Infinity/);
      huge.optimizer.dispose();
      opt.dispose();
      q.dispose();
    });
  });
});
