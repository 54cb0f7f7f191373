// Runs every example (each `examples/*.ts`, found by listing the folder, so a new file is run
// without editing this test) in a child process through examples/run.mjs, with
// AXON_EXAMPLE_QUICK=1, and checks its exit code and its closing `RESULT {json}` line. The
// examples import the built @axon/* packages (dist/): turbo's test task builds them first
// (`pnpm exec turbo run test --filter=@axon/examples`).
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const runner = join(root, 'run.mjs');
const names = readdirSync(root)
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
  .sort()
  .map((f) => basename(f, '.ts'));

type Result = Record<string, unknown>;
interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  result: Result | null;
}

/** Runs one example to completion (at most `timeoutMs`), quick mode on. */
function runExample(name: string, env: Record<string, string> = {}, timeoutMs = 150_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [runner, name], {
      cwd: root,
      env: { ...process.env, AXON_EXAMPLE_QUICK: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = stdout.split('\n').reverse().find((l) => l.startsWith('RESULT '));
      let result: Result | null = null;
      if (line) {
        try {
          result = JSON.parse(line.slice('RESULT '.length)) as Result;
        } catch {
          result = null;
        }
      }
      resolve({ code, signal, stdout, stderr, result });
    });
  });
}

/** Runs an example and returns its RESULT, failing with its output when it did not succeed. */
async function resultOf(name: string, env: Record<string, string> = {}): Promise<Result> {
  const run = await runExample(name, env);
  const output = `--- stdout ---\n${run.stdout.slice(-4000)}\n--- stderr ---\n${run.stderr.slice(-4000)}`;
  expect(run.signal, `${name} was killed by ${run.signal}\n${output}`).toBeNull();
  expect(run.code, `${name} exited with ${run.code}\n${output}`).toBe(0);
  expect(run.result, `${name} printed no RESULT {json} line\n${output}`).not.toBeNull();
  return run.result!;
}

const num = (r: Result, key: string): number => {
  const v = r[key];
  if (typeof v !== 'number') throw new Error(`RESULT.${key} is not a number: ${JSON.stringify(v)}`);
  return v;
};
const nums = (r: Result, key: string): number[] => {
  const v = r[key];
  if (!Array.isArray(v)) throw new Error(`RESULT.${key} is not an array: ${JSON.stringify(v)}`);
  return v as number[];
};

/** The WebGPU example's own checks, whichever backend it ran on. */
function checkWebGPU(r: Result): void {
  expect(num(r, 'accuracy')).toBeGreaterThan(0.9);
  expect(num(r, 'matmulMaxDiff')).toBeLessThan(1e-4);
  const losses = nums(r, 'losses');
  expect(losses.at(-1)!).toBeLessThan(losses[0]! / 4);
}

