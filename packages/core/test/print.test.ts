// How tensors print: toString(), print(), Node's util.inspect, on host backends registered here:
// one that reads synchronously, one that does not (as WebGPU), one whose reads fail. The layout is
// compared with what PyTorch itself printed by the conformance suite's 'printing' group, on every
// backend (tooling/conformance/fixtures/torch-print.json).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { inspect } from 'node:util';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import {
  memory, registerBackend, setBackend, tensor, type Backend, type BackendBuffer, type DType, type TypedArray, type View,
} from '../src/index.js';

interface HostBuf extends BackendBuffer { data: TypedArray }
const ARRAYS = { float32: Float32Array, int32: Int32Array, bool: Uint8Array } as const;

/** Storage only: what tensor(), views and printing need. */
function hostBackend(name: string, opts: { sync: boolean; readFails?: boolean }): Backend & { reads: number } {
  const be = {
    name,
    supportsSyncRead: opts.sync,
    reads: 0,
    alloc: (dtype: DType, size: number): HostBuf => ({ dtype, size, data: new ARRAYS[dtype](size) }),
    write: (buf: BackendBuffer, data: TypedArray) => (buf as HostBuf).data.set(data),
    read: (buf: BackendBuffer) => Promise.resolve((buf as HostBuf).data.slice()),
    readSync: (buf: BackendBuffer) => {
      be.reads++;
      if (!opts.sync) throw new Error(`${name} cannot read synchronously`);
      if (opts.readFails === true) throw new Error('device unreachable');
      return (buf as HostBuf).data.slice();
    },
    free: () => undefined,
    copy: (src: View, dst: View) => {
      // Element by element, row-major over the shape (materialises views).
      const n = src.shape.reduce((a, b) => a * b, 1);
      for (let k = 0; k < n; k++) {
        let rem = k;
        let si = src.offset;
        let di = dst.offset;
        for (let d = src.shape.length - 1; d >= 0; d--) {
          const i = rem % src.shape[d]!;
          rem = Math.floor(rem / src.shape[d]!);
          si += i * src.strides[d]!;
          di += i * dst.strides[d]!;
        }
        (dst.buf as HostBuf).data[di] = (src.buf as HostBuf).data[si]!;
      }
    },
    fill: (buf: BackendBuffer, v: number) => (buf as HostBuf).data.fill(v),
    memory: () => ({ bytes: 0, buffers: 0 }),
    dispose: () => undefined,
  };
  return be as unknown as Backend & { reads: number };
}
const sync = hostBackend('host-sync', { sync: true });
const async_ = hostBackend('host-async', { sync: false });
const failing = hostBackend('host-failing', { sync: true, readFails: true });
for (const be of [sync, async_, failing]) registerBackend({ name: be.name, priority: -100, create: () => be });

const here = fileURLToPath(new URL('.', import.meta.url));

afterEach(() => vi.restoreAllMocks());

describe('printing', () => {
  it('puts the suffixes on the last line, or on their own line past 80 columns', async () => {
    await setBackend('host-sync');
    expect(tensor([[1, 2], [3, 4]]).toString()).toBe('tensor([[1., 2.],\n        [3., 4.]], shape=[2, 2], dtype=float32)');
    const long = tensor([0.25, -1, 2, 3, 4, 5, 6, 7], [8]);
    expect(long.toString()).toBe('tensor([ 0.2500, -1.0000,  2.0000,  3.0000,  4.0000,  5.0000,  6.0000,  7.0000],\n       shape=[8], dtype=float32)');
    const grad = tensor([1.5, 2]).requireGrad();
    expect(grad.toString()).toBe('tensor([1.5000, 2.0000], shape=[2], dtype=float32, requiresGrad=true)');
  });

  it('aligns nan and inf with the other columns (as NumPy does)', async () => {
    await setBackend('host-sync');
    expect(tensor([1, NaN, -Infinity]).toString()).toBe('tensor([  1.,  nan, -inf], shape=[3], dtype=float32)');
  });

  it('a disposed tensor prints as disposed, without throwing', async () => {
    await setBackend('host-sync');
    const t = tensor([1, 2]);
    t.dispose();
    expect(t.toString()).toBe('tensor(<disposed>, shape=[2], dtype=float32)');
    expect(`${t}`).toBe('tensor(<disposed>, shape=[2], dtype=float32)');
    expect(inspect(t)).toBe('tensor(<disposed>, shape=[2], dtype=float32)');
  });

  it('on a backend without synchronous reads: shape and dtype, and how to read the values', async () => {
    await setBackend('host-async');
    const t = tensor([[1, 2], [3, 4]], undefined, 'int32');
    const before = async_.reads;
    expect(t.toString()).toBe('tensor(<on host-async: await t.array() to read>, shape=[2, 2], dtype=int32)');
    expect(inspect(t)).toBe(t.toString());
    expect(async_.reads).toBe(before); // it did not try
    expect(await t.array()).toEqual([[1, 2], [3, 4]]);
    t.dispose();
  });

  it('a failed read is shown, not thrown', async () => {
    await setBackend('host-failing');
    const t = tensor([1]);
    expect(t.toString()).toBe('tensor(<unreadable: device unreachable>, shape=[1], dtype=float32)');
    t.dispose();
  });

  it('util.inspect and console.log show the values; nested objects too; past the depth, a short form', async () => {
    await setBackend('host-sync');
    const t = tensor([1, 2]);
    expect(inspect(t)).toBe('tensor([1., 2.], shape=[2], dtype=float32)');
    expect(inspect({ w: t })).toBe('{ w: tensor([1., 2.], shape=[2], dtype=float32) }');
    expect(inspect({ a: { b: { c: t } } }, { depth: 1 })).toBe('{ a: { b: [Object] } }');
    expect(inspect({ a: { b: t } }, { depth: 0 })).toBe('{ a: [Object] }');
    expect(inspect([[t]], { depth: 0 })).toBe('[ [Array] ]');
    expect(inspect([t], { depth: 0 })).toBe('[ [Tensor shape=[2] dtype=float32] ]');
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    t.print();
    expect(log).toHaveBeenCalledExactlyOnceWith('tensor([1., 2.], shape=[2], dtype=float32)');
    t.dispose();
  });

  it('prints a view without making tensors (no scope, autograd or memory side effects)', async () => {
    await setBackend('host-sync');
    const base = tensor([[1, 2, 3], [4, 5, 6]]).requireGrad();
    const view = base.T;
    const before = memory();
    expect(view.toString()).toBe('tensor([[1., 4.],\n        [2., 5.],\n        [3., 6.]], shape=[3, 2], dtype=float32)');
    expect(memory().numTensors).toBe(before.numTensors);
    expect(memory().numBytes).toBe(before.numBytes);
    view.dispose();
    base.dispose();
  });

  it('toArray() reads a view synchronously as nested arrays', async () => {
    await setBackend('host-sync');
    const t = tensor([[1, 2], [3, 4]], undefined, 'int32');
    expect(t.T.toArray()).toEqual([[1, 3], [2, 4]]);
    expect(tensor([true, false]).toArray()).toEqual([true, false]);
    await setBackend('host-async');
    expect(() => tensor([1]).toArray()).toThrow(/dataSync: backend 'host-async' cannot read synchronously; use await t.data\(\)/);
  });

  it('core imports nothing from Node at module level (it runs in browsers)', () => {
    const src = join(here, '../src');
    const files = readdirSync(src, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    for (const f of files) expect(readFileSync(join(src, f), 'utf8'), f).not.toMatch(/^import[^;]*from ['"]node:/m);
  });
});
