/* The library's context in the service: events (items of type "event") are recommended only
 * while upcoming, at the request's time, without a training; the homepage's "Upcoming events
 * for you" row; branch-aware availability (copies on the shelf at the patron's branch first);
 * the academic calendar ("For your exams" first during exam weeks) and learned seasonality
 * ("Borrowed at this time of year" in the weeks a subject was borrowed in past years). With
 * TL_TEST_DB=postgres (test_library_context_postgres) the stores are PostgreSQL databases. */
#include "store/sqlite/sqlite_search.h" /* the tokenizer, for a raw connection's writes */
#include "pg_server.h"
#include "support.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tailor/ingest.h"
#include "tailor/service.h"
#include "tailor/store.h"

/* Patrons a* borrow the A books and go to the talks E1..E3 (a0..a2 only); b* borrow the B
 * books. Patron p has A1 and A2. E1: 2030-01-10 10:00 to 12:00; E2 starts 2030-02-01 (no end);
 * E3 starts 2030-01-05 by its item_details (its items file said 2031); E0 was in 2020. */
static char db[512], model[512];

static long long at(const char *iso)
{
    int64_t t;
    assert_int_equal(tl_parse_time(iso, strlen(iso), &t), 0);
    return (long long)t;
}

static int setup(void **state)
{
    (void)state;
    char loans[8192] = "user\titem\ttimestamp\n";
    size_t o = strlen(loans);
    for (int u = 0; u < 8; u++) {
        for (int i = 1; i <= 5; i++)
            o += (size_t)snprintf(loans + o, sizeof(loans) - o, "a%d\tA%d\t%d\nb%d\tB%d\t%d\n", u,
                                  i, 1000 + u * 10 + i, u, i, 2000 + u * 10 + i);
        for (int e = 0; u < 3 && e <= 3; e++)
            o += (size_t)snprintf(loans + o, sizeof(loans) - o, "a%d\tE%d\t%d\n", u, e, 2500 + u);
    }
    snprintf(loans + o, sizeof(loans) - o, "p\tA1\t3000\np\tA2\t3001\n");
    snprintf(db, sizeof(db), "%s", tl_test_store("ctx.db"));
    snprintf(model, sizeof(model), "%s", tl_test_tmp("ctx.tlm"));
    assert_int_equal(tl_test_write(tl_test_tmp("ctx-loans.tsv"), loans), 0);
    assert_int_equal(
        tl_test_write(tl_test_tmp("ctx-items.csv"),
                      "item,type,title,subjects,starts,ends,place\n"
                      "A1,book,Alpha one,Aardvarks,,,\nA2,book,Alpha two,Aardvarks,,,\n"
                      "A3,book,Alpha three,Aardvarks,,,\nA4,book,Alpha four,Aardvarks,,,\n"
                      "A5,book,Alpha five,Aardvarks,,,\nB1,book,Beta one,Bees,,,\n"
                      "B2,book,Beta two,Bees,,,\nB3,book,Beta three,Bees,,,\n"
                      "B4,book,Beta four,Bees,,,\nB5,book,Beta five,Bees,,,\n"
                      "E0,event,Old talk,Aardvarks,2020-05-01 18:00,,Hall\n"
                      "E1,event,Aardvark talk,Aardvarks,2030-01-10 10:00,"
                      "2030-01-10 12:00,Hall\n"
                      "E2,event,Aardvark workshop,Aardvarks,2030-02-01,,Room 2\n"
                      "E3,event,Aardvark walk,Aardvarks,2031-01-01,,Park\n"),
        0);
    assert_int_equal(tl_test_cli("--db '%s' import items '%s'", db, tl_test_tmp("ctx-items.csv")),
                     0);
    assert_int_equal(tl_test_cli("--db '%s' import events '%s'", db, tl_test_tmp("ctx-loans.tsv")),
                     0);
    assert_int_equal(tl_test_write(tl_test_tmp("ctx-users.csv"), "user,home_branch\np,CPL\n"), 0);
    assert_int_equal(tl_test_cli("--db '%s' import users '%s'", db, tl_test_tmp("ctx-users.csv")),
                     0);
    /* the copies: A3 on the shelf at MPL only, A4 at CPL, A5 out at CPL and in at MPL */
    static const struct {
        const char *copy, *item, *branch;
        int available;
    } copies[] = {{"c31", "A3", "MPL", 1},
                  {"c41", "A4", "CPL", 1},
                  {"c42", "A4", "CPL", 1},
                  {"c51", "A5", "CPL", 0},
                  {"c52", "A5", "MPL", 1}};
    tl_store *st;
    tl_diag d;
    assert_int_equal(tl_store_open(db, 0, &st, &d), TL_OK);
    for (size_t k = 0; k < sizeof(copies) / sizeof(copies[0]); k++) {
        tl_holding_rec h = {.copy = copies[k].copy,
                            .item = copies[k].item,
                            .branch = copies[k].branch,
                            .available = copies[k].available};
        assert_int_equal(tl_store_put_holding(st, &h, NULL, &d), TL_OK);
    }
    tl_store_free(st);
    /* E3's details (the catalogue's own record of it) say when it really starts */
    char sql[256];
    snprintf(sql, sizeof(sql),
             "INSERT INTO item_details(item_id, starts, place)"
             " SELECT id, %lld, 'Park' FROM items WHERE ext_id = 'E3'",
             at("2030-01-05T09:00:00Z"));
    if (tl_test_on_pg()) {
        tl_test_pg_int("ctx", sql);
    } else {
        sqlite3 *h;
        assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
        assert_int_equal(tl__sq_search_register(h), SQLITE_OK); /* the search index follows */
        assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(h);
    }
    assert_int_equal(
        tl_test_cli("--db '%s' train --model itemknn --set autotune=0 --out '%s'", db, model), 0);
    return 0;
}

