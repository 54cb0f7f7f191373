/**
 * The profiler (issue 11): what it counts for known work, that it restores the backend, and that
 * it refuses to nest — on every backend.
 */
import * as ax from '@axon/core';
import { ensure } from '../check.js';
import { group, it, type Suite } from '../harness.js';

export function profileTests(s: Suite): void {
  group(s, 'profile: kernels, bytes and transfers of known work', () => {
    it('counts one kernel per primitive call, by kind, with the bytes read and written', async () => {
      const x = ax.tensor([[1, -2, 3], [4, -5, 6]]); // float32 [2, 3]: 24 bytes
      const w = ax.tensor([[1], [0], [-1]]); // [3, 1]
      // one kernel per op (with fusion on these three are fewer kernels: the fusion group counts those)
      const flags = ax.setFlags({ fusion: false });
      try {
        const { result, report } = ax.profile(() => ax.tidy(() => ax.sum(ax.relu(ax.matmul(x, w)))));
        const c = s.ctx('profile relu(matmul(x, w)).sum()');
        ensure(report.backend === s.backendName, c, `report.backend ${report.backend}, expected '${s.backendName}'`);
        const kinds = Object.keys(report.byKind).sort().join(',');
        ensure(kinds === 'matmul,reduce:sum,unary:relu', c, `kinds ${kinds} (${JSON.stringify(report.byKind)})`);
        ensure(report.kernels === 3, c, `kernels ${report.kernels}`);
        const mm = report.byKind['matmul']!;
        ensure(mm.count === 1 && mm.bytesRead === 24 + 12 && mm.bytesWritten === 8, c, `matmul ${JSON.stringify(mm)}`);
        const relu = report.byKind['unary:relu']!;
        ensure(relu.bytesRead === 8 && relu.bytesWritten === 8, c, `relu ${JSON.stringify(relu)}`);
        ensure(report.allocs === 3 && report.frees === 2, c, `allocs ${report.allocs}, frees ${report.frees} (3 outputs; tidy frees 2)`);
        ensure(report.uploads === 0 && report.downloads === 0, c, `transfers ${report.uploads}/${report.downloads}`);
        const v = (await result.data())[0];
        ensure(v === -2 + 0 || v === -2 || v === 0, c, `value ${v}`); // relu([-2, -2]) summed = 0
        result.dispose();
        const up = ax.profile(() => ax.tensor([1, 2, 3, 4]));
        ensure(up.report.uploads === 1 && up.report.uploadBytes === 16, s.ctx('profile tensor([…])'), `uploads ${up.report.uploads} (${up.report.uploadBytes} B)`);
        const down = await ax.profile(() => up.result.data());
        ensure(down.report.downloads === 1 && down.report.downloadBytes === 16, s.ctx('profile data()'), `reads ${down.report.downloads} (${down.report.downloadBytes} B)`);
        up.result.dispose();
        ensure(/^kernel kind/.test(ax.formatProfile(report)) && ax.formatProfile(report).includes('matmul'), c, ax.formatProfile(report));
      } finally {
        ax.setFlags(flags);
        x.dispose();
        w.dispose();
      }
    });

    it('restores the backend after a run, a throw and a rejected promise; profiles do not nest', async () => {
      const b = ax.getBackend();
      const own = Object.keys(b).sort().join(',');
      const c = s.ctx('profile restore');
      let err: unknown = null;
      try {
        ax.profile(() => ax.tidy(() => ax.reshape(ax.ones([4]), [3])));
      } catch (e) {
        err = e;
      }
      ensure(err instanceof ax.AxonError, c, `reshape [4]→[3] should throw an AxonError, got ${String(err)}`);
      err = null;
      try {
        await ax.profile(async () => {
          await Promise.resolve();
          throw new Error('async failure');
        });
      } catch (e) {
        err = e;
      }
      ensure(err instanceof Error && err.message === 'async failure', c, `rejection passed through: ${String(err)}`);
      const p = ax.startProfile();
      err = null;
      try {
        ax.startProfile();
      } catch (e) {
        err = e;
      }
      p.stop();
      ensure(err instanceof ax.AxonError && /already running/.test(err.message), c, `nested profile: ${String(err)}`);
      ensure(Object.keys(b).sort().join(',') === own, c, 'the backend instance kept wrapped methods');
      // After the profile, work is not counted any more.
      const r = p.stop();
      const t = ax.ones([2]);
      ensure(r.kernels === p.stop().kernels, c, 'a stopped profile kept counting');
      t.dispose();
    });
  });
}
