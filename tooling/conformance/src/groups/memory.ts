/** Memory: tidy returns memory() to its start, views share storage, autograd leaks nothing. */
import * as ax from '@axon/core';
import { grad, gradcheck, gradcheckAsync, valueAndGrad } from '@axon/autograd';
import { ensure } from '../check.js';
import { group, it, type Suite } from '../harness.js';

interface Snap {
  numTensors: number;
  numBytes: number;
  numStorages: number;
  backendBytes: number;
  backendBuffers: number;
}

function snap(backend: string): Snap {
  const m = ax.memory();
  const b = m.backends[backend];
  return { numTensors: m.numTensors, numBytes: m.numBytes, numStorages: m.numStorages, backendBytes: b?.bytes ?? 0, backendBuffers: b?.buffers ?? 0 };
}

function diff(a: Snap, b: Snap): string {
  return (Object.keys(a) as (keyof Snap)[]).filter((k) => a[k] !== b[k]).map((k) => `${k} ${a[k]} → ${b[k]}`).join(', ');
}

export function memoryTests(s: Suite): void {
  group(s, 'memory', () => {
    it('a tidy creating 1,000 intermediates returns memory() (tensors, bytes, storages, backend bytes/buffers) to its start', () => {
      const c = s.ctx('tidy', '1,000 intermediates of [1024] float32 / int32 / bool');
      const start = snap(s.backendName);
      let peak = 0;
      const r = ax.tidy(() => {
        let x = ax.ones([1024]);
        for (let i = 0; i < 250; i++) {
          x = x.mul(1.0001).add(0.5);
          const y = x.astype('int32').gt(3);
          void y;
        }
        peak = ax.memory().numTensors;
        return 42;
      });
      ensure(r === 42, c, 'tidy did not return the function value');
      ensure(peak - start.numTensors >= 1000, c, `expected ≥ 1,000 live intermediates inside the tidy, saw ${peak - start.numTensors}`);
      const end = snap(s.backendName);
      ensure(diff(start, end) === '', c, `memory() did not return to its start: ${diff(start, end)}`);
    });

    it('returned and kept tensors survive a tidy; disposing them restores memory()', async () => {
      const c = s.ctx('tidy / keep / dispose');
      const start = snap(s.backendName);
      let kept: ax.Tensor | null = null;
      const [a, b] = ax.tidy(() => {
        const x = ax.arange(10).astype('float32');
        kept = x.mul(2).keep();
        const inner = ax.tidy(() => x.add(1).mul(3));
        return [inner, { nested: [x.sum()] }] as const;
      });
      ensure(a.isDisposed === false && kept!.isDisposed === false && b.nested[0]!.isDisposed === false, c, 'a returned or kept tensor was disposed');
      const got = Array.from(await a.data());
      ensure(got.join() === [3, 6, 9, 12, 15, 18, 21, 24, 27, 30].join(), c, `returned tensor has wrong values ${got.join()}`);
      ensure(ax.memory().numTensors === start.numTensors + 3, c, `expected 3 live tensors, found ${ax.memory().numTensors - start.numTensors}`);
      a.dispose();
      kept!.dispose();
      b.nested[0]!.dispose();
      const end = snap(s.backendName);
      ensure(diff(start, end) === '', c, `memory() after disposing: ${diff(start, end)}`);
    });

    it('a view keeps its storage alive after its base is disposed; disposing the view frees it', async () => {
      const c = s.ctx('views and storage lifetime');
      const start = snap(s.backendName);
      const base = ax.tidy(() => ax.arange(12).astype('float32').reshape([3, 4]));
      const mid = snap(s.backendName);
      const v = ax.tidy(() => base.T.slice([1, 0], [2, 3]));
      ensure(ax.memory().numStorages === mid.numStorages && ax.memory().numBytes === mid.numBytes, c, 'creating a view allocated storage');
      base.dispose();
      const got = Array.from(await v.data());
      ensure(got.join() === [1, 5, 9, 2, 6, 10].join(), c, `view read after base disposed gave ${got.join()}`);
      v.dispose();
      const end = snap(s.backendName);
      ensure(diff(start, end) === '', c, `memory() after disposing base and view: ${diff(start, end)}`);
    });

    it('training steps (forward, backward, update) inside tidy leak nothing; disposing the parameter frees its grad', () => {
      const c = s.ctx('backward inside tidy');
      const start = snap(s.backendName);
      const w = ax.randn([8, 4], { seed: 1 }).requireGrad();
      const after = snap(s.backendName);
      for (let i = 0; i < 5; i++) {
        ax.tidy(() => {
          const x = ax.randn([16, 8], { seed: 2 + i });
          const loss = ax.mean(ax.square(ax.relu(ax.matmul(x, w))));
          loss.backward();
          ax.noGrad(() => w.assign(w.sub(w.grad!.mul(0.1))));
        });
        ensure(ax.memory().numTensors === after.numTensors + 1, c, `step ${i}: ${ax.memory().numTensors - after.numTensors} live tensors besides w (expected only w.grad)`);
      }
      w.dispose();
      const end = snap(s.backendName);
      ensure(diff(start, end) === '', c, `memory() after disposing w: ${diff(start, end)}`);
    });

    it('grad / valueAndGrad called outside any tidy leave only their results', () => {
      const c = s.ctx('grad / valueAndGrad outside tidy');
      const x = ax.tensor([0.5, -1, 2]);
      const start = snap(s.backendName);
      const [g] = grad((t) => ax.sum(ax.tanh(t)))(x);
      g!.dispose();
      const mid = snap(s.backendName);
      const { value, grads } = valueAndGrad((t) => ax.sum(ax.square(t)))(x);
      value.dispose();
      for (const t of grads) t.dispose();
      const end = snap(s.backendName);
      x.dispose();
      ensure(diff(start, mid) === '', c, `after grad(f)(x) and disposing the gradient: ${diff(start, mid)}`);
      ensure(diff(mid, end) === '', c, `after valueAndGrad(f)(x) and disposing value and gradients: ${diff(mid, end)}`);
    });

    it('backward of T per-step slices (unbind, split) allocates O(T·size) bytes, not O(T²·size)', async () => {
      // Σ_t Σ x_t·w over the T steps of x [T, 4, 8]: one rule per slice padded each step's gradient
      // to all of x, T² · 32 floats live until backward ends; unbind/split concatenate once.
      const size = 4 * 8 * 4;
      const peak = async (T: number, how: 'unbind' | 'split'): Promise<number> => {
        const c = s.ctx(`backward through ${how} of ${T} steps`, `x [${T}, 4, 8] float32`);
        const start = snap(s.backendName);
        const x = ax.ones([T, 4, 8]).requireGrad();
        const bytes = ax.tidy(() => {
          const w = ax.full([4, 8], 2);
          const steps = how === 'unbind' ? ax.unbind(x) : ax.split(x, T).map((p) => p.reshape([4, 8]));
          const loss = steps.map((p) => ax.sum(ax.mul(p, w))).reduce((a, b) => ax.add(a, b));
          const base = ax.memory().numBytes;
          ax.resetPeakMemory();
          loss.backward();
          return ax.memory().peakBytes - base;
        });
        const g = Array.from(await x.grad!.data());
        ensure(g.length === T * 32 && g.every((v) => v === 2), c, `gradient is not 2 everywhere: ${g.slice(0, 8).join(', ')}…`);
        x.dispose();
        ensure(diff(start, snap(s.backendName)) === '', c, `memory() after disposing x: ${diff(start, snap(s.backendName))}`);
        ensure(bytes <= 8 * T * size, c, `backward allocated ${bytes} bytes at peak, more than 8·T·size = ${8 * T * size} (O(T²): one padded copy of x per step?)`);
        return bytes;
      };
      for (const how of ['unbind', 'split'] as const) {
        const [p32, p64] = [await peak(32, how), await peak(64, how)];
        ensure(p64 < 2.5 * p32, s.ctx(`backward through ${how}`, '32 and 64 steps'), `peak bytes grew ${p32} → ${p64} from 32 to 64 steps (more than linear)`);
      }
    });

    it('gradcheck called outside any tidy leaks nothing', async () => {
      const c = s.ctx('gradcheck outside tidy');
      const x = ax.tensor([0.5, -1, 2]);
      const start = snap(s.backendName);
      const res = ax.getBackend().supportsSyncRead ? gradcheck((t) => ax.sum(ax.tanh(t)), [x]) : await gradcheckAsync((t) => ax.sum(ax.tanh(t)), [x]);
      const end = snap(s.backendName);
      x.dispose();
      ensure(res.ok, c, res.message);
      ensure(diff(start, end) === '', c, `memory() changed across gradcheck: ${diff(start, end)}`);
    });
  });
}
