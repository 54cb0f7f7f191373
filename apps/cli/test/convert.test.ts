// axon convert and axon info <model> for every format (issue 14, item 4): Axon folders, ONNX and
// safetensors files converted into each other on small fresh models (nothing trained), compared
// value for value after the round trip; safetensors dtype changes exact for F16/BF16-representable
// values with the metadata kept; info read lazily (a sparse 2 GiB file: only its header is read);
// errors for what cannot be done, before anything is written; the built CLI prints them as
// `axon: …` with no stack.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { open, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AxonError, type Tensor, setSeed, memory, noGrad, randn, setBackend, tensor } from '@axon/core';
import '@axon/backend-wasm';
import '@axon/autograd';
import { Linear, ReLU, Sequential, gpt, loadModel, mnistModel, openSafetensors, parseSafetensors, save, saveSafetensors, serializeSafetensors, toHostTensors, toTorchStateDict } from '@axon/layers';
import { OnnxModel, loadOnnx } from '@axon/onnx';
import { convert, defaultOutput, parseShape } from '../src/commands/convert.js';
import { describeModel, type FolderInfo, type OnnxInfo, type SafetensorsInfo } from '../src/commands/info.js';
import { inspectOnnx } from '@axon/onnx';

const cli = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'axon-cli-convert-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const quiet = (): void => undefined;
const axon = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 120_000, cwd: dir });

async function values(t: Tensor): Promise<Float32Array> {
  return (await t.data()) as Float32Array;
}

/** Runs `fn` and checks it left no tensor behind. */
async function noLeak<T>(fn: () => Promise<T>): Promise<T> {
  const before = memory().numTensors;
  const r = await fn();
  expect(memory().numTensors).toBe(before);
  return r;
}

/** Bits of float32 values rounded to bfloat16 / keeping only what float16 holds exactly. */
function bf16Representable(x: Float32Array): Float32Array {
  const u = new Uint32Array(x.buffer.slice(0));
  for (let i = 0; i < u.length; i++) u[i] = u[i]! & 0xffff0000;
  return new Float32Array(u.buffer);
}
function f16Representable(x: Float32Array): Float32Array {
  // |v| < 8 in steps of 1/128: at most 10 significant bits, inside float16's normal range
  return x.map((v) => Math.round(v * 128) / 128);
}

beforeAll(async () => {
  await setBackend('wasm');
  setSeed(14);
});

