/* The catalogue and patrons' records over HTTP (/v1/items, /v1/users: create, read, replace,
 * merge, delete, all-or-none batches; 404, 409, 413, 415, 422), who may do what with them, and
 * POST /v1/events with an Idempotency-Key (a retry stores nothing twice). `tailor serve` runs
 * as a child process with API keys; what the store holds is read with `tailor stats`. */
#include "support.h"

#include <curl/curl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "serve_child.h"

static const char EVENTS[] = "user\titem\ttimestamp\n"
                             "p1\ta\t1000\n"
                             "u1\ta\t1000\nu1\tx\t1001\n"
                             "u2\ta\t1000\nu2\tb\t1001\n"
                             "u3\tx\t1000\nu3\ty\t1001\n";
static const char ITEMS[] = "item\ttitle\ttype\n"
                            "a\tAlpha\tbook\nb\tBeta\tbook\nx\tXylophone Tales\tbook\n"
                            "y\tYellow River\tvideo\n";

static char admin_key[128], app_key[128], patron_key[128];
static int test_no;

typedef struct fixture {
    tl_test_server srv;
    char db[512], model[512];
    const char *key; /* the key requests carry (admin_key unless a test says otherwise) */
} fixture;

typedef struct reply {
    long status;
    char *body;
    json_t *json;
} reply;

/* Runs `tailor key create ARGS` on db and copies the key (the last word printed) to key. */
static int make_key(const char *db, const char *args, char *key, size_t len)
{
    if (tl_test_cli("--db '%s' key create %s", db, args) != 0)
        return -1;
    char *out = tl_test_cli_out();
    if (!out)
        return -1;
    size_t n = strlen(out);
    while (n && (out[n - 1] == '\n' || out[n - 1] == ' '))
        out[--n] = '\0';
    const char *w = out + n;
    while (w > out && w[-1] != ' ' && w[-1] != '\n')
        w--;
    snprintf(key, len, "%s", w);
    free(out);
    return strncmp(key, "tl_", 3) == 0 ? 0 : -1;
}

static int make_data(void **state)
{
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const char *db = tl_test_tmp("base.db");
    if (tl_test_write(tl_test_tmp("events.tsv"), EVENTS) ||
        tl_test_write(tl_test_tmp("items.tsv"), ITEMS) ||
        tl_test_cli("--db '%s' import items '%s'", db, tl_test_tmp("items.tsv")) != 0 ||
        tl_test_cli("--db '%s' import events '%s'", db, tl_test_tmp("events.tsv")) != 0 ||
        tl_test_cli("--db '%s' train --model itemknn --set autotune=0 --out '%s'", db,
                    tl_test_tmp("m.tlm")) != 0 ||
        tl_test_cli("--db '%s' train --model popular --set autotune=0 --out '%s'", db,
                    tl_test_tmp("m2.tlm")) != 0)
        return -1;
    if (make_key(db, "--role admin", admin_key, sizeof(admin_key)) ||
        make_key(db, "--role app", app_key, sizeof(app_key)) ||
        make_key(db, "--role patron --user p1", patron_key, sizeof(patron_key)))
        return -1;
    return 0;
}

static int free_data(void **state)
{
    (void)state;
    curl_global_cleanup();
    return 0;
}

/* A server on fresh copies of the base store and model (a training rewrites the served file),
 * with extra arguments (NULL-terminated). */
static void start(fixture *f, const char *const *extra)
{
    char name[64], err[512];
    snprintf(name, sizeof(name), "c%d.db", ++test_no);
    snprintf(f->db, sizeof(f->db), "%s", tl_test_tmp(name));
    assert_int_equal(tl_test_sh("cp '%s' '%s'", tl_test_tmp("base.db"), f->db), 0);
    snprintf(name, sizeof(name), "c%d.tlm", test_no);
    snprintf(f->model, sizeof(f->model), "%s", tl_test_tmp(name));
    assert_int_equal(tl_test_sh("cp '%s' '%s'", tl_test_tmp("m.tlm"), f->model), 0);
    snprintf(name, sizeof(name), "c%d.err", test_no);
    snprintf(err, sizeof(err), "%s", tl_test_tmp(name));
    if (tl_test_serve_with(&f->srv, f->db, f->model, err, TL_TEST_AUTH, extra) != 0) {
        char *e = tl_test_read(err);
        fail_msg("the server did not start: %.2000s", e ? e : "");
    }
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    f->key = admin_key;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    tl_test_serve_stop(&f->srv, SIGKILL);
    free(f);
    return 0;
}

/* One request with f->key; body NULL = none; idem: an Idempotency-Key or NULL. */
static reply call_idem(const fixture *f, const char *method, const char *path, const char *body,
                       const char *idem)
{
    char auth[256], ik[512];
    const char *h[4] = {NULL};
    int n = 0;
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", f->key);
    h[n++] = auth;
    if (body)
        h[n++] = "Content-Type: application/json";
    if (idem) {
        snprintf(ik, sizeof(ik), "Idempotency-Key: %s", idem);
        h[n++] = ik;
    }
    reply r = {0};
    r.status =
        tl_test_http_headers(f->srv.port, method, path, h, body, body ? strlen(body) : 0, &r.body);
    if (r.status < 0)
        fail_msg("%s %s: no answer", method, path);
    if (r.body)
        r.json = json_loads(r.body, 0, NULL);
    return r;
}

static reply call(const fixture *f, const char *method, const char *path, const char *body)
{
    return call_idem(f, method, path, body, NULL);
}

