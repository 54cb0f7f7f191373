import { dirname, join, resolve } from 'node:path';
import { AxonError, backends, readRegularFile, ready, setNumThreads } from '@axon/core';
import { MAX_MODEL_JSON_BYTES, parseSafetensors } from '@axon/layers';
import type { LmInfo } from '../lm/store.js';
import { describeTokenizer, tokenizerFromJson } from '../lm/tokenizer.js';
import { probeBackends, type BackendProbe } from '../backend.js';
import { featureList, featureReasons, int } from '../format.js';

/** Lines under a backend's line start under its state (`  * wasm     `). */
const INDENT = ' '.repeat(13);

/**
 * `axon info`: the backends this machine can run and, where one cannot, why. Every backend is
 * started in a child process ({@link probeBackends}): what native drivers print while starting
 * (Dawn's `maxDynamic… artificially reduced` warnings on lavapipe) is summed up in one line
 * instead of reaching the terminal. A backend's `features` follow its state: WASM says whether its
 * relaxed-SIMD matmul runs and how many threads its ops may use (`available (SIMD, relaxed SIMD,
 * 2 threads)`), with the reason for that count on the next line. `threads` (`--threads`) sets core's
 * thread count first, here and in the child; left as it is when undefined.
 */
export async function info(log: (s: string) => void = console.log, opts: { threads?: number | 'auto' } = {}): Promise<void> {
  if (opts.threads !== undefined) setNumThreads(opts.threads);
  log(`node ${process.version} on ${process.platform}/${process.arch}`);
  let probe: BackendProbe;
  try {
    probe = await probeBackends({ all: true });
  } catch (e) {
    // The child could not run or crashed (a driver's fault, say): list what runs in this process.
    log(`could not start the backends in a child process (${(e as Error).message}); the built-in ones:`);
    let active = null;
    try {
      active = await ready();
    } catch {
      /* every backend failed: reported below */
    }
    for (const b of backends()) {
      const features = b.name === active?.name ? active.features : undefined;
      log(`  ${b.name === active?.name ? '*' : ' '} ${b.name.padEnd(8)} ${b.status === 'ready' ? `available${featureList(features)}` : `unavailable: ${b.reason ?? b.status}`}`);
      for (const r of featureReasons(features)) log(`${INDENT}${r}`);
    }
    return;
  }
  log('backends (highest priority first; * = the default):');
  for (const b of probe.backends) {
    const emulated = probe.emulated[b.name];
    const state = emulated !== undefined ? `available${featureList(probe.features[b.name])}${emulated ? ' (software-emulated device: used only when selected)' : ''}` : `unavailable: ${b.reason ?? b.status}`;
    log(`  ${b.name === probe.chosen ? '*' : ' '} ${b.name.padEnd(8)} ${state}`);
    if (emulated !== undefined) for (const r of featureReasons(probe.features[b.name])) log(`${INDENT}${r}`);
  }
  const driver = probe.driverOutput.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  if (driver.length > 0) {
    log(`driver messages while starting the backends (not errors): ${driver.length} line${driver.length > 1 ? 's' : ''}, first: ${driver[0]}`);
  }
}

/**
 * `axon info <model>`: what a saved model folder holds, read from its files without starting a
 * backend or building the model. For a language model (`axon train --model gpt|lstm`): the
 * architecture, the parameter count (in all and by top-level module, from the weights file's
 * header), the tokenizer and how it was trained; for another model, its class and parameters.
 */
