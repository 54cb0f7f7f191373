/**
 * `pnpm bench` — Axon against its peers, in one process run, one library after the other.
 *
 *   pnpm bench                                   # matmul suite, printed
 *   pnpm bench --suite all --write               # every suite, and rewrite BENCHMARKS.md's sections
 *   pnpm bench --sizes 256,512 --runs 5          # smaller run
 *
 * See README.md for what each suite measures and how to add one.
 */

import v8 from 'node:v8';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadLine, machineInfo, renderResult, renderRunInfo, writeSection, type RunInfo } from './harness.js';
import { PEER_IDS, type Suite, type SuiteOptions } from './suite.js';
import { SUITES } from './suites/index.js';
import { coresAvailable, defaultThreads, parseSimd, parseThreads, simd128ChildArgs, slowerWithThreadsWarnings } from './threads.js';

const RELAXED_FLAG = '--experimental-wasm-relaxed-simd';

/** The suites `--backend webgpu` runs (the default: webgpu). */
const WEBGPU_SUITES = ['webgpu', 'attention'] as const;

const HELP = `Usage: pnpm bench [options]

Options:
  --suite <id>          ${SUITES.map((s) => s.id).join(' | ')} | all   (default: matmul)
  --sizes <n,n,...>     matmul: n for n×n·n×n (default 256,512,1024); mlp: number of training digits (default 8000);
                        gpt: training steps per timed sample (default 10); attention: T (default 128,512,1024)
  --batch <b,b,...>     mlp: batch sizes, paired with --sizes, one row per pair (default 128);
                        e.g. --sizes 60000,8000 --batch 32,128; gpt: windows per batch (default 16)
  --runs <k>            timed runs per cell (default 7 for matmul, 5 for mlp and gpt; ≥ 5 for published figures)
  --warmup <k>          untimed warm-up calls per cell (default 2; mlp: 1 epoch; gpt: 1 sample)
  --min-sample-ms <ms>  a timed sample repeats the op until it lasts this long (default 100)
  --cpu-max-size <n>    largest matmul the tfjs cpu backend runs (default 512; its 1024 takes ~2 s per call)
  --only <ids>          run Axon and only these peers: ${PEER_IDS.join(',')} (torch: PyTorch, mlp, cnn and gpt)
  --backend <name>      Axon backend: wasm (default) | webgpu (runs the webgpu suite, or with
                        --suite attention the attention suite on Axon's WebGPU backend)
  --threads <t,t,...>   thread counts for Axon's wasm backend and PyTorch (counts or 'auto': the
                        cores available), each its own column (axon-wasm 1t, axon-wasm 2t, …),
                        timed interleaved (default: 1 and the cores available, here ${defaultThreads(coresAvailable()).join(',')})
  --simd <mode>         relaxed (default: the benchmark turns on ${RELAXED_FLAG}
                        for itself on Node 20, as axon does) | simd128 (relaxed SIMD left off;
                        Node 20 only) | both (relaxed, then the same run with SIMD128 in a child
                        process; two sections: <suite> and <suite>-simd128)
  --baseline-simd       the same as --simd simd128
  --write               rewrite this suite's section of BENCHMARKS.md (between its markers)
  --file <path>         the Markdown file to write (default: BENCHMARKS.md at the repository root)
  -h, --help            this text

Suites:
${SUITES.map((s) => `  ${s.id.padEnd(8)} ${s.describe}`).join('\n')}
`;

/** Repository root: the nearest directory above this file holding pnpm-workspace.yaml. */
function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, 'pnpm-workspace.yaml'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
}

/** Whether this process can compile wasm relaxed-SIMD (f32x4.relaxed_madd). */
export function relaxedSimdAvailable(): boolean {
  const v128 = [0xfd, 0x0c, ...new Array<number>(16).fill(0)];
  const body = [0x00, ...v128, ...v128, ...v128, 0xfd, 0x85, 0x02, 0x0b];
  const bytes = [0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 5, 1, 0x60, 0, 1, 0x7b, 3, 2, 1, 0, 0x0a, body.length + 2, 1, body.length, ...body];
  return WebAssembly.validate(new Uint8Array(bytes));
}

