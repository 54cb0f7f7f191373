/**
 * End-to-end helpers: build the site and serve it (vite build + vite preview on a free port),
 * train a model with the real CLI (`axon train`), and start Debian's headless Chromium through
 * playwright-core.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { type Browser, type ConsoleMessage, type Page, chromium } from 'playwright-core';
import { build, preview, type PreviewServer, createServer as createViteServer } from 'vite';
import { GPT_PAGE_MODE, NO_ISOLATION_MODE } from '../vite.config.js';

const run = promisify(execFile);

export const DEMO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const RESULTS = join(DEMO, 'test-results');
/** Debian's Chromium; AXON_E2E_CHROMIUM points elsewhere (the tests fail when it is missing). */
export const CHROMIUM = process.env['AXON_E2E_CHROMIUM'] || '/usr/bin/chromium';

/** Chromium flags for this machine: no sandbox (root), no GPU process, no network chatter; WebGPU on SwiftShader. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--enable-unsafe-webgpu',
];

/** Fails (never skips) when Chromium is missing, saying how to install it. */
export function requireChromium(path = CHROMIUM): void {
  if (!existsSync(path)) {
    throw new Error(`Chromium not found at ${path}: run scripts/install-browser.sh (installs Debian's chromium) before the demo's end-to-end tests`);
  }
}

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => res(port));
    });
  });
}

export interface Site {
  url: string;
  outDir: string;
  close(): Promise<void>;
}

/** How a server of the site is set up. */
export interface ServeOptions {
  /**
   * Send the cross-origin isolation headers (COOP + COEP, vite.config.ts) — the default; `false`
   * serves with the config's `no-isolation` mode, as a host without them would (one WASM thread).
   */
  readonly isolation?: boolean;
}

const modeOf = (opts: ServeOptions): { mode?: string } => (opts.isolation === false ? { mode: NO_ISOLATION_MODE } : {});

/**
 * Builds the site (both pages) into test-results/<folder> (default `site`; each test file that
 * builds uses its own folder, since vitest runs files in parallel) and serves it with `vite preview`.
 */
export async function buildAndServe(folder = 'site'): Promise<Site> {
  await run(process.execPath, [join(DEMO, 'scripts', 'prepare-data.mjs')], { cwd: DEMO });
  const outDir = join(RESULTS, folder);
  rmSync(outDir, { recursive: true, force: true });
  // as `pnpm build`: the MNIST page, then the GPT page into the same folder (vite.config.ts, GPT_PAGE_MODE)
  await build({ root: DEMO, configFile: join(DEMO, 'vite.config.ts'), logLevel: 'error', build: { outDir, emptyOutDir: true } });
  await build({ root: DEMO, configFile: join(DEMO, 'vite.config.ts'), logLevel: 'error', mode: GPT_PAGE_MODE, build: { outDir } });
  return serveBuilt(outDir);
}

/** Serves a built site (`outDir`) with `vite preview` on a free port. */
export async function serveBuilt(outDir: string, opts: ServeOptions = {}): Promise<Site> {
  const port = await freePort();
  const server: PreviewServer = await preview({
    root: DEMO,
    configFile: join(DEMO, 'vite.config.ts'),
    logLevel: 'error',
    ...modeOf(opts),
    build: { outDir },
    preview: { host: '127.0.0.1', port, strictPort: true, open: false },
  });
  return {
    url: `http://127.0.0.1:${port}/`,
    outDir,
    close: () => server.close(),
  };
}

/**
 * Serves the site with Vite's dev server (`pnpm demo`), as a developer would: modules
 * transformed on request, CSS injected as <style> elements, the Content-Security-Policy header
 * with a per-page nonce (csp.ts).
 */
export async function serveDev(opts: ServeOptions = {}): Promise<Site> {
  await run(process.execPath, [join(DEMO, 'scripts', 'prepare-data.mjs')], { cwd: DEMO });
  const port = await freePort();
  const server = await createViteServer({
    root: DEMO,
    configFile: join(DEMO, 'vite.config.ts'),
    logLevel: 'error',
    ...modeOf(opts),
    server: { host: '127.0.0.1', port, strictPort: true, open: false },
  });
  await server.listen();
  return { url: `http://127.0.0.1:${port}/`, outDir: '', close: () => server.close() };
}

/** Gzipped size of every JavaScript file the build emitted (the page's and the worker's). */
export function jsSizes(outDir: string): { file: string; bytes: number; gzip: number }[] {
  const dir = join(outDir, 'assets');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.js'))
    .map((f) => {
      const buf = readFileSync(join(dir, f));
      return { file: f, bytes: buf.length, gzip: gzipSync(buf, { level: 9 }).length };
    });
}

/**
 * The JavaScript files one page of the built site loads (gzipped sizes as {@link jsSizes}): the
 * scripts and module preloads its HTML names, then, transitively, every asset a loaded file names
 * (its chunks, its worker's script, the worker's lazy chunks: names are content-hashed, so a file
 * names another only to load it).
 */
