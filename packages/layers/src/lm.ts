/**
 * Language models of the zoo: `gpt` (the PyTorch GPT of test/fixtures/gen_torch_gpt.py, with a KV
 * cache for generation) and `lstmLm`, both behind the {@link LanguageModel} interface that the CLI
 * and the demo use.
 */
import { AxonError, type Tensor, fmtShape, fmtValue, isTensor, noGrad, tensor, tidy } from '@axon/core';
import { KVCache } from './attention.js';
import { allocating } from './build.js';
import { Embedding, Linear } from './layers.js';
import { type LayerConfig, Module } from './module.js';
import { LayerNorm } from './normalization.js';
import { PositionalEmbedding } from './positional.js';
import { LSTM, compositeAll } from './recurrent.js';
import { TransformerEncoderLayer } from './transformer.js';
import { checkFinite, checkInt, optionsOf } from './validate.js';

/**
 * Options of {@link LanguageModel.generate}.
 * @example
 * const opts: GenerateOptions = { maxTokens: 20, temperature: 0.8, topK: 5, seed: 1 };
 * const m = gpt({ vocabSize: 10, contextLength: 8, width: 8, heads: 2, layers: 1 });
 * (await m.generate([1, 2], opts)).length // 20
 * // streaming: each token as it comes; an AbortSignal stops early
 * const seen: number[] = [];
 * const stop = new AbortController();
 * const streamed: GenerateOptions = { maxTokens: 20, seed: 1, signal: stop.signal, onToken: (id, i) => { seen.push(id); if (i === 2) stop.abort(); } };
 * const ids = await m.generate([1, 2], streamed);
 * ids.length // 3
 * seen.join() === ids.join() // true
 */
export interface GenerateOptions {
  /** How many tokens to generate (≥ 0). */
  maxTokens: number;
  /** Softmax temperature (default 1); 0 is greedy (the most likely token, the lowest id on ties). */
  temperature?: number;
  /** Sample among the `topK` most likely tokens only (default: all). */
  topK?: number;
  /** Seed of the sampling: the same seed gives the same tokens (default: a random seed). */
  seed?: number;
  /**
   * Called with each token as soon as it is sampled (`index` 0, 1, …), before the next one is
   * computed — a streamer, as Hugging Face's `streamer=`. When it returns a promise, generation waits
   * for it (e.g. a write that must drain). If it throws (or its promise rejects), generation stops,
   * frees its tensors and caches, and `generate` rejects with that error.
   */
  onToken?: (id: number, index: number) => void | Promise<void>;
  /**
   * Stops generation early once aborted: it is checked before each token is computed (after
   * letting the event loop run, so that timers and process signal handlers such as Ctrl-C's can
   * abort it), and `generate` then resolves with the tokens sampled so far (each already given to
   * `onToken`), having freed everything. An already aborted signal gives `[]`.
   */
  signal?: AbortSignal;
}

/**
 * A language model: `forward(ids int32 [B, T]) → logits [B, T, vocabSize]` and seeded
 * `generate(prompt, opts) → Promise<number[]>` (the new tokens only). {@link gpt} and
 * {@link lstmLm} build one; both save and load with `save` / `loadModel`'s machinery
 * (`serializeModel`, `modelFromJson`).
 * @example
 * const models: LanguageModel[] = [gpt({ vocabSize: 12, contextLength: 8, width: 8, heads: 2, layers: 1 }), lstmLm({ vocabSize: 12, width: 8, layers: 1 })];
 * const ids = tensor([[1, 2, 3]], [1, 3], 'int32');
 * const shapes = models.map((m) => [...m.forward(ids).shape]);
 * shapes // [[1, 3, 12], [1, 3, 12]]
 * models.map((m) => m.contextLength) // [8, null]
 */
