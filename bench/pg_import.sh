#!/bin/sh
# Bulk import into PostgreSQL vs SQLite, the same file in the same run (docs/BENCHMARKS.md):
# a throwaway PostgreSQL server (as nobody when run as root) on a Unix socket in a temporary
# directory, `tailor import events` of N synthetic events (tailor synth --powerlaw) into a new
# SQLite store and into a new PostgreSQL database, alternating, RUNS times each. Reports wall
# time and CPU seconds: the client's (user + sys) and, for PostgreSQL, its server backend's
# (sampled from /proc every 20 ms while the import runs). Each store is first created by an
# import of the file's header line alone, timed on its own ("create"); the summary gives events
# per CPU-second of the import into that new, empty store, and with the creation counted in.
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
head -1 "$WORK/events.tsv" >"$WORK/header.tsv"
tick=$(getconf CLK_TCK)
# timed DB FILE: `tailor import events FILE` into DB; prints "wall client-CPU server-CPU" (the
# server's: its backend for the bench database; 0 for SQLite)
timed() {
    : >"$WORK/server"
    poll=""
    case $1 in postgres*)
        ( while :; do
            for p in $(pgrep -u "$( [ -n "$AS" ] && echo nobody || id -un)" -f "postgres: tailor bench" 2>/dev/null); do
                awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null >"$WORK/server.tmp" && mv "$WORK/server.tmp" "$WORK/server"
            done
            sleep 0.02
        done ) &
        poll=$! ;;
    esac
    /usr/bin/time -f "%e %U %S" -o "$WORK/t" "$T" --db "$1" import events "$2" >/dev/null 2>&1
    [ -z "$poll" ] || { kill "$poll"; wait "$poll" 2>/dev/null || true; }
    read -r wall u s <"$WORK/t"
    server=$(cat "$WORK/server"); server=${server:-0}
    echo "$wall $(echo "$u + $s" | bc) $(echo "scale=2; $server / $tick" | bc)"
}
: >"$WORK/sums"
for r in $(seq "$RUNS"); do
    rm -f "$WORK/s.db"
    set -- $(timed "$WORK/s.db" "$WORK/header.tsv"); cc=$2
    set -- $(timed "$WORK/s.db" "$WORK/events.tsv")
    echo "run $r sqlite:   wall $1 s, cpu $2 s (create: cpu $cc s)"
    echo "sqlite $2 $cc" >>"$WORK/sums"
    psql "postgres:///postgres?host=$DIR&user=tailor" -qc "DROP DATABASE IF EXISTS bench" \
        -c "CREATE DATABASE bench" >/dev/null 2>&1
    set -- $(timed "$URI" "$WORK/header.tsv"); cc=$2; cs=$3
    set -- $(timed "$URI" "$WORK/events.tsv")
    echo "run $r postgres: wall $1 s, cpu $2 s client + $3 s server (create: cpu $cc s client + $cs s server)"
    echo "postgres $(echo "$2 + $3" | bc) $(echo "$cc + $cs" | bc)" >>"$WORK/sums"
done
awk -v n="$EVENTS" '{ imp[$1] += $2; all[$1] += $2 + $3; k[$1]++ }
    END { for (s in imp) { a[s] = n * k[s] / imp[s]; b[s] = n * k[s] / all[s]
              printf "%-8s %8.0f events per CPU-second importing, %8.0f with the store created\n", s, a[s], b[s] }
          printf "postgres / sqlite per core: %.2fx importing, %.2fx with the store created\n",
              a["postgres"] / a["sqlite"], b["postgres"] / b["sqlite"] }' "$WORK/sums"
