/* The defects of items 5 and 6 of the red-team issue, one test each, end to end through the
 * `tailor` program: every test asserts the exit code, the message, and the store's exact
 * contents (its events, users and items as text, and its bytes) before and after. Each
 * scenario fails on the code the issue was filed against (4a90a53): run a test binary with
 * TL_BIN pointing at that build to see it. */
#include "support.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- the store as text -------------------------------------------------------------------- */

static void append(char **buf, size_t *len, size_t *cap, const char *s)
{
    size_t n = strlen(s);
    if (*len + n + 1 > *cap) {
        *cap = (*len + n + 1) * 2;
        *buf = realloc(*buf, *cap);
        assert_non_null(*buf);
    }
    memcpy(*buf + *len, s, n + 1);
    *len += n;
}

/* The store's users, items and events, one sorted line each, read without touching the file
 * (an immutable, read-only SQLite connection; no Tailor code involved). NULL when db does not
 * exist. */
static char *store_text(const char *db)
{
    if (access(db, F_OK) != 0)
        return NULL;
    static const char *const sql[] = {
        "SELECT 'user ' || ext_id || ' personalize=' || personalize || ifnull(' ' || attrs, '') "
        "FROM users ORDER BY 1",
        "SELECT 'item ' || ext_id || ' ' || type || ifnull(' ' || title, '') FROM items ORDER BY 1",
        "SELECT 'event ' || u.ext_id || ' ' || i.ext_id || ' ' || t.name || ' ' || e.ts || ' ' || "
        "ifnull(e.value, '-') FROM events e JOIN users u ON u.id = e.user_id JOIN items i ON i.id "
        "= e.item_id JOIN event_types t ON t.id = e.type_id ORDER BY 1"};
    char uri[1200];
    snprintf(uri, sizeof(uri), "file:%s?immutable=1", db);
    sqlite3 *h;
    assert_int_equal(sqlite3_open_v2(uri, &h, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL),
                     SQLITE_OK);
    char *buf = NULL;
    size_t len = 0, cap = 0;
    append(&buf, &len, &cap, "");
    for (size_t k = 0; k < sizeof(sql) / sizeof(sql[0]); k++) {
        sqlite3_stmt *q;
        if (sqlite3_prepare_v2(h, sql[k], -1, &q, NULL) != SQLITE_OK)
            fail_msg("%s: %s", sql[k], sqlite3_errmsg(h));
        while (sqlite3_step(q) == SQLITE_ROW) {
            append(&buf, &len, &cap, (const char *)sqlite3_column_text(q, 0));
            append(&buf, &len, &cap, "\n");
        }
        sqlite3_finalize(q);
    }
    sqlite3_close(h);
    return buf;
}

/* The 4 events of tests/data/import/events.tsv, as store_text gives them. */
static const char BASE_USERS_ITEMS[] = "user u1 personalize=1\n"
                                       "user u2 personalize=1\n"
                                       "user u3 personalize=1\n"
                                       "item b1 other\n"
                                       "item b2 other\n"
                                       "item b3 other\n";
static const char BASE_EVENTS[] = "event u1 b1 rate 1000 5.0\n"
                                  "event u1 b2 rate 1001 3.0\n"
                                  "event u2 b1 rate 1002 4.0\n"
                                  "event u3 b3 rate 1003 2.0\n";

static char base_text[1024];

/* A fresh store named name holding the 4 events of tests/data/import/events.tsv, closed
 * cleanly; its contents are checked. */
static const char *base_store(const char *name)
{
    static char path[8][1024];
    static int next;
    char *db = path[next++ % 8];
    snprintf(db, sizeof(path[0]), "%s", tl_test_tmp(name));
    tl_test_sh("rm -f '%s' '%s-wal' '%s-shm' '%s-journal'", db, db, db, db);
    tl_test_cli_check(tl_test_cli("--db '%s' import events '%s' --quiet", db,
                                  tl_test_source("tests/data/import/events.tsv")),
                      0, NULL, NULL);
    assert_false(tl_test_has_companions(db));
    snprintf(base_text, sizeof(base_text), "%s%s", BASE_USERS_ITEMS, BASE_EVENTS);
    char *t = store_text(db);
    assert_string_equal(t, base_text);
    free(t);
    return db;
}

