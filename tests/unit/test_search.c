/* Catalogue search: stemming, phrases and prefixes, hostile queries, facets and filters,
 * re-ranking by the patron's profile (and not for anonymous or opted-out patrons), the index
 * kept in step with every write of items and their details, the bulk rebuild, and each search
 * kept with its total. */
#include <setjmp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pg_server.h"
#include "store/sqlite/sqlite_search.h" /* the tokenizer, for a raw connection's writes */
#include "support.h"
#include "tailor/service.h"
#include "tailor/store.h"

/* Two reading circles over one word: the A books (long titles: "The Quiet Gardens of Alder
 * Valley N") and the B books (short: "Garden Bees N"), so that BM25 puts the B books first for
 * "gardens". Patrons a* borrow A books, b* B books; p borrowed A1 and A2; q (opted out)
 * borrowed A1. */
static char db[512], model[512];

static int setup(void **state)
{
    (void)state;
    char loans[8192] = "user\titem\ttimestamp\n";
    size_t o = strlen(loans);
    for (int u = 0; u < 8; u++)
        for (int i = 1; i <= 5; i++) {
            if ((u + i) % 4 == 0)
                continue;
            o += (size_t)snprintf(loans + o, sizeof(loans) - o, "a%d\tA%d\t%d\nb%d\tB%d\t%d\n", u,
                                  i, 1000 + u * 10 + i, u, i, 2000 + u * 10 + i);
        }
    snprintf(loans + o, sizeof(loans) - o, "p\tA1\t3000\np\tA2\t3001\nq\tA1\t3002\n");
    snprintf(db, sizeof(db), "%s", tl_test_store("search.db"));
    snprintf(model, sizeof(model), "%s", tl_test_tmp("search.tlm"));
    char items[4096] = "item\ttype\ttitle\tcreators\tsubjects\tyear\tlanguage\tformat\n";
    o = strlen(items);
    for (int i = 1; i <= 5; i++)
        o += (size_t)snprintf(items + o, sizeof(items) - o,
                              "A%d\tbook\tThe Quiet Gardens of Alder Valley %d\tAnn Alder\t"
                              "gardening|botany\t199%d\teng\tprint\n"
                              "B%d\tebook\tGarden Bees %d\tBob Bee\tgardening|bees\t200%d\tfre\t"
                              "online\n",
                              i, i, i, i, i, i);
    snprintf(items + o, sizeof(items) - o,
             "R1\tbook\tRun Rabbit Run\tCarl Runner\tsport\t2010\teng\tprint\n"
             "H1\tbook\tThe Hunger Games\tSuzanne Collins\tdystopia\t2008\teng\tprint\n"
             "H2\tbook\tGames of Hunger\tNobody\tcooking\t2012\teng\tprint\n"
             "C1\tbook\tCafé Society\tÉmile Zola\tnovels\t1890\tfre\tprint\n");
    assert_int_equal(tl_test_write(tl_test_tmp("search-items.tsv"), items), 0);
    assert_int_equal(tl_test_write(tl_test_tmp("search-loans.tsv"), loans), 0);
    assert_int_equal(tl_test_write(tl_test_tmp("search-users.csv"), "user,personalize\nq,no\n"), 0);
    assert_int_equal(
        tl_test_cli("--db '%s' import items '%s'", db, tl_test_tmp("search-items.tsv")), 0);
    assert_int_equal(
        tl_test_cli("--db '%s' import users '%s'", db, tl_test_tmp("search-users.csv")), 0);
    assert_int_equal(
        tl_test_cli("--db '%s' import events '%s'", db, tl_test_tmp("search-loans.tsv")), 0);
    assert_int_equal(
        tl_test_cli("--db '%s' train --model itemknn --set autotune=0 --out '%s'", db, model), 0);
    return 0;
}

static tl_service *open_service(const char *m, int writable)
{
    tl_service_opts o = {.db = db, .model = m, .writable = writable};
    tl_service *s = NULL;
    tl_diag d;
    tl_diag_clear(&d);
    tl_err rc = tl_service_open(&o, &s, &d);
    if (rc != TL_OK)
        fail_msg("tl_service_open: %s: %s", tl_strerror(rc), d.msg);
    return s;
}

/* Runs a search (n 20, facets, not kept) and asserts it answers. */
static void search(tl_service *s, const char *q, const char *user, double weight,
                   tl_search_result *r)
{
    tl_search_query sq = {.q = q, .user = user, .n = 20, .weight = weight, .facets = 1};
    tl_diag d;
    tl_diag_clear(&d);
    tl_err rc = tl_service_search(s, &sq, r, &d);
    if (rc != TL_OK)
        fail_msg("search '%s': %s: %s", q, tl_strerror(rc), d.msg);
}

static int rank_of(const tl_search_result *r, const char *item)
{
    for (int k = 0; k < r->n; k++)
        if (strcmp(r->items[k].item, item) == 0)
            return k;
    return -1;
}

