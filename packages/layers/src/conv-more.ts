/**
 * PyTorch-front 1-D convolutions, transposed convolutions, 1-D pools and upsampling, built on core's
 * `conv1d`, `convTranspose1d`, `convTranspose2d`, `maxPool1d`, `avgPool1d` and `upsample` (PyTorch's
 * `F.*` semantics). Parameter names, layouts and initialisation as PyTorch's modules.
 */
import {
  AxonError,
  type Padding1d,
  type Tensor,
  avgPool1d,
  conv1d,
  convTranspose1d,
  convTranspose2d,
  fmtShape,
  fmtValue,
  isTensor,
  maxPool1d,
  upsample,
} from '@axon/core';
import { torchDefault } from './init.js';
import { allocating } from './build.js';
import { type JsonValue, type LayerConfig, Module, reserveParameters } from './module.js';
import { checkInt, optBool, optInputShape, optName, optionsOf } from './validate.js';

/** One size for both spatial dims, or `[height, width]` (a 1-D layer takes the number). */
export type IntPair = number | readonly [number, number];
const MAXD = 2 ** 24;

/** An integer in [min, 2^24]. */
function intOf(op: string, what: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > MAXD) throw new AxonError(op, `${what} must be an integer in [${min}, 2^24], got ${fmtValue(v)}`);
  return v;
}

/** A size or a pair of sizes, each an integer in [min, 2^24]. */
function pairOf(op: string, what: string, v: unknown, min: number): [number, number] {
  if (typeof v === 'number') {
    intOf(op, what, v, min);
    return [v, v];
  }
  if (Array.isArray(v) && v.length === 2) return [intOf(op, what, v[0], min), intOf(op, what, v[1], min)];
  throw new AxonError(op, `${what} must be an integer in [${min}, 2^24] or a pair of them, got ${fmtValue(v)}`);
}

/** `'valid'`, `'same'`, a size or `[left, right]` of integers in [0, 2^24]. */
function padding1dOf(op: string, v: unknown): Padding1d {
  if (v === undefined) return 0;
  if (v === 'valid' || v === 'same') return v;
  if (typeof v === 'number') return intOf(op, 'padding', v, 0);
  if (Array.isArray(v) && v.length === 2) return [intOf(op, 'padding', v[0], 0), intOf(op, 'padding', v[1], 0)];
  throw new AxonError(op, `padding must be 'valid', 'same', a non-negative integer or [left, right], got ${fmtValue(v)}`);
}

const padJson = (p: Padding1d): JsonValue => (typeof p === 'string' || typeof p === 'number' ? p : [p[0], p[1]]);

/** [left, right] padding of a 1-D window. */
function padSides(p: Padding1d, k: number, dilation: number): [number, number] {
  if (p === 'valid') return [0, 0];
  if (p === 'same') {
    const t = dilation * (k - 1);
    return [t >> 1, t - (t >> 1)];
  }
  return typeof p === 'number' ? [p, p] : [p[0], p[1]];
}

function checkRank(op: string, x: unknown, ranks: readonly number[], channels: number | null, layout: string): asserts x is Tensor {
  if (!isTensor(x) || !ranks.includes(x.rank) || x.dtype !== 'float32' || (channels !== null && x.shape[x.rank - ranks[0]! + 1] !== channels)) {
    throw new AxonError(op, `expected float32 input ${layout}, got ${isTensor(x) ? `${x.dtype} ${fmtShape(x.shape)}` : fmtValue(x)}`);
  }
}

/**
 * Options of {@link Conv1d}.
 * @example
 * const opts: Conv1dLayerOptions = { padding: 'same', stride: 1 };
 * new Conv1d(4, 8, 3, opts).call(randn([2, 4, 10])).shape // [2, 8, 10]
 */
export interface Conv1dLayerOptions {
  stride?: number;
  /** `'valid'`, `'same'`, a number (default 0) or `[left, right]`. */
  padding?: Padding1d;
  dilation?: number;
  groups?: number;
  /** Whether to learn a bias (default true). */
  bias?: boolean;
  name?: string;
  /** One example's shape `[C, L]`. */
  inputShape?: readonly number[];
}

