/* Tests of the CSV/TSV record reader (src/ingest/csv.c): splitting, RFC 4180 quoting, gzip,
 * limits, UTF-8 validation, and that diagnostics name the line and field. */
#include "support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "ingest/csv.h"

static const char *tmp_file(const char *name, const char *text)
{
    static char paths[4][512];
    static int next;
    char *p = paths[next++ % 4];
    snprintf(p, sizeof(paths[0]), "%s/%s", tl_test_tmpdir(), name);
    assert_int_equal(tl_test_write(p, text), 0);
    return p;
}

static tl_csv *open_csv(const char *path, char delim, int quoting, size_t max_field)
{
    tl_csv_opts o = {.delim = delim, .quoting = quoting, .max_field = max_field};
    tl_csv *r = NULL;
    tl_diag d;
    assert_int_equal(tl_csv_open(path, &o, &r, &d), TL_OK);
    assert_non_null(r);
    return r;
}

static void test_tsv_plain(void **state)
{
    (void)state;
    const char *p = tmp_file("a.tsv", "user\titem\tvalue\n1\t2\t3.5\n\n10\t20\t\r\n");
    tl_csv *r = open_csv(p, '\t', 0, 0);
    char **f;
    size_t *l;
    int n;
    tl_diag d;
    assert_int_equal(tl_csv_next(r, &f, &l, &n, &d), 1);
    assert_int_equal(n, 3);
    assert_string_equal(f[2], "value");
    assert_int_equal(tl_csv_line(r), 1);
    assert_int_equal(tl_csv_next(r, &f, &l, &n, &d), 1);
    assert_string_equal(f[0], "1");
    assert_string_equal(f[2], "3.5");
    assert_int_equal(l[2], 3);
    /* the empty line 3 is skipped; CRLF is stripped; an empty last field is kept */
    assert_int_equal(tl_csv_next(r, &f, &l, &n, &d), 1);
    assert_int_equal(tl_csv_line(r), 4);
    assert_int_equal(n, 3);
    assert_string_equal(f[1], "20");
    assert_int_equal(l[2], 0);
    assert_int_equal(tl_csv_next(r, &f, &l, &n, &d), 0);
    assert_true(tl_csv_offset(r) > 0);
    tl_csv_close(r);
}

static void test_csv_quoting(void **state)
{
    (void)state;
    const char *p = tmp_file("q.csv", "id,title,note\n"
                                      "1,\"Smith, John\",\"He said \"\"hi\"\"\"\n"
                                      "2,\"two\nlines\",\"\"\n"
                                      "3,plain \"quote\" inside,x\n");
    tl_csv *r = open_csv(p, ',', 1, 0);
    char **f;
    size_t *l;
    int n;
    tl_diag d;
    assert_int_equal(tl_csv_next(r, &f, &l, &n, &d), 1);
    assert_int_equal(tl_csv_next(r, &f, &l, &n, &d), 1);
    assert_int_equal(n, 3);
    assert_string_equal(f[1], "Smith, John");
    assert_string_equal(f[2], "He said \"hi\"");
    assert_int_equal(l[2], strlen("He said \"hi\""));
    assert_int_equal(tl_csv_next(r, &f, &l, &n, &d), 1);
    assert_int_equal(tl_csv_line(r), 3);
    assert_int_equal(n, 3);
    assert_string_equal(f[1], "two\nlines");
    assert_int_equal(l[2], 0);
    /* a quote inside an unquoted field is taken literally */
    assert_int_equal(tl_csv_next(r, &f, &l, &n, &d), 1);
    assert_int_equal(tl_csv_line(r), 5);
    assert_string_equal(f[1], "plain \"quote\" inside");
    assert_int_equal(tl_csv_next(r, &f, &l, &n, &d), 0);
    tl_csv_close(r);
}

