/**
 * MultiStepLR, OneCycleLR and ReduceLROnPlateau beyond PyTorch's values (schedules-torch.test.ts):
 * bad input, all-or-nothing refusals, groups added later (the Keras path, issue 9), composition,
 * state dicts.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { AxonError, tensor } from '@axon/core';
import {
  Adagrad,
  Adam,
  type AnyOptimizer,
  ExponentialLR,
  LinearWarmup,
  MultiStepLR,
  OneCycleLR,
  type OneCycleLROptions,
  ReduceLROnPlateau,
  type ReduceLROnPlateauOptions,
  type ReduceLROnPlateauState,
  SGD,
  SequentialLR,
  type SchedulerState,
  optimizer,
} from '../src/index.js';
import { param, useTestBackend } from './helpers.js';

beforeAll(async () => {
  await useTestBackend();
});

function done(opt: AnyOptimizer): void {
  const ps = opt.params;
  opt.dispose();
  ps.forEach((p) => p.dispose());
}

/** Everything a schedule may change on the groups. */
function snapshot(opt: AnyOptimizer): unknown {
  return JSON.parse(JSON.stringify(opt.paramGroups.map((g) => ({ ...g, params: g.params.length }))));
}

const beta1 = (opt: AnyOptimizer, i = 0): number => (opt.paramGroups[i] as unknown as { betas: readonly number[] }).betas[0]!;

