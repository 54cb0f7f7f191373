/**
 * The error every Axon package throws for bad input: it names the op, the shapes and dtypes
 * involved, and what was expected.
 *
 * @example
 * ```ts
 * let err: unknown;
 * try {
 *   matmul(zeros([2, 3]), zeros([4, 5]));
 * } catch (e) {
 *   err = e;
 * }
 * err instanceof AxonError; // true
 * (err as AxonError).op // 'matmul'
 * ```
 */
export class AxonError extends Error {
  /** The op or function that rejected its input. */
  readonly op: string;
  constructor(op: string, message: string) {
    super(`${op}: ${message}`);
    this.name = 'AxonError';
    this.op = op;
  }
}

/**
 * Formats any value for an error message without throwing (Symbols, BigInts, cycles and long
 * arrays included), e.g. `3`, `'abc'`, `[1,2,…]`, `Symbol(x)`, `a function`, `{a, b}`.
 * @example
 * fmtValue([1, 2]) // '[1,2]'
 * fmtValue(Symbol('x')) // 'Symbol(x) (a Symbol)'
 * fmtValue(zeros([2, 3])) // 'Tensor [2,3] float32'
 */
export function fmtValue(v: unknown, depth = 0): string {
  switch (typeof v) {
    case 'number':
      return Object.is(v, -0) ? '-0' : String(v);
    case 'string':
      return `'${v.length > 40 ? `${v.slice(0, 40)}…` : v}'`;
    case 'bigint':
      return `${String(v)}n (a BigInt)`;
    case 'symbol':
      return `${String(v)} (a Symbol)`;
    case 'function':
      return 'a function';
    case 'undefined':
    case 'boolean':
      return String(v);
  }
  if (v === null) return 'null';
  if (Array.isArray(v)) {
    if (depth > 2) return '[…]';
    const items = v.slice(0, 8).map((x) => fmtValue(x, depth + 1));
    return `[${items.join(',')}${v.length > 8 ? `,… (${v.length})` : ''}]`;
  }
  if (ArrayBuffer.isView(v)) return `a ${v.constructor.name} of ${(v as unknown as ArrayLike<number>).length ?? v.byteLength}`;
  const shape = (v as { shape?: unknown }).shape;
  if (Array.isArray(shape) && typeof (v as { dtype?: unknown }).dtype === 'string') return `Tensor ${fmtValue(shape, depth + 1)} ${(v as { dtype: string }).dtype}`;
  const keys = Object.keys(v as object);
  return keys.length ? `{${keys.slice(0, 5).join(', ')}${keys.length > 5 ? ', …' : ''}}` : '{}';
}

/**
 * Formats a shape as `[2,3]` for messages (any value, safely: see {@link fmtValue}).
 * @example fmtShape([2, 3]) // '[2,3]'
 */
export function fmtShape(shape: readonly number[]): string {
  return Array.isArray(shape) && shape.every((d) => typeof d === 'number') ? `[${shape.join(',')}]` : fmtValue(shape);
}

/**
 * Throws an {@link AxonError} unless `cond` holds.
 * @example
 * check(2 > 1, 'myOp', 'never thrown');
 * check(false, 'myOp', () => 'expected x'); // throws: 'myOp: expected x'
 */
export function check(cond: unknown, op: string, message: string | (() => string)): asserts cond {
  if (!cond) throw new AxonError(op, typeof message === 'string' ? message : message());
}
