#!/bin/sh
# New-arrival digests for many patrons: the demo library's catalogue with PATRONS synthetic
# patrons (tailor synth --library), every one opted in, digested to a directory (one .eml each).
# Usage: bench/digest.sh BIN [PATRONS] [WORKDIR]. Prints the digest's summary and patrons/s.
set -eu
BIN=${1:?usage: bench/digest.sh BIN [PATRONS] [WORKDIR]}
PATRONS=${2:-100000}
WORK=${3:-$(mktemp -d)}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
command -v sqlite3 >/dev/null || { echo "digest.sh needs the sqlite3 shell" >&2; exit 1; }
rm -rf "$WORK/data" "$WORK/out" "$WORK/b.db" "$WORK/b.db-wal" "$WORK/b.db-shm"
mkdir -p "$WORK"
"$BIN" synth --library --books "$ROOT/demo/books.csv" --subjects "$ROOT/demo/subjects.tsv" \
    --seed 42 --patrons "$PATRONS" --out "$WORK/data" >/dev/null
for k in items users events; do
    "$BIN" --db "$WORK/b.db" import "$k" "$WORK/data/$k.tsv" --quiet
done
# one patron through the command (migrations, audit), the rest in one statement
"$BIN" --db "$WORK/b.db" subscription set p00001 --alerts on --email p00001@example.org >/dev/null
sqlite3 "$WORK/b.db" "INSERT OR REPLACE INTO subscriptions(user_id, email, alerts, since)
                      SELECT id, ext_id || '@example.org', 1, 0 FROM users;"
NOW=$(awk -F '\t' 'FNR > 1 && $9 > m { m = $9 } END { print m }' "$WORK/data/items.tsv")T23:59:59Z
START=$(date +%s.%N)
"$BIN" --db "$WORK/b.db" digest --since 7d --now "$NOW" --out "$WORK/out"
END=$(date +%s.%N)
N=$(find "$WORK/out" -name '*.eml' | wc -l)
echo "$N messages in $(echo "$END - $START" | bc) s: $(echo "$N / ($END - $START)" | bc) patrons/s"
