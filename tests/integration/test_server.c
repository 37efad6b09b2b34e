/* `tailor serve` end to end: a tiny store and an itemknn model made with the tailor program,
 * the server started as a child process on 127.0.0.1 and a free port, and HTTP through
 * libcurl (both by tests/serve_child.c). Each test starts its own server on its own copy of
 * the store; the teardown kills the server even when an assertion failed. */
#include "support.h"

#include <curl/curl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "serve_child.h"

/* Patron p1 has only a; a's neighbours are b and x; y is x's neighbour alone. */
static const char EVENTS[] = "user\titem\ttimestamp\n"
                             "p1\ta\t1000\n"
                             "u1\ta\t1000\nu1\tx\t1001\n"
                             "u2\ta\t1000\nu2\tb\t1001\n"
                             "u3\tx\t1000\nu3\ty\t1001\n"
                             "u4\tx\t1000\nu4\ty\t1001\n"
                             "u5\tb\t1000\nu5\tc\t1001\n";
static const char ITEMS[] = "item\ttitle\ttype\n"
                            "a\tAlpha\tbook\nb\tBeta\tbook\nc\tGamma\tvideo\n"
                            "x\tXylophone Tales\tbook\ny\tYellow River\tbook\n";

typedef struct server {
    tl_test_server child;
    char db[512], err[512], model[512];
} server;

static int test_no;

/* ---- the data, once ------------------------------------------------------------------------ */

static int make_data(void **state)
{
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const char *db = tl_test_tmp("base.db");
    if (tl_test_write(tl_test_tmp("events.tsv"), EVENTS) ||
        tl_test_write(tl_test_tmp("items.tsv"), ITEMS))
        return -1;
    if (tl_test_cli("--db '%s' import items '%s'", db, tl_test_tmp("items.tsv")) != 0 ||
        tl_test_cli("--db '%s' import events '%s'", db, tl_test_tmp("events.tsv")) != 0 ||
        tl_test_cli("--db '%s' train --model itemknn --set autotune=0 --out '%s'", db,
                    tl_test_tmp("m.tlm")) != 0)
        return -1;
    return 0;
}

static int free_data(void **state)
{
    (void)state;
    curl_global_cleanup();
    return 0;
}

/* ---- the server as a child process --------------------------------------------------------- */

/* Starts `tailor serve --no-auth --port 0 --db <copy> --model <copy>` plus extra arguments (a
 * NULL-terminated list) and waits for its first line. Not --quiet: tests read the request log. */
static void start(server *s, const char *const *extra)
{
    char name[64];
    snprintf(name, sizeof(name), "t%d.db", ++test_no);
    snprintf(s->db, sizeof(s->db), "%s", tl_test_tmp(name));
    snprintf(name, sizeof(name), "t%d.err", test_no);
    snprintf(s->err, sizeof(s->err), "%s", tl_test_tmp(name));
    assert_int_equal(tl_test_sh("cp '%s' '%s'", tl_test_tmp("base.db"), s->db), 0);
    snprintf(name, sizeof(name), "t%d.tlm", test_no); /* a training replaces the served file */
    snprintf(s->model, sizeof(s->model), "%s", tl_test_tmp(name));
    assert_int_equal(tl_test_sh("cp '%s' '%s'", tl_test_tmp("m.tlm"), s->model), 0);
    if (tl_test_serve_with(&s->child, s->db, s->model, s->err, TL_TEST_LOG, extra) != 0) {
        char *e = tl_test_read(s->err);
        fail_msg("the server did not say where it listens; stderr:\n%.2000s", e ? e : "");
    }
}

static int setup(void **state)
{
    server *s = calloc(1, sizeof(*s));
    *state = s;
    return s ? 0 : -1;
}

/* Kills the server whatever happened in the test. */
static int teardown(void **state)
{
    server *s = *state;
    if (s)
        tl_test_serve_stop(&s->child, SIGKILL);
    free(s);
    return 0;
}

/* ---- HTTP ------------------------------------------------------------------------------------ */

typedef struct reply {
    long status;
    char *body, *headers;
    json_t *json; /* the body parsed, when it is JSON */
} reply;

