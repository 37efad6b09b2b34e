/* Validation-based choice of a model's unset parameters: a coordinate search over the model's
 * tune_grid (eval/grid.h) on validation splits carved from the training data, coarse then
 * fine on log axes around data-derived centres, screening with cheap fits and refitting the
 * best. Its size is set in work (multiply-adds estimated from the data's shape), never in
 * seconds, so that a slow machine chooses what a fast one does: when the planned fits would
 * exceed the budget, the search runs on a deterministic sample of the users. */
#include "eval/autotune.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/holdout.h"
#include "core/metrics.h"
#include "eval/grid.h"
#include "util/hash.h"

#define TUNE_SEED 42
#define MAX_FOLDS 2
/* tune_split=auto with timestamps, for models that are not order-aware */
#define TUNE_SPLIT_DEFAULT TL_TUNE_SPLIT_BOTH
/* The user sample never goes below this many users (tests may lower it). */
#ifndef MIN_SAMPLE_USERS
#define MIN_SAMPLE_USERS 1500
#endif
/* Below this many interactions there is too little to validate on: defaults stand. */
#define MIN_NNZ 50
#define MAX_POINTS 48
/* The model-wide time decay (core/model.h), searched like a parameter. */
#define DECAY_KEY "half_life_days"
#define REFINE_TOP 2
#define COARSE_STEP 3.1622776601683795 /* 10^(1/2) */
#define FINE_STEP 1.7782794100389228   /* 10^(1/4) */
/* Values of a log axis scored at once by a model's tune_path: the fine grid over the span. */
#define PATH_MAX_VALUES 25

/* One validation split: the training view (d's ids and catalogue, its own matrices), the
 * held-out rows, the users scored, and which items may be recommended (those in the view's
 * train part, as the protocol draws candidates from train). */
typedef struct fold {
    tl_data view;
    tl_csr test;
    int32_t *rows;
    int32_t nrows;
    uint8_t *allow;
    tl_split_mode mode;
} fold;

/* A visited setting: one value per axis (as text), screened or full, and its score. */
typedef struct point {
    char val[TL_GRID_MAX_AXES][TL_GRID_VALUE_MAX];
    int screen;
    double score;
    double fold_score[MAX_FOLDS];
} point;

typedef struct search {
    const tl_model *m;
    tl_grid grid;
    double centre[TL_GRID_MAX_AXES], lo[TL_GRID_MAX_AXES], hi[TL_GRID_MAX_AXES];
    fold folds[MAX_FOLDS];
    int nfolds;
    int32_t *recs;
    point pts[MAX_POINTS];
    int npts;
    int screened; /* the model has tune_screen */
    tl_fit_hooks inner;
    const tl_fit_hooks *outer;
    int planned; /* fits the search expects, for progress */
    double work; /* estimated multiply-adds spent */
} search;

static void fold_release(fold *f)
{
    tl_csr_release(&f->view.ui);
    tl_csr_release(&f->view.iu);
    tl_csr_release(&f->test);
    free(f->rows);
    free(f->allow);
    memset(f, 0, sizeof(*f));
}

/* d with only the users whose id hashes below keep/2^32 (a deterministic sample that does not
 * depend on the order of the data); the other rows are emptied, the shape and ids stay. */
static tl_err sample_users(const tl_data *d, uint32_t keep, tl_data *out)
{
    const tl_csr *a = &d->ui;
    tl_coo c;
    *out = *d;
    memset(&out->ui, 0, sizeof(out->ui));
    memset(&out->iu, 0, sizeof(out->iu));
    int64_t n = 0;
    uint8_t *in = malloc((size_t)a->nrows + 1);
    if (!in)
        return TL_ENOMEM;
    for (int32_t u = 0; u < a->nrows; u++) {
        uint64_t h =
            tl_splitmix64(tl_fnv1a64(tl_intern_str(&d->users, u), tl_intern_len(&d->users, u)));
        in[u] = (uint32_t)(h >> 32) < keep;
        if (in[u])
            n += a->indptr[u + 1] - a->indptr[u];
    }
    tl_err rc = tl_coo_init(&c, n ? n : 1, a->ts != NULL);
    for (int32_t u = 0; rc == TL_OK && u < a->nrows; u++)
        for (int64_t p = a->indptr[u]; in[u] && rc == TL_OK && p < a->indptr[u + 1]; p++)
            rc = tl_coo_push(&c, u, a->indices[p], a->data[p], a->ts ? a->ts[p] : 0);
    free(in);
    if (rc == TL_OK)
        rc = tl_csr_from_coo(&c, a->nrows, a->ncols, TL_DUP_SUM, &out->ui);
    if (rc == TL_OK)
        rc = tl_csr_transpose_no_ts(&out->ui, &out->iu);
    tl_coo_release(&c);
    return rc;
}

