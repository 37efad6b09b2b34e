/* Reading lists, reviews and learning paths on a PostgreSQL store (schema version 5); as
 * src/store/sqlite/sqlite_lists.c, whose behaviour they follow. Patron ids arrive as the store
 * keeps them (lists.c passed them through the door). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/lib_int.h"
#include "store/postgres/pg_int.h"

#define C " COLLATE \"C\""
#define LIST_COLS                                                                                  \
    "SELECT l.ext_id, u.ext_id, l.title, l.description, l.public, l.created, l.updated,"           \
    " (SELECT count(*) FROM list_items k WHERE k.list_id = l.id), l.id FROM lists l"               \
    " LEFT JOIN users u ON u.id = l.user_id "

/* Runs sql with $1 = key; calls fn for each list; *last = the last list's id (0: none). */
static tl_err lists(tl_store *st, const char *sql, const char *key, tl_store_readlist_fn fn,
                    void *ctx, int64_t *last)
{
    tl_pg_args a = {0};
    PGresult *r = NULL;
    tl__pg_str(&a, key);
    tl_err rc = tl__pg_query(st, sql, &a, &r);
    *last = 0;
    for (int i = 0; rc == TL_OK && i < PQntuples(r); i++) {
        tl_store_readlist l = {tl__pg_s(r, i, 0),   tl__pg_s(r, i, 1),        tl__pg_s(r, i, 2),
                               tl__pg_s(r, i, 3),   (int)tl__pg_i64(r, i, 4), tl__pg_i64(r, i, 5),
                               tl__pg_i64(r, i, 6), tl__pg_i64(r, i, 7)};
        *last = tl__pg_i64(r, i, 8);
        rc = fn ? fn(ctx, &l) : TL_OK;
    }
    PQclear(r);
    return rc;
}

static tl_err pg_list_get(tl_store *st, const char *id, tl_store_readlist_fn fn,
                          tl_store_readlist_item_fn ifn, void *ctx, int *found)
{
    int64_t lid;
    tl_err rc = lists(st, LIST_COLS "WHERE l.ext_id = $1", id, fn, ctx, &lid);
    *found = lid != 0;
    if (rc != TL_OK || !lid || !ifn)
        return rc;
    tl_pg_args a = {0};
    PGresult *r = NULL;
    tl__pg_int(&a, lid);
    rc = tl__pg_query(st,
                      "SELECT i.ext_id, i.title, k.note, k.pos, k.added FROM list_items k"
                      " JOIN items i ON i.id = k.item_id WHERE k.list_id = $1 ORDER BY k.pos",
                      &a, &r);
    for (int i = 0; rc == TL_OK && i < PQntuples(r); i++) {
        tl_store_readlist_item e = {tl__pg_s(r, i, 0), tl__pg_s(r, i, 1), tl__pg_s(r, i, 2),
                                    tl__pg_i64(r, i, 3), tl__pg_i64(r, i, 4)};
        rc = ifn(ctx, &e);
    }
    PQclear(r);
    return rc;
}

static tl_err pg_lists_each(tl_store *st, const char *user, const char *item, int public_only,
                            tl_store_readlist_fn fn, void *ctx)
{
    char sql[600];
    int64_t last;
    snprintf(sql, sizeof(sql), LIST_COLS "WHERE %s%s ORDER BY l.updated DESC, l.id DESC",
             user ? "u.ext_id = $1"
                  : "l.id IN (SELECT k.list_id FROM list_items k WHERE k.item_id ="
                    " (SELECT id FROM items WHERE ext_id = $1))",
             public_only ? " AND l.public = 1" : "");
    return lists(st, sql, user ? user : item, fn, ctx, &last);
}