static void reply_free(reply *r)
{
    free(r->body);
    json_decref(r->json);
}

/* Asserts the status and, for an error, its code and field (NULL: no field); frees r. */
static void expect(reply r, long status, const char *code, const char *field)
{
    if (r.status != status)
        fail_msg("expected %ld, got %ld: %s", status, r.status, r.body ? r.body : "");
    if (code) {
        json_t *e = json_object_get(r.json, "error");
        const char *got = json_string_value(json_object_get(e, "code"));
        const char *fl = json_string_value(json_object_get(e, "field"));
        if (!got || strcmp(got, code) != 0 || (field ? !fl || strcmp(fl, field) != 0 : fl != NULL))
            fail_msg("expected error %s field %s, got %s", code, field ? field : "(none)",
                     r.body ? r.body : "");
    }
    reply_free(&r);
}

static const char *str(const reply *r, const char *key)
{
    return json_string_value(json_object_get(r->json, key));
}

static json_int_t num(const reply *r, const char *key)
{
    return json_integer_value(json_object_get(r->json, key));
}

/* What the store holds, from `tailor stats --json` (the server keeps it open meanwhile). */
static long long store_count(const fixture *f, const char *what)
{
    assert_int_equal(tl_test_cli("--db '%s' stats --json", f->db), 0);
    char *out = tl_test_cli_out();
    json_t *j = json_loads(out ? out : "", 0, NULL);
    free(out);
    assert_non_null(j);
    long long n = (long long)json_integer_value(json_object_get(j, what));
    json_decref(j);
    return n;
}

/* ---- items ---------------------------------------------------------------------------------- */

static void test_item_create_get_conflict(void **state)
{
    fixture *f = *state;
    start(f, NULL);
    long long items = store_count(f, "items");
    reply r = call(f, "POST", "/v1/items",
                   "{\"id\":\"n1\",\"title\":\"New One\",\"type\":\"ebook\","
                   "\"authors\":[\"Ann\",\"Bo\"],\"year\":2020,\"extra\":{\"isbn\":\"1\"}}");
    assert_int_equal(r.status, 201);
    assert_string_equal(str(&r, "id"), "n1");
    assert_string_equal(str(&r, "type"), "ebook");
    assert_int_equal(json_array_size(json_object_get(r.json, "authors")), 2);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(r.json, "extra"), "isbn")), "1");
    reply_free(&r);
    assert_int_equal(store_count(f, "items"), items + 1);
    r = call(f, "GET", "/v1/items/n1", NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(str(&r, "title"), "New One");
    assert_int_equal(num(&r, "year"), 2020);
    reply_free(&r);
    /* the same id again, an unknown id, a body without an id */
    expect(call(f, "POST", "/v1/items", "{\"id\":\"n1\",\"title\":\"Again\"}"), 409, "exists",
           "id");
    expect(call(f, "GET", "/v1/items/nope", NULL), 404, "not_found", "item");
    expect(call(f, "POST", "/v1/items", "{\"title\":\"No id\"}"), 422, "invalid_item", "id");
    expect(call(f, "POST", "/v1/items", "[{\"id\":\"n2\"}]"), 422, "invalid_item", NULL);
    expect(call(f, "POST", "/v1/items", "{\"id\":\"n2\",\"year\":\"soon\"}"), 422, "invalid_item",
           "year");
    expect(call(f, "POST", "/v1/items", "{\"id\":"), 400, "invalid_json", NULL);
    expect(call(f, "GET", "/v1/items/n2", NULL), 404, "not_found", "item");
    /* ids as long as events may name, not longer (TL_ID_MAX) */
    char body[1200], id[1030];
    memset(id, 'z', 1025);
    id[1025] = '\0';
    snprintf(body, sizeof(body), "{\"id\":\"%s\"}", id);
    expect(call(f, "POST", "/v1/items", body), 422, "invalid_item", "id");
    id[1024] = '\0';
    snprintf(body, sizeof(body), "{\"id\":\"%s\"}", id);
    expect(call(f, "POST", "/v1/items", body), 201, NULL, NULL);
    snprintf(body, sizeof(body), "{\"user\":\"u1\",\"item\":\"%s\",\"type\":\"loan\"}", id);
    expect(call(f, "POST", "/v1/events", body), 201, NULL, NULL);
    /* the title of the conflict stayed the first one */
    r = call(f, "GET", "/v1/items/n1", NULL);
    assert_string_equal(str(&r, "title"), "New One");
    reply_free(&r);
    /* not JSON */
    char auth[256];
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", admin_key);
    const char *h[] = {auth, "Content-Type: text/plain", NULL};
    assert_int_equal(tl_test_http_headers(f->srv.port, "POST", "/v1/items", h, "{}", 2, NULL), 415);
}

