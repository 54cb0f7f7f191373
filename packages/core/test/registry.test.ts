import { describe, expect, it } from 'vitest';
import { AxonError, backends, registerBackend, setBackend, type Backend } from '../src/index.js';

describe('backend registry', () => {
  it('reports why a backend could not start, and refuses unknown names', async () => {
    registerBackend({ name: 'broken-test', priority: -1, create: () => { throw new Error('no adapter here'); } });
    await expect(setBackend('broken-test')).rejects.toThrow(/broken-test.*no adapter here/);
    const info = backends().find((b) => b.name === 'broken-test');
    expect(info?.status).toBe('failed');
    expect(info?.reason).toBe('no adapter here');
    await expect(setBackend('nope')).rejects.toBeInstanceOf(AxonError);
    await expect(setBackend('nope')).rejects.toThrow(/setBackend: unknown backend 'nope'/);
  });
});

describe('default selection', () => {
  it('ready() skips a backend that declines in auto mode; setBackend still starts it', async () => {
    const { ready } = await import('../src/index.js');
    const fake = (name: string, emulatedOnly: boolean) => ({
      name,
      priority: emulatedOnly ? 100 : 99,
      create: (o?: { auto?: boolean }) => {
        if (emulatedOnly && o?.auto) throw new Error('only a software-emulated adapter is available');
        return { name, supportsSyncRead: true, memory: () => ({ bytes: 0, buffers: 0 }) } as unknown as Backend;
      },
    });
    registerBackend(fake('soft-test', true));
    registerBackend(fake('real-test', false));
    const b = await ready();
    expect(b.name).toBe('real-test');
    expect(backends().find((x) => x.name === 'soft-test')?.reason).toMatch(/software-emulated/);
    expect((await setBackend('soft-test')).name).toBe('soft-test');
  });
});

describe('device loss', () => {
  it("a backend whose device was lost shows as 'lost' with the reason, and setBackend starts a fresh one", async () => {
    const { getBackend } = await import('../src/index.js');
    let made = 0;
    const disposed: number[] = [];
    registerBackend({
      name: 'lossy-test',
      priority: -5,
      create: () => {
        const id = ++made;
        return { name: 'lossy-test', id, supportsSyncRead: true, lostReason: undefined as string | undefined, memory: () => ({ bytes: 0, buffers: 0 }), dispose: () => disposed.push(id) } as unknown as Backend;
      },
    });
    const first = await setBackend('lossy-test');
    expect(backends().find((b) => b.name === 'lossy-test')?.status).toBe('ready');
    (first as { lostReason?: string }).lostReason = 'device destroyed (test)';
    const info = backends().find((b) => b.name === 'lossy-test');
    expect(info?.status).toBe('lost');
    expect(info?.reason).toBe('device destroyed (test)');
    expect(() => getBackend()).toThrow(/lost its device.*device destroyed \(test\).*setBackend\('lossy-test'\)/);
    const second = await setBackend('lossy-test');
    expect(second).not.toBe(first);
    expect(made).toBe(2);
    expect(disposed).toEqual([1]);
    expect(backends().find((b) => b.name === 'lossy-test')?.status).toBe('ready');
    expect(getBackend()).toBe(second);
  });
});