/** One meaningful check per example, on its RESULT (quick mode). */
const checks: Record<string, (r: Result) => void> = {
  's1-sigmoid-neuron': (r) => {
    // S1: the loss falls at every step, and autograd's dL/dW is the seed's formula to float32 precision.
    expect(r['monotonic']).toBe(true);
    expect(num(r, 'lastLoss')).toBeLessThan(num(r, 'firstLoss'));
    expect(num(r, 'worstGradError')).toBeLessThan(1e-6);
  },
  's2-keras-mnist-mlp': (r) => {
    // S2 on 5,000 images for one epoch (the full run's ≥ 97.5% is checked by hand: see its comment).
    expect(num(r, 'trainImages')).toBe(5000);
    expect(nums(r, 'epochLoss')).toHaveLength(1);
    expect(num(r, 'testAccuracy')).toBeGreaterThan(0.8);
  },
  's3-functional-regression': (r) => {
    // S3: held-out MSE far below the target's variance; one prediction per held-out row.
    expect(num(r, 'heldOutMse')).toBeLessThan(0.05 * num(r, 'targetVariance'));
    expect(num(r, 'predictions')).toBe(num(r, 'rows'));
  },
  's4-pytorch-loop': (r) => {
    // S4: the output approaches 2.0 and the loss falls at every iteration.
    expect(Math.abs(num(r, 'finalOutput') - 2)).toBeLessThan(0.1);
    expect(r['fallsEachStep']).toBe(true);
  },
  'mnist-cnn': (r) => {
    expect(num(r, 'trainImages')).toBe(4000);
    expect(num(r, 'testAccuracy')).toBeGreaterThan(0.8);
  },
  'csv-regression': (r) => {
    // 8 rows with a missing value dropped; the model beats predicting the mean by far.
    expect(num(r, 'kept')).toBe(992);
    expect(num(r, 'r2')).toBeGreaterThan(0.95);
    expect(num(r, 'mae')).toBeLessThan(num(r, 'baselineMae') / 5);
  },
  'custom-layer': (r) => {
    expect(num(r, 'kerasAccuracy')).toBeGreaterThan(0.9);
    expect(r['reloadedSame']).toBe(true);
    expect(num(r, 'torchLastLoss')).toBeLessThan(num(r, 'torchFirstLoss') / 100);
  },
  'custom-gradient': (r) => {
    // The naive gradient of log(1 + eˣ) is NaN at x = 100; the custom one is σ(x) everywhere.
    const xs = [-5, 0, 5, 50, 100];
    expect(r['naiveGradient'] as unknown[]).toContain('NaN');
    nums(r, 'customGradient').forEach((g, i) => expect(g).toBeCloseTo(1 / (1 + Math.exp(-xs[i]!)), 6));
    expect(r['gradcheck']).toBe(true);
    // round() with its own gradient barely learns (only the bias moves); the straight-through one does.
    const [plainFirst, plainLast] = nums(r, 'plainLoss');
    const [steFirst, steLast] = nums(r, 'steLoss');
    expect(plainLast!).toBeGreaterThan(plainFirst! / 2);
    expect(steLast!).toBeLessThan(steFirst! / 5);
    nums(r, 'steWeights').forEach((w) => expect(Number.isInteger(w * 4)).toBe(true));
  },
  'save-and-load': (r) => {
    expect(r['sameModel']).toBe(true);
    expect(r['sameNet']).toBe(true);
    expect(r['resumedFrom']).toEqual({ epoch: 2, step: 8 });
    expect(r['sameWeights']).toBe(true);
  },
  memory: (r) => {
    expect(r['leakedTensors']).toBe(0);
    expect(r['leakedBytes']).toBe(0);
    expect(r['usingFreed']).toBe(true);
    expect(r['loopGrowth']).toBe(0);
    expect(r['leakSiteCount']).toBe(5);
  },
  'pytorch-ddp-roundtrip': (r) => {
    // The Keras ↔ PyTorch mapping is exact both ways, and the committed weights PyTorch trained with
    // DistributedDataParallel (BF16) classify the test slice far above chance (10%), as PyTorch
    // measured: the same weights and images, so at most a few near-tie argmaxes may differ.
    expect(r['initRoundTrip']).toBe(true);
    expect(r['trained']).toBe(true);
    expect(r['sourceDtype']).toBe('BF16');
    expect(num(r, 'testImages')).toBe(num(r, 'torchTestImages'));
    expect(num(r, 'accuracy')).toBeGreaterThan(0.9);
    expect(Math.abs(num(r, 'accuracy') - num(r, 'torchAccuracy'))).toBeLessThanOrEqual(3 / num(r, 'testImages'));
  },
  'onnx-export': (r) => {
    // The imported ONNX graph computes what the Axon model does; its parameters train.
    expect(num(r, 'sameDigits')).toBe(num(r, 'batch'));
    expect(num(r, 'maxDiff')).toBeLessThan(1e-5);
    expect(num(r, 'axonAccuracy')).toBeGreaterThan(0.5);
    expect(Math.abs(num(r, 'importedAccuracy') - num(r, 'axonAccuracy'))).toBeLessThanOrEqual(0.002);
    expect(num(r, 'fineTunedAccuracy')).toBeGreaterThan(num(r, 'importedAccuracy'));
    expect(num(r, 'bytes')).toBeGreaterThan(4 * 34826); // the float32 parameters are in the file
  },
  'webgpu-node': checkWebGPU,
  'char-gpt': (r) => {
    // 120 steps of a tiny GPT: below the unigram entropy on held-out text (it uses context), and a
    // saved model generates the same greedy text after loading.
    expect(num(r, 'steps')).toBe(120);
    expect(num(r, 'valAfter')).toBeLessThan(0.95 * num(r, 'unigramEntropy'));
    expect(num(r, 'valAfter')).toBeLessThan(num(r, 'valBefore'));
    expect(num(r, 'lastLoss')).toBeLessThan(num(r, 'firstLoss'));
    expect(num(r, 'sampledTokens')).toBe(40);
    expect(r['reloadedSame']).toBe(true);
  },
  'sequence-classifier': (r) => {
    // Both models beat chance (~50%) on unseen sequences; the loaded LSTM predicts identically.
    expect(num(r, 'lstmAccuracy')).toBeGreaterThan(0.65);
    expect(r['lstmSame']).toBe(true);
    const lstm = nums(r, 'lstmLoss');
    expect(lstm.at(-1)!).toBeLessThan(lstm[0]!);
    expect(num(r, 'attentionAccuracy')).toBeGreaterThan(0.75);
    const attn = nums(r, 'attentionLoss');
    expect(attn.at(-1)!).toBeLessThan(0.7 * attn[0]!);
  },
  'fusion-and-compile': (r) => {
    // fusion cuts the kernels of a training step by far; the compiled step traces once and learns
    expect(num(r, 'fusedKernels') * 2).toBeLessThan(num(r, 'eagerKernels'));
    expect(num(r, 'fusedGroups')).toBeGreaterThan(0);
    expect(num(r, 'traces')).toBe(1);
    expect(num(r, 'lastLoss')).toBeLessThan(1);
    expect(num(r, 'siluKernels')).toBe(1);
  },
};