static long long facet(const tl_search_result *r, const char *name, const char *value)
{
    for (int f = 0; f < r->n_facets; f++)
        if (strcmp(r->facets[f].name, name) == 0)
            for (int k = 0; k < r->facets[f].n; k++)
                if (strcmp(r->facets[f].values[k], value) == 0)
                    return r->facets[f].counts[k];
    return 0;
}

static void test_stemming_phrase_prefix(void **state)
{
    (void)state;
    tl_service *s = open_service(NULL, 0);
    tl_search_result r;
    search(s, "running", NULL, -1, &r); /* stem "run" */
    assert_int_equal(r.total, 1);
    assert_string_equal(r.items[0].item, "R1");
    assert_string_equal(r.match, "all");
    tl_search_result_free(&r);
    search(s, "GARDENS", NULL, -1, &r); /* case folded, "garden" and "gardens" alike */
    assert_int_equal(r.total, 10);
    tl_search_result_free(&r);
    search(s, "cafe zola", NULL, -1, &r); /* diacritics folded, creators indexed */
    assert_int_equal(r.total, 1);
    assert_string_equal(r.items[0].item, "C1");
    tl_search_result_free(&r);
    search(s, "\"hunger games\"", NULL, -1, &r); /* a phrase: in order */
    assert_int_equal(r.total, 1);
    assert_string_equal(r.items[0].item, "H1");
    tl_search_result_free(&r);
    search(s, "hunger games", NULL, -1, &r); /* words: both */
    assert_int_equal(r.total, 2);
    tl_search_result_free(&r);
    search(s, "rabb*", NULL, -1, &r); /* a prefix */
    assert_int_equal(r.total, 1);
    assert_string_equal(r.items[0].item, "R1");
    tl_search_result_free(&r);
    search(s, "rabb", NULL, -1, &r); /* ... which a plain word is not */
    assert_int_equal(r.total, 0);
    tl_search_result_free(&r);
    search(s, "bees zzyzx", NULL, -1, &r); /* nothing has both: any of the words */
    assert_string_equal(r.match, "any");
    assert_int_equal(r.total, 5);
    tl_search_result_free(&r);
    /* title first: "bees" in the B titles, and the subject of the same books */
    search(s, "alder", NULL, -1, &r);
    assert_int_equal(r.total, 5);
    assert_true(r.items[0].score >= r.items[4].score);
    tl_search_result_free(&r);
    tl_service_close(s);
}

static void test_hostile_queries(void **state)
{
    (void)state;
    tl_service *s = open_service(model, 0);
    static const char *const hostile[] = {"\"",
                                          "\"\"",
                                          "gardens\"",
                                          "NEAR(gardens bees)",
                                          "gardens AND OR NOT bees",
                                          "NOT",
                                          "title:gardens",
                                          "{title creators}: bees",
                                          "*",
                                          "**",
                                          "^bees",
                                          "-bees +gardens",
                                          "(bees",
                                          "bees)",
                                          "a\"b\"c\"",
                                          "bees*\"*",
                                          "\xff\xfe bees \xc3",
                                          "\xed\xa0\x80 surrogate",
                                          "\t\n\r\x01",
                                          "",
                                          "rank MATCH 'x'; DROP TABLE items; --",
                                          "gardens' OR 1=1 --",
                                          "\xe2\x80\x9cquoted\xe2\x80\x9d"};
    for (size_t k = 0; k < sizeof(hostile) / sizeof(hostile[0]); k++) {
        tl_search_result r;
        search(s, hostile[k], "p", -1, &r);
        assert_true(r.total >= 0);
        tl_search_result_free(&r);
    }
    tl_search_result r;
    search(s, "NEAR(gardens bees)", NULL, -1, &r); /* operators are words: NEAR is one */
    assert_string_equal(r.match, "any");
    tl_search_result_free(&r);
    /* a long query: its first words count; over the limit it is refused, never run */
    char *big = malloc(TL_SEARCH_MAX_Q + 2);
    for (int k = 0; k < TL_SEARCH_MAX_Q; k += 2)
        memcpy(big + k, k % 4 ? "\" " : "b ", 2);
    big[TL_SEARCH_MAX_Q] = '\0';
    search(s, big, NULL, -1, &r);
    tl_search_result_free(&r);
    memset(big, 'x', TL_SEARCH_MAX_Q + 1);
    big[TL_SEARCH_MAX_Q + 1] = '\0';
    tl_search_query q = {.q = big, .n = 10};
    tl_diag d;
    assert_int_equal(tl_service_search(s, &q, &r, &d), TL_EINVAL);
    assert_string_equal(d.field, "q");
    free(big);
    q.q = "bees";
    q.n = 0;
    assert_int_equal(tl_service_search(s, &q, &r, &d), TL_EINVAL);
    assert_string_equal(d.field, "n");
    tl_service_close(s);
}

/* Runs text on the store at path as another writer would (SQLite's statements, or pg's on
 * PostgreSQL: NULL when they are the same). */
