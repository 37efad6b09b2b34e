/* The server with API keys: 401 without a key or with a bad one, 403 when the key's role may
 * not do what is asked, health open to all; and the `tailor key` commands. The server runs as
 * a child process (tests/serve_child.c, as in test_server.c). */
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

/* Starts `tailor serve --port 0 --db <copy> --model <copy>` (with authentication) plus extra
 * arguments (a NULL-terminated list) and waits for its first line; keys made before in
 * base.db are in the copy. */
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
    if (tl_test_serve_with(&s->child, s->db, s->model, s->err, TL_TEST_AUTH | TL_TEST_LOG, extra) !=
        0) {
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

/* GET path with the key (NULL: no Authorization header). */
static reply get(const server *s, const char *path, const char *key)
{
    char h[256];
    snprintf(h, sizeof(h), "Authorization: Bearer %s", key ? key : "");
    return http(s, "GET", path, NULL, NULL, 0, key ? h : NULL);
}

static reply post(const server *s, const char *path, const char *body, const char *key)
{
    char h[256];
    snprintf(h, sizeof(h), "Authorization: Bearer %s", key ? key : "");
    return http(s, "POST", path, "application/json", body, strlen(body), key ? h : NULL);
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

/* The keys made in base.db before any server starts. */
static char app_key[128], patron_key[128], admin_key[128];

static int make_keys(void **state)
{
    if (make_data(state) != 0)
        return -1;
    const char *db = tl_test_tmp("base.db");
    tl_test_make_key(db, "--role app --label 'web catalogue'", app_key, sizeof(app_key));
    tl_test_make_key(db, "--role patron --user p1", patron_key, sizeof(patron_key));
    tl_test_make_key(db, "--role admin", admin_key, sizeof(admin_key));
    return 0;
}

static void test_health_open_others_need_a_key(void **state)
{
    server *s = *state;
    start(s, NULL);
    reply r = get(s, "/v1/health", NULL);
    check(&r, 200, NULL, NULL);
    reply_free(&r);
    r = get(s, "/v1/users/p1/recommendations", NULL);
    check(&r, 401, "unauthorized", NULL);
    assert_non_null(strstr(r.headers, "WWW-Authenticate: Bearer"));
    reply_free(&r);
    r = get(s, "/v1/models", NULL);
    check(&r, 401, "unauthorized", NULL);
    reply_free(&r);
    /* a bad key, a right id with a wrong secret, a key of another scheme */
    r = get(s, "/v1/users/p1/recommendations", "tl_nope");
    check(&r, 401, "unauthorized", NULL);
    assert_non_null(strstr(r.headers, "WWW-Authenticate: Bearer"));
    reply_free(&r);
    char wrong[128];
    snprintf(wrong, sizeof(wrong), "%s", app_key);
    wrong[strlen(wrong) - 1] = wrong[strlen(wrong) - 1] == 'A' ? 'B' : 'A';
    r = get(s, "/v1/users/p1/recommendations", wrong);
    check(&r, 401, "unauthorized", NULL);
    reply_free(&r);
    r = http(s, "GET", "/v1/users/p1/recommendations", NULL, NULL, 0, "Authorization: Basic eDp5");
    check(&r, 401, "unauthorized", NULL);
    reply_free(&r);
    /* a body is never read for a request without a key */
    r = post(s, "/v1/events", "{\"user\":\"p1\",\"item\":\"c\",\"type\":\"loan\"}", NULL);
    check(&r, 401, "unauthorized", NULL);
    reply_free(&r);
}

static void test_app_key(void **state)
{
    server *s = *state;
    start(s, NULL);
    reply r = get(s, "/v1/users/p1/recommendations", app_key);
    check(&r, 200, NULL, NULL);
    reply_free(&r);
    r = get(s, "/v1/users/u1/homepage", app_key);
    check(&r, 200, NULL, NULL);
    reply_free(&r);
    r = get(s, "/v1/models", app_key);
    check(&r, 200, NULL, NULL);
    reply_free(&r);
    r = post(s, "/v1/events", "{\"user\":\"u1\",\"item\":\"c\",\"type\":\"loan\"}", app_key);
    check(&r, 201, NULL, NULL);
    reply_free(&r);
    /* training is for admin keys */
    r = post(s, "/v1/models/train", "{}", app_key);
    check(&r, 403, "forbidden", NULL);
    reply_free(&r);
}

static void test_patron_key(void **state)
{
    server *s = *state;
    start(s, NULL);
    reply r = get(s, "/v1/users/p1/recommendations", patron_key);
    check(&r, 200, NULL, NULL);
    reply_free(&r);
    r = get(s, "/v1/users/p1/homepage", patron_key);
    check(&r, 200, NULL, NULL);
    reply_free(&r);
    r = get(s, "/v1/users/u1/recommendations", patron_key);
    check(&r, 403, "forbidden", NULL);
    reply_free(&r);
    r = get(s, "/v1/users/u1/homepage", patron_key);
    check(&r, 403, "forbidden", NULL);
    reply_free(&r);
    r = get(s, "/metrics", patron_key);
    check(&r, 403, "forbidden", NULL);
    reply_free(&r);
    r = post(s, "/v1/events", "{\"user\":\"p1\",\"item\":\"c\",\"type\":\"loan\"}", patron_key);
    check(&r, 201, NULL, NULL);
    reply_free(&r);
    /* one event of another patron in a batch refuses the batch: nothing is written */
    r = post(s, "/v1/events",
             "[{\"user\":\"p1\",\"item\":\"b\",\"type\":\"loan\"},"
             "{\"user\":\"u2\",\"item\":\"c\",\"type\":\"loan\"}]",
             patron_key);
    check(&r, 403, "forbidden", "user");
    reply_free(&r);
    assert_int_equal(tl_test_cli("--db '%s' export events", s->db), 0);
    char *ev = tl_test_cli_out();
    assert_non_null(ev);
    assert_null(strstr(ev, "u2\tc"));
    free(ev);
    r = post(s, "/v1/models/train", "{}", patron_key);
    check(&r, 403, "forbidden", NULL);
    reply_free(&r);
}

static void test_no_auth_still_serves(void **state)
{
    server *s = *state;
    const char *const extra[] = {"--no-auth", NULL};
    start(s, extra);
    reply r = get(s, "/v1/users/u1/recommendations", NULL);
    check(&r, 200, NULL, NULL);
    reply_free(&r);
    char *e = tl_test_read(s->err);
    assert_non_null(e);
    assert_non_null(strstr(e, "NO AUTHENTICATION"));
    free(e);
}

static void test_revoked_key_refused(void **state)
{
    server *s = *state;
    start(s, NULL);
    char key[128];
    tl_test_make_key(s->db, "--role app", key, sizeof(key));
    reply r = get(s, "/v1/users/p1/recommendations", key);
    check(&r, 200, NULL, NULL);
    reply_free(&r);
    char id[16];
    snprintf(id, sizeof(id), "%.8s", key + 3);
    assert_int_equal(tl_test_cli("--db '%s' key revoke '%s'", s->db, id), 0);
    usleep(1500 * 1000); /* the server trusts a lookup for at most a second */
    r = get(s, "/v1/users/p1/recommendations", key);
    check(&r, 401, "unauthorized", NULL);
    reply_free(&r);
}

static void test_cli_keys(void **state)
{
    (void)state;
    const char *db = tl_test_tmp("cli.db");
    assert_int_equal(tl_test_sh("cp '%s' '%s'", tl_test_tmp("base.db"), db), 0);
    char key[128];
    tl_test_make_key(db, "--role patron --user p9 --label kiosk", key, sizeof(key));
    assert_int_equal((int)strlen(key), 55);
    /* list: ids, roles, users and labels, never a secret */
    assert_int_equal(tl_test_cli("--db '%s' key list", db), 0);
    char *out = tl_test_cli_out();
    assert_non_null(out);
    char id[16];
    snprintf(id, sizeof(id), "%.8s", key + 3);
    assert_non_null(strstr(out, id));
    assert_non_null(strstr(out, "kiosk"));
    assert_null(strstr(out, key + 12));
    assert_null(strstr(out, app_key + 12));
    free(out);
    assert_int_equal(tl_test_cli("--db '%s' key list --json", db), 0);
    out = tl_test_cli_out();
    json_t *j = json_loads(out, 0, NULL);
    assert_true(json_is_array(j));
    assert_int_equal(json_array_size(j), 4);
    assert_null(strstr(out, key + 12));
    json_decref(j);
    free(out);
    tl_test_cli_check(tl_test_cli("--db '%s' key revoke nosuchid", db), 1, NULL,
                      "no API key 'nosuchid'");
    tl_test_cli_check(tl_test_cli("--db '%s' key revoke '%s'", db, id), 0, "revoked", NULL);
    tl_test_cli_check(tl_test_cli("--db '%s' key create --role patron", db), 2, NULL, "--user");
    tl_test_cli_check(tl_test_cli("--db '%s' key create --role root", db), 2, NULL, "--role");
    tl_test_cli_check(tl_test_cli("--db '%s' key list", tl_test_tmp("absent.db")), 1, NULL,
                      "no Tailor store at");
    /* serve with authentication needs a store */
    tl_test_cli_check(tl_test_cli("--db '%s' serve --model '%s' --port 0", tl_test_tmp("absent.db"),
                                  tl_test_tmp("m.tlm")),
                      2, NULL, "API keys");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_health_open_others_need_a_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_app_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_patron_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_auth_still_serves, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revoked_key_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cli_keys, setup, teardown),
    };
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, make_keys, free_data);
}
