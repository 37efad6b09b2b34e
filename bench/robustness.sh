#!/bin/sh
# Robustness of Tailor's defaults: for each data set and split mode (seed 42), `tailor split`, the
# tuned reference models (bench/reference/reference.py, REFERENCE.md's grids) and `tailor eval`
# of every model on its defaults, then one markdown table per data set and split: each Tailor
# model's nDCG@10 and fit seconds beside its reference twin, the best reference model, the ratio
# best Tailor / best reference, and whether hybrid reaches its best member.
#
# usage: bench/robustness.sh [-b BIN] [-w WORK] [-d "dataset ..."] [-m "model ..."]
#                            [-r "refmodel ..."] [-s "random temporal"] [-o all|ref|tailor|table]
#   -b  the tailor binary (default build/tailor)
#   -w  work folder: splits, cached results, logs (default build/robustness); kept between runs
#   -d  data sets (default: ml-100k ml-latest-small articles music library short sparse17k):
#       a shared set (../shared/data/NAME), a shape (build/shapes/NAME, made by build/make_shapes
#       when missing) or a folder holding interactions.tsv [items.tsv] [IMPLICIT]
#   -m  Tailor models (default: every registered model, as `tailor train --help` lists them)
#   -r  reference models (default: pop itemknn rp3beta ease ials)
#   -s  split modes (default: random temporal)
#   -o  what to run: all (default), ref (reference only, to fill the cache), tailor, table (print
#       the tables from what is cached, run nothing)
# Resumable: every finished cell (a split, a reference model, a Tailor model) is a file under
# WORK/NAME-MODE/ and is skipped next time; delete it to redo it. Tailor gets the train pairs'
# timestamps (--interactions) in both modes, as a library would give them, and the catalogue
# (--items) when the data set has one. A folder with an IMPLICIT file is implicit data (--implicit),
# else ratings (positive = value >= 4). Runs under nice; OMP_NUM_THREADS defaults to 2.
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
bin="$here/build/tailor"
work="$here/build/robustness"
sets="ml-100k ml-latest-small articles music library short sparse17k"
models=""
refmodels="pop itemknn rp3beta ease ials"
modes="random temporal"
only=all
while getopts b:w:d:m:r:s:o: opt; do
    case $opt in
    b) bin=$OPTARG ;;
    w) work=$OPTARG ;;
    d) sets=$OPTARG ;;
    m) models=$OPTARG ;;
    r) refmodels=$OPTARG ;;
    s) modes=$OPTARG ;;
    o) only=$OPTARG ;;
    *) sed -n '2,25p' "$0" >&2; exit 2 ;;
    esac
done
case $only in all | ref | tailor | table) ;; *) echo "robustness.sh: -o all|ref|tailor|table" >&2; exit 2 ;; esac
[ -x "$bin" ] || { echo "robustness.sh: no tailor binary at $bin (build first, or -b)" >&2; exit 2; }
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"
py=/usr/bin/python3
ref="$here/bench/reference/reference.py"
shapes="$here/build/shapes"
if [ "$only" = all ] || [ "$only" = ref ]; then
    "$here/bench/reference/deps.sh"
fi
if [ -z "$models" ]; then
    models=$("$bin" train --help 2>&1 | sed -n 's/^\([a-z0-9_]*\): .*/\1/p' | grep -v '^usage$' | tr '\n' ' ')
fi
mkdir -p "$work"

# The folder of a data set name (made on demand for shapes).
dataset_dir() {
    if [ -f "$1/interactions.tsv" ]; then
        (cd "$1" && pwd)
    elif [ -f "$here/../shared/data/$1/interactions.tsv" ]; then
        (cd "$here/../shared/data/$1" && pwd)
    else
        if [ ! -f "$shapes/$1/interactions.tsv" ]; then
            mk="$(dirname "$bin")/make_shapes"
            [ -x "$mk" ] || { echo "robustness.sh: no data set '$1' and no $mk" >&2; return 1; }
            "$mk" --out "$shapes" "$1" >&2 || return 1
        fi
        echo "$shapes/$1"
    fi
}

log() { echo "robustness: $*" >&2; }

