/* The patrons a demo may be shown as: those with the most events, read through a pooled read
 * connection; for a request of a library (tenancy), its own patrons, by the ids it knows them
 * by. */
#include <string.h>

#include "service/service_int.h"

#define TENANT_SCAN 20 /* a library's patrons are looked for among this many times the limit */

typedef struct patron_ctx {
    tl_patron_fn fn;
    void *ctx;
    const char *tenant; /* "": every patron */
    int left;           /* patrons still to give */
} patron_ctx;

static tl_err on_row(void *ctx, const char *key, const char *label, int64_t count)
{
    patron_ctx *c = ctx;
    (void)label;
    size_t n = strlen(c->tenant);
    if (n && !(tl__tenant_owns(key) && strlen(key) > n))
        return TL_OK;
    if (c->left-- <= 0)
        return TL_OK;
    return c->fn(c->ctx, n ? key + n + 1 : key, (long long)count);
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
    patron_ctx c = {fn, ctx, tl_store_tenant(), limit};
    int scan = !c.tenant[0] ? limit : limit > 10000 / TENANT_SCAN ? 10000 : limit * TENANT_SCAN;
    rc = tl_store_top_users(st, scan, on_row, &c);
    if (rc == TL_ESTORE && !d->msg[0])
        tl_diag_set(d, NULL, 0, NULL, "store: %s", tl_store_errmsg(st));
    tl__service_reader_done(s, st);
    return rc;
}
