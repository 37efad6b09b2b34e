/* Impressions and learners' state of any store (schema version 9): the schema check, patron
 * ids through the door, and a transaction around each write; the engine (imp_int.h) reads and
 * writes. */
#include <stdlib.h>
#include <string.h>

#include "store/imp_int.h"
#include "store/store_int.h"

#define IMP_VERSION 9 /* the schema version that added impressions */

static tl_err imp_ready(tl_store *st, tl_diag *d)
{
    return tl__store_ready(st, st->ops->imp != NULL, IMP_VERSION, "impressions",
                           "tailor import, tailor serve", d);
}

static tl_err failed(tl_store *st, tl_err rc, tl_diag *d)
{
    return (rc == TL_ESTORE || rc == TL_ENOMEM) && !d->msg[0] ? tl__store_fail(st, rc, d) : rc;
}

static const char *kept(tl_store *st, const char *user, char *buf)
{
    return user ? tl__store_patron(st, user, strlen(user), buf, NULL) : NULL;
}

tl_err tl_store_impressions_put(tl_store *st, const tl_store_impression *imp, int n, tl_diag *d)
{
    tl_err rc = imp_ready(st, d);
    if (rc != TL_OK)
        return rc;
    int own = !st->in_txn;
    if (own && (rc = tl_store_begin(st)) != TL_OK)
        return failed(st, rc, d);
    for (int k = 0; rc == TL_OK && k < n; k++) {
        char buf[TL_PATRON_REF_SIZE];
        tl_store_impression one = imp[k];
        one.user = !one.user       ? NULL
                   : one.tenant[0] ? tl_patron_ref(st->has_pkey ? st->pkey : NULL, one.tenant,
                                                   one.user, strlen(one.user), buf, NULL)
                                   : kept(st, one.user, buf);
        rc = st->ops->imp->put(st, &one);
    }
    if (own && rc == TL_OK)
        rc = tl_store_commit(st);
    else if (own && st->in_txn)
        tl_store_rollback(st);
    return failed(st, rc, d);
}

tl_err tl_store_impressions_each(tl_store *st, int64_t since, const char *user,
                                 tl_store_impression_fn fn, void *ctx, tl_diag *d)
{
    char buf[TL_PATRON_REF_SIZE];
    tl_err rc = imp_ready(st, d);
    return rc != TL_OK
               ? rc
               : failed(st, st->ops->imp->each(st, since, kept(st, user, buf), 0, fn, ctx), d);
}

tl_err tl_store_impressions_shown(tl_store *st, int64_t since, tl_store_impression_fn fn, void *ctx,
                                  tl_diag *d)
{
    tl_err rc = imp_ready(st, d);
    return rc != TL_OK ? rc : failed(st, st->ops->imp->each(st, since, NULL, 1, fn, ctx), d);
}

tl_err tl_store_impression_reward(tl_store *st, const char *impression, int row, int position,
                                  const char *user, const char *item, const char *type, int64_t ts,
                                  int64_t window, tl_store_imp_hit *hit, tl_diag *d)
{
    char buf[TL_PATRON_REF_SIZE];
    memset(hit, 0, sizeof(*hit));
    tl_err rc = imp_ready(st, d);
    if (rc != TL_OK)
        return rc;
    if (!st->in_txn) {
        tl_diag_set(d, NULL, 0, NULL, "a reward is joined inside a write transaction");
        return TL_EINVAL;
    }
    int64_t id = 0;
    if (impression && *impression) {
        char *end;
        id = strtoll(impression, &end, 10);
        if (*end || id <= 0)
            return TL_OK; /* not an impression of ours: nothing joins */
    } else if (!user || !type || strcmp(type, "loan") != 0) {
        return TL_OK;
    }
    return failed(st,
                  st->ops->imp->reward(st, id, row, position, kept(st, user, buf), item, type, ts,
                                       window, hit),
                  d);
}

tl_err tl_store_learner_get(tl_store *st, const char *name, unsigned char **img, size_t *len,
                            int64_t *version, int *found, tl_diag *d)
{
    *img = NULL;
    *len = 0;
    *found = 0;
    tl_err rc = imp_ready(st, d);
    return rc != TL_OK
               ? rc
               : failed(st, st->ops->imp->learner_get(st, name, img, len, version, found), d);
}

tl_err tl_store_learner_put(tl_store *st, const char *name, const unsigned char *img, size_t len,
                            int64_t version, int64_t ts, tl_diag *d)
{
    tl_err rc = imp_ready(st, d);
    if (rc != TL_OK)
        return rc;
    int own = !st->in_txn;
    if (own && (rc = tl_store_begin(st)) != TL_OK)
        return failed(st, rc, d);
    rc = st->ops->imp->learner_put(st, name, img, len, version, ts);
    if (own && rc == TL_OK)
        rc = tl_store_commit(st);
    else if (own && st->in_txn)
        tl_store_rollback(st);
    return failed(st, rc, d);
}
