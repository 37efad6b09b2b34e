/* The server's replies (http_json.h): JSON bodies serialized once into a buffer that
 * libmicrohttpd frees after sending, the headers of every response, and the error bodies. */
#include "server/http_json.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/utf8.h"
#include "util/clock.h"

#define JSON_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(15))
#define CORS_MAX_AGE "600" /* seconds a browser may cache a preflight answer */

static void add_headers(tl_req *r, struct MHD_Response *resp, const char *ctype)
{
    const tl_server_config *c = &r->srv->cfg;
    if (ctype)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    MHD_add_response_header(resp, "X-Request-Id", r->id);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, r->cache ? r->cache : "no-store");
    if (r->allow)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->allow);
    if (r->challenge)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"tailor\"");
    if (r->retry_after > 0) {
        char s[16];
        snprintf(s, sizeof(s), "%d", r->retry_after);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, s);
    }
    if (!c->cors_origin)
        return;
    MHD_add_response_header(resp, "Access-Control-Allow-Origin", c->cors_origin);
    MHD_add_response_header(resp, "Access-Control-Expose-Headers", "X-Request-Id");
    if (strcmp(c->cors_origin, "*") != 0)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, "Origin");
    if (strcmp(r->method, "OPTIONS") == 0 && r->allow) {
        MHD_add_response_header(resp, "Access-Control-Allow-Methods", r->allow);
        MHD_add_response_header(resp, "Access-Control-Allow-Headers",
                                "Authorization, Content-Type, Idempotency-Key, X-Request-Id, "
                                "X-Tailor-Tenant");
        MHD_add_response_header(resp, "Access-Control-Max-Age", CORS_MAX_AGE);
    }
}

/* Queues resp (NULL: memory ran out, and the connection is closed by returning without one). */
static void queue(tl_req *r, unsigned status, struct MHD_Response *resp, const char *ctype)
{
    if (!resp) {
        r->status = 503;
        return;
    }
    add_headers(r, resp, ctype);
    r->queued = MHD_queue_response(r->conn, status, resp) == MHD_YES;
    r->status = r->queued ? status : 500;
    MHD_destroy_response(resp);
    if (r->queued) { /* counted now, so that /metrics asked after this answer includes it */
        tl__metrics_observe(&r->srv->metrics, r->metric_route, r->status, tl_now() - r->t0);
        r->metered = 1;
    }
}

void tl__reply_text(tl_req *r, unsigned status, const char *ctype, char *text, size_t len)
{
    struct MHD_Response *resp =
        text ? MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE) : NULL;
    if (!resp)
        free(text);
    queue(r, status, resp, ctype);
}

void tl__reply_static(tl_req *r, unsigned status, const char *ctype, const void *data, size_t len,
                      const char *const *headers)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_PERSISTENT);
    for (int k = 0; resp && headers && headers[k]; k += 2)
        MHD_add_response_header(resp, headers[k], headers[k + 1]);
    queue(r, status, resp, ctype);
}

void tl__reply_empty(tl_req *r, unsigned status)
{
    queue(r, status, MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT), NULL);
}

/* The last resort when no JSON can be built: a constant body, nothing to allocate. */
static void reply_no_memory(tl_req *r)
{
    static const char body[] = "{\"error\":{\"code\":\"overloaded\",\"message\":\"out of "
                               "memory\"}}\n";
    queue(r, 503,
          MHD_create_response_from_buffer(sizeof(body) - 1, (void *)body, MHD_RESPMEM_PERSISTENT),
          "application/json");
}

/* Most answers fit here: serialized once into the thread's buffer and copied, instead of once
 * to measure and once more into an allocation of that size. */
#define DUMP_BUF 16384
static _Thread_local char dump_buf[DUMP_BUF];

char *tl__json_body_text(const json_t *j, size_t *len)
{
    size_t n = j ? json_dumpb(j, dump_buf, DUMP_BUF, JSON_FLAGS) : 0;
    char *text = n ? malloc(n + 2) : NULL;
    if (text && n <= DUMP_BUF)
        memcpy(text, dump_buf, n);
    if (!text || (n > DUMP_BUF && json_dumpb(j, text, n, JSON_FLAGS) != n)) {
        free(text);
        return NULL;
    }
    text[n] = '\n'; /* a terminal shows the next prompt on a line of its own */
    text[n + 1] = '\0';
    *len = n + 1;
    return text;
}

