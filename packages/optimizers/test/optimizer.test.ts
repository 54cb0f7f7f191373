/** The Optimizer base: validation, all-or-nothing steps, state dicts, memory, no read-back, convergence. */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AxonError, type Tensor, getBackend, memory, tensor, tidy, zeros } from '@axon/core';
import {
  Adadelta,
  Adagrad,
  Adam,
  Adamax,
  AdamW,
  NAdam,
  RAdam,
  type BaseHyperparams,
  CosineAnnealingLR,
  LinearWarmup,
  Optimizer,
  type OptimizerStateDict,
  type ParamUpdate,
  RMSprop,
  SGD,
  type TensorState,
  clipGradNorm,
  optimizer,
} from '../src/index.js';
import { SEED, expectClose, param, rng, setGrad, useTestBackend, values } from './helpers.js';

beforeAll(async () => {
  await useTestBackend();
});

let baseline = 0;
beforeAll(() => {
  baseline = memory().numTensors;
});
afterEach(() => {
  // every test disposes what it created
  expect(memory().numTensors).toBe(baseline);
});

function disposeAll(...xs: (Tensor | Optimizer | OptimizerStateDict)[]): void {
  for (const x of xs) {
    if ('meta' in x) for (const t of Object.values(x.tensors)) t.dispose();
    else x.dispose();
  }
}

const MAKERS: Record<string, (ps: Tensor[]) => Optimizer> = {
  sgd: (ps) => new SGD(ps, { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01 }),
  adam: (ps) => new Adam(ps, { lr: 0.05, amsgrad: true, weightDecay: 0.01 }),
  adamw: (ps) => new AdamW(ps, { lr: 0.05 }),
  rmsprop: (ps) => new RMSprop(ps, { lr: 0.01, centered: true, momentum: 0.9 }),
  adagrad: (ps) => new Adagrad(ps, { lr: 0.1, lrDecay: 0.01 }),
  'adam+globalClipNorm': (ps) => new Adam(ps, { lr: 0.05, globalClipNorm: 0.5 }),
  'sgd+clipNorm': (ps) => new SGD(ps, { lr: 0.05, momentum: 0.5, clipNorm: 0.5 }),
  'rmsprop+clipValue': (ps) => new RMSprop(ps, { lr: 0.05, clipValue: 0.1 }),
  adamax: (ps) => new Adamax(ps, { lr: 0.05, weightDecay: 0.01 }),
  nadam: (ps) => new NAdam(ps, { lr: 0.05, weightDecay: 0.01 }),
  radam: (ps) => new RAdam(ps, { lr: 0.05, betas: [0.9, 0.9], weightDecay: 0.01 }),
  'adadelta+maximize': (ps) => new Adadelta(ps, { lr: 1, maximize: true, globalClipNorm: 0.5 }),
};

it('runs on the wasm backend', () => {
  expect(getBackend().name).toBe('wasm');
});

describe('construction', () => {
  it('validates parameters and hyperparameters', () => {
    const p = param([1, 2], [2]);
    const q = tensor([1, 2]);
    const i = tensor([1, 2], [2], 'int32');
    i.requiresGrad = true; // core's requireGrad() refuses int32; the optimizer checks too
    expect(() => new SGD([q])).toThrow(/does not require grad/);
    expect(() => new SGD([i])).toThrow(/must be float32/);
    expect(() => new SGD([p, p])).toThrow(/more than once/);
    expect(() => new SGD([{ params: [p] }, { params: [p] }])).toThrow(AxonError);
    expect(() => new SGD([p], { lr: -1 })).toThrow(/lr must be/);
    expect(() => new SGD([p], { nesterov: true })).toThrow(/Nesterov/);
    expect(() => new Adam([p], { betas: [1, 0.9] })).toThrow(/betas\[0\]/);
    expect(() => new Adam([{ params: [p], momentum: 0.9 } as never])).toThrow(/unknown hyperparameter 'momentum'/);
    expect(() => new Adam([p], { clipNorm: 1, clipValue: 1 })).toThrow(/only one of/);
    expect(() => new Adam([p], { clipNorm: 0 })).toThrow(/clipNorm/);
    disposeAll(p, q, i);
  });

  it('accepts an empty list and later param groups', () => {
    const p = param([1, 2], [2]);
    const opt = new Adam([]);
    expect(opt.paramGroups).toHaveLength(0);
    expect(opt.lr).toBe(1e-3);
    opt.addParamGroup({ params: [p], lr: 0.1 });
    expect(opt.paramGroups[0]!.lr).toBe(0.1);
    expect(opt.params).toEqual([p]);
    disposeAll(opt, p);
  });
});