static tl_err pg_reviews_each(tl_store *st, const char *user, const char *item, int public_only,
                              tl_store_review_fn fn, void *ctx)
{
    char sql[600];
    snprintf(sql, sizeof(sql),
             "SELECT u.ext_id, i.ext_id, r.rating, r.body, r.public, r.ts FROM reviews r"
             " JOIN users u ON u.id = r.user_id JOIN items i ON i.id = r.item_id WHERE %s%s"
             " ORDER BY r.ts DESC, u.ext_id" C ", i.ext_id" C,
             user ? "r.user_id = (SELECT id FROM users WHERE ext_id = $1)"
                  : "r.item_id = (SELECT id FROM items WHERE ext_id = $1)",
             public_only ? " AND r.public = 1" : "");
    tl_pg_args a = {0};
    PGresult *r = NULL;
    tl__pg_str(&a, user ? user : item);
    tl_err rc = tl__pg_query(st, sql, &a, &r);
    for (int i = 0; rc == TL_OK && i < PQntuples(r); i++) {
        int has = !PQgetisnull(r, i, 2);
        tl_store_review v = {tl__pg_s(r, i, 0),
                             tl__pg_s(r, i, 1),
                             has,
                             has ? strtod(PQgetvalue(r, i, 2), NULL) : 0.0,
                             tl__pg_s(r, i, 3),
                             (int)tl__pg_i64(r, i, 4),
                             tl__pg_i64(r, i, 5)};
        rc = fn(ctx, &v);
    }
    PQclear(r);
    return rc;
}

static tl_err pg_feedback_each(tl_store *st, const char *path, const char *user,
                               tl_store_feedback_fn fn, void *ctx)
{
    char sql[600];
    snprintf(sql, sizeof(sql),
             "SELECT p.ext_id, i.ext_id, u.ext_id, f.useful, f.ts FROM path_feedback f"
             " JOIN paths p ON p.id = f.path_id JOIN items i ON i.id = f.item_id"
             " JOIN users u ON u.id = f.user_id WHERE %s ORDER BY f.ts, p.ext_id" C ", i.ext_id" C,
             path ? "p.ext_id = $1" : "f.user_id = (SELECT id FROM users WHERE ext_id = $1)");
    tl_pg_args a = {0};
    PGresult *r = NULL;
    tl__pg_str(&a, path ? path : user);
    tl_err rc = tl__pg_query(st, sql, &a, &r);
    for (int i = 0; rc == TL_OK && i < PQntuples(r); i++)
        rc = fn(ctx, tl__pg_s(r, i, 0), tl__pg_s(r, i, 1), tl__pg_s(r, i, 2),
                (int)tl__pg_i64(r, i, 3), tl__pg_i64(r, i, 4));
    PQclear(r);
    return rc;
}

/* ---- writes ---- */

/* *id = the first column of sql's first row with $1 = v and $2 = id2 (when not 0), or 0. */
static tl_err one_id(tl_store *st, const char *sql, const char *v, int64_t id2, int64_t *id)
{
    tl_pg_args a = {0};
    PGresult *r = NULL;
    tl__pg_str(&a, v);
    if (id2)
        tl__pg_int(&a, id2);
    tl_err rc = tl__pg_query(st, sql, &a, &r);
    *id = rc == TL_OK && PQntuples(r) ? tl__pg_i64(r, 0, 0) : 0;
    PQclear(r);
    return rc;
}

/* *found = 1 when sql has a row with $1 = a and $2 = b. */
static tl_err exists2(tl_store *st, const char *sql, int64_t a, int64_t b, int64_t *found)
{
    tl_pg_args p = {0};
    PGresult *r = NULL;
    tl__pg_int(&p, a);
    tl__pg_int(&p, b);
    tl_err rc = tl__pg_query(st, sql, &p, &r);
    *found = rc == TL_OK && PQntuples(r) > 0;
    PQclear(r);
    return rc;
}

/* *id = the id of ext in table (0: none; TL_ENOTFOUND naming field, when given, then). */
static tl_err find(tl_store *st, const char *table, const char *field, const char *ext, int64_t *id,
                   tl_diag *d)
{
    char sql[96];
    snprintf(sql, sizeof(sql), "SELECT id FROM %s WHERE ext_id = $1", table);
    tl_err rc = one_id(st, sql, ext, 0, id);
    if (rc == TL_OK && !*id && field) {
        tl_diag_set(d, NULL, 0, field, "no %s '%.200s' in the store", field, ext);
        rc = TL_ENOTFOUND;
    }
    return rc;
}

