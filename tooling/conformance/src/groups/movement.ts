/** Movement ops (values, and zero-copy where promised), gather/scatterAdd/oneHot. */
import * as ax from '@axon/core';
import type { DType, Tensor } from '@axon/core';
import { checkClose, type Ctx, type Expected, fmt, report } from '../check.js';
import { evaluate, group, it, type Suite } from '../harness.js';
import { bools, build, describeHost, type HostTensor, hostOf, ints, type Layout, makeHost, uniform } from '../inputs.js';
import { broadcastMap, sizeOf, stridesOf } from '../reference.js';
import type { Rng } from '../rng.js';
import { TOLERANCES } from '../tolerances.js';

interface Arr {
  shape: readonly number[];
  data: Float64Array;
}

function permuteRef(x: Arr, axes: readonly number[]): Expected {
  const shape = axes.map((a) => x.shape[a]!);
  const st = stridesOf(x.shape);
  const n = sizeOf(shape);
  const values = new Float64Array(n);
  const idx = new Array<number>(shape.length).fill(0);
  for (let k = 0; k < n; k++) {
    let off = 0;
    for (let d = 0; d < shape.length; d++) off += idx[d]! * st[axes[d]!]!;
    values[k] = x.data[off]!;
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) break;
      idx[d] = 0;
    }
  }
  return { shape, values };
}

function sliceRef(x: Arr, begin: readonly number[], size: readonly number[]): Expected {
  const st = stridesOf(x.shape);
  const n = sizeOf(size);
  const values = new Float64Array(n);
  const idx = new Array<number>(size.length).fill(0);
  for (let k = 0; k < n; k++) {
    let off = 0;
    for (let d = 0; d < size.length; d++) off += (idx[d]! + begin[d]!) * st[d]!;
    values[k] = x.data[off]!;
    for (let d = size.length - 1; d >= 0; d--) {
      if (++idx[d]! < size[d]!) break;
      idx[d] = 0;
    }
  }
  return { shape: size, values };
}

function concatRef(xs: readonly Arr[], axis: number): Expected {
  const shape = [...xs[0]!.shape];
  shape[axis] = xs.reduce((a, x) => a + x.shape[axis]!, 0);
  const outer = sizeOf(shape.slice(0, axis));
  const inner = sizeOf(shape.slice(axis + 1));
  const values = new Float64Array(sizeOf(shape));
  let pos = 0;
  for (let o = 0; o < outer; o++)
    for (const x of xs) {
      const chunk = x.shape[axis]! * inner;
      for (let i = 0; i < chunk; i++) values[pos++] = x.data[o * chunk + i]!;
    }
  return { shape, values };
}

function padRef(x: Arr, p: readonly (readonly [number, number])[], value: number): Expected {
  const shape = x.shape.map((d, i) => d + p[i]![0] + p[i]![1]);
  const values = new Float64Array(sizeOf(shape)).fill(value);
  const st = stridesOf(shape);
  const n = sizeOf(x.shape);
  const idx = new Array<number>(x.shape.length).fill(0);
  for (let k = 0; k < n; k++) {
    let off = 0;
    for (let d = 0; d < idx.length; d++) off += (idx[d]! + p[d]![0]) * st[d]!;
    values[off] = x.data[k]!;
    for (let d = idx.length - 1; d >= 0; d--) {
      if (++idx[d]! < x.shape[d]!) break;
      idx[d] = 0;
    }
  }
  return { shape, values };
}

function gatherRef(x: Arr, idx: Arr, axis: number): Expected {
  const outer = sizeOf(x.shape.slice(0, axis));
  const n = x.shape[axis]!;
  const inner = sizeOf(x.shape.slice(axis + 1));
  const m = idx.data.length;
  const values = new Float64Array(outer * m * inner);
  for (let o = 0; o < outer; o++) for (let j = 0; j < m; j++) for (let i = 0; i < inner; i++) values[(o * m + j) * inner + i] = x.data[(o * n + idx.data[j]!) * inner + i]!;
  return { shape: [...x.shape.slice(0, axis), ...idx.shape, ...x.shape.slice(axis + 1)], values };
}

