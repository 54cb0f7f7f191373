/**
 * The sequence-model ops: cumsum/cumprod, flip, tril/triu/causalMask, std/variance correction,
 * stepped slices, tile/repeat/repeatInterleave, einsum, sort/argsort/topk and multinomial/
 * categorical — against float64 references (every dtype and layout, empty and size-1 dims),
 * against PyTorch's values, indices and gradients at ties and zeros (fixtures/torch-seq.json), and
 * their gradients by finite differences (the cases {@link sequenceGradCases} adds to 'gradients').
 */
import * as ax from '@axon/core';
import type { DType, Tensor } from '@axon/core';
import { grad } from '@axon/autograd';
import seq from '../../fixtures/torch-seq.json';
import { checkClose, ensure, type Expected, fmt } from '../check.js';
import { evaluate, group, it, type Suite } from '../harness.js';
import { bools, build, describeHost, type HostTensor, hostOf, ints, LAYOUTS, type Layout, makeHost, uniform } from '../inputs.js';
import { sizeOf } from '../reference.js';
import type { Rng } from '../rng.js';
import { TOLERANCES } from '../tolerances.js';

type E = Expected & { dtype?: DType };

/** Calls `f(o, j, i)` for every (outer, position along the axis, inner) of `shape`. */
function lanes(shape: readonly number[], axis: number, f: (base: number, stride: number, n: number) => void): void {
  const n = shape[axis]!;
  const inner = sizeOf(shape.slice(axis + 1));
  const outer = sizeOf(shape.slice(0, axis));
  for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) f(o * n * inner + i, inner, n);
}

function scanRef(h: HostTensor, axis: number, prod: boolean): E {
  const values = new Float64Array(h.data.length);
  const mag = new Float64Array(h.data.length);
  const cnt = new Float64Array(h.data.length);
  const int = h.dtype !== 'float32';
  if (h.shape.length === 0) return { shape: [], values: Float64Array.from(h.data) };
  lanes(h.shape, axis, (b, st, n) => {
    let acc = prod ? 1 : 0;
    let m = prod ? 1 : 0;
    for (let j = 0; j < n; j++) {
      const v = h.data[b + j * st]!;
      acc = prod ? (int ? Math.imul(acc, v) : acc * v) : int ? (acc + v) | 0 : acc + v;
      m = prod ? m * Math.abs(v) : m + Math.abs(v);
      values[b + j * st] = acc;
      mag[b + j * st] = prod ? Math.abs(acc) : m;
      cnt[b + j * st] = j + 1;
    }
  });
  return { shape: h.shape, values, mag, n: cnt };
}

function flipRef(h: HostTensor, axes: readonly number[]): E {
  const values = new Float64Array(h.data.length);
  const st = h.shape.map((_, i) => sizeOf(h.shape.slice(i + 1)));
  for (let k = 0; k < values.length; k++) {
    let src = 0;
    for (let d = 0; d < h.shape.length; d++) {
      const c = Math.floor(k / st[d]!) % h.shape[d]!;
      src += (axes.includes(d) ? h.shape[d]! - 1 - c : c) * st[d]!;
    }
    values[k] = h.data[src]!;
  }
  return { shape: h.shape, values };
}

function triRef(h: HostTensor, k: number, lower: boolean): E {
  const [r, c] = h.shape.slice(-2) as [number, number];
  return { shape: h.shape, values: h.data.map((v, idx) => { const i = Math.floor(idx / c) % r; const j = idx % c; return (lower ? j - i <= k : j - i >= k) ? v : 0; }) };
}

function varRef(h: HostTensor, axes: readonly number[], correction: number, keep: boolean, sqrt: boolean): E {
  const red = h.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const n = sizeOf(axes.map((a) => h.shape[a]!));
  const out = new Float64Array(sizeOf(red));
  const sums = new Float64Array(out.length);
  const st = h.shape.map((_, i) => sizeOf(h.shape.slice(i + 1)));
  const rst = red.map((_, i) => sizeOf(red.slice(i + 1)));
  const at = (k: number): number => h.shape.reduce((o, d, i) => o + (axes.includes(i) ? 0 : (Math.floor(k / st[i]!) % d) * rst[i]!), 0);
  h.data.forEach((v, k) => (sums[at(k)]! += v));
  const mean = sums.map((s) => s / n);
  const sq = new Float64Array(out.length);
  h.data.forEach((v, k) => {
    out[at(k)]! += (v - mean[at(k)]!) ** 2;
    sq[at(k)]! += v * v;
  });
  // variance: as reduceRef's, the accumulation bound scales with the result itself. std: the
  // float32 mean is off by ~ε·|x|, and that survives the square root (a constant row's std is
  // ~ε·rms(x), not 0), so its bound scales with rms(x) = √(Σx²/(n − correction))
  const values = out.map((s) => { const v = s / Math.max(0, n - correction); return sqrt ? Math.sqrt(v) : v; });
  const mag = sqrt ? sq.map((q) => Math.sqrt(q / Math.max(1, n - correction))) : values.map(Math.abs);
  return { shape: keep ? red : red.filter((_, i) => !axes.includes(i)), values, mag, n };
}

/** Brute-force float64 einsum: the sum over every assignment of the summed letters. */
export function einsumRef(spec: string, hs: readonly { shape: readonly number[]; data: Float64Array }[]): E {
  const [lhs, rhs0] = spec.split('->') as [string, string | undefined];
  const ins = lhs.split(',');
  const all = ins.join('');
  const size = new Map<string, number>();
  ins.forEach((s, i) => [...s].forEach((c, j) => size.set(c, hs[i]!.shape[j]!)));
  const out = rhs0 ?? [...size.keys()].filter((c) => all.indexOf(c) === all.lastIndexOf(c)).sort().join('');
  const letters = [...size.keys()];
  const shape = [...out].map((c) => size.get(c)!);
  const values = new Float64Array(sizeOf(shape));
  const mag = new Float64Array(values.length);
  const total = sizeOf(letters.map((c) => size.get(c)!));
  const val = new Map<string, number>();
  for (let k = 0; k < total; k++) {
    let rem = k;
    for (let l = letters.length - 1; l >= 0; l--) {
      const d = size.get(letters[l]!)!;
      val.set(letters[l]!, rem % d);
      rem = Math.floor(rem / d);
    }
    let p = 1;
    ins.forEach((s, i) => {
      const st = hs[i]!.shape.map((_, j) => sizeOf(hs[i]!.shape.slice(j + 1)));
      p *= hs[i]!.data[[...s].reduce((o, c, j) => o + val.get(c)! * st[j]!, 0)]!;
    });
    const o = [...out].reduce((acc, c, j) => acc * shape[j]! + val.get(c)!, 0);
    values[o]! += p;
    mag[o]! += Math.abs(p);
  }
  return { shape, values, mag, n: Math.max(1, total / Math.max(1, values.length)) * ins.length };
}

