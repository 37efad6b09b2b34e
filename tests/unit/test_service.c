/* The service layer: live recommendations from the store's events, consent, more like this,
 * events all or none, and model swaps under running requests. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "support.h"
#include "pg_server.h"
#include "tailor/service.h"
#include "tailor/store.h"

/* Two reading circles: patrons a* borrow the A books, patrons b* the B books. Patron p has
 * borrowed A1 and A2; patron q opted out of personalization. */
static char db[512], model[512], model2[512];

static int setup(void **state)
{
    (void)state;
    char loans[4096] = "user\titem\ttimestamp\n";
    size_t o = strlen(loans);
    for (int u = 0; u < 8; u++)
        for (int i = 1; i <= 5; i++) {
            if ((u + i) % 4 == 0)
                continue; /* not everyone has everything */
            o += (size_t)snprintf(loans + o, sizeof(loans) - o, "a%d\tA%d\t%d\nb%d\tB%d\t%d\n", u,
                                  i, 1000 + u * 10 + i, u, i, 2000 + u * 10 + i);
        }
    snprintf(loans + o, sizeof(loans) - o, "p\tA1\t3000\np\tA2\t3001\nq\tA1\t3002\n");
    snprintf(db, sizeof(db), "%s", tl_test_store("svc.db")); /* tl_test_tmp's buffers rotate */
    snprintf(model, sizeof(model), "%s", tl_test_tmp("svc.tlm"));
    snprintf(model2, sizeof(model2), "%s", tl_test_tmp("svc2.tlm"));
    assert_int_equal(tl_test_write(tl_test_tmp("svc-loans.tsv"), loans), 0);
    assert_int_equal(tl_test_write(tl_test_tmp("svc-users.csv"), "user,personalize\nq,no\n"), 0);
    assert_int_equal(
        tl_test_write(tl_test_tmp("svc-items.csv"),
                      "item,title,subjects,added\n"
                      "A1,Alpha one,Aardvarks,2020-01-01\nA2,Alpha two,Aardvarks,2020-01-02\n"
                      "A3,Alpha three,Aardvarks,2020-01-03\nA4,Alpha four,Aardvarks,2020-01-04\n"
                      "A5,Alpha five,Aardvarks,2020-01-05\nB1,Beta one,Bees,2020-01-01\n"
                      "B2,Beta two,Bees,2020-01-02\nB3,Beta three,Bees,2020-01-03\n"
                      "B4,Beta four,Bees,2020-01-04\nB5,Beta five,Bees,2020-01-05\n"
                      "N1,New aardvarks,Zoology|aardvarks,2026-12-01\n"
                      "N2,New bees,Bees,2026-12-02\n"),
        0);
    assert_int_equal(tl_test_cli("--db '%s' import items '%s'", db, tl_test_tmp("svc-items.csv")),
                     0);
    assert_int_equal(tl_test_cli("--db '%s' import users '%s'", db, tl_test_tmp("svc-users.csv")),
                     0);
    assert_int_equal(tl_test_cli("--db '%s' import events '%s'", db, tl_test_tmp("svc-loans.tsv")),
                     0);
    assert_int_equal(
        tl_test_cli("--db '%s' train --model itemknn --set autotune=0 --out '%s'", db, model), 0);
    assert_int_equal(
        tl_test_cli("--db '%s' train --model ials --set autotune=0 --out '%s'", db, model2), 0);
    return 0;
}

static tl_service *open_service(const char *m, int writable)
{
    tl_service_opts o = {.db = db, .model = m, .writable = writable, .serving = 1};
    tl_service *s = NULL;
    tl_diag d;
    tl_diag_clear(&d);
    tl_err rc = tl_service_open(&o, &s, &d);
    if (rc != TL_OK)
        fail_msg("tl_service_open: %s: %s", tl_strerror(rc), d.msg);
    return s;
}

static int has_item(const tl_rec_result *r, const char *item)
{
    for (int k = 0; k < r->n; k++)
        if (strcmp(r->items[k].item, item) == 0)
            return 1;
    return 0;
}

static long long count_events(void)
{
    tl_store *st;
    tl_diag d;
    tl_store_counts c;
    assert_int_equal(tl_store_open(db, TL_STORE_READONLY, &st, &d), TL_OK);
    assert_int_equal(tl_store_count(st, &c), TL_OK);
    tl_store_free(st);
    return c.events;
}

