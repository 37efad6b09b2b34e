/* Impressions and learners' state in a SQLite store (schema version 9). An impression is one
 * row of numbers (its context as columns), its rows' decisions and its items keyed by
 * (impression, row, position) in WITHOUT ROWID tables; the hot writes use kept statements. */
#include <stdlib.h>
#include <string.h>

#include "store/imp_int.h"
#include "store/sqlite/sqlite_int.h"

enum { /* tl__sq_kept slots: sqlite_catalogue.c uses those below 8 */
       K_IMP_PUT = 8,
       K_IMP_ROW,
       K_IMP_ITEM,
       K_IMP_ROWS_OF,
       K_IMP_ITEMS_OF,
       K_IMP_REWARDS_OF,
};

#define IMP_VERSION 9

static tl_err step_done(tl_store *st, sqlite3_stmt *q)
{
    int rc = sqlite3_step(q);
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? TL_OK : tl__sq_fail(st, rc);
}

static void text_or_null(sqlite3_stmt *q, int i, const char *v)
{
    if (v && *v)
        sqlite3_bind_text(q, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(q, i);
}

static tl_err sq_imp_put(tl_store *st, const tl_store_impression *imp)
{
    int64_t user = 0, item;
    tl_err r = TL_OK;
    if (imp->user) {
        size_t len = strlen(imp->user);
        if ((r = st->ops->find_id(st, TL_ID_USER, imp->user, len, &user)) == TL_OK && !user)
            r = st->ops->create_id(st, TL_ID_USER, imp->user, len, &user);
        if (r != TL_OK)
            return r;
    }
    sqlite3_stmt *q;
    if ((r = tl__sq_kept(st, K_IMP_PUT,
                         "INSERT INTO impressions(id, ts, user_id, surface, policy, policy_version,"
                         " model, experiment, arm, weekday, exam, term, mobile, activity, branch)"
                         " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,"
                         " ?15)",
                         &q)) != TL_OK)
        return r;
    sqlite3_bind_int64(q, 1, imp->id);
    sqlite3_bind_int64(q, 2, imp->ts);
    if (user)
        sqlite3_bind_int64(q, 3, user);
    else
        sqlite3_bind_null(q, 3);
    sqlite3_bind_int(q, 4, imp->surface);
    sqlite3_bind_int(q, 5, imp->policy);
    sqlite3_bind_int64(q, 6, imp->policy_version);
    text_or_null(q, 7, imp->model);
    text_or_null(q, 8, imp->experiment);
    text_or_null(q, 9, imp->arm);
    sqlite3_bind_int(q, 10, imp->weekday);
    sqlite3_bind_int(q, 11, imp->exam);
    sqlite3_bind_int(q, 12, imp->term);
    sqlite3_bind_int(q, 13, imp->mobile);
    sqlite3_bind_double(q, 14, imp->activity);
    text_or_null(q, 15, imp->branch);
    if ((r = step_done(st, q)) != TL_OK)
        return r;
    if ((r = tl__sq_kept(st, K_IMP_ROW,
                         "INSERT INTO impression_rows(impression_id, row, kind, candidates,"
                         " propensity) VALUES (?1, ?2, ?3, ?4, ?5)",
                         &q)) != TL_OK)
        return r;
    for (int k = 0; r == TL_OK && k < imp->n_rows; k++) {
        sqlite3_bind_int64(q, 1, imp->id);
        sqlite3_bind_int(q, 2, k);
        sqlite3_bind_int(q, 3, imp->rows[k].kind);
        sqlite3_bind_int64(q, 4, imp->rows[k].candidates);
        sqlite3_bind_double(q, 5, imp->rows[k].propensity);
        r = step_done(st, q);
    }
    if (r == TL_OK && (r = tl__sq_kept(st, K_IMP_ITEM,
                                       "INSERT OR IGNORE INTO impression_items(impression_id, row,"
                                       " position, item_id, edition_p, edition_x)"
                                       " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                                       &q)) != TL_OK)
        return r;
    for (int k = 0; r == TL_OK && k < imp->n_items; k++) {
        const tl_store_imp_item *it = &imp->items[k];
        if ((r = st->ops->find_id(st, TL_ID_ITEM, it->item, strlen(it->item), &item)) != TL_OK ||
            !item)
            continue; /* an item the store does not know: not logged */
        sqlite3_bind_int64(q, 1, imp->id);
        sqlite3_bind_int(q, 2, it->row);
        sqlite3_bind_int(q, 3, it->position);
        sqlite3_bind_int64(q, 4, item);
        if (it->edition_p >= 0) {
            sqlite3_bind_double(q, 5, it->edition_p);
            sqlite3_bind_blob(q, 6, it->edition_x, it->edition_dim * (int)sizeof(float),
                              SQLITE_STATIC);
        } else {
            sqlite3_bind_null(q, 5);
            sqlite3_bind_null(q, 6);
        }
        r = step_done(st, q);
    }
    return r;
}

/* One impression's rows, items and rewards, then fn. */
typedef struct imp_buf {
    tl_store_imp_row *rows;
    tl_store_imp_item *items;
    tl_store_imp_reward *rw;
    char **names; /* the items' and rewards' strings */
    int cap_rows, cap_items, cap_rw, cap_names, n_names;
} imp_buf;

static void *grow(void *p, int *cap, int need, size_t size)
{
    if (need <= *cap)
        return p;
    int c = *cap ? *cap : 16;
    while (c < need)
        c *= 2;
    void *q = realloc(p, (size_t)c * size);
    if (q)
        *cap = c;
    return q;
}

static const char *keep_name(imp_buf *b, const char *v)
{
    char **n = grow(b->names, &b->cap_names, b->n_names + 1, sizeof(*b->names));
    if (!n)
        return NULL;
    b->names = n;
    return (b->names[b->n_names++] = strdup(v ? v : ""));
}

static void drop_names(imp_buf *b)
{
    for (int k = 0; k < b->n_names; k++)
        free(b->names[k]);
    b->n_names = 0;
}

static tl_err fill_parts(tl_store *st, imp_buf *b, tl_store_impression *imp, int *n_rw)
{
    sqlite3_stmt *q;
    tl_err r = tl__sq_kept(st, K_IMP_ROWS_OF,
                           "SELECT kind, candidates, propensity FROM impression_rows"
                           " WHERE impression_id = ?1 ORDER BY row",
                           &q);
    int rc, n = 0;
    if (r != TL_OK)
        return r;
    sqlite3_bind_int64(q, 1, imp->id);
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        tl_store_imp_row *g = grow(b->rows, &b->cap_rows, n + 1, sizeof(*b->rows));
        if (!g) {
            sqlite3_reset(q);
            return TL_ENOMEM;
        }
        b->rows = g;
        b->rows[n++] =
            (tl_store_imp_row){sqlite3_column_int(q, 0), (uint32_t)sqlite3_column_int64(q, 1),
                               sqlite3_column_double(q, 2)};
    }
    sqlite3_reset(q);
    if (rc != SQLITE_DONE)
        return tl__sq_fail(st, rc);
    imp->rows = b->rows;
    imp->n_rows = n;
    if ((r = tl__sq_kept(st, K_IMP_ITEMS_OF,
                         "SELECT ii.row, ii.position, i.ext_id, ifnull(ii.edition_p, -1)"
                         " FROM impression_items ii JOIN items i ON i.id = ii.item_id"
                         " WHERE ii.impression_id = ?1 ORDER BY ii.row, ii.position",
                         &q)) != TL_OK)
        return r;
    sqlite3_bind_int64(q, 1, imp->id);
    n = 0;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        tl_store_imp_item *g = grow(b->items, &b->cap_items, n + 1, sizeof(*b->items));
        const char *name = g ? keep_name(b, tl__sq_col(q, 2)) : NULL;
        if (g)
            b->items = g;
        if (!name) {
            sqlite3_reset(q);
            return TL_ENOMEM;
        }
        tl_store_imp_item *it = &b->items[n++];
        memset(it, 0, sizeof(*it));
        it->row = sqlite3_column_int(q, 0);
        it->position = sqlite3_column_int(q, 1);
        it->item = name;
        it->edition_p = sqlite3_column_double(q, 3);
    }
    sqlite3_reset(q);
    if (rc != SQLITE_DONE)
        return tl__sq_fail(st, rc);
    imp->items = b->items;
    imp->n_items = n;
    if ((r = tl__sq_kept(st, K_IMP_REWARDS_OF,
                         "SELECT row, position, type, ts FROM impression_rewards"
                         " WHERE impression_id = ?1 ORDER BY ts, row, position",
                         &q)) != TL_OK)
        return r;
    sqlite3_bind_int64(q, 1, imp->id);
    n = 0;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        tl_store_imp_reward *g = grow(b->rw, &b->cap_rw, n + 1, sizeof(*b->rw));
        const char *type = g ? keep_name(b, tl__sq_col(q, 2)) : NULL;
        if (g)
            b->rw = g;
        if (!type) {
            sqlite3_reset(q);
            return TL_ENOMEM;
        }
        b->rw[n++] = (tl_store_imp_reward){sqlite3_column_int(q, 0), sqlite3_column_int(q, 1), type,
                                           sqlite3_column_int64(q, 3)};
    }
    sqlite3_reset(q);
    *n_rw = n;
    return rc == SQLITE_DONE ? TL_OK : tl__sq_fail(st, rc);
}

static tl_err sq_imp_each(tl_store *st, int64_t since, const char *user, tl_store_impression_fn fn,
                          void *ctx)
{
    sqlite3_stmt *q;
    tl_err r = tl__sq_prep(st,
                           "SELECT p.id, p.ts, u.ext_id, p.surface, p.policy, p.policy_version,"
                           " p.model, p.experiment, p.arm, p.weekday, p.exam, p.term, p.mobile,"
                           " p.activity, p.branch FROM impressions p"
                           " LEFT JOIN users u ON u.id = p.user_id"
                           " WHERE p.ts >= ?1 AND (?2 IS NULL OR u.ext_id = ?2) ORDER BY p.id",
                           &q);
    if (r != TL_OK)
        return r;
    sqlite3_bind_int64(q, 1, since);
    tl__sq_text(q, 2, user);
    imp_buf b = {0};
    int rc;
    while (r == TL_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        tl_store_impression imp = {
            .id = sqlite3_column_int64(q, 0),
            .ts = sqlite3_column_int64(q, 1),
            .user = tl__sq_col(q, 2),
            .surface = sqlite3_column_int(q, 3),
            .policy = sqlite3_column_int(q, 4),
            .policy_version = sqlite3_column_int64(q, 5),
            .model = tl__sq_col(q, 6),
            .experiment = tl__sq_col(q, 7),
            .arm = tl__sq_col(q, 8),
            .weekday = sqlite3_column_int(q, 9),
            .exam = sqlite3_column_int(q, 10),
            .term = sqlite3_column_int(q, 11),
            .mobile = sqlite3_column_int(q, 12),
            .activity = sqlite3_column_double(q, 13),
            .branch = tl__sq_col(q, 14),
        };
        int n_rw = 0;
        if ((r = fill_parts(st, &b, &imp, &n_rw)) == TL_OK)
            r = fn(ctx, &imp, b.rw, n_rw);
        drop_names(&b);
    }
    if (r == TL_OK && rc != SQLITE_DONE)
        r = tl__sq_fail(st, rc);
    sqlite3_finalize(q);
    free(b.rows);
    free(b.items);
    free(b.rw);
    free(b.names);
    return r;
}

static tl_err sq_imp_reward(tl_store *st, int64_t impression, int row, int position,
                            const char *user, const char *item, const char *type, int64_t ts,
                            int64_t window, tl_store_imp_hit *hit)
{
    sqlite3_stmt *q;
    /* the place of the item in the impression: the one named, else its first */
    tl_err r = tl__sq_prep(
        st,
        impression
            ? "SELECT p.id, ii.row, ii.position, r.kind, p.surface, p.policy, p.weekday, p.exam,"
              " p.term, p.mobile, p.activity, ifnull(ii.edition_p, -1), ii.edition_x"
              " FROM impressions p JOIN impression_items ii ON ii.impression_id = p.id"
              " JOIN items i ON i.id = ii.item_id"
              " LEFT JOIN impression_rows r ON r.impression_id = p.id AND r.row = ii.row"
              " WHERE p.id = ?1 AND i.ext_id = ?2 AND (?3 < 0 OR ii.row = ?3)"
              " AND (?4 < 0 OR ii.position = ?4) ORDER BY ii.row, ii.position LIMIT 1"
            : "SELECT p.id, ii.row, ii.position, r.kind, p.surface, p.policy, p.weekday, p.exam,"
              " p.term, p.mobile, p.activity, ifnull(ii.edition_p, -1), ii.edition_x"
              " FROM items i JOIN impression_items ii ON ii.item_id = i.id"
              " JOIN impressions p ON p.id = ii.impression_id"
              " JOIN users u ON u.id = p.user_id"
              " LEFT JOIN impression_rows r ON r.impression_id = p.id AND r.row = ii.row"
              " WHERE i.ext_id = ?2 AND u.ext_id = ?5 AND p.ts <= ?6 AND p.ts >= ?6 - ?7"
              " ORDER BY p.ts DESC, p.id DESC LIMIT 1",
        &q);
    if (r != TL_OK)
        return r;
    sqlite3_bind_int64(q, 1, impression);
    tl__sq_text(q, 2, item);
    sqlite3_bind_int(q, 3, row);
    sqlite3_bind_int(q, 4, position);
    tl__sq_text(q, 5, user);
    sqlite3_bind_int64(q, 6, ts);
    sqlite3_bind_int64(q, 7, window);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        hit->found = 1;
        hit->impression = sqlite3_column_int64(q, 0);
        hit->row = sqlite3_column_int(q, 1);
        hit->position = sqlite3_column_int(q, 2);
        hit->kind = sqlite3_column_type(q, 3) == SQLITE_NULL ? -1 : sqlite3_column_int(q, 3);
        hit->surface = sqlite3_column_int(q, 4);
        hit->policy = sqlite3_column_int(q, 5);
        hit->weekday = sqlite3_column_int(q, 6);
        hit->exam = sqlite3_column_int(q, 7);
        hit->term = sqlite3_column_int(q, 8);
        hit->mobile = sqlite3_column_int(q, 9);
        hit->activity = sqlite3_column_double(q, 10);
        hit->edition_p = sqlite3_column_double(q, 11);
        int bytes = sqlite3_column_bytes(q, 12);
        hit->edition_dim = bytes / (int)sizeof(float);
        if (hit->edition_dim > TL_IMP_FEATURES_MAX)
            hit->edition_dim = TL_IMP_FEATURES_MAX;
        if (hit->edition_dim)
            memcpy(hit->edition_x, sqlite3_column_blob(q, 12),
                   (size_t)hit->edition_dim * sizeof(float));
    } else if (rc != SQLITE_DONE) {
        r = tl__sq_fail(st, rc);
    }
    sqlite3_finalize(q);
    if (r != TL_OK || !hit->found)
        return r;
    if ((r = tl__sq_prep(st,
                         "INSERT INTO impression_rewards(impression_id, row, position, type, ts)"
                         " VALUES (?1, ?2, ?3, ?4, ?5)",
                         &q)) != TL_OK)
        return r;
    sqlite3_bind_int64(q, 1, hit->impression);
    sqlite3_bind_int(q, 2, hit->row);
    sqlite3_bind_int(q, 3, hit->position);
    tl__sq_text(q, 4, type);
    sqlite3_bind_int64(q, 5, ts);
    return tl__sq_finish(st, q, NULL);
}