static tl_err make_fold(const tl_data *d, tl_split_mode mode, uint64_t seed, fold *f)
{
    f->view = *d;
    f->mode = mode;
    memset(&f->view.ui, 0, sizeof(f->view.ui));
    memset(&f->view.iu, 0, sizeof(f->view.iu));
    tl_err rc = tl_holdout_split(d, mode, seed, 0, &f->view.ui, &f->test);
    if (rc != TL_OK || (rc = tl_csr_transpose_no_ts(&f->view.ui, &f->view.iu)) != TL_OK)
        return rc;
    const tl_csr *tr = &f->view.ui, *te = &f->test;
    int32_t eligible = 0;
    for (int32_t u = 0; u < d->ui.nrows; u++)
        eligible += te->indptr[u + 1] > te->indptr[u] && tr->indptr[u + 1] > tr->indptr[u];
    int32_t stride = eligible > TL_AUTOTUNE_MAX_USERS
                         ? (eligible + TL_AUTOTUNE_MAX_USERS - 1) / TL_AUTOTUNE_MAX_USERS
                         : 1;
    if (!(f->rows = malloc(((size_t)eligible + 1) * sizeof(*f->rows))) ||
        !(f->allow = malloc((size_t)f->view.iu.nrows + 1)))
        return TL_ENOMEM;
    for (int32_t u = 0, seen = 0; u < d->ui.nrows; u++)
        if (te->indptr[u + 1] > te->indptr[u] && tr->indptr[u + 1] > tr->indptr[u])
            if (seen++ % stride == 0)
                f->rows[f->nrows++] = u;
    for (int32_t i = 0; i < f->view.iu.nrows; i++)
        f->allow[i] = f->view.iu.indptr[i + 1] > f->view.iu.indptr[i];
    return TL_OK;
}

/* The folds' scores combined: the mean over folds of one split mode, then, when both modes
 * are present, their geometric mean (scale-free: a setting must serve both). */
static double combine(const search *s, const double *fs)
{
    double sum[2] = {0, 0};
    int cnt[2] = {0, 0};
    for (int f = 0; f < s->nfolds; f++) {
        int k = s->folds[f].mode == TL_SPLIT_TEMPORAL;
        sum[k] += fs[f];
        cnt[k]++;
    }
    if (cnt[0] && cnt[1])
        return sqrt((sum[0] / cnt[0]) * (sum[1] / cnt[1]));
    return cnt[0] ? sum[0] / cnt[0] : sum[1] / cnt[1];
}

static double fold_ndcg(const fold *f, const int32_t *recs)
{
    double sum = 0;
    for (int32_t r = 0; r < f->nrows; r++) {
        int32_t u = f->rows[r];
        sum += tl_ndcg10_sorted(recs + (size_t)r * 10, 10, f->test.indices + f->test.indptr[u],
                                f->test.indptr[u + 1] - f->test.indptr[u]);
    }
    return f->nrows ? sum / f->nrows : 0;
}

/* A fresh model with m's parameters, the point's values and, when screening, tune_screen. */
static tl_err candidate(const search *s, const point *p, tl_model **out, tl_diag *diag)
{
    tl_model *c = NULL;
    char *text = NULL, kv[128];
    tl_err rc = tl_model_new(s->m->ops->name, &c);
    if (rc != TL_OK)
        goto out;
    if ((rc = tl_model_copy_settings(c, s->m, diag)) != TL_OK)
        goto out;
    c->autotune = 0;
    for (int a = 0; a < s->grid.n; a++) {
        snprintf(kv, sizeof(kv), "%s=%s", s->grid.ax[a].key, p->val[a]);
        if ((rc = tl_model_set(c, kv, diag)) != TL_OK)
            goto out;
    }
    for (const char *q = p->screen ? s->m->ops->tune_screen : ""; *q;) {
        size_t len = strcspn(q, ";");
        snprintf(kv, sizeof(kv), "%.*s", (int)len, q);
        if ((rc = tl_model_set(c, kv, diag)) != TL_OK)
            goto out;
        q += len + (q[len] == ';');
    }
    *out = c;
    c = NULL;
out:
    free(text);
    tl_model_free(c);
    return rc;
}

