// Language models in the CLI (issue 13): `axon train --model gpt|lstm` on a text, `axon generate`,
// `axon info <model>`, run as the built CLI in child processes (as users run it): a tiny GPT and a
// tiny LSTM train for a few dozen steps on a small text, save with their tokenizer, reload and
// generate — the same text for the same seed; bad arguments fail with a message before anything
// runs; Ctrl-C writes a checkpoint that --resume continues to the same weights, bit for bit;
// generate streams each token's text as it is sampled (BPE bytes held until a character is whole)
// and Ctrl-C stops it cleanly.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memory, setBackend } from '@axon/core';
import '@axon/backend-wasm';
import { parseSafetensors } from '@axon/layers';
import { BpeTokenizer, CharTokenizer } from '@axon/datasets';
import { tokenTextStream } from '../src/lm/tokenizer.js';
import { trainLm } from '../src/commands/train-lm.js';
import { generate } from '../src/commands/generate.js';
import { loadLm } from '../src/lm/store.js';

const cli = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'axon-cli-lm-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const axon = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 300_000, cwd: dir });

// A small text with structure to learn: simple sentences from a few words, deterministic.
const words = ['the cat', 'a dog', 'the bird', 'my friend', 'the old man', 'a child'];
const verbs = ['sat on', 'ran to', 'looked at', 'walked past', 'jumped over'];
const things = ['the mat', 'the log', 'a tree', 'the house', 'the river', 'a hill'];
let s = 7;
const rnd = (n: number): number => ((s = (s * 1103515245 + 12345) % 2147483648), s % n);
const sentences: string[] = [];
for (let i = 0; i < 400; i++) sentences.push(`${words[rnd(words.length)]} ${verbs[rnd(verbs.length)]} ${things[rnd(things.length)]}.`);
const TEXT = sentences.join(' ');
const textFile = join(dir, 'tiny.txt');
writeFileSync(textFile, TEXT);

const TINY_GPT = ['--model', 'gpt', '--data', textFile, '--layers', '1', '--heads', '2', '--width', '16', '--context', '16', '--batch-size', '8', '--lr', '0.01', '--backend', 'wasm', '--threads', '1', '--seed', '1', '--no-progress'];
const TINY_LSTM = ['--model', 'lstm', '--data', textFile, '--tokenizer', 'bpe', '--vocab-size', '300', '--layers', '1', '--width', '24', '--context', '12', '--batch-size', '8', '--lr', '0.01', '--backend', 'wasm', '--threads', '1', '--seed', '2', '--no-progress'];

/** The val_loss of each validation line of a training log. */
const valLosses = (out: string): number[] => [...out.matchAll(/val_loss ([\d.]+) nats\/token/g)].map((m) => Number(m[1]));
const trainLosses = (out: string): number[] => [...out.matchAll(/\| loss ([\d.]+) \|/g)].map((m) => Number(m[1]));

async function weights(path: string): Promise<Buffer[]> {
  const json = JSON.parse(readFileSync(join(path, 'model.json'), 'utf8')) as { weights: string };
  const { tensors } = parseSafetensors(new Uint8Array(readFileSync(join(path, json.weights))));
  return Object.keys(tensors).sort().map((k) => Buffer.from(tensors[k]!.data.buffer, tensors[k]!.data.byteOffset, tensors[k]!.data.byteLength));
}

