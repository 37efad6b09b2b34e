/* Reading lists, reviews and learning paths over HTTP with API keys: a patron's private list is
 * its own and an admin's to read (404 to an app and to other patrons), a patron key acts only
 * for its patron, paths are an admin's to write; and a learning path walked over HTTP. With
 * TL_TEST_DB=postgres (test_server_lists_postgres) the store is a PostgreSQL database. */
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
                             "p2\ta\t1000\np2\tc\t1001\n"
                             "p3\tb\t1000\np3\td\t1001\n";
static const char ITEMS[] = "item\ttitle\tsubjects\n"
                            "a\tAlpha\tletters\nb\tBeta\tletters\nc\tGamma\tletters\n"
                            "d\tDelta\tletters\ne\tEpsilon\tletters\nf\tPhi\tother\n";

static tl_test_server srv;
static char admin[80], app[80], pat1[80], pat2[80];

static int setup(void **state)
{
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    char db[600], model[600];
    snprintf(db, sizeof(db), "%s", tl_test_store("lists.db"));
    snprintf(model, sizeof(model), "%s", tl_test_tmp("m.tlm"));
    if (tl_test_write(tl_test_tmp("events.tsv"), EVENTS) ||
        tl_test_write(tl_test_tmp("items.tsv"), ITEMS) ||
        tl_test_cli("--db '%s' import items '%s'", db, tl_test_tmp("items.tsv")) != 0 ||
        tl_test_cli("--db '%s' import events '%s'", db, tl_test_tmp("events.tsv")) != 0 ||
        tl_test_cli("--db '%s' train --model itemknn --set autotune=0 --out '%s'", db, model) != 0)
        return -1;
    tl_test_make_key(db, "--role admin", admin, sizeof(admin));
    tl_test_make_key(db, "--role app", app, sizeof(app));
    tl_test_make_key(db, "--role patron --user p1", pat1, sizeof(pat1));
    tl_test_make_key(db, "--role patron --user p2", pat2, sizeof(pat2));
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

static void test_list_visibility(void **state)
{
    (void)state;
    char *b = NULL;
    /* a patron key makes lists for its own patron only */
    assert_int_equal(call(pat1, "POST", "/v1/lists",
                          "{\"id\": \"p1-private\", \"user\": \"p1\", \"title\": \"Mine\"}", &b),
                     201);
    assert_non_null(strstr(b, "\"public\":false"));
    free(b);
    assert_int_equal(
        call(pat1, "POST", "/v1/lists", "{\"user\": \"p2\", \"title\": \"His\"}", NULL), 403);
    assert_int_equal(call(pat1, "POST", "/v1/lists", "{\"user\": \"p1\", \"title\": 3}", NULL),
                     400);
    assert_int_equal(call(pat1, "POST", "/v1/lists/p1-private/items/f", "{\"note\": \"next\"}", &b),
                     200);
    assert_non_null(strstr(b, "\"note\":\"next\""));
    free(b);
    assert_int_equal(call(pat1, "POST", "/v1/lists/p1-private/items/zz", NULL, NULL), 404);
    /* the owner and an admin see it; an app and another patron do not */
    assert_int_equal(call(pat1, "GET", "/v1/lists/p1-private", NULL, NULL), 200);
    assert_int_equal(call(admin, "GET", "/v1/lists/p1-private", NULL, NULL), 200);
    assert_int_equal(call(app, "GET", "/v1/lists/p1-private", NULL, NULL), 404);
    assert_int_equal(call(pat2, "GET", "/v1/lists/p1-private", NULL, NULL), 404);
    assert_int_equal(call(pat2, "DELETE", "/v1/lists/p1-private", NULL, NULL), 404);
    assert_int_equal(call(pat2, "GET", "/v1/users/p1/lists", NULL, NULL), 403);
    assert_int_equal(call(app, "GET", "/v1/users/p1/lists", NULL, &b), 200);
    assert_string_equal(b, "{\"lists\":[]}\n");
    free(b);
    /* made public, it is on the item's lists */
    assert_int_equal(
        call(pat1, "PUT", "/v1/lists/p1-private", "{\"title\": \"Mine\", \"public\": true}", NULL),
        200);
    assert_int_equal(call(app, "GET", "/v1/items/f/lists", NULL, &b), 200);
    assert_non_null(strstr(b, "\"id\":\"p1-private\""));
    free(b);
    /* reviews: the patron's own, a rating out of range refused */
    assert_int_equal(call(pat1, "PUT", "/v1/users/p1/reviews/f", "{\"rating\": 4.5}", NULL), 200);
    assert_int_equal(call(pat1, "PUT", "/v1/users/p1/reviews/f", "{\"rating\": 9}", NULL), 400);
    assert_int_equal(call(pat2, "PUT", "/v1/users/p1/reviews/f", "{\"rating\": 1}", NULL), 403);
    assert_int_equal(call(app, "GET", "/v1/items/f/reviews", NULL, &b), 200);
    assert_non_null(strstr(b, "\"mean_rating\":4.5"));
    free(b);
    assert_int_equal(call(pat2, "GET", "/v1/items/f/reviews", NULL, &b), 200);
    assert_non_null(strstr(b, "\"user\":null")); /* another patron's review, unnamed */
    free(b);
}

static void test_path_over_http(void **state)
{
    (void)state;
    const char *path = "{\"id\": \"course\", \"title\": \"A course\", \"topic\": \"greek\","
                       " \"steps\": [{\"item\": \"a\", \"pos\": 1, \"level\": 1},"
                       " {\"item\": \"b\", \"pos\": 2}, {\"item\": \"c\", \"pos\": 3},"
                       " {\"item\": \"d\", \"pos\": 3}, {\"item\": \"e\", \"pos\": 4}]}";
    assert_int_equal(call(app, "POST", "/v1/paths", path, NULL), 403);
    assert_int_equal(call(admin, "POST", "/v1/paths", path, NULL), 201);
    assert_int_equal(call(admin, "POST", "/v1/paths", path, NULL), 409);
    char *b = NULL;
    assert_int_equal(call(pat1, "GET", "/v1/paths?topic=Greek", NULL, &b), 200);
    assert_non_null(strstr(b, "\"id\":\"course\""));
    free(b);
    /* p1 had a and b (and f on a list): next is step 3, c or d */
    assert_int_equal(call(pat1, "GET", "/v1/paths/course/next?user=p1", NULL, &b), 200);
    json_t *j = json_loads(b, 0, NULL);
    free(b);
    assert_int_equal(json_integer_value(json_object_get(j, "position")), 2);
    json_t *n = json_object_get(j, "next");
    assert_int_equal(json_integer_value(json_object_get(n, "pos")), 3);
    json_decref(j);
    assert_int_equal(call(pat1, "GET", "/v1/paths/course/next?user=p2", NULL, NULL), 403);
    assert_int_equal(call(pat1, "GET", "/v1/paths/course/next", NULL, NULL), 400);
    assert_int_equal(call(pat1, "GET", "/v1/paths/course/next?user=p1&x=1", NULL, NULL), 400);
    /* p2 votes d up: p1 sees d first */
    assert_int_equal(call(pat2, "POST", "/v1/paths/course/feedback",
                          "{\"user\": \"p2\", \"item\": \"d\", \"useful\": true}", NULL),
                     200);
    assert_int_equal(call(pat2, "POST", "/v1/paths/course/feedback",
                          "{\"user\": \"p1\", \"item\": \"d\", \"useful\": true}", NULL),
                     403);
    assert_int_equal(call(pat1, "GET", "/v1/paths/course/next?user=p1", NULL, &b), 200);
    assert_non_null(strstr(b, "\"item\":{\"item\":\"d\""));
    free(b);
    /* a proposal for a subject without a path */
    assert_int_equal(call(app, "POST", "/v1/paths/propose", "{\"topic\": \"letters\"}", NULL), 403);
    assert_int_equal(
        call(admin, "POST", "/v1/paths/propose", "{\"topic\": \"letters\", \"n\": 3}", &b), 201);
    assert_non_null(strstr(b, "\"id\":\"proposed-letters\""));
    assert_non_null(strstr(b, "\"origin\":\"proposed\""));
    assert_non_null(strstr(b, "\"n_steps\":3"));
    free(b);
    assert_int_equal(call(admin, "POST", "/v1/paths/propose", "{\"topic\": \"letters\"}", NULL),
                     409);
    assert_int_equal(call(admin, "POST", "/v1/paths/propose", "{\"topic\": \"nothing\"}", NULL),
                     404);
    assert_int_equal(call(admin, "DELETE", "/v1/paths/course", NULL, NULL), 200);
    assert_int_equal(call(pat1, "GET", "/v1/paths/course", NULL, NULL), 404);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list_visibility),
        cmocka_unit_test(test_path_over_http),
    };
    if (tl_test_on_pg() && !tl_test_pg_start())
        return TL_TEST_SKIP;
    return cmocka_run_group_tests(tests, setup, teardown);
}
