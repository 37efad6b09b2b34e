/* The patrons a demo may be shown as: those with the most events, read through a pooled read
 * connection. */
#include "service/service_int.h"

typedef struct patron_ctx {
    tl_patron_fn fn;
    void *ctx;
} patron_ctx;

static tl_err on_row(void *ctx, const char *key, const char *label, int64_t count)
{
    patron_ctx *c = ctx;
    (void)label;
    return c->fn(c->ctx, key, (long long)count);
}

tl_err tl_service_list_patrons(tl_service *s, int limit, tl_patron_fn fn, void *ctx,
                               int *pseudonymized, tl_diag *d)
{
    *pseudonymized = s->has_pkey;
    if (!s->db) {
        tl_diag_set(d, NULL, 0, NULL, "no store: the list of patrons needs one (--db)");
        return TL_EUNSUPPORTED;
    }
    if (s->has_pkey || limit <= 0)
        return TL_OK;
    tl_store *st = NULL;
    tl_err rc = tl__service_reader(s, &st, d);
    if (rc != TL_OK)
        return rc;
    patron_ctx c = {fn, ctx};
    rc = tl_store_top_users(st, limit, on_row, &c);
    if (rc == TL_ESTORE && !d->msg[0])
        tl_diag_set(d, NULL, 0, NULL, "store: %s", tl_store_errmsg(st));
    tl__service_reader_done(s, st);
    return rc;
}
