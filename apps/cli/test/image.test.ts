import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { AxonError } from '@axon/core';
import { PNG } from 'pngjs';
import { MAX_IMAGE_PIXELS, readGrayImage } from '../src/image.js';

const dir = await mkdtemp(join(tmpdir(), 'axon-image-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(b: Buffer): number {
  let c = 0xffffffff;
  for (const x of b) c = CRC_TABLE[(c ^ x) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}
/** A valid grayscale PNG of width×height whose IDAT is deflated zeros: tiny on disk, huge decoded. */
function bombPng(width: number, height: number, rows: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // grayscale
  const raw = Buffer.alloc(rows * (width + 1)); // filter byte 0 + zero pixels, for `rows` rows
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}

describe('readGrayImage (axon predict --image)', () => {
  it('refuses a small PNG that declares 12000×12000 pixels before decoding it, naming the file and the limit', async () => {
    const file = join(dir, 'bomb.png');
    const bytes = bombPng(12000, 12000, 2000);
    expect(bytes.length).toBeLessThan(200_000);
    await writeFile(file, bytes);
    const t0 = performance.now();
    const err = await readGrayImage(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AxonError);
    expect(String(err)).toContain(file);
    expect(String(err)).toMatch(/144000000 pixels, more than the 89478485-pixel limit/);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(MAX_IMAGE_PIXELS).toBe(89_478_485);
  });

  it('a raised limit lets a large image through; a lower one refuses a small image', async () => {
    const png = new PNG({ width: 40, height: 30 });
    png.data.fill(255);
    const file = join(dir, 'ok.png');
    await writeFile(file, PNG.sync.write(png));
    expect((await readGrayImage(file)).width).toBe(40);
    await expect(readGrayImage(file, { maxPixels: 1000 })).rejects.toThrow(/1200 pixels, more than the 1000-pixel limit/);
  });

  it('errors name the file: a corrupt PNG, a non-image, a truncated PGM, a directory, a missing file', async () => {
    const good = PNG.sync.write(Object.assign(new PNG({ width: 8, height: 8 }), {}));
    const corrupt = join(dir, 'corrupt.png');
    await writeFile(corrupt, Buffer.concat([good.subarray(0, 40), Buffer.alloc(30, 7)]));
    const text = join(dir, 'notes.txt');
    await writeFile(text, 'hello');
    const pgm = join(dir, 'short.pgm');
    await writeFile(pgm, Buffer.concat([Buffer.from('P5 10 10 255\n'), Buffer.alloc(20)]));
    for (const [file, pattern] of [
      [corrupt, /not a valid PNG/],
      [text, /not a PNG or PGM image/],
      [pgm, /PGM data is truncated/],
      [dir, /cannot read the image/],
      [join(dir, 'missing.png'), /cannot read the image/],
    ] as const) {
      const err = await readGrayImage(file).catch((e: unknown) => e);
      expect(err, file).toBeInstanceOf(AxonError);
      expect(String(err), file).toContain(file);
      expect(String(err), file).toMatch(pattern);
    }
  });
});
