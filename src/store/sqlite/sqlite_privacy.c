/* The trust tables of a SQLite store (schema version 4): the audit log, consent and retention,
 * a patron's whole record for an export, the retention job, and the scrub after an erasure.
 * These run rarely (an admin's action, a nightly job), so their statements are prepared per
 * call rather than kept. */
#include <stdlib.h>
#include <string.h>

#include "store/sqlite/sqlite_int.h"

static tl_err prep(tl_store *st, const char *sql, sqlite3_stmt **q)
{
    return tl__sq_prep(st, sql, q);
}

/* Steps q to its end (no rows wanted), finalizes it; *changes (may be NULL): rows written. */
static tl_err finish(tl_store *st, sqlite3_stmt *q, long long *changes)
{
    return tl__sq_finish(st, q, changes);
}

static void text(sqlite3_stmt *q, int i, const char *v)
{
    tl__sq_text(q, i, v);
}

static const char *col(sqlite3_stmt *q, int i)
{
    return tl__sq_col(q, i);
}

tl_err tl__sq_audit_append(tl_store *st, const tl_store_audit *e)
{
    sqlite3_stmt *q;
    tl_err r = prep(st,
                    "INSERT INTO audit_log(ts, actor, action, target, detail, prev, hash,"
                    " target_hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    &q);
    if (r != TL_OK)
        return r;
    sqlite3_bind_int64(q, 1, e->ts);
    text(q, 2, e->actor);
    text(q, 3, e->action);
    text(q, 4, e->target);
    text(q, 5, e->detail);
    sqlite3_bind_blob(q, 6, e->prev, TL_AUDIT_HASH, SQLITE_STATIC);
    sqlite3_bind_blob(q, 7, e->hash, TL_AUDIT_HASH, SQLITE_STATIC);
    if (e->has_target)
        sqlite3_bind_blob(q, 8, e->target_hash, TL_AUDIT_HASH, SQLITE_STATIC);
    else
        sqlite3_bind_null(q, 8);
    return finish(st, q, NULL);
}

tl_err tl__sq_audit_last(tl_store *st, int64_t *seq, uint8_t *hash, int *found)
{
    sqlite3_stmt *q;
    tl_err r = prep(st, "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1", &q);
    if (r != TL_OK)
        return r;
    int rc = sqlite3_step(q);
    *found = rc == SQLITE_ROW;
    *seq = 0;
    memset(hash, 0, TL_AUDIT_HASH);
    if (rc == SQLITE_ROW) {
        *seq = sqlite3_column_int64(q, 0);
        int n = sqlite3_column_bytes(q, 1);
        memcpy(hash, sqlite3_column_blob(q, 1), n < TL_AUDIT_HASH ? (size_t)n : TL_AUDIT_HASH);
    } else if (rc != SQLITE_DONE) {
        r = tl__sq_fail(st, rc);
    }
    sqlite3_finalize(q);
    return r;
}

/* A hash column as TL_AUDIT_HASH bytes (shorter or missing: zero-padded, so that a verifier
 * sees the damage rather than reading past it). */
static void blob32(sqlite3_stmt *q, int i, uint8_t *out)
{
    int n = sqlite3_column_bytes(q, i);
    const void *b = sqlite3_column_blob(q, i);
    memset(out, 0, TL_AUDIT_HASH);
    if (b && n > 0)
        memcpy(out, b, n < TL_AUDIT_HASH ? (size_t)n : TL_AUDIT_HASH);
}

tl_err tl__sq_audit_each(tl_store *st, tl_store_audit_fn fn, void *ctx)
{
    sqlite3_stmt *q;
    tl_err r =
        prep(st,
             "SELECT seq, ts, actor, action, target, detail, prev, hash, target_hash FROM audit_log"
             " ORDER BY seq",
             &q);
    if (r != TL_OK)
        return r;
    int rc;
    while (r == TL_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        tl_store_audit e = {.seq = sqlite3_column_int64(q, 0),
                            .ts = sqlite3_column_int64(q, 1),
                            .actor = col(q, 2),
                            .action = col(q, 3),
                            .target = col(q, 4),
                            .detail = col(q, 5)};
        blob32(q, 6, e.prev);
        blob32(q, 7, e.hash);
        e.has_target = sqlite3_column_type(q, 8) != SQLITE_NULL;
        blob32(q, 8, e.target_hash);
        r = fn(ctx, &e);
    }
    if (r == TL_OK && rc != SQLITE_DONE)
        r = tl__sq_fail(st, rc);
    sqlite3_finalize(q);
    return r;
}

tl_err tl__sq_audit_forget(tl_store *st, const char *target, long long *changed)
{
    sqlite3_stmt *q;
    tl_err r = prep(st, "UPDATE audit_log SET target = NULL WHERE target = ?1", &q);
    if (r != TL_OK)
        return r;
    text(q, 1, target);
    return finish(st, q, changed);
}

tl_err tl__sq_consent_set(tl_store *st, int64_t user, int personalize, int64_t retention_days,
                          int64_t ts, const char *actor)
{
    sqlite3_stmt *q;
    tl_err r = TL_OK;
    if (personalize >= 0) {
        if ((r = prep(st, "UPDATE users SET personalize = ?2 WHERE id = ?1", &q)) != TL_OK)
            return r;
        sqlite3_bind_int64(q, 1, user);
        sqlite3_bind_int(q, 2, personalize);
        if ((r = finish(st, q, NULL)) != TL_OK)
            return r;
    }
    if (retention_days != TL_ABSENT) {
        if ((r = prep(st,
                      retention_days < 0
                          ? "DELETE FROM retention WHERE user_id = ?1"
                          : "INSERT INTO retention(user_id, days) VALUES (?1, ?2)"
                            " ON CONFLICT(user_id) DO UPDATE SET days = excluded.days",
                      &q)) != TL_OK)
            return r;
        sqlite3_bind_int64(q, 1, user);
        if (retention_days >= 0)
            sqlite3_bind_int64(q, 2, retention_days);
        if ((r = finish(st, q, NULL)) != TL_OK)
            return r;
    }
    /* the history keeps the state after the change, whole */
    if ((r = prep(st,
                  "INSERT INTO consent_log(user_id, ts, personalize, retention_days, actor)"
                  " SELECT u.id, ?2, u.personalize, r.days, ?3 FROM users u"
                  " LEFT JOIN retention r ON r.user_id = u.id WHERE u.id = ?1",
                  &q)) != TL_OK)
        return r;
    sqlite3_bind_int64(q, 1, user);
    sqlite3_bind_int64(q, 2, ts);
    text(q, 3, actor);
    return finish(st, q, NULL);
}

/* Runs sql with the patron's id as ?1 and hands each row to row (a dump's reader). */
typedef tl_err (*dump_row)(sqlite3_stmt *q, const tl_store_dump_fns *f, void *ctx);

static tl_err dump(tl_store *st, const char *sql, int64_t user, dump_row row,
                   const tl_store_dump_fns *f, void *ctx)
{
    sqlite3_stmt *q;
    tl_err r = prep(st, sql, &q);
    if (r != TL_OK)
        return r;
    sqlite3_bind_int64(q, 1, user);
    int rc;
    while (r == TL_OK && (rc = sqlite3_step(q)) == SQLITE_ROW)
        r = row(q, f, ctx);
    if (r == TL_OK && rc != SQLITE_DONE)
        r = tl__sq_fail(st, rc);
    sqlite3_finalize(q);
    return r;
}

static tl_err event_row(sqlite3_stmt *q, const tl_store_dump_fns *f, void *ctx)
{
    int has = sqlite3_column_type(q, 2) != SQLITE_NULL;
    return f->event(ctx, col(q, 0), col(q, 1), has, has ? sqlite3_column_double(q, 2) : 0.0,
                    sqlite3_column_int64(q, 3), col(q, 4), col(q, 5), col(q, 6), col(q, 7));
}

static tl_err search_row(sqlite3_stmt *q, const tl_store_dump_fns *f, void *ctx)
{
    return f->search(ctx, col(q, 0), sqlite3_column_int64(q, 1), col(q, 2) ? col(q, 2) : "");
}

static tl_err consent_row(sqlite3_stmt *q, const tl_store_dump_fns *f, void *ctx)
{
    return f->consent(ctx, sqlite3_column_int64(q, 0), sqlite3_column_int(q, 1),
                      sqlite3_column_type(q, 2) == SQLITE_NULL ? -1 : sqlite3_column_int64(q, 2),
                      col(q, 3));
}

tl_err tl__sq_user_dump(tl_store *st, int64_t user, const tl_store_dump_fns *f, void *ctx,
                        int64_t *retention_days)
{
    sqlite3_stmt *q;
    tl_err r = prep(st, "SELECT days FROM retention WHERE user_id = ?1", &q);
    if (r != TL_OK)
        return r;
    sqlite3_bind_int64(q, 1, user);
    int rc = sqlite3_step(q);
    *retention_days = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : -1;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        r = tl__sq_fail(st, rc);
    sqlite3_finalize(q);
    if (r == TL_OK && f->event)
        r = dump(st,
                 "SELECT i.ext_id, t.name, e.value, e.ts, e.device, e.channel, e.branch,"
                 " e.session FROM events e JOIN items i ON i.id = e.item_id"
                 " JOIN event_types t ON t.id = e.type_id WHERE e.user_id = ?1"
                 " ORDER BY e.ts, i.ext_id, t.name",
                 user, event_row, f, ctx);
    if (r == TL_OK && f->search)
        r = dump(st,
                 "SELECT s.query, s.ts, (SELECT ifnull(group_concat(i.ext_id, char(9)), '')"
                 " FROM (SELECT item_id FROM search_clicks c WHERE c.search_id = s.id"
                 " ORDER BY c.rank) k JOIN items i ON i.id = k.item_id)"
                 " FROM searches s WHERE s.user_id = ?1 ORDER BY s.ts, s.id",
                 user, search_row, f, ctx);
    if (r == TL_OK && f->consent)
        r = dump(st,
                 "SELECT ts, personalize, retention_days, actor FROM consent_log"
                 " WHERE user_id = ?1 ORDER BY ts, rowid",
                 user, consent_row, f, ctx);
    if (r == TL_OK && f->impression)
        r = tl__sq_imp_dump(st, user, f, ctx);
    return r;
}

tl_err tl__sq_retention_run(tl_store *st, int64_t now, long long *removed)
{
    sqlite3_stmt *q;
    tl_err r = prep(st,
                    "DELETE FROM events WHERE user_id IN (SELECT id FROM users WHERE"
                    " personalize = 0) OR EXISTS (SELECT 1 FROM retention r WHERE"
                    " r.user_id = events.user_id AND events.ts < ?1 - r.days * 86400)",
                    &q);
    if (r != TL_OK)
        return r;
    sqlite3_bind_int64(q, 1, now);
    r = finish(st, q, removed);
    return r == TL_OK ? tl__sq_imp_retention(st, now) : r;
}

tl_err tl__sq_scrub(tl_store *st, int *complete)
{
    int log = -1, done = -1;
    int rc =
        sqlite3_wal_checkpoint_v2(tl__sq_db(st), NULL, SQLITE_CHECKPOINT_TRUNCATE, &log, &done);
    *complete = rc == SQLITE_OK;
    /* busy: a reader holds pages of the log; the next scrub finishes the job */
    return rc == SQLITE_OK || rc == SQLITE_BUSY ? TL_OK : tl__sq_fail(st, rc);
}
