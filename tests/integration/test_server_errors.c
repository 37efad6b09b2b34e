/* Every error status the API promises (docs/API.md, Errors), one by one, each with its JSON
 * body {"error": {"code", "message", "field"?}}: 400, 401, 403, 404, 405, 409, 413, 415, 422,
 * 429, 503; roles both ways (a patron key reads only its patron, an app key makes no keys);
 * the keys routes; the rate limits, by key and by client address; and the log, JSON lines
 * throughout. `tailor serve` runs as a child process (tests/serve_child.c). */
#include "support.h"

#include <curl/curl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "serve_child.h"

#define N_USERS 300
#define N_ITEMS 120
#define TRAIN_TRIES 20 /* attempts at catching a training still running (409) */

static char admin_key[128], app_key[128], patron_key[128];
static int test_no;
static char err_path[512]; /* the stderr of the last server started */

/* A store of N_USERS patrons with 8 loans each among N_ITEMS items (enough that a training
 * takes a moment), a model of it and three keys. */
static int make_data(void **state)
{
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    FILE *f = fopen(tl_test_tmp("events.tsv"), "w");
    if (!f)
        return -1;
    fprintf(f, "user\titem\ttimestamp\n");
    for (int u = 0; u < N_USERS; u++)
        for (int k = 0; k < 8; k++)
            fprintf(f, "%s%d\ti%d\t%d\n", u ? "u" : "p", u ? u : 1, (u * 7 + k * k * 3) % N_ITEMS,
                    1000 + k);
    fclose(f);
    const char *db = tl_test_tmp("base.db");
    if (tl_test_cli("--db '%s' import events '%s'", db, tl_test_tmp("events.tsv")) != 0 ||
        tl_test_cli("--db '%s' train --model itemknn --set autotune=0 --out '%s'", db,
                    tl_test_tmp("m.tlm")) != 0)
        return -1;
    tl_test_make_key(db, "--role admin", admin_key, sizeof(admin_key));
    tl_test_make_key(db, "--role app", app_key, sizeof(app_key));
    tl_test_make_key(db, "--role patron --user p1", patron_key, sizeof(patron_key));
    return 0;
}

static int free_data(void **state)
{
    (void)state;
    curl_global_cleanup();
    return 0;
}

static int setup(void **state)
{
    tl_test_server *s = calloc(1, sizeof(*s));
    *state = s;
    return s ? 0 : -1;
}

static int teardown(void **state)
{
    tl_test_server *s = *state;
    tl_test_serve_stop(s, SIGKILL);
    free(s);
    return 0;
}

/* The test's own file "e<test_no>.EXT" in the temporary folder, copied to path. */
static void tmp_file(const char *ext, char path[512])
{
    char name[32];
    snprintf(name, sizeof(name), "e%d.%s", test_no, ext);
    snprintf(path, 512, "%s", tl_test_tmp(name));
}

/* Starts a server on copies of the store and the model with the extra arguments. */
static void start(tl_test_server *s, const char *const *extra)
{
    char db[512], model[512];
    test_no++;
    tmp_file("db", db);
    tmp_file("tlm", model);
    tmp_file("err", err_path);
    assert_int_equal(tl_test_sh("cp '%s' '%s'", tl_test_tmp("base.db"), db), 0);
    assert_int_equal(tl_test_sh("cp '%s' '%s'", tl_test_tmp("m.tlm"), model), 0);
    const char *args[32] = {"--quiet", "--db", db, "--model", model};
    int n = 5;
    for (int k = 0; extra && extra[k] && n < 31; k++)
        args[n++] = extra[k];
    args[n] = NULL;
    if (tl_test_serve_args(s, args, err_path) != 0) {
        char *e = tl_test_read(err_path);
        fail_msg("the server did not start; stderr:\n%.2000s", e ? e : "");
    }
}