static void test_csv_bad_quote_names_field(void **state)
{
    (void)state;
    const char *p = tmp_file("bq.csv", "a,b\n\"x\"y,2\nok,3\n\"open,4\n");
    tl_csv *r = open_csv(p, ',', 1, 0);
    char *names[] = {"alpha", "beta"};
    assert_int_equal(tl_csv_set_names(r, names, 2), TL_OK);
    char **f;
    size_t *l;
    int n;
    tl_diag d;
    assert_int_equal(tl_csv_next(r, &f, &l, &n, &d), 1);
    assert_int_equal(tl_csv_next(r, &f, &l, &n, &d), -TL_EPARSE);
    assert_int_equal(d.line, 2);
    assert_string_equal(d.field, "alpha");
    assert_int_equal(tl__csv_reason(r), TL_CSV_BAD_QUOTE);
    /* the reader goes on after a bad record */
    assert_int_equal(tl_csv_next(r, &f, &l, &n, &d), 1);
    assert_string_equal(f[0], "ok");
    assert_int_equal(tl_csv_next(r, &f, &l, &n, &d), -TL_EPARSE);
    assert_int_equal(d.line, 4);
    assert_non_null(strstr(d.msg, "never closed"));
    tl_csv_close(r);
}

static void test_gzip(void **state)
{
    (void)state;
    char p[512];
    snprintf(p, sizeof(p), "%s/z.tsv.gz", tl_test_tmpdir());
    gzFile gz = gzopen(p, "wb");
    assert_non_null(gz);
    gzputs(gz, "user\titem\n");
    for (int i = 0; i < 1000; i++)
        gzprintf(gz, "u%d\ti%d\n", i, i * 7);
    gzclose(gz);
    tl_csv *r = open_csv(p, '\t', 0, 0);
    char **f;
    size_t *l;
    int n, rows = 0;
    tl_diag d;
    assert_int_equal(tl_csv_next(r, &f, &l, &n, &d), 1);
    while (tl_csv_next(r, &f, &l, &n, &d) == 1) {
        char want[32];
        snprintf(want, sizeof(want), "i%d", rows * 7);
        assert_string_equal(f[1], want);
        rows++;
    }
    assert_int_equal(rows, 1000);
    assert_int_equal(tl_csv_line(r), 1001);
    tl_csv_close(r);
}

static void test_limits_and_utf8(void **state)
{
    (void)state;
    char *big = malloc(200);
    memset(big, 'x', 199);
    big[199] = '\0';
    char text[1024];
    snprintf(text, sizeof(text),
             "a\tb\nok\t\xc3\xa9t\xc3\xa9\n%s\t1\nbad\t\xc3\x28\nover\t\xed\xa0\x80\nz\t1\n", big);
    free(big);
    const char *p = tmp_file("lim.tsv", text);
    tl_csv *r = open_csv(p, '\t', 0, 100);
    char **f;
    size_t *l;
    int n;
    tl_diag d;
    assert_int_equal(tl_csv_next(r, &f, &l, &n, &d), 1);
    assert_int_equal(tl_csv_next(r, &f, &l, &n, &d), 1);
    assert_string_equal(f[1], "\xc3\xa9t\xc3\xa9");
    assert_int_equal(tl_csv_next(r, &f, &l, &n, &d), -TL_EPARSE);
    assert_int_equal(tl__csv_reason(r), TL_CSV_TOO_LONG);
    assert_int_equal(d.line, 3);
    assert_string_equal(d.field, "#1");
    assert_int_equal(tl_csv_next(r, &f, &l, &n, &d), -TL_EPARSE);
    assert_int_equal(tl__csv_reason(r), TL_CSV_BAD_UTF8);
    assert_int_equal(d.line, 4);
    assert_string_equal(d.field, "#2");
    /* an encoded surrogate is not UTF-8 */
    assert_int_equal(tl_csv_next(r, &f, &l, &n, &d), -TL_EPARSE);
    assert_int_equal(d.line, 5);
    assert_int_equal(tl_csv_next(r, &f, &l, &n, &d), 1);
    assert_string_equal(f[0], "z");
    tl_csv_close(r);
}

static void test_utf8_check(void **state)
{
    (void)state;
    assert_int_equal(tl_utf8_check("plain ascii text, long enough", 29), -1);
    assert_int_equal(tl_utf8_check("\xf0\x9f\x93\x9a books", 10), -1);
    assert_int_equal(tl_utf8_check("abc\xc0\xaf", 5), 3);       /* overlong */
    assert_int_equal(tl_utf8_check("abcdefgh\xe2\x82", 10), 8); /* truncated */
    assert_int_equal(tl_utf8_check("\xf4\x90\x80\x80", 4), 0);  /* above U+10FFFF */
    assert_int_equal(tl_utf8_check("abcdefghij\0k", 12), 10);   /* NUL */
}

