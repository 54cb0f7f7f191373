import { axonVitest } from '@axon/config/vitest';
import { ensureVulkanIcd } from '@axon/config/vulkan';

// Dawn reads VK_ICD_FILENAMES when it loads: pick a software Vulkan driver (when one is installed
// and the variable is unset) before the examples' child processes start.
ensureVulkanIcd();

// Each test runs one example in a child process; MNIST's examples take a few seconds on a slice.
export default axonVitest({ test: { testTimeout: 180_000 } });
