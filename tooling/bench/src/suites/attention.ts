/**
 * Attention microbenchmark: milliseconds per causal self-attention of the GPT suite's shape — 4
 * heads of 32, batch 1 — at T = 128, 512 and 1024 (`--sizes`), forward alone and forward +
 * backward (the gradients of q, k, v of `Σ out·dOut` for a fixed random dOut, with `grad` from
 * @axon/autograd), with the peak memory of one call beside each time:
 *
 * - `scaledDotProductAttention(q, k, v, { causal: true })` — the backend's `attention` primitive
 *   (one flash-attention kernel: online softmax, no [T × T] scores) where the backend has it, and its
 *   gradients: the backend's `attentionBackward` (FlashAttention-2's backward from the saved
 *   log-sum-exp rows) where it has that, else core's composite backward (the weights recomputed
 *   with ops: WASM);
 * - the composite a user would write without either: `matmul(q, k.T)`, times 1/√D, −∞ above the
 *   diagonal (`where`), `softmax`, `matmul(·, v)` — [T × T] scores in memory — and its gradients
 *   through those ops (autograd's matmul/softmax/where rules: never the backend's kernels).
 *
 * Axon wasm at each thread count of `--threads` (`--suite attention`), or Axon's WebGPU backend
 * (`--suite attention --backend webgpu`; section `attention-webgpu`). Before timing, every cell's
 * result (the output, or dq, dk, dv) is checked against a float64 reference with the conformance
 * suite's attention tolerance (`../attention-ref.ts`): a wrong cell is reported as wrong, not timed.
 * The cells of a row are timed interleaved (`measureInterleaved`: sdpa 1t, composite 1t, sdpa 2t,
 * composite 2t, then again).
 */

import { arange, ge, getBackend, isGradEnabled, matmul, memory, mul, resetPeakMemory, softmax, scaledDotProductAttention, sum, tensor, unsqueeze, where, type Tensor } from '@axon/core';
import { grad } from '@axon/autograd';
import type { CaseResult, Cell, ContenderInfo, Metric, SuiteResult } from '../harness.js';
import { measureInterleaved, type InterleavedEntry } from '../harness.js';
import type { Suite, SuiteOptions } from '../suite.js';
import { threadedId, threadedLabel } from '../threads.js';
import { axonThreadsNote, startAxon, useAxonThreads } from '../axon.js';
import { uniformArray } from '../data.js';
import { attentionReference, checkAttention, type AttentionReference } from '../attention-ref.js';
import { axonWebgpuDescription, startAxonWebgpu } from './webgpu.js';

export const ATTENTION = { heads: 4, headDim: 32, batch: 1, sizes: [128, 512, 1024] } as const;

/** Milliseconds per call. */
export const msPerCall: Metric = { unit: 'ms', higherIsBetter: false, digits: 2, value: (s) => s * 1000 };

/**
 * Causal attention written from matmul and softmax (what core falls back to without the backend
 * primitive; `[..., T, T]` scores in memory). Frees what it made but the result, except, while
 * autograd records, the tensors its backward reads (the caller's scope frees those).
 * @example const o = compositeAttention(q, k, v); // [..., T, D]
 */
export function compositeAttention(q: Tensor, k: Tensor, v: Tensor): Tensor {
  const T = q.shape[q.rank - 2]!;
  const D = q.shape[q.rank - 1]!;
  const kt = k.T;
  const s = matmul(q, kt);
  const scaled = s.mul(1 / Math.sqrt(D));
  const j = arange(T, undefined, 1, 'int32');
  const i = unsqueeze(j, -1);
  const allowed = ge(i, j);
  const masked = where(allowed, scaled, -Infinity);
  const p = softmax(masked);
  const out = matmul(p, v);
  // while autograd records (a gradient will be taken) the intermediates are the backward's saved
  // tensors: the caller's scope (\`grad\`'s, a \`tidy\`) frees them after it
  const recording = isGradEnabled() && [q, k, v].some((t) => t.requiresGrad);
  for (const t of recording ? [i, j] : [kt, s, scaled, i, j, allowed, masked, p]) t.dispose();
  return out;
}

/**
 * The flash way: core's `scaledDotProductAttention`, causal (the backend's kernels where it has them).
 * @example const o = sdpaAttention(q, k, v); // [..., T, D], as compositeAttention(q, k, v)
 */
export const sdpaAttention = (q: Tensor, k: Tensor, v: Tensor): Tensor => scaledDotProductAttention(q, k, v, { causal: true });

/**
 * The gradients of q, k, v of `Σ attention(q, k, v)·dOut` (the output's gradient is `dOut`), with
 * autograd's `grad`: for {@link sdpaAttention} the backend's `attentionBackward` where it has it.
 * @example const [dq, dk, dv] = attentionGrads(sdpaAttention, dOut)(q, k, v);
 */
export function attentionGrads(attention: (q: Tensor, k: Tensor, v: Tensor) => Tensor, dOut: Tensor): (q: Tensor, k: Tensor, v: Tensor) => Tensor[] {
  const g = grad((q, k, v) => sum(mul(attention(q!, k!, v!), dOut)));
  return (q, k, v) => g(q, k, v);
}