/* One request; ctype NULL = no Content-Type; header: one extra header line or NULL. */
static reply http(const server *s, const char *method, const char *path, const char *ctype,
                  const char *body, size_t body_len, const char *header)
{
    char ct[128];
    snprintf(ct, sizeof(ct), "Content-Type: %s", ctype ? ctype : "");
    const char *const headers[] = {ctype ? ct : header, ctype ? header : NULL, NULL};
    tl_test_reply t;
    if (tl_test_request(s->child.port, method, path, headers, body, body_len, &t) < 0) {
        tl_test_reply_free(&t);
        fail_msg("%s %s: no answer", method, path);
    }
    free(t.ctype);
    reply r = {t.status, t.body, t.headers, t.body ? json_loads(t.body, 0, NULL) : NULL};
    return r;
}

static reply get(const server *s, const char *path)
{
    return http(s, "GET", path, NULL, NULL, 0, NULL);
}

static reply post(const server *s, const char *body)
{
    return http(s, "POST", "/v1/events", "application/json", body, strlen(body), NULL);
}

static reply post_train(const server *s, const char *body)
{
    return http(s, "POST", "/v1/models/train", "application/json", body, strlen(body), NULL);
}

static void reply_free(reply *r)
{
    free(r->body);
    free(r->headers);
    json_decref(r->json);
}

/* Asserts the status, and for an error its code and field (NULL: no field). */
static void check(const reply *r, long status, const char *code, const char *field)
{
    if (r->status != status)
        fail_msg("expected %ld, got %ld: %s", status, r->status, r->body ? r->body : "");
    if (!code)
        return;
    json_t *e = json_object_get(r->json, "error");
    const char *got = json_string_value(json_object_get(e, "code"));
    const char *f = json_string_value(json_object_get(e, "field"));
    if (!got || strcmp(got, code) != 0 || !json_is_string(json_object_get(e, "message")) ||
        (field ? !f || strcmp(f, field) != 0 : f != NULL))
        fail_msg("expected error %s field %s, got %s", code, field ? field : "(none)",
                 r->body ? r->body : "");
}

/* The item ids of a recommendations answer, space-separated. */
static void item_ids(const reply *r, char *buf, size_t len)
{
    json_t *items = json_object_get(r->json, "items"), *it;
    size_t k, o = 0;
    buf[0] = '\0';
    assert_true(json_is_array(items));
    json_array_foreach(items, k, it) o += (size_t)snprintf(
        buf + o, len - o, "%s%s", k ? " " : "", json_string_value(json_object_get(it, "item")));
}

/* The store's events as `tailor export events` writes them. */
static char *events_of(const char *db)
{
    assert_int_equal(tl_test_cli("--db '%s' export events", db), 0);
    return tl_test_cli_out();
}

/* ---- the tests --------------------------------------------------------------------------- */

static void test_health(void **state)
{
    server *s = *state;
    start(s, NULL);
    reply r = get(s, "/v1/health");
    check(&r, 200, NULL, NULL);
    assert_string_equal(json_string_value(json_object_get(r.json, "status")), "ok");
    assert_string_equal(json_string_value(json_object_get(r.json, "model")), "itemknn");
    assert_int_equal(json_integer_value(json_object_get(r.json, "users")), 6);
    assert_int_equal(json_integer_value(json_object_get(r.json, "items")), 5);
    assert_true(json_is_true(json_object_get(r.json, "store")));
    assert_non_null(strstr(r.headers, "X-Request-Id: "));
    reply_free(&r);
    r = http(s, "GET", "/v1/health", NULL, NULL, 0, "X-Request-Id: trace-42");
    assert_non_null(strstr(r.headers, "X-Request-Id: trace-42\r\n"));
    reply_free(&r);
    r = get(s, "/v1/models");
    check(&r, 200, NULL, NULL);
    assert_true(json_is_true(json_object_get(r.json, "writable")));
    reply_free(&r);
}

