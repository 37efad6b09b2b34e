/* Tests of circulation from an ILS (src/ingest/layout.c, the layouts in src/ingest/import.c,
 * the holdings in src/store/holdings.c, `tailor import circulation`): each documented layout
 * (Koha's statistics and issues tables built in; the Evergreen, Alma and FOLIO mapping files
 * of etc/ils/) imports its fixture of tests/data/ils/ into the events it means, copies resolve
 * through the holdings, an unknown copy names its line and field and leaves the store as it
 * was, dates follow the layout's format, and patron ids are pseudonymized at the door. With
 * TL_TEST_DB=postgres (test_ils_postgres) the stores are PostgreSQL databases. */
#include "pg_server.h"
#include "support.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tailor/ingest.h"
#include "tailor/store.h"
#include "util/civil.h"

static const char *fixture(const char *name)
{
    static char bufs[4][1024];
    static int next;
    char *b = bufs[next++ % 4];
    snprintf(b, sizeof(bufs[0]), "%s%s", tl_test_source("tests/data/ils/"), name);
    return b;
}

static const char *layout_file(const char *name)
{
    static char bufs[2][1024];
    static int next;
    char *b = bufs[next++ % 2];
    snprintf(b, sizeof(bufs[0]), "%s%s", tl_test_source("etc/ils/"), name);
    return b;
}

static tl_store *open_store(const char *path, const uint8_t *key)
{
    tl_store_opts o;
    tl_store_opts_init(&o);
    o.flags = TL_STORE_CREATE;
    o.pseudonym_key = key;
    tl_store *st = NULL;
    tl_diag d;
    if (tl_test_on_pg())
        tl_test_pg_reset(tl_test_pg_name(path));
    else
        remove(path);
    tl_err rc = tl_store_open_with(path, &o, &st, &d);
    if (rc != TL_OK)
        fail_msg("open %s: %s", path, d.msg);
    return st;
}

static void put_holding(tl_store *st, const char *copy, const char *item, const char *branch,
                        int available)
{
    tl_holding_rec h = {.copy = copy, .item = item, .branch = branch, .available = available};
    tl_diag d;
    tl_put what;
    tl_err rc = tl_store_put_holding(st, &h, &what, &d);
    if (rc != TL_OK)
        fail_msg("put_holding %s: %s", copy, d.msg);
}

/* A store whose holdings know the fixtures' copies 101, 102 and 103. */
static tl_store *library(const char *name, const uint8_t *key)
{
    tl_store *st = open_store(tl_test_db(name), key);
    assert_int_equal(tl_store_begin(st), TL_OK);
    put_holding(st, "101", "bib1", "CPL", 1);
    put_holding(st, "102", "bib2", "MPL", 1);
    put_holding(st, "103", "bib3", "CPL", 0);
    assert_int_equal(tl_store_commit(st), TL_OK);
    return st;
}

static tl_err import(tl_store *st, const char *file, const char *layout, int skip_bad,
                     tl_import_report *rep, tl_diag *d)
{
    tl_ingest_layout *lay = NULL;
    tl_err rc = tl_ingest_layout_load(layout, &lay, d);
    if (rc != TL_OK)
        fail_msg("layout %s: %s", layout, d->msg);
    tl_import_opts o;
    tl_import_opts_init(&o);
    o.in.kind = TL_INGEST_EVENTS;
    o.in.format = TL_FORMAT_CSV;
    o.in.layout = lay;
    o.in.skip_bad = skip_bad;
    o.in.path = file;
    rc = tl_store_import(st, &o, rep, d);
    tl_ingest_layout_free(lay);
    return rc;
}

static void import_ok(tl_store *st, const char *file, const char *layout, tl_import_report *rep)
{
    tl_diag d;
    tl_err rc = import(st, file, layout, 0, rep, &d);
    if (rc != TL_OK)
        fail_msg("import %s with %s: %s (line %ld, field %s)", file, layout, d.msg, d.line,
                 d.field);
}

