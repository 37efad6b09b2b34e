/* GET /v1/users/{id}/homepage: a patron's rows, each titled with its reason. */
#include <stdlib.h>
#include <string.h>

#include "server/handlers.h"
#include "server/http_json.h"
#include "server/rec_params.h"

static void rows_json(tl_jw *w, const tl_home *h)
{
    tl__jw_raw(w, "[");
    for (int k = 0; k < h->n_rows; k++) {
        const tl_home_row *row = &h->rows[k];
        tl__jw_raw(w, k ? ",{\"id\":" : "{\"id\":");
        tl__jw_str(w, row->id);
        tl__jw_raw(w, ",\"title\":");
        tl__jw_str(w, row->title);
        if (row->segment_attr[0]) { /* the group behind the row */
            tl__jw_raw(w, ",\"segment\":{\"attribute\":");
            tl__jw_str(w, row->segment_attr);
            tl__jw_raw(w, ",\"value\":");
            tl__jw_str(w, row->segment_value);
            tl__jw_raw(w, "}");
        }
        tl__jw_raw(w, ",\"policy\":");
        tl__jw_str(w, row->policy ? row->policy : "fixed");
        tl__jw_raw(w, ",\"propensity\":");
        tl__jw_float(w, (float)row->propensity);
        tl__jw_raw(w, ",\"items\":");
        tl__jw_items(w, row->items, row->n);
        tl__jw_raw(w, "}");
    }
    tl__jw_raw(w, "]");
}

void tl__h_homepage(tl_req *r)
{
    tl_rec_params p;
    if (tl__rec_params_parse(r, TL_PARAMS_HOME, &p) != 0)
        return;
    const char *user = r->match.params[0];
    tl_home h;
    tl_diag d;
    tl_diag_clear(&d);
    tl_home_query q = {.user = user,
                       .rows = p.rows,
                       .n = p.n,
                       .model = p.model,
                       .context = p.context,
                       .impression = 1};
    tl_err rc = tl_service_homepage(r->srv->svc, &q, &h, &d);
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
    tl__jw_raw(&w, ",\"impression_id\":");
    tl__jw_str(&w, h.impression_id);
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
