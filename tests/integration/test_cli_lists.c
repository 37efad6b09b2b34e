/* The homepage's rows fed by reading lists and neighbours, end to end through the command
 * line: "From lists with X" (items sharing public lists with a recent item of the patron's,
 * ranked by shared lists, with X as evidence), "Readers like you" (what the closest patrons
 * borrowed), neither for a patron who opted out, and no withdrawn item in them. With
 * TL_TEST_DB=postgres (test_cli_lists_postgres) the store is a PostgreSQL database. */
#include "pg_server.h"
#include "support.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tailor/service.h"

static char db[600], model[600];

static int setup(void **state)
{
    (void)state;
    snprintf(db, sizeof(db), "%s", tl_test_store("home.db"));
    snprintf(model, sizeof(model), "%s", tl_test_tmp("home.tlm"));
    char items[4096], events[16384];
    size_t o = (size_t)snprintf(items, sizeof(items), "item\ttitle\n");
    for (int i = 0; i < 40; i++)
        o += (size_t)snprintf(items + o, sizeof(items) - o, "i%d\tTitle %d\n", i, i);
    /* me: i0, i1; r1..r3 share them and also have i5 (r1, r2 i6, r3 i7); thirty others borrow
     * i10..i39, the popular items, which the first rows (a popular model's) take */
    o = (size_t)snprintf(events, sizeof(events),
                         "user\titem\ttimestamp\n"
                         "me\ti0\t100\nme\ti1\t200\n"
                         "r1\ti0\t1\nr1\ti1\t2\nr1\ti5\t3\nr1\ti6\t4\n"
                         "r2\ti0\t1\nr2\ti1\t2\nr2\ti5\t3\nr2\ti6\t4\n"
                         "r3\ti0\t1\nr3\ti5\t3\nr3\ti7\t4\n"
                         "out\ti0\t1\nout\ti1\t2\n");
    for (int u = 0; u < 25; u++) /* more readers like me than a row looks at, each with an */
        o += (size_t)snprintf(events + o, sizeof(events) - o, "y%d\ti0\t1\ny%d\ti%d\t2\n", u, u,
                              10 + u); /* item no other close reader has */
    for (int u = 0; u < 30; u++)
        for (int k = 0; k < 6; k++)
            o += (size_t)snprintf(events + o, sizeof(events) - o, "x%d\ti%d\t%d\n", u,
                                  10 + (u * 7 + k * 5) % 30, k);
    if (tl_test_write(tl_test_tmp("items.tsv"), items) ||
        tl_test_write(tl_test_tmp("events.tsv"), events) ||
        tl_test_write(tl_test_tmp("users.tsv"), "user\tpersonalize\nout\tno\n") ||
        tl_test_cli("--db '%s' import items '%s'", db, tl_test_tmp("items.tsv")) ||
        tl_test_cli("--db '%s' import users '%s'", db, tl_test_tmp("users.tsv")) ||
        tl_test_cli("--db '%s' import events '%s'", db, tl_test_tmp("events.tsv")))
        return -1;
    /* public lists: i1 with i2 twice, with i3 once; a private one with i4 */
    const char *cmds[] = {
        "list create x1 A --public --id la",
        "list add la i1",
        "list add la i2",
        "list add la i3",
        "list create x2 B --public --id lb",
        "list add lb i1",
        "list add lb i2",
        "list create x3 C --id lc",
        "list add lc i1",
        "list add lc i4",
    };
    for (size_t k = 0; k < sizeof(cmds) / sizeof(cmds[0]); k++)
        if (tl_test_cli("--db '%s' %s", db, cmds[k]))
            return -1;
    return tl_test_cli("--db '%s' train --model popular --set autotune=0 --out '%s'", db, model);
}

static json_t *home(const char *user)
{
    int rc = tl_test_cli("--db '%s' homepage --model '%s' --user %s --rows 8 --n 5 --json", db,
                         model, user);
    char *out = tl_test_cli_out();
    if (rc != 0)
        fail_msg("homepage: exit %d: %s", rc, tl_test_cli_err());
    json_t *j = json_loads(out, 0, NULL);
    assert_non_null(j);
    free(out);
    return j;
}

static json_t *row(json_t *page, const char *prefix)
{
    json_t *r;
    size_t k;
    json_array_foreach(json_object_get(page, "rows"), k,
                       r) if (strncmp(json_string_value(json_object_get(r, "id")), prefix,
                                      strlen(prefix)) == 0) return r;
    return NULL;
}

static const char *item_at(json_t *r, size_t k)
{
    return json_string_value(
        json_object_get(json_array_get(json_object_get(r, "items"), k), "item"));
}

static void test_rows(void **state)
{
    (void)state;
    json_t *page = home("me");
    json_t *r = row(page, "from_lists:");
    assert_non_null(r);
    assert_string_equal(json_string_value(json_object_get(r, "id")), "from_lists:i1");
    assert_string_equal(json_string_value(json_object_get(r, "title")), "From lists with Title 1");
    assert_int_equal(json_array_size(json_object_get(r, "items")), 2); /* not the private i4 */
    assert_string_equal(item_at(r, 0), "i2");
    assert_string_equal(item_at(r, 1), "i3");
    json_t *it = json_array_get(json_object_get(r, "items"), 0);
    assert_string_equal(json_string_value(json_object_get(it, "reason")),
                        "On 2 public reading lists with \"Title 1\"");
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(it, "evidence"), 0), "item")),
                        "i1");
    r = row(page, "readers_like_you");
    assert_non_null(r);
    assert_string_equal(item_at(r, 0), "i5"); /* three close readers; i6 two */
    assert_string_equal(item_at(r, 1), "i6");
    json_t *e;
    size_t k;
    json_array_foreach(json_object_get(r, "items"), k, e) /* held by r3 alone */
        assert_string_not_equal(json_string_value(json_object_get(e, "item")), "i7");
    json_decref(page);
    /* an opted-out patron gets neither */
    page = home("out");
    assert_null(row(page, "from_lists:"));
    assert_null(row(page, "readers_like_you"));
    json_decref(page);
    /* a withdrawn item leaves the rows at once (the model still has it) */
    tl_service_opts o = {.db = db, .model = model, .writable = 1};
    tl_service *svc = NULL;
    tl_diag d;
    assert_int_equal(tl_service_open(&o, &svc, &d), TL_OK);
    assert_int_equal(tl_service_delete_record(svc, TL_RECORD_ITEM, "i2", NULL, &d), TL_OK);
    assert_int_equal(tl_service_delete_record(svc, TL_RECORD_ITEM, "i5", NULL, &d), TL_OK);
    tl_home_query q = {.user = "me", .rows = 8, .n = 5};
    tl_home h;
    assert_int_equal(tl_service_homepage(svc, &q, &h, &d), TL_OK);
    int seen = 0;
    for (int w = 0; w < h.n_rows; w++) {
        for (int j = 0; j < h.rows[w].n; j++) {
            assert_string_not_equal(h.rows[w].items[j].item, "i2");
            assert_string_not_equal(h.rows[w].items[j].item, "i5");
        }
        if (strcmp(h.rows[w].id, "from_lists:i1") == 0) {
            seen = 1;
            assert_string_equal(h.rows[w].items[0].item, "i3");
        }
    }
    assert_true(seen);
    tl_home_free(&h);
    tl_service_close(svc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows),
    };
    if (tl_test_on_pg() && !tl_test_pg_start())
        return TL_TEST_SKIP;
    return cmocka_run_group_tests(tests, setup, NULL);
}
