/* Collection analytics (docs/ANALYTICS.md): `tailor analytics` and GET /v1/analytics on a
 * fixture store whose every count is known. The period ends at END, the newest event. Items
 * (added 800 days before END unless said): a1, a2 (art, 2 copies each), m1 (art|science, no
 * copy count: 1), s1 (science: 3 holdings, 2 at main and 1 at east, beside a copy count of 10
 * that the holdings override), r1 (rare), h1 (hot), old1 and old2 (history; old1 held at
 * east), late1 (history, added 100 days before END), n1 (art, added 10 days before), n2
 * (science, 20 days before) and q1 (subjects `say "hi"` and `back\slash`, no copy, 300 days).
 * Patrons u1..u10. In the period: a1 borrowed by u1-u6 at main; a2 by u1 at east, and held by u2
 * who then borrowed it (east); m1 by u7 at main; s1 borrowed by u6-u10 and held by u1-u5 without a
 * loan since (main); r1 borrowed by u1-u4, and held again by u4 after the loan; h1 borrowed by
 * u1-u10 at main; n1 by u1-u5. old2 was borrowed before the period; u10 viewed a1 at END. Searches
 * (totals as recorded): "  Quantum Knitting " by u1-u5 (0 results) and "QUANTUM knitting" by u6
 * (2), "Dragons" by u1-u4 (1), "cats" by u1-u6 (50) and an anonymous "x" (0). With
 * TL_TEST_DB=postgres (test_analytics_postgres) the store is a PostgreSQL database. */
#include "pg_server.h"
#include "support.h"

#include <curl/curl.h>
#include <jansson.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "serve_child.h"

#define END 1735689600LL /* 2025-01-01 */
#define DAY 86400LL

static char db[512];

static void add(char **buf, size_t *len, const char *line)
{
    size_t n = strlen(line);
    *buf = realloc(*buf, *len + n + 1);
    assert_non_null(*buf);
    memcpy(*buf + *len, line, n + 1);
    *len += n;
}

/* user, item, type, days before END, branch */
static void ev(char **buf, size_t *len, int user, const char *item, const char *type, int days,
               const char *branch)
{
    char line[256];
    snprintf(line, sizeof(line), "u%d\t%s\t%s\t%lld\t%s\n", user, item, type, END - days * DAY,
             branch);
    add(buf, len, line);
}

/* Runs q on the store (h: SQLite's connection; on PostgreSQL each statement commits alone). */
static void sql(sqlite3 *h, const char *q)
{
    char *err = NULL;
    if (tl_test_on_pg()) {
        if (strncmp(q, "BEGIN;", 6) == 0)
            q += 6;
        if (strcmp(q, "COMMIT;") != 0)
            tl_test_pg_int("an", q);
    } else if (sqlite3_exec(h, q, NULL, NULL, &err) != SQLITE_OK) {
        fail_msg("%s: %s", q, err);
    }
}

static void search(sqlite3 *h, const char *user, const char *query, int total, int n)
{
    char q[512];
    snprintf(q, sizeof(q),
             tl_test_on_pg()
                 ? "WITH s AS (INSERT INTO searches(user_id, query, ts) VALUES ((SELECT id FROM"
                   " users WHERE ext_id = '%s'), '%s', %lld) RETURNING id)"
                   " INSERT INTO search_totals SELECT id, %d FROM s"
                 : "INSERT INTO searches(user_id, query, ts) VALUES ((SELECT id FROM users WHERE"
                   " ext_id = '%s'), '%s', %lld); INSERT INTO search_totals VALUES"
                   " (last_insert_rowid(), %d);",
             user, query, END - DAY - n, total);
    sql(h, q);
}

