/* Impressions and learners' state in a SQLite store (schema version 9). An impression is one
 * row of numbers (its context as columns) and one row per decision, whose items are packed as
 * store ids in a blob (a homepage of 6 x 10 cards is 7 rows, not 67); the hot writes use kept
 * statements. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/imp_blob.h"
#include "store/imp_int.h"
#include "store/sqlite/sqlite_int.h"

enum { /* tl__sq_kept slots: sqlite_catalogue.c uses those below 8 */
       K_IMP_PUT = 8,
       K_IMP_ROW,
       K_IMP_ROWS_OF,
       K_IMP_REWARDS_OF,
       K_ITEM_EXT,
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
    int64_t user = 0;
    tl_err r = tl__imp_user(st, imp->user, &user);
    if (r != TL_OK)
        return r;
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
                         " propensity, items, editions) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                         &q)) != TL_OK)
        return r;
    for (int k = 0; r == TL_OK && k < imp->n_rows; k++) {
        unsigned char *items = NULL, *eds = NULL;
        int n = 0, elen = 0;
        if ((r = tl__imp_row_blobs(st, imp, k, &items, &n, &eds, &elen)) == TL_OK) {
            sqlite3_bind_int64(q, 1, imp->id);
            sqlite3_bind_int(q, 2, k);
            sqlite3_bind_int(q, 3, imp->rows[k].kind);
            sqlite3_bind_int64(q, 4, imp->rows[k].candidates);
            sqlite3_bind_double(q, 5, imp->rows[k].propensity);
            sqlite3_bind_blob(q, 6, items, n * 8, SQLITE_STATIC);
            if (elen)
                sqlite3_bind_blob(q, 7, eds, elen, SQLITE_STATIC);
            else
                sqlite3_bind_null(q, 7);
            r = step_done(st, q);
            sqlite3_clear_bindings(q);
        }
        free(items);
        free(eds);
    }
    return r;
}

/* The known items of row's blob items[0..n) appended to b->items. */
static tl_err list_row_items(tl_store *st, tl_imp_buf *b, int row, const unsigned char *items,
                             int n, int *n_items)
{
    sqlite3_stmt *q;
    tl_err r = tl__sq_kept(st, K_ITEM_EXT, "SELECT ext_id FROM items WHERE id = ?1", &q);
    for (int k = 0; r == TL_OK && k < n; k++) {
        sqlite3_bind_int64(q, 1, tl__imp_item_at(items, k));
        if (sqlite3_step(q) == SQLITE_ROW)
            r = tl__imp_add_item(b, n_items, row, k, tl__sq_col(q, 0));
        sqlite3_reset(q);
    }
    return r;
}

static tl_err fill_parts(tl_store *st, tl_imp_buf *b, tl_store_impression *imp, int *n_rw)
{
    sqlite3_stmt *q;
    tl_err r = tl__sq_kept(st, K_IMP_ROWS_OF,
                           "SELECT kind, candidates, propensity, length(items), items"
                           " FROM impression_rows WHERE impression_id = ?1 ORDER BY row",
                           &q);
    int rc, n = 0, listed = 0;
    if (r != TL_OK)
        return r;
    sqlite3_bind_int64(q, 1, imp->id);
    imp->n_items = 0;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (tl__imp_add_row(b, n++,
                            (tl_store_imp_row){sqlite3_column_int(q, 0),
                                               (uint32_t)sqlite3_column_int64(q, 1),
                                               sqlite3_column_double(q, 2)}) != TL_OK) {
            sqlite3_reset(q);
            return TL_ENOMEM;
        }
        imp->n_items += sqlite3_column_int(q, 3) / 8;
        if (b->with_items && (r = list_row_items(st, b, n - 1, sqlite3_column_blob(q, 4),
                                                 sqlite3_column_int(q, 3) / 8, &listed)) != TL_OK) {
            sqlite3_reset(q);
            return r;
        }
    }
    sqlite3_reset(q);
    if (rc != SQLITE_DONE)
        return tl__sq_fail(st, rc);
    imp->rows = b->rows;
    imp->n_rows = n;
    imp->items = b->with_items ? b->items : NULL;
    if (b->with_items)
        imp->n_items = listed;
    if ((r = tl__sq_kept(st, K_IMP_REWARDS_OF,
                         "SELECT row, position, type, ts FROM impression_rewards"
                         " WHERE impression_id = ?1 ORDER BY ts, row, position",
                         &q)) != TL_OK)
        return r;
    sqlite3_bind_int64(q, 1, imp->id);
    n = 0;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (tl__imp_add_reward(b, n++, sqlite3_column_int(q, 0), sqlite3_column_int(q, 1),
                               tl__sq_col(q, 2), sqlite3_column_int64(q, 3)) != TL_OK) {
            sqlite3_reset(q);
            return TL_ENOMEM;
        }
    }
    sqlite3_reset(q);
    *n_rw = n;
    return rc == SQLITE_DONE ? TL_OK : tl__sq_fail(st, rc);
}