static double work_of(const tl_model *c, const tl_data *d)
{
    return c->ops->fit_work ? c->ops->fit_work(c, d) : (double)d->ui.nnz;
}

/* Scores p (fits it on every fold) unless an identical point was scored; returns its index
 * in s->pts through *idx (-1 when the search is full). */
static tl_err visit(search *s, const point *p, int *idx, tl_diag *diag)
{
    *idx = -1;
    for (int k = 0; k < s->npts; k++)
        if (s->pts[k].screen == p->screen && memcmp(s->pts[k].val, p->val, sizeof(p->val)) == 0) {
            *idx = k;
            return TL_OK;
        }
    if (s->npts == MAX_POINTS)
        return TL_OK;
    point *q = &s->pts[s->npts];
    *q = *p;
    tl_model *c = NULL;
    tl_err rc = candidate(s, q, &c, diag);
    for (int f = 0; rc == TL_OK && f < s->nfolds; f++) {
        fold *fd = &s->folds[f];
        tl_filter allow = {.allow = fd->allow};
        s->work += work_of(c, &fd->view);
        if ((rc = tl_model_fit(c, &fd->view, &s->inner, diag)) == TL_OK)
            rc = tl_model_recommend_rows(c, &fd->view.ui, 1, fd->rows, fd->nrows, &allow, 10,
                                         s->recs, NULL);
        if (rc == TL_OK)
            q->fold_score[f] = fold_ndcg(fd, s->recs);
    }
    tl_model_free(c);
    if (rc != TL_OK)
        return rc;
    q->score = combine(s, q->fold_score);
    *idx = s->npts++;
    if (s->outer && s->outer->progress) {
        char stage[96];
        snprintf(stage, sizeof(stage), "autotune %s: %d settings", s->m->ops->name, s->npts);
        s->outer->progress(s->outer->ctx, stage,
                           (double)s->npts / (s->planned > s->npts ? s->planned : s->npts + 1));
    }
    if (s->outer && s->outer->cancelled && s->outer->cancelled(s->outer->ctx))
        return TL_ECANCELED;
    return TL_OK;
}

/* A log axis value as text: three significant digits, integers for integer parameters. */
static void format_value(const tl_model *m, const char *key, double v, char *out)
{
    for (int k = 0; k < m->params.n; k++)
        if (strcmp(m->params.defs[k].name, key) == 0 && m->params.defs[k].type == TL_PARAM_INT) {
            snprintf(out, TL_GRID_VALUE_MAX, "%.0f", v < 1 ? 1 : round(v));
            return;
        }
    snprintf(out, TL_GRID_VALUE_MAX, "%.3g", v);
}

/* With timestamps, the time decay of the weights is a parameter like any other: off, or a
 * half-life of half or an eighth of the data's time span. Not for models that never read the
 * weights, nor when the caller set it. */
static tl_err add_decay_axis(search *s, const tl_data *d, tl_diag *diag)
{
    const tl_model *m = s->m;
    if (m->half_life_set || m->ops->ignores_weights || !tl_csr_has_timestamps(&d->ui))
        return TL_OK;
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    for (int64_t p = 0; p < d->ui.nnz; p++)
        if (d->ui.ts[p]) {
            lo = d->ui.ts[p] < lo ? d->ui.ts[p] : lo;
            hi = d->ui.ts[p] > hi ? d->ui.ts[p] : hi;
        }
    double span = (double)(hi - lo) / 86400.0;
    if (!(span >= 1))
        return TL_OK; /* less than a day of history: nothing to decay over */
    char axis[96];
    snprintf(axis, sizeof(axis), "%s=0,%.3g,%.3g", DECAY_KEY, span / 2, span / 8);
    return tl_grid_append(&s->grid, axis, diag);
}

/* The range and centre of each log axis, clipped to the parameter's range; the starting
 * point: log axes at their centre, value axes at the parameter's default when it is listed,
 * else at the first value. */
