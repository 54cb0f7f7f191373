#!/usr/bin/env bash
# One step from a fresh machine with Node >= 20 and npm: installs pnpm locally (no root needed),
# the workspace's dependencies, and builds every package. Idempotent and quick when done before.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PNPM_VERSION="$(node -p "require('./package.json').packageManager.split('@')[1]")"
if [ ! -x "$ROOT/.tools/node_modules/.bin/pnpm" ] || [ "$("$ROOT/.tools/node_modules/.bin/pnpm" -v)" != "$PNPM_VERSION" ]; then
  echo "› installing pnpm@$PNPM_VERSION into .tools/"
  npm install --silent --no-audit --no-fund --no-save --prefix "$ROOT/.tools" "pnpm@$PNPM_VERSION" >/dev/null
fi
export PATH="$ROOT/.tools/node_modules/.bin:$PATH"
echo "› pnpm install"
pnpm install --frozen-lockfile --reporter=append-only > "$ROOT/.tools/install.log" 2>&1 || { cat "$ROOT/.tools/install.log"; exit 1; }
tail -n 2 "$ROOT/.tools/install.log"
if [ "${AXON_SKIP_BUILD:-0}" != "1" ]; then
  echo "› building packages"
  pnpm exec turbo run build --output-logs=errors-only --concurrency=2
fi
