/* global process, Buffer, WebAssembly, console */
// Run by attention.test.ts as `node --experimental-wasm-relaxed-simd attention-relaxed-child.mjs
// SEED`: instantiates the baseline and relaxed-SIMD modules over one memory (as the backend does:
// the relaxed module imports the baseline instance's exports) and runs both attention kernels on
// the same seeded inputs; each must be within 1e-5 + 1e-4·|ref| of a float64 reference, and the
// FMA kernel within that of the SIMD128 one (and not the same bits everywhere: it is another
// kernel). Prints one JSON line.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const seed = Number(process.argv[2] ?? 1);
const src = readFileSync(join(dirname(fileURLToPath(import.meta.url)), '../src/generated/kernels.ts'), 'utf8');
const shift = Number(src.match(/export const BYTE_SHIFT = (\d+);/)[1]);
const bytesOf = (name) => Buffer.from(JSON.parse(src.match(new RegExp(`export const ${name} =\\s*("(?:[^"\\\\]|\\\\.)*")`))[1]), 'latin1').map((b) => b - shift);
const [main, relaxed] = [bytesOf('KERNELS_WASM'), bytesOf('KERNELS_RELAXED_WASM')];
if (!WebAssembly.validate(relaxed)) {
  console.log(JSON.stringify({ supported: false }));
  process.exit(0);
}
const memory = new WebAssembly.Memory({ initial: 512 });
const env = { memory, pow: Math.pow, exp: Math.exp, log: Math.log, cos: Math.cos, abort: () => { throw new Error('abort'); } };
const base = new WebAssembly.Instance(new WebAssembly.Module(main), { env }).exports;
const fma = new WebAssembly.Instance(new WebAssembly.Module(relaxed), { env: { ...base, ...env } }).exports;
let s = seed >>> 0;
const rnd = () => {
  s = (s + 0x6d2b79f5) >>> 0;
  let t = s;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const f32 = new Float32Array(memory.buffer);
const i32 = new Int32Array(memory.buffer);
const failures = [];
let checked = 0;
let differ = 0;
const near = (g, w) => (Number.isNaN(w) ? Number.isNaN(g) : !Number.isFinite(w) ? g === w : Math.abs(g - w) <= 1e-5 + 1e-4 * Math.abs(w));
for (const [B, Tq, Tk, D, Dv, causal, withBias] of [[2, 33, 65, 5, 7, 1, 1], [3, 1, 130, 64, 64, 0, 0], [1, 70, 70, 32, 3, 1, 0], [2, 9, 4, 65, 1, 0, 1]]) {
  const Q = 65536, K = Q + B * Tq * D * 4, V = K + B * Tk * D * 4, Bi = V + B * Tk * Dv * 4, O = Bi + B * Tq * Tk * 4, L = O + B * Tq * Dv * 4, WS = L + B * Tq * 4 + 64;
  for (let i = Q / 4; i < O / 4; i++) f32[i] = Math.fround(rnd() * 2 - 1);
  const scale = 1 / Math.sqrt(D);
  const BQ = Math.min(32, (Tq + 3) & ~3), BK = Math.min(64, (Tk + 7) & ~7);
  // the parameter block as src/backend.ts writes it (contiguous views; strides in bytes)
  const P = 16384;
  i32.set([Q, Tq * D * 4, D * 4, 4, K, Tk * D * 4, D * 4, 4, V, Tk * Dv * 4, Dv * 4, 4, withBias ? Bi : 0, Tq * Tk * 4, Tk * 4, 4, O, L, Tq, Tk, D, Dv, causal, 0, BQ, BK], P / 4);
  f32[P / 4 + 23] = scale;
  const units = B * Math.ceil(Tq / BQ);
  const runs = [base, fma].map((k) => {
    k.attention_f32(P, 0, units, WS);
    return [f32.slice(O / 4, O / 4 + B * Tq * Dv), f32.slice(L / 4, L / 4 + B * Tq)];
  });
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < Tq; i++) {
      const sc = [];
      let m = -Infinity;
      for (let j = 0; j < Tk; j++) {
        let dot = 0;
        for (let d = 0; d < D; d++) dot += f32[Q / 4 + (b * Tq + i) * D + d] * f32[K / 4 + (b * Tk + j) * D + d];
        let x = scale * dot + (withBias ? f32[Bi / 4 + (b * Tq + i) * Tk + j] : 0);
        if (causal && j > i) x = -Infinity;
        sc.push(x);
        m = Math.max(m, x);
      }
      const p = sc.map((x) => Math.exp(x - m));
      const sum = p.reduce((a, x) => a + x, 0);
      const want = [];
      for (let e = 0; e < Dv; e++) want.push(p.reduce((a, x, j) => a + x * f32[V / 4 + (b * Tk + j) * Dv + e], 0) / sum);
      want.push(m + Math.log(sum));
      const at = (r, e) => (e < Dv ? r[0][(b * Tq + i) * Dv + e] : r[1][b * Tq + i]);
      for (let e = 0; e <= Dv; e++) {
        checked++;
        const [g0, g1] = [at(runs[0], e), at(runs[1], e)];
        if (!Object.is(g0, g1)) differ++;
        if (!near(g1, want[e]) || !near(g0, want[e]) || !near(g1, g0)) failures.push(`B${B} Tq${Tq} Tk${Tk} D${D} Dv${Dv} causal${causal} [${b},${i},${e}]: fma ${g1}, simd128 ${g0}, float64 ${want[e]}`);
      }
    }
  }
}
console.log(JSON.stringify({ supported: true, checked, differ, failures: failures.slice(0, 5), failed: failures.length }));
