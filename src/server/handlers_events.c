/* POST /v1/events: the body (depth-checked, parsed once) into events, written by the service
 * in one transaction; {"accepted": N} only once they are durable. A bad event fails the batch
 * with 422 naming its index and field, and nothing of it is stored. An Idempotency-Key makes
 * a retry answer as the first request did without writing again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/events_json.h"
#include "server/handlers.h"
#include "server/http_json.h"

/* d's field with the index of event bad in front ("[3].user"), unless it has one. */
static void indexed_field(const tl_diag *d, size_t bad, char *buf, size_t len)
{
    if (d->field[0] == '[')
        snprintf(buf, len, "%s", d->field);
    else
        snprintf(buf, len, "[%zu]%s%s", bad, d->field[0] ? "." : "", d->field);
}

/* The service's answer to a write of events: 422 for a bad event, else the failure's. */
static void reply_failed(tl_req *r, tl_err rc, const tl_diag *d, size_t bad)
{
    char field[96];
    if (rc == TL_EINVAL && strcmp(d->field, "Idempotency-Key") == 0) {
        tl__reply_error(r, 400, "invalid", d->field, -1, "%s", d->msg);
    } else if (rc == TL_EEXIST) {
        tl__reply_error(r, 422, "idempotency_key_reused", d->field, -1, "%s", d->msg);
    } else if (rc == TL_EINVAL) {
        indexed_field(d, bad, field, sizeof(field));
        tl__reply_error(r, 422, "invalid_event", field, (long)bad, "%s", d->msg);
    } else {
        tl__reply_failure(r, rc, d, NULL);
    }
}

/* Writes the events. With an Idempotency-Key (key not NULL) the answer is made first and kept
 * with the key in the events' transaction, and a retry of the same request gets it back. */
static void add(tl_req *r, const char *key, const tl_event_rec *ev, size_t n)
{
    size_t len = 0, bad = 0;
    tl_diag d;
    tl_diag_clear(&d);
    json_t *j = json_pack("{s:I}", "accepted", (json_int_t)n);
    char *reply = tl__json_body_text(j, &len);
    json_decref(j);
    if (!reply) {
        tl__reply_failure(r, TL_ENOMEM, NULL, NULL);
        return;
    }
    tl_idem k = {.scope = r->authed ? r->key.id : "",
                 .key = key,
                 .route = "POST /v1/events",
                 .request = r->body ? r->body : "",
                 .request_len = r->body_len,
                 .status = 201,
                 .reply = reply};
    tl_idem_replay again = {0};
    tl_err rc = tl_service_add_events_idem(r->srv->svc, key ? &k : NULL, ev, n, &bad, &d, &again);
    if (rc != TL_OK) {
        free(reply);
        reply_failed(r, rc, &d, bad);
    } else if (again.replayed) {
        free(reply);
        tl__reply_text(r, (unsigned)again.status, "application/json", again.body,
                       strlen(again.body));
    } else {
        atomic_fetch_add_explicit(&r->srv->metrics.events, n, memory_order_relaxed);
        tl__reply_text(r, 201, "application/json", reply, len);
    }
}

static void write_events(tl_req *r, const json_t *j)
{
    tl_event_rec *ev = NULL;
    size_t n = 0, bad = 0;
    tl_diag d;
    tl_diag_clear(&d);
    tl_err rc = tl__events_from_json(j, (size_t)r->srv->cfg.max_batch, &ev, &n, &bad, &d);
    if (rc == TL_ETOOBIG) {
        tl__reply_error(r, 413, "batch_too_large", "events", -1, "%s", d.msg);
        return;
    }
    if (rc == TL_EINVAL) {
        tl__reply_error(r, 422, "invalid_event", d.field,
                        strcmp(d.field, "events") ? (long)bad : -1, "%s", d.msg);
        return;
    }
    if (rc != TL_OK) {
        tl__reply_failure(r, rc, NULL, NULL);
        return;
    }
    for (size_t k = 0; r->authed && k < n; k++)
        if (!tl_key_allows(&r->key, TL_KEY_WRITE_EVENTS, ev[k].user)) {
            free(ev);
            tl__reply_error(r, 403, "forbidden", "user", (long)k,
                            "this %s key may write only its own patron's events",
                            tl_key_role_name(r->key.role));
            return;
        }
    add(r, MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Idempotency-Key"), ev, n);
    free(ev);
}

void tl__h_events(tl_req *r)
{
    tl_service_info info;
    tl_service_info_get(r->srv->svc, &info, 0);
    if (!info.writable) {
        tl__reply_failure(r, TL_EUNSUPPORTED, NULL, NULL);
        return;
    }
    json_t *j = tl__body_json(r, NULL);
    if (!j)
        return;
    write_events(r, j);
    json_decref(j);
}
