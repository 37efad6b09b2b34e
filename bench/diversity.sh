#!/bin/sh
# Diversity and calibration (issue 16): what the re-rankers of tl_rec_query.rerank cost in
# accuracy and give in variety. For each data set (random split, seed 42, docs/PROTOCOL.md) and
# model, `tailor train` on train.tsv with the catalogue, then `tailor recommend --users all --n
# 100` plain, with MMR (--diversify 0.7, 0.5) and with calibration (--calibrate 0.5): the
# service's own code path, as served. Each list is scored by `tailor eval --recs` (nDCG@10,
# Coverage@10) and bench/diversity_metrics.py (Gini of exposure, long-tail share, intra-list
# diversity on subjects, Steck's miscalibration KL), all on the top 10. Prints one markdown table
# per data set.
#
# usage: bench/diversity.sh [-b BIN] [-w WORK] [-d "dataset ..."] [-m "model ..."]
#   -b  the tailor binary (default build/tailor)
#   -w  work folder: splits, models, lists (default build/diversity); kept between runs
#   -d  data sets with items.tsv subjects (default: ml-100k ml-latest-small), as ../shared/data
#       names or folders holding interactions.tsv and items.tsv
#   -m  models (default: popular itemknn ials ease), each on its defaults (autotuned)
# Resumable: a model file or a list already in WORK is reused; delete it to redo it. Runs under
# nice; OMP_NUM_THREADS defaults to 2.
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
bin="$here/build/tailor"
work="$here/build/diversity"
sets="ml-100k ml-latest-small"
models="popular itemknn ials ease"
while getopts b:w:d:m: opt; do
    case $opt in
    b) bin=$OPTARG ;;
    w) work=$OPTARG ;;
    d) sets=$OPTARG ;;
    m) models=$OPTARG ;;
    *) sed -n '2,20p' "$0" >&2; exit 2 ;;
    esac
done
[ -x "$bin" ] || { echo "diversity.sh: no tailor binary at $bin (build first, or -b)" >&2; exit 2; }
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"
py=/usr/bin/python3
metrics="$here/bench/diversity_metrics.py"
# name and options of each re-ranking measured
variants="none mmr0.7 mmr0.5 cal0.5"
options_of() {
    case $1 in
    none) echo "" ;;
    mmr*) echo "--diversify ${1#mmr}" ;;
    cal*) echo "--calibrate ${1#cal}" ;;
    esac
}
label_of() {
    case $1 in
    none) echo "none" ;;
    mmr*) echo "MMR λ=${1#mmr}" ;;
    cal*) echo "calibration λ=${1#cal}" ;;
    esac
}
log() { echo "diversity: $*" >&2; }

mkdir -p "$work"
for name in $sets; do
    if [ -f "$name/interactions.tsv" ]; then ds=$(cd "$name" && pwd); else ds="$here/../shared/data/$name"; fi
    [ -f "$ds/items.tsv" ] || { log "$name: no items.tsv, skipped"; continue; }
    base=$(basename "$ds")
    out="$work/$base"
    mkdir -p "$out"
    if [ ! -f "$out/split.done" ]; then
        log "$base: split"
        "$bin" split "$ds/interactions.tsv" "$out" --mode random --seed 42 >"$out/split.txt"
        touch "$out/split.done"
    fi
    echo
    echo "**$base** (random split, seed 42; $(wc -l <"$out/test.tsv") test pairs)"
    echo
    echo "| model | re-ranking | nDCG@10 | vs none | Coverage@10 | Gini | long tail | ILD | KL | seconds |"
    echo "|---|---|---|---|---|---|---|---|---|---|"
    for m in $models; do
        if [ ! -f "$out/$m.tlm" ]; then
            log "$base: train $m"
            nice "$bin" train --model "$m" --data "$out/train.tsv" --items "$ds/items.tsv" \
                --out "$out/$m.tlm" -q
        fi
        plain=""
        for v in $variants; do
            recs="$out/$m.$v.tsv"
            if [ ! -f "$recs.secs" ]; then
                log "$base: $m $v"
                t0=$(date +%s.%N)
                # shellcheck disable=SC2046 # the options are split on purpose
                nice "$bin" recommend --model "$out/$m.tlm" --users all --n 100 \
                    $(options_of "$v") >"$recs.tmp" 2>"$recs.err"
                t1=$(date +%s.%N)
                cut -f1-3 "$recs.tmp" >"$recs" # eval --recs reads user item rank
                rm "$recs.tmp"
                echo "$t0 $t1" | awk '{ printf "%.2f\n", $2 - $1 }' >"$recs.secs"
            fi
            [ -f "$recs.eval" ] || "$bin" eval --train "$out/train.tsv" --test "$out/test.tsv" \
                --recs "$recs" --json >"$recs.eval"
            [ -f "$recs.div" ] || "$py" "$metrics" "$out/train.tsv" "$ds/items.tsv" "$recs" >"$recs.div"
            row=$("$py" - "$recs.eval" "$recs.div" "$plain" <<'EOF'
import json, sys
e = json.load(open(sys.argv[1]))
d = json.load(open(sys.argv[2]))
ndcg = e["ndcg@10"]
rel = "–" if not sys.argv[3] else "%+.1f%%" % (100 * (ndcg / float(sys.argv[3]) - 1))
print("%.4f | %s | %.3f | %.3f | %.3f | %.3f | %.3f|%.6f" % (ndcg, rel, e["coverage@10"],
      d["gini"], d["long_tail"], d["ild"], d["kl"], ndcg))
EOF
)
            ndcg=${row##*|}
            row=${row%|*}
            [ -n "$plain" ] || plain=$ndcg
            echo "| $m | $(label_of "$v") | $row | $(cat "$recs.secs") |"
        done
    done
done
