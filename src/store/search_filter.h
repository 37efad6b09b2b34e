/* The search filters' SQL over items i, written once for both engines (search_filter.c): each
 * engine says how its SQL names a bound value and the library's branches. */
#ifndef TL_STORE_SEARCH_FILTER_H
#define TL_STORE_SEARCH_FILTER_H

#include <stddef.h>

#include "tailor/store.h"

/* A growing SQL text; oom set (and further appends ignored) when memory ran out. */
typedef struct tl_sqlbuf {
    char *s;
    size_t n, cap;
    int oom;
} tl_sqlbuf;
void tl_sqlbuf_putn(tl_sqlbuf *b, const char *t, size_t k);
void tl_sqlbuf_put(tl_sqlbuf *b, const char *t);

/* An item's copies on the shelf: 1, 0, or NULL when it has neither copies nor counts. */
#define TL_AVAIL_SQL                                                                               \
    "coalesce((SELECT max(h.available) FROM holdings h WHERE h.item_id = i.id),"                   \
    " CASE WHEN i.available > 0 THEN 1 WHEN i.available = 0 THEN 0 END)"

typedef struct tl_filter_dialect {
    const char *find; /* find(text, part) > 0 when part is in text: "instr", "strpos" */
    /* Binds value as the next value; name (len bytes) = how the SQL names it. 0, else ENOMEM. */
    int (*value)(void *ctx, const char *value, char *name, size_t len);
    /* Binds the library's branches[0..n) (n > 0); cond (len bytes) = an SQL condition true when
     * h.branch is one of them. 0, else ENOMEM. */
    int (*held)(void *ctx, const char *const *branches, int n, char *cond, size_t len);
    void *ctx;
} tl_filter_dialect;

/* Appends to b the conditions of q's filters (" AND (...)" each) and of its library's
 * branches (held_at), binding their values through e. TL_EINVAL with d (field "filter") for a
 * bad filter; TL_ENOMEM. */
tl_err tl__search_filter_sql(const tl_store_search_q *q, const tl_filter_dialect *e, tl_sqlbuf *b,
                             tl_diag *d);

#endif
