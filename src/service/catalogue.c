/* An item's catalogue details and copies (the MARC import's item_details and holdings), read
 * through a pooled read connection for the API's item endpoint. A library of a consortium sees
 * its own copies only (tenants.c). */
#include <string.h>

#include "service/service_int.h"

typedef struct own_copies {
    tl_holding_fn fn;
    void *ctx;
    char **branches; /* the library's; n 0: every copy */
    int n;
} own_copies;

static tl_err own_copy(void *ctx, const tl_holding_rec *h)
{
    own_copies *o = ctx;
    for (int k = 0; k < o->n; k++)
        if (h->branch && strcmp(h->branch, o->branches[k]) == 0)
            return o->fn(o->ctx, h);
    return o->n ? TL_OK : o->fn(o->ctx, h);
}

tl_err tl_service_item_catalogue(tl_service *s, const char *id, tl_details_fn dfn,
                                 tl_holding_fn hfn, void *ctx, tl_diag *d)
{
    tl_store *st = NULL;
    int found = 0;
    if (!s->db) {
        tl_diag_set(d, NULL, 0, NULL, "no store: records need one (--db)");
        return TL_EUNSUPPORTED;
    }
    own_copies o = {.fn = hfn, .ctx = ctx};
    tl_err rc = tl__tenant_branches(s, &o.branches, &o.n);
    if (rc == TL_OK && (rc = tl__service_reader(s, &st, d)) == TL_OK) {
        size_t len = strlen(id);
        rc = tl_store_item_details(st, id, len, dfn, ctx, &found, d);
        if (rc == TL_OK)
            rc = tl_store_item_holdings(st, id, len, own_copy, &o, d);
        tl__service_reader_done(s, st);
    }
    tl__tenant_branches_free(o.branches, o.n);
    return rc;
}
