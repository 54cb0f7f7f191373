/** matmul (2-D, batched, broadcast, 1-D, transposed views), conv2d, unfold/fold, pooling. */
import * as ax from '@axon/core';
import { checkClose, ensure, type Expected } from '../check.js';
import { evaluate1, group, it, type Suite } from '../harness.js';
import { build, describeHost, type HostTensor, ints, type Layout, makeHost, uniform } from '../inputs.js';
import { col2imRef, conv2dRef, im2colRef, matmulRef, outHW, poolGradRef, poolRef, type Win } from '../reference.js';
import { TOLERANCES } from '../tolerances.js';

const SIZES = [1, 3, 17, 64, 129];

function samePad(size: number, k: number, s: number, d: number): [number, number] {
  const out = Math.ceil(size / s);
  const total = Math.max((out - 1) * s + (k - 1) * d + 1 - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

type Pad = ax.Padding2d;
const pairOf = (v: number | readonly [number, number]): [number, number] => (typeof v === 'number' ? [v, v] : [v[0], v[1]]);

/** The reference window for a padding spec (written independently of core's window2d). */
function makeWin(h: number, w: number, k: [number, number], stride: [number, number], padding: Pad, dilation: [number, number]): Win {
  let pT = 0, pB = 0, pL = 0, pR = 0;
  if (padding === 'same') {
    [pT, pB] = samePad(h, k[0], stride[0], dilation[0]);
    [pL, pR] = samePad(w, k[1], stride[1], dilation[1]);
  } else if (typeof padding === 'number') pT = pB = pL = pR = padding;
  else if (Array.isArray(padding) && typeof padding[0] === 'number') {
    pT = pB = padding[0] as number;
    pL = pR = padding[1] as number;
  } else if (Array.isArray(padding)) {
    const q = padding as readonly (readonly [number, number])[];
    [pT, pB] = q[0]!;
    [pL, pR] = q[1]!;
  }
  return { kH: k[0], kW: k[1], sH: stride[0], sW: stride[1], pT, pB, pL, pR, dH: dilation[0], dW: dilation[1] };
}

function fround(e: Expected): Expected {
  e.values.forEach((v, i) => (e.values[i] = Math.fround(v)));
  return e;
}

/** Reference matmul with NumPy 1-D promotion. */
function matmulNp(a: HostTensor, b: HostTensor): Expected {
  const a2 = a.shape.length === 1 ? { shape: [1, a.shape[0]!], data: a.data } : a;
  const b2 = b.shape.length === 1 ? { shape: [b.shape[0]!, 1], data: b.data } : b;
  const e = matmulRef(a2, b2);
  let shape = [...e.shape];
  if (a.shape.length === 1) shape.splice(shape.length - 2, 1);
  if (b.shape.length === 1) shape = shape.slice(0, -1);
  return { ...e, shape };
}

export function linalgTests(s: Suite): void {
  group(s, 'matmul', () => {
    const check = async (a: HostTensor, b: HostTensor, note = ''): Promise<void> => {
      const c = s.ctx(`matmul${note}`, `${describeHost(a)} × ${describeHost(b)}`);
      const got = await evaluate1(c, () => ax.matmul(build(a), build(b)));
      checkClose(got, fround(matmulNp(a, b)), 'float32', TOLERANCES.matmul, c);
    };

    it('2-D: every M, K, N in {1, 3, 17, 64, 129}', async () => {
      const r = s.rng('matmul-2d');
      for (const M of SIZES) for (const K of SIZES) for (const N of SIZES) {
        await check(makeHost(r, [M, K], 'float32', uniform(-1, 1)), makeHost(r, [K, N], 'float32', uniform(-1, 1)));
      }
      // a long inner dimension (the bound grows with K), and sizes past several tiles in every dim
      await check(makeHost(r, [3, 1023], 'float32', uniform(-1, 1)), makeHost(r, [1023, 17], 'float32', uniform(-1, 1), 'transposed'));
      await check(makeHost(r, [257, 130], 'float32', uniform(-1, 1), 'transposed'), makeHost(r, [130, 263], 'float32', uniform(-1, 1)));
    });

    it('transposed and sliced operands (a.T, b.T, both) at full size range', async () => {
      const r = s.rng('matmul-views');
      const dims: [number, number, number][] = [[3, 17, 64], [64, 129, 17], [1, 64, 1], [129, 3, 129], [17, 1, 3], [64, 64, 64]];
      const lays: [Layout, Layout][] = [['transposed', 'contiguous'], ['contiguous', 'transposed'], ['transposed', 'transposed'], ['sliced', 'sliced'], ['expanded', 'transposed']];
      for (const [M, K, N] of dims) for (const [la, lb] of lays) {
        await check(makeHost(r, [M, K], 'float32', uniform(-1, 1), la), makeHost(r, [K, N], 'float32', uniform(-1, 1), lb));
      }
    });

    it('batched, with broadcast batch dims and non-mergeable batch strides', async () => {
      const r = s.rng('matmul-batched');
      const cases: [number[], number[], Layout, Layout][] = [
        [[2, 3, 17, 5], [2, 3, 5, 9], 'contiguous', 'contiguous'],
        [[2, 1, 3, 17], [3, 17, 64], 'contiguous', 'transposed'],
        [[17, 3], [4, 3, 129], 'transposed', 'contiguous'],
        [[5, 64, 17], [17, 1], 'sliced', 'contiguous'],
        [[4, 1, 1, 3], [1, 3, 3, 2], 'expanded', 'sliced'],
        [[3, 0, 4], [3, 4, 2], 'contiguous', 'contiguous'],
        [[0, 2, 3], [3, 4], 'contiguous', 'contiguous'],
      ];
      for (const [sa, sb, la, lb] of cases) await check(makeHost(r, sa, 'float32', uniform(-1, 1), la), makeHost(r, sb, 'float32', uniform(-1, 1), lb));
      // batch dims permuted: [3,M,2,K] viewed as [2,3,M,K] cannot be merged into one batch stride
      const M = 5, K = 7, N = 3;
      const base = makeHost(r, [3, M, 2, K], 'float32', uniform(-1, 1));
      const bh = makeHost(r, [2, 3, K, N], 'float32', uniform(-1, 1));
      const perm = new Float64Array(2 * 3 * M * K);
      for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) for (let m = 0; m < M; m++) for (let k = 0; k < K; k++) {
        perm[((i * 3 + j) * M + m) * K + k] = base.data[((j * M + m) * 2 + i) * K + k]!;
      }
      const c = s.ctx('matmul', `[3,${M},2,${K}].permute([2,0,1,3]) × ${describeHost(bh)}`);
      const got = await evaluate1(c, () => ax.matmul(build(base).permute([2, 0, 1, 3]), build(bh)));
      checkClose(got, fround(matmulRef({ shape: [2, 3, M, K], data: perm }, bh)), 'float32', TOLERANCES.matmul, c);
    });

    it('1-D operands (vector×matrix, matrix×vector, dot, vector×batch), integer values, K = 0', async () => {
      const r = s.rng('matmul-1d');
      for (const K of [1, 3, 17, 129]) {
        await check(makeHost(r, [K], 'float32', uniform(-1, 1)), makeHost(r, [K, 5], 'float32', uniform(-1, 1)));
        await check(makeHost(r, [17, K], 'float32', uniform(-1, 1), 'transposed'), makeHost(r, [K], 'float32', uniform(-1, 1), 'sliced'));
        await check(makeHost(r, [K], 'float32', uniform(-1, 1)), makeHost(r, [K], 'float32', uniform(-1, 1)));
        await check(makeHost(r, [K], 'float32', uniform(-1, 1)), makeHost(r, [3, K, 4], 'float32', uniform(-1, 1)));
        await check(makeHost(r, [2, 3, K], 'float32', uniform(-1, 1)), makeHost(r, [K], 'float32', uniform(-1, 1)));
      }
      // int32 operands are refused (see the trust group): cast explicitly, as here.
      await check(makeHost(r, [4, 17], 'float32', ints(-100, 100)), makeHost(r, [17, 3], 'float32', ints(-100, 100)), ' (integer values cast to float32)');
      await check(makeHost(r, [4, 0], 'float32', uniform(-1, 1)), makeHost(r, [0, 3], 'float32', uniform(-1, 1)), ' (K = 0 gives zeros)');
      const c = s.ctx('dot', '[17] · [17]');
      const a = makeHost(r, [17], 'float32', uniform(-1, 1));
      const b = makeHost(r, [17], 'float32', uniform(-1, 1));
      const got = await evaluate1(c, () => ax.dot(build(a), build(b)));
      checkClose(got, fround(matmulNp(a, b)), 'float32', TOLERANCES.matmul, c);
    });
  });

  group(s, 'conv2d / unfold / fold', () => {
    interface ConvCase { x: [number, number, number, number]; o: number; k: [number, number]; stride?: number | [number, number]; padding?: Pad; dilation?: number | [number, number]; groups?: number; bias?: boolean; layout?: Layout }
    const cases: ConvCase[] = [
      { x: [1, 1, 5, 5], o: 1, k: [3, 3] },
      { x: [2, 3, 7, 5], o: 4, k: [3, 3], padding: 'same', bias: true },
      { x: [1, 3, 9, 8], o: 6, k: [3, 2], stride: 2, padding: 'same', bias: true },
      { x: [2, 4, 8, 7], o: 4, k: [3, 3], stride: [2, 1], padding: 1, groups: 2, bias: true, layout: 'transposed' },
      { x: [1, 4, 9, 9], o: 4, k: [3, 3], padding: [1, 2], dilation: 2, groups: 4 },
      { x: [1, 2, 6, 5], o: 3, k: [2, 3], stride: [1, 2], padding: [[0, 1], [2, 0]], dilation: [2, 1], bias: true, layout: 'sliced' },
      { x: [3, 1, 28, 28], o: 8, k: [5, 5], padding: 'valid', bias: true },
      { x: [1, 16, 17, 17], o: 32, k: [3, 3], padding: 'same', bias: true },
      { x: [1, 3, 1, 1], o: 2, k: [1, 1], bias: true },
      { x: [2, 6, 11, 13], o: 9, k: [4, 3], stride: 3, padding: 'same', dilation: [1, 2], groups: 3, layout: 'expanded' },
      { x: [1, 2, 4, 4], o: 2, k: [4, 4], padding: 'valid' },
    ];
    const str = (cc: ConvCase): string => JSON.stringify({ stride: cc.stride ?? 1, padding: cc.padding ?? 'valid', dilation: cc.dilation ?? 1, groups: cc.groups ?? 1, bias: !!cc.bias });

    it('conv2d: stride, same/valid/explicit padding, dilation, groups, bias, batch 1, odd sizes, views', async () => {
      const r = s.rng('conv2d');
      for (const cc of cases) {
        const g = cc.groups ?? 1;
        const xh = makeHost(r, cc.x, 'float32', uniform(-1, 1), cc.layout ?? 'contiguous');
        const wh = makeHost(r, [cc.o, cc.x[1] / g, cc.k[0], cc.k[1]], 'float32', uniform(-1, 1));
        const bh = makeHost(r, [cc.o], 'float32', uniform(-1, 1));
        const c = s.ctx('conv2d', `x ${describeHost(xh)}, w ${describeHost(wh)}, ${str(cc)}`);
        const got = await evaluate1(c, () => ax.conv2d(build(xh), build(wh), { stride: cc.stride, padding: cc.padding, dilation: cc.dilation, groups: g, bias: cc.bias ? build(bh) : null }));
        const win = makeWin(cc.x[2], cc.x[3], cc.k, pairOf(cc.stride ?? 1), cc.padding ?? 'valid', pairOf(cc.dilation ?? 1));
        checkClose(got, fround(conv2dRef(xh, wh, cc.bias ? bh.data : null, win, g)), 'float32', TOLERANCES.conv2d, c);
      }
    });

    it('unfold (im2col) and fold (col2im) against loops, and fold is unfold’s adjoint', async () => {
      const r = s.rng('unfold');
      for (const cc of cases) {
        if (cc.x[1] * cc.x[2] * cc.x[3] > 3000) continue;
        const xh = makeHost(r, cc.x, 'float32', uniform(-1, 1), cc.layout ?? 'contiguous');
        const win = makeWin(cc.x[2], cc.x[3], cc.k, pairOf(cc.stride ?? 1), cc.padding ?? 'valid', pairOf(cc.dilation ?? 1));
        const cw = ax.window2d('unfold', cc.x, cc.k, cc.stride, cc.padding, cc.dilation);
        const c = s.ctx('unfold', `x ${describeHost(xh)}, ${str(cc)}`);
        const got = await evaluate1(c, () => ax.unfold(build(xh), cw));
        checkClose(got, im2colRef(xh, win), 'float32', TOLERANCES.unfold, c);
        const [oH, oW] = outHW(cc.x[2], cc.x[3], win);
        const colsShape = [cc.x[0], cc.x[1] * cc.k[0] * cc.k[1], oH * oW];
        const ch = makeHost(r, colsShape, 'float32', uniform(-1, 1), cc.layout === 'transposed' ? 'transposed' : 'contiguous');
        const cf = s.ctx('fold', `cols ${describeHost(ch)}, image ${JSON.stringify(cc.x)}, ${str(cc)}`);
        const gotF = await evaluate1(cf, () => ax.fold(build(ch), cw));
        checkClose(gotF, fround(col2imRef(ch, cc.x, win)), 'float32', TOLERANCES.fold, cf);
      }
    });
  });

  group(s, 'pooling', () => {
    interface PoolCase { x: [number, number, number, number]; k: number | [number, number]; stride?: number | [number, number]; padding?: Pad; layout?: Layout }
    const cases: PoolCase[] = [
      { x: [1, 1, 4, 4], k: 2 },
      { x: [2, 3, 7, 5], k: 3, stride: 2, padding: 1 },
      { x: [1, 2, 9, 8], k: [2, 3], stride: [1, 2], padding: 'same', layout: 'transposed' },
      { x: [2, 3, 7, 5], k: 3, stride: 1, padding: 'valid', layout: 'sliced' },
      { x: [1, 4, 17, 17], k: 2, layout: 'expanded' },
      { x: [1, 1, 5, 6], k: [2, 2], stride: [3, 1], padding: [[1, 0], [0, 1]] },
      { x: [3, 2, 1, 1], k: 1 },
    ];
    const str = (pc: PoolCase): string => JSON.stringify({ k: pc.k, stride: pc.stride ?? pc.k, padding: pc.padding ?? 'valid' });

    for (const op of ['max', 'avg'] as const) {
      it(`${op}Pool2d forward and pool2dGrad (ties route to the first maximum), padding, stride, views`, async () => {
        const r = s.rng(`pool-${op}`);
        const fn = op === 'max' ? ax.maxPool2d : ax.avgPool2d;
        for (const pc of cases) {
          for (const dist of [uniform(-1, 1), (q: ReturnType<Suite['rng']>) => q.int(-2, 3)]) {
            const xh = makeHost(r, pc.x, 'float32', dist, pc.layout ?? 'contiguous');
            const k = pairOf(pc.k);
            const win = makeWin(pc.x[2], pc.x[3], k, pairOf(pc.stride ?? pc.k), pc.padding ?? 'valid', [1, 1]);
            const c = s.ctx(`${op}Pool2d`, `x ${describeHost(xh)}, ${str(pc)}`);
            const got = await evaluate1(c, () => fn(build(xh), pc.k, { stride: pc.stride, padding: pc.padding }));
            checkClose(got, fround(poolRef(op, xh, win)), 'float32', op === 'max' ? TOLERANCES.maxPool2d : TOLERANCES.avgPool2d, c);
            const [oH, oW] = outHW(pc.x[2], pc.x[3], win);
            const dy = makeHost(r, [pc.x[0], pc.x[1], oH, oW], 'float32', uniform(-1, 1), 'sliced');
            const cw = ax.window2d('pool', pc.x, k, pc.stride ?? k, pc.padding, 1);
            const cg = s.ctx(`pool2dGrad('${op}')`, `x ${describeHost(xh)}, dy ${describeHost(dy)}, ${str(pc)}`);
            const gotG = await evaluate1(cg, () => ax.pool2dGrad(op, build(xh), build(dy), cw));
            checkClose(gotG, fround(poolGradRef(op, xh, dy, win)), 'float32', TOLERANCES.pool2dGrad, cg);
          }
        }
      });
    }

    it('a window of only padding gives −Infinity (max) — the pool2d primitive on a padded 1×1 image (core itself refuses padding over half the kernel, as PyTorch)', async () => {
      const c = s.ctx('pool2d', "'max', [1,1,1,1], k 1, stride 1, padding [[1,1],[1,1]] (pooling over pure padding)");
      const b = ax.getBackend();
      const x = ax.tensor([[[[5]]]]);
      const win = ax.window2d('maxPool2d', x.shape, [1, 1], 1, [[1, 1], [1, 1]], 1);
      const out = b.alloc('float32', 9);
      try {
        b.pool2d('max', x.view(), win, out);
        const data = await b.read(out);
        const v = new Float64Array(9).fill(-Infinity);
        v[4] = 5;
        checkClose({ shape: [1, 1, 3, 3], dtype: 'float32', data }, { shape: [1, 1, 3, 3], values: v }, 'float32', TOLERANCES.maxPool2d, c);
      } finally {
        b.free(out);
        x.dispose();
      }
      let err: unknown = null;
      const y = ax.tensor([[[[5]]]]);
      try {
        ax.maxPool2d(y, 1, { stride: 1, padding: [[1, 1], [1, 1]] });
      } catch (e) {
        err = e;
      } finally {
        y.dispose();
      }
      ensure(err instanceof ax.AxonError && /half the kernel/.test(err.message), c, `maxPool2d with padding 1 around a kernel of 1 should be an AxonError, got ${String(err)}`);
    });
  });
}
