/**
 * Adamax, NAdam, RAdam, Adadelta and the schedules LinearLR, ConstantLR, MultiplicativeLR,
 * PolynomialLR, CosineAnnealingWarmRestarts and CyclicLR: bad options, all-or-nothing failures,
 * NAdam's rank-0 state, CyclicLR's beta1 and late groups, memory.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AxonError, type Tensor, memory, tensor } from '@axon/core';
import {
  Adadelta,
  Adagrad,
  Adam,
  Adamax,
  ChainedScheduler,
  ConstantLR,
  CosineAnnealingWarmRestarts,
  CyclicLR,
  LinearLR,
  LinearWarmup,
  MultiplicativeLR,
  NAdam,
  type Optimizer,
  PolynomialLR,
  RAdam,
  SGD,
  SequentialLR,
} from '../src/index.js';
import { SEED, expectClose, param, rng, setGrad, useTestBackend, values } from './helpers.js';
import { type RefState, refNAdam } from './reference.js';

beforeAll(async () => {
  await useTestBackend();
});
let baseline = 0;
beforeAll(() => {
  baseline = memory().numTensors;
});
afterEach(() => {
  expect(memory().numTensors).toBe(baseline);
});

function done(opt: Optimizer, ...ts: Tensor[]): void {
  const ps = opt.params;
  opt.dispose();
  for (const p of [...ps, ...ts]) {
    p.grad?.dispose();
    p.grad = null;
    if (!p.isDisposed) p.dispose();
  }
}

/** Runs `fn`, expects an AxonError whose message matches every pattern. */
function refused(fn: () => unknown, ...patterns: RegExp[]): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, String(patterns)).toBeInstanceOf(AxonError);
  for (const p of patterns) expect((err as Error).message).toMatch(p);
}

describe('optimizers: bad options name the class and the option', () => {
  const cases: [string, (ps: Tensor[], o: Record<string, unknown>) => Optimizer, Record<string, unknown>, RegExp][] = [
    ['Adamax', (ps, o) => new Adamax(ps, o), { lr: -1 }, /Adamax\.options: lr must be a finite number >= 0, got -1/],
    ['Adamax', (ps, o) => new Adamax(ps, o), { betas: [1, 0.9] }, /Adamax\.options: betas\[0\] must be in \[0, 1\), got 1/],
    ['Adamax', (ps, o) => new Adamax(ps, o), { betas: [0.9] }, /Adamax\.options: betas must be \[beta1, beta2\]/],
    ['Adamax', (ps, o) => new Adamax(ps, o), { maximize: 'yes' }, /Adamax\.options: maximize must be a boolean/],
    ['Adamax', (ps, o) => new Adamax(ps, o), { amsgrad: true }, /Adamax: unknown option 'amsgrad'/],
    ['NAdam', (ps, o) => new NAdam(ps, o), { momentumDecay: -0.1 }, /NAdam\.options: momentumDecay must be a finite number >= 0/],
    ['NAdam', (ps, o) => new NAdam(ps, o), { eps: NaN }, /NAdam\.options: eps must be a finite number >= 0, got NaN/],
    // PyTorch 1.13's NAdam and RAdam have no maximize
    ['NAdam', (ps, o) => new NAdam(ps, o), { maximize: true }, /NAdam: unknown option 'maximize'/],
    ['RAdam', (ps, o) => new RAdam(ps, o), { maximize: true }, /RAdam: unknown option 'maximize'/],
    ['RAdam', (ps, o) => new RAdam(ps, o), { betas: [0.9, 1] }, /RAdam\.options: betas\[1\] must be in \[0, 1\), got 1/],
    ['RAdam', (ps, o) => new RAdam(ps, o), { weightDecay: Infinity }, /RAdam\.options: weightDecay must be a finite number/],
    ['Adadelta', (ps, o) => new Adadelta(ps, o), { rho: 1.5 }, /Adadelta\.options: rho must be in \[0, 1\], got 1\.5/],
    ['Adadelta', (ps, o) => new Adadelta(ps, o), { rho: -0.5 }, /Adadelta\.options: rho must be a finite number >= 0/],
    ['Adadelta', (ps, o) => new Adadelta(ps, o), { learningRate: 1 }, /Adadelta: unknown option 'learningRate'.*optimizer\(\{ name, \.\.\. \}\)/],
  ];
  for (const [name, make, o, re] of cases) {
    it(`${name}(${JSON.stringify(o)})`, () => {
      const p = param([1, 2], [2]);
      refused(() => make([p], o), re);
      // and as a param group's value (addParamGroup validates the same way)
      const opt = make([], {});
      if (!/unknown option/.test(re.source)) refused(() => opt.addParamGroup({ params: [p], ...o }), new RegExp(name));
      expect(opt.paramGroups.length).toBe(0);
      opt.dispose();
      p.dispose();
    });
  }
  it('accept the edges PyTorch accepts: Adadelta rho 1 and 0, betas 0, eps 0', () => {
    const p = param([1, 2], [2]);
    for (const opt of [new Adadelta([p], { rho: 1 }), new Adadelta([p], { rho: 0 }), new RAdam([p], { betas: [0, 0] }), new Adamax([p], { eps: 0 }), new NAdam([p], { momentumDecay: 0 })]) opt.dispose();
    p.dispose();
  });
});

