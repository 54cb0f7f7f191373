// im2col, col2im, pool2d, pool2dGrad, gather, scatterAdd against plain float64 loops, with random
// windows (stride, padding, dilation, windows made only of padding) and strided inputs.
import { describe, it } from 'vitest';
import type { DType, Window2d } from '@axon/core';
import { expectClose, freeAll, type Layout, makeView, numel, type Rng, rng, useBackend } from './helpers.js';

const getB = useBackend();
const EPS = 2 ** -24;

function randomWindow(r: Rng): Window2d {
  for (;;) {
    const n = r.int(1, 3);
    const c = r.int(1, 4);
    const h = r.int(1, 10);
    const w = r.int(1, 10);
    const kH = r.int(1, 4);
    const kW = r.int(1, 4);
    const strideH = r.int(1, 3);
    const strideW = r.int(1, 3);
    const padTop = r.int(0, 3);
    const padLeft = r.int(0, 3);
    const padBottom = r.int(0, 3);
    const padRight = r.int(0, 3);
    const dilationH = r.int(1, 3);
    const dilationW = r.int(1, 3);
    const outH = Math.floor((h + padTop + padBottom - dilationH * (kH - 1) - 1) / strideH) + 1;
    const outW = Math.floor((w + padLeft + padRight - dilationW * (kW - 1) - 1) / strideW) + 1;
    if (outH >= 1 && outW >= 1) return { n, c, h, w, kH, kW, strideH, strideW, padTop, padLeft, dilationH, dilationW, outH, outW };
  }
}

const fmt = (w: Window2d): string => JSON.stringify(w);

/** For each (ni, ci, ki, kj, oy, ox): the input (y, x) or null for padding. */
function forEachTap(w: Window2d, f: (ni: number, ci: number, ki: number, kj: number, oy: number, ox: number, y: number, x: number, pad: boolean) => void): void {
  for (let ni = 0; ni < w.n; ni++)
    for (let ci = 0; ci < w.c; ci++)
      for (let ki = 0; ki < w.kH; ki++)
        for (let kj = 0; kj < w.kW; kj++)
          for (let oy = 0; oy < w.outH; oy++)
            for (let ox = 0; ox < w.outW; ox++) {
              const y = oy * w.strideH - w.padTop + ki * w.dilationH;
              const x = ox * w.strideW - w.padLeft + kj * w.dilationW;
              f(ni, ci, ki, kj, oy, ox, y, x, y < 0 || y >= w.h || x < 0 || x >= w.w);
            }
}

describe('im2col / col2im', () => {
  it('im2col matches the definition (padding reads 0)', async () => {
    const b = getB();
    const r = rng();
    for (let t = 0; t < 30; t++) {
      const w = randomWindow(r);
      const x = makeView(b, r, 'float32', [w.n, w.c, w.h, w.w], r.pick(['contiguous', 'random', 'broadcast'] as Layout[]));
      const L = w.outH * w.outW;
      const rows = w.c * w.kH * w.kW;
      const want = new Array<number>(w.n * rows * L).fill(0);
      forEachTap(w, (ni, ci, ki, kj, oy, ox, y, xx, pad) => {
        const row = (ci * w.kH + ki) * w.kW + kj;
        want[(ni * rows + row) * L + oy * w.outW + ox] = pad ? 0 : x.values[((ni * w.c + ci) * w.h + y) * w.w + xx]!;
      });
      const out = b.alloc('float32', want.length);
      b.im2col(x.view, w, out);
      expectClose(`im2col ${fmt(w)}`, await b.read(out), want);
      freeAll(b, x.buf, out);
    }
  });
  it('col2im is the adjoint of im2col (sums overlapping taps)', async () => {
    const b = getB();
    const r = rng();
    for (let t = 0; t < 30; t++) {
      const w = randomWindow(r);
      const L = w.outH * w.outW;
      const rows = w.c * w.kH * w.kW;
      const cols = makeView(b, r, 'float32', [w.n, rows, L], r.pick(['contiguous', 'random'] as Layout[]));
      const want = new Array<number>(w.n * w.c * w.h * w.w).fill(0);
      const mag = new Array<number>(want.length).fill(0);
      forEachTap(w, (ni, ci, ki, kj, oy, ox, y, xx, pad) => {
        if (pad) return;
        const v = cols.values[(ni * rows + (ci * w.kH + ki) * w.kW + kj) * L + oy * w.outW + ox]!;
        const at = ((ni * w.c + ci) * w.h + y) * w.w + xx;
        want[at]! += v;
        mag[at]! += Math.abs(v);
      });
      const out = b.alloc('float32', want.length);
      b.col2im(cols.view, w, out);
      expectClose(`col2im ${fmt(w)}`, await b.read(out), want, {}, mag.map((m) => EPS * w.kH * w.kW * m));
      freeAll(b, cols.buf, out);
    }
  });
});

