/* Impressions and learners' state in a PostgreSQL store (schema version 9); as
 * src/store/sqlite/sqlite_impressions.c, with the same row blobs (store/imp_blob.h) in bytea
 * columns. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/imp_blob.h"
#include "store/imp_int.h"
#include "store/postgres/pg_int.h"

enum { S_IMP_PUT = TL_PG_IMP_SLOT0, S_IMP_ROW, S_ROWS_OF, S_REWARDS_OF };

static void text_or_null(tl_pg_args *a, const char *v)
{
    if (v && *v)
        tl__pg_str(a, v);
    else
        tl__pg_null(a);
}

/* A bytea column decoded (malloc'd, *len bytes; NULL with *len 0 when it is NULL). */
static unsigned char *bytes_of(PGresult *r, int row, int col, int *len)
{
    size_t cap = PQgetisnull(r, row, col) ? 0 : (size_t)PQgetlength(r, row, col) / 2;
    unsigned char *b = malloc(cap + 1);
    *len = b ? (int)tl__pg_bytes(r, row, col, b, cap) : 0;
    return b;
}

static tl_err pg_imp_put(tl_store *st, const tl_store_impression *imp)
{
    int64_t user = 0;
    tl_err r = tl__imp_user(st, imp->user, &user);
    if (r != TL_OK)
        return r;
    tl_pg_args a = {0};
    tl__pg_int(&a, imp->id);
    tl__pg_int(&a, imp->ts);
    if (user)
        tl__pg_int(&a, user);
    else
        tl__pg_null(&a);
    tl__pg_int(&a, imp->surface);
    tl__pg_int(&a, imp->policy);
    tl__pg_int(&a, imp->policy_version);
    text_or_null(&a, imp->model);
    text_or_null(&a, imp->experiment);
    text_or_null(&a, imp->arm);
    tl__pg_int(&a, imp->weekday);
    tl__pg_int(&a, imp->exam);
    tl__pg_int(&a, imp->term);
    tl__pg_int(&a, imp->mobile);
    tl__pg_real(&a, imp->activity);
    text_or_null(&a, imp->branch);
    if ((r = tl__pg_prepared(st, S_IMP_PUT,
                             "INSERT INTO impressions(id, ts, user_id, surface, policy,"
                             " policy_version, model, experiment, arm, weekday, exam, term, mobile,"
                             " activity, branch) VALUES ($1, $2, $3, $4, $5, $6, $7::text,"
                             " $8::text, $9::text, $10, $11, $12, $13, $14, $15::text)",
                             &a, NULL)) != TL_OK)
        return r;
    for (int k = 0; r == TL_OK && k < imp->n_rows; k++) {
        unsigned char *items = NULL, *eds = NULL;
        int n = 0, elen = 0;
        if ((r = tl__imp_row_blobs(st, imp, k, &items, &n, &eds, &elen)) == TL_OK) {
            tl_pg_args b = {0};
            tl__pg_int(&b, imp->id);
            tl__pg_int(&b, k);
            tl__pg_int(&b, imp->rows[k].kind);
            tl__pg_int(&b, imp->rows[k].candidates);
            tl__pg_real(&b, imp->rows[k].propensity);
            tl__pg_blob(&b, items, (size_t)n * 8);
            if (elen)
                tl__pg_blob(&b, eds, (size_t)elen);
            else
                tl__pg_null(&b);
            r = tl__pg_prepared(st, S_IMP_ROW,
                                "INSERT INTO impression_rows(impression_id, \"row\", kind,"
                                " candidates, propensity, items, editions) VALUES ($1, $2, $3, $4,"
                                " $5, $6::bytea, $7::bytea)",
                                &b, NULL);
        }
        free(items);
        free(eds);
    }
    return r;
}

/* The known items of a row's blob appended to b->items: one look-up for the row. */
static tl_err list_row_items(tl_store *st, tl_imp_buf *b, int row, const unsigned char *items,
                             int n, int *n_items)
{
    if (!n)
        return TL_OK;
    char *ids = malloc((size_t)n * 21 + 3);
    if (!ids)
        return TL_ENOMEM;
    size_t o = 0;
    ids[o++] = '{';
    for (int k = 0; k < n; k++)
        o += (size_t)sprintf(ids + o, "%s%lld", k ? "," : "", (long long)tl__imp_item_at(items, k));
    ids[o++] = '}';
    ids[o] = '\0';
    tl_pg_args a = {0};
    PGresult *r = NULL;
    tl__pg_str(&a, ids);
    tl_err rc =
        tl__pg_query(st,
                     "SELECT p.k - 1, i.ext_id FROM unnest($1::text::bigint[]) WITH ORDINALITY"
                     " AS p(id, k) JOIN items i ON i.id = p.id ORDER BY p.k",
                     &a, &r);
    free(ids);
    for (int i = 0; rc == TL_OK && i < PQntuples(r); i++)
        rc = tl__imp_add_item(b, n_items, row, (int)tl__pg_i64(r, i, 0), tl__pg_s(r, i, 1));
    PQclear(r);
    return rc;
}

