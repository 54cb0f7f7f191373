// Dawn reads VK_ICD_FILENAMES when it loads, from the real process environment (vitest's
// `test.env` does not reach the native driver): set it here, before any test file loads Dawn.
// Preference: an explicit VK_ICD_FILENAMES, then lavapipe if it is Mesa ≥ 25 (Vulkan 1.4; Dawn
// rejects Debian 12's own Mesa 22 lavapipe), then SwiftShader from Debian's chromium package.
import { existsSync, readFileSync } from 'node:fs';
import { axonVitest } from '@axon/config/vitest';

function vulkanApi(icd: string): number[] {
  try {
    const v = (JSON.parse(readFileSync(icd, 'utf8')) as { ICD?: { api_version?: string } }).ICD?.api_version ?? '0';
    return v.split('.').map(Number);
  } catch {
    return [0];
  }
}

if (!process.env.VK_ICD_FILENAMES) {
  const lavapipe = ['/usr/share/vulkan/icd.d/lvp_icd.json', '/usr/share/vulkan/icd.d/lvp_icd.x86_64.json'].find((p) => existsSync(p));
  const swiftshader = '/usr/lib/chromium/vk_swiftshader_icd.json';
  const [major = 0, minor = 0] = lavapipe ? vulkanApi(lavapipe) : [0];
  const modernLavapipe = lavapipe !== undefined && (major > 1 || (major === 1 && minor >= 4));
  const icd = modernLavapipe ? lavapipe : existsSync(swiftshader) ? swiftshader : lavapipe;
  if (icd) process.env.VK_ICD_FILENAMES = icd;
}

export default axonVitest({ test: { testTimeout: 300_000, hookTimeout: 120_000 } });
