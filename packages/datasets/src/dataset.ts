import { AxonError, type DType, fmtValue } from '@axon/core';
import { batchToTensors, disposeTensorsIn, stackElements, type Tensorized } from './host.js';
import { checkSeed, epochKey, permutation, randIndex } from './random.js';
import type { Batched } from './types.js';

/**
 * What a {@link Dataset} is built from: a function called once per pass (epoch) with the pass
 * index (see {@link Dataset.iteration}), returning a fresh (sync or async) iterator or iterable.
 * A source whose output depends only on that index makes every pass reproducible.
 *
 * @example
 * const src: DatasetSource<number> = function* (iteration) { yield iteration; yield iteration + 1; };
 * const ds = new Dataset(src);
 * await ds.toArray(); // [0, 1]
 * await ds.toArray(); // [1, 2]
 */
export type DatasetSource<T> = (iteration: number) => Iterator<T> | AsyncIterator<T> | Iterable<T> | AsyncIterable<T>;

/**
 * Options of {@link Dataset.batch}.
 *
 * @example
 * ```ts
 * const ds = fromGenerator(() => [{ x: 0.5, y: 0 }, { x: 1.5, y: 1 }, { x: 2.5, y: 1 }]);
 * // streaming numbers stack as float32 unless `dtypes` says otherwise; the partial last batch is dropped
 * const batches = await ds.batch(2, { dropRemainder: true, dtypes: { y: 'int32' } }).toArray();
 * batches.length; // 1
 * batches[0].x; // { data: [0.5, 1.5], shape: [2], dtype: 'float32' }
 * batches[0].y; // { data: [0, 1], shape: [2], dtype: 'int32' }
 * ```
 */
export interface BatchOptions {
  /** Drop the last batch when it has fewer than `size` elements (default false). */
  dropRemainder?: boolean;
  /**
   * dtype of stacked fields: one dtype for all, or one per field name. Numbers stack to
   * float32 by default (int32 for label columns of in-memory datasets, which know their dtype);
   * typed arrays keep theirs (float arrays → float32, integer arrays → int32).
   */
  dtypes?: DType | Readonly<Record<string, DType>>;
}

/**
 * Options of {@link Dataset.shuffle}.
 *
 * @example
 * ```ts
 * const ds = fromGenerator(() => [1, 2, 3, 4, 5]).shuffle(42, undefined, { reshuffleEachIteration: false });
 * const epoch0 = await ds.toArray();
 * const epoch1 = await ds.toArray();
 * // the same order every epoch
 * epoch1.join() === epoch0.join(); // true
 * ```
 */
export interface ShuffleOptions {
  /**
   * Draw a new order on every iteration (epoch) — still deterministic: iteration `k` of a
   * pipeline built with the same seed always sees the same order. Default true. With false,
   * every iteration repeats the first order.
   */
  reshuffleEachIteration?: boolean;
}

/**
 * Options of {@link Dataset.split}.
 *
 * @example
 * ```ts
 * const ds = fromArrays({ x: [[0], [1], [2], [3], [4], [5], [6], [7], [8], [9]] });
 * const [train, val] = ds.split(0.9, { seed: 1 }); // 90% / 10%, drawn at random for seed 1
 * [train.size, val.size]; // [9, 1]
 * ```
 */
export interface SplitOptions {
  /** Shuffle before splitting, deterministically for this seed. Without a seed the parts are consecutive runs. */
  seed?: number;
}

