/* `tailor serve` with the setting pseudonym-key: a patron's key opens that patron's answers
 * (and no other patron's) by the plain id, answers and records echo the plain id, and events
 * posted for a new patron reach the store (and its write-ahead log) only as a pseudonym. */
#include "support.h"

#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "serve_child.h"

static const char EVENTS[] = "user\titem\ttimestamp\n"
                             "reader-01qz\tbook-a\t1000\nreader-01qz\tbook-b\t1001\n"
                             "reader-02qz\tbook-a\t1000\nreader-02qz\tbook-c\t1001\n"
                             "reader-03qz\tbook-b\t1000\nreader-03qz\tbook-c\t1001\n";

static char dir[512], key_file[600], db[600], model[600];
static char admin_key[128], patron_key[128];

static int setup(void **state)
{
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    snprintf(dir, sizeof(dir), "%s", tl_test_tmpdir());
    snprintf(key_file, sizeof(key_file), "%s/pseudonym.key", dir);
    snprintf(db, sizeof(db), "%s/keyed.db", dir);
    snprintf(model, sizeof(model), "%s/keyed.tlm", dir);
    char events[700];
    snprintf(events, sizeof(events), "%s/events.tsv", dir);
    if (tl_test_write(events, EVENTS) || tl_test_cli("key pseudonym-new '%s'", key_file) ||
        tl_test_cli("--db '%s' --pseudonym-key '%s' import events '%s' --quiet", db, key_file,
                    events) ||
        tl_test_cli("--db '%s' --pseudonym-key '%s' train --model itemknn --set autotune=0 "
                    "--out '%s'",
                    db, key_file, model))
        return -1;
    /* the keys, made by the CLI with the key of $TAILOR_PSEUDONYM_KEY_FILE */
    setenv("TAILOR_PSEUDONYM_KEY_FILE", key_file, 1);
    tl_test_make_key(db, "--role admin", admin_key, sizeof(admin_key));
    tl_test_make_key(db, "--role patron --user reader-01qz", patron_key, sizeof(patron_key));
    unsetenv("TAILOR_PSEUDONYM_KEY_FILE"); /* the server gets the setting */
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    curl_global_cleanup();
    return 0;
}

static long get(int port, const char *bearer, const char *method, const char *path,
                const char *body, char **out)
{
    return tl_test_call(port, bearer, method, path, body, out);
}

static void test_server_answers_by_plain_ids(void **state)
{
    (void)state;
    const char *extra[] = {"--pseudonym-key", key_file, NULL};
    char err[700];
    snprintf(err, sizeof(err), "%s/serve.err", dir);
    tl_test_server srv = {0};
    if (tl_test_serve_with(&srv, db, model, err, TL_TEST_AUTH | TL_TEST_LOG, extra) != 0) {
        char *e = tl_test_read(err);
        fail_msg("the server did not start: %.2000s", e ? e : "");
    }
    char *body = NULL;
    /* the patron's own key, by the plain id */
    assert_int_equal(
        get(srv.port, patron_key, "GET", "/v1/users/reader-01qz/recommendations", NULL, &body),
        200);
    assert_non_null(strstr(body, "reader-01qz"));
    free(body);
    assert_int_equal(
        get(srv.port, patron_key, "GET", "/v1/users/reader-02qz/recommendations", NULL, &body),
        403);
    free(body);
    assert_int_equal(get(srv.port, patron_key, "GET", "/v1/users/reader-01qz/export", NULL, &body),
                     200);
    assert_non_null(strstr(body, "\"user\":\"reader-01qz\""));
    assert_non_null(strstr(body, "book-b"));
    free(body);
    /* a new patron through the API */
    assert_int_equal(get(srv.port, admin_key, "POST", "/v1/events",
                         "{\"user\":\"walkin-zz9\",\"item\":\"book-a\",\"type\":\"loan\"}", &body),
                     201);
    free(body);
    assert_int_equal(get(srv.port, admin_key, "GET", "/v1/users/walkin-zz9", NULL, &body), 200);
    assert_non_null(strstr(body, "walkin-zz9")); /* the record under the id asked by */
    free(body);
    assert_int_equal(
        get(srv.port, admin_key, "GET", "/v1/users/walkin-zz9/recommendations", NULL, &body), 200);
    free(body);
    /* while the server runs, its write-ahead log holds the write: neither file has the id */
    char wal[700];
    snprintf(wal, sizeof(wal), "%s-wal", db);
    assert_false(tl_test_file_has(db, "walkin-zz9"));
    assert_false(tl_test_file_has(wal, "walkin-zz9"));
    assert_false(tl_test_file_has(db, "reader-01qz"));
    tl_test_serve_stop(&srv, SIGTERM);
    assert_false(tl_test_file_has(db, "walkin-zz9"));
    /* nor its log: requests are logged by their route, not their path */
    assert_false(tl_test_file_has(err, "walkin-zz9"));
    assert_false(tl_test_file_has(err, "reader-01qz"));
    assert_true(tl_test_file_has(err, "/v1/users/{id}/recommendations"));

    /* without the setting, the server does not start on the store */
    if (tl_test_serve_with(&srv, db, model, err, TL_TEST_AUTH, NULL) == 0) {
        tl_test_serve_stop(&srv, SIGKILL);
        fail_msg("a server started on a pseudonymized store without its key");
    }
    char *e = tl_test_read(err);
    assert_non_null(e);
    assert_non_null(strstr(e, "pseudonymized patron ids"));
    free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_server_answers_by_plain_ids),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
