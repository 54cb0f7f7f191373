/**
 * Gradients: `gradcheck` for every op autograd has a rule for (the suite fails when a rule is
 * not exercised), zero gradients for the non-differentiable ones, and closed-form checks.
 */
import * as ax from '@axon/core';
import type { Tensor } from '@axon/core';
import { customGrad, gradcheckAsync, grad, type Node, ruleNames, valueAndGrad } from '@axon/autograd';
import { checkClose, ConformanceError, type Ctx, ensure, fail, observe, observing } from '../check.js';
import { evaluate, group, it, type Suite } from '../harness.js';
import { awayFromZero, build, describeHost, type HostTensor, hostOf, ints, type Layout, makeHost, uniform } from '../inputs.js';
import type { Rng } from '../rng.js';
import { TOLERANCES } from '../tolerances.js';
import { tableOps } from './table.js';
import { sequenceGradCases } from './sequence.js';
import { convGradCases } from './conv1d.js';

/** Rules that are non-differentiable by design: their check is a zero gradient, or an error. */
export const NON_DIFFERENTIABLE: Readonly<Record<string, string>> = {
  sign: 'gradient is zero',
  floor: 'gradient is zero',
  ceil: 'gradient is zero',
  round: 'gradient is zero',
  pool2dGrad: 'differentiating a pooling gradient (third order) throws an AxonError',
};

function collectOps(t: Tensor, into: Set<string>): void {
  const stack: Tensor[] = [t];
  const seen = new Set<Tensor>();
  while (stack.length) {
    const x = stack.pop()!;
    if (seen.has(x)) continue;
    seen.add(x);
    const n = x.gradNode as Node | null;
    if (!n) continue;
    into.add(n.op);
    stack.push(...n.inputs);
  }
}

/** Σ y·w for fixed random weights w shaped like y (so gradients are not all equal). */
function wsum(y: Tensor, seed: number): Tensor {
  const r = makeWeights(y.shape, seed);
  return ax.sum(ax.mul(y, ax.tensor(r, y.shape)));
}

function makeWeights(shape: readonly number[], seed: number): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = 0.25 + (s / 2 ** 32) * 1.5 * (i % 2 ? 1 : -1);
  }
  return out;
}

/** A user-defined op (autograd's customGrad): matmul with its gradient written by hand. */
const customMatmul = customGrad(
  (a, b) => ax.matmul(a!, b!),
  (g, [a, b]) => [ax.matmul(g, ax.transpose(b!)), ax.matmul(ax.transpose(a!), g)],
  { name: 'customMatmul' },
);

interface Case {
  name: string;
  inputs: (r: Rng) => HostTensor[];
  f: (...x: Tensor[]) => Tensor;
}

/** Values spaced ≥ 0.1 apart (no ties, no kinks within eps of each other). */
const spaced = (shape: readonly number[], layout: Layout = 'contiguous', lo = -1) => (r: Rng): HostTensor => {
  const n = shape.reduce((a, b) => a * b, 1);
  const p = r.permutation(n);
  return hostOf(p.map((k) => lo + 0.1 * k + 0.01 * r.next()), shape, 'float32', layout);
};
const u = (shape: readonly number[], lo: number, hi: number, layout: Layout = 'contiguous') => (r: Rng): HostTensor => makeHost(r, shape, 'float32', uniform(lo, hi), layout);
const away = (shape: readonly number[], lo: number, hi: number, layout: Layout = 'contiguous') => (r: Rng): HostTensor => makeHost(r, shape, 'float32', awayFromZero(lo, hi), layout);
const both = (...gs: ((r: Rng) => HostTensor)[]) => (r: Rng): HostTensor[] => gs.map((g) => g(r));

