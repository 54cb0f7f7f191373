/**
 * Position information for sequence models — a learned `PositionalEmbedding`, the sinusoidal
 * encoding of "Attention Is All You Need" — and `RMSNorm` / `rmsNorm` (PyTorch 2.4's `nn.RMSNorm` and
 * `F.rms_norm`).
 */
import { AxonError, type Tensor, fmtShape, fmtValue, randn, tensor } from '@axon/core';
import { allocating } from './build.js';
import { type LayerConfig, Module, reserveParameters } from './module.js';
import { composite, checkFinite, checkInt, checkTensor, optBool, optName, optionsOf } from './validate.js';

const MAX_POSITIONS = 2 ** 24;

function offsetOf(op: string, opts: unknown): number {
  const o = optionsOf<{ offset?: number }>(op, opts, ['offset']);
  return o.offset === undefined ? 0 : checkInt(op, 'offset', o.offset, 0);
}

/**
 * A learned position table (an Embedding over positions): `weight` [maxLen, dim], N(0, 1) as
 * PyTorch's `nn.Embedding`. `forward(x)` adds the rows `offset … offset + T − 1` to `x` [..., T, dim]
 * (`offset` for a generation step after T cached positions).
 * @example
 * const pos = new PositionalEmbedding(16, 8);
 * pos.forward(zeros([2, 5, 8])).shape // [2, 5, 8]
 * pos.forward(zeros([1, 8]), { offset: 15 }).sub(pos.weight.slice([15, 0], [1, 8])).abs().max().item() // 0
 * pos.forward(zeros([1, 17, 8])) // throws: 'at most 16 positions'
 */
export class PositionalEmbedding extends Module {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'PositionalEmbedding';
  /** Most positions. */
  readonly maxLen: number;
  /** Vector size. */
  readonly dim: number;
  /** [maxLen, dim]. */
  weight: Tensor;

  constructor(maxLen: number, dim: number, opts: { name?: string } = {}) {
    const cls = 'PositionalEmbedding';
    const o = optionsOf<{ name?: string }>(cls, opts, ['name']);
    const L = checkInt(cls, 'maxLen', maxLen, 1, MAX_POSITIONS);
    const D = checkInt(cls, 'dim', dim);
    super(optName(cls, o.name));
    this.maxLen = L;
    this.dim = D;
    reserveParameters(`${cls} '${this.name}'`, [[L, D]]);
    this.weight = null as unknown as Tensor;
    allocating(this, () => {
      this.weight = this.addParameter('weight', () => randn([L, D]));
    });
  }

  /**
   * `x` [..., T, dim] plus the positions `offset … offset + T − 1`.
   * @example new PositionalEmbedding(4, 2).forward(zeros([3, 2]), { offset: 1 }).shape // [3, 2]
   */
  forward(x: Tensor, opts: { offset?: number } & object = {}): Tensor {
    const op = `${this.className} '${this.name}'`;
    checkTensor(op, 'x', x);
    const offset = offsetOf(op, opts);
    if (x.dtype !== 'float32' || x.rank < 2 || x.shape[x.rank - 1] !== this.dim) throw new AxonError(op, `expects float32 [..., T, ${this.dim}], got ${x.dtype} ${fmtShape(x.shape)}`);
    const T = x.shape[x.rank - 2]!;
    if (offset + T > this.maxLen) throw new AxonError(op, `holds at most ${this.maxLen} positions; got positions ${offset} … ${offset + T - 1} (input ${fmtShape(x.shape)})`);
    return composite([x], (tmp) => x.add(tmp(this.weight.slice([offset, 0], [T, this.dim]))));
  }

  override getConfig(): LayerConfig {
    return { maxLen: this.maxLen, dim: this.dim };
  }
}

/**
 * The sinusoidal position encoding [length, dim] of Vaswani et al.: `pe[p, 2i] = sin(p / 10000^(2i/dim))`,
 * `pe[p, 2i+1] = cos(p / 10000^(2i/dim))` (computed in float64, rounded once).
 * @example
 * const pe = sinusoidalPositionalEncoding(3, 4);
 * pe.shape // [3, 4]
 * pe.slice([0, 0], [1, 4]) // [[0, 1, 0, 1]]
 * sinusoidalPositionalEncoding(0, 4) // throws: 'length'
 */
