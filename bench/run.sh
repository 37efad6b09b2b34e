#!/usr/bin/env bash
# `make bench`: every benchmark behind docs/BENCHMARKS.md, one after another (they measure
# wall and CPU time, so run them on a quiet machine). BUILD is the CMake build directory.
# Quality tables need ../shared (the shared datasets); scripts/quality.sh makes them.
set -euo pipefail
BUILD=${1:-build}
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-$(nproc)}

echo "== import: TSV -> matrices, TSV -> SQLite (2,000,000 synthetic events)"
"$BUILD/bench_import" 2000000
echo
echo "== ials: seconds per epoch on the MovieLens-20M-shaped synthetic set"
for f in 64 256; do
  for a in 1 40; do
    "$BUILD/bench_ials" epoch --epochs 3 factors=$f alpha=$a solver=cg
  done
done
"$BUILD/bench_ials" epoch --epochs 2 factors=64 alpha=40 solver=cholesky
echo
echo "== ials: fold-in of one user with 200 events"
"$BUILD/bench_ials" foldin --hist 200 --reps 2000 factors=64
echo
echo "== all-users top-100 (138,000 users, 64 factors)"
"$BUILD/bench_recommend" --iters 2
echo
echo "== ease: 20,000-item catalogue"
"$BUILD/bench_ease" fit
if [ "${TL_BENCH_QUALITY:-1}" = 1 ] && [ -d ../shared/data ]; then
  echo
  echo "== quality (PROTOCOL.md, seed 42)"
  ./scripts/quality.sh -b "$BUILD/tailor"
fi
