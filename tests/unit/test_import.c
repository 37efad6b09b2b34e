/* Tests of the import engine (src/ingest/import.c, fields.c, weights.c) and of the store's
 * import driver (src/store/import.c): every kind of bad input names its line and field and
 * leaves the store exactly as it was; --skip-bad; idempotent re-imports; gzip, CSV quoting,
 * JSON Lines; column aliases and defaults. Fixtures are in tests/data/import/. */
#include "support.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "core/data.h"
#include "ingest/fields.h"
#include "tailor/ingest.h"
#include "tailor/store.h"
#include "util/clock.h"

static const char *fixture(const char *name)
{
    static char bufs[4][1024];
    static int next;
    char *b = bufs[next++ % 4];
    snprintf(b, sizeof(bufs[0]), "%s", tl_test_source("tests/data/import/"));
    strncat(b, name, sizeof(bufs[0]) - strlen(b) - 1);
    return b;
}

static const char *tmp_path(const char *name)
{
    static char bufs[16][512];
    static int next;
    char *b = bufs[next++ % 16];
    snprintf(b, sizeof(bufs[0]), "%s/%s", tl_test_tmpdir(), name);
    return b;
}

static tl_store *fresh_store(const char *name)
{
    const char *p = tmp_path(name);
    char side[600];
    remove(p);
    snprintf(side, sizeof(side), "%s-wal", p);
    remove(side);
    snprintf(side, sizeof(side), "%s-shm", p);
    remove(side);
    tl_store *st = NULL;
    tl_diag d;
    assert_int_equal(tl_store_open(p, TL_STORE_CREATE, &st, &d), TL_OK);
    return st;
}

typedef struct run_opts {
    tl_ingest_kind kind;
    int strict, skip_bad, dry_run;
    const char *type, *weights;
    char list_sep;
} run_opts;

static tl_err run_import(tl_store *st, const char *path, const run_opts *ro, tl_import_report *rep,
                         tl_diag *d)
{
    tl_import_opts o;
    tl_import_opts_init(&o);
    o.in.path = path;
    o.in.kind = ro->kind;
    o.in.skip_bad = ro->skip_bad;
    o.in.default_type = ro->type;
    o.in.list_sep = ro->list_sep;
    o.strict = ro->strict;
    o.dry_run = ro->dry_run;
    o.weights = ro->weights;
    return tl_store_import(st, &o, rep, d);
}

/* Imports with ro, which must succeed. */
static void run_ok(tl_store *st, const char *path, const run_opts *ro, tl_import_report *rep)
{
    tl_diag d;
    tl_err rc = run_import(st, path, ro, rep, &d);
    if (rc != TL_OK)
        fail_msg("import %s: %s: %s (line %ld, field %s)", path, tl_strerror(rc), d.msg, d.line,
                 d.field);
}

static void import_ok(tl_store *st, const char *path, tl_ingest_kind kind, tl_import_report *rep)
{
    run_opts ro = {.kind = kind};
    tl_diag d;
    tl_import_report r;
    tl_err rc = run_import(st, path, &ro, rep ? rep : &r, &d);
    if (rc != TL_OK)
        fail_msg("import %s: %s: %s (line %ld, field %s)", path, tl_strerror(rc), d.msg, d.line,
                 d.field);
}

static tl_store_counts counts(tl_store *st)
{
    tl_store_counts c;
    assert_int_equal(tl_store_count(st, &c), TL_OK);
    return c;
}

static void assert_same_counts(tl_store_counts a, tl_store_counts b)
{
    assert_int_equal(a.users, b.users);
    assert_int_equal(a.items, b.items);
    assert_int_equal(a.events, b.events);
    assert_int_equal(a.searches, b.searches);
    assert_int_equal(a.event_types, b.event_types);
}

/* A store holding events.tsv: users u1..u3, items b1..b3, 4 rating events. */
static tl_store *base_store(const char *name)
{
    tl_store *st = fresh_store(name);
    import_ok(st, fixture("events.tsv"), TL_INGEST_EVENTS, NULL);
    tl_store_counts c = counts(st);
    assert_int_equal(c.users, 3);
    assert_int_equal(c.items, 3);
    assert_int_equal(c.events, 4);
    return st;
}

/* The whole store as text, one row a line in a fixed order: users, items (with type), events
 * (user, item, type, value, timestamp) and searches. Two dumps are equal when the store holds
 * exactly the same data. */
static char *store_dump(const char *db)
{
    static const char *const sql[] = {
        "SELECT 'user ' || ext_id FROM users ORDER BY ext_id",
        "SELECT 'item ' || ext_id || ' ' || type FROM items ORDER BY ext_id",
        "SELECT 'event ' || u.ext_id || ' ' || i.ext_id || ' ' || t.name || ' ' ||"
        " ifnull(e.value, '-') || ' ' || e.ts FROM events e JOIN users u ON u.id = e.user_id"
        " JOIN items i ON i.id = e.item_id JOIN event_types t ON t.id = e.type_id ORDER BY 1",
        "SELECT 'search ' || query || ' ' || ts FROM searches ORDER BY 1",
    };
    sqlite3 *h;
    size_t len = 0, cap = 4096;
    char *out = malloc(cap);
    assert_non_null(out);
    out[0] = '\0';
    assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    for (size_t k = 0; k < sizeof(sql) / sizeof(sql[0]); k++) {
        sqlite3_stmt *q;
        assert_int_equal(sqlite3_prepare_v2(h, sql[k], -1, &q, NULL), SQLITE_OK);
        while (sqlite3_step(q) == SQLITE_ROW) {
            const char *row = (const char *)sqlite3_column_text(q, 0);
            size_t n = strlen(row);
            while (len + n + 2 > cap) {
                cap *= 2;
                out = realloc(out, cap);
                assert_non_null(out);
            }
            memcpy(out + len, row, n);
            len += n;
            out[len++] = '\n';
            out[len] = '\0';
        }
        sqlite3_finalize(q);
    }
    sqlite3_close(h);
    return out;
}

static void assert_dump(const char *db, const char *want)
{
    char *got = store_dump(db);
    if (strcmp(got, want) != 0)
        fail_msg("store holds:\n%s\nwant:\n%s", got, want);
    free(got);
}

/* What base_store holds. */
#define BASE_DUMP                                                                                  \
    "user u1\nuser u2\nuser u3\nitem b1 other\nitem b2 other\nitem b3 other\n"                     \
    "event u1 b1 rate 5.0 1000\nevent u1 b2 rate 3.0 1001\nevent u2 b1 rate 4.0 1002\n"            \
    "event u3 b3 rate 2.0 1003\n"

/* Imports a bad file; checks the error's line and field and that nothing changed. */
static void expect_rejected(const char *path, const run_opts *ro, tl_err want, long line,
                            const char *field, const char *msg_part)
{
    char file[512]; /* path may be one of tmp_path's buffers, which base_store reuses */
    snprintf(file, sizeof(file), "%s", path);
    tl_store *st = base_store("bad.db");
    tl_store_counts before = counts(st);
    assert_dump(tmp_path("bad.db"), BASE_DUMP);
    tl_import_report rep;
    tl_diag d;
    tl_err rc = run_import(st, file, ro, &rep, &d);
    if (rc != want)
        fail_msg("%s: got %s (%s), want %s", file, tl_strerror(rc), d.msg, tl_strerror(want));
    if (d.line != line || strcmp(d.field, field) != 0 || (msg_part && !strstr(d.msg, msg_part)))
        fail_msg("%s: got line %ld, field '%s', '%s'; want line %ld, field '%s', '%s'", file,
                 d.line, d.field, d.msg, line, field, msg_part ? msg_part : "");
    assert_int_equal(strncmp(d.file, file, sizeof(d.file) - 1), 0);
    assert_int_equal(rep.committed, 0);
    assert_same_counts(before, counts(st));
    assert_dump(tmp_path("bad.db"), BASE_DUMP);
    tl_store_free(st);
}

