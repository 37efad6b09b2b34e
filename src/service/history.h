/* Private to src/service: the history one request scores (model item indices, weights). */
#ifndef TL_SERVICE_HISTORY_H
#define TL_SERVICE_HISTORY_H

#include "core/model.h"
#include "tailor/service.h"
#include "tailor/store.h"

typedef struct tl_hist {
    int32_t *items;
    float *w;
    int64_t *ts;
    int32_t n, cap;
    int32_t uidx; /* the model's row for the patron when the history is the trained one, else -1 */
    int32_t live; /* items the model file does not have for this patron */
    int broaden;  /* the patron asked to broaden their horizons (their record's "broaden") */
    int32_t *dismissed; /* items the patron said "Not interested" in (not in items) */
    int32_t n_dismissed, dismissed_cap;
} tl_hist;

void tl__hist_release(tl_hist *h);
/* The model's training row u. */
tl_err tl__hist_trained(const tl_model *m, int32_t u, tl_hist *h);
/* The patron's events in the store now, weighted as training weighs them (w and the model's
 * time decay), oldest first; items the model does not know are skipped. When they are exactly
 * the model's training row, that row (uidx = the patron's). ref: the patron's name in the
 * model (tl__patron_ref: the pseudonym with a pseudonym key). *found, *personalize: as
 * tl_store_user_history. */
tl_err tl__hist_from_store(tl_store *st, const tl_event_weights *w, const tl_model *m,
                           const char *user, const char *ref, const tl_history_context *cx,
                           tl_hist *h, int *found, int *personalize, tl_diag *d);
/* deny (NULL or n_items + 1 flags) with h's dismissed items set too: deny itself when h has
 * none, else a copy in *own (the caller frees it; NULL when none was made). */
const uint8_t *tl__hist_deny(const tl_hist *h, int32_t n_items, const uint8_t *deny, uint8_t **own);
/* Item ids in the given order (the last the most recent), weight 1; unknown ids skipped. */
tl_err tl__hist_from_ids(const tl_model *m, const char *const *ids, int n, tl_hist *h);

/* A patron's history for a request: live from the store when the service has one (an opted-out
 * patron gets none, and *fallback = TL__OPTED_OUT), else the model file's. TL_ENOTFOUND (d's
 * field "user") for a patron neither knows. */
#define TL__OPTED_OUT "this patron opted out of personalization"
#define TL__POPULAR_ASKED "the popular items were asked for (model=popular)"
/* cx: the request's context (NULL or all zero: none); a history read in a context is not
 * cached, and is scored as a new patron's (its weights are not the trained ones). */
struct tl_service;
tl_err tl__patron_history(struct tl_service *s, const tl_model *m, const char *user,
                          const tl_rec_context *cx, tl_hist *h, const char **fallback, tl_diag *d);

#endif
