/* GET /v1/search and `tailor search` against a real server and store: the answer's shape (the
 * contract's {"total", "items": [{"item", "title", "score", "reason"?}], "facets": {NAME:
 * {VALUE: COUNT}}}), hostile queries that never get a 500 nor stop the server, a patron key
 * searching only as its patron, and the CLI's JSON of the same shape. */
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
                             "u1\ta\t1000\nu1\tb\t1001\nu1\tc\t1002\n"
                             "u2\ta\t1000\nu2\tc\t1001\n"
                             "u3\tx\t1000\nu3\ty\t1001\n";
static const char ITEMS[] = "item\ttitle\ttype\tsubjects\tyear\n"
                            "a\tRiver Alpha\tbook\trivers|maps\t1990\n"
                            "b\tRiver Beta\tbook\trivers\t1991\n"
                            "c\tThe Long River Crossing of the Delta\tbook\trivers\t2001\n"
                            "x\tRiver Xylophone\tvideo\tmusic\t2011\n"
                            "y\tYellow River\tvideo\tmusic\t2012\n";

static tl_test_server srv;
static char db[512], model[512], patron_key[128], app_key[128];

static int setup(void **state)
{
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    snprintf(db, sizeof(db), "%s", tl_test_store("search.db"));
    snprintf(model, sizeof(model), "%s", tl_test_tmp("search.tlm"));
    if (tl_test_write(tl_test_tmp("events.tsv"), EVENTS) ||
        tl_test_write(tl_test_tmp("items.tsv"), ITEMS) ||
        tl_test_cli("--db '%s' import items '%s'", db, tl_test_tmp("items.tsv")) != 0 ||
        tl_test_cli("--db '%s' import events '%s'", db, tl_test_tmp("events.tsv")) != 0 ||
        tl_test_cli("--db '%s' train --model itemknn --set autotune=0 --out '%s'", db, model) != 0)
        return -1;
    tl_test_make_key(db, "--role patron --user p1", patron_key, sizeof(patron_key));
    tl_test_make_key(db, "--role app", app_key, sizeof(app_key));
    return tl_test_serve_with(&srv, db, model, tl_test_tmp("serve.err"), TL_TEST_AUTH, NULL);
}

static int teardown(void **state)
{
    (void)state;
    tl_test_serve_stop(&srv, SIGTERM);
    curl_global_cleanup();
    return 0;
}

static long get(const char *path, const char *key, json_t **out)
{
    char auth[200];
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", key);
    const char *headers[] = {auth, NULL};
    tl_test_reply r;
    long status = tl_test_request(srv.port, "GET", path, headers, NULL, 0, &r);
    if (out) {
        json_error_t e;
        *out = r.body ? json_loads(r.body, 0, &e) : NULL;
        if (!*out)
            fail_msg("%s: not JSON: %s", path, r.body ? r.body : "(none)");
    }
    tl_test_reply_free(&r);
    return status;
}

/* The contract's shape, checked member by member. */
static void assert_shape(json_t *j)
{
    assert_true(json_is_object(j));
    assert_true(json_is_integer(json_object_get(j, "total")));
    json_t *items = json_object_get(j, "items"), *it;
    assert_true(json_is_array(items));
    size_t k;
    json_array_foreach(items, k, it)
    {
        assert_true(json_is_string(json_object_get(it, "item")));
        json_t *t = json_object_get(it, "title");
        assert_true(json_is_string(t) || json_is_null(t));
        assert_true(json_is_number(json_object_get(it, "score")));
        json_t *why = json_object_get(it, "reason");
        assert_true(!why || json_is_string(why));
    }
    json_t *facets = json_object_get(j, "facets"), *values, *count;
    assert_true(json_is_object(facets));
    const char *name, *value;
    json_object_foreach(facets, name, values)
    {
        assert_true(json_is_object(values));
        json_object_foreach(values, value, count) assert_true(json_is_integer(count));
    }
}