describe('a failed step changes nothing', () => {
  for (const [name, make] of [
    ['Adamax', (ps: Tensor[]) => new Adamax(ps, { lr: 0.1 })],
    ['NAdam', (ps: Tensor[]) => new NAdam(ps, { lr: 0.1 })],
    ['RAdam', (ps: Tensor[]) => new RAdam(ps, { lr: 0.1, betas: [0.9, 0.5] })],
    ['Adadelta', (ps: Tensor[]) => new Adadelta(ps)],
  ] as const) {
    it(`${name}: a disposed grad on the last parameter, after two good steps`, () => {
      const r = rng(SEED + 11);
      const ps = [param(r.normal(6), [2, 3]), param(r.normal(1), [])];
      const opt = make(ps);
      for (let i = 0; i < 2; i++) {
        ps.forEach((p) => setGrad(p, r.normal(p.size)));
        opt.step();
      }
      const before = ps.map(values);
      const sd0 = opt.stateDict();
      const state0 = Object.fromEntries(Object.entries(sd0.tensors).map(([k, t]) => [k, values(t)]));
      ps.forEach((p) => setGrad(p, r.normal(p.size)));
      ps[1]!.grad!.dispose();
      const mem = memory();
      refused(() => opt.step(), new RegExp(`${name}\\.step`), /disposed/);
      expect(memory().numTensors).toBe(mem.numTensors);
      expect(memory().numBytes).toBe(mem.numBytes);
      ps.forEach((p, i) => expect(values(p)).toEqual(before[i]));
      ps.forEach((p) => expect(opt.stepCount(p)).toBe(2));
      const sd1 = opt.stateDict();
      expect(Object.keys(sd1.tensors)).toEqual(Object.keys(sd0.tensors));
      for (const [k, t] of Object.entries(sd1.tensors)) expect(values(t), k).toEqual(state0[k]);
      for (const t of [...Object.values(sd0.tensors), ...Object.values(sd1.tensors)]) t.dispose();
      ps[1]!.grad = null;
      done(opt);
    });
  }
});

