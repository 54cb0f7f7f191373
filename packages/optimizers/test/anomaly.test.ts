/**
 * Anomaly detection in step() on a synchronous backend (WASM): a non-finite gradient throws an
 * AxonError naming the parameter and changes nothing (issue 9, item 5).
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AxonError, type Tensor, memory, setAnomalyDetection, tensor } from '@axon/core';
import { Adam, type Optimizer, SGD, optimizer } from '../src/index.js';
import { OPTIMIZERS } from './anomaly-makers.js';
import { SEED, param, rng, setGrad, useTestBackend, values } from './helpers.js';

beforeAll(async () => {
  expect(await useTestBackend()).toBe('wasm');
});
afterEach(() => {
  setAnomalyDetection(false);
});

const SHAPES = [[2, 3], [3], [2]];

/** Step counts, state keys and state values (disposes the dict it reads). */
function snapshot(opt: Optimizer): { steps: number[]; state: Record<string, number[]>; lr: number[] } {
  const sd = opt.stateDict();
  const state = Object.fromEntries(Object.entries(sd.tensors).map(([k, t]) => [k, values(t)]));
  for (const t of Object.values(sd.tensors)) t.dispose();
  return { steps: opt.params.map((p) => opt.stepCount(p)), state, lr: opt.paramGroups.map((g) => g.lr) };
}

function setup(make: (ps: Tensor[]) => Optimizer, seed: number) {
  const r = rng(seed);
  const init = SHAPES.map((s) => r.normal(s.reduce((a, b) => a * b, 1)));
  const ps = init.map((v, i) => param(v, SHAPES[i]!, `p${i}`));
  const ref = init.map((v, i) => param(v, SHAPES[i]!, `p${i}`));
  const grads = () => SHAPES.map((s) => r.normal(s.reduce((a, b) => a * b, 1)));
  return { ps, ref, opt: make(ps), refOpt: make(ref), grads };
}

function dispose(...xs: (Tensor | Optimizer)[]): void {
  for (const x of xs) {
    if ('grad' in x && x.grad) {
      x.grad.dispose();
      x.grad = null;
    }
    x.dispose();
  }
}

describe('step() with anomaly detection on (wasm: checks before assigning)', () => {
  for (const [name, make] of Object.entries(OPTIMIZERS)) {
    it(`${name}: a NaN or ±Infinity gradient throws naming the parameter; nothing changes; training continues as if it never came`, () => {
      const { ps, ref, opt, refOpt, grads } = setup(make, SEED + 21);
      setAnomalyDetection(true);
      const g1 = grads();
      ps.forEach((p, i) => setGrad(p, g1[i]!));
      ref.forEach((p, i) => setGrad(p, g1[i]!));
      opt.step();
      refOpt.step();
      for (const [bad, word] of [[Number.NaN, 'NaN'], [Infinity, 'Infinity'], [-Infinity, '-Infinity']] as const) {
        const gs = grads();
        gs[1]![2] = bad;
        ps.forEach((p, i) => setGrad(p, gs[i]!));
        const before = { params: ps.map(values), ...snapshot(opt) };
        const mem = memory();
        let err: unknown;
        try {
          opt.step();
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(AxonError);
        expect((err as Error).message).toContain(`step: the gradient of parameter 'p1' (index 1, [3]) holds ${word} at element 2`);
        expect(memory().numTensors).toBe(mem.numTensors);
        expect(memory().numBytes).toBe(mem.numBytes);
        expect({ params: ps.map(values), ...snapshot(opt) }).toEqual(before);
      }
      // continue: bit for bit where an optimizer that never saw the bad gradients is
      for (let t = 0; t < 2; t++) {
        const g = grads();
        ps.forEach((p, i) => setGrad(p, g[i]!));
        ref.forEach((p, i) => setGrad(p, g[i]!));
        opt.step();
        refOpt.step();
      }
      ps.forEach((p, i) => expect(values(p)).toEqual(values(ref[i]!)));
      expect(snapshot(opt)).toEqual(snapshot(refOpt));
      dispose(opt, refOpt, ...ps, ...ref);
    });
  }

  it("a bad gradient on a parameter's first update leaves it without state", () => {
    const p = param([1, 2], [2], 'w');
    const q = param([3], [1]);
    const opt = new Adam([p, q], { lr: 0.1 });
    setAnomalyDetection(true);
    setGrad(p, [1, Number.NaN]);
    setGrad(q, [1]);
    expect(() => opt.step()).toThrow(/the gradient of parameter 'w' \(index 0, \[2\]\) holds NaN at element 1/);
    expect(opt.stepCount(p)).toBe(0);
    expect(opt.stepCount(q)).toBe(0); // all or nothing: q was not updated either
    expect(values(p)).toEqual([1, 2]);
    expect(values(q)).toEqual([3]);
    const sd = opt.stateDict();
    expect(sd.tensors).toEqual({});
    expect(sd.meta.state).toEqual({});
    // an unnamed parameter is named by its index
    setGrad(p, [1, 1]);
    setGrad(q, [Infinity]);
    expect(() => opt.step()).toThrow(/the gradient of parameter \(index 1, \[1\]\) holds Infinity at element 0/);
    dispose(opt, p, q);
  });

  it('applyGradients refuses a non-finite gradient the same way (the Keras path, no .grad)', () => {
    const p = param([1, 2], [2], 'kernel');
    const opt = optimizer('adam');
    setAnomalyDetection(true);
    const g = tensor([Number.NaN, 0], [2]);
    expect(() => opt.applyGradients([[g, p]])).toThrow(/Adam\.applyGradients: the gradient of parameter 'kernel' \(index 0, \[2\]\) holds NaN at element 0/);
    expect(values(p)).toEqual([1, 2]);
    expect(opt.stepCount(p)).toBe(0);
    dispose(opt, g, p);
  });

  it('an update rule that overflows names the parameter and changes nothing', () => {
    const p = param([1, 2], [2], 'w');
    const opt = new SGD([p], { lr: 1e38 });
    setAnomalyDetection(true);
    setGrad(p, [10, 0]); // finite, but w − lr·g is -Infinity in float32
    expect(() => opt.step()).toThrow(/SGD\.step: updating parameter 'w' \(index 0, \[2\]\): anomaly:/);
    expect(values(p)).toEqual([1, 2]);
    expect(opt.stepCount(p)).toBe(0);
    dispose(opt, p);
  });

  it('with detection off a NaN gradient is applied (PyTorch and Keras do the same)', () => {
    const p = param([1, 2], [2], 'w');
    const opt = new Adam([p], { lr: 0.1 });
    setGrad(p, [Number.NaN, 1]);
    opt.step();
    expect(Number.isNaN(values(p)[0]!)).toBe(true);
    expect(opt.stepCount(p)).toBe(1);
    dispose(opt, p);
  });
});
