/* Consortium tenancy through the store and the service: the id a tenant's patron is kept
 * under, the same patron id in two tenants as two patrons, exports, erasures and lists that
 * never cross tenants (both ways), the consortium that sees all, tenant keys and what they
 * may do, and recommendations from the tenant's holdings only. With
 * TL_TEST_DB=postgres (test_tenants_postgres) the store is a PostgreSQL database. */
#include "pg_server.h"
#include "support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tailor/service.h"
#include "tailor/store.h"

/* Tenant a's patrons 42, 43, 45; tenant b's 42 and 44. a:45 links i1 to i4, an item only b
 * holds: what a shared model would recommend to a:42 unless a's holdings filter it. i7 (an
 * ebook) has no copy anywhere: everyone's. */
static const char EVENTS_A[] = "user\titem\ttype\ttimestamp\n"
                               "42\ti1\tloan\t1000\n42\ti2\tloan\t1001\n"
                               "43\ti1\tloan\t1000\n43\ti3\tloan\t1001\n"
                               "43\ti7\tloan\t1002\n"
                               "45\ti1\tloan\t1000\n45\ti4\tloan\t1001\n";
static const char EVENTS_B[] = "user\titem\ttype\ttimestamp\n"
                               "42\ti4\tloan\t1000\n42\ti5\tloan\t1001\n"
                               "44\ti4\tloan\t1000\n44\ti6\tloan\t1001\n";

static char db[600], model[600];

static int setup(void **state)
{
    (void)state;
    snprintf(db, sizeof(db), "%s", tl_test_store("tenants.db"));
    snprintf(model, sizeof(model), "%s", tl_test_tmp("tenants.tlm"));
    remove(db);
    char ea[600], eb[600];
    snprintf(ea, sizeof(ea), "%s", tl_test_tmp("events_a.tsv"));
    snprintf(eb, sizeof(eb), "%s", tl_test_tmp("events_b.tsv"));
    char it[600];
    snprintf(it, sizeof(it), "%s", tl_test_tmp("items.tsv"));
    tl_store *st = NULL;
    tl_diag d;
    if (tl_test_write(it, "item\ttitle\ni1\tOne\ni2\tTwo\ni3\tThree\ni4\tFour\ni5\tFive\n"
                          "i6\tSix\ni7\tEbook\n") ||
        tl_test_cli("--db '%s' import items '%s' --quiet", db, it) || tl_test_write(ea, EVENTS_A) ||
        tl_test_write(eb, EVENTS_B) ||
        tl_test_cli("--db '%s' tenant add a --name 'Library A' --branch A1", db) ||
        tl_test_cli("--db '%s' tenant add b --name 'Library B' --branch B1 --branch B2", db) ||
        tl_test_cli("--db '%s' --tenant a import events '%s' --quiet", db, ea) ||
        tl_test_cli("--db '%s' --tenant b import events '%s' --quiet", db, eb))
        return -1;
    /* the shared catalogue's copies: i1..i3 at a's branch, i4..i6 at b's */
    if (tl_store_open(db, 0, &st, &d) != TL_OK)
        return -1;
    static const char *const items[] = {"i1", "i2", "i3", "i4", "i5", "i6"};
    for (int i = 0; i < 6; i++) {
        char copy[8];
        snprintf(copy, sizeof(copy), "c%d", i + 1);
        tl_holding_rec h = {
            .copy = copy, .branch = i < 3 ? "A1" : "B1", .available = 1, .item = items[i]};
        if (tl_store_put_holding(st, &h, NULL, &d) != TL_OK)
            return -1;
    }
    tl_store_free(st);
    return tl_test_cli("--db '%s' train --model itemknn --set autotune=0 --out '%s'", db, model);
}

static tl_service *open_service(void)
{
    tl_service_opts o = {.db = db, .model = model, .writable = 1};
    tl_service *s = NULL;
    tl_diag d;
    tl_diag_clear(&d);
    if (tl_service_open(&o, &s, &d) != TL_OK)
        fail_msg("open: %s", d.msg);
    return s;
}

