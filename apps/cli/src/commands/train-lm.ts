import { performance } from 'node:perf_hooks';
import { AxonError, compile, getRngState, noGrad, setFlags, setRngState, setSeed, tensor, tidy, type RngState, type Tensor } from '@axon/core';
import { gradients } from '@axon/autograd';
import { BpeTokenizer, CharTokenizer, tokenWindows, unigramEntropy, type TokenBatch } from '@axon/datasets';
import { crossEntropy, type JsonValue } from '@axon/layers';
import { AdamW, clipGradNorm, LambdaLR, type OptimizerStateMeta, type SchedulerState } from '@axon/optimizers';
import cliProgress from 'cli-progress';
import { chooseBackend } from '../backend.js';
import { featureList, int, secs } from '../format.js';
import { checkWritableFolder } from '../io.js';
import { asLm, buildLm, lmConfig, type Lm, type LmModelName } from '../lm/models.js';
import { loadLm, saveLm, type LmInfo } from '../lm/store.js';
import { readTrainingText } from '../lm/text.js';
import { describeTokenizer, type LmTokenizer, type TokenizerKind } from '../lm/tokenizer.js';

/** Options of `axon train --model gpt|lstm`. */
export interface TrainLmOptions {
  model: LmModelName;
  /** `--data`: `sotu` (the built-in corpus, default) or a UTF-8 text file. */
  data?: string;
  tokenizer?: TokenizerKind;
  /** BPE vocabulary size (256 bytes + merges; default 512). */
  vocabSize?: number;
  layers?: number;
  heads?: number;
  width?: number;
  /** Tokens per training window (and the GPT's context length). */
  context?: number;
  dropout?: number;
  batchSize?: number;
  /** Peak learning rate (AdamW, linear warm-up then cosine decay to a tenth). */
  lr?: number;
  /** Warm-up steps (default: 5% of the steps, at most 100; 20 with a time budget alone). */
  warmup?: number;
  /** Gradient clipping: the largest global gradient norm (default 1). */
  clip?: number;
  /** Training steps. With `timeMinutes` too, training stops at whichever comes first. */
  steps?: number;
  /** A time budget in minutes. */
  timeMinutes?: number;
  /** Validation every n steps (and at the end; default 100). */
  evalEvery?: number;
  /** Batches of windows per validation (default 8), spread evenly over the held-out text. */
  evalBatches?: number;
  /** The fraction of the text held out for validation, from its end (default 0.1). */
  valFraction?: number;
  /** Print a sample every n steps (0 = only at the end; default 0). */
  sampleEvery?: number;
  sampleTokens?: number;
  temperature?: number;
  topK?: number;
  seed?: number;
  backend?: string;
  threads?: number | 'auto';
  /** The folder to save the model and its tokenizer to (checked before training). */
  output?: string;
  /** Where checkpoints go: with it, one every `checkpointEvery` steps; Ctrl-C writes one either way. */
  checkpointDir?: string;
  checkpointEvery?: number;
  resume?: boolean;
  progress?: boolean;
  interrupt?: AbortSignal;
  fusion?: boolean;
  compile?: boolean;
}

/** One validation: loss in nats per token and per character. */
export interface LmEval {
  step: number;
  trainLoss: number;
  valLoss: number;
  valLossPerChar: number;
}

/** What `axon train --model gpt|lstm` reports (also used by tests). */
export interface TrainLmResult {
  backend: string;
  steps: number;
  /** The training loss of every step. */
  losses: number[];
  evals: LmEval[];
  /** The corpus' unigram entropy, nats per character. */
  unigramEntropy: number;
  /** Mean ms per training step (from step 2: the first includes tracing). */
  msPerStep: number;
  tokensPerSecond: number;
  parameters: number;
  samples: string[];
  interrupted?: { step: number; checkpointDir: string };
  /** Why training stopped: `steps`, `time` or `interrupt`. */
  stoppedBy: 'steps' | 'time' | 'interrupt';
}

/** Defaults by model: the issue's small GPT; a 2-layer LSTM. */
export const LM_DEFAULTS: Record<LmModelName, { layers: number; heads: number; width: number; context: number }> = {
  gpt: { layers: 4, heads: 4, width: 128, context: 128 },
  lstm: { layers: 2, heads: 0, width: 256, context: 64 },
};

