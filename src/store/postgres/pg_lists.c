/* Reading lists, reviews and learning paths on a PostgreSQL store: the reads a patron's export
 * and the list and review pages need are built; the writes, path reads and the proposals' topic
 * scans are not yet, and say so (TL_EUNSUPPORTED, "not supported by the postgres store yet"). */
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

/* The rest: each names itself. d, where there is one, says it too. */
static tl_err no(tl_store *st, const char *what, tl_diag *d)
{
    tl_err rc = tl__pg_unsupported(st, what);
    if (d)
        tl_diag_set(d, NULL, 0, NULL, "%s", st->errmsg);
    return rc;
}

static tl_err pg_list_put(tl_store *st, const tl_store_readlist *l, int64_t now, tl_put *what,
                          tl_diag *d)
{
    (void)l, (void)now, (void)what;
    return no(st, "reading list writes", d);
}

static tl_err pg_list_delete(tl_store *st, const char *id, tl_diag *d)
{
    (void)id;
    return no(st, "reading list writes", d);
}

static tl_err pg_list_add(tl_store *st, const char *list, const char *item, const char *note,
                          int64_t now, tl_put *what, tl_diag *d)
{
    (void)list, (void)item, (void)note, (void)now, (void)what;
    return no(st, "reading list writes", d);
}

static tl_err pg_list_remove(tl_store *st, const char *list, const char *item, tl_diag *d)
{
    (void)list, (void)item;
    return no(st, "reading list writes", d);
}

static tl_err pg_list_neighbours(tl_store *st, const char *item, int limit, tl_store_row_fn fn,
                                 void *ctx)
{
    (void)item, (void)limit, (void)fn, (void)ctx;
    return no(st, "lists with an item", NULL);
}

static tl_err pg_review_put(tl_store *st, const tl_store_review *r, tl_put *what, tl_diag *d)
{
    (void)r, (void)what;
    return no(st, "review writes", d);
}

static tl_err pg_review_delete(tl_store *st, const char *user, const char *item, tl_diag *d)
{
    (void)user, (void)item;
    return no(st, "review writes", d);
}

static tl_err pg_path_put(tl_store *st, const tl_store_path *p, const tl_store_step *steps, int n,
                          tl_put *what, tl_diag *d)
{
    (void)p, (void)steps, (void)n, (void)what;
    return no(st, "learning paths", d);
}

static tl_err pg_path_get(tl_store *st, const char *id, tl_store_path_fn fn, tl_store_step_fn sfn,
                          void *ctx, int *found)
{
    (void)id, (void)fn, (void)sfn, (void)ctx;
    *found = 0;
    return no(st, "learning paths", NULL);
}

static tl_err pg_paths_each(tl_store *st, const char *topic, tl_store_path_fn fn, void *ctx)
{
    (void)topic, (void)fn, (void)ctx;
    return no(st, "learning paths", NULL);
}

static tl_err pg_path_delete(tl_store *st, const char *id, tl_diag *d)
{
    (void)id;
    return no(st, "learning paths", d);
}

static tl_err pg_feedback_put(tl_store *st, const char *path, const char *item, const char *user,
                              int useful, int64_t ts, tl_diag *d)
{
    (void)path, (void)item, (void)user, (void)useful, (void)ts;
    return no(st, "learning path feedback", d);
}

static tl_err pg_topic_items(tl_store *st, const char *topic, tl_store_topic_fn fn, void *ctx)
{
    (void)topic, (void)fn, (void)ctx;
    return no(st, "learning path proposals", NULL);
}

static tl_err pg_topic_uses(tl_store *st, const char *topic, tl_store_use_fn fn, void *ctx)
{
    (void)topic, (void)fn, (void)ctx;
    return no(st, "learning path proposals", NULL);
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
