/* Experiments of any store (schema version 10): the schema check and a transaction around each
 * write; the engine (exp_int.h) reads and writes. */
#include <string.h>

#include "store/exp_int.h"
#include "store/store_int.h"

#define EXP_VERSION 10

static tl_err exp_ready(tl_store *st, tl_diag *d)
{
    return tl__store_ready(st, st->ops->exp != NULL, EXP_VERSION, "experiments",
                           "tailor experiment create", d);
}

static tl_err failed(tl_store *st, tl_err rc, tl_diag *d)
{
    return (rc == TL_ESTORE || rc == TL_ENOMEM) && !d->msg[0] ? tl__store_fail(st, rc, d) : rc;
}

tl_err tl_store_experiment_put(tl_store *st, const tl_store_experiment *e, tl_diag *d)
{
    tl_err rc = exp_ready(st, d);
    if (rc != TL_OK)
        return rc;
    if (!e->name || !*e->name || !e->layer || !e->metric || !e->salt || !e->arms || !e->split) {
        tl_diag_set(d, NULL, 0, "name",
                    "an experiment needs a name, layer, metric, salt, arms and split");
        return TL_EINVAL;
    }
    int own = !st->in_txn;
    if (own && (rc = tl_store_begin(st)) != TL_OK)
        return failed(st, rc, d);
    rc = st->ops->exp->put(st, e);
    if (rc == TL_EEXIST)
        tl_diag_set(d, NULL, 0, "name", "an experiment named '%s' exists", e->name);
    if (own && rc == TL_OK)
        rc = tl_store_commit(st);
    else if (own && st->in_txn)
        tl_store_rollback(st);
    return failed(st, rc, d);
}

tl_err tl_store_experiment_get(tl_store *st, const char *name, tl_store_experiment_fn fn, void *ctx,
                               int *found, tl_diag *d)
{
    tl_err rc = exp_ready(st, d);
    return rc != TL_OK ? rc : failed(st, st->ops->exp->get(st, name, fn, ctx, found), d);
}

tl_err tl_store_experiments_each(tl_store *st, tl_store_experiment_fn fn, void *ctx, tl_diag *d)
{
    tl_err rc = exp_ready(st, d);
    return rc != TL_OK ? rc : failed(st, st->ops->exp->each(st, fn, ctx), d);
}

tl_err tl_store_experiment_stop(tl_store *st, const char *name, int64_t when, int *changed,
                                tl_diag *d)
{
    tl_err rc = exp_ready(st, d);
    if (rc != TL_OK)
        return rc;
    int own = !st->in_txn;
    if (own && (rc = tl_store_begin(st)) != TL_OK)
        return failed(st, rc, d);
    rc = st->ops->exp->stop(st, name, when, changed);
    if (own && rc == TL_OK)
        rc = tl_store_commit(st);
    else if (own && st->in_txn)
        tl_store_rollback(st);
    return failed(st, rc, d);
}

tl_err tl_store_patron_activity(tl_store *st, int64_t since, int64_t until, tl_store_activity_fn fn,
                                void *ctx, tl_diag *d)
{
    tl_err rc = exp_ready(st, d);
    return rc != TL_OK ? rc : failed(st, st->ops->exp->activity(st, since, until, fn, ctx), d);
}