/* One request with key (NULL: none) and, for a body, its Content-Type (NULL: none). */
static tl_test_reply req(const tl_test_server *s, const char *method, const char *path,
                         const char *key, const char *ctype, const char *body)
{
    char auth[256], ct[128];
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", key ? key : "");
    snprintf(ct, sizeof(ct), "Content-Type: %s", ctype ? ctype : "");
    const char *headers[3] = {NULL};
    int n = 0;
    if (key)
        headers[n++] = auth;
    if (ctype)
        headers[n++] = ct;
    tl_test_reply r;
    tl_test_request(s->port, method, path, headers, body, body ? strlen(body) : 0, &r);
    return r;
}

/* Fails unless r has status, is JSON, and (code non-NULL) is exactly {"error": {"code",
 * "message", "field"?, "index"?}} with this code and field (NULL: none). Frees r. */
static void expect(tl_test_reply *r, long status, const char *code, const char *field)
{
    if (r->status != status)
        fail_msg("expected %ld, got %ld: %s", status, r->status, r->body ? r->body : "");
    if (code) {
        assert_non_null(r->ctype);
        assert_int_equal(strncmp(r->ctype, "application/json", 16), 0);
        json_t *j = json_loads(r->body ? r->body : "", 0, NULL);
        json_t *e = json_object_get(j, "error");
        const char *got = json_string_value(json_object_get(e, "code"));
        const char *msg = json_string_value(json_object_get(e, "message"));
        const char *f = json_string_value(json_object_get(e, "field"));
        size_t keys = json_object_size(e) - !!f - !!json_object_get(e, "index");
        if (json_object_size(j) != 1 || !got || strcmp(got, code) != 0 || !msg || !*msg ||
            keys != 2 || (field ? !f || strcmp(f, field) != 0 : f != NULL))
            fail_msg("expected error %s field %s, got %s", code, field ? field : "(none)",
                     r->body ? r->body : "");
        json_decref(j);
    }
    tl_test_reply_free(r);
}

static void expect_req(const tl_test_server *s, const char *method, const char *path,
                       const char *key, const char *body, long status, const char *code,
                       const char *field)
{
    tl_test_reply r = req(s, method, path, key, body ? "application/json" : NULL, body);
    expect(&r, status, code, field);
}

static void test_400_401_403_404_405(void **state)
{
    tl_test_server *s = *state;
    start(s, NULL);
    expect_req(s, "POST", "/v1/events", app_key, "{\"user\": ", 400, "invalid_json", NULL);
    expect_req(s, "GET", "/v1/users/p1/recommendations?n=0", app_key, NULL, 400, "invalid", "n");
    expect_req(s, "GET", "/v1/users/p1/recommendations?limit=5", app_key, NULL, 400, "invalid",
               "limit");
    expect_req(s, "POST", "/v1/keys", admin_key, "{\"role\": \"root\"}", 400, "invalid", "role");
    /* 401: no key, a made-up key; the challenge goes with it */
    tl_test_reply r = req(s, "GET", "/v1/users/p1/recommendations", NULL, NULL, NULL);
    assert_non_null(strstr(r.headers, "WWW-Authenticate: Bearer"));
    expect(&r, 401, "unauthorized", NULL);
    expect_req(s, "GET", "/v1/users/p1/homepage", "tl_abcdefgh_nope", NULL, 401, "unauthorized",
               NULL);
    /* 403, roles both ways: a patron key reads its own patron only; an app key makes, lists
     * and revokes no keys; neither trains */
    expect_req(s, "GET", "/v1/users/p1/recommendations", patron_key, NULL, 200, NULL, NULL);
    expect_req(s, "GET", "/v1/users/u2/recommendations", patron_key, NULL, 403, "forbidden", NULL);
    expect_req(s, "GET", "/v1/users/u2/homepage", patron_key, NULL, 403, "forbidden", NULL);
    expect_req(s, "GET", "/v1/users/u2/homepage", app_key, NULL, 200, NULL, NULL);
    expect_req(s, "POST", "/v1/keys", app_key, "{\"role\": \"admin\"}", 403, "forbidden", NULL);
    expect_req(s, "POST", "/v1/keys", patron_key, "{\"role\": \"admin\"}", 403, "forbidden", NULL);
    expect_req(s, "GET", "/v1/keys", app_key, NULL, 403, "forbidden", NULL);
    expect_req(s, "DELETE", "/v1/keys/abcdefgh", app_key, NULL, 403, "forbidden", NULL);
    expect_req(s, "POST", "/v1/models/train", app_key, "{}", 403, "forbidden", NULL);
    /* 404: no such route, no such patron, no such key */
    expect_req(s, "GET", "/v1/nothing", app_key, NULL, 404, "not_found", NULL);
    expect_req(s, "GET", "/v1/users/nobody/recommendations", app_key, NULL, 404, "not_found",
               "user");
    expect_req(s, "DELETE", "/v1/keys/abcdefgh", admin_key, NULL, 404, "not_found", "id");
    /* readiness needs no key: a model is loaded and the store answers */
    r = req(s, "GET", "/v1/ready", NULL, NULL, NULL);
    assert_non_null(strstr(r.body, "\"status\":\"ready\""));
    expect(&r, 200, NULL, NULL);
    /* 405: a known path, another method */
    r = req(s, "DELETE", "/v1/health", NULL, NULL, NULL);
    assert_non_null(strstr(r.headers, "Allow: GET, HEAD"));
    expect(&r, 405, "method_not_allowed", NULL);
}

