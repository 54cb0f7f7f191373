// Fuzz findings on the text data (issue 13): nothing large is allocated for input that is then
// refused, and a tiny tokenizer JSON cannot ask for unbounded memory.
import { describe, expect, it } from 'vitest';
import { AxonError } from '@axon/core';
import { MAX_TOKEN_IDS, splitTokens, tokenWindows } from '../src/index.js';
import { typedAllocations } from './allocations.js';

const MiB = 2 ** 20;
const total = (bytes: number[]): number => bytes.reduce((a, b) => a + b, 0);

describe('token ids are checked before they are copied', () => {
  it('a sparse array of 2^25 holes is refused at index 0 without allocating the 128 MiB copy', () => {
    const holes = new Array<number>(2 ** 25);
    const calls: [string, () => unknown][] = [
      ['splitTokens', () => splitTokens(holes, 0.5)],
      ['tokenWindows', () => tokenWindows(holes, { contextLength: 4, batchSize: 2 })],
    ];
    for (const [op, f] of calls) {
      const { bytes, error } = typedAllocations(f);
      expect(error).toBeInstanceOf(AxonError);
      expect(String(error)).toMatch(new RegExp(`${op}: token id undefined at index 0 is not an integer in \\[0, 2147483648\\)`));
      expect(total(bytes), `${op} allocated before checking`).toBeLessThan(MiB);
    }
  });

  it('a bad id at the end of 2^22 good ones is found before the copy is made', () => {
    const ids = new Uint8Array(2 ** 22).fill(3);
    const bad = Array.from(ids);
    bad[bad.length - 1] = -1;
    const { bytes, error } = typedAllocations(() => splitTokens(bad, 0.5));
    expect(String(error)).toMatch(/splitTokens: token id -1 at index 4194303/);
    expect(total(bytes)).toBeLessThan(MiB);
    // good ids are copied, 4 bytes each
    const ok = typedAllocations(() => splitTokens(ids, 0.5));
    expect(ok.error).toBeUndefined();
    expect(Math.max(...ok.bytes)).toBe(4 * ids.length);
  });

  it('more than MAX_TOKEN_IDS ids (2^31 − 1: positions are int32) is an AxonError, before anything is read', () => {
    expect(MAX_TOKEN_IDS).toBe(2 ** 31 - 1);
    const huge = new Array<number>(2 ** 31);
    for (const f of [() => splitTokens(huge, 0.5), () => tokenWindows(huge, { contextLength: 4, batchSize: 2 })]) {
      const { bytes, error } = typedAllocations(f);
      expect(error).toBeInstanceOf(AxonError);
      expect(String(error)).toMatch(/: 2147483648 token ids are more than the limit of 2147483647 \(MAX_TOKEN_IDS: positions are int32\)/);
      expect(bytes).toEqual([]);
    }
  });
});
