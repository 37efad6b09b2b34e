/* A/B tests over HTTP (admin): create, list, report, assign a patron, stop; and the arms a
 * patron is in (for the patron's own key too). The service does the work; the handlers read the
 * body and the query and send its JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/handlers.h"
#include "server/http_json.h"

#define CREATE_SHAPE                                                                               \
    "{\"name\": text, \"arms\": [{\"name\": text, \"params\": {KEY: text}}] (2 to 8), "            \
    "\"split\": [percent...], \"metric\": \"loans\"|\"clicks\", \"layer\": text, "                 \
    "\"traffic\": share in (0, 1]}"

/* Sends the service's JSON text (taken) as it is, or its failure. */
static void reply_service(tl_req *r, tl_err rc, char *json, const tl_diag *d)
{
    json_t *j = rc == TL_OK ? json_loads(json, 0, NULL) : NULL;
    free(json);
    if (rc == TL_OK && !j)
        rc = TL_ENOMEM;
    if (rc == TL_EEXIST)
        tl__reply_error(r, 409, "exists", d->field[0] ? d->field : NULL, -1, "%s", d->msg);
    else if (rc != TL_OK)
        tl__reply_failure(r, rc, d, NULL);
    else
        tl__reply_json(r, 200, j);
}

/* arm {"name", "params": {K: text}} as "NAME:K=V,..." in buf; 0, or -1 when malformed. */
static int arm_spec(const json_t *arm, char *buf, size_t n)
{
    const char *name = json_string_value(json_object_get(arm, "name"));
    const json_t *params = json_object_get(arm, "params");
    if (!json_is_object(arm) || !name || (params && !json_is_object(params)))
        return -1;
    size_t used = (size_t)snprintf(buf, n, "%s", name);
    const char *key;
    json_t *v;
    int first = 1;
    json_object_foreach((json_t *)params, key, v)
    {
        if (!json_is_string(v) || used >= n)
            return -1;
        used += (size_t)snprintf(buf + used, n - used, "%s%s=%s", first ? ":" : ",", key,
                                 json_string_value(v));
        first = 0;
    }
    return used < n ? 0 : -1;
}

void tl__h_experiment_create(tl_req *r)
{
    json_t *j = tl__body_json(r, NULL);
    if (!j)
        return;
    const json_t *arms = json_object_get(j, "arms"), *split = json_object_get(j, "split");
    const json_t *traffic = json_object_get(j, "traffic");
    size_t n = json_array_size(arms);
    int bad = !json_is_object(j) || !json_is_string(json_object_get(j, "name")) || n < 2 ||
              n > TL_EXP_MAX_ARMS || (split && json_array_size(split) != n) ||
              (traffic && !json_is_number(traffic));
    const char *key;
    json_t *v;
    if (!bad)
        json_object_foreach(j, key, v)
        {
            static const char *const keys[] = {"name",   "arms",  "split",
                                               "metric", "layer", "traffic"};
            int known = 0;
            for (int k = 0; k < 6; k++)
                known |= strcmp(key, keys[k]) == 0;
            bad |= !known;
        }
    char specs[TL_EXP_MAX_ARMS][TL_EXP_NAME_MAX + TL_EXP_PARAMS_MAX + 2];
    const char *spec_ptr[TL_EXP_MAX_ARMS];
    double shares[TL_EXP_MAX_ARMS];
    for (size_t k = 0; !bad && k < n; k++) {
        bad |= arm_spec(json_array_get(arms, k), specs[k], sizeof specs[k]) != 0;
        spec_ptr[k] = specs[k];
        if (split) {
            bad |= !json_is_number(json_array_get(split, k));
            shares[k] = json_number_value(json_array_get(split, k));
        }
    }
    if (bad) {
        tl__reply_error(r, 400, "invalid", NULL, -1, "expected %s", CREATE_SHAPE);
        json_decref(j);
        return;
    }
    const char *metric = json_string_value(json_object_get(j, "metric"));
    tl_experiment_rec e = {json_string_value(json_object_get(j, "name")),
                           json_string_value(json_object_get(j, "layer")),
                           metric ? metric : "loans",
                           spec_ptr,
                           (int)n,
                           split ? shares : NULL,
                           traffic ? json_number_value(traffic) : 0,
                           NULL};
    tl_diag d;
    tl_diag_clear(&d);
    tl_err rc = tl_service_experiment_create(r->srv->svc, &e, &d);
    char *json = NULL;
    if (rc == TL_OK)
        rc = tl_service_experiment_report(r->srv->svc, e.name, &json, &d);
    json_decref(j);
    reply_service(r, rc, json, &d);
}

void tl__h_experiments(tl_req *r)
{
    char *json = NULL;
    tl_diag d;
    tl_diag_clear(&d);
    tl_err rc = tl_service_experiments(r->srv->svc, &json, &d);
    reply_service(r, rc, json, &d);
}

void tl__h_experiment_report(tl_req *r)
{
    char *json = NULL;
    tl_diag d;
    tl_diag_clear(&d);
    tl_err rc = tl_service_experiment_report(r->srv->svc, r->match.params[0], &json, &d);
    reply_service(r, rc, json, &d);
}

void tl__h_experiment_assign(tl_req *r)
{
    const char *user = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "user");
    if (!user || !*user) {
        tl__reply_error(r, 400, "invalid", "user", -1, "expected ?user=PATRON");
        return;
    }
    char arm[1][TL_EXP_NAME_MAX + 1];
    tl_diag d;
    tl_diag_clear(&d);
    tl_err rc = tl_service_experiment_assign(r->srv->svc, r->match.params[0], &user, 1, arm, &d);
    if (rc != TL_OK) {
        tl__reply_failure(r, rc, &d, NULL);
        return;
    }
    json_t *j = json_pack("{s:s,s:s}", "experiment", r->match.params[0], "user", user);
    json_object_set_new(j, "arm", arm[0][0] ? json_string(arm[0]) : json_null());
    tl__reply_json(r, 200, j);
}

void tl__h_experiment_stop(tl_req *r)
{
    int changed = 0;
    tl_diag d;
    tl_diag_clear(&d);
    tl_err rc = tl_service_experiment_stop(r->srv->svc, r->match.params[0], &changed, &d);
    if (rc != TL_OK)
        tl__reply_failure(r, rc, &d, NULL);
    else
        tl__reply_json(r, 200,
                       json_pack("{s:s,s:s,s:b}", "name", r->match.params[0], "status", "stopped",
                                 "changed", changed));
}

void tl__h_user_experiments(tl_req *r)
{
    char *json = NULL;
    tl_diag d;
    tl_diag_clear(&d);
    tl_err rc = tl_service_experiment_arms(r->srv->svc, r->match.params[0], &json, &d);
    reply_service(r, rc, json, &d);
}
