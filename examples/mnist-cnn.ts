// MNIST CNN — a small convolutional network on the digits
//
// The convolutional model `axon train --model cnn` and the demo site train, written out layer by
// layer (`mnistCnn()` from @axon/layers builds the same one): the 28×28 images reshaped to NCHW
// [N, 1, 28, 28] → Conv2d(32, 3×3) → ReLU → MaxPool 2 → Conv2d(64, 3×3) → ReLU → MaxPool 2 →
// Flatten → Dropout(0.25) → Dense(10, softmax). Trained with Adam for 2 epochs on the 60,000
// training images (10% held out for validation), then evaluated on the 10,000 test images: 98.5%
// test accuracy with seed 0, in about two minutes per epoch on two CPU cores with the WASM backend.
//
// Run it from the repository (after `pnpm exec turbo run build --filter=@axon/examples...`):
//   node examples/run.mjs mnist-cnn
// AXON_EXAMPLE_QUICK=1 trains one epoch on 4,000 images and tests on 500 (what CI runs).
import { ready, setSeed } from '@axon/core';
import '@axon/backend-wasm';
import { loadMnist } from '@axon/datasets';
import { Conv2d, Dense, Dropout, Flatten, MaxPool2d, ReLU, Reshape, sequential } from '@axon/layers';

const quick = process.env.AXON_EXAMPLE_QUICK === '1';
await ready();
setSeed(0);

const train = await loadMnist({ train: true, ...(quick ? { limit: 4000 } : {}) });
const test = await loadMnist({ train: false, ...(quick ? { limit: 500 } : {}) });
console.log(`MNIST: ${train.count} training and ${test.count} test images`);

const model = sequential([
  new Reshape({ targetShape: [1, 28, 28], inputShape: [28, 28] }), // channels first (NCHW)
  new Conv2d(1, 32, 3), // 3×3 kernels, stride 1, no padding: 28×28 → 26×26
  new ReLU(),
  new MaxPool2d(2), // → 13×13
  new Conv2d(32, 64, 3), // → 11×11
  new ReLU(),
  new MaxPool2d(2), // → 5×5
  new Flatten(), // 64·5·5 = 1600 features
  new Dropout(0.25),
  new Dense(10, { activation: 'softmax' }),
]);
model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
console.log(model.summary());

const history = await model.fit(train.images, train.labels, {
  epochs: quick ? 1 : 2,
  batchSize: 64,
  validationSplit: 0.1,
});

const { loss, accuracy } = await model.evaluate(test.images, test.labels, { batchSize: 256 });
console.log(`test loss ${loss!.toFixed(4)}, test accuracy ${(accuracy! * 100).toFixed(2)}%`);
model.dispose();

console.log(`RESULT ${JSON.stringify({ trainImages: train.count, epochs: history.epoch.length, valAccuracy: history.history['val_accuracy'], testAccuracy: accuracy })}`);