static int make_store(void **state)
{
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (tl_test_on_pg() && !tl_test_pg_start())
        return -1;
    snprintf(db, sizeof(db), "%s", tl_test_store("an.db"));
    long long old = END - 800 * DAY;
    char items[2048];
    snprintf(items, sizeof(items),
             "item\ttype\ttitle\tsubjects\tadded\tcopies\n"
             "a1\tbook\tArt One\tart\t%lld\t2\n"
             "a2\tbook\tArt Two\tart\t%lld\t2\n"
             "m1\tbook\tMixed\tart|science\t%lld\t\n"
             "s1\tbook\tScience\tscience\t%lld\t10\n"
             "r1\tbook\tRare\trare\t%lld\t1\n"
             "h1\tbook\tHot\thot\t%lld\t1\n"
             "old1\tbook\tOld One\thistory\t%lld\t\n"
             "old2\tbook\tOld Two\thistory\t%lld\t\n"
             "late1\tbook\tLate\thistory\t%lld\t\n"
             "n1\tbook\tNew Art\tart\t%lld\t1\n"
             "n2\tbook\tNew Science\tscience\t%lld\t1\n"
             "q1\tbook\tQuoted\tsay \"hi\"|back\\slash\t%lld\t0\n",
             old, old, old, old, old, old, old, old, END - 100 * DAY, END - 10 * DAY,
             END - 20 * DAY, END - 300 * DAY);
    char *evs = NULL;
    size_t n = 0;
    add(&evs, &n, "user\titem\ttype\ttimestamp\tbranch\n");
    for (int u = 1; u <= 6; u++)
        ev(&evs, &n, u, "a1", "loan", 30, "main");
    ev(&evs, &n, 1, "a2", "loan", 29, "east");
    ev(&evs, &n, 2, "a2", "hold", 15, "east");
    ev(&evs, &n, 2, "a2", "loan", 10, "east");
    ev(&evs, &n, 7, "m1", "loan", 28, "main");
    for (int u = 6; u <= 10; u++)
        ev(&evs, &n, u, "s1", "loan", 40, "main");
    for (int u = 1; u <= 5; u++)
        ev(&evs, &n, u, "s1", "hold", 20, "main");
    for (int u = 1; u <= 4; u++)
        ev(&evs, &n, u, "r1", "loan", 25, "main");
    ev(&evs, &n, 4, "r1", "hold", 3, "main");
    for (int u = 1; u <= 10; u++)
        ev(&evs, &n, u, "h1", "loan", 35, "main");
    for (int u = 1; u <= 5; u++)
        ev(&evs, &n, u, "n1", "loan", 5, "main");
    ev(&evs, &n, 1, "old2", "loan", 500, "main");
    ev(&evs, &n, 10, "a1", "view", 0, "main");
    if (tl_test_write(tl_test_tmp("an_items.tsv"), items) ||
        tl_test_write(tl_test_tmp("an_events.tsv"), evs))
        return -1;
    free(evs);
    if (tl_test_cli("--db '%s' import items '%s'", db, tl_test_tmp("an_items.tsv")) != 0 ||
        tl_test_cli("--db '%s' import events '%s'", db, tl_test_tmp("an_events.tsv")) != 0)
        return -1;
    sqlite3 *h = NULL;
    if (!tl_test_on_pg() && sqlite3_open(db, &h) != SQLITE_OK)
        return -1;
    sql(h, "BEGIN;"
           "INSERT INTO holdings(copy, item_id, branch) SELECT 's1-1', id, 'main' FROM items"
           " WHERE ext_id = 's1';"
           "INSERT INTO holdings(copy, item_id, branch) SELECT 's1-2', id, 'main' FROM items"
           " WHERE ext_id = 's1';"
           "INSERT INTO holdings(copy, item_id, branch) SELECT 's1-3', id, 'east' FROM items"
           " WHERE ext_id = 's1';"
           "INSERT INTO holdings(copy, item_id, branch) SELECT 'old1-1', id, 'east' FROM items"
           " WHERE ext_id = 'old1';");
    char u[8];
    for (int i = 1; i <= 6; i++) {
        snprintf(u, sizeof(u), "u%d", i);
        if (i <= 5)
            search(h, u, "  Quantum Knitting ", 0, i);
        else
            search(h, u, "QUANTUM knitting", 2, i);
        if (i <= 4)
            search(h, u, "Dragons", 1, i);
        search(h, u, "cats", 50, i);
    }
    search(h, "nobody", "x", 0, 0); /* no such patron: an anonymous search */
    sql(h, "COMMIT;");
    sqlite3_close(h);
    return 0;
}

