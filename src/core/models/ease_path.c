/* EASE for many lambdas at once, for the search of its one parameter: one eigendecomposition
 * of the smaller Gram, then each lambda costs a matrix product over the validation users
 * instead of a new n^3 inverse.
 *
 * With G = X^T X + lambda I and P = G^-1, B = I - P diag(P)^-1, so a user's score of an item j
 * outside their history is -(x P)_j / P_jj. Primal (items <= users): X^T X = V E V^T gives
 * x P = (x V) (E + lambda)^-1 V^T and P_jj = sum_k V_jk^2 / (e_k + lambda). Dual (users <
 * items, e.g. 5k readers of 17k articles): with X X^T = U S U^T and Z = U^T X, the push-through
 * identity gives x P = (x - (x Z^T)(S + lambda)^-1 Z) / lambda, hence the score
 * ((x Z^T)(S + lambda)^-1 Z)_j / (1 - sum_k Z_kj^2 / (s_k + lambda)). Both are
 * A diag(w) Z with A = x Z^T per user, w_k = 1 / (eigenvalue_k + lambda). */
#include "core/models/item_models.h"
#include "core/models/ease_int.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/topk.h"

/* The decomposition's size at most: beyond it the dual runs on an evenly spaced sample of
 * this many users (dsyevd's work grows as its cube). */
#define PATH_MAX_DIM 4000
/* Validation users scored per matrix product. */
#define PATH_BLOCK 256

typedef struct path {
    int dual;
    int32_t q, n;      /* eigenpairs, solved items */
    double *evals;     /* q */
    float *Z;          /* q x n, row-major */
    int32_t *pos_of;   /* model item -> solved index, -1 */
    int32_t *items_of; /* n */
} path;

static void path_release(path *p)
{
    free(p->evals);
    free(p->Z);
    free(p->pos_of);
    free(p->items_of);
}

/* Eigenpairs of the q x q symmetric S (column-major, lower triangle filled; overwritten by
 * the eigenvectors as columns). */
static tl_err eigen(double *S, int32_t q, double *evals, tl_diag *diag)
{
    lapack_int info = LAPACKE_dsyevd(LAPACK_COL_MAJOR, 'V', 'L', q, S, q, evals);
    if (info) {
        tl_diag_set(diag, NULL, 0, "lambda", "eigendecomposition failed (LAPACK info %d)",
                    (int)info);
        return info < 0 ? TL_EINVAL : TL_ENOMEM;
    }
    for (int32_t k = 0; k < q; k++)
        evals[k] = evals[k] < 0 ? 0 : evals[k]; /* a Gram is semi-definite: rounding only */
    return TL_OK;
}

