/* The catalogue tables of a SQLite store (schema version 5): an item's details (item_details)
 * and its copies (holdings). Written once per record of a catalogue import (a million records
 * in minutes), so the statements are kept (tl__sq_kept) and an unchanged row is not rewritten. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite/sqlite_int.h"

enum {
    K_PUT_DETAILS,
    K_PUT_HOLDING,
    K_ITEM_COPIES,
    K_DEL_COPY,
    K_GET_DETAILS,
    K_GET_HOLDINGS,
    K_WORKS,
};

static const char put_details_sql[] =
    "INSERT INTO item_details(item_id, work, isbn, issn, series, series_volume, edition,"
    " publisher, extent, contents, summary, cover, starts, ends, place)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"
    " ON CONFLICT(item_id) DO UPDATE SET work = ?2, isbn = ?3, issn = ?4, series = ?5,"
    " series_volume = ?6, edition = ?7, publisher = ?8, extent = ?9, contents = ?10,"
    " summary = ?11, cover = ?12, starts = ?13, ends = ?14, place = ?15"
    " WHERE work IS NOT ?2 OR isbn IS NOT ?3 OR issn IS NOT ?4 OR series IS NOT ?5"
    " OR series_volume IS NOT ?6 OR edition IS NOT ?7 OR publisher IS NOT ?8"
    " OR extent IS NOT ?9 OR contents IS NOT ?10 OR summary IS NOT ?11 OR cover IS NOT ?12"
    " OR starts IS NOT ?13 OR ends IS NOT ?14 OR place IS NOT ?15";

/* a copy that moved to another record moves with it */
static const char put_holding_sql[] =
    "INSERT INTO holdings(copy, item_id, branch, location, status, available)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
    " ON CONFLICT(copy) DO UPDATE SET item_id = ?2, branch = ?3, location = ?4, status = ?5,"
    " available = ?6"
    " WHERE item_id IS NOT ?2 OR branch IS NOT ?3 OR location IS NOT ?4 OR status IS NOT ?5"
    " OR available IS NOT ?6";

