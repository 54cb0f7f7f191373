import { hash32, seedToKey } from '@axon/core';
import { AxonError, fmtValue } from '@axon/core';

/**
 * @internal The stream key for `seed` in pass `epoch` (any integer in [0, 2^53)). Passes below
 * 2^32 use the original derivation; higher words (endless `repeat()`) are mixed into the key.
 */
export function epochKey(seed: number, epoch: number): number {
  const hi = Math.floor(epoch / 4294967296);
  const base = hi === 0 ? seedToKey(seed) : hash32(seedToKey(seed), 0x3c6ef372 ^ hi);
  return hash32(base, 0x6a09e667 + (epoch >>> 0));
}

/** @internal A uniform integer in [0, n) from the stream `key` at `counter`. */
export function randIndex(key: number, counter: number, n: number): number {
  return Math.floor((hash32(key, counter) / 4294967296) * n);
}

/** @internal Fisher–Yates shuffle of `a` in place with stream `key`. */
export function shuffleInPlace(a: Int32Array, key: number): Int32Array {
  for (let i = a.length - 1; i > 0; i--) {
    const j = randIndex(key, i, i + 1);
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
  return a;
}

/**
 * The longest {@link permutation} (2^27 indices, 512 MiB; about a minute to draw): in-memory
 * datasets are shuffled through one, so this is also their largest size.
 * @example MAX_PERMUTATION // 134217728
 */
export const MAX_PERMUTATION = 2 ** 27;

/**
 * A deterministic random permutation of `0..n-1` for `seed` (Fisher–Yates over Axon's
 * counter-based generator, so the same seed gives the same permutation everywhere).
 *
 * @example
 * permutation(5, 42); // [1, 2, 3, 0, 4]
 * // the same on every run and platform; a seed's permutation is also pass 0's order of `shuffle(seed)`
 * permutation(5, 7); // [4, 0, 2, 3, 1]
 */
export function permutation(n: number, seed: number): Int32Array {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > MAX_PERMUTATION) {
    throw new AxonError('permutation', `expected a non-negative integer length of at most ${MAX_PERMUTATION} (2^27), got ${fmtValue(n)}`);
  }
  checkSeed('permutation', seed);
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return shuffleInPlace(a, epochKey(seed, 0));
}

/** @internal */
export function checkSeed(op: string, seed: unknown): asserts seed is number {
  if (typeof seed !== 'number' || !Number.isFinite(seed)) {
    throw new AxonError(op, `expected a finite number as seed, got ${String(seed)}`);
  }
}
