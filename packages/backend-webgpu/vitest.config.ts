import { axonVitest } from '@axon/config/vitest';
import { ensureVulkanIcd } from '@axon/config/vulkan';

// Dawn needs a Vulkan driver chosen before it loads (see tooling/config/vulkan.js).
ensureVulkanIcd();

export default axonVitest({ test: { testTimeout: 300_000, hookTimeout: 120_000 } });
