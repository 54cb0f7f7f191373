/**
 * The lazy engine (issue 11): chains of elementwise ops run as one fused kernel with fusion on,
 * one kernel per op with it off; results, errors and memory() are the same either way — on
 * every backend.
 */
import * as ax from '@axon/core';
import { checkClose, ensure } from '../check.js';
import { evaluate, group, it, type Suite } from '../harness.js';
import { TOLERANCES } from '../tolerances.js';

const relu = (v: number): number => (v > 0 ? v : 0);
const f32 = Math.fround;

export function fusionTests(s: Suite): void {
  group(s, 'fusion: setFlags / getFlags / realize', () => {
    it('a broadcasting chain with scalars is one kernel with fusion on, one per op with it off', async () => {
      const r = s.rng('fusion-chain');
      const xv = Array.from({ length: 12 }, () => r.uniform(-2, 2));
      const bv = Array.from({ length: 4 }, () => r.uniform(-1, 1));
      const x = ax.tensor(xv, [3, 4]);
      const b = ax.tensor(bv, [4]);
      const c = s.ctx('relu(x·2 + b) − 0.5', 'x [3,4], b [4]');
      try {
        const { result, report } = ax.profile(() => ax.tidy(() => ax.relu(x.mul(2).add(b)).sub(0.5)));
        try {
          const exp = xv.map((v, i) => relu(f32(f32(v) * 2) + f32(bv[i % 4]!)) - 0.5);
          checkClose({ data: await result.data(), shape: [...result.shape], dtype: 'float32' }, { shape: [3, 4], values: Float64Array.from(exp) }, 'float32', TOLERANCES.add, c);
        } finally {
          result.dispose();
        }
        if (s.fusion) {
          ensure(report.kernels === 1 && report.byKind['fused']?.count === 1 && report.fusedOps === 4, c, `with fusion on: ${report.kernels} kernels, byKind ${JSON.stringify(Object.keys(report.byKind))}, fusedOps ${report.fusedOps} (expected one fused kernel of 4 ops)`);
        } else {
          ensure(report.byKind['fused'] === undefined && report.kernels >= 4, c, `with fusion off: ${report.kernels} kernels ${JSON.stringify(Object.keys(report.byKind))} (expected one per op, none fused)`);
        }
      } finally {
        x.dispose();
        b.dispose();
      }
    });

    it('realize(a, b) computes several results of one shape in one kernel; realized tensors read the same', async () => {
      const x = ax.tensor([1, 2, 3]);
      const c = s.ctx('realize(m, v)');
      try {
        const { result, report } = ax.profile(() =>
          ax.tidy(() => {
            const m = x.mul(0.9).add(0.1);
            const v = x.square().mul(0.5);
            ax.realize(m, v);
            return [m, v];
          }),
        );
        const [m, v] = result;
        ensure(report.kernels === (s.fusion ? 1 : 7), c, `${report.kernels} kernels (${JSON.stringify(report.byKind)}); expected ${s.fusion ? 1 : 7}`);
        const [mm, vv] = [await m!.data(), await v!.data()];
        checkClose({ data: mm, shape: [3], dtype: 'float32' }, { shape: [3], values: Float64Array.from([1, 2, 3].map((t) => f32(t * f32(0.9)) + f32(0.1))) }, 'float32', TOLERANCES.add, c);
        checkClose({ data: vv, shape: [3], dtype: 'float32' }, { shape: [3], values: Float64Array.from([0.5, 2, 4.5]) }, 'float32', TOLERANCES.mul, c);
        // realizing twice, or an already computed tensor, runs nothing
        const again = ax.profile(() => ax.realize(m!, v!, x));
        ensure(again.report.kernels === 0, c, `realize of computed tensors ran ${again.report.kernels} kernels`);
        m!.dispose();
        v!.dispose();
        let err: unknown = null;
        try {
          ax.realize(m!);
        } catch (e) {
          err = e;
        }
        ensure(err instanceof ax.AxonError && /disposed/.test(err.message), c, `realize of a disposed tensor should throw an AxonError, got ${String(err)}`);
      } finally {
        x.dispose();
      }
    });

    it('errors are raised by the op that caused them, and leave nothing behind', () => {
      const a = ax.tensor([1, 2, 3]);
      const b = ax.tensor([1, 2, 3, 4]);
      const before = ax.memory();
      const c = s.ctx('add [3] + [4] inside a pending chain');
      let err: unknown = null;
      try {
        ax.tidy(() => a.mul(2).exp().add(b));
      } catch (e) {
        err = e;
      }
      ensure(err instanceof ax.AxonError && err.op === 'add' && /\[3\]/.test(err.message) && /\[4\]/.test(err.message), c, `expected an AxonError from add naming [3] and [4], got ${String(err)}`);
      const after = ax.memory();
      ensure(after.numTensors === before.numTensors && after.numBytes === before.numBytes, c, `memory ${JSON.stringify([after.numTensors, after.numBytes])} vs ${JSON.stringify([before.numTensors, before.numBytes])}`);
      a.dispose();
      b.dispose();
    });

    it('memory(): a pending result counts as allocated; freeing what it reads computes it first', async () => {
      const c = s.ctx('pending results and memory()');
      const x = ax.tensor([1, 2, 3]);
      const before = ax.memory();
      const y = ax.tidy(() => x.mul(2).add(1));
      const mid = ax.memory();
      ensure(mid.numTensors - before.numTensors === 1 && mid.numBytes - before.numBytes === 12 && mid.numStorages - before.numStorages === 1, c, `after tidy: +${mid.numTensors - before.numTensors} tensors, +${mid.numBytes - before.numBytes} bytes, +${mid.numStorages - before.numStorages} storages (expected 1, 12, 1)`);
      x.dispose(); // y reads x: it runs now, then x's buffer is freed
      const z = y.mul(3); // reads y
      const col = ax.reshape(z, [3, 1]);
      const row = ax.tensor([0, 10], [1, 2]);
      const w = col.add(row); // a view of a pending tensor, broadcast
      const [yv, zv, wv] = [await y.data(), await z.data(), await w.array()];
      ensure([...yv].join() === '3,5,7' && [...zv].join() === '9,15,21', c, `y ${[...yv]}, z ${[...zv]}`);
      ensure(JSON.stringify(wv) === '[[9,19],[15,25],[21,31]]', c, `w ${JSON.stringify(wv)}`);
      for (const t of [y, z, w, col, row]) t.dispose();
      const end = ax.memory();
      ensure(end.numTensors === before.numTensors - 1 && end.numBytes === before.numBytes - 12, c, `at the end: ${end.numTensors} tensors / ${end.numBytes} bytes, expected ${before.numTensors - 1} / ${before.numBytes - 12}`);
    });

    it('a long chain over many inputs (past one kernel’s size) matches the op-by-op result', async () => {
      const r = s.rng('fusion-long');
      const n = 37;
      const xs = Array.from({ length: 11 }, () => Array.from({ length: n }, () => r.uniform(0.5, 1.5)));
      const c = s.ctx('a chain of 120 ops over 11 inputs');
      const ts = xs.map((v) => ax.tensor(v));
      try {
        const [out] = await evaluate(c, () => {
          let acc = ts[0]!;
          for (let k = 0; k < 120; k++) {
            const t = ts[k % ts.length]!;
            acc = k % 3 === 0 ? acc.add(t) : k % 3 === 1 ? acc.mul(t) : acc.div(t.add(1)).sqrt();
          }
          return acc;
        });
        const exp = new Float64Array(n);
        for (let i = 0; i < n; i++) {
          let acc = f32(xs[0]![i]!);
          for (let k = 0; k < 120; k++) {
            const t = f32(xs[k % xs.length]![i]!);
            acc = k % 3 === 0 ? f32(acc + t) : k % 3 === 1 ? f32(acc * t) : f32(Math.sqrt(f32(acc / f32(t + 1))));
          }
          exp[i] = acc;
        }
        // each op rounds as the op-by-op path does: the same values up to a few ulps per op
        checkClose(out!, { shape: [n], values: exp }, 'float32', { ...TOLERANCES.add, rtol: 120 * 4 * 2 ** -24 }, c);
      } finally {
        for (const t of ts) t.dispose();
      }
    });

    it('setFlags validates its input and returns the previous flags', () => {
      const c = s.ctx('setFlags');
      ensure(ax.getFlags().fusion === s.fusion, c, `getFlags().fusion ${ax.getFlags().fusion} in a run with fusion ${s.fusion}`);
      for (const bad of [{ fusion: 'yes' }, { fuse: true }, null]) {
        let err: unknown = null;
        try {
          ax.setFlags(bad as unknown as { fusion: boolean });
        } catch (e) {
          err = e;
        }
        ensure(err instanceof ax.AxonError && err.op === 'setFlags', c, `setFlags(${JSON.stringify(bad)}) should throw an AxonError, got ${String(err)}`);
      }
      const prev = ax.setFlags({ fusion: !s.fusion });
      ensure(prev.fusion === s.fusion && ax.getFlags().fusion === !s.fusion, c, 'setFlags returns the previous flags');
      ax.setFlags(prev);
    });
  });

  group(s, 'compile: trace once, replay without the JavaScript', () => {
    it('replays give what the function gives; one trace per signature; numbers are inputs', async () => {
      const c = s.ctx('compile(x·w + b → relu → ·scale, sum)');
      const r = s.rng('compile-basic');
      const w = ax.tensor(Array.from({ length: 12 }, () => r.uniform(-1, 1)), [4, 3]);
      const b = ax.tensor([0.1, -0.2, 0.3]);
      const f = (x: ax.Tensor, w: ax.Tensor, b: ax.Tensor, scale: number): ax.Tensor[] => ax.tidy(() => {
        const y = ax.relu(x.matmul(w).add(b)).mul(scale);
        return [y, ax.sum(y)];
      });
      const g = ax.compile(f);
      try {
        for (let k = 0; k < 4; k++) {
          const x = ax.tensor(Array.from({ length: 8 }, () => r.uniform(-2, 2)), [2, 4]);
          const scale = 0.5 + k;
          const got = g(x, w, b, scale);
          const want = f(x, w, b, scale);
          for (let j = 0; j < 2; j++) {
            checkClose({ data: await got[j]!.data(), shape: [...got[j]!.shape], dtype: 'float32' }, { shape: [...want[j]!.shape], values: Float64Array.from(await want[j]!.data()) }, 'float32', TOLERANCES.exact, { ...c, op: `${c.op}, call ${k}, output ${j}` });
          }
          for (const t of [...got, ...want, x]) t.dispose();
        }
        ensure(g.traces === 1, c, `${g.traces} traces for one signature`);
        const x3 = ax.zeros([3, 4]);
        g(x3, w, b, 1).forEach((t) => t.dispose());
        x3.dispose();
        ensure((g.traces as number) === 2, c, `${g.traces} traces after a new shape (expected 2)`);
      } finally {
        w.dispose();
        b.dispose();
      }
    });

    it('a replay runs no JavaScript op: the same kernels, nothing more', async () => {
      const c = s.ctx('compile: kernels per replay');
      const x = ax.tensor([[1, -2], [3, 4]]);
      const f = ax.compile((x: ax.Tensor) => ax.tidy(() => ax.sum(x.matmul(x).relu().mul(2), 1)));
      try {
        const first = ax.profile(() => f(x));
        const again = ax.profile(() => f(x));
        ensure(again.report.kernels === first.report.kernels, c, `replay ${again.report.kernels} kernels, trace ${first.report.kernels}`);
        ensure(JSON.stringify(await again.result.array()) === JSON.stringify(await first.result.array()), c, 'replay and trace differ');
        first.result.dispose();
        again.result.dispose();
      } finally {
        x.dispose();
      }
    });

    it('a primitive that runs the backend\'s own primitives replays as one call (a large scatterAdd: WebGPU fills, then adds atomically)', async () => {
      // WebGPU's scatterAdd with many indices into a long axis (m > 64, n·m > 2^24) calls its own
      // fill(out, 0) before the atomic adds. compile recorded that inner fill as a step of its own,
      // after the scatterAdd, so every replay zeroed the sums (a GPT's compiled step lost the
      // one-hot term of crossEntropy's gradient). Integer updates: atomic float adds in any order are exact.
      const c = s.ctx('compile(scatterAdd [16400] ← 1100 updates)');
      const r = s.rng('compile-nested');
      const n = 16_400;
      const m = 1_100;
      const f = (idx: ax.Tensor, u: ax.Tensor): ax.Tensor => ax.tidy(() => ax.scatterAdd([n], idx, u).mul(2));
      const g = ax.compile(f);
      const before = ax.memory().numTensors;
      for (let call = 0; call < 3; call++) {
        const idx = ax.tensor(Array.from({ length: m }, () => Math.floor(r.uniform(0, n))), [m], 'int32');
        const u = ax.tensor(Array.from({ length: m }, () => Math.floor(r.uniform(-8, 8))), [m]);
        const gt = g(idx, u);
        const wt = f(idx, u);
        const got = await gt.data();
        const want = await wt.data();
        let bad = -1;
        for (let i = 0; i < n && bad < 0; i++) if (got[i] !== want[i]) bad = i;
        ensure(bad < 0, c, () => `call ${call} (${call === 0 ? 'traced' : 'replayed'}): element ${bad} is ${got[bad]}, uncompiled ${want[bad]}`);
        for (const t of [gt, wt, idx, u]) t.dispose();
      }
      ensure(g.traces === 1, c, `${g.traces} traces`);
      ensure(ax.memory().numTensors === before, c, `${ax.memory().numTensors - before} tensors left`);
    });

    it('a primitive that stages through a temporary of its own compiles (a sum over three axes that do not merge: WASM copies them out first)', async () => {
      // The backend's own temporary (allocated, written by its own copy and freed inside reduce)
      // was seen by compile as a tensor the function did not receive: "cannot be compiled".
      const c = s.ctx('compile(sum of x [2,3,2,3,2] over axes 0, 2, 4)');
      const r = s.rng('compile-nested-temp');
      const f = (x: ax.Tensor): ax.Tensor => ax.tidy(() => ax.sum(x.mul(1.5), [0, 2, 4]));
      const g = ax.compile(f);
      const before = ax.memory().numTensors;
      for (let call = 0; call < 3; call++) {
        const x = ax.tensor(Array.from({ length: 72 }, () => Math.floor(r.uniform(-8, 8))), [2, 3, 2, 3, 2]);
        const gt = g(x);
        const wt = f(x);
        const got = Array.from(await gt.data());
        const want = Array.from(await wt.data());
        ensure(JSON.stringify(got) === JSON.stringify(want), c, `call ${call}: compiled ${JSON.stringify(got)}, uncompiled ${JSON.stringify(want)}`);
        for (const t of [gt, wt, x]) t.dispose();
      }
      ensure(g.traces === 1, c, `${g.traces} traces`);
      ensure(ax.memory().numTensors === before, c, `${ax.memory().numTensors - before} tensors left`);
    });

    it('setFlags({ compile: false }) runs compiled functions uncompiled, with the same results', async () => {
      const c = s.ctx('compile off');
      const x = ax.tensor([1, -2, 3]);
      const f = ax.compile((x: ax.Tensor) => ax.tidy(() => x.mul(2).relu()));
      const prev = ax.setFlags({ compile: false });
      try {
        const a = f(x);
        ensure(f.traces === 0 && JSON.stringify(await a.array()) === '[2,0,6]', c, `traces ${f.traces}, value ${JSON.stringify(await a.array())}`);
        a.dispose();
      } finally {
        ax.setFlags(prev);
        x.dispose();
      }
    });

    it('random draws from the global stream are fresh on every call, as without compile', async () => {
      const c = s.ctx('compile(dropout-like mask)');
      const x = ax.ones([64]);
      const f = (x: ax.Tensor): ax.Tensor => ax.tidy(() => x.mul(ax.bernoulli(0.5, [64]).astype('float32')));
      const g = ax.compile(f);
      try {
        ax.setSeed(7);
        const a = [g(x), g(x), g(x)];
        ax.setSeed(7);
        const b = [f(x), f(x), f(x)];
        for (let k = 0; k < 3; k++) ensure(JSON.stringify(await a[k]!.array()) === JSON.stringify(await b[k]!.array()), c, `call ${k}: compiled and plain draws differ`);
        ensure(JSON.stringify(await a[1]!.array()) !== JSON.stringify(await a[2]!.array()), c, 'two replays drew the same mask');
        for (const t of [...a, ...b]) t.dispose();
      } finally {
        x.dispose();
      }
    });

    it('validation reads (gather index range, validationRead) run again on every replay', async () => {
      const c = s.ctx('compile + validationRead');
      if (!ax.getBackend().supportsSyncRead) return;
      const table = ax.tensor([10, 20, 30]);
      const positive = (v: ArrayLike<number>): void => {
        for (let i = 0; i < v.length; i++) if (!(v[i]! >= 0)) throw new ax.AxonError('check', `value ${v[i]} at ${i} is negative`);
      };
      const f = ax.compile((idx: ax.Tensor, w: ax.Tensor, t: ax.Tensor) => ax.tidy(() => {
        ax.validationRead(w, positive);
        return ax.gather(t, idx, 0).mul(w);
      }));
      const before = ax.memory().numTensors;
      const good = [ax.tensor([2, 0], [2], 'int32'), ax.tensor([1, 2])];
      const out = f(good[0]!, good[1]!, table);
      ensure(JSON.stringify(await out.array()) === '[30,20]', c, `traced result ${JSON.stringify(await out.array())}`);
      out.dispose();
      for (const [idx, w, re] of [[[1, 3], [1, 1], /out of range/], [[1, 1], [1, -1], /negative/]] as const) {
        const ti = ax.tensor([...idx], [2], 'int32');
        const tw = ax.tensor([...w]);
        let err: unknown = null;
        try {
          f(ti, tw, table).dispose();
        } catch (e) {
          err = e;
        }
        ensure(err instanceof ax.AxonError && re.test(err.message), c, `replay with ${JSON.stringify([idx, w])}: expected an AxonError matching ${re}, got ${String(err)}`);
        ti.dispose();
        tw.dispose();
      }
      for (const t of good) t.dispose();
      ensure(ax.memory().numTensors === before, c, `${ax.memory().numTensors - before} tensors left after failed replays`);
      ensure(f.traces === 1, c, `${f.traces} traces`);
      table.dispose();
    });

    it('what cannot be compiled is an AxonError naming why, and leaks nothing', () => {
      const c = s.ctx('compile errors');
      const w = ax.tensor([1, 2]);
      const x = ax.tensor([3, 4]);
      const before = ax.memory().numTensors;
      const cases: [string, () => unknown, RegExp][] = [
        ['a captured tensor', () => ax.compile((x: ax.Tensor) => ax.tidy(() => x.mul(w).add(w.exp())))(x), /not one of its arguments/],
        ['a host read', () => ax.compile((x: ax.Tensor) => ax.tidy(() => { x.mul(2).dataSync(); return x.add(1); }))(x), /reads tensor values/],
        ['a non-tensor result', () => ax.compile((() => 3) as unknown as (x: ax.Tensor) => ax.Tensor)(x), /must return a Tensor/],
        ['a non-tensor argument', () => ax.compile((x: ax.Tensor) => x)('x' as unknown as ax.Tensor), /argument 0/],
        ['options that are not an object', () => ax.compile((x: ax.Tensor) => x, null as unknown as ax.CompileOptions), /options must be an object/],
      ];
      for (const [what, call, re] of cases) {
        let err: unknown = null;
        try {
          const r = call();
          if (r instanceof ax.Tensor) r.dispose();
        } catch (e) {
          err = e;
        }
        if (what === 'a host read' && !ax.getBackend().supportsSyncRead) continue;
        ensure(err instanceof ax.AxonError && err.op === 'compile' && re.test(err.message), c, `${what}: expected an AxonError from compile matching ${re}, got ${String(err)}`);
      }
      ensure(ax.memory().numTensors === before, c, `${ax.memory().numTensors - before} tensors leaked`);
      w.dispose();
      x.dispose();
    });
  });
}
