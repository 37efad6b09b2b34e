/* The history a request scores: a patron's events in the store now (live), the model file's
 * training history, an ad-hoc list of items, or one item ("more like this"). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service/hist_cache.h"
#include "service/history.h"
#include "service/service_int.h"

void tl__hist_release(tl_hist *h)
{
    free(h->items);
    free(h->w);
    free(h->ts);
    free(h->dismissed);
    memset(h, 0, sizeof(*h));
}

static tl_err push_dismissed(tl_hist *h, int32_t item)
{
    if (h->n_dismissed == h->dismissed_cap) {
        int32_t cap = h->dismissed_cap ? h->dismissed_cap * 2 : 16;
        int32_t *d = realloc(h->dismissed, (size_t)cap * sizeof(*d));
        if (!d)
            return TL_ENOMEM;
        h->dismissed = d;
        h->dismissed_cap = cap;
    }
    h->dismissed[h->n_dismissed++] = item;
    return TL_OK;
}

const uint8_t *tl__hist_deny(const tl_hist *h, int32_t n_items, const uint8_t *deny, uint8_t **own)
{
    *own = NULL;
    if (!h->n_dismissed)
        return deny;
    if (!(*own = malloc((size_t)n_items + 1)))
        return deny; /* the dismissed items may come back: better than no answer */
    if (deny)
        memcpy(*own, deny, (size_t)n_items + 1);
    else
        memset(*own, 0, (size_t)n_items + 1);
    for (int32_t k = 0; k < h->n_dismissed; k++)
        (*own)[h->dismissed[k]] = 1;
    return *own;
}

static tl_err push(tl_hist *h, int32_t item, float w, int64_t ts)
{
    if (h->n == h->cap) {
        int32_t cap = h->cap ? h->cap * 2 : 64;
        int32_t *i = realloc(h->items, (size_t)cap * sizeof(*i));
        if (i)
            h->items = i;
        float *x = i ? realloc(h->w, (size_t)cap * sizeof(*x)) : NULL;
        if (x)
            h->w = x;
        int64_t *t = x ? realloc(h->ts, (size_t)cap * sizeof(*t)) : NULL;
        if (!t)
            return TL_ENOMEM;
        h->ts = t;
        h->cap = cap;
    }
    h->items[h->n] = item;
    h->w[h->n] = w;
    h->ts[h->n++] = ts;
    return TL_OK;
}

typedef struct store_ctx {
    const tl_model *m;
    tl_hist *h;
} store_ctx;

/* Items the model does not know (arrivals since it was trained) cannot be scored: skipped. */
static tl_err on_item(void *ctx, const char *item, size_t len, float weight, int64_t ts)
{
    store_ctx *c = ctx;
    int32_t i = tl_intern_find(&c->m->items, item, len);
    if (i < 0)
        return TL_OK;
    if (weight <= 0) /* "Not interested": kept out of suggestions, no evidence */
        return push_dismissed(c->h, i);
    const tl_model *m = c->m;
    if (m->half_life_days > 0) { /* the decay the model was trained with */
        double age = (double)m->decay_ref - (double)ts;
        weight *= (float)exp2(-(age > 0 ? age : 0) / (m->half_life_days * 86400.0));
    }
    return push(c->h, i, weight, ts);
}

typedef struct entry {
    int64_t ts;
    int32_t item;
    float w;
} entry;

/* Oldest first, as sequence models read an ad-hoc history (the last is the most recent). */
static int by_time(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    if (x->ts != y->ts)
        return x->ts < y->ts ? -1 : 1;
    return x->item < y->item ? -1 : x->item > y->item;
}

static tl_err sort_by_time(tl_hist *h)
{
    entry *e = malloc(((size_t)h->n + 1) * sizeof(*e));
    if (!e)
        return TL_ENOMEM;
    for (int32_t k = 0; k < h->n; k++)
        e[k] = (entry){h->ts[k], h->items[k], h->w[k]};
    qsort(e, (size_t)h->n, sizeof(*e), by_time);
    for (int32_t k = 0; k < h->n; k++) {
        h->ts[k] = e[k].ts;
        h->items[k] = e[k].item;
        h->w[k] = e[k].w;
    }
    free(e);
    return TL_OK;
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return x < y ? -1 : x > y;
}

/* Whether h holds exactly the items of the model's training row u (1), not (0), or -1 when
 * memory ran out. */
static int same_as_trained(const tl_model *m, int32_t u, const tl_hist *h)
{
    if (u < 0 || !m->hist.indptr)
        return 0;
    int64_t a = m->hist.indptr[u], b = m->hist.indptr[u + 1];
    if (b - a != h->n)
        return 0;
    int32_t *row = malloc(((size_t)h->n + 1) * sizeof(*row));
    if (!row)
        return -1;
    memcpy(row, m->hist.indices + a, (size_t)h->n * sizeof(*row));
    qsort(row, (size_t)h->n, sizeof(*row), cmp_i32);
    int same = 1;
    for (int32_t k = 0; k < h->n && same; k++)
        same = bsearch(&h->items[k], row, (size_t)h->n, sizeof(*row), cmp_i32) != NULL;
    free(row);
    return same;
}