export interface LanguageModel extends Module {
  /** Vocabulary size V. */
  readonly vocabSize: number;
  /** The longest sequence the model takes (null: unbounded). */
  readonly contextLength: number | null;
  /** Next-token logits [B, T, V] of int32 ids [B, T]. */
  forward(ids: Tensor): Tensor;
  /** Generates `maxTokens` tokens after `prompt` (see {@link GenerateOptions}). */
  generate(prompt: number[] | Int32Array, opts: GenerateOptions): Promise<number[]>;
}

/**
 * Options of {@link gpt}.
 * @example
 * const c: GptConfig = { vocabSize: 29, contextLength: 16, width: 32, heads: 4, layers: 2 };
 * gpt(c).countParams() // 27840
 */
export interface GptConfig {
  /** Vocabulary size. */
  vocabSize: number;
  /** Most positions (the learned position table's size). */
  contextLength: number;
  /** Model width (embedding size). */
  width: number;
  /** Attention heads (width must be a multiple). */
  heads: number;
  /** Transformer blocks. */
  layers: number;
  /** Dropout in the blocks, training mode only (default 0). */
  dropout?: number;
  /** Model name. */
  name?: string;
}

/** A seeded uniform generator in [0, 1) (mulberry32). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * @internal One token from `logits` (host numbers): the largest with temperature 0 (lowest id on
 * ties), else a draw with `u` ∈ [0, 1) from softmax(logits / temperature) over the `topK` largest.
 */
export function sampleToken(logits: ArrayLike<number>, temperature: number, topK: number | undefined, u: number): number {
  const n = logits.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => logits[b]! - logits[a]! || a - b);
  if (temperature === 0) return order[0]!;
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

interface Gen {
  ids: number[];
  maxTokens: number;
  temperature: number;
  topK: number | undefined;
  rng: () => number;
  onToken: ((id: number, index: number) => void | Promise<void>) | undefined;
  signal: AbortSignal | undefined;
}

/** Resolves after the event loop has run its pending events (timers, I/O, signals). */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => {
    if (typeof setImmediate === 'function') setImmediate(resolve);
    else setTimeout(resolve, 0);
  });
}

/**
 * Whether generation should stop before computing another token (`signal` aborted). With a signal,
 * it first lets the event loop run, so that an abort from a timer, an I/O callback or a process
 * signal handler (Ctrl-C) is seen even when nothing else in the loop waits on a macrotask.
 */
async function stopped(g: Gen): Promise<boolean> {
  if (g.signal === undefined) return false;
  if (g.signal.aborted) return true;
  await yieldToEventLoop();
  return g.signal.aborted;
}

/** Records `id` as token `out.length` and gives it to `onToken` (awaiting a returned promise). */
async function emit(g: Gen, out: number[], id: number): Promise<void> {
  out.push(id);
  if (g.onToken) await g.onToken(id, out.length - 1);
}

/** Validates generate's arguments. */
function genArgs(op: string, vocab: number, prompt: unknown, opts: unknown): Gen {
  if (!(Array.isArray(prompt) || prompt instanceof Int32Array)) throw new AxonError(op, `prompt must be an array or Int32Array of token ids, got ${fmtValue(prompt)}`);
  const ids = Array.from(prompt as ArrayLike<number>);
  if (ids.length === 0) throw new AxonError(op, 'the prompt needs at least one token');
  const badId = ids.findIndex((v) => typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= vocab);
  if (badId >= 0) throw new AxonError(op, `prompt[${badId}] = ${fmtValue(ids[badId])} is not a token id in [0, ${vocab})`);
  const o = optionsOf<GenerateOptions>(op, opts, ['maxTokens', 'temperature', 'topK', 'seed', 'onToken', 'signal']);
  if (o.maxTokens === undefined) throw new AxonError(op, 'expects { maxTokens }');
  const maxTokens = checkInt(op, 'maxTokens', o.maxTokens, 0, 2 ** 24);
  const temperature = o.temperature === undefined ? 1 : checkFinite(op, 'temperature', o.temperature, 0);
  const topK = o.topK === undefined ? undefined : checkInt(op, 'topK', o.topK, 1);
  const seed = o.seed === undefined ? Math.floor(Math.random() * 2 ** 32) : checkFinite(op, 'seed', o.seed);
  if (o.onToken !== undefined && typeof o.onToken !== 'function') throw new AxonError(op, `onToken must be a function (id, index) => void, got ${fmtValue(o.onToken)}`);
  const signal: unknown = o.signal;
  if (signal !== undefined && !(typeof AbortSignal !== 'undefined' && signal instanceof AbortSignal)) throw new AxonError(op, `signal must be an AbortSignal (e.g. new AbortController().signal), got ${fmtValue(signal)}`);
  return { ids, maxTokens, temperature, topK, rng: mulberry32(seed), onToken: o.onToken, signal: o.signal };
}

