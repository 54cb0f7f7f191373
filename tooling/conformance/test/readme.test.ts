// The README's tolerance table must state exactly what src/tolerances.ts enforces.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EPS32, TOLERANCES } from '../src/tolerances.js';

const parse = (s: string): number => (s.endsWith('ε') ? Number(s.slice(0, -1) || 1) * EPS32 : Number(s));

describe('README tolerance table', () => {
  it('lists every TOLERANCES entry with its atol, rtol and accumulation term', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const rows = new Map<string, string[]>();
    for (const line of readme.split('\n')) {
      const m = /^\| `(\w+)` \| ([^|]+) \| ([^|]+) \| (.+?) \| /.exec(line);
      if (m) rows.set(m[1]!, [m[2]!.trim(), m[3]!.trim(), m[4]!.trim()]);
    }
    for (const [name, t] of Object.entries(TOLERANCES)) {
      const row = rows.get(name);
      expect(row, `README has no row for \`${name}\``).toBeDefined();
      const [atol, rtol, acc] = row!;
      expect(parse(atol!), `${name} atol`).toBeCloseTo(t.atol, 15);
      expect(parse(rtol!), `${name} rtol`).toBeCloseTo(t.rtol, 15);
      const accEps = 'accEps' in t ? t.accEps : undefined;
      if (accEps) expect(acc, `${name} accumulation`).toContain(`${accEps / EPS32}ε·${'acc' in t && t.acc === 'linear' ? 'n' : '(⌈log₂n⌉+1)'}`);
      else expect(acc, `${name} accumulation`).toBe('—');
    }
    expect([...rows.keys()].filter((k) => !(k in TOLERANCES)), 'README rows not in TOLERANCES').toEqual([]);
  });
});
