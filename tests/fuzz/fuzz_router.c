/* The server's parsers of outside input without a socket: the router over a method and a raw
 * path (matching, %-decoding of {id} segments), POST /v1/events bodies (the depth check,
 * jansson, the conversion to events, ISO-8601 times), and the bodies of /v1/items and
 * /v1/users (one record or a batch, each validated as the importer does; a record that is
 * accepted answers JSON that reads back as the same record). The first byte chooses the path
 * and the limits; the rest is the input. Invariants are checked, not only the absence of a
 * crash. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "server/events_json.h"
#include "server/http_json.h"
#include "server/records_json.h"
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

/* A record as the API answers it, and what it must read back as. */
typedef struct answer {
    json_t *first; /* the answer for the body's record, NULL before */
    json_t *again; /* the answer for that answer read back */
} answer;

static tl_err item_answer(void *ctx, const tl_item_rec *r, tl_diag *d)
{
    (void)d;
    json_t **slot = ctx;
    *slot = tl__item_json(r);
    TL_FUZZ_CHECK(*slot);
    return TL_OK;
}

static tl_err user_answer(void *ctx, const tl_user_rec *r, tl_diag *d)
{
    (void)d;
    json_t **slot = ctx;
    *slot = tl__user_json(r);
    TL_FUZZ_CHECK(*slot);
    return TL_OK;
}

/* One record text through the importer's rules: an error names what is wrong, and an accepted
 * record's answer (what GET gives) reads back as the same answer (what PUT takes). */
static void record(const tl_ingest_opts *o, const char *text, size_t len)
{
    answer a = {0};
    tl_ingest_sink sink = {.ctx = &a.first, .item = item_answer, .user = user_answer};
    tl_diag d;
    tl_err rc = tl_ingest_json(o, text, len, &sink, &d);
    if (rc != TL_OK) {
        TL_FUZZ_CHECK(rc == TL_EPARSE || rc == TL_ENOMEM);
        TL_FUZZ_CHECK(rc == TL_ENOMEM || d.msg[0]);
        return;
    }
    TL_FUZZ_CHECK(a.first);
    char *back = json_dumps(a.first, JSON_COMPACT);
    TL_FUZZ_CHECK(back);
    sink.ctx = &a.again;
    TL_FUZZ_CHECK(tl_ingest_json(o, back, strlen(back), &sink, &d) == TL_OK);
    TL_FUZZ_CHECK(json_equal(a.first, a.again));
    free(back);
    json_decref(a.first);
    json_decref(a.again);
}

/* A body of /v1/items or /v1/users: items or users (bit 0), one record with a path id or a
 * batch (bit 1), the batch limit (the bits above). */
static void records(const char *text, size_t size, uint8_t sel)
{
    int bulk = sel & 2;
    size_t max = 1 + (sel >> 2) % 8, n = 0, bad = 0;
    if (!tl__json_depth_ok(text, size, 16))
        return;
    json_t *j = json_loadb(text, size, JSON_REJECT_DUPLICATES, NULL);
    if (!j)
        return;
    char **texts = NULL;
    size_t *lens = NULL;
    tl_diag d;
    tl_diag_clear(&d);
    tl_err rc = tl__records_from_json(j, bulk, bulk ? NULL : "p", max, &texts, &lens, &n, &bad, &d);
    if (rc == TL_OK) {
        tl_ingest_opts o;
        tl_ingest_opts_init(&o);
        o.kind = sel & 1 ? TL_INGEST_USERS : TL_INGEST_ITEMS;
        TL_FUZZ_CHECK(n <= max && (bulk || n == 1));
        for (size_t k = 0; k < n; k++) {
            TL_FUZZ_CHECK(texts[k] && lens[k] == strlen(texts[k]));
            record(&o, texts[k], lens[k]);
        }
        tl__record_texts_free(texts, lens, n);
    } else {
        TL_FUZZ_CHECK(rc == TL_EINVAL || rc == TL_ETOOBIG || rc == TL_ENOMEM);
        TL_FUZZ_CHECK(rc == TL_ENOMEM || d.msg[0]);
        TL_FUZZ_CHECK(rc != TL_EINVAL || bad == TL_RECORDS_BODY || bad < n + max);
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
    case 2: /* the seeds of times have no other bit set */
        if (data[0] & 4) {
            records(text, size - 1, (uint8_t)(data[0] >> 3));
            break;
        }
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
