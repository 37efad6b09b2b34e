/* ials: implicit-feedback matrix factorization (Hu, Koren & Volinsky 2008) trained by
 * alternating least squares, each row solved by a few warm-started conjugate-gradient steps
 * (Takács et al. 2011, as in the `implicit` library) or exactly by Cholesky. Scores are user
 * factor . item factor (blocks of users through sgemm); unknown users are folded in. Sits in
 * core/models on core/linalg (per-row kernels) and BLAS (Gram matrices, score blocks). */
#include "core/models/ials.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/comm.h"
#include "core/linalg.h"
#include "core/models/models.h"
#include "util/clock.h"
#include "util/hash.h"

typedef struct ials_cfg {
    int factors, iterations;
    double reg, alpha;
    int64_t seed;
    const char *solver;
    int cg_steps, threads, fold_in;
} ials_cfg;

static const tl_param_def params[] = {
    TL_PARAM(ials_cfg, factors, "64", 1, 1024, "latent dimensions"),
    TL_PARAM(ials_cfg, iterations, "15", 0, 1000,
             "ALS epochs; each solves the items, then the users (so the user factors always fit "
             "the final item factors, as a fold-in would)"),
    TL_PARAM(ials_cfg, reg, "30", 0, 1e9,
             "L2 regularization: reg * I in every row's normal equations (not scaled by the "
             "row's number of interactions)"),
    TL_PARAM(ials_cfg, alpha, "4", 0, 1e6, "confidence of an observed cell: 1 + alpha * weight"),
    TL_PARAM(ials_cfg, seed, "42", 0, 9007199254740992.0, "seed of the random initial factors"),
    TL_PARAM(ials_cfg, solver, "cg", 0, 0,
             "cg (a few conjugate-gradient steps per row, warm-started) or cholesky (exact)"),
    TL_PARAM(ials_cfg, cg_steps, "3", 1, 100, "conjugate-gradient steps per row and half-epoch"),
    TL_PARAM(ials_cfg, threads, "0", 0, 4096, "OpenMP threads for training (0 = OpenMP default)"),
    TL_PARAM(ials_cfg, fold_in, "0", 0, 1,
             "1: score known users by folding in the history given at scoring time instead of "
             "their trained vector (picks up events newer than the model)"),
};

/* CG stops early on a row once the squared residual is below this (as `implicit` does). */
#define CG_EPS 1e-20f
/* Scale of the random initial factors: small, so that the first solves are driven by data. */
#define INIT_SCALE 0.01f
/* Rows handed out per dynamic-scheduling grab (rows are sorted heaviest first). */
#define ROW_CHUNK 8
/* History entries gathered per call into the fold-in kernel (bounds the stack buffers). */
#define FOLD_BLOCK 64

typedef struct ials_state {
    int32_t k, ld, n_users, n_items;
    float *user; /* n_users x ld, padding columns zero */
    float *item; /* n_items x ld */
    float *yty;  /* k x k Gram of the item factors, no regularization */
    int owned;   /* 1: arrays allocated by fit; 0: they point into m->file */
    tl_ials_epoch *epochs;
    int n_epochs;
    uint64_t serial; /* unique per state in this process: keys explain's cache */
} ials_state;

static atomic_ullong next_serial = 1;

/* Heavy rows. A row's CG passes re-read the fixed-side factor rows of its nonzeros; once they
 * no longer fit in L2 (HEAVY_BYTES) and the fixed-side table does not stay in a shared L3
 * (SWEEP_TABLE_BYTES), every pass is a trip to DRAM. Those rows are solved together instead,
 * in lockstep, by sweeping the transposed matrix: each fixed-side row is streamed once per
 * pass and scattered into the heavy rows it touches, whose state (at most SWEEP_STATE_BYTES,
 * the heaviest rows first; with Zipf popularity these are few and hot) stays in cache. In
 * practice: the items half of a data set with many users. The sweep's partial sums go to
 * SWEEP_PARTS fixed partitions, added in order, so the result does not depend on the number
 * of threads. */
#ifndef HEAVY_BYTES /* (overridable at build time for tuning) */
#define HEAVY_BYTES (256u << 10)
#endif
#define SWEEP_TABLE_BYTES (16u << 20)
#ifndef SWEEP_STATE_BYTES
#define SWEEP_STATE_BYTES (2u << 20)
#endif
#define SWEEP_PARTS 8

typedef enum { SOLVER_CG, SOLVER_CHOLESKY } solver_kind;

/* The heavy rows of one half: order[0..n) of that half. */
typedef struct heavy_set {
    int32_t n;
    tl_csr t; /* fixed-side rows x heavy rows (local index h), with the weights */
    int64_t part[SWEEP_PARTS + 1]; /* row ranges of t with about equal nonzeros */
} heavy_set;

/* Lockstep CG state for up to nmax heavy rows (allocated once per fit). */
typedef struct heavy_ws {
    int32_t nmax;
    float *xh, *r, *p, *ap; /* nmax x ld each */
    float *parts;           /* SWEEP_PARTS x nmax x ld */
    float *rs;
    uint8_t *active;
} heavy_ws;

/* What one half-epoch needs: the fixed side y, its regularized Gram, the rows to solve. */
typedef struct half_ctx {
    int k, ld, cg_steps, threads;
    solver_kind solver;
    float alpha;
    const float *y;       /* fixed factors (rows indexed by the CSR's column indices) */
    const float *gram;    /* ld x ld: y^T y + reg I on the first k diagonal entries */
    const tl_csr *r;      /* rows to solve: their nonzeros and weights */
    const int32_t *order; /* the rows this process solves, heaviest first */
    int32_t n_order;
    int64_t max_nnz;
    const heavy_set *heavy; /* solved first, together; the rest row by row */
    heavy_ws *ws;
} half_ctx;

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static ials_state *state_of(const tl_model *m)
{
    return m && m->ops == &tl_ials_ops ? m->state : NULL;
}

static void state_free(ials_state *st)
{
    if (!st)
        return;
    if (st->owned) {
        tl_la_free(st->user);
        tl_la_free(st->item);
        tl_la_free(st->yty);
    }
    free(st->epochs);
    free(st);
}

/* Initial factors from a generator seeded per row, so they do not depend on threads. */
static void init_factors(float *x, int32_t n, int k, int ld, uint64_t seed, uint64_t side,
                         int threads)
{
#pragma omp parallel for schedule(static) num_threads(threads)
    for (int32_t r = 0; r < n; r++) {
        tl_rng g = {tl_splitmix64(seed ^ tl_splitmix64(((uint64_t)r << 1) | side))};
        float *xr = x + (size_t)r * ld;
        for (int f = 0; f < k; f++)
            xr[f] = (float)(tl_rng_uniform(&g) - 0.5) * 2.0f * INIT_SCALE;
    }
}