const UNARY: [string, (x: Tensor) => Tensor, (r: Rng) => HostTensor][] = [
  ['neg', ax.neg, u([3, 4], -2, 2, 'transposed')],
  ['abs', ax.abs, away([3, 4], 0.1, 2, 'transposed')],
  ['exp', ax.exp, u([3, 4], -2, 2, 'sliced')],
  ['log', ax.log, u([3, 4], 0.5, 3, 'transposed')],
  ['log1p', ax.log1p, u([3, 4], -0.5, 3)],
  ['expm1', ax.expm1, u([3, 4], -2, 2, 'expanded')],
  ['sqrt', ax.sqrt, u([3, 4], 0.5, 3)],
  ['rsqrt', ax.rsqrt, u([3, 4], 0.5, 3, 'transposed')],
  ['reciprocal', ax.reciprocal, away([3, 4], 0.5, 2)],
  ['square', ax.square, u([3, 4], -2, 2, 'sliced')],
  ['sin', ax.sin, u([3, 4], -3, 3)],
  ['cos', ax.cos, u([3, 4], -3, 3, 'transposed')],
  ['tanh', ax.tanh, u([3, 4], -2, 2)],
  ['erf', ax.erf, u([3, 4], -2, 2, 'sliced')],
  ['sigmoid', ax.sigmoid, u([3, 4], -4, 4)],
  ['relu', ax.relu, away([3, 4], 0.1, 2, 'transposed')],
];

const BINARY: [string, (a: Tensor, b: Tensor) => Tensor, (r: Rng) => HostTensor[]][] = [
  ['add', ax.add, both(u([2, 3], -2, 2, 'sliced'), u([3], -2, 2))],
  ['sub', ax.sub, both(u([2, 1], -2, 2), u([2, 3], -2, 2, 'transposed'))],
  ['mul', ax.mul, both(u([2, 3], -2, 2, 'transposed'), u([2, 1], -2, 2))],
  ['div', ax.div, both(u([2, 3], -2, 2, 'sliced'), away([3], 0.5, 2))],
  ['pow', ax.pow, both(u([2, 3], 0.5, 2, 'sliced'), u([3], -2, 2))],
  ['maximum', ax.maximum, (r) => { const a = spaced([2, 3], 'transposed')(r); const b = spaced([2, 3])(r); return [a, { ...b, data: b.data.map((v, i) => (Math.abs(v - a.data[i]!) < 0.05 ? v + 0.1 : v)) }]; }],
  ['minimum', ax.minimum, (r) => { const a = spaced([2, 3])(r); const b = spaced([2, 3], 'sliced')(r); return [a, { ...b, data: b.data.map((v, i) => (Math.abs(v - a.data[i]!) < 0.05 ? v + 0.1 : v)) }]; }],
  // a/b kept ≥ 0.1 away from integers so floor(a/b) is locally constant
  ['mod', ax.mod, (r) => { const b = hostOf([1.5, -2, 2.5], [3]); const q = Array.from({ length: 6 }, () => r.int(-3, 3) + r.uniform(0.2, 0.8)); return [hostOf(q.map((v, i) => Math.fround(v * b.data[i % 3]!)), [2, 3]), b]; }],
];

