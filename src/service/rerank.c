/* Re-ranking a request's list (rerank.h): the model's catalogue as facets, made once per model
 * on first use, and the query's options as core's spec. */
#include "service/rerank.h"

#include "core/rerank.h"

static void spec_of(const tl_rerank *r, tl_rerank_spec *s)
{
    s->mmr = r && r->mmr ? r->lambda : 1.0f;
    s->calibrate = r && r->calibrate ? r->cal_lambda : 0.0f;
    s->max_per_creator = r ? r->max_per_author : 0;
}

tl_err tl__rerank_check(const tl_rerank *r, int n, tl_diag *d)
{
    if (!r)
        return TL_OK;
    if (r->mmr && !(r->lambda >= 0.0f && r->lambda <= 1.0f)) {
        tl_diag_set(d, NULL, 0, "diversify", "MMR's lambda must be from 0 to 1");
        return TL_EINVAL;
    }
    if (r->calibrate && !(r->cal_lambda >= 0.0f && r->cal_lambda <= 1.0f)) {
        tl_diag_set(d, NULL, 0, "calibrate", "calibration's lambda must be from 0 to 1");
        return TL_EINVAL;
    }
    if (r->max_per_author < 0) {
        tl_diag_set(d, NULL, 0, "max_per_author", "must be 0 (no cap) or more");
        return TL_EINVAL;
    }
    tl_rerank_spec s;
    spec_of(r, &s);
    if (tl_rerank_on(&s) && n > TL_RERANK_MAX_N) {
        tl_diag_set(d, NULL, 0, "n", "a re-ranked list has at most %d items", TL_RERANK_MAX_N);
        return TL_EINVAL;
    }
    return TL_OK;
}

int tl__rerank_pool(const tl_rerank *r, int n)
{
    tl_rerank_spec s;
    spec_of(r, &s);
    return tl_rerank_on(&s) ? tl_rerank_pool(n) : n;
}

/* ref's facets, made on the first call. */
static tl_err ref_facets(tl_model_ref *ref, const tl_facets **out)
{
    tl_err rc = TL_OK;
    pthread_mutex_lock(&ref->facets_mu);
    if (!ref->facets_done) {
        rc = tl_facets_build(&ref->m->cat, ref->m->n_items, &ref->facets);
        ref->facets_done = rc == TL_OK;
    }
    pthread_mutex_unlock(&ref->facets_mu);
    *out = &ref->facets;
    return rc;
}

tl_err tl__rerank_apply(tl_model_ref *ref, const tl_rerank *r, const int32_t *hist, const float *w,
                        int32_t n_hist, int32_t *items, float *scores, int *got, int n)
{
    tl_rerank_spec s;
    spec_of(r, &s);
    if (!tl_rerank_on(&s)) {
        *got = *got < n ? *got : n;
        return TL_OK;
    }
    const tl_facets *f;
    tl_err rc = ref_facets(ref, &f);
    if (rc == TL_OK)
        rc = tl_rerank_choose(f, &s, hist, w, n_hist, items, scores, *got, n, got);
    return rc;
}