static int cmp_desc_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* Rows lo..hi-1 of a (this process's shard; all rows in one process) by decreasing number
 * of nonzeros (ties by index): the heavy rows go first, so dynamic scheduling ends with small
 * rows and the threads finish together. */
static tl_err heavy_first(const tl_csr *a, int32_t lo, int32_t hi, int32_t **out, int64_t *max_nnz)
{
    int32_t n = hi - lo;
    uint64_t *key = malloc(((size_t)n + 1) * sizeof(*key));
    int32_t *order = malloc(((size_t)n + 1) * sizeof(*order));
    if (!key || !order) {
        free(key);
        free(order);
        return TL_ENOMEM;
    }
    int64_t mx = 0;
    for (int32_t r = lo; r < hi; r++) {
        uint64_t nnz = (uint64_t)(a->indptr[r + 1] - a->indptr[r]); /* < 2^31: one per column */
        mx = (int64_t)nnz > mx ? (int64_t)nnz : mx;
        key[r - lo] = nnz << 32 | (uint32_t)(UINT32_MAX - (uint32_t)r);
    }
    qsort(key, (size_t)n, sizeof(*key), cmp_desc_u64);
    for (int32_t r = 0; r < n; r++)
        order[r] = (int32_t)(UINT32_MAX - (uint32_t)(key[r] & UINT32_MAX));
    free(key);
    *out = order;
    *max_nnz = mx;
    return TL_OK;
}

/* A few CG steps on (G + sum_j alpha w_j y_j y_j^T) x = sum_j (1 + alpha w_j) y_j from the
 * current x, for each of up to TL_LA_SYMV_MULTI rows; only a row's nonzeros are touched beyond
 * the dense G p. The rows go in lockstep so that their G p products share every load of G (the
 * cost that dominates light rows at many factors); each row's arithmetic is its own. Stops a
 * row once its squared residual is below CG_EPS. scr: 3 TL_LA_SYMV_MULTI ld floats. */
static void cg_group(const half_ctx *c, float *x, const int32_t *rows, int nr, float *scr)
{
    enum { G = TL_LA_SYMV_MULTI };
    int ld = c->ld, live[G], nl = 0;
    float *xr[G], *r[G], *p[G], *ap[G], rs[G];
    const int32_t *idx[G];
    const float *w[G], *in[G];
    float *out[G];
    int64_t n[G];
    for (int j = 0; j < nr; j++) {
        int64_t p0 = c->r->indptr[rows[j]];
        n[j] = c->r->indptr[rows[j] + 1] - p0;
        idx[j] = c->r->indices + p0;
        w[j] = c->r->data + p0;
        xr[j] = x + (size_t)rows[j] * ld;
        r[j] = scr + (size_t)(3 * j) * ld;
        p[j] = r[j] + ld;
        ap[j] = p[j] + ld;
        if (n[j] == 0) /* b = 0: the exact solution is 0 */
            memset(xr[j], 0, (size_t)ld * sizeof(float));
        else
            live[nl++] = j;
    }
    for (int q = 0; q < nl; q++) {
        in[q] = xr[live[q]];
        out[q] = ap[live[q]];
    }
    if (nl)
        tl_la_symv_multi(c->gram, ld, ld, in, nl, out);
    int na = 0;
    for (int q = 0; q < nl; q++) {
        int j = live[q];
        for (int e = 0; e < ld; e++)
            r[j][e] = -ap[j][e];
        tl_la_gather_axpy(c->y, ld, idx[j], w[j], n[j], 1.0f, c->alpha, -c->alpha, xr[j], r[j]);
        memcpy(p[j], r[j], (size_t)ld * sizeof(float));
        rs[j] = tl_la_dotp(r[j], r[j], ld);
        if (rs[j] > CG_EPS)
            live[na++] = j;
    }
    for (int s = 0; s < c->cg_steps && na > 0; s++) {
        for (int q = 0; q < na; q++) {
            in[q] = p[live[q]];
            out[q] = ap[live[q]];
        }
        tl_la_symv_multi(c->gram, ld, ld, in, na, out);
        int still = 0;
        for (int q = 0; q < na; q++) {
            int j = live[q];
            tl_la_gather_axpy(c->y, ld, idx[j], w[j], n[j], 0.0f, 0.0f, c->alpha, p[j], ap[j]);
            float pap = tl_la_dotp(p[j], ap[j], ld);
            if (!(pap > 0))
                continue;
            float a = rs[j] / pap;
            for (int e = 0; e < ld; e++) {
                xr[j][e] += a * p[j][e];
                r[j][e] -= a * ap[j][e];
            }
            float rn = tl_la_dotp(r[j], r[j], ld);
            float beta = rn / rs[j];
            for (int e = 0; e < ld; e++)
                p[j][e] = r[j][e] + beta * p[j][e];
            rs[j] = rn;
            if (rn > CG_EPS)
                live[still++] = j;
        }
        na = still;
    }
}

/* Exact solve by Cholesky. scr: ld*ld + ld + 2 max_nnz floats. A failed factorization (only
 * possible with reg = 0) keeps the previous x. */
static void chol_row(const half_ctx *c, float *x, const int32_t *idx, const float *w, int64_t n,
                     float *scr)
{
    int k = c->k, ld = c->ld;
    float *a = scr, *b = a + (size_t)ld * ld, *s = b + ld, *t = s + c->max_nnz;
    if (n == 0) {
        memset(x, 0, (size_t)ld * sizeof(float));
        return;
    }
    for (int q = 0; q < k; q++) /* the upper triangle is all the kernels read */
        memcpy(a + (size_t)q * ld + q / 8 * 8, c->gram + (size_t)q * ld + q / 8 * 8,
               (size_t)(ld - q / 8 * 8) * sizeof(float));
    memset(b, 0, (size_t)ld * sizeof(float));
    for (int64_t j = 0; j < n; j++) {
        s[j] = c->alpha * w[j];
        t[j] = 1.0f + s[j];
    }
    tl_la_syrk_rows(c->y, ld, idx, s, t, n, k, a, ld, b);
    if (tl_la_potrf_upper(a, k, ld) != 0)
        return;
    tl_la_potrs_upper(a, k, ld, b);
    memcpy(x, b, (size_t)k * sizeof(float));
}

/* Picks the heavy rows of a half (the first of order, all its rows heaviest first) and builds
 * the transposed view restricted to those of this process (rows lo..hi-1) from rt, the
 * transpose of r. The sweep's partitions are cut on all the heavy rows, whichever process
 * solves them: a row's sums then run in the same order in a distributed fit as in one
 * process, and its result is the same. */
int tl__ials_force_sweep;
/* Floating-point operations per epoch below which training stays on one thread (~10 ms). */
double tl__ials_small_work = 5e7;

static tl_err heavy_build(const tl_csr *r, const tl_csr *rt, const int32_t *order, int32_t lo,
                          int32_t hi, int ld, int64_t fixed_rows, heavy_set *hs)
{
    size_t row_bytes = (size_t)ld * sizeof(float);
    int32_t n = 0, cap = (int32_t)(SWEEP_STATE_BYTES / row_bytes);
    size_t heavy = HEAVY_BYTES;
    memset(hs, 0, sizeof(*hs));
    if (tl__ials_force_sweep) { /* tests: every nonempty row */
        cap = r->nrows;
        heavy = 0;
    } else if ((uint64_t)fixed_rows * row_bytes <= SWEEP_TABLE_BYTES || fixed_rows <= r->nrows) {
        /* A small fixed side stays in cache. A fixed side smaller than the solved side is the
         * items (users solved): the rows a user gathers are popular, hence cached, items,
         * while that user's heavy peers are many and cold, so scattering would lose. */
        return TL_OK;
    }
    while (n < r->nrows && n < cap &&
           (uint64_t)(r->indptr[order[n] + 1] - r->indptr[order[n]]) * row_bytes > heavy)
        n++;
    if (n == 0)
        return TL_OK;
    /* loc: a heavy row's index among this process's heavy rows (their order in order), -2 for
     * another process's heavy row, -1 for the rest. */
    int32_t *loc = malloc((size_t)r->nrows * sizeof(*loc));
    int64_t *all = malloc(((size_t)rt->nrows + 1) * sizeof(*all)); /* heavy cells before row u */
    tl_csr *t = &hs->t;
    t->nrows = rt->nrows;
    t->indptr = calloc((size_t)rt->nrows + 1, sizeof(*t->indptr));
    if (!loc || !all || !t->indptr) {
        free(loc);
        free(all);
        return TL_ENOMEM;
    }
    for (int32_t i = 0; i < r->nrows; i++)
        loc[i] = -1;
    int32_t mine = 0;
    for (int32_t h = 0; h < n; h++)
        loc[order[h]] = order[h] >= lo && order[h] < hi ? mine++ : -2;
    t->ncols = mine;
    all[0] = 0;
    for (int32_t u = 0; u < rt->nrows; u++) {
        int64_t c = 0, a = 0;
        for (int64_t q = rt->indptr[u]; q < rt->indptr[u + 1]; q++) {
            c += loc[rt->indices[q]] >= 0;
            a += loc[rt->indices[q]] != -1;
        }
        t->indptr[u + 1] = t->indptr[u] + c;
        all[u + 1] = all[u] + a;
    }
    t->nnz = t->indptr[rt->nrows];
    t->indices = malloc((size_t)(t->nnz ? t->nnz : 1) * sizeof(*t->indices));
    t->data = malloc((size_t)(t->nnz ? t->nnz : 1) * sizeof(*t->data));
    if (!t->indices || !t->data) {
        free(loc);
        free(all);
        return TL_ENOMEM;
    }
    for (int32_t u = 0; u < rt->nrows; u++) {
        int64_t o = t->indptr[u];
        for (int64_t q = rt->indptr[u]; q < rt->indptr[u + 1]; q++)
            if (loc[rt->indices[q]] >= 0) {
                t->indices[o] = loc[rt->indices[q]];
                t->data[o++] = rt->data[q];
            }
    }
    free(loc);
    int64_t u = 0;
    for (int s = 0; s <= SWEEP_PARTS; s++) {
        int64_t goal = all[rt->nrows] * s / SWEEP_PARTS;
        while (u < rt->nrows && all[u] < goal)
            u++;
        hs->part[s] = s == SWEEP_PARTS ? rt->nrows : u;
    }
    free(all);
    hs->n = mine;
    return TL_OK;
}

static void heavy_release(heavy_set *hs)
{
    tl_csr_release(&hs->t);
    memset(hs, 0, sizeof(*hs));
}

static void heavy_ws_release(heavy_ws *ws)
{
    tl_la_free(ws->xh);
    tl_la_free(ws->r);
    tl_la_free(ws->p);
    tl_la_free(ws->ap);
    tl_la_free(ws->parts);
    free(ws->rs);
    free(ws->active);
    memset(ws, 0, sizeof(*ws));
}

static tl_err heavy_ws_init(heavy_ws *ws, int32_t nmax, int ld)
{
    memset(ws, 0, sizeof(*ws));
    if (nmax == 0)
        return TL_OK;
    size_t sz = (size_t)nmax * ld;
    ws->nmax = nmax;
    ws->xh = tl_la_alloc(sz);
    ws->r = tl_la_alloc(sz);
    ws->p = tl_la_alloc(sz);
    ws->ap = tl_la_alloc(sz);
    ws->parts = tl_la_alloc(SWEEP_PARTS * sz);
    ws->rs = malloc((size_t)nmax * sizeof(*ws->rs));
    ws->active = malloc((size_t)nmax);
    if (!ws->xh || !ws->r || !ws->p || !ws->ap || !ws->parts || !ws->rs || !ws->active) {
        heavy_ws_release(ws);
        return TL_ENOMEM;
    }
    return TL_OK;
}

/* out[h] += sum over the heavy row h's nonzeros of (a0 + a1 w + b1 w (y.v[h])) y, for the
 * active rows: one streaming pass over the fixed side, partial sums per partition. */
static void sweep(const half_ctx *c, const float *v, const uint8_t *active, float a0, float a1,
                  float b1, float *out)
{
    const heavy_set *hs = c->heavy;
    int ld = c->ld;
    size_t sz = (size_t)hs->n * ld;
    float *parts = c->ws->parts;
#pragma omp parallel for schedule(dynamic, 1) num_threads(c->threads)
    for (int s = 0; s < SWEEP_PARTS; s++) {
        float *acc = parts + (size_t)s * sz;
        memset(acc, 0, sz * sizeof(float));
        for (int64_t u = hs->part[s]; u < hs->part[s + 1]; u++) {
            int64_t p0 = hs->t.indptr[u], n = hs->t.indptr[u + 1] - p0;
            if (n)
                tl_la_scatter_axpy(c->y + (size_t)u * ld, ld, hs->t.indices + p0, hs->t.data + p0,
                                   n, active, a0, a1, b1, v, acc);
        }
    }
#pragma omp parallel for schedule(static) num_threads(c->threads)
    for (int32_t h = 0; h < hs->n; h++)
        for (int s = 0; s < SWEEP_PARTS; s++)
            tl_la_axpy(1.0f, parts + (size_t)s * sz + (size_t)h * ld, out + (size_t)h * ld, ld);
}

/* out[h] = G v[h] for the heavy rows h < n (only the active ones when active is not NULL),
 * TL_LA_SYMV_MULTI rows at a time: each row's products are its own, so its result does not
 * depend on how many heavy rows there are (in a distributed fit, a process has a share). */
static void gram_rows(const half_ctx *c, const float *v, int32_t n, const uint8_t *active,
                      float *out)
{
    int ld = c->ld;
#pragma omp parallel for schedule(static) num_threads(c->threads)
    for (int32_t h0 = 0; h0 < n; h0 += TL_LA_SYMV_MULTI) {
        const float *in[TL_LA_SYMV_MULTI];
        float *o[TL_LA_SYMV_MULTI];
        int nv = 0;
        for (int32_t h = h0; h < n && h < h0 + TL_LA_SYMV_MULTI; h++)
            if (!active || active[h]) {
                in[nv] = v + (size_t)h * ld;
                o[nv++] = out + (size_t)h * ld;
            }
        if (nv)
            tl_la_symv_multi(c->gram, ld, ld, in, nv, o);
    }
}

/* cg_group for all heavy rows at once. */
static void cg_heavy(const half_ctx *c, float *x)
{
    const heavy_set *hs = c->heavy;
    heavy_ws *ws = c->ws;
    int ld = c->ld;
    int32_t n = hs->n;
    size_t row = (size_t)ld * sizeof(float);
#pragma omp parallel for schedule(static) num_threads(c->threads)
    for (int32_t h = 0; h < n; h++)
        memcpy(ws->xh + (size_t)h * ld, x + (size_t)c->order[h] * ld, row);
    /* r = b - A x: -x G (G is symmetric), then the nonzeros' part */
    gram_rows(c, ws->xh, n, NULL, ws->r);
    for (size_t q = 0; q < (size_t)n * ld; q++)
        ws->r[q] = -ws->r[q];
    sweep(c, ws->xh, NULL, 1.0f, c->alpha, -c->alpha, ws->r);
    int live = 0;
#pragma omp parallel for schedule(static) num_threads(c->threads) reduction(+ : live)
    for (int32_t h = 0; h < n; h++) {
        memcpy(ws->p + (size_t)h * ld, ws->r + (size_t)h * ld, row);
        ws->rs[h] = tl_la_dotp(ws->r + (size_t)h * ld, ws->r + (size_t)h * ld, ld);
        ws->active[h] = ws->rs[h] > CG_EPS;
        live += ws->active[h];
    }
    for (int s = 0; s < c->cg_steps && live > 0; s++) {
        gram_rows(c, ws->p, n, ws->active, ws->ap);
        sweep(c, ws->p, ws->active, 0.0f, 0.0f, c->alpha, ws->ap);
        live = 0;
#pragma omp parallel for schedule(static) num_threads(c->threads) reduction(+ : live)
        for (int32_t h = 0; h < n; h++) {
            if (!ws->active[h])
                continue;
            float *xh = ws->xh + (size_t)h * ld, *r = ws->r + (size_t)h * ld;
            float *p = ws->p + (size_t)h * ld, *ap = ws->ap + (size_t)h * ld;
            float pap = tl_la_dotp(p, ap, ld);
            if (!(pap > 0)) {
                ws->active[h] = 0;
                continue;
            }
            float a = ws->rs[h] / pap;
            for (int q = 0; q < ld; q++) {
                xh[q] += a * p[q];
                r[q] -= a * ap[q];
            }
            float rn = tl_la_dotp(r, r, ld);
            float beta = rn / ws->rs[h];
            for (int q = 0; q < ld; q++)
                p[q] = r[q] + beta * p[q];
            ws->rs[h] = rn;
            ws->active[h] = rn > CG_EPS;
            live += ws->active[h];
        }
    }
#pragma omp parallel for schedule(static) num_threads(c->threads)
    for (int32_t h = 0; h < n; h++)
        memcpy(x + (size_t)c->order[h] * ld, ws->xh + (size_t)h * ld, row);
}

/* Solves every row of c->r into x (nrows x ld), in parallel, heaviest rows first. */
static tl_err solve_half(const half_ctx *c, float *x)
{
    int failed = 0;
    int32_t first = 0;
    if (c->solver == SOLVER_CG && c->heavy && c->heavy->n > 0) {
        cg_heavy(c, x);
        first = c->heavy->n;
    }
    size_t nscr = c->solver == SOLVER_CG ? 3 * (size_t)TL_LA_SYMV_MULTI * c->ld
                                         : (size_t)c->ld * c->ld + c->ld + 2 * (size_t)c->max_nnz;
    /* CG takes the rows (heaviest first) in groups; the groups are fixed by position, and a
     * row's result does not depend on its group, so threads change nothing. */
    int group = c->solver == SOLVER_CG ? TL_LA_SYMV_MULTI : 1;
    int32_t ngroups = (c->n_order - first + group - 1) / group;
    int chunk = ROW_CHUNK / group;
#pragma omp parallel num_threads(c->threads)
    {
        float *scr = tl_la_alloc(nscr); /* once per thread; the row loop never allocates */
        if (!scr) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp for schedule(dynamic, chunk)
        for (int32_t gi = 0; gi < ngroups; gi++) {
            if (!scr)
                continue;
            int32_t o = first + gi * group;
            int nr = c->n_order - o < group ? c->n_order - o : group;
            if (c->solver == SOLVER_CG) {
                cg_group(c, x, c->order + o, nr, scr);
            } else {
                int32_t row = c->order[o];
                int64_t p0 = c->r->indptr[row], n = c->r->indptr[row + 1] - p0;
                chol_row(c, x + (size_t)row * c->ld, c->r->indices + p0, c->r->data + p0, n, scr);
            }
        }
        tl_la_free(scr);
    }
    return failed ? TL_ENOMEM : TL_OK;
}

/* One side (users or items) as this process sees it: the shards of every process (rows
 * first[p] .. first[p + 1] - 1 are process p's; one process has them all), its own rows
 * heaviest first, and the heavy ones among them. */
typedef struct side_plan {
    int32_t *first; /* size + 1 entries */
    int32_t *order, n;
    int32_t *all; /* every row of the side, heaviest first (= order in one process) */
    int64_t max_nnz;
    heavy_set heavy;
} side_plan;

static void side_release(side_plan *s)
{
    free(s->first);
    if (s->all != s->order)
        free(s->all);
    free(s->order);
    heavy_release(&s->heavy);
    memset(s, 0, sizeof(*s));
}

/* Rows per block of a side's Gram matrix (tl_la_gram_blocks): by the side's size alone, so
 * that one process and a distributed fit cut the same blocks. */
static int64_t gram_block(int32_t n)
{
    int64_t b = n / 64;
    return b < 16 ? 16 : b > 1024 ? 1024 : b;
}

/* Shards of about equal work (a row costs its nonzeros plus one dense product, ld), from the
 * shape alone so that every process computes the same ones; each starts on a Gram block. */
static tl_err side_plan_make(const tl_csr *a, int ld, int rank, int size, side_plan *s)
{
    int64_t block = gram_block(a->nrows);
    memset(s, 0, sizeof(*s));
    if (!(s->first = malloc(((size_t)size + 1) * sizeof(*s->first))))
        return TL_ENOMEM;
    double total = (double)a->nnz + (double)a->nrows * ld;
    int32_t r = 0;
    s->first[0] = 0;
    for (int p = 1; p < size; p++) {
        double goal = total * p / size;
        while (r < a->nrows && (double)a->indptr[r] + (double)r * ld < goal)
            r++;
        int64_t cut = (r + block / 2) / block * block;
        s->first[p] = (int32_t)(cut < s->first[p - 1] ? s->first[p - 1]
                                : cut > a->nrows      ? a->nrows
                                                      : cut);
    }
    s->first[size] = a->nrows;
    s->n = s->first[rank + 1] - s->first[rank];
    int64_t max_all;
    tl_err rc = heavy_first(a, s->first[rank], s->first[rank + 1], &s->order, &s->max_nnz);
    if (rc == TL_OK && size == 1)
        s->all = s->order;
    else if (rc == TL_OK)
        rc = heavy_first(a, 0, a->nrows, &s->all, &max_all);
    return rc;
}

/* gram = y^T y + reg on the diagonal (ld x ld, padding zero) for the n rows of y: each
 * process's Gram of its shard of y (y_first), in blocks summed in double (sum: k x k doubles),
 * then summed over the processes: the same bits in a distributed fit as in one process. */
static tl_err regularized_gram(const float *y, const int32_t *y_first, const tl_comm *comm, int k,
                               int ld, float reg, int threads, double *sum, float *gram,
                               double *comm_s)
{
    int rank = comm ? comm->rank : 0, size = comm ? comm->size : 1;
    memset(sum, 0, (size_t)k * k * sizeof(*sum));
    if (tl_la_gram_blocks(y, y_first[rank], y_first[rank + 1], gram_block(y_first[size]), k, ld,
                          sum, threads) != 0)
        return TL_ENOMEM;
    if (size > 1) {
        double t0 = tl_now();
        if (comm->allreduce_sum_f64(comm->ctx, sum, (size_t)k * k) != 0)
            return TL_EIO;
        *comm_s += tl_now() - t0;
    }
    memset(gram, 0, (size_t)ld * ld * sizeof(*gram));
    for (int a = 0; a < k; a++)
        for (int b = 0; b < k; b++)
            gram[(size_t)a * ld + b] = (float)sum[(size_t)a * k + b];
    for (int q = 0; q < k; q++)
        gram[(size_t)q * ld + q] += reg;
    return TL_OK;
}

/* One half-epoch: this process's rows of x (plan xs, nonzeros in r) solved against the fixed
 * side y (its shards y_first), then every process's rows of x gathered everywhere. */
static tl_err half_epoch(half_ctx *c, const tl_comm *comm, const float *y, const int32_t *y_first,
                         float reg, double *sum, float *gram, const tl_csr *r, const side_plan *xs,
                         float *x, double *comm_s)
{
    tl_err rc = regularized_gram(y, y_first, comm, c->k, c->ld, reg, c->threads, sum, gram, comm_s);
    if (rc != TL_OK)
        return rc;
    c->y = y;
    c->gram = gram;
    c->r = r;
    c->order = xs->order;
    c->n_order = xs->n;
    c->max_nnz = xs->max_nnz;
    c->heavy = &xs->heavy;
    if ((rc = solve_half(c, x)) != TL_OK)
        return rc;
    if (comm && comm->size > 1) {
        double t0 = tl_now();
        if (comm->allgather_rows_f32(comm->ctx, x, c->ld, xs->first) != 0)
            return TL_EIO;
        *comm_s += tl_now() - t0;
    }
    return TL_OK;
}

/* With a communicator (m->hooks->comm) of several processes, each solves its shard of the
 * users and of the items, exactly as one process solves those rows, and the factors are
 * exchanged every half-epoch: every process ends with the whole model. */
static tl_err fit(tl_model *m, const tl_data *d, tl_diag *diag)
{
    tl_err rc = TL_ENOMEM;
    const ials_cfg *cfg = m->cfg;
    const tl_comm *comm = m->hooks ? m->hooks->comm : NULL;
    int rank = comm ? comm->rank : 0, size = comm ? comm->size : 1;
    int k = cfg->factors;
    int iters = cfg->iterations;
    float reg = (float)cfg->reg;
    const char *solver = cfg->solver;
    int threads = cfg->threads;
    half_ctx c = {
        .k = k,
        .ld = tl_la_pad(k),
        .cg_steps = cfg->cg_steps,
        .threads = threads > 0 ? threads : omp_get_max_threads(),
        .alpha = (float)cfg->alpha,
    };
    uint64_t seed = (uint64_t)cfg->seed;
    side_plan users = {0}, items = {0};
    float *gram = NULL;
    double *sum = NULL;
    ials_state *st = NULL;
    heavy_ws ws = {0};

    if (strcmp(solver, "cg") == 0) {
        c.solver = SOLVER_CG;
    } else if (strcmp(solver, "cholesky") == 0) {
        c.solver = SOLVER_CHOLESKY;
    } else {
        tl_diag_set(diag, NULL, 0, "solver", "'%s' is not cg or cholesky", solver);
        rc = TL_EINVAL;
        goto out;
    }
    if (d->ui.nrows != m->n_users || d->ui.ncols != m->n_items || d->iu.nrows != m->n_items) {
        tl_diag_set(diag, NULL, 0, NULL, "the data's matrices do not match its id maps");
        rc = TL_EINVAL;
        goto out;
    }
    int ld = c.ld;
    if (!(st = calloc(1, sizeof(*st))))
        goto out;
    st->serial = atomic_fetch_add(&next_serial, 1);
    st->k = k;
    st->ld = ld;
    st->n_users = m->n_users;
    st->n_items = m->n_items;
    st->owned = 1;
    st->user = tl_la_alloc((size_t)m->n_users * ld);
    st->item = tl_la_alloc((size_t)m->n_items * ld);
    st->yty = tl_la_alloc((size_t)k * k);
    st->epochs = calloc((size_t)iters + 1, sizeof(*st->epochs));
    gram = tl_la_alloc((size_t)ld * ld);
    sum = malloc((size_t)k * k * sizeof(*sum));
    if (!st->user || !st->item || !st->yty || !st->epochs || !gram || !sum)
        goto out;
    if ((rc = side_plan_make(&d->ui, ld, rank, size, &users)) != TL_OK ||
        (rc = side_plan_make(&d->iu, ld, rank, size, &items)) != TL_OK)
        goto out;
    /* A small problem runs on one thread: an epoch would last less than a few scheduler
     * time slices, and on a busy machine each barrier can wait for a descheduled thread. */
    double work = (double)d->ui.nnz * ld * 16 + ((double)m->n_users + m->n_items) * ld * ld * 4;
    if (work < tl__ials_small_work)
        c.threads = 1;
    if (c.solver == SOLVER_CG &&
        ((rc = heavy_build(&d->iu, &d->ui, items.all, items.first[rank], items.first[rank + 1], ld,
                           m->n_users, &items.heavy)) != TL_OK ||
         (rc = heavy_build(&d->ui, &d->iu, users.all, users.first[rank], users.first[rank + 1], ld,
                           m->n_items, &users.heavy)) != TL_OK ||
         (rc = heavy_ws_init(&ws, items.heavy.n > users.heavy.n ? items.heavy.n : users.heavy.n,
                             ld)) != TL_OK))
        goto out;
    c.ws = &ws;
    /* Seeded per row: every process starts from the whole, same, model. */
    init_factors(st->user, m->n_users, k, ld, seed, 0, c.threads);
    init_factors(st->item, m->n_items, k, ld, seed, 1, c.threads);

    for (int it = 0; it < iters; it++) {
        tl_ials_epoch *e = &st->epochs[it];
        char stage[48];
        snprintf(stage, sizeof(stage), "ials epoch %d/%d", it + 1, iters);
        if (tl_model_progress(m, stage, (double)it / iters)) {
            rc = TL_ECANCELED;
            goto out;
        }
        double t0 = tl_now(), c0 = cpu_now(), comm_s = 0;
        /* Items from users, then users from items: the final user factors are the exact
         * (Cholesky) or near (CG) solutions for the final item factors. */
        if ((rc = half_epoch(&c, comm, st->user, users.first, reg, sum, gram, &d->iu, &items,
                             st->item, &comm_s)) != TL_OK)
            goto out;
        double t1 = tl_now();
        if ((rc = half_epoch(&c, comm, st->item, items.first, reg, sum, gram, &d->ui, &users,
                             st->user, &comm_s)) != TL_OK)
            goto out;
        e->seconds = tl_now() - t0;
        e->item_seconds = t1 - t0;
        e->user_seconds = e->seconds - e->item_seconds;
        e->cpu_seconds = cpu_now() - c0;
        e->comm_seconds = comm_s;
        st->n_epochs = it + 1;
    }
    if (tl_la_gram(st->item, m->n_items, k, ld, st->yty, k, c.threads) != 0) {
        rc = TL_ENOMEM;
        goto out;
    }
    m->state = st;
    st = NULL;
    rc = TL_OK;
out:
    if (rc == TL_EIO)
        tl_diag_set(diag, NULL, 0, NULL, "exchanging factors between processes failed");
    side_release(&users);
    side_release(&items);
    heavy_ws_release(&ws);
    state_free(st);
    tl_la_free(gram);
    free(sum);
    return rc;
}

static size_t fold_scratch(const ials_state *st)
{
    return (size_t)st->ld * st->ld + (size_t)st->ld;
}

static size_t scratch_floats(const tl_model *m)
{
    const ials_state *st = m->state;
    return st ? fold_scratch(st) + st->ld : 0;
}

/* Builds and factors A = YtY + reg I + sum_j alpha w_j y_j y_j^T (upper, in a: ld x ld) and
 * b = sum_j (1 + alpha w_j) y_j (in b: ld) for a history. Returns 0, or -1 when A is not
 * positive definite (reg = 0 and too little data). */
static int fold_factor(const ials_state *st, float alpha, float reg, const int32_t *items,
                       const float *w, int32_t n, float *a, float *b)
{
    int k = st->k, ld = st->ld;
    int32_t ix[FOLD_BLOCK];
    float s[FOLD_BLOCK], t[FOLD_BLOCK];
    for (int q = 0; q < k; q++) {
        memset(a + (size_t)q * ld, 0, (size_t)ld * sizeof(float));
        memcpy(a + (size_t)q * ld + q, st->yty + (size_t)q * k + q,
               (size_t)(k - q) * sizeof(float));
        a[(size_t)q * ld + q] += reg;
    }
    memset(b, 0, (size_t)ld * sizeof(float));
    for (int32_t j0 = 0; j0 < n;) {
        int nb = 0;
        for (; j0 < n && nb < FOLD_BLOCK; j0++) {
            if (items[j0] < 0 || items[j0] >= st->n_items)
                continue;
            ix[nb] = items[j0];
            s[nb] = alpha * (w ? w[j0] : 1.0f);
            t[nb] = 1.0f + s[nb];
            nb++;
        }
        tl_la_syrk_rows(st->item, ld, ix, s, t, nb, k, a, ld, b);
    }
    return tl_la_potrf_upper(a, k, ld);
}

/* A request scores a history, then explains many items of it (a page of recommendations), and
 * the patron's next request (another page, the homepage after the list) does the same: the
 * inverse of the history's system is made once and kept, in a table shared by every thread
 * (four-way set-associative by the history's key, within SHARED_BYTES: about 2,000 patrons at
 * 128 factors; a direct-mapped table lost 60 % of a MovieLens-sized crowd to collisions), and
 * each thread holds a reference to the last one it used. Entries are immutable and
 * reference-counted, so a thread reads one without copying it and a replacement never frees
 * what another thread is reading. */
typedef struct inverse {
    atomic_long refs;
    uint64_t serial, key; /* the state and the history it was made for */
    int32_t n;
    float *a; /* the inverse (ld x ld), then the right-hand side (ld floats) */
} inverse;

static void inverse_release(inverse *v)
{
    if (v && atomic_fetch_sub_explicit(&v->refs, 1, memory_order_acq_rel) == 1) {
        tl_la_free(v->a);
        free(v);
    }
}

static int inverse_is(const inverse *v, const ials_state *st, uint64_t key, int32_t n)
{
    return v && v->serial == st->serial && v->key == key && v->n == n;
}

static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;
static int cache_ok;

static void cache_free(void *p)
{
    inverse_release(p);
}

static void cache_make(void)
{
    cache_ok = pthread_key_create(&cache_key, cache_free) == 0;
}

static uint64_t history_key(const int32_t *items, const float *w, int32_t n, float alpha, float reg)
{
    uint64_t h = tl_fnv1a64(items, (size_t)n * sizeof(*items));
    if (w)
        h = tl_fnv1a64_update(h, w, (size_t)n * sizeof(*w));
    h = tl_fnv1a64_update(h, &alpha, sizeof(alpha));
    return tl_fnv1a64_update(h, &reg, sizeof(reg));
}

#define SHARED_SLOTS 8192
#define SHARED_WAYS 4 /* slots per set: fewer patrons evict each other than with two */
#define SHARED_BYTES (128u << 20)

typedef struct shared_slot {
    pthread_mutex_t mu; /* the set's lock: in the set's first slot */
    uint64_t used;      /* use stamp, for replacing the oldest of a set */
    inverse *v;         /* holds a reference */
} shared_slot;

static shared_slot shared[SHARED_SLOTS];
static pthread_once_t shared_once = PTHREAD_ONCE_INIT;
static atomic_uint_fast64_t shared_clock;

static void shared_make(void)
{
    for (int i = 0; i < SHARED_SLOTS; i++)
        pthread_mutex_init(&shared[i].mu, NULL);
}

/* The set (SHARED_WAYS slots) of key for inverses of need floats (NULL: none fit the budget). */
static shared_slot *shared_set_of(uint64_t key, size_t need)
{
    size_t sets = SHARED_BYTES / (SHARED_WAYS * need * sizeof(float));
    if (sets > SHARED_SLOTS / SHARED_WAYS)
        sets = SHARED_SLOTS / SHARED_WAYS;
    if (!sets)
        return NULL;
    pthread_once(&shared_once, shared_make);
    return &shared[SHARED_WAYS * (key % sets)];
}

/* A new reference to the shared inverse of the history, or NULL. */
static inverse *shared_get(const ials_state *st, uint64_t key, int32_t n, size_t need)
{
    shared_slot *set = shared_set_of(key, need);
    if (!set)
        return NULL;
    pthread_mutex_lock(&set->mu);
    shared_slot *sl = NULL;
    for (int w = 0; w < SHARED_WAYS && !sl; w++)
        if (inverse_is(set[w].v, st, key, n))
            sl = &set[w];
    inverse *v = sl ? sl->v : NULL;
    if (v) {
        atomic_fetch_add_explicit(&v->refs, 1, memory_order_relaxed);
        sl->used = atomic_fetch_add_explicit(&shared_clock, 1, memory_order_relaxed);
    }
    pthread_mutex_unlock(&set->mu);
    return v;
}

/* Shares v (the table takes a reference of its own), in place of the one used longest ago. */
static void shared_put(uint64_t key, size_t need, inverse *v)
{
    shared_slot *set = shared_set_of(key, need);
    if (!set)
        return;
    atomic_fetch_add_explicit(&v->refs, 1, memory_order_relaxed);
    pthread_mutex_lock(&set->mu);
    shared_slot *sl = &set[0];
    for (int w = 1; w < SHARED_WAYS; w++)
        if (set[w].used < sl->used)
            sl = &set[w];
    inverse *old = sl->v;
    sl->v = v;
    sl->used = atomic_fetch_add_explicit(&shared_clock, 1, memory_order_relaxed);
    pthread_mutex_unlock(&set->mu);
    inverse_release(old);
}

/* The inverse of the history's system (ld x ld, both triangles, padding zero) followed by its
 * right-hand side (ld floats); NULL when it cannot be made. The inverse, not the factor: each
 * solve a request asks of it (the fold-in, one per item explained) is then one symmetric
 * matrix-vector product instead of two triangular solves. Valid until this thread's next
 * call. */
static const float *cached_inverse(const ials_state *st, float alpha, float reg,
                                   const int32_t *items, const float *w, int32_t n)
{
    pthread_once(&cache_once, cache_make);
    if (!cache_ok)
        return NULL;
    inverse *mine = pthread_getspecific(cache_key);
    uint64_t key = history_key(items, w, n, alpha, reg);
    if (inverse_is(mine, st, key, n))
        return mine->a;
    size_t need = fold_scratch(st);
    inverse *v = shared_get(st, key, n, need);
    if (!v) {
        if (!(v = calloc(1, sizeof(*v))) || !(v->a = tl_la_alloc(need))) {
            free(v);
            return NULL;
        }
        atomic_init(&v->refs, 1);
        if (fold_factor(st, alpha, reg, items, w, n, v->a, v->a + (size_t)st->ld * st->ld) != 0 ||
            tl_la_potri_full(v->a, st->k, st->ld) != 0) {
            inverse_release(v);
            return NULL;
        }
        v->serial = st->serial;
        v->key = key;
        v->n = n;
        shared_put(key, need, v);
    }
    if (pthread_setspecific(cache_key, v) != 0) {
        inverse_release(v);
        return NULL;
    }
    inverse_release(mine);
    return v->a;
}

/* Fold-in into out (ld floats, padding zeroed) with scratch of fold_scratch() floats; -1 (out
 * zero) when the system could not be factored (non-finite weights). */
static int fold_in(const ials_state *st, float alpha, float reg, const int32_t *items,
                   const float *w, int32_t n, float *out, float *scr)
{
    float *a = scr, *b = a + (size_t)st->ld * st->ld;
    memset(out, 0, (size_t)st->ld * sizeof(float));
    if (n <= 0)
        return 0;
    const float *c = omp_in_parallel() ? NULL : cached_inverse(st, alpha, reg, items, w, n);
    if (c) { /* a request's fold-in: explain reuses the inverse */
        tl_la_symv(c, st->ld, st->ld, c + (size_t)st->ld * st->ld, out);
        return 0;
    }
    if (fold_factor(st, alpha, reg, items, w, n, a, b) != 0)
        return -1;
    tl_la_potrs_upper(a, st->k, st->ld, b);
    memcpy(out, b, (size_t)st->k * sizeof(float));
    return 0;
}

static tl_err score(const tl_model *m, int32_t uidx, const int32_t *items, const float *w,
                    int32_t n, float *scores, float *scratch)
{
    const ials_state *st = m->state;
    const ials_cfg *cfg = m->cfg;
    const float *vec;
    if (uidx >= 0 && uidx < st->n_users && !cfg->fold_in) {
        vec = st->user + (size_t)uidx * st->ld;
    } else {
        float *v = scratch + fold_scratch(st);
        if (fold_in(st, (float)cfg->alpha, (float)cfg->reg, items, w, n, v, scratch) != 0)
            return TL_ENUMERIC;
        vec = v;
    }
    tl_la_gemv_rows(st->item, st->n_items, st->k, st->ld, vec, scores);
    return TL_OK;
}

/* score() for the candidates alone: the user's vector (stored or folded in) against their
 * item factors. */
static tl_err score_items(const tl_model *m, int32_t uidx, const int32_t *items, const float *w,
                          int32_t n, const int32_t *cand, int32_t ncand, float *out, float *scratch)
{
    const ials_state *st = m->state;
    const ials_cfg *cfg = m->cfg;
    const float *vec;
    if (uidx >= 0 && uidx < st->n_users && !cfg->fold_in) {
        vec = st->user + (size_t)uidx * st->ld;
    } else {
        float *v = scratch + fold_scratch(st);
        if (fold_in(st, (float)cfg->alpha, (float)cfg->reg, items, w, n, v, scratch) != 0)
            return TL_ENUMERIC;
        vec = v;
    }
    for (int32_t c = 0; c < ncand; c++) {
        const float *y = st->item + (size_t)cand[c] * st->ld;
        float dot = 0;
        for (int32_t f = 0; f < st->k; f++)
            dot += vec[f] * y[f];
        out[c] = dot;
    }
    return TL_OK;
}

static void score_block(const tl_model *m, const tl_csr *ui, int users_match, const int32_t *rows,
                        int32_t n_rows, float *out)
{
    const ials_state *st = m->state;
    int ld = st->ld;
    const ials_cfg *cfg = m->cfg;
    int use_stored = users_match && !cfg->fold_in;
    float alpha = (float)cfg->alpha;
    float reg = (float)cfg->reg;
    float *vecs = tl_la_alloc((size_t)n_rows * ld);
    int need_fold = 0, failed = 0;
    /* Called from inside a parallel region (a caller that scores small tiles per thread and
     * selects while the scores are in cache): stay on this thread, and call BLAS directly,
     * which is then single-threaded (tl_model_recommend_rows checks tl_la_blas_threads). */
    int nested = omp_in_parallel();
    if (!vecs) /* no way to report it: score nothing rather than garbage */
        goto fail;
    for (int32_t r = 0; r < n_rows; r++) {
        if (use_stored && rows[r] < st->n_users)
            memcpy(vecs + (size_t)r * ld, st->user + (size_t)rows[r] * ld,
                   (size_t)ld * sizeof(float));
        else
            need_fold = 1;
    }
    if (need_fold) {
#pragma omp parallel if (!nested)
        {
            float *scr = tl_la_alloc(fold_scratch(st));
            if (!scr) {
#pragma omp atomic write
                failed = 1;
            }
#pragma omp for schedule(dynamic, 4)
            for (int32_t r = 0; r < n_rows; r++) {
                int32_t row = rows[r];
                if (!scr || (use_stored && row < st->n_users))
                    continue;
                int64_t p0 = ui->indptr[row];
                (void)fold_in(st, alpha, reg, ui->indices + p0, ui->data + p0,
                              (int32_t)(ui->indptr[row + 1] - p0), vecs + (size_t)r * ld, scr);
            }
            tl_la_free(scr);
        }
        if (failed)
            goto fail;
    }
    if (n_rows > 0 && st->n_items > 0 && nested)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n_rows, st->n_items, st->k, 1.0f, vecs,
                    ld, st->item, ld, 0.0f, out, st->n_items);
    else if (n_rows > 0 && st->n_items > 0)
        tl_la_gemm_nt(n_rows, st->n_items, st->k, vecs, ld, st->item, ld, out, st->n_items, 0);
    tl_la_free(vecs);
    return;
fail:
    tl_la_free(vecs);
    for (size_t i = 0; i < (size_t)n_rows * (size_t)st->n_items; i++)
        out[i] = -INFINITY;
}

