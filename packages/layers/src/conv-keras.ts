/**
 * Keras-front 1-D convolution, transposed 2-D convolution, 1-D pools and upsampling over
 * channels-last input (`[N, L, C]`, `[N, H, W, C]`, Keras' default `data_format`), with Keras'
 * weight layouts, option names, initialisers and lazy build: each transposes around core's
 * channels-first op (`conv1d`, `convTranspose2d`, `maxPool1d`, `avgPool1d`, `upsample`).
 */
import { AxonError, type Tensor, avgPool1d, avgPool2d, conv1d, convTranspose2d, fmtShape, fmtValue, isTensor, maxPool1d, upsample } from '@axon/core';
import { type ActivationName, activationName, getActivation } from './activations.js';
import { initParameter } from './build.js';
import { type Initializer, getInitializer } from './init.js';
import { type LayerConfig, Module, reserveParameters } from './module.js';
import type { IntPair } from './conv-more.js';
import type { SymbolicShape } from './symbolic.js';
import { checkInt, composite, optBool, optInputShape, optName, optionsOf } from './validate.js';

const MAXD = 2 ** 24;

function intOf(op: string, what: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > MAXD) throw new AxonError(op, `${what} must be an integer in [${min}, 2^24], got ${fmtValue(v)}`);
  return v;
}
function pairOf(op: string, what: string, v: unknown, min: number): [number, number] {
  if (typeof v === 'number') return [intOf(op, what, v, min), v];
  if (Array.isArray(v) && v.length === 2) return [intOf(op, what, v[0], min), intOf(op, what, v[1], min)];
  throw new AxonError(op, `${what} must be an integer in [${min}, 2^24] or a pair of them, got ${fmtValue(v)}`);
}
function paddingOf<P extends string>(op: string, v: unknown, allowed: readonly P[]): P {
  const p = v ?? 'valid';
  if (!allowed.includes(p as P)) throw new AxonError(op, `padding must be ${allowed.map((a) => `'${a}'`).join(', ')}, got ${fmtValue(v)}`);
  return p as P;
}
function layerOp(m: Module): string {
  return `${m.className} '${m.name}'`;
}
function checkInput(m: Module, x: unknown, rank: number, layout: string, channels: number | null): asserts x is Tensor {
  if (!isTensor(x) || x.rank !== rank || x.dtype !== 'float32' || (channels !== null && x.shape[rank - 1] !== channels)) {
    throw new AxonError(layerOp(m), `expected float32 channels-last input ${layout}, got ${isTensor(x) ? `${x.dtype} ${fmtShape(x.shape)}` : fmtValue(x)}`);
  }
}

/**
 * Options of {@link KerasConv1D} (Keras' `Conv1D` arguments after `filters` and `kernelSize`).
 * @example
 * const opts: KerasConv1DOptions = { padding: 'causal', activation: 'relu' };
 * new KerasConv1D(8, 3, opts).call(randn([2, 10, 4])).shape // [2, 10, 8]
 */
export interface KerasConv1DOptions {
  strides?: number;
  /** `'valid'` (default), `'same'` (TensorFlow's: output `⌈L/strides⌉`) or `'causal'` (left padding). */
  padding?: 'valid' | 'same' | 'causal';
  dilationRate?: number;
  groups?: number;
  activation?: string;
  useBias?: boolean;
  kernelInitializer?: Initializer;
  biasInitializer?: Initializer;
  name?: string;
  /** One example's shape `[steps, channels]`. */
  inputShape?: readonly number[];
}

/**
 * Keras' `Conv1D` over channels-last `[N, steps, channels]`: kernel `[k, channels/groups, filters]`
 * (Keras' layout; glorotUniform), bias `[filters]` (zeros), built on the first call; `'causal'`
 * padding pads `dilationRate·(k − 1)` on the left only. Named with the `Keras` prefix as
 * `KerasLSTM`: PyTorch's `Conv1d` differs from Keras' `Conv1D` by one letter's case.
 * @example new KerasConv1D(8, 3).call(randn([2, 10, 4])).shape // [2, 8, 8]
 */