static void text(sqlite3_stmt *q, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(q, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(q, i);
}

static void opt(sqlite3_stmt *q, int i, int64_t v)
{
    if (v == TL_ABSENT)
        sqlite3_bind_null(q, i);
    else
        sqlite3_bind_int64(q, i, v);
}

static tl_err step_done(tl_store *st, sqlite3_stmt *q, int *changed)
{
    int rc = sqlite3_step(q);
    tl_err r = rc == SQLITE_DONE || rc == SQLITE_ROW ? TL_OK : tl__sq_fail(st, rc);
    if (r == TL_OK && changed && sqlite3_changes(tl__sq_db(st)))
        *changed = 1;
    sqlite3_reset(q);
    return r;
}

tl_err tl__sq_put_details(tl_store *st, int64_t item, const tl_item_details *d, int *changed)
{
    sqlite3_stmt *q;
    tl_err r = tl__sq_kept(st, K_PUT_DETAILS, put_details_sql, &q);
    if (r != TL_OK)
        return r;
    sqlite3_bind_int64(q, 1, item);
    text(q, 2, d->work);
    text(q, 3, d->isbn);
    text(q, 4, d->issn);
    text(q, 5, d->series);
    if (isnan(d->series_volume))
        sqlite3_bind_null(q, 6);
    else
        sqlite3_bind_double(q, 6, d->series_volume);
    text(q, 7, d->edition);
    text(q, 8, d->publisher);
    text(q, 9, d->extent);
    text(q, 10, d->contents);
    text(q, 11, d->summary);
    text(q, 12, d->cover);
    opt(q, 13, d->starts);
    opt(q, 14, d->ends);
    text(q, 15, d->place);
    return step_done(st, q, changed);
}

/* Removes the copies of item that h[0..n) does not list. */
static tl_err drop_others(tl_store *st, int64_t item, const tl_holding_rec *h, int n, int *changed)
{
    sqlite3_stmt *q, *del;
    tl_err r = tl__sq_kept(st, K_ITEM_COPIES, "SELECT copy FROM holdings WHERE item_id = ?1", &q);
    if (r == TL_OK)
        r = tl__sq_kept(st, K_DEL_COPY, "DELETE FROM holdings WHERE copy = ?1", &del);
    if (r != TL_OK)
        return r;
    sqlite3_bind_int64(q, 1, item);
    char **gone = NULL;
    int ngone = 0, rc;
    while (r == TL_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        const char *c = (const char *)sqlite3_column_text(q, 0);
        int keep = 0;
        for (int i = 0; i < n && !keep; i++)
            keep = strcmp(h[i].copy, c) == 0;
        if (keep)
            continue;
        char **g = realloc(gone, (size_t)(ngone + 1) * sizeof(*g));
        if (!g || !(g[ngone] = strdup(c))) {
            gone = g ? g : gone;
            r = TL_ENOMEM;
            break;
        }
        gone = g;
        ngone++;
    }
    if (r == TL_OK && rc != SQLITE_DONE)
        r = tl__sq_fail(st, rc);
    sqlite3_reset(q);
    for (int i = 0; i < ngone; i++) {
        if (r == TL_OK) {
            text(del, 1, gone[i]);
            r = step_done(st, del, changed);
        }
        free(gone[i]);
    }
    free(gone);
    return r;
}

tl_err tl__sq_put_holdings(tl_store *st, int64_t item, int existed, const tl_holding_rec *h, int n,
                           int *changed)
{
    sqlite3_stmt *q;
    tl_err r = TL_OK;
    if (existed && (r = drop_others(st, item, h, n, changed)) != TL_OK)
        return r;
    if (n && (r = tl__sq_kept(st, K_PUT_HOLDING, put_holding_sql, &q)) != TL_OK)
        return r;
    for (int i = 0; i < n && r == TL_OK; i++) {
        text(q, 1, h[i].copy);
        sqlite3_bind_int64(q, 2, item);
        text(q, 3, h[i].branch);
        text(q, 4, h[i].location);
        text(q, 5, h[i].status);
        sqlite3_bind_int(q, 6, h[i].available ? 1 : 0);
        r = step_done(st, q, changed);
    }
    return r;
}

static const char *col(sqlite3_stmt *q, int i)
{
    return (const char *)sqlite3_column_text(q, i);
}

static int64_t col_opt(sqlite3_stmt *q, int i)
{
    return sqlite3_column_type(q, i) == SQLITE_NULL ? TL_ABSENT : sqlite3_column_int64(q, i);
}

tl_err tl__sq_get_details(tl_store *st, const char *ext, size_t len, tl_store_details_fn fn,
                          void *ctx, int *found)
{
    sqlite3_stmt *q;
    *found = 0;
    tl_err r = tl__sq_kept(st, K_GET_DETAILS,
                           "SELECT d.work, d.isbn, d.issn, d.series, d.series_volume, d.edition,"
                           " d.publisher, d.extent, d.contents, d.summary, d.cover, d.starts,"
                           " d.ends, d.place FROM item_details d JOIN items i ON i.id = d.item_id"
                           " WHERE i.ext_id = ?1",
                           &q);
    if (r != TL_OK)
        return r;
    sqlite3_bind_text(q, 1, ext, (int)len, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        *found = 1;
        tl_item_details d = {
            .work = col(q, 0),
            .isbn = col(q, 1),
            .issn = col(q, 2),
            .series = col(q, 3),
            .series_volume =
                sqlite3_column_type(q, 4) == SQLITE_NULL ? NAN : sqlite3_column_double(q, 4),
            .edition = col(q, 5),
            .publisher = col(q, 6),
            .extent = col(q, 7),
            .contents = col(q, 8),
            .summary = col(q, 9),
            .cover = col(q, 10),
            .starts = col_opt(q, 11),
            .ends = col_opt(q, 12),
            .place = col(q, 13),
        };
        r = fn(ctx, &d);
    } else if (rc != SQLITE_DONE) {
        r = tl__sq_fail(st, rc);
    }
    sqlite3_reset(q);
    return r;
}

tl_err tl__sq_get_holdings(tl_store *st, const char *ext, size_t len, tl_store_holding_fn fn,
                           void *ctx)
{
    sqlite3_stmt *q;
    tl_err r = tl__sq_kept(st, K_GET_HOLDINGS,
                           "SELECT h.copy, h.branch, h.location, h.status, h.available"
                           " FROM holdings h JOIN items i ON i.id = h.item_id"
                           " WHERE i.ext_id = ?1 ORDER BY h.copy",
                           &q);
    if (r != TL_OK)
        return r;
    sqlite3_bind_text(q, 1, ext, (int)len, SQLITE_STATIC);
    int rc;
    while (r == TL_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        tl_holding_rec h = {.copy = col(q, 0),
                            .branch = col(q, 1),
                            .location = col(q, 2),
                            .status = col(q, 3),
                            .available = sqlite3_column_int(q, 4)};
        r = fn(ctx, &h);
    }
    if (r == TL_OK && rc != SQLITE_DONE)
        r = tl__sq_fail(st, rc);
    sqlite3_reset(q);
    return r;
}

tl_err tl__sq_works_each(tl_store *st, tl_store_row_fn fn, void *ctx)
{
    sqlite3_stmt *q;
    tl_err r = tl__sq_kept(st, K_WORKS,
                           "SELECT i.ext_id, d.work FROM item_details d JOIN items i"
                           " ON i.id = d.item_id WHERE d.work IN (SELECT work FROM item_details"
                           " WHERE work IS NOT NULL GROUP BY work HAVING count(*) > 1)"
                           " ORDER BY d.work, i.id",
                           &q);
    if (r != TL_OK)
        return r;
    int rc;
    while (r == TL_OK && (rc = sqlite3_step(q)) == SQLITE_ROW)
        r = fn(ctx, col(q, 0), col(q, 1), 0);
    if (r == TL_OK && rc != SQLITE_DONE)
        r = tl__sq_fail(st, rc);
    sqlite3_reset(q);
    return r;
}