static void test_bom_and_very_long_line(void **state)
{
    (void)state;
    char p[512];
    snprintf(p, sizeof(p), "%s/long.tsv", tl_test_tmpdir());
    FILE *fp = fopen(p, "wb");
    assert_non_null(fp);
    fputs("\xEF\xBB\xBFuser\titem\n", fp);
    for (int i = 0; i < 3 * 1024 * 1024; i++) /* a 3 MiB line: over every buffer */
        fputc('y', fp);
    fputs("\nu1\ti1\n", fp);
    fclose(fp);
    tl_csv *r = open_csv(p, '\t', 0, 0);
    char **f;
    size_t *l;
    int n;
    tl_diag d;
    assert_int_equal(tl_csv_next(r, &f, &l, &n, &d), 1);
    assert_string_equal(f[0], "user");
    assert_int_equal(tl_csv_next(r, &f, &l, &n, &d), -TL_EPARSE);
    assert_int_equal(d.line, 2);
    assert_int_equal(tl__csv_reason(r), TL_CSV_TOO_LONG);
    assert_int_equal(tl_csv_next(r, &f, &l, &n, &d), 1);
    assert_string_equal(f[1], "i1");
    assert_int_equal(tl_csv_line(r), 3);
    assert_int_equal(tl_csv_next(r, &f, &l, &n, &d), 0);
    tl_csv_close(r);
}

/* A quoted field over the record limit, on one line or over many, holding lines that look like
 * records: one bad record, and the next call starts at the real next record. */
static void test_long_quoted_record_resyncs(void **state)
{
    (void)state;
    char p[512];
    snprintf(p, sizeof(p), "%s/longq.csv", tl_test_tmpdir());
    FILE *fp = fopen(p, "wb");
    assert_non_null(fp);
    fputs("a,b\n1,\"", fp);
    for (int i = 0; i < 1500000; i++)                /* one line of 1.5 MB inside the quotes */
        fputc((i + 428) % 1000 < 2 ? '"' : 'x', fp); /* "" pairs, one across two pieces */
    fputs("\nfake,row\n\"\n2,\"", fp);
    for (int i = 0; i < 130000; i++) /* 1.1 MB over many lines */
        fputs("fake,row\n", fp);
    fputs("\"\n3,ok\n", fp);
    fclose(fp);
    tl_csv *r = open_csv(p, ',', 1, 0);
    char **f;
    size_t *l;
    int n;
    tl_diag d;
    assert_int_equal(tl_csv_next(r, &f, &l, &n, &d), 1);
    assert_int_equal(tl_csv_next(r, &f, &l, &n, &d), -TL_EPARSE);
    assert_int_equal(tl__csv_reason(r), TL_CSV_TOO_LONG);
    assert_int_equal(d.line, 2);
    assert_string_equal(d.field, "#2");
    assert_non_null(strstr(d.msg, "record longer than 1 MiB (lines 2 to 4)"));
    assert_int_equal(tl_csv_next(r, &f, &l, &n, &d), -TL_EPARSE);
    assert_int_equal(d.line, 5);
    assert_int_equal(tl_csv_next(r, &f, &l, &n, &d), 1);
    assert_int_equal(tl_csv_line(r), 130006);
    assert_string_equal(f[0], "3");
    assert_string_equal(f[1], "ok");
    assert_int_equal(tl_csv_next(r, &f, &l, &n, &d), 0);
    tl_csv_close(r);
}

/* Raw fields keep any byte; LF-only lines keep a lone CR and a byte-order mark as data, and
 * drop every CR before the LF (Python's rstrip(b"\r\n")). */
static void test_raw_and_lf_only(void **state)
{
    (void)state;
    char p[512];
    snprintf(p, sizeof(p), "%s/raw.tsv", tl_test_tmpdir());
    FILE *fp = fopen(p, "wb");
    assert_non_null(fp);
    fwrite("\xEF\xBB\xBFu\ti\na\rb\t\xff\0z\r\r\n\r\n", 1, 19, fp);
    fclose(fp);
    tl_csv_opts o = {.delim = '\t', .raw = 1, .lf_only = 1};
    tl_csv *r = NULL;
    char **f;
    size_t *l;
    int n;
    tl_diag d;
    assert_int_equal(tl_csv_open(p, &o, &r, &d), TL_OK);
    assert_int_equal(tl_csv_next(r, &f, &l, &n, &d), 1);
    assert_string_equal(f[0], "\xEF\xBB\xBFu");
    assert_int_equal(tl_csv_next(r, &f, &l, &n, &d), 1);
    assert_int_equal(n, 2);
    assert_string_equal(f[0], "a\rb");
    assert_int_equal(l[1], 3);
    assert_memory_equal(f[1], "\xff\0z", 3);
    assert_int_equal(tl_csv_next(r, &f, &l, &n, &d), 0); /* "\r\n": a blank line */
    tl_csv_close(r);
}

