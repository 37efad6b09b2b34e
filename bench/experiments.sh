#!/bin/sh
# The experiment figures of docs/BENCHMARKS.md, from the simulator (src/synth/simulate.c) over
# SEEDS seeds each (default 50): the bandit's regret against fixed order and the oracle, the
# off-policy estimators against the true value, A/A tests looked at daily for a quarter, and
# interleaving against an A/B test. Per-seed JSON lines go to OUT/*.jsonl, the summaries to
# standard output.
#   bench/experiments.sh [SEEDS] [OUT]     (needs a build: build/bench_experiments)
set -eu
SEEDS=${1:-50}
OUT=${2:-build/experiments}
BIN=${BENCH_EXPERIMENTS:-build/bench_experiments}
[ -x "$BIN" ] || { echo "build first: $BIN is missing" >&2; exit 1; }
mkdir -p "$OUT"
for mode in regret ope aa interleave; do
    start=$(date +%s)
    "$BIN" $mode "$SEEDS" > "$OUT/$mode.jsonl"
    grep '^summary' "$OUT/$mode.jsonl"
    echo "($mode: $(( $(date +%s) - start )) s)"
done
