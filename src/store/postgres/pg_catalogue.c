/* The catalogue tables of a PostgreSQL store (schema version 5): an item's details and copies
 * (a MARC import's), single copies (a circulation import's), shelves, library events'
 * schedules, the loans by week of the year, and the details a new-arrival digest reads; as
 * src/store/sqlite/sqlite_catalogue.c, sqlite_holdings.c and the digest's read of
 * sqlite_subscriptions.c. An unchanged row is not rewritten. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "store/postgres/pg_int.h"
#include "util/civil.h"

enum { S_PUT_DETAILS = TL_PG_CAT_SLOT0, S_PUT_HOLDING, S_ITEM_COPIES, S_DEL_COPY };

/* *changed = 1 when sql (prepared in slot) wrote a row. */
static tl_err write_row(tl_store *st, int slot, const char *sql, const tl_pg_args *a, int *changed)
{
    PGresult *r = NULL;
    tl_err rc = tl__pg_prepared(st, slot, sql, a, &r);
    if (rc == TL_OK && changed && tl__pg_changes(r) > 0)
        *changed = 1;
    PQclear(r);
    return rc;
}

tl_err tl__pg_put_details(tl_store *st, int64_t item, const tl_item_details *d, int *changed)
{
    tl_pg_args a = {0};
    tl__pg_int(&a, item);
    tl__pg_str(&a, d->work);
    tl__pg_str(&a, d->isbn);
    tl__pg_str(&a, d->issn);
    tl__pg_str(&a, d->series);
    if (isnan(d->series_volume))
        tl__pg_null(&a);
    else
        tl__pg_real(&a, d->series_volume);
    tl__pg_str(&a, d->edition);
    tl__pg_str(&a, d->publisher);
    tl__pg_str(&a, d->extent);
    tl__pg_str(&a, d->contents);
    tl__pg_str(&a, d->summary);
    tl__pg_str(&a, d->cover);
    tl__pg_opt(&a, d->starts);
    tl__pg_opt(&a, d->ends);
    tl__pg_str(&a, d->place);
#define DETAIL_COLS                                                                                \
    "work, isbn, issn, series, series_volume, edition, publisher, extent, contents, summary,"      \
    " cover, starts, ends, place"
#define NEW_DETAILS                                                                                \
    "excluded.work, excluded.isbn, excluded.issn, excluded.series, excluded.series_volume,"        \
    " excluded.edition, excluded.publisher, excluded.extent, excluded.contents,"                   \
    " excluded.summary, excluded.cover, excluded.starts, excluded.ends, excluded.place"
    return write_row(st, S_PUT_DETAILS,
                     "INSERT INTO item_details AS t(item_id, " DETAIL_COLS ")"
                     " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
                     " ON CONFLICT(item_id) DO UPDATE SET (" DETAIL_COLS ") = (" NEW_DETAILS ")"
                     " WHERE (t.work, t.isbn, t.issn, t.series, t.series_volume, t.edition,"
                     " t.publisher, t.extent, t.contents, t.summary, t.cover, t.starts, t.ends,"
                     " t.place) IS DISTINCT FROM (" NEW_DETAILS ")",
                     &a, changed);
}

/* Removes the copies of item that h[0..n) does not list. */
static tl_err drop_others(tl_store *st, int64_t item, const tl_holding_rec *h, int n, int *changed)
{
    tl_pg_args a = {0};
    PGresult *r = NULL;
    tl__pg_int(&a, item);
    tl_err rc =
        tl__pg_prepared(st, S_ITEM_COPIES, "SELECT copy FROM holdings WHERE item_id = $1", &a, &r);
    for (int i = 0; rc == TL_OK && i < PQntuples(r); i++) {
        const char *c = PQgetvalue(r, i, 0);
        int keep = 0;
        for (int k = 0; k < n && !keep; k++)
            keep = strcmp(h[k].copy, c) == 0;
        if (keep)
            continue;
        tl_pg_args del = {0};
        tl__pg_str(&del, c);
        rc = write_row(st, S_DEL_COPY, "DELETE FROM holdings WHERE copy = $1", &del, changed);
    }
    PQclear(r);
    return rc;
}

/* A copy that moved to another record moves with it; available < 0 (a circulation import's
 * copy without a state) keeps what the copy had, 1 for a new one. */
