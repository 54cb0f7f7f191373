/**
 * Adamax, NAdam, RAdam and Adadelta trajectories, and the lrs (and momenta) of LinearLR, ConstantLR,
 * MultiplicativeLR, PolynomialLR, CosineAnnealingWarmRestarts and CyclicLR — alone, in SequentialLR
 * and in ChainedScheduler — against PyTorch 1.13's own values (test/fixtures/torch-schedules.json,
 * written by test/fixtures/gen_torch_schedules.py).
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { memory, tensor } from '@axon/core';
import {
  Adadelta,
  Adagrad,
  Adam,
  Adamax,
  AdamW,
  type AnyOptimizer,
  ChainedScheduler,
  ConstantLR,
  CosineAnnealingWarmRestarts,
  CyclicLR,
  type CyclicLROptions,
  ExponentialLR,
  LinearLR,
  type LRScheduler,
  MultiplicativeLR,
  NAdam,
  OneCycleLR,
  type OneCycleLROptions,
  type Optimizer,
  PolynomialLR,
  RAdam,
  RMSprop,
  SGD,
  SequentialLR,
} from '../src/index.js';
import { expectClose, param, useTestBackend, values } from './helpers.js';

beforeAll(async () => {
  await useTestBackend();
});

interface Spec {
  kind: string;
  options?: Record<string, unknown>;
  schedulers?: Spec[];
  milestones?: number[];
  lambda?: string;
}
interface Fixture {
  torch: string;
  cases: {
    Optimizers: { optimizer: string; options: Record<string, unknown>; oneCycle: Record<string, unknown> | null; w0: number[]; grads: number[][]; trajectory: number[][] }[];
    LR: { optimizer: string; optimizerOptions: Record<string, unknown>; groupLrs: number[]; spec: Spec; lrs: number[][]; momenta: (number | null)[][] }[];
  };
}

const FIX = JSON.parse(readFileSync(new URL('./fixtures/torch-schedules.json', import.meta.url), 'utf8')) as Fixture;

/** PyTorch's keyword names → Axon's option names (snake_case → camelCase; T_0 → t0, T_mult → tMult). */
const camel = (o: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(
    Object.entries(o).map(([k, v]) => [({ T_0: 't0', T_mult: 'tMult' } as Record<string, string>)[k] ?? k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()), v]),
  );

/** The functions gen_torch_schedules.py gives MultiplicativeLR, by name. */
const LAMBDAS: Record<string, (t: number) => number> = {
  constant95: () => 0.95,
  linear: (t) => 1 - 0.02 * t,
  bumpy: (t) => (t % 3 === 0 ? 0.5 : 1.1),
};

function build(opt: AnyOptimizer, spec: Spec): LRScheduler {
  const o = camel(spec.options ?? {});
  switch (spec.kind) {
    case 'SequentialLR':
      return new SequentialLR(opt, spec.schedulers!.map((s) => build(opt, s)), spec.milestones!);
    case 'ChainedScheduler':
      return new ChainedScheduler(opt, spec.schedulers!.map((s) => build(opt, s)));
    case 'MultiplicativeLR':
      return new MultiplicativeLR(opt, LAMBDAS[spec.lambda!]!);
    case 'LinearLR':
      return new LinearLR(opt, o);
    case 'ConstantLR':
      return new ConstantLR(opt, o);
    case 'PolynomialLR':
      return new PolynomialLR(opt, o);
    case 'CosineAnnealingWarmRestarts':
      return new CosineAnnealingWarmRestarts(opt, o as unknown as { t0: number });
    case 'CyclicLR':
      return new CyclicLR(opt, o as unknown as CyclicLROptions);
    case 'ExponentialLR':
      return new ExponentialLR(opt, o as { gamma: number });
    default:
      throw new Error(`unknown schedule ${spec.kind}`);
  }
}

function makeOpt(kind: string, lrs: number[], options: Record<string, unknown>): AnyOptimizer {
  const groups = lrs.map((lr) => ({ params: [param([0], [1])], lr }));
  const o = camel(options);
  const classes: Record<string, new (g: typeof groups, o: Record<string, unknown>) => AnyOptimizer> = {
    sgd: SGD as never,
    adam: Adam as never,
    adamw: AdamW as never,
    adagrad: Adagrad as never,
    rmsprop: RMSprop as never,
  };
  return new classes[kind]!(groups, o);
}

function momenta(opt: AnyOptimizer): (number | null)[] {
  return opt.paramGroups.map((g) => {
    const h = g as unknown as { betas?: readonly number[]; momentum?: number };
    return h.betas ? h.betas[0]! : (h.momentum ?? null);
  });
}

