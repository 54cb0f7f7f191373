/**
 * The backend interface: the one contract between Axon's math and a machine.
 *
 * A backend owns storage (flat, typed buffers) and implements a small set of primitives
 * over *views* of that storage. Everything else — broadcasting rules, shape inference,
 * composite ops (softmax, cross-entropy, layer norm, conv as im2col + matmul), gradients —
 * lives above this file, once, in `@axon/core` and `@axon/autograd`.
 *
 * ## Conventions that hold for every primitive
 * - A {@link View} describes a strided window into a buffer: element `(i0, …, ik)` lives at
 *   flat index `offset + Σ ij·strides[j]` of `buf` (indices and strides counted in elements,
 *   not bytes). Strides may be 0 (broadcast) or any non-negative value; core never passes
 *   negative strides. Views handed to a primitive are already broadcast to the shape the
 *   primitive documents: backends never implement broadcasting rules themselves.
 * - An output is always a fresh, contiguous (row-major) buffer allocated by core with
 *   {@link Backend.alloc}, except for {@link Backend.copy}, whose destination is a view.
 * - Outputs never alias inputs.
 * - `float32` arithmetic follows IEEE-754 single precision; `int32` arithmetic wraps
 *   (two's complement) and integer division truncates toward zero; `bool` is stored as one
 *   byte holding 0 or 1.
 * - Sizes may be zero; a primitive with an empty output must not touch memory.
 *
 * A backend need not be fast on every path, but it must be exact on every path the
 * conformance suite (`@axon/conformance`) checks.
 *
 * @packageDocumentation
 */

import type { DType, TypedArray } from './dtype.js';

/** An opaque handle to a buffer owned by one backend. Core never looks inside. */
export interface BackendBuffer {
  /** Number of elements the buffer holds. */
  readonly size: number;
  /** Element type. */
  readonly dtype: DType;
}

/** A strided window into a buffer (see the conventions above). */
export interface View {
  readonly buf: BackendBuffer;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
}

/**
 * Elementwise unary ops. Semantics on float32 (int32 where noted; bool never):
 * - `neg` −x (int32 too); `abs` |x| (int32 too); `sign` −1, 0 or 1 (0 for ±0, NaN for NaN; int32 too)
 * - `exp`, `log` (natural), `log1p` log(1+x), `expm1` exp(x)−1, `sqrt`, `rsqrt` 1/√x,
 *   `reciprocal` 1/x, `square` x² (int32 too)
 * - `sin`, `cos`, `tanh`, `erf` (Gauss error function, max abs error ≤ 1e-6),
 *   `sigmoid` 1/(1+e^−x) computed without overflow for any x
 * - `relu` max(x, 0) (int32 too; relu(NaN) = NaN), `floor`, `ceil`,
 *   `round` (half to even, as `Math.round` is not)
 * - `not` logical not; input and output dtype `bool`
 */
export type UnaryOp =
  | 'neg' | 'abs' | 'sign' | 'exp' | 'log' | 'log1p' | 'expm1' | 'sqrt' | 'rsqrt' | 'reciprocal'
  | 'square' | 'sin' | 'cos' | 'tanh' | 'erf' | 'sigmoid' | 'relu' | 'floor' | 'ceil' | 'round' | 'not';

/**
 * Elementwise binary ops over two views of identical shape (already broadcast).
 * - Arithmetic (inputs and output share one dtype, float32 or int32):
 *   `add`, `sub`, `mul`, `div` (int32: truncates toward zero; x/0 = 0),
 *   `pow` (float32 only; `Math.pow` semantics), `max`, `min` (NaN-propagating for float32),
 *   `mod` (result has the sign of the divisor, like Python's `%`; int32 x mod 0 = 0).
 * - Comparisons (inputs float32/int32/bool of one dtype; output `bool`):
 *   `eq`, `ne`, `lt`, `le`, `gt`, `ge` (IEEE: any comparison with NaN is false, `ne` true).
 * - Logic (inputs and output `bool`): `and`, `or`, `xor`.
 */
export type BinaryOp =
  | 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'max' | 'min' | 'mod'
  | 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge'
  | 'and' | 'or' | 'xor';

