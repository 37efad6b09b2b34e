/* The search filters' SQL, one writer for both engines (search_filter.h). */
#include "store/search_filter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/filter.h"

void tl_sqlbuf_putn(tl_sqlbuf *b, const char *t, size_t k)
{
    if (b->oom)
        return;
    if (b->n + k + 1 > b->cap) {
        size_t cap = (b->n + k + 1) * 2;
        char *s = realloc(b->s, cap);
        if (!s) {
            b->oom = 1;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
    memcpy(b->s + b->n, t, k);
    b->n += k;
    b->s[b->n] = '\0';
}

void tl_sqlbuf_put(tl_sqlbuf *b, const char *t)
{
    tl_sqlbuf_putn(b, t, strlen(t));
}

tl_err tl__search_filter_sql(const tl_store_search_q *q, const tl_filter_dialect *e, tl_sqlbuf *b,
                             tl_diag *d)
{
    tl_filter_spec spec;
    memset(&spec, 0, sizeof(spec));
    const char *branches[TL_FILTER_MAX];
    int nb = 0;
    if (q->n_filters > TL_FILTER_MAX) {
        tl_diag_set(d, NULL, 0, "filter", "at most %d filters", TL_FILTER_MAX);
        return TL_EINVAL;
    }
    for (int k = 0; k < q->n_filters; k++) {
        const char *f = q->filters[k] ? q->filters[k] : "";
        if (strncmp(f, "branch=", 7) == 0) {
            if (!f[7]) {
                tl_diag_set(d, NULL, 0, "filter", "branch= needs a branch");
                return TL_EINVAL;
            }
            branches[nb++] = f + 7;
            continue;
        }
        tl_err rc = tl_filter_parse(&spec, f, d);
        if (rc != TL_OK) {
            if (!d->field[0])
                snprintf(d->field, sizeof(d->field), "filter");
            return rc;
        }
    }
    static const char *const col[] = {[TL_FILTER_TYPE] = "i.type",
                                      [TL_FILTER_FORMAT] = "i.format",
                                      [TL_FILTER_LANGUAGE] = "i.language"};
    char name[64], p[320];
    int oom = 0;
    /* the values of one field are alternatives (OR), the fields all hold (AND) */
    for (int field = 0; field < TL_FILTER_NFIELDS; field++) {
        int first = 1;
        for (int k = 0; k < spec.n; k++) {
            const tl_filter_cond *c = &spec.c[k];
            if ((int)c->field != field)
                continue;
            tl_sqlbuf_put(b, first ? " AND (" : " OR ");
            first = 0;
            switch (c->field) {
            case TL_FILTER_TYPE:
            case TL_FILTER_FORMAT:
            case TL_FILTER_LANGUAGE:
                oom |= e->value(e->ctx, c->value, name, sizeof(name));
                snprintf(p, sizeof(p), "lower(%s) = lower(%s)", col[c->field], name);
                break;
            case TL_FILTER_SUBJECT:
                oom |= e->value(e->ctx, c->value, name, sizeof(name));
                snprintf(p, sizeof(p),
                         "%s('|' || lower(i.subjects) || '|', '|' || lower(%s) || '|') > 0",
                         e->find, name);
                break;
            case TL_FILTER_YEAR:
                snprintf(p, sizeof(p), "i.year BETWEEN %d AND %d", (int)c->year_min,
                         (int)c->year_max);
                break;
            default: /* TL_FILTER_AVAILABLE */
                snprintf(p, sizeof(p), "%s", TL_AVAIL_SQL " = 1");
                break;
            }
            tl_sqlbuf_put(b, p);
        }
        if (!first)
            tl_sqlbuf_put(b, ")");
    }
    for (int k = 0; k < nb; k++) { /* a copy at one of the branches named */
        oom |= e->value(e->ctx, branches[k], name, sizeof(name));
        snprintf(p, sizeof(p),
                 "%sEXISTS (SELECT 1 FROM holdings h WHERE h.item_id = i.id AND h.branch = %s)",
                 k ? " OR " : " AND (", name);
        tl_sqlbuf_put(b, p);
    }
    if (nb)
        tl_sqlbuf_put(b, ")");
    if (q->n_held_at > 0) { /* a library's own copies, or none anywhere */
        char cond[160];
        oom |= e->held(e->ctx, q->held_at, q->n_held_at, cond, sizeof(cond));
        snprintf(p, sizeof(p),
                 " AND (NOT EXISTS (SELECT 1 FROM holdings h WHERE h.item_id = i.id)"
                 " OR EXISTS (SELECT 1 FROM holdings h WHERE h.item_id = i.id AND %s))",
                 cond);
        tl_sqlbuf_put(b, p);
    }
    return oom || b->oom ? TL_ENOMEM : TL_OK;
}
