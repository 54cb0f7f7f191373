/**
 * Tensors print their values as PyTorch lays them out (fixtures/torch-print.json, written by
 * PyTorch itself: regenerate with `/usr/bin/python3 tooling/conformance/fixtures/gen_torch_print.py`),
 * on every backend that reads synchronously; a backend that cannot prints shape and dtype and says
 * how to read the values. Printing allocates no tensor.
 */
import * as ax from '@axon/core';
import type { DType, Tensor } from '@axon/core';
import fixture from '../../fixtures/torch-print.json';
import { ensure } from '../check.js';
import { group, it, type Suite } from '../harness.js';

interface PrintCase {
  name: string;
  shape: number[];
  dtype: DType;
  values?: (number | string)[];
  gen?: { a: number; m: number; c: number; e: number; h: number };
  view?: { permute?: number[]; slice?: { begin: number[]; size: number[] } };
  body: string;
}

/** The case's tensor and the view PyTorch printed (Python writes nan, inf and -inf as strings). */
function build(c: PrintCase): { base: Tensor; shown: Tensor } {
  const n = c.shape.reduce((a, b) => a * b, 1);
  const values = c.values !== undefined
    ? c.values.map((v) => (v === 'inf' ? Infinity : v === '-inf' ? -Infinity : Number(v)))
    : Array.from({ length: n }, (_, i) => (((i * c.gen!.a) % c.gen!.m) - c.gen!.c) * 2 ** ((i % c.gen!.e) - c.gen!.h));
  const base = ax.tensor(values, c.shape, c.dtype);
  const permuted = c.view?.permute ? base.permute(c.view.permute) : base;
  const shown = c.view?.slice ? permuted.slice(c.view.slice.begin, c.view.slice.size) : permuted;
  if (permuted !== base && permuted !== shown) permuted.dispose();
  return { base, shown };
}

export function printingTests(s: Suite): void {
  group(s, 'printing: tensors print as PyTorch lays them out', () => {
    it(`every fixture case (PyTorch ${(fixture as { torch: string }).torch}): every dtype, scalars, empty, summarized, strided views, non-finite`, () => {
      const cases = (fixture as { cases: PrintCase[] }).cases;
      const names = cases.map((c) => c.name).join(' ');
      for (const w of ['bool', 'int32', 'scalar', 'empty', 'summarized', 'view', 'sci', 'non-finite']) ensure(names.includes(w), s.ctx('torch-print.json'), `no '${w}' case`);
      for (const c of cases) {
        const { base, shown } = build(c);
        try {
          const before = ax.memory().numTensors;
          const str = shown.toString();
          const ctx = s.ctx(`toString ${c.name}`);
          ensure(ax.memory().numTensors === before, ctx, 'printing made tensors');
          const suffix = `, shape=[${shown.shape.join(', ')}], dtype=${c.dtype})`;
          if (shown.backend.supportsSyncRead) {
            const head = `tensor(${c.body}`;
            ensure(str.slice(0, head.length) === head, ctx, `got\n${str}\nexpected it to start with\n${head}`);
            ensure(str.slice(head.length).replace(/\s+/g, ' ') === suffix, ctx, `got the suffix ${JSON.stringify(str.slice(head.length))}, expected ${JSON.stringify(suffix)}`);
          } else {
            ensure(/await t\.array\(\)/.test(str) && str.replace(/\s+/g, ' ').endsWith(suffix), ctx, `a backend without synchronous reads should print shape, dtype and how to read the values, got ${str}`);
          }
        } finally {
          shown.dispose();
          base.dispose();
        }
      }
    });
  });
}
