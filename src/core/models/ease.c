/* ease: Steck's (2019) shallow linear autoencoder in closed form: G = X^T X + lambda I,
 * P = G^-1 (Cholesky through LAPACK), B = -P / diag(P) with a zero diagonal; a user's scores
 * are their history row times B. The dense B costs n_items^2 floats, so the model refuses
 * catalogues beyond max_memory_mb unless asked for the pruned variant (sparse=1): the solve is
 * then restricted to the most-interacted items that fit, and B keeps its k largest |entries|
 * per row as a sparse item x item matrix. */
#include "core/models/item_models.h"
#include "core/models/ease_int.h"
#include "core/models/models.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/topk.h"

static const tl_param_def params[] = {
    TL_PARAM(tl__ease_cfg, lambda, "500", 0, 1e12, "L2 regularization added to the Gram diagonal"),
    TL_PARAM(tl__ease_cfg, max_memory_mb, "4096", 1, 1e9,
             "refuse (or, with sparse=1, shrink the solved item set) when the dense solve needs "
             "more"),
    TL_PARAM(tl__ease_cfg, sparse, "0", 0, 1,
             "1 = pruned EASE: solve over the most-interacted items that fit, keep the k largest "
             "|weights| per item"),
    TL_PARAM(tl__ease_cfg, k, "200", 1, 1e6, "sparse=1: weights kept per history item"),
    TL_PARAM(tl__ease_cfg, max_items, "0", 0, 1e9,
             "sparse=1: solve over at most this many items (0 = as many as max_memory_mb allows)"),
    TL_PARAM(tl__ease_cfg, min_count, "1", 1, 1e9,
             "items with fewer interactions are left out of the solve (they score 0)"),
    TL_PARAM(tl__ease_cfg, fp64, "0", 0, 1,
             "1 = accumulate and invert in float64 (twice the memory and time; float32 is "
             "accurate to ~1e-5 relative for the lambdas EASE uses)"),
};

#define SEC_ITEMS "ease_items"
#define SEC_B "ease_B"
#define SEC_PREFIX "ease_"
#define MB (1024.0 * 1024.0)
/* Rows per block when B is symmetrized and scaled: a block of rows and the matching block of
 * columns stay in cache together. */
#define TILE 64

typedef struct ease_state {
    tl_simmat sim;     /* sparse variant; first: tl_item_model_simmat reads it */
    int32_t n_items;   /* model items */
    int32_t m;         /* items in the solve */
    float *B;          /* m x m row-major (dense variant), or NULL */
    int32_t *items_of; /* m: solve index -> model item (ascending) */
    int32_t *pos_of;   /* n_items: model item -> solve index, -1 = not solved (always owned) */
    int owned;         /* B and items_of are malloc'd (0: they point into the model file) */
} ease_state;

static void release(tl_model *m)
{
    ease_state *s = m->state;
    if (!s)
        return;
    tl_simmat_release(&s->sim);
    if (s->owned) {
        free(s->B);
        free(s->items_of);
    }
    free(s->pos_of);
    free(s);
    m->state = NULL;
}

typedef struct cnt_item {
    int64_t cnt;
    int32_t item;
} cnt_item;

/* Most interactions first; ties to the lower index (deterministic). */
static int cmp_cnt_desc(const void *a, const void *b)
{
    const cnt_item *x = a, *y = b;
    if (x->cnt != y->cnt)
        return x->cnt > y->cnt ? -1 : 1;
    return (x->item > y->item) - (x->item < y->item);
}

/* Chooses the solved items: those with >= min_count interactions and, when limit > 0, only the
 * limit most interacted of them. Fills items_of (ascending) and pos_of; returns the count. */