/* The main file holds exactly the bytes of s (or still does not exist). A reader of a store in
 * WAL mode may leave SQLite's companions beside it (it must create them to read safely, and a
 * read-only connection does not remove them), but never anything in the log. */
static void assert_unchanged(const char *db, tl_test_snap *s)
{
    char wal[1100];
    struct stat st;
    snprintf(wal, sizeof(wal), "%s-wal", db);
    if (stat(wal, &st) == 0 && st.st_size != 0)
        fail_msg("%s: %lld bytes were written to the log", wal, (long long)st.st_size);
    tl_test_sh("rm -f '%s-wal' '%s-shm'", db, db);
    tl_test_assert_unchanged(db, s);
}

/* Runs `tailor --db DB ARGS`; asserts the exit code, that stderr contains every one of the
 * NULL-ended messages, and that the store is byte for byte and row for row what it was. */
static void expect_refused(const char *db, const char *args, int code, ...)
{
    tl_test_snap before = tl_test_snapshot(db);
    char *text_before = store_text(db);
    int rc = tl_test_cli("--db '%s' %s", db, args);
    char *err = tl_test_cli_err();
    va_list ap;
    va_start(ap, code);
    for (const char *want; (want = va_arg(ap, const char *));)
        if (rc != code || !strstr(err, want))
            fail_msg("tailor %s: exit %d (want %d); stderr should contain\n  %s\nbut is\n%s", args,
                     rc, code, want, err);
    va_end(ap);
    if (rc != code)
        fail_msg("tailor %s: exit %d (want %d); stderr:\n%s", args, rc, code, err);
    free(err);
    char *text_after = store_text(db);
    if (text_before)
        assert_string_equal(text_after, text_before);
    else
        assert_null(text_after);
    assert_unchanged(db, &before);
    free(text_before);
    free(text_after);
}

/* Asserts that the store holds exactly want. */
static void expect_store(const char *db, const char *want)
{
    char *t = store_text(db);
    assert_non_null(t);
    if (strcmp(t, want) != 0)
        fail_msg("the store %s holds\n%s\nbut should hold\n%s", db, t, want);
    free(t);
}

/* ---- 5. no silent failure, no lost or invented row ------------------------------------- */

/* A .gz cut in the middle: exit 3 naming file, line and damage, with and without --skip-bad;
 * nothing of it lands. (4a90a53: the first half imported, exit 0.) */
static void test_truncated_gz_is_refused_whole(void **state)
{
    (void)state;
    const char *db = base_store("gzcut.db");
    const char *plain = tl_test_tmp("gzcut.tsv");
    FILE *f = fopen(plain, "w");
    assert_non_null(f);
    fputs("user\titem\tvalue\ttimestamp\n", f);
    for (int i = 0; i < 20000; i++)
        fprintf(f, "t%d\tj%d\t4\t%d\n", i % 300, i % 1000, 1000 + i);
    assert_int_equal(fclose(f), 0);
    char gz[1024], args[2100];
    snprintf(gz, sizeof(gz), "%s", tl_test_tmp("gzcut.tsv.gz"));
    assert_int_equal(tl_test_sh("gzip -c '%s' > '%s.full' && head -c $(( $(stat -c %%s '%s.full') "
                                "/ 2 )) '%s.full' > '%s'",
                                plain, gz, gz, gz, gz),
                     0);
    snprintf(args, sizeof(args), "import events '%s'", gz);
    expect_refused(db, args, 3, "gzcut.tsv.gz:", "truncated gzip stream (unexpected end after ",
                   "nothing was imported (the file is damaged)", NULL);
    snprintf(args, sizeof(args), "import events '%s' --skip-bad", gz);
    expect_refused(db, args, 3, "truncated gzip stream", "nothing was imported", NULL);
}

/* Rows after the first gzip member: a second member whose header is damaged, and plain bytes
 * after the member, are refused whole; two sound members import every row of both. (4a90a53:
 * the rows of the first member only, exit 0.) */
