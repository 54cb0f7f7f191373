/**
 * The GPT page's model, behind the `LanguageModel` interface that `@axon/layers` is gaining
 * (`gpt`, `lstmLm`): `forward(ids int32 [B, T]) → logits [B, T, V]` and a seeded
 * `generate(prompt, { maxTokens, temperature, topK, seed })`.
 *
 * Until `@axon/layers` exports `gpt`, this file holds a small stand-in with the same architecture
 * and PyTorch state-dict names as packages/layers/test/fixtures/gen_torch_gpt.py: `tok`
 * (Embedding), `pos` (learned positions), `blocks.i` (pre-norm transformer encoder layers: causal
 * multi-head self-attention through core's `scaledDotProductAttention`, GELU MLP of width 4·D),
 * `norm` (LayerNorm) and `head` (Linear, no bias). Its `generate` re-runs the last `contextLength`
 * tokens for each new token (no KV cache) and samples on the host from a seeded generator.
 */
import { type Tensor, gelu, matmul, noGrad, scaledDotProductAttention, tensor, tidy, zeros } from '@axon/core';
import { Embedding, LayerNorm, Linear, Module, glorotUniform } from '@axon/layers';

/** Options of {@link LanguageModel.generate} (as `@axon/layers`' `LanguageModel`). */
export interface GenerateOptions {
  /** How many tokens to generate. */
  readonly maxTokens: number;
  /** Softmax temperature (default 1); 0 picks the most likely token (greedy). */
  readonly temperature?: number;
  /** Sample among the `topK` most likely tokens only (default: all). */
  readonly topK?: number;
  /** Seed of the sampling (same seed, same text). */
  readonly seed?: number;
}

/** A language model: token ids → next-token logits, and sampling. */
export interface LanguageModel {
  forward(ids: Tensor): Tensor;
  generate(prompt: number[] | Int32Array, opts: GenerateOptions): Promise<number[]>;
  parameters(): Tensor[];
  namedParameters(): [string, Tensor][];
  loadStateDict(dict: Readonly<Record<string, Tensor>>): void;
  countParams(): number;
  train(mode?: boolean): unknown;
  eval(): unknown;
  dispose(): void;
}

/** The GPT's shape (the options of `@axon/layers`' `gpt`). */
export interface GptConfig {
  readonly vocabSize: number;
  readonly contextLength: number;
  readonly width: number;
  readonly heads: number;
  readonly layers: number;
}

/** PyTorch's `nn.MultiheadAttention` weights (`in_proj_weight`, `in_proj_bias`, `out_proj`), causal self-attention only. */
class SelfAttention extends Module {
  static readonly className: string = 'DemoSelfAttention';
  in_proj_weight: Tensor;
  in_proj_bias: Tensor;
  out_proj: Linear;

  constructor(
    private readonly width: number,
    private readonly heads: number,
  ) {
    super();
    this.in_proj_weight = this.addParameter('in_proj_weight', () => glorotUniform([3 * width, width]));
    this.in_proj_bias = this.addParameter('in_proj_bias', () => zeros([3 * width]));
    this.out_proj = new Linear(width, width);
    noGrad(() => this.out_proj.bias!.assign(zeros([width])));
  }

  forward(x: Tensor): Tensor {
    const [B, T] = x.shape as [number, number, number];
    const D = this.width;
    const H = this.heads;
    // [B, T, 3D] → [3, B, H, T, D/H]: q, k and v as views of one projection
    const qkv = matmul(x, this.in_proj_weight.T).add(this.in_proj_bias).reshape([B, T, 3, H, D / H]).permute([2, 0, 3, 1, 4]);
    const [q, k, v] = [0, 1, 2].map((i) => qkv.slice([i, 0, 0, 0, 0], [1, B, H, T, D / H]).reshape([B, H, T, D / H])) as [Tensor, Tensor, Tensor];
    const y = scaledDotProductAttention(q, k, v, { causal: true });
    return this.out_proj.call(y.permute([0, 2, 1, 3]).reshape([B, T, D]));
  }
}

/** `nn.TransformerEncoderLayer(norm_first=True, activation='gelu', dropout=0, batch_first=True)`. */
class Block extends Module {
  static readonly className: string = 'DemoGptBlock';
  self_attn: SelfAttention;
  linear1: Linear;
  linear2: Linear;
  norm1: LayerNorm;
  norm2: LayerNorm;