static void test_events_change_the_next_answer(void **state)
{
    (void)state;
    tl_service *s = open_service(model, 1);
    tl_rec_query q = {.user = "p", .n = 3, .explain = 1};
    tl_rec_result r;
    tl_diag d;
    assert_int_equal(tl_service_recommend(s, &q, &r, &d), TL_OK);
    assert_int_equal(r.n, 3);
    assert_int_equal(r.live_events, 0); /* the model's own history */
    for (int k = 0; k < r.n; k++) {
        assert_int_equal(r.items[k].item[0], 'A'); /* p's circle */
        assert_string_equal(r.items[k].kind, "history");
        assert_true(r.items[k].n_evidence > 0);
        assert_non_null(strstr(r.items[k].reason, "Because you borrowed \"Alpha"));
    }
    assert_null(r.fallback);
    tl_rec_result_free(&r);

    /* p turns to the B circle: four loans posted now */
    tl_event_rec ev[4];
    const char *items[] = {"B1", "B2", "B3", "B4"};
    for (int k = 0; k < 4; k++)
        ev[k] = (tl_event_rec){.user = "p",
                               .user_len = 1,
                               .item = items[k],
                               .item_len = 2,
                               .type = "loan",
                               .ts = 4000 + k};
    assert_int_equal(tl_service_add_events(s, ev, 4, NULL, &d), TL_OK);
    q.n = 1;
    assert_int_equal(tl_service_recommend(s, &q, &r, &d), TL_OK);
    assert_int_equal(r.live_events, 4);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.items[0].item, "B5"); /* the one B book p has not borrowed */
    assert_string_equal(r.items[0].title, "Beta five");
    assert_int_equal(r.items[0].evidence[0].item[0], 'B');
    tl_rec_result_free(&r);
    tl_service_close(s);
}

/* Writes by another connection or process (an import, another server) reach the next answer
 * too: the histories the service keeps from earlier requests are dropped at any write. */
/* Popularity is live: events since the model's watermark (another writer's, before the
 * service opened) and events written through the service (within REBUILD_SECONDS) move the
 * popular answers before any training. */
static void test_popularity_is_live(void **state)
{
    (void)state;
    if (tl_test_on_pg())
        skip(); /* it copies the store's file for a store of its own */
    char pdb[512];
    snprintf(pdb, sizeof(pdb), "%s", tl_test_tmp("svc-pop.db"));
    assert_int_equal(tl_test_sh("cp '%s' '%s'", db, pdb), 0);
    tl_store *w;
    tl_diag d;
    tl_diag_clear(&d);
    assert_int_equal(tl_store_open(pdb, 0, &w, &d), TL_OK);
    assert_int_equal(tl_store_begin(w), TL_OK);
    char user[16];
    for (int k = 0; k < 20; k++) { /* B5 by 20 new patrons, after the model was trained */
        snprintf(user, sizeof(user), "n%d", k);
        tl_event_rec ev = {.user = user,
                           .user_len = strlen(user),
                           .item = "B5",
                           .item_len = 2,
                           .type = "loan",
                           .ts = 9000 + k};
        assert_int_equal(tl_store_put_event(w, &ev, 0, NULL, &d), TL_OK);
    }
    assert_int_equal(tl_store_commit(w), TL_OK);
    tl_store_free(w);
    tl_service_opts o = {.db = pdb, .model = model, .writable = 1, .serving = 1};
    tl_service *s = NULL;
    assert_int_equal(tl_service_open(&o, &s, &d), TL_OK);
    tl_rec_query q = {.user = "q", .n = 3, .explain = 1}; /* opted out: the popular items */
    tl_rec_result r;
    assert_int_equal(tl_service_recommend(s, &q, &r, &d), TL_OK);
    assert_non_null(r.fallback);
    assert_string_equal(r.items[0].item, "B5");
    assert_true(r.items[0].score >= 20.0f);
    tl_rec_result_free(&r);
    tl_event_rec ev[30];
    char users[30][16];
    for (int k = 0; k < 30; k++) { /* then A5 by 30 patrons, through the service */
        snprintf(users[k], sizeof(users[k]), "m%d", k);
        ev[k] = (tl_event_rec){.user = users[k],
                               .user_len = strlen(users[k]),
                               .item = "A5",
                               .item_len = 2,
                               .type = "loan"};
    }
    assert_int_equal(tl_service_add_events(s, ev, 30, NULL, &d), TL_OK);
    usleep(300000); /* the list is made again at most every REBUILD_SECONDS (0.25) */
    assert_int_equal(tl_service_recommend(s, &q, &r, &d), TL_OK);
    assert_string_equal(r.items[0].item, "A5");
    assert_string_equal(r.items[1].item, "B5");
    tl_rec_result_free(&r);
    tl_home h;
    assert_int_equal(
        tl_service_homepage(s, &(tl_home_query){.user = "q", .rows = 6, .n = 2}, &h, &d), TL_OK);
    /* A5 leads this week's trending row (its loans are new); the popular row, which shows no
     * item twice on a page, then leads with B5, counted from the store since training */
    const tl_home_row *pop = NULL, *trend = NULL;
    for (int k = 0; k < h.n_rows; k++) {
        if (strcmp(h.rows[k].id, "popular") == 0)
            pop = &h.rows[k];
        if (strcmp(h.rows[k].id, "trending") == 0)
            trend = &h.rows[k];
    }
    assert_non_null(pop);
    assert_non_null(trend);
    assert_string_equal(trend->items[0].item, "A5");
    assert_string_equal(pop->items[0].item, "B5");
    tl_home_free(&h);
    tl_service_close(s);
}

static const tl_home_row *row_named(const tl_home *h, const char *id)
{
    for (int k = 0; k < h->n_rows; k++)
        if (strcmp(h->rows[k].id, id) == 0)
            return &h->rows[k];
    return NULL;
}

