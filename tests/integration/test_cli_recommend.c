/* `tailor recommend` and friends as a new user meets them: titles in any script laid out by
 * display columns, the popular fallback for patrons without a usable history, JSON Lines for
 * every patron, --out, filters (OR within a key, an error when nothing matches or the model has
 * no catalogue), the kind of evidence, export events, and Ctrl-C during training. */
#define _XOPEN_SOURCE 700 /* wcswidth */
#include "support.h"

#include <jansson.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>

/* Titles that byte-cutting breaks: Arabic and Japanese (multi-byte, Japanese two columns per
 * character), accented Latin (two bytes, one column) and a run of combining accents. */
static const char ITEMS[] =
    "item\ttitle\tcreators\tyear\tsubjects\n"
    "ar\t\xd8\xa7\xd9\x84\xd8\xad\xd8\xa8 \xd9\x81\xd9\x8a \xd8\xb2\xd9\x85\xd9\x86 "
    "\xd8\xa7\xd9\x84\xd9\x83\xd9\x88\xd9\x84\xd9\x8a\xd8\xb1\xd8\xa7 \xd9\x88\xd9\x87\xd9\x88 "
    "\xd8\xb9\xd9\x86\xd9\x88\xd8\xa7\xd9\x86 \xd8\xb7\xd9\x88\xd9\x8a\xd9\x84 "
    "\xd8\xac\xd8\xaf\xd8\xa7\xd9\x8b \xd9\x8a\xd8\xaa\xd8\xac\xd8\xa7\xd9\x88\xd8\xb2 "
    "\xd8\xae\xd9\x85\xd8\xb3\xd9\x8a\xd9\x86 \xd8\xad\xd8\xb1\xd9\x81\xd8\xa7\xd9\x8b\t\t1985\t"
    "novel\n"
    "ja\t\xe5\x90\xbe\xe8\xbc\xa9\xe3\x81\xaf\xe7\x8c\xab\xe3\x81\xa7\xe3\x81\x82\xe3\x82\x8b"
    "\xe3\x80\x81\xe5\x90\x8d\xe5\x89\x8d\xe3\x81\xaf\xe3\x81\xbe\xe3\x81\xa0\xe7\x84\xa1\xe3\x81"
    "\x84\xe3\x80\x82\xe3\x81\xa9\xe3\x81\x93\xe3\x81\xa7\xe7\x94\x9f\xe3\x82\x8c\xe3\x81\x9f\xe3"
    "\x81\x8b\xe3\x81\xa8\xe3\x82\x93\xe3\x81\xa8\xe8\xa6\x8b\xe5\xbd\x93\xe3\x81\x8c\xe3\x81\xa4"
    "\xe3\x81\x8b\xe3\x81\xac\t\t1905\tnovel|cats\n"
    "fr\t\xc3\x89tude \xc3\xa0 la fran\xc3\xa7"
    "aise \xe2\x80\x94 \xc5\x93uvres compl\xc3\xa8tes, "
    "\xc3\xa9"
    "dition r\xc3\xa9vis\xc3\xa9"
    "e et augment\xc3\xa9"
    "e\t\t1999\tessay\n"
    "cm\tCombining e\xcc\x81"
    "e\xcc\x81"
    "e\xcc\x81"
    "e\xcc\x81"
    "e\xcc\x81"
    "e\xcc\x81"
    "e\xcc\x81"
    "e\xcc\x81"
    "e\xcc\x81"
    "e\xcc\x81"
    "e\xcc\x81"
    "e\xcc\x81"
    "e\xcc\x81"
    "e\xcc\x81"
    "e\xcc\x81"
    "e\xcc\x81"
    "e\xcc\x81"
    "e\xcc\x81"
    "e\xcc\x81"
    "e\xcc\x81"
    "e\xcc\x81"
    "e\xcc\x81"
    "e\xcc\x81"
    "e\xcc\x81"
    "e\xcc\x81"
    "e\xcc\x81"
    "e\xcc\x81"
    "e\xcc\x81"
    "e\xcc\x81"
    "e\xcc\x81"
    "e\xcc\x81"
    "e\xcc\x81"
    "e\xcc\x81"
    "e\xcc\x81"
    "e\xcc\x81"
    "e\xcc\x81"
    "e\xcc\x81"
    "e\xcc\x81"
    "e\xcc\x81"
    "e\xcc\x81\t\t2000\tessay\n"
    "pl\tPlain\t\t2001\tcats\n"
    "p2\tPlain two\t\t2002\tdogs\n";

