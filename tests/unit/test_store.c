/* Tests of the store (src/store): open, migrate and reopen; schema versions; foreign keys;
 * transactions; upserts; counts and top lists; and the matrices load_data builds with weights. */
#include "support.h"

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/data.h"
#include "store/store_int.h"
#include "tailor/store.h"

static const char *db_path(const char *name)
{
    static char bufs[4][512];
    static int next;
    char *b = bufs[next++ % 4];
    snprintf(b, sizeof(bufs[0]), "%s/%s", tl_test_tmpdir(), name);
    return b;
}

static tl_store *open_new(const char *name)
{
    const char *p = db_path(name);
    remove(p);
    tl_store *st = NULL;
    tl_diag d;
    assert_int_equal(tl_store_open(p, TL_STORE_CREATE, &st, &d), TL_OK);
    return st;
}

static int64_t sql_int(const char *path, const char *sql)
{
    sqlite3 *h;
    sqlite3_stmt *q;
    int64_t v = -1;
    assert_int_equal(sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &q, NULL), SQLITE_OK);
    if (sqlite3_step(q) == SQLITE_ROW)
        v = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(h);
    return v;
}

static tl_event_rec ev(const char *user, const char *item, const char *type, int has_value,
                       double value, int64_t ts)
{
    tl_event_rec r = {.user = user,
                      .item = item,
                      .user_len = strlen(user),
                      .item_len = strlen(item),
                      .type = type,
                      .has_value = has_value,
                      .value = value,
                      .ts = ts};
    return r;
}

static tl_item_rec item(const char *id, const char *title)
{
    tl_item_rec r = {.id = id,
                     .id_len = strlen(id),
                     .type = "book",
                     .title = title,
                     .year = TL_ABSENT,
                     .added = TL_ABSENT,
                     .copies = TL_ABSENT,
                     .available = TL_ABSENT};
    return r;
}

static void test_open_migrate_reopen(void **state)
{
    (void)state;
    tl_store *st = open_new("reopen.db");
    tl_diag d;
    assert_string_equal(tl_store_backend(st), "sqlite");
    assert_int_equal(tl_store_schema_version(st), 1);
    tl_item_rec it = item("b1", "Dune");
    tl_event_rec e = ev("u1", "b1", "loan", 0, 0, 100);
    assert_int_equal(tl_store_put_item(st, &it, NULL, &d), TL_OK);
    assert_int_equal(tl_store_put_event(st, &e, 0, NULL, &d), TL_OK);
    tl_store_free(st);
    const char *p = db_path("reopen.db");
    assert_int_equal(sql_int(p, "PRAGMA user_version"), 1);
    assert_int_equal(sql_int(p, "SELECT count(*) FROM schema_migrations WHERE version = 1"), 1);
    assert_int_equal(
        sql_int(p, "SELECT count(*) FROM pragma_journal_mode WHERE journal_mode = 'wal'"), 1);
    /* reopening (without CREATE) keeps the data and migrates nothing */
    st = NULL;
    assert_int_equal(tl_store_open(p, 0, &st, &d), TL_OK);
    tl_store_counts c;
    assert_int_equal(tl_store_count(st, &c), TL_OK);
    assert_int_equal(c.users, 1);
    assert_int_equal(c.items, 1);
    assert_int_equal(c.events, 1);
    assert_int_equal(c.event_types, 1);
    tl_store_free(st);
    assert_int_equal(sql_int(p, "SELECT count(*) FROM schema_migrations"), 1);
}

