/* The holdings (schema version 5) of a SQLite store: the copies of each record with their
 * branch and shelf state, the schedule of library events, and the loans by week of the year
 * (seasonality). A circulation import asks for each distinct copy once (the importer keeps
 * what it learnt), and the service reads the shelves and schedules at most once a minute and
 * the seasons once a day, so statements are prepared per call. */
#include <stdlib.h>
#include <string.h>

#include "store/sqlite/sqlite_int.h"
#include "util/civil.h"
#include "util/grow.h"
#include "util/intern.h"

static tl_err prep(tl_store *st, const char *sql, sqlite3_stmt **q)
{
    int rc = sqlite3_prepare_v2(tl__sq_db(st), sql, -1, q, NULL);
    return rc == SQLITE_OK ? TL_OK : tl__sq_fail(st, rc);
}

static void text(sqlite3_stmt *q, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(q, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(q, i);
}

tl_err tl__sq_put_holding(tl_store *st, const tl_holding_rec *h, int64_t item, tl_put *what)
{
    sqlite3_stmt *q;
    tl_err r = prep(st, "SELECT 1 FROM holdings WHERE copy = ?1", &q);
    if (r != TL_OK)
        return r;
    text(q, 1, h->copy);
    int rc = sqlite3_step(q);
    int existed = rc == SQLITE_ROW;
    sqlite3_finalize(q);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return tl__sq_fail(st, rc);
    r = prep(st,
             "INSERT INTO holdings(copy, item_id, branch, location, status, available)"
             " VALUES (?1, ?2, ?3, ?4, ?5, coalesce(?6, 1))"
             " ON CONFLICT(copy) DO UPDATE SET item_id = ?2, branch = ?3, location = ?4,"
             " status = ?5, available = coalesce(?6, available)"
             " WHERE item_id IS NOT ?2 OR branch IS NOT ?3 OR location IS NOT ?4"
             " OR status IS NOT ?5 OR available IS NOT coalesce(?6, available)",
             &q);
    if (r != TL_OK)
        return r;
    text(q, 1, h->copy);
    sqlite3_bind_int64(q, 2, item);
    text(q, 3, h->branch);
    text(q, 4, h->location);
    text(q, 5, h->status);
    if (h->available >= 0)
        sqlite3_bind_int(q, 6, h->available ? 1 : 0);
    else
        sqlite3_bind_null(q, 6);
    rc = sqlite3_step(q);
    int changes = sqlite3_changes(tl__sq_db(st));
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE)
        return tl__sq_fail(st, rc);
    *what = !existed ? TL_PUT_ADDED : changes ? TL_PUT_UPDATED : TL_PUT_UNCHANGED;
    return TL_OK;
}

tl_err tl__sq_copy_item(tl_store *st, const char *copy, size_t len, char **item)
{
    sqlite3_stmt *q;
    *item = NULL;
    tl_err r = prep(st,
                    "SELECT i.ext_id FROM holdings h JOIN items i ON i.id = h.item_id"
                    " WHERE h.copy = ?1",
                    &q);
    if (r != TL_OK)
        return r;
    sqlite3_bind_text(q, 1, copy, (int)len, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(q, 0);
        if (!(*item = strdup(v ? v : "")))
            r = TL_ENOMEM;
    } else if (rc != SQLITE_DONE) {
        r = tl__sq_fail(st, rc);
    }
    sqlite3_finalize(q);
    return r;
}

tl_err tl__sq_shelves_each(tl_store *st, tl_store_shelf_fn fn, void *ctx)
{
    sqlite3_stmt *q;
    tl_err r = prep(st,
                    "SELECT i.ext_id, h.branch, count(*), sum(h.available)"
                    " FROM holdings h JOIN items i ON i.id = h.item_id"
                    " GROUP BY h.item_id, h.branch ORDER BY h.item_id, h.branch",
                    &q);
    if (r != TL_OK)
        return r;
    int rc;
    while (r == TL_OK && (rc = sqlite3_step(q)) == SQLITE_ROW)
        r = fn(ctx, (const char *)sqlite3_column_text(q, 0),
               (const char *)sqlite3_column_text(q, 1), sqlite3_column_int64(q, 2),
               sqlite3_column_int64(q, 3));
    if (r == TL_OK && rc != SQLITE_DONE)
        r = tl__sq_fail(st, rc);
    sqlite3_finalize(q);
    return r;
}

/* A column holding Unix seconds or a date as text (an items file's extra field). */
static int64_t when(sqlite3_stmt *q, int i)
{
    int64_t t;
    switch (sqlite3_column_type(q, i)) {
    case SQLITE_INTEGER:
    case SQLITE_FLOAT:
        return sqlite3_column_int64(q, i);
    case SQLITE_TEXT: {
        const char *s = (const char *)sqlite3_column_text(q, i);
        return tl_parse_time(s, strlen(s), &t) == 0 ? t : TL_ABSENT;
    }
    default:
        return TL_ABSENT;
    }
}

