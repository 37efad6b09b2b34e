/* GET /v1/search: the catalogue's full-text search, re-ranked for the patron user=, with the
 * match set's facets. A patron key searches as its own patron only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/handlers.h"
#include "server/http_json.h"
#include "server/json_out.h"

#define DEFAULT_N 10
#define STR_(x) #x
#define STR(x) STR_(x)

typedef struct search_params {
    tl_search_query q;
    const char *filters[TL_REQ_MAX_FILTERS];
    const char *bad, *why; /* the first error: its field and why */
    tl_req *r;
} search_params;

static int bad(search_params *p, const char *field, const char *why)
{
    p->bad = field;
    p->why = why;
    return MHD_NO;
}

static char *decode(tl_req *r, const char *s)
{
    size_t n = strlen(s);
    char *out = tl__req_alloc(r, n + 1);
    return out && tl__percent_decode(s, n, 1, out) >= 0 ? out : NULL;
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

static int add_filter(search_params *p, const char *field, const char *text)
{
    if (p->q.n_filters == TL_REQ_MAX_FILTERS)
        return bad(p, field, "too many filters");
    p->filters[p->q.n_filters++] = text;
    return MHD_YES;
}

static enum MHD_Result one(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    search_params *p = cls;
    (void)kind;
    char *k = decode(p->r, key), *v = decode(p->r, value ? value : "");
    if (!k || !v)
        return bad(p, k ? k : "query", "is not valid UTF-8 text with %-escapes, or too long");
    if (!strcmp(k, "q")) {
        p->q.q = v;
        return MHD_YES;
    }
    if (!strcmp(k, "user"))
        return *v ? (p->q.user = v, MHD_YES) : bad(p, "user", "needs a patron id");
    if (!strcmp(k, "n"))
        return whole(v, 1, TL_SEARCH_MAX_N, &p->q.n)
                   ? bad(p, "n", "must be a whole number from 1 to " STR(TL_SEARCH_MAX_N))
                   : MHD_YES;
    if (!strcmp(k, "weight")) {
        char *end;
        double w = strtod(v, &end);
        if (!*v || *end || strspn(v, "0123456789.") != strlen(v) || !(w >= 0 && w <= 1))
            return bad(p, "weight", "must be a number from 0 (text alone) to 1");
        p->q.weight = w;
        return MHD_YES;
    }
    if (!strcmp(k, "facets")) {
        if (strcmp(v, "0") && strcmp(v, "1"))
            return bad(p, "facets", "must be 1 or 0");
        p->q.facets = v[0] == '1';
        return MHD_YES;
    }
    if (!strcmp(k, "filter"))
        return *v ? add_filter(p, "filter", v) : bad(p, "filter", "must be KEY=VALUE");
    return bad(p, k, "is not a parameter of this route (q, user, n, weight, facets, filter)");
}

static void facets_json(tl_jw *w, const tl_search_result *s)
{
    tl__jw_raw(w, "{");
    for (int f = 0; f < s->n_facets; f++) {
        tl__jw_raw(w, f ? "," : "");
        tl__jw_str(w, s->facets[f].name);
        tl__jw_raw(w, ":{");
        for (int k = 0; k < s->facets[f].n; k++) {
            char num[32];
            tl__jw_raw(w, k ? "," : "");
            tl__jw_str(w, s->facets[f].values[k]);
            snprintf(num, sizeof(num), ":%lld", s->facets[f].counts[k]);
            tl__jw_raw(w, num);
        }
        tl__jw_raw(w, "}");
    }
    tl__jw_raw(w, "}");
}

void tl__h_search(tl_req *r)
{
    search_params p;
    memset(&p, 0, sizeof(p));
    p.r = r;
    p.q.n = DEFAULT_N;
    p.q.weight = -1;
    p.q.facets = 1;
    p.q.log = 1;
    p.q.impression = 1;
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, one, &p);
    if (!p.why && !p.q.q)
        bad(&p, "q", "is needed: the words to search for");
    if (p.why) {
        tl__reply_error(r, 400, "invalid", p.bad, -1, "%s %s", p.bad, p.why);
        return;
    }
    if (r->authed && p.q.user && !tl_key_allows(&r->key, TL_KEY_READ_USER, p.q.user)) {
        tl__reply_error(r, 403, "forbidden", "user", -1,
                        "this %s key may search only as its own patron",
                        tl_key_role_name(r->key.role));
        return;
    }
    p.q.filters = p.filters;
    tl_search_result s;
    tl_diag d;
    tl_diag_clear(&d);
    tl_err rc = tl_service_search(r->srv->svc, &p.q, &s, &d);
    if (rc != TL_OK) {
        tl__reply_failure(r, rc, &d, "q");
        return;
    }
    tl_jw w;
    tl__jw_init(&w, 4096);
    char num[96];
    snprintf(num, sizeof(num), "{\"total\":%lld,\"items\":[", s.total);
    tl__jw_raw(&w, num);
    for (int k = 0; k < s.n; k++) {
        const tl_search_hit *h = &s.items[k];
        tl__jw_raw(&w, k ? ",{\"item\":" : "{\"item\":");
        tl__jw_str(&w, h->item);
        tl__jw_raw(&w, ",\"title\":");
        if (h->title)
            tl__jw_str(&w, h->title);
        else
            tl__jw_raw(&w, "null");
        tl__jw_raw(&w, ",\"score\":");
        tl__jw_float(&w, (float)h->score);
        if (h->reason[0]) {
            tl__jw_raw(&w, ",\"reason\":");
            tl__jw_str(&w, h->reason);
        }
        tl__jw_raw(&w, "}");
    }
    tl__jw_raw(&w, "],\"facets\":");
    facets_json(&w, &s);
    if (s.facets_scanned) {
        snprintf(num, sizeof(num), ",\"facets_scanned\":%lld,\"facets_sample\":\"%s\"",
                 s.facets_scanned, s.facets_best ? "best" : "first");
        tl__jw_raw(&w, num);
    }
    if (s.total_estimated)
        tl__jw_raw(&w, ",\"total_estimated\":true");
    tl__jw_raw(&w, ",\"impression_id\":");
    tl__jw_str(&w, s.impression_id);
    tl__jw_raw(&w, ",\"match\":");
    tl__jw_str(&w, s.match);
    if (s.personal) {
        tl__jw_raw(&w, ",\"personal\":");
        tl__jw_str(&w, s.personal);
    }
    tl__jw_raw(&w, "}");
    tl_search_result_free(&s);
    tl__reply_jw(r, 200, &w);
}
