#!/bin/sh
# One wrk run (2 threads, 64 connections, keep-alive) against `tailor serve` of BIN on the store
# s.db and model m.tlm of the current folder (bench/serve.sh leaves both in build/bench-serve),
# patrons from users.txt: prints "requests/s p99". Run old and new binaries alternately in one
# session to compare them: these machines are noisy.
#
# usage: bench/serve_ab.sh BIN [PATH_FORMAT]   (default /v1/users/%s/recommendations?n=10)
#   env: DUR (seconds, default 5), TH (server threads, default 4), ARGS (more serve flags, e.g.
#   "--row-policy fixed --impressions off" against the default bandit with impressions)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bin=$1
export TL_PATH="${2:-/v1/users/%s/recommendations?n=10}"
out=$(mktemp)
"$bin" serve --no-auth --quiet --port 0 --threads "${TH:-4}" --db s.db --model m.tlm ${ARGS:-} > "$out" 2>/dev/null &
spid=$!
for _ in $(seq 50); do [ -s "$out" ] && break; sleep 0.1; done
port=$(head -1 "$out" | sed 's/.*://')
wrk -t2 -c64 -d"${DUR:-5}s" --latency -s "$here/serve/recs.lua" "http://127.0.0.1:$port" |
    awk '/Requests\/sec/ {r = $2} $1 == "99%" {p = $2} /Non-2xx/ {e = $0} END {print r, p, e}'
kill "$spid"
wait "$spid" 2>/dev/null || true
rm -f "$out"