/**
 * PyTorch's `nn.Conv1d` over `[N, C, L]` (or unbatched `[C, L]`) input: weight
 * [outChannels, inChannels/groups, k] and bias [outChannels], initialised U(±1/√fanIn) as PyTorch.
 * @example new Conv1d(4, 8, 3).call(randn([2, 4, 10])).shape // [2, 8, 8]
 */
export class Conv1d extends Module {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'Conv1d';
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: number;
  readonly stride: number;
  readonly padding: Padding1d;
  readonly dilation: number;
  readonly groups: number;
  /** [outChannels, inChannels/groups, k]. */
  weight: Tensor;
  /** [outChannels] or null. */
  bias: Tensor | null;
  /** The input's shape (one example) when given. */
  readonly inputShape: readonly number[] | undefined;

  constructor(inChannels: number, outChannels: number, kernelSize: number, opts: Conv1dLayerOptions = {}) {
    const op = 'Conv1d';
    const o = optionsOf<Conv1dLayerOptions>(op, opts, ['stride', 'padding', 'dilation', 'groups', 'bias', 'name', 'inputShape']);
    checkInt(op, 'inChannels', inChannels);
    checkInt(op, 'outChannels', outChannels);
    const k = intOf(op, 'kernelSize', kernelSize, 1);
    const stride = intOf(op, 'stride', o.stride ?? 1, 1);
    const dilation = intOf(op, 'dilation', o.dilation ?? 1, 1);
    const padding = padding1dOf(op, o.padding);
    const groups = checkInt(op, 'groups', o.groups ?? 1);
    const useBias = optBool(op, 'bias', o.bias) ?? true;
    const inputShape = optInputShape(op, o.inputShape);
    if (inChannels % groups !== 0 || outChannels % groups !== 0) throw new AxonError(op, `inChannels (${inChannels}) and outChannels (${outChannels}) must be divisible by groups (${groups})`);
    if (padding === 'same' && stride !== 1) throw new AxonError(op, `padding 'same' needs stride 1 (as PyTorch), got stride ${stride}`);
    if (inputShape && (inputShape.length !== 2 || inputShape[0] !== inChannels)) throw new AxonError(op, `inputShape must be [${inChannels}, L] (one CL example), got ${fmtShape(inputShape)}`);
    super(optName(op, o.name));
    this.inputShape = inputShape;
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.kernelSize = k;
    this.stride = stride;
    this.padding = padding;
    this.dilation = dilation;
    this.groups = groups;
    const fanIn = (inChannels / groups) * k;
    const wShape = [outChannels, inChannels / groups, k];
    reserveParameters(`Conv1d '${this.name}'`, useBias ? [wShape, [outChannels]] : [wShape]);
    this.weight = null as unknown as Tensor;
    this.bias = null;
    allocating(this, () => {
      this.weight = this.addParameter('weight', () => torchDefault(wShape, { fanIn }));
      this.bias = useBias ? this.addParameter('bias', () => torchDefault([outChannels], { fanIn })) : null;
    });
  }

  forward(x: Tensor): Tensor {
    checkRank(`Conv1d '${this.name}'`, x, [3, 2], this.inChannels, `[N, ${this.inChannels}, L] or [${this.inChannels}, L]`);
    return conv1d(x, this.weight, { stride: this.stride, padding: this.padding, dilation: this.dilation, groups: this.groups, bias: this.bias });
  }

  override getConfig(): LayerConfig {
    return {
      inChannels: this.inChannels,
      outChannels: this.outChannels,
      kernelSize: this.kernelSize,
      stride: this.stride,
      padding: padJson(this.padding),
      dilation: this.dilation,
      groups: this.groups,
      bias: this.bias !== null,
    };
  }

