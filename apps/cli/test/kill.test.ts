// kill -9 during saves and checkpoints (issue 9): `axon train` (the built CLI, a real child
// process) is killed with SIGKILL inside filesystem steps of its checkpoints and of its final save
// — at 25+ moments, each while the process pauses in that step (AXON_TEST_IO_TRACE names every step
// on stderr, AXON_TEST_IO_DELAY_MS slows them to hit the window). Every time, the output folder
// holds the previous model or the new one, never a mix, and the latest checkpoint loads; `--resume`
// then finishes with weights bit-identical to an uninterrupted run.
import { spawn, spawnSync } from 'node:child_process';
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setBackend, setSeed } from '@axon/core';
import '@axon/backend-wasm';
import { latestCheckpoint, loadModel, mnistMlp, save } from '@axon/layers';

const cli = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const args = ['train', '--limit', '640', '--epochs', '3', '--batch-size', '64', '--seed', '5', '--backend', 'wasm', '--checkpoint-every', '4', '--no-progress'];
const dir = await mkdtemp(join(tmpdir(), 'axon-kill-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

async function weights(path: string): Promise<Buffer[]> {
  const m = await loadModel(path);
  try {
    return await Promise.all(m.parameters().map(async (p) => Buffer.from(((await p.data()) as Float32Array).buffer)));
  } finally {
    m.dispose();
  }
}
const same = (a: Buffer[], b: Buffer[]): boolean => a.length === b.length && a.every((x, i) => x.equals(b[i]!));

function runToEnd(extra: string[], env: Record<string, string> = {}): { stderr: string; stdout: string } {
  const r = spawnSync(process.execPath, [cli, ...args, ...extra], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 });
  if (r.status !== 0) throw new Error(`axon ${[...args, ...extra].join(' ')} exited ${r.status}: ${r.stderr}`);
  return { stderr: r.stderr, stdout: r.stdout };
}

/** Starts a traced run and SIGKILLs it when it announces its `k`-th filesystem step. */
function killAtStep(extra: string[], k: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args, ...extra], { env: { ...process.env, AXON_TEST_IO_TRACE: '1', AXON_TEST_IO_DELAY_MS: '25' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let seen = 0;
    let buf = '';
    let at = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      buf += chunk;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.startsWith('axon-io ') && ++seen === k && !at) {
          at = line.slice('axon-io '.length);
          child.kill('SIGKILL');
        }
      }
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve(at);
      else reject(new Error(`the run ended (${code}) before its step ${k}; it announced ${seen} steps`));
    });
  });
}

let reference: Buffer[] = [];
let previous: Buffer[] = [];
let steps = 0;
/** The step at which the final save begins (after the last checkpoint's index rename). */
let saveStart = 0;

beforeAll(async () => {
  // The model the output folder holds before each run: a different one, saved the same way.
  await setBackend('wasm');
  setSeed(123);
  const old = mnistMlp();
  await save(old, join(dir, 'previous'));
  old.dispose();
  previous = await weights(join(dir, 'previous'));
  // The uninterrupted run, traced, to count its filesystem steps.
  const r = runToEnd(['--output', join(dir, 'reference'), '--checkpoint-dir', join(dir, 'reference.ckpt')], { AXON_TEST_IO_TRACE: '1' });
  const trace = r.stderr.split('\n').filter((l) => l.startsWith('axon-io '));
  steps = trace.length;
  let lastIndexRename = -1;
  trace.forEach((l, i) => {
    if (/-> checkpoint\.json$/.test(l)) lastIndexRename = i;
  });
  saveStart = lastIndexRename + 2;
  reference = await weights(join(dir, 'reference'));
}, 180_000);

describe('kill -9 during saves and checkpoints', () => {
  it('at 25+ moments, the output is the previous or the new model and --resume finishes bit-identical', async () => {
    expect(steps).toBeGreaterThan(60);
    expect(steps - saveStart).toBeGreaterThanOrEqual(15);
    // 10 moments spread over the checkpoint writes (after the two write probes), and every step of
    // the final save.
    const first = 13;
    const moments = [...Array.from({ length: 10 }, (_, i) => first + Math.round((i * (saveStart - 1 - first)) / 9)), ...Array.from({ length: steps - saveStart + 1 }, (_, i) => saveStart + i)];
    const outcomes: string[] = [];
    for (const [i, k] of moments.entries()) {
      const out = join(dir, `out-${i}`);
      const ckpt = join(dir, `ckpt-${i}`);
      await cp(join(dir, 'previous'), out, { recursive: true });
      const at = await killAtStep(['--output', out, '--checkpoint-dir', ckpt], k);
      // The output folder: the previous model or the new one, whole.
      const now = await weights(out);
      const which = same(now, previous) ? 'previous' : same(now, reference) ? 'new' : 'MIXED';
      expect(which, `killed before step ${k} (${at}): the output folder holds neither model whole`).not.toBe('MIXED');
      // The latest checkpoint (if one was written) is complete.
      const latest = await latestCheckpoint(ckpt).catch((e: unknown) => e);
      expect(latest instanceof Error, `killed before step ${k} (${at}): the checkpoint folder is unreadable: ${String(latest)}`).toBe(false);
      // Resume to the end: bit-identical to the uninterrupted run.
      runToEnd(['--output', out, '--checkpoint-dir', ckpt, '--resume']);
      expect(same(await weights(out), reference), `killed before step ${k} (${at}), resumed: weights differ from the uninterrupted run`).toBe(true);
      const leftovers = (await readdir(out)).filter((f) => f.includes('.tmp-'));
      expect(leftovers, `temporary files left in the output after the resumed save`).toEqual([]);
      outcomes.push(`step ${k} (${at.split(' ')[0]}): output ${which}, resumed from ${latest ? `epoch ${(latest as { epoch: number }).epoch + 1} batch ${(latest as { step: number }).step}` : 'the start'}`);
    }
    console.log(`kill test: ${moments.length} SIGKILLs over ${steps} filesystem steps\n  ${outcomes.join('\n  ')}`);
    expect(new Set(outcomes.map((o) => o.split(':')[1]!.trim())).size).toBeGreaterThan(1);
  }, 600_000);
});
