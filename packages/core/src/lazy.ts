/**
 * The lazy engine: elementwise ops on float32/bool tensors record an expression instead of
 * running; a value runs when something needs its buffer (a read, a non-elementwise op such as
 * matmul or a reduction, a view that is not the whole tensor, the release of a buffer it reads),
 * and a chain of elementwise ops runs as one {@link Backend.fused} kernel. Scalar operands
 * become constants of the kernel (no tensor, no `fill`).
 *
 * What stays eager: validation (errors are raised by the op that caused them), autograd
 * recording, memory accounting (a pending tensor counts as allocated), and every op that is not
 * elementwise on float32/bool.
 *
 * `setFlags({ fusion: false })` turns it off: every op then runs at once as its own kernel.
 */
import {
  type Backend, type BackendBuffer, type BinaryOp, FUSED_MAX_BUFFERS, type FusedReduceOp, FUSED_MAX_INSTRUCTIONS, type FusedDType, type FusedInstr, type FusedProgram, type UnaryOp, type View,
} from './backend.js';
import type { DType } from './dtype.js';
import { allocBuffer, noteBackend, pendingStorage, setLazyHooks, type Storage } from './engine.js';
import { AxonError, fmtValue } from './errors.js';
import { broadcastStrides, contiguousStrides, type Shape, shapesEqual, sizeOf } from './shape.js';
import { Tensor } from './tensor.js';

// ------------------------------------------------------------------ flags
/** Engine switches (see {@link setFlags}). */
export interface EngineFlags {
  /**
   * Fuse chains of elementwise ops into one kernel, run when a value is needed (default true).
   * Off: every op runs at once as its own kernel (the behaviour before the lazy engine).
   */
  readonly fusion: boolean;
  /**
   * Let `compile` trace and replay (default true). Off: a compiled function runs its JavaScript
   * on every call (what `fit`'s training step and the optimizers' compiled updates then do).
   */
  readonly compile: boolean;
}

const flags: { fusion: boolean; compile: boolean } = { fusion: true, compile: true };

/**
 * Sets engine switches; returns the previous ones (to restore them).
 * @example
 * ```ts
 * const before = setFlags({ fusion: false }); // every op runs at once, one kernel each
 * tensor([1, 2]).mul(2).add(1) // [3, 5]
 * setFlags(before);
 * getFlags().fusion // true
 * ```
 */
export function setFlags(next: Partial<EngineFlags>): EngineFlags {
  if (next === null || typeof next !== 'object') throw new AxonError('setFlags', `expects an object such as { fusion: false }, got ${fmtValue(next)}`);
  for (const k of Object.keys(next)) if (k !== 'fusion' && k !== 'compile') throw new AxonError('setFlags', `unknown flag ${fmtValue(k)}; expected fusion or compile`);
  for (const k of ['fusion', 'compile'] as const) {
    if (next[k] !== undefined && typeof next[k] !== 'boolean') throw new AxonError('setFlags', `${k} must be true or false, got ${fmtValue(next[k])}`);
  }
  const prev = { ...flags };
  if (next.fusion !== undefined) flags.fusion = next.fusion;
  if (next.compile !== undefined) flags.compile = next.compile;
  return prev;
}

/**
 * The engine switches now in force.
 * @example getFlags() // { fusion: true, compile: true }
 */
export function getFlags(): EngineFlags {
  return { ...flags };
}

/** @internal Whether compile() traces and replays. */
export function compileOn(): boolean {
  return flags.compile;
}

/** @internal Whether ops should record expressions. */
export function fusionOn(): boolean {
  return flags.fusion;
}

// ------------------------------------------------------------------ expressions
/** A leaf: an element of a realized storage, addressed in the pending value's own index space. */
interface Leaf {
  readonly k: 'leaf';
  readonly s: Storage;
  readonly dtype: FusedDType;
  readonly strides: readonly number[];
  readonly offset: number;
  /** Identity of the (storage, layout) pair, for sharing one kernel input. */
  readonly key: string;
}
interface Const {
  readonly k: 'const';
  readonly v: number;
}
interface OpNode {
  readonly k: 'op';
  readonly op: UnaryOp | BinaryOp | 'where';
  readonly args: readonly Expr[];
}
/** @internal */
export type Expr = Leaf | Const | OpNode;

/**
 * A pending matrix product (see {@link lazyMatmul}): it runs on its own when its buffer is needed,
 * or as the matmul of the kernel that reads it, with that kernel's elementwise ops as its epilogue
 * ({@link Backend.matmulFused}): the bias and activation after a layer's matmul.
 */
interface MmPending {
  readonly k: 'mm';
  readonly a: View;
  readonly b: View;
  /** Storages whose buffers `a` and `b` read (each counted in its `readers` while pending). */
  readonly deps: readonly Storage[];
}
const isMm = (p: unknown): p is MmPending => p !== null && (p as { k?: unknown }).k === 'mm';