  /**
   * Rebuilds from {@link Conv1d.getConfig}.
   * @example Conv1d.fromConfig(new Conv1d(2, 4, 3).getConfig(), 'conv').weight.shape // [4, 2, 3]
   */
  static fromConfig(c: LayerConfig, name: string): Conv1d {
    return new Conv1d(c['inChannels'] as number, c['outChannels'] as number, c['kernelSize'] as number, {
      stride: c['stride'] as number,
      padding: c['padding'] as Padding1d,
      dilation: c['dilation'] as number,
      groups: c['groups'] as number,
      bias: c['bias'] !== false,
      name,
    });
  }
}

/**
 * Options of {@link ConvTranspose1d} and {@link ConvTranspose2d} (pairs for the 2-D one).
 * @example
 * const opts: ConvTransposeLayerOptions = { stride: 2, padding: 1, outputPadding: 1 };
 * new ConvTranspose2d(4, 2, 3, opts).call(randn([1, 4, 5, 5])).shape // [1, 2, 10, 10]
 */
export interface ConvTransposeLayerOptions {
  stride?: IntPair;
  /** Removed from each side of the output (PyTorch's `padding`), default 0. */
  padding?: IntPair;
  /** Added to one side of the output (smaller than the stride or the dilation), default 0. */
  outputPadding?: IntPair;
  dilation?: IntPair;
  groups?: number;
  /** Whether to learn a bias (default true). */
  bias?: boolean;
  name?: string;
  /** One example's shape (`[C, L]` or `[C, H, W]`). */
  inputShape?: readonly number[];
}

/** Shared by the transposed convolutions: `nd` spatial dims. */
abstract class ConvTransposeNd extends Module {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: number[];
  readonly stride: number[];
  readonly padding: number[];
  readonly outputPadding: number[];
  readonly dilation: number[];
  readonly groups: number;
  /** [inChannels, outChannels/groups, ...kernel] as PyTorch. */
  weight: Tensor;
  /** [outChannels] or null. */
  bias: Tensor | null;
  /** The input's shape (one example) when given. */
  readonly inputShape: readonly number[] | undefined;

  constructor(op: string, nd: 1 | 2, inChannels: number, outChannels: number, kernelSize: IntPair, opts: ConvTransposeLayerOptions) {
    const o = optionsOf<ConvTransposeLayerOptions>(op, opts, ['stride', 'padding', 'outputPadding', 'dilation', 'groups', 'bias', 'name', 'inputShape']);
    checkInt(op, 'inChannels', inChannels);
    checkInt(op, 'outChannels', outChannels);
    const dims = (what: string, v: unknown, dflt: number, min: number): number[] => {
      if (nd === 2) return pairOf(op, what, v ?? dflt, min);
      return [intOf(op, what, v ?? dflt, min)];
    };
    const kernel = dims('kernelSize', kernelSize, 1, 1);
    const stride = dims('stride', o.stride, 1, 1);
    const padding = dims('padding', o.padding, 0, 0);
    const outputPadding = dims('outputPadding', o.outputPadding, 0, 0);
    const dilation = dims('dilation', o.dilation, 1, 1);
    const groups = checkInt(op, 'groups', o.groups ?? 1);
    const useBias = optBool(op, 'bias', o.bias) ?? true;
    const inputShape = optInputShape(op, o.inputShape);
    if (inChannels % groups !== 0 || outChannels % groups !== 0) throw new AxonError(op, `inChannels (${inChannels}) and outChannels (${outChannels}) must be divisible by groups (${groups})`);
    // PyTorch: output padding must be smaller than either stride or dilation
    if (outputPadding.some((p, i) => p >= Math.max(stride[i]!, dilation[i]!))) throw new AxonError(op, `outputPadding ${fmtValue(o.outputPadding)} must be smaller than the stride ${fmtValue(stride)} or the dilation ${fmtValue(dilation)}`);
    if (inputShape && (inputShape.length !== nd + 1 || inputShape[0] !== inChannels)) throw new AxonError(op, `inputShape must be [${inChannels}, ${nd === 1 ? 'L' : 'H, W'}] (one example), got ${fmtShape(inputShape)}`);
    super(optName(op, o.name));
    this.inputShape = inputShape;
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.kernelSize = kernel;
    this.stride = stride;
    this.padding = padding;
    this.outputPadding = outputPadding;
    this.dilation = dilation;
    this.groups = groups;
    // PyTorch computes fan_in from the weight [inC, outC/groups, ...k]: its dim 1 times the kernel
    const fanIn = (outChannels / groups) * kernel.reduce((a, b) => a * b, 1);
    const wShape = [inChannels, outChannels / groups, ...kernel];
    reserveParameters(`${op} '${this.name}'`, useBias ? [wShape, [outChannels]] : [wShape]);
    this.weight = null as unknown as Tensor;
    this.bias = null;
    allocating(this, () => {
      this.weight = this.addParameter('weight', () => torchDefault(wShape, { fanIn }));
      this.bias = useBias ? this.addParameter('bias', () => torchDefault([outChannels], { fanIn })) : null;
    });
  }