describe('NAdam: muProduct, a rank-0 state tensor', () => {
  it('is saved with shape [] and holds the product of the mus; a wrong shape is refused on load', () => {
    const w = param([1, 2, 3, 4], [2, 2], 'w');
    const opt = new NAdam([w], { lr: 0.1, momentumDecay: 0.1 });
    for (let i = 0; i < 3; i++) {
      setGrad(w, [0.1, -0.2, 0.3, -0.4]);
      opt.step();
    }
    const sd = opt.stateDict();
    expect(sd.meta.state['0']).toEqual({ step: 3, keys: ['expAvg', 'expAvgSq', 'muProduct'] });
    const prod = sd.tensors['state.0.muProduct']!;
    expect(prod.shape).toEqual([]);
    const mu = (t: number): number => 0.9 * (1 - 0.5 * 0.96 ** (t * 0.1));
    expectClose(values(prod), [mu(1) * mu(2) * mu(3)], 1e-6);
    // a state tensor shaped like the parameter is not a muProduct
    const w2 = param([1, 2, 3, 4], [2, 2], 'w');
    const opt2 = new NAdam([w2], { lr: 0.1, momentumDecay: 0.1 });
    const bad = tensor([[1, 1], [1, 1]]);
    refused(() => opt2.loadStateDict({ meta: sd.meta, tensors: { ...sd.tensors, 'state.0.muProduct': bad } }), /NAdam\.loadStateDict: 'state\.0\.muProduct' has shape \[2,2\], expected \[\]/);
    expect(opt2.stepCount(w2)).toBe(0);
    opt2.loadStateDict(sd);
    expect(opt2.stepCount(w2)).toBe(3);
    for (const t of [...Object.values(sd.tensors), bad]) t.dispose();
    done(opt);
    done(opt2);
  });

  it('accumulates the mus of a beta1 that CyclicLR changes every step (float64 reference)', () => {
    const r = rng(SEED + 12);
    const init = r.normal(5);
    const w = param(init, [5]);
    const opt = new NAdam([w], { lr: 0.05 });
    const sched = new CyclicLR(opt, { baseLr: 0.01, maxLr: 0.05, stepSizeUp: 2, baseMomentum: 0.8, maxMomentum: 0.95 });
    let ref = [...init];
    const st: RefState = { step: 0 };
    const betas = new Set<number>();
    for (let t = 0; t < 8; t++) {
      const g = r.normal(5);
      const h = opt.paramGroups[0]!;
      betas.add(h.betas[0]);
      ref = refNAdam(ref, g, st, { lr: h.lr, betas: [h.betas[0], h.betas[1]] });
      setGrad(w, g);
      opt.step();
      sched.step();
      expectClose(values(w), ref, 1e-5, `step ${t + 1}`);
    }
    expect(betas.size).toBeGreaterThan(2);
    done(opt);
  });
});