export class KerasConv1D extends Module {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'KerasConv1D';
  readonly filters: number;
  readonly kernelSize: number;
  readonly strides: number;
  readonly padding: 'valid' | 'same' | 'causal';
  readonly dilationRate: number;
  readonly groups: number;
  readonly activation: ActivationName;
  readonly useBias: boolean;
  /** [k, channels/groups, filters] once built. */
  kernel: Tensor | null = null;
  /** [filters] once built (when `useBias`). */
  bias: Tensor | null = null;
  /** The input's shape (one example) when given. */
  readonly inputShape: readonly number[] | undefined;
  private readonly kernelInit: Initializer;
  private readonly biasInit: Initializer;
  private readonly act: (x: Tensor) => Tensor;

  constructor(filters: number, kernelSize: number, opts: KerasConv1DOptions = {}) {
    const op = 'KerasConv1D';
    const o = optionsOf<KerasConv1DOptions>(op, opts, ['strides', 'padding', 'dilationRate', 'groups', 'activation', 'useBias', 'kernelInitializer', 'biasInitializer', 'name', 'inputShape']);
    const f = checkInt(op, 'filters', filters);
    const k = intOf(op, 'kernelSize', kernelSize, 1);
    const strides = intOf(op, 'strides', o.strides ?? 1, 1);
    const dilationRate = intOf(op, 'dilationRate', o.dilationRate ?? 1, 1);
    const padding = paddingOf(op, o.padding, ['valid', 'same', 'causal'] as const);
    const groups = checkInt(op, 'groups', o.groups ?? 1);
    if (f % groups !== 0) throw new AxonError(op, `filters (${f}) must be divisible by groups (${groups})`);
    if (strides > 1 && dilationRate > 1) throw new AxonError(op, `strides ${strides} and dilationRate ${dilationRate} cannot both exceed 1 (as Keras)`);
    const act = activationName(o.activation, op);
    const useBias = optBool(op, 'useBias', o.useBias) ?? true;
    const kernelInit = o.kernelInitializer ?? 'glorotUniform';
    const biasInit = o.biasInitializer ?? 'zeros';
    getInitializer(kernelInit);
    getInitializer(biasInit);
    const shape = optInputShape(op, o.inputShape);
    if (shape && shape.length !== 2) throw new AxonError(op, `inputShape must be [steps, channels], got ${fmtShape(shape)}`);
    super(optName(op, o.name));
    this.filters = f;
    this.kernelSize = k;
    this.strides = strides;
    this.padding = padding;
    this.dilationRate = dilationRate;
    this.groups = groups;
    this.activation = act;
    this.act = getActivation(act);
    this.useBias = useBias;
    this.kernelInit = kernelInit;
    this.biasInit = biasInit;
    this.inputShape = shape;
    if (shape) this.build(shape[1]!);
  }

  /** The input's channel count once built, else null. */
  get inputDim(): number | null {
    return this.kernel ? this.kernel.shape[1]! * this.groups : null;
  }

  /**
   * Creates the weights for `channels` input channels (done on the first call).
   * @example
   * const c = new KerasConv1D(8, 3);
   * c.build(4);
   * c.kernel!.shape // [3, 4, 8]
   */
  build(channels: number): void {
    const op = layerOp(this);
    if (this.kernel) {
      if (this.inputDim !== channels) throw new AxonError(op, `already built for ${this.inputDim} input channels, got ${channels}`);
      return;
    }
    checkInt(op, 'input channels', channels);
    if (channels % this.groups !== 0) throw new AxonError(op, `input channels (${channels}) must be divisible by groups (${this.groups})`);
    const kShape = [this.kernelSize, channels / this.groups, this.filters];
    reserveParameters(op, this.useBias ? [kShape, [this.filters]] : [kShape]);
    // Keras' fans for a conv kernel: receptive field × in / out channels
    const fan = { fanIn: this.kernelSize * (channels / this.groups), fanOut: this.kernelSize * this.filters };
    try {
      this.kernel = initParameter(this, 'kernel', getInitializer(this.kernelInit), kShape, fan);
      if (this.useBias) this.bias = initParameter(this, 'bias', getInitializer(this.biasInit), [this.filters], fan);
    } catch (e) {
      this.kernel?.dispose();
      this.kernel = null;
      this.bias = null;
      throw e;
    }
  }

