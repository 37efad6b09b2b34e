/* Learning paths through the service: a librarian's path imported from a file (all or none,
 * errors naming the line and field), a patron's place on it and the next step with its
 * alternatives, other patrons' feedback reordering the alternatives, and a proposal for a
 * topic without a path from co-use sequences, series order and levels. With TL_TEST_DB=postgres
 * (test_paths_postgres) the store is a PostgreSQL database. */
#include "pg_server.h"
#include "support.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tailor/service.h"
#include "tailor/store.h"

static void put_item_x(tl_store *st, const char *id, const char *title, const char *subjects,
                       const char *extra)
{
    tl_item_rec r = {.id = id,
                     .id_len = strlen(id),
                     .type = "book",
                     .title = title,
                     .subjects = subjects,
                     .year = TL_ABSENT,
                     .added = TL_ABSENT,
                     .copies = TL_ABSENT,
                     .available = TL_ABSENT,
                     .extra = extra};
    tl_diag d;
    assert_int_equal(tl_store_put_item(st, &r, NULL, &d), TL_OK);
}

static void put_item(tl_store *st, const char *id, const char *title, const char *subjects)
{
    put_item_x(st, id, title, subjects, NULL);
}

static void put_event(tl_store *st, const char *user, const char *item, long long ts)
{
    tl_event_rec e = {.user = user,
                      .user_len = strlen(user),
                      .item = item,
                      .item_len = strlen(item),
                      .type = "loan",
                      .ts = ts};
    tl_diag d;
    assert_int_equal(tl_store_put_event(st, &e, 0, NULL, &d), TL_OK);
}

/* A catalogue: a statistics course (s1..s5; s3 and s4 are alternatives of one step) and a
 * chemistry topic without a path, whose patrons read "Chemistry basics" first, then "Organic
 * chemistry (Chem Series, #1)", "... #2", and "Advanced chemistry" last. */
static const char *make_store(void)
{
    static char db[600];
    snprintf(db, sizeof(db), "%s", tl_test_store("paths.db"));
    tl_store *st;
    tl_diag d;
    assert_int_equal(tl_store_open(db, TL_STORE_CREATE, &st, &d), TL_OK);
    assert_int_equal(tl_store_begin(st), TL_OK);
    put_item(st, "s1", "Statistics: an introduction", "statistics");
    put_item(st, "s2", "Probability", "statistics");
    put_item(st, "s3", "Regression with R", "statistics");
    put_item(st, "s4", "Regression with Python", "statistics");
    put_item(st, "s5", "Bayesian data analysis", "statistics");
    put_item(st, "c1", "Advanced chemistry", "Chemistry");
    put_item(st, "c2", "Organic chemistry 2 (Chem Series, #2)", "Chemistry|Science");
    put_item(st, "c3", "Chemistry basics", "chemistry");
    put_item(st, "c4", "Organic chemistry 1 (Chem Series, #1)", "chemistry");
    /* a catalogue's own level wins over the words of its title */
    put_item_x(st, "c5", "Chemistry basics, for experts", "chemistry", "{\"level\":\"advanced\"}");
    put_item(st, "x1", "Poems", "poetry");
    /* the patron: steps 1 and 2 borrowed */
    put_event(st, "pat", "s1", 1000);
    put_event(st, "pat", "s2", 2000);
    put_event(st, "pat", "x1", 2500);
    put_event(st, "other1", "x1", 100);
    put_event(st, "other2", "x1", 100);
    put_event(st, "other3", "x1", 100);
    /* chemistry readers, mostly in one order */
    const char *seq[] = {"c3", "c4", "c2", "c1"};
    for (int u = 0; u < 6; u++) {
        char user[16];
        snprintf(user, sizeof(user), "chem%d", u);
        for (int k = 0; k < 4; k++) /* one patron takes volume 2 before volume 1 */
            put_event(st, user, seq[u == 5 && k >= 1 && k <= 2 ? 3 - k : k], 5000 + 100 * k);
    }
    assert_int_equal(tl_store_commit(st), TL_OK);
    tl_store_free(st);
    return db;
}

