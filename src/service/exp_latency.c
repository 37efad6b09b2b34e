/* The latency guardrail of experiments (exp_int.h): the service's time per answer of each arm,
 * counted in this process since it started, in log-spaced buckets (no sample is kept). */
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service/exp_int.h"

#define BUCKETS 48
#define FIRST_MS 0.01 /* bucket 0: up to 0.01 ms; bucket k: up to FIRST_MS * GROWTH^k */
#define GROWTH 1.35   /* ~13 s at the last bucket, which also takes anything slower */

typedef struct lat_row {
    char experiment[TL_EXP_NAME_MAX + 1], arm[TL_EXP_NAME_MAX + 1];
    uint64_t n, bucket[BUCKETS];
} lat_row;

struct tl_exp_latency {
    pthread_mutex_t mu;
    lat_row *rows;
    int n, cap;
};

struct tl_exp_latency *tl__exp_latency_new(void)
{
    struct tl_exp_latency *l = calloc(1, sizeof(*l));
    if (l)
        pthread_mutex_init(&l->mu, NULL);
    return l;
}

void tl__exp_latency_free(struct tl_exp_latency *l)
{
    if (!l)
        return;
    pthread_mutex_destroy(&l->mu);
    free(l->rows);
    free(l);
}

static int bucket_of(double ms)
{
    if (!(ms > FIRST_MS)) /* NaN too */
        return 0;
    int k = (int)ceil(log(ms / FIRST_MS) / log(GROWTH));
    return k < BUCKETS ? k : BUCKETS - 1;
}

static double bucket_top(int k)
{
    return FIRST_MS * pow(GROWTH, k);
}

/* The row of (experiment, arm), added when missing; NULL without memory. Under l->mu. */
static lat_row *row_of(struct tl_exp_latency *l, const char *experiment, size_t elen,
                       const char *arm, size_t alen)
{
    for (int k = 0; k < l->n; k++)
        if (strlen(l->rows[k].experiment) == elen &&
            !memcmp(l->rows[k].experiment, experiment, elen) && strlen(l->rows[k].arm) == alen &&
            !memcmp(l->rows[k].arm, arm, alen))
            return &l->rows[k];
    if (elen > TL_EXP_NAME_MAX || alen > TL_EXP_NAME_MAX)
        return NULL;
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 8;
        lat_row *g = realloc(l->rows, (size_t)cap * sizeof(*g));
        if (!g)
            return NULL;
        l->rows = g;
        l->cap = cap;
    }
    lat_row *r = &l->rows[l->n++];
    memset(r, 0, sizeof(*r));
    memcpy(r->experiment, experiment, elen);
    memcpy(r->arm, arm, alen);
    return r;
}

void tl__exp_latency_record(struct tl_exp_latency *l, const char *experiments, const char *arms,
                            double ms)
{
    if (!l || !experiments[0])
        return;
    int k = bucket_of(ms);
    pthread_mutex_lock(&l->mu);
    /* the names are joined with ',' (names never hold one), experiment i with arm i */
    for (const char *e = experiments, *a = arms; *e && *a;) {
        size_t elen = strcspn(e, ","), alen = strcspn(a, ",");
        lat_row *r = row_of(l, e, elen, a, alen);
        if (r) {
            r->n++;
            r->bucket[k]++;
        }
        e += elen + (e[elen] == ',');
        a += alen + (a[alen] == ',');
    }
    pthread_mutex_unlock(&l->mu);
}

/* The upper edge of the bucket that holds the q-quantile. */
static double quantile(const lat_row *r, double q)
{
    uint64_t want = (uint64_t)ceil(q * (double)r->n), seen = 0;
    for (int k = 0; k < BUCKETS; k++)
        if ((seen += r->bucket[k]) >= want && seen)
            return bucket_top(k);
    return bucket_top(BUCKETS - 1);
}

json_t *tl__exp_latency_json(struct tl_exp_latency *l, const char *experiment)
{
    if (!l)
        return NULL;
    json_t *out = NULL;
    pthread_mutex_lock(&l->mu);
    for (int k = 0; k < l->n; k++) {
        const lat_row *r = &l->rows[k];
        if (strcmp(r->experiment, experiment) != 0 || !r->n)
            continue;
        if (!out && !(out = json_object()))
            break;
        /* bucket edges: rounded to what they can tell apart */
        json_object_set_new(out, r->arm,
                            json_pack("{s:I,s:f,s:f,s:f}", "answers", (json_int_t)r->n, "p50",
                                      round(quantile(r, 0.50) * 1000) / 1000, "p95",
                                      round(quantile(r, 0.95) * 1000) / 1000, "p99",
                                      round(quantile(r, 0.99) * 1000) / 1000));
    }
    pthread_mutex_unlock(&l->mu);
    return out;
}