static void test_versions_and_targets(void **state)
{
    (void)state;
    tl_store *st = open_new("newer.db");
    tl_store_free(st);
    const char *p = db_path("newer.db");
    assert_int_equal(sql_int(p, "PRAGMA user_version = 99"), -1);
    assert_int_equal(sql_int(p, "PRAGMA user_version"), 99);
    tl_diag d;
    st = NULL;
    assert_int_equal(tl_store_open(p, 0, &st, &d), TL_EVERSION);
    assert_null(st);
    assert_non_null(strstr(d.msg, "99"));
    assert_int_equal(tl_store_open(db_path("absent.db"), 0, &st, &d), TL_ENOTFOUND);
    assert_int_equal(tl_store_open("postgres://localhost/tailor", TL_STORE_CREATE, &st, &d),
                     TL_EUNSUPPORTED);
    /* a file that is not a database */
    assert_int_equal(
        tl_test_write(db_path("junk.db"), "this is not SQLite, just text long enough to matter\n"),
        0);
    assert_int_equal(tl_store_open(db_path("junk.db"), 0, &st, &d), TL_ESTORE);
    assert_non_null(strstr(d.msg, "store:"));
    /* an in-memory store for dry runs */
    assert_int_equal(tl_store_open(":memory:", TL_STORE_CREATE, &st, &d), TL_OK);
    assert_int_equal(tl_store_schema_version(st), 1);
    tl_store_free(st);
}

static void test_foreign_keys_enforced(void **state)
{
    (void)state;
    tl_store *st = open_new("fk.db");
    tl_diag d;
    tl_event_rec e = ev("u1", "b1", "view", 0, 0, 5);
    assert_int_equal(tl_store_put_event(st, &e, 0, NULL, &d), TL_OK);
    /* go below the id resolution: an event naming a user id that does not exist */
    assert_int_equal(tl_store_begin(st), TL_OK);
    tl_store_event bad = {.user = 4242, .item = 1, .type = 1, .ts = 7};
    tl_put what;
    assert_int_equal(st->ops->put_event(st, &bad, &what), TL_ESTORE);
    assert_non_null(strstr(tl_store_errmsg(st), "FOREIGN KEY"));
    assert_int_equal(tl_store_rollback(st), TL_OK);
    tl_store_counts c;
    assert_int_equal(tl_store_count(st, &c), TL_OK);
    assert_int_equal(c.events, 1);
    tl_store_free(st);
}

static void test_transactions(void **state)
{
    (void)state;
    tl_store *st = open_new("txn.db");
    tl_diag d;
    tl_store_counts c;
    tl_event_rec e1 = ev("u1", "b1", "loan", 0, 0, 1), e2 = ev("u2", "b2", "loan", 0, 0, 2);
    assert_int_equal(tl_store_begin(st), TL_OK);
    assert_int_equal(tl_store_begin(st), TL_EINVAL); /* one level */
    assert_int_equal(tl_store_put_event(st, &e1, 0, NULL, &d), TL_OK);
    assert_int_equal(tl_store_rollback(st), TL_OK);
    assert_int_equal(tl_store_count(st, &c), TL_OK);
    assert_int_equal(c.users + c.items + c.events + c.event_types, 0);
    /* after a rollback the id cache must not hand out rolled-back ids */
    assert_int_equal(tl_store_begin(st), TL_OK);
    assert_int_equal(tl_store_put_event(st, &e2, 0, NULL, &d), TL_OK);
    assert_int_equal(tl_store_put_event(st, &e1, 0, NULL, &d), TL_OK);
    assert_int_equal(tl_store_commit(st), TL_OK);
    assert_int_equal(tl_store_count(st, &c), TL_OK);
    assert_int_equal(c.users, 2);
    assert_int_equal(c.events, 2);
    assert_int_equal(tl_store_commit(st), TL_EINVAL);
    tl_store_free(st);
}