void tl__reply_json(tl_req *r, unsigned status, json_t *j)
{
    size_t n = 0;
    char *text = tl__json_body_text(j, &n);
    if (text)
        tl__reply_text(r, status, "application/json", text, n);
    else
        reply_no_memory(r);
    json_decref(j);
}

void tl__reply_jw(tl_req *r, unsigned status, tl_jw *w)
{
    tl__jw_raw(w, "\n"); /* a terminal shows the next prompt on a line of its own */
    if (w->failed) {
        tl__jw_free(w);
        reply_no_memory(r);
        return;
    }
    tl__reply_text(r, status, "application/json", w->buf, w->len);
    w->buf = NULL;
}

json_t *tl__json_text(const char *s)
{
    if (!s)
        return json_null();
    size_t n = strlen(s);
    long bad = tl__utf8_check(s, n);
    return json_stringn(s, bad < 0 ? n : (size_t)bad);
}

void tl__reply_error(tl_req *r, unsigned status, const char *code, const char *field, long index,
                     const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    json_t *e = json_object();
    if (e && (json_object_set_new(e, "code", json_string(code)) ||
              json_object_set_new(e, "message", tl__json_text(msg)) ||
              (field && *field && json_object_set_new(e, "field", tl__json_text(field))) ||
              (index >= 0 && json_object_set_new(e, "index", json_integer(index))))) {
        json_decref(e);
        e = NULL;
    }
    tl__reply_json(r, status, e ? json_pack("{s:o}", "error", e) : NULL);
}

void tl__reply_failure(tl_req *r, tl_err rc, const tl_diag *d, const char *field)
{
    const char *f = d && d->field[0] ? d->field : field;
    const char *msg = d && d->msg[0] ? d->msg : tl_strerror(rc);
    switch (rc) {
    case TL_EINVAL:
    case TL_EPARSE:
        tl__reply_error(r, 400, "invalid", f, -1, "%s", msg);
        return;
    case TL_ENOTFOUND:
        tl__reply_error(r, 404, "not_found", f, -1, "%s", msg);
        return;
    case TL_EUNSUPPORTED:
        tl__reply_error(r, 503, "read_only", NULL, -1, "%s",
                        d && d->msg[0] ? d->msg
                                       : "this server has no writable store: events cannot be "
                                         "written");
        return;
    case TL_EBUSY:
        tl__reply_error(r, 409, "busy", f, -1, "%s", msg);
        return;
    case TL_EEXIST:
        tl__reply_error(r, 409, "exists", f, -1, "%s", msg);
        return;
    case TL_ENOMEM:
    case TL_ETOOBIG:
        tl__reply_error(r, 503, "overloaded", NULL, -1, "%s", tl_strerror(rc));
        return;
    default: {
        char detail[700];
        snprintf(detail, sizeof(detail), "%s: %s", tl_strerror(rc), msg);
        tl__log_error(r->srv, r->id, detail);
        tl__reply_error(r, 500, "internal", NULL, -1, "%s (request %s)", tl_strerror(rc), r->id);
    }
    }
}

json_t *tl__body_json(tl_req *r, const char *empty)
{
    const char *body = r->body && r->body_len ? r->body : empty ? empty : "";
    size_t len = r->body && r->body_len ? r->body_len : strlen(body);
    if (!tl__json_depth_ok(body, len, r->srv->cfg.max_depth)) {
        tl__reply_error(r, 400, "too_deep", NULL, -1, "the JSON nests deeper than %d levels",
                        r->srv->cfg.max_depth);
        return NULL;
    }
    json_error_t e;
    json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &e);
    if (!j)
        tl__reply_error(r, 400, "invalid_json", NULL, -1, "line %d, column %d: %s", e.line,
                        e.column, e.text);
    return j;
}

int tl__json_depth_ok(const char *s, size_t n, int max)
{
    int depth = 0, in_str = 0, esc = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (in_str) {
            if (esc)
                esc = 0;
            else if (c == '\\')
                esc = 1;
            else if (c == '"')
                in_str = 0;
        } else if (c == '"') {
            in_str = 1;
        } else if (c == '[' || c == '{') {
            if (++depth > max)
                return 0;
        } else if (c == ']' || c == '}') {
            depth--;
        }
    }
    return 1;
}
