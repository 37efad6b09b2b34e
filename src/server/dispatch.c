/* One request through libmicrohttpd's access handler: at the headers, its id, its route and
 * the checks that need no body (404, 405, OPTIONS, 401/403, 429, 415, a Content-Length over
 * the limit); then the body, limited while it arrives; then the route's handler. At
 * completion, the log line and the metrics, and the request's memory is freed in one call. */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "server/http_json.h"
#include "server/server_int.h"
#include "util/clock.h"

#define BODY_FIRST_CAP 4096 /* bytes allocated for a body of unknown length at first */
/* A body over the limit is read to its end and dropped, so that the client reads the 413
 * (libmicrohttpd cannot answer in the middle of a body); a client that sends more than this
 * many times the limit has its connection closed instead. */
#define DROP_FACTOR 4

char *tl__req_alloc(tl_req *r, size_t n)
{
    if (n > TL_REQ_ARENA - r->arena_used)
        return NULL;
    char *p = r->arena + r->arena_used;
    r->arena_used += n;
    return p;
}

/* application/json, with or without parameters ("; charset=utf-8"). */
static int is_json(const char *ctype)
{
    static const char want[] = "application/json";
    size_t n = sizeof(want) - 1;
    return ctype && strncasecmp(ctype, want, n) == 0 &&
           (ctype[n] == '\0' || ctype[n] == ';' || ctype[n] == ' ');
}

static void reply_too_big(tl_req *r)
{
    tl__reply_error(r, 413, "too_large", NULL, -1, "the body is over the limit of %lld bytes",
                    r->srv->cfg.max_body);
}

/* The key of "Authorization: Bearer KEY" (the scheme in any case), or NULL. */
static const char *bearer(tl_req *r)
{
    const char *h =
        MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!h || strncasecmp(h, "Bearer ", 7) != 0)
        return NULL;
    for (h += 7; *h == ' '; h++)
        ;
    return h;
}

static void unauthorized(tl_req *r, const char *why)
{
    r->challenge = 1;
    r->denied = 1;
    tl__reply_error(r, 401, "unauthorized", NULL, -1, "%s", why);
}

/* The route's key check (unless --no-auth); a reply queued here ends the request. */
static void authorize(tl_req *r)
{
    if (r->srv->cfg.no_auth || r->route->auth == TL_AUTH_OPEN)
        return;
    const char *key = bearer(r);
    if (!key || !*key) {
        unauthorized(r, "an API key is needed: Authorization: Bearer KEY (tailor key create)");
        return;
    }
    r->denied = 1; /* until the key is known good */
    tl_err rc = tl_service_authenticate(r->srv->svc, key, &r->key);
    if (rc == TL_ENOTFOUND) {
        unauthorized(r, "the API key is not valid");
        return;
    }
    if (rc == TL_EVERSION) {
        tl__reply_error(r, 503, "unavailable", NULL, -1,
                        "the store predates API keys; a write open (tailor key create) upgrades "
                        "it");
        return;
    }
    if (rc != TL_OK) {
        tl_diag d;
        tl_diag_set(&d, NULL, 0, NULL, "authentication: %s", tl_strerror(rc));
        tl__reply_failure(r, rc, &d, NULL);
        return;
    }
    r->authed = 1;
    r->denied = 0;
    const char *as = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "X-Tailor-Tenant");
    if (as) { /* a consortium key acting for one library: as that library's key */
        tl_diag d;
        tl_diag_clear(&d);
        rc = tl_service_key_for_tenant(r->srv->svc, &r->key, as, &d);
        if (rc != TL_OK) {
            r->denied = 1;
            if (rc == TL_EUNSUPPORTED)
                tl__reply_error(r, 403, "forbidden", "tenant", -1, "%s", d.msg);
            else
                tl__reply_failure(r, rc == TL_ENOTFOUND ? TL_EINVAL : rc, &d, "tenant");
            return;
        }
    }
    int ok = 1;
    switch (r->route->auth) {
    case TL_AUTH_OPEN:
    case TL_AUTH_KEY:
        break;
    case TL_AUTH_STAFF:
        ok = tl_key_allows(&r->key, TL_KEY_READ_USER, NULL);
        break;
    case TL_AUTH_USER:
        ok = r->match.n_params > 0 && tl_key_allows(&r->key, TL_KEY_READ_USER, r->match.params[0]);
        break;
    case TL_AUTH_EVENTS: /* a patron key: each event's user, by the handler */
        ok = r->key.role == TL_ROLE_PATRON || tl_key_allows(&r->key, TL_KEY_WRITE_EVENTS, NULL);
        break;
    case TL_AUTH_TRAIN:
        ok = tl_key_allows(&r->key, TL_KEY_TRAIN, NULL);
        break;
    case TL_AUTH_KEYS:
        ok = tl_key_allows(&r->key, TL_KEY_MANAGE_KEYS, NULL);
        break;
    case TL_AUTH_OWN_KEYS:
        ok = tl_key_allows(&r->key, TL_KEY_OWN_KEYS, NULL);
        break;
    case TL_AUTH_OWN:
        ok = r->match.n_params > 0 && tl_key_allows(&r->key, TL_KEY_OWN_DATA, r->match.params[0]);
        break;
    case TL_AUTH_CATALOGUE:
        ok = tl_key_allows(&r->key, TL_KEY_CATALOGUE, NULL);
        break;
    case TL_AUTH_PATRONS:
        ok = tl_key_allows(&r->key, TL_KEY_PATRON_RECORDS, NULL);
        break;
    }
    r->denied = !ok;
    if (!ok)
        tl__reply_error(r, 403, "forbidden", NULL, -1, "this %s key%s%s may not do this",
                        tl_key_role_name(r->key.role), r->key.tenant[0] ? " of the tenant " : "",
                        r->key.tenant);
}

