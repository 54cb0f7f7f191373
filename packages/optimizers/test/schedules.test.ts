/** LR schedules: the lr sequences they set (PyTorch's values), composition, state. */
import { beforeAll, describe, expect, it } from 'vitest';
import { AxonError, type Tensor } from '@axon/core';
import {
  Adam,
  type AnyOptimizer,
  ChainedScheduler,
  CosineAnnealingLR,
  ExponentialLR,
  LambdaLR,
  LinearWarmup,
  type LRScheduler,
  MultiStepLR,
  SGD,
  SequentialLR,
  StepLR,
  optimizer,
} from '../src/index.js';
import { expectClose, param, setGrad, useTestBackend, values } from './helpers.js';

beforeAll(async () => {
  await useTestBackend();
});

function withOpt(lr: number | number[], fn: (opt: SGD) => void): void {
  const lrs = Array.isArray(lr) ? lr : [lr];
  const ps = lrs.map(() => param([1], [1]));
  const opt = new SGD(ps.map((p, i) => ({ params: [p], lr: lrs[i]! })));
  try {
    fn(opt);
  } finally {
    opt.dispose();
    ps.forEach((p) => p.dispose());
  }
}

/** The lr of group 0 at construction and after each of `n` steps. */
function sequence(s: LRScheduler, n: number): number[] {
  const out = [s.optimizer.lr];
  for (let i = 0; i < n; i++) {
    s.step();
    out.push(s.optimizer.lr);
  }
  return out;
}

const cos = (t: number, T: number, base: number, min = 0) => min + ((base - min) * (1 + Math.cos((Math.PI * t) / T))) / 2;

