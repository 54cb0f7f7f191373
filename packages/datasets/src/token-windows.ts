import { AxonError, fmtValue } from '@axon/core';
import { checkCount, Dataset, splitCounts } from './dataset.js';
import { checkSeed, epochKey, randIndex } from './random.js';
import type { HostBatch } from './types.js';

/**
 * Options of {@link tokenWindows}.
 *
 * @example
 * ```ts
 * const opts: TokenWindowOptions = { contextLength: 4, batchSize: 2, seed: 1, batchesPerEpoch: 10 };
 * tokenWindows(Int32Array.from({ length: 100 }, (_, i) => i % 7), opts).size; // 10
 * ```
 */
export interface TokenWindowOptions {
  /** Tokens per window, `T` (an integer ≥ 1); the ids need at least `T + 1` tokens. */
  contextLength: number;
  /** Windows per batch, `B` (an integer ≥ 1). */
  batchSize: number;
  /** Seed of the random window starts (default 0); unused by `'sequential'`. */
  seed?: number;
  /**
   * `'random'` (default): every window starts at a position drawn uniformly from `0 … n − T − 1`,
   * from a stream keyed by (seed, pass index, batch index), so pass `k` is the same on every run
   * and each pass draws new windows. `'sequential'`: the non-overlapping windows starting at
   * `0, T, 2T, …` in order, the same every pass (for validation: every token is scored once).
   */
  sampling?: 'random' | 'sequential';
  /**
   * Batches per pass with `'random'` sampling (default: `⌊(n − 1) / (B·T)⌋`, at least 1 — about
   * as many target tokens as the ids hold).
   */
  batchesPerEpoch?: number;
  /** With `'sequential'`, drop a last batch that has fewer than `batchSize` windows (default false). */
  dropRemainder?: boolean;
  /** When given, every id must be an integer in `[0, vocabSize)`; checked once, up front. */
  vocabSize?: number;
}

/**
 * A batch of {@link tokenWindows}: `x` int32 `[B, T]` (contexts) and `y` int32 `[B, T]`, the
 * same windows shifted by one token (`y[b][t]` is the token after `x[b][t]`).
 *
 * @example
 * ```ts
 * const [b]: TokenBatch[] = await tokenWindows([5, 6, 7, 8], { contextLength: 3, batchSize: 1, sampling: 'sequential' }).toArray();
 * b.x; // { data: [5, 6, 7], shape: [1, 3], dtype: 'int32' }
 * b.y; // { data: [6, 7, 8], shape: [1, 3], dtype: 'int32' }
 * ```
 */
export type TokenBatch = HostBatch<'x' | 'y'>;

/**
 * The most token ids {@link tokenWindows} and {@link splitTokens} take (2^31 − 1): positions are
 * int32, and the copy they make is 4 bytes per id.
 *
 * @example
 * ```ts
 * MAX_TOKEN_IDS; // 2147483647
 * ```
 */
export const MAX_TOKEN_IDS = 2 ** 31 - 1;

/**
 * @internal Token ids as a fresh Int32Array, each checked: an integer ≥ 0 (and < vocabSize when
 * given). Every id is checked before the copy is allocated, so bad input (a sparse or hostile
 * array of 2^31 holes) costs no memory.
 */
export function toIdArray(op: string, ids: unknown, vocabSize?: number): Int32Array {
  const ok = Array.isArray(ids) || (ArrayBuffer.isView(ids) && !(ids instanceof DataView) && !(ids instanceof BigInt64Array) && !(ids instanceof BigUint64Array));
  if (!ok) throw new AxonError(op, `expected token ids as an Int32Array or number[], got ${fmtValue(ids)}`);
  const a = ids as ArrayLike<unknown>;
  const n = a.length;
  if (n > MAX_TOKEN_IDS) throw new AxonError(op, `${n} token ids are more than the limit of ${MAX_TOKEN_IDS} (MAX_TOKEN_IDS: positions are int32); split the ids first`);
  const hi = vocabSize ?? 2 ** 31;
  for (let i = 0; i < n; i++) {
    const v = a[i];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= hi) {
      throw new AxonError(op, `token id ${fmtValue(v)} at index ${i} is not an integer in [0, ${hi})${vocabSize === undefined ? '' : ' (the vocabulary size)'}`);
    }
  }
  const out = new Int32Array(n); // only now: every id is a valid int32
  out.set(a as ArrayLike<number>);
  return out;
}

/**
 * A language-modelling dataset over a sequence of token ids: batches of `B` windows of `T`
 * tokens (`x`, int32 `[B, T]`) with their next-token targets (`y`, int32 `[B, T]`, `x` shifted by
 * one). It is a {@link Dataset} of {@link TokenBatch}es, so `model.fit(ds, …)` takes it (each
 * pass is an epoch; `fit` turns the host batches into tensors and disposes them), and
 * `.toTensors()` yields tensors for a hand-written loop. Passes are numbered and reproducible:
 * pass `k` draws its windows from (seed, `k`), whether or not passes `0…k−1` ran. The ids are
 * copied (and checked) once; no tensor is made until a batch is converted.
 *
 * @example
 * ```ts
 * const ids = Int32Array.from({ length: 1000 }, (_, i) => (i * 7) % 50);
 * const train = tokenWindows(ids, { contextLength: 8, batchSize: 4, seed: 0 });
 * train.size; // 31
 * const [first] = await train.take(1).toArray();
 * first.x.shape; // [4, 8]
 * first.y.data[0] === (first.x.data[0] + 7) % 50; // true
 * // a validation set: every window once, in order (100 ids: 12 windows of 8 tokens, 3 batches)
 * const val = tokenWindows(ids.subarray(900), { contextLength: 8, batchSize: 4, sampling: 'sequential' });
 * val.size; // 3
 * const shapes: number[][] = [];
 * for await (const { x, y } of val.toTensors()) {
 *   shapes.push([...x.shape, ...y.shape]);
 *   x.dispose(); y.dispose(); // the consumer owns tensor batches
 * }
 * shapes; // [[4, 8, 4, 8], [4, 8, 4, 8], [4, 8, 4, 8]]
 * ```
 */
