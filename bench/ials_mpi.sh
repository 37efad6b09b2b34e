#!/usr/bin/env bash
# Distributed iALS (tailor train --distributed) on one machine, in one command: a synthetic
# power-law set of EVENTS events, trained by 1 rank and by 2 ranks under mpirun (one OpenMP
# thread per rank), and by 1 process with 2 threads for reference; seconds per epoch (median,
# rank 0), the part spent exchanging, peak memory per rank, and whether the 2-rank model
# equals the 1-rank one (bench_ials compare).
#   bench/ials_mpi.sh [BUILD] [EVENTS] [FACTORS] [ITERATIONS]
# Defaults: build, 100000000 events (users and items scaled from MovieLens-20M's 138,000 x
# 27,000 per 20M events), 64 factors, 5 iterations. The data goes to $TMPDIR (default /tmp).
# Times depend on the load (printed before each run): read the ratios of this one command.
set -euo pipefail
BUILD=${1:-build}
EVENTS=${2:-100000000}
FACTORS=${3:-64}
ITERS=${4:-5}
cd "$(dirname "$0")/.."
BIN=$(realpath "$BUILD/tailor")
WORK=${TMPDIR:-/tmp}/tailor_ials_mpi
mkdir -p "$WORK"
DATA=$WORK/p$EVENTS.tsv
USERS=$((EVENTS / 20000000 * 138000 + EVENTS % 20000000 * 138 / 20000))
ITEMS=$((EVENTS / 20000000 * 27000 + EVENTS % 20000000 * 27 / 20000))
[ -f "$DATA" ] || "$BIN" synth --powerlaw --users "$USERS" --items "$ITEMS" --events "$EVENTS" \
    --out "$DATA"
# Open MPI as root needs these; loopback transports only; 2 ranks on a 2-core machine.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
MPIRUN="mpirun --oversubscribe --mca btl self,vader"
SETS="--set autotune=0 --set factors=$FACTORS --set iterations=$ITERS"
TIME="/usr/bin/time -f peak_rss_kib=%M"
run() { # label out threads command...
  local label=$1 out=$2 threads=$3
  shift 3
  echo "== $label (load before: $(cut -d' ' -f1-3 /proc/loadavg))"
  OMP_NUM_THREADS=$threads "$@" train --model ials --distributed --data "$DATA" $SETS \
    --set threads="$threads" --out "$WORK/$out" 2>"$WORK/$out.log" || { cat "$WORK/$out.log"; exit 1; }
  grep -E "^trained|distributed:|peak_rss" "$WORK/$out.log" |
    awk '/peak_rss/ {split($0, a, "="); printf "  peak memory of a rank: %.2f GiB\n", a[2] / 1048576; next} {print}'
}
echo "data: $DATA ($USERS users x $ITEMS items, $EVENTS events), factors=$FACTORS, iterations=$ITERS"
run "1 rank, 1 thread (--distributed without mpirun)" one.model 1 $TIME "$BIN"
run "2 ranks x 1 thread (mpirun -np 2)" two.model 1 $MPIRUN -np 2 $TIME "$BIN"
run "1 process, 2 threads (reference: the whole machine without MPI)" threads.model 2 $TIME "$BIN"
sec() { grep -o '[0-9.]* s per epoch' "$WORK/$1.log" | cut -d' ' -f1; }
awk -v a="$(sec one.model)" -v b="$(sec two.model)" -v c="$(sec threads.model)" \
  'BEGIN {printf "speed-up of 2 ranks over 1 rank: %.2fx (1 process x 2 threads: %.2fx)\n", a / b, a / c}'
"$BUILD/bench_ials" compare "$WORK/one.model" "$WORK/two.model"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
