/* Private to src/store: the engine operations behind impressions and learners' state
 * (tailor/store.h, schema version 9). impressions.c checks the schema, passes patron ids
 * through the door and runs each write in a transaction; the engine reads and writes. */
#ifndef TL_STORE_IMP_INT_H
#define TL_STORE_IMP_INT_H

#include "tailor/store.h"

typedef struct tl_store_imp_ops {
    /* user: as kept (NULL: anonymous); created when unknown */
    tl_err (*put)(tl_store *st, const tl_store_impression *imp);
    /* with_items: list the items shown (else items NULL, n_items their number) */
    tl_err (*each)(tl_store *st, int64_t since, const char *user, int with_items,
                   tl_store_impression_fn fn, void *ctx);
    /* impression: the id (0: by user and window) */
    tl_err (*reward)(tl_store *st, int64_t impression, int row, int position, const char *user,
                     const char *item, const char *type, int64_t ts, int64_t window,
                     tl_store_imp_hit *hit);
    tl_err (*learner_get)(tl_store *st, const char *name, unsigned char **img, size_t *len,
                          int64_t *version, int *found);
    tl_err (*learner_put)(tl_store *st, const char *name, const unsigned char *img, size_t len,
                          int64_t version, int64_t ts);
} tl_store_imp_ops;

#endif
