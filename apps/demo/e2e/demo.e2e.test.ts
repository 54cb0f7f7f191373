/**
 * The demo site end to end, in Debian's headless Chromium (playwright-core, --enable-unsafe-webgpu):
 * it loads without console errors, trains on WASM and on WebGPU (SwiftShader here) with a falling
 * loss, predicts a drawn digit, stays responsive (pause takes effect within a second), downloads a
 * model, loads a model written by `axon train`, shows a visible error for a corrupt file and keeps
 * working, is keyboard-reachable and fits a phone's width, and ships under 300 KB of gzipped JS.
 * A screenshot of the trained page is kept in test-results/.
 */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { setBackend } from '@axon/core';
import '@axon/backend-wasm';
import { deserializeModel, parseSafetensors } from '@axon/layers';
import { parseOnnx } from '@axon/onnx';
import type { Browser, Download, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CSP_DIRECTIVES, contentSecurityPolicy } from '../csp.js';
import { type CliModel, DEMO, RESULTS, type Site, buildAndServe, cspViolations, evalWithCli, jsSizes, launch, pageJs, newPage, openPage, requireChromium, serveBuilt, serveDev, trainWithCli } from './harness.js';

interface DemoState {
  state: string;
  backend: string;
  backends: { name: string; available: boolean; emulated?: boolean; reason?: string }[];
  crossOriginIsolated: boolean;
  workerCrossOriginIsolated: boolean | null;
  features: Record<string, boolean | number | string> | null;
  featureText: string;
  hasModel: boolean;
  steps: number[];
  losses: number[];
  epochs: { epoch: number; testAccuracy: number; seconds: number }[];
  prediction: null | { digit: number; probs: number[] };
  gridAccuracy: number | null;
  modelVersion: number;
  gridFor: number;
  errors: string[];
  cspViolations: string[];
  done: number;
  modelsLoaded: number;
  saved: { name: string; bytes: number }[];
  exporting: number;
}

const demoState = (page: Page): Promise<DemoState> => page.evaluate(() => (window as unknown as { axonDemo: DemoState }).axonDemo);

/**
 * Waits until `pred` holds for the page's `axonDemo` state, read every 50 ms. Not with a string
 * `page.waitForFunction`: Playwright re-evaluates a string predicate with `eval` while polling,
 * which the site's Content-Security-Policy (no 'unsafe-eval') rightly refuses.
 */
async function waitFor(page: Page, pred: (d: DemoState) => boolean, timeout = 60_000): Promise<void> {
  const end = Date.now() + timeout;
  for (;;) {
    const d = (await demoState(page)) as DemoState | undefined; // undefined until the page's script runs
    if (d && pred(d)) return;
    if (Date.now() > end) throw new Error(`waitFor: not true after ${timeout} ms: ${pred.toString()} (state ${d?.state}, errors ${JSON.stringify(d?.errors)})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function configure(page: Page, o: { model?: string; epochs: number; batch: number; lr: number; size: string }): Promise<void> {
  await page.selectOption('#model', o.model ?? 'mlp');
  await page.fill('#epochs', String(o.epochs));
  await page.fill('#batch', String(o.batch));
  await page.fill('#lr', String(o.lr));
  await page.selectOption('#train-size', o.size);
}

async function train(page: Page, o: Parameters<typeof configure>[1], timeout = 90_000): Promise<DemoState> {
  await configure(page, o);
  const before = (await demoState(page)).done;
  await page.click('#start');
  await waitFor(page, (d) => d.done > before && d.state === 'idle', timeout);
  return demoState(page);
}

const mean = (a: number[]): number => a.reduce((s, v) => s + v, 0) / a.length;

/** Draws a stroke through the given points (fractions of the pad's size) with the mouse, the pad scrolled into view first. */
async function draw(page: Page, points: [number, number][]): Promise<void> {
  await page.locator('#pad').scrollIntoViewIfNeeded();
  const box = (await page.locator('#pad').boundingBox())!;
  const at = ([x, y]: [number, number]) => [box.x + x * box.width, box.y + y * box.height] as const;
  await page.mouse.move(...at(points[0]!));
  await page.mouse.down();
  for (const p of points.slice(1)) await page.mouse.move(...at(p), { steps: 8 });
  await page.mouse.up();
}

/** Clicks Download and saves the two files it offers into `dir`. */
async function downloadModel(page: Page, dir: string): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const names: string[] = [];
  const done = new Promise<void>((res) => {
    const onDownload = async (dl: Download): Promise<void> => {
      await dl.saveAs(join(dir, dl.suggestedFilename()));
      names.push(dl.suggestedFilename());
      if (names.length === 2) {
        page.off('download', onDownload);
        res();
      }
    };
    page.on('download', onDownload);
  });
  await page.click('#download');
  await done;
  return names.sort();
}

/**
 * Clicks one of the single-file downloads (ONNX, PyTorch) and saves the file it offers into `dir`.
 * An error the page shows instead fails with its text and the CSP violations seen (both cleared, so
 * that later tests do not fail on them too).
 */
async function downloadFile(page: Page, button: string, dir: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const errorsBefore = (await demoState(page)).errors.length;
  const got: { dl: Download | null } = { dl: null };
  const download = page.waitForEvent('download', { timeout: 60_000 }).then((d) => (got.dl = d));
  download.catch(() => undefined); // a timeout is reported below
  await page.click(button);
  const end = Date.now() + 60_000;
  while (!got.dl) {
    const errs = (await demoState(page)).errors.slice(errorsBefore);
    if (errs.length > 0) {
      await page.waitForTimeout(500); // a CSP violation in the worker is reported after the error reply
      const d = await demoState(page);
      await page.evaluate(() => {
        const demo = (window as unknown as { axonDemo: DemoState }).axonDemo;
        demo.errors = [];
        demo.cspViolations = [];
      });
      await page.click('#error-close');
      throw new Error(`${button}: the page shows an error instead of a download: ${errs.join('; ')}${d.cspViolations.length ? ` (CSP violations: ${d.cspViolations.join('; ')})` : ''}`);
    }
    if (Date.now() > end) throw new Error(`${button}: no download after 60 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
  await got.dl.saveAs(join(dir, got.dl.suggestedFilename()));
  return got.dl.suggestedFilename();
}

/** A safetensors file's header: its tensors' dtypes and shapes, and its metadata. */
function safetensorsHeader(bytes: Uint8Array): { tensors: Record<string, [string, number[]]>; metadata: unknown; dataBytes: number } {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(buf.readBigUInt64LE(0));
  const { __metadata__: metadata, ...rest } = JSON.parse(buf.subarray(8, 8 + n).toString('utf8')) as Record<string, { dtype: string; shape: number[] }>;
  return { tensors: Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, [v.dtype, v.shape]])), metadata, dataBytes: buf.length - 8 - n };
}

/** Test images in Node: the first `n` of the 10,000 (the site's gzipped IDX file), as floats in [0, 1]. */
function testImages(n: number): Float32Array {
  const idx = gunzipSync(readFileSync(join(DEMO, 'public', 'data', 't10k-images-idx3-ubyte.gz')));
  const out = new Float32Array(n * 784);
  for (let i = 0; i < out.length; i++) out[i] = idx[16 + i]! / 255;
  return out;
}

