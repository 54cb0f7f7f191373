/**
 * The WebGPU backend: storage in pooled GPU buffers, every primitive a WGSL compute kernel,
 * dispatches batched into few command buffers.
 */
import {
  AxonError,
  type Backend,
  fmtValue,
  type BackendBuffer,
  type BackendMemory,
  type BinaryOp,
  type DType,
  FUSED_MAX_BUFFERS,
  type FusedProgram,
  type FusedReduceOp,
  type RandomKind,
  type ReduceOp,
  type TypedArray,
  type UnaryOp,
  type View,
  type Window2d,
} from '@axon/core';
import { ATB, type AttentionBackwardPlan, attentionBackwardStorage, attentionDeltaSource, attentionKVGradSource, attentionQGradSource } from './attention-backward.js';
import type { Acquired } from './device.js';
import {
  ATT,
  type AttentionPlan,
  attentionSource,
  attentionStorage,
  binaryExpr,
  binaryOutDtype,
  col2imSource,
  convertExpr,
  fillSource,
  epilogueLayout,
  type FusedAccess,
  fusedLayout,
  fusedSource,
  gatherSource,
  im2colSource,
  mapSource,
  matmulEpilogue,
  matmulSource,
  matmulTiledSource,
  MM,
  poolGradSource,
  poolSource,
  randomSource,
  reduceFusedLayout,
  reduceFusedSource,
  reduceLayout,
  reduceSource,
  scatterAtomicSource,
  scatterLoopSource,
  unaryExpr,
  WIN,
} from './kernels.js';
import { FMATH, PARAMS_U32 } from './wgsl.js';
import { SRT, type SortLocalMode, sortLocalSource, sortStepSource } from './sort.js';
import { checkFusedProgram, fusedSignature } from './fused.js';
import { collapse, contiguousStrides, f32Bits, fround, numel, sizeClass } from './util.js';

// GPUBufferUsage / GPUMapMode values (spelled out so that no global needs to exist in Node).
const MAP_READ = 0x0001;
const COPY_SRC = 0x0004;
const COPY_DST = 0x0008;
const UNIFORM = 0x0040;
const STORAGE = 0x0080;
/**
 * Uncaptured GPU errors that mean the device itself is gone (Vulkan/D3D/Metal device loss or
 * removal as Dawn and browsers word it), not an error in one operation.
 */
const DEVICE_GONE = /VK_ERROR_DEVICE_LOST|DXGI_ERROR_DEVICE_(?:REMOVED|RESET|HUNG)|\bdevice (?:is |was |has been )?(?:lost|destroyed|removed)\b|\blost device\b|GPU process (?:crashed|exited)/i;
/** u32 parameters visible to one dispatch (the params binding's fixed size; its offset is dynamic). */
const PARAMS_BIND = PARAMS_U32;

/** The primitives that run a {@link FusedProgram}. */
type FusedOpName = 'fused' | 'reduceFused' | 'matmulFused';
const REDUCE_FUSED_OPS: readonly FusedReduceOp[] = ['sum', 'prod', 'max', 'min'];

/**
 * The attention kernel's shapes, best first: the first that fits the adapter's workgroup size and
 * storage is used (the second fits WebGPU's default limits, 16 KiB of workgroup memory and 256
 * invocations; the smaller ones serve stricter adapters).
 */
const ATTENTION_PLANS: readonly AttentionPlan[] = [
  { wg: 64, bq: 16, bk: 16, dq: 128, cv: 128 },
  { wg: 64, bq: 16, bk: 8, dq: 128, cv: 128 },
  { wg: 16, bq: 4, bk: 4, dq: 16, cv: 16 },
  { wg: 1, bq: 1, bk: 1, dq: 4, cv: 4 },
];

/**
 * The attention backward kernels' shapes, best first (see {@link AttentionBackwardPlan}): the first
 * that fits the adapter's workgroup size and storage is used (the first fits WebGPU's defaults).
 */
const ATTENTION_BACKWARD_PLANS: readonly AttentionBackwardPlan[] = [
  { wg: 64, bq: 16, ch: 64 },
  { wg: 16, bq: 4, ch: 16 },
  { wg: 1, bq: 1, ch: 4 },
];

/** Whether a reduction of R elements into `outSize` outputs runs one invocation per output (else one workgroup per output). */
function reducePerThread(R: number, outSize: number): boolean {
  return R <= 64 || (outSize >= 4096 && R <= 1024);
}

/** How each operand of merged dims `c` walks the flat index: contiguous, one element, or strided. */
function accessOf(c: { shape: readonly number[]; strides: readonly (readonly number[])[] }): FusedAccess[] {
  const cstr = contiguousStrides(c.shape);
  return c.strides.map((st) => (st.every((x) => x === 0) ? 's' : st.every((x, d) => x === cstr[d]) ? 'c' : 'r'));
}

/** Fills the fused part of a parameter block (see `epilogueLayout`): constants' bits, shape (when `rank` > 0), offsets and strides. */
function epilogueParams(
  params: number[],
  L: { readonly constAt: number; readonly shapeAt: number; readonly opAt: readonly number[] },
  consts: readonly number[],
  c: { shape: readonly number[]; strides: readonly (readonly number[])[] },
  inputs: readonly View[],
  access: readonly FusedAccess[],
  rank: number,
): void {
  consts.forEach((x, i) => (params[L.constAt + i] = f32Bits(x)));
  if (rank > 0) c.shape.forEach((d, i) => (params[L.shapeAt + i] = d));
  inputs.forEach((v, k) => {
    params[L.opAt[k]!] = v.offset;
    if (access[k] === 'r') c.strides[k]!.forEach((s, d) => (params[L.opAt[k]! + 1 + d] = s));
  });
}

/**
 * Throws unless view `v` (named `what`) has integer non-negative dims and strides and stays within a
 * buffer of `size` elements; with `rank`, also that it has that rank.
 */
function checkViewLayout(op: string, what: string, v: View, size: number, rank?: number): void {
  if (rank !== undefined && (!Array.isArray(v.shape) || !Array.isArray(v.strides) || v.shape.length !== rank || v.strides.length !== rank)) {
    throw new AxonError(op, `${what} must be a rank-${rank} view, got shape ${fmtValue(v.shape)} and strides ${fmtValue(v.strides)}`);
  }
  let last = v.offset;
  let empty = false;
  for (let d = 0; d < v.shape.length; d++) {
    const n = v.shape[d]!;
    const s = v.strides[d]!;
    if (!Number.isInteger(n) || n < 0 || !Number.isInteger(s) || s < 0) throw new AxonError(op, `${what} has an invalid shape [${v.shape.join(',')}] / strides [${v.strides.join(',')}]`);
    if (n === 0) empty = true;
    else last += (n - 1) * s;
  }
  if (!Number.isInteger(v.offset) || v.offset < 0 || (!empty && last >= size)) {
    throw new AxonError(op, `${what} (shape [${v.shape.join(',')}], strides [${v.strides.join(',')}], offset ${v.offset}) reaches element ${last} of a ${size}-element buffer`);
  }
}

/** A buffer of the WebGPU backend. Every dtype is stored as 4 bytes per element (bool as u32 0/1). */
export class WebGPUBuffer implements BackendBuffer {
  /** @internal */
  gpu: GPUBuffer | null;
  constructor(
    readonly size: number,
    readonly dtype: DType,
    gpu: GPUBuffer,
    /** @internal capacity in bytes (the size class) */
    readonly capacity: number,
  ) {
    this.gpu = gpu;
  }
}

/** Tunables of {@link WebGPUBackend}. */
export interface WebGPUOptions {
  /** Dispatches encoded before a command buffer is submitted without waiting for a read (default 64). */
  readonly maxDispatchesPerSubmit?: number;
  /** Bytes of freed buffers kept for reuse (default 256 MiB). */
  readonly maxPooledBytes?: number;
  /**
   * Caps maxComputeWorkgroupsPerDimension below the adapter's (tests use it to exercise the 2-D
   * dispatch path on small sizes).
   */
  readonly maxWorkgroupsPerDimension?: number;
  /**
   * Compiled fused programs kept (default 1024): beyond it the least recently used one is dropped
   * (and compiled again if it comes back).
   */
  readonly maxFusedPipelines?: number;
}

interface Pipe {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
  /** Names the bind group layout (bind groups are cached per layout and buffers). */
  layoutKey: string;
}

/** The bind group layout of a kernel: binding 0 the params, then read-only inputs, then writable outputs. */
interface LayoutSpec {
  readonly inputs: number;
  readonly outputs: number;
  /** Params bound as a uniform buffer (so that they do not count as a storage buffer). */
  readonly uniformParams: boolean;
}

function asBuf(b: BackendBuffer, op: string): WebGPUBuffer {
  if (!(b instanceof WebGPUBuffer)) throw new AxonError(op, 'buffer does not belong to the webgpu backend');
  if (!b.gpu) throw new AxonError(op, 'buffer was freed');
  return b;
}

/** Adapter limits the kernels respect. */
export interface WebGPULimits {
  readonly maxStorageBufferBindingSize: number;
  readonly maxBufferSize: number;
  readonly maxComputeInvocationsPerWorkgroup: number;
  readonly maxComputeWorkgroupSizeX: number;
  readonly maxComputeWorkgroupSizeY: number;
  readonly maxComputeWorkgroupsPerDimension: number;
  readonly maxComputeWorkgroupStorageSize: number;
  readonly minStorageBufferOffsetAlignment: number;
  readonly minUniformBufferOffsetAlignment: number;
  readonly maxStorageBuffersPerShaderStage: number;
}

/**
 * Axon's WebGPU backend: buffers on a GPU device, every primitive a WGSL compute kernel, commands
 * batched into few submits. Reads are asynchronous only (`supportsSyncRead` is false): use
 * `await t.data()`. Import `@axon/backend-webgpu` to register it (name `'webgpu'`, priority 2).
 * @example
 * ```ts
 * const b = (await setBackend('webgpu')) as WebGPUBackend;
 * b.name // 'webgpu'
 * b.supportsSyncRead // false
 * b.wg <= b.limits.maxComputeInvocationsPerWorkgroup // true
 * ```
 */
export class WebGPUBackend implements Backend {
  readonly name = 'webgpu';
  readonly supportsSyncRead = false;
  readonly emulated: boolean;
  /** One line naming the adapter. */
  readonly adapterDescription: string;
  /** Where the implementation came from (`navigator.gpu` or the `webgpu` npm package). */
  readonly source: string;
  readonly device: GPUDevice;
  /** The GPU object (navigator.gpu or Dawn's instance), kept reachable while the device lives. */
  readonly gpu: GPU;
  readonly limits: WebGPULimits;
  /** Workgroup size of 1-D kernels (a power of two ≤ the adapter's limits, at most 256). */
  readonly wg: number;