describe('pooling', () => {
  for (const op of ['max', 'avg'] as const) {
    it(`pool2d ${op} (padding ignored; all-padding windows)`, async () => {
      const b = getB();
      const r = rng();
      for (let t = 0; t < 30; t++) {
        const w = randomWindow(r);
        const x = makeView(b, r, 'float32', [w.n, w.c, w.h, w.w], r.pick(['contiguous', 'random'] as Layout[]), () => r.int(-4, 5) + r.next() * 0.5);
        const outSize = w.n * w.c * w.outH * w.outW;
        const best = new Array<number>(outSize).fill(-Infinity);
        const sum = new Array<number>(outSize).fill(0);
        const cnt = new Array<number>(outSize).fill(0);
        const mag = new Array<number>(outSize).fill(0);
        forEachTap(w, (ni, ci, _ki, _kj, oy, ox, y, xx, pad) => {
          if (pad) return;
          const o = ((ni * w.c + ci) * w.outH + oy) * w.outW + ox;
          const v = x.values[((ni * w.c + ci) * w.h + y) * w.w + xx]!;
          best[o] = Math.max(best[o]!, v);
          sum[o]! += v;
          mag[o]! += Math.abs(v);
          cnt[o]!++;
        });
        const want = op === 'max' ? best : sum.map((s, i) => s / cnt[i]!);
        const out = b.alloc('float32', outSize);
        b.pool2d(op, x.view, w, out);
        const extra = op === 'avg' ? mag.map((m, i) => (cnt[i] ? EPS * (w.kH * w.kW * m) / cnt[i]! : 0)) : undefined;
        expectClose(`pool2d ${op} ${fmt(w)}`, await b.read(out), want, op === 'avg' ? { rtol: 2 * EPS } : {}, extra);
        freeAll(b, x.buf, out);
      }
    });
    it(`pool2dGrad ${op} (max: first maximal element of each window)`, async () => {
      const b = getB();
      const r = rng();
      for (let t = 0; t < 30; t++) {
        const w = randomWindow(r);
        // small integer values make ties common, so "first maximal" is exercised
        const x = makeView(b, r, 'float32', [w.n, w.c, w.h, w.w], r.pick(['contiguous', 'random'] as Layout[]), () => r.int(0, 3));
        const dy = makeView(b, r, 'float32', [w.n, w.c, w.outH, w.outW], r.pick(['contiguous', 'random', 'broadcast'] as Layout[]));
        const want = new Array<number>(w.n * w.c * w.h * w.w).fill(0);
        const mag = new Array<number>(want.length).fill(0);
        for (let ni = 0; ni < w.n; ni++)
          for (let ci = 0; ci < w.c; ci++)
            for (let oy = 0; oy < w.outH; oy++)
              for (let ox = 0; ox < w.outW; ox++) {
                const g = dy.values[((ni * w.c + ci) * w.outH + oy) * w.outW + ox]!;
                const cells: number[] = [];
                let arg = -1;
                for (let ki = 0; ki < w.kH; ki++)
                  for (let kj = 0; kj < w.kW; kj++) {
                    const y = oy * w.strideH - w.padTop + ki * w.dilationH;
                    const xx = ox * w.strideW - w.padLeft + kj * w.dilationW;
                    if (y < 0 || y >= w.h || xx < 0 || xx >= w.w) continue;
                    const at = ((ni * w.c + ci) * w.h + y) * w.w + xx;
                    cells.push(at);
                    if (arg < 0 || x.values[at]! > x.values[arg]!) arg = at;
                  }
                if (op === 'max') {
                  if (arg >= 0) {
                    want[arg]! += g;
                    mag[arg]! += Math.abs(g);
                  }
                } else {
                  for (const at of cells) {
                    want[at]! += g / cells.length;
                    mag[at]! += Math.abs(g / cells.length);
                  }
                }
              }
        const out = b.alloc('float32', want.length);
        b.pool2dGrad(op, x.view, dy.view, w, out);
        expectClose(`pool2dGrad ${op} ${fmt(w)}`, await b.read(out), want, {}, mag.map((m) => 2 * EPS * w.kH * w.kW * m));
        freeAll(b, x.buf, dy.buf, out);
      }
    });
  }
});

