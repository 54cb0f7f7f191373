/// <reference lib="webworker" />
/**
 * The training worker: owns the Axon backend, the model and the MNIST data. The page talks to it
 * with the messages of ./protocol.ts, so training never blocks the UI thread.
 */
import { getBackend, setBackend, setSeed } from '@axon/core';
import '@axon/backend-wasm';
import { loadIdx, loadMnist, permutation, preprocessDigit, type MnistData } from '@axon/datasets';
import type { Model} from '@axon/layers';
import { type Batch, type Logs, LambdaCallback, deserializeModel, modelToJson, serializeModel } from '@axon/layers';
import { backendsReply, pickBackend, probeBackends, startThreads } from './backends.js';
import { buildModel, describeLayers } from './models.js';
import type { BackendStatus, ExportFormat, Reply, Request, TrainParams, TrainState } from './protocol.js';
import { argmax, blameImport, chunkLimit, errorMessage } from './util.js';

declare const self: DedicatedWorkerGlobalScope;

const post = (m: Reply, transfer: Transferable[] = []): void => self.postMessage(m, transfer);

// ------------------------------------------------------------------ state
let dataUrl = '/data/';
let statuses: BackendStatus[] = [];
let model: Model | null = null;
let modelInfo: { description: string; params: number; source: 'trained' | 'loaded' } | null = null;
/** The 60,000 training images stay as the IDX file's bytes (47 MB; as floats they would take 188 MB). */
let trainData: TrainSet | null = null;
let testData: Promise<MnistData> | null = null;

interface TrainSet {
  readonly pixels: Uint8Array;
  readonly labels: Uint8Array;
  readonly count: number;
}
let state: TrainState = 'idle';
const ctl = { paused: false, stop: false, wake: null as (() => void) | null };

function setState(s: TrainState, message: string): void {
  state = s;
  post({ type: 'status', state: s, message });
}

/** Resolves after the event loop has run once (so pause/stop/predict messages get through). */
const channel = new MessageChannel();
const waiting: (() => void)[] = [];
channel.port1.onmessage = () => waiting.shift()?.();
function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => {
    waiting.push(resolve);
    channel.port2.postMessage(0);
  });
}

// ------------------------------------------------------------------ backends
function postBackends(): void {
  post(backendsReply(statuses, self.crossOriginIsolated));
}

async function switchBackend(name: string): Promise<void> {
  if (state !== 'idle') throw new Error('stop training before switching backends');
  if (getBackend().name === name) return postBackends();
  // Carry the model over: serialise on the old backend, rebuild on the new one.
  const saved = model ? await serializeModel(model) : null;
  await setBackend(name);
  await startThreads();
  if (saved && model) {
    const next = deserializeModel(saved.json, saved.weights);
    model.dispose();
    model = next;
  }
  postBackends();
}

// ------------------------------------------------------------------ data
const file = (name: string): string => new URL(`${name}.gz`, new URL(dataUrl, self.location.href)).href;

/** The 10,000 test images as floats in [0, 1] (loaded once, at start). */
function ensureTest(): Promise<MnistData> {
  testData ??= loadMnist({ images: file('t10k-images-idx3-ubyte'), labels: file('t10k-labels-idx1-ubyte') }).catch((e: unknown) => {
    testData = null;
    throw e;
  });
  return testData;
}

/** The training set, read from the IDX files with `loadIdx` when training first starts. */
async function ensureTrain(): Promise<TrainSet> {
  if (!trainData) {
    setState('loading', 'Loading the MNIST training images (9.6 MB)…');
    const [img, lab] = await Promise.all([loadIdx(file('train-images-idx3-ubyte')), loadIdx(file('train-labels-idx1-ubyte'))]);
    if (img.type !== 'uint8' || img.shape.length !== 3 || img.shape[1] !== 28 || img.shape[2] !== 28) throw new Error(`the training images file holds ${img.type} [${img.shape.join(', ')}], expected uint8 [N, 28, 28]`);
    if (lab.type !== 'uint8' || lab.shape.length !== 1 || lab.shape[0] !== img.shape[0]) throw new Error(`the training labels file holds ${lab.type} [${lab.shape.join(', ')}], expected uint8 [${img.shape[0]}]`);
    trainData = { pixels: img.data as Uint8Array, labels: lab.data as Uint8Array, count: img.shape[0]! };
  }
  return trainData;
}