/* The store's events, one "user item type time branch" a line, in time order. */
static char *events_of(const char *db)
{
    if (tl_test_on_pg())
        return tl_test_pg_rows(tl_test_pg_name(db), "SELECT u.ext_id, i.ext_id, t.name, e.ts,"
                                                    " coalesce(e.branch, '-') FROM events e"
                                                    " JOIN users u ON u.id = e.user_id"
                                                    " JOIN items i ON i.id = e.item_id"
                                                    " JOIN event_types t ON t.id = e.type_id"
                                                    " ORDER BY e.ts, t.name COLLATE \"C\"");
    sqlite3 *h;
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(h,
                                        "SELECT u.ext_id, i.ext_id, t.name, e.ts,"
                                        " ifnull(e.branch, '-') FROM events e"
                                        " JOIN users u ON u.id = e.user_id"
                                        " JOIN items i ON i.id = e.item_id"
                                        " JOIN event_types t ON t.id = e.type_id"
                                        " ORDER BY e.ts, t.name",
                                        -1, &q, NULL),
                     SQLITE_OK);
    size_t cap = 4096, len = 0;
    char *out = calloc(cap, 1);
    assert_non_null(out);
    while (sqlite3_step(q) == SQLITE_ROW)
        len += (size_t)snprintf(
            out + len, cap - len, "%s %s %s %lld %s\n", (const char *)sqlite3_column_text(q, 0),
            (const char *)sqlite3_column_text(q, 1), (const char *)sqlite3_column_text(q, 2),
            (long long)sqlite3_column_int64(q, 3), (const char *)sqlite3_column_text(q, 4));
    sqlite3_finalize(q);
    sqlite3_close(h);
    return out;
}

static void assert_events(const char *db, const char *want)
{
    char *got = events_of(db);
    if (strcmp(got, want) != 0)
        fail_msg("events of %s:\n%s\nwant:\n%s", db, got, want);
    free(got);
}

static long long ts(const char *iso)
{
    int64_t t;
    assert_int_equal(tl_parse_time(iso, strlen(iso), &t), 0);
    return (long long)t;
}

static void test_date_formats(void **state)
{
    (void)state;
    int64_t t;
    assert_int_equal(tl_parse_time_format("%d/%m/%Y", "15/01/2024", 10, &t), 0);
    assert_int_equal(t, ts("2024-01-15"));
    assert_int_equal(tl_parse_time_format("%m/%d/%Y %H:%M", "1/5/2024 9:07", 13, &t), 0);
    assert_int_equal(t, ts("2024-01-05T09:07:00Z"));
    /* a date without its time is midnight */
    assert_int_equal(tl_parse_time_format("%Y-%m-%d %H:%M:%S", "2024-01-15", 10, &t), 0);
    assert_int_equal(t, ts("2024-01-15"));
    assert_int_equal(tl_parse_time_format("%Y-%m-%d %H:%M:%S", "2024-01-15 10:23:45.5", 21, &t), 0);
    assert_int_equal(t, ts("2024-01-15T10:23:45Z"));
    assert_int_equal(tl_parse_time_format("%d.%m.%y", "31.12.99", 8, &t), 0);
    assert_int_equal(t, ts("1999-12-31"));
    assert_int_equal(tl_parse_time_format("iso", "2024-01-15T10:00:00+01:00", 25, &t), 0);
    assert_int_equal(t, ts("2024-01-15T09:00:00Z"));
    /* not dates of the format */
    assert_int_equal(tl_parse_time_format("%d/%m/%Y", "2024-01-15", 10, &t), -1);
    assert_int_equal(tl_parse_time_format("%d/%m/%Y", "31/02/2024", 10, &t), -1);
    assert_int_equal(tl_parse_time_format("%d/%m/%Y", "15/01/2024x", 11, &t), -1);
    assert_int_equal(tl_parse_time_format("%d/%m/%Y %H:%M", "15/01/2024 25:00", 16, &t), -1);
    assert_int_equal(tl_parse_time_format("%d/%m/%Y %H:%M", "", 0, &t), -1);
    /* the week of the year seasonality counts in (strftime's %W) */
    assert_int_equal(tl_civil_week(ts("2024-04-03T10:00:00Z")), 14);
    assert_int_equal(tl_civil_week(ts("2025-01-08")), 1);
    assert_int_equal(tl_civil_week(ts("2030-01-01")), 0);
    assert_int_equal(tl_civil_week(ts("2026-06-24")), 25);
    assert_int_equal(tl_civil_week(ts("2024-12-30T23:59:59Z")), 53);
    assert_int_equal(tl_civil_week(0), 0);
    /* a bad pattern */
    assert_int_equal(tl_parse_time_format("%d/%q/%Y", "", 0, &t), -2);
}