static void test_kept_ids(void **state)
{
    (void)state;
    char buf[TL_PATRON_REF_SIZE];
    assert_string_equal(tl_patron_ref(NULL, NULL, "42", 2, buf, NULL), "42");
    assert_string_equal(tl_patron_ref(NULL, "a", "42", 2, buf, NULL), "a:42");
    uint8_t key[TL_PSEUDONYM_KEY_LEN];
    memset(key, 7, sizeof(key));
    char plain[TL_PATRON_REF_SIZE], other[TL_PATRON_REF_SIZE];
    snprintf(plain, sizeof(plain), "%s", tl_patron_ref(key, NULL, "42", 2, buf, NULL));
    size_t n = 0;
    tl_patron_ref(key, "a", "42", 2, buf, &n);
    assert_int_equal(n, 2 + TL_PSEUDONYM_LEN);
    assert_memory_equal(buf, "a:", 2);
    assert_string_equal(buf + 2, plain); /* the tenant, then the pseudonym of the id */
    snprintf(other, sizeof(other), "%s", tl_patron_ref(key, "b", "42", 2, buf, NULL));
    assert_string_not_equal(other, "a:");
    assert_memory_equal(other, "b:", 2);
    assert_true(tl_tenant_id_ok("central-1_x"));
    assert_false(tl_tenant_id_ok(""));
    assert_false(tl_tenant_id_ok("A"));
    assert_false(tl_tenant_id_ok("a:b"));
    assert_false(tl_tenant_id_ok("abcdefghijklmnopqrstuvwxyz0123456")); /* 33 */
    assert_int_equal(tl_store_tenant_enter("no:colon"), TL_EINVAL);
    assert_string_equal(tl_store_tenant(), "");
}

static tl_err count_tenants(void *ctx, const tl_store_tenant_rec *t)
{
    int *n = ctx;
    if (strcmp(t->id, "b") == 0)
        assert_int_equal(t->n_branches, 2);
    ++*n;
    return TL_OK;
}

static void test_store_tenants_and_patrons(void **state)
{
    (void)state;
    tl_store *st = NULL;
    tl_diag d;
    assert_int_equal(tl_store_open(db, 0, &st, &d), TL_OK);
    int n = 0;
    assert_int_equal(tl_store_tenants(st, count_tenants, &n, &d), TL_OK);
    assert_int_equal(n, 2);
    /* a branch belongs to one tenant */
    const char *taken[] = {"B1"};
    tl_store_tenant_rec t = {"a", "Library A", 1, taken, 1};
    assert_int_equal(tl_store_tenant_put(st, &t, &d), TL_EEXIST);
    assert_non_null(strstr(d.msg, "'b'"));
    tl_store_tenant_rec bad = {"A!", "x", 1, NULL, 0};
    assert_int_equal(tl_store_tenant_put(st, &bad, &d), TL_EINVAL);
    /* five patrons: a's 42, 43, 45 and b's 42, 44 */
    tl_store_counts c;
    assert_int_equal(tl_store_count(st, &c), TL_OK);
    assert_int_equal(c.users, 5);
    int found = 0, personalize = 0;
    assert_int_equal(tl_store_user_consent(st, "a:42", 4, &found, &personalize, &d), TL_OK);
    assert_int_equal(found, 1);
    /* by the door: b's 43 does not exist, a's does */
    assert_int_equal(tl_store_tenant_enter("b"), TL_OK);
    assert_int_equal(tl_store_user_consent(st, "43", 2, &found, &personalize, &d), TL_OK);
    assert_int_equal(found, 0);
    assert_int_equal(tl_store_user_consent(st, "a:43", 4, &found, &personalize, &d), TL_OK);
    assert_int_equal(found, 0); /* b's "a:43" is b:a:43: a tenant never names another's */
    assert_int_equal(tl_store_tenant_enter("a"), TL_OK);
    assert_int_equal(tl_store_user_consent(st, "43", 2, &found, &personalize, &d), TL_OK);
    assert_int_equal(found, 1);
    tl_store_tenant_enter(NULL);
    tl_store_free(st);
}