static tl_err save(const tl_model *m, tl_mfile_writer *w)
{
    const ials_state *st = m->state;
    tl_err rc;
    if ((rc = tl_mfile_add(w, "user_factors", TL_MT_F32, st->user,
                           (uint64_t)st->n_users * st->ld)) != TL_OK ||
        (rc = tl_mfile_add(w, "item_factors", TL_MT_F32, st->item,
                           (uint64_t)st->n_items * st->ld)) != TL_OK)
        return rc;
    return tl_mfile_add(w, "yty", TL_MT_F32, st->yty, (uint64_t)st->k * st->k);
}

static tl_err load(tl_model *m, const tl_mfile *f, tl_diag *diag)
{
    uint64_t nu, ni, ny;
    const float *u = tl_mfile_get(f, "user_factors", TL_MT_F32, &nu);
    const float *v = tl_mfile_get(f, "item_factors", TL_MT_F32, &ni);
    const float *y = tl_mfile_get(f, "yty", TL_MT_F32, &ny);
    int k = ((const ials_cfg *)m->cfg)->factors;
    int ld = tl_la_pad(k);
    if (!u || !v || !y || ny != (uint64_t)k * k || nu != (uint64_t)m->n_users * ld ||
        ni != (uint64_t)m->n_items * ld) {
        tl_diag_set(diag, NULL, 0, NULL,
                    "ials sections missing or not sized for %d factors, %d users, %d items", k,
                    (int)m->n_users, (int)m->n_items);
        return TL_ECORRUPT;
    }
    ials_state *st = calloc(1, sizeof(*st));
    if (!st)
        return TL_ENOMEM;
    st->serial = atomic_fetch_add(&next_serial, 1);
    st->k = k;
    st->ld = ld;
    st->n_users = m->n_users;
    st->n_items = m->n_items;
    st->user = (float *)u; /* zero-copy: the mapping outlives the state (m->file) */
    st->item = (float *)v;
    st->yty = (float *)y;
    st->owned = 0;
    m->state = st;
    return TL_OK;
}