  forward(x: Tensor): Tensor {
    checkInput(this, x, 3, `[N, steps, ${this.inputDim ?? 'channels'}]`, this.inputDim);
    if (!this.kernel) this.build(x.shape[2]!);
    const pad = this.padding === 'causal' ? ([this.dilationRate * (this.kernelSize - 1), 0] as const) : this.padding;
    return composite([x, this.kernel, this.bias], (tmp) => {
      const xc = tmp(x.transpose([0, 2, 1])); // [N, C, L]
      const w = tmp(this.kernel!.transpose([2, 1, 0])); // [filters, C/groups, k]
      const y = tmp(conv1d(xc, w, { stride: this.strides, padding: pad, dilation: this.dilationRate, groups: this.groups, bias: this.bias }));
      return this.activation === 'linear' ? y.transpose([0, 2, 1]) : this.act(tmp(y.transpose([0, 2, 1])));
    });
  }

  override computeOutputShape(s: SymbolicShape): SymbolicShape {
    if (s.length !== 3 || typeof s[2] !== 'number') throw new AxonError(layerOp(this), `expected [N, steps, channels], got [${s.map((v) => v ?? 'null').join(',')}]`);
    if (!this.kernel) this.build(s[2]);
    return super.computeOutputShape(s);
  }

  override getConfig(): LayerConfig {
    const c: Record<string, LayerConfig[string]> = {
      filters: this.filters,
      kernelSize: this.kernelSize,
      strides: this.strides,
      padding: this.padding,
      dilationRate: this.dilationRate,
      groups: this.groups,
      activation: this.activation,
      useBias: this.useBias,
    };
    if (typeof this.kernelInit === 'string') c['kernelInitializer'] = this.kernelInit;
    if (typeof this.biasInit === 'string') c['biasInitializer'] = this.biasInit;
    if (this.inputShape) c['inputShape'] = [...this.inputShape];
    else if (this.inputDim !== null) c['inputChannels'] = this.inputDim;
    return c;
  }

  /**
   * Rebuilds from `getConfig()` (built when the config names the input channels).
   * @example KerasConv1D.fromConfig({ filters: 8, kernelSize: 3, inputChannels: 4 }, 'c').kernel!.shape // [3, 4, 8]
   */
  static fromConfig(c: LayerConfig, name: string): KerasConv1D {
    const m = new KerasConv1D(c['filters'] as number, c['kernelSize'] as number, {
      strides: c['strides'] as number,
      padding: c['padding'] as 'valid',
      dilationRate: c['dilationRate'] as number,
      groups: c['groups'] as number,
      activation: c['activation'] as string,
      useBias: c['useBias'] !== false,
      ...(typeof c['kernelInitializer'] === 'string' ? { kernelInitializer: c['kernelInitializer'] as Initializer } : {}),
      ...(typeof c['biasInitializer'] === 'string' ? { biasInitializer: c['biasInitializer'] as Initializer } : {}),
      ...(Array.isArray(c['inputShape']) ? { inputShape: c['inputShape'] as number[] } : {}),
      name,
    });
    if (typeof c['inputChannels'] === 'number') m.build(c['inputChannels']);
    return m;
  }
}

/**
 * Options of {@link Conv2DTranspose} (Keras' arguments after `filters` and `kernelSize`).
 * @example
 * const opts: Conv2DTransposeOptions = { strides: 2, padding: 'same' };
 * new Conv2DTranspose(4, 3, opts).call(randn([1, 5, 5, 8])).shape // [1, 10, 10, 4]
 */
export interface Conv2DTransposeOptions {
  strides?: IntPair;
  /** `'valid'` (default) or `'same'` (output `in·strides` without `outputPadding`). */
  padding?: 'valid' | 'same';
  /** Keras' `output_padding` (each smaller than the stride); when absent Keras' default sizes. */
  outputPadding?: IntPair;
  dilationRate?: IntPair;
  activation?: string;
  useBias?: boolean;
  kernelInitializer?: Initializer;
  biasInitializer?: Initializer;
  name?: string;
  /** One example's shape `[H, W, channels]`. */
  inputShape?: readonly number[];
}

/**
 * Keras' `Conv2DTranspose` over channels-last `[N, H, W, channels]`: kernel `[kH, kW, filters,
 * channels]` (Keras' layout; glorotUniform), bias `[filters]` (zeros), built on the first call.
 * Output size per axis as Keras' `deconv_output_length`: `'valid'` `in·s + max(K − s, 0)`, `'same'`
 * `in·s`, or with `outputPadding` `(in − 1)·s + K − 2·pad + outputPadding` (pad = ⌊K/2⌋ for
 * `'same'`), K = dilation·(k − 1) + 1; the window is placed as TensorFlow's `conv2d_transpose`.
 * @example new Conv2DTranspose(4, 2, { strides: 2 }).call(randn([1, 5, 5, 8])).shape // [1, 10, 10, 4]
 */