const MIN_LR_RATIO = 0.1;
/** Training-stream passes are this many steps (the windows of step s come from pass ⌊s / P⌋). */
const STEPS_PER_PASS = 1000;

/**
 * `axon train --model gpt|lstm`: trains a language model on a text (the built-in corpus or a
 * file), tokenized by characters or byte-level BPE, with AdamW (linear warm-up, cosine decay),
 * gradient clipping and a compiled training step; validates on the held-out end of the text
 * (nats per token and per character, next to the text's unigram entropy), prints samples, and
 * saves the model with its tokenizer. Every argument and the output folder are checked before
 * the first step; Ctrl-C finishes the step and writes a checkpoint that `--resume` continues
 * bit-identically.
 */
export async function trainLm(o: TrainLmOptions, log: (s: string) => void = console.log): Promise<TrainLmResult> {
  const prev = setFlags({ fusion: o.fusion ?? true, compile: o.compile ?? true });
  try {
    return await run(o, log);
  } finally {
    setFlags(prev);
  }
}

/** The model, tokenizer and position a run starts from. */
interface Start {
  model: Lm;
  tokenizer: LmTokenizer;
  step: number;
  elapsedMs: number;
  horizon: number | null;
  optimizer?: { meta: OptimizerStateMeta; tensors: Record<string, Tensor> };
  scheduler?: SchedulerState;
  rng?: RngState;
}

