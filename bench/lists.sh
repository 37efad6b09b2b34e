#!/usr/bin/env bash
# Reading lists and learning paths on the demo library (docs/BENCHMARKS.md, "Reading lists and
# learning paths"): the homepage with its "From lists with X" and "Readers like you" rows,
# where a patron stands on a learning path, and a path proposed for a subject. The demo's
# synthetic library (2,000 patrons over goodbooks-10k) gets NLISTS public lists of 10 items,
# written through `tailor list` (the lists' list_add events included).
#   bench/lists.sh [BUILD] [NLISTS]
set -euo pipefail
BUILD=${1:-build}
NLISTS=${2:-200}
cd "$(dirname "$0")/.."
T="$PWD/$BUILD/tailor"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
"$T" synth --library --books demo/books.csv --subjects demo/subjects.tsv --seed 42 \
  --patrons 2000 --out "$W/data" >/dev/null
DB="$W/lib.db"
"$T" --db "$DB" import items "$W/data/items.tsv" --quiet
"$T" --db "$DB" import users "$W/data/users.tsv" --quiet
"$T" --db "$DB" import events "$W/data/events.tsv" --quiet
# lists: each of NLISTS patrons lists ten items of one of their subjects' neighbourhood
# (drawn from the loans, so that lists overlap as readers' do)
awk -F '\t' 'NR > 1 && $3 == "loan" { print $1 "\t" $2 }' "$W/data/events.tsv" |
  sort -k1,1 -s | awk -F '\t' -v n="$NLISTS" '
    $1 != u { u = $1; k = 0; users++ }
    users <= n && k < 10 { print u "\t" $2; k++ }' > "$W/lists.tsv"
start=$(date +%s.%N)
cut -f1 "$W/lists.tsv" | uniq | while read -r u; do
  "$T" --db "$DB" list create "$u" "Favourites of $u" --public --id "l-$u" >/dev/null
done
while IFS=$'\t' read -r u i; do "$T" --db "$DB" list add "l-$u" "$i"; done < "$W/lists.tsv"
end=$(date +%s.%N)
echo "lists: $(wc -l < "$W/lists.tsv") items on $(cut -f1 "$W/lists.tsv" | uniq | wc -l) lists" \
  "written by tailor list in $(echo "$end - $start" | bc) s (one process per command)"
"$T" --db "$DB" train --model itemknn --out "$W/m.tlm" --quiet
users=$(awk -F '\t' 'NR > 1 { print $1 }' "$W/data/events.tsv" | sort -u | awk 'NR <= 50')
time_it() { # label, then the command for each patron (USER replaced)
  local label=$1; shift
  local s e
  s=$(date +%s.%N)
  for u in $users; do "${@//USER/$u}" >/dev/null; done
  e=$(date +%s.%N)
  printf '%-58s %6.1f ms per patron (50 patrons, one process each)\n' "$label" \
    "$(echo "($e - $s) * 1000 / 50" | bc -l)"
}
time_it "tailor homepage --rows 8 --n 10 (with the two new rows)" \
  "$T" --db "$DB" homepage --model "$W/m.tlm" --user USER --rows 8 --n 10 --json
time_it "tailor recommend --n 10 (the process and model, for scale)" \
  "$T" --db "$DB" recommend --model "$W/m.tlm" --user USER --n 10 --json
# a path of 12 positions over popular items, two alternatives each
awk -F '\t' 'NR > 1 && $3 == "loan" { n[$2]++ } END { for (i in n) print n[i] "\t" i }' \
  "$W/data/events.tsv" | sort -k1,1nr | awk 'NR <= 24' |
  awk -F '\t' 'BEGIN { print "path\ttitle\ttopic\tpos\titem\tlevel" }
    { printf "bench\t%s\t%s\t%d\t%s\t\n", NR == 1 ? "Bench path" : "", NR == 1 ? "bench" : "",
      int((NR + 1) / 2), $2 }' > "$W/path.tsv"
"$T" --db "$DB" path import "$W/path.tsv"
time_it "tailor path next (12 positions, 2 alternatives each)" \
  "$T" --db "$DB" path next bench USER --model "$W/m.tlm" --json
subject=$(awk -F '\t' 'NR == 1 { for (k = 1; k <= NF; k++) if ($k == "subjects") c = k; next }
  { n = split($c, s, "|"); for (j = 1; j <= n; j++) t[s[j]]++ }
  END { for (x in t) print t[x] "\t" x }' "$W/data/items.tsv" | sort -k1,1nr | awk 'NR == 1')
s=$(date +%s.%N)
"$T" --db "$DB" path propose "$(echo "$subject" | cut -f2)" -n 20 >/dev/null
e=$(date +%s.%N)
echo "tailor path propose for the largest subject ($(echo "$subject" | cut -f1) items):" \
  "$(echo "($e - $s) * 1000" | bc -l | cut -d. -f1) ms"
