/**
 * Ops sequence models use — scans, triangles, sorting, einsum, tiling, sampling — written once as
 * composites of the primitives (so every backend runs them and autograd differentiates them
 * through their parts: no rule of their own).
 */
import { validationRead } from '../checks.js';
import { noGrad } from '../engine.js';
import { AxonError, fmtShape, fmtValue } from '../errors.js';
import { normAxes, normAxis, sizeOf, validateShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { arange, rand, tensor } from './creation.js';
import { add, astype, clone, eq, gt, le, ge, log, logicalAnd, logicalNot, logicalOr, lt, mul, ne, neg, sub, where } from './elementwise.js';
import { matmul } from './linalg.js';
import { expand, gather, pad, permute, reshape, slice, unsqueeze } from './movement.js';
import { argmax, sum } from './reduce.js';
import { backendOf, comp, empty } from './util.js';

const isInt = (v: unknown, min = 0): v is number => typeof v === 'number' && Number.isInteger(v) && v >= min;
const ints = (op: string, what: string, v: unknown, min = 0): number[] => {
  if (!Array.isArray(v) || !v.every((d) => isInt(d, min))) throw new AxonError(op, `${what} must be an array of integers >= ${min}, got ${fmtValue(v)}`);
  return [...(v as number[])];
};
const along = (shape: readonly number[], ax: number, v: number, other: number): number[] => shape.map((d, i) => (i === ax ? v : other < 0 ? d : other));

function scan(op: 'cumsum' | 'cumprod', x: Tensor, axis: number): Tensor {
  backendOf(op, x);
  if (x.rank === 0) normAxis(op, axis, 1);
  const ax = normAxis(op, axis, Math.max(x.rank, 1));
  const n = x.rank === 0 ? 1 : x.shape[ax]!;
  // Hillis–Steele: log2(n) steps of y += y shifted by d along the axis (multiplications for
  // cumprod, whose gradient through the parts is exact where x has zeros)
  return comp((k) => {
    let y = x.dtype === 'bool' ? k(astype(x, 'int32')) : x;
    for (let d = 1; d < n; d *= 2) {
      const s = k(slice(y, along(x.shape, ax, 0, 0), along(x.shape, ax, n - d, -1)));
      const p = k(pad(s, x.shape.map((_, i) => (i === ax ? [d, 0] : [0, 0]) as [number, number]), op === 'cumsum' ? 0 : 1));
      y = k(op === 'cumsum' ? add(y, p) : mul(y, p));
    }
    return y === x ? clone(x) : y;
  });
}

/**
 * Cumulative sum along `axis` (PyTorch's `cumsum`; bool sums as int32).
 * @example
 * cumsum(tensor([1, 2, 3, 4]), 0) // [1, 3, 6, 10]
 * cumsum(tensor([[1, 2], [3, 4]]), 1) // [[1, 3], [3, 7]]
 */
export function cumsum(x: Tensor, axis: number): Tensor {
  return scan('cumsum', x, axis);
}

/**
 * Cumulative product along `axis` (PyTorch's `cumprod`); its gradient is exact where x has zeros.
 * @example cumprod(tensor([1, 2, 3, 0, 5]), 0) // [1, 2, 6, 0, 0]
 */
export function cumprod(x: Tensor, axis: number): Tensor {
  return scan('cumprod', x, axis);
}

/**
 * Reverses the order of elements along `axes` (PyTorch's `flip`).
 * @example
 * flip(tensor([[1, 2], [3, 4]]), 1) // [[2, 1], [4, 3]]
 * flip(tensor([[1, 2], [3, 4]]), [0, 1]) // [[4, 3], [2, 1]]
 */
export function flip(x: Tensor, axes: number | readonly number[]): Tensor {
  backendOf('flip', x);
  const list = normAxes('flip', axes, x.rank);
  return comp((k) => {
    let y = x;
    for (const a of list) y = k(gather(y, k(arange(x.shape[a]! - 1, -1, -1, 'int32')), a));
    return y === x ? clone(x) : y;
  });
}

/** bool [r, c]: true where j − i ≤ k (lower) or j − i ≥ k (upper). */
function triMask(r: number, c: number, k: number, lower: boolean): Tensor {
  return comp((t) => {
    const d = t(sub(t(arange(c)), t(reshape(t(arange(r)), [r, 1]))));
    return lower ? le(d, k) : ge(d, k);
  });
}

function tri(op: 'tril' | 'triu', x: Tensor, k: number): Tensor {
  backendOf(op, x);
  if (x.rank < 2) throw new AxonError(op, `expects a tensor with at least 2 dims (the last two are the matrix), got ${fmtShape(x.shape)}`);
  if (!isInt(k, -Infinity)) throw new AxonError(op, `diagonal offset k must be an integer, got ${fmtValue(k)}`);
  return comp((t) => where(t(triMask(x.shape[x.rank - 2]!, x.shape[x.rank - 1]!, k, op === 'tril')), x, x.dtype === 'bool' ? false : 0));
}

/**
 * Lower triangle of the last two dims (any batch): elements with j − i ≤ k kept, the rest 0.
 * @example
 * tril(ones([3, 3])) // [[1, 0, 0], [1, 1, 0], [1, 1, 1]]
 * tril(ones([2, 3]), 1) // [[1, 1, 0], [1, 1, 1]]
 */
export function tril(x: Tensor, k = 0): Tensor {
  return tri('tril', x, k);
}

/**
 * Upper triangle of the last two dims (any batch): elements with j − i ≥ k kept, the rest 0.
 * @example
 * triu(ones([3, 3])) // [[1, 1, 1], [0, 1, 1], [0, 0, 1]]
 * triu(ones([3, 3]), 1) // [[0, 1, 1], [0, 0, 1], [0, 0, 0]]
 */
export function triu(x: Tensor, k = 0): Tensor {
  return tri('triu', x, k);
}

/**
 * The causal attention mask: bool [tq, tk], true where query i may attend to key j (j ≤ i), as
 * PyTorch's `torch.ones(tq, tk).tril().bool()`.
 * @example
 * causalMask(3) // [[true, false, false], [true, true, false], [true, true, true]]
 * causalMask(2, 3) // [[true, false, false], [true, true, false]]
 */
export function causalMask(tq: number, tk: number = tq): Tensor {
  validateShape('causalMask', [tq, tk]);
  return triMask(tq, tk, 0, true);
}

function tileAs(op: string, x: Tensor, reps: readonly number[]): Tensor {
  backendOf(op, x);
  const r0 = ints(op, 'reps', reps);
  if (op === 'repeat' && r0.length < x.rank) throw new AxonError(op, `reps ${fmtValue(r0)} must have at least one entry per dim of ${fmtShape(x.shape)}`);
  const r = [...new Array<number>(Math.max(0, x.rank - r0.length)).fill(1), ...r0];
  const xs = [...new Array<number>(r.length - x.rank).fill(1), ...x.shape];
  const shape = r.map((k, i) => k * xs[i]!);
  validateShape(op, shape);
  return comp((k) => reshape(k(expand(k(reshape(x, xs.flatMap((d) => [1, d]))), r.flatMap((n, i) => [n, xs[i]!]))), shape));
}

/**
 * Repeats the whole tensor `reps[i]` times along each dim (`torch.tile`; fewer reps than dims
 * are padded with 1s in front, more add leading dims).
 * @example
 * tile(tensor([1, 2]), [2]) // [1, 2, 1, 2]
 * tile(tensor([[1, 2]]), [2, 2]) // [[1, 2, 1, 2], [1, 2, 1, 2]]
 */
export function tile(x: Tensor, reps: readonly number[]): Tensor {
  return tileAs('tile', x, reps);
}

/**
 * PyTorch's `Tensor.repeat`: {@link tile} with at least one entry of `reps` per dim.
 * @example
 * repeat(tensor([1, 2]), [2, 2]) // [[1, 2, 1, 2], [1, 2, 1, 2]]
 * repeat(tensor([[1, 2]]), [2]); // throws: 'repeat'
 */
export function repeat(x: Tensor, reps: readonly number[]): Tensor {
  return tileAs('repeat', x, reps);
}

/**
 * Repeats each element along `axis` (`torch.repeat_interleave`): `repeats` times, or
 * `repeats[i]` times for element i. Without an axis, over the flattened tensor.
 * @example
 * repeatInterleave(tensor([1, 2]), 2) // [1, 1, 2, 2]
 * repeatInterleave(tensor([[1, 2], [3, 4]]), [1, 2], 0) // [[1, 2], [3, 4], [3, 4]]
 */
export function repeatInterleave(x: Tensor, repeats: number | readonly number[], axis?: number): Tensor {
  backendOf('repeatInterleave', x);
  if (axis === undefined) return comp((k) => repeatInterleave(k(reshape(x, [x.size])), repeats, 0));
  const ax = normAxis('repeatInterleave', axis, x.rank);
  const n = x.shape[ax]!;
  if (typeof repeats === 'number') {
    if (!isInt(repeats)) throw new AxonError('repeatInterleave', `repeats must be an integer >= 0, got ${fmtValue(repeats)}`);
    validateShape('repeatInterleave', along(x.shape, ax, n * repeats, -1));
    return comp((k) => reshape(k(expand(k(unsqueeze(x, ax + 1)), [...x.shape.slice(0, ax + 1), repeats, ...x.shape.slice(ax + 1)])), along(x.shape, ax, n * repeats, -1)));
  }
  const r = ints('repeatInterleave', 'repeats', repeats);
  if (r.length !== n) throw new AxonError('repeatInterleave', `repeats has ${r.length} entries, expected one per element of axis ${ax} of ${fmtShape(x.shape)} (${n})`);
  const total = r.reduce((a, b) => a + b, 0);
  validateShape('repeatInterleave', along(x.shape, ax, total, -1));
  const idx = new Int32Array(total);
  let p = 0;
  r.forEach((c, i) => idx.fill(i, p, (p += c)));
  return comp((k) => gather(x, k(tensor(idx, [total], 'int32')), ax));
}

/**
 * Einstein summation over letter subscripts (`torch.einsum`): repeated letters within an operand
 * take its diagonal, letters absent from the output are summed, and operands are contracted left
 * to right as permute/reshape/matmul. Without `->` the output is the letters that appear once, in
 * alphabetical order. float32 operands, one size per letter (no broadcasting of size-1 dims), no
 * `...`.
 * @example
 * einsum('ij,jk->ik', ones([2, 3]), ones([3, 2])) // [[3, 3], [3, 3]]
 * einsum('ii', tensor([[1, 2], [3, 4]])) // 5
 * einsum('i,j->ij', tensor([1, 2]), tensor([3, 4])) // [[3, 4], [6, 8]]
 * einsum('ij,jk->iik', ones([2, 3]), ones([3, 2])); // throws: 'einsum'
 */
export function einsum(spec: string, ...operands: Tensor[]): Tensor {
  const E = (m: string): AxonError => new AxonError('einsum', `'${spec}' with ${operands.map((t) => `${fmtShape(t.shape)} ${t.dtype}`).join(', ') || 'no operands'}: ${m}`);
  if (typeof spec !== 'string') throw new AxonError('einsum', `spec must be a string like 'ij,jk->ik', got ${fmtValue(spec)}`);
  if (operands.length === 0) throw E('expects at least one operand');
  backendOf('einsum', ...operands);
  const parts = spec.replace(/\s/g, '').split('->');
  const ins = parts[0]!.split(',');
  if (parts.length > 2 || [...ins, parts[1] ?? ''].some((s) => !/^[a-zA-Z]*$/.test(s))) throw E(`expected letter subscripts 'ab,bc->ac' (one '->' at most, no '...')`);
  if (ins.length !== operands.length) throw E(`${ins.length} subscript groups for ${operands.length} operands`);
  const size = new Map<string, number>();
  operands.forEach((t, i) => {
    if (t.dtype !== 'float32') throw E(`operand ${i} is ${t.dtype}, expected float32`);
    if (ins[i]!.length !== t.rank) throw E(`operand ${i} has ${t.rank} dims but subscripts '${ins[i]}'`);
    [...ins[i]!].forEach((c, j) => {
      const d = t.shape[j]!;
      if ((size.get(c) ?? d) !== d) throw E(`index '${c}' has size ${size.get(c)} and ${d}`);
      size.set(c, d);
    });
  });
  const all = ins.join('');
  const out = parts[1] ?? [...size.keys()].filter((c) => all.indexOf(c) === all.lastIndexOf(c)).sort().join('');
  for (const c of out) {
    if (!size.has(c)) throw E(`output index '${c}' is in no operand`);
    if (out.indexOf(c) !== out.lastIndexOf(c)) throw E(`output index '${c}' is repeated`);
  }
  const sz = (s: string): number[] => [...s].map((c) => size.get(c)!);
  return comp((k) => {
    const ops = operands.map((t, i) => {
      let s = ins[i]!;
      // a repeated letter: its diagonal (a mask, then a sum over the second occurrence)
      for (let p = 0; p < s.length; p++) {
        const q = s.indexOf(s[p]!, p + 1);
        if (q < 0) continue;
        const ar = (at: number): Tensor => k(reshape(k(arange(size.get(s[p]!)!)), [...s].map((_, j) => (j === at ? size.get(s[p]!)! : 1))));
        t = k(sum(k(where(k(eq(ar(p), ar(q))), t, 0)), q));
        s = s.slice(0, q) + s.slice(q + 1);
        p--;
      }
      // letters no other operand and not the output have: summed out first
      const rest = out + ins.filter((_, j) => j !== i).join('');
      const lone = [...s].flatMap((c, j) => (rest.includes(c) ? [] : [j]));
      if (lone.length) {
        t = k(sum(t, lone));
        s = [...s].filter((c) => rest.includes(c)).join('');
      }
      return { t, s };
    });
    let { t: a, s: sa } = ops[0]!;
    for (let i = 1; i < ops.length; i++) {
      const { t: b, s: sb } = ops[i]!;
      const later = out + ops.slice(i + 1).map((o) => o.s).join('');
      const both = [...sa].filter((c) => sb.includes(c));
      const batch = both.filter((c) => later.includes(c)).join('');
      const con = both.filter((c) => !later.includes(c)).join('');
      const left = [...sa].filter((c) => !sb.includes(c)).join('');
      const right = [...sb].filter((c) => !sa.includes(c)).join('');
      const n = (s: string): number => sizeOf(sz(s));
      const pa = k(reshape(k(permute(a, [...batch + left + con].map((c) => sa.indexOf(c)))), [n(batch), n(left), n(con)]));
      const pb = k(reshape(k(permute(b, [...batch + con + right].map((c) => sb.indexOf(c)))), [n(batch), n(con), n(right)]));
      sa = batch + left + right;
      a = k(reshape(k(matmul(pa, pb)), sz(sa)));
    }
    const extra = [...sa].flatMap((c, j) => (out.includes(c) ? [] : [j]));
    if (extra.length) {
      a = k(sum(a, extra));
      sa = [...sa].filter((c) => out.includes(c)).join('');
    }
    return permute(a, [...out].map((c) => sa.indexOf(c)));
  });
}

/** Options of {@link sort}. */
export interface SortOptions {
  descending?: boolean;
  /** Accepted for PyTorch's signature: the sort is always stable (equal values keep their order). */
  stable?: boolean;
}

/** Options of {@link topk}. */
export interface TopkOptions {
  /** The k largest (default) or the k smallest. */
  largest?: boolean;
  /** Accepted for PyTorch's signature: the result is always sorted. */
  sorted?: boolean;
}

/** A sort's result: the values and their int32 positions along the axis. */
export interface SortResult {
  values: Tensor;
  indices: Tensor;
}

function checkOpts(op: string, o: unknown): void {
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new AxonError(op, `options must be an object, got ${fmtValue(o)}`);
}

/**
 * A stable sort along `axis`: the axis moved last and the rest flattened into rows, then the
 * backend's `sort` primitive (one call: the permutation of every row) where it has one, else a
 * bitonic network over gather/where — padded to a power of two N, log²N compare-exchange stages
 * comparing (value, index) pairs, NaN largest. Values are then gathered from x (recorded: the
 * gradient scatters back).
 */
function sortImpl(op: string, x: Tensor, axis: number, desc: boolean, count: number | undefined, values: boolean): SortResult {
  const backend = backendOf(op, x);
  const rank = Math.max(x.rank, 1);
  const ax = normAxis(op, axis, rank);
  const n = x.rank === 0 ? 1 : x.shape[ax]!;
  const kk = count ?? n;
  if (!isInt(kk) || kk > n) throw new AxonError(op, `k must be an integer in [0, ${n}] (the size of axis ${ax} of ${fmtShape(x.shape)}), got ${fmtValue(count)}`);
  let N = 1;
  while (N < n) N *= 2;
  const perm = [...Array(rank).keys()].filter((i) => i !== ax).concat(ax);
  const inv = perm.map((_, i) => perm.indexOf(i));
  return comp((k) => {
    const p = x.rank === 0 ? k(reshape(x, [1])) : k(permute(x, perm));
    const rows = sizeOf(p.shape.slice(0, -1));
    const flat = k(reshape(p, [rows, n]));
    const idx = noGrad(() => {
      const f = x.dtype === 'float32';
      let v = x.dtype === 'bool' ? k(astype(flat, 'int32')) : flat;
      if (backend.sort !== undefined) {
        // the primitive: the stable permutation of every row in one call
        const perm = k(empty(backend, [rows, n], 'int32'));
        if (rows * n > 0) backend.sort({ buf: v.storage.buf, dtype: v.dtype, shape: [rows, n], strides: v.strides, offset: v.offset }, desc, perm.storage.buf);
        return n === kk ? perm : k(slice(perm, [0, 0], [rows, kk]));
      }
      const big = f ? (desc ? -Infinity : NaN) : desc ? -(2 ** 31) : 2 ** 31 - 1;
      if (N > n) v = k(pad(v, [[0, 0], [0, N - n]], big));
      let ix = k(expand(k(reshape(k(arange(N)), [1, N])), [rows, N]));
      const nan = (t: Tensor): Tensor => k(ne(t, t));
      for (let size = 2; size <= N; size *= 2) {
        for (let j = size / 2; j >= 1; j /= 2) {
          const partner = new Int32Array(N);
          const first = new Uint8Array(N);
          for (let i = 0; i < N; i++) {
            partner[i] = i ^ j;
            first[i] = +(i < (i ^ j) === ((i & size) === 0));
          }
          const pi = k(tensor(partner, [N], 'int32'));
          const pv = k(gather(v, pi, 1));
          const pix = k(gather(ix, pi, 1));
          // does the partner come before this element? (value order, NaN largest; ties by index)
          let before = k((desc ? gt : lt)(pv, v));
          let tie = k(eq(pv, v));
          if (f) {
            const [a, b] = desc ? [pv, v] : [v, pv];
            before = k(logicalOr(before, k(logicalAnd(nan(a), k(logicalNot(nan(b)))))));
            tie = k(logicalOr(tie, k(logicalAnd(nan(pv), nan(v)))));
          }
          before = k(logicalOr(before, k(logicalAnd(tie, k(lt(pix, ix))))));
          const take = k(eq(before, k(tensor(first, [N], 'bool'))));
          v = k(where(take, pv, v));
          ix = k(where(take, pix, ix));
        }
      }
      return N === kk ? ix : k(slice(ix, [0, 0], [rows, kk]));
    });
    const shape = [...p.shape.slice(0, -1), kk];
    const back = (t: Tensor): Tensor => (x.rank === 0 ? reshape(t, []) : permute(k(reshape(t, shape)), inv));
    const indices = back(idx);
    if (!values) return { values: indices, indices };
    // values: x gathered at the sorted positions (row r's entries sit at r·n + index)
    const at = k(add(idx, k(reshape(k(mul(k(arange(rows)), n)), [rows, 1]))));
    return { values: back(k(gather(k(reshape(flat, [rows * n])), k(reshape(at, [rows * kk]))))), indices };
  });
}

/**
 * Sorts along `axis` (last by default), ascending unless `descending`; returns the values and
 * their int32 indices. Stable (equal values keep their order); NaN sorts as the largest value,
 * as in PyTorch. The gradient flows to the values' original positions.
 * @example
 * const { values, indices } = sort(tensor([3, 1, NaN, 2]));
 * values // [1, 2, 3, NaN]
 * indices // [1, 3, 0, 2]
 * sort(tensor([[1, 3, 2]]), -1, { descending: true }).values // [[3, 2, 1]]
 */
export function sort(x: Tensor, axis = -1, opts: SortOptions = {}): SortResult {
  checkOpts('sort', opts);
  return sortImpl('sort', x, axis, !!opts.descending, undefined, true);
}

/**
 * The int32 indices that sort `x` along `axis` (stable; NaN largest).
 * @example
 * argsort(tensor([3, 1, 2])) // [1, 2, 0]
 * argsort(tensor([3, 1, 3]), -1, { descending: true }) // [0, 2, 1]
 */
export function argsort(x: Tensor, axis = -1, opts: SortOptions = {}): Tensor {
  checkOpts('argsort', opts);
  return sortImpl('argsort', x, axis, !!opts.descending, undefined, false).indices;
}

/**
 * The `k` largest (or smallest) values along `axis` and their int32 indices, sorted; ties
 * resolve to the lower index, NaN counts as the largest value.
 * @example
 * const { values, indices } = topk(tensor([1, 5, 3, 5]), 2);
 * values // [5, 5]
 * indices // [1, 3]
 * topk(tensor([1, 5, 3]), 1, -1, { largest: false }).values // [1]
 */
export function topk(x: Tensor, k: number, axis = -1, opts: TopkOptions = {}): SortResult {
  checkOpts('topk', opts);
  return sortImpl('topk', x, axis, opts.largest ?? true, k, true);
}

/** Options of {@link multinomial}. */
export interface MultinomialOptions {
  /** Draw with replacement (default false: distinct categories per row). */
  replacement?: boolean;
  /** A fixed seed instead of the global stream. */
  seed?: number;
}

function sample(op: string, w: Tensor, num: number, logits: boolean, replace: boolean, seed: number | undefined): Tensor {
  backendOf(op, w);
  if (w.dtype !== 'float32' || w.rank < 1 || w.rank > 2) throw new AxonError(op, `expects a float32 tensor of 1 or 2 dims [batch?, categories], got ${w.dtype} ${fmtShape(w.shape)}`);
  const n = w.shape[w.rank - 1]!;
  if (!isInt(num, 1) || (!replace && num > n)) throw new AxonError(op, `numSamples must be an integer in [1, ${replace ? '∞' : n}] for ${fmtShape(w.shape)}${replace ? '' : ' without replacement'}, got ${fmtValue(num)}`);
  if (!logits && w.backend.supportsSyncRead && w.size > 0) {
    // PyTorch's checks: probabilities finite and >= 0, each row with enough non-zero ones
    const c = w.isContiguous ? w : clone(w);
    try {
      validationRead(c, (v) => {
        for (let r = 0; r < v.length / n; r++) {
          let nz = 0;
          for (let i = r * n; i < r * n + n; i++) {
            if (!(v[i]! >= 0 && v[i]! < Infinity)) throw new AxonError(op, `probabilities must be finite and >= 0, got ${v[i]} at ${i} of ${fmtShape(w.shape)}`);
            nz += +(v[i]! > 0);
          }
          if (nz < (replace ? 1 : num)) throw new AxonError(op, `row ${r} of ${fmtShape(w.shape)} has ${nz} non-zero probabilities, needs ${replace ? 'one' : `${num} (numSamples without replacement)`}`);
        }
      });
    } finally {
      if (c !== w) c.dispose();
    }
  }
  // the Gumbel trick: argmax (or the top numSamples) of log-weights + Gumbel noise
  return noGrad(() => comp((k) => {
    const lw = logits ? w : k(log(w));
    const shape = [...w.shape.slice(0, -1), replace ? num : 1, n];
    const g = k(neg(k(log(k(neg(k(log(k(rand(shape, seed === undefined ? {} : { seed }))))))))));
    const key = k(add(k(unsqueeze(lw, -2)), g));
    return replace ? argmax(key, -1) : sortImpl(op, k(reshape(key, w.shape)), -1, true, num, false).indices;
  }));
}

/**
 * Draws `numSamples` category indices (int32) per row of `probs` ([categories] or [batch,
 * categories], non-negative, not necessarily normalised), as `torch.multinomial`. Seeded: it draws
 * from the global stream like `rand`, so `setSeed` reproduces it on every backend. Where the
 * backend reads synchronously (WASM) the probabilities are checked as PyTorch does (finite, ≥ 0,
 * enough non-zero ones per row); on WebGPU they are not read back, and a zero-probability category
 * is drawn only when a row has too few non-zero ones.
 * @example
 * setSeed(1);
 * multinomial(tensor([0, 0.3, 0.7]), 2) // [1, 2]
 * multinomial(tensor([0, 1, 0]), 3, { replacement: true }) // [1, 1, 1]
 */
export function multinomial(probs: Tensor, numSamples: number, opts: MultinomialOptions = {}): Tensor {
  checkOpts('multinomial', opts);
  return sample('multinomial', probs, numSamples, false, opts.replacement ?? false, opts.seed);
}

/**
 * Draws `numSamples` category indices (int32, with replacement) per row of unnormalised
 * log-probabilities `logits` ([categories] or [batch, categories]), seeded like `rand`.
 * @example
 * categorical(tensor([[0, -Infinity], [-Infinity, 0]]), 2) // [[0, 0], [1, 1]]
 */
export function categorical(logits: Tensor, numSamples: number, opts: { seed?: number } = {}): Tensor {
  checkOpts('categorical', opts);
  return sample('categorical', logits, numSamples, true, true, opts.seed);
}
