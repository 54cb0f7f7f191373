/**
 * PyTorch as a peer: run out of process with Debian's `/usr/bin/python3` (package python3-torch),
 * on T threads (`torch.set_num_threads(T)` in the script, OMP/OPENBLAS/MKL_NUM_THREADS=T in its
 * environment; one process per thread count of `--threads`), the scripts in
 * `tooling/bench/python/`. What the `cnn` and `mlp` suites share:
 *
 * - {@link probeTorch}: before timing anything, `python/torch_common.py` measures a 1024×1024
 *   float32 `torch.matmul` on one thread. Debian's python3-torch calls whatever `libblas.so.3` is
 *   installed — without libopenblas0-pthread the reference BLAS, ~17× slower — and
 *   `torch.__config__.show()` says `BLAS_INFO=generic` either way, so only a measurement tells.
 *   Below {@link MIN_MATMUL_GFLOPS} the PyTorch cell is skipped, with a reason naming the package.
 * - {@link runPythonJson}: a one-shot script that prints one JSON line.
 * - {@link PythonWorker}: a script kept running that answers one JSON line per command on stdin,
 *   so that its epochs can be timed in rounds with the in-process libraries (the `mlp` and `cnn`
 *   suites; {@link startTorchWorker} checks the threads it reports).
 */

import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** Debian's interpreter, where apt's python3-torch lives (not a virtualenv's `python3`). */
export const PYTHON = '/usr/bin/python3';

/** The cell's reason when PyTorch cannot be imported. */
export const TORCH_MISSING = 'not installed (bash scripts/install-torch.sh: apt python3-torch libopenblas0-pthread)';

/**
 * Below this, one thread's 1024×1024 f32 matmul is not an optimized BLAS: OpenBLAS on one core of
 * this class of machine gives ~30 GFLOP/s (14 when the other core is busy: the probe runs beside
 * the suite's own start-up), the reference BLAS ~2.
 */
export const MIN_MATMUL_GFLOPS = 8;

/**
 * The environment a PyTorch script runs in: `threads` (default 1) for OpenMP and the BLAS, which
 * read these when they load (the scripts also call `torch.set_num_threads`).
 */
export function torchEnv(threads = 1): NodeJS.ProcessEnv {
  const t = String(threads);
  return { ...process.env, OMP_NUM_THREADS: t, OPENBLAS_NUM_THREADS: t, MKL_NUM_THREADS: t };
}

/**
 * Checks the threads a PyTorch script says it runs on (its ready line's `threads`, from
 * `torch.get_num_threads()`, and `blasThreads`, OpenBLAS's own count or null for another BLAS)
 * against the `threads` asked for; null when they agree, else what differs.
 */
export function threadsMismatch(hello: Record<string, unknown>, threads: number): string | null {
  if (hello.threads !== threads) return `torch.get_num_threads() is ${JSON.stringify(hello.threads)}, expected ${threads}`;
  if (hello.blasThreads !== null && hello.blasThreads !== undefined && hello.blasThreads !== threads) {
    return `OpenBLAS runs ${JSON.stringify(hello.blasThreads)} threads, expected ${threads}`;
  }
  return null;
}

/**
 * Starts a PyTorch worker script (`mlp_torch.py`, `cnn_torch.py`: arguments `dir N B T`) on
 * `threads` threads and checks its ready line: the digits, batch and threads it reports.
 */
export async function startTorchWorker(name: string, digits: number, batch: number, threads: number, dir: string, opts: PythonOptions = {}): Promise<PythonWorker> {
  const script = opts.script ?? pythonScript(name);
  if (!script) throw new Error(`python/${name} not found`);
  const w = await PythonWorker.start(script, [dir, String(digits), String(batch), String(threads)], { ...opts, threads });
  const h = w.hello;
  const wrong =
    h.n !== digits || h.batch !== batch
      ? `loaded ${String(h.n)} digits at batch ${String(h.batch)}, expected ${digits} at ${batch}`
      : threadsMismatch(h, threads);
  if (wrong !== null) {
    w.close();
    throw new Error(`${name}: ${wrong}`);
  }
  return w;
}

/** `tooling/bench/python/<name>`, found upwards from this module (src/peers or dist). */
export function pythonScript(name: string): string | undefined {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    const p = path.join(dir, 'python', name);
    if (existsSync(p)) return p;
    dir = path.dirname(dir);
  }
  return undefined;
}

/** Parses one line as a JSON object; undefined when it is not one. */
export function jsonObject(line: string): Record<string, unknown> | undefined {
  const s = line.trim();
  if (!s.startsWith('{')) return undefined;
  try {
    const v: unknown = JSON.parse(s);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The last line of a script's stdout that is a JSON object (a library may print before it). */
export function lastJsonLine(stdout: string): Record<string, unknown> {
  const lines = stdout.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const o = jsonObject(lines[i]);
    if (o) return o;
  }
  const tail = stdout.trim().split('\n').slice(-1)[0] ?? '';
  throw new Error(`no JSON line in the script's output${tail ? ` (last line: ${tail.slice(0, 200)})` : ' (it printed nothing)'}`);
}

/** A number field of a script's JSON reply, or an error naming the field and what came. */
export function numberField(o: Record<string, unknown>, key: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`PyTorch script: expected a number "${key}", got ${JSON.stringify(v)} in ${JSON.stringify(o)}`);
  return v;
}

