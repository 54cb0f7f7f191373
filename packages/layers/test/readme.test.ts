// The README's examples in "Training that diverges", "Checkpoints and resuming" and "Bad input,
// sizes and memory" run as written and print what their comments say.
import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as core from '@axon/core';
import * as optimizers from '@axon/optimizers';
import * as layers from '../src/index.js';
import { useTestBackend } from './helpers.js';

beforeAll(async () => {
  await useTestBackend();
});

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

/** The first ```ts block after `heading`. */
function block(heading: string): string {
  const at = readme.indexOf(`${heading}\n`);
  expect(at, heading).toBeGreaterThanOrEqual(0);
  const m = /```ts\n([\s\S]*?)```/.exec(readme.slice(at));
  expect(m, `code block under ${heading}`).not.toBeNull();
  return m![1]!;
}

type Run = (...args: unknown[]) => Promise<void>;
const AsyncFunction = Object.getPrototypeOf(async () => undefined).constructor as new (...args: string[]) => Run;

/** Runs a README block (imports stripped, the packages' exports in scope; ` as const` dropped), returning what it logged. */
async function run(code: string): Promise<string[]> {
  const logs: string[] = [];
  const show = (v: unknown): string => (Array.isArray(v) ? `[${v.join(', ')}]` : String(v));
  const scope: Record<string, unknown> = { ...core, ...optimizers, ...layers, mkdtemp, tmpdir, join, console: { log: (...a: unknown[]) => logs.push(a.map(show).join(' ')) } };
  const body = code
    .split('\n')
    .filter((l) => !/^import\s/.test(l))
    .join('\n')
    .replace(/ as const/g, '');
  // a block, so that the example's own declarations may shadow the exports in scope
  await new AsyncFunction(...Object.keys(scope), `{\n${body}\n}`)(...Object.values(scope));
  return logs;
}

/** What the block's comments say `console.log(…); // out` prints. */
function expected(code: string): string[] {
  const out: string[] = [];
  for (const line of code.split('\n')) {
    if (!/^console\.log\(/.test(line.trim())) continue;
    const c = /; \/\/ (.*)$/.exec(line);
    if (c) out.push(c[1]!);
  }
  return out;
}

describe('README examples', () => {
  it('Training that diverges: TerminateOnNaN stops and says where', async () => {
    const code = block('### Training that diverges');
    const want = expected(code);
    expect(want.length).toBe(2);
    expect(await run(code)).toEqual(want);
  });

  it('Bad input, sizes and memory: a misspelt option, an oversized layer, a loss that leaves only its result', async () => {
    const code = block('### Bad input, sizes and memory');
    const want = expected(code);
    expect(want.length).toBe(3);
    const before = core.memory();
    expect(await run(code)).toEqual(want);
    expect(core.memory().numTensors).toBe(before.numTensors);
    expect(core.memory().numBytes).toBe(before.numBytes);
  });

  it('Convolutions, pooling and upsampling: shapes, PyTorch borders, nothing leaked', async () => {
    const code = block('### Convolutions, pooling and upsampling');
    const want = expected(code);
    expect(want.length).toBe(4);
    const before = core.memory().numTensors;
    expect(await run(code)).toEqual(want);
    expect(core.memory().numTensors).toBe(before);
  });

  it('Recurrent layers: PyTorch shapes and names, a masked Keras LSTM saved and loaded, nothing leaked', async () => {
    const code = block('### Recurrent layers');
    const want = expected(code);
    expect(want.length).toBe(4);
    const before = core.memory().numTensors;
    expect(await run(code)).toEqual(want);
    expect(core.memory().numTensors).toBe(before);
  });

  it('Attention, transformers and the GPT: shapes, a GPT trained and generating (streamed, stopped by a signal), a config + weights round trip, nothing leaked', async () => {
    const code = block('### Attention, transformers and the GPT');
    const want = expected(code);
    expect(want.length).toBe(7);
    const before = core.memory().numTensors;
    expect(await run(code)).toEqual(want);
    expect(core.memory().numTensors).toBe(before);
  });

  it('PyTorch weights: safetensors in and out — BF16 save, lazy open, PyTorch errors, the Keras MLP as an nn.Sequential state dict', async () => {
    const code = block('### PyTorch weights: safetensors in and out');
    const want = expected(code);
    expect(want.length).toBe(4);
    const before = core.memory().numTensors;
    expect(await run(code)).toEqual(want);
    expect(core.memory().numTensors).toBe(before);
  });

  it('Checkpoints and resuming: an interrupted run continues where it stopped', async () => {
    const code = block('### Checkpoints and resuming');
    const want = expected(code);
    expect(want.length).toBe(4);
    const before = core.memory().numTensors;
    expect(await run(code)).toEqual(want);
    expect(core.memory().numTensors).toBeGreaterThanOrEqual(before); // the example keeps its models alive
  });
});