describe('axon train --model gpt, generate, info', () => {
  const out = join(dir, 'gpt');
  let log = '';
  beforeAll(() => {
    const r = axon('train', ...TINY_GPT, '--steps', '60', '--eval-every', '20', '--output', out);
    log = r.stdout;
    expect(r.status, r.stderr + r.stdout).toBe(0);
  }, 300_000);

  it('trains: the log names the model, the data and the unigram entropy; the loss falls well below it', () => {
    expect(log).toMatch(/^axon train: model gpt \(vocabSize \d+, contextLength 16, width 16, heads 2, layers 1, dropout 0; [\d,]+ parameters\), backend wasm/m);
    expect(log).toMatch(/tokenizer char \(\d+ characters\)/);
    const entropy = Number(/unigram entropy of the text: ([\d.]+) nats\/char/.exec(log)?.[1]);
    expect(entropy).toBeGreaterThan(2.5);
    const val = valLosses(log);
    expect(val.length).toBe(3); // steps 20, 40, 60
    expect(val[2]!).toBeLessThan(val[0]!);
    expect(val[2]!).toBeLessThan(entropy * 0.7); // it learned more than letter frequencies
    const tr = trainLosses(log);
    expect(tr[tr.length - 1]!).toBeLessThan(tr[0]!);
    expect(log).toMatch(/trained 60 steps \([\d,]+ tokens\) in [\d.]+s: [\d.]+s\/step, [\d,]+ tokens\/s/);
    expect(log).toMatch(/saved the model and its tokenizer to /);
    expect(log).toMatch(/sample after step 60/);
    const files = readdirSync(out);
    expect(files.length).toBe(3);
    expect(files).toContain('model.json');
    expect(files.some((f) => /^model-[0-9a-f]{16}\.safetensors$/.test(f))).toBe(true);
    expect(files.some((f) => /^tokenizer-[0-9a-f]{16}\.json$/.test(f))).toBe(true);
  });

  it('generate: reloads the model and its tokenizer; the same seed gives the same text', () => {
    const a = axon('generate', out, '--prompt', 'the cat ', '--seed', '5', '--max-tokens', '40', '--backend', 'wasm');
    expect(a.status, a.stderr).toBe(0);
    expect(a.stdout.startsWith('the cat ')).toBe(true);
    expect([...a.stdout.trimEnd()].length).toBe(8 + 40); // char tokenizer: one character per token
    const b = axon('generate', out, '--prompt', 'the cat ', '--seed', '5', '--max-tokens', '40', '--backend', 'wasm');
    expect(b.stdout).toBe(a.stdout);
    const c = axon('generate', out, '--prompt', 'the cat ', '--seed', '6', '--max-tokens', '40', '--temperature', '1.5', '--backend', 'wasm');
    expect(c.status, c.stderr).toBe(0);
    expect(c.stdout).not.toBe(a.stdout);
    // greedy: the same whatever the seed
    const g1 = axon('generate', out, '--prompt', 'a dog ', '--temperature', '0', '--seed', '1', '--max-tokens', '30', '--backend', 'wasm');
    const g2 = axon('generate', out, '--prompt', 'a dog ', '--temperature', '0', '--seed', '2', '--max-tokens', '30', '--backend', 'wasm');
    expect(g1.status, g1.stderr).toBe(0);
    expect(g1.stdout).toBe(g2.stdout);
  });

  it('generate streams: each token\'s text is written as it is sampled; a signal stops it with the text so far, leaking nothing', async () => {
    await setBackend('wasm');
    const full = await generate({ path: out, prompt: 'the cat ', maxTokens: 30, seed: 5, backend: 'wasm' }, () => undefined, () => undefined);
    const before = memory();
    const stop = new AbortController();
    const writes: string[] = [];
    const logs: string[] = [];
    const r = await generate({ path: out, prompt: 'the cat ', maxTokens: 30, seed: 5, backend: 'wasm', signal: stop.signal }, (piece) => {
      writes.push(piece);
      // the prompt, then one character per token (char tokenizer): stop after the 5th token's text
      if (writes.length === 6) stop.abort();
    }, (line) => void logs.push(line));
    expect(r.stopped).toBe(true);
    expect(r.ids).toEqual(full.ids.slice(0, 5));
    expect(writes.length).toBe(7); // prompt, 5 tokens, the final newline
    expect(writes.join('')).toBe(`${r.text}\n`);
    expect(full.text.startsWith(r.text)).toBe(true);
    expect(logs.join('\n')).toMatch(/^stopped \(interrupted\) after 5 tokens in /);
    expect(memory().numTensors).toBe(before.numTensors);
    expect(memory().numBytes).toBe(before.numBytes);
    // a write that fails stops generation and propagates, leaking nothing
    const boom = new Error('EPIPE');
    await expect(generate({ path: out, prompt: 'the cat ', maxTokens: 30, seed: 5, backend: 'wasm' }, (piece) => {
      if (piece !== 'the cat ') throw boom;
    }, () => undefined)).rejects.toBe(boom);
    expect(memory().numTensors).toBe(before.numTensors);
    expect(memory().numBytes).toBe(before.numBytes);
  });

  it('Ctrl-C stops generate cleanly: the text so far streamed and ended with a newline, exit status 130', async () => {
    const prompt = 'the cat ';
    const child = spawn(process.execPath, [cli, 'generate', out, '--prompt', prompt, '--max-tokens', '1000000', '--seed', '5', '--backend', 'wasm'], { cwd: dir });
    let stdout = '';
    let stderr = '';
    let sent = false;
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      stdout += d;
      // text arrives while generating (a million tokens would take far longer than this test)
      if (!sent && stdout.length >= prompt.length + 20) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    child.stderr.on('data', (d: string) => (stderr += d));
    // a CLI that prints nothing before the end (or ignores Ctrl-C) is killed after 60 s
    const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('close', (c, sg) => resolve([c, sg])));
    clearTimeout(guard);
    expect(sent).toBe(true);
    expect([code, signal], stderr).toEqual([130, null]);
    const n = Number(/stopped \(interrupted\) after (\d+) tokens in [\d.]+s/.exec(stderr)?.[1]);
    expect(n).toBeGreaterThanOrEqual(20);
    expect(n).toBeLessThan(1_000_000);
    expect(stdout.endsWith('\n')).toBe(true);
    expect([...stdout.slice(0, -1)].length).toBe(prompt.length + n); // char tokenizer: a character per token
    // what was streamed is the text of those n tokens
    const again = axon('generate', out, '--prompt', prompt, '--max-tokens', String(n), '--seed', '5', '--backend', 'wasm');
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toBe(stdout);
  }, 120_000);

  it('info: architecture, parameter count and tokenizer', async () => {
    const r = axon('info', out);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/: language model gpt$/m);
    expect(r.stdout).toMatch(/architecture: GPT .*vocabSize \d+, contextLength 16, width 16, heads 2, layers 1, dropout 0/);
    expect(r.stdout).toMatch(/tokenizer: char \(\d+ characters\)/);
    expect(r.stdout).toMatch(/trained: 60 steps \(7,680 tokens\)/);
    const n = Number(/parameters: ([\d,]+)/.exec(r.stdout)?.[1]?.replace(/,/g, ''));
    await setBackend('wasm');
    const lm = await loadLm(out);
    try {
      expect(n).toBe(lm.model.countParams());
    } finally {
      lm.model.dispose();
    }
  });

  it('generate refuses what it cannot do, saying why', () => {
    const empty = axon('generate', out, '--prompt', '', '--backend', 'wasm');
    expect(empty.status).toBe(1);
    expect(empty.stderr).toMatch(/--prompt is empty/);
    const unknown = axon('generate', out, '--prompt', 'the zebra', '--backend', 'wasm');
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toMatch(/--prompt cannot be encoded by the model's tokenizer, char \(\d+ characters\): character "z" \(U\+007A\) at index 4 \(UTF-16\) is not in the vocabulary of \d+ characters$/m);
    const missing = axon('generate', join(dir, 'nothing-here'), '--prompt', 'the', '--backend', 'wasm');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/not found.*nothing-here/);
    const bad = axon('generate', out, '--prompt', 'the', '--temperature', '-1');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/--temperature must be a decimal number ≥ 0, got '-1'/);
    const topk = axon('generate', out, '--prompt', 'the', '--top-k', '0');
    expect(topk.status).toBe(1);
    expect(topk.stderr).toMatch(/--top-k must be a positive integer/);
    const noPrompt = axon('generate', out);
    expect(noPrompt.status).toBe(1);
    expect(noPrompt.stderr).toMatch(/required option '-p, --prompt <text>' not specified/);
  });
});

