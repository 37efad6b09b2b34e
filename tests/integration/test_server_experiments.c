/* A/B tests over HTTP: an admin creates, lists, reports on, assigns and stops an experiment; an
 * app key may not; a patron key sees its own arms only; bad bodies are 400, a taken name 409. With
 * TL_TEST_DB=postgres (test_server_experiments_postgres) the store is a PostgreSQL database. */
#include "pg_server.h"
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
                             "p1\ta\t1000\np1\tb\t1001\n"
                             "p2\ta\t1000\np2\tc\t1001\n";

static tl_test_server srv;
static char admin[80], app[80], pat1[80];

static int setup(void **state)
{
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    char db[600], model[600];
    snprintf(db, sizeof(db), "%s", tl_test_store("exp.db"));
    snprintf(model, sizeof(model), "%s", tl_test_tmp("m.tlm"));
    if (tl_test_write(tl_test_tmp("events.tsv"), EVENTS) ||
        tl_test_cli("--db '%s' import events '%s'", db, tl_test_tmp("events.tsv")) != 0 ||
        tl_test_cli("--db '%s' train --model itemknn --set autotune=0 --out '%s'", db, model) != 0)
        return -1;
    tl_test_make_key(db, "--role admin", admin, sizeof(admin));
    tl_test_make_key(db, "--role app", app, sizeof(app));
    tl_test_make_key(db, "--role patron --user p1", pat1, sizeof(pat1));
    return tl_test_serve_with(&srv, db, model, tl_test_tmp("err.txt"), TL_TEST_AUTH, NULL);
}

static int teardown(void **state)
{
    (void)state;
    tl_test_serve_stop(&srv, SIGTERM);
    curl_global_cleanup();
    return 0;
}

/* One request with key; the body of the answer in *out (may be NULL). */
static long call(const char *key, const char *method, const char *path, const char *body,
                 char **out)
{
    return tl_test_call(srv.port, key, method, path, body, out);
}

static void test_experiment_routes(void **state)
{
    (void)state;
    const char *create =
        "{\"name\": \"hp\", \"arms\": [{\"name\": \"control\"}, {\"name\": \"bandit\", "
        "\"params\": {\"rows\": \"bandit\"}}], \"split\": [50, 50], \"metric\": \"clicks\"}";
    char *b = NULL;
    assert_int_equal(call(app, "POST", "/v1/experiments", create, NULL), 403);
    assert_int_equal(call(admin, "POST", "/v1/experiments", create, &b), 200);
    assert_non_null(strstr(b, "\"comparisons\""));
    free(b);
    assert_int_equal(call(admin, "POST", "/v1/experiments", create, NULL), 409);
    assert_int_equal(call(admin, "POST", "/v1/experiments",
                          "{\"name\": \"x\", \"arms\": [{\"name\": \"a\"}]}", NULL),
                     400);
    assert_int_equal(
        call(admin, "POST", "/v1/experiments", "{\"name\": \"x\", \"color\": 1}", NULL), 400);
    assert_int_equal(call(admin, "GET", "/v1/experiments", NULL, &b), 200);
    assert_non_null(strstr(b, "\"hp\""));
    free(b);
    assert_int_equal(call(admin, "GET", "/v1/experiments/hp/assign?user=p1", NULL, &b), 200);
    json_t *j = json_loads(b, 0, NULL);
    free(b);
    const char *arm = json_string_value(json_object_get(j, "arm"));
    assert_non_null(arm);
    /* the patron's own arms agree with the assignment, with the arm's parameters */
    assert_int_equal(call(pat1, "GET", "/v1/users/p1/experiments", NULL, &b), 200);
    assert_non_null(strstr(b, arm));
    free(b);
    json_decref(j);
    assert_int_equal(call(pat1, "GET", "/v1/users/p2/experiments", NULL, NULL), 403);
    assert_int_equal(call(admin, "GET", "/v1/experiments/hp/assign", NULL, NULL), 400);
    assert_int_equal(call(admin, "GET", "/v1/experiments/nope", NULL, NULL), 404);
    assert_int_equal(call(admin, "GET", "/v1/experiments/hp", NULL, &b), 200);
    assert_non_null(strstr(b, "\"srm\""));
    free(b);
    assert_int_equal(call(admin, "POST", "/v1/experiments/hp/stop", NULL, &b), 200);
    assert_non_null(strstr(b, "\"changed\":true"));
    free(b);
    assert_int_equal(call(admin, "POST", "/v1/experiments/nope/stop", NULL, NULL), 404);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_experiment_routes)};
    if (tl_test_on_pg() && !tl_test_pg_start())
        return TL_TEST_SKIP;
    return cmocka_run_group_tests(tests, setup, teardown);
}
