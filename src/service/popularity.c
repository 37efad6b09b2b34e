/* Live popularity: how many patrons have each item, as the model was trained (its histories)
 * plus the events since, so that the popular answers (a patron without a history, the
 * homepage's "Popular with patrons") move with what is borrowed now, not at the next training.
 * The events since the model's watermark are read from the store once per model; events written
 * through this service are counted as they are written (another process's later writes wait
 * for the next training). Trained counts are patrons, later ones events (a second loan by the
 * same patron counts again). The ranked list is remade at most every REBUILD_SECONDS, and
 * published as a reference-counted object, so requests read it without a lock. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/filter.h"
#include "core/request.h"
#include "core/topk.h"
#include "service/service_int.h"
#include "util/clock.h"

#define REBUILD_SECONDS 0.25

struct tl_pop_list {
    atomic_long refs;
    int n;
    int32_t *items; /* most first */
    float *counts;
};

void tl__pop_list_release(tl_pop_list *l)
{
    if (l && atomic_fetch_sub_explicit(&l->refs, 1, memory_order_acq_rel) == 1) {
        free(l->items);
        free(l->counts);
        free(l);
    }
}

int tl__pop_list_n(const tl_pop_list *l)
{
    return l ? l->n : 0;
}

const int32_t *tl__pop_list_items(const tl_pop_list *l)
{
    return l ? l->items : NULL;
}

const float *tl__pop_list_counts(const tl_pop_list *l)
{
    return l ? l->counts : NULL;
}

typedef struct scan {
    const tl_model *m;
    const tl_event_weights *w;
    float *counts;
} scan;

/* tl_store_item_counts_since's rows: events of a type that counts (a positive weight) add. */
static tl_err on_count(void *ctx, const char *item, const char *type, int64_t count)
{
    scan *c = ctx;
    int32_t i = item ? tl_intern_find(&c->m->items, item, strlen(item)) : -1;
    if (i >= 0 && tl_event_weight_of(c->w, type ? type : "", 0, 0.0) > 0)
        c->counts[i] += (float)count;
    return TL_OK;
}

/* r->pop_counts: the patrons of each item in the model's histories, plus the store's events
 * since the model's watermark. Under r->pop_mu. */
static tl_err init_counts(tl_service *s, tl_model_ref *r)
{
    const tl_model *m = r->m;
    const tl_csr *h = &m->hist;
    if (!h->indptr || h->ncols != m->n_items)
        return TL_EUNSUPPORTED; /* no histories: no popular list */
    float *c = calloc((size_t)m->n_items + 1, sizeof(*c));
    if (!c)
        return TL_ENOMEM;
    for (int64_t p = 0; p < h->nnz; p++)
        c[h->indices[p]] += 1.0f;
    tl_store *st;
    if (s->db && m->trained_through > 0 && tl__service_reader(s, &st, NULL) == TL_OK) {
        scan sc = {m, &s->weights, c};
        tl_err rc = tl_store_item_counts_since(st, m->trained_through, on_count, &sc);
        tl__service_reader_done(s, st);
        if (rc != TL_OK) /* the trained counts still hold: say so, and go on with them */
            tl__service_log(s, "error", "popularity",
                            "could not read the events since the model: %s", tl_strerror(rc));
    }
    r->pop_counts = c;
    return TL_OK;
}

/* A new list of the TL_REF_POPULAR most held items from r->pop_counts. Under r->pop_mu. */
static tl_pop_list *make_list(const tl_model_ref *r)
{
    int32_t n = r->m->n_items;
    int want = n < TL_REF_POPULAR ? n : TL_REF_POPULAR;
    tl_pop_list *l = calloc(1, sizeof(*l));
    if (!l)
        return NULL;
    atomic_init(&l->refs, 1);
    l->items = malloc(((size_t)want + 1) * sizeof(*l->items));
    l->counts = malloc(((size_t)want + 1) * sizeof(*l->counts));
    if (!l->items || !l->counts) {
        tl__pop_list_release(l);
        return NULL;
    }
    l->n = tl_topk(r->pop_counts, n, want, l->items, l->counts);
    return l;
}