static void sql_on(const char *path, const char *text, const char *pg)
{
    if (tl_test_on_pg()) {
        tl_test_pg_int(tl_test_pg_name(path), pg ? pg : text);
        return;
    }
    sqlite3 *h = NULL;
    assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
    assert_int_equal(tl__sq_search_register(h), SQLITE_OK);
    sqlite3_busy_timeout(h, 5000);
    char *err = NULL;
    if (sqlite3_exec(h, text, NULL, NULL, &err) != SQLITE_OK)
        fail_msg("%s: %s", text, err);
    sqlite3_close(h);
}

/* Copies at branches, written as the holdings table holds them. */
static void sql(const char *text)
{
    sql_on(db, text, NULL);
}

/* The rows of query on the search store: fields separated by ' ', each row ended by '\n', NULL
 * as "" (malloc'd). */
static char *rows_of(const char *query)
{
    if (tl_test_on_pg())
        return tl_test_pg_rows(tl_test_pg_name(db), query);
    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(h, query, -1, &st, NULL), SQLITE_OK);
    size_t cap = 4096, n = 0;
    char *out = calloc(1, cap);
    assert_non_null(out);
    while (sqlite3_step(st) == SQLITE_ROW)
        for (int c = 0; c < sqlite3_column_count(st); c++) {
            const char *v = (const char *)sqlite3_column_text(st, c);
            n += (size_t)snprintf(out + n, cap - n, "%s%c", v ? v : "",
                                  c + 1 < sqlite3_column_count(st) ? ' ' : '\n');
            assert_true(n < cap);
        }
    sqlite3_finalize(st);
    sqlite3_close(h);
    return out;
}

static void test_facets_and_filters(void **state)
{
    (void)state;
    sql("INSERT INTO holdings(copy, item_id, branch, available) SELECT 'c-' || ext_id, id,"
        " 'north', 1 FROM items WHERE ext_id IN ('A1', 'A2');"
        "INSERT INTO holdings(copy, item_id, branch, available) SELECT 'd-' || ext_id, id,"
        " 'south', 0 FROM items WHERE ext_id IN ('B1');");
    tl_service *s = open_service(NULL, 0);
    tl_search_result r;
    search(s, "gardens", NULL, -1, &r);
    assert_int_equal(r.total, 10);
    assert_int_equal(facet(&r, "type", "book"), 5);
    assert_int_equal(facet(&r, "type", "ebook"), 5);
    assert_int_equal(facet(&r, "format", "online"), 5);
    assert_int_equal(facet(&r, "language", "eng"), 5);
    assert_int_equal(facet(&r, "language", "fre"), 5);
    assert_int_equal(facet(&r, "year", "1990-1999"), 5);
    assert_int_equal(facet(&r, "year", "2000-2009"), 5);
    assert_int_equal(facet(&r, "subject", "gardening"), 10);
    assert_int_equal(facet(&r, "subject", "bees"), 5);
    assert_int_equal(facet(&r, "branch", "north"), 2);
    assert_int_equal(facet(&r, "branch", "south"), 1);
    assert_int_equal(facet(&r, "availability", "available"), 2);
    assert_int_equal(facet(&r, "availability", "unavailable"), 1);
    assert_string_equal(r.facets[0].name, "type");
    tl_search_result_free(&r);
    struct {
        const char *f[3];
        int n;
        long long total;
        const char *first; /* every result starts with this letter */
    } cases[] = {
        {{"type=ebook"}, 1, 5, "B"},
        {{"type=EBOOK", "language=fre"}, 2, 5, "B"},
        {{"type=ebook", "type=book"}, 2, 10, NULL},
        {{"type=book", "language=fre"}, 2, 0, NULL},
        {{"year=1990-1999"}, 1, 5, "A"},
        {{"year=2003"}, 1, 1, "B"},
        {{"subject=Bees"}, 1, 5, "B"},
        {{"branch=north"}, 1, 2, "A"},
        {{"branch=north", "branch=south"}, 2, 3, NULL},
        {{"available"}, 1, 2, "A"},
    };
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        tl_search_query q = {.q = "gardens",
                             .n = 20,
                             .weight = -1,
                             .facets = 1,
                             .filters = cases[c].f,
                             .n_filters = cases[c].n};
        tl_diag d;
        assert_int_equal(tl_service_search(s, &q, &r, &d), TL_OK);
        if (r.total != cases[c].total)
            fail_msg("filters %s...: %lld, expected %lld", cases[c].f[0], r.total, cases[c].total);
        assert_int_equal(r.n, (int)cases[c].total);
        for (int k = 0; cases[c].first && k < r.n; k++)
            assert_int_equal(r.items[k].item[0], cases[c].first[0]);
        if (cases[c].total) /* the facets count the filtered set */
            assert_int_equal(facet(&r, "subject", "gardening"), cases[c].total);
        tl_search_result_free(&r);
    }
    const char *bad[] = {"colour=red"};
    tl_search_query q = {.q = "gardens", .n = 5, .weight = -1, .filters = bad, .n_filters = 1};
    tl_diag d;
    assert_int_equal(tl_service_search(s, &q, &r, &d), TL_EINVAL);
    assert_string_equal(d.field, "filter");
    tl_service_close(s);
}