static void test_rows_after_a_gzip_member(void **state)
{
    (void)state;
    const char *db = base_store("gzmember.db");
    const char *a = tl_test_tmp("ga.tsv"), *b = tl_test_tmp("gb.tsv");
    assert_int_equal(tl_test_write(a, "user\titem\tvalue\ttimestamp\nu1\tb3\t1\t2000\n"
                                      "u4\tb1\t2\t2001\n"),
                     0);
    assert_int_equal(tl_test_write(b, "u5\tb9\t3\t2002\nu2\tb2\t4\t2003\n"), 0);
    char bad[1024], junk[1024], good[1024], args[2100];
    snprintf(bad, sizeof(bad), "%s", tl_test_tmp("damaged-member.tsv.gz"));
    snprintf(junk, sizeof(junk), "%s", tl_test_tmp("junk.tsv.gz"));
    snprintf(good, sizeof(good), "%s", tl_test_tmp("members.tsv.gz"));
    assert_int_equal(tl_test_sh("gzip -c '%s' > '%s' && gzip -c '%s' | { printf '\\037\\214'; "
                                "tail -c +3; } >> '%s'",
                                a, bad, b, bad),
                     0);
    assert_int_equal(
        tl_test_sh("gzip -c '%s' > '%s' && printf 'u5\\tb9\\t3\\t2002\\n' >> '%s'", a, junk, junk),
        0);
    assert_int_equal(tl_test_sh("gzip -c '%s' > '%s' && gzip -c '%s' >> '%s'", a, good, b, good),
                     0);
    snprintf(args, sizeof(args), "import events '%s'", bad);
    expect_refused(db, args, 3,
                   "damaged-member.tsv.gz:4: not gzip data after the end of the gzip "
                   "stream",
                   "nothing was imported (the file is damaged)", NULL);
    snprintf(args, sizeof(args), "import events '%s' --skip-bad", junk);
    expect_refused(db, args, 3, "junk.tsv.gz:4: not gzip data after the end of the gzip stream",
                   "nothing was imported (the file is damaged)", NULL);
    tl_test_cli_check(tl_test_cli("--db '%s' import events '%s'", db, good), 0,
                      "4 rows, 4 added, 0 updated, 0 unchanged", NULL);
    expect_store(db, "user u1 personalize=1\nuser u2 personalize=1\nuser u3 personalize=1\n"
                     "user u4 personalize=1\nuser u5 personalize=1\n"
                     "item b1 other\nitem b2 other\nitem b3 other\nitem b9 other\n"
                     "event u1 b1 rate 1000 5.0\nevent u1 b2 rate 1001 3.0\n"
                     "event u1 b3 rate 2000 1.0\nevent u2 b1 rate 1002 4.0\n"
                     "event u2 b2 rate 2003 4.0\nevent u3 b3 rate 1003 2.0\n"
                     "event u4 b1 rate 2001 2.0\nevent u5 b9 rate 2002 3.0\n");
}

/* A CSV whose quoted field runs over 1 MiB and holds lines that look like rows: the record is
 * one bad record; with --skip-bad the rows around it land and nothing inside it does. (4a90a53:
 * the text inside the quotes became 62 bogus events, u3's real row was lost.) */
static void test_csv_quoted_field_over_1_mib(void **state)
{
    (void)state;
    const char *db = base_store("longq.db");
    const char *p = tl_test_tmp("longq.csv");
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs("user,item,value,timestamp\nu1,b3,4,100\nu2,b2,4,\"", f);
    for (int i = 0; i < 1100; i++) {
        for (int k = 0; k < 100; k++)
            fputs("xxxxxxxxxx", f);
        fprintf(f, "\nu9,b%d,1,1\n", i);
    }
    fputs("\"\nu3,b1,5,300\n", f);
    assert_int_equal(fclose(f), 0);
    char args[1200];
    snprintf(args, sizeof(args), "import events '%s'", p);
    expect_refused(db, args, 3,
                   "longq.csv:3: field 'timestamp': record longer than 1 MiB (lines 3 to 2203)",
                   "nothing was imported", NULL);
    tl_test_cli_check(tl_test_cli("--db '%s' %s --skip-bad", db, args), 0,
                      "3 rows, 2 added, 0 updated, 0 unchanged, 1 skipped",
                      "skipped 1 bad line of 3");
    char *err = tl_test_cli_err();
    assert_non_null(strstr(err, "1 too long (line 3)"));
    assert_null(strstr(err, "wrong field count"));
    free(err);
    expect_store(db, "user u1 personalize=1\nuser u2 personalize=1\nuser u3 personalize=1\n"
                     "item b1 other\nitem b2 other\nitem b3 other\n"
                     "event u1 b1 rate 1000 5.0\nevent u1 b2 rate 1001 3.0\n"
                     "event u1 b3 rate 100 4.0\nevent u2 b1 rate 1002 4.0\n"
                     "event u3 b1 rate 300 5.0\nevent u3 b3 rate 1003 2.0\n");
}