  private readonly maxDispatches: number;
  private readonly maxPooled: number;
  private readonly maxFusedPipelines: number;
  private readonly pipelines = new Map<string, Pipe>();
  private readonly bindGroups = new Map<string, GPUBindGroup>();
  private readonly bindGroupKeys = new Map<number, string[]>();
  private readonly ids = new WeakMap<GPUBuffer, number>();
  private nextId = 1;
  private readonly layouts = new Map<string, { bind: GPUBindGroupLayout; pipe: GPUPipelineLayout }>();
  /** Per fused program key, its structure (a key reused for another program is an error) and the program objects already checked. */
  private readonly fusedKeys = new Map<string, string>();
  private readonly fusedChecked: Record<FusedOpName, WeakSet<FusedProgram>> = { fused: new WeakSet(), reduceFused: new WeakSet(), matmulFused: new WeakSet() };
  /** Keys of the fused pipelines in `pipelines`, least recently used first. */
  private readonly fusedPipes = new Set<string>();
  private readonly pool = new Map<number, GPUBuffer[]>();
  private readonly stagingPool = new Map<number, GPUBuffer[]>();
  private pooledBytes = 0;
  private liveBytes = 0;
  private liveBuffers = 0;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private dispatches = 0;
  private readonly batchUsed = new Set<GPUBuffer>();
  private toDestroy: GPUBuffer[] = [];
  private params: Uint32Array;
  private paramsUsed = 0;
  private readonly paramsAlign: number;
  private readonly paramsGPU: GPUBuffer;
  private lost: string | undefined = undefined;
  private pendingError: string | null = null;
  /** Rejects (with the AxonError naming the loss) once the device is lost: pending reads race it. */
  private readonly lostPromise: Promise<never>;
  private rejectLost: (e: AxonError) => void = () => undefined;
  private disposed = false;
  /** Matmul kernel shape: workgroup tx × ty invocations of 4×4 outputs; tk > 0 stages K-panels of tk in workgroup memory. */
  matmulConfig: { tx: number; ty: number; tk: number; unroll?: number } = { tx: 8, ty: 8, tk: 0, unroll: 1 };
  /**
   * Attention kernel shape (see {@link AttentionPlan}); `null` (the default) picks the first of the
   * built-in shapes that fits this adapter's limits. Tests set small shapes to cross tile edges with
   * small tensors.
   */
  attentionConfig: AttentionPlan | null = null;
  /**
   * Attention backward kernels' shape (see {@link AttentionBackwardPlan}); `null` (the default) picks
   * the first built-in shape that fits this adapter's limits. Tests set small shapes to cross tile
   * edges with small tensors.
   */
  attentionBackwardConfig: AttentionBackwardPlan | null = null;
  /**
   * Elements the sort kernel orders in workgroup memory (a power of two ≥ 2); `null` (the default)
   * takes the largest up to 2048 that the adapter's workgroup memory holds (8 bytes an element). A
   * longer row runs the global steps; tests set a small tile to cross it with small tensors.
   */
  sortTile: number | null = null;
  /** Number of command buffers submitted so far (for tests and tuning). */
  submits = 0;

  constructor(acq: Acquired, opts: WebGPUOptions = {}) {
    this.device = acq.device;
    this.gpu = acq.gpu;
    this.emulated = acq.emulated;
    this.adapterDescription = acq.description;
    this.source = acq.source;
    const l = acq.device.limits;
    this.limits = {
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxBufferSize: l.maxBufferSize,
      maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
      maxComputeWorkgroupSizeY: l.maxComputeWorkgroupSizeY,
      maxComputeWorkgroupsPerDimension: Math.min(l.maxComputeWorkgroupsPerDimension, opts.maxWorkgroupsPerDimension ?? Infinity),
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
      minStorageBufferOffsetAlignment: l.minStorageBufferOffsetAlignment,
      minUniformBufferOffsetAlignment: l.minUniformBufferOffsetAlignment,
      maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
    };
    let wg = 1;
    while (wg * 2 <= Math.min(256, l.maxComputeInvocationsPerWorkgroup, l.maxComputeWorkgroupSizeX)) wg *= 2;
    // the reduce kernels keep one value and one index per invocation in workgroup memory
    while (wg > 1 && wg * 8 > l.maxComputeWorkgroupStorageSize) wg /= 2;
    this.wg = wg;
    this.maxDispatches = opts.maxDispatchesPerSubmit ?? 64;
    this.maxPooled = opts.maxPooledBytes ?? 256 * 2 ** 20;
    this.maxFusedPipelines = Math.max(1, opts.maxFusedPipelines ?? 1024);
    // one params buffer serves both bindings: storage for most kernels, uniform for fused ones
    this.paramsAlign = Math.max(1, l.minStorageBufferOffsetAlignment / 4, l.minUniformBufferOffsetAlignment / 4);
    this.params = new Uint32Array(64 * 1024);
    this.paramsGPU = this.device.createBuffer({ size: this.params.byteLength, usage: STORAGE | UNIFORM | COPY_DST });
    this.lostPromise = new Promise<never>((_, reject) => {
      this.rejectLost = reject;
    });
    this.lostPromise.catch(() => undefined);
    acq.device.lost.then(
      (info) => {
        // our own dispose() destroys the device too: that is not a loss
        if (!this.disposed) this.markLost(`device lost (${info.reason ?? 'unknown'})${info.message ? `: ${info.message}` : ''}`);
      },
      () => undefined,
    );
    this.device.addEventListener?.('uncapturederror', (ev: Event) => {
      const err = (ev as GPUUncapturedErrorEvent).error as GPUError | undefined;
      const msg = err?.message ?? String(err);
      if (DEVICE_GONE.test(msg)) {
        const kind = /^GPU\w*Error$/.test(err?.constructor?.name ?? '') ? err!.constructor.name : 'error';
        if (!this.disposed) this.markLost(`device lost (uncaptured ${kind}): ${msg}`);
      } else this.pendingError ??= msg;
    });
  }

  // ---------------------------------------------------------------- errors

  /**
   * Why the device is gone (`"device lost (destroyed): …"`, `"device lost (unknown): …"`, or an
   * uncaptured GPU error that means the device is gone), or `undefined` while it works. Once set,
   * every method except {@link WebGPUBackend.free}, {@link WebGPUBackend.memory} and
   * {@link WebGPUBackend.dispose} throws an AxonError naming it, and the registry reports the backend
   * as `'lost'`; `await setBackend('webgpu')` then starts a fresh backend on a fresh device.
   * @example
   * ```ts
   * const b = (await setBackend('webgpu')) as WebGPUBackend;
   * b.lostReason // undefined
   * b.device.destroy(); // what a driver reset does to the device
   * await b.device.lost;
   * b.lostReason!.startsWith('device lost (destroyed)') // true
   * backends().find((i) => i.name === 'webgpu')!.status // 'lost'
   * const fresh = await setBackend('webgpu'); // a fresh backend on a fresh device
   * fresh === b // false
   * fresh.lostReason // undefined
   * ```
   */
  get lostReason(): string | undefined {
    return this.lost;
  }

  /** Records the loss (first reason wins), drops what lived on the device and rejects pending reads. */
  private markLost(reason: string): void {
    if (this.lost !== undefined) return;
    this.lost = reason;
    // Everything on the device is gone: pooled buffers and batched commands are dropped (live
    // buffers stay counted in memory() until their tensors are disposed, which must not throw).
    this.encoder = null;
    this.pass = null;
    this.dispatches = 0;
    this.paramsUsed = 0;
    this.batchUsed.clear();
    this.toDestroy = [];
    this.pool.clear();
    this.stagingPool.clear();
    this.pooledBytes = 0;
    this.bindGroups.clear();
    this.bindGroupKeys.clear();
    this.pendingError = null;
    this.rejectLost(this.lostError('webgpu'));
  }

  private lostError(op: string): AxonError {
    return new AxonError(
      op,
      `the webgpu backend lost its device (${this.lost}); call \`await setBackend('webgpu')\` to start a fresh one (tensors on the lost device are gone and must be recreated)`,
    );
  }

  /** Throws the device loss, the backend's disposal or a pending GPU error as an AxonError. */
  private check(op: string): void {
    if (this.lost !== undefined) throw this.lostError(op);
    if (this.disposed) throw new AxonError(op, 'the webgpu backend was disposed');
    if (this.pendingError !== null) {
      const msg = this.pendingError;
      this.pendingError = null;
      throw new AxonError(op, `a WebGPU error occurred in an earlier operation: ${msg}`);
    }
  }

  // ---------------------------------------------------------------- storage

  alloc(dtype: DType, size: number): BackendBuffer {
    this.check('alloc');
    if (!Number.isInteger(size) || size < 0) throw new AxonError('alloc', `size must be a non-negative integer, got ${size}`);
    const bytes = Math.max(4, size * 4);
    const limit = Math.min(this.limits.maxStorageBufferBindingSize, this.limits.maxBufferSize);
    if (bytes > limit) {
      throw new AxonError(
        'alloc',
        `a ${dtype} buffer of ${size} elements needs ${bytes} bytes, more than this adapter allows in one storage binding (maxStorageBufferBindingSize ${this.limits.maxStorageBufferBindingSize}, maxBufferSize ${this.limits.maxBufferSize})`,
      );
    }
    let cls = sizeClass(bytes);
    if (cls > limit) cls = Math.ceil(bytes / 4) * 4;
    let gpu = this.pool.get(cls)?.pop();
    if (gpu) this.pooledBytes -= cls;
    else gpu = this.createBuffer(cls, STORAGE | COPY_SRC | COPY_DST, 'alloc');
    this.liveBytes += size * 4;
    this.liveBuffers++;
    return new WebGPUBuffer(size, dtype, gpu, cls);
  }

  private createBuffer(size: number, usage: number, op: string): GPUBuffer {
    this.device.pushErrorScope('out-of-memory');
    const b = this.device.createBuffer({ size, usage });
    this.device
      .popErrorScope()
      .then((err) => {
        if (err) this.pendingError ??= `out of memory allocating a ${size}-byte GPU buffer (${op}): ${err.message}`;
      })
      .catch(() => undefined);
    return b;
  }

  write(buf: BackendBuffer, data: TypedArray): void {
    this.check('write');
    const b = asBuf(buf, 'write');
    if (data.length !== b.size) throw new AxonError('write', `data has ${data.length} elements, buffer ${b.size}`);
    if (b.size === 0) return;
    // queue.writeBuffer runs before commands still being encoded: flush any that use this buffer.
    if (this.batchUsed.has(b.gpu!)) this.flush();
    let src: Float32Array | Int32Array | Uint32Array;
    if (b.dtype === 'bool') {
      src = new Uint32Array(b.size);
      for (let i = 0; i < b.size; i++) src[i] = data[i] ? 1 : 0;
    } else if (b.dtype === 'float32') {
      src = data instanceof Float32Array ? data : Float32Array.from(data);
    } else {
      src = data instanceof Int32Array ? data : Int32Array.from(data);
    }
    this.device.queue.writeBuffer(b.gpu!, 0, src.buffer, src.byteOffset, b.size * 4);
  }

