/* Experiments through the service: assignment is deterministic and within 1% of the split over
 * 100,000 patrons, layers keep their experiments' patrons apart, an injected imbalance trips
 * the sample-ratio check, the report counts loans per active patron, a patron's arms carry their
 * parameters; and the CLI's create, assign, report (JSON and HTML) and stop. With
 * TL_TEST_DB=postgres (test_experiments_postgres) the stores are PostgreSQL databases. */
#include "pg_server.h"
#include "support.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tailor/service.h"
#include "tailor/store.h"

#define N_IDS 100000

static const char *make_store(const char *name)
{
    static char db[600];
    snprintf(db, sizeof db, "%s", tl_test_store(name));
    tl_store *st;
    tl_diag d;
    assert_int_equal(tl_store_open(db, TL_STORE_CREATE, &st, &d), TL_OK);
    assert_int_equal(tl_store_begin(st), TL_OK);
    tl_event_rec e = {
        .user = "someone", .user_len = 7, .item = "i0", .item_len = 2, .type = "loan", .ts = 1000};
    assert_int_equal(tl_store_put_event(st, &e, 0, NULL, &d),
                     TL_OK); /* an old event: no experiment's */
    assert_int_equal(tl_store_commit(st), TL_OK);
    tl_store_free(st);
    return db;
}

static tl_service *open_service(const char *db)
{
    tl_service_opts o = {.db = db, .writable = 1};
    tl_service *s = NULL;
    tl_diag d;
    if (tl_service_open(&o, &s, &d) != TL_OK)
        fail_msg("tl_service_open: %s", d.msg);
    return s;
}

static void create(tl_service *s, const char *name, const char *layer, const char *const *arms,
                   int n, const double *split, double traffic, tl_err want)
{
    /* fixed salts: the same assignment on every run */
    tl_experiment_rec e = {name, layer, "loans", arms, n, split, traffic, name};
    tl_diag d;
    tl_diag_clear(&d);
    tl_err rc = tl_service_experiment_create(s, &e, &d);
    if (rc != want)
        fail_msg("create %s: %d (%s)", name, rc, d.msg);
}

/* The arms of ids u0..u(n-1). */
static char (*assign_all(tl_service *s, const char *name, int n))[TL_EXP_NAME_MAX + 1]
{
    char **ids = malloc(sizeof(char *) * (size_t)n);
    char(*arms)[TL_EXP_NAME_MAX + 1] = calloc((size_t)n, sizeof *arms);
    for (int i = 0; i < n; i++) {
        ids[i] = malloc(16);
        snprintf(ids[i], 16, "u%d", i);
    }
    tl_diag d;
    assert_int_equal(tl_service_experiment_assign(s, name, (const char *const *)ids, n, arms, &d),
                     TL_OK);
    for (int i = 0; i < n; i++)
        free(ids[i]);
    free(ids);
    return arms;
}

static void test_assignment(void **state)
{
    (void)state;
    tl_service *s = open_service(make_store("assign.db"));
    const char *arms[] = {"control", "treatment:model=ials,rows=bandit"};
    const double split[] = {30, 70};
    create(s, "ab", NULL, arms, 2, split, 0, TL_OK);
    create(s, "ab", NULL, arms, 2, split, 0, TL_EEXIST);
    const char *bad[] = {"same", "same"};
    create(s, "dup", NULL, bad, 2, NULL, 0, TL_EINVAL);
    const char *bad_kv[] = {"a", "b:novalue"};
    create(s, "kv", NULL, bad_kv, 2, NULL, 0, TL_EINVAL);
    const double bad_split[] = {50, 40};
    create(s, "sp", NULL, arms, 2, bad_split, 0, TL_EINVAL);
    char(*a1)[TL_EXP_NAME_MAX + 1] = assign_all(s, "ab", N_IDS);
    char(*a2)[TL_EXP_NAME_MAX + 1] = assign_all(s, "ab", N_IDS);
    int control = 0;
    for (int i = 0; i < N_IDS; i++) {
        assert_string_equal(a1[i], a2[i]); /* the same patron, the same arm */
        assert_true(strcmp(a1[i], "control") == 0 || strcmp(a1[i], "treatment") == 0);
        control += strcmp(a1[i], "control") == 0;
    }
    assert_true(fabs((double)control / N_IDS - 0.30) < 0.01);
    /* another experiment of its own layer splits independently of the first */
    const char *ab[] = {"a", "b"};
    create(s, "other", NULL, ab, 2, NULL, 0, TL_OK);
    char(*a3)[TL_EXP_NAME_MAX + 1] = assign_all(s, "other", N_IDS);
    int both = 0, a = 0;
    for (int i = 0; i < N_IDS; i++) {
        a += strcmp(a3[i], "a") == 0;
        both += strcmp(a3[i], "a") == 0 && strcmp(a1[i], "control") == 0;
    }
    assert_true(fabs((double)a / N_IDS - 0.5) < 0.01);
    assert_true(fabs((double)both / N_IDS - 0.15) < 0.01);
    free(a1);
    free(a2);
    free(a3);
    tl_diag d;
    char out[1][TL_EXP_NAME_MAX + 1];
    const char *who = "u1";
    assert_int_equal(tl_service_experiment_assign(s, "nope", &who, 1, out, &d), TL_ENOTFOUND);
    tl_service_close(s);
}