/**
 * Reductions over a set of axes.
 * - `sum`, `prod` (float32: accumulate in at least float32 with pairwise or blocked summation
 *   so that error grows no faster than O(log n)·ε for sum; int32: wrapping), `max`, `min`
 *   (NaN-propagating). Empty reductions give 0 (sum), 1 (prod), −Infinity (max), +Infinity (min);
 *   for int32 max/min of an empty set give INT32_MIN / INT32_MAX.
 * - `argmax`, `argmin`: output int32, the index (flattened over the reduced axes, row-major in
 *   the order the axes appear in `x`) of the first maximal/minimal element; NaN counts as maximal
 *   (argmax) and minimal (argmin), first NaN wins. Core never asks for these over an empty set.
 */
export type ReduceOp = 'sum' | 'prod' | 'max' | 'min' | 'argmax' | 'argmin';
/** Reductions {@link Backend.reduceFused} runs (float32 in, float32 out). */
export type FusedReduceOp = 'sum' | 'prod' | 'max' | 'min';

/**
 * The unary ops a {@link FusedProgram} may use: every {@link UnaryOp}, with its float32 semantics
 * (`not` gives 1 for 0 and 0 otherwise).
 */
export type FusedUnaryOp = UnaryOp;
/**
 * The binary ops a {@link FusedProgram} may use: every {@link BinaryOp} with its float32 semantics;
 * comparisons give 1 or 0, and `and`/`or`/`xor` treat any nonzero value as true and give 1 or 0.
 */
export type FusedBinaryOp = BinaryOp;

/**
 * One instruction of a {@link FusedProgram}. Instruction `i` defines value `i`; `args` name earlier
 * values. Every value is a float32 number (a bool is 0 or 1):
 * - `input`: the element of `inputs[input]` at the current index (float32 as is, bool as 0/1);
 * - `const`: `consts[slot]` rounded to float32 (constants are passed per call, so that one compiled
 *   program serves every value: a learning rate that changes each step does not recompile);
 * - a {@link FusedUnaryOp} or {@link FusedBinaryOp}: the op applied to its argument(s), rounded to
 *   float32 as the matching `unary`/`binary` primitive would;
 * - `where`: `args[0] != 0 ? args[1] : args[2]` (NaN counts as nonzero).
 */
export type FusedInstr =
  | { readonly op: 'input'; readonly input: number }
  | { readonly op: 'const'; readonly slot: number }
  | { readonly op: FusedUnaryOp; readonly args: readonly [number] }
  | { readonly op: FusedBinaryOp; readonly args: readonly [number, number] }
  | { readonly op: 'where'; readonly args: readonly [number, number, number] };

/** Element types a {@link FusedProgram} reads and writes. */
export type FusedDType = 'float32' | 'bool';

/**
 * A chain (a DAG) of elementwise ops that core fused into one kernel: see {@link Backend.fused}.
 * Core never builds a program with more than {@link FUSED_MAX_BUFFERS} inputs and outputs together
 * or more than {@link FUSED_MAX_INSTRUCTIONS} instructions.
 */
export interface FusedProgram {
  /**
   * Identifies the program's structure (instructions, input and output dtypes; not the values of
   * its constants): two programs with the same key are the same program, so a backend may cache
   * what it compiles under it.
   */
  readonly key: string;
  /** Element type of each input view. */
  readonly inputs: readonly FusedDType[];
  /** Number of constants (`consts.length` of every call). */
  readonly consts: number;
  /** The instructions, in order (SSA: instruction `i` defines value `i`). */
  readonly code: readonly FusedInstr[];
  /** The values written out, one contiguous buffer each (bool stores `value != 0`). */
  readonly outputs: readonly { readonly value: number; readonly dtype: FusedDType }[];
}

/**
 * Most buffers (inputs and outputs together) of one {@link FusedProgram} (WebGPU's default limit of
 * storage buffers per shader stage).
 * @example FUSED_MAX_BUFFERS // 8
 */
export const FUSED_MAX_BUFFERS = 8;
/**
 * Most instructions of one {@link FusedProgram}.
 * @example FUSED_MAX_INSTRUCTIONS // 96
 */
export const FUSED_MAX_INSTRUCTIONS = 96;

/** Distributions for {@link Backend.random}. */
export type RandomKind = 'uniform' | 'normal' | 'bernoulli' | 'randint';

