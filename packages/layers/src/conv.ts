/**
 * Convolution and pooling layers over NCHW input (PyTorch layout), built on core's `conv2d`,
 * `maxPool2d` and `avgPool2d`.
 */
import { AxonError, type Padding2d, type Tensor, avgPool2d, conv2d, fmtShape, fmtValue, isTensor, maxPool2d, mean, window2d } from '@axon/core';
import { torchDefault } from './init.js';
import { allocating } from './build.js';
import { type JsonValue, type LayerConfig, Module, reserveParameters } from './module.js';
import type { SymbolicShape } from './symbolic.js';
import { checkInt, optBool, optInputShape, optName, optionsOf } from './validate.js';

type Pair = number | readonly [number, number];

/** A size or a pair of sizes (kernel, stride, dilation): positive integers up to 2^24, as core's window ops. */
function pairOf(op: string, what: string, v: unknown): [number, number] {
  const ok = (d: unknown): d is number => typeof d === 'number' && Number.isInteger(d) && d >= 1 && d <= 2 ** 24;
  if (ok(v)) return [v, v];
  if (Array.isArray(v) && v.length === 2 && ok(v[0]) && ok(v[1])) return [v[0], v[1]];
  throw new AxonError(op, `${what} must be a positive integer (at most 2^24) or a pair of them, got ${fmtValue(v)}`);
}

/** `'valid'`, `'same'`, a size, a pair `[padH, padW]` or pairs `[[top, bottom], [left, right]]` of integers in [0, 2^24]. */
function paddingOf(op: string, v: unknown): Padding2d {
  if (v === undefined) return 'valid';
  const ok = (d: unknown): d is number => typeof d === 'number' && Number.isInteger(d) && d >= 0 && d <= 2 ** 24;
  const okPair = (p: unknown): boolean => Array.isArray(p) && p.length === 2 && ok(p[0]) && ok(p[1]);
  if (v === 'valid' || v === 'same' || ok(v) || okPair(v) || (Array.isArray(v) && v.length === 2 && okPair(v[0]) && okPair(v[1]))) {
    return (Array.isArray(v) ? JSON.parse(JSON.stringify(v)) : v) as Padding2d;
  }
  throw new AxonError(op, `padding must be 'valid', 'same', a non-negative integer, a pair [padH, padW] or pairs [[top, bottom], [left, right]], got ${fmtValue(v)}`);
}

function padJson(p: Padding2d): JsonValue {
  return typeof p === 'string' || typeof p === 'number' ? p : (JSON.parse(JSON.stringify(p)) as JsonValue);
}

/**
 * Options of {@link Conv2d}.
 * @example
 * const opts: Conv2dLayerOptions = { padding: 'same', stride: 2 };
 * new Conv2d(1, 8, 3, opts).call(randn([1, 1, 28, 28])).shape // [1, 8, 14, 14]
 */
export interface Conv2dLayerOptions {
  stride?: Pair;
  /** `'valid'` (default), `'same'`, a number, or pairs. */
  padding?: Padding2d;
  dilation?: Pair;
  groups?: number;
  /** Whether to learn a bias (default true). */
  bias?: boolean;
  name?: string;
  /** One example's shape `[C, H, W]` (lets a Keras `sequential` model build eagerly). */
  inputShape?: readonly number[];
}

/**
 * PyTorch's `nn.Conv2d` over NCHW input: weight [outChannels, inChannels/groups, kH, kW] and bias
 * [outChannels], initialised U(±1/√fanIn) like PyTorch.
 * @example new Conv2d(1, 8, 3, { padding: 'same' }).call(randn([2, 1, 28, 28])).shape // [2, 8, 28, 28]
 */
export class Conv2d extends Module {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'Conv2d';
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: Padding2d;
  readonly dilation: [number, number];
  readonly groups: number;
  /** [outChannels, inChannels/groups, kH, kW]. */
  weight: Tensor;
  /** [outChannels] or null. */
  bias: Tensor | null;
  /** The input's shape (one example) when given. */
  readonly inputShape: readonly number[] | undefined;