static void test_upserts(void **state)
{
    (void)state;
    tl_store *st = open_new("upsert.db");
    tl_diag d;
    tl_put what;
    tl_item_rec it = item("b1", "Dune");
    it.year = 1965;
    assert_int_equal(tl_store_put_item(st, &it, &what, &d), TL_OK);
    assert_int_equal(what, TL_PUT_ADDED);
    assert_int_equal(tl_store_put_item(st, &it, &what, &d), TL_OK);
    assert_int_equal(what, TL_PUT_UNCHANGED);
    tl_item_rec partial = item("b1", NULL); /* no title, no year: both are kept */
    partial.language = "en";
    assert_int_equal(tl_store_put_item(st, &partial, &what, &d), TL_OK);
    assert_int_equal(what, TL_PUT_UPDATED);
    tl_user_rec u = {.id = "u1",
                     .id_len = 2,
                     .personalize = -1,
                     .created = TL_ABSENT,
                     .attrs = "{\"level\":\"staff\"}"};
    assert_int_equal(tl_store_put_user(st, &u, &what, &d), TL_OK);
    assert_int_equal(what, TL_PUT_ADDED);
    u.attrs = NULL;
    u.personalize = 0;
    assert_int_equal(tl_store_put_user(st, &u, &what, &d), TL_OK);
    assert_int_equal(what, TL_PUT_UPDATED);
    assert_int_equal(tl_store_put_user(st, &u, &what, &d), TL_OK);
    assert_int_equal(what, TL_PUT_UNCHANGED);
    /* events: same key, same value: unchanged; other value: updated; strict: unknown item */
    tl_event_rec e = ev("u1", "b1", "rate", 1, 4, 10);
    assert_int_equal(tl_store_put_event(st, &e, TL_PUT_STRICT, &what, &d), TL_OK);
    assert_int_equal(what, TL_PUT_ADDED);
    assert_int_equal(tl_store_put_event(st, &e, 0, &what, &d), TL_OK);
    assert_int_equal(what, TL_PUT_UNCHANGED);
    e.value = 5;
    assert_int_equal(tl_store_put_event(st, &e, 0, &what, &d), TL_OK);
    assert_int_equal(what, TL_PUT_UPDATED);
    tl_event_rec strict = ev("u1", "nope", "rate", 1, 4, 10);
    assert_int_equal(tl_store_put_event(st, &strict, TL_PUT_STRICT, &what, &d), TL_ENOTFOUND);
    assert_string_equal(d.field, "item");
    tl_store_free(st);
    const char *p = db_path("upsert.db");
    assert_int_equal(
        sql_int(
            p, "SELECT year FROM items WHERE ext_id = 'b1' AND title = 'Dune' AND language = 'en'"),
        1965);
    assert_int_equal(
        sql_int(p, "SELECT personalize FROM users WHERE attrs = '{\"level\":\"staff\"}'"), 0);
    assert_int_equal(sql_int(p, "SELECT value FROM events"), 5);
}

typedef struct rows {
    char key[8][32];
    char label[8][32];
    int64_t n[8];
    int k;
} rows;

static tl_err collect(void *ctx, const char *key, const char *label, int64_t n)
{
    rows *r = ctx;
    if (r->k == 8)
        return TL_EINVAL;
    snprintf(r->key[r->k], sizeof(r->key[0]), "%s", key);
    snprintf(r->label[r->k], sizeof(r->label[0]), "%s", label ? label : "-");
    r->n[r->k++] = n;
    return TL_OK;
}

/* The tiny fixture for load_data:
 *   a: loan x (1.0), view y + click y (0.2 + 0.3 = 0.5 summed), rate z 5 (1.0)
 *   b: rate x 2 (ignored: below 3), skip y (ignored), rate z 4 (0.8)
 *   c: loan x, but c turned personalization off: left out
 *   w: an item without events (a column of zeros) */
static tl_store *fixture_store(void)
{
    tl_store *st = open_new("load.db");
    tl_diag d;
    assert_int_equal(tl_store_begin(st), TL_OK);
    tl_item_rec w = item("w", "Cold"), x = item("x", "Ex");
    x.year = 2001;
    x.added = 1600000000;
    x.authors = "A. Author|B. Author";
    x.subjects = "Poetry";
    assert_int_equal(tl_store_put_item(st, &w, NULL, &d), TL_OK);
    assert_int_equal(tl_store_put_item(st, &x, NULL, &d), TL_OK);
    tl_event_rec evs[] = {
        ev("a", "x", "loan", 0, 0, 100),  ev("a", "y", "view", 0, 0, 110),
        ev("a", "y", "click", 0, 0, 120), ev("a", "z", "rate", 1, 5, 130),
        ev("b", "x", "rate", 1, 2, 140),  ev("b", "y", "skip", 0, 0, 150),
        ev("b", "z", "rate", 1, 4, 160),  ev("c", "x", "loan", 0, 0, 170),
    };
    for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
        assert_int_equal(tl_store_put_event(st, &evs[i], 0, NULL, &d), TL_OK);
    tl_user_rec c = {.id = "c", .id_len = 1, .personalize = 0, .created = TL_ABSENT};
    assert_int_equal(tl_store_put_user(st, &c, NULL, &d), TL_OK);
    assert_int_equal(tl_store_commit(st), TL_OK);
    return st;
}