static tl_err branches_of_c(void *ctx, const tl_tenant *t)
{
    if (strcmp(t->id, "c") == 0)
        *(int *)ctx = t->n_branches;
    return TL_OK;
}

/* Renaming a tenant keeps its branches unless new ones (or none, explicitly) are given: a
 * librarian who fixes a name does not open another library's shelves to its patrons. */
static void test_rename_keeps_branches(void **state)
{
    (void)state;
    tl_service *s = open_service();
    tl_diag d;
    tl_diag_clear(&d);
    const char *c1[] = {"C1", "C2"};
    int n = -1;
    tl_tenant t = {"c", "Library C", 0, c1, 2};
    assert_int_equal(tl_service_tenant_put(s, &t, "test", &d), TL_OK);
    tl_tenant renamed = {"c", "Library C (renamed)", 0, NULL, 0};
    assert_int_equal(tl_service_tenant_put(s, &renamed, "test", &d), TL_OK);
    assert_int_equal(tl_service_tenants(s, branches_of_c, &n, &d), TL_OK);
    assert_int_equal(n, 2);
    static const char *const none[1];
    tl_tenant cleared = {"c", "Library C", 0, none, 0};
    assert_int_equal(tl_service_tenant_put(s, &cleared, "test", &d), TL_OK);
    assert_int_equal(tl_service_tenants(s, branches_of_c, &n, &d), TL_OK);
    assert_int_equal(n, 0);
    tl_service_close(s);
}

/* user's export as tenant (NULL: the consortium): its JSON, or NULL and *rc. */
static char *export_as(tl_service *s, const char *tenant, const char *user, tl_err *rc)
{
    assert_int_equal(tl_service_act_for_tenant(tenant), TL_OK);
    char *json = NULL;
    tl_diag d;
    tl_diag_clear(&d);
    *rc = tl_service_user_export(s, user, "test", &json, &d);
    tl_service_act_for(NULL);
    return json;
}

static void test_export_erase_both_ways(void **state)
{
    (void)state;
    tl_service *s = open_service();
    tl_err rc;
    char *j = export_as(s, "a", "42", &rc);
    assert_int_equal(rc, TL_OK);
    assert_non_null(strstr(j, "\"i1\""));
    assert_null(strstr(j, "\"i4\"")); /* b's 42 borrowed i4 and i5 */
    free(j);
    j = export_as(s, "b", "42", &rc);
    assert_int_equal(rc, TL_OK);
    assert_non_null(strstr(j, "\"i5\""));
    assert_null(strstr(j, "\"i1\""));
    free(j);
    assert_null(export_as(s, "a", "44", &rc)); /* b's patron, unknown to a */
    assert_int_equal(rc, TL_ENOTFOUND);
    assert_null(export_as(s, "b", "43", &rc)); /* a's patron, unknown to b */
    assert_int_equal(rc, TL_ENOTFOUND);
    /* the consortium sees every tenant's patrons by their kept ids; "42" is none of them */
    j = export_as(s, NULL, "b:44", &rc);
    assert_int_equal(rc, TL_OK);
    assert_non_null(strstr(j, "\"i6\""));
    free(j);
    assert_null(export_as(s, NULL, "42", &rc));
    assert_int_equal(rc, TL_ENOTFOUND);
    /* b erases its 42: a's 42 stays; b cannot erase a's 43 */
    tl_diag d;
    tl_diag_clear(&d);
    tl_erase_report er;
    tl_service_act_for_tenant("b");
    assert_int_equal(tl_service_user_erase(s, "43", "test", &er, &d), TL_ENOTFOUND);
    assert_int_equal(tl_service_user_erase(s, "42", "test", &er, &d), TL_OK);
    assert_int_equal(er.events, 2);
    tl_service_act_for(NULL);
    j = export_as(s, "a", "42", &rc);
    assert_int_equal(rc, TL_OK);
    free(j);
    assert_null(export_as(s, "b", "42", &rc));
    assert_int_equal(rc, TL_ENOTFOUND);
    tl_service_close(s);
}