describe('streamed decoding (tokenTextStream)', () => {
  it('holds a BPE token\'s bytes until they complete a character; every split decodes to exactly decode(ids)', () => {
    const text = 'déjà vu 🙂 naïve — 日本 ok';
    const tok = BpeTokenizer.train(`${text} ${text} ${text}`, { vocabSize: 300 });
    const bytes = [...new TextEncoder().encode(text)]; // the byte tokens 0…255, one byte each
    expect(tok.decode(bytes)).toBe(text);
    for (const ids of [Array.from(tok.encode(text)), bytes]) {
      const st = tokenTextStream(tok);
      const pieces = ids.map((id) => st.push(id));
      expect(pieces.join('') + st.end()).toBe(text);
      expect(pieces.join('')).not.toContain('\ufffd');
    }
    // the emoji's four bytes: nothing until the last one
    const st = tokenTextStream(tok);
    expect([240, 159, 153, 130].map((id) => st.push(id))).toEqual(['', '', '', '🙂']);
    expect(st.end()).toBe('');
    // broken UTF-8 (a truncated character at the end, a stray byte) decodes as decode() does
    for (const ids of [[104, 105, 240, 159, 153], [0xff, 65, 0xc3], [0xe6, 0x97, 65]]) {
      const s2 = tokenTextStream(tok);
      expect(ids.map((id) => s2.push(id)).join('') + s2.end()).toBe(tok.decode(ids));
    }
    // a character tokenizer's tokens are whole characters
    const chars = CharTokenizer.fromText('a😀b');
    const ids = Array.from(chars.encode('b😀a😀'));
    const cs = tokenTextStream(chars);
    expect(ids.map((id) => cs.push(id))).toEqual(['b', '😀', 'a', '😀']);
    expect(cs.end()).toBe('');
  });
});

