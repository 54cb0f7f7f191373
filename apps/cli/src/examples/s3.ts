/**
 * Seed scenario S3 (seed 002): a functional Keras model, Input([10]) → Dense(5, relu) → Dense(1),
 * compiled with Adam and MSE, fit for 10 epochs with batch 32, then predict on held-out data.
 * The seed gives no data: the target is a smooth synthetic function a 10-5-1 network can fit.
 */
import { randn, setSeed, tidy } from '@axon/core';
import '@axon/autograd';
import { Dense, input, model } from '@axon/layers';

/** Runs S3 and returns the held-out MSE and the target's variance. */
export async function runS3(log: (s: string) => void = console.log, n = 10000): Promise<{ heldOutMse: number; targetVariance: number; predictions: number }> {
  setSeed(2);
  // y = x·w + 0.5·relu(x₀) + small noise
  const [x, y] = tidy(() => {
    const xs = randn([n, 10], { seed: 20 });
    const w = randn([10, 1], { seed: 21 }).mul(0.5);
    const y0 = xs.matmul(w).add(xs.slice([0, 0], [n, 1]).relu().mul(0.5));
    return [xs, y0.add(randn([n, 1], { seed: 22 }).mul(0.05))];
  });
  const nTrain = Math.floor(n * 0.8);
  const [xTrain, xTest] = [x.slice([0, 0], [nTrain, 10]), x.slice([nTrain, 0], [n - nTrain, 10])];
  const [yTrain, yTest] = [y.slice([0, 0], [nTrain, 1]), y.slice([nTrain, 0], [n - nTrain, 1])];

  const inp = input({ shape: [10] });
  const h = new Dense(5, { activation: 'relu' }).call(inp);
  const out = new Dense(1).call(h);
  const m = model({ inputs: inp, outputs: out });
  m.compile({ optimizer: 'adam', loss: 'meanSquaredError' });
  await m.fit(xTrain, yTrain, { epochs: 10, batchSize: 32, verbose: 1, log, seed: 3, validationSplit: 0.1 });
  const pred = m.predict(xTest);
  const [mseT, varT] = tidy(() => [pred.sub(yTest).square().mean(), yTest.variance()]);
  const [heldOutMse, targetVariance] = [await mseT.itemAsync(), await varT.itemAsync()];
  mseT.dispose();
  varT.dispose();
  log(`held-out MSE ${heldOutMse.toFixed(4)} vs target variance ${targetVariance.toFixed(4)}; predict returned ${pred.shape[0]} values for ${n - nTrain} rows`);
  const predictions = pred.shape[0]!;
  for (const t of [x, y, xTrain, xTest, yTrain, yTest, pred]) t.dispose();
  m.dispose();
  return { heldOutMse: heldOutMse!, targetVariance: targetVariance!, predictions };
}