export function tokenWindows(ids: ArrayLike<number>, options: TokenWindowOptions): Dataset<TokenBatch> {
  const op = 'tokenWindows';
  if (options === null || typeof options !== 'object') throw new AxonError(op, `expected options { contextLength, batchSize, … }, got ${fmtValue(options)}`);
  const { contextLength: T, batchSize: B, seed = 0, sampling = 'random', dropRemainder = false, vocabSize } = options;
  checkCount(op, 'contextLength', T, 1);
  checkCount(op, 'batchSize', B, 1);
  checkSeed(op, seed);
  if (sampling !== 'random' && sampling !== 'sequential') throw new AxonError(op, `expected sampling 'random' or 'sequential', got ${fmtValue(sampling)}`);
  if (vocabSize !== undefined) checkCount(op, 'vocabSize', vocabSize, 1);
  if (typeof dropRemainder !== 'boolean') throw new AxonError(op, `expected dropRemainder to be a boolean, got ${fmtValue(dropRemainder)}`);
  if (B * T > 2 ** 28) throw new AxonError(op, `batchSize × contextLength = ${B * T} tokens per batch is over the limit of 2^28`);
  const len = (ids as { length?: unknown } | null)?.length;
  if (typeof len === 'number' && Number.isInteger(len) && len < T + 1) {
    throw new AxonError(op, `${len} token ids are too few for a window of contextLength ${T}: a window and its targets need ${T + 1}`);
  }
  if (options.batchesPerEpoch !== undefined) {
    checkCount(op, 'batchesPerEpoch', options.batchesPerEpoch, 1);
    if (sampling !== 'random') throw new AxonError(op, `batchesPerEpoch applies to 'random' sampling; 'sequential' passes cover the ids once`);
  }
  const data = toIdArray(op, ids, vocabSize);
  const n = data.length;
  if (n < T + 1) throw new AxonError(op, `${n} token ids are too few for a window of contextLength ${T}: a window and its targets need ${T + 1}`);

  const fill = (starts: ArrayLike<number>, count: number): TokenBatch => {
    const x = new Int32Array(count * T);
    const y = new Int32Array(count * T);
    for (let r = 0; r < count; r++) {
      const s = starts[r];
      x.set(data.subarray(s, s + T), r * T);
      y.set(data.subarray(s + 1, s + T + 1), r * T);
    }
    return { x: { data: x, shape: [count, T], dtype: 'int32' }, y: { data: y, shape: [count, T], dtype: 'int32' } };
  };

  if (sampling === 'sequential') {
    const windows = Math.floor((n - 1) / T);
    const batches = dropRemainder ? Math.floor(windows / B) : Math.ceil(windows / B);
    return new Dataset<TokenBatch>(function* () {
      const starts = new Int32Array(B);
      for (let k = 0; k < batches; k++) {
        const count = Math.min(B, windows - k * B);
        for (let r = 0; r < count; r++) starts[r] = (k * B + r) * T;
        yield fill(starts, count);
      }
    }, batches);
  }

  const batches = options.batchesPerEpoch ?? Math.max(1, Math.floor((n - 1) / (B * T)));
  const choices = n - T; // starts 0 … n − T − 1
  return new Dataset<TokenBatch>(function* (iteration) {
    const key = epochKey(seed, iteration);
    const starts = new Int32Array(B);
    for (let k = 0; k < batches; k++) {
      // counter k·B + r, taken mod 2^32 by the generator; batches past 2^32 / B wrap around
      for (let r = 0; r < B; r++) starts[r] = randIndex(key, (k * B + r) % 4294967296, choices);
      yield fill(starts, B);
    }
  }, batches);
}

/**
 * Splits token ids by position (no shuffling, so no window of one part overlaps another's text):
 * a fraction gives `[first fraction, the rest]`, an array of fractions or counts one part each,
 * in order — e.g. `splitTokens(ids, 0.9)` for the usual 90 % train / 10 % validation split. The
 * parts are fresh `Int32Array`s.
 *
 * @example
 * ```ts
 * const ids = Int32Array.from({ length: 10 }, (_, i) => i);
 * const [train, val] = splitTokens(ids, 0.8);
 * train; // [0, 1, 2, 3, 4, 5, 6, 7]
 * val; // [8, 9]
 * splitTokens([1, 2, 3, 4, 5], [2, 2, 1]); // [[1, 2], [3, 4], [5]]
 * splitTokens([1, 2, 3], 1.5); // throws
 * ```
 */
export function splitTokens(ids: ArrayLike<number>, parts: number | readonly number[]): Int32Array[] {
  const op = 'splitTokens';
  const data = toIdArray(op, ids);
  const counts = splitCounts(op, parts, data.length);
  let at = 0;
  return counts.map((c) => {
    const part = data.slice(at, at + c);
    at += c;
    return part;
  });
}