/** The logits row [V] of the last position of `logits` [1, T, V], read to the host. */
async function lastRow(logits: Tensor): Promise<Float32Array> {
  const [, T, V] = logits.shape as [number, number, number];
  const row = tidy(() => logits.slice([0, T - 1, 0], [1, 1, V]).reshape([V]));
  try {
    return (await row.data()) as Float32Array;
  } finally {
    row.dispose();
  }
}

function checkIds(op: string, ids: unknown, maxT: number | null, past = 0): Tensor {
  if (!isTensor(ids) || ids.isDisposed) throw new AxonError(op, `expects int32 ids [batch, time], got ${fmtValue(ids)}`);
  if (ids.dtype !== 'int32' || ids.rank !== 2 || ids.shape[1] === 0) throw new AxonError(op, `expects int32 ids [batch, time] with time ≥ 1, got ${ids.dtype} ${fmtShape(ids.shape)}`);
  if (maxT !== null && ids.shape[1]! > maxT) throw new AxonError(op, past === 0 ? `expects at most contextLength = ${maxT} positions, got ids ${fmtShape(ids.shape)}` : `its cache holds ${past} of contextLength = ${maxT + past} positions: room for ${maxT} more, got ids ${fmtShape(ids.shape)}`);
  return ids;
}

/**
 * The GPT of {@link gpt}: `tok` (Embedding), `pos` (learned {@link PositionalEmbedding}),
 * `blocks.i` ({@link TransformerEncoderLayer}: pre-norm, GELU, batch-first, causal), `norm`
 * (LayerNorm) and `head` (Linear without bias) — the state-dict names of PyTorch's model.
 * @example
 * const m = new GPT({ vocabSize: 10, contextLength: 8, width: 8, heads: 2, layers: 2 });
 * m.namedParameters().length // 29
 */
export class GPT extends Module implements LanguageModel {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'GPT';
  /** Vocabulary size. */
  readonly vocabSize: number;
  /** Most positions. */
  readonly contextLength: number;
  /** Width. */
  readonly width: number;
  /** Heads. */
  readonly heads: number;
  /** Dropout of the blocks. */
  readonly dropout: number;
  /** Token embedding. */
  tok: Embedding;
  /** Learned positions. */
  pos: PositionalEmbedding;
  /** The transformer blocks. */
  blocks: TransformerEncoderLayer[];
  /** Final LayerNorm. */
  norm: LayerNorm;
  /** Output projection (no bias). */
  head: Linear;

