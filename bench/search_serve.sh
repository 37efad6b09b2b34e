#!/bin/sh
# Catalogue search under load, on loopback (docs/BENCHMARKS.md "Catalogue search"): a synthetic
# catalogue of N records (bench/gen_catalogue.py; words of low, middle and high frequency), its
# import (the index built in bulk), then in the same run
#   1. wrk, 64 connections, against GET /v1/search (anonymous, then as patrons),
#   2. the same queries straight against the FTS5 index (bench_search_fts, 2 threads: every
#      match ranked), and through the store's own search (--store: the index's heads for a
#      common word, as the server answers it),
#   3. one connection, one class of words at a time: latency per query through the API
#      (less sensitive than 64 connections to other work on the machine),
#   4. the cost of the patron's re-ranking per query over plain BM25 (bench_search_quality).
#
# usage: bench/search_serve.sh [-n RECORDS] [-d SECONDS] [-t THREADS] [-w WORK] [-l]
#   -n records (default 1000000)   -d seconds per run (default 10)   -t server threads (4)
#   -w work folder (default build/bench-search; the catalogue there is reused)
#   -l keep each search in the store (the default server's behaviour; off: read-only store)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
n=1000000 dur=10 threads=4 work="$here/build/bench-search" log=0
while getopts n:d:t:w:l opt; do
    case $opt in
    n) n=$OPTARG ;; d) dur=$OPTARG ;; t) threads=$OPTARG ;; w) work=$OPTARG ;; l) log=1 ;;
    *) sed -n '2,18p' "$0" >&2; exit 2 ;;
    esac
done
bin="$here/build/tailor"
command -v wrk >/dev/null || { [ "$(id -u)" -eq 0 ] && apt-get install -y -qq wrk >&2; }
mkdir -p "$work"
cd "$work"
pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM
if [ ! -s "cat$n/items.tsv" ]; then
    t0=$(date +%s)
    python3 "$here/bench/gen_catalogue.py" "$n" "cat$n"
    echo "generated $n records in $(($(date +%s) - t0)) s" >&2
fi
cp "cat$n"/queries-*.txt .
cat "cat$n/queries.md" >&2
if [ ! -s "s$n.db" ]; then
    rm -f "s$n.db"*
    "$bin" --db "s$n.db" import items "cat$n/items.tsv" >&2
    "$bin" --db "s$n.db" import events "cat$n/events.tsv" --quiet >&2
    "$bin" --db "s$n.db" train --model ials --set autotune=0 --set factors=64 --set iterations=5 --out "m$n.tlm" \
        --quiet >&2
fi
ls -la "s$n.db" >&2
sqlite3 "s$n.db" "SELECT 'heads: ' || count(*) || ' words, ' || sum(df) || ' matches'
    FROM search_heads_terms" >&2 2>/dev/null || true
echo "== load: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores" >&2

start_server() { # $1: more settings
    ro=--read-only
    [ "$log" = 1 ] && ro=
    rm -f serve.out # not the last server's port
    "$bin" serve --no-auth --quiet --port 0 --threads "$threads" --db "s$n.db" --model "m$n.tlm" \
        $ro ${1:-} > serve.out 2> serve.err &
    pids="$pids $!"
    for _ in $(seq 300); do [ -s serve.out ] && break; sleep 0.1; done
    port=$(head -1 serve.out | sed 's/.*://')
    [ -n "$port" ] || { cat serve.err >&2; exit 1; }
}
start_server
url="http://127.0.0.1:$port"
curl -s "$url/v1/search?q=$(head -1 queries-high.txt)&n=3" >&2; echo >&2
cp "$here/bench/serve/search.lua" .
echo "== wrk, 64 connections, anonymous (plain BM25), answers cached (search-cache 1024)"
wrk -t2 -c64 -d"${dur}s" --latency -s search.lua "$url" | grep -E "Requests/sec|99%|50%|Non-2xx"
echo "== wrk, 64 connections, as patrons (re-ranked, weight 0.3)"
TL_SEARCH_ARGS="&user=p$((n % 97))" wrk -t2 -c64 -d"${dur}s" --latency -s search.lua "$url" |
    grep -E "Requests/sec|99%|50%|Non-2xx"
kill "$(echo $pids | awk '{print $NF}')"; sleep 1
start_server "--search-cache 0"
url="http://127.0.0.1:$port"
echo "== wrk, 64 connections, anonymous, no cache (search-cache 0)"
wrk -t2 -c64 -d"${dur}s" --latency -s search.lua "$url" | grep -E "Requests/sec|99%|50%|Non-2xx"
echo "== one connection, no cache, one class at a time (wrk -t1 -c1)"
for c in low mid high; do
    printf '%s: ' "$c"
    TL_SEARCH_CLASSES=$c wrk -t1 -c1 -d3s --latency -s search.lua "$url" |
        awk '/50%/ { p50 = $2 } /99%/ { p99 = $2 } /Requests\/sec/ { r = $2 }
             END { print r " req/s, p50 " p50 ", p99 " p99 }'
done
echo "== the same words straight against FTS5 (2 threads), then through the store (--store)"
"$here/build/bench_search_fts" "s$n.db" "$dur" 2 10 queries-low.txt queries-mid.txt queries-high.txt
"$here/build/bench_search_fts" --store "s$n.db" "$dur" 2 10 queries-low.txt queries-mid.txt \
    queries-high.txt
for c in low mid high; do
    printf '%s: ' "$c"
    "$here/build/bench_search_fts" "s$n.db" 3 2 10 "queries-$c.txt"
    printf '%s: ' "$c"
    "$here/build/bench_search_fts" --store "s$n.db" 3 2 10 "queries-$c.txt"
done
echo "== per query, one thread: plain BM25 (weight 0) against re-ranked (0.3), by class"
# Each pair runs twice and the second is reported: the first re-ranked pass also reads the
# candidates' rows and the patrons' histories into SQLite's cache for the first time, which a
# serving process has done long before (cold, that pass cost up to 1.6 ms more a query).
for c in low mid high; do
    awk -v c="$c" '{ printf "p%d\tnone\t%s\n", NR % 1000, $1 }' "queries-$c.txt" | head -300 > "held-$c.tsv"
    echo "$c:"
    "$here/build/bench_search_quality" "s$n.db" "m$n.tlm" "held-$c.tsv" 0 0.3 0 0.3 | tail -2
done
