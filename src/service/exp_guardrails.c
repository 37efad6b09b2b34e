/* An experiment's guardrails from the impressions log: per arm, the share of the catalogue its
 * patrons were shown (coverage) and the share of the shown items outside the most-borrowed
 * fifth of the catalogue (long-tail share; by events of any type when the store has no loans).
 * A report's scan, never a request's. */
#include <stdlib.h>
#include <string.h>

#include "service/exp_int.h"
#include "util/intern.h"

#define HEAD_SHARE 0.2 /* the head: this share of the catalogue, the most-borrowed */

typedef struct guard_job {
    const char *name;
    const char (*arm)[TL_EXP_NAME_MAX + 1];
    int n_arms;
    int64_t until; /* 0: running */
    tl_intern counted, head, shown;
    int64_t *loans, *events; /* per item of counted */
    size_t counts_cap;
    int64_t all_loans;
    uint8_t *seen; /* per shown item: a bit per arm that showed it */
    size_t seen_cap;
    int64_t impressions[TL_EXP_MAX_ARMS], shows[TL_EXP_MAX_ARMS], tail[TL_EXP_MAX_ARMS],
        distinct[TL_EXP_MAX_ARMS];
    tl_err rc;
} guard_job;

static tl_err count_item(void *ctx, const char *item, const char *type, int64_t count)
{
    guard_job *j = ctx;
    int32_t at;
    tl_err rc = tl_intern_add(&j->counted, item, strlen(item), &at);
    if (rc != TL_OK)
        return rc;
    if ((size_t)at >= j->counts_cap) {
        size_t cap = j->counts_cap ? 2 * j->counts_cap : 1024;
        int64_t *l = realloc(j->loans, cap * sizeof(*l));
        if (l)
            j->loans = l;
        int64_t *e = l ? realloc(j->events, cap * sizeof(*e)) : NULL;
        if (!e)
            return TL_ENOMEM;
        j->events = e;
        memset(j->loans + j->counts_cap, 0, (cap - j->counts_cap) * sizeof(*l));
        memset(j->events + j->counts_cap, 0, (cap - j->counts_cap) * sizeof(*e));
        j->counts_cap = cap;
    }
    int loan = type && strcmp(type, "loan") == 0;
    j->loans[at] += loan ? count : 0;
    j->all_loans += loan ? count : 0;
    j->events[at] += count;
    return TL_OK;
}

typedef struct ranked {
    int64_t n;
    const char *item;
} ranked;

/* Most first, ties by id. */
static int most_first(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    return x->n != y->n ? (x->n < y->n ? 1 : -1) : strcmp(x->item, y->item);
}

/* The arm index of experiment j->name in an impression's joined columns, -1 when not in it. */
static int arm_index(const guard_job *j, const char *exps, const char *arms)
{
    size_t len = strlen(j->name);
    while (exps && arms) {
        size_t n = strcspn(exps, ","), m = strcspn(arms, ",");
        if (n == len && strncmp(exps, j->name, n) == 0) {
            for (int k = 0; k < j->n_arms; k++)
                if (strlen(j->arm[k]) == m && strncmp(arms, j->arm[k], m) == 0)
                    return k;
            return -1;
        }
        exps = exps[n] ? exps + n + 1 : NULL;
        arms = arms[m] ? arms + m + 1 : NULL;
    }
    return -1;
}

static tl_err on_impression(void *ctx, const tl_store_impression *imp,
                            const tl_store_imp_reward *rw, int n_rw)
{
    (void)rw;
    (void)n_rw;
    guard_job *j = ctx;
    if (j->until && imp->ts > j->until)
        return TL_OK;
    int k = arm_index(j, imp->experiment, imp->arm);
    if (k < 0)
        return TL_OK;
    j->impressions[k]++;
    for (int i = 0; i < imp->n_items; i++) {
        const char *item = imp->items[i].item;
        int32_t at;
        tl_err rc = tl_intern_add(&j->shown, item, strlen(item), &at);
        if (rc != TL_OK)
            return rc;
        if ((size_t)at >= j->seen_cap) {
            size_t cap = j->seen_cap ? 2 * j->seen_cap : 4096;
            while (cap <= (size_t)at)
                cap *= 2;
            uint8_t *g = realloc(j->seen, cap);
            if (!g)
                return TL_ENOMEM;
            memset(g + j->seen_cap, 0, cap - j->seen_cap);
            j->seen = g;
            j->seen_cap = cap;
        }
        if (!(j->seen[at] & (1u << k))) {
            j->seen[at] |= (uint8_t)(1u << k);
            j->distinct[k]++;
        }
        j->shows[k]++;
        j->tail[k] += tl_intern_find(&j->head, item, strlen(item)) < 0;
    }
    return TL_OK;
}

static json_t *share(int64_t part, int64_t whole)
{
    return whole > 0 ? json_real((double)part / (double)whole) : json_null();
}

tl_err tl__exp_guardrails(tl_store *st, const char *name, const char (*arm)[TL_EXP_NAME_MAX + 1],
                          int n_arms, int64_t from, int64_t until, json_t **out, tl_diag *d)
{
    *out = NULL;
    guard_job j = {.name = name, .arm = arm, .n_arms = n_arms, .until = until};
    tl_intern_init(&j.counted);
    tl_intern_init(&j.head);
    tl_intern_init(&j.shown);
    tl_store_counts counts;
    tl_err rc = tl_store_count(st, &counts);
    if (rc == TL_OK)
        rc = tl_store_item_counts_since(st, 0, count_item, &j);
    int64_t head = 0;
    int32_t n = j.counted.count;
    ranked *order = malloc(((size_t)n + 1) * sizeof(*order));
    if (rc == TL_OK && !order)
        rc = TL_ENOMEM;
    if (rc == TL_OK) { /* by loans; by events when the store has none */
        for (int32_t k = 0; k < n; k++)
            order[k] =
                (ranked){j.all_loans ? j.loans[k] : j.events[k], tl_intern_str(&j.counted, k)};
        qsort(order, (size_t)n, sizeof(*order), most_first);
        int64_t want = (int64_t)((double)counts.items * HEAD_SHARE + 0.5);
        for (int32_t k = 0; rc == TL_OK && k < n && head < want; k++, head++) {
            int32_t at;
            rc = tl_intern_add(&j.head, order[k].item, strlen(order[k].item), &at);
        }
    }
    free(order);
    if (rc == TL_OK)
        rc = tl_store_impressions_shown(st, from, on_impression, &j, d);
    if (rc == TL_OK) {
        json_t *cov = json_object(), *tail = json_object(), *imps = json_object();
        for (int k = 0; k < n_arms; k++) {
            json_object_set_new(cov, arm[k], share(j.distinct[k], counts.items));
            json_object_set_new(tail, arm[k], head ? share(j.tail[k], j.shows[k]) : json_null());
            json_object_set_new(imps, arm[k], json_integer(j.impressions[k]));
        }
        *out = json_pack("{s:o,s:o,s:n,s:o,s:I,s:I,s:s}", "coverage", cov, "long_tail_share", tail,
                         "latency_ms", "impressions", imps, "catalogue_items",
                         (json_int_t)counts.items, "head_items", (json_int_t)head, "head_by",
                         j.all_loans ? "loans" : "events");
        if (!*out)
            rc = TL_ENOMEM;
    }
    free(j.loans);
    free(j.events);
    free(j.seen);
    tl_intern_release(&j.counted);
    tl_intern_release(&j.head);
    tl_intern_release(&j.shown);
    return rc;
}
