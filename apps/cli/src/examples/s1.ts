/**
 * Seed scenario S1 (seed 000): one sigmoid neuron trained by plain gradient descent.
 * X = [[0,0],[1,1]], y = [[0],[1]], h = sigmoid(X·W + b), W (2×1) and b (1) start at zero,
 * MSE loss, learning rate 0.01, 1000 steps, loss printed every 100 steps.
 */
import { tensor, tidy, zeros } from '@axon/core';
import '@axon/autograd';

/** What the example returns (for tests). */
export interface S1Result {
  losses: number[];
  /** W's gradient at step 0 from autograd and from the seed's formula. */
  gradW: { autograd: number[]; formula: number[] };
}

/** Runs S1. Reads asynchronously (`await data()`), so it runs on every backend. */
export async function runS1(log: (s: string) => void = console.log, steps = 1000, lr = 0.01): Promise<S1Result> {
  const X = tensor([[0, 0], [1, 1]]);
  const y = tensor([[0], [1]]);
  const W = zeros([2, 1]).requireGrad();
  const b = zeros([1]).requireGrad();
  const losses: number[] = [];
  let gradW: S1Result['gradW'] = { autograd: [], formula: [] };
  try {
    for (let step = 0; step < steps; step++) {
      const [loss, h] = tidy(() => {
        const z = X.matmul(W).add(b);
        const hz = z.sigmoid();
        const l = hz.sub(y).square().mean();
        l.backward();
        return [l.detach(), hz.detach()];
      });
      const l = await loss.itemAsync();
      losses.push(l);
      if (step === 0) {
        // The seed's formula: dL/dW = Xᵀ · (2/n · (h − y) ⊙ σ'(z)), σ'(z) = h(1 − h).
        const [hv, xv, yv, gw] = await Promise.all([h.data(), X.data(), y.data(), W.grad!.data()]);
        const n = 2;
        const formula = [0, 0];
        for (let i = 0; i < n; i++) {
          const d = (2 / n) * (hv[i]! - yv[i]!) * hv[i]! * (1 - hv[i]!);
          formula[0]! += xv[i * 2]! * d;
          formula[1]! += xv[i * 2 + 1]! * d;
        }
        gradW = { autograd: Array.from(gw), formula };
      }
      loss.dispose();
      h.dispose();
      if (step % 100 === 0 || step === steps - 1) log(`step ${String(step).padStart(4)}  loss ${l.toFixed(6)}`);
      // plain gradient descent
      tidy(() => {
        W.assign(W.sub(W.grad!.mul(lr)));
        b.assign(b.sub(b.grad!.mul(lr)));
      });
      W.grad!.dispose();
      W.grad = null;
      b.grad!.dispose();
      b.grad = null;
    }
    const [wv, bv] = await Promise.all([W.data(), b.data()]);
    log(`W = [${Array.from(wv).map((v) => v.toFixed(4)).join(', ')}], b = ${bv[0]!.toFixed(4)}`);
  } finally {
    for (const t of [X, y, W, b]) t.dispose();
  }
  return { losses, gradW };
}