function cases(): Case[] {
  const out: Case[] = [];
  for (const [name, f] of UNARY) out.push({ name, inputs: (r) => [UNARY.find((x) => x[0] === name)![2](r)], f: (x) => wsum(f(x), 1) });
  for (const [name, f, inputs] of BINARY) out.push({ name: `${name} (broadcast)`, inputs, f: (a, b) => wsum(f(a, b), 2) });
  // every op of core's op table, over its domain, ≥ 0.05 away from its kinks (checked against PyTorch in the 'op table' group)
  for (const [name, def] of tableOps()) {
    const [lo, hi] = def.domain.range;
    const pick = (r: Rng): number => {
      for (;;) {
        const v = r.uniform(Math.max(lo, -6), Math.min(hi, 6));
        if (def.domain.kinks.every((k) => Math.abs(v - k) > 0.05)) return v;
      }
    };
    const f = (ax as unknown as Record<string, (t: Tensor) => Tensor>)[name]!;
    out.push({ name: `${name} (op table)`, inputs: (r) => [hostOf(Array.from({ length: 12 }, () => pick(r)), [3, 4], 'float32', 'transposed')], f: (x) => wsum(f(x), 5) });
  }
  const cond = [true, false, false, true, true, false];
  out.push(
    { name: 'inputs that are contiguous views at an offset (1-D slices)', inputs: both(u([5], -2, 2, 'sliced'), away([3], 0.5, 2, 'sliced')), f: (a, b) => wsum(ax.div(a.slice([1], [3]), b), 38) },
    { name: 'where (broadcast)', inputs: both(u([2, 3], -2, 2, 'transposed'), u([3], -2, 2)), f: (a, b) => wsum(ax.where(ax.tensor(cond, [2, 3]), a, b), 3) },
    { name: 'cast float32→float32, contiguous of a view (identity), clone', inputs: both(u([3, 4], -2, 2, 'transposed')), f: (x) => wsum(ax.add(x.astype('float32'), ax.add(x.T.contiguous().T, x.clone())), 4) },
    { name: 'sum over axes (keepDims and not)', inputs: both(u([3, 4, 2], -2, 2, 'transposed')), f: (x) => ax.add(wsum(ax.sum(x, [0, 2], true), 5), wsum(ax.sum(x, 1), 6)) },
    { name: 'prod over an axis and all', inputs: both(u([3, 4], 0.5, 1.5, 'sliced')), f: (x) => ax.add(wsum(ax.prod(x, 1), 7), ax.prod(x)) },
    { name: 'max / min over axes (no ties)', inputs: both(spaced([3, 4], 'transposed')), f: (x) => ax.add(wsum(ax.max(x, 0), 8), wsum(ax.min(x, [1], true), 9)) },
    { name: 'mean / variance', inputs: both(u([3, 5], -2, 2)), f: (x) => ax.add(wsum(ax.mean(x, 1), 10), wsum(ax.variance(x, 0), 11)) },
    { name: 'reshape / flatten / squeeze / unsqueeze / transpose / permute', inputs: both(u([2, 3, 4], -2, 2, 'sliced')), f: (x) => wsum(x.reshape([6, 4]).unsqueeze(0).squeeze(0).flatten().reshape([4, 3, 2]).permute([2, 0, 1]).transpose(), 12) },
    { name: 'slice (views of views)', inputs: both(u([4, 5], -2, 2, 'transposed')), f: (x) => wsum(x.slice([1, 0], [3, 4]).slice([0, 1], [2, 2]), 13) },
    { name: 'expand (broadcast views)', inputs: both(u([3, 1], -2, 2)), f: (x) => wsum(x.expand([2, 3, 4]), 14) },
    { name: 'concat / stack / split', inputs: both(u([2, 3], -2, 2), u([2, 2], -2, 2, 'transposed')), f: (a, b) => { const c = ax.concat([a, b], 1); const [p, q] = ax.split(c, [1, 4], 1); return ax.add(wsum(ax.stack([p!, p!], 0), 15), wsum(q!, 16)); } },
    { name: 'pad', inputs: both(u([2, 3], -2, 2, 'sliced')), f: (x) => wsum(ax.pad(x, [[1, 0], [2, 1]], 0.5), 17) },
    { name: 'unbind (axes 1 and −1; one output never used, one used twice)', inputs: both(u([3, 4, 2], -2, 2, 'transposed')), f: (x) => { const a = ax.unbind(x, 1); const b = ax.unbind(x, -1); return ax.add(ax.add(wsum(a[0]!, 61), wsum(ax.mul(a[3]!, a[3]!), 62)), wsum(b[1]!, 63)); } },
    { name: 'split / chunk into parts, one never used (one concatenation of the parts\' gradients)', inputs: both(u([5, 3], -2, 2, 'sliced')), f: (x) => { const [p, , q] = ax.split(x, [2, 1, 2], 0); const [, r] = ax.chunk(x, 2, 1); return ax.add(ax.add(wsum(p!, 64), wsum(ax.tanh(q!), 65)), wsum(r!, 66)); } },
    { name: 'gather (duplicate indices, axis 1)', inputs: both(u([3, 4], -2, 2)), f: (x) => wsum(ax.gather(x, ax.tensor([3, 0, 3, 1], [2, 2], 'int32'), 1), 18) },
    { name: 'scatterAdd (duplicates)', inputs: both(u([5, 2], -2, 2, 'transposed')), f: (upd) => wsum(ax.scatterAdd([3, 2], ax.tensor([2, 0, 2, 1, 2], [5], 'int32'), upd, 0), 19) },
    { name: 'matmul 2-D with a transposed view', inputs: both(u([3, 4], -1, 1, 'transposed'), u([4, 2], -1, 1)), f: (a, b) => wsum(ax.matmul(a, b), 20) },
    { name: 'matmul of a batch by a shared matrix (x·W: dW is one product over the flattened batch), a constant operand', inputs: both(u([2, 3, 4], -1, 1, 'transposed'), u([4, 2], -1, 1)), f: (a, b) => ax.add(wsum(ax.matmul(a, b), 42), wsum(ax.mul(ax.add(ax.matmul(a, b), 0.5), ax.tensor([2, 3])), 43)) },
    { name: 'matmul batched with broadcast batch dims, and 1-D', inputs: both(u([2, 1, 3, 4], -1, 1), u([3, 4, 2], -1, 1, 'sliced'), u([4], -1, 1)), f: (a, b, v) => ax.add(wsum(ax.matmul(a, b), 21), wsum(ax.matmul(v, b), 22)) },
    // window 2×2, stride [2,1], padding 1 over 5×4: outH 3, outW 5, so columns are [1, 2·2·2, 15]
    { name: 'unfold / fold (im2col / col2im)', inputs: both(u([1, 2, 5, 4], -1, 1), u([1, 8, 15], -1, 1, 'transposed')), f: (x, c) => { const win = ax.window2d('unfold', [1, 2, 5, 4], [2, 2], [2, 1], 1, 1); return ax.add(wsum(ax.unfold(x, win), 23), wsum(ax.fold(c, win), 24)); } },
    { name: 'maxPool2d (no ties) / avgPool2d (padding)', inputs: both(spaced([1, 2, 4, 5]), u([1, 2, 5, 5], -1, 1)), f: (a, b) => ax.add(wsum(ax.maxPool2d(a, 2, { stride: [2, 1] }), 25), wsum(ax.avgPool2d(b, 3, { stride: 2, padding: 1 }), 26)) },
    { name: 'conv2d (stride 2, same padding, groups 2, bias)', inputs: both(u([1, 4, 5, 5], -1, 1), u([4, 2, 3, 3], -1, 1), u([4], -1, 1)), f: (x, w, b) => wsum(ax.conv2d(x, w, { stride: 2, padding: 'same', groups: 2, bias: b }), 27) },
    { name: 'softmax / logSoftmax / logSumExp', inputs: both(u([3, 5], -3, 3, 'transposed')), f: (x) => ax.add(ax.add(wsum(ax.softmax(x, 0), 28), wsum(ax.logSoftmax(x), 29)), wsum(ax.logSumExp(x, 1), 30)) },
    { name: 'scaledDotProductAttention (broadcast k/v, float mask, causal)', inputs: both(u([2, 3, 4], -1, 1), u([1, 5, 4], -1, 1, 'transposed'), u([1, 5, 2], -1, 1), u([3, 5], -1, 1)), f: (q, k, v, m) => ax.add(wsum(ax.scaledDotProductAttention(q, k, v, { mask: m, scale: 0.7 }), 40), wsum(ax.scaledDotProductAttention(q, k, v, { causal: true }), 41)) },
    { name: 'customGrad (a hand-written matmul gradient)', inputs: both(u([3, 4], -1, 1, 'transposed'), u([4, 2], -1, 1, 'sliced')), f: (a, b) => wsum(customMatmul(a, b), 36) },
    { name: 'leakyRelu / gelu / softplus / logSigmoid / clip', inputs: both(away([3, 4], 0.1, 2.5)), f: (x) => ax.add(ax.add(wsum(ax.leakyRelu(x, 0.1), 31), wsum(ax.gelu(x), 32)), ax.add(wsum(ax.softplus(x), 33), ax.add(wsum(ax.logSigmoid(x), 34), wsum(ax.clip(x, -2.6, 2.6), 35)))) },
  );
  out.push(...sequenceGradCases(wsum));
  out.push(...convGradCases(wsum));
  return out;
}