static float cell(const tl_data *d, const char *user, const char *it, int64_t *ts)
{
    int32_t u = tl_intern_find(&d->users, user, strlen(user));
    int32_t i = tl_intern_find(&d->items, it, strlen(it));
    assert_true(u >= 0 && i >= 0);
    int64_t k = tl_csr_find(&d->ui, u, i);
    if (k < 0)
        return 0.0f;
    if (ts)
        *ts = d->ui.ts[k];
    return d->ui.data[k];
}

static void test_load_data_weights(void **state)
{
    (void)state;
    tl_store *st = fixture_store();
    tl_data d;
    tl_diag diag;
    tl_data_init(&d);
    assert_int_equal(tl_store_load_data(st, NULL, &d, &diag), TL_OK);
    assert_int_equal(d.users.count, 3);
    assert_int_equal(d.items.count, 4); /* w, x (imported) then y, z (from events) */
    assert_string_equal(tl_intern_str(&d.items, 0), "w");
    assert_int_equal(d.ui.nrows, 3);
    assert_int_equal(d.ui.ncols, 4);
    assert_int_equal(d.ui.nnz, 4);
    int64_t ts = 0;
    assert_true(fabsf(cell(&d, "a", "x", &ts) - 1.0f) < 1e-6f);
    assert_int_equal(ts, 100);
    assert_true(fabsf(cell(&d, "a", "y", &ts) - 0.5f) < 1e-6f);
    assert_int_equal(ts, 120); /* the latest of the merged events */
    assert_true(fabsf(cell(&d, "a", "z", NULL) - 1.0f) < 1e-6f);
    assert_true(cell(&d, "b", "x", NULL) == 0.0f);
    assert_true(cell(&d, "b", "y", NULL) == 0.0f);
    assert_true(fabsf(cell(&d, "b", "z", NULL) - 0.8f) < 1e-6f);
    assert_true(cell(&d, "c", "x", NULL) == 0.0f);
    /* the transpose agrees */
    assert_int_equal(d.iu.nrows, 4);
    assert_int_equal(d.iu.nnz, 4);
    int32_t z = tl_intern_find(&d.items, "z", 1);
    assert_int_equal(d.iu.indptr[z + 1] - d.iu.indptr[z], 2);
    assert_int_equal(d.iu.indptr[1] - d.iu.indptr[0], 0); /* w: no events */
    /* the catalogue */
    int32_t x = tl_intern_find(&d.items, "x", 1);
    assert_string_equal(d.cat.title[x], "Ex");
    assert_string_equal(d.cat.creators[x], "A. Author|B. Author");
    assert_string_equal(d.cat.subjects[x], "Poetry");
    assert_int_equal(d.cat.year[x], 2001);
    assert_int_equal(d.cat.added[x], 1600000000);
    assert_null(d.cat.title[z]);
    tl_data_release(&d);

    /* other weights: merge by max, views worth more, ratings from 2 */
    tl_event_weights w;
    tl_event_weights_init(&w);
    assert_int_equal(tl_event_weights_parse(&w, "view=0.9,rate.min=2,merge=max", &diag), TL_OK);
    tl_data_init(&d);
    assert_int_equal(tl_store_load_data(st, &w, &d, &diag), TL_OK);
    assert_true(fabsf(cell(&d, "a", "y", NULL) - 0.9f) < 1e-6f);
    assert_true(fabsf(cell(&d, "b", "x", NULL) - 0.4f) < 1e-6f);
    assert_int_equal(d.ui.nnz, 5);
    tl_data_release(&d);

    /* saved weights are what load_data uses by default */
    assert_int_equal(tl_store_set_meta(st, TL_META_EVENT_WEIGHTS, "loan=3"), TL_OK);
    tl_data_init(&d);
    assert_int_equal(tl_store_load_data(st, NULL, &d, &diag), TL_OK);
    assert_true(fabsf(cell(&d, "a", "x", NULL) - 3.0f) < 1e-6f);
    tl_data_release(&d);
    tl_store_free(st);
}

