/**
 * The GPT training-equivalence check against PyTorch 1.13 (fixtures/torch-gpt.json and
 * torch-gpt.safetensors from fixtures/gen_torch_gpt.py), run by gpt-torch.test.ts on WASM and by
 * attention-webgpu.test.ts on WebGPU.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { type Tensor, memory, tensor, tidy } from '@axon/core';
import { AdamW, clipGradNorm } from '@axon/optimizers';
import { crossEntropy, decodeWeights, gpt } from '../src/index.js';

interface GptFixture {
  config: { vocabSize: number; contextLength: number; width: number; heads: number; layers: number; batch: number };
  optimizer: { lr: number; betas: [number, number]; eps: number; weightDecay: number; clipNorm: number };
  batches: number[][][];
  losses: number[];
  firstLogits: number[];
  firstGrads: Record<string, number[]>;
  names: string[];
}

const here = new URL('./fixtures/', import.meta.url);
export const GPT_FIXTURE = JSON.parse(readFileSync(new URL('torch-gpt.json', here), 'utf8')) as GptFixture;
const WEIGHTS = new Uint8Array(readFileSync(new URL('torch-gpt.safetensors', here)));

/** Asserts |got − want| ≤ atol + rtol·|want| elementwise (PyTorch's allclose). */
export function allClose(got: ArrayLike<number>, want: ArrayLike<number>, rtol: number, atol: number, what: string): void {
  expect(got.length, `${what} length`).toBe(want.length);
  let worst = -1;
  let ratio = 0;
  for (let i = 0; i < got.length; i++) {
    const d = Math.abs(got[i]! - want[i]!);
    const r = d === 0 ? 0 : d / (atol + rtol * Math.abs(want[i]!));
    if (!(r <= ratio)) {
      ratio = r;
      worst = i;
    }
  }
  if (!(ratio <= 1)) expect.fail(`${what}[${worst}]: got ${got[worst]}, want ${want[worst]} (${ratio.toFixed(2)}× the tolerance atol ${atol} + rtol ${rtol}·|want|)`);
}

/** The GPT with PyTorch's initial weights. */
export async function torchGpt(): Promise<ReturnType<typeof gpt>> {
  const { vocabSize, contextLength, width, heads, layers } = GPT_FIXTURE.config;
  const m = gpt({ vocabSize, contextLength, width, heads, layers });
  decodeWeights(m, WEIGHTS);
  return m;
}

/** Inputs and next-token targets of batch k. */
function batch(k: number): [Tensor, Tensor] {
  const seqs = GPT_FIXTURE.batches[k]!;
  const B = seqs.length;
  const T = seqs[0]!.length - 1;
  const x = tensor(Int32Array.from(seqs.flatMap((s) => s.slice(0, -1))), [B, T], 'int32');
  const y = tensor(Int32Array.from(seqs.flatMap((s) => s.slice(1))), [B * T], 'int32');
  return [x, y];
}

/** First logits, first gradients and the 50-step loss curve, as the brief asks. */
export async function checkGptAgainstTorch(steps = GPT_FIXTURE.losses.length): Promise<void> {
  const V = GPT_FIXTURE.config.vocabSize;
  const m = await torchGpt();
  expect(m.namedParameters().map(([n]) => n)).toEqual(GPT_FIXTURE.names);
  const o = GPT_FIXTURE.optimizer;
  const opt = new AdamW(m.parameters(), { lr: o.lr, betas: o.betas, eps: o.eps, weightDecay: o.weightDecay });
  const before = memory().numTensors;
  const losses: number[] = [];
  for (let step = 0; step < steps; step++) {
    const [x, y] = batch(step);
    const [lossT, logits] = tidy(() => {
      const logits = m.forward(x);
      const loss = crossEntropy(logits.reshape([-1, V]), y);
      loss.backward();
      return [loss.detach(), logits.detach()];
    });
    if (step === 0) allClose((await logits.data()) as Float32Array, GPT_FIXTURE.firstLogits, 1e-4, 1e-5, 'first logits');
    logits.dispose();
    x.dispose();
    y.dispose();
    if (step === 0) {
      for (const [n, p] of m.namedParameters()) allClose((await p.grad!.data()) as Float32Array, GPT_FIXTURE.firstGrads[n]!, 1e-4, 1e-5, `grad ${n}`);
    }
    tidy(() => void clipGradNorm(m.parameters(), o.clipNorm));
    opt.step();
    opt.zeroGrad();
    losses.push(((await lossT.data()) as Float32Array)[0]!);
    lossT.dispose();
  }
  for (let i = 0; i < steps; i++) {
    const want = GPT_FIXTURE.losses[i]!;
    if (!(Math.abs(losses[i]! - want) <= 1e-3 * Math.abs(want))) expect.fail(`step ${i}: loss ${losses[i]}, PyTorch ${want} (more than 1e-3 relative apart); curve so far ${losses.slice(0, i + 1).map((l) => l.toFixed(5)).join(' ')}`);
  }
  expect(memory().numTensors - before, 'tensors left by the training loop (beyond the optimizer state)').toBeLessThanOrEqual(2 * m.parameters().length);
  opt.dispose?.();
  m.dispose();
}