describe('axon convert', () => {
  it('an Axon folder → ONNX (default path, shape from the model) → loadOnnx gives the same outputs; info describes the file', async () => {
    const m = mnistModel('mlp');
    const src = join(dir, 'mlp');
    await save(m, src);
    const r = await noLeak(() => convert({ input: src, to: 'onnx' }, quiet));
    expect(r.output).toBe(`${src}.onnx`);
    expect(r.parameters).toBe(101_770);
    const back = await loadOnnx(r.output);
    const x = randn([1, 28, 28]);
    const [a, b] = noGrad(() => [m.predict(x), back.forward(x)]);
    const want = await values(a!);
    const got = await values(b!);
    for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i]!, 6);
    for (const t of [x, a!, b!]) t.dispose();
    back.dispose();
    const info = (await describeModel(r.output, { log: quiet })) as OnnxInfo;
    expect(info.format).toBe('onnx');
    expect(info.opset).toBe(17);
    expect(info.producer).toBe('axon 0.1.0');
    expect(info.inputs).toEqual([{ name: 'input', dtype: 'FLOAT', shape: [1, 28, 28] }]);
    expect(info.outputs[0]!.shape).toEqual([1, 10]);
    expect(info.parameters).toBeGreaterThanOrEqual(101_770);
    expect(info.initializerDtypes.FLOAT!.elements).toBeGreaterThanOrEqual(101_770);
    expect(info.nodeCount).toBe(Object.values(info.ops).reduce((s, n) => s + n, 0));
    expect(Object.keys(info.ops)).toContain('MatMul');
    m.dispose();
  });

  it('--dynamic-batch: the ONNX file has a symbolic batch axis and runs at other batch sizes', async () => {
    const m = mnistModel('cnn');
    const src = join(dir, 'cnn-dyn');
    await save(m, src);
    const r = await noLeak(() => convert({ input: src, to: 'onnx', dynamicBatch: true }, quiet));
    const info = (await describeModel(r.output, { log: quiet })) as OnnxInfo;
    expect(info.inputs[0]!.shape).toEqual(['batch', 28, 28]);
    expect(info.outputs[0]!.shape).toEqual(['batch', 10]);
    const back = await loadOnnx(r.output);
    const x = randn([3, 28, 28]);
    const [a, b] = noGrad(() => [m.predict(x), back.forward(x)]);
    const want = await values(a!);
    const got = await values(b!);
    expect(got.length).toBe(30);
    for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i]!, 5);
    for (const t of [x, a!, b!]) t.dispose();
    back.dispose();
    m.dispose();
    await expect(convert({ input: src, to: 'safetensors', dynamicBatch: true }, quiet)).rejects.toThrow(/--dynamic-batch apply to --to onnx/);
  });

  it('a model that declares no input shape needs --input-shape (an error saying so); with it, the export works', async () => {
    const net = new Sequential(new Linear(3, 4), new ReLU(), new Linear(4, 2));
    const src = join(dir, 'noshape');
    await save(net, src);
    const err = await convert({ input: src, to: 'onnx' }, quiet).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AxonError);
    expect(String(err)).toMatch(/declares no input shape.*--input-shape/);
    expect(existsSync(`${src}.onnx`)).toBe(false);
    const r = await convert({ input: src, to: 'onnx', inputShape: parseShape('5,3') }, quiet);
    const back = await loadOnnx(r.output);
    expect(back.inputShapes).toEqual([[5, 3]]);
    back.dispose();
    net.dispose();
  });

  it('an Axon folder → safetensors in BF16 (PyTorch names kept): exact for bfloat16-representable weights, metadata readable lazily', async () => {
    const net = new Sequential(new Linear(6, 5), new ReLU(), new Linear(5, 3));
    const originals: Record<string, Float32Array> = {};
    for (const [k, p] of Object.entries(net.stateDict())) {
      const v = bf16Representable(await values(p));
      originals[k] = v;
      p.assign(tensor(v, p.shape));
    }
    const src = join(dir, 'pt-net');
    await save(net, src);
    const r = await noLeak(() => convert({ input: src, to: 'safetensors', dtype: 'bfloat16' }, quiet));
    expect(r.output).toBe(`${src}.safetensors`);
    expect(r.dtype).toBe('BF16');
    const { tensors } = parseSafetensors(readFileSync(r.output));
    expect(Object.keys(tensors)).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
    for (const [k, t] of Object.entries(tensors)) {
      expect(t.sourceDtype).toBe('BF16');
      expect(Array.from(t.data)).toEqual(Array.from(originals[k]!));
    }
    const info = (await describeModel(r.output, { log: quiet })) as SafetensorsInfo;
    expect(info.dtypes).toEqual({ BF16: { tensors: 4, elements: 6 * 5 + 5 + 5 * 3 + 3 } });
    expect(info.groups).toEqual(['0 35', '2 18']);
    net.dispose();
  });

  it('safetensors → safetensors: F32 → F16 and F32 → BF16 exact for representable values, integers and metadata kept; back to F32 equal', async () => {
    const w = f16Representable(Float32Array.from({ length: 64 }, (_, i) => Math.sin(i) * 4));
    const b = bf16Representable(Float32Array.from({ length: 16 }, (_, i) => Math.cos(i) * 1e6));
    const src = join(dir, 'weights.safetensors');
    writeFileSync(src, serializeSafetensors({ w: { dtype: 'float32', shape: [8, 8], data: w }, b: { dtype: 'float32', shape: [16], data: b }, steps: { dtype: 'int32', shape: [2], data: new Int32Array([7, -3]) } }, { format: 'pt', note: 'kept' }));
    const half = await convert({ input: src, to: 'safetensors', dtype: 'float16' }, quiet);
    expect(half.output).toBe(join(dir, 'weights.float16.safetensors'));
    const h = parseSafetensors(readFileSync(half.output));
    expect(h.metadata).toEqual({ format: 'pt', note: 'kept' });
    expect(h.tensors.w!.sourceDtype).toBe('F16');
    expect(Array.from(h.tensors.w!.data)).toEqual(Array.from(w));
    expect(h.tensors.steps!.sourceDtype).toBe('I32');
    expect(Array.from(h.tensors.steps!.data)).toEqual([7, -3]);
    const bf = await convert({ input: src, to: 'safetensors', dtype: 'bfloat16', output: join(dir, 'w-bf16.safetensors') }, quiet);
    const g = parseSafetensors(readFileSync(bf.output));
    expect(g.tensors.b!.sourceDtype).toBe('BF16');
    expect(Array.from(g.tensors.b!.data)).toEqual(Array.from(b));
    expect(statSync(bf.output).size).toBeLessThan(statSync(src).size);
    const back = await convert({ input: bf.output, to: 'safetensors', output: join(dir, 'w-back.safetensors') }, quiet);
    const f = parseSafetensors(readFileSync(back.output));
    expect(f.tensors.b!.sourceDtype).toBe('F32');
    expect(Array.from(f.tensors.b!.data)).toEqual(Array.from(b));
    expect(f.metadata).toEqual({ format: 'pt', note: 'kept' });
  });

  it('safetensors weights + --model → an Axon folder and ONNX with the same outputs; wrong weights name the missing keys', async () => {
    const m = mnistModel('cnn');
    const weights = join(dir, 'cnn.safetensors');
    await saveSafetensors(m, weights);
    const out = join(dir, 'cnn-folder');
    const r = await noLeak(() => convert({ input: weights, to: 'axon', model: 'cnn', output: out }, quiet));
    expect(r.parameters).toBe(34_826);
    const again = await loadModel(out);
    const onnx = await convert({ input: weights, to: 'onnx', model: 'cnn' }, quiet);
    expect(onnx.output).toBe(join(dir, 'cnn.onnx'));
    const imported = await loadOnnx(onnx.output);
    const x = randn([1, 28, 28]);
    const outs = noGrad(() => [m.predict(x), again.predict(x), imported.forward(x)]);
    const [want, got, viaOnnx] = await Promise.all(outs.map(values));
    expect(Array.from(got!)).toEqual(Array.from(want!));
    for (let i = 0; i < want!.length; i++) expect(viaOnnx![i]).toBeCloseTo(want![i]!, 5);
    for (const t of [x, ...outs]) t.dispose();
    for (const mm of [again, imported, m]) mm.dispose();
    const err = await convert({ input: weights, to: 'axon', model: 'mlp', output: join(dir, 'wrong') }, quiet).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AxonError);
    expect(String(err)).toMatch(/do not fit --model mlp: [\s\S]*(Missing|Unexpected) key\(s\) in state_dict/);
    expect(existsSync(join(dir, 'wrong'))).toBe(false);
  });

  it("PyTorch's own files: the MLP and CNN state dicts written by PyTorch 1.13 (F32, BF16) → Axon/ONNX give PyTorch's outputs", async () => {
    const fixtures = fileURLToPath(new URL('../../../packages/layers/test/fixtures/interop/', import.meta.url));
    for (const [name, stored] of [['mlp', 'f32'], ['cnn', 'bf16'], ['mlp', 'f16']] as const) {
      const io = parseSafetensors(readFileSync(join(fixtures, `${name}.io.safetensors`))).tensors;
      const want = io[`output.${stored}`]!;
      const x = tensor(io.input!.data as Float32Array, [want.shape[0]!, 28, 28]);
      const logits = tensor(want.data as Float32Array, want.shape);
      const probs = logits.softmax(-1);
      const expected = await values(probs);
      const lines: string[] = [];
      const toAxon = await noLeak(() => convert({ input: join(fixtures, `${name}.${stored}.safetensors`), to: 'axon', model: name, output: join(dir, `torch-${name}-${stored}`) }, (l) => lines.push(l)));
      expect(lines[0]).toMatch(name === 'mlp' ? /fc1 → 1, fc2 → 4/ : /conv1 → 1, conv2 → 4, fc → 9/);
      const m = await loadModel(toAxon.output);
    const described: string[] = [];
    await describeModel(toAxon.output, { log: (l) => described.push(l) });
    expect(described.join('\n')).toMatch(new RegExp(`parameters: ${name === 'mlp' ? '101,770' : '34,826'} \\([\\d.]+ MiB\\)`));
      const toOnnx = await convert({ input: join(fixtures, `${name}.${stored}.safetensors`), to: 'onnx', model: name, inputShape: x.shape, output: join(dir, `torch-${name}-${stored}.onnx`) }, quiet);
      const o = await loadOnnx(toOnnx.output);
      const outs = noGrad(() => [m.predict(x), o.forward(x)]);
      for (const got of await Promise.all(outs.map(values))) for (let i = 0; i < expected.length; i++) expect(Math.abs(got[i]! - expected[i]!), `${name} ${stored} ${i}`).toBeLessThan(1e-5);
      for (const t of [x, logits, probs, ...outs]) t.dispose();
      m.dispose();
      o.dispose();
    }
  });

  it("an nn.Sequential state dict (layers' toTorchStateDict names: 1.weight, 4.weight) loads into --model mlp, kernels transposed back (stored as BF16: the originals rounded), info says so", async () => {
    const m = mnistModel('mlp');
    const sd = toTorchStateDict(m);
    const file = join(dir, 'sequential.safetensors');
    writeFileSync(file, serializeSafetensors(await toHostTensors(sd)));
    for (const t of Object.values(sd)) t.dispose();
    expect(Object.keys(parseSafetensors(readFileSync(file)).tensors)).toEqual(['1.weight', '1.bias', '4.weight', '4.bias']);
    const r = await noLeak(() => convert({ input: file, to: 'axon', model: 'mlp', dtype: 'bfloat16' }, quiet));
    expect(r.output).toBe(join(dir, 'sequential'));
    const back = await loadModel(r.output);
    const a = m.stateDict();
    const b = back.stateDict();
    // stored as BF16: each weight is the float32 original rounded to bfloat16 (nearest even)
    const bf16 = (v: Float32Array): number[] => Array.from(parseSafetensors(serializeSafetensors({ v: { dtype: 'float32', shape: [v.length], data: v } }, {}, { dtype: 'bfloat16' })).tensors.v!.data);
    for (const k of Object.keys(a)) expect(Array.from(await values(b[k]!)), k).toEqual(bf16(await values(a[k]!)));
    const lines: string[] = [];
    const info = await describeModel(r.output, { log: (l) => lines.push(l) });
    expect(lines[1]).toMatch(/parameters: 101,770 \(0\.39 MiB, stored as BF16\): 1 100,480 · 3 1,290/);
    expect((info as FolderInfo).stored).toEqual(['BF16']);
    const copy = await convert({ input: r.output, to: 'axon', dtype: 'float32' }, quiet);
    expect(copy.output).toBe(join(dir, 'sequential-float32'));
    const lines32: string[] = [];
    await describeModel(copy.output, { log: (l) => lines32.push(l) });
    expect(lines32[1]).toMatch(/parameters: 101,770 \(0\.39 MiB\): /);
    back.dispose();
    m.dispose();
  });

  it('--torch-names writes a Keras model as the state dict of its PyTorch nn.Sequential, which --model loads back exactly', async () => {
    const m = mnistModel('mlp');
    const src = join(dir, 'keras-mlp');
    await save(m, src);
    const r = await noLeak(() => convert({ input: src, to: 'safetensors', torchNames: true }, quiet));
    const { tensors, metadata } = parseSafetensors(readFileSync(r.output));
    expect(metadata).toEqual({ format: 'pt' });
    expect(Object.entries(tensors).map(([k, t]) => `${k} ${t.shape.join('x')}`)).toEqual(['1.weight 128x784', '1.bias 128', '4.weight 10x128', '4.bias 10']);
    const kernel = await values(m.stateDict()['1.kernel']!);
    expect(tensors['1.weight']!.data[5 * 784 + 7]).toBe(kernel[7 * 128 + 5]);
    const back = await convert({ input: r.output, to: 'axon', model: 'mlp', output: join(dir, 'keras-mlp-back') }, quiet);
    const again = await loadModel(back.output);
    const a = m.stateDict();
    const b = again.stateDict();
    for (const k of Object.keys(a)) expect(Array.from(await values(b[k]!)), k).toEqual(Array.from(await values(a[k]!)));
    const err = await convert({ input: join(dir, 'mlp.onnx'), to: 'safetensors', torchNames: true, output: join(dir, 'x.safetensors') }, quiet).catch((e: unknown) => e);
    expect(String(err)).toMatch(/--torch-names maps a Keras model .* holds a OnnxModel/);
    again.dispose();
    m.dispose();
  });

  it('a GPT saved as a single module exports with int32 token ids of its context length; an LSTM LM needs --input-shape', async () => {
    const g = gpt({ vocabSize: 12, contextLength: 8, width: 8, heads: 2, layers: 1 });
    const src = join(dir, 'tiny-gpt');
    await save(g, src);
    const r = await noLeak(() => convert({ input: src, to: 'onnx' }, quiet));
    const info = (await describeModel(r.output, { log: quiet })) as OnnxInfo;
    expect(info.inputs).toEqual([{ name: 'input', dtype: 'INT32', shape: [1, 8] }]);
    expect(info.outputs[0]!.shape).toEqual([1, 8, 12]);
    const back = await loadOnnx(r.output);
    const ids = tensor([[1, 2, 3, 4, 5, 6, 7, 8]], [1, 8], 'int32');
    const [a, b] = noGrad(() => [g.forward(ids), back.forward(ids)]);
    const [want, got] = await Promise.all([values(a!), values(b!)]);
    for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i]!, 5);
    for (const t of [ids, a!, b!]) t.dispose();
    back.dispose();
    g.dispose();
  });

  it('a single-module folder whose model.json declares far more than its weights hold is refused before allocating (loadModel\'s budget applies before the single-module fallback)', async () => {
    const g = gpt({ vocabSize: 12, contextLength: 8, width: 8, heads: 2, layers: 1 });
    const src = join(dir, 'inflated-gpt');
    await save(g, src);
    g.dispose();
    const file = join(src, 'model.json');
    const json = JSON.parse(await readFile(file, 'utf8')) as { config: Record<string, unknown> };
    json.config['width'] = 4096; // ~200 MB of parameters declared beside a few KB of weights
    await writeFile(file, JSON.stringify(json));
    const before = memory();
    await expect(convert({ input: src, to: 'onnx' }, quiet)).rejects.toThrow(/the architecture does not match its weights \(nothing was allocated/);
    expect(memory().numBytes).toBe(before.numBytes);
  });

  it('ONNX → safetensors keeps the initializers under their state-dict names, value for value', async () => {
    const net = new Sequential(new Linear(4, 3), new ReLU(), new Linear(3, 2));
    const src = join(dir, 'small');
    await save(net, src);
    const onnx = await convert({ input: src, to: 'onnx', inputShape: [2, 4] }, quiet);
    const st = await noLeak(() => convert({ input: onnx.output, to: 'safetensors' }, quiet));
    expect(st.output).toBe(join(dir, 'small.safetensors'));
    const { tensors } = parseSafetensors(readFileSync(st.output));
    const sd = net.stateDict();
    expect(Object.keys(tensors).sort()).toEqual(Object.keys(sd).sort());
    for (const [k, t] of Object.entries(sd)) expect(Array.from(tensors[k]!.data)).toEqual(Array.from(await values(t)));
    net.dispose();
  });

  it('ONNX → axon: the imported model is saved as a folder (graph in model.json, weights beside it) that loads, describes and converts back to ONNX with the same outputs', async () => {
    const src = join(dir, 'small.onnx');
    const out = join(dir, 'from-onnx');
    const lines: string[] = [];
    const r = await noLeak(() => convert({ input: src, to: 'axon', output: out }, (s) => lines.push(s)));
    expect(r).toMatchObject({ from: 'onnx', to: 'axon', output: out, tensors: 4, parameters: 4 * 3 + 3 + 3 * 2 + 2, dtype: 'F32' });
    expect(lines.join('\n')).toMatch(/^wrote .*from-onnx \(model\.json \+ weights\): an OnnxModel \(the ONNX graph, opset 17, in model\.json\), 4 tensors, 23 parameters, float tensors as F32$/);
    const manifest = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')) as { className: string; config: { graph: string } };
    expect(manifest.className).toBe('OnnxModel');
    expect(typeof manifest.config.graph).toBe('string');
    const onnx = await loadOnnx(src);
    const back = await loadModel(out);
    expect(back).toBeInstanceOf(OnnxModel);
    expect(Object.keys(back.stateDict())).toEqual(Object.keys(onnx.stateDict()));
    const x = randn([5, 4]);
    const want = await values(noGrad(() => onnx.forward(x)));
    expect(await values(noGrad(() => back.forward(x)))).toEqual(want);
    back.dispose();

    // axon info on the folder: the class, the graph, the parameters
    const info: string[] = [];
    const d = (await describeModel(out, { log: (s) => info.push(s) })) as FolderInfo;
    expect(d).toMatchObject({ format: 'axon', className: 'OnnxModel', parameters: 23, languageModel: false, stored: ['F32'] });
    // the graph is the .onnx file's, less its weights' values
    const file = inspectOnnx(readFileSync(src));
    expect(d.onnx).toMatchObject({ opset: 17, producer: file.producer, graphName: file.graphName, nodeCount: file.nodeCount, ops: file.ops, inputs: file.inputs, outputs: file.outputs, initializers: file.initializers, parameters: 23 });
    expect(info[0]).toMatch(/from-onnx: an OnnxModel \(an imported ONNX model, not a language model\)/);
    expect(info[1]).toContain(`graph: ONNX opset 17, produced by ${file.producer}`);
    expect(info[1]).toContain(`nodes: ${file.nodeCount}: ${Object.entries(file.ops).map(([k, n]) => `${k} ${n}`).join(', ')}`);
    expect(info[2]).toMatch(/inputs: input FLOAT \[2, 4\]; outputs: output FLOAT \[2, 2\]/);

    // and back to ONNX: the same outputs again
    const again = await noLeak(() => convert({ input: out, to: 'onnx', output: join(dir, 'from-onnx-again.onnx') }, quiet));
    expect(again.tensors).toBe(4);
    const reimported = await loadOnnx(again.output);
    expect(await values(noGrad(() => reimported.forward(x)))).toEqual(want);
    for (const m of [onnx, reimported]) m.dispose();
    x.dispose();
  });

  it('refuses an unknown --to, the input as output (or one of its files), a missing --model, a bad --dtype, before writing anything', async () => {
    const weights = join(dir, 'cnn.safetensors');
    const folder = join(dir, 'mlp');
    const manifest = JSON.parse(readFileSync(join(folder, 'model.json'), 'utf8')) as { weights: string };
    const cases: [Parameters<typeof convert>[0], RegExp][] = [
      [{ input: weights, to: 'keras' }, /--to must be one of axon, onnx, safetensors, got 'keras'/],
      [{ input: weights, to: 'safetensors', output: weights }, /is the input itself/],
      [{ input: folder, to: 'safetensors', output: join(folder, manifest.weights) }, /part of the input/],
      [{ input: folder, to: 'axon', output: folder }, /the input itself|part of the input/],
      [{ input: weights, to: 'axon' }, /needs their architecture, --model mlp\|cnn/],
      [{ input: weights, to: 'onnx', model: 'gpt' }, /--model must be one of mlp, cnn/],
      [{ input: weights, to: 'safetensors', model: 'cnn' }, /--model applies to --to axon and --to onnx/],
      [{ input: folder, to: 'onnx', model: 'cnn' }, /--model applies to a \.safetensors input/],
      [{ input: weights, to: 'safetensors', dtype: 'float64' }, /--dtype must be one of float32, float16, bfloat16/],
      [{ input: folder, to: 'onnx', dtype: 'float16' }, /ONNX export writes float32/],
      [{ input: join(dir, 'nope.onnx'), to: 'safetensors' }, /no such file or folder/],
      [{ input: join(dir, 'mlp.onnx'), to: 'onnx' }, /already ONNX/],
    ];
    const before = readFileSync(weights);
    for (const [o, pattern] of cases) {
      const err = await convert(o, quiet).catch((e: unknown) => e);
      expect(err, JSON.stringify(o)).toBeInstanceOf(AxonError);
      expect(String(err), JSON.stringify(o)).toMatch(pattern);
    }
    expect(readFileSync(weights).equals(before)).toBe(true);
    expect(() => parseShape('1,x')).toThrow(/--input-shape must be positive integers/);
    expect(defaultOutput('a/b.safetensors', 'safetensors', 'axon', undefined)).toBe('a/b');
  });

  it('hostile files: a header past the end, overlapping offsets, a huge declared shape, garbage ONNX — AxonErrors from info and convert', async () => {
    const header = (h: object, dataBytes: number): Uint8Array => {
      const json = new TextEncoder().encode(JSON.stringify(h));
      const out = new Uint8Array(8 + json.length + dataBytes);
      new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
      out.set(json, 8);
      return out;
    };
    const pastEnd = new Uint8Array(16);
    new DataView(pastEnd.buffer).setBigUint64(0, 2n ** 40n, true);
    const files: [string, Uint8Array][] = [
      ['past-end.safetensors', pastEnd],
      ['overlap.safetensors', header({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, 12)],
      ['gap.safetensors', header({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [12, 20] } }, 20)],
      ['huge.safetensors', header({ a: { dtype: 'F32', shape: [2 ** 40, 2 ** 40], data_offsets: [0, 16] } }, 16)],
      ['garbage.onnx', new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3])],
      ['text.onnx', new TextEncoder().encode('this is not a model')],
    ];
    for (const [name, bytes] of files) {
      const p = join(dir, name);
      writeFileSync(p, bytes);
      const e1 = await describeModel(p, { log: quiet }).catch((e: unknown) => e);
      expect(e1, name).toBeInstanceOf(AxonError);
      expect(String(e1), name).toContain(p);
      const e2 = await convert({ input: p, to: 'safetensors', output: join(dir, `${name}.out.safetensors`) }, quiet).catch((e: unknown) => e);
      expect(e2, name).toBeInstanceOf(AxonError);
      expect(existsSync(join(dir, `${name}.out.safetensors`))).toBe(false);
    }
  });
});