  override getConfig(): LayerConfig {
    const one = (v: number[]): JsonValue => (v.length === 1 ? v[0]! : [...v]);
    return {
      inChannels: this.inChannels,
      outChannels: this.outChannels,
      kernelSize: one(this.kernelSize),
      stride: one(this.stride),
      padding: one(this.padding),
      outputPadding: one(this.outputPadding),
      dilation: one(this.dilation),
      groups: this.groups,
      bias: this.bias !== null,
    };
  }
}

function transposeOptions(c: LayerConfig, name: string): ConvTransposeLayerOptions {
  return {
    stride: c['stride'] as IntPair,
    padding: c['padding'] as IntPair,
    outputPadding: c['outputPadding'] as IntPair,
    dilation: c['dilation'] as IntPair,
    groups: c['groups'] as number,
    bias: c['bias'] !== false,
    name,
  };
}

/**
 * PyTorch's `nn.ConvTranspose1d` over `[N, C, L]` (or `[C, L]`): weight [inChannels, outChannels/groups, k]
 * and bias [outChannels], PyTorch's init (U(±1/√fanIn) with fanIn = outChannels/groups·k). Output
 * length `(L − 1)·stride − 2·padding + dilation·(k − 1) + outputPadding + 1`.
 * @example new ConvTranspose1d(4, 2, 3, { stride: 2 }).call(randn([1, 4, 5])).shape // [1, 2, 11]
 */
export class ConvTranspose1d extends ConvTransposeNd {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'ConvTranspose1d';
  constructor(inChannels: number, outChannels: number, kernelSize: number, opts: ConvTransposeLayerOptions = {}) {
    super('ConvTranspose1d', 1, inChannels, outChannels, kernelSize, opts);
  }
  forward(x: Tensor): Tensor {
    checkRank(`ConvTranspose1d '${this.name}'`, x, [3, 2], this.inChannels, `[N, ${this.inChannels}, L] or [${this.inChannels}, L]`);
    return convTranspose1d(x, this.weight, {
      stride: this.stride[0]!,
      padding: this.padding[0]!,
      outputPadding: this.outputPadding[0]!,
      dilation: this.dilation[0]!,
      groups: this.groups,
      bias: this.bias,
    });
  }
  /**
   * Rebuilds from `getConfig()`.
   * @example ConvTranspose1d.fromConfig(new ConvTranspose1d(2, 4, 3).getConfig(), 'up').weight.shape // [2, 4, 3]
   */
  static fromConfig(c: LayerConfig, name: string): ConvTranspose1d {
    return new ConvTranspose1d(c['inChannels'] as number, c['outChannels'] as number, c['kernelSize'] as number, transposeOptions(c, name));
  }
}

/**
 * PyTorch's `nn.ConvTranspose2d` over NCHW input: weight [inChannels, outChannels/groups, kH, kW] and
 * bias [outChannels], PyTorch's init (U(±1/√fanIn) with fanIn = outChannels/groups·kH·kW).
 * @example new ConvTranspose2d(4, 2, 2, { stride: 2 }).call(randn([1, 4, 5, 5])).shape // [1, 2, 10, 10]
 */