describe('gather / scatterAdd', () => {
  it('gather along the middle axis, float32/int32/bool, strided x and indices', async () => {
    const b = getB();
    const r = rng();
    for (const dtype of ['float32', 'int32', 'bool'] as DType[]) {
      for (const [outer, n, inner, m] of [[1, 5, 1, 3], [3, 7, 4, 10], [2, 1, 3, 5], [1, 100, 17, 129], [4, 3, 2, 0], [0, 3, 2, 4], [2, 9, 1, 1023]]) {
        const x = makeView(b, r, dtype, [outer!, n!, inner!], r.pick(['contiguous', 'random', 'broadcast'] as Layout[]));
        const idx = makeView(b, r, 'int32', [m!], r.pick(['contiguous', 'random'] as Layout[]), () => r.int(0, n!));
        const want: number[] = [];
        for (let o = 0; o < outer!; o++) for (let j = 0; j < m!; j++) for (let i = 0; i < inner!; i++) want.push(x.values[(o * n! + idx.values[j]!) * inner! + i]!);
        const out = b.alloc(dtype, want.length);
        b.gather(x.view, idx.view, out);
        expectClose(`gather ${dtype} [${outer},${n},${inner}] m=${m}`, await b.read(out), want);
        freeAll(b, x.buf, idx.buf, out);
      }
    }
  });
  it('scatterAdd accumulates duplicates (gathering and atomic kernels), float32 and int32', async () => {
    const b = getB();
    const r = rng();
    for (const dtype of ['float32', 'int32'] as DType[]) {
      // the last two shapes take the atomic path (m > 64 and out·m > 2^24)
      for (const [outer, n, inner, m] of [[1, 5, 1, 3], [3, 7, 4, 10], [2, 1, 3, 5], [1, 100, 17, 129], [4, 3, 2, 0], [2, 9, 1, 1023], [1, 4096, 64, 1000], [2, 3000, 8, 2000]]) {
        const upd = makeView(b, r, dtype, [outer!, m!, inner!], r.pick(['contiguous', 'random', 'broadcast'] as Layout[]));
        const idx = makeView(b, r, 'int32', [m!], r.pick(['contiguous', 'random'] as Layout[]), () => r.int(0, Math.min(n!, r.pick([3, n!]))));
        const want = new Array<number>(outer! * n! * inner!).fill(0);
        const mag = new Array<number>(want.length).fill(0);
        const cnt = new Array<number>(want.length).fill(0);
        for (let o = 0; o < outer!; o++)
          for (let j = 0; j < m!; j++)
            for (let i = 0; i < inner!; i++) {
              const at = (o * n! + idx.values[j]!) * inner! + i;
              const v = upd.values[(o * m! + j) * inner! + i]!;
              want[at] = dtype === 'int32' ? (want[at]! + v) | 0 : want[at]! + v;
              mag[at]! += Math.abs(v);
              cnt[at]!++;
            }
        const out = b.alloc(dtype, want.length);
        b.scatterAdd(upd.view, idx.view, n!, out);
        expectClose(`scatterAdd ${dtype} [${outer},${m},${inner}] -> n=${n}`, await b.read(out), want, {}, dtype === 'float32' ? mag.map((x, i) => EPS * cnt[i]! * x) : undefined);
        freeAll(b, upd.buf, idx.buf, out);
      }
    }
  });
});

describe('sizes', () => {
  it('numel helper sanity', () => {
    if (numel([2, 3]) !== 6) throw new Error('numel');
  });
});