static void test_personalization(void **state)
{
    (void)state;
    tl_service *s = open_service(model, 0);
    tl_search_result anon, mine, out, none, zero;
    search(s, "gardens", NULL, -1, &anon);
    search(s, "gardens", "p", 0.9, &mine);
    search(s, "gardens", "q", 0.9, &out);       /* opted out */
    search(s, "gardens", "nobody", 0.9, &none); /* unknown: anonymous */
    search(s, "gardens", "p", 0, &zero);
    /* by text the short B titles lead */
    assert_int_equal(anon.items[0].item[0], 'B');
    assert_string_equal(anon.personal, "anonymous");
    /* p's circle: the A books p has not borrowed come first, with a reason */
    assert_null(mine.personal);
    assert_int_equal(mine.items[0].item[0], 'A');
    assert_true(rank_of(&mine, "A3") < rank_of(&mine, "B1"));
    assert_true(mine.items[0].reason[0] != '\0');
    assert_non_null(strstr(mine.items[0].reason, "Close to what you borrowed"));
    assert_true(mine.items[0].text_rank > 0);
    /* the same set, another order */
    assert_int_equal(mine.total, anon.total);
    /* not for the opted-out, the unknown, nor with weight 0: the text's order, no reason */
    assert_string_equal(out.personal, "opted out");
    assert_string_equal(none.personal, "unknown patron");
    assert_non_null(zero.personal);
    for (int k = 0; k < anon.n; k++) {
        assert_string_equal(out.items[k].item, anon.items[k].item);
        assert_string_equal(none.items[k].item, anon.items[k].item);
        assert_string_equal(zero.items[k].item, anon.items[k].item);
        assert_string_equal(out.items[k].reason, "");
    }
    tl_search_result_free(&anon);
    tl_search_result_free(&mine);
    tl_search_result_free(&out);
    tl_search_result_free(&none);
    tl_search_result_free(&zero);
    tl_service_close(s);
    /* the service's default weight is a setting: 0 turns personalization off */
    tl_service_opts o = {.db = db, .model = model, .search_weight = 0, .search_weight_set = 1};
    tl_diag d;
    assert_int_equal(tl_service_open(&o, &s, &d), TL_OK);
    search(s, "gardens", "p", -1, &mine);
    assert_int_equal(mine.items[0].item[0], 'B');
    tl_search_result_free(&mine);
    tl_service_close(s);
    o.search_weight = 1.5;
    assert_int_equal(tl_service_open(&o, &s, &d), TL_EINVAL);
    assert_string_equal(d.field, "search-personal-weight");
}

static long long count_hits(tl_store *st, const char *match)
{
    long long n = 0;
    int64_t total = -1;
    tl_store_search_q q = {.match = match, .limit = 100};
    tl_diag d;
    tl_err rc = tl_store_search(st, &q, NULL, NULL, NULL, &total, &d);
    assert_int_equal(rc, TL_EINVAL); /* a hit function is needed */
    (void)n;
    return total;
}

static tl_err hit_count(void *ctx, const char *item, const char *title, double score)
{
    (void)item;
    (void)title;
    assert_true(score > 0);
    ++*(long long *)ctx;
    return TL_OK;
}

static long long hits(tl_store *st, const char *match)
{
    long long n = 0;
    int64_t total = -1;
    tl_store_search_q q = {.match = match, .limit = 100};
    tl_diag d;
    tl_err rc = tl_store_search(st, &q, hit_count, NULL, &n, &total, &d);
    if (rc != TL_OK)
        fail_msg("%s: %s", match, d.msg);
    assert_int_equal(total, n);
    return n;
}

