import { beforeAll, describe, expect, it } from 'vitest';
import { memory, setBackend } from '@axon/core';
import '@axon/backend-wasm';
import { runS1 } from '../src/examples/s1.js';
import { runS3 } from '../src/examples/s3.js';
import { runS4 } from '../src/examples/s4.js';

const quiet = (): void => undefined;

beforeAll(async () => {
  await setBackend('wasm');
});

describe('seed scenarios', () => {
  it('S1: loss falls monotonically and the gradient equals the seed formula', async () => {
    const before = memory().numTensors;
    const { losses, gradW } = await runS1(quiet);
    expect(losses.length).toBe(1000);
    for (let i = 1; i < losses.length; i++) expect(losses[i]!, `step ${i}`).toBeLessThan(losses[i - 1]!);
    // float32 precision: |autograd - formula| <= 1e-6 relative
    gradW.autograd.forEach((g, i) => expect(Math.abs(g - gradW.formula[i]!)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(gradW.formula[i]!))));
    expect(memory().numTensors).toBe(before);
  });

  it('S3: held-out MSE falls well below the target variance; one prediction per row', async () => {
    const r = await runS3(quiet);
    expect(r.predictions).toBe(2000);
    expect(r.heldOutMse).toBeLessThan(0.2 * r.targetVariance);
  });

  it('S4: the loss falls every step and the output approaches 2', async () => {
    const before = memory().numTensors;
    const { losses, outputs } = await runS4(quiet);
    for (let i = 1; i < losses.length; i++) expect(losses[i]!, `step ${i}`).toBeLessThan(losses[i - 1]!);
    expect(Math.abs(outputs[outputs.length - 1]! - 2)).toBeLessThan(Math.abs(outputs[0]! - 2));
    expect(losses[losses.length - 1]!).toBeLessThan(losses[0]! * 0.5);
    expect(memory().numTensors).toBe(before);
  });
});