static tl_err sq_learner_get(tl_store *st, const char *name, unsigned char **img, size_t *len,
                             int64_t *version, int *found)
{
    sqlite3_stmt *q;
    tl_err r = tl__sq_prep(st, "SELECT image, version FROM learners WHERE name = ?1", &q);
    if (r != TL_OK)
        return r;
    tl__sq_text(q, 1, name);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        int n = sqlite3_column_bytes(q, 0);
        if ((*img = malloc((size_t)n + 1))) {
            if (n)
                memcpy(*img, sqlite3_column_blob(q, 0), (size_t)n);
            *len = (size_t)n;
            *version = sqlite3_column_int64(q, 1);
            *found = 1;
        } else {
            r = TL_ENOMEM;
        }
    } else if (rc != SQLITE_DONE) {
        r = tl__sq_fail(st, rc);
    }
    sqlite3_finalize(q);
    return r;
}

static tl_err sq_learner_put(tl_store *st, const char *name, const unsigned char *img, size_t len,
                             int64_t version, int64_t ts)
{
    sqlite3_stmt *q;
    tl_err r = tl__sq_prep(st,
                           "INSERT INTO learners(name, version, saved, image) VALUES (?1, ?2, ?3,"
                           " ?4) ON CONFLICT(name) DO UPDATE SET version = ?2, saved = ?3,"
                           " image = ?4",
                           &q);
    if (r != TL_OK)
        return r;
    tl__sq_text(q, 1, name);
    sqlite3_bind_int64(q, 2, version);
    sqlite3_bind_int64(q, 3, ts);
    sqlite3_bind_blob(q, 4, img, (int)len, SQLITE_STATIC);
    return tl__sq_finish(st, q, NULL);
}

