/**
 * Finding a WebGPU implementation and a device: `navigator.gpu` in browsers (and Deno), the
 * optional npm package `webgpu` (Dawn) in Node.
 */

/** An adapter and device plus where they came from. */
export interface Acquired {
  /** The GPU object the adapter came from (kept alive alongside the device). */
  readonly gpu: GPU;
  readonly adapter: GPUAdapter;
  readonly device: GPUDevice;
  /** `'navigator.gpu'` or `'webgpu (npm, Dawn)'`. */
  readonly source: string;
  /** One line naming the adapter (vendor, architecture, device, description). */
  readonly description: string;
  /** Whether the adapter is a software emulation (SwiftShader, lavapipe/llvmpipe, WARP). */
  readonly emulated: boolean;
}

interface WebGPUModule {
  create(flags: string[]): GPU;
  globals: Record<string, unknown>;
}

let dawnGPU: GPU | undefined;

async function findGPU(): Promise<{ gpu: GPU; source: string }> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return { gpu: nav.gpu, source: 'navigator.gpu' };
  const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';
  if (!isNode) throw new Error('navigator.gpu is undefined (this browser has no WebGPU, or the page is not a secure context)');
  let mod: WebGPUModule;
  try {
    // A variable specifier keeps bundlers from resolving the optional Node-only dependency.
    const spec = 'webgpu';
    mod = (await import(/* @vite-ignore */ spec)) as WebGPUModule;
  } catch (e) {
    throw new Error(
      `navigator.gpu is undefined and the 'webgpu' npm package is not installed or failed to load ` +
        `(${e instanceof Error ? e.message.split('\n')[0] : String(e)}); install webgpu@0.6.2 and a Vulkan driver (scripts/install-webgpu-deps.sh)`,
    );
  }
  // Dawn's GPU instance processes the device's events (mapAsync, lost): it must stay reachable
  // for as long as any device lives, or Node aborts. One per process, kept here for good.
  dawnGPU ??= mod.create([]);
  return { gpu: dawnGPU, source: 'webgpu (npm, Dawn)' };
}

/** The adapter limits the backend relies on: requested as high as the adapter allows. */
const WANTED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupStorageSize',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
] as const;

/** Adapter descriptions of software (CPU-emulated) WebGPU implementations. */
const EMULATED = /swiftshader|llvmpipe|lavapipe|software|basic render|warp/i;

/**
 * Describes an adapter in one line (vendor / architecture / device / description, where known).
 * @example
 * const acq = await acquireDevice();
 * describeAdapter(acq.adapter) === acq.description // true
 * acq.device.destroy();
 */
export function describeAdapter(adapter: GPUAdapter): string {
  const info = adapter.info;
  const parts = [info?.vendor, info?.architecture, info?.device, info?.description].filter((s) => s && s.length > 0);
  return parts.length > 0 ? parts.join(' / ') : 'unknown adapter';
}

/**
 * Requests an adapter and a device, or throws an Error saying why not: `navigator.gpu` where
 * there is one, else (Node) the `webgpu` npm package. With `declineEmulated`, a software-emulated
 * adapter (SwiftShader, lavapipe, WARP) is refused, as the registry's default choice does.
 * @example
 * ```ts
 * const acq = await acquireDevice();
 * ['navigator.gpu', 'webgpu (npm, Dawn)'].includes(acq.source) // true
 * typeof acq.emulated // 'boolean'
 * acq.device.destroy();
 * ```
 */
export async function acquireDevice(opts: { declineEmulated?: boolean } = {}): Promise<Acquired> {
  const { gpu, source } = await findGPU();
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (e) {
    throw new Error(`requestAdapter() failed (${source}): ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!adapter) {
    throw new Error(
      `requestAdapter() returned null (${source}): no WebGPU adapter` +
        (source.startsWith('webgpu') ? '; in Node, Dawn needs a Vulkan driver: run scripts/install-webgpu-deps.sh and set VK_ICD_FILENAMES' : ''),
    );
  }
  if (opts.declineEmulated) {
    const d = describeAdapter(adapter);
    const fb = (adapter.info as { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter === true;
    if (fb || EMULATED.test(d)) {
      throw new Error(`only a software-emulated adapter is available (${d}); the default backend prefers others — select it with setBackend('webgpu') to use it anyway`);
    }
  }
  const requiredLimits: Record<string, number> = {};
  for (const k of WANTED_LIMITS) {
    const v = (adapter.limits as unknown as Record<string, number | undefined>)[k];
    if (typeof v === 'number') requiredLimits[k] = v;
  }
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ requiredLimits });
  } catch (e) {
    throw new Error(`requestDevice() failed on ${describeAdapter(adapter)}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const description = describeAdapter(adapter);
  const fallback = (adapter.info as { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter === true;
  const emulated = fallback || EMULATED.test(description);
  return { gpu, adapter, device, source, description, emulated };
}
