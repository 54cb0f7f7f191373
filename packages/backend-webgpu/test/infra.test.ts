// Storage, batching, pooling, registry and failure handling of the WebGPU backend.
import { describe, expect, it } from 'vitest';
import { AxonError, backends, getBackend, setBackend } from '@axon/core';
import { acquireDevice, createWebGPUBackend } from '../src/index.js';
import { expectClose, freeAll, upload, useBackend, viewOf } from './helpers.js';

const getB = useBackend();

describe('storage', () => {
  it('readSync throws an AxonError telling the user to await data()', () => {
    const b = getB();
    const buf = upload(b, 'float32', [1, 2]);
    expect(b.supportsSyncRead).toBe(false);
    expect(() => b.readSync(buf)).toThrow(AxonError);
    expect(() => b.readSync(buf)).toThrow(/await t\.data\(\)/);
    b.free(buf);
  });
  it('bool round-trips as a Uint8Array of 0/1; int32 and float32 keep their bits', async () => {
    const b = getB();
    const x = upload(b, 'bool', [0, 1, 1, 0, 1]);
    const got = await b.read(x);
    expect(got).toBeInstanceOf(Uint8Array);
    expect([...got]).toEqual([0, 1, 1, 0, 1]);
    const i = upload(b, 'int32', [-2147483648, 2147483647, 0]);
    expect([...(await b.read(i))]).toEqual([-2147483648, 2147483647, 0]);
    const f = upload(b, 'float32', [NaN, -0, Infinity, 1e-40]);
    const fg = await b.read(f);
    expect(Object.is(fg[1], -0)).toBe(true);
    expect(Number.isNaN(fg[0])).toBe(true);
    freeAll(b, x, i, f);
  });
  it('memory() reports live and pooled bytes; freed buffers are reused', () => {
    const b = getB();
    const m0 = b.memory();
    const x = b.alloc('float32', 1000);
    const m1 = b.memory();
    expect(m1.buffers).toBe(m0.buffers + 1);
    expect(m1.bytes).toBe(m0.bytes + 4000);
    b.free(x);
    const m2 = b.memory();
    expect(m2.buffers).toBe(m0.buffers);
    expect(m2.bytes).toBe(m0.bytes);
    expect(m2.pooledBytes!).toBeGreaterThan(m0.pooledBytes!);
    const y = b.alloc('int32', 990); // same size class: taken from the pool
    expect(b.memory().pooledBytes).toBe(m0.pooledBytes);
    b.free(y);
  });
  it('a buffer larger than the adapter allows throws an AxonError naming the limit', () => {
    const b = getB();
    const tooBig = Math.floor(b.limits.maxStorageBufferBindingSize / 4) + 1;
    expect(() => b.alloc('float32', tooBig)).toThrow(/maxStorageBufferBindingSize/);
  });
  it('write after free+realloc of a pooled buffer does not overtake pending kernels', async () => {
    const b = getB();
    const a = upload(b, 'float32', [1, 2, 3, 4]);
    const out = b.alloc('float32', 4);
    b.unary('neg', viewOf(a, [4]), out); // encoded, not yet submitted
    b.free(a);
    const a2 = b.alloc('float32', 4); // gets a's GPU buffer back from the pool
    b.write(a2, Float32Array.from([9, 9, 9, 9]));
    expectClose('neg before the rewrite', await b.read(out), [-1, -2, -3, -4]);
    freeAll(b, a2, out);
  });
});

