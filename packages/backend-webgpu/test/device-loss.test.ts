// Device loss (issue 9, item 13): a lost WebGPU device is reported, fails loudly (never hangs), and
// the registry recreates the backend on a fresh device.
import { describe, expect, it } from 'vitest';
import { AxonError, backends, getBackend, memory, setBackend, tensor, tidy } from '@axon/core';
import { createWebGPUBackend, type WebGPUBackend } from '../src/index.js';
import { upload, viewOf } from './helpers.js';

/** Settles `p` or reports `'hung'` after `ms` (a lost device must never leave a promise pending). */
async function within<T>(p: Promise<T>, ms = 10_000): Promise<{ value: T } | { error: unknown } | 'hung'> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hung = new Promise<'hung'>((r) => (timer = setTimeout(() => r('hung'), ms)));
  try {
    return await Promise.race([p.then((value) => ({ value }), (error: unknown) => ({ error })), hung]);
  } finally {
    clearTimeout(timer);
  }
}

/** The error a settled promise rejected with (fails the test if it resolved or hung). */
function rejection(r: { value: unknown } | { error: unknown } | 'hung'): unknown {
  expect(r, 'the promise hung on a lost device').not.toBe('hung');
  expect(r, 'the promise resolved on a lost device').toHaveProperty('error');
  return (r as { error: unknown }).error;
}

/** What every error on a lost backend must say: that the device is lost, why, and how to recover. */
const LOST = /lost its device \(device lost \(destroyed\)[^)]*\).*await setBackend\('webgpu'\)/;

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('device loss through the registry', () => {
  it("backends() says 'lost' with the reason; old tensors throw naming it; setBackend('webgpu') starts a fresh, working backend", async () => {
    const old = (await setBackend('webgpu')) as WebGPUBackend;
    const base = memory();
    const x = tensor([1, 2, 3]);
    const y = x.mul(2);
    expect(Array.from(await y.data())).toEqual([2, 4, 6]);
    const z = y.add(1);
    const pending = z.data(); // in flight when the device goes
    expect(old.memory().buffers).toBe(3);

    old.device.destroy(); // what a driver reset or a GPU process crash does to the device
    await old.device.lost;

    // a pending read rejects with the loss instead of waiting forever
    const readErr = rejection(await within(pending));
    expect(readErr).toBeInstanceOf(AxonError);
    expect(String(readErr)).toMatch(LOST);

    expect(old.lostReason).toMatch(/^device lost \(destroyed\): /);
    const info = backends().find((b) => b.name === 'webgpu');
    expect(info?.status).toBe('lost');
    expect(info?.reason).toBe(old.lostReason);
    expect(() => getBackend()).toThrow(/lost its device/);

    // ops and reads on tensors of the lost device throw an AxonError naming the loss (no hang)
    const opErr = thrown(() => x.add(y));
    expect(opErr).toBeInstanceOf(AxonError);
    expect(String(opErr)).toMatch(LOST);
    const readAgain = rejection(await within(x.data()));
    expect(readAgain).toBeInstanceOf(AxonError);
    expect(String(readAgain)).toMatch(LOST);
    // the live tensors are still accounted for until they are disposed; no failed op added any
    expect(memory().numTensors).toBe(base.numTensors + 3);
    expect(old.memory()).toEqual({ bytes: 3 * 3 * 4, buffers: 3, pooledBytes: 0 });

    // recovery: a new backend on a new device
    const fresh = (await setBackend('webgpu')) as WebGPUBackend;
    expect(fresh).not.toBe(old);
    expect(fresh.device).not.toBe(old.device);
    expect(fresh.lostReason).toBeUndefined();
    expect(backends().find((b) => b.name === 'webgpu')).toMatchObject({ status: 'ready', active: true });
    expect(getBackend()).toBe(fresh);
    const a = tensor([1, 2, 3]);
    const b = tidy(() => a.mul(a).add(1));
    expect(Array.from(await b.data())).toEqual([2, 5, 10]);

    // the old tensors still name the loss (not "disposed"), and disposing them never throws
    expect(String(thrown(() => x.neg()))).toMatch(LOST);
    expect(() => {
      x.dispose();
      y.dispose();
      z.dispose();
    }).not.toThrow();
    expect(old.memory()).toEqual({ bytes: 0, buffers: 0, pooledBytes: 0 });
    a.dispose();
    b.dispose();
    const after = memory();
    expect(after.numTensors).toBe(base.numTensors);
    expect(after.numBytes).toBe(base.numBytes);
    expect(after.backends.webgpu).toMatchObject({ bytes: 0, buffers: 0 });
  });
});

