/* tailor migrate and the PostgreSQL store end to end, on a throwaway server
 * (tests/pg_server.h; skips where the server binaries are missing): a SQLite store with items,
 * patrons, events with context, searches, API keys and consent is copied into PostgreSQL; every
 * table agrees; the PostgreSQL store then answers as the SQLite one did (stats, export, a
 * trained model's recommendations) and takes new data; a second copy into it is refused. */
#include "pg_server.h"
#include "support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char sq[512], pg[600];

static void write_inputs(void)
{
    assert_int_equal(tl_test_write(tl_test_tmp("items.tsv"),
                                   "id\ttitle\tauthors\tsubjects\tyear\n"
                                   "b1\tDune\tHerbert\tscience fiction\t1965\n"
                                   "b2\tEmma\tAusten\tnovels\t1815\n"
                                   "b3\tTab\\there\tA\tpoetry|verse\t2001\n"
                                   "b4\tWalden\tThoreau\tnature\t1854\n"),
                     0);
    assert_int_equal(tl_test_write(tl_test_tmp("users.csv"),
                                   "id,department,level\n"
                                   "p1,Physics,staff\np2,History,undergrad\np3,Physics,grad\n"),
                     0);
    assert_int_equal(tl_test_write(tl_test_tmp("events.tsv"),
                                   "user\titem\ttype\tvalue\ttimestamp\tbranch\tdevice\n"
                                   "p1\tb1\tloan\t\t1700000000\tmain\tkiosk\n"
                                   "p1\tb2\trate\t4.5\t1700000100\t\t\n"
                                   "p2\tb1\tloan\t\t1700000200\teast\t\n"
                                   "p2\tb3\tloan\t\t1700000300\t\t\n"
                                   "p3\tb1\tview\t0.1\t1700000400\t\tweb\n"
                                   "p3\tb4\tloan\t\t1700000500\t\t\n"
                                   "p3\tb2\tloan\t\t1700000600\tmain\t\n"),
                     0);
    assert_int_equal(tl_test_write(tl_test_tmp("searches.tsv"),
                                   "user\tquery\ttimestamp\tclicked\n"
                                   "p1\tdune\t1700000050\tb1\n"
                                   "p2\tnovels austen\t1700000250\tb2|b1\n"),
                     0);
}

static void build_sqlite_store(void)
{
    const char *cmds[] = {"import items '%s'", "import users '%s'", "import events '%s'",
                          "import searches '%s'"};
    const char *files[] = {"items.tsv", "users.csv", "events.tsv", "searches.tsv"};
    for (int i = 0; i < 4; i++) {
        char cmd[700];
        snprintf(cmd, sizeof(cmd), cmds[i], tl_test_tmp(files[i]));
        tl_test_cli_check(tl_test_cli("--db '%s' %s", sq, cmd), 0, NULL, NULL);
    }
    char key[128];
    tl_test_make_key(sq, "--role admin --label ops", key, sizeof(key));
    /* a library of a consortium, its key and its own patron p1 (not the consortium's p1) */
    tl_test_cli_check(tl_test_cli("--db '%s' tenant add central --name Central --branch main", sq),
                      0, NULL, NULL);
    tl_test_make_key(sq, "--role app --tenant central", key, sizeof(key));
    tl_test_cli_check(tl_test_cli("--db '%s' --tenant central import events '%s'", sq,
                                  tl_test_tmp("central.tsv")),
                      0, NULL, NULL);
    tl_test_cli_check(tl_test_cli("--db '%s' consent set p2 off --retention 30", sq), 0, NULL,
                      NULL);
}

/* stdout of `tailor --db DB ARGS` (malloc'd), after checking it succeeded. */
static char *out_of(const char *db, const char *args)
{
    tl_test_cli_check(tl_test_cli("--db '%s' %s", db, args), 0, NULL, NULL);
    return tl_test_cli_out();
}

/* Blanks the number after "exported_at": (a patron's export says when it was made, and the two
 * exports may fall in different seconds). */
static void blank_export_time(char *s)
{
    for (char *p = strstr(s, "\"exported_at\":"); p; p = strstr(p + 1, "\"exported_at\":"))
        for (char *q = p + strlen("\"exported_at\":"); *q >= '0' && *q <= '9'; q++)
            *q = '0';
}

