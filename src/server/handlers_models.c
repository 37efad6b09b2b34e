/* The model being served and training a new one: GET /v1/models, POST /v1/models/train. */
#include <stdio.h>
#include <string.h>

#include "server/handlers.h"
#include "server/http_json.h"

#define MAX_SETTINGS 32

static json_t *training_json(const tl_train_status *t)
{
    json_t *o = json_pack("{s:b, s:o, s:o, s:f, s:I, s:I}", "running", t->running, "model",
                          tl__json_text(t->model[0] ? t->model : NULL), "stage",
                          tl__json_text(t->stage[0] ? t->stage : NULL), "progress", t->done, "runs",
                          (json_int_t)t->runs, "failures", (json_int_t)t->failures);
    if (o && t->started > 0)
        json_object_set_new(o, "started", json_real(t->started));
    if (o && t->finished > 0)
        json_object_set_new(o, "finished", json_real(t->finished));
    if (o && t->error[0])
        json_object_set_new(o, "error", tl__json_text(t->error));
    return o;
}

void tl__h_models(tl_req *r)
{
    /* The training's status first: a finished training has swapped its model in before it
     * counts as finished, so the model read after it is never older than the status says. */
    tl_train_status t;
    tl_service_train_status(r->srv->svc, &t);
    tl_service_info info;
    tl_service_info_get(r->srv->svc, &info, 1);
    json_t *o =
        json_pack("{s:o, s:i, s:i, s:f, s:I, s:b, s:b, s:o}", "model", tl__json_text(info.model),
                  "users", (int)info.users, "items", (int)info.items, "fit_seconds",
                  info.fit_seconds, "swaps", (json_int_t)info.swaps, "has_store", info.has_store,
                  "writable", info.writable, "training", training_json(&t));
    /* the watermark, and how far the store has moved past it (fold-in serves those) */
    if (o && info.trained_through > 0)
        json_object_set_new(o, "trained_through", json_integer(info.trained_through));
    if (o)
        json_object_set_new(o, "trained_pairs", json_integer(info.trained_pairs));
    if (o && info.events_since >= 0)
        json_object_set_new(o, "events_since_training", json_integer(info.events_since));
    /* what a request may name with model= (the main model first; popular is always there) */
    json_t *served = o ? json_array() : NULL;
    for (int k = 0; served && k < info.n_served; k++) {
        const struct tl_served_model *v = &info.served[k];
        json_t *one = json_pack("{s:o, s:o, s:i, s:i, s:b}", "name", tl__json_text(v->name), "kind",
                                tl__json_text(v->kind), "users", (int)v->users, "items",
                                (int)v->items, "main", k == 0);
        if (one && v->trained_through > 0)
            json_object_set_new(one, "trained_through", json_integer(v->trained_through));
        json_array_append_new(served, one);
    }
    if (served)
        json_object_set_new(o, "served", served);
    json_t *recent = o ? json_array() : NULL; /* quality over time: each training's validation */
    for (int k = 0; recent && k < t.n_recent; k++) {
        const struct tl_train_record *x = &t.recent[k];
        json_array_append_new(
            recent,
            json_pack("{s:o, s:f, s:f, s:b, s:o}", "model", tl__json_text(x->model), "started",
                      x->started, "finished", x->finished, "ok", x->ok, "validation_ndcg10",
                      x->validation_ndcg >= 0 ? json_real(x->validation_ndcg) : json_null()));
    }
    if (recent)
        json_object_set_new(o, "trainings", recent);
    tl__reply_json(r, 200, o);
}

/* The body: {} or {"model": NAME, "settings": {"key": value, ...}}; settings as key=value
 * texts in buf. Returns 0, or -1 after replying 400. */
static int read_body(tl_req *r, json_t *j, tl_train_opts *o, const char **set, char (*buf)[128])
{
    json_t *model = json_object_get(j, "model"), *settings = json_object_get(j, "settings");
    const char *key;
    json_t *v;
    json_object_foreach(j, key, v) if (strcmp(key, "model") && strcmp(key, "settings"))
    {
        tl__reply_error(r, 400, "invalid", key, -1,
                        "%s is not a field of a training (model, settings)", key);
        return -1;
    }
    if (model && !json_is_string(model)) {
        tl__reply_error(r, 400, "invalid", "model", -1, "model must be a model's name");
        return -1;
    }
    o->model = model ? json_string_value(model) : NULL;
    if (settings && !json_is_object(settings)) {
        tl__reply_error(r, 400, "invalid", "settings", -1,
                        "settings must be an object of parameters and values");
        return -1;
    }
    json_object_foreach(settings, key, v)
    {
        if (o->n_settings == MAX_SETTINGS) {
            tl__reply_error(r, 400, "invalid", "settings", -1, "at most %d settings", MAX_SETTINGS);
            return -1;
        }
        int len;
        if (json_is_string(v))
            len = snprintf(buf[o->n_settings], 128, "%s=%s", key, json_string_value(v));
        else if (json_is_integer(v))
            len =
                snprintf(buf[o->n_settings], 128, "%s=%lld", key, (long long)json_integer_value(v));
        else if (json_is_real(v))
            len = snprintf(buf[o->n_settings], 128, "%s=%.17g", key, json_real_value(v));
        else
            len = -1;
        if (len < 0 || len >= 128) {
            tl__reply_error(r, 400, "invalid", key, -1, "a setting is a short string or a number");
            return -1;
        }
        set[o->n_settings] = buf[o->n_settings];
        o->n_settings++;
    }
    o->settings = set;
    return 0;
}

void tl__h_train(tl_req *r)
{
    json_t *j = tl__body_json(r, "{}");
    if (j && !json_is_object(j))
        tl__reply_error(r, 400, "invalid_json", NULL, -1, "the body must be a JSON object");
    if (!j || !json_is_object(j)) {
        json_decref(j);
        return;
    }
    tl_train_opts o = {0};
    const char *set[MAX_SETTINGS];
    char buf[MAX_SETTINGS][128];
    if (read_body(r, j, &o, set, buf) == 0) {
        tl_diag d;
        tl_diag_clear(&d);
        tl_err rc = tl_service_train(r->srv->svc, &o, &d);
        if (rc != TL_OK) {
            tl__reply_failure(r, rc, &d, "model");
        } else {
            tl_train_status t;
            tl_service_train_status(r->srv->svc, &t);
            tl__reply_json(r, 202, json_pack("{s:o}", "training", training_json(&t)));
        }
    }
    json_decref(j);
}