  constructor(config: GptConfig) {
    const cls = 'gpt';
    const c = optionsOf<GptConfig>(cls, config, ['vocabSize', 'contextLength', 'width', 'heads', 'layers', 'dropout', 'name']);
    const V = checkInt(cls, 'vocabSize', c.vocabSize);
    const T = checkInt(cls, 'contextLength', c.contextLength, 1, 2 ** 24);
    const D = checkInt(cls, 'width', c.width);
    const H = checkInt(cls, 'heads', c.heads);
    const L = checkInt(cls, 'layers', c.layers, 1, 1024);
    if (D % H !== 0) throw new AxonError(cls, `width must be a multiple of heads, got width ${D} and heads ${H}`);
    const dropout = c.dropout === undefined ? 0 : checkFinite(cls, 'dropout', c.dropout, 0, 1);
    if (dropout >= 1) throw new AxonError(cls, `dropout must be in [0, 1), got ${fmtValue(c.dropout)}`);
    super(c.name);
    this.vocabSize = V;
    this.contextLength = T;
    this.width = D;
    this.heads = H;
    this.dropout = dropout;
    const nul = null as unknown;
    this.tok = nul as Embedding;
    this.pos = nul as PositionalEmbedding;
    this.blocks = [];
    this.norm = nul as LayerNorm;
    this.head = nul as Linear;
    allocating(this, () => {
      this.tok = new Embedding(V, D);
      this.pos = new PositionalEmbedding(T, D);
      for (let i = 0; i < L; i++) this.blocks.push(new TransformerEncoderLayer(D, H, { dimFeedforward: 4 * D, dropout, activation: 'gelu', batchFirst: true, normFirst: true }));
      this.norm = new LayerNorm(D);
      this.head = new Linear(D, V, { bias: false });
    });
  }

  /**
   * Logits [B, T, V] of ids [B, T] (T ≤ contextLength), causal: position t sees tokens ≤ t.
   * With `cache` (see {@link GPT.newCache}) the ids continue the cached positions.
   * @example
   * const m = gpt({ vocabSize: 10, contextLength: 8, width: 8, heads: 2, layers: 1 });
   * m.forward(tensor([[1, 2, 3], [4, 5, 6]], [2, 3], 'int32')).shape // [2, 3, 10]
   */
  forward(ids: Tensor, opts: { cache?: KVCache[] | null } & object = {}): Tensor {
    const op = `gpt '${this.name}'`;
    const o = optionsOf<{ cache?: KVCache[] | null }>(op, opts, ['cache']);
    const cache = o.cache ?? null;
    if (cache !== null && (!Array.isArray(cache) || cache.length !== this.blocks.length || !cache.every((c) => c instanceof KVCache))) {
      throw new AxonError(op, `cache must be an array of ${this.blocks.length} KVCache (one per block; see newCache()), got ${fmtValue(cache)}`);
    }
    const past = cache === null ? 0 : cache[0]!.length;
    checkIds(op, ids, this.contextLength - past, past);
    return compositeAll([ids], (tmp) => {
      let x = tmp(this.pos.forward(tmp(this.tok.forward(ids)), { offset: past }));
      this.blocks.forEach((b, i) => {
        x = tmp(b.forward(x, { isCausal: true, cache: cache === null ? null : cache[i]! }));
      });
      return [tmp(this.head.forward(tmp(this.norm.forward(x))))] as const;
    })[0];
  }

  /**
   * An empty KV cache for {@link GPT.forward} (one {@link KVCache} per block; dispose each when done).
   * @example
   * const m = gpt({ vocabSize: 10, contextLength: 8, width: 8, heads: 2, layers: 2 });
   * const cache = m.newCache();
   * noGrad(() => m.forward(tensor([[1, 2]], [1, 2], 'int32'), { cache })).dispose();
   * cache[0]!.length // 2
   * cache.forEach((c) => c.dispose());
   */
  newCache(): KVCache[] {
    return this.blocks.map(() => new KVCache());
  }