/* train / eval / tune reading --data, --train and --items files of more than 64 columns.
 * (4a90a53: SIGSEGV in src/ingest/matrix_tsv.c.) No store is involved: none is created. */
static void test_files_wider_than_64_columns(void **state)
{
    (void)state;
    const char *wide = tl_test_tmp("wide.tsv"), *items = tl_test_tmp("wide-items.tsv");
    FILE *f = fopen(wide, "w"), *g = fopen(items, "w");
    assert_non_null(f);
    assert_non_null(g);
    for (int c = 0; c < 78; c++)
        fprintf(f, "c%d\t", c);
    fputs("user\titem\n", f);
    for (int r = 0; r < 60; r++) {
        for (int c = 0; c < 78; c++)
            fprintf(f, "%d\t", c);
        fprintf(f, "u%d\ti%d\n", r % 7, r % 11);
    }
    fputs("item\ttitle", g);
    for (int c = 0; c < 70; c++)
        fprintf(g, "\tx%d", c);
    fputs("\n", g);
    for (int i = 0; i < 11; i++) {
        fprintf(g, "i%d\tTitle %d", i, i);
        for (int c = 0; c < 70; c++)
            fputs("\tv", g);
        fputs("\n", g);
    }
    assert_int_equal(fclose(f), 0);
    assert_int_equal(fclose(g), 0);
    const char *test = tl_test_tmp("wide-test.tsv"), *m = tl_test_tmp("wide.tlm");
    assert_int_equal(tl_test_write(test, "user\titem\nu1\ti3\n"), 0);
    const char *db = tl_test_tmp("wide-none.db");
    tl_test_cli_check(
        tl_test_cli("--db '%s' train --model popular --data '%s' --items '%s' --out '%s'", db, wide,
                    items, m),
        0, NULL, "trained popular on 7 users x 11 items (60 interactions)");
    /* the catalogue of the wide file gave the titles */
    tl_test_cli_check(tl_test_cli("recommend --model '%s' --history i0 --n 1", m), 0, " 1. i1 ",
                      NULL);
    tl_test_cli_check(tl_test_cli("recommend --model '%s' --history i0 --n 1", m), 0, "Title 1",
                      NULL);
    tl_test_cli_check(tl_test_cli("eval --train '%s' --test '%s' --items '%s' --model popular "
                                  "--json",
                                  wide, test, items),
                      0, "\"users\":1", NULL);
    tl_test_cli_check(tl_test_cli("tune --train '%s' --model popular --json", wide), 0, "ndcg@10",
                      NULL);
    assert_int_equal(access(db, F_OK), -1);
}

/* Values and timestamps out of range are refused at the door, from TSV and JSON Lines alike.
 * (4a90a53: 1e308 imported, and `recommend --json` printed "score":inf; 9.2e18 imported and
 * zeroed every other item under time decay.) */