/* The store's id of patron user, created when unknown (as an event would). */
static tl_err patron(tl_store *st, const char *user, int64_t *id)
{
    size_t len = strlen(user);
    tl_err rc = st->ops->find_id(st, TL_ID_USER, user, len, id);
    return rc == TL_OK && !*id ? st->ops->create_id(st, TL_ID_USER, user, len, id) : rc;
}

/* Runs the delete sql with a's parameters: TL_ENOTFOUND with d saying what when it removed
 * nothing. */
static tl_err removed(tl_store *st, const char *sql, const tl_pg_args *a, tl_diag *d,
                      const char *field, const char *what)
{
    long long changes = 0;
    tl_err rc = tl__pg_run(st, sql, a, &changes);
    if (rc == TL_OK && !changes) {
        tl_diag_set(d, NULL, 0, field, "%s", what);
        rc = TL_ENOTFOUND;
    }
    return rc;
}

static tl_put put_what(int existed, long long changes)
{
    return !existed ? TL_PUT_ADDED : changes ? TL_PUT_UPDATED : TL_PUT_UNCHANGED;
}

static tl_err pg_list_put(tl_store *st, const tl_store_readlist *l, int64_t now, tl_put *what,
                          tl_diag *d)
{
    int64_t id, user = 0;
    long long changes = 0;
    tl_err rc = find(st, "lists", NULL, l->id, &id, d);
    if (rc == TL_OK && !id && l->user)
        rc = patron(st, l->user, &user);
    if (rc != TL_OK)
        return rc;
    tl_pg_args a = {0};
    tl__pg_str(&a, l->id);
    tl__pg_str(&a, l->title);
    tl__pg_str(&a, l->description);
    tl__pg_int(&a, l->public ? 1 : 0);
    tl__pg_int(&a, now);
    if (id || user)
        tl__pg_int(&a, id ? id : user);
    else
        tl__pg_null(&a);
    rc = tl__pg_run(st,
                    id ? "UPDATE lists SET title = $2, description = $3, public = $4, updated = $5"
                         " WHERE id = $6 AND ext_id = $1 AND (title IS DISTINCT FROM $2::text"
                         " OR description IS DISTINCT FROM $3::text OR public IS DISTINCT FROM"
                         " $4::bigint)"
                       : "INSERT INTO lists(ext_id, title, description, public, created, updated,"
                         " user_id) VALUES ($1, $2, $3, $4, $5, $5, $6)",
                    &a, &changes);
    if (rc == TL_OK && what)
        *what = put_what(id != 0, changes);
    return rc;
}

static tl_err pg_list_delete(tl_store *st, const char *id, tl_diag *d)
{
    tl_pg_args a = {0};
    char what[256];
    tl__pg_str(&a, id);
    snprintf(what, sizeof(what), "no list '%.200s' in the store", id);
    /* its items cascade */
    return removed(st, "DELETE FROM lists WHERE ext_id = $1", &a, d, "list", what);
}

