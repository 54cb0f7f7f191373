import { describe, expect, it } from 'vitest';
import { AxonError, backends, registerBackend, setBackend } from '../src/index.js';

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