/* u1 has only pl; the others tie it to the rest. pl is the most popular (4 patrons), then ja
 * (3). Timestamps give sequence its order. */
static const char INTERACTIONS[] = "user\titem\tvalue\ttimestamp\n"
                                   "u1\tpl\t1\t100\n"
                                   "u2\tpl\t1\t100\nu2\tar\t1\t101\nu2\tja\t1\t102\n"
                                   "u2\tfr\t1\t103\nu2\tcm\t1\t104\n"
                                   "u3\tpl\t1\t100\nu3\tar\t1\t101\nu3\tja\t1\t102\n"
                                   "u4\tp2\t1\t100\nu4\tja\t1\t101\nu4\tpl\t1\t102\n";

static void fixture(void)
{
    static int made;
    if (made)
        return;
    assert_int_equal(tl_test_write(tl_test_tmp("items.tsv"), ITEMS), 0);
    assert_int_equal(tl_test_write(tl_test_tmp("inter.tsv"), INTERACTIONS), 0);
    const char *models[] = {"itemknn", "content", "sequence"};
    for (size_t k = 0; k < sizeof(models) / sizeof(models[0]); k++) {
        char out[64];
        snprintf(out, sizeof(out), "%s.tlm", models[k]);
        tl_test_cli_check(tl_test_cli("train --model %s --set autotune=0 --data '%s' --items '%s' "
                                      "--out '%s'",
                                      models[k], tl_test_tmp("inter.tsv"), tl_test_tmp("items.tsv"),
                                      tl_test_tmp(out)),
                          0, NULL, NULL);
    }
    tl_test_cli_check(tl_test_cli("train --model itemknn --set autotune=0 --data '%s' --out '%s'",
                                  tl_test_tmp("inter.tsv"), tl_test_tmp("nocat.tlm")),
                      0, NULL, NULL);
    made = 1;
}

/* Index of the first byte of s that is not valid UTF-8, or -1. */
static long bad_utf8(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    for (long i = 0; p[i];) {
        int n = p[i] < 0x80             ? 1
                : (p[i] & 0xE0) == 0xC0 ? 2
                : (p[i] & 0xF0) == 0xE0 ? 3
                : (p[i] & 0xF8) == 0xF0 ? 4
                                        : 0;
        if (!n || (n == 2 && p[i] < 0xC2))
            return i;
        for (int k = 1; k < n; k++)
            if ((p[i + k] & 0xC0) != 0x80)
                return i;
        i += n;
    }
    return -1;
}

/* Display columns of the first len bytes of s (a UTF-8 locale is set in main). */
static int columns(const char *s, size_t len)
{
    char buf[1024];
    wchar_t w[1024];
    snprintf(buf, sizeof(buf), "%.*s", (int)len, s);
    size_t n = mbstowcs(w, buf, 1024);
    assert_true(n != (size_t)-1);
    int c = wcswidth(w, n);
    assert_true(c >= 0);
    return c;
}

static void test_titles_are_laid_out_by_columns(void **state)
{
    (void)state;
    fixture();
    tl_test_cli_check(tl_test_cli("recommend --model '%s' --user u1", tl_test_tmp("itemknn.tlm")),
                      0, "because: Plain", NULL);
    char *out = tl_test_cli_out();
    long bad = bad_utf8(out);
    if (bad >= 0)
        fail_msg("invalid UTF-8 at byte %ld of:\n%s", bad, out);
    /* " 1. id(12) title(50) score(8)": the score ends at column 4+12+1+50+1+8 = 76 on every
     * line, whatever the script of the title; the reason (if any) follows */
    int lines = 0;
    for (char *line = out, *nl; (nl = strchr(line, '\n')); line = nl + 1, lines++) {
        char *why = strstr(line, "  because:");
        char *end = why && why < nl ? why : nl;
        if (columns(line, (size_t)(end - line)) != 76)
            fail_msg("line %d is %d columns up to its reason:\n%.*s", lines + 1,
                     columns(line, (size_t)(end - line)), (int)(nl - line), line);
    }
    assert_int_equal(lines, 5);                   /* ar, ja, fr, cm, p2 */
    assert_non_null(strstr(out, "\xe2\x80\xa6")); /* long titles end in an ellipsis */
    free(out);
}

/* j[key] as a string, "" when absent (cmocka cannot compare NULL). */
static const char *str(const json_t *j, const char *key)
{
    const char *s = json_string_value(json_object_get(j, key));
    return s ? s : "";
}

static json_t *json_out(void)
{
    char *out = tl_test_cli_out();
    json_error_t e;
    json_t *j = json_loads(out, 0, &e);
    if (!j)
        fail_msg("not one JSON object: %s\n%s", e.text, out);
    free(out);
    return j;
}

