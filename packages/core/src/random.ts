/**
 * Axon's counter-based random generator — the normative reference every backend matches.
 *
 * Element `i` of a draw with key `k` starting at counter `c` is built from
 * `hash32(k, (c + i) mod 2^32)`. There is no hidden state in a backend: the same key and
 * counter give the same bits on every backend and in every order of evaluation.
 */

/** murmur3's 32-bit finaliser. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The generator's hash: a 32-bit word from a key and a counter (both taken mod 2^32).
 * @example
 * hash32(42, 0) // 1118759432
 * hash32(42, 1) // 3351610621
 * hash32(42 + 2 ** 32, 0) // 1118759432
 */
export function hash32(key: number, counter: number): number {
  const k = key >>> 0;
  let h = (Math.imul(counter >>> 0, 0x9e3779b1) ^ k) >>> 0;
  h = fmix32(h);
  h = fmix32((h + k) >>> 0 ^ 0x5bd1e995);
  return h;
}

/** 2^-24 */
const INV24 = 1 / 16777216;

/**
 * A uniform float in [0, 1) with 24 random bits (exact in float32): the word's top 24 bits / 2^24.
 * @example
 * unitFromBits(0) // 0
 * unitFromBits(0x80000000) // 0.5
 * unitFromBits(0xffffffff) < 1 // true
 */
export function unitFromBits(h: number): number {
  return (h >>> 8) * INV24;
}

/**
 * Reference values of {@link Backend.random} computed in float64 and rounded to float32
 * (normal's log/cos may differ from a backend's float32 by a few ulps).
 * @example
 * // what rand([2], { seed: 1 }) draws on every backend:
 * Array.from(referenceRandom('uniform', seedToKey(1), 0, 0, 1, 2)) // [0.3214, 0.4726]
 * rand([2], { seed: 1 }) // [0.3214, 0.4726]
 */
export function referenceRandom(
  kind: 'uniform' | 'normal' | 'bernoulli' | 'randint',
  key: number,
  counter: number,
  a: number,
  b: number,
  size: number,
): Float64Array {
  const out = new Float64Array(size);
  for (let i = 0; i < size; i++) {
    if (kind === 'normal') {
      const u1 = ((hash32(key, counter + 2 * i) >>> 8) + 1) * INV24;
      const u2 = unitFromBits(hash32(key, counter + 2 * i + 1));
      const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
      out[i] = a + b * z;
    } else {
      const u = unitFromBits(hash32(key, counter + i));
      if (kind === 'uniform') out[i] = Math.fround(a + Math.fround(Math.fround(b - a) * u));
      else if (kind === 'bernoulli') out[i] = u < a ? 1 : 0;
      else out[i] = a + Math.floor(u * (b - a));
    }
  }
  return out;
}

/**
 * Derives a stream key from a user seed (any integer).
 * @example
 * seedToKey(42) // 3097153109
 * seedToKey(42.9) === seedToKey(42) // true
 */
export function seedToKey(seed: number): number {
  return fmix32((Math.floor(seed) ^ 0x2545f491) >>> 0);
}