function scatterAddRef(shape: readonly number[], idx: Arr, upd: Arr, axis: number, int32: boolean): Expected {
  const outer = sizeOf(shape.slice(0, axis));
  const n = shape[axis]!;
  const inner = sizeOf(shape.slice(axis + 1));
  const m = idx.data.length;
  const values = new Float64Array(sizeOf(shape));
  const mag = new Float64Array(values.length);
  for (let o = 0; o < outer; o++)
    for (let j = 0; j < m; j++)
      for (let i = 0; i < inner; i++) {
        const at = (o * n + idx.data[j]!) * inner + i;
        const v = upd.data[(o * m + j) * inner + i]!;
        values[at] = int32 ? (values[at]! + v) | 0 : values[at]! + v;
        mag[at]! += Math.abs(v);
      }
  return { shape, values, mag, n: m };
}

/** Runs `fn` (which may note whether each view allocated) and checks results exactly. */
async function checkMovement(s: Suite, ctx: Ctx, fn: (views: [string, boolean][]) => Tensor[], expected: (Expected & { dtype: DType })[]): Promise<void> {
  const views: [string, boolean][] = [];
  const got = await evaluate(ctx, () => fn(views));
  got.forEach((g, i) => checkClose(g, expected[i]!, expected[i]!.dtype, TOLERANCES.movement, { ...ctx, op: `${ctx.op} (output ${i})` }));
  for (const [what, zeroCopy] of views) if (!zeroCopy) report(ctx, `${what} allocated a new buffer; it is documented as a zero-copy view`);
}

/** Evaluates `make` and records whether it allocated storage. */
function view(views: [string, boolean][], what: string, make: () => Tensor): Tensor {
  const before = ax.memory().numStorages;
  const t = make();
  views.push([what, ax.memory().numStorages === before]);
  return t;
}

const DTYPES: [DType, (r: Rng) => number][] = [
  ['float32', (r) => r.uniform(-10, 10)],
  ['int32', ints(-1000, 1000)],
  ['bool', bools],
];

