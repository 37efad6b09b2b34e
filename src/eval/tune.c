/* Grid search on a validation split: the split from core/holdout, the scoring from
 * core/metrics, one fresh model per grid point. The validation data set borrows train's id maps
 * and catalogue (a shallow copy with its own matrices), so models see the same indices. */
#include "eval/tune.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/autotune.h"
#include "eval/grid.h"
#include "eval/split.h"
#include "ingest/matrix_tsv.h"
#include "util/clock.h"

#define MAX_POINTS 10000

const char *tl_tune_default_grid(const char *model)
{
    const tl_model_ops *ops = tl_model_find_ops(model);
    return ops ? ops->tune_grid : NULL;
}

void tl_tune_opts_init(tl_tune_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->mode = TL_SPLIT_RANDOM;
    o->seed = TL_HOLDOUT_DEFAULT_SEED;
    o->top_n = TL_METRICS_TOPN;
}

void tl_tune_result_release(tl_tune_result *r)
{
    for (int k = 0; k < r->n; k++)
        free(r->points[k].setting);
    free(r->points);
    memset(r, 0, sizeof(*r));
}

/* The grid's axes as lists of values: a "~F" axis becomes log-spaced values a half decade
 * apart from centre/F to centre*F, the centre from the model's data-derived rule (the one
 * autotune walks from), clipped to the parameter's range. */
static tl_err expand_axes(const tl_tune_opts *o, const tl_data *d, tl_grid *g, tl_diag *diag)
{
    tl_model *m = NULL;
    tl_err rc = tl_model_new(o->model, &m);
    for (int k = 0; rc == TL_OK && k < o->n_sets; k++)
        rc = tl_model_set(m, o->sets[k], diag);
    for (int a = 0; rc == TL_OK && a < g->n; a++) {
        tl_grid_axis *x = &g->ax[a];
        if (x->kind != TL_AXIS_LOG)
            continue;
        const tl_param_def *def = NULL;
        for (int k = 0; k < m->params.n; k++)
            if (strcmp(m->params.defs[k].name, x->key) == 0)
                def = &m->params.defs[k];
        if (!def || def->type == TL_PARAM_STR) {
            tl_diag_set(diag, NULL, 0, "grid", "'%s' is not a numeric parameter of %s", x->key,
                        o->model);
            rc = TL_EINVAL;
            break;
        }
        double c = tl_autotune_centre(m, d, x);
        int steps = (int)floor(log10(x->span) * 2 + 1e-9);
        x->n = 0;
        for (int k = -steps; k <= steps && x->n < TL_GRID_MAX_VALUES; k++) {
            double v = c * pow(10, k / 2.0);
            if (v < def->min || v > def->max)
                continue;
            if (def->type == TL_PARAM_INT)
                snprintf(x->values[x->n], TL_GRID_VALUE_MAX, "%.0f", v < 1 ? 1 : round(v));
            else
                snprintf(x->values[x->n], TL_GRID_VALUE_MAX, "%.3g", v);
            if (x->n && strcmp(x->values[x->n], x->values[x->n - 1]) == 0)
                continue;
            x->n++;
        }
        x->kind = TL_AXIS_VALUES;
    }
    tl_model_free(m);
    return rc;
}

/* Fits and scores one grid point. */
static tl_err run_point(const tl_tune_opts *o, const tl_data *v, const tl_csr *vte,
                        const char *setting, tl_tune_point *p, tl_diag *diag)
{
    tl_model *m = NULL;
    char kv[512];
    tl_err rc = tl_model_new(o->model, &m);
    if (rc != TL_OK) {
        tl_diag_set(diag, NULL, 0, NULL, "unknown model '%s'", o->model);
        return rc;
    }
    for (int k = 0; k < o->n_sets; k++)
        if ((rc = tl_model_set(m, o->sets[k], diag)) != TL_OK)
            goto out;
    for (const char *s = setting; *s;) {
        size_t n = strcspn(s, " ");
        if (n >= sizeof(kv)) {
            rc = TL_EINVAL;
            goto out;
        }
        memcpy(kv, s, n);
        kv[n] = '\0';
        if ((rc = tl_model_set(m, kv, diag)) != TL_OK)
            goto out;
        s += n + (s[n] == ' ');
    }
    double t0 = tl_now();
    if ((rc = tl_model_fit(m, v, NULL, diag)) != TL_OK)
        goto out;
    p->fit_seconds = tl_now() - t0;
    t0 = tl_now();
    if ((rc = tl_metrics_score_model(m, &v->ui, vte, 1, o->top_n, 0, &p->metrics)) != TL_OK) {
        tl_diag_set(diag, NULL, 0, NULL, "scoring the validation split failed");
        goto out;
    }
    p->score_seconds = tl_now() - t0;
out:
    tl_model_free(m);
    return rc;
}