describe('axon train --model lstm --tokenizer bpe', () => {
  it('trains, saves with its BPE tokenizer, generates reproducibly', () => {
    const out = join(dir, 'lstm');
    const r = axon('train', ...TINY_LSTM, '--steps', '40', '--eval-every', '20', '--output', out);
    expect(r.status, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toMatch(/trained a BPE tokenizer on the training text in [\d.]+s: 300 tokens/);
    expect(r.stdout).toMatch(/tokenizer bpe \(byte-level, GPT-2 pre-tokenizer, 300 tokens: 256 bytes \+ 44 merges\)/);
    // BPE: the loss per token is also given per character
    expect(r.stdout).toMatch(/val_loss [\d.]+ nats\/token = [\d.]+ nats\/char \(unigram [\d.]+ nats\/char\)/);
    const val = valLosses(r.stdout);
    expect(val[1]!).toBeLessThan(val[0]!);
    const a = axon('generate', out, '--prompt', 'the bird', '--seed', '3', '--max-tokens', '20', '--backend', 'wasm');
    const b = axon('generate', out, '--prompt', 'the bird', '--seed', '3', '--max-tokens', '20', '--backend', 'wasm');
    expect(a.status, a.stderr).toBe(0);
    expect(a.stdout.startsWith('the bird')).toBe(true);
    expect(a.stdout).toBe(b.stdout);
    const i = axon('info', out);
    expect(i.stdout).toMatch(/language model lstm/);
    expect(i.stdout).toMatch(/tokenizer: bpe \(byte-level, GPT-2 pre-tokenizer, 300 tokens/);
  }, 300_000);
});

describe('--time and the built-in corpus', () => {
  it('--time alone: the speed of the first steps fixes the schedule, and training stops when the time is up', () => {
    const r = axon('train', ...TINY_GPT, '--time', '0.1', '--eval-every', '1000');
    expect(r.status, r.stderr).toBe(0);
    const horizon = Number(/the time budget allows about ([\d,]+) steps/.exec(r.stdout)?.[1]?.replace(/,/g, ''));
    expect(horizon).toBeGreaterThan(10);
    const steps = Number(/time budget of 0\.1 min reached after step (\d+)/.exec(r.stdout)?.[1]);
    expect(steps).toBeGreaterThan(10);
    expect(r.stdout).toMatch(/val_loss [\d.]+ nats\/token/); // validated at the end
  }, 120_000);

  it('--data defaults to the State of the Union corpus', () => {
    const r = axon('train', '--model', 'gpt', '--layers', '1', '--heads', '1', '--width', '8', '--context', '8', '--batch-size', '2', '--steps', '2', '--eval-batches', '1', '--sample-tokens', '5', '--backend', 'wasm', '--no-progress');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/data sotu \(State of the Union addresses .*\): 10,\d{3},\d{3} characters, tokenizer char \(98 characters\)/);
    expect(r.stdout).toMatch(/unigram entropy of the text: 3\.01\d\d nats\/char/);
  }, 120_000);
});

describe('bad arguments fail before training', () => {
  it('flags of the other kind of model, bad sizes, bad paths, a text too short', () => {
    const cases: [string[], RegExp][] = [
      [['--model', 'gpt', '--epochs', '2'], /--epochs applies to MNIST models \(mlp, cnn\), not to --model gpt/],
      [['--model', 'gpt', '--limit', '100', '--augment'], /--limit, --augment apply to MNIST models/],
      [['--model', 'gpt', '--optimizer', 'sgd'], /--optimizer applies to MNIST models \(mlp, cnn\), not to --model gpt/],
      [['--model', 'mlp', '--optimizer', 'adamx'], /'--optimizer <name>' argument 'adamx' is invalid\. Allowed choices are sgd, adam, adamw, rmsprop, adagrad, adamax, nadam, radam, adadelta/],
      [['--model', 'mlp', '--heads', '2'], /--heads applies to language models \(--model gpt or lstm\), not to --model mlp/],
      [['--model', 'lstm', '--heads', '2'], /--heads applies to --model gpt/],
      [['--model', 'gpt', '--tokenizer', 'word'], /--tokenizer must be char or bpe, got 'word'/],
      [['--model', 'gpt', '--vocab-size', '300'], /--vocab-size applies to --tokenizer bpe/],
      [['--model', 'gpt', '--tokenizer', 'bpe', '--vocab-size', '100'], /--vocab-size must be from 256/],
      [['--model', 'gpt', '--width', '30', '--heads', '4'], /--width 30 must be a multiple of --heads 4/],
      [['--model', 'gpt', '--steps', '0'], /--steps must be a positive integer written in decimal digits, got '0'/],
      [['--model', 'gpt', '--time', 'soon'], /--time must be a positive decimal number, got 'soon'/],
      [['--model', 'gpt', '--output', '/proc/axon-lm'], /--output \/proc\/axon-lm is on a system pseudo-filesystem/],
      [['--model', 'gpt', '--output', join(dir, 'm.json')], /a language model is saved as a folder/],
      [['--model', 'gpt', '--resume'], /--resume needs --checkpoint-dir/],
      [['--model', 'gpt', '--data', join(dir, 'no-such.txt'), '--backend', 'wasm'], /file not found: .*no-such\.txt/],
      [['--model', 'gpt', '--data', dir, '--backend', 'wasm'], /not a regular file|is a directory/],
      [['--model', 'gpt', '--data', textFile, '--context', '5000', '--backend', 'wasm'], /too few for --context 5000/],
    ];
    for (const [args, want] of cases) {
      const r = axon('train', ...args);
      expect(r.status, args.join(' ')).toBe(1);
      expect(r.stderr, args.join(' ')).toMatch(want);
      expect(r.stdout, args.join(' ')).not.toMatch(/^step /m);
    }
  });

  it('generate and info on a model that is not a language model', () => {
    const mnist = join(dir, 'mnist');
    const t = axon('train', '--backend', 'wasm', '--epochs', '1', '--limit', '100', '--batch-size', '100', '--no-progress', '--output', mnist);
    expect(t.status, t.stderr).toBe(0);
    const g = axon('generate', mnist, '--prompt', 'hello', '--backend', 'wasm');
    expect(g.status).toBe(1);
    expect(g.stderr).toMatch(/holds a Sequential model, not a language model: train one with axon train --model gpt/);
    const i = axon('info', mnist);
    expect(i.status, i.stderr).toBe(0);
    expect(i.stdout).toMatch(/a Sequential \(not a language model\)/);
    expect(i.stdout).toMatch(/parameters: 101,770/);
  }, 120_000);
});

describe('Ctrl-C and --resume', () => {
  it('SIGINT finishes the step, writes a checkpoint and says how to continue; --resume ends bit-identical to an uninterrupted run', async () => {
    const args = [...TINY_GPT, '--steps', '40', '--eval-every', '1', '--eval-batches', '1', '--checkpoint-every', '1000'];
    const ref = axon('train', ...args, '--output', join(dir, 'ref'), '--checkpoint-dir', join(dir, 'ref.ckpt'));
    expect(ref.status, ref.stderr).toBe(0);
    const out = join(dir, 'run');
    const ckpt = join(dir, 'run.ckpt');
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, [cli, 'train', ...args, '--output', out, '--checkpoint-dir', ckpt], { cwd: dir });
      let so = '';
      let se = '';
      let sent = false;
      child.stdout.setEncoding('utf8').on('data', (c: string) => {
        so += c;
        if (!sent && /^step 5\//m.test(so)) {
          sent = true;
          child.kill('SIGINT');
        }
      });
      child.stderr.setEncoding('utf8').on('data', (c: string) => (se += c));
      child.on('error', reject);
      child.on('exit', (c) => resolve({ code: c, stdout: so, stderr: se }));
    });
    expect(code, stderr + stdout).toBe(130);
    expect(stderr).toMatch(/stopping after this step to write a checkpoint/);
    const at = Number(/^interrupted after step (\d+): checkpoint written to (.*)$/m.exec(stdout)?.[1]);
    expect(at).toBeGreaterThanOrEqual(5);
    expect(at).toBeLessThan(40);
    expect(stdout).toMatch(/^continue with: axon train --model gpt .*--checkpoint-dir .*run\.ckpt --resume$/m);
    expect(() => readFileSync(join(out, 'model.json'))).toThrow(); // not finished: nothing saved as the model
    const rest = axon('train', ...args, '--output', out, '--checkpoint-dir', ckpt, '--resume');
    expect(rest.status, rest.stderr).toBe(0);
    expect(rest.stdout).toMatch(new RegExp(`resuming from .*run\\.ckpt: after step ${at}`));
    // the losses after the interruption are those of the uninterrupted run, and so are the weights
    expect(trainLosses(rest.stdout)).toEqual(trainLosses(ref.stdout).slice(at));
    const [w, r] = [await weights(out), await weights(join(dir, 'ref'))];
    expect(w.length).toBe(r.length);
    w.forEach((x, k) => expect(x.equals(r[k]!), `tensor ${k}`).toBe(true));
  }, 300_000);

  it('--resume with different arguments is refused', () => {
    const r = axon('train', ...TINY_GPT, '--steps', '40', '--width', '32', '--checkpoint-dir', join(dir, 'ref.ckpt'), '--resume');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/--resume: the checkpoint in .*ref\.ckpt is of a different run/);
  });
});