static tl_err fill_parts(tl_store *st, tl_imp_buf *b, tl_store_impression *imp, int *n_rw)
{
    tl_pg_args a = {0};
    PGresult *r = NULL;
    tl__pg_int(&a, imp->id);
    tl_err rc = tl__pg_prepared(st, S_ROWS_OF,
                                "SELECT kind, candidates, propensity, items FROM impression_rows"
                                " WHERE impression_id = $1 ORDER BY \"row\"",
                                &a, &r);
    int n = 0, listed = 0;
    imp->n_items = 0;
    for (int i = 0; rc == TL_OK && i < PQntuples(r); i++) {
        tl_store_imp_row row = {(int)tl__pg_i64(r, i, 0), (uint32_t)tl__pg_i64(r, i, 1),
                                strtod(PQgetvalue(r, i, 2), NULL)};
        int len = 0;
        unsigned char *items = bytes_of(r, i, 3, &len);
        if (!items)
            rc = TL_ENOMEM;
        else if ((rc = tl__imp_add_row(b, n++, row)) == TL_OK && b->with_items)
            rc = list_row_items(st, b, n - 1, items, len / 8, &listed);
        imp->n_items += len / 8;
        free(items);
    }
    PQclear(r);
    r = NULL;
    if (rc != TL_OK)
        return rc;
    imp->rows = b->rows;
    imp->n_rows = n;
    imp->items = b->with_items ? b->items : NULL;
    if (b->with_items)
        imp->n_items = listed;
    rc = tl__pg_prepared(st, S_REWARDS_OF,
                         "SELECT \"row\", position, type, ts FROM impression_rewards"
                         " WHERE impression_id = $1 ORDER BY ts, \"row\", position",
                         &a, &r);
    n = 0;
    for (int i = 0; rc == TL_OK && i < PQntuples(r); i++, n++)
        rc = tl__imp_add_reward(b, n, (int)tl__pg_i64(r, i, 0), (int)tl__pg_i64(r, i, 1),
                                tl__pg_s(r, i, 2), tl__pg_i64(r, i, 3));
    PQclear(r);
    *n_rw = n;
    return rc;
}

static const char *or_null(PGresult *r, int i, int c)
{
    return tl__pg_s(r, i, c);
}

static tl_err pg_imp_each(tl_store *st, int64_t since, const char *user, int with_items,
                          tl_store_impression_fn fn, void *ctx)
{
    tl_pg_args a = {0};
    PGresult *r = NULL;
    tl__pg_int(&a, since);
    tl__pg_str(&a, user);
    tl_err rc = tl__pg_query(st,
                             "SELECT p.id, p.ts, u.ext_id, p.surface, p.policy, p.policy_version,"
                             " p.model, p.experiment, p.arm, p.weekday, p.exam, p.term, p.mobile,"
                             " p.activity, p.branch FROM impressions p"
                             " LEFT JOIN users u ON u.id = p.user_id"
                             " WHERE p.ts >= $1 AND ($2::text IS NULL OR u.ext_id = $2)"
                             " ORDER BY p.id",
                             &a, &r);
    tl_imp_buf b = {.with_items = with_items};
    for (int i = 0; rc == TL_OK && i < PQntuples(r); i++) {
        tl_store_impression imp = {
            .id = tl__pg_i64(r, i, 0),
            .ts = tl__pg_i64(r, i, 1),
            .user = or_null(r, i, 2),
            .surface = (int)tl__pg_i64(r, i, 3),
            .policy = (int)tl__pg_i64(r, i, 4),
            .policy_version = tl__pg_i64(r, i, 5),
            .model = or_null(r, i, 6),
            .experiment = or_null(r, i, 7),
            .arm = or_null(r, i, 8),
            .weekday = (int)tl__pg_i64(r, i, 9),
            .exam = (int)tl__pg_i64(r, i, 10),
            .term = (int)tl__pg_i64(r, i, 11),
            .mobile = (int)tl__pg_i64(r, i, 12),
            .activity = strtod(PQgetvalue(r, i, 13), NULL),
            .branch = or_null(r, i, 14),
        };
        int n_rw = 0;
        if ((rc = fill_parts(st, &b, &imp, &n_rw)) == TL_OK)
            rc = fn(ctx, &imp, b.rw, n_rw);
        tl__imp_buf_next(&b);
    }
    PQclear(r);
    tl__imp_buf_free(&b);
    return rc;
}

