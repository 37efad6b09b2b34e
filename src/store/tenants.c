/* Consortium tenancy in any store (schema version 11): the thread's tenant, the patron id a
 * tenant's request is kept under (the one door every patron id passes), and the tenants with
 * their branches and keys; the engine (tenant_int.h) reads and writes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"
#include "store/tenant_int.h"

static _Thread_local char thread_tenant[TL_TENANT_ID_MAX + 1];

int tl_tenant_id_ok(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    if (n == 0 || n > TL_TENANT_ID_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return 0;
    }
    return 1;
}

tl_err tl_store_tenant_enter(const char *tenant)
{
    thread_tenant[0] = '\0';
    if (!tenant || !*tenant)
        return TL_OK;
    if (!tl_tenant_id_ok(tenant))
        return TL_EINVAL;
    snprintf(thread_tenant, sizeof(thread_tenant), "%s", tenant);
    return TL_OK;
}

const char *tl_store_tenant(void)
{
    return thread_tenant;
}

const char *tl_patron_ref(const uint8_t *pkey, const char *tenant, const char *ext, size_t len,
                          char *buf, size_t *out_len)
{
    size_t t = tenant ? strlen(tenant) : 0;
    if (!t && !pkey) {
        if (out_len)
            *out_len = len;
        return ext;
    }
    size_t at = t ? t + 1 : 0;
    if (t) {
        memcpy(buf, tenant, t);
        buf[t] = ':';
    }
    if (pkey) {
        tl_pseudonym(pkey, ext, len, buf + at);
        len = TL_PSEUDONYM_LEN;
    } else {
        if (len > TL_PATRON_REF_SIZE - 1 - at)
            len = TL_PATRON_REF_SIZE - 1 - at; /* past TL_ID_MAX: the door refused it before */
        memcpy(buf + at, ext, len);
    }
    buf[at + len] = '\0';
    if (out_len)
        *out_len = at + len;
    return buf;
}

const char *tl__store_patron(const tl_store *st, const char *ext, size_t len, char *buf,
                             size_t *out_len)
{
    return tl_patron_ref(st->has_pkey ? st->pkey : NULL, thread_tenant, ext, len, buf, out_len);
}

/* ---- the tenants --------------------------------------------------------------------------- */

static tl_err tenant_ready(tl_store *st, tl_diag *d)
{
    return tl__store_ready(st, st->ops->tenants != NULL, TL_TENANT_VERSION, "tenants",
                           "tailor tenant add", d);
}

static tl_err failed(tl_store *st, tl_err rc, tl_diag *d)
{
    return (rc == TL_ESTORE || rc == TL_ENOMEM) && !d->msg[0] ? tl__store_fail(st, rc, d) : rc;
}

static int branch_ok(const char *b)
{
    size_t n = b ? strlen(b) : 0;
    if (n == 0 || n > 63)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)b[i] < 0x20 || b[i] == 0x7f)
            return 0;
    return 1;
}

typedef struct taken_check {
    const tl_store_tenant_rec *t;
    char branch[64], owner[TL_TENANT_ID_MAX + 1];
} taken_check;

/* Stops at a branch of t that another tenant holds. */
static tl_err find_taken(void *ctx, const tl_store_tenant_rec *o)
{
    taken_check *c = ctx;
    if (strcmp(o->id, c->t->id) == 0)
        return TL_OK;
    for (int i = 0; i < o->n_branches; i++)
        for (int j = 0; j < c->t->n_branches; j++)
            if (strcmp(o->branches[i], c->t->branches[j]) == 0) {
                snprintf(c->branch, sizeof(c->branch), "%s", o->branches[i]);
                snprintf(c->owner, sizeof(c->owner), "%s", o->id);
                return TL_EEXIST;
            }
    return TL_OK;
}

tl_err tl_store_tenant_put(tl_store *st, const tl_store_tenant_rec *t, tl_diag *d)
{
    tl_err rc = tenant_ready(st, d);
    if (rc != TL_OK)
        return rc;
    if (!tl_tenant_id_ok(t->id)) {
        tl_diag_set(d, NULL, 0, "id", "a tenant id is 1 to %d of a-z, 0-9, '-' and '_'",
                    TL_TENANT_ID_MAX);
        return TL_EINVAL;
    }
    if (!t->name || !*t->name || strlen(t->name) > TL_TENANT_NAME_MAX) {
        tl_diag_set(d, NULL, 0, "name", "a tenant needs a name of 1 to %d bytes",
                    TL_TENANT_NAME_MAX);
        return TL_EINVAL;
    }
    if (t->n_branches < 0 || t->n_branches > TL_TENANT_MAX_BRANCHES) {
        tl_diag_set(d, NULL, 0, "branch", "at most %d branches", TL_TENANT_MAX_BRANCHES);
        return TL_EINVAL;
    }
    for (int i = 0; i < t->n_branches; i++)
        if (!branch_ok(t->branches[i])) {
            tl_diag_set(d, NULL, 0, "branch",
                        "a branch code is 1 to 63 bytes without control characters");
            return TL_EINVAL;
        }
    if (st->readonly) {
        tl_diag_set(d, NULL, 0, NULL, "the store was opened read-only");
        return TL_EINVAL;
    }
    int own = !st->in_txn;
    if (own && (rc = tl_store_begin(st)) != TL_OK)
        return failed(st, rc, d);
    taken_check c = {.t = t};
    rc = st->ops->tenants->each(st, find_taken, &c);
    if (rc == TL_EEXIST)
        tl_diag_set(d, NULL, 0, "branch", "the branch '%s' belongs to the tenant '%s'", c.branch,
                    c.owner);
    if (rc == TL_OK)
        rc = st->ops->tenants->put(st, t);
    if (own && rc == TL_OK)
        rc = tl_store_commit(st);
    else if (own && st->in_txn)
        tl_store_rollback(st);
    return failed(st, rc, d);
}

tl_err tl_store_tenants(tl_store *st, tl_store_tenant_fn fn, void *ctx, tl_diag *d)
{
    tl_err rc = tenant_ready(st, d);
    return rc != TL_OK ? rc : failed(st, st->ops->tenants->each(st, fn, ctx), d);
}

/* ---- keys' tenants ------------------------------------------------------------------------- */

tl_err tl__store_key_tenant(tl_store *st, const char *key, char *out)
{
    out[0] = '\0';
    if (!st->ops->tenants || st->schema_version < TL_TENANT_VERSION)
        return TL_OK;
    return st->ops->tenants->key_get(st, key, out);
}

static tl_err is_tenant(void *ctx, const tl_store_tenant_rec *t)
{
    return strcmp(t->id, ctx) == 0 ? TL_EEXIST : TL_OK;
}

tl_err tl__store_key_tenant_put(tl_store *st, const char *key, const char *tenant, tl_diag *d)
{
    if (!tenant || !*tenant)
        return TL_OK;
    tl_err rc = tenant_ready(st, d);
    if (rc != TL_OK)
        return rc;
    rc = st->ops->tenants->each(st, is_tenant, (void *)tenant);
    if (rc == TL_OK) {
        tl_diag_set(d, NULL, 0, "tenant", "no tenant '%.40s' (tailor tenant add)", tenant);
        return TL_EINVAL;
    }
    if (rc != TL_EEXIST)
        return rc;
    return st->ops->tenants->key_put(st, key, tenant);
}