static int32_t choose_items(const tl_csr *iu, int64_t min_count, int64_t limit, int32_t *items_of,
                            int32_t *pos_of, cnt_item *tmp)
{
    int32_t n = 0;
    for (int32_t i = 0; i < iu->nrows; i++) {
        int64_t c = iu->indptr[i + 1] - iu->indptr[i];
        pos_of[i] = -1;
        if (c >= min_count)
            tmp[n++] = (cnt_item){c, i};
    }
    if (limit > 0 && n > limit) {
        qsort(tmp, (size_t)n, sizeof(*tmp), cmp_cnt_desc);
        n = (int32_t)limit;
        for (int32_t r = 0; r < n; r++)
            pos_of[tmp[r].item] = 0;
        int32_t k = 0;
        for (int32_t i = 0; i < iu->nrows; i++)
            if (pos_of[i] == 0)
                items_of[k++] = i;
        n = k;
    } else {
        for (int32_t r = 0; r < n; r++)
            items_of[r] = tmp[r].item;
    }
    for (int32_t r = 0; r < n; r++)
        pos_of[items_of[r]] = r;
    return n;
}

/* The upper triangle (row-major, row <= col) of X^T X over the solved items, accumulated over
 * each user's pairs of items: O(sum of squared history lengths), which for interaction data is
 * far below the dense users x m^2 of a syrk. One row per OpenMP iteration, so no two threads
 * write the same row and the sums follow a fixed order. T is float or double (a type, hence
 * unparenthesized). */
