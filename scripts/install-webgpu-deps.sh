#!/usr/bin/env bash
# Installs what WebGPU in Node (the npm package `webgpu`, Dawn) needs on Debian 12 without a GPU:
# a Vulkan driver that Dawn accepts.
#
#   - lavapipe (Mesa 25 from bookworm-backports): the faster software Vulkan driver (default).
#   - SwiftShader (shipped inside Debian's `chromium` package): slower, kept as a fallback and
#     for headless-Chromium tests.
#
# Idempotent: already-installed packages are not fetched again. Prints the ICD file to use as
# the last line, in the form `VK_ICD_FILENAMES=<path>` (also written to $GITHUB_ENV when set).
#
# Usage: bash scripts/install-webgpu-deps.sh [lavapipe|swiftshader|both]   (default: both)
set -euo pipefail

WHICH="${1:-both}"
LAVAPIPE_VERSION="25.0.7-2~bpo12+1"
LAVAPIPE_ICD_CANDIDATES=(/usr/share/vulkan/icd.d/lvp_icd.x86_64.json /usr/share/vulkan/icd.d/lvp_icd.aarch64.json /usr/share/vulkan/icd.d/lvp_icd.json)
SWIFTSHADER_ICD=/usr/lib/chromium/vk_swiftshader_icd.json

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-webgpu-deps: not root and no sudo; cannot install packages" >&2; exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive

log() { echo "install-webgpu-deps: $*" >&2; }

APT_UPDATED=0
apt_update() {
  if [ "$APT_UPDATED" -eq 0 ]; then
    log "apt-get update"
    $SUDO apt-get update -qq >&2
    APT_UPDATED=1
  fi
}

installed_version() { dpkg-query -W -f='${Status} ${Version}\n' "$1" 2>/dev/null | awk '/install ok installed/ {print $4}'; }

lavapipe_icd() {
  for f in "${LAVAPIPE_ICD_CANDIDATES[@]}"; do [ -f "$f" ] && { echo "$f"; return 0; }; done
  return 1
}

install_lavapipe() {
  if [ "$(installed_version mesa-vulkan-drivers)" = "$LAVAPIPE_VERSION" ] && lavapipe_icd >/dev/null; then
    log "lavapipe (mesa-vulkan-drivers $LAVAPIPE_VERSION) already installed"
    return 0
  fi
  # bookworm's own Mesa 22 lavapipe is rejected by Dawn (requestAdapter() returns null): use backports.
  if ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
    log "adding bookworm-backports to apt sources"
    echo "deb http://deb.debian.org/debian bookworm-backports main" | $SUDO tee /etc/apt/sources.list.d/bookworm-backports.list >/dev/null
    APT_UPDATED=0
  fi
  apt_update
  log "installing mesa-vulkan-drivers=$LAVAPIPE_VERSION (lavapipe) from bookworm-backports"
  if ! $SUDO apt-get install -y -qq --no-install-recommends -t bookworm-backports \
      "mesa-vulkan-drivers=$LAVAPIPE_VERSION" >&2; then
    log "pinned version unavailable; trying the newest mesa-vulkan-drivers in bookworm-backports"
    $SUDO apt-get install -y -qq --no-install-recommends -t bookworm-backports mesa-vulkan-drivers >&2
  fi
}

install_swiftshader() {
  if [ -f "$SWIFTSHADER_ICD" ]; then
    log "SwiftShader (chromium) already installed"
    return 0
  fi
  apt_update
  log "installing chromium (for its SwiftShader Vulkan ICD)"
  $SUDO apt-get install -y -qq --no-install-recommends chromium >&2
}

LAVA_OK=0
SWIFT_OK=0
case "$WHICH" in
  lavapipe) install_lavapipe && LAVA_OK=1 ;;
  swiftshader) install_swiftshader && SWIFT_OK=1 ;;
  both)
    install_lavapipe && LAVA_OK=1 || log "lavapipe install failed; continuing with SwiftShader"
    install_swiftshader && SWIFT_OK=1 || log "SwiftShader install failed"
    ;;
  *) echo "usage: $0 [lavapipe|swiftshader|both]" >&2; exit 2 ;;
esac

ICD=""
if [ "$LAVA_OK" -eq 1 ] && ICD="$(lavapipe_icd)"; then
  :
elif [ -f "$SWIFTSHADER_ICD" ]; then
  ICD="$SWIFTSHADER_ICD"
else
  log "no Vulkan ICD that Dawn accepts is installed"; exit 1
fi

if [ -n "${GITHUB_ENV:-}" ]; then echo "VK_ICD_FILENAMES=$ICD" >>"$GITHUB_ENV"; fi
echo "VK_ICD_FILENAMES=$ICD"
