/**
 * Image augmentation as batch transforms (the seeds' remedy for small data): random rotations,
 * shifts, zooms and crops with bilinear resampling, applied on the host to batches of images
 * before they become tensors. The random draws for a batch are keyed by (seed, pass index, batch
 * index), so every epoch sees new variations and pass `k` is reproducible on its own.
 */
import { AxonError, hash32, unitFromBits } from '@axon/core';
import { isHostTensor } from './host.js';
import { epochKey } from './random.js';
import type { HostTensor } from './types.js';

/**
 * Options of {@link augmentImages}.
 *
 * @example
 * ```ts
 * const opts: AugmentOptions = { rotation: 15, shift: 2, zoom: 0.1, horizontalFlip: true, seed: 3, imageShape: [3, 3] };
 * const flat: HostTensor = { data: new Float32Array(2 * 9).fill(1), shape: [2, 9], dtype: 'float32' };
 * augmentImages(opts)({ x: flat }).x.shape; // [2, 9]
 * ```
 */
export interface AugmentOptions {
  /** Maximum rotation in degrees (uniform in ±value). Default 0. */
  rotation?: number;
  /** Maximum shift as a fraction of the size (uniform in ±value), or pixels when ≥ 1. Default 0. */
  shift?: number;
  /** Maximum zoom: the scale is uniform in [1 − zoom, 1 + zoom]. Default 0. */
  zoom?: number;
  /** Flip left-right with probability 0.5 (not for digits). Default false. */
  horizontalFlip?: boolean;
  /** Seed of the augmentation stream. Default 0. */
  seed?: number;
  /**
   * The image shape [H, W] or [C, H, W] when the batch's `x` is flat ([B, H·W]); otherwise taken
   * from the trailing dims of `x` ([B, H, W] or [B, C, H, W]).
   */
  imageShape?: readonly number[];
}

/**
 * A batch with images under `x` (as `@axon/datasets`' `batch()` yields).
 *
 * @example
 * ```ts
 * const batch: ImageBatch = { x: { data: new Float32Array([0, 1, 2, 3]), shape: [1, 2, 2], dtype: 'float32' }, y: 7 };
 * // without rotation, shift or zoom the images come back unchanged; other fields are kept
 * const out = augmentImages()(batch);
 * out.x.data; // [0, 1, 2, 3]
 * out.y; // 7
 * ```
 */
export interface ImageBatch {
  readonly x: HostTensor;
  readonly [k: string]: unknown;
}

function check(op: string, name: string, v: number | undefined, max: number): number {
  const x = v ?? 0;
  if (!Number.isFinite(x) || x < 0 || x > max) throw new AxonError(op, `${name} must be a number in [0, ${max}], got ${String(v)}`);
  return x;
}

/**
 * Transforms the images of one sample in place: `src` and `dst` hold C planes of H×W.
 * Output pixels that map outside the source are 0.
 */
function affine(src: Float32Array, dst: Float32Array, off: number, c: number, h: number, w: number, angle: number, sx: number, sy: number, tx: number, ty: number): void {
  const cos = Math.cos(angle), sin = Math.sin(angle);
  const cx = (w - 1) / 2, cy = (h - 1) / 2;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      // inverse map: output (x, y) → source (u, v)
      const dx = (x - cx - tx) / sx;
      const dy = (y - cy - ty) / sy;
      const u = cos * dx + sin * dy + cx;
      const v = -sin * dx + cos * dy + cy;
      const x0 = Math.floor(u), y0 = Math.floor(v);
      const fx = u - x0, fy = v - y0;
      for (let ch = 0; ch < c; ch++) {
        const base = off + ch * h * w;
        const at = (yy: number, xx: number): number => (yy >= 0 && yy < h && xx >= 0 && xx < w ? src[base + yy * w + xx]! : 0);
        const val = (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x0 + 1)) + fy * ((1 - fx) * at(y0 + 1, x0) + fx * at(y0 + 1, x0 + 1));
        dst[base + y * w + x] = val;
      }
    }
  }
}

function checkIndex(op: string, name: string, v: unknown): asserts v is number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new AxonError(op, `expected ${name} to be a non-negative integer, got ${String(v)}`);
}

