import { describe, expect, it } from 'vitest';
import { AxonError } from '@axon/core';
import { Dataset, fromGenerator, isHostTensor } from '../src/index.js';

const range = (n: number) => fromGenerator(function* () {
  for (let i = 0; i < n; i++) yield i;
}, { size: n });

describe('Dataset (streaming)', () => {
  it('iterates with for await, re-iterably, from sync and async sources', async () => {
    const ds = range(4);
    expect(await ds.toArray()).toEqual([0, 1, 2, 3]);
    expect(await ds.toArray()).toEqual([0, 1, 2, 3]);
    const asyncDs = fromGenerator(async function* () {
      yield 'a';
      await new Promise((r) => setTimeout(r, 1));
      yield 'b';
    });
    expect(await asyncDs.toArray()).toEqual(['a', 'b']);
    expect(await fromGenerator(() => [1, 2]).toArray()).toEqual([1, 2]);
    expect(await new Dataset(() => new Set([7]).values(), 1).toArray()).toEqual([7]);
    expect(ds.size).toBe(4);
  });

  it('map (sync and async), filter, take, skip, concatenate, repeat', async () => {
    const ds = range(6);
    expect(await ds.map((v, i) => v * 10 + i).toArray()).toEqual([0, 11, 22, 33, 44, 55]);
    expect(await ds.map(async (v) => v + 1).toArray()).toEqual([1, 2, 3, 4, 5, 6]);
    const f = ds.filter((v) => v % 2 === 0);
    expect(f.size).toBeUndefined();
    expect(await f.toArray()).toEqual([0, 2, 4]);
    expect(await ds.filter(async (v) => v > 3).toArray()).toEqual([4, 5]);
    expect(await ds.take(2).toArray()).toEqual([0, 1]);
    expect(ds.take(10).size).toBe(6);
    expect(await ds.take(0).toArray()).toEqual([]);
    expect(await ds.skip(4).toArray()).toEqual([4, 5]);
    expect(ds.skip(10).size).toBe(0);
    const c = ds.take(2).concatenate(range(1));
    expect(c.size).toBe(3);
    expect(await c.toArray()).toEqual([0, 1, 0]);
    expect(await range(2).repeat(3).toArray()).toEqual([0, 1, 0, 1, 0, 1]);
    expect(range(2).repeat(3).size).toBe(6);
    expect(range(2).repeat().size).toBe(Infinity);
    expect(await range(2).repeat().take(5).toArray()).toEqual([0, 1, 0, 1, 0]);
    expect(await range(0).repeat().toArray()).toEqual([]); // no infinite loop on an empty parent
  });

  it('batch stacks numbers, typed arrays and objects; keeps the remainder unless dropped', async () => {
    const ds = fromGenerator(function* () {
      for (let i = 0; i < 5; i++) yield { x: new Float32Array([i, -i]), y: i };
    }, { size: 5 });
    const b = await ds.batch(2).toArray();
    expect(b.length).toBe(3);
    expect(ds.batch(2).size).toBe(3);
    expect(ds.batch(2, { dropRemainder: true }).size).toBe(2);
    expect(b[0].x.shape).toEqual([2, 2]);
    expect(b[0].x.dtype).toBe('float32');
    expect(Array.from(b[1].x.data)).toEqual([2, -2, 3, -3]);
    expect(b[2].y.shape).toEqual([1]);
    expect(b[0].y.dtype).toBe('float32');
    const typed = await ds.batch(2, { dtypes: { y: 'int32' } }).toArray();
    expect(typed[0].y.data).toBeInstanceOf(Int32Array);
    expect((await ds.batch(2, { dropRemainder: true }).toArray()).length).toBe(2);
    const nums = await range(3).batch(2).toArray();
    expect(isHostTensor(nums[0])).toBe(true);
    expect(Array.from(nums[0].data)).toEqual([0, 1]);
    const strs = await fromGenerator(() => ['a', 'b', 'c']).batch(2).toArray();
    expect(strs).toEqual([['a', 'b'], ['c']]);
  });

  it('batch rejects mismatched elements with AxonError', async () => {
    const ds = fromGenerator(() => [new Float32Array(2), new Float32Array(3)]);
    await expect(ds.batch(2).toArray()).rejects.toThrow(/Dataset.batch: element 1: expected shape \[2\]/);
    expect(() => range(3).batch(0)).toThrow(AxonError);
    expect(() => range(3).batch(1.5)).toThrow(/Dataset.batch: expected the batch size to be an integer ≥ 1/);
  });

  it('buffer shuffle is deterministic per seed, a permutation, and reshuffles each epoch', async () => {
    const a = range(100).shuffle(7, 16);
    const e1 = await a.toArray();
    const e2 = await a.toArray();
    expect([...e1].sort((p, q) => p - q)).toEqual([...Array(100).keys()]);
    expect(e1).not.toEqual([...Array(100).keys()]);
    expect(e2).not.toEqual(e1);
    const b = range(100).shuffle(7, 16);
    expect(await b.toArray()).toEqual(e1);
    expect(await b.toArray()).toEqual(e2);
    expect(await range(100).shuffle(8, 16).toArray()).not.toEqual(e1);
    const fixed = range(50).shuffle(1, 10, { reshuffleEachIteration: false });
    expect(await fixed.toArray()).toEqual(await fixed.toArray());
    expect(() => range(3).shuffle(Number.NaN)).toThrow(/Dataset.shuffle: expected a finite number as seed/);
  });

  it('split by fractions and counts, with and without a seed', async () => {
    const [tr, va] = range(10).split([0.8, 0.2]);
    expect(tr.size).toBe(8);
    expect(await va.toArray()).toEqual([8, 9]);
    const [a, b] = range(10).split(0.7, { seed: 3 });
    const xa = await a.toArray();
    const xb = await b.toArray();
    expect(xa.length + xb.length).toBe(10);
    expect([...xa, ...xb].sort((p, q) => p - q)).toEqual([...Array(10).keys()]);
    expect(await a.toArray()).toEqual(xa); // stable across epochs
    const [c1, c2] = range(10).split([3, 5]);
    expect(await c1.toArray()).toEqual([0, 1, 2]);
    expect(await c2.toArray()).toEqual([3, 4, 5, 6, 7]);
    expect(() => range(10).split([8, 5])).toThrow(/more than the 10 elements/);
    expect(() => range(10).split([0.8, 0.4])).toThrow(/add up to/);
    expect(() => range(10).filter(() => true).split(0.5)).toThrow(/known, finite size/);
  });

  it('prefetch yields the same elements and stops the parent on early exit', async () => {
    let produced = 0;
    let closed = false;
    const ds = fromGenerator(function* () {
      try {
        for (let i = 0; i < 100; i++) {
          produced++;
          yield i;
        }
      } finally {
        closed = true;
      }
    }, { size: 100 });
    expect(await ds.prefetch(3).toArray()).toEqual([...Array(100).keys()]);
    produced = 0;
    closed = false;
    for await (const v of ds.prefetch(4)) if (v === 5) break;
    expect(closed).toBe(true);
    expect(produced).toBeLessThan(15);
    const failing = fromGenerator(function* () {
      yield 1;
      throw new Error('boom');
    });
    await expect(failing.prefetch(2).toArray()).rejects.toThrow('boom');
  });

  it('rejects bad arguments with AxonError naming the function', () => {
    expect(() => fromGenerator(42 as unknown as () => number[])).toThrow(/fromGenerator: expected a function/);
    expect(() => range(2).take(-1)).toThrow(/Dataset.take/);
    expect(() => range(2).skip(0.5)).toThrow(/Dataset.skip/);
    expect(() => range(2).map(null as unknown as (v: number) => number)).toThrow(/Dataset.map/);
    expect(() => range(2).prefetch(0)).toThrow(/Dataset.prefetch/);
    expect(() => range(2).repeat(-2)).toThrow(/Dataset.repeat/);
    expect(() => range(2).concatenate([] as unknown as Dataset<number>)).toThrow(/Dataset.concatenate/);
  });
});
