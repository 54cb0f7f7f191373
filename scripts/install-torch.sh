#!/usr/bin/env bash
# Installs PyTorch from Debian (python3-torch) with a threaded OpenBLAS, for regenerating the
# PyTorch fixtures and for the PyTorch contenders of `pnpm bench` (CI reads the committed fixtures
# and never needs PyTorch). Without libopenblas0-pthread, Debian's torch runs on the reference
# BLAS (~17× slower matmul), so that package is checked even when torch already imports.
set -euo pipefail
if /usr/bin/python3 -c 'import torch' 2>/dev/null && dpkg-query -W -f='${Status}' libopenblas0-pthread 2>/dev/null | grep -q 'install ok installed'; then exit 0; fi
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q python3-torch libopenblas0-pthread
