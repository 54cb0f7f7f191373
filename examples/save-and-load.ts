// Saving and loading — models, weights, and training that resumes after an interruption
//
// Three ways to keep work: `save(model, dir)` writes a Keras model's architecture (model.json)
// and weights (a safetensors file named by its hash), and `loadModel(dir)` rebuilds it with the
// same predictions, bit for bit; `saveWeights`/`loadWeights` store any Module's parameters
// (PyTorch's state_dict files); and `fit`'s `checkpoint` option writes everything needed to
// continue training exactly (weights, optimizer state, epoch and batch, random state, data
// order). Here a run is stopped in the middle of its third epoch, as Ctrl-C would stop it, and a
// fresh process-like restart resumes from the checkpoint: its final weights equal those of a run
// that was never interrupted. Everything is written to a temporary folder and removed at the end.
//
// Run it from the repository (after `pnpm exec turbo run build --filter=@axon/examples...`):
//   node examples/run.mjs save-and-load
// It takes a few seconds, so AXON_EXAMPLE_QUICK=1 changes nothing here.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randint, randn, ready, setSeed, tidy, type Tensor } from '@axon/core';
import '@axon/backend-wasm';
import { Dense, Dropout, Linear, Module, Sequential, latestCheckpoint, loadModel, loadWeights, save, saveWeights, sequential, type FitOptions } from '@axon/layers';

await ready();
const root = await mkdtemp(join(tmpdir(), 'axon-save-and-load-'));

/** Whether two tensors hold exactly the same values. */
async function identical(a: Tensor, b: Tensor): Promise<boolean> {
  const [x, y] = await Promise.all([a.data(), b.data()]);
  return x.length === y.length && x.every((v, i) => Object.is(v, y[i]));
}

// Data: 3 classes of points in 6 dimensions.
setSeed(0);
const [x, y] = tidy(() => {
  const labels = randint(0, 3, [600]);
  const centres = randn([3, 6], { seed: 7 }).mul(2);
  return [centres.gather(labels).add(randn([600, 6])), labels];
});

function build(): Sequential {
  const m = sequential([
    new Dense(32, { activation: 'relu', inputShape: [6] }),
    new Dropout(0.2),
    new Dense(3, { activation: 'softmax' }),
  ]);
  m.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  return m;
}

// ---------------------------------------------------------------- 1. save / loadModel
const model = build();
await model.fit(x, y, { epochs: 2, verbose: 0 });
const modelDir = join(root, 'model');
await save(model, modelDir);
console.log(`saved to ${modelDir}: ${(await readdir(modelDir)).join(', ')}`);
const loaded = await loadModel(modelDir); // a Module; a saved sequential model is a Sequential
if (!(loaded instanceof Sequential)) throw new Error('expected a Sequential');
const [p1, p2] = [model.predict(x), loaded.predict(x)];
const sameModel = await identical(p1, p2);
console.log(`loadModel: ${loaded.layers.map((l) => l.className).join(' → ')}; same predictions bit for bit: ${sameModel}`);
// To train the loaded model further, compile it (its optimizer state is not in model.json;
// fit checkpoints below keep it).
for (const t of [p1, p2]) t.dispose();
model.dispose();
loaded.dispose();

// ---------------------------------------------------------------- 2. saveWeights / loadWeights
class Net extends Module {
  readonly fc1 = new Linear(6, 16);
  readonly fc2 = new Linear(16, 3);
  forward(t: Tensor): Tensor {
    return this.fc2.call(this.fc1.call(t).relu());
  }
}
const net = new Net();
const weightsFile = join(root, 'net.safetensors');
await saveWeights(net, weightsFile);
const other = new Net(); // different random initial weights…
await loadWeights(other, weightsFile); // …replaced by the saved ones (names, shapes, dtypes checked)
const [q1, q2] = tidy(() => [net.call(x), other.call(x)]);
const sameNet = await identical(q1, q2);
console.log(`saveWeights/loadWeights: parameters ${Object.keys(net.stateDict()).join(', ')}; same outputs: ${sameNet}`);
for (const t of [q1, q2]) t.dispose();
net.dispose();
other.dispose();

// ---------------------------------------------------------------- 3. checkpoints and resuming
const options: FitOptions = { epochs: 4, batchSize: 32, verbose: 0, seed: 1 };

// The reference: four epochs without interruption.
setSeed(10);
const reference = build();
await reference.fit(x, y, options);

// The same run, checkpointed every epoch, stopped at batch 8 of epoch 3. Setting
// model.stopTraining is what a Ctrl-C handler would do:
//   process.once('SIGINT', () => { model.stopTraining = true; });
// fit then finishes the current step, writes a checkpoint of that exact position, and returns.
const ckptDir = join(root, 'checkpoints');
setSeed(10);
const first = build();
let epochNow = 0;
const interrupted = await first.fit(x, y, {
  ...options,
  checkpoint: { dir: ckptDir, every: 'epoch' },
  callbacks: [
    {
      onEpochBegin: (epoch) => { epochNow = epoch; },
      onBatchEnd: (batch) => { if (epochNow === 2 && batch === 7) first.stopTraining = true; },
    },
  ],
});
first.dispose();
const stop = interrupted.stopped!;
console.log(`interrupted run: stopped in epoch ${stop.epoch + 1} after batch ${stop.batch! + 1} (${stop.reason}); checkpoints written: ${interrupted.checkpoints.map((c) => c.reason).join(', ')}`);
const latest = (await latestCheckpoint(ckptDir))!;
console.log(`latest checkpoint: epoch ${latest.epoch + 1}, ${latest.step} batches done, ${latest.globalStep} steps in all`);

// Later, in a new process: build the model again and fit with resume: true. Whatever the random
// state and initial weights now, the checkpoint's are restored.
setSeed(999);
const resumed = build();
const rest = await resumed.fit(x, y, { ...options, checkpoint: { dir: ckptDir, resume: true } });
console.log(`resumed run: continued from epoch ${rest.resumedFrom!.epoch + 1}, batch ${rest.resumedFrom!.step + 1}; its history has all ${rest.epoch.length} epochs (the first two restored from the checkpoint)`);

const refState = reference.stateDict();
const resState = resumed.stateDict();
let sameWeights = true;
for (const [name, t] of Object.entries(refState)) sameWeights &&= await identical(t, resState[name]!);
console.log(`final weights of the resumed run equal the uninterrupted run's, bit for bit: ${sameWeights}`);
reference.dispose();
resumed.dispose();
x.dispose();
y.dispose();
await rm(root, { recursive: true, force: true });

console.log(`RESULT ${JSON.stringify({ sameModel, sameNet, stoppedAt: { epoch: stop.epoch, batch: stop.batch }, resumedFrom: { epoch: rest.resumedFrom!.epoch, step: rest.resumedFrom!.step }, sameWeights })}`);