static void release(tl_model *m)
{
    state_free(m->state);
    m->state = NULL;
}

/* Contribution of history entry j to the folded-in score of item i: the fold-in vector is
 * x = A^-1 b with b = sum_j c_j y_j, so y_i.x = sum_j c_j (y_i^T A^-1 y_j) exactly; one extra
 * solve gives z = A^-1 y_i, then each entry costs a dot product. Only positive contributions
 * are reasons; entries outside the model are skipped. For a known user scored by the stored
 * vector, this decomposes the fold-in of the given history (the same vector when the history
 * is the training one and the solver is cholesky; close to it with cg). */
static int explain_many(const tl_model *m, int32_t uidx, const int32_t *items, const float *w,
                        int32_t n, const int32_t *targets, int nt, int32_t *why, float *contrib,
                        int max, int *got);

static int explain(const tl_model *m, int32_t uidx, const int32_t *items, const float *w, int32_t n,
                   int32_t item, int32_t *why, float *contrib, int max)
{
    int got = 0;
    return explain_many(m, uidx, items, w, n, &item, 1, why, contrib, max, &got) == 0 ? got : 0;
}

/* One target's evidence from its solution z = A^-1 y: the contributions of the history's rows
 * (conf: their confidences, pos: their positions in the history), the max strongest. */