static tl_err pg_list_add(tl_store *st, const char *list, const char *item, const char *note,
                          int64_t now, tl_put *what, tl_diag *d)
{
    int64_t lid, iid, had = 0, type;
    long long changes = 0;
    tl_err rc = find(st, "lists", "list", list, &lid, d);
    if (rc == TL_OK)
        rc = find(st, "items", "item", item, &iid, d);
    if (rc == TL_OK)
        rc = exists2(st, "SELECT 1 FROM list_items WHERE item_id = $1 AND list_id = $2", iid, lid,
                     &had);
    if (rc != TL_OK)
        return rc;
    tl_pg_args a = {0};
    tl__pg_int(&a, lid);
    tl__pg_int(&a, iid);
    tl__pg_str(&a, note);
    if (!had)
        tl__pg_int(&a, now);
    rc = tl__pg_run(
        st,
        had ? "UPDATE list_items SET note = $3 WHERE list_id = $1 AND item_id = $2"
              " AND note IS DISTINCT FROM $3::text"
            : "INSERT INTO list_items(list_id, item_id, pos, note, added) VALUES ($1, $2,"
              " (SELECT coalesce(max(pos), 0) + 1 FROM list_items WHERE list_id = $1),"
              " $3, $4)",
        &a, &changes);
    if (rc != TL_OK)
        return rc;
    if (what)
        *what = put_what(had != 0, changes);
    if (!changes)
        return TL_OK;
    tl_pg_args u = {0};
    tl__pg_int(&u, lid);
    tl__pg_int(&u, now);
    if ((rc = tl__pg_run(st, "UPDATE lists SET updated = $2 WHERE id = $1", &u, NULL)) != TL_OK ||
        had)
        return rc;
    /* the owner's list_add event, unless they opted out: what training and live answers read */
    size_t tlen = strlen(TL_LIST_EVENT);
    if ((rc = st->ops->find_id(st, TL_ID_TYPE, TL_LIST_EVENT, tlen, &type)) == TL_OK && !type)
        rc = st->ops->create_id(st, TL_ID_TYPE, TL_LIST_EVENT, tlen, &type);
    if (rc != TL_OK)
        return rc;
    tl_pg_args e = {0};
    tl__pg_int(&e, lid);
    tl__pg_int(&e, iid);
    tl__pg_int(&e, type);
    tl__pg_int(&e, now);
    return tl__pg_run(
        st,
        "INSERT INTO events(user_id, item_id, type_id, ts) SELECT l.user_id, $2, $3, $4"
        " FROM lists l JOIN users u ON u.id = l.user_id WHERE l.id = $1"
        " AND u.personalize = 1 ON CONFLICT DO NOTHING",
        &e, NULL);
}

static tl_err pg_list_remove(tl_store *st, const char *list, const char *item, tl_diag *d)
{
    int64_t lid;
    char what[480];
    tl_err rc = find(st, "lists", "list", list, &lid, d);
    if (rc != TL_OK)
        return rc;
    tl_pg_args a = {0};
    tl__pg_str(&a, item);
    tl__pg_int(&a, lid);
    snprintf(what, sizeof(what), "the list '%.200s' has no item '%.200s'", list, item);
    return removed(st,
                   "DELETE FROM list_items WHERE list_id = $2 AND item_id = (SELECT id FROM"
                   " items WHERE ext_id = $1)",
                   &a, d, "item", what);
}

static tl_err pg_list_neighbours(tl_store *st, const char *item, int limit, tl_store_row_fn fn,
                                 void *ctx)
{
    tl_pg_args a = {0};
    PGresult *r = NULL;
    tl__pg_str(&a, item);
    tl__pg_int(&a, limit);
    tl_err rc =
        tl__pg_query(st,
                     "SELECT i.ext_id, i.title, count(*) AS n FROM list_items a"
                     " JOIN lists l ON l.id = a.list_id AND l.public = 1"
                     " JOIN list_items b ON b.list_id = a.list_id AND b.item_id <> a.item_id"
                     " JOIN items i ON i.id = b.item_id"
                     " WHERE a.item_id = (SELECT id FROM items WHERE ext_id = $1)"
                     " GROUP BY b.item_id, i.ext_id, i.title"
                     " ORDER BY n DESC, i.ext_id" C " LIMIT $2",
                     &a, &r);
    for (int i = 0; rc == TL_OK && i < PQntuples(r); i++)
        rc = fn(ctx, tl__pg_s(r, i, 0), tl__pg_s(r, i, 1), tl__pg_i64(r, i, 2));
    PQclear(r);
    return rc;
}

