#!/bin/sh
# Search quality, plain BM25 vs re-ranked by the patron's profile (docs/BENCHMARKS.md "Catalogue
# search"). The demo library (tailor synth --library: the real goodbooks-10k catalogue with its
# subjects, synthetic patrons and loans): each patron's last loan is held out of the store the
# model is trained on, and the patron searches for it by its first SUBJECTS subjects (the most
# tagged); nDCG@10 of the held-out item at each personal weight.
#
#   sh bench/search_quality.sh [-b BUILD] [-m MODEL] [-s SUBJECTS] [-p PATRONS] [-w "0 0.3 0.5"]
set -eu
BUILD=build MODEL=ials SUBJECTS=2 PATRONS=2000 WEIGHTS="0 0.1 0.2 0.3 0.5 0.7"
while getopts b:m:s:p:w: o; do
    case $o in
    b) BUILD=$OPTARG ;; m) MODEL=$OPTARG ;; s) SUBJECTS=$OPTARG ;; p) PATRONS=$OPTARG ;;
    w) WEIGHTS=$OPTARG ;; *) exit 2 ;;
    esac
done
T=$BUILD/tailor
W=$(mktemp -d /tmp/tailor-searchq.XXXXXX)
trap 'rm -rf "$W"' EXIT
$T synth --library --patrons "$PATRONS" --out "$W/lib" >/dev/null
# the last loan of each patron: held out with every event of that patron and item
awk -F'\t' -v out="$W/holdout.pairs" '
    NR == 1 { next }
    $3 == "loan" && ($5 + 0 >= last[$1] + 0) { last[$1] = $5; item[$1] = $2 }
    END { for (u in item) print u "\t" item[u] > out }' "$W/lib/events.tsv"
awk -F'\t' -v k="$SUBJECTS" '
    NR == FNR { if (FNR > 1) { n = split($5, s, "|"); q = "";
        for (i = 1; i <= n && i <= k; i++) q = q (i > 1 ? " " : "") s[i]; subj[$1] = q }; next }
    subj[$2] != "" { print $1 "\t" $2 "\t" subj[$2] }' "$W/lib/items.tsv" "$W/holdout.pairs" \
    | sort > "$W/holdout.tsv"
awk -F'\t' 'NR == FNR { held[$1 "\t" $2] = 1; next } FNR == 1 || !(($1 "\t" $2) in held)' \
    "$W/holdout.tsv" "$W/lib/events.tsv" > "$W/train.tsv"
DB=$W/lib.db
$T --db "$DB" import items "$W/lib/items.tsv" >/dev/null
$T --db "$DB" import users "$W/lib/users.tsv" >/dev/null
$T --db "$DB" import events "$W/train.tsv" >/dev/null
$T --db "$DB" train --model "$MODEL" --out "$W/model.tlm" >/dev/null 2>&1
echo "catalogue $(($(wc -l < "$W/lib/items.tsv") - 1)) items; held out $(wc -l < "$W/holdout.tsv") loans; model $MODEL; query: the first $SUBJECTS subjects"
# shellcheck disable=SC2086
"$BUILD/bench_search_quality" "$DB" "$W/model.tlm" "$W/holdout.tsv" $WEIGHTS
