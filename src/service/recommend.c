/* Recommendations for one request: the history (live from the store, the model's, ad hoc or
 * one item), filters, top-n, the popular fallback, and a reason with evidence for each item. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/filter.h"
#include "core/request.h"
#include "core/rerank.h"
#include "service/exp_int.h"
#include "service/history.h"
#include "service/reason.h"
#include "service/rerank.h"
#include "service/imp_int.h"
#include "service/service_int.h"

static const char NO_HISTORY[] = "no usable history for this patron";
static const char NO_EVIDENCE[] = "the model found nothing in this patron's history";

typedef struct result_priv {
    tl_model_ref *ref;
} result_priv;

/* allow[] for the filters (NULL when there are none). TL_ENOTFOUND when they match nothing. */
static tl_err build_filter(const tl_model *m, const char *const *filters, int n, uint8_t **out,
                           tl_diag *d)
{
    *out = NULL;
    if (n <= 0)
        return TL_OK;
    tl_filter_spec spec;
    memset(&spec, 0, sizeof(spec));
    for (int k = 0; k < n; k++) {
        tl_err rc = tl_filter_parse(&spec, filters[k] ? filters[k] : "", d);
        if (rc != TL_OK) {
            if (!d->field[0])
                snprintf(d->field, sizeof(d->field), "filter");
            return rc;
        }
    }
    uint8_t *allow = malloc((size_t)m->n_items + 1);
    if (!allow)
        return TL_ENOMEM;
    tl_err rc = tl_filter_build(m, &spec, allow, d);
    int32_t allowed = 0;
    for (int32_t i = 0; rc == TL_OK && i < m->n_items; i++)
        allowed += allow[i];
    if (rc == TL_OK && spec.n && !allowed) {
        tl_diag_set(d, NULL, 0, "filter", "no item of the catalogue matches the filters");
        rc = TL_ENOTFOUND;
    }
    if (rc != TL_OK) {
        free(allow);
        return rc;
    }
    *out = allow;
    return TL_OK;
}

static tl_err check_query(const tl_rec_query *q, tl_diag *d)
{
    if (!!q->user + (q->history != NULL || q->n_history > 0) + !!q->similar_to != 1) {
        tl_diag_set(d, NULL, 0, "user", "needs exactly one of a patron, a history and an item");
        return TL_EINVAL;
    }
    if (q->n < 1 || q->n > TL_REC_MAX_N) {
        tl_diag_set(d, NULL, 0, "n", "expected 1 to %d items, got %d", TL_REC_MAX_N, q->n);
        return TL_EINVAL;
    }
    if (q->n_history < 0 || q->n_history > TL_REC_MAX_HISTORY) {
        tl_diag_set(d, NULL, 0, "history", "expected at most %d items", TL_REC_MAX_HISTORY);
        return TL_EINVAL;
    }
    if (q->n_filters < 0 || q->n_filters > TL_FILTER_MAX) {
        tl_diag_set(d, NULL, 0, "filter", "at most %d filters", TL_FILTER_MAX);
        return TL_EINVAL;
    }
    return tl__rerank_check(&q->rerank, q->n, d);
}

