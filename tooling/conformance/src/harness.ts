/** The per-backend context every group receives, and the evaluate-and-read helper. */
import { afterEach, beforeAll, beforeEach, describe, expect, it as vitestIt } from 'vitest';
import { backends, memory, setBackend, setFlags, type EngineFlags, type Tensor, tidy } from '@axon/core';
import { collecting, type Ctx, ConformanceError, fmt, reproLine, type Result } from './check.js';
import { Rng, streamSeed } from './rng.js';

/** What every group gets. */
export interface Suite {
  /** Backend under test: the name it is registered under (`setBackend(backend)`). */
  readonly backend: string;
  /**
   * The name the backend reports itself (`Backend.name`: the key of `memory().backends`, the
   * profiler's `report.backend`); `backend` unless a configuration is registered under its own
   * name (e.g. `'wasm-2threads'` for a WASM backend made with `threads: 2`).
   */
  readonly backendName: string;
  /** The run seed (printed in every failure). */
  readonly seed: number;
  /** Whether the lazy engine fuses elementwise ops in this run (`setFlags({ fusion })`). */
  readonly fusion: boolean;
  /** A fresh input generator for one test, derived from the run seed and `name`. */
  rng(name: string): Rng;
  /** A failure context. */
  ctx(op: string, inputs?: string): Ctx;
  /** Tests (by the start of their name) skipped because this machine's driver crashes on them. */
  readonly driverCrashes?: readonly { readonly test: string; readonly why: string }[];
}

/** Makes the context. */
export function makeSuite(backend: string, seed: number, fusion = true, backendName = backend): Suite {
  return {
    backend,
    backendName,
    seed,
    fusion,
    rng: (name) => new Rng(streamSeed(seed, name)),
    ctx: (op, inputs) => ({ backend: fusion ? backend : `${backend}, fusion off`, seed, op, ...(inputs !== undefined ? { inputs } : {}) }),
  };
}

/** Starts the backend, or throws an error naming it and what `backends()` reports. */
export async function startBackend(name: string): Promise<void> {
  try {
    await setBackend(name);
  } catch (e) {
    throw new ConformanceError(
      `backend '${name}' could not start: ${e instanceof Error ? e.message : String(e)}\n  backends(): ${JSON.stringify(backends())}`,
    );
  }
}

/**
 * A describe block whose tests run on `s.backend`, and which checks after every test that the
 * live-tensor count is back where the group started (every test disposes what it made).
 */
export function group(s: Suite, title: string, body: () => void): void {
  describe(title, () => {
    let base = 0;
    let startError: unknown = null;
    let flags: EngineFlags | null = null;
    beforeAll(async () => {
      try {
        await startBackend(s.backend);
      } catch (e) {
        startError = e;
      }
    });
    beforeEach(async () => {
      active = s;
      flags = setFlags({ fusion: s.fusion });
      // a backend that cannot start fails every test (no test is skipped)
      if (startError !== null) throw startError;
      await startBackend(s.backend);
      base = memory().numTensors;
    });
    afterEach(() => {
      if (flags !== null) setFlags(flags);
      const now = memory().numTensors;
      expect(now, `[${s.backend}] ${title}: memory().numTensors is ${now} after the test, ${base} before (a leaked tensor); ${reproLine(s)}`).toBe(base);
    });
    body();
  });
}

/**
 * Runs `fn` inside `tidy`, reads every returned tensor back (through a fresh `clone()`, async,
 * so backends without synchronous reads work), disposes them, and checks that
 * `memory().numTensors` is unchanged.
 */
export async function evaluate(ctx: Ctx, fn: () => Tensor | Tensor[]): Promise<Result[]> {
  const before = memory().numTensors;
  const outs = tidy(() => {
    const r = fn();
    return Array.isArray(r) ? r : [r];
  });
  const results: Result[] = [];
  try {
    for (const t of outs) {
      // Read a fresh copy: results are checked independently of how Tensor.data() handles views
      // (which the 'reading views' test checks on its own).
      const copy = t.clone();
      try {
        results.push({ data: await copy.data(), shape: [...t.shape], dtype: t.dtype });
      } finally {
        copy.dispose();
      }
    }
  } finally {
    for (const t of outs) t.dispose();
  }
  const after = memory().numTensors;
  if (after !== before) {
    throw new ConformanceError(
      `[${ctx.backend}] ${ctx.op}${ctx.inputs ? ` — inputs ${ctx.inputs}` : ''}\n  memory().numTensors ${before} before a tidy, ${after} after (outputs ${outs.map((t) => fmt(t.shape)).join(', ')} disposed): a leak\n  ${reproLine(ctx)}`,
    );
  }
  return results;
}

/** {@link evaluate} for one output. */
export async function evaluate1(ctx: Ctx, fn: () => Tensor): Promise<Result> {
  return (await evaluate(ctx, () => [fn()]))[0]!;
}

/**
 * A test whose value checks all run: failures are collected and reported together (so one
 * bad case does not hide the others).
 */
export function it(name: string, fn: () => unknown): void {
  vitestIt(name, async (context) => {
    // a test this machine's driver is known to crash on (the suite's `driverCrashes`): skipped with
    // the reason, so the skip shows in every report instead of passing silently
    const crash = active?.driverCrashes?.find((c) => name.startsWith(c.test));
    if (crash) {
      console.warn(`[@axon/conformance] SKIPPED on ${active!.backend}${active!.fusion ? '' : ' (fusion off)'}: "${name}": ${crash.why}`);
      context.skip(crash.why);
      return;
    }
    try {
      await collecting(fn);
    } catch (e) {
      if (e instanceof ConformanceError || active === null) throw e;
      // an op threw where a result was expected: say which test, backend and seed
      const err = new ConformanceError(`[${active.backend}] "${name}" threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}\n  ${reproLine(active)}`);
      if (e instanceof Error) err.stack = `${err.name}: ${err.message}\n  caused by ${e.stack ?? e.message}`;
      throw err;
    }
  });
}

let active: Suite | null = null;