static void test_fields_parse(void **state)
{
    (void)state;
    int64_t t;
    assert_int_equal(tl__parse_time("881250949", 9, &t), 0);
    assert_int_equal(t, 881250949);
    assert_int_equal(tl__parse_time("1970-01-02", 10, &t), 0);
    assert_int_equal(t, 86400);
    assert_int_equal(tl__parse_time("2024-03-01T10:00:00Z", 20, &t), 0);
    assert_int_equal(t, 1709287200);
    assert_int_equal(tl__parse_time("2024-03-01 11:30+01:30", 22, &t), 0);
    assert_int_equal(t, 1709287200);
    assert_int_equal(tl__parse_time("2024-03-01T10:00:00.123-00:00", 29, &t), 0);
    assert_int_equal(t, 1709287200);
    assert_int_equal(tl__parse_time("2023-02-29", 10, &t), -1); /* not a leap year */
    assert_int_equal(tl__parse_time("2024-13-01", 10, &t), -1);
    assert_int_equal(tl__parse_time("yesterday", 9, &t), -1);
    assert_int_equal(tl__parse_time("12abc", 5, &t), -1);
    int64_t y;
    assert_int_equal(tl__parse_year("2008.0", 6, &y), 0);
    assert_int_equal(y, 2008);
    assert_int_equal(tl__parse_year("-750.0", 6, &y), 0);
    assert_int_equal(y, -750);
    assert_int_equal(tl__parse_year("1999.5", 6, &y), -1);
    double v;
    assert_int_equal(tl__parse_f64(" 4.5 ", 5, &v), 0);
    assert_true(v == 4.5);
    assert_int_equal(tl__parse_f64("nan", 3, &v), -1);
    assert_int_equal(tl__parse_f64("0x10", 4, &v), -1);
    int b;
    assert_int_equal(tl__parse_bool("Yes", 3, &b), 0);
    assert_int_equal(b, 1);
    assert_int_equal(tl__parse_bool("off", 3, &b), 0);
    assert_int_equal(b, 0);
    assert_int_equal(tl__parse_bool("maybe", 5, &b), -1);
    assert_string_equal(tl__item_type("E-Book", 6), "ebook");
    assert_string_equal(tl__item_type("DVD", 3), "video");
    assert_string_equal(tl__item_type("journal", 7), "journal");
    assert_null(tl__item_type("zine", 4));
    /* a control character anywhere in an id of any length is found (word-at-a-time paths) */
    char id[24];
    for (size_t len = 1; len <= sizeof(id); len++) {
        memset(id, 'a', sizeof(id));
        assert_int_equal(tl__id_bad_char(id, len), -1);
        for (size_t at = 0; at < len; at++) {
            static const unsigned char bad_bytes[] = {0x00, 0x01, 0x09, 0x0a, 0x0d, 0x1f, 0x7f};
            for (size_t k = 0; k < sizeof(bad_bytes); k++) {
                id[at] = (char)bad_bytes[k];
                assert_int_equal(tl__id_bad_char(id, len), (long)at);
            }
            id[at] = (char)0xc3; /* UTF-8 lead and continuation bytes are not controls */
            assert_int_equal(tl__id_bad_char(id, len), -1);
            id[at] = ' ';
            assert_int_equal(tl__id_bad_char(id, len), -1);
            id[at] = 'a';
        }
    }
}

static void test_weights(void **state)
{
    (void)state;
    tl_event_weights w;
    tl_diag d;
    tl_event_weights_init(&w);
    assert_true(tl_event_weight_of(&w, "loan", 0, 0) == 1.0f);
    assert_true(tl_event_weight_of(&w, "view", 0, 0) == 0.2f);
    assert_true(tl_event_weight_of(&w, "rate", 1, 5) == 1.0f);
    assert_true(tl_event_weight_of(&w, "rate", 1, 4) == 0.8f);
    assert_true(tl_event_weight_of(&w, "rate", 1, 2) == 0.0f); /* below 3: ignored */
    assert_true(tl_event_weight_of(&w, "skip", 0, 0) == 0.0f);
    assert_true(tl_event_weight_of(&w, "dwell", 1, 150) == 0.25f);
    assert_true(tl_event_weight_of(&w, "dwell", 1, 100000) == 0.5f); /* capped */
    assert_true(tl_event_weight_of(&w, "custom", 0, 0) == 0.5f);     /* the default */
    assert_int_equal(
        tl_event_weights_parse(&w, "view=0.1,loan=2,custom=0.9,rate.min=4,merge=max", &d), TL_OK);
    assert_true(tl_event_weight_of(&w, "view", 0, 0) == 0.1f);
    assert_true(tl_event_weight_of(&w, "loan", 0, 0) == 2.0f);
    assert_true(tl_event_weight_of(&w, "custom", 0, 0) == 0.9f);
    assert_true(tl_event_weight_of(&w, "rate", 1, 3) == 0.0f);
    assert_int_equal(w.merge_max, 1);
    /* a bad entry changes nothing */
    assert_int_equal(tl_event_weights_parse(&w, "view=0.3,loan=lots", &d), TL_EINVAL);
    assert_non_null(strstr(d.msg, "loan"));
    assert_true(tl_event_weight_of(&w, "view", 0, 0) == 0.1f);
    /* format and parse give the same table */
    char buf[4096];
    tl_event_weights w2;
    tl_event_weights_format(&w, buf, sizeof(buf));
    tl_event_weights_init(&w2);
    assert_int_equal(tl_event_weights_parse(&w2, buf, &d), TL_OK);
    assert_int_equal(w2.n, w.n);
    assert_true(tl_event_weight_of(&w2, "custom", 0, 0) == 0.9f);
    assert_true(w2.rate_min == 4.0f);
    assert_int_equal(w2.merge_max, 1);
}

static void test_bad_field_count(void **state)
{
    (void)state;
    run_opts ro = {.kind = TL_INGEST_EVENTS};
    expect_rejected(fixture("events_bad_fields.tsv"), &ro, TL_EPARSE, 4, "timestamp",
                    "expected 4 fields, found 3");
}

static void test_bad_number(void **state)
{
    (void)state;
    run_opts ro = {.kind = TL_INGEST_EVENTS};
    expect_rejected(fixture("events_bad_number.tsv"), &ro, TL_EPARSE, 3, "value", "not a number");
}

static void test_bad_utf8(void **state)
{
    (void)state;
    run_opts ro = {.kind = TL_INGEST_EVENTS};
    expect_rejected(fixture("events_bad_utf8.tsv"), &ro, TL_EPARSE, 3, "item", "UTF-8");
}

static void test_unknown_user_strict(void **state)
{
    (void)state;
    run_opts ro = {.kind = TL_INGEST_EVENTS, .strict = 1};
    /* line 2 names a known user but an unknown item: also an error in strict mode */
    expect_rejected(fixture("events_unknown_user.tsv"), &ro, TL_ENOTFOUND, 2, "item",
                    "unknown item 'nb1'");
    const char *p = tmp_path("unknown_user.tsv");
    assert_int_equal(tl_test_write(p, "user\titem\nu1\tb2\nnobody\tb2\n"), 0);
    expect_rejected(p, &ro, TL_ENOTFOUND, 3, "user", "unknown user 'nobody'");
    /* without strict the same file creates the user */
    tl_store *st = base_store("unknown.db");
    run_opts lax = {.kind = TL_INGEST_EVENTS};
    tl_import_report rep;
    tl_diag d;
    assert_int_equal(run_import(st, fixture("events_unknown_user.tsv"), &lax, &rep, &d), TL_OK);
    assert_int_equal(rep.new_users, 1);
    assert_int_equal(rep.new_items, 1);
    assert_int_equal(counts(st).users, 4);
    tl_store_free(st);
}

static void test_empty_id(void **state)
{
    (void)state;
    run_opts ro = {.kind = TL_INGEST_EVENTS};
    expect_rejected(fixture("events_empty_id.tsv"), &ro, TL_EPARSE, 3, "user", "empty user id");
}

static void test_too_long_field(void **state)
{
    (void)state;
    size_t n = 70000; /* over the 64 KiB field limit, under the 1 MiB line limit */
    char *text = malloc(n + 200);
    assert_non_null(text);
    int off = sprintf(text, "user\titem\tvalue\ttimestamp\nn1\tnb1\t5\t2000\nu1\t");
    memset(text + off, 'x', n);
    strcpy(text + off + n, "\t3\t100\n");
    const char *p = tmp_path("long_field.tsv");
    assert_int_equal(tl_test_write(p, text), 0);
    free(text);
    run_opts ro = {.kind = TL_INGEST_EVENTS};
    expect_rejected(p, &ro, TL_EPARSE, 3, "item", "exceeds the limit");
}