/**
 * Parameters of a 2-D sliding window over an NCHW image, shared by im2col/col2im and pooling.
 * `outH = floor((H + padTop + padBottom − dilationH·(kH−1) − 1) / strideH) + 1`, likewise `outW`.
 */
export interface Window2d {
  readonly n: number;
  readonly c: number;
  readonly h: number;
  readonly w: number;
  readonly kH: number;
  readonly kW: number;
  readonly strideH: number;
  readonly strideW: number;
  readonly padTop: number;
  readonly padLeft: number;
  readonly dilationH: number;
  readonly dilationW: number;
  readonly outH: number;
  readonly outW: number;
}

/** Bytes and buffers a backend holds right now. */
export interface BackendMemory {
  /** Bytes in buffers that are allocated and not yet freed. */
  readonly bytes: number;
  /** Number of live buffers. */
  readonly buffers: number;
  /** Bytes kept in pools for reuse (free from Axon's view, still held from the system's). */
  readonly pooledBytes?: number;
}

/**
 * The backend interface. Methods are grouped as storage (6), primitives (15) and optional fused
 * primitives (2: `reduceFused`, `matmulFused`).
 *
 * Every primitive's `out` is a fresh contiguous buffer of the documented shape and dtype.
 */
export interface Backend {
  /** Registry name, e.g. `'wasm'` or `'webgpu'`. */
  readonly name: string;
  /** Whether {@link Backend.readSync} is available. */
  readonly supportsSyncRead: boolean;
  /**
   * True when the device is a software emulation (e.g. WebGPU on SwiftShader or lavapipe):
   * `ready()` then prefers another backend, while `setBackend(name)` still selects it.
   */
  readonly emulated?: boolean;
  /**
   * Why the backend's device is gone (e.g. a WebGPU device lost to a driver reset), or undefined
   * while it works. Once set, the backend is dead: its buffers are gone and every call may throw.
   * The registry then reports it as `'lost'` and `setBackend`/`ready` create a fresh one.
   */
  readonly lostReason?: string | undefined;
  /**
   * What this backend instance uses here, for display (`axon train`, `axon info`, benchmarks):
   * e.g. WASM's `{ simd: true, relaxedSimd: true }`. Informational: core never branches on it.
   */
  readonly features?: Readonly<Record<string, boolean | number | string>>;
  /**
   * Most inputs and outputs together one {@link Backend.fused} call may have on this backend
   * (default {@link FUSED_MAX_BUFFERS}, WebGPU's limit). Core never passes more than 8 inputs nor
   * more than 8 outputs, whatever this says.
   */
  readonly maxFusedBuffers?: number;
  /**
   * Changes how many threads this backend's ops may use (`setNumThreads` calls it on every started
   * backend that has it): an integer ≥ 1, or `'auto'` for the cores available. A backend that
   * cannot use that many says so in `features` (e.g. WASM's `threads` and `threadsReason`);
   * results never depend on the count.
   */
  setThreads?(n: number | 'auto'): void;
  /**
   * Starts the backend's worker threads now, where it has them (they otherwise start on the first
   * op large enough to split), and resolves to the number of threads its ops use (WASM: 1 where
   * threads are off or could not start, and `features.threadsReason` says why). Call it before
   * timing, or to show the real count before work starts.
   */
  startThreads?(): Promise<number>;

  // ---------------------------------------------------------------- storage
  /** Allocates an uninitialised buffer of `size` elements. */
  alloc(dtype: DType, size: number): BackendBuffer;
  /** Copies `data` (length = `buf.size`, matching typed array of `buf.dtype`) into `buf`. */
  write(buf: BackendBuffer, data: TypedArray): void;
  /** Returns a copy of the buffer's contents (a fresh typed array the caller owns). */
  read(buf: BackendBuffer): Promise<TypedArray>;
  /** Synchronous {@link Backend.read}; throws when `supportsSyncRead` is false. */
  readSync(buf: BackendBuffer): TypedArray;
  /** Releases a buffer. Using it afterwards is undefined behaviour (core never does). */
  free(buf: BackendBuffer): void;
  /** Bytes and buffers held. */
  memory(): BackendMemory;

