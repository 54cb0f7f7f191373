import { failSafe, record, recordGroup } from '../engine.js';
import { AxonError, fmtShape, fmtValue } from '../errors.js';
import { findBackend } from '../registry.js';
import { contiguousStrides, normAxis, type Shape, shapesEqual, sizeOf, validateShape } from '../shape.js';
import { Tensor } from '../tensor.js';
import { arange } from './creation.js';
import { astype, clone, eq } from './elementwise.js';
import { backendOf, drop, empty } from './util.js';
import { validationRead } from '../checks.js';

/**
 * Same elements, new shape (one size may be -1). A zero-copy view when `x` is contiguous.
 * @example
 * reshape(arange(6), [2, 3]) // [[0, 1, 2], [3, 4, 5]]
 * reshape(arange(6), [-1, 2]).shape // [3, 2]
 * reshape(arange(6), [4]); // throws: 'reshape'
 */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  backendOf('reshape', x);
  if (!Array.isArray(shape)) throw new AxonError('reshape', `shape must be an array, got ${fmtValue(shape)}`);
  const s = [...shape];
  if (s.some((d) => typeof d !== 'number' || !Number.isInteger(d) || d < -1)) {
    throw new AxonError('reshape', `cannot reshape ${fmtShape(x.shape)} to ${fmtShape(shape)}: sizes must be non-negative integers, with at most one -1`);
  }
  const neg = s.filter((d) => d === -1).length;
  if (neg > 1) throw new AxonError('reshape', `only one size may be -1, got ${fmtShape(s)}`);
  if (neg === 1) {
    const known = sizeOf(s.filter((d) => d !== -1));
    const idx = s.indexOf(-1);
    if (known === 0 || x.size % known !== 0) {
      throw new AxonError('reshape', `cannot reshape ${fmtShape(x.shape)} (${x.size} elements) to ${fmtShape(shape)}`);
    }
    s[idx] = x.size / known;
  }
  validateShape('reshape', s);
  if (sizeOf(s) !== x.size) {
    throw new AxonError('reshape', `cannot reshape ${fmtShape(x.shape)} (${x.size} elements) to ${fmtShape(shape)} (${sizeOf(s)} elements)`);
  }
  let out: Tensor;
  if (x.isContiguous) {
    out = new Tensor(x.storage, s, x.dtype, contiguousStrides(s), x.offset);
  } else {
    const c = clone(x);
    out = new Tensor(c.storage, s, x.dtype, contiguousStrides(s), 0);
    c.dispose();
  }
  return record('reshape', [x], out, { from: x.shape });
}

/**
 * Flattens axes startAxis..endAxis into one.
 * @example
 * flatten(zeros([2, 3, 4]), 1).shape // [2, 12]
 * flatten(zeros([2, 3, 4])).shape // [24]
 */
export function flatten(x: Tensor, startAxis = 0, endAxis = -1): Tensor {
  backendOf('flatten', x);
  if (x.rank === 0) return reshape(x, [1]);
  const s = normAxis('flatten', startAxis, x.rank);
  const e = normAxis('flatten', endAxis, x.rank);
  if (e < s) throw new AxonError('flatten', `endAxis ${endAxis} is before startAxis ${startAxis} for ${fmtShape(x.shape)}`);
  const shape = [...x.shape.slice(0, s), sizeOf(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)];
  return reshape(x, shape);
}

/**
 * Removes size-1 axes (all of them, or those given).
 * @example
 * squeeze(zeros([1, 3, 1])).shape // [3]
 * squeeze(zeros([1, 3, 1]), 0).shape // [3, 1]
 */