static tl_service *open_service(void)
{
    tl_service_opts o = {.db = db, .model = model, .serving = 1};
    tl_service *s = NULL;
    tl_diag d;
    tl_diag_clear(&d);
    tl_err rc = tl_service_open(&o, &s, &d);
    if (rc != TL_OK)
        fail_msg("tl_service_open: %s: %s", tl_strerror(rc), d.msg);
    return s;
}

/* Which of E0..E3 p's recommendations hold at time t (0: now), as "0123" with '-' for absent. */
static void events_recommended(tl_service *s, long long t, char *out)
{
    tl_rec_query q = {.user = "p", .n = 20, .context = {.time = t}};
    tl_rec_result r;
    tl_diag d;
    assert_int_equal(tl_service_recommend(s, &q, &r, &d), TL_OK);
    strcpy(out, "----");
    for (int k = 0; k < r.n; k++)
        if (r.items[k].item[0] == 'E')
            out[r.items[k].item[1] - '0'] = r.items[k].item[1];
    tl_rec_result_free(&r);
}

static void test_events_only_while_upcoming(void **state)
{
    (void)state;
    tl_service *s = open_service();
    char got[5];
    events_recommended(s, at("2030-01-01T00:00:00Z"), got);
    assert_string_equal(got, "-123"); /* E0 was in 2020 */
    events_recommended(s, at("2030-01-06T00:00:00Z"), got);
    assert_string_equal(got, "-12-"); /* E3 started on the 5th (its details, not its extra) */
    events_recommended(s, at("2030-01-10T11:00:00Z"), got);
    assert_string_equal(got, "-12-"); /* E1 runs until noon */
    events_recommended(s, at("2030-01-10T12:00:01Z"), got);
    assert_string_equal(got, "--2-");
    events_recommended(s, at("2030-03-01T00:00:00Z"), got);
    assert_string_equal(got, "----");
    events_recommended(s, 0, got); /* now: before 2030 */
    assert_string_equal(got, "-123");
    /* "more like this" obeys the same rule, at now */
    tl_rec_query q = {.similar_to = "A1", .n = 20};
    tl_rec_result r;
    tl_diag d;
    assert_int_equal(tl_service_recommend(s, &q, &r, &d), TL_OK);
    for (int k = 0; k < r.n; k++)
        assert_string_not_equal(r.items[k].item, "E0");
    tl_rec_result_free(&r);
    tl_service_close(s);
}

static const tl_home_row *row_named(const tl_home *h, const char *id)
{
    for (int k = 0; k < h->n_rows; k++)
        if (strcmp(h->rows[k].id, id) == 0)
            return &h->rows[k];
    return NULL;
}

static int page_has(const tl_home *h, const char *item)
{
    for (int k = 0; k < h->n_rows; k++)
        for (int j = 0; j < h->rows[k].n; j++)
            if (strcmp(h->rows[k].items[j].item, item) == 0)
                return 1;
    return 0;
}