static void test_layers(void **state)
{
    (void)state;
    tl_service *s = open_service(make_store("layers.db"));
    const char *arms[] = {"a", "b"};
    create(s, "first", "home", arms, 2, NULL, 0.5, TL_OK);
    create(s, "second", "home", arms, 2, NULL, 0.5, TL_OK);
    create(s, "third", "home", arms, 2, NULL, 0.2, TL_EEXIST); /* the layer is full */
    char(*x)[TL_EXP_NAME_MAX + 1] = assign_all(s, "first", 20000);
    char(*y)[TL_EXP_NAME_MAX + 1] = assign_all(s, "second", 20000);
    int in_x = 0, in_y = 0;
    for (int i = 0; i < 20000; i++) {
        assert_false(x[i][0] && y[i][0]); /* never in both */
        in_x += x[i][0] != 0;
        in_y += y[i][0] != 0;
    }
    assert_true(fabs(in_x / 20000.0 - 0.5) < 0.02);
    assert_true(fabs(in_y / 20000.0 - 0.5) < 0.02);
    free(x);
    free(y);
    /* a stopped experiment frees its part of the layer */
    tl_diag d;
    int changed;
    assert_int_equal(tl_service_experiment_stop(s, "first", &changed, &d), TL_OK);
    assert_int_equal(changed, 1);
    assert_int_equal(tl_service_experiment_stop(s, "first", &changed, &d), TL_OK);
    assert_int_equal(changed, 0);
    create(s, "third", "home", arms, 2, NULL, 0.2, TL_OK);
    /* the patron's arms: the running experiments only, with their parameters */
    char *json;
    assert_int_equal(tl_service_experiment_arms(s, "u7", &json, &d), TL_OK);
    json_t *j = json_loads(json, 0, NULL);
    free(json);
    json_t *xs = json_object_get(j, "experiments");
    assert_true(json_array_size(xs) <= 1);
    for (size_t i = 0; i < json_array_size(xs); i++)
        assert_string_not_equal(
            json_string_value(json_object_get(json_array_get(xs, i), "experiment")), "first");
    json_decref(j);
    assert_int_equal(tl_service_experiments(s, &json, &d), TL_OK);
    j = json_loads(json, 0, NULL);
    free(json);
    assert_int_equal(json_array_size(json_object_get(j, "experiments")), 3);
    json_decref(j);
    tl_service_close(s);
}

static void put_loans(tl_store *st, const char *user, int n, long long ts)
{
    for (int k = 0; k < n; k++) {
        char item[16];
        snprintf(item, sizeof item, "i%d", k);
        tl_event_rec e = {.user = user,
                          .user_len = strlen(user),
                          .item = item,
                          .item_len = strlen(item),
                          .type = "loan",
                          .ts = ts + k};
        tl_diag d;
        assert_int_equal(tl_store_put_event(st, &e, 0, NULL, &d), TL_OK);
    }
}

static json_t *report(tl_service *s, const char *name)
{
    char *json;
    tl_diag d;
    assert_int_equal(tl_service_experiment_report(s, name, &json, &d), TL_OK);
    json_t *j = json_loads(json, 0, NULL);
    free(json);
    assert_non_null(j);
    return j;
}

/* Patrons of arm a borrow 1 or 3 books, of arm b 2 or 4; with drop > 0 only every drop-th patron of
 * arm b shows up at all (an injected imbalance). */
