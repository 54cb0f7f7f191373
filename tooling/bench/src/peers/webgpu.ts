/**
 * WebGPU in Node for the `webgpu` suite: one Dawn instance (npm `webgpu`, pinned 0.6.2) shared by
 * Axon's WebGPU backend and tfjs-backend-webgpu, both reaching it through `navigator.gpu`.
 *
 * Dawn reads VK_ICD_FILENAMES when it loads, so a software Vulkan driver is chosen first
 * (tooling/config/vulkan.js: lavapipe if Mesa ≥ 25, else SwiftShader) where none is set; on a
 * machine with a GPU and its Vulkan driver, set nothing and Dawn finds the GPU.
 */

import { tf } from './tfjs.js';

/** The part of WebGPU's `GPU` used here (the bench does not load @webgpu/types). */
interface GPU {
  requestAdapter(opts?: { powerPreference?: string }): Promise<{
    info?: { vendor?: string; architecture?: string; device?: string; description?: string };
  } | null>;
}

interface WebGPUModule {
  create(flags: string[]): GPU;
  globals: Record<string, unknown>;
}

let gpuPromise: Promise<GPU> | null = null;

/** Imports a module by a computed name (kept out of the bundle and of type resolution). */
async function importByName<T>(name: string): Promise<T> {
  return (await import(/* @vite-ignore */ name)) as T;
}

/** Loads Dawn once and installs `navigator.gpu` and the WebGPU globals (GPUBufferUsage, …). */
export function webgpuInNode(): Promise<GPU> {
  gpuPromise ??= (async () => {
    const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
    if (nav?.gpu) return nav.gpu;
    try {
      const { ensureVulkanIcd } = await importByName<{ ensureVulkanIcd: () => string | undefined }>('@axon/config/vulkan');
      ensureVulkanIcd();
    } catch {
      // no helper: Dawn uses whatever VK_ICD_FILENAMES says
    }
    const mod = await importByName<WebGPUModule>('webgpu');
    Object.assign(globalThis, mod.globals);
    const gpu = mod.create([]);
    if (nav) Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true });
    else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
    return gpu;
  })();
  return gpuPromise;
}

/** "vendor / architecture / device / description" of the adapter Dawn picks. */
export async function adapterName(): Promise<string> {
  const gpu = await webgpuInNode();
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) return 'no adapter';
  const info = adapter.info;
  const parts = [info?.vendor, info?.architecture, info?.device, info?.description].filter((s) => s && s.length > 0);
  return parts.length > 0 ? parts.join(' / ') : 'unknown adapter';
}

let tfWebgpuLoaded = false;

/** Registers tfjs's WebGPU backend (it checks `navigator.gpu` when imported) and selects it. */
export async function useTfWebgpu(): Promise<void> {
  await webgpuInNode();
  if (!tfWebgpuLoaded) {
    await import('@tensorflow/tfjs-backend-webgpu');
    tfWebgpuLoaded = true;
  }
  if (tf.getBackend() !== 'webgpu') {
    const ok = await tf.setBackend('webgpu');
    if (!ok) throw new Error("tfjs backend 'webgpu' could not start");
  }
  await tf.ready();
}