describe('batching and pipelines', () => {
  it('many dispatches go into few submits, and pipelines are specialised by rank and dtype only', async () => {
    const b = getB();
    const x = upload(b, 'float32', Array.from({ length: 300 }, (_, i) => i));
    let cur = b.alloc('float32', 300);
    b.unary('neg', viewOf(x, [300]), cur);
    await b.read(cur); // compile
    const submits0 = b.submits;
    const pipes0 = b.pipelineCount;
    for (let i = 0; i < 199; i++) {
      const next = b.alloc('float32', 300);
      b.unary('neg', viewOf(cur, [(i % 3) + 1, 300 / ((i % 3) + 1)]), next); // different shapes, one collapsed rank
      b.free(cur);
      cur = next;
    }
    const got = await b.read(cur);
    expect(b.submits - submits0).toBeLessThanOrEqual(5);
    expect(b.pipelineCount).toBe(pipes0);
    expectClose('200 negations', got, Array.from({ length: 300 }, (_, i) => i));
    freeAll(b, x, cur);
  });
  it('with no pool every free destroys its buffer, and cached bind groups never outlive it', async () => {
    const b = await createWebGPUBackend({ maxPooledBytes: 0, maxDispatchesPerSubmit: 7 });
    try {
      const x = upload(b, 'float32', [1, 2, 3]);
      let cur = b.alloc('float32', 3);
      b.unary('neg', viewOf(x, [3]), cur);
      for (let i = 0; i < 50; i++) {
        const next = b.alloc('float32', 3);
        b.binary('add', viewOf(cur, [3]), viewOf(x, [3]), next);
        b.free(cur);
        cur = next;
        if (i % 10 === 0) expectClose(`step ${i}`, await b.read(cur), [1, 2, 3].map((v) => v * i));
      }
      expectClose('50 adds', await b.read(cur), [49, 98, 147]);
      expect(b.memory().pooledBytes).toBe(0);
      freeAll(b, x, cur);
    } finally {
      b.dispose();
    }
  });
  it('sync() resolves once the queue is idle', async () => {
    const b = getB();
    const x = b.alloc('float32', 10);
    b.fill(x, 3);
    await b.sync();
    expectClose('fill', await b.read(x), new Array(10).fill(3));
    b.free(x);
  });
});

describe('registry and failures', () => {
  it("registers 'webgpu' with priority 2 and starts through setBackend", async () => {
    const info = backends().find((x) => x.name === 'webgpu');
    expect(info?.priority).toBe(2);
    await setBackend('webgpu');
    expect(getBackend().name).toBe('webgpu');
    expect(backends().find((x) => x.name === 'webgpu')?.status).toBe('ready');
  });
  it('rejects with the reason when requestAdapter() returns null', async () => {
    const g = globalThis as { navigator?: unknown };
    const saved = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
    Object.defineProperty(globalThis, 'navigator', { value: { gpu: { requestAdapter: async () => null } }, configurable: true, writable: true });
    try {
      await expect(acquireDevice()).rejects.toThrow(/requestAdapter\(\) returned null/);
    } finally {
      if (saved) Object.defineProperty(globalThis, 'navigator', saved);
      else delete g.navigator;
    }
  });
  it('an out-of-memory error from buffer creation surfaces as an AxonError at the next operation', async () => {
    const b = await createWebGPUBackend();
    const dev = b.device as GPUDevice & { popErrorScope: () => Promise<GPUError | null> };
    const real = dev.popErrorScope.bind(dev);
    try {
      dev.popErrorScope = async () => {
        await real();
        return { message: 'simulated: not enough memory' } as GPUError;
      };
      const x = b.alloc('float32', 123457); // a size class not in the pool: creates a GPU buffer
      dev.popErrorScope = real;
      await new Promise((r) => setTimeout(r, 20));
      expect(() => b.fill(x, 1)).toThrow(/out of memory allocating a \d+-byte GPU buffer/);
      b.free(x);
    } finally {
      dev.popErrorScope = real;
      b.dispose();
    }
  });
  it('an uncaptured GPU error surfaces as an AxonError at the next operation, once', async () => {
    const b = await createWebGPUBackend();
    try {
      b.device.createBuffer({ size: 4, usage: 0x0001 | 0x0080 }); // MAP_READ | STORAGE: invalid
      await b.device.queue.onSubmittedWorkDone();
      await new Promise((r) => setTimeout(r, 50));
      expect(() => b.alloc('float32', 3)).toThrow(/WebGPU error occurred in an earlier operation/);
      const x = b.alloc('float32', 3); // the error was reported; the backend keeps working
      b.fill(x, 2);
      expectClose('after the error', await b.read(x), [2, 2, 2]);
      b.free(x);
    } finally {
      b.dispose();
    }
  });
  it('device loss surfaces as an AxonError at the next operation, and a pending read rejects instead of hanging', async () => {
    const b = await createWebGPUBackend();
    const x = upload(b, 'float32', [1, 2, 3]);
    const pending = b.read(x);
    b.device.destroy();
    const settled = await Promise.race([pending.then(() => 'resolved', (e: unknown) => (e instanceof Error ? e.message : String(e))), new Promise((r) => setTimeout(() => r('hung'), 10_000))]);
    expect(settled).not.toBe('hung');
    await new Promise((r) => setTimeout(r, 50));
    expect(() => b.alloc('float32', 3)).toThrow(AxonError);
    expect(() => b.alloc('float32', 3)).toThrow(/lost/);
    await expect(b.read(x)).rejects.toThrow(AxonError);
    b.dispose();
  });
});