export function squeeze(x: Tensor, axis?: number | readonly number[]): Tensor {
  backendOf('squeeze', x);
  let axes: number[];
  if (axis === undefined) axes = x.shape.flatMap((d, i) => (d === 1 ? [i] : []));
  else if (typeof axis !== 'number' && !Array.isArray(axis)) throw new AxonError('squeeze', `axis must be an integer or an array of integers, got ${fmtValue(axis)}`);
  else axes = (typeof axis === 'number' ? [axis] : [...axis]).map((a) => normAxis('squeeze', a, x.rank));
  for (const a of axes) {
    if (x.shape[a] !== 1) throw new AxonError('squeeze', `axis ${a} of ${fmtShape(x.shape)} has size ${x.shape[a]}, expected 1`);
  }
  return reshape(x, x.shape.filter((_, i) => !axes.includes(i)));
}

/**
 * Inserts a size-1 axis at `axis` (negative counts from the end of the result).
 * @example
 * unsqueeze(tensor([1, 2, 3]), 0) // [[1, 2, 3]]
 * unsqueeze(tensor([1, 2, 3]), -1).shape // [3, 1]
 */
export function unsqueeze(x: Tensor, axis: number): Tensor {
  backendOf('unsqueeze', x);
  const a = normAxis('unsqueeze', axis, x.rank + 1);
  const shape = [...x.shape];
  shape.splice(a, 0, 1);
  return reshape(x, shape);
}

/**
 * Reorders axes, as a zero-copy view.
 * @example
 * permute(zeros([2, 3, 4]), [2, 0, 1]).shape // [4, 2, 3]
 * permute(tensor([[1, 2, 3]]), [1, 0]) // [[1], [2], [3]]
 */
export function permute(x: Tensor, axes: readonly number[]): Tensor {
  backendOf('permute', x);
  if (!Array.isArray(axes) || axes.length !== x.rank) {
    throw new AxonError('permute', `axes ${fmtValue(axes)} must be a permutation of [0..${x.rank - 1}] for ${fmtShape(x.shape)}`);
  }
  const norm = axes.map((a) => normAxis('permute', a, x.rank));
  if (new Set(norm).size !== norm.length) throw new AxonError('permute', `axes ${fmtValue(axes)} are not a permutation`);
  const out = new Tensor(
    x.storage,
    norm.map((a) => x.shape[a]!),
    x.dtype,
    norm.map((a) => x.strides[a]!),
    x.offset,
  );
  return record('permute', [x], out, { axes: norm });
}

/**
 * Transpose: reverses the last two axes by default (a view), or permutes by `axes`.
 * A 1-D tensor is returned as a view unchanged.
 * @example
 * transpose(tensor([[1, 2, 3], [4, 5, 6]])) // [[1, 4], [2, 5], [3, 6]]
 * transpose(zeros([2, 3, 4])).shape // [2, 4, 3]
 */
export function transpose(x: Tensor, axes?: readonly number[]): Tensor {
  backendOf('transpose', x);
  if (axes !== undefined) return permute(x, axes);
  if (x.rank < 2) return permute(x, x.shape.map((_, i) => i));
  const p = x.shape.map((_, i) => i);
  p[x.rank - 2] = x.rank - 1;
  p[x.rank - 1] = x.rank - 2;
  return permute(x, p);
}

/**
 * A zero-copy window: `begin[i]` (negative counts from the end), `size[i]` elements (-1 = as many
 * as fit to the end) taken every `steps[i]` (≥ 1, default 1: PyTorch's `x[a:b:s]`; a strided view,
 * no copy).
 * @example
 * slice(arange(10), [2], [3]) // [2, 3, 4]
 * slice(arange(10), [-2]) // [8, 9]
 * slice(tensor([[1, 2, 3], [4, 5, 6]]), [0, 1], [-1, 1]) // [[2], [5]]
 * slice(arange(10), [1], [-1], [3]) // [1, 4, 7]
 */