export class Conv2DTranspose extends Module {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'Conv2DTranspose';
  readonly filters: number;
  readonly kernelSize: [number, number];
  readonly strides: [number, number];
  readonly padding: 'valid' | 'same';
  readonly outputPadding: [number, number] | null;
  readonly dilationRate: [number, number];
  readonly activation: ActivationName;
  readonly useBias: boolean;
  /** [kH, kW, filters, channels] once built. */
  kernel: Tensor | null = null;
  /** [filters] once built (when `useBias`). */
  bias: Tensor | null = null;
  /** The input's shape (one example) when given. */
  readonly inputShape: readonly number[] | undefined;
  private readonly kernelInit: Initializer;
  private readonly biasInit: Initializer;
  private readonly act: (x: Tensor) => Tensor;

  constructor(filters: number, kernelSize: IntPair, opts: Conv2DTransposeOptions = {}) {
    const op = 'Conv2DTranspose';
    const o = optionsOf<Conv2DTransposeOptions>(op, opts, ['strides', 'padding', 'outputPadding', 'dilationRate', 'activation', 'useBias', 'kernelInitializer', 'biasInitializer', 'name', 'inputShape']);
    const f = checkInt(op, 'filters', filters);
    const k = pairOf(op, 'kernelSize', kernelSize, 1);
    const strides = pairOf(op, 'strides', o.strides ?? 1, 1);
    const dilationRate = pairOf(op, 'dilationRate', o.dilationRate ?? 1, 1);
    const padding = paddingOf(op, o.padding, ['valid', 'same'] as const);
    const outputPadding = o.outputPadding === undefined ? null : pairOf(op, 'outputPadding', o.outputPadding, 0);
    if (outputPadding && outputPadding.some((p, i) => p >= strides[i]!)) throw new AxonError(op, `outputPadding ${fmtValue(o.outputPadding)} must be smaller than the strides ${fmtValue(strides)} (as Keras)`);
    const act = activationName(o.activation, op);
    const useBias = optBool(op, 'useBias', o.useBias) ?? true;
    const kernelInit = o.kernelInitializer ?? 'glorotUniform';
    const biasInit = o.biasInitializer ?? 'zeros';
    getInitializer(kernelInit);
    getInitializer(biasInit);
    const shape = optInputShape(op, o.inputShape);
    if (shape && shape.length !== 3) throw new AxonError(op, `inputShape must be [H, W, channels], got ${fmtShape(shape)}`);
    super(optName(op, o.name));
    this.filters = f;
    this.kernelSize = k;
    this.strides = strides;
    this.padding = padding;
    this.outputPadding = outputPadding;
    this.dilationRate = dilationRate;
    this.activation = act;
    this.act = getActivation(act);
    this.useBias = useBias;
    this.kernelInit = kernelInit;
    this.biasInit = biasInit;
    this.inputShape = shape;
    if (shape) this.build(shape[2]!);
  }

  /** The input's channel count once built, else null. */
  get inputDim(): number | null {
    return this.kernel ? this.kernel.shape[3]! : null;
  }

  /**
   * Creates the weights for `channels` input channels (done on the first call).
   * @example
   * const c = new Conv2DTranspose(4, 3);
   * c.build(8);
   * c.kernel!.shape // [3, 3, 4, 8]
   */
  build(channels: number): void {
    const op = layerOp(this);
    if (this.kernel) {
      if (this.inputDim !== channels) throw new AxonError(op, `already built for ${this.inputDim} input channels, got ${channels}`);
      return;
    }
    checkInt(op, 'input channels', channels);
    const [kH, kW] = this.kernelSize;
    const kShape = [kH, kW, this.filters, channels];
    reserveParameters(op, this.useBias ? [kShape, [this.filters]] : [kShape]);
    // Keras' fans for a kernel [kH, kW, a, b]: receptive field × a and × b
    const fan = { fanIn: kH * kW * this.filters, fanOut: kH * kW * channels };
    try {
      this.kernel = initParameter(this, 'kernel', getInitializer(this.kernelInit), kShape, fan);
      if (this.useBias) this.bias = initParameter(this, 'bias', getInitializer(this.biasInit), [this.filters], fan);
    } catch (e) {
      this.kernel?.dispose();
      this.kernel = null;
      this.bias = null;
      throw e;
    }
  }

