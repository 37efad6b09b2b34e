/* The `tailor import` and `tailor stats` commands end to end: exit codes, the ml-100k counts
 * of its SOURCE.md, idempotent re-imports, and that a rejected file leaves the store as it was. */
#include "support.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *path_in_tmp(const char *name)
{
    static char bufs[4][512];
    static int next;
    char *b = bufs[next++ % 4];
    snprintf(b, sizeof(bufs[0]), "%s/%s", tl_test_tmpdir(), name);
    return b;
}

static char out_path[512], err_path[512];

/* Runs `tailor --db DB ARGS > out 2> err`; returns the exit code. */
static int tailor(const char *db, const char *args)
{
    if (!out_path[0]) {
        snprintf(out_path, sizeof(out_path), "%s/out.txt", tl_test_tmpdir());
        snprintf(err_path, sizeof(err_path), "%s/err.txt", tl_test_tmpdir());
    }
    return tl_test_sh("'%s' --db '%s' %s > '%s' 2> '%s'", tl_test_bin(), db, args, out_path,
                      err_path);
}

static char *out_text(void)
{
    char *s = tl_test_read(out_path);
    assert_non_null(s);
    return s;
}

static char *err_text(void)
{
    char *s = tl_test_read(err_path);
    assert_non_null(s);
    return s;
}

typedef struct stats {
    long long users, items, events;
} stats;

static stats stats_json(const char *db)
{
    assert_int_equal(tailor(db, "stats --json"), 0);
    char *text = out_text();
    json_error_t err;
    json_t *j = json_loads(text, 0, &err);
    if (!j)
        fail_msg("stats --json is not JSON: %s\n%s", err.text, text);
    stats s = {json_integer_value(json_object_get(j, "users")),
               json_integer_value(json_object_get(j, "items")),
               json_integer_value(json_object_get(j, "events"))};
    assert_true(json_is_integer(json_object_get(j, "users")));
    assert_true(json_is_object(json_object_get(j, "events_by_type")));
    assert_true(json_is_array(json_object_get(j, "top_items")));
    json_decref(j);
    free(text);
    return s;
}

static void test_help_and_usage(void **state)
{
    (void)state;
    const char *db = path_in_tmp("none.db");
    assert_int_equal(tailor(db, "import --help"), 0);
    char *o = out_text();
    assert_non_null(strstr(o, "--skip-bad"));
    assert_non_null(strstr(o, "--dry-run"));
    free(o);
    assert_int_equal(tailor(db, "stats --help"), 0);
    o = out_text();
    assert_non_null(strstr(o, "--json"));
    free(o);
    assert_int_equal(tailor(db, "import"), 2);
    assert_int_equal(tailor(db, "import bananas x.tsv"), 2);
    assert_int_equal(tailor(db, "import events x.tsv --frobnicate"), 2);
    assert_int_equal(tailor(db, "import events x.tsv --format xml"), 2);
    assert_int_equal(tailor(db, "stats --bogus"), 2);
    /* no store yet: stats fails and says so; nothing was created by any of this */
    assert_int_equal(tailor(db, "stats"), 1);
    char *e = err_text();
    assert_non_null(strstr(e, "no Tailor store at"));
    free(e);
    assert_int_equal(access(db, F_OK), -1);
}

static void test_ml100k_counts(void **state)
{
    (void)state;
    const char *data = tl_test_shared("data/ml-100k/interactions.tsv");
    if (!data) {
        printf("skipped: ../shared is absent\n");
        return;
    }
    const char *db = path_in_tmp("ml100k.db");
    char args[1200];
    snprintf(args, sizeof(args), "import events '%s'", data);
    assert_int_equal(tailor(db, args), 0);
    char *o = out_text();
    assert_non_null(strstr(o, "100000 rows, 100000 added"));
    free(o);
    assert_int_equal(tailor(db, "stats"), 0);
    o = out_text();
    assert_non_null(strstr(o, "\nusers 943\n"));
    assert_non_null(strstr(o, "\nitems 1682\n"));
    assert_non_null(strstr(o, "\nevents 100000\n"));
    assert_non_null(strstr(o, "  rate 100000\n"));
    assert_non_null(strstr(o, " 1. 50  583 events")); /* Star Wars, the most rated */
    free(o);
    stats s = stats_json(db);
    assert_int_equal(s.users, 943);
    assert_int_equal(s.items, 1682);
    assert_int_equal(s.events, 100000);
    /* again: nothing changes */
    assert_int_equal(tailor(db, args), 0);
    o = out_text();
    assert_non_null(strstr(o, "0 added, 0 updated, 100000 unchanged"));
    free(o);
    s = stats_json(db);
    assert_int_equal(s.users, 943);
    assert_int_equal(s.items, 1682);
    assert_int_equal(s.events, 100000);
    /* the catalogue gives the top items their titles; the matrices load */
    const char *items = tl_test_shared("data/ml-100k/items.tsv");
    if (items) {
        snprintf(args, sizeof(args), "import items '%s' --type video", items);
        assert_int_equal(tailor(db, args), 0);
        assert_int_equal(tailor(db, "stats --matrix"), 0);
        o = out_text();
        assert_non_null(strstr(o, "583 events  Star Wars (1977)"));
        assert_non_null(strstr(o, "matrix 943 x 1682"));
        free(o);
        s = stats_json(db);
        assert_int_equal(s.items, 1682);
    }
}

