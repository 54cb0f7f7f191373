/**
 * The demo site end to end, in Debian's headless Chromium (playwright-core, --enable-unsafe-webgpu):
 * it loads without console errors, trains on WASM and on WebGPU (SwiftShader here) with a falling
 * loss, predicts a drawn digit, stays responsive (pause takes effect within a second), downloads a
 * model, loads a model written by `axon train`, shows a visible error for a corrupt file and keeps
 * working, is keyboard-reachable and fits a phone's width, and ships under 300 KB of gzipped JS.
 * A screenshot of the trained page is kept in test-results/.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Download, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RESULTS, type Site, buildAndServe, evalWithCli, jsSizes, launch, openPage, requireChromium, trainWithCli } from './harness.js';

interface DemoState {
  state: string;
  backend: string;
  backends: { name: string; available: boolean; emulated?: boolean; reason?: string }[];
  hasModel: boolean;
  steps: number[];
  losses: number[];
  epochs: { epoch: number; testAccuracy: number; seconds: number }[];
  prediction: null | { digit: number; probs: number[] };
  gridAccuracy: number | null;
  modelVersion: number;
  gridFor: number;
  errors: string[];
  done: number;
  modelsLoaded: number;
}

const demoState = (page: Page): Promise<DemoState> => page.evaluate(() => (window as unknown as { axonDemo: DemoState }).axonDemo);

async function waitFor(page: Page, fn: string, timeout = 60_000): Promise<void> {
  await page.waitForFunction(`(() => { const d = window.axonDemo; return ${fn}; })()`, null, { timeout, polling: 50 });
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
  await waitFor(page, `d.done > ${before} && d.state === 'idle'`, timeout);
  return demoState(page);
}

const mean = (a: number[]): number => a.reduce((s, v) => s + v, 0) / a.length;

/** Draws a stroke through the given points (fractions of the pad's size) with the mouse. */
async function draw(page: Page, points: [number, number][]): Promise<void> {
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

/** No console errors, and no error shown on the page. */
async function expectNoErrors(page: Page, errors: string[]): Promise<void> {
  expect(errors).toEqual([]);
  expect((await demoState(page)).errors).toEqual([]);
}

let site: Site;
let browser: Browser;
let cliModel: string;

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
  it('ships under 300 KB of gzipped JavaScript (page + worker + lazy chunks)', () => {
    const sizes = jsSizes(site.outDir);
    const total = sizes.reduce((s, f) => s + f.gzip, 0);
    const lines = sizes.map((f) => `  ${f.file}: ${(f.bytes / 1024).toFixed(1)} KB, ${(f.gzip / 1024).toFixed(1)} KB gzipped`);
    console.log(`demo JavaScript: ${(total / 1024).toFixed(1)} KB gzipped in ${sizes.length} files\n${lines.join('\n')}`);
    writeFileSync(join(RESULTS, 'js-size.txt'), `${(total / 1024).toFixed(1)} KB gzipped\n${lines.join('\n')}\n`);
    expect(total).toBeLessThan(300 * 1024);
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
      await waitFor(page, `d.state === 'idle' && d.gridFor === d.modelVersion && d.gridAccuracy !== null`);
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
      await waitFor(page, 'd.prediction !== null');
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

    it('stays responsive while training the CNN: pause takes effect within a second', async () => {
      await configure(page, { model: 'cnn', epochs: 2, batch: 32, lr: 0.001, size: '10000' });
      const before = (await demoState(page)).done;
      await page.click('#start');
      await waitFor(page, `d.state === 'training' && d.steps.length >= 2`, 60_000);
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
      await waitFor(page, `d.steps.length > ${steps}`, 30_000);
      const t1 = Date.now();
      await page.click('#stop');
      await waitFor(page, `d.done > ${before} && d.state === 'idle'`, 30_000);
      console.log(`stop took ${Date.now() - t1} ms`);
      expect(await page.textContent('#status')).toMatch(/Stopped/);
      await expectNoErrors(page, errors);
    });

    it('downloads the CNN and loads it back: same predictions', async () => {
      await waitFor(page, `d.state === 'idle' && d.gridFor === d.modelVersion`);
      const before = await demoState(page);
      const dir = join(RESULTS, 'downloaded-cnn');
      await downloadModel(page, dir);
      await page.setInputFiles('#upload', [join(dir, 'model.json'), join(dir, 'model.safetensors')]);
      await waitFor(page, `d.modelsLoaded === ${before.modelsLoaded + 1} && d.gridFor === d.modelVersion`);
      expect(await page.textContent('#model-info')).toMatch(/Loaded: .*Conv\(32\).*Conv\(64\)/);
      expect((await demoState(page)).gridAccuracy).toBe(before.gridAccuracy);
      await expectNoErrors(page, errors);
    });

    it('loads a model written by `axon train` and predicts with it', async () => {
      const loaded = (await demoState(page)).modelsLoaded;
      await page.setInputFiles('#upload', [join(cliModel, 'model.json'), join(cliModel, 'model.safetensors')]);
      await waitFor(page, `d.modelsLoaded === ${loaded + 1}`);
      expect(await page.textContent('#model-info')).toMatch(/Loaded: model\.json \+ model\.safetensors: Flatten → Dense\(128, relu\)/);
      await waitFor(page, `d.state === 'idle' && d.gridFor === d.modelVersion && d.gridAccuracy !== null`);
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
        { json: readFileSync(join(cliModel, 'model.json'), 'utf8'), weights: [...readFileSync(join(cliModel, 'model.safetensors'))] },
      );
      await page.dispatchEvent('#drop', 'drop', { dataTransfer: dt });
      await waitFor(page, `d.modelsLoaded === ${loaded + 2}`);
      // and predicts a test digit shown on the pad (keyboard: focus the button and press Enter)
      await page.evaluate(() => ((window as unknown as { axonDemo: DemoState }).axonDemo.prediction = null));
      await page.focus('#sample');
      await page.keyboard.press('Enter');
      await waitFor(page, 'd.prediction !== null');
      expect((await page.textContent('#prediction')) ?? '').toMatch(/Prediction: \d/);
      await expectNoErrors(page, errors);
    });

    it('shows a visible error for a corrupt model file and keeps working', async () => {
      const json = readFileSync(join(cliModel, 'model.json'));
      const good = readFileSync(join(cliModel, 'model.safetensors'));
      const corrupt = Buffer.from(good.subarray(0, 200)); // truncated: header promises more than there is
      await page.setInputFiles('#upload', [
        { name: 'model.json', mimeType: 'application/json', buffer: json },
        { name: 'model.safetensors', mimeType: 'application/octet-stream', buffer: corrupt },
      ]);
      const alert = page.locator('#error');
      await alert.waitFor({ state: 'visible', timeout: 10_000 });
      const text = (await page.textContent('#error-text')) ?? '';
      console.log(`corrupt file → ${text}`);
      expect(text).toMatch(/Could not load the model/);
      // garbage that is not JSON
      await page.click('#error-close');
      await page.setInputFiles('#upload', [
        { name: 'model.json', mimeType: 'application/json', buffer: Buffer.from('{"format": "axon-mod') },
        { name: 'model.safetensors', mimeType: 'application/octet-stream', buffer: good },
      ]);
      await alert.waitFor({ state: 'visible', timeout: 10_000 });
      expect(await alert.textContent()).toMatch(/not valid JSON/);
      // only one of the two files
      await page.click('#error-close');
      await page.setInputFiles('#upload', [{ name: 'model.safetensors', mimeType: 'application/octet-stream', buffer: good }]);
      await alert.waitFor({ state: 'visible', timeout: 10_000 });
      expect(await alert.textContent()).toMatch(/model\.json is missing/);
      // the page still works: the loaded CLI model (still shown) predicts, and training runs
      expect(await page.textContent('#model-info')).toMatch(/Loaded: model\.json \+ model\.safetensors: Flatten/);
      await page.evaluate(() => ((window as unknown as { axonDemo: DemoState }).axonDemo.prediction = null));
      await page.click('#clear');
      await draw(page, [
        [0.5, 0.15],
        [0.5, 0.85],
      ]);
      await waitFor(page, 'd.prediction !== null');
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
      for (let i = 0; i < 40; i++) {
        await page.keyboard.press('Tab');
        reached.add(await page.evaluate(() => document.activeElement?.id ?? ''));
      }
      for (const id of ['backend', 'model', 'epochs', 'batch', 'lr', 'train-size', 'start', 'clear', 'sample', 'download', 'upload']) expect(reached, id).toContain(id);
      // Enter on the focused Start button starts training; Escape-free stop with the keyboard too
      await configure(page, { epochs: 1, batch: 64, lr: 0.003, size: '1000' });
      const before = (await demoState(page)).done;
      await page.focus('#start');
      await page.keyboard.press('Enter');
      await waitFor(page, `d.done > ${before} && d.state === 'idle'`, 60_000);
      await expectNoErrors(page, errors);
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
      await waitFor(page, `d.state === 'idle' && d.gridFor === d.modelVersion && d.gridAccuracy !== null`);
      await page.screenshot({ path: join(RESULTS, 'demo-trained-webgpu.png'), fullPage: true });
      await expectNoErrors(page, errors);
    });

    it('switches to WASM with the picker, keeping the trained model', async () => {
      const acc = (await demoState(page)).gridAccuracy;
      await page.selectOption('#backend', 'wasm');
      await waitFor(page, `d.backend === 'wasm'`, 30_000);
      await page.evaluate(() => ((window as unknown as { axonDemo: DemoState }).axonDemo.gridAccuracy = null));
      await page.click('#grid-next');
      await page.click('#grid-prev');
      await waitFor(page, 'd.gridAccuracy !== null');
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
      await page.setInputFiles('#upload', [join(cliModel, 'model.json'), join(cliModel, 'model.safetensors')]);
      await waitFor(page, 'd.modelsLoaded === 1');
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
      await waitFor(page, 'd.prediction !== null');
      // the finger drew; it did not scroll the page
      expect(await page.evaluate(() => [window.scrollX, window.scrollY])).toEqual([0, scrollY]);
      console.log(`a finger-drawn "1" on a phone predicted as ${(await demoState(page)).prediction!.digit}`);
      await page.screenshot({ path: join(RESULTS, 'demo-phone.png'), fullPage: true });
      await expectNoErrors(page, errors);
      await page.context().close();
    });
  });
});
