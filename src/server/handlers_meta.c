/* The routes about the server itself: health and the metrics. */
#include <stdlib.h>
#include <time.h>

#include "server/handlers.h"
#include "server/http_json.h"

void tl__h_health(tl_req *r)
{
    tl_service_info info;
    tl_service_info_get(r->srv->svc, &info, 0);
    tl__reply_json(r, 200,
                   json_pack("{s:s, s:o, s:i, s:i, s:b}", "status", "ok", "model",
                             tl__json_text(info.model), "users", (int)info.users, "items",
                             (int)info.items, "store", info.has_store));
}

void tl__h_ready(tl_req *r)
{
    char why[400];
    int stopping = atomic_load(&r->srv->stopping);
    int ready = !stopping && tl_service_ready(r->srv->svc, why, sizeof(why));
    if (stopping)
        snprintf(why, sizeof(why), "the server is stopping");
    json_t *j = json_pack("{s:s}", "status", ready ? "ready" : "not_ready");
    if (j && !ready)
        json_object_set_new(j, "reason", tl__json_text(why));
    tl__reply_json(r, ready ? 200 : 503, j);
}

void tl__h_metrics(tl_req *r)
{
    size_t n, len;
    const tl_route *t = tl__routes(&n);
    const char *labels[TL_METRICS_ROUTES];
    for (size_t k = 0; k < n; k++)
        labels[k] = t[k].pub.pattern;
    labels[n] = "unmatched";
    tl_service_info info;
    tl_service_info_get(r->srv->svc, &info, 0);
    tl_train_status ts;
    tl_service_train_status(r->srv->svc, &ts);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    tl_metrics_service sv = {.swaps = info.swaps,
                             .model_age =
                                 info.written_at > 0 ? (double)now.tv_sec - info.written_at : 0,
                             .training = ts.running,
                             .trainings = ts.runs,
                             .failures = ts.failures};
    char *text = tl__metrics_render(&r->srv->metrics, labels, (int)n + 1, &sv, &len);
    if (!text) {
        tl__reply_error(r, 503, "overloaded", NULL, -1, "out of memory");
        return;
    }
    tl__reply_text(r, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
}
