/* API keys through the service: making, authenticating, revoking (seen within about a second
 * by another service on the store), what the store keeps (the hash, never the key), what each
 * role may do, a store-only service, and a store from before keys. */
#include "support.h"

#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "service/service_int.h"        /* tl__keys_store_reads */
#include "store/sqlite/sqlite_search.h" /* the index's tokenizer, to drop the index */
#include "tailor/service.h"
#include "tailor/store.h"

/* A store with one event at a fresh path. */
static const char *new_store(const char *name)
{
    const char *p = tl_test_tmp(name);
    char side[600];
    remove(p);
    snprintf(side, sizeof(side), "%s-wal", p);
    remove(side);
    snprintf(side, sizeof(side), "%s-shm", p);
    remove(side);
    tl_store *st = NULL;
    tl_diag d;
    assert_int_equal(tl_store_open(p, TL_STORE_CREATE, &st, &d), TL_OK);
    tl_event_rec e = {.user = "u1", .item = "b1", .type = "loan", .ts = 100};
    assert_int_equal(tl_store_put_event(st, &e, 0, NULL, &d), TL_OK);
    tl_store_free(st);
    return p;
}

static tl_service *open_keys(const char *db, int writable)
{
    tl_service_opts o = {.db = db, .writable = writable};
    tl_service *s = NULL;
    tl_diag d;
    tl_diag_clear(&d);
    tl_err rc = tl_service_open(&o, &s, &d);
    if (rc != TL_OK)
        fail_msg("open %s: %s", db, d.msg);
    return s;
}

static void test_create_authenticate(void **state)
{
    (void)state;
    const char *db = new_store("keys1.db");
    tl_service *s = open_keys(db, 1);
    char key[TL_KEY_LEN + 1];
    tl_diag d;
    tl_diag_clear(&d);
    assert_int_equal(
        tl_service_key_create(s, TL_ROLE_APP, NULL, "web", "test", key, sizeof(key), &d), TL_OK);
    assert_int_equal(strlen(key), TL_KEY_LEN);
    assert_int_equal(strncmp(key, "tl_", 3), 0);
    assert_int_equal(key[11], '_');
    /* ids are lower-case base32: never a leading '-', which `tailor key revoke ID` would take for
     * an option (1 base64url id in 64 had one) */
    for (int i = 0; i < 200; i++) {
        char other[TL_KEY_LEN + 1];
        assert_int_equal(
            tl_service_key_create(s, TL_ROLE_ADMIN, NULL, NULL, "test", other, sizeof(other), &d),
            TL_OK);
        assert_int_equal(strspn(other + 3, "abcdefghijklmnopqrstuvwxyz234567"), 8);
    }
    tl_key_info k;
    assert_int_equal(tl_service_authenticate(s, key, &k), TL_OK);
    assert_int_equal(k.role, TL_ROLE_APP);
    assert_string_equal(k.user, "");
    assert_memory_equal(k.id, key + 3, 8);
    /* the right id with a wrong secret, a cut key, an unknown id, nothing */
    char wrong[TL_KEY_LEN + 1];
    memcpy(wrong, key, sizeof(wrong));
    wrong[TL_KEY_LEN - 1] = wrong[TL_KEY_LEN - 1] == 'A' ? 'B' : 'A';
    assert_int_equal(tl_service_authenticate(s, wrong, &k), TL_ENOTFOUND);
    assert_int_equal(k.id[0], '\0');
    memcpy(wrong, key, sizeof(wrong));
    wrong[5] = wrong[5] == 'A' ? 'B' : 'A';
    assert_int_equal(tl_service_authenticate(s, wrong, &k), TL_ENOTFOUND);
    wrong[20] = '\0';
    assert_int_equal(tl_service_authenticate(s, wrong, &k), TL_ENOTFOUND);
    assert_int_equal(tl_service_authenticate(s, "", &k), TL_ENOTFOUND);
    assert_int_equal(tl_service_authenticate(s, NULL, &k), TL_ENOTFOUND);
    /* a patron key is the patron's; it needs one */
    char pk[TL_KEY_LEN + 1];
    assert_int_equal(
        tl_service_key_create(s, TL_ROLE_PATRON, "p1", NULL, "test", pk, sizeof(pk), &d), TL_OK);
    assert_int_equal(tl_service_authenticate(s, pk, &k), TL_OK);
    assert_int_equal(k.role, TL_ROLE_PATRON);
    assert_string_equal(k.user, "p1");
    assert_int_equal(
        tl_service_key_create(s, TL_ROLE_PATRON, NULL, NULL, "test", pk, sizeof(pk), &d),
        TL_EINVAL);
    assert_int_equal(tl_service_key_create(s, TL_ROLE_APP, NULL, NULL, "test", pk, 10, &d),
                     TL_EINVAL);
    /* two keys are never alike */
    assert_string_not_equal(key, pk);
    tl_service_close(s);
}