describe('device loss on the backend', () => {
  it('after loss every method throws an AxonError naming the reason (empty outputs too); free, memory and dispose do not throw', async () => {
    const b = await createWebGPUBackend();
    const x = upload(b, 'float32', [1, 2, 3, 4]);
    const idx = upload(b, 'int32', [0, 1]);
    const out = b.alloc('float32', 4);
    const empty = b.alloc('float32', 0);
    b.free(b.alloc('float32', 4)); // a pooled buffer: gone with the device
    expect(b.memory().pooledBytes).toBeGreaterThan(0);
    b.device.destroy();
    await b.device.lost;
    expect(b.lostReason).toMatch(/^device lost \(destroyed\): /);
    const v = viewOf(x, [4]);
    const v3 = viewOf(x, [1, 4, 1]);
    const win = { n: 1, c: 1, h: 2, w: 2, kH: 1, kW: 1, strideH: 1, strideW: 1, padTop: 0, padLeft: 0, dilationH: 1, dilationW: 1, outH: 2, outW: 2 };
    const calls: Record<string, () => unknown> = {
      alloc: () => b.alloc('float32', 2),
      write: () => b.write(x, new Float32Array(4)),
      readSync: () => b.readSync(x),
      fill: () => b.fill(out, 1),
      'fill (empty)': () => b.fill(empty, 1),
      copy: () => b.copy(v, viewOf(out, [4])),
      unary: () => b.unary('exp', v, out),
      binary: () => b.binary('add', v, v, out),
      where: () => b.where(viewOf(x, [4]), v, v, out),
      fused: () => b.fused({ key: 'neg', inputs: ['float32'], consts: 0, code: [{ op: 'input', input: 0 }, { op: 'neg', args: [0] }], outputs: [{ value: 1, dtype: 'float32' }] }, [v], [], [out]),
      'fused (empty)': () => b.fused({ key: 'neg', inputs: ['float32'], consts: 0, code: [{ op: 'input', input: 0 }, { op: 'neg', args: [0] }], outputs: [{ value: 1, dtype: 'float32' }] }, [viewOf(empty, [0])], [], [empty]),
      reduce: () => b.reduce('sum', v, [0], out),
      matmul: () => b.matmul(viewOf(x, [1, 2, 2]), viewOf(x, [1, 2, 2]), out),
      im2col: () => b.im2col(viewOf(x, [1, 1, 2, 2]), win, out),
      col2im: () => b.col2im(viewOf(x, [1, 4]), win, out),
      pool2d: () => b.pool2d('max', viewOf(x, [1, 1, 2, 2]), win, out),
      pool2dGrad: () => b.pool2dGrad('max', viewOf(x, [1, 1, 2, 2]), viewOf(x, [1, 1, 2, 2]), win, out),
      gather: () => b.gather(v3, viewOf(idx, [2]), out),
      scatterAdd: () => b.scatterAdd(viewOf(x, [1, 2, 1]), viewOf(idx, [2]), 4, out),
      random: () => b.random('uniform', 1, 0, 0, 1, out),
    };
    for (const [name, call] of Object.entries(calls)) {
      const e = thrown(call);
      expect(e, name).toBeInstanceOf(AxonError);
      expect(String(e), name).toMatch(LOST);
    }
    for (const [name, p] of [['read', (): Promise<unknown> => b.read(x)], ['sync', (): Promise<unknown> => b.sync()]] as const) {
      const e = rejection(await within(p()));
      expect(e, name).toBeInstanceOf(AxonError);
      expect(String(e), name).toMatch(LOST);
    }
    expect(b.memory()).toEqual({ bytes: (4 + 2 + 4 + 0) * 4, buffers: 4, pooledBytes: 0 });
    expect(() => {
      b.releasePool();
      for (const buf of [x, idx, out, empty]) b.free(buf);
    }).not.toThrow();
    expect(b.memory()).toEqual({ bytes: 0, buffers: 0, pooledBytes: 0 });
    expect(() => b.dispose()).not.toThrow();
    expect(String(thrown(() => b.alloc('float32', 1)))).toMatch(LOST); // still the loss, not "disposed"
  });

  it('an uncaptured GPU error that means the device is gone marks the backend lost and rejects a pending read', async () => {
    const b = await createWebGPUBackend();
    try {
      const x = upload(b, 'float32', [1, 2, 3]);
      const pending = b.read(x);
      const ev = new Event('uncapturederror');
      Object.defineProperty(ev, 'error', { value: { message: 'Vulkan: vkQueueSubmit failed with VK_ERROR_DEVICE_LOST' } });
      b.device.dispatchEvent(ev);
      expect(b.lostReason).toMatch(/^device lost \(uncaptured .*\): .*VK_ERROR_DEVICE_LOST/);
      const e = rejection(await within(pending));
      expect(e).toBeInstanceOf(AxonError);
      expect(String(e)).toMatch(/lost its device \(device lost \(uncaptured .*VK_ERROR_DEVICE_LOST\).*await setBackend\('webgpu'\)/);
      expect(() => b.fill(x, 1)).toThrow(/VK_ERROR_DEVICE_LOST/);
      b.free(x);
    } finally {
      b.dispose();
    }
  });

  it('an ordinary uncaptured GPU error is not a loss (reported once at the next operation)', async () => {
    const b = await createWebGPUBackend();
    try {
      const ev = new Event('uncapturederror');
      Object.defineProperty(ev, 'error', { value: { message: 'Binding size is larger than the maximum binding size' } });
      b.device.dispatchEvent(ev);
      expect(b.lostReason).toBeUndefined();
      expect(() => b.alloc('float32', 1)).toThrow(/WebGPU error occurred in an earlier operation: Binding size/);
      const x = b.alloc('float32', 1);
      b.fill(x, 7);
      expect(Array.from(await b.read(x))).toEqual([7]);
      b.free(x);
    } finally {
      b.dispose();
    }
  });

  it('dispose() (which destroys the device) is not reported as a loss', async () => {
    const b = await createWebGPUBackend();
    const lost = b.device.lost;
    b.dispose();
    const info = await lost;
    expect(info.reason).toBe('destroyed');
    expect(b.lostReason).toBeUndefined();
    expect(() => b.alloc('float32', 1)).toThrow(/disposed/);
  });
});
