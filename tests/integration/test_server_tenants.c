/* Consortium tenancy through `tailor serve`: each library's key reaches only its own patrons
 * (the same patron id in two libraries is two patrons), both ways; its patrons' recommendations
 * come from its holdings; consortium-wide routes refuse it with 403; the consortium's admin key
 * sees all, and acts for one library with X-Tailor-Tenant. */
#include "support.h"

#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "serve_child.h"
#include "tailor/store.h"

static const char ITEMS[] = "item\ttitle\ni1\tOne\ni2\tTwo\ni3\tThree\ni4\tFour\ni5\tFive\n"
                            "i6\tSix\n";
/* a:45 links i1 to i4, which only b holds */
static const char EVENTS_A[] = "user\titem\ttype\ttimestamp\n"
                               "42\ti1\tloan\t1000\n42\ti2\tloan\t1001\n"
                               "43\ti1\tloan\t1000\n43\ti3\tloan\t1001\n"
                               "45\ti1\tloan\t1000\n45\ti4\tloan\t1001\n";
static const char EVENTS_B[] = "user\titem\ttype\ttimestamp\n"
                               "42\ti4\tloan\t1000\n42\ti5\tloan\t1001\n"
                               "44\ti4\tloan\t1000\n44\ti6\tloan\t1001\n";

static char dir[512], db[600], model[600];
static char admin[128], admin_a[128], app_a[128], app_b[128], admin_b[128], patron_b42[128];

static int setup(void **state)
{
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    snprintf(dir, sizeof(dir), "%s", tl_test_tmpdir());
    snprintf(db, sizeof(db), "%s/consortium.db", dir);
    snprintf(model, sizeof(model), "%s/consortium.tlm", dir);
    char items[600], ea[600], eb[600];
    snprintf(items, sizeof(items), "%s/items.tsv", dir);
    snprintf(ea, sizeof(ea), "%s/a.tsv", dir);
    snprintf(eb, sizeof(eb), "%s/b.tsv", dir);
    if (tl_test_write(items, ITEMS) || tl_test_write(ea, EVENTS_A) || tl_test_write(eb, EVENTS_B) ||
        tl_test_cli("--db '%s' import items '%s' --quiet", db, items) ||
        tl_test_cli("--db '%s' tenant add a --name 'Library A' --branch A1", db) ||
        tl_test_cli("--db '%s' tenant add b --name 'Library B' --branch B1", db) ||
        tl_test_cli("--db '%s' --tenant a import events '%s' --quiet", db, ea) ||
        tl_test_cli("--db '%s' --tenant b import events '%s' --quiet", db, eb))
        return -1;
    tl_store *st = NULL;
    tl_diag d;
    if (tl_store_open(db, 0, &st, &d) != TL_OK)
        return -1;
    static const char *const ids[] = {"i1", "i2", "i3", "i4", "i5", "i6"};
    for (int i = 0; i < 6; i++) {
        char copy[8];
        snprintf(copy, sizeof(copy), "c%d", i + 1);
        tl_holding_rec h = {
            .copy = copy, .branch = i < 3 ? "A1" : "B1", .available = 1, .item = ids[i]};
        if (tl_store_put_holding(st, &h, NULL, &d) != TL_OK)
            return -1;
    }
    tl_store_free(st);
    if (tl_test_cli("--db '%s' train --model itemknn --set autotune=0 --out '%s'", db, model))
        return -1;
    tl_test_make_key(db, "--role admin", admin, sizeof(admin));
    tl_test_make_key(db, "--role admin --tenant a", admin_a, sizeof(admin_a));
    tl_test_make_key(db, "--role app --tenant a", app_a, sizeof(app_a));
    tl_test_make_key(db, "--role admin --tenant b", admin_b, sizeof(admin_b));
    tl_test_make_key(db, "--role app --tenant b", app_b, sizeof(app_b));
    tl_test_make_key(db, "--role patron --user 42 --tenant b", patron_b42, sizeof(patron_b42));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    curl_global_cleanup();
    return 0;
}

