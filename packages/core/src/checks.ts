/**
 * Reads made only to validate input (e.g. that gather's indices are in range): outside
 * `compile` they read and check at once; while `compile` traces, it records the check so that
 * every replay runs it again on the replayed values (see compile.ts).
 */
import type { TypedArray } from './dtype.js';
import type { Tensor } from './tensor.js';
import { AxonError, fmtValue } from './errors.js';
import { validatingRead } from './engine.js';

type Hook = (t: Tensor, check: (v: TypedArray) => void) => void;
let hook: Hook | null = null;

/** @internal Installed by compile() while it traces. */
export function setValidationHook(h: Hook | null): void {
  hook = h;
}

/**
 * Reads `t`'s values on the host to validate them: `check` throws to refuse them (an
 * `AxonError` naming what was wrong). Inside {@link compile} the check is recorded and runs again
 * on every replay, on that call's values — so validation survives compilation, where any other
 * host read makes a function uncompilable. Needs a backend with synchronous reads.
 * @example
 * ```ts
 * const labels = tensor([0, 3, 1], [3], 'int32');
 * const inRange = (v: ArrayLike<number>): void => {
 *   for (let i = 0; i < v.length; i++) if (v[i]! < 0 || v[i]! >= 10) throw new AxonError('labels', `label ${v[i]} at ${i} is not in [0, 10)`);
 * };
 * validationRead(labels, inRange); // passes
 * validationRead(tensor([0, 12], [2], 'int32'), inRange); // throws: 'label 12 at 1'
 * ```
 */
export function validationRead(t: Tensor, check: (v: TypedArray) => void): void {
  if (t === null || typeof t !== 'object' || typeof (t as { assertLive?: unknown }).assertLive !== 'function') {
    throw new AxonError('validationRead', `expects a Tensor, got ${fmtValue(t)}`);
  }
  t.assertLive('validationRead');
  if (typeof check !== 'function') throw new AxonError('validationRead', `expects a check function (values) => void, got ${fmtValue(check)}`);
  if (hook !== null) hook(t, check);
  else check(validatingRead(() => t.dataSync()));
}
