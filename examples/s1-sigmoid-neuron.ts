// S1 — one sigmoid neuron trained by gradient descent
//
// Seed scenario S1, written with tensors and autograd only (no layers, no optimizer):
// inputs X = [[0,0],[1,1]], targets y = [[0],[1]], h = sigmoid(X·W + b) with W (2×1) and b (1)
// starting at zero, mean squared error, plain gradient descent with learning rate 0.01 for 1000
// steps, the loss printed every 100 steps. At each printed step the gradient autograd computed
// for W is compared with the seed's hand-written formula, Xᵀ · (2/n · (h − y) ⊙ σ'(z)).
//
// Run it from the repository (after `pnpm exec turbo run build --filter=@axon/examples...`):
//   node examples/run.mjs s1-sigmoid-neuron
import { noGrad, ready, tensor, tidy, zeros } from '@axon/core';
import '@axon/autograd'; // installs the tape: loss.backward() fills W.grad and b.grad
import '@axon/backend-wasm'; // registers the WebAssembly backend

const backend = await ready(); // the best registered backend: here WASM, the only one imported
console.log(`backend: ${backend.name}`);

const X = tensor([[0, 0], [1, 1]]);
const y = tensor([[0], [1]]);
const W = zeros([2, 1]).requireGrad();
const b = zeros([1]).requireGrad();
const lr = 0.01;
const steps = 1000;

const losses: number[] = [];
let worstGradError = 0;

for (let step = 0; step < steps; step++) {
  // Forward and backward inside one tidy: the intermediates autograd saved live until backward
  // and are freed when tidy returns. Only the returned (detached) tensors survive.
  const [loss, h] = tidy(() => {
    const hz = X.matmul(W).add(b).sigmoid();
    const l = hz.sub(y).square().mean();
    l.backward();
    return [l.detach(), hz.detach()];
  });
  const value = await loss.itemAsync(); // asynchronous reads work on every backend
  losses.push(value);

  if (step % 100 === 0 || step === steps - 1) {
    // The seed's formula for dL/dW: with n = 2 examples, dL/dh = 2/n · (h − y) and σ'(z) = h(1 − h).
    const [hv, xv, yv, gw] = await Promise.all([h.data(), X.data(), y.data(), W.grad!.data()]);
    const formula = [0, 0];
    for (let i = 0; i < 2; i++) {
      const d = (2 / 2) * (hv[i]! - yv[i]!) * hv[i]! * (1 - hv[i]!);
      formula[0]! += xv[i * 2]! * d;
      formula[1]! += xv[i * 2 + 1]! * d;
    }
    const error = Math.max(Math.abs(gw[0]! - formula[0]!), Math.abs(gw[1]! - formula[1]!));
    worstGradError = Math.max(worstGradError, error);
    console.log(
      `step ${String(step).padStart(4)}  loss ${value.toFixed(6)}  dL/dW autograd [${Array.from(gw, (v) => v.toExponential(4)).join(', ')}]` +
        `  formula [${formula.map((v) => v.toExponential(4)).join(', ')}]`,
    );
  }
  loss.dispose();
  h.dispose();

  // Plain gradient descent, without recording the update (PyTorch's `with torch.no_grad()`).
  noGrad(() =>
    tidy(() => {
      W.assign(W.sub(W.grad!.mul(lr)));
      b.assign(b.sub(b.grad!.mul(lr)));
    }),
  );
  // Gradients accumulate, as in PyTorch: clear them before the next backward.
  for (const p of [W, b]) {
    p.grad!.dispose();
    p.grad = null;
  }
}

const monotonic = losses.every((l, i) => i === 0 || l < losses[i - 1]!);
const [wv, bv] = await Promise.all([W.data(), b.data()]);
console.log(`W = [${Array.from(wv, (v) => v.toFixed(4)).join(', ')}], b = ${bv[0]!.toFixed(4)}`);
console.log(`the loss fell at every one of the ${steps} steps: ${monotonic}; largest |autograd − formula| for dL/dW: ${worstGradError.toExponential(2)}`);
for (const t of [X, y, W, b]) t.dispose();

console.log(`RESULT ${JSON.stringify({ firstLoss: losses[0], lastLoss: losses.at(-1), monotonic, worstGradError })}`);