static void test_item_replace_and_merge(void **state)
{
    fixture *f = *state;
    start(f, NULL);
    /* PUT replaces the whole record: what it does not give is cleared */
    reply r = call(f, "PUT", "/v1/items/y", "{\"title\":\"Yellow Again\",\"type\":\"audio\"}");
    assert_int_equal(r.status, 200);
    assert_string_equal(str(&r, "title"), "Yellow Again");
    assert_string_equal(str(&r, "type"), "audio");
    reply_free(&r);
    r = call(f, "PATCH", "/v1/items/y", "{\"year\":1999,\"subjects\":\"rivers|maps\"}");
    assert_int_equal(r.status, 200);
    assert_string_equal(str(&r, "title"), "Yellow Again"); /* kept */
    assert_string_equal(str(&r, "type"), "audio");         /* kept, not the default book */
    assert_int_equal(num(&r, "year"), 1999);
    assert_int_equal(json_array_size(json_object_get(r.json, "subjects")), 2);
    reply_free(&r);
    r = call(f, "PUT", "/v1/items/y", "{\"id\":\"y\",\"title\":\"Plain\"}");
    assert_int_equal(r.status, 200);
    assert_string_equal(str(&r, "type"), "book");
    assert_true(json_is_null(json_object_get(r.json, "year")));
    assert_true(json_is_null(json_object_get(r.json, "subjects")));
    reply_free(&r);
    /* PUT of a new id creates it */
    r = call(f, "PUT", "/v1/items/new%2F1", "{\"title\":\"Slash\"}");
    assert_int_equal(r.status, 201);
    assert_string_equal(str(&r, "id"), "new/1");
    reply_free(&r);
    expect(call(f, "PATCH", "/v1/items/none", "{\"year\":1}"), 404, "not_found", "id");
    expect(call(f, "PUT", "/v1/items/y", "{\"id\":\"z\"}"), 422, "invalid_item", "id");
    expect(call(f, "PATCH", "/v1/items/y", "{\"copies\":-1}"), 422, "invalid_item", "copies");
    r = call(f, "GET", "/v1/items/y", NULL);
    assert_string_equal(str(&r, "title"), "Plain");
    reply_free(&r);
}