static void test_rejected_file_changes_nothing(void **state)
{
    (void)state;
    const char *db = path_in_tmp("reject.db");
    char args[1200];
    snprintf(args, sizeof(args), "import events '%s' --quiet",
             tl_test_source("tests/data/import/events.tsv"));
    assert_int_equal(tailor(db, args), 0);
    stats before = stats_json(db);
    const char *bad[] = {"events_bad_fields.tsv", "events_bad_number.tsv", "events_bad_utf8.tsv",
                         "events_bad_json.jsonl", "events_empty_id.tsv"};
    const char *where[] = {
        "events_bad_fields.tsv:4: field 'timestamp'", "events_bad_number.tsv:3: field 'value'",
        "events_bad_utf8.tsv:3: field 'item'", "events_bad_json.jsonl:2: invalid JSON",
        "events_empty_id.tsv:3: field 'user'"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char file[1024];
        snprintf(file, sizeof(file), "%s%s", tl_test_source("tests/data/import/"), bad[i]);
        snprintf(args, sizeof(args), "import events '%s'", file);
        assert_int_equal(tailor(db, args), 3);
        char *e = err_text();
        if (!strstr(e, where[i]))
            fail_msg("error for %s should say '%s': %s", bad[i], where[i], e);
        assert_non_null(strstr(e, "nothing was imported"));
        free(e);
        stats after = stats_json(db);
        assert_int_equal(after.users, before.users);
        assert_int_equal(after.items, before.items);
        assert_int_equal(after.events, before.events);
    }
    snprintf(args, sizeof(args), "import events '%s' --strict",
             tl_test_source("tests/data/import/events_unknown_user.tsv"));
    assert_int_equal(tailor(db, args), 3);
    char *e = err_text();
    assert_non_null(strstr(e, "field 'item'"));
    free(e);
    /* with --skip-bad the good lines go in and the bad ones are listed */
    snprintf(args, sizeof(args), "import events '%s' --skip-bad",
             tl_test_source("tests/data/import/events_mixed_bad.tsv"));
    assert_int_equal(tailor(db, args), 0);
    e = err_text();
    assert_non_null(strstr(e, "skipped 4 bad lines of 7"));
    assert_non_null(strstr(e, "1 wrong field count (line 3)"));
    free(e);
    stats after = stats_json(db);
    assert_int_equal(after.events, before.events + 3);
}

static void test_dry_run_creates_nothing(void **state)
{
    (void)state;
    const char *db = path_in_tmp("dry.db");
    char args[1200];
    snprintf(args, sizeof(args), "import items '%s' --dry-run",
             tl_test_source("tests/data/import/items.csv"));
    assert_int_equal(tailor(db, args), 0);
    char *o = out_text();
    assert_non_null(strstr(o, "dry run"));
    assert_non_null(strstr(o, "3 added"));
    free(o);
    assert_int_equal(access(db, F_OK), -1);
}

/* A .gz cut short is bad input (exit 3) naming the file, even with --skip-bad, and nothing of
 * it is imported; a header without rows imports nothing and says so. */
static void test_truncated_gz_and_empty_file(void **state)
{
    (void)state;
    const char *db = path_in_tmp("gz.db");
    const char *plain = path_in_tmp("cut.tsv");
    const char *gz = path_in_tmp("cut.tsv.gz");
    FILE *f = fopen(plain, "w");
    assert_non_null(f);
    fputs("user\titem\tvalue\ttimestamp\n", f);
    for (int i = 0; i < 20000; i++)
        fprintf(f, "t%d\tj%d\t4\t%d\n", i % 300, i % 1000, 1000 + i);
    fclose(f);
    char args[1200];
    snprintf(args, sizeof(args), "import events '%s' --quiet",
             tl_test_source("tests/data/import/events.tsv"));
    assert_int_equal(tailor(db, args), 0);
    stats before = stats_json(db);
    /* the first half of the compressed bytes */
    assert_int_equal(tl_test_sh("gzip -c '%s' > '%s.full' && head -c $(( $(stat -c %%s '%s.full') "
                                "/ 2 )) '%s.full' > '%s'",
                                plain, gz, gz, gz, gz),
                     0);
    for (int skip = 0; skip < 2; skip++) {
        snprintf(args, sizeof(args), "import events '%s'%s", gz, skip ? " --skip-bad" : "");
        assert_int_equal(tailor(db, args), 3);
        char *e = err_text();
        if (!strstr(e, "cut.tsv.gz:") || !strstr(e, "truncated gzip stream (unexpected end after "))
            fail_msg("the error should name the file and say it is truncated: %s", e);
        assert_non_null(strstr(e, "nothing was imported"));
        assert_null(strstr(e, "use --skip-bad"));
        free(e);
        stats after = stats_json(db);
        assert_int_equal(after.users, before.users);
        assert_int_equal(after.items, before.items);
        assert_int_equal(after.events, before.events);
    }
    /* the whole file goes in */
    snprintf(args, sizeof(args), "import events '%s.full' --format tsv", gz);
    assert_int_equal(tailor(db, args), 0);
    assert_int_equal(stats_json(db).events, before.events + 20000);
    /* a header and no rows: exit 0, and stderr says that there was nothing to import */
    const char *empty = path_in_tmp("header_only.tsv");
    assert_int_equal(tl_test_write(empty, "user\titem\n"), 0);
    snprintf(args, sizeof(args), "import events '%s'", empty);
    assert_int_equal(tailor(db, args), 0);
    char *e = err_text();
    if (!strstr(e, "header_only.tsv has no rows"))
        fail_msg("an empty import should say so on stderr: '%s'", e);
    free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help_and_usage),
        cmocka_unit_test(test_ml100k_counts),
        cmocka_unit_test(test_rejected_file_changes_nothing),
        cmocka_unit_test(test_dry_run_creates_nothing),
        cmocka_unit_test(test_truncated_gz_and_empty_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
