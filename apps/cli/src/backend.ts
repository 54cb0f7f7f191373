import { backends, ready, setBackend, type Backend } from '@axon/core';
import '@axon/backend-wasm';

/** Loads optional backend packages (WebGPU) so they register, without failing when absent. */
export async function loadOptionalBackends(): Promise<void> {
  try {
    await import('@axon/backend-webgpu');
  } catch {
    /* not installed: backends() will not list it */
  }
}

/** Starts the named backend, or the best available one. */
export async function chooseBackend(name: string | undefined): Promise<Backend> {
  await loadOptionalBackends();
  if (name && name !== 'auto') return setBackend(name);
  return ready();
}

/** One line per registered backend with its status. */
export function describeBackends(): string[] {
  return backends().map((b) => `${b.active ? '*' : ' '} ${b.name.padEnd(8)} priority ${b.priority}  ${b.status}${b.reason ? ` — ${b.reason}` : ''}`);
}
