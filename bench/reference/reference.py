#!/usr/bin/python3
"""Tuned reference models of ../shared/REFERENCE.md on one split (PROTOCOL.md).

usage: reference.py TRAIN.tsv TEST.tsv [--model M ...] [--mode random|temporal] [--seed 42]
                    [--interactions FILE [--implicit]] [--set M:key=value ...] [--recs-dir DIR]
                    [--json]

Models (float64, NumPy/SciPy), each exactly as REFERENCE.md describes it and as Tailor's twins in
src/core/models compute it:
  pop      the number of train users of each item
  itemknn  cosine on binary item vectors, dot / (sqrt(n_i) sqrt(n_j) + shrink), the k best
           neighbours kept per target item (ties: lower item index), score = sum over history
  rp3beta  W[i,j] = sum_u (1/n_i)^alpha (1/|u|)^alpha / n_j^beta, diagonal dropped, the k best
           kept per history item i, score = sum of the history rows
  ease     B = -P / diag(P), P = (X^T X + lambda I)^-1, diag(B) = 0 (Steck 2019)
  ials     Hu, Koren & Volinsky (2008): confidence 1 + alpha on positives, reg * I, exact solves
           of the normal equations, 10 iterations (items then users), N(0, 0.01^2) init, seed 0
Each is tuned on a validation split carved from TRAIN by PROTOCOL.md's Tuning rule (the same
split rule, mode and seed applied to train, 5-positive filter skipped: ../shared/tools/split.py's
own functions), over REFERENCE.md's grid and then its wider grid (ease, ials), keeping the
setting with the best validation nDCG@10 (../shared/tools/evaluate.py's own functions); then
trained on TRAIN and scored on TEST: top 100 of the items in TRAIN for every test user, their
train items excluded. The temporal mode needs train timestamps: --interactions names the file the
split was made from (binarized as split.py does; --implicit as there).
--set M:key=value fixes a parameter (no tuning of that key). "seconds" is the final fit plus the
top-100 of every test user; "tune_seconds" the whole validation search.
"""
import argparse
import contextlib
import ctypes
import json
import os
import sys
import time

import numpy as np
import scipy.linalg as linalg
import scipy.linalg.lapack as lapack
import scipy.sparse as sp

HERE = os.path.dirname(os.path.abspath(__file__))
TOOLS = os.environ.get("TL_SHARED_TOOLS",
                       os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "tools")))
sys.path.insert(0, TOOLS)
import evaluate  # noqa: E402  (../shared/tools/evaluate.py: the protocol's metrics)
import split  # noqa: E402  (../shared/tools/split.py: the protocol's splits)

TOPN = 100
# Users scored at once: a block of dense score rows (users x items float64) stays near 128 MB.
BLOCK_BYTES = 128 << 20

# REFERENCE.md's grids: the first, then the wider one for EASE and iALS.
GRIDS = {
    "pop": [{}],
    "itemknn": [{"k": k, "shrink": s} for k in (50, 200, 1000) for s in (0, 10)],
    "rp3beta": [{"alpha": a, "beta": b, "k": 200} for a in (0.8, 1.0) for b in (0.3, 0.5, 0.7)],
    "ease": [{"lambda": v} for v in (50, 200, 500, 1000, 3000)],
    "ials": [{"factors": 64, "reg": r, "alpha": a, "iters": 10}
             for r in (0.1, 10) for a in (1, 10, 40)],
}
WIDE = {
    "ease": [{"lambda": v} for v in (5, 20, 50, 200, 500, 1000, 3000)],
    "ials": [{"factors": f, "reg": r, "alpha": a, "iters": 10}
             for f in (64, 128) for r in (1, 10, 50, 150) for a in (0.5, 2, 8)],
}
MODELS = ["pop", "itemknn", "rp3beta", "ease", "ials"]