/** What a pending storage holds. */
interface Pending {
  readonly expr: Expr;
  readonly shape: Shape;
  /** Distinct leaves (at most FUSED_MAX_BUFFERS − 1). */
  readonly leaves: readonly Leaf[];
  /** Instructions the expression needs at most (shared nodes counted once). */
  readonly size: number;
}

const storageIds = new WeakMap<Storage, number>();
let nextStorageId = 1;
function sid(s: Storage): number {
  let id = storageIds.get(s);
  if (id === undefined) storageIds.set(s, (id = nextStorageId++));
  return id;
}

const NO_LEAVES: readonly Leaf[] = Object.freeze([]);

function leafOf(t: Tensor, strides: readonly number[], dtype: FusedDType): Leaf {
  const s = t.storage;
  return { k: 'leaf', s, dtype, strides, offset: t.offset, key: `${sid(s)}:${dtype}:${t.offset}:${strides.join(',')}` };
}

/** Re-addresses an expression: every leaf gets new strides from `map` (shared nodes stay shared). */
function remap(e: Expr, map: (strides: readonly number[]) => number[], memo: Map<Expr, Expr>): Expr {
  const hit = memo.get(e);
  if (hit) return hit;
  let r: Expr;
  if (e.k === 'const') r = e;
  else if (e.k === 'leaf') {
    const strides = map(e.strides);
    r = { ...e, strides, key: `${sid(e.s)}:${e.dtype}:${e.offset}:${strides.join(',')}` };
  } else r = { k: 'op', op: e.op, args: e.args.map((a) => remap(a, map, memo)) };
  memo.set(e, r);
  return r;
}

/**
 * How a view `t` of a pending storage (contiguous over `from`) reads it, as a map from the
 * storage's axes to `t`'s: for each axis of `t`, the storage axis it walks, or −1 (broadcast).
 * Null when `t` is not such a view (an offset, a slice, a reshape that merges or splits axes).
 */
function axesOf(t: Tensor, from: Shape): number[] | null {
  if (t.offset !== 0) return null;
  const cs = contiguousStrides(from);
  const used = new Set<number>();
  const axes = t.shape.map((d, j) => {
    const st = t.strides[j]!;
    if (d === 1 || st === 0) return -1;
    for (let k = 0; k < from.length; k++) {
      if (!used.has(k) && from[k] === d && cs[k] === st) {
        used.add(k);
        return k;
      }
    }
    return -2;
  });
  if (axes.includes(-2)) return null;
  for (let k = 0; k < from.length; k++) if (from[k]! > 1 && !used.has(k)) return null;
  return axes;
}

/** Whether `t` covers its pending storage exactly in the storage's own layout. */
function canonical(t: Tensor, p: Pending): boolean {
  return t.offset === 0 && shapesEqual(t.shape, p.shape) && t.isContiguous;
}

const isFusedDType = (d: DType): d is FusedDType => d === 'float32' || d === 'bool';

/** An operand of a new expression: `t` read at the indices of `shape` (a broadcast of `t`). */
function operand(t: Tensor, shape: Shape): { e: Expr; leaves: readonly Leaf[]; size: number } {
  const p = t.storage.pending as Pending | MmPending | null;
  if (isMm(p)) {
    // a pending product is read as a leaf: the kernel that reads it may compute it (as its matmul)
    const strides = shapesEqual(t.shape, shape) ? t.strides : broadcastStrides(t.shape, t.strides, shape);
    return { e: leafOf(t, strides, 'float32'), leaves: NO_LEAVES, size: 1 };
  }
  if (p !== null) {
    if (canonical(t, p) && shapesEqual(p.shape, shape)) return { e: p.expr, leaves: p.leaves, size: p.size };
    // a broadcast, transpose or expand of a pending value: read its leaves through the same view
    const axes = canonical(t, p) ? p.shape.map((_, k) => k) : axesOf(t, p.shape);
    if (axes !== null) {
      const off = shape.length - t.rank;
      const map = (ls: readonly number[]): number[] =>
        shape.map((_, i) => {
          const j = i - off;
          if (j < 0 || t.shape[j] === 1) return 0;
          const k = axes[j]!;
          return k < 0 ? 0 : ls[k]!;
        });
      const memo = new Map<Expr, Expr>();
      const e = remap(p.expr, map, memo);
      const leaves = p.leaves.map((l) => (memo.get(l) as Leaf | undefined) ?? (remap(l, map, memo) as Leaf));
      return { e, leaves: dedupe(leaves), size: p.size };
    }
  }
  // anything else is read from its buffer (running it first if it is pending)
  void t.storage.buf;
  if (!isFusedDType(t.dtype)) throw new Error(`axon: lazy operand of dtype ${t.dtype}`);
  if (shapesEqual(t.shape, shape)) {
    // read at its own shape (the common case): one leaf per tensor, made once
    let l = t.lazyLeaf as Leaf | null;
    if (l === null || l.s !== t.storage) t.lazyLeaf = l = leafOf(t, t.strides, t.dtype);
    return { e: l, leaves: NO_LEAVES, size: 1 };
  }
  return { e: leafOf(t, broadcastStrides(t.shape, t.strides, shape), t.dtype), leaves: NO_LEAVES, size: 1 };
}