static tl_err put_copy(tl_store *st, const tl_holding_rec *h, int64_t item, int *changed)
{
    tl_pg_args a = {0};
    tl__pg_str(&a, h->copy);
    tl__pg_int(&a, item);
    tl__pg_str(&a, h->branch);
    tl__pg_str(&a, h->location);
    tl__pg_str(&a, h->status);
    if (h->available >= 0)
        tl__pg_int(&a, h->available ? 1 : 0);
    else
        tl__pg_null(&a);
    return write_row(st, S_PUT_HOLDING,
                     "INSERT INTO holdings AS t(copy, item_id, branch, location, status, available)"
                     " VALUES ($1, $2, $3, $4, $5, coalesce($6::bigint, 1))"
                     " ON CONFLICT(copy) DO UPDATE SET item_id = excluded.item_id,"
                     " branch = excluded.branch, location = excluded.location,"
                     " status = excluded.status, available = coalesce($6::bigint, t.available)"
                     " WHERE t.item_id IS DISTINCT FROM excluded.item_id"
                     " OR t.branch IS DISTINCT FROM excluded.branch"
                     " OR t.location IS DISTINCT FROM excluded.location"
                     " OR t.status IS DISTINCT FROM excluded.status"
                     " OR t.available IS DISTINCT FROM coalesce($6::bigint, t.available)",
                     &a, changed);
}

tl_err tl__pg_put_holdings(tl_store *st, int64_t item, int existed, const tl_holding_rec *h, int n,
                           int *changed)
{
    tl_err rc = existed ? drop_others(st, item, h, n, changed) : TL_OK;
    for (int i = 0; i < n && rc == TL_OK; i++) {
        tl_holding_rec c = h[i];
        c.available = c.available ? 1 : 0;
        rc = put_copy(st, &c, item, changed);
    }
    return rc;
}

tl_err tl__pg_put_holding(tl_store *st, const tl_holding_rec *h, int64_t item, tl_put *what)
{
    tl_pg_args a = {0};
    PGresult *r = NULL;
    tl__pg_str(&a, h->copy);
    tl_err rc = tl__pg_query(st, "SELECT 1 FROM holdings WHERE copy = $1", &a, &r);
    int existed = rc == TL_OK && PQntuples(r) > 0, changed = 0;
    PQclear(r);
    if (rc == TL_OK && (rc = put_copy(st, h, item, &changed)) == TL_OK)
        *what = !existed ? TL_PUT_ADDED : changed ? TL_PUT_UPDATED : TL_PUT_UNCHANGED;
    return rc;
}

/* Runs sql with $1 = ext[0..len): *r = its rows. */
static tl_err by_ext(tl_store *st, const char *sql, const char *ext, size_t len, PGresult **r)
{
    tl_pg_args a = {0};
    tl__pg_text(&a, ext, len);
    *r = NULL;
    return tl__pg_query(st, sql, &a, r);
}

tl_err tl__pg_get_details(tl_store *st, const char *ext, size_t len, tl_store_details_fn fn,
                          void *ctx, int *found)
{
    PGresult *r;
    tl_err rc = by_ext(st,
                       "SELECT d.work, d.isbn, d.issn, d.series, d.series_volume, d.edition,"
                       " d.publisher, d.extent, d.contents, d.summary, d.cover, d.starts,"
                       " d.ends, d.place FROM item_details d JOIN items i ON i.id = d.item_id"
                       " WHERE i.ext_id = $1",
                       ext, len, &r);
    *found = rc == TL_OK && PQntuples(r) > 0;
    if (*found) {
        tl_item_details d = {
            .work = tl__pg_s(r, 0, 0),
            .isbn = tl__pg_s(r, 0, 1),
            .issn = tl__pg_s(r, 0, 2),
            .series = tl__pg_s(r, 0, 3),
            .series_volume = PQgetisnull(r, 0, 4) ? NAN : strtod(PQgetvalue(r, 0, 4), NULL),
            .edition = tl__pg_s(r, 0, 5),
            .publisher = tl__pg_s(r, 0, 6),
            .extent = tl__pg_s(r, 0, 7),
            .contents = tl__pg_s(r, 0, 8),
            .summary = tl__pg_s(r, 0, 9),
            .cover = tl__pg_s(r, 0, 10),
            .starts = tl__pg_opt_col(r, 0, 11),
            .ends = tl__pg_opt_col(r, 0, 12),
            .place = tl__pg_s(r, 0, 13),
        };
        rc = fn(ctx, &d);
    }
    PQclear(r);
    return rc;
}

