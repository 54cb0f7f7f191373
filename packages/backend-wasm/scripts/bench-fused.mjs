// Micro-benchmark of Backend.fused: a 5-op elementwise chain (32×10, 32×128, 256×1024) as one fused call against the same
// five ops as primitive calls (unary/binary), and an Adam update (3 outputs) against its 12
// primitive calls. Each fused call is timed twice: through its generated kernel (src/codegen.ts,
// the default) and through the interpreter (`fusedCodegen = false`). Run after a build:
//   pnpm --filter @axon/backend-wasm build && node packages/backend-wasm/scripts/bench-fused.mjs [--blocks]
// `--blocks` also times the interpreter with other block sizes (lanes per register).
// Each figure is the best of 30 samples of process CPU microseconds per call (a sample runs the
// call in a loop for about 5 ms), the best of three rounds; the contenders alternate, so they see
// the same machine load.
import { contiguousStrides } from '@axon/core';
import { createWasmBackendSync } from '../dist/index.js';

const be = createWasmBackendSync({ relaxedSimd: false });
const sweep = process.argv.includes('--blocks');
const defaultBlock = be.fusedBlock;
const ROUNDS = 3;

const view = (buf, shape, strides = contiguousStrides(shape), offset = 0) => ({ buf, dtype: buf.dtype, shape, strides, offset });
function filled(dtype, n, gen) {
  const b = be.alloc(dtype, n);
  const h = dtype === 'bool' ? new Uint8Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) h[i] = gen(i);
  be.write(b, h);
  return b;
}