static void test_tenant_keys(void **state)
{
    (void)state;
    tl_service *s = open_service();
    char key[TL_KEY_LEN + 1], pkey[TL_KEY_LEN + 1];
    tl_diag d;
    tl_diag_clear(&d);
    assert_int_equal(
        tl_service_key_create_for(s, TL_ROLE_APP, NULL, NULL, "nope", "test", key, sizeof(key), &d),
        TL_EINVAL);
    assert_non_null(strstr(d.msg, "no tenant 'nope'"));
    assert_int_equal(
        tl_service_key_create_for(s, TL_ROLE_ADMIN, NULL, NULL, "a", "test", key, sizeof(key), &d),
        TL_OK);
    tl_key_info k;
    assert_int_equal(tl_service_authenticate(s, key, &k), TL_OK);
    assert_string_equal(k.tenant, "a");
    /* a tenant's admin: its patrons' data and records, nothing of the consortium's */
    assert_true(tl_key_allows(&k, TL_KEY_READ_USER, "42"));
    assert_true(tl_key_allows(&k, TL_KEY_OWN_DATA, "42"));
    assert_true(tl_key_allows(&k, TL_KEY_PATRON_RECORDS, NULL));
    assert_false(tl_key_allows(&k, TL_KEY_CATALOGUE, NULL));
    assert_false(tl_key_allows(&k, TL_KEY_TRAIN, NULL));
    assert_false(tl_key_allows(&k, TL_KEY_MANAGE_KEYS, NULL));
    /* it cannot become another tenant's */
    assert_int_equal(tl_service_key_for_tenant(s, &k, "b", &d), TL_EUNSUPPORTED);
    /* a patron key of b's 44: that patron in b, not a's 44 (a has none) nor the consortium's */
    assert_int_equal(tl_service_key_create_for(s, TL_ROLE_PATRON, "44", NULL, "b", "test", pkey,
                                               sizeof(pkey), &d),
                     TL_OK);
    tl_key_info p;
    assert_int_equal(tl_service_authenticate(s, pkey, &p), TL_OK);
    assert_string_equal(p.user, "b:44");
    assert_true(tl_key_allows(&p, TL_KEY_READ_USER, "44"));
    assert_false(tl_key_allows(&p, TL_KEY_READ_USER, "b:44"));
    /* the consortium's admin: everything, and any one tenant on asking */
    assert_int_equal(
        tl_service_key_create_for(s, TL_ROLE_ADMIN, NULL, NULL, NULL, "test", key, sizeof(key), &d),
        TL_OK);
    tl_key_info c;
    assert_int_equal(tl_service_authenticate(s, key, &c), TL_OK);
    assert_string_equal(c.tenant, "");
    assert_true(tl_key_allows(&c, TL_KEY_MANAGE_KEYS, NULL));
    assert_int_equal(tl_service_key_for_tenant(s, &c, "zz", &d), TL_ENOTFOUND);
    assert_int_equal(tl_service_key_for_tenant(s, &c, "Bad!", &d), TL_EINVAL);
    assert_int_equal(tl_service_key_for_tenant(s, &c, "b", &d), TL_OK);
    assert_string_equal(c.tenant, "b");
    assert_false(tl_key_allows(&c, TL_KEY_MANAGE_KEYS, NULL));
    assert_int_equal(tl_service_key_for_tenant(s, &p, "b", &d), TL_OK); /* its own */
    tl_key_info cp = p;
    cp.tenant[0] = '\0';
    assert_int_equal(tl_service_key_for_tenant(s, &cp, "b", &d), TL_EUNSUPPORTED);
    tl_service_close(s);
}

/* The items recommended to user as tenant, as one string "i3 i1 ..." (n at most 6). */
static void recommend_as(tl_service *s, const char *tenant, const char *user, char *out, size_t len)
{
    tl_service_act_for_tenant(tenant);
    tl_rec_query q = {.user = user, .n = 6, .ignore_shelf = 1};
    tl_rec_result r;
    tl_diag d;
    tl_diag_clear(&d);
    tl_err rc = tl_service_recommend(s, &q, &r, &d);
    tl_service_act_for(NULL);
    if (rc != TL_OK)
        fail_msg("recommend %s as %s: %s", user, tenant ? tenant : "-", d.msg);
    out[0] = '\0';
    for (int i = 0; i < r.n; i++)
        snprintf(out + strlen(out), len - strlen(out), "%s ", r.items[i].item);
    tl_rec_result_free(&r);
}

