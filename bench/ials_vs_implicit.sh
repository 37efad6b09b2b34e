#!/usr/bin/env bash
# iALS against implicit 0.7.3 on the same 20M-event matrix, in one command: seconds per epoch
# and peak resident memory of each side, with the load average before every run.
#   bench/ials_vs_implicit.sh [BUILD] [DATA.tsv]
# BUILD defaults to build; DATA.tsv (made with `tailor synth --powerlaw`, seed 42, the matrix
# bench_ials generates in memory) defaults to /tmp/ml20m.tsv and is made when missing.
# Needs ../shared/peers/implicit/setup.sh to have been run once. Tailor gets alpha A - 1 for
# implicit's A (observed-cell confidence 1 + alpha vs alpha); reg 0.01, 2 threads on both.
# Memory does not depend on load; times do: read them as ratios from the same run.
set -euo pipefail
BUILD=${1:-build}
DATA=${2:-/tmp/ml20m.tsv}
cd "$(dirname "$0")/.."
PEER=../shared/peers/implicit
[ -f "$DATA" ] || "$BUILD/tailor" synth --powerlaw --out "$DATA"
[ -f "${DATA%.tsv}.npz" ] || "$PEER/bench_implicit.py" "$DATA" 64 cg 1 --prepare-only
run() { # label epochs factors solver(cg|cholesky)
  local isolver=$4; [ "$4" = cholesky ] && isolver=chol
  echo "== $1: factors=$3 solver=$4, $2 epochs (the first is the warm-up)"
  echo "load before Tailor: $(cut -d' ' -f1-3 /proc/loadavg)"
  "$BUILD/bench_ials" epoch --epochs "$2" factors="$3" alpha=39 reg=0.01 solver="$4" threads=2 |
    grep -E '^(data|median|fit total)'
  echo "load before implicit: $(cut -d' ' -f1-3 /proc/loadavg)"
  "$PEER/bench_implicit.py" "$DATA" "$3" "$isolver" "$2" --alpha 40 2>/dev/null
}
run cg64 "${EPOCHS64:-3}" 64 cg
run cg256 "${EPOCHS256:-2}" 256 cg
[ "${CHOLESKY:-1}" = 1 ] && run chol64 2 64 cholesky
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
