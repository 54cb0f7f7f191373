/**
 * An imported ONNX model saves and loads like any Axon model: `save` writes the graph without its
 * weights to model.json (OnnxModel.getConfig) and the weights to the safetensors file under their
 * stateDict() keys; `loadModel` / `deserializeModel` rebuild the same OnnxModel (registered by
 * importing @axon/onnx), fine-tuned weights, compile settings and optimizer state included.
 * Hostile or corrupt graphs in the folder are AxonErrors that leak nothing. Also: stateDict()
 * lists the ONNX file's initializer order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AxonError, type Tensor, memory, noGrad, randn, setBackend, setSeed, tensor } from '@axon/core';
import '@axon/autograd';
import { Linear, ReLU, Sequential, deserializeModel, loadModel, openSafetensors, registeredLayers, save, serializeModel } from '@axon/layers';
import { DataType, type ModelProto, decodeModel, encodeModel } from '../src/proto.js';
import { OnnxModel, parseOnnx, toOnnx } from '../src/index.js';
import { axonTensor, fixture, fixtureBytes } from './import-helpers.js';

let dir = '';
beforeAll(async () => {
  await import('@axon/backend-wasm');
  await setBackend('wasm');
  dir = await mkdtemp(join(tmpdir(), 'axon-onnx-save-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function values(m: { stateDict(): Record<string, Tensor> }): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {};
  for (const [k, t] of Object.entries(m.stateDict())) out[k] = Array.from(await t.data());
  return out;
}
async function run(m: OnnxModel, ...xs: Tensor[]): Promise<number[]> {
  const y = noGrad(() => m.forward(...xs));
  const d = Array.from(await y.data());
  y.dispose();
  return d;
}
const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');
const graphOf = (m: OnnxModel): ModelProto => decodeModel('test', Buffer.from(m.getConfig()['graph'] as string, 'base64'));

describe('OnnxModel.stateDict() order', () => {
  it("lists the ONNX file's initializer order: buffers where the file has them, mangled names in place", () => {
    for (const name of ['misc', 'bncnn', 'lstm', 'transformer', 'mlp']) {
      const bytes = fixtureBytes(name);
      const order = (decodeModel('test', bytes).graph!.initializer ?? []).map((t) => t.name!);
      const m = parseOnnx(bytes);
      const keys = order.filter((n) => m.parameterNames.has(n)).map((n) => m.parameterNames.get(n)!);
      expect(Object.keys(m.stateDict()), name).toEqual(keys);
      m.dispose();
    }
    // e.g. misc: bn.running_mean / running_var right after bn.bias, as PyTorch lists them
    const m = parseOnnx(fixtureBytes('misc'));
    expect(Object.keys(m.stateDict())).toEqual(['conv.weight', 'conv.bias', 'bn.weight', 'bn.bias', 'bn.running_mean', 'bn.running_var', 'conv1d.weight', 'conv1d.bias', 'fc.weight', 'fc.bias']);
    m.dispose();
  });
});

describe('save / loadModel of an OnnxModel', () => {
  it('is registered by importing @axon/onnx', () => {
    expect(registeredLayers()).toContain('OnnxModel');
  });

  it('fine-tuned PyTorch CNN: save → loadModel gives the same class, weights, outputs, compile settings and optimizer state', async () => {
    setSeed(3);
    const start = memory().numTensors;
    const m = parseOnnx(fixtureBytes('cnn'));
    const xs = randn([16, 1, 28, 28]);
    const ys = tensor([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5], [16], 'int32');
    m.compile({ optimizer: { name: 'adam', learningRate: 0.01 }, loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    await m.fit(xs, ys, { epochs: 2, batchSize: 8, verbose: 0 });
    const original = parseOnnx(fixtureBytes('cnn'));
    const tuned = await values(m);
    const fresh = await values(original);
    expect(tuned['fc.weight']).not.toEqual(fresh['fc.weight']); // fit changed the weights
    original.dispose();

    const folder = join(dir, 'cnn');
    await save(m, folder);
    const files = (await readdir(folder)).sort();
    expect(files).toHaveLength(3); // model.json, weights, optimizer state
    const json = JSON.parse(await readFile(join(folder, 'model.json'), 'utf8')) as { className: string; config: { graph: string; trainable: boolean }; weights: string; compile: unknown };
    expect(json.className).toBe('OnnxModel');
    expect(json.config.trainable).toBe(true);
    // the graph holds no weights: its float initializers point at the weights file
    const graph = decodeModel('test', Buffer.from(json.config.graph, 'base64'));
    for (const t of graph.graph!.initializer ?? []) {
      if (!m.parameterNames.has(t.name!)) continue;
      expect(t.rawData?.length ?? 0).toBe(0);
      expect(t.floatData?.length ?? 0).toBe(0);
      expect(t.externalData).toEqual([{ key: 'location', value: 'axon:state-dict' }]);
    }
    const weightBytes = Object.values(m.stateDict()).reduce((a, t) => a + t.size * 4, 0);
    expect(JSON.stringify(json).length).toBeLessThan(weightBytes / 20);
    // the weights file: the stateDict() keys, in order
    {
      await using f = await openSafetensors(join(folder, json.weights));
      expect(f.keys()).toEqual(Object.keys(m.stateDict()));
    }

    const before = memory().numTensors;
    (await loadModel(folder)).dispose();
    expect(memory().numTensors).toBe(before);
    const again = await loadModel(folder);
    expect(again).toBeInstanceOf(OnnxModel);
    const a = again as OnnxModel;
    expect(a.name).toBe(m.name);
    expect(a.inputNames).toEqual(m.inputNames);
    expect(a.outputNames).toEqual(m.outputNames);
    expect(a.inputShapes).toEqual(m.inputShapes);
    expect(a.opsetVersion).toBe(m.opsetVersion);
    expect([...a.parameterNames]).toEqual([...m.parameterNames]);
    expect(a.parameters().map((p) => p.shape)).toEqual(m.parameters().map((p) => p.shape));
    expect(await values(a)).toEqual(tuned);
    expect(a.getCompileConfig()).toEqual(m.getCompileConfig());
    expect(a.optimizer!.getConfig()).toEqual(m.optimizer!.getConfig());
    const x = randn([3, 1, 28, 28]);
    expect(await run(a, x)).toEqual(await run(m, x));
    // training continues where it stopped: one more epoch on both stays bit-identical (Adam moments restored)
    await m.fit(xs, ys, { epochs: 1, batchSize: 8, verbose: 0, shuffle: false });
    await a.fit(xs, ys, { epochs: 1, batchSize: 8, verbose: 0, shuffle: false });
    expect(await values(a)).toEqual(await values(m));
    expect(await run(a, x)).toEqual(await run(m, x));
    a.dispose();
    for (const t of [x, xs, ys]) t.dispose();
    m.dispose();
    expect(memory().numTensors).toBe(start);
  });

  it('BatchNorm statistics, mangled names and buffers (trainable: false) round trip; token-id inputs (LSTM, transformer) too', async () => {
    const cases: { name: string; trainable: boolean }[] = [
      { name: 'misc', trainable: true },
      { name: 'bncnn', trainable: false },
      { name: 'lstm', trainable: true },
      { name: 'transformer', trainable: true },
    ];
    for (const { name, trainable } of cases) {
      const m = parseOnnx(fixtureBytes(name), { trainable, name: `${name}_model` });
      const folder = join(dir, `rt-${name}`);
      await save(m, folder, { dtype: 'float32' });
      const a = (await loadModel(folder)) as OnnxModel;
      expect(a, name).toBeInstanceOf(OnnxModel);
      expect(a.name).toBe(`${name}_model`);
      expect(Object.keys(a.stateDict()), name).toEqual(Object.keys(m.stateDict()));
      expect(a.parameters().length, name).toBe(m.parameters().length);
      expect(await values(a), name).toEqual(await values(m));
      a.eval();
      m.eval();
      const f = fixture(name);
      const xs = f.inputs.map(axonTensor);
      expect(await run(a, ...xs), name).toEqual(await run(m, ...xs));
      for (const t of xs) t.dispose();
      a.dispose();
      m.dispose();
    }
  });

  it('a model saved twice (after more training) loads the latest weights; the saved graph is stable', async () => {
    const net = new Sequential(new Linear(4, 8), new ReLU(), new Linear(8, 2));
    const m = parseOnnx(await toOnnx(net, randn([1, 4])));
    net.dispose();
    const folder = join(dir, 'twice');
    await save(m, folder);
    const g1 = m.getConfig()['graph'];
    m.stateDict()['0.bias']!.assign(tensor([1, 2, 3, 4, 5, 6, 7, 8], [8]));
    await save(m, folder);
    expect(m.getConfig()['graph']).toBe(g1);
    const a = (await loadModel(folder)) as OnnxModel;
    expect(Array.from(await a.stateDict()['0.bias']!.data())).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    // a model loaded from a folder saves again as the same graph
    expect(a.getConfig()['graph']).toBe(g1);
    a.dispose();
    m.dispose();
  });

  it('serializeModel / deserializeModel (the browser path) round trip the same way', async () => {
    const m = parseOnnx(fixtureBytes('mlp'));
    m.compile({ optimizer: 'sgd', loss: 'mse' });
    const { json, weights } = await serializeModel(m);
    expect(json.className).toBe('OnnxModel');
    const a = deserializeModel(JSON.stringify(json), weights) as OnnxModel;
    expect(a).toBeInstanceOf(OnnxModel);
    expect(a.getCompileConfig()).toEqual(m.getCompileConfig());
    expect(a.getCompileConfig()!.loss).toBe('mse');
    const x = axonTensor(fixture('mlp').inputs[0]!);
    expect(await run(a, x)).toEqual(await run(m, x));
    x.dispose();
    a.dispose();
    m.dispose();
  });

  it('toString() describes the graph briefly (not the base64 config)', () => {
    const m = parseOnnx(fixtureBytes('mlp'));
    expect(String(m).length).toBeLessThan(1000);
    expect(m.extraRepr()).toBe(`inputs=[${m.inputNames.map((n) => `'${n}'`).join(', ')}], outputs=[${m.outputNames.map((n) => `'${n}'`).join(', ')}], opset=${m.opsetVersion}`);
    m.dispose();
  });
});

describe('hostile or corrupt saved graphs', () => {
  /** A saved mlp folder whose model.json config is replaced by `config` (or edited by `edit`). */
  async function folderWith(name: string, edit: (json: Record<string, unknown>, graph: ModelProto) => void): Promise<string> {
    const m = parseOnnx(fixtureBytes('mlp'));
    const folder = join(dir, `hostile-${name}`);
    await save(m, folder);
    const graph = graphOf(m);
    m.dispose();
    const file = join(folder, 'model.json');
    const json = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    edit(json, graph);
    await writeFile(file, JSON.stringify(json));
    return folder;
  }
  const setGraph = (json: Record<string, unknown>, g: ModelProto): void => {
    json['config'] = { graph: b64(encodeModel(g)), trainable: true };
  };

  const CASES: [string, (json: Record<string, unknown>, graph: ModelProto) => void, RegExp][] = [
    ['not base64', (j) => (j['config'] = { graph: 'not base64!' }), /not base64/],
    ['base64 of garbage', (j) => (j['config'] = { graph: b64(new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2])) }), /not a valid ONNX/],
    ['no graph string', (j) => (j['config'] = { graph: 42 }), /config\.graph must be the base64 ONNX graph/],
    ['trainable not a boolean', (j) => ((j['config'] as Record<string, unknown>)['trainable'] = 'yes'), /config\.trainable must be true or false/],
    [
      'an unsupported operator',
      (j, g) => {
        g.graph!.node![0]!.opType = 'NoSuchOp';
        setGraph(j, g);
      },
      /unsupported operator NoSuchOp/,
    ],
    [
      'a weight declared larger than any ONNX file holds',
      (j, g) => {
        // each within the per-tensor limit (2^28 elements), 2^29 + 2^14 in all
        for (const t of g.graph!.initializer!) if (t.name === 'fc1.weight' || t.name === 'fc2.weight') t.dims = [2 ** 14, 2 ** 14];
        for (const t of g.graph!.initializer!) if (t.name === 'fc1.bias') t.dims = [2 ** 14];
        setGraph(j, g);
      },
      // loadModel's budget (the weights file's size) refuses the first oversized weight
      /declares parameters \[16384,16384\] .* does not match its weights \(nothing was allocated/,
    ],
    [
      'a weight declared far larger than the folder\'s weights file (1 GiB against a few KB)',
      (j, g) => {
        for (const t of g.graph!.initializer!) if (t.name === 'fc1.weight') t.dims = [2 ** 14, 2 ** 14];
        setGraph(j, g);
      },
      /declares parameters \[16384,16384\] \(1\.0 GiB\), but the weights hold 397\.5 KiB .* the architecture does not match its weights \(nothing was allocated/,
    ],
    [
      'a weight declared past the per-tensor limit',
      (j, g) => {
        for (const t of g.graph!.initializer!) if (t.name === 'fc1.weight') t.dims = [2 ** 20, 2 ** 20];
        setGraph(j, g);
      },
      /more than 268435456 elements/,
    ],
    [
      'a weight whose shape disagrees with the weights file',
      (j, g) => {
        for (const t of g.graph!.initializer!) if (t.name === 'fc2.bias') t.dims = [11];
        setGraph(j, g);
      },
      // one element more than the weights file holds: over loadModel's budget before any load
      /declares parameters \[11\] .* does not match its weights/,
    ],
    [
      'a weight in the weights file declared as INT64 in the graph',
      (j, g) => {
        for (const t of g.graph!.initializer!) if (t.name === 'fc2.bias') t.dataType = DataType.INT64;
        setGraph(j, g);
      },
      /keeps its values in the weights file, so it must be declared FLOAT, got INT64/,
    ],
    [
      'a weight kept in some other external file',
      (j, g) => {
        for (const t of g.graph!.initializer!) if (t.name === 'fc2.bias') t.externalData = [{ key: 'location', value: '../../etc/passwd' }];
        setGraph(j, g);
      },
      /keeps its data in an external file/,
    ],
    [
      'a weight that is missing from the graph',
      (j, g) => {
        g.graph!.initializer = g.graph!.initializer!.filter((t) => t.name !== 'fc2.bias');
        setGraph(j, g);
      },
      /reads 'fc2\.bias', which no node, initializer or graph input produces/,
    ],
  ];
  for (const [what, edit, message] of CASES) {
    it(`${what} → AxonError, nothing leaked`, async () => {
      const folder = await folderWith(what.replace(/\W+/g, '-'), edit);
      const before = memory().numTensors;
      const bytes = memory().numBytes;
      const err = await loadModel(folder).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AxonError);
      expect((err as Error).message).toMatch(message);
      expect(memory().numTensors).toBe(before);
      expect(memory().numBytes).toBe(bytes);
    });
  }

  it('a float initializer read on the host (Pad value) cannot be moved to the weights file', () => {
    // a stripped float initializer that an operator reads as a host constant
    const net = new Sequential(new Linear(2, 2));
    const m = parseOnnx(fixtureBytes('mlp'));
    const g = graphOf(m);
    net.dispose();
    m.dispose();
    g.graph!.initializer!.push({ name: 'pads', dims: [4], dataType: DataType.INT64, int64Data: [0, 1, 0, 1] });
    g.graph!.initializer!.push({ name: 'padv', dims: [], dataType: DataType.FLOAT, dataLocation: 1, externalData: [{ key: 'location', value: 'axon:state-dict' }] });
    const out = g.graph!.output![0]!.name!;
    g.graph!.node!.push({ opType: 'Pad', input: [out, 'pads', 'padv'], output: ['padded'] });
    g.graph!.output = [{ ...g.graph!.output![0]!, name: 'padded' }];
    expect(() => OnnxModel.fromConfig({ graph: b64(encodeModel(g)) }, 'padded')).toThrow(/initializer 'padv' is read on the host.*must be in the graph/);
  });

  it('outside loadModel (no weights-file budget), a graph declaring more than 2^29 float32 weights in all is refused before anything is allocated', () => {
    const m = parseOnnx(fixtureBytes('mlp'));
    const g = graphOf(m);
    m.dispose();
    const before = memory();
    // each within the per-tensor limit (2^28 elements), 2^29 + 2^14 in all
    for (const t of g.graph!.initializer!) if (t.name === 'fc1.weight' || t.name === 'fc2.weight') t.dims = [2 ** 14, 2 ** 14];
    for (const t of g.graph!.initializer!) if (t.name === 'fc1.bias') t.dims = [2 ** 14];
    expect(() => OnnxModel.fromConfig({ graph: b64(encodeModel(g)) }, 'huge')).toThrow(/more than 536870912 float32 elements.*nothing was allocated/);
    expect(memory().numBytes).toBe(before.numBytes);
  });

  it('a stripped graph given to parseOnnx (not through fromConfig) is refused as external data', () => {
    const m = parseOnnx(fixtureBytes('mlp'));
    const bytes = encodeModel(graphOf(m));
    m.dispose();
    expect(() => parseOnnx(bytes)).toThrow(/keeps its data in an external file/);
  });
});
