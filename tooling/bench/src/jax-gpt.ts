/**
 * jax-js's side of the `gpt` suite: the same pre-norm GPT written with `@jax-js/jax` — `np.take`
 * embeddings, layer norm from `np.mean`, `nn.dotProductAttention(q, k, v, { isCausal: true })`,
 * exact `nn.gelu`, `nn.logSoftmax` cross-entropy — and one `jit`-compiled step: `valueAndGrad`,
 * the global-norm clip and a hand-written AdamW (PyTorch's update), over parameters named as
 * PyTorch's state dict, so it starts from the same initial weights as the other contenders.
 * It runs a few steps after its warm-up, timed one by one (a step's seconds × the sample's steps
 * is one sample), on the same batches in the same order.
 */

import { numpy as np, nn, jit, valueAndGrad, tree, blockUntilReady } from '@jax-js/jax';
import { parseSafetensors } from '@axon/layers';
import type { Cell, Measurement } from './harness.js';
import { median } from './harness.js';
import { mulberry32 } from './data.js';
import { batchAt, GPT, type GptData, type GptDims } from './axon-gpt.js';
import { useJaxWasm } from './peers/jax.js';

/** jax-js steps timed after its warm-up (each a sample, scaled to the suite's steps per sample). */
export const JAX_STEPS = 3;
/** jax-js warm-up steps (the first traces and compiles the step). */
export const JAX_WARMUP_STEPS = 2;

type Params = Record<string, np.Array>;

export const jaxGptNote =
  'the same GPT from `np.take` embeddings, layer norm from `np.mean`, causal attention (`nn.dotProductAttention(q, k, v, { isCausal: true })` where it runs, else matmul + −∞ mask + `nn.softmax` + matmul), exact `nn.gelu`, ' +
  '`nn.logSoftmax` cross-entropy; one `jit`-compiled step of `valueAndGrad`, the global-norm clip and a hand-written AdamW (PyTorch\'s update), over parameters with PyTorch\'s names loaded from the same initial weights; ' +
  `${JAX_WARMUP_STEPS} warm-up steps, then ${JAX_STEPS} steps timed one by one (\`blockUntilReady\`, loss read back), each step's time × the steps per sample being one sample.`;

/** The parameter names and shapes of PyTorch's model (gpt_torch.py), in its state-dict order. */
export function gptShapes(V: number, T: number, D: number, layers: number): [string, number[]][] {
  const out: [string, number[]][] = [
    ['tok.weight', [V, D]],
    ['pos.weight', [T, D]],
  ];
  for (let l = 0; l < layers; l++) {
    const b = `blocks.${l}.`;
    out.push(
      [`${b}self_attn.in_proj_weight`, [3 * D, D]],
      [`${b}self_attn.in_proj_bias`, [3 * D]],
      [`${b}self_attn.out_proj.weight`, [D, D]],
      [`${b}self_attn.out_proj.bias`, [D]],
      [`${b}linear1.weight`, [4 * D, D]],
      [`${b}linear1.bias`, [4 * D]],
      [`${b}linear2.weight`, [D, 4 * D]],
      [`${b}linear2.bias`, [D]],
      [`${b}norm1.weight`, [D]],
      [`${b}norm1.bias`, [D]],
      [`${b}norm2.weight`, [D]],
      [`${b}norm2.bias`, [D]],
    );
  }
  out.push(['norm.weight', [D]], ['norm.bias', [D]], ['head.weight', [V, D]]);
  return out;
}

/** Host values of every parameter: from `init` (PyTorch's safetensors) when given, else seeded (uniform ±1/√fan-in, ones for norm weights, zero biases). */
export function hostParams(shapes: [string, number[]][], init: Uint8Array | undefined): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  if (init) {
    const { tensors } = parseSafetensors(init);
    for (const [name, shape] of shapes) {
      const t = tensors[name];
      if (!t || t.dtype !== 'float32' || t.shape.join(',') !== shape.join(',')) throw new Error(`initial weights: expected ${name} float32 [${shape.join(', ')}], got ${t ? `${t.dtype} [${t.shape.join(', ')}]` : 'nothing'}`);
      out[name] = t.data as Float32Array;
    }
    return out;
  }
  const next = mulberry32(3);
  for (const [name, shape] of shapes) {
    const size = shape.reduce((a, b) => a * b, 1);
    const a = new Float32Array(size);
    if (/norm\d?\.weight$/.test(name)) a.fill(1);
    else if (!/bias$/.test(name)) {
      const lim = 1 / Math.sqrt(shape[shape.length - 1]);
      for (let i = 0; i < size; i++) a[i] = (next() * 2 - 1) * lim;
    }
    out[name] = a;
  }
  return out;
}

