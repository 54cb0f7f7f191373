/**
 * Issue 9, item 7: a model save is atomic as a whole. A save is stopped before each of its
 * filesystem steps — its promise never settles, so nothing after that step runs, exactly as if
 * the process had been killed there — and the target must then load as the previous model or the
 * new one, never a mix; the next save cleans up what the stopped one left.
 */
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Tensor, randn, setSeed } from '@axon/core';
import { Dense, type Model, type Module, loadModel, save, sequential, serializeModel } from '../src/index.js';
import { setIoHookForTests } from '../src/fsutil.js';
import { useTestBackend } from './helpers.js';

let dir = '';
beforeAll(async () => {
  await useTestBackend();
  dir = await mkdtemp(join(tmpdir(), 'axon-atomic-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => setIoHookForTests(null));

/** The bits of every tensor of a module's state, in name order. */
function signature(m: Module): string {
  const sd = m.stateDict();
  return Object.keys(sd)
    .sort()
    .map((k) => `${k}:${(sd[k] as Tensor).shape.join('x')}:${Array.from(new Uint32Array((sd[k]!.dataSync() as Float32Array).slice().buffer)).join(',')}`)
    .join('|');
}

/** The filesystem steps `fn` takes (names from the hook). */
async function stepsOf(fn: () => Promise<unknown>): Promise<string[]> {
  const steps: string[] = [];
  setIoHookForTests((s) => {
    steps.push(s);
  });
  try {
    await fn();
  } finally {
    setIoHookForTests(null);
  }
  return steps;
}

/**
 * Runs `fn` and stops it for good before its step `k` (as a kill there would). Resolves with the
 * step's name once stopped, or null if `fn` finished first.
 */
async function killBefore(k: number, fn: () => Promise<unknown>): Promise<string | null> {
  let n = 0;
  let stopped: (name: string) => void = () => undefined;
  const reached = new Promise<string>((r) => (stopped = r));
  setIoHookForTests((s) => {
    if (n++ !== k) return;
    stopped(s);
    return new Promise<void>(() => undefined); // never settles: nothing after this step happens
  });
  const finished = fn().then(
    () => null,
    (e: unknown) => {
      throw e;
    },
  );
  const at = await Promise.race([reached, finished]);
  setIoHookForTests(null);
  return at;
}

/** A step name without the temporary files' random suffix. */
const norm = (s: string | null): string | null => s && s.replace(/\.tmp-[\w-]+/g, '.tmp-*');

function models(): { before: Module; after: Module; third: Module } {
  setSeed(1);
  const before = sequential([new Dense(3, { inputShape: [2], activation: 'relu' }), new Dense(1)]);
  const after = sequential([new Dense(5, { inputShape: [2] }), new Dense(4, { activation: 'relu' }), new Dense(2)]);
  const third = sequential([new Dense(2, { inputShape: [2] })]);
  return { before, after, third };
}

async function writeOldLayout(p: string, m: Module): Promise<void> {
  const { json, weights } = await serializeModel(m);
  await mkdir(p, { recursive: true });
  await writeFile(join(p, 'model.safetensors'), weights);
  await writeFile(join(p, 'model.json'), JSON.stringify(json));
}

describe('save is atomic as a whole', () => {
  it.each([
    ['a model saved by save()', 'new'],
    ['a model in the old layout (model.json + model.safetensors)', 'old'],
  ])('killed before each filesystem step over %s: the target loads as the previous or the new model; the next save cleans up', async (_what, layout) => {
    const { before, after, third } = models();
    const sigBefore = signature(before);
    const sigAfter = signature(after);
    const sigThird = signature(third);
    const prepare = async (p: string): Promise<void> => {
      await rm(p, { recursive: true, force: true });
      if (layout === 'old') await writeOldLayout(p, before);
      else await save(before, p);
    };
    const probe = join(dir, `probe-${layout}`);
    await prepare(probe);
    const steps = await stepsOf(() => save(after, probe));
    expect(steps.length).toBeGreaterThanOrEqual(15);
    expect(steps.filter((s) => s.startsWith('rename')).length).toBe(2);
    expect(steps.filter((s) => s.startsWith('sync ')).length).toBe(2);
    expect(steps.filter((s) => s.startsWith('syncdir')).length).toBeGreaterThanOrEqual(3);
    let sawNew = false;
    for (let k = 0; k < steps.length; k++) {
      const p = join(dir, `kill-${layout}-${k}`);
      await prepare(p);
      const at = await killBefore(k, () => save(after, p));
      expect(norm(at), `step ${k}`).toBe(norm(steps[k]!));
      const loaded = await loadModel(p);
      const sig = signature(loaded);
      loaded.dispose();
      expect([sigBefore, sigAfter], `killed before '${at}'`).toContain(sig);
      if (sig === sigAfter) sawNew = true;
      else expect(sawNew, `back to the previous model after the new one was visible (step '${at}')`).toBe(false);
      // the manifest's rename is the switch
      const manifestRenamed = steps.slice(0, k).some((s) => s.endsWith('-> model.json'));
      expect(sig === sigAfter, `step '${at}'`).toBe(manifestRenamed);
      // a later complete save leaves exactly its two files
      await save(third, p);
      const files = (await readdir(p)).sort();
      expect(files, `after a save following a kill before '${at}'`).toEqual([expect.stringMatching(/^model-[0-9a-f]{16}\.safetensors$/), 'model.json']);
      const again = await loadModel(p);
      expect(signature(again)).toBe(sigThird);
      again.dispose();
    }
    expect(sawNew).toBe(true);
    before.dispose();
    after.dispose();
    third.dispose();
  });

  it('the manifest names the weights by content; re-saving identical weights keeps one file; superseded weights are removed', async () => {
    const { before, after } = models();
    const p = join(dir, 'content');
    await save(before, p);
    const j1 = JSON.parse(await readFile(join(p, 'model.json'), 'utf8')) as { weights: string };
    await save(before, p);
    const j2 = JSON.parse(await readFile(join(p, 'model.json'), 'utf8')) as { weights: string };
    expect(j2.weights).toBe(j1.weights);
    expect((await readdir(p)).sort()).toEqual([j1.weights, 'model.json']);
    await save(after, p);
    const j3 = JSON.parse(await readFile(join(p, 'model.json'), 'utf8')) as { weights: string };
    expect(j3.weights).not.toBe(j1.weights);
    expect((await readdir(p)).sort()).toEqual([j3.weights, 'model.json']);
    // a file path target: net.json + net-<hash>.safetensors beside it; other files are left alone
    await writeFile(join(p, 'notes.txt'), 'mine');
    await save(before, join(p, 'net.safetensors'));
    const names = (await readdir(p)).sort();
    expect(names).toEqual([j3.weights, 'model.json', expect.stringMatching(/^net-[0-9a-f]{16}\.safetensors$/), 'net.json', 'notes.txt']);
    const back = await loadModel(join(p, 'net.safetensors'));
    expect(signature(back)).toBe(signature(before));
    back.dispose();
    before.dispose();
    after.dispose();
  });

  it('a kill before any rename (fs.rename stopped, independently of the save code) never leaves a mix', async () => {
    // fs.promises.rename itself is replaced, so this also runs against a save without test hooks.
    const fsp = createRequire(import.meta.url)('node:fs').promises as { rename: (a: string, b: string) => Promise<void> };
    const realRename = fsp.rename;
    const { before, after } = models();
    const sigBefore = signature(before);
    const sigAfter = signature(after);
    try {
      let kills = 0;
      for (let k = 0; ; k++) {
        const p = join(dir, `rename-${k}`);
        await save(before, p);
        let calls = 0;
        let stopped: () => void = () => undefined;
        const reached = new Promise<'stopped'>((r) => (stopped = () => r('stopped')));
        fsp.rename = (a, b) => (calls++ === k ? (stopped(), new Promise<void>(() => undefined)) : realRename(a, b));
        syncBuiltinESMExports();
        const outcome = await Promise.race([reached, save(after, p).then(() => 'done' as const)]);
        fsp.rename = realRename;
        syncBuiltinESMExports();
        let sig = '';
        try {
          const m = await loadModel(p);
          sig = signature(m);
          m.dispose();
        } catch (e) {
          sig = `does not load: ${e instanceof Error ? e.message : String(e)}`;
        }
        expect([sigBefore, sigAfter], `stopped before rename ${k}`).toContain(sig);
        if (outcome === 'done') break;
        kills++;
      }
      expect(kills).toBeGreaterThanOrEqual(2);
    } finally {
      fsp.rename = realRename;
      syncBuiltinESMExports();
      before.dispose();
      after.dispose();
    }
  });

  it('killed before each filesystem step of a save with optimizer state: the weights and the optimizer state always come from the same save', async () => {
    /** A compiled, trained model: weights and Adam state differ between `seed`s. */
    const trained = async (seed: number): Promise<Model> => {
      setSeed(seed);
      const m = sequential([new Dense(3, { inputShape: [2], activation: 'relu' }), new Dense(1)]);
      m.compile({ optimizer: 'adam', loss: 'mse' });
      const x = randn([8, 2]);
      const y = randn([8, 1]);
      await m.fit(x, y, { epochs: 2, batchSize: 4, verbose: 0 });
      x.dispose();
      y.dispose();
      return m;
    };
    const state = (m: Model): string => {
      const sd = m.optimizer!.stateDict();
      const s = JSON.stringify(sd.meta) + Object.keys(sd.tensors).sort().map((k) => Array.from(sd.tensors[k]!.dataSync()).join(',')).join('|');
      for (const t of Object.values(sd.tensors)) t.dispose();
      return s;
    };
    const before = await trained(1);
    const after = await trained(2);
    const sigs = { before: signature(before) + state(before), after: signature(after) + state(after) };
    const probe = join(dir, 'opt-probe');
    await save(before, probe);
    const steps = await stepsOf(() => save(after, probe));
    expect(steps.filter((s) => s.startsWith('rename')).length).toBe(3);
    for (let k = 0; k < steps.length; k++) {
      const p = join(dir, `opt-kill-${k}`);
      await rm(p, { recursive: true, force: true });
      await save(before, p);
      const at = await killBefore(k, () => save(after, p));
      expect(norm(at), `step ${k}`).toBe(norm(steps[k]!));
      const loaded = await loadModel(p);
      const sig = signature(loaded) + state(loaded);
      loaded.dispose();
      const manifestRenamed = steps.slice(0, k).some((s) => s.endsWith('-> model.json'));
      expect(sig, `killed before '${at}'`).toBe(manifestRenamed ? sigs.after : sigs.before);
      // a later complete save leaves exactly its three files
      await save(before, p);
      expect((await readdir(p)).sort(), `after a save following a kill before '${at}'`).toEqual([
        expect.stringMatching(/^model-[0-9a-f]{16}\.optimizer\.safetensors$/),
        expect.stringMatching(/^model-[0-9a-f]{16}\.safetensors$/),
        'model.json',
      ]);
    }
    before.dispose();
    after.dispose();
  });
});
