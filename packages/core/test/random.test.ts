import { describe, expect, it } from 'vitest';
import { hash32, referenceRandom, seedToKey } from '../src/index.js';

describe('counter-based PRNG', () => {
  it('is a pure function of key and counter', () => {
    expect(hash32(1, 2)).toBe(hash32(1, 2));
    expect(hash32(1, 2)).not.toBe(hash32(1, 3));
    expect(hash32(1, 2)).not.toBe(hash32(2, 2));
  });
  it('uniform values are roughly uniform and in range', () => {
    const u = referenceRandom('uniform', seedToKey(7), 0, 0, 1, 100_000);
    let mean = 0;
    for (const v of u) {
      expect(v >= 0 && v < 1).toBe(true);
      mean += v;
    }
    mean /= u.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.01);
  });
  it('normal values have mean 0 and std 1', () => {
    const z = referenceRandom('normal', seedToKey(3), 0, 0, 1, 100_000);
    let m = 0, s = 0;
    for (const v of z) m += v;
    m /= z.length;
    for (const v of z) s += (v - m) ** 2;
    s = Math.sqrt(s / z.length);
    expect(Math.abs(m)).toBeLessThan(0.02);
    expect(Math.abs(s - 1)).toBeLessThan(0.02);
  });
  it('randint covers [a, b) evenly', () => {
    const r = referenceRandom('randint', seedToKey(5), 0, 3, 7, 40_000);
    const counts = [0, 0, 0, 0];
    for (const v of r) counts[v - 3]!++;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(500);
  });
});
