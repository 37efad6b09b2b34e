/* The server's private state, shared by its files: the running server and one request as it
 * passes through dispatch.c (limits, routing), a handler and the reply helpers of
 * http_json.h. Nothing here is seen outside src/server/. */
#ifndef TL_SERVER_INT_H
#define TL_SERVER_INT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <microhttpd.h>

#include "server/metrics.h"
#include "server/ratelimit.h"
#include "server/router.h"
#include "server/server.h"

#define TL_REQ_ID_MAX 64      /* a client's X-Request-Id is echoed up to this length */
#define TL_REQ_ARENA 8192     /* decoded path and query values of one request */
#define TL_REQ_MAX_FILTERS 32 /* filters of one recommendation request */

struct tl_server {
    struct MHD_Daemon *mhd;
    tl_service *svc;
    tl_server_config cfg; /* a copy; only cors_origin of its strings is kept */
    tl_metrics metrics;
    tl_ratelimit *limits;  /* NULL: no rate limit */
    atomic_long in_flight; /* requests begun and not yet completed */
    atomic_int stopping;   /* tl_server_stop began: not ready for more (GET /v1/ready 503) */
    int redact_paths;      /* patron ids are pseudonymized: the log names routes, not paths */
    atomic_ullong next_id; /* request ids: id_prefix, then this counter */
    unsigned id_prefix;    /* random per start, so that ids differ between runs */
    int port;
};

/* One request, from its headers to the completion of its response: one allocation. */
struct tl_req {
    tl_server *srv;
    struct MHD_Connection *conn;
    const char *method, *path; /* MHD's, valid until completion; path without the query */
    const tl_route *route;     /* NULL when nothing matched */
    tl_route_match match;
    double t0;         /* monotonic seconds at the first byte of the headers */
    unsigned status;   /* of the response (what the log and the metrics count) */
    int queued;        /* a response is queued (else the connection is closed) */
    int metered;       /* counted in the metrics (when queued: before the client can see it) */
    int metric_route;  /* tl_metrics row: the route index, or the "unmatched" row */
    const char *allow; /* the Allow header (405, OPTIONS), or NULL */
    int challenge;     /* a 401: the WWW-Authenticate header goes with it */
    int retry_after;   /* a 429: seconds for the Retry-After header (0 = none) */
    const char *cache; /* the Cache-Control header; NULL: no-store (API answers) */
    int denied;        /* refused at the headers: the handler never runs */
    int authed;        /* key holds the request's key (else the server runs with --no-auth) */
    tl_key_info key;
    char *body; /* a JSON body being received (routes that take one) */
    size_t body_len, body_cap;
    int too_big;    /* the body went over the limit while it came: 413 at its end */
    size_t dropped; /* bytes discarded since (a connection is closed past a bound) */
    char id[TL_REQ_ID_MAX + 1];
    size_t arena_used;
    char arena[TL_REQ_ARENA];
};

/* n bytes of the request's arena, or NULL when it is full (the request is then too long). */
char *tl__req_alloc(tl_req *r, size_t n);

/* libmicrohttpd's callbacks (dispatch.c). */
enum MHD_Result tl__dispatch(void *cls, struct MHD_Connection *conn, const char *url,
                             const char *method, const char *version, const char *upload,
                             size_t *upload_size, void **con_cls);
void tl__completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                   enum MHD_RequestTerminationCode toe);

/* One structured JSON line for the log (reqlog.c): the request's, at completion. */
void tl__log_request(const tl_req *r, double seconds);
/* An error line of the server itself ("level":"error"). */
void tl__log_error(const tl_server *s, const char *what, const char *detail);
/* The request id: the client's X-Request-Id when it is short and plain, else a fresh one. */
void tl__request_id(tl_req *r);

#endif