static void test_index_follows_writes(void **state)
{
    (void)state;
    const char *p = tl_test_store("follow.db");
    tl_store *st = NULL;
    tl_diag d;
    assert_int_equal(tl_store_open(p, TL_STORE_CREATE, &st, &d), TL_OK);
    assert_int_equal(count_hits(st, "\"x\""), -1);
    tl_item_rec it = {.id = "X1",
                      .id_len = 2,
                      .type = "book",
                      .title = "Walrus tales",
                      .subjects = "arctic",
                      .year = TL_ABSENT,
                      .added = TL_ABSENT,
                      .copies = TL_ABSENT,
                      .available = TL_ABSENT};
    assert_int_equal(tl_store_put_item(st, &it, NULL, &d), TL_OK);
    assert_int_equal(hits(st, "\"walrus\""), 1);
    /* an update: the old words leave, the new come; a field left absent keeps its words */
    it.title = "Narwhal tales";
    it.subjects = NULL;
    assert_int_equal(tl_store_put_item(st, &it, NULL, &d), TL_OK);
    assert_int_equal(hits(st, "\"walrus\""), 0);
    assert_int_equal(hits(st, "\"narwhal\""), 1);
    assert_int_equal(hits(st, "\"arctic\""), 1);
    /* a replace clears what it does not give */
    it.title = "Narwhal tales";
    assert_int_equal(tl_store_replace_item(st, &it, NULL, &d), TL_OK);
    assert_int_equal(hits(st, "\"arctic\""), 0);
    /* details written by another writer: series, contents and summary are searched */
    tl_store_free(st);
    sql_on(p,
           "INSERT INTO item_details(item_id, series, summary) SELECT id, 'Sea beasts',"
           " 'A xylophone plays' FROM items WHERE ext_id = 'X1'",
           NULL);
    assert_int_equal(tl_store_open(p, 0, &st, &d), TL_OK);
    assert_int_equal(hits(st, "\"xylophone\""), 1);
    assert_int_equal(hits(st, "\"beast\""), 1);   /* stemmed */
    assert_int_equal(hits(st, "\"narwhal\""), 1); /* the item's words stay */
    tl_store_free(st);
    sql_on(p, "UPDATE item_details SET summary = 'A tuba plays'", NULL);
    sql_on(p,
           "INSERT OR REPLACE INTO item_details(item_id, contents)"
           " SELECT id, 'Chapter on krill' FROM items WHERE ext_id = 'X1'",
           "DELETE FROM item_details; INSERT INTO item_details(item_id, contents)"
           " SELECT id, 'Chapter on krill' FROM items WHERE ext_id = 'X1'");
    assert_int_equal(tl_store_open(p, 0, &st, &d), TL_OK);
    assert_int_equal(hits(st, "\"xylophone\""), 0);
    assert_int_equal(hits(st, "\"tuba\""), 0); /* replaced whole */
    assert_int_equal(hits(st, "\"krill\""), 1);
    assert_int_equal(hits(st, "\"narwhal\""), 1);
    /* the bulk path: no trigger while it runs, the whole index after, all in one commit */
    assert_int_equal(tl_store_search_bulk_begin(st, &d), TL_EINVAL); /* needs a transaction */
    assert_int_equal(tl_store_begin(st), TL_OK);
    assert_int_equal(tl_store_search_bulk_begin(st, &d), TL_OK);
    char id[16];
    for (int k = 0; k < 50; k++) {
        snprintf(id, sizeof(id), "Y%d", k);
        tl_item_rec y = {.id = id,
                         .id_len = strlen(id),
                         .type = "book",
                         .title = "Penguin",
                         .year = TL_ABSENT,
                         .added = TL_ABSENT,
                         .copies = TL_ABSENT,
                         .available = TL_ABSENT};
        assert_int_equal(tl_store_put_item(st, &y, NULL, &d), TL_OK);
    }
    assert_int_equal(hits(st, "\"penguin\""), 0); /* not yet */
    assert_int_equal(tl_store_search_bulk_end(st, &d), TL_OK);
    assert_int_equal(tl_store_commit(st), TL_OK);
    assert_int_equal(hits(st, "\"penguin\""), 50);
    assert_int_equal(hits(st, "\"krill\""), 1);
    /* ... and the triggers are back */
    assert_int_equal(tl_store_delete_item(st, "Y3", 2, NULL, &d), TL_OK);
    assert_int_equal(hits(st, "\"penguin\""), 49);
    /* a rolled-back bulk load leaves the index and its triggers as they were */
    assert_int_equal(tl_store_begin(st), TL_OK);
    assert_int_equal(tl_store_search_bulk_begin(st, &d), TL_OK);
    assert_int_equal(tl_store_rollback(st), TL_OK);
    assert_int_equal(tl_store_delete_item(st, "Y4", 2, NULL, &d), TL_OK);
    assert_int_equal(hits(st, "\"penguin\""), 48);
    /* the languages: another stemmer, kept by the store; an unknown one refused */
    assert_int_equal(tl_store_search_rebuild(st, "klingon", &d), TL_EINVAL);
    assert_string_equal(d.field, "languages");
    assert_int_equal(hits(st, "\"penguins\""), 48); /* english still */
    assert_int_equal(tl_store_search_rebuild(st, "none", &d), TL_OK);
    assert_int_equal(hits(st, "\"penguins\""), 0); /* no stemming */
    assert_int_equal(tl_store_search_rebuild(st, "french,english", &d), TL_OK);
    assert_int_equal(hits(st, "\"penguins\""), 48);
    char *v = NULL;
    assert_int_equal(tl_store_get_meta(st, "search_languages", &v), TL_OK);
    assert_string_equal(v, "french,english");
    free(v);
    assert_int_equal(tl_store_search_rebuild(st, NULL, &d), TL_OK); /* the store's */
    assert_int_equal(hits(st, "\"penguins\""), 48);
    /* a bad expression is the caller's error, not the store's */
    assert_int_equal(count_hits(st, "\"x\""), -1);
    int64_t total;
    long long n = 0;
    tl_store_search_q bad = {.match = "AND AND (", .limit = 10};
    assert_int_equal(tl_store_search(st, &bad, hit_count, NULL, &n, &total, &d), TL_EINVAL);
    assert_string_equal(d.field, "q");
    tl_store_free(st);
}

