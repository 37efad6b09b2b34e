/* Request ids and the log: one JSON object per request (ts, request id, method, path, status,
 * duration), and one per event of the server and its caller (ts, level, what, message), handed
 * to the configured log callback; the server never prints itself. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "server/http_json.h"
#include "server/server_int.h"

#define LOG_LINE_MAX 2048 /* a longer line (a huge path) is dropped, not cut into bad JSON */

/* A client's id is echoed only when it cannot inject anything into headers or logs. */
static int plain_id(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return n > 0 && n <= TL_REQ_ID_MAX &&
           strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:-") == n;
}

void tl__request_id(tl_req *r)
{
    const char *given = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "X-Request-Id");
    if (plain_id(given)) {
        memcpy(r->id, given, strlen(given) + 1);
        return;
    }
    unsigned long long n = atomic_fetch_add_explicit(&r->srv->next_id, 1, memory_order_relaxed);
    snprintf(r->id, sizeof(r->id), "%08x%08llx", r->srv->id_prefix, n);
}

/* Now as ISO-8601 UTC with milliseconds. */
static void timestamp(char *buf, size_t len)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, len - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

static void emit(const tl_server_config *c, json_t *j)
{
    char line[LOG_LINE_MAX];
    size_t n = j ? json_dumpb(j, line, sizeof(line) - 1, JSON_COMPACT | JSON_REAL_PRECISION(6)) : 0;
    if (n && n < sizeof(line)) {
        line[n] = '\0';
        c->log(c->log_ctx, line);
    }
    json_decref(j);
}

void tl__log_request(const tl_req *r, double seconds)
{
    const tl_server *s = r->srv;
    if (!s->cfg.log || s->cfg.quiet)
        return;
    char ts[40];
    timestamp(ts, sizeof(ts));
    /* with pseudonymized patrons, a path such as /v1/users/ID/... would put the plain id in
     * the log: the route's pattern goes there instead */
    const char *path = !s->redact_paths ? r->path : r->route ? r->route->pub.pattern : "(no route)";
    emit(&s->cfg,
         json_pack("{s:s, s:s, s:s, s:o, s:o, s:i, s:f}", "ts", ts, "level", "info", "request_id",
                   r->id, "method", tl__json_text(r->method), "path", tl__json_text(path), "status",
                   (int)r->status, "duration_ms", seconds * 1e3));
}

void tl_server_log(const tl_server_config *c, const char *level, const char *what,
                   const char *message)
{
    if (!c->log)
        return;
    char ts[40];
    timestamp(ts, sizeof(ts));
    emit(c, json_pack("{s:s, s:o, s:o, s:o}", "ts", ts, "level", tl__json_text(level), "what",
                      tl__json_text(what), "message", tl__json_text(message)));
}

void tl__log_error(const tl_server *s, const char *what, const char *detail)
{
    tl_server_log(&s->cfg, "error", what, detail);
}