static void assert_same_output(const char *args)
{
    char *a = out_of(sq, args), *b = out_of(pg, args);
    blank_export_time(a);
    blank_export_time(b);
    assert_string_equal(a, b);
    free(a);
    free(b);
}

static void test_migrate_round_trip(void **state)
{
    (void)state;
    snprintf(sq, sizeof(sq), "%s", tl_test_tmp("library.db"));
    snprintf(pg, sizeof(pg), "%s", tl_test_pg_db("migrated"));
    write_inputs();
    assert_int_equal(tl_test_write(tl_test_tmp("central.tsv"), "user\titem\np1\tb4\n"), 0);
    build_sqlite_store();
    int rc = tl_test_cli("migrate --from 'sqlite:%s' --to '%s' --json", sq, pg);
    tl_test_cli_check(rc, 0, "\"same\": true", NULL);
    char *out = tl_test_cli_out();
    assert_null(strstr(out, "\"same\": false"));
    /* every table with rows was compared by content, not only counted */
    assert_non_null(strstr(out, "\"table\": \"events\""));
    assert_non_null(strstr(out, "\"rows_to\": 8"));
    free(out);
    /* the PostgreSQL store answers as the SQLite store did */
    char *stats_sq = out_of(sq, "stats --top 4"), *stats_pg = out_of(pg, "stats --top 4");
    assert_string_equal(strchr(stats_sq, '\n'), strchr(stats_pg, '\n')); /* after the store */
    free(stats_sq);
    free(stats_pg);
    assert_same_output("export events");
    assert_same_output("key list");
    assert_same_output("user export p2");
    assert_same_output("tenant list --json");
    assert_same_output("--tenant central user export p1");
    char model_sq[600], model_pg[600];
    snprintf(model_sq, sizeof(model_sq), "%s", tl_test_tmp("sq.tlm"));
    snprintf(model_pg, sizeof(model_pg), "%s", tl_test_tmp("pg.tlm"));
    tl_test_cli_check(tl_test_cli("--db '%s' train --model itemknn --out '%s'", sq, model_sq), 0,
                      NULL, NULL);
    tl_test_cli_check(tl_test_cli("--db '%s' train --model itemknn --out '%s'", pg, model_pg), 0,
                      NULL, NULL);
    char *rec_sq = out_of(sq, "stats"); /* warm: the same command on both below */
    free(rec_sq);
    char args[700];
    snprintf(args, sizeof(args), "recommend --model '%s' --user p1 --n 3 --json", model_sq);
    rec_sq = out_of(sq, args);
    snprintf(args, sizeof(args), "recommend --model '%s' --user p1 --n 3 --json", model_pg);
    char *rec_pg = out_of(pg, args);
    assert_string_equal(rec_sq, rec_pg);
    free(rec_sq);
    free(rec_pg);
    /* new data after the copy: ids continue past the copied ones */
    assert_int_equal(tl_test_write(tl_test_tmp("more.tsv"), "user\titem\n"
                                                            "p9\tb9\n"
                                                            "p1\tb4\n"),
                     0);
    tl_test_cli_check(tl_test_cli("--db '%s' import events '%s'", pg, tl_test_tmp("more.tsv")), 0,
                      "2 added", NULL);
    assert_int_equal(tl_test_pg_int("migrated", "SELECT count(*) FROM users"), 5);
    assert_int_equal(tl_test_pg_int("migrated", "SELECT count(DISTINCT id) FROM items"), 5);
    /* a second copy into a store with data is refused, and changes nothing */
    rc = tl_test_cli("migrate --from 'sqlite:%s' --to '%s'", sq, pg);
    tl_test_cli_check(rc, 1, NULL, "not empty");
    assert_int_equal(tl_test_pg_int("migrated", "SELECT count(*) FROM events"), 10);
    /* and the wrong way round is a usage error */
    tl_test_cli_check(tl_test_cli("migrate --from '%s' --to '%s'", pg, sq), 2, NULL, "sqlite:FILE");
}