static tl_err pg_review_put(tl_store *st, const tl_store_review *v, tl_put *what, tl_diag *d)
{
    int64_t user, item, had = 0;
    long long changes = 0;
    tl_err rc = find(st, "items", "item", v->item, &item, d);
    if (rc == TL_OK)
        rc = patron(st, v->user, &user);
    if (rc == TL_OK)
        rc = exists2(st, "SELECT 1 FROM reviews WHERE user_id = $1 AND item_id = $2", user, item,
                     &had);
    if (rc != TL_OK)
        return rc;
    tl_pg_args a = {0};
    tl__pg_int(&a, user);
    tl__pg_int(&a, item);
    if (v->has_rating)
        tl__pg_real(&a, v->rating);
    else
        tl__pg_null(&a);
    tl__pg_str(&a, v->body);
    tl__pg_int(&a, v->public ? 1 : 0);
    tl__pg_int(&a, v->ts);
    rc = tl__pg_run(
        st,
        "INSERT INTO reviews AS r(user_id, item_id, rating, body, public, ts) VALUES ($1, $2,"
        " $3, $4, $5, $6) ON CONFLICT(user_id, item_id) DO UPDATE SET"
        " rating = excluded.rating, body = excluded.body, public = excluded.public,"
        " ts = excluded.ts WHERE r.rating IS DISTINCT FROM excluded.rating"
        " OR r.body IS DISTINCT FROM excluded.body OR r.public IS DISTINCT FROM"
        " excluded.public",
        &a, &changes);
    if (rc == TL_OK && what)
        *what = put_what(had != 0, changes);
    return rc;
}

static tl_err pg_review_delete(tl_store *st, const char *user, const char *item, tl_diag *d)
{
    tl_pg_args a = {0};
    char what[256];
    tl__pg_str(&a, user);
    tl__pg_str(&a, item);
    snprintf(what, sizeof(what), "the patron has no review of item '%.200s'", item);
    return removed(st,
                   "DELETE FROM reviews WHERE user_id = (SELECT id FROM users WHERE"
                   " ext_id = $1) AND item_id = (SELECT id FROM items WHERE ext_id = $2)",
                   &a, d, "review", what);
}

static tl_err pg_path_put(tl_store *st, const tl_store_path *p, const tl_store_step *steps, int n,
                          tl_put *what, tl_diag *d)
{
    int64_t id;
    tl_err rc = find(st, "paths", NULL, p->id, &id, d);
    if (rc != TL_OK)
        return rc;
    int existed = id != 0;
    tl_pg_args a = {0};
    PGresult *r = NULL;
    tl__pg_str(&a, p->id);
    tl__pg_str(&a, p->title);
    tl__pg_str(&a, p->topic);
    tl__pg_str(&a, p->origin ? p->origin : "librarian");
    if (!id)
        tl__pg_int(&a, p->created);
    if ((rc = tl__pg_query(st,
                           id ? "UPDATE paths SET title = $2, topic = $3, origin = $4"
                                " WHERE ext_id = $1 RETURNING id"
                              : "INSERT INTO paths(ext_id, title, topic, origin, created)"
                                " VALUES ($1, $2, $3, $4, $5) RETURNING id",
                           &a, &r)) != TL_OK)
        return rc;
    id = tl__pg_i64(r, 0, 0);
    PQclear(r);
    tl_pg_args k = {0};
    tl__pg_int(&k, id);
    if ((rc = tl__pg_run(st, "DELETE FROM path_steps WHERE path_id = $1", &k, NULL)) != TL_OK)
        return rc;
    for (int s = 0; s < n; s++) {
        long long changes = 0;
        tl_pg_args b = {0};
        tl__pg_int(&b, id);
        tl__pg_str(&b, steps[s].item);
        tl__pg_int(&b, steps[s].pos);
        tl__pg_opt(&b, steps[s].level);
        if ((rc = tl__pg_run(st,
                             "INSERT INTO path_steps(path_id, item_id, pos, level)"
                             " SELECT $1, id, $3, $4 FROM items WHERE ext_id = $2",
                             &b, &changes)) != TL_OK)
            return rc;
        if (!changes) {
            tl_diag_set(d, NULL, 0, "item", "no item '%.200s' in the store", steps[s].item);
            return TL_ENOTFOUND;
        }
    }
    /* feedback on steps the path no longer has goes with them */
    if ((rc = tl__pg_run(st,
                         "DELETE FROM path_feedback WHERE path_id = $1 AND item_id NOT IN"
                         " (SELECT item_id FROM path_steps WHERE path_id = $1)",
                         &k, NULL)) == TL_OK &&
        what)
        *what = existed ? TL_PUT_UPDATED : TL_PUT_ADDED;
    return rc;
}

