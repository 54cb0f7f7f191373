// CSV regression — house prices from a CSV file, start to finish
//
// The training process of seed 002 on a small table: read examples/data/houses.csv (1,000
// synthetic houses: area, rooms, age, distance to the centre, garden → price in thousands; made by
// examples/data/make-houses-csv.mjs) with @axon/datasets' `fromCsv`; clean it (drop the rows with
// a missing value); split it into training and test rows; standardize the features and the target
// with statistics of the training rows only; train a small Keras MLP with a validation split and
// early stopping against overfitting; and test on the unseen rows, in the price's own units.
// On the test rows the model is off by about 12k on average (the noise in the data is 12k;
// always predicting the mean price is off by 160k), R² ≈ 0.99.
//
// Run it from the repository (after `pnpm exec turbo run build --filter=@axon/examples...`):
//   node examples/run.mjs csv-regression
// It takes a few seconds, so AXON_EXAMPLE_QUICK=1 changes nothing here.
import { fileURLToPath } from 'node:url';
import { ready, setSeed } from '@axon/core';
import '@axon/backend-wasm';
import { fromCsv, standardize, trainTestSplit } from '@axon/datasets';
import { Dense, EarlyStopping, sequential } from '@axon/layers';

await ready();
setSeed(0);

// 1. Read: `x` holds every column but the label, as float32 [N, 5]; `missing: NaN` turns empty
//    fields into NaN instead of failing on them.
const file = fileURLToPath(new URL('./data/houses.csv', import.meta.url));
const table = await fromCsv(file, { label: 'price_k', missing: NaN });
const features = table.meta.featureNames!;
const all = table.toArrays();
const f = features.length;
console.log(`read ${all.x.shape[0]} rows of ${features.join(', ')} → price_k from ${file}`);

// 2. Clean: keep the rows without a missing value.
const keepRows: number[] = [];
for (let i = 0; i < all.x.shape[0]!; i++) {
  const row = all.x.data.subarray(i * f, (i + 1) * f);
  if (!row.some(Number.isNaN) && !Number.isNaN(all.y.data[i]!)) keepRows.push(i);
}
const x = new Float32Array(keepRows.length * f);
const y = new Float32Array(keepRows.length);
keepRows.forEach((r, i) => {
  x.set(all.x.data.subarray(r * f, (r + 1) * f), i * f);
  y[i] = all.y.data[r]!;
});
console.log(`dropped ${all.x.shape[0]! - keepRows.length} rows with a missing value; ${keepRows.length} left`);

// 3. Split (shuffled with a seed): 80% to train on, 20% kept unseen until the end.
const { train, test } = trainTestSplit({ x: { data: x, shape: [keepRows.length, f] }, y }, { testSize: 0.2, seed: 0 });

// 4. Standardize with the training rows' statistics, then apply the same to the test rows.
const { data: xTrain, scaler: xScaler } = standardize(train.x);
const xTest = xScaler.transform(test.x);
const { data: yTrain, scaler: yScaler } = standardize(train.y, { features: 1 });
console.log(`feature means ${Array.from(xScaler.mean, (v) => v.toFixed(1)).join(', ')}; price mean ${yScaler.mean[0]!.toFixed(1)}, std ${yScaler.std[0]!.toFixed(1)}`);

// 5. Train: the last 15% of the training rows validate each epoch; early stopping keeps the best
//    weights once the validation loss stops improving.
const model = sequential([
  new Dense(32, { activation: 'relu', inputShape: [f] }),
  new Dense(16, { activation: 'relu' }),
  new Dense(1),
]);
model.compile({ optimizer: { name: 'adam', learningRate: 0.005 }, loss: 'meanSquaredError', metrics: ['mae'] });
const nTrain = train.y.shape[0]!;
const history = await model.fit(
  { data: xTrain, shape: [nTrain, f] },
  { data: yTrain, shape: [nTrain, 1] },
  {
    epochs: 200,
    batchSize: 32,
    validationSplit: 0.15,
    verbose: 0,
    callbacks: [
      new EarlyStopping({ monitor: 'val_loss', patience: 15, restoreBestWeights: true }),
      { onEpochEnd: (epoch, logs) => { if (epoch % 10 === 0) console.log(`epoch ${String(epoch + 1).padStart(3)}  loss ${logs['loss']!.toFixed(4)}  val_loss ${logs['val_loss']!.toFixed(4)}`); } },
    ],
  },
);
console.log(history.epoch.length < 200 ? `early stopping ended training after ${history.epoch.length} epochs and restored the weights of the best validation loss` : 'trained all 200 epochs');

// 6. Test on the unseen rows, back in thousands.
const nTest = test.y.shape[0]!;
const predicted = model.predict({ data: xTest, shape: [nTest, f] });
const price = yScaler.inverseTransform(await predicted.data());
predicted.dispose();
model.dispose();
const truth = test.y.data;
let sumAbs = 0;
let sumSq = 0;
let sumSqMean = 0;
const trainMean = yScaler.mean[0]!;
let sumAbsMean = 0;
for (let i = 0; i < nTest; i++) {
  sumAbs += Math.abs(price[i]! - truth[i]!);
  sumSq += (price[i]! - truth[i]!) ** 2;
  sumSqMean += (trainMean - truth[i]!) ** 2;
  sumAbsMean += Math.abs(trainMean - truth[i]!);
}
const mae = sumAbs / nTest;
const baselineMae = sumAbsMean / nTest;
const r2 = 1 - sumSq / sumSqMean;
console.log(`test rows: ${nTest}; mean absolute error ${mae.toFixed(1)}k (always predicting the mean: ${baselineMae.toFixed(1)}k); R² ${r2.toFixed(3)}`);
for (let i = 0; i < 3; i++) console.log(`  house ${i + 1}: predicted ${price[i]!.toFixed(1)}k, actual ${truth[i]!.toFixed(1)}k`);

console.log(`RESULT ${JSON.stringify({ rows: all.x.shape[0], kept: keepRows.length, testRows: nTest, epochs: history.epoch.length, mae, baselineMae, r2 })}`);
