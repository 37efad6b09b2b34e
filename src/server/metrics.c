/* Prometheus counters of the server (metrics.h). Statuses are the few this server sends, each
 * a column of its own; anything else is counted in a last "other" column. */
#include "server/metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const unsigned statuses[TL_METRICS_STATUSES - 1] = {
    200, 201, 202, 204, 400, 401, 403, 404, 405, 408, 409, 413, 414, 415, 422, 429, 500, 503};
static const double bounds[TL_METRICS_BUCKETS - 1] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                      0.05,   0.1,   0.25,   0.5,   1.0};

void tl__metrics_init(tl_metrics *m)
{
    memset(m, 0, sizeof(*m));
}

static int status_col(unsigned status)
{
    for (int k = 0; k < TL_METRICS_STATUSES - 1; k++)
        if (statuses[k] == status && status)
            return k;
    return TL_METRICS_STATUSES - 1;
}

void tl__metrics_observe(tl_metrics *m, int row, unsigned status, double seconds)
{
    if (row < 0 || row >= TL_METRICS_ROUTES)
        row = TL_METRICS_ROUTES - 1;
    int b = 0;
    while (b < TL_METRICS_BUCKETS - 1 && seconds > bounds[b])
        b++;
    atomic_fetch_add_explicit(&m->requests[row][status_col(status)], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->buckets[row][b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->micros[row], (unsigned long long)(seconds * 1e6 + 0.5),
                              memory_order_relaxed);
}

/* A growing text buffer; a failed allocation leaves it failed (NULL). */
typedef struct buf {
    char *s;
    size_t len, cap;
    int failed;
} buf;

static void put(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(buf *b, const char *fmt, ...)
{
    for (int tries = 0; tries < 2 && !b->failed; tries++) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = 1;
            return;
        }
        if (b->s && b->len + (size_t)n < b->cap) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = (b->cap + (size_t)n + 1) * 2;
        char *s = realloc(b->s, cap);
        if (!s) {
            b->failed = 1;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
}

static unsigned long long get(atomic_ullong *a)
{
    return atomic_load_explicit(a, memory_order_relaxed);
}

static void requests(buf *b, tl_metrics *m, const char *const *labels, int n_rows)
{
    put(b, "# HELP tailor_http_requests_total HTTP requests by route and status.\n"
           "# TYPE tailor_http_requests_total counter\n");
    for (int r = 0; r < n_rows; r++)
        for (int k = 0; k < TL_METRICS_STATUSES; k++) {
            unsigned long long v = get(&m->requests[r][k]);
            if (!v)
                continue;
            if (k < TL_METRICS_STATUSES - 1 && statuses[k])
                put(b, "tailor_http_requests_total{route=\"%s\",status=\"%u\"} %llu\n", labels[r],
                    statuses[k], v);
            else
                put(b, "tailor_http_requests_total{route=\"%s\",status=\"other\"} %llu\n",
                    labels[r], v);
        }
}

static void durations(buf *b, tl_metrics *m, const char *const *labels, int n_rows)
{
    put(b, "# HELP tailor_http_request_duration_seconds Time from the request's headers to its "
           "response, by route.\n"
           "# TYPE tailor_http_request_duration_seconds histogram\n");
    for (int r = 0; r < n_rows; r++) {
        unsigned long long cum = 0, total = 0;
        for (int k = 0; k < TL_METRICS_BUCKETS; k++)
            total += get(&m->buckets[r][k]);
        if (!total)
            continue; /* a route never asked has no series yet */
        for (int k = 0; k < TL_METRICS_BUCKETS; k++) {
            cum += get(&m->buckets[r][k]);
            if (k < TL_METRICS_BUCKETS - 1)
                put(b, "tailor_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n",
                    labels[r], bounds[k], cum);
            else
                put(b,
                    "tailor_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n",
                    labels[r], cum);
        }
        put(b, "tailor_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n", labels[r],
            (double)get(&m->micros[r]) * 1e-6);
        put(b, "tailor_http_request_duration_seconds_count{route=\"%s\"} %llu\n", labels[r], cum);
    }
}

char *tl__metrics_render(tl_metrics *m, const char *const *labels, int n_rows,
                         const tl_metrics_service *sv, size_t *len)
{
    buf b = {0};
    if (n_rows > TL_METRICS_ROUTES)
        n_rows = TL_METRICS_ROUTES;
    requests(&b, m, labels, n_rows);
    durations(&b, m, labels, n_rows);
    put(&b,
        "# HELP tailor_http_rate_limited_total Requests refused with 429 (rate-limit).\n"
        "# TYPE tailor_http_rate_limited_total counter\n"
        "tailor_http_rate_limited_total %llu\n"
        "# HELP tailor_events_ingested_total Events written through POST /v1/events.\n"
        "# TYPE tailor_events_ingested_total counter\n"
        "tailor_events_ingested_total %llu\n"
        "# HELP tailor_model_swaps_total Models swapped in since the service opened.\n"
        "# TYPE tailor_model_swaps_total counter\n"
        "tailor_model_swaps_total %lld\n"
        "# HELP tailor_model_age_seconds Seconds since the served model file was written.\n"
        "# TYPE tailor_model_age_seconds gauge\n"
        "tailor_model_age_seconds %.0f\n"
        "# HELP tailor_training_running 1 while a model trains in the background.\n"
        "# TYPE tailor_training_running gauge\n"
        "tailor_training_running %d\n"
        "# HELP tailor_trainings_total Trainings finished since the service opened.\n"
        "# TYPE tailor_trainings_total counter\n"
        "tailor_trainings_total %lld\n"
        "# HELP tailor_training_failures_total Of those, the ones that failed.\n"
        "# TYPE tailor_training_failures_total counter\n"
        "tailor_training_failures_total %lld\n",
        get(&m->rate_limited), get(&m->events), sv->swaps, sv->model_age, sv->training,
        sv->trainings, sv->failures);
    if (b.failed) {
        free(b.s);
        return NULL;
    }
    *len = b.len;
    return b.s;
}