static void test_homepage_events_row(void **state)
{
    (void)state;
    tl_service *s = open_service();
    tl_home_query q = {.user = "p", .rows = 8, .n = 3, .context = {.time = at("2030-01-01")}};
    tl_home h;
    tl_diag d;
    assert_int_equal(tl_service_homepage(s, &q, &h, &d), TL_OK);
    assert_string_equal(h.rows[0].id, "for_you");
    const tl_home_row *ev = row_named(&h, "events");
    assert_non_null(ev);
    assert_string_equal(ev->title, "Upcoming events for you");
    assert_true(ev->n > 0);
    for (int j = 0; j < ev->n; j++) {
        assert_int_equal(ev->items[j].item[0], 'E');
        assert_string_not_equal(ev->items[j].item, "E0");
        assert_true(ev->items[j].n_evidence > 0); /* because of the A books */
    }
    assert_false(page_has(&h, "E0"));
    tl_home_free(&h);
    /* after them all: no event anywhere on the page, and no events row */
    q.context.time = at("2030-03-01");
    assert_int_equal(tl_service_homepage(s, &q, &h, &d), TL_OK);
    assert_null(row_named(&h, "events"));
    for (int e = 0; e <= 3; e++) {
        char id[3] = {'E', (char)('0' + e), 0};
        assert_false(page_has(&h, id));
    }
    tl_home_free(&h);
    tl_service_close(s);
}

/* p's books (no events: type=book), in order, as "A3 A4 A5". */
static void books(tl_service *s, const char *branch, int ignore_shelf, char *out, tl_rec_result *r)
{
    const char *filters[] = {"type=book"};
    tl_rec_query q = {.user = "p",
                      .n = 3,
                      .filters = filters,
                      .n_filters = 1,
                      .ignore_shelf = ignore_shelf,
                      .context = {.branch = branch}};
    tl_diag d;
    assert_int_equal(tl_service_recommend(s, &q, r, &d), TL_OK);
    out[0] = '\0';
    for (int k = 0; k < r->n; k++)
        sprintf(out + strlen(out), "%s%s", k ? " " : "", r->items[k].item);
}

static const tl_rec_item *find(const tl_rec_result *r, const char *item)
{
    for (int k = 0; k < r->n; k++)
        if (strcmp(r->items[k].item, item) == 0)
            return &r->items[k];
    fail_msg("%s is not in the answer", item);
    return NULL;
}

/* A3, A4 and A5 score the same for p (everyone who had A1 and A2 had them all): the model's
 * order is theirs by index; p's home branch CPL has A4 on the shelf, so it comes first; asked
 * at MPL (the request's branch), A3 and A5 come first; ignore_shelf keeps the model's order. */
static void test_branch_availability(void **state)
{
    (void)state;
    tl_service *s = open_service();
    char got[64];
    tl_rec_result r;
    books(s, NULL, 1, got, &r);
    assert_string_equal(got, "A3 A4 A5");
    tl_rec_result_free(&r);
    books(s, NULL, 0, got, &r);
    assert_string_equal(got, "A4 A3 A5");
    const tl_rec_item *a4 = find(&r, "A4"), *a5 = find(&r, "A5");
    assert_true(a4->availability.known);
    assert_string_equal(a4->availability.branch, "CPL");
    assert_int_equal(a4->availability.on_shelf_here, 2);
    assert_int_equal(a4->availability.on_shelf_elsewhere, 0);
    assert_int_equal(a5->availability.on_shelf_here, 0); /* its CPL copy is out */
    assert_int_equal(a5->availability.on_shelf_elsewhere, 1);
    assert_true(a4->score == find(&r, "A3")->score); /* the model's scores are kept */
    tl_rec_result_free(&r);
    books(s, "MPL", 0, got, &r);
    assert_string_equal(got, "A3 A5 A4");
    assert_string_equal(find(&r, "A3")->availability.branch, "MPL");
    assert_int_equal(find(&r, "A3")->availability.on_shelf_here, 1);
    assert_int_equal(find(&r, "A4")->availability.on_shelf_elsewhere, 2);
    tl_rec_result_free(&r);
    /* the homepage's items carry it too; an event has no copies */
    tl_home_query hq = {.user = "p", .rows = 8, .n = 5, .context = {.time = at("2030-01-01")}};
    tl_home h;
    tl_diag d;
    assert_int_equal(tl_service_homepage(s, &hq, &h, &d), TL_OK);
    for (int k = 0; k < h.n_rows; k++)
        for (int j = 0; j < h.rows[k].n; j++) {
            const tl_rec_item *it = &h.rows[k].items[j];
            if (strcmp(it->item, "A4") == 0)
                assert_int_equal(it->availability.on_shelf_here, 2);
            if (it->item[0] == 'E' || it->item[0] == 'B')
                assert_false(it->availability.known);
        }
    tl_home_free(&h);
    tl_service_close(s);
    /* the command line: recommend --live --json */
    int rc = tl_test_cli("--db '%s' recommend --model '%s' --user p --live --json --n 3 "
                         "--filter type=book",
                         db, model);
    tl_test_cli_check(rc, 0,
                      "\"availability\":{\"branch\":\"CPL\",\"on_shelf_here\":2,"
                      "\"on_shelf_elsewhere\":0}",
                      NULL);
    char *out = tl_test_cli_out();
    assert_true(strstr(out, "\"A4\"") < strstr(out, "\"A3\""));
    free(out);
    rc = tl_test_cli("--db '%s' recommend --model '%s' --user p --live --json --n 3 "
                     "--filter type=book --ignore-shelf",
                     db, model);
    tl_test_cli_check(rc, 0, NULL, NULL);
    out = tl_test_cli_out();
    assert_true(strstr(out, "\"A3\"") < strstr(out, "\"A4\""));
    free(out);
}