for name in $sets; do
    ds=$(dataset_dir "$name")
    base=$(basename "$ds")
    implicit=""
    [ -f "$ds/IMPLICIT" ] && implicit="--implicit"
    items=""
    [ -f "$ds/items.tsv" ] && items="--items $ds/items.tsv"
    for mode in $modes; do
        out="$work/$base-$mode"
        mkdir -p "$out/ref" "$out/tailor"
        if [ "$only" != table ] && [ ! -f "$out/split.done" ]; then
            log "$base $mode: split"
            "$bin" split "$ds/interactions.tsv" "$out" --mode "$mode" --seed 42 $implicit >"$out/split.txt"
            touch "$out/split.done"
        fi
        if [ "$only" = all ] || [ "$only" = ref ]; then
            for m in $refmodels; do
                [ -f "$out/ref/$m.json" ] && continue
                log "$base $mode: reference $m"
                # shellcheck disable=SC2086 # $implicit is one option or none
                if nice "$py" "$ref" "$out/train.tsv" "$out/test.tsv" --model "$m" --mode "$mode" \
                    --interactions "$ds/interactions.tsv" $implicit --json \
                    >"$out/ref/$m.json.tmp" 2>"$out/ref/$m.log"; then
                    mv "$out/ref/$m.json.tmp" "$out/ref/$m.json"
                else
                    rm -f "$out/ref/$m.json.tmp"
                    log "$base $mode: reference $m failed (see $out/ref/$m.log)"
                fi
            done
        fi
        if [ "$only" = all ] || [ "$only" = tailor ]; then
            for m in $models; do
                [ -f "$out/tailor/$m.json" ] && continue
                log "$base $mode: tailor $m"
                # shellcheck disable=SC2086 # the option lists are split on purpose
                if nice "$bin" eval --train "$out/train.tsv" --test "$out/test.tsv" --model "$m" \
                    $items --interactions "$ds/interactions.tsv" $implicit --json \
                    >"$out/tailor/$m.json.tmp" 2>"$out/tailor/$m.err"; then
                    mv "$out/tailor/$m.json.tmp" "$out/tailor/$m.json"
                else
                    rm -f "$out/tailor/$m.json.tmp"
                    log "$base $mode: tailor $m failed: $(tail -n 1 "$out/tailor/$m.err")"
                fi
            done
        fi
    done
done

# The tables, from the cache.
for name in $sets; do
    ds=$(dataset_dir "$name")
    base=$(basename "$ds")
    for mode in $modes; do
        "$py" - "$work/$base-$mode" "$base" "$mode" "$models" <<'EOF'
import glob, json, os, sys

out, name, mode, models = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].split()
twin = {"popular": "pop", "itemknn": "itemknn", "rp3beta": "rp3beta", "ease": "ease",
        "ials": "ials"}
ref = {}
for f in sorted(glob.glob(os.path.join(out, "ref", "*.json"))):
    with open(f) as fh:
        for m, r in json.load(fh)["models"].items():
            ref[m] = r
tl = {}
for m in models:
    f = os.path.join(out, "tailor", m + ".json")
    if os.path.exists(f):
        with open(f) as fh:
            tl[m] = json.load(fh)
users = "?"
try:
    with open(os.path.join(out, "split.txt")) as fh:
        users = fh.read().split("users")[-1].strip()
except OSError:
    pass
print(f"### {name}, {mode} split ({users} test users)\n")
print("| model | nDCG@10 | Recall@20 | fit s | of which autotune s | reference twin nDCG@10 | Tailor / twin |")
print("|---|---|---|---|---|---|---|")
for m in models:
    r = tl.get(m)
    t = ref.get(twin.get(m, ""))
    tn = f"{t['metrics']['ndcg@10']:.4f}" if t else "-"
    if r is None:
        err = os.path.join(out, "tailor", m + ".err")
        why = "not run"
        if os.path.exists(err) and os.path.getsize(err):
            with open(err) as fh:
                why = "failed: " + fh.read().strip().splitlines()[-1].replace("|", "/")
        print(f"| {m} | {why} | | | | {tn} | |")
        continue
    ratio = f"{r['ndcg@10'] / t['metrics']['ndcg@10']:.3f}" if t and t["metrics"]["ndcg@10"] else "-"
    tune = f"{r['tune_seconds']:.2f}" if "tune_seconds" in r else "-"
    print(f"| {m} | {r['ndcg@10']:.4f} | {r['recall@20']:.4f} | {r['fit_seconds']:.2f} | {tune} | {tn} | {ratio} |")
print()
if ref:
    bm = max(ref, key=lambda m: ref[m]["metrics"]["ndcg@10"])
    b = ref[bm]
    params = ", ".join(f"{k}={v}" for k, v in sorted(b["params"].items())) or "-"
    print(f"- best reference: **{bm} {b['metrics']['ndcg@10']:.4f}** ({params}; "
          f"{b['seconds']:.1f} s fit + top-100, {b['tune_seconds']:.0f} s tuning); reference models "
          f"run: {', '.join(sorted(ref))}")