tl_err tl__pg_get_holdings(tl_store *st, const char *ext, size_t len, tl_store_holding_fn fn,
                           void *ctx)
{
    PGresult *r;
    tl_err rc = by_ext(st,
                       "SELECT h.copy, h.branch, h.location, h.status, h.available"
                       " FROM holdings h JOIN items i ON i.id = h.item_id"
                       " WHERE i.ext_id = $1 ORDER BY h.copy COLLATE \"C\"",
                       ext, len, &r);
    for (int i = 0; rc == TL_OK && i < PQntuples(r); i++) {
        tl_holding_rec h = {.copy = tl__pg_s(r, i, 0),
                            .branch = tl__pg_s(r, i, 1),
                            .location = tl__pg_s(r, i, 2),
                            .status = tl__pg_s(r, i, 3),
                            .available = (int)tl__pg_i64(r, i, 4)};
        rc = fn(ctx, &h);
    }
    PQclear(r);
    return rc;
}

tl_err tl__pg_copy_item(tl_store *st, const char *copy, size_t len, char **item)
{
    PGresult *r;
    *item = NULL;
    tl_err rc = by_ext(st,
                       "SELECT i.ext_id FROM holdings h JOIN items i ON i.id = h.item_id"
                       " WHERE h.copy = $1",
                       copy, len, &r);
    if (rc == TL_OK && PQntuples(r) && !(*item = strdup(PQgetvalue(r, 0, 0))))
        rc = TL_ENOMEM;
    PQclear(r);
    return rc;
}

/* Runs sql without parameters: fn(ctx, text 0, text 1, int 2) for each row. */
static tl_err rows3(tl_store *st, const char *sql, tl_store_row_fn fn, void *ctx)
{
    PGresult *r = NULL;
    tl_err rc = tl__pg_query(st, sql, NULL, &r);
    for (int i = 0; rc == TL_OK && i < PQntuples(r); i++)
        rc = fn(ctx, tl__pg_s(r, i, 0), tl__pg_s(r, i, 1), tl__pg_i64(r, i, 2));
    PQclear(r);
    return rc;
}

tl_err tl__pg_works_each(tl_store *st, tl_store_row_fn fn, void *ctx)
{
    return rows3(st,
                 "SELECT i.ext_id, d.work, 0 FROM item_details d JOIN items i"
                 " ON i.id = d.item_id WHERE d.work IN (SELECT work FROM item_details"
                 " WHERE work IS NOT NULL GROUP BY work HAVING count(*) > 1)"
                 " ORDER BY d.work COLLATE \"C\", i.id",
                 fn, ctx);
}

tl_err tl__pg_shelves_each(tl_store *st, tl_store_shelf_fn fn, void *ctx)
{
    PGresult *r = NULL;
    tl_err rc = tl__pg_query(st,
                             "SELECT i.ext_id, h.branch, count(*), sum(h.available)"
                             " FROM holdings h JOIN items i ON i.id = h.item_id"
                             " GROUP BY h.item_id, i.ext_id, h.branch"
                             " ORDER BY h.item_id, h.branch COLLATE \"C\"",
                             NULL, &r);
    for (int i = 0; rc == TL_OK && i < PQntuples(r); i++)
        rc =
            fn(ctx, tl__pg_s(r, i, 0), tl__pg_s(r, i, 1), tl__pg_i64(r, i, 2), tl__pg_i64(r, i, 3));
    PQclear(r);
    return rc;
}

/* A column holding Unix seconds or a date as text (an items file's extra field). */
static int64_t when(PGresult *r, int row, int col)
{
    const char *s = tl__pg_s(r, row, col);
    char *end;
    int64_t t;
    if (!s || !*s)
        return TL_ABSENT;
    double v = strtod(s, &end);
    if (!*end)
        return (int64_t)v;
    return tl_parse_time(s, strlen(s), &t) == 0 ? t : TL_ABSENT;
}