/** PyTorch's stable sort order: NaN largest, ties by index. */
function sortRef(h: HostTensor, axis: number, desc: boolean, k?: number): { values: E; indices: E } {
  const shape = [...h.shape];
  const n = shape[axis]!;
  const kk = k ?? n;
  const oshape = shape.map((d, i) => (i === axis ? kk : d));
  const values = new Float64Array(sizeOf(oshape));
  const indices = new Float64Array(values.length);
  const inner = sizeOf(shape.slice(axis + 1));
  const key = (v: number): number => (Number.isNaN(v) ? Infinity : v);
  lanes(shape, axis, (b, st) => {
    const idx = [...Array(n).keys()];
    const v = (j: number): number => h.data[b + j * st]!;
    idx.sort((p, q) => {
      const a = v(p), c = v(q);
      const na = Number.isNaN(a), nc = Number.isNaN(c);
      let cmp = na || nc ? Number(na) - Number(nc) : key(a) < key(c) ? -1 : key(a) > key(c) ? 1 : 0;
      if (desc) cmp = -cmp;
      return cmp || p - q;
    });
    const ob = Math.floor(b / (n * inner)) * kk * inner + (b % inner);
    for (let j = 0; j < kk; j++) {
      values[ob + j * st] = v(idx[j]!);
      indices[ob + j * st] = idx[j]!;
    }
  });
  return { values: { shape: oshape, values }, indices: { shape: oshape, values: indices } };
}

const DTYPES: [DType, (r: Rng) => number][] = [
  ['float32', uniform(-3, 3)],
  ['int32', ints(-50, 50)],
  ['bool', bools],
];

/** How each fixture op of torch-seq.json is called in Axon. */
type Attrs = Readonly<Record<string, unknown>>;
const num = (v: unknown): number => v as number;
const CALL: Readonly<Record<string, (a: Attrs, ...x: Tensor[]) => Tensor | ax.SortResult>> = {
  cumsum: (a, x) => ax.cumsum(x!, num(a.axis)),
  cumprod: (a, x) => ax.cumprod(x!, num(a.axis)),
  flip: (a, x) => ax.flip(x!, a.axes as number[]),
  tril: (a, x) => ax.tril(x!, num(a.k)),
  triu: (a, x) => ax.triu(x!, num(a.k)),
  std: (a, x) => ax.std(x!, a.axes as number | number[] | undefined, { correction: num(a.correction), keepDims: a.keepDims === true }),
  variance: (a, x) => ax.variance(x!, a.axes as number | number[] | undefined, { correction: num(a.correction), keepDims: a.keepDims === true }),
  geluTanh: (_a, x) => ax.gelu(x!, { approximate: 'tanh' }),
  slice: (a, x) => ax.slice(x!, a.begin as number[], a.size as number[], a.steps as number[]),
  tile: (a, x) => ax.tile(x!, a.reps as number[]),
  repeat: (a, x) => ax.repeat(x!, a.reps as number[]),
  repeatInterleave: (a, x) => ax.repeatInterleave(x!, a.repeats as number | number[], a.axis as number | undefined),
  einsum: (a, ...x) => ax.einsum(a.spec as string, ...x),
  sort: (a, x) => ax.sort(x!, num(a.axis), { descending: a.descending === true }),
  argsort: (a, x) => { const i = ax.argsort(x!, num(a.axis)); return { values: i.astype('float32'), indices: i }; },
  topk: (a, x) => ax.topk(x!, num(a.k), (a.axis as number | undefined) ?? -1, { largest: a.largest !== false }),
};

interface SeqCase {
  readonly op: string;
  readonly attrs: Attrs;
  readonly inputs: readonly { shape: number[]; data: (number | string | null)[] }[];
  readonly shape: number[];
  readonly forward: (number | string | null)[];
  readonly indices?: number[];
  readonly weights?: number[];
  readonly grads?: (number | string | null)[][];
}
const dec = (v: readonly (number | string | null)[]): Float64Array => Float64Array.from(v, (x) => (x === null ? NaN : typeof x === 'string' ? Number(x) : x));

