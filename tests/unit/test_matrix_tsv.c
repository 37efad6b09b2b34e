/* Tests of the TSV -> matrices reader (src/ingest/matrix_tsv.c) that train, eval and tune use
 * for --data and --items: any number of columns, every line end, values and timestamps checked
 * at the door, damaged .gz refused; each error names file, line and field. */
#include "support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/data.h"
#include "ingest/matrix_tsv.h"
#include "tailor/ingest.h"

static const char *tmp_file(const char *name, const char *text)
{
    static char paths[4][512];
    static int next;
    char *p = paths[next++ % 4];
    snprintf(p, sizeof(paths[0]), "%s/%s", tl_test_tmpdir(), name);
    assert_int_equal(tl_test_write(p, text), 0);
    return p;
}

/* Loads path with the value as weight; returns the error (d released on failure). */
static tl_err load(tl_data *d, const char *path, tl_diag *diag)
{
    tl_tsv_opts o;
    tl_tsv_opts_init(&o);
    o.weighting = TL_WEIGHT_VALUE;
    tl_data_init(d);
    tl_err rc = tl_data_load_tsv(d, path, &o, diag);
    if (rc != TL_OK)
        tl_data_release(d);
    return rc;
}

/* The weight and timestamp of (user, item), asserting the cell exists. */
static void assert_cell(const tl_data *d, const char *user, const char *item, float w, int64_t ts)
{
    int32_t u = tl_intern_find(&d->users, user, strlen(user));
    int32_t i = tl_intern_find(&d->items, item, strlen(item));
    if (u < 0 || i < 0)
        fail_msg("%s or %s not loaded", user, item);
    for (int64_t k = d->ui.indptr[u]; k < d->ui.indptr[u + 1]; k++) {
        if (d->ui.indices[k] == i) {
            assert_true(d->ui.data[k] == w);
            if (d->ui.ts)
                assert_int_equal(d->ui.ts[k], ts);
            return;
        }
    }
    fail_msg("no cell (%s, %s)", user, item);
}

/* Far more columns than the old fixed array of 64, in any order. */
static void test_wide_files(void **state)
{
    (void)state;
    char *text = malloc(64 * 1024);
    assert_non_null(text);
    size_t off = 0;
    for (int c = 0; c < 150; c++)
        off += (size_t)sprintf(text + off, "%sextra%d", c ? "\t" : "", c);
    off += (size_t)sprintf(text + off, "\ttimestamp\tvalue\titem\tuser\n");
    for (int r = 0; r < 3; r++) {
        for (int c = 0; c < 150; c++)
            off += (size_t)sprintf(text + off, "x%d\t", c);
        off += (size_t)sprintf(text + off, "%d\t%d\ti%d\tu%d\n", 100 + r, r + 1, r, r % 2);
    }
    const char *p = tmp_file("wide.tsv", text);
    tl_data d;
    tl_diag diag;
    assert_int_equal(load(&d, p, &diag), TL_OK);
    assert_int_equal(d.users.count, 2);
    assert_int_equal(d.ui.nnz, 3);
    assert_cell(&d, "u0", "i2", 3.0f, 102);
    /* and an items file as wide, with its columns anywhere */
    off = 0;
    for (int c = 0; c < 100; c++)
        off += (size_t)sprintf(text + off, "note%d\t", c);
    off += (size_t)sprintf(text + off, "title\titem\n");
    for (int c = 0; c < 100; c++)
        off += (size_t)sprintf(text + off, "n\t");
    off += (size_t)sprintf(text + off, "Dune\ti1\n");
    p = tmp_file("wide_items.tsv", text);
    assert_int_equal(tl_data_load_items_tsv(&d, p, 0, &diag), TL_OK);
    assert_string_equal(d.cat.title[tl_intern_find(&d.items, "i1", 2)], "Dune");
    tl_data_release(&d);
    /* a field count that does not match the header names the line */
    p = tmp_file("ragged.tsv", "user\titem\nu1\ti1\nu2\ti2\tx\n");
    assert_int_equal(load(&d, p, &diag), TL_EPARSE);
    assert_int_equal(diag.line, 3);
    assert_non_null(strstr(diag.msg, "expected 2 fields, found 3"));
    free(text);
}

