import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';

// The suites' pure helpers, not the peers: keep TensorFlow.js out (see harness.test.ts).
vi.mock('../src/peers/tfjs.js', () => ({ tf: {}, tfLiveTensors: () => 0, useTfBackend: async () => undefined }));
import { measureRoundRobin, SkipError } from '../src/harness.js';
import { judgeProbe, lastJsonLine, MIN_MATMUL_GFLOPS, probeNote, probeTorch, PythonWorker, runPythonJson, TORCH_MISSING } from '../src/peers/torch.js';
import { goalNote, mlpCases } from '../src/suites/mlp.js';

// Stand-ins for the Python scripts: small Node programs that speak the same protocol, run with
// `python: process.execPath`. Nothing here times anything.
const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-torch-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
function script(name: string, body: string): string {
  const p = path.join(dir, name);
  writeFileSync(p, body);
  return p;
}
const node = { python: process.execPath };

describe('judgeProbe (the BLAS check)', () => {
  it('marks PyTorch invalid below the bound, naming libopenblas0-pthread', () => {
    const p = judgeProbe({ torch: '1.13.0a0', matmulGflops: 1.8 });
    expect(p.ok).toBe(false);
    if (p.ok) return;
    expect(p.skipped).toMatch(/^invalid: reference BLAS \(1\.8 GFLOP\/s/);
    expect(p.skipped).toContain('libopenblas0-pthread');
    expect(p.why).toContain('libopenblas0-pthread');
    expect(p.why).toContain('BLAS_INFO=generic');
    expect(p.gflops).toBe(1.8);
  });
  it('accepts an optimized BLAS, from the bound up', () => {
    expect(judgeProbe({ torch: '1.13.0a0', matmulGflops: 29.1 })).toEqual({ ok: true, version: '1.13.0a0', gflops: 29.1 });
    expect(judgeProbe({ torch: '2', matmulGflops: MIN_MATMUL_GFLOPS }).ok).toBe(true);
    expect(judgeProbe({ torch: '2', matmulGflops: MIN_MATMUL_GFLOPS - 0.01 }).ok).toBe(false);
  });
  it('refuses a line without the measurement', () => {
    expect(() => judgeProbe({ torch: '2' })).toThrow(/expected a number "matmulGflops", got undefined/);
    expect(() => judgeProbe({ torch: '2', matmulGflops: 'fast' })).toThrow(/"matmulGflops"/);
  });
  it('reports the figure in the suite notes either way', () => {
    expect(probeNote({ ok: true, version: '2', gflops: 29.14 })).toContain('29.1 GFLOP/s (≥ 8: an optimized BLAS');
    expect(probeNote(judgeProbe({ matmulGflops: 2 }))).toContain('2.0 GFLOP/s (< 8: the reference BLAS, so the PyTorch cell is marked invalid');
    expect(probeNote({ ok: false, skipped: TORCH_MISSING })).toBeUndefined();
  });
});

describe('lastJsonLine', () => {
  it('takes the last line that is a JSON object, past what a library printed', () => {
    expect(lastJsonLine('warming up\n{"a": 1}\n{"b": 2}\n[3]\nbye\n')).toEqual({ b: 2 });
  });
  it('names the last line when there is no JSON line', () => {
    expect(() => lastJsonLine('Segmentation fault\n')).toThrow(/no JSON line.*last line: Segmentation fault/);
    expect(() => lastJsonLine('')).toThrow(/printed nothing/);
  });
});

describe('probeTorch', () => {
  it('skips as not installed when the interpreter is missing or torch cannot be imported', () => {
    expect(probeTorch({ python: path.join(dir, 'no-such-python') })).toMatchObject({ ok: false, skipped: TORCH_MISSING });
    const noTorch = script('no-torch.mjs', `process.stderr.write("Traceback (most recent call last):\\nModuleNotFoundError: No module named 'torch'\\n"); process.exit(1);`);
    expect(probeTorch({ ...node, script: noTorch })).toEqual({ ok: false, skipped: TORCH_MISSING, why: "ModuleNotFoundError: No module named 'torch'" });
  });
  it('runs the probe on one thread and judges its figure', () => {
    const slow = script('slow.mjs', `console.log(JSON.stringify({ torch: '1.13.0a0', matmulGflops: 1.7, threads: Number(process.env.OPENBLAS_NUM_THREADS) * Number(process.env.OMP_NUM_THREADS) }));`);
    const p = probeTorch({ ...node, script: slow });
    expect(p).toMatchObject({ ok: false, gflops: 1.7 });
    expect(!p.ok && p.skipped).toContain('libopenblas0-pthread');
    const fast = script('fast.mjs', `console.log(JSON.stringify({ torch: '1.13.0a0', matmulGflops: 31, threads: 1 }));`);
    expect(probeTorch({ ...node, script: fast })).toEqual({ ok: true, version: '1.13.0a0', gflops: 31 });
  });
  it('gives another failure as failed, with its last line', () => {
    const broken = script('broken.mjs', `process.stderr.write("Traceback:\\nRuntimeError: bad CPU\\n\\n"); process.exit(2);`);
    expect(probeTorch({ ...node, script: broken })).toEqual({ ok: false, skipped: 'failed', why: 'the BLAS probe failed: RuntimeError: bad CPU' });
  });
  it('passes the one-thread environment to the scripts', () => {
    const env = script('env.mjs', `console.log(JSON.stringify({ omp: process.env.OMP_NUM_THREADS, blas: process.env.OPENBLAS_NUM_THREADS, args: process.argv.slice(2) }));`);
    expect(runPythonJson(env, ['a', 'b'], node)).toEqual({ ok: true, out: { omp: '1', blas: '1', args: ['a', 'b'] } });
  });
});

const WORKER = `
import { createInterface } from 'node:readline';
console.log('loading (not a reply)');
console.log(JSON.stringify({ ready: true, n: Number(process.argv[2]), batch: Number(process.argv[3]) }));
let epochs = 0;
createInterface({ input: process.stdin }).on('line', (cmd) => {
  if (cmd === 'epoch') console.log(JSON.stringify({ seconds: 0.25 + epochs++, loss: 1 }));
  else if (cmd === 'noisy') { console.log('a library prints'); console.log(JSON.stringify({ ok: true })); }
  else if (cmd === 'die') { process.stderr.write('Traceback:\\nMemoryError: out of memory\\n'); process.exit(3); }
  else { console.log(JSON.stringify({ error: 'ValueError: unknown command ' + JSON.stringify(cmd) })); process.exit(1); }
});
`;

describe('PythonWorker', () => {
  it('starts on the ready line and answers one JSON line per command, skipping other output', async () => {
    const w = await PythonWorker.start(script('worker.mjs', WORKER), ['8000', '32'], node);
    try {
      expect(w.hello).toEqual({ ready: true, n: 8000, batch: 32 });
      expect(await w.request('epoch')).toEqual({ seconds: 0.25, loss: 1 });
      expect(await w.request('noisy')).toEqual({ ok: true });
      expect((await w.request('epoch')).seconds).toBe(1.25);
    } finally {
      w.close();
    }
  });
  it('fails a request with the error line the script printed', async () => {
    const w = await PythonWorker.start(script('worker.mjs', WORKER), ['1', '1'], node);
    await expect(w.request('bogus')).rejects.toThrow('worker.mjs: ValueError: unknown command "bogus"');
    await expect(w.request('epoch')).rejects.toThrow('worker.mjs: not running (ValueError: unknown command "bogus")');
  });
  it('fails a request with the last stderr line when the script dies', async () => {
    const w = await PythonWorker.start(script('worker.mjs', WORKER), ['1', '1'], node);
    await expect(w.request('die')).rejects.toThrow('worker.mjs: MemoryError: out of memory');
  });
  it('refuses a second command before the reply, and a script that does not say it is ready', async () => {
    const w = await PythonWorker.start(script('worker.mjs', WORKER), ['1', '1'], node);
    const first = w.request('epoch');
    await expect(w.request('epoch')).rejects.toThrow(/before the previous reply/);
    await first;
    w.close();
    const mute = script('mute.mjs', `console.log(JSON.stringify({ hello: 1 }));`);
    await expect(PythonWorker.start(mute, [], node)).rejects.toThrow(/expected a ready line first/);
    const crash = script('crash.mjs', `process.stderr.write("ModuleNotFoundError: No module named 'torch'\\n"); process.exit(1);`);
    await expect(PythonWorker.start(crash, [], node)).rejects.toThrow("crash.mjs: ModuleNotFoundError: No module named 'torch'");
  });
  it('kills a script that does not answer in time', async () => {
    const hang = script('hang.mjs', `console.log(JSON.stringify({ ready: true })); setInterval(() => {}, 1000);`);
    const w = await PythonWorker.start(hang, [], { ...node, timeoutMs: 300 });
    await expect(w.request('epoch')).rejects.toThrow(/no reply to 'epoch' within 0.3 s; killed/);
    w.close();
  });
});

describe('measureRoundRobin with a self-timed contender', () => {
  it("takes the seconds the operation reports (another process's clock), and drops one that reports none", async () => {
    const errors: string[] = [];
    let t = 0;
    const m = await measureRoundRobin(
      [
        { id: 'torch', op: async () => 0.5 + t++, selfTimed: true },
        { id: 'bad', op: async () => undefined, selfTimed: true },
      ],
      { warmup: 1, runs: 3 },
      (id, e) => errors.push(`${id}: ${(e as Error).message}`),
    );
    expect(m.get('torch')!.samples).toEqual([1.5, 2.5, 3.5]);
    expect(m.get('torch')!.median).toBe(2.5);
    expect(m.has('bad')).toBe(false);
    expect(errors).toEqual(['bad: bad: a self-timed operation must resolve to its seconds, got undefined']);
  });
});

describe('SkipError', () => {
  it('carries the reason for the table cell apart from the message', () => {
    const e = new SkipError('invalid: reference BLAS', 'long explanation');
    expect(e.cell).toBe('invalid: reference BLAS');
    expect(e.message).toBe('long explanation');
    expect(e).toBeInstanceOf(Error);
  });
});

describe('mlpCases', () => {
  it('defaults to 8000 digits at batch 128', () => {
    expect(mlpCases()).toEqual([{ digits: 8000, batch: 128 }]);
  });
  it('pairs --sizes with --batch in order, a single value going with every other', () => {
    expect(mlpCases([60000, 8000], [32, 128])).toEqual([{ digits: 60000, batch: 32 }, { digits: 8000, batch: 128 }]);
    expect(mlpCases([60000], [32, 128])).toEqual([{ digits: 60000, batch: 32 }, { digits: 60000, batch: 128 }]);
    expect(mlpCases([1000, 2000])).toEqual([{ digits: 1000, batch: 128 }, { digits: 2000, batch: 128 }]);
  });
  it('refuses lists of different lengths', () => {
    expect(() => mlpCases([1, 2, 3], [32, 128])).toThrow('got 3 sizes (1,2,3) and 2 batch sizes (32,128)');
  });
});

describe('goalNote', () => {
  const m = (median: number) => ({ samples: [median], median, min: median, reps: 1 });
  it('judges batch 32 on 60k against "no slower than PyTorch"', () => {
    expect(goalNote({ digits: 60000, batch: 32 }, m(2), m(2.5))).toContain('takes 0.80× PyTorch\'s (2.000 s vs 2.500 s, medians): goal met.');
    expect(goalNote({ digits: 60000, batch: 32 }, m(3), m(2))).toContain('takes 1.50× PyTorch\'s (3.000 s vs 2.000 s, medians): goal **not met** (1.50× over the bound)');
  });
  it('judges batch 128 on 8k against "within 1.3×"', () => {
    expect(goalNote({ digits: 8000, batch: 128 }, m(1.2), m(1))).toMatch(/within 1\.3× of PyTorch's.*1\.20×.*goal met/);
    expect(goalNote({ digits: 8000, batch: 128 }, m(1.4), m(1))).toMatch(/goal \*\*not met\*\* \(1\.08× over the bound\)/);
  });
  it('says nothing for rows without a target or without both figures', () => {
    expect(goalNote({ digits: 8000, batch: 32 }, m(1), m(1))).toBeUndefined();
    expect(goalNote({ digits: 8000, batch: 128 }, m(1), { skipped: 'invalid: reference BLAS' })).toBeUndefined();
    expect(goalNote({ digits: 8000, batch: 128 }, undefined, m(1))).toBeUndefined();
  });
});