  /** Per axis: Keras' output size, TensorFlow's crop before it, and the extension past the full output. */
  private geometry(inH: number, inW: number): { out: [number, number]; crop: [number, number]; extra: [number, number] } {
    const out: [number, number] = [0, 0];
    const crop: [number, number] = [0, 0];
    const extra: [number, number] = [0, 0];
    [inH, inW].forEach((n, i) => {
      const s = this.strides[i]!;
      const K = this.dilationRate[i]! * (this.kernelSize[i]! - 1) + 1;
      const op = this.outputPadding?.[i];
      const o = op === undefined ? (this.padding === 'valid' ? n * s + Math.max(K - s, 0) : n * s) : (n - 1) * s + K - 2 * (this.padding === 'same' ? K >> 1 : 0) + op;
      // TensorFlow: the gradient of a conv2d whose input is `o` long; 'same' pads it before by ⌊total/2⌋
      const total = this.padding === 'same' ? Math.max((n - 1) * s + K - o, 0) : 0;
      const before = total >> 1;
      const full = (n - 1) * s + K;
      out[i] = o;
      crop[i] = before;
      extra[i] = Math.max(before + o - full, 0);
    });
    if (out.some((o) => o < 1)) throw new AxonError(layerOp(this), `the output would be ${out[0]}×${out[1]} for input ${inH}×${inW}`);
    if (extra.some((e, i) => e >= this.strides[i]!)) throw new AxonError(layerOp(this), `internal: output ${out[0]}×${out[1]} extends the full transposed convolution by ${fmtValue(extra)}`);
    return { out, crop, extra };
  }

  forward(x: Tensor): Tensor {
    checkInput(this, x, 4, `[N, H, W, ${this.inputDim ?? 'channels'}]`, this.inputDim);
    if (!this.kernel) this.build(x.shape[3]!);
    const [N, H, W] = x.shape as [number, number, number];
    const { out, crop, extra } = this.geometry(H, W);
    return composite([x, this.kernel, this.bias], (tmp) => {
      const xc = tmp(x.transpose([0, 3, 1, 2])); // [N, C, H, W]
      const w = tmp(this.kernel!.transpose([3, 2, 0, 1])); // [C, filters, kH, kW]
      const full = tmp(convTranspose2d(xc, w, { stride: this.strides, dilation: this.dilationRate, outputPadding: extra, bias: this.bias }));
      const y = tmp(full.slice([0, 0, crop[0], crop[1]], [N, this.filters, out[0], out[1]]));
      return this.activation === 'linear' ? y.transpose([0, 2, 3, 1]) : this.act(tmp(y.transpose([0, 2, 3, 1])));
    });
  }

  override computeOutputShape(s: SymbolicShape): SymbolicShape {
    if (s.length !== 4 || typeof s[1] !== 'number' || typeof s[2] !== 'number' || typeof s[3] !== 'number') {
      throw new AxonError(layerOp(this), `expected [N, H, W, channels], got [${s.map((v) => v ?? 'null').join(',')}]`);
    }
    if (!this.kernel) this.build(s[3]);
    const { out } = this.geometry(s[1], s[2]);
    return [s[0]!, out[0], out[1], this.filters];
  }

  override getConfig(): LayerConfig {
    const c: Record<string, LayerConfig[string]> = {
      filters: this.filters,
      kernelSize: [...this.kernelSize],
      strides: [...this.strides],
      padding: this.padding,
      outputPadding: this.outputPadding ? [...this.outputPadding] : null,
      dilationRate: [...this.dilationRate],
      activation: this.activation,
      useBias: this.useBias,
    };
    if (typeof this.kernelInit === 'string') c['kernelInitializer'] = this.kernelInit;
    if (typeof this.biasInit === 'string') c['biasInitializer'] = this.biasInit;
    if (this.inputShape) c['inputShape'] = [...this.inputShape];
    else if (this.inputDim !== null) c['inputChannels'] = this.inputDim;
    return c;
  }

