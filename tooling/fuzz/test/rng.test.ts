import { expect, it } from 'vitest';
import { Rng } from '../src/rng.js';

it('int over a range wider than one draw reaches every residue (the API cases pick a bad value by int(0, 2^30) % pool size)', () => {
  const r = new Rng(20261206);
  for (const size of [2, 4, 8, 10, 12, 14, 16]) {
    const seen = new Set<number>();
    for (let i = 0; i < 400; i++) seen.add(r.int(0, 2 ** 30) % size);
    expect([...seen].sort((a, b) => a - b), `residues mod ${size}`).toEqual(Array.from({ length: size }, (_, i) => i));
  }
});

it('int stays in [lo, hi)', () => {
  const r = new Rng(1);
  for (const [lo, hi] of [[0, 1], [0, 6], [3, 9], [0, 2 ** 24], [0, 2 ** 30], [-5, 2 ** 31]] as const) {
    for (let i = 0; i < 200; i++) {
      const v = r.int(lo, hi);
      expect(Number.isInteger(v) && v >= lo && v < hi, `${v} in [${lo}, ${hi})`).toBe(true);
    }
  }
});
