/**
 * Reading the images `axon predict --image` classifies: PNG (pngjs) and binary/ASCII PGM, with the
 * declared size checked against a pixel cap before anything is decoded (like Pillow's
 * `MAX_IMAGE_PIXELS`), and every error naming the file.
 */
import { AxonError } from '@axon/core';
import { readBytes } from '@axon/datasets';
import { PNG } from 'pngjs';

/**
 * The most pixels an image may declare (Pillow's `MAX_IMAGE_PIXELS`, 89,478,485: a 0.25 GB 24-bit
 * image); raise it with `maxPixels` / `--max-image-pixels`.
 */
export const MAX_IMAGE_PIXELS = 89_478_485;

/** The largest image file read (64 MiB; a digit needs kilobytes). */
export const MAX_IMAGE_FILE_BYTES = 64 * 2 ** 20;

/** A decoded grayscale image (0 = black, 255 = white). */
export interface GrayImage {
  readonly gray: Float32Array;
  readonly width: number;
  readonly height: number;
}

/** Options of {@link readGrayImage}. */
export interface ReadImageOptions {
  /** The most pixels the image may declare (default {@link MAX_IMAGE_PIXELS}). */
  readonly maxPixels?: number;
}

const OP = 'predict';

function checkSize(file: string, width: number, height: number, maxPixels: number): void {
  if (!Number.isSafeInteger(width) || !Number.isSafeInteger(height) || width < 1 || height < 1) {
    throw new AxonError(OP, `${file}: the image declares a size of ${width}×${height}, which is not a valid image size`);
  }
  if (width * height > maxPixels) {
    throw new AxonError(OP, `${file}: the image declares ${width}×${height} = ${width * height} pixels, more than the ${maxPixels}-pixel limit (a decompression bomb?); pass --max-image-pixels to allow it`);
  }
}

/**
 * Reads a PNG or binary/ASCII PGM file into grayscale pixels, compositing transparency over white.
 * @example
 * ```ts
 * import { writeFile } from 'node:fs/promises';
 * // a 3×2 binary PGM: one black pixel in the middle of the top row
 * const header = new TextEncoder().encode('P5\n3 2\n255\n');
 * await writeFile('digit.pgm', new Uint8Array([...header, 255, 0, 255, 255, 255, 255]));
 * const { gray, width, height } = await readGrayImage('digit.pgm');
 * [width, height] // [3, 2]
 * gray // [255, 0, 255, 255, 255, 255]
 * await readGrayImage('digit.pgm', { maxPixels: 4 }); // throws: 'more than the 4-pixel limit'
 * ```
 */
export async function readGrayImage(file: string, opts: ReadImageOptions = {}): Promise<GrayImage> {
  const maxPixels = opts.maxPixels ?? MAX_IMAGE_PIXELS;
  let bytes: Uint8Array;
  try {
    bytes = await readBytes(file, { maxBytes: MAX_IMAGE_FILE_BYTES });
  } catch (e) {
    throw new AxonError(OP, `cannot read the image ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length >= 8 && buf.readUInt32BE(0) === 0x89504e47 && buf.readUInt32BE(4) === 0x0d0a1a0a) {
    // IHDR is the first chunk: width and height are big-endian at bytes 16 and 20.
    if (buf.length < 24 || buf.toString('latin1', 12, 16) !== 'IHDR') throw new AxonError(OP, `${file}: not a valid PNG (its first chunk is not IHDR)`);
    checkSize(file, buf.readUInt32BE(16), buf.readUInt32BE(20), maxPixels);
    let png: PNG;
    try {
      png = PNG.sync.read(buf);
    } catch (e) {
      throw new AxonError(OP, `${file}: not a valid PNG (${e instanceof Error ? e.message : String(e)})`);
    }
    const gray = new Float32Array(png.width * png.height);
    for (let i = 0; i < gray.length; i++) {
      const r = png.data[4 * i]!, g = png.data[4 * i + 1]!, b = png.data[4 * i + 2]!, a = png.data[4 * i + 3]! / 255;
      gray[i] = (0.299 * r + 0.587 * g + 0.114 * b) * a + 255 * (1 - a);
    }
    return { gray, width: png.width, height: png.height };
  }
  const text = buf.subarray(0, 256).toString('latin1');
  const m = /^(P[25])\s+(?:#[^\n]*\n\s*)*(\d+)\s+(?:#[^\n]*\n\s*)*(\d+)\s+(?:#[^\n]*\n\s*)*(\d+)\s/.exec(text);
  if (m) {
    const [, kind, w, h, maxv] = m;
    const width = Number(w), height = Number(h), maxVal = Number(maxv);
    checkSize(file, width, height, maxPixels);
    if (!(maxVal >= 1 && maxVal <= 65535)) throw new AxonError(OP, `${file}: PGM maximum value ${maxv} is not in [1, 65535]`);
    const gray = new Float32Array(width * height);
    if (kind === 'P5') {
      const wide = maxVal > 255;
      const data = buf.subarray(m[0].length);
      if (data.length < gray.length * (wide ? 2 : 1)) throw new AxonError(OP, `${file}: PGM data is truncated (${data.length} bytes for ${width}×${height} pixels)`);
      for (let i = 0; i < gray.length; i++) gray[i] = ((wide ? data.readUInt16BE(2 * i) : data[i]!) * 255) / maxVal;
    } else {
      const nums = buf.toString('latin1', m[0].length).trim().split(/\s+/).map(Number);
      if (nums.length < gray.length || nums.slice(0, gray.length).some((v) => !(v >= 0 && v <= maxVal))) throw new AxonError(OP, `${file}: PGM data is truncated or holds values outside [0, ${maxVal}]`);
      for (let i = 0; i < gray.length; i++) gray[i] = (nums[i]! * 255) / maxVal;
    }
    return { gray, width, height };
  }
  throw new AxonError(OP, `${file}: not a PNG or PGM image`);
}