export function sequenceTests(s: Suite): void {
  group(s, 'sequence ops', () => {
    it('cumsum / cumprod: every dtype and layout, each axis, size 0 and 1, rank 0', async () => {
      const r = s.rng('scan');
      const specs: [number[], number][] = [[[17], 0], [[3, 17], 1], [[4, 5, 6], 0], [[4, 5, 6], -1], [[4, 5, 6], 1], [[0, 3], 0], [[2, 0], 1], [[1, 5], 0], [[5, 1], 1], [[], 0], [[2, 33], 1]];
      for (const [dt, dist] of DTYPES) {
        for (const [shape, axis] of specs) {
          for (const layout of LAYOUTS) {
            const h = makeHost(r, shape, dt, dist, layout);
            const a = shape.length === 0 ? 0 : (axis + shape.length) % shape.length;
            const c = s.ctx(`cumsum(axis ${axis})`, describeHost(h));
            const [y] = await evaluate(c, () => ax.cumsum(build(h), axis));
            const e = scanRef(h, a, false);
            checkClose(y!, e, dt === 'float32' ? 'float32' : 'int32', dt === 'float32' ? TOLERANCES.sum : TOLERANCES.int32, c);
            if (dt === 'bool') continue;
            // products in [0.5, 1.5] with some exact zeros (int32: small factors, wrapping)
            const hp = makeHost(r, shape, dt, dt === 'float32' ? (q) => (q.next() < 0.15 ? 0 : q.uniform(0.5, 1.5)) : ints(-3, 4), layout);
            const cp = s.ctx(`cumprod(axis ${axis})`, describeHost(hp));
            const [yp] = await evaluate(cp, () => ax.cumprod(build(hp), axis));
            checkClose(yp!, scanRef(hp, a, true), dt, dt === 'float32' ? TOLERANCES.prod : TOLERANCES.int32, cp);
          }
        }
      }
    });

    it('flip: axes (negative, several, none), every dtype and layout, empty', async () => {
      const r = s.rng('flip');
      for (const [dt, dist] of DTYPES) {
        for (const layout of LAYOUTS) {
          for (const [shape, axes] of [[[3, 17], [1]], [[4, 5, 6], [0, -1]], [[4, 5, 6], []], [[2, 0, 3], [1, 2]], [[1, 7], [0, 1]]] as [number[], number[]][]) {
            const h = makeHost(r, shape, dt, dist, layout);
            const c = s.ctx(`flip(${fmt(axes)})`, describeHost(h));
            const [y] = await evaluate(c, () => ax.flip(build(h), axes));
            checkClose(y!, flipRef(h, axes.map((a) => (a + shape.length) % shape.length)), dt, TOLERANCES.exact, c);
          }
        }
      }
    });

    it('tril / triu (offsets, batches, every dtype and layout) and causalMask', async () => {
      const r = s.rng('tri');
      for (const [dt, dist] of DTYPES) {
        for (const layout of LAYOUTS) {
          for (const shape of [[4, 4], [3, 5], [2, 5, 3], [0, 3], [1, 1]]) {
            const h = makeHost(r, shape, dt, dist, layout);
            for (const k of [-2, 0, 1, 7]) {
              const c = s.ctx(`tril/triu(k ${k})`, describeHost(h));
              const [lo, up] = await evaluate(c, () => [ax.tril(build(h), k), ax.triu(build(h), k)]);
              checkClose(lo!, triRef(h, k, true), dt, TOLERANCES.exact, { ...c, op: `tril(k ${k})` });
              checkClose(up!, triRef(h, k, false), dt, TOLERANCES.exact, { ...c, op: `triu(k ${k})` });
            }
          }
        }
      }
      for (const [tq, tk] of [[3, 3], [2, 4], [4, 2], [0, 3], [1, 1]] as [number, number][]) {
        const c = s.ctx(`causalMask(${tq}, ${tk})`);
        const [m] = await evaluate(c, () => ax.causalMask(tq, tk));
        ensure(m!.dtype === 'bool', c, `dtype ${m!.dtype}, expected bool`);
        checkClose(m!, { shape: [tq, tk], values: Float64Array.from({ length: tq * tk }, (_, i) => +(i % tk <= Math.floor(i / tk))) }, 'bool', TOLERANCES.exact, c);
      }
    });

    it('std / variance with a correction: axes, keepDims, layouts, int32, n − correction ≤ 0', async () => {
      const r = s.rng('std');
      const specs: [number[], number[] | undefined, number, boolean][] = [[[3, 17], [1], 1, false], [[4, 5, 6], [0, 2], 0, true], [[4, 5, 6], undefined, 1, false], [[5, 3], [0], 2, false], [[1, 4], [0], 1, false], [[3, 2], [1], 3, true], [[0, 3], [0], 1, false]];
      for (const layout of LAYOUTS) {
        for (const [shape, axes, corr, keep] of specs) {
          const h = makeHost(r, shape, 'float32', uniform(-3, 3), layout);
          const al = axes ?? shape.map((_, i) => i);
          const c = s.ctx(`std/variance(axes ${fmt(axes ?? [])}, correction ${corr}, keepDims ${keep})`, describeHost(h));
          const [sd, v] = await evaluate(c, () => [ax.std(build(h), axes, { correction: corr, keepDims: keep }), ax.variance(build(h), axes, { correction: corr, keepDims: keep })]);
          checkClose(sd!, varRef(h, al, corr, keep, true), 'float32', TOLERANCES.variance, { ...c, op: `std ${c.op}` });
          checkClose(v!, varRef(h, al, corr, keep, false), 'float32', TOLERANCES.variance, { ...c, op: `variance ${c.op}` });
        }
      }
      const sp = hostOf([1, NaN, 2, 3, 3, 3, Infinity, 0, 1, 4, 4, 4], [4, 3]);
      const cs = s.ctx('std of NaN, constant and Infinity rows (NaN, 0, NaN as PyTorch)', describeHost(sp));
      const [ss] = await evaluate(cs, () => ax.std(build(sp), 1));
      checkClose(ss!, { shape: [4], values: Float64Array.from([NaN, 0, NaN, 0]) }, 'float32', TOLERANCES.exact, cs);
      const hi = makeHost(r, [4, 6], 'int32', ints(-9, 9), 'transposed');
      const c = s.ctx('std (default correction 1) and variance (default 0) of int32', describeHost(hi));
      const [sd, v] = await evaluate(c, () => [ax.std(build(hi), 1), ax.variance(build(hi), 1)]);
      checkClose(sd!, varRef(hi, [1], 1, false, true), 'float32', TOLERANCES.variance, c);
      checkClose(v!, varRef(hi, [1], 0, false, false), 'float32', TOLERANCES.variance, c);
    });

    it('slice with steps: a strided view (no copy), slices of it, and ops reading it', async () => {
      const r = s.rng('slice-steps');
      for (const [dt, dist] of DTYPES) {
        for (const layout of LAYOUTS) {
          const h = makeHost(r, [7, 17, 5], dt, dist, layout);
          const specs: [number[], number[], number[]][] = [[[0, 1, 0], [-1, -1, -1], [2, 3, 1]], [[1, -5, 4], [3, 2, 1], [2, 2, 1]], [[6, 0, 0], [1, 6, 2], [5, 3, 4]], [[0, 16, 0], [0, 1, -1], [3, 7, 2]]];
          const ref = (b: number[], n: number[], st: number[], src: HostTensor): E => {
            const sz = n.map((v, i) => (v === -1 ? Math.ceil((src.shape[i]! - b[i]!) / st[i]!) : v));
            const values = new Float64Array(sizeOf(sz));
            const sst = src.shape.map((_, i) => sizeOf(src.shape.slice(i + 1)));
            for (let k = 0; k < values.length; k++) {
              let o = 0;
              let rem = k;
              for (let d = sz.length - 1; d >= 0; d--) {
                o += (b[d]! + (rem % sz[d]!) * st[d]!) * sst[d]!;
                rem = Math.floor(rem / sz[d]!);
              }
              values[k] = src.data[o]!;
            }
            return { shape: sz, values };
          };
          const c = s.ctx('slice(begin, size, steps)', describeHost(h));
          const copies: boolean[] = [];
          const got = await evaluate(c, () => {
            const x = build(h);
            return specs.map(([b, n, st]) => {
              const before = ax.memory().numStorages;
              const v = ax.slice(x, b.map((q, i) => (q < 0 ? q + h.shape[i]! : q)), n, st);
              copies.push(ax.memory().numStorages !== before);
              return v;
            });
          });
          specs.forEach(([b, n, st], i) => checkClose(got[i]!, ref(b.map((q, j) => (q < 0 ? q + h.shape[j]! : q)), n, st, h), dt, TOLERANCES.movement, { ...c, op: `slice(${fmt(b)}, ${fmt(n)}, ${fmt(st)})` }));
          ensure(!copies.some(Boolean), c, `a stepped slice allocated storage; it is a view (${copies})`);
          if (dt !== 'float32') continue;
          // ops reading stepped views: elementwise, reduction, matmul, gather, concat, a copy, a slice of the view
          const cv = s.ctx('ops on stepped views', describeHost(h));
          const [a, sm, mm, g, cc, sl] = await evaluate(cv, () => {
            const v = ax.slice(build(h), [0, 1, 0], [-1, -1, -1], [2, 3, 2]); // [4, 6, 3]
            return [ax.add(ax.mul(v, 2), 1), ax.sum(v, 1), ax.matmul(v, ax.transpose(v)), ax.gather(v, ax.tensor([2, 0, 2], [3], 'int32'), 1), ax.concat([v, v], 2), ax.slice(v, [1, 1, 0], [2, -1, 2], [2, 2, 1])];
          });
          const v = ref([0, 1, 0], [-1, -1, -1], [2, 3, 2], h);
          const vh: HostTensor = { shape: v.shape, data: v.values, dtype: 'float32', layout: 'contiguous' };
          checkClose(a!, { shape: v.shape, values: v.values.map((x) => 2 * x + 1) }, 'float32', TOLERANCES.mul, { ...cv, op: '2·v + 1' });
          checkClose(sm!, varLike(vh), 'float32', TOLERANCES.sum, { ...cv, op: 'sum(v, 1)' });
          checkClose(mm!, einsumRef('bij,bkj->bik', [vh, vh]), 'float32', TOLERANCES.matmul, { ...cv, op: 'v·vᵀ' });
          checkClose(g!, einsumRef('bjm,jk->bkm', [vh, { shape: [6, 3], data: Float64Array.from({ length: 18 }, (_, i) => +(Math.floor(i / 3) === [2, 0, 2][i % 3])) }]), 'float32', TOLERANCES.exact, { ...cv, op: 'gather(v, [2,0,2], 1)' });
          checkClose(cc!, { shape: [4, 6, 6], values: Float64Array.from({ length: 144 }, (_, i) => v.values[Math.floor(i / 6) * 3 + (i % 3)]!) }, 'float32', TOLERANCES.exact, { ...cv, op: 'concat([v, v], 2)' });
          checkClose(sl!, ref([1, 1, 0], [2, -1, 2], [2, 2, 1], vh), 'float32', TOLERANCES.exact, { ...cv, op: 'slice of a stepped slice' });
        }
      }
    });

    it('tile / repeat / repeatInterleave: every dtype and layout, extra dims, zero repeats, empty', async () => {
      const r = s.rng('tile');
      const tileRef = (h: HostTensor, reps: number[]): E => {
        const R = [...Array(Math.max(0, h.shape.length - reps.length)).fill(1), ...reps] as number[];
        const xs = [...Array(R.length - h.shape.length).fill(1), ...h.shape] as number[];
        const shape = R.map((k, i) => k * xs[i]!);
        const xst = xs.map((_, i) => sizeOf(xs.slice(i + 1)));
        const ost = shape.map((_, i) => sizeOf(shape.slice(i + 1)));
        return { shape, values: Float64Array.from({ length: sizeOf(shape) }, (_, k) => h.data[shape.reduce((o, d, i) => o + ((Math.floor(k / ost[i]!) % d) % xs[i]!) * xst[i]!, 0)]!) };
      };
      const riRef = (h: HostTensor, reps: number[], axis: number): E => {
        const src = reps.flatMap((c, i) => Array<number>(c).fill(i));
        const shape = h.shape.map((d, i) => (i === axis ? src.length : d));
        const inner = sizeOf(h.shape.slice(axis + 1));
        const n = h.shape[axis]!;
        return { shape, values: Float64Array.from({ length: sizeOf(shape) }, (_, k) => { const o = Math.floor(k / (src.length * inner)); const j = Math.floor(k / inner) % src.length; return h.data[(o * n + src[j]!) * inner + (k % inner)]!; }) };
      };
      for (const [dt, dist] of DTYPES) {
        for (const layout of LAYOUTS) {
          const h = makeHost(r, [3, 4], dt, dist, layout);
          const c = s.ctx('tile / repeat / repeatInterleave', describeHost(h));
          const got = await evaluate(c, () => {
            const x = build(h);
            return [ax.tile(x, [2, 3]), ax.tile(x, [2]), ax.tile(x, [2, 1, 2]), ax.repeat(x, [1, 2, 1]), ax.tile(x, [0, 1]), ax.repeatInterleave(x, 2, 1), ax.repeatInterleave(x, [2, 0, 3], 0), ax.repeatInterleave(x, 3), ax.repeatInterleave(x, 0, -1)];
          });
          const exp = [tileRef(h, [2, 3]), tileRef(h, [2]), tileRef(h, [2, 1, 2]), tileRef(h, [1, 2, 1]), tileRef(h, [0, 1]), riRef(h, [2, 2, 2, 2], 1), riRef(h, [2, 0, 3], 0), riRef({ ...h, shape: [12] }, Array<number>(12).fill(3), 0), riRef(h, [0, 0, 0, 0], 1)];
          exp.forEach((e, i) => checkClose(got[i]!, e, dt, TOLERANCES.movement, { ...c, op: `${c.op} (case ${i})` }));
        }
      }
      const z = hostOf([], [0, 2]);
      const c = s.ctx('tile / repeatInterleave of an empty tensor', describeHost(z));
      const [t0, r0] = await evaluate(c, () => [ax.tile(build(z), [3, 2]), ax.repeatInterleave(build(z), 2, 1)]);
      ensure(fmt(t0!.shape) === '[0,4]' && fmt(r0!.shape) === '[0,4]', c, `shapes ${fmt(t0!.shape)} and ${fmt(r0!.shape)}, expected [0,4]`);
    });

    it('einsum: attention, bilinear, batch, outer, trace, diagonal, transpose, sum-out, implicit output, views', async () => {
      const r = s.rng('einsum');
      const specs: [string, number[][]][] = [
        ['bhqd,bhkd->bhqk', [[2, 3, 4, 5], [2, 3, 6, 5]]],
        ['bhqk,bhkd->bhqd', [[2, 3, 4, 6], [2, 3, 6, 5]]],
        ['bi,ij->bj', [[3, 4], [4, 5]]],
        ['bn,anm,bm->ba', [[3, 4], [2, 4, 5], [3, 5]]],
        ['bij,bjk->bik', [[2, 3, 4], [2, 4, 2]]],
        ['i,j->ij', [[3], [4]]],
        ['ii->', [[5, 5]]],
        ['ii->i', [[4, 4]]],
        ['bii->bi', [[2, 3, 3]]],
        ['ij->ji', [[3, 4]]],
        ['ijk->kj', [[2, 3, 4]]],
        ['ij->', [[3, 4]]],
        ['i,i->', [[7], [7]]],
        ['ij,jk', [[3, 4], [4, 2]]],
        ['ba,ab', [[3, 2], [2, 3]]],
        ['ij,ij->ij', [[3, 4], [3, 4]]],
        ['ij,kj->ik', [[0, 3], [2, 3]]],
        ['i,i->i', [[1], [1]]],
      ];
      for (const [spec, shapes] of specs) {
        const hs = shapes.map((sh, i) => makeHost(r, sh, 'float32', uniform(-1, 1), LAYOUTS[(i + spec.length) % LAYOUTS.length] as Layout));
        const c = s.ctx(`einsum('${spec}')`, hs.map(describeHost).join(' , '));
        const [y] = await evaluate(c, () => ax.einsum(spec, ...hs.map(build)));
        checkClose(y!, einsumRef(spec, hs), 'float32', TOLERANCES.einsum, c);
      }
      const bad: [string, number[][], RegExp][] = [
        ['ij,jk->ii', [[2, 3], [3, 2]], /repeated/],
        ['ij,jk->ik', [[2, 3], [4, 2]], /size 3 and 4/],
        ['ij->k', [[2, 3]], /in no operand/],
        ['ij,jk', [[2, 3]], /2 subscript groups for 1 operands/],
        ['ijk->i', [[2, 3]], /2 dims/],
        ['...ij->ij', [[2, 3]], /letter subscripts/],
        ['i->i->i', [[2]], /letter subscripts/],
      ];
      for (const [spec, shapes, re] of bad) {
        const c = s.ctx(`einsum('${spec}') rejects`, shapes.map(fmt).join(' , '));
        const before = ax.memory().numTensors;
        const xs = shapes.map((sh) => ax.zeros(sh));
        let err: unknown = null;
        try {
          ax.einsum(spec, ...xs).dispose();
        } catch (e) {
          err = e;
        }
        for (const x of xs) x.dispose();
        ensure(err instanceof ax.AxonError && re.test(err.message) && err.message.includes('einsum'), c, `expected an AxonError matching ${re}, got ${String(err)}`);
        ensure(ax.memory().numTensors === before, c, 'leaked tensors');
      }
    });

    it('sort / argsort / topk: stable ties, NaN and ±Infinity, ±0, every dtype and layout, sizes 0/1/non-powers of two', async () => {
      const r = s.rng('sort');
      const tiesy = (q: Rng): number => [NaN, Infinity, -Infinity, 0, -0, 1, 1, 2][q.int(0, 8)]!;
      for (const [dt, dist] of [...DTYPES, ['float32', tiesy] as [DType, (r: Rng) => number]]) {
        for (const layout of LAYOUTS) {
          for (const [shape, axis] of [[[17], 0], [[3, 5], 1], [[4, 6, 3], 1], [[4, 6, 3], -1], [[2, 33], 1], [[1, 1], 0], [[3, 0], 1], [[0, 3], 1]] as [number[], number][]) {
            const h = makeHost(r, shape, dt, dt === 'int32' ? ints(-4, 4) : dist, layout);
            const a = (axis + shape.length) % shape.length;
            const n = shape[a]!;
            const k = Math.min(3, n);
            const c = s.ctx(`sort/argsort/topk(axis ${axis})`, describeHost(h));
            const got = await evaluate(c, () => {
              const x = build(h);
              const so = ax.sort(x, axis);
              const sd = ax.sort(x, axis, { descending: true });
              const tk = ax.topk(x, k, axis);
              const tl = ax.topk(x, k, axis, { largest: false });
              return [so.values, so.indices, sd.values, sd.indices, ax.argsort(x, axis), ax.argsort(x, axis, { descending: true }), tk.values, tk.indices, tl.values, tl.indices];
            });
            const asc = sortRef(h, a, false);
            const desc = sortRef(h, a, true);
            const top = sortRef(h, a, true, k);
            const low = sortRef(h, a, false, k);
            const exp = [asc.values, asc.indices, desc.values, desc.indices, asc.indices, desc.indices, top.values, top.indices, low.values, low.indices];
            exp.forEach((e, i) => checkClose(got[i]!, e, i % 2 === 0 && i !== 4 ? dt : 'int32', TOLERANCES.exact, { ...c, op: `${c.op} output ${i}` }));
          }
        }
      }
      const h = makeHost(r, [5], 'float32', uniform(-1, 1));
      for (const [what, f] of [['topk k > n', () => ax.topk(build(h), 6)], ['topk k < 0', () => ax.topk(build(h), -1)], ['sort axis 1 of 1-D', () => ax.sort(build(h), 1)]] as const) {
        const c = s.ctx(`${what} rejects`);
        const before = ax.memory().numTensors;
        let err: unknown = null;
        try {
          ax.tidy(() => void f());
        } catch (e) {
          err = e;
        }
        ensure(err instanceof ax.AxonError, c, `expected an AxonError, got ${String(err)}`);
        ensure(ax.memory().numTensors === before, c, 'leaked tensors');
      }
    });

    it('sort / argsort / topk: rows past a workgroup tile (n = 5000), many rows, n = 1, all-NaN, ±Infinity, ±0, int32 extremes, descending stable ties; a handful of kernels with the sort primitive', async () => {
      const r = s.rng('sort-long');
      const pick = (vs: readonly number[]) => (q: Rng): number => vs[q.int(0, vs.length)]!;
      const I32 = [-(2 ** 31), 2 ** 31 - 1, -(2 ** 31) + 1, 2 ** 31 - 2, 0, -1, 1];
      const cases: [string, number[], number, DType, (q: Rng) => number, Layout][] = [
        ['float ties past the tile', [2, 5000], 1, 'float32', pick([NaN, Infinity, -Infinity, 0, -0, 1, -1, 2.5, 1e-30, -1e-30]), 'contiguous'],
        ['distinct floats, transposed', [4099, 2], 0, 'float32', uniform(-1e3, 1e3), 'transposed'],
        ['int32 extremes past the tile', [3, 2500], -1, 'int32', pick(I32), 'strided'],
        ['descending stable ties', [2, 2100], 1, 'int32', ints(0, 3), 'sliced'],
        ['bool past the tile', [1, 3000], 1, 'bool', bools, 'contiguous'],
        ['many rows', [700, 7], 1, 'float32', pick([NaN, -0, 0, 1, -Infinity, 3]), 'contiguous'],
        ['many rows, axis 0', [9, 513], 0, 'float32', uniform(-3, 3), 'expanded'],
        ['n = 1', [64, 1], 1, 'float32', uniform(-3, 3), 'contiguous'],
        ['n = 0', [5, 0], 1, 'float32', uniform(-3, 3), 'contiguous'],
        ['all NaN', [3, 37], 1, 'float32', () => NaN, 'contiguous'],
        ['all -0 and 0', [2, 33], 1, 'float32', pick([0, -0]), 'contiguous'],
        ['±Infinity', [2, 2049], 1, 'float32', pick([Infinity, -Infinity, NaN]), 'contiguous'],
      ];
      for (const [what, shape, axis, dt, dist, layout] of cases) {
        const h = makeHost(r, shape, dt, dist, layout);
        const a = (axis + shape.length) % shape.length;
        const k = Math.min(7, shape[a]!);
        const c = s.ctx(`sort/argsort/topk ${what} (axis ${axis})`, describeHost(h));
        const bytes = ax.memory().numBytes;
        const got = await evaluate(c, () => {
          const x = build(h);
          const so = ax.sort(x, axis);
          const sd = ax.sort(x, axis, { descending: true });
          const tk = ax.topk(x, k, axis);
          const tl = ax.topk(x, k, axis, { largest: false });
          return [so.values, so.indices, sd.values, sd.indices, tk.values, tk.indices, tl.values, tl.indices];
        });
        ensure(ax.memory().numBytes === bytes, c, `memory().numBytes ${bytes} before, ${ax.memory().numBytes} after: a leak`);
        const asc = sortRef(h, a, false);
        const desc = sortRef(h, a, true);
        const top = sortRef(h, a, true, k);
        const low = sortRef(h, a, false, k);
        const exp = [asc.values, asc.indices, desc.values, desc.indices, top.values, top.indices, low.values, low.indices];
        exp.forEach((e, i) => checkClose(got[i]!, e, i % 2 === 0 ? dt : 'int32', TOLERANCES.exact, { ...c, op: `${c.op} output ${i}` }));
      }
      // -0 keeps its sign in the values (they are x's elements, gathered), and ties keep their order
      const z = s.ctx('sort [0, -0, -0, 0]: the sign of zero survives, order kept');
      const [zv, zi] = await evaluate(z, () => { const o = ax.sort(ax.tensor([0, -0, -0, 0])); return [o.values, o.indices]; });
      ensure(Array.from(zv!.data, (v) => Object.is(v, -0)).join() === 'false,true,true,false' && Array.from(zi!.data).join() === '0,1,2,3', z, `values ${Array.from(zv!.data, (v) => (Object.is(v, -0) ? '-0' : String(v)))}, indices ${Array.from(zi!.data)}`);
      // compile replays the sort (the primitive's call, or the network's) with new inputs
      const cc = s.ctx('topk under compile: a replay with new inputs equals the uncompiled run');
      const tf = (x: Tensor): Tensor => ax.tidy(() => { const t = ax.topk(x, 5, 1, { largest: false }); return ax.add(t.values, t.indices.astype('float32')); });
      const ctf = ax.compile(tf);
      for (let call = 0; call < 3; call++) {
        const x = build(makeHost(r, [6, 40], 'float32', uniform(-2, 2)));
        const got = ctf(x);
        const want = tf(x);
        const [g, w] = [await got.data(), await want.data()];
        got.dispose();
        want.dispose();
        x.dispose();
        ensure(g.every((v, i) => v === w[i]), cc, `call ${call}: compiled ${Array.from(g.slice(0, 5))}… ≠ uncompiled ${Array.from(w.slice(0, 5))}…`);
      }
      // with the backend's sort primitive a sort is one call, not log²n stages of gather/where
      if (typeof ax.getBackend().sort === 'function') {
        const flags = ax.setFlags({ fusion: false });
        const x = ax.rand([64, 1000]);
        try {
          const { result, report } = ax.profile(() => ax.sort(x, 1));
          result.values.dispose();
          result.indices.dispose();
          const c = s.ctx('profile sort([64, 1000]) (fusion off)');
          ensure(report.byKind['sort']?.count === 1 && report.kernels <= 8, c, `${report.kernels} kernels: ${JSON.stringify(report.byKind)}`);
        } finally {
          x.dispose();
          ax.setFlags(flags);
        }
      }
    });

    it('multinomial / categorical: the draws the global stream gives (host-computed Gumbel keys), setSeed reproduces, bad probabilities rejected', async () => {
      const probs = [[0.1, 0, 0.5, 0.2, 0.2], [0, 0, 1, 0, 0], [0.25, 0.25, 0.25, 0.25, 3]];
      const expected = (p: number[][], num: number, logits: boolean, replace: boolean, key: number, counter: number): Float64Array => {
        const n = p[0]!.length;
        const m = replace ? num : 1;
        const u = ax.referenceRandom('uniform', key, counter, 0, 1, p.length * m * n);
        const out: number[] = [];
        p.forEach((row, b) => {
          const keys = (j: number): number[] => row.map((v, i) => Math.fround((logits ? v : Math.log(v)) - Math.log(-Math.log(u[(b * m + j) * n + i]!))));
          if (replace) for (let j = 0; j < num; j++) { const ks = keys(j); out.push(ks.indexOf(Math.max(...ks))); }
          else { const ks = keys(0); out.push(...[...ks.keys()].sort((x, y) => ks[y]! - ks[x]! || x - y).slice(0, num)); }
        });
        return Float64Array.from(out);
      };
      for (const [num, replace] of [[3, false], [1, false], [7, true]] as [number, boolean][]) {
        const pr = replace ? probs : probs.map((row) => row.map((v) => v + 0.05));
        ax.setSeed(1234);
        const st = ax.getRngState();
        const c = s.ctx(`multinomial(numSamples ${num}, replacement ${replace})`, JSON.stringify(pr));
        const [y, y2] = await evaluate(c, () => {
          const a = ax.multinomial(ax.tensor(pr), num, { replacement: replace });
          ax.setSeed(1234);
          return [a, ax.multinomial(ax.tensor(pr), num, { replacement: replace })];
        });
        ensure(y!.dtype === 'int32', c, `dtype ${y!.dtype}, expected int32`);
        checkClose(y!, { shape: [3, num], values: expected(pr, num, false, replace, st.key, st.counter) }, 'int32', TOLERANCES.exact, c);
        checkClose(y2!, { shape: [3, num], values: Float64Array.from(y!.data) }, 'int32', TOLERANCES.exact, { ...c, op: `${c.op} after setSeed again` });
      }
      const logits = [[0, -1, 2, -Infinity], [3, 3, 3, 3]];
      ax.setSeed(99);
      const st = ax.getRngState();
      const c = s.ctx('categorical(numSamples 5)', JSON.stringify(logits));
      const [y] = await evaluate(c, () => ax.categorical(ax.tensor(logits), 5));
      checkClose(y!, { shape: [2, 5], values: expected(logits, 5, true, true, st.key, st.counter) }, 'int32', TOLERANCES.exact, c);
      // a 1-D distribution; a rare category's frequency over many draws
      const [f] = await evaluate(s.ctx('multinomial frequency'), () => ax.sum(ax.eq(ax.multinomial(ax.tensor([0.9, 0.1]), 4000, { replacement: true }), 1)));
      ensure(Math.abs(f!.data[0]! - 400) < 80, s.ctx('multinomial frequency'), `category 1 (p = 0.1) drawn ${f!.data[0]} times of 4000`);
      if (ax.getBackend().supportsSyncRead) {
        for (const [p, n, re] of [[[0.5, -0.1], 1, /finite and >= 0/], [[0.5, NaN], 1, /finite and >= 0/], [[0, 1, 0], 2, /non-zero/], [[0, 0], 1, /non-zero/]] as [number[], number, RegExp][]) {
          const cx = s.ctx('multinomial rejects', JSON.stringify(p));
          let err: unknown = null;
          try {
            ax.tidy(() => void ax.multinomial(ax.tensor(p), n));
          } catch (e) {
            err = e;
          }
          ensure(err instanceof ax.AxonError && re.test(err.message), cx, `expected an AxonError matching ${re}, got ${String(err)}`);
        }
      }
    });

    it('outside a tidy, a call leaves only its outputs (no intermediate outlives it)', async () => {
      const calls: [string, (x: Tensor) => Tensor | ax.SortResult][] = [
        ['cumsum', (x) => ax.cumsum(x, 1)], ['cumprod', (x) => ax.cumprod(x, 0)], ['flip', (x) => ax.flip(x, [0, 1])],
        ['tril', (x) => ax.tril(x)], ['triu', (x) => ax.triu(x, 1)], ['causalMask', () => ax.causalMask(3, 4)],
        ['std', (x) => ax.std(x, 1)], ['variance', (x) => ax.variance(x, 0, { correction: 1 })], ['gelu tanh', (x) => ax.gelu(x, { approximate: 'tanh' })],
        ['slice steps', (x) => ax.slice(x, [0, 1], [-1, -1], [2, 2])], ['tile', (x) => ax.tile(x, [2, 1, 2])], ['repeat', (x) => ax.repeat(x, [2, 2])],
        ['repeatInterleave', (x) => ax.repeatInterleave(x, 2, 1)], ['repeatInterleave array', (x) => ax.repeatInterleave(x, [1, 0, 2, 1], 0)], ['repeatInterleave flat', (x) => ax.repeatInterleave(x, 2)],
        ['einsum', (x) => ax.einsum('ij,kj->ik', x, x)], ['einsum sum-out', (x) => ax.einsum('ij,ij->i', x, x)], ['einsum three', (x) => ax.einsum('ij,ik,il->jkl', x, x, x)],
        ['sort', (x) => ax.sort(x, 1)], ['argsort', (x) => ax.argsort(x, 0, { descending: true })], ['topk', (x) => ax.topk(x, 2, 1)],
        ['multinomial', (x) => ax.multinomial(x, 2)], ['categorical', (x) => ax.categorical(x, 3)],
      ];
      for (const [name, f] of calls) {
        const c = s.ctx(`${name} outside tidy`, '[4,5] float32');
        const x = ax.tensor(Float32Array.from({ length: 20 }, (_, i) => ((i * 7) % 11) / 4 + 0.25), [4, 5]);
        const before = ax.memory().numTensors;
        const r = f(x);
        const outs = r instanceof ax.Tensor ? [r] : [...new Set([r.values, r.indices])];
        const after = ax.memory().numTensors;
        for (const o of outs) o.dispose();
        x.dispose();
        ensure(after - before === outs.length, c, `${after - before} tensors live after the call, expected its ${outs.length} output(s)`);
      }
    });

    const cases = (seq as unknown as { cases: SeqCase[] }).cases;
    it(`PyTorch ${(seq as { torch: string }).torch}: ${cases.length} cases of values, indices and gradients at ties, zeros and NaN (fixtures/torch-seq.json)`, async () => {
      for (const [i, k] of cases.entries()) {
        const call = CALL[k.op]!;
        ensure(call !== undefined, s.ctx(`torch-seq ${k.op}`), `no Axon call for fixture op '${k.op}'`);
        const c = s.ctx(`${k.op}${JSON.stringify(k.attrs)} vs PyTorch (case ${i})`, k.inputs.map((x) => fmt(x.shape)).join(' , '));
        const val = (o: Tensor | ax.SortResult): Tensor => (o instanceof ax.Tensor ? o : o.values);
        const outs = await evaluate(c, () => {
          const xs = k.inputs.map((x) => ax.tensor(Float32Array.from(dec(x.data)), x.shape));
          const o = call(k.attrs, ...xs);
          const res = [val(o), ...(o instanceof ax.Tensor ? [] : [o.indices])];
          if (k.grads) res.push(...grad((...ts: Tensor[]) => ax.sum(ax.mul(val(call(k.attrs, ...ts)), ax.tensor(k.weights!, k.shape))))(...xs));
          return res;
        });
        checkClose(outs[0]!, { shape: k.shape, values: dec(k.forward) }, 'float32', TOLERANCES.torch, { ...c, op: `${c.op}: values` });
        let j = 1;
        if (k.indices) checkClose(outs[j++]!, { shape: k.shape, values: Float64Array.from(k.indices) }, 'int32', TOLERANCES.exact, { ...c, op: `${c.op}: indices` });
        k.grads?.forEach((g, q) => checkClose(outs[j + q]!, { shape: k.inputs[q]!.shape, values: dec(g) }, 'float32', TOLERANCES.torch, { ...c, op: `${c.op}: gradient of input ${q}` }));
      }
    });
  });
}