static void test_too_long_line(void **state)
{
    (void)state;
    /* a line over 1 MiB, made of fields that are each under the field limit */
    FILE *f = fopen(tmp_path("long_line.tsv"), "w");
    assert_non_null(f);
    fputs("user\titem\tnote\nn1\tnb1\tok\nu2\tb2\t", f);
    for (int i = 0; i < 40; i++) {
        for (int k = 0; k < 30000; k++)
            fputc('y', f);
        fputc(' ', f);
    }
    fputs("\nn3\tnb3\tok\n", f);
    fclose(f);
    run_opts ro = {.kind = TL_INGEST_EVENTS};
    tl_store *st = base_store("long_line.db");
    tl_store_counts before = counts(st);
    tl_import_report rep;
    tl_diag d;
    assert_int_equal(run_import(st, tmp_path("long_line.tsv"), &ro, &rep, &d), TL_EPARSE);
    assert_int_equal(d.line, 3);
    assert_non_null(strstr(d.msg, "1 MiB"));
    assert_same_counts(before, counts(st));
    /* skipping it imports the lines around it, and goes on counting lines right */
    ro.skip_bad = 1;
    assert_int_equal(run_import(st, tmp_path("long_line.tsv"), &ro, &rep, &d), TL_OK);
    assert_int_equal(rep.in.skipped_by[TL_SKIP_TOO_LONG], 1);
    assert_int_equal(rep.in.first_lines[TL_SKIP_TOO_LONG][0], 3);
    assert_int_equal(rep.added, 2);
    tl_store_free(st);
}

static void test_bad_json(void **state)
{
    (void)state;
    run_opts ro = {.kind = TL_INGEST_EVENTS};
    expect_rejected(fixture("events_bad_json.jsonl"), &ro, TL_EPARSE, 2, "",
                    "invalid JSON at column");
    expect_rejected(fixture("events_bad_json_type.jsonl"), &ro, TL_EPARSE, 2, "value",
                    "not an array");
    const char *p = tmp_path("not_object.jsonl");
    assert_int_equal(tl_test_write(p, "{\"user\": \"n1\", \"item\": \"x\"}\n[1, 2]\n"), 0);
    expect_rejected(p, &ro, TL_EPARSE, 2, "", "JSON object");
    p = tmp_path("bad_utf8.jsonl");
    assert_int_equal(
        tl_test_write(
            p,
            "{\"user\": \"n1\", \"item\": \"x\"}\n\n{\"user\": \"u\xc0\xaf\", \"item\": \"x\"}\n"),
        0);
    expect_rejected(p, &ro, TL_EPARSE, 3, "", "UTF-8");
}

static void test_rollback_after_flushed_batches(void **state)
{
    (void)state;
    /* more events than one write batch, so some were already written when the bad line comes */
    const char *p = tmp_path("many_then_bad.tsv");
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs("user\titem\tvalue\n", f);
    for (int i = 0; i < 70000; i++)
        fprintf(f, "m%d\tk%d\t4\n", i % 700, i % 1300);
    fputs("m1\tk1\toops\n", f);
    fclose(f);
    run_opts ro = {.kind = TL_INGEST_EVENTS};
    expect_rejected(p, &ro, TL_EPARSE, 70002, "value", "not a number");
}

static void test_skip_bad(void **state)
{
    (void)state;
    tl_store *st = base_store("skip.db");
    tl_store_counts before = counts(st);
    run_opts ro = {.kind = TL_INGEST_EVENTS, .skip_bad = 1};
    tl_import_report rep;
    tl_diag d;
    assert_int_equal(run_import(st, fixture("events_mixed_bad.tsv"), &ro, &rep, &d), TL_OK);
    assert_int_equal(rep.committed, 1);
    assert_int_equal(rep.in.rows, 7);
    assert_int_equal(rep.in.accepted, 3);
    assert_int_equal(rep.in.skipped, 4);
    assert_int_equal(rep.in.skipped_by[TL_SKIP_FIELD_COUNT], 1);
    assert_int_equal(rep.in.first_lines[TL_SKIP_FIELD_COUNT][0], 3);
    assert_int_equal(rep.in.skipped_by[TL_SKIP_NUMBER], 1);
    assert_int_equal(rep.in.first_lines[TL_SKIP_NUMBER][0], 4);
    assert_int_equal(rep.in.skipped_by[TL_SKIP_EMPTY_ID], 1);
    assert_int_equal(rep.in.first_lines[TL_SKIP_EMPTY_ID][0], 6);
    assert_int_equal(rep.in.skipped_by[TL_SKIP_UTF8], 1);
    assert_int_equal(rep.in.first_lines[TL_SKIP_UTF8][0], 7);
    assert_int_equal(rep.in.first_skip.line, 3);
    assert_int_equal(rep.added, 3);
    tl_store_counts after = counts(st);
    assert_int_equal(after.events, before.events + 3);
    assert_int_equal(after.users, before.users + 3); /* n1, n4, n7 */
    /* strict + skip_bad: the unknown user is skipped and counted, the known ones imported */
    run_opts strict = {.kind = TL_INGEST_EVENTS, .skip_bad = 1, .strict = 1};
    assert_int_equal(run_import(st, fixture("events_unknown_user.tsv"), &strict, &rep, &d), TL_OK);
    assert_int_equal(rep.in.skipped, 1);
    assert_int_equal(rep.in.skipped_by[TL_SKIP_UNKNOWN_ID], 1);
    assert_int_equal(rep.in.first_lines[TL_SKIP_UNKNOWN_ID][0], 3);
    assert_string_equal(rep.in.first_skip.field, "user");
    assert_int_equal(rep.new_users, 0);
    assert_int_equal(counts(st).events, after.events + 1);
    tl_store_free(st);
}

static void test_reimport_idempotent(void **state)
{
    (void)state;
    tl_store *st = fresh_store("idem.db");
    static const struct {
        const char *file;
        tl_ingest_kind kind;
    } files[] = {
        {"items.tsv", TL_INGEST_ITEMS},         {"users.tsv", TL_INGEST_USERS},
        {"events.tsv", TL_INGEST_EVENTS},       {"events.jsonl", TL_INGEST_EVENTS},
        {"events_typed.csv", TL_INGEST_EVENTS}, {"items.jsonl", TL_INGEST_ITEMS},
        {"items.csv", TL_INGEST_ITEMS},         {"searches.tsv", TL_INGEST_SEARCHES},
    };
    tl_store_counts first = {0};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        tl_import_report rep;
        import_ok(st, fixture(files[i].file), files[i].kind, &rep);
        assert_true(rep.added + rep.updated > 0);
        first = counts(st);
        import_ok(st, fixture(files[i].file), files[i].kind, &rep);
        if (rep.added || rep.updated || rep.unchanged != rep.in.rows || !rep.committed)
            fail_msg("%s: re-import added %lld, updated %lld, unchanged %lld of %lld",
                     files[i].file, rep.added, rep.updated, rep.unchanged, rep.in.rows);
        assert_same_counts(first, counts(st));
    }
    assert_int_equal(first.searches, 3);
    tl_store_free(st);
}