/**
 * A batch transform for `dataset.batch(n).map(augmentImages({ … }))`: returns a new batch whose
 * float32 images `x` are randomly rotated, shifted, zoomed (and flipped), other fields unchanged.
 *
 * The random draws for a batch come from a stream keyed by (`seed`, `iteration`, `index`) —
 * the pass index and batch index that {@link Dataset.map} passes — so pass `k` of an augmented
 * pipeline is the same whether or not passes `0..k-1` ran (resumable training), and every pass
 * differs. Called directly without `index`, each call takes the next index of its own counter
 * (calls 0, 1, 2, … of pass `iteration`, default 0).
 * @example
 * ```ts
 * // 8 small 6×6 images with labels
 * const images = new Float32Array(8 * 6 * 6).map((_, i) => (i % 6) / 5);
 * const ds = fromArrays({ x: { data: images, shape: [8, 6, 6] }, y: Int32Array.from({ length: 8 }, (_, i) => i % 2) });
 * const pipeline = () => ds.shuffle(0).batch(4).map(augmentImages({ rotation: 10, shift: 0.1, zoom: 0.1, seed: 1 }));
 * const train = pipeline(); // e.g. `model.fit(train, { epochs: 3 })` in @axon/layers
 * const epoch0 = await train.toArray();
 * const epoch1 = await train.toArray();
 * epoch1[0].x.shape; // [4, 6, 6]
 * // every epoch sees new variations…
 * epoch0[0].x.data.join() === epoch1[0].x.data.join(); // false
 * // …and epoch 1 is the same when a fresh pipeline resumes there
 * const resumed = pipeline();
 * resumed.iteration = 1;
 * (await resumed.toArray())[0].x.data.join() === epoch1[0].x.data.join(); // true
 * ```
 */
export function augmentImages(opts: AugmentOptions = {}): <B extends ImageBatch>(batch: B, index?: number, iteration?: number) => B {
  const op = 'augmentImages';
  const rot = (check(op, 'rotation', opts.rotation, 180) * Math.PI) / 180;
  const shift = check(op, 'shift', opts.shift, 1e6);
  const zoom = check(op, 'zoom', opts.zoom, 0.9);
  const flip = opts.horizontalFlip ?? false;
  const seed = opts.seed ?? 0;
  if (!Number.isFinite(seed)) throw new AxonError(op, `expected a finite number as seed, got ${String(opts.seed)}`);
  let calls = 0;
  return <B extends ImageBatch>(batch: B, index?: number, iteration?: number): B => {
    if (index !== undefined) checkIndex(op, 'the batch index', index);
    if (iteration !== undefined) checkIndex(op, 'the iteration (pass index)', iteration);
    const x = batch.x;
    if (!isHostTensor(x) || !(x.data instanceof Float32Array)) throw new AxonError(op, 'expects batches whose x is a float32 HostTensor (from dataset.batch())');
    const b = x.shape[0] ?? 0;
    const img = opts.imageShape ?? x.shape.slice(1);
    if (img.length < 2 || img.length > 3) throw new AxonError(op, `images must be [H, W] or [C, H, W] per sample, got x of shape [${x.shape.join(',')}] (pass imageShape for flat images)`);
    const [c, h, w] = img.length === 3 ? (img as [number, number, number]) : [1, img[0]!, img[1]!];
    const per = c * h * w;
    if (per * b !== x.data.length) throw new AxonError(op, `x has ${x.data.length} values; expected ${b} images of [${img.join(',')}]`);
    const key = hash32(epochKey(seed, iteration ?? 0), index ?? calls++);
    let counter = 0;
    const next = (): number => unitFromBits(hash32(key, counter++));
    const out = new Float32Array(x.data.length);
    for (let i = 0; i < b; i++) {
      const angle = (2 * next() - 1) * rot;
      const s = 1 + (2 * next() - 1) * zoom;
      const tx = (2 * next() - 1) * (shift >= 1 ? shift : shift * w);
      const ty = (2 * next() - 1) * (shift >= 1 ? shift : shift * h);
      const fl = flip && next() < 0.5 ? -1 : 1;
      affine(x.data, out, i * per, c, h, w, angle, s * fl, s, tx, ty);
    }
    return { ...batch, x: { data: out, shape: x.shape, dtype: x.dtype } };
  };
}
