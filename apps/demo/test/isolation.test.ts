import { join } from 'node:path';
import { resolveConfig } from 'vite';
import { describe, expect, it } from 'vitest';
import { DEMO } from '../e2e/harness.js';
import { CROSS_ORIGIN_ISOLATION, NO_ISOLATION_MODE } from '../vite.config.js';

const configFile = join(DEMO, 'vite.config.ts');

describe('cross-origin isolation headers (vite.config.ts)', () => {
  it('are COOP: same-origin and COEP: require-corp', () => {
    expect(CROSS_ORIGIN_ISOLATION).toEqual({ 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' });
  });

  it('are sent by the dev server (`pnpm demo`) and by `vite preview`', async () => {
    const dev = await resolveConfig({ root: DEMO, configFile, logLevel: 'silent' }, 'serve');
    expect(dev.server.headers).toEqual(CROSS_ORIGIN_ISOLATION);
    const preview = await resolveConfig({ root: DEMO, configFile, logLevel: 'silent' }, 'serve', 'production', 'production', true);
    expect(preview.preview.headers).toEqual(CROSS_ORIGIN_ISOLATION);
  });

  it(`are left out in --mode ${NO_ISOLATION_MODE} (to see the one-thread fallback)`, async () => {
    const dev = await resolveConfig({ root: DEMO, configFile, logLevel: 'silent', mode: NO_ISOLATION_MODE }, 'serve');
    expect(dev.server.headers ?? {}).toEqual({});
    const preview = await resolveConfig({ root: DEMO, configFile, logLevel: 'silent', mode: NO_ISOLATION_MODE }, 'serve', 'production', 'production', true);
    expect(preview.preview.headers ?? {}).toEqual({});
  });
});
