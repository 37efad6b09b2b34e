/* The web page's files served by `tailor serve` (GET /, GET /web/NAME: the bytes of web/ built
 * into the binary, their types, ETags and 304, the Content-Security-Policy, no key needed) and
 * GET /v1/users (the patrons a demo page lists, most events first; who may ask; a pseudonymized
 * store lists none). What the page does in a browser is tests/web/test_web.py's. */
#include "support.h"

#include <curl/curl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "serve_child.h"

static const char EVENTS[] = "user\titem\ttimestamp\n"
                             "p1\ta\t1000\n"
                             "u1\ta\t1000\nu1\tx\t1001\nu1\tb\t1002\n"
                             "u2\ta\t1000\nu2\tb\t1001\n"
                             "u3\tx\t1000\nu3\ty\t1001\n";

static char admin_key[128], app_key[128], patron_key[128];
static tl_test_server srv;

static int setup(void **state)
{
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const char *db = tl_test_tmp("web.db");
    char model[512];
    snprintf(model, sizeof(model), "%s", tl_test_tmp("web.tlm"));
    if (tl_test_write(tl_test_tmp("events.tsv"), EVENTS) ||
        tl_test_cli("--db '%s' import events '%s'", db, tl_test_tmp("events.tsv")) != 0 ||
        tl_test_cli("--db '%s' train --model itemknn --set autotune=0 --out '%s'", db, model) != 0)
        return -1;
    tl_test_make_key(db, "--role admin", admin_key, sizeof(admin_key));
    tl_test_make_key(db, "--role app", app_key, sizeof(app_key));
    tl_test_make_key(db, "--role patron --user p1", patron_key, sizeof(patron_key));
    return tl_test_serve_with(&srv, db, model, tl_test_tmp("serve.err"), TL_TEST_AUTH, NULL);
}

static int teardown(void **state)
{
    (void)state;
    tl_test_serve_stop(&srv, SIGTERM);
    curl_global_cleanup();
    return 0;
}

/* The value of header name in the raw header lines h (into out), or NULL. */
static const char *header(const char *h, const char *name, char *out, size_t len)
{
    for (const char *line = h; line && *line;
         line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        size_t n = strlen(name);
        if (strncasecmp(line, name, n) == 0 && line[n] == ':') {
            const char *v = line + n + 1;
            while (*v == ' ')
                v++;
            size_t k = strcspn(v, "\r\n");
            snprintf(out, len, "%.*s", (int)k, v);
            return out;
        }
    }
    return NULL;
}

static void test_page_files(void **state)
{
    (void)state;
    tl_test_reply r;
    char etag[64], csp[512], v[128];
    /* the page, with no key on a server that asks for keys */
    assert_int_equal(tl_test_request(srv.port, "GET", "/", NULL, NULL, 0, &r), 200);
    assert_string_equal(r.ctype, "text/html; charset=utf-8");
    assert_non_null(strstr(r.body, "<script type=\"module\" src=\"/web/app.js\"></script>"));
    assert_non_null(header(r.headers, "ETag", etag, sizeof(etag)));
    assert_non_null(header(r.headers, "Content-Security-Policy", csp, sizeof(csp)));
    assert_non_null(strstr(csp, "script-src 'self';"));
    assert_non_null(strstr(csp, "frame-ancestors 'none'"));
    assert_null(strstr(csp, "unsafe"));
    assert_string_equal(header(r.headers, "Cache-Control", v, sizeof(v)), "no-cache");
    assert_string_equal(header(r.headers, "X-Content-Type-Options", v, sizeof(v)), "nosniff");
    tl_test_reply_free(&r);
    /* a conditional GET with the ETag: 304, no body */
    char inm[128];
    snprintf(inm, sizeof(inm), "If-None-Match: %s", etag);
    const char *h304[] = {inm, NULL};
    assert_int_equal(tl_test_request(srv.port, "GET", "/", h304, NULL, 0, &r), 304);
    assert_int_equal(r.body_len, 0);
    tl_test_reply_free(&r);
    const char *hother[] = {"If-None-Match: \"0000000000000000\"", NULL};
    assert_int_equal(tl_test_request(srv.port, "GET", "/", hother, NULL, 0, &r), 200);
    tl_test_reply_free(&r);
    /* each file is web/'s bytes, with its type */
    const struct {
        const char *name, *ctype;
    } files[] = {{"app.js", "text/javascript; charset=utf-8"},
                 {"strings.js", "text/javascript; charset=utf-8"},
                 {"widget.js", "text/javascript; charset=utf-8"},
                 {"style.css", "text/css; charset=utf-8"},
                 {"index.html", "text/html; charset=utf-8"}};
    for (size_t k = 0; k < sizeof(files) / sizeof(files[0]); k++) {
        char path[128], src[128];
        snprintf(path, sizeof(path), "/web/%s", files[k].name);
        snprintf(src, sizeof(src), "web/%s", files[k].name);
        char *want = tl_test_read(tl_test_source(src));
        assert_non_null(want);
        assert_int_equal(tl_test_request(srv.port, "GET", path, NULL, NULL, 0, &r), 200);
        assert_string_equal(r.ctype, files[k].ctype);
        assert_int_equal(r.body_len, strlen(want));
        assert_memory_equal(r.body, want, r.body_len);
        free(want);
        tl_test_reply_free(&r);
    }
    /* no other method; a name that is no file */
    assert_int_equal(tl_test_request(srv.port, "POST", "/", NULL, "{}", 2, &r), 405);
    tl_test_reply_free(&r);
    assert_int_equal(tl_test_request(srv.port, "GET", "/web/secret.db", NULL, NULL, 0, &r), 404);
    assert_non_null(strstr(r.body, "\"field\":\"file\""));
    tl_test_reply_free(&r);
    assert_int_equal(tl_test_request(srv.port, "GET", "/web/..%2Fetc%2Fpasswd", NULL, NULL, 0, &r),
                     404);
    tl_test_reply_free(&r);
}

