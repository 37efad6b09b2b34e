/* New-arrival alerts over HTTP: a patron's subscription (PUT, their own key or admin), the
 * preview of their digest (JSON, or the text or HTML body), and the unsubscribe link, which
 * needs no key: its signature is the proof. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/handlers.h"
#include "server/http_json.h"

/* The body: {"alerts": true|false, "email": "ADDR"|null} (either may be left out). */
void tl__h_user_subscription(tl_req *r)
{
    json_t *j = tl__body_json(r, NULL);
    if (!j)
        return;
    json_t *a = json_object_get(j, "alerts"), *e = json_object_get(j, "email");
    const char *key, *bad = NULL;
    json_t *v;
    json_object_foreach(j, key, v) if (strcmp(key, "alerts") && strcmp(key, "email")) bad = key;
    if (!json_is_object(j) || bad || (a && !json_is_boolean(a)) ||
        (e && !json_is_null(e) && !json_is_string(e)) || (!a && !e)) {
        tl__reply_error(r, 400, "invalid",
                        bad                        ? bad
                        : a && !json_is_boolean(a) ? "alerts"
                                                   : "email",
                        -1,
                        "expected {\"alerts\": true|false, \"email\": \"ADDR\" or null}, at least "
                        "one of them");
        json_decref(j);
        return;
    }
    char who[48];
    tl_diag d;
    tl_diag_clear(&d);
    int alerts = a ? json_is_true(a) : -1;
    const char *email = !e ? NULL : json_is_null(e) ? "" : json_string_value(e);
    tl_err rc = tl_service_subscription_set(r->srv->svc, r->match.params[0], alerts, email,
                                            tl__req_actor(r, who, sizeof(who)), &d);
    json_decref(j);
    if (rc != TL_OK) {
        tl__reply_failure(r, rc, &d, "user");
        return;
    }
    tl__reply_json(r, 200, json_pack("{s:s, s:b}", "user", r->match.params[0], "updated", 1));
}

typedef struct preview_args {
    tl_req *r;
    const char *since, *now, *format, *n, *u, *sig;
    const char *bad;
    int unsubscribe; /* the route: u and sig, else since, now, n, format */
} preview_args;

static enum MHD_Result one(void *ctx, enum MHD_ValueKind kind, const char *k, const char *v)
{
    (void)kind;
    preview_args *p = ctx;
    const char **slot = NULL;
    if (p->unsubscribe)
        slot = !strcmp(k, "u") ? &p->u : !strcmp(k, "sig") ? &p->sig : NULL;
    else
        slot = !strcmp(k, "since")    ? &p->since
               : !strcmp(k, "now")    ? &p->now
               : !strcmp(k, "n")      ? &p->n
               : !strcmp(k, "format") ? &p->format
                                      : NULL;
    if (!slot) {
        p->bad = k;
        return MHD_NO;
    }
    *slot = v ? v : "";
    return MHD_YES;
}

static tl_err item_json(json_t *arr, const tl_digest_item *it)
{
    json_t *o = json_pack("{s:s, s:s?, s:s?, s:s, s:s, s:I, s:s?}", "item", it->id, "title",
                          it->title, "creators", it->creators, "kind", it->kind, "reason",
                          it->reason, "added", (json_int_t)it->added, "cover", it->cover);
    if (o && it->starts) {
        json_object_set_new(o, "starts", json_integer(it->starts));
        if (it->place)
            json_object_set_new(o, "place", json_string(it->place));
    }
    return o && json_array_append_new(arr, o) == 0 ? TL_OK : TL_ENOMEM;
}

typedef struct preview {
    tl_req *r;
    const char *format;
    int done;
} preview;