static tl_service *open_service(const char *db)
{
    tl_service_opts o = {.db = db, .writable = 1};
    tl_service *s = NULL;
    tl_diag d;
    tl_err rc = tl_service_open(&o, &s, &d);
    if (rc != TL_OK)
        fail_msg("tl_service_open: %s", d.msg);
    return s;
}

static json_t *next(tl_service *s, const char *user)
{
    char *text = NULL;
    tl_diag d;
    tl_err rc = tl_service_path_next(s, "stats101", user, &text, &d);
    if (rc != TL_OK)
        fail_msg("path next: %s", d.msg);
    json_t *j = json_loads(text, 0, NULL);
    assert_non_null(j);
    free(text);
    return j;
}

static const char *item_at(json_t *next_step, int alt)
{
    json_t *c = alt < 0 ? json_object_get(next_step, "item")
                        : json_array_get(json_object_get(next_step, "alternatives"), (size_t)alt);
    return json_string_value(json_object_get(c, "item"));
}

static void test_walk_through(void **state)
{
    (void)state;
    const char *db = make_store();
    tl_service *s = open_service(db);
    tl_diag d;
    char file[600];
    snprintf(file, sizeof(file), "%s", tl_test_tmp("path.tsv"));
    /* a bad file changes nothing, and says where */
    assert_int_equal(tl_test_write(file, "path\ttitle\ttopic\tpos\titem\tlevel\n"
                                         "stats101\tStatistics\tstatistics\t1\ts1\tbeginner\n"
                                         "stats101\t\t\ttwo\ts2\t\n"),
                     0);
    assert_int_equal(tl_service_path_import(s, file, NULL, NULL, &d), TL_EPARSE);
    assert_int_equal(d.line, 3);
    assert_string_equal(d.field, "pos");
    assert_int_equal(tl_test_write(file, "stats101\tStatistics\tstatistics\t1\ts1\t1\n"
                                         "stats101\t\t\t2\tnope\t\n"),
                     0);
    assert_int_equal(tl_service_path_import(s, file, NULL, NULL, &d), TL_ENOTFOUND);
    assert_int_equal(d.line, 2);
    assert_string_equal(d.field, "item");
    char *text = NULL;
    assert_int_equal(tl_service_paths(s, NULL, &text, &d), TL_OK);
    assert_string_equal(text, "{\"paths\":[]}");
    free(text);
    /* the librarian's path: s3 and s4 are alternatives at step 3 */
    assert_int_equal(tl_test_write(file, "path\ttitle\ttopic\tpos\titem\tlevel\n"
                                         "stats101\tStatistics\tstatistics\t1\ts1\tbeginner\n"
                                         "stats101\t\t\t2\ts2\t1\n"
                                         "stats101\t\t\t3\ts3\tintermediate\n"
                                         "stats101\t\t\t3\ts4\t2\n"
                                         "stats101\t\t\t4\ts5\tadvanced\n"),
                     0);
    int np = 0, ns = 0;
    assert_int_equal(tl_service_path_import(s, file, &np, &ns, &d), TL_OK);
    assert_int_equal(np, 1);
    assert_int_equal(ns, 5);
    /* the patron borrowed steps 1 and 2: next is step 3, s3 first (by id: no feedback yet) */
    json_t *j = next(s, "pat");
    assert_int_equal(json_integer_value(json_object_get(j, "position")), 2);
    assert_int_equal(json_integer_value(json_object_get(j, "positions")), 4);
    json_t *n = json_object_get(j, "next");
    assert_int_equal(json_integer_value(json_object_get(n, "pos")), 3);
    assert_string_equal(item_at(n, -1), "s3");
    assert_string_equal(item_at(n, 0), "s4");
    assert_int_equal(json_array_size(json_object_get(j, "done")), 2);
    json_decref(j);
    /* other patrons found s4 useful and s3 not: s4 comes first for the patron */
    assert_int_equal(tl_service_path_feedback(s, "stats101", "s4", "other1", 1, &d), TL_OK);
    assert_int_equal(tl_service_path_feedback(s, "stats101", "s4", "other2", 1, &d), TL_OK);
    assert_int_equal(tl_service_path_feedback(s, "stats101", "s3", "other3", 0, &d), TL_OK);
    /* the patron's own vote does not reorder their own list */
    assert_int_equal(tl_service_path_feedback(s, "stats101", "s3", "pat", 1, &d), TL_OK);
    assert_int_equal(tl_service_path_feedback(s, "stats101", "x1", "pat", 1, &d), TL_ENOTFOUND);
    assert_string_equal(d.field, "item");
    j = next(s, "pat");
    n = json_object_get(j, "next");
    assert_string_equal(item_at(n, -1), "s4");
    assert_string_equal(item_at(n, 0), "s3");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(n, "item"), "useful")), 2);
    json_decref(j);
    /* a patron who has not started: step 1 */
    j = next(s, "other1");
    assert_int_equal(json_integer_value(json_object_get(j, "position")), 0);
    assert_string_equal(item_at(json_object_get(j, "next"), -1), "s1");
    json_decref(j);
    /* a patron who opted out: no position from their history */
    tl_diag_clear(&d);
    assert_int_equal(tl_service_consent_set(s, "pat", 0, TL_ABSENT, "test", &d), TL_OK);
    j = next(s, "pat");
    assert_int_equal(json_integer_value(json_object_get(j, "position")), 0);
    assert_string_equal(json_string_value(json_object_get(j, "fallback")),
                        "this patron opted out of personalization");
    json_decref(j);
    assert_int_equal(tl_service_consent_set(s, "pat", 1, TL_ABSENT, "test", &d), TL_OK);
    /* an unknown patron, an unknown path */
    assert_int_equal(tl_service_path_next(s, "stats101", "nobody", &text, &d), TL_ENOTFOUND);
    assert_int_equal(tl_service_path_next(s, "nope", "pat", &text, &d), TL_ENOTFOUND);
    assert_string_equal(d.field, "path");
    /* the patron's feedback is in their export */
    char *exp = NULL;
    assert_int_equal(tl_service_user_export(s, "pat", "test", &exp, &d), TL_OK);
    assert_non_null(strstr(exp, "\"path_feedback\":[{\"path\":\"stats101\",\"item\":\"s3\""));
    free(exp);
    tl_service_close(s);
}