function isIterable(v: unknown): v is Iterable<unknown> {
  return v !== null && typeof v === 'object' && typeof (v as Iterable<unknown>)[Symbol.iterator] === 'function';
}
function isAsyncIterable(v: unknown): v is AsyncIterable<unknown> {
  return v !== null && typeof v === 'object' && typeof (v as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function';
}
function isThenable<U>(v: unknown): v is PromiseLike<U> {
  return v !== null && (typeof v === 'object' || typeof v === 'function') && typeof (v as PromiseLike<U>).then === 'function';
}

/** @internal Adapts whatever a source returns into an AsyncIterator. */
export function toAsyncIterator<T>(op: string, r: unknown): AsyncIterator<T> {
  if (isAsyncIterable(r)) return (r as AsyncIterable<T>)[Symbol.asyncIterator]();
  let it: Iterator<T>;
  if (isIterable(r)) it = (r as Iterable<T>)[Symbol.iterator]();
  else if (r !== null && typeof r === 'object' && typeof (r as Iterator<T>).next === 'function') it = r as Iterator<T>;
  else throw new AxonError(op, `the source must return an iterator or iterable (e.g. a generator), got ${r === null ? 'null' : typeof r}`);
  // Async iterators returned by async generator functions are also plain iterators with a promise-returning next().
  return {
    next: () => Promise.resolve(it.next()),
    return: (value?: unknown) => {
      if (typeof it.return === 'function') it.return(value as T);
      return Promise.resolve({ done: true, value: undefined as T });
    },
  };
}

/** @internal Checks a pass index: a non-negative safe integer. */
export function checkIteration(op: string, iteration: unknown): asserts iteration is number {
  if (typeof iteration !== 'number' || !Number.isSafeInteger(iteration) || iteration < 0) {
    throw new AxonError(op, `expected the iteration (pass index) to be an integer in [0, 2^53), got ${String(iteration)}`);
  }
}

/** @internal */
export function checkCount(op: string, what: string, n: unknown, min = 0): asserts n is number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min) {
    throw new AxonError(op, `expected ${what} to be an integer ≥ ${min}, got ${String(n)}`);
  }
}

/** @internal Turns split fractions or counts into element counts for a dataset of `n` elements. */
export function splitCounts(op: string, parts: number | readonly number[], n: number): number[] {
  const bad = (): never => {
    throw new AxonError(op, `expected a fraction in [0, 1] or an array of non-negative fractions or counts, got ${fmtValue(parts)}`);
  };
  if (typeof parts !== 'number' && !Array.isArray(parts)) bad();
  const list = typeof parts === 'number' ? [parts, 1 - parts] : [...parts];
  if (list.length < 1 || list.some((p) => typeof p !== 'number' || !Number.isFinite(p) || p < 0)) bad();
  const sum = list.reduce((a, b) => a + b, 0);
  const counts = list.every((p) => Number.isInteger(p)) && sum > 1;
  if (counts) {
    if (sum > n) throw new AxonError(op, `counts [${list.join(', ')}] add up to ${sum}, more than the ${n} elements of the dataset`);
    return list;
  }
  if (sum > 1 + 1e-9) throw new AxonError(op, `fractions [${list.join(', ')}] add up to ${sum}; expected at most 1 (or integer counts)`);
  const out = list.map((f) => Math.round(f * n));
  // Fractions that cover the whole dataset give the rest to the last part, so nothing is lost to rounding.
  if (Math.abs(sum - 1) < 1e-9) out[out.length - 1] = n - out.slice(0, -1).reduce((a, b) => a + b, 0);
  if (out[out.length - 1] < 0) out[out.length - 1] = 0;
  return out;
}

/**
 * A lazy, re-iterable sequence of elements — the input pipeline of Axon. Build one with
 * {@link fromArrays}, {@link fromTensors}, {@link fromCsv}, {@link fromGenerator} or
 * {@link loadMnistDataset}; chain `shuffle`, `map`, `batch`, … (each returns a new dataset and
 * leaves this one unchanged); consume it with `for await`. Every `for await` is one pass (epoch).
 *
 * In-memory datasets ({@link ArrayDataset}) keep their data in typed arrays and implement
 * `shuffle`, `take`, `skip`, `split` and `batch` with index permutations and row copies, so an
 * epoch of MNIST costs milliseconds. Generic datasets stream element by element.
 *
 * @example
 * ```ts
 * // 10 tiny 2×2 "images" with labels 0..4
 * const images = new Float32Array(10 * 2 * 2).map((_, i) => i / 40);
 * const labels = Int32Array.from({ length: 10 }, (_, i) => i % 5);
 * const ds = fromArrays({ x: { data: images, shape: [10, 2, 2] }, y: labels }).shuffle(42).batch(4).toTensors();
 * const shapes: number[][] = [];
 * for await (const { x, y } of ds) {
 *   shapes.push([...x.shape]); // ... train on x: float32 [4, 2, 2], y: int32 [4] ...
 *   x.dispose(); y.dispose(); // the consumer owns tensor batches
 * }
 * shapes; // [[4, 2, 2], [4, 2, 2], [2, 2, 2]]
 * ```
 */