static void test_values_out_of_range_are_refused(void **state)
{
    (void)state;
    const char *db = base_store("range.db");
    const char *v = tl_test_tmp("range-value.tsv"), *t = tl_test_tmp("range-ts.tsv");
    const char *j = tl_test_tmp("range.jsonl");
    assert_int_equal(tl_test_write(v, "user\titem\tvalue\ttimestamp\nu1\tb3\t4\t100\n"
                                      "u2\tb3\t1e308\t100\n"),
                     0);
    assert_int_equal(tl_test_write(t, "user\titem\tvalue\ttimestamp\nu1\tb3\t4\t100\n"
                                      "u2\tb3\t4\t9200000000000000000\n"),
                     0);
    assert_int_equal(tl_test_write(j, "{\"user\":\"u1\",\"item\":\"b3\",\"value\":4}\n"
                                      "{\"user\":\"u2\",\"item\":\"b3\",\"value\":-1e308}\n"),
                     0);
    char args[1200];
    snprintf(args, sizeof(args), "import events '%s'", v);
    expect_refused(db, args, 3,
                   "range-value.tsv:3: field 'value': '1e308' is out of range (|value| <= 1e9)",
                   "nothing was imported", NULL);
    snprintf(args, sizeof(args), "import events '%s'", t);
    expect_refused(db, args, 3,
                   "range-ts.tsv:3: field 'timestamp': '9200000000000000000' is out of range "
                   "(1970-01-01 to 3000-01-01)",
                   "nothing was imported", NULL);
    snprintf(args, sizeof(args), "import events '%s'", j);
    expect_refused(db, args, 3, "range.jsonl:2: field 'value'", "out of range",
                   "nothing was imported", NULL);
}

/* Output that cannot be written fails with a message and exit 1, and the store it was read
 * from is untouched. (4a90a53: `stats --json > /dev/full` exited 0; `--out /dev/full` failed
 * without a message.) */
static void test_write_errors_fail_loudly(void **state)
{
    (void)state;
    const char *db = base_store("full.db");
    expect_refused(db, "stats --json > /dev/full", 1,
                   "tailor: writing standard output: No space left on device", NULL);
    expect_refused(db, "export events --out /dev/full", 1,
                   "tailor: writing /dev/full: No space left on device", NULL);
    const char *m = tl_test_tmp("full.tlm");
    tl_test_cli_check(tl_test_cli("--db '%s' train --model popular --out '%s' -q", db, m), 0, NULL,
                      NULL);
    expect_refused(db, "stats > /dev/full", 1, "writing standard output: No space left", NULL);
    tl_test_cli_check(tl_test_cli("recommend --model '%s' --user u3 --out /dev/full", m), 1, NULL,
                      "tailor: writing /dev/full: No space left on device");
    char *out = tl_test_cli_out();
    assert_string_equal(out, "");
    free(out);
}

/* An id holding a TAB, a line break or a CR (quoted CSV, escaped JSON) is refused at the door,
 * so no TSV output can be corrupted by it; with --skip-bad the other rows land. (4a90a53: the
 * ids were imported and the TSV outputs got extra fields and lines.) */
static void test_ids_with_tab_or_line_break(void **state)
{
    (void)state;
    const char *db = base_store("tabid.db");
    const char *c = tl_test_tmp("tabid.csv"), *j = tl_test_tmp("tabid.jsonl");
    assert_int_equal(tl_test_write(c, "user,item\nu1,b3\n\"u\tx\",b1\nu2,\"b\n2\"\n"), 0);
    assert_int_equal(tl_test_write(j, "{\"user\":\"u3\",\"item\":\"b1\"}\n"
                                      "{\"user\":\"u3\",\"item\":\"b\\r4\"}\n"),
                     0);
    char args[1200];
    snprintf(args, sizeof(args), "import events '%s'", c);
    expect_refused(db, args, 3, "tabid.csv:3: field 'user': id contains a tab or control character",
                   "nothing was imported", NULL);
    snprintf(args, sizeof(args), "import events '%s'", j);
    expect_refused(db, args, 3,
                   "tabid.jsonl:2: field 'item': id contains a tab or control character",
                   "nothing was imported", NULL);
    tl_test_cli_check(tl_test_cli("--db '%s' import events '%s' --skip-bad", db, c), 0, NULL,
                      "skipped 2 bad lines of 3");
    char *text = store_text(db);
    assert_null(strchr(text, '\t'));
    free(text);
    char want[1024];
    snprintf(want, sizeof(want), "%s%s", BASE_USERS_ITEMS,
             "event u1 b1 rate 1000 5.0\nevent u1 b2 rate 1001 3.0\n"
             "event u1 b3 loan 0 -\nevent u2 b1 rate 1002 4.0\nevent u3 b3 rate 1003 2.0\n");
    expect_store(db, want);
    /* every TSV output stays one record per line, four fields */
    tl_test_cli_check(tl_test_cli("--db '%s' export events", db), 0, NULL, NULL);
    char *out = tl_test_cli_out();
    int lines = 0;
    for (char *s = out, *nl; (nl = strchr(s, '\n')); s = nl + 1, lines++) {
        int tabs = 0;
        for (char *q = s; q < nl; q++)
            tabs += *q == '\t';
        assert_int_equal(tabs, 3);
    }
    assert_int_equal(lines, 5); /* header, 4 pairs (u3 rated b3 2 of 5: weight 0) */
    free(out);
}