else:
    print("- best reference: not run")
if tl:
    bt = max(tl, key=lambda m: tl[m]["ndcg@10"])
    line = f"- best Tailor: **{bt} {tl[bt]['ndcg@10']:.4f}**"
    if ref:
        r = tl[bt]["ndcg@10"] / ref[bm]["metrics"]["ndcg@10"]
        line += f"; best Tailor / best reference = **{r:.3f}** ({'beats it' if r > 1 else 'misses it'})"
    print(line)
if "hybrid" in tl:
    h = tl["hybrid"]
    members = str(h.get("params", {}).get("models", "ease,ials,itemknn,sequence,content")).split(",")
    ran = [m for m in members if m in tl]
    if ran:
        bm2 = max(ran, key=lambda m: tl[m]["ndcg@10"])
        ok = h["ndcg@10"] >= tl[bm2]["ndcg@10"]
        print(f"- hybrid {h['ndcg@10']:.4f} vs its best member {bm2} {tl[bm2]['ndcg@10']:.4f}: "
              f"{'yes, hybrid >= best member' if ok else 'NO, hybrid < best member'}")
print()
EOF
    done
done

# One summary row per data set and split, and autotune's cost per model over all of them.
cells=""
for name in $sets; do
    ds=$(dataset_dir "$name")
    for mode in $modes; do
        cells="$cells $work/$(basename "$ds")-$mode"
    done
done
"$py" - "$models" $cells <<'EOF'
import json, os, sys

models, cells = sys.argv[1].split(), sys.argv[2:]
def load(p):
    try:
        with open(p) as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return None
print("### Summary: best of Tailor's defaults vs the best tuned reference\n")
print("| data set | split | best Tailor | best reference | ratio | hybrid | its best member | hybrid >= best member |")
print("|---|---|---|---|---|---|---|---|")
tune = {m: [] for m in models}
for c in cells:
    name, mode = os.path.basename(c).rsplit("-", 1)
    tl = {m: r for m in models if (r := load(os.path.join(c, "tailor", m + ".json")))}
    ref = {}
    for f in ("pop", "itemknn", "rp3beta", "ease", "ials"):
        r = load(os.path.join(c, "ref", f + ".json"))
        if r:
            ref.update(r["models"])
    for m, r in tl.items():
        if "tune_seconds" in r:
            tune[m].append((r["tune_seconds"], r["fit_seconds"]))
    if not tl:
        continue
    bt = max(tl, key=lambda m: tl[m]["ndcg@10"])
    cell = f"| {name} | {mode} | {bt} {tl[bt]['ndcg@10']:.4f} | "
    if ref:
        br = max(ref, key=lambda m: ref[m]["metrics"]["ndcg@10"])
        rn = ref[br]["metrics"]["ndcg@10"]
        missing = [m for m in ("pop", "itemknn", "rp3beta", "ease", "ials") if m not in ref]
        note = f" (without {', '.join(missing)})" if missing else ""
        cell += f"{br} {rn:.4f}{note} | **{tl[bt]['ndcg@10'] / rn:.3f}x** | "
    else:
        cell += "not run | - | "
    h = tl.get("hybrid")
    if h:
        mem = [m for m in str(h.get("params", {}).get("models", "")).split(",") if m in tl]
        bm = max(mem, key=lambda m: tl[m]["ndcg@10"]) if mem else None
        if bm:
            ok = "yes" if h["ndcg@10"] >= tl[bm]["ndcg@10"] else f"no ({h['ndcg@10'] / tl[bm]['ndcg@10'] - 1:+.1%})"
            cell += f"{h['ndcg@10']:.4f} | {bm} {tl[bm]['ndcg@10']:.4f} | {ok} |"
        else:
            cell += f"{h['ndcg@10']:.4f} | - | - |"
    else:
        cell += "not run | - | - |"
    print(cell)
print()
print("### Autotune's cost per model (seconds, over the cells above that report it)\n")
print("| model | cells | autotune s, median | max | share of fit time |")
print("|---|---|---|---|---|")
for m in models:
    v = sorted(tune[m])
    if not v:
        continue
    t = sorted(x for x, _ in v)
    share = sum(x for x, _ in v) / max(1e-9, sum(y for _, y in v))
    print(f"| {m} | {len(v)} | {t[len(t) // 2]:.1f} | {t[-1]:.1f} | {share:.0%} |")
print()
EOF