export class ConvTranspose2d extends ConvTransposeNd {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'ConvTranspose2d';
  constructor(inChannels: number, outChannels: number, kernelSize: IntPair, opts: ConvTransposeLayerOptions = {}) {
    super('ConvTranspose2d', 2, inChannels, outChannels, kernelSize, opts);
  }
  forward(x: Tensor): Tensor {
    checkRank(`ConvTranspose2d '${this.name}'`, x, [4], this.inChannels, `[N, ${this.inChannels}, H, W]`);
    const p = (v: number[]): [number, number] => [v[0]!, v[1]!];
    return convTranspose2d(x, this.weight, {
      stride: p(this.stride),
      padding: p(this.padding),
      outputPadding: p(this.outputPadding),
      dilation: p(this.dilation),
      groups: this.groups,
      bias: this.bias,
    });
  }
  /**
   * Rebuilds from `getConfig()`.
   * @example ConvTranspose2d.fromConfig(new ConvTranspose2d(2, 4, 3).getConfig(), 'up').weight.shape // [2, 4, 3, 3]
   */
  static fromConfig(c: LayerConfig, name: string): ConvTranspose2d {
    return new ConvTranspose2d(c['inChannels'] as number, c['outChannels'] as number, c['kernelSize'] as IntPair, transposeOptions(c, name));
  }
}

/**
 * Options of {@link MaxPool1d} and {@link AvgPool1d}.
 * @example
 * const opts: Pool1dLayerOptions = { stride: 1, padding: 1 };
 * new AvgPool1d(3, opts).call(tensor([[[3, 3, 3]]])) // [[[2, 3, 2]]]
 */
export interface Pool1dLayerOptions {
  /** Defaults to the kernel size. */
  stride?: number;
  /** A number (default 0) or `[left, right]`; PyTorch allows at most half the kernel. */
  padding?: number | readonly [number, number];
  /** AvgPool1d only: divide by the whole window, padding included (default true, as PyTorch). */
  countIncludePad?: boolean;
  name?: string;
  /** One example's shape `[C, L]`. */
  inputShape?: readonly number[];
}

abstract class Pool1dLayer extends Module {
  readonly kernelSize: number;
  readonly stride: number;
  readonly padding: number | [number, number];
  /** The input's shape (one example) when given. */
  readonly inputShape: readonly number[] | undefined;
  constructor(cls: string, kernelSize: number, o: Pool1dLayerOptions) {
    const k = intOf(cls, 'kernelSize', kernelSize, 1);
    const stride = intOf(cls, 'stride', o.stride ?? k, 1);
    const padding = padding1dOf(cls, o.padding);
    if (typeof padding === 'string') throw new AxonError(cls, `padding must be a non-negative integer or [left, right], got ${fmtValue(padding)}`);
    const [pl, pr] = padSides(padding, k, 1);
    if (2 * pl > k || 2 * pr > k) throw new AxonError(cls, `padding ${fmtValue(padding)} must be at most half the kernel size ${k} (as PyTorch)`);
    const inputShape = optInputShape(cls, o.inputShape);
    if (inputShape && inputShape.length !== 2) throw new AxonError(cls, `inputShape must be [C, L] (one example), got ${fmtShape(inputShape)}`);
    super(optName(cls, o.name));
    this.inputShape = inputShape;
    this.kernelSize = k;
    this.stride = stride;
    this.padding = typeof padding === 'number' ? padding : [padding[0], padding[1]];
  }
  override getConfig(): LayerConfig {
    return { kernelSize: this.kernelSize, stride: this.stride, padding: padJson(this.padding) };
  }
}

/**
 * PyTorch's `nn.MaxPool1d` over `[N, C, L]` (or `[C, L]`): stride defaults to the kernel size; padding
 * never wins the max.
 * @example new MaxPool1d(2).call(tensor([[[1, 3, 2, 5]]])) // [[[3, 5]]]
 */
