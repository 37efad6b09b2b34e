/* Catalogue search through the store (tailor/store.h, schema version 8): checks, transactions
 * and the patron's id at the door; the engine ranks and counts. */
#include <stdio.h>
#include <string.h>

#include "store/store_int.h"

#define SEARCH_VERSION 8
#define SEARCH_WRITERS "tailor import, tailor search --reindex"
#define SEARCH_LIMIT_MAX 100000

static tl_err ready(tl_store *st, int has_op, tl_diag *d)
{
    return tl__store_ready(st, has_op, SEARCH_VERSION, "the catalogue's search index",
                           SEARCH_WRITERS, d);
}

/* An engine's TL_EINVAL explained in st->why (the filter or the expression at fault). */
static tl_err refused(tl_store *st, tl_err rc, const char *field, tl_diag *d)
{
    if (rc == TL_EINVAL) {
        tl_diag_set(d, NULL, 0, field, "%s", st->why[0] ? st->why : "refused");
        st->why[0] = '\0';
        return rc;
    }
    return tl__store_fail(st, rc, d);
}

tl_err tl_store_search(tl_store *st, const tl_store_search_q *q, tl_store_hit_fn hit,
                       tl_store_facet_fn facet, void *ctx, int64_t *total, tl_diag *d)
{
    tl_err rc = ready(st, st->ops->search != NULL, d);
    if (rc != TL_OK)
        return rc;
    if (!q->match || !hit || (q->facets && !facet) || q->limit < 1 || q->limit > SEARCH_LIMIT_MAX ||
        q->n_filters < 0) {
        tl_diag_set(d, NULL, 0, "q", "a search needs an expression and 1 to %d candidates",
                    SEARCH_LIMIT_MAX);
        return TL_EINVAL;
    }
    st->why[0] = '\0';
    rc = st->ops->search(st, q, hit, facet, ctx, total);
    if (rc == TL_EINVAL)
        return refused(st, rc, strncmp(st->why, "the search", 10) == 0 ? "q" : "filter", d);
    return rc == TL_OK ? rc : tl__store_fail(st, rc, d);
}

tl_err tl_store_search_log(tl_store *st, const char *user, const char *query, int64_t ts,
                           int64_t total, tl_diag *d)
{
    tl_err rc = ready(st, st->ops->search_total != NULL, d);
    if (rc != TL_OK)
        return rc;
    int own = !st->in_txn;
    if (own && (rc = tl_store_begin(st)) != TL_OK)
        return tl__store_fail(st, rc, d);
    tl_search_rec r = {.user = user, .user_len = user ? strlen(user) : 0, .query = query, .ts = ts};
    int64_t uid = 0;
    rc = tl_store_put_search(st, &r, 0, NULL, d);
    if (rc == TL_OK && user) {
        char pseudo[TL_PATRON_REF_SIZE];
        size_t len;
        const char *ext = tl__store_patron(st, user, r.user_len, pseudo, &len);
        rc = st->ops->find_id(st, TL_ID_USER, ext, len, &uid);
    }
    if (rc == TL_OK)
        rc = st->ops->search_total(st, uid, query, ts, total);
    if (own) {
        if (rc == TL_OK)
            rc = tl_store_commit(st);
        else
            tl_store_rollback(st);
    }
    return rc == TL_ESTORE || rc == TL_ENOMEM ? tl__store_fail(st, rc, d) : rc;
}

static tl_err bulk(tl_store *st, int end, const char *languages, int need_txn, tl_diag *d)
{
    tl_err rc = ready(st, st->ops->search_bulk != NULL, d);
    if (rc != TL_OK)
        return rc;
    if (need_txn && !st->in_txn) {
        tl_diag_set(d, NULL, 0, NULL, "a bulk load of the search index needs a transaction");
        return TL_EINVAL;
    }
    int own = !st->in_txn;
    if (own && (rc = tl_store_begin(st)) != TL_OK)
        return tl__store_fail(st, rc, d);
    st->why[0] = '\0';
    rc = st->ops->search_bulk(st, end, languages);
    if (own) {
        if (rc == TL_OK)
            rc = tl_store_commit(st);
        else
            tl_store_rollback(st);
    }
    return rc == TL_OK ? rc : refused(st, rc, "languages", d);
}

tl_err tl_store_search_bulk_begin(tl_store *st, tl_diag *d)
{
    return bulk(st, 0, NULL, 1, d);
}

tl_err tl_store_search_bulk_end(tl_store *st, tl_diag *d)
{
    return bulk(st, 1, NULL, 1, d);
}

tl_err tl_store_search_rebuild(tl_store *st, const char *languages, tl_diag *d)
{
    return bulk(st, 1, languages, 0, d);
}

tl_err tl_store_search_heads(tl_store *st, tl_diag *d)
{
    return bulk(st, 2, NULL, 0, d);
}
