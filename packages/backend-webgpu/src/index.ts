/// <reference types="@webgpu/types" />
/**
 * `@axon/backend-webgpu`: Axon's WebGPU backend. Importing this package registers the backend
 * `'webgpu'` (priority 2) with `@axon/core`; it starts on `navigator.gpu` in browsers, and in
 * Node on the optional `webgpu` npm package (Dawn) with a Vulkan driver.
 *
 * @example
 * ```ts
 * import '@axon/backend-webgpu';
 * import { setBackend, tensor } from '@axon/core';
 * const b = await setBackend('webgpu');
 * b.supportsSyncRead // false
 * const y = tensor([1, 2]).mul(2);
 * await y.array() // [2, 4]
 * y.dispose();
 * ```
 *
 * @packageDocumentation
 */
import { registerBackend } from '@axon/core';
import { WebGPUBackend, type WebGPUOptions } from './backend.js';
import { acquireDevice } from './device.js';

export { WebGPUBackend, WebGPUBuffer, type WebGPULimits, type WebGPUOptions } from './backend.js';
export type { AttentionPlan } from './kernels.js';
export type { AttentionBackwardPlan } from './attention-backward.js';
export { acquireDevice, describeAdapter, type Acquired } from './device.js';

/**
 * Creates a WebGPU backend on a fresh device (rejects, saying why, when no adapter is available).
 * @example
 * ```ts
 * const b = await createWebGPUBackend(); // outside the registry
 * console.log(b.adapterDescription, b.emulated); // e.g. "nvidia / … / NVIDIA H100" false
 * const x = b.alloc('float32', 2);
 * b.write(x, new Float32Array([1, 2]));
 * await b.read(x) // [1, 2]
 * b.dispose();
 * ```
 */
export async function createWebGPUBackend(opts: WebGPUOptions & { declineEmulated?: boolean } = {}): Promise<WebGPUBackend> {
  const { declineEmulated, ...rest } = opts;
  return new WebGPUBackend(await acquireDevice({ declineEmulated: declineEmulated === true }), rest);
}

registerBackend({ name: 'webgpu', priority: 2, create: (o) => createWebGPUBackend({ declineEmulated: o?.auto === true }) });
