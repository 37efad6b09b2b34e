/* New-arrival alerts on any store (schema version 5): checks, transactions and the lookup of a
 * patron's id; the engines read and write. */
#include <string.h>

#include "store/store_int.h"

#define ALERTS_VERSION 5 /* the schema version that added subscriptions and item_details */

static tl_err alerts_ready(tl_store *st, tl_diag *d)
{
    return tl__store_ready(st, st->ops->sub_set != NULL, ALERTS_VERSION,
                           "subscriptions to new-arrival alerts",
                           "tailor import, tailor subscription set", d);
}

static tl_err failed(tl_store *st, tl_err rc, tl_diag *d)
{
    return rc == TL_ESTORE || rc == TL_ENOMEM ? tl__store_fail(st, rc, d) : rc;
}

/* The store's id of the patron kept as stored[0..len): TL_ENOTFOUND (field "user") when none. */
static tl_err stored_id(tl_store *st, const char *stored, size_t len, const char *shown,
                        int64_t *id, tl_diag *d)
{
    tl_err rc = st->ops->find_id(st, TL_ID_USER, stored, len, id);
    if (rc == TL_OK && !*id) {
        tl_diag_set(d, NULL, 0, "user", "no patron '%.100s' in the store", shown);
        rc = TL_ENOTFOUND;
    }
    return rc;
}

/* Begins a transaction unless the caller has one (*own says which); end commits or rolls back
 * what begin_own began. */
static tl_err begin_own(tl_store *st, int *own)
{
    *own = !st->in_txn;
    return *own ? tl_store_begin(st) : TL_OK;
}

static tl_err end_own(tl_store *st, tl_err rc, int own)
{
    if (own && rc == TL_OK)
        return tl_store_commit(st);
    if (own && st->in_txn)
        tl_store_rollback(st);
    return rc;
}

static tl_err patron_id(tl_store *st, const char *user, int64_t *id, tl_diag *d)
{
    char pseudo[TL_PATRON_REF_SIZE];
    size_t len;
    const char *kept = tl__store_patron(st, user, strlen(user), pseudo, &len);
    return stored_id(st, kept, len, user, id, d);
}

tl_err tl_store_subscription_set(tl_store *st, const char *user, int alerts, const char *email,
                                 int64_t ts, tl_diag *d)
{
    tl_err rc = alerts_ready(st, d);
    int64_t id = 0;
    if (rc != TL_OK)
        return rc;
    if (alerts < -1 || alerts > 1) {
        tl_diag_set(d, NULL, 0, "alerts", "alerts is 1 (on) or 0 (off)");
        return TL_EINVAL;
    }
    int own;
    if ((rc = begin_own(st, &own)) != TL_OK)
        return failed(st, rc, d);
    if ((rc = patron_id(st, user, &id, d)) == TL_OK)
        rc = st->ops->sub_set(st, id, alerts, email, ts);
    return failed(st, end_own(st, rc, own), d);
}

tl_err tl_store_subscription_get(tl_store *st, const char *user, tl_store_sub_fn fn, void *ctx,
                                 int *found, tl_diag *d)
{
    tl_err rc = alerts_ready(st, d);
    int64_t id = 0;
    *found = 0;
    if (rc == TL_OK && (rc = patron_id(st, user, &id, d)) == TL_OK)
        rc = st->ops->sub_get(st, id, fn, ctx, found);
    return failed(st, rc, d);
}

tl_err tl_store_unsubscribe_stored(tl_store *st, const char *stored, int *changed, tl_diag *d)
{
    tl_err rc = alerts_ready(st, d);
    int64_t id = 0;
    int own;
    *changed = 0;
    if (rc != TL_OK)
        return rc;
    if ((rc = begin_own(st, &own)) != TL_OK)
        return failed(st, rc, d);
    if ((rc = stored_id(st, stored, strlen(stored), stored, &id, d)) == TL_OK)
        rc = st->ops->sub_off(st, id, changed);
    return failed(st, end_own(st, rc, own), d);
}

tl_err tl_store_subscriptions_each(tl_store *st, tl_store_sub_fn fn, void *ctx, tl_diag *d)
{
    tl_err rc = alerts_ready(st, d);
    return rc != TL_OK ? rc : failed(st, st->ops->sub_each(st, fn, ctx), d);
}

tl_err tl_store_digest_details(tl_store *st, int64_t added_from, int64_t starts_from,
                               int64_t starts_to, tl_store_detail_fn fn, void *ctx, tl_diag *d)
{
    tl_err rc = alerts_ready(st, d);
    return rc != TL_OK
               ? rc
               : failed(st, st->ops->details(st, added_from, starts_from, starts_to, fn, ctx), d);
}