export function pageJs(outDir: string, html: string): { file: string; bytes: number; gzip: number }[] {
  const all = new Map(jsSizes(outDir).map((f) => [f.file, f]));
  const named = (text: string): string[] => [...all.keys()].filter((f) => text.includes(f));
  const seen = new Set<string>();
  const queue = named(readFileSync(join(outDir, html), 'utf8'));
  while (queue.length > 0) {
    const f = queue.shift()!;
    if (seen.has(f)) continue;
    seen.add(f);
    queue.push(...named(readFileSync(join(outDir, 'assets', f), 'utf8')));
  }
  return [...seen].sort().map((f) => all.get(f)!);
}

/** A model saved by the CLI: its folder, its `model.json` and the weights file that model.json names. */
export interface CliModel {
  readonly dir: string;
  readonly json: string;
  readonly weights: string;
}

/** Trains a small MLP with the real CLI (`axon train --output`) and returns the files it saved. */
export async function trainWithCli(): Promise<CliModel> {
  const cli = resolve(DEMO, '..', 'cli', 'dist', 'index.js');
  if (!existsSync(cli)) throw new Error(`the CLI is not built (${cli} missing): run pnpm --filter @axon/cli build`);
  const out = join(RESULTS, 'cli-model');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(RESULTS, { recursive: true });
  await run(process.execPath, [cli, 'train', '--model', 'mlp', '--epochs', '1', '--limit', '3000', '--batch-size', '32', '--backend', 'wasm', '--no-progress', '--output', out], {
    cwd: resolve(DEMO, '..', 'cli'),
    timeout: 120_000,
  });
  const json = join(out, 'model.json');
  if (!existsSync(json)) throw new Error(`axon train did not write model.json in ${out}`);
  // save() writes content-addressed weights (model-<hash>.safetensors) named by model.json
  const named = (JSON.parse(readFileSync(json, 'utf8')) as { weights?: unknown }).weights;
  if (typeof named !== 'string' || !existsSync(join(out, named))) throw new Error(`axon train wrote model.json naming the weights ${JSON.stringify(named)}, not a file in ${out}`);
  return { dir: out, json, weights: join(out, named) };
}

/** Starts Chromium; `webgpu: false` leaves out --enable-unsafe-webgpu (then headless Chromium has no adapter). */
/** Runs `axon eval <dir>` on a saved model and returns the test accuracy it prints. */
export async function evalWithCli(dir: string): Promise<number> {
  const cli = resolve(DEMO, '..', 'cli', 'dist', 'index.js');
  const { stdout } = await run(process.execPath, [cli, 'eval', '--backend', 'wasm', dir], { cwd: resolve(DEMO, '..', 'cli'), timeout: 120_000 });
  const m = /test accuracy ([\d.]+)%/.exec(stdout);
  if (!m) throw new Error(`axon eval printed no accuracy: ${stdout}`);
  return Number(m[1]) / 100;
}

export async function launch(opts: { webgpu?: boolean } = {}): Promise<Browser> {
  requireChromium();
  const args = opts.webgpu === false ? CHROMIUM_ARGS.filter((a) => a !== '--enable-unsafe-webgpu') : CHROMIUM_ARGS;
  return chromium.launch({ executablePath: CHROMIUM, args, headless: true });
}

/**
 * A new page (in its own context) that records console errors (the page's and its workers': a
 * Content-Security-Policy violation is logged there too), uncaught exceptions and crashes in
 * `errors`; its documents' `securitypolicyviolation` events, from before their first script, are
 * kept in `window.__cspViolations` (see {@link cspViolations}).
 */
export async function newPage(browser: Browser, viewport = { width: 1280, height: 900 }, mobile = false): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport, acceptDownloads: true, ...(mobile ? { hasTouch: true, isMobile: true, deviceScaleFactor: 2 } : {}) });
  await context.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { __cspViolations: string[] }).__cspViolations = seen;
    document.addEventListener('securitypolicyviolation', (e) => seen.push(`${e.effectiveDirective} blocked ${e.blockedURI || 'inline'}${e.sample ? ` (${e.sample})` : ''}`));
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m: ConsoleMessage) => {
    if (m.type() === 'error') errors.push(`console.error: ${m.text()}`);
  });
  page.on('worker', (w) => {
    w.on('console', (m: ConsoleMessage) => {
      if (m.type() === 'error') errors.push(`worker console.error: ${m.text()}`);
    });
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('crash', () => errors.push('the page crashed'));
  return { page, errors };
}

/** {@link newPage}, then opens `url` and waits until the demo is idle (backends probed, ready). */
export async function openPage(browser: Browser, url: string, viewport = { width: 1280, height: 900 }, mobile = false): Promise<{ page: Page; errors: string[] }> {
  const { page, errors } = await newPage(browser, viewport, mobile);
  await page.goto(url);
  await page.waitForFunction(() => (window as unknown as { axonDemo?: { state: string } }).axonDemo?.state === 'idle', null, { timeout: 60_000 });
  return { page, errors };
}

/** The `securitypolicyviolation` events the page's document saw since it loaded (recorded by {@link newPage}). */
export function cspViolations(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { __cspViolations?: string[] }).__cspViolations ?? ['(the recorder is missing)']);
}