static void test_proposal(void **state)
{
    (void)state;
    const char *db = make_store();
    tl_service *s = open_service(db);
    tl_diag d;
    char id[TL_LIST_ID_MAX + 1];
    assert_int_equal(tl_service_path_propose(s, "Chemistry", 10, id, &d), TL_OK);
    assert_string_equal(id, "proposed-chemistry");
    char *text = NULL;
    assert_int_equal(tl_service_path_get(s, id, &text, &d), TL_OK);
    json_t *j = json_loads(text, 0, NULL);
    free(text);
    assert_string_equal(json_string_value(json_object_get(j, "origin")), "proposed");
    json_t *steps = json_object_get(j, "steps");
    assert_int_equal(json_array_size(steps), 5);
    /* basics first (a level word), the series in volume order, the advanced ones last (the
     * one no patron has yet before the one every patron took last) */
    const char *want[] = {"c3", "c4", "c2", "c5", "c1"};
    for (int k = 0; k < 5; k++) {
        json_t *st = json_array_get(steps, (size_t)k);
        assert_string_equal(json_string_value(json_object_get(st, "item")), want[k]);
        assert_int_equal(json_integer_value(json_object_get(st, "pos")), k + 1);
    }
    json_decref(j);
    /* a topic with a path gets no proposal; a subject no item has, none either */
    assert_int_equal(tl_service_path_propose(s, "chemistry", 10, id, &d), TL_EEXIST);
    assert_int_equal(tl_service_path_propose(s, "geology", 10, id, &d), TL_ENOTFOUND);
    tl_service_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_walk_through),
        cmocka_unit_test(test_proposal),
    };
    if (tl_test_on_pg() && !tl_test_pg_start())
        return TL_TEST_SKIP;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
