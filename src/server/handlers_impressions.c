/* GET /v1/impressions/export: the impressions log as TSV, one line per decision
 * (tl_service_impressions_export; docs/IMPRESSIONS.md), admin keys only. ?since= (Unix
 * seconds or an ISO 8601 date) keeps the newer ones. */
#include <stdlib.h>
#include <string.h>

#include "server/handlers.h"
#include "server/http_json.h"
#include "tailor/ingest.h"
#include "tailor/service.h"

typedef struct exp_ctx {
    int64_t since;
    const char *bad;
} exp_ctx;

static enum MHD_Result one(void *cls, enum MHD_ValueKind kind, const char *k, const char *v)
{
    exp_ctx *c = cls;
    (void)kind;
    v = v ? v : "";
    if (strcmp(k, "since") != 0 || tl_parse_time(v, strlen(v), &c->since) != 0 || c->since <= 0)
        c->bad = k;
    return c->bad ? MHD_NO : MHD_YES;
}

typedef struct buf {
    char *p;
    size_t n, cap;
} buf;

static tl_err on_line(void *ctx, const char *line, size_t len)
{
    buf *b = ctx;
    if (b->n + len + 1 > b->cap) {
        size_t cap = (b->cap ? b->cap * 2 : 65536) + len;
        char *g = realloc(b->p, cap);
        if (!g)
            return TL_ENOMEM;
        b->p = g;
        b->cap = cap;
    }
    memcpy(b->p + b->n, line, len);
    b->n += len;
    b->p[b->n] = '\0';
    return TL_OK;
}

void tl__h_impressions_export(tl_req *r)
{
    exp_ctx c = {0};
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, one, &c);
    if (c.bad) {
        if (strcmp(c.bad, "since") == 0)
            tl__reply_error(r, 400, "invalid", c.bad, -1,
                            "since must be Unix seconds or an ISO 8601 date or time after 1970");
        else
            tl__reply_error(r, 400, "invalid", c.bad, -1,
                            "%s is not a parameter of this route (since)", c.bad);
        return;
    }
    tl_diag d;
    tl_diag_clear(&d);
    buf b = {0};
    tl_err rc = tl_service_impressions_export(r->srv->svc, c.since, on_line, &b, &d);
    if (rc != TL_OK) {
        free(b.p);
        if (rc == TL_EVERSION) /* a read-only store from before impressions */
            tl__reply_error(r, 503, "unavailable", NULL, -1, "%s", d.msg);
        else
            tl__reply_failure(r, rc, &d, NULL);
        return;
    }
    tl__reply_text(r, 200, "text/tab-separated-values; charset=utf-8", b.p, b.n);
}
