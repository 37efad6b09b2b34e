/* An experiment's guardrails from the impressions log: per arm, the share of the catalogue its
 * patrons were shown (coverage) and the share of the shown items outside the most-borrowed
 * fifth of the catalogue (long-tail share). A report's scan, never a request's. */
#include <stdlib.h>
#include <string.h>

#include "service/exp_int.h"
#include "util/intern.h"

#define HEAD_SHARE 0.2 /* the head: this share of the catalogue, the most-borrowed */

typedef struct loans {
    char *item;
    int64_t n;
} loans;

typedef struct guard_job {
    const char *name;
    const char (*arm)[TL_EXP_NAME_MAX + 1];
    int n_arms;
    int64_t until; /* 0: running */
    loans *by_item;
    size_t n_items, cap;
    tl_intern head, shown;
    uint8_t *seen; /* per shown item: a bit per arm that showed it */
    size_t seen_cap;
    int64_t impressions[TL_EXP_MAX_ARMS], shows[TL_EXP_MAX_ARMS], tail[TL_EXP_MAX_ARMS],
        distinct[TL_EXP_MAX_ARMS];
    tl_err rc;
} guard_job;

static tl_err count_loans(void *ctx, const char *item, const char *type, int64_t count)
{
    guard_job *j = ctx;
    if (!type || strcmp(type, "loan") != 0)
        return TL_OK;
    if (j->n_items == j->cap) {
        size_t cap = j->cap ? 2 * j->cap : 1024;
        loans *g = realloc(j->by_item, cap * sizeof(*g));
        if (!g)
            return TL_ENOMEM;
        j->by_item = g;
        j->cap = cap;
    }
    if (!(j->by_item[j->n_items].item = strdup(item)))
        return TL_ENOMEM;
    j->by_item[j->n_items++].n = count;
    return TL_OK;
}

static int most_first(const void *a, const void *b)
{
    const loans *x = a, *y = b;
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
    tl_intern_init(&j.head);
    tl_intern_init(&j.shown);
    tl_store_counts counts;
    tl_err rc = tl_store_count(st, &counts);
    if (rc == TL_OK)
        rc = tl_store_item_counts_since(st, 0, count_loans, &j);
    int64_t head = 0;
    if (rc == TL_OK) {
        qsort(j.by_item, j.n_items, sizeof(*j.by_item), most_first);
        int64_t want = (int64_t)((double)counts.items * HEAD_SHARE + 0.5);
        for (size_t k = 0; rc == TL_OK && k < j.n_items && head < want; k++, head++) {
            int32_t at;
            rc = tl_intern_add(&j.head, j.by_item[k].item, strlen(j.by_item[k].item), &at);
        }
    }
    if (rc == TL_OK)
        rc = tl_store_impressions_shown(st, from, on_impression, &j, d);
    if (rc == TL_OK) {
        json_t *cov = json_object(), *tail = json_object(), *imps = json_object();
        for (int k = 0; k < n_arms; k++) {
            json_object_set_new(cov, arm[k], share(j.distinct[k], counts.items));
            json_object_set_new(tail, arm[k], head ? share(j.tail[k], j.shows[k]) : json_null());
            json_object_set_new(imps, arm[k], json_integer(j.impressions[k]));
        }
        *out = json_pack("{s:o,s:o,s:n,s:o,s:I,s:I}", "coverage", cov, "long_tail_share", tail,
                         "latency_ms", "impressions", imps, "catalogue_items",
                         (json_int_t)counts.items, "head_items", (json_int_t)head);
        if (!*out)
            rc = TL_ENOMEM;
    }
    for (size_t k = 0; k < j.n_items; k++)
        free(j.by_item[k].item);
    free(j.by_item);
    free(j.seen);
    tl_intern_release(&j.head);
    tl_intern_release(&j.shown);
    return rc;
}
