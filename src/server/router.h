/* Routing: a table of {method, pattern, handler} (routes.c holds the one table) and the
 * matcher that picks a route for a method and a raw path, with the {id} segments
 * percent-decoded. No libmicrohttpd here, so that the fuzz target reaches it directly. */
#ifndef TL_SERVER_ROUTER_H
#define TL_SERVER_ROUTER_H

#include <stddef.h>

#include "server/server.h"

#define TL_ROUTE_MAX_PARAMS 2 /* {id} segments in one pattern */
#define TL_ROUTE_ALLOW_MAX 64 /* "GET, HEAD, POST, OPTIONS" */

typedef struct tl_req tl_req;
typedef void (*tl_handler)(tl_req *r);

/* Who may call a route (unless the server runs with --no-auth): dispatch.c checks the key at
 * the headers, before any body is read. */
typedef enum tl_route_auth {
    TL_AUTH_KEY,       /* any valid key */
    TL_AUTH_OPEN,      /* no key needed (health) */
    TL_AUTH_STAFF,     /* an admin or app key (not about one patron) */
    TL_AUTH_USER,      /* about the patron {id} (params[0]): admin, app, or that patron's key */
    TL_AUTH_EVENTS,    /* admin, app, or a patron key for its own events (the handler checks each
                          event of the batch) */
    TL_AUTH_TRAIN,     /* admin */
    TL_AUTH_CATALOGUE, /* admin of the consortium: changes to the shared catalogue */
    TL_AUTH_PATRONS,   /* admin (a tenant's too): patrons' records (TL_KEY_PATRON_RECORDS) */
    TL_AUTH_KEYS,      /* admin of the consortium: audit, analytics, impressions, experiments */
    TL_AUTH_OWN_KEYS,  /* admin (a tenant's: its tenant's keys): make, list and revoke keys */
    TL_AUTH_OWN,       /* the patron {id}'s rights (export, erase, consent): admin, or that
                          patron's own key */
} tl_route_auth;

typedef struct tl_route {
    tl_server_route pub; /* method and pattern: what tl_server_route_at lists */
    tl_handler fn;       /* answers the request (http_json.h), every path through it */
    int takes_body;      /* a JSON body is read (and limited, and its Content-Type checked) */
    tl_route_auth auth;  /* who may call it */
} tl_route;

typedef enum tl_route_status {
    TL_ROUTE_OK,        /* m->route names the route; m->params hold the decoded segments */
    TL_ROUTE_NOT_FOUND, /* no pattern matches the path */
    TL_ROUTE_NO_METHOD, /* patterns match, not with this method: m->allow lists the methods */
    TL_ROUTE_BAD_PARAM, /* the route matched, but a segment does not decode to UTF-8 text
                           without NUL (a bad %-escape): m->route and m->bad_param say which */
} tl_route_status;

typedef struct tl_route_match {
    int route;      /* the index of the route in the table, -1 when none */
    int path_route; /* the first route whose pattern matched the path (any method), or -1 */
    const char *params[TL_ROUTE_MAX_PARAMS]; /* decoded, NUL-terminated, in buf */
    int n_params, bad_param;
    char allow[TL_ROUTE_ALLOW_MAX]; /* the path's methods, "GET, HEAD, OPTIONS" */
} tl_route_match;

/* Matches method and path (raw: %-escapes intact, no query) against the n routes of t. A GET
 * route also answers HEAD. The decoded {id} segments are written to buf (cap bytes;
 * strlen(path) + TL_ROUTE_MAX_PARAMS always suffices; TL_ROUTE_BAD_PARAM when it does not). */
tl_route_status tl__route_match(const tl_route *t, size_t n, const char *method, const char *path,
                                char *buf, size_t cap, tl_route_match *m);

/* The server's routing table (routes.c) and its length. */
const tl_route *tl__routes(size_t *n);

/* Decodes %XX escapes of s[0..len) into out (at least len + 1 bytes), NUL-terminated; with
 * plus, '+' is a space (query strings). Returns the decoded length, or -1 for a bad escape, a
 * NUL byte or invalid UTF-8. */
long tl__percent_decode(const char *s, size_t len, int plus, char *out);

#endif