# ---- BLAS threads -------------------------------------------------------------------------
# iALS solves thousands of small systems: OpenBLAS threads only add contention there (a 128 x 128
# solve is 5x slower with 2 threads on a busy 2-core machine), while EASE's large inverse wants
# them all. NumPy's BLAS is OpenBLAS on Debian; elsewhere this does nothing.

def _openblas():
    for name in ("libblas.so.3", "libopenblas.so.0", "libopenblas.so"):
        try:
            lib = ctypes.CDLL(name)
            lib.openblas_set_num_threads  # noqa: B018 (raises AttributeError when absent)
            return lib
        except (OSError, AttributeError):
            continue
    return None


_BLAS = _openblas()


@contextlib.contextmanager
def blas_threads(n):
    if _BLAS is None:
        yield
        return
    before = _BLAS.openblas_get_num_threads()
    _BLAS.openblas_set_num_threads(n)
    try:
        yield
    finally:
        _BLAS.openblas_set_num_threads(before)


# ---- data ---------------------------------------------------------------------------------

class Split:
    """One train/test pair of {user: set(items)} dicts (bytes ids) and train's index: items are
    the items of train in byte order of their ids, users likewise."""

    def __init__(self, train, test):
        self.train, self.test = train, test
        self.items = sorted(set().union(*train.values())) if train else []
        self.users = sorted(train)
        self.item_idx = {i: k for k, i in enumerate(self.items)}
        self.user_idx = {u: k for k, u in enumerate(self.users)}
        rows, cols = [], []
        for u, its in train.items():
            ui = self.user_idx[u]
            for i in its:
                rows.append(ui)
                cols.append(self.item_idx[i])
        x = sp.csr_matrix((np.ones(len(rows)), (np.array(rows, dtype=np.int64),
                                                np.array(cols, dtype=np.int64))),
                          shape=(len(self.users), len(self.items)), dtype=np.float64)
        x.sum_duplicates()
        x.sort_indices()
        self.X = x


def load_timestamps(path, implicit, train):
    """{user: {item: ts}} of the train pairs, from the interactions file binarized as split.py does."""
    pos = split.read_positives(path, implicit, True)
    out = {}
    for u, its in train.items():
        have = pos.get(u, {})
        d = {}
        for i in its:
            if i not in have:
                sys.exit(f"reference.py: train pair ({u.decode()}, {i.decode()}) is not a positive "
                         f"of {path}")
            d[i] = have[i]
        out[u] = d
    return out


def validation_split(train, mode, seed, stamps):
    """PROTOCOL.md, Tuning: the split rule, mode and seed applied to train, no 5-positive filter."""
    users = stamps if stamps is not None else {u: dict.fromkeys(its, 0) for u, its in train.items()}
    vtrain, vtest = split.split(users, mode, seed, 0)
    tr, te = {}, {}
    for u, i in vtrain:
        tr.setdefault(u, set()).add(i)
    for u, i in vtest:
        te.setdefault(u, set()).add(i)
    return tr, te


# ---- ranking ------------------------------------------------------------------------------

def top_n(scores, n):
    """Indices of the n best of each row, best first; ties go to the lower index."""
    n = min(n, scores.shape[1])
    part = np.argpartition(-scores, n - 1, axis=1)[:, :n] if n < scores.shape[1] else \
        np.tile(np.arange(scores.shape[1]), (scores.shape[0], 1))
    # argpartition breaks ties arbitrarily at the boundary: take everything that ties with the
    # n-th score, then order by (score desc, index asc) and cut.
    out = np.empty((scores.shape[0], n), dtype=np.int64)
    for r in range(scores.shape[0]):
        row = scores[r]
        kth = row[part[r]].min()
        cand = np.flatnonzero(row >= kth)
        order = np.lexsort((cand, -row[cand]))
        out[r] = cand[order[:n]]
    return out