/* "Next in the series" from the titles, "Popular in your department" from the patrons'
 * records. */
static void test_series_and_group_rows(void **state)
{
    (void)state;
    char hdb[512], hm[512];
    snprintf(hdb, sizeof(hdb), "%s", tl_test_tmp("svc-home.db"));
    snprintf(hm, sizeof(hm), "%s", tl_test_tmp("svc-home.tlm"));
    assert_int_equal(tl_test_write(tl_test_tmp("home-items.tsv"),
                                   "item\ttitle\n"
                                   "S1\tDune (Dune, #1)\nS2\tDune Messiah (Dune, #2)\n"
                                   "S3\tChildren of Dune (Dune, #3)\nH1\tA History\n"
                                   "H2\tAnother History\nH3\tA Third History\nX1\tElse\n"),
                     0);
    assert_int_equal(tl_test_write(tl_test_tmp("home-users.tsv"),
                                   "user\tdepartment\np\tHistory\nh1\tHistory\nh2\tHistory\n"
                                   "h3\tHistory\ng1\tGeography\ng2\tGeography\n"),
                     0);
    /* p read Dune #1; S1's only neighbour is X1 (d1), so the series row is not a model's
     * guess; historians hold H1 most, then H2; geographers H3 */
    assert_int_equal(tl_test_write(tl_test_tmp("home-loans.tsv"),
                                   "user\titem\ttimestamp\np\tS1\t100\nd1\tS1\t100\n"
                                   "d1\tX1\t101\nd2\tS2\t100\nd3\tS3\t100\n"
                                   "h1\tH1\t100\nh2\tH1\t100\nh3\tH1\t100\nh1\tH2\t101\n"
                                   "h2\tH2\t101\ng1\tH3\t100\ng2\tH3\t100\ng1\tX1\t100\n"),
                     0);
    assert_int_equal(tl_test_cli("--db '%s' import items '%s'", hdb, tl_test_tmp("home-items.tsv")),
                     0);
    assert_int_equal(tl_test_cli("--db '%s' import users '%s'", hdb, tl_test_tmp("home-users.tsv")),
                     0);
    assert_int_equal(
        tl_test_cli("--db '%s' import events '%s'", hdb, tl_test_tmp("home-loans.tsv")), 0);
    assert_int_equal(
        tl_test_cli("--db '%s' train --model itemknn --set autotune=0 --out '%s'", hdb, hm), 0);
    tl_service_opts o = {.db = hdb, .model = hm, .serving = 1, .min_group = 2};
    tl_service *s = NULL;
    tl_diag d;
    tl_diag_clear(&d);
    assert_int_equal(tl_service_open(&o, &s, &d), TL_OK);
    tl_home h;
    assert_int_equal(
        tl_service_homepage(s, &(tl_home_query){.user = "p", .rows = 8, .n = 3}, &h, &d), TL_OK);
    const tl_home_row *series = row_named(&h, "next_in_series"), *group = row_named(&h, "segment");
    assert_non_null(series);
    assert_string_equal(series->title, "Next in the series");
    assert_int_equal(series->n, 1); /* #2 after #1; #3 is not next */
    assert_string_equal(series->items[0].item, "S2");
    assert_string_equal(series->items[0].evidence[0].item, "S1");
    assert_string_equal(series->items[0].reason, "Next after \"Dune (Dune, #1)\"");
    assert_non_null(group);
    assert_string_equal(group->title, "Popular in your department");
    assert_string_equal(group->segment_attr, "department");
    assert_string_equal(group->segment_value, "History");
    assert_int_equal(group->n, 2);
    assert_string_equal(group->items[0].item, "H1");
    assert_true(group->items[0].score == 3.0f);
    assert_string_equal(group->items[1].item, "H2");
    tl_home_free(&h);
    /* a geographer's group row; a patron without the attribute has none */
    assert_int_equal(
        tl_service_homepage(s, &(tl_home_query){.user = "g2", .rows = 8, .n = 3}, &h, &d), TL_OK);
    assert_null(row_named(&h, "segment")); /* H3 and X1 are g2's or on the page already */
    tl_home_free(&h);
    assert_int_equal(
        tl_service_homepage(s, &(tl_home_query){.user = "d1", .rows = 8, .n = 3}, &h, &d), TL_OK);
    assert_null(row_named(&h, "segment"));
    tl_home_free(&h);
    tl_service_close(s);
    /* k-anonymity: no count of fewer than min_group patrons (H2's 2 historians), and with the
     * default of 5 no item of this small group at all */
    o.min_group = 3;
    assert_int_equal(tl_service_open(&o, &s, &d), TL_OK);
    assert_int_equal(
        tl_service_homepage(s, &(tl_home_query){.user = "p", .rows = 8, .n = 3}, &h, &d), TL_OK);
    assert_non_null(group = row_named(&h, "segment"));
    assert_int_equal(group->n, 1);
    assert_string_equal(group->items[0].item, "H1");
    tl_home_free(&h);
    tl_service_close(s);
    o.min_group = 0;
    assert_int_equal(tl_service_open(&o, &s, &d), TL_OK);
    assert_int_equal(
        tl_service_homepage(s, &(tl_home_query){.user = "p", .rows = 8, .n = 3}, &h, &d), TL_OK);
    assert_null(row_named(&h, "segment"));
    tl_home_free(&h);
    tl_service_close(s);
    /* no such row when the service is told of no attribute */
    o.min_group = 2;
    o.segment_attribute = "";
    assert_int_equal(tl_service_open(&o, &s, &d), TL_OK);
    assert_int_equal(
        tl_service_homepage(s, &(tl_home_query){.user = "p", .rows = 8, .n = 3}, &h, &d), TL_OK);
    assert_null(row_named(&h, "segment"));
    tl_home_free(&h);
    tl_service_close(s);
    o.segment_attribute = "dept'; DROP";
    assert_int_equal(tl_service_open(&o, &s, &d), TL_EINVAL);
    assert_string_equal(d.field, "segment-attribute");
}