static void test_report_and_srm(void **state)
{
    (void)state;
    const char *db = make_store("report.db");
    tl_service *s = open_service(db);
    const char *arms[] = {"a", "b:rows=bandit"};
    create(s, "fair", NULL, arms, 2, NULL, 0, TL_OK);
    create(s, "skewed", NULL, arms, 2, NULL, 0, TL_OK);
    const int n = 10000;
    char(*fair)[TL_EXP_NAME_MAX + 1] = assign_all(s, "fair", n);
    char(*skew)[TL_EXP_NAME_MAX + 1] = assign_all(s, "skewed", n);
    tl_store *st;
    tl_diag d;
    assert_int_equal(tl_store_open(db, 0, &st, &d), TL_OK);
    assert_int_equal(tl_store_begin(st), TL_OK);
    long long now = (long long)time(NULL) + 10;
    int b_seen = 0;
    for (int i = 0; i < n; i++) {
        char user[16];
        snprintf(user, sizeof user, "u%d", i);
        /* in "skewed", a fifth of arm b's patrons never show up */
        if (strcmp(skew[i], "b") == 0 && b_seen++ % 5 == 0)
            continue;
        put_loans(st, user, (strcmp(fair[i], "a") == 0 ? 2 : 3) + (i % 2 ? 1 : -1), now);
    }
    assert_int_equal(tl_store_commit(st), TL_OK);
    tl_store_free(st);
    json_t *r = report(s, "skewed");
    assert_true(json_is_true(json_object_get(json_object_get(r, "srm"), "mismatch")));
    json_decref(r);
    /* "fair" sees a sub-sample that does not depend on its own arms: no mismatch */
    r = report(s, "fair");
    assert_false(json_is_true(json_object_get(json_object_get(r, "srm"), "mismatch")));
    json_t *ra = json_array_get(json_object_get(r, "arms"), 0),
           *rb = json_array_get(json_object_get(r, "arms"), 1);
    assert_true(fabs(json_number_value(json_object_get(ra, "loans_per_patron")) - 2) < 0.1);
    assert_true(fabs(json_number_value(json_object_get(rb, "loans_per_patron")) - 3) < 0.1);
    assert_string_equal(json_string_value(json_object_get(json_object_get(rb, "params"), "rows")),
                        "bandit");
    json_t *c = json_array_get(json_object_get(r, "comparisons"), 0);
    assert_true(fabs(json_number_value(json_object_get(c, "difference")) - 1) < 0.1);
    assert_true(json_is_true(json_object_get(c, "significant")));
    assert_string_equal(json_string_value(json_object_get(r, "status")), "running");
    json_decref(r);
    free(fair);
    free(skew);
    tl_service_close(s);
}

static void test_cli(void **state)
{
    (void)state;
    char db[600];
    snprintf(db, sizeof db, "%s", make_store("cli.db"));
    tl_test_cli_check(
        tl_test_cli("--db '%s' experiment create hp --arm control --arm bandit:rows=bandit "
                    "--split 50,50 --metric clicks",
                    db),
        0, "created experiment hp", NULL);
    tl_test_cli_check(tl_test_cli("--db '%s' experiment create hp2 --arm only", db), 2, NULL,
                      "2 to 8 --arm");
    tl_test_cli_check(tl_test_cli("--db '%s' experiment create hp3 --arm a --arm b --split 50", db),
                      2, NULL, "--split");
    tl_test_cli_check(tl_test_cli("--db '%s' experiment assign hp u1", db), 0, NULL, NULL);
    char *first = tl_test_cli_out();
    tl_test_cli_check(tl_test_cli("--db '%s' experiment assign hp u1", db), 0, first, NULL);
    free(first);
    const char *users = tl_test_tmp("users.txt");
    assert_int_equal(tl_test_write(users, "u1\nu2\nu3\n"), 0);
    tl_test_cli_check(tl_test_cli("--db '%s' experiment assign hp --users '%s'", db, users), 0,
                      "u3\t", NULL);
    tl_test_cli_check(tl_test_cli("--db '%s' experiment assign hp", db), 2, NULL,
                      "USER or --users");
    char html[600];
    snprintf(html, sizeof html, "%s", tl_test_tmp("report.html"));
    tl_test_cli_check(tl_test_cli("--db '%s' experiment report hp --json --html '%s'", db, html), 0,
                      "\"comparisons\"", NULL);
    assert_true(tl_test_file_has(html, "<svg"));
    assert_true(tl_test_file_has(html, "Always-valid p"));
    assert_false(tl_test_file_has(html, "http://"));
    tl_test_cli_check(tl_test_cli("--db '%s' experiment report nope", db), 1, NULL,
                      "no experiment named");
    tl_test_cli_check(tl_test_cli("--db '%s' experiment stop hp", db), 0, "stopped", NULL);
    tl_test_cli_check(tl_test_cli("--db '%s' experiment list", db), 0, "hp\tstopped", NULL);
    tl_test_cli_check(tl_test_cli("--db '%s' experiment frobnicate x", db), 2, NULL,
                      "unknown subcommand");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_assignment),
        cmocka_unit_test(test_layers),
        cmocka_unit_test(test_report_and_srm),
        cmocka_unit_test(test_cli),
    };
    if (tl_test_on_pg() && !tl_test_pg_start())
        return TL_TEST_SKIP;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
