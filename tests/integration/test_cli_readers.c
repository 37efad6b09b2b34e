/* The commands that read TSV files besides import (train, eval, split) end to end: wide files,
 * line ends, values out of range and damaged .gz files give an exit code and a message naming
 * file, line and field, never a crash or a silently smaller data set. */
#include "support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *tmp(const char *name)
{
    static char bufs[8][1024];
    static int next;
    char *b = bufs[next++ % 8];
    snprintf(b, sizeof(bufs[0]), "%s/%s", tl_test_tmpdir(), name);
    return b;
}

/* Runs `tailor ARGS 2> err`; returns the exit code (-1 when killed by a signal). */
static int tailor(const char *args)
{
    return tl_test_sh("'%s' %s > '%s' 2> '%s'", tl_test_bin(), args, tmp("out.txt"),
                      tmp("err.txt"));
}

static void expect_error(const char *args, int code, const char *part)
{
    int rc = tailor(args);
    char *e = tl_test_read(tmp("err.txt"));
    assert_non_null(e);
    if (rc != code || !strstr(e, part))
        fail_msg("tailor %s: exit %d (want %d), stderr '%s' (want '%s')", args, rc, code, e, part);
    free(e);
}

/* A TSV with 80 columns, user and item among the last. */
static const char *write_wide(const char *name, int rows)
{
    const char *p = tmp(name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    for (int c = 0; c < 78; c++)
        fprintf(f, "c%d\t", c);
    fputs("user\titem\n", f);
    for (int r = 0; r < rows; r++) {
        for (int c = 0; c < 78; c++)
            fprintf(f, "%d\t", c);
        fprintf(f, "u%d\ti%d\n", r % 7, r % 11);
    }
    fclose(f);
    return p;
}

static void test_train_and_eval_wide_files(void **state)
{
    (void)state;
    char args[4096];
    const char *wide = write_wide("wide.tsv", 60);
    snprintf(args, sizeof(args), "train --model popular --data '%s' --out '%s'", wide,
             tmp("m.tlm"));
    assert_int_equal(tailor(args), 0);
    const char *test = tmp("test.tsv");
    assert_int_equal(tl_test_write(test, "user\titem\nu1\ti3\n"), 0);
    snprintf(args, sizeof(args), "eval --train '%s' --test '%s' --model popular --json", wide,
             test);
    assert_int_equal(tailor(args), 0);
}

static void test_values_checked_at_the_door(void **state)
{
    (void)state;
    char args[2048];
    const char *p = tmp("huge.tsv");
    assert_int_equal(tl_test_write(p, "user\titem\tvalue\ttimestamp\nu1\ti1\t4\t100\n"
                                      "u2\ti1\t1e308\t100\nu2\ti2\t5\t100\n"),
                     0);
    snprintf(args, sizeof(args), "train --model popular --data '%s' --value-weights --out '%s'", p,
             tmp("h.tlm"));
    expect_error(args, 3, "huge.tsv:3: field 'value': ");
    assert_int_equal(tl_test_write(p, "user\titem\tvalue\ttimestamp\nu1\ti1\t4\t100\n"
                                      "u2\ti1\t4\t9200000000000000000\n"),
                     0);
    snprintf(args, sizeof(args), "train --model popular --data '%s' --out '%s'", p, tmp("h.tlm"));
    expect_error(args, 3, "huge.tsv:3: field 'timestamp': ");
}

/* split.py reads LF-ended lines; a file whose lines end in a lone CR is refused with a hint
 * (split.py would refuse it too, or split one giant line into nothing). */
static void test_split_cr_only_file(void **state)
{
    (void)state;
    char args[2048];
    const char *p = tmp("mac.tsv");
    assert_int_equal(tl_test_write(p, "user\titem\tvalue\ttimestamp\ru1\ti1\t5\t1\ru1\ti2\t5\t2\r"),
                     0);
    snprintf(args, sizeof(args), "split '%s' '%s' --mode random", p, tmp("mac-out"));
    expect_error(args, 3, "mac.tsv:1: header must be user, item, value, timestamp (");
    expect_error(args, 3, "carriage return");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_train_and_eval_wide_files),
        cmocka_unit_test(test_values_checked_at_the_door),
        cmocka_unit_test(test_split_cr_only_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