/* "broaden my horizons": a patron whose record says so gets MMR without asking. */
static void test_broaden_setting(void **state)
{
    (void)state;
    if (tl_test_on_pg())
        skip(); /* it copies the store's file for a store of its own */
    char bdb[512];
    snprintf(bdb, sizeof(bdb), "%s", tl_test_tmp("svc-broaden.db"));
    assert_int_equal(tl_test_sh("cp '%s' '%s'", db, bdb), 0);
    tl_service_opts o = {.db = bdb, .model = model, .writable = 1, .serving = 1};
    tl_service *s = NULL;
    tl_diag d;
    tl_diag_clear(&d);
    assert_int_equal(tl_service_open(&o, &s, &d), TL_OK);
    /* a patron whose list MMR changes, so that the setting below can be seen */
    const char *who[] = {"p", "a1", "a2", "a3", "b1", "b2", "b3", "a5", "b5"};
    tl_rec_query plain = {.n = 6}, mmr = plain;
    mmr.rerank = (tl_rerank){.mmr = 1, .lambda = TL_BROADEN_LAMBDA};
    tl_rec_result a, b, c;
    int differ = 0;
    for (size_t k = 0; k < sizeof(who) / sizeof(who[0]) && !differ; k++) {
        plain.user = mmr.user = who[k];
        assert_int_equal(tl_service_recommend(s, &plain, &a, &d), TL_OK);
        assert_int_equal(tl_service_recommend(s, &mmr, &b, &d), TL_OK);
        differ = a.n != b.n;
        for (int i = 0; !differ && i < a.n; i++)
            differ = strcmp(a.items[i].item, b.items[i].item) != 0;
        if (!differ) {
            tl_rec_result_free(&a);
            tl_rec_result_free(&b);
        }
    }
    assert_true(differ);
    char rec[128];
    snprintf(rec, sizeof(rec), "{\"id\":\"%s\",\"attrs\":{\"broaden\":true}}", plain.user);
    const char *recp = rec;
    size_t len = strlen(rec);
    assert_int_equal(tl_service_put_records(s, TL_RECORD_USER, TL_RECORD_MERGE, &recp, &len, 1,
                                            plain.user, NULL, NULL, &d),
                     TL_OK);
    assert_int_equal(tl_service_recommend(s, &plain, &c, &d), TL_OK);
    assert_int_equal(c.n, b.n);
    for (int k = 0; k < c.n; k++)
        assert_string_equal(c.items[k].item, b.items[k].item);
    tl_rec_result_free(&a);
    tl_rec_result_free(&b);
    tl_rec_result_free(&c);
    tl_service_close(s);
}

static void test_readiness(void **state)
{
    (void)state;
    char why[200];
    tl_service *s = open_service(model, 0);
    assert_int_equal(tl_service_ready(s, why, sizeof(why)), 1);
    assert_string_equal(why, "");
    tl_service_close(s);
    tl_service_opts o = {.db = db, .serving = 1}; /* a store without a model: keys, events */
    tl_diag d;
    assert_int_equal(tl_service_open(&o, &s, &d), TL_OK);
    assert_int_equal(tl_service_ready(s, why, sizeof(why)), 0);
    assert_string_equal(why, "no model is loaded");
    tl_service_close(s);
}

