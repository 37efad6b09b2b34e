#!/bin/sh
# The homepage under load with the bandit row order and impression logging on (the default of
# tailor serve) against the fixed order without logging, A/B in one run: ROUNDS alternating
# wrk runs of each (bench/serve_ab.sh, DUR seconds each) from the same store, each run starting
# from a fresh copy of it (logging writes to it). Prints each run and the ratio of the medians.
#
# usage: bench/home_ab.sh [BIN]   (run in a folder with s.db, m.tlm and users.txt, such as the
#   build/bench-serve that bench/serve.sh leaves)   env: ROUNDS (default 4), DUR (default 6),
#   EXPERIMENT (arms, e.g. "--arm a:rows=bandit --arm b:rows=bandit": a third arm, the default
#   serve with that experiment running on every patron, so each page looks up its arm)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-$here/../build/tailor}
path="/v1/users/%s/homepage?rows=6&n=10"
[ -f s0.db ] || cp s.db s0.db
fixed="" bandit="" experiment=""
arms="fixed bandit"
[ -n "${EXPERIMENT:-}" ] && arms="$arms experiment"
for _ in $(seq "${ROUNDS:-4}"); do
    for arm in $arms; do
        cp s0.db s.db
        rm -f s.db-wal s.db-shm
        if [ $arm = fixed ]; then args="--row-policy fixed --impressions off"; else args=""; fi
        # shellcheck disable=SC2086 # the arms are words
        [ $arm = experiment ] && "$bin" --db s.db experiment create bench $EXPERIMENT >/dev/null
        rps=$(ARGS="$args" DUR="${DUR:-6}" sh "$here/serve_ab.sh" "$bin" "$path" | cut -d' ' -f1)
        echo "$arm $rps"
        case $arm in
        fixed) fixed="$fixed $rps" ;; bandit) bandit="$bandit $rps" ;;
        *) experiment="$experiment $rps" ;;
        esac
    done
done
median() { echo "$@" | tr ' ' '\n' | grep . | sort -g | awk '{v[NR] = $1} END {
    print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
mf=$(median $fixed) mb=$(median $bandit)
echo "median fixed $mf, bandit $mb: ratio $(echo "$mb $mf" | awk '{printf "%.3f", $1 / $2}')"
if [ -n "$experiment" ]; then
    me=$(median $experiment)
    echo "median with the experiment $me: ratio to fixed $(echo "$me $mf" |
        awk '{printf "%.3f", $1 / $2}'), to bandit $(echo "$me $mb" | awk '{printf "%.3f", $1 / $2}')"
fi
"$bin" --db s.db impressions stats
