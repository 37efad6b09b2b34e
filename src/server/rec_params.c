/* The recommendation routes' query strings (rec_params.h). libmicrohttpd splits the query at
 * '&' and '=' and leaves the %-escapes (server.c keeps them), so each key and value is decoded
 * here, into the request's arena. */
#include "server/rec_params.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/http_json.h"

#define DEFAULT_N 10
#define STR_(x) #x
#define STR(x) STR_(x)

/* The catalogue fields that may be given as parameters of their own, as filters. */
static const char *const direct_filters[] = {"type", "format", "language", "subject", "year"};

typedef struct parse_ctx {
    tl_req *r;
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

static enum MHD_Result one(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    parse_ctx *c = cls;
    (void)kind;
    char *k = decode(c->r, key), *v = decode(c->r, value ? value : "");
    if (!k || !v)
        return fail(c, k ? k : "query", "is not valid UTF-8 text with %-escapes, or too long");
    if (!strcmp(k, "n")) {
        char *end;
        long n = strtol(v, &end, 10);
        if (!*v || *end || n < 1 || n > TL_REC_MAX_N || strspn(v, "0123456789") != strlen(v))
            return fail(c, "n", "must be a whole number from 1 to " STR(TL_REC_MAX_N));
        c->p->n = (int)n;
        return MHD_YES;
    }
    if (!strcmp(k, "explain"))
        return parse_bool(v, &c->p->explain) ? fail(c, "explain", "must be 1 or 0") : MHD_YES;
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
                "is not a parameter of this route (n, explain, filter, type, format, "
                "language, subject, year, available)");
}

int tl__rec_params_parse(tl_req *r, tl_rec_params *p)
{
    memset(p, 0, sizeof(*p));
    p->n = DEFAULT_N;
    p->explain = 1; /* every item carries its evidence unless the client says not to */
    parse_ctx c = {r, p, NULL, NULL};
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, one, &c);
    if (!c.why)
        return 0;
    tl__reply_error(r, 400, "invalid", c.bad_field, -1, "%s %s", c.bad_field, c.why);
    return -1;
}
