/* Reading lists, reviews and learning paths in a SQLite store (schema version 5). Patron ids
 * arrive as the store keeps them (lists.c passed them through the door). These run at a
 * patron's or a librarian's pace, so their statements are prepared per call. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "store/lib_int.h"
#include "store/sqlite/sqlite_int.h"

tl_err tl__sq_prep(tl_store *st, const char *sql, sqlite3_stmt **q)
{
    int rc = sqlite3_prepare_v2(tl__sq_db(st), sql, -1, q, NULL);
    return rc == SQLITE_OK ? TL_OK : tl__sq_fail(st, rc);
}

tl_err tl__sq_finish(tl_store *st, sqlite3_stmt *q, long long *changes)
{
    int rc = sqlite3_step(q);
    tl_err r = rc == SQLITE_DONE || rc == SQLITE_ROW ? TL_OK : tl__sq_fail(st, rc);
    if (r == TL_OK && changes)
        *changes = sqlite3_changes(tl__sq_db(st));
    sqlite3_finalize(q);
    return r;
}

void tl__sq_text(sqlite3_stmt *q, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(q, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(q, i);
}

const char *tl__sq_col(sqlite3_stmt *q, int i)
{
    return (const char *)sqlite3_column_text(q, i);
}

/* *id = the first column of sql's first row with ?1 = v and ?2 = id2 (when not 0), or 0. */
static tl_err one_id(tl_store *st, const char *sql, const char *v, int64_t id2, int64_t *id)
{
    sqlite3_stmt *q;
    tl_err r = tl__sq_prep(st, sql, &q);
    if (r != TL_OK)
        return r;
    tl__sq_text(q, 1, v);
    if (id2)
        sqlite3_bind_int64(q, 2, id2);
    int rc = sqlite3_step(q);
    *id = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        r = tl__sq_fail(st, rc);
    sqlite3_finalize(q);
    return r;
}

/* *found = 1 when sql has a row with ?1 = a and ?2 = b. */
static tl_err exists2(tl_store *st, const char *sql, int64_t a, int64_t b, int64_t *found)
{
    sqlite3_stmt *q;
    tl_err r = tl__sq_prep(st, sql, &q);
    if (r != TL_OK)
        return r;
    sqlite3_bind_int64(q, 1, a);
    sqlite3_bind_int64(q, 2, b);
    int rc = sqlite3_step(q);
    *found = rc == SQLITE_ROW;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        r = tl__sq_fail(st, rc);
    sqlite3_finalize(q);
    return r;
}

static tl_err find(tl_store *st, const char *table, const char *field, const char *ext, int64_t *id,
                   tl_diag *d)
{
    char sql[96];
    snprintf(sql, sizeof(sql), "SELECT id FROM %s WHERE ext_id = ?1", table);
    tl_err r = one_id(st, sql, ext, 0, id);
    if (r == TL_OK && !*id && field) {
        tl_diag_set(d, NULL, 0, field, "no %s '%.200s' in the store", field, ext);
        r = TL_ENOTFOUND;
    }
    return r;
}

/* The id of event type name, created on first use. */
static tl_err find_type(tl_store *st, const char *name, int64_t *id)
{
    tl_err r = st->ops->find_id(st, TL_ID_TYPE, name, strlen(name), id);
    if (r == TL_OK && !*id)
        r = st->ops->create_id(st, TL_ID_TYPE, name, strlen(name), id);
    return r;
}

/* The store's id of patron user, created when unknown (as an event would). */
static tl_err patron(tl_store *st, const char *user, int64_t *id)
{
    tl_err r = find(st, "users", NULL, user, id, NULL);
    if (r == TL_OK && !*id)
        r = st->ops->create_id(st, TL_ID_USER, user, strlen(user), id);
    return r;
}

static tl_err each_row(tl_store *st, sqlite3_stmt *q, tl_err (*row)(sqlite3_stmt *, void *),
                       void *ctx)
{
    tl_err r = TL_OK;
    int rc;
    while (r == TL_OK && (rc = sqlite3_step(q)) == SQLITE_ROW)
        r = row(q, ctx);
    if (r == TL_OK && rc != SQLITE_DONE)
        r = tl__sq_fail(st, rc);
    sqlite3_finalize(q);
    return r;
}

