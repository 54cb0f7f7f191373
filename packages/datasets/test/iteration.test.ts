import { describe, expect, it } from 'vitest';
import '@axon/backend-wasm';
import { AxonError, isTensor, memory } from '@axon/core';
import { augmentImages, type Dataset, fromArrays, fromGenerator, isHostTensor } from '../src/index.js';

/** A plain, comparable snapshot of one element (HostTensors and Tensors become their values). */
function snap(v: unknown): unknown {
  if (isTensor(v)) return { tensor: v.shape, dtype: v.dtype, data: Array.from(v.dataSync()) };
  if (isHostTensor(v)) return { shape: v.shape, dtype: v.dtype, data: Array.from(v.data) };
  if (ArrayBuffer.isView(v)) return Array.from(v as Float32Array);
  if (Array.isArray(v)) return v.map(snap);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, snap(x)]));
  return v;
}

/** Reads one pass and snapshots it, disposing any tensors. */
async function pass<T>(it: AsyncIterable<T>): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const el of it) {
    out.push(snap(el));
    const vals = el !== null && typeof el === 'object' ? Object.values(el) : [el];
    for (const v of vals) if (isTensor(v)) v.dispose();
  }
  return out;
}

const N = 40;
function images(): Float32Array {
  const a = new Float32Array(N * 8 * 8);
  for (let i = 0; i < a.length; i++) a[i] = ((i * 7919) % 97) / 97;
  return a;
}
const labels = () => Int32Array.from({ length: N }, (_, i) => i);
const range = (n: number) =>
  fromGenerator(function* () {
    for (let i = 0; i < n; i++) yield i;
  }, { size: n });

/** Pipelines rebuilt from scratch, as a resumed process would. */
const pipelines: Record<string, () => Dataset<unknown>> = {
  'in-memory shuffle + batch': () => fromArrays({ x: { data: images(), shape: [N, 8, 8] }, y: labels() }).shuffle(7).batch(6),
  'in-memory split, then shuffle + batch': () => fromArrays({ x: { data: images(), shape: [N, 8, 8] }, y: labels() }).split([0.75, 0.25], { seed: 3 })[0].shuffle(11).batch(5),
  'augmented batches': () =>
    fromArrays({ x: { data: images(), shape: [N, 8, 8] }, y: labels() })
      .shuffle(1)
      .batch(8)
      .map(augmentImages({ rotation: 20, shift: 0.1, zoom: 0.1, horizontalFlip: true, seed: 5 })),
  'streaming shuffle buffer + map + batch': () => range(50).shuffle(5, 16).map((v, i, it) => v * 1000 + it).batch(4),
  'streaming split (seeded) of a shuffled stream': () => range(30).shuffle(2, 8).split([0.6, 0.4], { seed: 4 })[1].batch(3),
  'filter, skip, take, prefetch, concatenate, repeat': () =>
    range(20)
      .shuffle(9, 5)
      .filter((v) => v % 3 !== 0)
      .skip(2)
      .take(9)
      .concatenate(range(6).shuffle(4))
      .repeat(2)
      .prefetch(3),
  'toTensors': () => fromArrays({ x: { data: images(), shape: [N, 8, 8] }, y: labels() }).shuffle(13).batch(16).toTensors(),
};

