/** Creation ops and the seeded generators (bits must equal core's `referenceRandom`). */
import {
  arange, bernoulli, broadcastTo, eye, full, fullLike, getBackend, linspace, ones, onesLike, rand, randint, randn, referenceRandom, scalar, seedToKey, setSeed, type Tensor,
  memory, tensor, tidy, toBackend, zeros, zerosLike,
} from '@axon/core';
import { checkClose, checkExact, fmt, report } from '../check.js';
import { evaluate, evaluate1, group, it, type Suite } from '../harness.js';
import { TOLERANCES } from '../tolerances.js';

const SIZES = [0, 1, 3, 17, 64, 129, 1023];
/** Random draws also run past typical kernel block sizes. */
const RANDOM_SIZES = [...SIZES, 4099, 65537];

export function creationTests(s: Suite): void {
  group(s, 'creation', () => {
    it('tensor() from nested arrays, typed arrays, booleans and scalars', async () => {
      const c = s.ctx('tensor');
      const [a, b, i, u, bo, sc, e] = await evaluate(c, () => [
        tensor([[1, 2, 3], [4, 5, 6]]),
        tensor([1.5, -2.25], [2, 1], 'float32'),
        tensor(new Int32Array([7, -8, 2147483647]), [3]),
        tensor(new Uint8Array([0, 255])),
        tensor([[true, false], [false, true]]),
        scalar(3.5),
        tensor([], [0, 3]),
      ]);
      checkExact(a!, [2, 3], 'float32', [1, 2, 3, 4, 5, 6], c);
      checkExact(b!, [2, 1], 'float32', [1.5, -2.25], c);
      checkExact(i!, [3], 'int32', [7, -8, 2147483647], c);
      checkExact(u!, [2], 'int32', [0, 255], c);
      checkExact(bo!, [2, 2], 'bool', [1, 0, 0, 1], c);
      checkExact(sc!, [], 'float32', [3.5], c);
      checkExact(e!, [0, 3], 'float32', [], c);
    });

    it('tensor() round-trips random float32/int32/bool data of every size', async () => {
      const r = s.rng('tensor-roundtrip');
      for (const n of SIZES) {
        const f = Float32Array.from({ length: n }, () => r.normal() * 100);
        const iv = Int32Array.from({ length: n }, () => r.int(-(2 ** 31), 2 ** 31 - 1));
        const bv = Uint8Array.from({ length: n }, () => (r.next() < 0.5 ? 1 : 0));
        const c = s.ctx('tensor', `[${n}]`);
        const [tf, ti, tb] = await evaluate(c, () => [tensor(f, [n]), tensor(iv, [n]), tensor(bv, [n], 'bool')]);
        checkExact(tf!, [n], 'float32', f, c);
        checkExact(ti!, [n], 'int32', iv, c);
        checkExact(tb!, [n], 'bool', bv, c);
      }
    });

    it('zeros / ones / full for every dtype and size (incl. [] and size 0)', async () => {
      for (const shape of [[], [0], [1], [3, 17], [1023], [2, 0, 3], [64, 129]]) {
        const n = shape.reduce((a, b) => a * b, 1);
        const c = s.ctx('zeros/ones/full', fmt(shape));
        const outs = await evaluate(c, () => [
          zeros(shape), ones(shape), full(shape, -2.5),
          zeros(shape, 'int32'), ones(shape, 'int32'), full(shape, -7, 'int32'),
          zeros(shape, 'bool'), ones(shape, 'bool'), full(shape, true), full(shape, 2, 'bool'),
          full(shape, NaN), full(shape, -Infinity),
        ]);
        const want: [string, number][] = [
          ['float32', 0], ['float32', 1], ['float32', -2.5],
          ['int32', 0], ['int32', 1], ['int32', -7],
          ['bool', 0], ['bool', 1], ['bool', 1], ['bool', 1],
          ['float32', NaN], ['float32', -Infinity],
        ];
        want.forEach(([dt, v], k) => checkExact(outs[k]!, shape, dt as 'float32', new Array(n).fill(v), { ...c, op: `full(${v}, ${dt})` }));
      }
    });

    it('zerosLike / onesLike / fullLike / broadcastTo / toBackend (same backend: a copy)', async () => {
      const r = s.rng('like');
      const src = Float32Array.from({ length: 51 }, () => r.normal());
      const c = s.ctx('zerosLike/onesLike/fullLike/broadcastTo/toBackend', '[3,17] float32 (transposed) and [17,1] int32');
      const moved: Tensor[] = [];
      const outs = await evaluate(c, () => {
        const x = tensor(src, [17, 3]).T;
        const i = tensor(new Int32Array(17).fill(4), [17, 1]);
        return [zerosLike(x), onesLike(i), fullLike(x, 2.5), fullLike(x, 7, 'int32'), onesLike(x, 'bool'), broadcastTo(i, [2, 17, 3])];
      });
      checkExact(outs[0]!, [3, 17], 'float32', new Array(51).fill(0), c);
      checkExact(outs[1]!, [17, 1], 'int32', new Array(17).fill(1), c);
      checkExact(outs[2]!, [3, 17], 'float32', new Array(51).fill(2.5), c);
      checkExact(outs[3]!, [3, 17], 'int32', new Array(51).fill(7), c);
      checkExact(outs[4]!, [3, 17], 'bool', new Array(51).fill(1), c);
      checkExact(outs[5]!, [2, 17, 3], 'int32', new Array(102).fill(4), c);
      const x = tidy(() => tensor(src, [17, 3]).T.slice([1, 2], [2, 5]));
      try {
        moved.push(await toBackend(x, s.backend));
        const t = moved[0]!;
        if (t === x || t.isDisposed) report(c, 'toBackend to the same backend must return a new tensor');
        const expect = Array.from({ length: 10 }, (_, k) => src[(2 + (k % 5)) * 3 + 1 + Math.floor(k / 5)]!);
        checkExact({ data: await t.data(), shape: [...t.shape], dtype: t.dtype }, [2, 5], 'float32', expect, { ...c, op: 'toBackend of a view' });
      } finally {
        x.dispose();
        for (const t of moved) t.dispose();
      }
    });

    it('reading views: data(), dataSync(), array(), item() return exactly the view’s elements', async () => {
      const c = s.ctx('Tensor.data / dataSync / array / item', 'views of arange(24) as [4,6]');
      const base = tidy(() => arange(24).astype('float32').reshape([4, 6]));
      const views: [string, (t: Tensor) => Tensor, number[], number[]][] = [
        ['slice([1,0],[2,6]) (contiguous, offset 6)', (t) => t.slice([1, 0], [2, 6]), [2, 6], [6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]],
        ['slice([0,0],[1,6]) (contiguous prefix)', (t) => t.slice([0, 0], [1, 6]), [1, 6], [0, 1, 2, 3, 4, 5]],
        ['reshape([24]).slice([20],[4]) (1-D tail)', (t) => t.reshape([24]).slice([20], [4]), [4], [20, 21, 22, 23]],
        ['slice([1,2],[2,3]) (strided)', (t) => t.slice([1, 2], [2, 3]), [2, 3], [8, 9, 10, 14, 15, 16]],
        ['T.slice([5,3],[1,1]) (single element)', (t) => t.T.slice([5, 3], [1, 1]), [1, 1], [23]],
        ['slice([2,0],[1,6]).expand([2,6])', (t) => t.slice([2, 0], [1, 6]).expand([2, 6]), [2, 6], [12, 13, 14, 15, 16, 17, 12, 13, 14, 15, 16, 17]],
      ];
      try {
        for (const [what, make, shape, values] of views) {
          const v = tidy(() => make(base));
          try {
            const cc = { ...c, op: `${what}.data()` };
            checkExact({ data: await v.data(), shape: [...v.shape], dtype: v.dtype }, shape, 'float32', values, cc);
            if (v.backend.supportsSyncRead) {
              checkExact({ data: v.dataSync(), shape: [...v.shape], dtype: v.dtype }, shape, 'float32', values, { ...c, op: `${what}.dataSync()` });
              const flat = (v.arraySync() as unknown[]).flat(4) as number[];
              if (flat.join() !== values.join()) report({ ...c, op: `${what}.arraySync()` }, `got ${flat.join()}, expected ${values.join()}`);
              if (values.length === 1 && v.item() !== values[0]) report({ ...c, op: `${what}.item()` }, `got ${v.item()}, expected ${values[0]}`);
            }
            const nested = (await v.array()) as unknown[];
            const flatA = nested.flat(4) as number[];
            if (flatA.join() !== values.join()) report({ ...c, op: `${what}.array()` }, `got ${flatA.join()}, expected ${values.join()}`);
          } finally {
            v.dispose();
          }
        }
      } finally {
        base.dispose();
      }
    });

    it('Tensor.assign: replaces contents (from a view too), keeps identity, consumes the value', async () => {
      const c = s.ctx('Tensor.assign', '[2,3] float32 ← transposed view');
      const w = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
      try {
        const id = w.id;
        const before = memory().numTensors;
        const value = tidy(() => tensor([10, 20, 30, 40, 50, 60], [3, 2]).T.mul(1));
        w.assign(value);
        if (w.id !== id || w.isDisposed || !value.isDisposed) report(c, 'assign must keep the target and dispose the value');
        if (memory().numTensors !== before) report(c, `assign changed the live-tensor count by ${memory().numTensors - before}`);
        checkExact({ data: await w.data(), shape: [...w.shape], dtype: w.dtype }, [2, 3], 'float32', [10, 30, 50, 20, 40, 60], c);
        const t = tidy(() => tensor([7, 8, 9, 10, 11, 12], [3, 2]).T);
        w.assign(t);
        checkExact({ data: await w.data(), shape: [...w.shape], dtype: w.dtype }, [2, 3], 'float32', [7, 9, 11, 8, 10, 12], { ...c, op: 'Tensor.assign (non-contiguous value)' });
      } finally {
        w.dispose();
      }
    });

    it('arange (int and float, negative step, empty) and linspace', async () => {
      const c = s.ctx('arange');
      const [a, b, d, e, f, g] = await evaluate(c, () => [arange(5), arange(1, 2, 0.25), arange(10, 0, -3), arange(0), arange(0, 1, 0.1), arange(-3, 1030)]);
      checkExact(a!, [5], 'int32', [0, 1, 2, 3, 4], c);
      checkExact(b!, [4], 'float32', [1, 1.25, 1.5, 1.75], c);
      checkExact(d!, [4], 'int32', [10, 7, 4, 1], c);
      checkExact(e!, [0], 'int32', [], c);
      checkExact(f!, [10], 'float32', Array.from({ length: 10 }, (_, i) => Math.fround(i * 0.1)), c);
      checkExact(g!, [1033], 'int32', Array.from({ length: 1033 }, (_, i) => i - 3), c);
      for (const [lo, hi, num] of [[0, 1, 5], [-3, 7, 129], [2, 2, 1], [0, 1, 0], [1, -1, 1023]] as const) {
        const cl = s.ctx('linspace', `(${lo}, ${hi}, ${num})`);
        const got = await evaluate1(cl, () => linspace(lo, hi, num));
        const step = num > 1 ? (hi - lo) / (num - 1) : 0;
        const values = Float64Array.from({ length: num }, (_, i) => (i === num - 1 && num > 1 ? hi : lo + i * step));
        checkClose(got, { shape: [num], values }, 'float32', TOLERANCES.linspace, cl);
      }
    });

    it('eye (square, rectangular, int32, empty)', async () => {
      for (const [n, m, dt] of [[3, 3, 'float32'], [2, 5, 'float32'], [5, 2, 'int32'], [0, 0, 'float32'], [17, 17, 'bool']] as const) {
        const c = s.ctx('eye', `(${n}, ${m}, ${dt})`);
        const got = await evaluate1(c, () => eye(n, m, dt));
        checkExact(got, [n, m], dt, Array.from({ length: n * m }, (_, k) => (Math.floor(k / m) === k % m ? 1 : 0)), c);
      }
    });

    it('rand / randint / bernoulli with a seed: bits equal referenceRandom; same seed, same values', async () => {
      const r = s.rng('random-bits');
      for (const n of RANDOM_SIZES) {
        const seed = r.int(0, 2 ** 31);
        const key = seedToKey(seed);
        const c = s.ctx('random', `[${n}] seed option ${seed}`);
        const outs = await evaluate(c, () => [
          rand([n], { seed }), rand([n], { seed, low: -3, high: 5 }), randint(-5, 1000, [n], { seed }),
          bernoulli(0.3, [n], { seed }), bernoulli(0.7, [n], { seed, dtype: 'bool' }), rand([n], { seed }),
        ]);
        checkClose(outs[0]!, { shape: [n], values: referenceRandom('uniform', key, 0, 0, 1, n) }, 'float32', TOLERANCES.randomBits, { ...c, op: 'rand' });
        checkClose(outs[1]!, { shape: [n], values: referenceRandom('uniform', key, 0, -3, 5, n) }, 'float32', TOLERANCES.randomBits, { ...c, op: 'rand(low -3, high 5)' });
        checkClose(outs[2]!, { shape: [n], values: referenceRandom('randint', key, 0, -5, 1000, n) }, 'int32', TOLERANCES.randomBits, { ...c, op: 'randint(-5, 1000)' });
        checkClose(outs[3]!, { shape: [n], values: referenceRandom('bernoulli', key, 0, 0.3, 0, n) }, 'float32', TOLERANCES.randomBits, { ...c, op: 'bernoulli(0.3)' });
        checkClose(outs[4]!, { shape: [n], values: referenceRandom('bernoulli', key, 0, 0.7, 0, n) }, 'bool', TOLERANCES.randomBits, { ...c, op: 'bernoulli(0.7, bool)' });
        checkExact(outs[5]!, [n], 'float32', outs[0]!.data, { ...c, op: 'rand twice with one seed' });
      }
    });

    it('random edge parameters: p = 0 and 1, one-value ranges, a 2^24-wide randint range, low = high', async () => {
      const seed = s.rng('random-edges').int(0, 2 ** 31);
      const key = seedToKey(seed);
      const n = 257;
      const c = s.ctx('random edges', `[${n}] seed option ${seed}`);
      const outs = await evaluate(c, () => [
        bernoulli(0, [n], { seed }), bernoulli(1, [n], { seed, dtype: 'bool' }), randint(7, 8, [n], { seed }),
        randint(-(2 ** 23), 2 ** 23, [n], { seed }), rand([n], { seed, low: 2, high: 2 }),
      ]);
      checkExact(outs[0]!, [n], 'float32', new Array(n).fill(0), { ...c, op: 'bernoulli(0)' });
      checkExact(outs[1]!, [n], 'bool', new Array(n).fill(1), { ...c, op: 'bernoulli(1)' });
      checkExact(outs[2]!, [n], 'int32', new Array(n).fill(7), { ...c, op: 'randint(7, 8)' });
      checkClose(outs[3]!, { shape: [n], values: referenceRandom('randint', key, 0, -(2 ** 23), 2 ** 23, n) }, 'int32', TOLERANCES.randomBits, { ...c, op: 'randint(-2^23, 2^23)' });
      checkExact(outs[4]!, [n], 'float32', new Array(n).fill(2), { ...c, op: 'rand(low 2, high 2)' });
    });

    it('randn with a seed: within the stated tolerance of referenceRandom; same seed, same values', async () => {
      const r = s.rng('random-normal');
      for (const n of RANDOM_SIZES) {
        const seed = r.int(0, 2 ** 31);
        const key = seedToKey(seed);
        const c = s.ctx('randn', `[${n}] seed option ${seed}`);
        const [a, b, a2] = await evaluate(c, () => [randn([n], { seed }), randn([n], { seed, mean: 3, std: 2 }), randn([n], { seed })]);
        checkClose(a!, { shape: [n], values: referenceRandom('normal', key, 0, 0, 1, n) }, 'float32', TOLERANCES.randomNormal, c);
        const ref2 = referenceRandom('normal', key, 0, 3, 2, n);
        checkClose(b!, { shape: [n], values: ref2 }, 'float32', { ...TOLERANCES.randomNormal, atol: 2 * TOLERANCES.randomNormal.atol }, { ...c, op: 'randn(mean 3, std 2) (atol × std)' });
        checkExact(a2!, [n], 'float32', a!.data, { ...c, op: 'randn twice with one seed' });
      }
    });

    it('the global stream: setSeed, then successive draws continue the counter', async () => {
      const seed = s.rng('global-stream').int(0, 2 ** 31);
      const key = seedToKey(seed);
      const c = s.ctx('setSeed + rand/randn/randint', `setSeed(${seed})`);
      const [a, b, d, e] = await evaluate(c, () => {
        setSeed(seed);
        return [rand([5]), randn([7]), randint(0, 10, [3]), rand([2, 3], { low: 1, high: 2 })];
      });
      checkClose(a!, { shape: [5], values: referenceRandom('uniform', key, 0, 0, 1, 5) }, 'float32', TOLERANCES.randomBits, { ...c, op: 'rand [5] at counter 0' });
      checkClose(b!, { shape: [7], values: referenceRandom('normal', key, 5, 0, 1, 7) }, 'float32', TOLERANCES.randomNormal, { ...c, op: 'randn [7] at counter 5' });
      checkClose(d!, { shape: [3], values: referenceRandom('randint', key, 19, 0, 10, 3) }, 'int32', TOLERANCES.randomBits, { ...c, op: 'randint [3] at counter 19' });
      checkClose(e!, { shape: [2, 3], values: referenceRandom('uniform', key, 22, 1, 2, 6) }, 'float32', TOLERANCES.randomBits, { ...c, op: 'rand [2,3] at counter 22' });
      const [a2] = await evaluate(c, () => {
        setSeed(seed);
        return [rand([5])];
      });
      checkExact(a2!, [5], 'float32', a!.data, { ...c, op: 'setSeed again: same values' });
    });

    it('backend.random: counters wrap modulo 2^32 (primitive)', async () => {
      const b = getBackend();
      const key = seedToKey(s.rng('wrap').int(0, 2 ** 31));
      for (const kind of ['uniform', 'randint', 'bernoulli', 'normal'] as const) {
        const c = s.ctx(`backend.random('${kind}')`, `key ${key}, counter 2^32 − 5, size 9`);
        const dtype = kind === 'randint' ? 'int32' : 'float32';
        const buf = b.alloc(dtype, 9);
        try {
          const [a, bb] = kind === 'randint' ? [0, 100] : kind === 'bernoulli' ? [0.5, 0] : [0, 1];
          b.random(kind, key, 2 ** 32 - 5, a, bb, buf);
          const got = await b.read(buf);
          const ref = referenceRandom(kind, key, 2 ** 32 - 5, a, bb, 9);
          checkClose({ data: got, shape: [9], dtype }, { shape: [9], values: ref }, dtype, kind === 'normal' ? TOLERANCES.randomNormal : TOLERANCES.randomBits, c);
        } finally {
          b.free(buf);
        }
      }
    });
  });
}