  constructor(inChannels: number, outChannels: number, kernelSize: Pair, opts: Conv2dLayerOptions = {}) {
    const op = 'Conv2d';
    const o = optionsOf<Conv2dLayerOptions>(op, opts, ['stride', 'padding', 'dilation', 'groups', 'bias', 'name', 'inputShape']);
    checkInt(op, 'inChannels', inChannels);
    checkInt(op, 'outChannels', outChannels);
    const kernel = pairOf(op, 'kernelSize', kernelSize);
    const stride = pairOf(op, 'stride', o.stride ?? 1);
    const dilation = pairOf(op, 'dilation', o.dilation ?? 1);
    const padding = paddingOf(op, o.padding);
    const groups = checkInt(op, 'groups', o.groups ?? 1);
    const useBias = optBool(op, 'bias', o.bias) ?? true;
    const inputShape = optInputShape(op, o.inputShape);
    if (inChannels % groups !== 0 || outChannels % groups !== 0) throw new AxonError(op, `inChannels (${inChannels}) and outChannels (${outChannels}) must be divisible by groups (${groups})`);
    // the window's sizes on an input large enough for any of them: checks what core would refuse at the first call
    window2d(op, [1, 1, 2 ** 50, 2 ** 50], kernel, stride, padding, dilation);
    if (inputShape && (inputShape.length !== 3 || inputShape[0] !== inChannels)) throw new AxonError(op, `inputShape must be [${inChannels}, H, W] (one CHW example), got ${fmtShape(inputShape)}`);
    super(optName(op, o.name));
    this.inputShape = inputShape;
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.kernelSize = kernel;
    this.stride = stride;
    this.padding = padding;
    this.dilation = dilation;
    this.groups = groups;
    const [kH, kW] = this.kernelSize;
    const fanIn = (inChannels / groups) * kH * kW;
    const wShape = [outChannels, inChannels / groups, kH, kW];
    reserveParameters(`Conv2d '${this.name}'`, useBias ? [wShape, [outChannels]] : [wShape]);
    this.weight = null as unknown as Tensor;
    this.bias = null;
    allocating(this, () => {
      this.weight = this.addParameter('weight', () => torchDefault(wShape, { fanIn }));
      this.bias = useBias ? this.addParameter('bias', () => torchDefault([outChannels], { fanIn })) : null;
    });
  }

  forward(x: Tensor): Tensor {
    if (!isTensor(x) || x.rank !== 4 || x.shape[1] !== this.inChannels) {
      throw new AxonError(`Conv2d '${this.name}'`, `expected NCHW input [N, ${this.inChannels}, H, W], got ${isTensor(x) ? fmtShape(x.shape) : fmtValue(x)}`);
    }
    return conv2d(x, this.weight, { stride: this.stride, padding: this.padding, dilation: this.dilation, groups: this.groups, bias: this.bias });
  }

  override computeOutputShape(s: SymbolicShape): SymbolicShape {
    if (s.length !== 4 || s[1] !== this.inChannels || typeof s[2] !== 'number' || typeof s[3] !== 'number') {
      throw new AxonError(`Conv2d '${this.name}'`, `expected NCHW input [N, ${this.inChannels}, H, W], got [${s.map((d) => d ?? 'null').join(',')}]`);
    }
    const w = window2d(`Conv2d '${this.name}'`, [1, this.inChannels, s[2], s[3]], this.kernelSize, this.stride, this.padding, this.dilation);
    return [s[0]!, this.outChannels, w.outH, w.outW];
  }

  override getConfig(): LayerConfig {
    return {
      inChannels: this.inChannels,
      outChannels: this.outChannels,
      kernelSize: [...this.kernelSize],
      stride: [...this.stride],
      padding: padJson(this.padding),
      dilation: [...this.dilation],
      groups: this.groups,
      bias: this.bias !== null,
    };
  }

  /**
   * Rebuilds from {@link Conv2d.getConfig}.
   * @example Conv2d.fromConfig(new Conv2d(1, 8, 3).getConfig(), 'conv').weight.shape // [8, 1, 3, 3]
   */
  static fromConfig(c: LayerConfig, name: string): Conv2d {
    return new Conv2d(c['inChannels'] as number, c['outChannels'] as number, c['kernelSize'] as [number, number], {
      stride: c['stride'] as [number, number],
      padding: c['padding'] as Padding2d,
      dilation: c['dilation'] as [number, number],
      groups: c['groups'] as number,
      bias: c['bias'] !== false,
      name,
    });
  }
}

/**
 * Options of the pooling layers.
 * @example
 * const opts: Pool2dLayerOptions = { stride: 1 };
 * new MaxPool2d(2, opts).call(tensor([[[[1, 2, 3], [4, 5, 6]]]])) // [[[[5, 6]]]]
 */