describe('schedules', () => {
  it('StepLR: lr · gamma^⌊t/stepSize⌋', () => {
    withOpt(1, (opt) => {
      expectClose(sequence(new StepLR(opt, { stepSize: 2, gamma: 0.5 }), 6), [1, 1, 0.5, 0.5, 0.25, 0.25, 0.125], 1e-12);
    });
    withOpt(0.1, (opt) => {
      // PyTorch's default gamma 0.1
      expectClose(sequence(new StepLR(opt, { stepSize: 3 }), 6), [0.1, 0.1, 0.1, 0.01, 0.01, 0.01, 0.001], 1e-12);
    });
  });

  it('ExponentialLR: lr · gammaᵗ', () => {
    withOpt(0.1, (opt) => {
      expectClose(sequence(new ExponentialLR(opt, { gamma: 0.9 }), 4), [0.1, 0.09, 0.081, 0.0729, 0.06561], 1e-12);
    });
  });

  it('CosineAnnealingLR: PyTorch values, etaMin, and past tMax', () => {
    withOpt(1, (opt) => {
      // torch: CosineAnnealingLR(opt(lr=1), T_max=4) → 1, 0.8536, 0.5, 0.1464, 0, 0.1464, …
      const got = sequence(new CosineAnnealingLR(opt, { tMax: 4 }), 6);
      expectClose(got, [1, 0.8535533905932737, 0.5, 0.14644660940672627, 0, 0.14644660940672627, 0.5], 1e-12);
    });
    withOpt(0.1, (opt) => {
      const got = sequence(new CosineAnnealingLR(opt, { tMax: 10, etaMin: 0.001 }), 10);
      expectClose(got, Array.from({ length: 11 }, (_, t) => cos(t, 10, 0.1, 0.001)), 1e-12);
    });
  });

  it('LinearWarmup: linear ramp, then the base lr or the wrapped schedule', () => {
    withOpt(1, (opt) => {
      expectClose(sequence(new LinearWarmup(opt, { warmupSteps: 4 }), 6), [0, 0.25, 0.5, 0.75, 1, 1, 1], 1e-12);
    });
    withOpt(1, (opt) => {
      expectClose(sequence(new LinearWarmup(opt, { warmupSteps: 2, startFactor: 0.5 }), 3), [0.5, 0.75, 1, 1], 1e-12);
    });
    withOpt(0.1, (opt) => {
      const after = new CosineAnnealingLR(opt, { tMax: 4 });
      const s = new LinearWarmup(opt, { warmupSteps: 2, after });
      const want = [0, 0.05, ...[0, 1, 2, 3, 4].map((t) => cos(t, 4, 0.1))];
      expectClose(sequence(s, 6), want, 1e-12);
    });
  });

  it('SequentialLR: schedules in turn, each with its own clock', () => {
    withOpt(1, (opt) => {
      const warm = new LinearWarmup(opt, { warmupSteps: 3 });
      const decay = new ExponentialLR(opt, { gamma: 0.5 });
      const s = new SequentialLR(opt, [warm, decay], [3]);
      expectClose(sequence(s, 5), [0, 1 / 3, 2 / 3, 1, 0.5, 0.25], 1e-12);
    });
    withOpt(1, (opt) => {
      const a = new ExponentialLR(opt, { gamma: 0.5 });
      expect(() => new SequentialLR(opt, [a], [2])).toThrow(/0 milestones/);
      expect(() => new SequentialLR(opt, [a, a, a], [2, 2])).toThrow(/increase/);
    });
  });

  it('ChainedScheduler: factors multiply', () => {
    withOpt(1, (opt) => {
      const s = new ChainedScheduler(opt, [new ExponentialLR(opt, { gamma: 0.9 }), new StepLR(opt, { stepSize: 2, gamma: 0.1 })]);
      const want = [0, 1, 2, 3, 4].map((t) => 0.9 ** t * 0.1 ** Math.floor(t / 2));
      expectClose(sequence(s, 4), want, 1e-12);
    });
  });

  it('LambdaLR: base · factor(t)', () => {
    withOpt(2, (opt) => {
      expectClose(sequence(new LambdaLR(opt, (t) => 1 / (1 + t)), 3), [2, 1, 2 / 3, 0.5], 1e-12);
    });
  });

  it('sets every group from its own base lr, and base lrs survive a second scheduler', () => {
    withOpt([1, 0.1], (opt) => {
      const s = new ExponentialLR(opt, { gamma: 0.5 });
      s.step();
      expect(s.getLastLr()).toEqual([0.5, 0.05]);
      // a scheduler built later still starts from the initial lrs (PyTorch's initial_lr)
      const s2 = new StepLR(opt, { stepSize: 1, gamma: 0.1 });
      expect(s2.baseLrs).toEqual([1, 0.1]);
      expect(s2.getLastLr()).toEqual([1, 0.1]);
    });
  });

  it('state dict round trip restores the clock', () => {
    withOpt(1, (opt) => {
      const s = new CosineAnnealingLR(opt, { tMax: 10 });
      for (let i = 0; i < 3; i++) s.step();
      const st = JSON.parse(JSON.stringify(s.stateDict())) as ReturnType<LRScheduler['stateDict']>;
      withOpt(1, (opt2) => {
        const s2 = new CosineAnnealingLR(opt2, { tMax: 10 });
        s2.loadStateDict(st);
        expect(s2.lastEpoch).toBe(3);
        expect(opt2.lr).toBeCloseTo(opt.lr, 15);
        s.step();
        s2.step();
        expect(opt2.lr).toBeCloseTo(opt.lr, 15);
        expect(() => s2.loadStateDict({ ...st, scheduler: 'StepLR' })).toThrow(AxonError);
      });
    });
  });

  it('validates options', () => {
    withOpt(1, (opt) => {
      expect(() => new StepLR(opt, { stepSize: 0 })).toThrow(/stepSize/);
      expect(() => new ExponentialLR(opt, { gamma: -1 })).toThrow(/gamma/);
      expect(() => new CosineAnnealingLR(opt, { tMax: 1.5 })).toThrow(/tMax/);
      expect(() => new LinearWarmup(opt, { warmupSteps: 2, startFactor: 2 })).toThrow(/startFactor/);
    });
  });

  it('drives training: the lr each step uses is the scheduled one', () => {
    const p: Tensor = param([0], [1]);
    const opt = new SGD([p], { lr: 1 });
    const s = new StepLR(opt, { stepSize: 1, gamma: 0.5 });
    const seen: number[] = [];
    for (let i = 0; i < 3; i++) {
      const before = values(p)[0]!;
      setGrad(p, [1]);
      opt.step();
      seen.push(before - values(p)[0]!);
      s.step();
    }
    expectClose(seen, [1, 0.5, 0.25], 1e-6);
    opt.dispose();
    p.dispose();
  });

  it('works with any optimizer', () => {
    const p = param([0], [1]);
    const opt = new Adam([p], { lr: 0.01 });
    const s = new ExponentialLR(opt, { gamma: 0.1 });
    s.step();
    expect(opt.lr).toBeCloseTo(0.001, 15);
    opt.dispose();
    p.dispose();
  });
});

