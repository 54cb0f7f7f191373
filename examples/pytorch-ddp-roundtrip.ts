// PyTorch DDP round trip — Axon's MNIST MLP trained by PyTorch DistributedDataParallel, then evaluated in Axon
//
// Axon trains on one machine. When a model needs more (many GPUs, many machines), the weights can
// leave Axon for PyTorch and come back for the browser. This example is that path at small scale:
// Axon builds the MNIST MLP (`mnistMlp()`, Keras front), writes its initial weights in PyTorch's
// names and layouts (`1.weight` [128, 784], … for the twin `nn.Sequential(nn.Flatten(),
// nn.Linear(784, 128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, 10))`) and a slice of MNIST
// (images float32, labels int32) as safetensors files. `examples/python/ddp_train.py` (PyTorch,
// run by hand) loads the weights with `load_state_dict(strict=True)`, trains them with
// `DistributedDataParallel` on 2 CPU processes (gloo) and writes `mlp-trained.safetensors` in BF16.
// This example then loads that file back into a fresh `mnistMlp()` and evaluates it on the test
// slice: its accuracy must be the one PyTorch recorded in the file's `__metadata__`.
//
// The whole loop (guides/scale-out.md has the transcript):
//   node examples/run.mjs pytorch-ddp-roundtrip          # writes examples/data/ddp/{mlp-init,train,test}.safetensors
//   /usr/bin/python3 examples/python/ddp_train.py        # PyTorch: DDP training, writes mlp-trained.safetensors
//   node examples/run.mjs pytorch-ddp-roundtrip          # Axon: loads and evaluates the trained weights
// AXON_EXAMPLE_QUICK=1 (what CI runs, without PyTorch) writes the files into a temporary folder
// and evaluates the committed examples/data/ddp/mlp-trained.safetensors.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Tensor, ready, setSeed, tidy } from '@axon/core';
import '@axon/backend-wasm';
import { loadMnist } from '@axon/datasets';
import { loadTorchStateDict, mnistMlp, openSafetensors, serializeSafetensors, toHostTensors, toTorchStateDict } from '@axon/layers';

const quick = process.env.AXON_EXAMPLE_QUICK === '1';
await ready();

const dataDir = fileURLToPath(new URL('./data/ddp/', import.meta.url));
// Quick mode (CI) leaves the committed folder alone: its files go to a temporary folder.
const outDir = quick ? mkdtempSync(join(tmpdir(), 'axon-ddp-')) : dataDir;
mkdirSync(outDir, { recursive: true });
const trainedFile = fileURLToPath(new URL('./data/ddp/mlp-trained.safetensors', import.meta.url));

// --- Keras layers ↔ PyTorch tensors -------------------------------------------------------------
// mnistMlp() is Flatten, Dense(128, relu), Dropout, Dense(10, softmax): its weights are `1.kernel`
// [784, 128], `1.bias`, `3.kernel` [128, 10], `3.bias`. PyTorch's twin numbers its modules
// Flatten 0, Linear 1, ReLU 2, Dropout 3, Linear 4 (the activation is a module of its own there)
// and stores a Linear's weight as [out, in]. toTorchStateDict / loadTorchStateDict map the Keras
// layers, in order, to those names and layouts (Dense kernels transposed), and back.

// --- 1. The initial weights, in PyTorch's layout ---------------------------------------------------
setSeed(0);
const model = mnistMlp();
const torchState = toTorchStateDict(model); // 1.weight [128, 784], 1.bias, 4.weight [10, 128], 4.bias
const initFile = join(outDir, 'mlp-init.safetensors');
const initBytes = serializeSafetensors(await toHostTensors(torchState), { format: 'pt', producer: 'axon mnistMlp() (setSeed(0))' });
await writeFile(initFile, initBytes);
console.log(`initial weights → ${initFile} (${initBytes.length} bytes): ${Object.entries(torchState).map(([k, t]) => `${k} [${t.shape.join(', ')}]`).join(', ')}`);
for (const t of Object.values(torchState)) t.dispose();

// The mapping is exact both ways: the file read back into a fresh mnistMlp() predicts the same.
const test = await loadMnist({ train: false, limit: 2000 });
let initRoundTrip = false;
{
  await using f = await openSafetensors(initFile);
  const state: Record<string, Tensor> = {};
  for (const k of f.keys()) state[k] = await f.readTensor(k);
  setSeed(1); // other initial weights, replaced by the file's
  const copy = mnistMlp();
  loadTorchStateDict(copy, state); // strict: PyTorch's missing/unexpected/size-mismatch checks
  for (const t of Object.values(state)) t.dispose();
  initRoundTrip = tidy(() => {
    const x = test.images.subarray(0, 100 * 784);
    return model.predict(x).sub(copy.predict(x)).abs().max().item() === 0;
  });
  copy.dispose();
}
console.log(`initial weights read back through the mapping predict identically: ${initRoundTrip}`);
model.dispose();

// --- 2. A slice of MNIST for PyTorch ---------------------------------------------------------------
const train = await loadMnist({ train: true, limit: quick ? 1000 : 12000 });
for (const [name, d] of [['train', train], ['test', test]] as const) {
  const file = join(outDir, `${name}.safetensors`);
  const bytes = serializeSafetensors(
    {
      images: { dtype: 'float32', shape: [d.count, 28, 28], data: d.images },
      labels: { dtype: 'int32', shape: [d.count], data: d.labels },
    },
    { source: `MNIST ${name} images 0–${d.count - 1}, pixels scaled to [0, 1]` },
  );
  await writeFile(file, bytes);
  console.log(`${name} slice → ${file} (${d.count} images, ${(bytes.length / 2 ** 20).toFixed(1)} MiB)`);
}
if (quick) rmSync(outDir, { recursive: true, force: true });

// --- 3. The weights PyTorch trained, back in Axon --------------------------------------------------
let result: Record<string, unknown> = { initRoundTrip, trainImagesWritten: train.count, testImages: test.count, trained: false };
if (existsSync(trainedFile)) {
  await using f = await openSafetensors(trainedFile);
  console.log(`\n${trainedFile}: ${f.size} bytes, ${f.keys().map((k) => `${k} ${f.info(k).sourceDtype} [${f.info(k).shape.join(', ')}]`).join(', ')}`);
  console.log(`metadata: ${JSON.stringify(f.metadata)}`);
  const state: Record<string, Tensor> = {};
  for (const k of f.keys()) state[k] = await f.readTensor(k); // BF16 → float32, exactly
  const trained = mnistMlp();
  loadTorchStateDict(trained, state);
  for (const t of Object.values(state)) t.dispose();
  const predicted = tidy(() => trained.predict(test.images).argmax(-1));
  const digits = await predicted.data();
  predicted.dispose();
  trained.dispose();
  const accuracy = Array.from(digits).filter((d, i) => d === test.labels[i]).length / test.count;
  const torchAccuracy = Number(f.metadata['test_accuracy']);
  console.log(`Axon: test accuracy ${(accuracy * 100).toFixed(2)}% on ${test.count} images; PyTorch measured ${(torchAccuracy * 100).toFixed(2)}% with the same BF16 weights (chance: 10%)`);
  result = { ...result, trained: true, sourceDtype: f.info('1.weight').sourceDtype, accuracy, torchAccuracy, torchTestImages: Number(f.metadata['test_images']), producer: f.metadata['producer'] };
} else {
  console.log(`\nNo ${trainedFile} yet: run /usr/bin/python3 examples/python/ddp_train.py, then this example again.`);
}
console.log(`RESULT ${JSON.stringify(result)}`);
