/* The non-personal lists a homepage draws on, shared by every request: the newest additions of
 * each model (made once), and what is trending in the store (read again at most once a minute,
 * since it scans the recent events). The most held items are popularity.c's. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/series.h"
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

typedef struct volume {
    char *series;
    double no;
    int32_t item;
} volume;

static int by_series(const void *a, const void *b)
{
    const volume *x = a, *y = b;
    int c = strcmp(x->series, y->series);
    if (c)
        return c;
    if (x->no != y->no)
        return x->no < y->no ? -1 : 1;
    return x->item < y->item ? -1 : x->item > y->item;
}

/* r->series_next: for each item whose title names a series ("Catching Fire (The Hunger Games,
 * #2)"), the first volume numbered from floor(N) + 1 on (after #2 and #2.5 comes #3). */
static tl_err make_series(tl_model_ref *r)
{
    const tl_model *m = r->m;
    int32_t n = m->n_items < m->cat.n ? m->n_items : m->cat.n;
    if (!m->cat.title || n <= 0)
        return TL_OK;
    volume *v = malloc((size_t)n * sizeof(*v));
    if (!v)
        return TL_ENOMEM;
    int32_t nv = 0;
    tl_err rc = TL_OK;
    char name[256];
    for (int32_t i = 0; i < n && rc == TL_OK; i++) {
        double no;
        if (!m->cat.title[i] || !tl_series_parse(m->cat.title[i], name, sizeof(name), &no))
            continue;
        if (!(v[nv].series = strdup(name))) {
            rc = TL_ENOMEM;
        } else {
            v[nv].no = no;
            v[nv++].item = i;
        }
    }
    if (rc == TL_OK && nv > 1 && !(r->series_next = malloc((size_t)m->n_items * sizeof(int32_t))))
        rc = TL_ENOMEM;
    if (rc == TL_OK && r->series_next) {
        for (int32_t i = 0; i < m->n_items; i++)
            r->series_next[i] = -1;
        qsort(v, (size_t)nv, sizeof(*v), by_series);
        for (int32_t a = 0; a < nv; a++)
            for (int32_t b = a + 1; b < nv && strcmp(v[a].series, v[b].series) == 0; b++)
                if (v[b].no >= floor(v[a].no) + 1) {
                    r->series_next[v[a].item] = v[b].item;
                    break;
                }
    }
    for (int32_t k = 0; k < nv; k++)
        free(v[k].series);
    free(v);
    return rc;
}

tl_err tl__ref_lists(tl_model_ref *r)
{
    tl_err rc = TL_OK;
    pthread_mutex_lock(&r->lists_mu);
    if (!r->lists_done) {
        if ((rc = make_newest(r)) == TL_OK)
            rc = make_series(r);
        r->lists_done = rc == TL_OK;
    }
    pthread_mutex_unlock(&r->lists_mu);
    return rc;
}

/* A list read from the store (trending, a group's most held), kept for LIST_TTL. */
typedef struct tl_store_list {
    char *key; /* "trending", "segment:VALUE"; NULL: free */
    double at; /* when it was read (tl_now) */
    uint64_t used;
    char **ids; /* item ids, most first */
    float *n;
    int count;
} tl_store_list;

typedef struct list_read {
    char **ids;
    float *n;
    int count;
} list_read;

static tl_err on_row(void *ctx, const char *key, const char *label, int64_t count)
{
    (void)label;
    list_read *t = ctx;
    if (t->count == TREND_MAX)
        return TL_OK;
    if (!(t->ids[t->count] = strdup(key ? key : "")))
        return TL_ENOMEM;
    t->n[t->count++] = (float)count;
    return TL_OK;
}

static void list_clear(tl_store_list *l)
{
    for (int k = 0; k < l->count; k++)
        free(l->ids[k]);
    free(l->ids);
    free(l->n);
    free(l->key);
    memset(l, 0, sizeof(*l));
}

void tl__service_lists_free(tl_service *s)
{
    for (int k = 0; s->lists && k < TL_SERVICE_LISTS; k++)
        list_clear(&s->lists[k]);
    free(s->lists);
    s->lists = NULL;
}

/* What a list is read with: the store, then fetch's own argument. */
typedef tl_err (*list_fetch)(tl_store *st, const void *arg, tl_store_row_fn fn, void *ctx);