/** x [..., D] normalized over its last axis, times `w`, plus `b` (PyTorch's LayerNorm, eps 1e-5). Consumes its arguments. */
function layerNorm(x: np.Array, w: np.Array, b: np.Array): np.Array {
  const mu = np.mean(x.ref, -1, { keepdims: true });
  const xc = x.sub(mu);
  const v = np.mean(np.square(xc.ref), -1, { keepdims: true });
  return xc.div(np.sqrt(v.add(1e-5))).mul(w).add(b);
}

/** x · wᵀ + b (PyTorch's Linear: w is [out, in]). Consumes its arguments. */
function linear(x: np.Array, w: np.Array, b?: np.Array): np.Array {
  const y = np.matmul(x, w.transpose());
  return b === undefined ? y : y.add(b);
}

/**
 * Whether `nn.dotProductAttention` runs here: on Node 20 it throws (its `einsum` maps over a
 * `matchAll` iterator, an iterator helper of Node ≥ 22). Null when it runs, else the reason.
 */
export function jaxAttentionProblem(): string | null {
  try {
    const q = np.ones([1, 2, 1, 4]);
    const o = nn.dotProductAttention(q.ref, q.ref, q, { isCausal: true });
    o.dispose();
    return null;
  } catch (e) {
    return e instanceof Error ? e.message.split('\n')[0] : String(e);
  }
}

let fused = false;

/**
 * Causal attention over q, k, v [B, T, heads, Dh] → [B, T, heads, Dh]: `nn.dotProductAttention`
 * when it runs here, else the composite (scores = q·kᵀ/√Dh, −∞ above the diagonal, softmax, · v).
 * Consumes its arguments.
 */
function attention(q: np.Array, k: np.Array, v: np.Array): np.Array {
  if (fused) return nn.dotProductAttention(q, k, v, { isCausal: true });
  const [, T, , Dh] = q.shape as [number, number, number, number];
  const bias = new Float32Array(T * T);
  for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) bias[i * T + j] = -1e9;
  const s = np.matmul(q.transpose([0, 2, 1, 3]), k.transpose([0, 2, 3, 1])).mul(1 / Math.sqrt(Dh)).add(np.array(bias).reshape([T, T]));
  return np.matmul(nn.softmax(s, -1), v.transpose([0, 2, 1, 3])).transpose([0, 2, 1, 3]);
}

/** Logits [B, T, V] of the ids [B, T]. Consumes `p` and `ids`. */
export function forward(p: Params, ids: np.Array, heads: number, layers: number): np.Array {
  const [B, T] = ids.shape as [number, number];
  const D = p['tok.weight'].shape[1];
  let x = np.take(p['tok.weight'], ids, 0).add(p['pos.weight']); // [B, T, D] + [T, D]
  for (let l = 0; l < layers; l++) {
    const k = (n: string) => p[`blocks.${l}.${n}`];
    const h = layerNorm(x.ref, k('norm1.weight'), k('norm1.bias'));
    const qkv = linear(h, k('self_attn.in_proj_weight'), k('self_attn.in_proj_bias')); // [B, T, 3D]
    const [q, kk, v] = np.split(qkv, 3, -1).map((a) => a.reshape([B, T, heads, D / heads]));
    const att = attention(q, kk, v).reshape([B, T, D]);
    x = x.add(linear(att, k('self_attn.out_proj.weight'), k('self_attn.out_proj.bias')));
    const h2 = layerNorm(x.ref, k('norm2.weight'), k('norm2.bias'));
    const f = linear(nn.gelu(linear(h2, k('linear1.weight'), k('linear1.bias')), { approximate: false }), k('linear2.weight'), k('linear2.bias'));
    x = x.add(f);
  }
  return linear(layerNorm(x, p['norm.weight'], p['norm.bias']), p['head.weight']);
}

/** Mean cross-entropy of the next-token logits. Consumes its arguments. */
export function lossFn(p: Params, x: np.Array, y: np.Array, V: number, heads: number, layers: number): np.Array {
  const [B, T] = y.shape as [number, number];
  const logp = nn.logSoftmax(forward(p, x, heads, layers), -1);
  return logp.mul(nn.oneHot(y, V)).sum().mul(-1 / (B * T));
}