static void test_recommendations_from_holdings(void **state)
{
    (void)state;
    tl_service *s = open_service();
    char got[128];
    /* the shared model, no filter: a:45's loans lead a's 42 to i4 */
    recommend_as(s, NULL, "a:42", got, sizeof(got));
    assert_non_null(strstr(got, "i4"));
    /* as tenant a: only what a holds (i1..i3), i3 from a:43, and i7 that no one holds */
    recommend_as(s, "a", "42", got, sizeof(got));
    assert_non_null(strstr(got, "i3"));
    assert_non_null(strstr(got, "i7"));
    for (int i = 4; i <= 6; i++) {
        char id[4];
        snprintf(id, sizeof(id), "i%d", i);
        assert_null(strstr(got, id));
    }
    /* as tenant b: only what b holds */
    recommend_as(s, "b", "44", got, sizeof(got));
    assert_true(got[0] != '\0');
    for (int i = 1; i <= 3; i++) {
        char id[4];
        snprintf(id, sizeof(id), "i%d", i);
        assert_null(strstr(got, id));
    }
    /* a's recommendations for b's patron 44 do not exist: a has no 44 */
    tl_service_act_for_tenant("a");
    tl_rec_query q = {.user = "44", .n = 3};
    tl_rec_result r;
    tl_diag d;
    tl_diag_clear(&d);
    assert_int_equal(tl_service_recommend(s, &q, &r, &d), TL_ENOTFOUND);
    tl_service_act_for(NULL);
    tl_service_close(s);
}

/* How many records a search for text finds, acting for tenant (NULL: the consortium). */
static long search_as(tl_service *s, const char *tenant, const char *text)
{
    assert_int_equal(tl_service_act_for_tenant(tenant), TL_OK);
    tl_search_query q = {.q = text, .n = 10, .weight = -1, .facets = 1};
    tl_search_result r;
    tl_diag d;
    tl_diag_clear(&d);
    if (tl_service_search(s, &q, &r, &d) != TL_OK)
        fail_msg("search %s: %s", text, d.msg);
    long total = (long)r.total;
    assert_int_equal(r.n, total); /* the items listed are the ones counted */
    tl_search_result_free(&r);
    tl_service_act_for(NULL);
    return total;
}

/* The catalogue search of a library shows its own copies and what no one holds, never another
 * library's copies, and a library's answer is never another's from the answers cache. */
static void test_search_from_holdings(void **state)
{
    (void)state;
    tl_service *s = open_service();
    assert_int_equal(search_as(s, NULL, "Four"), 1); /* the consortium sees every record */
    assert_int_equal(search_as(s, "b", "Four"), 1);  /* b holds i4 (and caches the answer) */
    assert_int_equal(search_as(s, "a", "Four"), 0);  /* a does not */
    assert_int_equal(search_as(s, "a", "One"), 1);
    assert_int_equal(search_as(s, "b", "One"), 0);
    assert_int_equal(search_as(s, "a", "Ebook"), 1); /* no copy anywhere: everyone's */
    assert_int_equal(search_as(s, "b", "Ebook"), 1);
    tl_service_close(s);
}

static tl_err no_details(void *ctx, const tl_item_details *d)
{
    (void)ctx;
    (void)d;
    return TL_OK;
}

static tl_err count_copy(void *ctx, const tl_holding_rec *h)
{
    (void)h;
    ++*(int *)ctx;
    return TL_OK;
}

/* The copies of item, as the item's page lists them, acting for tenant (NULL: consortium). */
static int copies_as(tl_service *s, const char *tenant, const char *item)
{
    assert_int_equal(tl_service_act_for_tenant(tenant), TL_OK);
    int n = 0;
    tl_diag d;
    tl_diag_clear(&d);
    assert_int_equal(tl_service_item_catalogue(s, item, no_details, count_copy, &n, &d), TL_OK);
    tl_service_act_for(NULL);
    return n;
}