export function slice(x: Tensor, begin: readonly number[], size?: readonly number[], steps?: readonly number[]): Tensor {
  backendOf('slice', x);
  const ints = (v: unknown): boolean => Array.isArray(v) && v.every((d) => typeof d === 'number' && Number.isInteger(d));
  if (!ints(begin) || (size !== undefined && !ints(size)) || (steps !== undefined && (!ints(steps) || steps.some((d) => d < 1)))) {
    throw new AxonError('slice', `begin and size must be arrays of integers and steps of integers >= 1, got begin ${fmtValue(begin)}, size ${fmtValue(size)} and steps ${fmtValue(steps)} for ${fmtShape(x.shape)}`);
  }
  if (begin.length > x.rank || (size && size.length !== begin.length) || (steps && steps.length !== begin.length)) {
    throw new AxonError('slice', `begin ${fmtValue(begin)} / size ${fmtValue(size ?? [])} / steps ${fmtValue(steps ?? [])} do not fit ${fmtShape(x.shape)}`);
  }
  const b: number[] = [];
  const sz: number[] = [];
  const st: number[] = [];
  for (let i = 0; i < x.rank; i++) {
    const d = x.shape[i]!;
    const step = steps?.[i] ?? 1;
    let bi = begin[i] ?? 0;
    if (bi < 0) bi += d;
    let si = size?.[i] ?? -1;
    if (si === -1) si = Math.max(0, Math.ceil((d - bi) / step));
    if (!Number.isInteger(bi) || !Number.isInteger(si) || bi < 0 || si < 0 || bi > d || (si > 0 && bi + (si - 1) * step >= d)) {
      throw new AxonError('slice', `begin ${begin[i]} with size ${size?.[i] ?? -1}${step > 1 ? ` and step ${step}` : ''} is out of range for axis ${i} of ${fmtShape(x.shape)}`);
    }
    b.push(bi);
    sz.push(si);
    st.push(step);
  }
  let offset = x.offset;
  for (let i = 0; i < x.rank; i++) if (sz[i]! > 0) offset += b[i]! * x.strides[i]!;
  const out = new Tensor(x.storage, sz, x.dtype, x.strides.map((s, i) => s * st[i]!), offset);
  return record('slice', [x], out, st.some((s) => s > 1) ? { begin: b, size: sz, from: x.shape, steps: st } : { begin: b, size: sz, from: x.shape });
}

/**
 * Broadcasts to `shape` as a zero-copy view (stride 0 on expanded axes).
 * @example expand(tensor([[1], [2]]), [2, 3]) // [[1, 1, 1], [2, 2, 2]]
 */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  backendOf('expand', x);
  validateShape('expand', shape);
  if (shape.length < x.rank) throw new AxonError('expand', `cannot expand ${fmtShape(x.shape)} to fewer dims ${fmtShape(shape)}`);
  const off = shape.length - x.rank;
  const strides: number[] = [];
  for (let i = 0; i < shape.length; i++) {
    const j = i - off;
    if (j < 0) strides.push(0);
    else if (x.shape[j] === shape[i]) strides.push(x.strides[j]!);
    else if (x.shape[j] === 1) strides.push(0);
    else throw new AxonError('expand', `cannot expand ${fmtShape(x.shape)} to ${fmtShape(shape)} (axis ${i})`);
  }
  const out = new Tensor(x.storage, shape, x.dtype, strides, x.offset);
  return record('expand', [x], out, { from: x.shape });
}

/** Alias of {@link expand}. @example broadcastTo(scalar(1), [2, 2]) // [[1, 1], [1, 1]] */
export const broadcastTo = expand;

/**
 * Joins tensors along an existing axis.
 * @example
 * concat([zeros([2, 1]), ones([2, 2])], 1) // [[0, 1, 1], [0, 1, 1]]
 * concat([tensor([1]), tensor([2, 3])]) // [1, 2, 3]
 */