static void test_store_keeps_the_hash(void **state)
{
    (void)state;
    const char *db = new_store("keys2.db");
    tl_service *s = open_keys(db, 1);
    char key[TL_KEY_LEN + 1];
    tl_diag d;
    assert_int_equal(
        tl_service_key_create(s, TL_ROLE_ADMIN, NULL, "ops", "test", key, sizeof(key), &d), TL_OK);
    tl_service_close(s);
    assert_true(sodium_init() >= 0);
    unsigned char h[crypto_generichash_BYTES];
    crypto_generichash(h, sizeof(h), (const unsigned char *)key, strlen(key), NULL, 0);
    sqlite3 *db3 = NULL;
    assert_int_equal(sqlite3_open_v2(db, &db3, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *q = NULL;
    assert_int_equal(
        sqlite3_prepare_v2(db3,
                           "SELECT count(*), sum(hash = ?1), sum(instr(CAST(hash AS TEXT) || id ||"
                           " role || ifnull(user, '') || ifnull(label, ''), ?2) > 0),"
                           " sum(length(hash)) FROM api_keys",
                           -1, &q, NULL),
        SQLITE_OK);
    sqlite3_bind_blob(q, 1, h, sizeof(h), SQLITE_STATIC);
    sqlite3_bind_text(q, 2, key + 12, -1, SQLITE_STATIC); /* the secret */
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(q, 0), 1);
    assert_int_equal(sqlite3_column_int(q, 1), 1);
    assert_int_equal(sqlite3_column_int(q, 2), 0);
    assert_int_equal(sqlite3_column_int(q, 3), 32);
    sqlite3_finalize(q);
    sqlite3_close(db3);
}

typedef struct count_ctx {
    int n, revoked;
} count_ctx;

static tl_err count_key(void *ctx, const tl_key_entry *k)
{
    count_ctx *c = ctx;
    c->n++;
    c->revoked += k->revoked != 0;
    return TL_OK;
}

static void test_revoke(void **state)
{
    (void)state;
    const char *db = new_store("keys3.db");
    tl_service *admin = open_keys(db, 1);
    tl_service *server = open_keys(db, 0); /* another process's view: only its cache */
    char key[TL_KEY_LEN + 1], id[9];
    tl_diag d;
    assert_int_equal(
        tl_service_key_create(admin, TL_ROLE_APP, NULL, NULL, "test", key, sizeof(key), &d), TL_OK);
    snprintf(id, sizeof(id), "%.8s", key + 3);
    tl_key_info k;
    assert_int_equal(tl_service_authenticate(server, key, &k), TL_OK);
    assert_int_equal(tl_service_key_revoke(admin, "nosuchid", "test", &d), TL_ENOTFOUND);
    assert_non_null(strstr(d.msg, "nosuchid"));
    assert_int_equal(tl_service_key_revoke(admin, id, "test", &d), TL_OK);
    assert_int_equal(tl_service_authenticate(admin, key, &k), TL_ENOTFOUND); /* at once here */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    double waited = 0;
    while (tl_service_authenticate(server, key, &k) == TL_OK) {
        usleep(20000);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        waited = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
        if (waited > 2.0)
            fail_msg("a revoked key still works after %.1f s", waited);
    }
    /* revoking again is no error; the list shows it revoked, once */
    assert_int_equal(tl_service_key_revoke(admin, id, "test", &d), TL_OK);
    count_ctx c = {0};
    assert_int_equal(tl_service_key_list(server, count_key, &c, &d), TL_OK);
    assert_int_equal(c.n, 1);
    assert_int_equal(c.revoked, 1);
    /* a read-only service makes no keys */
    assert_int_equal(
        tl_service_key_create(server, TL_ROLE_APP, NULL, NULL, "test", key, sizeof(key), &d),
        TL_EUNSUPPORTED);
    tl_service_close(server);
    tl_service_close(admin);
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) * 1e-9;
}

