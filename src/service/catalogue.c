/* An item's catalogue details and copies (the MARC import's item_details and holdings), read
 * through a pooled read connection for the API's item endpoint. */
#include <string.h>

#include "service/service_int.h"

tl_err tl_service_item_catalogue(tl_service *s, const char *id, tl_details_fn dfn,
                                 tl_holding_fn hfn, void *ctx, tl_diag *d)
{
    tl_store *st = NULL;
    int found = 0;
    if (!s->db) {
        tl_diag_set(d, NULL, 0, NULL, "no store: records need one (--db)");
        return TL_EUNSUPPORTED;
    }
    tl_err rc = tl__service_reader(s, &st, d);
    if (rc != TL_OK)
        return rc;
    size_t len = strlen(id);
    rc = tl_store_item_details(st, id, len, dfn, ctx, &found, d);
    if (rc == TL_OK)
        rc = tl_store_item_holdings(st, id, len, hfn, ctx, d);
    tl__service_reader_done(s, st);
    return rc;
}
