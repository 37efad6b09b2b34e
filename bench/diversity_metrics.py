#!/usr/bin/env python3
"""Beyond-accuracy measures of one recs file's top 10s, for bench/diversity.sh.

usage: diversity_metrics.py TRAIN ITEMS RECS   (prints one JSON object)

TRAIN: user item (the split's train.tsv); ITEMS: the catalogue (item ... subjects, creators);
RECS: user item rank [score] with a header, as `tailor recommend --users all` writes.
- gini: the Gini coefficient of exposure, the number of top-10 slots each train item gets
  (items never shown count as 0): 0 = every item shown equally, 1 = one item gets everything.
- long_tail: the share of top-10 slots given to long-tail items, those outside the most popular
  20% of train items (by train positives, ties by id).
- ild: intra-list diversity, the mean over users of the mean 1 - Jaccard over pairs of the top
  10, on subjects and creators (what MMR trades for), as src/core/facets.c sees them.
- kl: Steck's miscalibration, the mean over users of KL(p || (1 - a) q + a p), a = 0.01, with p
  the subject distribution of the user's train items and q that of the top 10 (each item's
  weight spread evenly over its subjects); users whose history has no subjects are skipped.
"""
import json
import math
import sys
from collections import Counter, defaultdict

ALPHA = 0.01
TOP = 10


def read_tsv(path):
    with open(path, encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        for line in f:
            yield dict(zip(header, line.rstrip("\n").split("\t")))


def elements(text):
    return {e.strip().lower() for e in (text or "").split("|") if e.strip()}


def main():
    train_path, items_path, recs_path = sys.argv[1:4]
    hist = defaultdict(list)
    pop = Counter()
    for r in read_tsv(train_path):
        hist[r["user"]].append(r["item"])
        pop[r["item"]] += 1
    subjects, feats = {}, {}
    for r in read_tsv(items_path):
        s = elements(r.get("subjects"))
        c = {"creator:" + x for x in elements(r.get("creators"))}
        subjects[r["item"]] = s
        feats[r["item"]] = s | c
    lists = defaultdict(list)
    for r in read_tsv(recs_path):
        if int(r["rank"]) <= TOP:
            lists[r["user"]].append(r["item"])

    exposure = Counter()
    for items in lists.values():
        exposure.update(items)
    ranked = sorted(pop, key=lambda i: (-pop[i], i))
    head = set(ranked[: int(round(0.2 * len(ranked)))])
    slots = sum(exposure.values())
    long_tail = sum(n for i, n in exposure.items() if i not in head) / slots if slots else 0.0

    counts = sorted(exposure.get(i, 0) for i in pop)
    n, total = len(counts), sum(counts)
    gini = (
        sum((2 * (k + 1) - n - 1) * x for k, x in enumerate(counts)) / (n * total)
        if n and total
        else 0.0
    )

    def jaccard(a, b):
        fa, fb = feats.get(a, set()), feats.get(b, set())
        return len(fa & fb) / len(fa | fb) if fa and fb else 0.0

    ild_sum = ild_users = 0
    for items in lists.values():
        pairs = [(a, b) for k, a in enumerate(items) for b in items[k + 1 :]]
        if pairs:
            ild_sum += sum(1 - jaccard(a, b) for a, b in pairs) / len(pairs)
            ild_users += 1

    def distribution(items):
        d = Counter()
        for i in items:
            s = subjects.get(i)
            for g in s or ():
                d[g] += 1 / len(s)
        w = sum(d.values())
        return {g: v / w for g, v in d.items()} if w else {}

    kl_sum = kl_users = 0
    for user, items in lists.items():
        p = distribution(hist.get(user, []))
        if not p:
            continue
        q = distribution(items)
        kl_sum += sum(pg * math.log(pg / ((1 - ALPHA) * q.get(g, 0.0) + ALPHA * pg)) for g, pg in p.items())
        kl_users += 1

    print(
        json.dumps(
            {
                "gini": gini,
                "long_tail": long_tail,
                "ild": ild_sum / ild_users if ild_users else 0.0,
                "kl": kl_sum / kl_users if kl_users else 0.0,
                "users": len(lists),
            }
        )
    )


if __name__ == "__main__":
    main()
