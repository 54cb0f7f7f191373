/**
 * Each optimizer's trajectory against the float64 references in ./reference.ts: a few steps on
 * small random tensors with random gradients. Tolerance: |got − ref| ≤ 1e-5·max(1, |ref|)
 * elementwise (float32 arithmetic against float64).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Tensor } from '@axon/core';
import { Adadelta, Adagrad, Adam, Adamax, AdamW, NAdam, type Optimizer, RAdam, RMSprop, SGD } from '../src/index.js';
import { SEED, expectClose, param, rng, setGrad, useTestBackend, values } from './helpers.js';
import { type RefState, refAdadelta, refAdagrad, refAdam, refAdamax, refNAdam, refRAdam, refRMSprop, refSGD } from './reference.js';

beforeAll(async () => {
  await useTestBackend();
});

const SHAPES = [[3, 4], [5], [], [17, 33]] as const;
const STEPS = 6;
const RTOL = 1e-5;

type Ref = (p: number[], g: number[], s: RefState) => number[];

/** Runs `make(params)` and the reference side by side for STEPS steps and compares every step. */
function trajectory(make: (ps: Tensor[]) => Optimizer, ref: Ref, seed = SEED, gradScale = 1): void {
  const r = rng(seed);
  const sizes = SHAPES.map((s) => s.reduce((a, b) => a * b, 1));
  const init = sizes.map((n) => r.normal(n));
  const ps = init.map((v, i) => param(v, [...SHAPES[i]!]));
  const refP = init.map((v) => [...v]);
  const refS: RefState[] = init.map(() => ({ step: 0 }));
  const opt = make(ps);
  try {
    for (let t = 0; t < STEPS; t++) {
      ps.forEach((p, i) => {
        const g = r.normal(sizes[i]!, gradScale);
        setGrad(p, g);
        refP[i] = ref(refP[i]!, g, refS[i]!);
      });
      opt.step();
      ps.forEach((p, i) => expectClose(values(p), refP[i]!, RTOL, `step ${t + 1} param ${i}`));
    }
    ps.forEach((p) => expect(opt.stepCount(p)).toBe(STEPS));
  } finally {
    opt.dispose();
    for (const p of ps) p.dispose();
  }
}

describe('SGD', () => {
  const cases = [
    { lr: 0.1 },
    { lr: 0.1, momentum: 0.9 },
    { lr: 0.05, momentum: 0.8, dampening: 0.3 },
    { lr: 0.1, momentum: 0.9, nesterov: true },
    { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.05 },
    { lr: 0.1, weightDecay: 0.1 },
    { lr: 0.1, momentum: 0.5, maximize: true },
  ];
  for (const o of cases) {
    it(`matches the reference: ${JSON.stringify(o)}`, () => {
      trajectory((ps) => new SGD(ps, o), (p, g, s) => refSGD(p, g, s, o));
    });
  }

  it('defaults to lr 1e-3 and no momentum', () => {
    trajectory((ps) => new SGD(ps), (p, g, s) => refSGD(p, g, s, { lr: 1e-3 }));
  });

  it('nesterov differs from classical momentum', () => {
    const p1 = param([1, 2], [2]);
    const p2 = param([1, 2], [2]);
    const a = new SGD([p1], { lr: 0.1, momentum: 0.9 });
    const b = new SGD([p2], { lr: 0.1, momentum: 0.9, nesterov: true });
    for (let i = 0; i < 3; i++) {
      setGrad(p1, [1, -1]);
      setGrad(p2, [1, -1]);
      a.step();
      b.step();
    }
    // classical: Σ buf = 1 + 1.9 + 2.71 = 5.61; nesterov: Σ (g + 0.9 buf) = 1.9 + 2.71 + 3.439 = 8.049
    expectClose(values(p1), [1 - 0.561, 2 + 0.561], 1e-6);
    expectClose(values(p2), [1 - 0.8049, 2 + 0.8049], 1e-6);
    for (const t of [p1, p2]) t.dispose();
    a.dispose();
    b.dispose();
  });
});

describe('Adam', () => {
  const cases = [
    { lr: 0.05 },
    { lr: 0.05, betas: [0.8, 0.99] as [number, number], eps: 1e-6 },
    { lr: 0.05, weightDecay: 0.1 },
    { lr: 0.05, amsgrad: true },
    { lr: 0.05, amsgrad: true, weightDecay: 0.01, maximize: true },
  ];
  for (const o of cases) {
    it(`matches the reference: ${JSON.stringify(o)}`, () => {
      trajectory((ps) => new Adam(ps, o), (p, g, s) => refAdam(p, g, s, o));
    });
  }
  it('defaults to lr 1e-3, betas [0.9, 0.999], eps 1e-8', () => {
    trajectory((ps) => new Adam(ps), (p, g, s) => refAdam(p, g, s, { lr: 1e-3 }));
  });
  it('amsgrad uses the running maximum (gradients shrinking over time)', () => {
    const o = { lr: 0.05, amsgrad: true };
    trajectory((ps) => new Adam(ps, o), (p, g, s) => refAdam(p, g, s, o), SEED + 7, 0.01);
  });
});