/* An item's page lists a library's own copies only; the consortium sees every copy. */
static void test_item_copies_of_tenant(void **state)
{
    (void)state;
    tl_service *s = open_service();
    assert_int_equal(copies_as(s, NULL, "i4"), 1);
    assert_int_equal(copies_as(s, "b", "i4"), 1);
    assert_int_equal(copies_as(s, "a", "i4"), 0);
    assert_int_equal(copies_as(s, "a", "i1"), 1);
    assert_int_equal(copies_as(s, "b", "i1"), 0);
    tl_service_close(s);
}

typedef struct digest_seen {
    char user[32][64], items[32][64];
    int n[32], n_msgs;
} digest_seen;

static tl_err keep_digest(void *ctx, const tl_digest_msg *m, tl_diag *d)
{
    (void)d;
    digest_seen *v = ctx;
    if (v->n_msgs >= 32)
        return TL_OK;
    int k = v->n_msgs++;
    snprintf(v->user[k], sizeof(v->user[k]), "%s", m->user);
    v->items[k][0] = '\0';
    for (int i = 0; i < m->n_items; i++) {
        strncat(v->items[k], m->items[i].id, sizeof(v->items[k]) - strlen(v->items[k]) - 2);
        strcat(v->items[k], " ");
    }
    v->n[k] = m->n_items;
    return TL_OK;
}

static tl_err user_id_of(void *ctx, const tl_user_rec *u)
{
    snprintf(ctx, 8, "%.*s", (int)u->id_len, u->id);
    return TL_OK;
}

/* A library's patrons are alerted to its own new copies (and to what no one holds), not to
 * another library's. */
static void test_digest_offers_own_copies(void **state)
{
    (void)state;
    tl_store *st = NULL;
    tl_diag d;
    assert_int_equal(tl_store_open(db, 0, &st, &d), TL_OK);
    assert_int_equal(tl_store_begin(st), TL_OK);
    static const char *const ids[] = {"n1", "n2", "n3"};
    for (int i = 0; i < 3; i++) {
        tl_item_rec it = {.id = ids[i],
                          .id_len = 2,
                          .type = "book",
                          .title = ids[i],
                          .year = TL_ABSENT,
                          .added = 5000 + i,
                          .copies = TL_ABSENT,
                          .available = TL_ABSENT};
        assert_int_equal(tl_store_put_item(st, &it, NULL, &d), TL_OK);
    }
    /* n1 at a's branch, n2 at b's, n3 nowhere (an ebook) */
    tl_holding_rec h1 = {.copy = "cn1", .branch = "A1", .available = 1, .item = "n1"};
    tl_holding_rec h2 = {.copy = "cn2", .branch = "B1", .available = 1, .item = "n2"};
    assert_int_equal(tl_store_put_holding(st, &h1, NULL, &d), TL_OK);
    assert_int_equal(tl_store_put_holding(st, &h2, NULL, &d), TL_OK);
    /* a new patron 77 in each library, with no history: the newest arrivals */
    for (int t = 0; t < 2; t++) {
        assert_int_equal(tl_store_tenant_enter(t ? "b" : "a"), TL_OK);
        tl_user_rec u = {.id = "77", .id_len = 2, .personalize = 1, .created = TL_ABSENT};
        assert_int_equal(tl_store_put_user(st, &u, NULL, &d), TL_OK);
    }
    tl_store_tenant_enter(NULL);
    assert_int_equal(tl_store_commit(st), TL_OK);
    /* a library's record goes through the door: kept as a:77, answered as the library asked */
    int found = 0;
    char asked[8] = "";
    assert_int_equal(tl_store_get_user(st, "a:77", 4, user_id_of, asked, &found, &d), TL_OK);
    assert_int_equal(found, 1);
    assert_int_equal(tl_store_get_user(st, "77", 2, user_id_of, asked, &found, &d), TL_OK);
    assert_int_equal(found, 0); /* the consortium has no patron 77 of its own */
    assert_int_equal(tl_store_tenant_enter("a"), TL_OK);
    assert_int_equal(tl_store_get_user(st, "77", 2, user_id_of, asked, &found, &d), TL_OK);
    tl_store_tenant_enter(NULL);
    assert_string_equal(asked, "77");
    tl_store_free(st);
    tl_service *s = open_service();
    for (int t = 0; t < 2; t++) {
        assert_int_equal(tl_service_act_for_tenant(t ? "b" : "a"), TL_OK);
        tl_diag_clear(&d);
        if (tl_service_subscription_set(s, "77", 1, "p77@example.org", "test", &d) != TL_OK)
            fail_msg("subscribe %s:77: %s", t ? "b" : "a", d.msg);
    }
    tl_service_act_for(NULL);
    digest_seen v = {0};
    tl_digest_query q = {.since = 4000, .now = 6000, .n = 10};
    tl_digest_report rep;
    tl_diag_clear(&d);
    assert_int_equal(tl_service_digest(s, &q, keep_digest, &v, &rep, &d), TL_OK);
    assert_int_equal(rep.new_items, 3);
    int seen = 0;
    for (int k = 0; k < v.n_msgs; k++) {
        if (strcmp(v.user[k], "a:77") == 0) {
            seen++;
            assert_non_null(strstr(v.items[k], "n1 "));
            assert_non_null(strstr(v.items[k], "n3 "));
            assert_null(strstr(v.items[k], "n2 "));
        } else if (strcmp(v.user[k], "b:77") == 0) {
            seen++;
            assert_non_null(strstr(v.items[k], "n2 "));
            assert_non_null(strstr(v.items[k], "n3 "));
            assert_null(strstr(v.items[k], "n1 "));
        }
    }
    assert_int_equal(seen, 2);
    tl_service_close(s);
}

