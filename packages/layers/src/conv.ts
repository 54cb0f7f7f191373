/**
 * Convolution and pooling layers over NCHW input (PyTorch layout), built on core's `conv2d`,
 * `maxPool2d` and `avgPool2d`.
 */
import { AxonError, type Padding2d, type Tensor, avgPool2d, conv2d, fmtShape, isTensor, maxPool2d, mean, window2d } from '@axon/core';
import { torchDefault } from './init.js';
import { type JsonValue, type LayerConfig, Module, reserveParameters } from './module.js';
import type { SymbolicShape } from './symbolic.js';

type Pair = number | readonly [number, number];

function pairOf(v: Pair): [number, number] {
  return typeof v === 'number' ? [v, v] : [v[0], v[1]];
}

function padJson(p: Padding2d): JsonValue {
  return typeof p === 'string' || typeof p === 'number' ? p : (JSON.parse(JSON.stringify(p)) as JsonValue);
}

/**
 * Options of {@link Conv2d}.
 * @example new Conv2d(1, 8, 3, { padding: 'same' })
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
    super(opts.name);
    this.inputShape = opts.inputShape ? [...opts.inputShape] : undefined;
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.kernelSize = pairOf(kernelSize);
    this.stride = pairOf(opts.stride ?? 1);
    this.padding = opts.padding ?? 'valid';
    this.dilation = pairOf(opts.dilation ?? 1);
    this.groups = opts.groups ?? 1;
    for (const [k, v] of [['inChannels', inChannels], ['outChannels', outChannels], ['groups', this.groups], ...this.kernelSize.map((d) => ['kernelSize', d] as const)] as const) {
      if (!Number.isInteger(v) || (v as number) < 1) throw new AxonError('Conv2d', `${k} must be a positive integer, got ${String(v)}`);
    }
    if (inChannels % this.groups !== 0 || outChannels % this.groups !== 0) throw new AxonError('Conv2d', `inChannels (${inChannels}) and outChannels (${outChannels}) must be divisible by groups (${this.groups})`);
    const [kH, kW] = this.kernelSize;
    const fanIn = (inChannels / this.groups) * kH * kW;
    const wShape = [outChannels, inChannels / this.groups, kH, kW];
    reserveParameters(`Conv2d '${this.name}'`, opts.bias === false ? [wShape] : [wShape, [outChannels]]);
    this.weight = this.addParameter('weight', () => torchDefault([outChannels, inChannels / this.groups, kH, kW], { fanIn }));
    this.bias = opts.bias === false ? null : this.addParameter('bias', () => torchDefault([outChannels], { fanIn }));
  }

  forward(x: Tensor): Tensor {
    if (x.rank !== 4 || x.shape[1] !== this.inChannels) {
      throw new AxonError(`Conv2d '${this.name}'`, `expected NCHW input [N, ${this.inChannels}, H, W], got ${fmtShape(x.shape)}`);
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

  /** Rebuilds from {@link Conv2d.getConfig}. */
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
 * @example new MaxPool2d(2, { stride: 2 })
 */
export interface Pool2dLayerOptions {
  /** Defaults to the kernel size. */
  stride?: Pair;
  padding?: Padding2d;
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
  constructor(kernelSize: Pair, opts: Pool2dLayerOptions) {
    super(opts.name);
    this.inputShape = opts.inputShape ? [...opts.inputShape] : undefined;
    this.kernelSize = pairOf(kernelSize);
    this.stride = pairOf(opts.stride ?? this.kernelSize);
    this.padding = opts.padding ?? 'valid';
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
 * @example new MaxPool2d(2).call(x) // halves H and W
 */
export class MaxPool2d extends Pool2dLayer {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'MaxPool2d';
  constructor(kernelSize: Pair, opts: Pool2dLayerOptions = {}) {
    super(kernelSize, opts);
  }
  forward(x: Tensor): Tensor {
    return maxPool2d(x, this.kernelSize, { stride: this.stride, padding: this.padding });
  }
  /** Rebuilds from `getConfig()`. */
  static fromConfig(c: LayerConfig, name: string): MaxPool2d {
    return new MaxPool2d(c['kernelSize'] as [number, number], { stride: c['stride'] as [number, number], padding: c['padding'] as Padding2d, name });
  }
}

/**
 * Average pooling over NCHW input (padding excluded from the count).
 * @example new AvgPool2d(2).call(x)
 */
export class AvgPool2d extends Pool2dLayer {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'AvgPool2d';
  constructor(kernelSize: Pair, opts: Pool2dLayerOptions = {}) {
    super(kernelSize, opts);
  }
  forward(x: Tensor): Tensor {
    return avgPool2d(x, this.kernelSize, { stride: this.stride, padding: this.padding });
  }
  /** Rebuilds from `getConfig()`. */
  static fromConfig(c: LayerConfig, name: string): AvgPool2d {
    return new AvgPool2d(c['kernelSize'] as [number, number], { stride: c['stride'] as [number, number], padding: c['padding'] as Padding2d, name });
  }
}

/**
 * Options of {@link GlobalAvgPool2d}.
 * @example new GlobalAvgPool2d({ keepDims: true })
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
    super(opts.name);
    this.keepDims = opts.keepDims ?? false;
    this.inputShape = opts.inputShape ? [...opts.inputShape] : undefined;
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

  /** Rebuilds from `getConfig()`. @example GlobalAvgPool2d.fromConfig({ keepDims: false }, 'gap') */
  static fromConfig(c: LayerConfig, name: string): GlobalAvgPool2d {
    return new GlobalAvgPool2d({ keepDims: c['keepDims'] === true, name });
  }
}