tl_err tl_tune_run(const char *train, const tl_tune_opts *o, tl_tune_progress cb, void *ctx,
                   tl_tune_result *out, tl_diag *diag)
{
    tl_data d;
    tl_csr vtr = {0}, vte = {0}, viu = {0};
    tl_tune_result res;
    tl_grid g;
    char *setting = NULL;
    tl_err rc = TL_ENOMEM;
    memset(&res, 0, sizeof(res));
    tl_data_init(&d);
    if (!tl_model_find_ops(o->model)) {
        tl_diag_set(diag, NULL, 0, NULL, "unknown model '%s'", o->model);
        rc = TL_ENOTFOUND;
        goto out;
    }
    /* The grid: the caller's axes, else the model's own search space. */
    g.n = 0;
    for (int k = 0; k < o->n_grids; k++)
        if ((rc = tl_grid_append(&g, o->grids[k], diag)) != TL_OK)
            goto out;
    const char *def = o->n_grids ? NULL : tl_tune_default_grid(o->model);
    if (def && (rc = tl_grid_append(&g, def, diag)) != TL_OK)
        goto out;

    /* The validation split, from train alone. */
    tl_tsv_opts to;
    tl_tsv_opts_init(&to);
    if ((rc = tl_data_load_tsv(&d, train, &to, diag)) != TL_OK)
        goto out;
    if (o->items && (rc = tl_data_load_items_tsv(&d, o->items, 0, diag)) != TL_OK)
        goto out;
    if (o->interactions) {
        tl_split_opts so;
        tl_split_opts_init(&so);
        so.implicit = o->implicit;
        so.mode = o->mode;
        if ((rc = tl_split_attach_timestamps(o->interactions, &so, &d, diag)) != TL_OK)
            goto out;
    }
    if (o->mode == TL_SPLIT_TEMPORAL && !d.ui.ts) {
        tl_diag_set(diag, train, 0, NULL,
                    "a temporal validation split needs timestamps: give --interactions (the "
                    "file train was split from) or a train file with a timestamp column");
        rc = TL_EINVAL;
        goto out;
    }
    if ((rc = expand_axes(o, &d, &g, diag)) != TL_OK)
        goto out;
    int64_t npoints = 1;
    size_t slen = 1, glen = 0;
    for (int a = 0; a < g.n; a++) {
        npoints *= g.ax[a].n;
        slen += strlen(g.ax[a].key) + TL_GRID_VALUE_MAX + 2;
        glen +=
            (size_t)snprintf(res.grid + glen, glen < sizeof(res.grid) ? sizeof(res.grid) - glen : 0,
                             "%s%s=", a ? ";" : "", g.ax[a].key);
        for (int k = 0; k < g.ax[a].n && glen < sizeof(res.grid); k++)
            glen += (size_t)snprintf(res.grid + glen, sizeof(res.grid) - glen, "%s%s", k ? "," : "",
                                     g.ax[a].values[k]);
        if (npoints > MAX_POINTS) {
            tl_diag_set(diag, NULL, 0, "grid", "more than %d settings", MAX_POINTS);
            rc = TL_ETOOBIG;
            goto out;
        }
    }
    rc = TL_ENOMEM;
    if (!(setting = malloc(slen)) || !(res.points = calloc((size_t)npoints, sizeof(*res.points))))
        goto out;
    if ((rc = tl_holdout_split(&d, o->mode, o->seed, 0, &vtr, &vte)) != TL_OK ||
        (rc = tl_csr_transpose_no_ts(&vtr, &viu)) != TL_OK)
        goto out;
    res.val_train_pairs = vtr.nnz;
    res.val_test_pairs = vte.nnz;
    for (int32_t u = 0; u < vte.nrows; u++)
        res.val_users += vte.indptr[u + 1] > vte.indptr[u];
    tl_data v = d; /* shallow: d's ids and catalogue, the validation matrices */
    v.ui = vtr;
    v.iu = viu;

    int idx[TL_GRID_MAX_AXES] = {0};
    for (int64_t k = 0; k < npoints; k++) {
        char *s = setting;
        *s = '\0';
        for (int a = 0; a < g.n; a++)
            s += snprintf(s, slen - (size_t)(s - setting), "%s%s=%s", a ? " " : "", g.ax[a].key,
                          g.ax[a].values[idx[a]]);
        tl_tune_point *p = &res.points[res.n];
        if (!(p->setting = strdup(setting))) {
            rc = TL_ENOMEM;
            goto out;
        }
        res.n++;
        if ((rc = run_point(o, &v, &vte, setting, p, diag)) != TL_OK)
            goto out;
        if (p->metrics.ndcg10 > res.points[res.best].metrics.ndcg10)
            res.best = res.n - 1;
        if (cb)
            cb(ctx, p, (int)k, (int)npoints);
        for (int a = g.n - 1; a >= 0; a--) { /* odometer: the last axis turns fastest */
            if (++idx[a] < g.ax[a].n)
                break;
            idx[a] = 0;
        }
    }
    *out = res;
    memset(&res, 0, sizeof(res));
    rc = TL_OK;
out:
    tl_tune_result_release(&res);
    tl_csr_release(&vtr);
    tl_csr_release(&vte);
    tl_csr_release(&viu);
    tl_data_release(&d);
    free(setting);
    return rc;
}