static void test_same_key_twice_in_one_file(void **state)
{
    (void)state;
    /* enough rows for the multi-row inserts; the key (d1, e1, rate, 7) comes twice, the second
     * time with another value, and (d2, e2, rate, 8) twice with the same value */
    const char *p = tmp_path("dups.tsv");
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs("user\titem\tvalue\ttimestamp\n", f);
    for (int i = 0; i < 40; i++) {
        if (i == 5)
            fputs("d1\te1\t3\t7\n", f);
        else if (i == 30)
            fputs("d1\te1\t5\t7\n", f);
        else if (i == 8 || i == 9)
            fputs("d2\te2\t4\t8\n", f);
        else
            fprintf(f, "x%d\ty%d\t4\t%d\n", i, i, i);
    }
    fclose(f);
    tl_store *st = fresh_store("dups.db");
    tl_import_report rep;
    import_ok(st, p, TL_INGEST_EVENTS, &rep);
    assert_int_equal(rep.added, 38);
    assert_int_equal(rep.updated, 1);
    assert_int_equal(rep.unchanged, 1);
    assert_int_equal(counts(st).events, 38);
    tl_store_free(st);
    /* the later row wins */
    sqlite3 *h;
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_open_v2(tmp_path("dups.db"), &h, SQLITE_OPEN_READONLY, NULL),
                     SQLITE_OK);
    assert_int_equal(
        sqlite3_prepare_v2(h,
                           "SELECT e.value FROM events e JOIN users u ON u.id = e.user_id"
                           " WHERE u.ext_id = 'd1'",
                           -1, &q, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_true(sqlite3_column_double(q, 0) == 5.0);
    sqlite3_finalize(q);
    sqlite3_close(h);
}

static void test_gz_import(void **state)
{
    (void)state;
    char *text = tl_test_read(fixture("events.tsv"));
    assert_non_null(text);
    const char *p = tmp_path("events.tsv.gz");
    gzFile gz = gzopen(p, "wb");
    assert_non_null(gz);
    assert_int_equal(gzputs(gz, text), (int)strlen(text));
    gzclose(gz);
    free(text);
    tl_store *st = fresh_store("gz.db");
    tl_import_report rep;
    import_ok(st, p, TL_INGEST_EVENTS, &rep);
    assert_int_equal(rep.in.format, TL_FORMAT_TSV);
    assert_int_equal(rep.added, 4);
    tl_store_counts c = counts(st);
    assert_int_equal(c.users, 3);
    assert_int_equal(c.events, 4);
    tl_store_free(st);
}

/* Reads one text column of one row of the store's file, for checks the API does not expose. */
static char *sql_text(const char *db, const char *sql)
{
    sqlite3 *h;
    sqlite3_stmt *q;
    char *out = NULL;
    assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &q, NULL), SQLITE_OK);
    if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_text(q, 0))
        out = strdup((const char *)sqlite3_column_text(q, 0));
    sqlite3_finalize(q);
    sqlite3_close(h);
    return out;
}

static void assert_sql(const char *db, const char *sql, const char *want)
{
    char *got = sql_text(db, sql);
    if (!want) {
        if (got)
            fail_msg("%s: got '%s', want NULL", sql, got);
        return;
    }
    if (!got || strcmp(got, want) != 0)
        fail_msg("%s: got '%s', want '%s'", sql, got ? got : "(null)", want);
    free(got);
}

static int32_t item_index(const tl_data *d, const char *id)
{
    int32_t i = tl_intern_find(&d->items, id, strlen(id));
    if (i < 0)
        fail_msg("item %s not loaded", id);
    return i;
}

static void test_csv_quoting_import(void **state)
{
    (void)state;
    tl_store *st = fresh_store("csv.db");
    import_ok(st, fixture("items.csv"), TL_INGEST_ITEMS, NULL);
    tl_data d;
    tl_diag diag;
    tl_data_init(&d);
    assert_int_equal(tl_store_load_data(st, NULL, &d, &diag), TL_OK);
    assert_int_equal(d.items.count, 3);
    assert_string_equal(d.cat.title[item_index(&d, "1")],
                        "The Hunger Games (The Hunger Games, #1)");
    assert_string_equal(d.cat.title[item_index(&d, "2")], "Say \"hello\"");
    assert_string_equal(d.cat.title[item_index(&d, "3")], "Two\nlines");
    assert_string_equal(d.cat.creators[item_index(&d, "2")], "J.K. Rowling, Mary GrandPré");
    assert_int_equal(d.cat.year[item_index(&d, "3")], -750);
    assert_int_equal(d.cat.year[item_index(&d, "1")], 2008);
    assert_string_equal(d.cat.language[item_index(&d, "2")], "en-US");
    tl_data_release(&d);
    /* unknown columns are kept as extra; empty ones are not */
    const char *db = tmp_path("csv.db");
    assert_sql(db, "SELECT extra FROM items WHERE ext_id = '1'", "{\"isbn\":\"439023483\"}");
    assert_sql(db, "SELECT extra FROM items WHERE ext_id = '2'", NULL);
    assert_sql(db, "SELECT format FROM items WHERE ext_id = '1'", "print");
    assert_sql(db, "SELECT type FROM items WHERE ext_id = '1'", "book");
    /* with ',' as the list separator the authors become a list */
    run_opts ro = {.kind = TL_INGEST_ITEMS, .list_sep = ','};
    tl_import_report rep;
    assert_int_equal(run_import(st, fixture("items.csv"), &ro, &rep, &diag), TL_OK);
    assert_int_equal(rep.updated, 1); /* only item 2 has two authors */
    assert_sql(db, "SELECT authors FROM items WHERE ext_id = '2'", "J.K. Rowling|Mary GrandPré");
    tl_store_free(st);
}

static void test_jsonl_import(void **state)
{
    (void)state;
    tl_store *st = fresh_store("jsonl.db");
    const char *db = tmp_path("jsonl.db");
    tl_import_report rep;
    import_ok(st, fixture("items.jsonl"), TL_INGEST_ITEMS, &rep);
    assert_int_equal(rep.in.format, TL_FORMAT_JSONL);
    assert_int_equal(rep.added, 3);
    assert_sql(db, "SELECT type FROM items WHERE ext_id = 'b1'", "ebook");
    assert_sql(db, "SELECT subjects FROM items WHERE ext_id = 'b1'", "SF|Ecology/Planets");
    assert_sql(db, "SELECT authors FROM items WHERE ext_id = 'b1'", "Frank Herbert");
    assert_sql(db, "SELECT copies || '/' || available FROM items WHERE ext_id = 'b1'", "3/1");
    assert_sql(db, "SELECT added FROM items WHERE ext_id = 'b1'", "1582934400");
    assert_sql(db, "SELECT extra FROM items WHERE ext_id = 'b1'", "{\"isbn\":\"9780441013593\"}");
    assert_sql(db, "SELECT type FROM items WHERE ext_id = 'b5'", "video");
    assert_sql(db, "SELECT extra FROM items WHERE ext_id = 'b5'", "{\"runtime\":153}");
    assert_sql(db, "SELECT type || ' ' || extra FROM items WHERE ext_id = 'b6'",
               "other {\"material\":\"zine\"}");
    /* an extra object after unknown keys is merged with them, not nested; a string works too */
    const char *p = tmp_path("extra.jsonl");
    assert_int_equal(
        tl_test_write(p, "{\"id\": \"b8\", \"isbn\": \"1\", \"extra\": {\"runtime\": 2}}\n"
                         "{\"id\": \"b9\", \"extra\": \"{\\\"a\\\": [1]}\", \"pages\": 12}\n"),
        0);
    import_ok(st, p, TL_INGEST_ITEMS, &rep);
    assert_sql(db, "SELECT extra FROM items WHERE ext_id = 'b8'", "{\"isbn\":\"1\",\"runtime\":2}");
    assert_sql(db, "SELECT extra FROM items WHERE ext_id = 'b9'", "{\"a\":[1],\"pages\":12}");
    import_ok(st, fixture("events.jsonl"), TL_INGEST_EVENTS, &rep);
    assert_int_equal(rep.in.rows, 4); /* the blank line is not a record */
    assert_int_equal(rep.added, 4);
    assert_sql(db,
               "SELECT e.device || ',' || e.branch || ',' || e.ts FROM events e JOIN users u ON "
               "u.id = e.user_id"
               " JOIN event_types t ON t.id = e.type_id WHERE u.ext_id = 'u1' AND t.name = 'loan'",
               "mobile,central,1709287200");
    /* integer ids, aliases (patron, book_id, event, seconds, ts), lowercased type */
    assert_sql(db,
               "SELECT t.name || ' ' || e.value || ' ' || e.channel FROM events e JOIN users u ON "
               "u.id = e.user_id"
               " JOIN items i ON i.id = e.item_id JOIN event_types t ON t.id = e.type_id"
               " WHERE u.ext_id = '7' AND i.ext_id = '12'",
               "dwell 120.0 web");
    assert_sql(db,
               "SELECT group_concat(name, ',') FROM (SELECT name FROM event_types ORDER BY name)",
               "dwell,loan,return,view");
    /* the implicit item b4 exists with type other */
    assert_sql(db, "SELECT type FROM items WHERE ext_id = 'b4'", "other");
    tl_store_free(st);
}