describe('base lrs of groups added after the schedule (issue 9, item 1)', () => {
  // Every schedule class, built over an optimizer; `lrAt` is checked against the closed form.
  const MAKERS: Record<string, (opt: AnyOptimizer) => LRScheduler> = {
    StepLR: (o) => new StepLR(o, { stepSize: 2, gamma: 0.5 }),
    ExponentialLR: (o) => new ExponentialLR(o, { gamma: 0.5 }),
    CosineAnnealingLR: (o) => new CosineAnnealingLR(o, { tMax: 6, etaMin: 0.001 }),
    LinearWarmup: (o) => new LinearWarmup(o, { warmupSteps: 3 }),
    'LinearWarmup+after': (o) => new LinearWarmup(o, { warmupSteps: 2, startFactor: 0.5, after: new ExponentialLR(o, { gamma: 0.8 }) }),
    SequentialLR: (o) => new SequentialLR(o, [new LinearWarmup(o, { warmupSteps: 2 }), new StepLR(o, { stepSize: 1, gamma: 0.5 })], [2]),
    ChainedScheduler: (o) => new ChainedScheduler(o, [new ExponentialLR(o, { gamma: 0.9 }), new StepLR(o, { stepSize: 3, gamma: 0.1 })]),
    LambdaLR: (o) => new LambdaLR(o, (t) => 1 / (1 + t)),
    MultiStepLR: (o) => new MultiStepLR(o, [2, 5, 5], 0.5),
  };

  /** The lr each of `n` epochs trains with: before the first step(), then after each. */
  function lrs(opt: AnyOptimizer, s: LRScheduler, n: number): number[] {
    const out: number[] = [];
    for (let t = 0; t < n; t++) {
      out.push(opt.paramGroups[0]!.lr);
      s.step();
    }
    return out;
  }

  it("reproduces the issue's numbers: ExponentialLR(0.5) over new Adam([]) gives 0.05, 0.025, 0.0125", () => {
    const p = param([1], [1]);
    const opt = new Adam([], { lr: 0.1 });
    const s = new ExponentialLR(opt, { gamma: 0.5 });
    opt.addParamGroup({ params: [p] }); // what fit does
    const got: number[] = [];
    for (let i = 0; i < 3; i++) {
      s.step();
      got.push(opt.lr);
    }
    expectClose(got, [0.05, 0.025, 0.0125], 1e-12);
    opt.dispose();
    p.dispose();
  });

  it("StepLR(5, 0.5) on the Keras path (optimizer('adam'), groups added by fit) halves every 5 epochs", () => {
    const p = param([1], [1]);
    const opt = optimizer('adam'); // Keras defaults: lr 1e-3
    const s = new StepLR(opt, { stepSize: 5, gamma: 0.5 });
    opt.addParamGroup({ params: [p] });
    const got = lrs(opt, s, 16);
    expectClose(got, Array.from({ length: 16 }, (_, t) => 1e-3 * 0.5 ** Math.floor(t / 5)), 1e-12);
    expect(opt.lr).toBeCloseTo(1e-3 / 8, 15);
    opt.dispose();
    p.dispose();
  });

  for (const [name, make] of Object.entries(MAKERS)) {
    it(`${name}: groups added later follow the same lrs as groups present from the start`, () => {
      const a = param([1], [1]);
      const b = param([1], [1]);
      const eager = new SGD([{ params: [a], lr: 0.1 }]);
      const late = new Adam([], { lr: 0.1 });
      const se = make(eager);
      const sl = make(late);
      late.addParamGroup({ params: [b] }); // the Keras path: parameters arrive after the schedule
      const want = Array.from({ length: 10 }, (_, t) => se.lrAt(t, 0.1));
      const gotEager = lrs(eager, se, 10);
      const gotLate = lrs(late, sl, 10);
      expect(gotLate).toEqual(gotEager); // bit for bit
      expectClose(gotLate, want, 1e-12, name);
      expect(sl.baseLrs).toEqual([0.1]);
      eager.dispose();
      late.dispose();
      a.dispose();
      b.dispose();
    });

    it(`${name}: a group added after t steps starts from its own lr at step t, others unchanged`, () => {
      const a = param([1], [1]);
      const b = param([1], [1]);
      const opt = new SGD([{ params: [a], lr: 0.1 }]);
      const s = make(opt);
      for (let t = 0; t < 3; t++) s.step();
      opt.addParamGroup({ params: [b], lr: 0.2 });
      expect(opt.paramGroups[1]!.initialLr).toBe(0.2);
      expect(opt.paramGroups[1]!.lr).toBe(s.lrAt(3, 0.2));
      expect(opt.paramGroups[0]!.lr).toBe(s.lrAt(3, 0.1));
      s.step();
      expect(s.getLastLr()).toEqual([s.lrAt(4, 0.1), s.lrAt(4, 0.2)]);
      expect(s.baseLrs).toEqual([0.1, 0.2]);
      opt.dispose();
      a.dispose();
      b.dispose();
    });
  }

  it('several schedules over one optimizer agree on the base lrs, whenever the groups came', () => {
    const p = param([1], [1]);
    const opt = new Adam([], { lr: 0.1 });
    const s1 = new ExponentialLR(opt, { gamma: 0.5 });
    opt.addParamGroup({ params: [p] });
    s1.step();
    s1.step();
    const s2 = new StepLR(opt, { stepSize: 1, gamma: 0.1 });
    expect(s1.baseLrs).toEqual([0.1]);
    expect(s2.baseLrs).toEqual([0.1]);
    expect(opt.lr).toBeCloseTo(0.1, 15); // s2 at t = 0, from the base lr, not the decayed one
    opt.dispose();
    p.dispose();
  });

  it('a schedule that failed to construct does not drive groups added later', () => {
    const p = param([1], [1]);
    const opt = new SGD([], { lr: 0.1 });
    expect(() => new StepLR(opt, { stepSize: 0 })).toThrow(/stepSize/);
    opt.addParamGroup({ params: [p] });
    expect(opt.lr).toBe(0.1);
    opt.dispose();
    p.dispose();
  });

  it('a failing LambdaLR factor refuses the group and changes nothing', () => {
    const p = param([1], [1]);
    const opt = new SGD([], { lr: 0.1 });
    new LambdaLR(opt, (t) => {
      if (opt.paramGroups.length === 0 && t === 0) throw new AxonError('factor', 'boom');
      return 1;
    });
    expect(() => opt.addParamGroup({ params: [p] })).toThrow(/boom/);
    expect(opt.paramGroups).toHaveLength(0);
    opt.dispose();
    p.dispose();
  });

  it("the optimizer's state dict carries each group's initialLr, so a schedule built after loading starts from it", () => {
    const p = param([1], [1]);
    const opt = new SGD([{ params: [p], lr: 0.1 }]);
    const s = new ExponentialLR(opt, { gamma: 0.5 });
    s.step();
    s.step();
    const sd = opt.stateDict();
    expect(sd.meta.paramGroups[0]!.initialLr).toBe(0.1);
    const q = param([1], [1]);
    const opt2 = new SGD([{ params: [q], lr: 0.1 }]);
    opt2.loadStateDict({ meta: JSON.parse(JSON.stringify(sd.meta)) as typeof sd.meta, tensors: sd.tensors });
    expect(opt2.lr).toBe(0.025);
    const s2 = new ExponentialLR(opt2, { gamma: 0.5 });
    expect(s2.baseLrs).toEqual([0.1]);
    s2.loadStateDict(JSON.parse(JSON.stringify(s.stateDict())) as ReturnType<LRScheduler['stateDict']>);
    expect(opt2.lr).toBe(opt.lr);
    s.step();
    s2.step();
    expect(opt2.lr).toBe(opt.lr);
    // validation: a bad initialLr is refused before anything changes
    const bad = JSON.parse(JSON.stringify(sd.meta)) as { paramGroups: { initialLr: unknown }[] };
    bad.paramGroups[0]!.initialLr = -1;
    expect(() => opt2.loadStateDict({ meta: bad as unknown as typeof sd.meta, tensors: sd.tensors })).toThrow(/initialLr/);
    expect(() => s2.loadStateDict({ scheduler: 'ExponentialLR', lastEpoch: 1, baseLrs: [Number.NaN] })).toThrow(/baseLrs\[0\]/);
    expect(opt2.lr).toBe(opt.lr);
    opt.dispose();
    opt2.dispose();
    p.dispose();
    q.dispose();
  });
});