export function sinusoidalPositionalEncoding(length: number, dim: number, opts: { offset?: number } = {}): Tensor {
  const op = 'sinusoidalPositionalEncoding';
  const L = checkInt(op, 'length', length, 1, MAX_POSITIONS);
  const D = checkInt(op, 'dim', dim, 1, 2 ** 20);
  const offset = offsetOf(op, opts);
  if (L * D > 2 ** 28) throw new AxonError(op, `length × dim = ${L * D} is more than 2^28 elements`);
  const out = new Float32Array(L * D);
  for (let p = 0; p < L; p++) {
    for (let i = 0; i < D; i += 2) {
      const a = (p + offset) / Math.pow(10000, i / D);
      out[p * D + i] = Math.sin(a);
      if (i + 1 < D) out[p * D + i + 1] = Math.cos(a);
    }
  }
  return tensor(out, [L, D]);
}

/**
 * Adds {@link sinusoidalPositionalEncoding} to `x` [..., T, dim] (no parameters); `offset` shifts
 * the positions (a generation step after cached ones).
 * @example
 * const pe = new SinusoidalPositionalEncoding(8);
 * pe.forward(zeros([1, 2, 8])).slice([0, 0, 0], [1, 1, 2]) // [[[0, 1]]]
 */
export class SinusoidalPositionalEncoding extends Module {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'SinusoidalPositionalEncoding';
  /** Vector size. */
  readonly dim: number;

  constructor(dim: number, opts: { name?: string } = {}) {
    const cls = 'SinusoidalPositionalEncoding';
    const o = optionsOf<{ name?: string }>(cls, opts, ['name']);
    const D = checkInt(cls, 'dim', dim, 1, 2 ** 20);
    super(optName(cls, o.name));
    this.dim = D;
  }

  /**
   * `x` plus the encoding of positions `offset …`.
   * @example new SinusoidalPositionalEncoding(4).forward(ones([3, 4])).shape // [3, 4]
   */
  forward(x: Tensor, opts: { offset?: number } & object = {}): Tensor {
    const op = `${this.className} '${this.name}'`;
    checkTensor(op, 'x', x);
    const offset = offsetOf(op, opts);
    if (x.dtype !== 'float32' || x.rank < 2 || x.shape[x.rank - 1] !== this.dim) throw new AxonError(op, `expects float32 [..., T, ${this.dim}], got ${x.dtype} ${fmtShape(x.shape)}`);
    return composite([x], (tmp) => x.add(tmp(sinusoidalPositionalEncoding(x.shape[x.rank - 2]!, this.dim, { offset }))));
  }

  override getConfig(): LayerConfig {
    return { dim: this.dim };
  }
}

/** normalizedShape: a positive integer or an array of 1 to 8 of them. */
function rmsShape(op: string, normalizedShape: unknown): number[] {
  const shape = typeof normalizedShape === 'number' ? [normalizedShape] : Array.isArray(normalizedShape) ? [...(normalizedShape as unknown[])] : null;
  if (shape === null || shape.length === 0 || shape.length > 8) throw new AxonError(op, `normalizedShape must be a positive integer or an array of 1 to 8 of them, got ${fmtValue(normalizedShape)}`);
  for (const d of shape) checkInt(op, 'normalizedShape', d);
  return shape as number[];
}

/** eps: undefined or null is float32's machine epsilon 2^−23 (PyTorch's `eps=None`). */
function rmsEps(op: string, eps: unknown): number {
  return eps === undefined || eps === null ? 2 ** -23 : checkFinite(op, 'eps', eps, 0);
}

/** y = x / √(mean(x², trailing `shape` dims) + eps) · weight, x checked against `shape`. */
function rmsNormCore(op: string, x: Tensor, shape: readonly number[], weight: Tensor | null, eps: number): Tensor {
  const n = shape.length;
  if (x.dtype !== 'float32' || x.rank < n || shape.some((d, i) => x.shape[x.rank - n + i] !== d)) {
    throw new AxonError(op, `expects float32 [..., ${shape.join(', ')}], got ${x.dtype} ${fmtShape(x.shape)}`);
  }
  const axes = shape.map((_, i) => x.rank - n + i);
  return composite([x, weight], (tmp) => {
    const ms = tmp(tmp(x.square()).mean(axes, true));
    const y = tmp(x.mul(tmp(tmp(ms.add(eps)).rsqrt())));
    return weight === null ? y : y.mul(weight);
  });
}

