/* Every patron of the model at once (batch exports, offline evaluation): the histories of the
 * model file, scored in tiles and re-ranked as one request is; patrons without one get the
 * popular items. */
#include <stdlib.h>
#include <string.h>

#include "core/filter.h"
#include "core/request.h"
#include "service/rerank.h"
#include "service/service_int.h"

#define ROWS_CELLS (4 << 20) /* patrons per batch x pool stays under this */

static const char NO_HISTORY[] = "no usable history for this patron";

typedef struct batch {
    tl_model_ref *ref;
    const tl_model *m;
    const tl_rerank *rerank;
    int n, pool;      /* the list's length; the candidates asked of the model for it */
    const char **ids; /* n item ids of one row */
    tl_rec_row_fn fn;
    void *ctx;
} batch;

static int filled(const int32_t *items, int len)
{
    int got = 0;
    while (got < len && items[got] >= 0)
        got++;
    return got;
}

/* Re-ranks the pool items/scores (-1 padded) of a patron with history hist/w[0..n_hist) into
 * its first n and emits them. */
static tl_err emit(batch *b, int32_t u, const int32_t *hist, const float *w, int32_t n_hist,
                   int32_t *items, float *scores, const char *fallback)
{
    int got = filled(items, b->pool);
    tl_err rc = tl__rerank_apply(b->ref, b->rerank, hist, w, n_hist, items, scores, &got, b->n);
    if (rc != TL_OK)
        return rc;
    for (int k = 0; k < got; k++)
        b->ids[k] = tl_intern_str(&b->m->items, items[k]);
    return b->fn(b->ctx, tl_intern_str(&b->m->users, u), b->ids, scores, got, fallback);
}

tl_err tl_service_recommend_all(tl_service *s, int n, const char *const *filters, int n_filters,
                                const tl_rerank *rerank, tl_rec_row_fn fn, void *ctx, tl_diag *d)
{
    if (n < 1 || n > TL_REC_MAX_N) {
        tl_diag_set(d, NULL, 0, "n", "expected 1 to %d items, got %d", TL_REC_MAX_N, n);
        return TL_EINVAL;
    }
    tl_err rc = tl__rerank_check(rerank, n, d);
    if (rc != TL_OK)
        return rc;
    tl_model_ref *ref = tl__service_need_model(s, d);
    if (!ref)
        return TL_EUNSUPPORTED;
    const tl_model *m = ref->m;
    int pool = tl__rerank_pool(rerank, n);
    tl_filter_spec spec;
    memset(&spec, 0, sizeof(spec));
    int32_t chunk = ROWS_CELLS / pool > 4096 ? 4096 : ROWS_CELLS / pool;
    int32_t *rows = malloc((size_t)chunk * sizeof(*rows));
    int32_t *items = malloc((size_t)chunk * (size_t)pool * sizeof(*items));
    float *scores = malloc((size_t)chunk * (size_t)pool * sizeof(*scores));
    int32_t *pop = malloc((size_t)pool * sizeof(*pop));
    float *pop_s = malloc((size_t)pool * sizeof(*pop_s));
    int32_t *row_pop = malloc((size_t)pool * sizeof(*row_pop));
    float *row_pop_s = malloc((size_t)pool * sizeof(*row_pop_s));
    const char **ids = malloc((size_t)n * sizeof(*ids));
    uint8_t *allow = malloc((size_t)m->n_items + 1), *deny = NULL;
    rc = TL_ENOMEM;
    int npop = 0;
    if (!rows || !items || !scores || !pop || !pop_s || !row_pop || !row_pop_s || !ids || !allow)
        goto out;
    for (int k = 0; k < n_filters; k++)
        if ((rc = tl_filter_parse(&spec, filters[k] ? filters[k] : "", d)) != TL_OK)
            goto out;
    if ((rc = tl_filter_build(m, &spec, allow, d)) != TL_OK)
        goto out;
    int32_t allowed = 0;
    for (int32_t i = 0; i < m->n_items; i++)
        allowed += allow[i];
    if (spec.n && !allowed) {
        tl_diag_set(d, NULL, 0, "filter", "no item of the catalogue matches the filters");
        rc = TL_ENOTFOUND;
        goto out;
    }
    if (!m->hist.indptr) {
        tl_diag_set(d, NULL, 0, "model", "the model file has no training histories");
        rc = TL_EUNSUPPORTED;
        goto out;
    }
    tl_filter f = {
        .allow = allow,
        .deny = tl__deny_at(s, ref, tl__withdrawn(s, ref, 0), tl__request_time(NULL), &deny)};
    if ((rc = tl_model_popular(m, NULL, 0, &f, pool, pop, pop_s, &npop)) != TL_OK)
        goto out;
    for (int k = npop; k < pool; k++)
        pop[k] = -1;
    batch b = {ref, m, rerank, n, pool, ids, fn, ctx};
    const tl_csr *h = &m->hist;
    for (int32_t u0 = 0; u0 < m->n_users && rc == TL_OK; u0 += chunk) {
        int32_t nr = m->n_users - u0 < chunk ? m->n_users - u0 : chunk;
        for (int32_t r = 0; r < nr; r++)
            rows[r] = u0 + r;
        if ((rc = tl_model_recommend_rows(m, h, 1, rows, nr, &f, pool, items, scores)) != TL_OK)
            break;
        for (int32_t r = 0; r < nr && rc == TL_OK; r++) {
            int32_t u = u0 + r;
            int64_t a = h->indptr[u], len = h->indptr[u + 1] - a;
            size_t at = (size_t)r * (size_t)pool;
            if (!len) { /* a copy: re-ranking reorders in place */
                memcpy(row_pop, pop, (size_t)pool * sizeof(*pop));
                memcpy(row_pop_s, pop_s, (size_t)pool * sizeof(*pop_s));
                rc = emit(&b, u, NULL, NULL, 0, row_pop, row_pop_s, NO_HISTORY);
            } else {
                rc = emit(&b, u, h->indices + a, h->data ? h->data + a : NULL, (int32_t)len,
                          items + at, scores + at, NULL);
            }
        }
    }
out:
    free(rows);
    free(items);
    free(scores);
    free(pop);
    free(pop_s);
    free(row_pop);
    free(row_pop_s);
    free(ids);
    free(allow);
    free(deny);
    tl__model_ref_release(ref);
    return rc;
}