/** The last meaningful line of a failed script's stderr (a Python traceback ends with the error). */
export function lastErrorLine(stderr: string, fallback: string): string {
  const lines = stderr.trim().split('\n').filter((l) => l.trim() !== '');
  return lines.length > 0 ? lines[lines.length - 1].trim() : fallback;
}

/** What the BLAS probe found: PyTorch usable (its version and matmul speed), or the reason it is skipped. */
export type TorchProbe =
  | { readonly ok: true; readonly version: string; readonly gflops: number }
  | { readonly ok: false; readonly skipped: string; readonly why?: string; readonly gflops?: number };

/**
 * Judges the probe's JSON line `{ torch, matmulGflops }`: skipped when the matmul ran below
 * `minGflops` (the reference BLAS: libopenblas0-pthread missing).
 */
export function judgeProbe(out: Record<string, unknown>, minGflops = MIN_MATMUL_GFLOPS): TorchProbe {
  const gflops = numberField(out, 'matmulGflops');
  const version = typeof out.torch === 'string' ? out.torch : '?';
  if (gflops < minGflops) {
    return {
      ok: false,
      gflops,
      skipped: `invalid: reference BLAS (${gflops.toFixed(1)} GFLOP/s matmul probe < ${minGflops}); apt install libopenblas0-pthread`,
      why:
        `PyTorch ${version}'s 1024×1024 f32 matmul on one thread ran at ${gflops.toFixed(1)} GFLOP/s, below ${minGflops}: ` +
        "its BLAS is Debian's reference build (~17× slower than OpenBLAS), not libopenblas0-pthread " +
        '(install it: `bash scripts/install-torch.sh` or `apt-get install libopenblas0-pthread`); torch.__config__.show() says BLAS_INFO=generic either way.',
    };
  }
  return { ok: true, version, gflops };
}

export interface PythonOptions {
  /** The interpreter (default {@link PYTHON}; tests pass another program that speaks the same protocol). */
  readonly python?: string;
  /** Kill the script after this long (ms). */
  readonly timeoutMs?: number;
  /** Threads for OpenMP and the BLAS ({@link torchEnv}; default 1). */
  readonly threads?: number;
  /** The script to run instead of the named one (tests). */
  readonly script?: string;
}

/**
 * Runs `python/torch_common.py` (one thread) and judges its matmul speed with {@link judgeProbe}.
 * `script` overrides the probe script (tests).
 */
export function probeTorch(opts: PythonOptions = {}): TorchProbe {
  const python = opts.python ?? PYTHON;
  const script = opts.script ?? pythonScript('torch_common.py');
  if (!script) return { ok: false, skipped: 'python/torch_common.py not found' };
  if (!existsSync(python)) return { ok: false, skipped: TORCH_MISSING, why: `${python} does not exist` };
  const r = spawnSync(python, [script], { env: torchEnv(), encoding: 'utf8', timeout: opts.timeoutMs ?? 120_000 });
  if (r.status !== 0) {
    const why = lastErrorLine(r.stderr ?? '', r.error?.message ?? `exit ${r.status ?? r.signal}`);
    if (/No module named '?torch'?/.test(r.stderr ?? '')) return { ok: false, skipped: TORCH_MISSING, why };
    return { ok: false, skipped: 'failed', why: `the BLAS probe failed: ${why}` };
  }
  try {
    return judgeProbe(lastJsonLine(r.stdout));
  } catch (e) {
    return { ok: false, skipped: 'failed', why: `the BLAS probe: ${e instanceof Error ? e.message : String(e)}` };
  }
}

/** One line for notes: what the probe measured. */
export function probeNote(p: TorchProbe): string | undefined {
  if (p.gflops === undefined) return undefined;
  return (
    `PyTorch BLAS check (before timing): a 1024×1024 float32 \`torch.matmul\` on one thread ran at ${p.gflops.toFixed(1)} GFLOP/s ` +
    `(${p.ok ? `≥ ${MIN_MATMUL_GFLOPS}: an optimized BLAS` : `< ${MIN_MATMUL_GFLOPS}: the reference BLAS, so the PyTorch cell is marked invalid`}; ` +
    "Debian's python3-torch without libopenblas0-pthread falls back to the reference BLAS, ~17× slower, and `torch.__config__.show()` cannot tell)."
  );
}