const tl_store_imp_ops tl__sq_imp_ops = {
    .put = sq_imp_put,
    .each = sq_imp_each,
    .reward = sq_imp_reward,
    .learner_get = sq_learner_get,
    .learner_put = sq_learner_put,
};

static tl_err run_id(tl_store *st, const char *sql, int64_t v)
{
    sqlite3_stmt *q;
    tl_err r = tl__sq_prep(st, sql, &q);
    if (r != TL_OK)
        return r;
    sqlite3_bind_int64(q, 1, v);
    return tl__sq_finish(st, q, NULL);
}

tl_err tl__sq_imp_forget(tl_store *st, tl_id_kind k, int64_t id)
{
    if (st->schema_version < IMP_VERSION)
        return TL_OK;
    /* an impression's rows, items and rewards cascade */
    return k == TL_ID_USER ? run_id(st, "DELETE FROM impressions WHERE user_id = ?1", id)
                           : run_id(st, "DELETE FROM impression_items WHERE item_id = ?1", id);
}

tl_err tl__sq_imp_retention(tl_store *st, int64_t now)
{
    if (st->schema_version < IMP_VERSION)
        return TL_OK;
    return run_id(st,
                  "DELETE FROM impressions WHERE user_id IS NOT NULL AND EXISTS (SELECT 1 FROM"
                  " retention r WHERE r.user_id = impressions.user_id AND impressions.ts < ?1 -"
                  " r.days * 86400)",
                  now);
}