  // ---------------------------------------------------------------- primitives
  /** Sets every element of `out` to `value` (bool: nonzero → 1). */
  fill(out: BackendBuffer, value: number): void;
  /**
   * Copies `src` into the view `dst` element by element (shapes equal), converting dtype:
   * float32→int32 truncates toward zero (NaN→0, out-of-range saturates), any→bool is `x != 0`,
   * bool→number is 0/1. Materialises views (transpose, slice, broadcast), and with a strided
   * `dst` implements concat and pad. `dst` never overlaps `src`.
   */
  copy(src: View, dst: View): void;
  /** `out[i] = op(x[i])`; output dtype equals input dtype (bool for `not`). */
  unary(op: UnaryOp, x: View, out: BackendBuffer): void;
  /** `out[i] = a[i] op b[i]`; `a` and `b` have the output's shape (see {@link BinaryOp}). */
  binary(op: BinaryOp, a: View, b: View, out: BackendBuffer): void;
  /**
   * Runs a fused elementwise program: for every index `i` of the common shape, evaluates
   * `program.code` on the elements `inputs[k][i]` and writes each of `program.outputs` to
   * `outputs[j][i]` (contiguous, `outputs[j].size` = the shape's size). Every view in `inputs` has
   * the same shape (already broadcast: strides may be 0) and the dtype the program declares for it.
   * Outputs never alias inputs. The result must equal running the instructions one by one with
   * the `unary`/`binary`/`where` primitives on float32 values (within the tolerances the
   * conformance suite states for those ops); a backend may cache compiled programs by `program.key`.
   */
  fused(program: FusedProgram, inputs: readonly View[], consts: readonly number[], outputs: readonly BackendBuffer[]): void;
  /**
   * A reduction of a fused elementwise value (a prologue: the scale and mask before a softmax's
   * max, the `exp` inside its sum, the gradient before a bias's sum): evaluates `program` (exactly
   * one output, float32) at every index of `shape` as {@link Backend.fused} would, and reduces those
   * values over `axes` into `out` exactly as {@link Backend.reduce} would reduce a float32 tensor of
   * `shape` holding them (same order of accumulation is not required; the same tolerance is).
   * Every view in `inputs` has shape `shape` (broadcast: strides may be 0) and the dtype the program
   * declares; `axes` is sorted, unique and non-empty; `out` is contiguous float32 of the kept axes.
   * Core passes at most `maxFusedBuffers − 1` inputs. Optional: without it, core writes the value to
   * a buffer with `fused` and calls `reduce`.
   */
  reduceFused?(op: FusedReduceOp, program: FusedProgram, inputs: readonly View[], consts: readonly number[], shape: readonly number[], axes: readonly number[], out: BackendBuffer): void;
  /**
   * A matrix product with an elementwise epilogue (the bias and activation after a layer's
   * matmul): computes `p = a·b` as {@link Backend.matmul} would (`a` [B, M, K], `b` [B, K, N]),
   * then, for every flat index `i` in `[0, B·M·N)`, evaluates `program` as {@link Backend.fused}
   * would, with program input 0 reading `p` at `i` (row-major [B, M, N]) and program input `k ≥ 1`
   * reading `inputs[k − 1]` at index `i` of their common shape (any shape of size B·M·N, row-major;
   * strides may be 0); each program output `j` goes to `outputs[j]` (contiguous, size B·M·N).
   * `program.inputs[0]` is `'float32'`. Outputs never alias `a`, `b` or `inputs`. Core passes at most
   * `maxFusedBuffers − 2` inputs and outputs together. Optional: without it, core runs `matmul`
   * into a buffer, then `fused`.
   */
  matmulFused?(a: View, b: View, program: FusedProgram, inputs: readonly View[], consts: readonly number[], outputs: readonly BackendBuffer[]): void;
  /**
   * Scaled dot-product attention, forward, without materialising the scores (flash attention):
   * `q` is [B, Tq, D], `k` [B, Tk, D], `v` [B, Tk, Dv] (B = batch × heads already flattened and
   * broadcast by core; any strides, 0 included), `bias` null or a float32 view [B, Tq, Tk] added to
   * the scores (strides may be 0: a [Tq, Tk] mask broadcast over B is passed without a copy; entries
   * may be −Infinity). For every `b`, `i`: `s_j = scale · Σ_d q[b,i,d]·k[b,j,d] + bias[b,i,j]`, with
   * `s_j = −Infinity` for `j > i` when `causal` (top-left aligned, as PyTorch's `is_causal`);
   * `out[b,i,:] = Σ_j softmax(s)_j · v[b,j,:]` (contiguous float32 [B, Tq, Dv]) and
   * `lse[b,i] = log Σ_j exp(s_j)` (contiguous float32 [B, Tq]; the backward pass reads it). A row whose
   * scores are all −Infinity gives NaN in `out` (as PyTorch) and −Infinity in `lse`; NaN scores
   * propagate. Accumulates in float32 in any order (online softmax); the conformance suite states the
   * tolerance. B, Tq, D or Dv may be zero (D = 0: every dot product is 0); core never passes Tk = 0.
   * Optional: without it core computes the scores with `matmul`, the softmax with
   * `reduce`/`fused`, and the product with `matmul`, materialising [B, Tq, Tk].
   */
  attention?(q: View, k: View, v: View, bias: View | null, scale: number, causal: boolean, out: BackendBuffer, lse: BackendBuffer): void;
  /**
   * Gradients of {@link Backend.attention} without materialising the scores (FlashAttention-2's
   * backward): `q`, `k`, `v`, `bias`, `scale` and `causal` are the forward's (same shapes and
   * conventions: views [B, T, D] with any strides, 0 included); `out` is the forward's output and
   * `dOut` its gradient (float32 views [B, Tq, Dv], any strides), `lse` the forward's log-sum-exp
   * (a float32 view [B, Tq]). With `s_ij` the forward's masked scores and `D_i = Σ_c dOut[i,c]·out[i,c]`:
   * `P_ij = exp(s_ij − lse_i)`, `dP_ij = Σ_c dOut[i,c]·v[j,c]`, `dS_ij = P_ij·(dP_ij − D_i)`;
   * `dq[b,i,:] = scale·Σ_j dS_ij·k[b,j,:]`, `dk[b,j,:] = scale·Σ_i dS_ij·q[b,i,:]`,
   * `dv[b,j,:] = Σ_i P_ij·dOut[b,i,:]` — contiguous float32 buffers of [B, Tq, D], [B, Tk, D] and
   * [B, Tk, Dv], written for each `b` even where q, k or v has batch stride 0 (core sums them). A row
   * whose scores are all −Infinity (`lse_i = −Infinity`, NaN `out`) contributes nothing: its `dq` row
   * is 0 and it adds nothing to `dk`/`dv` (as PyTorch's fused kernels; `D_i` is taken as 0, so NaN never
   * reaches other rows). Accumulates in float32 in any order; the conformance suite states the
   * tolerance. B, Tq, D or Dv may be zero; core never passes Tk = 0, and calls it only with grad mode
   * off (higher-order gradients use the composite ops) and when the bias needs no gradient.
   * Optional: without it core's rule recomputes the weights with `matmul`/softmax ops,
   * materialising [B, Tq, Tk].
   */
  attentionBackward?(q: View, k: View, v: View, bias: View | null, scale: number, causal: boolean, out: View, dOut: View, lse: View, dq: BackendBuffer, dk: BackendBuffer, dv: BackendBuffer): void;
  /**
   * The stable sorting permutation of each row: `x` is a [rows, n] view (float32 or int32; any
   * strides, 0 included), `out` a contiguous int32 buffer of rows·n elements where row `r` receives
   * the column indices `0 … n−1` of row `r` of `x` in sorted order. Order: ascending, or descending
   * when `descending`; float32 NaN (any payload or sign) is the largest value — after +Infinity
   * ascending, first descending — and all NaNs are equal; −0 and +0 are equal; int32 compares as
   * signed. Equal elements keep their column order in both directions (a stable sort: descending
   * is *not* the ascending permutation reversed). Rows or n may be zero (then it must not touch
   * memory). Optional: without it core sorts with a bitonic network of `gather`/`where`
   * (log²n stages of ~20 primitive calls each); bool inputs reach it as int32.
   */
  sort?(x: View, descending: boolean, out: BackendBuffer): void;
  /** `out[i] = cond[i] ? a[i] : b[i]`; `cond` bool; `a`, `b` and `out` share one dtype. */
  where(cond: View, a: View, b: View, out: BackendBuffer): void;
  /**
   * Reduces `x` over `axes` (sorted, unique, each in [0, rank)). `out` holds the kept axes in
   * order (contiguous), size = product of kept dims. Output dtype: x's for sum/prod/max/min
   * (bool inputs are never passed), int32 for argmax/argmin.
   */
  reduce(op: ReduceOp, x: View, axes: readonly number[], out: BackendBuffer): void;
  /**
   * Batched matrix product: `a` is [B, M, K], `b` is [B, K, N] (batch already broadcast,
   * arbitrary strides — a transposed operand arrives as a view and must be as fast as a
   * contiguous one), `out` is [B, M, N] float32. Accumulates in float32.
   */
  matmul(a: View, b: View, out: BackendBuffer): void;
  /**
   * Unfolds sliding windows: `x` is a float32 NCHW view [n, c, h, w]; `out` is
   * [n, c·kH·kW, outH·outW] with row index `(ci·kH + ki)·kW + kj` and column `oy·outW + ox`;
   * padding reads as 0.
   */
  im2col(x: View, win: Window2d, out: BackendBuffer): void;
  /**
   * Adjoint of {@link Backend.im2col}: `cols` is [n, c·kH·kW, outH·outW]; `out` is [n, c, h, w],
   * each element the sum of every column entry that im2col read from it (padding discarded).
   */
  col2im(cols: View, win: Window2d, out: BackendBuffer): void;
  /**
   * 2-D pooling over an NCHW float32 view; `out` is [n, c, outH, outW].
   * `max`: maximum over the window ignoring padding (a window of only padding gives −Infinity);
   * `avg`: sum over the window divided by the number of non-padding elements.
   */
  pool2d(op: 'max' | 'avg', x: View, win: Window2d, out: BackendBuffer): void;
  /**
   * Gradient of {@link Backend.pool2d}: `dy` is [n, c, outH, outW]; `x` the forward input;
   * `out` is [n, c, h, w]. `max` routes each dy to the first maximal element of its window;
   * `avg` spreads dy evenly over the window's non-padding elements.
   */
  pool2dGrad(op: 'max' | 'avg', x: View, dy: View, win: Window2d, out: BackendBuffer): void;
  /**
   * Gathers along one axis: `x` is [outer, n, inner], `indices` an int32 view [m];
   * `out` is [outer, m, inner] with `out[o, j, i] = x[o, indices[j], i]`.
   * Core validates indices (0 ≤ idx < n) whenever it can see them on the host (synchronous
   * backends, and index tensors made from host data); an index that still arrives out of range
   * must not make the backend touch memory outside the buffers.
   */
  gather(x: View, indices: View, out: BackendBuffer): void;
  /**
   * Adjoint of {@link Backend.gather}: `updates` is [outer, m, inner], `indices` int32 [m];
   * `out` is [outer, n, inner], zero-filled, then `out[o, indices[j], i] += updates[o, j, i]`
   * (duplicates accumulate).
   */
  scatterAdd(updates: View, indices: View, n: number, out: BackendBuffer): void;
  /**
   * Fills `out` from Axon's counter-based generator so that every backend yields the same bits
   * (see `random.ts` in core, which is the normative reference):
   * element `i` uses the 32-bit word(s) `hash(key, counter + i)` (uniform, bernoulli, randint)
   * or `hash(key, counter + 2i)`, `hash(key, counter + 2i + 1)` (normal, Box–Muller).
   * `a`, `b`: uniform [a, b); normal mean a, std b; bernoulli probability a (out bool or
   * float32 0/1); randint [a, b) (out int32).
   */
  random(kind: RandomKind, key: number, counter: number, a: number, b: number, out: BackendBuffer): void;

  /** Waits until all submitted work is done (a no-op for synchronous backends). */
  sync(): Promise<void>;
  /** Releases everything the backend holds. */
  dispose(): void;
}

/** How a backend is registered: a factory so that a backend that cannot start costs nothing. */
export interface BackendFactory {
  readonly name: string;
  /** Higher wins when choosing the default backend. */
  readonly priority: number;
  /**
   * Creates the backend, or throws / rejects with a reason when it cannot start here
   * (e.g. "navigator.gpu is undefined"); the reason is shown by `backends()`.
   * `auto` is true when `ready()` is choosing a default: a backend that could only run on a
   * software-emulated device may then decline (with that reason) instead of starting one;
   * `setBackend(name)` always calls `create` without it.
   */
  create(opts?: { auto?: boolean }): Backend | Promise<Backend>;
}
