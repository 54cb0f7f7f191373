// The optional relaxed-SIMD (FMA) matmul: off when asked, correct when the engine supports it.
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createWasmBackendSync } from '../src/index.js';
import { SEED, expectClose, upload, whole } from './helpers.js';

describe(`relaxed SIMD (seed ${SEED})`, () => {
  it('can be turned off, and the backend reports what it uses', () => {
    const off = createWasmBackendSync({ relaxedSimd: false, threads: 1 });
    expect(off.features).toEqual({ simd: true, relaxedSimd: false, threads: 1, threadsReason: '1 thread requested' });
    const on = createWasmBackendSync();
    expect(typeof on.features.relaxedSimd).toBe('boolean');
    for (const be of [off, on]) {
      const a = upload(be, 'float32', [1, 2, 3, 4, 5, 6]);
      const o = be.alloc('float32', 4);
      be.matmul(whole(a, [1, 2, 3]), { ...whole(a, [1, 3, 2]), strides: [6, 1, 3] }, o);
      expectClose(be.readSync(o), [14, 32, 32, 77], 0, 0, `matmul relaxed=${be.features.relaxedSimd}`);
    }
  });
  it('the FMA matmul matches a float64 reference within K·ε·Σ|a||b|, and its paths agree bit for bit (child process with the flag)', () => {
    const child = join(dirname(fileURLToPath(import.meta.url)), 'relaxed-child.mjs');
    let out: string;
    try {
      out = execFileSync(process.execPath, ['--experimental-wasm-relaxed-simd', child, String(SEED)], { encoding: 'utf8' });
    } catch (e) {
      // an engine that no longer knows the flag has relaxed SIMD on by default
      out = execFileSync(process.execPath, [child, String(SEED)], { encoding: 'utf8' });
      void e;
    }
    const r = JSON.parse(out.trim().split('\n').pop()!) as { supported: boolean; checked?: number; bitsChecked?: number; failed?: number; failures?: string[] };
    if (!r.supported) return; // this engine has no relaxed SIMD even with the flag
    expect(r.failed, `relaxed matmul (seed ${SEED}): ${(r.failures ?? []).join('; ')}`).toBe(0);
    expect(r.checked).toBeGreaterThan(1000);
    expect(r.bitsChecked).toBeGreaterThan(100_000);
  });
});