typedef struct type_counts {
    char names[8][32];
    long long n[8];
    int k;
} type_counts;

static tl_err collect_types(void *ctx, const char *key, const char *label, int64_t n)
{
    type_counts *t = ctx;
    (void)label;
    if (t->k < 8) {
        snprintf(t->names[t->k], sizeof(t->names[0]), "%s", key);
        t->n[t->k++] = n;
    }
    return TL_OK;
}

static void test_default_event_type(void **state)
{
    (void)state;
    tl_store *st = fresh_store("types.db");
    import_ok(st, fixture("events.tsv"), TL_INGEST_EVENTS, NULL); /* value column: rate */
    const char *p = tmp_path("loans.tsv");
    assert_int_equal(
        tl_test_write(p, "patron_id\tbarcode_ignored\titem_id\nu1\tx\tb9\nu2\ty\tb9\n"), 0);
    import_ok(st, p, TL_INGEST_EVENTS, NULL); /* no value column: loan */
    run_opts ro = {.kind = TL_INGEST_EVENTS, .type = "VIEW"};
    tl_import_report rep;
    tl_diag d;
    assert_int_equal(run_import(st, p, &ro, &rep, &d), TL_OK);
    assert_int_equal(rep.added, 2);
    type_counts t = {0};
    assert_int_equal(tl_store_events_by_type(st, collect_types, &t), TL_OK);
    assert_int_equal(t.k, 3);
    assert_string_equal(t.names[0], "rate");
    assert_int_equal(t.n[0], 4);
    assert_string_equal(t.names[1], "loan"); /* ties by name */
    assert_string_equal(t.names[2], "view");
    /* a CSV with a type column, ISO dates with offsets and a new type */
    import_ok(st, fixture("events_typed.csv"), TL_INGEST_EVENTS, NULL);
    const char *db = tmp_path("types.db");
    assert_sql(db,
               "SELECT e.ts || ' ' || e.branch FROM events e JOIN event_types t ON t.id = e.type_id"
               " WHERE t.name = 'hold'",
               "1704529800 north");
    assert_sql(
        db,
        "SELECT e.value FROM events e JOIN event_types t ON t.id = e.type_id WHERE t.name = 'rate'"
        " AND e.ts = 1704067200",
        "4.5");
    assert_sql(db,
               "SELECT count(*) FROM events e JOIN event_types t ON t.id = e.type_id"
               " WHERE t.name = 'custom_thing' AND e.ts = 0",
               "1");
    /* a bad --type is an option error */
    ro.type = "";
    assert_int_equal(run_import(st, p, &ro, &rep, &d), TL_EINVAL);
    tl_store_free(st);
}

static void test_dry_run(void **state)
{
    (void)state;
    tl_store *st = base_store("dry.db");
    tl_store_counts before = counts(st);
    run_opts ro = {.kind = TL_INGEST_EVENTS, .dry_run = 1};
    tl_import_report rep;
    tl_diag d;
    assert_int_equal(run_import(st, fixture("events.jsonl"), &ro, &rep, &d), TL_OK);
    assert_int_equal(rep.added, 4);
    assert_int_equal(rep.committed, 0);
    assert_same_counts(before, counts(st));
    /* a dry run still finds bad lines */
    assert_int_equal(run_import(st, fixture("events_bad_number.tsv"), &ro, &rep, &d), TL_EPARSE);
    assert_int_equal(d.line, 3);
    tl_store_free(st);
}

static void test_items_upsert_keeps_fields(void **state)
{
    (void)state;
    tl_store *st = fresh_store("upsert.db");
    const char *db = tmp_path("upsert.db");
    import_ok(st, fixture("items.tsv"), TL_INGEST_ITEMS, NULL);
    assert_sql(db, "SELECT subjects FROM items WHERE ext_id = 'b1'", "Science fiction|Ecology");
    assert_sql(db, "SELECT subjects FROM items WHERE ext_id = 'b3'", NULL);
    const char *p = tmp_path("partial.tsv");
    assert_int_equal(tl_test_write(p, "item\tlanguage\tcopies\nb1\ten\t2\n"), 0);
    tl_import_report rep;
    import_ok(st, p, TL_INGEST_ITEMS, &rep);
    assert_int_equal(rep.updated, 1);
    assert_sql(db,
               "SELECT title || '|' || language || '|' || copies || '|' || year FROM items WHERE "
               "ext_id = 'b1'",
               "Dune|en|2|1965");
    tl_store_free(st);
}

static void test_users_import(void **state)
{
    (void)state;
    tl_store *st = fresh_store("users.db");
    const char *db = tmp_path("users.db");
    tl_import_report rep;
    import_ok(st, fixture("users.tsv"), TL_INGEST_USERS, &rep);
    assert_int_equal(rep.added, 3);
    assert_sql(db, "SELECT attrs FROM users WHERE ext_id = 'u1'",
               "{\"department\":\"Physics\",\"level\":\"undergrad\"}");
    assert_sql(db, "SELECT personalize || ' ' || created FROM users WHERE ext_id = 'u1'",
               "1 1693526400");
    assert_sql(db, "SELECT personalize FROM users WHERE ext_id = 'u2'", "0");
    assert_sql(db, "SELECT personalize || ' ' || ifnull(attrs, '-') FROM users WHERE ext_id = 'u3'",
               "1 -");
    /* a bad consent value names its field */
    const char *p = tmp_path("users_bad.tsv");
    assert_int_equal(tl_test_write(p, "user\tconsent\nz1\tyes\nz2\tperhaps\n"), 0);
    run_opts ro = {.kind = TL_INGEST_USERS};
    tl_diag d;
    assert_int_equal(run_import(st, p, &ro, &rep, &d), TL_EPARSE);
    assert_int_equal(d.line, 3);
    assert_string_equal(d.field, "consent");
    assert_int_equal(counts(st).users, 3);
    tl_store_free(st);
}

static void test_searches_import(void **state)
{
    (void)state;
    tl_store *st = fresh_store("search.db");
    const char *db = tmp_path("search.db");
    tl_import_report rep;
    import_ok(st, fixture("searches.tsv"), TL_INGEST_SEARCHES, &rep);
    assert_int_equal(rep.added, 3);
    assert_int_equal(rep.new_items, 3);
    assert_sql(
        db,
        "SELECT group_concat(i.ext_id, ',') FROM (SELECT * FROM search_clicks ORDER BY rank) c"
        " JOIN items i ON i.id = c.item_id JOIN searches s ON s.id = c.search_id WHERE s.query = "
        "'dune herbert'",
        "b1,b2");
    assert_sql(db, "SELECT ifnull(user_id, 'anon') FROM searches WHERE query = 'anonymous search'",
               "anon");
    /* new clicks for the same search replace the old ones */
    const char *p = tmp_path("search2.tsv");
    assert_int_equal(tl_test_write(p, "user\tq\tts\tclicks\nu1\tdune herbert\t1000\tb2\n"), 0);
    import_ok(st, p, TL_INGEST_SEARCHES, &rep);
    assert_int_equal(rep.updated, 1);
    assert_sql(db, "SELECT count(*) FROM search_clicks", "2");
    tl_store_free(st);
}