/** |got − want| ≤ 1e-12·|want| (+ 1e-300 for zeros) for every entry. */
function expectRel(got: (number | null)[][], want: (number | null)[][], what: string): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  got.forEach((row, t) => {
    expect(row.length, `${what}[${t}]`).toBe(want[t]!.length);
    row.forEach((x, i) => {
      const w = want[t]![i]!;
      if (w === null || x === null) {
        if (x !== w) expect.fail(`${what}: step ${t} group ${i}: got ${x}, PyTorch ${w}`);
        return;
      }
      if (!(Math.abs(x - w) <= 1e-12 * Math.abs(w) + 1e-300)) expect.fail(`${what}: step ${t} group ${i}: got ${x}, PyTorch ${w}`);
    });
  });
}

function done(opt: AnyOptimizer): void {
  const ps = opt.params;
  opt.dispose();
  ps.forEach((p) => p.dispose());
}

describe(`optimizers against PyTorch ${FIX.torch}`, () => {
  const classes: Record<string, (ps: ReturnType<typeof param>[], o: Record<string, unknown>) => Optimizer> = {
    adamax: (ps, o) => new Adamax(ps, o),
    nadam: (ps, o) => new NAdam(ps, o),
    radam: (ps, o) => new RAdam(ps, o),
    adadelta: (ps, o) => new Adadelta(ps, o),
  };
  it('has several option sets for each of Adamax, NAdam, RAdam and Adadelta', () => {
    for (const k of Object.keys(classes)) expect(FIX.cases.Optimizers.filter((c) => c.optimizer === k).length, k).toBeGreaterThanOrEqual(3);
  });
  for (const c of FIX.cases.Optimizers) {
    it(`${c.optimizer}(${JSON.stringify(c.options)})${c.oneCycle ? ' under OneCycleLR (beta1 cycled)' : ''}: a [3, 4] and a scalar parameter, ${c.trajectory.length} steps`, () => {
      const before = memory().numTensors;
      const w = param(c.w0.slice(0, 12), [3, 4]);
      const s = param(c.w0.slice(12), []);
      const opt = classes[c.optimizer]!([w, s], camel(c.options));
      const sched = c.oneCycle ? new OneCycleLR(opt, camel(c.oneCycle) as unknown as OneCycleLROptions) : null;
      c.grads.forEach((g, t) => {
        w.grad?.dispose();
        s.grad?.dispose();
        w.grad = tensor(g.slice(0, 12), [3, 4]);
        s.grad = tensor(g[12]!);
        opt.step();
        sched?.step();
        // float32 against PyTorch's float32: |got − want| ≤ 1e-5·max(1, |want|), as the trajectory tests
        expectClose([...values(w), ...values(s)], c.trajectory[t]!, 1e-5, `${c.optimizer} step ${t + 1}`);
      });
      for (const p of [w, s]) {
        p.grad?.dispose();
        p.grad = null;
      }
      done(opt);
      expect(memory().numTensors).toBe(before);
    });
  }
});

describe(`schedules against PyTorch ${FIX.torch}`, () => {
  it('covers every new schedule, alone and composed', () => {
    const kinds = new Set(FIX.cases.LR.map((c) => c.spec.kind));
    for (const k of ['LinearLR', 'ConstantLR', 'MultiplicativeLR', 'PolynomialLR', 'CosineAnnealingWarmRestarts', 'CyclicLR', 'SequentialLR', 'ChainedScheduler']) expect(kinds.has(k), k).toBe(true);
  });
  for (const c of FIX.cases.LR) {
    const what = `${c.optimizer} ${JSON.stringify(c.spec)}`;
    it(what, () => {
      const before = memory().numTensors;
      const opt = makeOpt(c.optimizer, c.groupLrs, c.optimizerOptions);
      const s = build(opt, c.spec);
      const lrs = [s.getLastLr()];
      const moms = [momenta(opt)];
      for (let t = 1; t < c.lrs.length; t++) {
        s.step();
        lrs.push(s.getLastLr());
        moms.push(momenta(opt));
      }
      expectRel(lrs, c.lrs, `${what} lrs`);
      expectRel(moms, c.momenta, `${what} momenta`);
      expect(s.lastEpoch).toBe(c.lrs.length - 1);
      // a fresh schedule loaded from the state dict at the end sets the same lrs and momenta
      const saved = JSON.parse(JSON.stringify(s.stateDict())) as ReturnType<typeof s.stateDict>;
      const opt2 = makeOpt(c.optimizer, c.groupLrs, c.optimizerOptions);
      const s2 = build(opt2, c.spec);
      // the optimizer first (it holds the momenta a schedule set), then the schedule
      const osd = opt.stateDict();
      opt2.loadStateDict(osd);
      s2.loadStateDict(saved);
      expect(s2.getLastLr()).toEqual(s.getLastLr());
      expect(momenta(opt2)).toEqual(momenta(opt));
      s.step();
      s2.step();
      expect(s2.getLastLr()).toEqual(s.getLastLr());
      done(opt);
      done(opt2);
      expect(memory().numTensors).toBe(before);
    });
  }
});
