/** Issue 9, items 10 and 12 (layers part): loaders that cannot hurt, and failed loads that leak nothing. */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Tensor, memory, setSeed } from '@axon/core';
import {
  Dense, MAX_MODEL_JSON_BYTES, MAX_MODEL_LAYERS, Module, ReLU, Sequential, deserializeModel, loadModel, loadWeights, modelFromJson, save, sequential, serializeModel, serializeSafetensors,
} from '../src/index.js';
import type { SymbolicShape } from '../src/index.js';
import { useTestBackend } from './helpers.js';

let dir = '';
beforeAll(async () => {
  await useTestBackend();
  dir = await mkdtemp(join(tmpdir(), 'axon-loaders-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const denseJson = (units: number, inputDim: number | null, inputShape?: number[]): object => ({
  format: 'axon-model/1',
  className: 'Sequential',
  name: 'big',
  config: { ...(inputShape ? { inputShape } : {}), layers: [{ className: 'Dense', name: 'd', config: { units, activation: 'linear', useBias: true, ...(inputDim !== null ? { inputDim } : {}) } }] },
  weights: 'model.safetensors',
});

const tinyWeights = (): Uint8Array => serializeSafetensors({ '0.kernel': { dtype: 'float32', shape: [2, 2], data: new Float32Array(4) }, '0.bias': { dtype: 'float32', shape: [2], data: new Float32Array(2) } });

async function writeModel(name: string, json: object | string, weights: Uint8Array): Promise<string> {
  const p = join(dir, name);
  await mkdir(p, { recursive: true });
  await writeFile(join(p, 'model.json'), typeof json === 'string' ? json : JSON.stringify(json));
  await writeFile(join(p, 'model.safetensors'), weights);
  return p;
}

describe('loadModel checks the files before building or allocating', () => {
  it('a small model.json declaring Dense 30000×30000 beside tiny weights fails fast, allocating nothing', async () => {
    const text = JSON.stringify(denseJson(30000, 30000));
    expect(text.length).toBeLessThan(300);
    const p = await writeModel('huge', text, tinyWeights());
    const before = memory();
    const t0 = Date.now();
    await expect(loadModel(p)).rejects.toThrow(/Dense 'd': declares parameters \[30000,30000\], \[30000\] \(3\.4 GiB\), but the weights hold 24 bytes of tensor data in all: the architecture does not match its weights/);
    // the same size reached through shape inference (inputShape, no inputDim) and through deserializeModel
    const q = await writeModel('huge2', denseJson(30000, null, [30000]), tinyWeights());
    await expect(loadModel(q)).rejects.toThrow(/declares parameters \[30000,30000\]/);
    expect(() => deserializeModel(text, tinyWeights())).toThrow(/declares parameters \[30000,30000\]/);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(memory().numBytes).toBe(before.numBytes);
    expect(memory().numTensors).toBe(before.numTensors);
    // a matching pair still loads
    const ok = await writeModel('ok', denseJson(2, 2), tinyWeights());
    const m = await loadModel(ok);
    expect(m.countParams()).toBe(6);
    m.dispose();
  });

  it('refuses a weights or model.json path that is not a regular file (/dev/zero, a FIFO, a directory) before reading', async () => {
    const p = join(dir, 'special');
    await mkdir(p, { recursive: true });
    await writeFile(join(p, 'model.json'), JSON.stringify(denseJson(2, 2)));
    await symlink('/dev/zero', join(p, 'model.safetensors'));
    await expect(loadModel(p)).rejects.toThrow(/model\.safetensors' is a character device, not a regular file; refusing to read it/);
    const net = new Dense(2, { inputDim: 2 });
    await expect(loadWeights(net, join(p, 'model.safetensors'))).rejects.toThrow(/character device/);
    // a FIFO: opening it for reading would block until a writer came; it is refused at once
    const f = join(dir, 'fifo');
    await mkdir(f);
    await writeFile(join(f, 'model.json'), JSON.stringify(denseJson(2, 2)));
    execFileSync('mkfifo', [join(f, 'model.safetensors')]);
    const t0 = Date.now();
    await expect(loadModel(f)).rejects.toThrow(/is a FIFO \(named pipe\), not a regular file/);
    expect(Date.now() - t0).toBeLessThan(2000);
    // a directory where model.json should be
    const d = join(dir, 'dirjson');
    await mkdir(join(d, 'model.json'), { recursive: true });
    await expect(loadModel(d)).rejects.toThrow(/model\.json' is a directory, not a regular file/);
    net.dispose();
  });

  it("caps model.json's size (documented default, raisable) and the number of layers", async () => {
    expect(MAX_MODEL_JSON_BYTES).toBe(32 * 2 ** 20);
    expect(MAX_MODEL_LAYERS).toBe(10_000);
    const p = await writeModel('capped', JSON.stringify(denseJson(2, 2), null, 2), tinyWeights());
    await expect(loadModel(p, { maxJsonBytes: 100 })).rejects.toThrow(/model\.json' is \d+ bytes, more than the 100-byte limit \(raise it with the maxJsonBytes option\)/);
    (await loadModel(p, { maxJsonBytes: 10_000 })).dispose();
    const layers = Array.from({ length: MAX_MODEL_LAYERS + 1 }, (_, i) => ({ className: 'ReLU', name: `r${i}`, config: {} }));
    const many = { format: 'axon-model/1', className: 'Sequential', name: 's', config: { layers } };
    expect(() => modelFromJson(many)).toThrow(/declares more than 10000 layers; raise the limit with the maxLayers option/);
    // nested models count too
    const nested = { format: 'axon-model/1', className: 'Sequential', name: 's', config: { layers: [{ className: 'Sequential', name: 'inner', config: { layers: layers.slice(0, 20) } }] } };
    expect(() => modelFromJson(nested, { maxLayers: 20 })).toThrow(/more than 20 layers/);
    const m = modelFromJson(many, { maxLayers: 20_000 }) as Sequential;
    expect(m.layers.length).toBe(MAX_MODEL_LAYERS + 1);
    m.dispose();
  });
});

describe('Sequential.add is linear', () => {
  class Counting extends Module {
    static readonly className: string = 'Counting';
    static calls = 0;
    forward(x: Tensor): Tensor {
      return x;
    }
    override computeOutputShape(s: SymbolicShape): SymbolicShape {
      Counting.calls++;
      return s;
    }
  }

  it('builds each added layer once (not every layer on every add)', () => {
    Counting.calls = 0;
    const m = sequential([], { inputShape: [4] });
    for (let i = 0; i < 500; i++) m.add(new Counting());
    expect(Counting.calls).toBe(500); // quadratic re-building made it 125,250
    expect(m.layers.length).toBe(500);
    expect(m.namedChildren()[499]![0]).toBe('499');
    m.dispose();
  });

  it('20,000 layers are added in well under the 12 s it took', () => {
    const t0 = Date.now();
    const m = new Sequential();
    m.setInputShape([8]);
    for (let i = 0; i < 20_000; i++) m.add(new ReLU());
    const ms = Date.now() - t0;
    expect(m.layers.length).toBe(20_000);
    expect(ms).toBeLessThan(3000);
    m.dispose();
  });

  it('a layer that does not fit is not added', () => {
    const m = sequential([new Dense(3, { inputShape: [2] })]);
    const bad = new Sequential(new Dense(1, { inputDim: 5 }));
    expect(() => m.add(bad)).toThrow(AxonErrorLike);
    expect(m.layers.length).toBe(1);
    bad.dispose();
    m.dispose();
  });
});
const AxonErrorLike = /expected input|already built/;

describe('failed loads leak nothing (issue 9, item 12)', () => {
  it('100 loads of bad models leave memory() unchanged', async () => {
    setSeed(3);
    const good = sequential([new Dense(256, { inputShape: [256] }), new Dense(4)]);
    const { json, weights } = await serializeModel(good);
    const layers = (json.config as { layers: object[] }).layers;
    const variants: [string, object][] = [
      ['Dropout rate 2 after the weights', { ...json, config: { ...json.config, layers: [...layers, { className: 'Dropout', name: 'drop', config: { rate: 2 } }] } }],
      ['an unknown class after the weights', { ...json, config: { ...json.config, layers: [...layers, { className: 'Mystery', name: 'm', config: {} }] } }],
      ['a Dense that does not fit the previous layer', { ...json, config: { ...json.config, layers: [...layers, { className: 'Dense', name: 'x', config: { units: 2, inputDim: 9 } }] } }],
      ['a nested Sequential failing inside', { ...json, config: { ...json.config, layers: [...layers, { className: 'Sequential', name: 'inner', config: { layers: [{ className: 'ReLU', name: 'r', config: {} }, { className: 'Dropout', name: 'd', config: { rate: -1 } }] } }] } }],
      ['weights missing a layer', { ...json, config: { ...json.config, layers: [...layers, { className: 'Dense', name: 'extra', config: { units: 1 } }] } }],
    ];
    const p = join(dir, 'leaky');
    await mkdir(p, { recursive: true });
    await writeFile(join(p, 'model.safetensors'), weights);
    const before = memory();
    for (let i = 0; i < 100; i++) {
      const [what, j] = variants[i % variants.length]!;
      await writeFile(join(p, 'model.json'), JSON.stringify({ ...j, weights: 'model.safetensors' }));
      await expect(loadModel(p), what).rejects.toThrow();
      expect(() => deserializeModel(JSON.stringify(j), weights), what).toThrow();
    }
    expect(memory().numTensors).toBe(before.numTensors);
    expect(memory().numBytes).toBe(before.numBytes);
    good.dispose();
  });

  it('a functional config with a bad node or duplicate names leaks nothing', () => {
    const base = {
      format: 'axon-model/1',
      className: 'Functional',
      name: 'f',
      config: {
        inputs: [{ name: 'x', shape: [4], dtype: 'float32' }],
        layers: [
          { className: 'Dense', name: 'a', config: { units: 64, inputDim: 4 } },
          { className: 'Dense', name: 'b', config: { units: 2, inputDim: 64 } },
        ],
        nodes: [{ layer: 'a', inputs: [{ input: 0 }] }, { layer: 'b', inputs: [{ node: 0 }] }],
        output: { node: 1 },
      },
    };
    const before = memory();
    const bad = [
      { ...base, config: { ...base.config, nodes: [...base.config.nodes, { layer: 'nope', inputs: [] }] } },
      { ...base, config: { ...base.config, output: { node: 7 } } },
      { ...base, config: { ...base.config, layers: [...base.config.layers, { className: 'Dense', name: 'a', config: { units: 3, inputDim: 4 } }] } },
    ];
    for (const j of bad) expect(() => modelFromJson(j)).toThrow();
    expect(memory().numTensors).toBe(before.numTensors);
    // layers no node uses are freed (the model does not own them)
    const unused = modelFromJson({ ...base, config: { ...base.config, layers: [...base.config.layers, { className: 'Dense', name: 'c', config: { units: 3, inputDim: 4 } }] } });
    expect(unused.countParams()).toBe(4 * 64 + 64 + 64 * 2 + 2);
    unused.dispose();
    expect(memory().numTensors).toBe(before.numTensors);
  });
});

describe('save → load round trip keeps working', () => {
  it('loads what save wrote, and a model in the old layout (model.safetensors)', async () => {
    setSeed(5);
    const m = sequential([new Dense(3, { inputShape: [2], activation: 'relu' }), new Dense(1)]);
    const p = join(dir, 'rt');
    await save(m, p);
    const back = await loadModel(p);
    expect(back.countParams()).toBe(m.countParams());
    back.dispose();
    const { json, weights } = await serializeModel(m);
    const old = await writeModel('oldlayout', json, weights);
    expect(JSON.parse(await readFile(join(old, 'model.json'), 'utf8')).weights).toBe('model.safetensors');
    const back2 = await loadModel(old);
    expect(back2.countParams()).toBe(m.countParams());
    back2.dispose();
    m.dispose();
  });
});
