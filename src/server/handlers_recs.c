/* Recommendations for a patron and "more like this" for an item: the query string into a
 * tl_rec_query, one call to the service, its result as JSON. */
#include "server/handlers.h"
#include "server/http_json.h"
#include "server/rec_params.h"

/* subject is "user" or "item": the key of r's {id} in the query and in the answer. */
static void answer(tl_req *r, const char *subject)
{
    tl_rec_params p;
    if (tl__rec_params_parse(r, TL_PARAMS_RECS, &p) != 0)
        return;
    const char *id = r->match.params[0];
    tl_rec_query q = {.model = p.model,
                      .context = p.context,
                      .n = p.n,
                      .filters = p.filters,
                      .n_filters = p.n_filters,
                      .explain = p.explain,
                      .rerank = p.rerank,
                      .ignore_shelf = !p.prefer_shelf,
                      .impression = 1};
    if (subject[0] == 'u')
        q.user = id;
    else
        q.similar_to = id;
    tl_rec_result res;
    tl_diag d;
    tl_diag_clear(&d);
    tl_err rc = tl_service_recommend(r->srv->svc, &q, &res, &d);
    if (rc != TL_OK) {
        tl__reply_failure(r, rc, &d, subject);
        return;
    }
    tl_jw w;
    tl__jw_init(&w, 4096);
    tl__jw_raw(&w, subject[0] == 'u' ? "{\"user\":" : "{\"item\":");
    tl__jw_str(&w, id);
    tl__jw_raw(&w, ",\"model\":");
    tl__jw_str(&w, res.model);
    tl__jw_raw(&w, ",\"impression_id\":");
    tl__jw_str(&w, res.impression_id);
    tl__jw_raw(&w, ",\"items\":");
    tl__jw_items(&w, res.items, res.n);
    if (res.fallback) {
        tl__jw_raw(&w, ",\"fallback\":");
        tl__jw_str(&w, res.fallback);
    }
    tl__jw_raw(&w, "}");
    tl_rec_result_free(&res);
    tl__reply_jw(r, 200, &w);
}

void tl__h_recommendations(tl_req *r)
{
    answer(r, "user");
}

void tl__h_similar(tl_req *r)
{
    answer(r, "item");
}