static void test_weights_saved(void **state)
{
    (void)state;
    tl_store *st = base_store("weights.db");
    run_opts ro = {.kind = TL_INGEST_EVENTS, .weights = "view=0.1,rate.min=4"};
    tl_import_report rep;
    tl_diag d;
    assert_int_equal(run_import(st, fixture("events.jsonl"), &ro, &rep, &d), TL_OK);
    tl_event_weights w;
    assert_int_equal(tl_store_event_weights(st, &w, &d), TL_OK);
    assert_true(tl_event_weight_of(&w, "view", 0, 0) == 0.1f);
    assert_true(w.rate_min == 4.0f);
    /* bad weights: an error, and nothing imported or saved */
    tl_store_counts before = counts(st);
    ro.weights = "view=";
    assert_int_equal(run_import(st, fixture("events_typed.csv"), &ro, &rep, &d), TL_EINVAL);
    assert_same_counts(before, counts(st));
    assert_int_equal(tl_store_event_weights(st, &w, &d), TL_OK);
    assert_true(tl_event_weight_of(&w, "view", 0, 0) == 0.1f);
    tl_store_free(st);
}

static void test_header_required_columns(void **state)
{
    (void)state;
    tl_store *st = fresh_store("header.db");
    const char *p = tmp_path("noitem.tsv");
    assert_int_equal(tl_test_write(p, "user\tthing\nu1\tx\n"), 0);
    run_opts ro = {.kind = TL_INGEST_EVENTS};
    tl_import_report rep;
    tl_diag d;
    assert_int_equal(run_import(st, p, &ro, &rep, &d), TL_EPARSE);
    assert_int_equal(d.line, 1);
    assert_non_null(strstr(d.msg, "user and item"));
    assert_int_equal(tl_test_write(p, ""), 0);
    assert_int_equal(run_import(st, p, &ro, &rep, &d), TL_EPARSE);
    assert_non_null(strstr(d.msg, "empty file"));
    assert_int_equal(run_import(st, tmp_path("missing.tsv"), &ro, &rep, &d), TL_EIO);
    assert_int_equal(counts(st).events, 0);
    tl_store_free(st);
}

/* Writes text to path as gzip: whole, or cut (how = GZ_CUT_FLUSHED: flushed at the end of the
 * text but without the end of the stream; GZ_CUT_HALF: the first half of the bytes), with the
 * CRC broken (GZ_BAD_CRC) or followed by bytes that are not gzip (GZ_GARBAGE). */
enum gz_how { GZ_WHOLE, GZ_CUT_FLUSHED, GZ_CUT_HALF, GZ_BAD_CRC, GZ_GARBAGE };

static void write_gz(const char *path, const char *text, enum gz_how how, const char *mode)
{
    size_t n = strlen(text), cap = n + n / 2 + 1024, len;
    unsigned char *buf = malloc(cap);
    assert_non_null(buf);
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), Z_OK);
    zs.next_in = (unsigned char *)text;
    zs.avail_in = (unsigned)n;
    zs.next_out = buf;
    zs.avail_out = (unsigned)cap;
    int flush = how == GZ_CUT_FLUSHED ? Z_FULL_FLUSH : Z_FINISH;
    assert_int_equal(deflate(&zs, flush), flush == Z_FINISH ? Z_STREAM_END : Z_OK);
    len = cap - zs.avail_out;
    deflateEnd(&zs);
    if (how == GZ_CUT_HALF)
        len /= 2;
    if (how == GZ_BAD_CRC)
        buf[len - 8] ^= 0x5a; /* the trailer: CRC-32, then the length */
    FILE *f = fopen(path, mode);
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, len, f), len);
    if (how == GZ_GARBAGE)
        fputs("this is not gzip\n", f);
    fclose(f);
    free(buf);
}

/* A .gz that ends early, fails its CRC or has junk after it is an error that names the file,
 * also with skip_bad, and the store keeps exactly what it had: no row of it is imported. */
static void test_gz_damaged_imports_nothing(void **state)
{
    (void)state;
    char *text = malloc(200000);
    assert_non_null(text);
    size_t off = (size_t)sprintf(text, "user\titem\tvalue\ttimestamp\n");
    for (int i = 0; i < 3000; i++)
        off += (size_t)sprintf(text + off, "g%d\tx%d\t4\t%d\n", i % 97, i, 5000 + i);
    static const struct {
        enum gz_how how;
        const char *msg;
    } cases[] = {
        {GZ_CUT_FLUSHED, "truncated gzip stream (unexpected end after 3001 lines)"},
        {GZ_CUT_HALF, "truncated gzip stream (unexpected end after "},
        {GZ_BAD_CRC, "corrupt gzip stream"},
        {GZ_GARBAGE, "not gzip data after the end of the gzip stream"},
    };
    char p[512];
    snprintf(p, sizeof(p), "%s", tmp_path("damaged.tsv.gz"));
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        write_gz(p, text, cases[k].how, "wb");
        for (int skip = 0; skip < 2; skip++) {
            tl_store *st = base_store("gzbad.db");
            run_opts ro = {.kind = TL_INGEST_EVENTS, .skip_bad = skip};
            tl_import_report rep;
            tl_diag d;
            tl_err rc = run_import(st, p, &ro, &rep, &d);
            if (rc != TL_EPARSE || !strstr(d.msg, cases[k].msg))
                fail_msg("case %zu (skip_bad %d): got %s '%s', want '%s'", k, skip, tl_strerror(rc),
                         d.msg, cases[k].msg);
            assert_string_equal(d.file, p);
            assert_true(d.line > 1);
            assert_int_equal(rep.in.damaged, 1);
            assert_int_equal(rep.committed, 0);
            assert_dump(tmp_path("gzbad.db"), BASE_DUMP);
            tl_store_free(st);
        }
    }
    free(text);
}

/* A .gz made of several gzip members (cat a.gz b.gz > c.gz, as RFC 1952 allows) is read whole;
 * zero bytes padding the end (tape blocks) are not data. */
static void test_gz_multi_member(void **state)
{
    (void)state;
    const char *p = tmp_path("multi.tsv.gz");
    write_gz(p, "user\titem\tvalue\ttimestamp\nm1\tk1\t4\t10\n", GZ_WHOLE, "wb");
    write_gz(p, "", GZ_WHOLE, "ab"); /* an empty member */
    write_gz(p, "m2\tk2\t5\t20\nm3\tk", GZ_WHOLE, "ab");
    write_gz(p, "3\t1\t30\n", GZ_WHOLE, "ab"); /* a line split across members */
    FILE *f = fopen(p, "ab");
    assert_non_null(f);
    for (int i = 0; i < 512; i++)
        fputc(0, f);
    fclose(f);
    tl_store *st = fresh_store("multi.db");
    tl_import_report rep;
    import_ok(st, p, TL_INGEST_EVENTS, &rep);
    assert_int_equal(rep.in.rows, 3);
    assert_dump(tmp_path("multi.db"),
                "user m1\nuser m2\nuser m3\nitem k1 other\nitem k2 other\nitem k3 other\n"
                "event m1 k1 rate 4.0 10\nevent m2 k2 rate 5.0 20\nevent m3 k3 rate 1.0 30\n");
    tl_store_free(st);
}

/* A CSV file with "rows" hidden inside quoted fields of over 1 MiB: once on one long physical
 * line, once over many lines. */
static const char *write_long_quoted_csv(void)
{
    const char *p = tmp_path("long_quoted.csv");
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    fputs("user,item,note\nq1,r1,short\nq2,r2,\"", f); /* the record of line 3 */
    for (int i = 0; i < 1200000; i++)
        fputc('a' + i % 26, f);
    fputs("\nz1,zz1,inside\nz2,zz2,\"\"inside\"\"\"\nq3,r3,after\nq4,r4,\"", f); /* line 7 */
    for (int i = 0; i < 60000; i++)
        fprintf(f, "z%d,zz%d,x\n", i, i); /* about 700 KB */
    for (int i = 0; i < 60000; i++)
        fprintf(f, "y%d,yy%d,\"\"\n", i, i);
    fputs("end\"\nq5,r5,last\n", f);
    fclose(f);
    return p;
}