def recommend(s, score_fn, users):
    """{user: [item, ...]} top-100 for the given users (those in train), train items excluded."""
    recs = {}
    ulist = [u for u in users if u in s.user_idx]
    ni = len(s.items)
    if not ni:
        return recs
    block = max(1, BLOCK_BYTES // (8 * ni))
    X = s.X
    for b0 in range(0, len(ulist), block):
        ub = ulist[b0:b0 + block]
        rows = np.array([s.user_idx[u] for u in ub], dtype=np.int64)
        sc = np.asarray(score_fn(rows), dtype=np.float64)
        xb = X[rows]
        sc[np.repeat(np.arange(len(rows)), np.diff(xb.indptr)), xb.indices] = -np.inf
        best = top_n(sc, TOPN)
        for r, u in enumerate(ub):
            k = int(np.count_nonzero(np.isfinite(sc[r, best[r]])))
            recs[u] = [s.items[j] for j in best[r, :k]]
    return recs


# ---- models -------------------------------------------------------------------------------
# Each fit takes the binary users x items CSR and returns score(rows) -> dense float64 scores.

def fit_pop(X, p):
    counts = np.asarray(X.sum(axis=0)).ravel()
    return lambda rows: np.broadcast_to(counts, (len(rows), len(counts))).copy()


def blocked_pruned(n, row_block_fn, k, block=2048):
    """Builds an n x n matrix block of rows by block of rows (row_block_fn(r0, r1) returns the
    unpruned CSR rows r0..r1 as a (r1 - r0) x n matrix), pruning each row to its k best."""
    parts = []
    for r0 in range(0, n, block):
        r1 = min(n, r0 + block)
        S = row_block_fn(r0, r1).tocsr()
        S.sort_indices()
        m = r1 - r0
        rows = np.repeat(np.arange(m, dtype=np.int64), np.diff(S.indptr))
        cols = S.indices.astype(np.int64)
        vals = S.data
        keep = (vals != 0) & (rows + r0 != cols)
        rows, cols, vals = rows[keep], cols[keep], vals[keep]
        order = np.lexsort((cols, -vals, rows))
        rows, cols, vals = rows[order], cols[order], vals[order]
        start = np.searchsorted(rows, np.arange(m))
        rank = np.arange(len(rows)) - start[rows]
        sel = rank < k
        parts.append(sp.csr_matrix((vals[sel], (rows[sel], cols[sel])), shape=(m, n)))
    return sp.vstack(parts).tocsr() if parts else sp.csr_matrix((0, n))


def fit_itemknn(X, p):
    k, shrink = int(p["k"]), float(p["shrink"])
    Xt = X.T.tocsr()
    n_items = X.shape[1]
    norms = np.sqrt(np.asarray(X.sum(axis=0)).ravel())

    def rows(r0, r1):
        C = (Xt[r0:r1] @ X).tocsr()  # co-occurrence counts of targets r0..r1 with every item
        C.sort_indices()
        t = np.repeat(np.arange(r0, r1), np.diff(C.indptr))
        C.data = C.data / (norms[t] * norms[C.indices] + shrink)
        return C

    # Rows keyed by the target item (per-target top-k, classic item kNN); scores sum, over the
    # history items h, sim[target, h]: scores = X @ S^T.
    S = blocked_pruned(n_items, rows, k)
    St = S.T.tocsr()
    return lambda r: (X[r] @ St).toarray()


def fit_rp3beta(X, p):
    alpha, beta, k = float(p["alpha"]), float(p["beta"]), int(p["k"])
    n_items = X.shape[1]
    pop = np.asarray(X.sum(axis=0)).ravel()
    deg_u = np.asarray(X.sum(axis=1)).ravel()
    # User -> item: 1/|u|; item -> user: 1/n_i; both raised to alpha.
    Pui = sp.diags(np.where(deg_u > 0, 1.0 / np.maximum(deg_u, 1), 0.0) ** alpha) @ X
    Piu = (sp.diags(np.where(pop > 0, 1.0 / np.maximum(pop, 1), 0.0) ** alpha) @ X.T.tocsr()).tocsr()
    discount = np.maximum(pop, 1.0) ** -beta
    Pui = (Pui @ sp.diags(discount)).tocsr()

    def rows(r0, r1):
        return Piu[r0:r1] @ Pui

    W = blocked_pruned(n_items, rows, k)
    return lambda r: (X[r] @ W).toarray()


def gram_dense(X):
    G = (X.T @ X).toarray()
    return np.ascontiguousarray(G)


def ease_weights(G, lam):
    """B = -P / diag(P), diag 0, P = (G + lam I)^-1, computed in place on a copy of G."""
    n = G.shape[0]
    P = G.copy()
    P[np.diag_indices(n)] += lam
    # P is symmetric and C-ordered: its transpose is the same bytes in Fortran order, so LAPACK
    # factors and inverts it in place (the 'lower' triangle of P.T is P's upper triangle).
    c, info = lapack.dpotrf(P.T, lower=1, overwrite_a=1, clean=0)
    if info != 0:
        raise RuntimeError(f"EASE: Cholesky failed (info {info})")
    inv, info = lapack.dpotri(c, lower=1, overwrite_c=1)
    if info != 0:
        raise RuntimeError(f"EASE: inverse failed (info {info})")
    if not np.shares_memory(inv, P):
        P = np.ascontiguousarray(inv.T)
    # P's upper triangle (row <= col) holds the inverse: mirror it into the lower, block by block.
    bs = 1024
    for r0 in range(0, n, bs):
        r1 = min(n, r0 + bs)
        P[r1:, r0:r1] = P[r0:r1, r1:].T
        d = P[r0:r1, r0:r1]
        d[:] = np.triu(d) + np.triu(d, 1).T
    dg = np.diag(P).copy()
    for r0 in range(0, n, bs):
        r1 = min(n, r0 + bs)
        P[r0:r1] /= -dg[None, :]
    P[np.diag_indices(n)] = 0.0
    return P


def ease_weights_dual(X, lam):
    """The same B as ease_weights, solved in user space when users are fewer than items
    (Woodbury): P = (I - X^T (X X^T + lam I)^-1 X) / lam, so B_ij = M_ij / (1 - M_jj) with
    M = X^T (X X^T + lam I)^-1 X. A users x users Cholesky instead of an items x items one."""
    K = (X @ X.T).toarray()
    K[np.diag_indices(K.shape[0])] += lam
    c = linalg.cho_factor(K, lower=True, overwrite_a=True, check_finite=False)
    Z = linalg.cho_solve(c, X.toarray(), overwrite_b=True, check_finite=False)
    M = np.ascontiguousarray(np.asarray(X.T @ Z))
    del Z
    dg = 1.0 - np.diag(M).copy()
    bs = 1024
    for r0 in range(0, M.shape[0], bs):
        M[r0:r0 + bs] /= dg[None, :]
    M[np.diag_indices(M.shape[0])] = 0.0
    return M


def fit_ease(X, p, G=None):
    if G is None and X.shape[0] < X.shape[1]:
        B = ease_weights_dual(X, float(p["lambda"]))
        return lambda r: np.asarray(X[r] @ B)
    B = ease_weights(gram_dense(X) if G is None else G, float(p["lambda"]))
    return lambda r: np.asarray(X[r] @ B)


def als_half(R, Y, reg, alpha, out):
    """Solves every row x_r of (Y^T Y + alpha Y_S^T Y_S + reg I) x = (1 + alpha) sum_S y exactly
    (Cholesky), S the row's positives in R (CSR); the Gram matrices of rows with the same number
    of positives are formed as one batch."""
    f = Y.shape[1]
    YtY = Y.T @ Y
    base = YtY + reg * np.eye(f)
    deg = np.diff(R.indptr)
    order = np.argsort(deg, kind="stable")
    sdeg = deg[order]
    bounds = np.flatnonzero(np.diff(sdeg)) + 1
    groups = np.split(order, bounds)
    cap = 1 << 25  # doubles per gathered batch (g x d x f): 256 MB
    for g in groups:
        if not len(g):
            continue
        d = int(deg[g[0]])
        if d == 0:
            out[g] = 0.0
            continue
        step = max(1, cap // (d * f + f * f))
        for c0 in range(0, len(g), step):
            rows = g[c0:c0 + step]
            idx = R.indices[(R.indptr[rows][:, None] + np.arange(d)[None, :])]
            Ys = Y[idx]  # (g, d, f)
            A = np.matmul(Ys.transpose(0, 2, 1), Ys)
            A *= alpha
            A += base
            b = (1.0 + alpha) * Ys.sum(axis=1)
            # Cholesky solves one by one (LAPACK dposv): exact, and faster than the batched LU
            # of np.linalg.solve for these sizes.
            for k, r in enumerate(rows):
                _, x, info = lapack.dposv(A[k], b[k], lower=1, overwrite_a=1)
                if info != 0:
                    raise RuntimeError(f"iALS: normal equations not positive definite ({info})")
                out[r] = x


def fit_ials(X, p, seed=0):
    f, reg, alpha = int(p["factors"]), float(p["reg"]), float(p["alpha"])
    iters = int(p.get("iters", 10))
    rng = np.random.default_rng(seed)
    nu, ni = X.shape
    U = rng.normal(0.0, 0.01, (nu, f))
    V = rng.normal(0.0, 0.01, (ni, f))
    Xt = X.T.tocsr()
    Xt.sort_indices()
    Xc = X.tocsr()
    Xc.sort_indices()
    with blas_threads(1):
        for _ in range(iters):
            als_half(Xt, U, reg, alpha, V)
            als_half(Xc, V, reg, alpha, U)
    return lambda r: U[r] @ V.T


FITS = {"pop": fit_pop, "itemknn": fit_itemknn, "rp3beta": fit_rp3beta, "ease": fit_ease,
        "ials": fit_ials}


# ---- tuning and the final run -------------------------------------------------------------

def param_text(p):
    return ", ".join(f"{k}={v:g}" if isinstance(v, (int, float)) else f"{k}={v}"
                     for k, v in sorted(p.items()))


def grid_of(model, fixed):
    pts = GRIDS[model] + [q for q in WIDE.get(model, []) if q not in GRIDS[model]]
    out = []
    for q in pts:
        q = dict(q)
        q.update(fixed)
        if q not in out:
            out.append(q)
    return out


def score_split(s, fit_fn, p, cache=None):
    """Fits on s.X and returns (metrics dict, seconds of fit + recommend)."""
    t0 = time.time()
    if cache is not None:
        score = fit_fn(s.X, p, cache)
    else:
        score = fit_fn(s.X, p)
    recs = recommend(s, score, list(s.test))
    sec = time.time() - t0
    m = evaluate.evaluate(s.train, s.test, recs)
    m["duplicate_rows"] = 0
    return m, sec


def run_model(model, full, val, fixed, log):
    fit_fn = FITS[model]
    grid = grid_of(model, fixed)
    t0 = time.time()
    best, best_val, tried = None, -1.0, []
    # one Gram for the whole grid, unless the users are fewer than the items (then each fit
    # solves in user space, which is cheaper than even one items x items inverse)
    G = (gram_dense(val.X) if model == "ease" and len(grid) > 1 and
         val.X.shape[0] >= val.X.shape[1] else None)
    if len(grid) > 1:
        for p in grid:
            m, sec = score_split(val, fit_fn, p, G)
            tried.append({"params": p, "val_ndcg@10": m["ndcg@10"], "seconds": round(sec, 3)})
            log(f"  {model} {param_text(p)}: validation nDCG@10 {m['ndcg@10']:.4f} ({sec:.1f} s)")
            if m["ndcg@10"] > best_val:
                best, best_val = p, m["ndcg@10"]
        del G
    else:
        best = grid[0]
        if val is not None:
            m, _ = score_split(val, fit_fn, best)
            best_val = m["ndcg@10"]
    tune_s = time.time() - t0
    m, sec = score_split(full, fit_fn, best)
    log(f"  {model} -> {param_text(best)}: test nDCG@10 {m['ndcg@10']:.4f} ({sec:.1f} s)")
    return {"params": best, "val_ndcg@10": best_val, "metrics": m, "seconds": round(sec, 3),
            "tune_seconds": round(tune_s, 3), "grid": tried}


def parse_sets(sets):
    out = {}
    for s in sets:
        m, _, kv = s.partition(":")
        k, _, v = kv.partition("=")
        if m not in FITS or not k or not v:
            sys.exit(f"reference.py: --set wants MODEL:key=value, got {s!r}")
        try:
            val = int(v)
        except ValueError:
            val = float(v)
        out.setdefault(m, {})[k] = val
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="\n".join(__doc__.splitlines()[1:]))
    ap.add_argument("train")
    ap.add_argument("test")
    ap.add_argument("--model", action="append", choices=MODELS,
                    help="a model to run (repeatable; default all)")
    ap.add_argument("--mode", choices=["random", "temporal"], default="random",
                    help="mode of the validation split: that of the test split (default random)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--interactions", help="train timestamps (needed by --mode temporal)")
    ap.add_argument("--implicit", action="store_true",
                    help="--interactions is implicit: every row is a positive")
    ap.add_argument("--set", action="append", default=[], metavar="M:key=value")
    ap.add_argument("--recs-dir", help="write DIR/MODEL.recs.tsv for the final runs")
    ap.add_argument("--json", action="store_true", help="one JSON object on stdout")
    ap.add_argument("--quiet", action="store_true", help="no progress on stderr")
    a = ap.parse_args()
    models = a.model or MODELS
    fixed = parse_sets(a.set)
    log = (lambda msg: None) if a.quiet else (lambda msg: print(msg, file=sys.stderr, flush=True))

    train = evaluate.read_pairs(a.train)
    test = evaluate.read_pairs(a.test)
    stamps = None
    if a.interactions:
        stamps = load_timestamps(a.interactions, a.implicit, train)
    elif a.mode == "temporal":
        sys.exit("reference.py: --mode temporal needs --interactions (the train timestamps)")
    t0 = time.time()
    full = Split(train, test)
    vtr, vte = validation_split(train, a.mode, a.seed, stamps)
    val = Split(vtr, vte)
    log(f"train {full.X.nnz} pairs, {len(full.users)} users, {len(full.items)} items; "
        f"validation ({a.mode}) {val.X.nnz} + {sum(len(v) for v in vte.values())} pairs "
        f"[{time.time() - t0:.1f} s]")

    results = {}
    for model in models:
        results[model] = run_model(model, full, val, fixed.get(model, {}), log)
        if a.recs_dir:
            os.makedirs(a.recs_dir, exist_ok=True)
            score = FITS[model](full.X, results[model]["params"])
            recs = recommend(full, score, list(full.test))
            with open(os.path.join(a.recs_dir, f"{model}.recs.tsv"), "wb") as fh:
                fh.write(b"user\titem\trank\n")
                for u in sorted(recs):
                    for r, i in enumerate(recs[u], 1):
                        fh.write(u + b"\t" + i + b"\t" + str(r).encode() + b"\n")

    out = {"train": a.train, "test": a.test, "mode": a.mode, "seed": a.seed,
           "test_users": len(test), "models": results}
    if a.json:
        print(json.dumps(out, sort_keys=True))
        return
    print(f"## {a.train} ({a.mode}, {len(test)} test users)")
    print()
    keys = evaluate.METRICS
    print("| model | " + " | ".join(keys) + " | validation nDCG@10 | params | seconds | tune s |")
    print("|---" * (len(keys) + 5) + "|")
    for model, r in results.items():
        print(f"| {model} | " + " | ".join(f"{r['metrics'][k]:.4f}" for k in keys) +
              f" | {r['val_ndcg@10']:.4f} | {param_text(r['params']) or '-'} | {r['seconds']:.2f} |"
              f" {r['tune_seconds']:.1f} |")


if __name__ == "__main__":
    main()