tl_err tl__hist_trained(const tl_model *m, int32_t u, tl_hist *h)
{
    int64_t a = m->hist.indptr[u], b = m->hist.indptr[u + 1];
    tl_err rc = TL_OK;
    for (int64_t p = a; p < b && rc == TL_OK; p++)
        rc = push(h, m->hist.indices[p], m->hist.data[p], 0);
    h->uidx = u;
    return rc;
}

tl_err tl__hist_from_store(tl_store *st, const tl_event_weights *w, const tl_model *m,
                           const char *user, const char *ref, const tl_history_context *cx,
                           tl_hist *h, int *found, int *personalize, tl_diag *d)
{
    store_ctx c = {m, h};
    tl_err rc =
        tl_store_user_history(st, user, strlen(user), w, cx, on_item, &c, found, personalize, d);
    if (rc != TL_OK || !*found)
        return rc;
    int32_t u = tl_intern_find(&m->users, ref, strlen(ref));
    int same = cx ? 0 : same_as_trained(m, u, h);
    if (same < 0)
        return TL_ENOMEM;
    if (same) {
        /* nothing new since training: the user's trained row (and factors) scores it; the
         * store's order (oldest first) is kept for rows such as "because you borrowed" */
        h->uidx = u;
        return sort_by_time(h);
    }
    /* the model never saw this history: score it as a new patron's (fold-in, fresh neighbours) */
    h->uidx = -1;
    int32_t trained = u >= 0 ? (int32_t)(m->hist.indptr[u + 1] - m->hist.indptr[u]) : 0;
    h->live = h->n > trained ? h->n - trained : 0;
    if (!h->live && h->n)
        h->live = 1; /* changed, not grown (an item's weight fell to 0, or it was erased) */
    return sort_by_time(h);
}

tl_err tl__hist_from_ids(const tl_model *m, const char *const *ids, int n, tl_hist *h)
{
    h->uidx = -1;
    tl_err rc = TL_OK;
    for (int k = 0; k < n && rc == TL_OK; k++) {
        int32_t i = ids[k] ? tl_intern_find(&m->items, ids[k], strlen(ids[k])) : -1;
        if (i >= 0)
            rc = push(h, i, 1.0f, k);
    }
    return rc;
}

/* The patron's history: live from the store when there is one, else the model file's. */
/* The store's view of a request's context; NULL when it has none. */
static const tl_history_context *history_context(const tl_rec_context *cx, tl_history_context *out)
{
    if (!cx || (!cx->device && !cx->channel && !cx->branch && cx->time <= 0))
        return NULL;
    *out = (tl_history_context){.until = cx->time > 0 ? cx->time : 0,
                                .device = cx->device,
                                .channel = cx->channel,
                                .branch = cx->branch,
                                .boost = TL_CONTEXT_BOOST};
    return out;
}

tl_err tl__patron_history(tl_service *s, const tl_model *m, const char *user,
                          const tl_rec_context *cx, tl_hist *h, const char **fallback, tl_diag *d)
{
    char pseudo[TL_PATRON_REF_SIZE];
    const char *ref = tl__patron_ref(s, user, pseudo); /* the model's name of the patron */
    int32_t u = tl_intern_find(&m->users, ref, strlen(ref));
    int found = 0, personalize = 1;
    tl_history_context hcx;
    const tl_history_context *in = history_context(cx, &hcx);
    if (s->db) {
        tl_store *st;
        tl_err rc = tl__service_reader(s, &st, d);
        if (rc != TL_OK)
            return rc;
        /* the generation after the reader looked for writes, before it reads (hist_cache.h);
         * keyed by ref: two tenants' patron "42" are two patrons */
        uint64_t gen = atomic_load_explicit(&s->store_gen, memory_order_acquire);
        if (in || !tl__hc_get(s->hcache, m->serial, gen, ref, h, &found, &personalize)) {
            rc = tl__hist_from_store(st, &s->weights, m, user, ref, in, h, &found, &personalize, d);
            char *v = NULL; /* "broaden my horizons", a preference of the patron's record */
            if (rc == TL_OK && found && tl_store_user_attr(st, user, "broaden", &v) == TL_OK && v)
                h->broaden = strcmp(v, "1") == 0 || strcmp(v, "true") == 0;
            free(v);
            if (rc == TL_OK && !in)
                tl__hc_put(s->hcache, m->serial, gen, ref, h, found, personalize);
        }
        tl__service_reader_done(s, st);
        if (rc != TL_OK)
            return rc;
        if (found && !personalize) {
            h->n = h->n_dismissed = 0;
            *fallback = TL__OPTED_OUT;
            return TL_OK;
        }
    }
    /* with a store, the store says who the patrons are: one it does not have (erased, or never
     * there) gets nothing from the model file's copy of a history */
    if (!found && !s->db && u >= 0 && m->hist.indptr)
        return tl__hist_trained(m, u, h);
    if (!found) {
        tl_diag_set(d, NULL, 0, "user", "no patron '%.100s' in the %s", user,
                    s->db ? "store or the model" : "model");
        return TL_ENOTFOUND;
    }
    return TL_OK;
}
