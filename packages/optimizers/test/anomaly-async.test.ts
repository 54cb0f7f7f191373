/**
 * Anomaly detection in step() on an asynchronous backend (issue 9, item 5): the WASM backend seen
 * as one that cannot read synchronously, like WebGPU. The step reads nothing back; a non-finite
 * gradient leaves every parameter and all state unchanged on the device (`where(flag, new, old)`),
 * `await checkAnomalies()` names the parameter, and the host's step counts are rolled back.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AxonError, type Tensor, checkAnomalies, getBackend, memory, setAnomalyDetection } from '@axon/core';
import { Adam, type Optimizer, SGD } from '../src/index.js';
import { OPTIMIZERS } from './anomaly-makers.js';
import { SEED, param, rng, setGrad, useAsyncTestBackend } from './helpers.js';

beforeAll(async () => {
  await useAsyncTestBackend();
  expect(getBackend().supportsSyncRead).toBe(false);
});
afterEach(async () => {
  await checkAnomalies().catch(() => undefined);
  setAnomalyDetection(false);
});

const SHAPES = [[2, 3], [3], [2]];

async function read(t: Tensor): Promise<number[]> {
  return Array.from(await t.data());
}

/** Step counts and state values, read asynchronously (disposes the dict it reads). */
async function snapshot(opt: Optimizer): Promise<{ steps: number[]; keys: Record<string, readonly string[]>; state: Record<string, number[]> }> {
  const sd = opt.stateDict();
  const state: Record<string, number[]> = {};
  for (const [k, t] of Object.entries(sd.tensors)) state[k] = await read(t);
  for (const t of Object.values(sd.tensors)) t.dispose();
  const keys = Object.fromEntries(Object.entries(sd.meta.state).map(([k, v]) => [k, v.keys]));
  return { steps: opt.params.map((p) => opt.stepCount(p)), keys, state };
}

/** Counts backend reads while `fn` runs. */
function countReads(fn: () => void): number {
  const backend = getBackend() as unknown as Record<string, unknown>;
  const own = Object.getOwnPropertyDescriptor(backend, 'read');
  const orig = backend['read'];
  let reads = 0;
  backend['read'] = (...args: unknown[]) => {
    reads++;
    return (orig as (...a: unknown[]) => unknown)(...args);
  };
  try {
    fn();
  } finally {
    if (own) Object.defineProperty(backend, 'read', own);
    else delete backend['read'];
  }
  return reads;
}

function dispose(...xs: (Tensor | Optimizer)[]): void {
  for (const x of xs) {
    if ('grad' in x && x.grad) {
      x.grad.dispose();
      x.grad = null;
    }
    x.dispose();
  }
}