tl_pop_list *tl__popular(tl_service *s, tl_model_ref *r)
{
    tl_pop_list *l = NULL;
    pthread_mutex_lock(&r->pop_mu);
    if (!r->pop_counts && !r->pop_failed && init_counts(s, r) != TL_OK)
        r->pop_failed = 1; /* no histories (or no memory): no popular list for this model */
    double now = tl_now();
    if (r->pop_counts &&
        (!r->pop_list || (r->pop_dirty && now - r->pop_built >= REBUILD_SECONDS))) {
        tl_pop_list *fresh = make_list(r);
        if (fresh) {
            tl__pop_list_release(r->pop_list);
            r->pop_list = fresh;
            r->pop_dirty = 0;
            r->pop_built = now;
        }
    }
    if ((l = r->pop_list))
        atomic_fetch_add_explicit(&l->refs, 1, memory_order_relaxed);
    pthread_mutex_unlock(&r->pop_mu);
    return l;
}

tl_err tl__popular_pick(tl_service *s, tl_model_ref *r, const int32_t *exclude, int32_t n_exclude,
                        const tl_filter *f, int n, int32_t *out_items, float *out_scores,
                        int *n_out)
{
    const tl_model *m = r->m;
    *n_out = 0;
    tl_pop_list *l = tl__popular(s, r);
    if (!l && !r->pop_counts)
        return tl_model_popular(m, exclude, n_exclude, f, n, out_items, out_scores, n_out);
    /* the list, less what the patron has and what the filter keeps out */
    int got = 0, k = 0;
    for (; l && k < l->n && got < n; k++) {
        int32_t i = l->items[k];
        int skip = (f && f->allow && !f->allow[i]) || (f && f->deny && f->deny[i]);
        for (int32_t e = 0; e < n_exclude && !skip; e++)
            skip = exclude[e] == i;
        if (!skip) {
            out_items[got] = i;
            out_scores[got++] = l->counts[k];
        }
    }
    int exhausted = !l || (k == l->n && l->n < m->n_items);
    tl__pop_list_release(l);
    if (got == n || !exhausted) {
        *n_out = got;
        return TL_OK;
    }
    /* narrow filters ran past the list: every item's count, under the same rules */
    float *c = malloc(((size_t)m->n_items + 1) * sizeof(*c));
    if (!c)
        return TL_ENOMEM;
    pthread_mutex_lock(&r->pop_mu);
    memcpy(c, r->pop_counts, (size_t)m->n_items * sizeof(*c));
    pthread_mutex_unlock(&r->pop_mu);
    for (int32_t e = 0; e < n_exclude; e++)
        if (exclude[e] >= 0 && exclude[e] < m->n_items)
            c[exclude[e]] = -INFINITY;
    tl_filter_apply(f, c, m->n_items);
    *n_out = tl_topk(c, m->n_items, n, out_items, out_scores);
    while (*n_out > 0 && !isfinite(out_scores[*n_out - 1]))
        (*n_out)--;
    free(c);
    return TL_OK;
}

void tl__popular_add(tl_service *s, const tl_event_rec *ev, size_t n)
{
    tl_model_ref *refs[TL_SERVICE_MAX_MODELS];
    int n_refs = 0;
    pthread_mutex_lock(&s->mu);
    for (int k = 0; k < s->n_slots; k++)
        if (s->slot[k]) {
            refs[n_refs++] = s->slot[k];
            atomic_fetch_add_explicit(&s->slot[k]->refs, 1, memory_order_relaxed);
        }
    pthread_mutex_unlock(&s->mu);
    for (int k = 0; k < n_refs; k++) {
        tl_model_ref *r = refs[k];
        pthread_mutex_lock(&r->pop_mu);
        /* before the first use the store's scan counts them: nothing to do here */
        for (size_t j = 0; r->pop_counts && j < n; j++) {
            const tl_event_rec *e = &ev[j];
            if (!(tl_event_weight_of(&s->weights, e->type ? e->type : "", e->has_value, e->value) >
                  0))
                continue;
            int32_t i = tl_intern_find(&r->m->items, e->item, e->item_len);
            if (i >= 0) {
                r->pop_counts[i] += 1.0f;
                r->pop_dirty = 1;
            }
        }
        pthread_mutex_unlock(&r->pop_mu);
        tl__model_ref_release(r);
    }
}

void tl__popular_free(tl_model_ref *r)
{
    tl__pop_list_release(r->pop_list);
    free(r->pop_counts);
    pthread_mutex_destroy(&r->pop_mu);
}