/**
 * Bytes as MiB with two decimals.
 * @example mib(3 * 2 ** 20) // '3.00 MiB'
 */
export function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(2)} MiB`;
}

/** One way of running Axon: a thread count of the wasm backend, or the WebGPU backend. */
interface Side {
  readonly threads: number | undefined;
  readonly before: () => Promise<void>;
  readonly ids: { readonly sdpa: string; readonly comp: string };
}

type Pass = 'forward' | 'forward + backward';

const TITLE = 'Causal attention forward and backward (4 heads × 32, batch 1), ms per call and peak memory';

export const attentionSuite: Suite = {
  id: 'attention',
  title: TITLE,
  describe: 'ms and peak memory per causal attention forward and forward + backward at T = 128/512/1024: scaledDotProductAttention (flash kernels) vs matmul + softmax + matmul; Axon wasm at each --threads count, or --backend webgpu',
  inAll: true,
  async run(opts: SuiteOptions): Promise<SuiteResult> {
    const webgpu = opts.backend === 'webgpu';
    const sizes = opts.sizes ?? ATTENTION.sizes;
    const runs = opts.runs ?? 7;
    const warmup = opts.warmup ?? 2;
    const warnings: string[] = [];
    const notes: string[] = [];
    const cases: CaseResult[] = [];
    const sides: Side[] = webgpu
      ? [{ threads: undefined, before: startAxonWebgpu, ids: { sdpa: 'axon', comp: 'composite' } }]
      : (opts.threads ?? [undefined]).map((t) => ({
          threads: t,
          before: t === undefined ? () => startAxon('wasm') : () => useAxonThreads(t),
          ids: { sdpa: threadedId('axon', t), comp: threadedId('composite', t) },
        }));
    const sideName = (s: Side): string => (webgpu ? 'axon-webgpu' : threadedLabel('axon-wasm', s.threads));
    const primitives: string[] = [];
    for (const side of sides) {
      await side.before();
      const b = getBackend();
      const has = (m: 'attention' | 'attentionBackward') => (typeof b[m] === 'function' ? `has \`${m}\`` : `**lacks** \`${m}\``);
      primitives.push(`${sideName(side)} (backend \`${b.name}\`): ${has('attention')}, ${has('attentionBackward')}`);
    }
    const live0 = memory().numTensors;
    for (const T of sizes) {
      const { heads, headDim: D, batch } = ATTENTION;
      const shape = [batch, heads, T, D];
      const size = shape.reduce((a, b) => a * b, 1);
      const host = [uniformArray(size, 1), uniformArray(size, 2), uniformArray(size, 3), uniformArray(size, 4)] as const;
      opts.log(`attention T = ${T}: float64 reference`);
      const ref: AttentionReference = attentionReference(host[0], host[1], host[2], host[3], batch * heads, T, D);
      const made: Tensor[] = [];
      const rows: Record<Pass, { entries: InterleavedEntry[]; cells: Record<string, Cell>; extra: Record<string, string> }> = {
        forward: { entries: [], cells: {}, extra: {} },
        'forward + backward': { entries: [], cells: {}, extra: {} },
      };
      try {
        for (const side of sides) {
          await side.before();
          const [q, k, v, dOut] = host.map((h) => tensor(h, shape, 'float32')) as [Tensor, Tensor, Tensor, Tensor];
          made.push(q, k, v, dOut);
          const read = async (t: Tensor): Promise<Float32Array> => (webgpu ? ((await t.data()) as Float32Array) : (t.dataSync() as Float32Array));
          for (const [way, id] of [[sdpaAttention, side.ids.sdpa], [compositeAttention, side.ids.comp]] as const) {
            const grads = attentionGrads(way, dOut);
            const ops: Record<Pass, () => Promise<Float32Array[]>> = {
              forward: async () => {
                const o = way(q, k, v);
                try {
                  return [await read(o)];
                } finally {
                  o.dispose();
                }
              },
              'forward + backward': async () => {
                const gs = grads(q, k, v);
                try {
                  const out: Float32Array[] = [];
                  for (const g of gs) out.push(await read(g));
                  return out;
                } finally {
                  for (const g of gs) g.dispose();
                }
              },
            };
            for (const pass of ['forward', 'forward + backward'] as const) {
              const row = rows[pass];
              // one untimed call: its peak memory above what was live before it, and its result checked
              resetPeakMemory();
              const base = memory().peakBytes;
              const got = await ops[pass]();
              const peak = memory().peakBytes - base;
              const want = pass === 'forward' ? [ref.out] : [ref.dq, ref.dk, ref.dv];
              const wrong = want
                .map((w, i) => {
                  const why = checkAttention(got[i]!, w);
                  return why === undefined ? undefined : `${pass === 'forward' ? 'out' : `d${'qkv'[i]}`}: ${why}`;
                })
                .filter((x): x is string => x !== undefined);
              const label = id === side.ids.sdpa ? 'sdpa' : 'composite';
              if (wrong.length > 0) {
                row.cells[id] = { skipped: 'wrong result' };
                warnings.push(`T = ${T} ${pass}, ${sideName(side)} ${label}: wrong result (conformance attention tolerance): ${wrong.join('; ')}`);
                continue;
              }
              row.extra[id] = `peak ${mib(peak)}`;
              row.entries.push({ id, before: side.before, op: ops[pass] });
            }
          }
        }
        for (const pass of ['forward', 'forward + backward'] as const) {
          const row = rows[pass];
          opts.log(`attention T = ${T} ${pass}: ${row.entries.map((e) => e.id).join(', ')}`);
          const m = await measureInterleaved(row.entries, { warmup, runs, minSampleMs: opts.minSampleMs });
          for (const [id, x] of m) row.cells[id] = x;
        }
      } catch (e) {
        const why = e instanceof Error ? e.message : String(e);
        warnings.push(`T = ${T}: ${why}`);
        for (const pass of ['forward', 'forward + backward'] as const) {
          for (const side of sides) for (const id of Object.values(side.ids)) rows[pass].cells[id] ??= { skipped: 'failed' };
        }
      } finally {
        for (const t of made) t.dispose();
      }
      for (const pass of ['forward', 'forward + backward'] as const) cases.push({ label: `T = ${T} ${pass}`, cells: rows[pass].cells, extra: rows[pass].extra });
    }
    if (memory().numTensors !== live0) warnings.push(`${webgpu ? 'axon-webgpu' : 'axon-wasm'}: ${memory().numTensors - live0} tensors left alive`);
    notes.push(
      `Inputs: q, k, v and dOut float32 [${ATTENTION.batch}, ${ATTENTION.heads}, T, ${ATTENTION.headDim}] (uniform in [−1, 1), fixed seeds), causal, scale 1/√${ATTENTION.headDim}. ` +
        '"forward": the output, read back; "forward + backward": `grad((q, k, v) => sum(mul(attention(q, k, v), dOut)))(q, k, v)` (@axon/autograd), the three gradients read back ' +
        `(${webgpu ? '`await data()`' : '`dataSync()`'}), everything the call made disposed.`,
      'After the time: the **peak memory** of one call (`resetPeakMemory()` before it, `memory().peakBytes` after it, minus the bytes live before it: what the call itself held at its peak, every tensor and pending result counted, its read-back included).',
      'Checked before timing: each cell\'s output (forward) or dq, dk, dv (forward + backward) against a float64 reference, element by element, with the conformance suite\'s attention tolerance (|got − ref| ≤ 4ε·|ref| + ε·n·Σ|terms|, ε = 2⁻²⁴; `src/attention-ref.ts`): a wrong cell reads "wrong result" with a warning, and is not timed.',
      `The backend's kernels: ${primitives.join('; ')}. Without \`attention\` \`scaledDotProductAttention\` runs the composite itself; without \`attentionBackward\` its gradients are core's composite backward (the [T × T] weights recomputed with ops), so on WASM the sdpa forward + backward row is the flash forward + the composite backward.`,
      "Axon only: PyTorch 1.13 (Debian's) has no fused `scaled_dot_product_attention` (PyTorch ≥ 2.0), and jax-js's `nn.dotProductAttention` fails on Node 20 (see the gpt suite).",
    );
    if (webgpu) notes.push(`Axon's WebGPU adapter (Dawn, npm \`webgpu\`, VK_ICD_FILENAMES=${process.env.VK_ICD_FILENAMES ?? 'unset'}): ${axonWebgpuDescription()}.`);
    const threadsNote = !webgpu && opts.threads ? await axonThreadsNote(opts.threads) : undefined;
    if (threadsNote) notes.push(threadsNote);
    const sdpaNote = `\`scaledDotProductAttention(q, k, v, { causal: true })\`${webgpu ? ' (flash forward and flash backward kernels)' : ' (flash forward kernel; core\'s composite backward)'}`;
    const compNote = '`softmax(where(causal, matmul(q, k.T) / √D, −∞)) · v` with core ops, differentiated through them (src/suites/attention.ts `compositeAttention`)';
    const contenders: ContenderInfo[] = [
      ...sides.map((side, i) => ({
        id: side.ids.sdpa,
        label: webgpu ? 'axon-webgpu sdpa' : threadedLabel('axon sdpa', side.threads),
        axon: true,
        ...(side.threads !== undefined ? { threads: side.threads } : {}),
        ...(i === 0 ? { note: sdpaNote } : {}),
      })),
      ...sides.map((side, i) => ({
        id: side.ids.comp,
        label: webgpu ? 'webgpu composite' : threadedLabel('composite', side.threads),
        ...(side.threads !== undefined ? { threads: side.threads } : {}),
        ...(i === 0 ? { note: compNote } : {}),
      })),
    ];
    return {
      id: webgpu ? 'attention-webgpu' : 'attention',
      title: webgpu ? `${TITLE}, WebGPU` : TITLE,
      metric: msPerCall,
      contenders,
      cases,
      notes,
      warnings,
    };
  },
};
