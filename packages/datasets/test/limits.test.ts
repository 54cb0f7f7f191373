import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { AxonError } from '@axon/core';
import { CSV_LIMITS, DEFAULT_MAX_BYTES, encodeIdx, fromCsv, fromCsvText, gunzip, loadIdx, loadMnist, maybeGunzip, parseCsv, readBytes } from '../src/index.js';
import { gzipBomb } from './gzip-bomb.js';

const MiB = 2 ** 20;
const idxHeader = (shape: number[], type = 0x08): Uint8Array => {
  const h = new Uint8Array(4 + 4 * shape.length);
  h[2] = type;
  h[3] = shape.length;
  const v = new DataView(h.buffer);
  shape.forEach((s, d) => v.setUint32(4 + 4 * d, s, false));
  return h;
};
const concat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};

/** Byte-wise equality (vitest's toEqual is slow on large typed arrays). */
const same = (a: ArrayLike<number>, b: ArrayLike<number>): boolean => a.length === b.length && Buffer.compare(Buffer.from(a as Uint8Array), Buffer.from(b as Uint8Array)) === 0;

/** Runs `f`, expecting an AxonError matching `re` within `ms` milliseconds. */
async function failsFast(f: () => Promise<unknown>, re: RegExp, ms = 1500): Promise<void> {
  const t0 = performance.now();
  await expect(f()).rejects.toThrow(re);
  await f().catch((e: unknown) => expect(e).toBeInstanceOf(AxonError));
  expect(performance.now() - t0, 'should fail before decompressing or reading it all').toBeLessThan(2 * ms);
}

describe('gzip limits', () => {
  // 1 MB of gzip that expands to 1025 MiB (a valid file: an unlimited gunzip returns 1025 MiB)
  const bomb = gzipBomb(new Uint8Array(0), 1025);
  // the same with a trailer that lies about the size (8 MiB of zeros, trailer says 0)
  const liar = gzipBomb(new Uint8Array(0), 8, true);

  it('the default cap (1 GiB) stops a 1 MB gzip that expands past 1 GiB, without decompressing it', async () => {
    expect(bomb.length).toBeLessThan(1.1e6);
    expect(DEFAULT_MAX_BYTES).toBe(2 ** 30);
    for (const using of ['stream', 'zlib'] as const) {
      await failsFast(() => gunzip(bomb, { using }), /gunzip: the gzip data declares 1074790400 bytes uncompressed \(its trailer\), more than the limit of 1073741824 bytes \(raise it with \{ maxBytes \}\)/);
    }
    await failsFast(() => maybeGunzip(bomb), /more than the limit of 1073741824 bytes/);
  });

  it('maxBytes caps the streamed output of both implementations, even when the trailer lies', async () => {
    for (const using of ['stream', 'zlib'] as const) {
      await failsFast(() => gunzip(liar, { using, maxBytes: 2 * MiB }), /gunzip: the gzip data expands to more than the limit of 2097152 bytes \(raise it with \{ maxBytes \}\); stopped decompressing/);
    }
    await failsFast(() => maybeGunzip(liar, { maxBytes: MiB }), /expands to more than the limit of 1048576 bytes/);
  });

  it('data within the cap decompresses as before, with either implementation', async () => {
    const raw = new Uint8Array(300_000).map((_, i) => (i * 31) % 251);
    const gz = new Uint8Array(gzipSync(raw));
    for (const using of ['stream', 'zlib'] as const) {
      expect(same(await gunzip(gz, { using, maxBytes: raw.length }), raw)).toBe(true);
      expect(same(await gunzip(gz, using), raw)).toBe(true);
      await expect(gunzip(gz, { using, maxBytes: raw.length - 1 })).rejects.toThrow(/declares 300000 bytes/);
    }
    expect(await gunzip(gzipBomb(new Uint8Array([1, 2, 3]), 3), { maxBytes: 3 * MiB + 3 })).toHaveLength(3 * MiB + 3);
    await expect(gunzip(gz, { maxBytes: 0 })).rejects.toThrow(/gunzip: expected maxBytes to be a positive integer/);
    await expect(gunzip(gz, { maxBytes: 1.5 })).rejects.toThrow(AxonError);
  });
});

