/* A patron's rights over HTTP (export, erasure, consent: admin or the patron's own key) and the
 * audit log (admin). The service does the work and logs it; the actor is the request's key. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/handlers.h"
#include "server/http_json.h"

const char *tl__req_actor(const tl_req *r, char *buf, size_t len)
{
    if (!r->authed)
        snprintf(buf, len, "no-auth");
    else
        snprintf(buf, len, "key:%s", r->key.id);
    return buf;
}

void tl__h_user_export(tl_req *r)
{
    char who[48], *json = NULL;
    tl_diag d;
    tl_diag_clear(&d);
    tl_err rc = tl_service_user_export(r->srv->svc, r->match.params[0],
                                       tl__req_actor(r, who, sizeof(who)), &json, &d);
    if (rc != TL_OK) {
        tl__reply_failure(r, rc, &d, "user");
        return;
    }
    size_t n = strlen(json);
    char *body = realloc(json, n + 2);
    if (!body) {
        free(json);
        tl__reply_failure(r, TL_ENOMEM, &d, NULL);
        return;
    }
    body[n] = '\n';
    tl__reply_text(r, 200, "application/json", body, n + 1);
}

void tl__h_user_erase(tl_req *r)
{
    char who[48];
    tl_erase_report rep;
    tl_diag d;
    tl_diag_clear(&d);
    tl_err rc = tl_service_user_erase(r->srv->svc, r->match.params[0],
                                      tl__req_actor(r, who, sizeof(who)), &rep, &d);
    if (rc != TL_OK) {
        tl__reply_failure(r, rc, &d, "user");
        return;
    }
    tl__reply_json(r, 200,
                   json_pack("{s:s, s:b, s:I, s:b, s:b}", "user", r->match.params[0], "erased", 1,
                             "events_deleted", (json_int_t)rep.events, "log_emptied", rep.scrubbed,
                             "retraining", rep.retraining));
}

/* The body: {"personalize": true|false, "retention_days": N|null} (either may be left out). */
void tl__h_user_consent(tl_req *r)
{
    json_t *j = tl__body_json(r, NULL);
    if (!j)
        return;
    json_t *p = json_object_get(j, "personalize"), *days = json_object_get(j, "retention_days");
    const char *key;
    json_t *v;
    const char *bad = NULL;
    json_object_foreach(j, key, v) if (strcmp(key, "personalize") && strcmp(key, "retention_days"))
        bad = key;
    if (!json_is_object(j) || bad || (p && !json_is_boolean(p)) ||
        (days && !json_is_null(days) &&
         (!json_is_integer(days) || json_integer_value(days) < 0 ||
          json_integer_value(days) > 36500)) ||
        (!p && !days)) {
        tl__reply_error(r, 400, "invalid",
                        bad                        ? bad
                        : p && !json_is_boolean(p) ? "personalize"
                                                   : "retention_days",
                        -1,
                        "expected {\"personalize\": true|false, \"retention_days\": 0..36500 or "
                        "null}, at least one of them");
        json_decref(j);
        return;
    }
    char who[48];
    tl_diag d;
    tl_diag_clear(&d);
    int personalize = p ? json_is_true(p) : -1;
    long long retention = !days ? TL_ABSENT : json_is_null(days) ? -1 : json_integer_value(days);
    tl_err rc = tl_service_consent_set(r->srv->svc, r->match.params[0], personalize, retention,
                                       tl__req_actor(r, who, sizeof(who)), &d);
    json_decref(j);
    if (rc != TL_OK) {
        tl__reply_failure(r, rc, &d, "user");
        return;
    }
    tl__reply_json(r, 200, json_pack("{s:s, s:b}", "user", r->match.params[0], "updated", 1));
}

static tl_err add_entry(void *ctx, const tl_audit_entry *e)
{
    json_t *o = json_pack("{s:I, s:I, s:s, s:s, s:s?, s:s?, s:s}", "seq", (json_int_t)e->seq, "ts",
                          (json_int_t)e->ts, "actor", e->actor, "action", e->action, "target",
                          e->target, "detail", e->detail, "hash", e->hash);
    return o && json_array_append_new(ctx, o) == 0 ? TL_OK : TL_ENOMEM;
}

void tl__h_audit(tl_req *r)
{
    tl_diag d;
    tl_diag_clear(&d);
    tl_audit_check c;
    json_t *entries = json_array();
    tl_err rc = entries ? tl_service_audit_verify(r->srv->svc, &c, &d) : TL_ENOMEM;
    if (rc == TL_OK)
        rc = tl_service_audit_each(r->srv->svc, add_entry, entries, &d);
    if (rc != TL_OK) {
        json_decref(entries);
        tl__reply_failure(r, rc, &d, NULL);
        return;
    }
    json_t *o = json_pack("{s:b, s:I, s:o}", "intact", c.broken_at == 0, "entries",
                          (json_int_t)c.entries, "log", entries);
    if (o && c.broken_at)
        json_object_set_new(o, "broken_at", json_integer(c.broken_at));
    tl__reply_json(r, 200, o);
}