/** Process CPU time in µs (steadier than wall time on a shared machine). */
function cpu() {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/**
 * Runs `fn` for about 100 ms of wall time: process CPU time counts V8's background threads too,
 * and a generated kernel's optimizing compilation runs there after its first calls.
 */
function warm(fn) {
  const t0 = performance.now();
  while (performance.now() - t0 < 100) fn();
}

/** Best of `samples` samples of CPU µs per call of `fn` (a sample runs it for about 5 ms). */
function time(fn, samples = 30) {
  let reps = 1;
  for (;;) {
    const t0 = cpu();
    for (let i = 0; i < reps; i++) fn();
    if (cpu() - t0 > 5000) break;
    reps *= 2;
  }
  let best = Infinity;
  for (let s = 0; s < samples; s++) {
    const t0 = cpu();
    for (let i = 0; i < reps; i++) fn();
    best = Math.min(best, (cpu() - t0) / reps);
  }
  return best;
}

/** out = (relu(x + bias) · mask) · 2 + y: x, y [M, N]; bias [N] broadcast over rows; mask float32. */
function chain(M, N) {
  const n = M * N;
  const x = filled('float32', n, () => Math.random() * 2 - 1);
  const y = filled('float32', n, () => Math.random());
  const mask = filled('float32', n, () => (Math.random() < 0.5 ? 1 : 0));
  const bias = filled('float32', N, () => Math.random() - 0.5);
  const two = filled('float32', 1, () => 2);
  const out = be.alloc('float32', n);
  const t = [0, 1, 2, 3].map(() => be.alloc('float32', n));
  const X = view(x, [M, N]);
  const B = view(bias, [M, N], [0, 1]);
  const program = {
    key: 'bench-chain',
    inputs: ['float32', 'float32', 'float32', 'float32'],
    consts: 1,
    code: [
      { op: 'input', input: 0 },
      { op: 'input', input: 1 },
      { op: 'add', args: [0, 1] },
      { op: 'relu', args: [2] },
      { op: 'input', input: 2 },
      { op: 'mul', args: [3, 4] },
      { op: 'const', slot: 0 },
      { op: 'mul', args: [5, 6] },
      { op: 'input', input: 3 },
      { op: 'add', args: [7, 8] },
    ],
    outputs: [{ value: 9, dtype: 'float32' }],
  };
  const ins = [X, B, view(mask, [M, N]), view(y, [M, N])];
  const consts = [2];
  const outs = [out];
  const fused = () => be.fused(program, ins, consts, outs);
  const V = (b) => view(b, [M, N]);
  const S = view(two, [M, N], [0, 0]);
  const prims = () => {
    be.binary('add', X, B, t[0]);
    be.unary('relu', V(t[0]), t[1]);
    be.binary('mul', V(t[1]), V(mask), t[2]);
    be.binary('mul', V(t[2]), S, t[3]);
    be.binary('add', V(t[3]), V(y), out);
  };
  // as core would run them: each op allocates its output and the temporaries are freed
  const primsAlloc = () => {
    const a = be.alloc('float32', n);
    be.binary('add', X, B, a);
    const b = be.alloc('float32', n);
    be.unary('relu', V(a), b);
    be.free(a);
    const c = be.alloc('float32', n);
    be.binary('mul', V(b), V(mask), c);
    be.free(b);
    const d = be.alloc('float32', n);
    be.binary('mul', V(c), S, d);
    be.free(c);
    const e = be.alloc('float32', n);
    be.binary('add', V(d), V(y), e);
    be.free(d);
    be.free(e);
  };
  // same results
  fused();
  const f = be.readSync(out);
  prims();
  const p = be.readSync(out);
  for (let i = 0; i < n; i++) if (!Object.is(f[i], p[i])) throw new Error(`chain ${M}x${N}: fused and primitives differ at ${i}`);
  return { fused, prims, primsAlloc, outs };
}

/** Adam: m' = b1·m + (1−b1)·g; v' = b2·v + (1−b2)·g²; p' = p − lr·m'/(√v' + eps). */
function adam(n) {
  const [p, g, m, v] = [0, 1, 2, 3].map(() => filled('float32', n, () => Math.random()));
  const outs = [0, 1, 2].map(() => be.alloc('float32', n));
  const c = [0.9, 0.1, 0.999, 0.001, 1e-3, 1e-8];
  const program = {
    key: 'bench-adam',
    inputs: ['float32', 'float32', 'float32', 'float32'],
    consts: 6,
    code: [
      { op: 'input', input: 0 }, { op: 'input', input: 1 }, { op: 'input', input: 2 }, { op: 'input', input: 3 },
      { op: 'const', slot: 0 }, { op: 'const', slot: 1 }, { op: 'const', slot: 2 }, { op: 'const', slot: 3 }, { op: 'const', slot: 4 }, { op: 'const', slot: 5 },
      { op: 'mul', args: [4, 2] }, { op: 'mul', args: [5, 1] }, { op: 'add', args: [10, 11] },
      { op: 'mul', args: [6, 3] }, { op: 'square', args: [1] }, { op: 'mul', args: [7, 14] }, { op: 'add', args: [13, 15] },
      { op: 'sqrt', args: [16] }, { op: 'add', args: [17, 9] }, { op: 'div', args: [12, 18] }, { op: 'mul', args: [8, 19] }, { op: 'sub', args: [0, 20] },
    ],
    outputs: [{ value: 21, dtype: 'float32' }, { value: 12, dtype: 'float32' }, { value: 16, dtype: 'float32' }],
  };
  const ins = [p, g, m, v].map((b) => view(b, [n]));
  const fused = () => be.fused(program, ins, c, outs);
  const sc = c.map((x) => view(filled('float32', 1, () => x), [n], [0]));
  const t = Array.from({ length: 10 }, () => be.alloc('float32', n));
  const V = (b) => view(b, [n]);
  const prims = () => {
    be.binary('mul', sc[0], ins[2], t[0]);
    be.binary('mul', sc[1], ins[1], t[1]);
    be.binary('add', V(t[0]), V(t[1]), outs[1]);
    be.binary('mul', sc[2], ins[3], t[2]);
    be.unary('square', ins[1], t[3]);
    be.binary('mul', sc[3], V(t[3]), t[4]);
    be.binary('add', V(t[2]), V(t[4]), outs[2]);
    be.unary('sqrt', V(outs[2]), t[5]);
    be.binary('add', V(t[5]), sc[5], t[6]);
    be.binary('div', V(outs[1]), V(t[6]), t[7]);
    be.binary('mul', sc[4], V(t[7]), t[8]);
    be.binary('sub', ins[0], V(t[8]), outs[0]);
  };
  return { fused, prims, outs };
}

const fmt = (x) => (x < 10 ? x.toFixed(2) : x.toFixed(1));

/** `fn` run through the interpreter. */
const noCodegen = (fn) => () => {
  be.fusedCodegen = false;
  fn();
  be.fusedCodegen = true;
};

/** Times `fn` through the interpreter (block size `b`). */
function interpreted(fn, b) {
  be.fusedCodegen = false;
  be.fusedBlock = b;
  try {
    return time(fn);
  } finally {
    be.fusedCodegen = true;
    be.fusedBlock = defaultBlock;
  }
}

/** Checks that the generated kernel and the interpreter write the same bits into `outs`. */
function sameAsInterpreter(fn, outs, what) {
  const before = be.fusedRuns.generated;
  fn();
  if (be.fusedRuns.generated !== before + 1) throw new Error(`${what}: the generated kernel did not run`);
  const g = outs.map((o) => be.readSync(o));
  be.fusedCodegen = false;
  fn();
  be.fusedCodegen = true;
  outs.forEach((o, j) => {
    const r = be.readSync(o);
    for (let i = 0; i < r.length; i++) if (!Object.is(r[i], g[j][i]) && !(Number.isNaN(r[i]) && Number.isNaN(g[j][i]))) throw new Error(`${what}: generated and interpreted differ at output ${j}[${i}]`);
  });
}

console.log(`Node ${process.version}; CPU µs per call, best of 30 samples, best of 3 rounds`);
const blocks = sweep ? [128, 256, 512, 1024] : [defaultBlock];
for (const [M, N] of [[32, 10], [32, 128], [256, 1024]]) {
  const c = chain(M, N);
  sameAsInterpreter(c.fused, c.outs, `chain ${M}x${N}`);
  for (const fn of [c.fused, noCodegen(c.fused), c.prims, c.primsAlloc]) warm(fn);
  const row = { gen: Infinity, fused: {}, prims: 0, primsAlloc: 0 };
  for (let round = 0; round < ROUNDS; round++) {
    row.gen = Math.min(row.gen, time(c.fused));
    for (const b of blocks) row.fused[b] = Math.min(row.fused[b] ?? Infinity, interpreted(c.fused, b));
    row.prims = Math.min(row.prims || Infinity, time(c.prims));
    row.primsAlloc = Math.min(row.primsAlloc || Infinity, time(c.primsAlloc));
  }
  const f = Object.entries(row.fused).map(([b, t]) => `${fmt(t)}${sweep ? ` (block ${b})` : ''}`).join(', ');
  console.log(`5-op chain ${M}x${N}: generated ${fmt(row.gen)}; interpreter ${f}; 5 primitive calls ${fmt(row.prims)} (${fmt(row.primsAlloc)} allocating each output); primitives/generated ${(row.prims / row.gen).toFixed(1)}x, interpreter/generated ${(Math.min(...Object.values(row.fused)) / row.gen).toFixed(1)}x`);
}
for (const n of [128 * 784, 1280]) {
  const a = adam(n);
  sameAsInterpreter(a.fused, a.outs, `adam ${n}`);
  for (const fn of [a.fused, noCodegen(a.fused), a.prims]) warm(fn);
  const row = { gen: Infinity, fused: {}, prims: 0 };
  for (let round = 0; round < ROUNDS; round++) {
    row.gen = Math.min(row.gen, time(a.fused));
    for (const b of blocks) row.fused[b] = Math.min(row.fused[b] ?? Infinity, interpreted(a.fused, b));
    row.prims = Math.min(row.prims || Infinity, time(a.prims));
  }
  const f = Object.entries(row.fused).map(([b, t]) => `${fmt(t)}${sweep ? ` (block ${b})` : ''}`).join(', ');
  console.log(`Adam update n=${n} (3 outputs): generated ${fmt(row.gen)}; interpreter ${f}; 12 primitive calls ${fmt(row.prims)}; primitives/generated ${(row.prims / row.gen).toFixed(1)}x, interpreter/generated ${(Math.min(...Object.values(row.fused)) / row.gen).toFixed(1)}x`);
}