/* LF, CRLF and lone CR end lines. */
static void test_line_ends(void **state)
{
    (void)state;
    const char *texts[] = {
        "user\titem\tvalue\ttimestamp\ru1\ti1\t4\t100\ru2\ti2\t5\t200\r",
        "user\titem\tvalue\ttimestamp\r\nu1\ti1\t4\t100\nu2\ti2\t5\t200\r\n",
        "user\titem\tvalue\ttimestamp\nu1\ti1\t4\t100\r\n\r\ru2\ti2\t5\t200",
    };
    for (int k = 0; k < 3; k++) {
        tl_data d;
        tl_diag diag;
        assert_int_equal(load(&d, tmp_file("ends.tsv", texts[k]), &diag), TL_OK);
        assert_int_equal(d.ui.nnz, 2);
        assert_cell(&d, "u1", "i1", 4.0f, 100);
        assert_cell(&d, "u2", "i2", 5.0f, 200);
        tl_data_release(&d);
    }
}

/* Values finite and within TL_VALUE_MAX; timestamps within TL_TIME_MIN..TL_TIME_MAX. */
static void test_ranges(void **state)
{
    (void)state;
    static const struct {
        const char *row, *field, *msg;
    } bad[] = {
        {"u\ti\t1e308\t1", "value", "out of range"},
        {"u\ti\t-2e9\t1", "value", "out of range"},
        {"u\ti\tnan\t1", "value", "not a number"},
        {"u\ti\tinf\t1", "value", "not a number"},
        {"u\ti\t1e999\t1", "value", "not a number"},
        {"u\ti\t4\t9200000000000000000", "timestamp", "out of range"},
        {"u\ti\t4\t-5", "timestamp", "out of range"},
        {"u\ti\t4\t32503680001", "timestamp", "out of range"},
        {"u\ti\t4\t12x", "timestamp", "not an integer"},
    };
    char text[256];
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        snprintf(text, sizeof(text),
                 "user\titem\tvalue\ttimestamp\nok\tok\t-1e9\t32503680000\n%s\n", bad[k].row);
        tl_data d;
        tl_diag diag;
        const char *p = tmp_file("range.tsv", text);
        tl_err rc = load(&d, p, &diag);
        if (rc != TL_EPARSE || diag.line != 3 || strcmp(diag.field, bad[k].field) != 0 ||
            !strstr(diag.msg, bad[k].msg))
            fail_msg("%s: got %s at line %ld field '%s': %s", bad[k].row, tl_strerror(rc),
                     diag.line, diag.field, diag.msg);
        assert_string_equal(diag.file, p);
    }
}

/* A damaged .gz is an error, not a shorter data set. */
static void test_truncated_gz(void **state)
{
    (void)state;
    char path[600];
    const char *p = tmp_file("cut.tsv", "");
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs("user\titem\n", f);
    for (int i = 0; i < 30000; i++)
        fprintf(f, "u%d\ti%d\n", i % 100, i);
    fclose(f);
    snprintf(path, sizeof(path), "%s.gz", p);
    assert_int_equal(tl_test_sh("gzip -c '%s' | head -c 20000 > '%s'", p, path), 0);
    tl_data d;
    tl_diag diag;
    assert_int_equal(load(&d, path, &diag), TL_EPARSE);
    assert_string_equal(diag.file, path);
    assert_non_null(strstr(diag.msg, "truncated gzip stream"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wide_files),
        cmocka_unit_test(test_line_ends),
        cmocka_unit_test(test_ranges),
        cmocka_unit_test(test_truncated_gz),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
