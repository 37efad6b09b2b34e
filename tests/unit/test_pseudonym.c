/* Tests of pseudonymized patron ids (tailor/store.h): the keyed hash and the key file; a store
 * with a key keeps no patron's plain id anywhere in its tables yet answers every lookup by it;
 * and the check value that keeps plain and hashed ids apart (no key, another key, a key for a
 * store of plain ids, a key given while another connection writes plain ids). */
#include "support.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/data.h"
#include "tailor/store.h"

static const uint8_t key_a[TL_PSEUDONYM_KEY_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
static const uint8_t key_b[TL_PSEUDONYM_KEY_LEN] = {42};

static const char *fresh(const char *name)
{
    static char bufs[4][512];
    static int next;
    char *b = bufs[next++ % 4];
    snprintf(b, sizeof(bufs[0]), "%s/%s", tl_test_tmpdir(), name);
    remove(b);
    return b;
}

static tl_store *open_key(const char *path, int flags, const uint8_t *key, tl_err want, tl_diag *d)
{
    tl_store_opts o;
    tl_store_opts_init(&o);
    o.flags = flags;
    o.pseudonym_key = key;
    tl_store *st = NULL;
    tl_diag_clear(d);
    tl_err rc = tl_store_open_with(path, &o, &st, d);
    if (rc != want)
        fail_msg("open %s: %s (%s)", path, tl_strerror(rc), d->msg);
    return st;
}

static int64_t sql_count(const char *path, const char *sql, const char *arg)
{
    sqlite3 *h;
    sqlite3_stmt *q;
    int64_t v = -1;
    assert_int_equal(sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &q, NULL), SQLITE_OK);
    if (arg)
        sqlite3_bind_text(q, 1, arg, -1, SQLITE_STATIC);
    if (sqlite3_step(q) == SQLITE_ROW)
        v = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(h);
    return v;
}

static tl_event_rec ev(const char *user, const char *item, int64_t ts)
{
    return (tl_event_rec){.user = user,
                          .item = item,
                          .user_len = strlen(user),
                          .item_len = strlen(item),
                          .type = "loan",
                          .ts = ts};
}

static tl_user_rec user(const char *id, const char *attrs)
{
    return (tl_user_rec){
        .id = id, .id_len = strlen(id), .attrs = attrs, .personalize = -1, .created = TL_ABSENT};
}

static void test_hash_and_key_file(void **state)
{
    (void)state;
    char a[TL_PSEUDONYM_LEN + 1], b[TL_PSEUDONYM_LEN + 1], c[TL_PSEUDONYM_LEN + 1];
    tl_pseudonym(key_a, "alice", 5, a);
    tl_pseudonym(key_a, "alice", 5, b);
    assert_string_equal(a, b); /* the same patron, the same pseudonym */
    assert_int_equal(strlen(a), TL_PSEUDONYM_LEN);
    assert_memory_equal(a, "u_", 2);
    assert_int_equal(strspn(a + 2, "0123456789abcdef"), 32);
    tl_pseudonym(key_b, "alice", 5, c);
    assert_string_not_equal(a, c); /* another key, another pseudonym */
    tl_pseudonym(key_a, "alicf", 5, c);
    assert_string_not_equal(a, c);

    tl_diag d;
    const char *path = fresh("p.key");
    assert_int_equal(tl_pseudonym_key_new(path, &d), TL_OK);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    char *text = tl_test_read(path);
    assert_int_equal(strlen(text), 65); /* 64 hex digits and a newline */
    free(text);
    uint8_t k1[TL_PSEUDONYM_KEY_LEN], k2[TL_PSEUDONYM_KEY_LEN];
    assert_int_equal(tl_pseudonym_key_read(path, k1, &d), TL_OK);
    /* never overwritten */
    assert_int_equal(tl_pseudonym_key_new(path, &d), TL_EEXIST);
    assert_non_null(strstr(d.msg, "never overwritten"));
    assert_int_equal(tl_pseudonym_key_read(path, k2, &d), TL_OK);
    assert_memory_equal(k1, k2, sizeof(k1));
    /* two new keys differ */
    const char *other = fresh("q.key");
    assert_int_equal(tl_pseudonym_key_new(other, &d), TL_OK);
    assert_int_equal(tl_pseudonym_key_read(other, k2, &d), TL_OK);
    assert_memory_not_equal(k1, k2, sizeof(k1));

    /* missing, short, not hex, and whitespace around the digits */
    assert_int_equal(tl_pseudonym_key_read(fresh("none.key"), k1, &d), TL_ENOTFOUND);
    assert_non_null(strstr(d.msg, "no pseudonym key file at"));
    const char *bad = fresh("bad.key");
    assert_int_equal(tl_test_write(bad, "0123456789abcdef\n"), 0);
    assert_int_equal(tl_pseudonym_key_read(bad, k1, &d), TL_EINVAL);
    assert_non_null(strstr(d.msg, "64 hexadecimal digits"));
    assert_int_equal(tl_test_write(bad, "zz23456789abcdef0123456789abcdef0123456789abcdef0123456789"
                                        "abcdef\n"),
                     0);
    assert_int_equal(tl_pseudonym_key_read(bad, k1, &d), TL_EINVAL);
    assert_int_equal(tl_test_write(bad, "  000102030405060708090a0b0c0d0e0f"
                                        "101112131415161718191a1b1c1d1e1f\r\n\n"),
                     0);
    assert_int_equal(tl_pseudonym_key_read(bad, k1, &d), TL_OK);
    assert_int_equal(k1[0], 0);
    assert_int_equal(k1[31], 31);
    assert_int_equal(tl_pseudonym_key_read(tl_test_tmpdir(), k1, &d), TL_EIO); /* a folder */
}