describe('IDX limits', () => {
  it('a gzipped IDX file is decompressed only up to the size its header declares (1 MB → 1 GiB bomb fails fast)', async () => {
    const header = idxHeader([1000]);
    const bomb = gzipBomb(concat(header, new Uint8Array(1000).fill(7)), 1024); // then 1 GiB of extra zeros
    expect(bomb.length).toBeLessThan(1.1e6);
    await failsFast(() => loadIdx(bomb), /loadIdx: IDX data has unexpected trailing bytes after shape \[1000\] of uint8 \(1008 bytes with the header\): the gzip data expands to more; stopped decompressing/);
    await failsFast(() => loadMnist({ images: bomb, labels: bomb }), /loadMnist: .*unexpected trailing bytes/);
  });

  it('declared sizes are capped by maxBytes and by what the compressed size can hold, before allocating', async () => {
    // header declares 2^31 bytes: more than the 1 GiB default
    const huge = new Uint8Array(gzipSync(concat(idxHeader([2 ** 31]), new Uint8Array(100))));
    await failsFast(() => loadIdx(huge), /loadIdx: the IDX header declares shape \[2147483648\] of uint8 \(2147483656 bytes with the header\), more than the limit of 1073741824 bytes/);
    // header declares 900 MB, within the cap, but 130 bytes of gzip can never expand that far
    const liar = new Uint8Array(gzipSync(concat(idxHeader([30000, 30000]), new Uint8Array(100))));
    await failsFast(() => loadIdx(liar), /loadIdx: the IDX header declares shape \[30000,30000\] of uint8 \(900000012 bytes with the header\), but \d+ bytes of gzip data can expand to at most \d+/);
    // float64 [N] × 8 bytes counts too
    const wide = new Uint8Array(gzipSync(concat(idxHeader([2 ** 28], 0x0e), new Uint8Array(8)))); // 2 GiB of float64
    await failsFast(() => loadIdx(wide), /float64 \(2147483656 bytes with the header\), more than the limit/);
  });

  it('maxBytes raises or lowers the cap; exact, truncated and oversized files behave as before', async () => {
    const data = new Uint8Array(3 * MiB).map((_, i) => i % 256);
    const file = encodeIdx({ type: 'uint8', shape: [3, MiB], data });
    const gz = new Uint8Array(gzipSync(file));
    expect(same((await loadIdx(gz)).data, data)).toBe(true);
    await expect(loadIdx(gz, { maxBytes: MiB })).rejects.toThrow(/declares shape \[3,1048576\] of uint8 \(3145740 bytes with the header\), more than the limit of 1048576 bytes \(raise it with \{ maxBytes \}\)/);
    expect((await loadIdx(gz, { maxBytes: file.length })).shape).toEqual([3, MiB]);
    await expect(loadIdx(gz.slice(0, 40), { maxBytes: 4 * MiB })).rejects.toThrow(AxonError); // cut-off gzip
    let seed = 1;
    const noise = encodeIdx({ type: 'uint8', shape: [3, 1000], data: new Uint8Array(3000).map(() => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24) });
    const short = new Uint8Array(gzipSync(noise.subarray(0, 1000)));
    await expect(loadIdx(short)).rejects.toThrow(/loadIdx: truncated IDX data: shape \[3,1000\] of uint8 needs 3012 bytes, got 1000/);
    expect((await loadIdx(new Uint8Array(gzipSync(noise)))).shape).toEqual([3, 1000]);
    await expect(loadIdx(new Uint8Array(gzipSync(file.subarray(0, 6))))).rejects.toThrow(/truncated IDX header: 2 dimensions need 12 bytes, got 6/);
    await expect(loadIdx(new Uint8Array(gzipSync(new Uint8Array([1, 0, 8, 1]))))).rejects.toThrow(/wrong magic number 01 00 08 01/);
    await expect(loadIdx(new Uint8Array(gzipSync(concat(file, new Uint8Array(5)))))).rejects.toThrow(/unexpected trailing bytes/);
    await expect(loadIdx(file, { maxBytes: -1 })).rejects.toThrow(/loadIdx: expected maxBytes to be a positive integer/);
  });
});