/* The rate limit of the request's key, or of its client's address when it has none; a 429
 * queued here ends the request. */
static void rate_limit(tl_req *r)
{
    tl_server *s = r->srv;
    if (!s->limits)
        return;
    const void *id = r->key.id;
    size_t len = strlen(r->key.id);
    const union MHD_ConnectionInfo *ci =
        r->authed ? NULL : MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET6) {
        id = &((const struct sockaddr_in6 *)ci->client_addr)->sin6_addr;
        len = sizeof(struct in6_addr);
    } else if (ci && ci->client_addr) {
        id = &((const struct sockaddr_in *)ci->client_addr)->sin_addr;
        len = sizeof(struct in_addr);
    }
    int wait = tl__ratelimit_take(s->limits, id, len, r->t0);
    if (!wait)
        return;
    r->retry_after = wait;
    r->denied = 1;
    atomic_fetch_add_explicit(&s->metrics.rate_limited, 1, memory_order_relaxed);
    tl__reply_error(r, 429, "rate_limited", NULL, -1,
                    "over the rate limit of %d a second%s%s; retry after %d s", s->cfg.rate_limit,
                    r->authed ? " with key " : " from this address", r->authed ? r->key.id : "",
                    wait);
}

/* The checks made at the headers; a reply queued here ends the request. */
static void at_headers(tl_req *r)
{
    size_t n;
    const tl_route *t = tl__routes(&n);
    char *buf = tl__req_alloc(r, strlen(r->path) + TL_ROUTE_MAX_PARAMS);
    if (!buf) {
        tl__reply_error(r, 414, "uri_too_long", NULL, -1, "the path is too long");
        return;
    }
    tl_route_status st = tl__route_match(t, n, r->method, r->path, buf,
                                         strlen(r->path) + TL_ROUTE_MAX_PARAMS, &r->match);
    r->metric_route = r->match.path_route >= 0 ? r->match.path_route : (int)n;
    if (st == TL_ROUTE_NOT_FOUND) {
        tl__reply_error(r, 404, "not_found", NULL, -1, "no such resource (see docs/API.md)");
        return;
    }
    if (st == TL_ROUTE_NO_METHOD) {
        r->allow = r->match.allow;
        if (strcmp(r->method, "OPTIONS") == 0)
            tl__reply_empty(r, 204);
        else
            tl__reply_error(r, 405, "method_not_allowed", NULL, -1,
                            "%.32s is not allowed here; allowed: %s", r->method, r->allow);
        return;
    }
    if (st == TL_ROUTE_BAD_PARAM) {
        tl__reply_error(r, 400, "invalid", "id", -1,
                        "the id in the path is not valid UTF-8 text with %%-escapes");
        return;
    }
    r->route = &t[r->match.route];
    authorize(r);
    if (!r->queued && !r->denied)
        rate_limit(r);
    if (r->queued || !r->route->takes_body)
        return;
    if (!is_json(
            MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE))) {
        tl__reply_error(r, 415, "unsupported_media_type", NULL, -1,
                        "the body must be JSON (Content-Type: application/json)");
        return;
    }
    const char *cl =
        MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    long long len = cl ? strtoll(cl, NULL, 10) : 0;
    if (len > r->srv->cfg.max_body)
        reply_too_big(r);
    else
        r->body_cap = len > 0 ? (size_t)len : 0;
}