export function gradientTests(s: Suite): void {
  group(s, 'gradients', () => {
    const covered = new Set<string>();
    const traced = (f: (...x: Tensor[]) => Tensor) => (...xs: Tensor[]): Tensor => {
      const v = f(...xs);
      collectOps(v, covered);
      return v;
    };

    const runGradcheck = async (c: Ctx, hosts: HostTensor[], f: (...x: Tensor[]) => Tensor): Promise<void> => {
      const before = ax.memory().numTensors;
      let res: Awaited<ReturnType<typeof gradcheckAsync>>;
      // gradcheckAsync reads with `await data()`, so the check runs on backends without sync reads.
      const inputs = ax.tidy(() => hosts.map(build));
      try {
        res = await gradcheckAsync(traced(f), inputs);
      } catch (e) {
        return fail(c, `gradcheck threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
      } finally {
        for (const t of inputs) t.dispose();
      }
      ensure(ax.memory().numTensors === before, c, `gradcheck left ${ax.memory().numTensors - before} tensors`);
      if (!res.ok) fail(c, `${res.message} (tolerances: ${TOLERANCES.gradcheck.why})`);
      if (observing()) {
        // gradcheck keeps its gradients to itself: the observer (the threads test) sees the value
        // and every analytic gradient too
        const outs = await evaluate(c, () => {
          const { value, grads } = valueAndGrad(f)(...hosts.map(build));
          return [value, ...grads];
        });
        outs.forEach((r, i) => observe(r, { ...c, op: `${c.op}: ${i === 0 ? 'value' : `gradient of input ${i - 1}`}` }));
      }
    };

    for (const cs of cases()) {
      it(`gradcheck: ${cs.name}`, async () => {
        const hosts = cs.inputs(s.rng(`grad-${cs.name}`));
        await runGradcheck(s.ctx(`gradcheck ${cs.name}`, hosts.map(describeHost).join(' , ')), hosts, cs.f);
      });
    }

    it('non-differentiable ops (sign/floor/ceil/round) give zero gradients, not errors', async () => {
      for (const [name, f] of [['sign', ax.sign], ['floor', ax.floor], ['ceil', ax.ceil], ['round', ax.round]] as const) {
        const h = makeHost(s.rng(`nondiff-${name}`), [3, 4], 'float32', uniform(-3, 3), 'transposed');
        const c = s.ctx(`grad of ${name}`, describeHost(h));
        const [g] = await evaluate(c, () => grad(traced((x) => wsum(ax.add(f(x), 1), 36)))(build(h)));
        checkClose(g!, { shape: [3, 4], values: new Float64Array(12) }, 'float32', TOLERANCES.exact, c);
      }
    });

    it('differentiating a pooling gradient (third order through pool2dGrad) throws an AxonError', async () => {
      const h = makeHost(s.rng('pool2dGrad-grad'), [1, 1, 4, 4], 'float32', uniform(-1, 1));
      const c = s.ctx('grad of grad of maxPool2d', describeHost(h));
      const before = ax.memory().numTensors;
      let err: unknown = null;
      try {
        ax.tidy(() => {
          const inner = (x: Tensor): Tensor => grad((y) => wsum(ax.maxPool2d(y, 2), 37))(x)[0]!.square().sum();
          grad(traced(inner))(build(h));
        });
      } catch (e) {
        err = e;
      }
      ensure(err instanceof ax.AxonError, c, `expected an AxonError, got ${String(err)}`);
      ensure(ax.memory().numTensors === before, c, `the failed backward leaked ${ax.memory().numTensors - before} tensors`);
    });

    it('second derivative: d²/dx² Σ tanh(x) = −2·tanh(x)·(1 − tanh²(x))', async () => {
      const h = makeHost(s.rng('second-order'), [17], 'float32', uniform(-2, 2), 'sliced');
      const c = s.ctx('grad(grad(tanh))', describeHost(h));
      const [g] = await evaluate(c, () => grad((x) => grad((y) => ax.tanh(y).sum())(x)[0]!.sum())(build(h)));
      const values = h.data.map((x) => -2 * Math.tanh(x) * (1 - Math.tanh(x) ** 2));
      checkClose(g!, { shape: [17], values }, 'float32', TOLERANCES.gradAnalytic, c);
    });

    it('closed forms: matmul, softmax cross-entropy, sum / mean / max (ties split evenly)', async () => {
      const r = s.rng('grad-analytic');
      const M = 5, K = 7, N = 3;
      const A = makeHost(r, [M, K], 'float32', uniform(-1, 1), 'transposed');
      const B = makeHost(r, [K, N], 'float32', uniform(-1, 1));
      const W = makeHost(r, [M, N], 'float32', uniform(-1, 1));
      const cm = s.ctx('grad of Σ W⊙(A·B)', `A ${describeHost(A)}, B ${describeHost(B)}`);
      const [dA, dB] = await evaluate(cm, () => valueAndGrad((a, b) => ax.sum(ax.mul(ax.matmul(a, b), build(W))))(build(A), build(B)).grads);
      const eA = new Float64Array(M * K), mA = new Float64Array(M * K), eB = new Float64Array(K * N), mB = new Float64Array(K * N);
      for (let i = 0; i < M; i++) for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) {
        eA[i * K + k]! += W.data[i * N + j]! * B.data[k * N + j]!;
        mA[i * K + k]! += Math.abs(W.data[i * N + j]! * B.data[k * N + j]!);
        eB[k * N + j]! += A.data[i * K + k]! * W.data[i * N + j]!;
        mB[k * N + j]! += Math.abs(A.data[i * K + k]! * W.data[i * N + j]!);
      }
      checkClose(dA!, { shape: [M, K], values: eA, mag: mA, n: N }, 'float32', TOLERANCES.gradMatmul, { ...cm, op: 'dA = W·Bᵀ' });
      checkClose(dB!, { shape: [K, N], values: eB, mag: mB, n: M }, 'float32', TOLERANCES.gradMatmul, { ...cm, op: 'dB = Aᵀ·W' });

      const R = 4, C = 10;
      const X = makeHost(r, [R, C], 'float32', uniform(-3, 3), 'sliced');
      const labels = makeHost(r, [R], 'int32', ints(0, C));
      const cx = s.ctx('grad of softmax cross-entropy −mean Σ y·logSoftmax(x)', `${describeHost(X)}, labels ${Array.from(labels.data).join(',')}`);
      const [dX] = await evaluate(cx, () => grad((x) => ax.neg(ax.mean(ax.sum(ax.mul(ax.oneHot(build(labels), C), ax.logSoftmax(x)), 1))))(build(X)));
      const eX = new Float64Array(R * C);
      for (let i = 0; i < R; i++) {
        let m = -Infinity;
        for (let j = 0; j < C; j++) m = Math.max(m, X.data[i * C + j]!);
        let z = 0;
        for (let j = 0; j < C; j++) z += Math.exp(X.data[i * C + j]! - m);
        for (let j = 0; j < C; j++) eX[i * C + j] = (Math.exp(X.data[i * C + j]! - m) / z - (labels.data[i] === j ? 1 : 0)) / R;
      }
      checkClose(dX!, { shape: [R, C], values: eX }, 'float32', TOLERANCES.gradAnalytic, cx);

      const S = makeHost(r, [3, 17], 'float32', uniform(-1, 1), 'transposed');
      const cs = s.ctx('grad of sum / mean(axis 1) / max', describeHost(S));
      const [gs, gm] = await evaluate(cs, () => [grad((x) => ax.sum(x))(build(S))[0]!, grad((x) => ax.sum(ax.mean(x, 1)))(build(S))[0]!]);
      checkClose(gs!, { shape: [3, 17], values: new Float64Array(51).fill(1) }, 'float32', TOLERANCES.gradAnalytic, { ...cs, op: 'd sum(x) = 1' });
      checkClose(gm!, { shape: [3, 17], values: new Float64Array(51).fill(1 / 17) }, 'float32', TOLERANCES.gradAnalytic, { ...cs, op: 'd Σ mean(x, 1) = 1/17' });
      const T = hostOf([1, 3, 3, 2, -1, -1, -5, 0], [2, 4]);
      const ct = s.ctx('grad of max (ties split evenly)', `${describeHost(T)} [[1,3,3,2],[-1,-1,-5,0]]`);
      const [gmax, grow] = await evaluate(ct, () => [grad((x) => ax.max(x))(build(T))[0]!, grad((x) => ax.sum(ax.max(x, 1)))(build(T))[0]!]);
      checkClose(gmax!, { shape: [2, 4], values: Float64Array.from([0, 0.5, 0.5, 0, 0, 0, 0, 0]) }, 'float32', TOLERANCES.gradAnalytic, { ...ct, op: 'd max(x)' });
      checkClose(grow!, { shape: [2, 4], values: Float64Array.from([0, 0.5, 0.5, 0, 0, 0, 0, 1]) }, 'float32', TOLERANCES.gradAnalytic, { ...ct, op: 'd Σ max(x, 1)' });
    });

    it('every autograd rule is exercised by a gradient check above (compared with ruleNames())', () => {
      // Coverage is what the checks above actually recorded in autograd's graph, not a list.
      const missing = ruleNames().filter((n) => !covered.has(n));
      if (missing.length > 0) {
        throw new ConformanceError(
          `[${s.backend}] gradients: rules not exercised by any gradient check: ${missing.join(', ')} (recorded: ${[...covered].sort().join(', ')}; non-differentiable by design: ${Object.keys(NON_DIFFERENTIABLE).join(', ')}). Add a case for each (coverage accumulates across the whole 'gradients' group, so run it unfiltered). seed ${s.seed}`,
        );
      }
    });
  });
}
