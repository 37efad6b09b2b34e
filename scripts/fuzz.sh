#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz/ with clang (ASan + UBSan, in build-fuzz/) and runs
# each for a fixed time, starting from its committed seed corpus. Exits non-zero on the first
# crash, sanitizer report, leak or failed check; the input that caused it is left as
# build-fuzz/artifacts/<target>/crash-* (add it to tests/fuzz/corpus/<target>/ with the fix).
#
#   scripts/fuzz.sh [SECONDS [TARGET...]]   default: 20 seconds each, every target
#
# New inputs found while fuzzing go to build-fuzz/corpus/<target>/, not to the repository.
# Environment: FUZZ_BUILD (build-fuzz), CC (clang), JOBS (2), FUZZ_ARGS (more libFuzzer flags).
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${1:-20}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(csv jsonl gzip model router marc layout)
build=${FUZZ_BUILD:-build-fuzz}
cc=${CC:-clang}
case "$cc" in *clang*) ;; *) cc=clang ;; esac

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER="$cc" -DTL_FUZZ=ON \
    -DTL_BUILD_TESTS=OFF -DTL_BUILD_BENCH=OFF -DTL_NATIVE=OFF >/dev/null
cmake --build "$build" -j "${JOBS:-2}" --target "${targets[@]/#/fuzz_}" >/dev/null

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export OMP_NUM_THREADS=1
for t in "${targets[@]}"; do
    mkdir -p "$build/corpus/$t" "$build/artifacts/$t"
    echo "== fuzz $t (${secs}s)"
    log="$build/fuzz_$t.log"
    rc=0
    # shellcheck disable=SC2086
    "$build/fuzz_$t" -max_total_time="$secs" -timeout=30 -rss_limit_mb=4096 -print_final_stats=1 \
        -artifact_prefix="$build/artifacts/$t/" ${FUZZ_ARGS:-} \
        "$build/corpus/$t" "tests/fuzz/corpus/$t" >"$log" 2>&1 || rc=$?
    grep -E '^(#[0-9]+.*(INITED|DONE)|stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb))' "$log" || true
    if [ "$rc" -ne 0 ]; then
        tail -n 60 "$log" >&2
        echo "fuzz $t: failed (exit $rc); log $log, reproducer in $build/artifacts/$t/" >&2
        exit 1
    fi
done