static void explain_one(const float *rows, int32_t nh, int k, int ld, const float *z,
                        const float *conf, const int32_t *pos, float *con, int max, int32_t *why,
                        float *contrib, int *got)
{
    tl_la_gemv_rows(rows, nh, k, ld, z, con);
    for (int32_t q = 0; q < nh; q++)
        con[q] *= conf[q];
    while (*got < max) { /* max is small: repeated selection */
        int32_t best = -1;
        for (int32_t q = 0; q < nh; q++)
            if (con[q] > 0 && (best < 0 || con[q] > con[best]))
                best = q;
        if (best < 0)
            break;
        why[*got] = pos[best];
        contrib[(*got)++] = con[best];
        con[best] = -INFINITY;
    }
}

/* explain for many targets: the history is factored (or found in the caches) and its rows
 * gathered once, then each target is one solve and one matrix-vector product, instead of a
 * hash of the history and n dot products per target. The same contributions as explain. */
static int explain_many(const tl_model *m, int32_t uidx, const int32_t *items, const float *w,
                        int32_t n, const int32_t *targets, int nt, int32_t *why, float *contrib,
                        int max, int *got)
{
    const ials_state *st = m->state;
    (void)uidx;
    for (int t = 0; t < nt; t++)
        got[t] = 0;
    if (!st || n <= 0 || max <= 0 || nt <= 0)
        return 0;
    const ials_cfg *cfg = m->cfg;
    float alpha = (float)cfg->alpha;
    int ld = st->ld, k = st->k;
    /* the history's rows, then TL_LA_SYMV_MULTI solutions */
    float *rows = tl_la_alloc_raw((size_t)n * ld + (size_t)TL_LA_SYMV_MULTI * ld),
          *z = rows ? rows + (size_t)n * ld : NULL;
    if (z) /* the rows are copied whole; the solutions' padding must read as zero */
        memset(z, 0, (size_t)TL_LA_SYMV_MULTI * ld * sizeof(float));
    float *con = malloc(2 * (size_t)n * sizeof(float)), *conf = con ? con + n : NULL;
    int32_t *pos = malloc((size_t)n * sizeof(int32_t));
    const float *a =
        rows && con && pos ? cached_inverse(st, alpha, (float)cfg->reg, items, w, n) : NULL;
    int rc = -1;
    if (!a)
        goto out;
    int32_t nh = 0; /* the history items the model knows, their rows side by side */
    for (int32_t j = 0; j < n; j++) {
        if (items[j] < 0 || items[j] >= st->n_items)
            continue;
        memcpy(rows + (size_t)nh * ld, st->item + (size_t)items[j] * ld,
               (size_t)ld * sizeof(float));
        conf[nh] = 1.0f + alpha * (w ? w[j] : 1.0f);
        pos[nh++] = j;
    }
    for (int t0 = 0; t0 < nt; t0 += TL_LA_SYMV_MULTI) {
        /* the solutions of a few targets at once: the inverse is read once for all of them */
        int tv[TL_LA_SYMV_MULTI], nv = 0;
        const float *x[TL_LA_SYMV_MULTI];
        float *y[TL_LA_SYMV_MULTI];
        for (int t = t0; t < nt && t < t0 + TL_LA_SYMV_MULTI; t++)
            if (targets[t] >= 0 && targets[t] < st->n_items) {
                x[nv] = st->item + (size_t)targets[t] * ld;
                y[nv] = z + (size_t)nv * ld;
                tv[nv++] = t;
            }
        if (nv)
            tl_la_symv_multi(a, ld, ld, x, nv, y);
        for (int v = 0; v < nv; v++)
            explain_one(rows, nh, k, ld, y[v], conf, pos, con, max, why + (size_t)tv[v] * max,
                        contrib + (size_t)tv[v] * max, &got[tv[v]]);
    }
    rc = 0;
out:
    tl_la_free(rows);
    free(con);
    free(pos);
    return rc;
}