static void test_recommendations(void **state)
{
    server *s = *state;
    start(s, NULL);
    reply r = get(s, "/v1/users/p1/recommendations?n=2&explain=1");
    check(&r, 200, NULL, NULL);
    char ids[256];
    item_ids(&r, ids, sizeof(ids));
    assert_string_equal(ids, "b x"); /* a's neighbours, b with the stronger tie */
    assert_string_equal(json_string_value(json_object_get(r.json, "user")), "p1");
    assert_string_equal(json_string_value(json_object_get(r.json, "model")), "itemknn");
    assert_null(json_object_get(r.json, "fallback"));
    json_t *it = json_array_get(json_object_get(r.json, "items"), 0);
    assert_string_equal(json_string_value(json_object_get(it, "title")), "Beta");
    assert_true(json_real_value(json_object_get(it, "score")) > 0);
    assert_string_equal(json_string_value(json_object_get(it, "kind")), "history");
    assert_non_null(strstr(json_string_value(json_object_get(it, "reason")), "Alpha"));
    json_t *ev = json_array_get(json_object_get(it, "evidence"), 0);
    assert_string_equal(json_string_value(json_object_get(ev, "item")), "a");
    assert_string_equal(json_string_value(json_object_get(ev, "title")), "Alpha");
    assert_true(json_is_number(json_object_get(ev, "weight")));
    reply_free(&r);
    /* a filter as a parameter of its own, and as filter=KEY=VALUE */
    r = get(s, "/v1/users/p1/recommendations?type=video");
    check(&r, 200, NULL, NULL);
    item_ids(&r, ids, sizeof(ids));
    assert_string_equal(ids, "c");
    reply_free(&r);
    r = get(s, "/v1/users/p1/recommendations?filter=type%3Dvideo");
    item_ids(&r, ids, sizeof(ids));
    assert_string_equal(ids, "c");
    reply_free(&r);
    /* MMR with lambda 1 is relevance alone; re-rankers keep each item's reason and evidence */
    r = get(s, "/v1/users/p1/recommendations?n=2&diversify=1");
    item_ids(&r, ids, sizeof(ids));
    assert_string_equal(ids, "b x");
    reply_free(&r);
    r = get(s, "/v1/users/p1/recommendations?n=2&diversify=0.5&calibrate=0.3&max_per_author=1");
    check(&r, 200, NULL, NULL);
    it = json_array_get(json_object_get(r.json, "items"), 0);
    assert_string_equal(json_string_value(json_object_get(it, "kind")), "history");
    assert_true(json_array_size(json_object_get(it, "evidence")) > 0);
    reply_free(&r);
    r = get(s, "/v1/items/x/similar?n=1");
    check(&r, 200, NULL, NULL);
    item_ids(&r, ids, sizeof(ids));
    assert_string_equal(ids, "y");
    assert_string_equal(json_string_value(json_object_get(r.json, "item")), "x");
    reply_free(&r);
}

static void test_events_change_recommendations(void **state)
{
    server *s = *state;
    char ids[256];
    start(s, NULL);
    reply r = get(s, "/v1/users/p1/recommendations?n=2");
    item_ids(&r, ids, sizeof(ids));
    assert_string_equal(ids, "b x");
    reply_free(&r);
    r = post(s, "{\"user\": \"p1\", \"item\": \"x\", \"type\": \"loan\", \"timestamp\": "
                "\"2026-12-05T10:00:00Z\", \"context\": {\"device\": \"web\"}}");
    check(&r, 201, NULL, NULL);
    assert_int_equal(json_integer_value(json_object_get(r.json, "accepted")), 1);
    reply_free(&r);
    /* x is theirs now; y, x's neighbour, comes in because of it */
    r = get(s, "/v1/users/p1/recommendations?n=2&explain=1");
    item_ids(&r, ids, sizeof(ids));
    assert_string_equal(ids, "y b");
    json_t *it = json_array_get(json_object_get(r.json, "items"), 0);
    assert_non_null(strstr(json_string_value(json_object_get(it, "reason")), "Xylophone Tales"));
    reply_free(&r);
    char *events = events_of(s->db);
    assert_non_null(strstr(events, "p1\tx\t"));
    free(events);
}