static int free_store(void **state)
{
    (void)state;
    curl_global_cleanup();
    return 0;
}

/* `tailor --db DB analytics --json ARGS`, parsed */
static json_t *report(const char *args)
{
    int rc = tl_test_cli("--db '%s' analytics --json %s", db, args);
    tl_test_cli_check(rc, 0, NULL, NULL);
    char *out = tl_test_cli_out();
    json_error_t e;
    json_t *j = json_loads(out, 0, &e);
    if (!j)
        fail_msg("not JSON (%s): %s", e.text, out);
    free(out);
    return j;
}

static const json_t *sec(const json_t *r, const char *name)
{
    const json_t *s = json_object_get(json_object_get(r, "sections"), name);
    assert_non_null(s);
    return s;
}

/* The row of tab whose member key is value. */
static const json_t *row(const json_t *tab, const char *key, const char *value)
{
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(tab, "rows"), i, r)
    {
        const char *v = json_string_value(json_object_get(r, key));
        if (v && strcmp(v, value) == 0)
            return r;
    }
    fail_msg("no row %s=%s", key, value);
    return NULL;
}

static long long num(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    if (!json_is_integer(v))
        fail_msg("%s is not a whole number", k);
    return (long long)json_integer_value(v);
}

static double real(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    if (!json_is_number(v))
        fail_msg("%s is not a number", k);
    return json_number_value(v);
}

static int is_null(const json_t *o, const char *k)
{
    return json_is_null(json_object_get(o, k));
}

static const char *str(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "(not a string)";
}

static void test_period(void **state)
{
    (void)state;
    json_t *r = report("");
    const json_t *p = json_object_get(r, "period");
    assert_int_equal(num(p, "until"), END);
    assert_int_equal(num(p, "since"), END - 12 * 2629746LL);
    assert_string_equal(str(p, "to"), "2025-01-01");
    assert_int_equal(num(r, "min_group"), 5);
    assert_true(is_null(r, "branch"));
    json_decref(r);
}

static void test_demand(void **state)
{
    (void)state;
    json_t *r = report("--section demand");
    const json_t *d = sec(r, "demand");
    assert_int_equal(json_object_size(json_object_get(r, "sections")), 1);
    const json_t *art = row(d, "subject", "art");
    assert_int_equal(num(art, "items"), 4); /* a1, a2, m1, n1 */
    assert_int_equal(num(art, "copies"), 6);
    assert_int_equal(num(art, "loans"), 14);
    assert_int_equal(num(art, "holds"), 1);
    assert_int_equal(num(art, "patrons"), 7);
    assert_float_equal(real(art, "loans_per_copy"), 2.333, 1e-9);
    assert_true(is_null(art, "demand"));
    const json_t *sci = row(d, "subject", "science");
    assert_int_equal(num(sci, "items"), 3);
    assert_int_equal(num(sci, "copies"), 5); /* s1's 3 holdings, not its copy count 10 */
    assert_int_equal(num(sci, "loans"), 6);
    assert_int_equal(num(sci, "holds"), 5);
    assert_int_equal(num(sci, "patrons"), 10);
    assert_float_equal(real(sci, "holds_per_copy"), 1.0, 1e-9);
    const json_t *hot = row(d, "subject", "hot");
    assert_int_equal(num(hot, "loans"), 10);
    assert_string_equal(str(hot, "demand"), "high");
    const json_t *hist = row(d, "subject", "history");
    assert_int_equal(num(hist, "items"), 3);
    assert_int_equal(num(hist, "loans"), 0); /* old2's loan was before the period */
    assert_int_equal(num(hist, "patrons"), 0);
    assert_string_equal(str(hist, "demand"), "low");
    /* (15 + 11 + 10 + 0) / (6 + 5 + 1 + 3) over the groups shown */
    assert_float_equal(real(d, "collection_per_copy"), 2.4, 1e-9);
    /* the chart: the subjects shown, in order */
    const json_t *ch = json_object_get(d, "chart");
    assert_int_equal(json_array_size(json_object_get(ch, "subjects")), 6);
    assert_int_equal(json_array_size(json_object_get(ch, "loans_per_copy")), 6);
    /* subjects split whatever they hold: quotes, backslashes */
    assert_int_equal(num(row(d, "subject", "say \"hi\""), "items"), 1);
    assert_int_equal(num(row(d, "subject", "back\\slash"), "copies"), 0);
    assert_true(is_null(row(d, "subject", "back\\slash"), "loans_per_copy"));
    json_decref(r);
}

