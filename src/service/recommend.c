/* Recommendations for one request: the history (live from the store, the model's, ad hoc or
 * one item), filters, top-n, the popular fallback, and a reason with evidence for each item. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/filter.h"
#include "core/request.h"
#include "service/history.h"
#include "service/service_int.h"

static const char NO_HISTORY[] = "no usable history for this patron";
static const char NO_EVIDENCE[] = "the model found nothing in this patron's history";
static const char OPTED_OUT[] = "this patron opted out of personalization";

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

static int all_zero(const float *scores, int got)
{
    for (int r = 0; r < got; r++)
        if (scores[r] != 0.0f)
            return 0;
    return got > 0;
}

static const char *title_of(const tl_model *m, int32_t i)
{
    return i >= 0 && i < m->cat.n && m->cat.title[i] ? m->cat.title[i] : NULL;
}

/* "A", "A and B", "A, B and C", each title (else id) in quotes. */
static void name_list(const tl_rec_item *it, char *buf, size_t len)
{
    size_t o = 0;
    buf[0] = '\0';
    for (int k = 0; k < it->n_evidence && o < len; k++) {
        const char *sep = k == 0 ? "" : k == it->n_evidence - 1 ? " and " : ", ";
        const tl_rec_evidence *e = &it->evidence[k];
        o += (size_t)snprintf(buf + o, len - o, "%s\"%s\"", sep, e->title ? e->title : e->item);
    }
}

static void write_reason(tl_rec_item *it, const char *fallback)
{
    char names[200];
    name_list(it, names, sizeof(names));
    if (fallback || strcmp(it->kind, "popular") == 0)
        snprintf(it->reason, sizeof(it->reason), "Popular with patrons%s%s", fallback ? ": " : "",
                 fallback ? fallback : "");
    else if (!it->n_evidence)
        snprintf(it->reason, sizeof(it->reason), "Recommended for you");
    else if (strcmp(it->kind, "next_after") == 0)
        snprintf(it->reason, sizeof(it->reason), "Often borrowed next after %s", names);
    else if (strcmp(it->kind, "similar_content") == 0)
        snprintf(it->reason, sizeof(it->reason), "Like %s in subject and author", names);
    else if (strcmp(it->kind, "similar_to") == 0)
        snprintf(it->reason, sizeof(it->reason), "Patrons who borrowed %s also borrowed this",
                 names);
    else
        snprintf(it->reason, sizeof(it->reason), "Because you borrowed %s", names);
}

static void explain_item(const tl_model *m, const tl_hist *h, tl_rec_item *it, int32_t item,
                         int similar)
{
    int32_t why[TL_REC_MAX_EVIDENCE];
    float contrib[TL_REC_MAX_EVIDENCE];
    tl_reason_kind kind;
    int nwhy = tl_model_explain(m, h->uidx, h->items, h->w, h->n, item, why, contrib,
                                TL_REC_MAX_EVIDENCE, &kind);
    it->kind = tl_reason_kind_name(kind);
    if (similar && kind == TL_REASON_HISTORY)
        it->kind = "similar_to";
    for (int k = 0; k < nwhy; k++) {
        int32_t j = h->items[why[k]];
        it->evidence[k] =
            (tl_rec_evidence){tl_intern_str(&m->items, j), title_of(m, j), contrib[k]};
    }
    it->n_evidence = nwhy;
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
    return TL_OK;
}

/* The patron's history: live from the store when there is one, else the model file's. */
static tl_err patron_history(tl_service *s, const tl_model *m, const char *user, tl_hist *h,
                             const char **fallback, tl_diag *d)
{
    int32_t u = tl_intern_find(&m->users, user, strlen(user));
    int found = 0, personalize = 1;
    if (s->db) {
        tl_store *st;
        tl_err rc = tl__service_reader(s, &st, d);
        if (rc != TL_OK)
            return rc;
        rc = tl__hist_from_store(st, &s->weights, m, user, h, &found, &personalize, d);
        tl__service_reader_done(s, st);
        if (rc != TL_OK)
            return rc;
        if (found && !personalize) {
            h->n = 0;
            *fallback = OPTED_OUT;
            return TL_OK;
        }
    }
    if (!found && u >= 0 && m->hist.indptr)
        return tl__hist_trained(m, u, h);
    if (!found) {
        tl_diag_set(d, NULL, 0, "user", "no patron '%.100s' in the %s", user,
                    s->db ? "store or the model" : "model");
        return TL_ENOTFOUND;
    }
    return TL_OK;
}

tl_err tl_service_recommend(tl_service *s, const tl_rec_query *q, tl_rec_result *out, tl_diag *d)
{
    memset(out, 0, sizeof(*out));
    tl_err rc = check_query(q, d);
    if (rc != TL_OK)
        return rc;
    result_priv *priv = calloc(1, sizeof(*priv));
    out->items = calloc((size_t)q->n, sizeof(*out->items));
    int32_t *items = malloc((size_t)q->n * sizeof(*items));
    float *scores = malloc((size_t)q->n * sizeof(*scores));
    uint8_t *allow = NULL;
    tl_hist h = {.uidx = -1};
    const char *fallback = NULL;
    int got = 0;
    if (!priv || !out->items || !items || !scores) {
        rc = TL_ENOMEM;
        goto out;
    }
    priv->ref = tl__service_model(s);
    const tl_model *m = priv->ref->m;
    if ((rc = build_filter(m, q->filters, q->n_filters, &allow, d)) != TL_OK)
        goto out;
    tl_filter f = {.allow = allow};
    if (q->user) {
        rc = patron_history(s, m, q->user, &h, &fallback, d);
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
    if (h.n > 0 && (rc = tl_model_recommend(m, h.uidx, h.items, h.w, h.n, &f, q->n, items, scores,
                                            &got)) != TL_OK)
        goto out;
    if (!fallback && (h.n == 0 || all_zero(scores, got)))
        fallback = h.n == 0 ? NO_HISTORY : NO_EVIDENCE;
    if (fallback &&
        (rc = tl_model_popular(m, h.items, h.n, &f, q->n, items, scores, &got)) != TL_OK)
        goto out;
    for (int r = 0; r < got; r++) {
        tl_rec_item *it = &out->items[r];
        it->item = tl_intern_str(&m->items, items[r]);
        it->title = title_of(m, items[r]);
        it->score = scores[r];
        it->kind = "popular";
        if (!fallback && q->explain) {
            explain_item(m, &h, it, items[r], q->similar_to != NULL);
        } else if (!fallback) {
            tl_reason_kind k = tl_reason_kind_of(m->ops->name);
            it->kind =
                q->similar_to && k == TL_REASON_HISTORY ? "similar_to" : tl_reason_kind_name(k);
        }
        write_reason(it, fallback);
    }
    out->model = m->ops->name;
    out->fallback = fallback;
    out->n = got;
    out->history = h.n;
    out->live_events = h.live;
out:
    out->priv_ = priv;
    if (rc != TL_OK)
        tl_rec_result_free(out);
    free(items);
    free(scores);
    free(allow);
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