  /**
   * Generates `maxTokens` tokens after `prompt` in eval mode without gradients, with a KV cache:
   * each new token runs one position through the blocks (O(t) attention). When the sequence
   * outgrows `contextLength`, each step re-runs the last `contextLength` tokens (the model's
   * window). Sampling happens on the host from a seeded generator, so a seed gives the same
   * tokens on every backend (up to logits within rounding of a sampling boundary). `onToken` sees
   * each token as it is sampled, before the next is computed; a throwing `onToken` stops generation
   * (the cache freed) and rejects with its error; an aborted `signal` ends it early with the tokens
   * so far (see {@link GenerateOptions}).
   * @example
   * const m = gpt({ vocabSize: 10, contextLength: 8, width: 8, heads: 2, layers: 1 });
   * const a = await m.generate([1, 2, 3], { maxTokens: 5, seed: 7 });
   * const b = await m.generate([1, 2, 3], { maxTokens: 5, seed: 7 });
   * a.length // 5
   * a.join() === b.join() // true
   * const seen: number[] = [];
   * await m.generate([1, 2, 3], { maxTokens: 5, seed: 7, onToken: (id) => { seen.push(id); } });
   * seen.join() === a.join() // true
   * await m.generate([1], { maxTokens: 5, onToken: () => { throw new Error('stop'); } }) // throws: 'stop'
   * await m.generate([], { maxTokens: 5 }) // throws: 'at least one token'
   */
  async generate(prompt: number[] | Int32Array, opts: GenerateOptions): Promise<number[]> {
    const op = `gpt '${this.name}'.generate`;
    const g = genArgs(op, this.vocabSize, prompt, opts);
    const out: number[] = [];
    const wasTraining = this.training;
    this.eval();
    let cache = this.newCache();
    const reset = (): void => cache.forEach((c) => c.dispose());
    try {
      let seq = g.ids.slice(-this.contextLength);
      let feed = seq;
      for (let i = 0; i < g.maxTokens && !(await stopped(g)); i++) {
        if (cache[0]!.length + feed.length > this.contextLength) {
          // the window slides: recompute it without the cache's oldest positions
          reset();
          cache = this.newCache();
          seq = seq.slice(-this.contextLength);
          feed = seq;
        }
        const input = tensor(Int32Array.from(feed), [1, feed.length], 'int32');
        let logits: Tensor;
        try {
          logits = noGrad(() => this.forward(input, { cache }));
        } finally {
          input.dispose();
        }
        let row: Float32Array;
        try {
          row = await lastRow(logits);
        } finally {
          logits.dispose();
        }
        const next = sampleToken(row, g.temperature, g.topK, g.rng());
        seq = [...seq, next];
        feed = [next];
        await emit(g, out, next);
      }
    } finally {
      reset();
      if (wasTraining) this.train();
    }
    return out;
  }

  override getConfig(): LayerConfig {
    return { vocabSize: this.vocabSize, contextLength: this.contextLength, width: this.width, heads: this.heads, layers: this.blocks.length, dropout: this.dropout };
  }

  /**
   * Rebuilds a GPT from {@link GPT.getConfig}.
   * @example GPT.fromConfig(gpt({ vocabSize: 5, contextLength: 4, width: 4, heads: 1, layers: 1 }).getConfig(), 'g').contextLength // 4
   */
  static fromConfig(c: LayerConfig, name: string): GPT {
    return new GPT({ vocabSize: c['vocabSize'] as number, contextLength: c['contextLength'] as number, width: c['width'] as number, heads: c['heads'] as number, layers: c['layers'] as number, dropout: (c['dropout'] as number | undefined) ?? 0, name });
  }
}

/**
 * A small GPT — the product's sequence model: token embedding + learned positions, `layers`
 * pre-norm transformer blocks (causal self-attention with `heads` heads, GELU MLP of width
 * 4·width), a final LayerNorm and a bias-free output head. Architecture and state-dict names are
 * those of the PyTorch model in packages/layers/test/fixtures/gen_torch_gpt.py (`tok`, `pos`,
 * `blocks.i.…`, `norm`, `head`), so its weights load as they are.
 * @example
 * const m = gpt({ vocabSize: 29, contextLength: 16, width: 32, heads: 4, layers: 2 });
 * Object.keys(m.stateDict()).slice(0, 3) // ['tok.weight', 'pos.weight', 'blocks.0.self_attn.in_proj_weight']
 * m.forward(tensor([[1, 2, 3]], [1, 3], 'int32')).shape // [1, 3, 29]
 * const next = await m.generate([1, 2], { maxTokens: 4, temperature: 0 }); // greedy
 * next.length // 4
 */