static void test_layout_files(void **state)
{
    (void)state;
    tl_ingest_layout *l = NULL;
    tl_diag d;
    const char *bad = "user = usr\ncopy = c\nfrobnicate = 1\n";
    assert_int_equal(tl_ingest_layout_parse(bad, strlen(bad), "x.layout", &l, &d), TL_EPARSE);
    assert_null(l);
    assert_int_equal(d.line, 3);
    assert_string_equal(d.field, "frobnicate");
    const char *nocopy = "# no item or copy\nuser = usr\ntime = t\n";
    assert_int_equal(tl_ingest_layout_parse(nocopy, strlen(nocopy), "y", &l, &d), TL_EPARSE);
    assert_non_null(strstr(d.msg, "item or copy"));
    const char *badfmt = "user = u\ncopy = c\ndate_format = %d/%Q\n";
    assert_int_equal(tl_ingest_layout_parse(badfmt, strlen(badfmt), "z", &l, &d), TL_EPARSE);
    assert_string_equal(d.field, "date_format");
    const char *nodelim = "user = u\ncopy = c\ndelimiter = ;;\n";
    assert_int_equal(tl_ingest_layout_parse(nodelim, strlen(nodelim), "z", &l, &d), TL_EPARSE);
    assert_int_equal(tl_ingest_layout_load(tl_test_tmp("none.layout"), &l, &d), TL_ENOTFOUND);
    assert_non_null(strstr(d.msg, "koha-statistics"));
    /* every example file loads, with its name */
    const char *files[] = {"evergreen.layout", "alma.layout", "folio.layout",
                           "koha-statistics.layout"};
    const char *names[] = {"evergreen-circulation", "alma-loans", "folio-loans", "koha-statistics"};
    for (int i = 0; i < 4; i++) {
        tl_err rc = tl_ingest_layout_load(layout_file(files[i]), &l, &d);
        if (rc != TL_OK)
            fail_msg("%s: %s (line %ld)", files[i], d.msg, d.line);
        assert_string_equal(tl_ingest_layout_name(l), names[i]);
        tl_ingest_layout_free(l);
    }
    for (int i = 0; tl_ingest_layout_names[i]; i++) {
        assert_int_equal(tl_ingest_layout_load(tl_ingest_layout_names[i], &l, &d), TL_OK);
        tl_ingest_layout_free(l);
    }
}

static char koha_stats_want[2048];

/* Koha's statistics: issue is a loan, renew a renewal, return a return, localuse an in-library
 * use; a payment and an anonymous local use are ignored (counted); itemnumbers find their
 * records through the holdings; datetime and branch are kept. */
static void test_koha_statistics(void **state)
{
    (void)state;
    tl_store *st = library("kstat.db", NULL);
    tl_import_report rep;
    import_ok(st, fixture("koha_statistics.csv"), "koha-statistics", &rep);
    assert_int_equal(rep.in.rows, 7);
    assert_int_equal(rep.in.accepted, 5);
    assert_int_equal(rep.in.ignored, 2);
    assert_int_equal(rep.in.skipped, 0);
    assert_int_equal(rep.added, 5);
    snprintf(koha_stats_want, sizeof(koha_stats_want),
             "5 bib1 loan %lld CPL\n6 bib3 loan %lld CPL\n6 bib2 local_use %lld MPL\n"
             "5 bib1 renew %lld CPL\n5 bib1 return %lld MPL\n",
             ts("2024-01-15T10:23:45Z"), ts("2024-01-18T13:00:00Z"), ts("2024-01-19T13:30:00Z"),
             ts("2024-01-29T09:00:00Z"), ts("2024-02-12T16:40:10Z"));
    assert_events(tl_test_db("kstat.db"), koha_stats_want);
    /* again: nothing changes */
    import_ok(st, fixture("koha_statistics.csv"), "koha-statistics", &rep);
    assert_int_equal(rep.added, 0);
    assert_int_equal(rep.unchanged, 5);
    tl_store_free(st);
    /* the built-in layout and its copy in etc/ils/ read the same */
    st = library("kstat2.db", NULL);
    import_ok(st, fixture("koha_statistics.csv"), layout_file("koha-statistics.layout"), &rep);
    assert_events(tl_test_db("kstat2.db"), koha_stats_want);
    tl_store_free(st);
}