/* What the store's tables hold, and every lookup by a plain id. */
static tl_err user_seen(void *ctx, const tl_user_rec *r)
{
    snprintf(ctx, 64, "%.*s", (int)r->id_len, r->id);
    return TL_OK;
}

static tl_err history_item(void *ctx, const char *item, size_t len, float w, int64_t ts)
{
    (void)w, (void)ts;
    snprintf(ctx, 64, "%.*s", (int)len, item);
    return TL_OK;
}

static tl_err dump_event(void *ctx, const char *item, const char *type, int has_value, double value,
                         int64_t ts, const char *device, const char *channel, const char *branch,
                         const char *session)
{
    (void)type, (void)has_value, (void)value, (void)ts, (void)device, (void)channel, (void)branch,
        (void)session;
    snprintf(ctx, 64, "%s", item);
    return TL_OK;
}

static void test_store_keeps_pseudonyms(void **state)
{
    (void)state;
    tl_diag d;
    const char *p = fresh("keyed.db");
    tl_store *st = open_key(p, TL_STORE_CREATE, key_a, TL_OK, &d);
    tl_event_rec e1 = ev("alice", "book-1", 100), e2 = ev("bob", "book-2", 200);
    tl_user_rec u = user("bob", "{\"department\":\"Physics\",\"broaden\":true}");
    const char *clicked[] = {"book-1"};
    size_t clicked_len[] = {6};
    tl_search_rec s = {.user = "carol",
                       .user_len = 5,
                       .query = "dune",
                       .ts = 300,
                       .clicked = clicked,
                       .clicked_len = clicked_len,
                       .nclicked = 1};
    assert_int_equal(tl_store_begin(st), TL_OK);
    assert_int_equal(tl_store_put_event(st, &e1, 0, NULL, &d), TL_OK);
    assert_int_equal(tl_store_put_event(st, &e2, 0, NULL, &d), TL_OK);
    assert_int_equal(tl_store_put_user(st, &u, NULL, &d), TL_OK);
    assert_int_equal(tl_store_put_search(st, &s, 0, NULL, &d), TL_OK);
    assert_int_equal(tl_store_commit(st), TL_OK);
    tl_put what;
    assert_int_equal(tl_store_put_user(st, &u, &what, &d), TL_OK);
    assert_int_equal(what, TL_PUT_UNCHANGED); /* bob is one patron, not two */
    tl_store_key k = {.id = "k1", .role = "patron", .user = "alice", .created = 1};
    uint8_t hash[32] = {0};
    assert_int_equal(tl_store_put_key(st, &k, hash, sizeof(hash), &d), TL_OK);
    assert_int_equal(tl_store_consent_set(st, "bob", 1, 30, 400, "librarian", &d), TL_OK);

    /* every read by the plain id finds the patron */
    char seen[64] = "";
    int found = 0, personalize = 0;
    assert_int_equal(tl_store_get_user(st, "bob", 3, user_seen, seen, &found, &d), TL_OK);
    assert_int_equal(found, 1);
    assert_string_equal(seen, "bob"); /* handed back under the id asked by */
    tl_event_weights w;
    tl_event_weights_init(&w);
    assert_int_equal(tl_store_user_history(st, "alice", 5, &w, NULL, history_item, seen, &found,
                                           &personalize, &d),
                     TL_OK);
    assert_int_equal(found, 1);
    assert_string_equal(seen, "book-1");
    assert_int_equal(tl_store_user_consent(st, "bob", 3, &found, &personalize, &d), TL_OK);
    assert_int_equal(found, 1);
    char *v = NULL;
    assert_int_equal(tl_store_user_attr(st, "bob", "department", &v), TL_OK);
    assert_string_equal(v, "Physics");
    free(v);
    tl_store_dump_fns fns = {.event = dump_event};
    int64_t days = 0;
    assert_int_equal(tl_store_user_dump(st, "bob", &fns, seen, &days, &d), TL_OK);
    assert_string_equal(seen, "book-2");
    assert_int_equal(days, 30);
    /* the pseudonym itself is no patron id: it is hashed again */
    char pa[TL_PSEUDONYM_LEN + 1];
    tl_pseudonym(key_a, "alice", 5, pa);
    assert_int_equal(tl_store_get_user(st, pa, strlen(pa), user_seen, seen, &found, &d), TL_OK);
    assert_int_equal(found, 0);
    tl_store_key_auth auth;
    assert_int_equal(tl_store_get_key(st, "k1", &auth, &found, &d), TL_OK);
    assert_string_equal(auth.user, pa); /* a patron key names its patron as the store does */

    /* training sees pseudonyms */
    tl_data data;
    tl_data_init(&data);
    assert_int_equal(tl_store_load_data(st, NULL, &data, &d), TL_OK);
    assert_true(tl_intern_find(&data.users, pa, strlen(pa)) >= 0);
    assert_int_equal(tl_intern_find(&data.users, "alice", 5), -1);
    assert_true(tl_intern_find(&data.items, "book-1", 6) >= 0); /* items as they are */
    tl_data_release(&data);

    long long n = 0;
    assert_int_equal(tl_store_delete_user(st, "carol", 5, &n, &d), TL_OK);
    assert_int_equal(tl_store_delete_user(st, "carol", 5, &n, &d), TL_ENOTFOUND);
    assert_non_null(strstr(d.msg, "'carol'")); /* the message names the id the caller gave */
    tl_store_free(st);

    /* no table holds a plain patron id */
    const char *plain[] = {"alice", "bob", "carol"};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(sql_count(p, "SELECT count(*) FROM users WHERE ext_id = ?1", plain[i]), 0);
        assert_int_equal(sql_count(p, "SELECT count(*) FROM api_keys WHERE user = ?1", plain[i]),
                         0);
    }
    assert_int_equal(sql_count(p, "SELECT count(*) FROM users WHERE ext_id = ?1", pa), 1);
    assert_int_equal(
        sql_count(p, "SELECT count(*) FROM users WHERE ext_id LIKE 'u\\_%' ESCAPE '\\'", NULL), 2);
    assert_int_equal(sql_count(p, "SELECT count(*) FROM items WHERE ext_id = 'book-1'", NULL), 1);
    assert_int_equal(
        sql_count(p, "SELECT count(*) FROM meta WHERE key = '" TL_META_PSEUDONYM_CHECK "'", NULL),
        1);
}

