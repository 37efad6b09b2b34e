/* New-arrival alerts in a SQLite store (schema version 5): patrons' subscriptions and what
 * item_details says about new items and upcoming library events. Run once per digest or per
 * change of a subscription, so statements are prepared per call. */
#include <string.h>

#include "store/sqlite/sqlite_int.h"

static tl_err prep(tl_store *st, const char *sql, sqlite3_stmt **q)
{
    int rc = sqlite3_prepare_v2(tl__sq_db(st), sql, -1, q, NULL);
    return rc == SQLITE_OK ? TL_OK : tl__sq_fail(st, rc);
}

static const char *col(sqlite3_stmt *q, int i)
{
    return (const char *)sqlite3_column_text(q, i);
}

/* Steps q through its rows, row() on each; finalizes it. */
static tl_err rows(tl_store *st, sqlite3_stmt *q, tl_err (*row)(sqlite3_stmt *, void *), void *ctx)
{
    int rc;
    tl_err r = TL_OK;
    while (r == TL_OK && (rc = sqlite3_step(q)) == SQLITE_ROW)
        r = row(q, ctx);
    if (r == TL_OK && rc != SQLITE_DONE)
        r = tl__sq_fail(st, rc);
    sqlite3_finalize(q);
    return r;
}

tl_err tl__sq_sub_set(tl_store *st, int64_t user, int alerts, const char *email, int64_t ts)
{
    sqlite3_stmt *q;
    tl_err r = prep(st,
                    "INSERT INTO subscriptions(user_id, email, alerts, since)"
                    " VALUES (?1, nullif(?3, ''), max(?2, 0), ?4) ON CONFLICT(user_id) DO UPDATE"
                    " SET alerts = CASE WHEN ?2 < 0 THEN alerts ELSE ?2 END,"
                    " email = CASE WHEN ?3 IS NULL THEN email ELSE nullif(?3, '') END",
                    &q);
    if (r != TL_OK)
        return r;
    sqlite3_bind_int64(q, 1, user);
    sqlite3_bind_int(q, 2, alerts);
    if (email)
        sqlite3_bind_text(q, 3, email, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 4, ts);
    int rc = sqlite3_step(q);
    r = rc == SQLITE_DONE ? TL_OK : tl__sq_fail(st, rc);
    sqlite3_finalize(q);
    return r;
}

typedef struct sub_ctx {
    tl_store_sub_fn fn;
    void *ctx;
    int rows;
} sub_ctx;

static tl_err sub_row(sqlite3_stmt *q, void *ctx)
{
    sub_ctx *c = ctx;
    c->rows++;
    return c->fn(c->ctx, col(q, 0), col(q, 1), sqlite3_column_int(q, 2), sqlite3_column_int64(q, 3),
                 sqlite3_column_int(q, 4));
}

tl_err tl__sq_sub_get(tl_store *st, int64_t user, tl_store_sub_fn fn, void *ctx, int *found)
{
    sqlite3_stmt *q;
    sub_ctx c = {fn, ctx, 0};
    tl_err r =
        prep(st,
             "SELECT u.ext_id, s.email, s.alerts, s.since, u.personalize FROM subscriptions s"
             " JOIN users u ON u.id = s.user_id WHERE s.user_id = ?1",
             &q);
    if (r != TL_OK)
        return r;
    sqlite3_bind_int64(q, 1, user);
    r = rows(st, q, sub_row, &c);
    *found = c.rows > 0;
    return r;
}

tl_err tl__sq_sub_off(tl_store *st, int64_t user, int *changed)
{
    sqlite3_stmt *q;
    tl_err r =
        prep(st, "UPDATE subscriptions SET alerts = 0 WHERE user_id = ?1 AND alerts = 1", &q);
    if (r != TL_OK)
        return r;
    sqlite3_bind_int64(q, 1, user);
    int rc = sqlite3_step(q);
    r = rc == SQLITE_DONE ? TL_OK : tl__sq_fail(st, rc);
    *changed = r == TL_OK ? sqlite3_changes(tl__sq_db(st)) > 0 : 0;
    sqlite3_finalize(q);
    return r;
}

tl_err tl__sq_sub_each(tl_store *st, tl_store_sub_fn fn, void *ctx)
{
    sqlite3_stmt *q;
    sub_ctx c = {fn, ctx, 0};
    tl_err r =
        prep(st,
             "SELECT u.ext_id, s.email, s.alerts, s.since, u.personalize FROM subscriptions s"
             " JOIN users u ON u.id = s.user_id WHERE s.alerts = 1 AND s.email IS NOT NULL"
             " ORDER BY s.user_id",
             &q);
    return r == TL_OK ? rows(st, q, sub_row, &c) : r;
}

typedef struct detail_ctx {
    tl_store_detail_fn fn;
    void *ctx;
} detail_ctx;

static int64_t int_or_absent(sqlite3_stmt *q, int i)
{
    return sqlite3_column_type(q, i) == SQLITE_NULL ? TL_ABSENT : sqlite3_column_int64(q, i);
}

static tl_err detail_row(sqlite3_stmt *q, void *ctx)
{
    detail_ctx *c = ctx;
    tl_store_detail r = {col(q, 0), col(q, 1),           col(q, 2),           col(q, 3),
                         col(q, 4), int_or_absent(q, 5), int_or_absent(q, 6), int_or_absent(q, 7)};
    return c->fn(c->ctx, &r);
}

tl_err tl__sq_details(tl_store *st, int64_t added_from, int64_t starts_from, int64_t starts_to,
                      tl_store_detail_fn fn, void *ctx)
{
    sqlite3_stmt *q;
    detail_ctx c = {fn, ctx};
    tl_err r =
        prep(st,
             "SELECT i.ext_id, i.type, i.title, d.cover, d.place, i.added, d.starts, d.ends"
             " FROM item_details d JOIN items i ON i.id = d.item_id"
             " WHERE i.added >= ?1 OR (i.type = 'event' AND d.starts >= ?2 AND d.starts < ?3)"
             " ORDER BY d.item_id",
             &q);
    if (r != TL_OK)
        return r;
    sqlite3_bind_int64(q, 1, added_from);
    sqlite3_bind_int64(q, 2, starts_from);
    sqlite3_bind_int64(q, 3, starts_to);
    return rows(st, q, detail_row, &c);
}
