/** Gradient clipping: clipGradNorm / clipGradValue and the optimizers' clipNorm / globalClipNorm / clipValue. */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AxonError, type Tensor, memory } from '@axon/core';
import { Adam, SGD, clipGradNorm, clipGradValue, globalNorm } from '../src/index.js';
import { SEED, expectClose, param, rng, setGrad, useTestBackend, values } from './helpers.js';
import { type RefState, norm2, refAdam } from './reference.js';

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

function params(): { ps: Tensor[]; gs: number[][] } {
  const r = rng(SEED + 11);
  const ps = [param(r.normal(6), [2, 3]), param(r.normal(4), [4]), param(r.normal(2), [2])];
  const gs = ps.map((p) => r.normal(p.size, 2));
  ps.forEach((p, i) => setGrad(p, gs[i]!));
  return { ps, gs };
}
const free = (ps: Tensor[]) => ps.forEach((p) => p.dispose());

describe('clipGradNorm', () => {
  it('rescales all gradients together (PyTorch formula) and returns the total norm', () => {
    const { ps, gs } = params();
    // the third parameter has no grad: ignored
    ps[2]!.grad!.dispose();
    ps[2]!.grad = null;
    const total = norm2([gs[0]!, gs[1]!]);
    const n = clipGradNorm(ps, 1);
    expectClose(values(n), [total], 1e-5, 'norm');
    const coef = Math.min(1, 1 / (total + 1e-6));
    expectClose(values(ps[0]!.grad!), gs[0]!.map((g) => g * coef), 1e-5);
    expectClose(values(ps[1]!.grad!), gs[1]!.map((g) => g * coef), 1e-5);
    expect(ps[2]!.grad).toBeNull();
    expect(norm2([values(ps[0]!.grad!), values(ps[1]!.grad!)])).toBeCloseTo(1, 5);
    n.dispose();
    free(ps);
  });

  it('leaves gradients below the limit unchanged (up to 1e-6 relative)', () => {
    const { ps, gs } = params();
    const n = clipGradNorm(ps, 1e6);
    ps.forEach((p, i) => expectClose(values(p.grad!), gs[i]!, 1e-6));
    n.dispose();
    free(ps);
  });

  it('supports the max-norm and other p-norms', () => {
    const { ps, gs } = params();
    const all = gs.flat();
    const inf = Math.max(...all.map(Math.abs));
    const n = clipGradNorm(ps, 0.5, Infinity);
    expectClose(values(n), [inf], 1e-6);
    expect(Math.max(...ps.flatMap((p) => values(p.grad!)).map(Math.abs))).toBeCloseTo(0.5, 5);
    n.dispose();
    const n3 = globalNorm(gs.map((_, i) => ps[i]!.grad!), 3);
    const scaled = ps.flatMap((p) => values(p.grad!));
    expectClose(values(n3), [Math.cbrt(scaled.reduce((a, x) => a + Math.abs(x) ** 3, 0))], 1e-5);
    n3.dispose();
    expect(() => clipGradNorm(ps, 1, 0)).toThrow(AxonError);
    expect(() => clipGradNorm(ps, -1)).toThrow(AxonError);
    free(ps);
  });

  it('is accurate on large gradients (10,000 + 4,099 elements)', () => {
    const r = rng(SEED + 12);
    const ps = [param(r.normal(10_000), [100, 100]), param(r.normal(4_099), [4_099])];
    const gs = ps.map((p) => r.normal(p.size, 0.3));
    ps.forEach((p, i) => setGrad(p, gs[i]!));
    const total = norm2(gs);
    const n = clipGradNorm(ps, 2);
    expectClose(values(n), [total], 1e-5, 'norm');
    ps.forEach((p, i) => expectClose(values(p.grad!), gs[i]!.map((g) => (g * 2) / (total + 1e-6)), 1e-5, `grad ${i}`));
    n.dispose();
    free(ps);
  });

  it('returns 0 when no parameter has a gradient', () => {
    const p = param([1], [1]);
    const n = clipGradNorm([p], 1);
    expect(values(n)).toEqual([0]);
    n.dispose();
    p.dispose();
  });
});

describe('clipGradValue', () => {
  it('clamps every element', () => {
    const { ps, gs } = params();
    clipGradValue(ps, 0.7);
    ps.forEach((p, i) => expectClose(values(p.grad!), gs[i]!.map((g) => Math.max(-0.7, Math.min(0.7, g))), 1e-7));
    expect(() => clipGradValue(ps, -1)).toThrow(AxonError);
    free(ps);
  });
});

describe('optimizer clipping options (Keras style)', () => {
  it('clipNorm clips each gradient by its own norm', () => {
    const { ps, gs } = params();
    const before = ps.map(values);
    const opt = new SGD(ps, { lr: 1, clipNorm: 0.5 });
    opt.step();
    ps.forEach((p, i) => {
      const n = norm2([gs[i]!]);
      const clipped = gs[i]!.map((g) => (g * 0.5) / Math.max(n, 0.5));
      expectClose(values(p), before[i]!.map((x, j) => x - clipped[j]!), 1e-5, `param ${i}`);
    });
    // the .grad tensors themselves are untouched
    ps.forEach((p, i) => expectClose(values(p.grad!), gs[i]!, 0));
    opt.dispose();
    free(ps);
  });

  it('globalClipNorm clips all gradients together', () => {
    const { ps, gs } = params();
    const before = ps.map(values);
    const opt = new SGD(ps, { lr: 1, globalClipNorm: 0.5 });
    opt.step();
    const n = norm2(gs);
    ps.forEach((p, i) => expectClose(values(p), before[i]!.map((x, j) => x - (gs[i]![j]! * 0.5) / Math.max(n, 0.5)), 1e-5));
    opt.dispose();
    free(ps);
  });

  it('clipValue clamps before an Adam update', () => {
    const { ps, gs } = params();
    const before = ps.map(values);
    const opt = new Adam(ps, { lr: 0.1, clipValue: 0.3 });
    opt.step();
    ps.forEach((p, i) => {
      const s: RefState = { step: 0 };
      const g = gs[i]!.map((x) => Math.max(-0.3, Math.min(0.3, x)));
      expectClose(values(p), refAdam(before[i]!, g, s, { lr: 0.1 }), 1e-5);
    });
    opt.dispose();
    free(ps);
  });
});
