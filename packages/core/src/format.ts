/**
 * How tensors print (`t.toString()`, `t.print()`, Node's `util.inspect`): PyTorch's layout and
 * number formatting, so output reads like `torch.tensor` / `numpy.ndarray` output.
 *
 * - One formatter for the whole tensor: floats whose finite values are all integers print as
 *   `1.`; otherwise 4 decimals (`1.5000`), or scientific notation (`1.0000e+08`) when the
 *   magnitudes span more than 1000× or leave [1e-4, 1e8]. `nan`, `inf`, `-inf` as in PyTorch.
 *   int32 prints integers, bool `true`/`false`. Every element is right-aligned to one width.
 * - Tensors of more than 1000 elements are summarized: 3 items at each end of each axis, `...`
 *   between. Rows wrap at 80 columns.
 * - `shape=[…]` and `dtype=…` always follow the values; `requiresGrad=true` when set.
 * @internal
 * @packageDocumentation
 */

import type { DType, TypedArray } from './dtype.js';

/** PyTorch's defaults (`torch.set_printoptions`). */
const THRESHOLD = 1000;
const EDGE_ITEMS = 3;
const LINE_WIDTH = 80;
const PRECISION = 4;
const PREFIX = 'tensor(';

/** What {@link formatTensor} needs from a tensor, read by the caller. @internal */
export interface PrintSource {
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly requiresGrad: boolean;
  /**
   * The storage's elements (element `(i0, …)` at `offset + Σ ij·strides[j]`), or a reason they
   * are not shown (`'disposed'`, `'on webgpu: await t.array() to read'`).
   */
  readonly values: { data: TypedArray; strides: readonly number[]; offset: number } | { unavailable: string };
}

/** Formats a tensor PyTorch-style; never throws. @internal */
export function formatTensor(src: PrintSource): string {
  const suffixes = [`shape=[${src.shape.join(', ')}]`, `dtype=${src.dtype}`];
  if (src.requiresGrad) suffixes.push('requiresGrad=true');
  if ('unavailable' in src.values) return addSuffixes(`${PREFIX}<${src.values.unavailable}>`, suffixes);
  const { data, strides, offset } = src.values;
  const size = src.shape.reduce((a, b) => a * b, 1);
  let body: string;
  if (size === 0) body = '[]';
  else {
    const summarize = size > THRESHOLD;
    const at = (pos: number): number => data[pos]!;
    const fmt = makeFormatter(src.dtype, shownValues(src.shape, strides, offset, summarize, at));
    body = render(src.shape, strides, offset, 0, PREFIX.length, summarize, at, fmt);
  }
  return addSuffixes(PREFIX + body, suffixes);
}

/** Indices printed along an axis of length n: all, or the edge items with `-1` marking `...`. */
function axisIndices(n: number, summarize: boolean): number[] {
  if (summarize && n > 2 * EDGE_ITEMS) {
    const out: number[] = [];
    for (let i = 0; i < EDGE_ITEMS; i++) out.push(i);
    out.push(-1);
    for (let i = n - EDGE_ITEMS; i < n; i++) out.push(i);
    return out;
  }
  return Array.from({ length: n }, (_, i) => i);
}

/** The values that will be printed (the formatter's width and mode come from them only). */
function shownValues(shape: readonly number[], strides: readonly number[], offset: number, summarize: boolean, at: (pos: number) => number): number[] {
  const out: number[] = [];
  const walk = (d: number, pos: number): void => {
    if (d === shape.length) {
      out.push(at(pos));
      return;
    }
    for (const i of axisIndices(shape[d]!, summarize)) if (i >= 0) walk(d + 1, pos + i * strides[d]!);
  };
  walk(0, offset);
  return out;
}

interface Formatter {
  readonly width: number;
  format(v: number): string;
}

/**
 * `toFixed`/`toExponential` round a value exactly halfway between two outputs away from zero;
 * Python (so PyTorch) and NumPy round it to the even digit (2.15625 → `2.1562`). `exact` is the
 * value's magnitude with enough digits to see a tie, `keep` how many characters hold the digits
 * kept: a tie whose last kept digit is even keeps the truncated digits.
 */