/* A flood of made-up keys (unknown ids) or of wrong secrets for a real id does not read the
 * store for each: at most one listing of the ids, or one read of the key, per second. A key made
 * by another process still works within about a second. */
static void test_flood(void **state)
{
    (void)state;
    const char *db = new_store("keys7.db");
    tl_service *admin = open_keys(db, 1);
    tl_service *server = open_keys(db, 0);
    char key[TL_KEY_LEN + 1], guess[TL_KEY_LEN + 1];
    tl_diag d;
    assert_int_equal(
        tl_service_key_create(admin, TL_ROLE_APP, NULL, NULL, "test", key, sizeof(key), &d), TL_OK);
    tl_key_info k;
    assert_int_equal(tl_service_authenticate(server, key, &k), TL_OK);
    unsigned long reads = tl__keys_store_reads(server);
    assert_in_range(reads, 1, 2); /* the listing, the key */
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";
    memcpy(guess, key, sizeof(guess));
    for (int i = 0; i < 5000; i++) {
        for (int j = 0, v = i; j < 8; j++, v /= 32)
            guess[3 + j] = b32[(v + j * 7) % 32]; /* a new id each time, never the key's */
        if (memcmp(guess + 3, key + 3, 8) == 0)
            continue;
        assert_int_equal(tl_service_authenticate(server, guess, &k), TL_ENOTFOUND);
    }
    memcpy(guess, key, sizeof(guess));
    for (int i = 0; i < 5000; i++) { /* the real id, wrong secrets */
        guess[12 + i % 40] = guess[12 + i % 40] == 'A' ? 'B' : 'A';
        assert_int_equal(tl_service_authenticate(server, guess, &k), TL_ENOTFOUND);
        memcpy(guess, key, sizeof(guess));
    }
    double took = seconds_since(&t0);
    /* one listing and one read of the key per second begun, at most */
    unsigned long bound = 2 * (unsigned long)(took + 1.0);
    if (tl__keys_store_reads(server) - reads > bound)
        fail_msg("%lu store reads in %.2f s of guesses", tl__keys_store_reads(server) - reads,
                 took);
    /* a key made elsewhere: found once the listing is a second old */
    assert_int_equal(
        tl_service_key_create(admin, TL_ROLE_ADMIN, NULL, NULL, "test", key, sizeof(key), &d),
        TL_OK);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (tl_service_authenticate(server, key, &k) != TL_OK) {
        usleep(20000);
        if (seconds_since(&t0) > 2.0)
            fail_msg("a new key is refused after %.1f s", seconds_since(&t0));
    }
    assert_int_equal(k.role, TL_ROLE_ADMIN);
    tl_service_close(server);
    tl_service_close(admin);
}

static void test_allows(void **state)
{
    (void)state;
    tl_key_info admin = {.role = TL_ROLE_ADMIN}, app = {.role = TL_ROLE_APP},
                p1 = {.role = TL_ROLE_PATRON};
    snprintf(p1.user, sizeof(p1.user), "p1");
    for (int a = TL_KEY_READ_USER; a <= TL_KEY_MANAGE_KEYS; a++)
        assert_true(tl_key_allows(&admin, (tl_key_action)a, "p2"));
    assert_true(tl_key_allows(&app, TL_KEY_READ_USER, "p2"));
    assert_true(tl_key_allows(&app, TL_KEY_WRITE_EVENTS, "p2"));
    assert_false(tl_key_allows(&app, TL_KEY_CATALOGUE, NULL));
    assert_false(tl_key_allows(&app, TL_KEY_TRAIN, NULL));
    assert_false(tl_key_allows(&app, TL_KEY_MANAGE_KEYS, NULL));
    assert_true(tl_key_allows(&p1, TL_KEY_READ_USER, "p1"));
    assert_true(tl_key_allows(&p1, TL_KEY_WRITE_EVENTS, "p1"));
    assert_false(tl_key_allows(&p1, TL_KEY_READ_USER, "p2"));
    assert_false(tl_key_allows(&p1, TL_KEY_WRITE_EVENTS, "p2"));
    assert_false(tl_key_allows(&p1, TL_KEY_READ_USER, NULL));
    assert_false(tl_key_allows(&p1, TL_KEY_CATALOGUE, "p1"));
    assert_false(tl_key_allows(&p1, TL_KEY_TRAIN, "p1"));
    assert_false(tl_key_allows(&p1, TL_KEY_MANAGE_KEYS, "p1"));
    assert_false(tl_key_allows(NULL, TL_KEY_READ_USER, "p1"));
    tl_key_role r;
    assert_int_equal(tl_key_role_parse("patron", &r), TL_OK);
    assert_int_equal(r, TL_ROLE_PATRON);
    assert_int_equal(tl_key_role_parse("root", &r), TL_EINVAL);
}

