/* Learned seasonality: the weeks of the year in which each subject is borrowed, from the
 * store's loans (one aggregate query, read at most once a day), so that the homepage can offer
 * what is borrowed at this time of year (tax guides in April, gardening in May, a course's
 * reading in its term) without a calendar saying so. */
#include <stdlib.h>
#include <string.h>

#include "service/service_int.h"
#include "util/civil.h"
#include "util/grow.h"
#include "util/intern.h"

#define WEEKS 54 /* %W: 0..53 */

typedef struct tl_seasons {
    tl_intern subjects;
    double *loans; /* subjects x WEEKS */
    int32_t cap;
} tl_seasons;

static void seasons_free(tl_seasons *ss)
{
    if (ss) {
        tl_intern_release(&ss->subjects);
        free(ss->loans);
        free(ss);
    }
}

/* Adds loans to subject in week. */
static tl_err add_week(void *ctx, const char *subject, int week, int64_t loans)
{
    tl_seasons *ss = ctx;
    int32_t k;
    tl_err rc = tl_intern_add(&ss->subjects, subject, strlen(subject), &k);
    if (rc != TL_OK || week < 0 || week >= WEEKS)
        return rc;
    if (k >= ss->cap) {
        int32_t cap = ss->cap ? ss->cap * 2 : 256;
        double *l = realloc(ss->loans, (size_t)cap * WEEKS * sizeof(*l));
        if (!l)
            return TL_ENOMEM;
        memset(l + (size_t)ss->cap * WEEKS, 0, (size_t)(cap - ss->cap) * WEEKS * sizeof(*l));
        ss->loans = l;
        ss->cap = cap;
    }
    ss->loans[(size_t)k * WEEKS + (size_t)week] += (double)loans;
    return TL_OK;
}

/* Reads the seasons again when they may have changed, by one request at a time: a request that
 * finds another reading (a scan of the loans: seconds on a large store) goes on with what there
 * is rather than wait. The read runs outside season_rw, which guards the pointer for the
 * requests that use it. */
static void refresh(tl_service *s, tl_model_ref *r)
{
    tl_store *st = NULL;
    if (pthread_mutex_trylock(&r->season_mu) != 0)
        return;
    if (!tl__snapshot_due(s, &r->season_snap, TL_SEASON_TTL, &st)) {
        pthread_mutex_unlock(&r->season_mu);
        return;
    }
    tl_seasons *ss = calloc(1, sizeof(*ss));
    tl_diag d;
    tl_diag_clear(&d);
    tl_err rc = TL_ENOMEM;
    if (ss) {
        tl_intern_init(&ss->subjects);
        rc = tl_store_loan_weeks(st, add_week, ss, &d);
    }
    tl__service_reader_done(s, st);
    if (rc == TL_OK) {
        pthread_rwlock_wrlock(&r->season_rw);
        tl_seasons *old = r->seasons;
        r->seasons = ss;
        pthread_rwlock_unlock(&r->season_rw);
        seasons_free(old);
        tl__snapshot_done(s, r->season_snap);
    } else {
        seasons_free(ss); /* tried again after TL_SEASON_TTL */
    }
    pthread_mutex_unlock(&r->season_mu);
}

/* Whether subject k is in season in week w: its loans in w and the weeks either side against
 * its average three weeks. */
static int in_season(const tl_seasons *ss, int32_t k, int w)
{
    const double *c = ss->loans + (size_t)k * WEEKS;
    double total = 0, near = 0;
    for (int j = 0; j < WEEKS; j++)
        total += c[j];
    for (int j = -1; j <= 1; j++)
        near += c[(w + j + WEEKS) % WEEKS];
    return total >= TL_SEASON_MIN && near >= TL_SEASON_RATIO * 3.0 * total / (WEEKS - 1);
}

typedef struct hot_ctx {
    const tl_seasons *ss;
    const uint8_t *hot;
} hot_ctx;

static int is_hot(void *ctx, const char *t, size_t len)
{
    const hot_ctx *h = ctx;
    int32_t k = tl_intern_find(&h->ss->subjects, t, len);
    return k >= 0 && h->hot[k];
}

int32_t tl__in_season(tl_service *s, tl_model_ref *r, int64_t t, uint8_t *flags)
{
    const tl_model *m = r->m;
    int32_t n = 0;
    refresh(s, r);
    pthread_rwlock_rdlock(&r->season_rw);
    const tl_seasons *ss = r->seasons;
    int w = tl_civil_week(t);
    uint8_t *hot = ss && ss->subjects.count ? calloc((size_t)ss->subjects.count, 1) : NULL;
    for (int32_t k = 0; hot && k < ss->subjects.count; k++)
        hot[k] = (uint8_t)in_season(ss, k, w);
    hot_ctx h = {ss, hot};
    for (int32_t i = 0; hot && m->cat.subjects && i < m->cat.n && i < m->n_items; i++)
        if (tl_each_listed(m->cat.subjects[i], '|', is_hot, &h)) {
            flags[i] = 1;
            n++;
        }
    free(hot);
    pthread_rwlock_unlock(&r->season_rw);
    return n;
}

void tl__seasons_free(tl_model_ref *r)
{
    seasons_free(r->seasons);
    free(r->season_snap);
    pthread_mutex_destroy(&r->season_mu);
    pthread_rwlock_destroy(&r->season_rw);
}
