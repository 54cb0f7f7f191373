/**
 * Prologues and epilogues (issue 11): with fusion on, the elementwise ops after a matmul (a bias,
 * an activation) run inside it as its epilogue (`matmulFused`), and the elementwise ops before a
 * reduction (the scale and mask before a softmax, the `exp` inside its sum) run inside the
 * reduction as its prologue (`reduceFused`). Values match the op-by-op path, a product is never
 * computed twice, and memory() is as without fusion — on every backend.
 */
import * as ax from '@axon/core';
import { checkClose, ensure } from '../check.js';
import { evaluate, group, it, type Suite } from '../harness.js';
import { TOLERANCES } from '../tolerances.js';

const f32 = Math.fround;

/** Kernels that computed a matrix product, fused or not. */
const products = (r: ax.ProfileReport): number => (r.byKind['matmul']?.count ?? 0) + (r.byKind['matmulFused']?.count ?? 0);

/** Row-major float64 `x·w` of float32 values, and Σ|x||w| per element (for the tolerance). */
function dense(x: number[], w: number[], M: number, K: number, N: number): { y: Float64Array; mag: Float64Array } {
  const y = new Float64Array(M * N);
  const mag = new Float64Array(M * N);
  for (let i = 0; i < M; i++)
    for (let j = 0; j < N; j++)
      for (let k = 0; k < K; k++) {
        const p = f32(x[i * K + k]!) * f32(w[k * N + j]!);
        y[i * N + j] += p;
        mag[i * N + j] += Math.abs(p);
      }
  return { y, mag };
}

