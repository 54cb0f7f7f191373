import { spawn } from 'node:child_process';
import { backends, getNumThreads, ready, setBackend, setNumThreads, type Backend, type BackendInfo } from '@axon/core';
import '@axon/backend-wasm';
import { relaxedSimdFlagOn } from './v8-flags.js';

/**
 * Backend packages that are optional and start native code (WebGPU loads Dawn, which asks the
 * Vulkan driver for adapters and may print to the process's stderr from native code while it does:
 * Dawn's `maxDynamic… artificially reduced` lines on lavapipe). The CLI imports them only when one
 * of their backends is the one in use; `--backend auto` and `axon info` look at them in a child
 * process instead (see {@link probeBackends}).
 */
const OPTIONAL_BACKENDS = ['@axon/backend-webgpu'];

/** Loads the optional backend packages so they register, without failing when absent. */
export async function loadOptionalBackends(): Promise<void> {
  for (const spec of OPTIONAL_BACKENDS) {
    try {
      await import(spec);
    } catch {
      /* not installed: backends() will not list it */
    }
  }
}

/** What a child process found when it started the backends (see {@link probeBackends}). */
export interface BackendProbe {
  /** The backend `ready()` chose there (the best available), or null when none started. */
  readonly chosen: string | null;
  /** `backends()` there: every registered backend, with the reason any could not start. */
  readonly backends: readonly BackendInfo[];
  /** Whether each backend that started runs on a software-emulated device. */
  readonly emulated: Readonly<Record<string, boolean>>;
  /** What each backend that started reports in `features` (e.g. WASM's relaxed SIMD and threads), if anything. */
  readonly features: Readonly<Record<string, Readonly<Record<string, boolean | number | string>>>>;
  /** What the child printed on stderr: messages native drivers wrote while starting. */
  readonly driverOutput: string;
}

const PROBE_SCRIPT = `
const [coreUrl, urls, all, threads] = JSON.parse(process.argv[1]);
const core = await import(coreUrl);
core.setNumThreads(threads);
for (const u of urls) { try { await import(u); } catch {} }
let chosen = null;
try { chosen = await core.ready(); } catch {}
const emulated = {};
const features = {};
const note = (b) => { emulated[b.name] = b.emulated === true; if (b.features) features[b.name] = b.features; };
if (chosen) note(chosen);
if (all) {
  for (const b of core.backends()) {
    if (b.name === chosen?.name) continue;
    try { note(await core.setBackend(b.name)); } catch {}
  }
}
process.stdout.write(JSON.stringify({ chosen: chosen ? chosen.name : null, backends: core.backends(), emulated, features }));
process.exit(0); // native backends may keep threads alive
`;

/**
 * Starts the backends in a child process and reports what happened there: which one `ready()`
 * picks (with `all`, every backend is started, as `axon info` lists them). Native drivers' stderr
 * and crashes stay in the child, and this process loads no native backend it will not use. The
 * child starts its backends with this process's thread count (core's `getNumThreads()`, which
 * `--threads` sets), so the `features` it reports are those the backends have here.
 * Rejects when the child could not run or did not answer (the reason says why).
 */
export function probeBackends(opts: { all?: boolean; timeoutMs?: number } = {}): Promise<BackendProbe> {
  const resolveUrl = (spec: string): string | null => {
    try {
      return import.meta.resolve(spec);
    } catch {
      return null;
    }
  };
  const core = resolveUrl('@axon/core');
  if (core === null) return Promise.reject(new Error('cannot resolve @axon/core'));
  const urls = [resolveUrl('@axon/backend-wasm'), ...OPTIONAL_BACKENDS.map(resolveUrl)].filter((u): u is string => u !== null);
  return new Promise((resolve, reject) => {
    // the child runs the backends as this process would: with relaxed SIMD where axon turned it on
    const flags = relaxedSimdFlagOn() ? ['--experimental-wasm-relaxed-simd'] : [];
    const child = spawn(process.execPath, [...flags, '--input-type=module', '--eval', PROBE_SCRIPT, JSON.stringify([core, urls, opts.all === true, getNumThreads()])], {
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: opts.timeoutMs ?? 60_000,
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      try {
        if (code !== 0) throw new Error(`the probe exited with ${signal ?? `code ${code}`}${err.trim() ? `: ${err.trim().split('\n').slice(-3).join(' | ')}` : ''}`);
        const r = JSON.parse(out) as Omit<BackendProbe, 'driverOutput'>;
        resolve({ ...r, driverOutput: err });
      } catch (e) {
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
  });
}

/** Options of {@link chooseBackend}. */
export interface ChooseBackendOptions {
  /**
   * The thread count (`--threads`): an integer ≥ 1, or `auto` for one thread per core. Set with
   * core's `setNumThreads` before any backend starts; left as it is when undefined.
   */
  threads?: number | 'auto';
  /** Where warnings go (default: stderr). */
  warn?: (s: string) => void;
}

/**
 * Starts the named backend, or with `auto` (or no name) the best available one. The best is found
 * in a child process ({@link probeBackends}), so that a native backend is loaded here only when it
 * is the one chosen: on a machine whose only WebGPU adapter is software-emulated, `auto` runs on
 * WASM without Dawn ever loading in this process (and printing its driver warnings). With
 * `threads`, core's thread count is set first (a bad count is an `AxonError` before anything starts).
 */
export async function chooseBackend(name: string | undefined, opts: ChooseBackendOptions = {}): Promise<Backend> {
  const warn = opts.warn ?? ((s: string) => console.error(s));
  if (opts.threads !== undefined) setNumThreads(opts.threads);
  if (name && name !== 'auto') {
    if (!backends().some((b) => b.name === name)) await loadOptionalBackends();
    return setBackend(name);
  }
  let probe: BackendProbe;
  try {
    probe = await probeBackends();
  } catch (e) {
    warn(`axon: could not check which backends this machine runs (${(e as Error).message}); using the built-in ones`);
    return ready();
  }
  if (probe.chosen === null) return ready(); // nothing started there: the error names each reason
  if (!backends().some((b) => b.name === probe.chosen)) await loadOptionalBackends();
  try {
    return await setBackend(probe.chosen);
  } catch (e) {
    warn(`axon: ${(e as Error).message}; using the next available backend`);
    return ready();
  }
}

/** One line per registered backend with its status. */
export function describeBackends(): string[] {
  return backends().map((b) => `${b.active ? '*' : ' '} ${b.name.padEnd(8)} priority ${b.priority}  ${b.status}${b.reason ? ` — ${b.reason}` : ''}`);
}
