#!/usr/bin/env node
// Screenshots of the built site (apps/docs/dist) in headless Chromium, opened through file://:
// the front page and one API page (the `Tensor` class of @axon/core).
//
//   node scripts/screenshot.mjs [--out <dir>] [--dist <dir>]
//
// Writes <out>/docs-front.png and <out>/docs-api.png (default out: ./screenshots) and fails when a
// page logs an error or a file it loads is missing. Chromium: $CHROMIUM_PATH or /usr/bin/chromium
// (scripts/install-browser.sh at the repo root installs it).
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? resolve(args[i + 1]) : fallback;
};
const dist = opt('--dist', join(here, '..', 'dist'));
const out = opt('--out', join(here, '..', 'screenshots'));
const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const pages = [
  { file: 'index.html', png: 'docs-front.png' },
  { file: 'classes/_axon_core.Tensor.html', png: 'docs-api.png' },
];

if (!existsSync(executablePath)) throw new Error(`Chromium not found at ${executablePath}: run scripts/install-browser.sh or set CHROMIUM_PATH`);
for (const p of pages) {
  if (!existsSync(join(dist, p.file))) throw new Error(`${join(dist, p.file)} is missing: build the site first (pnpm docs)`);
}
mkdirSync(out, { recursive: true });

const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--allow-file-access-from-files'],
});
const problems = [];
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1, colorScheme: 'light' });
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error on ${page.url()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error on ${page.url()}: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`failed to load ${r.url()}: ${r.failure()?.errorText}`));
  for (const p of pages) {
    await page.goto(pathToFileURL(join(dist, p.file)).href, { waitUntil: 'load' });
    // TypeDoc's script fills the navigation tree and shows the page (it hides the body until then).
    await page.waitForFunction(() => document.body.style.display !== 'none' && document.querySelector('.tsd-navigation') !== null, undefined, { timeout: 15_000 });
    await page.waitForTimeout(300);
    const file = join(out, p.png);
    await page.screenshot({ path: file });
    console.log(`${p.file} → ${file}`);
  }
} finally {
  await browser.close();
}
if (problems.length > 0) {
  console.error(problems.join('\n'));
  process.exitCode = 1;
}