tl_err tl_service_recommend(tl_service *s, const tl_rec_query *q, tl_rec_result *out, tl_diag *d)
{
    memset(out, 0, sizeof(*out));
    tl_err rc = check_query(q, d);
    if (rc != TL_OK)
        return rc;
    result_priv *priv = calloc(1, sizeof(*priv));
    out->items = calloc((size_t)q->n, sizeof(*out->items));
    int32_t *items = NULL;
    float *scores = NULL;
    uint8_t *allow = NULL, *deny = NULL, *dismissed = NULL;
    tl_hist h = {.uidx = -1};
    const char *fallback = NULL;
    int got = 0;
    tl_rerank rerank = q->rerank;
    if (!priv || !out->items) {
        rc = TL_ENOMEM;
        goto out;
    }
    int popular_only;
    const char *served = NULL;
    tl__exp_arms arms;
    tl__exp_arms_of(s, q->user, &arms);
    if (q->n <= TL_RERANK_MAX_N) /* the arm's re-ranker, where one may run */
        tl__exp_rerank(&arms, &rerank);
    if (!(priv->ref = tl__exp_model_ref(s, q->model, &arms, &popular_only, &served, &rc, d)))
        goto out;
    const tl_model *m = priv->ref->m;
    if ((rc = build_filter(m, q->filters, q->n_filters, &allow, d)) != TL_OK ||
        (rc = tl__tenant_allow(s, priv->ref, &allow)) != TL_OK) /* a tenant's holdings only */
        goto out;
    tl_filter f = {.allow = allow};
    if (q->user) {
        rc = tl__patron_history(s, m, q->user, &q->context, &h, &fallback, d);
    } else if (q->similar_to) {
        rc = tl__hist_from_ids(m, &q->similar_to, 1, &h);
        if (rc == TL_OK && !h.n) {
            tl_diag_set(d, NULL, 0, "item", "no item '%.100s' in the model", q->similar_to);
            rc = TL_ENOTFOUND;
        }
    } else {
        rc = tl__hist_from_ids(m, q->history, q->n_history, &h);
    }
    if (rc != TL_OK)
        goto out;
    /* a patron who asked to broaden their horizons gets MMR unless the request chose */
    if (h.broaden && !rerank.mmr && !rerank.calibrate && q->n <= TL_RERANK_MAX_N) {
        rerank.mmr = 1;
        rerank.lambda = TL_BROADEN_LAMBDA;
    }
    int pool = tl__rerank_pool(&rerank, q->n); /* q->n unless a re-ranker chooses */
    /* one entry per work: a pool to refill the list from when editions drop out (works.c) */
    const int32_t *works = rerank.all_editions ? NULL : tl__ref_works(s, priv->ref, NULL);
    if (works && pool < tl_rerank_pool(q->n))
        pool = tl_rerank_pool(q->n);
    char branch[TL_BRANCH_MAX + 1];
    tl__shelf_branch(s, priv->ref, q->user, &q->context, branch);
    int prefer = branch[0] && !q->ignore_shelf;
    if (prefer && pool < 2 * q->n) /* the candidates that a copy on the shelf here may pass */
        pool = 2 * q->n < TL_REC_MAX_N ? 2 * q->n : TL_REC_MAX_N;
    items = malloc((size_t)pool * sizeof(*items));
    scores = malloc((size_t)pool * sizeof(*scores));
    if (!items || !scores) {
        rc = TL_ENOMEM;
        goto out;
    }
    f.deny = tl__withdrawn(s, priv->ref, q->user != NULL); /* a patron's history took a reader */
    f.deny = tl__deny_at(s, priv->ref, f.deny, tl__request_time(&q->context), &deny);
    f.deny = tl__hist_deny(&h, m->n_items, f.deny, &dismissed); /* "Not interested" */
    if (popular_only && !fallback)
        fallback = TL__POPULAR_ASKED;
    if (!fallback && h.n > 0 &&
        (rc = tl_model_recommend(m, h.uidx, h.items, h.w, h.n, &f, pool, items, scores, &got)) !=
            TL_OK)
        goto out;
    if (!fallback && (h.n == 0 || tl__all_zero(scores, got)))
        fallback = h.n == 0 ? NO_HISTORY : NO_EVIDENCE;
    if (fallback &&
        (rc = tl__popular_pick(s, priv->ref, h.items, h.n, &f, pool, items, scores, &got)) != TL_OK)
        goto out;
    if (works)
        tl__works_dedupe(works, h.items, h.n, items, scores, &got);
    if (prefer)
        tl__shelf_prefer(s, priv->ref, branch, items, scores, got);
    /* the re-ranker only chooses among the model's items: reasons and evidence stay the model's */
    if ((rc = tl__rerank_apply(priv->ref, &rerank, h.items, h.w, h.n, items, scores, &got, q->n)) !=
        TL_OK)
        goto out;
    tl__rec_items_fill(m, &h, out->items, items, scores, got,
                       fallback        ? TL__WHY_POPULAR
                       : q->similar_to ? TL__WHY_SIMILAR
                                       : TL__WHY_HISTORY,
                       q->explain, fallback);
    tl__shelf_fill(s, priv->ref, branch, out->items, got);
    out->model = served;
    out->fallback = fallback;
    out->n = got;
    out->history = h.n;
    out->live_events = h.live;
    if (q->impression && tl__imp_logging(s)) {
        const char **ids = malloc(((size_t)got + 1) * sizeof(*ids));
        for (int k = 0; ids && k < got; k++)
            ids[k] = out->items[k].item;
        if (ids)
            tl__imp_log_list(s, TL__SURFACE_RECOMMENDATIONS,
                             fallback && strcmp(fallback, TL__OPTED_OUT) == 0 ? NULL : q->user,
                             served, arms.experiment, arms.arm, &q->context, &h, ids, got,
                             out->impression_id);
        free(ids);
    }
    tl__exp_arms_done(s, &arms);
out:
    out->priv_ = priv;
    if (rc != TL_OK)
        tl_rec_result_free(out);
    free(items);
    free(scores);
    free(allow);
    free(deny);
    free(dismissed);
    tl__hist_release(&h);
    return rc;
}

void tl_rec_result_free(tl_rec_result *r)
{
    result_priv *priv = r->priv_;
    if (priv)
        tl__model_ref_release(priv->ref);
    free(priv);
    free(r->items);
    memset(r, 0, sizeof(*r));
}
