/** safetensors and model.json: round trips, an independent reader, hostile files, atomic saves. */
import { mkdtemp, readFile, rm, writeFile, readdir, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AxonError, randn, setSeed, tensor, type Tensor } from '@axon/core';
import {
  Add, Conv2d, Dense, ModelCheckpoint, Dropout, Flatten, GraphModel, Linear, MaxPool2d, Module, ReLU, Sequential, concatenate, encodeWeights, input, loadModel, loadWeights, model, modelFromJson,
  modelToJson, parseSafetensors, serializeModel, deserializeModel, loadModelFromUrl, save, saveWeights, sequential, serializeSafetensors, MAX_HEADER_BYTES,
} from '../src/index.js';
import { useTestBackend } from './helpers.js';

let dir = '';
beforeAll(async () => {
  await useTestBackend();
  dir = await mkdtemp(join(tmpdir(), 'axon-layers-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const bits = (t: Tensor): number[] => Array.from(new Uint32Array((t.dataSync() as Float32Array).slice().buffer));

/** A header built by hand, for hostile-file tests. */
function file(header: unknown, data = new Uint8Array(0), lengthOverride?: bigint): Uint8Array {
  const h = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, lengthOverride ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

describe('safetensors', () => {
  it('serializes with an 8-byte aligned, space-padded header that an independent reader parses', () => {
    const w = new Float32Array([1.5, -2, 3.25, 0]);
    const ids = new Int32Array([7, -1]);
    const mask = new Uint8Array([1, 0, 1]);
    const bytes = serializeSafetensors({ w: { dtype: 'float32', shape: [2, 2], data: w }, ids: { dtype: 'int32', shape: [2], data: ids }, mask: { dtype: 'bool', shape: [3], data: mask } }, { note: 'hi' });
    // --- independent reader, written plainly ---
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const n = Number(dv.getBigUint64(0, true));
    expect((8 + n) % 8).toBe(0);
    const headerText = new TextDecoder().decode(bytes.slice(8, 8 + n));
    expect(headerText.endsWith(' ') || (headerText.length % 8 === 0)).toBe(true);
    const header = JSON.parse(headerText) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }> & { __metadata__: Record<string, string> };
    expect(header.__metadata__).toEqual({ note: 'hi' });
    expect(header['w']).toEqual({ dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] });
    expect(header['ids']).toEqual({ dtype: 'I32', shape: [2], data_offsets: [16, 24] });
    expect(header['mask']).toEqual({ dtype: 'BOOL', shape: [3], data_offsets: [24, 27] });
    const body = bytes.slice(8 + n);
    const wb = body.slice(0, 16);
    const wv = new DataView(wb.buffer);
    expect([0, 1, 2, 3].map((i) => wv.getFloat32(i * 4, true))).toEqual([1.5, -2, 3.25, 0]);
    const iv = new DataView(body.slice(16, 24).buffer);
    expect([iv.getInt32(0, true), iv.getInt32(4, true)]).toEqual([7, -1]);
    expect(Array.from(body.slice(24, 27))).toEqual([1, 0, 1]);
    // --- and our parser round-trips it ---
    const back = parseSafetensors(bytes);
    expect(Array.from(back.tensors['w']!.data)).toEqual(Array.from(w));
    expect(back.tensors['ids']!.dtype).toBe('int32');
    expect(back.metadata).toEqual({ note: 'hi' });
    // a Node Buffer (what readFileSync returns) whose bytes sit at an offset of a shared pool
    const pool = Buffer.alloc(bytes.length + 13);
    const nodeBuf = pool.subarray(13);
    nodeBuf.set(bytes);
    const fromBuffer = parseSafetensors(nodeBuf);
    expect(Array.from(fromBuffer.tensors['w']!.data)).toEqual(Array.from(w));
    expect(Array.from(fromBuffer.tensors['ids']!.data)).toEqual([7, -1]);
    expect(Array.from(fromBuffer.tensors['mask']!.data)).toEqual([1, 0, 1]);
  });

  it('rejects hostile files with clear errors and without large allocations', () => {
    const ok = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
    const data = new Uint8Array(8);
    expect(() => parseSafetensors(new Uint8Array(5))).toThrow(/truncated file: 5 bytes/);
    expect(() => parseSafetensors(file(ok, data, 1000n))).toThrow(/header length 1000 is larger than the file allows/);
    expect(() => parseSafetensors(file(ok, data, 2n ** 63n))).toThrow(new RegExp(`exceeds the ${MAX_HEADER_BYTES}-byte limit`));
    expect(() => parseSafetensors(file(ok, data, BigInt(MAX_HEADER_BYTES + 1)))).toThrow(/exceeds/);
    expect(() => parseSafetensors(file('{not json', data))).toThrow(/not valid UTF-8 JSON/);
    expect(() => parseSafetensors(file([1, 2], data))).toThrow(/must start with '\{'/);
    expect(() => parseSafetensors(file('{}', data))).toThrow(/cover 0 bytes but the data section has 8/);
    expect(() => parseSafetensors(file({ a: { dtype: 'F8_E4M3', shape: [2], data_offsets: [0, 2] } }, data))).toThrow(/unsupported dtype 'F8_E4M3'/);
    expect(() => parseSafetensors(file({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 12] } }, data))).toThrow(/out of range \(data section has 8 bytes\)/);
    expect(() => parseSafetensors(file({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, data))).toThrow(/span 8 bytes but shape \[3\] of F32 needs 12/);
    expect(() => parseSafetensors(file({ a: { dtype: 'F32', shape: [1e6, 1e6, 1e6], data_offsets: [0, 8] } }, data))).toThrow(/needs 4000000000000000000 \(more than the file's 8\)/);
    expect(() => parseSafetensors(file({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 8] } }, data))).toThrow(/non-negative integers/);
    expect(() => parseSafetensors(file({ a: { dtype: 'F32', shape: [2], data_offsets: [8, 0] } }, data))).toThrow(/out of range/);
    expect(() => parseSafetensors(file({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, data))).toThrow(/overlap/);
    expect(() => parseSafetensors(file({ a: { dtype: 'F32', shape: [2] } }, data))).toThrow(/data_offsets must be \[begin, end\]/);
    expect(() => parseSafetensors(file({ __metadata__: { v: 1 } }, data))).toThrow(/must be a string/);
    expect(parseSafetensors(file(ok, data)).tensors['a']!.shape).toEqual([2]);
  });
});

describe('safetensors: the reference validation (issue 9, item 4)', () => {
  const good = (): Uint8Array => serializeSafetensors({ a: { dtype: 'float32', shape: [2], data: new Float32Array([1, 2]) }, b: { dtype: 'int32', shape: [1], data: new Int32Array([7]) } });
  const withLength = (bytes: Uint8Array, n: number): Uint8Array => {
    const out = bytes.slice();
    new DataView(out.buffer).setBigUint64(0, BigInt(n), true);
    return out;
  };

  it('a header length one byte short is an error, not tensors shifted by a byte', () => {
    const bytes = good();
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(new TextDecoder().decode(bytes.subarray(8, 8 + n)).endsWith(' ')).toBe(true); // padded: the JSON still parses without its last byte
    expect(() => parseSafetensors(withLength(bytes, n - 1))).toThrow(/cover 12 bytes but the data section has 13.*header length too short/);
    expect(() => parseSafetensors(withLength(bytes, n + 1))).toThrow(/not valid UTF-8 JSON/); // the header swallowed the first data byte
    expect(Array.from(parseSafetensors(bytes).tensors['a']!.data)).toEqual([1, 2]);
  });

  it('trailing bytes, a gap, a late start and duplicate keys are errors', () => {
    const bytes = good();
    const trailing = new Uint8Array(bytes.length + 4);
    trailing.set(bytes);
    expect(() => parseSafetensors(trailing)).toThrow(/cover 12 bytes but the data section has 16.*trailing bytes/);
    const data = new Uint8Array(16);
    expect(() => parseSafetensors(file({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [2], data_offsets: [8, 16] } }, data))).toThrow(/gap of 4 bytes between tensors 'a' \(ends at 4\) and 'b'/);
    expect(() => parseSafetensors(file({ a: { dtype: 'F32', shape: [3], data_offsets: [4, 16] } }, data))).toThrow(/begins at 4; data offsets must start at 0/);
    const dupTop = '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}';
    expect(() => parseSafetensors(file(dupTop, new Uint8Array(8)))).toThrow(/names "a" twice/);
    const dupInner = '{"a":{"dtype":"F32","shape":[1],"shape":[2],"data_offsets":[0,8]}}';
    expect(() => parseSafetensors(file(dupInner, new Uint8Array(8)))).toThrow(/names "shape" twice/);
    const dupMeta = '{"__metadata__":{"k":"1","k":"2"}}';
    expect(() => parseSafetensors(file(dupMeta))).toThrow(/names "k" twice/);
    // escaped keys are compared decoded; a ':' inside a string value is not a key
    expect(() => parseSafetensors(file('{"__metadata__":{"\\u0061":"x:","a":"y"}}'))).toThrow(/names "a" twice/);
    expect(parseSafetensors(file('{"__metadata__":{"a":"b:c","b":"a"}}')).metadata).toEqual({ a: 'b:c', b: 'a' });
    expect(() => parseSafetensors(file(' {}  '))).toThrow(/must start with '\{'/);
    // zero-size tensors may share an offset; an empty file section is fine
    expect(Object.keys(parseSafetensors(file({ e: { dtype: 'F32', shape: [0], data_offsets: [0, 0] }, f: { dtype: 'F32', shape: [2, 0], data_offsets: [0, 0] } })).tensors)).toEqual(['e', 'f']);
  });
});

describe('save / load', () => {
  it('Sequential: save -> loadModel -> predict is bit-identical; model.json names layer classes', async () => {
    setSeed(41);
    const m = sequential([new Flatten({ inputShape: [2, 3] }), new Dense(5, { activation: 'relu' }), new Dropout(0.3), new Dense(2, { activation: 'softmax' })]);
    const p = join(dir, 'seq');
    await save(m, p);
    const json = JSON.parse(await readFile(join(p, 'model.json'), 'utf8')) as { className: string; config: { layers: { className: string }[] } };
    expect(json.className).toBe('Sequential');
    expect(json.config.layers.map((l) => l.className)).toEqual(['Flatten', 'Dense', 'Dropout', 'Dense']);
    const m2 = (await loadModel(p)) as Sequential;
    expect(m2).toBeInstanceOf(Sequential);
    const x = randn([4, 2, 3]);
    const a = m.predict(x);
    const b = m2.predict(x);
    expect(bits(b)).toEqual(bits(a));
    expect(m2.summary()).toContain('Total params: 47');
    for (const t of [x, a, b]) t.dispose();
    m.dispose();
    m2.dispose();
  });

  it('functional models with merges and conv layers round-trip', async () => {
    setSeed(42);
    const xin = input({ shape: [1, 6, 6] });
    const c = new Conv2d(1, 2, 3, { padding: 'same' }).call(xin);
    const pooled = new MaxPool2d(2).call(c);
    const f = new Flatten().call(pooled);
    const d1 = new Dense(4, { activation: 'relu' }).call(f);
    const d2 = new Dense(4).call(f);
    const merged = concatenate([new Add().call(d1, d2), d1]);
    const out = new Dense(3).call(merged);
    const m = model({ inputs: xin, outputs: out });
    const p = join(dir, 'func.safetensors');
    await save(m, p);
    const m2 = await loadModel(p);
    expect(m2).toBeInstanceOf(GraphModel);
    const x = randn([2, 1, 6, 6]);
    const a = m.call(x);
    const b = m2.call(x);
    expect(bits(b)).toEqual(bits(a));
    expect(modelToJson(m2).className).toBe('Functional');
    for (const t of [x, a, b]) t.dispose();
    m.dispose();
    m2.dispose();
  });

  it('PyTorch-style modules: saveWeights/loadWeights; unknown layer classes are clear errors', async () => {
    class Net extends Module {
      fc1 = new Linear(3, 4);
      act = new ReLU();
      fc2 = new Linear(4, 1);
      forward(x: Tensor): Tensor {
        return this.fc2.call(this.act.call(this.fc1.call(x)));
      }
    }
    const a = new Net();
    const b = new Net();
    const f = join(dir, 'net.safetensors');
    await saveWeights(a, f);
    await loadWeights(b, f);
    const x = randn([2, 3]);
    expect(bits(b.call(x))).toEqual(bits(a.call(x)));
    await expect(save(a, join(dir, 'net2'))).rejects.toThrow(/layer class 'Net' .* is not registered/);
    expect(() => modelFromJson({ format: 'axon-model/1', className: 'Sequential', name: 's', config: { layers: [{ className: 'Mystery', name: 'm', config: {} }] } })).toThrow(/unknown layer class 'Mystery'/);
    // a class another Axon package registers says which import is missing (@axon/onnx is not imported here)
    expect(() => modelFromJson({ format: 'axon-model/1', className: 'OnnxModel', name: 'o', config: { graph: '' } })).toThrow(/layer class 'OnnxModel' is registered by @axon\/onnx: add `import '@axon\/onnx'` before loading this model/);
    const wrong = new Sequential(new Linear(3, 5));
    await expect(loadWeights(wrong, f)).rejects.toThrow(/Missing key\(s\) in state_dict: "0.weight", "0.bias"/);
    x.dispose();
    a.dispose();
    b.dispose();
    wrong.dispose();
  });

  it('a failed save leaves the old files intact and no temp files behind', async () => {
    const m = sequential([new Dense(2, { inputShape: [2] })]);
    const p = join(dir, 'atomic');
    await save(m, p);
    const weightsOf = async (): Promise<string> => join(p, (JSON.parse(await readFile(join(p, 'model.json'), 'utf8')) as { weights: string }).weights);
    const before = await readFile(await weightsOf());
    // a model whose weights cannot be read (disposed) fails before anything is written
    const broken = sequential([new Dense(2, { inputShape: [2] })]);
    broken.parameters()[0]!.dispose();
    await expect(save(broken, p)).rejects.toThrow(AxonError);
    expect(Buffer.compare(await readFile(await weightsOf()), before)).toBe(0);
    // a write failure (read-only folder) also leaves the old file
    if (process.getuid && process.getuid() !== 0) {
      await chmod(p, 0o500);
      await expect(save(m, p)).rejects.toThrow(/cannot write/);
      await chmod(p, 0o700);
      expect(Buffer.compare(await readFile(await weightsOf()), before)).toBe(0);
    }
    expect((await readdir(p)).filter((f) => f.includes('.tmp-'))).toEqual([]);
    m.dispose();
  });

  it('ModelCheckpoint writes loadable checkpoints with the default saver', async () => {
    const m = sequential([new Dense(1, { inputShape: [1] })]);
    m.compile({ optimizer: 'sgd', loss: 'mse' });
    const ck = new ModelCheckpoint({ path: join(dir, 'ck', 'epoch-{epoch}'), monitor: 'loss' });
    await m.fit(new Float32Array([1, 2]), new Float32Array([2, 4]), { epochs: 2, verbose: 0, callbacks: [ck] });
    expect(ck.saved.length).toBe(2);
    const back = (await loadModel(ck.saved[1]!)) as Sequential;
    expect(bits(back.parameters()[0]!)).toEqual(bits(m.parameters()[0]!));
    back.dispose();
    m.dispose();
  });

  it('a corrupt weights file fails loadModel with an AxonError', async () => {
    const m = sequential([new Dense(2, { inputShape: [2] })]);
    const p = join(dir, 'corrupt');
    await save(m, p);
    const w = (JSON.parse(await readFile(join(p, 'model.json'), 'utf8')) as { weights: string }).weights;
    expect(w).toMatch(/^model-[0-9a-f]{16}\.safetensors$/);
    await writeFile(join(p, w), (await encodeWeights(m)).slice(0, 20));
    await expect(loadModel(p)).rejects.toThrow(/openSafetensors: .*corrupt.*(header|past the end|bytes)/);
    m.dispose();
    void tensor;
  });
});

describe('portable (browser) serialisation', () => {
  it('serializeModel/deserializeModel and loadModelFromUrl (over a local HTTP server) round-trip bit for bit', async () => {
    const { createServer } = await import('node:http');
    setSeed(51);
    const m = sequential([new Dense(4, { activation: 'relu', inputShape: [3] }), new Dense(2)]);
    const { json, weights } = await serializeModel(m);
    const x = randn([2, 3]);
    const a = m.call(x);
    const m2 = deserializeModel(JSON.stringify(json), weights);
    const b = m2.call(x);
    expect(bits(b)).toEqual(bits(a));
    const server = createServer((req, res) => {
      if (req.url === '/m/model.json') res.end(JSON.stringify(json));
      else if (req.url === '/m/model.safetensors') res.end(Buffer.from(weights));
      else {
        res.statusCode = 404;
        res.end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    try {
      const m3 = await loadModelFromUrl(`http://127.0.0.1:${port}/m/`);
      const c = m3.call(x);
      expect(bits(c)).toEqual(bits(a));
      c.dispose();
      m3.dispose();
      await expect(loadModelFromUrl(`http://127.0.0.1:${port}/nope/`)).rejects.toThrow(/404/);
    } finally {
      server.close();
    }
    for (const t of [x, a, b]) t.dispose();
    m.dispose();
    m2.dispose();
  });
});

describe('class names', () => {
  it('every exported layer class declares its own static className (bundlers may rename classes)', async () => {
    const all = (await import('../src/index.js')) as Record<string, unknown>;
    const { registeredLayers } = all as { registeredLayers: () => string[] };
    let n = 0;
    for (const [k, v] of Object.entries(all)) {
      if (typeof v !== 'function' || !(v.prototype instanceof Module)) continue;
      if (k === 'Model') continue; // abstract
      expect(Object.prototype.hasOwnProperty.call(v, 'className'), k).toBe(true);
      expect((v as unknown as { className: string }).className).toBe(k);
      n++;
    }
    expect(n).toBeGreaterThan(20);
    for (const k of ['Dense', 'Linear', 'Conv2d', 'Sequential', 'Functional']) expect(registeredLayers()).toContain(k);
  });
});