  constructor(width: number, heads: number) {
    super();
    this.self_attn = new SelfAttention(width, heads);
    this.linear1 = new Linear(width, 4 * width);
    this.linear2 = new Linear(4 * width, width);
    this.norm1 = new LayerNorm(width);
    this.norm2 = new LayerNorm(width);
  }

  forward(x: Tensor): Tensor {
    const h = x.add(this.self_attn.call(this.norm1.call(x)));
    return h.add(this.linear2.call(gelu(this.linear1.call(this.norm2.call(h)))));
  }
}

/** The stand-in GPT (see the file's comment). */
export class DemoGpt extends Module implements LanguageModel {
  static readonly className: string = 'DemoGpt';
  tok: Embedding;
  pos: Embedding;
  blocks: Block[];
  norm: LayerNorm;
  head: Linear;

  constructor(readonly config: GptConfig) {
    super();
    const { vocabSize, contextLength, width, heads, layers } = config;
    if (width % heads !== 0) throw new Error(`gpt: width ${width} is not a multiple of heads ${heads}`);
    this.tok = new Embedding(vocabSize, width);
    this.pos = new Embedding(contextLength, width);
    this.blocks = Array.from({ length: layers }, () => new Block(width, heads));
    this.norm = new LayerNorm(width);
    this.head = new Linear(width, vocabSize, { bias: false });
  }

  forward(ids: Tensor): Tensor {
    const T = ids.shape[1]!;
    if (ids.rank !== 2 || T > this.config.contextLength) throw new Error(`gpt: expected ids [B, T] with T ≤ ${this.config.contextLength}, got [${ids.shape.join(', ')}]`);
    let x = this.tok.call(ids).add(this.pos.call(tensor(Int32Array.from({ length: T }, (_, i) => i), [T], 'int32')));
    for (const b of this.blocks) x = b.call(x);
    return this.head.call(this.norm.call(x));
  }

  async generate(prompt: number[] | Int32Array, opts: GenerateOptions): Promise<number[]> {
    const { maxTokens, temperature = 1, topK, seed = 0 } = opts;
    const ids = Array.from(prompt);
    if (ids.length === 0) throw new Error('gpt.generate: the prompt needs at least one token');
    const V = this.config.vocabSize;
    const rng = mulberry32(seed);
    const out: number[] = [];
    const wasTraining = this.training;
    this.eval();
    try {
      for (let i = 0; i < maxTokens; i++) {
        const ctx = ids.slice(-this.config.contextLength);
        const last = tidy(() =>
          noGrad(() => {
            const logits = this.forward(tensor(Int32Array.from(ctx), [1, ctx.length], 'int32'));
            return logits.slice([0, ctx.length - 1, 0], [1, 1, V]).reshape([V]);
          }),
        );
        const row = (await last.data()) as Float32Array;
        last.dispose();
        const next = sampleToken(row, temperature, topK, rng());
        ids.push(next);
        out.push(next);
      }
    } finally {
      if (wasTraining) this.train();
    }
    return out;
  }
}

/**
 * One token from `logits`: the largest with temperature 0, else a draw (`u` uniform in [0, 1))
 * from softmax(logits / temperature) restricted to the `topK` largest (ties keep the lower id).
 */
export function sampleToken(logits: ArrayLike<number>, temperature: number, topK: number | undefined, u: number): number {
  const n = logits.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => logits[b]! - logits[a]! || a - b);
  if (temperature <= 0) return order[0]!;
  const k = Math.max(1, Math.min(n, topK ?? n));
  const max = logits[order[0]!]!;
  const w = order.slice(0, k).map((i) => Math.exp((logits[i]! - max) / temperature));
  const total = w.reduce((s, v) => s + v, 0);
  let acc = 0;
  for (let j = 0; j < k; j++) {
    acc += w[j]! / total;
    if (u < acc) return order[j]!;
  }
  return order[k - 1]!;
}

/** A small seeded uniform generator in [0, 1) (mulberry32). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Builds the page's GPT (the one place to switch to `@axon/layers`' `gpt` once it is exported). */
export function buildGpt(config: GptConfig): LanguageModel {
  return new DemoGpt(config);
}