function dedupe(ls: readonly Leaf[]): readonly Leaf[] {
  if (ls.length < 2) return ls;
  const seen = new Set<string>();
  const out: Leaf[] = [];
  for (const l of ls) {
    if (!seen.has(l.key)) {
      seen.add(l.key);
      out.push(l);
    }
  }
  return out;
}


/**
 * @internal A rank-0 float32/bool constant on `backend` that costs no kernel: it becomes a
 * constant of whatever kernel reads it (or a `fill` if something needs its buffer).
 */
export function lazyScalar(backend: Backend, value: number, dtype: FusedDType): Tensor {
  return lazyFull(backend, [], value, dtype);
}

/**
 * @internal A float32/bool tensor of one value that costs no kernel until its buffer is needed
 * (then one `fill`): kernels reading it take the value as a constant.
 */
export function lazyFull(backend: Backend, shape: Shape, value: number, dtype: FusedDType): Tensor {
  noteBackend(backend);
  const s = pendingStorage(backend, dtype, sizeOf(shape));
  const e: Const = { k: 'const', v: dtype === 'bool' ? (value !== 0 ? 1 : 0) : value };
  s.pending = { expr: e, shape: [...shape], leaves: [], size: 1 } satisfies Pending;
  return new Tensor(s, shape, dtype);
}

/**
 * @internal A pending tensor of `shape`/`dtype` holding `op` applied to `inputs` (each broadcast
 * to `shape`). Inputs whose expressions would make the kernel too large run first.
 */
export function lazyOp(backend: Backend, op: UnaryOp | BinaryOp | 'where', inputs: readonly Tensor[], shape: Shape, dtype: FusedDType): Tensor {
  noteBackend(backend);
  let g = gather(inputs, shape);
  if (g.leaves.length > Math.min(8, maxBuffers(backend) - 1) || g.size > FUSED_MAX_INSTRUCTIONS / 2) {
    // too big: run the inputs' own expressions, and read them as leaves
    for (const t of inputs) void t.storage.buf;
    g = gather(inputs, shape);
  }
  const expr: OpNode = { k: 'op', op, args: g.args };
  const s = pendingStorage(backend, dtype, sizeOf(shape));
  s.pending = { expr, shape, leaves: g.leaves, size: g.size } satisfies Pending;
  for (const l of g.leaves) l.s.readers++;
  const out = new Tensor(s, shape, dtype);
  if (!flags.fusion) realize(out);
  return out;
}

/** The operands of a new op: their expressions, distinct leaves and instruction count. */
function gather(inputs: readonly Tensor[], shape: Shape): { args: Expr[]; leaves: readonly Leaf[]; size: number } {
  const args: Expr[] = [];
  let leaves: Leaf[] | null = null;
  let size = 1;
  for (const t of inputs) {
    const o = operandOrConst(t, shape);
    args.push(o.e);
    size += o.size;
    const ls = o.e.k === 'leaf' ? [o.e] : o.leaves;
    for (const l of ls) {
      leaves ??= [];
      if (!leaves.includes(l) && !leaves.some((m) => m.key === l.key)) leaves.push(l);
    }
  }
  return { args, leaves: leaves ?? NO_LEAVES, size };
}

/** A constant operand (a lazy scalar, inlined whatever the broadcast), or {@link operand}. */
function operandOrConst(t: Tensor, shape: Shape): { e: Expr; leaves: readonly Leaf[]; size: number } {
  // a constant reads the same through any view
  const p = t.storage.pending as Pending | MmPending | null;
  if (p !== null && !isMm(p) && p.expr.k === 'const') return { e: p.expr, leaves: NO_LEAVES, size: 1 };
  return operand(t, shape);
}

/**
 * @internal A pending cast between float32 and bool (bool → float32 reads 0/1; float32 → bool is
 * `x != 0`, NaN included).
 */
export function lazyCast(backend: Backend, x: Tensor, dtype: FusedDType): Tensor {
  if (dtype === 'bool') {
    const zero = lazyScalar(backend, 0, 'float32');
    try {
      return lazyOp(backend, 'ne', [x, zero], x.shape, 'bool');
    } finally {
      zero.dispose();
    }
  }
  // bool → float32: the same 0/1 values; `where(x, 1, 0)` keeps the expression's dtype honest
  const one = lazyScalar(backend, 1, 'float32');
  const zero = lazyScalar(backend, 0, 'float32');
  try {
    return lazyOp(backend, 'where', [x, one, zero], x.shape, 'float32');
  } finally {
    one.dispose();
    zero.dispose();
  }
}