export function gpt(config: GptConfig): GPT {
  return new GPT(config);
}

/**
 * Options of {@link lstmLm}.
 * @example
 * const c: LstmLmConfig = { vocabSize: 30, width: 16, layers: 2 };
 * lstmLm(c).lstm.numLayers // 2
 */
export interface LstmLmConfig {
  /** Vocabulary size. */
  vocabSize: number;
  /** Embedding and hidden size. */
  width: number;
  /** Stacked LSTM layers (default 1). */
  layers?: number;
  /** Dropout between LSTM layers, training only (default 0). */
  dropout?: number;
  /** Model name. */
  name?: string;
}

/**
 * The LSTM language model of {@link lstmLm}: `tok` (Embedding) → `lstm` ({@link LSTM}, batch-first)
 * → `head` (Linear).
 * @example new LstmLm({ vocabSize: 10, width: 8 }).namedChildren().map(([n]) => n) // ['tok', 'lstm', 'head']
 */
export class LstmLm extends Module implements LanguageModel {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'LstmLm';
  /** Vocabulary size. */
  readonly vocabSize: number;
  /** Unbounded: the LSTM carries its state. */
  readonly contextLength: null = null;
  /** Width. */
  readonly width: number;
  /** Token embedding. */
  tok: Embedding;
  /** The recurrent stack. */
  lstm: LSTM;
  /** Output projection. */
  head: Linear;

  constructor(config: LstmLmConfig) {
    const cls = 'lstmLm';
    const c = optionsOf<LstmLmConfig>(cls, config, ['vocabSize', 'width', 'layers', 'dropout', 'name']);
    const V = checkInt(cls, 'vocabSize', c.vocabSize);
    const D = checkInt(cls, 'width', c.width);
    const L = checkInt(cls, 'layers', c.layers ?? 1, 1, 1024);
    const dropout = c.dropout === undefined ? 0 : checkFinite(cls, 'dropout', c.dropout, 0, 1);
    if (dropout >= 1) throw new AxonError(cls, `dropout must be in [0, 1), got ${fmtValue(c.dropout)}`);
    super(c.name);
    this.vocabSize = V;
    this.width = D;
    const nul = null as unknown;
    this.tok = nul as Embedding;
    this.lstm = nul as LSTM;
    this.head = nul as Linear;
    allocating(this, () => {
      this.tok = new Embedding(V, D);
      this.lstm = new LSTM(D, D, { numLayers: L, batchFirst: true, dropout });
      this.head = new Linear(D, V);
    });
  }

  /**
   * Logits [B, T, V] of ids [B, T]; with `state` ([h, c] from {@link LstmLm.step}) the sequence continues it.
   * @example lstmLm({ vocabSize: 10, width: 8 }).forward(tensor([[1, 2, 3]], [1, 3], 'int32')).shape // [1, 3, 10]
   */
  forward(ids: Tensor): Tensor {
    return this.step(ids, null)[0];
  }