export function concat(ts: readonly Tensor[], axis = 0): Tensor {
  if (!Array.isArray(ts) || ts.length === 0) throw new AxonError('concat', 'expects a non-empty array of tensors');
  const backend = backendOf('concat', ...ts);
  const first = ts[0]!;
  const ax = normAxis('concat', axis, first.rank);
  for (const t of ts) {
    if (t.rank !== first.rank || t.dtype !== first.dtype || t.shape.some((d: number, i: number) => i !== ax && d !== first.shape[i])) {
      throw new AxonError('concat', `shapes ${ts.map((u) => `${fmtShape(u.shape)} ${u.dtype}`).join(', ')} differ outside axis ${ax}`);
    }
  }
  const sizes = ts.map((t) => t.shape[ax]!);
  const shape = [...first.shape];
  shape[ax] = sizes.reduce((a, b) => a + b, 0);
  const out = empty(backend, shape, first.dtype);
  const strides = contiguousStrides(shape);
  let pos = 0;
  for (const t of ts) {
    if (t.size > 0) backend.copy(t.view(), { buf: out.storage.buf, dtype: out.dtype, shape: t.shape, strides, offset: pos * strides[ax]! });
    pos += t.shape[ax]!;
  }
  return record('concat', ts, out, { axis: ax, sizes });
}

/**
 * Stacks same-shaped tensors along a new axis.
 * @example
 * stack([zeros([3]), ones([3])]) // [[0, 0, 0], [1, 1, 1]]
 * stack([zeros([3]), ones([3])], 1).shape // [3, 2]
 */
export function stack(ts: readonly Tensor[], axis = 0): Tensor {
  if (!Array.isArray(ts) || ts.length === 0) throw new AxonError('stack', 'expects a non-empty array of tensors');
  backendOf('stack', ...ts);
  return failSafe(() => {
    const ex = ts.map((t) => unsqueeze(t, normAxis('stack', axis, t.rank + 1)));
    try {
      return concat(ex, axis);
    } finally {
      drop(...ex);
    }
  });
}

/**
 * Splits into pieces along `axis` (zero-copy views): a count of equal parts or a list of sizes.
 * Recorded as one op: its gradient is one concatenation of the parts' gradients (zeros for
 * parts that got none), not one padded copy of the whole input per part.
 * @example
 * split(arange(6), 3) // [[0, 1], [2, 3], [4, 5]]
 * split(arange(6), [1, 5]) // [[0], [1, 2, 3, 4, 5]]
 */
export function split(x: Tensor, sizes: number | readonly number[], axis = 0): Tensor[] {
  backendOf('split', x);
  const ax = normAxis('split', axis, x.rank);
  const d = x.shape[ax]!;
  let list: number[];
  if (typeof sizes === 'number') {
    if (!Number.isInteger(sizes) || sizes <= 0 || d % sizes !== 0) throw new AxonError('split', `cannot split axis ${ax} of size ${d} into ${fmtValue(sizes)} equal parts`);
    list = new Array(sizes).fill(d / sizes);
  } else {
    if (!Array.isArray(sizes)) throw new AxonError('split', `sizes must be a number of equal parts or an array of part sizes, got ${fmtValue(sizes)}`);
    list = [...sizes];
    const bad = list.findIndex((n) => !Number.isInteger(n) || n < 0);
    if (bad >= 0) throw new AxonError('split', `sizes ${fmtValue(list)}: part ${bad} is ${fmtValue(list[bad])}, but every part size must be a non-negative integer (axis ${ax} of ${fmtShape(x.shape)})`);
  }
  if (list.reduce((a, b) => a + b, 0) !== d) throw new AxonError('split', `sizes [${list.join(',')}] do not add up to ${d} (axis ${ax} of ${fmtShape(x.shape)})`);
  let pos = 0;
  const parts = list.map((n) => {
    const out = new Tensor(x.storage, x.shape.map((s, i) => (i === ax ? n : s)), x.dtype, x.strides, n > 0 ? x.offset + pos * x.strides[ax]! : x.offset);
    pos += n;
    return out;
  });
  return recordGroup('split', [x], parts, { axis: ax, sizes: list });
}