/* ---- lists ---------------------------------------------------------------------------------- */

static tl_err sq_list_put(tl_store *st, const tl_store_readlist *l, int64_t now, tl_put *what,
                          tl_diag *d)
{
    int64_t id, user = 0;
    sqlite3_stmt *q;
    long long changes = 0;
    tl_err r = find(st, "lists", NULL, l->id, &id, d);
    if (r == TL_OK && !id && l->user)
        r = patron(st, l->user, &user);
    if (r != TL_OK)
        return r;
    if ((r = tl__sq_prep(
             st,
             id ? "UPDATE lists SET title = ?2, description = ?3, public = ?4, updated = ?5"
                  " WHERE id = ?6 AND (title IS NOT ?2 OR description IS NOT ?3"
                  " OR public IS NOT ?4)"
                : "INSERT INTO lists(ext_id, title, description, public, created, updated,"
                  " user_id) VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6)",
             &q)) != TL_OK)
        return r;
    tl__sq_text(q, 1, l->id);
    tl__sq_text(q, 2, l->title);
    tl__sq_text(q, 3, l->description);
    sqlite3_bind_int(q, 4, l->public ? 1 : 0);
    sqlite3_bind_int64(q, 5, now);
    if (id)
        sqlite3_bind_int64(q, 6, id);
    else if (user)
        sqlite3_bind_int64(q, 6, user);
    else
        sqlite3_bind_null(q, 6);
    if ((r = tl__sq_finish(st, q, &changes)) == TL_OK && what)
        *what = !id ? TL_PUT_ADDED : changes ? TL_PUT_UPDATED : TL_PUT_UNCHANGED;
    return r;
}

#define LIST_COLS                                                                                  \
    "SELECT l.ext_id, u.ext_id, l.title, l.description, l.public, l.created, l.updated,"           \
    " (SELECT count(*) FROM list_items k WHERE k.list_id = l.id), l.id FROM lists l"               \
    " LEFT JOIN users u ON u.id = l.user_id "

typedef struct list_row_ctx {
    tl_store_readlist_fn fn;
    void *ctx;
    int64_t id; /* the last row's list id */
} list_row_ctx;

static tl_err list_row(sqlite3_stmt *q, void *ctx)
{
    list_row_ctx *c = ctx;
    tl_store_readlist l = {tl__sq_col(q, 0),           tl__sq_col(q, 1),
                           tl__sq_col(q, 2),           tl__sq_col(q, 3),
                           sqlite3_column_int(q, 4),   sqlite3_column_int64(q, 5),
                           sqlite3_column_int64(q, 6), sqlite3_column_int64(q, 7)};
    c->id = sqlite3_column_int64(q, 8);
    return c->fn ? c->fn(c->ctx, &l) : TL_OK;
}

typedef struct item_row_ctx {
    tl_store_readlist_item_fn fn;
    void *ctx;
} item_row_ctx;

static tl_err item_row(sqlite3_stmt *q, void *ctx)
{
    item_row_ctx *c = ctx;
    tl_store_readlist_item e = {tl__sq_col(q, 0), tl__sq_col(q, 1), tl__sq_col(q, 2),
                                sqlite3_column_int64(q, 3), sqlite3_column_int64(q, 4)};
    return c->fn(c->ctx, &e);
}

static tl_err sq_list_get(tl_store *st, const char *id, tl_store_readlist_fn fn,
                          tl_store_readlist_item_fn ifn, void *ctx, int *found)
{
    sqlite3_stmt *q;
    list_row_ctx c = {fn, ctx, 0};
    tl_err r = tl__sq_prep(st, LIST_COLS "WHERE l.ext_id = ?1", &q);
    if (r != TL_OK)
        return r;
    tl__sq_text(q, 1, id);
    if ((r = each_row(st, q, list_row, &c)) != TL_OK)
        return r;
    *found = c.id != 0;
    if (!c.id || !ifn)
        return TL_OK;
    item_row_ctx ic = {ifn, ctx};
    if ((r = tl__sq_prep(st,
                         "SELECT i.ext_id, i.title, k.note, k.pos, k.added FROM list_items k"
                         " JOIN items i ON i.id = k.item_id WHERE k.list_id = ?2 ORDER BY k.pos",
                         &q)) != TL_OK)
        return r;
    sqlite3_bind_int64(q, 2, c.id);
    return each_row(st, q, item_row, &ic);
}

