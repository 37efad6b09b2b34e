/* The impressions export (docs/IMPRESSIONS.md, the format of exp_shared): one TSV line per
 * decision, with its candidates, context and attributed reward; and the log's counts. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service/imp_int.h"
#include "service/service_int.h"

static const char header[] = "impression_id\tts\tuser\tpolicy\tpolicy_version\texperiment\tarm\t"
                             "decision\tchosen\tpropensity\tcandidates\tcontext\treward\n";

static const char *policy_name(int p)
{
    return p == TL_ROW_POLICY_BANDIT ? "bandit" : "fixed";
}

/* The reward of a decision's row: each event joined to an item shown in it counts 1, weighted
 * by tl_position_weight of the item's position in the row (a view counts half). */
static double row_reward(const tl_store_imp_reward *rw, int n, int row)
{
    double r = 0;
    for (int k = 0; k < n; k++)
        if (rw[k].row == row)
            r += (strcmp(rw[k].type, "view") == 0 ? 0.5 : 1.0) * tl_position_weight(rw[k].position);
    return r;
}

typedef struct export_ctx {
    tl_line_fn fn;
    void *ctx;
    char *line;
    size_t cap;
} export_ctx;

static tl_err put(export_ctx *e, size_t *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static tl_err put(export_ctx *e, size_t *at, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(e->line + *at, e->cap - *at, fmt, ap);
        va_end(ap);
        if (n < 0)
            return TL_EINVAL;
        if (*at + (size_t)n < e->cap) {
            *at += (size_t)n;
            return TL_OK;
        }
        char *g = realloc(e->line, e->cap * 2 + (size_t)n);
        if (!g)
            return TL_ENOMEM;
        e->line = g;
        e->cap = e->cap * 2 + (size_t)n;
    }
}

static tl_err on_impression(void *ctx, const tl_store_impression *imp,
                            const tl_store_imp_reward *rw, int n_rw)
{
    export_ctx *e = ctx;
    tl__imp_ctx c = {imp->weekday, imp->exam, imp->term, imp->mobile, imp->activity, {0}};
    tl__imp_ctx_vector(&c);
    tl_err rc = TL_OK;
    for (int k = 0; rc == TL_OK && k < imp->n_rows; k++) {
        const tl_store_imp_row *r = &imp->rows[k];
        size_t at = 0;
        rc = put(e, &at, "%lld\t%lld\t%s\t%s\t%lld\t%s\t%s\t%d\t%s\t%.6g\t", (long long)imp->id,
                 (long long)imp->ts, imp->user ? imp->user : "", policy_name(imp->policy),
                 (long long)imp->policy_version, imp->experiment ? imp->experiment : "",
                 imp->arm ? imp->arm : "", k, tl__kind_name(r->kind), r->propensity);
        const char *sep = "";
        for (int kind = 0; rc == TL_OK && kind < TL__KINDS; kind++)
            if (r->candidates & (1u << kind)) {
                rc = put(e, &at, "%s%s", sep, tl__kind_name(kind));
                sep = ",";
            }
        for (int j = 0; rc == TL_OK && j < TL_CTX_DIM; j++)
            rc = put(e, &at, "%s%.6g", j ? "," : "\t", c.x[j]);
        /* the one decision of a list answer: every reward of the answer */
        double reward =
            imp->surface == TL__SURFACE_HOME ? row_reward(rw, n_rw, k) : row_reward(rw, n_rw, 0);
        if (rc == TL_OK)
            rc = put(e, &at, "\t%.6g\n", reward);
        if (rc == TL_OK)
            rc = e->fn(e->ctx, e->line, at);
    }
    return rc;
}

/* A reader of s's store at schema version 9 or later. */
static tl_err imp_reader(tl_service *s, tl_store **st, tl_diag *d)
{
    tl_err rc = tl__service_need_store(s, d);
    if (rc == TL_OK)
        rc = tl__service_reader(s, st, d);
    return rc;
}

tl_err tl_service_impressions_export(tl_service *s, long long since, tl_line_fn fn, void *ctx,
                                     tl_diag *d)
{
    tl_store *st;
    if (tl__imp_logging(s))
        tl_service_impressions_flush(s, d); /* what is still queued belongs in the export */
    tl_diag_clear(d);
    tl_err rc = imp_reader(s, &st, d);
    if (rc != TL_OK)
        return rc;
    export_ctx e = {.fn = fn, .ctx = ctx, .cap = 512};
    if (!(e.line = malloc(e.cap)))
        rc = TL_ENOMEM;
    if (rc == TL_OK)
        rc = fn(ctx, header, sizeof(header) - 1);
    if (rc == TL_OK)
        rc = tl_store_impressions_each(st, since, NULL, on_impression, &e, d);
    free(e.line);
    tl__service_reader_done(s, st);
    return rc;
}

static tl_err on_count(void *ctx, const tl_store_impression *imp, const tl_store_imp_reward *rw,
                       int n_rw)
{
    (void)rw;
    tl_impression_stats *o = ctx;
    o->impressions++;
    o->anonymous += !imp->user || !*imp->user;
    o->decisions += imp->n_rows;
    o->items += imp->n_items;
    o->rewards += n_rw;
    o->rewarded += n_rw > 0;
    if (imp->surface == TL__SURFACE_HOME)
        o->by_policy[imp->policy == TL_ROW_POLICY_BANDIT]++;
    return TL_OK;
}

tl_err tl_service_impressions_stats(tl_service *s, tl_impression_stats *out, tl_diag *d)
{
    memset(out, 0, sizeof(*out));
    out->bandit_updates = -1;
    tl_store *st;
    if (tl__imp_logging(s))
        tl_service_impressions_flush(s, d);
    tl_diag_clear(d);
    tl_err rc = imp_reader(s, &st, d);
    if (rc != TL_OK)
        return rc;
    rc = tl_store_impressions_each(st, 0, NULL, on_count, out, d);
    unsigned char *img = NULL;
    size_t len;
    int64_t version;
    int found = 0;
    if (rc == TL_OK &&
        (rc = tl_store_learner_get(st, "rows", &img, &len, &version, &found, d)) == TL_OK && found)
        out->bandit_updates = version;
    free(img);
    tl__service_reader_done(s, st);
    return rc;
}
