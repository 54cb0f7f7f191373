/** The backend picker and the notes beside it, shared by the two pages (MNIST and GPT). */
import type { BackendStatus } from './protocol.js';
import { type BackendFeatures, featureReasons, featureSummary } from './util.js';

/** The elements of a page's backend picker. */
export interface BackendElements {
  readonly backend: HTMLSelectElement;
  readonly backendFeatures: HTMLElement;
  readonly backendReasons: HTMLElement;
  readonly backendNote: HTMLElement;
}

/**
 * Shows the backends (the picker's options, the active one selected), what the active one uses
 * (SIMD, threads) and why that many threads, e.g. "threads: auto: 2 cores available", and a note
 * about WebGPU (why it is unavailable or not the default). The picker is disabled while `busy`
 * or when fewer than two backends can start. Returns the features line shown.
 */
export function renderBackends(ui: BackendElements, list: readonly BackendStatus[], active: string, features: BackendFeatures | undefined, busy: boolean): string {
  const featureText = featureSummary(active, features);
  const reasons = featureReasons(features);
  ui.backendFeatures.textContent = featureText;
  ui.backendFeatures.title = reasons.join('\n');
  ui.backendReasons.textContent = reasons.join(' ');
  ui.backendReasons.hidden = reasons.length === 0;
  ui.backend.replaceChildren(
    ...list.map((b) => {
      const o = document.createElement('option');
      o.value = b.name;
      o.textContent = `${b.name === 'webgpu' ? 'WebGPU' : b.name === 'wasm' ? 'WebAssembly (WASM)' : b.name}${b.available ? (b.emulated ? ' · emulated' : '') : ' · unavailable'}`;
      o.disabled = !b.available;
      o.selected = b.name === active;
      return o;
    }),
  );
  ui.backend.disabled = busy || list.filter((b) => b.available).length < 2;
  const gpu = list.find((b) => b.name === 'webgpu');
  const notes: string[] = [];
  if (!gpu) notes.push('WebGPU unavailable: the WebGPU backend is not installed.');
  else if (!gpu.available) notes.push(`WebGPU unavailable: ${gpu.reason ?? 'unknown reason'}`);
  else if (gpu.emulated && active === 'webgpu') notes.push(`WebGPU runs on a software-emulated adapter${gpu.detail ? ` (${gpu.detail})` : ''}: slower than WASM here.`);
  else if (gpu.emulated) notes.push(`WebGPU is not the default: ${gpu.reason ?? 'software-emulated adapter'}. Pick it above to use it anyway.`);
  else if (gpu.detail) notes.push(`WebGPU adapter: ${gpu.detail}`);
  ui.backendNote.textContent = notes.join(' ');
  ui.backendNote.hidden = notes.length === 0;
  return featureText;
}