static void test_stats_queries(void **state)
{
    (void)state;
    tl_store *st = fixture_store();
    tl_store_counts c;
    assert_int_equal(tl_store_count(st, &c), TL_OK);
    assert_int_equal(c.users, 3);
    assert_int_equal(c.items, 4);
    assert_int_equal(c.events, 8);
    assert_int_equal(c.pairs, 7);
    assert_int_equal(c.event_types, 5);
    rows r = {0};
    assert_int_equal(tl_store_events_by_type(st, collect, &r), TL_OK);
    assert_int_equal(r.k, 5);
    assert_string_equal(r.key[0], "rate");
    assert_int_equal(r.n[0], 3);
    assert_string_equal(r.key[1], "loan");
    assert_int_equal(r.n[1], 2);
    memset(&r, 0, sizeof(r));
    assert_int_equal(tl_store_top_items(st, 2, collect, &r), TL_OK);
    assert_int_equal(r.k, 2);
    assert_string_equal(r.key[0], "x");
    assert_string_equal(r.label[0], "Ex");
    assert_int_equal(r.n[0], 3);
    assert_string_equal(r.key[1], "y"); /* y and z tie at 3... y has 3: view, click, skip */
    assert_int_equal(r.n[1], 3);
    /* a callback error stops the scan and comes back */
    memset(&r, 0, sizeof(r));
    r.k = 8;
    assert_int_equal(tl_store_top_items(st, 5, collect, &r), TL_EINVAL);
    char *v = NULL;
    assert_int_equal(tl_store_get_meta(st, "nothing", &v), TL_OK);
    assert_null(v);
    assert_int_equal(tl_store_set_meta(st, "k", "v1"), TL_OK);
    assert_int_equal(tl_store_set_meta(st, "k", "v2"), TL_OK);
    assert_int_equal(tl_store_get_meta(st, "k", &v), TL_OK);
    assert_string_equal(v, "v2");
    free(v);
    tl_store_free(st);
}

static void test_put_search(void **state)
{
    (void)state;
    tl_store *st = open_new("search.db");
    tl_diag d;
    tl_put what;
    const char *clicked[] = {"b1", "b2"};
    size_t lens[] = {2, 2};
    tl_search_rec s = {.user = "u1",
                       .user_len = 2,
                       .query = "dune",
                       .ts = 5,
                       .clicked = clicked,
                       .clicked_len = lens,
                       .nclicked = 2};
    assert_int_equal(tl_store_put_search(st, &s, 0, &what, &d), TL_OK);
    assert_int_equal(what, TL_PUT_ADDED);
    assert_int_equal(tl_store_put_search(st, &s, 0, &what, &d), TL_OK);
    assert_int_equal(what, TL_PUT_UNCHANGED);
    s.nclicked = 1;
    assert_int_equal(tl_store_put_search(st, &s, 0, &what, &d), TL_OK);
    assert_int_equal(what, TL_PUT_UPDATED);
    tl_search_rec anon = {.query = "dune", .ts = 5};
    assert_int_equal(tl_store_put_search(st, &anon, 0, &what, &d), TL_OK);
    assert_int_equal(what, TL_PUT_ADDED);
    assert_int_equal(tl_store_put_search(st, &anon, 0, &what, &d), TL_OK);
    assert_int_equal(what, TL_PUT_UNCHANGED);
    tl_store_counts c;
    assert_int_equal(tl_store_count(st, &c), TL_OK);
    assert_int_equal(c.searches, 2);
    assert_int_equal(c.items, 2);
    tl_store_free(st);
    assert_int_equal(sql_int(db_path("search.db"), "SELECT count(*) FROM search_clicks"), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_migrate_reopen),
        cmocka_unit_test(test_versions_and_targets),
        cmocka_unit_test(test_foreign_keys_enforced),
        cmocka_unit_test(test_transactions),
        cmocka_unit_test(test_upserts),
        cmocka_unit_test(test_load_data_weights),
        cmocka_unit_test(test_stats_queries),
        cmocka_unit_test(test_put_search),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
