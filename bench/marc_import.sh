#!/bin/sh
# MARC catalogue import at scale: a generated catalogue of N records (bench/gen_marc: titles,
# creators, subjects, series, Koha 952 copies; deterministic by seed) imported by
# `tailor import marc` into a fresh store, beside yaz-marcdump's parse-only pass over the same
# file in the same run. Reports records/s and peak memory (/usr/bin/time -v) of each; the
# import's goal is 10,000 records/s end to end and under 300 MB whatever the file's size.
#
# usage: bench/marc_import.sh [-b BUILD] [-w WORK] [-n RECORDS] [-s SEED] [-k]
#   -b  the build folder (default build)     -w  work folder (default BUILD/bench-marc)
#   -n  records (default 1000000)             -s  seed (default 42)
#   -k  keep the generated file and the store
# Needs yaz-marcdump (Debian package yaz: installed when missing) and /usr/bin/time.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build="$here/build"
work=""
n=1000000
seed=42
keep=0
while getopts b:w:n:s:k opt; do
    case $opt in
    b) build=$OPTARG ;; w) work=$OPTARG ;; n) n=$OPTARG ;; s) seed=$OPTARG ;; k) keep=1 ;;
    *) sed -n '2,13p' "$0" >&2; exit 2 ;;
    esac
done
build=$(cd "$build" && pwd)
work=${work:-$build/bench-marc}
if ! command -v yaz-marcdump > /dev/null; then
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends yaz >&2
fi
mkdir -p "$work"
file="$work/catalogue-$n-$seed.mrc"
db="$work/marc.db"
rm -f "$db" "$db-wal" "$db-shm"

# peak RSS (KB) and wall seconds of a command, from /usr/bin/time -v
measure() {
    /usr/bin/time -v "$@" 2> "$work/time.txt" > "$work/out.txt" || {
        cat "$work/time.txt" "$work/out.txt" >&2
        exit 1
    }
    rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$work/time.txt")
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { print $2 }' "$work/time.txt" |
        awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }')
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -m)"
if [ ! -s "$file" ]; then
    measure "$build/gen_marc" "$n" "$seed"
    mv "$work/out.txt" "$file"
    echo "generated: $n records, $(du -m "$file" | cut -f1) MB in $wall s"
fi

measure yaz-marcdump -np "$file"
recs=$(grep -c '^<!-- Record' "$work/out.txt" || true)
printf 'yaz-marcdump -np (parse only): %s records in %.1f s = %.0f records/s, peak %.0f MB\n' \
    "$recs" "$wall" "$(echo "$recs $wall" | awk '{ print $1 / $2 }')" "$(echo "$rss" | awk '{ print $1 / 1024 }')"

measure "$build/tailor" --db "$db" import marc "$file" -q
items=$(sqlite3 "$db" "SELECT count(*) FROM items" 2> /dev/null || echo "?")
copies=$(sqlite3 "$db" "SELECT count(*) FROM holdings" 2> /dev/null || echo "?")
printf 'tailor import marc (end to end): %s items, %s copies in %.1f s = %.0f records/s, peak %.0f MB, store %s MB\n' \
    "$items" "$copies" "$wall" "$(echo "$n $wall" | awk '{ print $1 / $2 }')" \
    "$(echo "$rss" | awk '{ print $1 / 1024 }')" "$(du -m "$db" | cut -f1)"
if [ "$keep" = 0 ]; then
    rm -f "$file" "$db" "$db-wal" "$db-shm"
fi
