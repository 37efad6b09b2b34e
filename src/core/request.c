/* Reasons and the popular fallback for one patron's request (core/request.h). */
#include "core/request.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/models/hybrid.h"
#include "core/filter.h"
#include "core/topk.h"

static const char *const kind_names[] = {"history", "next_after", "similar_content", "popular"};

/* Models whose evidence is not "patrons who had these also had it". */
static const struct {
    const char *model;
    tl_reason_kind kind;
} kinds[] = {
    {"sequence", TL_REASON_NEXT_AFTER},
    {"content", TL_REASON_SIMILAR_CONTENT},
    {"popular", TL_REASON_POPULAR},
};

const char *tl_reason_kind_name(tl_reason_kind k)
{
    return kind_names[k];
}

tl_reason_kind tl_reason_kind_of(const char *name)
{
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (strcmp(kinds[i].model, name) == 0)
            return kinds[i].kind;
    return TL_REASON_HISTORY;
}

int tl_model_explain(const tl_model *m, int32_t uidx, const int32_t *items, const float *w,
                     int32_t n, int32_t item, int32_t *why, float *contrib, int max,
                     tl_reason_kind *kind)
{
    const tl_model *by = tl_hybrid_explainer(m, uidx, items, w, n, item);
    if (!by)
        by = m;
    *kind = tl_reason_kind_of(by->ops->name);
    if (!by->ops->explain || max <= 0)
        return 0;
    return by->ops->explain(by, uidx, items, w, n, item, why, contrib, max);
}

void tl_model_explain_many(const tl_model *m, int32_t uidx, const int32_t *items, const float *w,
                           int32_t n, const int32_t *targets, int nt, int32_t *why, float *contrib,
                           int max, int *got, tl_reason_kind *kind_of)
{
    if (m->ops->explain_many && max > 0 &&
        m->ops->explain_many(m, uidx, items, w, n, targets, nt, why, contrib, max, got) == 0) {
        for (int t = 0; t < nt; t++)
            kind_of[t] = tl_reason_kind_of(m->ops->name);
        return;
    }
    for (int t = 0; t < nt; t++)
        got[t] = tl_model_explain(m, uidx, items, w, n, targets[t], why + (size_t)t * max,
                                  contrib + (size_t)t * max, max, &kind_of[t]);
}

tl_err tl_model_popular(const tl_model *m, const int32_t *exclude, int32_t n_exclude,
                        const tl_filter *f, int n, int32_t *out_items, float *out_scores,
                        int *n_out)
{
    const tl_csr *h = &m->hist;
    if (!h->indptr || h->ncols != m->n_items)
        return TL_EUNSUPPORTED;
    float *count = calloc((size_t)m->n_items + 1, sizeof(*count));
    if (!count)
        return TL_ENOMEM;
    for (int64_t p = 0; p < h->nnz; p++)
        count[h->indices[p]] += 1.0f;
    for (int32_t k = 0; k < n_exclude; k++)
        if (exclude[k] >= 0 && exclude[k] < m->n_items)
            count[exclude[k]] = -INFINITY;
    tl_filter_apply(f, count, m->n_items);
    *n_out = tl_topk(count, m->n_items, n, out_items, out_scores);
    free(count);
    return TL_OK;
}