export class Dataset<T> implements AsyncIterable<T> {
  /** Number of elements when known (`Infinity` after an endless `repeat()`), else `undefined`. */
  readonly size: number | undefined;
  private readonly source: DatasetSource<T> | undefined;
  private nextIteration = 0;

  /**
   * Low-level constructor; prefer {@link fromGenerator}. `source` is called once per pass, with
   * the pass index.
   * @example
   * const ds = new Dataset((iteration) => [iteration, 1, 2], 3);
   * ds.size; // 3
   * await ds.toArray(); // [0, 1, 2]
   * await ds.toArray(); // [1, 1, 2]
   */
  constructor(source: DatasetSource<T> | undefined, size?: number) {
    this.source = source;
    this.size = size;
  }

  /** Opens pass `iteration` over the elements; subclasses override. */
  protected open(iteration: number): Iterator<T> | AsyncIterator<T> | Iterable<T> | AsyncIterable<T> {
    if (!this.source) throw new AxonError('Dataset', 'this dataset has no source');
    return this.source(iteration);
  }

  /**
   * The index of the pass (epoch) that the next `for await (const el of ds)` runs: 0 for a new
   * dataset, one more after each `for await`. Set it (a non-negative integer) to make the next
   * pass that one — e.g. to resume training at epoch `k` with a freshly built pipeline:
   * pass `k` of a pipeline built from deterministic sources is the same whether or not passes
   * `0..k-1` ran. {@link Dataset.iterate} reads a pass without moving this counter.
   *
   * @example
   * ```ts
   * const ds = fromGenerator((iteration) => [10 * iteration, 10 * iteration + 1]);
   * ds.iteration; // 0
   * await ds.toArray(); // [0, 1]
   * ds.iteration; // 1
   * ds.iteration = 3; // resume: the next pass is epoch 3 (e.g. after a restart)
   * await ds.toArray(); // [30, 31]
   * ds.iteration; // 4
   * ```
   */
  get iteration(): number {
    return this.nextIteration;
  }

  set iteration(iteration: number) {
    checkIteration('Dataset.iteration', iteration);
    this.nextIteration = iteration;
  }

  /**
   * Pass number `iteration` (an epoch index) of this dataset, without touching
   * {@link Dataset.iteration}. For datasets built by this package from deterministic sources, a
   * pass is a pure function of the pipeline and the index: shuffle orders, splits and
   * augmentations of pass `k` are the same on every run, whether or not other passes ran, and
   * however often pass `k` is read. `for await (const el of ds)` is `ds.iterate(ds.iteration++)`.
   *
   * @example
   * ```ts
   * const ds = fromGenerator(() => [1, 2, 3, 4, 5]).shuffle(1);
   * const epoch2: number[] = [];
   * for await (const v of ds.iterate(2)) epoch2.push(v);
   * epoch2; // [3, 4, 5, 1, 2]
   * ds.iteration; // 0
   * // a for-await that reaches pass 2 sees exactly the same order
   * ds.iteration = 2;
   * await ds.toArray(); // [3, 4, 5, 1, 2]
   * ```
   */
  iterate(iteration: number): AsyncIterable<T> {
    checkIteration('Dataset.iterate', iteration);
    return { [Symbol.asyncIterator]: () => toAsyncIterator<T>('Dataset', this.open(iteration)) };
  }