describe('resumable, deterministic iteration', () => {
  for (const [name, build] of Object.entries(pipelines)) {
    it(`${name}: pass k after a restart equals pass k of an uninterrupted run`, async () => {
      const before = memory().numTensors;
      const run = build();
      const passes: unknown[][] = [];
      for (let k = 0; k < 4; k++) {
        expect(run.iteration).toBe(k);
        passes.push(await pass(run));
      }
      expect(run.iteration).toBe(4);
      // every pass is a new order / new augmentation (unchanged behaviour)
      expect(passes[1]).not.toEqual(passes[0]);
      expect(passes[3]).not.toEqual(passes[2]);
      for (const k of [3, 2, 0]) {
        const resumed = build(); // a new pipeline object, as after a restart
        resumed.iteration = k;
        expect(await pass(resumed), `pass ${k}`).toEqual(passes[k]);
        expect(resumed.iteration).toBe(k + 1);
        // iterate(k) reads pass k without moving the counter, as often as asked
        const other = build();
        expect(await pass(other.iterate(k))).toEqual(passes[k]);
        expect(await pass(other.iterate(k))).toEqual(passes[k]);
        expect(other.iteration).toBe(0);
      }
      expect(memory().numTensors).toBe(before);
    });
  }

  it('the same seed gives the same sequence of passes; another seed another one', async () => {
    const a = fromArrays({ x: { data: images(), shape: [N, 8, 8] }, y: labels() }).shuffle(42).batch(10);
    const b = fromArrays({ x: { data: images(), shape: [N, 8, 8] }, y: labels() }).shuffle(42).batch(10);
    const c = fromArrays({ x: { data: images(), shape: [N, 8, 8] }, y: labels() }).shuffle(43).batch(10);
    for (let k = 0; k < 3; k++) {
      const pa = await pass(a);
      expect(await pass(b)).toEqual(pa);
      expect(await pass(c)).not.toEqual(pa);
    }
  });

  it('chained datasets read their parent with iterate(i): parents\' counters do not move', async () => {
    const base = fromArrays({ x: { data: images(), shape: [N, 8, 8] }, y: labels() });
    const shuffled = base.shuffle(3);
    const batched = shuffled.batch(4);
    const streamed = range(10).shuffle(1, 4);
    const mapped = streamed.map((v) => v + 1);
    for (let k = 0; k < 3; k++) {
      await pass(batched);
      await pass(mapped);
    }
    expect(batched.iteration).toBe(3);
    expect(mapped.iteration).toBe(3);
    expect(shuffled.iteration).toBe(0);
    expect(base.iteration).toBe(0);
    expect(streamed.iteration).toBe(0);
    // pass 2 of the parent is what pass 2 of the child was built from
    const rows = (await pass(shuffled.iterate(2))).slice(0, 4).map((s) => (s as { y: number }).y);
    const [first] = await pass(batched.iterate(2));
    expect((first as { y: { data: number[] } }).y.data).toEqual(rows);
  });

  it('the parts of a split stream read the same parent pass, so they stay disjoint every epoch', async () => {
    const [train, val] = range(30).shuffle(2, 8).split([0.6, 0.4], { seed: 4 });
    for (let k = 0; k < 3; k++) {
      const a = (await train.toArray()) as number[];
      const b = (await val.toArray()) as number[];
      expect([...a, ...b].sort((p, q) => p - q)).toEqual([...Array(30).keys()]);
    }
  });

  it('map, filter and fromGenerator receive the pass index', async () => {
    const gen = fromGenerator(function* (iteration) {
      yield iteration;
      yield iteration * 10;
    }, { size: 2 });
    expect(await gen.toArray()).toEqual([0, 0]);
    expect(await gen.toArray()).toEqual([1, 10]);
    gen.iteration = 7;
    expect(await gen.toArray()).toEqual([7, 70]);
    const m = range(3).map((v, i, iteration) => [v, i, iteration]);
    m.iteration = 5;
    expect(await m.toArray()).toEqual([[0, 0, 5], [1, 1, 5], [2, 2, 5]]);
    const seen: number[] = [];
    await pass(range(2).filter((_, __, iteration) => (seen.push(iteration), true)).iterate(4));
    expect(seen).toEqual([4, 4]);
  });

  it('repeat: repetition r of pass i reads parent pass i·count + r; endless repeats differ per pass', async () => {
    const parent = () => range(6).shuffle(8, 6);
    const rep = parent().repeat(2);
    const expected1 = [...(await pass(parent().iterate(2))), ...(await pass(parent().iterate(3)))];
    expect(await pass(rep.iterate(1))).toEqual(expected1);
    const endless = () => range(6).shuffle(8, 6).repeat().take(12);
    const p0 = await pass(endless().iterate(0));
    expect(p0).toEqual([...(await pass(parent().iterate(0))), ...(await pass(parent().iterate(1)))]);
    const p1 = await pass(endless().iterate(1));
    expect(p1).not.toEqual(p0);
    expect(await pass(endless().iterate(1))).toEqual(p1);
  });

  it('augmentImages is keyed by (seed, iteration, index): direct calls still vary per call', () => {
    const x = { data: images().subarray(0, 2 * 64), shape: [2, 8, 8], dtype: 'float32' as const };
    const f = augmentImages({ rotation: 30, seed: 1 });
    const a = Array.from(f({ x }).x.data);
    const b = Array.from(f({ x }).x.data);
    expect(b).not.toEqual(a); // calls 0 and 1
    const g = augmentImages({ rotation: 30, seed: 1 });
    expect(Array.from(g({ x }, 1, 0).x.data)).toEqual(b); // index 1 of pass 0, regardless of call history
    expect(Array.from(g({ x }, 0, 0).x.data)).toEqual(a);
    expect(Array.from(g({ x }, 0, 1).x.data)).not.toEqual(a); // another pass
    expect(() => g({ x }, -1)).toThrow(/augmentImages: expected the batch index to be a non-negative integer/);
    expect(() => g({ x }, 0, 0.5)).toThrow(/augmentImages: expected the iteration/);
  });

  it('rejects bad iteration values with AxonError', () => {
    const ds = range(3);
    for (const bad of [-1, 1.5, Number.NaN, Infinity, 2 ** 53, '1' as unknown as number]) {
      expect(() => {
        ds.iteration = bad;
      }).toThrow(AxonError);
      expect(() => ds.iterate(bad)).toThrow(/Dataset.iterate: expected the iteration \(pass index\) to be an integer/);
    }
    expect(ds.iteration).toBe(0);
  });
});