describe('MultiStepLR', () => {
  it('validates its arguments', () => {
    const opt = new SGD([param([1], [1])], { lr: 0.1 });
    const before = snapshot(opt);
    expect(() => new MultiStepLR(opt, [2, -1])).toThrow(/milestones\[1\] must be an integer >= 0/);
    expect(() => new MultiStepLR(opt, [1.5])).toThrow(/milestones\[0\]/);
    expect(() => new MultiStepLR(opt, 3 as unknown as number[])).toThrow(/options must be an object such as \{ milestones/);
    expect(() => new MultiStepLR(opt, [2], -0.5)).toThrow(/gamma/);
    expect(() => new MultiStepLR(opt, { milestones: [2] } as unknown as number[], 0.5)).toThrow(/not both/);
    expect(() => new MultiStepLR(opt, { milestones: [2], gama: 0.5 } as unknown as { milestones: number[] })).toThrow(/unknown option 'gama'/);
    expect(snapshot(opt)).toEqual(before);
    const s = new MultiStepLR(opt, [4, 1, 4]);
    expect(s.milestones).toEqual([1, 4, 4]);
    expect([0, 1, 3, 4, 9].map((t) => s.lrAt(t, 1))).toEqual([1, 0.1, 0.1, 0.1 ** 3, 0.1 ** 3]);
    done(opt);
  });
});

describe('OneCycleLR', () => {
  it('refuses bad options and optimizers without momentum, changing nothing', () => {
    const opt = new SGD([param([1], [1]), param([2], [1])].map((p) => ({ params: [p] })), { lr: 0.1 });
    const before = snapshot(opt);
    const bad: [unknown, RegExp][] = [
      [{ totalSteps: 10 }, /needs maxLr/],
      [{ maxLr: 0.1 }, /totalSteps OR \(epochs AND stepsPerEpoch\)/],
      [{ maxLr: 0.1, epochs: 2 }, /totalSteps OR/],
      [{ maxLr: 0.1, totalSteps: 10, epochs: 2, stepsPerEpoch: 5 }, /not both/],
      [{ maxLr: 0.1, totalSteps: 0 }, /totalSteps must be an integer >= 1/],
      [{ maxLr: 0.1, epochs: 2.5, stepsPerEpoch: 4 }, /epochs/],
      [{ maxLr: -1, totalSteps: 10 }, /maxLr/],
      [{ maxLr: [0.1], totalSteps: 10 }, /expected 2 values for maxLr/],
      [{ maxLr: 0.1, totalSteps: 10, pctStart: 1.5 }, /pctStart must be a number between 0 and 1/],
      [{ maxLr: 0.1, totalSteps: 10, pctStart: 0.1 }, /pctStart · totalSteps = 0.1 · 10 = 1/],
      [{ maxLr: 0.1, totalSteps: 10, annealStrategy: 'cosine' }, /annealStrategy must be 'cos' or 'linear'/],
      [{ maxLr: 0.1, totalSteps: 10, divFactor: 0 }, /divFactor must be a finite number > 0/],
      [{ maxLr: 0.1, totalSteps: 10, threePhase: 'yes' }, /threePhase must be a boolean/],
      [{ maxLr: 0.1, totalSteps: 10, maxMomentum: [0.9, 0.9, 0.9] }, /expected 2 values for maxMomentum/],
      [{ maxLr: 0.1, total_steps: 10 }, /unknown option 'total_steps'/],
    ];
    for (const [o, re] of bad) {
      expect(() => new OneCycleLR(opt, o as OneCycleLROptions), JSON.stringify(o)).toThrow(re);
      expect(snapshot(opt), JSON.stringify(o)).toEqual(before);
    }
    done(opt);
    const ada = new Adagrad([param([1], [1])], { lr: 0.1 });
    expect(() => new OneCycleLR(ada, { maxLr: 0.1, totalSteps: 10 })).toThrow(/Adagrad optimizer has no momentum.*cycleMomentum: false/);
    expect(ada.paramGroups[0]!.initialLr).toBeUndefined();
    const s = new OneCycleLR(ada, { maxLr: 0.1, totalSteps: 10, cycleMomentum: false });
    expect(ada.lr).toBeCloseTo(0.004, 15);
    expect(s.momentumKey).toBeNull();
    done(ada);
  });

  it('a beta1 the cycle would push to 1 or past is refused before anything changes', () => {
    const opt = new Adam([param([1], [1])]);
    const before = snapshot(opt);
    expect(() => new OneCycleLR(opt, { maxLr: 0.1, totalSteps: 10, maxMomentum: 1 })).toThrow(/momentum of param group 0 at step 0 would be 1; it must be in \[0, 1\)/);
    expect(snapshot(opt)).toEqual(before);
    done(opt);
  });

  it('sets every group from maxLr / divFactor, ignoring the optimizer lr, and cycles beta1 keeping beta2', () => {
    const opt = new Adam([{ params: [param([1], [1])] }, { params: [param([2], [1])], lr: 5, betas: [0.5, 0.98] }], { lr: 1 });
    const s = new OneCycleLR(opt, { maxLr: [0.01, 0.02], totalSteps: 10, baseMomentum: [0.8, 0.7], maxMomentum: 0.9 });
    expect(s.baseLrs).toEqual([0.01 / 25, 0.02 / 25]);
    // PyTorch's cosine at step 0 (end + (start − end)/2·2) is the initial lr to rounding
    s.getLastLr().forEach((lr, i) => expect(lr).toBeCloseTo([0.0004, 0.0008][i]!, 17));
    expect(opt.paramGroups.map((g) => g.betas)).toEqual([
      [0.9, 0.999],
      [0.9, 0.98],
    ]);
    for (let i = 0; i < 3; i++) s.step(); // the peak: t = pctStart·T = 3 − 1 + 1 → past it
    expect(beta1(opt, 0)).toBeLessThan(0.9);
    expect(opt.paramGroups[1]!.betas[1]).toBe(0.98);
    done(opt);
  });

  it('a group added later (the Keras path) gets maxLr / divFactor, the current lr and momentum, like a group present from the start', () => {
    const o: OneCycleLROptions = { maxLr: 0.01, totalSteps: 12, annealStrategy: 'linear' };
    const eager = new Adam([param([1], [1])], { lr: 0.5 });
    const late = optimizer('adam'); // no parameters yet
    const se = new OneCycleLR(eager, o);
    const sl = new OneCycleLR(late, o);
    late.addParamGroup({ params: [param([1], [1])] }); // what fit does
    expect(late.paramGroups[0]!.initialLr).toBe(0.01 / 25);
    const trace = (opt: AnyOptimizer, s: OneCycleLR) => {
      const out: number[][] = [];
      for (let t = 0; t < 6; t++) {
        out.push([opt.lr, beta1(opt)]);
        s.step();
      }
      return out;
    };
    expect(trace(late, sl)).toEqual(trace(eager, se));
    // a group added after 6 steps starts at step 6 of the cycle
    late.addParamGroup({ params: [param([2], [1])] });
    expect(late.paramGroups[1]!.lr).toBe(late.paramGroups[0]!.lr);
    expect(beta1(late, 1)).toBe(beta1(late, 0));
    done(eager);
    done(late);
  });

  it('with one maxLr per group, a group added later is refused (it has none) and nothing changes', () => {
    const opt = new SGD([param([1], [1])], { lr: 0.1 });
    const s = new OneCycleLR(opt, { maxLr: [0.1], totalSteps: 10 });
    const p = param([2], [1]);
    expect(() => opt.addParamGroup({ params: [p] })).toThrow(/maxLr has one value per param group/);
    expect(opt.paramGroups).toHaveLength(1);
    s.step();
    expect(opt.paramGroups).toHaveLength(1);
    done(opt);
    p.dispose();
  });

  it('state dict round trip restores the clock, lr and momentum; a clock past totalSteps is refused', () => {
    const o: OneCycleLROptions = { maxLr: 0.1, totalSteps: 20, threePhase: true };
    const a = new SGD([param([1], [1])], { momentum: 0.9 });
    const sa = new OneCycleLR(a, o);
    for (let i = 0; i < 7; i++) sa.step();
    const state = JSON.parse(JSON.stringify(sa.stateDict())) as SchedulerState;
    expect(state).toEqual({ scheduler: 'OneCycleLR', lastEpoch: 7, baseLrs: [0.004] });
    const b = new SGD([param([1], [1])], { momentum: 0.9 });
    const sb = new OneCycleLR(b, o);
    sb.loadStateDict(state);
    expect([b.lr, b.paramGroups[0]!.momentum]).toEqual([a.lr, a.paramGroups[0]!.momentum]);
    sa.step();
    sb.step();
    expect([b.lr, b.paramGroups[0]!.momentum]).toEqual([a.lr, a.paramGroups[0]!.momentum]);
    const before = snapshot(b);
    expect(() => sb.loadStateDict({ ...state, lastEpoch: 22 })).toThrow(/Tried to step 23 times/);
    expect(snapshot(b)).toEqual(before);
    expect(sb.lastEpoch).toBe(8);
    done(a);
    done(b);
  });

  it('inside SequentialLR and LinearWarmup its momentum is applied too', () => {
    const a = new SGD([param([1], [1])], { momentum: 0.9 });
    const alone = new OneCycleLR(a, { maxLr: 0.1, totalSteps: 8 });
    const b = new SGD([param([1], [1])], { momentum: 0.9 });
    const seq = new SequentialLR(b, [new OneCycleLR(b, { maxLr: 0.1, totalSteps: 8 }), new ExponentialLR(b, { gamma: 0.5 })], [8]);
    for (let t = 0; t < 8; t++) {
      expect([b.lr, b.paramGroups[0]!.momentum], `step ${t}`).toEqual([a.lr, a.paramGroups[0]!.momentum]);
      alone.step();
      seq.step();
    }
    // after the milestone the exponential decay runs from the base lr and the momentum stays
    const m = b.paramGroups[0]!.momentum;
    seq.step();
    expect(b.paramGroups[0]!.momentum).toBe(m);
    const c = new SGD([param([1], [1])], { momentum: 0.9 });
    new LinearWarmup(c, { warmupSteps: 2, after: new OneCycleLR(c, { maxLr: 0.1, totalSteps: 8 }) });
    expect(c.paramGroups[0]!.momentum).toBe(0.95);
    done(a);
    done(b);
    done(c);
  });
});

describe('ReduceLROnPlateau', () => {
  it('refuses a NaN or non-number metric and changes nothing', () => {
    const opt = new SGD([param([1], [1])], { lr: 0.1 });
    const s = new ReduceLROnPlateau(opt, { patience: 0 });
    s.step(1);
    s.step(2);
    const before = [JSON.stringify(s.stateDict()), opt.lr];
    const t = tensor([3]);
    for (const bad of [NaN, '3', undefined, null, t]) {
      let err: unknown;
      try {
        s.step(bad as number);
      } catch (e) {
        err = e;
      }
      expect(err, String(bad)).toBeInstanceOf(AxonError);
      expect((err as Error).message).toMatch(/ReduceLROnPlateau.step: the metric must be a number/);
      expect([JSON.stringify(s.stateDict()), opt.lr]).toEqual(before);
    }
    expect(() => s.step(t as unknown as number)).toThrow(/itemAsync/);
    t.dispose();
    // ±Infinity are numbers (PyTorch accepts them): a bad epoch in 'min' mode
    s.step(Infinity);
    expect(s.numBadEpochs).toBe(0); // patience 0: reduced at once
    expect(opt.lr).toBeCloseTo(0.001, 15);
    done(opt);
  });

  it('validates its options', () => {
    const opt = new SGD([param([1], [1])], { lr: 0.1 });
    const bad: [unknown, RegExp][] = [
      [{ factor: 1 }, /factor must be in \[0, 1\)/],
      [{ factor: -0.1 }, /factor/],
      [{ mode: 'minimum' }, /mode must be 'min' or 'max'/],
      [{ thresholdMode: 'relative' }, /thresholdMode must be 'rel' or 'abs'/],
      [{ patience: 1.5 }, /patience must be an integer >= 0/],
      [{ cooldown: -1 }, /cooldown/],
      [{ threshold: NaN }, /threshold/],
      [{ minLr: [0, 0] }, /expected 1 minLr values/],
      [{ minLr: -1 }, /minLr must be/],
      [{ min_lr: 0 }, /unknown option 'min_lr'/],
      [[], /options must be an object/],
    ];
    for (const [o, re] of bad) expect(() => new ReduceLROnPlateau(opt, o as ReduceLROnPlateauOptions), JSON.stringify(o)).toThrow(re);
    expect(() => new ReduceLROnPlateau({} as AnyOptimizer)).toThrow(/expects an Optimizer/);
    done(opt);
  });

  it('a per-group minLr needs one value per group at every step', () => {
    const opt = new SGD([param([1], [1])], { lr: 0.1 });
    const s = new ReduceLROnPlateau(opt, { minLr: [0.01], patience: 0 });
    const p = param([2], [1]);
    opt.addParamGroup({ params: [p] });
    expect(() => s.step(1)).toThrow(/minLr has 1 values, the optimizer now has 2 param groups/);
    expect(s.lastEpoch).toBe(0);
    done(opt);
  });

  it('drives the Keras path: groups added later are reduced with the others', () => {
    const opt = optimizer('adam'); // lr 1e-3, no parameters yet
    const s = new ReduceLROnPlateau(opt, { patience: 1, factor: 0.5 });
    opt.addParamGroup({ params: [param([1], [1])] });
    for (const m of [1, 1, 1]) s.step(m);
    expect(s.getLastLr()).toEqual([5e-4]);
    done(opt);
  });

  it('state dict round trip through JSON, including an infinite best; bad states change nothing', () => {
    const opt = new SGD([param([1], [1])], { lr: 0.1 });
    const s = new ReduceLROnPlateau(opt, { mode: 'max', cooldown: 3, patience: 0 });
    expect(s.stateDict().best).toBe('-Infinity');
    for (const m of [0.5, 0.4]) s.step(m);
    const state = JSON.parse(JSON.stringify(s.stateDict())) as ReduceLROnPlateauState;
    expect(state).toEqual({ scheduler: 'ReduceLROnPlateau', lastEpoch: 2, best: 0.5, numBadEpochs: 0, cooldownCounter: 3 });
    const s2 = new ReduceLROnPlateau(opt, { mode: 'max', cooldown: 3, patience: 0 });
    s2.loadStateDict(state);
    expect(s2.stateDict()).toEqual(state);
    const fresh = new ReduceLROnPlateau(opt, { mode: 'max' });
    const st2 = JSON.parse(JSON.stringify(fresh.stateDict())) as ReduceLROnPlateauState;
    s2.loadStateDict(st2);
    expect(s2.best).toBe(-Infinity);
    s2.loadStateDict(state);
    for (const bad of [{ ...state, scheduler: 'StepLR' }, { ...state, best: null }, { ...state, numBadEpochs: -1 }, { ...state, lastEpoch: 1.5 }]) {
      expect(() => s2.loadStateDict(bad as ReduceLROnPlateauState), JSON.stringify(bad)).toThrow(AxonError);
      expect(s2.stateDict()).toEqual(state);
    }
    done(opt);
  });
});
