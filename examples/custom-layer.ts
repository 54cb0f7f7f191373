// Custom layers — your own Keras layer and your own PyTorch-style Module
//
// Every layer in Axon is a `Module`. Part 1 writes a Keras-style layer, `ResidualDense`
// (y = x + relu(x·W + b)), whose weights are created from the input's size when the model is
// built (`computeOutputShape`), with a `getConfig()` and a `registerLayer` call so that `save`
// and `loadModel` can rebuild it; it is used inside `sequential([...])` with compile/fit, on
// points inside or outside a circle. Part 2 writes PyTorch-style modules: `RMSNorm` with its own
// parameter, and a residual block and a network made of built-in and custom modules (children
// register by assignment, arrays of modules too), trained with the zeroGrad/backward/step loop.
//
// Run it from the repository (after `pnpm exec turbo run build --filter=@axon/examples...`):
//   node examples/run.mjs custom-layer
// It takes a few seconds, so AXON_EXAMPLE_QUICK=1 changes nothing here.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rand, ready, setSeed, tidy, ones, randn, zeros, type Tensor } from '@axon/core';
import '@axon/backend-wasm';
import { Dense, Linear, Module, Sequential, gelu, loadModel, registerLayer, save, sequential, type LayerConfig, type SymbolicShape } from '@axon/layers';
import { Adam } from '@axon/optimizers';

await ready();
setSeed(0);

// ---------------------------------------------------------------- Part 1: a Keras-style layer

/** y = x + relu(x·W + b): a residual layer as wide as its input. */
class ResidualDense extends Module {
  // The name saved in model.json (set it explicitly: bundlers may rename classes).
  static readonly className = 'ResidualDense';
  kernel: Tensor | null = null;
  bias: Tensor | null = null;

  constructor(name?: string) {
    super(name);
  }

  /** Creates the weights for `features` inputs (Keras's `build`). */
  build(features: number): void {
    if (this.kernel) return;
    // addParameter runs the initialiser without gradients, keeps the tensor and registers it
    // (as `kernel` and `bias`: they appear in parameters(), stateDict() and the saved weights).
    this.kernel = this.addParameter('kernel', () => randn([features, features]).mul(0.1 / Math.sqrt(features)));
    this.bias = this.addParameter('bias', () => zeros([features]));
  }

  // No tidy in forward: autograd needs the intermediates until backward. The caller's tidy (fit,
  // predict and evaluate run each step in one; so should your own training loop) frees them.
  forward(x: Tensor): Tensor {
    this.build(x.shape[x.rank - 1]!);
    return x.add(x.matmul(this.kernel!).add(this.bias!).relu());
  }

  // Called when the layer is added to a model with a known input shape (batch axis null):
  // builds the weights before the optimizer collects the parameters.
  override computeOutputShape(shape: SymbolicShape): SymbolicShape {
    this.build(shape[shape.length - 1] as number);
    return shape;
  }

  // What save() writes to model.json for this layer (no options here), and what the factory
  // registered below gets back.
  override getConfig(): LayerConfig {
    return {};
  }
}
registerLayer('ResidualDense', (_config, name) => new ResidualDense(name));

// Data: points in [-1, 1]², labelled 1 inside the circle of radius 0.6.
const [xCircle, yCircle] = tidy(() => {
  const pts = rand([2000, 2], { low: -1, high: 1 });
  return [pts, pts.square().sum(1, true).lt(0.36).astype('float32')];
});
const keras = sequential([
  new Dense(16, { activation: 'tanh', inputShape: [2] }),
  new ResidualDense(),
  new ResidualDense(),
  new Dense(1, { activation: 'sigmoid' }),
]);
keras.compile({ optimizer: { name: 'adam', learningRate: 0.01 }, loss: 'binaryCrossentropy', metrics: ['accuracy'] });
console.log(keras.summary());
await keras.fit(xCircle, yCircle, { epochs: 15, batchSize: 32, verbose: 0 });
const { accuracy } = await keras.evaluate(xCircle, yCircle);
console.log(`Keras model with two ResidualDense layers: accuracy ${(accuracy! * 100).toFixed(1)}% on its 2,000 training points`);

