#!/usr/bin/env bash
# Times `tailor analytics --json` (docs/ANALYTICS.md) on the demo library (2,000 patrons,
# about 100k events) and on one ten times its size (about 1M events), each with holdings made
# from the items' copy counts and 100k searches with result totals added by SQL (the synthetic
# library has neither). Prints the best of three runs of the whole report and of each section.
# Usage: bench/analytics.sh [BUILD] [WORKDIR]
set -euo pipefail
BUILD=${1:-build}
WORK=${2:-/tmp/tailor-bench-analytics}
cd "$(dirname "$0")/.."
BIN="$PWD/$BUILD/tailor"
mkdir -p "$WORK"

make_store() { # patrons name
  local dir="$WORK/$2" db="$WORK/$2.db"
  if [ ! -f "$db" ]; then
    "$BIN" synth --library --books demo/books.csv --subjects demo/subjects.tsv --seed 42 \
      --patrons "$1" --out "$dir" >/dev/null
    "$BIN" --db "$db" import items "$dir/items.tsv" >/dev/null
    "$BIN" --db "$db" import users "$dir/users.tsv" >/dev/null
    "$BIN" --db "$db" import events "$dir/events.tsv" >/dev/null
    sqlite3 "$db" <<'SQL'
BEGIN;
WITH RECURSIVE c(item, n, k) AS (SELECT id, coalesce(copies, 1), 1 FROM items
  UNION ALL SELECT item, n, k + 1 FROM c WHERE k < n)
INSERT INTO holdings(copy, item_id, branch)
  SELECT item || '-' || k, item, CASE (item + k) % 3 WHEN 0 THEN 'main' WHEN 1 THEN 'science' ELSE 'arts' END FROM c;
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 100000)
INSERT INTO searches(user_id, query, ts)
  SELECT (SELECT min(id) FROM users) + (i * 7919) % (SELECT count(*) FROM users),
         'query ' || (i * 31) % 500, (SELECT max(ts) FROM events) - (i % 300) * 86400 - i FROM s;
INSERT INTO search_totals SELECT id, (id * 13) % 40 FROM searches;
COMMIT;
SQL
  fi
  echo "$db"
}

best() { # db args...: the best of three runs, "wall s (CPU s)"
  local db=$1; shift
  for _ in 1 2 3; do
    /usr/bin/time -f '%e %U %S' "$BIN" --db "$db" analytics --json "$@" 2>&1 >/dev/null | tail -1
  done | awk 'NR == 1 || $1 < w { w = $1; c = $2 + $3 } END { printf "%.2f s wall (%.2f s CPU)", w, c }'
}

for spec in 2000:demo 20000:large; do
  db=$(make_store "${spec%%:*}" "${spec##*:}")
  events=$("$BIN" --db "$db" stats --json --top 0 | sed -n 's/.*"events": \([0-9]*\).*/\1/p')
  printf '%s: %s events, %s\n' "${spec##*:}" "$events" "$db"
  printf '  whole report: %s\n' "$(best "$db")"
  printf '  --branch main: %s\n' "$(best "$db" --branch main)"
  for s in demand holds idle searches new; do
    printf '  --section %s: %s\n' "$s" "$(best "$db" --section "$s")"
  done
done
