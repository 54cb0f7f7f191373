// im2col, col2im, pool2d and pool2dGrad against plain float64 loops.
import { describe, expect, it } from 'vitest';
import type { Window2d } from '@axon/core';
import { LAYOUTS, SEED, expectClose, expectExact, makeView, newBackend, randInt, rng, uniform, upload, whole } from './helpers.js';

const be = newBackend();
const EPS = 2 ** -24;

function randomWindow(big = false): Window2d | null {
  const n = randInt(1, 3);
  const c = randInt(1, 4);
  // big: CNN-like planes (rows long enough for the vector paths)
  const h = big ? randInt(20, 33) : randInt(1, 10);
  const w = big ? randInt(20, 33) : randInt(1, 10);
  const kH = randInt(1, 4);
  const kW = randInt(1, 4);
  const strideH = randInt(1, 3);
  const strideW = randInt(1, 3);
  const padTop = randInt(0, 3);
  const padLeft = randInt(0, 3);
  const padBottom = randInt(0, 3);
  const padRight = randInt(0, 3);
  const dilationH = randInt(1, 3);
  const dilationW = randInt(1, 3);
  const outH = Math.floor((h + padTop + padBottom - dilationH * (kH - 1) - 1) / strideH) + 1;
  const outW = Math.floor((w + padLeft + padRight - dilationW * (kW - 1) - 1) / strideW) + 1;
  if (outH < 1 || outW < 1) return null;
  return { n, c, h, w, kH, kW, strideH, strideW, padTop, padLeft, dilationH, dilationW, outH, outW };
}

/** Visits each (n, c, oy, ox, ki, kj) and the input position it reads (or null for padding). */
function visit(win: Window2d, fn: (n: number, c: number, oy: number, ox: number, ki: number, kj: number, iy: number, ix: number, inside: boolean) => void): void {
  for (let n = 0; n < win.n; n++)
    for (let c = 0; c < win.c; c++)
      for (let oy = 0; oy < win.outH; oy++)
        for (let ox = 0; ox < win.outW; ox++)
          for (let ki = 0; ki < win.kH; ki++)
            for (let kj = 0; kj < win.kW; kj++) {
              const iy = oy * win.strideH - win.padTop + ki * win.dilationH;
              const ix = ox * win.strideW - win.padLeft + kj * win.dilationW;
              fn(n, c, oy, ox, ki, kj, iy, ix, iy >= 0 && iy < win.h && ix >= 0 && ix < win.w);
            }
}

/** CNN-shaped windows (vector paths: unit column stride with stride 1 and 2). */
const FIXED: Window2d[] = [
  { n: 2, c: 3, h: 28, w: 28, kH: 2, kW: 2, strideH: 2, strideW: 2, padTop: 0, padLeft: 0, dilationH: 1, dilationW: 1, outH: 14, outW: 14 },
  { n: 1, c: 2, h: 27, w: 29, kH: 3, kW: 3, strideH: 2, strideW: 2, padTop: 1, padLeft: 1, dilationH: 1, dilationW: 1, outH: 14, outW: 15 },
  { n: 1, c: 2, h: 20, w: 23, kH: 3, kW: 3, strideH: 1, strideW: 1, padTop: 1, padLeft: 1, dilationH: 1, dilationW: 1, outH: 20, outW: 23 },
  { n: 1, c: 1, h: 17, w: 33, kH: 5, kW: 5, strideH: 1, strideW: 1, padTop: 2, padLeft: 2, dilationH: 1, dilationW: 1, outH: 17, outW: 33 },
];

function windows(count: number): Window2d[] {
  const out: Window2d[] = [...FIXED];
  while (out.length < count) {
    const w = randomWindow(out.length % 4 === 3);
    if (w) out.push(w);
  }
  return out;
}