static void test_keys_never_mix(void **state)
{
    (void)state;
    tl_diag d;
    const char *p = fresh("mix.db");
    tl_store *st = open_key(p, TL_STORE_CREATE, key_a, TL_OK, &d);
    tl_event_rec e = ev("alice", "book-1", 100);
    assert_int_equal(tl_store_put_event(st, &e, 0, NULL, &d), TL_OK);
    tl_store_free(st);
    /* without the key, or with another: refused at the open, read-only or not */
    assert_null(open_key(p, TL_STORE_READONLY, NULL, TL_EINVAL, &d));
    assert_non_null(strstr(d.msg, "pseudonymized patron ids"));
    assert_null(open_key(p, 0, NULL, TL_EINVAL, &d));
    assert_null(open_key(p, TL_STORE_READONLY, key_b, TL_EINVAL, &d));
    assert_non_null(strstr(d.msg, "another key"));
    st = open_key(p, TL_STORE_READONLY, key_a, TL_OK, &d);
    tl_store_free(st);

    /* a store of plain ids takes no key */
    const char *q = fresh("plain.db");
    st = open_key(q, TL_STORE_CREATE, NULL, TL_OK, &d);
    assert_int_equal(tl_store_put_event(st, &e, 0, NULL, &d), TL_OK);
    assert_int_equal(tl_store_set_pseudonym_key(st, key_a, &d), TL_EINVAL);
    assert_non_null(strstr(d.msg, "pseudonymize from the first import"));
    tl_store_free(st);
    assert_null(open_key(q, 0, key_a, TL_EINVAL, &d));
    assert_null(open_key(q, TL_STORE_READONLY, key_a, TL_EINVAL, &d));

    /* a store without patrons takes one; its first write with the key remembers it */
    const char *r = fresh("empty.db");
    st = open_key(r, TL_STORE_CREATE, NULL, TL_OK, &d);
    tl_item_rec it = {.id = "book-1",
                      .id_len = 6,
                      .type = "book",
                      .year = TL_ABSENT,
                      .added = TL_ABSENT,
                      .copies = TL_ABSENT,
                      .available = TL_ABSENT};
    assert_int_equal(tl_store_put_item(st, &it, NULL, &d), TL_OK);
    tl_store *plain = open_key(r, 0, NULL, TL_OK, &d); /* opened before the key came */
    assert_int_equal(tl_store_set_pseudonym_key(st, key_a, &d), TL_OK);
    assert_int_equal(tl_store_put_event(st, &e, 0, NULL, &d), TL_OK);
    /* the plain connection may not write plain ids now */
    tl_event_rec e2 = ev("bob", "book-1", 200);
    assert_int_equal(tl_store_put_event(plain, &e2, 0, NULL, &d), TL_ESTORE);
    assert_non_null(strstr(d.msg, "pseudonymized patron ids"));
    tl_store_free(plain);
    tl_store_free(st);
    assert_null(open_key(r, 0, NULL, TL_EINVAL, &d));
    assert_null(open_key(r, 0, key_b, TL_EINVAL, &d));
    st = open_key(r, 0, key_a, TL_OK, &d);
    tl_store_counts c;
    assert_int_equal(tl_store_count(st, &c), TL_OK);
    assert_int_equal(c.users, 1);
    tl_store_free(st);
}

