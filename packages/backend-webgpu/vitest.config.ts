// Dawn reads VK_ICD_FILENAMES when it loads, from the real process environment (vitest's
// `test.env` does not reach the native driver): set it here, before any test file loads Dawn.
// Preference: an explicit VK_ICD_FILENAMES, then lavapipe (Mesa ≥ 25), then SwiftShader.
import { existsSync } from 'node:fs';
import { axonVitest } from '@axon/config/vitest';

if (!process.env.VK_ICD_FILENAMES) {
  const candidates = [
    '/usr/share/vulkan/icd.d/lvp_icd.json',
    '/usr/share/vulkan/icd.d/lvp_icd.x86_64.json',
    '/usr/lib/chromium/vk_swiftshader_icd.json',
  ];
  const icd = candidates.find((p) => existsSync(p));
  if (icd) process.env.VK_ICD_FILENAMES = icd;
}

export default axonVitest({ test: { testTimeout: 300_000, hookTimeout: 120_000 } });