describe('axon info <file>', () => {
  it('a sparse 2 GiB safetensors file is described from its header alone, file dtypes as stored', async () => {
    const big = 2 ** 29; // F32 elements: 2 GiB
    const h = JSON.stringify({ __metadata__: { format: 'pt' }, 'layers.0.weight': { dtype: 'F32', shape: [2 ** 15, 2 ** 14], data_offsets: [0, big * 4] }, 'layers.1.weight': { dtype: 'BF16', shape: [4], data_offsets: [big * 4, big * 4 + 8] }, step: { dtype: 'I64', shape: [1], data_offsets: [big * 4 + 8, big * 4 + 16] } });
    const padded = h + ' '.repeat((8 - (h.length % 8)) % 8);
    const p = join(dir, 'sparse.safetensors');
    const fh = await open(p, 'w');
    const prefix = new Uint8Array(8);
    new DataView(prefix.buffer).setBigUint64(0, BigInt(padded.length), true);
    await fh.write(prefix, 0, 8, 0);
    await fh.write(padded, 8);
    await fh.truncate(8 + padded.length + big * 4 + 16);
    await fh.close();
    const rss = process.memoryUsage().rss;
    const lines: string[] = [];
    const info = (await describeModel(p, { log: (s) => lines.push(s) })) as SafetensorsInfo;
    expect(info.fileBytes).toBeGreaterThan(2 ** 31);
    expect(info.bytesRead).toBe(8 + padded.length);
    expect(process.memoryUsage().rss - rss).toBeLessThan(256 * 2 ** 20);
    expect(info.parameters).toBe(big + 4 + 1);
    expect(info.dtypes).toEqual({ F32: { tensors: 1, elements: big }, BF16: { tensors: 1, elements: 4 }, I64: { tensors: 1, elements: 1 } });
    expect(info.metadata).toEqual({ format: 'pt' });
    expect(info.groups).toEqual(['layers.0 536,870,912', 'layers.1 4', 'step 1']);
    expect(lines.join('\n')).toMatch(/3 tensors, 536,870,917 parameters/);
    expect(lines.join('\n')).toMatch(/F32 1 tensor \(536,870,912\) · BF16 1 tensor \(4\) · I64 1 tensor \(1\)/);
    expect(lines.join('\n')).toMatch(/metadata: format="pt"/);
    const f = await openSafetensors(p);
    expect(f.keys()).toHaveLength(3);
    await f.close();
  });
});

