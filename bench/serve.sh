#!/bin/sh
# The server under load, on loopback: wrk (keep-alive, 64 connections) against `tailor serve` with
# a MovieLens-sized model, and against nginx serving a static JSON file of the same size as one
# recommendation answer, in the same run (the ceiling of this machine's HTTP stack); events
# ingested durably per second (batched POSTs); the latency from a posted event to a changed
# recommendation (p50, p99).
#
# usage: bench/serve.sh [-b BIN] [-w WORK] [-m MODEL] [-d SECONDS] [-t THREADS] [-D DATASET]
#   -b  the tailor binary (default build/tailor)     -w  work folder (default build/bench-serve)
#   -m  the model served (default ials)               -d  seconds per wrk run (default 10)
#   -t  server worker threads (default 4)             -D  data set folder (default
#                                                         ../shared/data/ml-100k)
# Needs wrk and nginx (Debian packages wrk, nginx-light: installed when missing).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
bin="$here/build/tailor"
work="$here/build/bench-serve"
model=ials
dur=10
threads=4
data="$here/../shared/data/ml-100k"
while getopts b:w:m:d:t:D: opt; do
    case $opt in
    b) bin=$OPTARG ;; w) work=$OPTARG ;; m) model=$OPTARG ;; d) dur=$OPTARG ;;
    t) threads=$OPTARG ;; D) data=$OPTARG ;;
    *) sed -n '2,15p' "$0" >&2; exit 2 ;;
    esac
done
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
for p in wrk nginx-light; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
        { [ "$(id -u)" -eq 0 ] && apt-get install -y -qq "$p" >&2; } ||
        { echo "serve.sh: needs the Debian package $p" >&2; exit 2; }
done
rm -rf "$work"
mkdir -p "$work"
cp "$here/bench/serve/"*.lua "$here/bench/serve/latency.py" "$work/"
cd "$work"
pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM

load0=$(cut -d' ' -f1-3 /proc/loadavg)
echo "== data: $data, model $model" >&2
"$bin" --db s.db import events "$data/interactions.tsv" --quiet >&2
[ -f "$data/items.tsv" ] && "$bin" --db s.db import items "$data/items.tsv" --quiet >&2
"$bin" --db s.db train --model "$model" --out m.tlm --quiet >&2
cut -f1 "$data/interactions.tsv" | tail -n +2 | sort -u > users.txt
cut -f2 "$data/interactions.tsv" | tail -n +2 | sort -u > items.txt
cp s.db s0.db # the store as trained: the read runs start from it

start_server() { # $1: store
    "$bin" serve --no-auth --quiet --port 0 --threads "$threads" --db "$1" --model m.tlm \
        > serve.out 2> serve.err &
    pids="$pids $!"
    spid=$!
    for _ in $(seq 100); do [ -s serve.out ] && break; sleep 0.1; done
    port=$(head -1 serve.out | sed 's/.*://')
    [ -n "$port" ] || { cat serve.err >&2; exit 1; }
}
stop_server() { kill "$spid"; wait "$spid" 2>/dev/null || true; rm -f serve.out; }

# wrk's requests/s and p99 (ms) as "RPS P99".
run_wrk() { # url [script]
    if [ -n "${2:-}" ]; then out=$(wrk -t2 -c64 -d"${dur}s" --latency -s "$2" "$1"); else
        out=$(wrk -t2 -c64 -d"${dur}s" --latency "$1"); fi
    echo "$out" >> wrk.log
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    p99=$(echo "$out" | awk '$1 == "99%" {v = $2; if (v ~ /us$/) {sub(/us/, "", v); v /= 1000}
        else if (v ~ /ms$/) sub(/ms/, "", v); else if (v ~ /s$/) {sub(/s/, "", v); v *= 1000}
        print v}')
    errs=$(echo "$out" | awk '/Non-2xx/ {print $5} /Socket errors/ {print "socket:" $0}')
    echo "$rps $p99 ${errs:-0}"
}

start_server s.db
curl -s "http://127.0.0.1:$port/v1/users/$(head -1 users.txt)/recommendations?n=10" > rec.json
size=$(wc -c < rec.json)
mkdir -p nginx/logs
cat > nginx/nginx.conf <<NGINX
worker_processes 2;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:0;
        location = /rec.json { root $work; default_type application/json; }
    }
}
NGINX
# nginx cannot pick a free port: take one from the kernel, then free it for nginx
nport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
sed -i "s/127.0.0.1:0/127.0.0.1:$nport/" nginx/nginx.conf
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -g 'daemon off;' &
pids="$pids $!"
sleep 0.5

echo "== wrk ${dur}s each, 64 connections, 2 wrk threads, server threads $threads" >&2
set -- $(run_wrk "http://127.0.0.1:$nport/rec.json")
ng_rps=$1 ng_p99=$2
set -- $(run_wrk "http://127.0.0.1:$port" recs.lua)
rec_rps=$1 rec_p99=$2 rec_err=$3
set -- $(TL_PATH="/v1/users/%s/homepage?rows=6&n=10" run_wrk "http://127.0.0.1:$port" recs.lua)
home_rps=$1 home_p99=$2 home_err=$3
set -- $(TL_BATCH=100 run_wrk "http://127.0.0.1:$port" events.lua)
ev_rps=$1 ev_p99=$2 ev_err=$3
lat=$(python3 latency.py "$port" 200)
stop_server
stored=$("$bin" --db s.db stats --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["events"])')

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
cat <<REPORT
| what | requests/s | p99 ms | vs nginx | non-2xx / errors |
|---|---|---|---|---|
| nginx, static JSON of $size bytes | $ng_rps | $ng_p99 | 1.00 | - |
| GET recommendations (n=10, random patrons) | $rec_rps | $rec_p99 | $(ratio "$rec_rps" "$ng_rps") | $rec_err |
| GET homepage (6 rows x 10) | $home_rps | $home_p99 | $(ratio "$home_rps" "$ng_rps") | $home_err |
| POST events, 100 per request | $ev_rps ($(awk -v r="$ev_rps" 'BEGIN {printf "%.0f", r * 100}') events/s) | $ev_p99 | - | $ev_err |

$lat

events in the store after the run: $stored (machine: $(nproc) cores; load average before the run: $load0)
REPORT