/**
 * Splits into `chunks` parts along `axis` as zero-copy views, PyTorch's `torch.chunk`: each part
 * has ⌈n / chunks⌉ elements along the axis and the last one what is left, so there may be fewer
 * than `chunks` parts (an empty axis gives `chunks` empty parts). Recorded as one `split`: the
 * gradient is one concatenation.
 * @example
 * chunk(arange(5), 3) // [[0, 1], [2, 3], [4]]
 * chunk(arange(6), 4).length // 3
 * chunk(tensor([[1, 2, 3, 4]]), 2, -1) // [[[1, 2]], [[3, 4]]]
 * chunk(arange(4), 0); // throws: 'chunk'
 */
export function chunk(x: Tensor, chunks: number, axis = 0): Tensor[] {
  backendOf('chunk', x);
  if (typeof chunks !== 'number' || !Number.isInteger(chunks) || chunks < 1) throw new AxonError('chunk', `chunks must be a positive integer, got ${fmtValue(chunks)} (for ${fmtShape(x.shape)})`);
  const ax = normAxis('chunk', axis, x.rank);
  if (x.rank === 0) throw new AxonError('chunk', `cannot chunk a 0-d tensor ${fmtShape(x.shape)}: it has no axis (expected a tensor of rank >= 1)`);
  const d = x.shape[ax]!;
  if (d === 0) return split(x, new Array<number>(chunks).fill(0), ax);
  const c = Math.ceil(d / chunks);
  const n = Math.ceil(d / c);
  return split(x, Array.from({ length: n }, (_, i) => (i < n - 1 ? c : d - c * (n - 1))), ax);
}

/**
 * Removes axis `axis`, returning the `x.shape[axis]` slices along it as zero-copy views
 * (PyTorch's `torch.unbind`): `unbind(x, a)[i]` is `x` indexed at `i` on axis `a`. Recorded as
 * one op whose gradient is one stack of the slices' gradients (zeros for slices that got none),
 * so taking one slice per step of a sequence costs O(T) in the backward pass, not O(T²).
 * @example
 * unbind(tensor([[1, 2], [3, 4], [5, 6]])) // [[1, 2], [3, 4], [5, 6]]
 * unbind(tensor([[1, 2], [3, 4], [5, 6]]), 1) // [[1, 3, 5], [2, 4, 6]]
 * unbind(tensor([[1, 2], [3, 4]]), -1)[0] // [1, 3]
 * unbind(zeros([0, 3])).length // 0
 * unbind(scalar(1)); // throws: 'unbind'
 */
export function unbind(x: Tensor, axis = 0): Tensor[] {
  backendOf('unbind', x);
  if (x.rank === 0) throw new AxonError('unbind', `cannot unbind a 0-d tensor ${fmtShape(x.shape)} ${x.dtype}: it has no axis (expected a tensor of rank >= 1)`);
  const ax = normAxis('unbind', axis, x.rank);
  const shape = x.shape.filter((_, i) => i !== ax);
  const strides = x.strides.filter((_, i) => i !== ax);
  const step = x.strides[ax]!;
  const outs: Tensor[] = [];
  for (let i = 0; i < x.shape[ax]!; i++) outs.push(new Tensor(x.storage, shape, x.dtype, strides, x.offset + i * step));
  return recordGroup('unbind', [x], outs, { axis: ax });
}

/**
 * Pads with a constant: `paddings[i] = [before, after]` for each axis.
 * @example
 * pad(ones([2]), [[1, 1]]) // [0, 1, 1, 0]
 * pad(ones([1, 1]), [[0, 1], [1, 0]], 9) // [[9, 1], [9, 9]]
 */
