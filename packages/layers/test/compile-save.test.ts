/**
 * Issue 10, point 4: `loadModel` returns the Model it was (typed: Sequential / functional), compiled
 * with the settings it was saved with (optimizer config, loss, metrics) and with the optimizer's
 * state, so that a model saved after `compile`/`fit` continues training without `compile`, as
 * Keras's `load_model` does. Functions cannot be saved: they are named, and `fit` says what to do.
 * Older files (no compile settings) still load, uncompiled.
 */
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AxonError, type Tensor, memory, randint, randn, setSeed, tensor } from '@axon/core';
import { type Optimizer, SGD } from '@axon/optimizers';
import {
  Dense, Dropout, GraphModel, type LossFn, type MetricFn, type Model, type Module, Sequential, accuracy, deserializeModel, input, loadModel, mseLoss, model, save, sequential, serializeModel,
} from '../src/index.js';
import { useTestBackend } from './helpers.js';

let dir = '';
beforeAll(async () => {
  await useTestBackend();
  dir = await mkdtemp(join(tmpdir(), 'axon-compile-save-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The bits of a module's parameters and buffers, in name order. */
function bits(m: Module): string {
  const sd = m.stateDict();
  return Object.keys(sd)
    .sort()
    .map((k) => `${k}:${Array.from(new Uint32Array((sd[k]!.dataSync() as Float32Array).slice().buffer)).join(',')}`)
    .join('|');
}

/** The bits of an optimizer's state tensors and its JSON state. */
function optimizerBits(o: Optimizer): string {
  const sd = o.stateDict();
  try {
    return JSON.stringify(sd.meta) + Object.keys(sd.tensors).sort().map((k) => `${k}:${Array.from(new Uint32Array((sd.tensors[k]!.dataSync() as Float32Array).slice().buffer)).join(',')}`).join('|');
  } finally {
    for (const t of Object.values(sd.tensors)) t.dispose();
  }
}

function classifier(): Sequential {
  return sequential([new Dense(8, { inputShape: [4], activation: 'relu' }), new Dropout(0.2), new Dense(3, { activation: 'softmax' })]);
}

function data(): { x: Tensor; y: Tensor } {
  setSeed(3);
  return { x: randn([24, 4]), y: randint(0, 3, [24]) };
}

describe('loadModel restores the compile settings and the optimizer', () => {
  it('a model saved after compile + fit loads as a compiled Sequential: same loss, metrics and optimizer config, same evaluate, and fit continues exactly as the original would', async () => {
    const { x, y } = data();
    const a = classifier();
    a.compile({ optimizer: { name: 'adam', learningRate: 0.02 }, loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    await a.fit(x, y, { epochs: 2, batchSize: 8, verbose: 0, seed: 1 });
    const p = join(dir, 'adam');
    await save(a, p);
    const files = (await readdir(p)).sort();
    expect(files).toEqual([expect.stringMatching(/^model-[0-9a-f]{16}\.optimizer\.safetensors$/), expect.stringMatching(/^model-[0-9a-f]{16}\.safetensors$/), 'model.json']);
    const json = JSON.parse(await readFile(join(p, 'model.json'), 'utf8')) as Record<string, unknown>;
    expect(json['compile']).toEqual({
      optimizer: expect.objectContaining({ name: 'adam', defaults: 'pytorch', lr: 0.02, betas: [0.9, 0.999], eps: 1e-7 }),
      loss: 'sparseCategoricalCrossentropy',
      metrics: ['accuracy'],
      unsaved: [],
    });

    const before = memory().numTensors;
    const b = await loadModel(p);
    // typed as Model: fit/evaluate/predict need no cast; at run time it is the class that was saved
    expect(b).toBeInstanceOf(Sequential);
    expect(b.isCompiled).toBe(true);
    expect(b.getCompileConfig()).toEqual(a.getCompileConfig());
    expect(b.optimizer).not.toBeNull();
    expect(b.optimizer!.getConfig()).toEqual(a.optimizer!.getConfig());
    expect(optimizerBits(b.optimizer!)).toBe(optimizerBits(a.optimizer!));
    expect(bits(b)).toBe(bits(a));
    const ea = await a.evaluate(x, y);
    const eb = await b.evaluate(x, y);
    expect(Object.keys(eb)).toEqual(['loss', 'accuracy']);
    expect(eb).toEqual(ea);

    // Continue training both: identical (Adam's moments and step counts came back).
    setSeed(9);
    const ha = await a.fit(x, y, { epochs: 2, batchSize: 8, verbose: 0, seed: 2 });
    setSeed(9);
    const hb = await b.fit(x, y, { epochs: 2, batchSize: 8, verbose: 0, seed: 2 });
    expect(hb.history).toEqual(ha.history);
    expect(bits(b)).toBe(bits(a));
    b.dispose();
    expect(memory().numTensors).toBe(before);
    a.dispose();
    x.dispose();
    y.dispose();
  });

  it('without the optimizer state ({ includeOptimizer: false }) the loaded model is compiled with a fresh optimizer: training differs from the original continuing', async () => {
    const { x, y } = data();
    const a = classifier();
    a.compile({ optimizer: { name: 'adam', learningRate: 0.02 }, loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    await a.fit(x, y, { epochs: 2, batchSize: 8, verbose: 0, seed: 1 });
    const p = join(dir, 'no-state');
    await save(a, p, { includeOptimizer: false });
    expect((await readdir(p)).filter((f) => f.includes('optimizer'))).toEqual([]);
    const b = await loadModel(p);
    expect(b.isCompiled).toBe(true);
    expect(b.optimizer).toBeNull();
    setSeed(9);
    await a.fit(x, y, { epochs: 1, batchSize: 8, verbose: 0, seed: 2 });
    setSeed(9);
    await b.fit(x, y, { epochs: 1, batchSize: 8, verbose: 0, seed: 2 });
    expect(b.optimizer!.getConfig()).toEqual(a.optimizer!.getConfig());
    expect(bits(b)).not.toBe(bits(a));
    await expect(save(a, p, { includeOptimzer: false } as never)).rejects.toThrow(/save: unknown option 'includeOptimzer'/);
    for (const t of [a, b, x, y]) t.dispose();
  });

  it('a model compiled but never fit (no optimizer yet) loads compiled with the saved optimizer config, which fit then uses', async () => {
    const net = sequential([new Dense(1, { inputShape: [2] })]);
    net.compile({ optimizer: { name: 'sgd', learningRate: 0.05, momentum: 0.9 }, loss: 'mae', metrics: ['mse'] });
    const p = join(dir, 'never-fit');
    await save(net, p);
    const json = JSON.parse(await readFile(join(p, 'model.json'), 'utf8')) as Record<string, unknown>;
    expect(json['optimizerState']).toBeUndefined();
    const m = await loadModel(p);
    expect(m.optimizer).toBeNull();
    const h = await m.fit(tensor([[1, 2], [3, 4]]), tensor([[1], [2]]), { epochs: 2, verbose: 0 });
    expect(Object.keys(h.history)).toEqual(['loss', 'mse']);
    expect(m.optimizer).toBeInstanceOf(SGD);
    expect(m.optimizer!.getConfig()).toMatchObject({ name: 'sgd', lr: 0.05, momentum: 0.9 });
    net.dispose();
    m.dispose();
  });

  it('functional models load as GraphModels, compiled', async () => {
    const xi = input({ shape: [3] });
    const g = model({ inputs: xi, outputs: new Dense(1).call(new Dense(4, { activation: 'tanh' }).call(xi)) });
    g.compile({ optimizer: 'rmsprop', loss: { name: 'meanSquaredError' }, metrics: ['mae'] });
    const x = randn([10, 3]);
    const y = randn([10, 1]);
    await g.fit(x, y, { epochs: 1, verbose: 0 });
    const p = join(dir, 'functional.json');
    await save(g, p);
    const m = await loadModel(p);
    expect(m).toBeInstanceOf(GraphModel);
    expect(m.getCompileConfig()).toEqual(g.getCompileConfig());
    expect(m.getCompileConfig()!.loss).toEqual({ name: 'meanSquaredError' });
    expect(await m.evaluate(x, y)).toEqual(await g.evaluate(x, y));
    for (const t of [g, m, x, y]) t.dispose();
  });

  it('{ compile: false } loads the architecture and weights only', async () => {
    const { x, y } = data();
    const a = classifier();
    a.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy' });
    await a.fit(x, y, { verbose: 0 });
    const p = join(dir, 'no-compile');
    await save(a, p);
    const m = await loadModel(p, { compile: false });
    expect(m.isCompiled).toBe(false);
    expect(m.optimizer).toBeNull();
    expect(bits(m)).toBe(bits(a));
    await expect(m.fit(x, y, { verbose: 0 })).rejects.toThrow(/fit: the model is not compiled/);
    await expect(loadModel(p, { compile: 'no' } as never)).rejects.toThrow(/loadModel: compile must be true or false/);
    for (const t of [a, m, x, y]) t.dispose();
  });

  it('serializeModel / deserializeModel carry the compile settings (not the optimizer state)', async () => {
    const a = classifier();
    a.compile({ optimizer: { name: 'adamw', learningRate: 0.003 }, loss: { name: 'sparseCategoricalCrossentropy', fromLogits: false }, metrics: ['acc'] });
    const { json, weights } = await serializeModel(a);
    expect(json.compile?.metrics).toEqual(['acc']);
    const m = deserializeModel(JSON.stringify(json), weights);
    expect(m).toBeInstanceOf(Sequential);
    expect(m.getCompileConfig()).toEqual(a.getCompileConfig());
    expect(deserializeModel(json, weights, { compile: false }).isCompiled).toBe(false);
    a.dispose();
    m.dispose();
  });
});

describe('compile settings that cannot be saved', () => {
  const huber: LossFn = function huber(p, t) {
    return mseLoss(p, t).mul(0.5);
  };
  const f1: MetricFn = function f1(p, t) {
    return accuracy(p, t);
  };

  it('a custom loss is named in model.json; the loaded model is not compiled and fit says what to pass to compile; compiling again trains', async () => {
    const net = sequential([new Dense(1, { inputShape: [2] })]);
    net.compile({ optimizer: { name: 'sgd', learningRate: 0.1 }, loss: huber, metrics: ['mae', f1] });
    expect(net.getCompileConfig()).toEqual({ optimizer: expect.objectContaining({ name: 'sgd', lr: 0.1 }), loss: null, metrics: ['mae'], unsaved: ["loss 'huber' (a function)", "metric 'f1' (a function)"] });
    const x = tensor([[0, 1], [1, 0]]);
    const y = tensor([[1], [0]]);
    await net.fit(x, y, { verbose: 0 });
    const p = join(dir, 'custom-loss');
    await save(net, p);
    const m = await loadModel(p);
    expect(m.isCompiled).toBe(false);
    expect(m.optimizer).toBeNull(); // the state needs the optimizer, which needs a loss to be useful: not restored
    const err = await m.fit(x, y, { verbose: 0 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AxonError);
    expect((err as Error).message).toMatch(/^fit: the model was loaded without complete compile settings: its loss 'huber' \(a function\), metric 'f1' \(a function\) could not be saved\. Call model\.compile\(\{ optimizer, loss, metrics \}\) again with them \(the saved settings: optimizer \{"name":"sgd",.*"lr":0\.1.*\}, metrics \["mae"\]\)$/);
    await expect(m.evaluate(x, y)).rejects.toThrow(/evaluate: the model was loaded without complete compile settings/);
    // saving it again keeps what was saved
    expect(m.getCompileConfig()).toEqual(net.getCompileConfig());
    m.compile({ optimizer: { name: 'sgd', learningRate: 0.1 }, loss: huber, metrics: ['mae', f1] });
    const h = await m.fit(x, y, { verbose: 0 });
    expect(Object.keys(h.history)).toEqual(['loss', 'mae', 'f1']);
    net.dispose();
    m.dispose();
    x.dispose();
    y.dispose();
  });

  it('a custom metric only: the model loads compiled without it, and the first fit warns once (log and history.warnings)', async () => {
    const net = sequential([new Dense(3, { inputShape: [2], activation: 'softmax' })]);
    net.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy', f1] });
    const p = join(dir, 'custom-metric');
    await save(net, p);
    const m = await loadModel(p);
    expect(m.isCompiled).toBe(true);
    const x = randn([6, 2]);
    const y = tensor([0, 1, 2, 0, 1, 2], [6], 'int32');
    const lines: string[] = [];
    const h = await m.fit(x, y, { verbose: 0, log: (l) => lines.push(l) });
    const note = "metric 'f1' (a function) could not be saved with the model and is not used: call model.compile({ ... }) with it to log it";
    expect(lines).toEqual([note]);
    expect(h.warnings).toEqual([note]);
    expect(Object.keys(h.history)).toEqual(['loss', 'accuracy']);
    const again = await m.fit(x, y, { verbose: 0, log: (l) => lines.push(l) });
    expect(again.warnings).toEqual([]);
    expect(m.getCompileConfig()!.unsaved).toEqual(["metric 'f1' (a function)"]);
    for (const t of [net, m, x, y]) t.dispose();
  });

  it('an optimizer of a class optimizer() cannot rebuild is named; the loaded model asks for compile', async () => {
    class Halving extends SGD {}
    const net = sequential([new Dense(1, { inputShape: [2] })]);
    const opt = new Halving(net.parameters(), { lr: 0.5 });
    Object.defineProperty(opt, 'name', { value: 'Halving' });
    net.compile({ optimizer: opt, loss: 'mse' });
    const cfg = net.getCompileConfig()!;
    expect(cfg.optimizer).toBeNull();
    expect(cfg.unsaved).toEqual(["optimizer 'Halving' (a class optimizer() cannot rebuild)"]);
    const p = join(dir, 'custom-optimizer');
    await save(net, p);
    const m = await loadModel(p);
    expect(m.isCompiled).toBe(false);
    await expect(m.fit(tensor([[1, 2]]), tensor([[1]]), { verbose: 0 })).rejects.toThrow(/its optimizer 'Halving' \(a class optimizer\(\) cannot rebuild\) could not be saved.*\(the saved settings: loss "mse"\)/);
    net.dispose();
    m.dispose();
  });
});

describe('old files, bad files', () => {
  it('files without compile settings (written before they were saved, in either layout) load uncompiled, as before', async () => {
    const net = sequential([new Dense(2, { inputShape: [3] })]);
    const { json, weights } = await serializeModel(net);
    expect(json.compile).toBeUndefined();
    // the old layout: model.json without a weights entry, beside model.safetensors
    const old = join(dir, 'old-layout');
    await mkdir(old, { recursive: true });
    const { weights: _w, ...noWeights } = json;
    await writeFile(join(old, 'model.json'), JSON.stringify(noWeights));
    await writeFile(join(old, 'model.safetensors'), weights);
    const m = await loadModel(old);
    expect(m).toBeInstanceOf(Sequential);
    expect(m.isCompiled).toBe(false);
    expect(m.getCompileConfig()).toBeNull();
    expect(bits(m)).toBe(bits(net));
    await expect(m.fit(tensor([[1, 2, 3]]), tensor([[1, 2]]), { verbose: 0 })).rejects.toThrow(/fit: the model is not compiled: call model\.compile/);
    // and it can be compiled and trained as usual
    m.compile({ optimizer: 'sgd', loss: 'mse' });
    await m.fit(tensor([[1, 2, 3]]), tensor([[1, 2]]), { verbose: 0 });
    net.dispose();
    m.dispose();
  });

  it('a file holding a single layer, not a model, is refused with a clear error (and frees what it built)', async () => {
    const d = new Dense(2, { inputShape: [3], name: 'lonely' });
    d.build(3);
    const p = join(dir, 'layer');
    await save(d, p);
    const before = memory().numTensors;
    await expect(loadModel(p)).rejects.toThrow(/^loadModel: '.*layer\/model\.json' holds a Dense layer, not a model \(Sequential or functional\)/);
    expect(memory().numTensors).toBe(before);
    d.dispose();
  });

  it('bad compile settings and a mismatched optimizer state are AxonErrors that leave nothing allocated', async () => {
    const { x, y } = data();
    const a = classifier();
    a.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy' });
    await a.fit(x, y, { verbose: 0 });
    const p = join(dir, 'bad');
    await save(a, p);
    const manifest = join(p, 'model.json');
    const good = JSON.parse(await readFile(manifest, 'utf8')) as Record<string, unknown> & { compile: Record<string, unknown> };
    const before = memory().numTensors;
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ ...good, compile: { ...good.compile, loss: 'hinge' } }, /loadModel: '.*model\.json': getLoss: unknown loss 'hinge'.*\(load with \{ compile: false \} to skip the compile settings\)/],
      [{ ...good, compile: { ...good.compile, metrics: ['toString'] } }, /getMetric: unknown metric 'toString'/],
      [{ ...good, compile: { ...good.compile, optimizer: { name: 'lbfgs' } } }, /unknown optimizer 'lbfgs'/],
      [{ ...good, compile: 'adam' }, /the saved compile settings are malformed: expected an object/],
      [{ ...good, compile: { ...good.compile, metrics: [1] } }, /metrics must be a list of strings/],
      [{ ...good, compile: { ...good.compile, optimizer: { name: 'sgd' } } }, /'.*\.optimizer\.safetensors' does not fit the model's optimizer: .*the state dict is for Adam, this optimizer is SGD/],
      [{ ...good, optimizerState: good['weights'] }, /is not an optimizer state file/],
      [{ ...good, optimizerState: '../x.safetensors' }, /names the optimizer state file "\.\.\/x\.safetensors"/],
    ];
    for (const [json, message] of cases) {
      await writeFile(manifest, JSON.stringify(json));
      await expect(loadModel(p), JSON.stringify(json).slice(0, 80)).rejects.toThrow(message);
      expect(memory().numTensors).toBe(before);
    }
    // with { compile: false } the same bad settings are not read
    await writeFile(manifest, JSON.stringify(cases[0]![0]));
    const m = await loadModel(p, { compile: false });
    expect(bits(m)).toBe(bits(a));
    for (const t of [a, m, x, y]) t.dispose();
  });

  it('the optimizer state of another model of the same class is refused (shapes checked)', async () => {
    const a = sequential([new Dense(2, { inputShape: [3] })]);
    const b = sequential([new Dense(4, { inputShape: [3] })]);
    for (const m of [a, b]) {
      m.compile({ optimizer: 'adam', loss: 'mse' });
      await m.fit(randn([4, 3]), randn([4, m === a ? 2 : 4]), { verbose: 0 });
    }
    const pa = join(dir, 'swap-a');
    const pb = join(dir, 'swap-b');
    await save(a, pa);
    await save(b, pb);
    const ja = JSON.parse(await readFile(join(pa, 'model.json'), 'utf8')) as { optimizerState: string };
    const jb = JSON.parse(await readFile(join(pb, 'model.json'), 'utf8')) as { optimizerState: string };
    await writeFile(join(pa, ja.optimizerState), await readFile(join(pb, jb.optimizerState)));
    const before = memory().numTensors;
    await expect(loadModel(pa)).rejects.toThrow(/does not fit the model's optimizer: .*shape \[3,4\] in the state dict, \[3,2\] here/);
    expect(memory().numTensors).toBe(before);
    a.dispose();
    b.dispose();
  });
});

describe('types', () => {
  it('loadModel, deserializeModel and loadModelFromUrl are typed as Model (fit/evaluate/predict without a cast)', async () => {
    const net = sequential([new Dense(1, { inputShape: [1] })]);
    net.compile({ optimizer: 'sgd', loss: 'mse' });
    const p = join(dir, 'typed');
    await save(net, p);
    const m: Model = await loadModel(p);
    const h = await m.fit(tensor([[1]]), tensor([[2]]), { verbose: 0 });
    expect(h.epoch).toEqual([0]);
    const yHat: Tensor = m.predict(tensor([[1]]));
    expect(yHat.shape).toEqual([1, 1]);
    yHat.dispose();
    net.dispose();
    m.dispose();
  });
});