describe('on WebGPU (asynchronous reads only)', () => {
  // As test/webgpu.test.ts: SwiftShader when Debian's chromium ships it (lavapipe crashes on long
  // runs), else the vitest config's software driver; a SIGSEGV of the driver is retried.
  const swiftshader = '/usr/lib/chromium/vk_swiftshader_icd.json';
  const env = existsSync(swiftshader) ? { ...process.env, VK_ICD_FILENAMES: swiftshader } : process.env;
  const run = (...args: string[]) => {
    for (let attempt = 1; ; attempt++) {
      const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 300_000, cwd: dir, env });
      if (r.signal === 'SIGSEGV' && attempt < 3) continue;
      return r;
    }
  };
  it('trains a tiny GPT, saves it and generates from it', () => {
    const out = join(dir, 'gpt-webgpu');
    const args = TINY_GPT.map((a) => (a === 'wasm' ? 'webgpu' : a));
    const r = run('train', ...args, '--steps', '8', '--eval-every', '4', '--eval-batches', '1', '--sample-tokens', '10', '--output', out);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/backend webgpu/);
    const val = valLosses(r.stdout);
    expect(val.length).toBe(2);
    expect(val.every((v) => Number.isFinite(v))).toBe(true);
    const a = run('generate', out, '--prompt', 'the ', '--max-tokens', '10', '--seed', '1', '--backend', 'webgpu');
    const b = run('generate', out, '--prompt', 'the ', '--max-tokens', '10', '--seed', '1', '--backend', 'webgpu');
    expect(a.status, a.stderr).toBe(0);
    expect([...a.stdout.trimEnd()].length).toBe(14);
    expect(a.stdout).toBe(b.stdout);
  }, 600_000);
});

