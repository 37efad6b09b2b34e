/* Collection analytics, engine-neutral: checks the store can answer (schema version 5 holds
 * the holdings and search totals) and hands the part to the engine. */
#include "store/store_int.h"

#define ANALYTICS_VERSION 5 /* holdings, search_totals */

tl_err tl_store_analytics(tl_store *st, tl_analytics_part part, const tl_analytics_window *w,
                          tl_analytics_fn fn, void *ctx, tl_diag *d)
{
    tl_err rc =
        tl__store_ready(st, st->ops->analytics != NULL, ANALYTICS_VERSION,
                        "collection analytics (holdings, search totals)", "tailor import", d);
    if (rc != TL_OK)
        return rc;
    if (!w || !fn || w->limit < 0 || w->since > w->until) {
        tl_diag_set(d, NULL, 0, NULL, "collection analytics: the period ends before it starts");
        return TL_EINVAL;
    }
    rc = st->ops->analytics(st, part, w, fn, ctx);
    return rc == TL_ESTORE || rc == TL_ENOMEM ? tl__store_fail(st, rc, d) : rc;
}