/** One jit-compiled training step: loss and gradients, clip to the global norm, AdamW (PyTorch's). */
function makeStep(V: number, heads: number, layers: number, names: readonly string[]) {
  const [B1, B2] = GPT.betas;
  return jit((p: Params, m: Params, v: Params, x: np.Array, y: np.Array, bc1: np.Array, sbc2: np.Array) => {
    const [loss, g] = valueAndGrad((pp: Params, xx: np.Array, yy: np.Array) => lossFn(pp, xx, yy, V, heads, layers))(tree.ref(p), x, y);
    let sq: np.Array | null = null;
    for (const k of names) {
      const s = np.sum(np.square(g[k].ref));
      sq = sq === null ? s : sq.add(s);
    }
    const coef = np.minimum(np.reciprocal(np.sqrt(sq!).add(1e-6)).mul(GPT.clipNorm), 1);
    const np2: Params = {};
    const nm: Params = {};
    const nv: Params = {};
    for (const k of names) {
      const gk = g[k].mul(coef.ref);
      const mk = m[k].mul(B1).add(gk.ref.mul(1 - B1));
      const vk = v[k].mul(B2).add(gk.ref.mul(gk).mul(1 - B2));
      const denom = np.sqrt(vk.ref).div(sbc2.ref).add(GPT.eps);
      np2[k] = p[k].mul(1 - GPT.lr * GPT.weightDecay).sub(mk.ref.div(bc1.ref).div(denom).mul(GPT.lr));
      nm[k] = mk;
      nv[k] = vk;
    }
    coef.dispose();
    bc1.dispose();
    sbc2.dispose();
    return [np2, nm, nv, loss] as [Params, Params, Params, np.Array];
  });
}

export interface JaxGptResult {
  readonly cell: Cell;
  readonly losses: number[];
  /** Why it did not run or failed. */
  readonly why?: string;
  /** Null when `nn.dotProductAttention` ran, else why the composite attention was used. */
  readonly attention: string | null;
}

/**
 * Trains the GPT with jax-js on `data`'s batches (in order, from batch 0), from `init` when given:
 * {@link JAX_WARMUP_STEPS} warm-up steps, then {@link JAX_STEPS} timed steps, each one sample of
 * its seconds × `stepsPerSample`.
 */
export async function runJaxGpt(data: GptData, init: Uint8Array | undefined, stepsPerSample: number, log: (m: string) => void, dims: GptDims = GPT): Promise<JaxGptResult> {
  try {
    await useJaxWasm();
  } catch (e) {
    return { cell: { skipped: 'unavailable' }, losses: [], why: e instanceof Error ? e.message : String(e), attention: null };
  }
  const problem = jaxAttentionProblem();
  fused = problem === null;
  if (problem) log(`jax-js-wasm: nn.dotProductAttention fails here (${problem}); the composite attention is used`);
  const V = data.vocabSize;
  const T = data.contextLength;
  const shapes = gptShapes(V, T, dims.width, dims.layers);
  const names = shapes.map(([n]) => n);
  let p: Params = {};
  let m: Params = {};
  let v: Params = {};
  const losses: number[] = [];
  const samples: number[] = [];
  try {
    const host = hostParams(shapes, init);
    for (const [n, shape] of shapes) {
      p[n] = np.array(host[n]).reshape(shape);
      m[n] = np.zeros(shape);
      v[n] = np.zeros(shape);
    }
    const step = makeStep(V, dims.heads, dims.layers, names);
    const [B1, B2] = GPT.betas;
    for (let t = 1; t <= JAX_WARMUP_STEPS + JAX_STEPS; t++) {
      const b = batchAt(data, t - 1);
      const t0 = performance.now();
      const x = np.array(b.x, { dtype: np.int32 }).reshape([data.batch, T]);
      const y = np.array(b.y, { dtype: np.int32 }).reshape([data.batch, T]);
      const [p2, m2, v2, loss] = step(p, m, v, x, y, np.array(1 - B1 ** t), np.array(Math.sqrt(1 - B2 ** t)));
      p = p2;
      m = m2;
      v = v2;
      await blockUntilReady(p);
      losses.push(((await loss.data()) as Float32Array)[0]);
      const dt = (performance.now() - t0) / 1000;
      if (t > JAX_WARMUP_STEPS) samples.push(dt * stepsPerSample);
      log(`jax-js-wasm step ${t}: ${dt.toFixed(2)} s, loss ${losses[losses.length - 1].toFixed(4)}${t <= JAX_WARMUP_STEPS ? ' (warm-up)' : ''}`);
    }
  } catch (e) {
    const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
    return { cell: { skipped: 'failed' }, losses, why: `could not train the GPT (${losses.length} steps ran): ${why}`, attention: problem };
  } finally {
    for (const t of [p, m, v]) {
      try {
        tree.dispose(t);
      } catch {
        /* already consumed by a failed step */
      }
    }
  }
  const cell: Measurement = { samples, median: median(samples), min: Math.min(...samples), reps: 1 };
  return { cell, losses, attention: problem };
}