static void test_no_usable_history_gets_popular_items(void **state)
{
    (void)state;
    fixture();
    const char *m = tl_test_tmp("itemknn.tlm");
    /* every history item unknown to the model */
    tl_test_cli_check(tl_test_cli("recommend --model '%s' --history nope,zilch --n 2", m), 0,
                      "popular: no usable history for this patron", "'nope' is not in the model");
    char *out = tl_test_cli_out();
    /* pl has four patrons, ja three */
    assert_true(strncmp(out, " 1. pl ", 7) == 0);
    assert_non_null(strstr(out, " 2. ja "));
    assert_null(strstr(out, "0.0000")); /* not the catalogue with score 0 */
    free(out);
    tl_test_cli_check(tl_test_cli("recommend --model '%s' --history nope --n 2 --json", m), 0, NULL,
                      NULL);
    json_t *j = json_out();
    assert_string_equal(str(j, "reason"), "popular: no usable history for this patron");
    json_t *first = json_array_get(json_object_get(j, "items"), 0);
    assert_string_equal(str(first, "item"), "pl");
    json_t *why = json_array_get(json_object_get(first, "because"), 0);
    assert_string_equal(str(why, "kind"), "popular");
    assert_int_equal(json_integer_value(json_object_get(why, "patrons")), 4);
    json_decref(j);
}

static void test_opted_out_patron_gets_popular_items(void **state)
{
    (void)state;
    const char *db = tl_test_tmp("optout.db"), *m = tl_test_tmp("optout.tlm");
    assert_int_equal(
        tl_test_write(tl_test_tmp("patrons.csv"), "user,personalize\na,yes\nb,yes\nc,no\n"), 0);
    assert_int_equal(
        tl_test_write(tl_test_tmp("loans.tsv"), "user\titem\na\tx\na\ty\nb\tx\nb\tz\nc\tz\n"), 0);
    assert_int_equal(tl_test_cli("--db '%s' import users '%s'", db, tl_test_tmp("patrons.csv")), 0);
    assert_int_equal(tl_test_cli("--db '%s' import events '%s'", db, tl_test_tmp("loans.tsv")), 0);
    assert_int_equal(
        tl_test_cli("--db '%s' train --model itemknn --set autotune=0 --out '%s'", db, m), 0);
    tl_test_cli_check(tl_test_cli("recommend --model '%s' --user c --n 1", m), 0, " 1. x ", NULL);
    tl_test_cli_check(tl_test_cli("recommend --model '%s' --user c --n 1", m), 0,
                      "popular: no usable history for this patron", NULL);
    /* --users all: the same for c, said once on stderr */
    tl_test_cli_check(tl_test_cli("recommend --model '%s' --users all --n 1", m), 0, "c\tx\t1\t2",
                      "1 patron without a usable history got the most popular items");
}

static void test_users_all_json_is_json_lines(void **state)
{
    (void)state;
    fixture();
    tl_test_cli_check(
        tl_test_cli("recommend --model '%s' --users all --json --n 2", tl_test_tmp("itemknn.tlm")),
        0, NULL, NULL);
    char *out = tl_test_cli_out();
    int n = 0;
    for (char *line = out, *nl; (nl = strchr(line, '\n')); line = nl + 1, n++) {
        *nl = '\0';
        json_error_t e;
        json_t *j = json_loads(line, 0, &e);
        if (!j)
            fail_msg("line %d is not JSON: %s\n%s", n + 1, e.text, line);
        assert_true(json_is_string(json_object_get(j, "user")));
        assert_true(json_array_size(json_object_get(j, "items")) > 0);
        json_decref(j);
    }
    assert_int_equal(n, 4); /* one line per patron */
    free(out);
}

static void test_out_is_written_for_one_user(void **state)
{
    (void)state;
    fixture();
    const char *file = tl_test_tmp("u1.txt");
    tl_test_cli_check(tl_test_cli("recommend --model '%s' --user u1 --out '%s'",
                                  tl_test_tmp("itemknn.tlm"), file),
                      0, NULL, NULL);
    char *out = tl_test_cli_out(), *text = tl_test_read(file);
    assert_string_equal(out, "");
    assert_non_null(text);
    assert_non_null(strstr(text, " 1. "));
    free(out);
    free(text);
    tl_test_cli_check(tl_test_cli("recommend --model '%s' --user u1 --json --out '%s'",
                                  tl_test_tmp("itemknn.tlm"), file),
                      0, NULL, NULL);
    json_error_t e;
    json_t *j = json_load_file(file, 0, &e);
    assert_non_null(j);
    json_decref(j);
}