describe('examples', () => {
  it('are all found', () => {
    for (const required of ['s1-sigmoid-neuron', 's2-keras-mnist-mlp', 's3-functional-regression', 's4-pytorch-loop', 'mnist-cnn', 'csv-regression', 'custom-layer', 'custom-gradient', 'webgpu-node', 'save-and-load', 'memory', 'fusion-and-compile', 'pytorch-ddp-roundtrip', 'onnx-export', 'char-gpt', 'sequence-classifier']) {
      expect(names).toContain(required);
    }
  });

  for (const name of names) {
    if (name === 'webgpu-node') continue; // run twice below, with and without a Vulkan driver
    it(`${name} runs and shows what it claims`, async () => {
      const check = checks[name];
      if (!check) throw new Error(`no check for examples/${name}.ts: add one to examples/test/examples.test.ts (and print a RESULT {json} line)`);
      check(await resultOf(name));
    });
  }

  // WebGPU where a Vulkan driver exists (the software one CI installs: vitest.config.ts sets
  // VK_ICD_FILENAMES), and the fallback to WASM where none does: pointed at a file that does not
  // exist, the Vulkan loader finds no driver at all.
  const icd = process.env.VK_ICD_FILENAMES;
  it(`webgpu-node uses WebGPU when a Vulkan driver is found (VK_ICD_FILENAMES=${icd ?? 'none found'})`, async () => {
    const r = await resultOf('webgpu-node');
    if (icd) {
      expect(r['fallbackReason'], `a driver was given (${icd}) but the example fell back`).toBeNull();
      expect(r['backend']).toBe('webgpu');
    } else {
      // No software driver installed: a machine's own GPU driver may still serve WebGPU.
      expect(r['backend'] === 'webgpu' ? r['fallbackReason'] === null : typeof r['fallbackReason'] === 'string').toBe(true);
    }
    checkWebGPU(r);
  });
  it('webgpu-node falls back to WASM, saying why, when there is no Vulkan driver', async () => {
    const r = await resultOf('webgpu-node', { VK_ICD_FILENAMES: join(root, 'no-such-driver.json') });
    expect(r['backend']).toBe('wasm');
    expect(String(r['fallbackReason'])).toMatch(/webgpu/i);
    checkWebGPU(r);
  });
});

describe('example files', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  for (const name of names) {
    it(`${name}.ts is a standalone, documented program`, () => {
      const text = readFileSync(join(root, `${name}.ts`), 'utf8');
      const lines = text.split('\n');
      // The docs site makes one page per example from this header: a title, then prose.
      expect(lines[0], 'the first line is the title: // <Title> — <what it shows>').toMatch(/^\/\/ \S.* — \S/);
      expect(lines[1]).toBe('//');
      expect(lines[2]).toMatch(/^\/\/ \S/);
      expect(text).toContain(`node examples/run.mjs ${name}`);
      // Only what a user's project can import: the public packages and Node's built-ins.
      const specifiers = [...text.matchAll(/^\s*import\s[^'"]*['"]([^'"]+)['"]/gm)].map((m) => m[1]!);
      expect(specifiers.length).toBeGreaterThan(0);
      for (const s of specifiers) expect(s, `${name}.ts imports '${s}'`).toMatch(/^(@axon\/[a-z-]+|node:[a-z/_]+)$/);
      expect(text).toContain('RESULT ');
      // Files it reads next to itself exist.
      for (const m of text.matchAll(/new URL\('(\.\/[^']+)', import\.meta\.url\)/g)) expect(existsSync(join(root, m[1]!)), m[1]).toBe(true);
    });
    it(`${name} is listed in examples/README.md`, () => {
      expect(readme).toContain(`${name}.ts`);
    });
  }
});