static tl_err sq_list_delete(tl_store *st, const char *id, tl_diag *d)
{
    sqlite3_stmt *q;
    long long changes = 0;
    tl_err r = tl__sq_prep(st, "DELETE FROM lists WHERE ext_id = ?1", &q); /* its items cascade */
    if (r != TL_OK)
        return r;
    tl__sq_text(q, 1, id);
    if ((r = tl__sq_finish(st, q, &changes)) == TL_OK && !changes) {
        tl_diag_set(d, NULL, 0, "list", "no list '%.200s' in the store", id);
        r = TL_ENOTFOUND;
    }
    return r;
}

static tl_err sq_list_add(tl_store *st, const char *list, const char *item, const char *note,
                          int64_t now, tl_put *what, tl_diag *d)
{
    int64_t lid, iid, had;
    sqlite3_stmt *q;
    long long changes = 0;
    tl_err r = find(st, "lists", "list", list, &lid, d);
    if (r == TL_OK)
        r = find(st, "items", "item", item, &iid, d);
    if (r == TL_OK)
        r = exists2(st, "SELECT 1 FROM list_items WHERE item_id = ?1 AND list_id = ?2", iid, lid,
                    &had);
    if (r != TL_OK)
        return r;
    if ((r = tl__sq_prep(
             st,
             had ? "UPDATE list_items SET note = ?3 WHERE list_id = ?1 AND item_id = ?2"
                   " AND note IS NOT ?3"
                 : "INSERT INTO list_items(list_id, item_id, pos, note, added) VALUES (?1,"
                   " ?2, (SELECT ifnull(max(pos), 0) + 1 FROM list_items WHERE list_id = ?1),"
                   " ?3, ?4)",
             &q)) != TL_OK)
        return r;
    sqlite3_bind_int64(q, 1, lid);
    sqlite3_bind_int64(q, 2, iid);
    tl__sq_text(q, 3, note);
    if (!had)
        sqlite3_bind_int64(q, 4, now);
    if ((r = tl__sq_finish(st, q, &changes)) != TL_OK)
        return r;
    if (what)
        *what = !had ? TL_PUT_ADDED : changes ? TL_PUT_UPDATED : TL_PUT_UNCHANGED;
    if (!changes)
        return TL_OK;
    if ((r = tl__sq_prep(st, "UPDATE lists SET updated = ?2 WHERE id = ?1", &q)) != TL_OK)
        return r;
    sqlite3_bind_int64(q, 1, lid);
    sqlite3_bind_int64(q, 2, now);
    if ((r = tl__sq_finish(st, q, NULL)) != TL_OK || had)
        return r;
    /* the owner's list_add event, unless they opted out: what training and live answers read.
     * Written by the owner's store id, which the door never has to see again. */
    int64_t type;
    if ((r = find_type(st, TL_LIST_EVENT, &type)) != TL_OK)
        return r;
    if ((r = tl__sq_prep(
             st,
             "INSERT INTO events(user_id, item_id, type_id, ts) SELECT l.user_id, ?2, ?3, ?4"
             " FROM lists l JOIN users u ON u.id = l.user_id WHERE l.id = ?1"
             " AND u.personalize = 1 ON CONFLICT DO NOTHING",
             &q)) != TL_OK)
        return r;
    sqlite3_bind_int64(q, 1, lid);
    sqlite3_bind_int64(q, 2, iid);
    sqlite3_bind_int64(q, 3, type);
    sqlite3_bind_int64(q, 4, now);
    return tl__sq_finish(st, q, NULL);
}

static tl_err sq_list_remove(tl_store *st, const char *list, const char *item, tl_diag *d)
{
    int64_t lid;
    sqlite3_stmt *q;
    long long changes = 0;
    tl_err r = find(st, "lists", "list", list, &lid, d);
    if (r != TL_OK)
        return r;
    if ((r = tl__sq_prep(
             st,
             "DELETE FROM list_items WHERE list_id = ?2 AND item_id = (SELECT id FROM items"
             " WHERE ext_id = ?1)",
             &q)) != TL_OK)
        return r;
    tl__sq_text(q, 1, item);
    sqlite3_bind_int64(q, 2, lid);
    if ((r = tl__sq_finish(st, q, &changes)) == TL_OK && !changes) {
        tl_diag_set(d, NULL, 0, "item", "the list '%.200s' has no item '%.200s'", list, item);
        r = TL_ENOTFOUND;
    }
    return r;
}