static tl_err sq_imp_each(tl_store *st, int64_t since, const char *user, int with_items,
                          tl_store_impression_fn fn, void *ctx)
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
    tl_imp_buf b = {.with_items = with_items};
    int rc = SQLITE_DONE;
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
        tl__imp_buf_next(&b);
    }
    if (r == TL_OK && rc != SQLITE_DONE)
        r = tl__sq_fail(st, rc);
    sqlite3_finalize(q);
    tl__imp_buf_free(&b);
    return r;
}

/* The first of q's rows (impression columns, then row, kind, items, editions) that shows item:
 * at row and position when >= 0, else its first place. */
static tl_err first_showing(tl_store *st, sqlite3_stmt *q, int64_t item, int row, int position,
                            tl_store_imp_hit *hit)
{
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW && !hit->found) {
        int r = sqlite3_column_int(q, 8), n = sqlite3_column_bytes(q, 10) / 8, at = -1;
        const unsigned char *items = sqlite3_column_blob(q, 10);
        if (row >= 0 && r != row)
            continue;
        if ((at = tl__imp_place(items, n, item, position)) < 0)
            continue;
        hit->found = 1;
        hit->impression = sqlite3_column_int64(q, 0);
        hit->surface = sqlite3_column_int(q, 1);
        hit->policy = sqlite3_column_int(q, 2);
        hit->weekday = sqlite3_column_int(q, 3);
        hit->exam = sqlite3_column_int(q, 4);
        hit->term = sqlite3_column_int(q, 5);
        hit->mobile = sqlite3_column_int(q, 6);
        hit->activity = sqlite3_column_double(q, 7);
        hit->row = r;
        hit->kind = sqlite3_column_int(q, 9);
        hit->position = at;
        tl__imp_edition_of(sqlite3_column_blob(q, 11), sqlite3_column_bytes(q, 11), at, hit);
    }
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? TL_OK : tl__sq_fail(st, rc);
}