describe('AdamW', () => {
  const cases = [{ lr: 0.05 }, { lr: 0.05, weightDecay: 0.2 }, { lr: 0.05, weightDecay: 0.2, amsgrad: true }];
  for (const o of cases) {
    it(`matches the reference: ${JSON.stringify(o)}`, () => {
      trajectory((ps) => new AdamW(ps, o), (p, g, s) => refAdam(p, g, s, { weightDecay: 1e-2, ...o, decoupled: true }));
    });
  }

  it('differs from Adam exactly by decoupling the weight decay', () => {
    const run = (make: (p: Tensor) => Optimizer): number[] => {
      const p = param([1, -2, 3], [3]);
      const opt = make(p);
      for (let i = 0; i < 4; i++) {
        setGrad(p, [0.5, 0.1, -0.3]);
        opt.step();
      }
      const out = values(p);
      opt.dispose();
      p.dispose();
      return out;
    };
    const adam0 = run((p) => new Adam([p], { lr: 0.1 }));
    const adamw0 = run((p) => new AdamW([p], { lr: 0.1, weightDecay: 0 }));
    expect(adamw0).toEqual(adam0); // identical without decay
    const adam = run((p) => new Adam([p], { lr: 0.1, weightDecay: 0.5 }));
    const adamw = run((p) => new AdamW([p], { lr: 0.1, weightDecay: 0.5 }));
    const refL2: RefState = { step: 0 };
    const refDec: RefState = { step: 0 };
    let a = [1, -2, 3];
    let w = [1, -2, 3];
    for (let i = 0; i < 4; i++) {
      a = refAdam(a, [0.5, 0.1, -0.3], refL2, { lr: 0.1, weightDecay: 0.5 });
      w = refAdam(w, [0.5, 0.1, -0.3], refDec, { lr: 0.1, weightDecay: 0.5, decoupled: true });
    }
    expectClose(adam, a, RTOL, 'adam L2');
    expectClose(adamw, w, RTOL, 'adamw decoupled');
    const diff = adam.map((x, i) => Math.abs(x - adamw[i]!));
    expect(Math.max(...diff)).toBeGreaterThan(1e-2);
  });

  it('defaults to weightDecay 1e-2', () => {
    const p = param([1], [1]);
    const opt = new AdamW([p]);
    expect(opt.paramGroups[0]!.weightDecay).toBe(1e-2);
    expect(opt.lr).toBe(1e-3);
    opt.dispose();
    p.dispose();
  });
});

describe('RMSprop', () => {
  const cases = [
    { lr: 0.01 },
    { lr: 0.01, alpha: 0.9, eps: 1e-6 },
    { lr: 0.01, momentum: 0.9 },
    { lr: 0.01, centered: true },
    { lr: 0.01, centered: true, momentum: 0.5, weightDecay: 0.1 },
  ];
  for (const o of cases) {
    it(`matches the reference: ${JSON.stringify(o)}`, () => {
      trajectory((ps) => new RMSprop(ps, o), (p, g, s) => refRMSprop(p, g, s, o));
    });
  }
  it('defaults to lr 1e-2, alpha 0.99, eps 1e-8', () => {
    trajectory((ps) => new RMSprop(ps), (p, g, s) => refRMSprop(p, g, s, { lr: 1e-2 }));
  });
});

describe('Adagrad', () => {
  const cases = [
    { lr: 0.1 },
    { lr: 0.1, lrDecay: 0.1 },
    { lr: 0.1, initialAccumulatorValue: 0.5, eps: 1e-6 },
    { lr: 0.1, weightDecay: 0.1, maximize: true },
  ];
  for (const o of cases) {
    it(`matches the reference: ${JSON.stringify(o)}`, () => {
      trajectory((ps) => new Adagrad(ps, o), (p, g, s) => refAdagrad(p, g, s, o));
    });
  }
  it('defaults to lr 1e-2, eps 1e-10', () => {
    trajectory((ps) => new Adagrad(ps), (p, g, s) => refAdagrad(p, g, s, { lr: 1e-2 }));
  });
});