describe('schedules: bad options name the class and the option, and change nothing', () => {
  const opt = (): SGD => new SGD([param([1], [1])], { lr: 0.1, momentum: 0.9 });
  const cases: [string, (o: SGD) => unknown, RegExp][] = [
    ['LinearLR startFactor 0', (o) => new LinearLR(o, { startFactor: 0 }), /LinearLR: startFactor must be in \(0, 1\], got 0/],
    ['LinearLR endFactor 2', (o) => new LinearLR(o, { endFactor: 2 }), /LinearLR: endFactor must be in \[0, 1\], got 2/],
    ['LinearLR totalIters 1.5', (o) => new LinearLR(o, { totalIters: 1.5 }), /LinearLR: totalIters must be an integer >= 1, got 1\.5/],
    ['LinearLR unknown', (o) => new LinearLR(o, { start_factor: 0.5 } as never), /LinearLR: unknown option 'start_factor'/],
    ['ConstantLR factor', (o) => new ConstantLR(o, { factor: 1.5 }), /ConstantLR: factor must be in \[0, 1\], got 1\.5/],
    ['ConstantLR totalIters', (o) => new ConstantLR(o, { totalIters: 0 }), /ConstantLR: totalIters must be an integer >= 1, got 0/],
    ['MultiplicativeLR', (o) => new MultiplicativeLR(o, 0.9 as never), /MultiplicativeLR: unknown option|MultiplicativeLR: options must be an object/],
    ['MultiplicativeLR options', (o) => new MultiplicativeLR(o, { lrLambda: 'x' } as never), /MultiplicativeLR: lrLambda must be a function/],
    ['PolynomialLR power', (o) => new PolynomialLR(o, { power: -1 }), /PolynomialLR: power must be a finite number >= 0, got -1/],
    ['PolynomialLR totalIters', (o) => new PolynomialLR(o, { totalIters: 0 }), /PolynomialLR: totalIters must be an integer >= 1/],
    ['CosineAnnealingWarmRestarts t0', (o) => new CosineAnnealingWarmRestarts(o, { t0: 0 }), /CosineAnnealingWarmRestarts: t0 must be an integer >= 1, got 0/],
    ['CosineAnnealingWarmRestarts tMult', (o) => new CosineAnnealingWarmRestarts(o, { t0: 2, tMult: 1.5 }), /CosineAnnealingWarmRestarts: tMult must be an integer >= 1, got 1\.5/],
    ['CosineAnnealingWarmRestarts T_0', (o) => new CosineAnnealingWarmRestarts(o, { T_0: 2 } as never), /CosineAnnealingWarmRestarts: unknown option 'T_0'/],
    ['CyclicLR needs the boundaries', (o) => new CyclicLR(o, { maxLr: 1 } as never), /CyclicLR: needs baseLr and maxLr/],
    ['CyclicLR mode', (o) => new CyclicLR(o, { baseLr: 0.1, maxLr: 1, mode: 'cosine' as never }), /CyclicLR: mode must be 'triangular', 'triangular2' or 'exp_range', got 'cosine'/],
    ['CyclicLR stepSizeUp', (o) => new CyclicLR(o, { baseLr: 0.1, maxLr: 1, stepSizeUp: 0 }), /CyclicLR: stepSizeUp must be a finite number > 0, got 0/],
    ['CyclicLR per-group length', (o) => new CyclicLR(o, { baseLr: [0.1, 0.2], maxLr: 1 }), /CyclicLR: expected 1 values for baseLr \(one per param group\), got 2/],
    ['CyclicLR momentum in [0, 1) for betas', (o) => new CyclicLR(o, { baseLr: 0.1, maxLr: 1, maxMomentum: -1 }), /CyclicLR: maxMomentum must be a finite number >= 0, got -1/],
  ];
  for (const [what, make, re] of cases) {
    it(what, () => {
      const o = opt();
      const before = JSON.stringify(o.paramGroups.map(({ params: _p, ...h }) => h));
      refused(() => make(o), re);
      expect(JSON.stringify(o.paramGroups.map(({ params: _p, ...h }) => h))).toBe(before);
      done(o);
    });
  }
  it('CyclicLR: an optimizer without momentum or betas needs cycleMomentum: false', () => {
    for (const o of [new Adagrad([param([1], [1])]), new Adadelta([param([1], [1])])]) {
      refused(() => new CyclicLR(o, { baseLr: 0.1, maxLr: 1 }), new RegExp(`CyclicLR: the ${o.name} optimizer has no momentum \\(nor betas\\) to cycle; pass cycleMomentum: false`));
      expect(o.paramGroups[0]!.initialLr).toBeUndefined();
      const s = new CyclicLR(o, { baseLr: 0.1, maxLr: 1, stepSizeUp: 2, cycleMomentum: false });
      s.step();
      expect(o.lr).toBeCloseTo(0.55, 12);
      done(o);
    }
  });
  it('CyclicLR: a beta1 that would leave [0, 1) is refused at the step that reaches it, nothing changed', () => {
    const o = new Adam([param([1], [1])]);
    refused(() => new CyclicLR(o, { baseLr: 0.1, maxLr: 1, maxMomentum: 1 }), /CyclicLR: the momentum of param group 0 at step 0 would be 1; it must be in \[0, 1\) \(beta1\)/);
    expect(o.paramGroups[0]!.initialLr).toBeUndefined();
    expect(o.paramGroups[0]!.betas).toEqual([0.9, 0.999]);
    expect(o.lr).toBe(1e-3);
    done(o);
  });
  it('MultiplicativeLR: a factor that gives NaN at step 3 refuses that step and changes nothing', () => {
    const o = opt();
    const s = new MultiplicativeLR(o, { lrLambda: (t) => (t === 3 ? NaN : 0.5) });
    s.step();
    s.step();
    refused(() => s.step(), /MultiplicativeLR: the learning rate of param group 0 at step 3 would be NaN/);
    expect([o.lr, s.lastEpoch]).toEqual([0.025, 2]);
    done(o);
  });
});