  async read(buf: BackendBuffer): Promise<TypedArray> {
    this.check('read');
    const b = asBuf(buf, 'read');
    const bytes = b.size * 4;
    if (bytes === 0) return b.dtype === 'float32' ? new Float32Array(0) : b.dtype === 'int32' ? new Int32Array(0) : new Uint8Array(0);
    const cls = sizeClass(bytes);
    const staging = this.stagingPool.get(cls)?.pop() ?? this.createBuffer(cls, MAP_READ | COPY_DST, 'read');
    this.endPass();
    this.encoder ??= this.device.createCommandEncoder();
    this.encoder.copyBufferToBuffer(b.gpu!, 0, staging, 0, bytes);
    this.flush();
    try {
      await Promise.race([staging.mapAsync(MAP_READ, 0, bytes), this.lostPromise]);
    } catch (e) {
      // A map aborted by device loss may reject before `device.lost` resolves: give the loss a
      // moment to arrive so that the error names it.
      if (this.lost === undefined && !this.disposed) await Promise.race([this.lostPromise.catch(() => undefined), new Promise((r) => setTimeout(r, 100))]);
      this.check('read');
      throw new AxonError('read', `mapping the staging buffer failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    const raw = staging.getMappedRange(0, bytes);
    let out: TypedArray;
    if (b.dtype === 'float32') out = new Float32Array(raw.slice(0));
    else if (b.dtype === 'int32') out = new Int32Array(raw.slice(0));
    else {
      const u = new Uint32Array(raw);
      out = new Uint8Array(b.size);
      for (let i = 0; i < b.size; i++) out[i] = u[i]! ? 1 : 0;
    }
    staging.unmap();
    let list = this.stagingPool.get(cls);
    if (!list) this.stagingPool.set(cls, (list = []));
    if (list.length < 4) list.push(staging);
    else staging.destroy();
    this.check('read');
    return out;
  }

  readSync(_buf: BackendBuffer): TypedArray {
    this.check('readSync');
    throw new AxonError(
      'readSync',
      'the webgpu backend cannot read GPU memory synchronously (supportsSyncRead is false): use `await t.data()` / `await t.array()` instead of the *Sync readers',
    );
  }

  free(buf: BackendBuffer): void {
    if (!(buf instanceof WebGPUBuffer) || !buf.gpu) return;
    const gpu = buf.gpu;
    buf.gpu = null;
    this.liveBytes -= buf.size * 4;
    this.liveBuffers--;
    if (this.disposed || this.lost !== undefined) return; // the device's buffers are already gone
    if (this.pooledBytes + buf.capacity <= this.maxPooled) {
      let list = this.pool.get(buf.capacity);
      if (!list) this.pool.set(buf.capacity, (list = []));
      list.push(gpu);
      this.pooledBytes += buf.capacity;
    } else if (this.encoder) {
      this.toDestroy.push(gpu); // still referenced by commands being encoded
    } else {
      this.destroyBuffer(gpu);
    }
  }

  memory(): BackendMemory {
    return { bytes: this.liveBytes, buffers: this.liveBuffers, pooledBytes: this.pooledBytes };
  }

  /** Destroys every pooled (free) buffer (nothing to do once the device is lost or disposed). */
  releasePool(): void {
    if (this.disposed || this.lost !== undefined) return;
    this.flush();
    for (const list of this.pool.values()) for (const b of list) this.destroyBuffer(b);
    this.pool.clear();
    this.pooledBytes = 0;
  }

  // ---------------------------------------------------------------- command batching

  /** Explicit layout: binding 0 the params (dynamic offset), then the read-only inputs, then the writable outputs. */
  private bindLayout(spec: LayoutSpec): { key: string; bind: GPUBindGroupLayout; pipe: GPUPipelineLayout } {
    const key = `${spec.inputs}/${spec.outputs}${spec.uniformParams ? 'u' : 's'}`;
    let l = this.layouts.get(key);
    if (!l) {
      const entries: GPUBindGroupLayoutEntry[] = [];
      entries.push({ binding: 0, visibility: 4 /* COMPUTE */, buffer: { type: spec.uniformParams ? 'uniform' : 'read-only-storage', hasDynamicOffset: true } });
      for (let i = 1; i <= spec.inputs; i++) entries.push({ binding: i, visibility: 4, buffer: { type: 'read-only-storage' } });
      for (let j = 0; j < spec.outputs; j++) entries.push({ binding: spec.inputs + 1 + j, visibility: 4, buffer: { type: 'storage' } });
      const bind = this.device.createBindGroupLayout({ entries });
      l = { bind, pipe: this.device.createPipelineLayout({ bindGroupLayouts: [bind] }) };
      this.layouts.set(key, l);
    }
    return { key, ...l };
  }

  private pipeline(key: string, source: string | (() => string), spec: LayoutSpec): Pipe {
    let p = this.pipelines.get(key);
    if (!p) {
      const layout = this.bindLayout(spec);
      const module = this.device.createShaderModule({ code: typeof source === 'string' ? source : source() });
      this.device.pushErrorScope('validation');
      const pipeline = this.device.createComputePipeline({ layout: layout.pipe, compute: { module, entryPoint: 'main' } });
      this.device
        .popErrorScope()
        .then(async (err) => {
          if (!err) return;
          const info = await module.getCompilationInfo?.().catch(() => null);
          const msgs = info?.messages?.map((m) => `${m.lineNum}:${m.linePos} ${m.message}`).join('\n') ?? '';
          this.pendingError ??= `internal error: a WGSL kernel failed to compile: ${err.message}\n${msgs}`;
        })
        .catch(() => undefined);
      p = { pipeline, layout: layout.bind, layoutKey: layout.key };
      this.pipelines.set(key, p);
    }
    return p;
  }

  /**
   * Number of distinct pipelines compiled so far (each kernel and dtype combination once).
   * @example
   * const b = await createWebGPUBackend();
   * const before = b.pipelineCount;
   * const x = b.alloc('float32', 4);
   * b.fill(x, 1);
   * b.pipelineCount > before // true
   * b.dispose();
   */
  get pipelineCount(): number {
    return this.pipelines.size;
  }

  private endPass(): void {
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
  }

  /** Submits everything encoded so far. */
  flush(): void {
    if (!this.encoder) return;
    this.endPass();
    if (this.paramsUsed > 0) this.device.queue.writeBuffer(this.paramsGPU, 0, this.params.buffer, 0, this.paramsUsed * 4);
    this.device.queue.submit([this.encoder.finish()]);
    this.submits++;
    this.encoder = null;
    this.paramsUsed = 0;
    this.dispatches = 0;
    this.batchUsed.clear();
    for (const b of this.toDestroy) this.destroyBuffer(b);
    this.toDestroy = [];
  }

  /**
   * Encodes one dispatch: `source` specialised kernel, `params` at binding 0, then the buffers at
   * bindings 1.. (inputs first, the `outputs` last: one unless said), `groups` workgroups.
   */
  private dispatch(
    op: string,
    kernel: string | readonly [key: string, make: () => string],
    params: readonly number[],
    buffers: readonly GPUBuffer[],
    groups: readonly [number, number, number],
    layout: { outputs: number; uniformParams: boolean } = { outputs: 1, uniformParams: false },
  ): void {
    this.check(op);
    const spec: LayoutSpec = { inputs: buffers.length - layout.outputs, outputs: layout.outputs, uniformParams: layout.uniformParams };
    const pipe = typeof kernel === 'string' ? this.pipeline(kernel, kernel, spec) : this.pipeline(kernel[0], kernel[1], spec);
    if (params.length > PARAMS_BIND) throw new AxonError(op, `internal error: ${params.length} kernel parameters (max ${PARAMS_BIND})`);
    if (this.dispatches >= this.maxDispatches || this.paramsUsed + PARAMS_BIND > this.params.length) this.flush();
    const off = this.paramsUsed;
    for (let i = 0; i < params.length; i++) this.params[off + i] = params[i]! >>> 0;
    this.paramsUsed = Math.ceil((off + Math.max(1, params.length)) / this.paramsAlign) * this.paramsAlign;
    this.encoder ??= this.device.createCommandEncoder();
    this.pass ??= this.encoder.beginComputePass();
    for (const b of buffers) this.batchUsed.add(b);
    this.pass.setPipeline(pipe.pipeline);
    this.pass.setBindGroup(0, this.bindGroup(pipe, buffers), [off * 4]);
    this.pass.dispatchWorkgroups(groups[0], groups[1], groups[2]);
    this.dispatches++;
  }

  /** Bind groups are cached by buffers (the params offset is dynamic): creating one per dispatch costs ~20–100× more. */
  private bindGroup(pipe: Pipe, buffers: readonly GPUBuffer[]): GPUBindGroup {
    const layout = pipe.layout;
    let key = pipe.layoutKey;
    for (const b of buffers) key += `,${this.bufferId(b)}`;
    let bg = this.bindGroups.get(key);
    if (!bg) {
      if (this.bindGroups.size >= 8192) {
        this.bindGroups.clear();
        this.bindGroupKeys.clear();
      }
      const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: this.paramsGPU, offset: 0, size: PARAMS_BIND * 4 } }];
      buffers.forEach((b, i) => entries.push({ binding: i + 1, resource: { buffer: b } }));
      bg = this.device.createBindGroup({ layout, entries });
      this.bindGroups.set(key, bg);
      for (const b of buffers) {
        const id = this.bufferId(b);
        let keys = this.bindGroupKeys.get(id);
        if (!keys) this.bindGroupKeys.set(id, (keys = []));
        keys.push(key);
      }
    }
    return bg;
  }

  private bufferId(b: GPUBuffer): number {
    let id = this.ids.get(b);
    if (id === undefined) this.ids.set(b, (id = this.nextId++));
    return id;
  }

  /** Destroys a GPU buffer and forgets the bind groups that reference it. */
  private destroyBuffer(b: GPUBuffer): void {
    const id = this.ids.get(b);
    if (id !== undefined) {
      for (const key of this.bindGroupKeys.get(id) ?? []) this.bindGroups.delete(key);
      this.bindGroupKeys.delete(id);
    }
    b.destroy();
  }

  /** Workgroup grid for `n` invocations of a 1-D kernel of workgroup size `this.wg` (2-D when large). */
  private groups1d(n: number, perGroup = this.wg): [number, number, number] {
    const g = Math.ceil(n / perGroup);
    const maxDim = this.limits.maxComputeWorkgroupsPerDimension;
    if (g <= maxDim) return [g, 1, 1];
    const y = Math.ceil(g / maxDim);
    if (y > maxDim) throw new AxonError('webgpu', `${n} invocations exceed the adapter's dispatch limits`);
    return [Math.ceil(g / y), y, 1];
  }

  /** A strided elementwise map (see `mapSource`). */
  private map(op: string, inputs: readonly View[], shape: readonly number[], out: BackendBuffer | View, outDtype: DType, expr: string, prelude: string): void {
    const n = numel(shape);
    if (n === 0) return;
    const stridedOut = !(out instanceof WebGPUBuffer);
    const outBuf = stridedOut ? asBuf((out as View).buf, op) : asBuf(out as BackendBuffer, op);
    const strides = inputs.map((v) => v.strides);
    if (stridedOut) strides.push((out as View).strides);
    const c = collapse(shape, strides);
    const rank = c.shape.length;
    const params: number[] = [n, ...c.shape];
    inputs.forEach((v, k) => params.push(v.offset, ...c.strides[k]!));
    if (stridedOut) params.push((out as View).offset, ...c.strides[inputs.length]!);
    const dts = inputs.map((v) => v.dtype);
    const key = `map|${rank}|${dts.join(',')}|${outDtype}|${stridedOut}|${expr}`;
    this.dispatch(op, [key, () => mapSource(this.wg, rank, dts, outDtype, expr, prelude, stridedOut)], params, [...inputs.map((v) => asBuf(v.buf, op).gpu!), outBuf.gpu!], this.groups1d(n));
  }

  // ---------------------------------------------------------------- primitives

  fill(out: BackendBuffer, value: number): void {
    this.check('fill');
    const b = asBuf(out, 'fill');
    if (b.size === 0) return;
    const bits = b.dtype === 'float32' ? f32Bits(value) : b.dtype === 'int32' ? value | 0 : value !== 0 ? 1 : 0;
    this.dispatch('fill', [`fill|${b.dtype}`, () => fillSource(this.wg, b.dtype)], [b.size, bits], [b.gpu!], this.groups1d(b.size));
  }

  copy(src: View, dst: View): void {
    this.check('copy');
    if (src.buf === dst.buf && numel(src.shape) > 0) {
      // One buffer cannot be bound read-only and writable in one dispatch: stage through a temp.
      const tmp = this.alloc(src.dtype, numel(src.shape));
      this.copy(src, { buf: tmp, dtype: src.dtype, shape: src.shape, strides: contiguousStrides(src.shape), offset: 0 });
      this.copy({ buf: tmp, dtype: src.dtype, shape: src.shape, strides: contiguousStrides(src.shape), offset: 0 }, dst);
      this.free(tmp);
      return;
    }
    this.map('copy', [src], src.shape, dst, dst.dtype, convertExpr('v0', src.dtype, dst.dtype), src.dtype === 'float32' && dst.dtype !== 'float32' ? FMATH : '');
  }

  unary(op: UnaryOp, x: View, out: BackendBuffer): void {
    this.check('unary');
    const { expr, prelude } = unaryExpr(op, x.dtype);
    this.map('unary', [x], x.shape, out, op === 'not' ? 'bool' : x.dtype, expr, prelude);
  }

  binary(op: BinaryOp, a: View, b: View, out: BackendBuffer): void {
    this.check('binary');
    this.map('binary', [a, b], a.shape, out, binaryOutDtype(op, a.dtype), binaryExpr(op, a.dtype), FMATH);
  }

  where(cond: View, a: View, b: View, out: BackendBuffer): void {
    this.check('where');
    this.map('where', [cond, a, b], a.shape, out, a.dtype, 'select(v2, v1, v0 != 0u)', '');
  }

  /**
   * Runs a fused elementwise program (see `Backend.fused` in `@axon/core`) as ONE dispatch: its WGSL
   * is generated from the instructions with the same expressions as the `unary`/`binary`/`where`
   * kernels, each result rounded to float32 as those kernels round it (see `fusedSource`).
   * Pipelines are cached per program key and input layout (rank after merging dims; each input
   * contiguous, a single broadcast element, or strided); constants, sizes, offsets and strides
   * travel in the per-dispatch parameter block, so new constant values never recompile. Core calls
   * it; users do not.
   * @example
   * ```ts
   * const b = await createWebGPUBackend();
   * const x = b.alloc('float32', 3);
   * b.write(x, new Float32Array([-1, 2, 3]));
   * const y = b.alloc('float32', 3);
   * const program = {
   *   key: 'relu(x*c)',
   *   inputs: ['float32'],
   *   consts: 1,
   *   code: [{ op: 'input', input: 0 }, { op: 'const', slot: 0 }, { op: 'mul', args: [0, 1] }, { op: 'relu', args: [2] }],
   *   outputs: [{ value: 3, dtype: 'float32' }],
   * } as const;
   * b.fused(program, [{ buf: x, dtype: 'float32', shape: [3], strides: [1], offset: 0 }], [2], [y]);
   * await b.read(y) // [0, 4, 6]
   * b.dispose();
   * ```
   */
  fused(program: FusedProgram, inputs: readonly View[], consts: readonly number[], outputs: readonly BackendBuffer[]): void {
    const op = 'fused';
    this.check(op);
    this.checkProgram(op, program);
    const name = `program '${program.key}'`;
    if (!Array.isArray(inputs) || inputs.length !== program.inputs.length) throw new AxonError(op, `${name} expects ${program.inputs.length} input view(s), got ${Array.isArray(inputs) ? inputs.length : fmtValue(inputs)}`);
    if (!Array.isArray(outputs) || outputs.length !== program.outputs.length) throw new AxonError(op, `${name} expects ${program.outputs.length} output buffer(s), got ${Array.isArray(outputs) ? outputs.length : fmtValue(outputs)}`);
    this.checkConsts(op, name, program, consts);
    const shape = inputs.length > 0 ? inputs[0]!.shape : null;
    const inBufs = this.checkInputs(op, name, program, inputs, 0, (k) => `input ${k}`, (k, v) =>
      v.shape.length !== shape!.length || v.shape.some((d: number, i: number) => d !== shape![i])
        ? `every input must have one shape (already broadcast); input 0 is [${shape!.join(',')}], input ${k} is [${v.shape.join(',')}]`
        : null,
    );
    const n = shape ? numel(shape) : outputs.length > 0 ? asBuf(outputs[0]!, op).size : 0;
    const outBufs = this.checkOutputs(op, name, program, outputs, n, shape ? ` (shape [${shape.join(',')}])` : ' (as output 0)', inputs.map((v) => ({ buf: v.buf, what: "an input's buffer" })));
    if (n === 0 || outputs.length === 0) return;

    // layout variant: merge dims, then classify each input (contiguous, one element, strided)
    const c = collapse(shape ?? [n], inputs.map((v) => v.strides));
    const access = accessOf(c);
    const rank = access.includes('r') ? c.shape.length : 0;
    const L = fusedLayout(program.consts, rank, access);
    if (L.len > PARAMS_BIND) {
      throw new AxonError(op, `${name}: ${program.consts} constants and ${inputs.length} inputs strided over ${rank} dims need ${L.len} kernel parameters, at most ${PARAMS_BIND}`);
    }
    const params = new Array<number>(L.len).fill(0);
    params[0] = n;
    epilogueParams(params, L, consts, c, inputs, access, rank);
    const key = this.fusedPipe(`fused|${rank}|${access.join('')}|${program.key}`);
    this.dispatch(op, [key, () => fusedSource(this.wg, program, rank, access)], params, [...inBufs.map((b) => b.gpu!), ...outBufs.map((b) => b.gpu!)], this.groups1d(n), {
      outputs: outputs.length,
      uniformParams: true,
    });
  }

  /**
   * A reduction of a fused elementwise value (see `Backend.reduceFused` in `@axon/core`) as ONE
   * dispatch: the reduction kernel of `reduce` (the same per-invocation or per-workgroup strategy,
   * the same order and Kahan-compensated float sums) whose element load is the program, inlined; the
   * value is never written to memory. Pipelines are cached per program key, op and the ranks of the
   * kept and reduced dims after merging them over every input; constants, sizes, offsets and strides
   * are parameters. Core calls it; users do not.
   * @example
   * ```ts
   * const b = await createWebGPUBackend();
   * const x = b.alloc('float32', 6);
   * b.write(x, new Float32Array([1, 2, 3, 4, 5, 6]));
   * const out = b.alloc('float32', 2);
   * const program = {
   *   key: 'x*c',
   *   inputs: ['float32'],
   *   consts: 1,
   *   code: [{ op: 'input', input: 0 }, { op: 'const', slot: 0 }, { op: 'mul', args: [0, 1] }],
   *   outputs: [{ value: 2, dtype: 'float32' }],
   * } as const;
   * // Σ over axis 1 of 10·x, x of shape [2, 3]
   * b.reduceFused('sum', program, [{ buf: x, dtype: 'float32', shape: [2, 3], strides: [3, 1], offset: 0 }], [10], [2, 3], [1], out);
   * await b.read(out) // [60, 150]
   * b.dispose();
   * ```
   */
  reduceFused(op: FusedReduceOp, program: FusedProgram, inputs: readonly View[], consts: readonly number[], shape: readonly number[], axes: readonly number[], out: BackendBuffer): void {
    const fn = 'reduceFused';
    this.check(fn);
    if (!REDUCE_FUSED_OPS.includes(op)) throw new AxonError(fn, `op must be one of ${REDUCE_FUSED_OPS.map((o) => `'${o}'`).join(', ')}, got ${fmtValue(op)}`);
    this.checkProgram(fn, program);
    const name = `program '${program.key}'`;
    if (!Array.isArray(shape) || shape.some((d: unknown) => typeof d !== 'number' || !Number.isInteger(d) || d < 0)) throw new AxonError(fn, `${name}: shape must be an array of non-negative integers, got ${fmtValue(shape)}`);
    const rankOk = (a: unknown, i: number): boolean => typeof a === 'number' && Number.isInteger(a) && a >= 0 && a < shape.length && (i === 0 || a > axes[i - 1]!);
    if (!Array.isArray(axes) || axes.length === 0 || !axes.every(rankOk)) {
      throw new AxonError(fn, `${name}: axes must be sorted, unique, non-empty and each in [0, ${shape.length}) for shape [${shape.join(',')}], got ${fmtValue(axes)}`);
    }
    if (!Array.isArray(inputs) || inputs.length !== program.inputs.length) throw new AxonError(fn, `${name} expects ${program.inputs.length} input view(s), got ${Array.isArray(inputs) ? inputs.length : fmtValue(inputs)}`);
    this.checkConsts(fn, name, program, consts);
    const inBufs = this.checkInputs(fn, name, program, inputs, 0, (k) => `input ${k}`, (k, v) =>
      v.shape.length !== shape.length || v.shape.some((d: number, i: number) => d !== shape[i])
        ? `every input must have the shape [${shape.join(',')}] (already broadcast); input ${k} is [${v.shape.join(',')}]`
        : null,
    );
    const red = new Set(axes);
    const keptDims = shape.map((_, i) => i).filter((i) => !red.has(i));
    const outSize = numel(keptDims.map((i) => shape[i]!));
    const o = asBuf(out, fn);
    if (o.dtype !== 'float32') throw new AxonError(fn, `${name}: out must be a float32 buffer, got ${o.dtype}`);
    if (o.size !== outSize) throw new AxonError(fn, `${name}: out holds ${o.size} elements, expected ${outSize} (shape [${shape.join(',')}] reduced over axes [${axes.join(',')}] keeps [${keptDims.map((i) => shape[i]).join(',')}])`);
    if (inputs.some((v) => v.buf === out)) throw new AxonError(fn, `${name}: out is also an input's buffer (outputs never alias inputs)`);
    if (outSize === 0) return;

    const R = numel(axes.map((i) => shape[i]!));
    const k = collapse(keptDims.map((i) => shape[i]!), inputs.map((v) => keptDims.map((i) => v.strides[i]!)));
    const r = collapse(axes.map((i) => shape[i]!), inputs.map((v) => axes.map((i) => v.strides[i]!)));
    const kr = k.shape.length;
    const rr = r.shape.length;
    const L = reduceFusedLayout(program.consts, inputs.length, kr, rr);
    if (L.len > PARAMS_BIND) {
      throw new AxonError(fn, `${name}: ${program.consts} constants and ${inputs.length} inputs over ${kr} kept and ${rr} reduced dims need ${L.len} kernel parameters, at most ${PARAMS_BIND}`);
    }
    const params = new Array<number>(L.len).fill(0);
    params[0] = outSize;
    params[1] = R;
    consts.forEach((c, i) => (params[L.constAt + i] = f32Bits(c)));
    k.shape.forEach((d, i) => (params[L.keptShape + i] = d));
    r.shape.forEach((d, i) => (params[L.redShape + i] = d));
    inputs.forEach((v, j) => {
      const at = L.opAt[j]!;
      params[at] = v.offset;
      k.strides[j]!.forEach((s, i) => (params[at + 1 + i] = s));
      r.strides[j]!.forEach((s, i) => (params[at + 2 + kr + i] = s));
    });
    const perThread = reducePerThread(R, outSize);
    const key = this.fusedPipe(`reduceFused|${op}|${kr}|${rr}|${perThread}|${program.key}`);
    const groups = perThread ? this.groups1d(outSize) : this.groups1d(outSize, 1);
    this.dispatch(fn, [key, () => reduceFusedSource(this.wg, op, program, kr, rr, perThread)], params, [...inBufs.map((b) => b.gpu!), o.gpu!], groups, { outputs: 1, uniformParams: true });
  }

  /**
   * A matrix product with an elementwise epilogue (see `Backend.matmulFused` in `@axon/core`) as ONE
   * dispatch (or as many as `matmul` splits a grid beyond the adapter's workgroup limits into): the
   * `matmul` kernel — same tiling, same accumulation order, so the product is bit for bit `matmul`'s —
   * with the program inlined where it stores each result; the product itself is never written unless
   * the program outputs it. Pipelines are cached per program key, the matmul kernel's shape and the
   * extra inputs' layout (as for `fused`). Core calls it; users do not.
   * @example
   * ```ts
   * const b = await createWebGPUBackend();
   * const a = b.alloc('float32', 4);
   * b.write(a, new Float32Array([1, 2, 3, 4]));
   * const w = b.alloc('float32', 4);
   * b.write(w, new Float32Array([1, 0, 0, -1]));
   * const bias = b.alloc('float32', 2);
   * b.write(bias, new Float32Array([0.5, 10]));
   * const y = b.alloc('float32', 4);
   * const program = {
   *   key: 'relu(p+bias)',
   *   inputs: ['float32', 'float32'],
   *   consts: 0,
   *   code: [{ op: 'input', input: 0 }, { op: 'input', input: 1 }, { op: 'add', args: [0, 1] }, { op: 'relu', args: [2] }],
   *   outputs: [{ value: 3, dtype: 'float32' }],
   * } as const;
   * const view = (buf: typeof a, shape: number[], strides: number[]) => ({ buf, dtype: 'float32' as const, shape, strides, offset: 0 });
   * // relu(a·w + bias), a and w [1, 2, 2], bias broadcast over rows
   * b.matmulFused(view(a, [1, 2, 2], [4, 2, 1]), view(w, [1, 2, 2], [4, 2, 1]), program, [view(bias, [2, 2], [0, 1])], [], [y]);
   * await b.read(y) // [1.5, 8, 3.5, 6]
   * b.dispose();
   * ```
   */
  matmulFused(a: View, b: View, program: FusedProgram, inputs: readonly View[], consts: readonly number[], outputs: readonly BackendBuffer[]): void {
    const op = 'matmulFused';
    this.check(op);
    const [aBuf, bBuf] = ([[a, 'a'], [b, 'b']] as const).map(([v, what]) => {
      const buf = asBuf((v as View | undefined)?.buf as BackendBuffer, op);
      if (v.dtype !== 'float32' || buf.dtype !== 'float32') throw new AxonError(op, `${what} must be a float32 view, got a ${v.dtype} view of a ${buf.dtype} buffer`);
      checkViewLayout(op, what, v, buf.size, 3);
      return buf;
    }) as [WebGPUBuffer, WebGPUBuffer];
    const [B, M, K] = a.shape as [number, number, number];
    const N = b.shape[2]!;
    if (b.shape[0] !== B || b.shape[1] !== K) throw new AxonError(op, `a is [${a.shape.join(',')}] and b is [${b.shape.join(',')}], expected [B, M, K] and [B, K, N]`);
    this.checkProgram(op, program);
    const name = `program '${program.key}'`;
    const nIn = program.inputs.length - 1;
    if (!Array.isArray(inputs) || inputs.length !== nIn) throw new AxonError(op, `${name} expects ${nIn} input view(s) (its inputs 1.., input 0 being the product), got ${Array.isArray(inputs) ? inputs.length : fmtValue(inputs)}`);
    if (!Array.isArray(outputs) || outputs.length !== program.outputs.length) throw new AxonError(op, `${name} expects ${program.outputs.length} output buffer(s), got ${Array.isArray(outputs) ? outputs.length : fmtValue(outputs)}`);
    this.checkConsts(op, name, program, consts);
    const n = B * M * N;
    const label = (k: number): string => `inputs[${k}] (program input ${k + 1})`;
    const shape = nIn > 0 ? inputs[0]!.shape : [n];
    const inBufs = this.checkInputs(op, name, program, inputs, 1, label, (k, v) => {
      if (k === 0) return numel(v.shape) !== n ? `${label(0)} has shape [${v.shape.join(',')}], expected a shape of B·M·N = ${n} elements (the product is [${B},${M},${N}])` : null;
      return v.shape.length !== shape.length || v.shape.some((d: number, i: number) => d !== shape[i])
        ? `every input must have one shape (already broadcast); inputs[0] is [${shape.join(',')}], inputs[${k}] is [${v.shape.join(',')}]`
        : null;
    });
    const aliases = [{ buf: a.buf, what: "a's buffer" }, { buf: b.buf, what: "b's buffer" }, ...inputs.map((v) => ({ buf: v.buf, what: "an input's buffer" }))];
    const outBufs = this.checkOutputs(op, name, program, outputs, n, ` (the product is [${B},${M},${N}])`, aliases);
    if (n === 0 || outputs.length === 0) return;

    const c = collapse(shape, inputs.map((v) => v.strides));
    const access = accessOf(c);
    const rank = access.includes('r') ? c.shape.length : 0;
    const L = epilogueLayout(MM.len, program.consts, rank, access);
    if (L.len > PARAMS_BIND) {
      throw new AxonError(op, `${name}: ${program.consts} constants and ${nIn} inputs strided over ${rank} dims need ${L.len} kernel parameters, at most ${PARAMS_BIND}`);
    }
    const params = new Array<number>(L.len).fill(0);
    epilogueParams(params, L, consts, c, inputs, access, rank);
    const plan = this.matmulPlan();
    const key = this.fusedPipe(`matmulFused|${plan.key}|${rank}|${access.join('')}|${program.key}`);
    const make = (): string => {
      const epi = matmulEpilogue(program, rank, access);
      return plan.tk > 0 ? matmulTiledSource(plan.tx, plan.ty, plan.tk, epi) : matmulSource(plan.tx, plan.ty, plan.unroll, epi);
    };
    const bufs = [aBuf.gpu!, bBuf.gpu!, ...inBufs.map((x) => x.gpu!), ...outBufs.map((x) => x.gpu!)];
    this.matmulGrid(op, a, b, plan, [key, make], params, bufs, { outputs: outputs.length, uniformParams: true });
  }

  /** Checks a fused program once per program object and primitive: its structure, the buffers its kernel binds, and that its key names one structure. */
  private checkProgram(op: FusedOpName, program: FusedProgram): void {
    const checked = this.fusedChecked[op];
    if (checked.has(program)) return;
    const maxBuffers = Math.min(FUSED_MAX_BUFFERS, this.limits.maxStorageBuffersPerShaderStage);
    const why = `FUSED_MAX_BUFFERS ${FUSED_MAX_BUFFERS}; this device's maxStorageBuffersPerShaderStage ${this.limits.maxStorageBuffersPerShaderStage}`;
    if (op === 'reduceFused') {
      checkFusedProgram(program, maxBuffers, why, op, (i) => ({ count: i + 1, what: `${i} inputs + the output` }));
      const outs = program.outputs;
      if (outs.length !== 1 || outs[0]!.dtype !== 'float32') throw new AxonError(op, `program ${fmtValue(program.key)}: expected exactly one float32 output (the value reduced), got ${outs.length === 1 ? `a ${outs[0]!.dtype} output` : `${outs.length} outputs`}`);
    } else if (op === 'matmulFused') {
      checkFusedProgram(program, maxBuffers, why, op, (i, o) => ({ count: 2 + Math.max(0, i - 1) + o, what: `a, b, ${Math.max(0, i - 1)} inputs + ${o} outputs` }));
      if (program.inputs[0] !== 'float32') throw new AxonError(op, `program ${fmtValue(program.key)}: input 0 (the product) must be 'float32', got ${program.inputs.length === 0 ? 'no inputs' : fmtValue(program.inputs[0])}`);
    } else {
      checkFusedProgram(program, maxBuffers, why);
    }
    const sig = fusedSignature(program);
    const known = this.fusedKeys.get(program.key);
    if (known === undefined) {
      if (this.fusedKeys.size >= 4096) this.fusedKeys.clear();
      this.fusedKeys.set(program.key, sig);
    } else if (known !== sig) throw new AxonError(op, `program key '${program.key}' was already used for a different program (a key must identify one program's structure)`);
    checked.add(program);
  }

  private checkConsts(op: string, name: string, program: FusedProgram, consts: readonly number[]): void {
    if (!Array.isArray(consts) || consts.length !== program.consts) throw new AxonError(op, `${name} expects ${program.consts} constant(s), got ${Array.isArray(consts) ? consts.length : fmtValue(consts)}`);
    consts.forEach((c, i) => {
      if (typeof c !== 'number') throw new AxonError(op, `${name}: constant ${i} must be a number, got ${fmtValue(c)}`);
    });
  }

  /**
   * Checks the input views of a fused program call (`inputs[i]` is program input `first + i`): dtype,
   * layout within its buffer, and `shapeError` (a message, or null when the shape is right).
   */
  private checkInputs(op: string, name: string, program: FusedProgram, inputs: readonly View[], first: number, label: (i: number) => string, shapeError: (i: number, v: View) => string | null): WebGPUBuffer[] {
    return inputs.map((v, i) => {
      const b = asBuf(v.buf, op);
      const want = program.inputs[first + i]!;
      if (v.dtype !== want || b.dtype !== want) throw new AxonError(op, `${name}: ${label(i)} must be a ${want} view, got a ${v.dtype} view of a ${b.dtype} buffer`);
      if (!Array.isArray(v.shape) || !Array.isArray(v.strides) || v.shape.length !== v.strides.length) throw new AxonError(op, `${name}: ${label(i)} has shape ${fmtValue(v.shape)} but strides ${fmtValue(v.strides)}`);
      const e = shapeError(i, v);
      if (e !== null) throw new AxonError(op, `${name}: ${e}`);
      checkViewLayout(op, `${name}: ${label(i)}`, v, b.size);
      return b;
    });
  }

  /** Checks the output buffers of a fused program call: dtype, `n` elements, no alias of `aliases` or of each other. */
  private checkOutputs(op: string, name: string, program: FusedProgram, outputs: readonly BackendBuffer[], n: number, sizeWhy: string, aliases: readonly { buf: BackendBuffer; what: string }[]): WebGPUBuffer[] {
    return outputs.map((o, j) => {
      const b = asBuf(o, op);
      const want = program.outputs[j]!.dtype;
      if (b.dtype !== want) throw new AxonError(op, `${name}: output ${j} must be a ${want} buffer, got ${b.dtype}`);
      if (b.size !== n) throw new AxonError(op, `${name}: output ${j} holds ${b.size} elements, expected ${n}${sizeWhy}`);
      const alias = aliases.find((x) => x.buf === o);
      if (alias) throw new AxonError(op, `${name}: output ${j} is also ${alias.what} (outputs never alias inputs)`);
      if (outputs.indexOf(o) !== j) throw new AxonError(op, `${name}: output ${j} is the same buffer as output ${outputs.indexOf(o)}`);
      return b;
    });
  }

  /** Marks a fused pipeline key as most recently used, dropping the least recently used beyond `maxFusedPipelines`; returns the key. */
  private fusedPipe(key: string): string {
    this.fusedPipes.delete(key);
    this.fusedPipes.add(key);
    if (this.fusedPipes.size > this.maxFusedPipelines) {
      const oldest = this.fusedPipes.values().next().value!;
      this.fusedPipes.delete(oldest);
      this.pipelines.delete(oldest);
    }
    return key;
  }

  reduce(op: ReduceOp, x: View, axes: readonly number[], out: BackendBuffer): void {
    this.check('reduce');
    const o = asBuf(out, 'reduce');
    const red = new Set(axes);
    const keptDims = x.shape.map((_, i) => i).filter((i) => !red.has(i));
    const redDims = [...axes];
    const outSize = numel(keptDims.map((i) => x.shape[i]!));
    if (outSize === 0) return;
    const R = numel(redDims.map((i) => x.shape[i]!));
    const k = collapse(keptDims.map((i) => x.shape[i]!), [keptDims.map((i) => x.strides[i]!)]);
    const r = collapse(redDims.map((i) => x.shape[i]!), [redDims.map((i) => x.strides[i]!)]);
    const kr = k.shape.length;
    const rr = r.shape.length;
    const L = reduceLayout(kr, rr);
    const params = new Array<number>(L.len).fill(0);
    params[0] = outSize;
    params[1] = R;
    k.shape.forEach((d, i) => (params[L.keptShape + i] = d));
    params[L.keptOp] = x.offset;
    k.strides[0]!.forEach((s, i) => (params[L.keptOp + 1 + i] = s));
    r.shape.forEach((d, i) => (params[L.redShape + i] = d));
    params[L.redOp] = 0;
    r.strides[0]!.forEach((s, i) => (params[L.redOp + 1 + i] = s));
    const perThread = reducePerThread(R, outSize);
    const src = [`reduce|${op}|${x.dtype}|${kr}|${rr}|${perThread}`, () => reduceSource(this.wg, op, x.dtype, kr, rr, perThread)] as const;
    const groups = perThread ? this.groups1d(outSize) : this.groups1d(outSize, 1);
    this.dispatch('reduce', src, params, [asBuf(x.buf, 'reduce').gpu!, o.gpu!], groups);
  }

  matmul(a: View, b: View, out: BackendBuffer): void {
    this.check('matmul');
    const o = asBuf(out, 'matmul');
    const [B, M, K] = a.shape as [number, number, number];
    const N = b.shape[2]!;
    if (B * M * N === 0) return;
    if (K === 0) {
      this.fill(out, 0);
      return;
    }
    const plan = this.matmulPlan();
    const src = [`matmul|${plan.key}`, () => (plan.tk > 0 ? matmulTiledSource(plan.tx, plan.ty, plan.tk) : matmulSource(plan.tx, plan.ty, plan.unroll))] as const;
    this.matmulGrid('matmul', a, b, plan, src, new Array<number>(MM.len), [asBuf(a.buf, 'matmul').gpu!, asBuf(b.buf, 'matmul').gpu!, o.gpu!]);
  }

  /**
   * Scaled dot-product attention (see `Backend.attention` in `@axon/core`) as ONE dispatch (more
   * only when the grid exceeds maxComputeWorkgroupsPerDimension): a flash-attention kernel in which a
   * workgroup per (batch, block of query rows) sweeps the keys tile by tile with an online softmax
   * (running maximum and sum, rescaled accumulator), so the [Tq, Tk] scores are never stored.
   * `q` [B, Tq, D], `k` [B, Tk, D], `v` [B, Tk, Dv] and `bias` (null or [B, Tq, Tk]) are read through
   * their strides (permuted, sliced or broadcast views, 0 strides included); `out` receives
   * [B, Tq, Dv] and `lse` [B, Tq] (log Σ exp of each row's scores), both contiguous float32. A row
   * whose scores are all −Infinity gives NaN outputs and lse −Infinity. Any D and Dv: up to 128
   * output columns are accumulated in registers per sweep (more take one sweep per 128), and the
   * head dimension is staged in chunks. Pipelines are cached per kernel shape, register tile (the
   * output columns per sweep: 16, 32, 64 or 128, the first that covers Dv) and bias presence;
   * sizes, strides, the scale and `causal` are parameters. Core calls it; users do not.
   * @example
   * ```ts
   * const b = await createWebGPUBackend();
   * const buf = (xs: number[]) => { const x = b.alloc('float32', xs.length); b.write(x, new Float32Array(xs)); return x; };
   * const view = (x: ReturnType<typeof buf>, shape: number[]) => ({ buf: x, dtype: 'float32' as const, shape, strides: [shape[1]! * shape[2]!, shape[2]!, 1], offset: 0 });
   * const q = buf([1, 0]); // B = 1, Tq = 1, D = 2
   * const k = buf([1, 0, 0, 1]); // Tk = 2
   * const v = buf([10, 20]); // Dv = 1
   * const out = b.alloc('float32', 1);
   * const lse = b.alloc('float32', 1);
   * // scores [1, 0]: softmax [e/(e+1), 1/(e+1)]
   * b.attention(view(q, [1, 1, 2]), view(k, [1, 2, 2]), view(v, [1, 2, 1]), null, 1, false, out, lse);
   * Math.abs((await b.read(out))[0]! - (10 * Math.E + 20) / (Math.E + 1)) < 1e-4 // true
   * Math.abs((await b.read(lse))[0]! - Math.log(Math.E + 1)) < 1e-5 // true
   * b.dispose();
   * ```
   */
  attention(q: View, k: View, v: View, bias: View | null, scale: number, causal: boolean, out: BackendBuffer, lse: BackendBuffer): void {
    const op = 'attention';
    this.check(op);
    const views: [View, string][] = [[q, 'q'], [k, 'k'], [v, 'v']];
    if (bias !== null) views.push([bias, 'bias']);
    const bufs = views.map(([x, what]) => {
      const buf = asBuf((x as View | undefined)?.buf as BackendBuffer, op);
      if (x.dtype !== 'float32' || buf.dtype !== 'float32') throw new AxonError(op, `${what} must be a float32 view, got a ${x.dtype} view of a ${buf.dtype} buffer`);
      checkViewLayout(op, what, x, buf.size, 3);
      return buf;
    });
    const [B, Tq, D] = q.shape as [number, number, number];
    const Tk = k.shape[1]!;
    const Dv = v.shape[2]!;
    const want = (x: View, dims: readonly number[]): boolean => x.shape.every((d, i) => d === dims[i]);
    if (!want(k, [B, Tk, D]) || !want(v, [B, Tk, Dv])) {
      throw new AxonError(op, `q is [${q.shape.join(',')}], k [${k.shape.join(',')}] and v [${v.shape.join(',')}], expected [B, Tq, D], [B, Tk, D] and [B, Tk, Dv]`);
    }
    if (bias !== null && !want(bias, [B, Tq, Tk])) throw new AxonError(op, `bias is [${bias.shape.join(',')}], expected [B, Tq, Tk] = [${B},${Tq},${Tk}] (q [${q.shape.join(',')}], k [${k.shape.join(',')}])`);
    if (typeof scale !== 'number') throw new AxonError(op, `scale must be a number, got ${fmtValue(scale)}`);
    if (typeof causal !== 'boolean') throw new AxonError(op, `causal must be a boolean, got ${fmtValue(causal)}`);
    const o = asBuf(out, op);
    const ls = asBuf(lse, op);
    for (const [x, what, n, dims] of [[o, 'out', B * Tq * Dv, `[${B},${Tq},${Dv}]`], [ls, 'lse', B * Tq, `[${B},${Tq}]`]] as const) {
      if (x.dtype !== 'float32' || x.size !== n) throw new AxonError(op, `${what} must be a float32 buffer of ${n} elements (${dims}), got a ${x.dtype} buffer of ${x.size}`);
      if (views.some(([y]) => y.buf === x)) throw new AxonError(op, `${what} is also an input's buffer (outputs never alias inputs)`);
    }
    if (out === lse && B * Tq > 0) throw new AxonError(op, 'out and lse are the same buffer');
    if (B * Tq === 0) return;
    const max = this.attentionPlan();
    // the output columns held in registers: 4 per invocation of a row, doubled until they cover Dv
    // (up to the plan's), so a small Dv does not loop over unused accumulators (at most 4 variants)
    const tr = max.wg / max.bq;
    let cv = Math.min(4 * tr, max.cv);
    while (cv < Dv && cv < max.cv) cv *= 2;
    const plan: AttentionPlan = { ...max, cv: Math.min(cv, max.cv) };
    const params = new Array<number>(ATT.len).fill(0);
    params[ATT.B] = B;
    params[ATT.Tq] = Tq;
    params[ATT.Tk] = Tk;
    params[ATT.D] = D;
    params[ATT.Dv] = Dv;
    params[ATT.scale] = f32Bits(scale);
    params[ATT.causal] = causal ? 1 : 0;
    views.forEach(([x], n) => {
      const at = [ATT.q, ATT.k, ATT.v, ATT.bias][n]!;
      params[at] = x.offset;
      x.strides.forEach((s, d) => (params[at + 1 + d] = s));
    });
    const hasBias = bias !== null;
    const key = `attention|${plan.wg}|${plan.bq}|${plan.bk}|${plan.dq}|${plan.cv}|${hasBias}`;
    const gpuBufs = [...bufs.map((x) => x.gpu!), o.gpu!, ls.gpu!];
    const maxDim = this.limits.maxComputeWorkgroupsPerDimension;
    const gx = Math.ceil(Tq / plan.bq);
    for (let z0 = 0; z0 < B; z0 += maxDim) {
      for (let x0 = 0; x0 < gx; x0 += maxDim) {
        params[ATT.rowBase] = x0;
        params[ATT.batchBase] = z0;
        this.dispatch(op, [key, () => attentionSource(plan, hasBias)], params, gpuBufs, [Math.min(maxDim, gx - x0), Math.min(maxDim, B - z0), 1], { outputs: 2, uniformParams: false });
      }
    }
  }

  /**
   * The gradients of {@link WebGPUBackend.attention} (see `Backend.attentionBackward` in `@axon/core`)
   * without the [Tq, Tk] scores: FlashAttention-2's backward as three kernels — per query row the
   * log-sum-exp and `D_i = Σ dOut·out` (a [B, Tq, 2] temporary), then a workgroup per block of keys
   * sweeping the queries (dK, dV: each invocation owns a key's rows) and a workgroup per block of
   * queries sweeping the keys (dQ), the other side's rows staged in workgroup memory tile by tile, so
   * no atomics. Every operand is read through its strides (permuted, sliced or broadcast views, 0
   * strides included); `dq`, `dk`, `dv` receive contiguous [B, Tq, D], [B, Tk, D] and [B, Tk, Dv].
   * A fully masked row (lse −Infinity) contributes nothing. Any D and Dv (staged in chunks; a block's
   * rows stay resident when D, Dv ≤ the tile's width); causal skips the blocks that are masked
   * whole. Pipelines are cached per kernel shape and bias presence. Core calls it; users do not.
   * @example
   * ```ts
   * const b = await createWebGPUBackend();
   * const buf = (xs: number[]) => { const x = b.alloc('float32', xs.length); b.write(x, new Float32Array(xs)); return x; };
   * const view = (x: ReturnType<typeof buf>, shape: number[]) => ({ buf: x, dtype: 'float32' as const, shape, strides: [shape[1]! * shape[2]!, shape[2]!, 1], offset: 0 });
   * // one query, two keys with equal scores: P = [0.5, 0.5], out = 15, lse = log 2
   * const q = buf([0]), k = buf([0, 0]), v = buf([10, 20]), out = buf([15]), g = buf([1]), lse = buf([Math.log(2)]);
   * const [dq, dk, dv] = [b.alloc('float32', 1), b.alloc('float32', 2), b.alloc('float32', 2)];
   * b.attentionBackward(view(q, [1, 1, 1]), view(k, [1, 2, 1]), view(v, [1, 2, 1]), null, 1, false, view(out, [1, 1, 1]), view(g, [1, 1, 1]), { ...view(lse, [1, 1, 1]), shape: [1, 1], strides: [1, 1] }, dq, dk, dv);
   * Array.from(await b.read(dv)).map((x) => Math.round(x * 1e5) / 1e5) // [0.5, 0.5]
   * b.dispose();
   * ```
   */
  attentionBackward(q: View, k: View, v: View, bias: View | null, scale: number, causal: boolean, out: View, dOut: View, lse: View, dq: BackendBuffer, dk: BackendBuffer, dv: BackendBuffer): void {
    const op = 'attentionBackward';
    this.check(op);
    const views: [View, string, number][] = [[q, 'q', 3], [k, 'k', 3], [v, 'v', 3], [out, 'out', 3], [dOut, 'dOut', 3], [lse, 'lse', 2]];
    if (bias !== null) views.push([bias, 'bias', 3]);
    const bufs = views.map(([x, what, rank]) => {
      const buf = asBuf((x as View | undefined)?.buf as BackendBuffer, op);
      if (x.dtype !== 'float32' || buf.dtype !== 'float32') throw new AxonError(op, `${what} must be a float32 view, got a ${x.dtype} view of a ${buf.dtype} buffer`);
      checkViewLayout(op, what, x, buf.size, rank);
      return buf;
    });
    const [B, Tq, D] = q.shape as [number, number, number];
    const Tk = k.shape[1]!;
    const Dv = v.shape[2]!;
    const want = (x: View, dims: readonly number[]): boolean => x.shape.every((d, i) => d === dims[i]);
    if (!want(k, [B, Tk, D]) || !want(v, [B, Tk, Dv]) || !want(out, [B, Tq, Dv]) || !want(dOut, [B, Tq, Dv]) || !want(lse, [B, Tq])) {
      throw new AxonError(op, `q is [${q.shape.join(',')}], k [${k.shape.join(',')}], v [${v.shape.join(',')}], out [${out.shape.join(',')}], dOut [${dOut.shape.join(',')}], lse [${lse.shape.join(',')}]; expected [B, Tq, D], [B, Tk, D], [B, Tk, Dv], [B, Tq, Dv], [B, Tq, Dv], [B, Tq]`);
    }
    if (bias !== null && !want(bias, [B, Tq, Tk])) throw new AxonError(op, `bias is [${bias.shape.join(',')}], expected [B, Tq, Tk] = [${B},${Tq},${Tk}]`);
    if (typeof scale !== 'number') throw new AxonError(op, `scale must be a number, got ${fmtValue(scale)}`);
    if (typeof causal !== 'boolean') throw new AxonError(op, `causal must be a boolean, got ${fmtValue(causal)}`);
    const outs = [[dq, 'dq', B * Tq * D, `[${B},${Tq},${D}]`], [dk, 'dk', B * Tk * D, `[${B},${Tk},${D}]`], [dv, 'dv', B * Tk * Dv, `[${B},${Tk},${Dv}]`]] as const;
    const obufs = outs.map(([x, what, n, dims]) => {
      const ob = asBuf(x, op);
      if (ob.dtype !== 'float32' || ob.size !== n) throw new AxonError(op, `${what} must be a float32 buffer of ${n} elements (${dims}), got a ${ob.dtype} buffer of ${ob.size}`);
      if (views.some(([y]) => y.buf === x)) throw new AxonError(op, `${what} is also an input's buffer (outputs never alias inputs)`);
      return ob;
    });
    if ((dq === dk && B * Tq * D > 0 && B * Tk * D > 0) || (dk === dv && B * Tk * D > 0 && B * Tk * Dv > 0) || (dq === dv && B * Tq * D > 0 && B * Tk * Dv > 0)) throw new AxonError(op, 'dq, dk and dv must be distinct buffers');
    if (B === 0) return;
    const plan = this.attentionBackwardPlan();
    const params = new Array<number>(ATB.len).fill(0);
    params[ATB.B] = B;
    params[ATB.Tq] = Tq;
    params[ATB.Tk] = Tk;
    params[ATB.D] = D;
    params[ATB.Dv] = Dv;
    params[ATB.scale] = f32Bits(scale);
    params[ATB.causal] = causal ? 1 : 0;
    for (const [x, at] of [[q, ATB.q], [k, ATB.k], [v, ATB.v], [bias, ATB.bias], [out, ATB.o], [dOut, ATB.g], [lse, ATB.lse]] as const) {
      if (x === null) continue;
      params[at] = x.offset;
      x.strides.forEach((st, d) => (params[at + 1 + d] = st));
    }
    const hasBias = bias !== null;
    const [qb, kb, vb, ob, gb, lb, bb] = bufs.map((x) => x.gpu!) as [GPUBuffer, GPUBuffer, GPUBuffer, GPUBuffer, GPUBuffer, GPUBuffer, GPUBuffer | undefined];
    const maxDim = this.limits.maxComputeWorkgroupsPerDimension;
    const grid = (rows: number, run: (groups: [number, number, number]) => void): void => {
      const gx = Math.ceil(rows / plan.wg);
      for (let z0 = 0; z0 < B; z0 += maxDim) {
        for (let x0 = 0; x0 < gx; x0 += maxDim) {
          params[ATB.rowBase] = x0;
          params[ATB.batchBase] = z0;
          run([Math.min(maxDim, gx - x0), Math.min(maxDim, B - z0), 1]);
        }
      }
    };
    const layout = (outputs: number) => ({ outputs, uniformParams: true });
    // (lse, D) per query row: a [B, Tq, 2] temporary, freed once the kernels are encoded
    const rows = this.alloc('float32', 2 * B * Tq) as WebGPUBuffer;
    try {
      const r = rows.gpu!;
      if (Tq > 0) grid(Tq, (g) => this.dispatch(op, [`attentionDelta|${plan.wg}`, () => attentionDeltaSource(plan.wg)], params, [ob, gb, lb, r], g, layout(1)));
      const extra = hasBias ? [bb!] : [];
      if (Tk > 0) {
        const key = `attentionKV|${plan.wg}|${plan.bq}|${plan.ch}|${hasBias}`;
        grid(Tk, (g) => this.dispatch(op, [key, () => attentionKVGradSource(plan, hasBias)], params, [qb, kb, vb, ...extra, gb, r, obufs[1]!.gpu!, obufs[2]!.gpu!], g, layout(2)));
      }
      if (Tq > 0 && D > 0) {
        const key = `attentionQ|${plan.wg}|${plan.bq}|${plan.ch}|${hasBias}`;
        grid(Tq, (g) => this.dispatch(op, [key, () => attentionQGradSource(plan, hasBias)], params, [qb, kb, vb, ...extra, gb, r, obufs[0]!.gpu!], g, layout(1)));
      }
    } finally {
      this.free(rows);
    }
  }

  /** The attention backward kernels' shape: `attentionBackwardConfig` (checked against the adapter's limits) or the first built-in shape that fits. */
  private attentionBackwardPlan(): AttentionBackwardPlan {
    const maxStorage = this.limits.maxComputeWorkgroupStorageSize;
    const why = (p: AttentionBackwardPlan): string | null => {
      if (![p.wg, p.bq, p.ch].every((x) => Number.isInteger(x) && x >= 1)) return 'every size must be a positive integer';
      if (p.wg > this.wg) return `wg ${p.wg} exceeds this adapter's workgroup size ${this.wg}`;
      if (p.bq > 64) return `bq ${p.bq} exceeds 64 (registers per invocation)`;
      if (attentionBackwardStorage(p) > maxStorage) return `it needs ${attentionBackwardStorage(p)} bytes of workgroup memory, the adapter allows ${maxStorage}`;
      return null;
    };
    if (this.attentionBackwardConfig !== null) {
      const e = why(this.attentionBackwardConfig);
      if (e !== null) throw new AxonError('attentionBackward', `attentionBackwardConfig ${fmtValue(this.attentionBackwardConfig)} cannot run: ${e}`);
      return this.attentionBackwardConfig;
    }
    const p = ATTENTION_BACKWARD_PLANS.find((x) => why(x) === null);
    if (!p) throw new AxonError('attentionBackward', `no attention backward kernel shape fits this adapter (workgroup size ${this.wg}, ${maxStorage} bytes of workgroup memory)`);
    return p;
  }

  /** The attention kernel's shape: `attentionConfig` (checked against the adapter's limits) or the first built-in shape that fits. */
  private attentionPlan(): AttentionPlan {
    const maxStorage = this.limits.maxComputeWorkgroupStorageSize;
    const why = (p: AttentionPlan): string | null => {
      const tr = p.wg / p.bq;
      const vals = [p.wg, p.bq, p.bk, p.dq, p.cv];
      if (!vals.every((x) => Number.isInteger(x) && x >= 1)) return 'every size must be a positive integer';
      if (!Number.isInteger(tr) || p.bk % tr !== 0 || p.cv % tr !== 0) return `wg must be a multiple of bq and wg / bq (${tr}) must divide bk and cv`;
      if (p.wg > this.wg) return `wg ${p.wg} exceeds this adapter's workgroup size ${this.wg}`;
      if (attentionStorage(p) > maxStorage) return `it needs ${attentionStorage(p)} bytes of workgroup memory, the adapter allows ${maxStorage}`;
      return null;
    };
    if (this.attentionConfig !== null) {
      const e = why(this.attentionConfig);
      if (e !== null) throw new AxonError('attention', `attentionConfig ${fmtValue(this.attentionConfig)} cannot run: ${e}`);
      return this.attentionConfig;
    }
    const p = ATTENTION_PLANS.find((x) => why(x) === null);
    if (!p) throw new AxonError('attention', `no attention kernel shape fits this adapter (workgroup size ${this.wg}, ${maxStorage} bytes of workgroup memory)`);
    return p;
  }

  /** The matmul kernel's shape from `matmulConfig` and the adapter's limits (`tk` 0: not tiled). */
  private matmulPlan(): { tx: number; ty: number; tk: number; unroll: number; key: string } {
    const cfg = this.matmulConfig;
    const tx = cfg.tx;
    const ty = Math.max(1, Math.min(cfg.ty, Math.floor(this.limits.maxComputeInvocationsPerWorkgroup / tx), this.limits.maxComputeWorkgroupSizeY));
    const tiled = cfg.tk > 0 && (4 * ty + 4 * tx) * cfg.tk * 4 <= this.limits.maxComputeWorkgroupStorageSize;
    const tk = tiled ? cfg.tk : 0;
    const unroll = cfg.unroll ?? 1;
    return { tx, ty, tk, unroll, key: `${tx}|${ty}|${tk}|${unroll}` };
  }

  /**
   * Dispatches a matmul kernel over the [B, M, N] grid — one dispatch, or several when the grid
   * exceeds maxComputeWorkgroupsPerDimension — filling `MM`'s entries of `params` for each.
   */
  private matmulGrid(
    op: string,
    a: View,
    b: View,
    plan: { tx: number; ty: number },
    src: readonly [string, () => string],
    params: number[],
    bufs: readonly GPUBuffer[],
    layout?: { outputs: number; uniformParams: boolean },
  ): void {
    const [B, M] = a.shape as [number, number, number];
    const [, K, N] = b.shape as [number, number, number];
    const maxDim = this.limits.maxComputeWorkgroupsPerDimension;
    const gx = Math.ceil(N / (4 * plan.tx));
    const gy = Math.ceil(M / (4 * plan.ty));
    for (let z0 = 0; z0 < B; z0 += maxDim) {
      for (let y0 = 0; y0 < gy; y0 += maxDim) {
        for (let x0 = 0; x0 < gx; x0 += maxDim) {
          const p = params;
          p[MM.M] = M;
          p[MM.N] = N;
          p[MM.K] = K;
          p[MM.aOff] = a.offset;
          p[MM.aBs] = a.strides[0]!;
          p[MM.aMs] = a.strides[1]!;
          p[MM.aKs] = a.strides[2]!;
          p[MM.bOff] = b.offset;
          p[MM.bBs] = b.strides[0]!;
          p[MM.bKs] = b.strides[1]!;
          p[MM.bNs] = b.strides[2]!;
          p[MM.rowBase] = y0 * 4 * plan.ty;
          p[MM.colBase] = x0 * 4 * plan.tx;
          p[MM.batchBase] = z0;
          this.dispatch(op, src, p, bufs, [Math.min(maxDim, gx - x0), Math.min(maxDim, gy - y0), Math.min(maxDim, B - z0)], layout);
        }
      }
    }
  }

  private winParams(total: number, win: Window2d, x: View): number[] {
    const p = new Array<number>(WIN.len);
    p[WIN.total] = total;
    p[WIN.n] = win.n;
    p[WIN.c] = win.c;
    p[WIN.h] = win.h;
    p[WIN.w] = win.w;
    p[WIN.kH] = win.kH;
    p[WIN.kW] = win.kW;
    p[WIN.sH] = win.strideH;
    p[WIN.sW] = win.strideW;
    p[WIN.pT] = win.padTop;
    p[WIN.pL] = win.padLeft;
    p[WIN.dH] = win.dilationH;
    p[WIN.dW] = win.dilationW;
    p[WIN.oH] = win.outH;
    p[WIN.oW] = win.outW;
    p[WIN.xOff] = x.offset;
    for (let i = 0; i < x.strides.length; i++) p[WIN.xs + i] = x.strides[i]!;
    for (let i = x.strides.length; i < 4; i++) p[WIN.xs + i] = 0;
    return p;
  }

  im2col(x: View, win: Window2d, out: BackendBuffer): void {
    this.check('im2col');
    const o = asBuf(out, 'im2col');
    const total = win.n * win.c * win.kH * win.kW * win.outH * win.outW;
    if (total === 0) return;
    this.dispatch('im2col', ['im2col', () => im2colSource(this.wg)], this.winParams(total, win, x), [asBuf(x.buf, 'im2col').gpu!, o.gpu!], this.groups1d(total));
  }

  col2im(cols: View, win: Window2d, out: BackendBuffer): void {
    this.check('col2im');
    const o = asBuf(out, 'col2im');
    const total = win.n * win.c * win.h * win.w;
    if (total === 0) return;
    this.dispatch('col2im', ['col2im', () => col2imSource(this.wg)], this.winParams(total, win, cols), [asBuf(cols.buf, 'col2im').gpu!, o.gpu!], this.groups1d(total));
  }

  pool2d(op: 'max' | 'avg', x: View, win: Window2d, out: BackendBuffer): void {
    this.check('pool2d');
    const o = asBuf(out, 'pool2d');
    const total = win.n * win.c * win.outH * win.outW;
    if (total === 0) return;
    this.dispatch('pool2d', [`pool2d|${op}`, () => poolSource(this.wg, op)], this.winParams(total, win, x), [asBuf(x.buf, 'pool2d').gpu!, o.gpu!], this.groups1d(total));
  }

  pool2dGrad(op: 'max' | 'avg', x: View, dy: View, win: Window2d, out: BackendBuffer): void {
    this.check('pool2dGrad');
    const o = asBuf(out, 'pool2dGrad');
    const total = win.n * win.c * win.h * win.w;
    if (total === 0) return;
    const p = this.winParams(total, win, x);
    p.push(dy.offset, ...dy.strides);
    this.dispatch('pool2dGrad', [`pool2dGrad|${op}`, () => poolGradSource(this.wg, op)], p, [asBuf(x.buf, 'pool2dGrad').gpu!, asBuf(dy.buf, 'pool2dGrad').gpu!, o.gpu!], this.groups1d(total));
  }

  /**
   * The stable sorting permutation of each row of a [rows, n] float32/int32 view (see `Backend.sort`
   * in `@axon/core`) as a bitonic network over (order-preserving u32 key, index) pairs: a row that
   * fits the tile (2048 elements on most adapters) is one workgroup sorting in workgroup memory — one
   * dispatch for every row; a longer row sorts its tiles there, then merges with one dispatch per
   * compare distance ≥ the tile and one in workgroup memory per stage (6 dispatches for n = 5000)
   * through a [rows, N, 2] temporary (rows in passes when it would exceed a binding). NaN sorts
   * largest (after +Infinity ascending, first descending), −0 equals +0, ties keep their order in
   * both directions. Core calls it from `sort`/`argsort`/`topk`; users do not.
   * @example
   * ```ts
   * const b = await createWebGPUBackend();
   * const x = b.alloc('float32', 4);
   * b.write(x, new Float32Array([3, NaN, -0, 0]));
   * const out = b.alloc('int32', 4);
   * b.sort({ buf: x, dtype: 'float32', shape: [1, 4], strides: [4, 1], offset: 0 }, false, out);
   * Array.from(await b.read(out)) // [2, 3, 0, 1]
   * b.dispose();
   * ```
   */
  sort(x: View, descending: boolean, out: BackendBuffer): void {
    const op = 'sort';
    this.check(op);
    const xb = asBuf((x as View | undefined)?.buf as BackendBuffer, op);
    if ((x.dtype !== 'float32' && x.dtype !== 'int32') || xb.dtype !== x.dtype) throw new AxonError(op, `x must be a float32 or int32 view, got a ${x.dtype} view of a ${xb.dtype} buffer`);
    checkViewLayout(op, 'x', x, xb.size, 2);
    if (typeof descending !== 'boolean') throw new AxonError(op, `descending must be a boolean, got ${fmtValue(descending)}`);
    const [rows, n] = x.shape as [number, number];
    const o = asBuf(out, op);
    if (o.dtype !== 'int32' || o.size !== rows * n) throw new AxonError(op, `out must be an int32 buffer of ${rows * n} elements ([${rows},${n}]), got a ${o.dtype} buffer of ${o.size}`);
    if (o === xb && rows * n > 0) throw new AxonError(op, "out is x's buffer (outputs never alias inputs)");
    if (rows * n === 0) return;
    let N = 2;
    while (N < n) N *= 2;
    const tile = Math.min(N, this.sortTileSize());
    const maxDim = this.limits.maxComputeWorkgroupsPerDimension;
    if (N / tile > maxDim) throw new AxonError(op, `rows of ${n} elements need ${N / tile} workgroups of ${tile}, more than this adapter's ${maxDim} per dimension`);
    const params = new Array<number>(SRT.len).fill(0);
    params[SRT.n] = n;
    params[SRT.N] = N;
    params[SRT.xOff] = x.offset;
    params[SRT.xs0] = x.strides[0]!;
    params[SRT.xs1] = x.strides[1]!;
    params[SRT.desc] = descending ? 1 : 0;
    const wg = Math.min(this.wg, tile / 2);
    const layout = (outputs: number) => ({ outputs, uniformParams: true });
    const local = (mode: SortLocalMode, bufs: GPUBuffer[], outputs: number, r0: number, R: number): void => {
      const key = `sortLocal|${tile}|${wg}|${x.dtype}|${mode}`;
      params[SRT.r0] = r0;
      for (let y0 = 0; y0 < R; y0 += maxDim) {
        params[SRT.y0] = y0;
        this.dispatch(op, [key, () => sortLocalSource(tile, wg, x.dtype, mode)], params, bufs, [N / tile, Math.min(maxDim, R - y0), 1], layout(outputs));
      }
    };
    if (N === tile) {
      local('full', [xb.gpu!, o.gpu!], 1, 0, rows);
      return;
    }
    // longer rows: tiles sorted in workgroup memory, then merged through a [R, N, 2] temporary
    const cap = Math.min(this.limits.maxStorageBufferBindingSize, this.limits.maxBufferSize);
    const perPass = Math.min(rows, Math.floor(cap / (8 * N)));
    if (perPass < 1) throw new AxonError(op, `a row of ${n} elements needs a ${8 * N}-byte temporary, more than this adapter's ${cap}-byte binding limit`);
    const tmp = this.alloc('int32', 2 * perPass * N) as WebGPUBuffer;
    try {
      const t = tmp.gpu!;
      for (let r0 = 0; r0 < rows; r0 += perPass) {
        const R = Math.min(perPass, rows - r0);
        local('first', [xb.gpu!, t], 1, r0, R);
        for (let size = 2 * tile; size <= N; size *= 2) {
          for (let j = size / 2; j >= tile; j /= 2) {
            params[SRT.total] = (R * N) / 2;
            params[SRT.size] = size;
            params[SRT.j] = j;
            this.dispatch(op, [`sortStep|${this.wg}`, () => sortStepSource(this.wg)], params, [t], this.groups1d((R * N) / 2), layout(1));
          }
          params[SRT.size] = size;
          if (size < N) local('merge', [t], 1, r0, R);
          else local('last', [t, o.gpu!], 1, r0, R);
        }
      }
    } finally {
      this.free(tmp);
    }
  }

  /** The sort kernel's tile: `sortTile` (checked) or the largest power of two ≤ 2048 whose keys and indices fit workgroup memory. */
  private sortTileSize(): number {
    const maxStorage = this.limits.maxComputeWorkgroupStorageSize;
    const t = this.sortTile;
    if (t !== null) {
      if (!Number.isInteger(t) || t < 2 || (t & (t - 1)) !== 0) throw new AxonError('sort', `sortTile must be a power of two >= 2, got ${fmtValue(t)}`);
      if (8 * t > maxStorage) throw new AxonError('sort', `sortTile ${t} needs ${8 * t} bytes of workgroup memory, the adapter allows ${maxStorage}`);
      return t;
    }
    let tile = 2048;
    while (tile > 2 && 8 * tile > maxStorage) tile /= 2;
    return tile;
  }

  private gsParams(total: number, outer: number, n: number, m: number, inner: number, x: View, idx: View): number[] {
    return [total, outer, n, m, inner, x.offset, x.strides[0]!, x.strides[1]!, x.strides[2]!, idx.offset, idx.strides[0]!];
  }

  gather(x: View, indices: View, out: BackendBuffer): void {
    this.check('gather');
    const o = asBuf(out, 'gather');
    const [outer, n, inner] = x.shape as [number, number, number];
    const m = indices.shape[0]!;
    const total = outer * m * inner;
    if (total === 0) return;
    const p = this.gsParams(total, outer, n, m, inner, x, indices);
    this.dispatch('gather', [`gather|${x.dtype}`, () => gatherSource(this.wg, x.dtype)], p, [asBuf(x.buf, 'gather').gpu!, asBuf(indices.buf, 'gather').gpu!, o.gpu!], this.groups1d(total));
  }

  scatterAdd(updates: View, indices: View, n: number, out: BackendBuffer): void {
    this.check('scatterAdd');
    const o = asBuf(out, 'scatterAdd');
    const [outer, m, inner] = updates.shape as [number, number, number];
    const outTotal = outer * n * inner;
    if (outTotal === 0) return;
    const upd = asBuf(updates.buf, 'scatterAdd').gpu!;
    const idx = asBuf(indices.buf, 'scatterAdd').gpu!;
    // Gathering form (deterministic) unless it would loop over many indices for every output.
    if (m <= 64 || outTotal * m <= 2 ** 24 || updates.dtype === 'bool') {
      const p = this.gsParams(outTotal, outer, n, m, inner, updates, indices);
      this.dispatch('scatterAdd', [`scatterLoop|${updates.dtype}`, () => scatterLoopSource(this.wg, updates.dtype)], p, [upd, idx, o.gpu!], this.groups1d(outTotal));
      return;
    }
    this.fill(out, 0);
    const total = outer * m * inner;
    if (total === 0) return;
    const p = this.gsParams(total, outer, n, m, inner, updates, indices);
    this.dispatch('scatterAdd', [`scatterAtomic|${updates.dtype}`, () => scatterAtomicSource(this.wg, updates.dtype)], p, [upd, idx, o.gpu!], this.groups1d(total));
  }

  random(kind: RandomKind, key: number, counter: number, a: number, b: number, out: BackendBuffer): void {
    this.check('random');
    const o = asBuf(out, 'random');
    if (o.size === 0) return;
    const p = [o.size, key >>> 0, counter >>> 0, 0, 0, 0, 0]; // p[6] stays 0 (an opaque zero)
    if (kind === 'uniform') {
      const hi = fround(a);
      p[3] = f32Bits(hi);
      p[4] = f32Bits(a - hi);
      p[5] = f32Bits(fround(b - a));
    } else if (kind === 'normal') {
      p[3] = f32Bits(a);
      p[4] = f32Bits(b);
    } else if (kind === 'bernoulli') {
      p[3] = Math.min(2 ** 24, Math.max(0, Math.ceil(a * 2 ** 24)));
    } else {
      p[3] = a | 0;
      p[4] = (b - a) >>> 0;
    }
    this.dispatch('random', [`random|${kind}|${o.dtype}`, () => randomSource(this.wg, kind, o.dtype)], p, [o.gpu!], this.groups1d(o.size));
  }

  async sync(): Promise<void> {
    this.check('sync');
    this.flush();
    await Promise.race([this.device.queue.onSubmittedWorkDone(), this.lostPromise]);
    this.check('sync');
  }

  /** Releases the device and every buffer; never throws (also not on a lost device). */
  dispose(): void {
    if (this.disposed) return;
    if (this.lost === undefined) {
      try {
        this.flush();
      } catch {
        /* the device may be going away */
      }
    }
    this.disposed = true;
    const all = [...[...this.pool.values()].flat(), ...[...this.stagingPool.values()].flat(), this.paramsGPU];
    this.pool.clear();
    this.stagingPool.clear();
    this.bindGroups.clear();
    this.bindGroupKeys.clear();
    this.pooledBytes = 0;
    this.encoder = null;
    this.pass = null;
    try {
      for (const b of all) b.destroy();
      this.device.destroy();
    } catch {
      /* a lost device may refuse to release what it already lost */
    }
  }
}