function positiveInt(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} expects a non-negative integer, got '${v}'`);
  return n;
}

async function main(argv: string[]): Promise<number> {
  const args = argv.filter((a) => a !== '--');
  const { values } = parseArgs({
    args,
    options: {
      suite: { type: 'string' },
      sizes: { type: 'string' },
      batch: { type: 'string' },
      runs: { type: 'string' },
      warmup: { type: 'string' },
      'min-sample-ms': { type: 'string' },
      'cpu-max-size': { type: 'string' },
      only: { type: 'string' },
      backend: { type: 'string', default: 'wasm' },
      'baseline-simd': { type: 'boolean', default: false },
      simd: { type: 'string' },
      threads: { type: 'string' },
      write: { type: 'boolean', default: false },
      file: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const simd = parseSimd(values.simd, values['baseline-simd']);
  if (simd === 'simd128') {
    if (relaxedSimdAvailable()) throw new Error('--simd simd128: this Node compiles relaxed SIMD by default (Node ≥ 22); run it under Node 20 for the SIMD128-only figures');
  } else if (!relaxedSimdAvailable()) {
    // Relaxed SIMD by default, as in axon: Node 20 compiles it behind a V8 flag, which can be set
    // before any WebAssembly module compiles (the backends compile theirs when they start).
    try {
      v8.setFlagsFromString(RELAXED_FLAG);
    } catch {
      /* an engine without the flag: the run says relaxed SIMD is off */
    }
  }
  const backend = values.backend;
  if (backend !== 'wasm' && backend !== 'webgpu') throw new Error(`--backend expects wasm or webgpu, got '${backend}'`);
  // --backend webgpu runs the webgpu suite (Axon's WebGPU backend beside tfjs-webgpu), or with
  // --suite attention the attention suite on Axon's WebGPU backend; the other suites are wasm.
  const suiteId = values.suite ?? (backend === 'webgpu' ? 'webgpu' : 'matmul');
  if (backend === 'webgpu' && !(WEBGPU_SUITES as readonly string[]).includes(suiteId)) {
    throw new Error(`--backend webgpu runs the ${WEBGPU_SUITES.join(' and ')} suites only (got --suite ${suiteId})`);
  }
  if ((suiteId === 'webgpu' || backend === 'webgpu') && values.threads !== undefined) {
    throw new Error('--threads applies to the wasm suites (matmul, mlp, cnn, gpt, attention), not to the webgpu suite or --backend webgpu');
  }
  const chosen: Suite[] = suiteId === 'all' ? SUITES.filter((s) => s.inAll) : SUITES.filter((s) => s.id === suiteId);
  if (chosen.length === 0) throw new Error(`unknown suite '${suiteId}'; known: ${SUITES.map((s) => s.id).join(', ')}, all`);
  const sizes = values.sizes?.split(',').map((s) => {
    const n = positiveInt('sizes', s.trim());
    if (!n) throw new Error(`--sizes expects positive integers, got '${values.sizes}'`);
    return n;
  });
  const batches = values.batch?.split(',').map((s) => {
    const n = positiveInt('batch', s.trim());
    if (!n) throw new Error(`--batch expects positive integers, got '${values.batch}'`);
    return n;
  });
  const runs = positiveInt('runs', values.runs);
  if (runs !== undefined && runs < 1) throw new Error('--runs must be at least 1');
  if (runs !== undefined && runs < 5 && values.write) throw new Error('--write needs --runs ≥ 5');
  const threads = parseThreads(values.threads, coresAvailable());
  const only = values.only?.split(',').map((s) => s.trim());
  const unknown = only?.filter((id) => !(PEER_IDS as readonly string[]).includes(id)) ?? [];
  if (unknown.length > 0) throw new Error(`--only: unknown peer ${unknown.join(', ')}; known: ${PEER_IDS.join(', ')}`);
  // pnpm runs the script in tooling/bench; INIT_CWD is where the user typed the command.
  const file = values.file ? path.resolve(process.env.INIT_CWD ?? process.cwd(), values.file) : path.join(repoRoot(), 'BENCHMARKS.md');
  const command = ['pnpm bench', ...args].join(' ');
  const log = (msg: string) => process.stderr.write(`${msg}\n`);

  const machine = machineInfo();
  const relaxed = relaxedSimdAvailable();
  log(`${machine.cpu}, ${machine.cores} cores, Node ${machine.node}; wasm relaxed SIMD ${relaxed ? 'on' : 'off'}; Axon threads ${threads.join(', ')}`);
  for (const suite of chosen) {
    const opts: SuiteOptions = {
      sizes,
      batches,
      runs,
      warmup: positiveInt('warmup', values.warmup),
      minSampleMs: positiveInt('min-sample-ms', values['min-sample-ms']) ?? 100,
      backend,
      cpuMaxSize: positiveInt('cpu-max-size', values['cpu-max-size']) ?? 512,
      only,
      // the webgpu suite and --backend webgpu run on the GPU: one Axon contender, no thread counts
      threads: suite.id === 'webgpu' || backend === 'webgpu' ? undefined : threads,
      relaxedSimd: relaxed,
      log,
    };
    const loadBefore = loadLine();
    const load1Before = os.loadavg()[0];
    log(`\n== ${suite.title} ==  (load before: ${loadBefore})`);
    const t0 = performance.now();
    const ran = await suite.run(opts);
    const raw = { ...ran, warnings: [...ran.warnings, ...slowerWithThreadsWarnings(ran)] };
    // Runs without relaxed SIMD (--baseline-simd, or an engine without it) get their own section.
    const result = relaxed ? raw : { ...raw, id: `${raw.id}-simd128`, title: `${raw.title}, wasm SIMD128 only (relaxed SIMD off)` };
    const info: RunInfo = {
      command,
      date: new Date(),
      machine: { ...machine, os: `${machine.os}, wasm relaxed SIMD ${relaxed ? 'on' : 'off'}` },
      loadBefore,
      loadAfter: loadLine(),
      load1Before,
      load1After: os.loadavg()[0],
      seconds: (performance.now() - t0) / 1000,
    };
    process.stdout.write(`\n### ${result.title}\n\n${renderRunInfo(info)}\n\n${renderResult(result)}\n`);
    log(`== ${suite.title}: done in ${info.seconds.toFixed(0)} s (load after: ${info.loadAfter})`);
    if (values.write) {
      writeSection(file, result, info);
      log(`wrote section '${result.id}' of ${file}`);
    }
  }
  if (simd === 'both') {
    const childArgs = simd128ChildArgs(args);
    log(`\n== the same run with SIMD128 only, in a child process without ${RELAXED_FLAG}: pnpm bench ${childArgs.join(' ')}`);
    return runSimd128Child(childArgs);
  }
  return 0;
}

/**
 * Runs this CLI again in a child process, without V8's relaxed-SIMD flag (which, once set, holds
 * for the whole process), so that `--simd both` measures SIMD128 too; its table goes to our stdout.
 */
function runSimd128Child(childArgs: readonly string[]): Promise<number> {
  const script = fileURLToPath(import.meta.url);
  const execArgv = process.execArgv.filter((a) => !a.includes('relaxed-simd'));
  const nodeOptions = (process.env.NODE_OPTIONS ?? '')
    .split(/\s+/)
    .filter((a) => a !== '' && !a.includes('relaxed-simd'))
    .join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...execArgv, script, ...childArgs], { stdio: 'inherit', env: { ...process.env, NODE_OPTIONS: nodeOptions } });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