describe('step() with anomaly detection on (asynchronous backend: guarded on the device)', () => {
  for (const [name, make] of Object.entries(OPTIMIZERS)) {
    it(`${name}: a non-finite gradient changes nothing, checkAnomalies() names the parameter, training continues as if it never came`, async () => {
      const r = rng(SEED + 31);
      const init = SHAPES.map((s) => r.normal(s.reduce((a, b) => a * b, 1)));
      const ps = init.map((v, i) => param(v, SHAPES[i]!, `p${i}`));
      const ref = init.map((v, i) => param(v, SHAPES[i]!, `p${i}`));
      const grads = () => SHAPES.map((s) => r.normal(s.reduce((a, b) => a * b, 1)));
      const opt = make(ps);
      const refOpt = make(ref);
      setAnomalyDetection(true);
      const g1 = grads();
      ps.forEach((p, i) => setGrad(p, g1[i]!));
      ref.forEach((p, i) => setGrad(p, g1[i]!));
      opt.step();
      refOpt.step();
      await checkAnomalies();
      const mem = memory();
      for (const bad of [Number.NaN, Infinity, -Infinity]) {
        const gs = grads();
        gs[1]![2] = bad;
        ps.forEach((p, i) => setGrad(p, gs[i]!));
        const before = { params: await Promise.all(ps.map(read)), ...(await snapshot(opt)) };
        expect(countReads(() => opt.step())).toBe(1); // only the flag's read, started and not awaited
        await expect(checkAnomalies()).rejects.toThrow(/step: the gradient of parameter 'p1' \(index 1, \[3\]\) is non-finite/);
        expect({ params: await Promise.all(ps.map(read)), ...(await snapshot(opt)) }).toEqual(before);
      }
      // the grads set in the loop are replaced below: compare memory after they are
      for (let t = 0; t < 2; t++) {
        const g = grads();
        ps.forEach((p, i) => setGrad(p, g[i]!));
        ref.forEach((p, i) => setGrad(p, g[i]!));
        opt.step();
        refOpt.step();
        await checkAnomalies();
      }
      expect(memory().numTensors).toBe(mem.numTensors);
      expect(memory().numBytes).toBe(mem.numBytes);
      for (let i = 0; i < ps.length; i++) expect(await read(ps[i]!)).toEqual(await read(ref[i]!));
      expect(await snapshot(opt)).toEqual(await snapshot(refOpt));
      dispose(opt, refOpt, ...ps, ...ref);
    });
  }

  it('steps taken before the report is read are skipped too, then rolled back with it (first states dropped)', async () => {
    const a = param([1, 2], [2], 'a');
    const b = param([3], [1], 'b');
    const opt = new Adam([a, b], { lr: 0.1 });
    setAnomalyDetection(true);
    const mem = memory();
    setGrad(a, [Number.NaN, 1]); // a's first update, refused
    opt.step();
    a.grad!.dispose();
    a.grad = null;
    setGrad(b, [1]); // b's first update, finite, but after a refused step: skipped as well
    opt.step();
    opt.step();
    let err: unknown;
    try {
      await checkAnomalies();
    } catch (e) {
      err = e;
    }
    // rolled back by the time checkAnomalies() rejects (the flag's read was queued before its reads)
    expect(opt.stepCount(a)).toBe(0);
    expect(opt.stepCount(b)).toBe(0);
    expect(String(err)).toMatch(/the gradient of parameter 'a' \(index 0, \[2\]\)/);
    expect(await read(a)).toEqual([1, 2]);
    expect(await read(b)).toEqual([3]);
    const sd = opt.stateDict();
    expect(sd.tensors).toEqual({});
    // the optimizer works again: b's step is applied now
    opt.step();
    await checkAnomalies();
    expect(opt.stepCount(b)).toBe(1);
    expect((await read(b))[0]).toBeCloseTo(2.9, 6);
    b.grad!.dispose();
    b.grad = null;
    opt.dispose();
    expect(memory().numTensors).toBe(mem.numTensors);
    dispose(a, b);
  });

  it('with detection off nothing is read back and a NaN gradient is applied', async () => {
    const p = param([1, 2], [2], 'w');
    const opt = new SGD([p], { lr: 0.1 });
    setGrad(p, [Number.NaN, 1]);
    expect(countReads(() => opt.step())).toBe(0);
    expect(Number.isNaN((await read(p))[0]!)).toBe(true);
    dispose(opt, p);
  });

  it('loadStateDict drops pending guards (their rollback would no longer apply)', async () => {
    const p = param([1, 2], [2], 'w');
    const opt = new SGD([p], { lr: 0.1, momentum: 0.9 });
    setGrad(p, [1, 1]);
    opt.step();
    const sd = opt.stateDict();
    setAnomalyDetection(true);
    setGrad(p, [Number.NaN, 1]);
    opt.step(); // refused on the device; its read is pending
    opt.loadStateDict(sd);
    for (const t of Object.values(sd.tensors)) t.dispose();
    await expect(checkAnomalies()).rejects.toThrow(AxonError);
    expect(opt.stepCount(p)).toBe(1); // as loaded, not rolled back from the pending step
    dispose(opt, p);
  });
});