  /**
   * One chunk of ids [B, T] from an optional state: returns the logits and the new `[h, c]`
   * ([layers, B, width] each; the caller frees them).
   * @example
   * const m = lstmLm({ vocabSize: 10, width: 8 });
   * const [logits, [h, c]] = m.step(tensor([[1, 2]], [1, 2], 'int32'), null);
   * h.shape // [1, 1, 8]
   */
  step(ids: Tensor, state: readonly [Tensor, Tensor] | null): [Tensor, [Tensor, Tensor]] {
    checkIds(`lstmLm '${this.name}'`, ids, null);
    if (state !== null && state !== undefined && (!Array.isArray(state) || state.length !== 2 || !state.every((t) => isTensor(t)))) {
      throw new AxonError(`lstmLm '${this.name}'`, `step's state must be null or the [h, c] pair a previous step returned, got ${fmtValue(state)}`);
    }
    const r = compositeAll([ids, ...(state ?? [])], (tmp) => {
      const [y, [h, c]] = this.lstm.forward(tmp(this.tok.forward(ids)), state ?? undefined);
      return [tmp(this.head.forward(tmp(y))), h, c] as const;
    });
    return [r[0], [r[1], r[2]]];
  }

  /**
   * Generates `maxTokens` tokens after `prompt` (eval mode, no gradients): the prompt runs once,
   * then each token is one LSTM step from the carried state (O(1) per token). Seeded, streamed
   * (`onToken`) and stopped (`signal`) as {@link GPT.generate}.
   * @example
   * const m = lstmLm({ vocabSize: 10, width: 8 });
   * (await m.generate([1], { maxTokens: 3, temperature: 0 })).length // 3
   * const seen: number[] = [];
   * const ids = await m.generate([1], { maxTokens: 3, temperature: 0, onToken: (id) => { seen.push(id); } });
   * seen.join() === ids.join() // true
   */
  async generate(prompt: number[] | Int32Array, opts: GenerateOptions): Promise<number[]> {
    const g = genArgs(`lstmLm '${this.name}'.generate`, this.vocabSize, prompt, opts);
    const out: number[] = [];
    const wasTraining = this.training;
    this.eval();
    let state: [Tensor, Tensor] | null = null;
    try {
      let feed = g.ids;
      for (let i = 0; i < g.maxTokens && !(await stopped(g)); i++) {
        const prev: [Tensor, Tensor] | null = state;
        const input = tensor(Int32Array.from(feed), [1, feed.length], 'int32');
        let logits: Tensor;
        let next: [Tensor, Tensor];
        try {
          [logits, next] = noGrad(() => this.step(input, prev));
        } finally {
          input.dispose();
        }
        if (prev) prev.forEach((t) => t.dispose());
        state = next;
        let row: Float32Array;
        try {
          row = await lastRow(logits);
        } finally {
          logits.dispose();
        }
        const tokId = sampleToken(row, g.temperature, g.topK, g.rng());
        feed = [tokId];
        await emit(g, out, tokId);
      }
    } finally {
      if (state) (state as [Tensor, Tensor]).forEach((t) => t.dispose());
      if (wasTraining) this.train();
    }
    return out;
  }

  override getConfig(): LayerConfig {
    return { vocabSize: this.vocabSize, width: this.width, layers: this.lstm.numLayers, dropout: this.lstm.dropout };
  }

  /**
   * Rebuilds the model from {@link LstmLm.getConfig}.
   * @example LstmLm.fromConfig(lstmLm({ vocabSize: 5, width: 4, layers: 2 }).getConfig(), 'l').lstm.numLayers // 2
   */
  static fromConfig(c: LayerConfig, name: string): LstmLm {
    return new LstmLm({ vocabSize: c['vocabSize'] as number, width: c['width'] as number, layers: c['layers'] as number, dropout: (c['dropout'] as number | undefined) ?? 0, name });
  }
}

/**
 * An LSTM language model: Embedding(vocabSize, width) → LSTM(width, width, layers, batch-first)
 * → Linear(width, vocabSize), with the {@link LanguageModel} interface (the state is carried
 * during generation).
 * @example
 * const m = lstmLm({ vocabSize: 30, width: 16, layers: 1 });
 * m.forward(tensor([[1, 2, 3]], [1, 3], 'int32')).shape // [1, 3, 30]
 */
export function lstmLm(config: LstmLmConfig): LstmLm {
  return new LstmLm(config);
}