// ------------------------------------------------------------------ training
async function train(p: TrainParams): Promise<void> {
  if (state !== 'idle') throw new Error('already training');
  ctl.paused = false;
  ctl.stop = false;
  const data = await ensureTrain();
  const test = await ensureTest();
  if (ctl.stop) return setState('idle', 'Stopped.');
  const n = Math.min(p.trainSize, data.count);
  // CPU-emulated WebGPU (SwiftShader) is slow: evaluate on fewer test images there.
  const evalN = Math.min(getBackend().emulated ? Math.min(500, p.evalSize) : p.evalSize, test.count);
  const stepsPerEpoch = Math.ceil(n / p.batchSize);
  const maxChunk = chunkLimit(stepsPerEpoch);

  setSeed(0);
  const next = buildModel(p.model);
  next.compile({ optimizer: { name: 'adam', learningRate: p.learningRate }, loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  model?.dispose();
  model = next;
  modelInfo = { description: `${p.model.toUpperCase()} (training): ${describeLayers(modelToJson(next))}`, params: next.countParams(), source: 'trained' };
  post({ type: 'model', ...modelInfo });
  setState('training', `Training the ${p.model.toUpperCase()} on ${getBackend().name}…`);

  let epoch = 0;
  let epochStep = 0;
  let step = 0;
  let perm = permutation(n, epoch);
  let epochMs = 0; // time spent training this epoch, pauses excluded
  let chunkStart = 0;
  let chunkPaused = 0;
  let chunkSamples = 0;

  const nextBatch = (): Batch => {
    const start = epochStep * p.batchSize;
    const bs = Math.min(p.batchSize, n - start);
    const x = new Float32Array(bs * 784);
    const y = new Int32Array(bs);
    for (let i = 0; i < bs; i++) {
      const j = perm[start + i]!;
      const src = data.pixels.subarray(j * 784, (j + 1) * 784);
      for (let k = 0, o = i * 784; k < 784; k++) x[o + k] = src[k]! / 255;
      y[i] = data.labels[j]!;
    }
    chunkSamples += bs;
    return { x: { data: x, shape: [bs, 28, 28] }, y: { data: y, shape: [bs], dtype: 'int32' } };
  };

  // One `fit` epoch is a chunk of batches (≈ ¼ s); the real epochs are counted here. The
  // iterator is where pause and stop take effect, between two batches.
  async function* chunk(): AsyncGenerator<Batch> {
    chunkStart = performance.now();
    chunkPaused = 0;
    chunkSamples = 0;
    let k = 0;
    while (true) {
      await yieldToLoop();
      if (ctl.paused && !ctl.stop) {
        const p0 = performance.now();
        setState('paused', 'Paused.');
        while (ctl.paused && !ctl.stop) await new Promise<void>((r) => (ctl.wake = r));
        if (!ctl.stop) setState('training', `Training the ${p.model.toUpperCase()} on ${getBackend().name}…`);
        chunkPaused += performance.now() - p0;
      }
      const busyMs = performance.now() - chunkStart - chunkPaused;
      if (ctl.stop || epochStep >= stepsPerEpoch || k >= maxChunk || (k > 0 && busyMs > 250)) break;
      yield nextBatch();
      epochStep++;
      step++;
      k++;
    }
  }

  const onChunkEnd = async (_e: number, logs: Logs): Promise<void> => {
    // `fit` has read the chunk's loss back by now, so this includes the device's work (WebGPU
    // queues work and returns before it is done).
    const chunkMs = performance.now() - chunkStart - chunkPaused;
    epochMs += chunkMs;
    if (logs['loss'] !== undefined && chunkSamples > 0) {
      post({
        type: 'progress',
        step,
        epoch,
        epochs: p.epochs,
        epochStep,
        stepsPerEpoch,
        loss: logs['loss'],
        accuracy: logs['accuracy'] ?? NaN,
        samplesPerSec: chunkSamples / Math.max(chunkMs / 1000, 1e-6),
      });
    }
    if (epochStep >= stepsPerEpoch) {
      const ev = await model!.evaluate({ data: test.images.subarray(0, evalN * 784), shape: [evalN, 28, 28] }, { data: test.labels.subarray(0, evalN), shape: [evalN], dtype: 'int32' }, { batchSize: 256 });
      post({ type: 'epoch', epoch, loss: logs['loss'] ?? NaN, accuracy: logs['accuracy'] ?? NaN, testLoss: ev['loss'] ?? NaN, testAccuracy: ev['accuracy'] ?? NaN, seconds: epochMs / 1000, step });
      epoch++;
      epochStep = 0;
      epochMs = 0;
      perm = permutation(n, epoch);
    }
    if (ctl.stop || epoch >= p.epochs) next.stopTraining = true;
  };

  try {
    await next.fit({ [Symbol.asyncIterator]: chunk }, { epochs: Number.MAX_SAFE_INTEGER, verbose: 0, seed: 0, callbacks: [new LambdaCallback({ onEpochEnd: onChunkEnd })] });
  } finally {
    const stopped = ctl.stop;
    ctl.paused = false;
    ctl.stop = false;
    modelInfo = { description: `${p.model.toUpperCase()}: ${describeLayers(modelToJson(next))}`, params: next.countParams(), source: 'trained' };
    post({ type: 'model', ...modelInfo });
    post({ type: 'done', stopped, steps: step });
    postBackends(); // the features as they are after training (e.g. WASM threads that stopped, and why)
    setState('idle', stopped ? `Stopped after ${step} steps.` : `Trained ${step} steps.`);
  }
}

// ------------------------------------------------------------------ inference
function requireModel(): Model {
  if (!model) throw new Error('no model yet: train one or load a model file');
  return model;
}

async function predictPixels(pixels: Float32Array, count: number): Promise<Float32Array> {
  const y = requireModel().predict({ data: pixels, shape: [count, 28, 28] }, { batchSize: 256 });
  try {
    if (y.shape.length !== 2 || y.shape[1] !== 10) throw new Error(`the model outputs shape [${y.shape.join(', ')}], expected [N, 10]`);
    return (await y.data()) as Float32Array;
  } finally {
    y.dispose();
  }
}

async function grid(offset: number, count: number): Promise<void> {
  const test = await ensureTest();
  const start = Math.max(0, Math.min(offset, test.count - count));
  const px = test.images.subarray(start * 784, (start + count) * 784);
  const probs = await predictPixels(px, count);
  const preds = new Int32Array(count);
  const confidence = new Float32Array(count);
  const labels = test.labels.slice(start, start + count);
  let right = 0;
  for (let i = 0; i < count; i++) {
    const row = probs.subarray(i * 10, i * 10 + 10);
    preds[i] = argmax(row);
    confidence[i] = row[preds[i]!]!;
    if (preds[i] === labels[i]) right++;
  }
  const images = new Uint8Array(px.length);
  for (let i = 0; i < px.length; i++) images[i] = Math.round(px[i]! * 255);
  post({ type: 'grid', offset: start, images, labels, preds, confidence, accuracy: right / count }, [images.buffer, labels.buffer, preds.buffer, confidence.buffer]);
}

async function importModel(json: string, weights: ArrayBuffer, fileNames: string[]): Promise<void> {
  if (state !== 'idle') throw new Error('stop training before loading a model');
  const [jsonName = 'model.json', weightsName = 'model.safetensors'] = fileNames;
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (e) {
    throw new Error(`${jsonName} is not valid JSON: ${errorMessage(e)}`);
  }
  let m: ReturnType<typeof deserializeModel>;
  try {
    m = deserializeModel(json, new Uint8Array(weights));
  } catch (e) {
    throw new Error(blameImport(e, jsonName, weightsName));
  }
  try {
    const y = m.predict({ data: new Float32Array(784), shape: [1, 28, 28] });
    const shape = [...y.shape];
    y.dispose();
    if (shape.length !== 2 || shape[1] !== 10) throw new Error(`the model outputs shape [${shape.join(', ')}], expected [1, 10] for MNIST`);
  } catch (e) {
    m.dispose();
    throw new Error(`the model in ${jsonName} does not take 28×28 MNIST images: ${errorMessage(e)}`);
  }
  model?.dispose();
  model = m;
  modelInfo = { description: `${fileNames.join(' + ')}: ${describeLayers(parsed as { config?: unknown })}`, params: m.countParams(), source: 'loaded' };
  post({ type: 'model', ...modelInfo });
}

// ------------------------------------------------------------------ files
/**
 * The export in progress (an export awaits the backend): training, loading a model and switching
 * backends wait for it, so the model it reads is not changed or disposed under it.
 */
let exports: Promise<void> = Promise.resolve();

/**
 * model.json + model.safetensors (no format), or `model.onnx` / `model.pt.safetensors`
 * (./exports.ts, a chunk loaded on first use; the ONNX export loads @axon/onnx, another).
 */
async function exportFiles(m: Model, format: ExportFormat | undefined): Promise<void> {
  if (format !== undefined) {
    const { EXPORT_FILE, exportModel } = await import('./exports.js');
    const bytes = await exportModel(m, format);
    post({ type: 'exportedFile', format, name: EXPORT_FILE[format], bytes }, [bytes.buffer as ArrayBuffer]);
    return;
  }
  const { json, weights } = await serializeModel(m);
  post({ type: 'exported', json: JSON.stringify(json, null, 2), weights }, [weights.buffer as ArrayBuffer]);
}

// ------------------------------------------------------------------ dispatch
async function handle(m: Request): Promise<void> {
  switch (m.type) {
    case 'init': {
      dataUrl = m.dataUrl;
      statuses = await probeBackends();
      await setBackend(pickBackend(statuses, m.backend));
      await startThreads();
      postBackends();
      setState('idle', 'Ready.');
      await ensureTest();
      return;
    }
    case 'setBackend':
      await exports;
      return switchBackend(m.name);
    case 'train':
      await exports;
      return train(m.params);
    case 'pause':
      if (state === 'training') ctl.paused = true;
      return;
    case 'resume':
      ctl.paused = false;
      ctl.wake?.();
      return;
    case 'stop':
      if (state === 'idle') return;
      ctl.stop = true;
      ctl.paused = false;
      ctl.wake?.();
      setState('stopping', 'Stopping…');
      return;
    case 'predict': {
      const input = preprocessDigit(m.gray, m.width, m.height, { darkOnLight: true });
      const probs = await predictPixels(input, 1);
      post({ type: 'prediction', id: m.id, probs, input });
      return;
    }
    case 'predictPixels': {
      const probs = await predictPixels(m.pixels, 1);
      post({ type: 'prediction', id: m.id, probs, input: m.pixels });
      return;
    }
    case 'grid':
      return grid(m.offset, m.count);
    case 'testDigit': {
      const test = await ensureTest();
      const i = ((m.index % test.count) + test.count) % test.count;
      post({ type: 'testDigit', index: i, pixels: test.images.slice(i * 784, (i + 1) * 784), label: test.labels[i]! });
      return;
    }
    case 'export': {
      if (state !== 'idle') throw new Error('stop training before exporting the model');
      const done = exportFiles(requireModel(), m.format);
      exports = done.catch(() => undefined);
      return done;
    }
    case 'import':
      await exports;
      return importModel(m.json, m.weights, m.fileNames);
  }
}

// The page records policy violations (the site's CSP applies to the worker through its own response's header).
self.addEventListener('securitypolicyviolation', (ev) => {
  const e = ev as SecurityPolicyViolationEvent;
  post({ type: 'cspViolation', directive: e.effectiveDirective, blocked: e.blockedURI, source: e.sourceFile ? `${e.sourceFile}:${e.lineNumber}` : '' });
});

/** The `op` of an error reply: the request's type (an export names its format: `export:onnx`). */
const errorOp = (m: Request): string => (m.type === 'export' && m.format !== undefined ? `export:${m.format}` : m.type);

self.onmessage = (ev: MessageEvent<Request>) => {
  const m = ev.data;
  handle(m).catch((e: unknown) => {
    if (m.type === 'train' || m.type === 'init') setState('idle', m.type === 'init' ? 'Could not start.' : 'Training failed.');
    post({ type: 'error', op: errorOp(m), message: errorMessage(e) });
  });
};