static tl_err build(const tl_data *d, int64_t min_count, path *p, tl_diag *diag)
{
    const tl_csr *ui = &d->ui, *iu = &d->iu;
    int32_t ni = iu->nrows;
    tl_err rc = TL_ENOMEM;
    double *S = NULL;
    int32_t *users = NULL, mu = 0;
    p->pos_of = malloc(((size_t)ni + 1) * sizeof(*p->pos_of));
    p->items_of = malloc(((size_t)ni + 1) * sizeof(*p->items_of));
    users = malloc(((size_t)ui->nrows + 1) * sizeof(*users));
    if (!p->pos_of || !p->items_of || !users)
        goto out;
    p->n = 0;
    for (int32_t i = 0; i < ni; i++) {
        p->pos_of[i] = iu->indptr[i + 1] - iu->indptr[i] >= min_count ? p->n : -1;
        if (p->pos_of[i] >= 0)
            p->items_of[p->n++] = i;
    }
    for (int32_t u = 0; u < ui->nrows; u++) {
        int has = 0;
        for (int64_t k = ui->indptr[u]; k < ui->indptr[u + 1] && !has; k++)
            has = p->pos_of[ui->indices[k]] >= 0;
        if (has)
            users[mu++] = u;
    }
    p->dual = mu < p->n || (p->n > PATH_MAX_DIM && mu > PATH_MAX_DIM);
    if (p->dual && mu > PATH_MAX_DIM) {
        for (int32_t k = 0; k < PATH_MAX_DIM; k++)
            users[k] = users[(int64_t)k * mu / PATH_MAX_DIM];
        mu = PATH_MAX_DIM;
    }
    int32_t q = p->q = p->dual ? mu : p->n, n = p->n;
    if (!(S = calloc((size_t)q * (size_t)q + 1, sizeof(*S))) ||
        !(p->evals = malloc(((size_t)q + 1) * sizeof(*p->evals))) ||
        !(p->Z = calloc((size_t)q * (size_t)n + 1, sizeof(*p->Z))))
        goto out;
    if (!p->dual) {
        /* G = X^T X, lower triangle in column-major = upper in row-major order of rows. */
#pragma omp parallel for schedule(dynamic, 16)
        for (int32_t r = 0; r < n; r++) {
            int32_t i = p->items_of[r];
            double *col = S + (size_t)r * (size_t)q;
            for (int64_t k = iu->indptr[i]; k < iu->indptr[i + 1]; k++) {
                int32_t u = iu->indices[k];
                double xi = iu->data[k];
                for (int64_t l = ui->indptr[u]; l < ui->indptr[u + 1]; l++) {
                    int32_t c = p->pos_of[ui->indices[l]];
                    if (c >= r)
                        col[c] += xi * ui->data[l];
                }
            }
        }
    } else {
        /* K = X X^T over the chosen users: row r of the users list against all of them. */
        int32_t *slot = malloc(((size_t)ui->nrows + 1) * sizeof(*slot));
        if (!slot)
            goto out;
        for (int32_t u = 0; u < ui->nrows; u++)
            slot[u] = -1;
        for (int32_t r = 0; r < mu; r++)
            slot[users[r]] = r;
#pragma omp parallel for schedule(dynamic, 16)
        for (int32_t r = 0; r < mu; r++) {
            int32_t u = users[r];
            double *col = S + (size_t)r * (size_t)q;
            for (int64_t k = ui->indptr[u]; k < ui->indptr[u + 1]; k++) {
                int32_t i = ui->indices[k];
                if (p->pos_of[i] < 0)
                    continue;
                double xu = ui->data[k];
                for (int64_t l = iu->indptr[i]; l < iu->indptr[i + 1]; l++) {
                    int32_t c = slot[iu->indices[l]];
                    if (c >= r)
                        col[c] += xu * iu->data[l];
                }
            }
        }
        free(slot);
    }
    if ((rc = eigen(S, q, p->evals, diag)) != TL_OK)
        goto out;
    if (!p->dual) {
        /* Z = V^T: row k of Z is eigenvector k, column k of S. */
        for (int32_t k = 0; k < q; k++)
            for (int32_t j = 0; j < n; j++)
                p->Z[(size_t)k * n + j] = (float)S[(size_t)k * q + j];
    } else {
        /* Z = U^T X: Z[k][j] = sum over chosen users v of U[v][k] x_vj. */
#pragma omp parallel for schedule(dynamic, 8)
        for (int32_t k = 0; k < q; k++) {
            const double *uk = S + (size_t)k * (size_t)q;
            float *zk = p->Z + (size_t)k * n;
            for (int32_t r = 0; r < mu; r++) {
                int32_t v = users[r];
                for (int64_t l = ui->indptr[v]; l < ui->indptr[v + 1]; l++) {
                    int32_t c = p->pos_of[ui->indices[l]];
                    if (c >= 0)
                        zk[c] += (float)(uk[r] * ui->data[l]);
                }
            }
        }
    }
    rc = TL_OK;
out:
    free(S);
    free(users);
    return rc;
}