  /**
   * Rebuilds from `getConfig()` (built when the config names the input channels).
   * @example Conv2DTranspose.fromConfig({ filters: 4, kernelSize: [3, 3], inputChannels: 8 }, 'up').kernel!.shape // [3, 3, 4, 8]
   */
  static fromConfig(c: LayerConfig, name: string): Conv2DTranspose {
    const m = new Conv2DTranspose(c['filters'] as number, c['kernelSize'] as [number, number], {
      strides: c['strides'] as [number, number],
      padding: c['padding'] as 'valid',
      ...(Array.isArray(c['outputPadding']) ? { outputPadding: c['outputPadding'] as [number, number] } : {}),
      dilationRate: c['dilationRate'] as [number, number],
      activation: c['activation'] as string,
      useBias: c['useBias'] !== false,
      ...(typeof c['kernelInitializer'] === 'string' ? { kernelInitializer: c['kernelInitializer'] as Initializer } : {}),
      ...(typeof c['biasInitializer'] === 'string' ? { biasInitializer: c['biasInitializer'] as Initializer } : {}),
      ...(Array.isArray(c['inputShape']) ? { inputShape: c['inputShape'] as number[] } : {}),
      name,
    });
    if (typeof c['inputChannels'] === 'number') m.build(c['inputChannels']);
    return m;
  }
}

/**
 * Options of the Keras pooling layers.
 * @example
 * const opts: KerasPoolOptions = { strides: 1, padding: 'same' };
 * new AveragePooling1D(2, opts).call(tensor([[[1], [2], [3]]])) // [[[1.5], [2.5], [3]]]
 */
export interface KerasPoolOptions {
  /** Defaults to the pool size. */
  strides?: IntPair;
  /** `'valid'` (default) or `'same'` (TensorFlow's: output `⌈n/strides⌉`; padding never counts). */
  padding?: 'valid' | 'same';
  name?: string;
  /** One example's shape (`[steps, channels]` or `[H, W, channels]`). */
  inputShape?: readonly number[];
}

abstract class KerasPool extends Module {
  readonly poolSize: number[];
  readonly strides: number[];
  readonly padding: 'valid' | 'same';
  /** The input's shape (one example) when given. */
  readonly inputShape: readonly number[] | undefined;
  constructor(cls: string, nd: 1 | 2, poolSize: IntPair, opts: KerasPoolOptions) {
    const o = optionsOf<KerasPoolOptions>(cls, opts, ['strides', 'padding', 'name', 'inputShape']);
    const size = nd === 2 ? pairOf(cls, 'poolSize', poolSize, 1) : [intOf(cls, 'poolSize', poolSize, 1)];
    const strides = o.strides === undefined ? size : nd === 2 ? pairOf(cls, 'strides', o.strides, 1) : [intOf(cls, 'strides', o.strides, 1)];
    const padding = paddingOf(cls, o.padding, ['valid', 'same'] as const);
    const shape = optInputShape(cls, o.inputShape);
    if (shape && shape.length !== nd + 1) throw new AxonError(cls, `inputShape must be [${nd === 1 ? 'steps' : 'H, W'}, channels], got ${fmtShape(shape)}`);
    super(optName(cls, o.name));
    this.poolSize = size;
    this.strides = strides;
    this.padding = padding;
    this.inputShape = shape;
  }
  override getConfig(): LayerConfig {
    const one = (v: number[]): LayerConfig[string] => (v.length === 1 ? v[0]! : [...v]);
    return { poolSize: one(this.poolSize), strides: one(this.strides), padding: this.padding };
  }
}

function pool1dChannelsLast(m: KerasPool, kind: 'max' | 'avg', x: Tensor): Tensor {
  checkInput(m, x, 3, '[N, steps, channels]', null);
  return composite([x], (tmp) => {
    const xc = tmp(x.transpose([0, 2, 1]));
    const o = { stride: m.strides[0]!, padding: m.padding };
    const y = tmp(kind === 'max' ? maxPool1d(xc, m.poolSize[0]!, o) : avgPool1d(xc, m.poolSize[0]!, { ...o, countIncludePad: false }));
    return y.transpose([0, 2, 1]);
  });
}

/**
 * Keras' `MaxPooling1D` over channels-last `[N, steps, channels]` (strides default to the pool size).
 * @example new MaxPooling1D(2).call(tensor([[[1, 6], [3, 5], [2, 4], [0, 8]]])) // [[[3, 6], [2, 8]]]
 */
