/* Private to src/store: the engine operations behind reading lists, reviews and learning paths
 * (tailor/store.h, schema version 5). lists.c and paths.c check the schema, pass patron ids
 * through the door (the engine sees them as the store keeps them) and run each write in a
 * transaction; the engine reads and writes, and answers TL_ENOTFOUND with d naming the field
 * when a list, path or item named is not there. */
#ifndef TL_STORE_LIB_INT_H
#define TL_STORE_LIB_INT_H

#include "tailor/store.h"

typedef struct tl_store_lib_ops {
    /* user: the owner as kept (NULL: none); created when unknown */
    tl_err (*list_put)(tl_store *st, const tl_store_readlist *l, int64_t now, tl_put *what,
                       tl_diag *d);
    tl_err (*list_get)(tl_store *st, const char *id, tl_store_readlist_fn fn,
                       tl_store_readlist_item_fn ifn, void *ctx, int *found);
    tl_err (*list_delete)(tl_store *st, const char *id, tl_diag *d);
    tl_err (*list_add)(tl_store *st, const char *list, const char *item, const char *note,
                       int64_t now, tl_put *what, tl_diag *d);
    tl_err (*list_remove)(tl_store *st, const char *list, const char *item, tl_diag *d);
    tl_err (*lists_each)(tl_store *st, const char *user, const char *item, int public_only,
                         tl_store_readlist_fn fn, void *ctx);
    tl_err (*list_neighbours)(tl_store *st, const char *item, int limit, tl_store_row_fn fn,
                              void *ctx);
    tl_err (*review_put)(tl_store *st, const tl_store_review *r, tl_put *what, tl_diag *d);
    tl_err (*review_delete)(tl_store *st, const char *user, const char *item, tl_diag *d);
    tl_err (*reviews_each)(tl_store *st, const char *user, const char *item, int public_only,
                           tl_store_review_fn fn, void *ctx);
    tl_err (*path_put)(tl_store *st, const tl_store_path *p, const tl_store_step *steps, int n,
                       tl_put *what, tl_diag *d);
    tl_err (*path_get)(tl_store *st, const char *id, tl_store_path_fn fn, tl_store_step_fn sfn,
                       void *ctx, int *found);
    tl_err (*paths_each)(tl_store *st, const char *topic, tl_store_path_fn fn, void *ctx);
    tl_err (*path_delete)(tl_store *st, const char *id, tl_diag *d);
    tl_err (*feedback_put)(tl_store *st, const char *path, const char *item, const char *user,
                           int useful, int64_t ts, tl_diag *d);
    tl_err (*feedback_each)(tl_store *st, const char *path, const char *user,
                            tl_store_feedback_fn fn, void *ctx);
    tl_err (*topic_items)(tl_store *st, const char *topic, tl_store_topic_fn fn, void *ctx);
    tl_err (*topic_uses)(tl_store *st, const char *topic, tl_store_use_fn fn, void *ctx);
} tl_store_lib_ops;

#endif
