#!/bin/sh
# `make demo`: a fresh store holding the demo library: the real goodbooks-10k catalogue with
# SYNTHETIC patrons and loans made by `tailor synth --library` (model: demo/README.md).
# Usage: scripts/demo.sh BIN DB. Idempotent: the DB and the generated files are made anew.
# Environment: TL_DEMO_DATA (where the generated TSVs go, default <dir of BIN>/demo-data),
# TL_DEMO_SEED (default 42), TL_DEMO_PATRONS (default 2000), TL_DEMO_PORT (default 8080),
# TL_DEMO_SERVE (default 1; 0 ends after the model instead of serving it).
set -eu

if [ $# -ne 2 ]; then
    echo "usage: $0 BIN DB" >&2
    exit 2
fi
BIN=$1
DB=$2
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DATA=${TL_DEMO_DATA:-$(dirname "$BIN")/demo-data}
SEED=${TL_DEMO_SEED:-42}
PATRONS=${TL_DEMO_PATRONS:-2000}

[ -x "$BIN" ] || { echo "demo: '$BIN' is not an executable (run make build)" >&2; exit 1; }
[ -f "$ROOT/demo/books.csv" ] || { echo "demo: $ROOT/demo/books.csv is missing" >&2; exit 1; }
if [ -d "$DB" ]; then
    echo "demo: '$DB' is a directory, not a store file; refusing to replace it" >&2
    exit 1
fi

step() { printf '\n== %s\n' "$*"; }

step "1/4 generating the demo library (real catalogue, SYNTHETIC patrons and loans)"
rm -rf "$DATA"
"$BIN" synth --library --books "$ROOT/demo/books.csv" --subjects "$ROOT/demo/subjects.tsv" \
    --seed "$SEED" --patrons "$PATRONS" --out "$DATA"

step "2/4 importing into a fresh store: $DB"
mkdir -p "$(dirname "$DB")"
rm -f "$DB" "$DB-wal" "$DB-shm" "$DB-journal"
"$BIN" --db "$DB" import items "$DATA/items.tsv"
# the same books as MARC records with their copies (Koha 952) across the branches
"$BIN" --db "$DB" import marc "$DATA/catalogue.mrc"
"$BIN" --db "$DB" import users "$DATA/users.tsv"
"$BIN" --db "$DB" import events "$DATA/events.tsv"

# New-arrival alerts: every 20th demo patron (at most 50) opted in with an example.org address.
awk -F '\t' 'FNR > 1 && (FNR - 2) % 20 == 0 && n++ < 50 { print $1 }' "$DATA/users.tsv" |
    while read -r P; do
        "$BIN" --db "$DB" subscription set "$P" --alerts on --email "$P@example.org" >/dev/null
    done

# Learning paths for a few broad topics, proposed from the order patrons borrowed in (the
# web page's "Next step" rows; a librarian edits them in the console).
for TOPIC in history science-fiction classics; do
    "$BIN" --db "$DB" path propose "$TOPIC" -n 6 >/dev/null
done

step "3/4 what is in the store"
"$BIN" --db "$DB" stats

step "most borrowed (SYNTHETIC loans over one simulated academic year)"
# Counted from the generated events, titles from the catalogue.
awk -F '\t' '
    FNR == 1 { next }
    FILENAME ~ /items\.tsv$/ { title[$1] = $3; next }
    $3 == "loan" { n[$2]++ }
    END { for (i in n) printf "%d\t%s\t%s\n", n[i], i, title[i] }
' "$DATA/items.tsv" "$DATA/events.tsv" | sort -t "$(printf '\t')" -k1,1nr -k2,2 | head -10 |
    awk -F '\t' '{ printf "  %4d loans  %-7s %s\n", $1, $2, $3 }'

step "a catalogue record (MARC) with its availability by branch"
"$BIN" --db "$DB" item "$(awk -F '\t' 'FNR == 2 { print $1 }' "$DATA/items.tsv")"

MODEL=${DB%.db}.tlm
step "training a model on the store: $MODEL"
"$BIN" --db "$DB" train --model "${TL_DEMO_MODEL:-ials}" --out "$MODEL"

PATRON=$(awk -F '\t' 'FNR > 1 && $3 == "loan" { n[$1]++ } END { for (u in n) print n[u] "\t" u }' \
    "$DATA/events.tsv" | sort -k1,1nr -k2,2 | head -1 | cut -f2)
step "recommendations for patron $PATRON (SYNTHETIC history), with the evidence"
"$BIN" recommend --model "$MODEL" --user "$PATRON" --n 10
# A filter that changes the list: most of what any patron is recommended is fiction. The same
# key twice means either subject; different keys must all hold.
FILTER="--filter subject=history --filter subject=science --filter available"
step "the same patron, only history or science books with a copy on the shelf ($FILTER)"
# shellcheck disable=SC2086 # FILTER is split into its words on purpose
"$BIN" recommend --model "$MODEL" --user "$PATRON" --n 5 $FILTER

step "the same patron's homepage: rows titled with their reasons"
"$BIN" --db "$DB" homepage --model "$MODEL" --user "$PATRON" --rows 4 --n 3

step "catalogue search: the plain order, then re-ranked for patron $PATRON (tailor search)"
"$BIN" --db "$DB" search "history war" --n 5 --no-facets --no-log
echo
"$BIN" --db "$DB" search "history war" --n 5 --no-log --user "$PATRON" --model "$MODEL"

# The simulated period ends on the day of the latest addition: the digest's "now".
NOW=$(awk -F '\t' 'FNR > 1 && $9 > m { m = $9 } END { print m }' "$DATA/items.tsv")T23:59:59Z
step "new-arrival alerts: the last week's additions for each opted-in patron (one .eml each)"
"$BIN" --db "$DB" digest --since 7d --now "$NOW" --out "$DATA/digest"
ls "$DATA/digest" | head -3
FIRST=$(ls "$DATA/digest" | head -1)
sed -n '/^Content-Type: text\/plain/,/^--=_/p' "$DATA/digest/$FIRST" | sed -n '3,12p'

DBABS=$(cd "$(dirname "$DB")" && pwd)/$(basename "$DB")
printf '\nDemo store: %s\n' "$DBABS"
printf 'Generated files (synthetic patrons and loans): %s\n' "$DATA"
printf 'Model file: %s\n' "$MODEL"
printf 'Try: %s --db %s stats\n     %s recommend --model %s --user %s --json\n' "$BIN" "$DB" "$BIN" "$MODEL" "$PATRON"

[ "${TL_DEMO_SERVE:-1}" = 0 ] && exit 0
PORT=${TL_DEMO_PORT:-8080}
URL="http://127.0.0.1:$PORT"
ITEM=$(awk -F '\t' 'FNR == 2 { print $1 }' "$DATA/items.tsv")
step "serving the demo on $URL (Ctrl-C stops; TL_DEMO_SERVE=0 skips this step)"
cat <<EXAMPLES
The demo serves without authentication, on this machine only (127.0.0.1). Try, from another
terminal:
  curl '$URL/v1/users/$PATRON/recommendations?n=5'
  curl '$URL/v1/users/$PATRON/homepage?rows=4&n=3'
  curl '$URL/v1/items/$ITEM/similar?n=5'
  curl '$URL/v1/items/$ITEM'          # with its catalogue details and copies by branch
  curl '$URL/v1/search?q=history+war&user=$PATRON&n=5'   # personalized search with facets
  curl '$URL/v1/users/$PATRON/digest?since=7d&now=$NOW'  # the patron's newsletter preview
  curl -X POST $URL/v1/events -H 'Content-Type: application/json' \\
       -d '{"user": "$PATRON", "item": "$ITEM", "type": "loan"}'
  curl -X POST $URL/v1/models/train -H 'Content-Type: application/json' -d '{}'
(docs/API.md has every route.)

EXAMPLES
# The last line before the server's own: the page to open (docs/WEB.md).
printf 'Open the web page (a patron'"'"'s library, the librarian'"'"'s console): %s/\n' "$URL"
exec "$BIN" --db "$DB" serve --no-auth --bind 127.0.0.1 --port "$PORT" --model "$MODEL"