static void test_other_writers_seen(void **state)
{
    (void)state;
    tl_service *s = open_service(model, 0);
    tl_rec_query q = {.user = "r", .n = 1, .explain = 1};
    tl_rec_result r;
    tl_diag d;
    tl_diag_clear(&d);
    for (int k = 0; k < 2; k++) /* twice: the second answer may come from what was kept */
        assert_int_equal(tl_service_recommend(s, &q, &r, &d), TL_ENOTFOUND);
    tl_store *w;
    assert_int_equal(tl_store_open(db, 0, &w, &d), TL_OK);
    assert_int_equal(tl_store_begin(w), TL_OK);
    const char *items[] = {"B1", "B2", "B3", "B4"};
    for (int k = 0; k < 4; k++) {
        tl_event_rec ev = {.user = "r",
                           .user_len = 1,
                           .item = items[k],
                           .item_len = 2,
                           .type = "loan",
                           .ts = 5000 + k};
        assert_int_equal(tl_store_put_event(w, &ev, 0, NULL, &d), TL_OK);
    }
    assert_int_equal(tl_store_commit(w), TL_OK);
    for (int k = 0; k < 2; k++) {
        assert_int_equal(tl_service_recommend(s, &q, &r, &d), TL_OK);
        assert_int_equal(r.live_events, 4);
        assert_null(r.fallback);
        assert_string_equal(r.items[0].item, "B5");
        tl_rec_result_free(&r);
    }
    /* r withdraws consent through another connection: the next answer is not personal */
    tl_user_rec u = {.id = "r", .id_len = 1, .personalize = 0, .created = TL_ABSENT};
    assert_int_equal(tl_store_begin(w), TL_OK);
    assert_int_equal(tl_store_put_user(w, &u, NULL, &d), TL_OK);
    assert_int_equal(tl_store_commit(w), TL_OK);
    assert_int_equal(tl_service_recommend(s, &q, &r, &d), TL_OK);
    assert_string_equal(r.fallback, "this patron opted out of personalization");
    tl_rec_result_free(&r);
    tl_store_free(w);
    tl_service_close(s);
}

static void test_opted_out_and_unknown_patrons(void **state)
{
    (void)state;
    tl_service *s = open_service(model, 0);
    tl_rec_query q = {.user = "q", .n = 2, .explain = 1};
    tl_rec_result r;
    tl_diag d;
    tl_diag_clear(&d);
    assert_int_equal(tl_service_recommend(s, &q, &r, &d), TL_OK);
    assert_string_equal(r.fallback, "this patron opted out of personalization");
    assert_int_equal(r.n, 2);
    assert_string_equal(r.items[0].kind, "popular");
    assert_non_null(strstr(r.items[0].reason, "opted out"));
    tl_rec_result_free(&r);

    q.user = "nobody";
    assert_int_equal(tl_service_recommend(s, &q, &r, &d), TL_ENOTFOUND);
    assert_string_equal(d.field, "user");

    /* read-only: events are refused, nothing is written */
    tl_event_rec ev = {.user = "p", .user_len = 1, .item = "A3", .item_len = 2, .type = "loan"};
    assert_int_equal(tl_service_add_events(s, &ev, 1, NULL, &d), TL_EUNSUPPORTED);
    tl_service_close(s);
}

typedef struct row_of {
    const char *user;
    char items[256];
} row_of;

static tl_err keep_row(void *ctx, const char *user, const char *const *items, const float *scores,
                       int n, const char *fallback)
{
    row_of *r = ctx;
    (void)scores;
    (void)fallback;
    if (strcmp(user, r->user) == 0)
        for (int k = 0; k < n; k++)
            snprintf(r->items + strlen(r->items), sizeof(r->items) - strlen(r->items), "%s ",
                     items[k]);
    return TL_OK;
}

/* Re-ranking: every patron's lists (what bench/diversity.sh measures) are one request's, and
 * the re-ranked items keep the model's reasons; bad values name their field. */
static void test_rerank(void **state)
{
    (void)state;
    tl_service_opts o = {.model = model}; /* the histories of the model file, as for all */
    tl_service *s = NULL;
    tl_diag d;
    assert_int_equal(tl_service_open(&o, &s, &d), TL_OK);
    tl_rerank rr = {.mmr = 1, .lambda = 0.3f, .calibrate = 1, .cal_lambda = 0.2f};
    tl_rec_query q = {.user = "a1", .n = 4, .explain = 1, .rerank = rr};
    tl_rec_result r;
    assert_int_equal(tl_service_recommend(s, &q, &r, &d), TL_OK);
    assert_int_equal(r.n, 4);
    row_of one = {.user = "a1"};
    for (int k = 0; k < r.n; k++) {
        snprintf(one.items + strlen(one.items), sizeof(one.items) - strlen(one.items), "%s ",
                 r.items[k].item);
        if (r.items[k].score > 0) {
            assert_string_equal(r.items[k].kind, "history");
            assert_true(r.items[k].n_evidence > 0);
        }
    }
    tl_rec_result_free(&r);
    row_of all = {.user = "a1"};
    assert_int_equal(tl_service_recommend_all(s, 4, NULL, 0, &rr, keep_row, &all, &d), TL_OK);
    assert_string_equal(all.items, one.items);
    q.rerank.lambda = 1.5f;
    assert_int_equal(tl_service_recommend(s, &q, &r, &d), TL_EINVAL);
    assert_string_equal(d.field, "diversify");
    q.rerank = (tl_rerank){.calibrate = 1, .cal_lambda = -0.1f};
    assert_int_equal(tl_service_recommend(s, &q, &r, &d), TL_EINVAL);
    assert_string_equal(d.field, "calibrate");
    q.rerank = (tl_rerank){.max_per_author = 2};
    q.n = TL_RERANK_MAX_N + 1;
    assert_int_equal(tl_service_recommend(s, &q, &r, &d), TL_EINVAL);
    assert_string_equal(d.field, "n");
    tl_service_close(s);
}

