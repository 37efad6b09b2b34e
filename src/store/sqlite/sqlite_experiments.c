/* Experiments in a SQLite store (schema version 10): their definitions, and the per-patron
 * activity an experiment's report counts. Run once per command or report: statements are
 * prepared per call. */
#include <string.h>

#include "store/exp_int.h"
#include "store/sqlite/sqlite_int.h"

#define EXP_COLUMNS "name, layer, metric, salt, arms, split, created, stopped"

static const char *col(sqlite3_stmt *q, int i)
{
    const char *s = (const char *)sqlite3_column_text(q, i);
    return s ? s : "";
}

static tl_err exp_put(tl_store *st, const tl_store_experiment *e)
{
    sqlite3_stmt *q;
    tl_err r = tl__sq_prep(st,
                           "INSERT INTO experiments(" EXP_COLUMNS
                           ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
                           " ON CONFLICT(name) DO NOTHING",
                           &q);
    if (r != TL_OK)
        return r;
    sqlite3_bind_text(q, 1, e->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, e->layer, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, e->metric, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 4, e->salt, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 5, e->arms, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 6, e->split, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 7, e->created);
    sqlite3_bind_int64(q, 8, e->stopped);
    long long changes = 0;
    r = tl__sq_finish(st, q, &changes);
    return r == TL_OK && changes == 0 ? TL_EEXIST : r;
}

/* Steps q, calling fn on each experiment row; finalizes q. */
static tl_err exp_rows(tl_store *st, sqlite3_stmt *q, tl_store_experiment_fn fn, void *ctx,
                       int *found)
{
    int rc;
    tl_err r = TL_OK;
    if (found)
        *found = 0;
    while (r == TL_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        tl_store_experiment e = {col(q, 0),
                                 col(q, 1),
                                 col(q, 2),
                                 col(q, 3),
                                 col(q, 4),
                                 col(q, 5),
                                 sqlite3_column_int64(q, 6),
                                 sqlite3_column_int64(q, 7)};
        if (found)
            *found = 1;
        r = fn(ctx, &e);
    }
    if (r == TL_OK && rc != SQLITE_DONE)
        r = tl__sq_fail(st, rc);
    sqlite3_finalize(q);
    return r;
}

static tl_err exp_get(tl_store *st, const char *name, tl_store_experiment_fn fn, void *ctx,
                      int *found)
{
    sqlite3_stmt *q;
    tl_err r = tl__sq_prep(st, "SELECT " EXP_COLUMNS " FROM experiments WHERE name = ?1", &q);
    if (r != TL_OK)
        return r;
    sqlite3_bind_text(q, 1, name ? name : "", -1, SQLITE_STATIC);
    return exp_rows(st, q, fn, ctx, found);
}

static tl_err exp_each(tl_store *st, tl_store_experiment_fn fn, void *ctx)
{
    sqlite3_stmt *q;
    tl_err r =
        tl__sq_prep(st, "SELECT " EXP_COLUMNS " FROM experiments ORDER BY created, name", &q);
    return r != TL_OK ? r : exp_rows(st, q, fn, ctx, NULL);
}

static tl_err exp_stop(tl_store *st, const char *name, int64_t when, int *changed)
{
    sqlite3_stmt *q;
    tl_err r =
        tl__sq_prep(st, "UPDATE experiments SET stopped = ?2 WHERE name = ?1 AND stopped = 0", &q);
    if (r != TL_OK)
        return r;
    sqlite3_bind_text(q, 1, name ? name : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, when);
    long long changes = 0;
    r = tl__sq_finish(st, q, &changes);
    *changed = changes > 0;
    return r;
}

static tl_err exp_activity(tl_store *st, int64_t since, int64_t until, tl_store_activity_fn fn,
                           void *ctx)
{
    sqlite3_stmt *q;
    tl_err r = tl__sq_prep(st,
                           "SELECT u.ext_id, count(*),"
                           " sum(e.type_id = (SELECT id FROM event_types WHERE name = 'loan')),"
                           " sum(e.type_id = (SELECT id FROM event_types WHERE name = 'click'))"
                           " FROM events e JOIN users u ON u.id = e.user_id"
                           " WHERE e.ts >= ?1 AND (?2 = 0 OR e.ts < ?2) AND u.personalize = 1"
                           " GROUP BY e.user_id ORDER BY e.user_id",
                           &q);
    if (r != TL_OK)
        return r;
    sqlite3_bind_int64(q, 1, since);
    sqlite3_bind_int64(q, 2, until);
    int rc;
    while (r == TL_OK && (rc = sqlite3_step(q)) == SQLITE_ROW)
        r = fn(ctx, col(q, 0), sqlite3_column_int64(q, 1), sqlite3_column_int64(q, 2),
               sqlite3_column_int64(q, 3));
    if (r == TL_OK && rc != SQLITE_DONE)
        r = tl__sq_fail(st, rc);
    sqlite3_finalize(q);
    return r;
}

const tl_store_exp_ops tl__sq_exp_ops = {
    .put = exp_put,
    .get = exp_get,
    .each = exp_each,
    .stop = exp_stop,
    .activity = exp_activity,
};