/* k-anonymity: 4 patrons are suppressed, 5 shown; never a count of 1 to 4 patrons. */
static void test_suppression(void **state)
{
    (void)state;
    json_t *r = report("");
    const json_t *rare = row(sec(r, "demand"), "subject", "rare"); /* u1-u4 */
    assert_true(json_is_true(json_object_get(rare, "suppressed")));
    assert_true(is_null(rare, "loans"));
    assert_true(is_null(rare, "holds"));
    assert_true(is_null(rare, "patrons"));
    assert_int_equal(num(rare, "items"), 1); /* the catalogue's own count stays */
    assert_int_equal(num(sec(r, "demand"), "suppressed"), 1);
    const json_t *h = sec(r, "holds");
    assert_int_equal(num(h, "items"), 2); /* s1 (u1-u5) and r1 (u4) */
    assert_int_equal(num(h, "suppressed"), 1);
    assert_int_equal(json_array_size(json_object_get(h, "rows")), 1);
    const json_t *s1 = row(h, "item", "s1");
    assert_int_equal(num(s1, "queue"), 5);
    assert_int_equal(num(s1, "copies"), 3);
    assert_float_equal(real(s1, "queue_per_copy"), 1.667, 1e-9);
    /* new arrivals: n1's 5 borrowers are shown */
    assert_int_equal(num(row(sec(r, "new"), "subject", "art"), "patrons"), 5);
    json_decref(r);

    r = report("--min-group 6");
    assert_int_equal(num(r, "min_group"), 6);
    assert_int_equal(num(sec(r, "holds"), "suppressed"), 2);
    assert_int_equal(json_array_size(json_object_get(sec(r, "holds"), "rows")), 0);
    const json_t *art = row(sec(r, "new"), "subject", "art");
    assert_true(json_is_true(json_object_get(art, "suppressed")));
    assert_true(is_null(art, "loans"));
    assert_true(
        json_is_true(json_object_get(row(sec(r, "new"), "subject", "(all)"), "suppressed")));
    json_decref(r);

    r = report("--min-group 4");
    rare = row(sec(r, "demand"), "subject", "rare");
    assert_int_equal(num(rare, "loans"), 4);
    assert_int_equal(num(rare, "holds"), 1);
    assert_int_equal(num(rare, "patrons"), 4);
    json_decref(r);
}