static tl_err fetch_trending(tl_store *st, const void *arg, tl_store_row_fn fn, void *ctx)
{
    (void)arg;
    return tl_store_trending(st, TREND_WINDOW, TREND_MAX, fn, ctx);
}

typedef struct segment_arg {
    const char *attr, *value;
    int min;
} segment_arg;

static tl_err fetch_segment(tl_store *st, const void *arg, tl_store_row_fn fn, void *ctx)
{
    const segment_arg *a = arg;
    return tl_store_segment_top(st, a->attr, a->value, a->min, TREND_MAX, fn, ctx);
}

/* The list key, as m's items (those it does not have cannot be shown with it): read again when
 * older than TREND_TTL, kept in the slot used longest ago. Under s->lists_mu. */
static tl_err cached_list(tl_service *s, const tl_model *m, const char *key, list_fetch fetch,
                          const void *arg, int32_t *items, float *counts, int max, int *n,
                          tl_diag *d)
{
    *n = 0;
    if (!s->lists && !(s->lists = calloc(TL_SERVICE_LISTS, sizeof(*s->lists))))
        return TL_ENOMEM;
    tl_store_list *l = NULL, *old = &s->lists[0];
    for (int k = 0; k < TL_SERVICE_LISTS && !l; k++) {
        if (s->lists[k].key && strcmp(s->lists[k].key, key) == 0)
            l = &s->lists[k];
        else if (s->lists[k].used < old->used)
            old = &s->lists[k];
    }
    double now = tl_now();
    tl_err rc = TL_OK;
    if (!l || now - l->at > TREND_TTL) {
        list_read t = {calloc(TREND_MAX, sizeof(char *)), calloc(TREND_MAX, sizeof(float)), 0};
        tl_store *st = NULL;
        char *k = strdup(key);
        if (!t.ids || !t.n || !k)
            rc = TL_ENOMEM;
        else if ((rc = tl__service_reader(s, &st, d)) == TL_OK) {
            rc = fetch(st, arg, on_row, &t);
            tl__service_reader_done(s, st);
        }
        if (rc == TL_OK) {
            l = l ? l : old;
            list_clear(l);
            *l = (tl_store_list){k, now, 0, t.ids, t.n, t.count};
        } else {
            for (int j = 0; j < t.count; j++)
                free(t.ids[j]);
            free(t.ids);
            free(t.n);
            free(k);
            return rc;
        }
    }
    l->used = ++s->lists_clock;
    for (int k = 0; k < l->count && *n < max; k++) {
        int32_t i = tl_intern_find(&m->items, l->ids[k], strlen(l->ids[k]));
        if (i >= 0) {
            items[*n] = i;
            counts[(*n)++] = l->n[k];
        }
    }
    return TL_OK;
}

tl_err tl__service_trending(tl_service *s, const tl_model *m, int32_t *items, float *counts,
                            int max, int *n, tl_diag *d)
{
    *n = 0;
    if (!s->db)
        return TL_OK;
    pthread_mutex_lock(&s->lists_mu);
    tl_err rc = cached_list(s, m, "trending", fetch_trending, NULL, items, counts, max, n, d);
    pthread_mutex_unlock(&s->lists_mu);
    return rc;
}

tl_err tl__service_segment(tl_service *s, const tl_model *m, const char *user, char *value,
                           size_t value_len, int32_t *items, float *counts, int max, int *n,
                           tl_diag *d)
{
    *n = 0;
    value[0] = '\0';
    if (!s->db || !s->segment_attr[0])
        return TL_OK;
    tl_store *st;
    char *v = NULL;
    tl_err rc = tl__service_reader(s, &st, d);
    if (rc != TL_OK)
        return rc;
    rc = tl_store_user_attr(st, user, s->segment_attr, &v);
    tl__service_reader_done(s, st);
    if (rc != TL_OK || !v || !*v || strlen(v) >= value_len) { /* no group: no row */
        free(v);
        return rc == TL_EINVAL ? TL_OK : rc;
    }
    snprintf(value, value_len, "%s", v);
    free(v);
    char key[TL_SEGMENT_ATTR_MAX + 300];
    snprintf(key, sizeof(key), "segment:%s", value);
    segment_arg arg = {s->segment_attr, value, s->min_group};
    pthread_mutex_lock(&s->lists_mu);
    rc = cached_list(s, m, key, fetch_segment, &arg, items, counts, max, n, d);
    pthread_mutex_unlock(&s->lists_mu);
    return rc;
}
