import { axonVitest } from '@axon/config/vitest';
import { ensureVulkanIcd } from '@axon/config/vulkan';

// The WebGPU training test runs Dawn on a software Vulkan driver here (see tooling/config/vulkan.js).
ensureVulkanIcd();

export default axonVitest({ test: { testTimeout: 300_000 } });