static void test_search_kept_with_total(void **state)
{
    (void)state;
    tl_service *s = open_service(model, 1);
    tl_search_query q = {.q = "gardens", .user = "p", .n = 3, .weight = -1, .log = 1, .time = 5000};
    tl_search_result r;
    tl_diag d;
    assert_int_equal(tl_service_search(s, &q, &r, &d), TL_OK);
    tl_search_result_free(&r);
    q.user = "q"; /* opted out: kept, but not as theirs */
    q.q = "zzyzx";
    assert_int_equal(tl_service_search(s, &q, &r, &d), TL_OK);
    assert_int_equal(r.total, 0);
    tl_search_result_free(&r);
    tl_service_close(s);
    char *kept = rows_of("SELECT coalesce(u.ext_id, ''), s.query, s.ts, t.total"
                         " FROM searches s JOIN search_totals t ON t.search_id = s.id"
                         " LEFT JOIN users u ON u.id = s.user_id ORDER BY s.id");
    assert_string_equal(kept, "p gardens 5000 10\n zzyzx 5000 0\n");
    free(kept);
    /* the patron's searches are in their export, and their erasure takes them and their
     * totals */
    s = open_service(model, 1);
    q.user = "b7";
    q.q = "bees";
    assert_int_equal(tl_service_search(s, &q, &r, &d), TL_OK);
    tl_search_result_free(&r);
    char *json = NULL;
    assert_int_equal(tl_service_user_export(s, "b7", "test", &json, &d), TL_OK);
    assert_non_null(strstr(json, "bees"));
    free(json);
    tl_erase_report er;
    assert_int_equal(tl_service_user_erase(s, "b7", "test", &er, &d), TL_OK);
    tl_service_close(s);
    kept = rows_of("SELECT (SELECT count(*) FROM searches WHERE query = 'bees'),"
                   " (SELECT count(*) FROM search_totals)");
    assert_string_equal(kept, "0 2\n");
    free(kept);
}

/* Answers are cached for a version of the catalogue: a write of an item or of a holding by
 * another writer shows in the next answer; the searches kept do not count as changes. */
static void test_cached_answers_follow_the_catalogue(void **state)
{
    (void)state;
    tl_service *s = open_service(model, 1);
    tl_search_query q = {.q = "garden", .n = 20, .weight = -1, .facets = 1, .log = 1};
    tl_search_result r;
    tl_diag d;
    assert_int_equal(tl_service_search(s, &q, &r, &d), TL_OK);
    long long before = r.total, north = facet(&r, "branch", "north");
    tl_search_result_free(&r);
    assert_int_equal(tl_service_search(s, &q, &r, &d), TL_OK); /* the same, from the cache */
    assert_int_equal(r.total, before);
    tl_search_result_free(&r);
    tl_store *st = NULL;
    assert_int_equal(tl_store_open(db, 0, &st, &d), TL_OK);
    tl_item_rec it = {.id = "G1",
                      .id_len = 2,
                      .type = "book",
                      .title = "Garden walls",
                      .year = TL_ABSENT,
                      .added = TL_ABSENT,
                      .copies = TL_ABSENT,
                      .available = TL_ABSENT};
    assert_int_equal(tl_store_put_item(st, &it, NULL, &d), TL_OK);
    tl_store_free(st);
    assert_int_equal(tl_service_search(s, &q, &r, &d), TL_OK);
    assert_int_equal(r.total, before + 1);
    assert_true(rank_of(&r, "G1") >= 0);
    tl_search_result_free(&r);
    sql("INSERT INTO holdings(copy, item_id, branch, available) SELECT 'g-1', id, 'north', 1"
        " FROM items WHERE ext_id = 'G1'");
    assert_int_equal(tl_service_search(s, &q, &r, &d), TL_OK);
    assert_int_equal(facet(&r, "branch", "north"), north + 1);
    long long ebooks = facet(&r, "type", "ebook");
    tl_search_result_free(&r);
    sql("UPDATE items SET type = 'ebook' WHERE ext_id = 'G1'"); /* no word changes */
    assert_int_equal(tl_service_search(s, &q, &r, &d), TL_OK);
    assert_int_equal(facet(&r, "type", "ebook"), ebooks + 1);
    tl_search_result_free(&r);
    tl_service_close(s);
}

/* One common word ("alpha", in HEADS_ITEMS records: over TL_SEARCH_HEADS_DF) answered from the
 * index's heads: the same order, scores and total as ranking its whole match set (a filter that
 * every record passes takes that path), facets of the best TL_SEARCH_HEADS_N; stale after a
 * write of the index, built again by tl_store_search_heads; holdings leave them valid. */
#define HEADS_ITEMS 2600

