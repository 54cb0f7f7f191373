import { describe, expect, it } from 'vitest';
import { getBackend } from '@axon/core';
import { WasmBackend, createWasmBackend } from '../src/index.js';

describe('wasm backend smoke', () => {
  it('registers and starts synchronously', () => {
    const be = getBackend();
    expect(be.name).toBe('wasm');
    expect(be).toBeInstanceOf(WasmBackend);
  });
  it('runs exp and matmul', async () => {
    const be = await createWasmBackend();
    const x = be.alloc('float32', 3);
    be.write(x, new Float32Array([0, 1, 2]));
    const y = be.alloc('float32', 3);
    be.unary('exp', { buf: x, dtype: 'float32', shape: [3], strides: [1], offset: 0 }, y);
    const r = be.readSync(y);
    expect(Array.from(r).map((v) => +v.toFixed(4))).toEqual([1, 2.7183, 7.3891]);
    const a = be.alloc('float32', 6);
    be.write(a, new Float32Array([1, 2, 3, 4, 5, 6]));
    const o = be.alloc('float32', 4);
    be.matmul(
      { buf: a, dtype: 'float32', shape: [1, 2, 3], strides: [6, 3, 1], offset: 0 },
      { buf: a, dtype: 'float32', shape: [1, 3, 2], strides: [6, 1, 3], offset: 0 },
      o,
    );
    expect(Array.from(be.readSync(o))).toEqual([14, 32, 32, 77]);
  });
});