export async function modelInfo(path: string, log: (s: string) => void = console.log): Promise<{ parameters: number; languageModel: boolean }> {
  const op = 'info';
  const abs = resolve(path);
  const file = abs.endsWith('.json') ? abs : join(abs, 'model.json');
  const dir = dirname(file);
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(await readRegularFile(op, file, { maxBytes: MAX_MODEL_JSON_BYTES }))) as Record<string, unknown>;
    if (json === null || typeof json !== 'object') throw new Error('not a JSON object');
  } catch (e) {
    if (e instanceof AxonError) throw e;
    throw new AxonError(op, `'${file}' is not a model manifest: ${e instanceof Error ? e.message : String(e)}`);
  }
  const w = json.weights;
  if (typeof w !== 'string' || !/^[^/\\\0]+\.safetensors$/.test(w)) throw new AxonError(op, `'${file}' names no weights file`);
  const { tensors } = parseSafetensors(await readRegularFile(op, join(dir, w)));
  const groups = new Map<string, number>();
  let total = 0;
  let bytes = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    total += n;
    bytes += t.data.byteLength;
    const parts = name.split('.');
    const key = /^\d+$/.test(parts[1] ?? '') ? `${parts[0]}.${parts[1]}` : parts[0]!;
    groups.set(key, (groups.get(key) ?? 0) + n);
  }
  // Repeated blocks (blocks.0, blocks.1, … of one size) are shown once, times their count.
  const shown: string[] = [];
  const seen = new Set<string>();
  for (const [k, n] of groups) {
    const m = /^(.*)\.(\d+)$/.exec(k);
    if (m) {
      if (seen.has(m[1]!)) continue;
      const same = [...groups].filter(([k2]) => k2.startsWith(`${m[1]}.`) && /^\d+$/.test(k2.slice(m[1]!.length + 1)));
      if (same.every(([, n2]) => n2 === n)) {
        seen.add(m[1]!);
        shown.push(`${m[1]}.0–${same.length - 1} ${int(n)} × ${same.length}`);
        continue;
      }
    }
    shown.push(`${k} ${int(n)}`);
  }
  const lm = json.languageModel as LmInfo | undefined;
  if (lm === undefined) {
    log(`${path}: a ${typeof json.className === 'string' ? json.className : 'model'} (not a language model)`);
    log(`  parameters: ${int(total)} (${(bytes / 2 ** 20).toFixed(2)} MiB): ${shown.join(' · ')}`);
    return { parameters: total, languageModel: false };
  }
  const tname = json.tokenizer;
  let tok = 'missing';
  if (typeof tname === 'string' && /^[^/\\\0]+$/.test(tname)) {
    try {
      tok = describeTokenizer(tokenizerFromJson(JSON.parse(new TextDecoder().decode(await readRegularFile(op, join(dir, tname), { maxBytes: 256 * 2 ** 20 }))), `'${tname}'`));
    } catch (e) {
      tok = `unreadable: ${e instanceof Error ? e.message : String(e)}`;
    }
  }
  const t = lm.training ?? {};
  const num = (v: unknown, d = 4): string => (typeof v === 'number' ? v.toFixed(d) : '-');
  log(`${path}: language model ${lm.model}${json.checkpoint !== undefined ? ' (a training checkpoint)' : ''}`);
  log(`  architecture: ${lm.model === 'gpt' ? 'GPT (token + learned position embeddings, pre-norm transformer blocks with causal self-attention and a GELU MLP, final LayerNorm, linear head)' : 'LSTM language model (embedding, LSTM, linear head)'}; ${Object.entries(lm.config).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  log(`  parameters: ${int(total)} (${(bytes / 2 ** 20).toFixed(2)} MiB float32): ${shown.join(' · ')}`);
  log(`  tokenizer: ${tok}`);
  if (typeof t.steps === 'number') {
    log(`  trained: ${int(t.steps)} steps (${int(typeof t.tokens === 'number' ? t.tokens : 0)} tokens) on ${String(t.data)}, batch ${String(t.batchSize)}, lr ${String(t.lr)}, seed ${String(t.seed)}; val_loss ${num(t.valLoss)} nats/token = ${num(t.valLossPerChar)} nats/char (unigram entropy ${num(t.unigramEntropy)} nats/char)`);
  }
  return { parameters: total, languageModel: true };
}
