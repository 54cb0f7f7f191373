#!/usr/bin/env bash
# The main job: train the seed MLP on MNIST with the default backend (`axon train`).
# Extra arguments go to `axon train` (e.g. `npm run train -- --epochs 1`).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup.sh"
exec node "$ROOT/apps/cli/dist/index.js" train "$@"