/* Tax guides (T*) are borrowed in early April (2024 and 2025), gardening (G*) in late June,
 * fiction (X*) one loan a week through the year. Patron p has T1, G1 and X1 (January). */
static char sdb[512], smodel[512];

static void season_store(void)
{
    if (sdb[0])
        return;
    snprintf(sdb, sizeof(sdb), "%s", tl_test_store("season.db"));
    snprintf(smodel, sizeof(smodel), "%s", tl_test_tmp("season.tlm"));
    char items[2048] = "item,title,subjects\n";
    const char *subj[] = {"T", "Tax", "G", "Gardening", "X", "Fiction"};
    for (int k = 0; k < 3; k++)
        for (int i = 1; i <= 4; i++)
            snprintf(items + strlen(items), sizeof(items) - strlen(items), "%s%d,%s %d,%s\n",
                     subj[2 * k], i, subj[2 * k + 1], i, subj[2 * k + 1]);
    assert_int_equal(tl_test_write(tl_test_tmp("season-items.csv"), items), 0);
    static char loans[32768];
    strcpy(loans, "user\titem\ttimestamp\n");
    long long april[] = {at("2024-04-03T10:00:00Z"), at("2025-04-02T10:00:00Z")};
    long long june[] = {at("2024-06-26T10:00:00Z"), at("2025-06-25T10:00:00Z")};
    for (int u = 0; u < 10; u++)
        for (int i = 1; i <= 4; i++) {
            size_t o = strlen(loans);
            snprintf(loans + o, sizeof(loans) - o,
                     "t%d\tT%d\t%lld\nt%d\tT%d\t%lld\ng%d\tG%d\t%lld\ng%d\tG%d\t%lld\n"
                     "x%d\tX%d\t%lld\n",
                     u, i, april[0] + u, u + 10, i, april[1] + u, u, i, june[0] + u, u + 10, i,
                     june[1] + u, u, i,
                     at("2024-01-10T10:00:00Z") + (long long)((u * 4 + i) % 40) * 7 * 86400);
        }
    size_t o = strlen(loans);
    snprintf(loans + o, sizeof(loans) - o, "p\tT1\t%lld\np\tG1\t%lld\np\tX1\t%lld\n",
             at("2025-01-08T10:00:00Z"), at("2025-01-08T11:00:00Z"), at("2025-01-08T12:00:00Z"));
    assert_int_equal(tl_test_write(tl_test_tmp("season-loans.tsv"), loans), 0);
    assert_int_equal(
        tl_test_cli("--db '%s' import items '%s'", sdb, tl_test_tmp("season-items.csv")), 0);
    assert_int_equal(
        tl_test_cli("--db '%s' import events '%s'", sdb, tl_test_tmp("season-loans.tsv")), 0);
    assert_int_equal(
        tl_test_cli("--db '%s' train --model itemknn --set autotune=0 --out '%s'", sdb, smodel), 0);
}

static tl_service *season_service(const char *calendar)
{
    season_store();
    tl_service_opts o = {.db = sdb, .model = smodel, .serving = 1, .calendar = calendar};
    tl_service *s = NULL;
    tl_diag d;
    tl_err rc = tl_service_open(&o, &s, &d);
    if (rc != TL_OK)
        fail_msg("tl_service_open: %s", d.msg);
    return s;
}

