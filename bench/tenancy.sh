#!/bin/sh
# The per-request cost of consortium tenancy (docs/SCALE.md, "Consortium tenancy"): a synthetic
# consortium of two libraries (patrons split by id parity, the catalogue shared, half the items
# held by each), an itemknn model trained on both, and bench_tenancy timing the same patrons'
# recommendations asked by the consortium (no filter) and by their library (filtered).
#   bench/tenancy.sh [BUILD_DIR] [EVENTS]
set -eu
build=${1:-build}
events=${2:-1000000}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
t="$build/tailor"
"$t" synth --powerlaw --users 50000 --items 20000 --events "$events" --out "$dir/all.tsv" >/dev/null
# loans (user, item, timestamp), patrons u0, u2, ... of a, u1, u3, ... of b
awk -F'\t' -v OFS='\t' 'NR == 1 { print "user", "item", "timestamp" > a; print "user", "item", "timestamp" > b; next }
    { print $1, $2, $4 > (substr($1, 2) % 2 ? b : a) }' a="$dir/a.tsv" b="$dir/b.tsv" "$dir/all.tsv"
cut -f2 "$dir/all.tsv" | tail -n +2 | sort -u > "$dir/items.txt"
cut -f1 "$dir/a.tsv" | tail -n +2 | sort -u | head -n 1000 > "$dir/users.txt"
db="$dir/c.db"
printf 'item\ttitle\n' > "$dir/it.tsv"
sed 's/$/\tx/' "$dir/items.txt" >> "$dir/it.tsv"
"$t" --db "$db" import items "$dir/it.tsv" --quiet
"$t" --db "$db" tenant add a --name A --branch A1 >/dev/null
"$t" --db "$db" tenant add b --name B --branch B1 >/dev/null
"$t" --db "$db" --tenant a import events "$dir/a.tsv" --quiet
"$t" --db "$db" --tenant b import events "$dir/b.tsv" --quiet
"$t" --db "$db" train --model itemknn --set autotune=0 --out "$dir/m.tlm" >/dev/null
"$build/bench_tenancy" --db "$db" --model "$dir/m.tlm" --items "$dir/items.txt" \
    --users "$dir/users.txt" --rounds 5
