/** A small seeded generator (mulberry32) for generating fuzz cases reproducibly. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  /** A float in [0, 1). */
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
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
