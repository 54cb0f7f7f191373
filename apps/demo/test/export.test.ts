/**
 * The training worker's `export` with a format (ONNX, PyTorch weights), through its real message
 * protocol: src/worker.ts runs here in Node with a stand-in for the worker's `self` (it posts to
 * a list), a model is sent to it with `import` (as the page's *Load a model* does) and each
 * export's reply is checked — the ONNX bytes parse back with `parseOnnx` and predict what the
 * model predicts at other batch sizes, the safetensors file has PyTorch's names, layouts and F32.
 */
import { memory, setBackend, setSeed, tensor } from '@axon/core';
import '@axon/backend-wasm';
import { type Model, loadTorchStateDict, parseSafetensors, serializeModel } from '@axon/layers';
import { parseOnnx } from '@axon/onnx';
import { beforeAll, describe, expect, it } from 'vitest';
import { EXPORT_FILE } from '../src/exports.js';
import { buildModel } from '../src/models.js';
import type { ModelKind, Reply, Request } from '../src/protocol.js';

const replies: Reply[] = [];
let waiters: (() => void)[] = [];
const fakeSelf = {
  location: { href: 'http://localhost/assets/worker.js' },
  crossOriginIsolated: false,
  onmessage: null as null | ((ev: { data: Request }) => void),
  postMessage(m: Reply): void {
    replies.push(m);
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  },
  addEventListener(): void {},
};

/** The replies that end a request of the tests (the worker's other replies, e.g. status, come along). */
const FINAL: readonly Reply['type'][] = ['error', 'model', 'exported', 'exportedFile'];

/** Sends a request to the worker and resolves with its final reply (typed as one of `types`, or an error: the tests check). */
async function ask<T extends Reply['type']>(req: Request, ..._types: T[]): Promise<Extract<Reply, { type: T | 'error' }>> {
  const from = replies.length;
  fakeSelf.onmessage!({ data: req });
  for (;;) {
    const hit = replies.slice(from).find((r) => FINAL.includes(r.type));
    if (hit) return hit as Extract<Reply, { type: T | 'error' }>;
    await new Promise<void>((r) => waiters.push(r));
  }
}

/** A model of `kind` (seeded weights, a few steps of training so it is not the initial one) loaded into the worker. */
async function loadInto(kind: ModelKind): Promise<Model> {
  setSeed(kind === 'cnn' ? 2 : 1);
  const m = buildModel(kind);
  m.compile({ optimizer: { name: 'adam', learningRate: 0.01 }, loss: 'sparseCategoricalCrossentropy' });
  const x = new Float32Array(32 * 784).map((_, i) => ((i * 7919) % 255) / 255);
  const y = new Int32Array(32).map((_, i) => i % 10);
  await m.fit({ data: x, shape: [32, 28, 28] }, { data: y, shape: [32], dtype: 'int32' }, { epochs: 2, batchSize: 16, verbose: 0 });
  const { json, weights } = await serializeModel(m);
  const bytes = weights.slice().buffer;
  const r = await ask({ type: 'import', json: JSON.stringify(json), weights: bytes, fileNames: ['model.json', 'model.safetensors'] }, 'model');
  expect(r.type).toBe('model');
  return m;
}

/** Test images: deterministic strokes on a dark background, values in [0, 1]. */
function images(n: number): Float32Array {
  const x = new Float32Array(n * 784);
  for (let i = 0; i < n; i++) for (let p = 0; p < 784; p++) x[i * 784 + p] = ((p * (i + 3)) % 29) < 6 ? ((p + i) % 7) / 6 : 0;
  return x;
}

async function predict(m: Model, x: Float32Array, n: number): Promise<Float32Array> {
  const y = m.predict({ data: x, shape: [n, 28, 28] });
  try {
    return (await y.data()) as Float32Array;
  } finally {
    y.dispose();
  }
}

