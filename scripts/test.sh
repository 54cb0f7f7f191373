#!/usr/bin/env bash
# The test command: install, build, lint, typecheck, and run every package's tests
# (the conformance suite on the WASM backend, and on WebGPU where a Vulkan driver is installed).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# System packages the tests need: a software Vulkan driver for WebGPU in Node, and Chromium for
# the demo's end-to-end tests. Both scripts are idempotent.
if [ -f "$ROOT/scripts/install-webgpu-deps.sh" ] && [ "${AXON_SKIP_WEBGPU_DEPS:-0}" != "1" ]; then
  ICD_LINE="$(bash "$ROOT/scripts/install-webgpu-deps.sh" | tail -n 1)"
  case "$ICD_LINE" in VK_ICD_FILENAMES=*) export "$ICD_LINE"; echo "› WebGPU tests use $ICD_LINE" ;; esac
fi
if [ -f "$ROOT/scripts/install-browser.sh" ] && [ "${AXON_SKIP_BROWSER:-0}" != "1" ]; then
  bash "$ROOT/scripts/install-browser.sh"
fi
bash "$ROOT/scripts/setup.sh"
export PATH="$ROOT/.tools/node_modules/.bin:$PATH"
echo "› lint"
pnpm exec turbo run lint --output-logs=errors-only --concurrency=2
echo "› typecheck"
pnpm exec turbo run typecheck --output-logs=errors-only --concurrency=2
rm -rf packages/*/test-results apps/*/test-results tooling/*/test-results examples/test-results
echo "› test"
status=0
pnpm exec turbo run test --concurrency=1 --output-logs=full --continue || status=$?
node "$ROOT/scripts/summarize-tests.mjs" || status=1
exit "$status"
