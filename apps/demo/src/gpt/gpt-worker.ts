/// <reference lib="webworker" />
/**
 * The GPT page's worker: owns the backend, the character tokenizer, the model and its optimizer.
 * Training runs here step by step (AdamW, warm-up + cosine schedule, gradient clipping), reporting
 * the loss, validation losses and sampled text; pause and stop take effect between two steps;
 * generation runs when training is paused, stopped or done.
 */
import { type Tensor, getBackend, noGrad, setBackend, setSeed, tensor, tidy } from '@axon/core';
import '@axon/backend-wasm';
import { CharTokenizer, splitTokens, tokenWindows, unigramEntropy, type TokenBatch } from '@axon/datasets';
import { crossEntropy } from '@axon/layers';
import { AdamW, LambdaLR, clipGradNorm } from '@axon/optimizers';
import { backendsReply, pickBackend, probeBackends, startThreads } from '../backends.js';
import type { BackendStatus } from '../protocol.js';
import { errorMessage } from '../util.js';
import { type GptConfig, type LanguageModel, buildGpt } from './model.js';
import { gptStep } from './step.js';
import type { GenerateParams, GptReply, GptRequest, GptTrainParams, TrainState } from './protocol.js';
import { checkTrainParams, lrFactor, samplePrompt } from './text.js';

declare const self: DedicatedWorkerGlobalScope;

const post = (m: GptReply): void => self.postMessage(m);

// ------------------------------------------------------------------ state
let statuses: BackendStatus[] = [];
let state: TrainState = 'idle';
let current: { model: LanguageModel; config: GptConfig; tokenizer: CharTokenizer } | null = null;
const ctl = { paused: false, stop: false, wake: null as (() => void) | null };
/** The generation in progress (the training loop waits for it before its next step). */
let generating: Promise<unknown> | null = null;

function setState(s: TrainState, message: string): void {
  state = s;
  post({ type: 'status', state: s, message });
}

/** Resolves after the event loop has run once (so pause/stop/generate messages get through). */
const channel = new MessageChannel();
const waiting: (() => void)[] = [];
channel.port1.onmessage = () => waiting.shift()?.();
function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => {
    waiting.push(resolve);
    channel.port2.postMessage(0);
  });
}

function postBackends(): void {
  post(backendsReply(statuses, self.crossOriginIsolated));
}

/** Moves the trained model to another backend: its weights through the host, into the same architecture built there. */
async function switchBackend(name: string): Promise<void> {
  if (state !== 'idle') throw new Error('stop training before switching backends');
  if (getBackend().name === name) return postBackends();
  const host = current ? await Promise.all(current.model.namedParameters().map(async ([n, p]) => [n, (await p.data()) as Float32Array, [...p.shape]] as const)) : null;
  await setBackend(name);
  await startThreads();
  if (current && host) {
    const next = buildGpt(current.config);
    const dict = Object.fromEntries(host.map(([n, d, s]) => [n, tensor(d, s)]));
    try {
      next.loadStateDict(dict);
    } finally {
      for (const t of Object.values(dict)) t.dispose();
    }
    current.model.dispose();
    current = { ...current, model: next };
  }
  postBackends();
}

