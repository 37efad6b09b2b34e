/* The holdings and library events of any store (schema version 5): checks, transactions and
 * the record behind each copy; the engines do the reading and writing. */
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

#define HOLDINGS_VERSION 5 /* the schema version that added holdings and item_details */

static tl_err ready(tl_store *st, int has_op, tl_diag *d)
{
    return tl__store_ready(st, has_op, HOLDINGS_VERSION, "holdings", "tailor import", d);
}

static tl_err failed(tl_store *st, tl_err rc, tl_diag *d)
{
    return rc == TL_ESTORE || rc == TL_ENOMEM ? tl__store_fail(st, rc, d) : rc;
}

tl_err tl_store_put_holding(tl_store *st, const tl_holding_rec *h, tl_put *what, tl_diag *d)
{
    tl_err rc = ready(st, st->ops->put_holding != NULL, d);
    if (rc != TL_OK)
        return rc;
    if (!h->copy || !*h->copy || !h->item || !*h->item) {
        tl_diag_set(d, NULL, 0, !h->copy || !*h->copy ? "copy" : "item", "empty %s",
                    !h->copy || !*h->copy ? "copy number" : "item id");
        return TL_EINVAL;
    }
    int own = !st->in_txn;
    if (own && (rc = tl_store_begin(st)) != TL_OK)
        return tl__store_fail(st, rc, d);
    int64_t item = 0;
    size_t len = strlen(h->item);
    tl_put dummy;
    rc = st->ops->find_id(st, TL_ID_ITEM, h->item, len, &item);
    if (rc == TL_OK && !item &&
        (rc = st->ops->create_id(st, TL_ID_ITEM, h->item, len, &item)) == TL_OK)
        st->created[TL_ID_ITEM]++;
    if (rc == TL_OK)
        rc = st->ops->put_holding(st, h, item, what ? what : &dummy);
    if (own && rc == TL_OK)
        rc = tl_store_commit(st);
    else if (own)
        tl_store_rollback(st);
    return failed(st, rc, d);
}

tl_err tl_store_item_for_copy(tl_store *st, const char *copy, size_t len, char **item, tl_diag *d)
{
    *item = NULL;
    tl_err rc = ready(st, st->ops->copy_item != NULL, d);
    if (rc == TL_OK && (rc = st->ops->copy_item(st, copy, len, item)) == TL_OK && !*item) {
        tl_diag_set(d, NULL, 0, "copy", "no copy '%.*s' in the holdings",
                    (int)(len > 100 ? 100 : len), copy);
        rc = TL_ENOTFOUND;
    }
    return failed(st, rc, d);
}

tl_err tl_store_shelves_each(tl_store *st, tl_store_shelf_fn fn, void *ctx, tl_diag *d)
{
    tl_err rc = ready(st, st->ops->shelves_each != NULL, d);
    return rc == TL_OK ? failed(st, st->ops->shelves_each(st, fn, ctx), d) : rc;
}

tl_err tl_store_loan_weeks(tl_store *st, tl_store_week_fn fn, void *ctx, tl_diag *d)
{
    if (!st->ops->loan_weeks) {
        tl_diag_set(d, NULL, 0, NULL, "the %s store has no loans by week", st->ops->name);
        return TL_EUNSUPPORTED;
    }
    return failed(st, st->ops->loan_weeks(st, fn, ctx), d);
}

tl_err tl_store_schedules_each(tl_store *st, tl_store_schedule_fn fn, void *ctx, tl_diag *d)
{
    tl_err rc = ready(st, st->ops->schedules_each != NULL, d);
    return rc == TL_OK ? failed(st, st->ops->schedules_each(st, fn, ctx), d) : rc;
}