/** sum over axis 1 of a [b, n, m] host tensor, with the sum tolerance's Σ|x| and count. */
function varLike(h: HostTensor): E {
  const [b, n, m] = h.shape as [number, number, number];
  const values = new Float64Array(b * m);
  const mag = new Float64Array(b * m);
  for (let i = 0; i < b; i++) for (let j = 0; j < n; j++) for (let q = 0; q < m; q++) {
    values[i * m + q]! += h.data[(i * n + j) * m + q]!;
    mag[i * m + q]! += Math.abs(h.data[(i * n + j) * m + q]!);
  }
  return { shape: [b, m], values, mag, n };
}

interface GradCase {
  name: string;
  inputs: (r: Rng) => HostTensor[];
  f: (...x: Tensor[]) => Tensor;
}

/**
 * Gradient checks (finite differences, in the 'gradients' group) of the sequence ops, including
 * cumprod through exact zeros; `wsum` is that group's weighted sum.
 */
export function sequenceGradCases(wsum: (y: Tensor, seed: number) => Tensor): GradCase[] {
  const u = (shape: number[], lo: number, hi: number, layout: Layout = 'contiguous') => (r: Rng): HostTensor => makeHost(r, shape, 'float32', uniform(lo, hi), layout);
  const spaced = (shape: number[], layout: Layout) => (r: Rng): HostTensor => hostOf(r.permutation(sizeOf(shape)).map((k) => -1 + 0.1 * k + 0.01 * r.next()), shape, 'float32', layout);
  return [
    { name: 'cumsum / cumprod (through exact zeros)', inputs: (r) => [u([3, 5], -2, 2, 'transposed')(r), hostOf([0.5, 0, 1.5, -1, 0, 2, 1.25, 0.75, -0.5, 0], [2, 5], 'float32', 'sliced')], f: (a, b) => ax.add(wsum(ax.cumsum(a!, 1), 40), ax.add(wsum(ax.cumprod(b!, 1), 41), wsum(ax.cumprod(b!, 0), 42))) },
    { name: 'flip / tril / triu', inputs: (r) => [u([2, 3, 4], -2, 2, 'sliced')(r)], f: (x) => ax.add(wsum(ax.flip(x!, [0, 2]), 43), ax.add(wsum(ax.tril(x!, 1), 44), wsum(ax.triu(x!, -1), 45))) },
    { name: 'std / variance (corrections 0, 1, 2) / gelu tanh', inputs: (r) => [u([3, 5], -2, 2, 'transposed')(r)], f: (x) => ax.add(ax.add(wsum(ax.std(x!, 1), 46), wsum(ax.variance(x!, 0, { correction: 2 }), 47)), ax.add(wsum(ax.std(x!, undefined, { correction: 0 }), 48), wsum(ax.gelu(x!, { approximate: 'tanh' }), 49))) },
    { name: 'slice with steps', inputs: (r) => [u([7, 5], -2, 2, 'transposed')(r)], f: (x) => ax.add(wsum(ax.slice(x!, [1, 0], [3, -1], [2, 2]), 50), wsum(ax.slice(x!, [0, 4], [-1, 1], [3, 1]), 51)) },
    { name: 'tile / repeat / repeatInterleave', inputs: (r) => [u([2, 3], -2, 2, 'expanded')(r)], f: (x) => ax.add(ax.add(wsum(ax.tile(x!, [2, 1, 2]), 52), wsum(ax.repeat(x!, [1, 2]), 53)), ax.add(wsum(ax.repeatInterleave(x!, 2, 1), 54), wsum(ax.repeatInterleave(x!, [3, 0], 0), 55))) },
    { name: 'einsum (attention scores, bilinear, trace, outer)', inputs: (r) => [u([2, 3, 4], -1, 1)(r), u([2, 5, 4], -1, 1, 'transposed')(r), u([3, 4, 5], -1, 1, 'sliced')(r)], f: (q, k, w) => ax.add(ax.add(wsum(ax.einsum('bqd,bkd->bqk', q!, k!), 56), wsum(ax.einsum('bd,adm,bm->ba', ax.slice(q!, [0, 0, 0], [2, 1, 4]).reshape([2, 4]), w!, ax.slice(k!, [0, 0, 0], [2, 1, 4]).reshape([2, 4]).slice([0, 0], [2, 4]).matmul(ax.ones([4, 5]))), 57)), ax.add(ax.einsum('ii', ax.slice(w!, [0, 0, 0], [1, 4, 4]).reshape([4, 4])), wsum(ax.einsum('i,j->ij', ax.flatten(q!).slice([0], [3]), ax.flatten(k!).slice([0], [2])), 58))) },
    { name: 'sort / topk values (no ties: gradient scatters to the sorted positions)', inputs: (r) => [spaced([3, 6], 'transposed')(r)], f: (x) => ax.add(wsum(ax.sort(x!, 1).values, 59), ax.add(wsum(ax.sort(x!, 0, { descending: true }).values, 60), wsum(ax.topk(x!, 2, 1).values, 61))) },
  ];
}
