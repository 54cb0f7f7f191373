import { describe, expect, it } from 'vitest';
import { AxonError } from '@axon/core';
import { augmentImages, fromArrays } from '../src/index.js';

const SEED = Number(process.env.AXON_SEED ?? Date.now() % 1e6);

function square(h: number, w: number): Float32Array {
  const a = new Float32Array(h * w);
  for (let y = 10; y < 18; y++) for (let x = 10; x < 18; x++) a[y * w + x] = 1;
  return a;
}
const mass = (a: Float32Array, off = 0, n = 784) => { let m = 0; for (let i = 0; i < n; i++) m += a[off + i]!; return m; };

describe('augmentImages', () => {
  it('is the identity with no options, and keeps labels', () => {
    const x = { data: square(28, 28), shape: [1, 28, 28], dtype: 'float32' as const };
    const out = augmentImages()({ x, y: 7 });
    expect(Array.from(out.x.data)).toEqual(Array.from(x.data));
    expect(out.y).toBe(7);
  });
  it('shifts keep an interior blob whole (bilinear resampling preserves its mass)', () => {
    const x = { data: square(28, 28), shape: [1, 28, 28], dtype: 'float32' as const };
    const out = augmentImages({ shift: 2, seed: SEED })({ x });
    expect(Math.abs(mass(out.x.data as Float32Array) - 64), `seed ${SEED}`).toBeLessThan(1e-3);
  });
  it('rotations move pixels, preserve the centre of mass of a centred blob, differ per call, repeat per seed', () => {
    const x = { data: square(28, 28), shape: [1, 28, 28], dtype: 'float32' as const };
    const f = augmentImages({ rotation: 30, seed: SEED });
    const a = f({ x }).x.data as Float32Array;
    const b = f({ x }).x.data as Float32Array;
    expect(Array.from(a)).not.toEqual(Array.from(b));
    const g = augmentImages({ rotation: 30, seed: SEED });
    expect(Array.from(g({ x }).x.data)).toEqual(Array.from(a));
    let m = 0, cx = 0, cy = 0;
    for (let y = 0; y < 28; y++) for (let xx = 0; xx < 28; xx++) { const v = a[y * 28 + xx]!; m += v; cx += v * xx; cy += v * y; }
    expect(Math.abs(cx / m - 13.5), `seed ${SEED}`).toBeLessThan(0.05);
    expect(Math.abs(cy / m - 13.5), `seed ${SEED}`).toBeLessThan(0.05);
  });
  it('works as a dataset batch transform on flat and NCHW images', async () => {
    const n = 10;
    const data = new Float32Array(n * 784);
    for (let i = 0; i < n; i++) data.set(square(28, 28), i * 784);
    const ds = fromArrays({ x: { data, shape: [n, 1, 28, 28] }, y: new Int32Array(n) }).batch(4).map(augmentImages({ rotation: 10, zoom: 0.1, seed: 1 }));
    const batches = await ds.toArray();
    expect(batches.map((b) => b.x.shape[0])).toEqual([4, 4, 2]);
    expect(batches[0]!.x.shape).toEqual([4, 1, 28, 28]);
    const flat = fromArrays({ x: { data, shape: [n, 784] }, y: new Int32Array(n) }).batch(5).map(augmentImages({ shift: 0.1, imageShape: [28, 28] }));
    expect((await flat.toArray()).length).toBe(2);
  });
  it('rejects bad options and non-image batches', () => {
    expect(() => augmentImages({ rotation: -1 })).toThrow(AxonError);
    expect(() => augmentImages({ zoom: 2 })).toThrow(/zoom must be a number in \[0, 0.9\]/);
    const f = augmentImages({ rotation: 5 });
    expect(() => f({ x: { data: new Float32Array(10), shape: [10], dtype: 'float32' } })).toThrow(/images must be/);
  });
});
