/* The `tailor` command line as a hostile user meets it: strict numbers, empty and missing
 * values, generated help, one set of exit codes, and output that fails loudly (a full disk, a
 * closed stdout, an --out that must not be replaced) instead of exiting 0. */
#include "support.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A tiny store and model: three patrons, four items, from tests/data/import. */
static const char *store(void)
{
    static int made;
    const char *db = tl_test_tmp("opts.db");
    if (!made) {
        assert_int_equal(tl_test_cli("--db '%s' import events '%s' --quiet", db,
                                     tl_test_source("tests/data/import/events.tsv")),
                         0);
        made = 1;
    }
    return db;
}

static const char *model(void)
{
    static int made;
    const char *m = tl_test_tmp("opts.tlm");
    if (!made) {
        assert_int_equal(
            tl_test_cli("--db '%s' train --model popular --out '%s' --quiet", store(), m), 0);
        made = 1;
    }
    return m;
}

static void test_numbers_are_strict(void **state)
{
    (void)state;
    const char *m = model();
    const char *bad[] = {"2abc", "-1", "1e99", "", " 5", "0x10", "10001", "99999999999999999999"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = tl_test_cli("recommend --model '%s' --user u1 --n '%s'", m, bad[i]);
        tl_test_cli_check(rc, 2, NULL, "--n");
        char *out = tl_test_cli_out();
        assert_string_equal(out, ""); /* nothing ran */
        free(out);
    }
    tl_test_cli_check(tl_test_cli("recommend --model '%s' --user u1 --n", m), 2, NULL,
                      "--n needs a value");
    tl_test_cli_check(tl_test_cli("--db '%s' stats --top 5x", store()), 2, NULL, "--top");
    tl_test_cli_check(tl_test_cli("split a b --mode random --seed 4.5"), 2, NULL, "--seed");
    tl_test_cli_check(tl_test_cli("split a b --mode sideways"), 2, NULL,
                      "'sideways' is not one of random, temporal");
    tl_test_cli_check(tl_test_cli("synth --powerlaw --out x --zipf nan"), 2, NULL, "--zipf");
    tl_test_cli_check(tl_test_cli("train --model popular --out x --min-value 4q"), 2, NULL,
                      "--min-value");
    /* in range: runs */
    tl_test_cli_check(tl_test_cli("recommend --model '%s' --user u1 --n 2", m), 0, NULL, NULL);
}

static void test_usage_errors(void **state)
{
    (void)state;
    const char *m = model();
    tl_test_cli_check(tl_test_cli("--db '' stats"), 2, NULL, "--db needs a path");
    tl_test_cli_check(tl_test_cli("--db= stats"), 2, NULL, "--db needs a path");
    tl_test_cli_check(tl_test_cli("recommend --model '' --user u1"), 2, NULL,
                      "--model needs a value, not an empty string");
    tl_test_cli_check(tl_test_cli("recommend --model '%s' --user u1 --json=1", m), 2, NULL,
                      "--json takes no value");
    tl_test_cli_check(tl_test_cli("recommend --model '%s' --frobnicate", m), 2, NULL,
                      "unknown or ambiguous option '--frobnicate'");
    tl_test_cli_check(tl_test_cli("recommend --model '%s' --user u1 --history a", m), 2, NULL,
                      "exactly one of --user, --history and --users all");
    tl_test_cli_check(tl_test_cli("recommend --model '%s' --users some", m), 2, NULL,
                      "'some' is not one of all");
    tl_test_cli_check(tl_test_cli("train --model nosuch --out x"), 2, NULL, "unknown model");
    tl_test_cli_check(tl_test_cli("train --model popular --out x --data y --weights loan=1"), 2,
                      NULL, "--weights applies to the store");
    tl_test_cli_check(tl_test_cli("export"), 2, NULL, "missing argument");
    tl_test_cli_check(tl_test_cli("export users"), 2, NULL, "can export events");
    tl_test_cli_check(tl_test_cli("split onlyone --mode random"), 2, NULL, "missing argument");
    tl_test_cli_check(tl_test_cli("nosuchcommand"), 2, NULL, "unknown command");
    /* an unknown option is refused before anything is read or written */
    tl_test_cli_check(
        tl_test_cli("--db '%s' import events nofile.tsv --frobnicate", tl_test_tmp("u.db")), 2,
        NULL, "--frobnicate");
    assert_int_equal(access(tl_test_tmp("u.db"), F_OK), -1);
}

static void test_help_comes_from_the_tables(void **state)
{
    (void)state;
    const char *cmds[] = {"import", "stats", "export", "train", "recommend",
                          "split",  "eval",  "tune",   "synth"};
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        tl_test_cli_check(tl_test_cli("%s --help", cmds[i]), 0, "usage: tailor", NULL);
        char *out = tl_test_cli_out();
        assert_non_null(strstr(out, "  -h, --help"));
        free(out);
    }
    tl_test_cli_check(tl_test_cli("recommend --help"), 0, "(default 10; 1..10000)", NULL);
    tl_test_cli_check(tl_test_cli("recommend --help"), 0, "same key again means either", NULL);
    tl_test_cli_check(tl_test_cli("train --help"), 0, "--weights SPEC", NULL);
    tl_test_cli_check(tl_test_cli("train --help"), 0, "tailor stats --weights", NULL);
    tl_test_cli_check(tl_test_cli("--help"), 0, "130 interrupted", NULL);
    /* -h anywhere wins, and shows the defaults, not the values given */
    tl_test_cli_check(tl_test_cli("synth --users 5 -h"), 0, "(default 138000;", NULL);
}