/** No console errors, no error shown on the page, no Content-Security-Policy violation (page or worker). */
async function expectNoErrors(page: Page, errors: string[]): Promise<void> {
  expect(errors).toEqual([]);
  const d = await demoState(page);
  expect(d.errors).toEqual([]);
  expect(await cspViolations(page), 'CSP violations in the page').toEqual([]);
  expect(d.cspViolations, 'CSP violations seen by the app (page and worker)').toEqual([]);
}

/** Every inline script, event-handler attribute, style attribute or <style> element in an HTML text. */
function inlineCode(html: string): string[] {
  return [...html.matchAll(/<script\b(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=|\sstyle\s*=|<style\b/gi)].map((m) => m[0]);
}

/** The two headers that make a page cross-origin isolated (threads need it), as vite.config.ts sends them. */
const ISOLATION = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' } as const;

/**
 * The responses that should carry the isolation headers and do not (revalidations included: a
 * module imported by both the page and the worker is fetched twice, the second time answered with
 * a 304, whose headers are what Chromium reports). Not checked: `blob:` URLs (the WASM thread
 * pool's workers, made in the page's worker: they inherit its isolation).
 */
function withoutIsolation(responses: readonly Received[]): string[] {
  return responses.filter((r) => !r.url.startsWith('blob:') && r.isolation !== true).map((r) => `${r.url} (${r.status}): ${r.isolation}`);
}

/** Fetches `url` twice, the second time revalidating with its ETag: both responses' isolation headers and the second status. */
async function revalidate(url: string | URL): Promise<{ first: boolean | string; second: boolean | string; status: number }> {
  const a = await fetch(url);
  await a.body?.cancel();
  const etag = a.headers.get('etag');
  expect(etag, `${String(url)} has an ETag`).not.toBeNull();
  const b = await fetch(url, { headers: { 'if-none-match': etag! } });
  await b.body?.cancel();
  return { first: isolationOf(a.headers), second: isolationOf(b.headers), status: b.status };
}

/** Whether a response carries both isolation headers (`true`), neither (`false`), or something else (the values). */
function isolationOf(headers: Record<string, string> | Headers): boolean | string {
  const get = (k: string): string | null => (headers instanceof Headers ? headers.get(k) : (headers[k] ?? null));
  const [coop, coep] = [get('cross-origin-opener-policy'), get('cross-origin-embedder-policy')];
  if (coop === ISOLATION['cross-origin-opener-policy'] && coep === ISOLATION['cross-origin-embedder-policy']) return true;
  if (coop === null && coep === null) return false;
  return `COOP ${coop}, COEP ${coep}`;
}

interface Received {
  readonly url: string;
  readonly status: number;
  readonly isolation: boolean | string;
}

/**
 * Opens `url` recording every response the page and its workers receive (URL, status and whether
 * it carries the isolation headers), and waits until the demo is idle.
 */
async function openRecording(b: Browser, url: string): Promise<{ page: Page; errors: string[]; responses: Received[]; failed: string[] }> {
  const { page, errors } = await newPage(b);
  const responses: Received[] = [];
  const failed: string[] = [];
  page.context().on('response', (r) => {
    void r.allHeaders().then((h) => responses.push({ url: r.url(), status: r.status(), isolation: isolationOf(h) }));
  });
  page.context().on('requestfailed', (r) => failed.push(`${r.url()}: ${r.failure()?.errorText}`));
  await page.goto(url);
  await waitFor(page, (d) => d.state === 'idle');
  return { page, errors, responses, failed };
}

let site: Site;
let browser: Browser;
let cliModel: CliModel;

// A missing Chromium (or a failed build) must fail every test, not skip them (a failing
// beforeAll would only mark them skipped): the error is kept and thrown before each test.
let setupError: unknown = null;

beforeAll(async () => {
  try {
    requireChromium();
    mkdirSync(RESULTS, { recursive: true });
    [site, cliModel] = await Promise.all([buildAndServe(), trainWithCli()]);
    browser = await launch();
  } catch (e) {
    setupError = e;
  }
}, 240_000);

beforeEach(() => {
  if (setupError) throw setupError;
});

afterAll(async () => {
  await browser?.close();
  await site?.close();
});

describe('demo site', () => {
  it('ships under 300 KB of gzipped JavaScript per page (page + worker + lazy chunks); the MNIST page loads none of the GPT page’s', () => {
    const report: string[] = [];
    const totals: Record<string, number> = {};
    for (const html of ['index.html', 'gpt.html']) {
      const sizes = pageJs(site.outDir, html);
      const total = sizes.reduce((s, f) => s + f.gzip, 0);
      totals[html] = total;
      report.push(`${html}: ${(total / 1024).toFixed(1)} KB gzipped in ${sizes.length} files`, ...sizes.map((f) => `  ${f.file}: ${(f.bytes / 1024).toFixed(1)} KB, ${(f.gzip / 1024).toFixed(1)} KB gzipped`));
      expect(total, html).toBeLessThan(300 * 1024);
    }
    const all = jsSizes(site.outDir);
    report.push(`all files: ${(all.reduce((s, f) => s + f.gzip, 0) / 1024).toFixed(1)} KB gzipped in ${all.length} files`);
    console.log(`demo JavaScript:\n${report.join('\n')}`);
    writeFileSync(join(RESULTS, 'js-size.txt'), `${report.join('\n')}\n`);
    // the pages are built apart (vite.config.ts, GPT_PAGE_MODE): the MNIST page loads none of the GPT
    // page's files (its script and its worker: layers, optimizers, the model) and they share no chunk
    const mnist = pageJs(site.outDir, 'index.html').map((f) => f.file);
    const gpt = pageJs(site.outDir, 'gpt.html').map((f) => f.file);
    expect(mnist.filter((f) => f.startsWith('gpt'))).toEqual([]);
    expect(gpt.filter((f) => f.startsWith('gpt'))).toHaveLength(2);
    expect(mnist.filter((f) => gpt.includes(f))).toEqual([]);
  });

  describe('on WASM', () => {
    let page: Page;
    let errors: string[];

    beforeAll(async () => {
      if (setupError) return;
      ({ page, errors } = await openPage(browser, `${site.url}?backend=wasm`));
    }, 90_000);

    it('loads with no console errors and lists the backends', async () => {
      const d = await demoState(page);
      expect(d.backend).toBe('wasm');
      expect(d.backends.map((b) => b.name).sort()).toEqual(['wasm', 'webgpu']);
      await expect(page.locator('#backend').inputValue()).resolves.toBe('wasm');
      const gpu = d.backends.find((b) => b.name === 'webgpu')!;
      // the page says why WebGPU is not the default (unavailable, or emulated here)
      if (!gpu.available || gpu.emulated) expect(await page.textContent('#backend-note')).toMatch(/WebGPU/);
      await expectNoErrors(page, errors);
    });

    it('trains the MLP: the loss falls, test accuracy, samples/s and time per epoch show', async () => {
      const d = await train(page, { epochs: 1, batch: 64, lr: 0.003, size: '5000' });
      console.log(`wasm MLP: ${d.steps.at(-1)} steps, loss ${d.losses[0]!.toFixed(3)} → ${d.losses.at(-1)!.toFixed(3)}, test accuracy ${d.epochs[0]?.testAccuracy}`);
      expect(d.losses.length).toBeGreaterThanOrEqual(6);
      expect(mean(d.losses.slice(-3))).toBeLessThan(mean(d.losses.slice(0, 3)) * 0.75);
      expect(d.epochs).toHaveLength(1);
      expect(d.epochs[0]!.testAccuracy).toBeGreaterThan(0.6);
      expect(await page.textContent('#stat-speed')).toMatch(/\d/);
      expect(await page.textContent('#stat-epoch-time')).toMatch(/\d.* s/);
      await waitFor(page, (d) => d.state === 'idle' && d.gridFor === d.modelVersion && d.gridAccuracy !== null);
      await expect(page.locator('#grid li').count()).resolves.toBe(80);
      expect(await page.locator('#grid li.wrong').count()).toBe(Math.round(80 * (1 - (await demoState(page)).gridAccuracy!)));
      await expectNoErrors(page, errors);
    });

    it('predicts a digit drawn on the canvas, with live probabilities', async () => {
      // a "7": a top bar, then a diagonal down to the bottom
      await draw(page, [
        [0.25, 0.22],
        [0.75, 0.22],
        [0.45, 0.85],
      ]);
      await waitFor(page, (d) => d.prediction !== null);
      const d = await demoState(page);
      const sum = d.prediction!.probs.reduce((a, b) => a + b, 0);
      expect(sum).toBeCloseTo(1, 3);
      const shown = await page.textContent('#predicted-digit');
      expect(shown).toBe(String(d.prediction!.digit));
      console.log(`drawn "7" predicted as ${shown} (${(Math.max(...d.prediction!.probs) * 100).toFixed(1)}%)`);
      // the 28×28 preview shows ink
      const ink = await page.evaluate(() => {
        const c = document.getElementById('preview') as HTMLCanvasElement;
        const px = c.getContext('2d')!.getImageData(0, 0, 28, 28).data;
        let s = 0;
        for (let i = 0; i < px.length; i += 4) s += px[i]!;
        return s;
      });
      expect(ink).toBeGreaterThan(0);
      await page.screenshot({ path: join(RESULTS, 'demo-trained.png'), fullPage: true });
      await expectNoErrors(page, errors);
    });

    it('downloads the trained model as model.json + model.safetensors, which `axon eval` reads', async () => {
      const dir = join(RESULTS, 'downloaded-mlp');
      expect(await downloadModel(page, dir)).toEqual(['model.json', 'model.safetensors']);
      const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as { format: string; className: string; weights: string };
      expect(json.format).toBe('axon-model/1');
      expect(json.weights).toBe('model.safetensors');
      const st = readFileSync(join(dir, 'model.safetensors'));
      const headerLen = Number(st.readBigUInt64LE(0));
      const header = JSON.parse(st.subarray(8, 8 + headerLen).toString('utf8')) as Record<string, unknown>;
      expect(Object.keys(header).filter((k) => k !== '__metadata__').length).toBe(4); // two Dense layers: kernel + bias each
      // the CLI reads the page's files: `axon eval` on the downloaded folder
      const acc = await evalWithCli(dir);
      console.log(`axon eval on the model trained in the page: ${(acc * 100).toFixed(2)}% on the 10,000 test images`);
      expect(acc).toBeGreaterThan(0.6);
      await expectNoErrors(page, errors);
    });

    it('downloads the trained model as ONNX: parseOnnx reads it in Node, with a dynamic batch and the downloaded model’s predictions', async () => {
      await waitFor(page, (d) => d.state === 'idle');
      await expect(page.locator('#download-onnx').isEnabled()).resolves.toBe(true);
      await expect(page.locator('#download-torch').isEnabled()).resolves.toBe(true);
      // what each file is for, with the interop guide
      const note = (await page.textContent('#export-note'))!;
      expect(note).toMatch(/onnxruntime/);
      expect(note).toMatch(/load_state_dict/);
      await expect(page.locator('#export-note a').getAttribute('href')).resolves.toBe('https://github.com/axon-ml/axon/blob/main/apps/docs/guides/interop.md');
      const dir = join(RESULTS, 'downloaded-mlp');
      expect(await downloadFile(page, '#download-onnx', dir)).toBe('model.onnx');
      await waitFor(page, (d) => d.exporting === 0);
      expect((await demoState(page)).saved.map((f) => f.name)).toEqual(['model.json', 'model.safetensors', 'model.onnx']);
      expect(await page.textContent('#download-links')).toMatch(/Saved: model\.json .*, model\.safetensors .* and model\.onnx \(\d+ KB\)/);

      // model.onnx: a protobuf ModelProto (field 1, ir_version, first), which parseOnnx reads in Node and
      // which predicts what the model downloaded before (model.json + model.safetensors) predicts, at any batch
      const onnxBytes = new Uint8Array(readFileSync(join(dir, 'model.onnx')));
      console.log(`model.onnx: ${onnxBytes.length} bytes`);
      expect(onnxBytes.length).toBeGreaterThan((784 * 128 + 128 + 128 * 10 + 10) * 4);
      expect(onnxBytes.length).toBeLessThan((784 * 128 + 128 + 128 * 10 + 10) * 4 + 64 * 1024);
      expect(onnxBytes[0]).toBe(0x08);
      await setBackend('wasm');
      const onnx = parseOnnx(onnxBytes);
      const axon = deserializeModel(readFileSync(join(dir, 'model.json'), 'utf8'), new Uint8Array(readFileSync(join(dir, 'model.safetensors'))));
      try {
        expect(onnx.inputNames).toEqual(['pixels']);
        expect(onnx.inputShapes).toEqual([[null, 28, 28]]);
        expect(onnx.outputNames).toEqual(['probabilities']);
        for (const n of [1, 7]) {
          const x = testImages(n);
          const [a, b] = [onnx.predict({ data: x, shape: [n, 28, 28] }), axon.predict({ data: x, shape: [n, 28, 28] })];
          expect(a.shape).toEqual([n, 10]);
          const [pa, pb] = [(await a.data()) as Float32Array, (await b.data()) as Float32Array];
          a.dispose();
          b.dispose();
          for (let i = 0; i < pa.length; i++) expect(Math.abs(pa[i]! - pb[i]!), `batch ${n} [${i}]`).toBeLessThan(1e-5);
        }
      } finally {
        onnx.dispose();
        axon.dispose();
      }
      await expectNoErrors(page, errors);
    });

    it('downloads the trained model as PyTorch weights: nn.Sequential names and layouts, F32', async () => {
      await waitFor(page, (d) => d.state === 'idle');
      const dir = join(RESULTS, 'downloaded-mlp');
      const savedBefore = (await demoState(page)).saved.map((f) => f.name);
      expect(await downloadFile(page, '#download-torch', dir)).toBe('model.pt.safetensors');
      await waitFor(page, (d) => d.exporting === 0);
      expect((await demoState(page)).saved.map((f) => f.name)).toEqual([...savedBefore, 'model.pt.safetensors']);
      expect(await page.textContent('#download-links')).toMatch(/model\.pt\.safetensors \(\d+ KB\)$/);

      // model.pt.safetensors: nn.Sequential(Flatten, Linear(784, 128), ReLU, Dropout, Linear(128, 10), Softmax)'s state dict in F32
      const pt = new Uint8Array(readFileSync(join(dir, 'model.pt.safetensors')));
      const h = safetensorsHeader(pt);
      expect(h.metadata).toEqual({ format: 'pt' });
      expect(h.tensors).toEqual({ '1.weight': ['F32', [128, 784]], '1.bias': ['F32', [128]], '4.weight': ['F32', [10, 128]], '4.bias': ['F32', [10]] });
      expect(h.dataBytes).toBe((784 * 128 + 128 + 128 * 10 + 10) * 4);
      // Linear's weight is the downloaded model's Dense kernel, transposed
      const kernel = Object.entries(parseSafetensors(new Uint8Array(readFileSync(join(dir, 'model.safetensors')))).tensors).find(([, e]) => e.shape.join() === '784,128')![1].data as Float32Array;
      const weight = parseSafetensors(pt).tensors['1.weight']!.data as Float32Array;
      for (const [i, j] of [[0, 0], [5, 300], [127, 783]] as const) expect(weight[i * 784 + j]).toBe(kernel[j * 128 + i]);
      await expectNoErrors(page, errors);
    });

    it('stays responsive while training the CNN: pause takes effect within a second', async () => {
      await configure(page, { model: 'cnn', epochs: 2, batch: 32, lr: 0.001, size: '10000' });
      const before = (await demoState(page)).done;
      await page.click('#start');
      await waitFor(page, (d) => d.state === 'training' && d.steps.length >= 2, 60_000);
      // the main thread answers quickly while the worker trains
      const frame = await page.evaluate(() => new Promise<number>((r) => {
        const t = performance.now();
        requestAnimationFrame(() => r(performance.now() - t));
      }));
      expect(frame).toBeLessThan(250);
      const t0 = Date.now();
      await page.click('#pause');
      await page.waitForSelector('#status[data-state="paused"]', { timeout: 1000 });
      const pauseMs = Date.now() - t0;
      console.log(`pause took effect in ${pauseMs} ms (first frame while training: ${frame.toFixed(0)} ms)`);
      expect(pauseMs).toBeLessThan(1000);
      const steps = (await demoState(page)).steps.length;
      await page.waitForTimeout(600);
      expect((await demoState(page)).steps.length).toBe(steps); // no progress while paused
      await expect(page.locator('#pause').getAttribute('aria-pressed')).resolves.toBe('true');
      await page.click('#pause'); // resume
      await waitFor(page, (d) => d.steps.length > steps, 30_000);
      const t1 = Date.now();
      await page.click('#stop');
      await waitFor(page, (d) => d.done > before && d.state === 'idle', 30_000);
      console.log(`stop took ${Date.now() - t1} ms`);
      expect(await page.textContent('#status')).toMatch(/Stopped/);
      await expectNoErrors(page, errors);
    });

    it('downloads the CNN and loads it back: same predictions', async () => {
      await waitFor(page, (d) => d.state === 'idle' && d.gridFor === d.modelVersion);
      const before = await demoState(page);
      const dir = join(RESULTS, 'downloaded-cnn');
      await downloadModel(page, dir);
      await page.setInputFiles('#upload', [join(dir, 'model.json'), join(dir, 'model.safetensors')]);
      await waitFor(page, (d) => d.modelsLoaded === before.modelsLoaded + 1 && d.gridFor === d.modelVersion);
      expect(await page.textContent('#model-info')).toMatch(/Loaded: .*Conv\(32\).*Conv\(64\)/);
      expect((await demoState(page)).gridAccuracy).toBe(before.gridAccuracy);
      await expectNoErrors(page, errors);
    });

    it('loads a model written by `axon train` and predicts with it', async () => {
      const loaded = (await demoState(page)).modelsLoaded;
      // the folder as save() leaves it after an interrupted save: model.json names one of two weights files
      const weightsName = basename(cliModel.weights);
      expect(weightsName).toMatch(/^model-[0-9a-f]{16}\.safetensors$/);
      const stale = { name: 'model-0000000000000000.safetensors', mimeType: 'application/octet-stream', buffer: Buffer.from('not the weights') };
      await page.setInputFiles('#upload', [stale, { name: 'model.json', mimeType: 'application/json', buffer: readFileSync(cliModel.json) }, { name: weightsName, mimeType: 'application/octet-stream', buffer: readFileSync(cliModel.weights) }]);
      await waitFor(page, (d) => d.modelsLoaded === loaded + 1);
      expect(await page.textContent('#model-info')).toContain(`Loaded: model.json + ${weightsName}: Flatten → Dense(128, relu)`);
      await waitFor(page, (d) => d.state === 'idle' && d.gridFor === d.modelVersion && d.gridAccuracy !== null);
      // the grid now shows the CLI model's predictions (trained on 3,000 digits for an epoch)
      await page.waitForFunction(() => /right/.test(document.getElementById('grid-summary')?.textContent ?? ''));
      const acc = (await demoState(page)).gridAccuracy!;
      console.log(`CLI model: ${(acc * 100).toFixed(1)}% of the first 80 test images right`);
      expect(acc).toBeGreaterThan(0.6);
      // the same two files dropped on the page load too
      const dt = await page.evaluateHandle(
        ({ json, weights }) => {
          const t = new DataTransfer();
          t.items.add(new File([json], 'model.json', { type: 'application/json' }));
          t.items.add(new File([new Uint8Array(weights)], 'model.safetensors'));
          return t;
        },
        { json: readFileSync(cliModel.json, 'utf8'), weights: [...readFileSync(cliModel.weights)] },
      );
      await page.dispatchEvent('#drop', 'drop', { dataTransfer: dt });
      await waitFor(page, (d) => d.modelsLoaded === loaded + 2);
      // and predicts a test digit shown on the pad (keyboard: focus the button and press Enter)
      await page.evaluate(() => ((window as unknown as { axonDemo: DemoState }).axonDemo.prediction = null));
      await page.focus('#sample');
      await page.keyboard.press('Enter');
      await waitFor(page, (d) => d.prediction !== null);
      expect((await page.textContent('#prediction')) ?? '').toMatch(/Prediction: \d/);
      await expectNoErrors(page, errors);
    });

    it('shows a visible error for a corrupt model file and keeps working', async () => {
      const json = readFileSync(cliModel.json);
      const good = readFileSync(cliModel.weights);
      const corrupt = Buffer.from(good.subarray(0, 200)); // truncated: header promises more than there is
      const alert = page.locator('#upload-error');
      /** Picks `files`, waits for the next error and returns the alert's text. */
      const upload = async (files: Parameters<Page['setInputFiles']>[1]): Promise<string> => {
        const shown = (await demoState(page)).errors.length;
        await page.setInputFiles('#upload', files);
        await waitFor(page, (d) => d.errors.length > shown, 10_000);
        await alert.waitFor({ state: 'visible', timeout: 1000 });
        return (await alert.textContent()) ?? '';
      };
      const text = await upload([
        { name: 'model.json', mimeType: 'application/json', buffer: json },
        { name: 'model.safetensors', mimeType: 'application/octet-stream', buffer: corrupt },
      ]);
      console.log(`corrupt file → ${text}`);
      expect(text).toMatch(/Could not load the model: model\.safetensors is not a valid safetensors file/);
      // the global banner stays hidden: the error is next to the upload control
      await expect(page.locator('#error').isHidden()).resolves.toBe(true);
      // garbage that is not JSON
      expect(
        await upload([
          { name: 'model.json', mimeType: 'application/json', buffer: Buffer.from('{"format": "axon-mod') },
          { name: 'model.safetensors', mimeType: 'application/octet-stream', buffer: good },
        ]),
      ).toMatch(/model\.json is not valid JSON/);
      // only one of the two files
      expect(await upload([{ name: 'model.safetensors', mimeType: 'application/octet-stream', buffer: good }])).toMatch(/model\.json is missing.*\(got model\.safetensors\)/);
      // the page still works: the loaded CLI model (still shown) predicts, and training runs
      expect(await page.textContent('#model-info')).toMatch(/Loaded: model\.json \+ model\.safetensors: Flatten/);
      await page.evaluate(() => ((window as unknown as { axonDemo: DemoState }).axonDemo.prediction = null));
      await page.click('#clear');
      await draw(page, [
        [0.5, 0.15],
        [0.5, 0.85],
      ]);
      await waitFor(page, (d) => d.prediction !== null);
      const d = await train(page, { epochs: 1, batch: 64, lr: 0.003, size: '1000' });
      expect(d.losses.length).toBeGreaterThan(0);
      expect(d.epochs).toHaveLength(1);
      expect(d.errors).toHaveLength(3); // the three shown above, nothing else
      expect(errors).toEqual([]);
      await page.evaluate(() => ((window as unknown as { axonDemo: DemoState }).axonDemo.errors = []));
    });

    it('keeps every control labelled and reachable with the keyboard', async () => {
      const unlabelled = await page.evaluate(() =>
        [...document.querySelectorAll('input, select, button, canvas#pad')]
          .filter((el) => {
            const e = el as HTMLInputElement;
            const name = (e.labels?.length ? e.labels[0]!.textContent : '') || el.getAttribute('aria-label') || (el.tagName === 'BUTTON' ? el.textContent : '');
            return !name?.trim();
          })
          .map((el) => el.id || el.tagName),
      );
      expect(unlabelled).toEqual([]);
      await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
      const reached = new Set<string>();
      for (let i = 0; i < 60; i++) {
        await page.keyboard.press('Tab');
        reached.add(await page.evaluate(() => document.activeElement?.id ?? ''));
      }
      for (const id of ['backend', 'model', 'epochs', 'batch', 'lr', 'train-size', 'start', 'clear', 'sample', 'download', 'download-onnx', 'download-torch', 'upload']) expect(reached, id).toContain(id);
      // Enter on the focused Start button starts training; Escape-free stop with the keyboard too
      await configure(page, { epochs: 1, batch: 64, lr: 0.003, size: '1000' });
      const before = (await demoState(page)).done;
      await page.focus('#start');
      await page.keyboard.press('Enter');
      await waitFor(page, (d) => d.done > before && d.state === 'idle', 60_000);
      await expectNoErrors(page, errors);
    });
  });

  describe('WebAssembly threads (cross-origin isolation)', () => {
    /**
     * The test accuracy after the run on 2+ threads, for the run on one: same seed, same batches, and
     * the backend's results do not depend on the thread count. (The charted losses are averages over
     * chunks of batches cut by time, so they are not compared.)
     */
    let threadedAccuracy: number | null = null;

    it('the preview server sends COOP: same-origin and COEP: require-corp with every response', async () => {
      const assets = readdirSync(join(site.outDir, 'assets')).map((f) => `assets/${f}`);
      expect(assets.some((f) => /^assets\/worker-.*\.js$/.test(f)), 'the worker script is among the assets').toBe(true);
      for (const path of ['', '?backend=wasm', 'favicon.svg', 'data/t10k-labels-idx1-ubyte.gz', 'data/train-images-idx3-ubyte.gz', ...assets]) {
        const r = await fetch(new URL(path, site.url));
        expect(r.status, path).toBe(200);
        expect(isolationOf(r.headers), path).toBe(true);
        await r.body?.cancel();
      }
      // a revalidation too (Vite answers it with a 304 that carried no COOP/COEP before the plugin in vite.config.ts)
      expect(await revalidate(new URL(assets.find((f) => /^assets\/worker-/.test(f))!, site.url))).toEqual({ first: true, second: true, status: 304 });
    });

    it('the served page is crossOriginIsolated, the WASM backend runs 2+ threads and says why, and it trains', async () => {
      const { page, errors, responses, failed } = await openRecording(browser, `${site.url}?backend=wasm`);
      try {
        expect(await page.evaluate(() => window.crossOriginIsolated)).toBe(true);
        let d = await demoState(page);
        expect(d.crossOriginIsolated).toBe(true);
        expect(d.workerCrossOriginIsolated, 'the training worker is isolated too').toBe(true);
        expect(d.backend).toBe('wasm');
        const threads = d.features?.['threads'];
        const reason = d.features?.['threadsReason'];
        console.log(`isolated: ${d.featureText} (${reason}); navigator.hardwareConcurrency ${await page.evaluate(() => navigator.hardwareConcurrency)}`);
        // Chromium's hardwareConcurrency here is 2: 'auto' gives 2 threads
        expect(typeof threads, `features.threads (features: ${JSON.stringify(d.features)})`).toBe('number');
        expect(threads).toBeGreaterThanOrEqual(2);
        expect(typeof reason === 'string' && reason.length > 0, 'features.threadsReason').toBe(true);
        // shown next to the backend picker, the reason on a line below (and as the tooltip)
        const shown = (await page.textContent('#backend-features')) ?? '';
        expect(shown).toMatch(/^wasm · SIMD\b/);
        expect(shown).toMatch(new RegExp(` · ${threads} threads$`));
        expect(await page.textContent('#backend-reasons')).toBe(`threads: ${reason}`);
        expect(await page.getAttribute('#backend-features', 'title')).toBe(`threads: ${reason}`);
        await expect(page.locator('#isolation-note').isHidden()).resolves.toBe(true);
        // trains on them: the loss falls, test accuracy shows
        d = await train(page, { epochs: 1, batch: 32, lr: 0.003, size: '1000' });
        console.log(`wasm MLP on ${threads} threads: ${d.steps.at(-1)} steps, loss ${d.losses[0]!.toFixed(3)} → ${d.losses.at(-1)!.toFixed(3)}, test accuracy ${d.epochs[0]?.testAccuracy}`);
        expect(d.losses.length).toBeGreaterThanOrEqual(6);
        expect(mean(d.losses.slice(-3))).toBeLessThan(mean(d.losses.slice(0, 3)) * 0.75);
        expect(d.epochs).toHaveLength(1);
        expect(d.epochs[0]!.testAccuracy).toBeGreaterThan(0.5);
        expect(await page.textContent('#stat-acc')).toMatch(/\d%$/);
        threadedAccuracy = d.epochs[0]!.testAccuracy;
        // still on them after training (the worker posts the features again when a run ends)
        expect(d.features?.['threads']).toBe(threads);
        expect(await page.textContent('#backend-features')).toBe(shown);
        // everything the page and its workers loaded is of the same origin and carries the headers
        const origin = new URL(site.url).origin;
        expect(responses.some((r) => r.url.includes('/data/train-images')), 'the worker\'s requests are recorded').toBe(true);
        expect(responses.filter((r) => new URL(r.url).origin !== origin).map((r) => r.url)).toEqual([]);
        expect(withoutIsolation(responses)).toEqual([]);
        expect(responses.some((r) => r.url.startsWith('blob:')), 'the thread pool\'s worker is recorded').toBe(true);
        expect(failed).toEqual([]);
        await expectNoErrors(page, errors);
      } finally {
        await page.context().close();
      }
    });

    it('served without the headers: not isolated, the page says WASM runs on 1 thread and why, and training still works', async () => {
      const plain = await serveBuilt(site.outDir, { isolation: false });
      try {
        const r = await fetch(`${plain.url}?backend=wasm`);
        expect(isolationOf(r.headers), 'no COOP/COEP').toBe(false);
        expect(r.headers.get('content-security-policy')).toBe(contentSecurityPolicy());
        await r.body?.cancel();
        const { page, errors } = await openRecording(browser, `${plain.url}?backend=wasm`);
        try {
          expect(await page.evaluate(() => window.crossOriginIsolated)).toBe(false);
          let d = await demoState(page);
          expect(d.crossOriginIsolated).toBe(false);
          expect(d.workerCrossOriginIsolated).toBe(false);
          expect(d.backend).toBe('wasm');
          const reason = d.features?.['threadsReason'];
          console.log(`not isolated: ${d.featureText} (${reason})`);
          expect(d.features?.['threads'], `features.threads (features: ${JSON.stringify(d.features)})`).toBe(1);
          // the reason names the two headers that would give threads
          expect(reason).toMatch(/Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp/);
          expect(await page.textContent('#backend-features')).toMatch(/^wasm · SIMD\b.* · 1 thread$/);
          expect(await page.textContent('#backend-reasons')).toBe(`threads: ${reason}`);
          // the one-line hosting note names the two headers
          await expect(page.locator('#isolation-note').isVisible()).resolves.toBe(true);
          const note = ((await page.textContent('#isolation-note')) ?? '').replace(/\s+/g, ' ');
          expect(note).toContain('Cross-Origin-Opener-Policy: same-origin');
          expect(note).toContain('Cross-Origin-Embedder-Policy: require-corp');
          // training works on one thread
          d = await train(page, { epochs: 1, batch: 32, lr: 0.003, size: '1000' });
          console.log(`wasm MLP on 1 thread: ${d.steps.at(-1)} steps, loss ${d.losses[0]!.toFixed(3)} → ${d.losses.at(-1)!.toFixed(3)}, test accuracy ${d.epochs[0]?.testAccuracy}`);
          expect(d.losses.length).toBeGreaterThanOrEqual(6);
          expect(mean(d.losses.slice(-3))).toBeLessThan(mean(d.losses.slice(0, 3)) * 0.75);
          expect(d.epochs).toHaveLength(1);
          expect(d.epochs[0]!.testAccuracy).toBeGreaterThan(0.5);
          // the same training as on 2+ threads
          if (threadedAccuracy !== null) expect(d.epochs[0]!.testAccuracy).toBe(threadedAccuracy);
          await page.locator('header.top').screenshot({ path: join(RESULTS, 'demo-one-thread.png') });
          await expectNoErrors(page, errors);
        } finally {
          await page.context().close();
        }
      } finally {
        await plain.close();
      }
    });
  });

  describe('upload errors', () => {
    /**
     * The page scrolled down to the upload control (the window shorter than the page), then a bad
     * file: its message must be an alert next to the control, inside the viewport, naming the file,
     * and focused. Before the fix it rendered at the top of the page, above the viewport.
     */
    it('shows each bad file’s error next to the upload control, in the viewport, naming the file', async () => {
      const { page, errors } = await openPage(browser, `${site.url}?backend=wasm`, { width: 1024, height: 600 });
      try {
        const json = readFileSync(cliModel.json);
        const good = readFileSync(cliModel.weights);
        const cases: { name: string; files: { name: string; mimeType: string; buffer: Buffer }[]; message: RegExp }[] = [
          {
            name: 'notes.json',
            files: [
              { name: 'notes.json', mimeType: 'application/json', buffer: Buffer.from('these are my notes, not JSON') },
              { name: 'weights.safetensors', mimeType: 'application/octet-stream', buffer: good },
            ],
            message: /not valid JSON/,
          },
          {
            name: 'keras-model.json',
            files: [
              { name: 'keras-model.json', mimeType: 'application/json', buffer: Buffer.from('{"format": "keras", "config": {}}') },
              { name: 'weights.safetensors', mimeType: 'application/octet-stream', buffer: good },
            ],
            message: /format/,
          },
          {
            name: 'truncated.safetensors',
            files: [
              { name: 'model.json', mimeType: 'application/json', buffer: json },
              { name: 'truncated.safetensors', mimeType: 'application/octet-stream', buffer: Buffer.from(good.subarray(0, 200)) },
            ],
            message: /truncated|header length/,
          },
          {
            name: 'photo.png',
            files: [{ name: 'photo.png', mimeType: 'image/png', buffer: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]) }],
            message: /model\.json|safetensors/,
          },
        ];
        for (const c of cases) {
          await page.locator('#upload').scrollIntoViewIfNeeded();
          const scrolled = await page.evaluate(() => window.scrollY);
          expect(scrolled, 'the page is scrolled down to the upload control').toBeGreaterThan(0);
          const shown = (await demoState(page)).errors.length;
          await page.setInputFiles('#upload', c.files);
          await waitFor(page, (d) => d.errors.length > shown, 15_000);
          const alerts = page.locator('[role="alert"]:visible');
          await expect(alerts.count(), `one visible alert for ${c.name}`).resolves.toBe(1);
          const info = await alerts.first().evaluate((el) => {
            const r = el.getBoundingClientRect();
            const upload = document.getElementById('upload')!;
            return {
              text: el.textContent ?? '',
              top: r.top,
              bottom: r.bottom,
              innerHeight: window.innerHeight,
              sameSection: el.closest('section') !== null && el.closest('section') === upload.closest('section'),
              focused: el === document.activeElement || el.contains(document.activeElement),
            };
          });
          console.log(`${c.name} → ${info.text.trim()} (at ${info.top.toFixed(0)}–${info.bottom.toFixed(0)} of ${info.innerHeight})`);
          expect(info.text, 'the message names the file').toContain(c.name);
          expect(info.text).toMatch(c.message);
          expect(info.top, 'the message is not above the viewport').toBeGreaterThanOrEqual(0);
          expect(info.bottom, 'the message is not below the viewport').toBeLessThanOrEqual(info.innerHeight);
          expect(info.sameSection, 'the message is next to the upload control').toBe(true);
          expect(info.focused, 'the message has the focus').toBe(true);
        }
        // the page still works: a good model loads after the errors, and the error goes away
        await page.setInputFiles('#upload', [cliModel.json, cliModel.weights]);
        await waitFor(page, (d) => d.modelsLoaded === 1);
        await expect(page.locator('[role="alert"]:visible').count()).resolves.toBe(0);
        expect((await demoState(page)).errors).toHaveLength(cases.length);
        expect(errors).toEqual([]);
      } finally {
        await page.context().close();
      }
    });
  });

  describe('Content-Security-Policy', () => {
    it('is sent with every response (the worker’s script too) and written as a <meta> at the top of the built page', async () => {
      const policy = contentSecurityPolicy();
      console.log(`Content-Security-Policy: ${policy}`);
      // what the policy allows: no inline script, no eval (WebAssembly compilation only), nothing from elsewhere
      expect(CSP_DIRECTIVES['script-src']).toEqual(["'self'", "'wasm-unsafe-eval'"]);
      // blob: for workers only (the WASM backend's thread pool), nowhere else
      expect(policy.replace("worker-src 'self' blob:;", '')).not.toMatch(/unsafe-inline|'unsafe-eval'|\*|https?:|data:|blob:/);
      for (const d of ["default-src 'self'", "style-src 'self'", "connect-src 'self'", "worker-src 'self' blob:;", "object-src 'none'", "base-uri 'self'", "form-action 'none'", "frame-ancestors 'none'"]) expect(policy).toContain(d);
      const page = await fetch(site.url);
      expect(page.headers.get('content-security-policy')).toBe(policy);
      const html = await page.text();
      // the <meta> comes first in <head>, before any script or stylesheet, without frame-ancestors (ignored there)
      const meta = /<head>\s*<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html);
      expect(meta, 'the built index.html starts its <head> with the policy').not.toBeNull();
      expect(meta![1]!.replaceAll('&#39;', "'")).toBe(contentSecurityPolicy({ meta: true }));
      expect(contentSecurityPolicy({ meta: true })).not.toContain('frame-ancestors');
      // no inline code in the page, built or source
      expect(inlineCode(html)).toEqual([]);
      expect(inlineCode(readFileSync(join(DEMO, 'index.html'), 'utf8'))).toEqual([]);
      // a worker takes its policy from its own script's response: the WASM worker has it too
      const worker = readdirSync(join(site.outDir, 'assets')).find((f) => /^worker-.*\.js$/.test(f));
      expect(worker).toBeDefined();
      expect((await fetch(new URL(`assets/${worker}`, site.url))).headers.get('content-security-policy')).toBe(policy);
      expect((await fetch(new URL('data/t10k-labels-idx1-ubyte.gz', site.url))).headers.get('content-security-policy')).toBe(policy);
    });

    it('the built site loads, compiles WebAssembly and trains with zero violations', async () => {
      const { page, errors } = await openPage(browser, `${site.url}?backend=wasm`);
      try {
        const d = await train(page, { epochs: 1, batch: 128, lr: 0.003, size: '1000' });
        await expectNoErrors(page, errors);
        expect(d.backend).toBe('wasm');
        expect(d.losses.length).toBeGreaterThan(0);
        expect(d.epochs).toHaveLength(1);
        // the stylesheet applied (style-src 'self'), the favicon is a file (img-src 'self')
        expect(await page.evaluate(() => getComputedStyle(document.getElementById('error')!).position)).toBe('sticky');
        expect(await page.evaluate(() => (document.querySelector('link[rel="icon"]') as HTMLLinkElement).href)).toMatch(/^http:.*\/favicon\.svg$/);
      } finally {
        await page.context().close();
      }
    });

    it('blocks an inline script, an inline handler, an inline style and eval injected into the page', async () => {
      const { page } = await openPage(browser, `${site.url}?backend=wasm`);
      try {
        expect(await cspViolations(page)).toEqual([]);
        // run from a task of the page (not from the DevTools call), as an injected script would
        const result = await page.evaluate(
          () =>
            new Promise<{ injected: unknown; color: string; evalError: string }>((resolve) => {
              setTimeout(() => {
                const w = window as unknown as { injected?: string };
                const s = document.createElement('script');
                s.textContent = 'window.injected = "inline script ran"';
                document.body.append(s);
                const b = document.createElement('button');
                b.setAttribute('onclick', 'window.injected = "inline handler ran"');
                document.body.append(b);
                b.click();
                const d = document.createElement('div');
                d.setAttribute('style', 'color: rgb(1, 2, 3)');
                document.body.append(d);
                let evalError = 'none';
                try {
                  new Function('return 1')();
                } catch (e) {
                  evalError = (e as Error).name;
                }
                setTimeout(() => resolve({ injected: w.injected, color: getComputedStyle(d).color, evalError }), 100);
              }, 0);
            }),
        );
        expect(result.injected).toBeUndefined();
        expect(result.color).not.toBe('rgb(1, 2, 3)');
        expect(result.evalError).toBe('EvalError');
        const seen = await cspViolations(page);
        console.log(`blocked: ${seen.join('; ')}`);
        for (const d of ['script-src-elem blocked inline', 'script-src-attr blocked inline', 'style-src-attr blocked inline', 'script-src blocked eval']) expect(seen.some((v) => v.startsWith(d)), d).toBe(true);
      } finally {
        await page.context().close();
      }
    });

    it('the <meta> policy alone (a static host without headers) blocks an inline script, and the site works under it', async () => {
      const { page, errors } = await newPage(browser);
      try {
        const url = `${site.url}?backend=wasm&meta-only`;
        await page.route(url, async (route) => {
          const r = await route.fetch();
          const headers = { ...r.headers() };
          delete headers['content-security-policy'];
          delete headers['content-length'];
          const body = (await r.text()).replace('</head>', '<script>window.injected = "inline script ran"</script></head>');
          await route.fulfill({ response: r, headers, body });
        });
        const res = await page.goto(url);
        expect(res?.headers()['content-security-policy']).toBeUndefined();
        await waitFor(page, (d) => d.state === 'idle');
        expect(await page.evaluate(() => (window as unknown as { injected?: string }).injected)).toBeUndefined();
        expect(await cspViolations(page)).toEqual(['script-src-elem blocked inline']);
        expect((await demoState(page)).backend).toBe('wasm');
        expect(errors.length).toBe(1); // Chromium logs the blocked script
        expect(errors[0]).toMatch(/Content Security Policy/);
      } finally {
        await page.context().close();
      }
    });

    it('the dev server (vite) sends the policy with a fresh style nonce per page, and the page works under it', async () => {
      const dev = await serveDev();
      try {
        const nonces: string[] = [];
        for (let i = 0; i < 2; i++) {
          const r = await fetch(dev.url, { headers: { accept: 'text/html' } });
          const header = r.headers.get('content-security-policy') ?? '';
          const nonce = /style-src 'self' 'nonce-([A-Za-z0-9+/=]+)'/.exec(header)?.[1];
          expect(nonce, header).toBeDefined();
          expect(header).toBe(contentSecurityPolicy({ styleNonce: nonce! }));
          const html = await r.text();
          expect(html).toContain(`<meta property="csp-nonce" nonce="${nonce}"`);
          expect(html).not.toContain('axon-demo-csp-nonce');
          expect(html).not.toContain('http-equiv="Content-Security-Policy"'); // the header only, in dev
          nonces.push(nonce!);
        }
        expect(nonces[0]).not.toBe(nonces[1]);
        const { page, errors, responses, failed } = await openRecording(browser, `${dev.url}?backend=wasm`);
        try {
          // Vite injected the CSS as <style nonce>: applied; WASM compiled in the worker
          expect(await page.evaluate(() => getComputedStyle(document.getElementById('error')!).position)).toBe('sticky');
          const d = await demoState(page);
          expect(d.backend).toBe('wasm');
          // `pnpm demo` serves every module, the worker and the data with COOP + COEP: isolated, threads
          expect(await page.evaluate(() => window.crossOriginIsolated)).toBe(true);
          expect(d.workerCrossOriginIsolated).toBe(true);
          expect(d.features?.['threads']).toBeGreaterThanOrEqual(2);
          expect(withoutIsolation(responses)).toEqual([]);
          expect(await revalidate(new URL('src/util.ts', dev.url))).toEqual({ first: true, second: true, status: 304 });
          expect(responses.some((r) => /worker/.test(r.url)), 'the worker script is recorded').toBe(true);
          expect(failed).toEqual([]);
          await expectNoErrors(page, errors);
        } finally {
          await page.context().close();
        }
      } finally {
        await dev.close();
      }
    });
  });

  describe('on WebGPU', () => {
    let page: Page;
    let errors: string[];

    beforeAll(async () => {
      if (setupError) return;
      ({ page, errors } = await openPage(browser, `${site.url}?backend=webgpu`));
    }, 90_000);

    it('starts the WebGPU backend (an adapter exists with --enable-unsafe-webgpu)', async () => {
      const d = await demoState(page);
      const gpu = d.backends.find((b) => b.name === 'webgpu');
      expect(gpu, 'webgpu is registered').toBeDefined();
      expect(gpu!.available, `WebGPU could not start: ${gpu!.reason}`).toBe(true);
      expect(d.backend).toBe('webgpu');
      await expectNoErrors(page, errors);
    });

    it('trains a few steps: the loss falls', async () => {
      const d = await train(page, { epochs: 1, batch: 32, lr: 0.005, size: '1000' }, 150_000);
      console.log(`webgpu MLP: ${d.steps.at(-1)} steps, losses ${d.losses.map((l) => l.toFixed(2)).join(' ')}, test accuracy ${d.epochs[0]?.testAccuracy}`);
      expect(d.losses.length).toBeGreaterThanOrEqual(4);
      expect(mean(d.losses.slice(-2))).toBeLessThan(mean(d.losses.slice(0, 2)) * 0.8);
      expect(d.epochs[0]!.testAccuracy).toBeGreaterThan(0.5);
      await waitFor(page, (d) => d.state === 'idle' && d.gridFor === d.modelVersion && d.gridAccuracy !== null);
      await page.screenshot({ path: join(RESULTS, 'demo-trained-webgpu.png'), fullPage: true });
      await expectNoErrors(page, errors);
    });

    it('switches to WASM with the picker, keeping the trained model', async () => {
      const acc = (await demoState(page)).gridAccuracy;
      await page.selectOption('#backend', 'wasm');
      await waitFor(page, (d) => d.backend === 'wasm', 30_000);
      await page.evaluate(() => ((window as unknown as { axonDemo: DemoState }).axonDemo.gridAccuracy = null));
      await page.click('#grid-next');
      await page.click('#grid-prev');
      await waitFor(page, (d) => d.gridAccuracy !== null);
      await page.waitForFunction(() => /Test images 1–80/.test(document.getElementById('grid-summary')?.textContent ?? ''));
      expect((await demoState(page)).gridAccuracy).toBeCloseTo(acc!, 5);
      await expectNoErrors(page, errors);
    });
  });

  describe('without WebGPU', () => {
    it('uses WASM and says why WebGPU is unavailable', async () => {
      const plain = await launch({ webgpu: false });
      try {
        const { page, errors } = await openPage(plain, site.url);
        const d = await demoState(page);
        const gpu = d.backends.find((b) => b.name === 'webgpu')!;
        expect(gpu.available).toBe(false);
        expect(d.backend).toBe('wasm');
        const note = (await page.textContent('#backend-note')) ?? '';
        console.log(`without --enable-unsafe-webgpu: ${note}`);
        expect(note).toMatch(/^WebGPU unavailable: .+/);
        expect(note).toContain(gpu.reason!);
        // the unavailable backend is listed but cannot be picked
        await expect(page.locator('#backend option[value="webgpu"]').isDisabled()).resolves.toBe(true);
        await expectNoErrors(page, errors);
      } finally {
        await plain.close();
      }
    });
  });

  describe('on a phone', () => {
    it('picks the default backend, fits 360 px without horizontal scrolling, draws with a finger', async () => {
      const { page, errors } = await openPage(browser, site.url, { width: 360, height: 740 }, true);
      // no ?backend: WebGPU when a hardware adapter exists, else WASM (SwiftShader here is emulated)
      const d = await demoState(page);
      const gpu = d.backends.find((b) => b.name === 'webgpu');
      expect(d.backend).toBe(gpu?.available && !gpu.emulated ? 'webgpu' : 'wasm');
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow).toBeLessThanOrEqual(0);
      const pad = (await page.locator('#pad').boundingBox())!;
      expect(pad.width).toBeGreaterThan(200);
      expect(pad.x + pad.width).toBeLessThanOrEqual(360);
      // draw a digit with a finger (real touch events through the DevTools protocol)
      await page.setInputFiles('#upload', [cliModel.json, cliModel.weights]);
      await waitFor(page, (d) => d.modelsLoaded === 1);
      await page.locator('#pad').scrollIntoViewIfNeeded();
      const box = (await page.locator('#pad').boundingBox())!;
      const cdp = await page.context().newCDPSession(page);
      const touch = async (type: 'touchStart' | 'touchMove' | 'touchEnd', fx = 0, fy = 0): Promise<void> => {
        await cdp.send('Input.dispatchTouchEvent', { type, touchPoints: type === 'touchEnd' ? [] : [{ x: box.x + fx * box.width, y: box.y + fy * box.height }] });
      };
      const scrollY = await page.evaluate(() => window.scrollY);
      await touch('touchStart', 0.5, 0.15);
      for (let i = 1; i <= 12; i++) await touch('touchMove', 0.5, 0.15 + (0.7 * i) / 12);
      await touch('touchEnd');
      await waitFor(page, (d) => d.prediction !== null);
      // the finger drew; it did not scroll the page
      expect(await page.evaluate(() => [window.scrollX, window.scrollY])).toEqual([0, scrollY]);
      console.log(`a finger-drawn "1" on a phone predicted as ${(await demoState(page)).prediction!.digit}`);
      await page.screenshot({ path: join(RESULTS, 'demo-phone.png'), fullPage: true });
      await expectNoErrors(page, errors);
      await page.context().close();
    });
  });
});
