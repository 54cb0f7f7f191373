// ONNX export and import — the MNIST CNN written as ONNX with exportOnnx, read back with loadOnnx and fine-tuned
//
// `exportOnnx(model, sample, path)` from @axon/onnx runs the model's forward once on a sample
// input, records the ops its output depends on and writes them as an ONNX graph (opset 17), with
// the parameters as initializers under their state-dict names. ONNX runtimes (onnxruntime,
// TensorRT, OpenVINO, …) and PyTorch tooling read the file. Shapes are the sample's (static, as
// `torch.onnx.export` without `dynamic_axes`): export with the batch size you will serve.
//
// This example trains the MNIST CNN (`mnistCnn()`) briefly, exports it, loads the file back with
// `loadOnnx` (an `OnnxModel`: a Keras-style Model that interprets the graph with Axon's ops) and
// compares the two models' predictions on the test images. Then it fine-tunes the imported model
// with an optimizer — its initializers are trainable parameters — as you would a model exported
// from PyTorch. onnxruntime's agreement with Axon is checked by @axon/onnx's own tests.
//
// Run it from the repository (after `pnpm exec turbo run build --filter=@axon/examples...`):
//   node examples/run.mjs onnx-export
// AXON_EXAMPLE_QUICK=1 trains on 1,000 images instead of 6,000 (what CI runs).
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ready, setSeed, tensor, tidy } from '@axon/core';
import '@axon/backend-wasm';
import { loadMnist } from '@axon/datasets';
import { type Model, NLLLoss, mnistCnn } from '@axon/layers';
import { exportOnnx, loadOnnx } from '@axon/onnx';
import { Adam } from '@axon/optimizers';

const quick = process.env.AXON_EXAMPLE_QUICK === '1';
const BATCH = 100; // the exported graph's batch size (static shapes)
await ready();
setSeed(0);

const n = quick ? 1000 : 6000;
const train = await loadMnist({ train: true, limit: 2 * n });
const test = await loadMnist({ train: false, limit: 1000 });
const slice = (d: typeof train, from: number, to: number) => ({ images: d.images.subarray(from * 784, to * 784), labels: d.labels.subarray(from, to) });
const first = slice(train, 0, n); // trains the Axon model
const second = slice(train, n, 2 * n); // fine-tunes the imported one

// 1. Train the CNN a little in Axon.
const model = mnistCnn().compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
await model.fit(first.images, first.labels, { epochs: 1, batchSize: 32, verbose: 0 });
const axonEval = await model.evaluate(test.images, test.labels, { batchSize: BATCH });
console.log(`Axon CNN: ${model.countParams()} parameters, test accuracy ${(axonEval.accuracy! * 100).toFixed(2)}% after one epoch on ${n} images`);

// 2. Export it: the sample fixes the input's shape, [100, 28, 28].
const dir = mkdtempSync(join(tmpdir(), 'axon-onnx-'));
const file = join(dir, 'mnist-cnn.onnx');
const sample = tensor(test.images.subarray(0, BATCH * 784), [BATCH, 28, 28]);
await exportOnnx(model, sample, file, { inputNames: ['pixels'], outputNames: ['probabilities'] });
const bytes = statSync(file).size;
console.log(`exported ${file}: ${bytes} bytes`);

// 3. Load it back: the same predictions, within float32 rounding.
const imported = await loadOnnx(file);
console.log(`loadOnnx: inputs ${imported.inputNames.join(', ')} ${JSON.stringify(imported.inputShapes)}, outputs ${imported.outputNames.join(', ')}, opset ${imported.opsetVersion}, producer '${imported.producer}'`);
console.log(`parameters: ${Object.entries(imported.stateDict()).map(([k, t]) => `${k} [${t.shape.join(', ')}]`).join(', ')}`);
const [diff, same] = tidy(() => {
  const a = model.predict(sample);
  const b = imported.predict(sample, { batchSize: BATCH }); // the graph's batch size (predict's default is 32)
  return [a.sub(b).abs().max(), a.argmax(-1).eq(b.argmax(-1)).sum()];
});
const maxDiff = await diff.item();
const sameDigits = await same.item();
diff.dispose();
same.dispose();
console.log(`Axon vs the imported ONNX model on ${BATCH} test images: largest probability difference ${maxDiff.toExponential(2)}, same digit for ${sameDigits} of ${BATCH}`);

// 4. Fine-tune the imported model on other images, as a model exported from PyTorch would be: its
// initializers are parameters. The graph's shapes are static ([100, 28, 28] in, Reshape to
// [100, 1, 28, 28] inside), so every batch has 100 images — here in a PyTorch-style loop.
async function accuracyOf(m: Model): Promise<number> {
  const digits = tidy(() => m.predict(test.images, { batchSize: BATCH }).argmax(-1));
  const d = await digits.data();
  digits.dispose();
  return Array.from(d).filter((v, i) => v === test.labels[i]).length / test.count;
}
const before = await accuracyOf(imported);
const optimizer = new Adam(imported.parameters(), { lr: 1e-3 });
const nll = new NLLLoss();
imported.train();
for (let i = 0; i < n; i += BATCH) {
  tidy(() => {
    const x = tensor(second.images.subarray(i * 784, (i + BATCH) * 784), [BATCH, 28, 28]);
    const y = tensor(second.labels.subarray(i, i + BATCH), [BATCH], 'int32');
    const loss = nll.call(imported.call(x).clip(1e-7, 1).log(), y); // the model ends in softmax
    optimizer.zeroGrad();
    loss.backward();
    optimizer.step();
  });
}
imported.eval();
const after = await accuracyOf(imported);
console.log(`imported model fine-tuned on ${n} more images: test accuracy ${(before * 100).toFixed(2)}% → ${(after * 100).toFixed(2)}%`);
optimizer.dispose();

sample.dispose();
model.dispose();
imported.dispose();
rmSync(dir, { recursive: true, force: true });
console.log(`RESULT ${JSON.stringify({ axonAccuracy: axonEval.accuracy, importedAccuracy: before, fineTunedAccuracy: after, maxDiff, sameDigits, batch: BATCH, bytes })}`);