/* The first of r's rows (impression columns, then row, kind, items, editions) that shows item:
 * at row and position when >= 0, else its first place. */
static tl_err first_showing(PGresult *r, int64_t item, int row, int position, tl_store_imp_hit *hit)
{
    for (int i = 0; i < PQntuples(r) && !hit->found; i++) {
        int rw = (int)tl__pg_i64(r, i, 8), n = 0, elen = 0, at;
        if (row >= 0 && rw != row)
            continue;
        unsigned char *items = bytes_of(r, i, 10, &n);
        if (!items)
            return TL_ENOMEM;
        at = tl__imp_place(items, n / 8, item, position);
        free(items);
        if (at < 0)
            continue;
        hit->found = 1;
        hit->impression = tl__pg_i64(r, i, 0);
        hit->surface = (int)tl__pg_i64(r, i, 1);
        hit->policy = (int)tl__pg_i64(r, i, 2);
        hit->weekday = (int)tl__pg_i64(r, i, 3);
        hit->exam = (int)tl__pg_i64(r, i, 4);
        hit->term = (int)tl__pg_i64(r, i, 5);
        hit->mobile = (int)tl__pg_i64(r, i, 6);
        hit->activity = strtod(PQgetvalue(r, i, 7), NULL);
        hit->row = rw;
        hit->kind = (int)tl__pg_i64(r, i, 9);
        hit->position = at;
        unsigned char *eds = bytes_of(r, i, 11, &elen);
        if (!eds)
            return TL_ENOMEM;
        tl__imp_edition_of(elen ? eds : NULL, elen, at, hit);
        free(eds);
    }
    return TL_OK;
}

static tl_err pg_imp_reward(tl_store *st, int64_t impression, int row, int position,
                            const char *user, const char *item, const char *type, int64_t ts,
                            int64_t window, tl_store_imp_hit *hit)
{
    int64_t item_id = 0, user_id = 0;
    tl_err rc = st->ops->find_id(st, TL_ID_ITEM, item, strlen(item), &item_id);
    if (rc == TL_OK && !impression && user)
        rc = st->ops->find_id(st, TL_ID_USER, user, strlen(user), &user_id);
    if (rc != TL_OK || !item_id || (!impression && !user_id))
        return rc;
#define IMP_COLS                                                                                   \
    "SELECT p.id, p.surface, p.policy, p.weekday, p.exam, p.term, p.mobile, p.activity, "          \
    "r.\"row\","                                                                                   \
    " r.kind, r.items, r.editions FROM impressions p"                                              \
    " JOIN impression_rows r ON r.impression_id = p.id"
    tl_pg_args a = {0};
    PGresult *r = NULL;
    /* with an id, that impression; else the patron's latest within the window first */
    if (impression) {
        tl__pg_int(&a, impression);
        rc = tl__pg_query(st, IMP_COLS " WHERE p.id = $1 ORDER BY r.\"row\"", &a, &r);
    } else {
        tl__pg_int(&a, user_id);
        tl__pg_int(&a, ts);
        tl__pg_int(&a, window);
        rc = tl__pg_query(st,
                          IMP_COLS " WHERE p.user_id = $1 AND p.ts <= $2 AND p.ts >= $2 - $3"
                                   " ORDER BY p.ts DESC, p.id DESC, r.\"row\"",
                          &a, &r);
    }
#undef IMP_COLS
    if (rc == TL_OK)
        rc = first_showing(r, item_id, impression ? row : -1, impression ? position : -1, hit);
    PQclear(r);
    if (rc != TL_OK || !hit->found)
        return rc;
    tl_pg_args w = {0};
    tl__pg_int(&w, hit->impression);
    tl__pg_int(&w, hit->row);
    tl__pg_int(&w, hit->position);
    tl__pg_str(&w, type);
    tl__pg_int(&w, ts);
    return tl__pg_query(st,
                        "INSERT INTO impression_rewards(impression_id, \"row\", position, type, ts)"
                        " VALUES ($1, $2, $3, $4, $5)",
                        &w, NULL);
}