static tl_err plan_axes(search *s, const tl_data *d, point *start, tl_diag *diag)
{
    const tl_model *m = s->m;
    memset(start, 0, sizeof(*start));
    for (int a = 0; a < s->grid.n; a++) {
        tl_grid_axis *x = &s->grid.ax[a];
        const tl_param_def *def = NULL;
        for (int k = 0; k < m->params.n; k++)
            if (strcmp(m->params.defs[k].name, x->key) == 0)
                def = &m->params.defs[k];
        if (strcmp(x->key, DECAY_KEY) == 0 && x->kind == TL_AXIS_VALUES) {
            snprintf(start->val[a], TL_GRID_VALUE_MAX, "%s", x->values[0]);
            continue;
        }
        if (!def) {
            tl_diag_set(diag, NULL, 0, "grid", "'%s' is not a parameter of %s", x->key,
                        m->ops->name);
            return TL_EINVAL;
        }
        if (x->kind == TL_AXIS_VALUES) {
            snprintf(start->val[a], TL_GRID_VALUE_MAX, "%s", x->values[0]);
            char cur[TL_GRID_VALUE_MAX];
            if (def->type == TL_PARAM_STR)
                snprintf(cur, sizeof(cur), "%s", tl_params_str(&m->params, x->key));
            else
                format_value(m, x->key, tl_params_num(&m->params, x->key), cur);
            for (int j = 0; j < x->n; j++)
                if (strcmp(x->values[j], cur) == 0)
                    snprintf(start->val[a], TL_GRID_VALUE_MAX, "%s", cur);
            continue;
        }
        if (def->type == TL_PARAM_STR) {
            tl_diag_set(diag, NULL, 0, "grid", "'%s' is not numeric: no log scale", x->key);
            return TL_EINVAL;
        }
        double c = tl_autotune_centre(m, d, x);
        double lo = c / x->span, hi = c * x->span;
        lo = lo < def->min ? def->min : lo;
        hi = hi > def->max ? def->max : hi;
        if (!(lo > 0))
            lo = fmin(c, 1e-6);
        c = c < lo ? lo : c > hi ? hi : c;
        s->centre[a] = c;
        s->lo[a] = lo;
        s->hi[a] = hi;
        format_value(m, x->key, c, start->val[a]);
    }
    return TL_OK;
}

/* Along log axis a from s->pts[*best]: a step up, else down, and on while it improves. */
static tl_err walk_log(search *s, int a, double step, int *best, tl_diag *diag)
{
    for (int dir = 1; dir >= -1; dir -= 2) {
        int moved = 0;
        for (;;) {
            double v = atof(s->pts[*best].val[a]) * (dir > 0 ? step : 1 / step);
            if (v < s->lo[a] * 0.999 || v > s->hi[a] * 1.001)
                break;
            point p = s->pts[*best];
            format_value(s->m, s->grid.ax[a].key, v, p.val[a]);
            if (strcmp(p.val[a], s->pts[*best].val[a]) == 0)
                break; /* an integer axis that cannot move this little */
            int k;
            tl_err rc = visit(s, &p, &k, diag);
            if (rc != TL_OK)
                return rc;
            if (k < 0 || !(s->pts[k].score > s->pts[*best].score + 1e-9))
                break;
            *best = k;
            moved = 1;
        }
        if (moved)
            break;
    }
    return TL_OK;
}

/* Scores a log axis's whole fine grid at once through the model's tune_path; returns
 * TL_EUNSUPPORTED when the model has none for this axis. */
