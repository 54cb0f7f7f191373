// S3 — a functional Keras model for regression
//
// Seed scenario S3: Input([10]) → Dense(5, relu) → Dense(1), built in the functional style
// (symbolic inputs passed through layers, then `model({ inputs, outputs })`), compiled with Adam
// and mean squared error, fit for 10 epochs with batch 32 (10% of the training rows held out for
// validation), then `predict` on held-out rows. The seed gives no data, so the target is a
// synthetic function a 10-5-1 network can fit: y = x·w + 0.5·relu(x₀) + noise. The held-out
// MSE ends far below the target's variance (what predicting the mean would score).
//
// Run it from the repository (after `pnpm exec turbo run build --filter=@axon/examples...`):
//   node examples/run.mjs s3-functional-regression
// It takes a few seconds, so AXON_EXAMPLE_QUICK=1 changes nothing here.
import { randn, ready, setSeed, tidy } from '@axon/core';
import '@axon/backend-wasm';
import { Dense, input, model } from '@axon/layers';

await ready();
setSeed(2);

// Synthetic data, made on the backend: x ~ N(0, 1) of [n, 10], y of [n, 1].
const n = 10000;
const [x, y] = tidy(() => {
  const xs = randn([n, 10], { seed: 20 });
  const w = randn([10, 1], { seed: 21 }).mul(0.5);
  const clean = xs.matmul(w).add(xs.slice([0, 0], [n, 1]).relu().mul(0.5));
  return [xs, clean.add(randn([n, 1], { seed: 22 }).mul(0.05))];
});
const nTrain = Math.floor(n * 0.8);
const xTrain = x.slice([0, 0], [nTrain, 10]); // slices are views: no copy
const yTrain = y.slice([0, 0], [nTrain, 1]);
const xTest = x.slice([nTrain, 0], [n - nTrain, 10]);
const yTest = y.slice([nTrain, 0], [n - nTrain, 1]);

// The functional model: layers called on symbolic tensors record a graph.
const inputs = input({ shape: [10] });
const hidden = new Dense(5, { activation: 'relu' }).call(inputs);
const outputs = new Dense(1).call(hidden);
const net = model({ inputs, outputs });
net.compile({ optimizer: 'adam', loss: 'meanSquaredError' });
console.log(net.summary());

const history = await net.fit(xTrain, yTrain, { epochs: 10, batchSize: 32, validationSplit: 0.1 });

const predictions = net.predict(xTest); // [rows, 1]
const [mse, variance] = tidy(() => [predictions.sub(yTest).square().mean(), yTest.variance()]);
const heldOutMse = await mse.itemAsync();
const targetVariance = await variance.itemAsync();
const rows = predictions.shape[0]!;
const firstThree = predictions.slice([0, 0], [3, 1]);
const first = await firstThree.data();
console.log(`predict returned ${rows} values for ${n - nTrain} held-out rows; the first three: ${Array.from(first, (v) => v.toFixed(3)).join(', ')}`);
console.log(`held-out MSE ${heldOutMse.toFixed(4)}; variance of the target ${targetVariance.toFixed(4)} (${((heldOutMse / targetVariance) * 100).toFixed(1)}% of it)`);

for (const t of [x, y, xTrain, yTrain, xTest, yTest, predictions, firstThree, mse, variance]) t.dispose();
net.dispose();

console.log(`RESULT ${JSON.stringify({ heldOutMse, targetVariance, rows: n - nTrain, predictions: rows, valLoss: history.history['val_loss'] })}`);