export class MaxPooling1D extends KerasPool {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'MaxPooling1D';
  constructor(poolSize = 2, opts: KerasPoolOptions = {}) {
    super('MaxPooling1D', 1, poolSize, opts);
  }
  forward(x: Tensor): Tensor {
    return pool1dChannelsLast(this, 'max', x);
  }
  /**
   * Rebuilds from `getConfig()`.
   * @example MaxPooling1D.fromConfig(new MaxPooling1D(3).getConfig(), 'p').poolSize // [3]
   */
  static fromConfig(c: LayerConfig, name: string): MaxPooling1D {
    return new MaxPooling1D(c['poolSize'] as number, { strides: c['strides'] as number, padding: c['padding'] as 'valid', name });
  }
}

/**
 * Keras' `AveragePooling1D` over channels-last `[N, steps, channels]`; with `'same'` padding the
 * border windows average only the elements inside the input, as Keras.
 * @example new AveragePooling1D(2).call(tensor([[[1, 6], [3, 5], [2, 4], [0, 8]]])) // [[[2, 5.5], [1, 6]]]
 */
export class AveragePooling1D extends KerasPool {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'AveragePooling1D';
  constructor(poolSize = 2, opts: KerasPoolOptions = {}) {
    super('AveragePooling1D', 1, poolSize, opts);
  }
  forward(x: Tensor): Tensor {
    return pool1dChannelsLast(this, 'avg', x);
  }
  /**
   * Rebuilds from `getConfig()`.
   * @example AveragePooling1D.fromConfig(new AveragePooling1D(3).getConfig(), 'p').strides // [3]
   */
  static fromConfig(c: LayerConfig, name: string): AveragePooling1D {
    return new AveragePooling1D(c['poolSize'] as number, { strides: c['strides'] as number, padding: c['padding'] as 'valid', name });
  }
}

/**
 * Keras' `AveragePooling2D` over channels-last `[N, H, W, channels]`; with `'same'` padding the
 * border windows average only the elements inside the input, as Keras (unlike the PyTorch-front
 * `AvgPool2d`, whose default counts padding).
 * @example new AveragePooling2D(2, { strides: 1, padding: 'same' }).call(ones([1, 2, 2, 1])) // [[[[1], [1]], [[1], [1]]]]
 */
export class AveragePooling2D extends KerasPool {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'AveragePooling2D';
  constructor(poolSize: IntPair = 2, opts: KerasPoolOptions = {}) {
    super('AveragePooling2D', 2, poolSize, opts);
  }
  forward(x: Tensor): Tensor {
    checkInput(this, x, 4, '[N, H, W, channels]', null);
    return composite([x], (tmp) => {
      const xc = tmp(x.transpose([0, 3, 1, 2]));
      const y = tmp(avgPool2d(xc, [this.poolSize[0]!, this.poolSize[1]!], { stride: [this.strides[0]!, this.strides[1]!], padding: this.padding, countIncludePad: false }));
      return y.transpose([0, 2, 3, 1]);
    });
  }
  /**
   * Rebuilds from `getConfig()`.
   * @example AveragePooling2D.fromConfig(new AveragePooling2D(3).getConfig(), 'p').poolSize // [3, 3]
   */
  static fromConfig(c: LayerConfig, name: string): AveragePooling2D {
    return new AveragePooling2D(c['poolSize'] as [number, number], { strides: c['strides'] as [number, number], padding: c['padding'] as 'valid', name });
  }
}

/**
 * Options of {@link UpSampling1D} and {@link UpSampling2D}.
 * @example
 * const opts: UpSamplingOptions = { size: [2, 3], interpolation: 'bilinear' };
 * new UpSampling2D(opts).call(randn([1, 4, 4, 3])).shape // [1, 8, 12, 3]
 */
export interface UpSamplingOptions {
  /** The repeat factor (per axis for `UpSampling2D`), default 2. */
  size?: IntPair;
  /** `UpSampling2D` only: `'nearest'` (default) or `'bilinear'` (half-pixel centres, as Keras). */
  interpolation?: 'nearest' | 'bilinear';
  name?: string;
  /** One example's shape (`[steps, channels]` or `[H, W, channels]`). */
  inputShape?: readonly number[];
}

