// Storage: alloc/write/read/free, memory accounting, growth, zero-size buffers, bad input.
import { describe, expect, it } from 'vitest';
import { AxonError, getBackend, registerBackend } from '@axon/core';
import { SEED, newBackend, randInt, whole } from './helpers.js';
import { WasmBackend, createWasmBackend, createWasmBackendSync, wasmBackendFactory } from '../src/index.js';

describe(`storage (seed ${SEED})`, () => {
  it('round-trips every dtype, sync and async', async () => {
    const be = newBackend();
    for (const [dtype, data] of [
      ['float32', new Float32Array([1.5, -2, NaN, Infinity])],
      ['int32', new Int32Array([1, -2, 2147483647, -2147483648])],
      ['bool', new Uint8Array([1, 0, 1, 1, 0])],
    ] as const) {
      const b = be.alloc(dtype, data.length);
      be.write(b, data);
      expect(Array.from(be.readSync(b))).toEqual(Array.from(data));
      const r = await be.read(b);
      expect(r.constructor).toBe(data.constructor);
      expect(Array.from(r)).toEqual(Array.from(data));
      // read returns a copy the caller owns
      r[0] = 0;
      expect(be.readSync(b)[0]).toBe(data[0]);
      be.free(b);
    }
  });
  it('zero-size buffers work everywhere', async () => {
    const be = newBackend();
    const before = be.memory();
    const z = be.alloc('float32', 0);
    be.write(z, new Float32Array(0));
    expect(be.readSync(z).length).toBe(0);
    expect((await be.read(z)).length).toBe(0);
    be.fill(z, 1);
    const o = be.alloc('float32', 0);
    be.unary('exp', whole(z, [0]), o);
    be.binary('add', whole(z, [3, 0]), whole(z, [3, 0]), o);
    be.random('uniform', 1, 2, 0, 1, o);
    expect(be.memory().buffers).toBe(before.buffers + 2);
    be.free(z);
    be.free(o);
    expect(be.memory()).toMatchObject({ bytes: before.bytes, buffers: before.buffers });
  });
  it('alloc/free cycles return memory() to its start and reuse pooled blocks', () => {
    const be = newBackend();
    const start = be.memory();
    for (let cycle = 0; cycle < 5; cycle++) {
      const bufs = [];
      for (let i = 0; i < 50; i++) {
        const dtype = (['float32', 'int32', 'bool'] as const)[randInt(0, 3)];
        bufs.push(be.alloc(dtype, randInt(0, 5000)));
      }
      const mid = be.memory();
      expect(mid.buffers).toBe(start.buffers + 50);
      expect(mid.bytes).toBe(start.bytes + bufs.reduce((s, b) => s + b.size * (b.dtype === 'bool' ? 1 : 4), 0));
      for (const b of bufs) be.free(b);
      expect(be.memory()).toMatchObject({ bytes: start.bytes, buffers: start.buffers });
    }
    const pooled = be.memory().pooledBytes!;
    expect(pooled).toBeGreaterThan(0);
    // the same sizes again come from the pools
    const b = be.alloc('float32', 1000);
    expect(be.memory().pooledBytes!).toBeLessThanOrEqual(pooled);
    be.free(b);
  });
  it('grows memory on demand and keeps existing data (views refreshed)', () => {
    const be = newBackend();
    const small = be.alloc('float32', 4);
    be.write(small, new Float32Array([1, 2, 3, 4]));
    const big = be.alloc('float32', 8 * 1024 * 1024); // 32 MiB: forces growth
    be.fill(big, 2);
    const r = be.readSync(big);
    expect(r[0]).toBe(2);
    expect(r[r.length - 1]).toBe(2);
    expect(Array.from(be.readSync(small))).toEqual([1, 2, 3, 4]);
    const y = be.alloc('float32', 4);
    be.unary('square', whole(small, [4]), y);
    expect(Array.from(be.readSync(y))).toEqual([1, 4, 9, 16]);
    be.free(big);
    be.free(small);
    be.free(y);
  });
  it('buffers are 16-byte aligned', () => {
    const be = newBackend();
    for (let i = 0; i < 20; i++) {
      const b = be.alloc('bool', randInt(1, 100)) as unknown as { ptr: number };
      expect(b.ptr % 16).toBe(0);
    }
  });
  it('rejects bad input with an AxonError naming the primitive', () => {
    const be = newBackend();
    const other = newBackend();
    const f = be.alloc('float32', 4);
    const i = be.alloc('int32', 4);
    expect(() => be.write(f, new Int32Array(4))).toThrow(AxonError);
    expect(() => be.write(f, new Float32Array(3))).toThrow(/write/);
    expect(() => be.unary('exp', { ...whole(f, [4]), strides: [2] }, be.alloc('float32', 4))).toThrow(/unary/);
    expect(() => be.unary('exp', { ...whole(f, [4]), offset: 1 }, be.alloc('float32', 4))).toThrow(/unary/);
    expect(() => be.binary('add', whole(f, [4]), whole(i, [4]), be.alloc('float32', 4))).toThrow(/binary/);
    expect(() => be.matmul(whole(i, [1, 2, 2]), whole(i, [1, 2, 2]), be.alloc('float32', 4))).toThrow(/matmul/);
    expect(() => be.readSync(other.alloc('float32', 1))).toThrow(AxonError);
    expect(() => be.reduce('sum', whole(f, [4]), [1], be.alloc('float32', 1))).toThrow(/reduce/);
    be.free(f);
    expect(() => be.free(f)).toThrow(/free/);
  });
  it('registers as "wasm" and starts synchronously; async creation works too', async () => {
    registerBackend(wasmBackendFactory); // idempotent
    expect(getBackend().name).toBe('wasm');
    expect(createWasmBackendSync()).toBeInstanceOf(WasmBackend);
    const be = await createWasmBackend();
    expect(be.supportsSyncRead).toBe(true);
    await be.sync();
    be.dispose();
    expect(() => be.alloc('float32', 1)).toThrow(AxonError);
  });
});