static tl_err sq_lists_each(tl_store *st, const char *user, const char *item, int public_only,
                            tl_store_readlist_fn fn, void *ctx)
{
    char sql[600];
    snprintf(sql, sizeof(sql), LIST_COLS "WHERE %s%s ORDER BY l.updated DESC, l.id DESC",
             user ? "u.ext_id = ?1"
                  : "l.id IN (SELECT k.list_id FROM list_items k WHERE k.item_id ="
                    " (SELECT id FROM items WHERE ext_id = ?1))",
             public_only ? " AND l.public = 1" : "");
    sqlite3_stmt *q;
    list_row_ctx c = {fn, ctx, 0};
    tl_err r = tl__sq_prep(st, sql, &q);
    if (r != TL_OK)
        return r;
    tl__sq_text(q, 1, user ? user : item);
    return each_row(st, q, list_row, &c);
}

typedef struct row_ctx {
    tl_store_row_fn fn;
    void *ctx;
} row_ctx;

static tl_err count_row(sqlite3_stmt *q, void *ctx)
{
    row_ctx *c = ctx;
    return c->fn(c->ctx, tl__sq_col(q, 0), tl__sq_col(q, 1), sqlite3_column_int64(q, 2));
}

static tl_err sq_list_neighbours(tl_store *st, const char *item, int limit, tl_store_row_fn fn,
                                 void *ctx)
{
    sqlite3_stmt *q;
    row_ctx c = {fn, ctx};
    tl_err r = tl__sq_prep(st,
                           "SELECT i.ext_id, i.title, count(*) AS n FROM list_items a"
                           " JOIN lists l ON l.id = a.list_id AND l.public = 1"
                           " JOIN list_items b ON b.list_id = a.list_id AND b.item_id <> a.item_id"
                           " JOIN items i ON i.id = b.item_id"
                           " WHERE a.item_id = (SELECT id FROM items WHERE ext_id = ?1)"
                           " GROUP BY b.item_id ORDER BY n DESC, i.ext_id LIMIT ?2",
                           &q);
    if (r != TL_OK)
        return r;
    tl__sq_text(q, 1, item);
    sqlite3_bind_int(q, 2, limit);
    return each_row(st, q, count_row, &c);
}

/* ---- reviews -------------------------------------------------------------------------------- */

static tl_err sq_review_put(tl_store *st, const tl_store_review *v, tl_put *what, tl_diag *d)
{
    int64_t user, item, had;
    sqlite3_stmt *q;
    long long changes = 0;
    tl_err r = find(st, "items", "item", v->item, &item, d);
    if (r == TL_OK)
        r = patron(st, v->user, &user);
    if (r == TL_OK)
        r = exists2(st, "SELECT 1 FROM reviews WHERE user_id = ?1 AND item_id = ?2", user, item,
                    &had);
    if (r != TL_OK)
        return r;
    if ((r = tl__sq_prep(
             st,
             "INSERT INTO reviews(user_id, item_id, rating, body, public, ts) VALUES (?1, ?2,"
             " ?3, ?4, ?5, ?6) ON CONFLICT(user_id, item_id) DO UPDATE SET"
             " rating = excluded.rating, body = excluded.body, public = excluded.public,"
             " ts = excluded.ts WHERE rating IS NOT excluded.rating OR body IS NOT"
             " excluded.body OR public IS NOT excluded.public",
             &q)) != TL_OK)
        return r;
    sqlite3_bind_int64(q, 1, user);
    sqlite3_bind_int64(q, 2, item);
    if (v->has_rating)
        sqlite3_bind_double(q, 3, v->rating);
    else
        sqlite3_bind_null(q, 3);
    tl__sq_text(q, 4, v->body);
    sqlite3_bind_int(q, 5, v->public ? 1 : 0);
    sqlite3_bind_int64(q, 6, v->ts);
    if ((r = tl__sq_finish(st, q, &changes)) == TL_OK && what)
        *what = !had ? TL_PUT_ADDED : changes ? TL_PUT_UPDATED : TL_PUT_UNCHANGED;
    return r;
}

