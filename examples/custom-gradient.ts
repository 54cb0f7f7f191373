// Custom gradients — an op whose backward pass you choose
//
// Sometimes the gradient autograd derives is not the one you want: a formula that overflows
// (log(1 + eˣ) at x = 100 gives a NaN gradient), or an op whose true gradient is useless (round()
// has gradient 0 almost everywhere, so nothing before it learns). `customGrad(forward, backward)`
// from @axon/autograd (TensorFlow's `tf.custom_gradient`, PyTorch's `autograd.Function`) makes a
// function whose value is `forward`'s and whose gradient is what `backward(g, inputs, output)`
// returns — one gradient per input — on every backend. Part 1 gives log(1 + eˣ) a stable
// gradient; part 2 trains weights that are rounded to a grid in the forward pass, with the
// straight-through estimator (quantization-aware training). `gradcheck` confirms a hand-written
// gradient against finite differences.
//
// Run it from the repository (after `pnpm exec turbo run build --filter=@axon/examples...`):
//   node examples/run.mjs custom-gradient
import { randn, ready, setSeed, softplus, tensor, tidy, zeros, type Tensor } from '@axon/core';
import { customGrad, grad, gradcheck } from '@axon/autograd';
import '@axon/backend-wasm';
import { SGD } from '@axon/optimizers';

await ready();
setSeed(0);

// ---------------------------------------------------------------- Part 1: a stable gradient

/** log(1 + eˣ) written naively: its derived gradient is eˣ / (1 + eˣ), i.e. ∞/∞ for large x. */
const naiveLog1pExp = (x: Tensor): Tensor => x.exp().add(1).log();
/** The same function with a gradient of our choosing: upstream · σ(x), which never overflows. */
const log1pExp = customGrad(
  (x) => softplus(x!), // Axon's softplus is already stable in value: log1p(e^−|x|) + relu(x)
  (g, [x]) => [g.mul(x!.sigmoid())],
  { name: 'log1pExp' },
);
// The hand-written gradient agrees with finite differences where the naive one is fine too.
const checked = gradcheck((x) => log1pExp(x).sum(), [tensor([-2, 0.5, 3])]);
console.log(`gradcheck of the custom gradient: ${checked.ok ? 'ok' : 'FAILED'}`);

const points = tensor([-5, 0, 5, 50, 100]);
const [naiveGrad] = grad((x) => naiveLog1pExp(x).sum())(points);
const [customGradient] = grad((x) => log1pExp(x).sum())(points);
const [naiveValue, customValue] = tidy(() => [naiveLog1pExp(points), log1pExp(points)]);
const fmt = async (t: Tensor): Promise<string> => Array.from(await t.data(), (v) => (Number.isFinite(v) ? v.toPrecision(5) : String(v))).join(', ');
console.log(`x                    ${await fmt(points)}`);
console.log(`naive value          ${await fmt(naiveValue)}`);
console.log(`naive gradient       ${await fmt(naiveGrad!)}`);
console.log(`custom value         ${await fmt(customValue)}`);
console.log(`custom gradient σ(x) ${await fmt(customGradient!)}`);
const customGradValues = Array.from(await customGradient!.data());
const naiveGradValues = Array.from(await naiveGrad!.data());
for (const t of [points, naiveGrad!, customGradient!, naiveValue, customValue]) t.dispose();

// ---------------------------------------------------------------- Part 2: straight-through estimator

/** Rounds to the nearest multiple of 0.25, with round()'s own gradient (0): w never learns. */
const quantizePlain = (w: Tensor): Tensor => w.mul(4).round().div(4);
/** The same rounding in the forward pass; in the backward pass the gradient passes straight through. */
const quantizeSTE = customGrad((w) => quantizePlain(w!), (g) => [g], { name: 'quantizeSTE' });

// Fit y = 0.8·x₁ − 0.35·x₂ + 0.15 with weights restricted to multiples of 0.25 (the bias stays real).
const x = randn([256, 2], { seed: 1 });
const y = tidy(() => x.matmul(tensor([[0.8], [-0.35]])).add(0.15));

async function train(quantize: (w: Tensor) => Tensor, label: string): Promise<{ losses: number[]; weights: number[] }> {
  const w = zeros([2, 1]).requireGrad();
  const b = zeros([1]).requireGrad();
  const optimizer = new SGD([w, b], { lr: 0.1 });
  const losses: number[] = [];
  for (let step = 0; step < 60; step++) {
    const loss = tidy(() => {
      const l = x.matmul(quantize(w)).add(b).sub(y).square().mean();
      optimizer.zeroGrad();
      l.backward();
      optimizer.step();
      return l.detach();
    });
    losses.push(await loss.itemAsync());
    loss.dispose();
  }
  const q = tidy(() => quantize(w));
  const weights = Array.from(await q.data());
  console.log(`${label}: loss ${losses[0]!.toFixed(4)} → ${losses.at(-1)!.toFixed(4)}; quantized weights [${weights.join(', ')}], bias ${(await b.data())[0]!.toFixed(3)}`);
  for (const t of [q, w, b]) t.dispose();
  optimizer.dispose();
  return { losses, weights };
}

const plain = await train(quantizePlain, 'round() with its own gradient (0)');
const ste = await train(quantizeSTE, 'round() with a straight-through gradient');
x.dispose();
y.dispose();

console.log(
  `RESULT ${JSON.stringify({
    naiveGradient: naiveGradValues.map((v) => (Number.isFinite(v) ? v : String(v))),
    customGradient: customGradValues,
    gradcheck: checked.ok,
    plainLoss: [plain.losses[0], plain.losses.at(-1)],
    steLoss: [ste.losses[0], ste.losses.at(-1)],
    steWeights: ste.weights,
  })}`,
);
