import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AxonError, setBackend } from '@axon/core';
import '@axon/backend-wasm';
import { Dense, save, sequential } from '../src/index.js';

const dir = await mkdtemp(join(tmpdir(), 'axon-mkdir-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('save creates folders without hanging', () => {
  it('a target under /proc fails at once with an AxonError (Node\'s recursive mkdir never returns there)', async () => {
    await setBackend('wasm');
    const m = sequential([new Dense(1, { inputShape: [2] })]);
    try {
      const t0 = performance.now();
      const err = await Promise.race([save(m, '/proc/axon-test/model').catch((e: unknown) => e), new Promise((r) => setTimeout(() => r('hung'), 5000))]);
      expect(err).toBeInstanceOf(AxonError);
      expect(String(err)).toMatch(/\/proc\/axon-test/);
      expect(performance.now() - t0).toBeLessThan(5000);
      // nested folders that do not exist yet are still created
      await save(m, join(dir, 'a', 'b', 'c'));
      expect((await stat(join(dir, 'a', 'b', 'c', 'model.json'))).isFile()).toBe(true);
    } finally {
      m.dispose();
    }
  });
});