describe('files that are not regular files, and size caps on reading', () => {
  const dir = mkdtempSync(join(tmpdir(), 'axon-limits-'));
  const sub = join(dir, 'a-directory');
  mkdirSync(sub);

  it('refuses a directory with an AxonError naming the path (every reader)', async () => {
    await expect(readBytes(sub)).rejects.toThrow(new RegExp(`readBytes: '${sub}' is a directory, not a regular file; refusing to read it`));
    await expect(loadIdx(sub)).rejects.toThrow(/loadIdx: .*a-directory' is a directory, not a regular file/);
    await expect(fromCsv(sub)).rejects.toThrow(/fromCsv: .*a-directory' is a directory, not a regular file/);
    await expect(loadMnist({ images: sub, labels: sub })).rejects.toThrow(/loadMnist: .*is a directory/);
  });

  it.skipIf(process.platform === 'win32')('refuses /dev/zero (endless) at once', async () => {
    await failsFast(() => readBytes('/dev/zero'), /readBytes: '\/dev\/zero' is a character device, not a regular file; refusing to read it/, 500);
    await failsFast(() => loadIdx('/dev/zero'), /loadIdx: '\/dev\/zero' is a character device/, 500);
    await failsFast(() => fromCsv('/dev/zero'), /fromCsv: '\/dev\/zero' is a character device/, 500);
    await failsFast(() => readBytes(new URL('file:///dev/zero')), /is a character device/, 500);
  });

  it.skipIf(process.platform === 'win32')('refuses a FIFO without opening it (no hang waiting for a writer)', async () => {
    const fifo = join(dir, 'pipe');
    execFileSync('mkfifo', [fifo]);
    await failsFast(() => readBytes(fifo), /readBytes: .*pipe' is a FIFO \(named pipe\), not a regular file/, 500);
    await failsFast(() => loadIdx(fifo), /is a FIFO/, 500);
    await failsFast(() => fromCsv(fifo), /is a FIFO/, 500);
  });

  it('maxBytes refuses larger files, Blobs and downloads before reading them in full', async () => {
    const path = join(dir, 'two-kb.bin');
    writeFileSync(path, new Uint8Array(2048));
    await expect(readBytes(path, { maxBytes: 1000 })).rejects.toThrow(/readBytes: .*two-kb.bin' is 2048 bytes, more than the limit of 1000 bytes \(raise it with \{ maxBytes \}\)/);
    expect(await readBytes(path, { maxBytes: 2048 })).toHaveLength(2048);
    await expect(readBytes(new Blob([new Uint8Array(2048)]), { maxBytes: 1000 })).rejects.toThrow(/the Blob is 2048 bytes, more than the limit of 1000 bytes/);
    await expect(readBytes(path, { maxBytes: Number.NaN })).rejects.toThrow(/expected maxBytes to be a positive integer/);

    let sent = 0;
    let closed = false;
    const server = createServer((req, res) => {
      if (req.url === '/declared') {
        res.writeHead(200, { 'content-length': String(5 * MiB) });
        res.end(new Uint8Array(5 * MiB));
        return;
      }
      // chunked, no Content-Length: 64 KiB at a time until the client hangs up (or 64 MiB)
      res.writeHead(200);
      res.on('close', () => (closed = true));
      const chunk = new Uint8Array(65536);
      const pump = (): void => {
        while (sent < 64 * MiB && !closed) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      await expect(readBytes(`${base}/declared`, { maxBytes: MiB })).rejects.toThrow(/is 5242880 bytes \(Content-Length\), more than the limit of 1048576 bytes/);
      await expect(readBytes(`${base}/stream`, { maxBytes: MiB })).rejects.toThrow(/stream is larger than the limit of 1048576 bytes/);
      await new Promise((r) => setTimeout(r, 100));
      expect(sent).toBeLessThan(32 * MiB); // the download was cancelled, not read to the end
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});

describe('CSV limits', () => {
  it('caps rows and columns while parsing (raisable by option) and names the line', () => {
    expect(CSV_LIMITS).toEqual({ maxBytes: 256 * MiB, maxRows: 10_000_000, maxColumns: 100_000 });
    const text = 'a,b\n' + '1,2\n'.repeat(100);
    expect(parseCsv(text, { maxRows: 100 }).rows).toHaveLength(100);
    expect(() => parseCsv(text, { maxRows: 99 })).toThrow(/parseCsv: line 101: more than 99 data records, the limit \(raise it with \{ maxRows \}\)/);
    expect(() => parseCsv('1\n2\n3\n', { header: false, maxRows: 2 })).toThrow(/line 3: more than 2 data records/);
    expect(() => fromCsvText(text, { maxRows: 10 })).toThrow(/fromCsv: line 12: more than 10 data records/);
    const wide = Array.from({ length: 50 }, (_, i) => `c${i}`).join(',') + '\n';
    expect(parseCsv(wide, { maxColumns: 50 }).columns).toHaveLength(50);
    expect(() => parseCsv(wide, { maxColumns: 49 })).toThrow(/parseCsv: line 1, column 50: more than 49 fields in one record, the limit \(raise it with \{ maxColumns \}\)/);
    expect(() => parseCsv(text, { maxRows: 0 })).toThrow(/expected maxRows to be a positive integer/);
  });

  it('the default column cap stops a one-line CSV with a million fields', () => {
    const line = ','.repeat(1_000_000);
    const t0 = performance.now();
    expect(() => parseCsv(line)).toThrow(/line 1, column 100001: more than 100000 fields in one record/);
    expect(performance.now() - t0).toBeLessThan(2000);
  });

  it('fromCsv refuses sources over maxBytes before reading them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'axon-csv-limits-'));
    const path = join(dir, 'big.csv');
    writeFileSync(path, 'a,b\n' + '1,2\n'.repeat(1000));
    expect((await fromCsv(path)).size).toBe(1000);
    await expect(fromCsv(path, { maxBytes: 1000 })).rejects.toThrow(/fromCsv: .*big.csv' is 4004 bytes, more than the limit of 1000 bytes \(raise it with \{ maxBytes \}\)/);
    await expect(fromCsv(new TextEncoder().encode('a\n1\n2\n'), { maxBytes: 4 })).rejects.toThrow(/fromCsv: the CSV data is 6 bytes, more than the limit of 4 bytes/);
  });
});