static tl_err sq_review_delete(tl_store *st, const char *user, const char *item, tl_diag *d)
{
    sqlite3_stmt *q;
    long long changes = 0;
    tl_err r =
        tl__sq_prep(st,
                    "DELETE FROM reviews WHERE user_id = (SELECT id FROM users WHERE ext_id = ?1)"
                    " AND item_id = (SELECT id FROM items WHERE ext_id = ?2)",
                    &q);
    if (r != TL_OK)
        return r;
    tl__sq_text(q, 1, user);
    tl__sq_text(q, 2, item);
    if ((r = tl__sq_finish(st, q, &changes)) == TL_OK && !changes) {
        tl_diag_set(d, NULL, 0, "review", "the patron has no review of item '%.200s'", item);
        r = TL_ENOTFOUND;
    }
    return r;
}

typedef struct review_ctx {
    tl_store_review_fn fn;
    void *ctx;
} review_ctx;

static tl_err review_row(sqlite3_stmt *q, void *ctx)
{
    review_ctx *c = ctx;
    int has = sqlite3_column_type(q, 2) != SQLITE_NULL;
    tl_store_review v = {tl__sq_col(q, 0),
                         tl__sq_col(q, 1),
                         has,
                         has ? sqlite3_column_double(q, 2) : 0.0,
                         tl__sq_col(q, 3),
                         sqlite3_column_int(q, 4),
                         sqlite3_column_int64(q, 5)};
    return c->fn(c->ctx, &v);
}

static tl_err sq_reviews_each(tl_store *st, const char *user, const char *item, int public_only,
                              tl_store_review_fn fn, void *ctx)
{
    char sql[600];
    snprintf(sql, sizeof(sql),
             "SELECT u.ext_id, i.ext_id, r.rating, r.body, r.public, r.ts FROM reviews r"
             " JOIN users u ON u.id = r.user_id JOIN items i ON i.id = r.item_id WHERE %s%s"
             " ORDER BY r.ts DESC, u.ext_id, i.ext_id",
             user ? "r.user_id = (SELECT id FROM users WHERE ext_id = ?1)"
                  : "r.item_id = (SELECT id FROM items WHERE ext_id = ?1)",
             public_only ? " AND r.public = 1" : "");
    sqlite3_stmt *q;
    review_ctx c = {fn, ctx};
    tl_err r = tl__sq_prep(st, sql, &q);
    if (r != TL_OK)
        return r;
    tl__sq_text(q, 1, user ? user : item);
    return each_row(st, q, review_row, &c);
}

/* ---- learning paths ------------------------------------------------------------------------- */

static tl_err sq_path_put(tl_store *st, const tl_store_path *p, const tl_store_step *steps, int n,
                          tl_put *what, tl_diag *d)
{
    int64_t id;
    sqlite3_stmt *q;
    tl_err r = find(st, "paths", NULL, p->id, &id, d);
    if (r != TL_OK)
        return r;
    int existed = id != 0;
    if ((r = tl__sq_prep(
             st,
             id ? "UPDATE paths SET title = ?2, topic = ?3, origin = ?4 WHERE ext_id = ?1"
                : "INSERT INTO paths(ext_id, title, topic, origin, created)"
                  " VALUES (?1, ?2, ?3, ?4, ?5)",
             &q)) != TL_OK)
        return r;
    tl__sq_text(q, 1, p->id);
    tl__sq_text(q, 2, p->title);
    tl__sq_text(q, 3, p->topic);
    tl__sq_text(q, 4, p->origin ? p->origin : "librarian");
    if (!id)
        sqlite3_bind_int64(q, 5, p->created);
    if ((r = tl__sq_finish(st, q, NULL)) != TL_OK)
        return r;
    if (!id && (r = find(st, "paths", NULL, p->id, &id, d)) != TL_OK)
        return r;
    if ((r = tl__sq_prep(st, "DELETE FROM path_steps WHERE path_id = ?1", &q)) != TL_OK)
        return r;
    sqlite3_bind_int64(q, 1, id);
    if ((r = tl__sq_finish(st, q, NULL)) != TL_OK)
        return r;
    for (int k = 0; k < n; k++) {
        long long changes = 0;
        if ((r = tl__sq_prep(st,
                             "INSERT INTO path_steps(path_id, item_id, pos, level)"
                             " SELECT ?1, id, ?3, ?4 FROM items WHERE ext_id = ?2",
                             &q)) != TL_OK)
            return r;
        sqlite3_bind_int64(q, 1, id);
        tl__sq_text(q, 2, steps[k].item);
        sqlite3_bind_int64(q, 3, steps[k].pos);
        if (steps[k].level == TL_ABSENT)
            sqlite3_bind_null(q, 4);
        else
            sqlite3_bind_int64(q, 4, steps[k].level);
        if ((r = tl__sq_finish(st, q, &changes)) != TL_OK)
            return r;
        if (!changes) {
            tl_diag_set(d, NULL, 0, "item", "no item '%.200s' in the store", steps[k].item);
            return TL_ENOTFOUND;
        }
    }
    /* feedback on steps the path no longer has goes with them */
    if ((r = tl__sq_prep(st,
                         "DELETE FROM path_feedback WHERE path_id = ?1 AND item_id NOT IN"
                         " (SELECT item_id FROM path_steps WHERE path_id = ?1)",
                         &q)) != TL_OK)
        return r;
    sqlite3_bind_int64(q, 1, id);
    if ((r = tl__sq_finish(st, q, NULL)) == TL_OK && what)
        *what = existed ? TL_PUT_UPDATED : TL_PUT_ADDED;
    return r;
}