static void test_bad_event_stores_nothing(void **state)
{
    server *s = *state;
    start(s, NULL);
    char *before = events_of(s->db);
    /* the server's own check: an empty id at index 2 */
    reply r = post(s, "[{\"user\":\"p1\",\"item\":\"b\",\"type\":\"loan\"},"
                      "{\"user\":\"p1\",\"item\":\"c\",\"type\":\"loan\",\"timestamp\":1001},"
                      "{\"user\":\"\",\"item\":\"y\",\"type\":\"loan\"}]");
    check(&r, 422, "invalid_event", "[2].user");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(r.json, "error"), "index")),
                     2);
    reply_free(&r);
    /* the service's check: a type that is not a name, at index 1, after a good event */
    r = post(s, "[{\"user\":\"p1\",\"item\":\"b\",\"type\":\"loan\"},"
                "{\"user\":\"p1\",\"item\":\"c\",\"type\":\"Not A Name\"}]");
    check(&r, 422, "invalid_event", "[1].type");
    reply_free(&r);
    r = post(s, "[{\"user\":\"p1\",\"item\":\"b\",\"type\":\"loan\",\"timestmap\":5}]");
    check(&r, 422, "invalid_event", "[0].timestmap");
    reply_free(&r);
    char *after = events_of(s->db);
    assert_string_equal(before, after);
    free(before);
    free(after);
}