describe('the compiled step', () => {
  it('trains to the same losses as the uncompiled one (GPT and LSTM)', async () => {
    await setBackend('wasm');
    for (const model of ['gpt', 'lstm'] as const) {
      const o = { model, data: textFile, layers: 1, heads: model === 'gpt' ? 2 : undefined, width: 16, context: 8, batchSize: 4, lr: 0.01, steps: 6, evalEvery: 6, evalBatches: 1, seed: 4, backend: 'wasm', threads: 1, sampleTokens: 1 } as const;
      const a = await trainLm({ ...o, compile: true }, () => undefined);
      const b = await trainLm({ ...o, compile: false }, () => undefined);
      expect(a.losses, model).toEqual(b.losses);
    }
  }, 120_000);

  it('trains to the same losses as the uncompiled one on WebGPU, through its atomic scatterAdd', async () => {
    // 16 × 64 = 1,024 targets over 1,024·V logits: crossEntropy's gradient is a scatterAdd that
    // WebGPU runs with atomics after filling its output with zeros — the fill a compiled replay once
    // re-issued after the adds, zeroing them (a GPT step compiled on WebGPU lost the one-hot term of
    // its gradient). Fails, never skips, when no WebGPU adapter can be had.
    const vocab = new Set(TEXT).size;
    expect(1024 * 1024 * vocab).toBeGreaterThan(2 ** 24); // the atomic path, not the gathering one
    const o = { model: 'gpt', data: textFile, layers: 1, heads: 2, width: 16, context: 64, batchSize: 16, lr: 0.01, steps: 4, evalEvery: 4, evalBatches: 1, seed: 4, backend: 'webgpu', sampleTokens: 1 } as const;
    const a = await trainLm({ ...o, compile: true }, () => undefined);
    const b = await trainLm({ ...o, compile: false }, () => undefined);
    expect(a.losses.length).toBe(4);
    expect(a.losses).toEqual(b.losses);
    await setBackend('wasm');
  }, 300_000);
});