// ------------------------------------------------------------------ running
/** One kernel's worth: the program, its input views and constants. */
interface Built {
  readonly program: FusedProgram;
  readonly inputs: View[];
  readonly consts: number[];
}

const programs = new Map<string, FusedProgram>();

const OPS: readonly (UnaryOp | BinaryOp | 'where')[] = [
  'neg', 'abs', 'sign', 'exp', 'log', 'log1p', 'expm1', 'sqrt', 'rsqrt', 'reciprocal', 'square', 'sin', 'cos', 'tanh', 'erf', 'sigmoid', 'relu', 'floor', 'ceil', 'round', 'not',
  'add', 'sub', 'mul', 'div', 'pow', 'max', 'min', 'mod', 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'and', 'or', 'xor', 'where',
];
const OP_CODE = new Map(OPS.map((o, i) => [o, i + 2]));

/** Marks of one build on the expression nodes it visited (no map: builds never nest). */
interface Marked {
  _b?: number;
  _i?: number;
}
let buildEpoch = 0;

function build(roots: readonly { expr: Expr; dtype: FusedDType }[], shape: Shape, subst?: Map<Expr, Leaf>, product?: Storage): Built {
  const epoch = ++buildEpoch;
  // the program's structure as small integers (its key), its inputs and constants
  const enc: number[] = [];
  const inputs: View[] = [];
  const inDtypes: FusedDType[] = [];
  const consts: number[] = [];
  const leafIx = new Map<string, number>();
  let n = 0;
  if (product !== undefined) {
    // program input 0: the product a matmulFused kernel computes (not one of `inputs`)
    enc.push(0, 0);
    inDtypes.push('float32');
    n = 1;
  }
  const visit = (e0: Expr): number => {
    // a node an earlier kernel of this realize already wrote: read its buffer
    const e = subst?.get(e0) ?? e0;
    const m = e as Marked;
    if (m._b === epoch) return m._i!;
    let ix: number;
    if (e.k === 'leaf' && product !== undefined && e.s === product) ix = 0;
    else if (e.k === 'leaf') {
      const seen = inputs.length > 0 ? leafIx.get(e.key) : undefined;
      if (seen !== undefined) ix = seen;
      else {
        inputs.push({ buf: e.s.buf, dtype: e.dtype, shape, strides: e.strides, offset: e.offset });
        inDtypes.push(e.dtype);
        ix = n++;
        enc.push(0, e.dtype === 'bool' ? 1 : 0);
        leafIx.set(e.key, ix);
      }
    } else if (e.k === 'const') {
      consts.push(e.v);
      ix = n++;
      enc.push(1);
    } else {
      const a = e.args;
      const a0 = visit(a[0]!);
      const a1 = a.length > 1 ? visit(a[1]!) : -1;
      const a2 = a.length > 2 ? visit(a[2]!) : -1;
      ix = n++;
      enc.push(OP_CODE.get(e.op)!, a0);
      if (a1 >= 0) enc.push(a1);
      if (a2 >= 0) enc.push(a2);
    }
    m._b = epoch;
    m._i = ix;
    return ix;
  };
  const outs: number[] = roots.map((r) => visit(r.expr));
  enc.push(65535);
  roots.forEach((r, i) => enc.push(outs[i]!, r.dtype === 'bool' ? 1 : 0));
  let key = '';
  for (let i = 0; i < enc.length; i += 4096) key += String.fromCharCode(...enc.slice(i, i + 4096));
  let program = programs.get(key);
  if (program === undefined) {
    program = decode(enc, inDtypes, consts.length, roots.length);
    if (programs.size > 4096) programs.clear();
    programs.set(key, program);
  }
  return { program, inputs, consts };
}

/** The program an encoding describes (built once per distinct structure). */
function decode(enc: readonly number[], inDtypes: readonly FusedDType[], nConsts: number, nOut: number): FusedProgram {
  const code: FusedInstr[] = [];
  let p = 0;
  let input = 0;
  let slot = 0;
  while (enc[p] !== 65535) {
    const c = enc[p++]!;
    if (c === 0) {
      p++;
      code.push({ op: 'input', input: input++ });
    } else if (c === 1) code.push({ op: 'const', slot: slot++ });
    else {
      const op = OPS[c - 2]!;
      const arity = op === 'where' ? 3 : OPS.indexOf(op) <= OPS.indexOf('not') ? 1 : 2;
      code.push({ op, args: enc.slice(p, p + arity) } as unknown as FusedInstr);
      p += arity;
    }
  }
  p++;
  const outputs: { value: number; dtype: FusedDType }[] = [];
  for (let j = 0; j < nOut; j++) outputs.push({ value: enc[p + 2 * j]!, dtype: enc[p + 2 * j + 1] === 1 ? 'bool' : 'float32' });
  // a readable key for backends (they cache compiled forms under it)
  const text = `${inDtypes.map((d) => (d === 'bool' ? 'b' : 'f')).join('')}|${code.map((c) => (c.op === 'input' ? `i${c.input}` : c.op === 'const' ? `c${c.slot}` : `${c.op}(${c.args.join(',')})`)).join(' ')}|${outputs.map((o) => `${o.value}${o.dtype === 'bool' ? 'b' : 'f'}`).join(',')}`;
  return Object.freeze({ key: text, inputs: Object.freeze([...inDtypes]), consts: nConsts, code: Object.freeze(code), outputs: Object.freeze(outputs) });
}