static void test_full_disk_and_closed_stdout_fail(void **state)
{
    (void)state;
    const char *db = store(), *m = model();
    tl_test_cli_check(tl_test_cli("--db '%s' stats --json > /dev/full", db), 1, NULL,
                      "tailor: writing standard output: No space left on device");
    tl_test_cli_check(tl_test_cli("--db '%s' stats > /dev/full", db), 1, NULL,
                      "writing standard output: No space left on device");
    tl_test_cli_check(tl_test_cli("recommend --model '%s' --user u1 >&-", m), 1, NULL,
                      "writing standard output");
    tl_test_cli_check(tl_test_cli("--version > /dev/full"), 1, NULL, "No space left on device");
    tl_test_cli_check(tl_test_cli("recommend --model '%s' --users all --out /dev/full", m), 1, NULL,
                      "tailor: writing /dev/full: No space left on device");
    tl_test_cli_check(tl_test_cli("recommend --model '%s' --user u1 --out /dev/full --json", m), 1,
                      NULL, "/dev/full");
    tl_test_cli_check(tl_test_cli("recommend --model '%s' --users all --out '%s'", m,
                                  tl_test_tmp("no/such/dir/recs.tsv")),
                      1, NULL, "no/such/dir/recs.tsv: cannot create: No such file or directory");
    tl_test_cli_check(
        tl_test_cli("--db '%s' export events --out '%s'", db, tl_test_tmp("no/such/dir/ev.tsv")), 1,
        NULL, "cannot create");
}

static void test_broken_pipe_ends_quietly(void **state)
{
    (void)state;
    /* 3000 patrons: far more output than a pipe holds */
    const char *data = tl_test_tmp("many.tsv"), *m = tl_test_tmp("many.tlm");
    assert_int_equal(tl_test_sh("awk 'BEGIN { print \"user\\titem\"; for (u = 1; u <= 3000; u++) "
                                "for (i = 1; i <= 5; i++) print \"u\" u \"\\ti\" (u * i) %% 400 }' "
                                "> '%s'",
                                data),
                     0);
    assert_int_equal(tl_test_cli("train --model popular --data '%s' --out '%s' -q", data, m), 0);
    /* a long output into a reader that leaves at once: tailor's own status and stderr */
    int rc = tl_test_sh("bash -c '\"%s\" recommend --model \"%s\" --users all --n 1000 "
                        "2> \"%s\" | head -c 1 > /dev/null; echo ${PIPESTATUS[0]} > \"%s\"'",
                        tl_test_bin(), m, tl_test_tmp("pipe.err"), tl_test_tmp("pipe.rc"));
    assert_int_equal(rc, 0);
    char *st = tl_test_read(tl_test_tmp("pipe.rc")), *err = tl_test_read(tl_test_tmp("pipe.err"));
    assert_non_null(st);
    assert_non_null(err);
    /* ended by SIGPIPE (141, as for cat), quietly */
    if (atoi(st) != 141 || err[0])
        fail_msg("status %s, stderr '%s'", st, err);
    free(st);
    free(err);
}

