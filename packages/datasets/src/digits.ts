/**
 * Turning a picture of a handwritten digit into an MNIST-like 28×28 input: the preprocessing the
 * MNIST authors applied (fit the digit's bounding box into 20×20 keeping its aspect ratio, then
 * place it so its centre of mass sits at the centre of a 28×28 field). Used by `axon predict` on
 * image files and by the demo's drawing canvas.
 */
import { AxonError } from '@axon/core';

/**
 * Options of {@link preprocessDigit}.
 *
 * @example
 * ```ts
 * // a 4×4 light picture (values 0..1) with one dark dot
 * const gray = new Float32Array(16).fill(1);
 * gray[5] = 0;
 * const x = preprocessDigit(gray, 4, 4, { darkOnLight: true });
 * // the dot is inverted to light-on-black and its box scaled to 20×20
 * x.reduce((a, b) => a + b, 0); // 400
 * ```
 */
export interface DigitOptions {
  /**
   * Whether the digit is dark on a light background (as on paper). Default: detected from the
   * border pixels (a light border means a dark digit).
   */
  darkOnLight?: boolean;
}

/**
 * Converts a grayscale image (values 0..255 or 0..1, row-major, `width`×`height`) into a 28×28
 * Float32Array in [0, 1] with a light digit on black, centred like MNIST. A blank image gives
 * all zeros.
 * @example
 * ```ts
 * // a 40×40 photo of a "1": a dark vertical stroke, 4 pixels wide and 24 tall, on white paper (0..255)
 * const w = 40, h = 40;
 * const gray = new Uint8Array(w * h).fill(255);
 * for (let y = 8; y < 32; y++) for (let x = 18; x < 22; x++) gray[y * w + x] = 0;
 * const x = preprocessDigit(gray, w, h);
 * x.length; // 784
 * // inverted (light on black), scaled to 3×20 pixels and centred by its mass: rows 4..23, columns 13..15
 * x.reduce((a, b) => a + b, 0); // 60
 * x.subarray(14 * 28 + 11, 14 * 28 + 17); // [0, 0, 1, 1, 1, 0]
 * [x[3 * 28 + 14], x[4 * 28 + 14], x[23 * 28 + 14], x[24 * 28 + 14]]; // [0, 1, 1, 0]
 * preprocessDigit(new Uint8Array(100).fill(255), 10, 10).some((v) => v !== 0); // false
 * ```
 */
export function preprocessDigit(gray: ArrayLike<number>, width: number, height: number, opts: DigitOptions = {}): Float32Array {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0 || gray.length !== width * height) {
    throw new AxonError('preprocessDigit', `expected ${width}×${height} = ${width * height} pixels, got ${gray.length}`);
  }
  let max = 0;
  for (let i = 0; i < gray.length; i++) max = Math.max(max, gray[i]!);
  const scale = max > 1 ? 1 / 255 : 1;
  let dark = opts.darkOnLight;
  if (dark === undefined) {
    let border = 0;
    let count = 0;
    for (let x = 0; x < width; x++) {
      border += gray[x]! + gray[(height - 1) * width + x]!;
      count += 2;
    }
    for (let y = 0; y < height; y++) {
      border += gray[y * width]! + gray[y * width + width - 1]!;
      count += 2;
    }
    dark = (border / count) * scale > 0.5;
  }
  const ink = new Float32Array(width * height);
  for (let i = 0; i < ink.length; i++) {
    const v = Math.min(1, Math.max(0, gray[i]! * scale));
    ink[i] = dark ? 1 - v : v;
  }
  // bounding box of the ink
  let x0 = width, y0 = height, x1 = -1, y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (ink[y * width + x]! > 0.1) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  }
  const out = new Float32Array(784);
  if (x1 < 0) return out;
  const bw = x1 - x0 + 1;
  const bh = y1 - y0 + 1;
  const s = 20 / Math.max(bw, bh);
  const tw = Math.max(1, Math.round(bw * s));
  const th = Math.max(1, Math.round(bh * s));
  // area-average resample of the box into tw×th
  const small = new Float32Array(tw * th);
  for (let ty = 0; ty < th; ty++) {
    const sy0 = y0 + (ty * bh) / th;
    const sy1 = y0 + ((ty + 1) * bh) / th;
    for (let tx = 0; tx < tw; tx++) {
      const sx0 = x0 + (tx * bw) / tw;
      const sx1 = x0 + ((tx + 1) * bw) / tw;
      let acc = 0;
      let area = 0;
      for (let y = Math.floor(sy0); y < Math.ceil(sy1); y++) {
        const wy = Math.min(sy1, y + 1) - Math.max(sy0, y);
        if (wy <= 0) continue;
        for (let x = Math.floor(sx0); x < Math.ceil(sx1); x++) {
          const wx = Math.min(sx1, x + 1) - Math.max(sx0, x);
          if (wx <= 0) continue;
          acc += ink[y * width + x]! * wx * wy;
          area += wx * wy;
        }
      }
      small[ty * tw + tx] = area > 0 ? acc / area : 0;
    }
  }
  // centre of mass → centre of the 28×28 field
  let m = 0, cx = 0, cy = 0;
  for (let y = 0; y < th; y++) {
    for (let x = 0; x < tw; x++) {
      const v = small[y * tw + x]!;
      m += v;
      cx += v * x;
      cy += v * y;
    }
  }
  const ox = Math.round(14 - (m > 0 ? cx / m : tw / 2) - 0.5);
  const oy = Math.round(14 - (m > 0 ? cy / m : th / 2) - 0.5);
  for (let y = 0; y < th; y++) {
    const ty = y + oy;
    if (ty < 0 || ty >= 28) continue;
    for (let x = 0; x < tw; x++) {
      const tx = x + ox;
      if (tx < 0 || tx >= 28) continue;
      out[ty * 28 + tx] = small[y * tw + x]!;
    }
  }
  return out;
}
