/* One patron's history as training sees it: the patron's events weighted by type and summed
 * (or maxed) per item, read at the moment of the request, for live recommendations. An item the
 * patron last said "Not interested" in (a skip after every event that weighs) is reported with
 * weight 0, so that the service keeps it out of what it suggests. */
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

typedef struct group {
    const tl_event_weights *w;
    const tl_history_context *cx; /* NULL: none */
    tl_store_history_fn fn;
    void *ctx;
    char *item; /* the item being summed (a copy: the engine's text lives one row) */
    size_t len, cap;
    float weight;
    int64_t ts;
    int64_t last_positive, last_skip; /* INT64_MIN: none */
    int open;
} group;

static tl_err flush(group *g)
{
    tl_err rc = TL_OK;
    int dismissed = g->last_skip != INT64_MIN && g->last_skip >= g->last_positive;
    if (g->open && dismissed)
        rc = g->fn(g->ctx, g->item, g->len, 0.0f, g->ts);
    else if (g->open && g->weight > 0)
        rc = g->fn(g->ctx, g->item, g->len, g->weight, g->ts);
    g->open = 0;
    return rc;
}

/* How much the request's context makes one event weigh: boost for each of device, channel and
 * branch the request gives and the event shares. */
static float context_factor(const tl_history_context *cx, const char *const where[3])
{
    const char *want[3] = {cx->device, cx->channel, cx->branch};
    float f = 1.0f;
    for (int k = 0; k < 3; k++)
        if (want[k] && where[k] && strcmp(want[k], where[k]) == 0)
            f *= cx->boost;
    return f;
}

static tl_err on_event(void *ctx, const char *item, size_t len, const char *type, int has_value,
                       double value, int64_t ts, const char *const where[3])
{
    group *g = ctx;
    tl_err rc;
    if (g->cx && g->cx->until > 0 && ts > g->cx->until)
        return TL_OK; /* after the moment the request is about */
    if (!g->open || len != g->len || memcmp(item, g->item, len) != 0) {
        if ((rc = flush(g)) != TL_OK)
            return rc;
        if (len + 1 > g->cap) {
            char *p = realloc(g->item, len + 1);
            if (!p)
                return TL_ENOMEM;
            g->item = p;
            g->cap = len + 1;
        }
        memcpy(g->item, item, len);
        g->item[len] = '\0';
        g->len = len;
        g->weight = 0;
        g->ts = ts;
        g->last_positive = g->last_skip = INT64_MIN;
        g->open = 1;
    }
    if (type && strcmp(type, TL_EVENT_DISMISS) == 0) {
        g->last_skip = ts > g->last_skip ? ts : g->last_skip;
        return TL_OK; /* never evidence of interest, whatever the weights table says */
    }
    float x = tl_event_weight_of(g->w, type ? type : "", has_value, value);
    if (x > 0 && ts > g->last_positive)
        g->last_positive = ts;
    if (g->cx && g->cx->boost > 0 && x > 0)
        x *= context_factor(g->cx, where);
    g->weight = g->w->merge_max ? (x > g->weight ? x : g->weight) : g->weight + x;
    g->ts = ts > g->ts ? ts : g->ts;
    return TL_OK;
}

tl_err tl_store_user_history(tl_store *st, const char *user, size_t len, const tl_event_weights *w,
                             const tl_history_context *cx, tl_store_history_fn fn, void *ctx,
                             int *found, int *personalize, tl_diag *d)
{
    if (!st->ops->user_events) {
        tl_diag_set(d, NULL, 0, NULL, "the %s store cannot read one patron's events",
                    st->ops->name);
        return TL_EUNSUPPORTED;
    }
    group g = {.w = w, .cx = cx, .fn = fn, .ctx = ctx};
    *found = 0;
    *personalize = 1;
    char pseudo[TL_PATRON_REF_SIZE];
    user = tl__store_patron(st, user, len, pseudo, &len);
    tl_err rc = st->ops->user_events(st, user, len, found, personalize, on_event, &g);
    if (rc == TL_OK)
        rc = flush(&g);
    free(g.item);
    return rc == TL_ESTORE || rc == TL_ENOMEM ? tl__store_fail(st, rc, d) : rc;
}