/* Lines ended by a lone CR (old Mac files) are lines: every row lands. (4a90a53: "0 rows",
 * exit 0, nothing imported.) */
static void test_cr_only_line_ends(void **state)
{
    (void)state;
    const char *db = base_store("cr.db");
    const char *p = tl_test_tmp("mac.tsv");
    assert_int_equal(tl_test_write(p, "user\titem\tvalue\ttimestamp\ru1\tb3\t4\t100\r"
                                      "u4\tb1\t5\t200\r"),
                     0);
    tl_test_cli_check(tl_test_cli("--db '%s' import events '%s'", db, p), 0,
                      "2 rows, 2 added, 0 updated, 0 unchanged", NULL);
    expect_store(db, "user u1 personalize=1\nuser u2 personalize=1\nuser u3 personalize=1\n"
                     "user u4 personalize=1\n"
                     "item b1 other\nitem b2 other\nitem b3 other\n"
                     "event u1 b1 rate 1000 5.0\nevent u1 b2 rate 1001 3.0\n"
                     "event u1 b3 rate 100 4.0\nevent u2 b1 rate 1002 4.0\n"
                     "event u3 b3 rate 1003 2.0\nevent u4 b1 rate 200 5.0\n");
}

/* `--db ''` is a usage error, not ./tailor.db: nothing is created in the current directory.
 * (4a90a53: created and imported into ./tailor.db.) */
static void test_empty_db_path(void **state)
{
    (void)state;
    const char *cwd = tl_test_tmp("emptydb");
    assert_int_equal(tl_test_sh("mkdir -p '%s'", cwd), 0);
    int rc = tl_test_sh("cd '%s' && '%s' --db '' import events '%s' > out.txt 2> err.txt", cwd,
                        tl_test_bin(), tl_test_source("tests/data/import/events.tsv"));
    char errp[1200];
    snprintf(errp, sizeof(errp), "%s/err.txt", cwd);
    char *err = tl_test_read(errp);
    assert_non_null(err);
    if (rc != 2 || !strstr(err, "--db needs a path"))
        fail_msg("--db '': exit %d (want 2), stderr '%s'", rc, err);
    free(err);
    char db[1200];
    snprintf(db, sizeof(db), "%s/tailor.db", cwd);
    assert_int_equal(access(db, F_OK), -1);
    assert_false(tl_test_has_companions(db));
}

/* ---- 6. what a new user hit -------------------------------------------------------------- */

/* On a terminal, train and eval say what they are doing while they run. (4a90a53: nothing until
 * the end.) `script` gives the command a terminal. */
static void test_progress_on_a_terminal(void **state)
{
    (void)state;
    if (tl_test_sh("script -qec true /dev/null > /dev/null 2>&1") != 0) {
        printf("skipped: no script(1) to give tailor a terminal\n");
        return;
    }
    const char *data = tl_test_source("tests/data/readme/interactions.tsv");
    const char *log = tl_test_tmp("tty.log"), *m = tl_test_tmp("tty.tlm");
    assert_int_equal(tl_test_sh("script -qec \"'%s' train --model itemknn --set autotune=0 --data "
                                "'%s' --out '%s'\" /dev/null > '%s'",
                                tl_test_bin(), data, m, log),
                     0);
    char *t = tl_test_read(log);
    assert_non_null(t);
    if (!strstr(t, "\rtrain: loading data") || !strstr(t, "\rtrain: fitting itemknn"))
        fail_msg("train showed no progress on a terminal:\n%s", t);
    free(t);
    assert_int_equal(tl_test_sh("script -qec \"'%s' eval --train '%s' --test '%s' --model popular"
                                "\" /dev/null > '%s'",
                                tl_test_bin(), data, data, log),
                     0);
    t = tl_test_read(log);
    assert_non_null(t);
    if (!strstr(t, "\reval: "))
        fail_msg("eval showed no progress on a terminal:\n%s", t);
    free(t);
}