tl_err tl_ials_view_get(const tl_model *m, tl_ials_view *out)
{
    const ials_state *st = state_of(m);
    if (!st)
        return TL_EINVAL;
    out->n_users = st->n_users;
    out->n_items = st->n_items;
    out->factors = st->k;
    out->ld = st->ld;
    out->user_factors = st->user;
    out->item_factors = st->item;
    out->yty = st->yty;
    return TL_OK;
}

tl_err tl_ials_fold_in(const tl_model *m, const int32_t *items, const float *w, int32_t n,
                       float *out_vec)
{
    const ials_state *st = state_of(m);
    if (!st)
        return TL_EINVAL;
    float *scr = tl_la_alloc(fold_scratch(st) + st->ld);
    if (!scr)
        return TL_ENOMEM;
    float *v = scr + fold_scratch(st);
    const ials_cfg *cfg = m->cfg;
    int bad = fold_in(st, (float)cfg->alpha, (float)cfg->reg, items, w, n, v, scr);
    memcpy(out_vec, v, (size_t)st->k * sizeof(float));
    tl_la_free(scr);
    return bad ? TL_ENUMERIC : TL_OK;
}

tl_err tl_ials_loss(const tl_model *m, const tl_csr *ui, double *out)
{
    const ials_state *st = state_of(m);
    if (!st || ui->nrows != st->n_users || ui->ncols != st->n_items)
        return TL_EINVAL;
    int k = st->k, ld = st->ld;
    const ials_cfg *cfg = m->cfg;
    double alpha = cfg->alpha, reg = cfg->reg;
    double total = 0, norms = 0;
    /* Dense part for every cell (p = 0, c = 1): sum_u x_u^T YtY x_u; then correct the cells
     * of ui: c (1 - s)^2 replaces s^2. */
#pragma omp parallel for schedule(static) reduction(+ : total, norms) if (ui->nnz > 100000)
    for (int32_t u = 0; u < st->n_users; u++) {
        const float *x = st->user + (size_t)u * ld;
        double q = 0, nx = 0;
        for (int a = 0; a < k; a++) {
            double ya = 0;
            for (int b = 0; b < k; b++)
                ya += (double)st->yty[(size_t)a * k + b] * x[b];
            q += ya * x[a];
            nx += (double)x[a] * x[a];
        }
        for (int64_t p = ui->indptr[u]; p < ui->indptr[u + 1]; p++) {
            const float *y = st->item + (size_t)ui->indices[p] * ld;
            double s = 0;
            for (int a = 0; a < k; a++)
                s += (double)x[a] * y[a];
            double c = 1 + alpha * ui->data[p];
            q += c * (1 - s) * (1 - s) - s * s;
        }
        total += q;
        norms += nx;
    }
    for (int32_t i = 0; i < st->n_items; i++)
        for (int a = 0; a < k; a++) {
            double y = st->item[(size_t)i * ld + a];
            norms += y * y;
        }
    *out = total + reg * norms;
    return TL_OK;
}

