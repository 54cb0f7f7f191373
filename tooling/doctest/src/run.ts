// Runs examples: each one is compiled to an async function whose scope holds every export its
// package's examples may use, with `// value` comments turned into assertions.
import { runInThisContext } from 'node:vm';
import { mismatch, parseExpected } from './expect.js';
import type { DocPackage, Example } from './extract.js';
import { compileBody, transform } from './transform.js';

/** A module loader for the specifiers examples import. */
export type Loader = (spec: string) => Promise<Record<string, unknown>>;

/** Output an example printed (it runs with a console that records instead of printing). */
export interface RunResult {
  checks: number;
  output: string[];
}

export class ExampleFailure extends Error {}

const isThenable = (v: unknown): v is PromiseLike<unknown> => v !== null && (typeof v === 'object' || typeof v === 'function') && typeof (v as { then?: unknown }).then === 'function';

async function check(actual: unknown, note: string, where: string): Promise<void> {
  const exp = parseExpected(note);
  if (exp === undefined) throw new ExampleFailure(`${where}: '${note}' is not a value`);
  const v = isThenable(actual) ? await actual : actual;
  const d = mismatch(v, exp);
  if (d !== undefined) throw new ExampleFailure(`${where}: ${d}`);
}

async function throws(fn: () => Promise<void>, text: string | null, where: string): Promise<void> {
  try {
    await fn();
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (text !== null && !msg.includes(text)) throw new ExampleFailure(`${where}: threw "${msg}", which does not contain "${text}"`);
    return;
  }
  throw new ExampleFailure(`${where}: expected it to throw${text !== null ? ` "${text}"` : ''}, but it did not`);
}

/** Builds the scope of a package's examples: its modules' exports, earlier modules winning. */
export async function scopeOf(pkg: DocPackage, load: Loader): Promise<Record<string, unknown>> {
  const scope: Record<string, unknown> = {};
  for (const spec of [...pkg.scope].reverse()) Object.assign(scope, await load(spec));
  delete scope.default;
  return scope;
}

/** Runs one example; throws (with the example's id) when it throws or a value differs. */
export async function runExample(ex: Example, scope: Record<string, unknown>, load: Loader): Promise<RunResult> {
  const t = transform(ex.code, ex.id);
  const names = Object.keys(scope).filter((n) => /^[A-Za-z_$][\w$]*$/.test(n));
  const body = `{ const { ${names.join(', ')} } = __scope;\n{\n${t.run}\n}\n}`;
  const js = compileBody(body, ['__scope', '__check', '__throws', '__import', 'console']);
  const fn = runInThisContext(js, { filename: ex.id }) as (...a: unknown[]) => Promise<void>;
  const output: string[] = [];
  const record = (...a: unknown[]): void => {
    output.push(a.map((x) => (typeof x === 'string' ? x : String(x))).join(' '));
  };
  const quiet = { ...console, log: record, info: record, warn: record, error: record, table: record, dir: record };
  await fn(scope, check, throws, load, quiet);
  return { checks: t.checks, output };
}