  /**
   * Starts the next pass (epoch) over the dataset: `for await (const el of ds)` runs pass
   * {@link Dataset.iteration} and advances it by one.
   * @example
   * ```ts
   * const ds = fromGenerator(() => [1, 2, 3]);
   * const seen: number[] = [];
   * for await (const el of ds) seen.push(el);
   * seen; // [1, 2, 3]
   * ds.iteration; // 1
   * ```
   */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    const i = this.nextIteration;
    if (i >= Number.MAX_SAFE_INTEGER) throw new AxonError('Dataset', 'the iteration counter reached 2^53 - 1');
    this.nextIteration = i + 1;
    return toAsyncIterator<T>('Dataset', this.open(i));
  }

  /**
   * Collects one pass into an array (for small or finite datasets).
   * @example
   * await fromGenerator(() => [1, 2, 3]).map((v) => v * 2).toArray(); // [2, 4, 6]
   */
  async toArray(): Promise<T[]> {
    if (this.size === Infinity) throw new AxonError('Dataset.toArray', 'the dataset is endless (repeat() without a count); take(n) first');
    const out: T[] = [];
    try {
      for await (const v of this) out.push(v);
    } catch (e) {
      // Nobody will receive the elements collected so far: free their tensors.
      for (const v of out) disposeTensorsIn(v);
      throw e;
    }
    return out;
  }

  /**
   * Applies `fn` to every element (lazily, in order). `fn` may be async. It receives the element,
   * its index in the pass, and the pass index ({@link Dataset.iteration}), so a random transform
   * can draw from a stream keyed by (seed, iteration, index) and stay reproducible per pass (as
   * {@link augmentImages} does).
   * @example
   * ```ts
   * const ds = fromGenerator(() => [{ x: new Float32Array([0, 255]), y: 1 }, { x: new Float32Array([51, 102]), y: 0 }]);
   * await ds.map(({ x, y }) => ({ x: x.map((v) => v / 255), y })).toArray(); // [{ x: [0, 1], y: 1 }, { x: [0.2, 0.4], y: 0 }]
   * const tagged = ds.map((el, index, iteration) => `pass ${iteration}, element ${index}`);
   * await tagged.toArray(); // ['pass 0, element 0', 'pass 0, element 1']
   * await tagged.toArray(); // ['pass 1, element 0', 'pass 1, element 1']
   * ```
   */
  map<U>(fn: (element: T, index: number, iteration: number) => U | Promise<U>): Dataset<U> {
    if (typeof fn !== 'function') throw new AxonError('Dataset.map', `expected a function, got ${typeof fn}`);
    const parent = this as Dataset<T>;
    return new Dataset<U>(async function* (iteration) {
      let i = 0;
      for await (const v of parent.iterate(iteration)) {
        const r = fn(v, i++, iteration);
        yield isThenable<U>(r) ? await r : r;
      }
    }, this.size);
  }

  /**
   * Keeps the elements for which `pred` returns true. The size becomes unknown. Tensors in
   * elements that are dropped are disposed (nobody downstream receives them).
   * @example
   * ```ts
   * const ds = fromGenerator(() => [{ x: 1, y: 0 }, { x: 2, y: 3 }, { x: 3, y: 1 }], { size: 3 });
   * const kept = ds.filter(({ y }) => y !== 0);
   * await kept.toArray(); // [{ x: 2, y: 3 }, { x: 3, y: 1 }]
   * kept.size; // undefined
   * ```
   */
  filter(pred: (element: T, index: number, iteration: number) => boolean | Promise<boolean>): Dataset<T> {
    if (typeof pred !== 'function') throw new AxonError('Dataset.filter', `expected a predicate function, got ${typeof pred}`);
    const parent = this as Dataset<T>;
    return new Dataset<T>(async function* (iteration) {
      let i = 0;
      for await (const v of parent.iterate(iteration)) {
        const r = pred(v, i++, iteration);
        if (isThenable<boolean>(r) ? await r : r) yield v;
        else disposeTensorsIn(v);
      }
    }, undefined);
  }

  /**
   * Groups consecutive elements into batches of `size`. Numbers, typed arrays, HostTensors and
   * plain objects of those are stacked into {@link HostTensor}s with the batch dimension first
   * (see {@link Batched}); other elements are batched as arrays. The last batch may be smaller
   * unless `dropRemainder` is set. Chain {@link Dataset.toTensors} to get Axon tensors.
   *
   * @example
   * ```ts
   * const ds = fromArrays({ x: [[1, 2], [3, 4], [5, 6]], y: [0, 1, 0] });
   * const [first, last] = await ds.batch(2).toArray();
   * first.x; // { data: [1, 2, 3, 4], shape: [2, 2], dtype: 'float32' }
   * last.y; // { data: [0], shape: [1], dtype: 'int32' }
   * (await ds.batch(2, { dropRemainder: true }).toArray()).length; // 1
   * // streaming numbers stack into float32 HostTensors
   * await fromGenerator(() => [1, 2, 3]).batch(2).toArray(); // [{ data: [1, 2], shape: [2] }, { data: [3], shape: [1] }]
   * ```
   */
  batch(size: number, options: BatchOptions = {}): Dataset<Batched<T>> {
    checkCount('Dataset.batch', 'the batch size', size, 1);
    const drop = options.dropRemainder === true;
    return this.makeBatches(size, drop, options.dtypes) as Dataset<Batched<T>>;
  }

  /** @internal Generic batching; in-memory datasets override it. */
  protected makeBatches(size: number, drop: boolean, dtypes: BatchOptions['dtypes']): Dataset<unknown> {
    const parent = this as Dataset<T>;
    const n = this.size;
    const count = n === undefined ? undefined : n === Infinity ? Infinity : drop ? Math.floor(n / size) : Math.ceil(n / size);
    return new Dataset<unknown>(async function* (iteration) {
      let buf: T[] = [];
      try {
        for await (const v of parent.iterate(iteration)) {
          buf.push(v);
          if (buf.length === size) {
            const items = buf;
            const b = stackElements('Dataset.batch', items, dtypes) ?? items;
            buf = [];
            yield b;
          }
        }
        if (buf.length > 0 && !drop) {
          const items = buf;
          const b = stackElements('Dataset.batch', items, dtypes) ?? items;
          buf = [];
          yield b;
        }
      } finally {
        // Elements read but never batched (early stop, failure, dropped remainder).
        for (const v of buf) disposeTensorsIn(v);
      }
    }, count);
  }

  /**
   * Shuffles deterministically for `seed`. In-memory datasets get a full shuffle (a random
   * permutation of the indices; `bufferSize` is ignored). Streaming datasets use a shuffle buffer
   * of `bufferSize` elements (default 1024): larger is more random and uses more memory.
   * By default every pass (epoch) gets a new order: pass `k` uses the order drawn for
   * (`seed`, `k`), so it is the same on every run and after a restart; see {@link ShuffleOptions}.
   *
   * @example
   * ```ts
   * const ds = fromGenerator(() => [1, 2, 3, 4, 5]).shuffle(42, 16);
   * await ds.toArray(); // [2, 1, 4, 3, 5]
   * await ds.toArray(); // [3, 4, 5, 1, 2]
   * // the same seed gives the same sequence of orders, on every run
   * await fromGenerator(() => [1, 2, 3, 4, 5]).shuffle(42, 16).toArray(); // [2, 1, 4, 3, 5]
   * ```
   */
  shuffle(seed: number, bufferSize?: number, options: ShuffleOptions = {}): Dataset<T> {
    checkSeed('Dataset.shuffle', seed);
    const buffer = bufferSize ?? 1024;
    checkCount('Dataset.shuffle', 'the buffer size', buffer, 1);
    const parent = this as Dataset<T>;
    const reshuffle = options.reshuffleEachIteration !== false;
    return new Dataset<T>(async function* (iteration) {
      const key = epochKey(seed, reshuffle ? iteration : 0);
      const buf: T[] = [];
      let counter = 0;
      try {
        for await (const v of parent.iterate(iteration)) {
          if (buf.length < buffer) {
            buf.push(v);
            continue;
          }
          const j = randIndex(key, counter++, buf.length);
          const out = buf[j];
          buf[j] = v;
          yield out;
        }
        while (buf.length > 0) {
          const j = randIndex(key, counter++, buf.length);
          const out = buf[j];
          buf[j] = buf[buf.length - 1];
          buf.pop();
          yield out;
        }
      } finally {
        // A pass that stops early or fails drops the buffered elements.
        for (const v of buf) disposeTensorsIn(v);
      }
    }, this.size);
  }

  /**
   * The first `n` elements.
   * @example
   * await fromGenerator(() => [1, 2, 3]).take(2).toArray(); // [1, 2]
   */
  take(n: number): Dataset<T> {
    checkCount('Dataset.take', 'n', n);
    const parent = this as Dataset<T>;
    return new Dataset<T>(async function* (iteration) {
      if (n === 0) return;
      let i = 0;
      for await (const v of parent.iterate(iteration)) {
        yield v;
        if (++i >= n) return;
      }
    }, this.size === undefined ? undefined : Math.min(this.size, n));
  }

  /**
   * All but the first `n` elements (tensors in skipped elements are disposed).
   * @example
   * await fromGenerator(() => [1, 2, 3]).skip(2).toArray(); // [3]
   */
  skip(n: number): Dataset<T> {
    checkCount('Dataset.skip', 'n', n);
    const parent = this as Dataset<T>;
    return new Dataset<T>(async function* (iteration) {
      let i = 0;
      for await (const v of parent.iterate(iteration)) {
        if (i++ >= n) yield v;
        else disposeTensorsIn(v);
      }
    }, this.size === undefined ? undefined : Math.max(0, this.size - n));
  }

  /**
   * Splits into parts by fractions (`0.8` or `[0.8, 0.2]`, summing to at most 1) or counts
   * (`[50000, 10000]`, integers summing to more than 1). With a `seed`, elements are assigned to
   * parts at random (deterministically); without one, the parts are consecutive runs. The
   * assignment is fixed once, so a validation part stays the same across epochs.
   * Streaming datasets need a known size; pass `k` of each part reads pass `k` of the parent
   * (tensors in elements of other parts are disposed).
   *
   * @example
   * ```ts
   * const ds = fromGenerator(() => [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], { size: 10 });
   * const [train, val] = ds.split([0.8, 0.2], { seed: 1 });
   * [train.size, val.size]; // [8, 2]
   * await val.toArray(); // [4, 7]
   * // the parts stay the same in every pass
   * await val.toArray(); // [4, 7]
   * // without a seed the parts are consecutive runs
   * await ds.split([0.8, 0.2])[1].toArray(); // [8, 9]
   * ```
   */
  split(parts: number | readonly number[], options: SplitOptions = {}): Dataset<T>[] {
    const op = 'Dataset.split';
    const n = this.size;
    if (n === undefined || n === Infinity) throw new AxonError(op, `expected a dataset of known, finite size (got ${String(n)}); use take/skip instead`);
    const counts = splitCounts(op, parts, n);
    if (options.seed !== undefined) checkSeed(op, options.seed);
    const assign = new Int32Array(n).fill(-1);
    const order = options.seed === undefined ? null : permutation(n, options.seed);
    let pos = 0;
    counts.forEach((c, p) => {
      for (let k = 0; k < c; k++, pos++) assign[order ? order[pos] : pos] = p;
    });
    const parent = this as Dataset<T>;
    return counts.map(
      (c, p) =>
        new Dataset<T>(async function* (iteration) {
          let i = 0;
          for await (const v of parent.iterate(iteration)) {
            if (i < n && assign[i] === p) yield v;
            else disposeTensorsIn(v);
            i++;
          }
        }, c),
    );
  }

  /**
   * Reads up to `n` elements ahead of the consumer (default 2), so producing the next batch can
   * overlap with work on the current one. If the consumer stops early, or the pass fails,
   * tensors in read-ahead elements are disposed.
   *
   * @example
   * ```ts
   * const ds = fromGenerator(() => [1, 2, 3, 4, 5, 6]);
   * const sums: number[] = [];
   * for await (const b of ds.batch(2).prefetch(2)) {
   *   // the next two batches are being read while this one is used
   *   sums.push(b.data[0] + b.data[1]);
   * }
   * sums; // [3, 7, 11]
   * ```
   */
  prefetch(n = 2): Dataset<T> {
    checkCount('Dataset.prefetch', 'n', n, 1);
    const parent = this as Dataset<T>;
    return new Dataset<T>(
      (iteration) => ({ [Symbol.asyncIterator]: () => prefetchIterator(parent.iterate(iteration)[Symbol.asyncIterator](), n) }),
      this.size,
    );
  }

  /**
   * Repeats the dataset `count` times (default: endlessly). Each repetition is a new pass of the
   * parent, so a shuffled parent is reshuffled every time: repetition `r` of pass `i` reads the
   * parent's pass `i·count + r` (for an endless repeat, pass `i·2^32 + r`), so passes never share
   * parent passes and stay reproducible.
   *
   * @example
   * await fromGenerator(() => [1, 2]).repeat(2).toArray(); // [1, 2, 1, 2]
   */
  repeat(count: number = Infinity): Dataset<T> {
    if (count !== Infinity) checkCount('Dataset.repeat', 'count', count);
    const parent = this as Dataset<T>;
    const n = this.size;
    const size = n === undefined ? undefined : n === 0 || count === 0 ? 0 : n * count;
    const stride = count === Infinity ? 2 ** 32 : count;
    return new Dataset<T>(async function* (iteration) {
      for (let r = 0; r < count; r++) {
        const k = iteration * stride + r;
        if (!Number.isSafeInteger(k)) {
          throw new AxonError('Dataset.repeat', `pass ${iteration}, repetition ${r} maps to parent pass ${k}, beyond 2^53; use fewer repetitions or passes`);
        }
        let any = false;
        for await (const v of parent.iterate(k)) {
          any = true;
          yield v;
        }
        if (!any) return; // an empty parent would otherwise loop forever
      }
    }, size);
  }

  /**
   * This dataset's elements followed by `other`'s (pass `k` of each).
   * @example
   * await fromGenerator(() => [1]).concatenate(fromGenerator(() => [2])).toArray(); // [1, 2]
   */
  concatenate(other: Dataset<T>): Dataset<T> {
    if (!(other instanceof Dataset)) throw new AxonError('Dataset.concatenate', 'expected another Dataset');
    const parent = this as Dataset<T>;
    const size = this.size === undefined || other.size === undefined ? undefined : this.size + other.size;
    return new Dataset<T>(async function* (iteration) {
      yield* parent.iterate(iteration);
      yield* other.iterate(iteration);
    }, size);
  }

  /**
   * Converts each element's {@link HostTensor}s (a batch's `x` and `y`) into Axon tensors on the
   * current backend, lazily, one batch at a time. **The consumer owns the tensors and must
   * dispose them** (Axon's `fit` disposes each batch after use). A batch that cannot be
   * converted throws an `AxonError` and leaves no tensors behind.
   *
   * @example
   * ```ts
   * const ds = fromArrays({ x: [[1, 2], [3, 4], [5, 6]], y: [0, 1, 0] });
   * const before = memory().numTensors;
   * const seen: string[] = [];
   * for await (const { x, y } of ds.batch(2).toTensors()) {
   *   seen.push(`x ${x.dtype} [${x.shape}], y ${y.dtype} [${y.shape}]`);
   *   x.dispose(); y.dispose(); // the consumer owns the tensors
   * }
   * seen; // ['x float32 [2,2], y int32 [2]', 'x float32 [1,2], y int32 [1]']
   * memory().numTensors - before; // 0
   * ```
   */
  toTensors(): Dataset<Tensorized<T>> {
    const parent = this as Dataset<T>;
    return new Dataset<Tensorized<T>>(async function* (iteration) {
      for await (const v of parent.iterate(iteration)) yield batchToTensors(v);
    }, this.size);
  }
}

