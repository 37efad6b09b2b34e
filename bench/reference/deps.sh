#!/bin/sh
# Bench-only dependencies of bench/reference/reference.py and bench/subsample.py: NumPy and
# SciPy from Debian (OpenBLAS underneath). Not product dependencies: Tailor itself never needs
# them, which is why this is not part of scripts/deps.sh.
set -eu
if /usr/bin/python3 -c 'import numpy, scipy' 2>/dev/null; then
    exit 0
fi
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
$sudo apt-get update -qq
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-numpy python3-scipy