function halfEven(rounded: string, v: number, exact: string, keep: number, exponent = ''): string {
  if (!/^50*$/.test(exact.slice(keep))) return rounded;
  const last = exact.charCodeAt(keep - 1) - 48;
  return last % 2 === 0 ? `${v < 0 ? '-' : ''}${exact.slice(0, keep)}${exponent}` : rounded;
}

/** Python's `'{:.4f}'`. */
function fixed(v: number): string {
  // Fixed notation only prints magnitudes in [1e-4, 1e8]: 100 digits hold a float32's exactly.
  const exact = Math.abs(v).toFixed(100);
  return halfEven(v.toFixed(PRECISION), v, exact, exact.indexOf('.') + 1 + PRECISION);
}

/** Python's `'{:.4e}'`: ties to even, at least two exponent digits (`1.0000e+08`). */
function sci(v: number): string {
  const ex = Math.abs(v).toExponential(100);
  const e = ex.indexOf('e');
  const s = halfEven(v.toExponential(PRECISION), v, ex.slice(0, e), 2 + PRECISION, ex.slice(e));
  return s.replace(/e([+-])(\d)$/, 'e$10$2');
}

function nonFinite(v: number): string {
  return Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf';
}

/** PyTorch's `_Formatter`: one mode and one width for every element. */
function makeFormatter(dtype: DType, values: readonly number[]): Formatter {
  let text: (v: number) => string;
  if (dtype === 'bool') text = (v) => (v !== 0 ? 'true' : 'false');
  else if (dtype === 'int32') text = (v) => String(v);
  else {
    const finite = values.filter((v) => Number.isFinite(v) && v !== 0).map(Math.abs);
    let intMode = true;
    let sciMode = false;
    if (finite.length > 0) {
      let min = Infinity;
      let max = 0;
      for (const a of finite) {
        if (a < min) min = a;
        if (a > max) max = a;
        if (a !== Math.ceil(a)) intMode = false;
      }
      sciMode = max / min > 1000 || max > 1e8 || (!intMode && min < 1e-4);
    }
    const finiteText = (v: number): string => (sciMode ? sci(v) : intMode ? `${v.toFixed(0)}.` : fixed(v));
    // -0 keeps its sign, as Python prints it (toFixed drops it).
    text = (v) => (!Number.isFinite(v) ? nonFinite(v) : Object.is(v, -0) ? `-${finiteText(0)}` : finiteText(v));
  }
  let width = 1;
  for (const v of values) width = Math.max(width, text(v).length);
  return { width, format: (v) => text(v).padStart(width) };
}

/** PyTorch's `_tensor_str_with_formatter`: nested brackets, `...` rows, wrapped lines. */
function render(
  shape: readonly number[], strides: readonly number[], pos: number, d: number, indent: number,
  summarize: boolean, at: (pos: number) => number, fmt: Formatter,
): string {
  const rank = shape.length - d;
  if (rank === 0) return fmt.format(at(pos));
  const idx = axisIndices(shape[d]!, summarize);
  if (rank === 1) {
    const items = idx.map((i) => (i < 0 ? ' ...' : fmt.format(at(pos + i * strides[d]!))));
    const perLine = Math.max(1, Math.floor((LINE_WIDTH - indent) / (fmt.width + 2)));
    const lines: string[] = [];
    for (let k = 0; k < items.length; k += perLine) lines.push(items.slice(k, k + perLine).join(', '));
    return `[${lines.join(`,\n${' '.repeat(indent + 1)}`)}]`;
  }
  const slices = idx.map((i) => (i < 0 ? '...' : render(shape, strides, pos + i * strides[d]!, d + 1, indent + 1, summarize, at, fmt)));
  return `[${slices.join(`,${'\n'.repeat(rank - 1)}${' '.repeat(indent + 1)}`)}]`;
}

/** PyTorch's `_add_suffixes`: `, shape=…` on the last line, or on a new line past 80 columns. */
function addSuffixes(body: string, suffixes: readonly string[]): string {
  let out = body;
  let lastLine = body.length - body.lastIndexOf('\n') + 1;
  for (const s of suffixes) {
    if (lastLine + s.length + 2 > LINE_WIDTH) {
      out += `,\n${' '.repeat(PREFIX.length)}${s}`;
      lastLine = PREFIX.length + s.length;
    } else {
      out += `, ${s}`;
      lastLine += s.length + 2;
    }
  }
  return `${out})`;
}
