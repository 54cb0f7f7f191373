/**
 * `@axon/conformance`: the one test suite every Axon backend runs.
 *
 * @example
 * // packages/backend-foo/test/conformance.test.ts
 * import '@axon/backend-foo';
 * import { describeBackendConformance } from '@axon/conformance';
 * describeBackendConformance('foo');
 *
 * @packageDocumentation
 */
import '@axon/autograd';
import { describe, it } from 'vitest';
import { backends, getBackend } from '@axon/core';
import { ConformanceError, ensure } from './check.js';
import { unclassifiedExports } from './coverage.js';
import { makeSuite, startBackend } from './harness.js';
import { runSeed } from './rng.js';
import { creationTests } from './groups/creation.js';
import { elementwiseTests } from './groups/elementwise.js';
import { errorTests } from './groups/errors.js';
import { gradientTests } from './groups/gradients.js';
import { linalgTests } from './groups/linalg.js';
import { memoryTests } from './groups/memory.js';
import { movementTests } from './groups/movement.js';
import { nnTests } from './groups/nn.js';
import { reduceTests } from './groups/reduce.js';
import { trustTests } from './groups/trust.js';
import { profileTests } from './groups/profile.js';
import { printingTests } from './groups/printing.js';
import { fusionTests } from './groups/fusion.js';
import { epilogueTests } from './groups/epilogue.js';
import { tableTests } from './groups/table.js';
import { attentionTests } from './groups/attention.js';
import { conv1dTests } from './groups/conv1d.js';
import { sequenceTests } from './groups/sequence.js';

export { TOLERANCES, EPS32, bound, type Tolerance, type ToleranceName } from './tolerances.js';
export { checkClose, checkExact, ConformanceError, type Ctx, type Expected, type Result } from './check.js';
export { NON_DIFFERENTIABLE } from './groups/gradients.js';
export { INFRASTRUCTURE, OPS_CHECKED } from './coverage.js';
export { Rng, runSeed, streamSeed } from './rng.js';

/** Options of {@link describeBackendConformance}. */
export interface ConformanceOptions {
  /** The run seed; defaults to `AXON_SEED` when set, else `Date.now()`. */
  seed?: number;
  /**
   * Which engine modes to run the suite in: with the lazy engine fusing elementwise ops
   * (`true`), with every op run at once (`false`), or both (the default: every check runs twice).
   */
  fusion?: boolean | 'both';
  /**
   * The name the backend reports (`Backend.name`), when it is registered under another name:
   * a configuration of a backend, registered by the test with its own factory (e.g.
   * `registerBackend({ name: 'wasm-2threads', priority: 0, create: () => createWasmBackend({ threads: 2 }) })`
   * then `describeBackendConformance('wasm-2threads', { backendName: 'wasm' })`). Default: `name`.
   */
  backendName?: string;
  /**
   * Tests (by the start of their name) that crash the process on this machine's driver, with why:
   * each is skipped with the reason in its title (visible in every report). Only for native driver
   * crashes outside Axon (e.g. a segfault inside a Vulkan driver), never for a wrong result.
   */
  driverCrashes?: readonly { readonly test: string; readonly fusion?: boolean; readonly why: string }[];
}

/**
 * Registers the conformance suite for backend `name` (call it at the top level of a vitest
 * test file, after importing the backend package so that it registers itself). Every group
 * runs `await setBackend(name)` first; a backend that cannot start fails the run, naming the
 * backend and what `backends()` reports. Inputs are random and seeded; every failure prints
 * the seed (rerun with `AXON_SEED=<seed>`).
 */
export function describeBackendConformance(name: string, opts: ConformanceOptions = {}): void {
  const seed = runSeed(opts.seed);
  const modes = opts.fusion === undefined || opts.fusion === 'both' ? [true, false] : [opts.fusion];
  for (const fusion of modes) {
    const s = { ...makeSuite(name, seed, fusion, opts.backendName ?? name), driverCrashes: (opts.driverCrashes ?? []).filter((c) => c.fusion === undefined || c.fusion === fusion) };
    describe(`conformance: ${name} (fusion ${fusion ? 'on' : 'off'})`, () => {
      it('the backend starts', async () => {
        console.log(`[@axon/conformance] backend '${name}', fusion ${fusion ? 'on' : 'off'}, seed ${seed} (reproduce with AXON_SEED=${seed})`);
        await startBackend(name);
        ensure(getBackend().name === s.backendName, s.ctx('setBackend'), `getBackend().name is '${getBackend().name}' after setBackend('${name}'), expected '${s.backendName}'; backends(): ${JSON.stringify(backends())}`);
      });
      it('every function @axon/core exports is checked by a group (or listed as infrastructure)', () => {
        const missing = unclassifiedExports();
        if (missing.length > 0) {
          throw new ConformanceError(`@axon/core exports ${missing.join(', ')}, which no conformance group checks: add checks and list them in OPS_CHECKED (src/coverage.ts), or list them as INFRASTRUCTURE`);
        }
      });
      creationTests(s);
      elementwiseTests(s);
      reduceTests(s);
      movementTests(s);
      linalgTests(s);
      nnTests(s);
      gradientTests(s);
      memoryTests(s);
      errorTests(s);
      trustTests(s);
      profileTests(s);
      printingTests(s);
      fusionTests(s);
      epilogueTests(s);
      tableTests(s);
      attentionTests(s);
      conv1dTests(s);
      sequenceTests(s);
    });
  }
}