tl_err tl__sq_imp_dump(tl_store *st, int64_t user, const tl_store_dump_fns *f, void *ctx)
{
    if (st->schema_version < IMP_VERSION)
        return TL_OK;
    sqlite3_stmt *q;
    tl_err r = tl__sq_prep(st,
                           "SELECT p.id, p.ts, p.surface, (SELECT ifnull(group_concat(x, char(9)),"
                           " '') FROM (SELECT ii.row || ':' || ii.position || ':' || i.ext_id AS x"
                           " FROM impression_items ii JOIN items i ON i.id = ii.item_id"
                           " WHERE ii.impression_id = p.id ORDER BY ii.row, ii.position))"
                           " FROM impressions p WHERE p.user_id = ?1 ORDER BY p.id",
                           &q);
    if (r != TL_OK)
        return r;
    sqlite3_bind_int64(q, 1, user);
    int rc;
    while (r == TL_OK && (rc = sqlite3_step(q)) == SQLITE_ROW)
        r = f->impression(ctx, sqlite3_column_int64(q, 0), sqlite3_column_int64(q, 1),
                          sqlite3_column_int(q, 2), tl__sq_col(q, 3));
    if (r == TL_OK && rc != SQLITE_DONE)
        r = tl__sq_fail(st, rc);
    sqlite3_finalize(q);
    return r;
}