describe('in process', () => {
  it('trainLm and generate leak no tensors', async () => {
    await setBackend('wasm');
    const before = memory();
    const out = join(dir, 'leak');
    const r = await trainLm({ model: 'gpt', data: textFile, layers: 1, heads: 2, width: 16, context: 16, batchSize: 4, steps: 5, evalEvery: 5, seed: 0, backend: 'wasm', output: out, sampleTokens: 5 }, () => undefined);
    expect(r.steps).toBe(5);
    expect(r.losses.length).toBe(5);
    const g = await generate({ path: out, prompt: 'the ', maxTokens: 5, backend: 'wasm' }, () => undefined, () => undefined);
    expect(g.ids.length).toBe(5);
    // the LSTM's step runs compiled; a checkpoint (optimizer state) is written and read back
    const ck = join(dir, 'leak-lstm.ckpt');
    await trainLm({ model: 'lstm', data: textFile, layers: 1, width: 8, context: 8, batchSize: 4, steps: 4, evalEvery: 2, seed: 0, backend: 'wasm', checkpointDir: ck, sampleTokens: 3 }, () => undefined);
    await trainLm({ model: 'lstm', data: textFile, layers: 1, width: 8, context: 8, batchSize: 4, steps: 6, evalEvery: 2, seed: 0, backend: 'wasm', checkpointDir: ck, resume: true, sampleTokens: 3 }, () => undefined);
    const after = memory();
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numBytes).toBe(before.numBytes);
  }, 120_000);
});
