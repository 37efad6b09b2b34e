/* The trust operations of any store (schema version 4): checks, transactions and the lookup of
 * a patron's id; the engines do the reading and writing. */
#include <string.h>

#include "store/store_int.h"

#define TRUST_VERSION 4 /* the schema version that added audit_log, consent_log, retention */

static tl_err trust_ready(tl_store *st, tl_diag *d)
{
    return tl__store_ready(st, st->ops->audit_append != NULL, TRUST_VERSION,
                           "the audit log and consent history", "tailor import, tailor consent set",
                           d);
}

static tl_err failed(tl_store *st, tl_err rc, tl_diag *d)
{
    return rc == TL_ESTORE || rc == TL_ENOMEM ? tl__store_fail(st, rc, d) : rc;
}

/* Begins a transaction unless the caller has one (*own says which). */
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

/* The store's id of patron user: TL_ENOTFOUND (field "user") when it has none. */
static tl_err patron_id(tl_store *st, const char *user, int64_t *id, tl_diag *d)
{
    char pseudo[TL_PATRON_REF_SIZE];
    size_t len;
    const char *kept = tl__store_patron(st, user, strlen(user), pseudo, &len);
    tl_err rc = st->ops->find_id(st, TL_ID_USER, kept, len, id);
    if (rc == TL_OK && !*id) {
        tl_diag_set(d, NULL, 0, "user", "no patron '%.100s' in the store", user);
        rc = TL_ENOTFOUND;
    }
    return rc;
}

tl_err tl_store_audit_append(tl_store *st, const tl_store_audit *e, tl_diag *d)
{
    tl_err rc = trust_ready(st, d);
    int own;
    if (rc != TL_OK)
        return rc;
    if (!e->actor || !e->action) {
        tl_diag_set(d, NULL, 0, "action", "an audit entry needs an actor and an action");
        return TL_EINVAL;
    }
    if ((rc = begin_own(st, &own)) != TL_OK)
        return failed(st, rc, d);
    return failed(st, end_own(st, st->ops->audit_append(st, e), own), d);
}

tl_err tl_store_audit_last(tl_store *st, int64_t *seq, uint8_t *hash, int *found, tl_diag *d)
{
    tl_err rc = trust_ready(st, d);
    return rc != TL_OK ? rc : failed(st, st->ops->audit_last(st, seq, hash, found), d);
}

tl_err tl_store_audit_each(tl_store *st, tl_store_audit_fn fn, void *ctx, tl_diag *d)
{
    tl_err rc = trust_ready(st, d);
    return rc != TL_OK ? rc : failed(st, st->ops->audit_each(st, fn, ctx), d);
}

tl_err tl_store_user_consent(tl_store *st, const char *user, size_t len, int *found,
                             int *personalize, tl_diag *d)
{
    *found = 0;
    *personalize = 1;
    if (!st->ops->user_consent)
        return TL_OK;
    char pseudo[TL_PATRON_REF_SIZE];
    user = tl__store_patron(st, user, len, pseudo, &len);
    return failed(st, st->ops->user_consent(st, user, len, found, personalize), d);
}

tl_err tl_store_audit_forget(tl_store *st, const char *target, long long *changed, tl_diag *d)
{
    tl_err rc = trust_ready(st, d);
    long long n = 0;
    if (rc == TL_OK)
        rc = failed(st, st->ops->audit_forget(st, target, &n), d);
    if (rc == TL_OK && changed)
        *changed = n;
    return rc;
}

tl_err tl_store_consent_set(tl_store *st, const char *user, int personalize, int64_t retention_days,
                            int64_t ts, const char *actor, tl_diag *d)
{
    tl_err rc = trust_ready(st, d);
    int own;
    int64_t id = 0;
    if (rc != TL_OK)
        return rc;
    if (personalize < -1 || personalize > 1 ||
        (retention_days != TL_ABSENT && retention_days < -1)) {
        tl_diag_set(d, NULL, 0, "retention", "personalize is 1 or 0, retention days 0 or more");
        return TL_EINVAL;
    }
    if ((rc = begin_own(st, &own)) != TL_OK)
        return failed(st, rc, d);
    if ((rc = patron_id(st, user, &id, d)) == TL_OK)
        rc = st->ops->consent_set(st, id, personalize, retention_days, ts, actor);
    return failed(st, end_own(st, rc, own), d);
}

tl_err tl_store_user_dump(tl_store *st, const char *user, const tl_store_dump_fns *f, void *ctx,
                          int64_t *retention_days, tl_diag *d)
{
    tl_err rc = trust_ready(st, d);
    int64_t id = 0;
    if (rc == TL_OK && (rc = patron_id(st, user, &id, d)) == TL_OK)
        rc = st->ops->user_dump(st, id, f, ctx, retention_days);
    return failed(st, rc, d);
}

tl_err tl_store_retention_run(tl_store *st, int64_t now, long long *removed, tl_diag *d)
{
    tl_err rc = trust_ready(st, d);
    int own;
    long long n = 0;
    if (rc != TL_OK)
        return rc;
    if ((rc = begin_own(st, &own)) != TL_OK)
        return failed(st, rc, d);
    rc = end_own(st, st->ops->retention_run(st, now, &n), own);
    if (rc == TL_OK && removed)
        *removed = n;
    return failed(st, rc, d);
}

tl_err tl_store_scrub(tl_store *st, int *complete, tl_diag *d)
{
    *complete = 1;
    if (!st->ops->scrub)
        return TL_OK;
    if (st->in_txn) {
        tl_diag_set(d, NULL, 0, NULL, "a scrub runs after the erasure's commit, not inside it");
        return TL_EINVAL;
    }
    return failed(st, st->ops->scrub(st, complete), d);
}
