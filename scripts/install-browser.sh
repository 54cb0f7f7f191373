#!/usr/bin/env bash
# Installs Debian's Chromium for the demo's end-to-end tests (apps/demo), idempotently: does
# nothing when /usr/bin/chromium exists. The tests drive it with playwright-core
# (executablePath /usr/bin/chromium); never `playwright install`.
set -euo pipefail
CHROMIUM=/usr/bin/chromium
if [ -x "$CHROMIUM" ]; then
  echo "› chromium: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-browser.sh: apt-get not found; install Chromium so that $CHROMIUM exists" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-browser.sh: run as root (or install sudo) to apt-get install chromium" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
echo "› installing chromium (Debian package, --no-install-recommends)"
# Update the package lists once if chromium is not known yet (fresh machines have none).
if ! apt-cache show chromium >/dev/null 2>&1; then
  $SUDO apt-get update -qq
fi
if ! $SUDO apt-get install -y -qq --no-install-recommends chromium >/tmp/install-browser.log 2>&1; then
  # Stale package lists: update and try once more.
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends chromium >/tmp/install-browser.log 2>&1 || { cat /tmp/install-browser.log >&2; exit 1; }
fi
echo "› chromium: $("$CHROMIUM" --version 2>/dev/null || echo installed)"