export function pad(x: Tensor, paddings: readonly (readonly [number, number])[], value = 0): Tensor {
  const backend = backendOf('pad', x);
  if (!Array.isArray(paddings)) throw new AxonError('pad', `paddings must be an array of [before, after] pairs, got ${fmtValue(paddings)}`);
  if (typeof value !== 'number') throw new AxonError('pad', `value must be a number, got ${fmtValue(value)}`);
  if (paddings.length !== x.rank) throw new AxonError('pad', `expected ${x.rank} [before, after] pairs for ${fmtShape(x.shape)}, got ${paddings.length}`);
  for (const p of paddings) {
    if (!Array.isArray(p) || p.length !== 2 || !p.every((v) => Number.isInteger(v) && v >= 0)) {
      throw new AxonError('pad', `paddings must be pairs of non-negative integers, got ${fmtValue(paddings)}`);
    }
  }
  const shape = x.shape.map((d, i) => d + paddings[i]![0] + paddings[i]![1]);
  const out = empty(backend, shape, x.dtype);
  if (out.size > 0) backend.fill(out.storage.buf, value);
  const strides = contiguousStrides(shape);
  let offset = 0;
  for (let i = 0; i < x.rank; i++) offset += paddings[i]![0] * strides[i]!;
  if (x.size > 0) backend.copy(x.view(), { buf: out.storage.buf, dtype: x.dtype, shape: x.shape, strides, offset });
  return record('pad', [x], out, { paddings: paddings.map((p) => [p[0], p[1]]), value });
}

function indicesView(op: string, indices: Tensor, n: number): Tensor {
  if (indices.dtype !== 'int32') {
    throw new AxonError(op, `indices must be int32, got ${indices.dtype} ${fmtShape(indices.shape)} (convert with .astype('int32'))`);
  }
  const flat = reshape(indices, [indices.size]);
  // Range check on the host: read synchronously where the backend can, else use the host copy
  // kept for small index tensors made from host data. Indices computed on an asynchronous device
  // cannot be checked here; such backends treat an out-of-range index as reading 0.
  const host = indices.backend.supportsSyncRead ? null : indices.hostInts && indices.isContiguous && indices.offset === 0 ? indices.hostInts : null;
  const check = (v: ArrayLike<number>): void => {
    for (let i = 0; i < v.length; i++) {
      if (v[i]! < 0 || v[i]! >= n) throw new AxonError(op, `index ${v[i]} at position ${i} is out of range [0, ${n})`);
    }
  };
  if ((indices.backend.supportsSyncRead || host) && flat.size > 0) {
    try {
      if (host) check(host);
      else validationRead(flat, check); // inside compile(), replays check again
    } catch (e) {
      flat.dispose();
      throw e;
    }
  }
  return flat;
}

function as3d(x: Tensor, axis: number): { v: Tensor; outer: number; n: number; inner: number } {
  const outer = sizeOf(x.shape.slice(0, axis));
  const n = x.shape[axis]!;
  const inner = sizeOf(x.shape.slice(axis + 1));
  const v = reshape(x, [outer, n, inner]);
  return { v, outer, n, inner };
}

/**
 * Selects entries along `axis` by int32 `indices` (any shape): the result's shape is
 * `x.shape[:axis] + indices.shape + x.shape[axis+1:]` (like `torch.index_select`/`tf.gather`).
 * @example gather(tensor([[1, 2], [3, 4], [5, 6]]), tensor([2, 0], [2], 'int32')) // [[5, 6], [1, 2]]
 */
export function gather(x: Tensor, indices: Tensor, axis = 0): Tensor {
  const backend = backendOf('gather', x, indices);
  if (x.rank === 0) throw new AxonError('gather', `cannot gather from a scalar (rank-0) tensor; x must have at least one axis`);
  const ax = normAxis('gather', axis, x.rank);
  const idx = indicesView('gather', indices, x.shape[ax]!);
  const { v, outer, inner } = as3d(x, ax);
  const outShape = [...x.shape.slice(0, ax), ...indices.shape, ...x.shape.slice(ax + 1)];
  const out = empty(backend, outShape, x.dtype);
  if (out.size > 0) backend.gather(v.view(), idx.view(), out.storage.buf);
  void outer;
  void inner;
  v.dispose();
  idx.dispose();
  return record('gather', [x], out, { axis: ax, indices });
}