typedef struct path_ctx {
    tl_store_path_fn fn;
    tl_store_step_fn sfn;
    void *ctx;
    int64_t id;
} path_ctx;

#define PATH_COLS                                                                                  \
    "SELECT p.ext_id, p.title, p.topic, p.origin, p.created,"                                      \
    " (SELECT count(*) FROM path_steps s WHERE s.path_id = p.id), p.id FROM paths p "

static tl_err path_row(sqlite3_stmt *q, void *ctx)
{
    path_ctx *c = ctx;
    tl_store_path p = {tl__sq_col(q, 0), tl__sq_col(q, 1),           tl__sq_col(q, 2),
                       tl__sq_col(q, 3), sqlite3_column_int64(q, 4), sqlite3_column_int64(q, 5)};
    c->id = sqlite3_column_int64(q, 6);
    return c->fn ? c->fn(c->ctx, &p) : TL_OK;
}

static tl_err step_row(sqlite3_stmt *q, void *ctx)
{
    path_ctx *c = ctx;
    tl_store_step s = {tl__sq_col(q, 0), tl__sq_col(q, 1), sqlite3_column_int64(q, 2),
                       sqlite3_column_type(q, 3) == SQLITE_NULL ? TL_ABSENT
                                                                : sqlite3_column_int64(q, 3)};
    return c->sfn(c->ctx, &s);
}

static tl_err sq_path_get(tl_store *st, const char *id, tl_store_path_fn fn, tl_store_step_fn sfn,
                          void *ctx, int *found)
{
    sqlite3_stmt *q;
    path_ctx c = {fn, sfn, ctx, 0};
    tl_err r = tl__sq_prep(st, PATH_COLS "WHERE p.ext_id = ?1", &q);
    if (r != TL_OK)
        return r;
    tl__sq_text(q, 1, id);
    if ((r = each_row(st, q, path_row, &c)) != TL_OK)
        return r;
    *found = c.id != 0;
    if (!c.id || !sfn)
        return TL_OK;
    if ((r = tl__sq_prep(
             st,
             "SELECT i.ext_id, i.title, s.pos, s.level FROM path_steps s"
             " JOIN items i ON i.id = s.item_id WHERE s.path_id = ?1 ORDER BY s.pos, i.ext_id",
             &q)) != TL_OK)
        return r;
    sqlite3_bind_int64(q, 1, c.id);
    return each_row(st, q, step_row, &c);
}

static tl_err sq_paths_each(tl_store *st, const char *topic, tl_store_path_fn fn, void *ctx)
{
    sqlite3_stmt *q;
    path_ctx c = {fn, NULL, ctx, 0};
    tl_err r = tl__sq_prep(
        st, PATH_COLS "WHERE ?1 IS NULL OR lower(p.topic) = lower(?1) ORDER BY p.ext_id", &q);
    if (r != TL_OK)
        return r;
    tl__sq_text(q, 1, topic);
    return each_row(st, q, path_row, &c);
}

