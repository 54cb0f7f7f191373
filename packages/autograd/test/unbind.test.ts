import { beforeAll, describe, expect, it } from 'vitest';
import { AxonError, compile, concat, detectAnomaly, memory, resetPeakMemory, setBackend, split, stack, tensor, tidy, unbind, type Tensor } from '@axon/core';
import '@axon/backend-wasm';
import { grad, gradients } from '../src/index.js';

beforeAll(async () => {
  await setBackend('wasm');
});

const data = (t: Tensor | null): number[] => Array.from(t!.dataSync());

describe('unbind / split: one gradient rule for all outputs', () => {
  it('unbind: the gradient stacks the used outputs, zeros for the unused one', () => {
    const before = memory().numTensors;
    const x = tensor([[1, 2], [3, 4], [5, 6]]).requireGrad();
    tidy(() => {
      const [a, , c] = unbind(x);
      a!.mul(2).add(c!.square()).sum().backward();
    });
    expect(data(x.grad)).toEqual([2, 2, 0, 0, 10, 12]);
    tidy(() => {
      const cols = unbind(x, -1);
      cols[1]!.sum().backward();
    });
    expect(data(x.grad)).toEqual([2, 3, 0, 1, 10, 13]);
    x.dispose();
    expect(memory().numTensors).toBe(before);
  });

  it('split along an axis: one concatenation, an unused part gets zeros', () => {
    const x = tensor([[1, 2, 3], [4, 5, 6]]).requireGrad();
    tidy(() => {
      const [p, q] = split(x, [1, 2], 1);
      void q;
      p!.mul(3).sum().backward();
    });
    expect(data(x.grad)).toEqual([3, 0, 0, 3, 0, 0]);
    x.dispose();
  });

  it('an output used twice, and outputs that are also targets', () => {
    tidy(() => {
      const x = tensor([1, 2, 3]).requireGrad();
      const parts = unbind(x);
      const y = parts[0]!.mul(parts[0]!).add(parts[2]!.mul(parts[1]!));
      const [gx, g0, g1] = gradients(y, [x, parts[0]!, parts[1]!]);
      expect(data(gx)).toEqual([2, 3, 2]);
      expect(data(g0)).toEqual([2]);
      expect(data(g1)).toEqual([3]);
    });
  });

  it('second order (createGraph): d²/dx² of Σ_t x_t³ through unbind is 6x', () => {
    tidy(() => {
      const x = tensor([1, -2, 0.5]);
      const first = (v: Tensor): Tensor => grad((u: Tensor) => unbind(u).map((p) => p.mul(p).mul(p)).reduce((a, b) => a.add(b)))(v)[0]!.sum();
      const [h] = grad(first)(x);
      expect(data(h)).toEqual([6, -12, 3]);
    });
  });

  it('a second backward through a released group is an AxonError; retainGraph runs it twice', () => {
    tidy(() => {
      const x = tensor([1, 2]).requireGrad();
      const y = unbind(x)[1]!.mul(5);
      y.backward(undefined, { retainGraph: true });
      y.backward();
      expect(data(x.grad)).toEqual([0, 10]);
      expect(() => y.backward()).toThrow(AxonError);
      x.grad!.dispose();
    });
  });

  it('bad input: 0-d tensor, axis out of range', () => {
    const before = memory().numTensors;
    tidy(() => {
      expect(() => unbind(tensor(1))).toThrow(/unbind.*0-d/);
      expect(() => unbind(tensor([1, 2]), 1)).toThrow(AxonError);
      expect(() => unbind(tensor([1, 2]), 0.5)).toThrow(/unbind.*axis must be an integer/);
    });
    expect(memory().numTensors).toBe(before);
  });

  it('backward of T per-step slices allocates O(T·size) bytes, not O(T²·size)', () => {
    // Σ_t (x_t · w_t) over T steps of x [T, B, H]: the slice rule padded each step's gradient
    // to [T, B, H] (T² · B · H floats live until the end of backward)
    const peak = (T: number, take: (x: Tensor) => Tensor[]): number => tidy(() => {
      const x = tensor(new Float32Array(T * 4 * 8).fill(1), [T, 4, 8]).requireGrad();
      const w = tensor(new Float32Array(4 * 8).fill(2), [4, 8]);
      const steps = take(x);
      const loss = steps.map((s) => s.mul(w).sum()).reduce((a, b) => a.add(b));
      const base = memory().numBytes;
      resetPeakMemory();
      loss.backward();
      const p = memory().peakBytes - base;
      expect(data(x.grad).every((v) => v === 2)).toBe(true);
      x.grad!.dispose();
      return p;
    });
    const size = 4 * 8 * 4;
    const p50 = peak(50, (x) => unbind(x));
    const p100 = peak(100, (x) => unbind(x));
    // one stack of the T step gradients, the T step gradients and the leaf's copy: a few T·size
    expect(p100).toBeLessThanOrEqual(8 * 100 * size);
    expect(p100 / p50).toBeLessThan(2.5);
    const s100 = peak(100, (x) => split(x, 100).map((p) => p.reshape([4, 8])));
    expect(s100).toBeLessThanOrEqual(8 * 100 * size);
  });

  it('under anomaly detection: a non-finite gradient through unbind names the op that made it', () => {
    const before = memory().numTensors;
    const x = tensor([0, 1]).requireGrad();
    expect(() => detectAnomaly(() => tidy(() => unbind(x).map((p) => p.sqrt()).reduce((a, b) => a.add(b)).backward()))).toThrow(/the gradient of 'sqrt'/);
    tidy(() => detectAnomaly(() => unbind(x)[1]!.mul(3).backward()));
    expect(data(x.grad)).toEqual([0, 3]);
    x.grad!.dispose();
    x.dispose();
    expect(memory().numTensors).toBe(before);
  });

  it('a compiled step (forward, gradients through unbind and split) replays with new arguments', () => {
    const before = memory().numTensors;
    const f = compile((x: Tensor, w: Tensor) => tidy(() => {
      const xg = x.requireGrad();
      const loss = unbind(xg).map((p, t) => split(p, [1, 2])[t % 2 === 0 ? 0 : 1]!.mul(w).sum()).reduce((a, b) => a.add(b));
      return gradients(loss, [xg])[0]!;
    }));
    const args = [tensor([[1, 2, 3], [4, 5, 6]]), tensor([2]), tensor([[0, 0, 0], [1, 1, 1]]), tensor([5])] as const;
    const g1 = f(args[0], args[1]);
    const g2 = f(args[2], args[3]);
    expect(data(g1)).toEqual([2, 0, 0, 0, 2, 2]);
    expect(data(g2)).toEqual([5, 0, 0, 0, 5, 5]);
    expect(f.traces).toBe(1);
    for (const t of [g1, g2, ...args]) t.dispose();
    expect(memory().numTensors).toBe(before);
  });

  it('stack(unbind(x)) and concat(split(x)) round-trip values', () => {
    tidy(() => {
      const x = tensor([[1, 2, 3], [4, 5, 6]]);
      expect(data(stack(unbind(x, 1), 1))).toEqual([1, 2, 3, 4, 5, 6]);
      expect(data(concat(split(x, 3, 1), 1))).toEqual([1, 2, 3, 4, 5, 6]);
    });
  });
});