export interface Pool2dLayerOptions {
  /** Defaults to the kernel size. */
  stride?: Pair;
  padding?: Padding2d;
  /**
   * AvgPool2d only: divide by the whole window, padding included (default true, PyTorch's
   * `count_include_pad`), or by the non-padding elements (false).
   */
  countIncludePad?: boolean;
  name?: string;
  /** One example's shape `[C, H, W]`. */
  inputShape?: readonly number[];
}

abstract class Pool2dLayer extends Module {
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: Padding2d;
  /** The input's shape (one example) when given. */
  readonly inputShape: readonly number[] | undefined;
  constructor(cls: string, kernelSize: Pair, opts: Pool2dLayerOptions) {
    const o = optionsOf<Pool2dLayerOptions>(cls, opts, cls === 'AvgPool2d' ? ['stride', 'padding', 'countIncludePad', 'name', 'inputShape'] : ['stride', 'padding', 'name', 'inputShape']);
    optBool(cls, 'countIncludePad', o.countIncludePad);
    const kernel = pairOf(cls, 'kernelSize', kernelSize);
    const stride = pairOf(cls, 'stride', o.stride ?? kernel);
    const padding = paddingOf(cls, o.padding);
    const inputShape = optInputShape(cls, o.inputShape);
    window2d(cls, [1, 1, 2 ** 50, 2 ** 50], kernel, stride, padding, 1);
    if (inputShape && inputShape.length !== 3) throw new AxonError(cls, `inputShape must be [C, H, W] (one CHW example), got ${fmtShape(inputShape)}`);
    super(optName(cls, o.name));
    this.inputShape = inputShape;
    this.kernelSize = kernel;
    this.stride = stride;
    this.padding = padding;
  }
  override computeOutputShape(s: SymbolicShape): SymbolicShape {
    if (s.length !== 4 || typeof s[1] !== 'number' || typeof s[2] !== 'number' || typeof s[3] !== 'number') {
      throw new AxonError(`${this.className} '${this.name}'`, `expected NCHW input, got [${s.map((d) => d ?? 'null').join(',')}]`);
    }
    const w = window2d(`${this.className} '${this.name}'`, [1, s[1], s[2], s[3]], this.kernelSize, this.stride, this.padding, 1);
    return [s[0]!, s[1], w.outH, w.outW];
  }
  override getConfig(): LayerConfig {
    return { kernelSize: [...this.kernelSize], stride: [...this.stride], padding: padJson(this.padding) };
  }
}

/**
 * Max pooling over NCHW input (stride defaults to the kernel size).
 * @example new MaxPool2d(2).call(tensor([[[[1, 2], [3, 4]]]])) // [[[[4]]]]
 */
export class MaxPool2d extends Pool2dLayer {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'MaxPool2d';
  constructor(kernelSize: Pair, opts: Pool2dLayerOptions = {}) {
    super('MaxPool2d', kernelSize, opts);
  }
  forward(x: Tensor): Tensor {
    return maxPool2d(x, this.kernelSize, { stride: this.stride, padding: this.padding });
  }
  /**
   * Rebuilds from `getConfig()`.
   * @example MaxPool2d.fromConfig(new MaxPool2d(2).getConfig(), 'pool').kernelSize // [2, 2]
   */
  static fromConfig(c: LayerConfig, name: string): MaxPool2d {
    return new MaxPool2d(c['kernelSize'] as [number, number], { stride: c['stride'] as [number, number], padding: c['padding'] as Padding2d, name });
  }
}

/**
 * PyTorch's `nn.AvgPool2d` over NCHW input: stride defaults to the kernel size, and padding counts in
 * the divisor (`countIncludePad`, default true as PyTorch; `false` divides by the non-padding
 * elements, as Keras' `AveragePooling2D`).
 * @example
 * new AvgPool2d(2).call(tensor([[[[1, 2], [3, 4]]]])) // [[[[2.5]]]]
 * new AvgPool2d(2, { padding: 1 }).call(ones([1, 1, 2, 2])) // [[[[0.25, 0.25], [0.25, 0.25]]]]
 * new AvgPool2d(2, { padding: 1, countIncludePad: false }).call(ones([1, 1, 2, 2])) // [[[[1, 1], [1, 1]]]]
 */