static void search_n(tl_service *s, const char *q, const char *const *filters, int nf,
                     tl_search_result *r)
{
    tl_search_query sq = {
        .q = q, .n = 50, .weight = -1, .facets = 1, .filters = filters, .n_filters = nf};
    tl_diag d;
    tl_diag_clear(&d);
    tl_err rc = tl_service_search(s, &sq, r, &d);
    if (rc != TL_OK)
        fail_msg("search '%s': %s: %s", q, tl_strerror(rc), d.msg);
}

static void test_heads_answer_common_words(void **state)
{
    (void)state;
    if (tl_test_on_pg())
        skip(); /* SQLite's heads of common words: PostgreSQL's GIN index keeps none */
    const char *p = tl_test_tmp("heads.db"), *tsv = tl_test_tmp("heads-items.tsv");
    static char items[HEADS_ITEMS * 96];
    size_t o = (size_t)snprintf(items, sizeof(items),
                                "item\ttype\ttitle\tcreators\tsubjects\tyear\tlanguage\tformat\n");
    static const char *const shapes[] = {"Alpha tales %d", "Tales of the alpha %d",
                                         "The long road to alpha and beyond %d", "Alpha alpha %d"};
    for (int k = 0; k < HEADS_ITEMS; k++) {
        char title[64];
        snprintf(title, sizeof(title), shapes[k % 4 == 3 && k % 7 ? 2 : k % 4], k);
        o += (size_t)snprintf(items + o, sizeof(items) - o,
                              "H%d\t%s\t%s\t%s\tsea\t%d\teng\tprint\n", k, k % 3 ? "book" : "ebook",
                              title, k % 5 ? "Ann Smith" : "Al Alpha", 1950 + k % 60);
    }
    assert_int_equal(tl_test_write(tsv, items), 0);
    assert_int_equal(tl_test_cli("--db '%s' import items '%s'", p, tsv), 0);
    tl_service_opts so = {.db = p, .search_cache = -1};
    tl_service *s = NULL;
    tl_diag d;
    assert_int_equal(tl_service_open(&so, &s, &d), TL_OK);
    /* from the heads: no filter; a filter (the total estimated); a filter no head passes */
    const char *ebooks[] = {"type=ebook"}, *none[] = {"subject=nothing"};
    tl_search_result h, hf, h0, w, wf;
    search_n(s, "Alpha", NULL, 0, &h);
    search_n(s, "alpha", ebooks, 1, &hf);
    search_n(s, "alpha", none, 1, &h0);
    assert_int_equal(h.from_heads, 1);
    assert_int_equal(h.total, HEADS_ITEMS);
    assert_int_equal(h.total_estimated, 0);
    assert_int_equal(h.facets_scanned, TL_SEARCH_HEADS_N);
    assert_int_equal(h.facets_best, 1);
    assert_int_equal(facet(&h, "type", "book") + facet(&h, "type", "ebook"), TL_SEARCH_HEADS_N);
    assert_int_equal(hf.from_heads, 1);
    assert_int_equal(hf.total_estimated, 1);
    assert_int_equal(facet(&hf, "type", "book"), 0);
    assert_int_equal(facet(&hf, "type", "ebook"), hf.facets_scanned);
    assert_int_equal(h0.from_heads, 0); /* fewer than n heads pass: the match set, exact */
    assert_int_equal(h0.total, 0);
    /* the same after a write of the index (heads stale): every match ranked */
    tl_store *st = NULL;
    assert_int_equal(tl_store_open(p, 0, &st, &d), TL_OK);
    tl_item_rec zebra = {.id = "Z",
                         .id_len = 1,
                         .type = "book",
                         .title = "Zebra",
                         .year = TL_ABSENT,
                         .added = TL_ABSENT,
                         .copies = TL_ABSENT,
                         .available = TL_ABSENT};
    assert_int_equal(tl_store_put_item(st, &zebra, NULL, &d), TL_OK);
    search_n(s, "alpha", NULL, 0, &w);
    search_n(s, "alpha", ebooks, 1, &wf);
    assert_int_equal(w.from_heads, 0);
    assert_int_equal(wf.from_heads, 0);
    assert_int_equal(w.total, HEADS_ITEMS);
    assert_int_equal(wf.total_estimated, 0);
    assert_true(hf.total > wf.total * 8 / 10 && hf.total < wf.total * 12 / 10);
    assert_int_equal(w.facets_scanned, 0); /* under TL_SEARCH_FACET_SCAN: all counted */
    assert_int_equal(w.facets_best, 0);
    assert_int_equal(h.n, 50);
    assert_int_equal(w.n, 50);
    assert_int_equal(hf.n, 50);
    assert_int_equal(wf.n, 50);
    for (int k = 0; k < h.n; k++) {
        assert_string_equal(h.items[k].item, w.items[k].item);
        assert_true(h.items[k].score == w.items[k].score);
        assert_string_equal(hf.items[k].item, wf.items[k].item);
        assert_true(hf.items[k].score == wf.items[k].score);
    }
    tl_search_result_free(&h);
    tl_search_result_free(&hf);
    tl_search_result_free(&h0);
    tl_search_result_free(&w);
    tl_search_result_free(&wf);
    assert_int_equal(tl_store_search_heads(st, &d), TL_OK);
    /* a prefix, a phrase, two words and a rare word rank their match set */
    const char *others[] = {"alph*", "\"alpha tales\"", "alpha tales", "beyond"};
    for (int k = 0; k < 4; k++) {
        search_n(s, others[k], NULL, 0, &h);
        assert_int_equal(h.from_heads, 0);
        assert_true(h.total > 0);
        tl_search_result_free(&h);
    }
    /* holdings do not touch the index: the heads stay */
    sqlite3 *raw = NULL;
    assert_int_equal(sqlite3_open(p, &raw), SQLITE_OK);
    assert_int_equal(sqlite3_exec(raw,
                                  "INSERT INTO holdings(copy, item_id, branch, available)"
                                  " SELECT 'h-1', id, 'north', 1 FROM items WHERE ext_id = 'H1'",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(raw);
    search_n(s, "alpha", NULL, 0, &h);
    assert_int_equal(h.from_heads, 1);
    tl_search_result_free(&h);
    /* a record written through the triggers: stale heads are not used, the new record ranks */
    tl_item_rec it = {.id = "NEW",
                      .id_len = 3,
                      .type = "book",
                      .title = "Alpha alpha alpha",
                      .authors = "Al Alpha",
                      .year = TL_ABSENT,
                      .added = TL_ABSENT,
                      .copies = TL_ABSENT,
                      .available = TL_ABSENT};
    assert_int_equal(tl_store_put_item(st, &it, NULL, &d), TL_OK);
    search_n(s, "alpha", NULL, 0, &h);
    assert_int_equal(h.from_heads, 0);
    assert_int_equal(h.total, HEADS_ITEMS + 1);
    assert_string_equal(h.items[0].item, "NEW");
    tl_search_result_free(&h);
    assert_int_equal(tl_store_search_heads(st, &d), TL_OK);
    search_n(s, "alpha", NULL, 0, &h);
    assert_int_equal(h.from_heads, 1);
    assert_int_equal(h.total, HEADS_ITEMS + 1);
    assert_string_equal(h.items[0].item, "NEW");
    tl_search_result_free(&h);
    /* an index of two languages keeps none */
    assert_int_equal(tl_store_search_rebuild(st, "english,french", &d), TL_OK);
    search_n(s, "alpha", NULL, 0, &h);
    assert_int_equal(h.from_heads, 0);
    assert_int_equal(h.total, HEADS_ITEMS + 1);
    tl_search_result_free(&h);
    tl_store_free(st);
    tl_service_close(s);
}

/* PostgreSQL's index is derived data outside the schema's versions: a store without it (made
 * before it existed) says so to a read-only connection, and the next writable open builds it. */
static void test_index_made_where_missing(void **state)
{
    (void)state;
    if (!tl_test_on_pg())
        skip(); /* SQLite's index is migration 8 of its schema */
    const char *p = tl_test_store("missing.db");
    tl_store *st = NULL;
    tl_diag d;
    assert_int_equal(tl_store_open(p, TL_STORE_CREATE, &st, &d), TL_OK);
    tl_item_rec it = {.id = "W1",
                      .id_len = 2,
                      .type = "book",
                      .title = "Walrus tales",
                      .year = TL_ABSENT,
                      .added = TL_ABSENT,
                      .copies = TL_ABSENT,
                      .available = TL_ABSENT};
    assert_int_equal(tl_store_put_item(st, &it, NULL, &d), TL_OK);
    tl_store_free(st);
    sql_on(p, "DROP TABLE search_docs CASCADE", NULL);
    assert_int_equal(tl_store_open(p, TL_STORE_READONLY, &st, &d), TL_OK);
    int64_t total = -1;
    long long n = 0;
    tl_store_search_q q = {.match = "\"walrus\"", .limit = 10};
    assert_int_equal(tl_store_search(st, &q, hit_count, NULL, &n, &total, &d), TL_ESTORE);
    assert_non_null(strstr(d.msg, "--reindex"));
    tl_store_free(st);
    assert_int_equal(tl_store_open(p, 0, &st, &d), TL_OK);
    assert_int_equal(hits(st, "\"walrus\""), 1);
    tl_store_free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stemming_phrase_prefix),
        cmocka_unit_test(test_hostile_queries),
        cmocka_unit_test(test_facets_and_filters),
        cmocka_unit_test(test_personalization),
        cmocka_unit_test(test_index_follows_writes),
        cmocka_unit_test(test_search_kept_with_total),
        cmocka_unit_test(test_cached_answers_follow_the_catalogue),
        cmocka_unit_test(test_heads_answer_common_words),
        cmocka_unit_test(test_index_made_where_missing),
    };
    if (tl_test_on_pg() && !tl_test_pg_start())
        return TL_TEST_SKIP;
    return cmocka_run_group_tests(tests, setup, NULL);
}