static void test_more_like_this_and_filters(void **state)
{
    (void)state;
    tl_service *s = open_service(model, 0);
    tl_rec_query q = {.similar_to = "B1", .n = 3, .explain = 1};
    tl_rec_result r;
    tl_diag d;
    assert_int_equal(tl_service_recommend(s, &q, &r, &d), TL_OK);
    assert_int_equal(r.n, 3);
    assert_false(has_item(&r, "B1"));
    for (int k = 0; k < r.n; k++) {
        assert_int_equal(r.items[k].item[0], 'B');
        assert_string_equal(r.items[k].kind, "similar_to");
        assert_non_null(strstr(r.items[k].reason, "Patrons who borrowed \"Beta one\""));
    }
    tl_rec_result_free(&r);
    q.similar_to = "nope";
    assert_int_equal(tl_service_recommend(s, &q, &r, &d), TL_ENOTFOUND);
    assert_string_equal(d.field, "item");
    q.similar_to = "B1";
    q.n = 0;
    assert_int_equal(tl_service_recommend(s, &q, &r, &d), TL_EINVAL);
    assert_string_equal(d.field, "n");
    q.n = 3;
    const char *bad[] = {"colour=red"};
    q.filters = bad;
    q.n_filters = 1;
    assert_int_equal(tl_service_recommend(s, &q, &r, &d), TL_EINVAL);
    q.user = "p"; /* two subjects */
    q.filters = NULL;
    q.n_filters = 0;
    assert_int_equal(tl_service_recommend(s, &q, &r, &d), TL_EINVAL);
    tl_service_close(s);
}

static void test_bad_event_leaves_nothing_of_its_batch(void **state)
{
    (void)state;
    tl_service *s = open_service(model, 1);
    long long before = count_events();
    tl_event_rec ev[3] = {
        {.user = "p", .user_len = 1, .item = "A5", .item_len = 2, .type = "loan", .ts = 5000},
        {.user = "p", .user_len = 1, .item = "A4", .item_len = 2, .type = "loan", .ts = 5001},
        {.user = "p", .user_len = 1, .item = "A3", .item_len = 2, .type = "loan", .ts = -5},
    };
    size_t bad = 99;
    tl_diag d;
    tl_diag_clear(&d);
    assert_int_equal(tl_service_add_events(s, ev, 3, &bad, &d), TL_EINVAL);
    assert_int_equal(bad, 2);
    assert_string_equal(d.field, "timestamp");
    ev[2].ts = 5002;
    ev[1].user = "p\tq";
    ev[1].user_len = 3;
    assert_int_equal(tl_service_add_events(s, ev, 3, &bad, &d), TL_EINVAL);
    assert_int_equal(bad, 1);
    assert_string_equal(d.field, "user");
    ev[1].type = "Not a type!";
    ev[1].user = "p";
    ev[1].user_len = 1;
    assert_int_equal(tl_service_add_events(s, ev, 3, &bad, &d), TL_EINVAL);
    assert_string_equal(d.field, "type");
    assert_int_equal(count_events(), before);
    tl_service_close(s);
}

/* Patron p (before test_events_change_the_next_answer posts anything for p): rows titled with
 * their reasons, no item twice, nothing p has, the new aardvark book in "new in your
 * subjects"; patron q (opted out) gets only the rows that are not personal. */
static void test_homepage(void **state)
{
    (void)state;
    tl_service *s = open_service(model, 0);
    tl_home h;
    tl_diag d;
    assert_int_equal(
        tl_service_homepage(s, &(tl_home_query){.user = "p", .rows = 6, .n = 1}, &h, &d), TL_OK);
    assert_null(h.fallback);
    assert_true(h.n_rows >= 4);
    assert_string_equal(h.rows[0].id, "for_you");
    assert_string_equal(h.rows[0].title, "Recommended for you");
    assert_string_equal(h.rows[1].id, "because:A2"); /* the most recent first */
    assert_string_equal(h.rows[1].title, "Because you borrowed Alpha two");
    assert_string_equal(h.rows[2].id, "because:A1");
    int found_new = 0;
    const char *shown[64];
    int n_shown = 0;
    for (int r = 0; r < h.n_rows; r++) {
        assert_int_equal(h.rows[r].n, 1);
        for (int k = 0; k < h.rows[r].n; k++) {
            const tl_rec_item *it = &h.rows[r].items[k];
            for (int j = 0; j < n_shown; j++)
                assert_string_not_equal(shown[j], it->item);
            shown[n_shown++] = it->item;
            assert_true(it->reason[0] != '\0');
            assert_true(strcmp(it->item, "A1") != 0 && strcmp(it->item, "A2") != 0);
            if (strcmp(h.rows[r].id, "new_in_subjects") == 0) {
                assert_string_equal(it->item, "N1");
                assert_string_equal(it->reason, "New in Aardvarks");
                assert_int_equal(it->evidence[0].item[0], 'A');
                found_new = 1;
            }
        }
    }
    assert_true(found_new);
    tl_home_free(&h);

    assert_int_equal(
        tl_service_homepage(s, &(tl_home_query){.user = "q", .rows = 6, .n = 3}, &h, &d), TL_OK);
    assert_string_equal(h.fallback, "this patron opted out of personalization");
    for (int r = 0; r < h.n_rows; r++)
        assert_true(strcmp(h.rows[r].id, "trending") == 0 || strcmp(h.rows[r].id, "popular") == 0);
    assert_true(h.n_rows >= 1);
    tl_home_free(&h);

    assert_int_equal(
        tl_service_homepage(s, &(tl_home_query){.user = "p", .rows = 0, .n = 2}, &h, &d),
        TL_EINVAL);
    assert_string_equal(d.field, "rows");
    assert_int_equal(
        tl_service_homepage(s, &(tl_home_query){.user = "nobody", .rows = 6, .n = 2}, &h, &d),
        TL_ENOTFOUND);
    tl_service_close(s);
}