describe('step', () => {
  it('skips parameters without a grad and zeroGrad disposes grads', () => {
    const a = param([1, 2], [2]);
    const b = param([3], [1]);
    const opt = new SGD([a, b], { lr: 0.5 });
    setGrad(a, [1, 1]);
    opt.step();
    expect(values(a)).toEqual([0.5, 1.5]);
    expect(values(b)).toEqual([3]);
    expect(opt.stepCount(a)).toBe(1);
    expect(opt.stepCount(b)).toBe(0);
    const g = a.grad!;
    opt.zeroGrad();
    expect(a.grad).toBeNull();
    expect(g.isDisposed).toBe(true);
    opt.step(); // no grads: a no-op
    expect(values(a)).toEqual([0.5, 1.5]);
    disposeAll(opt, a, b);
  });

  it('keeps parameter identity (assign) and works inside a tidy', () => {
    const a = param([1, 2], [2]);
    const opt = new Adam([a], { lr: 0.1 });
    const id = a.id;
    tidy(() => {
      setGrad(a, [1, -1]);
      opt.step();
      opt.step();
    });
    expect(a.id).toBe(id);
    expect(a.requiresGrad).toBe(true);
    expect(a.isDisposed).toBe(false);
    // state survived the tidy: a third step still works and continues the trajectory
    setGrad(a, [1, -1]);
    opt.step();
    expect(opt.stepCount(a)).toBe(3);
    expect(values(a).every(Number.isFinite)).toBe(true);
    disposeAll(opt, a);
  });

  for (const [name, make] of Object.entries(MAKERS)) {
    it(`${name}: a mismatched grad shape throws and leaves every parameter and all state unchanged`, () => {
      const r = rng(SEED + 3);
      const ps = [param(r.normal(6), [2, 3]), param(r.normal(4), [4]), param(r.normal(2), [2])];
      const opt = make(ps);
      ps.forEach((p) => setGrad(p, r.normal(p.size)));
      opt.step(); // create state
      const before = ps.map(values);
      const sdBefore = opt.stateDict();
      const stateBefore = Object.fromEntries(Object.entries(sdBefore.tensors).map(([k, t]) => [k, values(t)]));
      setGrad(ps[0]!, r.normal(6));
      setGrad(ps[1]!, r.normal(4));
      setGrad(ps[2]!, r.normal(3), [3]); // the last one is wrong
      const mem = memory();
      expect(() => opt.step()).toThrow(AxonError);
      expect(() => opt.step()).toThrow(/grad \[3\] does not match parameter #\d+ \[2\]/);
      expect(memory().numTensors).toBe(mem.numTensors);
      expect(memory().numBytes).toBe(mem.numBytes);
      ps.forEach((p, i) => expect(values(p)).toEqual(before[i]));
      ps.forEach((p) => expect(opt.stepCount(p)).toBe(1));
      const sdAfter = opt.stateDict();
      for (const [k, t] of Object.entries(sdAfter.tensors)) expect(values(t), k).toEqual(stateBefore[k]);
      disposeAll(sdBefore, sdAfter, opt, ...ps);
    });
  }

  it('custom optimizers subclass Optimizer; an error inside an update rule changes nothing', () => {
    class SignSGD extends Optimizer<BaseHyperparams & { failOn: number }> {
      constructor(params: Tensor[], lr: number) {
        super('SignSGD', params, { lr, weightDecay: 0, failOn: -1 });
      }
      protected validateHyperparams(): void {}
      protected stateKeys(): readonly string[] {
        return ['last'];
      }
      protected allStateKeys(): readonly string[] {
        return ['last'];
      }
      protected computeUpdate(p: Tensor, g: Tensor, _s: TensorState, h: BaseHyperparams & { failOn: number }): ParamUpdate {
        if (p.size === h.failOn) throw new Error('boom');
        return { param: p.sub(g.sign().mul(h.lr)), state: { last: g.sign() } };
      }
    }
    const a = param([1, 2], [2]);
    const b = param([3, 4, 5], [3]);
    const opt = new SignSGD([a, b], 0.5);
    setGrad(a, [2, -3]);
    setGrad(b, [-1, 0, 1]);
    opt.step();
    expect(values(a)).toEqual([0.5, 2.5]);
    expect(values(b)).toEqual([3.5, 4, 4.5]);
    const m = memory();
    opt.paramGroups[0]!.failOn = 3; // the second parameter's update throws
    expect(() => opt.step()).toThrow('boom');
    expect(values(a)).toEqual([0.5, 2.5]);
    expect(values(b)).toEqual([3.5, 4, 4.5]);
    expect(opt.stepCount(a)).toBe(1);
    expect(memory().numTensors).toBe(m.numTensors);
    expect(memory().numBytes).toBe(m.numBytes);
    opt.paramGroups[0]!.failOn = -1;
    opt.step();
    expect(values(a)).toEqual([0, 3]);
    disposeAll(opt, a, b);
  });

  it('applyGradients: explicit [grad, param] pairs, .grad untouched, same trajectory as step()', () => {
    const r = rng(SEED + 13);
    const init = [r.normal(6), r.normal(3)];
    const a = [param(init[0]!, [2, 3]), param(init[1]!, [3])];
    const b = [param(init[0]!, [2, 3]), param(init[1]!, [3])];
    const optA = new Adam(a, { lr: 0.05, amsgrad: true });
    const optB = optimizer({ name: 'adam', lr: 0.05, amsgrad: true, defaults: 'pytorch' }); // no params yet
    for (let t = 0; t < 3; t++) {
      const gs = init.map((v) => r.normal(v.length));
      a.forEach((p, i) => setGrad(p, gs[i]!));
      optA.step();
      const grads = gs.map((g, i) => tensor(g, [...b[i]!.shape]));
      optB.applyGradients(grads.map((g, i) => [g, b[i]!] as const));
      grads.forEach((g) => g.dispose());
    }
    expect(optB.params).toEqual(b); // adopted on the first call
    b.forEach((p, i) => expect(values(p)).toEqual(values(a[i]!)));
    b.forEach((p) => expect(p.grad).toBeNull());
    // null grads and unlisted params are skipped
    const before = values(b[1]!);
    const g0 = tensor(r.normal(6), [2, 3]);
    optB.applyGradients([[g0, b[0]!], [null, b[1]!]]);
    expect(values(b[1]!)).toEqual(before);
    expect(optB.stepCount(b[0]!)).toBe(4);
    expect(optB.stepCount(b[1]!)).toBe(3);
    // errors: unknown parameter, duplicates, bad shape (nothing changes)
    const stranger = param([1], [1]);
    const snapshot = b.map(values);
    expect(() => optB.applyGradients([[g0, stranger]])).toThrow(/not in this optimizer/);
    expect(() => optB.applyGradients([[g0, b[0]!], [g0, b[0]!]])).toThrow(/more than once/);
    expect(() => optB.applyGradients([[g0, b[0]!], [g0, b[1]!]])).toThrow(/grad \[2,3\] does not match/);
    b.forEach((p, i) => expect(values(p)).toEqual(snapshot[i]));
    disposeAll(optA, optB, g0, stranger, ...a, ...b);
  });

  it('rejects a disposed grad, a wrong dtype, a disposed parameter', () => {
    const a = param([1, 2], [2]);
    const b = param([1, 2], [2]);
    const opt = new SGD([a, b], { lr: 0.1 });
    setGrad(a, [1, 1]);
    b.grad = tensor([1, 1], [2], 'int32');
    expect(() => opt.step()).toThrow(/dtype int32/);
    b.grad.dispose();
    expect(() => opt.step()).toThrow(/was disposed/);
    b.grad = null;
    b.dispose();
    expect(() => opt.step()).toThrow(/was disposed/);
    expect(values(a)).toEqual([1, 2]);
    disposeAll(opt, a);
  });

  it('refuses to run after dispose()', () => {
    const a = param([1], [1]);
    const opt = new SGD([a]);
    opt.dispose();
    opt.dispose();
    expect(opt.isDisposed).toBe(true);
    expect(() => opt.step()).toThrow(/disposed/);
    disposeAll(a);
  });

  for (const [name, make] of Object.entries(MAKERS)) {
    it(`${name}: reads nothing back from the backend during step()`, () => {
      const r = rng(SEED + 4);
      const ps = [param(r.normal(6), [2, 3]), param(r.normal(3), [3])];
      const opt = make(ps);
      ps.forEach((p) => setGrad(p, r.normal(p.size)));
      const backend = getBackend() as unknown as Record<string, unknown>;
      const orig = { read: backend['read'], readSync: backend['readSync'] };
      let reads = 0;
      backend['read'] = (...args: unknown[]) => {
        reads++;
        return (orig.read as (...a: unknown[]) => unknown).apply(backend, args);
      };
      backend['readSync'] = (...args: unknown[]) => {
        reads++;
        return (orig.readSync as (...a: unknown[]) => unknown).apply(backend, args);
      };
      try {
        opt.step();
        opt.step();
      } finally {
        backend['read'] = orig.read;
        backend['readSync'] = orig.readSync;
      }
      expect(reads).toBe(0);
      disposeAll(opt, ...ps);
    });
  }
});

describe('memory', () => {
  for (const [name, make] of Object.entries(MAKERS)) {
    it(`${name}: 1,000 steps leave numTensors and numBytes where the first step left them`, () => {
      const r = rng(SEED + 5);
      const ps = [param(r.normal(12), [3, 4]), param(r.normal(4), [4]), param(r.normal(1), [])];
      const opt = make(ps);
      ps.forEach((p) => setGrad(p, r.normal(p.size, 0.1)));
      opt.step();
      const m0 = memory();
      for (let i = 0; i < 999; i++) opt.step();
      const m1 = memory();
      expect(m1.numTensors).toBe(m0.numTensors);
      expect(m1.numBytes).toBe(m0.numBytes);
      expect(m1.numStorages).toBe(m0.numStorages);
      // the backend's own accounting agrees (no buffer leaked below core either)
      const name = getBackend().name;
      expect(m1.backends[name]?.buffers).toBe(m0.backends[name]?.buffers);
      expect(m1.backends[name]?.bytes).toBe(m0.backends[name]?.bytes);
      expect(opt.stepCount(ps[0]!)).toBe(1000);
      expect(values(ps[0]!).every(Number.isFinite)).toBe(true);
      opt.dispose();
      ps.forEach((p) => {
        p.grad!.dispose();
        p.grad = null;
      });
      disposeAll(...ps);
    });
  }

  it('dispose() frees the state', () => {
    const p = param([1, 2, 3], [3]);
    const before = memory();
    const opt = new Adam([p], { amsgrad: true });
    setGrad(p, [1, 1, 1]);
    opt.step();
    expect(memory().numTensors).toBe(before.numTensors + 1 + 3); // the grad + 3 state tensors
    opt.dispose();
    p.grad!.dispose();
    p.grad = null;
    expect(memory().numTensors).toBe(before.numTensors);
    expect(memory().numBytes).toBe(before.numBytes);
    disposeAll(p);
  });
});

describe('stateDict / loadStateDict', () => {
  for (const [name, make] of Object.entries(MAKERS)) {
    it(`${name}: a JSON round trip continues identically`, () => {
      const r = rng(SEED + 6);
      const init = [r.normal(6), r.normal(3)];
      const shapes = [[2, 3], [3]];
      const a = init.map((v, i) => param(v, shapes[i]!, `p${i}`));
      const optA = make(a);
      const grads = Array.from({ length: 6 }, () => init.map((v) => r.normal(v.length)));
      for (let t = 0; t < 3; t++) {
        a.forEach((p, i) => setGrad(p, grads[t]![i]!));
        optA.step();
      }
      // a second model at the same point
      const b = a.map((p, i) => param(values(p), shapes[i]!, `p${i}`));
      const optB = make(b);
      optB.lr = 123; // overwritten by the load
      const sd = optA.stateDict();
      const json = JSON.parse(JSON.stringify(sd.meta)) as OptimizerStateDict['meta'];
      optB.loadStateDict({ meta: json, tensors: sd.tensors });
      disposeAll(sd); // the optimizer holds its own handles
      expect(optB.lr).toBe(optA.lr);
      b.forEach((p) => expect(optB.stepCount(p)).toBe(3));
      for (let t = 3; t < 6; t++) {
        a.forEach((p, i) => setGrad(p, grads[t]![i]!));
        b.forEach((p, i) => setGrad(p, grads[t]![i]!));
        optA.step();
        optB.step();
      }
      a.forEach((p, i) => expect(values(b[i]!)).toEqual(values(p)));
      disposeAll(optA, optB, ...a, ...b);
    });
  }

  it('meta is plain JSON with named tensors', () => {
    const p = param([1, 2], [2], 'w');
    const opt = new Adam([p], { lr: 0.1 });
    setGrad(p, [1, 1]);
    opt.step();
    const sd = opt.stateDict();
    expect(Object.keys(sd.tensors).sort()).toEqual(['state.0.expAvg', 'state.0.expAvgSq']);
    expect(JSON.parse(JSON.stringify(sd.meta))).toEqual(sd.meta);
    expect(sd.meta.optimizer).toBe('Adam');
    expect(sd.meta.paramGroups[0]!.params[0]).toEqual({ index: 0, name: 'w', shape: [2] });
    expect(sd.meta.paramGroups[0]!.hyperparams['betas']).toEqual([0.9, 0.999]);
    expect(sd.meta.state['0']).toEqual({ step: 1, keys: ['expAvg', 'expAvgSq'] });
    disposeAll(sd, opt, p);
  });

  it('validates: class, counts, shapes, names, hyperparameters, tensor names, shapes', () => {
    const p = param([1, 2], [2], 'w');
    const opt = new Adam([p], { lr: 0.1 });
    setGrad(p, [1, 1]);
    opt.step();
    const sd = opt.stateDict();
    const q = param([5, 6], [2], 'w');
    const target = new Adam([q], { lr: 0.3 });
    setGrad(q, [1, 1]);
    target.step();
    const targetBefore = target.stateDict();
    const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;
    const bad = (mutate: (m: Record<string, unknown>, t: Record<string, Tensor>) => void, re: RegExp) => {
      const meta = clone(sd.meta) as unknown as Record<string, unknown>;
      const tensors = { ...sd.tensors };
      mutate(meta, tensors);
      expect(() => target.loadStateDict({ meta: meta as unknown as OptimizerStateDict['meta'], tensors })).toThrow(re);
    };
    type G = { params: { shape: number[]; name: string | null }[]; hyperparams: Record<string, unknown> };
    bad((m) => (m['optimizer'] = 'SGD'), /for SGD/);
    bad((m) => (m['format'] = 'x'), /format/);
    bad((m) => (m['paramGroups'] as G[]).push((m['paramGroups'] as G[])[0]!), /2 param groups/);
    bad((m) => (m['paramGroups'] as G[])[0]!.params.push({ shape: [2], name: null }), /2 parameters/);
    bad((m) => ((m['paramGroups'] as G[])[0]!.params[0]!.shape = [3]), /shape \[3\]/);
    bad((m) => ((m['paramGroups'] as G[])[0]!.params[0]!.name = 'v'), /named 'v'/);
    bad((m) => ((m['paramGroups'] as G[])[0]!.hyperparams['momentum'] = 0.9), /hyperparameters/);
    bad((m) => ((m['paramGroups'] as G[])[0]!.hyperparams['lr'] = 'x'), /'lr'/);
    bad((m) => ((m['paramGroups'] as G[])[0]!.hyperparams['lr'] = -1), /lr must be/);
    bad((m) => ((m['state'] as Record<string, unknown>)['1'] = { step: 1, keys: [] }), /state for parameter '1'/);
    bad((m) => ((m['state'] as Record<string, { keys: string[] }>)['0']!.keys = ['expAvg']), /lacks 'expAvgSq'/);
    bad((m) => ((m['state'] as Record<string, { keys: string[] }>)['0']!.keys.push('bogus')), /unknown key 'bogus'/);
    bad((_, t) => delete t['state.0.expAvg'], /missing tensor 'state.0.expAvg'/);
    const extra = zeros([2]);
    const wrong = zeros([3]);
    bad((_, t) => (t['state.0.extra'] = extra), /unexpected tensor 'state.0.extra'/);
    bad((_, t) => (t['state.0.expAvg'] = wrong), /'state.0.expAvg' has shape \[3\]/);
    // nothing changed
    const after = target.stateDict();
    expect(target.lr).toBe(0.3);
    for (const [k, t] of Object.entries(after.tensors)) expect(values(t)).toEqual(values(targetBefore.tensors[k]!));
    disposeAll(sd, targetBefore, after, opt, target, p, q, extra, wrong);
  });

  it('loads state saved before any step (no state yet)', () => {
    const p = param([1, 2], [2]);
    const opt = new RMSprop([p], { lr: 0.2 });
    const sd = opt.stateDict();
    expect(sd.tensors).toEqual({});
    const q = param([1, 2], [2]);
    const opt2 = new RMSprop([q]);
    opt2.loadStateDict(sd);
    expect(opt2.lr).toBe(0.2);
    disposeAll(opt, opt2, p, q);
  });
});

describe('convergence', () => {
  // f(w) = Σ c_i (w_i − t_i)², minimum at t
  const target = [1, -2, 0.5, 3];
  const c = [1, 0.5, 2, 0.25];
  const cases: [string, (ps: Tensor[]) => Optimizer, number][] = [
    ['SGD', (ps) => new SGD(ps, { lr: 0.1 }), 300],
    ['SGD nesterov', (ps) => new SGD(ps, { lr: 0.05, momentum: 0.9, nesterov: true }), 300],
    ['Adam', (ps) => new Adam(ps, { lr: 0.05 }), 600],
    ['AdamW', (ps) => new AdamW(ps, { lr: 0.05, weightDecay: 0 }), 600],
    ['RMSprop', (ps) => new RMSprop(ps, { lr: 0.01 }), 800],
    ['Adagrad', (ps) => new Adagrad(ps, { lr: 0.5 }), 800],
    ['Adamax', (ps) => new Adamax(ps, { lr: 0.05 }), 800],
    ['NAdam', (ps) => new NAdam(ps, { lr: 0.05 }), 800],
    ['RAdam', (ps) => new RAdam(ps, { lr: 0.05 }), 800],
    ['Adadelta', (ps) => new Adadelta(ps, { lr: 10 }), 800],
  ];
  for (const [name, make, steps] of cases) {
    it(`${name} minimises a quadratic with loss.backward()`, () => {
      const w = param([0, 0, 0, 0], [4]);
      const t = tensor(target);
      const ct = tensor(c);
      const opt = make([w]);
      for (let i = 0; i < steps; i++) {
        tidy(() => w.sub(t).square().mul(ct).sum().backward());
        opt.step();
        opt.zeroGrad();
      }
      expectClose(values(w), target, 2e-3, name);
      disposeAll(opt, w, t, ct);
    });
  }

  it('trains a linear regression end to end (Adam + warm-up/cosine schedule + clipGradNorm)', () => {
    const r = rng(SEED + 9);
    const xs = r.normal(32 * 3);
    const trueW = [0.5, -1.5, 2];
    const ys = Array.from({ length: 32 }, (_, i) => trueW.reduce((a, w, j) => a + w * xs[i * 3 + j]!, 0.25));
    const x = tensor(xs, [32, 3]);
    const y = tensor(ys, [32, 1]);
    const w = param([0, 0, 0], [3, 1], 'w');
    const b = param([0], [1], 'b');
    const opt = new Adam([{ params: [w] }, { params: [b], lr: 0.05 }], { lr: 0.1 });
    const sched = new LinearWarmup(opt, { warmupSteps: 20, after: new CosineAnnealingLR(opt, { tMax: 480, etaMin: 1e-3 }) });
    const start = memory();
    for (let i = 0; i < 500; i++) {
      tidy(() => x.matmul(w).add(b).sub(y).square().mean().backward());
      clipGradNorm([w, b], 5).dispose();
      opt.step();
      opt.zeroGrad();
      sched.step();
      if (i === 0) {
        const m = memory();
        expect(m.numTensors).toBe(start.numTensors + 4); // Adam's state for w and b
      }
    }
    expectClose(values(w), trueW, 1e-2, 'w');
    expectClose(values(b), [0.25], 1e-2, 'b');
    expect(opt.paramGroups.map((g) => g.lr)).toEqual([expect.closeTo(sched.lrAt(500, 0.1), 12), expect.closeTo(sched.lrAt(500, 0.05), 12)]);
    disposeAll(opt, x, y, w, b);
  });
});