/* Without a model, what needs one says so. */
static void test_store_only_service(void **state)
{
    (void)state;
    const char *db = new_store("keys4.db");
    tl_service *s = open_keys(db, 1);
    tl_diag d;
    tl_diag_clear(&d);
    tl_rec_query q = {.user = "u1", .n = 5};
    tl_rec_result res;
    assert_int_equal(tl_service_recommend(s, &q, &res, &d), TL_EUNSUPPORTED);
    assert_non_null(strstr(d.msg, "no model"));
    tl_home h;
    assert_int_equal(
        tl_service_homepage(s, &(tl_home_query){.user = "u1", .rows = 3, .n = 5}, &h, &d),
        TL_EUNSUPPORTED);
    assert_int_equal(tl_service_train(s, NULL, &d), TL_EUNSUPPORTED);
    assert_int_equal(tl_service_knows_item(s, "b1"), 0);
    tl_service_info info;
    tl_service_info_get(s, &info, 0);
    assert_int_equal(info.has_store, 1);
    tl_service_close(s);
    tl_service_opts none = {.model = NULL};
    tl_service *t = NULL;
    assert_int_equal(tl_service_open(&none, &t, &d), TL_EINVAL);
}

/* A store from before keys (schema version 1): read as it is, keys say TL_EVERSION, and a write
 * open migrates it. */
static void test_old_store(void **state)
{
    (void)state;
    const char *db = new_store("keys5.db");
    sqlite3 *db3 = NULL;
    assert_int_equal(sqlite3_open(db, &db3), SQLITE_OK);
    assert_int_equal(tl__sq_search_register(db3), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db3,
                                  TL_SQ_SEARCH_DROP_TRIGGERS
                                  "DROP TABLE search_fts;"
                                  " DROP TABLE IF EXISTS api_keys; DROP TABLE idempotency_keys;"
                                  " DROP TABLE audit_log; DROP TABLE consent_log;"
                                  " DROP TABLE retention; DROP TABLE item_details;"
                                  " DROP TABLE holdings; DROP TABLE list_items;"
                                  " DROP TABLE lists; DROP TABLE reviews;"
                                  " DROP TABLE path_feedback; DROP TABLE path_steps;"
                                  " DROP TABLE paths; DROP TABLE search_totals;"
                                  " DROP TABLE subscriptions; DROP TABLE impression_rewards;"
                                  " DROP TABLE impression_rows; DROP TABLE impressions;"
                                  " DROP TABLE learners;"
                                  " DROP TABLE experiments; DROP TABLE tenant_keys;"
                                  " DROP TABLE tenant_branches; DROP TABLE tenants;"
                                  " DELETE FROM schema_migrations WHERE version >= 2;"
                                  " PRAGMA user_version = 1;",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db3);
    tl_store *st = NULL;
    tl_diag d;
    assert_int_equal(tl_store_open(db, TL_STORE_READONLY, &st, &d), TL_OK);
    assert_int_equal(tl_store_schema_version(st), 1);
    tl_store_counts c;
    assert_int_equal(tl_store_count(st, &c), TL_OK);
    assert_int_equal(c.events, 1);
    int found = 0;
    tl_store_key_auth ka;
    assert_int_equal(tl_store_get_key(st, "abcdefgh", &ka, &found, &d), TL_EVERSION);
    assert_non_null(strstr(d.msg, "upgrades it"));
    tl_store_free(st);
    assert_int_equal(tl_store_open(db, 0, &st, &d), TL_OK);
    assert_int_equal(tl_store_schema_version(st), 11);
    assert_int_equal(tl_store_get_key(st, "abcdefgh", &ka, &found, &d), TL_OK);
    assert_int_equal(found, 0);
    tl_store_free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_authenticate),
        cmocka_unit_test(test_store_keeps_the_hash),
        cmocka_unit_test(test_revoke),
        cmocka_unit_test(test_flood),
        cmocka_unit_test(test_allows),
        cmocka_unit_test(test_store_only_service),
        cmocka_unit_test(test_old_store),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