static tl_err sq_path_delete(tl_store *st, const char *id, tl_diag *d)
{
    sqlite3_stmt *q;
    long long changes = 0;
    tl_err r =
        tl__sq_prep(st, "DELETE FROM paths WHERE ext_id = ?1", &q); /* steps, feedback cascade */
    if (r != TL_OK)
        return r;
    tl__sq_text(q, 1, id);
    if ((r = tl__sq_finish(st, q, &changes)) == TL_OK && !changes) {
        tl_diag_set(d, NULL, 0, "path", "no path '%.200s' in the store", id);
        r = TL_ENOTFOUND;
    }
    return r;
}

static tl_err sq_feedback_put(tl_store *st, const char *path, const char *item, const char *user,
                              int useful, int64_t ts, tl_diag *d)
{
    int64_t pid, iid, uid;
    sqlite3_stmt *q;
    tl_err r = find(st, "paths", "path", path, &pid, d);
    if (r == TL_OK)
        r = one_id(st,
                   "SELECT s.item_id FROM path_steps s JOIN items i ON i.id = s.item_id"
                   " WHERE i.ext_id = ?1 AND s.path_id = ?2",
                   item, pid, &iid);
    if (r == TL_OK && !iid) {
        tl_diag_set(d, NULL, 0, "item", "'%.200s' is no step of the path '%.200s'", item, path);
        r = TL_ENOTFOUND;
    }
    if (r == TL_OK)
        r = patron(st, user, &uid);
    if (r != TL_OK)
        return r;
    if ((r = tl__sq_prep(
             st,
             "INSERT INTO path_feedback(path_id, item_id, user_id, useful, ts) VALUES (?1,"
             " ?2, ?3, ?4, ?5) ON CONFLICT(path_id, item_id, user_id) DO UPDATE SET"
             " useful = excluded.useful, ts = excluded.ts",
             &q)) != TL_OK)
        return r;
    sqlite3_bind_int64(q, 1, pid);
    sqlite3_bind_int64(q, 2, iid);
    sqlite3_bind_int64(q, 3, uid);
    sqlite3_bind_int(q, 4, useful ? 1 : 0);
    sqlite3_bind_int64(q, 5, ts);
    return tl__sq_finish(st, q, NULL);
}

typedef struct feedback_ctx {
    tl_store_feedback_fn fn;
    void *ctx;
} feedback_ctx;

static tl_err feedback_row(sqlite3_stmt *q, void *ctx)
{
    feedback_ctx *c = ctx;
    return c->fn(c->ctx, tl__sq_col(q, 0), tl__sq_col(q, 1), tl__sq_col(q, 2),
                 sqlite3_column_int(q, 3), sqlite3_column_int64(q, 4));
}

static tl_err sq_feedback_each(tl_store *st, const char *path, const char *user,
                               tl_store_feedback_fn fn, void *ctx)
{
    char sql[600];
    snprintf(sql, sizeof(sql),
             "SELECT p.ext_id, i.ext_id, u.ext_id, f.useful, f.ts FROM path_feedback f"
             " JOIN paths p ON p.id = f.path_id JOIN items i ON i.id = f.item_id"
             " JOIN users u ON u.id = f.user_id WHERE %s ORDER BY f.ts, p.ext_id, i.ext_id",
             path ? "p.ext_id = ?1" : "f.user_id = (SELECT id FROM users WHERE ext_id = ?1)");
    sqlite3_stmt *q;
    feedback_ctx c = {fn, ctx};
    tl_err r = tl__sq_prep(st, sql, &q);
    if (r != TL_OK)
        return r;
    tl__sq_text(q, 1, path ? path : user);
    return each_row(st, q, feedback_row, &c);
}

/* ---- proposals ------------------------------------------------------------------------------ */

#define TOPIC_MATCH "('|' || lower(i.subjects) || '|') LIKE ('%|' || lower(?1) || '|%')"

typedef struct topic_ctx {
    tl_store_topic_fn fn;
    tl_store_use_fn ufn;
    void *ctx;
} topic_ctx;

