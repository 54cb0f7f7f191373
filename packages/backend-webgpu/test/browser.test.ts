// The browser path: the backend bundled with esbuild, loaded in headless Chromium, started on
// navigator.gpu (SwiftShader there), running a small forward/backward-style workload (and one
// attention kernel) through @axon/core's registry. Needs Debian's chromium
// (scripts/install-webgpu-deps.sh installs it); without it the test fails and says how to install
// it (a skipped backend must not report green).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const here = dirname(fileURLToPath(import.meta.url));

const PAGE_ENTRY = `
import { WebGPUBackend, acquireDevice } from '${join(here, '../src/index.ts').replaceAll('\\\\', '/')}';
async function run() {
  const acq = await acquireDevice();
  const b = new WebGPUBackend(acq);
  const v = (buf, shape, strides, offset = 0) => ({ buf, dtype: buf.dtype, shape, strides, offset });
  const x = b.alloc('float32', 6); b.write(x, new Float32Array([1, -2, 3, -4, 5, -6]));
  const w = b.alloc('float32', 6); b.write(w, new Float32Array([0.5, 1, 1.5, 2, 2.5, 3]));
  // y = relu(x[2,3] @ w^T[3,2]) with w a transposed view, then sum over rows, then exp
  const y = b.alloc('float32', 4);
  b.matmul(v(x, [1, 2, 3], [0, 3, 1]), v(w, [1, 3, 2], [0, 1, 3]), y);
  const r = b.alloc('float32', 4); b.unary('relu', v(y, [4], [1]), r);
  const s = b.alloc('float32', 2); b.reduce('sum', v(r, [2, 2], [2, 1]), [0], s);
  const e = b.alloc('float32', 2); b.unary('exp', v(s, [2], [1]), e);
  const u = b.alloc('float32', 5); b.random('uniform', 42, 7, 0, 1, u);
  // causal attention over 2 keys of dimension 1 with q·k = 0 (the flash-attention kernel)
  const q = b.alloc('float32', 2); b.write(q, new Float32Array([1, 1]));
  const k = b.alloc('float32', 2); b.write(k, new Float32Array([0, 0]));
  const vv = b.alloc('float32', 2); b.write(vv, new Float32Array([1, 3]));
  const ao = b.alloc('float32', 2); const al = b.alloc('float32', 2);
  b.attention(v(q, [1, 2, 1], [2, 1, 1]), v(k, [1, 2, 1], [2, 1, 1]), v(vv, [1, 2, 1], [2, 1, 1]), null, 1, true, ao, al);
  const out = { adapter: b.adapterDescription, source: b.source, emulated: b.emulated,
    y: Array.from(await b.read(y)), e: Array.from(await b.read(e)), u: Array.from(await b.read(u)),
    att: Array.from(await b.read(ao)), lse: Array.from(await b.read(al)) };
  b.dispose();
  return out;
}
window.__result = run().catch((err) => ({ error: String(err && err.stack || err) }));
`;

describe('browser (headless Chromium, navigator.gpu)', () => {
  it('starts on navigator.gpu and computes the same values as float64 references', async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: run scripts/install-webgpu-deps.sh (or set CHROMIUM_PATH)`);
    const dir = mkdtempSync(join(tmpdir(), 'axon-webgpu-browser-'));
    const bundle = await build({ stdin: { contents: PAGE_ENTRY, resolveDir: here, loader: 'js' }, bundle: true, format: 'esm', write: false, platform: 'browser', conditions: ['source'], logLevel: 'silent' });
    const js = bundle.outputFiles[0]!.text;
    const server = createServer((req, res) => {
      if (req.url === '/bundle.js') {
        res.writeHead(200, { 'content-type': 'text/javascript' });
        res.end(js);
      } else {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<!doctype html><script type="module" src="/bundle.js"></script>');
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--enable-unsafe-webgpu'],
    });
    try {
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${port}/`);
      await page.waitForFunction(() => (window as unknown as { __result?: unknown }).__result !== undefined, undefined, { timeout: 60_000 });
      const res = (await page.evaluate(() => (window as unknown as { __result: Promise<unknown> }).__result)) as {
        error?: string;
        adapter: string;
        source: string;
        emulated: boolean;
        y: number[];
        e: number[];
        u: number[];
        att: number[];
        lse: number[];
      };
      expect(res.error, res.error).toBeUndefined();
      console.log(`[webgpu] browser adapter: ${res.adapter} via ${res.source}${res.emulated ? ' (software emulation)' : ''}`);
      expect(res.source).toBe('navigator.gpu');
      // x = [[1,-2,3],[-4,5,-6]], wᵀ = [[0.5,2],[1,2.5],[1.5,3]]
      const y = [1 * 0.5 - 2 * 1 + 3 * 1.5, 1 * 2 - 2 * 2.5 + 3 * 3, -4 * 0.5 + 5 * 1 - 6 * 1.5, -4 * 2 + 5 * 2.5 - 6 * 3];
      expect(res.y).toEqual(y.map(Math.fround));
      const relu = y.map((v) => Math.max(v, 0));
      const e = [Math.exp(relu[0]! + relu[2]!), Math.exp(relu[1]! + relu[3]!)];
      res.e.forEach((g, i) => expect(Math.abs(g - e[i]!)).toBeLessThanOrEqual(1e-5 * e[i]!));
      expect(res.u.every((v) => v >= 0 && v < 1)).toBe(true);
      // row 0 sees key 0 only; row 1 weighs both keys equally
      expect(res.att).toEqual([1, 2]);
      expect(Math.abs(res.lse[0]!)).toBeLessThanOrEqual(1e-6);
      expect(Math.abs(res.lse[1]! - Math.log(2))).toBeLessThanOrEqual(1e-6);
    } finally {
      await browser.close();
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