export function movementTests(s: Suite): void {
  group(s, 'movement', () => {
    it('reshape / flatten / squeeze / unsqueeze: values, -1, size 0, rank 0; zero-copy on contiguous input', async () => {
      const r = s.rng('reshape');
      for (const [dt, dist] of DTYPES) {
        const h = makeHost(r, [3, 4, 5], dt, dist);
        const e = (shape: number[]): Expected & { dtype: DType } => ({ shape, values: h.data, dtype: dt });
        await checkMovement(s, s.ctx('reshape family', describeHost(h)), (v) => {
          const x = build(h);
          return [
            view(v, 'reshape([12,5])', () => x.reshape([12, 5])),
            view(v, 'reshape([5,-1,2])', () => x.reshape([5, -1, 2])),
            view(v, 'flatten()', () => x.flatten()),
            view(v, 'flatten(1)', () => x.flatten(1)),
            view(v, 'flatten(0,1)', () => x.flatten(0, 1)),
            view(v, 'unsqueeze(0)', () => x.unsqueeze(0)),
            view(v, 'unsqueeze(-1)', () => x.unsqueeze(-1)),
            view(v, 'unsqueeze(1).squeeze(1)', () => x.unsqueeze(1).squeeze(1)),
            view(v, 'reshape([1,60,1]).squeeze()', () => x.reshape([1, 60, 1]).squeeze()),
            view(v, 'reshape([1,3,1,20]).squeeze([0,2])', () => x.reshape([1, 3, 1, 20]).squeeze([0, 2])),
          ];
        }, [e([12, 5]), e([5, 6, 2]), e([60]), e([3, 20]), e([12, 5]), e([1, 3, 4, 5]), e([3, 4, 5, 1]), e([3, 4, 5]), e([60]), e([3, 20])]);
      }
      // non-contiguous input: reshape copies, values in logical order
      for (const layout of ['transposed', 'sliced', 'expanded'] as Layout[]) {
        const h = makeHost(r, [4, 3, 6], 'float32', uniform(-1, 1), layout);
        await checkMovement(s, s.ctx('reshape', describeHost(h)), () => [build(h).reshape([12, 6]), build(h).flatten()], [
          { shape: [12, 6], values: h.data, dtype: 'float32' },
          { shape: [72], values: h.data, dtype: 'float32' },
        ]);
      }
      const z = hostOf([], [0, 3]);
      const one = hostOf([7], []);
      await checkMovement(s, s.ctx('reshape', 'size 0 and rank 0'), () => [build(z).reshape([3, 0]), build(z).reshape([-1, 3, 1]), build(one).reshape([1, 1]), build(one).reshape([1]).reshape([]), build(one).flatten()], [
        { shape: [3, 0], values: new Float64Array(0), dtype: 'float32' },
        { shape: [0, 3, 1], values: new Float64Array(0), dtype: 'float32' },
        { shape: [1, 1], values: one.data, dtype: 'float32' },
        { shape: [], values: one.data, dtype: 'float32' },
        { shape: [1], values: one.data, dtype: 'float32' },
      ]);
    });

    it('permute / transpose / .T: every permutation, views of views, zero-copy', async () => {
      const r = s.rng('permute');
      const perms = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];
      for (const [dt, dist] of DTYPES) {
        for (const layout of ['contiguous', 'transposed', 'sliced'] as Layout[]) {
          const h = makeHost(r, [3, 17, 4], dt, dist, layout);
          await checkMovement(s, s.ctx('permute', describeHost(h)), (v) => {
            const x = build(h);
            return [...perms.map((p) => view(v, `permute(${JSON.stringify(p)})`, () => x.permute(p))), view(v, 'transpose()', () => x.transpose()), view(v, '.T.T', () => x.T.T), view(v, 'permute([2,0,1]).permute([1,2,0])', () => x.permute([2, 0, 1]).permute([1, 2, 0]))];
          }, [...perms.map((p) => ({ ...permuteRef(h, p), dtype: dt })), { ...permuteRef(h, [0, 2, 1]), dtype: dt }, { shape: h.shape, values: h.data, dtype: dt }, { shape: h.shape, values: h.data, dtype: dt }]);
        }
      }
      const v1 = makeHost(r, [17], 'float32', uniform(-1, 1));
      await checkMovement(s, s.ctx('transpose', '1-D'), (v) => {
        const x = build(v1);
        return [view(v, 'transpose() of 1-D', () => x.transpose())];
      }, [{ shape: [17], values: v1.data, dtype: 'float32' }]);
    });

    it('slice (negative begin, size −1, size 0, slices of views) and expand: zero-copy', async () => {
      const r = s.rng('slice');
      for (const [dt, dist] of DTYPES) {
        for (const layout of ['contiguous', 'transposed', 'expanded'] as Layout[]) {
          const h = makeHost(r, [5, 17, 6], dt, dist, layout);
          const specs: [number[], number[] | undefined, number[], number[]][] = [
            [[1, 2, 3], [2, 10, 3], [1, 2, 3], [2, 10, 3]],
            [[-2, 0, -1], [-1, 17, 1], [3, 0, 5], [2, 17, 1]],
            [[0], [3], [0, 0, 0], [3, 17, 6]],
            [[4, 16, 5], [1, 1, 1], [4, 16, 5], [1, 1, 1]],
            [[2, 3, 0], [0, 5, 6], [2, 3, 0], [0, 5, 6]],
            [[1, 1], undefined, [1, 1, 0], [4, 16, 6]],
          ];
          await checkMovement(s, s.ctx('slice', describeHost(h)), (v) => {
            const x = build(h);
            const out = specs.map(([b, sz]) => view(v, `slice(${JSON.stringify(b)}, ${JSON.stringify(sz)})`, () => x.slice(b, sz)));
            out.push(view(v, 'slice of slice', () => x.slice([1, 2, 1], [4, 12, 5]).slice([1, 3, 2], [2, 5, 3])));
            return out;
          }, [...specs.map(([, , b, sz]) => ({ ...sliceRef(h, b, sz), dtype: dt })), { ...sliceRef(h, [2, 5, 3], [2, 5, 3]), dtype: dt }]);
        }
        const e = makeHost(r, [3, 1], dt, dist, 'sliced');
        const sc = hostOf([dt === 'bool' ? 1 : 7], [], dt);
        const exp = (x: HostTensor, shape: number[]): Expected & { dtype: DType } => {
          const m = broadcastMap(x.shape, shape);
          return { shape, values: Float64Array.from(m, (k) => x.data[k]!), dtype: dt };
        };
        await checkMovement(s, s.ctx('expand', `${describeHost(e)}, scalar`), (v) => {
          const x = build(e);
          const scalar = build(sc);
          return [
            view(v, 'expand([2,3,4])', () => x.expand([2, 3, 4])),
            view(v, 'expand([3,1])', () => x.expand([3, 1])),
            view(v, 'scalar expand([5,5])', () => scalar.expand([5, 5])),
            view(v, 'expand([3,0])', () => x.expand([3, 0])),
            x.expand([2, 3, 4]).reshape([6, 4]),
          ];
        }, [exp(e, [2, 3, 4]), exp(e, [3, 1]), exp(sc, [5, 5]), exp(e, [3, 0]), { ...exp(e, [2, 3, 4]), shape: [6, 4] }]);
      }
    });

    it('concat / stack / split (split parts are zero-copy views) over dtypes, axes, views and empty parts', async () => {
      const r = s.rng('concat');
      for (const [dt, dist] of DTYPES) {
        const a = makeHost(r, [3, 17], dt, dist, 'transposed');
        const b = makeHost(r, [3, 1], dt, dist, 'sliced');
        const c0 = makeHost(r, [3, 0], dt, dist);
        const d = makeHost(r, [3, 5], dt, dist, 'expanded');
        const a2 = makeHost(r, [2, 17], dt, dist);
        await checkMovement(s, s.ctx('concat', [a, b, c0, d, a2].map(describeHost).join(' , ')), () => [
          ax.concat([build(a), build(b), build(c0), build(d)], 1),
          ax.concat([build(a), build(a2)], 0),
          ax.concat([build(a)], -1),
          ax.concat([build(d), build(a)], -1),
        ], [{ ...concatRef([a, b, c0, d], 1), dtype: dt }, { ...concatRef([a, a2], 0), dtype: dt }, { shape: a.shape, values: a.data, dtype: dt }, { ...concatRef([d, a], 1), dtype: dt }]);
        const p = makeHost(r, [4, 6], dt, dist);
        const q = makeHost(r, [4, 6], dt, dist, 'transposed');
        const st = (axis: number): Expected & { dtype: DType } => {
          const ex = (h: HostTensor): Arr => ({ shape: [...h.shape.slice(0, axis), 1, ...h.shape.slice(axis)], data: h.data });
          return { ...concatRef([ex(p), ex(q)], axis), dtype: dt };
        };
        await checkMovement(s, s.ctx('stack', `${describeHost(p)} , ${describeHost(q)}`), () => [0, 1, 2, -1].map((axis) => ax.stack([build(p), build(q)], axis)), [st(0), st(1), st(2), st(2)]);
        const x = makeHost(r, [6, 17], dt, dist);
        await checkMovement(s, s.ctx('split', describeHost(x)), (v) => {
          const t = build(x);
          const parts: Tensor[] = [];
          for (const [what, make] of [['split(t, 3)', () => ax.split(t, 3)], ['split(t, [5,0,12], 1)', () => ax.split(t, [5, 0, 12], 1)]] as const) {
            const before = ax.memory().numStorages;
            parts.push(...make());
            v.push([what, ax.memory().numStorages === before]);
          }
          return parts;
        }, [
          { ...sliceRef(x, [0, 0], [2, 17]), dtype: dt }, { ...sliceRef(x, [2, 0], [2, 17]), dtype: dt }, { ...sliceRef(x, [4, 0], [2, 17]), dtype: dt },
          { ...sliceRef(x, [0, 0], [6, 5]), dtype: dt }, { ...sliceRef(x, [0, 5], [6, 0]), dtype: dt }, { ...sliceRef(x, [0, 5], [6, 12]), dtype: dt },
        ]);
      }
    });

    it('unbind (zero-copy views, like torch.unbind) over dtypes, axes (negative too), views, size-1 and empty axes', async () => {
      const r = s.rng('unbind');
      for (const [dt, dist] of DTYPES) {
        for (const layout of ['contiguous', 'transposed', 'sliced'] as Layout[]) {
          const x = makeHost(r, [3, 1, 5], dt, dist, layout);
          const cases: [number, number][] = [[0, 0], [1, 1], [2, 2], [-1, 2], [-3, 0]];
          const expected: (Expected & { dtype: DType })[] = [];
          for (const [, a] of cases) {
            for (let i = 0; i < x.shape[a]!; i++) {
              const ref = sliceRef(x, x.shape.map((_, j) => (j === a ? i : 0)), x.shape.map((d, j) => (j === a ? 1 : d)));
              expected.push({ shape: x.shape.filter((_, j) => j !== a), values: ref.values, dtype: dt });
            }
          }
          await checkMovement(s, s.ctx('unbind', describeHost(x)), (v) => {
            const t = build(x);
            return cases.flatMap(([axis]) => {
              const before = ax.memory().numStorages;
              const parts = ax.unbind(t, axis);
              v.push([`unbind(t, ${axis})`, ax.memory().numStorages === before]);
              return parts;
            });
          }, expected);
        }
        const e = makeHost(r, [2, 0, 3], dt, dist);
        const c = s.ctx('unbind of an axis of size 0 / into empty slices', describeHost(e));
        await checkMovement(s, c, () => {
          const t = build(e);
          const none = ax.unbind(t, 1);
          if (none.length !== 0) report(c, `unbind(t, 1) of an axis of size 0 gave ${none.length} parts, expected none`);
          return ax.unbind(t, 0);
        }, [0, 1].map(() => ({ shape: [0, 3], values: new Float64Array(0), dtype: dt })));
      }
    });

    it('chunk (torch.chunk: parts of ⌈n / chunks⌉, fewer parts when they run out; zero-copy views)', async () => {
      const r = s.rng('chunk');
      // [axis size, chunks, the part sizes torch.chunk gives (PyTorch 1.13)]
      const table: [number, number, number[]][] = [[6, 3, [2, 2, 2]], [5, 3, [2, 2, 1]], [7, 4, [2, 2, 2, 1]], [6, 4, [2, 2, 2]], [13, 6, [3, 3, 3, 3, 1]], [1, 3, [1]], [0, 3, [0, 0, 0]]];
      for (const [dt, dist] of DTYPES) {
        for (const [n, chunks, sizes] of table) {
          const x = makeHost(r, [2, n], dt, dist, n > 1 ? 'transposed' : 'contiguous');
          let pos = 0;
          const expected = sizes.map((k) => ({ ...sliceRef(x, [0, (pos += k) - k], [2, k]), dtype: dt }));
          const c = s.ctx(`chunk(x, ${chunks}, -1)`, describeHost(x));
          await checkMovement(s, c, (v) => {
            const t = build(x);
            const before = ax.memory().numStorages;
            const parts = ax.chunk(t, chunks, -1);
            v.push([`chunk(x, ${chunks}, -1)`, ax.memory().numStorages === before]);
            if (parts.length !== sizes.length) report(c, `gave ${parts.length} parts, torch.chunk gives ${sizes.length}`);
            return parts.slice(0, sizes.length);
          }, expected);
        }
      }
    });

    it('pad: constant values, every dtype, views, empty input, contiguous()/clone() of views', async () => {
      const r = s.rng('pad');
      for (const [dt, dist] of DTYPES) {
        for (const layout of ['contiguous', 'transposed', 'sliced', 'expanded'] as Layout[]) {
          const h = makeHost(r, [3, 17], dt, dist, layout);
          const val = dt === 'bool' ? 1 : dt === 'int32' ? -3 : -1.5;
          await checkMovement(s, s.ctx('pad', describeHost(h)), () => [
            ax.pad(build(h), [[1, 2], [0, 3]]),
            ax.pad(build(h), [[0, 0], [5, 1]], val),
            ax.pad(build(h), [[0, 0], [0, 0]]),
            build(h).contiguous(),
            build(h).clone(),
          ], [
            { ...padRef(h, [[1, 2], [0, 3]], 0), dtype: dt },
            { ...padRef(h, [[0, 0], [5, 1]], val), dtype: dt },
            { shape: h.shape, values: h.data, dtype: dt },
            { shape: h.shape, values: h.data, dtype: dt },
            { shape: h.shape, values: h.data, dtype: dt },
          ]);
        }
      }
      const e = hostOf([], [0, 2]);
      await checkMovement(s, s.ctx('pad', describeHost(e)), () => [ax.pad(build(e), [[1, 1], [2, 0]], 4)], [{ ...padRef(e, [[1, 1], [2, 0]], 4), dtype: 'float32' }]);
    });
  });

  group(s, 'gather / scatterAdd / oneHot', () => {
    it('gather: axes 0/1/last, multi-dim and duplicate indices, int32/bool data, views', async () => {
      const r = s.rng('gather');
      const cases: [readonly number[], number, readonly number[], Layout][] = [
        [[17, 3], 0, [5], 'contiguous'],
        [[3, 17], 1, [2, 4], 'transposed'],
        [[4, 5, 129], -1, [64], 'sliced'],
        [[1023], 0, [3, 3], 'contiguous'],
        [[4, 6, 2], 1, [0], 'expanded'],
        [[5, 1], 1, [7], 'contiguous'],
        [[6, 3], 0, [], 'contiguous'],
      ];
      for (const [dt, dist] of DTYPES) {
        for (const [xs, axis, is, layout] of cases) {
          const a = axis < 0 ? axis + xs.length : axis;
          const xh = makeHost(r, xs, dt, dist, layout);
          const ih = makeHost(r, is, 'int32', ints(0, xs[a]!), is.length === 2 ? 'transposed' : 'contiguous');
          const c = s.ctx(`gather(axis ${axis})`, `x ${describeHost(xh)}, indices ${describeHost(ih)} ${fmt(Array.from(ih.data).slice(0, 8))}…`);
          const [got] = await evaluate(c, () => [ax.gather(build(xh), build(ih), axis)]);
          checkClose(got!, gatherRef(xh, ih, a), dt, TOLERANCES.movement, c);
        }
      }
    });

    it('scatterAdd: duplicates accumulate, float32/int32, axes, views', async () => {
      const r = s.rng('scatterAdd');
      const cases: [readonly number[], number, readonly number[]][] = [
        [[5], 0, [17]],
        [[6, 3], 0, [4, 2]],
        [[3, 7], 1, [129]],
        [[2, 4, 5], -1, [3]],
        [[4, 2], 0, [0]],
      ];
      for (const dt of ['float32', 'int32'] as const) {
        for (const [shape, axis, is] of cases) {
          const a = axis < 0 ? axis + shape.length : axis;
          const ih = makeHost(r, is, 'int32', ints(0, shape[a]!));
          const us = [...shape.slice(0, a), ...is, ...shape.slice(a + 1)];
          const uh = makeHost(r, us, dt, dt === 'float32' ? uniform(-1, 1) : ints(-(2 ** 30), 2 ** 30), us.length >= 2 ? 'transposed' : 'sliced');
          const c = s.ctx(`scatterAdd(axis ${axis})`, `shape ${fmt(shape)}, indices ${describeHost(ih)}, updates ${describeHost(uh)}`);
          const [got] = await evaluate(c, () => [ax.scatterAdd(shape, build(ih), build(uh), axis)]);
          const exp = scatterAddRef(shape, ih, uh, a, dt === 'int32');
          checkClose(got!, exp, dt, dt === 'int32' ? TOLERANCES.int32 : TOLERANCES.scatterAdd, c);
        }
      }
    });

    it('oneHot: 1-D and 2-D indices, depth 1 and 17, index views', async () => {
      const r = s.rng('oneHot');
      for (const [is, depth, layout] of [[[5], 3, 'contiguous'], [[3, 4], 17, 'transposed'], [[7], 1, 'sliced'], [[0], 4, 'contiguous']] as [number[], number, Layout][]) {
        const ih = makeHost(r, is, 'int32', ints(0, depth), layout);
        const c = s.ctx(`oneHot(depth ${depth})`, describeHost(ih));
        const [got] = await evaluate(c, () => [ax.oneHot(build(ih), depth)]);
        const values = new Float64Array(ih.data.length * depth);
        ih.data.forEach((v, i) => (values[i * depth + v] = 1));
        checkClose(got!, { shape: [...is, depth], values }, 'float32', TOLERANCES.exact, c);
      }
    });
  });
}