static void test_item_delete_takes_its_events(void **state)
{
    fixture *f = *state;
    start(f, NULL);
    long long events = store_count(f, "events"), items = store_count(f, "items");
    reply r = call(f, "DELETE", "/v1/items/a", NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(num(&r, "events_deleted"), 3); /* p1, u1 and u2 had a */
    reply_free(&r);
    assert_int_equal(store_count(f, "events"), events - 3);
    assert_int_equal(store_count(f, "items"), items - 1);
    expect(call(f, "GET", "/v1/items/a", NULL), 404, "not_found", "item");
    expect(call(f, "DELETE", "/v1/items/a", NULL), 404, "not_found", "item");
    /* the patron and the server go on: an event can name a again, which comes back bare */
    expect(call(f, "POST", "/v1/events", "{\"user\":\"p1\",\"item\":\"b\",\"type\":\"loan\"}"), 201,
           NULL, NULL);
}

/* Whether the answer's items (or any homepage row's) name item. */
static int names_item(json_t *items, const char *item)
{
    size_t k;
    json_t *it;
    json_array_foreach(items, k, it)
    {
        const char *id = json_string_value(json_object_get(it, "item"));
        if (id && strcmp(id, item) == 0)
            return 1;
    }
    return 0;
}

static int page_names_item(const reply *r, const char *item)
{
    size_t k;
    json_t *row;
    json_array_foreach(json_object_get(r->json, "rows"), k,
                       row) if (names_item(json_object_get(row, "items"), item)) return 1;
    return 0;
}

/* A withdrawn item leaves every answer at once, before any training. */
static void test_deleted_item_leaves_answers(void **state)
{
    fixture *f = *state;
    start(f, NULL);
    reply r = call(f, "GET", "/v1/users/p1/recommendations?n=10", NULL);
    assert_int_equal(r.status, 200);
    assert_true(names_item(json_object_get(r.json, "items"), "x")); /* u1 had a and x */
    reply_free(&r);
    r = call(f, "GET", "/v1/users/p1/homepage?rows=6&n=10", NULL);
    assert_int_equal(r.status, 200);
    assert_true(page_names_item(&r, "x"));
    reply_free(&r);
    expect(call(f, "DELETE", "/v1/items/x", NULL), 200, NULL, NULL);
    r = call(f, "GET", "/v1/users/p1/recommendations?n=10", NULL);
    assert_int_equal(r.status, 200);
    assert_false(names_item(json_object_get(r.json, "items"), "x"));
    assert_true(names_item(json_object_get(r.json, "items"), "b"));
    reply_free(&r);
    r = call(f, "GET", "/v1/items/a/similar?n=10", NULL);
    assert_int_equal(r.status, 200);
    assert_false(names_item(json_object_get(r.json, "items"), "x"));
    reply_free(&r);
    r = call(f, "GET", "/v1/users/p1/homepage?rows=6&n=10", NULL);
    assert_int_equal(r.status, 200);
    assert_false(page_names_item(&r, "x"));
    reply_free(&r);
    /* a patron with no history gets the popular list, without x too */
    r = call(f, "GET", "/v1/users/u3/recommendations?n=10", NULL);
    assert_int_equal(r.status, 200);
    assert_false(names_item(json_object_get(r.json, "items"), "x"));
    reply_free(&r);
}

static void test_items_bulk_all_or_none(void **state)
{
    fixture *f = *state;
    const char *extra[] = {"--max-batch", "3", NULL};
    start(f, extra);
    long long items = store_count(f, "items");
    reply r = call(f, "POST", "/v1/items/bulk",
                   "[{\"id\":\"k1\",\"title\":\"K1\"},{\"id\":\"k2\"},{\"id\":\"a\",\"title\":"
                   "\"Alpha\",\"type\":\"book\"}]");
    assert_int_equal(r.status, 200);
    assert_int_equal(num(&r, "written"), 3);
    assert_int_equal(num(&r, "added"), 2);
    assert_int_equal(num(&r, "unchanged"), 1);
    reply_free(&r);
    assert_int_equal(store_count(f, "items"), items + 2);
    /* one bad record: nothing of the batch is stored, and the answer says which and where */
    expect(call(f, "POST", "/v1/items/bulk",
                "[{\"id\":\"k3\"},{\"id\":\"k4\",\"available\":\"many\"}]"),
           422, "invalid_item", "[1].available");
    expect(call(f, "POST", "/v1/items/bulk", "[{\"id\":\"k3\"},7]"), 422, "invalid_item", "[1]");
    expect(call(f, "GET", "/v1/items/k3", NULL), 404, "not_found", "item");
    assert_int_equal(store_count(f, "items"), items + 2);
    expect(call(f, "POST", "/v1/items/bulk", "[{\"id\":\"1\"},{\"id\":\"2\"},{\"id\":\"3\"},{}]"),
           413, "batch_too_large", "records");
    expect(call(f, "POST", "/v1/items/bulk", "{\"id\":\"k5\"}"), 422, "invalid_item", NULL);
    r = call(f, "POST", "/v1/items/bulk", "[]");
    assert_int_equal(r.status, 200);
    assert_int_equal(num(&r, "written"), 0);
    reply_free(&r);
}

/* ---- users ---------------------------------------------------------------------------------- */

static void test_user_records_and_consent(void **state)
{
    fixture *f = *state;
    start(f, NULL);
    reply r = call(f, "POST", "/v1/users",
                   "{\"id\":\"p9\",\"attrs\":{\"department\":\"maths\"},\"personalize\":false}");
    assert_int_equal(r.status, 201);
    assert_true(json_is_false(json_object_get(r.json, "personalize")));
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(r.json, "attrs"), "department")),
        "maths");
    reply_free(&r);
    expect(call(f, "POST", "/v1/users", "{\"id\":\"p9\"}"), 409, "exists", "id");
    expect(call(f, "POST", "/v1/users", "{\"id\":\"p8\",\"personalize\":\"maybe\"}"), 422,
           "invalid_user", "personalize");
    /* opted out: the popular items, whatever p9 borrows, and the loan is not kept */
    long long events = store_count(f, "events");
    expect(call(f, "POST", "/v1/events", "{\"user\":\"p9\",\"item\":\"x\",\"type\":\"loan\"}"), 201,
           NULL, NULL);
    assert_int_equal(store_count(f, "events"), events);
    r = call(f, "GET", "/v1/users/p9/recommendations?n=2", NULL);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(str(&r, "fallback") ? str(&r, "fallback") : "", "opted out"));
    reply_free(&r);
    /* a merge keeps the attributes; consent given, the history counts */
    r = call(f, "PATCH", "/v1/users/p9", "{\"personalize\":true}");
    assert_int_equal(r.status, 200);
    assert_true(json_is_true(json_object_get(r.json, "personalize")));
    assert_true(json_is_object(json_object_get(r.json, "attrs")));
    reply_free(&r);
    expect(call(f, "POST", "/v1/events", "{\"user\":\"p9\",\"item\":\"x\",\"type\":\"loan\"}"), 201,
           NULL, NULL);
    r = call(f, "GET", "/v1/users/p9/recommendations?n=2", NULL);
    assert_int_equal(r.status, 200);
    assert_null(json_object_get(r.json, "fallback"));
    reply_free(&r);
    /* a replacement clears what it does not give */
    r = call(f, "PUT", "/v1/users/p9", "{\"created\":\"2026-01-02\"}");
    assert_int_equal(r.status, 200);
    assert_true(json_is_null(json_object_get(r.json, "attrs")));
    assert_int_equal(num(&r, "created"), 1767312000);
    reply_free(&r);
    /* bulk, then delete with the events */
    r = call(f, "POST", "/v1/users/bulk", "[{\"id\":\"q1\"},{\"id\":\"q2\",\"consent\":\"no\"}]");
    assert_int_equal(r.status, 200);
    assert_int_equal(num(&r, "added"), 2);
    reply_free(&r);
    expect(call(f, "POST", "/v1/users/bulk", "[{\"id\":\"q3\"},{\"id\":\"\"}]"), 422,
           "invalid_user", "[1].id");
    expect(call(f, "GET", "/v1/users/q3", NULL), 404, "not_found", "user");
    events = store_count(f, "events");
    r = call(f, "DELETE", "/v1/users/p9", NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(num(&r, "events_deleted"), 1);
    reply_free(&r);
    assert_int_equal(store_count(f, "events"), events - 1);
    expect(call(f, "GET", "/v1/users/p9", NULL), 404, "not_found", "user");
    expect(call(f, "PATCH", "/v1/users/p9", "{\"personalize\":true}"), 404, "not_found", "id");
}

/* ---- model= and the context ------------------------------------------------------------------ */

