/* Private to src/service: a request's re-ranking (tl_rerank, tailor/service.h) checked, and
 * applied to the pool the model scored, through core's re-rankers (core/rerank.h). */
#ifndef TL_SERVICE_RERANK_H
#define TL_SERVICE_RERANK_H

#include "service/service_int.h"

/* TL_OK, or TL_EINVAL with d naming the field ("diversify", "calibrate", "max_per_author",
 * "n") when r's values are out of range or n is too long a list to re-rank. r may be NULL. */
tl_err tl__rerank_check(const tl_rerank *r, int n, tl_diag *d);
/* How many candidates to ask the model for a list of n: n when r re-ranks nothing. */
int tl__rerank_pool(const tl_rerank *r, int n);
/* Re-ranks items/scores[0..*got) (the pool, best first) into a list of up to n at their
 * front, *got = its length; with a history hist/w[0..n_hist) to calibrate to. Does nothing
 * (but cut *got to n) when r re-ranks nothing. TL_ENOMEM. */
tl_err tl__rerank_apply(tl_model_ref *ref, const tl_rerank *r, const int32_t *hist, const float *w,
                        int32_t n_hist, int32_t *items, float *scores, int *got, int n);

#endif
