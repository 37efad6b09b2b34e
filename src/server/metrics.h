/* The server's counters for GET /metrics (Prometheus text format): requests per route and
 * status, a latency histogram per route (from the headers to the response being queued),
 * events ingested. Recording is a few relaxed atomic
 * additions, no lock and no allocation; rendering reads them without stopping the workers. */
#ifndef TL_SERVER_METRICS_H
#define TL_SERVER_METRICS_H

#include <stdatomic.h>
#include <stddef.h>

#define TL_METRICS_ROUTES 103 /* rows: the routes of the table, then one for unmatched paths */
#define TL_METRICS_STATUSES 24
#define TL_METRICS_BUCKETS 12 /* 0.5 ms .. 1 s, then +Inf */

typedef struct tl_metrics {
    atomic_ullong requests[TL_METRICS_ROUTES][TL_METRICS_STATUSES];
    atomic_ullong buckets[TL_METRICS_ROUTES][TL_METRICS_BUCKETS]; /* not cumulative */
    atomic_ullong micros[TL_METRICS_ROUTES];                      /* the sum, microseconds */
    atomic_ullong events;
    atomic_ullong rate_limited; /* requests answered 429 */
} tl_metrics;

/* Zeroes m. */
void tl__metrics_init(tl_metrics *m);
/* One request of the given row (clamped to the last) that ended with status after seconds. */
void tl__metrics_observe(tl_metrics *m, int row, unsigned status, double seconds);
/* What the service says of itself, for the metrics. */
typedef struct tl_metrics_service {
    long long swaps;               /* models swapped in since the service opened */
    double model_age;              /* seconds since the served model was written */
    int training;                  /* 1 while a training runs */
    long long trainings, failures; /* trainings finished, and how many failed */
} tl_metrics_service;

/* The text of GET /metrics: labels[row] names each route row ("unmatched" last, n_rows in all),
 * sv the service's gauges. Returns a malloc'd string and its length in *len, or NULL when
 * memory ran out. */
char *tl__metrics_render(tl_metrics *m, const char *const *labels, int n_rows,
                         const tl_metrics_service *sv, size_t *len);

#endif