static tl_err path_axis(search *s, int a, int *best, tl_diag *diag)
{
    const tl_model *m = s->m;
    double vals[PATH_MAX_VALUES];
    int nv = 0;
    for (double v = s->centre[a]; v >= s->lo[a] * 0.999 && nv < PATH_MAX_VALUES / 2 + 1;
         v /= FINE_STEP)
        vals[nv++] = v;
    for (int i = 0; i < nv / 2; i++) { /* ascending */
        double t = vals[i];
        vals[i] = vals[nv - 1 - i];
        vals[nv - 1 - i] = t;
    }
    for (double v = s->centre[a] * FINE_STEP; v <= s->hi[a] * 1.001 && nv < PATH_MAX_VALUES;
         v *= FINE_STEP)
        vals[nv++] = v;
    point pts[PATH_MAX_VALUES];
    for (int i = 0; i < nv; i++) {
        pts[i] = s->pts[*best];
        format_value(m, s->grid.ax[a].key, vals[i], pts[i].val[a]);
        vals[i] = atof(pts[i].val[a]);
    }
    tl_model *c = NULL;
    int32_t *recs = NULL;
    int32_t maxrows = 0;
    for (int f = 0; f < s->nfolds; f++)
        maxrows = s->folds[f].nrows > maxrows ? s->folds[f].nrows : maxrows;
    tl_err rc = candidate(s, &s->pts[*best], &c, diag);
    if (rc == TL_OK && !(recs = malloc((size_t)nv * (size_t)maxrows * 10 * sizeof(*recs))))
        rc = TL_ENOMEM;
    for (int f = 0; rc == TL_OK && f < s->nfolds; f++) {
        fold *fd = &s->folds[f];
        rc = m->ops->tune_path(c, &fd->view, s->grid.ax[a].key, vals, nv, fd->rows, fd->nrows,
                               fd->allow, recs, diag);
        for (int i = 0; rc == TL_OK && i < nv; i++)
            pts[i].fold_score[f] = fold_ndcg(fd, recs + (size_t)i * (size_t)fd->nrows * 10);
    }
    tl_model_free(c);
    free(recs);
    for (int i = 0; rc == TL_OK && i < nv && s->npts < MAX_POINTS; i++) {
        int dup = -1;
        for (int k = 0; k < s->npts; k++)
            if (!s->pts[k].screen && memcmp(s->pts[k].val, pts[i].val, sizeof(pts[i].val)) == 0)
                dup = k;
        pts[i].score = combine(s, pts[i].fold_score);
        int k = dup >= 0 ? dup : s->npts++;
        s->pts[k] = pts[i];
        if (pts[i].score > s->pts[*best].score + 1e-9)
            *best = k;
    }
    return rc;
}

/* The search itself: the start, then per axis values or a coarse log walk, then a fine walk;
 * screened settings are refit in full at the end and the best full one wins. */
static tl_err run_search(search *s, const point *start, int *best_out, tl_diag *diag)
{
    int best;
    point p = *start;
    p.screen = s->screened;
    tl_err rc = visit(s, &p, &best, diag);
    if (rc != TL_OK || best < 0)
        return rc;
    /* Two log axes often trade off along a ridge (iALS: more confidence wants more
     * regularization), where moving one axis at a time stalls: a 3 x 3 grid a decade apart
     * over the first two finds the ridge before the walks follow it. */
    int la[2], nl = 0;
    for (int a = 0; a < s->grid.n && nl < 2; a++)
        if (s->grid.ax[a].kind == TL_AXIS_LOG && !(s->m->ops->tune_path))
            la[nl++] = a;
    if (nl == 2) {
        int from = best;
        for (int i = -1; i <= 1; i++)
            for (int j = -1; j <= 1; j++) {
                point q = s->pts[from];
                double v0 = s->centre[la[0]] * pow(10, i), v1 = s->centre[la[1]] * pow(10, j);
                if (v0 < s->lo[la[0]] * 0.999 || v0 > s->hi[la[0]] * 1.001 ||
                    v1 < s->lo[la[1]] * 0.999 || v1 > s->hi[la[1]] * 1.001)
                    continue;
                format_value(s->m, s->grid.ax[la[0]].key, v0, q.val[la[0]]);
                format_value(s->m, s->grid.ax[la[1]].key, v1, q.val[la[1]]);
                int k;
                if ((rc = visit(s, &q, &k, diag)) != TL_OK)
                    return rc;
                if (k >= 0 && s->pts[k].score > s->pts[best].score + 1e-9)
                    best = k;
            }
    }
    for (int pass = 0; pass < 2; pass++) {
        for (int a = 0; a < s->grid.n; a++) {
            tl_grid_axis *x = &s->grid.ax[a];
            if (x->kind == TL_AXIS_VALUES) {
                if (pass)
                    continue;
                int from = best;
                for (int j = 0; j < x->n; j++) {
                    point q = s->pts[from];
                    snprintf(q.val[a], TL_GRID_VALUE_MAX, "%s", x->values[j]);
                    int k;
                    if ((rc = visit(s, &q, &k, diag)) != TL_OK)
                        return rc;
                    if (k >= 0 && s->pts[k].score > s->pts[best].score + 1e-9)
                        best = k;
                }
                continue;
            }
            if (s->m->ops->tune_path && !s->pts[best].screen) {
                if (pass)
                    continue;
                rc = path_axis(s, a, &best, diag);
                if (rc == TL_OK)
                    continue;
                if (rc != TL_EUNSUPPORTED)
                    return rc;
            }
            if ((rc = walk_log(s, a, pass ? FINE_STEP : COARSE_STEP, &best, diag)) != TL_OK)
                return rc;
        }
    }
    if (s->screened) {
        /* Refit the best screened settings in full; the best of those wins. */
        int order[MAX_POINTS], n = 0;
        for (int k = 0; k < s->npts; k++)
            if (s->pts[k].screen)
                order[n++] = k;
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++)
                if (s->pts[order[j]].score > s->pts[order[i]].score) {
                    int t = order[i];
                    order[i] = order[j];
                    order[j] = t;
                }
        best = -1;
        for (int i = 0; i < n && i < REFINE_TOP; i++) {
            point q = s->pts[order[i]];
            q.screen = 0;
            int k;
            if ((rc = visit(s, &q, &k, diag)) != TL_OK)
                return rc;
            if (k >= 0 && (best < 0 || s->pts[k].score > s->pts[best].score + 1e-9))
                best = k;
        }
    }
    *best_out = best;
    return TL_OK;
}