static void test_filters(void **state)
{
    (void)state;
    fixture();
    const char *m = tl_test_tmp("itemknn.tlm");
    /* nothing matches: an error naming the filters, nothing on stdout */
    tl_test_cli_check(
        tl_test_cli("recommend --model '%s' --user u1 --filter subject=poetry --filter year=1999",
                    m),
        1, NULL, "no item of the catalogue matches --filter subject=poetry --filter year=1999");
    char *out = tl_test_cli_out();
    assert_string_equal(out, "");
    free(out);
    /* the same key twice: either (cats: ja; dogs: p2), never the essays */
    tl_test_cli_check(
        tl_test_cli("recommend --model '%s' --user u1 --filter subject=cats --filter subject=dogs",
                    m),
        0, " ja ", NULL);
    out = tl_test_cli_out();
    assert_non_null(strstr(out, " p2 "));
    assert_null(strstr(out, " fr "));
    assert_null(strstr(out, " ar "));
    free(out);
    /* different keys: both (novel and 1905: ja only) */
    tl_test_cli_check(tl_test_cli("recommend --model '%s' --user u1 --filter subject=novel "
                                  "--filter year=1900-1950",
                                  m),
                      0, " 1. ja ", NULL);
    /* a model without a catalogue says how to get one */
    tl_test_cli_check(tl_test_cli("recommend --model '%s' --user u1 --filter subject=cats",
                                  tl_test_tmp("nocat.tlm")),
                      2, NULL,
                      "this model has no catalogue: train with --items FILE or from the store");
    tl_test_cli_check(tl_test_cli("recommend --model '%s' --user u1 --filter colour=red", m), 2,
                      NULL, "unknown filter 'colour=red'");
}

/* The kind of the first evidence of the first item of u's recommendations by model. */
static void expect_kind(const char *model, const char *user, const char *kind)
{
    char file[64];
    snprintf(file, sizeof(file), "%s.tlm", model);
    tl_test_cli_check(
        tl_test_cli("recommend --model '%s' --user %s --json", tl_test_tmp(file), user), 0, NULL,
        NULL);
    json_t *j = json_out();
    json_t *why = json_array_get(
        json_object_get(json_array_get(json_object_get(j, "items"), 0), "because"), 0);
    if (!why)
        fail_msg("%s gave no evidence for %s", model, user);
    assert_string_equal(str(why, "kind"), kind);
    assert_true(json_is_string(json_object_get(why, "item")));
    assert_true(json_is_string(json_object_get(why, "title")));
    json_decref(j);
}

static void test_evidence_has_kind_and_title(void **state)
{
    (void)state;
    fixture();
    expect_kind("itemknn", "u1", "history");
    expect_kind("content", "u4", "similar_content");
    expect_kind("sequence", "u1", "next_after");
    tl_test_cli_check(
        tl_test_cli("recommend --model '%s' --user u1 --json", tl_test_tmp("itemknn.tlm")), 0,
        "\"title\":\"Plain\"", NULL);
}

static void test_export_events_for_evaluation(void **state)
{
    (void)state;
    const char *db = tl_test_tmp("export.db"), *ev = tl_test_tmp("events.tsv");
    assert_int_equal(tl_test_write(tl_test_tmp("xp.csv"), "user,personalize\nr,yes\ns,no\n"), 0);
    assert_int_equal(tl_test_write(tl_test_tmp("xe.tsv"), "user\titem\ttype\ttimestamp\n"
                                                          "r\tb1\tloan\t100\nr\tb1\trenew\t200\n"
                                                          "r\tb2\tview\t150\nr\tb3\treturn\t160\n"
                                                          "s\tb1\tloan\t300\n"),
                     0);
    assert_int_equal(tl_test_cli("--db '%s' import users '%s'", db, tl_test_tmp("xp.csv")), 0);
    assert_int_equal(tl_test_cli("--db '%s' import events '%s'", db, tl_test_tmp("xe.tsv")), 0);
    tl_test_cli_check(tl_test_cli("--db '%s' export events --out '%s'", db, ev), 0, NULL, NULL);
    char *text = tl_test_read(ev);
    assert_non_null(text);
    /* loan + renew add up; a return counts 0 and the opted-out patron s is left out */
    assert_string_equal(text, "user\titem\tvalue\ttimestamp\n"
                              "r\tb1\t1.5\t200\n"
                              "r\tb2\t0.2\t150\n");
    free(text);
    tl_test_cli_check(tl_test_cli("--db '%s' export events --weights view=0", db), 0,
                      "r\tb1\t1.5\t200\n", NULL);
    char *out = tl_test_cli_out();
    assert_null(strstr(out, "b2"));
    free(out);
    /* the protocol's split reads it */
    tl_test_cli_check(tl_test_cli("split '%s' '%s' --mode temporal --implicit --no-filter", ev,
                                  tl_test_tmp("xsplit")),
                      0, "train 1 pairs, test 1 pairs", NULL);
}

