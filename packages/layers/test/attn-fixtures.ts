/**
 * The PyTorch 1.13 attention fixtures (fixtures/torch-attn.json from fixtures/gen_torch_attn.py):
 * one check per case, run on WASM by attention.test.ts and on WebGPU by attention-webgpu.test.ts.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { type Tensor, memory, tensor, tidy } from '@axon/core';
import { type Module, MultiheadAttention, TransformerDecoderLayer, TransformerEncoderLayer } from '../src/index.js';
import { allClose } from './gpt-check.js';

interface Enc {
  dtype: 'bool' | 'float32';
  shape: number[];
  data: (number | boolean | null)[];
}

export interface AttnCase {
  kind: 'mha' | 'encoder' | 'decoder';
  name: string;
  ctor: Record<string, unknown>;
  forward?: Record<string, boolean>;
  same?: boolean;
  state: Record<string, Enc>;
  inputs: Record<string, Enc | null>;
  out: Enc;
  weights: Enc | null;
  r: number[];
  rw: number[] | null;
  grads: Record<string, number[]>;
}

export const ATTN_CASES = (JSON.parse(readFileSync(new URL('./fixtures/torch-attn.json', import.meta.url), 'utf8')) as { cases: AttnCase[] }).cases;

function dec(e: Enc): Tensor {
  if (e.dtype === 'bool') return tensor(e.data as boolean[], e.shape, 'bool');
  return tensor(Float32Array.from(e.data, (v) => (v === null ? -Infinity : (v as number))), e.shape);
}

const RTOL = 1e-4;
const ATOL = 1e-5;

function build(c: AttnCase): Module<unknown> {
  const k = c.ctor;
  if (c.kind === 'mha') {
    return new MultiheadAttention(8, 2, {
      ...(k['batch_first'] !== undefined ? { batchFirst: k['batch_first'] as boolean } : {}),
      ...(k['kdim'] !== undefined ? { kdim: k['kdim'] as number } : {}),
      ...(k['vdim'] !== undefined ? { vdim: k['vdim'] as number } : {}),
      ...(k['bias'] !== undefined ? { bias: k['bias'] as boolean } : {}),
    });
  }
  const opts = { dimFeedforward: k['dim_feedforward'] as number, dropout: k['dropout'] as number, activation: k['activation'] as 'relu', batchFirst: k['batch_first'] as boolean, normFirst: k['norm_first'] as boolean };
  return c.kind === 'encoder' ? new TransformerEncoderLayer(8, 2, opts) : new TransformerDecoderLayer(8, 2, opts);
}

/** Loads the case's state dict, runs forward and backward, compares everything, checks no tensor is left. */
export async function checkAttnCase(c: AttnCase): Promise<void> {
  const before = memory().numTensors;
  const m = build(c);
  const sd = Object.fromEntries(Object.entries(c.state).map(([n, e]) => [n, dec(e)]));
  m.loadStateDict(sd);
  for (const t of Object.values(sd)) t.dispose();
  const inputs: Record<string, Tensor> = {};
  for (const [n, e] of Object.entries(c.inputs)) {
    if (e === null) continue;
    const t = dec(e);
    inputs[n] = e.dtype === 'float32' && !/mask$/i.test(n) ? t.requireGrad() : t;
  }
  const res = tidy(() => {
    let out: Tensor;
    let w: Tensor | null = null;
    const i = inputs;
    if (c.kind === 'mha') {
      const q = i['query']!;
      const f = c.forward!;
      [out, w] = (m as MultiheadAttention).forward(q, c.same ? q : i['key']!, c.same ? q : i['value']!, {
        attnMask: i['attnMask'] ?? null,
        keyPaddingMask: i['keyPaddingMask'] ?? null,
        needWeights: f['need_weights'] ?? true,
        ...(f['average_attn_weights'] !== undefined ? { averageAttnWeights: f['average_attn_weights'] } : {}),
      });
    } else if (c.kind === 'encoder') {
      out = (m as TransformerEncoderLayer).forward(i['src']!, { srcMask: i['srcMask'] ?? null, srcKeyPaddingMask: i['srcKeyPaddingMask'] ?? null });
    } else {
      out = (m as TransformerDecoderLayer).forward(i['tgt']!, i['memory']!, {
        tgtMask: i['tgtMask'] ?? null,
        memoryMask: i['memoryMask'] ?? null,
        tgtKeyPaddingMask: i['tgtKeyPaddingMask'] ?? null,
        memoryKeyPaddingMask: i['memoryKeyPaddingMask'] ?? null,
      });
    }
    let loss = out.mul(tensor(c.r, out.shape)).sum();
    if (w !== null && c.weights !== null) loss = loss.add(w.mul(tensor(c.rw!, w.shape)).sum());
    loss.backward();
    return { out: out.detach(), w: w === null ? null : w.detach() };
  });
  expect(res.out.shape, `${c.name}: output shape`).toEqual(c.out.shape);
  allClose((await res.out.data()) as Float32Array, c.out.data as number[], RTOL, ATOL, `${c.name}: output`);
  if (c.weights === null) expect(res.w, `${c.name}: weights`).toBeNull();
  else {
    expect(res.w!.shape, `${c.name}: weights shape`).toEqual(c.weights.shape);
    allClose((await res.w!.data()) as Float32Array, c.weights.data as number[], RTOL, ATOL, `${c.name}: weights`);
  }
  res.out.dispose();
  res.w?.dispose();
  const params = Object.fromEntries(m.namedParameters());
  for (const [n, want] of Object.entries(c.grads)) {
    const t = n.startsWith('param:') ? params[n.slice(6)] : inputs[n];
    expect(t, `${c.name}: ${n} exists`).toBeDefined();
    expect(t!.grad, `${c.name}: ${n} has a gradient`).not.toBeNull();
    allClose((await t!.grad!.data()) as Float32Array, want, RTOL, ATOL, `${c.name}: grad ${n}`);
  }
  for (const t of Object.values(inputs)) {
    t.grad?.dispose();
    t.dispose();
  }
  m.dispose();
  expect(memory().numTensors - before, `${c.name}: tensors left`).toBe(0);
}
