// Picks a software Vulkan driver for WebGPU-in-Node tests when VK_ICD_FILENAMES is not set.
// Dawn reads VK_ICD_FILENAMES when it loads, from the real process environment (vitest's
// `test.env` does not reach the native driver): call this at the top of a vitest config, before
// any test file loads Dawn. Preference: an explicit VK_ICD_FILENAMES, then lavapipe if it is
// Mesa ≥ 25 (Vulkan 1.4; Dawn rejects Debian 12's own Mesa 22 lavapipe), then SwiftShader from
// Debian's chromium package. scripts/install-webgpu-deps.sh installs both.
import { existsSync, readFileSync } from 'node:fs';

function vulkanApi(icd) {
  try {
    const v = JSON.parse(readFileSync(icd, 'utf8')).ICD?.api_version ?? '0';
    return v.split('.').map(Number);
  } catch {
    return [0];
  }
}

/** Sets process.env.VK_ICD_FILENAMES to a usable software driver when unset; returns it. */
export function ensureVulkanIcd() {
  if (!process.env.VK_ICD_FILENAMES) {
    const lavapipe = ['/usr/share/vulkan/icd.d/lvp_icd.json', '/usr/share/vulkan/icd.d/lvp_icd.x86_64.json'].find((p) => existsSync(p));
    const swiftshader = '/usr/lib/chromium/vk_swiftshader_icd.json';
    const [major = 0, minor = 0] = lavapipe ? vulkanApi(lavapipe) : [0];
    const modernLavapipe = lavapipe !== undefined && (major > 1 || (major === 1 && minor >= 4));
    const icd = modernLavapipe ? lavapipe : existsSync(swiftshader) ? swiftshader : lavapipe;
    if (icd) process.env.VK_ICD_FILENAMES = icd;
  }
  return process.env.VK_ICD_FILENAMES;
}