describe('schedules: behaviour', () => {
  it('CyclicLR over Adam cycles beta1 (beta2 kept) and gives a late group its base lr and momentum', () => {
    const o = new Adam([param([1], [1])], { betas: [0.5, 0.99] });
    const s = new CyclicLR(o, { baseLr: 0.01, maxLr: 0.05, stepSizeUp: 2 });
    expect(o.paramGroups[0]!.betas).toEqual([0.9, 0.99]);
    s.step();
    expect(o.paramGroups[0]!.betas[0]).toBeCloseTo(0.85, 12);
    expect(o.paramGroups[0]!.betas[1]).toBe(0.99);
    o.addParamGroup({ params: [param([2], [1])], lr: 7 });
    expect(o.paramGroups[1]).toMatchObject({ initialLr: 0.01 });
    expect(o.paramGroups[1]!.lr).toBeCloseTo(0.03, 12);
    expect(o.paramGroups[1]!.betas[0]).toBeCloseTo(0.85, 12);
    s.step();
    expect(s.getLastLr().map((x) => +x.toFixed(12))).toEqual([0.05, 0.05]);
    done(o);
  });
  it('CyclicLR: per-group boundaries cannot serve a group added later', () => {
    const o = new SGD([param([1], [1])], { momentum: 0.9 });
    new CyclicLR(o, { baseLr: [0.01], maxLr: [0.05], stepSizeUp: 2 });
    const late = param([2], [1]);
    refused(() => o.addParamGroup({ params: [late] }), /CyclicLR: baseLr has one value per param group \(1\); a group added later \(index 1\) has none/);
    expect(o.paramGroups.length).toBe(1);
    done(o, late);
  });
  it('CosineAnnealingWarmRestarts: cycles t0, t0·tMult, …; lrAt is closed-form for any t', () => {
    const o = new SGD([param([1], [1])], { lr: 1 });
    const s = new CosineAnnealingWarmRestarts(o, { t0: 3, tMult: 2 });
    const restarts: number[] = [];
    for (let t = 0; t < 50; t++) if (s.cycleAt(t).tCur === 0) restarts.push(t);
    expect(restarts).toEqual([0, 3, 9, 21, 45]);
    expect(s.lrAt(1_000_000, 1)).toBeCloseTo(0.5 * (1 + Math.cos((Math.PI * (1_000_000 - 786_429)) / 786_432)), 12);
    done(o);
  });
  it('compose: LinearLR + MultiplicativeLR in ChainedScheduler, PolynomialLR after a warm-up, groups added later', () => {
    const o = new SGD([param([1], [1])], { lr: 1 });
    const chain = new ChainedScheduler(o, [new LinearLR(o, { startFactor: 0.5, totalIters: 2 }), new MultiplicativeLR(o, () => 0.5)]);
    const lrs: number[] = [];
    for (let t = 0; t < 4; t++) {
      lrs.push(o.lr);
      chain.step();
    }
    expect(lrs).toEqual([0.5, 0.375, 0.25, 0.125]);
    o.addParamGroup({ params: [param([2], [1])], lr: 2 });
    expect(chain.getLastLr()).toEqual([0.0625, 0.125]);
    const o2 = new SGD([param([1], [1])], { lr: 1 });
    const warm = new LinearWarmup(o2, { warmupSteps: 2, after: new PolynomialLR(o2, { totalIters: 2, power: 2 }) });
    const seq = new SequentialLR(o2, [warm, new ConstantLR(o2, { factor: 0.1, totalIters: 1 })], [4]);
    const lrs2: number[] = [];
    for (let t = 0; t < 6; t++) {
      lrs2.push(o2.lr);
      seq.step();
    }
    expect(lrs2).toEqual([0, 0.5, 1, 0.25, 0.1, 1]);
    done(o);
    done(o2);
  });
  it('allocate no tensors', () => {
    const p = param([1], [1]);
    const o = new Adam([p]);
    const before = memory().numTensors;
    const ss = [new CyclicLR(o, { baseLr: 0.01, maxLr: 0.1, stepSizeUp: 3 }), new CosineAnnealingWarmRestarts(o, { t0: 3 }), new PolynomialLR(o), new LinearLR(o), new ConstantLR(o), new MultiplicativeLR(o, () => 0.99)];
    for (let i = 0; i < 50; i++) for (const s of ss) s.step();
    expect(memory().numTensors).toBe(before);
    done(o);
  });
});
