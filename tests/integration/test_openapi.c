/* docs/openapi.json against the server: every route of the one routing table
 * (tl_server_route_at) is in the document with its method and every operation of the document
 * is a route; the security of each; and GET /v1/openapi.json of a running `tailor serve`
 * answers the file's bytes, as JSON. */
#include "support.h"

#include <ctype.h>
#include <curl/curl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve_child.h"
#include "server/server.h"

static const char *const METHODS[] = {"get",     "put",  "post",  "delete",
                                      "options", "head", "patch", "trace"};
#define N_METHODS (sizeof(METHODS) / sizeof(METHODS[0]))

static json_t *load_doc(void)
{
    json_error_t e;
    json_t *doc = json_load_file(tl_test_source("docs/openapi.json"), 0, &e);
    if (!doc)
        fail_msg("docs/openapi.json: line %d: %s", e.line, e.text);
    return doc;
}

static void lower(const char *s, char *out, size_t cap)
{
    size_t k = 0;
    for (; s[k] && k + 1 < cap; k++)
        out[k] = (char)tolower((unsigned char)s[k]);
    out[k] = '\0';
}

static int is_route(const char *method, const char *pattern)
{
    char m[16];
    for (size_t i = 0; tl_server_route_at(i); i++) {
        const tl_server_route *r = tl_server_route_at(i);
        lower(r->method, m, sizeof(m));
        if (strcmp(m, method) == 0 && strcmp(r->pattern, pattern) == 0)
            return 1;
    }
    return 0;
}

static void test_routes_match_document(void **state)
{
    (void)state;
    json_t *doc = load_doc();
    assert_string_equal(json_string_value(json_object_get(doc, "openapi")), "3.1.0");
    json_t *paths = json_object_get(doc, "paths");
    assert_true(json_is_object(paths));
    /* every route is documented */
    size_t n = 0;
    char m[16];
    for (; tl_server_route_at(n); n++) {
        const tl_server_route *r = tl_server_route_at(n);
        lower(r->method, m, sizeof(m));
        if (!json_is_object(json_object_get(json_object_get(paths, r->pattern), m)))
            fail_msg("%s %s is a route but not in docs/openapi.json", r->method, r->pattern);
    }
    assert_true(n >= 9);
    /* every operation of the document is a route */
    const char *path;
    json_t *item;
    size_t ops = 0;
    json_object_foreach(paths, path, item)
    {
        for (size_t k = 0; k < N_METHODS; k++) {
            if (!json_object_get(item, METHODS[k]))
                continue;
            ops++;
            if (!is_route(METHODS[k], path))
                fail_msg("docs/openapi.json has %s %s, which is no route", METHODS[k], path);
        }
    }
    assert_int_equal(ops, n);
    json_decref(doc);
}

/* bearerAuth everywhere but the health check, the document itself, the web page's files and the
 * unsubscribe link (whose signature is its proof). */
static void test_security(void **state)
{
    (void)state;
    json_t *doc = load_doc();
    json_t *scheme = json_object_get(
        json_object_get(json_object_get(doc, "components"), "securitySchemes"), "bearerAuth");
    assert_string_equal(json_string_value(json_object_get(scheme, "type")), "http");
    assert_string_equal(json_string_value(json_object_get(scheme, "scheme")), "bearer");
    char m[16];
    for (size_t i = 0; tl_server_route_at(i); i++) {
        const tl_server_route *r = tl_server_route_at(i);
        lower(r->method, m, sizeof(m));
        json_t *op = json_object_get(json_object_get(json_object_get(doc, "paths"), r->pattern), m);
        json_t *sec = json_object_get(op, "security");
        int public_route =
            strcmp(r->pattern, "/v1/health") == 0 || strcmp(r->pattern, "/v1/ready") == 0 ||
            strcmp(r->pattern, "/v1/openapi.json") == 0 || strcmp(r->pattern, "/") == 0 ||
            strcmp(r->pattern, "/web/{name}") == 0 || strcmp(r->pattern, "/v1/unsubscribe") == 0;
        assert_true(json_is_array(sec));
        if (public_route) {
            assert_int_equal(json_array_size(sec), 0);
        } else {
            if (json_array_size(sec) != 1 ||
                !json_is_array(json_object_get(json_array_get(sec, 0), "bearerAuth")))
                fail_msg("%s %s does not require bearerAuth", r->method, r->pattern);
            assert_non_null(json_object_get(json_object_get(op, "responses"), "401"));
        }
        assert_true(json_is_object(json_object_get(op, "responses")));
    }
    json_decref(doc);
}

static void test_served_bytes(void **state)
{
    (void)state;
    char db[512];
    snprintf(db, sizeof(db), "%s", tl_test_tmp("s.db"));
    assert_int_equal(tl_test_write(tl_test_tmp("e.tsv"), "user\titem\ttimestamp\n"
                                                         "u1\ta\t1000\nu1\tb\t1001\n"
                                                         "u2\ta\t1000\nu2\tb\t1001\n"),
                     0);
    assert_int_equal(tl_test_cli("--db '%s' import events '%s'", db, tl_test_tmp("e.tsv")), 0);
    assert_int_equal(
        tl_test_cli("--db '%s' train --model popular --out '%s'", db, tl_test_tmp("m.tlm")), 0);
    char model[512], err[512];
    snprintf(model, sizeof(model), "%s", tl_test_tmp("m.tlm"));
    snprintf(err, sizeof(err), "%s", tl_test_tmp("serve.err"));
    tl_test_server s;
    if (tl_test_serve(&s, db, model, err) != 0) {
        char *e = tl_test_read(err);
        fail_msg("the server did not start; stderr:\n%.2000s", e ? e : "");
    }
    char *body = NULL, *ctype = NULL;
    size_t len = 0;
    long status =
        tl_test_http(s.port, "GET", "/v1/openapi.json", NULL, NULL, 0, &body, &len, &ctype);
    tl_test_serve_stop(&s, SIGKILL);
    assert_int_equal(status, 200);
    assert_non_null(ctype);
    assert_string_equal(ctype, "application/json");
    char *file = tl_test_read(tl_test_source("docs/openapi.json"));
    assert_non_null(file);
    assert_non_null(body);
    assert_int_equal(len, strlen(file));
    assert_memory_equal(body, file, len);
    json_error_t e;
    json_t *j = json_loadb(body, len, 0, &e);
    if (!j)
        fail_msg("GET /v1/openapi.json is not JSON: line %d: %s", e.line, e.text);
    json_decref(j);
    free(file);
    free(body);
    free(ctype);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routes_match_document),
        cmocka_unit_test(test_security),
        cmocka_unit_test(test_served_bytes),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
