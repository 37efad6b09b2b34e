/* Validation-based choice of a model's defaults: a grid over the model's tune_grid, each point
 * fit on the validation-train part and scored by nDCG@10 on the held-out part. */
#include "eval/autotune.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/holdout.h"
#include "core/metrics.h"
#include "util/clock.h"

#define MAX_AXES 4
#define MAX_VALUES 8
#define TUNE_SEED 42
#define MAX_FOLDS 2
#define TL_AUTOTUNE_MAX_NNZ 3000000
#define TL_AUTOTUNE_BUDGET_S 120

typedef struct {
    char name[32];
    char values[MAX_VALUES][24];
    int n;
} axis;

/* "a=1,2;b=x,y" -> axes. Returns the number of axes, -1 when malformed. */
static int parse_grid(const char *g, axis *ax)
{
    int na = 0;
    while (*g) {
        if (na == MAX_AXES)
            return -1;
        const char *eq = strchr(g, '=');
        const char *semi = strchr(g, ';');
        if (!eq || (semi && semi < eq) || (size_t)(eq - g) >= sizeof(ax[na].name))
            return -1;
        memcpy(ax[na].name, g, (size_t)(eq - g));
        ax[na].name[eq - g] = '\0';
        ax[na].n = 0;
        const char *end = semi ? semi : eq + strlen(eq);
        for (const char *p = eq + 1; p < end;) {
            const char *comma = memchr(p, ',', (size_t)(end - p));
            size_t len = comma ? (size_t)(comma - p) : (size_t)(end - p);
            if (ax[na].n == MAX_VALUES || !len || len >= sizeof(ax[na].values[0]))
                return -1;
            memcpy(ax[na].values[ax[na].n], p, len);
            ax[na].values[ax[na].n++][len] = '\0';
            p += len + (comma ? 1 : 0);
        }
        na++;
        g = semi ? semi + 1 : end;
    }
    return na;
}

static int has_timestamps(const tl_csr *a)
{
    if (!a->ts)
        return 0;
    for (int64_t p = 0; p < a->nnz; p++)
        if (a->ts[p])
            return 1;
    return 0;
}

/* Fits a copy of m with the grid point's values on view and scores it on the held-out rows. */
static tl_err score_point(const tl_model *m, const axis *ax, int na, const int *pick,
                          const tl_data *view, const tl_csr *test, const int32_t *rows,
                          int32_t nrows, int32_t *recs, const tl_fit_hooks *inner, double *out,
                          tl_diag *diag)
{
    tl_model *c = NULL;
    char *text = NULL;
    tl_err rc = tl_model_new(m->ops->name, &c);
    if (rc != TL_OK)
        goto out;
    c->autotune = 0;
    if ((rc = tl_params_to_text(&m->params, &text)) != TL_OK ||
        (rc = tl_params_from_text(&c->params, text, diag)) != TL_OK)
        goto out;
    for (int a = 0; a < na; a++)
        if ((rc = tl_params_set(&c->params, ax[a].name, ax[a].values[pick[a]], diag)) != TL_OK)
            goto out;
    if ((rc = tl_model_fit(c, view, inner, diag)) != TL_OK)
        goto out;
    if ((rc = tl_model_recommend_rows(c, &view->ui, 1, rows, nrows, NULL, 10, recs, NULL)))
        goto out;
    double sum = 0;
    for (int32_t r = 0; r < nrows; r++) {
        int32_t u = rows[r];
        sum += tl_ndcg10_sorted(recs + (size_t)r * 10, 10, test->indices + test->indptr[u],
                                test->indptr[u + 1] - test->indptr[u]);
    }
    *out = nrows ? sum / nrows : 0;
out:
    free(text);
    tl_model_free(c);
    return rc;
}

/* One validation split: the training view (d's ids and catalogue, its own matrices), the
 * held-out rows, and the users scored (something held out, something left to learn from). */
typedef struct {
    tl_data view;
    tl_csr test;
    int32_t *rows;
    int32_t nrows;
} fold;

static void fold_release(fold *f)
{
    tl_csr_release(&f->view.ui);
    tl_csr_release(&f->view.iu);
    tl_csr_release(&f->test);
    free(f->rows);
    memset(f, 0, sizeof(*f));
}

static tl_err make_fold(const tl_data *d, tl_split_mode mode, uint64_t seed, fold *f)
{
    f->view = *d;
    memset(&f->view.ui, 0, sizeof(f->view.ui));
    memset(&f->view.iu, 0, sizeof(f->view.iu));
    tl_err rc = tl_holdout_split(d, mode, seed, 0, &f->view.ui, &f->test);
    if (rc != TL_OK || (rc = tl_csr_transpose(&f->view.ui, &f->view.iu)) != TL_OK)
        return rc;
    const tl_csr *tr = &f->view.ui, *te = &f->test;
    int32_t eligible = 0;
    for (int32_t u = 0; u < d->ui.nrows; u++)
        eligible += te->indptr[u + 1] > te->indptr[u] && tr->indptr[u + 1] > tr->indptr[u];
    int32_t stride = eligible > TL_AUTOTUNE_MAX_USERS
                         ? (eligible + TL_AUTOTUNE_MAX_USERS - 1) / TL_AUTOTUNE_MAX_USERS
                         : 1;
    if (!(f->rows = malloc(((size_t)eligible + 1) * sizeof(*f->rows))))
        return TL_ENOMEM;
    for (int32_t u = 0, seen = 0; u < d->ui.nrows; u++)
        if (te->indptr[u + 1] > te->indptr[u] && tr->indptr[u + 1] > tr->indptr[u])
            if (seen++ % stride == 0)
                f->rows[f->nrows++] = u;
    return TL_OK;
}

