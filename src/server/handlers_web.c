/* The web page: GET / (web/index.html) and GET /web/NAME (the files of web/, built into the
 * binary: see web_assets.h), each with its type, an ETag (a conditional GET is answered 304)
 * and a Content-Security-Policy that lets the page run its own scripts only, talk to this
 * server only and show covers from https: links. And GET /v1/users: the patrons a demo page
 * offers to be shown as. */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/handlers.h"
#include "server/http_json.h"
#include "server/web_assets.h"

#define ETAG_LEN 20 /* "\"" 16 hex digits "\"" and a NUL */
#define MAX_ASSETS 64

/* The page's scripts and styles come from this server only, never inline; covers may come
 * from the catalogue's https: links; no other page may frame it. */
static const char csp[] = "default-src 'self'; script-src 'self'; style-src 'self'; "
                          "img-src 'self' data: https:; connect-src 'self'; font-src 'self'; "
                          "object-src 'none'; base-uri 'none'; form-action 'self'; "
                          "frame-ancestors 'none'";

static char etags[MAX_ASSETS][ETAG_LEN];
static pthread_once_t etags_once = PTHREAD_ONCE_INIT;

_Static_assert(sizeof(etags) / sizeof(etags[0]) == MAX_ASSETS, "one ETag per file");

/* FNV-1a, 64 bits, of each file: the files never change while the binary runs. */
static void make_etags(void)
{
    for (size_t k = 0; k < tl__web_assets_n && k < MAX_ASSETS; k++) {
        uint64_t h = 14695981039346656037ULL;
        for (size_t i = 0; i < *tl__web_assets[k].len; i++)
            h = (h ^ tl__web_assets[k].data[i]) * 1099511628211ULL;
        snprintf(etags[k], ETAG_LEN, "\"%016" PRIx64 "\"", h);
    }
}

static void serve(tl_req *r, const char *name)
{
    size_t k = 0;
    while (k < tl__web_assets_n && k < MAX_ASSETS && strcmp(tl__web_assets[k].name, name) != 0)
        k++;
    if (k == tl__web_assets_n || k == MAX_ASSETS) {
        tl__reply_error(r, 404, "not_found", "file", -1, "no file '%.80s' in the web page", name);
        return;
    }
    pthread_once(&etags_once, make_etags);
    const char *headers[] = {"ETag",
                             etags[k],
                             "Content-Security-Policy",
                             csp,
                             "X-Content-Type-Options",
                             "nosniff",
                             "Referrer-Policy",
                             "no-referrer",
                             NULL};
    r->cache = "no-cache"; /* kept, and checked with the ETag each time: a new binary shows */
    const char *want =
        MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
    if (want && strstr(want, etags[k]))
        tl__reply_static(r, 304, NULL, "", 0, headers);
    else
        tl__reply_static(r, 200, tl__web_assets[k].ctype, tl__web_assets[k].data,
                         *tl__web_assets[k].len, headers);
}

void tl__h_web_index(tl_req *r)
{
    serve(r, "index.html");
}

void tl__h_web_file(tl_req *r)
{
    serve(r, r->match.params[0]);
}

/* ---- GET /v1/users?limit=N ---------------------------------------------------------------- */

#define USERS_DEFAULT 50
#define USERS_MAX 1000

typedef struct users_query {
    long limit;
    const char *bad; /* the parameter at fault, or NULL */
} users_query;

static enum MHD_Result on_param(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *value)
{
    users_query *q = cls;
    (void)kind;
    if (strcmp(key, "limit") == 0) {
        char *end = NULL;
        q->limit = value ? strtol(value, &end, 10) : -1;
        if (!value || !*value || *end || q->limit < 1 || q->limit > USERS_MAX)
            q->bad = "limit";
    } else {
        q->bad = key;
    }
    return q->bad ? MHD_NO : MHD_YES;
}

static tl_err add_patron(void *ctx, const char *user, long long events)
{
    json_t *o = json_pack("{s:o, s:I}", "id", tl__json_text(user), "events", (json_int_t)events);
    return o && json_array_append_new(ctx, o) == 0 ? TL_OK : TL_ENOMEM;
}

void tl__h_users(tl_req *r)
{
    users_query q = {USERS_DEFAULT, NULL};
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, on_param, &q);
    if (q.bad) {
        tl__reply_error(r, 400, "invalid", q.bad, -1,
                        strcmp(q.bad, "limit") == 0 ? "limit must be a whole number from 1 to %d"
                                                    : "unknown parameter (limit is the only one; "
                                                      "at most %d)",
                        USERS_MAX);
        return;
    }
    json_t *arr = json_array();
    int pseudonymized = 0;
    tl_diag d;
    tl_diag_clear(&d);
    tl_err rc = arr ? tl_service_list_patrons(r->srv->svc, (int)q.limit, add_patron, arr,
                                              &pseudonymized, &d)
                    : TL_ENOMEM;
    if (rc != TL_OK) {
        json_decref(arr);
        tl__reply_failure(r, rc, &d, NULL);
        return;
    }
    tl__reply_json(r, 200, json_pack("{s:o, s:b}", "users", arr, "pseudonymized", pseudonymized));
}
