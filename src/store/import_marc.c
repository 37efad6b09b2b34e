/* The MARC import driver: the MARC reader (src/ingest/marc.c) hands over one mapped record at a
 * time, and this file writes its item, details and copies through the store interface, all in
 * one transaction (taken with the first record), so that a failed import leaves the store
 * exactly as it was. Nothing is kept per record between calls: memory stays flat whatever the
 * file's size. */
#include <string.h>

#include "store/store_int.h"
#include "util/clock.h"

#define CATALOGUE_VERSION 5
/* The page cache during the import: the tables grow in key order (ids, copy numbers), so a
 * small cache costs little, and memory stays flat (under 300 MB for a million records). */
#define IMPORT_CACHE_KIB 65536

typedef struct marc_ctx {
    tl_store *st;
    int begun;
    tl_marc_import_report *rep;
} marc_ctx;

static tl_err put_marc(void *ctx, const tl_marc_rec *m, tl_diag *d)
{
    marc_ctx *c = ctx;
    tl_store *st = c->st;
    const tl_item_rec *it = &m->item;
    tl_err rc;
    if (it->id_len > TL_ID_MAX) {
        tl_diag_set(d, NULL, 0, "id", "the record's id is longer than %d bytes", TL_ID_MAX);
        return TL_EPARSE;
    }
    if (!c->begun) {
        if ((rc = tl_store_begin(st)) != TL_OK)
            return tl__store_fail(st, rc, d);
        c->begun = 1;
    }
    int64_t old = 0, id = 0;
    int changed = 0, more = 0;
    if ((rc = st->ops->find_id(st, TL_ID_ITEM, it->id, it->id_len, &old)) != TL_OK ||
        (rc = st->ops->replace_item(st, it, &id, &changed)) != TL_OK)
        return tl__store_fail(st, rc, d);
    if (old)
        id = old;
    if ((rc = st->ops->put_details(st, id, &m->details, &more)) != TL_OK ||
        (rc = st->ops->put_holdings(st, id, old != 0, m->holdings, m->nholdings, &more)) != TL_OK)
        return tl__store_fail(st, rc, d);
    c->rep->holdings += m->nholdings;
    if (!old)
        c->rep->added++;
    else if (changed || more)
        c->rep->updated++;
    else
        c->rep->unchanged++;
    return TL_OK;
}

static tl_err catalogue_ready(tl_store *st, int has_ops, tl_diag *d)
{
    return tl__store_ready(st, has_ops, CATALOGUE_VERSION, "catalogue details and copies",
                           "tailor import", d);
}

tl_err tl_store_import_marc(tl_store *st, const tl_marc_opts *o, tl_marc_import_report *rep,
                            tl_diag *d)
{
    tl_marc_import_report dummy;
    tl_diag dd;
    if (!rep)
        rep = &dummy;
    if (!d)
        d = &dd;
    memset(rep, 0, sizeof(*rep));
    tl_diag_clear(d);
    if (st->in_txn || st->readonly) {
        tl_diag_set(d, NULL, 0, NULL,
                    st->readonly ? "the store is open read-only"
                                 : "an import cannot run inside a transaction");
        return TL_EINVAL;
    }
    tl_err rc = catalogue_ready(
        st, st->ops->put_details && st->ops->put_holdings && st->ops->replace_item, d);
    if (rc != TL_OK)
        return rc;
    double t0 = tl_now();
    marc_ctx c = {.st = st, .rep = rep};
    if (st->ops->cache_limit && (rc = st->ops->cache_limit(st, IMPORT_CACHE_KIB)) != TL_OK)
        return tl__store_fail(st, rc, d);
    rc = tl_marc_read(o, put_marc, &c, &rep->in, d);
    if (rc == TL_OK && !c.begun) { /* no good record: a failed export, and a new store goes */
        tl_diag_set(d, o->path, 0, NULL,
                    rep->in.records ? "every record is bad: nothing to import"
                                    : "no records: nothing to import");
        rc = TL_EPARSE;
    }
    if (rc == TL_OK) {
        if ((rc = tl_store_commit(st)) != TL_OK)
            tl__store_fail(st, rc, d);
        else
            rep->committed = 1;
    } else if (c.begun) {
        tl_store_rollback(st);
    }
    if (!rep->committed)
        rep->added = rep->updated = rep->unchanged = rep->holdings = 0;
    if (st->ops->cache_limit)
        st->ops->cache_limit(st, 0); /* back to the default for what the caller does next */
    rep->seconds = tl_now() - t0;
    return rc;
}

tl_err tl_store_item_details(tl_store *st, const char *id, size_t len, tl_store_details_fn fn,
                             void *ctx, int *found, tl_diag *d)
{
    *found = 0;
    tl_err rc = catalogue_ready(st, st->ops->get_details != NULL, d);
    if (rc == TL_OK)
        rc = st->ops->get_details(st, id, len, fn, ctx, found);
    return rc == TL_ESTORE || rc == TL_ENOMEM ? tl__store_fail(st, rc, d) : rc;
}

tl_err tl_store_works_each(tl_store *st, tl_store_row_fn fn, void *ctx, tl_diag *d)
{
    tl_err rc = catalogue_ready(st, st->ops->works_each != NULL, d);
    if (rc == TL_OK)
        rc = st->ops->works_each(st, fn, ctx);
    return rc == TL_ESTORE || rc == TL_ENOMEM ? tl__store_fail(st, rc, d) : rc;
}

tl_err tl_store_item_holdings(tl_store *st, const char *id, size_t len, tl_store_holding_fn fn,
                              void *ctx, tl_diag *d)
{
    tl_err rc = catalogue_ready(st, st->ops->get_holdings != NULL, d);
    if (rc == TL_OK)
        rc = st->ops->get_holdings(st, id, len, fn, ctx);
    return rc == TL_ESTORE || rc == TL_ENOMEM ? tl__store_fail(st, rc, d) : rc;
}