async function run(o: TrainLmOptions, log: (s: string) => void): Promise<TrainLmResult> {
  const op = 'train';
  const d = LM_DEFAULTS[o.model];
  const kind = o.model;
  const tokKind: TokenizerKind = o.tokenizer ?? 'char';
  const T = o.context ?? d.context;
  const B = o.batchSize ?? 32;
  const width = o.width ?? d.width;
  const nLayers = o.layers ?? d.layers;
  const heads = o.heads ?? d.heads;
  const dropout = o.dropout ?? 0;
  const lr = o.lr ?? 1e-3;
  const clip = o.clip ?? 1;
  const evalEvery = o.evalEvery ?? 100;
  const evalBatches = o.evalBatches ?? 8;
  const valFraction = o.valFraction ?? 0.1;
  const sampleEvery = o.sampleEvery ?? 0;
  const sampleTokens = o.sampleTokens ?? 200;
  const temperature = o.temperature ?? 0.8;
  const seed = o.seed ?? 0;
  const budgetMs = o.timeMinutes !== undefined ? o.timeMinutes * 60_000 : Infinity;
  const maxSteps = o.steps ?? (o.timeMinutes === undefined ? 1000 : Infinity);
  // Arguments first, then the output folders: nothing runs on bad input.
  if (tokKind !== 'char' && tokKind !== 'bpe') throw new AxonError(op, `--tokenizer must be char or bpe, got '${String(tokKind)}'`);
  if (o.vocabSize !== undefined && tokKind !== 'bpe') throw new AxonError(op, '--vocab-size applies to --tokenizer bpe (a character tokenizer has one token per character of the text)');
  const vocabSize = o.vocabSize ?? 512;
  if (tokKind === 'bpe' && (vocabSize < 256 || vocabSize > 65536)) throw new AxonError(op, `--vocab-size must be from 256 (the bytes) to 65536, got ${vocabSize}`);
  if (kind === 'gpt' && width % heads !== 0) throw new AxonError(op, `--width ${width} must be a multiple of --heads ${heads} (each head gets width / heads dimensions)`);
  if (kind === 'lstm' && o.heads !== undefined) throw new AxonError(op, '--heads applies to --model gpt (an LSTM has no attention heads)');
  if (!(dropout >= 0 && dropout < 1)) throw new AxonError(op, `--dropout must be in [0, 1), got ${dropout}`);
  if (!(valFraction > 0 && valFraction < 1)) throw new AxonError(op, `--val-fraction must be in (0, 1), got ${valFraction}`);
  if (o.output !== undefined && o.output.trim() === '') throw new AxonError(op, '--output is empty: give a folder to save the model and its tokenizer to');
  if (o.output !== undefined && /\.(json|safetensors)$/.test(o.output)) throw new AxonError(op, `--output ${o.output}: a language model is saved as a folder (model.json, its weights and its tokenizer); give a folder path`);
  if (o.checkpointDir !== undefined && o.checkpointDir.trim() === '') throw new AxonError(op, '--checkpoint-dir is empty');
  if (o.resume && o.checkpointDir === undefined) throw new AxonError(op, '--resume needs --checkpoint-dir <dir> (the folder of the checkpoint to continue from)');
  if (o.checkpointEvery !== undefined && o.checkpointDir === undefined) throw new AxonError(op, '--checkpoint-every needs --checkpoint-dir <dir>');
  if (o.output !== undefined) await checkWritableFolder('--output', o.output);
  const ckptDir = o.checkpointDir ?? (o.output !== undefined ? `${o.output.replace(/\/+$/, '')}.checkpoint` : 'axon-train.checkpoint');
  if (o.checkpointDir !== undefined) await checkWritableFolder('--checkpoint-dir', ckptDir);
  const checkpointEvery = o.checkpointDir !== undefined ? (o.checkpointEvery ?? evalEvery) : Infinity;

  const backend = await chooseBackend(o.backend, o.threads !== undefined ? { threads: o.threads } : {});
  const t0 = performance.now();
  const data = o.data ?? 'sotu';
  const corpus = await readTrainingText(data, 4);
  const text = corpus.text;
  // Split by position: the first (1 − valFraction) of the text trains, the rest validates.
  let cut = Math.floor(text.length * (1 - valFraction));
  if (cut > 0 && cut < text.length && /[\uDC00-\uDFFF]/.test(text[cut]!)) cut--; // never split a surrogate pair
  const trainText = text.slice(0, cut);
  const valText = text.slice(cut);

  // The starting point: a fresh model, or the checkpoint to resume.
  let start: Start | null = null;
  const ck = o.resume
    ? await loadLm(ckptDir, op).catch((e: unknown) => {
        if (e instanceof AxonError && /not found|ENOENT/.test(e.message)) return null;
        throw e;
      })
    : null;
  if (o.resume && ck === null) log(`no checkpoint in ${ckptDir} yet: starting from the beginning`);
  if (ck !== null) {
    if (ck.checkpoint === undefined) {
      ck.model.dispose();
      throw new AxonError(op, `--resume: ${ckptDir} holds a saved model, not a training checkpoint (give the --checkpoint-dir of the run to continue)`);
    }
    const cfg = lmConfig(kind, { vocabSize: ck.tokenizer.vocabSize, contextLength: T, width, heads, layers: nLayers, dropout });
    const same = ck.info.model === kind && ck.info.tokenizer === tokKind && Object.entries(cfg).every(([k, v]) => ck.info.config[k] === v);
    const meta = (ck.info.training ?? {}) as Record<string, JsonValue>;
    if (!same || meta.data !== data || meta.batchSize !== B || meta.seed !== seed || meta.lr !== lr) {
      ck.model.dispose();
      for (const t of Object.values(ck.checkpoint.optimizerTensors)) t.dispose();
      throw new AxonError(op, `--resume: the checkpoint in ${ckptDir} is of a different run (${ck.info.model} ${JSON.stringify(ck.info.config)}, ${ck.info.tokenizer} tokenizer, data ${String(meta.data)}, batch ${String(meta.batchSize)}, lr ${String(meta.lr)}, seed ${String(meta.seed)}); give the same arguments as the run that wrote it`);
    }
    const c = ck.checkpoint;
    start = {
      model: asLm(op, ck.model, ckptDir),
      tokenizer: ck.tokenizer,
      step: c.step,
      elapsedMs: c.elapsedMs,
      horizon: c.horizon > 0 ? c.horizon : null,
      optimizer: { meta: c.optimizerMeta as unknown as OptimizerStateMeta, tensors: c.optimizerTensors },
      ...(c.scheduler !== undefined ? { scheduler: c.scheduler as unknown as SchedulerState } : {}),
      ...(c.rng !== undefined ? { rng: c.rng as unknown as RngState } : {}),
    };
  }
  if (start === null) {
    const tk0 = performance.now();
    const tokenizer: LmTokenizer = tokKind === 'char' ? CharTokenizer.fromText(text) : BpeTokenizer.train(trainText, { vocabSize });
    if (tokKind === 'bpe') log(`trained a BPE tokenizer on the training text in ${secs(performance.now() - tk0)}: ${tokenizer.vocabSize} tokens`);
    setSeed(seed);
    const config = lmConfig(kind, { vocabSize: tokenizer.vocabSize, contextLength: T, width, heads, layers: nLayers, dropout });
    start = { model: buildLm(kind, config), tokenizer, step: 0, elapsedMs: 0, horizon: o.steps ?? null };
  }
  const { model, tokenizer } = start;
  let opt: AdamW | null = null;
  let bar: cliProgress.SingleBar | null = null;
  try {
    const trainIds = tokenizer.encode(trainText);
    const valIds = tokenizer.encode(valText);
    const tokensPerChar = valIds.length / Math.max(1, [...valText].length);
    if (trainIds.length < T + 1) throw new AxonError(op, `the training text is ${int(trainIds.length)} tokens, too few for --context ${T} (a window and its next token need ${T + 1}); use a longer text or a shorter context`);
    if (valIds.length < T + 1) throw new AxonError(op, `the validation text (the last ${valFraction} of --data) is ${int(valIds.length)} tokens, too few for --context ${T}; use a longer text, a larger --val-fraction or a shorter context`);
    const entropy = unigramEntropy(text);
    const config = lmConfig(kind, { vocabSize: tokenizer.vocabSize, contextLength: T, width, heads, layers: nLayers, dropout });
    const nParams = model.countParams();
    log(
      `axon train: model ${kind} (${Object.entries(config).map(([k, v]) => `${k} ${v}`).join(', ')}; ${int(nParams)} parameters), backend ${backend.name}${featureList(backend.features)}, ` +
        `data ${corpus.name}: ${int(text.length)} characters, tokenizer ${describeTokenizer(tokenizer)}, ${int(trainIds.length)} training / ${int(valIds.length)} validation tokens, ` +
        `batch ${B} × ${T} tokens, lr ${lr} (AdamW, warm-up + cosine), seed ${seed} (loaded in ${secs(performance.now() - t0)})`,
    );
    log(`unigram entropy of the text: ${entropy.toFixed(4)} nats/char (the loss of a model that ignores context)`);
    if (start.step > 0) log(`resuming from ${ckptDir}: after step ${start.step}`);

    // AdamW (betas 0.9/0.95) with weight decay 0.1 on matrices only (not on biases and norms' gains).
    const params = model.parameters();
    const decay = params.filter((p) => p.rank >= 2);
    const noDecay = params.filter((p) => p.rank < 2);
    opt = new AdamW(
      [
        { params: decay, weightDecay: 0.1 },
        ...(noDecay.length > 0 ? [{ params: noDecay, weightDecay: 0 }] : []),
      ],
      { lr, betas: [0.9, 0.95] },
    );
    if (start.optimizer) opt.loadStateDict(start.optimizer);
    let horizon = start.horizon;
    // Warm-up: 5% of the steps (at most 100); 20 steps with --time alone (the horizon is fixed at step 11).
    const warmup = o.warmup ?? (o.steps !== undefined ? Math.max(1, Math.min(100, Math.round(o.steps / 20))) : 20);
    const factor = (t: number): number => {
      if (t < warmup) return (t + 1) / warmup;
      if (horizon === null) return 1;
      const p = Math.min(1, (t - warmup) / Math.max(1, horizon - warmup));
      return MIN_LR_RATIO + (1 - MIN_LR_RATIO) * 0.5 * (1 + Math.cos(Math.PI * p));
    };
    const sched = new LambdaLR(opt, factor);
    if (start.scheduler) sched.loadStateDict(start.scheduler);
    if (start.rng) setRngState(start.rng);

    // The compiled step: forward, loss and gradients traced once, replayed after (test/lm.test.ts
    // checks that compiled and uncompiled training give the same losses, GPT and LSTM).
    const lossAndGrads = compile(
      (x: Tensor, y: Tensor, ...ps: Tensor[]): Tensor[] => {
        const loss = crossEntropy(model.forward(x), y, { validate: false });
        return [loss.detach(), ...gradients(loss, ps).map((g, i) => g ?? ps[i]!.mul(0))];
      },
      { fallback: true, name: 'trainStep' },
    );
    const trainDs = tokenWindows(trainIds, { contextLength: T, batchSize: B, seed, batchesPerEpoch: STEPS_PER_PASS });
    async function* batches(from: number): AsyncGenerator<TokenBatch> {
      for (let pass = Math.floor(from / STEPS_PER_PASS); ; pass++) {
        let k = pass * STEPS_PER_PASS;
        for await (const b of trainDs.iterate(pass)) if (k++ >= from) yield b;
      }
    }
    const evalSet = evalWindows(valIds, T, B, evalBatches);
    const evaluate = async (): Promise<number> => {
      model.eval();
      try {
        let sum = 0;
        let count = 0;
        for (const b of evalSet) {
          const s = tidy(() => noGrad(() => crossEntropy(model.forward(tensor(b.x, [b.rows, T], 'int32')), tensor(b.y, [b.rows, T], 'int32'), { validate: false, reduction: 'sum' })));
          sum += (await s.data())[0]!;
          s.dispose();
          count += b.rows * T;
        }
        return sum / count;
      } finally {
        model.train();
      }
    };
    const promptText = samplePrompt(valText, tokenizer);
    const samples: string[] = [];
    const sample = async (step: number): Promise<void> => {
      model.eval();
      try {
        const ids = await model.generate(tokenizer.encode(promptText), { maxTokens: sampleTokens, temperature, ...(o.topK !== undefined ? { topK: o.topK } : {}), seed: seed + step });
        const s = promptText + tokenizer.decode(ids);
        samples.push(s);
        log(`sample after step ${step} (temperature ${temperature}${o.topK !== undefined ? `, top-k ${o.topK}` : ''}):\n${indent(s)}`);
      } finally {
        model.train();
      }
    };

    const info = (): LmInfo => ({
      model: kind,
      config,
      tokenizer: tokKind,
      training: { data, lr, batchSize: B, seed, steps: step, tokens: step * B * T, ...(evals.length ? { valLoss: evals[evals.length - 1]!.valLoss, valLossPerChar: evals[evals.length - 1]!.valLossPerChar } : {}), unigramEntropy: entropy },
    });
    const writeCheckpoint = async (): Promise<void> => {
      const sd = opt!.stateDict();
      try {
        await saveLm(ckptDir, model, tokenizer, info(), {
          state: { step, elapsedMs: elapsed(), horizon: horizon ?? 0, scheduler: sched.stateDict() as unknown as JsonValue, rng: getRngState() as unknown as JsonValue },
          optimizer: { meta: sd.meta as unknown as JsonValue, tensors: sd.tensors as Record<string, Tensor> },
        });
      } finally {
        for (const t of Object.values(sd.tensors)) t.dispose();
      }
    };

    model.train();
    const losses: number[] = [];
    const evals: LmEval[] = [];
    let step = start.step;
    const runStart = performance.now();
    const elapsed = (): number => start.elapsedMs + (performance.now() - runStart);
    let stoppedBy: TrainLmResult['stoppedBy'] = 'steps';
    let timedSteps = 0;
    let timedMs = 0;
    let recent = 0;
    const total = Number.isFinite(maxSteps) ? maxSteps : (horizon ?? 0);
    if (o.progress) {
      bar = new cliProgress.SingleBar({ format: `step {value}/{total} [{bar}] loss {loss} | {rate} tokens/s | {time}`, hideCursor: true, clearOnComplete: true }, cliProgress.Presets.shades_classic);
      bar.start(total || 1, step, { loss: '-', rate: '-', time: '-' });
    }
    const it = batches(step);
    let windowStart = performance.now();
    let windowSteps = 0;
    let windowLoss = 0;
    while (step < maxSteps) {
      if (o.interrupt?.aborted) {
        stoppedBy = 'interrupt';
        break;
      }
      if (elapsed() >= budgetMs) {
        stoppedBy = 'time';
        break;
      }
      const ts = performance.now();
      const b = (await it.next()).value as TokenBatch;
      const [loss, ...grads] = tidy(() => lossAndGrads(tensor(b.x.data, b.x.shape, 'int32'), tensor(b.y.data, b.y.shape, 'int32'), ...params));
      params.forEach((p, k) => (p.grad = grads[k]!));
      clipGradNorm(params, clip).dispose();
      opt.step();
      opt.zeroGrad();
      sched.step();
      const value = (await loss!.data())[0]!;
      loss!.dispose();
      step++;
      const ms = performance.now() - ts;
      if (step > start.step + 1) {
        timedSteps++;
        timedMs += ms;
      }
      if (!Number.isFinite(value)) {
        throw new AxonError(op, `training diverged — step ${step}: invalid loss ${value}; nothing was saved${o.checkpointDir !== undefined ? ` (the last good checkpoint stays in ${ckptDir})` : ''}; try a lower --lr`);
      }
      losses.push(value);
      windowSteps++;
      windowLoss += value;
      // --time without --steps: once 10 steps are timed, fix the cosine's horizon from their speed.
      if (horizon === null && timedSteps >= 10) {
        const left = budgetMs - elapsed();
        horizon = step + Math.max(1, Math.floor(left / (timedMs / timedSteps)));
        log(`at ${secs(timedMs / timedSteps)} per step, the time budget allows about ${int(horizon)} steps: the learning rate decays over those`);
        if (bar) bar.setTotal(horizon);
      }
      recent = (B * T * windowSteps) / Math.max(1e-9, (performance.now() - windowStart) / 1000);
      if (bar) bar.update(step, { loss: value.toFixed(4), rate: int(recent), time: secs(elapsed()) });
      const last = step >= maxSteps || elapsed() >= budgetMs;
      if (step % evalEvery === 0 || last) {
        const val = await evaluate();
        const e: LmEval = { step, trainLoss: windowLoss / windowSteps, valLoss: val, valLossPerChar: val * tokensPerChar };
        evals.push(e);
        const line = `step ${int(step)}${Number.isFinite(maxSteps) ? `/${int(maxSteps)}` : ''} | loss ${e.trainLoss.toFixed(4)} | val_loss ${val.toFixed(4)} nats/token = ${e.valLossPerChar.toFixed(4)} nats/char (unigram ${entropy.toFixed(4)} nats/char) | lr ${opt.lr.toExponential(2)} | ${int(recent)} tokens/s | ${secs(timedSteps ? timedMs / timedSteps : ms)}/step | elapsed ${secs(elapsed())}`;
        if (bar) bar.stop();
        log(line);
        if (bar) bar.start(horizon ?? total ?? 1, step, { loss: value.toFixed(4), rate: int(recent), time: secs(elapsed()) });
        windowStart = performance.now();
        windowSteps = 0;
        windowLoss = 0;
      }
      if (sampleEvery > 0 && step % sampleEvery === 0 && !last) {
        if (bar) bar.stop();
        await sample(step);
        if (bar) bar.start(horizon ?? total ?? 1, step, { loss: value.toFixed(4), rate: int(recent), time: secs(elapsed()) });
      }
      if (step % checkpointEvery === 0 && !last) await writeCheckpoint();
      // let a Ctrl-C (SIGINT) in between steps
      await new Promise((r) => setImmediate(r));
    }
    if (bar) bar.stop();
    bar = null;
    if (o.interrupt?.aborted) stoppedBy = 'interrupt';
    const msPerStep = timedSteps ? timedMs / timedSteps : NaN;
    const result: TrainLmResult = { backend: backend.name, steps: step, losses, evals, unigramEntropy: entropy, msPerStep, tokensPerSecond: (B * T) / (msPerStep / 1000), parameters: nParams, samples, stoppedBy };
    if (stoppedBy === 'interrupt') {
      await writeCheckpoint();
      log(`interrupted after step ${step}: checkpoint written to ${ckptDir}`);
      log(`continue with: axon train ${resumeArgs(o, ckptDir)}`);
      return { ...result, interrupted: { step, checkpointDir: ckptDir } };
    }
    if (stoppedBy === 'time') log(`time budget of ${o.timeMinutes} min reached after step ${step}`);
    if (timedSteps > 0) log(`trained ${int(step)} steps (${int(step * B * T)} tokens) in ${secs(elapsed())}: ${secs(msPerStep)}/step, ${int(result.tokensPerSecond)} tokens/s`);
    if (o.checkpointDir !== undefined) await writeCheckpoint(); // the end of the run: a later run may continue it
    if (o.output !== undefined) {
      await saveLm(o.output, model, tokenizer, info());
      log(`saved the model and its tokenizer to ${o.output}`);
    }
    await sample(step);
    return result;
  } finally {
    (bar as cliProgress.SingleBar | null)?.stop();
    opt?.dispose();
    for (const t of Object.values(start.optimizer?.tensors ?? {})) t.dispose();
    model.dispose();
  }
}

