// A stranger's install: every published package is packed (`pnpm pack`, which rewrites
// `workspace:*` and applies publishConfig), the packs are installed with npm into a fresh project
// outside the workspace, and used from ESM, CommonJS, TypeScript (node16, nodenext, bundler), the
// `axon` command, and a browser bundle in Chromium.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '../../..');
const FIXTURES = resolve(HERE, '../fixtures');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** The browser bundle of core + backend-wasm, minified and gzipped, must stay under this. */
const BUNDLE_BUDGET_BYTES = 60 * 1024;
const PACKAGES = ['packages/core', 'packages/autograd', 'packages/layers', 'packages/optimizers', 'packages/datasets', 'packages/backend-wasm', 'packages/backend-webgpu', 'packages/onnx', 'apps/cli'];
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');

let work = '';
let project = '';
const packs: string[] = [];

function pnpm(): string {
  const local = join(ROOT, '.tools/node_modules/.bin/pnpm');
  return existsSync(local) ? local : 'pnpm';
}

function run(cmd: string, args: string[], cwd: string): { code: number; out: string; err: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' }, timeout: 300_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'axon-pack-'));
  const packDir = join(work, 'packs');
  mkdirSync(packDir);
  for (const p of PACKAGES) execFileSync(pnpm(), ['pack', '--pack-destination', packDir], { cwd: join(ROOT, p), stdio: 'pipe' });
  packs.push(...readdirSync(packDir).map((f) => join(packDir, f)));
  project = join(work, 'app');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'stranger', version: '1.0.0', private: true }));
  const r = run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', ...packs], project);
  if (r.code !== 0) throw new Error(`npm install of the packs failed:\n${r.out}\n${r.err}`);
  for (const f of readdirSync(FIXTURES)) copyFileSync(join(FIXTURES, f), join(project, f));
}, 600_000);

afterAll(() => {
  if (work !== '') rmSync(work, { recursive: true, force: true });
});

describe('the packs', () => {
  it('are complete: metadata, LICENSE, no source condition, README links that work outside the repo', () => {
    expect(packs.length).toBe(PACKAGES.length);
    const license = readFileSync(join(ROOT, 'LICENSE'), 'utf8');
    for (const p of PACKAGES) {
      const name = JSON.parse(readFileSync(join(ROOT, p, 'package.json'), 'utf8')).name as string;
      const dir = join(project, 'node_modules', name);
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      for (const k of ['license', 'repository', 'homepage', 'keywords', 'engines', 'sideEffects', 'description']) expect(pkg[k], `${name}: ${k}`).toBeDefined();
      expect(pkg.private, name).toBeUndefined();
      expect(JSON.stringify(pkg.exports), `${name}: the 'source' condition points into src/, which is not packed`).not.toContain('source');
      expect(JSON.stringify(pkg.dependencies ?? {}), `${name}: workspace ranges`).not.toContain('workspace:');
      expect(readFileSync(join(dir, 'LICENSE'), 'utf8'), name).toBe(license);
      const readme = readFileSync(join(dir, 'README.md'), 'utf8').replace(/```[\s\S]*?```/g, '');
      const relative = [...readme.matchAll(/\]\(([^)]+)\)/g)].map((m) => m[1]!).filter((l) => !/^(https?:|#|mailto:)/.test(l));
      expect(relative, `${name}: README links that only work inside the repo`).toEqual([]);
      expect(readme, `${name}: README says what to install`).toMatch(/## Install/);
    }
  });

  it('run as ESM', () => {
    const r = run(process.execPath, ['esm.mjs'], project);
    expect(r.err).toBe('');
    expect(r.out).toContain('ESM OK');
  });

  it('run as CommonJS, mixed with import() without a second instance of the registry, scopes or tape', () => {
    const r = run(process.execPath, ['cjs.cjs'], project);
    expect(r.err).toBe('');
    expect(r.out).toContain('CJS OK');
  });

  for (const [module, resolution] of [['node16', 'node16'], ['nodenext', 'nodenext'], ['esnext', 'bundler']] as const) {
    it(`type-check under moduleResolution ${resolution} (strict, no @types/node, skipLibCheck off)`, () => {
      const files = ['check.mts', ...(resolution === 'nodenext' ? ['check-cjs.cts'] : [])];
      const cfg = { compilerOptions: { strict: true, noEmit: true, target: 'es2022', lib: ['es2022', 'dom', 'esnext.disposable'], module, moduleResolution: resolution, skipLibCheck: false, types: [] }, files };
      writeFileSync(join(project, `tsconfig.${resolution}.json`), JSON.stringify(cfg));
      const r = run(process.execPath, [TSC, '-p', `tsconfig.${resolution}.json`], project);
      expect(r.out + r.err).toBe('');
      expect(r.code).toBe(0);
    });
  }

  it('install the axon command', () => {
    const bin = join(project, 'node_modules/.bin/axon');
    expect(existsSync(bin)).toBe(true);
    const help = run(bin, ['--help'], project);
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/Usage: axon/);
    const info = run(bin, ['info'], project);
    expect(info.code, info.err).toBe(0);
    expect(info.out).toMatch(/wasm/);
    // The seed's PyTorch loop (S4), run by the installed command.
    const s4 = run(bin, ['example', 's4', '--backend', 'wasm'], project);
    expect(s4.code, s4.err).toBe(0);
    expect(s4.out).toMatch(/loss/i);
  });

  it(`bundle core + backend-wasm for the browser under ${BUNDLE_BUDGET_BYTES / 1024} KB gzipped, and run it in Chromium`, async () => {
    const r = await build({ entryPoints: [join(project, 'browser.mjs')], bundle: true, minify: true, format: 'esm', platform: 'browser', write: false, absWorkingDir: project, logLevel: 'silent' });
    const js = r.outputFiles[0]!.contents;
    const gz = gzipSync(js, { level: 9 }).length;
    console.log(`browser bundle (core + backend-wasm): ${js.length} bytes, ${gz} bytes gzipped (budget ${BUNDLE_BUDGET_BYTES})`);
    expect(gz).toBeLessThan(BUNDLE_BUDGET_BYTES);
    if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: run scripts/install-browser.sh (or set CHROMIUM_PATH)`);
    const server = createServer((req, res) => {
      if (req.url === '/bundle.js') {
        res.writeHead(200, { 'content-type': 'text/javascript' });
        res.end(Buffer.from(js));
      } else {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<!doctype html><script type="module" src="/bundle.js"></script>');
      }
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const port = (server.address() as { port: number }).port;
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(`http://127.0.0.1:${port}/`);
      await page.waitForFunction(() => (window as unknown as { __result?: unknown }).__result !== undefined, undefined, { timeout: 60_000 });
      const result = (await page.evaluate(() => (window as unknown as { __result: Promise<unknown> }).__result)) as { backend?: string; y?: number[][]; sum?: number; error?: string };
      expect(errors).toEqual([]);
      expect(result.error).toBeUndefined();
      expect(result.backend).toBe('wasm');
      expect(result.sum).toBe(10);
      // softmax(relu([[7, 10], [15, 22]])) row-wise
      const row = (a: number, b: number): number[] => [1 / (1 + Math.exp(b - a)), 1 / (1 + Math.exp(a - b))];
      const want = [row(7, 10), row(15, 22)];
      result.y!.forEach((r, i) => r.forEach((v, j) => expect(Math.abs(v - want[i]![j]!)).toBeLessThan(1e-6)));
    } finally {
      await browser.close();
      server.close();
    }
  });
});
