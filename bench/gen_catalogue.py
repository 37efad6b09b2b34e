#!/usr/bin/env python3
"""A synthetic catalogue for the search benchmarks (bench/search_serve.sh): N items with titles,
creators and subjects drawn from a Zipf-distributed vocabulary of made-up words, so that some
words are in a few records and some in tens of thousands, as in a library's catalogue.

    gen_catalogue.py N OUT_DIR [SEED]

Writes OUT_DIR/items.tsv (for `tailor import items`), OUT_DIR/events.tsv (loans of 10,000
patrons, 20 each, items drawn with a power-law popularity) and OUT_DIR/queries-{low,mid,high}.txt:
one word a line, drawn from the title words whose document frequency is low (1-20 records),
middle (100-2,000) and high (10,000 and more, for N = 1,000,000), with their counts in
OUT_DIR/queries.md."""
import os
import random
import sys

n = int(sys.argv[1])
out = sys.argv[2]
rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 42)
os.makedirs(out, exist_ok=True)

SYL = ["ka", "lo", "mi", "ra", "ten", "sul", "bor", "vin", "the", "ash", "el", "dor", "mar",
       "qu", "is", "fen", "gal", "hol", "ith", "jor", "ken", "lin", "mor", "nor", "pel", "ros",
       "sam", "tor", "ul", "wen", "yr", "zan"]
VOCAB = 60000
words, seen = [], set()
while len(words) < VOCAB:
    w = "".join(rng.choice(SYL) for _ in range(rng.randint(2, 4)))
    if w not in seen:
        seen.add(w)
        words.append(w)
# Zipf weights (s = 1.0): the first word is drawn most
cum, total = [], 0.0
for r in range(1, VOCAB + 1):
    total += 1.0 / r
    cum.append(total)


def word():
    x = rng.random() * total
    lo, hi = 0, VOCAB - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if cum[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return words[lo]


first = ["Anna", "Ben", "Carla", "David", "Eva", "Felix", "Greta", "Hugo", "Ines", "Jonas",
         "Karin", "Leo", "Maria", "Nils", "Olga", "Paul", "Rosa", "Sven", "Tara", "Ugo"]
subjects = ["".join(rng.choice(SYL) for _ in range(3)) for _ in range(800)]
types = ["book"] * 8 + ["ebook", "video", "audio", "article"]
langs = ["eng"] * 7 + ["fre", "ger", "spa"]
df = {}
with open(os.path.join(out, "items.tsv"), "w") as f:
    f.write("item\ttype\ttitle\tcreators\tsubjects\tyear\tlanguage\tformat\n")
    for i in range(1, n + 1):
        t = [word() for _ in range(rng.randint(2, 7))]
        for w in set(t):
            df[w] = df.get(w, 0) + 1
        title = " ".join(t).capitalize()
        creators = "|".join(rng.choice(first) + " " + word().capitalize()
                            for _ in range(rng.randint(1, 2)))
        subj = "|".join(rng.sample(subjects[: 50 + (i % 750)], rng.randint(1, 4)))
        f.write(f"c{i}\t{rng.choice(types)}\t{title}\t{creators}\t{subj}\t"
                f"{rng.randint(1900, 2025)}\t{rng.choice(langs)}\tprint\n")
with open(os.path.join(out, "events.tsv"), "w") as f:
    f.write("user\titem\ttype\ttimestamp\n")
    for u in range(10000):
        for k in range(20):
            i = min(n, int(n ** rng.random()))  # log-uniform: a long tail of popularity
            f.write(f"p{u}\tc{i}\tloan\t{1700000000 + u * 100 + k}\n")
scale = n / 1_000_000
classes = {"low": (1, 20), "mid": (max(2, int(100 * scale)), max(3, int(2000 * scale))),
           "high": (max(4, int(10000 * scale)), n)}
with open(os.path.join(out, "queries.md"), "w") as md:
    for name, (lo, hi) in classes.items():
        pool = sorted(w for w, c in df.items() if lo <= c <= hi)
        rng.shuffle(pool)
        pool = pool[:500]
        with open(os.path.join(out, f"queries-{name}.txt"), "w") as q:
            for w in pool:
                q.write(w + "\n")
        counts = sorted(df[w] for w in pool)
        md.write(f"{name}: {len(pool)} words, records per word {counts[0] if counts else 0}"
                 f"..{counts[-1] if counts else 0} (median {counts[len(counts) // 2] if counts else 0})\n")
