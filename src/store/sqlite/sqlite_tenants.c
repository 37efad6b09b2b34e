/* Consortium tenancy in a SQLite store (schema version 11): the tenants, their branches and
 * their keys. Rare writes and small tables: statements are prepared per call. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite/sqlite_int.h"
#include "store/tenant_int.h"

static tl_err bind_run(tl_store *st, const char *sql, const char *a, const char *b)
{
    sqlite3_stmt *q;
    tl_err r = tl__sq_prep(st, sql, &q);
    if (r != TL_OK)
        return r;
    sqlite3_bind_text(q, 1, a, -1, SQLITE_STATIC);
    if (b)
        sqlite3_bind_text(q, 2, b, -1, SQLITE_STATIC);
    return tl__sq_finish(st, q, NULL);
}

static tl_err tenant_put(tl_store *st, const tl_store_tenant_rec *t)
{
    sqlite3_stmt *q;
    tl_err r = tl__sq_prep(st,
                           "INSERT INTO tenants(id, name, created) VALUES (?1, ?2, ?3)"
                           " ON CONFLICT(id) DO UPDATE SET name = excluded.name",
                           &q);
    if (r != TL_OK)
        return r;
    sqlite3_bind_text(q, 1, t->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, t->name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, t->created);
    r = tl__sq_finish(st, q, NULL);
    if (r == TL_OK)
        r = bind_run(st, "DELETE FROM tenant_branches WHERE tenant = ?1", t->id, NULL);
    for (int i = 0; r == TL_OK && i < t->n_branches; i++)
        r = bind_run(st, "INSERT OR IGNORE INTO tenant_branches(branch, tenant) VALUES (?1, ?2)",
                     t->branches[i], t->id);
    return r;
}

static tl_err tenant_each(tl_store *st, tl_store_tenant_fn fn, void *ctx)
{
    sqlite3_stmt *q, *b;
    tl_err r = tl__sq_prep(st, "SELECT id, name, created FROM tenants ORDER BY id", &q);
    if (r != TL_OK)
        return r;
    if ((r = tl__sq_prep(st, "SELECT branch FROM tenant_branches WHERE tenant = ?1 ORDER BY branch",
                         &b)) != TL_OK) {
        sqlite3_finalize(q);
        return r;
    }
    char *names[TL_TENANT_MAX_BRANCHES];
    int rc = SQLITE_DONE;
    while (r == TL_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(q, 0);
        sqlite3_reset(b);
        sqlite3_bind_text(b, 1, id, -1, SQLITE_STATIC);
        int n = 0, brc;
        while (r == TL_OK && (brc = sqlite3_step(b)) == SQLITE_ROW && n < TL_TENANT_MAX_BRANCHES)
            if (!(names[n++] = strdup((const char *)sqlite3_column_text(b, 0))))
                r = TL_ENOMEM;
        tl_store_tenant_rec t = {id, (const char *)sqlite3_column_text(q, 1),
                                 sqlite3_column_int64(q, 2), (const char *const *)names, n};
        if (r == TL_OK)
            r = fn(ctx, &t);
        for (int i = 0; i < n; i++)
            free(names[i]);
    }
    sqlite3_finalize(b);
    if (r == TL_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
        r = tl__sq_fail(st, rc);
    sqlite3_finalize(q);
    return r;
}

static tl_err key_put(tl_store *st, const char *key, const char *tenant)
{
    return bind_run(st, "INSERT INTO tenant_keys(key_id, tenant) VALUES (?1, ?2)", key, tenant);
}

static tl_err key_get(tl_store *st, const char *key, char *out)
{
    sqlite3_stmt *q;
    out[0] = '\0';
    tl_err r = tl__sq_prep(st, "SELECT tenant FROM tenant_keys WHERE key_id = ?1", &q);
    if (r != TL_OK)
        return r;
    sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(q, 0);
        snprintf(out, TL_TENANT_ID_MAX + 1, "%s", t ? t : "");
    }
    r = rc == SQLITE_ROW || rc == SQLITE_DONE ? TL_OK : tl__sq_fail(st, rc);
    sqlite3_finalize(q);
    return r;
}

const tl_store_tenant_ops tl__sq_tenant_ops = {tenant_put, tenant_each, key_put, key_get};