static void test_lists_stay_in_tenant(void **state)
{
    (void)state;
    tl_service *s = open_service();
    tl_diag d;
    tl_diag_clear(&d);
    char id[TL_LIST_ID_MAX + 1];
    tl_service_act_for_tenant("a");
    tl_list_rec l = {.user = "43", .title = "A's picks", .public = 1};
    assert_int_equal(tl_service_list_create(s, &l, id, &d), TL_OK);
    tl_service_act_for(NULL);
    char *json = NULL;
    tl_viewer app = {TL_ROLE_APP, NULL};
    /* a sees it on the item, b does not; b cannot change it */
    tl_service_act_for_tenant("a");
    assert_int_equal(tl_service_list_get(s, id, &app, &json, &d), TL_OK);
    free(json);
    tl_service_act_for_tenant("b");
    json = NULL;
    assert_int_not_equal(tl_service_list_get(s, id, &app, &json, &d), TL_OK);
    free(json);
    tl_list_rec rename = {.title = "B's now", .public = 1};
    assert_int_not_equal(tl_service_list_update(s, id, &rename, &app, &d), TL_OK);
    tl_service_act_for(NULL);
    /* the consortium sees it */
    json = NULL;
    assert_int_equal(tl_service_list_get(s, id, &app, &json, &d), TL_OK);
    assert_non_null(strstr(json, "A's picks"));
    free(json);
    tl_service_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kept_ids),
        cmocka_unit_test(test_store_tenants_and_patrons),
        cmocka_unit_test(test_tenant_keys),
        cmocka_unit_test(test_recommendations_from_holdings),
        cmocka_unit_test(test_search_from_holdings),
        cmocka_unit_test(test_item_copies_of_tenant),
        cmocka_unit_test(test_rename_keeps_branches),
        cmocka_unit_test(test_digest_offers_own_copies),
        cmocka_unit_test(test_lists_stay_in_tenant),
        cmocka_unit_test(test_export_erase_both_ways),
    };
    if (tl_test_on_pg() && !tl_test_pg_start())
        return TL_TEST_SKIP;
    return cmocka_run_group_tests(tests, setup, NULL);
}
