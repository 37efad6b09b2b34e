/* The recommendation routes' query strings (rec_params.h). libmicrohttpd splits the query at
 * '&' and '=' and leaves the %-escapes (server.c keeps them), so each key and value is decoded
 * here, into the request's arena. */
#include "server/rec_params.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/http_json.h"

#define DEFAULT_N 10
#define DEFAULT_ROWS 6
#define STR_(x) #x
#define STR(x) STR_(x)

/* The catalogue fields that may be given as parameters of their own, as filters. */
static const char *const direct_filters[] = {"type", "format", "language", "subject", "year"};

typedef struct parse_ctx {
    tl_req *r;
    tl_params_route route;
    tl_rec_params *p;
    const char *bad_field; /* the first error: its field, in the arena, and why */
    const char *why;
} parse_ctx;

static int fail(parse_ctx *c, const char *field, const char *why)
{
    c->bad_field = field;
    c->why = why;
    return MHD_NO;
}

static char *decode(tl_req *r, const char *s)
{
    size_t n = strlen(s);
    char *out = tl__req_alloc(r, n + 1);
    return out && tl__percent_decode(s, n, 1, out) >= 0 ? out : NULL;
}

static int parse_bool(const char *v, int *out)
{
    if (!*v || !strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes"))
        return *out = 1, 0;
    if (!strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "no"))
        return *out = 0, 0;
    return -1;
}

static int add_filter(parse_ctx *c, const char *field, const char *text)
{
    if (c->p->n_filters == TL_REQ_MAX_FILTERS)
        return fail(c, field, "too many filters");
    c->p->filters[c->p->n_filters++] = text;
    return MHD_YES;
}

static int whole(const char *v, long lo, long hi, int *out)
{
    char *end;
    long x = strtol(v, &end, 10);
    if (!*v || *end || strspn(v, "0123456789") != strlen(v) || x < lo || x > hi)
        return -1;
    *out = (int)x;
    return 0;
}

/* A decimal fraction from 0 to 1 ("0.7", "1", ".5"): digits and one point only. */
static int fraction(const char *v, float *out)
{
    char *end;
    if (!*v || strspn(v, "0123456789.") != strlen(v))
        return -1;
    double x = strtod(v, &end);
    if (*end || !(x >= 0.0 && x <= 1.0))
        return -1;
    *out = (float)x;
    return 0;
}

/* The re-rankers' parameters: 1 when k is one of them (taken, or failed), 0 when not. */
static int rerankers(parse_ctx *c, const char *k, const char *v, enum MHD_Result *res)
{
    tl_rerank *rr = &c->p->rerank;
    if (!strcmp(k, "diversify")) {
        rr->mmr = 1;
        *res = fraction(v, &rr->lambda)
                   ? fail(c, k, "must be MMR's lambda, a number from 0 to 1 (1 = relevance alone)")
                   : MHD_YES;
        return 1;
    }
    if (!strcmp(k, "calibrate")) {
        rr->calibrate = 1;
        *res = fraction(v, &rr->cal_lambda)
                   ? fail(c, k, "must be a number from 0 to 1 (0 = relevance alone)")
                   : MHD_YES;
        return 1;
    }
    if (!strcmp(k, "all_editions")) {
        *res = whole(v, 0, 1, &rr->all_editions)
                   ? fail(c, k, "must be 1 (every edition of a work) or 0 (one entry per work)")
                   : MHD_YES;
        return 1;
    }
    if (!strcmp(k, "max_per_author")) {
        *res = whole(v, 0, TL_RERANK_MAX_N, &rr->max_per_author)
                   ? fail(c, k, "must be a whole number from 0 (no cap) to " STR(TL_RERANK_MAX_N))
                   : MHD_YES;
        return 1;
    }
    return 0;
}

/* model= and the context, which every route of recommendations takes: 1 when k is one of
 * them (taken, or failed), 0 when not. */
