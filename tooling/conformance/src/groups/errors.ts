/** Bad input: an AxonError naming the op and the shapes, and no leaked tensor. */
import * as ax from '@axon/core';
import { ensure } from '../check.js';
import { group, it, type Suite } from '../harness.js';

interface ErrCase {
  name: string;
  /** The bad call. */
  run: () => unknown;
  /** Every pattern must occur in the message. */
  expect: (string | RegExp)[];
}

const t = (shape: number[], dtype: ax.DType = 'float32'): ax.Tensor => ax.zeros(shape, dtype);

export function errorTests(s: Suite): void {
  group(s, 'errors', () => {
    const cases: ErrCase[] = [
      { name: 'matmul [2,3]×[4,5]', run: () => ax.matmul(t([2, 3]), t([4, 5])), expect: ['matmul', '[2,3]', '[4,5]'] },
      { name: 'matmul of int32 [2,3]×[4,5] (casts made before the failure)', run: () => ax.matmul(t([2, 3], 'int32'), t([4, 5], 'int32')), expect: ['matmul', '[2,3]', '[4,5]'] },
      { name: 'matmul 1-D [3]×[4,5]', run: () => ax.matmul(t([3]), t([4, 5])), expect: ['matmul', '[4,5]'] },
      { name: 'matmul batch mismatch [2,2,3]×[3,3,4]', run: () => ax.matmul(t([2, 2, 3]), t([3, 3, 4])), expect: ['matmul', '[2]', '[3]'] },
      { name: 'reshape [2,3] to [4,2]', run: () => t([2, 3]).reshape([4, 2]), expect: ['reshape', '[2,3]', '[4,2]'] },
      { name: 'reshape [2,3] to [4,-1]', run: () => t([2, 3]).reshape([4, -1]), expect: ['reshape', '[2,3]', '[4,-1]'] },
      { name: 'reshape of a transposed view to a wrong size', run: () => t([3, 4]).T.reshape([5]), expect: ['reshape', '[4,3]', '[5]'] },
      { name: 'gather with float32 indices', run: () => ax.gather(t([3, 4]), ax.tensor([0, 1]), 0), expect: ['gather', 'int32', 'float32', '[2]'] },
      { name: 'gather with an out-of-range index', run: () => ax.gather(t([3, 4]), ax.tensor([0, 3], [2], 'int32'), 0), expect: ['gather', '3', 'range'] },
      { name: 'scatterAdd with float32 indices', run: () => ax.scatterAdd([3], ax.tensor([0, 1]), ax.tensor([1, 2]), 0), expect: ['scatterAdd', 'int32'] },
      { name: 'oneHot with float32 indices', run: () => ax.oneHot(ax.tensor([0, 1]), 3), expect: ['oneHot', 'int32'] },
      { name: 'zeros with a NaN size', run: () => ax.zeros([2, NaN]), expect: ['zeros', 'NaN'] },
      { name: 'full with a NaN size', run: () => ax.full([NaN], 1), expect: ['full', 'NaN'] },
      { name: 'rand with a NaN size', run: () => ax.rand([NaN, 2], { seed: 1 }), expect: ['rand', 'NaN'] },
      { name: 'tensor with a NaN shape', run: () => ax.tensor([1, 2], [NaN]), expect: ['tensor', 'NaN'] },
      { name: 'zeros with a negative size', run: () => ax.zeros([-1, 3]), expect: ['zeros', '-1'] },
      { name: 'ones with a negative size', run: () => ax.ones([2, -3], 'int32'), expect: ['ones', '-3'] },
      { name: 'randn with a negative size', run: () => ax.randn([-2], { seed: 1 }), expect: ['randn', '-2'] },
      { name: 'reshape to a negative size', run: () => t([2, 3]).reshape([-2, -3]), expect: ['reshape', '[2,3]'] },
      { name: 'add with shapes that do not broadcast', run: () => ax.add(t([2, 3]), t([4])), expect: ['add', '[2,3]', '[4]'] },
      { name: 'where with shapes that do not broadcast', run: () => ax.where(t([2, 3], 'bool'), t([2, 3]), t([4])), expect: ['where', '[4]'] },
      { name: 'concat with mismatched shapes', run: () => ax.concat([t([2, 3]), t([3, 3])], 1), expect: ['concat', '[2,3]', '[3,3]'] },
      { name: 'stack with mismatched shapes', run: () => ax.stack([t([2, 3]), t([3, 2])]), expect: ['concat', '[1,2,3]', '[1,3,2]'] },
      { name: 'slice out of range', run: () => t([2, 3]).slice([1, 2], [2, 2]), expect: ['slice', '[2,3]'] },
      { name: 'expand to an incompatible shape', run: () => t([2, 3]).expand([4, 3]), expect: ['expand', '[2,3]', '[4,3]'] },
      { name: 'permute with a wrong axes list', run: () => t([2, 3]).permute([0, 0]), expect: ['permute'] },
      { name: 'squeeze of a non-1 axis', run: () => t([2, 3]).squeeze(0), expect: ['squeeze', '[2,3]'] },
      { name: 'split into unequal parts', run: () => ax.split(t([5, 3]), 2), expect: ['split', '5'] },
      { name: 'pad with a wrong number of pairs', run: () => ax.pad(t([2, 3]), [[1, 1]]), expect: ['pad', '[2,3]'] },
      { name: 'sum over an axis out of range', run: () => ax.sum(t([2, 3]), 2), expect: ['sum', '2'] },
      { name: 'softmax over an axis out of range', run: () => ax.softmax(t([2, 3]), 5), expect: ['softmax', '5'] },
      { name: 'logSumExp over an axis out of range', run: () => ax.logSumExp(t([2, 3]), -3), expect: ['-3'] },
      { name: 'argmax over an empty axis', run: () => ax.argmax(t([2, 0]), 1), expect: ['argmax', '[2,0]'] },
      { name: 'exp of a bool tensor', run: () => ax.exp(t([2], 'bool')), expect: ['exp', 'bool', '[2]'] },
      { name: 'conv2d with mismatched channels', run: () => ax.conv2d(t([1, 3, 5, 5]), t([2, 2, 3, 3])), expect: ['conv2d', '[1,3,5,5]', '[2,2,3,3]'] },
      { name: 'conv2d with a bias of the wrong shape', run: () => ax.conv2d(t([1, 2, 5, 5]), t([4, 2, 3, 3]), { bias: t([3]) }), expect: ['conv2d', 'bias', '[3]'] },
      { name: 'conv2d with bool weights (used to leak 2 tensors)', run: () => ax.conv2d(t([1, 2, 5, 5]), t([3, 2, 3, 3], 'bool')), expect: ['conv2d', 'weights', 'float32', 'bool'] },
      { name: 'conv2d with int32 input and groups 2 (fails after splitting)', run: () => ax.conv2d(t([1, 4, 5, 5], 'int32'), t([4, 2, 3, 3]), { groups: 2 }), expect: ['conv2d', 'int32'] },
      { name: 'unfold with a window that does not describe the input', run: () => ax.unfold(t([1, 2, 5, 5]), ax.window2d('unfold', [1, 2, 9, 9], [3, 3], 1, 0, 1)), expect: ['unfold', '[1,2,5,5]'] },
      { name: 'conv2d with a window larger than the input', run: () => ax.conv2d(t([1, 1, 2, 2]), t([1, 1, 3, 3])), expect: ['conv2d', '[1,1,2,2]'] },
      { name: 'maxPool2d on a rank-3 input', run: () => ax.maxPool2d(t([1, 4, 4]), 2), expect: ['maxPool2d', '[1,4,4]'] },
      { name: 'maxPool2d whose padding exceeds half the kernel (a window of padding only: -Infinity)', run: () => ax.maxPool2d(t([1, 1, 2, 2]), 2, { stride: 1, padding: 2 }), expect: ['maxPool2d', 'padding [2,2]', 'half the kernel size 2'] },
      { name: 'avgPool2d whose padding exceeds half the kernel (0 / 0 without countIncludePad)', run: () => ax.avgPool2d(t([1, 1, 4, 4]), [3, 2], { padding: [[1, 1], [0, 2]] }), expect: ['avgPool2d', 'padding [0,2]', 'kernel size 2'] },
      { name: 'maxPool1d whose padding exceeds half the kernel', run: () => ax.maxPool1d(t([1, 1, 4]), 3, { padding: [0, 2] }), expect: ['maxPool1d', 'padding [0,2]', 'kernel size 3'] },
      { name: 'backward of a non-scalar', run: () => { const x = t([3]).requireGrad(); try { ax.mul(x, 2).backward(); } finally { x.dispose(); } }, expect: ['backward', '[3]'] },
      { name: 'tensor from a ragged array', run: () => ax.tensor([[1, 2], [3]] as unknown as number[][]), expect: ['tensor', 'ragged'] },
      { name: 'tensor with too few values for the shape', run: () => ax.tensor([1, 2, 3], [2, 2]), expect: ['tensor', '[2,2]'] },
    ];

    it('each bad call throws an AxonError naming the op and the shapes, and leaks no tensor', () => {
      const problems: string[] = [];
      for (const cs of cases) {
        const before = ax.memory();
        let err: unknown = null;
        // inputs are made inside run(), so the call runs in a tidy (leaks of the op itself are
        // checked by the next test, with inputs made outside)
        ax.tidy(() => {
          try {
            cs.run();
          } catch (e) {
            err = e;
          }
        });
        const after = ax.memory();
        if (!(err instanceof ax.AxonError)) {
          problems.push(`${cs.name}: expected an AxonError, got ${err === null ? 'no error' : String(err)}`);
          continue;
        }
        const msg = err.message;
        const missing = cs.expect.filter((p) => (typeof p === 'string' ? !msg.includes(p) : !p.test(msg)));
        if (missing.length) problems.push(`${cs.name}: message ${JSON.stringify(msg)} does not name ${missing.map(String).join(', ')}`);
        if (after.numTensors !== before.numTensors || after.numBytes !== before.numBytes) problems.push(`${cs.name}: memory changed (tensors ${before.numTensors} → ${after.numTensors}, bytes ${before.numBytes} → ${after.numBytes})`);
      }
      ensure(problems.length === 0, s.ctx('errors'), `${problems.length} of ${cases.length} error cases failed:\n    ${problems.join('\n    ')}`);
    });

    it('a failed op frees what it allocated before failing (inputs made outside, op called directly)', () => {
      const problems: string[] = [];
      const direct: [string, () => ax.Tensor[], (xs: ax.Tensor[]) => unknown][] = [
        ['matmul int32 [2,3]×[4,5]', () => [t([2, 3], 'int32'), t([4, 5], 'int32')], ([a, b]) => ax.matmul(a!, b!)],
        ['matmul 1-D [3]×[4,5]', () => [t([3]), t([4, 5])], ([a, b]) => ax.matmul(a!, b!)],
        ['reshape of a view to a wrong size', () => { const a = t([3, 4]); return [a, a.T]; }, ([, v]) => v!.reshape([5])],
        ['gather out of range', () => [t([3, 4]), ax.tensor([0, 7], [2], 'int32')], ([a, i]) => ax.gather(a!, i!, 0)],
        ['add int32 [2,3] + 2.5-scalar broadcast failure', () => [t([2, 3], 'int32'), t([4])], ([a, b]) => ax.add(a!, b!)],
        ['where float32 cond with bad shapes', () => [t([2, 3]), t([2, 3], 'int32'), t([4])], ([c, a, b]) => ax.where(c!, a!, b!)],
        ['stack mismatched', () => [t([2, 3]), t([3, 2])], ([a, b]) => ax.stack([a!, b!])],
        ['conv2d bias of the wrong shape', () => [t([1, 2, 5, 5]), t([4, 2, 3, 3]), t([3])], ([x, w, b]) => ax.conv2d(x!, w!, { bias: b! })],
        ['conv2d groups 2 bias of the wrong shape', () => [t([1, 4, 5, 5]), t([4, 2, 3, 3]), t([3])], ([x, w, b]) => ax.conv2d(x!, w!, { groups: 2, bias: b! })],
        ['argmax of bool over an empty axis', () => [t([2, 0], 'bool')], ([a]) => ax.argmax(a!, 1)],
        ['logSumExp bad axis', () => [t([2, 3])], ([a]) => ax.logSumExp(a!, 4)],
      ];
      for (const [name, make, run] of direct) {
        const xs = make();
        const before = ax.memory();
        let threw = false;
        try {
          run(xs);
        } catch (e) {
          threw = e instanceof ax.AxonError;
        }
        const after = ax.memory();
        for (const x of xs) x.dispose();
        if (!threw) problems.push(`${name}: no AxonError`);
        if (after.numTensors !== before.numTensors || after.numBytes !== before.numBytes) {
          problems.push(`${name}: leaked ${after.numTensors - before.numTensors} tensors / ${after.numBytes - before.numBytes} bytes`);
        }
      }
      ensure(problems.length === 0, s.ctx('failed ops leak nothing'), `${problems.length} of ${direct.length} cases:\n    ${problems.join('\n    ')}`);
    });

    it('setBackend with an unknown name throws an AxonError naming it', async () => {
      let err: unknown = null;
      try {
        await ax.setBackend('no-such-backend');
      } catch (e) {
        err = e;
      }
      ensure(err instanceof ax.AxonError && err.message.includes('setBackend') && err.message.includes('no-such-backend'), s.ctx('setBackend'), `got ${String(err)}`);
      await ax.setBackend(s.backend);
    });
  });
}