describe('Adamax', () => {
  const cases = [
    { lr: 0.05 },
    { lr: 0.05, betas: [0.8, 0.99] as [number, number], eps: 1e-3 },
    { lr: 0.05, weightDecay: 0.1 },
    { lr: 0.05, weightDecay: 0.01, maximize: true },
  ];
  for (const o of cases) {
    it(`matches the reference: ${JSON.stringify(o)}`, () => {
      trajectory((ps) => new Adamax(ps, o), (p, g, s) => refAdamax(p, g, s, o));
    });
  }
  it('defaults to lr 2e-3, betas [0.9, 0.999], eps 1e-8', () => {
    trajectory((ps) => new Adamax(ps), (p, g, s) => refAdamax(p, g, s, { lr: 2e-3 }));
  });
  it('the infinity norm decays (gradients shrinking over time)', () => {
    const o = { lr: 0.05, betas: [0.9, 0.5] as [number, number] };
    trajectory((ps) => new Adamax(ps, o), (p, g, s) => refAdamax(p, g, s, o), SEED + 7, 0.01);
  });
});

describe('NAdam', () => {
  const cases = [
    { lr: 0.05 },
    { lr: 0.05, betas: [0.8, 0.99] as [number, number], eps: 1e-6 },
    { lr: 0.05, weightDecay: 0.1 },
    { lr: 0.05, momentumDecay: 0.5 },
  ];
  for (const o of cases) {
    it(`matches the reference: ${JSON.stringify(o)}`, () => {
      trajectory((ps) => new NAdam(ps, o), (p, g, s) => refNAdam(p, g, s, o));
    });
  }
  it('defaults to lr 2e-3, betas [0.9, 0.999], eps 1e-8, momentumDecay 4e-3', () => {
    trajectory((ps) => new NAdam(ps), (p, g, s) => refNAdam(p, g, s, { lr: 2e-3 }));
  });
});

describe('RAdam', () => {
  // with beta2 0.999, ρₜ > 5 from step 6 on; with 0.9 from step 3: both branches are covered
  const cases = [
    { lr: 0.05 },
    { lr: 0.05, betas: [0.8, 0.9] as [number, number], eps: 1e-6 },
    { lr: 0.05, betas: [0.9, 0.5] as [number, number], weightDecay: 0.1 },
    { lr: 0.05, betas: [0.9, 0] as [number, number] },
  ];
  for (const o of cases) {
    it(`matches the reference: ${JSON.stringify(o)}`, () => {
      trajectory((ps) => new RAdam(ps, o), (p, g, s) => refRAdam(p, g, s, o));
    });
  }
  it('defaults to lr 1e-3, betas [0.9, 0.999], eps 1e-8', () => {
    trajectory((ps) => new RAdam(ps), (p, g, s) => refRAdam(p, g, s, { lr: 1e-3 }));
  });
});

describe('Adadelta', () => {
  const cases = [{ lr: 1 }, { lr: 0.5, rho: 0.5, eps: 1e-3 }, { lr: 1, weightDecay: 0.1 }, { lr: 2, rho: 0.95, maximize: true }, { lr: 1, rho: 1 }];
  for (const o of cases) {
    it(`matches the reference: ${JSON.stringify(o)}`, () => {
      trajectory((ps) => new Adadelta(ps, o), (p, g, s) => refAdadelta(p, g, s, o));
    });
  }
  it('defaults to lr 1, rho 0.9, eps 1e-6', () => {
    trajectory((ps) => new Adadelta(ps), (p, g, s) => refAdadelta(p, g, s, {}));
  });
});

describe('param groups', () => {
  it('apply per-group hyperparameters over the defaults', () => {
    const r = rng(SEED + 1);
    const a = param(r.normal(4), [4]);
    const b = param(r.normal(3), [3]);
    const opt = new SGD([{ params: [a] }, { params: [b], lr: 0.5, weightDecay: 0.1 }], { lr: 0.1, momentum: 0.9 });
    expect(opt.paramGroups.map((g) => g.lr)).toEqual([0.1, 0.5]);
    let ra = values(a);
    let rb = values(b);
    const sa: RefState = { step: 0 };
    const sb: RefState = { step: 0 };
    for (let t = 0; t < 4; t++) {
      const ga = r.normal(4);
      const gb = r.normal(3);
      setGrad(a, ga);
      setGrad(b, gb);
      ra = refSGD(ra, ga, sa, { lr: 0.1, momentum: 0.9 });
      rb = refSGD(rb, gb, sb, { lr: 0.5, momentum: 0.9, weightDecay: 0.1 });
      opt.step();
    }
    expectClose(values(a), ra, RTOL, 'group 0');
    expectClose(values(b), rb, RTOL, 'group 1');
    opt.lr = 0.01;
    expect(opt.paramGroups.map((g) => g.lr)).toEqual([0.01, 0.01]);
    opt.dispose();
    a.dispose();
    b.dispose();
  });
});