describe(`windows (seed ${SEED})`, () => {
  it('max pooling: first maximal element gets the gradient; the first NaN wins; NaN propagates forward', () => {
    const win: Window2d = { n: 1, c: 3, h: 2, w: 2, kH: 2, kW: 2, strideH: 2, strideW: 2, padTop: 0, padLeft: 0, dilationH: 1, dilationW: 1, outH: 1, outW: 1 };
    const x = upload(be, 'float32', [3, 3, 1, 2, 1, NaN, NaN, 5, -Infinity, -Infinity, -Infinity, -Infinity]);
    const dy = upload(be, 'float32', [10, 20, 30]);
    const out = be.alloc('float32', 12);
    be.pool2dGrad('max', whole(x, [1, 3, 2, 2]), whole(dy, [1, 3, 1, 1]), win, out);
    expectExact(be.readSync(out), [10, 0, 0, 0, 0, 20, 0, 0, 30, 0, 0, 0], 'pool2dGrad ties/NaN/-Infinity');
    const y = be.alloc('float32', 3);
    be.pool2d('max', whole(x, [1, 3, 2, 2]), win, y);
    expectExact(be.readSync(y), [3, NaN, -Infinity], 'pool2d ties/NaN/-Infinity');
  });
  it('2×2 stride-2 max pooling gradient (the SIMD path, 4 windows at a time) gives the bits of the generic path: ties, NaNs, ±0 gradients, ragged widths', () => {
    for (const [h, w] of [[26, 26], [11, 11], [4, 17], [9, 8], [2, 2]] as const) {
      const oH = Math.floor(h / 2);
      const oW = Math.floor(w / 2);
      const win: Window2d = { n: 2, c: 3, h, w, kH: 2, kW: 2, strideH: 2, strideW: 2, padTop: 0, padLeft: 0, dilationH: 1, dilationW: 1, outH: oH, outW: oW };
      // few distinct values (ties everywhere), some NaN and ±Infinity
      const pick = [0, 1, 1, -1, 2, NaN, Infinity, -Infinity, -0];
      const xs = Array.from({ length: 6 * h * w }, () => pick[randInt(0, pick.length)]!);
      const gs = Array.from({ length: 6 * oH * oW }, () => (rng() < 0.1 ? -0 : uniform(-2, 2)));
      const x = upload(be, 'float32', xs);
      const dy = upload(be, 'float32', gs);
      // the same dy through a column stride of 2: the generic path
      const wide = upload(be, 'float32', gs.flatMap((g) => [g, 7]));
      const fast = be.alloc('float32', xs.length);
      const slow = be.alloc('float32', xs.length);
      be.pool2dGrad('max', whole(x, [2, 3, h, w]), whole(dy, [2, 3, oH, oW]), win, fast);
      be.pool2dGrad('max', whole(x, [2, 3, h, w]), { buf: wide, dtype: 'float32', shape: [2, 3, oH, oW], strides: [6 * oH * oW, 2 * oH * oW, 2 * oW, 2], offset: 0 }, win, slow);
      const f = new Uint32Array((be.readSync(fast) as Float32Array).buffer);
      const g = new Uint32Array((be.readSync(slow) as Float32Array).buffer);
      expect(f, `pool2dGrad 2×2/2 on [2,3,${h},${w}] (seed ${SEED})`).toEqual(g);
      for (const b of [x, dy, wide, fast, slow]) be.free(b);
    }
  });
  it('im2col (exact: values copied)', () => {
    for (const win of windows(40)) {
      const layout = LAYOUTS[randInt(0, LAYOUTS.length)]!;
      const x = makeView(be, 'float32', [win.n, win.c, win.h, win.w], layout, () => Math.fround(uniform(-5, 5)));
      const L = win.outH * win.outW;
      const R = win.c * win.kH * win.kW;
      const want = new Array<number>(win.n * R * L).fill(0);
      visit(win, (n, c, oy, ox, ki, kj, iy, ix, inside) => {
        want[(n * R + (c * win.kH + ki) * win.kW + kj) * L + oy * win.outW + ox] = inside ? x.values[((n * win.c + c) * win.h + iy) * win.w + ix]! : 0;
      });
      const out = be.alloc('float32', want.length);
      be.im2col(x.view, win, out);
      expectExact(be.readSync(out), want, `im2col ${JSON.stringify(win)} ${layout}`);
      be.free(out);
      be.free(x.view.buf);
    }
  });
  it('col2im (each input sums ≤ kH·kW terms: kH·kW·ε·Σ|terms|)', () => {
    for (const win of windows(40)) {
      const L = win.outH * win.outW;
      const R = win.c * win.kH * win.kW;
      const layout = LAYOUTS[randInt(0, LAYOUTS.length)]!;
      const cols = makeView(be, 'float32', [win.n, R, L], layout, () => Math.fround(uniform(-5, 5)));
      const want = new Array<number>(win.n * win.c * win.h * win.w).fill(0);
      const mag = want.slice();
      visit(win, (n, c, oy, ox, ki, kj, iy, ix, inside) => {
        if (!inside) return;
        const v = cols.values[(n * R + (c * win.kH + ki) * win.kW + kj) * L + oy * win.outW + ox]!;
        const p = ((n * win.c + c) * win.h + iy) * win.w + ix;
        want[p]! += v;
        mag[p]! += Math.abs(v);
      });
      const out = be.alloc('float32', want.length);
      be.col2im(cols.view, win, out);
      const got = be.readSync(out);
      for (let i = 0; i < want.length; i++) expectClose([got[i]!], [want[i]!], win.kH * win.kW * EPS * mag[i]!, 0, `col2im ${JSON.stringify(win)} ${layout} [${i}]`);
      be.free(out);
      be.free(cols.view.buf);
    }
  });
  for (const op of ['max', 'avg'] as const) {
    it(`pool2d ${op} (${op === 'max' ? 'exact' : 'window sum kH·kW·ε·Σ|x| then one divide'})`, () => {
      for (const win of windows(40)) {
        const layout = LAYOUTS[randInt(0, LAYOUTS.length)]!;
        const x = makeView(be, 'float32', [win.n, win.c, win.h, win.w], layout, () => (rng() < 0.3 ? randInt(-2, 2) : Math.fround(uniform(-5, 5))));
        const nOut = win.n * win.c * win.outH * win.outW;
        const acc = new Array<number>(nOut).fill(op === 'max' ? -Infinity : 0);
        const cnt = new Array<number>(nOut).fill(0);
        const mag = new Array<number>(nOut).fill(0);
        visit(win, (n, c, oy, ox, _ki, _kj, iy, ix, inside) => {
          if (!inside) return;
          const o = ((n * win.c + c) * win.outH + oy) * win.outW + ox;
          const v = x.values[((n * win.c + c) * win.h + iy) * win.w + ix]!;
          acc[o] = op === 'max' ? Math.max(acc[o]!, v) : acc[o]! + v;
          cnt[o]!++;
          mag[o]! += Math.abs(v);
        });
        const out = be.alloc('float32', nOut);
        be.pool2d(op, x.view, win, out);
        const got = be.readSync(out);
        const what = `pool2d ${op} ${JSON.stringify(win)} ${layout}`;
        if (op === 'max') expectExact(got, acc, what);
        else
          for (let i = 0; i < nOut; i++) {
            const want = cnt[i]! > 0 ? acc[i]! / cnt[i]! : 0;
            expectClose([got[i]!], [want], (win.kH * win.kW * EPS * mag[i]!) / Math.max(cnt[i]!, 1), 2 * EPS, `${what} [${i}]`);
          }
        be.free(out);
        be.free(x.view.buf);
      }
    });
    it(`pool2dGrad ${op} (each input gathers ≤ kH·kW contributions)`, () => {
      for (const win of windows(40)) {
        const layout = LAYOUTS[randInt(0, LAYOUTS.length)]!;
        // ties are common (small integers) so "first maximal element" is exercised
        const x = makeView(be, 'float32', [win.n, win.c, win.h, win.w], layout, () => randInt(-3, 3));
        const dy = makeView(be, 'float32', [win.n, win.c, win.outH, win.outW], LAYOUTS[randInt(0, LAYOUTS.length)]!, () => Math.fround(uniform(-2, 2)));
        const nIn = win.n * win.c * win.h * win.w;
        const want = new Array<number>(nIn).fill(0);
        const mag = new Array<number>(nIn).fill(0);
        for (let n = 0; n < win.n; n++)
          for (let c = 0; c < win.c; c++)
            for (let oy = 0; oy < win.outH; oy++)
              for (let ox = 0; ox < win.outW; ox++) {
                const g = dy.values[((n * win.c + c) * win.outH + oy) * win.outW + ox]!;
                const cells: number[] = [];
                for (let ki = 0; ki < win.kH; ki++)
                  for (let kj = 0; kj < win.kW; kj++) {
                    const iy = oy * win.strideH - win.padTop + ki * win.dilationH;
                    const ix = ox * win.strideW - win.padLeft + kj * win.dilationW;
                    if (iy >= 0 && iy < win.h && ix >= 0 && ix < win.w) cells.push(((n * win.c + c) * win.h + iy) * win.w + ix);
                  }
                if (cells.length === 0) continue;
                if (op === 'max') {
                  let best = cells[0]!;
                  for (const p of cells) if (x.values[p]! > x.values[best]!) best = p;
                  want[best]! += g;
                  mag[best]! += Math.abs(g);
                } else {
                  for (const p of cells) {
                    want[p]! += g / cells.length;
                    mag[p]! += Math.abs(g / cells.length);
                  }
                }
              }
        const out = be.alloc('float32', nIn);
        be.pool2dGrad(op, x.view, dy.view, win, out);
        const got = be.readSync(out);
        // + one rounding of the avg share g/count
        for (let i = 0; i < nIn; i++) expectClose([got[i]!], [want[i]!], (win.kH * win.kW + 1) * EPS * mag[i]!, 0, `pool2dGrad ${op} ${JSON.stringify(win)} ${layout} [${i}]`);
        be.free(out);
        be.free(x.view.buf);
        be.free(dy.view.buf);
      }
    });
  }
});