export class MaxPool1d extends Pool1dLayer {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'MaxPool1d';
  constructor(kernelSize: number, opts: Pool1dLayerOptions = {}) {
    const o = optionsOf<Pool1dLayerOptions>('MaxPool1d', opts, ['stride', 'padding', 'name', 'inputShape']);
    super('MaxPool1d', kernelSize, o);
  }
  forward(x: Tensor): Tensor {
    checkRank(`MaxPool1d '${this.name}'`, x, [3, 2], null, '[N, C, L] or [C, L]');
    return maxPool1d(x, this.kernelSize, { stride: this.stride, padding: this.padding });
  }
  /**
   * Rebuilds from `getConfig()`.
   * @example MaxPool1d.fromConfig(new MaxPool1d(2).getConfig(), 'pool').kernelSize // 2
   */
  static fromConfig(c: LayerConfig, name: string): MaxPool1d {
    return new MaxPool1d(c['kernelSize'] as number, { stride: c['stride'] as number, padding: c['padding'] as number | [number, number], name });
  }
}

/**
 * PyTorch's `nn.AvgPool1d` over `[N, C, L]` (or `[C, L]`): stride defaults to the kernel size, and
 * padding counts in the divisor unless `countIncludePad: false` (PyTorch's default, true).
 * @example new AvgPool1d(2, { padding: 1 }).call(tensor([[[3, 3, 3]]])) // [[[1.5, 3]]]
 */
export class AvgPool1d extends Pool1dLayer {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'AvgPool1d';
  /** Whether padding counts in the divisor (default true, as PyTorch). */
  readonly countIncludePad: boolean;
  constructor(kernelSize: number, opts: Pool1dLayerOptions = {}) {
    const o = optionsOf<Pool1dLayerOptions>('AvgPool1d', opts, ['stride', 'padding', 'countIncludePad', 'name', 'inputShape']);
    const include = optBool('AvgPool1d', 'countIncludePad', o.countIncludePad) ?? true;
    super('AvgPool1d', kernelSize, o);
    this.countIncludePad = include;
  }
  forward(x: Tensor): Tensor {
    checkRank(`AvgPool1d '${this.name}'`, x, [3, 2], null, '[N, C, L] or [C, L]');
    return avgPool1d(x, this.kernelSize, { stride: this.stride, padding: this.padding, countIncludePad: this.countIncludePad });
  }
  override getConfig(): LayerConfig {
    return { ...super.getConfig(), countIncludePad: this.countIncludePad };
  }
  /**
   * Rebuilds from `getConfig()`.
   * @example AvgPool1d.fromConfig(new AvgPool1d(3, { padding: 1 }).getConfig(), 'pool').countIncludePad // true
   */
  static fromConfig(c: LayerConfig, name: string): AvgPool1d {
    return new AvgPool1d(c['kernelSize'] as number, { stride: c['stride'] as number, padding: c['padding'] as number | [number, number], countIncludePad: c['countIncludePad'] !== false, name });
  }
}

/**
 * Options of {@link Upsample} (PyTorch's `nn.Upsample`): exactly one of `size` and `scaleFactor`.
 * @example
 * const opts: UpsampleLayerOptions = { scaleFactor: 2, mode: 'bilinear' };
 * new Upsample(opts).call(randn([1, 3, 4, 4])).shape // [1, 3, 8, 8]
 */
export interface UpsampleLayerOptions {
  /** Output size of the spatial dims (one number for all, or one per dim). */
  size?: number | readonly number[];
  /** Multiplies the spatial dims (floored). */
  scaleFactor?: number | readonly number[];
  /** `'nearest'` (default), `'linear'` ([N, C, L] input) or `'bilinear'` ([N, C, H, W]). */
  mode?: 'nearest' | 'linear' | 'bilinear';
  /** Align the corner pixels' centres (linear modes only; default false). */
  alignCorners?: boolean;
  name?: string;
  /** One example's shape (`[C, L]` or `[C, H, W]`). */
  inputShape?: readonly number[];
}

/**
 * PyTorch's `nn.Upsample` over `[N, C, L]` or `[N, C, H, W]`: `'nearest'`, `'linear'` or `'bilinear'`
 * interpolation to a `size` or by a `scaleFactor` (source positions use 1/scaleFactor, as PyTorch).
 * @example new Upsample({ scaleFactor: 2 }).call(tensor([[[1, 2]]])) // [[[1, 1, 2, 2]]]
 */
