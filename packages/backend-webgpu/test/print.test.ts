// Printing a WebGPU tensor: WebGPU cannot read synchronously, so toString()/inspect show the shape
// and dtype and say how to read the values, without throwing or touching the device; a tensor on
// a lost device says so.
import { describe, expect, it } from 'vitest';
import { inspect } from 'node:util';
import { memory, setBackend, tensor } from '@axon/core';
import type { WebGPUBackend } from '../src/index.js';
import '../src/index.js';

describe('printing on webgpu', () => {
  it('shows shape and dtype and how to read the values; the values read asynchronously', async () => {
    const be = (await setBackend('webgpu')) as WebGPUBackend;
    const x = tensor([[1, 2], [3, 4]]);
    const before = memory();
    expect(x.toString()).toBe('tensor(<on webgpu: await t.array() to read>, shape=[2, 2], dtype=float32)');
    expect(inspect(x)).toBe(x.toString());
    expect(inspect({ x })).toContain('x: tensor(<on webgpu: await t.array() to read>, shape=[2, 2], dtype=float32)');
    expect(x.T.astype('int32').toString()).toBe('tensor(<on webgpu: await t.array() to read>, shape=[2, 2], dtype=int32)');
    expect(memory().numTensors).toBe(before.numTensors + 2); // the two made above, nothing by printing
    expect(await x.array()).toEqual([[1, 2], [3, 4]]);
    x.dispose();
    expect(x.toString()).toBe('tensor(<disposed>, shape=[2, 2], dtype=float32)');

    const y = tensor([1, 2, 3]);
    be.device.destroy();
    await be.device.lost;
    // (the reason after 'destroyed' is the driver's words; the suffix wraps past column 80)
    expect(y.toString()).toMatch(/^tensor\(<backend 'webgpu' lost: device lost \(destroyed\)[^>]*>,\s+shape=\[3\], dtype=float32\)$/);
  });
});