static tl_err sq_imp_reward(tl_store *st, int64_t impression, int row, int position,
                            const char *user, const char *item, const char *type, int64_t ts,
                            int64_t window, tl_store_imp_hit *hit)
{
    int64_t item_id = 0, user_id = 0;
    tl_err r = st->ops->find_id(st, TL_ID_ITEM, item, strlen(item), &item_id);
    if (r == TL_OK && !impression && user)
        r = st->ops->find_id(st, TL_ID_USER, user, strlen(user), &user_id);
    if (r != TL_OK || !item_id || (!impression && !user_id))
        return r;
    sqlite3_stmt *q;
#define IMP_COLS                                                                                   \
    "SELECT p.id, p.surface, p.policy, p.weekday, p.exam, p.term, p.mobile, p.activity, r.row,"    \
    " r.kind, r.items, r.editions FROM impressions p"                                              \
    " JOIN impression_rows r ON r.impression_id = p.id"
    /* with an id, that impression; else the patron's latest within the window first */
    if ((r = tl__sq_prep(st,
                         impression ? IMP_COLS " WHERE p.id = ?1 ORDER BY r.row"
                                    : IMP_COLS " WHERE p.user_id = ?2 AND p.ts <= ?3"
                                               " AND p.ts >= ?3 - ?4"
                                               " ORDER BY p.ts DESC, p.id DESC, r.row",
                         &q)) != TL_OK)
        return r;
#undef IMP_COLS
    if (impression) {
        sqlite3_bind_int64(q, 1, impression);
    } else {
        sqlite3_bind_int64(q, 2, user_id);
        sqlite3_bind_int64(q, 3, ts);
        sqlite3_bind_int64(q, 4, window);
    }
    r = first_showing(st, q, item_id, impression ? row : -1, impression ? position : -1, hit);
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
    /* a patron's impressions (their rows and rewards cascade); an item's store id in the rows'
     * blobs names nothing once it is gone (a listing leaves it out) */
    if (st->schema_version < IMP_VERSION || k != TL_ID_USER)
        return TL_OK;
    return run_id(st, "DELETE FROM impressions WHERE user_id = ?1", id);
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

/* "ROW:POSITION:ITEM" of each known item of a row's blob, appended to *out (tab-separated). */
static tl_err row_items_text(tl_store *st, int row, const unsigned char *items, int n, char **out,
                             size_t *len, size_t *cap)
{
    sqlite3_stmt *q;
    tl_err r = tl__sq_kept(st, K_ITEM_EXT, "SELECT ext_id FROM items WHERE id = ?1", &q);
    for (int k = 0; r == TL_OK && k < n; k++) {
        sqlite3_bind_int64(q, 1, tl__imp_item_at(items, k));
        if (sqlite3_step(q) == SQLITE_ROW) {
            const char *ext = tl__sq_col(q, 0);
            size_t need = *len + strlen(ext) + 32;
            if (need > *cap) {
                char *g = realloc(*out, need * 2);
                if (!g)
                    r = TL_ENOMEM;
                else
                    *out = g, *cap = need * 2;
            }
            if (r == TL_OK)
                *len += (size_t)snprintf(*out + *len, *cap - *len, "%s%d:%d:%s", *len ? "\t" : "",
                                         row, k, ext);
        }
        sqlite3_reset(q);
    }
    return r;
}

tl_err tl__sq_imp_dump(tl_store *st, int64_t user, const tl_store_dump_fns *f, void *ctx)
{
    if (st->schema_version < IMP_VERSION)
        return TL_OK;
    sqlite3_stmt *q;
    tl_err r = tl__sq_prep(st,
                           "SELECT p.id, p.ts, p.surface, r.row, r.items FROM impressions p"
                           " JOIN impression_rows r ON r.impression_id = p.id"
                           " WHERE p.user_id = ?1 ORDER BY p.id, r.row",
                           &q);
    if (r != TL_OK)
        return r;
    sqlite3_bind_int64(q, 1, user);
    char *text = calloc(1, 256);
    size_t len = 0, cap = 256;
    int64_t id = 0, ts = 0;
    int surface = 0, rc;
    if (!text)
        r = TL_ENOMEM;
    while (r == TL_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t next = sqlite3_column_int64(q, 0);
        if (next != id && id) { /* the previous impression is whole */
            r = f->impression(ctx, id, ts, surface, text);
            len = 0;
            text[0] = '\0';
        }
        id = next;
        ts = sqlite3_column_int64(q, 1);
        surface = sqlite3_column_int(q, 2);
        if (r == TL_OK)
            r = row_items_text(st, sqlite3_column_int(q, 3), sqlite3_column_blob(q, 4),
                               sqlite3_column_bytes(q, 4) / 8, &text, &len, &cap);
    }
    if (r == TL_OK && rc != SQLITE_DONE)
        r = tl__sq_fail(st, rc);
    if (r == TL_OK && id)
        r = f->impression(ctx, id, ts, surface, text);
    sqlite3_finalize(q);
    free(text);
    return r;
}