/** Up to `batches × B` windows of the validation ids, spread evenly over them (all of them when fewer). */
function evalWindows(ids: Int32Array, T: number, B: number, batches: number): { x: Int32Array; y: Int32Array; rows: number }[] {
  const fit = Math.floor((ids.length - 1) / T);
  const want = Math.min(fit, batches * B);
  const starts: number[] = [];
  if (want === fit) for (let i = 0; i < fit; i++) starts.push(i * T);
  else for (let i = 0; i < want; i++) starts.push(Math.round((i * (ids.length - T - 1)) / Math.max(1, want - 1)));
  const out: { x: Int32Array; y: Int32Array; rows: number }[] = [];
  for (let i = 0; i < starts.length; i += B) {
    const rows = Math.min(B, starts.length - i);
    const x = new Int32Array(rows * T);
    const y = new Int32Array(rows * T);
    for (let r = 0; r < rows; r++) {
      const s = starts[i + r]!;
      x.set(ids.subarray(s, s + T), r * T);
      y.set(ids.subarray(s + 1, s + T + 1), r * T);
    }
    out.push({ x, y, rows });
  }
  return out;
}

/** The prompt of the samples printed while training: the validation text's first few words. */
function samplePrompt(valText: string, tok: LmTokenizer): string {
  const m = /\S+\s+\S+/.exec(valText.slice(0, 200));
  const p = m ? m[0] : [...valText].slice(0, 8).join('');
  return tok.encode(p).length > 0 ? p : [...valText][0]!;
}