/* p's homepage at when: the first letters of the items of row id ("" when there is no such
 * row), e.g. "TT". */
static void row_letters(tl_service *s, const char *when, const char *id, char *out, char *first)
{
    tl_home_query q = {.user = "p", .rows = 8, .n = 2, .context = {.time = at(when)}};
    tl_home h;
    tl_diag d;
    assert_int_equal(tl_service_homepage(s, &q, &h, &d), TL_OK);
    const tl_home_row *r = row_named(&h, id);
    out[0] = '\0';
    for (int j = 0; r && j < r->n; j++)
        out[j] = r->items[j].item[0], out[j + 1] = '\0';
    if (first)
        snprintf(first, 64, "%.60s", h.rows[0].id);
    if (r && !strcmp(id, "exams"))
        assert_string_equal(r->title, "For your exams: Winter exams");
    tl_home_free(&h);
}

static void test_seasonality(void **state)
{
    (void)state;
    tl_service *s = season_service(NULL);
    char got[16];
    row_letters(s, "2026-04-01T12:00:00Z", "season", got, NULL); /* week 13: tax season */
    assert_true(got[0]);
    for (int k = 0; got[k]; k++)
        assert_int_equal(got[k], 'T');
    row_letters(s, "2026-06-24T12:00:00Z", "season", got, NULL); /* week 25: gardening */
    assert_true(got[0]);
    for (int k = 0; got[k]; k++)
        assert_int_equal(got[k], 'G');
    row_letters(s, "2026-10-01T12:00:00Z", "season", got, NULL); /* nothing peaks then */
    assert_string_equal(got, "");
    tl_service_close(s);
}

static void test_calendar(void **state)
{
    (void)state;
    const char *cal = tl_test_tmp("calendar.tsv");
    assert_int_equal(tl_test_write(cal, "# exams\nname\tkind\tstart\tend\n"
                                        "Autumn term\tterm\t2026-09-28\t2026-12-18\n"
                                        "Winter exams\texam\t2027-01-11\t2027-01-22\n"),
                     0);
    tl_service *s = season_service(cal);
    char got[16], first[64];
    /* in the exam weeks (the last day counts whole): the exams row first, in p's subjects */
    row_letters(s, "2027-01-22T20:00:00Z", "exams", got, first);
    assert_string_equal(first, "exams");
    assert_true(got[0]);
    row_letters(s, "2027-01-11T00:00:00Z", "exams", got, first);
    assert_string_equal(first, "exams");
    /* outside them: none, and the page begins as always */
    row_letters(s, "2027-01-23T00:00:01Z", "exams", got, first);
    assert_string_equal(got, "");
    assert_string_equal(first, "for_you");
    row_letters(s, "2026-11-01T00:00:00Z", "exams", got, first);
    assert_string_equal(first, "for_you");
    tl_service_close(s);
    /* a bad calendar fails the open, naming its line and field */
    assert_int_equal(tl_test_write(cal, "name\tkind\tstart\tend\nMidterms\texams\t2027-01-11\t"
                                        "2027-01-22\n"),
                     0);
    tl_service_opts o = {.db = sdb, .model = smodel, .calendar = cal};
    tl_diag d;
    assert_int_equal(tl_service_open(&o, &s, &d), TL_EPARSE);
    assert_int_equal(d.line, 2);
    assert_string_equal(d.field, "kind");
    /* tailor homepage --calendar and tailor serve --check-config take it too */
    int rc = tl_test_cli("--db '%s' homepage --model '%s' --user p --time 2027-01-12 --calendar "
                         "'%s'",
                         sdb, smodel, cal);
    tl_test_cli_check(rc, 3, NULL, "kind");
    assert_int_equal(tl_test_write(cal, "Winter exams\texam\t2027-01-11\t2027-01-22\n"), 0);
    rc = tl_test_cli("--db '%s' homepage --model '%s' --user p --time 2027-01-12 --calendar "
                     "'%s'",
                     sdb, smodel, cal);
    tl_test_cli_check(rc, 0, "For your exams: Winter exams", NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_events_only_while_upcoming),
        cmocka_unit_test(test_homepage_events_row),
        cmocka_unit_test(test_branch_availability),
        cmocka_unit_test(test_seasonality),
        cmocka_unit_test(test_calendar),
    };
    if (tl_test_on_pg() && !tl_test_pg_start())
        return TL_TEST_SKIP;
    return cmocka_run_group_tests(tests, setup, NULL);
}
