/* Private to src/service: patrons' histories as last read from the store, so that a patron's
 * next request (another page, the homepage after the list) does not read the store again.
 * Entries are valid for one model object (its item indices) and one generation of the store:
 * the generation moves whenever a read connection sees that anything was written since it
 * last looked (tl_store_changed), by this process or another, so no entry outlives a write. */
#ifndef TL_SERVICE_HIST_CACHE_H
#define TL_SERVICE_HIST_CACHE_H

#include <stdint.h>

#include "service/history.h"

typedef struct tl_hist_cache tl_hist_cache;

tl_hist_cache *tl__hc_new(void);
void tl__hc_free(tl_hist_cache *c);
/* Copies user's cached history for model serial at generation gen into h (empty on entry) with
 * its store flags: 1 when there was one, 0 when not (or memory ran out). */
int tl__hc_get(tl_hist_cache *c, uint64_t serial, uint64_t gen, const char *user, tl_hist *h,
               int *found, int *personalize);
/* Keeps a copy of h, read at generation gen (the one seen before the read began). */
void tl__hc_put(tl_hist_cache *c, uint64_t serial, uint64_t gen, const char *user, const tl_hist *h,
                int found, int personalize);

#endif
