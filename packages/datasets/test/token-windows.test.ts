import { describe, expect, it } from 'vitest';
import '@axon/backend-wasm';
import { AxonError, memory } from '@axon/core';
import { splitTokens, type TokenBatch, tokenWindows } from '../src/index.js';

const arange = (n: number): Int32Array => Int32Array.from({ length: n }, (_, i) => i);

async function pass(ds: AsyncIterable<TokenBatch>): Promise<TokenBatch[]> {
  const out: TokenBatch[] = [];
  for await (const b of ds) out.push(b);
  return out;
}

/** Each row's first token (with arange ids, the window's start). */
const starts = (b: TokenBatch): number[] => Array.from({ length: b.x.shape[0]! }, (_, r) => b.x.data[r * b.x.shape[1]!]!);

describe('tokenWindows', () => {
  it('yields int32 [B, T] contexts and targets shifted by one token', async () => {
    const ids = Int32Array.from({ length: 500 }, (_, i) => (i * 31) % 97); // next token = (t + 31) % 97
    const ds = tokenWindows(ids, { contextLength: 16, batchSize: 8, seed: 3 });
    expect(ds.size).toBe(Math.floor(499 / (8 * 16))); // 3
    const batches = await pass(ds);
    expect(batches.length).toBe(3);
    for (const { x, y } of batches) {
      expect(x.shape).toEqual([8, 16]);
      expect(y.shape).toEqual([8, 16]);
      expect(x.dtype).toBe('int32');
      expect(y.dtype).toBe('int32');
      expect(x.data).toBeInstanceOf(Int32Array);
      for (let r = 0; r < 8; r++) {
        for (let t = 0; t < 16; t++) {
          expect(y.data[r * 16 + t]).toBe((x.data[r * 16 + t]! + 31) % 97);
          if (t > 0) expect(x.data[r * 16 + t]).toBe(y.data[r * 16 + t - 1]);
        }
      }
    }
  });

  it('windows are contiguous runs of the ids, starting anywhere in 0 … n − T − 1', async () => {
    const n = 40;
    const T = 5;
    const ds = tokenWindows(arange(n), { contextLength: T, batchSize: 16, seed: 1, batchesPerEpoch: 50 });
    const seen = new Set<number>();
    for (const b of await pass(ds)) {
      starts(b).forEach((s, r) => {
        seen.add(s);
        for (let t = 0; t < T; t++) {
          expect(b.x.data[r * T + t]).toBe(s + t);
          expect(b.y.data[r * T + t]).toBe(s + t + 1);
        }
      });
    }
    // 800 draws over 35 starts: every start, the last (n − T − 1 = 34) included, and nothing past it
    expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: n - T }, (_, i) => i));
    // exactly T + 1 ids: the one window
    const [only] = await pass(tokenWindows(arange(6), { contextLength: 5, batchSize: 2 }));
    expect(Array.from(only!.x.data)).toEqual([0, 1, 2, 3, 4, 0, 1, 2, 3, 4]);
    expect(Array.from(only!.y.data)).toEqual([1, 2, 3, 4, 5, 1, 2, 3, 4, 5]);
  });

  it('is seeded: the same seed and pass give the same windows, passes and seeds differ, pass k stands alone', async () => {
    const make = (seed: number): ReturnType<typeof tokenWindows> => tokenWindows(arange(10_000), { contextLength: 8, batchSize: 4, seed, batchesPerEpoch: 5 });
    const a = make(42);
    const p0 = (await pass(a)).map(starts);
    const p1 = (await pass(a)).map(starts);
    expect(a.iteration).toBe(2);
    expect(p1).not.toEqual(p0);
    expect((await pass(make(42))).map(starts)).toEqual(p0);
    expect((await pass(make(43))).map(starts)).not.toEqual(p0);
    // a fresh pipeline resumed at pass 1 (e.g. after a restart) sees pass 1's windows
    const resumed = make(42);
    resumed.iteration = 1;
    expect((await pass(resumed)).map(starts)).toEqual(p1);
    expect((await pass(make(42).iterate(1))).map(starts)).toEqual(p1);
    // the default seed is 0
    const d = tokenWindows(arange(10_000), { contextLength: 8, batchSize: 4, batchesPerEpoch: 5 });
    expect((await pass(d)).map(starts)).toEqual((await pass(make(0))).map(starts));
  });

  it("'sequential' covers the ids once with non-overlapping windows, in order, every pass", async () => {
    const ds = tokenWindows(arange(103), { contextLength: 10, batchSize: 4, sampling: 'sequential' });
    // 102 targets → 10 windows of 10 → batches of 4, 4, 2
    expect(ds.size).toBe(3);
    const batches = await pass(ds);
    expect(batches.map((b) => b.x.shape)).toEqual([
      [4, 10],
      [4, 10],
      [2, 10],
    ]);
    expect(batches.flatMap(starts)).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
    expect(batches[2]!.y.data[19]).toBe(100);
    expect((await pass(ds)).flatMap(starts)).toEqual(batches.flatMap(starts));
    const dropped = tokenWindows(arange(103), { contextLength: 10, batchSize: 4, sampling: 'sequential', dropRemainder: true });
    expect(dropped.size).toBe(2);
    expect((await pass(dropped)).length).toBe(2);
  });

  it('copies the ids: later changes to the array do not reach the dataset', async () => {
    const ids = arange(20);
    const ds = tokenWindows(ids, { contextLength: 4, batchSize: 1, sampling: 'sequential' });
    ids.fill(7);
    expect(Array.from((await pass(ds))[0]!.x.data)).toEqual([0, 1, 2, 3]);
    // number[] works too
    const [b] = await pass(tokenWindows([3, 1, 4, 1, 5], { contextLength: 4, batchSize: 1 }));
    expect(Array.from(b!.y.data)).toEqual([1, 4, 1, 5]);
  });

  it('rejects bad input with an AxonError before allocating', () => {
    const ids = arange(100);
    const cases: [() => unknown, RegExp][] = [
      [() => tokenWindows(ids, { contextLength: 0, batchSize: 2 }), /tokenWindows: expected contextLength to be an integer ≥ 1, got 0/],
      [() => tokenWindows(ids, { contextLength: 2.5, batchSize: 2 }), /contextLength to be an integer/],
      [() => tokenWindows(ids, { contextLength: 4, batchSize: 0 }), /batchSize to be an integer ≥ 1/],
      [() => tokenWindows(ids, { contextLength: 100, batchSize: 2 }), /100 token ids are too few for a window of contextLength 100: a window and its targets need 101/],
      [() => tokenWindows(ids, { contextLength: 4, batchSize: 2, seed: Number.NaN }), /finite number as seed/],
      [() => tokenWindows(ids, { contextLength: 4, batchSize: 2, sampling: 'shuffled' as 'random' }), /sampling 'random' or 'sequential', got 'shuffled'/],
      [() => tokenWindows(ids, { contextLength: 4, batchSize: 2, batchesPerEpoch: 0 }), /batchesPerEpoch to be an integer ≥ 1/],
      [() => tokenWindows(ids, { contextLength: 4, batchSize: 2, sampling: 'sequential', batchesPerEpoch: 3 }), /batchesPerEpoch applies to 'random' sampling/],
      [() => tokenWindows(ids, { contextLength: 4, batchSize: 2, vocabSize: 50 }), /token id 50 at index 50 is not an integer in \[0, 50\) \(the vocabulary size\)/],
      [() => tokenWindows([1, 2, -1, 4, 5, 6], { contextLength: 2, batchSize: 1 }), /token id -1 at index 2/],
      [() => tokenWindows([1, 2, 1.5, 4, 5, 6], { contextLength: 2, batchSize: 1 }), /token id 1.5 at index 2/],
      [() => tokenWindows(new Float32Array([1, Number.NaN, 3, 4]), { contextLength: 2, batchSize: 1 }), /token id NaN at index 1/],
      [() => tokenWindows('abcdef' as unknown as number[], { contextLength: 2, batchSize: 1 }), /expected token ids as an Int32Array or number\[\]/],
      [() => tokenWindows(ids, null as unknown as { contextLength: number; batchSize: number }), /expected options/],
      [() => tokenWindows(ids, { contextLength: 2 ** 15, batchSize: 2 ** 14 }), /over the limit of 2\^28/],
    ];
    for (const [f, msg] of cases) {
      expect(f).toThrowError(AxonError);
      expect(f).toThrowError(msg);
    }
  });

  it('leaks no tensors: toTensors batches, disposed by the consumer, and an early stop', async () => {
    const before = memory();
    const ds = tokenWindows(arange(2000), { contextLength: 16, batchSize: 8, seed: 5 });
    let n = 0;
    for await (const { x, y } of ds.toTensors()) {
      expect(x.dtype).toBe('int32');
      expect(x.shape).toEqual([8, 16]);
      const [xs, ys] = [x.dataSync(), y.dataSync()];
      expect(ys[0]).toBe(xs[0]! + 1);
      x.dispose();
      y.dispose();
      n++;
    }
    expect(n).toBe(ds.size);
    for await (const { x, y } of ds.toTensors()) {
      x.dispose();
      y.dispose();
      break;
    }
    expect(memory().numTensors).toBe(before.numTensors);
    expect(memory().numBytes).toBe(before.numBytes);
  });

  it('is an indexed batch source as fit takes it (iteration, iterate(k), { x, y } batches)', async () => {
    const ds = tokenWindows(arange(100), { contextLength: 4, batchSize: 2 });
    expect(typeof ds.iterate).toBe('function');
    expect(ds.iteration).toBe(0);
    expect(typeof ds[Symbol.asyncIterator]).toBe('function');
    const [b] = await pass(ds.iterate(0));
    expect(Object.keys(b!).sort()).toEqual(['x', 'y']);
  });
});

describe('splitTokens', () => {
  it('splits by position into fresh arrays', () => {
    const ids = arange(10);
    const [train, val] = splitTokens(ids, 0.9);
    expect(Array.from(train!)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(Array.from(val!)).toEqual([9]);
    train![0] = 99;
    expect(ids[0]).toBe(0);
    expect(splitTokens([5, 6, 7, 8, 9], [2, 3]).map((p) => Array.from(p))).toEqual([
      [5, 6],
      [7, 8, 9],
    ]);
    expect(splitTokens(arange(10), [0.5, 0.3, 0.2]).map((p) => p.length)).toEqual([5, 3, 2]);
  });

  it('rejects bad parts and ids with an AxonError', () => {
    expect(() => splitTokens(arange(10), 1.5)).toThrowError(/splitTokens: expected a fraction in \[0, 1\]/);
    expect(() => splitTokens(arange(10), [8, 8])).toThrowError(/add up to 16, more than the 10 elements/);
    expect(() => splitTokens([1, -2], 0.5)).toThrowError(/splitTokens: token id -2 at index 1/);
    expect(() => splitTokens({} as number[], 0.5)).toThrowError(AxonError);
  });
});
