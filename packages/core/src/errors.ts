/**
 * The error every Axon package throws for bad input: it names the op, the shapes and dtypes
 * involved, and what was expected.
 *
 * @example
 * try { matmul(zeros([2, 3]), zeros([4, 5])); }
 * catch (e) { if (e instanceof AxonError) console.log(e.op, e.message); }
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

/** Formats a shape as `[2,3]` for messages. */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

/** Throws an {@link AxonError} unless `cond` holds. */
export function check(cond: unknown, op: string, message: string | (() => string)): asserts cond {
  if (!cond) throw new AxonError(op, typeof message === 'string' ? message : message());
}
