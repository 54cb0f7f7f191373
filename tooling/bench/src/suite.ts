/**
 * What a suite is. A suite owns its contenders (Axon first, then the peers), runs them one after
 * the other in this process, and returns a {@link SuiteResult}; the CLI prints and writes it.
 * To add one: write `src/suites/<id>.ts` exporting a {@link Suite}, and list it in
 * `src/suites/index.ts`.
 */

import type { SuiteResult } from './harness.js';

/** Peer ids that `--only` accepts. */
export const PEER_IDS = ['tfjs-wasm', 'tfjs-cpu', 'jax-wasm', 'torch'] as const;

export interface SuiteOptions {
  /** Problem sizes from `--sizes` (suite-specific meaning; matmul: n for n×n·n×n). */
  readonly sizes?: readonly number[];
  /**
   * Batch sizes from `--batch` (mlp: paired with `sizes`, one row per pair; a single value goes
   * with every size and vice versa); the suite's default when undefined.
   */
  readonly batches?: readonly number[];
  /** Timed runs per cell (`--runs`; at least 5 for published figures); the suite's default when undefined. */
  readonly runs?: number;
  /** Untimed warm-up calls per cell (`--warmup`); the suite's default when undefined. */
  readonly warmup?: number;
  /** Minimum duration of one timed sample, in ms (`--min-sample-ms`, default 100). */
  readonly minSampleMs: number;
  /** Axon backend (`--backend`): `wasm`, or `webgpu` (the webgpu suite, and the attention suite on Axon's WebGPU backend). */
  readonly backend: 'wasm' | 'webgpu';
  /** Largest size the tfjs cpu backend runs (`--cpu-max-size`, default 512): it takes ~2 s per 1024 matmul. */
  readonly cpuMaxSize: number;
  /** Contender ids to run (`--only axon,tfjs-wasm`); all when undefined. */
  readonly only?: readonly string[];
  /**
   * Thread counts Axon's wasm contenders (and PyTorch) run at, ascending (`--threads`; default 1
   * and the cores available): one contender per count, in the same table. Undefined: one Axon
   * contender on the backend's default thread count (the webgpu suite).
   */
  readonly threads?: readonly number[];
  /** Whether wasm relaxed SIMD is on in this process (the matmul bar depends on it). */
  readonly relaxedSimd?: boolean;
  /** Progress output (stderr). */
  readonly log: (msg: string) => void;
}

/** Whether `--only` keeps the peer `id` (Axon always runs). */
export function wantPeer(opts: Pick<SuiteOptions, 'only'>, id: string): boolean {
  return !opts.only || opts.only.includes(id);
}

export interface Suite {
  readonly id: string;
  readonly title: string;
  /** One line for `--help`. */
  readonly describe: string;
  /** Whether `--suite all` includes it. */
  readonly inAll: boolean;
  run(opts: SuiteOptions): Promise<SuiteResult>;
}