static void test_train_out_is_a_regular_file_or_nothing(void **state)
{
    (void)state;
    const char *db = store();
    struct stat st;
    /* a FIFO stands for any device: it must stay what it is */
    const char *fifo = tl_test_tmp("model.fifo");
    assert_int_equal(tl_test_sh("mkfifo '%s'", fifo), 0);
    tl_test_cli_check(tl_test_cli("--db '%s' train --model popular --out '%s'", db, fifo), 2, NULL,
                      "is not a regular file (a device, FIFO or socket); refusing");
    assert_int_equal(lstat(fifo, &st), 0);
    assert_true(S_ISFIFO(st.st_mode));
    /* a directory, a dangling link, a missing directory: refused, nothing created */
    tl_test_cli_check(
        tl_test_cli("--db '%s' train --model popular --out '%s'", db, tl_test_tmpdir()), 2, NULL,
        "is a directory");
    const char *dangling = tl_test_tmp("dangling.tlm");
    assert_int_equal(tl_test_sh("ln -s '%s' '%s'", tl_test_tmp("nowhere/x.tlm"), dangling), 0);
    tl_test_cli_check(tl_test_cli("--db '%s' train --model popular --out '%s'", db, dangling), 2,
                      NULL, "symbolic link to a missing file");
    tl_test_cli_check(
        tl_test_cli("--db '%s' train --model popular --out '%s'", db, tl_test_tmp("nowhere/x.tlm")),
        1, NULL, "cannot create: No such file or directory");
    /* a link to a regular file: the file gets the model, the link stays a link */
    const char *real = tl_test_tmp("real.tlm"), *link = tl_test_tmp("link.tlm");
    assert_int_equal(tl_test_write(real, "old"), 0);
    assert_int_equal(tl_test_sh("ln -s real.tlm '%s'", link), 0);
    tl_test_cli_check(tl_test_cli("--db '%s' train --model popular --out '%s' -q", db, link), 0,
                      NULL, NULL);
    assert_int_equal(lstat(link, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    assert_int_equal(stat(real, &st), 0);
    assert_true(st.st_size > 64);
    tl_test_cli_check(tl_test_cli("recommend --model '%s' --user u1", link), 0, NULL, NULL);
    /* no temporary file is left beside it */
    assert_int_equal(tl_test_sh("ls -a '%s' | grep -q '\\.tmp-'", tl_test_tmpdir()), 1);
}

static void test_train_prints_short_floats(void **state)
{
    (void)state;
    tl_test_cli_check(tl_test_cli("--db '%s' train --model itemknn --set autotune=0 --set "
                                  "alpha=0.3 --out '%s'",
                                  store(), tl_test_tmp("knn.tlm")),
                      0, NULL, " alpha=0.3 ");
    char *err = tl_test_cli_err();
    assert_null(strstr(err, "0.29999"));
    free(err);
}

static void test_stats_weights(void **state)
{
    (void)state;
    const char *db = tl_test_tmp("weights.db");
    assert_int_equal(tl_test_cli("--db '%s' import events '%s' --quiet --weights view=0.1", db,
                                 tl_test_source("tests/data/import/events.tsv")),
                     0);
    tl_test_cli_check(tl_test_cli("--db '%s' stats --weights", db), 0, "saved overrides", NULL);
    char *out = tl_test_cli_out();
    assert_non_null(strstr(out, "  loan         1"));
    assert_non_null(strstr(out, "  view         0.1"));
    assert_non_null(strstr(out, "view=0.1"));
    free(out);
    tl_test_cli_check(tl_test_cli("--db '%s' stats --weights --json", db), 0, NULL, NULL);
    out = tl_test_cli_out();
    json_error_t e;
    json_t *j = json_loads(out, 0, &e);
    if (!j)
        fail_msg("not JSON: %s\n%s", e.text, out);
    json_t *types = json_object_get(json_object_get(j, "event_weights"), "types");
    assert_true(json_real_value(json_object_get(types, "view")) == 0.1);
    assert_true(json_real_value(json_object_get(types, "hold")) == 0.8); /* not 0.800000011... */
    json_decref(j);
    free(out);
}

/* synth --shape writes a data set that split and eval read; the same seed gives the same bytes,
 * a wrong shape or option is a usage error naming it. */
static void test_synth_shape(void **state)
{
    (void)state;
    const char *a = tl_test_tmp("shape-a"), *b = tl_test_tmp("shape-b");
    for (int k = 0; k < 2; k++)
        tl_test_cli_check(tl_test_cli("synth --shape short --set users=200 --set pairs=2000 "
                                      "--out '%s'",
                                      k ? b : a),
                          0, "200 users", NULL);
    char pa[512], pb[512];
    snprintf(pa, sizeof(pa), "%s/interactions.tsv", a);
    snprintf(pb, sizeof(pb), "%s/interactions.tsv", b);
    char *ta = tl_test_read(pa), *tb = tl_test_read(pb);
    assert_non_null(ta);
    assert_non_null(tb);
    assert_string_equal(ta, tb);
    assert_true(strncmp(ta, "user\titem\tvalue\ttimestamp\n", 26) == 0);
    int lines = 0;
    for (const char *p = ta; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 2001);
    free(ta);
    free(tb);
    tl_test_cli_check(tl_test_cli("split '%s' '%s/split' --mode temporal --implicit", pa, a), 0,
                      NULL, NULL);
    tl_test_cli_check(tl_test_cli("synth --shape nope --out '%s'", a), 2, NULL,
                      "'nope' is not a shape (the shapes: articles, music");
    tl_test_cli_check(tl_test_cli("synth --shape short --set colour=red --out '%s'", a), 2, NULL,
                      "'colour=red' is not an option");
    tl_test_cli_check(tl_test_cli("synth --powerlaw --set users=3 --out '%s'", a), 2, NULL,
                      "--set goes with --shape");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_numbers_are_strict),
        cmocka_unit_test(test_usage_errors),
        cmocka_unit_test(test_help_comes_from_the_tables),
        cmocka_unit_test(test_full_disk_and_closed_stdout_fail),
        cmocka_unit_test(test_broken_pipe_ends_quietly),
        cmocka_unit_test(test_train_out_is_a_regular_file_or_nothing),
        cmocka_unit_test(test_train_prints_short_floats),
        cmocka_unit_test(test_stats_weights),
        cmocka_unit_test(test_synth_shape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
