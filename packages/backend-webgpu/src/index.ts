/// <reference types="@webgpu/types" />
/**
 * `@axon/backend-webgpu`: Axon's WebGPU backend. Importing this package registers the backend
 * `'webgpu'` (priority 2) with `@axon/core`; it starts on `navigator.gpu` in browsers, and in
 * Node on the optional `webgpu` npm package (Dawn) with a Vulkan driver.
 *
 * @example
 * import '@axon/backend-webgpu';
 * import { setBackend } from '@axon/core';
 * await setBackend('webgpu');
 *
 * @packageDocumentation
 */
import { registerBackend } from '@axon/core';
import { WebGPUBackend, type WebGPUOptions } from './backend.js';
import { acquireDevice } from './device.js';

export { WebGPUBackend, WebGPUBuffer, type WebGPULimits, type WebGPUOptions } from './backend.js';
export { acquireDevice, describeAdapter, type Acquired } from './device.js';

/**
 * Creates a WebGPU backend on a fresh device (rejects, saying why, when no adapter is available).
 * @example const b = await createWebGPUBackend(); console.log(b.adapterDescription);
 */
export async function createWebGPUBackend(opts: WebGPUOptions & { declineEmulated?: boolean } = {}): Promise<WebGPUBackend> {
  const { declineEmulated, ...rest } = opts;
  return new WebGPUBackend(await acquireDevice({ declineEmulated: declineEmulated === true }), rest);
}

registerBackend({ name: 'webgpu', priority: 2, create: (o) => createWebGPUBackend({ declineEmulated: o?.auto === true }) });