static void test_409_training_running(void **state)
{
    tl_test_server *s = *state;
    start(s, NULL);
    /* a second training while one runs is refused; a training this small may end before the
     * second request arrives, so try again until one is caught */
    long second = 0;
    for (int k = 0; k < TRAIN_TRIES && second != 409; k++) {
        tl_test_reply r = req(s, "POST", "/v1/models/train", admin_key, "application/json",
                              "{\"model\": \"ease\"}");
        if (r.status != 202 && r.status != 409)
            fail_msg("POST /v1/models/train: %ld %s", r.status, r.body ? r.body : "");
        tl_test_reply_free(&r);
        r = req(s, "POST", "/v1/models/train", admin_key, "application/json",
                "{\"model\": \"ease\"}");
        second = r.status;
        if (second == 409)
            expect(&r, 409, "busy", "model");
        else
            tl_test_reply_free(&r);
    }
    assert_int_equal(second, 409);
}

static void test_413_415_422(void **state)
{
    tl_test_server *s = *state;
    const char *const extra[] = {"--max-body", "1024", "--max-batch", "2", NULL};
    start(s, extra);
    char big[2048];
    memset(big, ' ', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    big[0] = '[';
    big[sizeof(big) - 2] = ']';
    expect_req(s, "POST", "/v1/events", app_key, big, 413, "too_large", NULL);
    expect_req(s, "POST", "/v1/events", app_key,
               "[{\"user\":\"p1\",\"item\":\"i1\",\"type\":\"loan\"},"
               "{\"user\":\"p1\",\"item\":\"i2\",\"type\":\"loan\"},"
               "{\"user\":\"p1\",\"item\":\"i3\",\"type\":\"loan\"}]",
               413, "batch_too_large", "events");
    /* POST bodies must say they are JSON */
    tl_test_reply r = req(s, "POST", "/v1/events", app_key, "text/plain",
                          "{\"user\":\"p1\",\"item\":\"i1\",\"type\":\"loan\"}");
    expect(&r, 415, "unsupported_media_type", NULL);
    r = req(s, "POST", "/v1/keys", admin_key, NULL, "{\"role\":\"app\"}");
    expect(&r, 415, "unsupported_media_type", NULL);
    /* 422: valid JSON, an event that is not one; nothing of the batch is stored */
    expect_req(s, "POST", "/v1/events", app_key,
               "[{\"user\":\"p1\",\"item\":\"i1\",\"type\":\"loan\"},"
               "{\"user\":\"\",\"item\":\"i2\",\"type\":\"loan\"}]",
               422, "invalid_event", "[1].user");
    expect_req(s, "POST", "/v1/events", app_key, "{\"user\":\"p1\",\"item\":\"i1\",\"type\":7}",
               422, "invalid_event", "[0].type");
    expect_req(s, "POST", "/v1/events", app_key,
               "{\"user\":\"p1\",\"item\":\"i1\",\"type\":\"loan\"}", 201, NULL, NULL);
}

static void test_503_read_only(void **state)
{
    tl_test_server *s = *state;
    const char *const extra[] = {"--read-only", NULL};
    start(s, extra);
    expect_req(s, "POST", "/v1/events", app_key,
               "{\"user\":\"p1\",\"item\":\"i1\",\"type\":\"loan\"}", 503, "read_only", NULL);
    expect_req(s, "POST", "/v1/keys", admin_key, "{\"role\":\"app\"}", 503, "read_only", NULL);
    expect_req(s, "POST", "/v1/models/train", admin_key, "{}", 503, "read_only", NULL);
    expect_req(s, "POST", "/v1/items", admin_key, "{\"id\":\"n\"}", 503, "read_only", NULL);
    expect_req(s, "GET", "/v1/users/p1/recommendations", app_key, NULL, 200, NULL, NULL);
}

/* 429 by key: each key has its own bucket; Retry-After says when to come back; /metrics
 * counts the refusals. */
static void test_429_by_key(void **state)
{
    tl_test_server *s = *state;
    const char *const extra[] = {"--rate-limit", "1", "--rate-burst", "2", NULL};
    start(s, extra);
    const char *path = "/v1/users/p1/recommendations";
    expect_req(s, "GET", path, app_key, NULL, 200, NULL, NULL);
    expect_req(s, "GET", path, app_key, NULL, 200, NULL, NULL);
    tl_test_reply r = req(s, "GET", path, app_key, NULL, NULL);
    assert_non_null(strstr(r.headers, "Retry-After: 1\r\n"));
    expect(&r, 429, "rate_limited", NULL);
    expect_req(s, "GET", path, patron_key, NULL, 200, NULL, NULL); /* another key */
    r = req(s, "GET", "/metrics", admin_key, NULL, NULL);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\ntailor_http_rate_limited_total 1\n"));
    assert_non_null(strstr(r.body, "route=\"/v1/users/{id}/recommendations\",status=\"429\"} 1\n"));
    tl_test_reply_free(&r);
    usleep(1100 * 1000); /* Retry-After later, a token is back */
    expect_req(s, "GET", path, app_key, NULL, 200, NULL, NULL);
}

/* 429 by address: without keys, each client address has a bucket. */
static void test_429_by_address_without_keys(void **state)
{
    tl_test_server *s = *state;
    const char *const extra[] = {"--no-auth", "--rate-limit", "1", NULL};
    start(s, extra);
    expect_req(s, "GET", "/v1/health", NULL, NULL, 200, NULL, NULL);
    expect_req(s, "GET", "/v1/users/p1/recommendations", NULL, NULL, 429, "rate_limited", NULL);
}

static void test_keys_over_http(void **state)
{
    tl_test_server *s = *state;
    start(s, NULL);
    /* made: shown once, with its id, role and label */
    tl_test_reply r = req(s, "POST", "/v1/keys", admin_key, "application/json",
                          "{\"role\": \"patron\", \"user\": \"p1\", \"label\": \"kiosk\"}");
    assert_int_equal(r.status, 201);
    json_t *j = json_loads(r.body, 0, NULL);
    const char *key = json_string_value(json_object_get(j, "key"));
    const char *id = json_string_value(json_object_get(j, "id"));
    assert_non_null(key);
    assert_non_null(id);
    assert_int_equal(strlen(key), 55);
    assert_int_equal(strncmp(key + 3, id, 8), 0);
    assert_string_equal(json_string_value(json_object_get(j, "role")), "patron");
    assert_string_equal(json_string_value(json_object_get(j, "user")), "p1");
    char new_key[64], new_id[16], path[64];
    snprintf(new_key, sizeof(new_key), "%s", key);
    snprintf(new_id, sizeof(new_id), "%s", id);
    json_decref(j);
    tl_test_reply_free(&r);
    /* it works, as a patron key */
    expect_req(s, "GET", "/v1/users/p1/homepage", new_key, NULL, 200, NULL, NULL);
    expect_req(s, "GET", "/v1/users/u2/homepage", new_key, NULL, 403, "forbidden", NULL);
    /* listed, without any secret */
    r = req(s, "GET", "/v1/keys", admin_key, NULL, NULL);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, new_id));
    assert_non_null(strstr(r.body, "\"label\":\"kiosk\""));
    assert_null(strstr(r.body, new_key + 12));
    assert_null(strstr(r.body, admin_key + 12));
    assert_null(strstr(r.body, "hash"));
    j = json_loads(r.body, 0, NULL);
    assert_int_equal(json_array_size(json_object_get(j, "keys")), 4);
    json_decref(j);
    tl_test_reply_free(&r);
    /* bodies that make no key */
    expect_req(s, "POST", "/v1/keys", admin_key, "{\"role\": \"patron\"}", 400, "invalid", "user");
    expect_req(s, "POST", "/v1/keys", admin_key, "{\"role\": \"app\", \"user\": \"p1\"}", 400,
               "invalid", "user");
    expect_req(s, "POST", "/v1/keys", admin_key, "{\"role\": \"app\", \"scope\": 1}", 400,
               "invalid", "scope");
    expect_req(s, "POST", "/v1/keys", admin_key, "{\"role\": \"app\", \"label\": 5}", 400,
               "invalid", "label");
    expect_req(s, "POST", "/v1/keys", admin_key, "[]", 400, "invalid_json", NULL);
    /* revoked: refused at once by this server */
    snprintf(path, sizeof(path), "/v1/keys/%s", new_id);
    expect_req(s, "DELETE", path, admin_key, NULL, 204, NULL, NULL);
    expect_req(s, "GET", "/v1/users/p1/homepage", new_key, NULL, 401, "unauthorized", NULL);
    r = req(s, "GET", "/v1/keys", admin_key, NULL, NULL);
    j = json_loads(r.body, 0, NULL);
    json_t *k = json_array_get(json_object_get(j, "keys"), 3);
    assert_string_equal(json_string_value(json_object_get(k, "id")), new_id);
    assert_true(json_is_integer(json_object_get(k, "revoked")));
    json_decref(j);
    tl_test_reply_free(&r);
}