/* One request with key (and X-Tailor-Tenant: as, unless NULL). */
static long call(int port, const char *key, const char *as, const char *method, const char *path,
                 const char *body, char **out)
{
    char auth[256], tenant[128];
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", key);
    snprintf(tenant, sizeof(tenant), "X-Tailor-Tenant: %s", as ? as : "");
    const char *h[] = {auth, "Content-Type: application/json", as ? tenant : NULL, NULL};
    *out = NULL;
    return tl_test_http_headers(port, method, path, h, body, body ? strlen(body) : 0, out);
}

/* The status of one request, its body checked for has (may be NULL) and freed. */
static long status(int port, const char *key, const char *as, const char *method, const char *path,
                   const char *body, const char *has)
{
    char *out = NULL;
    long st = call(port, key, as, method, path, body, &out);
    if (has && (!out || !strstr(out, has)))
        fail_msg("%s %s: %ld without '%s': %.500s", method, path, st, has, out ? out : "");
    free(out);
    return st;
}

static void assert_none_of(const char *body, int from, int to)
{
    for (int i = from; i <= to; i++) {
        char id[8];
        snprintf(id, sizeof(id), "\"i%d\"", i);
        if (strstr(body, id))
            fail_msg("%s in %.500s", id, body);
    }
}

static void test_tenants_over_http(void **state)
{
    (void)state;
    char err[700];
    snprintf(err, sizeof(err), "%s/serve.err", dir);
    tl_test_server srv = {0};
    if (tl_test_serve_with(&srv, db, model, err, TL_TEST_AUTH, NULL) != 0) {
        char *e = tl_test_read(err);
        fail_msg("the server did not start: %.2000s", e ? e : "");
    }
    int p = srv.port;
    char *body = NULL;
    /* the same patron id, two patrons; recommendations from each library's holdings */
    assert_int_equal(call(p, app_a, NULL, "GET", "/v1/users/42/recommendations?n=5", NULL, &body),
                     200);
    assert_non_null(strstr(body, "\"i3\""));
    assert_none_of(body, 4, 6);
    free(body);
    assert_int_equal(call(p, app_b, NULL, "GET", "/v1/users/44/recommendations?n=5", NULL, &body),
                     200);
    assert_none_of(body, 1, 3);
    free(body);
    /* the consortium, without a filter, by the kept id: a:45's i4 reaches a:42 */
    assert_int_equal(call(p, admin, NULL, "GET", "/v1/users/a:42/recommendations?n=5", NULL, &body),
                     200);
    assert_non_null(strstr(body, "\"i4\""));
    free(body);
    /* exports: each library its own 42, never the other's patrons */
    assert_int_equal(call(p, admin_a, NULL, "GET", "/v1/users/42/export", NULL, &body), 200);
    assert_non_null(strstr(body, "\"i2\""));
    assert_null(strstr(body, "\"i5\""));
    free(body);
    assert_int_equal(call(p, admin_b, NULL, "GET", "/v1/users/42/export", NULL, &body), 200);
    assert_non_null(strstr(body, "\"i5\""));
    assert_null(strstr(body, "\"i2\""));
    free(body);
    assert_int_equal(status(p, admin_a, NULL, "GET", "/v1/users/44/export", NULL, NULL), 404);
    assert_int_equal(status(p, admin_b, NULL, "GET", "/v1/users/43", NULL, NULL), 404);
    assert_int_equal(status(p, admin_b, NULL, "DELETE", "/v1/users/43", NULL, NULL), 404);
    /* a's "a:42" is a:a:42, a patron no one has: the popular items (a's), not a:42's */
    assert_int_equal(call(p, app_a, NULL, "GET", "/v1/users/a:42/recommendations", NULL, &body),
                     200);
    assert_non_null(strstr(body, "\"fallback\":\"no usable history"));
    assert_none_of(body, 4, 6);
    free(body);
    /* writes: a's events for 77 make a's patron 77 */
    assert_int_equal(status(p, app_a, NULL, "POST", "/v1/events",
                            "{\"user\":\"77\",\"item\":\"i2\",\"type\":\"loan\"}", NULL),
                     201);
    assert_int_equal(status(p, admin, NULL, "GET", "/v1/users/a:77", NULL, "a:77"), 200);
    assert_int_equal(status(p, app_b, NULL, "GET", "/v1/users/77", NULL, NULL), 404);
    /* consortium-wide routes refuse a library's keys, with a JSON error */
    const char *refused[][2] = {{"POST", "/v1/paths"},      {"GET", "/v1/audit"},
                                {"GET", "/v1/analytics"},   {"GET", "/v1/impressions/export"},
                                {"GET", "/v1/experiments"}, {"PUT", "/v1/items/i1"},
                                {"DELETE", "/v1/items/i1"}};
    for (size_t k = 0; k < sizeof(refused) / sizeof(refused[0]); k++)
        assert_int_equal(
            status(p, admin_a, NULL, refused[k][0], refused[k][1], NULL, "\"forbidden\""), 403);
    assert_int_equal(status(p, admin_a, NULL, "POST", "/v1/models/train", "{}", "\"forbidden\""),
                     403);
    /* the patrons to show a demo as: a library's own, by its ids */
    assert_int_equal(call(p, app_a, NULL, "GET", "/v1/users?limit=100", NULL, &body), 200);
    assert_non_null(strstr(body, "\"42\""));
    assert_non_null(strstr(body, "\"45\""));
    assert_null(strstr(body, "\"44\""));
    assert_null(strstr(body, "b:"));
    free(body);
    /* ... and the consortium's key sees every library's patrons */
    assert_int_equal(call(p, admin, NULL, "GET", "/v1/users?limit=100", NULL, &body), 200);
    assert_non_null(strstr(body, "a:42"));
    assert_non_null(strstr(body, "b:42"));
    free(body);
    /* acting for one library */
    assert_int_equal(call(p, admin, "b", "GET", "/v1/users/42/export", NULL, &body), 200);
    assert_non_null(strstr(body, "\"i5\""));
    free(body);
    assert_int_equal(status(p, admin, "zz", "GET", "/v1/users/42/export", NULL, "zz"), 400);
    assert_int_equal(status(p, admin, "b", "GET", "/v1/audit", NULL, NULL), 403);
    /* a library's admin: its library's keys only */
    assert_int_equal(status(p, admin_a, NULL, "POST", "/v1/keys",
                            "{\"role\":\"patron\",\"user\":\"42\"}", "\"tenant\":\"a\""),
                     201);
    assert_int_equal(
        status(p, admin_a, NULL, "POST", "/v1/keys", "{\"role\":\"app\",\"tenant\":\"b\"}", NULL),
        400);
    assert_int_equal(call(p, admin_a, NULL, "GET", "/v1/keys", NULL, &body), 200);
    assert_non_null(strstr(body, "\"tenant\":\"a\""));
    assert_null(strstr(body, "\"tenant\":\"b\""));
    assert_null(strstr(body, "\"tenant\":null"));
    free(body);
    char revoke[64];
    snprintf(revoke, sizeof(revoke), "/v1/keys/%.8s", app_b + 3);
    assert_int_equal(status(p, admin_a, NULL, "DELETE", revoke, NULL, NULL), 404);
    assert_int_equal(status(p, app_b, NULL, "GET", "/v1/users/44/recommendations", NULL, NULL),
                     200); /* still in force */
    assert_int_equal(status(p, app_a, NULL, "GET", "/v1/keys", NULL, NULL), 403);
    assert_int_equal(status(p, app_a, "b", "GET", "/v1/users/42/recommendations", NULL, NULL), 403);
    /* a library's patron key: its own patron, in its library */
    assert_int_equal(status(p, patron_b42, NULL, "GET", "/v1/users/42/recommendations", NULL, NULL),
                     200);
    assert_int_equal(status(p, patron_b42, NULL, "GET", "/v1/users/44/recommendations", NULL, NULL),
                     403);
    /* keys for a library over HTTP */
    assert_int_equal(status(p, admin, NULL, "POST", "/v1/keys",
                            "{\"role\":\"app\",\"tenant\":\"a\"}", "\"tenant\":\"a\""),
                     201);
    assert_int_equal(status(p, admin, NULL, "POST", "/v1/keys",
                            "{\"role\":\"app\",\"tenant\":\"nope\"}", "nope"),
                     400);
    tl_test_serve_stop(&srv, SIGTERM);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tenants_over_http),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
