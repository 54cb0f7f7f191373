import type { Backend, View } from './backend.js';
import type { DType, TypedArray } from './dtype.js';
import { getGradRecorder, keep as keepTensor, type Storage, traceHostRead, trackDisposed, trackNew, setTensorCheck } from './engine.js';
import { AxonError, fmtShape } from './errors.js';
import { formatTensor, type PrintSource } from './format.js';
import { contiguousStrides, type Shape, sizeOf } from './shape.js';
import * as ops from './ops/index.js';
import type { TableOpName } from './ops/table.js';

let nextId = 1;

/** Node's `util.inspect` hook, by its registered name: core imports nothing from Node. */
const inspectCustom: unique symbol = Symbol.for('nodejs.util.inspect.custom');

/** Nested arrays as returned by {@link Tensor.array}. */
export type NestedArray = number | boolean | NestedArray[];

/**
 * Options of {@link Tensor.backward}.
 * @example
 * ```ts
 * import '@axon/autograd';
 * const w = tensor([1, 2]).requireGrad();
 * const loss = w.square().sum();
 * loss.backward(undefined, { retainGraph: true });
 * loss.backward(); // the graph was kept: gradients accumulate
 * w.grad // [4, 8]
 * ```
 */
export interface BackwardOptions {
  /** Keep the graph so that `backward()` can run through it again (PyTorch's `retain_graph`). */
  readonly retainGraph?: boolean;
}

/** The methods every op of the op table (`OP_TABLE`) gives `Tensor`: `x.silu()`, `x.mish()`, … */
export type TableMethods = { readonly [K in TableOpName]: () => Tensor };

/** A number, or a tensor: what binary ops accept as their second operand. */
export type TensorLike = Tensor | number | boolean;