// ------------------------------------------------------------------ training
async function train(text: string, p: GptTrainParams): Promise<void> {
  if (state !== 'idle') throw new Error('already training');
  checkTrainParams(p);
  ctl.paused = false;
  ctl.stop = false;
  const T = p.contextLength;
  const tokenizer = CharTokenizer.fromText(text);
  const ids = tokenizer.encode(text);
  // the last tenth is held out for the validation loss (no window crosses the split)
  const [trainIds, valIds] = splitTokens(ids, 0.9) as [Int32Array, Int32Array];
  if (valIds.length < T + 1) throw new Error(`the text is ${ids.length.toLocaleString('en-US')} characters: too short for a context of ${T} (the held-out last tenth needs ${T + 1}); paste at least ${((T + 1) * 10).toLocaleString('en-US')} characters or use a shorter context`);
  const config: GptConfig = { vocabSize: tokenizer.vocabSize, contextLength: T, width: p.width, heads: p.heads, layers: p.layers };

  setSeed(p.seed);
  const model = buildGpt(config);
  current?.model.dispose();
  current = { model, config, tokenizer };
  const params = model.parameters();
  post({
    type: 'model',
    description: `GPT: ${p.layers} block${p.layers === 1 ? '' : 's'}, width ${p.width}, ${p.heads} heads, context ${T}, ${tokenizer.vocabSize} characters`,
    params: model.countParams(),
    vocabSize: tokenizer.vocabSize,
    trainTokens: trainIds.length,
    valTokens: valIds.length,
    unigramEntropy: unigramEntropy(text),
  });
  setState('training', `Training the GPT on ${getBackend().name}…`);

  // AdamW (betas 0.9/0.95), weight decay 0.1 on matrices only (not on biases and norms' gains)
  const decay = params.filter((t) => t.rank >= 2);
  const noDecay = params.filter((t) => t.rank < 2);
  const opt = new AdamW([{ params: decay, weightDecay: 0.1 }, ...(noDecay.length ? [{ params: noDecay, weightDecay: 0 }] : [])], { lr: p.learningRate, betas: [0.9, 0.95] });
  const sched = new LambdaLR(opt, (t) => lrFactor(t, p.steps));
  // forward, loss and gradients, compiled (step.ts): bit-identical to the uncompiled step on WASM
  // and WebGPU (test/gpt-step.test.ts). Before core's fix of compile (84a6ca7) its WebGPU replays
  // zeroed crossEntropy's one-hot gradient (10 steps: loss 4.47 → 3.98 compiled, → 3.47 not).
  const lossAndGrads = gptStep(model, config.vocabSize);
  const windows = tokenWindows(trainIds, { contextLength: T, batchSize: p.batchSize, seed: p.seed, batchesPerEpoch: 1000 });
  const valBatches = (await tokenWindows(valIds, { contextLength: T, batchSize: p.batchSize, sampling: 'sequential' }).take(4).toArray()) as TokenBatch[];
  const prompt = samplePrompt(tokenizer.decode(valIds));

  const evaluate = async (): Promise<number> => {
    model.eval();
    try {
      let sum = 0;
      let count = 0;
      for (const b of valBatches) {
        const rows = b.x.shape[0]!;
        const s = tidy(() => noGrad(() => crossEntropy(model.forward(tensor(b.x.data as Int32Array, [rows, T], 'int32')).reshape([-1, config.vocabSize]), tensor(b.y.data as Int32Array, [rows * T], 'int32'), { validate: false, reduction: 'sum' })));
        sum += ((await s.data()) as Float32Array)[0]!;
        s.dispose();
        count += rows * T;
      }
      return sum / count;
    } finally {
      model.train();
    }
  };
  const sample = async (step: number): Promise<void> => {
    const out = await model.generate(tokenizer.encode(prompt), { maxTokens: p.sampleLength, temperature: 0.8, topK: 20, seed: p.seed + step });
    post({ type: 'sample', step, prompt, text: tokenizer.decode(out) });
  };

  let step = 0;
  let trainMs = 0;
  let windowLoss = 0;
  let windowSteps = 0;
  let windowMs = 0;
  let lastPost = performance.now();
  let pass = 0;
  let it = windows.iterate(pass)[Symbol.asyncIterator]();
  const nextBatch = async (): Promise<TokenBatch> => {
    let r = await it.next();
    if (r.done === true) {
      it = windows.iterate(++pass)[Symbol.asyncIterator]();
      r = await it.next();
    }
    return r.value as TokenBatch;
  };
  model.train();
  try {
    while (step < p.steps) {
      await yieldToLoop();
      if (ctl.paused && !ctl.stop) {
        setState('paused', `Paused after ${step} steps.`);
        while (ctl.paused && !ctl.stop) await new Promise<void>((r) => (ctl.wake = r));
        if (!ctl.stop) setState('training', `Training the GPT on ${getBackend().name}…`);
      }
      if (ctl.stop) break;
      if (generating) await generating;
      const t0 = performance.now();
      const b = await nextBatch();
      // the loss and the gradients outlive the scope (its inputs do not); each gradient becomes its parameter's grad
      const [loss, ...grads] = tidy(() => lossAndGrads(tensor(b.x.data as Int32Array, b.x.shape, 'int32'), tensor(b.y.data as Int32Array, b.y.shape, 'int32'), ...params)) as [Tensor, ...Tensor[]];
      params.forEach((q, k) => (q.grad = grads[k]!));
      clipGradNorm(params, 1).dispose();
      opt.step();
      opt.zeroGrad();
      sched.step();
      const value = ((await loss.data()) as Float32Array)[0]!;
      loss.dispose();
      step++;
      const ms = performance.now() - t0;
      trainMs += ms;
      windowMs += ms;
      if (!Number.isFinite(value)) throw new Error(`training diverged at step ${step} (loss ${value}); try a lower learning rate`);
      windowLoss += value;
      windowSteps++;
      const last = step === p.steps;
      // the first step alone (the untrained loss, about ln V), then about 5 times a second and at every sample
      if (step === 1 || performance.now() - lastPost > 200 || last || (p.sampleEvery > 0 && step % p.sampleEvery === 0)) {
        post({ type: 'progress', step, steps: p.steps, loss: windowLoss / windowSteps, lr: opt.lr, tokensPerSec: (windowSteps * p.batchSize * T) / Math.max(windowMs / 1000, 1e-6), seconds: trainMs / 1000 });
        lastPost = performance.now();
        windowLoss = 0;
        windowSteps = 0;
        windowMs = 0;
      }
      if ((p.sampleEvery > 0 && step % p.sampleEvery === 0) || last) {
        post({ type: 'eval', step, valLoss: await evaluate() });
        await sample(step);
      }
    }
  } finally {
    const stopped = ctl.stop;
    ctl.paused = false;
    ctl.stop = false;
    opt.zeroGrad(); // a step that failed half-way may have left gradients
    opt.dispose();
    post({ type: 'done', stopped, steps: step });
    postBackends();
    setState('idle', stopped ? `Stopped after ${step} steps.` : `Trained ${step} steps.`);
  }
}

