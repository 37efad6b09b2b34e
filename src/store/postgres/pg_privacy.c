/* The trust tables of a PostgreSQL store (schema version 4): the audit log, consent and
 * retention, a patron's whole record for an export, the retention job, and patrons'
 * subscriptions to new-arrival alerts (schema version 5); as
 * src/store/sqlite/sqlite_privacy.c, whose behaviour they follow. */
#include <stdlib.h>
#include <string.h>

#include "store/postgres/pg_int.h"

tl_err tl__pg_audit_append(tl_store *st, const tl_store_audit *e)
{
    tl_pg_args a = {0};
    tl__pg_int(&a, e->ts);
    tl__pg_str(&a, e->actor);
    tl__pg_str(&a, e->action);
    tl__pg_str(&a, e->target);
    tl__pg_str(&a, e->detail);
    tl__pg_blob(&a, e->prev, TL_AUDIT_HASH);
    tl__pg_blob(&a, e->hash, TL_AUDIT_HASH);
    if (e->has_target)
        tl__pg_blob(&a, e->target_hash, TL_AUDIT_HASH);
    else
        tl__pg_null(&a);
    return tl__pg_query(st,
                        "INSERT INTO audit_log(ts, actor, action, target, detail, prev, hash,"
                        " target_hash) VALUES ($1, $2, $3, $4, $5, $6::bytea, $7::bytea,"
                        " $8::bytea)",
                        &a, NULL);
}

tl_err tl__pg_audit_last(tl_store *st, int64_t *seq, uint8_t *hash, int *found)
{
    PGresult *r = NULL;
    tl_err rc =
        tl__pg_query(st, "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1", NULL, &r);
    *seq = 0;
    *found = 0;
    memset(hash, 0, TL_AUDIT_HASH);
    if (rc == TL_OK && PQntuples(r)) {
        *found = 1;
        *seq = tl__pg_i64(r, 0, 0);
        tl__pg_bytes(r, 0, 1, hash, TL_AUDIT_HASH);
    }
    PQclear(r);
    return rc;
}

tl_err tl__pg_audit_each(tl_store *st, tl_store_audit_fn fn, void *ctx)
{
    PGresult *r = NULL;
    tl_err rc = tl__pg_query(st,
                             "SELECT seq, ts, actor, action, target, detail, prev, hash,"
                             " target_hash FROM audit_log ORDER BY seq",
                             NULL, &r);
    for (int i = 0; rc == TL_OK && i < PQntuples(r); i++) {
        tl_store_audit e = {.seq = tl__pg_i64(r, i, 0),
                            .ts = tl__pg_i64(r, i, 1),
                            .actor = tl__pg_s(r, i, 2),
                            .action = tl__pg_s(r, i, 3),
                            .target = tl__pg_s(r, i, 4),
                            .detail = tl__pg_s(r, i, 5)};
        tl__pg_bytes(r, i, 6, e.prev, TL_AUDIT_HASH);
        tl__pg_bytes(r, i, 7, e.hash, TL_AUDIT_HASH);
        e.has_target = !PQgetisnull(r, i, 8);
        tl__pg_bytes(r, i, 8, e.target_hash, TL_AUDIT_HASH);
        rc = fn(ctx, &e);
    }
    PQclear(r);
    return rc;
}

tl_err tl__pg_audit_forget(tl_store *st, const char *target, long long *changed)
{
    tl_pg_args a = {0};
    tl__pg_str(&a, target);
    return tl__pg_run(st, "UPDATE audit_log SET target = NULL WHERE target = $1", &a, changed);
}