tl_err tl_autotune_hook(void *ctx, tl_model *m, const tl_data *d, const tl_fit_hooks *h,
                        tl_diag *diag)
{
    (void)ctx;
    return tl_autotune(m, d, h, diag);
}

tl_err tl_autotune(tl_model *m, const tl_data *d, const tl_fit_hooks *h, tl_diag *diag)
{
    tl_fit_hooks inner = {.cancelled = h ? h->cancelled : NULL, .ctx = h ? h->ctx : NULL};
    axis ax[MAX_AXES];
    const char *grid = m->ops->tune_grid;
    if (!grid || d->ui.nnz > TL_AUTOTUNE_MAX_NNZ || d->ui.nnz < 50)
        return TL_OK;
    int na = parse_grid(grid, ax);
    if (na <= 0)
        return TL_EINVAL; /* a malformed grid in a model table is a programmer's mistake */
    for (int a = 0; a < na; a++)
        if (tl_params_is_set(&m->params, ax[a].name))
            return TL_OK; /* the caller chose: respect it */

    fold folds[MAX_FOLDS];
    memset(folds, 0, sizeof(folds));
    int32_t *recs = NULL;
    tl_split_mode mode = has_timestamps(&d->ui) ? TL_SPLIT_TEMPORAL : TL_SPLIT_RANDOM;
    /* A temporal split is the same whatever the seed: one fold. Random splits average two
     * folds, which halves the chance of picking a setting on the noise of one split. */
    int nfolds = mode == TL_SPLIT_TEMPORAL ? 1 : MAX_FOLDS;
    int32_t maxrows = 0;
    tl_err rc = TL_OK;
    for (int f = 0; f < nfolds; f++) {
        if ((rc = make_fold(d, mode, TUNE_SEED + (uint64_t)f, &folds[f])) != TL_OK)
            goto out;
        if (folds[f].nrows < 10)
            goto out; /* too little to learn anything from: keep the defaults */
        if (folds[f].nrows > maxrows)
            maxrows = folds[f].nrows;
    }
    if (!(recs = malloc((size_t)maxrows * 10 * sizeof(*recs)))) {
        rc = TL_ENOMEM;
        goto out;
    }

    int pick[MAX_AXES] = {0}, best[MAX_AXES] = {0}, points = 0, total = 1;
    for (int a = 0; a < na; a++)
        total *= ax[a].n;
    double best_score = -1, t0 = tl_now();
    for (;;) {
        double s = 0;
        for (int f = 0; f < nfolds; f++) {
            double sf;
            if ((rc = score_point(m, ax, na, pick, &folds[f].view, &folds[f].test, folds[f].rows,
                                  folds[f].nrows, recs, &inner, &sf, diag)))
                goto out;
            s += sf / nfolds;
        }
        points++;
        double projected = (tl_now() - t0) * total / points;
        if (points == 1 && projected > TL_AUTOTUNE_BUDGET_S) {
            snprintf(m->tuned, sizeof(m->tuned),
                     "skipped: %d settings would take about %.0f s (budget %d s); defaults kept",
                     total, projected, TL_AUTOTUNE_BUDGET_S);
            goto out;
        }
        if (s > best_score) {
            best_score = s;
            memcpy(best, pick, sizeof(best));
        }
        int a = 0;
        while (a < na && ++pick[a] == ax[a].n)
            pick[a++] = 0;
        if (a == na)
            break;
    }
    size_t off = 0;
    for (int a = 0; a < na; a++) {
        if ((rc = tl_params_set_default(&m->params, ax[a].name, ax[a].values[best[a]], diag)))
            goto out;
        off += (size_t)snprintf(m->tuned + off, sizeof(m->tuned) - off, "%s=%s ", ax[a].name,
                                ax[a].values[best[a]]);
        if (off >= sizeof(m->tuned))
            off = sizeof(m->tuned) - 1;
    }
    snprintf(m->tuned + off, sizeof(m->tuned) - off,
             "(best validation nDCG@10 %.4f of %d settings, %s split of train x%d, %d users)",
             best_score, points, tl_holdout_mode_name(mode), nfolds, folds[0].nrows);
out:
    for (int f = 0; f < MAX_FOLDS; f++)
        fold_release(&folds[f]);
    free(recs);
    return rc;
}