/* Koha's old_issues: each row a loan at issuedate, and its return at returndate when there is
 * one (NULL and MySQL's zero date are none). */
static void test_koha_issues(void **state)
{
    (void)state;
    tl_store *st = library("kiss.db", NULL);
    tl_import_report rep;
    import_ok(st, fixture("koha_old_issues.csv"), "koha-issues", &rep);
    assert_int_equal(rep.in.rows, 3);
    assert_int_equal(rep.in.accepted, 3);
    char want[1024];
    snprintf(want, sizeof(want),
             "5 bib1 loan %lld CPL\n6 bib3 loan %lld CPL\n5 bib1 return %lld CPL\n"
             "6 bib2 loan %lld MPL\n",
             ts("2024-01-15T10:23:45Z"), ts("2024-01-18T13:00:00Z"), ts("2024-02-01T10:00:00Z"),
             ts("2024-02-20T09:15:00Z"));
    assert_events(tl_test_db("kiss.db"), want);
    tl_store_free(st);
}

/* An itemnumber the holdings do not know is an error naming its line and field, and the store
 * keeps what it had, unless the row names its biblionumber; --skip-bad skips it. */
static void test_unknown_copy(void **state)
{
    (void)state;
    tl_store *st = library("unknown.db", NULL);
    const char *db = tl_test_db("unknown.db");
    tl_import_report rep;
    tl_diag d;
    char *before = events_of(db);
    assert_int_equal(import(st, fixture("koha_issues_biblio.csv"), "koha-issues", 0, &rep, &d),
                     TL_EPARSE);
    assert_int_equal(d.line, 3);
    assert_string_equal(d.field, "itemnumber");
    assert_non_null(strstr(d.msg, "'998'"));
    assert_non_null(strstr(d.msg, "holdings"));
    assert_int_equal(rep.committed, 0);
    char *after = events_of(db);
    assert_string_equal(before, after);
    free(before);
    free(after);
    assert_int_equal(import(st, fixture("koha_issues_biblio.csv"), "koha-issues", 1, &rep, &d),
                     TL_OK);
    assert_int_equal(rep.in.accepted, 1);
    assert_int_equal(rep.in.skipped, 1);
    assert_int_equal(rep.in.skipped_by[TL_SKIP_UNKNOWN_ID], 1);
    assert_int_equal(rep.in.first_lines[TL_SKIP_UNKNOWN_ID][0], 3);
    char want[256];
    snprintf(want, sizeof(want), "7 bib9 loan %lld CPL\n", ts("2024-03-01T10:00:00Z"));
    assert_events(db, want);
    /* a store without holdings for the copy: also the library function says so */
    char *item = NULL;
    assert_int_equal(tl_store_item_for_copy(st, "998", 3, &item, &d), TL_ENOTFOUND);
    assert_null(item);
    assert_int_equal(tl_store_item_for_copy(st, "103", 3, &item, &d), TL_OK);
    assert_string_equal(item, "bib3");
    free(item);
    tl_store_free(st);
}

/* A layout whose time column is not in the file is refused before any row: the times would be
 * lost. The same for the patron. */
static void test_missing_columns(void **state)
{
    (void)state;
    tl_store *st = library("cols.db", NULL);
    tl_import_report rep;
    tl_diag d;
    const char *p = tl_test_tmp("notime.csv");
    assert_int_equal(tl_test_write(p, "borrowernumber;itemnumber;date\n5;101;2024-01-01\n"), 0);
    assert_int_equal(import(st, p, "koha-issues", 0, &rep, &d), TL_EPARSE);
    assert_int_equal(d.line, 1);
    assert_non_null(strstr(d.msg, "issuedate"));
    p = tl_test_tmp("badtime.csv");
    assert_int_equal(tl_test_write(p, "borrowernumber;itemnumber;issuedate\n5;101;15/01/2024\n"),
                     0);
    assert_int_equal(import(st, p, "koha-issues", 0, &rep, &d), TL_EPARSE);
    assert_int_equal(d.line, 2);
    assert_string_equal(d.field, "issuedate");
    assert_non_null(strstr(d.msg, "%Y-%m-%d"));
    tl_store_free(st);
}

