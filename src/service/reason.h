/* Private to src/service: filling one recommended item (id, title, score, kind, evidence and
 * the reason a patron reads). */
#ifndef TL_SERVICE_REASON_H
#define TL_SERVICE_REASON_H

#include "service/history.h"
#include "tailor/service.h"

typedef enum tl__why {
    TL__WHY_HISTORY, /* scored from the patron's history */
    TL__WHY_SIMILAR, /* more like the one history item */
    TL__WHY_POPULAR, /* no personal evidence: fallback says why (may be NULL) */
} tl__why;

/* out[0..n) for items[0..n) and their scores; strings point into m. explain: find the
 * evidence (else only the kind), for all of them at once (tl_model_explain_many). */
void tl__rec_items_fill(const tl_model *m, const tl_hist *h, tl_rec_item *out, const int32_t *items,
                        const float *scores, int n, tl__why why, int explain, const char *fallback);
/* One item (tl__rec_items_fill of one). */
void tl__rec_item_fill(const tl_model *m, const tl_hist *h, tl_rec_item *it, int32_t item,
                       float score, tl__why why, int explain, const char *fallback);
/* The catalogue title of item i, or NULL. */
const char *tl__title_of(const tl_model *m, int32_t i);
/* Every score zero: the model found nothing to go on. */
int tl__all_zero(const float *scores, int got);

#endif