/* Fits the search expects: the start, each value axis's values, about four steps of a coarse
 * and two of a fine walk per log axis, and the refits. */
static int planned_fits(const tl_grid *g, int screened)
{
    int n = 1, logs = 0;
    for (int a = 0; a < g->n; a++) {
        n += g->ax[a].kind == TL_AXIS_VALUES ? g->ax[a].n - 1 : 6;
        logs += g->ax[a].kind == TL_AXIS_LOG;
    }
    n += logs >= 2 ? 8 : 0;
    return n + (screened ? REFINE_TOP : 0);
}

double tl_autotune_centre(const tl_model *m, const tl_data *d, const tl_grid_axis *x)
{
    double c = x->centre;
    if (!(c > 0) && m->ops->tune_centre)
        c = m->ops->tune_centre(m, d, x->key);
    if (!(c > 0))
        c = tl_params_num(&m->params, x->key);
    return c > 0 ? c : 1;
}

tl_err tl_autotune_hook(void *ctx, tl_model *m, const tl_data *d, const tl_fit_hooks *h,
                        tl_diag *diag)
{
    (void)ctx;
    return tl_autotune(m, d, h, diag);
}

tl_err tl_autotune(tl_model *m, const tl_data *d, const tl_fit_hooks *h, tl_diag *diag)
{
    return tl_autotune_budget(m, d, h, TL_AUTOTUNE_WORK, diag);
}

