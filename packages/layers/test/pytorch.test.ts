/** The PyTorch front end: S4, S1, and a 1,000-step loop that must leak nothing. */
import { beforeAll, describe, expect, it } from 'vitest';
import { memory, randn, setSeed, tensor, tidy, type Tensor } from '@axon/core';
import { SGD, Adam } from '@axon/optimizers';
import { CrossEntropyLoss, Linear, MSELoss, Module, ReLU, Sequential, mseLoss, sigmoid } from '../src/index.js';
import { useTestBackend } from './helpers.js';

beforeAll(async () => {
  await useTestBackend();
});

describe('PyTorch front end', () => {
  it('S4: Linear(1,1), MSELoss, SGD(0.01), 100 steps on [[1]] -> [[2]]: loss falls each step, output approaches 2', () => {
    setSeed(4);
    class Net extends Module {
      fc = new Linear(1, 1);
      forward(x: Tensor): Tensor {
        return this.fc.call(x);
      }
    }
    const model = new Net();
    const criterion = new MSELoss();
    const optimizer = new SGD(model.parameters(), { lr: 0.01 });
    const x = tensor([[1.0]]);
    const y = tensor([[2.0]]);
    const losses: number[] = [];
    for (let i = 0; i < 100; i++) {
      const loss = tidy(() => {
        const out = model.call(x);
        const l = criterion.call(out, y);
        optimizer.zeroGrad();
        l.backward();
        optimizer.step();
        return l.detach();
      });
      losses.push(loss.item());
      loss.dispose();
    }
    for (let i = 1; i < losses.length; i++) expect(losses[i]!).toBeLessThan(losses[i - 1]!);
    const out = model.call(x);
    const first = Math.sqrt(losses[0]!);
    expect(Math.abs(out.item() - 2)).toBeLessThan(first * 0.5);
    out.dispose();
    x.dispose();
    y.dispose();
    model.dispose();
    optimizer.dispose();
  });

  it('S1: one sigmoid neuron, MSE, GD lr 0.01: loss falls monotonically; grad W matches the analytic formula', () => {
    const X = tensor([[0, 0], [1, 1]]);
    const Y = tensor([[0], [1]]);
    const W = tensor([[0], [0]]).requireGrad();
    const b = tensor([0]).requireGrad();
    const opt = new SGD([W, b], { lr: 0.01 });
    const losses: number[] = [];
    for (let step = 0; step < 1000; step++) {
      const l = tidy(() => {
        opt.zeroGrad();
        const h = sigmoid(X.matmul(W).add(b));
        const loss = mseLoss(h, Y);
        loss.backward();
        return loss.detach();
      });
      if (step === 0 || step === 500) {
        // analytic gradient: dL/dW = (2/N) Xᵀ [(h − y) ⊙ σ'(z)], σ' = h(1 − h)
        const w = W.dataSync();
        const bb = b.dataSync()[0]!;
        const xs = [[0, 0], [1, 1]];
        const ys = [0, 1];
        const g = [0, 0];
        xs.forEach((row, i) => {
          const z = Math.fround(row[0]! * w[0]! + row[1]! * w[1]! + bb);
          const h = 1 / (1 + Math.exp(-z));
          const d = (2 / 2) * (h - ys[i]!) * h * (1 - h);
          g[0]! += d * row[0]!;
          g[1]! += d * row[1]!;
        });
        const got = W.grad!.dataSync();
        for (let k = 0; k < 2; k++) expect(Math.abs(got[k]! - g[k]!)).toBeLessThanOrEqual(2 * 1.2e-7 * Math.max(1, Math.abs(g[k]!)));
      }
      opt.step();
      losses.push(l.item());
      l.dispose();
    }
    for (let i = 1; i < losses.length; i++) expect(losses[i]!).toBeLessThanOrEqual(losses[i - 1]!);
    expect(losses[999]!).toBeLessThan(losses[0]!);
    for (const t of [X, Y, W, b]) t.dispose();
    opt.dispose();
  });

  it('1,000 steps of the idiomatic loop end with the tensor count and bytes where they began', () => {
    setSeed(7);
    const model = new Sequential(new Linear(8, 16), new ReLU(), new Linear(16, 3));
    const criterion = new CrossEntropyLoss();
    const optimizer = new Adam(model.parameters(), { lr: 1e-2 });
    const x = randn([32, 8]);
    const y = tensor(Array.from({ length: 32 }, (_, i) => i % 3), [32], 'int32');
    const step = (): void => {
      tidy(() => {
        optimizer.zeroGrad();
        const loss = criterion.call(model.call(x), y);
        loss.backward();
        optimizer.step();
      });
    };
    step(); // the first step creates the optimizer state
    const before = memory();
    for (let i = 0; i < 1000; i++) step();
    const after = memory();
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numBytes).toBe(before.numBytes);
    const final = tidy(() => criterion.call(model.call(x), y).item());
    expect(final).toBeLessThan(0.5);
    model.dispose();
    optimizer.dispose();
    x.dispose();
    y.dispose();
  });
});