/* A mapping file of its own: a tab-separated export with day-first dates; map.WORD = ignore
 * skips such rows (counted), and an unmapped type is ignored too. */
static void test_custom_layout(void **state)
{
    (void)state;
    tl_store *st = library("custom.db", NULL);
    const char *lay = tl_test_tmp("custom.layout");
    assert_int_equal(tl_test_write(lay, "layout = custom  # a comment\ndelimiter = tab\n"
                                        "user = Patron\ncopy = Copy No\ntype = what\n"
                                        "time = when\ndate_format = %d/%m/%Y %H:%M\n"
                                        "map.out = loan\nmap.in = ignore\n"),
                     0);
    const char *p = tl_test_tmp("custom.tsv");
    assert_int_equal(tl_test_write(p, "Patron\tcopy-no\twhat\twhen\n"
                                      "5\t101\tout\t31/12/2024 23:59\n"
                                      "5\t101\tin\t02/01/2025\n"
                                      "5\t103\thold\t03/01/2025\n"),
                     0);
    tl_import_report rep;
    import_ok(st, p, lay, &rep);
    assert_int_equal(rep.in.accepted, 1);
    assert_int_equal(rep.in.ignored, 2);
    char want[128];
    snprintf(want, sizeof(want), "5 bib1 loan %lld -\n", ts("2024-12-31T23:59:00Z"));
    assert_events(tl_test_db("custom.db"), want);
    tl_store_free(st);
}

/* The example mapping files of etc/ils/, each on its fixture. */
static void test_mapping_files(void **state)
{
    (void)state;
    tl_import_report rep;
    char want[1024];
    /* Evergreen: PostgreSQL times with their zone */
    tl_store *st = library("eg.db", NULL);
    import_ok(st, fixture("evergreen_circulation.csv"), layout_file("evergreen.layout"), &rep);
    snprintf(want, sizeof(want), "5 bib1 loan %lld 4\n6 bib3 loan %lld 4\n5 bib1 return %lld 4\n",
             ts("2024-01-15T15:23:45Z"), ts("2024-01-18T18:00:00Z"), ts("2024-02-01T15:00:00Z"));
    assert_events(tl_test_db("eg.db"), want);
    tl_store_free(st);
    /* Alma: US dates; the MMS Id names the record when given, else the Item Id's holding */
    st = library("alma.db", NULL);
    import_ok(st, fixture("alma_loans.csv"), layout_file("alma.layout"), &rep);
    snprintf(want, sizeof(want),
             "5 bib1 loan %lld CPL\n6 bib3 loan %lld CPL\n5 bib1 return %lld CPL\n",
             ts("2024-01-15T10:23:00Z"), ts("2024-01-18T13:00:00Z"), ts("2024-02-01T10:00:00Z"));
    assert_events(tl_test_db("alma.db"), want);
    tl_store_free(st);
    /* FOLIO: ISO 8601 with milliseconds */
    st = library("folio.db", NULL);
    import_ok(st, fixture("folio_loans.csv"), layout_file("folio.layout"), &rep);
    snprintf(want, sizeof(want), "5 bib1 loan %lld -\n6 bib3 loan %lld -\n5 bib1 return %lld -\n",
             ts("2024-01-15T10:23:45Z"), ts("2024-01-18T13:00:00Z"), ts("2024-02-01T10:00:00Z"));
    assert_events(tl_test_db("folio.db"), want);
    tl_store_free(st);
}

/* With a pseudonym key, borrowernumbers never reach the store: their pseudonyms do. */
static void test_pseudonymized(void **state)
{
    (void)state;
    uint8_t key[TL_PSEUDONYM_KEY_LEN];
    for (int i = 0; i < TL_PSEUDONYM_KEY_LEN; i++)
        key[i] = (uint8_t)(i * 7 + 1);
    tl_store *st = library("pseudo.db", key);
    tl_import_report rep;
    import_ok(st, fixture("koha_statistics.csv"), "koha-statistics", &rep);
    assert_int_equal(rep.in.accepted, 5);
    tl_store_free(st);
    char p5[TL_PSEUDONYM_LEN + 1], p6[TL_PSEUDONYM_LEN + 1];
    tl_pseudonym(key, "5", 1, p5);
    tl_pseudonym(key, "6", 1, p6);
    char *got = events_of(tl_test_db("pseudo.db"));
    assert_non_null(strstr(got, p5));
    assert_non_null(strstr(got, p6));
    assert_null(strstr(got, "\n5 "));
    assert_int_not_equal(strncmp(got, "5 ", 2), 0);
    free(got);
}