static void test_idle(void **state)
{
    (void)state;
    json_t *r = report("--section idle");
    const json_t *i = sec(r, "idle");
    assert_int_equal(num(i, "items"), 8); /* late1, n1 and n2 came during the period */
    assert_int_equal(num(i, "idle"), 2);
    const json_t *bs = json_object_get(i, "by_subject");
    assert_int_equal(num(row(bs, "subject", "history"), "items"), 2);
    assert_int_equal(num(row(bs, "subject", "history"), "idle"), 2);
    assert_int_equal(num(row(bs, "subject", "art"), "items"), 3);
    assert_int_equal(num(row(bs, "subject", "art"), "idle"), 0);
    const json_t *bb = json_object_get(i, "by_branch");
    assert_int_equal(num(row(bb, "branch", "east"), "items"), 2);
    assert_int_equal(num(row(bb, "branch", "east"), "idle"), 1);
    assert_int_equal(num(row(bb, "branch", "main"), "idle"), 0);
    const json_t *sample = json_object_get(json_object_get(i, "sample"), "rows");
    assert_int_equal(json_array_size(sample), 2);
    assert_string_equal(str(json_array_get(sample, 0), "item"), "old1");
    assert_string_equal(str(json_array_get(sample, 1), "item"), "old2");
    json_decref(r);
    /* 20 months take in old2's loan, 500 days before the end */
    r = report("--section idle --months 20");
    assert_int_equal(num(sec(r, "idle"), "idle"), 1);
    json_decref(r);
}

static void test_searches(void **state)
{
    (void)state;
    json_t *r = report("--section searches");
    const json_t *s = sec(r, "searches");
    assert_int_equal(num(s, "queries"), 3); /* quantum knitting, dragons, x; not cats */
    assert_int_equal(num(s, "searches"), 11);
    assert_int_equal(num(s, "suppressed"), 2); /* dragons (4 patrons), x (anonymous) */
    assert_int_equal(json_array_size(json_object_get(s, "rows")), 1);
    const json_t *q = row(s, "query", "quantum knitting");
    assert_int_equal(num(q, "searches"), 6);
    assert_int_equal(num(q, "patrons"), 6);
    assert_int_equal(num(q, "zero_results"), 5);
    assert_int_equal(num(q, "max_results"), 2);
    json_decref(r);
    /* few 0: only the searches that found nothing */
    r = report("--section searches --few 0");
    q = row(sec(r, "searches"), "query", "quantum knitting");
    assert_int_equal(num(q, "searches"), 5);
    json_decref(r);
    tl_test_cli_check(tl_test_cli("--db '%s' analytics --section searches --min-group 1", db), 0,
                      "dragons", NULL);
}

static void test_new(void **state)
{
    (void)state;
    json_t *r = report("--section new");
    const json_t *n = sec(r, "new");
    assert_int_equal(num(n, "days"), 90);
    const json_t *all = row(n, "subject", "(all)");
    assert_int_equal(num(all, "items"), 2); /* n1, n2; not late1 */
    assert_int_equal(num(all, "loaned"), 1);
    assert_int_equal(num(all, "loans"), 5);
    assert_int_equal(num(all, "patrons"), 5);
    assert_float_equal(real(all, "loaned_share"), 0.5, 1e-9);
    assert_float_equal(real(all, "loans_per_item"), 2.5, 1e-9);
    const json_t *sci = row(n, "subject", "science");
    assert_int_equal(num(sci, "items"), 1);
    assert_int_equal(num(sci, "loaned"), 0);
    json_decref(r);
    r = report("--section new --new-days 200"); /* late1 too */
    assert_int_equal(num(row(sec(r, "new"), "subject", "(all)"), "items"), 3);
    json_decref(r);
}

static void test_branch(void **state)
{
    (void)state;
    json_t *r = report("--branch main");
    assert_string_equal(str(r, "branch"), "main");
    const json_t *sci = row(sec(r, "demand"), "subject", "science");
    assert_int_equal(num(sci, "copies"), 2); /* s1's copies at main */
    assert_int_equal(num(sci, "loans"), 6);
    const json_t *i = sec(r, "idle");
    assert_int_equal(num(i, "items"), 1); /* only s1 is held at main */
    assert_int_equal(num(i, "idle"), 0);
    json_decref(r);
}

