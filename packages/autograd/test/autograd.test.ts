import { beforeAll, describe, expect, it } from 'vitest';
import { memory, randn, setBackend, tensor, tidy, noGrad, AxonError, type Tensor } from '@axon/core';
import '@axon/backend-wasm';
import { grad, gradcheck, gradcheckAsync, rules, valueAndGrad } from '../src/index.js';

const SEED = Number(process.env.AXON_SEED ?? Date.now() % 1e9);
const near = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-5, what = '') => {
  expect(a.length, what).toBe(b.length);
  for (let i = 0; i < a.length; i++) {
    expect(Math.abs(a[i]! - b[i]!), `${what} [${i}] got ${a[i]} expected ${b[i]} (seed ${SEED})`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(b[i]!)));
  }
};

beforeAll(async () => {
  await setBackend('wasm');
});

describe('backward', () => {
  it('accumulates into leaves and reduces over broadcast axes', () => {
    const w = tensor([[1, 2, 3]]).requireGrad(); // [1,3] broadcast over rows
    const x = tensor([[1, 1, 1], [2, 2, 2]]);
    tidy(() => x.mul(w).sum().backward());
    near(w.grad!.dataSync(), [3, 3, 3]);
    tidy(() => x.mul(w).sum().backward());
    near(w.grad!.dataSync(), [6, 6, 6], 1e-6, 'accumulated');
    w.dispose();
    x.dispose();
  });

  it('matmul gradient equals the analytic formula', () => {
    const a = randn([3, 4], { seed: SEED }).requireGrad();
    const b = randn([4, 2], { seed: SEED + 1 });
    tidy(() => a.matmul(b).sum().backward());
    // d/dA sum(A B) = 1 · Bᵀ: row i of grad = row sums of B
    const bd = b.dataSync();
    const expected: number[] = [];
    for (let i = 0; i < 3; i++) for (let k = 0; k < 4; k++) expected.push(bd[k * 2]! + bd[k * 2 + 1]!);
    near(a.grad!.dataSync(), expected, 1e-5, 'matmul grad');
    a.dispose();
    b.dispose();
  });

  it('refuses a non-scalar root without a gradient, and a tensor that does not require grad', () => {
    const w = tensor([1, 2]).requireGrad();
    expect(() => tidy(() => w.mul(2).backward())).toThrow(/backward: grad can be implicitly created only for a tensor of one element/);
    expect(() => tidy(() => tensor([1]).sum().backward())).toThrow(AxonError);
    w.dispose();
  });

  it('records nothing inside noGrad', () => {
    const w = tensor([1, 2]).requireGrad();
    const y = noGrad(() => w.mul(2));
    expect(y.requiresGrad).toBe(false);
    y.dispose();
    w.dispose();
  });

  it('leaks nothing over 200 steps of forward+backward in tidy', () => {
    const w = randn([8, 4], { seed: SEED }).requireGrad();
    const x = randn([16, 8], { seed: SEED + 2 });
    tidy(() => x.matmul(w).relu().square().mean().backward());
    const before = memory();
    for (let i = 0; i < 200; i++) tidy(() => x.matmul(w).relu().square().mean().backward());
    const after = memory();
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numBytes).toBe(before.numBytes);
    w.dispose();
    x.dispose();
  });
});

describe('functional', () => {
  it('grad and valueAndGrad', () => {
    const x = tensor([1, 2, 3]);
    const [g] = grad((t: Tensor) => t.square().sum())(x);
    near(g!.dataSync(), [2, 4, 6]);
    const { value, grads } = valueAndGrad((t: Tensor) => t.square().sum())(x);
    expect(value.item()).toBeCloseTo(14, 5);
    near(grads[0]!.dataSync(), [2, 4, 6]);
    expect(x.grad).toBeNull();
    for (const t of [x, g!, value, ...grads]) t.dispose();
  });

  it('second derivatives of elementwise ops, reductions and matmul', () => {
    const x = tensor([0.5, -1, 2]);
    // d²/dx² Σ x³ = 6x
    const d2 = grad((t: Tensor) => grad((u: Tensor) => u.pow(3).sum())(t)[0]!.sum())(x)[0]!;
    near(d2.dataSync(), [3, -6, 12], 1e-4, 'd2 x^3');
    // d²/dx² Σ tanh x = -2 tanh x (1 - tanh² x)
    const d2t = grad((t: Tensor) => grad((u: Tensor) => u.tanh().sum())(t)[0]!.sum())(x)[0]!;
    const xs = [0.5, -1, 2];
    near(d2t.dataSync(), xs.map((v) => -2 * Math.tanh(v) * (1 - Math.tanh(v) ** 2)), 1e-4, 'd2 tanh');
    // f(A) = Σ (A B)² ; Hessian-vector via grad of (grad · 1)
    const A = randn([2, 3], { seed: SEED + 5 });
    const B = randn([3, 2], { seed: SEED + 6 });
    const gg = grad((a: Tensor) => grad((u: Tensor) => u.matmul(B).square().sum())(a)[0]!.sum())(A)[0]!;
    // d/dA Σ_ij (2 A B Bᵀ)_ij = 2 · 1 · (B Bᵀ)ᵀ = 2 · rowsums of (B Bᵀ) per column... computed plainly:
    const bd = B.dataSync();
    const BBt = [0, 0, 0, 0, 0, 0, 0, 0, 0];
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 2; k++) BBt[i * 3 + j]! += bd[i * 2 + k]! * bd[j * 2 + k]!;
    const expected: number[] = [];
    for (let r = 0; r < 2; r++) for (let c = 0; c < 3; c++) { let s = 0; for (let j = 0; j < 3; j++) s += 2 * BBt[c * 3 + j]!; expected.push(s); }
    near(gg.dataSync(), expected, 1e-4, 'd2 matmul');
    for (const t of [x, d2, d2t, A, B, gg]) t.dispose();
  });

  it('gradcheck passes on a composite and fails on a wrong rule', () => {
    const x = randn([5], { seed: SEED + 9 });
    const r = gradcheck((t: Tensor) => t.sigmoid().mul(t.exp()).logSoftmax().sum(), [x]);
    expect(r.ok, r.message).toBe(true);
    // A deliberately wrong rule must be caught.
    const saved = rules.sin!;
    rules.sin = (g, c) => [g.mul(c.inputs[0]!.sin())];
    try {
      const bad = gradcheck((t: Tensor) => t.sin().sum(), [x]);
      expect(bad.ok).toBe(false);
      expect(bad.message).toMatch(/gradcheck failed/);
    } finally {
      rules.sin = saved;
    }
    x.dispose();
  });

  it('gradcheckAsync agrees with gradcheck and leaks nothing', async () => {
    const x = randn([4], { seed: SEED + 11 });
    const before = memory().numTensors;
    const f = (t: Tensor) => t.tanh().mul(t).sum();
    const a = gradcheck(f, [x]);
    const b = await gradcheckAsync(f, [x]);
    expect(a.ok && b.ok, `${a.message} / ${b.message}`).toBe(true);
    expect(b.worst).toEqual(a.worst);
    expect(memory().numTensors).toBe(before);
    x.dispose();
  });
});