describe('the built CLI', () => {
  it('axon info --json and axon convert print what they wrote; errors are one `axon: …` line without a stack', () => {
    const ok = axon('convert', 'weights.safetensors', '--to', 'safetensors', '--dtype', 'bfloat16', '--output', 'cli-bf16.safetensors');
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/^wrote cli-bf16\.safetensors: 3 tensors, 82 parameters, float tensors as BF16, metadata kept/);
    const j = axon('info', 'cli-bf16.safetensors', '--json');
    expect(j.status).toBe(0);
    const parsed = JSON.parse(j.stdout) as SafetensorsInfo;
    expect(parsed.dtypes).toEqual({ BF16: { tensors: 2, elements: 80 }, I32: { tensors: 1, elements: 2 } });
    expect(parsed.metadata).toEqual({ format: 'pt', note: 'kept' });
    const o = axon('info', 'mlp.onnx');
    expect(o.status).toBe(0);
    expect(o.stdout).toMatch(/mlp\.onnx: ONNX \(IR 8, opset 17\), produced by axon 0\.1\.0/);
    expect(o.stdout).toMatch(/inputs: input FLOAT \[1, 28, 28\]/);
    // an imported ONNX model → an Axon folder → info → ONNX again
    const toAxon = axon('convert', 'small.onnx', '--to', 'axon', '--output', 'cli-from-onnx', '--dtype', 'bfloat16');
    expect(toAxon.stderr).toBe('');
    expect(toAxon.status).toBe(0);
    expect(toAxon.stdout).toMatch(/^wrote cli-from-onnx \(model\.json \+ weights\): an OnnxModel \(the ONNX graph, opset 17, in model\.json\), 4 tensors, 23 parameters, float tensors as BF16$/m);
    const folderInfo = axon('info', 'cli-from-onnx');
    expect(folderInfo.status).toBe(0);
    expect(folderInfo.stdout).toMatch(/^cli-from-onnx: an OnnxModel \(an imported ONNX model, not a language model\)\n {2}graph: ONNX opset 17, produced by axon .*\n {2}inputs: input FLOAT \[2, 4\]; outputs: output FLOAT \[2, 2\]\n {2}parameters: 23 \(.*stored as BF16\)/);
    const back = axon('convert', 'cli-from-onnx', '--to', 'onnx', '--output', 'cli-back.onnx');
    expect(back.stderr).toBe('');
    expect(back.status).toBe(0);
    expect(back.stdout).toMatch(/^wrote cli-back\.onnx: ONNX opset 17 of an OnnxModel, sample input float32 \[1, 4\], 4 tensors, 23 parameters/);
    for (const args of [['info', 'past-end.safetensors'], ['convert', 'garbage.onnx', '--to', 'safetensors'], ['convert', 'mlp', '--to', 'tflite'], ['convert', 'noshape', '--to', 'onnx'], ['info', 'no-such-thing']]) {
      const r = axon(...args);
      expect(r.status, args.join(' ')).toBe(1);
      expect(r.stderr, args.join(' ')).toMatch(/^axon: /);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr, args.join(' ')).not.toMatch(/\n\s+at /);
    }
  });
});
