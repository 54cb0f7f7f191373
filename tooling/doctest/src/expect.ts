// Doctest values: a statement ending in `// <value>` asserts its value. Values are written as
// JavaScript literals (numbers, strings, booleans, null, NaN, ±Infinity, arrays, objects with plain
// keys); a number matches when it rounds to the digits written (`// 0.7311` accepts 0.73105…).
// A comment that is not one whole literal (prose, `// shape [2, 3] after …`) asserts nothing.
// `// throws` (optionally `// throws: 'text'`) asserts that the statement throws (with `text` in
// the message).

/** A parsed expected value; numbers keep the precision they were written with. */
export type Expected =
  | { kind: 'number'; value: number; tol: number; text: string }
  | { kind: 'string'; value: string }
  | { kind: 'bool'; value: boolean }
  | { kind: 'null' }
  | { kind: 'undefined' }
  | { kind: 'array'; items: Expected[] }
  | { kind: 'object'; entries: [string, Expected][] };

/** Parses a whole comment as one literal, or returns undefined when it is prose. */
export function parseExpected(src: string): Expected | undefined {
  let i = 0;
  const s = src.trim();
  const ws = (): void => {
    while (i < s.length && /\s/.test(s[i]!)) i++;
  };
  const fail = (): never => {
    throw new SyntaxError('not a literal');
  };
  const value = (): Expected => {
    ws();
    const c = s[i];
    if (c === '[') {
      i++;
      const items: Expected[] = [];
      ws();
      if (s[i] === ']') return i++, { kind: 'array', items };
      for (;;) {
        items.push(value());
        ws();
        if (s[i] === ',') { i++; ws(); if (s[i] === ']') return i++, { kind: 'array', items }; continue; }
        if (s[i] === ']') return i++, { kind: 'array', items };
        fail();
      }
    }
    if (c === '{') {
      i++;
      const entries: [string, Expected][] = [];
      ws();
      if (s[i] === '}') return i++, { kind: 'object', entries };
      for (;;) {
        ws();
        const km = /^(?:([A-Za-z_$][\w$]*)|'([^']*)'|"([^"]*)")\s*:/.exec(s.slice(i));
        if (km === null) fail();
        i += km![0].length;
        entries.push([km![1] ?? km![2] ?? km![3]!, value()]);
        ws();
        if (s[i] === ',') { i++; ws(); if (s[i] === '}') return i++, { kind: 'object', entries }; continue; }
        if (s[i] === '}') return i++, { kind: 'object', entries };
        fail();
      }
    }
    if (c === "'" || c === '"') {
      const end = s.indexOf(c, i + 1);
      if (end < 0) fail();
      const v = s.slice(i + 1, end);
      i = end + 1;
      return { kind: 'string', value: v };
    }
    const m = /^(-?(?:\d+(?:\.(\d+))?(?:e[-+]?\d+)?|Infinity)|NaN|true|false|null|undefined)(?![\w.])/.exec(s.slice(i));
    if (m === null) fail();
    i += m![0].length;
    const t = m![0];
    if (t === 'true' || t === 'false') return { kind: 'bool', value: t === 'true' };
    if (t === 'null') return { kind: 'null' };
    if (t === 'undefined') return { kind: 'undefined' };
    if (t === 'NaN') return { kind: 'number', value: NaN, tol: 0, text: t };
    const num = Number(t);
    // Rounded to the digits written: half a unit of the last digit (plus float32 rounding).
    const decimals = m![2]?.length ?? 0;
    const exp = /e([-+]?\d+)$/i.exec(t);
    const unit = 10 ** (-decimals + (exp !== null ? Number(exp[1]) : 0));
    const tol = decimals > 0 || exp !== null ? unit / 2 : 0;
    return { kind: 'number', value: num, tol: tol + Math.abs(num) * 2 ** -22, text: t };
  };
  try {
    const v = value();
    ws();
    return i === s.length ? v : undefined;
  } catch {
    return undefined;
  }
}

/** A tensor (anything with `arraySync()` and a `shape`) is compared by its values. */
function plain(actual: unknown): unknown {
  if (actual !== null && typeof actual === 'object') {
    const t = actual as { arraySync?: () => unknown; shape?: unknown };
    if (typeof t.arraySync === 'function' && Array.isArray(t.shape)) return t.arraySync();
    if (ArrayBuffer.isView(actual) && !(actual instanceof DataView)) return Array.from(actual as unknown as ArrayLike<number>);
  }
  return actual;
}

/** Compares a value with what the comment says; returns a description of the first difference, or undefined. */
export function mismatch(actual: unknown, exp: Expected, path = ''): string | undefined {
  const a = plain(actual);
  const at = path === '' ? '' : ` at ${path}`;
  switch (exp.kind) {
    case 'number': {
      const n = typeof a === 'boolean' ? Number(a) : a;
      if (typeof n !== 'number') return `expected ${exp.text}${at}, got ${show(a)}`;
      if (Number.isNaN(exp.value)) return Number.isNaN(n) ? undefined : `expected NaN${at}, got ${n}`;
      if (!Number.isFinite(exp.value)) return n === exp.value ? undefined : `expected ${exp.text}${at}, got ${n}`;
      return Math.abs(n - exp.value) <= exp.tol ? undefined : `expected ${exp.text}${at}, got ${n}`;
    }
    case 'bool':
      if (a === exp.value || (typeof a === 'number' && a === Number(exp.value))) return undefined;
      return `expected ${exp.value}${at}, got ${show(a)}`;
    case 'string':
      return a === exp.value ? undefined : `expected '${exp.value}'${at}, got ${show(a)}`;
    case 'null':
      return a === null ? undefined : `expected null${at}, got ${show(a)}`;
    case 'undefined':
      return a === undefined ? undefined : `expected undefined${at}, got ${show(a)}`;
    case 'array': {
      if (!Array.isArray(a)) return `expected an array${at}, got ${show(a)}`;
      if (a.length !== exp.items.length) return `expected ${exp.items.length} items${at}, got ${a.length}: ${show(a)}`;
      for (let k = 0; k < a.length; k++) {
        const d = mismatch(a[k], exp.items[k]!, `${path}[${k}]`);
        if (d !== undefined) return d;
      }
      return undefined;
    }
    case 'object': {
      if (a === null || typeof a !== 'object') return `expected an object${at}, got ${show(a)}`;
      for (const [k, v] of exp.entries) {
        const d = mismatch((a as Record<string, unknown>)[k], v, `${path}.${k}`);
        if (d !== undefined) return d;
      }
      return undefined;
    }
  }
}

function show(v: unknown): string {
  if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.getPrototypeOf(v) !== Object.prototype) return String(v);
  try {
    const s = JSON.stringify(v);
    return s === undefined ? String(v) : s.length > 200 ? `${s.slice(0, 200)}…` : s;
  } catch {
    return String(v);
  }
}