/**
 * Keras' `UpSampling1D` over `[N, steps, channels]`: repeats each step `size` times.
 * @example new UpSampling1D({ size: 2 }).call(tensor([[[1, 2], [3, 4]]])) // [[[1, 2], [1, 2], [3, 4], [3, 4]]]
 */
export class UpSampling1D extends Module {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'UpSampling1D';
  readonly size: number;
  /** The input's shape (one example) when given. */
  readonly inputShape: readonly number[] | undefined;
  constructor(opts: UpSamplingOptions = {}) {
    const op = 'UpSampling1D';
    const o = optionsOf<UpSamplingOptions>(op, opts, ['size', 'name', 'inputShape']);
    const size = intOf(op, 'size', o.size ?? 2, 1);
    const shape = optInputShape(op, o.inputShape);
    if (shape && shape.length !== 2) throw new AxonError(op, `inputShape must be [steps, channels], got ${fmtShape(shape)}`);
    super(optName(op, o.name));
    this.size = size;
    this.inputShape = shape;
  }
  forward(x: Tensor): Tensor {
    checkInput(this, x, 3, '[N, steps, channels]', null);
    return composite([x], (tmp) => {
      const y = tmp(upsample(tmp(x.transpose([0, 2, 1])), { scaleFactor: this.size }));
      return y.transpose([0, 2, 1]);
    });
  }
  override getConfig(): LayerConfig {
    return { size: this.size };
  }
  /**
   * Rebuilds from `getConfig()`.
   * @example UpSampling1D.fromConfig({ size: 3 }, 'up').size // 3
   */
  static fromConfig(c: LayerConfig, name: string): UpSampling1D {
    return new UpSampling1D({ size: c['size'] as number, name });
  }
}

/**
 * Keras' `UpSampling2D` over `[N, H, W, channels]`: repeats rows and columns (`'nearest'`) or
 * interpolates bilinearly with half-pixel centres (`'bilinear'`, as Keras' `tf.image.resize`).
 * @example new UpSampling2D().call(tensor([[[[1], [2]]]])) // [[[[1], [1], [2], [2]], [[1], [1], [2], [2]]]]
 */
export class UpSampling2D extends Module {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'UpSampling2D';
  readonly size: [number, number];
  readonly interpolation: 'nearest' | 'bilinear';
  /** The input's shape (one example) when given. */
  readonly inputShape: readonly number[] | undefined;
  constructor(opts: UpSamplingOptions = {}) {
    const op = 'UpSampling2D';
    const o = optionsOf<UpSamplingOptions>(op, opts, ['size', 'interpolation', 'name', 'inputShape']);
    const size = pairOf(op, 'size', o.size ?? 2, 1);
    const interpolation = o.interpolation ?? 'nearest';
    if (interpolation !== 'nearest' && interpolation !== 'bilinear') throw new AxonError(op, `interpolation must be 'nearest' or 'bilinear', got ${fmtValue(interpolation)}`);
    const shape = optInputShape(op, o.inputShape);
    if (shape && shape.length !== 3) throw new AxonError(op, `inputShape must be [H, W, channels], got ${fmtShape(shape)}`);
    super(optName(op, o.name));
    this.size = size;
    this.interpolation = interpolation;
    this.inputShape = shape;
  }
  forward(x: Tensor): Tensor {
    checkInput(this, x, 4, '[N, H, W, channels]', null);
    return composite([x], (tmp) => {
      const xc = tmp(x.transpose([0, 3, 1, 2]));
      const y = tmp(upsample(xc, { size: [x.shape[1]! * this.size[0], x.shape[2]! * this.size[1]], mode: this.interpolation, ...(this.interpolation === 'bilinear' ? { alignCorners: false } : {}) }));
      return y.transpose([0, 2, 3, 1]);
    });
  }
  override getConfig(): LayerConfig {
    return { size: [...this.size], interpolation: this.interpolation };
  }
  /**
   * Rebuilds from `getConfig()`.
   * @example UpSampling2D.fromConfig({ size: [2, 3], interpolation: 'bilinear' }, 'up').size // [2, 3]
   */
  static fromConfig(c: LayerConfig, name: string): UpSampling2D {
    return new UpSampling2D({ size: c['size'] as [number, number], interpolation: c['interpolation'] as 'nearest', name });
  }
}
