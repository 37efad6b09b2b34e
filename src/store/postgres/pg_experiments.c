/* Experiments in a PostgreSQL store (schema version 10): their definitions, and the per-patron
 * activity an experiment's report counts; as src/store/sqlite/sqlite_experiments.c. */
#include "store/exp_int.h"
#include "store/postgres/pg_int.h"

#define EXP_COLUMNS "name, layer, metric, salt, arms, split, created, stopped"

static const char *col(PGresult *r, int i, int c)
{
    const char *s = tl__pg_s(r, i, c);
    return s ? s : "";
}

static tl_err exp_put(tl_store *st, const tl_store_experiment *e)
{
    tl_pg_args a = {0};
    PGresult *r = NULL;
    tl__pg_str(&a, e->name);
    tl__pg_str(&a, e->layer);
    tl__pg_str(&a, e->metric);
    tl__pg_str(&a, e->salt);
    tl__pg_str(&a, e->arms);
    tl__pg_str(&a, e->split);
    tl__pg_int(&a, e->created);
    tl__pg_int(&a, e->stopped);
    tl_err rc = tl__pg_query(st,
                             "INSERT INTO experiments(" EXP_COLUMNS
                             ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
                             " ON CONFLICT(name) DO NOTHING",
                             &a, &r);
    if (rc == TL_OK && tl__pg_changes(r) == 0)
        rc = TL_EEXIST;
    PQclear(r);
    return rc;
}

/* Runs sql ($1 = name when there is one), calling fn on each experiment row. */
static tl_err exp_rows(tl_store *st, const char *sql, const char *name, tl_store_experiment_fn fn,
                       void *ctx, int *found)
{
    tl_pg_args a = {0};
    PGresult *r = NULL;
    if (name)
        tl__pg_str(&a, name);
    tl_err rc = tl__pg_query(st, sql, &a, &r);
    if (found)
        *found = rc == TL_OK && PQntuples(r) > 0;
    for (int i = 0; rc == TL_OK && i < PQntuples(r); i++) {
        tl_store_experiment e = {col(r, i, 0),        col(r, i, 1),       col(r, i, 2),
                                 col(r, i, 3),        col(r, i, 4),       col(r, i, 5),
                                 tl__pg_i64(r, i, 6), tl__pg_i64(r, i, 7)};
        rc = fn(ctx, &e);
    }
    PQclear(r);
    return rc;
}

static tl_err exp_get(tl_store *st, const char *name, tl_store_experiment_fn fn, void *ctx,
                      int *found)
{
    return exp_rows(st, "SELECT " EXP_COLUMNS " FROM experiments WHERE name = $1", name ? name : "",
                    fn, ctx, found);
}

static tl_err exp_each(tl_store *st, tl_store_experiment_fn fn, void *ctx)
{
    return exp_rows(st,
                    "SELECT " EXP_COLUMNS " FROM experiments ORDER BY created, name COLLATE \"C\"",
                    NULL, fn, ctx, NULL);
}

static tl_err exp_stop(tl_store *st, const char *name, int64_t when, int *changed)
{
    tl_pg_args a = {0};
    PGresult *r = NULL;
    tl__pg_str(&a, name ? name : "");
    tl__pg_int(&a, when);
    tl_err rc = tl__pg_query(
        st, "UPDATE experiments SET stopped = $2 WHERE name = $1 AND stopped = 0", &a, &r);
    *changed = rc == TL_OK && tl__pg_changes(r) > 0;
    PQclear(r);
    return rc;
}

static tl_err exp_activity(tl_store *st, int64_t since, int64_t until, tl_store_activity_fn fn,
                           void *ctx)
{
    tl_pg_args a = {0};
    PGresult *r = NULL;
    tl__pg_int(&a, since);
    tl__pg_int(&a, until);
    tl_err rc = tl__pg_query(
        st,
        "SELECT u.ext_id, count(*),"
        " count(*) FILTER (WHERE e.type_id = (SELECT id FROM event_types WHERE name = 'loan')),"
        " count(*) FILTER (WHERE e.type_id = (SELECT id FROM event_types WHERE name = 'click'))"
        " FROM events e JOIN users u ON u.id = e.user_id"
        " WHERE e.ts >= $1 AND ($2::bigint = 0 OR e.ts < $2) AND u.personalize = 1"
        " GROUP BY e.user_id, u.ext_id ORDER BY e.user_id",
        &a, &r);
    for (int i = 0; rc == TL_OK && i < PQntuples(r); i++)
        rc = fn(ctx, col(r, i, 0), tl__pg_i64(r, i, 1), tl__pg_i64(r, i, 2), tl__pg_i64(r, i, 3));
    PQclear(r);
    return rc;
}

const tl_store_exp_ops tl__pg_exp_ops = {
    .put = exp_put,
    .get = exp_get,
    .each = exp_each,
    .stop = exp_stop,
    .activity = exp_activity,
};
