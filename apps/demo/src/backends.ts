/**
 * Backend set-up shared by the two training workers (./worker.ts for MNIST, ./gpt/worker.ts for
 * the GPT page): probing which backends start, picking one, starting the WASM backend's threads,
 * and the `backends` reply the pages show next to the picker.
 */
import { backends, getBackend, setBackend } from '@axon/core';
import type { BackendChoice, BackendStatus, Reply } from './protocol.js';
import { errorMessage } from './util.js';

/** Loads the WebGPU backend (a lazy chunk) and tries every registered backend: which start here, and why not. */
export async function probeBackends(): Promise<BackendStatus[]> {
  let webgpuLoadError: string | null = null;
  try {
    await import('@axon/backend-webgpu');
  } catch (e) {
    webgpuLoadError = `the WebGPU backend failed to load: ${errorMessage(e)}`;
  }
  const list: BackendStatus[] = [];
  for (const b of backends()) {
    try {
      const be = await setBackend(b.name);
      const emulated = be.emulated === true;
      const adapter = (be as { adapterDescription?: string }).adapterDescription;
      list.push({
        name: b.name,
        available: true,
        emulated,
        ...(adapter ? { detail: adapter } : {}),
        ...(emulated ? { reason: `software-emulated adapter${adapter ? ` (${adapter})` : ''}: WASM is faster here` } : {}),
      });
    } catch (e) {
      const info = backends().find((x) => x.name === b.name);
      list.push({ name: b.name, available: false, reason: info?.reason ?? errorMessage(e) });
    }
  }
  if (webgpuLoadError && !list.some((b) => b.name === 'webgpu')) list.push({ name: 'webgpu', available: false, reason: webgpuLoadError });
  return list;
}

/** WebGPU when a (hardware) adapter exists, else WASM; an explicit choice wins when it can start. */
export function pickBackend(statuses: readonly BackendStatus[], choice: BackendChoice): string {
  const ok = (n: string): boolean => statuses.some((s) => s.name === n && s.available);
  if (choice !== 'auto' && ok(choice)) return choice;
  const gpu = statuses.find((s) => s.name === 'webgpu');
  if (gpu?.available && !gpu.emulated) return 'webgpu';
  if (ok('wasm')) return 'wasm';
  const any = statuses.find((s) => s.available);
  if (!any) throw new Error(`no backend could start: ${statuses.map((s) => `${s.name}: ${s.reason ?? '?'}`).join('; ')}`);
  return any.name;
}

/**
 * Starts the active backend's worker threads now, where it has them (the WASM backend's
 * `startThreads()`; they otherwise start on the first large op), so the page shows the threads
 * that really run before training starts and the first steps use them. The backend says in
 * `features.threads`/`threadsReason` how many run and why (one thread when the page is not
 * cross-origin isolated, or when the workers could not start).
 */
export async function startThreads(): Promise<void> {
  const be = getBackend();
  if (be.startThreads === undefined) return;
  try {
    await be.startThreads();
  } catch (e) {
    // the backend runs its ops on this thread then; its features say so, the console says why
    console.warn(`the ${getBackend().name} backend's threads did not start: ${errorMessage(e)}`);
  }
}

/** The `backends` reply: the list, the active backend and its features as they are now. */
export function backendsReply(statuses: BackendStatus[], crossOriginIsolated: boolean): Extract<Reply, { type: 'backends' }> {
  const be = getBackend();
  // a copy of the features object as it is now (own enumerable entries: plain values only)
  const features = be.features ? Object.fromEntries(Object.entries(be.features)) : undefined;
  return { type: 'backends', list: statuses, active: be.name, ...(features ? { features } : {}), crossOriginIsolated };
}