static void test_model_parameter(void **state)
{
    fixture *f = *state;
    char more[600], copy[512];
    snprintf(copy, sizeof(copy), "%s", tl_test_tmp("second.tlm")); /* a training rewrites it */
    assert_int_equal(tl_test_sh("cp '%s' '%s'", tl_test_tmp("m2.tlm"), copy), 0);
    snprintf(more, sizeof(more), "second=%s", copy);
    const char *const extra[] = {"--models", more, NULL};
    start(f, extra);
    reply r = call(f, "GET", "/v1/users/p1/recommendations?n=3", NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(str(&r, "model"), "itemknn");
    reply_free(&r);
    r = call(f, "GET", "/v1/users/p1/recommendations?n=3&model=itemknn", NULL);
    assert_string_equal(str(&r, "model"), "itemknn");
    reply_free(&r);
    r = call(f, "GET", "/v1/users/p1/recommendations?n=3&model=second", NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(str(&r, "model"), "second"); /* the name it was asked by */
    assert_null(json_object_get(r.json, "fallback"));
    reply_free(&r);
    /* the popular items of the main model, asked for: not personal, and it says so */
    r = call(f, "GET", "/v1/users/p1/recommendations?n=3&model=popular", NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(str(&r, "model"), "popular");
    assert_non_null(strstr(str(&r, "fallback"), "model=popular"));
    json_t *first = json_array_get(json_object_get(r.json, "items"), 0);
    assert_string_equal(json_string_value(json_object_get(first, "kind")), "popular");
    reply_free(&r);
    r = call(f, "GET", "/v1/users/p1/homepage?model=popular", NULL);
    assert_int_equal(r.status, 200);
    const char *row0 = json_string_value(
        json_object_get(json_array_get(json_object_get(r.json, "rows"), 0), "id"));
    assert_true(row0 && strcmp(row0, "for_you") != 0);
    reply_free(&r);
    r = call(f, "GET", "/v1/items/a/similar?n=2&model=second", NULL);
    assert_int_equal(r.status, 200);
    reply_free(&r);
    expect(call(f, "GET", "/v1/users/p1/recommendations?model=nope", NULL), 400, "invalid",
           "model");
    expect(call(f, "GET", "/v1/users/p1/homepage?model=", NULL), 400, "invalid", "model");
    /* what may be named, in the models' status */
    r = call(f, "GET", "/v1/models", NULL);
    json_t *served = json_object_get(r.json, "served");
    assert_int_equal(json_array_size(served), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(served, 1), "name")),
                        "second");
    assert_true(json_is_true(json_object_get(json_array_get(served, 0), "main")));
    long long swaps = (long long)num(&r, "swaps");
    reply_free(&r);
    /* a training named after a served model refits that one, in its file, and swaps it alone */
    expect(call(f, "POST", "/v1/models/train", "{\"model\":\"second\"}"), 202, NULL, NULL);
    int done = 0;
    for (int k = 0; k < 300 && !done; k++) {
        r = call(f, "GET", "/v1/models", NULL);
        json_t *t = json_object_get(r.json, "training");
        done = !json_is_true(json_object_get(t, "running")) && num(&r, "swaps") == swaps + 1;
        if (done) {
            assert_string_equal(str(&r, "model"), "itemknn");
            served = json_object_get(r.json, "served");
            assert_string_equal(
                json_string_value(json_object_get(json_array_get(served, 1), "kind")), "popular");
            assert_string_equal(json_string_value(json_object_get(t, "model")), "popular");
        }
        reply_free(&r);
        if (!done)
            usleep(50000);
    }
    assert_true(done);
}

static void test_model_names_refused(void **state)
{
    fixture *f = *state;
    char err[512], dup[600];
    snprintf(err, sizeof(err), "%s", tl_test_tmp("models.err"));
    snprintf(dup, sizeof(dup), "%s", tl_test_tmp("m.tlm")); /* itemknn again: the same name */
    const char *const twice[] = {"--models", dup, NULL};
    assert_int_equal(tl_test_serve_with(&f->srv, tl_test_tmp("base.db"), tl_test_tmp("m.tlm"), err,
                                        TL_TEST_AUTH, twice),
                     -1);
    char *text = tl_test_read(err);
    assert_non_null(text);
    assert_non_null(strstr(text, "two served models are named 'itemknn'"));
    free(text);
    const char *const bad[] = {"--models", "Bad Name=x.tlm", NULL};
    assert_int_equal(tl_test_serve_with(&f->srv, tl_test_tmp("base.db"), tl_test_tmp("m.tlm"), err,
                                        TL_TEST_AUTH, bad),
                     -1);
    text = tl_test_read(err);
    assert_non_null(strstr(text, "is not a model name"));
    free(text);
}

/* The score of item in the answer's items (0 when absent). */
static double score_of(const reply *r, const char *item)
{
    size_t k;
    json_t *it;
    json_array_foreach(json_object_get(r->json, "items"), k, it)
    {
        const char *id = json_string_value(json_object_get(it, "item"));
        if (id && strcmp(id, item) == 0)
            return json_number_value(json_object_get(it, "score"));
    }
    return 0;
}

/* Whether any item's evidence names item. */
static int evidence_names(const reply *r, const char *item)
{
    size_t k, e;
    json_t *it, *ev;
    json_array_foreach(json_object_get(r->json, "items"), k, it)
    {
        json_array_foreach(json_object_get(it, "evidence"), e, ev)
        {
            const char *id = json_string_value(json_object_get(ev, "item"));
            if (id && strcmp(id, item) == 0)
                return 1;
        }
    }
    return 0;
}

static void test_context(void **state)
{
    fixture *f = *state;
    start(f, NULL);
    /* c1 borrowed a at the kiosk, then y on the phone; like a: x (u1) and b (u2); like y: x */
    expect(call(f, "POST", "/v1/events",
                "[{\"user\":\"c1\",\"item\":\"a\",\"type\":\"loan\",\"timestamp\":2000,"
                "\"context\":{\"device\":\"kiosk\"}},"
                "{\"user\":\"c1\",\"item\":\"y\",\"type\":\"loan\",\"timestamp\":5000,"
                "\"context\":{\"device\":\"phone\",\"branch\":\"east\"}}]"),
           201, NULL, NULL);
    reply now = call(f, "GET", "/v1/users/c1/recommendations?n=10", NULL);
    assert_int_equal(now.status, 200);
    assert_true(evidence_names(&now, "y"));
    double x = score_of(&now, "x"), b = score_of(&now, "b");
    assert_true(x > 0 && b > 0);
    /* as of time 3000 y was not borrowed yet: no evidence from it */
    reply then = call(f, "GET", "/v1/users/c1/recommendations?n=10&time=3000", NULL);
    assert_int_equal(then.status, 200);
    assert_false(evidence_names(&then, "y"));
    assert_true(evidence_names(&then, "a"));
    reply_free(&then);
    then = call(f, "GET", "/v1/users/c1/recommendations?n=10&time=1970-01-01T00:50:00Z", NULL);
    assert_false(evidence_names(&then, "y")); /* the same moment, in ISO 8601 */
    reply_free(&then);
    /* on the phone, y weighs more: x (like a and y) gains on b (like a only) */
    reply phone = call(f, "GET", "/v1/users/c1/recommendations?n=10&device=phone", NULL);
    assert_int_equal(phone.status, 200);
    double xp = score_of(&phone, "x"), bp = score_of(&phone, "b");
    assert_true(xp > 0 && bp > 0);
    assert_true(xp / bp > x / b * 1.01);
    reply_free(&phone);
    /* at the kiosk, a does */
    reply kiosk = call(f, "GET", "/v1/users/c1/homepage?rows=1&n=10&device=kiosk", NULL);
    assert_int_equal(kiosk.status, 200);
    reply_free(&kiosk);
    kiosk = call(f, "GET", "/v1/users/c1/recommendations?n=10&device=kiosk&branch=west", NULL);
    double xk = score_of(&kiosk, "x"), bk = score_of(&kiosk, "b");
    assert_true(xk / bk < x / b / 1.01);
    reply_free(&kiosk);
    reply_free(&now);
    expect(call(f, "GET", "/v1/users/c1/recommendations?time=yesterday", NULL), 400, "invalid",
           "time");
    expect(call(f, "GET", "/v1/users/c1/recommendations?device=", NULL), 400, "invalid", "device");
    expect(call(f, "GET", "/v1/users/c1/homepage?colour=red", NULL), 400, "invalid", "colour");
}

/* ---- a patron's rights -------------------------------------------------------------------- */

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void test_privacy_over_http(void **state)
{
    fixture *f = *state;
    start(f, NULL);
    /* export and consent: the patron's own key or an admin's, never an app's */
    f->key = app_key;
    expect(call(f, "GET", "/v1/users/p1/export", NULL), 403, "forbidden", NULL);
    expect(call(f, "PUT", "/v1/users/p1/consent", "{\"personalize\":false}"), 403, "forbidden",
           NULL);
    expect(call(f, "GET", "/v1/audit", NULL), 403, "forbidden", NULL);
    f->key = patron_key;
    expect(call(f, "GET", "/v1/users/u1/export", NULL), 403, "forbidden", NULL);
    reply r = call(f, "GET", "/v1/users/p1/export", NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(str(&r, "user"), "p1");
    assert_int_equal(json_array_size(json_object_get(r.json, "events")), 1);
    reply_free(&r);
    expect(call(f, "PUT", "/v1/users/p1/consent", "{\"personalize\":\"no\"}"), 400, "invalid",
           "personalize");
    expect(call(f, "PUT", "/v1/users/p1/consent", "{\"colour\":1}"), 400, "invalid", "colour");
    expect(call(f, "PUT", "/v1/users/p1/consent", "{\"personalize\":false,\"retention_days\":90}"),
           200, NULL, NULL);
    r = call(f, "GET", "/v1/users/p1/recommendations", NULL);
    assert_non_null(strstr(str(&r, "fallback"), "opted out"));
    reply_free(&r);
    /* the erasure: the store at once, the model by a training that leaves the patron out */
    f->key = admin_key;
    r = call(f, "GET", "/v1/models", NULL);
    long long swaps = (long long)num(&r, "swaps"), pairs = (long long)num(&r, "trained_pairs");
    assert_int_equal(pairs, 7);
    reply_free(&r);
    double t0 = now_ms();
    r = call(f, "DELETE", "/v1/users/u1", NULL);
    assert_int_equal(r.status, 200);
    assert_true(json_is_true(json_object_get(r.json, "retraining")));
    assert_int_equal(num(&r, "events_deleted"), 2);
    reply_free(&r);
    expect(call(f, "GET", "/v1/users/u1/recommendations", NULL), 404, "not_found", "user");
    int clean = 0;
    for (int k = 0; k < 600 && !clean; k++) {
        r = call(f, "GET", "/v1/models", NULL);
        clean = !json_is_true(json_object_get(json_object_get(r.json, "training"), "running")) &&
                num(&r, "swaps") > swaps;
        if (clean) /* without u1's 2 pairs, and p1's, who opted out (training leaves them out) */
            assert_int_equal(num(&r, "trained_pairs"), pairs - 3);
        reply_free(&r);
        if (!clean)
            usleep(10000);
    }
    assert_true(clean);
    printf("erasure to a clean live model: %.0f ms\n", now_ms() - t0);
    expect(call(f, "DELETE", "/v1/users/u1", NULL), 404, "not_found", "user");
    r = call(f, "GET", "/v1/audit", NULL);
    assert_int_equal(r.status, 200);
    assert_true(json_is_true(json_object_get(r.json, "intact")));
    assert_int_equal(num(&r, "entries"), 6); /* 3 keys made, an export, a consent, an erasure */
    assert_null(strstr(r.body, "u1"));       /* the erasure names no one */
    reply_free(&r);
}

/* An erasure by another process (tailor user erase beside a running server): the server learns
 * of it from the store at its next answer and trains its model again. */
static void test_erasure_by_another_process(void **state)
{
    fixture *f = *state;
    start(f, NULL);
    reply r = call(f, "GET", "/v1/models", NULL);
    long long swaps = (long long)num(&r, "swaps");
    reply_free(&r);
    assert_int_equal(tl_test_cli("--db '%s' user erase u2", f->db), 0);
    expect(call(f, "GET", "/v1/users/u2/recommendations", NULL), 404, "not_found", "user");
    /* the next answer that reads the store notices the erasure */
    expect(call(f, "GET", "/v1/users/u1/recommendations", NULL), 200, NULL, NULL);
    int clean = 0;
    for (int k = 0; k < 600 && !clean; k++) {
        r = call(f, "GET", "/v1/models", NULL);
        clean = !json_is_true(json_object_get(json_object_get(r.json, "training"), "running")) &&
                num(&r, "swaps") > swaps;
        if (clean) /* p1's 1, u1's 2 and u3's 2 pairs: u2's 2 are gone */
            assert_int_equal(num(&r, "trained_pairs"), 5);
        reply_free(&r);
        if (!clean)
            usleep(10000);
    }
    assert_true(clean);
    /* an erasure while no server runs: the next server on the store finds its model older than
     * the erasure and trains it again (a retraining cut short by a stop is not lost) */
    tl_test_serve_stop(&f->srv, SIGTERM);
    assert_int_equal(tl_test_cli("--db '%s' user erase u3", f->db), 0);
    char err[600];
    snprintf(err, sizeof(err), "%s.again.err", f->db);
    assert_int_equal(tl_test_serve_with(&f->srv, f->db, f->model, err, TL_TEST_AUTH, NULL), 0);
    clean = 0;
    for (int k = 0; k < 600 && !clean; k++) {
        r = call(f, "GET", "/v1/models", NULL);
        clean = !json_is_true(json_object_get(json_object_get(r.json, "training"), "running")) &&
                num(&r, "swaps") == 1;
        if (clean) /* u3's 2 pairs gone too */
            assert_int_equal(num(&r, "trained_pairs"), 3);
        reply_free(&r);
        if (!clean)
            usleep(10000);
    }
    assert_true(clean);
}

/* ---- roles ---------------------------------------------------------------------------------- */

static void test_roles(void **state)
{
    fixture *f = *state;
    start(f, NULL);
    f->key = app_key;
    expect(call(f, "GET", "/v1/items/a", NULL), 200, NULL, NULL);
    expect(call(f, "GET", "/v1/users/u1", NULL), 200, NULL, NULL);
    expect(call(f, "POST", "/v1/items", "{\"id\":\"n\"}"), 403, "forbidden", NULL);
    expect(call(f, "PUT", "/v1/items/a", "{}"), 403, "forbidden", NULL);
    expect(call(f, "DELETE", "/v1/items/a", NULL), 403, "forbidden", NULL);
    expect(call(f, "POST", "/v1/users/bulk", "[]"), 403, "forbidden", NULL);
    f->key = patron_key;
    expect(call(f, "GET", "/v1/items/a", NULL), 200, NULL, NULL);
    expect(call(f, "GET", "/v1/users/p1", NULL), 200, NULL, NULL);
    expect(call(f, "GET", "/v1/users/u1", NULL), 403, "forbidden", NULL);
    expect(call(f, "PATCH", "/v1/users/p1", "{\"personalize\":false}"), 403, "forbidden", NULL);
    f->key = "tl_nope";
    expect(call(f, "GET", "/v1/items/a", NULL), 401, "unauthorized", NULL);
    f->key = admin_key;
    expect(call(f, "GET", "/v1/items/a", NULL), 200, NULL, NULL);
}

/* ---- Idempotency-Key --------------------------------------------------------------------------
 */

static void test_idempotent_events(void **state)
{
    fixture *f = *state;
    start(f, NULL);
    /* no timestamp: each write is a new event "now", so a second write would store another */
    const char *body = "[{\"user\":\"u9\",\"item\":\"b\",\"type\":\"view\"}]";
    long long events = store_count(f, "events");
    reply r = call_idem(f, "POST", "/v1/events", body, "k-1");
    assert_int_equal(r.status, 201);
    assert_int_equal(num(&r, "accepted"), 1);
    char *first = strdup(r.body);
    reply_free(&r);
    assert_int_equal(store_count(f, "events"), events + 1);
    usleep(1100 * 1000); /* the next second: without the key the retry would be a new event */
    r = call_idem(f, "POST", "/v1/events", body, "k-1");
    assert_int_equal(r.status, 201);
    assert_string_equal(r.body, first);
    reply_free(&r);
    free(first);
    assert_int_equal(store_count(f, "events"), events + 1);
    /* the same key with another body */
    expect(call_idem(f, "POST", "/v1/events",
                     "[{\"user\":\"u9\",\"item\":\"x\",\"type\":\"view\"}]", "k-1"),
           422, "idempotency_key_reused", "Idempotency-Key");
    assert_int_equal(store_count(f, "events"), events + 1);
    /* keys are per API key: the app's k-1 is another key */
    f->key = app_key;
    expect(call_idem(f, "POST", "/v1/events", body, "k-1"), 201, NULL, NULL);
    assert_int_equal(store_count(f, "events"), events + 2);
    /* a refused batch keeps no key: fixed, it is written under the same key */
    expect(call_idem(f, "POST", "/v1/events", "[{\"user\":\"\",\"item\":\"b\",\"type\":\"view\"}]",
                     "k-2"),
           422, "invalid_event", "[0].user");
    expect(call_idem(f, "POST", "/v1/events",
                     "[{\"user\":\"u9\",\"item\":\"y\",\"type\":\"view\"}]", "k-2"),
           201, NULL, NULL);
    assert_int_equal(store_count(f, "events"), events + 3);
    char long_key[300];
    memset(long_key, 'k', sizeof(long_key) - 1);
    long_key[sizeof(long_key) - 1] = '\0';
    expect(call_idem(f, "POST", "/v1/events", body, long_key), 400, "invalid", "Idempotency-Key");
}

/* GET /v1/items/{id} with the catalogue part a MARC import wrote: details and copies. */
static void test_item_details_and_holdings(void **state)
{
    fixture *f = *state;
    start(f, NULL);
    static const char xml[] =
        "<collection xmlns=\"http://www.loc.gov/MARC21/slim\"><record>"
        "<leader>00000nam a2200000 a 4500</leader><controlfield tag=\"001\">k1</controlfield>"
        "<datafield tag=\"245\" ind1=\"1\" ind2=\"0\"><subfield code=\"a\">Tombs</subfield>"
        "</datafield><datafield tag=\"830\" ind1=\" \" ind2=\"0\"><subfield code=\"a\">Earthsea"
        " ;</subfield><subfield code=\"v\">2</subfield></datafield>"
        "<datafield tag=\"952\" ind1=\" \" ind2=\" \"><subfield code=\"9\">502</subfield>"
        "<subfield code=\"b\">EAST</subfield><subfield code=\"q\">2026-12-01</subfield></datafield>"
        "<datafield tag=\"952\" ind1=\" \" ind2=\" \"><subfield code=\"9\">501</subfield>"
        "<subfield code=\"b\">CENTRAL</subfield><subfield code=\"c\">FIC</subfield></datafield>"
        "</record></collection>";
    const char *path = tl_test_tmp("k1.xml");
    char file[512];
    snprintf(file, sizeof(file), "%s", path);
    assert_int_equal(tl_test_write(file, xml), 0);
    assert_int_equal(tl_test_cli("--db '%s' import marc '%s'", f->db, file), 0);
    f->key = app_key;
    reply r = call(f, "GET", "/v1/items/k1", NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(str(&r, "title"), "Tombs");
    assert_int_equal(num(&r, "copies"), 2);
    assert_int_equal(num(&r, "available"), 1);
    json_t *d = json_object_get(r.json, "details");
    assert_string_equal(json_string_value(json_object_get(d, "series")), "Earthsea");
    assert_true(json_real_value(json_object_get(d, "series_volume")) == 2.0);
    assert_true(json_is_null(json_object_get(d, "isbn")));
    json_t *h = json_object_get(r.json, "holdings");
    assert_int_equal(json_array_size(h), 2);
    json_t *c0 = json_array_get(h, 0), *c1 = json_array_get(h, 1);
    assert_string_equal(json_string_value(json_object_get(c0, "copy")), "501");
    assert_string_equal(json_string_value(json_object_get(c0, "branch")), "CENTRAL");
    assert_string_equal(json_string_value(json_object_get(c0, "location")), "FIC");
    assert_true(json_is_true(json_object_get(c0, "available")));
    assert_string_equal(json_string_value(json_object_get(c1, "status")), "on loan");
    assert_true(json_is_false(json_object_get(c1, "available")));
    reply_free(&r);
    /* an item without a catalogue record: no details, no copies */
    r = call(f, "GET", "/v1/items/a", NULL);
    assert_int_equal(r.status, 200);
    assert_true(json_is_null(json_object_get(r.json, "details")));
    assert_int_equal(json_array_size(json_object_get(r.json, "holdings")), 0);
    reply_free(&r);
    /* deleting the item takes its details and copies */
    f->key = admin_key;
    expect(call(f, "DELETE", "/v1/items/k1", NULL), 200, NULL, NULL);
    expect(call(f, "GET", "/v1/items/k1", NULL), 404, "not_found", "item");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_item_create_get_conflict, setup, teardown),
        cmocka_unit_test_setup_teardown(test_item_replace_and_merge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_item_delete_takes_its_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deleted_item_leaves_answers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_items_bulk_all_or_none, setup, teardown),
        cmocka_unit_test_setup_teardown(test_user_records_and_consent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_model_parameter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_model_names_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_context, setup, teardown),
        cmocka_unit_test_setup_teardown(test_privacy_over_http, setup, teardown),
        cmocka_unit_test_setup_teardown(test_erasure_by_another_process, setup, teardown),
        cmocka_unit_test_setup_teardown(test_roles, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idempotent_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_item_details_and_holdings, setup, teardown),
    };
    return cmocka_run_group_tests(tests, make_data, free_data);
}