/** Forgets a pending storage's leaves (it was computed, or dropped unrun). */
function detach(s: Storage): void {
  const p = s.pending as Pending | MmPending | null;
  if (p === null) return;
  s.pending = null;
  if (isMm(p)) for (const d of p.deps) d.dropReader();
  else for (const l of p.leaves) l.s.dropReader();
}

/** Runs pending storages that share a backend and a shape, as one kernel when they fit. */
function runGroup(backend: Backend, group: Storage[], subst?: Map<Expr, Leaf>, checked = false): void {
  const ps = group.map((s) => s.pending as Pending);
  if (group.length > 1 && !checked) {
    const leaves = dedupe(ps.flatMap((p) => p.leaves));
    const size = ps.reduce((n, p) => n + p.size, 0);
    if (!fits(backend, leaves.length, group.length) || size > FUSED_MAX_INSTRUCTIONS) {
      splitGroup(backend, group);
      return;
    }
  }
  const shape = ps[0]!.shape;
  const n = sizeOf(shape);
  const mm = n > 0 ? productOf(backend, ps, shape, group.length) : null;
  if (mm !== null) {
    runEpilogue(backend, group, mm, subst);
    return;
  }
  const bufs = group.map((s) => allocBuffer(backend, s.dtype, s.size));
  try {
    if (n > 0) {
      const first = ps[0]!.expr;
      if (group.length === 1 && first.k === 'const') backend.fill(bufs[0]!, first.v);
      else if (group.length === 1 && (subst !== undefined || !primitive(backend, first, group[0]!.dtype as FusedDType, shape, bufs[0]!))) {
        const b = build([{ expr: first, dtype: group[0]!.dtype as FusedDType }], shape, subst);
        backend.fused(b.program, b.inputs, b.consts, bufs);
      } else if (group.length > 1) {
        const b = build(group.map((s, i) => ({ expr: ps[i]!.expr, dtype: s.dtype as FusedDType })), shape, subst);
        backend.fused(b.program, b.inputs, b.consts, bufs);
      }
    }
  } catch (e) {
    for (const b of bufs) backend.free(b);
    throw e;
  }
  group.forEach((s, i) => {
    detach(s);
    s.setBuffer(bufs[i]!);
  });
}

/**
 * The pending product a kernel of these expressions can compute as its matmul (its elementwise ops
 * becoming the matmul's epilogue), or null: the backend has `matmulFused`, one pending product is
 * read, only in its own layout (element `i` of the kernel is element `i` of the product), and the
 * kernel's buffers fit. Other pending products the expressions read run first, on their own.
 */
function productOf(backend: Backend, ps: readonly Pending[], shape: Shape, outputs: number): Storage | null {
  if (backend.matmulFused === undefined) return null;
  const n = sizeOf(shape);
  const cs = contiguousStrides(shape);
  let mm: Storage | null = null;
  let bad: Set<Storage> | null = null;
  const others = new Set<string>();
  const products: Leaf[] = [];
  for (const p of ps) {
    for (const l of p.leaves) {
      if (!isMm(l.s.pending)) {
        others.add(l.key);
        continue;
      }
      products.push(l);
      const own = l.s.size === n && l.offset === 0 && shape.every((d, i) => d === 1 || l.strides[i] === cs[i]);
      if (!own) (bad ??= new Set()).add(l.s);
      else if (mm === null) mm = l.s;
    }
  }
  if (mm === null || bad?.has(mm)) return null;
  // every other product read here is an input of the kernel like any tensor (it runs first)
  for (const l of products) if (l.s !== mm) others.add(l.key);
  // the product may be written out too (when something else will read it): count it as an output
  const outs = outputs + 1;
  if (outs > 8 || others.size > 8 || others.size + outs + 2 > maxBuffers(backend)) return null;
  return mm;
}

/**
 * Runs `group` as one matmul with an epilogue: the product `mm` is computed by the kernel, and
 * written out as well when anything else still reads it (a holder, another pending kernel), so it
 * is never computed twice.
 */
