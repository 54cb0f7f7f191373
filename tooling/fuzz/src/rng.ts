import { hash32, seedToKey, unitFromBits } from '@axon/core';

/** A seeded stream of uniform numbers for generating fuzz cases: core's counter-based generator. */
export class Rng {
  private readonly key: number;
  private counter = 0;
  constructor(seed: number) {
    this.key = seedToKey(seed);
  }
  /** A float in [0, 1). */
  next(): number {
    return unitFromBits(hash32(this.key, this.counter++));
  }
  /**
   * An integer in [lo, hi). A draw has 24 random bits, so a wider range takes two draws (48 bits):
   * one draw scaled to 2^30 would give only multiples of 64, and `x % n` would then miss residues.
   */
  int(lo: number, hi: number): number {
    const n = hi - lo;
    if (n <= 2 ** 24) return lo + Math.floor(this.next() * n);
    return lo + Math.floor((this.next() + this.next() * 2 ** -24) * n);
  }
  /** One element of `xs`. */
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(0, xs.length)]!;
  }
}

/** The run seed: `AXON_FUZZ_SEED` when set, else a fixed default so CI is reproducible. */
export function fuzzSeed(): number {
  const env = typeof process !== 'undefined' ? process.env.AXON_FUZZ_SEED : undefined;
  return env !== undefined && env !== '' ? Number(env) : 20261206;
}

/** How many times the default case counts to run (`AXON_FUZZ_SCALE`, default 1; on demand more). */
export function fuzzScale(): number {
  const env = typeof process !== 'undefined' ? process.env.AXON_FUZZ_SCALE : undefined;
  const v = env !== undefined && env !== '' ? Number(env) : 1;
  return Number.isFinite(v) && v > 0 ? v : 1;
}