tl_err tl_autotune_budget(tl_model *m, const tl_data *d, const tl_fit_hooks *h, double budget,
                          tl_diag *diag)
{
    const char *gtext = m->ops->tune_grid ? m->ops->tune_grid : "";
    if (d->ui.nnz < MIN_NNZ)
        return TL_OK;
    search *s = calloc(1, sizeof(*s));
    tl_data sample;
    int sampled = 0;
    point start;
    tl_err rc = TL_ENOMEM;
    if (!s)
        return rc;
    s->m = m;
    s->outer = h;
    s->inner.cancelled = h ? h->cancelled : NULL;
    s->inner.ctx = h ? h->ctx : NULL;
    s->screened = m->ops->tune_screen && *m->ops->tune_screen;
    if ((rc = tl_grid_parse(gtext, &s->grid, diag)) != TL_OK)
        goto out;
    for (int a = 0; a < s->grid.n; a++)
        if (tl_params_is_set(&m->params, s->grid.ax[a].key))
            goto out; /* the caller chose: respect it */
    if ((rc = add_decay_axis(s, d, diag)) != TL_OK || !s->grid.n)
        goto out;
    if ((rc = plan_axes(s, d, &start, diag)) != TL_OK)
        goto out;
    s->planned = planned_fits(&s->grid, s->screened);

    /* The sample: halve the users until the planned fits fit the work budget. */
    const tl_data *td = d;
    tl_model *probe = NULL;
    point first = start;
    first.screen = s->screened;
    if ((rc = candidate(s, &first, &probe, diag)) != TL_OK)
        goto out;
    double per_fit = work_of(probe, d);
    tl_model_free(probe);
    uint64_t keep = 1ULL << 32;
    int32_t users = d->ui.nrows;
    while (per_fit * s->planned > budget && users / 2 >= MIN_SAMPLE_USERS) {
        keep /= 2;
        users /= 2;
        per_fit /= 2;
    }
    if (keep < (1ULL << 32)) {
        if ((rc = sample_users(d, (uint32_t)keep, &sample)) != TL_OK)
            goto out;
        sampled = 1;
        td = &sample;
    }

    /* Validation splits: random (two folds) without timestamps; with them one random and
     * one temporal fold, so that a setting must serve both (a library asks "what next" of
     * its loans, an offline evaluation often asks a random holdout); order-aware models,
     * whose purpose is "what next", a temporal split alone. */
    int ts = tl_csr_has_timestamps(&td->ui), how = m->tune_split;
    if (how == TL_TUNE_SPLIT_AUTO)
        how = !ts                     ? TL_TUNE_SPLIT_RANDOM
              : m->ops->tune_temporal ? TL_TUNE_SPLIT_TEMPORAL
                                      : TUNE_SPLIT_DEFAULT;
    else if (!ts)
        how = TL_TUNE_SPLIT_RANDOM; /* nothing to order by */
    tl_split_mode modes[MAX_FOLDS] = {
        how == TL_TUNE_SPLIT_TEMPORAL ? TL_SPLIT_TEMPORAL : TL_SPLIT_RANDOM,
        how == TL_TUNE_SPLIT_BOTH ? TL_SPLIT_TEMPORAL : TL_SPLIT_RANDOM};
    /* one fold for temporal alone: a temporal split has no seed */
    s->nfolds = how == TL_TUNE_SPLIT_TEMPORAL ? 1 : MAX_FOLDS;
    int32_t maxrows = 0;
    for (int f = 0; f < s->nfolds; f++) {
        if ((rc = make_fold(td, modes[f], TUNE_SEED + (uint64_t)f, &s->folds[f])) != TL_OK)
            goto out;
        if (s->folds[f].nrows < 10)
            goto out; /* too little to learn anything from: keep the defaults */
        maxrows = s->folds[f].nrows > maxrows ? s->folds[f].nrows : maxrows;
    }
    rc = TL_ENOMEM;
    if (!(s->recs = malloc((size_t)maxrows * 10 * sizeof(*s->recs))))
        goto out;
    int best = -1;
    if ((rc = run_search(s, &start, &best, diag)) != TL_OK || best < 0)
        goto out;

    size_t off = 0;
    for (int a = 0; a < s->grid.n; a++) {
        if (strcmp(s->grid.ax[a].key, DECAY_KEY) == 0) {
            char kv[64];
            snprintf(kv, sizeof(kv), "%s=%s", DECAY_KEY, s->pts[best].val[a]);
            if ((rc = tl_model_set(m, kv, diag)) != TL_OK)
                goto out;
            m->half_life_set = 0; /* chosen here, not by the caller */
        } else if ((rc = tl_params_set_default(&m->params, s->grid.ax[a].key, s->pts[best].val[a],
                                               diag)) != TL_OK) {
            goto out;
        }
        off += (size_t)snprintf(m->tuned + off, sizeof(m->tuned) - off, "%s=%s ", s->grid.ax[a].key,
                                s->pts[best].val[a]);
        if (off >= sizeof(m->tuned))
            off = sizeof(m->tuned) - 1;
    }
    m->tuned_ndcg = s->pts[best].score;
    snprintf(m->tuned + off, sizeof(m->tuned) - off,
             "(validation nDCG@10 %.4f; %d settings, %.2g multiply-adds; %s%s split of train, "
             "%d users%s)",
             s->pts[best].score, s->npts, s->work,
             how == TL_TUNE_SPLIT_TEMPORAL ? "temporal"
             : how == TL_TUNE_SPLIT_BOTH   ? "random + temporal"
                                           : "random x2",
             "", s->folds[0].nrows, sampled ? ", a sample" : "");
out:
    for (int f = 0; s && f < MAX_FOLDS; f++)
        fold_release(&s->folds[f]);
    if (sampled) {
        tl_csr_release(&sample.ui);
        tl_csr_release(&sample.iu);
    }
    if (s)
        free(s->recs);
    free(s);
    return rc;
}