static int common(parse_ctx *c, const char *k, const char *v, enum MHD_Result *res)
{
    tl_rec_context *cx = &c->p->context;
    const char **text = !strcmp(k, "model")     ? &c->p->model
                        : !strcmp(k, "device")  ? &cx->device
                        : !strcmp(k, "channel") ? &cx->channel
                        : !strcmp(k, "branch")  ? &cx->branch
                                                : NULL;
    if (text) {
        *res = *v ? MHD_YES : fail(c, k, "needs a value");
        *text = v;
        return 1;
    }
    if (!strcmp(k, "time")) {
        int64_t t;
        *res = MHD_YES;
        if (tl_parse_time(v, strlen(v), &t) != 0 || t <= 0)
            *res = fail(c, "time",
                        "must be Unix seconds or an ISO 8601 date or time after 1970 "
                        "(2026-03-01, 2026-03-01T18:30:00Z)");
        cx->time = t;
        return 1;
    }
    return 0;
}

static enum MHD_Result one(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    parse_ctx *c = cls;
    (void)kind;
    char *k = decode(c->r, key), *v = decode(c->r, value ? value : "");
    if (!k || !v)
        return fail(c, k ? k : "query", "is not valid UTF-8 text with %-escapes, or too long");
    enum MHD_Result res;
    if (common(c, k, v, &res))
        return res;
    if (c->route == TL_PARAMS_HOME) {
        if (!strcmp(k, "rows"))
            return whole(v, 1, TL_HOME_MAX_ROWS, &c->p->rows)
                       ? fail(c, "rows", "must be a whole number from 1 to " STR(TL_HOME_MAX_ROWS))
                       : MHD_YES;
        if (!strcmp(k, "n"))
            return whole(v, 1, TL_HOME_MAX_N, &c->p->n)
                       ? fail(c, "n", "must be a whole number from 1 to " STR(TL_HOME_MAX_N))
                       : MHD_YES;
        return fail(c, k,
                    "is not a parameter of this route (rows, n, model, device, channel, branch, "
                    "time)");
    }
    if (!strcmp(k, "n"))
        return whole(v, 1, TL_REC_MAX_N, &c->p->n)
                   ? fail(c, "n", "must be a whole number from 1 to " STR(TL_REC_MAX_N))
                   : MHD_YES;
    if (rerankers(c, k, v, &res))
        return res;
    if (!strcmp(k, "explain"))
        return parse_bool(v, &c->p->explain) ? fail(c, "explain", "must be 1 or 0") : MHD_YES;
    if (!strcmp(k, "prefer_shelf"))
        return parse_bool(v, &c->p->prefer_shelf) ? fail(c, k, "must be 1 or 0") : MHD_YES;
    if (!strcmp(k, "filter"))
        return *v ? add_filter(c, "filter", v) : fail(c, "filter", "must be KEY=VALUE");
    if (!strcmp(k, "available")) {
        int on;
        if (parse_bool(v, &on))
            return fail(c, "available", "must be 1 or 0");
        return on ? add_filter(c, "available", "available") : MHD_YES;
    }
    for (size_t i = 0; i < sizeof(direct_filters) / sizeof(direct_filters[0]); i++) {
        if (strcmp(k, direct_filters[i]) != 0)
            continue;
        size_t len = strlen(k) + strlen(v) + 2;
        char *f = tl__req_alloc(c->r, len);
        if (!f)
            return fail(c, k, "the query is too long");
        snprintf(f, len, "%s=%s", k, v);
        return *v ? add_filter(c, k, f) : fail(c, k, "needs a value");
    }
    return fail(c, k,
                "is not a parameter of this route (n, explain, model, device, channel, branch, "
                "time, filter, type, format, language, subject, year, available, diversify, "
                "calibrate, max_per_author, all_editions, prefer_shelf)");
}

int tl__rec_params_parse(tl_req *r, tl_params_route route, tl_rec_params *p)
{
    memset(p, 0, sizeof(*p));
    p->n = DEFAULT_N;
    p->rows = DEFAULT_ROWS;
    p->explain = 1; /* every item carries its evidence unless the client says not to */
    p->prefer_shelf = 1;
    parse_ctx c = {r, route, p, NULL, NULL};
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, one, &c);
    if (!c.why)
        return 0;
    tl__reply_error(r, 400, "invalid", c.bad_field, -1, "%s %s", c.bad_field, c.why);
    return -1;
}
