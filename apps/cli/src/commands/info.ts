import { backends, ready, setBackend, type Backend } from '@axon/core';
import { loadOptionalBackends } from '../backend.js';

/** `axon info`: the backends this machine can run and, where one cannot, why. */
export async function info(log: (s: string) => void = console.log): Promise<void> {
  await loadOptionalBackends();
  let active: Backend | null = null;
  try {
    active = await ready();
  } catch {
    /* every backend failed: reported below */
  }
  // Start every other backend explicitly, so that those that work only on an emulated device
  // (skipped as a default) and the reasons of those that cannot start at all are known.
  const started = new Map<string, Backend>();
  for (const b of backends()) {
    if (b.name === active?.name) continue;
    try {
      started.set(b.name, await setBackend(b.name));
    } catch {
      /* reason recorded by the registry */
    }
  }
  if (active) await setBackend(active.name);
  log(`node ${process.version} on ${process.platform}/${process.arch}`);
  log('backends (highest priority first; * = the default):');
  for (const b of backends()) {
    const be = b.name === active?.name ? active : started.get(b.name);
    const state = be ? `available${be.emulated ? ' (software-emulated device: used only when selected)' : ''}` : `unavailable: ${b.reason ?? b.status}`;
    log(`  ${b.name === active?.name ? '*' : ' '} ${b.name.padEnd(8)} ${state}`);
  }
}
