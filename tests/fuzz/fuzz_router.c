/* The server's parsers of outside input without a socket: the router over a method and a raw
 * path (matching, %-decoding of {id} segments), and POST /v1/events bodies (the depth check,
 * jansson, the conversion to events, ISO-8601 times). The first byte chooses the path and the
 * limits; the rest is the input. Invariants are checked, not only the absence of a crash. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "server/events_json.h"
#include "server/http_json.h"
#include "server/router.h"
#include "server/utf8.h"

/* "METHOD\nPATH": the router's answer must be consistent with the table. */
static void route(const char *text)
{
    size_t n;
    const tl_route *t = tl__routes(&n);
    const char *nl = strchr(text, '\n');
    char method[16];
    size_t ml = nl ? (size_t)(nl - text) : 0;
    if (ml >= sizeof(method))
        ml = sizeof(method) - 1;
    memcpy(method, text, ml);
    method[ml] = '\0';
    const char *path = nl ? nl + 1 : text;
    size_t cap = strlen(path) + TL_ROUTE_MAX_PARAMS;
    char *buf = malloc(cap);
    TL_FUZZ_CHECK(buf);
    tl_route_match m;
    tl_route_status st = tl__route_match(t, n, method, path, buf, cap, &m);
    TL_FUZZ_CHECK((st == TL_ROUTE_NOT_FOUND) == (m.path_route < 0));
    if (st == TL_ROUTE_OK) {
        TL_FUZZ_CHECK(m.route >= 0 && (size_t)m.route < n);
        int braces = 0;
        for (const char *p = t[m.route].pub.pattern; *p; p++)
            braces += *p == '{';
        TL_FUZZ_CHECK(m.n_params == braces);
        for (int k = 0; k < m.n_params; k++) {
            size_t len = strlen(m.params[k]);
            TL_FUZZ_CHECK(len > 0 && tl__utf8_check(m.params[k], len) < 0);
            TL_FUZZ_CHECK(m.params[k] >= buf && m.params[k] + len < buf + cap);
        }
    }
    if (st == TL_ROUTE_NO_METHOD)
        TL_FUZZ_CHECK(strstr(m.allow, "OPTIONS") != NULL);
    free(buf);
}

/* A POST /v1/events body: either an error that names a field and says why, or events that
 * hold what the service expects. */
static void events(const char *text, size_t size, uint8_t sel)
{
    int depth = 2 + sel % 16;
    size_t max = 1 + (sel >> 4) % 8, n = 0, bad = 0;
    if (!tl__json_depth_ok(text, size, depth))
        return;
    json_t *j = json_loadb(text, size, JSON_REJECT_DUPLICATES, NULL);
    if (!j)
        return;
    tl_event_rec *ev = NULL;
    tl_diag d;
    tl_diag_clear(&d);
    tl_err rc = tl__events_from_json(j, max, &ev, &n, &bad, &d);
    size_t count = json_is_array(j) ? json_array_size(j) : 1;
    if (rc == TL_OK) {
        TL_FUZZ_CHECK(n == count && n >= 1 && n <= max);
        for (size_t i = 0; i < n; i++) {
            TL_FUZZ_CHECK(ev[i].user && ev[i].user_len == strlen(ev[i].user) && ev[i].user_len);
            TL_FUZZ_CHECK(ev[i].item && ev[i].item_len == strlen(ev[i].item) && ev[i].item_len);
            TL_FUZZ_CHECK(ev[i].type && *ev[i].type);
            TL_FUZZ_CHECK(ev[i].ts >= TL_TIME_MIN && ev[i].ts <= TL_TIME_MAX);
            TL_FUZZ_CHECK(!ev[i].has_value || isfinite(ev[i].value));
        }
        free(ev);
    } else {
        TL_FUZZ_CHECK(rc == TL_EINVAL || rc == TL_ETOOBIG || rc == TL_ENOMEM);
        TL_FUZZ_CHECK(rc == TL_ENOMEM || (d.field[0] && d.msg[0]));
        TL_FUZZ_CHECK(rc != TL_EINVAL || bad < count || count == 0);
    }
    json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    char *text = malloc(size);
    TL_FUZZ_CHECK(text);
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0'; /* paths and times are C strings; a NUL inside ends them early */
    int64_t ts;
    switch (data[0] % 4) {
    case 0:
        route(text);
        break;
    case 1:
        events(text, size - 1, (uint8_t)(data[0] >> 2));
        break;
    case 2:
        if (tl__iso8601_seconds(text, &ts) == 0)
            TL_FUZZ_CHECK(ts >= TL_TIME_MIN && ts <= TL_TIME_MAX);
        break;
    default: {
        char *out = malloc(size);
        TL_FUZZ_CHECK(out);
        long len = tl__percent_decode(text, strlen(text), data[0] & 4, out);
        TL_FUZZ_CHECK(len < 0 ||
                      ((size_t)len == strlen(out) && tl__utf8_check(out, (size_t)len) < 0));
        free(out);
    }
    }
    free(text);
    return 0;
}