/* ---- found beyond the list -------------------------------------------------------------- */

/* Training on nothing (a store without events, a header without rows, --min-value above every
 * value) is an error, not a model that recommends nothing. (4a90a53 and the fixes before this
 * test: exit 0 and an empty model.) The store is read, never changed. */
static void test_train_on_nothing_fails(void **state)
{
    (void)state;
    const char *db = tl_test_tmp("noevents.db"), *m = tl_test_tmp("nothing.tlm");
    const char *items = tl_test_tmp("noevents-items.tsv"), *h = tl_test_tmp("header-only.tsv");
    assert_int_equal(tl_test_write(items, "item\ttitle\nb1\tOne\n"), 0);
    assert_int_equal(tl_test_write(h, "user\titem\tvalue\n"), 0);
    tl_test_cli_check(tl_test_cli("--db '%s' import items '%s' -q", db, items), 0, NULL, NULL);
    expect_store(db, "item b1 book One\n");
    char args[1200], want[1200];
    snprintf(args, sizeof(args), "train --model popular --out '%s'", m);
    snprintf(want, sizeof(want),
             "tailor: train: loading data: the store %s has no events to learn "
             "from (import events first",
             db);
    expect_refused(db, args, 1, want, NULL);
    expect_store(db, "item b1 book One\n");
    assert_int_equal(access(m, F_OK), -1);
    snprintf(args, sizeof(args), "train --model itemknn --data '%s' --out '%s'", h, m);
    expect_refused(db, args, 3, "header-only.tsv:1: no interactions: a header and no rows", NULL);
    const char *base = base_store("minvalue.db");
    snprintf(args, sizeof(args), "train --model popular --data '%s' --min-value 6 --out '%s'",
             tl_test_source("tests/data/import/events.tsv"), m);
    expect_refused(base, args, 3, "no interactions: none of the 4 rows has a value of at least 6",
                   NULL);
    snprintf(args, sizeof(args), "tune --train '%s' --model popular", h);
    expect_refused(base, args, 3, "tailor: tune: ", "no interactions", NULL);
    assert_int_equal(access(m, F_OK), -1);
}

/* A directory where a file is expected cannot be opened: exit 1 saying so, not "bad data" with a
 * --skip-bad hint, and the store is untouched. */
static void test_directory_as_input(void **state)
{
    (void)state;
    const char *db = base_store("dir-input.db");
    const char *dir = tl_test_tmp("a-directory");
    tl_test_sh("mkdir -p '%s'", dir);
    char args[1200];
    snprintf(args, sizeof(args), "import events '%s'", dir);
    expect_refused(db, args, 1, "cannot open: Is a directory", NULL);
    snprintf(args, sizeof(args), "train --model popular --data '%s' --out '%s/m.tlm'", dir, dir);
    expect_refused(db, args, 1, "cannot open: Is a directory", NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_truncated_gz_is_refused_whole),
        cmocka_unit_test(test_rows_after_a_gzip_member),
        cmocka_unit_test(test_csv_quoted_field_over_1_mib),
        cmocka_unit_test(test_files_wider_than_64_columns),
        cmocka_unit_test(test_values_out_of_range_are_refused),
        cmocka_unit_test(test_write_errors_fail_loudly),
        cmocka_unit_test(test_ids_with_tab_or_line_break),
        cmocka_unit_test(test_cr_only_line_ends),
        cmocka_unit_test(test_empty_db_path),
        cmocka_unit_test(test_progress_on_a_terminal),
        cmocka_unit_test(test_train_on_nothing_fails),
        cmocka_unit_test(test_directory_as_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