const tl_ials_epoch *tl_ials_epochs(const tl_model *m, int *n)
{
    const ials_state *st = state_of(m);
    if (!st || !st->epochs)
        return NULL;
    *n = st->n_epochs;
    return st->epochs;
}

/* reg's centre: the geometric mean of the average item's and the average user's number of
 * interactions (how much data a row's normal equations hold against the prior); alpha's: 2
 * over the mean weight (confidence 1 + alpha w, so the scale of the weights cancels). */
static double tune_centre(const tl_model *m, const tl_data *d, const char *param)
{
    (void)m;
    int32_t users = 0, items = 0;
    double wsum = 0;
    for (int32_t u = 0; u < d->ui.nrows; u++)
        users += d->ui.indptr[u + 1] > d->ui.indptr[u];
    for (int32_t i = 0; i < d->iu.nrows; i++)
        items += d->iu.indptr[i + 1] > d->iu.indptr[i];
    for (int64_t p = 0; p < d->ui.nnz; p++)
        wsum += d->ui.data[p];
    if (!users || !items || !(wsum > 0))
        return 0;
    if (strcmp(param, "reg") == 0)
        return fmax(1.0, sqrt((double)d->ui.nnz / items * ((double)d->ui.nnz / users)));
    if (strcmp(param, "alpha") == 0)
        return 2.0 * (double)d->ui.nnz / wsum;
    return 0;
}

