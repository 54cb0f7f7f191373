import { describe, expect, it } from 'vitest';
import { registerBackend, setBackend, setLeakTracking, leakReport, zeros, memory, type Backend } from '../src/index.js';

// A backend that only stores (what leak tracking needs), registered for this file.
registerBackend({
  name: 'leak-test',
  priority: -10,
  create: () =>
    ({
      name: 'leak-test',
      supportsSyncRead: true,
      alloc: (dtype: string, size: number) => ({ dtype, size }),
      free: () => undefined,
      fill: () => undefined,
      memory: () => ({ bytes: 0, buffers: 0 }),
      dispose: () => undefined,
    }) as unknown as Backend,
});

describe('leak tracking', () => {
  it('reports a tensor garbage-collected without dispose(), naming where it was made', async () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    expect(gc, 'run with --expose-gc (vitest.config.ts sets it)').toBeTypeOf('function');
    await setBackend('leak-test');
    const reports: string[] = [];
    setLeakTracking(true, { onLeak: (site) => reports.push(site) });
    try {
      const before = memory().numTensors;
      (function leak(): void {
        zeros([4]); // made and dropped: never disposed
      })();
      expect(memory().numTensors).toBe(before + 1);
      for (let i = 0; i < 20 && reports.length === 0; i++) {
        gc!();
        await new Promise((r) => setTimeout(r, 10));
      }
      expect(reports.length).toBe(1);
      expect(reports[0]).toMatch(/leak/);
      expect(reports[0]).toMatch(/leaks\.test\.ts/);
      expect(leakReport()).toEqual([]);
    } finally {
      setLeakTracking(false);
    }
  });
});