static void test_csv(void **state)
{
    (void)state;
    tl_test_cli_check(tl_test_cli("--db '%s' analytics --csv", db), 0, NULL, NULL);
    char *out = tl_test_cli_out();
    /* one table per section, each with its header, separated by an empty line */
    assert_true(strncmp(out,
                        "section,subject,items,copies,loans,holds,patrons,loans_per_copy,"
                        "holds_per_copy,demand,suppressed\n",
                        strlen("section,subject,items,copies,loans,holds,patrons,loans_per_copy,"
                               "holds_per_copy,demand,suppressed\n")) == 0);
    assert_non_null(strstr(out, "\ndemand,art,4,6,14,1,7,2.333,0.167,,false\n"));
    assert_non_null(strstr(out, "\ndemand,rare,1,1,,,,,,,true\n"));
    assert_non_null(strstr(out, "\n\nsection,item,title,queue,copies,queue_per_copy,suppressed\n"
                                "holds,s1,Science,5,3,1.667,false\n"));
    assert_non_null(strstr(out, "\n\nsection,subject,items,idle,idle_share,suppressed\n"));
    assert_non_null(strstr(out, "\nidle_by_branch,east,2,1,0.5,false\n"));
    assert_non_null(strstr(out, "\nidle_sample,old1,Old One,history,2022-10-24,1,false\n"));
    assert_non_null(strstr(out, "\nsearches,quantum knitting,6,6,5,2,false\n"));
    assert_non_null(strstr(out, "\nnew,(all),2,1,0.5,5,2.5,5,false\n"));
    int tables = 0, empty = 0;
    for (const char *p = out; *p; p = strchr(p, '\n') + 1) {
        tables += strncmp(p, "section,", 8) == 0;
        empty += *p == '\n';
        /* every other line names its table */
        if (*p != '\n' && strncmp(p, "section,", 8) != 0)
            assert_true(strncmp(p, "demand,", 7) == 0 || strncmp(p, "holds,", 6) == 0 ||
                        strncmp(p, "idle_", 5) == 0 || strncmp(p, "searches,", 9) == 0 ||
                        strncmp(p, "new,", 4) == 0);
    }
    assert_int_equal(tables, 7);
    assert_int_equal(empty, 6);
    free(out);
    /* text: the default */
    tl_test_cli_check(tl_test_cli("--db '%s' analytics", db), 0, "== Hold queues ==", NULL);
}

static void test_bad_flags(void **state)
{
    (void)state;
    tl_test_cli_check(tl_test_cli("--db '%s' analytics --months 0", db), 2, NULL, "--months");
    tl_test_cli_check(tl_test_cli("--db '%s' analytics --section nope", db), 2, NULL, "--section");
    tl_test_cli_check(tl_test_cli("--db '%s' analytics --since yesterday", db), 2, NULL,
                      "--since 'yesterday'");
    tl_test_cli_check(tl_test_cli("--db '%s' analytics --json --csv", db), 2, NULL,
                      "exclude each other");
    tl_test_cli_check(tl_test_cli("--db '%s' analytics --min-group 0", db), 2, NULL, "--min-group");
    tl_test_cli_check(tl_test_cli("--db '%s' analytics --since 2030-01-01", db), 2, NULL,
                      "after the newest event");
    tl_test_cli_check(tl_test_cli("--db '%s' analytics", tl_test_tmp("none.db")), 1, NULL,
                      "no Tailor store");
}

/* ---- GET /v1/analytics ------------------------------------------------------------------------
 */

static long get(int port, const char *path, const char *key, json_t **body)
{
    char h[256];
    snprintf(h, sizeof(h), "Authorization: Bearer %s", key ? key : "");
    const char *const headers[] = {key ? h : NULL, NULL};
    tl_test_reply t;
    long st = tl_test_request(port, "GET", path, headers, NULL, 0, &t);
    *body = t.body ? json_loads(t.body, 0, NULL) : NULL;
    tl_test_reply_free(&t);
    return st;
}