static void test_client_errors(void **state)
{
    server *s = *state;
    const char *const extra[] = {"--max-body", "1024", NULL};
    start(s, extra);
    reply r = get(s, "/v1/users/p1/recommendations?n=0");
    check(&r, 400, "invalid", "n");
    reply_free(&r);
    r = get(s, "/v1/users/p1/recommendations?filter=colour%3Dred");
    check(&r, 400, "invalid", "filter");
    reply_free(&r);
    r = get(s, "/v1/users/p1/recommendations?diversify=1.5");
    check(&r, 400, "invalid", "diversify");
    reply_free(&r);
    r = get(s, "/v1/items/x/similar?calibrate=nan");
    check(&r, 400, "invalid", "calibrate");
    reply_free(&r);
    r = get(s, "/v1/users/p1/recommendations?max_per_author=-1");
    check(&r, 400, "invalid", "max_per_author");
    reply_free(&r);
    r = get(s, "/v1/users/p1/recommendations?prefer_shelf=2");
    check(&r, 400, "invalid", "prefer_shelf");
    reply_free(&r);
    r = get(s, "/v1/users/p1/recommendations?prefer_shelf=0"); /* no holdings: no availability */
    check(&r, 200, NULL, NULL);
    assert_null(
        json_object_get(json_array_get(json_object_get(r.json, "items"), 0), "availability"));
    reply_free(&r);
    r = get(s, "/v1/users/p1/recommendations?n=5000&diversify=0.5"); /* too long to re-rank */
    check(&r, 400, "invalid", "n");
    reply_free(&r);
    r = post(s, "{\"user\": ");
    check(&r, 400, "invalid_json", NULL);
    reply_free(&r);
    r = post(
        s, "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]"
           "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
    check(&r, 400, "too_deep", NULL);
    reply_free(&r);
    r = get(s, "/v1/nothing");
    check(&r, 404, "not_found", NULL);
    reply_free(&r);
    r = get(s, "/v1/users/nobody/recommendations");
    check(&r, 404, "not_found", "user");
    reply_free(&r);
    r = get(s, "/v1/items/nothing/similar");
    check(&r, 404, "not_found", "item");
    reply_free(&r);
    r = http(s, "DELETE", "/v1/health", NULL, NULL, 0, NULL);
    check(&r, 405, "method_not_allowed", NULL);
    assert_non_null(strstr(r.headers, "Allow: GET, HEAD, OPTIONS\r\n"));
    reply_free(&r);
    char big[2048];
    memset(big, ' ', sizeof(big));
    r = http(s, "POST", "/v1/events", "application/json", big, sizeof(big), NULL);
    check(&r, 413, "too_large", NULL);
    reply_free(&r);
    r = http(s, "POST", "/v1/events", "text/plain", "{}", 2, NULL);
    check(&r, 415, "unsupported_media_type", NULL);
    reply_free(&r);
    r = http(s, "POST", "/v1/events", NULL, "{}", 2, NULL);
    check(&r, 415, "unsupported_media_type", NULL);
    reply_free(&r);
    r = get(s, "/metrics");
    check(&r, 200, NULL, NULL);
    assert_non_null(
        strstr(r.body, "tailor_http_requests_total{route=\"/v1/health\",status=\"405\"} 1"));
    assert_non_null(
        strstr(r.body, "tailor_http_requests_total{route=\"unmatched\",status=\"404\"} 1"));
    reply_free(&r);
}

/* max-batch from the file (1), the environment (2) and a flag (3): the flag wins, then the
 * environment. */
static void test_settings_precedence(void **state)
{
    server *s = *state;
    const char *one = "{\"user\":\"p1\",\"item\":\"b\",\"type\":\"view\"}";
    char two[512], three[512];
    snprintf(two, sizeof(two), "[%s,%s]", one, one);
    snprintf(three, sizeof(three), "[%s,%s,%s]", one, one, one);
    assert_int_equal(tl_test_write(tl_test_tmp("serve.conf"), "# test\nmax-batch = 1\n"), 0);
    setenv("TAILOR_MAX_BATCH", "2", 1);
    const char *const file_env[] = {"--config", tl_test_tmp("serve.conf"), NULL};
    start(s, file_env);
    reply r = post(s, three);
    check(&r, 413, "batch_too_large", "events");
    reply_free(&r);
    r = post(s, two);
    check(&r, 201, NULL, NULL);
    reply_free(&r);
    tl_test_serve_stop(&s->child, SIGKILL);
    const char *const flag[] = {"--config", tl_test_tmp("serve.conf"), "--max-batch", "3", NULL};
    start(s, flag);
    r = post(s, three);
    check(&r, 201, NULL, NULL);
    reply_free(&r);
    unsetenv("TAILOR_MAX_BATCH");
}

static void test_refusals(void **state)
{
    (void)state;
    tl_test_cli_check(tl_test_cli("serve --model '%s' --port 0", tl_test_tmp("m.tlm")), 2, NULL,
                      "API keys");
    assert_int_equal(tl_test_write(tl_test_tmp("bad.conf"), "port = 8080\n\nprot = 1\n"), 0);
    tl_test_cli_check(tl_test_cli("serve --no-auth --model '%s' --config '%s'",
                                  tl_test_tmp("m.tlm"), tl_test_tmp("bad.conf")),
                      2, NULL, "bad.conf:3: prot: not a setting");
    tl_test_cli_check(
        tl_test_cli("serve --no-auth --model '%s' --port 70000", tl_test_tmp("m.tlm")), 2, NULL,
        "--port: '70000' is out of range");
    tl_test_cli_check(tl_test_cli("serve --help"), 0, "$TAILOR_PORT", NULL);
}

static void test_sigterm_exits_zero(void **state)
{
    server *s = *state;
    start(s, NULL);
    reply r = get(s, "/v1/health");
    check(&r, 200, NULL, NULL);
    reply_free(&r);
    assert_int_equal(kill(s->child.pid, SIGTERM), 0);
    int st;
    assert_int_equal(waitpid(s->child.pid, &st, 0), s->child.pid);
    s->child.pid = 0;
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    char *err = tl_test_read(s->err);
    assert_non_null(err);
    assert_non_null(strstr(err, "NO AUTHENTICATION"));
    assert_non_null(strstr(err, "\"path\":\"/v1/health\",\"status\":200"));
    free(err);
}

/* A request whose body is still arriving when SIGTERM comes is answered, then the server
 * exits 0. */
static void test_sigterm_finishes_in_flight(void **state)
{
    server *s = *state;
    start(s, NULL);
    static const char body[] = "{\"user\":\"p1\",\"item\":\"c\",\"type\":\"loan\"}";
    char head[256], resp[1024];
    snprintf(head, sizeof(head),
             "POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
             "Content-Length: %zu\r\n\r\n%.10s",
             strlen(body), body);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)s->child.port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(write(fd, head, strlen(head)), (ssize_t)strlen(head));
    usleep(200000); /* the server has the headers: the request is in flight */
    assert_int_equal(kill(s->child.pid, SIGTERM), 0);
    usleep(200000);
    assert_int_equal(write(fd, body + 10, strlen(body) - 10), (ssize_t)(strlen(body) - 10));
    ssize_t n, got = 0;
    while ((n = read(fd, resp + got, sizeof(resp) - 1 - (size_t)got)) > 0)
        got += n;
    resp[got > 0 ? got : 0] = '\0';
    close(fd);
    if (!strstr(resp, "HTTP/1.1 201") || !strstr(resp, "{\"accepted\":1}"))
        fail_msg("the request in flight was not answered: %s", resp);
    int st;
    assert_int_equal(waitpid(s->child.pid, &st, 0), s->child.pid);
    s->child.pid = 0;
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    char *events = events_of(s->db);
    assert_non_null(strstr(events, "p1\tc\t"));
    free(events);
}