static tl_err pg_learner_get(tl_store *st, const char *name, unsigned char **img, size_t *len,
                             int64_t *version, int *found)
{
    tl_pg_args a = {0};
    PGresult *r = NULL;
    tl__pg_str(&a, name);
    tl_err rc = tl__pg_query(st, "SELECT image, version FROM learners WHERE name = $1", &a, &r);
    if (rc == TL_OK && PQntuples(r)) {
        int n = 0;
        if ((*img = bytes_of(r, 0, 0, &n))) {
            *len = (size_t)n;
            *version = tl__pg_i64(r, 0, 1);
            *found = 1;
        } else {
            rc = TL_ENOMEM;
        }
    }
    PQclear(r);
    return rc;
}

static tl_err pg_learner_put(tl_store *st, const char *name, const unsigned char *img, size_t len,
                             int64_t version, int64_t ts)
{
    tl_pg_args a = {0};
    tl__pg_str(&a, name);
    tl__pg_int(&a, version);
    tl__pg_int(&a, ts);
    tl__pg_blob(&a, img, len);
    return tl__pg_query(st,
                        "INSERT INTO learners(name, version, saved, image) VALUES ($1, $2, $3,"
                        " $4::bytea) ON CONFLICT(name) DO UPDATE SET version = $2, saved = $3,"
                        " image = $4::bytea",
                        &a, NULL);
}

const tl_store_imp_ops tl__pg_imp_ops = {
    .put = pg_imp_put,
    .each = pg_imp_each,
    .reward = pg_imp_reward,
    .learner_get = pg_learner_get,
    .learner_put = pg_learner_put,
};

tl_err tl__pg_imp_retention(tl_store *st, int64_t now)
{
    tl_pg_args a = {0};
    tl__pg_int(&a, now);
    return tl__pg_query(st,
                        "DELETE FROM impressions WHERE user_id IS NOT NULL AND EXISTS (SELECT 1"
                        " FROM retention r WHERE r.user_id = impressions.user_id"
                        " AND impressions.ts < $1 - r.days * 86400)",
                        &a, NULL);
}

tl_err tl__pg_imp_dump(tl_store *st, int64_t user, const tl_store_dump_fns *f, void *ctx)
{
    /* "ROW:POSITION:ITEM" of each known item, tab-separated, per impression */
    tl_pg_args a = {0};
    PGresult *r = NULL;
    tl__pg_int(&a, user);
    tl_err rc = tl__pg_query(st,
                             "SELECT p.id, p.ts, p.surface, r.\"row\", r.items FROM impressions p"
                             " JOIN impression_rows r ON r.impression_id = p.id"
                             " WHERE p.user_id = $1 ORDER BY p.id, r.\"row\"",
                             &a, &r);
    tl_imp_buf b = {.with_items = 1};
    char *text = NULL;
    int n = 0;
    for (int i = 0; rc == TL_OK && i < PQntuples(r); i++) {
        int len = 0;
        unsigned char *items = bytes_of(r, i, 4, &len);
        rc = items ? list_row_items(st, &b, (int)tl__pg_i64(r, i, 3), items, len / 8, &n)
                   : TL_ENOMEM;
        free(items);
        if (rc != TL_OK || (i + 1 < PQntuples(r) && tl__pg_i64(r, i + 1, 0) == tl__pg_i64(r, i, 0)))
            continue; /* the impression goes on */
        size_t cap = 1, o = 0;
        for (int k = 0; k < n; k++)
            cap += strlen(b.items[k].item) + 32;
        if (!(text = malloc(cap))) {
            rc = TL_ENOMEM;
            break;
        }
        text[0] = '\0';
        for (int k = 0; k < n; k++)
            o += (size_t)snprintf(text + o, cap - o, "%s%d:%d:%s", k ? "\t" : "", b.items[k].row,
                                  b.items[k].position, b.items[k].item);
        rc = f->impression(ctx, tl__pg_i64(r, i, 0), tl__pg_i64(r, i, 1), (int)tl__pg_i64(r, i, 2),
                           text);
        free(text);
        tl__imp_buf_next(&b);
        n = 0;
    }
    PQclear(r);
    tl__imp_buf_free(&b);
    return rc;
}