/** Runs a one-shot script that prints one JSON line; its parsed line, or why it failed. */
export function runPythonJson(script: string, args: readonly string[], opts: PythonOptions = {}): { ok: true; out: Record<string, unknown> } | { ok: false; why: string } {
  const r = spawnSync(opts.python ?? PYTHON, [script, ...args], { env: torchEnv(opts.threads), encoding: 'utf8', timeout: opts.timeoutMs ?? 300_000 });
  if (r.status !== 0) return { ok: false, why: lastErrorLine(r.stderr ?? '', r.error?.message ?? `exit ${r.status ?? r.signal}`) };
  try {
    return { ok: true, out: lastJsonLine(r.stdout) };
  } catch (e) {
    return { ok: false, why: e instanceof Error ? e.message : String(e) };
  }
}

/**
 * A script kept running: it prints `{"ready": true, ...}` once started, then answers each
 * command line on its stdin with one JSON line on its stdout; `{"error": message}` (or its exit)
 * fails the pending request. Commands go one at a time.
 */
export class PythonWorker {
  private readonly proc: ChildProcessWithoutNullStreams;
  private readonly state: WorkerState;
  private helloLine: Record<string, unknown> = {};

  private constructor(proc: ChildProcessWithoutNullStreams, state: WorkerState) {
    this.proc = proc;
    this.state = state;
  }

  /** The `{"ready": true, ...}` line the script printed when it started. */
  get hello(): Record<string, unknown> {
    return this.helloLine;
  }

  /** Starts `script args` and waits for its ready line. */
  static async start(script: string, args: readonly string[], opts: PythonOptions = {}): Promise<PythonWorker> {
    const name = path.basename(script);
    const proc = spawn(opts.python ?? PYTHON, [script, ...args], { env: torchEnv(opts.threads), stdio: ['pipe', 'pipe', 'pipe'] });
    const state: WorkerState = { name, stderr: '', pending: null, exited: null, timeoutMs: opts.timeoutMs ?? 600_000 };
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (d: string) => {
      state.stderr = (state.stderr + d).slice(-8192);
    });
    createInterface({ input: proc.stdout }).on('line', (line) => {
      const o = jsonObject(line);
      if (!o || !state.pending) return; // not a reply (a library printing to stdout)
      const p = state.pending;
      state.pending = null;
      if (typeof o.error === 'string') {
        state.exited ??= o.error; // the protocol: a script that reports an error exits
        p.reject(new Error(`${name}: ${o.error}`));
      } else p.resolve(o);
    });
    const fail = (msg: string) => {
      state.exited ??= msg;
      const p = state.pending;
      state.pending = null;
      p?.reject(new Error(`${name}: ${msg}`));
    };
    proc.on('error', (e) => fail(e.message));
    // 'close' (not 'exit'): after stdout has ended, so a last {"error": ...} line is read first.
    proc.on('close', (code, signal) => fail(lastErrorLine(state.stderr, `exited (${signal ?? `code ${code}`})`)));
    proc.stdin.on('error', () => undefined); // EPIPE after an exit: reported by 'close'
    const w = new PythonWorker(proc, state);
    const hello = await w.reply('start');
    if (hello.ready !== true) {
      w.close();
      throw new Error(`${name}: expected a ready line first, got ${JSON.stringify(hello)}`);
    }
    w.helloLine = hello;
    return w;
  }

  /** Sends `cmd` and resolves with the script's JSON reply. */
  request(cmd: string): Promise<Record<string, unknown>> {
    if (this.state.pending) return Promise.reject(new Error(`${this.state.name}: '${cmd}' sent before the previous reply`));
    const reply = this.reply(cmd);
    if (this.state.exited === null) this.proc.stdin.write(`${cmd}\n`);
    return reply;
  }

  /** Ends the script (closes its stdin; kills it if it is still busy). */
  close(): void {
    if (this.state.exited !== null) return;
    this.proc.stdin.end();
    const p = this.state.pending;
    if (p) {
      this.state.pending = null;
      p.reject(new Error(`${this.state.name}: closed`));
      this.proc.kill();
    }
  }

  /** The next reply (or the failure), with the timeout that kills a script that hangs. */
  private reply(what: string): Promise<Record<string, unknown>> {
    const st = this.state;
    if (st.exited !== null) return Promise.reject(new Error(`${st.name}: not running (${st.exited})`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        if (st.pending !== pending) return;
        st.pending = null;
        this.proc.kill();
        reject(new Error(`${st.name}: no reply to '${what}' within ${st.timeoutMs / 1000} s; killed`));
      }, st.timeoutMs);
      const pending: Pending = {
        resolve: (o) => {
          clearTimeout(timer);
          resolve(o);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      st.pending = pending;
    });
  }
}

interface Pending {
  readonly resolve: (o: Record<string, unknown>) => void;
  readonly reject: (e: Error) => void;
}

interface WorkerState {
  readonly name: string;
  stderr: string;
  pending: Pending | null;
  /** Why the process ended (null while it runs). */
  exited: string | null;
  readonly timeoutMs: number;
}