static tl_err on_digest(void *ctx, const tl_digest_msg *m, tl_diag *d)
{
    preview *p = ctx;
    p->done = 1;
    if (strcmp(p->format, "json") != 0) {
        char *body = NULL;
        size_t len = 0;
        tl_err rc = tl_digest_render(m, p->format, NULL, &body, &len, d);
        if (rc == TL_OK)
            tl__reply_text(p->r, 200,
                           strcmp(p->format, "html") == 0 ? "text/html; charset=utf-8"
                                                          : "text/plain; charset=utf-8",
                           body, len);
        return rc;
    }
    json_t *items = json_array(), *events = json_array();
    tl_err rc = items && events ? TL_OK : TL_ENOMEM;
    for (int k = 0; rc == TL_OK && k < m->n_items; k++)
        rc = item_json(items, &m->items[k]);
    for (int k = 0; rc == TL_OK && k < m->n_events; k++)
        rc = item_json(events, &m->events[k]);
    if (rc != TL_OK) {
        json_decref(items);
        json_decref(events);
        return rc;
    }
    tl__reply_json(p->r, 200,
                   json_pack("{s:s, s:s?, s:b, s:I, s:I, s:o, s:o}", "user", p->r->match.params[0],
                             "email", m->email, "personal", m->personal, "since",
                             (json_int_t)m->since, "now", (json_int_t)m->now, "items", items,
                             "events", events));
    return TL_OK;
}

/* GET /v1/users/{id}/digest?since=7d[&now=T][&n=N][&format=json|text|html] */
void tl__h_user_digest(tl_req *r)
{
    preview_args a = {.r = r};
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, one, &a);
    if (a.bad) {
        tl__reply_error(r, 400, "invalid", a.bad, -1,
                        "%s is not a parameter of this route (since, now, n, format)", a.bad);
        return;
    }
    tl_diag d;
    tl_diag_clear(&d);
    tl_digest_query q = {.user = r->match.params[0],
                         .unsubscribe_url = r->srv->cfg.unsubscribe_url,
                         .now = (int64_t)time(NULL)};
    const char *format = a.format ? a.format : "json";
    int n = 10, used = 0;
    if (a.n && (sscanf(a.n, "%d%n", &n, &used) != 1 || a.n[used] || n < 1 || n > TL_DIGEST_MAX_N)) {
        tl__reply_error(r, 400, "invalid", "n", -1, "n must be a whole number from 1 to %d",
                        TL_DIGEST_MAX_N);
        return;
    }
    q.n = n;
    if (strcmp(format, "json") && strcmp(format, "text") && strcmp(format, "html")) {
        tl__reply_error(r, 400, "invalid", "format", -1, "format must be json, text or html");
        return;
    }
    if ((a.now && tl_digest_parse_time(a.now, q.now, "now", &q.now, &d) != TL_OK) ||
        tl_digest_parse_time(a.since ? a.since : "7d", q.now, "since", &q.since, &d) != TL_OK) {
        tl__reply_error(r, 400, "invalid", d.field, -1, "%s", d.msg);
        return;
    }
    preview p = {r, format, 0};
    tl_digest_report rep;
    tl_err rc = tl_service_digest(r->srv->svc, &q, on_digest, &p, &rep, &d);
    if (rc == TL_OK && rep.failed)
        rc = TL_ENOMEM; /* the only way the preview's own callback fails */
    if (rc != TL_OK && !r->queued)
        tl__reply_failure(r, rc, &d, "user");
    else if (!p.done)
        tl__reply_failure(r, TL_ENOTFOUND, &d, "user");
}

/* GET /v1/unsubscribe?u=USER&sig=MAC: no key; the signature is checked. */
void tl__h_unsubscribe(tl_req *r)
{
    preview_args a = {.r = r, .unsubscribe = 1};
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, one, &a);
    if (a.bad || !a.u || !a.sig) {
        tl__reply_error(r, 400, "invalid",
                        a.bad  ? a.bad
                        : !a.u ? "u"
                               : "sig",
                        -1, "expected ?u=PATRON&sig=SIGNATURE, as the link in a digest");
        return;
    }
    tl_diag d;
    tl_diag_clear(&d);
    int changed = 0;
    tl_err rc = tl_service_unsubscribe(r->srv->svc, a.u, a.sig, &changed, &d);
    if (rc == TL_EINVAL || rc == TL_ENOTFOUND) { /* the same for both: no probing for ids */
        tl__reply_error(r, 403, "forbidden", "sig", -1, "this unsubscribe link is not valid");
        return;
    }
    if (rc != TL_OK) {
        tl__reply_failure(r, rc, &d, NULL);
        return;
    }
    tl__reply_json(r, 200, json_pack("{s:b, s:b}", "unsubscribed", 1, "changed", changed));
}
