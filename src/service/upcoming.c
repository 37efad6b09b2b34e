/* Library events (talks, workshops: items of type "event" with a start and a place) are worth
 * recommending only until they are over. Time moves without the store changing, so this is
 * decided at each request, at the request's time: the model's events are kept sorted by the
 * moment each is over (its end, else its start), and a request leaves out the prefix that is
 * over by then, a binary search, with no training and no scan of the store. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "service/service_int.h"
#include "util/grow.h"

typedef struct sched_event {
    int32_t item;
    int64_t over;   /* when it is over; INT64_MAX: never known to be */
    int64_t starts; /* TL_ABSENT when unknown */
} sched_event;

typedef struct tl_sched {
    int32_t n, cap;
    sched_event *e; /* by over, soonest first */
} tl_sched;

typedef struct reading {
    const tl_model *m;
    tl_sched *sc;
} reading;

static void sched_free(tl_sched *sc)
{
    if (sc) {
        free(sc->e);
        free(sc);
    }
}

static tl_err add_event(void *ctx, const char *item, int64_t starts, int64_t ends)
{
    reading *rd = ctx;
    int32_t i = tl_intern_find(&rd->m->items, item, strlen(item));
    if (i < 0)
        return TL_OK; /* not in the model: never recommended by it */
    tl_sched *sc = rd->sc;
    tl_err rc = tl_grow((void **)&sc->e, &sc->cap, sc->n, sizeof(*sc->e), 64);
    if (rc != TL_OK)
        return rc;
    sc->e[sc->n++] = (sched_event){i,
                                   ends != TL_ABSENT     ? ends
                                   : starts != TL_ABSENT ? starts
                                                         : INT64_MAX,
                                   starts};
    return TL_OK;
}

static int by_over(const void *pa, const void *pb)
{
    const sched_event *a = pa, *b = pb;
    if (a->over != b->over)
        return a->over < b->over ? -1 : 1;
    return a->item < b->item ? -1 : a->item > b->item;
}

/* Reads r's events again when they may have changed. Under r->sched_mu. */
static void refresh(tl_service *s, tl_model_ref *r)
{
    tl_store *st = NULL;
    if (!tl__snapshot_due(s, &r->sched_snap, TL_SNAPSHOT_TTL, &st))
        return;
    tl_sched *sc = calloc(1, sizeof(*sc));
    reading rd = {r->m, sc};
    tl_diag d;
    tl_diag_clear(&d);
    tl_err rc = sc ? tl_store_schedules_each(st, add_event, &rd, &d) : TL_ENOMEM;
    tl__service_reader_done(s, st);
    if (rc == TL_OK && sc->n)
        qsort(sc->e, (size_t)sc->n, sizeof(*sc->e), by_over);
    if (rc == TL_OK || rc == TL_EVERSION) { /* a store before schema 5 has no events */
        sched_free(r->sched);
        r->sched = rc == TL_OK ? sc : NULL;
        if (rc != TL_OK)
            sched_free(sc);
        tl__snapshot_done(s, r->sched_snap);
        return;
    }
    sched_free(sc); /* kept as they were; tried again after TL_SNAPSHOT_TTL */
}

/* The events over at t: the first of r->sched's. Under r->sched_mu. */
static int32_t n_over(const tl_sched *sc, int64_t t)
{
    int32_t lo = 0, hi = sc ? sc->n : 0;
    while (lo < hi) {
        int32_t mid = lo + (hi - lo) / 2;
        if (sc->e[mid].over < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int64_t tl__request_time(const tl_rec_context *c)
{
    return c && c->time > 0 ? (int64_t)c->time : (int64_t)time(NULL);
}

int32_t tl__events_over(tl_service *s, tl_model_ref *r, int64_t t, uint8_t *flags, uint8_t value)
{
    pthread_mutex_lock(&r->sched_mu);
    refresh(s, r);
    int32_t k = n_over(r->sched, t);
    for (int32_t j = 0; flags && j < k; j++)
        flags[r->sched->e[j].item] = value;
    pthread_mutex_unlock(&r->sched_mu);
    return k;
}

const uint8_t *tl__deny_at(tl_service *s, tl_model_ref *r, const uint8_t *gone, int64_t t,
                           uint8_t **own)
{
    *own = NULL;
    if (!tl__events_over(s, r, t, NULL, 1))
        return gone;
    size_t n = (size_t)r->m->n_items + 1;
    if (!(*own = malloc(n)))
        return gone; /* the events stay in: better than no answer */
    if (gone)
        memcpy(*own, gone, n);
    else
        memset(*own, 0, n);
    tl__events_over(s, r, t, *own, 1);
    return *own;
}

int tl__events_upcoming(tl_service *s, tl_model_ref *r, int64_t t, int32_t *items, int max)
{
    pthread_mutex_lock(&r->sched_mu);
    refresh(s, r);
    const tl_sched *sc = r->sched;
    int n = 0;
    for (int32_t j = n_over(sc, t); sc && j < sc->n && n < max; j++)
        if (sc->e[j].starts != TL_ABSENT)
            items[n++] = sc->e[j].item;
    pthread_mutex_unlock(&r->sched_mu);
    return n;
}

void tl__events_free(tl_model_ref *r)
{
    sched_free(r->sched);
    free(r->sched_snap);
    pthread_mutex_destroy(&r->sched_mu);
}