#define PATH_COLS                                                                                  \
    "SELECT p.ext_id, p.title, p.topic, p.origin, p.created,"                                      \
    " (SELECT count(*) FROM path_steps s WHERE s.path_id = p.id), p.id FROM paths p "

/* Runs sql with $1 = key; calls fn for each path; *last = the last path's id (0: none). */
static tl_err paths(tl_store *st, const char *sql, const char *key, tl_store_path_fn fn, void *ctx,
                    int64_t *last)
{
    tl_pg_args a = {0};
    PGresult *r = NULL;
    tl__pg_str(&a, key);
    tl_err rc = tl__pg_query(st, sql, &a, &r);
    *last = 0;
    for (int i = 0; rc == TL_OK && i < PQntuples(r); i++) {
        tl_store_path p = {tl__pg_s(r, i, 0), tl__pg_s(r, i, 1),   tl__pg_s(r, i, 2),
                           tl__pg_s(r, i, 3), tl__pg_i64(r, i, 4), tl__pg_i64(r, i, 5)};
        *last = tl__pg_i64(r, i, 6);
        rc = fn ? fn(ctx, &p) : TL_OK;
    }
    PQclear(r);
    return rc;
}

static tl_err pg_path_get(tl_store *st, const char *id, tl_store_path_fn fn, tl_store_step_fn sfn,
                          void *ctx, int *found)
{
    int64_t pid;
    tl_err rc = paths(st, PATH_COLS "WHERE p.ext_id = $1", id, fn, ctx, &pid);
    *found = pid != 0;
    if (rc != TL_OK || !pid || !sfn)
        return rc;
    tl_pg_args a = {0};
    PGresult *r = NULL;
    tl__pg_int(&a, pid);
    rc = tl__pg_query(st,
                      "SELECT i.ext_id, i.title, s.pos, s.level FROM path_steps s"
                      " JOIN items i ON i.id = s.item_id WHERE s.path_id = $1"
                      " ORDER BY s.pos, i.ext_id" C,
                      &a, &r);
    for (int i = 0; rc == TL_OK && i < PQntuples(r); i++) {
        tl_store_step s = {tl__pg_s(r, i, 0), tl__pg_s(r, i, 1), tl__pg_i64(r, i, 2),
                           tl__pg_opt_col(r, i, 3)};
        rc = sfn(ctx, &s);
    }
    PQclear(r);
    return rc;
}

static tl_err pg_paths_each(tl_store *st, const char *topic, tl_store_path_fn fn, void *ctx)
{
    int64_t last;
    return paths(st,
                 PATH_COLS "WHERE $1::text IS NULL OR lower(p.topic) = lower($1::text)"
                           " ORDER BY p.ext_id" C,
                 topic, fn, ctx, &last);
}

static tl_err pg_path_delete(tl_store *st, const char *id, tl_diag *d)
{
    tl_pg_args a = {0};
    char what[256];
    tl__pg_str(&a, id);
    snprintf(what, sizeof(what), "no path '%.200s' in the store", id);
    /* steps, feedback cascade */
    return removed(st, "DELETE FROM paths WHERE ext_id = $1", &a, d, "path", what);
}

