/* The non-personal lists a homepage draws on, shared by every request: the newest additions of
 * each model (made once), and what is trending in the store (read again at most once a minute,
 * since it scans the recent events). The most held items are popularity.c's. */
#include <stdlib.h>
#include <string.h>

#include "core/request.h"
#include "service/service_int.h"
#include "util/clock.h"

#define TREND_WINDOW (7 * 86400) /* seconds: "this week" */
#define TREND_TTL 60.0           /* seconds a trending list is reused */
#define TREND_MAX 200

typedef struct dated {
    int64_t added;
    int32_t item;
} dated;

static int newest_first(const void *a, const void *b)
{
    const dated *x = a, *y = b;
    if (x->added != y->added)
        return x->added > y->added ? -1 : 1;
    return x->item < y->item ? -1 : x->item > y->item;
}

static tl_err make_newest(tl_model_ref *r)
{
    const tl_model *m = r->m;
    int32_t n = 0;
    for (int32_t i = 0; i < m->n_items && i < m->cat.n; i++)
        n += m->cat.added && m->cat.added[i] > 0;
    if (!n)
        return TL_OK;
    dated *all = malloc((size_t)n * sizeof(*all));
    if (!all)
        return TL_ENOMEM;
    n = 0;
    for (int32_t i = 0; i < m->n_items && i < m->cat.n; i++)
        if (m->cat.added[i] > 0)
            all[n++] = (dated){m->cat.added[i], i};
    qsort(all, (size_t)n, sizeof(*all), newest_first);
    int keep = n < TL_REF_NEWEST ? n : TL_REF_NEWEST;
    if (!(r->newest = malloc((size_t)keep * sizeof(*r->newest)))) {
        free(all);
        return TL_ENOMEM;
    }
    for (int k = 0; k < keep; k++)
        r->newest[k] = all[k].item;
    r->n_newest = keep;
    free(all);
    return TL_OK;
}

tl_err tl__ref_lists(tl_model_ref *r)
{
    tl_err rc = TL_OK;
    pthread_mutex_lock(&r->lists_mu);
    if (!r->lists_done) {
        rc = make_newest(r);
        r->lists_done = rc == TL_OK;
    }
    pthread_mutex_unlock(&r->lists_mu);
    return rc;
}

typedef struct trend_read {
    char **ids;
    float *n;
    int count;
} trend_read;

static tl_err on_trending(void *ctx, const char *key, const char *label, int64_t count)
{
    (void)label;
    trend_read *t = ctx;
    if (t->count == TREND_MAX)
        return TL_OK;
    if (!(t->ids[t->count] = strdup(key ? key : "")))
        return TL_ENOMEM;
    t->n[t->count++] = (float)count;
    return TL_OK;
}

static void free_ids(char **ids, int n)
{
    for (int k = 0; k < n; k++)
        free(ids[k]);
    free(ids);
}

tl_err tl__service_trending(tl_service *s, const tl_model *m, int32_t *items, float *counts,
                            int max, int *n, tl_diag *d)
{
    *n = 0;
    if (!s->db)
        return TL_OK;
    pthread_mutex_lock(&s->trend_mu);
    tl_err rc = TL_OK;
    double now = tl_now();
    if (!s->trend_at || now - s->trend_at > TREND_TTL) {
        trend_read t = {calloc(TREND_MAX, sizeof(char *)), calloc(TREND_MAX, sizeof(float)), 0};
        tl_store *st = NULL;
        if (!t.ids || !t.n)
            rc = TL_ENOMEM;
        else if ((rc = tl__service_reader(s, &st, d)) == TL_OK) {
            rc = tl_store_trending(st, TREND_WINDOW, TREND_MAX, on_trending, &t);
            tl__service_reader_done(s, st);
        }
        if (rc == TL_OK) {
            free_ids(s->trend_ids, s->n_trend);
            free(s->trend_n);
            s->trend_ids = t.ids;
            s->trend_n = t.n;
            s->n_trend = t.count;
            s->trend_at = now;
        } else {
            free_ids(t.ids, t.count);
            free(t.n);
        }
    }
    /* as the model's items (those it does not have cannot be shown with it) */
    for (int k = 0; rc == TL_OK && k < s->n_trend && *n < max; k++) {
        int32_t i = tl_intern_find(&m->items, s->trend_ids[k], strlen(s->trend_ids[k]));
        if (i >= 0) {
            items[*n] = i;
            counts[(*n)++] = s->trend_n[k];
        }
    }
    pthread_mutex_unlock(&s->trend_mu);
    return rc;
}
