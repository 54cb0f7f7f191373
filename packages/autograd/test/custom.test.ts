// customGrad: a function whose gradient is the user's backward.
import { beforeAll, describe, expect, it } from 'vitest';
import { AxonError, matmul, memory, noGrad, randn, setBackend, tensor, tidy, type Tensor } from '@axon/core';
import '@axon/backend-wasm';
import { customGrad, grad, gradcheck } from '../src/index.js';

beforeAll(async () => {
  await setBackend('wasm');
});

const stableSoftplus = customGrad(
  (x) => x.exp().log1p(),
  (g, [x]) => [g.mul(x!.sigmoid())],
);
const mm = (bwdScale = 1): ((a: Tensor, b: Tensor) => Tensor) =>
  customGrad(
    (a, b) => matmul(a!, b!),
    (g, [a, b]) => [matmul(g, b!.T).mul(bwdScale), matmul(a!.T, g)],
  );

describe('customGrad', () => {
  it('uses the given backward: finite where the naive gradient overflows', () => {
    const x = tensor([0, 100, -5]).requireGrad();
    tidy(() => stableSoftplus(x).sum().backward());
    const gx = x.grad!.arraySync() as number[];
    expect(gx[0]).toBeCloseTo(0.5, 6);
    expect(gx[1]).toBe(1);
    expect(gx[2]).toBeCloseTo(1 / (1 + Math.exp(5)), 6);
    const naive = tensor([100]).requireGrad();
    tidy(() => naive.exp().log1p().sum().backward());
    expect(Number.isNaN((naive.grad!.arraySync() as number[])[0])).toBe(true);
  });

  it('passes gradcheck when the backward is right, and fails it when it is wrong', () => {
    const a = randn([3, 4], { seed: 1 });
    const b = randn([4, 2], { seed: 2 });
    const good = mm();
    expect(gradcheck((p, q) => good(p!, q!).square().sum(), [a, b]).ok).toBe(true);
    const bad = mm(1.5);
    expect(gradcheck((p, q) => bad(p!, q!).square().sum(), [a, b]).ok).toBe(false);
  });

  it('differentiates its backward for higher-order gradients', () => {
    const cube = customGrad(
      (x) => x.mul(x).mul(x),
      (g, [x]) => [g.mul(x!.mul(x!).mul(3))],
    );
    const d2 = grad((x) => grad((y) => cube(y!).sum())(x!)[0]!.sum());
    expect(d2(tensor([1, 2]))[0]!.arraySync()).toEqual([6, 12]);
  });

  it('gives no gradient to an input whose backward entry is null', () => {
    const scaleBy = customGrad((x, s) => x!.mul(s!), (g, [, s]) => [g.mul(s!), null]);
    const x = tensor([1, 2]).requireGrad();
    const s = tensor([3]).requireGrad();
    tidy(() => scaleBy(x, s).sum().backward());
    expect(x.grad!.arraySync()).toEqual([3, 3]);
    expect(s.grad).toBeNull();
  });

  it('frees what forward creates besides its result, records nothing inside, and works under noGrad', () => {
    const x = tensor([1, 2, 3]).requireGrad();
    const before = memory().numTensors;
    const y = stableSoftplus(x);
    expect(memory().numTensors).toBe(before + 1);
    expect(y.requiresGrad).toBe(true);
    expect((y.gradNode as { op: string; inputs: Tensor[] }).op).toBe('customGrad');
    expect((y.gradNode as { inputs: Tensor[] }).inputs).toEqual([x]);
    y.dispose();
    const z = noGrad(() => stableSoftplus(x));
    expect(z.requiresGrad).toBe(false);
    z.dispose();
  });

  it('a forward that returns its input unchanged does not turn the input into an op output', () => {
    const reverseGrad = customGrad((x) => x!, (g) => [g.neg()]);
    const x = tensor([1, 2]).requireGrad();
    tidy(() => reverseGrad(x).sum().backward());
    expect(x.gradNode).toBeNull();
    expect(x.grad!.arraySync()).toEqual([-1, -1]);
  });

  it('refuses bad definitions and bad gradients with an AxonError, leaking nothing', () => {
    expect(() => customGrad(1 as unknown as () => Tensor, () => [])).toThrow(AxonError);
    expect(() => customGrad((x) => x!, 'no' as unknown as () => [])).toThrow(AxonError);
    const x = tensor([1, 2]).requireGrad();
    const before = memory().numTensors;
    const cases: [string, (g: Tensor) => readonly (Tensor | null)[]][] = [
      ['array of 1 gradient', () => []],
      ['shaped like the input', (g) => [g.sum()]],
      ['expected a Tensor', () => [5 as unknown as Tensor]],
    ];
    for (const [msg, bwd] of cases) {
      const f = customGrad((t) => t!.mul(2), bwd, { name: 'myOp' });
      expect(() => tidy(() => f(x).sum().backward()), msg).toThrow(msg === 'shaped like the input' ? /myOp|customGrad/ : /myOp/);
      expect(memory().numTensors, msg).toBe(before);
    }
    const notTensor = customGrad(() => 3 as unknown as Tensor, () => [null]);
    expect(() => notTensor(x)).toThrow(/must return a Tensor/);
    const throwing = customGrad((t) => {
      t!.add(1);
      throw new Error('boom');
    }, () => [null]);
    expect(() => throwing(x)).toThrow('boom');
    expect(memory().numTensors).toBe(before);
    expect(() => stableSoftplus(3 as unknown as Tensor)).toThrow(/argument 0 is not a Tensor/);
  });
});