static tl_err pg_feedback_put(tl_store *st, const char *path, const char *item, const char *user,
                              int useful, int64_t ts, tl_diag *d)
{
    int64_t pid, iid, uid;
    tl_err rc = find(st, "paths", "path", path, &pid, d);
    if (rc == TL_OK)
        rc = one_id(st,
                    "SELECT s.item_id FROM path_steps s JOIN items i ON i.id = s.item_id"
                    " WHERE i.ext_id = $1 AND s.path_id = $2",
                    item, pid, &iid);
    if (rc == TL_OK && !iid) {
        tl_diag_set(d, NULL, 0, "item", "'%.200s' is no step of the path '%.200s'", item, path);
        rc = TL_ENOTFOUND;
    }
    if (rc == TL_OK)
        rc = patron(st, user, &uid);
    if (rc != TL_OK)
        return rc;
    tl_pg_args a = {0};
    tl__pg_int(&a, pid);
    tl__pg_int(&a, iid);
    tl__pg_int(&a, uid);
    tl__pg_int(&a, useful ? 1 : 0);
    tl__pg_int(&a, ts);
    return tl__pg_run(st,
                      "INSERT INTO path_feedback(path_id, item_id, user_id, useful, ts) VALUES ($1,"
                      " $2, $3, $4, $5) ON CONFLICT(path_id, item_id, user_id) DO UPDATE SET"
                      " useful = excluded.useful, ts = excluded.ts",
                      &a, NULL);
}

/* ---- proposals ---- */

#define TOPIC_MATCH "('|' || lower(i.subjects) || '|') LIKE ('%|' || lower($1::text) || '|%')"

static tl_err pg_topic_items(tl_store *st, const char *topic, tl_store_topic_fn fn, void *ctx)
{
    tl_pg_args a = {0};
    PGresult *r = NULL;
    tl__pg_str(&a, topic);
    tl_err rc = tl__pg_query(st,
                             "SELECT i.ext_id, i.title, i.subjects, d.series, d.series_volume,"
                             " CASE WHEN i.extra IS NOT NULL AND i.extra <> ''"
                             " THEN i.extra::jsonb ->> 'level' END FROM items i"
                             " LEFT JOIN item_details d ON d.item_id = i.id WHERE " TOPIC_MATCH
                             " ORDER BY i.id",
                             &a, &r);
    for (int i = 0; rc == TL_OK && i < PQntuples(r); i++) {
        tl_store_topic_item t = {tl__pg_s(r, i, 0),
                                 tl__pg_s(r, i, 1),
                                 tl__pg_s(r, i, 2),
                                 tl__pg_s(r, i, 3),
                                 PQgetisnull(r, i, 4) ? NAN : strtod(PQgetvalue(r, i, 4), NULL),
                                 tl__pg_s(r, i, 5)};
        rc = fn(ctx, &t);
    }
    PQclear(r);
    return rc;
}

static tl_err pg_topic_uses(tl_store *st, const char *topic, tl_store_use_fn fn, void *ctx)
{
    tl_pg_args a = {0};
    PGresult *r = NULL;
    tl__pg_str(&a, topic);
    /* a scan of the events: a proposal is rare work */
    tl_err rc = tl__pg_query(st,
                             "SELECT e.user_id, i.ext_id, min(e.ts) FROM events e"
                             " JOIN items i ON i.id = e.item_id WHERE " TOPIC_MATCH
                             " GROUP BY e.user_id, e.item_id, i.ext_id ORDER BY e.user_id, 3",
                             &a, &r);
    for (int i = 0; rc == TL_OK && i < PQntuples(r); i++)
        rc = fn(ctx, tl__pg_i64(r, i, 0), tl__pg_s(r, i, 1), tl__pg_i64(r, i, 2));
    PQclear(r);
    return rc;
}

const tl_store_lib_ops tl__pg_lib_ops = {
    .list_put = pg_list_put,
    .list_get = pg_list_get,
    .list_delete = pg_list_delete,
    .list_add = pg_list_add,
    .list_remove = pg_list_remove,
    .lists_each = pg_lists_each,
    .list_neighbours = pg_list_neighbours,
    .review_put = pg_review_put,
    .review_delete = pg_review_delete,
    .reviews_each = pg_reviews_each,
    .path_put = pg_path_put,
    .path_get = pg_path_get,
    .paths_each = pg_paths_each,
    .path_delete = pg_path_delete,
    .feedback_put = pg_feedback_put,
    .feedback_each = pg_feedback_each,
    .topic_items = pg_topic_items,
    .topic_uses = pg_topic_uses,
};