static void test_csv_long_quoted_record(void **state)
{
    (void)state;
    char p[512];
    snprintf(p, sizeof(p), "%s", write_long_quoted_csv());
    run_opts ro = {.kind = TL_INGEST_EVENTS};
    expect_rejected(p, &ro, TL_EPARSE, 3, "note", "longer than 1 MiB");
    /* skipped, each long record is one bad record, and the reader goes on at its real end */
    tl_store *st = base_store("longq.db");
    ro.skip_bad = 1;
    tl_import_report rep;
    run_ok(st, p, &ro, &rep);
    assert_int_equal(rep.in.rows, 5);
    assert_int_equal(rep.in.skipped, 2);
    assert_int_equal(rep.in.skipped_by[TL_SKIP_TOO_LONG], 2);
    assert_int_equal(rep.in.first_lines[TL_SKIP_TOO_LONG][0], 3);
    assert_int_equal(rep.in.first_lines[TL_SKIP_TOO_LONG][1], 7);
    assert_int_equal(rep.added, 3);
    assert_dump(tmp_path("longq.db"),
                "user q1\nuser q3\nuser q5\nuser u1\nuser u2\nuser u3\n"
                "item b1 other\nitem b2 other\nitem b3 other\nitem r1 other\nitem r3 other\n"
                "item r5 other\nevent q1 r1 loan - 0\nevent q3 r3 loan - 0\nevent q5 r5 loan - 0\n"
                "event u1 b1 rate 5.0 1000\nevent u1 b2 rate 3.0 1001\nevent u2 b1 rate 4.0 1002\n"
                "event u3 b3 rate 2.0 1003\n");
    tl_store_free(st);
}

/* A quote never closed: the error names the line where that quote opened (here the second
 * line of a record whose first field spans two lines) and its field. */
static void test_csv_unterminated_quote(void **state)
{
    (void)state;
    const char *p = tmp_path("open_quote.csv");
    assert_int_equal(tl_test_write(p, "user,item,note,more\nq1,r1,a,b\n"
                                      "q2,r2,\"two\nlines\",\"never closed\nq3,r3,c,d\n"),
                     0);
    run_opts ro = {.kind = TL_INGEST_EVENTS};
    expect_rejected(p, &ro, TL_EPARSE, 4, "more", "quote opened on line 4 is never closed");
    tl_store *st = base_store("openq.db");
    ro.skip_bad = 1;
    tl_import_report rep;
    run_ok(st, p, &ro, &rep);
    assert_int_equal(rep.in.skipped_by[TL_SKIP_QUOTE], 1);
    assert_int_equal(rep.in.first_lines[TL_SKIP_QUOTE][0], 4);
    assert_int_equal(rep.added, 1);
    tl_store_free(st);
}

/* LF, CRLF and a lone CR (old Mac files) all end lines, in every format. */
static void test_cr_line_ends(void **state)
{
    (void)state;
    static const char *const files[][2] = {
        {"cr.tsv", "user\titem\tvalue\ttimestamp\rc1\td1\t4\t100\rc2\td2\t5\t200\r"},
        {"mixed.tsv", "user\titem\tvalue\ttimestamp\r\nc1\td1\t4\t100\rc2\td2\t5\t200\n"},
        {"cr.csv", "user,item,value,timestamp\r\"c1\",d1,4,100\rc2,\"d2\",5,200"},
        {"cr.jsonl", "{\"user\":\"c1\",\"item\":\"d1\",\"value\":4,\"ts\":100}\r\r"
                     "{\"user\":\"c2\",\"item\":\"d2\",\"value\":5,\"ts\":200}\r"},
    };
    for (size_t k = 0; k < sizeof(files) / sizeof(files[0]); k++) {
        const char *p = tmp_path(files[k][0]);
        assert_int_equal(tl_test_write(p, files[k][1]), 0);
        tl_store *st = fresh_store("cr.db");
        tl_import_report rep;
        import_ok(st, p, TL_INGEST_EVENTS, &rep);
        assert_int_equal(rep.in.rows, 2);
        assert_dump(tmp_path("cr.db"), "user c1\nuser c2\nitem d1 other\nitem d2 other\n"
                                       "event c1 d1 rate 4.0 100\nevent c2 d2 rate 5.0 200\n");
        tl_store_free(st);
    }
}

/* Values must be finite and |value| <= TL_VALUE_MAX; timestamps within TL_TIME_MIN..MAX. */
static void test_value_and_time_ranges(void **state)
{
    (void)state;
    static const struct {
        const char *row, *field, *msg;
    } bad_rows[] = {
        {"v1\tw1\t1e308\t100", "value", "out of range"},
        {"v1\tw1\t-1e10\t100", "value", "out of range"},
        {"v1\tw1\tnan\t100", "value", "not a number"},
        {"v1\tw1\tinf\t100", "value", "not a number"},
        {"v1\tw1\t1e999\t100", "value", "not a number"},
        {"v1\tw1\t4\t9200000000000000000", "timestamp", "out of range"},
        {"v1\tw1\t4\t-1", "timestamp", "out of range"},
        {"v1\tw1\t4\t32503680001", "timestamp", "out of range"},
        {"v1\tw1\t4\t3001-01-01", "timestamp", "out of range"},
    };
    char p[512]; /* tmp_path's buffers are reused by the stores below */
    snprintf(p, sizeof(p), "%s", tmp_path("range.tsv"));
    run_opts ro = {.kind = TL_INGEST_EVENTS};
    for (size_t k = 0; k < sizeof(bad_rows) / sizeof(bad_rows[0]); k++) {
        char text[256];
        snprintf(text, sizeof(text), "user\titem\tvalue\ttimestamp\nv0\tw0\t1e9\t32503680000\n%s\n",
                 bad_rows[k].row);
        assert_int_equal(tl_test_write(p, text), 0);
        expect_rejected(p, &ro, TL_EPARSE, 3, bad_rows[k].field, bad_rows[k].msg);
    }
    snprintf(p, sizeof(p), "%s", tmp_path("range.jsonl"));
    assert_int_equal(tl_test_write(p, "{\"user\":\"v1\",\"item\":\"w1\",\"value\":1e308}\n"), 0);
    expect_rejected(p, &ro, TL_EPARSE, 1, "value", "out of range");
    assert_int_equal(
        tl_test_write(p, "{\"user\":\"v1\",\"item\":\"w1\",\"ts\":9200000000000000000}\n"), 0);
    expect_rejected(p, &ro, TL_EPARSE, 1, "ts", "out of range");
    /* searches have timestamps too */
    snprintf(p, sizeof(p), "%s", tmp_path("range_search.tsv"));
    assert_int_equal(tl_test_write(p, "user\tquery\tts\nv1\tdune\t99999999999999\n"), 0);
    run_opts rs = {.kind = TL_INGEST_SEARCHES};
    expect_rejected(p, &rs, TL_EPARSE, 2, "ts", "out of range");
    /* skipped and counted as "out of range" */
    snprintf(p, sizeof(p), "%s", tmp_path("range_all.tsv"));
    assert_int_equal(tl_test_write(p, "user\titem\tvalue\ttimestamp\nv0\tw0\t1e9\t32503680000\n"
                                      "v1\tw1\t1e308\t100\nv2\tw2\t4\t-7\nv3\tw3\tinf\t1\n"),
                     0);
    tl_store *st = fresh_store("range.db");
    ro.skip_bad = 1;
    tl_import_report rep;
    run_ok(st, p, &ro, &rep);
    assert_int_equal(rep.in.skipped_by[TL_SKIP_RANGE], 2);
    assert_int_equal(rep.in.first_lines[TL_SKIP_RANGE][0], 3);
    assert_int_equal(rep.in.first_lines[TL_SKIP_RANGE][1], 4);
    assert_int_equal(rep.in.skipped_by[TL_SKIP_NUMBER], 1);
    assert_dump(tmp_path("range.db"),
                "user v0\nitem w0 other\nevent v0 w0 rate 1000000000.0 32503680000\n");
    tl_store_free(st);
}

/* Ids with a tab, a line break or another control character would break every TSV written
 * from the store: rejected in every format, naming line and field. Other Unicode is kept. */