/* A keyed store that never got data (a dry or failed first import) is not kept as a keyed one:
 * the check value goes with the transaction that wrote it. */
static void test_check_value_rolls_back(void **state)
{
    (void)state;
    tl_diag d;
    const char *p = fresh("dry.db");
    tl_store *st = open_key(p, TL_STORE_CREATE, key_a, TL_OK, &d);
    tl_store *keep = open_key(p, 0, NULL, TL_OK, &d); /* keeps the store from going away */
    tl_event_rec e = ev("alice", "book-1", 100);
    assert_int_equal(tl_store_begin(st), TL_OK);
    assert_int_equal(tl_store_put_event(st, &e, 0, NULL, &d), TL_OK);
    assert_int_equal(tl_store_rollback(st), TL_OK);
    tl_store_free(st);
    tl_store_free(keep);
    /* whatever is at the path now (nothing, or an empty store), it opens without a key */
    tl_store *again = NULL;
    tl_err rc = tl_store_open(p, TL_STORE_CREATE, &again, &d);
    assert_int_equal(rc, TL_OK);
    tl_store_free(again);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_and_key_file),
        cmocka_unit_test(test_store_keeps_pseudonyms),
        cmocka_unit_test(test_keys_never_mix),
        cmocka_unit_test(test_check_value_rolls_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