tl_err tl__pg_consent_set(tl_store *st, int64_t user, int personalize, int64_t retention_days,
                          int64_t ts, const char *actor)
{
    tl_pg_args a = {0};
    tl_err rc = TL_OK;
    tl__pg_int(&a, user);
    if (personalize >= 0) {
        tl_pg_args p = a;
        tl__pg_int(&p, personalize);
        if ((rc = tl__pg_run(st, "UPDATE users SET personalize = $2 WHERE id = $1", &p, NULL)) !=
            TL_OK)
            return rc;
    }
    if (retention_days != TL_ABSENT && retention_days < 0 &&
        (rc = tl__pg_run(st, "DELETE FROM retention WHERE user_id = $1", &a, NULL)) != TL_OK)
        return rc;
    if (retention_days != TL_ABSENT && retention_days >= 0) {
        tl_pg_args p = a;
        tl__pg_int(&p, retention_days);
        if ((rc = tl__pg_run(st,
                             "INSERT INTO retention(user_id, days) VALUES ($1, $2)"
                             " ON CONFLICT(user_id) DO UPDATE SET days = excluded.days",
                             &p, NULL)) != TL_OK)
            return rc;
    }
    /* the history keeps the state after the change, whole */
    tl__pg_int(&a, ts);
    tl__pg_str(&a, actor);
    return tl__pg_run(st,
                      "INSERT INTO consent_log(user_id, ts, personalize, retention_days, actor)"
                      " SELECT u.id, $2, u.personalize, r.days, $3 FROM users u"
                      " LEFT JOIN retention r ON r.user_id = u.id WHERE u.id = $1",
                      &a, NULL);
}

/* Runs sql with the patron's id as $1: *out = its rows. */
static tl_err dump(tl_store *st, const char *sql, int64_t user, PGresult **out)
{
    tl_pg_args a = {0};
    tl__pg_int(&a, user);
    *out = NULL;
    return tl__pg_query(st, sql, &a, out);
}

tl_err tl__pg_user_dump(tl_store *st, int64_t user, const tl_store_dump_fns *f, void *ctx,
                        int64_t *retention_days)
{
    PGresult *r;
    tl_err rc = dump(st, "SELECT days FROM retention WHERE user_id = $1", user, &r);
    *retention_days = rc == TL_OK && PQntuples(r) ? tl__pg_i64(r, 0, 0) : -1;
    PQclear(r);
    if (rc == TL_OK && f->event &&
        (rc = dump(st,
                   "SELECT i.ext_id, t.name, e.value, e.ts, e.device, e.channel, e.branch,"
                   " e.session FROM events e JOIN items i ON i.id = e.item_id"
                   " JOIN event_types t ON t.id = e.type_id WHERE e.user_id = $1"
                   " ORDER BY e.ts, i.ext_id COLLATE \"C\", t.name COLLATE \"C\"",
                   user, &r)) == TL_OK) {
        for (int i = 0; rc == TL_OK && i < PQntuples(r); i++) {
            int has = !PQgetisnull(r, i, 2);
            rc = f->event(ctx, tl__pg_s(r, i, 0), tl__pg_s(r, i, 1), has,
                          has ? strtod(PQgetvalue(r, i, 2), NULL) : 0.0, tl__pg_i64(r, i, 3),
                          tl__pg_s(r, i, 4), tl__pg_s(r, i, 5), tl__pg_s(r, i, 6),
                          tl__pg_s(r, i, 7));
        }
        PQclear(r);
    }
    if (rc == TL_OK && f->search &&
        (rc = dump(st,
                   "SELECT s.query, s.ts, (SELECT coalesce(string_agg(i.ext_id, E'\\t'"
                   " ORDER BY c.rank), '') FROM search_clicks c JOIN items i"
                   " ON i.id = c.item_id WHERE c.search_id = s.id)"
                   " FROM searches s WHERE s.user_id = $1 ORDER BY s.ts, s.id",
                   user, &r)) == TL_OK) {
        for (int i = 0; rc == TL_OK && i < PQntuples(r); i++)
            rc = f->search(ctx, tl__pg_s(r, i, 0), tl__pg_i64(r, i, 1), PQgetvalue(r, i, 2));
        PQclear(r);
    }
    if (rc == TL_OK && f->consent &&
        (rc = dump(st,
                   "SELECT ts, personalize, retention_days, actor FROM consent_log"
                   " WHERE user_id = $1 ORDER BY ts, seq",
                   user, &r)) == TL_OK) {
        for (int i = 0; rc == TL_OK && i < PQntuples(r); i++)
            rc = f->consent(ctx, tl__pg_i64(r, i, 0), (int)tl__pg_i64(r, i, 1),
                            PQgetisnull(r, i, 2) ? -1 : tl__pg_i64(r, i, 2), tl__pg_s(r, i, 3));
        PQclear(r);
    }
    if (rc == TL_OK && f->impression)
        rc = tl__pg_imp_dump(st, user, f, ctx);
    return rc;
}

