import { backends, ready, setNumThreads } from '@axon/core';
import { probeBackends, type BackendProbe } from '../backend.js';
import { featureList, featureReasons } from '../format.js';

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
