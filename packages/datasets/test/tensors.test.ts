import { describe, expect, it } from 'vitest';
import '@axon/backend-wasm';
import { memory, tensor } from '@axon/core';
import { batchToTensors, fromArrays, fromTensors, loadMnistDataset, toTensor } from '../src/index.js';

const N = 1000;
function data() {
  const x = new Float32Array(N * 4);
  for (let i = 0; i < x.length; i++) x[i] = Math.floor(i / 4);
  const y = Int32Array.from({ length: N }, (_, i) => i % 10);
  return fromArrays({ x: { data: x, shape: [N, 2, 2] }, y });
}

describe('batches as tensors', () => {
  it('yields { x: float32 [B, ...shape], y: int32 [B] } and leaks nothing when the consumer disposes', async () => {
    const before = memory().numTensors;
    let batches = 0;
    for await (const { x, y } of data().shuffle(0).batch(128).toTensors()) {
      expect(x.dtype).toBe('float32');
      expect(y.dtype).toBe('int32');
      expect(x.shape.slice(1)).toEqual([2, 2]);
      expect(y.shape).toEqual([x.shape[0]]);
      const xs = x.dataSync();
      const ys = y.dataSync();
      expect(xs[0] % 10).toBe(ys[0]);
      x.dispose();
      y.dispose();
      batches++;
    }
    expect(batches).toBe(8);
    expect(memory().numTensors).toBe(before);
  });

  it('a full MNIST epoch as tensor batches: 469 batches, no leaks', async () => {
    const train = await loadMnistDataset();
    const before = memory().numTensors;
    const t0 = performance.now();
    let batches = 0;
    let samples = 0;
    for await (const { x, y } of train.shuffle(42).batch(128).prefetch(2).toTensors()) {
      batches++;
      samples += x.shape[0];
      expect(x.shape.slice(1)).toEqual([28, 28]);
      x.dispose();
      y.dispose();
    }
    const ms = performance.now() - t0;
    expect(batches).toBe(469);
    expect(samples).toBe(60000);
    expect(memory().numTensors).toBe(before);
    console.log(`MNIST epoch → tensor batches (wasm): ${ms.toFixed(1)} ms`);
  });

  it('prefetch disposes read-ahead tensor batches when the consumer stops early', async () => {
    const before = memory().numTensors;
    for await (const { x, y } of data().batch(50).toTensors().prefetch(3)) {
      x.dispose();
      y.dispose();
      break;
    }
    expect(memory().numTensors).toBe(before);
  });

  it('toTensor / batchToTensors / fromTensors', async () => {
    const before = memory().numTensors;
    const t = toTensor({ data: new Int32Array([1, 2, 3, 4]), shape: [2, 2], dtype: 'int32' });
    expect(t.shape).toEqual([2, 2]);
    expect(Array.from(t.dataSync())).toEqual([1, 2, 3, 4]);
    t.dispose();
    const b = batchToTensors({ x: { data: new Float32Array(2), shape: [2], dtype: 'float32' as const }, id: 'keep' });
    expect(b.id).toBe('keep');
    expect(b.x.shape).toEqual([2]);
    b.x.dispose();
    const xt = tensor([[1, 2], [3, 4], [5, 6]]);
    const yt = tensor(new Int32Array([0, 1, 0]), [3], 'int32');
    const ds = await fromTensors({ x: xt, y: yt });
    expect(ds.spec).toEqual({ x: { shape: [2], dtype: 'float32' }, y: { shape: [], dtype: 'int32' } });
    expect(Array.from(ds.toArrays().x.data)).toEqual([1, 2, 3, 4, 5, 6]);
    xt.dispose();
    yt.dispose();
    expect(memory().numTensors).toBe(before);
    await expect(fromTensors({ x: xt })).rejects.toThrow(/fromTensors: column 'x': the tensor is disposed/);
    await expect(fromTensors({ x: [1] as unknown as typeof xt })).rejects.toThrow(/expected a Tensor/);
  });
});