tl_err tl__sq_schedules_each(tl_store *st, tl_store_schedule_fn fn, void *ctx)
{
    sqlite3_stmt *q;
    tl_err r =
        prep(st,
             "SELECT i.ext_id, d.starts, d.ends,"
             " CASE WHEN json_valid(i.extra) THEN coalesce(json_extract(i.extra, '$.starts'),"
             "  json_extract(i.extra, '$.start')) END,"
             " CASE WHEN json_valid(i.extra) THEN coalesce(json_extract(i.extra, '$.ends'),"
             "  json_extract(i.extra, '$.end')) END"
             " FROM items i LEFT JOIN item_details d ON d.item_id = i.id"
             " WHERE i.type = 'event' ORDER BY i.id",
             &q);
    if (r != TL_OK)
        return r;
    int rc;
    while (r == TL_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t starts = when(q, 1), ends = when(q, 2);
        if (starts == TL_ABSENT)
            starts = when(q, 3);
        if (ends == TL_ABSENT)
            ends = when(q, 4);
        r = fn(ctx, (const char *)sqlite3_column_text(q, 0), starts, ends);
    }
    if (r == TL_OK && rc != SQLITE_DONE)
        r = tl__sq_fail(st, rc);
    sqlite3_finalize(q);
    return r;
}

/* The subjects of the catalogue, interned, and each item's (by rowid) as a slice of them. */
typedef struct subject_map {
    tl_intern names;
    int64_t n_ids;
    int32_t *first; /* rowid -> its first entry in subj, -1: no subjects; n_ids + 1 */
    int32_t *subj;  /* subject indices, each item's ended by -1 */
    int32_t n, cap;
} subject_map;

static tl_err push(subject_map *m, int32_t v)
{
    tl_err rc = tl_grow((void **)&m->subj, &m->cap, m->n, sizeof(*m->subj), 4096);
    if (rc == TL_OK)
        m->subj[m->n++] = v;
    return rc;
}

/* Interns one subject of an item and adds it to the item's slice; non-zero (a tl_err) when
 * that fails. */
static int map_one(void *ctx, const char *s, size_t len)
{
    subject_map *m = ctx;
    int32_t k;
    tl_err rc = tl_intern_add(&m->names, s, len, &k);
    return (int)(rc == TL_OK ? push(m, k) : rc);
}

static tl_err map_subjects(tl_store *st, subject_map *m)
{
    sqlite3_stmt *q;
    tl_err r = prep(st, "SELECT max(id) FROM items", &q);
    if (r != TL_OK)
        return r;
    m->n_ids = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int64(q, 0) + 1 : 1;
    sqlite3_finalize(q);
    if (m->n_ids > INT32_MAX || !(m->first = malloc((size_t)m->n_ids * sizeof(*m->first))))
        return TL_ENOMEM;
    memset(m->first, 0xff, (size_t)m->n_ids * sizeof(*m->first));
    if ((r = prep(st, "SELECT id, subjects FROM items WHERE subjects IS NOT NULL", &q)) != TL_OK)
        return r;
    int rc;
    while (r == TL_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(q, 0);
        const char *text = (const char *)sqlite3_column_text(q, 1);
        int32_t at = m->n;
        r = (tl_err)tl_each_listed(text, '|', map_one, m);
        if (r == TL_OK && m->n > at && id >= 0 && id < m->n_ids) {
            m->first[id] = at;
            r = push(m, -1);
        }
    }
    if (r == TL_OK && rc != SQLITE_DONE)
        r = tl__sq_fail(st, rc);
    sqlite3_finalize(q);
    return r;
}

#define WEEKS 54

/* One pass over the loans adding up subject x week in memory: a GROUP BY would sort every
 * loan in a temporary B-tree (ten times slower on a large store). */
tl_err tl__sq_loan_weeks(tl_store *st, tl_store_week_fn fn, void *ctx)
{
    subject_map m = {.n = 0};
    tl_intern_init(&m.names);
    double *count = NULL;
    sqlite3_stmt *q = NULL;
    tl_err r = map_subjects(st, &m);
    if (r == TL_OK && m.names.count &&
        !(count = calloc((size_t)m.names.count * WEEKS, sizeof(*count))))
        r = TL_ENOMEM;
    if (r == TL_OK && count)
        r = prep(st,
                 "SELECT item_id, ts FROM events WHERE ts > 0 AND type_id IN"
                 " (SELECT id FROM event_types WHERE name IN ('loan', 'renew'))",
                 &q);
    int rc = SQLITE_DONE;
    while (r == TL_OK && q && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(q, 0), ts = sqlite3_column_int64(q, 1);
        if (id < 0 || id >= m.n_ids || m.first[id] < 0)
            continue;
        int week = tl_civil_week(ts);
        for (int32_t k = m.first[id]; m.subj[k] >= 0; k++)
            count[(size_t)m.subj[k] * WEEKS + (size_t)week] += 1.0;
    }
    if (r == TL_OK && q && rc != SQLITE_DONE)
        r = tl__sq_fail(st, rc);
    sqlite3_finalize(q);
    for (int32_t k = 0; r == TL_OK && count && k < m.names.count; k++)
        for (int w = 0; r == TL_OK && w < WEEKS; w++)
            if (count[(size_t)k * WEEKS + (size_t)w] > 0)
                r = fn(ctx, tl_intern_str(&m.names, k), w,
                       (int64_t)count[(size_t)k * WEEKS + (size_t)w]);
    free(count);
    free(m.first);
    free(m.subj);
    tl_intern_release(&m.names);
    return r;
}
