#!/bin/sh
# Bulk import into PostgreSQL vs SQLite, the same file in the same run (docs/BENCHMARKS.md):
# a throwaway PostgreSQL server (as nobody when run as root) on a Unix socket in a temporary
# directory, `tailor import events` of N synthetic events (tailor synth --powerlaw) into a new
# SQLite store and into a new PostgreSQL database, alternating, RUNS times each. Reports wall
# time and CPU seconds: the client's (user + sys) and, for PostgreSQL, its server backend's
# (sampled from /proc every 20 ms while the import runs).
#   bench/pg_import.sh [BUILD_DIR] [EVENTS] [RUNS]
set -eu
BUILD=${1:-build}
EVENTS=${2:-1000000}
RUNS=${3:-3}
T=$(cd "$BUILD" && pwd)/tailor
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$BIN/initdb" ] || { echo "pg_import: no PostgreSQL server (apt-get install postgresql)" >&2; exit 77; }
DIR=$(mktemp -d /tmp/tl-pgbench-XXXXXX)
AS=""
if [ "$(id -u)" -eq 0 ]; then chown nobody "$DIR"; AS="runuser -u nobody --"; fi
cleanup() { $AS "$BIN/pg_ctl" -D "$DIR/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$DIR"; }
trap cleanup EXIT INT TERM
(cd "$DIR" && $AS "$BIN/initdb" -D "$DIR/data" -U tailor -A trust -E UTF8 >/dev/null)
(cd "$DIR" && $AS "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/log" -w -o "-k $DIR -c listen_addresses=''" start >/dev/null)
URI="postgres:///bench?host=$DIR&user=tailor"
WORK=$(mktemp -d)
trap 'cleanup; rm -rf "$WORK"' EXIT INT TERM
"$T" synth --powerlaw --users $((EVENTS / 20)) --items $((EVENTS / 100)) --events "$EVENTS" \
    --out "$WORK/events.tsv" >/dev/null 2>&1
echo "file: $EVENTS events, $((EVENTS / 20)) users, $((EVENTS / 100)) items; $(nproc) CPUs; $(uname -r)"
tick=$(getconf CLK_TCK)
for r in $(seq "$RUNS"); do
    rm -f "$WORK/s.db"
    /usr/bin/time -f "%e %U %S" -o "$WORK/t" "$T" --db "$WORK/s.db" import events "$WORK/events.tsv" >/dev/null
    read -r wall u s <"$WORK/t"
    echo "run $r sqlite:   wall $wall s, cpu $(echo "$u + $s" | bc) s"
    psql "postgres:///postgres?host=$DIR&user=tailor" -qc "DROP DATABASE IF EXISTS bench" \
        -c "CREATE DATABASE bench" >/dev/null 2>&1
    : >"$WORK/server"
    ( while :; do
        for p in $(pgrep -u "$( [ -n "$AS" ] && echo nobody || id -un)" -f "postgres: tailor bench" 2>/dev/null); do
            awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null >"$WORK/server.tmp" && mv "$WORK/server.tmp" "$WORK/server"
        done
        sleep 0.02
    done ) &
    poll=$!
    /usr/bin/time -f "%e %U %S" -o "$WORK/t" "$T" --db "$URI" import events "$WORK/events.tsv" >/dev/null
    kill $poll; wait $poll 2>/dev/null || true
    read -r wall u s <"$WORK/t"
    server=$(cat "$WORK/server"); server=${server:-0}
    echo "run $r postgres: wall $wall s, cpu $(echo "$u + $s" | bc) s client + $(echo "scale=2; $server / $tick" | bc) s server"
done
