/* Grid search on a validation split: the split from core/holdout, the scoring from
 * core/metrics, one fresh model per grid point. The validation data set borrows train's id maps
 * and catalogue (a shallow copy with its own matrices), so models see the same indices. */
#include "eval/tune.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/split.h"
#include "ingest/matrix_tsv.h"
#include "util/clock.h"

#define MAX_AXES 16
#define MAX_VALUES 64
#define MAX_POINTS 10000

/* Grids of REFERENCE.md (the reference models were tuned on these). */
static const struct {
    const char *model, *grid;
} default_grids[] = {
    {"itemknn", "k=50,200,1000;shrink=0,10"},
    {"rp3beta", "k=200;alpha=0.8,1.0;beta=0.3,0.5,0.7"},
    {"ease", "lambda=5,20,50,200,500,1000,3000"},
    {"ials", "factors=64;reg=0.1,10,50;alpha=1,8,40"},
};

const char *tl_tune_default_grid(const char *model)
{
    for (size_t k = 0; k < sizeof(default_grids) / sizeof(default_grids[0]); k++)
        if (strcmp(default_grids[k].model, model) == 0)
            return default_grids[k].grid;
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

typedef struct axis {
    const char *key;
    const char *vals[MAX_VALUES];
    int n;
} axis;

/* Parses "key=v1,v2;key=..." in place (text is modified). */
static tl_err parse_grid(char *text, axis *ax, int *nax, tl_diag *diag)
{
    *nax = 0;
    char *save = NULL;
    for (char *a = strtok_r(text, ";", &save); a; a = strtok_r(NULL, ";", &save)) {
        char *eq = strchr(a, '=');
        if (!eq || eq == a || !eq[1]) {
            tl_diag_set(diag, NULL, 0, "grid", "'%s' is not key=v1,v2,...", a);
            return TL_EINVAL;
        }
        if (*nax == MAX_AXES) {
            tl_diag_set(diag, NULL, 0, "grid", "more than %d parameters", MAX_AXES);
            return TL_EINVAL;
        }
        axis *x = &ax[(*nax)++];
        *eq = '\0';
        x->key = a;
        x->n = 0;
        char *vs = NULL;
        for (char *v = strtok_r(eq + 1, ",", &vs); v; v = strtok_r(NULL, ",", &vs)) {
            if (x->n == MAX_VALUES) {
                tl_diag_set(diag, NULL, 0, "grid", "more than %d values for %s", MAX_VALUES, a);
                return TL_EINVAL;
            }
            x->vals[x->n++] = v;
        }
        if (!x->n) {
            tl_diag_set(diag, NULL, 0, "grid", "no values for %s", a);
            return TL_EINVAL;
        }
    }
    return TL_OK;
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
    axis ax[MAX_AXES];
    int nax = 0;
    char *text = NULL, *setting = NULL;
    tl_err rc = TL_ENOMEM;
    memset(&res, 0, sizeof(res));
    tl_data_init(&d);
    if (!tl_model_find_ops(o->model)) {
        tl_diag_set(diag, NULL, 0, NULL, "unknown model '%s'", o->model);
        rc = TL_ENOTFOUND;
        goto out;
    }
    /* The grid: the caller's axes, else the default. */
    size_t len = 1;
    for (int k = 0; k < o->n_grids; k++)
        len += strlen(o->grids[k]) + 1;
    const char *def = o->n_grids ? NULL : tl_tune_default_grid(o->model);
    if (def)
        len += strlen(def);
    if (!(text = malloc(len)))
        goto out;
    text[0] = '\0';
    for (int k = 0; k < o->n_grids; k++) {
        if (k)
            strcat(text, ";");
        strcat(text, o->grids[k]);
    }
    if (def)
        strcat(text, def);
    snprintf(res.grid, sizeof(res.grid), "%s", text);
    if ((rc = parse_grid(text, ax, &nax, diag)) != TL_OK)
        goto out;
    int64_t npoints = 1;
    size_t slen = 1;
    for (int a = 0; a < nax; a++) {
        npoints *= ax[a].n;
        size_t longest = 0;
        for (int j = 0; j < ax[a].n; j++)
            if (strlen(ax[a].vals[j]) > longest)
                longest = strlen(ax[a].vals[j]);
        slen += strlen(ax[a].key) + longest + 2;
        if (npoints > MAX_POINTS) {
            tl_diag_set(diag, NULL, 0, "grid", "more than %d settings", MAX_POINTS);
            rc = TL_ETOOBIG;
            goto out;
        }
    }
    rc = TL_ENOMEM;
    if (!(setting = malloc(slen)) || !(res.points = calloc((size_t)npoints, sizeof(*res.points))))
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
    if ((rc = tl_holdout_split(&d, o->mode, o->seed, 0, &vtr, &vte)) != TL_OK ||
        (rc = tl_csr_transpose(&vtr, &viu)) != TL_OK)
        goto out;
    res.val_train_pairs = vtr.nnz;
    res.val_test_pairs = vte.nnz;
    for (int32_t u = 0; u < vte.nrows; u++)
        res.val_users += vte.indptr[u + 1] > vte.indptr[u];
    tl_data v = d; /* shallow: d's ids and catalogue, the validation matrices */
    v.ui = vtr;
    v.iu = viu;

    int idx[MAX_AXES] = {0};
    for (int64_t k = 0; k < npoints; k++) {
        char *s = setting;
        *s = '\0';
        for (int a = 0; a < nax; a++)
            s += snprintf(s, slen - (size_t)(s - setting), "%s%s=%s", a ? " " : "", ax[a].key,
                          ax[a].vals[idx[a]]);
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
        for (int a = nax - 1; a >= 0; a--) { /* odometer: the last axis turns fastest */
            if (++idx[a] < ax[a].n)
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
    free(text);
    free(setting);
    return rc;
}