export class AvgPool2d extends Pool2dLayer {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'AvgPool2d';
  /** Whether padding counts in the divisor (default true, as PyTorch). */
  readonly countIncludePad: boolean;
  constructor(kernelSize: Pair, opts: Pool2dLayerOptions = {}) {
    super('AvgPool2d', kernelSize, opts);
    this.countIncludePad = opts.countIncludePad ?? true;
  }
  forward(x: Tensor): Tensor {
    return avgPool2d(x, this.kernelSize, { stride: this.stride, padding: this.padding, countIncludePad: this.countIncludePad });
  }
  override getConfig(): LayerConfig {
    return { ...super.getConfig(), countIncludePad: this.countIncludePad };
  }
  /**
   * Rebuilds from `getConfig()`. A config without `countIncludePad` (saved before the option existed,
   * when padding was always excluded) rebuilds with `countIncludePad: false`, so a saved model computes
   * what it computed when it was saved.
   * @example AvgPool2d.fromConfig({ kernelSize: [2, 2], stride: [1, 1], padding: [[0, 0], [0, 0]] }, 'avg').countIncludePad // false
   */
  static fromConfig(c: LayerConfig, name: string): AvgPool2d {
    return new AvgPool2d(c['kernelSize'] as [number, number], {
      stride: c['stride'] as [number, number],
      padding: c['padding'] as Padding2d,
      countIncludePad: c['countIncludePad'] === true,
      name,
    });
  }
}

/**
 * Options of {@link GlobalAvgPool2d}.
 * @example new GlobalAvgPool2d({ keepDims: true }).call(randn([8, 16, 7, 7])).shape // [8, 16, 1, 1]
 */
export interface GlobalAvgPool2dOptions {
  /** Keep the pooled axes: [N, C, 1, 1] (PyTorch's `AdaptiveAvgPool2d(1)`) instead of [N, C] (default false). */
  keepDims?: boolean;
  name?: string;
  /** One example's shape `[C, H, W]`. */
  inputShape?: readonly number[];
}

/**
 * Global average pooling over NCHW input: the mean of each channel over H and W, [N, C, H, W] →
 * [N, C] (or [N, C, 1, 1] with `keepDims`). The usual head of a CNN before a `Linear`/`Dense`.
 * @example new GlobalAvgPool2d().call(randn([8, 16, 7, 7])).shape // [8, 16]
 */
export class GlobalAvgPool2d extends Module {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'GlobalAvgPool2d';
  /** Whether the pooled axes are kept (size 1). */
  readonly keepDims: boolean;
  /** The input's shape (one example) when given. */
  readonly inputShape: readonly number[] | undefined;

  constructor(opts: GlobalAvgPool2dOptions = {}) {
    const o = optionsOf<GlobalAvgPool2dOptions>('GlobalAvgPool2d', opts, ['keepDims', 'name', 'inputShape']);
    const keepDims = optBool('GlobalAvgPool2d', 'keepDims', o.keepDims) ?? false;
    const inputShape = optInputShape('GlobalAvgPool2d', o.inputShape);
    super(optName('GlobalAvgPool2d', o.name));
    this.keepDims = keepDims;
    this.inputShape = inputShape;
  }

  forward(x: Tensor): Tensor {
    if (!isTensor(x) || x.rank !== 4 || x.dtype !== 'float32') {
      throw new AxonError(`GlobalAvgPool2d '${this.name}'`, `expected float32 NCHW input [N, C, H, W], got ${isTensor(x) ? `${x.dtype} ${fmtShape(x.shape)}` : typeof x}`);
    }
    if (x.shape[2] === 0 || x.shape[3] === 0) throw new AxonError(`GlobalAvgPool2d '${this.name}'`, `cannot average over an empty H×W, got ${fmtShape(x.shape)}`);
    return mean(x, [2, 3], this.keepDims);
  }

  override computeOutputShape(s: SymbolicShape): SymbolicShape {
    if (s.length !== 4) throw new AxonError(`GlobalAvgPool2d '${this.name}'`, `expected NCHW input [N, C, H, W], got [${s.map((d) => d ?? 'null').join(',')}]`);
    return this.keepDims ? [s[0]!, s[1]!, 1, 1] : [s[0]!, s[1]!];
  }

  override getConfig(): LayerConfig {
    return { keepDims: this.keepDims };
  }

  /**
   * Rebuilds from `getConfig()`.
   * @example GlobalAvgPool2d.fromConfig({ keepDims: false }, 'gap').name // 'gap'
   */
  static fromConfig(c: LayerConfig, name: string): GlobalAvgPool2d {
    return new GlobalAvgPool2d({ keepDims: c['keepDims'] === true, name });
  }
}