/* NOLINTBEGIN(bugprone-macro-parentheses) */
#define GRAM_UPPER(T, G)                                                                           \
    do {                                                                                           \
        _Pragma("omp parallel for schedule(dynamic, 16)") for (int32_t r = 0; r < msz; r++)        \
        {                                                                                          \
            int32_t i = items_of[r];                                                               \
            T *row = (G) + (size_t)r * (size_t)msz;                                                \
            for (int64_t p = iu->indptr[i]; p < iu->indptr[i + 1]; p++) {                          \
                int32_t u = iu->indices[p];                                                        \
                T xi = (T)iu->data[p];                                                             \
                const int32_t *ix = ui->indices + ui->indptr[u];                                   \
                const float *xv = ui->data + ui->indptr[u];                                        \
                int64_t len = ui->indptr[u + 1] - ui->indptr[u];                                   \
                for (int64_t q = 0; q < len; q++) {                                                \
                    int32_t c = pos_of[ix[q]];                                                     \
                    if (c >= r)                                                                    \
                        row[c] += xi * (T)xv[q];                                                   \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
    } while (0)

/* From the inverse's upper triangle P (row <= col) to B = -P / diag(P), diag(B) = 0, in place.
 * B is not symmetric: B[r][c] = -P[r][c] / P[c][c]. Tiles keep both halves cache-resident. */
#define SCALE_B(T, P, dg)                                                                          \
    do {                                                                                           \
        for (int32_t r = 0; r < msz; r++)                                                          \
            (dg)[r] = (double)(P)[(size_t)r * msz + r];                                            \
        _Pragma("omp parallel for schedule(dynamic, 1)") for (int32_t r0 = 0; r0 < msz;            \
                                                              r0 += TILE)                          \
        {                                                                                          \
            int32_t r1 = r0 + TILE < msz ? r0 + TILE : msz;                                        \
            for (int32_t c0 = r0; c0 < msz; c0 += TILE) {                                          \
                int32_t c1 = c0 + TILE < msz ? c0 + TILE : msz;                                    \
                for (int32_t r = r0; r < r1; r++) {                                                \
                    for (int32_t c = c0 > r ? c0 : r + 1; c < c1; c++) {                           \
                        T v = (P)[(size_t)r * msz + c];                                            \
                        (P)[(size_t)r * msz + c] = (T)(-(double)v / (dg)[c]);                      \
                        (P)[(size_t)c * msz + r] = (T)(-(double)v / (dg)[r]);                      \
                    }                                                                              \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
        for (int32_t r = 0; r < msz; r++)                                                          \
            (P)[(size_t)r * msz + r] = 0;                                                          \
    } while (0)

/* NOLINTEND(bugprone-macro-parentheses) */

/* Dense B through the users' side, for catalogues wider than their readership (5,000 readers
 * of 17,000 articles): with K = X X^T + lambda I (users x users) and M = X^T K^-1 X, the
 * push-through identity gives P = (I - M) / lambda, hence B_ij = M_ij / (1 - M_jj) and
 * B_jj = 0. It costs users^3 and users x interactions, not items^3. users[0..mu) are the users
 * with a solved item. K^-1 is solved in double; M's rows are summed in double. */
static tl_err solve_dual(const tl_data *d, const int32_t *items_of, const int32_t *pos_of,
                         int32_t msz, const int32_t *users, int32_t mu, double lambda, float *B,
                         tl_diag *diag)
{
    const tl_csr *ui = &d->ui, *iu = &d->iu;
    tl_err rc = TL_ENOMEM;
    int32_t *slot = malloc(((size_t)ui->nrows + 1) * sizeof(*slot));
    double *K = calloc((size_t)mu * (size_t)mu + 1, sizeof(*K));
    float *Y = malloc(((size_t)mu * (size_t)msz + 1) * sizeof(*Y));
    lapack_int info = 0;
    if (!slot || !K || !Y)
        goto out;
    for (int32_t u = 0; u < ui->nrows; u++)
        slot[u] = -1;
    for (int32_t r = 0; r < mu; r++)
        slot[users[r]] = r;
        /* K's lower triangle, column-major (= upper, row-major): user r against users >= r. */
#pragma omp parallel for schedule(dynamic, 16)
    for (int32_t r = 0; r < mu; r++) {
        double *row = K + (size_t)r * (size_t)mu;
        int32_t u = users[r];
        for (int64_t k = ui->indptr[u]; k < ui->indptr[u + 1]; k++) {
            if (pos_of[ui->indices[k]] < 0)
                continue;
            double x = ui->data[k];
            int32_t i = ui->indices[k];
            for (int64_t l = iu->indptr[i]; l < iu->indptr[i + 1]; l++) {
                int32_t c = slot[iu->indices[l]];
                if (c >= r)
                    row[c] += x * iu->data[l];
            }
        }
        row[r] += lambda;
    }
    info = LAPACKE_dpotrf_work(LAPACK_COL_MAJOR, 'L', mu, K, mu);
    if (!info)
        info = LAPACKE_dpotri_work(LAPACK_COL_MAJOR, 'L', mu, K, mu);
    if (info) {
        tl_diag_set(diag, NULL, 0, "lambda",
                    "X X^T + lambda I is not positive definite (LAPACK info %d): raise lambda",
                    (int)info);
        rc = TL_EINVAL;
        goto out;
    }
    /* Mirror the triangle: K is symmetric, rows are read whole below. */
    for (int32_t r = 0; r < mu; r++)
        for (int32_t c = r + 1; c < mu; c++)
            K[(size_t)c * mu + r] = K[(size_t)r * mu + c];
            /* Y = K^-1 X (users x solved items): row r sums user v's solved row times K^-1[r][v].
             */
#pragma omp parallel
    {
        double *acc = malloc(((size_t)msz + 1) * sizeof(*acc));
#pragma omp for schedule(dynamic, 8)
        for (int32_t r = 0; r < mu; r++) {
            if (!acc)
                continue;
            memset(acc, 0, (size_t)msz * sizeof(*acc));
            const double *kr = K + (size_t)r * mu;
            for (int32_t v = 0; v < mu; v++) {
                double c = kr[v];
                int32_t uv = users[v];
                for (int64_t l = ui->indptr[uv]; l < ui->indptr[uv + 1]; l++) {
                    int32_t j = pos_of[ui->indices[l]];
                    if (j >= 0)
                        acc[j] += c * ui->data[l];
                }
            }
            float *y = Y + (size_t)r * msz;
            for (int32_t j = 0; j < msz; j++)
                y[j] = (float)acc[j];
        }
        if (!acc) {
#pragma omp atomic write
            info = -1;
        }
        free(acc);
    }
    if (info)
        goto out;
    /* M = X^T Y: row i of M sums the Y rows of item i's users; B from M, row by row. */
    double *mdiag = malloc(((size_t)msz + 1) * sizeof(*mdiag));
    if (!mdiag)
        goto out;
    for (int32_t j = 0; j < msz; j++) {
        double s = 0;
        int32_t item = items_of[j];
        for (int64_t l = iu->indptr[item]; l < iu->indptr[item + 1]; l++) {
            int32_t r = slot[iu->indices[l]];
            if (r >= 0)
                s += (double)iu->data[l] * Y[(size_t)r * msz + j];
        }
        mdiag[j] = s;
    }
#pragma omp parallel
    {
        double *acc = malloc(((size_t)msz + 1) * sizeof(*acc));
#pragma omp for schedule(dynamic, 8)
        for (int32_t i = 0; i < msz; i++) {
            if (!acc)
                continue;
            memset(acc, 0, (size_t)msz * sizeof(*acc));
            int32_t item = items_of[i];
            for (int64_t l = iu->indptr[item]; l < iu->indptr[item + 1]; l++) {
                int32_t r = slot[iu->indices[l]];
                if (r < 0)
                    continue;
                double x = iu->data[l];
                const float *y = Y + (size_t)r * msz;
                for (int32_t j = 0; j < msz; j++)
                    acc[j] += x * y[j];
            }
            float *b = B + (size_t)i * msz;
            for (int32_t j = 0; j < msz; j++) {
                double den = 1.0 - mdiag[j];
                b[j] = j == i ? 0.0f : (float)(acc[j] / (den > 1e-12 ? den : 1e-12));
            }
        }
        if (!acc) {
#pragma omp atomic write
            info = -1;
        }
        free(acc);
    }
    free(mdiag);
    if (info)
        goto out;
    rc = TL_OK;
out:
    free(slot);
    free(K);
    free(Y);
    return rc;
}

/* Dense B (msz x msz floats, row-major) for the solved items. */
static tl_err solve_dense(const tl_data *d, const int32_t *items_of, const int32_t *pos_of,
                          int32_t msz, double lambda, int fp64, float **out, tl_diag *diag)
{
    const tl_csr *iu = &d->iu, *ui = &d->ui;
    size_t nn = (size_t)msz * (size_t)msz;
    tl_err rc = TL_ENOMEM;
    /* Fewer readers than solved items: the users' side is the smaller solve. */
    int32_t *users = malloc(((size_t)ui->nrows + 1) * sizeof(*users)), mu = 0;
    if (!users)
        return TL_ENOMEM;
    for (int32_t u = 0; u < ui->nrows; u++) {
        int has = 0;
        for (int64_t k = ui->indptr[u]; k < ui->indptr[u + 1] && !has; k++)
            has = pos_of[ui->indices[k]] >= 0;
        if (has)
            users[mu++] = u;
    }
    if ((double)mu < 0.8 * msz) {
        float *B = malloc((nn ? nn : 1) * sizeof(*B));
        rc = B ? solve_dual(d, items_of, pos_of, msz, users, mu, lambda, B, diag) : TL_ENOMEM;
        free(users);
        if (rc == TL_OK)
            *out = B;
        else
            free(B);
        return rc;
    }
    free(users);
    double *dg = malloc(((size_t)msz + 1) * sizeof(*dg));
    void *buf = calloc(nn ? nn : 1, fp64 ? sizeof(double) : sizeof(float));
    lapack_int info = 0;
    if (!dg || !buf)
        goto out;
    /* Row-major upper == column-major lower: LAPACK works on the same bytes, no transposed copy
     * (LAPACKE's row-major path would allocate a second n^2 matrix). */
    if (fp64) {
        double *G = buf;
        GRAM_UPPER(double, G);
        for (int32_t r = 0; r < msz; r++)
            G[(size_t)r * msz + r] += lambda;
        info = LAPACKE_dpotrf_work(LAPACK_COL_MAJOR, 'L', msz, G, msz);
        if (!info)
            info = LAPACKE_dpotri_work(LAPACK_COL_MAJOR, 'L', msz, G, msz);
        if (!info) {
            SCALE_B(double, G, dg);
            /* float k sits at bytes [4k, 4k + 4), before double k + 1: forward is safe. */
            float *F = buf;
            for (size_t e = 0; e < nn; e++)
                F[e] = (float)G[e];
            void *shrunk = realloc(buf, (nn ? nn : 1) * sizeof(float));
            if (shrunk)
                buf = shrunk;
        }
    } else {
        float *G = buf;
        GRAM_UPPER(float, G);
        for (int32_t r = 0; r < msz; r++)
            G[(size_t)r * msz + r] += (float)lambda;
        info = LAPACKE_spotrf_work(LAPACK_COL_MAJOR, 'L', msz, G, msz);
        if (!info)
            info = LAPACKE_spotri_work(LAPACK_COL_MAJOR, 'L', msz, G, msz);
        if (!info)
            SCALE_B(float, G, dg);
    }
    if (info) {
        tl_diag_set(diag, NULL, 0, "lambda",
                    "X^T X + lambda I is not positive definite (LAPACK info %d): raise lambda",
                    (int)info);
        rc = TL_EINVAL;
        goto out;
    }
    *out = buf;
    buf = NULL;
    rc = TL_OK;
out:
    free(dg);
    free(buf);
    return rc;
}

typedef struct prune_ctx {
    const float *B;
    const int32_t *items_of, *pos_of;
    int32_t m;
} prune_ctx;

/* Row of model item i in the pruned matrix: the dense row of its solve index, mapped back. */
static void prune_row(const void *vctx, int32_t i, tl_simacc *acc)
{
    const prune_ctx *c = vctx;
    int32_t r = c->pos_of[i];
    if (r < 0)
        return;
    const float *row = c->B + (size_t)r * c->m;
    for (int32_t k = 0; k < c->m; k++)
        if (row[k] != 0.0f)
            tl_simacc_add(acc, c->items_of[k], row[k]);
}

static tl_err fit(tl_model *m, const tl_data *d, tl_diag *diag)
{
    const tl__ease_cfg *cfg = m->cfg;
    double lambda = cfg->lambda;
    int sparse = cfg->sparse;
    int fp64 = cfg->fp64;
    int64_t min_count = cfg->min_count;
    int64_t max_items = cfg->max_items;
    double max_mb = cfg->max_memory_mb;
    double elem = fp64 ? sizeof(double) : sizeof(float);
    int32_t ni = d->iu.nrows;
    tl_err rc = tl_simmat_check_data(d, m->n_items, diag);
    if (rc != TL_OK)
        return rc;
    rc = TL_ENOMEM;
    float *B = NULL;
    cnt_item *tmp = malloc(((size_t)ni + 1) * sizeof(*tmp));
    ease_state *s = calloc(1, sizeof(*s));
    if (!tmp || !s)
        goto out;
    s->owned = 1;
    s->n_items = ni;
    s->items_of = malloc(((size_t)ni + 1) * sizeof(*s->items_of));
    s->pos_of = malloc(((size_t)ni + 1) * sizeof(*s->pos_of));
    if (!s->items_of || !s->pos_of)
        goto out;
    int64_t limit = 0;
    if (sparse) {
        /* The largest solve that fits: m^2 * elem bytes within the budget. */
        limit = (int64_t)floor(sqrt(max_mb * MB / elem));
        if (max_items > 0 && max_items < limit)
            limit = max_items;
        if (limit < 1)
            limit = 1;
    }
    int32_t msz = choose_items(&d->iu, min_count, limit, s->items_of, s->pos_of, tmp);
    double need_mb = ceil((double)msz * (double)msz * elem / MB);
    if (need_mb > max_mb) {
        tl_diag_set(diag, NULL, 0, "max_memory_mb",
                    "EASE needs %.0f MB for %d items; allowed %.0f MB; use sparse=1 or raise "
                    "max_memory_mb",
                    need_mb, msz, max_mb);
        rc = TL_ETOOBIG;
        goto out;
    }
    s->m = msz;
    if ((rc = solve_dense(d, s->items_of, s->pos_of, msz, lambda, fp64, &B, diag)) != TL_OK)
        goto out;
    if (sparse) {
        prune_ctx c = {B, s->items_of, s->pos_of, msz};
        tl_simmat_opts o = {.k = cfg->k, .by_abs = 1};
        if ((rc = tl_simmat_build(ni, &o, prune_row, &c, &s->sim)) != TL_OK)
            goto out;
        free(B);
    } else {
        s->B = B;
    }
    B = NULL;
    release(m);
    m->state = s;
    s = NULL;
    rc = TL_OK;
out:
    if (s) {
        tl_simmat_release(&s->sim);
        free(s->items_of);
        free(s->pos_of);
        free(s);
    }
    free(B);
    free(tmp);
    return rc;
}

static size_t scratch_floats(const tl_model *m)
{
    const ease_state *s = m->state;
    return s && s->B ? (size_t)s->m : 0;
}

/* Dense scores of one history into the solve's index space (acc, m floats). */
static void dense_row(const ease_state *s, const int32_t *items, const float *w, int32_t n,
                      float *restrict acc)
{
    memset(acc, 0, (size_t)s->m * sizeof(*acc));
    for (int32_t h = 0; h < n; h++) {
        int32_t j = items[h];
        int32_t r = (j >= 0 && j < s->n_items) ? s->pos_of[j] : -1;
        if (r < 0)
            continue;
        /* A plain loop, not cblas_saxpy: this runs inside OpenMP regions, where the pthread
         * OpenBLAS would start its own threads on top of ours. */
        const float *restrict brow = s->B + (size_t)r * s->m;
        float wh = w ? w[h] : 1.0f;
        for (int32_t c = 0; c < s->m; c++)
            acc[c] += wh * brow[c];
    }
}

static tl_err score(const tl_model *m, int32_t uidx, const int32_t *items, const float *w,
                    int32_t n, float *scores, float *scratch)
{
    const ease_state *s = m->state;
    if (!s->B) {
        return tl__item_sim_score(m, uidx, items, w, n, scores, scratch);
    }
    if (!s->m) { /* nothing was solved (no item had min_count interactions) */
        memset(scores, 0, (size_t)s->n_items * sizeof(*scores));
        return TL_OK;
    }
    if (s->m == s->n_items) { /* every item solved: the solve order is the model order */
        dense_row(s, items, w, n, scores);
        return TL_OK;
    }
    dense_row(s, items, w, n, scratch);
    memset(scores, 0, (size_t)s->n_items * sizeof(*scores));
    for (int32_t r = 0; r < s->m; r++)
        scores[s->items_of[r]] = scratch[r];
    return TL_OK;
}

/* Batched scoring. With every item solved and long histories, X_block (dense) x B through
 * sgemm; otherwise each row is a sum of B's rows (sparse x dense), which costs history length
 * x m per user instead of m^2 and wins for interaction data. */
static void score_block(const tl_model *m, const tl_csr *ui, int users_match, const int32_t *rows,
                        int32_t n_rows, float *out)
{
    const ease_state *s = m->state;
    int32_t ni = s->n_items;
    (void)users_match;
    int64_t nnz = 0;
    for (int32_t r = 0; r < n_rows; r++)
        nnz += ui->indptr[rows[r] + 1] - ui->indptr[rows[r]];
    /* sgemm runs ~30x more flops per second than the memory-bound row sums here, so it pays
     * once the average history is longer than m / 30. */
    float *X = NULL;
    if (s->B && s->m == ni && nnz * 30 > (int64_t)n_rows * s->m)
        X = calloc((size_t)n_rows * (size_t)ni, sizeof(*X));
    if (X) {
        for (int32_t r = 0; r < n_rows; r++) {
            int32_t u = rows[r];
            for (int64_t q = ui->indptr[u]; q < ui->indptr[u + 1]; q++)
                if (ui->indices[q] >= 0 && ui->indices[q] < ni)
                    X[(size_t)r * ni + ui->indices[q]] += ui->data[q];
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n_rows, ni, ni, 1.0f, X, ni, s->B,
                    ni, 0.0f, out, ni);
        free(X);
        return;
    }
    /* Without scratch: scatter the solve's columns straight into the output row. */
#pragma omp parallel for schedule(dynamic, 4)
    for (int32_t r = 0; r < n_rows; r++) {
        int32_t u = rows[r];
        const int32_t *items = ui->indices + ui->indptr[u];
        const float *w = ui->data + ui->indptr[u];
        int32_t n = (int32_t)(ui->indptr[u + 1] - ui->indptr[u]);
        float *o = out + (size_t)r * ni;
        if (!s->B) {
            tl_simmat_score(&s->sim, items, w, n, o);
        } else if (s->m == ni) {
            dense_row(s, items, w, n, o);
        } else {
            memset(o, 0, (size_t)ni * sizeof(*o));
            for (int32_t h = 0; h < n; h++) {
                int32_t j = items[h];
                int32_t pr = (j >= 0 && j < ni) ? s->pos_of[j] : -1;
                if (pr < 0)
                    continue;
                const float *brow = s->B + (size_t)pr * s->m;
                for (int32_t c = 0; c < s->m; c++)
                    o[s->items_of[c]] += w[h] * brow[c];
            }
        }
    }
}

static int explain(const tl_model *m, int32_t uidx, const int32_t *items, const float *w, int32_t n,
                   int32_t item, int32_t *why, float *contrib, int max)
{
    const ease_state *s = m->state;
    if (!s->B)
        return tl__item_sim_explain(m, uidx, items, w, n, item, why, contrib, max);
    int32_t c = (item >= 0 && item < s->n_items) ? s->pos_of[item] : -1;
    int got = 0;
    if (c < 0 || max <= 0)
        return 0;
    for (int32_t h = 0; h < n; h++) {
        int32_t r = (items[h] >= 0 && items[h] < s->n_items) ? s->pos_of[items[h]] : -1;
        float v = r < 0 ? 0.0f : (w ? w[h] : 1.0f) * s->B[(size_t)r * s->m + c];
        if (v > 0.0f)
            got = tl_topk_insert(why, contrib, got, max, h, v);
    }
    return got;
}

static tl_err save(const tl_model *m, tl_mfile_writer *w)
{
    const ease_state *s = m->state;
    tl_err rc = tl_mfile_add(w, SEC_ITEMS, TL_MT_I32, s->items_of, (uint64_t)s->m);
    if (rc != TL_OK)
        return rc;
    if (s->B)
        return tl_mfile_add(w, SEC_B, TL_MT_F32, s->B, (uint64_t)s->m * (uint64_t)s->m);
    return tl_simmat_save(&s->sim, SEC_PREFIX, w);
}

static tl_err load(tl_model *m, const tl_mfile *f, tl_diag *diag)
{
    uint64_t ni = 0, nb = 0;
    const int32_t *items = tl_mfile_get(f, SEC_ITEMS, TL_MT_I32, &ni);
    const float *B = tl_mfile_get(f, SEC_B, TL_MT_F32, &nb);
    tl_err rc = TL_ECORRUPT;
    ease_state *s = NULL;
    if (!items && ni) /* an empty solve has no section data */
        goto corrupt;
    if (ni > (uint64_t)m->n_items)
        goto corrupt;
    for (uint64_t r = 0; r < ni; r++)
        if (items[r] < 0 || items[r] >= m->n_items || (r && items[r] <= items[r - 1]))
            goto corrupt;
    if (B && nb != ni * ni)
        goto corrupt;
    rc = TL_ENOMEM;
    if (!(s = calloc(1, sizeof(*s))) ||
        !(s->pos_of = malloc(((size_t)m->n_items + 1) * sizeof(*s->pos_of))))
        goto fail;
    s->n_items = m->n_items;
    s->m = (int32_t)ni;
    s->items_of = (int32_t *)items;
    for (int32_t i = 0; i < m->n_items; i++)
        s->pos_of[i] = -1;
    for (int32_t r = 0; r < s->m; r++)
        s->pos_of[items[r]] = r;
    if (B) {
        s->B = (float *)B;
    } else if ((rc = tl_simmat_load(&s->sim, f, SEC_PREFIX, m->n_items, diag)) != TL_OK) {
        goto fail;
    }
    release(m);
    m->state = s;
    return TL_OK;
corrupt:
    tl_diag_set(diag, NULL, 0, SEC_ITEMS, "missing or inconsistent EASE sections");
fail:
    if (s) {
        free(s->pos_of);
        free(s);
    }
    return rc;
}

/* lambda's centre: the geometric mean of the Gram diagonal's mean and maximum (how much
 * evidence an average and the most popular item carry). The optimum ranges over about two
 * orders of magnitude across data sets (20 on sparse articles, 500 on MovieLens-100k); the
 * search spans thirty times either way. */
static double tune_centre(const tl_model *m, const tl_data *d, const char *param)
{
    (void)m;
    if (strcmp(param, "lambda") != 0 || !d->iu.nrows)
        return 0;
    double sum = 0, mx = 0;
    int32_t used = 0;
    for (int32_t i = 0; i < d->iu.nrows; i++) {
        double g = 0;
        for (int64_t k = d->iu.indptr[i]; k < d->iu.indptr[i + 1]; k++)
            g += (double)d->iu.data[k] * d->iu.data[k];
        sum += g;
        mx = g > mx ? g : mx;
        used += g > 0;
    }
    return used ? sqrt(sum / used * mx) : 0;
}

/* The Gram (sum of squared history lengths) and the n^3 inverse over the solved items. */
static double fit_work(const tl_model *m, const tl_data *d)
{
    int64_t min_count = ((const tl__ease_cfg *)m->cfg)->min_count;
    double n = 0;
    for (int32_t i = 0; i < d->iu.nrows; i++)
        n += d->iu.indptr[i + 1] - d->iu.indptr[i] >= min_count;
    return tl_csr_sum_sq_rows(&d->ui) + n * n * n;
}

const float *tl_ease_dense(const tl_model *m, const int32_t **items_of, int32_t *n_solved)
{
    if (!m || m->ops != &tl_ease_ops || !m->state)
        return NULL;
    const ease_state *s = m->state;
    if (items_of)
        *items_of = s->items_of;
    if (n_solved)
        *n_solved = s->m;
    return s->B;
}

const tl_model_ops tl_ease_ops = {
    .name = "ease",
    .summary = "EASE (Steck 2019): closed-form item-item linear autoencoder, dense or pruned",
    TL_MODEL_PARAMS(params, tl__ease_cfg),
    .tune_grid = "lambda=~30",
    .tune_centre = tune_centre,
    .fit_work = fit_work,
    .tune_path = tl__ease_tune_path,
    .fit = fit,
    .scratch_floats = scratch_floats,
    .score = score,
    .score_block = score_block,
    .save = save,
    .load = load,
    .release = release,
    .explain = explain,
};
