/** inspectOnnx: a summary from the protobuf alone, and hostile bytes as AxonErrors. */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { AxonError, memory, randint, randn, setBackend } from '@axon/core';
import '@axon/autograd';
import { Embedding, Linear, ReLU, Sequential } from '@axon/layers';
import { inspectOnnx, toOnnx } from '../src/index.js';
import { encodeModel } from '../src/proto.js';

describe('inspectOnnx', () => {
  beforeAll(async () => {
    await import('@axon/backend-wasm');
    await setBackend('wasm');
  });

  it('summarizes an exported model: producer, opset, inputs with a symbolic batch, ops, initializers', async () => {
    const bytes = await toOnnx(new Sequential(new Linear(4, 3), new ReLU(), new Linear(3, 2)), randn([2, 4]), { dynamicBatch: true, opset: 18 });
    const s = inspectOnnx(bytes);
    expect(s.producer).toBe('axon 0.1.0');
    expect(s.irVersion).toBe(8);
    expect(s.opset).toBe(18);
    expect(s.inputs).toEqual([{ name: 'input', dtype: 'FLOAT', shape: ['batch', 4] }]);
    expect(s.outputs).toEqual([{ name: 'output', dtype: 'FLOAT', shape: ['batch', 2] }]);
    expect(s.ops).toMatchObject({ MatMul: 2, Add: 2, Relu: 1 });
    expect(s.initializers).toBe(4);
    expect(s.parameters).toBe(4 * 3 + 3 + 3 * 2 + 2);
    expect(s.initializerDtypes).toEqual({ FLOAT: { count: 4, elements: 23 } });
  });

  it('an int32 input and a PyTorch export', async () => {
    const s = inspectOnnx(await toOnnx(new Embedding(10, 3), randint(0, 10, [2, 5])));
    expect(s.inputs[0]).toEqual({ name: 'input', dtype: 'INT32', shape: [2, 5] });
    const t = inspectOnnx(new Uint8Array(readFileSync(new URL('./fixtures/lstm.onnx', import.meta.url))));
    expect(t.producer).toMatch(/^pytorch/);
    expect(t.ops['LSTM']).toBeGreaterThan(0);
    expect(t.inputs[0]!.dtype).toBe('INT64');
  });

  it('hostile bytes are AxonErrors, and nothing is allocated', () => {
    const before = memory();
    expect(() => inspectOnnx(new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]))).toThrow(AxonError); // a length past the end
    expect(() => inspectOnnx(new Uint8Array(0))).toThrow(/no graph/);
    const huge = encodeModel({ irVersion: 8, opsetImport: [{ domain: '', version: 17 }], graph: { name: 'g', initializer: [{ name: 'w', dims: [2 ** 40, 2 ** 40], dataType: 1 }] } });
    expect(() => inspectOnnx(huge)).toThrow(/declares more than 2\^53 elements/);
    const negative = encodeModel({ irVersion: 8, graph: { name: 'g', initializer: [{ name: 'w', dims: [-3], dataType: 1 }] } });
    expect(() => inspectOnnx(negative)).toThrow(/negative dimension -3/);
    expect(() => inspectOnnx('x' as unknown as Uint8Array)).toThrow(/expects the file's bytes/);
    expect(memory().numTensors).toBe(before.numTensors);
  });
});