/* An id with a TAB or a line break never reaches a TSV field: the writers refuse it (the
 * importers are meant to reject such ids first; then there is nothing to write). */
static void test_tsv_writers_refuse_tabs_in_ids(void **state)
{
    (void)state;
    const char *db = tl_test_tmp("tab.db"), *m = tl_test_tmp("tab.tlm");
    assert_int_equal(tl_test_write(tl_test_tmp("tab.jsonl"),
                                   "{\"user\":\"u\\tx\",\"item\":\"i1\"}\n"
                                   "{\"user\":\"v\",\"item\":\"i1\"}\n"
                                   "{\"user\":\"v\",\"item\":\"i\\n2\"}\n"),
                     0);
    if (tl_test_cli("--db '%s' import events '%s'", db, tl_test_tmp("tab.jsonl")) != 0) {
        printf("the importer refuses such ids: nothing to check\n");
        return;
    }
    assert_int_equal(tl_test_cli("--db '%s' train --model popular --out '%s'", db, m), 0);
    tl_test_cli_check(
        tl_test_cli("recommend --model '%s' --users all --out '%s'", m, tl_test_tmp("tab.tsv")), 3,
        NULL, "user id 'u\\tx' contains a TAB or line break");
    assert_int_equal(access(tl_test_tmp("tab.tsv"), F_OK), -1); /* no partial file */
    tl_test_cli_check(tl_test_cli("--db '%s' export events", db), 3, NULL,
                      "contains a TAB or line break and cannot be written as TSV");
    /* JSON holds any string */
    tl_test_cli_check(tl_test_cli("recommend --model '%s' --users all --json", m), 0,
                      "\"user\":\"u\\tx\"", NULL);
}

static void test_ctrl_c_stops_training_without_a_model(void **state)
{
    (void)state;
    const char *data = tl_test_source("tests/data/readme/interactions.tsv");
    const char *fifo = tl_test_tmp("train.fifo"), *m = tl_test_tmp("interrupted.tlm");
    assert_int_equal(tl_test_sh("mkfifo '%s'", fifo), 0);
    /* The FIFO makes the timing certain: SIGINT arrives while train waits for its data, after
     * it installed its handler (opening the FIFO for writing waits for train to open it). Job
     * control (set -m) keeps SIGINT from being ignored in the background job. */
    int rc = tl_test_sh("bash -c 'set -m; \"%s\" train --model popular --data \"%s\" --out \"%s\" "
                        "2> \"%s\" & pid=$!; exec 3> \"%s\"; kill -INT $pid; cat \"%s\" >&3; "
                        "exec 3>&-; wait $pid; echo $? > \"%s\"'",
                        tl_test_bin(), fifo, m, tl_test_tmp("int.err"), fifo, data,
                        tl_test_tmp("int.rc"));
    assert_int_equal(rc, 0);
    char *st = tl_test_read(tl_test_tmp("int.rc")), *err = tl_test_read(tl_test_tmp("int.err"));
    assert_non_null(st);
    assert_non_null(err);
    assert_int_equal(atoi(st), 130);
    assert_non_null(strstr(err, "tailor: train: interrupted; no model written"));
    assert_int_equal(access(m, F_OK), -1);
    free(st);
    free(err);
}

int main(void)
{
    if (!setlocale(LC_CTYPE, "C.UTF-8")) {
        printf("skipped: no C.UTF-8 locale\n");
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_titles_are_laid_out_by_columns),
        cmocka_unit_test(test_no_usable_history_gets_popular_items),
        cmocka_unit_test(test_opted_out_patron_gets_popular_items),
        cmocka_unit_test(test_users_all_json_is_json_lines),
        cmocka_unit_test(test_out_is_written_for_one_user),
        cmocka_unit_test(test_filters),
        cmocka_unit_test(test_evidence_has_kind_and_title),
        cmocka_unit_test(test_export_events_for_evaluation),
        cmocka_unit_test(test_tsv_writers_refuse_tabs_in_ids),
        cmocka_unit_test(test_ctrl_c_stops_training_without_a_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