static int home_has(const tl_home *h, const char *item)
{
    for (int r = 0; r < h->n_rows; r++)
        for (int k = 0; k < h->rows[r].n; k++)
            if (strcmp(h->rows[r].items[k].item, item) == 0)
                return 1;
    return 0;
}

static void post_event(tl_service *s, const char *user, const char *item, const char *type,
                       int64_t ts)
{
    tl_event_rec ev = {.user = user,
                       .user_len = strlen(user),
                       .item = item,
                       .item_len = strlen(item),
                       .type = type,
                       .ts = ts};
    tl_diag d;
    assert_int_equal(tl_service_add_events(s, &ev, 1, NULL, &d), TL_OK);
}

/* "Not interested" (a skip event) keeps the item out of the patron's next recommendations and
 * homepage at once, and a dismissed item of the history is no evidence any more; a later loan
 * of it counts again. Patron a0 has A1, A2, A3 and A5: A4 is the A book it is offered. */
static void test_not_interested(void **state)
{
    (void)state;
    tl_service *s = open_service(model, 1);
    tl_rec_query q = {.user = "a0", .n = 3, .explain = 1};
    tl_rec_result r;
    tl_home h;
    tl_diag d;
    tl_home_query hq = {.user = "a0", .rows = 6, .n = 3};
    assert_int_equal(tl_service_recommend(s, &q, &r, &d), TL_OK);
    assert_true(has_item(&r, "A4"));
    assert_int_equal(r.history, 4);
    tl_rec_result_free(&r);
    assert_int_equal(tl_service_homepage(s, &hq, &h, &d), TL_OK);
    assert_true(home_has(&h, "A4"));
    tl_home_free(&h);

    post_event(s, "a0", "A4", "skip", 5000);
    assert_int_equal(tl_service_recommend(s, &q, &r, &d), TL_OK);
    assert_false(has_item(&r, "A4"));
    assert_int_equal(r.history, 4); /* a skip is no evidence of interest */
    tl_rec_result_free(&r);
    assert_int_equal(tl_service_homepage(s, &hq, &h, &d), TL_OK);
    assert_false(home_has(&h, "A4"));
    tl_home_free(&h);

    /* A1, borrowed long ago, dismissed now: no longer part of the evidence */
    post_event(s, "a0", "A1", "skip", 5001);
    assert_int_equal(tl_service_recommend(s, &q, &r, &d), TL_OK);
    assert_int_equal(r.history, 3);
    for (int k = 0; k < r.n; k++) {
        assert_string_not_equal(r.items[k].item, "A1");
        for (int e = 0; e < r.items[k].n_evidence; e++)
            assert_string_not_equal(r.items[k].evidence[e].item, "A1");
    }
    tl_rec_result_free(&r);

    /* borrowed after saying "not interested": evidence again, and no longer offered */
    post_event(s, "a0", "A4", "loan", 6000);
    assert_int_equal(tl_service_recommend(s, &q, &r, &d), TL_OK);
    assert_int_equal(r.history, 4);
    assert_false(has_item(&r, "A4"));
    tl_rec_result_free(&r);
    tl_service_close(s);
}

typedef struct load {
    tl_service *s;
    atomic_int requests, failures, stop;
} load;

static void *reader(void *arg)
{
    load *l = arg;
    while (!atomic_load(&l->stop)) {
        tl_rec_query q = {
            .user = (atomic_load(&l->requests) & 1) ? "a1" : "p", .n = 3, .explain = 1};
        tl_rec_result r;
        tl_diag d;
        if (tl_service_recommend(l->s, &q, &r, &d) != TL_OK || r.n != 3 || !r.items[2].item)
            atomic_fetch_add(&l->failures, 1);
        else
            tl_rec_result_free(&r);
        atomic_fetch_add(&l->requests, 1);
    }
    return NULL;
}

