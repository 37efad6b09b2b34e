/* Private to src/store: the engine operations behind experiments (tailor/store.h, schema
 * version 10). experiments.c checks the schema and runs each write in a transaction. */
#ifndef TL_STORE_EXP_INT_H
#define TL_STORE_EXP_INT_H

#include "tailor/store.h"

typedef struct tl_store_exp_ops {
    tl_err (*put)(tl_store *st, const tl_store_experiment *e);
    tl_err (*get)(tl_store *st, const char *name, tl_store_experiment_fn fn, void *ctx, int *found);
    tl_err (*each)(tl_store *st, tl_store_experiment_fn fn, void *ctx);
    tl_err (*stop)(tl_store *st, const char *name, int64_t when, int *changed);
    tl_err (*activity)(tl_store *st, int64_t since, int64_t until, tl_store_activity_fn fn,
                       void *ctx);
} tl_store_exp_ops;

#endif