/* The ordinary events import: an issuedate column is the time, issue is a loan, and an
 * itemnumber column is a copy of the holdings. */
static void test_plain_events_import(void **state)
{
    (void)state;
    tl_store *st = library("plain.db", NULL);
    const char *p = tl_test_tmp("plain.tsv");
    assert_int_equal(tl_test_write(p, "borrowernumber\titemnumber\ttype\tissuedate\n"
                                      "5\t101\tissue\t2024-01-15 10:23:45\n"
                                      "5\t103\tcheckin\t2024-01-16 10:00:00\n"),
                     0);
    tl_import_opts o;
    tl_import_opts_init(&o);
    o.in.kind = TL_INGEST_EVENTS;
    o.in.path = p;
    tl_import_report rep;
    tl_diag d;
    assert_int_equal(tl_store_import(st, &o, &rep, &d), TL_OK);
    char want[256];
    snprintf(want, sizeof(want), "5 bib1 loan %lld -\n5 bib3 return %lld -\n",
             ts("2024-01-15T10:23:45Z"), ts("2024-01-16T10:00:00Z"));
    assert_events(tl_test_db("plain.db"), want);
    tl_store_free(st);
}

/* tailor import circulation: the summary counts the ignored rows; an unknown copy exits 3 with
 * its line; a missing layout is an error of the command line's making. */
static void test_cli(void **state)
{
    (void)state;
    tl_store_free(library("cli.db", NULL));
    const char *db = tl_test_db("cli.db");
    int rc = tl_test_cli("--db '%s' import circulation '%s' --layout koha-statistics", db,
                         fixture("koha_statistics.csv"));
    tl_test_cli_check(rc, 0, "2 ignored", NULL);
    assert_events(db, koha_stats_want[0] ? koha_stats_want : events_of(db));
    rc = tl_test_cli("--db '%s' import circulation '%s' --layout koha-issues", db,
                     fixture("koha_issues_biblio.csv"));
    tl_test_cli_check(rc, 3, NULL, "koha_issues_biblio.csv:3: field 'itemnumber'");
    rc = tl_test_cli("--db '%s' import circulation '%s' --layout koha-issues --skip-bad", db,
                     fixture("koha_issues_biblio.csv"));
    tl_test_cli_check(rc, 0, "1 skipped", "unknown id");
    rc = tl_test_cli("--db '%s' import circulation '%s'", db, fixture("koha_statistics.csv"));
    tl_test_cli_check(rc, 2, NULL, "--layout");
    rc = tl_test_cli("--db '%s' import circulation '%s' --layout nosuch", db,
                     fixture("koha_statistics.csv"));
    tl_test_cli_check(rc, 1, NULL, "nosuch");
    /* a date format of the command line */
    const char *p = tl_test_tmp("dmy.csv");
    assert_int_equal(tl_test_write(p, "borrowernumber;itemnumber;issuedate\n9;102;20/02/2024\n"),
                     0);
    rc = tl_test_cli("--db '%s' import circulation '%s' --layout koha-issues --date-format "
                     "'%%d/%%m/%%Y' --dry-run",
                     db, p);
    tl_test_cli_check(rc, 0, "dry run", NULL);
    rc = tl_test_cli("import circulation --help");
    tl_test_cli_check(rc, 0, "koha-statistics", NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_date_formats),
        cmocka_unit_test(test_layout_files),
        cmocka_unit_test(test_koha_statistics),
        cmocka_unit_test(test_koha_issues),
        cmocka_unit_test(test_unknown_copy),
        cmocka_unit_test(test_missing_columns),
        cmocka_unit_test(test_mapping_files),
        cmocka_unit_test(test_custom_layout),
        cmocka_unit_test(test_pseudonymized),
        cmocka_unit_test(test_plain_events_import),
        cmocka_unit_test(test_cli),
    };
    if (tl_test_on_pg() && !tl_test_pg_start())
        return TL_TEST_SKIP;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