tl_err tl__pg_schedules_each(tl_store *st, tl_store_schedule_fn fn, void *ctx)
{
    PGresult *r = NULL;
    /* extra is JSON text when an items file gave one: read only when it is an object */
#define EXTRA(k1, k2)                                                                              \
    " CASE WHEN i.extra ~ '^\\s*\\{' THEN coalesce(i.extra::jsonb ->> '" k1 "',"                   \
    " i.extra::jsonb ->> '" k2 "') END"
    tl_err rc =
        tl__pg_query(st,
                     "SELECT i.ext_id, d.starts, d.ends," EXTRA("starts", "start") "," EXTRA(
                         "ends", "end") " FROM items i LEFT JOIN item_details d"
                                        " ON d.item_id = i.id"
                                        " WHERE i.type = 'event' ORDER BY i.id",
                     NULL, &r);
#undef EXTRA
    for (int i = 0; rc == TL_OK && i < PQntuples(r); i++) {
        int64_t starts = when(r, i, 1), ends = when(r, i, 2);
        if (starts == TL_ABSENT)
            starts = when(r, i, 3);
        if (ends == TL_ABSENT)
            ends = when(r, i, 4);
        rc = fn(ctx, tl__pg_s(r, i, 0), starts, ends);
    }
    PQclear(r);
    return rc;
}

tl_err tl__pg_loan_weeks(tl_store *st, tl_store_week_fn fn, void *ctx)
{
    /* the week as tl_civil_week (strftime's %W, UTC): (day of year + 7 - ISO weekday) / 7;
     * subjects split at '|' and trimmed of blanks as tl_each_listed */
    PGresult *r = NULL;
    tl_err rc =
        tl__pg_query(st,
                     "SELECT s, w, count(*) FROM (SELECT btrim(x.s, E' \\t') AS s,"
                     " (extract(doy FROM t.t)::int + 7 - extract(isodow FROM t.t)::int) / 7 AS w"
                     " FROM events e JOIN items i ON i.id = e.item_id"
                     " CROSS JOIN LATERAL (SELECT to_timestamp(e.ts) AT TIME ZONE 'UTC' AS t) t"
                     " CROSS JOIN LATERAL unnest(string_to_array(i.subjects, '|')) AS x(s)"
                     " WHERE e.ts > 0 AND i.subjects IS NOT NULL AND e.type_id IN"
                     " (SELECT id FROM event_types WHERE name IN ('loan', 'renew'))) z"
                     " WHERE s <> '' GROUP BY s, w ORDER BY s COLLATE \"C\", w",
                     NULL, &r);
    for (int i = 0; rc == TL_OK && i < PQntuples(r); i++)
        rc = fn(ctx, tl__pg_s(r, i, 0), (int)tl__pg_i64(r, i, 1), tl__pg_i64(r, i, 2));
    PQclear(r);
    return rc;
}

tl_err tl__pg_details(tl_store *st, int64_t added_from, int64_t starts_from, int64_t starts_to,
                      tl_store_detail_fn fn, void *ctx)
{
    tl_pg_args a = {0};
    PGresult *r = NULL;
    tl__pg_int(&a, added_from);
    tl__pg_int(&a, starts_from);
    tl__pg_int(&a, starts_to);
    tl_err rc = tl__pg_query(
        st,
        "SELECT i.ext_id, i.type, i.title, d.cover, d.place, i.added, d.starts, d.ends"
        " FROM item_details d JOIN items i ON i.id = d.item_id"
        " WHERE i.added >= $1 OR (i.type = 'event' AND d.starts >= $2 AND d.starts < $3)"
        " ORDER BY d.item_id",
        &a, &r);
    for (int i = 0; rc == TL_OK && i < PQntuples(r); i++) {
        tl_store_detail d = {tl__pg_s(r, i, 0),       tl__pg_s(r, i, 1),
                             tl__pg_s(r, i, 2),       tl__pg_s(r, i, 3),
                             tl__pg_s(r, i, 4),       tl__pg_opt_col(r, i, 5),
                             tl__pg_opt_col(r, i, 6), tl__pg_opt_col(r, i, 7)};
        rc = fn(ctx, &d);
    }
    PQclear(r);
    return rc;
}