export function epilogueTests(s: Suite): void {
  const hasMatmulFused = (): boolean => typeof ax.getBackend().matmulFused === 'function';
  const hasReduceFused = (): boolean => typeof ax.getBackend().reduceFused === 'function';

  group(s, 'fusion: epilogues after matmul, prologues before reductions', () => {
    it('bias + activation after a matmul run as its epilogue: one kernel, the op-by-op values', async () => {
      const r = s.rng('epilogue-dense');
      const [M, K, N] = [5, 7, 3];
      const xv = Array.from({ length: M * K }, () => r.uniform(-1, 1));
      const wv = Array.from({ length: K * N }, () => r.uniform(-1, 1));
      const bv = Array.from({ length: N }, () => r.uniform(-0.5, 0.5));
      const [x, w, b] = [ax.tensor(xv, [M, K]), ax.tensor(wv, [K, N]), ax.tensor(bv, [N])];
      const c = s.ctx('relu(x·w + b), and x·w + b', 'x [5,7], w [7,3], b [3]');
      try {
        const { result, report } = ax.profile(() =>
          ax.tidy(() => {
            const z = x.matmul(w).add(b);
            const y = z.relu();
            ax.realize(z, y); // both from one kernel
            return [z, y];
          }),
        );
        const { y: p, mag } = dense(xv, wv, M, K, N);
        const zExp = p.map((v, i) => v + f32(bv[i % N]!));
        const zMag = mag.map((v, i) => v + Math.abs(bv[i % N]!));
        const tol = TOLERANCES.matmul;
        const [z, y] = result;
        checkClose({ data: await z!.data(), shape: [...z!.shape], dtype: 'float32' }, { shape: [M, N], values: zExp, mag: zMag, n: K + 1 }, 'float32', tol, c);
        checkClose({ data: await y!.data(), shape: [...y!.shape], dtype: 'float32' }, { shape: [M, N], values: zExp.map((v) => Math.max(v, 0)), mag: zMag, n: K + 1 }, 'float32', tol, c);
        z!.dispose();
        y!.dispose();
        const kinds = JSON.stringify(report.byKind);
        if (!s.fusion) ensure(report.kernels >= 3 && report.byKind['matmulFused'] === undefined, c, `with fusion off: ${report.kernels} kernels ${kinds} (expected matmul, add and relu, none fused)`);
        else if (hasMatmulFused()) ensure(report.kernels === 1 && report.byKind['matmulFused']?.count === 1 && report.fusedOps >= 2, c, `with fusion on: ${report.kernels} kernels ${kinds}, fusedOps ${report.fusedOps} (expected one matmulFused kernel running add and relu)`);
        else ensure(report.kernels === 2 && report.byKind['matmul']?.count === 1, c, `with fusion on, no matmulFused: ${report.kernels} kernels ${kinds} (expected matmul, then one fused kernel)`);
      } finally {
        for (const t of [x, w, b]) t.dispose();
      }
    });

    it('a batched product with a broadcast epilogue input, and an epilogue with no other input', async () => {
      const r = s.rng('epilogue-batched');
      const [B, M, K, N] = [3, 4, 5, 6];
      const av = Array.from({ length: B * M * K }, () => r.uniform(-1, 1));
      const bv = Array.from({ length: K * N }, () => r.uniform(-1, 1));
      const sv = Array.from({ length: B }, () => r.uniform(0.5, 2));
      const [a, bt, sc] = [ax.tensor(av, [B, M, K]), ax.tensor(bv, [N, K]), ax.tensor(sv, [B, 1, 1])];
      const c = s.ctx('(a · bᵀ)·scale, tanh(a · bᵀ)', 'a [3,4,5], b [6,5] (transposed), scale [3,1,1]');
      try {
        const [scaled, th] = await evaluate(c, () => {
          const p = a.matmul(bt.T);
          return [p.mul(sc), p.tanh()];
        });
        // bᵀ as a row-major [K, N] array
        const bT = Array.from({ length: K * N }, (_, i) => bv[(i % N) * K + Math.floor(i / N)]!);
        const exp = new Float64Array(B * M * N);
        const mag = new Float64Array(B * M * N);
        for (let t = 0; t < B; t++) {
          const d = dense(av.slice(t * M * K, (t + 1) * M * K), bT, M, K, N);
          d.y.forEach((v, i) => {
            exp[t * M * N + i] = v * f32(sv[t]!);
            mag[t * M * N + i] = d.mag[i]! * f32(sv[t]!);
          });
        }
        checkClose(scaled!, { shape: [B, M, N], values: exp, mag, n: K + 1 }, 'float32', TOLERANCES.matmul, c);
        const thExp = new Float64Array(B * M * N);
        for (let t = 0; t < B; t++) dense(av.slice(t * M * K, (t + 1) * M * K), bT, M, K, N).y.forEach((v, i) => (thExp[t * M * N + i] = Math.tanh(v)));
        // tanh is 1-Lipschitz: the product's error bound carries over, plus tanh's own ulps
        checkClose(th!, { shape: [B, M, N], values: thExp, mag, n: K + 2 }, 'float32', { ...TOLERANCES.matmul, atol: TOLERANCES.tanh.atol }, c);
      } finally {
        for (const t of [a, bt, sc]) t.dispose();
      }
    });

    it('a product that is held, or read by two kernels, is computed once; one never read never runs', async () => {
      const x = ax.tensor([[1, 2], [3, 4]]);
      const w = ax.tensor([[1, -1], [0.5, 2]]);
      const c = s.ctx('h = x·w; h + 1, h·2, h');
      const before = ax.memory();
      try {
        const { result, report } = await ax.profile(async () => {
          const h = x.matmul(w);
          const y1 = h.add(1);
          const y2 = h.mul(2);
          const v1 = await y1.data(); // computes h (as the kernel's matmul) and keeps it: h is held
          const v2 = await y2.data(); // reads h's buffer
          const vh = await h.data();
          for (const t of [h, y1, y2]) t.dispose();
          return [v1, v2, vh];
        });
        const [v1, v2, vh] = result;
        ensure([...vh!].join() === '2,3,5,5' && [...v1!].join() === '3,4,6,6' && [...v2!].join() === '4,6,10,10', c, `h ${[...vh!]}, h+1 ${[...v1!]}, h·2 ${[...v2!]}`);
        ensure(products(report) === 1, c, `the product ran ${products(report)} times (${JSON.stringify(report.byKind)}), expected once`);
        // released before it ran, read by two pending kernels: still computed once
        const again = await ax.profile(async () => {
          const h = x.matmul(w);
          const y1 = h.add(1);
          const y2 = h.mul(2);
          h.dispose();
          const out = [await y1.data(), await y2.data()];
          y1.dispose();
          y2.dispose();
          return out;
        });
        ensure([...again.result[0]!].join() === '3,4,6,6' && [...again.result[1]!].join() === '4,6,10,10', c, `after h.dispose(): ${[...again.result[0]!]} / ${[...again.result[1]!]}`);
        ensure(products(again.report) === 1, c, `released product ran ${products(again.report)} times (${JSON.stringify(again.report.byKind)}), expected once`);
        const never = ax.profile(() => {
          const h = x.matmul(w);
          const y = h.relu();
          h.dispose();
          y.dispose();
        });
        ensure(never.report.kernels === (s.fusion ? 0 : 2), c, `a product disposed unread: ${never.report.kernels} kernels (expected ${s.fusion ? 0 : 2})`);
        const after = ax.memory();
        ensure(after.numTensors === before.numTensors && after.numBytes === before.numBytes, c, `memory: ${after.numTensors} tensors / ${after.numBytes} B, expected ${before.numTensors} / ${before.numBytes}`);
        // a pending product counts as allocated
        const h = x.matmul(w);
        const mid = ax.memory();
        h.dispose();
        ensure(mid.numTensors === before.numTensors + 1 && mid.numBytes === before.numBytes + 16, c, `a pending product: +${mid.numTensors - before.numTensors} tensors, +${mid.numBytes - before.numBytes} B (expected 1, 16)`);
      } finally {
        x.dispose();
        w.dispose();
      }
    });

    it('a product read through a transposed view, or two products in one expression, give the op-by-op value', async () => {
      const x = ax.tensor([[1, 2, 3], [4, 5, 6]]);
      const w = ax.tensor([[1, 0], [0, 1], [1, 1]]);
      const w2 = ax.tensor([[2, 0], [0, 2], [-1, 1]]);
      const c = s.ctx('relu((x·w)ᵀ − 5), x·w + x·w2');
      try {
        const [t, sum2] = await evaluate(c, () => [x.matmul(w).T.sub(5).relu(), x.matmul(w).add(x.matmul(w2))]);
        // x·w = [[4, 5], [10, 11]]; x·w2 = [[-1, 7], [2, 16]]
        checkClose(t!, { shape: [2, 2], values: Float64Array.from([0, 5, 0, 6]) }, 'float32', TOLERANCES.relu, c);
        checkClose(sum2!, { shape: [2, 2], values: Float64Array.from([3, 12, 12, 27]) }, 'float32', TOLERANCES.add, c);
      } finally {
        for (const v of [x, w, w2]) v.dispose();
      }
    });

    it('an expression reading four products and three other tensors (a gated RNN step): every buffer counted', async () => {
      // One product becomes the kernel's own; the other three are inputs like any tensor, and the
      // group must fit the backend's buffer limit counting them (WebGPU refused the kernel: 9 > 8).
      const r = s.rng('epilogue-four-products');
      const [M, K, N] = [3, 4, 5];
      const hv = Array.from({ length: M * K }, () => r.uniform(-1, 1));
      const ws = [0, 1, 2, 3].map(() => Array.from({ length: N * K }, () => r.uniform(-1, 1)));
      const uv = [0, 1, 2].map(() => Array.from({ length: M * N }, () => r.uniform(-1, 1)));
      const h = ax.tensor(hv, [M, K]);
      const w = ws.map((v) => ax.tensor(v, [N, K]));
      const u = uv.map((v) => ax.tensor(v, [M, N]));
      const c = s.ctx('sigmoid(h·w0ᵀ + u0)·tanh(h·w1ᵀ + u1) + (h·w2ᵀ)·(h·w3ᵀ)·u2', 'h [3,4], w_k [5,4] (transposed), u_k [3,5]');
      try {
        const [y] = await evaluate(c, () => {
          const p = w.map((wk) => h.matmul(wk.T));
          return [p[0]!.add(u[0]!).sigmoid().mul(p[1]!.add(u[1]!).tanh()).add(p[2]!.mul(p[3]!).mul(u[2]!))];
        });
        const prod = (k: number, i: number, j: number): number => {
          let acc = 0;
          for (let q = 0; q < K; q++) acc += f32(hv[i * K + q]!) * f32(ws[k]![j * K + q]!);
          return acc;
        };
        const values = new Float64Array(M * N);
        for (let i = 0; i < M; i++)
          for (let j = 0; j < N; j++) {
            const a = prod(0, i, j) + f32(uv[0]![i * N + j]!);
            const b = prod(1, i, j) + f32(uv[1]![i * N + j]!);
            values[i * N + j] = (1 / (1 + Math.exp(-a))) * Math.tanh(b) + prod(2, i, j) * prod(3, i, j) * f32(uv[2]![i * N + j]!);
          }
        checkClose(y!, { shape: [M, N], values, mag: values.map(() => 2 * K), n: 2 * K + 4 }, 'float32', TOLERANCES.matmul, c);
      } finally {
        for (const v of [h, ...w, ...u]) v.dispose();
      }
    });

    it('scale and mask before a softmax run inside its reductions; the op-by-op values', async () => {
      const r = s.rng('prologue-softmax');
      const [R, C] = [4, 9];
      const xv = Array.from({ length: R * C }, () => r.uniform(-3, 3));
      // a causal-style mask: −Infinity above the diagonal of each row (never a whole row)
      const mv = Array.from({ length: R * C }, (_, i) => (i % C > Math.floor(i / C) + 4 ? -Infinity : 0));
      const [x, mask] = [ax.tensor(xv, [R, C]), ax.tensor(mv, [R, C])];
      const c = s.ctx('softmax(x·0.125 + mask)', 'x [4,9], mask [4,9] with −Infinity');
      try {
        const { result, report } = ax.profile(() => ax.tidy(() => ax.softmax(x.mul(0.125).add(mask))));
        const exp = new Float64Array(R * C);
        for (let i = 0; i < R; i++) {
          const row = Array.from({ length: C }, (_, j) => f32(f32(f32(xv[i * C + j]!) * 0.125) + mv[i * C + j]!));
          const m = Math.max(...row);
          const e = row.map((v) => Math.exp(v - m));
          const sum = e.reduce((p, q) => p + q, 0);
          e.forEach((v, j) => (exp[i * C + j] = v / sum));
        }
        checkClose({ data: await result.data(), shape: [...result.shape], dtype: 'float32' }, { shape: [R, C], values: exp }, 'float32', TOLERANCES.softmax, c);
        result.dispose();
        const kinds = JSON.stringify(report.byKind);
        if (s.fusion && hasReduceFused()) {
          ensure(report.kernels === 3 && report.byKind['reduceFused:max']?.count === 1 && report.byKind['reduceFused:sum']?.count === 1 && report.byKind['fused']?.count === 1, c, `with fusion on: ${report.kernels} kernels ${kinds} (expected max and sum with their prologues, then one fused kernel)`);
        } else if (!s.fusion) ensure(report.kernels >= 6 && report.byKind['reduceFused:max'] === undefined, c, `with fusion off: ${report.kernels} kernels ${kinds} (expected one per op)`);
      } finally {
        x.dispose();
        mask.dispose();
      }
    });

    it('every reduction of a pending expression, over leading, middle, trailing and all axes, with NaN', async () => {
      const r = s.rng('prologue-reduce');
      const shape = [3, 5, 4];
      const n = 60;
      const xv = Array.from({ length: n }, () => r.uniform(0.5, 1.5));
      const yv = Array.from({ length: 5 }, () => r.uniform(-1, 1));
      xv[7] = 0; // x/x is NaN there
      const [x, y] = [ax.tensor(xv, shape), ax.tensor(yv, [5, 1])];
      try {
        for (const op of ['sum', 'prod', 'max', 'min'] as const) {
          for (const axes of [[0], [1], [2], [0, 2], [0, 1, 2]]) {
            for (const withNaN of op === 'max' || op === 'min' ? [false, true] : [false]) {
              const c = s.ctx(`${op}(x·y + 0.25${withNaN ? ' + x/x' : ''}) over [${axes.join(',')}]`, 'x [3,5,4], y [5,1]');
              // the element values, rounded per op as the op-by-op path does
              const val = (i: number): number => {
                const v = f32(f32(f32(xv[i]!) * f32(yv[Math.floor(i / 4) % 5]!)) + 0.25);
                return withNaN ? f32(v + f32(xv[i]! / xv[i]!)) : op === 'prod' ? f32(xv[i]!) : v;
              };
              const kept = shape.map((d, i) => (axes.includes(i) ? 1 : d));
              const outN = kept.reduce((p, q) => p * q, 1);
              const groups: number[][] = Array.from({ length: outN }, () => []);
              for (let i = 0; i < n; i++) {
                const idx = [Math.floor(i / 20), Math.floor(i / 4) % 5, i % 4];
                let o = 0;
                for (let d = 0; d < 3; d++) o = o * kept[d]! + (axes.includes(d) ? 0 : idx[d]!);
                groups[o]!.push(val(i));
              }
              const red = (g: number[]): number =>
                op === 'sum' ? g.reduce((p, q) => p + q, 0) : op === 'prod' ? g.reduce((p, q) => p * q, 1) : g.some(Number.isNaN) ? NaN : op === 'max' ? Math.max(...g) : Math.min(...g);
              const { result, report } = ax.profile(() =>
                ax.tidy(() => {
                  let e = op === 'prod' ? x.mul(1) : x.mul(y).add(0.25);
                  if (withNaN) e = e.add(x.div(x));
                  return ax[op](e, axes);
                }),
              );
              const outShape = shape.filter((_, i) => !axes.includes(i));
              const exp = { shape: outShape, values: Float64Array.from(groups.map(red)), mag: Float64Array.from(groups.map((g) => g.reduce((p, q) => p + Math.abs(q), 0))), n: Float64Array.from(groups.map((g) => g.length)) };
              checkClose({ data: await result.data(), shape: [...result.shape], dtype: 'float32' }, exp, 'float32', op === 'sum' ? TOLERANCES.sum : op === 'prod' ? TOLERANCES.prod : TOLERANCES.compare, c);
              result.dispose();
              if (s.fusion && hasReduceFused()) ensure(report.kernels === 1 && report.byKind[`reduceFused:${op}`]?.count === 1, c, `${report.kernels} kernels ${JSON.stringify(report.byKind)} (expected one reduceFused:${op})`);
            }
          }
        }
      } finally {
        x.dispose();
        y.dispose();
      }
    });
  });
}