static long users(const char *key, const char *query, json_t **out)
{
    char auth[200], path[128];
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", key ? key : "");
    snprintf(path, sizeof(path), "/v1/users%s", query);
    const char *h[] = {auth, NULL};
    tl_test_reply r;
    long st = tl_test_request(srv.port, "GET", path, key ? h : NULL, NULL, 0, &r);
    *out = r.body ? json_loads(r.body, 0, NULL) : NULL;
    tl_test_reply_free(&r);
    return st;
}

static void test_users_listing(void **state)
{
    (void)state;
    json_t *j;
    assert_int_equal(users(app_key, "", &j), 200);
    json_t *list = json_object_get(j, "users");
    assert_int_equal(json_array_size(list), 4);
    assert_true(json_is_false(json_object_get(j, "pseudonymized")));
    /* most events first, ties in the store's order */
    const char *ids[] = {"u1", "u2", "u3", "p1"};
    const int events[] = {3, 2, 2, 1};
    for (size_t k = 0; k < 4; k++) {
        json_t *u = json_array_get(list, k);
        assert_string_equal(json_string_value(json_object_get(u, "id")), ids[k]);
        assert_int_equal(json_integer_value(json_object_get(u, "events")), events[k]);
    }
    json_decref(j);
    assert_int_equal(users(admin_key, "?limit=2", &j), 200);
    assert_int_equal(json_array_size(json_object_get(j, "users")), 2);
    json_decref(j);
    /* who may ask: staff keys only */
    assert_int_equal(users(NULL, "", &j), 401);
    json_decref(j);
    assert_int_equal(users(patron_key, "", &j), 403);
    json_decref(j);
    /* bad parameters, named */
    const char *bad[][2] = {{"?limit=0", "limit"},
                            {"?limit=1001", "limit"},
                            {"?limit=abc", "limit"},
                            {"?limit=", "limit"},
                            {"?n=3", "n"}};
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        assert_int_equal(users(app_key, bad[k][0], &j), 400);
        json_t *e = json_object_get(j, "error");
        assert_string_equal(json_string_value(json_object_get(e, "code")), "invalid");
        assert_string_equal(json_string_value(json_object_get(e, "field")), bad[k][1]);
        json_decref(j);
    }
}

/* A pseudonymized store keeps hashes nobody can sign in as: none is listed. */
static void test_users_pseudonymized(void **state)
{
    (void)state;
    char key_file[512], db[512], model[512];
    snprintf(key_file, sizeof(key_file), "%s", tl_test_tmp("pseudonym.key"));
    snprintf(db, sizeof(db), "%s", tl_test_tmp("pseudo.db"));
    snprintf(model, sizeof(model), "%s", tl_test_tmp("pseudo.tlm"));
    assert_int_equal(tl_test_cli("key pseudonym-new '%s'", key_file), 0);
    assert_int_equal(tl_test_cli("--db '%s' --pseudonym-key '%s' import events '%s' --quiet", db,
                                 key_file, tl_test_tmp("events.tsv")),
                     0);
    assert_int_equal(tl_test_cli("--db '%s' --pseudonym-key '%s' train --model itemknn --set "
                                 "autotune=0 --out '%s' --quiet",
                                 db, key_file, model),
                     0);
    tl_test_server p = {0};
    const char *extra[] = {"--pseudonym-key", key_file, NULL};
    assert_int_equal(tl_test_serve_with(&p, db, model, tl_test_tmp("pseudo.err"), 0, extra), 0);
    char *body = NULL;
    assert_int_equal(tl_test_http(p.port, "GET", "/v1/users", NULL, NULL, 0, &body, NULL, NULL),
                     200);
    json_t *j = json_loads(body, 0, NULL);
    assert_true(json_is_true(json_object_get(j, "pseudonymized")));
    assert_int_equal(json_array_size(json_object_get(j, "users")), 0);
    json_decref(j);
    free(body);
    tl_test_serve_stop(&p, SIGTERM);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_page_files),
        cmocka_unit_test(test_users_listing),
        cmocka_unit_test(test_users_pseudonymized),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