// The custom layer survives save/loadModel because it was registered.
const dir = await mkdtemp(join(tmpdir(), 'axon-custom-layer-'));
await save(keras, dir);
const loaded = await loadModel(dir);
if (!(loaded instanceof Sequential)) throw new Error('expected a Sequential model');
const [before, after] = [keras.predict(xCircle), loaded.predict(xCircle)];
const [a, b] = await Promise.all([before.data(), after.data()]);
const reloadedSame = a.every((v, i) => v === b[i]);
console.log(`saved and loaded again: layers ${loaded.layers.map((l) => l.className).join(', ')}; same predictions: ${reloadedSame}`);
for (const t of [before, after, xCircle, yCircle]) t.dispose();
keras.dispose();
loaded.dispose();
await rm(dir, { recursive: true, force: true });

// ---------------------------------------------------------------- Part 2: PyTorch-style modules

/** Root-mean-square normalisation over the last axis, with a learned per-feature scale. */
class RMSNorm extends Module {
  readonly weight: Tensor;
  constructor(
    readonly dim: number,
    readonly eps = 1e-6,
  ) {
    super();
    this.weight = this.addParameter('weight', () => ones([dim]));
  }
  forward(x: Tensor): Tensor {
    return x.mul(x.square().mean(-1, true).add(this.eps).rsqrt()).mul(this.weight);
  }
}

/** x + fc2(gelu(fc1(norm(x)))): a pre-norm residual MLP block. */
class Block extends Module {
  readonly norm: RMSNorm;
  readonly fc1: Linear;
  readonly fc2: Linear;
  constructor(dim: number) {
    super();
    this.norm = new RMSNorm(dim);
    this.fc1 = new Linear(dim, 4 * dim);
    this.fc2 = new Linear(4 * dim, dim);
  }
  forward(x: Tensor): Tensor {
    return x.add(this.fc2.call(gelu(this.fc1.call(this.norm.call(x)))));
  }
}

class Regressor extends Module {
  readonly inp = new Linear(1, 16);
  readonly blocks = [new Block(16), new Block(16)]; // an array of modules registers each one
  readonly out = new Linear(16, 1);
  forward(x: Tensor): Tensor {
    let h = this.inp.call(x);
    for (const block of this.blocks) h = block.call(h);
    return this.out.call(h);
  }
}

const net = new Regressor();
console.log(`Regressor: ${net.countParams()} parameters: ${net.namedParameters().map(([n]) => n).join(', ')}`);
// Learn y = sin(3x) on [-1, 1].
const [xs, ys] = tidy(() => {
  const x = rand([256, 1], { low: -1, high: 1 });
  return [x, x.mul(3).sin()];
});
const optimizer = new Adam(net.parameters(), { lr: 0.01 });
const losses: number[] = [];
for (let step = 0; step < 300; step++) {
  // One tidy per step frees the forward pass's intermediates once backward is done.
  const loss = tidy(() => {
    const l = net.call(xs).sub(ys).square().mean();
    optimizer.zeroGrad();
    l.backward();
    optimizer.step();
    return l.detach();
  });
  losses.push(await loss.itemAsync());
  loss.dispose();
  if (step % 50 === 0 || step === 299) console.log(`step ${String(step).padStart(3)}  mse ${losses[step]!.toFixed(5)}`);
}
for (const t of [xs, ys]) t.dispose();
optimizer.dispose();
net.dispose();

console.log(`RESULT ${JSON.stringify({ kerasAccuracy: accuracy, reloadedSame, torchFirstLoss: losses[0], torchLastLoss: losses.at(-1) })}`);