static void test_swaps_under_load(void **state)
{
    (void)state;
    tl_service *s = open_service(model, 0);
    load l[2];
    for (int k = 0; k < 2; k++) {
        l[k].s = s;
        atomic_init(&l[k].requests, 0);
        atomic_init(&l[k].failures, 0);
        atomic_init(&l[k].stop, 0);
    }
    pthread_t t[2];
    for (int k = 0; k < 2; k++)
        assert_int_equal(pthread_create(&t[k], NULL, reader, &l[k]), 0);
    tl_diag d;
    for (int k = 0; k < 20; k++) {
        /* each swap lands while both readers are busy */
        int r0 = atomic_load(&l[0].requests), r1 = atomic_load(&l[1].requests);
        while (atomic_load(&l[0].requests) < r0 + 2 || atomic_load(&l[1].requests) < r1 + 2)
            sched_yield();
        assert_int_equal(tl_service_swap_model(s, k % 2 ? model : model2, &d), TL_OK);
    }
    /* a broken model file is refused and the current one stays */
    assert_int_equal(tl_test_write(tl_test_tmp("broken.tlm"), "not a model"), 0);
    assert_int_not_equal(tl_service_swap_model(s, tl_test_tmp("broken.tlm"), &d), TL_OK);
    for (int k = 0; k < 2; k++) {
        atomic_store(&l[k].stop, 1);
        pthread_join(t[k], NULL);
        assert_int_equal(atomic_load(&l[k].failures), 0);
        assert_true(atomic_load(&l[k].requests) >= 40);
    }
    tl_service_info info;
    tl_service_info_get(s, &info, 0);
    assert_int_equal(info.swaps, 20);
    assert_string_equal(info.model, "itemknn");
    tl_service_close(s);
}

/* A training in the background swaps its model in while requests go on; a bad one is refused
 * before it starts; events past retrain_events start one. */
static void test_background_training(void **state)
{
    (void)state;
    char out[512];
    snprintf(out, sizeof(out), "%s", tl_test_tmp("retrained.tlm"));
    tl_service_opts o = {
        .db = db, .model = model, .writable = 1, .serving = 1, .retrain_events = 2};
    tl_service *s = NULL;
    tl_diag d;
    tl_diag_clear(&d);
    assert_int_equal(tl_service_open(&o, &s, &d), TL_OK);
    const char *bad[] = {"colour=red"};
    tl_train_opts t = {.model = "ials", .settings = bad, .n_settings = 1, .out = out};
    assert_int_equal(tl_service_train(s, &t, &d), TL_EINVAL);
    t.model = "nope";
    t.n_settings = 0;
    assert_int_equal(tl_service_train(s, &t, &d), TL_EINVAL);
    assert_string_equal(d.field, "model");

    t.model = "popular";
    assert_int_equal(tl_service_train(s, &t, &d), TL_OK);
    int failures = 0;
    for (int k = 0; k < 50; k++) {
        tl_rec_query q = {.user = "a1", .n = 2, .explain = 1};
        tl_rec_result r;
        if (tl_service_recommend(s, &q, &r, &d) == TL_OK)
            tl_rec_result_free(&r);
        else
            failures++;
    }
    assert_int_equal(tl_service_train_wait(s, &d), TL_OK);
    assert_int_equal(failures, 0);
    tl_train_status st;
    tl_service_train_status(s, &st);
    assert_int_equal(st.running, 0);
    assert_int_equal(st.runs, 1);
    assert_int_equal(st.failures, 0);
    assert_string_equal(st.model, "popular");
    assert_true(st.finished >= st.started && st.started > 0);
    tl_service_info info;
    tl_service_info_get(s, &info, 1);
    assert_string_equal(info.model, "popular");
    assert_int_equal(info.swaps, 1);
    assert_true(info.trained_through > 0); /* the newest event trained on */
    assert_true(info.events_since >= 0);   /* opted-out patrons' events are never trained on */

    /* two events: the third training starts by itself (of the kind now served) */
    tl_event_rec ev[2] = {
        {.user = "a2", .user_len = 2, .item = "B1", .item_len = 2, .type = "loan", .ts = 6000},
        {.user = "a2", .user_len = 2, .item = "B2", .item_len = 2, .type = "loan", .ts = 6001},
    };
    assert_int_equal(tl_service_add_events(s, ev, 2, NULL, &d), TL_OK);
    assert_int_equal(tl_service_train_wait(s, &d), TL_OK);
    tl_service_train_status(s, &st);
    assert_int_equal(st.runs, 2);
    /* the new model's watermark is the newest event; nothing in the store is newer */
    tl_service_info_get(s, &info, 1);
    assert_int_equal(info.trained_through, 6001);
    assert_int_equal(info.events_since, 0);
    tl_service_close(s);
}

int main(void)
{
    if (tl_test_on_pg() && !tl_test_pg_start())
        return 77;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_homepage),
        cmocka_unit_test(test_events_change_the_next_answer),
        cmocka_unit_test(test_opted_out_and_unknown_patrons),
        cmocka_unit_test(test_other_writers_seen),
        cmocka_unit_test(test_popularity_is_live),
        cmocka_unit_test(test_series_and_group_rows),
        cmocka_unit_test(test_readiness),
        cmocka_unit_test(test_broaden_setting),
        cmocka_unit_test(test_more_like_this_and_filters),
        cmocka_unit_test(test_rerank),
        cmocka_unit_test(test_bad_event_leaves_nothing_of_its_batch),
        cmocka_unit_test(test_not_interested),
        cmocka_unit_test(test_swaps_under_load),
        cmocka_unit_test(test_background_training),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
