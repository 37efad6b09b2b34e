/* Several processes on one PostgreSQL store (tests/pg_server.h; skips without the server): a
 * connection learns of another process's commit (LISTEN/NOTIFY behind tl_store_changed), and a
 * service learns of a model that another service trained and swapped in, and serves it too. */
#include "pg_server.h"
#include "support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tailor/service.h"
#include "tailor/store.h"

static const char *db;

static void import_events(const char *name, const char *text)
{
    assert_int_equal(tl_test_write(tl_test_tmp(name), text), 0);
    tl_test_cli_check(tl_test_cli("--db '%s' import events '%s'", db, tl_test_tmp(name)), 0, NULL,
                      NULL);
}

static void test_changes_of_other_processes(void **state)
{
    (void)state;
    tl_store *st = NULL;
    tl_diag d;
    int changed = -1;
    assert_int_equal(tl_store_open(db, TL_STORE_READONLY, &st, &d), TL_OK);
    assert_int_equal(tl_store_changed(st, &changed), TL_OK);
    assert_int_equal(changed, 1); /* a new connection cannot tell */
    assert_int_equal(tl_store_changed(st, &changed), TL_OK);
    assert_int_equal(changed, 0);
    import_events("more.tsv", "user\titem\ttimestamp\nu7\ti1\t500\n"); /* another process */
    assert_int_equal(tl_store_changed(st, &changed), TL_OK);
    assert_int_equal(changed, 1);
    assert_int_equal(tl_store_changed(st, &changed), TL_OK);
    assert_int_equal(changed, 0);
    /* a read by another process is no change */
    tl_test_cli_check(tl_test_cli("--db '%s' stats", db), 0, "events", NULL);
    assert_int_equal(tl_store_changed(st, &changed), TL_OK);
    assert_int_equal(changed, 0);
    tl_store_free(st);
}

static void test_model_swap_reaches_other_services(void **state)
{
    (void)state;
    char model[600];
    snprintf(model, sizeof(model), "%s", tl_test_tmp("served.tlm"));
    tl_test_cli_check(tl_test_cli("--db '%s' train --model popular --out '%s'", db, model), 0, NULL,
                      NULL);
    tl_service_opts o;
    memset(&o, 0, sizeof(o));
    o.db = db;
    o.model = model;
    tl_service *trainer = NULL, *other = NULL;
    tl_diag d;
    o.writable = 1;
    assert_int_equal(tl_service_open(&o, &trainer, &d), TL_OK);
    o.writable = 0;
    assert_int_equal(tl_service_open(&o, &other, &d), TL_OK);
    char why[200];
    assert_int_equal(tl_service_ready(other, why, sizeof(why)), 1); /* its first look */
    tl_service_info info;
    tl_service_info_get(other, &info, 0);
    assert_int_equal(info.swaps, 0);
    /* the trainer refits the file with more events and swaps it in */
    import_events("late.tsv", "user\titem\ttimestamp\nu8\ti9\t600\nu9\ti9\t700\n");
    tl_train_opts t = {0};
    assert_int_equal(tl_service_train(trainer, &t, &d), TL_OK);
    assert_int_equal(tl_service_train_wait(trainer, &d), TL_OK);
    tl_service_info_get(trainer, &info, 0);
    assert_int_equal(info.swaps, 1);
    /* the other service's next request sees the store changed and loads the new file */
    assert_int_equal(tl_service_ready(other, why, sizeof(why)), 1);
    tl_service_info_get(other, &info, 0);
    assert_int_equal(info.swaps, 1);
    assert_true(tl_service_knows_item(other, "i9"));
    tl_service_close(trainer);
    tl_service_close(other);
}

int main(void)
{
    if (!tl_test_pg_start())
        return TL_TEST_SKIP;
    tl_test_pg_reset("notify");
    db = strdup(tl_test_pg_db("notify"));
    import_events("events.tsv", "user\titem\ttimestamp\nu1\ti1\t100\nu2\ti2\t200\nu3\ti1\t300\n");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_changes_of_other_processes),
        cmocka_unit_test(test_model_swap_reaches_other_services),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
