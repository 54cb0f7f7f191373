import { describe, expect, it } from 'vitest';
import { AxonError } from '@axon/core';
import { ArrayDataset, fromArrays, permutation } from '../src/index.js';

function seq(n: number, rowSize: number): Float32Array {
  const a = new Float32Array(n * rowSize);
  for (let i = 0; i < a.length; i++) a[i] = Math.floor(i / rowSize);
  return a;
}

describe('fromArrays', () => {
  it('accepts nested arrays, typed arrays and { data, shape } with sensible dtypes', async () => {
    const ds = fromArrays({ x: [[0, 0], [0, 1], [1, 0], [1, 1]], y: [0, 1, 1, 0] });
    expect(ds).toBeInstanceOf(ArrayDataset);
    expect(ds.size).toBe(4);
    expect(ds.spec).toEqual({ x: { shape: [2], dtype: 'float32' }, y: { shape: [], dtype: 'int32' } });
    const els = await ds.toArray();
    expect(Array.from(els[2].x as Float32Array)).toEqual([1, 0]);
    expect(els[3].y).toBe(0);
    const img = fromArrays({ x: { data: new Uint8Array(2 * 3 * 4), shape: [2, 3, 4] }, y: new Int32Array([3, 4]) });
    expect(img.spec.x).toEqual({ shape: [3, 4], dtype: 'float32' });
    expect(img.spec.y.dtype).toBe('int32');
    const reg = fromArrays({ x: [1, 2, 3], y: [0.5, 1.5, 2] });
    expect(reg.spec.y.dtype).toBe('float32');
    const rows = fromArrays({ x: [new Float32Array([1, 2]), new Float32Array([3, 4])] });
    expect(rows.spec.x.shape).toEqual([2]);
    const forced = fromArrays({ x: [1, 2], y: [1, 2] }, { dtypes: { y: 'float32' } });
    expect(forced.spec.y.dtype).toBe('float32');
  });

  it('uses float32 / int32 typed arrays without copying', () => {
    const x = new Float32Array(12);
    const ds = fromArrays({ x: { data: x, shape: [3, 4] } });
    expect(ds.columns.x.data).toBe(x);
  });

  it('rejects bad columns with AxonError naming fromArrays', () => {
    expect(() => fromArrays({ x: [[1, 2], [3]] })).toThrow(/fromArrays: column 'x': ragged nested array at \[1\]/);
    expect(() => fromArrays({ x: [1, 2, 3], y: [1, 2] })).toThrow(/fromArrays: column 'y' has 2 samples but column 'x' has 3/);
    expect(() => fromArrays({ x: { data: new Float32Array(5), shape: [2, 3] } })).toThrow(/5 values cannot fill shape \[2,3\]/);
    expect(() => fromArrays({ x: 'abc' as unknown as number[] })).toThrow(AxonError);
    expect(() => fromArrays({ x: [['a']] as unknown as number[][] })).toThrow(/expected nested arrays of numbers/);
    expect(() => fromArrays({})).toThrow(/at least one column/);
    expect(() => fromArrays({ x: [1] }, { dtypes: { x: 'float64' as 'float32' } })).toThrow(/unknown dtype 'float64'/);
  });
});