static void test_homepage(void **state)
{
    server *s = *state;
    /* the rows in their fixed order: the bandit's order explores (test_impressions has it) */
    const char *fixed[] = {"--row-policy", "fixed", NULL};
    start(s, fixed);
    reply r = get(s, "/v1/users/p1/homepage?rows=3&n=1");
    check(&r, 200, NULL, NULL);
    json_t *rows = json_object_get(r.json, "rows");
    assert_true(json_array_size(rows) >= 2);
    json_t *row = json_array_get(rows, 0);
    assert_string_equal(json_string_value(json_object_get(row, "id")), "for_you");
    assert_string_equal(json_string_value(json_object_get(row, "title")), "Recommended for you");
    json_t *it = json_array_get(json_object_get(row, "items"), 0);
    assert_string_equal(json_string_value(json_object_get(it, "item")), "b");
    row = json_array_get(rows, 1);
    assert_string_equal(json_string_value(json_object_get(row, "id")), "because:a");
    assert_string_equal(json_string_value(json_object_get(row, "policy")), "fixed");
    assert_string_equal(json_string_value(json_object_get(row, "title")),
                        "Because you borrowed Alpha");
    it = json_array_get(json_object_get(row, "items"), 0);
    assert_string_equal(json_string_value(json_object_get(it, "item")), "x"); /* not b again */
    reply_free(&r);
    r = get(s, "/v1/users/p1/homepage?rows=9");
    check(&r, 400, "invalid", "rows");
    reply_free(&r);
    r = get(s, "/v1/users/nobody/homepage");
    check(&r, 404, "not_found", "user");
    reply_free(&r);
}

/* A training started over HTTP swaps its model in while recommendations keep answering 200;
 * a second one while it runs is 409; a bad one 400. */
static void test_training(void **state)
{
    server *s = *state;
    start(s, NULL);
    reply r = post_train(s, "{\"model\": \"nope\"}");
    check(&r, 400, "invalid", "model");
    reply_free(&r);
    r = post_train(s, "{\"model\": \"ials\", \"settings\": {\"factors\": 4, \"colour\": \"red\"}}");
    check(&r, 400, "invalid", "colour");
    reply_free(&r);
    r = post_train(s, "{\"model\": \"ials\", \"settings\": {\"factors\": 4, \"autotune\": 0}}");
    check(&r, 202, NULL, NULL);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(r.json, "training"), "model")), "ials");
    reply_free(&r);
    int swapped = 0;
    for (int k = 0; k < 3000 && !swapped; k++) {
        reply q = get(s, "/v1/users/p1/recommendations?n=2");
        check(&q, 200, NULL, NULL);
        reply_free(&q);
        r = get(s, "/v1/models");
        check(&r, 200, NULL, NULL);
        json_t *t = json_object_get(r.json, "training");
        swapped = !json_is_true(json_object_get(t, "running")) &&
                  json_integer_value(json_object_get(t, "runs")) == 1;
        if (swapped) {
            assert_string_equal(json_string_value(json_object_get(r.json, "model")), "ials");
            assert_int_equal(json_integer_value(json_object_get(r.json, "swaps")), 1);
            assert_int_equal(json_integer_value(json_object_get(t, "failures")), 0);
            /* the new model's watermark, and nothing in the store beyond it yet */
            assert_true(json_integer_value(json_object_get(r.json, "trained_pairs")) > 0);
            assert_true(json_is_integer(json_object_get(r.json, "events_since_training")));
        }
        reply_free(&r);
    }
    assert_true(swapped);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_health, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recommendations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_events_change_recommendations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_event_stores_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_settings_precedence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sigterm_exits_zero, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sigterm_finishes_in_flight, setup, teardown),
        cmocka_unit_test_setup_teardown(test_homepage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_training, setup, teardown),
    };
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, make_data, free_data);
}
