/* Idempotency keys in the store (schema version 3): the first answer to a write made with a
 * client's Idempotency-Key, read back for its retries, written inside the write's own
 * transaction, and pruned by age. The service decides what a key means (service/idem.c). */
#include <string.h>

#include "store/store_int.h"

#define IDEM_VERSION 3 /* the schema version that added idempotency_keys */

static tl_err idem_ready(tl_store *st, tl_diag *d)
{
    return tl__store_ready(st, st->ops->idem_get != NULL, IDEM_VERSION, "idempotency keys",
                           "tailor import, tailor key create", d);
}

static tl_err failed(tl_store *st, tl_err rc, tl_diag *d)
{
    return rc == TL_ESTORE || rc == TL_ENOMEM ? tl__store_fail(st, rc, d) : rc;
}

tl_err tl_store_idem_get(tl_store *st, const char *scope, const char *key, int64_t since,
                         tl_store_idem *out, int *found, tl_diag *d)
{
    tl_err rc = idem_ready(st, d);
    if (rc != TL_OK)
        return rc;
    memset(out, 0, sizeof(*out));
    *found = 0;
    return failed(st, st->ops->idem_get(st, scope ? scope : "", key, since, out, found), d);
}

/* Runs one write in the caller's transaction, else in one of its own. */
static tl_err in_txn(tl_store *st, tl_err rc, int own)
{
    if (own && rc == TL_OK)
        return tl_store_commit(st);
    if (own && st->in_txn)
        tl_store_rollback(st);
    return rc;
}

tl_err tl_store_idem_put(tl_store *st, const char *scope, const char *key, const tl_store_idem *rec,
                         int64_t created, tl_diag *d)
{
    tl_err rc = idem_ready(st, d);
    if (rc != TL_OK)
        return rc;
    if (!key || !*key || rec->hash_len == 0 || rec->hash_len > TL_IDEM_HASH_MAX) {
        tl_diag_set(d, NULL, 0, "key", "an idempotency key and a request hash are needed");
        return TL_EINVAL;
    }
    int own = !st->in_txn;
    if (own && (rc = tl_store_begin(st)) != TL_OK)
        return tl__store_fail(st, rc, d);
    rc = st->ops->idem_put(st, scope ? scope : "", key, rec, created);
    return failed(st, in_txn(st, rc, own), d);
}

tl_err tl_store_idem_prune(tl_store *st, int64_t before, long long *removed, tl_diag *d)
{
    tl_err rc = idem_ready(st, d);
    if (rc != TL_OK)
        return rc;
    long long n = 0;
    int own = !st->in_txn;
    if (own && (rc = tl_store_begin(st)) != TL_OK)
        return tl__store_fail(st, rc, d);
    rc = in_txn(st, st->ops->idem_prune(st, before, &n), own);
    if (rc == TL_OK && removed)
        *removed = n;
    return failed(st, rc, d);
}