// ------------------------------------------------------------------ generation
async function generate(id: number, prompt: string, g: GenerateParams): Promise<void> {
  if (!current) throw new Error('no model yet: train one first');
  if (state === 'training' || state === 'stopping') throw new Error('pause or stop training before generating');
  if (prompt === '') throw new Error('type a prompt (at least one character)');
  const { model, tokenizer } = current;
  const ids = tokenizer.encode(prompt); // an AxonError naming a character the text did not have
  const t0 = performance.now();
  const out = await model.generate(ids, { maxTokens: g.maxTokens, temperature: g.temperature, ...(g.topK > 0 ? { topK: g.topK } : {}), seed: g.seed });
  post({ type: 'generated', id, prompt, text: tokenizer.decode(out), seconds: (performance.now() - t0) / 1000 });
}

// ------------------------------------------------------------------ dispatch
async function handle(m: GptRequest): Promise<void> {
  switch (m.type) {
    case 'init':
      statuses = await probeBackends();
      await setBackend(pickBackend(statuses, m.backend));
      await startThreads();
      postBackends();
      setState('idle', 'Ready.');
      return;
    case 'setBackend':
      return switchBackend(m.name);
    case 'train':
      return train(m.text, m.params);
    case 'pause':
      if (state === 'training') ctl.paused = true;
      return;
    case 'resume':
      ctl.paused = false;
      ctl.wake?.();
      return;
    case 'stop':
      if (state === 'idle') return;
      ctl.stop = true;
      ctl.paused = false;
      ctl.wake?.();
      setState('stopping', 'Stopping…');
      return;
    case 'generate': {
      const run = generate(m.id, m.prompt, m.params);
      generating = run.catch(() => undefined);
      try {
        await run;
      } finally {
        generating = null;
      }
      return;
    }
  }
}

self.addEventListener('securitypolicyviolation', (ev) => {
  const e = ev as SecurityPolicyViolationEvent;
  post({ type: 'cspViolation', directive: e.effectiveDirective, blocked: e.blockedURI, source: e.sourceFile ? `${e.sourceFile}:${e.lineNumber}` : '' });
});

self.onmessage = (ev: MessageEvent<GptRequest>) => {
  const m = ev.data;
  handle(m).catch((e: unknown) => {
    if (m.type === 'train' || m.type === 'init') setState('idle', m.type === 'init' ? 'Could not start.' : 'Training failed.');
    post({ type: 'error', op: m.type, message: errorMessage(e), ...(m.type === 'generate' ? { id: m.id } : {}) });
  });
};