static void test_api(void **state)
{
    (void)state;
    char sdb[512], admin[128], app[128], patron[128];
    snprintf(sdb, sizeof(sdb), "%s", tl_test_tmp("an_srv.db"));
    assert_int_equal(tl_test_sh("cp '%s' '%s'", db, sdb), 0);
    tl_test_make_key(sdb, "--role admin", admin, sizeof(admin));
    tl_test_make_key(sdb, "--role app", app, sizeof(app));
    tl_test_make_key(sdb, "--role patron --user u1", patron, sizeof(patron));
    tl_test_cli_check(
        tl_test_cli("--db '%s' train --model popular --out '%s'", sdb, tl_test_tmp("an.tlm")), 0,
        NULL, NULL);
    tl_test_server s = {0};
    const char *err = tl_test_tmp("an_srv.err");
    if (tl_test_serve_with(&s, sdb, tl_test_tmp("an.tlm"), err, TL_TEST_AUTH, NULL) != 0)
        fail_msg("the server did not start");
    json_t *b = NULL;
    assert_int_equal(get(s.port, "/v1/analytics", NULL, &b), 401);
    json_decref(b);
    assert_int_equal(get(s.port, "/v1/analytics", app, &b), 403);
    json_decref(b);
    assert_int_equal(get(s.port, "/v1/analytics", patron, &b), 403);
    json_decref(b);
    assert_int_equal(get(s.port, "/v1/analytics", admin, &b), 200);
    assert_non_null(b);
    assert_int_equal(num(row(sec(b, "demand"), "subject", "art"), "loans"), 14);
    assert_int_equal(json_object_size(json_object_get(b, "sections")), 5);
    json_decref(b);
    /* a smaller k than the server's is raised to it: 4 patrons stay suppressed */
    assert_int_equal(get(s.port, "/v1/analytics?section=demand&min_group=1", admin, &b), 200);
    assert_int_equal(num(b, "min_group"), 5);
    assert_true(
        json_is_true(json_object_get(row(sec(b, "demand"), "subject", "rare"), "suppressed")));
    json_decref(b);
    assert_int_equal(get(s.port, "/v1/analytics?section=holds&min_group=6", admin, &b), 200);
    assert_int_equal(num(sec(b, "holds"), "suppressed"), 2);
    json_decref(b);
    assert_int_equal(get(s.port, "/v1/analytics?section=nope", admin, &b), 400);
    assert_string_equal(str(json_object_get(b, "error"), "field"), "section");
    json_decref(b);
    assert_int_equal(get(s.port, "/v1/analytics?months=abc", admin, &b), 400);
    assert_string_equal(str(json_object_get(b, "error"), "field"), "months");
    json_decref(b);
    assert_int_equal(get(s.port, "/v1/analytics?months=0", admin, &b), 400);
    assert_string_equal(str(json_object_get(b, "error"), "field"), "months");
    json_decref(b);
    assert_int_equal(get(s.port, "/v1/analytics?bogus=1", admin, &b), 400);
    assert_string_equal(str(json_object_get(b, "error"), "field"), "bogus");
    json_decref(b);
    tl_test_serve_stop(&s, SIGTERM);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_period),      cmocka_unit_test(test_demand),
        cmocka_unit_test(test_suppression), cmocka_unit_test(test_idle),
        cmocka_unit_test(test_searches),    cmocka_unit_test(test_new),
        cmocka_unit_test(test_branch),      cmocka_unit_test(test_csv),
        cmocka_unit_test(test_bad_flags),   cmocka_unit_test(test_api),
    };
    /* test_analytics_postgres: all but the server's copy of the store's file */
    const struct CMUnitTest any_engine[] = {
        cmocka_unit_test(test_period),      cmocka_unit_test(test_demand),
        cmocka_unit_test(test_suppression), cmocka_unit_test(test_idle),
        cmocka_unit_test(test_searches),    cmocka_unit_test(test_new),
        cmocka_unit_test(test_branch),      cmocka_unit_test(test_csv),
        cmocka_unit_test(test_bad_flags),
    };
    if (tl_test_on_pg())
        return tl_test_pg_start() ? cmocka_run_group_tests_name("analytics on postgres", any_engine,
                                                                make_store, free_store)
                                  : TL_TEST_SKIP;
    return cmocka_run_group_tests(tests, make_store, free_store);
}