function runEpilogue(backend: Backend, group: Storage[], mm: Storage, subst?: Map<Expr, Leaf>): void {
  const ps = group.map((s) => s.pending as Pending);
  const shape = ps[0]!.shape;
  const mp = mm.pending as MmPending;
  // still wanted after this kernel: by a holder, or by pending kernels outside this group
  const inGroup = ps.reduce((c, p) => c + p.leaves.filter((l) => l.s === mm).length, 0);
  const keep = mm.refs > 0 || mm.readers > inGroup;
  const roots = group.map((s, i) => ({ expr: ps[i]!.expr, dtype: s.dtype as FusedDType }));
  if (keep) roots.push({ expr: wholeLeaf(mm, shape), dtype: 'float32' });
  // other pending products read here run first (building reads their buffers)
  const b = build(roots, shape, subst, mm);
  const bufs = roots.map((r, i) => allocBuffer(backend, i < group.length ? group[i]!.dtype : 'float32', sizeOf(shape)));
  try {
    backend.matmulFused!(mp.a, mp.b, b.program, b.inputs, b.consts, bufs);
  } catch (e) {
    for (const x of bufs) backend.free(x);
    throw e;
  }
  if (keep) {
    detach(mm);
    mm.setBuffer(bufs[group.length]!);
  }
  group.forEach((s, i) => {
    detach(s);
    s.setBuffer(bufs[i]!);
  });
}

/** A leaf reading all of `s` in the kernel's own layout (contiguous over `shape`). */
function wholeLeaf(s: Storage, shape: Shape, dtype: FusedDType = 'float32'): Leaf {
  const strides = contiguousStrides(shape);
  return { k: 'leaf', s, dtype, strides, offset: 0, key: `${sid(s)}:${dtype}:0:${strides.join(',')}` };
}

/** Runs a pending product on its own (something needs its buffer). */
function runProduct(s: Storage): void {
  const mp = s.pending as MmPending;
  const buf = allocBuffer(s.backend, 'float32', s.size);
  try {
    s.backend.matmul(mp.a, mp.b, buf);
  } catch (e) {
    s.backend.free(buf);
    throw e;
  }
  detach(s);
  s.setBuffer(buf);
}

/**
 * @internal A pending float32 product `a·b` (views [B, M, K] and [B, K, N] of realized buffers,
 * read from `deps`), of `shape` (size B·M·N). It runs when its buffer is needed, or as the matmul
 * of the first kernel that reads it, with that kernel's elementwise ops as the epilogue.
 */
export function lazyMatmul(backend: Backend, a: View, b: View, deps: readonly Storage[], shape: Shape): Tensor {
  noteBackend(backend);
  const s = pendingStorage(backend, 'float32', sizeOf(shape));
  s.pending = { k: 'mm', a, b, deps: [...deps] } satisfies MmPending;
  for (const d of deps) d.readers++;
  return new Tensor(s, shape, 'float32');
}

/**
 * Runs outputs of one shape that do not fit one kernel in as few kernels as fit, smallest
 * expressions first; a later kernel reads what an earlier one wrote instead of recomputing it
 * (an optimizer's new moments, then the parameter update that uses them).
 */
function splitGroup(backend: Backend, group: Storage[]): void {
  const order = [...group].sort((a, b) => (a.pending as Pending).size - (b.pending as Pending).size);
  const done = new Map<Expr, Leaf>();
  const shape = (order[0]!.pending as Pending).shape;
  let batch: Storage[] = [];
  let leaves: Leaf[] = [];
  let size = 0;
  const flush = (): void => {
    if (batch.length === 0) return;
    const exprs = batch.map((s) => (s.pending as Pending).expr);
    // the batch was formed to fit (one pending value alone always fits)
    runGroup(backend, batch, done.size > 0 ? done : undefined, true);
    batch.forEach((s, i) => {
      done.set(exprs[i]!, wholeLeaf(s, shape, s.dtype as FusedDType));
    });
    batch = [];
    leaves = [];
    size = 0;
  };
  for (const s of order) {
    const p = s.pending as Pending;
    const merged = dedupe([...leaves, ...p.leaves]) as Leaf[];
    if (batch.length > 0 && (!fits(backend, merged.length, batch.length + 1) || size + p.size > FUSED_MAX_INSTRUCTIONS)) flush();
    batch.push(s);
    leaves = dedupe([...leaves, ...p.leaves]) as Leaf[];
    size += p.size;
  }
  flush();
}

/** Most buffers of one fused kernel on `backend`. */
function maxBuffers(backend: Backend): number {
  return backend.maxFusedBuffers ?? FUSED_MAX_BUFFERS;
}

/** Whether a kernel of `inputs` inputs and `outputs` outputs fits `backend` (and core's 8 + 8). */
function fits(backend: Backend, inputs: number, outputs: number): boolean {
  return inputs <= 8 && outputs <= 8 && inputs + outputs <= maxBuffers(backend);
}