/** The raw safetensors header (dtypes as written). */
function header(bytes: Uint8Array): Record<string, { dtype: string; shape: number[] } | Record<string, string>> {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, { dtype: string; shape: number[] }>;
}

beforeAll(async () => {
  await setBackend('wasm');
  (globalThis as unknown as { self: typeof fakeSelf }).self = fakeSelf;
  await import('../src/worker.js');
  expect(typeof fakeSelf.onmessage).toBe('function');
});

describe('the worker exports the model for other tools', () => {
  it('without a model: each export is an error reply naming its format, and nothing is posted as a file', async () => {
    for (const format of ['onnx', 'torch'] as const) {
      const r = await ask({ type: 'export', format }, 'exportedFile');
      expect(replies.filter((x) => x.type === 'exportedFile')).toEqual([]);
      expect(r).toEqual({ type: 'error', op: `export:${format}`, message: expect.stringMatching(/no model yet/) as unknown });
    }
  });

  for (const kind of ['mlp', 'cnn'] as const) {
    it(`${kind.toUpperCase()}: ONNX bytes that parseOnnx reads back, with a dynamic batch and the model's predictions`, async () => {
      const m = await loadInto(kind);
      const before = memory().numTensors;
      const r = await ask({ type: 'export', format: 'onnx' }, 'exportedFile');
      if (r.type !== 'exportedFile') throw new Error(`export failed: ${r.message}`);
      expect(memory().numTensors).toBe(before); // the export leaves nothing behind in the worker
      expect(r.format).toBe('onnx');
      expect(r.name).toBe('model.onnx');
      expect(r.bytes).toBeInstanceOf(Uint8Array);
      expect(r.bytes.byteLength).toBe(r.bytes.buffer.byteLength); // owns its buffer (transferred)
      expect(r.bytes[0]).toBe(0x08); // ModelProto field 1 (ir_version), a varint
      const onnx = parseOnnx(r.bytes);
      try {
        expect(onnx.producer).toMatch(/^axon/);
        expect(onnx.inputNames).toEqual(['pixels']);
        expect(onnx.outputNames).toEqual(['probabilities']);
        expect(onnx.inputShapes).toEqual([[null, 28, 28]]);
        for (const n of [1, 5]) {
          const x = images(n);
          const want = await predict(m, x, n);
          const got = await predict(onnx, x, n);
          expect(got.length).toBe(n * 10);
          for (let i = 0; i < want.length; i++) expect(Math.abs(got[i]! - want[i]!), `${kind} batch ${n} [${i}]`).toBeLessThan(1e-5);
          // the comparison means something: the images get different probabilities
          if (n > 1) expect(Math.max(...want.subarray(0, 10).map((v, i) => Math.abs(v - want[40 + i]!)))).toBeGreaterThan(1e-3);
        }
      } finally {
        onnx.dispose();
        m.dispose();
      }
    });
  }

  it('MLP: PyTorch weights in F32 under nn.Sequential names and layouts, which load back into the model', async () => {
    const m = await loadInto('mlp');
    const before = memory().numTensors;
    const r = await ask({ type: 'export', format: 'torch' }, 'exportedFile');
    if (r.type !== 'exportedFile') throw new Error(`export failed: ${r.message}`);
    expect(memory().numTensors).toBe(before);
    expect(r.name).toBe(EXPORT_FILE.torch);
    expect(r.name).toBe('model.pt.safetensors');
    const h = header(r.bytes);
    expect(h['__metadata__']).toEqual({ format: 'pt' });
    const { __metadata__: _, ...tensors } = h;
    // nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, 10), nn.Softmax(-1))
    expect(Object.fromEntries(Object.entries(tensors).map(([k, v]) => [k, [v['dtype'], v['shape']]]))).toEqual({
      '1.weight': ['F32', [128, 784]],
      '1.bias': ['F32', [128]],
      '4.weight': ['F32', [10, 128]],
      '4.bias': ['F32', [10]],
    });
    // Linear's weight is Dense's kernel transposed
    const parsed = parseSafetensors(r.bytes).tensors;
    const kernel = (await m.stateDict()[Object.keys(m.stateDict())[0]!]!.data()) as Float32Array; // [784, 128]
    const w = parsed['1.weight']!.data as Float32Array; // [128, 784]
    for (const [i, j] of [[0, 0], [3, 700], [127, 783], [64, 1]] as const) expect(w[i * 784 + j]).toBe(kernel[j * 128 + i]);
    // loading the file as a PyTorch state dict into a fresh MLP gives the same model
    setSeed(99);
    const fresh = buildModel('mlp');
    const sd = Object.fromEntries(Object.entries(parsed).map(([k, e]) => [k, tensor(e.data as Float32Array, e.shape)]));
    expect(loadTorchStateDict(fresh, sd)).toEqual({ missingKeys: [], unexpectedKeys: [] });
    for (const t of Object.values(sd)) t.dispose();
    const x = images(3);
    expect(Array.from(await predict(fresh, x, 3))).toEqual(Array.from(await predict(m, x, 3)));
    fresh.dispose();
    m.dispose();
  });

  it('CNN: PyTorch weights with Conv2d and Linear names', async () => {
    const m = await loadInto('cnn');
    const r = await ask({ type: 'export', format: 'torch' }, 'exportedFile');
    if (r.type !== 'exportedFile') throw new Error(`export failed: ${r.message}`);
    const { __metadata__: _, ...tensors } = header(r.bytes);
    expect(Object.fromEntries(Object.entries(tensors).map(([k, v]) => [k, [v['dtype'], v['shape']]]))).toEqual({
      '1.weight': ['F32', [32, 1, 3, 3]],
      '1.bias': ['F32', [32]],
      '4.weight': ['F32', [64, 32, 3, 3]],
      '4.bias': ['F32', [64]],
      '9.weight': ['F32', [10, 1600]],
      '9.bias': ['F32', [10]],
    });
    m.dispose();
  });

  it('a model loaded while the ONNX export runs waits for it (the export reads the model it was asked for)', async () => {
    const m = await loadInto('mlp');
    const from = replies.length;
    fakeSelf.onmessage!({ data: { type: 'export', format: 'onnx' } });
    setSeed(5);
    const other = buildModel('cnn');
    const { json, weights } = await serializeModel(other);
    const at = replies.length;
    fakeSelf.onmessage!({ data: { type: 'import', json: JSON.stringify(json), weights: weights.slice().buffer, fileNames: ['cnn.json', 'cnn.safetensors'] } });
    while (!replies.slice(at).some((r) => r.type === 'model' || r.type === 'error')) await new Promise<void>((r) => waiters.push(r));
    expect(replies.slice(at).find((r) => r.type === 'model' || r.type === 'error')?.type).toBe('model');
    const done = replies.slice(from).filter((r) => r.type === 'exportedFile' || r.type === 'error');
    expect(done.map((r) => r.type)).toEqual(['exportedFile']); // answered before the new model came in
    const onnx = parseOnnx((done[0] as Extract<Reply, { type: 'exportedFile' }>).bytes);
    const x = images(2);
    expect(Array.from(await predict(onnx, x, 2)).map((v) => Math.round(v * 1e4))).toEqual(Array.from(await predict(m, x, 2)).map((v) => Math.round(v * 1e4)));
    onnx.dispose();
    other.dispose();
    m.dispose();
  });

  it('the plain export (model.json + model.safetensors) is unchanged', async () => {
    const m = await loadInto('mlp');
    const r = await ask({ type: 'export' }, 'exported');
    if (r.type !== 'exported') throw new Error(`export failed: ${r.message}`);
    expect((JSON.parse(r.json) as { format: string }).format).toBe('axon-model/1');
    expect(Object.keys(parseSafetensors(r.weights).tensors)).toHaveLength(4);
    m.dispose();
  });
});
