/* GET /v1/users/{id}/homepage: a patron's rows, each titled with its reason. */
#include <stdlib.h>
#include <string.h>

#include "server/handlers.h"
#include "server/http_json.h"

#define DEFAULT_ROWS 6
#define DEFAULT_N 10

typedef struct home_params {
    int rows, n;
    const char *bad, *why;
} home_params;

static int whole(const char *v, int lo, int hi, int *out)
{
    char *end;
    long x = strtol(v, &end, 10);
    if (!*v || *end || strspn(v, "0123456789") != strlen(v) || x < lo || x > hi)
        return -1;
    *out = (int)x;
    return 0;
}

static enum MHD_Result one(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    home_params *p = cls;
    (void)kind;
    const char *v = value ? value : "";
    if (!strcmp(key, "rows")) {
        if (whole(v, 1, TL_HOME_MAX_ROWS, &p->rows))
            p->bad = "rows", p->why = "must be a whole number from 1 to 8";
    } else if (!strcmp(key, "n")) {
        if (whole(v, 1, 100, &p->n))
            p->bad = "n", p->why = "must be a whole number from 1 to 100";
    } else {
        p->bad = "query", p->why = "has a parameter this route does not take (rows, n)";
    }
    return p->bad ? MHD_NO : MHD_YES;
}

static void rows_json(tl_jw *w, const tl_home *h)
{
    tl__jw_raw(w, "[");
    for (int k = 0; k < h->n_rows; k++) {
        const tl_home_row *row = &h->rows[k];
        tl__jw_raw(w, k ? ",{\"id\":" : "{\"id\":");
        tl__jw_str(w, row->id);
        tl__jw_raw(w, ",\"title\":");
        tl__jw_str(w, row->title);
        tl__jw_raw(w, ",\"items\":");
        tl__jw_items(w, row->items, row->n);
        tl__jw_raw(w, "}");
    }
    tl__jw_raw(w, "]");
}

void tl__h_homepage(tl_req *r)
{
    home_params p = {DEFAULT_ROWS, DEFAULT_N, NULL, NULL};
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, one, &p);
    if (p.bad) {
        tl__reply_error(r, 400, "invalid", p.bad, -1, "%s %s", p.bad, p.why);
        return;
    }
    const char *user = r->match.params[0];
    tl_home h;
    tl_diag d;
    tl_diag_clear(&d);
    tl_err rc = tl_service_homepage(r->srv->svc, user, p.rows, p.n, &h, &d);
    if (rc != TL_OK) {
        tl__reply_failure(r, rc, &d, "user");
        return;
    }
    tl_jw w;
    tl__jw_init(&w, 16384);
    tl__jw_raw(&w, "{\"user\":");
    tl__jw_str(&w, user);
    tl__jw_raw(&w, ",\"model\":");
    tl__jw_str(&w, h.model);
    tl__jw_raw(&w, ",\"rows\":");
    rows_json(&w, &h);
    if (h.fallback) {
        tl__jw_raw(&w, ",\"fallback\":");
        tl__jw_str(&w, h.fallback);
    }
    tl__jw_raw(&w, "}");
    tl_home_free(&h);
    tl__reply_jw(r, 200, &w);
}