static void test_id_control_characters(void **state)
{
    (void)state;
    static const struct {
        const char *name, *text;
        tl_ingest_kind kind;
        long line;
        const char *field;
    } cases[] = {
        {"ctl.csv", "user,item\nk1,ok\n\"a\tb\",x\n", TL_INGEST_EVENTS, 3, "user"},
        {"ctl2.csv", "user,item\n\"k1\",\"two\nlines\"\n", TL_INGEST_EVENTS, 2, "item"},
        {"ctl3.csv", "user,item\nk1,\"cr\rin id\"\n", TL_INGEST_EVENTS, 2, "item"},
        {"ctl.jsonl", "{\"user\":\"a\\nb\",\"item\":\"x\"}\n", TL_INGEST_EVENTS, 1, "user"},
        {"ctl.tsv", "user\titem\nk1\tx\x01y\n", TL_INGEST_EVENTS, 2, "item"},
        {"del.tsv", "user\titem\nk\x7f\tx\n", TL_INGEST_EVENTS, 2, "user"},
        {"items_ctl.jsonl", "{\"id\":\"b\\u0007\"}\n", TL_INGEST_ITEMS, 1, "id"},
        {"users_ctl.csv", "id,level\n\"p\t1\",x\n", TL_INGEST_USERS, 2, "id"},
        {"search_ctl.tsv", "user\tquery\tclicked\nk1\tdune\tb1|b\x02\n", TL_INGEST_SEARCHES, 2,
         "clicked"},
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        const char *p = tmp_path(cases[k].name);
        assert_int_equal(tl_test_write(p, cases[k].text), 0);
        run_opts ro = {.kind = cases[k].kind};
        expect_rejected(p, &ro, TL_EPARSE, cases[k].line, cases[k].field,
                        "id contains a tab or control character");
    }
    const char *p = tmp_path("unicode.tsv");
    assert_int_equal(
        tl_test_write(p, "user\titem\n\xc3\xa9l\xc3\xa8ve\t\xe6\x9c\xac \xe2\x80\xa8\n"), 0);
    tl_store *st = fresh_store("unicode.db");
    import_ok(st, p, TL_INGEST_EVENTS, NULL);
    assert_dump(tmp_path("unicode.db"),
                "user \xc3\xa9l\xc3\xa8ve\nitem \xe6\x9c\xac \xe2\x80\xa8 other\n"
                "event \xc3\xa9l\xc3\xa8ve \xe6\x9c\xac \xe2\x80\xa8 loan - 0\n");
    tl_store_free(st);
}

/* A header and no rows: 0 rows, not an error. */
static void test_header_only(void **state)
{
    (void)state;
    const char *p = tmp_path("header_only.csv");
    assert_int_equal(tl_test_write(p, "user,item\r\n"), 0);
    tl_store *st = base_store("hdr.db");
    tl_import_report rep;
    import_ok(st, p, TL_INGEST_EVENTS, &rep);
    assert_int_equal(rep.in.rows, 0);
    assert_dump(tmp_path("hdr.db"), BASE_DUMP);
    tl_store_free(st);
}

/* The input is opened and read before the write lock is taken: while another writer holds the
 * store, an import whose input is bad or missing says so at once, and one with good input
 * waits for the lock and then says who has it. */
static void test_input_read_before_lock(void **state)
{
    (void)state;
    tl_store *holder = base_store("lock.db"), *st = NULL;
    const char *db = tmp_path("lock.db");
    tl_store_opts o;
    tl_store_opts_init(&o);
    o.lock_timeout = 0.3;
    tl_diag d;
    assert_int_equal(tl_store_open_with(db, &o, &st, &d), TL_OK);
    assert_int_equal(tl_store_begin(holder), TL_OK);
    tl_store_counts before = counts(st);
    run_opts ro = {.kind = TL_INGEST_EVENTS};
    tl_import_report rep;
    const char *p = tmp_path("noitem.tsv");
    assert_int_equal(tl_test_write(p, "user\tthing\nu1\tx\n"), 0);
    assert_int_equal(run_import(st, p, &ro, &rep, &d), TL_EPARSE);
    assert_non_null(strstr(d.msg, "user and item"));
    assert_int_equal(run_import(st, tmp_path("missing.tsv"), &ro, &rep, &d), TL_EIO);
    assert_int_equal(run_import(st, fixture("events_typed.csv"), &ro, &rep, &d), TL_ESTORE);
    char want[700];
    snprintf(want, sizeof(want),
             "the store %s is locked by another writer (another `tailor import`?); waited 0.3 s; "
             "try again when it finishes or raise TAILOR_LOCK_TIMEOUT",
             db);
    assert_string_equal(d.msg, want);
    assert_int_equal(d.line, 0); /* a store failure is not a line's fault */
    assert_int_equal(rep.committed, 0);
    assert_int_equal(tl_store_rollback(holder), TL_OK);
    assert_same_counts(before, counts(st));
    import_ok(st, fixture("events_typed.csv"), TL_INGEST_EVENTS, &rep);
    assert_int_equal(rep.committed, 1);
    tl_store_free(st);
    tl_store_free(holder);
}

/* A first import that fails, or a dry one, into a store made for it leaves no store behind;
 * a clean one, even of no records, keeps it. */
static void test_first_import_leaves_no_empty_store(void **state)
{
    (void)state;
    char db[600], header_only[600], missing[600];
    snprintf(db, sizeof(db), "%s", tmp_path("first.db"));
    snprintf(header_only, sizeof(header_only), "%s", tmp_path("header_only.tsv"));
    snprintf(missing, sizeof(missing), "%s", tmp_path("missing.tsv"));
    assert_int_equal(tl_test_write(header_only, "user\titem\n"), 0);
    struct {
        const char *file;
        int dry_run;
        tl_err want;
    } cases[] = {{fixture("events_bad_number.tsv"), 0, TL_EPARSE},
                 {fixture("events_bad_fields.tsv"), 0, TL_EPARSE},
                 {fixture("events.tsv"), 1, TL_OK},
                 {missing, 0, TL_EIO},
                 {header_only, 1, TL_OK}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        tl_store *st = fresh_store("first.db");
        run_opts ro = {.kind = TL_INGEST_EVENTS, .dry_run = cases[i].dry_run};
        tl_import_report rep;
        tl_diag d;
        assert_int_equal(run_import(st, cases[i].file, &ro, &rep, &d), cases[i].want);
        assert_int_equal(rep.committed, 0);
        tl_store_free(st);
        if (access(db, F_OK) == 0 || tl_test_has_companions(db))
            fail_msg("case %zu (%s) left a store behind", i, cases[i].file);
    }
    tl_store *st = fresh_store("first.db");
    import_ok(st, header_only, TL_INGEST_EVENTS, NULL);
    tl_store_free(st);
    assert_int_equal(access(db, F_OK), 0);
    assert_sql(db, "SELECT count(*) FROM events", "0");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fields_parse),
        cmocka_unit_test(test_weights),
        cmocka_unit_test(test_bad_field_count),
        cmocka_unit_test(test_bad_number),
        cmocka_unit_test(test_bad_utf8),
        cmocka_unit_test(test_unknown_user_strict),
        cmocka_unit_test(test_empty_id),
        cmocka_unit_test(test_too_long_field),
        cmocka_unit_test(test_too_long_line),
        cmocka_unit_test(test_bad_json),
        cmocka_unit_test(test_rollback_after_flushed_batches),
        cmocka_unit_test(test_skip_bad),
        cmocka_unit_test(test_reimport_idempotent),
        cmocka_unit_test(test_same_key_twice_in_one_file),
        cmocka_unit_test(test_gz_import),
        cmocka_unit_test(test_csv_quoting_import),
        cmocka_unit_test(test_jsonl_import),
        cmocka_unit_test(test_default_event_type),
        cmocka_unit_test(test_dry_run),
        cmocka_unit_test(test_items_upsert_keeps_fields),
        cmocka_unit_test(test_users_import),
        cmocka_unit_test(test_searches_import),
        cmocka_unit_test(test_weights_saved),
        cmocka_unit_test(test_header_required_columns),
        cmocka_unit_test(test_gz_damaged_imports_nothing),
        cmocka_unit_test(test_gz_multi_member),
        cmocka_unit_test(test_csv_long_quoted_record),
        cmocka_unit_test(test_csv_unterminated_quote),
        cmocka_unit_test(test_cr_line_ends),
        cmocka_unit_test(test_value_and_time_ranges),
        cmocka_unit_test(test_id_control_characters),
        cmocka_unit_test(test_header_only),
        cmocka_unit_test(test_input_read_before_lock),
        cmocka_unit_test(test_first_import_leaves_no_empty_store),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