export class Upsample extends Module {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'Upsample';
  readonly size: number | number[] | null;
  readonly scaleFactor: number | number[] | null;
  readonly mode: 'nearest' | 'linear' | 'bilinear';
  readonly alignCorners: boolean;
  /** The input's shape (one example) when given. */
  readonly inputShape: readonly number[] | undefined;

  constructor(opts: UpsampleLayerOptions) {
    const op = 'Upsample';
    const o = optionsOf<UpsampleLayerOptions>(op, opts, ['size', 'scaleFactor', 'mode', 'alignCorners', 'name', 'inputShape']);
    if ((o.size === undefined) === (o.scaleFactor === undefined)) throw new AxonError(op, `give exactly one of size and scaleFactor, got ${fmtValue({ size: o.size, scaleFactor: o.scaleFactor })}`);
    const list = (what: string, v: unknown, ok: (d: unknown) => boolean): number | number[] => {
      if (ok(v)) return v as number;
      if (Array.isArray(v) && (v.length === 1 || v.length === 2) && v.every(ok)) return [...(v as number[])];
      throw new AxonError(op, `${what} must be ${what === 'size' ? 'a positive integer (at most 2^24)' : 'a positive finite number'} or one per spatial dim, got ${fmtValue(v)}`);
    };
    const size = o.size === undefined ? null : list('size', o.size, (d) => typeof d === 'number' && Number.isInteger(d) && d >= 1 && d <= MAXD);
    const scaleFactor = o.scaleFactor === undefined ? null : list('scaleFactor', o.scaleFactor, (d) => typeof d === 'number' && Number.isFinite(d) && d > 0);
    const mode = o.mode ?? 'nearest';
    if (mode !== 'nearest' && mode !== 'linear' && mode !== 'bilinear') throw new AxonError(op, `mode must be 'nearest', 'linear' or 'bilinear', got ${fmtValue(mode)}`);
    const alignCorners = optBool(op, 'alignCorners', o.alignCorners);
    if (alignCorners !== undefined && mode === 'nearest') throw new AxonError(op, `alignCorners applies to the 'linear' and 'bilinear' modes only (as PyTorch), got mode 'nearest'`);
    const inputShape = optInputShape(op, o.inputShape);
    super(optName(op, o.name));
    this.size = size;
    this.scaleFactor = scaleFactor;
    this.mode = mode;
    this.alignCorners = alignCorners ?? false;
    this.inputShape = inputShape;
  }

  forward(x: Tensor): Tensor {
    const ranks = this.mode === 'linear' ? [3] : this.mode === 'bilinear' ? [4] : [3, 4];
    checkRank(`Upsample '${this.name}'`, x, ranks, null, this.mode === 'linear' ? '[N, C, L]' : this.mode === 'bilinear' ? '[N, C, H, W]' : '[N, C, L] or [N, C, H, W]');
    const o = this.size !== null ? { size: this.size } : { scaleFactor: this.scaleFactor! };
    return upsample(x, { ...o, mode: this.mode, ...(this.mode === 'nearest' ? {} : { alignCorners: this.alignCorners }) });
  }

  override getConfig(): LayerConfig {
    const v = (x: number | number[] | null): JsonValue => (Array.isArray(x) ? [...x] : x);
    return { size: v(this.size), scaleFactor: v(this.scaleFactor), mode: this.mode, alignCorners: this.alignCorners };
  }

  /**
   * Rebuilds from `getConfig()`.
   * @example Upsample.fromConfig(new Upsample({ size: 8, mode: 'linear' }).getConfig(), 'up').size // 8
   */
  static fromConfig(c: LayerConfig, name: string): Upsample {
    const mode = c['mode'] as 'nearest' | 'linear' | 'bilinear';
    return new Upsample({
      ...(c['size'] !== null && c['size'] !== undefined ? { size: c['size'] as number | number[] } : { scaleFactor: c['scaleFactor'] as number | number[] }),
      mode,
      ...(mode === 'nearest' ? {} : { alignCorners: c['alignCorners'] === true }),
      name,
    });
  }
}
