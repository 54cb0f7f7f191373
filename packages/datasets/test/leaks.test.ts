import { describe, expect, it } from 'vitest';
import '@axon/backend-wasm';
import { AxonError, isTensor, memory, type Tensor, tensor } from '@axon/core';
import { batchToTensors, Dataset, fromArrays, fromGenerator, type HostTensor, toTensor } from '../src/index.js';

const host = (n: number, v = 1): HostTensor => ({ data: new Float32Array(n).fill(v), shape: [n], dtype: 'float32' });

/** A stream of `n` fresh tensor elements `{ x }`, failing after `failAt` elements when given. */
function tensors(n: number, failAt?: number): Dataset<{ x: Tensor }> {
  return fromGenerator(function* () {
    for (let i = 0; i < n; i++) {
      if (i === failAt) throw new AxonError('source', `element ${i} is broken`);
      yield { x: tensor([i, i + 1]) };
    }
  }, { size: n });
}

async function consume<T extends object>(ds: AsyncIterable<T>, stopAfter = Infinity): Promise<number> {
  let k = 0;
  for await (const el of ds) {
    for (const v of Object.values(el)) if (isTensor(v)) v.dispose();
    if (++k >= stopAfter) break;
  }
  return k;
}

describe('no tensor leaks on failure or early stop', () => {
  it('toTensors of a bad batch throws AxonError and leaves no tensors (also when collected by toArray)', async () => {
    const before = memory();
    const batches = [
      { x: host(4), y: { data: new Int32Array(2), shape: [2], dtype: 'int32' as const } },
      { x: host(4), y: { data: new Int32Array(2), shape: [2], dtype: 'int32' as const } },
      { x: host(4), y: { data: new Int32Array(3), shape: [2], dtype: 'int32' as const } }, // 3 values, shape [2]
    ];
    const ds = fromGenerator(() => batches, { size: 3 }).toTensors();
    await expect(ds.toArray()).rejects.toThrow(AxonError);
    expect(memory().numTensors).toBe(before.numTensors);
    expect(memory().numBytes).toBe(before.numBytes);
    // the same through a consumer that disposes what it gets
    await expect(consume(ds)).rejects.toThrow(/3 values|does not match/);
    expect(memory().numTensors).toBe(before.numTensors);
  });

  it('toTensor / batchToTensors reject a dtype that does not match the data array (no silent conversion)', () => {
    const before = memory().numTensors;
    expect(() => toTensor({ data: new Float32Array([0.5, 1.5]), shape: [2], dtype: 'int32' })).toThrow(/toTensor: a int32 HostTensor needs its data in a Int32Array, got a Float32Array/);
    expect(() => batchToTensors({ x: host(2), y: { data: new Float32Array([0.5]), shape: [1], dtype: 'int32' as const } })).toThrow(AxonError);
    expect(() => toTensor({ data: new Float32Array(3), shape: [2, 2], dtype: 'float32' })).toThrow(/toTensor: shape \[2,2\] \(4 elements\) does not match the 3 values/);
    expect(memory().numTensors).toBe(before);
  });

  it('toArray disposes the elements it collected when the pass fails', async () => {
    const before = memory().numTensors;
    await expect(tensors(6, 4).toArray()).rejects.toThrow(/element 4 is broken/);
    expect(memory().numTensors).toBe(before);
  });

  it('shuffle disposes its buffer when the consumer stops early or the pass fails', async () => {
    const before = memory().numTensors;
    expect(await consume(tensors(20).shuffle(1, 8), 2)).toBe(2);
    expect(memory().numTensors).toBe(before);
    await expect(consume(tensors(20, 12).shuffle(1, 8))).rejects.toThrow(/broken/);
    expect(memory().numTensors).toBe(before);
  });

  it('batch disposes elements read but not batched when the pass fails', async () => {
    const before = memory().numTensors;
    await expect(tensors(10, 6).batch(4).toArray()).rejects.toThrow(/broken/);
    expect(memory().numTensors).toBe(before);
  });

  it('filter, skip and split dispose the tensors of elements they drop', async () => {
    const before = memory().numTensors;
    expect(await consume(tensors(10).filter((_, i) => i % 2 === 0))).toBe(5);
    expect(memory().numTensors).toBe(before);
    expect(await consume(tensors(10).skip(7))).toBe(3);
    expect(memory().numTensors).toBe(before);
    const [a, b] = tensors(10).split([0.5, 0.5], { seed: 1 });
    expect(await consume(a)).toBe(5);
    expect(await consume(b)).toBe(5);
    expect(memory().numTensors).toBe(before);
  });

  it('prefetch disposes read-ahead elements when the pass fails', async () => {
    const before = memory().numTensors;
    // A source whose requests fail independently (like a flaky network): request 1 fails, later ones succeed.
    let calls = 0;
    const flaky = new Dataset<{ x: Tensor }>(() => ({
      next: async (): Promise<IteratorResult<{ x: Tensor }>> => {
        const k = calls++;
        if (k === 1) throw new AxonError('source', 'request 1 failed');
        return k < 6 ? { done: false, value: { x: tensor([k]) } } : { done: true, value: undefined };
      },
    }));
    await expect(consume(flaky.prefetch(4))).rejects.toThrow(/request 1 failed/);
    expect(memory().numTensors).toBe(before);
  });

  it('in-memory pipelines end to end: no tensors left after early stops and failures', async () => {
    const x = new Float32Array(64 * 4).map((_, i) => i);
    const ds = fromArrays({ x: { data: x, shape: [64, 4] }, y: new Int32Array(64) });
    const before = memory();
    for await (const b of ds.shuffle(3).batch(8).toTensors().prefetch(3)) {
      b.x.dispose();
      b.y.dispose();
      break;
    }
    const bad = ds.batch(8).map((b, i) => (i === 3 ? { ...b, y: { ...b.y, dtype: 'float32' as const } } : b)).toTensors();
    await expect(bad.toArray()).rejects.toThrow(/toTensor: a float32 HostTensor needs its data in a Float32Array/);
    expect(memory().numTensors).toBe(before.numTensors);
    expect(memory().numBytes).toBe(before.numBytes);
  });
});
