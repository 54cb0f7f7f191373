import { backends, ready } from '@axon/core';
import { probeBackends, type BackendProbe } from '../backend.js';
import { featureList } from '../format.js';

/**
 * `axon info`: the backends this machine can run and, where one cannot, why. Every backend is
 * started in a child process ({@link probeBackends}): what native drivers print while starting
 * (Dawn's `maxDynamic… artificially reduced` warnings on lavapipe) is summed up in one line
 * instead of reaching the terminal. A backend's `features` follow its state: WASM says whether its
 * relaxed-SIMD matmul runs (`available (SIMD, relaxed SIMD)`).
 */
export async function info(log: (s: string) => void = console.log): Promise<void> {
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
    for (const b of backends()) log(`  ${b.name === active?.name ? '*' : ' '} ${b.name.padEnd(8)} ${b.status === 'ready' ? 'available' : `unavailable: ${b.reason ?? b.status}`}`);
    return;
  }
  log('backends (highest priority first; * = the default):');
  for (const b of probe.backends) {
    const emulated = probe.emulated[b.name];
    const state = emulated !== undefined ? `available${featureList(probe.features[b.name])}${emulated ? ' (software-emulated device: used only when selected)' : ''}` : `unavailable: ${b.reason ?? b.status}`;
    log(`  ${b.name === probe.chosen ? '*' : ' '} ${b.name.padEnd(8)} ${state}`);
  }
  const driver = probe.driverOutput.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  if (driver.length > 0) {
    log(`driver messages while starting the backends (not errors): ${driver.length} line${driver.length > 1 ? 's' : ''}, first: ${driver[0]}`);
  }
}
