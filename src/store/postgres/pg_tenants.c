/* Consortium tenancy in a PostgreSQL store (schema version 11): the tenants, their branches and
 * their keys, as in the SQLite store. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/postgres/pg_int.h"
#include "store/tenant_int.h"

static tl_err run2(tl_store *st, const char *sql, const char *a, const char *b)
{
    tl_pg_args args = {0};
    tl__pg_str(&args, a);
    if (b)
        tl__pg_str(&args, b);
    return tl__pg_query(st, sql, &args, NULL);
}

static tl_err tenant_put(tl_store *st, const tl_store_tenant_rec *t)
{
    tl_pg_args a = {0};
    tl__pg_str(&a, t->id);
    tl__pg_str(&a, t->name);
    tl__pg_int(&a, t->created);
    tl_err r = tl__pg_query(st,
                            "INSERT INTO tenants(id, name, created) VALUES ($1, $2, $3)"
                            " ON CONFLICT (id) DO UPDATE SET name = excluded.name",
                            &a, NULL);
    if (r == TL_OK)
        r = run2(st, "DELETE FROM tenant_branches WHERE tenant = $1", t->id, NULL);
    for (int i = 0; r == TL_OK && i < t->n_branches; i++)
        r = run2(st,
                 "INSERT INTO tenant_branches(branch, tenant) VALUES ($1, $2)"
                 " ON CONFLICT DO NOTHING",
                 t->branches[i], t->id);
    return r;
}

static tl_err tenant_each(tl_store *st, tl_store_tenant_fn fn, void *ctx)
{
    PGresult *r = NULL, *b = NULL;
    tl_err rc = tl__pg_query(st, "SELECT id, name, created FROM tenants ORDER BY id COLLATE \"C\"",
                             NULL, &r);
    if (rc == TL_OK)
        rc = tl__pg_query(st,
                          "SELECT tenant, branch FROM tenant_branches"
                          " ORDER BY tenant COLLATE \"C\", branch COLLATE \"C\"",
                          NULL, &b);
    const char *names[TL_TENANT_MAX_BRANCHES];
    for (int i = 0, k = 0; rc == TL_OK && i < PQntuples(r); i++) {
        const char *id = tl__pg_s(r, i, 0);
        int n = 0;
        while (k < PQntuples(b) && strcmp(tl__pg_s(b, k, 0), id) < 0)
            k++;
        for (; k < PQntuples(b) && strcmp(tl__pg_s(b, k, 0), id) == 0; k++)
            if (n < TL_TENANT_MAX_BRANCHES)
                names[n++] = tl__pg_s(b, k, 1);
        tl_store_tenant_rec t = {id, tl__pg_s(r, i, 1), tl__pg_i64(r, i, 2), names, n};
        rc = fn(ctx, &t);
    }
    PQclear(r);
    PQclear(b);
    return rc;
}

static tl_err key_put(tl_store *st, const char *key, const char *tenant)
{
    return run2(st, "INSERT INTO tenant_keys(key_id, tenant) VALUES ($1, $2)", key, tenant);
}

static tl_err key_get(tl_store *st, const char *key, char *out)
{
    tl_pg_args a = {0};
    PGresult *r = NULL;
    out[0] = '\0';
    tl__pg_str(&a, key);
    tl_err rc = tl__pg_query(st, "SELECT tenant FROM tenant_keys WHERE key_id = $1", &a, &r);
    if (rc == TL_OK && PQntuples(r) > 0)
        snprintf(out, TL_TENANT_ID_MAX + 1, "%s", tl__pg_s(r, 0, 0));
    PQclear(r);
    return rc;
}

const tl_store_tenant_ops tl__pg_tenant_ops = {tenant_put, tenant_each, key_put, key_get};