const COMPARE = new Set<string>(['eq', 'ne', 'lt', 'le', 'gt', 'ge']);
const LOGIC = new Set<string>(['and', 'or', 'xor']);

/**
 * One op over leaves whose dtypes the matching primitive takes: run that primitive (the same
 * kernel as with fusion off). Returns false when the expression needs a fused kernel.
 */
function primitive(backend: Backend, e: Expr, dtype: FusedDType, shape: Shape, out: BackendBuffer): boolean {
  if (e.k !== 'op' || !e.args.every((a) => a.k === 'leaf')) return false;
  const a = e.args as readonly Leaf[];
  const v = (l: Leaf): View => ({ buf: l.s.buf, dtype: l.dtype, shape, strides: l.strides, offset: l.offset });
  if (e.op === 'where') {
    if (a[0]!.dtype !== 'bool' || a[1]!.dtype !== dtype || a[2]!.dtype !== dtype) return false;
    backend.where(v(a[0]!), v(a[1]!), v(a[2]!), out);
    return true;
  }
  if (a.length === 1) {
    const want = e.op === 'not' ? 'bool' : 'float32';
    if (a[0]!.dtype !== want || dtype !== want) return false;
    backend.unary(e.op as UnaryOp, v(a[0]!), out);
    return true;
  }
  if (a[0]!.dtype !== a[1]!.dtype) return false;
  const outDt = COMPARE.has(e.op) || LOGIC.has(e.op) ? 'bool' : a[0]!.dtype;
  if (outDt !== dtype || (LOGIC.has(e.op) ? a[0]!.dtype !== 'bool' : !COMPARE.has(e.op) && a[0]!.dtype !== 'float32')) return false;
  backend.binary(e.op as BinaryOp, v(a[0]!), v(a[1]!), out);
  return true;
}

function realizeStorage(s: Storage): void {
  if (s.pending === null) return;
  if (isMm(s.pending)) runProduct(s);
  else runGroup(s.backend, [s]);
}

/**
 * Computes pending tensors now — several at once as one kernel when they share a backend and a
 * shape (how an optimizer writes a parameter and its state in one pass). Tensors that are not
 * pending are left as they are. Reading a tensor (`data()`, `array()`, …) computes it anyway:
 * call this to choose *when* (e.g. at the end of a training step) and to group outputs.
 * @example
 * ```ts
 * const x = tensor([1, 2, 3]);
 * const m = x.mul(0.9).add(0.1); // pending: nothing ran yet
 * const v = x.square().mul(0.5);
 * realize(m, v); // one kernel writes both (with fusion on)
 * m // [1, 1.9, 2.8]
 * v // [0.5, 2, 4.5]
 * ```
 */
export function realize(...tensors: Tensor[]): void {
  const groups = new Map<string, { backend: Backend; list: Storage[] }>();
  for (const t of tensors) {
    if (!(t instanceof Tensor)) throw new AxonError('realize', `expects tensors, got ${fmtValue(t)}`);
    t.assertLive('realize');
  }
  for (const t of tensors) {
    const s = t.storage;
    const p = s.pending as Pending | MmPending | null;
    if (p === null || isMm(p) || p.expr.k === 'const') {
      if (p !== null) realizeStorage(s);
      continue;
    }
    const key = `${s.backend.name}|${p.shape.join('x')}`;
    let g = groups.get(key);
    if (g === undefined || g.backend !== s.backend) groups.set(key, (g = { backend: s.backend, list: [] }));
    if (!g.list.includes(s)) g.list.push(s);
  }
  for (const g of groups.values()) if (g.list.length > 0) runGroup(g.backend, g.list);
}

/**
 * @internal Reduces `x` over `axes` into `out` with `x`'s pending elementwise expression as the
 * reduction's prologue ({@link Backend.reduceFused}: one kernel, the values never written out).
 * Returns false when that does not apply (fusion off, `x` not pending, no `reduceFused`): the
 * caller then runs `reduce` on `x`'s buffer. `x` stays pending (a later reader computes it again).
 */
export function lazyReduce(backend: Backend, op: FusedReduceOp, x: Tensor, axes: readonly number[], out: BackendBuffer): boolean {
  const p = x.storage.pending as Pending | MmPending | null;
  if (!flags.fusion || backend.reduceFused === undefined || p === null || isMm(p) || p.expr.k === 'const' || x.dtype !== 'float32' || x.size === 0 || axes.length === 0) return false;
  const o = operand(x, x.shape);
  if (o.e.k === 'leaf') return false; // a view that does not fuse: it ran, and is read as it is
  const leaves = o.leaves;
  if (leaves.length > Math.min(8, maxBuffers(backend) - 1)) return false;
  const b = build([{ expr: o.e, dtype: 'float32' }], x.shape);
  backend.reduceFused(op, b.program, b.inputs, b.consts, x.shape, axes, out);
  return true;
}