static void test_shape_and_personalization(void **state)
{
    (void)state;
    json_t *j;
    assert_int_equal(get("/v1/search?q=river&n=3", app_key, &j), 200);
    assert_shape(j);
    assert_int_equal(json_integer_value(json_object_get(j, "total")), 5);
    assert_int_equal(json_array_size(json_object_get(j, "items")), 3);
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(json_object_get(j, "facets"), "type"), "video")),
                     2);
    json_decref(j);
    /* the patron's own key; their profile moves c (the long title) up, with a reason */
    assert_int_equal(get("/v1/search?q=river&user=p1&weight=0.9&n=5", patron_key, &j), 200);
    assert_shape(j);
    json_t *first = json_array_get(json_object_get(j, "items"), 0);
    assert_string_equal(json_string_value(json_object_get(first, "item")), "c");
    assert_non_null(json_object_get(first, "reason"));
    json_decref(j);
    /* as another patron: refused */
    assert_int_equal(get("/v1/search?q=river&user=u1", patron_key, &j), 403);
    json_decref(j);
    assert_int_equal(get("/v1/search?q=river&filter=type%3Dvideo&facets=0", app_key, &j), 200);
    assert_shape(j);
    assert_int_equal(json_integer_value(json_object_get(j, "total")), 2);
    json_decref(j);
    /* the searches were kept */
    assert_int_equal(tl_test_cli("--db '%s' stats", db), 0);
}

static void test_hostile_queries(void **state)
{
    (void)state;
    static const char *const qs[] = {
        "q=%22",
        "q=NEAR(river%20x)",
        "q=river%20AND%20OR%20NOT",
        "q=title%3Ariver",
        "q=*",
        "q=%5Eriver",
        "q=",
        "q=%FF%FE",
        "q=river&n=0",
        "q=river&n=abc",
        "q=river&weight=2",
        "q=river&filter=colour%3Dred",
        "q=river&bogus=1",
        "q=river&facets=yes",
        "n=3",
        "q=%22river%22%20%22%22%20x*%20*x%20(%20)%20%7B%7D%3A",
    };
    for (size_t k = 0; k < sizeof(qs) / sizeof(qs[0]); k++) {
        char path[256];
        snprintf(path, sizeof(path), "/v1/search?%s", qs[k]);
        json_t *j;
        long st = get(path, app_key, &j);
        if (st != 200 && st != 400)
            fail_msg("%s: %ld", path, st);
        if (st == 200)
            assert_shape(j);
        else
            assert_non_null(json_object_get(j, "error"));
        json_decref(j);
    }
    /* a 10 KB query */
    char *big = malloc(10 * 1024 + 32);
    strcpy(big, "/v1/search?q=");
    for (size_t k = strlen(big); k < 10 * 1024; k += 3)
        memcpy(big + k, "a%20", 4);
    big[10 * 1024] = '\0';
    long st = get(big, app_key, NULL);
    assert_true(st == 200 || st == 400 || st == 414 || st == 431);
    free(big);
    assert_int_equal(get("/v1/health", app_key, NULL), 200);
}

static void test_cli_json(void **state)
{
    (void)state;
    assert_int_equal(tl_test_cli("--db '%s' search river --n 2 --filter type=book --json", db), 0);
    char *out = tl_test_cli_out();
    json_error_t e;
    json_t *j = json_loads(out, 0, &e);
    if (!j)
        fail_msg("not JSON: %s", out);
    assert_shape(j);
    assert_int_equal(json_integer_value(json_object_get(j, "total")), 3);
    json_decref(j);
    free(out);
    tl_test_cli_check(tl_test_cli("--db '%s' search", db), 2, NULL, "QUERY");
    tl_test_cli_check(tl_test_cli("--db '%s' search river --filter colour=red", db), 2, NULL,
                      "colour");
    tl_test_cli_check(tl_test_cli("--db '%s' search --reindex --languages klingon", db), 2, NULL,
                      "klingon");
    tl_test_cli_check(tl_test_cli("--db '%s' search --reindex --languages english,french", db), 0,
                      NULL, "reindexed");
    tl_test_cli_check(tl_test_cli("--db '%s' search rivers --no-facets --no-log", db), 0,
                      "5 items match", NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shape_and_personalization),
        cmocka_unit_test(test_hostile_queries),
        cmocka_unit_test(test_cli_json),
    };
    if (tl_test_on_pg() && !tl_test_pg_start())
        return TL_TEST_SKIP;
    return cmocka_run_group_tests(tests, setup, teardown);
}