/** Awaits read-ahead results nobody will consume and disposes their tensors. */
async function disposePending<T>(pending: Promise<IteratorResult<T>>[]): Promise<void> {
  for (const p of pending) {
    try {
      const r = await p;
      if (!r.done) disposeTensorsIn(r.value);
    } catch {
      // the pass already stopped or failed; errors of read-ahead elements are moot
    }
  }
}

function prefetchIterator<T>(it: AsyncIterator<T>, n: number): AsyncIterator<T> {
  const queue: Promise<IteratorResult<T>>[] = [];
  let finished = false;
  const fill = (): void => {
    while (!finished && queue.length < n) {
      const p = it.next();
      p.catch(() => undefined); // surfaced when awaited; avoids unhandled-rejection noise meanwhile
      queue.push(p);
    }
  };
  return {
    async next(): Promise<IteratorResult<T>> {
      fill();
      const p = queue.shift();
      if (!p) return { done: true, value: undefined };
      let r: IteratorResult<T>;
      try {
        r = await p;
      } catch (e) {
        finished = true;
        await disposePending(queue.splice(0));
        throw e;
      }
      if (r.done) {
        finished = true;
        await disposePending(queue.splice(0));
      } else fill();
      return r;
    },
    async return(): Promise<IteratorResult<T>> {
      finished = true;
      await disposePending(queue.splice(0));
      if (typeof it.return === 'function') await it.return();
      return { done: true, value: undefined };
    },
  };
}