/* No fixed column count: wide records are fine up to TL_CSV_MAX_FIELDS, then an error. */
static void test_many_fields(void **state)
{
    (void)state;
    char p[512];
    snprintf(p, sizeof(p), "%s/wide.tsv", tl_test_tmpdir());
    FILE *fp = fopen(p, "wb");
    assert_non_null(fp);
    for (int c = 0; c < TL_CSV_MAX_FIELDS; c++)
        fprintf(fp, "%s%d", c ? "\t" : "", c);
    fputc('\n', fp);
    for (int c = 0; c <= TL_CSV_MAX_FIELDS; c++)
        fprintf(fp, "%s%d", c ? "\t" : "", c);
    fputs("\nlast\n", fp);
    fclose(fp);
    tl_csv *r = open_csv(p, '\t', 0, 0);
    char **f;
    size_t *l;
    int n;
    tl_diag d;
    assert_int_equal(tl_csv_next(r, &f, &l, &n, &d), 1);
    assert_int_equal(n, TL_CSV_MAX_FIELDS);
    assert_string_equal(f[TL_CSV_MAX_FIELDS - 1], "4095");
    assert_int_equal(tl_csv_next(r, &f, &l, &n, &d), -TL_EPARSE);
    assert_int_equal(tl__csv_reason(r), TL_CSV_TOO_LONG);
    assert_int_equal(d.line, 2);
    assert_int_equal(tl_csv_next(r, &f, &l, &n, &d), 1);
    assert_string_equal(f[0], "last");
    tl_csv_close(r);
}

/* A truncated .gz: the records before it, then a final error, again on every call. */
static void test_damaged_gzip_is_final(void **state)
{
    (void)state;
    char p[512], gz[600];
    snprintf(p, sizeof(p), "%s/cut.csv", tl_test_tmpdir());
    snprintf(gz, sizeof(gz), "%s.gz", p);
    FILE *fp = fopen(p, "wb");
    assert_non_null(fp);
    fputs("a,b\n", fp);
    for (int i = 0; i < 40000; i++)
        fprintf(fp, "%d,\"quoted %d\"\n", i, i);
    fclose(fp);
    assert_int_equal(tl_test_sh("gzip -c '%s' | head -c 30000 > '%s'", p, gz), 0);
    tl_csv *r = open_csv(gz, ',', 1, 0);
    char **f;
    size_t *l;
    int n, got, rows = 0;
    tl_diag d;
    while ((got = tl_csv_next(r, &f, &l, &n, &d)) == 1)
        rows++;
    assert_int_equal(got, -TL_ECORRUPT);
    assert_int_equal(tl__csv_reason(r), TL_CSV_READ_ERROR);
    assert_int_equal(d.line, rows + 1);
    char want[80];
    snprintf(want, sizeof(want), "truncated gzip stream (unexpected end after %d lines)", rows);
    assert_string_equal(d.msg, want);
    assert_string_equal(d.file, gz);
    assert_int_equal(tl_csv_next(r, &f, &l, &n, &d), -TL_ECORRUPT);
    assert_string_equal(d.msg, want);
    tl_csv_close(r);
}

static void test_open_missing(void **state)
{
    (void)state;
    tl_csv *r = NULL;
    tl_diag d;
    assert_int_equal(tl_csv_open("/nonexistent/x.tsv", NULL, &r, &d), TL_EIO);
    assert_null(r);
    assert_string_equal(d.file, "/nonexistent/x.tsv");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tsv_plain),
        cmocka_unit_test(test_csv_quoting),
        cmocka_unit_test(test_csv_bad_quote_names_field),
        cmocka_unit_test(test_gzip),
        cmocka_unit_test(test_limits_and_utf8),
        cmocka_unit_test(test_utf8_check),
        cmocka_unit_test(test_bom_and_very_long_line),
        cmocka_unit_test(test_long_quoted_record_resyncs),
        cmocka_unit_test(test_raw_and_lf_only),
        cmocka_unit_test(test_many_fields),
        cmocka_unit_test(test_damaged_gzip_is_final),
        cmocka_unit_test(test_open_missing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
