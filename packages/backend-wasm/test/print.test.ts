// Tensors print their values on the WASM backend (which reads synchronously): the layout PyTorch
// printed for the same values (core's test/fixtures/torch-print.json), views and sliced
// storage, computed results, big tensors summarized, and nothing allocated or leaked on the way.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { fileURLToPath } from 'node:url';
import { arange, memory, randn, setBackend, tensor, tidy, zeros, type DType, type Tensor } from '@axon/core';
import '../src/index.js';

interface Case {
  name: string;
  shape: number[];
  dtype: DType;
  values?: (number | string)[];
  gen?: { a: number; m: number; c: number; e: number; h: number };
  view?: { permute?: number[]; slice?: { begin: number[]; size: number[] } };
  body: string;
}
const fixture = JSON.parse(
  readFileSync(fileURLToPath(new URL('../../core/test/fixtures/torch-print.json', import.meta.url)), 'utf8'),
) as { cases: Case[] };

function build(c: Case): Tensor {
  const n = c.shape.reduce((a, b) => a * b, 1);
  const values = c.values !== undefined
    ? c.values.map((v) => (v === 'inf' ? Infinity : v === '-inf' ? -Infinity : Number(v)))
    : Array.from({ length: n }, (_, i) => (((i * c.gen!.a) % c.gen!.m) - c.gen!.c) * 2 ** ((i % c.gen!.e) - c.gen!.h));
  const base = tensor(values, c.shape, c.dtype);
  let shown = base;
  if (c.view?.permute) shown = shown.permute(c.view.permute);
  if (c.view?.slice) shown = shown.slice(c.view.slice.begin, c.view.slice.size);
  return shown;
}

describe('printing on wasm', () => {
  it('lays out every fixture case as PyTorch did', async () => {
    await setBackend('wasm');
    const before = memory().numTensors;
    for (const c of fixture.cases) {
      tidy(() => {
        const s = build(c).toString();
        const head = `tensor(${c.body}`;
        expect(s.slice(0, head.length), c.name).toBe(head);
        expect(s.slice(head.length).replace(/\s+/g, ' '), c.name).toBe(`, shape=[${c.view?.slice?.size.join(', ') ?? (c.view?.permute ?? c.shape.map((_, i) => i)).map((a) => c.shape[a]).join(', ')}], dtype=${c.dtype})`);
      });
    }
    expect(memory().numTensors).toBe(before);
  });

  it('prints computed results, views into shared storage and inspect() output', async () => {
    await setBackend('wasm');
    const m = arange(12).reshape([3, 4]).astype('float32');
    const y = m.matmul(m.T).div(10);
    expect(y.toString()).toBe(
      'tensor([[ 1.4000,  3.8000,  6.2000],\n' +
      '        [ 3.8000, 12.6000, 21.4000],\n' +
      '        [ 6.2000, 21.4000, 36.6000]], shape=[3, 3], dtype=float32)',
    );
    const col = m.slice([1, 2], [2, 1]); // offset 6, strides [4, 1]
    expect(col.toString()).toBe('tensor([[ 6.],\n        [10.]], shape=[2, 1], dtype=float32)');
    expect(m.gt(5).toString()).toBe(
      'tensor([[false, false, false, false],\n        [false, false,  true,  true],\n        [ true,  true,  true,  true]], shape=[3, 4], dtype=bool)',
    );
    expect(inspect({ y: col })).toBe('{\n  y: tensor([[ 6.],\n          [10.]], shape=[2, 1], dtype=float32)\n}');
    for (const t of [m, y, col]) t.dispose();
  });

  it('summarizes a big tensor and reads it once, without allocating tensors', async () => {
    await setBackend('wasm');
    const big = zeros([1000, 1000]);
    const view = big.T;
    const before = memory();
    const s = view.toString();
    expect(s).toBe(
      'tensor([[0., 0., 0.,  ..., 0., 0., 0.],\n' +
      '        [0., 0., 0.,  ..., 0., 0., 0.],\n' +
      '        [0., 0., 0.,  ..., 0., 0., 0.],\n' +
      '        ...,\n' +
      '        [0., 0., 0.,  ..., 0., 0., 0.],\n' +
      '        [0., 0., 0.,  ..., 0., 0., 0.],\n' +
      '        [0., 0., 0.,  ..., 0., 0., 0.]], shape=[1000, 1000], dtype=float32)',
    );
    expect(memory().numTensors).toBe(before.numTensors);
    expect(memory().numBytes).toBe(before.numBytes);
    view.dispose();
    big.dispose();
  });

  it('a disposed tensor, a requiresGrad tensor, randn', async () => {
    await setBackend('wasm');
    const w = randn([3], { seed: 1 }).requireGrad();
    // The counter-based generator gives these values on every backend; the suffix passes column 80.
    expect(w.toString()).toBe('tensor([-1.4844, -1.4855, -0.1651], shape=[3], dtype=float32,\n       requiresGrad=true)');
    w.dispose();
    expect(w.toString()).toBe('tensor(<disposed>, shape=[3], dtype=float32, requiresGrad=true)');
    expect(() => inspect(w)).not.toThrow();
  });
});