const indent = (s: string): string => s.split('\n').map((l) => `  │ ${l}`).join('\n');

/** The arguments that continue an interrupted run. */
function resumeArgs(o: TrainLmOptions, ckptDir: string): string {
  const q = (s: string): string => (/^[\w./:=-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  const a: string[] = [`--model ${o.model}`];
  const add = (flag: string, v: string | number | undefined): void => {
    if (v !== undefined) a.push(`${flag} ${typeof v === 'string' ? q(v) : v}`);
  };
  add('--data', o.data);
  add('--tokenizer', o.tokenizer);
  add('--vocab-size', o.vocabSize);
  add('--layers', o.layers);
  add('--heads', o.heads);
  add('--width', o.width);
  add('--context', o.context);
  add('--dropout', o.dropout);
  add('--batch-size', o.batchSize);
  add('--lr', o.lr);
  add('--warmup', o.warmup);
  add('--clip', o.clip);
  add('--steps', o.steps);
  add('--time', o.timeMinutes);
  add('--eval-every', o.evalEvery);
  add('--eval-batches', o.evalBatches);
  add('--val-fraction', o.valFraction);
  add('--sample-every', o.sampleEvery);
  add('--seed', o.seed);
  if (o.backend && o.backend !== 'auto') add('--backend', o.backend);
  if (o.threads !== undefined && o.threads !== 'auto') add('--threads', o.threads);
  add('--output', o.output);
  add('--checkpoint-every', o.checkpointEvery);
  a.push(`--checkpoint-dir ${q(ckptDir)}`, '--resume');
  return a.join(' ');
}
