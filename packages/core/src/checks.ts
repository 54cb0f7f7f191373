/**
 * Reads made only to validate input (e.g. that gather's indices are in range): outside
 * `compile` they read and check at once; while `compile` traces, it records the check so that
 * every replay runs it again on the replayed values (see compile.ts).
 */
import type { TypedArray } from './dtype.js';
import type { Tensor } from './tensor.js';

type Hook = (t: Tensor, check: (v: TypedArray) => void) => void;
let hook: Hook | null = null;

/** @internal Installed by compile() while it traces. */
export function setValidationHook(h: Hook | null): void {
  hook = h;
}

/** @internal Reads `t` on the host and runs `check` on its values (which throws to refuse them). */
export function validationRead(t: Tensor, check: (v: TypedArray) => void): void {
  if (hook !== null) hook(t, check);
  else check(t.dataSync());
}