describe('ArrayDataset pipeline', () => {
  const n = 1000;
  const base = () => fromArrays({ x: { data: seq(n, 3), shape: [n, 3] }, y: Int32Array.from({ length: n }, (_, i) => i) });

  it('shuffle is a deterministic full permutation that changes each epoch', async () => {
    const ds = base().shuffle(42);
    const e1 = (await ds.toArray()).map((s) => s.y as number);
    const e2 = (await ds.toArray()).map((s) => s.y as number);
    expect([...e1].sort((a, b) => a - b)).toEqual([...Array(n).keys()]);
    expect(e1).not.toEqual(e2);
    const again = base().shuffle(42);
    expect((await again.toArray()).map((s) => s.y)).toEqual(e1);
    expect((await again.toArray()).map((s) => s.y)).toEqual(e2);
    expect((await base().shuffle(43).toArray()).map((s) => s.y)).not.toEqual(e1);
    // full shuffle: the first element can come from anywhere (not limited by a buffer)
    const firsts = new Set<number>();
    for (let s = 0; s < 20; s++) firsts.add((await base().shuffle(s).take(1).toArray())[0].y as number);
    expect(Math.max(...firsts)).toBeGreaterThan(100);
    // rows stay paired with their labels
    for (const s of (await ds.toArray()).slice(0, 50)) expect(Array.from(s.x as Float32Array)).toEqual([s.y, s.y, s.y]);
  });

  it('permutation() is a deterministic permutation', () => {
    const p = permutation(100, 5);
    expect([...p].sort((a, b) => a - b)).toEqual([...Array(100).keys()]);
    expect(Array.from(permutation(100, 5))).toEqual(Array.from(p));
    expect(() => permutation(-1, 0)).toThrow(/permutation/);
  });

  it('batch: shapes, dtypes, remainder, rows paired with labels', async () => {
    const ds = base().shuffle(1);
    const batches = await ds.batch(128).toArray();
    expect(batches.length).toBe(8);
    expect(ds.batch(128).size).toBe(8);
    expect(batches[0].x.shape).toEqual([128, 3]);
    expect(batches[0].x.dtype).toBe('float32');
    expect(batches[0].y.shape).toEqual([128]);
    expect(batches[0].y.dtype).toBe('int32');
    expect(batches[0].y.data).toBeInstanceOf(Int32Array);
    expect(batches[7].x.shape).toEqual([1000 - 7 * 128, 3]);
    const dropped = await ds.batch(128, { dropRemainder: true }).toArray();
    expect(dropped.length).toBe(7);
    expect(ds.batch(128, { dropRemainder: true }).size).toBe(7);
    const seen: number[] = [];
    for (const b of batches) {
      for (let j = 0; j < b.y.shape[0]; j++) {
        seen.push(b.y.data[j]);
        expect(b.x.data[j * 3 + 2]).toBe(b.y.data[j]);
      }
    }
    expect(seen.sort((a, b) => a - b)).toEqual([...Array(n).keys()]);
    const unshuffled = await base().batch(300).toArray();
    expect(Array.from(unshuffled[1].y.data.slice(0, 3))).toEqual([300, 301, 302]);
    const asFloat = await base().batch(10, { dtypes: { y: 'float32' } }).take(1).toArray();
    expect(asFloat[0].y.data).toBeInstanceOf(Float32Array);
  });

  it('take / skip / split sizes and disjointness', async () => {
    const ds = base();
    expect(ds.take(10).size).toBe(10);
    expect(ds.skip(990).size).toBe(10);
    expect((await ds.skip(998).toArray()).map((s) => s.y)).toEqual([998, 999]);
    const [train, val] = ds.split([0.8, 0.2], { seed: 9 });
    expect(train).toBeInstanceOf(ArrayDataset);
    expect([train.size, val.size]).toEqual([800, 200]);
    const tr = (await train.toArray()).map((s) => s.y as number);
    const va = (await val.toArray()).map((s) => s.y as number);
    expect(new Set([...tr, ...va]).size).toBe(1000);
    expect(va).toEqual((await val.toArray()).map((s) => s.y)); // fixed across epochs
    const [a, b, c] = ds.split([0.5, 0.25, 0.25]);
    expect([a.size, b.size, c.size]).toEqual([500, 250, 250]);
    expect((await b.take(1).toArray())[0].y).toBe(500);
    const [x1, x2] = ds.split([600, 100]);
    expect([x1.size, x2.size]).toEqual([600, 100]);
    const [o1, o2] = ds.split(0.333);
    expect(o1.size + o2.size).toBe(1000);
    expect(() => ds.split([0.9, 0.9])).toThrow(/Dataset.split/);
  });

  it('toArrays materializes the current order; generic ops still work on elements', async () => {
    const { x, y } = base().shuffle(3).take(5).toArrays();
    expect(x.shape).toEqual([5, 3]);
    expect(Array.from(x.data.subarray(0, 3))).toEqual([y.data[0], y.data[0], y.data[0]]);
    const mapped = await base().take(3).map((s) => (s.y as number) * 2).toArray();
    expect(mapped).toEqual([0, 2, 4]);
    const rep = base().take(2).repeat(2);
    expect(rep.size).toBe(4);
    expect((await rep.toArray()).map((s) => s.y)).toEqual([0, 1, 0, 1]);
    const cat = await base().take(2).concatenate(base().skip(998)).batch(4).toArray();
    expect(Array.from(cat[0].y.data)).toEqual([0, 1, 998, 999]);
    expect(cat[0].x.shape).toEqual([4, 3]);
  });

  it('an epoch of 60k MNIST-sized samples, shuffled and batched by 128, takes milliseconds', async () => {
    const N = 60000;
    const x = new Float32Array(N * 784);
    const y = new Int32Array(N);
    const ds = fromArrays({ x: { data: x, shape: [N, 28, 28] }, y }).shuffle(0).batch(128);
    let count = 0;
    for await (const b of ds) count += b.y.shape[0]; // warm-up epoch
    expect(count).toBe(N);
    const t0 = performance.now();
    let batches = 0;
    for await (const b of ds) batches += b.x.shape[0] > 0 ? 1 : 0;
    const ms = performance.now() - t0;
    expect(batches).toBe(469);
    // ~190 MB of row copies; the pipeline overhead itself is a few ms. Generous bound for slow CI.
    expect(ms).toBeLessThan(1500);
    console.log(`epoch of 60k x 784 float32, shuffle + batch(128): ${ms.toFixed(1)} ms`);
    // The pipeline's own overhead (permutation, batch objects, async iteration) without the big row copies:
    const labelsOnly = fromArrays({ y }).shuffle(0).batch(128);
    for await (const _ of labelsOnly); // warm-up
    const t1 = performance.now();
    for await (const _ of labelsOnly);
    const overhead = performance.now() - t1;
    expect(overhead).toBeLessThan(100);
    console.log(`epoch of 60k labels only, shuffle + batch(128): ${overhead.toFixed(1)} ms`);
  });
});
