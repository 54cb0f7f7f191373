// Micro-benchmark of the fused primitives reduceFused and matmulFused against the two-step
// compositions core runs without them (each step's output allocated and freed, as core does):
//   reduceFused: alloc, fused (the prologue) into the buffer, reduce, free;
//   matmulFused: alloc, matmul into the buffer, fused (the epilogue), free.
// reduceFused is timed as it runs (one generated kernel for these layouts) and forced onto its
// block path (fused into scratch, then the reduce kernel). Run after a build:
//   pnpm --filter @axon/backend-wasm build && node packages/backend-wasm/scripts/bench-fused-prims.mjs
// Each figure is the best of 40 samples of process CPU microseconds per call (a sample runs the
// call in a loop for about 5 ms); the contenders of a case alternate sample by sample, so they see
// the same machine load.
import { contiguousStrides } from '@axon/core';
import { createWasmBackendSync } from '../dist/index.js';

const be = createWasmBackendSync({ relaxedSimd: false });
const SAMPLES = 40;
const view = (buf, shape, strides = contiguousStrides(shape), offset = 0) => ({ buf, dtype: buf.dtype, shape, strides, offset });
function filled(n, gen) {
  const b = be.alloc('float32', n);
  const h = new Float32Array(n);
  for (let i = 0; i < n; i++) h[i] = gen(i);
  be.write(b, h);
  return b;
}
const cpu = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
/** Calls of `fn` that take about 5 ms of CPU time (after a 50 ms warm-up: V8 tiers up in the background). */
function calibrate(fn) {
  const t0 = performance.now();
  while (performance.now() - t0 < 50) fn();
  let reps = 1;
  for (;;) {
    const t = cpu();
    for (let i = 0; i < reps; i++) fn();
    if (cpu() - t > 5000) return reps;
    reps *= 2;
  }
}
const I = (input) => ({ op: 'input', input });
const rows = [];
/** Best CPU µs per call of each contender over SAMPLES rounds, each round running every contender once. */
function bench(name, contenders) {
  const reps = contenders.map(([, fn]) => calibrate(fn));
  const best = contenders.map(() => Infinity);
  for (let s = 0; s < SAMPLES; s++) {
    contenders.forEach(([, fn], i) => {
      const t = cpu();
      for (let r = 0; r < reps[i]; r++) fn();
      best[i] = Math.min(best[i], (cpu() - t) / reps[i]);
    });
  }
  rows.push([name, ...best]);
  console.log(name.padEnd(44), contenders.map(([label], i) => `${label} ${best[i].toFixed(2)}`).join('  '));
}
/** The three ways to run reduceFused(op, program, inputs, shape, axes). */
function reduceCase(name, op, program, inputs, consts, shape, axes) {
  const n = shape.reduce((a, b) => a * b, 1);
  const nOut = shape.filter((_, d) => !axes.includes(d)).reduce((a, b) => a * b, 1);
  const out = be.alloc('float32', nOut);
  const fused = () => be.reduceFused(op, program, inputs, consts, shape, axes, out);
  const blocks = () => {
    be.reduceGenerated = () => false; // the private method: force the block path
    try {
      be.reduceFused(op, program, inputs, consts, shape, axes, out);
    } finally {
      delete be.reduceGenerated;
    }
  };
  const twoStep = () => {
    const t = be.alloc('float32', n);
    be.fused(program, inputs, consts, [t]);
    be.reduce(op, view(t, shape), axes, out);
    be.free(t);
  };
  const before = be.fusedRuns.reduceGenerated;
  fused();
  if (be.fusedRuns.reduceGenerated !== before + 1) throw new Error(`${name}: not generated`);
  bench(name, [['reduceFused', fused], ['blocks', blocks], ['fused+reduce', twoStep]]);
}

for (const [M, N] of [[32, 10], [128, 10], [32, 128], [32, 784]]) {
  const x = filled(M * N, () => Math.random() * 4 - 2);
  const m = filled(M, () => 2);
  const dy = filled(M * N, () => Math.random() - 0.5);
  const softmax = { key: 'exp(x-m)', inputs: ['float32', 'float32'], consts: 0, code: [I(0), I(1), { op: 'sub', args: [0, 1] }, { op: 'exp', args: [2] }], outputs: [{ value: 3, dtype: 'float32' }] };
  const scaled = { key: 'x*c', inputs: ['float32'], consts: 1, code: [I(0), { op: 'const', slot: 0 }, { op: 'mul', args: [0, 1] }], outputs: [{ value: 2, dtype: 'float32' }] };
  const grad = { key: 'dy*(x>0)', inputs: ['float32', 'float32'], consts: 1, code: [I(0), I(1), { op: 'const', slot: 0 }, { op: 'gt', args: [1, 2] }, { op: 'mul', args: [0, 3] }], outputs: [{ value: 4, dtype: 'float32' }] };
  reduceCase(`max(x·c) rows [${M},${N}]`, 'max', scaled, [view(x, [M, N])], [0.5], [M, N], [1]);
  reduceCase(`Σ exp(x − max) rows [${M},${N}]`, 'sum', softmax, [view(x, [M, N]), view(m, [M, N], [1, 0])], [], [M, N], [1]);
  reduceCase(`Σ dy·(x > 0) over axis 0 [${M},${N}]`, 'sum', grad, [view(dy, [M, N]), view(x, [M, N])], [0], [M, N], [0]);
  reduceCase(`Σ dy·(x > 0) over all [${M},${N}]`, 'sum', grad, [view(dy, [M, N]), view(x, [M, N])], [0], [M, N], [0, 1]);
}

for (const [M, K, N, outs] of [[32, 784, 128, 1], [32, 784, 128, 2], [32, 128, 10, 1], [128, 784, 128, 1], [128, 128, 10, 2]]) {
  const a = filled(M * K, () => Math.random() - 0.5);
  const w = filled(K * N, () => Math.random() - 0.5);
  const bias = filled(N, () => Math.random() - 0.5);
  const n = M * N;
  // relu(p + bias), and with two outputs also p itself (the raw product: written straight there)
  const program = {
    key: `mm-relu-${outs}`,
    inputs: ['float32', 'float32'],
    consts: 0,
    code: [I(0), I(1), { op: 'add', args: [0, 1] }, { op: 'relu', args: [2] }],
    outputs: outs === 1 ? [{ value: 3, dtype: 'float32' }] : [{ value: 3, dtype: 'float32' }, { value: 0, dtype: 'float32' }],
  };
  const A = view(a, [1, M, K]);
  const W = view(w, [1, K, N]);
  const B = view(bias, [M, N], [0, 1]);
  const ys = program.outputs.map(() => be.alloc('float32', n));
  const fused = () => be.matmulFused(A, W, program, [B], [], ys);
  const twoStep = () => {
    const p = be.alloc('float32', n);
    be.matmul(A, W, p);
    be.fused(program, [view(p, [M, N]), B], [], ys);
    be.free(p);
  };
  bench(`relu(x·W + b)${outs === 2 ? ', x·W' : ''} [${M},${K}]·[${K},${N}]`, [['matmulFused', fused], ['matmul+fused', twoStep]]);
}
console.log(`\nNode ${process.version}, CPU µs per call (best of ${SAMPLES} samples, contenders alternating)`);