/** @internal Whether `t` is pending (not computed yet). */
export function isPending(t: Tensor): boolean {
  return t.storage.pending !== null;
}

setLazyHooks(realizeStorage, detach);

// ------------------------------------------------------------------ symbolic expressions (the op table's form)
/**
 * A symbolic float32 value: the form in which the op table writes an op's forward pass. Each
 * method is one instruction of a fused kernel, so an op written with these compiles to a single
 * kernel on every backend (WGSL on WebGPU, the WebAssembly interpreter on WASM). Numbers become
 * the kernel's constants.
 * @example
 * // softsign as the op table writes it: x / (1 + |x|)
 * const softsign = (x: Sym): Sym => x.div(x.abs().add(1));
 */
export class Sym {
  /** @internal The expression node. */
  readonly e: Expr;
  /** @internal */
  constructor(e: Expr) {
    this.e = e;
  }
  private static of(v: Sym | number): Expr {
    return typeof v === 'number' ? { k: 'const', v } : v.e;
  }
  private u(op: UnaryOp): Sym {
    return new Sym({ k: 'op', op, args: [this.e] });
  }
  private b(op: BinaryOp, o: Sym | number): Sym {
    return new Sym({ k: 'op', op, args: [this.e, Sym.of(o)] });
  }
  neg(): Sym { return this.u('neg'); }
  abs(): Sym { return this.u('abs'); }
  sign(): Sym { return this.u('sign'); }
  exp(): Sym { return this.u('exp'); }
  log(): Sym { return this.u('log'); }
  log1p(): Sym { return this.u('log1p'); }
  expm1(): Sym { return this.u('expm1'); }
  sqrt(): Sym { return this.u('sqrt'); }
  rsqrt(): Sym { return this.u('rsqrt'); }
  reciprocal(): Sym { return this.u('reciprocal'); }
  square(): Sym { return this.u('square'); }
  sin(): Sym { return this.u('sin'); }
  cos(): Sym { return this.u('cos'); }
  tanh(): Sym { return this.u('tanh'); }
  erf(): Sym { return this.u('erf'); }
  sigmoid(): Sym { return this.u('sigmoid'); }
  relu(): Sym { return this.u('relu'); }
  floor(): Sym { return this.u('floor'); }
  ceil(): Sym { return this.u('ceil'); }
  round(): Sym { return this.u('round'); }
  add(o: Sym | number): Sym { return this.b('add', o); }
  sub(o: Sym | number): Sym { return this.b('sub', o); }
  mul(o: Sym | number): Sym { return this.b('mul', o); }
  div(o: Sym | number): Sym { return this.b('div', o); }
  pow(o: Sym | number): Sym { return this.b('pow', o); }
  maximum(o: Sym | number): Sym { return this.b('max', o); }
  minimum(o: Sym | number): Sym { return this.b('min', o); }
  /** Comparisons give 1 or 0. */
  lt(o: Sym | number): Sym { return this.b('lt', o); }
  le(o: Sym | number): Sym { return this.b('le', o); }
  gt(o: Sym | number): Sym { return this.b('gt', o); }
  ge(o: Sym | number): Sym { return this.b('ge', o); }
  /** `this != 0 ? a : b`. */
  where(a: Sym | number, b: Sym | number): Sym {
    return new Sym({ k: 'op', op: 'where', args: [this.e, Sym.of(a), Sym.of(b)] });
  }
}

/**
 * @internal A float32 tensor of `x`'s shape holding `f(x)` — one fused kernel, pending with fusion
 * on, run at once with it off.
 */
export function lazyMap(backend: Backend, x: Tensor, f: (s: Sym) => Sym): Tensor {
  noteBackend(backend);
  let o = operandOrConst(x, x.shape);
  let expr = f(new Sym(o.e)).e;
  let size = countNodes(expr);
  if (size > FUSED_MAX_INSTRUCTIONS / 2 && o.e.k !== 'leaf') {
    void x.storage.buf; // too big with x's own expression inlined: run x first
    o = operandOrConst(x, x.shape);
    expr = f(new Sym(o.e)).e;
    size = countNodes(expr);
  }
  const leaves = o.e.k === 'leaf' ? [o.e] : o.leaves;
  const s = pendingStorage(backend, 'float32', sizeOf(x.shape));
  s.pending = { expr, shape: [...x.shape], leaves: [...leaves], size } satisfies Pending;
  for (const l of leaves) l.s.readers++;
  const out = new Tensor(s, x.shape, 'float32');
  if (!flags.fusion) realize(out);
  return out;
}

/** Distinct nodes of an expression (its instruction count). */
function countNodes(e: Expr, seen = new Set<Expr>()): number {
  if (seen.has(e)) return 0;
  seen.add(e);
  return e.k === 'op' ? 1 + e.args.reduce((n, a) => n + countNodes(a, seen), 0) : 1;
}
