#!/usr/bin/env bash
# Installs PyTorch from Debian (python3-torch) with a threaded OpenBLAS, for regenerating the
# PyTorch fixtures by hand (CI reads the committed fixtures and never needs PyTorch).
set -euo pipefail
if /usr/bin/python3 -c 'import torch' 2>/dev/null; then exit 0; fi
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q python3-torch libopenblas0-pthread