/* Per epoch: the confidence-weighted products over the interactions and the per-row solves
 * (CG steps, or a Cholesky factorization per row). */
static double fit_work(const tl_model *m, const tl_data *d)
{
    const ials_cfg *cfg = m->cfg;
    double ld = tl_la_pad(cfg->factors);
    double rows = (double)d->ui.nrows + d->iu.nrows;
    double steps = cfg->cg_steps;
    double epoch = strcmp(cfg->solver, "cholesky") == 0
                       ? (double)d->ui.nnz * ld * ld + rows * ld * ld * ld / 3
                       : (double)d->ui.nnz * ld * (2 + 2 * steps) + rows * ld * ld * steps;
    return epoch * cfg->iterations;
}

const tl_model_ops tl_ials_ops = {
    .name = "ials",
    .summary = "implicit ALS matrix factorization (Hu, Koren & Volinsky), CG or Cholesky",
    TL_MODEL_PARAMS(params, ials_cfg),
    .tune_grid = "reg=~30;alpha=~30;factors=64,128",
    .tune_centre = tune_centre,
    .tune_screen = "iterations=6",
    .fit_work = fit_work,
    .distributed = 1,
    .fit = fit,
    .scratch_floats = scratch_floats,
    .score = score,
    .score_items = score_items,
    .score_block = score_block,
    .save = save,
    .load = load,
    .release = release,
    .explain = explain,
    .explain_many = explain_many,
};