/* Everything `tailor serve` says once it runs is a JSON line: start, the no-auth warning, a
 * training and its swap, the stop. */
static void test_log_is_json_lines(void **state)
{
    tl_test_server *s = *state;
    const char *const extra[] = {"--no-auth", NULL};
    start(s, extra);
    expect_req(s, "POST", "/v1/models/train", NULL, "{\"model\": \"popular\"}", 202, NULL, NULL);
    for (int k = 0; k < 200; k++) { /* 10 s at most */
        tl_test_reply r = req(s, "GET", "/v1/models", NULL, NULL, NULL);
        int done = r.body && strstr(r.body, "\"runs\":1");
        tl_test_reply_free(&r);
        if (done)
            break;
        usleep(50 * 1000);
    }
    tl_test_serve_stop(s, SIGTERM);
    char *log = tl_test_read(err_path);
    assert_non_null(log);
    const char *want[] = {"start", "training", "swap", "stop"};
    int seen[4] = {0}, lines = 0;
    for (char *line = strtok(log, "\n"); line; line = strtok(NULL, "\n"), lines++) {
        json_t *j = json_loads(line, 0, NULL);
        if (!json_is_string(json_object_get(j, "ts")) ||
            !json_is_string(json_object_get(j, "level")))
            fail_msg("not a JSON log line: %s", line);
        const char *what = json_string_value(json_object_get(j, "what"));
        for (int k = 0; k < 4; k++)
            seen[k] |= what && strcmp(what, want[k]) == 0;
        json_decref(j);
    }
    free(log);
    for (int k = 0; k < 4; k++)
        if (!seen[k])
            fail_msg("no \"what\":\"%s\" line in the log", want[k]);
    assert_true(lines >= 6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_400_401_403_404_405, setup, teardown),
        cmocka_unit_test_setup_teardown(test_409_training_running, setup, teardown),
        cmocka_unit_test_setup_teardown(test_413_415_422, setup, teardown),
        cmocka_unit_test_setup_teardown(test_503_read_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_429_by_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_429_by_address_without_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keys_over_http, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_is_json_lines, setup, teardown),
    };
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, make_data, free_data);
}
