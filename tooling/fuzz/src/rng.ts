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
  /** An integer in [lo, hi). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo));
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