/**
 * RMS normalisation, PyTorch 2.4's `F.rms_norm(input, normalized_shape, weight=None, eps=None)`:
 * `y = x / √(mean(x², over the trailing normalizedShape dims) + eps) · weight`, differentiable in
 * `x` and `weight`. `weight` (optional, float32 of shape `normalizedShape`) scales each element;
 * `eps` defaults to float32's machine epsilon 2⁻²³ (as PyTorch's `eps=None`). The functional form
 * of {@link RMSNorm}, which calls it with its own `weight` and `eps`.
 * @example
 * rmsNorm(tensor([[3, 4]]), 2) // [[0.8485, 1.1314]]
 * rmsNorm(tensor([[3, 4]]), [2], tensor([1, 0.5]), 0) // [[0.8485, 0.5657]]
 * rmsNorm(randn([2, 5, 8]), [5, 8]).shape // [2, 5, 8]
 * rmsNorm(tensor([[3, 4, 5]]), 2) // throws: 'expects float32 [..., 2]'
 * rmsNorm(tensor([[3, 4]]), 2, tensor([1, 2, 3])) // throws: 'weight must be a float32 tensor of shape [2]'
 */
export function rmsNorm(x: Tensor, normalizedShape: number | readonly number[], weight?: Tensor | null, eps?: number | null): Tensor {
  const op = 'rmsNorm';
  checkTensor(op, 'x', x);
  const shape = rmsShape(op, normalizedShape);
  if (weight !== undefined && weight !== null) {
    checkTensor(op, 'weight', weight);
    if (weight.dtype !== 'float32' || weight.rank !== shape.length || shape.some((d, i) => weight.shape[i] !== d)) {
      throw new AxonError(op, `weight must be a float32 tensor of shape [${shape.join(', ')}] (normalizedShape), got ${weight.dtype} ${fmtShape(weight.shape)}`);
    }
  }
  return rmsNormCore(op, x, shape, weight ?? null, rmsEps(op, eps));
}

/**
 * Options of {@link RMSNorm}.
 * @example
 * const opts: RMSNormOptions = { eps: 1e-6, elementwiseAffine: false };
 * new RMSNorm(8, opts).weight // null
 */
export interface RMSNormOptions {
  /** Added to the mean square (default: float32's machine epsilon 2^−23 ≈ 1.19e-7, as PyTorch's `eps=None`). */
  eps?: number | null;
  /** Learn a per-element `weight` (ones) (default true). */
  elementwiseAffine?: boolean;
  /** Layer name. */
  name?: string;
}

/**
 * PyTorch 2.4's `nn.RMSNorm`: `y = x / √(mean(x², over the last normalizedShape dims) + eps) · weight`
 * ({@link rmsNorm} with the layer's `weight` and `eps`).
 * @example
 * const n = new RMSNorm(2);
 * n.forward(tensor([[3, 4]])) // [[0.8485, 1.1314]]
 * n.forward(tensor([[3, 4, 5]])) // throws: 'RMSNorm'
 */
export class RMSNorm extends Module {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'RMSNorm';
  /** The normalised trailing shape. */
  readonly normalizedShape: readonly number[];
  /** The epsilon. */
  readonly eps: number;
  /** [...normalizedShape] or null. */
  weight: Tensor | null;

  constructor(normalizedShape: number | readonly number[], opts: RMSNormOptions = {}) {
    const cls = 'RMSNorm';
    const o = optionsOf<RMSNormOptions>(cls, opts, ['eps', 'elementwiseAffine', 'name']);
    const shape = rmsShape(cls, normalizedShape);
    const eps = rmsEps(cls, o.eps);
    const affine = optBool(cls, 'elementwiseAffine', o.elementwiseAffine) ?? true;
    super(optName(cls, o.name));
    this.normalizedShape = shape;
    this.eps = eps;
    this.weight = null;
    if (affine) {
      reserveParameters(`${cls} '${this.name}'`, [shape]);
      allocating(this, () => {
        this.weight = this.addParameter('weight', () => tensor(new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(1), shape));
      });
    }
  }

  /**
   * Normalises `x` [..., ...normalizedShape].
   * @example new RMSNorm([2, 2], { elementwiseAffine: false }).forward(ones([3, 2, 2])).shape // [3, 2, 2]
   */
  forward(x: Tensor): Tensor {
    const op = `${this.className} '${this.name}'`;
    checkTensor(op, 'x', x);
    return rmsNormCore(op, x, this.normalizedShape, this.weight, this.eps);
  }

  override getConfig(): LayerConfig {
    return { normalizedShape: [...this.normalizedShape], eps: this.eps, elementwiseAffine: this.weight !== null };
  }

  /**
   * Rebuilds a layer from {@link RMSNorm.getConfig}.
   * @example RMSNorm.fromConfig(new RMSNorm(4, { eps: 1e-6 }).getConfig(), 'n').eps // 1e-6
   */
  static fromConfig(c: LayerConfig, name: string): RMSNorm {
    return new RMSNorm(c['normalizedShape'] as number[], { eps: c['eps'] as number, elementwiseAffine: c['elementwiseAffine'] !== false, name });
  }
}
