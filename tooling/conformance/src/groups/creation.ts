/** Creation ops and the seeded generators (bits must equal core's `referenceRandom`). */
import {
  arange, bernoulli, eye, full, getBackend, linspace, ones, rand, randint, randn, referenceRandom, scalar, seedToKey, setSeed, tensor, zeros,
} from '@axon/core';
import { checkClose, checkExact, fmt } from '../check.js';
import { evaluate, evaluate1, group, it, type Suite } from '../harness.js';
import { TOLERANCES } from '../tolerances.js';

const SIZES = [0, 1, 3, 17, 64, 129, 1023];

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
      for (const n of SIZES) {
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

    it('randn with a seed: within the stated tolerance of referenceRandom; same seed, same values', async () => {
      const r = s.rng('random-normal');
      for (const n of SIZES) {
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