static tl_err topic_row(sqlite3_stmt *q, void *ctx)
{
    topic_ctx *c = ctx;
    tl_store_topic_item t = {tl__sq_col(q, 0),
                             tl__sq_col(q, 1),
                             tl__sq_col(q, 2),
                             tl__sq_col(q, 3),
                             sqlite3_column_type(q, 4) == SQLITE_NULL ? NAN
                                                                      : sqlite3_column_double(q, 4),
                             tl__sq_col(q, 5)};
    return c->fn(c->ctx, &t);
}

static tl_err sq_topic_items(tl_store *st, const char *topic, tl_store_topic_fn fn, void *ctx)
{
    sqlite3_stmt *q;
    topic_ctx c = {fn, NULL, ctx};
    tl_err r = tl__sq_prep(st,
                           "SELECT i.ext_id, i.title, i.subjects, d.series, d.series_volume,"
                           " CAST(json_extract(i.extra, '$.level') AS TEXT) FROM items i"
                           " LEFT JOIN item_details d ON d.item_id = i.id WHERE " TOPIC_MATCH
                           " ORDER BY i.id",
                           &q);
    if (r != TL_OK)
        return r;
    tl__sq_text(q, 1, topic);
    return each_row(st, q, topic_row, &c);
}

static tl_err use_row(sqlite3_stmt *q, void *ctx)
{
    topic_ctx *c = ctx;
    return c->ufn(c->ctx, sqlite3_column_int64(q, 0), tl__sq_col(q, 1), sqlite3_column_int64(q, 2));
}

static tl_err sq_topic_uses(tl_store *st, const char *topic, tl_store_use_fn fn, void *ctx)
{
    sqlite3_stmt *q;
    topic_ctx c = {NULL, fn, ctx};
    /* a scan of the events (they have no index by item): a proposal is rare work */
    tl_err r = tl__sq_prep(st,
                           "SELECT e.user_id, i.ext_id, min(e.ts) FROM events e"
                           " JOIN items i ON i.id = e.item_id WHERE " TOPIC_MATCH
                           " GROUP BY e.user_id, e.item_id ORDER BY e.user_id, 3",
                           &q);
    if (r != TL_OK)
        return r;
    tl__sq_text(q, 1, topic);
    return each_row(st, q, use_row, &c);
}

const tl_store_lib_ops tl__sq_lib_ops = {
    .list_put = sq_list_put,
    .list_get = sq_list_get,
    .list_delete = sq_list_delete,
    .list_add = sq_list_add,
    .list_remove = sq_list_remove,
    .lists_each = sq_lists_each,
    .list_neighbours = sq_list_neighbours,
    .review_put = sq_review_put,
    .review_delete = sq_review_delete,
    .reviews_each = sq_reviews_each,
    .path_put = sq_path_put,
    .path_get = sq_path_get,
    .paths_each = sq_paths_each,
    .path_delete = sq_path_delete,
    .feedback_put = sq_feedback_put,
    .feedback_each = sq_feedback_each,
    .topic_items = sq_topic_items,
    .topic_uses = sq_topic_uses,
};

tl_err tl__sq_lib_forget(tl_store *st, tl_id_kind k, int64_t id)
{
    static const char *const user_sql[] = {
        "DELETE FROM lists WHERE user_id = ?1", /* their items cascade */
        "DELETE FROM reviews WHERE user_id = ?1",
        "DELETE FROM path_feedback WHERE user_id = ?1",
    };
    static const char *const item_sql[] = {
        "DELETE FROM list_items WHERE item_id = ?1",
        "DELETE FROM reviews WHERE item_id = ?1",
        "DELETE FROM path_feedback WHERE item_id = ?1",
        "DELETE FROM path_steps WHERE item_id = ?1",
    };
    if (st->schema_version < 5)
        return TL_OK;
    const char *const *sql = k == TL_ID_USER ? user_sql : item_sql;
    int n = k == TL_ID_USER ? 3 : 4;
    for (int j = 0; j < n; j++) {
        sqlite3_stmt *q;
        tl_err r = tl__sq_prep(st, sql[j], &q);
        if (r != TL_OK)
            return r;
        sqlite3_bind_int64(q, 1, id);
        if ((r = tl__sq_finish(st, q, NULL)) != TL_OK)
            return r;
    }
    return TL_OK;
}