/**
 * Adjoint of {@link gather}: a zero tensor of `shape` with `updates` added at `indices` along
 * `axis` (duplicates accumulate).
 * @example scatterAdd([3], tensor([0, 0], [2], 'int32'), tensor([1, 2])) // [3, 0, 0]
 */
export function scatterAdd(shape: readonly number[], indices: Tensor, updates: Tensor, axis = 0): Tensor {
  const backend = backendOf('scatterAdd', indices, updates);
  if (indices.dtype !== 'int32') throw new AxonError('scatterAdd', `indices must be int32, got ${indices.dtype} ${fmtShape(indices.shape)} (convert with .astype('int32'))`);
  validateShape('scatterAdd', shape);
  const ax = normAxis('scatterAdd', axis, shape.length);
  const n = shape[ax]!;
  const expected = [...shape.slice(0, ax), ...indices.shape, ...shape.slice(ax + 1)];
  if (!shapesEqual(expected, updates.shape)) {
    throw new AxonError('scatterAdd', `updates ${fmtShape(updates.shape)} must have shape ${fmtShape(expected)} for target ${fmtShape(shape)} and indices ${fmtShape(indices.shape)}`);
  }
  if (updates.dtype === 'bool') throw new AxonError('scatterAdd', 'updates must be float32 or int32');
  const idx = indicesView('scatterAdd', indices, n);
  const outer = sizeOf(shape.slice(0, ax));
  const inner = sizeOf(shape.slice(ax + 1));
  const u = reshape(updates, [outer, indices.size, inner]);
  const out = empty(backend, shape, updates.dtype);
  if (out.size > 0) backend.scatterAdd(u.view(), idx.view(), n, out.storage.buf);
  u.dispose();
  idx.dispose();
  return record('scatterAdd', [updates], out, { axis: ax, indices });
}

/**
 * One-hot encoding of int32 class indices: shape `[...indices.shape, depth]`, float32.
 * @example oneHot(tensor([0, 2], [2], 'int32'), 3) // [[1, 0, 0], [0, 0, 1]]
 */
export function oneHot(indices: Tensor, depth: number): Tensor {
  backendOf('oneHot', indices);
  if (indices.dtype !== 'int32') throw new AxonError('oneHot', `indices must be int32, got ${indices.dtype}`);
  if (typeof depth !== 'number' || !Number.isInteger(depth) || depth <= 0 || depth > 2 ** 24) throw new AxonError('oneHot', `depth must be a positive integer (at most 2^24), got ${fmtValue(depth)}`);
  const r = arange(depth);
  const u = unsqueeze(indices, -1);
  const m = eq(u, r);
  const out = astype(m, 'float32');
  r.dispose();
  u.dispose();
  m.dispose();
  return out;
}

/**
 * Copies a tensor to another backend (the only way to mix backends).
 * @example
 * ```ts
 * const t = tensor([1, 2]);
 * // with '@axon/backend-webgpu' imported, toBackend('webgpu') moves it to the GPU
 * const u = await t.toBackend('wasm'); // the same backend: a copy
 * u // [1, 2]
 * u === t // false
 * await t.toBackend('tpu'); // throws: "unknown backend 'tpu'"
 * ```
 */
export async function toBackend(x: Tensor, name: string): Promise<Tensor> {
  x.assertLive('toBackend');
  const target = await findBackend(name);
  if (target === x.backend) return x.clone();
  const data = await x.data();
  const out = empty(target, x.shape, x.dtype);
  if (out.size > 0) target.write(out.storage.buf, data);
  return out;
}

export type { Shape };
