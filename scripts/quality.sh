#!/bin/sh
# Recommendation quality of every model on every shared dataset, by PROTOCOL.md: for each
# DATA/*/interactions.tsv and each split mode (random and temporal, seed 42), `tailor split`
# then `tailor eval` per model, printed as the markdown tables of docs/BENCHMARKS.md.
#
# usage: scripts/quality.sh [-b BIN] [-d DATA_DIR] [-w WORK_DIR] [-m "model ..."] [-s MODEL:key=value]...
#   -b  the tailor binary (default build/tailor)
#   -d  datasets folder (default ../shared/data beside the repository)
#   -w  where splits and recs go (default a temporary folder, removed at exit)
#   -m  models to run (default: every registered model, as `tailor train --help` lists them)
#   -s  a parameter for one model, e.g. -s itemknn:k=50 (repeatable)
# "fit s" is tl_model_fit's wall time, including a model's own autotune on a validation split.
# In temporal splits train pairs get their timestamps (--interactions) for order-aware models.
# Datasets are treated as explicit 1-5 ratings (positive = value >= 4), as the MovieLens sets
# are; a dataset folder holding a file named IMPLICIT is split with --implicit instead.
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
bin="$here/build/tailor"
data="$here/../shared/data"
work=""
models=""
sets=""
while getopts b:d:w:m:s: opt; do
    case $opt in
    b) bin=$OPTARG ;;
    d) data=$OPTARG ;;
    w) work=$OPTARG ;;
    m) models=$OPTARG ;;
    s) sets="$sets $OPTARG" ;;
    *) sed -n '2,14p' "$0" >&2; exit 2 ;;
    esac
done
[ -x "$bin" ] || { echo "quality.sh: no tailor binary at $bin (build first, or -b)" >&2; exit 2; }
if [ -z "$work" ]; then
    work=$(mktemp -d /tmp/tailor-quality-XXXXXX)
    trap 'rm -rf "$work"' EXIT
fi
mkdir -p "$work"
if [ -z "$models" ]; then
    models=$("$bin" train --help 2>&1 | sed -n 's/^\([a-z0-9_]*\): .*/\1/p' | grep -v '^usage$' | tr '\n' ' ')
fi

# The value of "key": in a one-line JSON object, as printf %.4f (or "-").
num() {
    v=$(printf '%s' "$2" | sed -n "s/.*\"$1\": \(-\{0,1\}[0-9][0-9.eE+-]*\).*/\1/p")
    if [ -n "$v" ]; then printf '%.4f' "$v"; else printf '%s' "-"; fi
}

for ds in "$data"/*/; do
    ds=${ds%/}
    [ -f "$ds/interactions.tsv" ] || continue
    name=$(basename "$ds")
    implicit=""
    [ -f "$ds/IMPLICIT" ] && implicit="--implicit"
    items=""
    [ -f "$ds/items.tsv" ] && items="--items $ds/items.tsv"
    for mode in random temporal; do
        out="$work/$name-$mode"
        counts=$("$bin" split "$ds/interactions.tsv" "$out" --mode "$mode" --seed 42 $implicit)
        users=${counts##*users }
        # Train pairs get their timestamps for order-aware models; in a random split the
        # order is left out, as the split itself ignores it.
        stamps=""
        [ "$mode" = temporal ] && stamps="--interactions $ds/interactions.tsv $implicit"
        echo "## $name, $mode split ($users test users)"
        echo
        echo "| model | nDCG@10 | nDCG@100 | Recall@20 | Recall@50 | P@10 | MAP@10 | HR@10 | Coverage@10 | novelty@10 | diversity@10 | fit s |"
        echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
        for model in $models; do
            args=""
            for s in $sets; do
                case $s in "$model":*) args="$args --set ${s#*:}" ;; esac
            done
            # shellcheck disable=SC2086 # word splitting of the option lists is intended
            if json=$(nice "$bin" eval --train "$out/train.tsv" --test "$out/test.tsv" \
                --model "$model" $args $items $stamps --json 2>"$out/$model.err"); then
                printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$model" \
                    "$(num 'ndcg@10' "$json")" "$(num 'ndcg@100' "$json")" \
                    "$(num 'recall@20' "$json")" "$(num 'recall@50' "$json")" \
                    "$(num 'precision@10' "$json")" "$(num 'map@10' "$json")" \
                    "$(num 'hitrate@10' "$json")" "$(num 'coverage@10' "$json")" \
                    "$(num 'novelty@10' "$json")" "$(num 'diversity@10' "$json")" \
                    "$(printf '%.2f' "$(printf '%s' "$json" |
                        sed -n 's/.*"fit_seconds": \([0-9.eE+-]*\).*/\1/p')")"
            else
                echo "| $model | failed: $(tail -n 1 "$out/$model.err" | tr '|' '/') |||||||||||"
            fi
        done
        echo
    done
done
