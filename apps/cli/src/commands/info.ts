import { backends } from '@axon/core';
import { loadOptionalBackends } from '../backend.js';

/** `axon info`: the backends this machine can run and, where one cannot, why. */
export async function info(log: (s: string) => void = console.log): Promise<void> {
  await loadOptionalBackends();
  const { ready } = await import('@axon/core');
  try {
    await ready();
  } catch {
    /* reported below */
  }
  // Try every backend so the reasons of those that cannot start are known.
  const { setBackend } = await import('@axon/core');
  const active = backends().find((b) => b.active)?.name;
  for (const b of backends()) {
    if (b.status === 'registered') {
      try {
        await setBackend(b.name);
      } catch {
        /* reason recorded */
      }
    }
  }
  if (active) await setBackend(active);
  log(`node ${process.version} on ${process.platform}/${process.arch}`);
  log('backends (highest priority first; * = default):');
  for (const b of backends()) {
    log(`  ${b.name === active ? '*' : ' '} ${b.name.padEnd(8)} ${b.status === 'ready' ? 'available' : b.status === 'failed' ? 'unavailable' : b.status}${b.reason ? `: ${b.reason}` : ''}`);
  }
}
