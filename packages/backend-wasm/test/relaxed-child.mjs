/* global process, Buffer, WebAssembly, console */
// Run by relaxed.test.ts as `node --experimental-wasm-relaxed-simd relaxed-child.mjs SEED`:
// instantiates the baseline and relaxed-SIMD modules over one memory (as the backend does) and
// checks the relaxed matmul against a float64 reference, and that the paths that skip packing
// (B read in place, row strips in one call for a short k) give the packed path's bits. Prints one
// JSON line.
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
const memory = new WebAssembly.Memory({ initial: 256 });
const imports = { env: { memory, pow: Math.pow, exp: Math.exp, log: Math.log, cos: Math.cos, abort: () => { throw new Error('abort'); } } };
new WebAssembly.Instance(new WebAssembly.Module(main), imports); // initialises static data
const k = new WebAssembly.Instance(new WebAssembly.Module(relaxed), imports).exports;
let s = seed >>> 0;
const rnd = () => {
  s = (s + 0x6d2b79f5) >>> 0;
  let t = s;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const f32 = new Float32Array(memory.buffer);
const EPS = 2 ** -24;
const failures = [];
let checked = 0;
for (const [M, N, K] of [[1, 1, 1], [4, 8, 256], [5, 9, 257], [17, 33, 300], [64, 129, 17], [130, 70, 520], [2, 300, 40]]) {
  for (const [ta, tb] of [[false, false], [true, true], [true, false], [false, true]]) {
    const A = 65536, B = A + M * K * 4, C = B + K * N * 4, WS = C + M * N * 4 + 64;
    for (let i = 0; i < M * K + K * N; i++) f32[A / 4 + i] = Math.fround(rnd() * 2 - 1);
    // element (i, k) of A at A + (ta ? k*M + i : i*K + k); (k, j) of B at B + (tb ? j*K + k : k*N + j)
    const sam = ta ? 4 : K * 4, sak = ta ? M * 4 : 4, sbk = tb ? 4 : N * 4, sbn = tb ? K * 4 : 4;
    k.matmul_f32(A, 0, sam, sak, B, 0, sbk, sbn, C, M * N * 4, N * 4, 1, M, N, K, WS);
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let want = 0;
        let mag = 0;
        for (let q = 0; q < K; q++) {
          const p = f32[(A + i * sam + q * sak) / 4] * f32[(B + q * sbk + j * sbn) / 4];
          want += p;
          mag += Math.abs(p);
        }
        const got = f32[C / 4 + i * N + j];
        checked++;
        // float32 dot products: K·ε·Σ|a||b| (fused or not)
        if (!(Math.abs(got - want) <= K * EPS * mag)) failures.push(`M${M} N${N} K${K} ta${ta} tb${tb} [${i},${j}] got ${got} want ${want}`);
      }
    }
  }
}
// Same bits across paths: a·b with b's rows contiguous (read in place when M ≤ 64) against b as a
// transposed view (packed); and columns 0..6 as part of full 8-wide strips against a ragged strip.
const u32 = new Uint32Array(memory.buffer);
let bitsChecked = 0;
for (const [M, N, K] of [[32, 128, 784], [5, 19, 300], [33, 130, 64], [784, 128, 32], [9, 16, 64]]) {
  const A = 65536, B = A + M * K * 4, BT = B + K * N * 4, C1 = BT + K * N * 4, C2 = C1 + M * N * 4, WS = C2 + M * N * 4 + 64;
  for (let i = 0; i < M * K + K * N; i++) f32[A / 4 + i] = Math.fround(rnd() * 2 - 1);
  for (let q = 0; q < K; q++) for (let j = 0; j < N; j++) f32[BT / 4 + j * K + q] = f32[B / 4 + q * N + j];
  const cmp = (n, what) => {
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < Math.min(n, N); j++) {
        bitsChecked++;
        const x = u32[C1 / 4 + i * N + j], y = u32[C2 / 4 + i * n + j];
        if (x !== y) failures.push(`${what} M${M} N${N} K${K} [${i},${j}]: ${f32[C1 / 4 + i * N + j]} vs ${f32[C2 / 4 + i * n + j]}`);
      }
    }
  };
  k.matmul_f32(A, 0, K * 4, 4, B, 0, N * 4, 4, C1, M * N * 4, N * 4, 1, M, N, K, WS);
  k.matmul_f32(A, 0, K * 4, 4, BT, 0, 4, K * 4, C2, M * N * 4, N * 4, 1, M, N, K, WS);
  cmp(N, 'B in place vs packed');
  k.matmul_f32(A, 0, K * 4, 4, B, 0, N * 4, 4, C2, M * 7 * 4, 7 * 4, 1, M, 7, K, WS);
  cmp(7, 'full vs ragged strip');
}
console.log(JSON.stringify({ supported: true, checked, bitsChecked, failures: failures.slice(0, 5), failed: failures.length }));
