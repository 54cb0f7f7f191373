/** LR schedules: the lr sequences they set (PyTorch's values), composition, state. */
import { beforeAll, describe, expect, it } from 'vitest';
import { AxonError, type Tensor } from '@axon/core';
import {
  Adam,
  ChainedScheduler,
  CosineAnnealingLR,
  ExponentialLR,
  LambdaLR,
  LinearWarmup,
  type LRScheduler,
  SGD,
  SequentialLR,
  StepLR,
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