tl_err tl__ease_tune_path(const tl_model *m, const tl_data *d, const char *param,
                          const double *values, int nv, const int32_t *rows, int32_t nrows,
                          const uint8_t *allow, int32_t *recs, tl_diag *diag)
{
    const tl__ease_cfg *cfg = m->cfg;
    if (strcmp(param, "lambda") != 0 || cfg->sparse)
        return TL_EUNSUPPORTED;
    path p;
    memset(&p, 0, sizeof(p));
    int32_t ni = d->iu.nrows;
    tl_err rc = build(d, cfg->min_count, &p, diag);
    int32_t q = p.q, n = p.n;
    float *A = NULL, *Aw = NULL, *W = NULL, *full = NULL;
    double *den = NULL;
    if (rc != TL_OK)
        goto out;
    rc = TL_ENOMEM;
    if (!(A = calloc((size_t)nrows * (size_t)q + 1, sizeof(*A))) ||
        !(Aw = malloc(((size_t)PATH_BLOCK * (size_t)q + 1) * sizeof(*Aw))) ||
        !(W = malloc(((size_t)PATH_BLOCK * (size_t)n + 1) * sizeof(*W))) ||
        !(full = malloc(((size_t)PATH_BLOCK * (size_t)ni + 1) * sizeof(*full))) ||
        !(den = malloc(((size_t)n + 1) * sizeof(*den))))
        goto out;
        /* A = x Z^T for every validation user: the sum of Z's columns over the history. */
#pragma omp parallel for schedule(dynamic, 16)
    for (int32_t r = 0; r < nrows; r++) {
        int32_t u = rows[r];
        float *a = A + (size_t)r * q;
        for (int64_t l = d->ui.indptr[u]; l < d->ui.indptr[u + 1]; l++) {
            int32_t c = p.pos_of[d->ui.indices[l]];
            if (c < 0)
                continue;
            float x = d->ui.data[l];
            for (int32_t k = 0; k < q; k++)
                a[k] += x * p.Z[(size_t)k * n + c];
        }
    }
    for (int v = 0; v < nv; v++) {
        double lambda = values[v];
#pragma omp parallel for schedule(static)
        for (int32_t j = 0; j < n; j++) {
            double s = 0;
            for (int32_t k = 0; k < q; k++) {
                double z = p.Z[(size_t)k * n + j];
                s += z * z / (p.evals[k] + lambda);
            }
            den[j] = p.dual ? 1.0 - s : s;
        }
        for (int32_t b0 = 0; b0 < nrows; b0 += PATH_BLOCK) {
            int32_t nb = nrows - b0 < PATH_BLOCK ? nrows - b0 : PATH_BLOCK;
            for (int32_t r = 0; r < nb; r++)
                for (int32_t k = 0; k < q; k++)
                    Aw[(size_t)r * q + k] =
                        (float)(A[(size_t)(b0 + r) * q + k] / (p.evals[k] + lambda));
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, nb, n, q, 1.0f, Aw, q, p.Z, n,
                        0.0f, W, n);
#pragma omp parallel for schedule(dynamic, 4)
            for (int32_t r = 0; r < nb; r++) {
                int32_t u = rows[b0 + r];
                float *s = full + (size_t)r * ni;
                const float *w = W + (size_t)r * n;
                for (int32_t i = 0; i < ni; i++)
                    s[i] = 0; /* unsolved items score 0, as the fitted model gives them */
                for (int32_t j = 0; j < n; j++) {
                    double dj = den[j] > 1e-12 ? den[j] : 1e-12;
                    s[p.items_of[j]] = (float)((p.dual ? w[j] : -w[j]) / dj);
                }
                for (int64_t l = d->ui.indptr[u]; l < d->ui.indptr[u + 1]; l++)
                    s[d->ui.indices[l]] = -INFINITY;
                for (int32_t i = 0; allow && i < ni; i++)
                    if (!allow[i])
                        s[i] = -INFINITY;
                int32_t *out = recs + ((size_t)v * (size_t)nrows + (size_t)(b0 + r)) * 10;
                float top[10];
                int got = tl_topk(s, ni, 10, out, top);
                for (int g = got; g < 10; g++)
                    out[g] = -1;
            }
        }
    }
    rc = TL_OK;
out:
    path_release(&p);
    free(A);
    free(Aw);
    free(W);
    free(full);
    free(den);
    return rc;
}