tl_err tl__pg_retention_run(tl_store *st, int64_t now, long long *removed)
{
    tl_pg_args a = {0};
    tl__pg_int(&a, now);
    tl_err rc = tl__pg_run(st,
                           "DELETE FROM events WHERE user_id IN (SELECT id FROM users WHERE"
                           " personalize = 0) OR EXISTS (SELECT 1 FROM retention r WHERE"
                           " r.user_id = events.user_id AND events.ts < $1 - r.days * 86400)",
                           &a, removed);
    return rc == TL_OK ? tl__pg_imp_retention(st, now) : rc;
}

tl_err tl__pg_sub_set(tl_store *st, int64_t user, int alerts, const char *email, int64_t ts)
{
    tl_pg_args a = {0};
    tl__pg_int(&a, user);
    tl__pg_int(&a, alerts);
    tl__pg_str(&a, email);
    tl__pg_int(&a, ts);
    return tl__pg_run(
        st,
        "INSERT INTO subscriptions(user_id, email, alerts, since)"
        " VALUES ($1, nullif($3::text, ''), greatest($2::bigint, 0), $4)"
        " ON CONFLICT(user_id) DO UPDATE"
        " SET alerts = CASE WHEN $2::bigint < 0 THEN subscriptions.alerts ELSE $2 END,"
        " email = CASE WHEN $3::text IS NULL THEN subscriptions.email"
        " ELSE nullif($3::text, '') END",
        &a, NULL);
}

/* Runs sql ($1 = user unless user is 0) and hands each subscription to fn; *found = any. */
static tl_err subs(tl_store *st, const char *sql, int64_t user, tl_store_sub_fn fn, void *ctx,
                   int *found)
{
    tl_pg_args a = {0};
    PGresult *r = NULL;
    if (user)
        tl__pg_int(&a, user);
    tl_err rc = tl__pg_query(st, sql, &a, &r);
    for (int i = 0; rc == TL_OK && i < PQntuples(r); i++)
        rc = fn(ctx, tl__pg_s(r, i, 0), tl__pg_s(r, i, 1), (int)tl__pg_i64(r, i, 2),
                tl__pg_i64(r, i, 3), (int)tl__pg_i64(r, i, 4));
    if (found)
        *found = rc == TL_OK && PQntuples(r) > 0;
    PQclear(r);
    return rc;
}

tl_err tl__pg_sub_get(tl_store *st, int64_t user, tl_store_sub_fn fn, void *ctx, int *found)
{
    return subs(st,
                "SELECT u.ext_id, s.email, s.alerts, s.since, u.personalize FROM subscriptions s"
                " JOIN users u ON u.id = s.user_id WHERE s.user_id = $1",
                user, fn, ctx, found);
}

tl_err tl__pg_sub_off(tl_store *st, int64_t user, int *changed)
{
    tl_pg_args a = {0};
    long long n = 0;
    tl__pg_int(&a, user);
    tl_err rc = tl__pg_run(
        st, "UPDATE subscriptions SET alerts = 0 WHERE user_id = $1 AND alerts = 1", &a, &n);
    *changed = n > 0;
    return rc;
}

tl_err tl__pg_sub_each(tl_store *st, tl_store_sub_fn fn, void *ctx)
{
    return subs(st,
                "SELECT u.ext_id, s.email, s.alerts, s.since, u.personalize FROM subscriptions s"
                " JOIN users u ON u.id = s.user_id WHERE s.alerts = 1 AND s.email IS NOT NULL"
                " ORDER BY s.user_id",
                0, fn, ctx, NULL);
}
