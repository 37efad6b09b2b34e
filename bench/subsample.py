#!/usr/bin/python3
"""Subsamples of a data-set folder (interactions.tsv [items.tsv IMPLICIT]) in the same format.

usage: subsample.py SRC_DIR OUT_DIR [--seed 42] [--users F] [--items F] [--drop-top F]

  --users F     keep a share F of the users (chosen by a seeded hash of the id)
  --items F     keep a share F of the items (likewise)
  --drop-top F  long tail: drop the share F of items with the most rows (ties: by id)
Rows of kept users on kept items are written in their original order; items.tsv keeps the
catalogue rows of the items left in interactions.tsv, and IMPLICIT is copied. The choice of ids
is deterministic (splitmix64(seed ^ fnv1a64(tag + id)), as ../shared/tools/split.py hashes), so
the same options give the same bytes. Examples:
  subsample.py ../shared/data/ml-latest-small build/subsets/mls-half-users --users 0.5
  subsample.py ../shared/data/ml-100k build/subsets/ml100k-tail --drop-top 0.1
"""
import argparse
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.environ.get("TL_SHARED_TOOLS",
                                  os.path.normpath(os.path.join(HERE, "..", "..", "shared",
                                                                "tools"))))
import split  # noqa: E402  (../shared/tools/split.py: the protocol's hashes)

M64 = (1 << 64) - 1


def keep(seed, tag, ident, share):
    if share >= 1.0:
        return True
    h = split.splitmix64((seed & M64) ^ split.fnv1a64(tag + b"\t" + ident))
    return h < share * 2.0 ** 64


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="\n".join(__doc__.splitlines()[1:]))
    ap.add_argument("src")
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--users", type=float, default=1.0)
    ap.add_argument("--items", type=float, default=1.0)
    ap.add_argument("--drop-top", type=float, default=0.0)
    a = ap.parse_args()
    for name in ("users", "items", "drop_top"):
        v = getattr(a, name)
        if not 0.0 <= v <= 1.0:
            sys.exit(f"subsample.py: --{name.replace('_', '-')} must be in [0, 1]")

    src = os.path.join(a.src, "interactions.tsv")
    with open(src, "rb") as f:
        header = f.readline()
        rows = [line for line in f if line.strip()]
    if header.rstrip(b"\r\n").split(b"\t")[:2] != [b"user", b"item"]:
        sys.exit(f"{src}:1: header must start with user, item")
    cols = [r.rstrip(b"\r\n").split(b"\t", 2) for r in rows]

    dropped = set()
    if a.drop_top > 0:
        count = {}
        for c in cols:
            count[c[1]] = count.get(c[1], 0) + 1
        ranked = sorted(count, key=lambda i: (-count[i], i))
        dropped = set(ranked[:int(round(a.drop_top * len(ranked)))])
    ukeep, ikeep = {}, {}
    out_rows, items, users_out = [], set(), set()
    for line, c in zip(rows, cols):
        u, i = c[0], c[1]
        if u not in ukeep:
            ukeep[u] = keep(a.seed, b"user", u, a.users)
        if i not in ikeep:
            ikeep[i] = i not in dropped and keep(a.seed, b"item", i, a.items)
        if ukeep[u] and ikeep[i]:
            out_rows.append(line if line.endswith(b"\n") else line + b"\n")
            items.add(i)
            users_out.add(u)

    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "interactions.tsv"), "wb") as f:
        f.write(header)
        f.writelines(out_rows)
    cat = os.path.join(a.src, "items.tsv")
    if os.path.exists(cat):
        with open(cat, "rb") as f, open(os.path.join(a.out, "items.tsv"), "wb") as g:
            head = f.readline()
            g.write(head)
            col = head.rstrip(b"\r\n").split(b"\t").index(b"item")
            for line in f:
                fields = line.rstrip(b"\r\n").split(b"\t")
                if len(fields) > col and fields[col] in items:
                    g.write(line)
    if os.path.exists(os.path.join(a.src, "IMPLICIT")):
        shutil.copyfile(os.path.join(a.src, "IMPLICIT"), os.path.join(a.out, "IMPLICIT"))
    users = len(users_out)
    with open(os.path.join(a.out, "SOURCE.md"), "w") as f:
        f.write(f"# {os.path.basename(os.path.normpath(a.out))} (subsample)\n\n"
                f"bench/subsample.py of {os.path.normpath(a.src)}: seed {a.seed}, users "
                f"{a.users:g}, items {a.items:g}, drop-top {a.drop_top:g}. The source's terms "
                f"apply (see its SOURCE.md).\n\n- rows: {len(out_rows)}\n- users: {users}\n"
                f"- items: {len(items)}\n")
    print(f"rows {len(out_rows)} of {len(rows)}, users {users} of {len(ukeep)}, "
          f"items {len(items)} of {len(ikeep)}")


if __name__ == "__main__":
    main()