/**
 * An n-dimensional array on a backend. Tensors are immutable values; movement ops
 * (`reshape`, `transpose`, `slice`, `expand`, …) return zero-copy views where the layout allows.
 * Free a tensor with `dispose()`, a `tidy` scope, or `using t = …`.
 *
 * @example
 * ```ts
 * const a = tensor([[1, 2], [3, 4]]);
 * const b = a.matmul(a.T).add(1); // a.T is a view: no copy
 * await b.array() // [[6, 12], [12, 26]]
 * b.shape // [2, 2]
 * console.log(b); // tensor([[ 6., 12.], [12., 26.]], shape=[2, 2], dtype=float32), over two lines
 * b.dispose();
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging, @typescript-eslint/no-empty-object-type
export interface Tensor extends TableMethods {}
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class Tensor {
  /** Unique id, in creation order. */
  readonly id: number;
  /** Sizes, outermost first. */
  readonly shape: Shape;
  /** Element type. */
  readonly dtype: DType;
  /** @internal strides in elements */
  strides: readonly number[];
  /** @internal offset in elements */
  offset: number;
  /** @internal */
  storage: Storage;
  /** Whether gradients flow to this tensor (set on parameters; propagated by ops). */
  requiresGrad = false;
  /** Accumulated gradient after `backward()` (for tensors that require grad and are leaves). */
  grad: Tensor | null = null;
  /** @internal autograd's node for this tensor (opaque to core). */
  gradNode: unknown = null;
  /** @internal set by `keep()` so scopes leave it alone */
  kept = false;
  /** @internal set when a recorded op saved this tensor for its gradient */
  savedForBackward = false;
  /**
   * @internal A host copy of small int32 tensors made from host data, so that index checks
   * (gather, scatterAdd, sparse labels) work on backends without synchronous reads.
   */
  hostInts: Int32Array | null = null;
  /** @internal The lazy engine's leaf for reading this tensor at its own shape (see lazy.ts). */
  lazyLeaf: unknown = null;
  /** Optional name (parameters carry their path here). */
  name: string | undefined;
  private disposedFlag = false;

  /** @internal Use creation functions (`tensor`, `zeros`, …) instead. */
  constructor(storage: Storage, shape: Shape, dtype: DType, strides?: readonly number[], offset = 0) {
    this.id = nextId++;
    this.storage = storage;
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
    this.strides = strides ? Object.freeze([...strides]) : Object.freeze(contiguousStrides(shape));
    this.offset = offset;
    storage.retain();
    trackNew(this);
  }

  /** Number of elements. */
  get size(): number {
    return sizeOf(this.shape);
  }
  /** Number of dimensions. */
  get rank(): number {
    return this.shape.length;
  }
  /** The backend holding this tensor. */
  get backend(): Backend {
    return this.storage.backend;
  }
  /** Whether `dispose()` was called. */
  get isDisposed(): boolean {
    return this.disposedFlag;
  }
  /** Whether the elements are laid out row-major without gaps from `offset`. */
  get isContiguous(): boolean {
    let acc = 1;
    for (let i = this.shape.length - 1; i >= 0; i--) {
      const d = this.shape[i]!;
      if (d !== 1 && this.strides[i] !== acc) return false;
      acc *= d;
    }
    return true;
  }

  /** @internal throws if disposed */
  assertLive(op: string): void {
    if (this.disposedFlag) throw new AxonError(op, `tensor #${this.id} ${fmtShape(this.shape)} ${this.dtype} was disposed`);
  }

  /** @internal The view descriptor backends consume. */
  view(): View {
    return { buf: this.storage.buf, dtype: this.dtype, shape: this.shape, strides: this.strides, offset: this.offset };
  }

  /**
   * Frees this tensor (its storage is freed when no view shares it). Safe to call twice.
   * @example
   * const t = zeros([2]);
   * t.dispose();
   * t.isDisposed // true
   * t.dispose(); // a second call does nothing
   * t.add(1); // throws: 'was disposed'
   */
  dispose(): void {
    if (this.disposedFlag) return;
    this.disposedFlag = true;
    trackDisposed(this);
    this.storage.release();
    if (this.grad) {
      this.grad.dispose();
      this.grad = null;
    }
    // gradNode stays: a backward pass that reaches this tensor reports it was disposed.
  }

  /** `using t = zeros([2])` disposes `t` at the end of the block. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /**
   * Protects this tensor from enclosing `tidy` scopes.
   * @example
   * ```ts
   * let w: Tensor | undefined;
   * tidy(() => {
   *   w = randn([3]).keep(); // not returned, but kept
   *   w.mul(2); // freed when the scope ends
   * });
   * w!.isDisposed // false
   * ```
   */
  keep(): this {
    return keepTensor(this);
  }

  /**
   * Replaces this tensor's contents with `value`'s (same shape and dtype) without changing its
   * identity — how optimizers update parameters. `value` is consumed (disposed). The tensor gets
   * new storage: views taken of it earlier keep showing the old values (assign to the base, not
   * to a view).
   * @example
   * ```ts
   * const w = tensor([1, 2]);
   * const g = tensor([10, 10]);
   * const same = w.assign(w.sub(g.mul(0.1))); // an SGD step, in place
   * w // [0, 1]
   * same === w // true
   * ```
   */
  assign(value: Tensor): this {
    this.assertLive('assign');
    if (value === this) return this;
    value.assertLive('assign');
    if (value.dtype !== this.dtype || value.shape.length !== this.shape.length || value.shape.some((d, i) => d !== this.shape[i])) {
      throw new AxonError('assign', `value ${fmtShape(value.shape)} ${value.dtype} does not match target ${fmtShape(this.shape)} ${this.dtype}`);
    }
    if (value.backend !== this.backend) throw new AxonError('assign', `value is on backend '${value.backend.name}', target on '${this.backend.name}'`);
    void value.storage.buf; // assignment commits: a pending value runs now
    const src = value.isContiguous ? value : ops.contiguous(value);
    const old = this.storage;
    this.hostInts = null;
    this.storage = src.storage;
    this.storage.retain();
    this.strides = Object.freeze(contiguousStrides(this.shape));
    this.offset = src.offset;
    old.release();
    if (src !== value) src.dispose();
    value.dispose();
    return this;
  }

  // ---------------------------------------------------------------- reading
  /**
   * Copies the elements out, row-major, as a typed array of this dtype.
   * @example await tensor([1, 2]).data() // Float32Array [1, 2]
   */
  async data(): Promise<TypedArray> {
    this.assertLive('data');
    traceHostRead(this);
    if (this.isContiguous) {
      const all = await this.backend.read(this.storage.buf);
      return this.offset === 0 && all.length === this.size ? all : all.slice(this.offset, this.offset + this.size);
    }
    const c = ops.clone(this);
    try {
      return await c.backend.read(c.storage.buf);
    } finally {
      c.dispose();
    }
  }

  /**
   * Synchronous {@link Tensor.data}; throws on backends that cannot read synchronously (WebGPU).
   * @example tensor([1, 2]).dataSync() // Float32Array [1, 2]
   */
  dataSync(): TypedArray {
    this.assertLive('dataSync');
    traceHostRead(this);
    if (!this.backend.supportsSyncRead) {
      throw new AxonError('dataSync', `backend '${this.backend.name}' cannot read synchronously; use await t.data()`);
    }
    if (this.isContiguous) {
      const all = this.backend.readSync(this.storage.buf);
      return this.offset === 0 && all.length === this.size ? all : all.slice(this.offset, this.offset + this.size);
    }
    const c = ops.clone(this);
    try {
      return c.backend.readSync(c.storage.buf);
    } finally {
      c.dispose();
    }
  }

  /**
   * The elements as nested arrays (booleans for bool tensors).
   * @example await tensor([[1, 2], [3, 4]]).array() // [[1, 2], [3, 4]]
   */
  async array(): Promise<NestedArray> {
    return nest(await this.data(), this.shape, this.dtype);
  }

  /**
   * Synchronous {@link Tensor.array}; throws on backends that cannot read synchronously (WebGPU).
   * @example tensor([[1, 2], [3, 4]]).arraySync() // [[1, 2], [3, 4]]
   */
  arraySync(): NestedArray {
    return nest(this.dataSync(), this.shape, this.dtype);
  }

  /**
   * The elements as nested arrays, synchronously (PyTorch's `tolist()`; the same as
   * {@link Tensor.arraySync}). Throws on backends that cannot read synchronously (WebGPU):
   * use `await t.array()` in code meant for every backend.
   * @example tensor([[1, 2], [3, 4]]).T.toArray() // [[1, 3], [2, 4]]
   */
  toArray(): NestedArray {
    return nest(this.dataSync(), this.shape, this.dtype);
  }

  /**
   * The single element of a size-1 tensor, synchronously (PyTorch's `item()`); throws on backends
   * that cannot read synchronously (WebGPU): use {@link Tensor.itemAsync} in code meant for every
   * backend.
   * @example sum(tensor([1, 2])).item() // 3
   */
  item(): number {
    if (this.size !== 1) throw new AxonError('item', `tensor ${fmtShape(this.shape)} has ${this.size} elements, expected 1`);
    this.assertLive('item');
    if (!this.backend.supportsSyncRead) {
      throw new AxonError('item', `backend '${this.backend.name}' cannot read synchronously; use await t.itemAsync()`);
    }
    return this.dataSync()[0]!;
  }

  /**
   * The single element of a size-1 tensor, read asynchronously: works on every backend.
   * @example await sum(tensor([1, 2])).itemAsync() // 3
   */
  async itemAsync(): Promise<number> {
    if (this.size !== 1) throw new AxonError('itemAsync', `tensor ${fmtShape(this.shape)} has ${this.size} elements, expected 1`);
    return (await this.data())[0]!;
  }

  /**
   * The values, shape and dtype as text, laid out like PyTorch prints a tensor: one number format
   * and column width for every element, rows wrapped at 80 columns, and tensors of more than 1000
   * elements summarized with `...` (3 items at each end of each axis). Never throws: a disposed
   * tensor prints as `<disposed>`, and on a backend without synchronous reads (WebGPU) the values
   * are left out (`await t.array()` reads them).
   * @example
   * ```ts
   * tensor([[1, 2], [3, 4]]).toString().split('\n') // ['tensor([[1., 2.],', '        [3., 4.]], shape=[2, 2], dtype=float32)']
   * tensor([0.5, -2]).toString() // 'tensor([ 0.5000, -2.0000], shape=[2], dtype=float32)'
   * tensor([1, 2, 300], [3], 'int32').toString() // 'tensor([  1,   2, 300], shape=[3], dtype=int32)'
   * tensor([true, false]).toString() // 'tensor([ true, false], shape=[2], dtype=bool)'
   * arange(2000).toString() // 'tensor([   0,    1,    2,  ..., 1997, 1998, 1999], shape=[2000], dtype=int32)'
   * scalar(3.5).toString() // 'tensor(3.5000, shape=[], dtype=float32)'
   * ```
   */
  toString(): string {
    return formatTensor({ shape: this.shape, dtype: this.dtype, requiresGrad: this.requiresGrad, values: this.printValues() });
  }

  /**
   * Prints {@link Tensor.toString} with `console.log`.
   * @example
   * tensor([[1, 2], [3, 4]]).print();
   * // tensor([[1., 2.],
   * //         [3., 4.]], shape=[2, 2], dtype=float32)
   */
  print(): void {
    console.log(this.toString());
  }

  /**
   * What Node's `util.inspect` (and so `console.log(t)`) shows: {@link Tensor.toString}. Keyed by
   * `Symbol.for('nodejs.util.inspect.custom')`, so core imports nothing from Node.
   * @example
   * import { inspect } from 'node:util';
   * inspect(tensor([1, 2])) // 'tensor([1., 2.], shape=[2], dtype=float32)'
   * inspect({ w: tensor([1, 2]) }) // '{ w: tensor([1., 2.], shape=[2], dtype=float32) }'
   */
  [inspectCustom](depth: number): string {
    if (depth < 0) return `[Tensor shape=[${this.shape.join(', ')}] dtype=${this.dtype}]`;
    return this.toString();
  }

  /** The storage's elements for printing, or why they cannot be shown. */
  private printValues(): PrintSource['values'] {
    if (this.disposedFlag) return { unavailable: 'disposed' };
    const b = this.backend;
    if (b.lostReason !== undefined) return { unavailable: `backend '${b.name}' lost: ${b.lostReason}` };
    if (!b.supportsSyncRead) return { unavailable: `on ${b.name}: await t.array() to read` };
    try {
      // The whole buffer, indexed by strides on the host: views print without making tensors
      // (no autograd node, no anomaly check, nothing for a scope to track).
      return { data: b.readSync(this.storage.buf), strides: this.strides, offset: this.offset };
    } catch (e) {
      return { unavailable: `unreadable: ${e instanceof Error ? e.message : String(e)}` };
    }
  }

  // ---------------------------------------------------------------- autograd
  /**
   * Computes gradients of this tensor with respect to every leaf that requires grad and
   * accumulates them into their `.grad` (PyTorch style). Needs `@axon/autograd` imported. As in
   * PyTorch, the graph is released afterwards: a second `backward()` through it throws unless the
   * first passed `{ retainGraph: true }`.
   * @example
   * ```ts
   * import '@axon/autograd';
   * const w = tensor([1, 2]).requireGrad();
   * const x = tensor([3, 4]);
   * const loss = w.mul(x).sum();
   * loss.backward();
   * w.grad // [3, 4]
   * loss.backward(); // throws: 'retainGraph'
   * ```
   */
  backward(grad?: Tensor, opts: BackwardOptions = {}): void {
    const r = getGradRecorder();
    if (!r) throw new AxonError('backward', 'autograd is not loaded: import "@axon/autograd" (it registers itself)');
    r.backward(this, grad, opts);
  }

  /**
   * A tensor sharing this one's storage that is cut from the autograd graph.
   * @example
   * ```ts
   * import '@axon/autograd';
   * const x = tensor([1, 2]).requireGrad();
   * const y = x.detach();
   * y.requiresGrad // false
   * y // [1, 2]
   * ```
   */
  detach(): Tensor {
    this.assertLive('detach');
    return new Tensor(this.storage, this.shape, this.dtype, this.strides, this.offset);
  }

  /**
   * Marks this tensor as requiring gradients (a leaf), and returns it. Only float32 tensors can
   * require gradients (as in PyTorch): int32 and bool values have no derivative.
   * @example
   * const w = randn([3]).requireGrad();
   * w.requiresGrad // true
   * tensor([1], undefined, 'int32').requireGrad(); // throws: 'only float32 tensors can require gradients'
   */
  requireGrad(flag = true): this {
    if (flag && this.dtype !== 'float32') {
      throw new AxonError('requireGrad', `only float32 tensors can require gradients; this tensor ${fmtShape(this.shape)} is ${this.dtype} (cast with .astype('float32') first)`);
    }
    this.requiresGrad = flag;
    return this;
  }

  // ---------------------------------------------------------------- op methods
  /** @see ops.add @example tensor([1, 2]).add(1) // [2, 3] */ add(b: TensorLike): Tensor { return ops.add(this, b); }
  /** @see ops.sub @example tensor([3, 4]).sub(tensor([1, 1])) // [2, 3] */ sub(b: TensorLike): Tensor { return ops.sub(this, b); }
  /** @see ops.mul @example tensor([1, 2]).mul(3) // [3, 6] */ mul(b: TensorLike): Tensor { return ops.mul(this, b); }
  /** @see ops.div @example tensor([1, 2]).div(4) // [0.25, 0.5] */ div(b: TensorLike): Tensor { return ops.div(this, b); }
  /** @see ops.pow @example tensor([2, 3]).pow(2) // [4, 9] */ pow(b: TensorLike): Tensor { return ops.pow(this, b); }
  /** @see ops.maximum @example tensor([1, 5]).maximum(3) // [3, 5] */ maximum(b: TensorLike): Tensor { return ops.maximum(this, b); }
  /** @see ops.minimum @example tensor([1, 5]).minimum(3) // [1, 3] */ minimum(b: TensorLike): Tensor { return ops.minimum(this, b); }
  /** @see ops.mod @example tensor([-1, 4]).mod(3) // [2, 1] */ mod(b: TensorLike): Tensor { return ops.mod(this, b); }
  /** @see ops.eq @example tensor([1, 2]).eq(2) // [false, true] */ eq(b: TensorLike): Tensor { return ops.eq(this, b); }
  /** @see ops.ne @example tensor([1, 2]).ne(2) // [true, false] */ ne(b: TensorLike): Tensor { return ops.ne(this, b); }
  /** @see ops.lt @example tensor([1, 2]).lt(2) // [true, false] */ lt(b: TensorLike): Tensor { return ops.lt(this, b); }
  /** @see ops.le @example tensor([1, 2]).le(2) // [true, true] */ le(b: TensorLike): Tensor { return ops.le(this, b); }
  /** @see ops.gt @example tensor([1, 2]).gt(1) // [false, true] */ gt(b: TensorLike): Tensor { return ops.gt(this, b); }
  /** @see ops.ge @example tensor([1, 2]).ge(2) // [false, true] */ ge(b: TensorLike): Tensor { return ops.ge(this, b); }
  /** @see ops.logicalAnd @example tensor([true, true]).logicalAnd(tensor([true, false])) // [true, false] */ logicalAnd(b: TensorLike): Tensor { return ops.logicalAnd(this, b); }
  /** @see ops.logicalOr @example tensor([true, false]).logicalOr(tensor([false, false])) // [true, false] */ logicalOr(b: TensorLike): Tensor { return ops.logicalOr(this, b); }
  /** @see ops.logicalNot @example tensor([true, false]).logicalNot() // [false, true] */ logicalNot(): Tensor { return ops.logicalNot(this); }
  /** @see ops.neg @example tensor([1, -2]).neg() // [-1, 2] */ neg(): Tensor { return ops.neg(this); }
  /** @see ops.abs @example tensor([-1, 2]).abs() // [1, 2] */ abs(): Tensor { return ops.abs(this); }
  /** @see ops.sign @example tensor([-3, 0, 2]).sign() // [-1, 0, 1] */ sign(): Tensor { return ops.sign(this); }
  /** @see ops.exp @example tensor([0, 1]).exp() // [1, 2.7183] */ exp(): Tensor { return ops.exp(this); }
  /** @see ops.log @example tensor([1, Math.E]).log() // [0, 1.0000] */ log(): Tensor { return ops.log(this); }
  /** @see ops.log1p @example tensor([0, 1e-7]).log1p() // [0, 1e-7] */ log1p(): Tensor { return ops.log1p(this); }
  /** @see ops.expm1 @example tensor([0, 1e-7]).expm1() // [0, 1e-7] */ expm1(): Tensor { return ops.expm1(this); }
  /** @see ops.sqrt @example tensor([4, 9]).sqrt() // [2, 3] */ sqrt(): Tensor { return ops.sqrt(this); }
  /** @see ops.rsqrt @example tensor([4, 0.25]).rsqrt() // [0.5, 2] */ rsqrt(): Tensor { return ops.rsqrt(this); }
  /** @see ops.reciprocal @example tensor([4, -0.5]).reciprocal() // [0.25, -2] */ reciprocal(): Tensor { return ops.reciprocal(this); }
  /** @see ops.square @example tensor([3, -2]).square() // [9, 4] */ square(): Tensor { return ops.square(this); }
  /** @see ops.sin @example tensor([0, Math.PI / 2]).sin() // [0, 1.0000] */ sin(): Tensor { return ops.sin(this); }
  /** @see ops.cos @example tensor([0, Math.PI]).cos() // [1, -1.0000] */ cos(): Tensor { return ops.cos(this); }
  /** @see ops.tanh @example tensor([0, 100]).tanh() // [0, 1] */ tanh(): Tensor { return ops.tanh(this); }
  /** @see ops.erf @example tensor([0.5, 2]).erf() // [0.5205, 0.9953] */ erf(): Tensor { return ops.erf(this); }
  /** @see ops.sigmoid @example tensor([0, 2]).sigmoid() // [0.5, 0.8808] */ sigmoid(): Tensor { return ops.sigmoid(this); }
  /** @see ops.relu @example tensor([-1, 2]).relu() // [0, 2] */ relu(): Tensor { return ops.relu(this); }
  /** @see ops.floor @example tensor([1.5, -1.5]).floor() // [1, -2] */ floor(): Tensor { return ops.floor(this); }
  /** @see ops.ceil @example tensor([1.5, -1.5]).ceil() // [2, -1] */ ceil(): Tensor { return ops.ceil(this); }
  /** @see ops.round @example tensor([0.5, 1.5]).round() // [0, 2] */ round(): Tensor { return ops.round(this); }
  /** @see ops.clip @example tensor([-2, 0.5, 9]).clip(0, 1) // [0, 0.5, 1] */ clip(lo: number, hi: number): Tensor { return ops.clip(this, lo, hi); }
  /** @see ops.astype @example tensor([1.7, 0]).astype('int32') // [1, 0] */ astype(dtype: DType): Tensor { return ops.astype(this, dtype); }
  /** @see ops.contiguous @example tensor([[1, 2], [3, 4]]).T.contiguous().isContiguous // true */ contiguous(): Tensor { return ops.contiguous(this); }
  /** @see ops.clone @example tensor([1, 2]).clone() // [1, 2] */ clone(): Tensor { return ops.clone(this); }

  /** @see ops.sum @example tensor([[1, 2], [3, 4]]).sum(1) // [3, 7] */ sum(axis?: number | number[], keepDims = false): Tensor { return ops.sum(this, axis, keepDims); }
  /** @see ops.mean @example tensor([[1, 2], [3, 4]]).mean(0) // [2, 3] */ mean(axis?: number | number[], keepDims = false): Tensor { return ops.mean(this, axis, keepDims); }
  /** @see ops.max @example tensor([[1, 5], [3, 4]]).max(1) // [5, 4] */ max(axis?: number | number[], keepDims = false): Tensor { return ops.max(this, axis, keepDims); }
  /** @see ops.min @example tensor([[1, 5], [3, 4]]).min() // 1 */ min(axis?: number | number[], keepDims = false): Tensor { return ops.min(this, axis, keepDims); }
  /** @see ops.prod @example tensor([2, 3, 4]).prod() // 24 */ prod(axis?: number | number[], keepDims = false): Tensor { return ops.prod(this, axis, keepDims); }
  /** @see ops.argmax @example tensor([1, 5, 2]).argmax() // 1 */ argmax(axis?: number, keepDims = false): Tensor { return ops.argmax(this, axis, keepDims); }
  /** @see ops.argmin @example tensor([3, 1, 2]).argmin() // 1 */ argmin(axis?: number, keepDims = false): Tensor { return ops.argmin(this, axis, keepDims); }
  /** @see ops.variance @example tensor([1, 2, 3, 4]).variance() // 1.25 */ variance(axis?: number | number[], keepDims: boolean | ops.VarianceOptions = false): Tensor { return ops.variance(this, axis, keepDims); }
  /** @see ops.std @example tensor([1, 2, 3, 4]).std() // 1.2910 */ std(axes?: number | number[], opts: ops.VarianceOptions = {}): Tensor { return ops.std(this, axes, opts); }
  /** @see ops.logSumExp @example tensor([0, 0]).logSumExp() // 0.6931 */ logSumExp(axis?: number | number[], keepDims = false): Tensor { return ops.logSumExp(this, axis, keepDims); }
  /** @see ops.softmax @example tensor([[0, 0], [0, Math.log(3)]]).softmax() // [[0.5, 0.5], [0.25, 0.75]] */ softmax(axis = -1): Tensor { return ops.softmax(this, axis); }
  /** @see ops.logSoftmax @example tensor([0, 0]).logSoftmax() // [-0.6931, -0.6931] */ logSoftmax(axis = -1): Tensor { return ops.logSoftmax(this, axis); }

  /** @see ops.matmul @example tensor([[1, 2]]).matmul(tensor([[3], [4]])) // [[11]] */ matmul(b: Tensor): Tensor { return ops.matmul(this, b); }
  /** @see ops.reshape @example arange(6).reshape([3, 2]) // [[0, 1], [2, 3], [4, 5]] */ reshape(shape: readonly number[]): Tensor { return ops.reshape(this, shape); }
  /** @see ops.flatten @example zeros([2, 3, 4]).flatten(1).shape // [2, 12] */ flatten(startAxis = 0, endAxis = -1): Tensor { return ops.flatten(this, startAxis, endAxis); }
  /** @see ops.squeeze @example zeros([1, 3]).squeeze().shape // [3] */ squeeze(axis?: number | number[]): Tensor { return ops.squeeze(this, axis); }
  /** @see ops.unsqueeze @example tensor([1, 2]).unsqueeze(1) // [[1], [2]] */ unsqueeze(axis: number): Tensor { return ops.unsqueeze(this, axis); }
  /** @see ops.permute @example zeros([2, 3, 4]).permute([2, 0, 1]).shape // [4, 2, 3] */ permute(axes: readonly number[]): Tensor { return ops.permute(this, axes); }
  /** @see ops.transpose @example tensor([[1, 2]]).transpose() // [[1], [2]] */ transpose(axes?: readonly number[]): Tensor { return ops.transpose(this, axes); }
  /** Transpose of the last two axes, as a view. @example tensor([[1, 2]]).T // [[1], [2]] */
  get T(): Tensor { return ops.transpose(this); }
  /** @see ops.slice @example arange(5).slice([1], [2]) // [1, 2] */ slice(begin: readonly number[], size?: readonly number[], steps?: readonly number[]): Tensor { return ops.slice(this, begin, size, steps); }
  /** @see ops.expand @example tensor([1, 2]).expand([2, 2]) // [[1, 2], [1, 2]] */ expand(shape: readonly number[]): Tensor { return ops.expand(this, shape); }
  /** @see ops.gather @example tensor([10, 20, 30]).gather(tensor([2, 0], [2], 'int32')) // [30, 10] */ gather(indices: Tensor, axis = 0): Tensor { return ops.gather(this, indices, axis); }
  /** @see ops.toBackend @example await tensor([1, 2]).toBackend('wasm') // [1, 2] */ toBackend(name: string): Promise<Tensor> { return ops.toBackend(this, name); }
}

setTensorCheck((v: unknown): v is Tensor => v instanceof Tensor);

function nest(data: TypedArray, shape: Shape, dtype: DType): NestedArray {
  const conv = dtype === 'bool' ? (v: number) => v !== 0 : (v: number) => v;
  if (shape.length === 0) return conv(data[0]!);
  let pos = 0;
  const build = (d: number): NestedArray[] => {
    const n = shape[d]!;
    const out: NestedArray[] = new Array(n);
    if (d === shape.length - 1) {
      for (let i = 0; i < n; i++) out[i] = conv(data[pos++]!);
    } else {
      for (let i = 0; i < n; i++) out[i] = build(d + 1);
    }
    return out;
  };
  return build(0);
}

/**
 * Whether `x` is a Tensor.
 * @example
 * isTensor(tensor([1])) // true
 * isTensor([1]) // false
 */
export function isTensor(x: unknown): x is Tensor {
  return x instanceof Tensor;
}