/* Appends a piece of the body; over the limit, drops it. Returns 0, or -1 to close the
 * connection. */
static int take_body(tl_req *r, const char *data, size_t n)
{
    size_t max = (size_t)r->srv->cfg.max_body;
    if (!r->route || !r->route->takes_body || r->too_big || n > max - r->body_len) {
        r->too_big = r->route && r->route->takes_body;
        r->dropped += n; /* a body nobody asked for is dropped as it comes, as is the excess */
        return r->dropped / DROP_FACTOR > max ? -1 : 0;
    }
    if (r->body_len + n > r->body_cap || !r->body) {
        size_t cap = r->body_cap ? r->body_cap : BODY_FIRST_CAP;
        while (cap < r->body_len + n)
            cap = cap > max / 2 ? max : cap * 2;
        char *b = realloc(r->body, cap);
        if (!b)
            return -1;
        r->body = b;
        r->body_cap = cap;
    }
    memcpy(r->body + r->body_len, data, n);
    r->body_len += n;
    return 0;
}

enum MHD_Result tl__dispatch(void *cls, struct MHD_Connection *conn, const char *url,
                             const char *method, const char *version, const char *upload,
                             size_t *upload_size, void **con_cls)
{
    tl_server *s = cls;
    tl_req *r = *con_cls;
    (void)version;
    if (!r) {
        if (!(r = malloc(sizeof(*r))))
            return MHD_NO; /* closes the connection: nothing can be answered */
        memset(r, 0, offsetof(tl_req, arena));
        r->srv = s;
        r->conn = conn;
        r->method = method;
        r->path = url;
        r->t0 = tl_now();
        *con_cls = r;
        atomic_fetch_add_explicit(&s->in_flight, 1, memory_order_relaxed);
        tl__request_id(r);
        at_headers(r);
        return MHD_YES;
    }
    if (*upload_size) {
        int rc = r->queued ? 0 : take_body(r, upload, *upload_size);
        *upload_size = 0;
        return rc == 0 ? MHD_YES : MHD_NO;
    }
    if (r->queued)
        return MHD_YES;
    if (r->denied || !r->route)
        return MHD_NO; /* its refusal could not be queued: close the connection */
    if (r->too_big) {
        reply_too_big(r);
    } else { /* the request acts for its key's tenant, and the thread for none after it */
        tl_service_act_for(r->authed ? &r->key : NULL);
        r->route->fn(r);
        tl_service_act_for(NULL);
    }
    return r->queued ? MHD_YES : MHD_NO;
}

void tl__completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                   enum MHD_RequestTerminationCode toe)
{
    tl_server *s = cls;
    tl_req *r = *con_cls;
    (void)conn;
    if (!r)
        return;
    double dt = tl_now() - r->t0;
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK && !r->queued)
        r->status = r->too_big ? 413 : 408; /* closed, or the client went away or timed out */
    if (!r->metered)
        tl__metrics_observe(&s->metrics, r->metric_route, r->status, dt);
    tl__log_request(r, dt);
    free(r->body);
    free(r);
    *con_cls = NULL;
    atomic_fetch_sub_explicit(&s->in_flight, 1, memory_order_relaxed);
}