/* An import into PostgreSQL is all or nothing: a bad line leaves the store as it was. */
static void test_import_all_or_nothing(void **state)
{
    (void)state;
    tl_test_pg_reset("atomic");
    const char *db = tl_test_pg_db("atomic");
    assert_int_equal(tl_test_write(tl_test_tmp("bad.tsv"), "user\titem\ttimestamp\n"
                                                           "u1\ti1\t100\n"
                                                           "u2\ti2\t200\n"
                                                           "u3\ti3\tnot-a-time\n"),
                     0);
    int rc = tl_test_cli("--db '%s' import events '%s'", db, tl_test_tmp("bad.tsv"));
    tl_test_cli_check(rc, 3, NULL, "bad.tsv");
    assert_int_equal(tl_test_pg_int("atomic", "SELECT count(*) FROM events"), 0);
    assert_int_equal(tl_test_pg_int("atomic", "SELECT count(*) FROM users"), 0);
}

/* Imports big enough for the bulk paths (ids looked up from a table read once, created in
 * blocks; events by COPY, then merged where keys exist) end as SQLite's do. */
static void test_bulk_import_as_sqlite(void **state)
{
    (void)state;
    tl_test_pg_reset("bulk");
    snprintf(pg, sizeof(pg), "%s", tl_test_pg_db("bulk"));
    snprintf(sq, sizeof(sq), "%s", tl_test_tmp("bulk.db"));
    size_t cap = 1 << 20, len = 0;
    char *a = malloc(cap), *b = malloc(cap);
    assert_non_null(a);
    assert_non_null(b);
    len += (size_t)snprintf(a + len, cap - len, "user\titem\ttype\tvalue\ttimestamp\n");
    for (int i = 0; i < 3000; i++) /* 300 patrons, 120 items, a few repeated keys */
        len += (size_t)snprintf(a + len, cap - len, "p%d\ti%d\t%s\t%d\t%d\n", i % 300,
                                (i * 7) % 120, i % 3 ? "loan" : "rate", i % 5, 1000 + i % 1500);
    /* the second file: half old keys with other values, half new patrons and items */
    size_t blen = (size_t)snprintf(b, cap, "user\titem\ttype\tvalue\ttimestamp\n");
    for (int i = 0; i < 2000; i++)
        blen += (size_t)snprintf(b + blen, cap - blen, "p%d\ti%d\t%s\t%d\t%d\n",
                                 i % 2 ? i % 300 : 300 + i, (i * 7) % (i % 2 ? 120 : 400),
                                 i % 3 ? "loan" : "rate", 4, 1000 + i % 1500);
    assert_int_equal(tl_test_write(tl_test_tmp("bulk1.tsv"), a), 0);
    assert_int_equal(tl_test_write(tl_test_tmp("bulk2.tsv"), b), 0);
    free(a);
    free(b);
    const char *files[] = {"bulk1.tsv", "bulk2.tsv", "bulk1.tsv"};
    for (int f = 0; f < 3; f++) {
        tl_test_cli_check(tl_test_cli("--db '%s' import events '%s'", sq, tl_test_tmp(files[f])), 0,
                          NULL, NULL);
        char *report_sq = tl_test_cli_out();
        tl_test_cli_check(tl_test_cli("--db '%s' import events '%s'", pg, tl_test_tmp(files[f])), 0,
                          NULL, NULL);
        char *report_pg = tl_test_cli_out();
        /* the same counts of events added, updated, unchanged, and of new users and items */
        char *cut_sq = strrchr(report_sq, '('), *cut_pg = strrchr(report_pg, '('); /* the time */
        assert_non_null(cut_sq);
        assert_non_null(cut_pg);
        *cut_sq = *cut_pg = '\0';
        assert_string_equal(strstr(report_sq, "rows,"), strstr(report_pg, "rows,"));
        free(report_sq);
        free(report_pg);
        assert_same_output("export events");
        char *stats_sq = out_of(sq, "stats --top 20"), *stats_pg = out_of(pg, "stats --top 20");
        assert_string_equal(strchr(stats_sq, '\n'), strchr(stats_pg, '\n')); /* after the store */
        free(stats_sq);
        free(stats_pg);
    }
}

int main(void)
{
    if (!tl_test_pg_start())
        return TL_TEST_SKIP;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_migrate_round_trip),
        cmocka_unit_test(test_import_all_or_nothing),
        cmocka_unit_test(test_bulk_import_as_sqlite),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
