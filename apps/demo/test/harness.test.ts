import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CHROMIUM_ARGS, requireChromium } from '../e2e/harness.js';

describe('e2e harness', () => {
  it('fails (does not skip) without Chromium, saying to run scripts/install-browser.sh', () => {
    expect(() => requireChromium('/nonexistent/chromium')).toThrow(/Chromium not found at \/nonexistent\/chromium: run scripts\/install-browser\.sh/);
  });

  it('accepts the installed Chromium', () => {
    if (existsSync('/usr/bin/chromium')) expect(() => requireChromium()).not.toThrow();
    else expect(() => requireChromium()).toThrow(/install-browser\.sh/);
  });

  it('launches Chromium headless with WebGPU and without network chatter', () => {
    for (const flag of ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--enable-unsafe-webgpu']) expect(CHROMIUM_ARGS).toContain(flag);
  });
});
